/*
 * The share runner. Every AWS call is asynchronous on one engine; the
 * job model (job.h) is the only state that outlives a callback, and the
 * report is rendered from it.
 *
 * Phase 0 (with --org-role): list the active members of the orgs and OUs.
 * Phase 1, per region, in the build account: DescribeImages and
 * DescribeImageAttribute (+ DescribeSnapshotAttribute per snapshot, and
 * DescribeKey/ListGrants per customer key of encrypted snapshots). The
 * tags every target gets are then fixed and checked before any write.
 * Phase 2, per region: ModifyImageAttribute with what is missing
 * (+ ModifySnapshotAttribute, EnableImageDeprecation, KMS grants), then,
 * per target account: DescribeImages as the target (retrying
 * InvalidAMIID.NotFound while a new share propagates), CreateTags with
 * what the target lacks, then the SSM parameter.
 * Revoke runs the targets first (while they can still see the image),
 * then takes the permissions and grants away.
 *
 * Targets are started a window at a time (four times the engine's
 * in-flight limit), account by account across the Regions that are
 * ready, and each one that settles lets the next one in: the calls
 * queued at any moment, and the memory they hold, follow the in-flight
 * limit rather than the number of accounts.
 */
#include "share.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "creds.h"
#include "log.h"
#include "share_int.h"

#define STOP_GRACE_MS 5000

static void start_targets(struct share_runner *r, size_t region);
static void revoke_source(struct share_runner *r, size_t region);
static void pump(struct share_runner *r);

/* ---- Helpers shared with share_*.c -------------------------------------- */

char **ams_share_strv_push(char **v, size_t *n, const char *s)
{
	v = xreallocarray(v, *n + 1, sizeof(*v));
	v[(*n)++] = xstrdup(s);
	return v;
}

struct ams_aws_call *ams_share_call_new(struct share_runner *r,
					enum ams_service svc, size_t region,
					const char *action,
					struct ams_identity *id,
					struct share_call **ctx_out)
{
	struct share_call *ctx = xcalloc(1, sizeof(*ctx));

	ctx->r = r;
	ctx->region = region;
	*ctx_out = ctx;
	r->job->stats.api_calls++;
	return ams_aws_call_new(r->env->aws, svc,
				r->job->regions[region].region, action, id);
}

void ams_share_call_free(struct share_call *ctx)
{
	if (!ctx)
		return;
	free(ctx->text);
	free(ctx);
}

bool ams_share_stopping(const struct share_runner *r)
{
	return r->stopped || (r->env->stop_flag && *r->env->stop_flag);
}

void ams_share_region_fail(struct ams_job_region *reg, const char *step,
			   const struct ams_err *err)
{
	if (reg->err.code == AMS_OK)
		reg->failed_step = step;
	ams_err_copy(&reg->err, err);
}

static void item_settled(struct share_runner *r, struct ams_job_item *it)
{
	struct share_region *rs = &r->rs[it->region];

	it->finished_ms = ams_clock_mono_ms();
	r->items_done++;
	if (it->status == AMS_OUT_FAILED)
		r->items_failed++;
	if (r->env->progress)
		r->env->progress(r->items_done, r->job->nr_items,
				 r->items_failed, r->env->progress_payload);
	if (r->job->cfg.revoke && rs->items_pending && !--rs->items_pending &&
	    !ams_share_stopping(r))
		revoke_source(r, it->region);
	if (r->items_left && r->items_left[it->account] &&
	    !--r->items_left[it->account] && it->account < r->nr_providers &&
	    r->providers[it->account])
		r->finished[r->nr_finished++] = it->account;
	if (r->in_window && r->in_window[it - r->job->items]) {
		r->in_window[it - r->job->items] = 0;
		r->active--;
		pump(r);
	}
}

static struct share_runner *runner_of(struct ams_job_item *it);

bool ams_share_canceled(const struct share_runner *r, const struct ams_err *err)
{
	return err->code == AMS_ECANCELED && ams_share_stopping(r);
}

enum ams_outcome ams_share_canceled_outcome(const struct ams_aws_result *res)
{
	return res->attempts ? AMS_OUT_UNKNOWN : AMS_OUT_SKIPPED;
}

void ams_share_write_done(struct share_runner *r,
			  const struct ams_aws_result *res)
{
	if (ams_share_canceled(r, res->err) && !res->attempts &&
	    r->job->stats.writes)
		r->job->stats.writes--;
}

void ams_share_item_wrote(struct ams_job_item *it,
			  const struct ams_aws_result *res)
{
	if (res->attempts)
		it->writes_sent = true;
}

void ams_share_item_fail(struct ams_job_item *it, const char *step,
			 const struct ams_err *err)
{
	struct share_runner *r = runner_of(it);

	if (ams_job_item_err_of(it)->code == AMS_OK)
		it->failed_step = step;
	ams_err_copy(ams_job_item_err(it), err);
	if (ams_share_canceled(r, err)) {
		it->status =
		    it->writes_sent ? AMS_OUT_UNKNOWN : AMS_OUT_SKIPPED;
		it->skip_reason = it->writes_sent
				      ? "interrupted while in flight"
				      : "interrupted before its writes";
	} else {
		it->status = AMS_OUT_FAILED;
	}
	item_settled(r, it);
}

void ams_share_item_ok(struct share_runner *r, struct ams_job_item *it)
{
	/* A grant that failed for this account fails the item too. */
	it->status = it->kms == AMS_OUT_FAILED ? AMS_OUT_FAILED : AMS_OUT_OK;
	item_settled(r, it);
}

/*
 * Items find their runner through the job: one runner per job at a time,
 * so a file-level pointer set by ams_share_run() is enough and keeps the
 * item helpers' signatures small.
 */
static struct share_runner *current_runner;

static struct share_runner *runner_of(struct ams_job_item *it)
{
	(void)it;
	return current_runner;
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

static void push_perm(char ***v, size_t *n, enum ams_ec2_perm_kind kind,
		      const char *value)
{
	char *text = perm_text(kind, value);

	*v = ams_share_strv_push(*v, n, text);
	free(text);
}

/* ---- Phase 1: the source side --------------------------------------------- */

static void region_read_done(struct share_runner *r, size_t region)
{
	struct ams_job_region *reg = &r->job->regions[region];

	if (--r->rs[region].reads_pending)
		return;
	reg->describe = reg->err.code == AMS_OK ? AMS_OUT_OK : AMS_OUT_FAILED;
}

static void on_snapshot_attribute(const struct ams_aws_result *res,
				  void *payload)
{
	struct share_call *ctx = payload;
	struct share_runner *r = ctx->r;
	struct ams_job_region *reg = &r->job->regions[ctx->region];
	struct ams_ec2_snapshot_attribute attr;
	struct ams_err err = AMS_ERR_INIT;
	size_t i;

	reg->api_calls++;
	if (res->err->code) {
		ams_share_region_fail(reg, "describe-snapshot-attribute",
				      res->err);
	} else if (ams_ec2_parse_describe_snapshot_attribute(
		       &attr, res->body, res->body_len, &err)) {
		ams_share_region_fail(reg, "describe-snapshot-attribute", &err);
	} else {
		for (i = 0; i < attr.create_volume_permissions.n; i++)
			ams_ec2_perms_add(
			    &r->rs[ctx->region].snaps[ctx->index],
			    attr.create_volume_permissions.v[i].kind,
			    attr.create_volume_permissions.v[i].value);
		ams_ec2_snapshot_attribute_release(&attr);
	}
	region_read_done(r, ctx->region);
	ams_share_call_free(ctx);
}

static void read_snapshot_attributes(struct share_runner *r, size_t region)
{
	struct ams_job_region *reg = &r->job->regions[region];
	struct share_region *rs = &r->rs[region];
	size_t i;

	rs->snaps = xcalloc(reg->nr_snapshots, sizeof(*rs->snaps));
	for (i = 0; i < reg->nr_snapshots; i++) {
		struct share_call *ctx;
		struct ams_err err = AMS_ERR_INIT;
		struct ams_aws_call *call = ams_share_call_new(
		    r, AMS_SVC_EC2, region, AMS_EC2_DESCRIBE_SNAPSHOT_ATTRIBUTE,
		    r->env->source, &ctx);

		ctx->index = i;
		if (ams_ec2_build_describe_snapshot_attribute(
			reg->snapshots[i], false, ams_ec2_call_param, call,
			&err)) {
			ams_aws_call_discard(call);
			ams_share_call_free(ctx);
			ams_share_region_fail(
			    reg, "describe-snapshot-attribute", &err);
			continue;
		}
		rs->reads_pending++;
		ams_aws_call_submit(call, on_snapshot_attribute, ctx);
	}
}

static void take_image(struct ams_job_region *reg,
		       const struct ams_ec2_image *img)
{
	size_t i, j;

	reg->found = true;
	reg->name = img->name ? xstrdup(img->name) : NULL;
	reg->state = img->state ? xstrdup(img->state) : NULL;
	reg->is_public = img->is_public;
	reg->deprecation_time = (int64_t)img->deprecation_time;
	ams_tags_copy(&reg->source_tags, &img->tags);
	for (i = 0; i < img->ndevices; i++) {
		const struct ams_ec2_block_device *d = &img->devices[i];
		bool seen = false;

		if (!d->has_ebs || !d->ebs.snapshot_id)
			continue;
		reg->snapshots = ams_share_strv_push(
		    reg->snapshots, &reg->nr_snapshots, d->ebs.snapshot_id);
		if (!d->ebs.encrypted || !d->ebs.kms_key_id)
			continue;
		for (j = 0; j < reg->nr_kms_keys; j++)
			seen = seen ||
			       !strcmp(reg->kms_keys[j], d->ebs.kms_key_id);
		if (!seen)
			reg->kms_keys = ams_share_strv_push(reg->kms_keys,
							    &reg->nr_kms_keys,
							    d->ebs.kms_key_id);
	}
}

static void describe_done(const struct ams_aws_result *res,
			  struct share_call *ctx)
{
	struct share_runner *r = ctx->r;
	struct ams_job_region *reg = &r->job->regions[ctx->region];
	struct ams_ec2_images images;
	const struct ams_ec2_image *img;
	struct ams_err err = AMS_ERR_INIT;

	if (res->err->code) {
		ams_share_region_fail(reg, "describe-images", res->err);
		return;
	}
	if (ams_ec2_parse_describe_images(&images, res->body, res->body_len,
					  &err)) {
		ams_share_region_fail(reg, "describe-images", &err);
		return;
	}
	img = ams_ec2_images_find(&images, reg->ami_id);
	if (!img) {
		ams_fail_aws(&err, 0, "InvalidAMIID.NotFound", res->request_id,
			     "the build account cannot see this image");
		ams_share_region_fail(reg, "describe-images", &err);
		ams_ec2_images_release(&images);
		return;
	}
	take_image(reg, img);
	ams_ec2_images_release(&images);
	if (reg->is_public)
		ams_log_warn("%s in %s is public: every AWS account can "
			     "launch it",
			     reg->ami_id, reg->region);
	if (r->job->cfg.share_snapshots && reg->nr_snapshots)
		read_snapshot_attributes(r, ctx->region);
	if (reg->nr_kms_keys)
		ams_share_kms_read(r, ctx->region);
}

static void attribute_done(const struct ams_aws_result *res,
			   struct share_call *ctx)
{
	struct share_runner *r = ctx->r;
	struct ams_job_region *reg = &r->job->regions[ctx->region];
	struct ams_ec2_image_attribute attr;
	struct ams_err err = AMS_ERR_INIT;
	size_t i;

	if (res->err->code) {
		ams_share_region_fail(reg, "describe-image-attribute",
				      res->err);
		return;
	}
	if (ams_ec2_parse_describe_image_attribute(&attr, res->body,
						   res->body_len, &err)) {
		ams_share_region_fail(reg, "describe-image-attribute", &err);
		return;
	}
	for (i = 0; i < attr.launch_permissions.n; i++) {
		const struct ams_ec2_perm *p = &attr.launch_permissions.v[i];

		push_perm(&reg->perms_before, &reg->nr_perms_before, p->kind,
			  p->value);
		ams_ec2_perms_add(&r->rs[ctx->region].perms, p->kind, p->value);
	}
	ams_ec2_image_attribute_release(&attr);
}

static void on_describe(const struct ams_aws_result *res, void *payload)
{
	struct share_call *ctx = payload;

	ctx->r->job->regions[ctx->region].api_calls++;
	describe_done(res, ctx);
	region_read_done(ctx->r, ctx->region);
	ams_share_call_free(ctx);
}

static void on_attribute(const struct ams_aws_result *res, void *payload)
{
	struct share_call *ctx = payload;

	ctx->r->job->regions[ctx->region].api_calls++;
	attribute_done(res, ctx);
	region_read_done(ctx->r, ctx->region);
	ams_share_call_free(ctx);
}

/* Exposed to share_kms.c through region_read_done's counter. */
void ams_share_region_read_start(struct share_runner *r, size_t region);
void ams_share_region_read_end(struct share_runner *r, size_t region);

void ams_share_region_read_start(struct share_runner *r, size_t region)
{
	r->rs[region].reads_pending++;
}

void ams_share_region_read_end(struct share_runner *r, size_t region)
{
	region_read_done(r, region);
}

static void read_source(struct share_runner *r, size_t region)
{
	struct ams_job_region *reg = &r->job->regions[region];
	const char *ids[1];
	struct ams_ec2_describe_images_req req;
	struct ams_err err = AMS_ERR_INIT;
	struct ams_aws_call *call;
	struct share_call *ctx;

	ids[0] = reg->ami_id;
	memset(&req, 0, sizeof(req));
	req.image_ids = ids;
	req.nimage_ids = 1;
	req.include_deprecated = true;
	r->rs[region].reads_pending = 2;
	call =
	    ams_share_call_new(r, AMS_SVC_EC2, region, AMS_EC2_DESCRIBE_IMAGES,
			       r->env->source, &ctx);
	if (ams_ec2_build_describe_images(&req, ams_ec2_call_param, call,
					  &err)) {
		ams_aws_call_discard(call);
		ams_share_call_free(ctx);
		ams_share_region_fail(reg, "describe-images", &err);
		region_read_done(r, region);
	} else {
		ams_aws_call_submit(call, on_describe, ctx);
	}
	call = ams_share_call_new(r, AMS_SVC_EC2, region,
				  AMS_EC2_DESCRIBE_IMAGE_ATTRIBUTE,
				  r->env->source, &ctx);
	if (ams_ec2_build_describe_image_attribute(
		reg->ami_id, "launchPermission", false, ams_ec2_call_param,
		call, &err)) {
		ams_aws_call_discard(call);
		ams_share_call_free(ctx);
		ams_share_region_fail(reg, "describe-image-attribute", &err);
		region_read_done(r, region);
		return;
	}
	ams_aws_call_submit(call, on_attribute, ctx);
}

/* ---- Between the phases: what every target gets ------------------------------ */

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

/* ---- Phase 2: the source side ------------------------------------------- */

static void on_deprecation(const struct ams_aws_result *res, void *payload)
{
	struct share_call *ctx = payload;
	struct ams_job_region *reg = &ctx->r->job->regions[ctx->region];
	struct ams_err err = AMS_ERR_INIT;

	reg->api_calls++;
	if (ctx->r->job->cfg.mode == AMS_JOB_PLAN) {
		reg->deprecation =
		    ams_ec2_dry_run_ok(res->err) ? AMS_OUT_OK : AMS_OUT_FAILED;
		if (reg->deprecation == AMS_OUT_FAILED)
			ams_share_region_fail(reg, "preflight", res->err);
	} else if (ams_share_canceled(ctx->r, res->err)) {
		ams_share_region_fail(reg, "enable-image-deprecation",
				      res->err);
		reg->deprecation = ams_share_canceled_outcome(res);
		ams_share_write_done(ctx->r, res);
	} else if (res->err->code ||
		   ams_ec2_parse_return(AMS_EC2_ENABLE_IMAGE_DEPRECATION,
					res->body, res->body_len, &err)) {
		ams_share_region_fail(reg, "enable-image-deprecation",
				      res->err->code ? res->err : &err);
		reg->deprecation = AMS_OUT_FAILED;
	} else {
		reg->deprecation = AMS_OUT_OK;
	}
	ams_share_call_free(ctx);
}

static void deprecate(struct share_runner *r, size_t region)
{
	struct ams_job *job = r->job;
	struct ams_job_region *reg = &job->regions[region];
	struct ams_err err = AMS_ERR_INIT;
	struct ams_aws_call *call;
	struct share_call *ctx;
	bool dry = job->cfg.mode == AMS_JOB_PLAN;

	if (reg->deprecation_time == job->cfg.deprecate_at ||
	    (dry && !job->cfg.preflight)) {
		reg->deprecation = AMS_OUT_OK;
		return;
	}
	if (job->cfg.mode == AMS_JOB_VERIFY) {
		ams_fail(&err, AMS_ENOTFOUND,
			 "drift: the deprecation time is not the one asked");
		ams_share_region_fail(reg, "verify", &err);
		reg->deprecation = AMS_OUT_FAILED;
		return;
	}
	call = ams_share_call_new(r, AMS_SVC_EC2, region,
				  AMS_EC2_ENABLE_IMAGE_DEPRECATION,
				  r->env->source, &ctx);
	if (ams_ec2_build_enable_image_deprecation(
		reg->ami_id, (time_t)job->cfg.deprecate_at, dry,
		ams_ec2_call_param, call, &err)) {
		ams_aws_call_discard(call);
		ams_share_call_free(ctx);
		ams_share_region_fail(reg, "enable-image-deprecation", &err);
		reg->deprecation = AMS_OUT_FAILED;
		return;
	}
	if (!dry)
		job->stats.writes++;
	ams_aws_call_submit(call, on_deprecation, ctx);
}

static void region_share_done(struct share_runner *r, size_t region,
			      enum ams_outcome share)
{
	struct ams_job *job = r->job;
	struct ams_job_region *reg = &job->regions[region];

	reg->share = share;
	if (ams_share_stopping(r))
		return; /* settle_interrupted() accounts for what is left */
	if (job->cfg.deprecate_at && share == AMS_OUT_OK)
		deprecate(r, region);
	if (reg->nr_kms_keys && job->cfg.kms_mode != AMS_KMS_NONE &&
	    reg->kms != AMS_OUT_FAILED)
		ams_share_kms_grants(r, region, start_targets);
	else
		start_targets(r, region);
}

static void on_modify(const struct ams_aws_result *res, void *payload)
{
	struct share_call *ctx = payload;
	struct share_runner *r = ctx->r;
	struct ams_job_region *reg = &r->job->regions[ctx->region];
	struct ams_err err = AMS_ERR_INIT;
	enum ams_outcome out = AMS_OUT_OK;

	reg->api_calls++;
	if (r->job->cfg.mode == AMS_JOB_PLAN) {
		/* A preflight: DryRunOperation means permitted. */
		if (!ams_ec2_dry_run_ok(res->err)) {
			ams_share_region_fail(reg, "preflight", res->err);
			out = AMS_OUT_FAILED;
		}
	} else if (ams_share_canceled(r, res->err)) {
		ams_share_region_fail(reg, "modify-image-attribute", res->err);
		out = ams_share_canceled_outcome(res);
		ams_share_write_done(r, res);
	} else if (res->err->code) {
		ams_share_region_fail(reg, "modify-image-attribute", res->err);
		out = AMS_OUT_FAILED;
	} else if (ams_ec2_parse_return(AMS_EC2_MODIFY_IMAGE_ATTRIBUTE,
					res->body, res->body_len, &err)) {
		ams_share_region_fail(reg, "modify-image-attribute", &err);
		out = AMS_OUT_FAILED;
	}
	if (r->job->cfg.revoke) {
		reg->share = out;
		ams_share_kms_revoke(r, ctx->region);
	} else {
		region_share_done(r, ctx->region, out);
	}
	ams_share_call_free(ctx);
}

/* The grants this run adds: targets missing from the launch permission. */
static void missing_perms(struct share_runner *r, size_t region,
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

/* Revoke: the targets' grants that are there to take away. */
static void present_perms(struct share_runner *r, size_t region,
			  struct ams_ec2_perms *out)
{
	struct ams_job *job = r->job;
	const struct ams_ec2_perms *have = &r->rs[region].perms;
	size_t i;

	for (i = 0; i < job->nr_accounts; i++)
		if (ams_ec2_perms_has(have, AMS_EC2_PERM_USER,
				      job->accounts[i].id))
			ams_ec2_perms_add(out, AMS_EC2_PERM_USER,
					  job->accounts[i].id);
	for (i = 0; i < job->cfg.nr_org_arns; i++)
		if (ams_ec2_perms_has(have, AMS_EC2_PERM_ORG,
				      job->cfg.org_arns[i]))
			ams_ec2_perms_add(out, AMS_EC2_PERM_ORG,
					  job->cfg.org_arns[i]);
	for (i = 0; i < job->cfg.nr_ou_arns; i++)
		if (ams_ec2_perms_has(have, AMS_EC2_PERM_OU,
				      job->cfg.ou_arns[i]))
			ams_ec2_perms_add(out, AMS_EC2_PERM_OU,
					  job->cfg.ou_arns[i]);
}

/*
 * One ModifyImageAttribute adding (or, for revoke, removing) perms, or
 * the outcome without a call when there is nothing to change or the mode
 * only reads. Returns true when a call was submitted.
 */
static bool modify_perms(struct share_runner *r, size_t region,
			 const struct ams_ec2_perms *perms)
{
	struct ams_job *job = r->job;
	struct ams_job_region *reg = &job->regions[region];
	struct ams_ec2_modify_image_req req;
	struct ams_err err = AMS_ERR_INIT;
	struct ams_aws_call *call;
	struct share_call *ctx;

	if (!perms->n || (job->cfg.mode == AMS_JOB_PLAN && !job->cfg.preflight))
		return false;
	if (job->cfg.mode == AMS_JOB_VERIFY) {
		ams_fail(&err, AMS_ENOTFOUND,
			 "drift: %zu launch permission%s %s (%s%s)", perms->n,
			 perms->n == 1 ? "" : "s",
			 job->cfg.revoke ? "still there" : "missing",
			 job->cfg.revoke ? reg->perms_removed[0]
					 : reg->perms_added[0],
			 perms->n > 1 ? ", ..." : "");
		ams_share_region_fail(reg, "verify", &err);
		reg->share = AMS_OUT_FAILED;
		return false;
	}
	if (!job->cfg.revoke &&
	    r->rs[region].perms.n + perms->n > AMS_EC2_AMI_SHARE_MAX_ENTITIES) {
		ams_fail(&err, AMS_ELIMIT,
			 "sharing would give %zu entities; AWS allows %d per "
			 "AMI and region",
			 r->rs[region].perms.n + perms->n,
			 AMS_EC2_AMI_SHARE_MAX_ENTITIES);
		ams_share_region_fail(reg, "modify-image-attribute", &err);
		reg->share = AMS_OUT_FAILED;
		return false;
	}
	memset(&req, 0, sizeof(req));
	req.image_id = reg->ami_id;
	if (job->cfg.revoke) {
		req.remove = perms->v;
		req.nremove = perms->n;
	} else {
		req.add = perms->v;
		req.nadd = perms->n;
	}
	req.dry_run = job->cfg.mode == AMS_JOB_PLAN;
	call = ams_share_call_new(r, AMS_SVC_EC2, region,
				  AMS_EC2_MODIFY_IMAGE_ATTRIBUTE,
				  r->env->source, &ctx);
	if (ams_ec2_build_modify_image_attribute(&req, ams_ec2_call_param, call,
						 &err)) {
		ams_aws_call_discard(call);
		ams_share_call_free(ctx);
		ams_share_region_fail(reg, "modify-image-attribute", &err);
		reg->share = AMS_OUT_FAILED;
		return false;
	}
	if (!req.dry_run)
		job->stats.writes++;
	ams_aws_call_submit(call, on_modify, ctx);
	return true;
}

static void share_region(struct share_runner *r, size_t region)
{
	struct ams_job_region *reg = &r->job->regions[region];
	struct ams_ec2_perms add = { NULL, 0, 0 };
	size_t i;

	missing_perms(r, region, &add);
	for (i = 0; i < add.n; i++)
		push_perm(&reg->perms_added, &reg->nr_perms_added,
			  add.v[i].kind, add.v[i].value);
	if (!modify_perms(r, region, &add))
		region_share_done(r, region,
				  reg->share == AMS_OUT_FAILED ? AMS_OUT_FAILED
							       : AMS_OUT_OK);
	ams_ec2_perms_release(&add);
}

static void snapshot_share_settle(struct share_runner *r, size_t region)
{
	struct ams_job_region *reg = &r->job->regions[region];
	struct share_region *rs = &r->rs[region];

	if (rs->snap_writes_pending)
		return;
	reg->snapshot_share = rs->snap_failed	 ? AMS_OUT_FAILED
			      : rs->snap_unknown ? AMS_OUT_UNKNOWN
			      : rs->snap_skipped ? AMS_OUT_SKIPPED
						 : AMS_OUT_OK;
}

static void on_snapshot_modify(const struct ams_aws_result *res, void *payload)
{
	struct share_call *ctx = payload;
	struct share_runner *r = ctx->r;
	struct ams_job_region *reg = &r->job->regions[ctx->region];
	struct ams_err err = AMS_ERR_INIT;

	reg->api_calls++;
	if (ams_share_canceled(r, res->err)) {
		ams_share_write_done(r, res);
		ams_share_region_fail(reg, "modify-snapshot-attribute",
				      res->err);
		if (res->attempts)
			r->rs[ctx->region].snap_unknown = true;
		else
			r->rs[ctx->region].snap_skipped = true;
	} else if (res->err->code ||
		   ams_ec2_parse_return(AMS_EC2_MODIFY_SNAPSHOT_ATTRIBUTE,
					res->body, res->body_len, &err)) {
		ams_share_region_fail(reg, "modify-snapshot-attribute",
				      res->err->code ? res->err : &err);
		r->rs[ctx->region].snap_failed = true;
	}
	r->rs[ctx->region].snap_writes_pending--;
	snapshot_share_settle(r, ctx->region);
	ams_share_call_free(ctx);
}

static void modify_one_snapshot(struct share_runner *r, size_t region, size_t s,
				const struct ams_ec2_perms *perms)
{
	struct ams_job_region *reg = &r->job->regions[region];
	struct ams_ec2_modify_snapshot_req req;
	struct ams_err err = AMS_ERR_INIT;
	size_t off;

	for (off = 0; off < perms->n; off += AMS_EC2_SNAPSHOT_MODIFY_MAX) {
		struct ams_aws_call *call;
		struct share_call *ctx;
		size_t n = perms->n - off;

		if (n > AMS_EC2_SNAPSHOT_MODIFY_MAX)
			n = AMS_EC2_SNAPSHOT_MODIFY_MAX;
		memset(&req, 0, sizeof(req));
		req.snapshot_id = reg->snapshots[s];
		if (r->job->cfg.revoke) {
			req.remove = perms->v + off;
			req.nremove = n;
		} else {
			req.add = perms->v + off;
			req.nadd = n;
		}
		call = ams_share_call_new(r, AMS_SVC_EC2, region,
					  AMS_EC2_MODIFY_SNAPSHOT_ATTRIBUTE,
					  r->env->source, &ctx);
		if (ams_ec2_build_modify_snapshot_attribute(
			&req, ams_ec2_call_param, call, &err)) {
			ams_aws_call_discard(call);
			ams_share_call_free(ctx);
			ams_share_region_fail(reg, "modify-snapshot-attribute",
					      &err);
			r->rs[region].snap_failed = true;
			return;
		}
		r->job->stats.writes++;
		r->rs[region].snap_writes_pending++;
		ams_aws_call_submit(call, on_snapshot_modify, ctx);
	}
}

/* Snapshot permissions to add (or, for revoke, to remove). */
static void share_snapshots(struct share_runner *r, size_t region)
{
	struct ams_job *job = r->job;
	struct ams_job_region *reg = &job->regions[region];
	struct share_region *rs = &r->rs[region];
	size_t s, i;

	for (s = 0; s < reg->nr_snapshots; s++) {
		struct ams_ec2_perms change = { NULL, 0, 0 };

		for (i = 0; i < job->nr_accounts; i++) {
			const char *id = job->accounts[i].id;
			char *text;

			if (ams_ec2_perms_has(&rs->snaps[s], AMS_EC2_PERM_USER,
					      id) != job->cfg.revoke)
				continue;
			ams_ec2_perms_add(&change, AMS_EC2_PERM_USER, id);
			text = xasprintf("%s:%s", reg->snapshots[s], id);
			reg->snapshot_perms_added = ams_share_strv_push(
			    reg->snapshot_perms_added,
			    &reg->nr_snapshot_perms_added, text);
			free(text);
		}
		if (change.n && job->cfg.mode == AMS_JOB_VERIFY) {
			struct ams_err err = AMS_ERR_INIT;

			ams_fail(&err, AMS_ENOTFOUND,
				 "drift: %s: createVolumePermission %s for "
				 "%zu account%s",
				 reg->snapshots[s],
				 job->cfg.revoke ? "still there" : "missing",
				 change.n, change.n == 1 ? "" : "s");
			ams_share_region_fail(reg, "verify", &err);
			rs->snap_failed = true;
		} else if (change.n && job->cfg.mode == AMS_JOB_SHARE) {
			modify_one_snapshot(r, region, s, &change);
		}
		ams_ec2_perms_release(&change);
	}
	snapshot_share_settle(r, region);
}

/* Revoke, after every target of the region is done. */
static void revoke_source(struct share_runner *r, size_t region)
{
	struct ams_job_region *reg = &r->job->regions[region];
	struct ams_ec2_perms remove = { NULL, 0, 0 };
	size_t i;

	if (r->job->cfg.share_snapshots && r->rs[region].snaps)
		share_snapshots(r, region);
	present_perms(r, region, &remove);
	for (i = 0; i < remove.n; i++)
		push_perm(&reg->perms_removed, &reg->nr_perms_removed,
			  remove.v[i].kind, remove.v[i].value);
	if (!modify_perms(r, region, &remove)) {
		if (reg->share != AMS_OUT_FAILED)
			reg->share = AMS_OUT_OK;
		ams_share_kms_revoke(r, region);
	}
	ams_ec2_perms_release(&remove);
}

/* ---- Phase 2: the targets ------------------------------------------------ */

struct ams_identity *ams_share_account_identity(struct share_runner *r,
						size_t a, struct ams_err *err)
{
	struct ams_job *job = r->job;
	struct ams_job_account *acct = &job->accounts[a];
	struct ams_creds_role_opts opts;

	if (a >= r->nr_providers) {
		r->providers = xreallocarray(r->providers, job->nr_accounts,
					     sizeof(*r->providers));
		memset(r->providers + r->nr_providers, 0,
		       (job->nr_accounts - r->nr_providers) *
			   sizeof(*r->providers));
		r->nr_providers = job->nr_accounts;
	}
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

/* After the tags: the SSM parameter, or done. */
static void item_next(struct share_runner *r, struct ams_job_item *it)
{
	if (r->job->cfg.ssm_parameter)
		ams_share_ssm_item(r, it->region, it->account);
	else
		ams_share_item_ok(r, it);
}

static void on_target_tag(const struct ams_aws_result *res, void *payload)
{
	struct share_call *ctx = payload;
	struct share_runner *r = ctx->r;
	struct ams_job *job = r->job;
	struct ams_job_item *it = ams_job_item(job, ctx->region, ctx->account);
	const char *action =
	    job->cfg.revoke ? AMS_EC2_DELETE_TAGS : AMS_EC2_CREATE_TAGS;
	const char *step = job->cfg.revoke ? "delete-tags" : "create-tags";
	struct ams_err err = AMS_ERR_INIT;

	it->attempts += res->attempts;
	if (job->cfg.mode != AMS_JOB_PLAN) {
		ams_share_item_wrote(it, res);
		ams_share_write_done(r, res);
	}
	if (job->cfg.mode == AMS_JOB_PLAN) {
		if (ams_ec2_dry_run_ok(res->err))
			item_next(r, it);
		else
			ams_share_item_fail(it, "preflight", res->err);
	} else if (res->err->code) {
		ams_share_item_fail(it, step, res->err);
	} else if (ams_ec2_parse_return(action, res->body, res->body_len,
					&err)) {
		ams_share_item_fail(it, step, &err);
	} else {
		item_next(r, it);
	}
	ams_share_call_free(ctx);
}

static bool tag_limit_ok(struct ams_job_item *it,
			 const struct ams_job_region *reg,
			 const struct ams_tags *before)
{
	struct ams_err err = AMS_ERR_INIT;
	size_t n = before->n, i;

	/* The target's own tags plus the keys it does not have yet. */
	for (i = 0; i < reg->desired.n; i++)
		if (!ams_tags_get(before, reg->desired.v[i].key))
			n++;
	if (n <= AMS_EC2_MAX_TAGS_PER_RESOURCE)
		return true;
	ams_fail_aws(&err, 0, "TagLimitExceeded", NULL, "");
	snprintf(err.msg, sizeof(err.msg),
		 "the image would carry %zu tags in this account (%zu of "
		 "its own); AWS allows %d",
		 n, before->n, AMS_EC2_MAX_TAGS_PER_RESOURCE);
	ams_share_item_fail(it, "tag-limit", &err);
	return false;
}

/*
 * Revoke: the tags amishare manages that the target holds. A key it
 * copies or sets counts only with the value it would write (the target
 * may have its own tag of that name); a provenance key counts whatever
 * its value (an older build wrote it).
 */
static void managed_tags(struct ams_tags *out, const struct ams_job *job,
			 const struct ams_job_region *reg,
			 const struct ams_tags *have)
{
	const char *prefix = job->cfg.provenance_prefix;
	size_t i;

	for (i = 0; i < have->n; i++) {
		const struct ams_tag *t = &have->v[i];
		const char *want = ams_tags_get(&reg->desired, t->key);

		if ((want && !strcmp(want, t->value)) ||
		    (prefix && *prefix &&
		     !strncmp(t->key, prefix, strlen(prefix))))
			ams_tags_set(out, t->key, t->value);
	}
}

/* Writes (or checks) the item's tags, given the target's own. */
static void write_target_tags(struct share_runner *r, size_t region, size_t a,
			      const struct ams_tags *before)
{
	struct ams_job *job = r->job;
	struct ams_job_item *it = ams_job_item(job, region, a);
	struct ams_job_region *reg = &job->regions[region];
	struct ams_tags missing = AMS_TAGS_INIT;
	struct ams_tags *change = job->cfg.revoke ? &it->removed : &missing;
	const char *ids[1];
	struct ams_err err = AMS_ERR_INIT;
	struct ams_aws_call *call;
	struct share_call *ctx;
	bool dry = job->cfg.mode == AMS_JOB_PLAN;
	enum ams_code rc;

	it->tags_before = (unsigned)before->n;
	if (job->cfg.revoke)
		managed_tags(change, job, reg, before);
	else
		it->written = ams_tags_missing(change, &reg->desired, before);
	if (!change->n) {
		it->unchanged = true;
		item_next(r, it);
		goto out;
	}
	if (!job->cfg.revoke && !tag_limit_ok(it, reg, before))
		goto out;
	if (job->cfg.mode == AMS_JOB_VERIFY) {
		ams_fail(
		    &err, AMS_ENOTFOUND, "drift: %zu tag%s %s (first: '%s')",
		    change->n, change->n == 1 ? "" : "s",
		    job->cfg.revoke ? "still there" : "missing or different",
		    change->v[0].key);
		ams_share_item_fail(it, "verify", &err);
		goto out;
	}
	if (dry && !job->cfg.preflight) {
		item_next(r, it);
		goto out;
	}
	ids[0] = reg->ami_id;
	call = ams_share_call_new(r, AMS_SVC_EC2, region,
				  job->cfg.revoke ? AMS_EC2_DELETE_TAGS
						  : AMS_EC2_CREATE_TAGS,
				  ams_share_account_identity(r, a, &err), &ctx);
	ctx->account = a;
	if (job->cfg.revoke)
		rc =
		    ams_ec2_build_delete_tags(ids, 1, change->v, change->n, dry,
					      ams_ec2_call_param, call, &err);
	else
		rc =
		    ams_ec2_build_create_tags(ids, 1, change->v, change->n, dry,
					      ams_ec2_call_param, call, &err);
	if (rc) {
		ams_aws_call_discard(call);
		ams_share_call_free(ctx);
		ams_share_item_fail(
		    it, job->cfg.revoke ? "delete-tags" : "create-tags", &err);
		goto out;
	}
	if (!dry)
		job->stats.writes++;
	ams_aws_call_submit(call, on_target_tag, ctx);
out:
	ams_tags_release(&missing);
}

/* Whether a failed target call failed for want of the role's credentials. */
static bool assume_failed(struct share_runner *r, size_t a,
			  const struct ams_aws_result *res)
{
	struct ams_job_account *acct = &r->job->accounts[a];
	struct ams_identity *id = ams_creds_provider_identity(r->providers[a]);

	if (ams_identity_creds(id))
		return false;
	if (acct->assume != AMS_OUT_FAILED) {
		acct->assume = AMS_OUT_FAILED;
		ams_err_copy(ams_err_slot(&acct->assume_err), res->err);
	}
	return true;
}

static void target_describe_done(const struct ams_aws_result *res,
				 struct share_call *ctx)
{
	struct share_runner *r = ctx->r;
	struct ams_job *job = r->job;
	struct ams_job_item *it = ams_job_item(job, ctx->region, ctx->account);
	struct ams_job_region *reg = &job->regions[ctx->region];
	struct ams_ec2_images images;
	const struct ams_ec2_image *img;
	struct ams_err err = AMS_ERR_INIT;
	bool not_found;

	it->attempts += res->attempts;
	if (res->err->code && assume_failed(r, ctx->account, res)) {
		ams_share_item_fail(it, "assume-role", res->err);
		return;
	}
	job->accounts[ctx->account].assume = AMS_OUT_OK;
	not_found = res->err->code &&
		    !strcmp(res->err->aws_code, "InvalidAMIID.NotFound");
	if (not_found && (job->cfg.revoke || job->cfg.mode == AMS_JOB_PLAN)) {
		/* Revoke: nothing of ours is visible. Plan: not shared yet. */
		if (!job->cfg.revoke)
			it->written = reg->desired.n >= 64
					  ? ~UINT64_C(0)
					  : (UINT64_C(1) << reg->desired.n) - 1;
		it->unchanged = job->cfg.revoke;
		item_next(r, it);
		return;
	}
	if (res->err->code) {
		ams_share_item_fail(it, "describe-images", res->err);
		return;
	}
	if (ams_ec2_parse_describe_images(&images, res->body, res->body_len,
					  &err)) {
		ams_share_item_fail(it, "describe-images", &err);
		return;
	}
	img = ams_ec2_images_find(&images, reg->ami_id);
	if (img) {
		it->visible = true;
		write_target_tags(r, ctx->region, ctx->account, &img->tags);
		ams_ec2_images_release(&images);
		return;
	}
	ams_ec2_images_release(&images);
	if (job->cfg.revoke) {
		it->unchanged = true;
		item_next(r, it);
		return;
	}
	ams_fail_aws(&err, 0, "InvalidAMIID.NotFound", res->request_id,
		     "the target account cannot see the image");
	ams_share_item_fail(it, "describe-images", &err);
}

static void on_target_describe(const struct ams_aws_result *res, void *payload)
{
	struct share_call *ctx = payload;

	target_describe_done(res, ctx);
	ams_share_call_free(ctx);
}

static void start_item(struct share_runner *r, size_t region, size_t a)
{
	struct ams_job *job = r->job;
	struct ams_job_item *it = ams_job_item(job, region, a);
	struct ams_job_region *reg = &job->regions[region];
	struct ams_ec2_describe_images_req req;
	struct ams_err err = AMS_ERR_INIT;
	struct ams_identity *id;
	struct ams_aws_call *call;
	struct share_call *ctx;
	const char *ids[1];

	it->started_ms = ams_clock_mono_ms();
	if (job->accounts[a].assume == AMS_OUT_FAILED) {
		ams_share_item_fail(it, "assume-role",
				    ams_err_slot(&job->accounts[a].assume_err));
		return;
	}
	id = ams_share_account_identity(r, a, &err);
	if (!id) {
		job->accounts[a].assume = AMS_OUT_FAILED;
		ams_err_copy(ams_err_slot(&job->accounts[a].assume_err), &err);
		ams_share_item_fail(it, "assume-role", &err);
		return;
	}
	ids[0] = reg->ami_id;
	memset(&req, 0, sizeof(req));
	req.image_ids = ids;
	req.nimage_ids = 1;
	req.include_deprecated = true;
	call = ams_share_call_new(r, AMS_SVC_EC2, region,
				  AMS_EC2_DESCRIBE_IMAGES, id, &ctx);
	ctx->account = a;
	if (ams_ec2_build_describe_images(&req, ams_ec2_call_param, call,
					  &err)) {
		ams_aws_call_discard(call);
		ams_share_call_free(ctx);
		ams_share_item_fail(it, "describe-images", &err);
		return;
	}
	/* A share just made may take a while to reach the target. */
	if (job->cfg.mode == AMS_JOB_SHARE && !job->cfg.revoke &&
	    job->cfg.visibility_wait_s)
		ams_aws_call_retry_code(call, "InvalidAMIID.NotFound",
					job->cfg.visibility_wait_s * 1000ULL);
	ams_aws_call_submit(call, on_target_describe, ctx);
}

/*
 * The started region whose next target comes first, or SIZE_MAX: regions
 * shared at about the same time are worked account by account, so one
 * AssumeRole serves every Region of an account while it is fresh.
 */
static size_t pick_region(const struct share_runner *r)
{
	size_t i, best = SIZE_MAX;

	for (i = 0; i < r->job->nr_regions; i++) {
		const struct share_region *rs = &r->rs[i];

		if (!rs->targets_started ||
		    rs->next_account >= r->job->nr_accounts)
			continue;
		if (best == SIZE_MAX ||
		    rs->next_account < r->rs[best].next_account)
			best = i;
	}
	return best;
}

/* Starts targets until the window is full; safe to call from anywhere. */
static void pump(struct share_runner *r)
{
	struct ams_job *job = r->job;
	struct ams_job_item *it;
	size_t region, a;

	if (r->pumping)
		return; /* an item settled while starting: the loop goes on */
	r->pumping = true;
	while (r->active < r->window && !ams_share_stopping(r)) {
		region = pick_region(r);
		if (region == SIZE_MAX)
			break;
		a = r->rs[region].next_account++;
		it = ams_job_item(job, region, a);
		r->in_window[it - job->items] = 1;
		r->active++;
		if (job->regions[region].share == AMS_OUT_FAILED &&
		    job->cfg.mode == AMS_JOB_SHARE && !job->cfg.revoke) {
			it->started_ms = ams_clock_mono_ms();
			ams_share_item_fail(it, "share",
					    &job->regions[region].err);
			continue;
		}
		start_item(r, region, a);
	}
	r->pumping = false;
}

static void start_targets(struct share_runner *r, size_t region)
{
	struct ams_job *job = r->job;

	r->rs[region].targets_started = true;
	if (job->cfg.revoke)
		r->rs[region].items_pending = (unsigned)job->nr_accounts;
	if (!job->nr_accounts && job->cfg.revoke)
		revoke_source(r, region);
	pump(r);
}

/* ---- Driving ---------------------------------------------------------------- */

/*
 * Frees the credentials of the accounts whose items have all settled.
 * Called between turns of the engine, where no callback holds one.
 */
static void release_finished(struct share_runner *r)
{
	size_t i, a;

	for (i = 0; i < r->nr_finished; i++) {
		a = r->finished[i];
		ams_creds_provider_free(r->providers[a]);
		r->providers[a] = NULL;
	}
	r->nr_finished = 0;
}

/* Runs the engine until idle, stopping it when the stop flag is raised. */
static enum ams_code drive(struct share_runner *r, struct ams_err *err)
{
	enum ams_code rc = AMS_OK;

	while (ams_http_pending(r->http)) {
		release_finished(r);
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
		if (it->started_ms || it->writes_sent) {
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

static void fail_region_items(struct share_runner *r, size_t region)
{
	struct ams_job *job = r->job;
	struct ams_job_region *reg = &job->regions[region];
	size_t a;

	reg->share = AMS_OUT_FAILED;
	for (a = 0; a < job->nr_accounts; a++) {
		struct ams_job_item *it = ams_job_item(job, region, a);

		it->started_ms = ams_clock_mono_ms();
		ams_share_item_fail(it, "source", &reg->err);
	}
}

static void phase2(struct share_runner *r)
{
	struct ams_job *job = r->job;
	size_t i;

	for (i = 0; i < job->nr_regions; i++) {
		struct ams_job_region *reg = &job->regions[i];

		if (ams_share_stopping(r))
			break;
		if (reg->describe != AMS_OUT_OK || reg->kms == AMS_OUT_FAILED) {
			fail_region_items(r, i);
			continue;
		}
		if (job->cfg.revoke) {
			start_targets(r, i);
			continue;
		}
		if (job->cfg.share_snapshots)
			share_snapshots(r, i);
		share_region(r, i);
	}
}

static void collect_stats(struct share_runner *r)
{
	struct ams_http_stats st;

	ams_http_get_stats(&st, r->http);
	r->job->stats.retries = (unsigned long)st.retries;
	r->job->stats.throttled = (unsigned long)st.throttled;
	r->job->stats.connections = (unsigned long)st.connects;
}

static void runner_release(struct share_runner *r)
{
	struct ams_job *job = r->job;
	size_t i, s;

	for (i = 0; i < r->nr_providers; i++)
		ams_creds_provider_free(r->providers[i]);
	ams_creds_provider_free(r->org_provider);
	for (i = 0; i < job->nr_regions; i++) {
		ams_ec2_perms_release(&r->rs[i].perms);
		for (s = 0; r->rs[i].snaps && s < job->regions[i].nr_snapshots;
		     s++)
			ams_ec2_perms_release(&r->rs[i].snaps[s]);
		free(r->rs[i].snaps);
		ams_share_kms_release(r, i);
	}
	free(r->rs);
	free(r->providers);
	free(r->in_window);
	r->in_window = NULL;
	free(r->items_left);
	free(r->finished);
}

enum ams_code ams_share_run(struct ams_job *job,
			    const struct ams_share_env *env,
			    struct ams_err *err)
{
	struct share_runner r;
	enum ams_code rc = AMS_OK;
	uint64_t t0 = ams_clock_mono_ms();
	size_t i;

	memset(&r, 0, sizeof(r));
	r.job = job;
	r.env = env;
	r.http = ams_aws_http(env->aws);
	r.rs = xcalloc(job->nr_regions ? job->nr_regions : 1, sizeof(*r.rs));
	current_runner = &r;
	job->started_at = (int64_t)ams_clock_wall();

	if (job->cfg.org_role_arn) {
		ams_share_orgs_expand(&r);
		rc = drive(&r, err);
	}
	ams_job_make_items(job);
	r.in_window = xcalloc(job->nr_items ? job->nr_items : 1, 1);
	r.items_left = xcalloc(job->nr_accounts ? job->nr_accounts : 1,
			       sizeof(*r.items_left));
	r.finished = xcalloc(job->nr_accounts ? job->nr_accounts : 1,
			     sizeof(*r.finished));
	for (i = 0; i < job->nr_accounts; i++)
		r.items_left[i] = (unsigned)job->nr_regions;
	r.window = 4 * (size_t)ams_http_get_opts(r.http)->max_in_flight;
	for (i = 0; !rc && i < job->nr_regions; i++)
		read_source(&r, i);
	if (!rc)
		rc = drive(&r, err);
	if (!rc && !ams_share_stopping(&r))
		rc = check_desired(job, err);
	if (!rc && !ams_share_stopping(&r)) {
		phase2(&r);
		rc = drive(&r, err);
	}
	/*
	 * Only a stop leaves items undecided on purpose; an early return
	 * (AMS_EUSAGE, an engine failure) leaves them pending for the caller
	 * to fail with its reason.
	 */
	if (ams_share_stopping(&r)) {
		job->interrupted = true;
		settle_interrupted(job);
	}
	collect_stats(&r);
	job->finished_at = (int64_t)ams_clock_wall();
	job->duration_ms = ams_clock_mono_ms() - t0;
	runner_release(&r);
	current_runner = NULL;
	return rc;
}
