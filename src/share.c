/*
 * The share runner. Every AWS call is asynchronous on one engine; the
 * job model (job.h) is the only state that outlives a callback, and the
 * report is rendered from it.
 *
 * Source side, per region: DescribeImages + DescribeImageAttribute
 * (+ DescribeSnapshotAttribute per snapshot) -> [check the tags] ->
 * ModifyImageAttribute with what is missing (+ ModifySnapshotAttribute)
 * -> the region's targets start.
 * Target side, per (region, account): DescribeImages as the target
 * (retrying InvalidAMIID.NotFound while a new share propagates) ->
 * CreateTags with the tags the target lacks, or nothing.
 */
#include "share.h"

#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "clock.h"
#include "creds.h"
#include "ec2.h"
#include "log.h"

#define STOP_GRACE_MS 5000
#define MAX_SHARE_ENTITIES AMS_EC2_AMI_SHARE_MAX_ENTITIES

struct region_state {
	unsigned reads_pending;
	unsigned snap_writes_pending;
	struct ams_ec2_perms perms;  /* launch permissions before the run */
	struct ams_ec2_perms *snaps; /* createVolumePermission per snapshot */
	bool snap_failed;
};

struct runner {
	struct ams_job *job;
	const struct ams_share_env *env;
	struct ams_http *http;
	struct region_state *rs;
	struct ams_creds_provider **providers; /* per account, lazily */
	bool stopped;
};

enum call_kind {
	SRC_DESCRIBE,
	SRC_ATTRIBUTE,
	SRC_SNAP_ATTRIBUTE,
	SRC_MODIFY,
	SRC_SNAP_MODIFY,
	SRC_TAG,
	TGT_DESCRIBE,
	TGT_TAG,
};

struct call_ctx {
	struct runner *r;
	enum call_kind kind;
	size_t region;
	size_t account;
	size_t snap;
};

static void start_targets(struct runner *r, size_t region);

/* ---- Small helpers ----------------------------------------------------- */

/* The ams_ec2_param_fn that fills an AWS call. */
static void call_param(void *call, const char *name, const char *value)
{
	ams_aws_call_param(call, name, value);
}

static char **strv_push(char **v, size_t *n, const char *s)
{
	v = xreallocarray(v, *n + 1, sizeof(*v));
	v[(*n)++] = xstrdup(s);
	return v;
}

static char *perm_text(enum ams_ec2_perm_kind kind, const char *value)
{
	switch (kind) {
	case AMS_EC2_PERM_USER: return xasprintf("user:%s", value);
	case AMS_EC2_PERM_GROUP: return xasprintf("group:%s", value);
	case AMS_EC2_PERM_ORG: return xasprintf("org:%s", value);
	case AMS_EC2_PERM_OU: return xasprintf("ou:%s", value);
	}
	return xstrdup(value);
}

static struct ams_aws_call *new_call(struct runner *r, enum call_kind kind,
				     size_t region, size_t account,
				     const char *action,
				     struct ams_identity *id,
				     struct call_ctx **ctx_out)
{
	struct call_ctx *ctx = xcalloc(1, sizeof(*ctx));

	ctx->r = r;
	ctx->kind = kind;
	ctx->region = region;
	ctx->account = account;
	*ctx_out = ctx;
	r->job->stats.api_calls++;
	return ams_aws_call_new(r->env->aws, AMS_SVC_EC2,
				r->job->regions[region].region, action, id);
}

static void submit(struct ams_aws_call *call, struct call_ctx *ctx,
		   ams_aws_done_fn *done)
{
	ams_aws_call_submit(call, done, ctx);
}

static bool stopping(struct runner *r)
{
	return r->stopped || (r->env->stop_flag && *r->env->stop_flag);
}

static void region_fail(struct ams_job_region *reg, const char *step,
			const struct ams_err *err)
{
	if (reg->err.code == AMS_OK)
		reg->failed_step = step;
	ams_err_copy(&reg->err, err);
}

static void item_finish(struct ams_job_item *it, enum ams_outcome status)
{
	it->status = status;
	it->finished_ms = ams_clock_mono_ms();
}

static void item_fail(struct ams_job_item *it, const char *step,
		      const struct ams_err *err)
{
	it->failed_step = step;
	ams_err_copy(&it->err, err);
	item_finish(it, AMS_OUT_FAILED);
}

/* ---- Phase 1: the source side ------------------------------------------ */

static void region_read_done(struct runner *r, size_t region)
{
	struct ams_job_region *reg = &r->job->regions[region];

	if (--r->rs[region].reads_pending)
		return;
	if (reg->err.code == AMS_OK)
		reg->describe = AMS_OUT_OK;
	else
		reg->describe = AMS_OUT_FAILED;
}

static void snapshot_attribute_done(const struct ams_aws_result *res,
				    struct call_ctx *ctx)
{
	struct runner *r = ctx->r;
	struct ams_job_region *reg = &r->job->regions[ctx->region];
	struct ams_ec2_snapshot_attribute attr;
	struct ams_err err = AMS_ERR_INIT;
	size_t i;

	if (res->err->code) {
		region_fail(reg, "describe-snapshot-attribute", res->err);
		return;
	}
	if (ams_ec2_parse_describe_snapshot_attribute(&attr, res->body,
						      res->body_len, &err)) {
		region_fail(reg, "describe-snapshot-attribute", &err);
		return;
	}
	for (i = 0; i < attr.create_volume_permissions.n; i++)
		ams_ec2_perms_add(&r->rs[ctx->region].snaps[ctx->snap],
				  attr.create_volume_permissions.v[i].kind,
				  attr.create_volume_permissions.v[i].value);
	ams_ec2_snapshot_attribute_release(&attr);
}

static void on_snapshot_attribute(const struct ams_aws_result *res,
				  void *payload)
{
	struct call_ctx *ctx = payload;

	snapshot_attribute_done(res, ctx);
	region_read_done(ctx->r, ctx->region);
	free(ctx);
}

static void read_snapshot_attributes(struct runner *r, size_t region)
{
	struct ams_job_region *reg = &r->job->regions[region];
	struct region_state *rs = &r->rs[region];
	size_t i;

	rs->snaps = xcalloc(reg->nr_snapshots, sizeof(*rs->snaps));
	for (i = 0; i < reg->nr_snapshots; i++) {
		struct call_ctx *ctx;
		struct ams_err err = AMS_ERR_INIT;
		struct ams_aws_call *call = new_call(
		    r, SRC_SNAP_ATTRIBUTE, region, 0,
		    AMS_EC2_DESCRIBE_SNAPSHOT_ATTRIBUTE, r->env->source, &ctx);

		ctx->snap = i;
		if (ams_ec2_build_describe_snapshot_attribute(
			reg->snapshots[i], false, call_param, call, &err)) {
			ams_aws_call_discard(call);
			region_fail(reg, "describe-snapshot-attribute", &err);
			free(ctx);
			continue;
		}
		rs->reads_pending++;
		submit(call, ctx, on_snapshot_attribute);
	}
}

static void take_image(struct runner *r, size_t region,
		       const struct ams_ec2_image *img)
{
	struct ams_job_region *reg = &r->job->regions[region];
	size_t i;

	reg->found = true;
	reg->name = img->name ? xstrdup(img->name) : NULL;
	reg->state = img->state ? xstrdup(img->state) : NULL;
	reg->is_public = img->is_public;
	ams_tags_copy(&reg->source_tags, &img->tags);
	for (i = 0; i < img->ndevices; i++)
		if (img->devices[i].has_ebs && img->devices[i].ebs.snapshot_id)
			reg->snapshots =
			    strv_push(reg->snapshots, &reg->nr_snapshots,
				      img->devices[i].ebs.snapshot_id);
}

static void describe_done(const struct ams_aws_result *res,
			  struct call_ctx *ctx)
{
	struct runner *r = ctx->r;
	struct ams_job_region *reg = &r->job->regions[ctx->region];
	struct ams_ec2_images images;
	const struct ams_ec2_image *img;
	struct ams_err err = AMS_ERR_INIT;

	if (res->err->code) {
		region_fail(reg, "describe-images", res->err);
		return;
	}
	if (ams_ec2_parse_describe_images(&images, res->body, res->body_len,
					  &err)) {
		region_fail(reg, "describe-images", &err);
		return;
	}
	img = ams_ec2_images_find(&images, reg->ami_id);
	if (!img) {
		ams_fail_aws(&err, 0, "InvalidAMIID.NotFound", res->request_id,
			     "the source account cannot see this image");
		region_fail(reg, "describe-images", &err);
	} else {
		take_image(r, ctx->region, img);
		if (reg->is_public)
			ams_log_warn("%s in %s is public: every AWS account "
				     "can launch it",
				     reg->ami_id, reg->region);
		if (r->job->cfg.share_snapshots && reg->nr_snapshots)
			read_snapshot_attributes(r, ctx->region);
	}
	ams_ec2_images_release(&images);
}

static void attribute_done(const struct ams_aws_result *res,
			   struct call_ctx *ctx)
{
	struct runner *r = ctx->r;
	struct ams_job_region *reg = &r->job->regions[ctx->region];
	struct ams_ec2_image_attribute attr;
	struct ams_err err = AMS_ERR_INIT;
	size_t i;

	if (res->err->code) {
		region_fail(reg, "describe-image-attribute", res->err);
		return;
	}
	if (ams_ec2_parse_describe_image_attribute(&attr, res->body,
						   res->body_len, &err)) {
		region_fail(reg, "describe-image-attribute", &err);
		return;
	}
	for (i = 0; i < attr.launch_permissions.n; i++) {
		const struct ams_ec2_perm *p = &attr.launch_permissions.v[i];
		char *text = perm_text(p->kind, p->value);

		reg->perms_before =
		    strv_push(reg->perms_before, &reg->nr_perms_before, text);
		ams_ec2_perms_add(&r->rs[ctx->region].perms, p->kind, p->value);
		free(text);
	}
	ams_ec2_image_attribute_release(&attr);
}

static void on_source_read(const struct ams_aws_result *res, void *payload)
{
	struct call_ctx *ctx = payload;

	ctx->r->job->regions[ctx->region].api_calls++;
	if (ctx->kind == SRC_DESCRIBE)
		describe_done(res, ctx);
	else
		attribute_done(res, ctx);
	region_read_done(ctx->r, ctx->region);
	free(ctx);
}

static void read_source(struct runner *r, size_t region)
{
	struct ams_job_region *reg = &r->job->regions[region];
	const char *ids[1];
	struct ams_ec2_describe_images_req req;
	struct ams_err err = AMS_ERR_INIT;
	struct ams_aws_call *call;
	struct call_ctx *ctx;

	ids[0] = reg->ami_id;
	memset(&req, 0, sizeof(req));
	req.image_ids = ids;
	req.nimage_ids = 1;
	req.include_deprecated = true;
	call = new_call(r, SRC_DESCRIBE, region, 0, AMS_EC2_DESCRIBE_IMAGES,
			r->env->source, &ctx);
	if (ams_ec2_build_describe_images(&req, call_param, call, &err)) {
		ams_aws_call_discard(call);
		free(ctx);
		region_fail(reg, "describe-images", &err);
		reg->describe = AMS_OUT_FAILED;
		return;
	}
	r->rs[region].reads_pending = 2;
	submit(call, ctx, on_source_read);
	call = new_call(r, SRC_ATTRIBUTE, region, 0,
			AMS_EC2_DESCRIBE_IMAGE_ATTRIBUTE, r->env->source, &ctx);
	if (ams_ec2_build_describe_image_attribute(reg->ami_id,
						   "launchPermission", false,
						   call_param, call, &err)) {
		ams_aws_call_discard(call);
		free(ctx);
		region_fail(reg, "describe-image-attribute", &err);
		region_read_done(r, region);
		return;
	}
	submit(call, ctx, on_source_read);
}

/* ---- Between the phases: what every target gets -------------------------- */

static enum ams_code check_desired(struct ams_job *job, struct ams_err *err)
{
	size_t i, j;

	for (i = 0; i < job->nr_regions; i++) {
		struct ams_job_region *reg = &job->regions[i];

		if (reg->describe != AMS_OUT_OK)
			continue;
		ams_job_desired_tags(&reg->desired, &job->cfg,
				     &reg->source_tags);
		if (reg->desired.n > AMS_EC2_MAX_TAGS_PER_RESOURCE)
			return ams_fail(err, AMS_EUSAGE,
					"%s in %s: %zu tags to write (source "
					"tags, provenance and --tag); AWS "
					"allows %d per resource: narrow them "
					"with --include-tags/--exclude-tags",
					reg->ami_id, reg->region,
					reg->desired.n,
					AMS_EC2_MAX_TAGS_PER_RESOURCE);
		for (j = 0; j < reg->desired.n; j++) {
			const struct ams_tag *t = &reg->desired.v[j];

			if (ams_ec2_check_tag_key(t->key, err) ||
			    ams_ec2_check_tag_value(t->value, err)) {
				ams_err_prefix(err, "%s in %s", reg->ami_id,
					       reg->region);
				return AMS_EUSAGE;
			}
		}
	}
	return AMS_OK;
}

/* ---- Phase 2: sharing ------------------------------------------------------ */

static void region_share_done(struct runner *r, size_t region,
			      enum ams_outcome share)
{
	r->job->regions[region].share = share;
	start_targets(r, region);
}

static void on_modify(const struct ams_aws_result *res, void *payload)
{
	struct call_ctx *ctx = payload;
	struct runner *r = ctx->r;
	struct ams_job_region *reg = &r->job->regions[ctx->region];
	struct ams_err err = AMS_ERR_INIT;
	enum ams_outcome out = AMS_OUT_OK;

	reg->api_calls++;
	if (r->job->cfg.mode == AMS_JOB_PLAN) {
		/* A preflight: DryRunOperation means permitted. */
		if (!ams_ec2_dry_run_ok(res->err)) {
			region_fail(reg, "preflight", res->err);
			out = AMS_OUT_FAILED;
		}
	} else if (res->err->code) {
		region_fail(reg, "modify-image-attribute", res->err);
		out = AMS_OUT_FAILED;
	} else if (ams_ec2_parse_return(AMS_EC2_MODIFY_IMAGE_ATTRIBUTE,
					res->body, res->body_len, &err)) {
		region_fail(reg, "modify-image-attribute", &err);
		out = AMS_OUT_FAILED;
	}
	region_share_done(r, ctx->region, out);
	free(ctx);
}

/* The grants this run adds: targets missing from the launch permission. */
static void missing_perms(struct runner *r, size_t region,
			  struct ams_ec2_perms *out)
{
	struct ams_job *job = r->job;
	const struct ams_ec2_perms *have = &r->rs[region].perms;
	size_t i;

	for (i = 0; i < job->nr_accounts; i++)
		if (!strcmp(job->accounts[i].via, "account") &&
		    !ams_ec2_perms_has(have, AMS_EC2_PERM_USER,
				       job->accounts[i].id))
			ams_ec2_perms_add(out, AMS_EC2_PERM_USER,
					  job->accounts[i].id);
	for (i = 0; i < job->cfg.nr_org_arns; i++)
		if (!ams_ec2_perms_has(have, AMS_EC2_PERM_ORG,
				       job->cfg.org_arns[i]))
			ams_ec2_perms_add(out, AMS_EC2_PERM_ORG,
					  job->cfg.org_arns[i]);
	for (i = 0; i < job->cfg.nr_ou_arns; i++)
		if (!ams_ec2_perms_has(have, AMS_EC2_PERM_OU,
				       job->cfg.ou_arns[i]))
			ams_ec2_perms_add(out, AMS_EC2_PERM_OU,
					  job->cfg.ou_arns[i]);
}

static void share_region(struct runner *r, size_t region)
{
	struct ams_job *job = r->job;
	struct ams_job_region *reg = &job->regions[region];
	struct ams_ec2_perms add = { NULL, 0, 0 };
	struct ams_ec2_modify_image_req req;
	struct ams_err err = AMS_ERR_INIT;
	struct ams_aws_call *call;
	struct call_ctx *ctx;
	size_t i;

	missing_perms(r, region, &add);
	for (i = 0; i < add.n; i++) {
		char *text = perm_text(add.v[i].kind, add.v[i].value);

		reg->perms_added =
		    strv_push(reg->perms_added, &reg->nr_perms_added, text);
		free(text);
	}
	if (!add.n || (job->cfg.mode == AMS_JOB_PLAN && !job->cfg.preflight)) {
		region_share_done(r, region, AMS_OUT_OK);
		goto out;
	}
	if (job->cfg.mode == AMS_JOB_VERIFY) {
		ams_fail(&err, AMS_ENOTFOUND,
			 "drift: %zu launch permission%s missing (%s%s)", add.n,
			 add.n == 1 ? "" : "s", reg->perms_added[0],
			 add.n > 1 ? ", ..." : "");
		region_fail(reg, "verify", &err);
		region_share_done(r, region, AMS_OUT_FAILED);
		goto out;
	}
	if (r->rs[region].perms.n + add.n > MAX_SHARE_ENTITIES) {
		ams_fail(&err, AMS_ELIMIT,
			 "sharing would give %zu entities; AWS allows %d per "
			 "AMI and region",
			 r->rs[region].perms.n + add.n, MAX_SHARE_ENTITIES);
		region_fail(reg, "modify-image-attribute", &err);
		region_share_done(r, region, AMS_OUT_FAILED);
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.image_id = reg->ami_id;
	req.add = add.v;
	req.nadd = add.n;
	req.dry_run = job->cfg.mode == AMS_JOB_PLAN;
	call = new_call(r, SRC_MODIFY, region, 0,
			AMS_EC2_MODIFY_IMAGE_ATTRIBUTE, r->env->source, &ctx);
	if (ams_ec2_build_modify_image_attribute(&req, call_param, call,
						 &err)) {
		ams_aws_call_discard(call);
		free(ctx);
		region_fail(reg, "modify-image-attribute", &err);
		region_share_done(r, region, AMS_OUT_FAILED);
		goto out;
	}
	if (!req.dry_run)
		job->stats.writes++;
	submit(call, ctx, on_modify);
out:
	ams_ec2_perms_release(&add);
}

static void snapshot_share_settle(struct runner *r, size_t region)
{
	struct ams_job_region *reg = &r->job->regions[region];
	struct region_state *rs = &r->rs[region];

	if (rs->snap_writes_pending)
		return;
	reg->snapshot_share = rs->snap_failed ? AMS_OUT_FAILED : AMS_OUT_OK;
}

static void on_snapshot_modify(const struct ams_aws_result *res, void *payload)
{
	struct call_ctx *ctx = payload;
	struct runner *r = ctx->r;
	struct ams_job_region *reg = &r->job->regions[ctx->region];
	struct ams_err err = AMS_ERR_INIT;

	reg->api_calls++;
	if (res->err->code ||
	    ams_ec2_parse_return(AMS_EC2_MODIFY_SNAPSHOT_ATTRIBUTE, res->body,
				 res->body_len, &err)) {
		region_fail(reg, "modify-snapshot-attribute",
			    res->err->code ? res->err : &err);
		r->rs[ctx->region].snap_failed = true;
	}
	r->rs[ctx->region].snap_writes_pending--;
	snapshot_share_settle(r, ctx->region);
	free(ctx);
}

static void share_one_snapshot(struct runner *r, size_t region, size_t s,
			       const struct ams_ec2_perms *add)
{
	struct ams_job_region *reg = &r->job->regions[region];
	struct ams_ec2_modify_snapshot_req req;
	struct ams_err err = AMS_ERR_INIT;
	size_t off;

	for (off = 0; off < add->n; off += AMS_EC2_SNAPSHOT_MODIFY_MAX) {
		struct ams_aws_call *call;
		struct call_ctx *ctx;

		memset(&req, 0, sizeof(req));
		req.snapshot_id = reg->snapshots[s];
		req.add = add->v + off;
		req.nadd = add->n - off < AMS_EC2_SNAPSHOT_MODIFY_MAX
			       ? add->n - off
			       : AMS_EC2_SNAPSHOT_MODIFY_MAX;
		call = new_call(r, SRC_SNAP_MODIFY, region, 0,
				AMS_EC2_MODIFY_SNAPSHOT_ATTRIBUTE,
				r->env->source, &ctx);
		if (ams_ec2_build_modify_snapshot_attribute(&req, call_param,
							    call, &err)) {
			ams_aws_call_discard(call);
			free(ctx);
			region_fail(reg, "modify-snapshot-attribute", &err);
			r->rs[region].snap_failed = true;
			return;
		}
		r->job->stats.writes++;
		r->rs[region].snap_writes_pending++;
		submit(call, ctx, on_snapshot_modify);
	}
}

static void share_snapshots(struct runner *r, size_t region)
{
	struct ams_job *job = r->job;
	struct ams_job_region *reg = &job->regions[region];
	struct region_state *rs = &r->rs[region];
	size_t s, i;

	for (s = 0; s < reg->nr_snapshots; s++) {
		struct ams_ec2_perms add = { NULL, 0, 0 };

		for (i = 0; i < job->nr_accounts; i++) {
			const char *id = job->accounts[i].id;
			char *text;

			if (ams_ec2_perms_has(&rs->snaps[s], AMS_EC2_PERM_USER,
					      id))
				continue;
			ams_ec2_perms_add(&add, AMS_EC2_PERM_USER, id);
			text = xasprintf("%s:%s", reg->snapshots[s], id);
			reg->snapshot_perms_added =
			    strv_push(reg->snapshot_perms_added,
				      &reg->nr_snapshot_perms_added, text);
			free(text);
		}
		if (add.n && job->cfg.mode == AMS_JOB_VERIFY) {
			struct ams_err err = AMS_ERR_INIT;

			ams_fail(&err, AMS_ENOTFOUND,
				 "drift: %s lacks createVolumePermission for "
				 "%zu account%s",
				 reg->snapshots[s], add.n,
				 add.n == 1 ? "" : "s");
			region_fail(reg, "verify", &err);
			rs->snap_failed = true;
		} else if (add.n && job->cfg.mode == AMS_JOB_SHARE) {
			share_one_snapshot(r, region, s, &add);
		}
		ams_ec2_perms_release(&add);
	}
	snapshot_share_settle(r, region);
}

/* ---- Phase 2: the targets ------------------------------------------------ */

static struct ams_identity *account_identity(struct runner *r, size_t a,
					     struct ams_err *err)
{
	struct ams_job *job = r->job;
	struct ams_job_account *acct = &job->accounts[a];
	struct ams_creds_role_opts opts;

	if (r->providers[a])
		return ams_creds_provider_identity(r->providers[a]);
	if (!acct->role_arn &&
	    ams_job_role_arn(&acct->role_arn, job->cfg.role_arn_template,
			     acct->id, job->partition ? job->partition : "aws",
			     err))
		return NULL;
	memset(&opts, 0, sizeof(opts));
	opts.role_arn = acct->role_arn;
	opts.session_name =
	    job->cfg.session_name ? job->cfg.session_name : "amishare";
	opts.external_id = job->cfg.external_id;
	opts.duration_s = job->cfg.duration_s;
	opts.sts_region = r->env->sts_region;
	if (ams_creds_assume_role_new(&r->providers[a], r->env->aws,
				      r->env->source, &opts, err))
		return NULL;
	return ams_creds_provider_identity(r->providers[a]);
}

static void on_target_tag(const struct ams_aws_result *res, void *payload)
{
	struct call_ctx *ctx = payload;
	struct ams_job *job = ctx->r->job;
	struct ams_job_item *it = ams_job_item(job, ctx->region, ctx->account);
	struct ams_err err = AMS_ERR_INIT;

	it->attempts += res->attempts;
	if (job->cfg.mode == AMS_JOB_PLAN) {
		if (ams_ec2_dry_run_ok(res->err))
			item_finish(it, AMS_OUT_OK);
		else
			item_fail(it, "preflight", res->err);
	} else if (res->err->code) {
		item_fail(it, "create-tags", res->err);
	} else if (ams_ec2_parse_return(AMS_EC2_CREATE_TAGS, res->body,
					res->body_len, &err)) {
		item_fail(it, "create-tags", &err);
	} else {
		item_finish(it, AMS_OUT_OK);
	}
	free(ctx);
}

static bool tag_limit_ok(struct ams_job_item *it,
			 const struct ams_job_region *reg)
{
	struct ams_tags all = AMS_TAGS_INIT;
	struct ams_err err = AMS_ERR_INIT;
	size_t n;

	ams_tags_copy(&all, &it->before);
	ams_tags_copy(&all, &reg->desired);
	n = all.n;
	ams_tags_release(&all);
	if (n <= AMS_EC2_MAX_TAGS_PER_RESOURCE)
		return true;
	ams_fail_aws(&err, 0, "TagLimitExceeded", NULL, "");
	snprintf(err.msg, sizeof(err.msg),
		 "the image would carry %zu tags in this account (%zu of "
		 "its own); AWS allows %d",
		 n, it->before.n, AMS_EC2_MAX_TAGS_PER_RESOURCE);
	item_fail(it, "tag-limit", &err);
	return false;
}

static void write_target_tags(struct runner *r, struct call_ctx *ctx,
			      struct ams_identity *id)
{
	struct ams_job *job = r->job;
	struct ams_job_item *it = ams_job_item(job, ctx->region, ctx->account);
	struct ams_job_region *reg = &job->regions[ctx->region];
	const char *ids[1];
	struct ams_err err = AMS_ERR_INIT;
	struct ams_aws_call *call;
	struct call_ctx *tctx;

	ams_tags_missing(&it->written, &reg->desired, &it->before);
	if (!it->written.n) {
		it->unchanged = true;
		item_finish(it, AMS_OUT_OK);
		return;
	}
	if (!tag_limit_ok(it, reg))
		return;
	if (job->cfg.mode == AMS_JOB_VERIFY) {
		ams_fail(&err, AMS_ENOTFOUND,
			 "drift: %zu tag%s missing or different (first: "
			 "'%s')",
			 it->written.n, it->written.n == 1 ? "" : "s",
			 it->written.v[0].key);
		item_fail(it, "verify", &err);
		return;
	}
	if (job->cfg.mode == AMS_JOB_PLAN && !job->cfg.preflight) {
		item_finish(it, AMS_OUT_OK);
		return;
	}
	ids[0] = reg->ami_id;
	call = new_call(r, TGT_TAG, ctx->region, ctx->account,
			AMS_EC2_CREATE_TAGS, id, &tctx);
	if (ams_ec2_build_create_tags(ids, 1, it->written.v, it->written.n,
				      job->cfg.mode == AMS_JOB_PLAN, call_param,
				      call, &err)) {
		ams_aws_call_discard(call);
		free(tctx);
		item_fail(it, "create-tags", &err);
		return;
	}
	if (job->cfg.mode == AMS_JOB_SHARE)
		job->stats.writes++;
	submit(call, tctx, on_target_tag);
}

/* Whether a failed target call failed for want of the role's credentials. */
static bool assume_failed(struct runner *r, size_t a,
			  const struct ams_aws_result *res)
{
	struct ams_job_account *acct = &r->job->accounts[a];
	struct ams_identity *id = ams_creds_provider_identity(r->providers[a]);

	if (ams_identity_creds(id))
		return false;
	if (acct->assume != AMS_OUT_FAILED) {
		acct->assume = AMS_OUT_FAILED;
		ams_err_copy(&acct->assume_err, res->err);
	}
	return true;
}

static void target_describe_done(const struct ams_aws_result *res,
				 struct call_ctx *ctx)
{
	struct runner *r = ctx->r;
	struct ams_job *job = r->job;
	struct ams_job_item *it = ams_job_item(job, ctx->region, ctx->account);
	struct ams_job_region *reg = &job->regions[ctx->region];
	struct ams_ec2_images images;
	const struct ams_ec2_image *img;
	struct ams_err err = AMS_ERR_INIT;
	bool not_found;

	it->attempts += res->attempts;
	if (res->err->code && assume_failed(r, ctx->account, res)) {
		item_fail(it, "assume-role", res->err);
		return;
	}
	job->accounts[ctx->account].assume = AMS_OUT_OK;
	not_found = res->err->code &&
		    !strcmp(res->err->aws_code, "InvalidAMIID.NotFound");
	if (not_found && job->cfg.mode == AMS_JOB_PLAN) {
		/* Not shared yet: everything would be written. */
		ams_tags_copy(&it->written, &reg->desired);
		item_finish(it, AMS_OUT_OK);
		return;
	}
	if (res->err->code) {
		item_fail(it, "describe-images", res->err);
		return;
	}
	if (ams_ec2_parse_describe_images(&images, res->body, res->body_len,
					  &err)) {
		item_fail(it, "describe-images", &err);
		return;
	}
	img = ams_ec2_images_find(&images, reg->ami_id);
	if (img) {
		it->visible = true;
		ams_tags_copy(&it->before, &img->tags);
		ams_ec2_images_release(&images);
		write_target_tags(
		    r, ctx,
		    ams_creds_provider_identity(r->providers[ctx->account]));
		return;
	}
	ams_ec2_images_release(&images);
	ams_fail_aws(&err, 0, "InvalidAMIID.NotFound", res->request_id,
		     "the target account cannot see the image");
	item_fail(it, "describe-images", &err);
}

static void on_target_describe(const struct ams_aws_result *res, void *payload)
{
	struct call_ctx *ctx = payload;

	target_describe_done(res, ctx);
	free(ctx);
}

static void start_item(struct runner *r, size_t region, size_t a)
{
	struct ams_job *job = r->job;
	struct ams_job_item *it = ams_job_item(job, region, a);
	struct ams_job_region *reg = &job->regions[region];
	struct ams_ec2_describe_images_req req;
	struct ams_err err = AMS_ERR_INIT;
	struct ams_identity *id;
	struct ams_aws_call *call;
	struct call_ctx *ctx;
	const char *ids[1];

	it->started_ms = ams_clock_mono_ms();
	if (job->accounts[a].assume == AMS_OUT_FAILED) {
		item_fail(it, "assume-role", &job->accounts[a].assume_err);
		return;
	}
	id = account_identity(r, a, &err);
	if (!id) {
		job->accounts[a].assume = AMS_OUT_FAILED;
		ams_err_copy(&job->accounts[a].assume_err, &err);
		item_fail(it, "assume-role", &err);
		return;
	}
	ids[0] = reg->ami_id;
	memset(&req, 0, sizeof(req));
	req.image_ids = ids;
	req.nimage_ids = 1;
	req.include_deprecated = true;
	call = new_call(r, TGT_DESCRIBE, region, a, AMS_EC2_DESCRIBE_IMAGES, id,
			&ctx);
	if (ams_ec2_build_describe_images(&req, call_param, call, &err)) {
		ams_aws_call_discard(call);
		free(ctx);
		item_fail(it, "describe-images", &err);
		return;
	}
	/* A share just made may take a while to reach the target. */
	if (job->cfg.mode == AMS_JOB_SHARE && job->cfg.visibility_wait_s)
		ams_aws_call_retry_code(call, "InvalidAMIID.NotFound",
					job->cfg.visibility_wait_s * 1000ULL);
	submit(call, ctx, on_target_describe);
}

static void start_targets(struct runner *r, size_t region)
{
	struct ams_job *job = r->job;
	struct ams_job_region *reg = &job->regions[region];
	size_t a;

	for (a = 0; a < job->nr_accounts; a++) {
		struct ams_job_item *it = ams_job_item(job, region, a);

		if (stopping(r))
			return;
		if (reg->share == AMS_OUT_FAILED &&
		    job->cfg.mode == AMS_JOB_SHARE) {
			it->started_ms = ams_clock_mono_ms();
			item_fail(it, "share", &reg->err);
			continue;
		}
		start_item(r, region, a);
	}
}

/* ---- Driving ------------------------------------------------------------- */

/* Runs the engine until idle, stopping it when the stop flag is raised. */
static enum ams_code drive(struct runner *r, struct ams_err *err)
{
	enum ams_code rc = AMS_OK;

	while (ams_http_pending(r->http)) {
		if (!r->stopped && r->env->stop_flag && *r->env->stop_flag) {
			r->stopped = true;
			r->job->interrupted = true;
			ams_log_warn("interrupted: finishing requests in "
				     "flight (at most %d s), starting no "
				     "more",
				     STOP_GRACE_MS / 1000);
			ams_http_stop(r->http, STOP_GRACE_MS);
		}
		rc = ams_http_step(r->http, 1000, err);
		if (rc)
			break;
	}
	return rc;
}

static void settle_interrupted(struct ams_job *job)
{
	size_t i;

	for (i = 0; i < job->nr_items; i++) {
		struct ams_job_item *it = &job->items[i];

		if (it->status != AMS_OUT_PENDING)
			continue;
		if (it->started_ms) {
			it->status = AMS_OUT_UNKNOWN;
			it->skip_reason = "interrupted while in flight";
		} else {
			it->status = AMS_OUT_SKIPPED;
			it->skip_reason = "interrupted before it started";
		}
	}
	for (i = 0; i < job->nr_regions; i++) {
		struct ams_job_region *reg = &job->regions[i];

		if (reg->share == AMS_OUT_PENDING)
			reg->share = AMS_OUT_UNKNOWN;
		if (reg->describe == AMS_OUT_PENDING)
			reg->describe = AMS_OUT_UNKNOWN;
	}
}

static void fail_region_items(struct ams_job *job, size_t region)
{
	struct ams_job_region *reg = &job->regions[region];
	size_t a;

	reg->share = AMS_OUT_FAILED;
	for (a = 0; a < job->nr_accounts; a++) {
		struct ams_job_item *it = ams_job_item(job, region, a);

		it->started_ms = ams_clock_mono_ms();
		item_fail(it, "source", &reg->err);
	}
}

static void phase2(struct runner *r)
{
	struct ams_job *job = r->job;
	size_t i;

	for (i = 0; i < job->nr_regions; i++) {
		struct ams_job_region *reg = &job->regions[i];

		if (stopping(r))
			break;
		if (reg->describe != AMS_OUT_OK) {
			fail_region_items(job, i);
			continue;
		}
		if (job->cfg.share_snapshots)
			share_snapshots(r, i);
		share_region(r, i);
	}
}

static void collect_stats(struct runner *r)
{
	struct ams_http_stats st;

	ams_http_get_stats(&st, r->http);
	r->job->stats.retries = (unsigned long)st.retries;
	r->job->stats.throttled = (unsigned long)st.throttled;
	r->job->stats.connections = (unsigned long)st.connects;
}

enum ams_code ams_share_run(struct ams_job *job,
			    const struct ams_share_env *env,
			    struct ams_err *err)
{
	struct runner r;
	enum ams_code rc;
	uint64_t t0 = ams_clock_mono_ms();
	size_t i;

	memset(&r, 0, sizeof(r));
	r.job = job;
	r.env = env;
	r.http = ams_aws_http(env->aws);
	r.rs = xcalloc(job->nr_regions ? job->nr_regions : 1, sizeof(*r.rs));
	r.providers = xcalloc(job->nr_accounts ? job->nr_accounts : 1,
			      sizeof(*r.providers));
	if (!job->items)
		ams_job_make_items(job);
	job->started_at = (int64_t)ams_clock_wall();

	for (i = 0; i < job->nr_regions; i++)
		read_source(&r, i);
	rc = drive(&r, err);
	if (!rc && !stopping(&r))
		rc = check_desired(job, err);
	if (!rc && !stopping(&r)) {
		phase2(&r);
		rc = drive(&r, err);
	}
	if (stopping(&r))
		job->interrupted = true;
	settle_interrupted(job);
	collect_stats(&r);
	job->finished_at = (int64_t)ams_clock_wall();
	job->duration_ms = ams_clock_mono_ms() - t0;

	for (i = 0; i < job->nr_accounts; i++)
		ams_creds_provider_free(r.providers[i]);
	for (i = 0; i < job->nr_regions; i++) {
		size_t s;

		ams_ec2_perms_release(&r.rs[i].perms);
		for (s = 0; r.rs[i].snaps && s < job->regions[i].nr_snapshots;
		     s++)
			ams_ec2_perms_release(&r.rs[i].snaps[s]);
		free(r.rs[i].snaps);
	}
	free(r.rs);
	free(r.providers);
	return rc;
}
