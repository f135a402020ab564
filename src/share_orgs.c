/*
 * Organisation expansion: the active member accounts of every --org-arn
 * and --ou-arn, listed through a role in the management (or a delegated
 * administrator) account and added to the job as targets, so the image
 * is tagged in each of them like an explicit account.
 *
 * An OU is walked with ListAccountsForParent and
 * ListOrganizationalUnitsForParent, recursively; an organisation from its
 * roots (ListRoots). Every listing is paginated: a page may be empty and
 * still carry a NextToken, so only a missing token ends it. Suspended
 * and closed accounts, the build account and --exclude-accounts are left
 * out.
 */
#include <stdlib.h>
#include <string.h>

#include "creds.h"
#include "log.h"
#include "orgs.h"
#include "share_int.h"

enum list_kind { LIST_ROOTS, LIST_ACCOUNTS, LIST_OUS };

static void list(struct share_runner *r, enum list_kind kind,
		 const char *parent, const char *via, const char *token);

static void org_fail(struct share_runner *r, const char *step,
		     const struct ams_err *err)
{
	struct ams_job *job = r->job;

	if (job->org_err.code == AMS_OK)
		job->org_step = step;
	ams_err_copy(&job->org_err, err);
}

static bool excluded(const struct ams_job *job, const char *id)
{
	size_t i;

	if (job->source_account && !strcmp(job->source_account, id))
		return true;
	for (i = 0; i < job->cfg.nr_exclude_accounts; i++)
		if (!strcmp(job->cfg.exclude_accounts[i], id))
			return true;
	return false;
}

/* The call context carries the parent id in text and the ARN in index. */
struct list_ctx {
	struct share_runner *r;
	enum list_kind kind;
	char *parent;
	const char *via;
};

static const char *action_of(enum list_kind kind)
{
	switch (kind) {
	case LIST_ROOTS: return AMS_ORGS_LIST_ROOTS;
	case LIST_ACCOUNTS: return AMS_ORGS_LIST_ACCOUNTS_FOR_PARENT;
	case LIST_OUS: return AMS_ORGS_LIST_OUS_FOR_PARENT;
	}
	return "";
}

static void take_accounts(struct list_ctx *c, const struct ams_aws_result *res,
			  char **next, struct ams_err *err)
{
	struct ams_orgs_accounts accts;
	size_t i;

	if (ams_orgs_parse_list_accounts_for_parent(&accts, res->body,
						    res->body_len, err))
		return;
	for (i = 0; i < accts.n; i++) {
		const struct ams_orgs_account *a = &accts.v[i];

		if (!a->active) {
			ams_log_verbose("%s: skipping %s account %s", c->via,
					a->state ? a->state : a->status, a->id);
			continue;
		}
		if (excluded(c->r->job, a->id))
			continue;
		if (ams_job_add_account(c->r->job, a->id, c->via))
			c->r->job->org_accounts++;
	}
	*next = accts.next_token ? xstrdup(accts.next_token) : NULL;
	ams_orgs_accounts_release(&accts);
}

static void take_units(struct list_ctx *c, const struct ams_aws_result *res,
		       char **next, struct ams_err *err)
{
	struct ams_orgs_units units;
	size_t i;

	if (c->kind == LIST_ROOTS ? ams_orgs_parse_list_roots(
					&units, res->body, res->body_len, err)
				  : ams_orgs_parse_list_ous_for_parent(
					&units, res->body, res->body_len, err))
		return;
	for (i = 0; i < units.n; i++) {
		list(c->r, LIST_ACCOUNTS, units.v[i].id, c->via, NULL);
		list(c->r, LIST_OUS, units.v[i].id, c->via, NULL);
	}
	*next = units.next_token ? xstrdup(units.next_token) : NULL;
	ams_orgs_units_release(&units);
}

static void on_list(const struct ams_aws_result *res, void *payload)
{
	struct list_ctx *c = payload;
	struct ams_err err = AMS_ERR_INIT;
	char *next = NULL;

	if (res->err->code) {
		org_fail(c->r, action_of(c->kind), res->err);
	} else {
		if (c->kind == LIST_ACCOUNTS)
			take_accounts(c, res, &next, &err);
		else
			take_units(c, res, &next, &err);
		if (err.code)
			org_fail(c->r, action_of(c->kind), &err);
	}
	if (next && *next && !ams_share_stopping(c->r))
		list(c->r, c->kind, c->parent, c->via, next);
	free(next);
	free(c->parent);
	free(c);
}

static void list(struct share_runner *r, enum list_kind kind,
		 const char *parent, const char *via, const char *token)
{
	struct ams_identity *id = ams_creds_provider_identity(r->org_provider);
	struct ams_err err = AMS_ERR_INIT;
	struct ams_aws_call *call;
	struct list_ctx *c;
	struct ams_buf *body;
	enum ams_code rc;

	/* Organizations is global: its calls go to the STS region's host. */
	call = ams_aws_call_new(r->env->aws, AMS_SVC_ORGANIZATIONS,
				r->env->sts_region, action_of(kind), id);
	r->job->stats.api_calls++;
	body = ams_aws_call_json(call);
	switch (kind) {
	case LIST_ROOTS:
		rc = ams_orgs_build_list_roots(body, token, 0, &err);
		break;
	case LIST_ACCOUNTS:
		rc = ams_orgs_build_list_accounts_for_parent(body, parent,
							     token, 0, &err);
		break;
	default:
		rc = ams_orgs_build_list_ous_for_parent(body, parent, token, 0,
							&err);
		break;
	}
	if (rc) {
		ams_aws_call_discard(call);
		org_fail(r, action_of(kind), &err);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->r = r;
	c->kind = kind;
	c->parent = xstrdup(parent ? parent : "");
	c->via = via;
	ams_aws_call_submit(call, on_list, c);
}

/* "arn:aws:organizations::1:ou/o-x/ou-y" -> "ou-y" (borrowed). */
static const char *ou_id_of(const char *arn)
{
	const char *slash = strrchr(arn, '/');

	return slash ? slash + 1 : arn;
}

void ams_share_orgs_expand(struct share_runner *r)
{
	struct ams_job *job = r->job;
	struct ams_creds_role_opts opts;
	struct ams_err err = AMS_ERR_INIT;
	size_t i;

	memset(&opts, 0, sizeof(opts));
	opts.role_arn = job->cfg.org_role_arn;
	opts.session_name =
	    job->cfg.session_name ? job->cfg.session_name : "amishare";
	opts.external_id = job->cfg.external_id;
	opts.sts_region = r->env->sts_region;
	if (ams_creds_assume_role_new(&r->org_provider, r->env->aws,
				      r->env->source, &opts, &err)) {
		org_fail(r, "assume-role", &err);
		return;
	}
	for (i = 0; i < job->cfg.nr_ou_arns; i++) {
		const char *arn = job->cfg.ou_arns[i];

		list(r, LIST_ACCOUNTS, ou_id_of(arn), arn, NULL);
		list(r, LIST_OUS, ou_id_of(arn), arn, NULL);
	}
	for (i = 0; i < job->cfg.nr_org_arns; i++)
		list(r, LIST_ROOTS, NULL, job->cfg.org_arns[i], NULL);
}
