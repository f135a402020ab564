/*
 * The share job model: set-up, derived values and overall status.
 */
#include "job.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "manifest.h"

const char *ams_outcome_name(enum ams_outcome o)
{
	switch (o) {
	case AMS_OUT_OK: return "ok";
	case AMS_OUT_FAILED: return "failed";
	case AMS_OUT_SKIPPED: return "skipped";
	case AMS_OUT_UNKNOWN: return "unknown";
	case AMS_OUT_PENDING: break;
	}
	return "pending";
}

static void free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void ams_job_config_release(struct ams_job_config *cfg)
{
	free_strv(cfg->accounts, cfg->nr_accounts);
	free_strv(cfg->exclude_accounts, cfg->nr_exclude_accounts);
	free_strv(cfg->org_arns, cfg->nr_org_arns);
	free(cfg->org_role_arn);
	free(cfg->provenance_prefix);
	free(cfg->ssm_parameter);
	free_strv(cfg->ou_arns, cfg->nr_ou_arns);
	free(cfg->role_arn_template);
	ams_free_secret(cfg->external_id);
	free(cfg->session_name);
	free_strv(cfg->include_tags, cfg->nr_include_tags);
	free_strv(cfg->exclude_tags, cfg->nr_exclude_tags);
	ams_tags_release(&cfg->extra_tags);
	ams_tags_release(&cfg->provenance_tags);
	memset(cfg, 0, sizeof(*cfg));
}

void ams_job_init(struct ams_job *job, struct ams_job_config *cfg,
		  const struct ams_image_ref *images, size_t nr_images)
{
	size_t i;

	memset(job, 0, sizeof(*job));
	job->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	job->regions = xcalloc(nr_images, sizeof(*job->regions));
	for (i = 0; i < nr_images; i++) {
		struct ams_job_region *r = &job->regions[job->nr_regions++];

		r->region = xstrdup(images[i].region);
		r->ami_id = xstrdup(images[i].ami_id);
		r->build = images[i].build ? xstrdup(images[i].build) : NULL;
		r->origin = xstrdup(images[i].origin ? images[i].origin : "");
	}
	for (i = 0; i < job->cfg.nr_accounts; i++)
		ams_job_add_account(job, job->cfg.accounts[i], "account");
}

bool ams_job_add_account(struct ams_job *job, const char *id, const char *via)
{
	struct ams_job_account *a;

	if (ams_strset_has(&job->account_ids, id))
		return false;
	if (job->nr_accounts >= job->alloc_accounts) {
		job->alloc_accounts =
		    job->nr_accounts ? 2 * job->nr_accounts : 16;
		job->accounts = xreallocarray(
		    job->accounts, job->alloc_accounts, sizeof(*job->accounts));
	}
	a = &job->accounts[job->nr_accounts++];
	memset(a, 0, sizeof(*a));
	a->id = xstrdup(id);
	ams_strset_add(&job->account_ids, a->id);
	a->via = via;
	return true;
}

void ams_job_make_items(struct ams_job *job)
{
	size_t r, a;

	free(job->items);
	job->nr_items = job->nr_regions * job->nr_accounts;
	job->items = xcalloc(job->nr_items, sizeof(*job->items));
	for (r = 0; r < job->nr_regions; r++)
		for (a = 0; a < job->nr_accounts; a++) {
			struct ams_job_item *it = ams_job_item(job, r, a);

			it->region = r;
			it->account = a;
		}
}

struct ams_job_item *ams_job_item(struct ams_job *job, size_t region,
				  size_t account)
{
	return &job->items[region * job->nr_accounts + account];
}

size_t ams_job_item_nr_written(const struct ams_job_item *it)
{
	uint64_t m = it->written;
	size_t n = 0;

	for (; m; m &= m - 1)
		n++;
	return n;
}

struct ams_err *ams_job_item_err(struct ams_job_item *it)
{
	return ams_err_slot(&it->err);
}

const struct ams_err *ams_job_item_err_of(const struct ams_job_item *it)
{
	return ams_err_or_none(it->err);
}

static void release_region(struct ams_job_region *r)
{
	free(r->region);
	free(r->ami_id);
	free(r->build);
	free(r->origin);
	free(r->name);
	free(r->state);
	ams_tags_release(&r->source_tags);
	free_strv(r->snapshots, r->nr_snapshots);
	free_strv(r->perms_before, r->nr_perms_before);
	free_strv(r->perms_added, r->nr_perms_added);
	free_strv(r->snapshot_perms_added, r->nr_snapshot_perms_added);
	free_strv(r->perms_removed, r->nr_perms_removed);
	free_strv(r->kms_keys, r->nr_kms_keys);
	ams_tags_release(&r->desired);
}

void ams_job_release(struct ams_job *job)
{
	size_t i;

	for (i = 0; i < job->nr_regions; i++)
		release_region(&job->regions[i]);
	free(job->regions);
	for (i = 0; i < job->nr_accounts; i++) {
		free(job->accounts[i].id);
		free(job->accounts[i].role_arn);
		free(job->accounts[i].assume_err);
	}
	free(job->accounts);
	ams_strset_release(&job->account_ids);
	for (i = 0; i < job->nr_items; i++) {
		ams_tags_release(&job->items[i].removed);
		free(job->items[i].err);
	}
	free(job->items);
	free(job->source_account);
	free(job->source_arn);
	free(job->partition);
	ams_job_config_release(&job->cfg);
	memset(job, 0, sizeof(*job));
}

static bool source_ok(const struct ams_job_region *r,
		      const struct ams_job_config *cfg)
{
	if (r->describe != AMS_OUT_OK || r->share != AMS_OUT_OK)
		return false;
	if (r->kms == AMS_OUT_FAILED || r->deprecation == AMS_OUT_FAILED)
		return false;
	return !cfg->share_snapshots || r->snapshot_share == AMS_OUT_OK;
}

bool ams_job_all_ok(const struct ams_job *job)
{
	size_t i;

	if (job->interrupted || job->org_err.code != AMS_OK)
		return false;
	for (i = 0; i < job->nr_regions; i++)
		if (!source_ok(&job->regions[i], &job->cfg))
			return false;
	for (i = 0; i < job->nr_items; i++)
		if (job->items[i].status != AMS_OUT_OK)
			return false;
	return true;
}

const char *ams_job_status(const struct ams_job *job)
{
	size_t i, ok = 0, total = job->nr_regions + job->nr_items;

	if (ams_job_all_ok(job))
		return "ok";
	for (i = 0; i < job->nr_regions; i++)
		ok += source_ok(&job->regions[i], &job->cfg);
	for (i = 0; i < job->nr_items; i++)
		ok += job->items[i].status == AMS_OUT_OK;
	return ok && ok < total ? "partial" : "failed";
}

enum ams_code ams_job_role_arn(char **out, const char *tmpl,
			       const char *account, const char *partition,
			       struct ams_err *err)
{
	struct ams_buf sb = AMS_BUF_INIT;
	const char *p = tmpl;

	*out = NULL;
	while (*p) {
		if (!strncmp(p, "{account}", 9)) {
			ams_buf_addstr(&sb, account);
			p += 9;
		} else if (!strncmp(p, "{partition}", 11)) {
			ams_buf_addstr(&sb, partition);
			p += 11;
		} else if (*p == '{' || *p == '}') {
			ams_buf_release(&sb);
			return ams_fail(err, AMS_EUSAGE,
					"--role-arn '%s': unknown placeholder "
					"(use {account} and {partition})",
					tmpl);
		} else {
			ams_buf_addch(&sb, *p++);
		}
	}
	*out = ams_buf_detach(&sb, NULL);
	return AMS_OK;
}

void ams_job_desired_tags(struct ams_tags *out,
			  const struct ams_job_config *cfg,
			  const struct ams_tags *source_tags)
{
	size_t i;

	if (cfg->copy_tags)
		for (i = 0; i < source_tags->n; i++) {
			const struct ams_tag *t = &source_tags->v[i];

			if (ams_tag_key_selected(
				t->key, cfg->include_tags, cfg->nr_include_tags,
				cfg->exclude_tags, cfg->nr_exclude_tags))
				ams_tags_set(out, t->key, t->value);
		}
	ams_tags_copy(out, &cfg->provenance_tags);
	ams_tags_copy(out, &cfg->extra_tags);
}
