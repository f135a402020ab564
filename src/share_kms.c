/*
 * Encrypted images: the customer KMS keys of an image's snapshots.
 *
 * A target can launch from a shared encrypted AMI only with access to
 * the key. amishare refuses images under the AWS managed EBS key (AWS
 * cannot share those) before anything is written, and, when asked,
 * creates per key and target account one grant named
 * "amishare-<account>" with the operations EC2 needs on the target's
 * behalf (so a rerun finds it and creates no duplicate), or only checks
 * that one exists. Revoke takes those grants away again, by name.
 */
#include <stdlib.h>
#include <string.h>

#include "kms.h"
#include "log.h"
#include "share_int.h"

#define GRANT_PREFIX "amishare-"

static const char *const grant_ops[] = {
	"Decrypt",	 "DescribeKey",
	"CreateGrant",	 "GenerateDataKeyWithoutPlaintext",
	"ReEncryptFrom", "ReEncryptTo",
};

struct share_kms_key {
	char *arn; /* as DescribeKey names it */
	struct ams_kms_grant *grants;
	size_t nr_grants;
};

void ams_share_region_read_start(struct share_runner *r, size_t region);
void ams_share_region_read_end(struct share_runner *r, size_t region);

static struct share_kms_key *key_of(struct share_runner *r, size_t region,
				    size_t k)
{
	return &r->rs[region].keys[k];
}

static const char *key_id(struct share_runner *r, size_t region, size_t k)
{
	const struct share_kms_key *key = key_of(r, region, k);

	return key->arn ? key->arn : r->job->regions[region].kms_keys[k];
}

static void on_describe_key(const struct ams_aws_result *res, void *payload)
{
	struct share_call *ctx = payload;
	struct share_runner *r = ctx->r;
	struct ams_job_region *reg = &r->job->regions[ctx->region];
	struct ams_kms_key key;
	struct ams_err err = AMS_ERR_INIT;

	reg->api_calls++;
	if (res->err->code) {
		ams_share_region_fail(reg, "describe-key", res->err);
		reg->kms = AMS_OUT_FAILED;
	} else if (ams_kms_parse_describe_key(&key, res->body, res->body_len,
					      &err)) {
		ams_share_region_fail(reg, "describe-key", &err);
		reg->kms = AMS_OUT_FAILED;
	} else {
		if (ams_kms_key_is_aws_managed(&key)) {
			ams_fail(&err, AMS_EUSAGE,
				 "a snapshot of %s is encrypted with the AWS "
				 "managed key %s, which AWS does not let "
				 "anyone share: copy the image with a "
				 "customer managed key and share the copy",
				 reg->ami_id, key.arn ? key.arn : key.key_id);
			ams_share_region_fail(reg, "kms", &err);
			reg->kms = AMS_OUT_FAILED;
		} else if (key.arn) {
			key_of(r, ctx->region, ctx->index)->arn =
			    xstrdup(key.arn);
		}
		ams_kms_key_release(&key);
	}
	ams_share_region_read_end(r, ctx->region);
	ams_share_call_free(ctx);
}

static void list_grants(struct share_runner *r, size_t region, size_t k,
			const char *marker);

static void on_list_grants(const struct ams_aws_result *res, void *payload)
{
	struct share_call *ctx = payload;
	struct share_runner *r = ctx->r;
	struct ams_job_region *reg = &r->job->regions[ctx->region];
	struct share_kms_key *key = key_of(r, ctx->region, ctx->index);
	struct ams_kms_grants grants;
	struct ams_err err = AMS_ERR_INIT;
	size_t i;

	reg->api_calls++;
	if (res->err->code) {
		ams_share_region_fail(reg, "list-grants", res->err);
		reg->kms = AMS_OUT_FAILED;
	} else if (ams_kms_parse_list_grants(&grants, res->body, res->body_len,
					     &err)) {
		ams_share_region_fail(reg, "list-grants", &err);
		reg->kms = AMS_OUT_FAILED;
	} else {
		/* Keep the grants (moved out of the page) by name. */
		for (i = 0; i < grants.n; i++) {
			if (!grants.v[i].name ||
			    strncmp(grants.v[i].name, GRANT_PREFIX,
				    strlen(GRANT_PREFIX)))
				continue;
			key->grants =
			    xreallocarray(key->grants, key->nr_grants + 1,
					  sizeof(*key->grants));
			key->grants[key->nr_grants++] = grants.v[i];
			memset(&grants.v[i], 0, sizeof(grants.v[i]));
		}
		if (grants.next_marker && *grants.next_marker)
			list_grants(r, ctx->region, ctx->index,
				    grants.next_marker);
		ams_kms_grants_release(&grants);
	}
	ams_share_region_read_end(r, ctx->region);
	ams_share_call_free(ctx);
}

static void list_grants(struct share_runner *r, size_t region, size_t k,
			const char *marker)
{
	struct ams_job_region *reg = &r->job->regions[region];
	struct ams_err err = AMS_ERR_INIT;
	struct share_call *ctx;
	struct ams_aws_call *call = ams_share_call_new(
	    r, AMS_SVC_KMS, region, AMS_KMS_LIST_GRANTS, r->env->source, &ctx);

	ctx->index = k;
	if (ams_kms_build_list_grants(ams_aws_call_json(call), reg->kms_keys[k],
				      marker, AMS_KMS_LIST_GRANTS_MAX_LIMIT,
				      &err)) {
		ams_aws_call_discard(call);
		ams_share_call_free(ctx);
		ams_share_region_fail(reg, "list-grants", &err);
		reg->kms = AMS_OUT_FAILED;
		return;
	}
	ams_share_region_read_start(r, region);
	ams_aws_call_submit(call, on_list_grants, ctx);
}

void ams_share_kms_read(struct share_runner *r, size_t region)
{
	struct ams_job *job = r->job;
	struct ams_job_region *reg = &job->regions[region];
	size_t k;

	r->rs[region].keys =
	    xcalloc(reg->nr_kms_keys, sizeof(*r->rs[region].keys));
	if (job->cfg.kms_mode == AMS_KMS_NONE && !job->cfg.revoke)
		ams_log_warn("%s in %s is encrypted with %zu KMS key%s: "
			     "targets need a grant or key policy to launch "
			     "it (--kms-grants, --kms-check)",
			     reg->ami_id, reg->region, reg->nr_kms_keys,
			     reg->nr_kms_keys == 1 ? "" : "s");
	for (k = 0; k < reg->nr_kms_keys; k++) {
		struct ams_err err = AMS_ERR_INIT;
		struct share_call *ctx;
		struct ams_aws_call *call = ams_share_call_new(
		    r, AMS_SVC_KMS, region, AMS_KMS_DESCRIBE_KEY,
		    r->env->source, &ctx);

		ctx->index = k;
		if (ams_kms_build_describe_key(ams_aws_call_json(call),
					       reg->kms_keys[k], &err)) {
			ams_aws_call_discard(call);
			ams_share_call_free(ctx);
			ams_share_region_fail(reg, "describe-key", &err);
			reg->kms = AMS_OUT_FAILED;
			continue;
		}
		ams_share_region_read_start(r, region);
		ams_aws_call_submit(call, on_describe_key, ctx);
		if (job->cfg.kms_mode != AMS_KMS_NONE || job->cfg.revoke)
			list_grants(r, region, k, NULL);
	}
}

/* The grant amishare made for account on key k, or NULL. */
static const struct ams_kms_grant *find_grant(struct share_runner *r,
					      size_t region, size_t k,
					      const char *account)
{
	const struct share_kms_key *key = key_of(r, region, k);
	size_t i, n = strlen(GRANT_PREFIX);

	for (i = 0; i < key->nr_grants; i++)
		if (!strcmp(key->grants[i].name + n, account))
			return &key->grants[i];
	return NULL;
}

/* ---- Grants ---------------------------------------------------------- */

struct grants_wait {
	struct share_runner *r;
	size_t region;
	unsigned pending;
	void (*then)(struct share_runner *, size_t);
};

struct grant_ctx {
	struct grants_wait *w;
	size_t account;
};

static void grants_settle(struct grants_wait *w)
{
	struct ams_job_region *reg = &w->r->job->regions[w->region];

	if (w->pending)
		return;
	if (reg->kms == AMS_OUT_PENDING)
		reg->kms = AMS_OUT_OK;
	w->then(w->r, w->region);
	free(w);
}

static void item_kms_fail(struct ams_job_item *it, const char *step,
			  const struct ams_err *err)
{
	if (ams_job_item_err_of(it)->code == AMS_OK)
		it->failed_step = step;
	ams_err_copy(ams_job_item_err(it), err);
	it->kms = AMS_OUT_FAILED;
}

static void on_create_grant(const struct ams_aws_result *res, void *payload)
{
	struct grant_ctx *g = payload;
	struct share_runner *r = g->w->r;
	struct ams_job_item *it =
	    ams_job_item(r->job, g->w->region, g->account);
	struct ams_kms_grant_created created;
	struct ams_err err = AMS_ERR_INIT;

	r->job->regions[g->w->region].api_calls++;
	ams_share_item_wrote(it, res);
	ams_share_write_done(r, res);
	if (ams_share_canceled(r, res->err)) {
		if (ams_job_item_err_of(it)->code == AMS_OK)
			it->failed_step = "create-grant";
		ams_err_copy(ams_job_item_err(it), res->err);
		it->kms = ams_share_canceled_outcome(res);
	} else if (res->err->code)
		item_kms_fail(it, "create-grant", res->err);
	else if (ams_kms_parse_create_grant(&created, res->body, res->body_len,
					    &err))
		item_kms_fail(it, "create-grant", &err);
	else
		ams_kms_grant_created_release(&created);
	g->w->pending--;
	grants_settle(g->w);
	free(g);
}

static void create_grant(struct grants_wait *w, size_t k, size_t a)
{
	struct share_runner *r = w->r;
	struct ams_job *job = r->job;
	struct ams_job_item *it = ams_job_item(job, w->region, a);
	struct ams_kms_create_grant_req req;
	struct ams_err err = AMS_ERR_INIT;
	struct ams_aws_call *call;
	struct grant_ctx *g;
	char *name = xasprintf(GRANT_PREFIX "%s", job->accounts[a].id);
	char *grantee = xasprintf("arn:%s:iam::%s:root",
				  job->partition ? job->partition : "aws",
				  job->accounts[a].id);

	memset(&req, 0, sizeof(req));
	req.key_id = key_id(r, w->region, k);
	req.grantee_principal = grantee;
	req.operations = grant_ops;
	req.noperations = ARRAY_SIZE(grant_ops);
	req.name = name;
	call = ams_aws_call_new(r->env->aws, AMS_SVC_KMS,
				job->regions[w->region].region,
				AMS_KMS_CREATE_GRANT, r->env->source);
	job->stats.api_calls++;
	if (ams_kms_build_create_grant(ams_aws_call_json(call), &req, &err)) {
		ams_aws_call_discard(call);
		item_kms_fail(it, "create-grant", &err);
	} else {
		g = xcalloc(1, sizeof(*g));
		g->w = w;
		g->account = a;
		w->pending++;
		job->stats.writes++;
		ams_aws_call_submit(call, on_create_grant, g);
	}
	free(name);
	free(grantee);
}

void ams_share_kms_grants(struct share_runner *r, size_t region,
			  void (*then)(struct share_runner *, size_t))
{
	struct ams_job *job = r->job;
	struct ams_job_region *reg = &job->regions[region];
	struct grants_wait *w = xcalloc(1, sizeof(*w));
	size_t k, a;

	w->r = r;
	w->region = region;
	w->then = then;
	for (a = 0; a < job->nr_accounts; a++) {
		struct ams_job_item *it = ams_job_item(job, region, a);

		it->kms = AMS_OUT_OK;
		for (k = 0; k < reg->nr_kms_keys; k++) {
			struct ams_err err = AMS_ERR_INIT;

			if (find_grant(r, region, k, job->accounts[a].id))
				continue;
			if (job->cfg.kms_mode == AMS_KMS_CHECK ||
			    job->cfg.mode == AMS_JOB_VERIFY) {
				ams_fail(&err, AMS_ENOTFOUND,
					 "no KMS grant for this account on "
					 "%s",
					 key_id(r, region, k));
				item_kms_fail(it,
					      job->cfg.mode == AMS_JOB_VERIFY
						  ? "verify"
						  : "kms-check",
					      &err);
				continue;
			}
			it->kms_grants++;
			if (job->cfg.mode == AMS_JOB_SHARE)
				create_grant(w, k, a);
		}
	}
	grants_settle(w);
}

/* ---- Revoke -------------------------------------------------------------- */

static void on_revoke_grant(const struct ams_aws_result *res, void *payload)
{
	struct share_call *ctx = payload;
	struct ams_job_region *reg = &ctx->r->job->regions[ctx->region];

	reg->api_calls++;
	ams_share_write_done(ctx->r, res);
	if (ams_share_canceled(ctx->r, res->err)) {
		ams_share_region_fail(reg, "revoke-grant", res->err);
		if (reg->kms != AMS_OUT_FAILED)
			reg->kms = ams_share_canceled_outcome(res);
	} else if (res->err->code) {
		ams_share_region_fail(reg, "revoke-grant", res->err);
		reg->kms = AMS_OUT_FAILED;
	}
	ams_share_call_free(ctx);
}

void ams_share_kms_revoke(struct share_runner *r, size_t region)
{
	struct ams_job *job = r->job;
	struct ams_job_region *reg = &job->regions[region];
	size_t k, a;

	for (k = 0; k < reg->nr_kms_keys && r->rs[region].keys; k++)
		for (a = 0; a < job->nr_accounts; a++) {
			const struct ams_kms_grant *g =
			    find_grant(r, region, k, job->accounts[a].id);
			struct ams_err err = AMS_ERR_INIT;
			struct share_call *ctx;
			struct ams_aws_call *call;

			if (!g)
				continue;
			ams_job_item(job, region, a)->kms_grants++;
			if (job->cfg.mode == AMS_JOB_VERIFY) {
				ams_fail(&err, AMS_ENOTFOUND,
					 "drift: grant %s on %s still there",
					 g->name, key_id(r, region, k));
				ams_share_region_fail(reg, "verify", &err);
				reg->kms = AMS_OUT_FAILED;
				continue;
			}
			if (job->cfg.mode != AMS_JOB_SHARE)
				continue;
			call = ams_share_call_new(r, AMS_SVC_KMS, region,
						  AMS_KMS_REVOKE_GRANT,
						  r->env->source, &ctx);
			if (ams_kms_build_revoke_grant(
				ams_aws_call_json(call), key_id(r, region, k),
				g->grant_id, false, &err)) {
				ams_aws_call_discard(call);
				ams_share_call_free(ctx);
				ams_share_region_fail(reg, "revoke-grant",
						      &err);
				reg->kms = AMS_OUT_FAILED;
				continue;
			}
			job->stats.writes++;
			ams_aws_call_submit(call, on_revoke_grant, ctx);
		}
	if (reg->kms == AMS_OUT_PENDING && reg->nr_kms_keys)
		reg->kms = AMS_OUT_OK;
}

void ams_share_kms_release(struct share_runner *r, size_t region)
{
	struct share_region *rs = &r->rs[region];
	size_t k;

	if (!rs->keys)
		return;
	for (k = 0; k < r->job->regions[region].nr_kms_keys; k++) {
		struct ams_kms_grants all;

		all.v = rs->keys[k].grants;
		all.n = rs->keys[k].nr_grants;
		all.next_marker = NULL;
		ams_kms_grants_release(&all);
		free(rs->keys[k].arn);
	}
	free(rs->keys);
	rs->keys = NULL;
}
