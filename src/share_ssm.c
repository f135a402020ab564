/*
 * The AMI id in an SSM parameter in every target account and region
 * (DataType aws:ec2:image), so consumers launch from
 * "resolve:ssm:<name>" instead of pasting ids. The parameter is read
 * first and written only when it holds another value, so a rerun makes
 * no writes; revoke deletes it only while it still holds this AMI.
 *
 * AWS validates aws:ec2:image values asynchronously: PutParameter
 * succeeds before the check, and a value the target cannot see is
 * dropped silently later. amishare writes only after the target has seen
 * the image, which is what that check needs.
 */
#include <stdlib.h>
#include <string.h>

#include "ssm.h"
#include "share_int.h"

static void finish(struct share_runner *r, struct ams_job_item *it,
		   const char *step, const struct ams_err *err)
{
	if (err && err->code) {
		it->ssm = AMS_OUT_FAILED;
		ams_share_item_fail(it, step, err);
		return;
	}
	it->ssm = AMS_OUT_OK;
	ams_share_item_ok(r, it);
}

static void on_write(const struct ams_aws_result *res, void *payload)
{
	struct share_call *ctx = payload;
	struct ams_job_item *it =
	    ams_job_item(ctx->r->job, ctx->region, ctx->account);
	struct ams_ssm_put_result put;
	struct ams_err err = AMS_ERR_INIT;
	bool revoke = ctx->r->job->cfg.revoke;

	it->attempts += res->attempts;
	ams_share_item_wrote(it, res);
	ams_share_write_done(ctx->r, res);
	if (!res->err->code && !revoke &&
	    !ams_ssm_parse_put_parameter(&put, res->body, res->body_len, &err))
		ams_ssm_put_result_release(&put);
	finish(ctx->r, it, revoke ? "delete-parameter" : "put-parameter",
	       res->err->code ? res->err : &err);
	ams_share_call_free(ctx);
}

static void put_or_delete(struct share_runner *r, size_t region, size_t a)
{
	struct ams_job *job = r->job;
	struct ams_job_item *it = ams_job_item(job, region, a);
	struct ams_ssm_put_parameter_req req;
	struct ams_err err = AMS_ERR_INIT;
	struct ams_identity *id = ams_share_account_identity(r, a, &err);
	struct share_call *ctx;
	struct ams_aws_call *call;
	enum ams_code rc;

	call = ams_share_call_new(
	    r, AMS_SVC_SSM, region,
	    job->cfg.revoke ? "DeleteParameter" : "PutParameter", id, &ctx);
	ctx->account = a;
	if (job->cfg.revoke) {
		rc = ams_ssm_build_delete_parameter(
		    ams_aws_call_json(call), job->cfg.ssm_parameter, &err);
	} else {
		memset(&req, 0, sizeof(req));
		req.name = job->cfg.ssm_parameter;
		req.value = job->regions[region].ami_id;
		req.type = "String";
		req.data_type = "aws:ec2:image";
		req.overwrite = true;
		rc = ams_ssm_build_put_parameter(ams_aws_call_json(call), &req,
						 &err);
	}
	if (rc) {
		ams_aws_call_discard(call);
		ams_share_call_free(ctx);
		finish(r, it, "put-parameter", &err);
		return;
	}
	job->stats.writes++;
	ams_aws_call_submit(call, on_write, ctx);
}

static void on_read(const struct ams_aws_result *res, void *payload)
{
	struct share_call *ctx = payload;
	struct share_runner *r = ctx->r;
	struct ams_job *job = r->job;
	struct ams_job_item *it = ams_job_item(job, ctx->region, ctx->account);
	const char *ami = job->regions[ctx->region].ami_id;
	struct ams_ssm_parameter p;
	struct ams_err err = AMS_ERR_INIT;
	bool holds_ami = false;

	it->attempts += res->attempts;
	if (res->err->code && strcmp(res->err->aws_code, "ParameterNotFound")) {
		finish(r, it, "get-parameter", res->err);
		goto out;
	}
	if (!res->err->code) {
		if (ams_ssm_parse_get_parameter(&p, res->body, res->body_len,
						&err)) {
			finish(r, it, "get-parameter", &err);
			goto out;
		}
		holds_ami = p.value && !strcmp(p.value, ami);
		ams_ssm_parameter_release(&p);
	}
	/* Nothing to do: it holds the AMI (share), or not (revoke). */
	if (holds_ami != job->cfg.revoke) {
		it->ssm_unchanged = true;
		finish(r, it, NULL, NULL);
	} else if (job->cfg.mode == AMS_JOB_VERIFY) {
		ams_fail(&err, AMS_ENOTFOUND, "drift: parameter '%s' %s",
			 job->cfg.ssm_parameter,
			 job->cfg.revoke ? "still holds this AMI"
					 : "does not hold this AMI");
		finish(r, it, "verify", &err);
	} else if (job->cfg.mode == AMS_JOB_PLAN) {
		finish(r, it, NULL, NULL);
	} else {
		put_or_delete(r, ctx->region, ctx->account);
	}
out:
	ams_share_call_free(ctx);
}

void ams_share_ssm_item(struct share_runner *r, size_t region, size_t a)
{
	struct ams_job *job = r->job;
	struct ams_job_item *it = ams_job_item(job, region, a);
	struct ams_err err = AMS_ERR_INIT;
	struct ams_identity *id = ams_share_account_identity(r, a, &err);
	struct share_call *ctx;
	struct ams_aws_call *call;

	call = ams_share_call_new(r, AMS_SVC_SSM, region, "GetParameter", id,
				  &ctx);
	ctx->account = a;
	if (ams_ssm_build_get_parameter(ams_aws_call_json(call),
					job->cfg.ssm_parameter, false, &err)) {
		ams_aws_call_discard(call);
		ams_share_call_free(ctx);
		finish(r, it, "get-parameter", &err);
		return;
	}
	ams_aws_call_submit(call, on_read, ctx);
}
