/*
 * The run report: a versioned JSON document and a human summary, both
 * rendered from the job model only, so they cannot disagree.
 */
#include "report.h"

#include <string.h>

#include "clock.h"
#include "fileio.h"
#include "json.h"

static void w_strs(struct ams_json_writer *w, const char *key, char *const *v,
		   size_t n)
{
	size_t i;

	ams_json_w_key(w, key);
	ams_json_w_array(w);
	for (i = 0; i < n; i++)
		ams_json_w_str(w, v[i]);
	ams_json_w_end(w);
}

static void w_tags(struct ams_json_writer *w, const char *key,
		   const struct ams_tags *t)
{
	size_t i;

	ams_json_w_key(w, key);
	ams_json_w_object(w);
	for (i = 0; i < t->n; i++) {
		ams_json_w_key(w, t->v[i].key);
		ams_json_w_str(w, t->v[i].value);
	}
	ams_json_w_end(w);
}

/* The tags of t whose bits are set in mask. */
static void w_tags_of(struct ams_json_writer *w, const char *key,
		      const struct ams_tags *t, uint64_t mask)
{
	size_t i;

	ams_json_w_key(w, key);
	ams_json_w_object(w);
	for (i = 0; i < t->n && i < 64; i++) {
		if (!(mask & (UINT64_C(1) << i)))
			continue;
		ams_json_w_key(w, t->v[i].key);
		ams_json_w_str(w, t->v[i].value);
	}
	ams_json_w_end(w);
}

static void w_time(struct ams_json_writer *w, const char *key, int64_t t)
{
	char iso[21];

	ams_json_w_key(w, key);
	if (!t) {
		ams_json_w_null(w);
		return;
	}
	ams_clock_iso8601(iso, (time_t)t);
	ams_json_w_str(w, iso);
}

/* An outcome that is null when the step was not asked for. */
static void w_outcome_opt(struct ams_json_writer *w, enum ams_outcome o)
{
	if (o == AMS_OUT_PENDING)
		ams_json_w_null(w);
	else
		ams_json_w_str(w, ams_outcome_name(o));
}

static void w_err(struct ams_json_writer *w, const struct ams_err *err,
		  const char *step)
{
	ams_json_w_key(w, "error");
	if (err->code == AMS_OK) {
		ams_json_w_null(w);
		return;
	}
	ams_json_w_object(w);
	ams_json_w_key(w, "step");
	ams_json_w_str(w, step);
	ams_json_w_key(w, "kind");
	ams_json_w_str(w, ams_code_name(err->code));
	ams_json_w_key(w, "code");
	ams_json_w_str(w, err->aws_code[0] ? err->aws_code : NULL);
	ams_json_w_key(w, "http_status");
	if (err->http_status)
		ams_json_w_i64(w, err->http_status);
	else
		ams_json_w_null(w);
	ams_json_w_key(w, "message");
	ams_json_w_str(w, err->msg);
	ams_json_w_key(w, "request_id");
	ams_json_w_str(w, err->request_id[0] ? err->request_id : NULL);
	ams_json_w_end(w);
}

static void w_inputs(struct ams_json_writer *w, const struct ams_job *job,
		     const struct ams_report_meta *meta)
{
	const struct ams_job_config *c = &job->cfg;
	size_t i;

	ams_json_w_key(w, "inputs");
	ams_json_w_object(w);
	ams_json_w_key(w, "manifest");
	ams_json_w_str(w, meta->manifest_path);
	ams_json_w_key(w, "run_uuid");
	ams_json_w_str(w, meta->run_uuid);
	ams_json_w_key(w, "build");
	ams_json_w_str(w, meta->build_name);
	ams_json_w_key(w, "images");
	ams_json_w_array(w);
	for (i = 0; i < job->nr_regions; i++) {
		const struct ams_job_region *r = &job->regions[i];

		ams_json_w_object(w);
		ams_json_w_key(w, "region");
		ams_json_w_str(w, r->region);
		ams_json_w_key(w, "ami_id");
		ams_json_w_str(w, r->ami_id);
		ams_json_w_key(w, "build");
		ams_json_w_str(w, r->build);
		ams_json_w_key(w, "origin");
		ams_json_w_str(w, r->origin);
		ams_json_w_end(w);
	}
	ams_json_w_end(w);
	w_strs(w, "accounts", c->accounts, c->nr_accounts);
	w_strs(w, "org_arns", c->org_arns, c->nr_org_arns);
	w_strs(w, "ou_arns", c->ou_arns, c->nr_ou_arns);
	ams_json_w_key(w, "role_arn");
	ams_json_w_str(w, c->role_arn_template);
	ams_json_w_key(w, "external_id_set");
	ams_json_w_bool(w, c->external_id != NULL);
	ams_json_w_key(w, "session_name");
	ams_json_w_str(w, c->session_name);
	ams_json_w_key(w, "copy_tags");
	ams_json_w_bool(w, c->copy_tags);
	w_strs(w, "include_tags", c->include_tags, c->nr_include_tags);
	w_strs(w, "exclude_tags", c->exclude_tags, c->nr_exclude_tags);
	w_tags(w, "tags", &c->extra_tags);
	ams_json_w_key(w, "share_snapshots");
	ams_json_w_bool(w, c->share_snapshots);
	ams_json_w_key(w, "kms");
	ams_json_w_str(w, c->kms_mode == AMS_KMS_GRANTS	 ? "grants"
			  : c->kms_mode == AMS_KMS_CHECK ? "check"
							 : "none");
	ams_json_w_key(w, "ssm_parameter");
	ams_json_w_str(w, c->ssm_parameter);
	w_time(w, "deprecate_at", c->deprecate_at);
	ams_json_w_key(w, "parallel");
	ams_json_w_u64(w, c->parallel);
	ams_json_w_end(w);
}

static void w_images(struct ams_json_writer *w, const struct ams_job *job)
{
	size_t i;

	ams_json_w_key(w, "images");
	ams_json_w_array(w);
	for (i = 0; i < job->nr_regions; i++) {
		const struct ams_job_region *r = &job->regions[i];

		ams_json_w_object(w);
		ams_json_w_key(w, "region");
		ams_json_w_str(w, r->region);
		ams_json_w_key(w, "ami_id");
		ams_json_w_str(w, r->ami_id);
		ams_json_w_key(w, "found");
		ams_json_w_bool(w, r->found);
		ams_json_w_key(w, "name");
		ams_json_w_str(w, r->name);
		ams_json_w_key(w, "state");
		ams_json_w_str(w, r->state);
		ams_json_w_key(w, "public");
		ams_json_w_bool(w, r->is_public);
		w_strs(w, "snapshots", r->snapshots, r->nr_snapshots);
		w_tags(w, "tags_written", &r->desired);
		ams_json_w_key(w, "share");
		ams_json_w_str(w, ams_outcome_name(r->share));
		w_strs(w, "permissions_before", r->perms_before,
		       r->nr_perms_before);
		w_strs(w, "permissions_added", r->perms_added,
		       r->nr_perms_added);
		ams_json_w_key(w, "snapshot_share");
		ams_json_w_str(w, job->cfg.share_snapshots
				      ? ams_outcome_name(r->snapshot_share)
				      : "skipped");
		w_strs(w, "snapshot_permissions_changed",
		       r->snapshot_perms_added, r->nr_snapshot_perms_added);
		w_strs(w, "permissions_removed", r->perms_removed,
		       r->nr_perms_removed);
		w_strs(w, "kms_keys", r->kms_keys, r->nr_kms_keys);
		ams_json_w_key(w, "kms");
		w_outcome_opt(w, r->kms);
		ams_json_w_key(w, "deprecation");
		w_outcome_opt(w, r->deprecation);
		w_time(w, "deprecation_time", r->deprecation_time);
		ams_json_w_key(w, "api_calls");
		ams_json_w_u64(w, r->api_calls);
		w_err(w, &r->err, r->failed_step);
		ams_json_w_end(w);
	}
	ams_json_w_end(w);
}

static void w_accounts(struct ams_json_writer *w, const struct ams_job *job)
{
	size_t i;

	ams_json_w_key(w, "accounts");
	ams_json_w_array(w);
	for (i = 0; i < job->nr_accounts; i++) {
		const struct ams_job_account *a = &job->accounts[i];

		ams_json_w_object(w);
		ams_json_w_key(w, "id");
		ams_json_w_str(w, a->id);
		ams_json_w_key(w, "via");
		ams_json_w_str(w, a->via);
		ams_json_w_key(w, "role_arn");
		ams_json_w_str(w, a->role_arn);
		ams_json_w_key(w, "assume_role");
		ams_json_w_str(w, ams_outcome_name(a->assume));
		w_err(w, ams_err_or_none(a->assume_err), "assume-role");
		ams_json_w_end(w);
	}
	ams_json_w_end(w);
}

static void w_results(struct ams_json_writer *w, const struct ams_job *job)
{
	size_t i;

	ams_json_w_key(w, "results");
	ams_json_w_array(w);
	for (i = 0; i < job->nr_items; i++) {
		const struct ams_job_item *it = &job->items[i];
		const struct ams_job_region *r = &job->regions[it->region];

		ams_json_w_object(w);
		ams_json_w_key(w, "region");
		ams_json_w_str(w, r->region);
		ams_json_w_key(w, "ami_id");
		ams_json_w_str(w, r->ami_id);
		ams_json_w_key(w, "account");
		ams_json_w_str(w, job->accounts[it->account].id);
		ams_json_w_key(w, "status");
		ams_json_w_str(w, ams_outcome_name(it->status));
		ams_json_w_key(w, "skip_reason");
		ams_json_w_str(w, it->skip_reason);
		ams_json_w_key(w, "visible");
		ams_json_w_bool(w, it->visible);
		ams_json_w_key(w, "unchanged");
		ams_json_w_bool(w, it->unchanged);
		w_tags_of(w, "tags_written", &job->regions[it->region].desired,
			  it->written);
		w_tags(w, "tags_removed", &it->removed);
		ams_json_w_key(w, "kms_grants");
		w_outcome_opt(w, it->kms);
		ams_json_w_key(w, "kms_grants_changed");
		ams_json_w_u64(w, it->kms_grants);
		ams_json_w_key(w, "ssm_parameter");
		w_outcome_opt(w, it->ssm);
		ams_json_w_key(w, "ssm_unchanged");
		ams_json_w_bool(w, it->ssm_unchanged);
		ams_json_w_key(w, "tags_before");
		ams_json_w_u64(w, it->tags_before);
		ams_json_w_key(w, "attempts");
		ams_json_w_u64(w, it->attempts);
		ams_json_w_key(w, "duration_ms");
		ams_json_w_u64(w, it->finished_ms > it->started_ms
				      ? it->finished_ms - it->started_ms
				      : 0);
		w_err(w, ams_job_item_err_of(it), it->failed_step);
		ams_json_w_end(w);
	}
	ams_json_w_end(w);
}

struct counts {
	size_t ok, failed, skipped, unknown;
};

static struct counts count_items(const struct ams_job *job)
{
	struct counts c = { 0, 0, 0, 0 };
	size_t i;

	for (i = 0; i < job->nr_items; i++)
		switch (job->items[i].status) {
		case AMS_OUT_OK: c.ok++; break;
		case AMS_OUT_FAILED: c.failed++; break;
		case AMS_OUT_SKIPPED: c.skipped++; break;
		default: c.unknown++; break;
		}
	return c;
}

static void w_summary(struct ams_json_writer *w, const struct ams_job *job)
{
	struct counts c = count_items(job);

	ams_json_w_key(w, "summary");
	ams_json_w_object(w);
	ams_json_w_key(w, "items");
	ams_json_w_u64(w, job->nr_items);
	ams_json_w_key(w, "ok");
	ams_json_w_u64(w, c.ok);
	ams_json_w_key(w, "failed");
	ams_json_w_u64(w, c.failed);
	ams_json_w_key(w, "skipped");
	ams_json_w_u64(w, c.skipped);
	ams_json_w_key(w, "unknown");
	ams_json_w_u64(w, c.unknown);
	ams_json_w_key(w, "writes");
	ams_json_w_u64(w, job->stats.writes);
	ams_json_w_key(w, "api_calls");
	ams_json_w_u64(w, job->stats.api_calls);
	ams_json_w_key(w, "retries");
	ams_json_w_u64(w, job->stats.retries);
	ams_json_w_key(w, "throttled");
	ams_json_w_u64(w, job->stats.throttled);
	ams_json_w_key(w, "connections");
	ams_json_w_u64(w, job->stats.connections);
	ams_json_w_end(w);
}

/* The report on w (set up by the caller), newline-terminated. */
static void report_json(struct ams_json_writer *w, const struct ams_job *job,
			const struct ams_report_meta *meta)
{
	ams_json_w_object(w);
	ams_json_w_key(w, "schema_version");
	ams_json_w_u64(w, AMS_REPORT_SCHEMA_VERSION);
	ams_json_w_key(w, "tool");
	ams_json_w_object(w);
	ams_json_w_key(w, "name");
	ams_json_w_str(w, "amishare");
	ams_json_w_key(w, "version");
	ams_json_w_str(w, AMS_VERSION);
	ams_json_w_end(w);
	ams_json_w_key(w, "command");
	ams_json_w_str(w, meta->command);
	ams_json_w_key(w, "status");
	ams_json_w_str(w, ams_job_status(job));
	ams_json_w_key(w, "revoke");
	ams_json_w_bool(w, job->cfg.revoke);
	ams_json_w_key(w, "interrupted");
	ams_json_w_bool(w, job->interrupted);
	w_time(w, "started_at", job->started_at);
	w_time(w, "finished_at", job->finished_at);
	ams_json_w_key(w, "duration_ms");
	ams_json_w_u64(w, job->duration_ms);
	ams_json_w_key(w, "source");
	ams_json_w_object(w);
	ams_json_w_key(w, "account");
	ams_json_w_str(w, job->source_account);
	ams_json_w_key(w, "arn");
	ams_json_w_str(w, job->source_arn);
	ams_json_w_key(w, "partition");
	ams_json_w_str(w, job->partition);
	ams_json_w_end(w);
	w_inputs(w, job, meta);
	ams_json_w_key(w, "provenance");
	if (meta->provenance)
		meta->provenance(w, meta->provenance_payload);
	else
		ams_json_w_null(w);
	ams_json_w_key(w, "organizations");
	ams_json_w_object(w);
	ams_json_w_key(w, "role_arn");
	ams_json_w_str(w, job->cfg.org_role_arn);
	ams_json_w_key(w, "accounts_found");
	ams_json_w_u64(w, job->org_accounts);
	w_err(w, &job->org_err, job->org_step);
	ams_json_w_end(w);
	w_images(w, job);
	w_accounts(w, job);
	w_results(w, job);
	w_summary(w, job);
	ams_json_w_end(w);
	ams_json_w_finish(w, NULL);
	ams_buf_addch(w->out, '\n');
}

void ams_report_json(struct ams_buf *out, const struct ams_job *job,
		     const struct ams_report_meta *meta)
{
	struct ams_json_writer w;

	ams_json_w_init(&w, out);
	report_json(&w, job, meta);
}

/* Report bytes held in memory before they go to the file. */
#define REPORT_CHUNK_BYTES 65536

static void flush_to_file(struct ams_buf *out, void *payload)
{
	ams_file_atomic_write(payload, out->buf, out->len);
	ams_buf_reset(out);
}

enum ams_code ams_report_write(const char *path, const struct ams_job *job,
			       const struct ams_report_meta *meta,
			       struct ams_err *err)
{
	struct ams_buf sb = AMS_BUF_INIT;
	struct ams_json_writer w;
	struct ams_file_atomic f;

	/* Streamed: at organisation scale the report runs to megabytes. */
	if (ams_file_atomic_open(&f, path, 0600, "report", err))
		return AMS_EIO;
	ams_json_w_init(&w, &sb);
	w.flush = flush_to_file;
	w.flush_payload = &f;
	w.flush_bytes = REPORT_CHUNK_BYTES;
	report_json(&w, job, meta);
	flush_to_file(&sb, &f);
	ams_buf_release(&sb);
	return ams_file_atomic_commit(&f, err);
}

static void text_error(struct ams_buf *out, const struct ams_err *err,
		       const char *step)
{
	if (step)
		ams_buf_addf(out, "%s: ", step);
	if (err->aws_code[0])
		ams_buf_addf(out, "%s: ", err->aws_code);
	ams_buf_addstr(out, err->msg);
	if (err->request_id[0])
		ams_buf_addf(out, " (request %s)", err->request_id);
}

/* The word for a write by mode: share, plan, revoke, plan --revoke. */
static const char *write_word(const struct ams_job *job, const char *done,
			      const char *to_do, const char *undone,
			      const char *to_undo)
{
	if (job->cfg.mode == AMS_JOB_SHARE)
		return job->cfg.revoke ? undone : done;
	return job->cfg.revoke ? to_undo : to_do;
}

/* Skipped or unknown: why, and which step a stop cut short. */
static void text_interrupted(struct ams_buf *out, const struct ams_job_item *it)
{
	ams_buf_addstr(out, it->skip_reason ? it->skip_reason : "");
	if (it->failed_step && ams_job_item_err_of(it)->code == AMS_ECANCELED)
		ams_buf_addf(out, " (%s)", it->failed_step);
}

static void text_item(struct ams_buf *out, const struct ams_job *job,
		      const struct ams_job_item *it)
{
	const struct ams_job_region *r = &job->regions[it->region];

	ams_buf_addf(out, "  %-15s %-21s %-12s %-8s ", r->region, r->ami_id,
		     job->accounts[it->account].id,
		     ams_outcome_name(it->status));
	if (it->status == AMS_OUT_FAILED)
		text_error(out, ams_job_item_err_of(it), it->failed_step);
	else if (it->status == AMS_OUT_SKIPPED || it->status == AMS_OUT_UNKNOWN)
		text_interrupted(out, it);
	else if (job->cfg.revoke && it->unchanged)
		ams_buf_addstr(out, "none of our tags there");
	else if (job->cfg.revoke)
		ams_buf_addf(out, "%zu tags %s", it->removed.n,
			     job->cfg.mode == AMS_JOB_SHARE ? "removed"
							    : "to remove");
	else if (it->unchanged)
		ams_buf_addf(out, "%zu tags already there", r->desired.n);
	else if (job->cfg.mode == AMS_JOB_SHARE)
		ams_buf_addf(out, "%zu tags written",
			     ams_job_item_nr_written(it));
	else
		ams_buf_addf(out, "%zu tags to write",
			     ams_job_item_nr_written(it));
	if (it->status == AMS_OUT_OK && it->kms_grants)
		ams_buf_addf(out, ", %u KMS grant%s %s", it->kms_grants,
			     it->kms_grants == 1 ? "" : "s",
			     write_word(job, "created", "to create", "revoked",
					"to revoke"));
	if (it->status == AMS_OUT_OK && it->ssm == AMS_OUT_OK)
		ams_buf_addf(out, ", parameter %s",
			     it->ssm_unchanged
				 ? "unchanged"
				 : write_word(job, "set", "to set", "deleted",
					      "to delete"));
	ams_buf_addch(out, '\n');
}

static void text_region(struct ams_buf *out, const struct ams_job *job,
			const struct ams_job_region *r)
{
	const char *verb = job->cfg.mode == AMS_JOB_SHARE  ? "added"
			   : job->cfg.mode == AMS_JOB_PLAN ? "to add"
							   : "missing";
	size_t i;

	ams_buf_addf(out, "  %-15s %-21s launch permission %s", r->region,
		     r->ami_id, ams_outcome_name(r->share));
	if (r->err.code != AMS_OK) {
		ams_buf_addstr(out, ": ");
		text_error(out, &r->err, r->failed_step);
	} else if (job->cfg.revoke && r->nr_perms_removed) {
		ams_buf_addf(out, ", %s:",
			     job->cfg.mode == AMS_JOB_SHARE  ? "removed"
			     : job->cfg.mode == AMS_JOB_PLAN ? "to remove"
							     : "still there");
		for (i = 0; i < r->nr_perms_removed; i++)
			ams_buf_addf(out, " %s", r->perms_removed[i]);
	} else if (job->cfg.revoke) {
		ams_buf_addstr(out, ", nothing to remove");
	} else if (r->nr_perms_added) {
		ams_buf_addf(out, ", %s:", verb);
		for (i = 0; i < r->nr_perms_added; i++)
			ams_buf_addf(out, " %s", r->perms_added[i]);
	} else {
		ams_buf_addstr(out, ", nothing to add");
	}
	if (job->cfg.share_snapshots)
		ams_buf_addf(out, "; snapshots %s (%zu permissions %s)",
			     ams_outcome_name(r->snapshot_share),
			     r->nr_snapshot_perms_added,
			     job->cfg.mode == AMS_JOB_VERIFY
				 ? (job->cfg.revoke ? "still there" : "missing")
				 : write_word(job, "added", "to add", "removed",
					      "to remove"));
	ams_buf_addch(out, '\n');
}

void ams_report_text(struct ams_buf *out, const struct ams_job *job,
		     const struct ams_report_meta *meta)
{
	struct counts c = count_items(job);
	char unknown[40] = "";
	size_t i;

	/* Shown only when there are any: items a stop left undecided. */
	if (c.unknown)
		snprintf(unknown, sizeof(unknown), ", %zu unknown", c.unknown);
	ams_buf_addf(out,
		     "amishare %s: %s: %zu image%s x %zu account%s: %zu ok, "
		     "%zu failed, %zu skipped%s%s, %lu writes, %lu API calls "
		     "in %.2fs\n",
		     meta->command, ams_job_status(job), job->nr_regions,
		     job->nr_regions == 1 ? "" : "s", job->nr_accounts,
		     job->nr_accounts == 1 ? "" : "s", c.ok, c.failed,
		     c.skipped, unknown,
		     job->interrupted ? ", interrupted" : "", job->stats.writes,
		     job->stats.api_calls, (double)job->duration_ms / 1000.0);
	if (job->org_err.code != AMS_OK) {
		ams_buf_addstr(out, "organizations: failed: ");
		text_error(out, &job->org_err, job->org_step);
		ams_buf_addch(out, '\n');
	} else if (job->cfg.org_role_arn) {
		ams_buf_addf(out, "organizations: %zu member accounts found\n",
			     job->org_accounts);
	}
	ams_buf_addstr(out, "source images:\n");
	for (i = 0; i < job->nr_regions; i++)
		text_region(out, job, &job->regions[i]);
	if (!job->nr_items)
		return;
	ams_buf_addf(out, "  %-15s %-21s %-12s %-8s %s\n", "REGION", "AMI",
		     "ACCOUNT", "STATUS", "DETAIL");
	for (i = 0; i < job->nr_items; i++)
		text_item(out, job, &job->items[i]);
}
