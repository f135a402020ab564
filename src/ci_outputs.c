/*
 * CI-native outputs: GitHub step outputs, the step summary and workflow
 * command annotations, and a dotenv file for GitLab. The renderers are
 * pure (a job in, text out) so every escaping rule is unit-tested; the
 * two writers at the end are the only code that touches files.
 */
#include "ci_outputs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"

#define DOTENV_PREFIX "AMISHARE_RESULT_"
#define HEREDOC_DELIM "AMISHARE_EOF"

const char *ams_ci_command_name(const struct ams_job *job)
{
	switch (job->cfg.mode) {
	case AMS_JOB_PLAN: return "plan";
	case AMS_JOB_VERIFY: return "verify";
	case AMS_JOB_SHARE: break;
	}
	return job->cfg.revoke ? "revoke" : "share";
}

static void gh_escape(struct ams_buf *out, const char *s, bool property)
{
	for (; s && *s; s++) {
		if (*s == '%')
			ams_buf_addstr(out, "%25");
		else if (*s == '\r')
			ams_buf_addstr(out, "%0D");
		else if (*s == '\n')
			ams_buf_addstr(out, "%0A");
		else if (property && *s == ':')
			ams_buf_addstr(out, "%3A");
		else if (property && *s == ',')
			ams_buf_addstr(out, "%2C");
		else
			ams_buf_addch(out, *s);
	}
}

void ams_ci_gh_escape_data(struct ams_buf *out, const char *s)
{
	gh_escape(out, s, false);
}

void ams_ci_gh_escape_property(struct ams_buf *out, const char *s)
{
	gh_escape(out, s, true);
}

/*
 * The runner ends a heredoc value at the first line equal to the
 * delimiter, so a delimiter that occurs nowhere in the value cannot be
 * forged by it. The search is bounded: a value of n bytes holds fewer
 * than n distinct candidates.
 */
static char *heredoc_delimiter(const char *value)
{
	char *d = xstrdup(HEREDOC_DELIM);
	unsigned n = 0;

	while (strstr(value, d)) {
		free(d);
		d = xasprintf(HEREDOC_DELIM "_%u", ++n);
	}
	return d;
}

void ams_ci_gh_output(struct ams_buf *out, const char *name, const char *value)
{
	char *delim;

	if (!value)
		value = "";
	if (!strpbrk(value, "\r\n")) {
		ams_buf_addf(out, "%s=%s\n", name, value);
		return;
	}
	delim = heredoc_delimiter(value);
	ams_buf_addf(out, "%s<<%s\n%s\n%s\n", name, delim, value, delim);
	free(delim);
}

void ams_ci_var_name(struct ams_buf *out, const char *prefix,
		     const char *region, bool upper)
{
	const char *p;

	ams_buf_addstr(out, prefix);
	for (p = region; *p; p++) {
		char c = *p;

		if (c >= 'a' && c <= 'z')
			ams_buf_addch(out, upper ? c - 'a' + 'A' : c);
		else if (c >= 'A' && c <= 'Z')
			ams_buf_addch(out, upper ? c : c - 'A' + 'a');
		else if (c >= '0' && c <= '9')
			ams_buf_addch(out, c);
		else
			ams_buf_addch(out, '_');
	}
}

/* Whether an earlier regional AMI of the job is in the same region. */
static bool region_seen(const struct ams_job *job, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (!strcmp(job->regions[j].region, job->regions[i].region))
			return true;
	return false;
}

/* The AMI ids of region i's region, from i on, joined by ','. */
static void region_ids(struct ams_buf *out, const struct ams_job *job, size_t i)
{
	size_t k;

	ams_buf_addstr(out, job->regions[i].ami_id);
	for (k = i + 1; k < job->nr_regions; k++)
		if (!strcmp(job->regions[k].region, job->regions[i].region))
			ams_buf_addf(out, ",%s", job->regions[k].ami_id);
}

void ams_ci_amis_json(struct ams_buf *out, const struct ams_job *job)
{
	struct ams_buf ids = AMS_BUF_INIT;
	bool first = true;
	size_t i;

	ams_buf_addch(out, '{');
	for (i = 0; i < job->nr_regions; i++) {
		if (region_seen(job, i))
			continue;
		ams_buf_reset(&ids);
		region_ids(&ids, job, i);
		if (!first)
			ams_buf_addch(out, ',');
		first = false;
		ams_buf_add_json_str(out, job->regions[i].region);
		ams_buf_addch(out, ':');
		ams_buf_add_json_str(out, ids.buf);
	}
	ams_buf_addch(out, '}');
	ams_buf_release(&ids);
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

static void gh_output_num(struct ams_buf *out, const char *name,
			  unsigned long long v)
{
	char num[32];

	snprintf(num, sizeof(num), "%llu", v);
	ams_ci_gh_output(out, name, num);
}

void ams_ci_gh_outputs(struct ams_buf *out, const struct ams_job *job,
		       const char *report_path, int exit_code)
{
	struct counts c = count_items(job);
	struct ams_buf name = AMS_BUF_INIT, val = AMS_BUF_INIT;
	size_t i;

	ams_ci_gh_output(out, "status", ams_job_status(job));
	ams_ci_gh_output(out, "command", ams_ci_command_name(job));
	gh_output_num(out, "exit_code", (unsigned long long)exit_code);
	ams_ci_amis_json(&val, job);
	ams_ci_gh_output(out, "amis", val.buf);
	for (i = 0; i < job->nr_regions; i++) {
		if (region_seen(job, i))
			continue;
		ams_buf_reset(&name);
		ams_buf_reset(&val);
		ams_ci_var_name(&name, "ami_", job->regions[i].region, false);
		region_ids(&val, job, i);
		ams_ci_gh_output(out, name.buf, val.buf);
	}
	gh_output_num(out, "images", job->nr_regions);
	gh_output_num(out, "accounts", job->nr_accounts);
	gh_output_num(out, "items", job->nr_items);
	gh_output_num(out, "ok", c.ok);
	gh_output_num(out, "failed", c.failed);
	gh_output_num(out, "skipped", c.skipped);
	gh_output_num(out, "unknown", c.unknown);
	gh_output_num(out, "writes", job->stats.writes);
	if (report_path)
		ams_ci_gh_output(out, "report", report_path);
	ams_buf_release(&name);
	ams_buf_release(&val);
}

void ams_ci_md_cell(struct ams_buf *out, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			ams_buf_addch(out, ' ');
		else if (c == '&')
			ams_buf_addstr(out, "&amp;");
		else if (c == '<')
			ams_buf_addstr(out, "&lt;");
		else if (c == '>')
			ams_buf_addstr(out, "&gt;");
		else if (strchr("\\`*_[]|~", c))
			ams_buf_addf(out, "\\%c", c);
		else
			ams_buf_addch(out, (char)c);
	}
}

/* The AWS error code, else amishare's kind of error ("network"). */
static const char *err_code(const struct ams_err *err)
{
	return err->aws_code[0] ? err->aws_code : ams_code_name(err->code);
}

/*
 * "step: Code: message (request id)", as the text report words it,
 * redacted here: once escaped for markdown or a workflow command, a
 * secret would no longer match the redaction list.
 */
static void err_text(struct ams_buf *out, const struct ams_err *err,
		     const char *step)
{
	struct ams_buf sb = AMS_BUF_INIT;

	if (step)
		ams_buf_addf(&sb, "%s: ", step);
	if (err->aws_code[0])
		ams_buf_addf(&sb, "%s: ", err->aws_code);
	ams_buf_addstr(&sb, err->msg);
	if (err->request_id[0])
		ams_buf_addf(&sb, " (request %s)", err->request_id);
	ams_redact(&sb);
	ams_buf_add(out, sb.buf, sb.len);
	ams_buf_release(&sb);
}

/* Column headings: what the command did (or would do) to each. */
static const char *perms_heading(const struct ams_job_config *cfg)
{
	static const char *const h[2][3] = {
		{ "Added", "To add", "Missing" },
		{ "Removed", "To remove", "Left" },
	};

	return h[cfg->revoke][cfg->mode];
}

static const char *tags_heading(const struct ams_job_config *cfg)
{
	static const char *const h[2][3] = {
		{ "Tags written", "Tags to write", "Tags missing" },
		{ "Tags removed", "Tags to remove", "Tags left" },
	};

	return h[cfg->revoke][cfg->mode];
}

static void summary_head(struct ams_buf *out, const struct ams_job *job)
{
	struct counts c = count_items(job);

	ams_buf_addf(out, "### amishare %s: %s\n\n", ams_ci_command_name(job),
		     ams_job_status(job));
	ams_buf_addf(out,
		     "%zu image%s x %zu account%s: %zu ok, %zu failed, "
		     "%zu skipped, %zu unknown; %lu writes, %lu API calls "
		     "in %.2f s%s\n\n",
		     job->nr_regions, job->nr_regions == 1 ? "" : "s",
		     job->nr_accounts, job->nr_accounts == 1 ? "" : "s", c.ok,
		     c.failed, c.skipped, c.unknown, job->stats.writes,
		     job->stats.api_calls, (double)job->duration_ms / 1000.0,
		     job->interrupted ? " (interrupted)" : "");
	if (job->org_err.code != AMS_OK) {
		struct ams_buf msg = AMS_BUF_INIT;

		err_text(&msg, &job->org_err, job->org_step);
		ams_buf_addstr(out, "**Organization members not listed:** ");
		ams_ci_md_cell(out, msg.buf);
		ams_buf_addstr(out, "\n\n");
		ams_buf_release(&msg);
	}
}

static void region_row(struct ams_buf *out, const struct ams_job *job,
		       const struct ams_job_region *r)
{
	char *const *perms =
	    job->cfg.revoke ? r->perms_removed : r->perms_added;
	size_t nr_perms =
	    job->cfg.revoke ? r->nr_perms_removed : r->nr_perms_added;
	size_t i;

	ams_buf_addstr(out, "| ");
	ams_ci_md_cell(out, r->region);
	ams_buf_addstr(out, " | ");
	ams_ci_md_cell(out, r->ami_id);
	ams_buf_addf(out, " | %s", ams_outcome_name(r->share));
	if (job->cfg.share_snapshots)
		ams_buf_addf(out, " | %s", ams_outcome_name(r->snapshot_share));
	ams_buf_addstr(out, " | ");
	for (i = 0; i < nr_perms; i++) {
		if (i)
			ams_buf_addch(out, ' ');
		ams_ci_md_cell(out, perms[i]);
	}
	ams_buf_addstr(out, " | ");
	if (r->err.code != AMS_OK)
		ams_ci_md_cell(out, err_code(&r->err));
	ams_buf_addstr(out, " | ");
	if (r->err.code != AMS_OK) {
		struct ams_buf msg = AMS_BUF_INIT;

		err_text(&msg, &r->err, r->failed_step);
		ams_ci_md_cell(out, msg.buf);
		ams_buf_release(&msg);
	}
	ams_buf_addstr(out, " |\n");
}

static void item_row(struct ams_buf *out, const struct ams_job *job,
		     const struct ams_job_item *it)
{
	const struct ams_job_region *r = &job->regions[it->region];
	struct ams_buf msg = AMS_BUF_INIT;
	bool bad =
	    it->status == AMS_OUT_FAILED || it->status == AMS_OUT_UNKNOWN;

	ams_buf_addstr(out, "| ");
	ams_ci_md_cell(out, r->region);
	ams_buf_addstr(out, " | ");
	ams_ci_md_cell(out, r->ami_id);
	ams_buf_addstr(out, " | ");
	ams_ci_md_cell(out, job->accounts[it->account].id);
	ams_buf_addf(out, bad ? " | **%s** | %zu | " : " | %s | %zu | ",
		     ams_outcome_name(it->status),
		     job->cfg.revoke ? it->removed.n
				     : ams_job_item_nr_written(it));
	if (it->status == AMS_OUT_FAILED) {
		ams_ci_md_cell(out, err_code(ams_job_item_err_of(it)));
		err_text(&msg, ams_job_item_err_of(it), it->failed_step);
	} else if (it->status == AMS_OUT_SKIPPED) {
		ams_buf_addstr(&msg, it->skip_reason ? it->skip_reason : "");
	} else if (it->status != AMS_OUT_OK) {
		ams_buf_addstr(&msg, "interrupted before it finished");
	} else if (it->unchanged) {
		ams_buf_addstr(&msg, job->cfg.revoke ? "nothing to remove"
						     : "already tagged");
	}
	ams_buf_addstr(out, " | ");
	ams_ci_md_cell(out, msg.buf);
	ams_buf_addstr(out, " |\n");
	ams_buf_release(&msg);
}

/* Appends row if it fits within the budget; counts it as left out if not. */
static void add_row(struct ams_buf *out, struct ams_buf *row, size_t start,
		    size_t max_bytes, size_t *left_out)
{
	/* Room for the closing line that counts what was left out. */
	const size_t reserve = 128;

	if (*left_out || out->len - start + row->len + reserve > max_bytes)
		(*left_out)++;
	else
		ams_buf_add(out, row->buf, row->len);
	ams_buf_reset(row);
}

void ams_ci_gh_summary(struct ams_buf *out, const struct ams_job *job,
		       size_t max_bytes)
{
	struct ams_buf row = AMS_BUF_INIT;
	size_t start = out->len, left_out = 0, i, pass;

	summary_head(out, job);
	ams_buf_addf(out,
		     "| Region | AMI | Launch permission |%s %s | "
		     "Error | Detail |\n",
		     job->cfg.share_snapshots ? " Snapshots |" : "",
		     perms_heading(&job->cfg));
	ams_buf_addf(out, "| --- | --- | --- |%s --- | --- | --- |\n",
		     job->cfg.share_snapshots ? " --- |" : "");
	for (i = 0; i < job->nr_regions; i++) {
		region_row(&row, job, &job->regions[i]);
		add_row(out, &row, start, max_bytes, &left_out);
	}
	if (job->nr_items) {
		ams_buf_addf(out,
			     "\n| Region | AMI | Account | Status | %s | "
			     "Error | Detail |\n"
			     "| --- | --- | --- | --- | ---: | --- | --- |\n",
			     tags_heading(&job->cfg));
	}
	/* Problems first, so a cut never hides one. */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < job->nr_items; i++) {
			const struct ams_job_item *it = &job->items[i];

			if ((it->status == AMS_OUT_OK) != (pass == 1))
				continue;
			item_row(&row, job, it);
			add_row(out, &row, start, max_bytes, &left_out);
		}
	if (left_out)
		ams_buf_addf(out,
			     "\n_%zu more row%s left out for size: see the "
			     "JSON report._\n",
			     left_out, left_out == 1 ? "" : "s");
	ams_buf_release(&row);
}

static void annotate(struct ams_buf *out, const char *level, const char *title,
		     const char *msg)
{
	ams_buf_addf(out, "::%s title=", level);
	ams_ci_gh_escape_property(out, title);
	ams_buf_addstr(out, "::");
	ams_ci_gh_escape_data(out, msg);
	ams_buf_addch(out, '\n');
}

void ams_ci_gh_annotations(struct ams_buf *out, const struct ams_job *job,
			   size_t max_lines)
{
	const char *cmd = ams_ci_command_name(job);
	struct ams_buf title = AMS_BUF_INIT, msg = AMS_BUF_INIT;
	size_t i, lines = 0, more = 0;

	if (job->org_err.code != AMS_OK && max_lines) {
		ams_buf_addf(&title, "amishare %s: organization members", cmd);
		err_text(&msg, &job->org_err, job->org_step);
		annotate(out, "error", title.buf, msg.buf);
		lines++;
	} else if (job->org_err.code != AMS_OK) {
		more++;
	}
	for (i = 0; i < job->nr_regions; i++) {
		const struct ams_job_region *r = &job->regions[i];

		if (r->err.code == AMS_OK)
			continue;
		if (lines == max_lines) {
			more++;
			continue;
		}
		ams_buf_reset(&title);
		ams_buf_reset(&msg);
		ams_buf_addf(&title, "amishare %s: %s in %s", cmd, r->ami_id,
			     r->region);
		err_text(&msg, &r->err, r->failed_step);
		annotate(out, "error", title.buf, msg.buf);
		lines++;
	}
	for (i = 0; i < job->nr_items; i++) {
		const struct ams_job_item *it = &job->items[i];
		const struct ams_job_region *r = &job->regions[it->region];
		bool failed = it->status == AMS_OUT_FAILED;

		if (it->status == AMS_OUT_OK || it->status == AMS_OUT_SKIPPED)
			continue;
		if (lines == max_lines) {
			more++;
			continue;
		}
		ams_buf_reset(&title);
		ams_buf_reset(&msg);
		ams_buf_addf(&title, "amishare %s: %s in %s", cmd,
			     job->accounts[it->account].id, r->region);
		if (failed)
			err_text(&msg, ams_job_item_err_of(it),
				 it->failed_step);
		else
			ams_buf_addf(&msg, "%s: interrupted before it finished",
				     r->ami_id);
		annotate(out, failed ? "error" : "warning", title.buf, msg.buf);
		lines++;
	}
	if (more) {
		ams_buf_reset(&title);
		ams_buf_reset(&msg);
		ams_buf_addf(&title, "amishare %s", cmd);
		ams_buf_addf(&msg, "%zu more problem%s: see the JSON report",
			     more, more == 1 ? "" : "s");
		annotate(out, "error", title.buf, msg.buf);
	}
	ams_buf_release(&title);
	ams_buf_release(&msg);
}

bool ams_ci_dotenv_value_ok(const char *value)
{
	size_t n = strlen(value);
	const unsigned char *p;

	for (p = (const unsigned char *)value; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	if (n && (value[0] == ' ' || value[n - 1] == ' '))
		return false;
	return value[0] != '"' && value[0] != '\'';
}

struct dotenv {
	struct ams_buf *out;
	struct ams_buf *notes;
	size_t vars;
};

static bool dotenv_fits(const struct dotenv *d, size_t bytes, size_t vars)
{
	return d->out->len + bytes < AMS_CI_DOTENV_MAX_BYTES &&
	       d->vars + vars <= AMS_CI_DOTENV_MAX_VARS;
}

static void dotenv_add(struct dotenv *d, const char *name, const char *value)
{
	struct ams_buf line = AMS_BUF_INIT;

	if (!ams_ci_dotenv_value_ok(value)) {
		ams_buf_addf(d->notes,
			     "dotenv: " DOTENV_PREFIX "%s left out: its value "
			     "has a control character, a leading or trailing "
			     "blank or a leading quote\n",
			     name);
		return;
	}
	ams_buf_addf(&line, DOTENV_PREFIX "%s=%s\n", name, value);
	if (dotenv_fits(d, line.len, 1)) {
		ams_buf_add(d->out, line.buf, line.len);
		d->vars++;
	} else {
		ams_buf_addf(d->notes,
			     "dotenv: " DOTENV_PREFIX "%s left out: GitLab "
			     "takes fewer than %u bytes and at most %u "
			     "variables\n",
			     name, AMS_CI_DOTENV_MAX_BYTES,
			     AMS_CI_DOTENV_MAX_VARS);
	}
	ams_buf_release(&line);
}

static void dotenv_add_num(struct dotenv *d, const char *name,
			   unsigned long long v)
{
	char num[32];

	snprintf(num, sizeof(num), "%llu", v);
	dotenv_add(d, name, num);
}

/* One variable per region, all or none. */
static void dotenv_regions(struct dotenv *d, const struct ams_job *job)
{
	struct ams_buf lines = AMS_BUF_INIT, ids = AMS_BUF_INIT;
	size_t i, n = 0;

	for (i = 0; i < job->nr_regions; i++) {
		if (region_seen(job, i))
			continue;
		ams_buf_reset(&ids);
		region_ids(&ids, job, i);
		ams_ci_var_name(&lines, DOTENV_PREFIX "AMI_",
				job->regions[i].region, true);
		ams_buf_addf(&lines, "=%s\n", ids.buf);
		n++;
	}
	if (dotenv_fits(d, lines.len, n)) {
		ams_buf_add(d->out, lines.buf, lines.len);
		d->vars += n;
	} else {
		ams_buf_addf(d->notes,
			     "dotenv: the %zu " DOTENV_PREFIX "AMI_<REGION> "
			     "variables left out: GitLab takes fewer than %u "
			     "bytes and at most %u variables; "
			     "read " DOTENV_PREFIX "AMIS\n",
			     n, AMS_CI_DOTENV_MAX_BYTES,
			     AMS_CI_DOTENV_MAX_VARS);
	}
	ams_buf_release(&lines);
	ams_buf_release(&ids);
}

void ams_ci_dotenv(struct ams_buf *out, struct ams_buf *notes,
		   const struct ams_job *job, const char *report_path,
		   int exit_code)
{
	struct counts c = count_items(job);
	struct ams_buf amis = AMS_BUF_INIT;
	struct dotenv d;

	d.out = out;
	d.notes = notes;
	d.vars = 0;
	dotenv_add(&d, "STATUS", ams_job_status(job));
	dotenv_add(&d, "COMMAND", ams_ci_command_name(job));
	dotenv_add_num(&d, "EXIT_CODE", (unsigned long long)exit_code);
	dotenv_add_num(&d, "ITEMS", job->nr_items);
	dotenv_add_num(&d, "OK", c.ok);
	dotenv_add_num(&d, "FAILED", c.failed);
	dotenv_add_num(&d, "SKIPPED", c.skipped);
	ams_ci_amis_json(&amis, job);
	dotenv_add(&d, "AMIS", amis.buf);
	if (report_path)
		dotenv_add(&d, "REPORT", report_path);
	dotenv_regions(&d, job);
	ams_buf_release(&amis);
}

static enum ams_code append_file(const char *path, const char *what,
				 const struct ams_buf *data,
				 struct ams_err *err)
{
	const char *p = data->buf;
	size_t len = data->len;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		return ams_fail(err, AMS_EIO, "%s '%s': %s", what, path,
				strerror(errno));
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;

			close(fd);
			return ams_fail(err, AMS_EIO, "%s '%s': %s", what, path,
					strerror(e));
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd))
		return ams_fail(err, AMS_EIO, "%s '%s': %s", what, path,
				strerror(errno));
	return AMS_OK;
}

static const char *env_path(const struct ams_ci_outputs *o, const char *name)
{
	const char *v = o->get(name, o->payload);

	return v && *v ? v : NULL;
}

static enum ams_code write_github(const struct ams_job *job,
				  const struct ams_ci_outputs *o,
				  struct ams_err *err)
{
	struct ams_buf sb = AMS_BUF_INIT;
	const char *path;
	enum ams_code rc = AMS_OK, r;

	path = env_path(o, "GITHUB_OUTPUT");
	if (path) {
		ams_ci_gh_outputs(&sb, job, o->report_path, o->exit_code);
		ams_redact(&sb);
		rc = append_file(path, "GITHUB_OUTPUT", &sb, err);
	}
	path = env_path(o, "GITHUB_STEP_SUMMARY");
	if (path) {
		ams_buf_reset(&sb);
		ams_ci_gh_summary(&sb, job, AMS_CI_SUMMARY_MAX_BYTES);
		ams_redact(&sb);
		r = append_file(path, "GITHUB_STEP_SUMMARY", &sb, err);
		if (!rc)
			rc = r;
	}
	if (o->annotations) {
		ams_buf_reset(&sb);
		ams_ci_gh_annotations(&sb, job, AMS_CI_MAX_ANNOTATIONS);
		ams_redact(&sb);
		fwrite(sb.buf, 1, sb.len, o->annotations);
		fflush(o->annotations);
	}
	ams_buf_release(&sb);
	return rc;
}

static enum ams_code write_dotenv(const struct ams_job *job,
				  const struct ams_ci_outputs *o,
				  struct ams_err *err)
{
	struct ams_buf sb = AMS_BUF_INIT, notes = AMS_BUF_INIT;
	struct ams_str rest, line;
	enum ams_code rc;

	ams_ci_dotenv(&sb, &notes, job, o->report_path, o->exit_code);
	rest = ams_str_make(notes.buf, notes.len);
	while (rest.ptr && rest.len) {
		line = ams_str_split(&rest, '\n');
		if (line.len)
			ams_log_warn("%.*s", (int)line.len, line.ptr);
	}
	ams_redact(&sb);
	rc = ams_file_write_atomic(o->dotenv_path, sb.buf, sb.len, 0644,
				   "dotenv file", err);
	ams_buf_release(&sb);
	ams_buf_release(&notes);
	return rc;
}

enum ams_code ams_ci_outputs_write(const struct ams_job *job,
				   const struct ams_ci_outputs *o,
				   struct ams_err *err)
{
	const char *gha = o->get("GITHUB_ACTIONS", o->payload);
	enum ams_code rc = AMS_OK, r;

	if (gha && !strcmp(gha, "true"))
		rc = write_github(job, o, err);
	if (o->dotenv_path && *o->dotenv_path) {
		r = write_dotenv(job, o, err);
		if (!rc)
			rc = r;
	}
	return rc;
}

enum ams_code ams_ci_outputs_emit(const struct ams_job *job,
				  const char *report_path,
				  const char *dotenv_path, int exit_code,
				  struct ams_err *err)
{
	struct ams_ci_outputs o;

	memset(&o, 0, sizeof(o));
	o.report_path = report_path;
	o.dotenv_path = dotenv_path;
	o.exit_code = exit_code;
	o.get = ams_ci_env_getenv_process;
	o.annotations = stderr;
	return ams_ci_outputs_write(job, &o, err);
}
