/*
 * amishare share | plan | verify: one pipeline, three modes.
 *
 * share writes what is missing, plan reads and lists the writes share
 * would make, verify reads and reports every difference as drift. All
 * three resolve the same options, sign in the same way and render the
 * same report.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws.h"
#include "ci_outputs.h"
#include "clock.h"
#include "cmd.h"
#include "creds.h"
#include "http.h"
#include "inputs.h"
#include "log.h"
#include "provenance.h"
#include "report.h"
#include "share.h"

static volatile int stop_requested;

/*
 * Progress: on a terminal, one status line rewritten in place at most
 * ten times a second; elsewhere (CI logs, pipes), a plain line at every
 * tenth of the way, so logs stay short and greppable.
 */
struct progress {
	bool tty;
	uint64_t last_ms;
	size_t last_tenth;
	bool drawn;
};

static void on_progress(size_t done, size_t total, size_t failed, void *payload)
{
	struct progress *p = payload;
	uint64_t now = ams_clock_mono_ms();
	size_t tenth = total ? done * 10 / total : 10;

	if (!ams_log_enabled(AMS_LOG_INFO) || !total)
		return;
	if (p->tty) {
		if (done < total && now - p->last_ms < 100)
			return;
		p->last_ms = now;
		fprintf(stderr, "\ramishare: %zu/%zu done, %zu failed\033[K",
			done, total, failed);
		if (done == total)
			fputc('\n', stderr);
		p->drawn = done < total;
		return;
	}
	if (tenth == p->last_tenth && done < total)
		return;
	p->last_tenth = tenth;
	ams_log_info("progress: %zu/%zu done (%zu%%), %zu failed", done, total,
		     done * 100 / total, failed);
}
static struct ams_http *signal_http;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
	/* Documented async-signal-safe: one write() to an eventfd. */
	if (signal_http)
		/* NOLINTNEXTLINE(bugprone-signal-handler,cert-sig30-c) */
		ams_http_wakeup(signal_http);
}

static const char *process_getenv(const char *name, void *payload)
{
	(void)payload;
	return getenv(name);
}

/*
 * Provenance: git (libgit2) and the CI run before the inputs are
 * resolved, so --tag can use {git.*} and {ci.*}; the Packer build after.
 */
static void collect_provenance(struct ams_provenance *prov,
			       const struct ams_opts *o)
{
	struct ams_err err = AMS_ERR_INIT;
	unsigned flags = 0;

	if (ams_opts_source(o, "dirty-check") != AMS_SRC_DEFAULT &&
	    !ams_opts_flag(o, "dirty-check"))
		flags |= AMS_PROVENANCE_NO_DIRTY_CHECK;
	if (ams_provenance_collect(
		prov, ams_opts_str(o, "repo") ? ams_opts_str(o, "repo") : ".",
		flags, ams_ci_env_getenv_process, NULL, &err))
		ams_log_warn("provenance: %s", err.msg);
}

/* Adds the provenance tags and the default session name to cfg. */
static enum ams_code apply_provenance(struct ams_job_config *cfg,
				      struct ams_provenance *prov,
				      const struct ams_inputs *in,
				      const struct ams_opts *o,
				      struct ams_err *err)
{
	struct ams_provenance_tags pt;
	size_t i;

	if (in->build) {
		ams_packer_build_from_manifest(&prov->packer, in->build);
		ams_provenance_resolve(prov);
	}
	for (i = 0; i < prov->nr_warnings; i++)
		ams_log_warn("provenance: %s", prov->warnings[i]);
	if (!cfg->session_name)
		cfg->session_name =
		    prov->git.short_commit
			? xasprintf("amishare-%s", prov->git.short_commit)
			: xstrdup("amishare");
	if (ams_opts_source(o, "provenance-tags") != AMS_SRC_DEFAULT &&
	    !ams_opts_flag(o, "provenance-tags"))
		return AMS_OK;
	memset(&pt, 0, sizeof(pt));
	if (ams_provenance_tags(&pt, prov, ams_opts_str(o, "provenance-prefix"),
				err))
		return AMS_EUSAGE;
	for (i = 0; i < pt.n; i++)
		if (!ams_tags_get(&cfg->extra_tags, pt.v[i].key))
			ams_tags_set(&cfg->provenance_tags, pt.v[i].key,
				     pt.v[i].value);
	ams_provenance_tags_release(&pt);
	return AMS_OK;
}

struct session {
	struct ams_http *http;
	struct ams_aws *aws;
	struct ams_creds_config *creds_cfg;
	struct ams_creds_provider *source;
	struct ams_creds_caller caller;
	const char *sts_region;
};

static void session_release(struct session *s)
{
	ams_creds_provider_free(s->source);
	ams_creds_config_free(s->creds_cfg);
	ams_creds_caller_release(&s->caller);
	ams_aws_free(s->aws);
	ams_http_free(s->http);
	memset(s, 0, sizeof(*s));
}

static void set_log_level(const struct ams_opts *o)
{
	if (ams_opts_flag(o, "debug"))
		ams_log_set_level(AMS_LOG_DEBUG);
	else if (ams_opts_count(o, "verbose"))
		ams_log_set_level(ams_opts_count(o, "verbose") > 1
				      ? AMS_LOG_DEBUG
				      : AMS_LOG_VERBOSE);
	else if (ams_opts_flag(o, "quiet"))
		ams_log_set_level(AMS_LOG_QUIET);
}

static enum ams_code open_engine(struct session *s, const struct ams_opts *o,
				 const struct ams_job_config *cfg,
				 struct ams_err *err)
{
	struct ams_http_opts hopts;
	struct ams_endpoint_config ep;
	const char *url = ams_opts_str(o, "endpoint-url");
	enum ams_code rc;

	ams_http_opts_init(&hopts);
	rc = ams_http_opts_from_env(&hopts, err);
	if (rc)
		return rc;
	hopts.max_in_flight = cfg->parallel;
	if (cfg->timeout_ms) {
		hopts.timeout_ms = (long)cfg->timeout_ms;
		if (hopts.connect_timeout_ms > hopts.timeout_ms)
			hopts.connect_timeout_ms = hopts.timeout_ms;
	}
	rc = ams_http_new(&s->http, &hopts, err);
	if (rc)
		return rc;
	ams_endpoint_config_init(&ep);
	rc = ams_endpoint_config_from_env(&ep, err);
	if (!rc)
		rc = ams_creds_config_endpoints(&ep, s->creds_cfg, err);
	if (!rc && url)
		rc = ams_endpoint_config_set_url(&ep.override_url, url,
						 "--endpoint-url", err);
	if (!rc)
		rc = ams_aws_new(&s->aws, s->http, &ep, NULL, err);
	ams_endpoint_config_release(&ep);
	return rc;
}

struct caller_wait {
	struct ams_creds_caller *out;
	struct ams_err err;
};

static void on_caller(const struct ams_creds_caller *caller,
		      const struct ams_err *err, void *payload)
{
	struct caller_wait *w = payload;

	if (err->code) {
		ams_err_copy(&w->err, err);
		return;
	}
	w->out->account = xstrdup(caller->account);
	w->out->arn = xstrdup(caller->arn);
	w->out->user_id = caller->user_id ? xstrdup(caller->user_id) : NULL;
	w->out->partition = xstrdup(caller->partition);
}

/* Credentials of the build account, and who they are. */
static enum ams_code open_source(struct session *s, struct ams_err *err)
{
	struct ams_creds_chain_opts copts;
	struct caller_wait w;
	enum ams_code rc;

	memset(&copts, 0, sizeof(copts));
	copts.sts_region = s->sts_region;
	rc = ams_creds_chain_new(&s->source, s->aws, s->creds_cfg, &copts, err);
	if (!rc)
		rc = ams_creds_provider_resolve(s->source, 300000, err);
	if (rc)
		return rc;
	memset(&w, 0, sizeof(w));
	w.out = &s->caller;
	ams_creds_get_caller(s->aws, ams_creds_provider_identity(s->source),
			     s->sts_region, on_caller, &w);
	rc = ams_http_run(s->http, err);
	if (!rc && w.err.code) {
		ams_err_copy(err, &w.err);
		rc = w.err.code;
	}
	return rc;
}

static const char *pick_sts_region(const struct ams_opts *o,
				   const struct ams_creds_config *cfg,
				   const struct ams_inputs *in)
{
	const char *region = ams_opts_str(o, "region");

	if (!region)
		region = ams_creds_config_region(cfg);
	if (!region && in->nr_images)
		region = in->images[0].region;
	return region ? region : "us-east-1";
}

static int exit_for(enum ams_code rc)
{
	switch (rc) {
	case AMS_OK: return AMS_EXIT_OK;
	case AMS_EUSAGE:
	case AMS_ECREDS: return AMS_EXIT_USAGE;
	default: return AMS_EXIT_FAILED;
	}
}

static void print_problems(const struct ams_problems *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		ams_log_error("%s", p->msgs[i]);
	if (p->n > 1)
		ams_log_error("%zu problems; nothing was changed", p->n);
}

static int finish(struct ams_job *job, const struct ams_opts *o,
		  const struct ams_report_meta *meta)
{
	const char *path = ams_opts_str(o, "report");
	const char *fmt = ams_opts_str(o, "output");
	struct ams_buf out = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT, ci_err = AMS_ERR_INIT;
	int code = ams_job_all_ok(job) ? AMS_EXIT_OK : AMS_EXIT_FAILED;

	if (fmt && !strcmp(fmt, "json"))
		ams_report_json(&out, job, meta);
	else if (!ams_opts_flag(o, "quiet"))
		ams_report_text(&out, job, meta);
	ams_redact(&out);
	fwrite(out.buf, 1, out.len, stdout);
	fflush(stdout);
	ams_buf_release(&out);
	if (path && ams_report_write(path, job, meta, &err)) {
		ams_log_error("%s", err.msg);
		code = AMS_EXIT_FAILED;
	}
	if (job->interrupted)
		code = AMS_EXIT_SIGNAL;
	if (ams_ci_outputs_emit(job, path, ams_opts_str(o, "dotenv"), code,
				&ci_err)) {
		ams_log_error("%s", ci_err.msg);
		if (code == AMS_EXIT_OK)
			code = AMS_EXIT_FAILED;
	}
	return code;
}

/*
 * The run ends before its writes (set-up failed, or what the source holds
 * makes the request invalid): every item and image not decided yet fails
 * with err at step, so the report says so and no report an earlier run
 * left at the same path outlives this one as if it were its result.
 */
static void fail_undecided(struct ams_job *job, const char *step,
			   const struct ams_err *err)
{
	size_t i;

	for (i = 0; i < job->nr_items; i++) {
		struct ams_job_item *it = &job->items[i];

		if (it->status != AMS_OUT_PENDING)
			continue;
		it->status = AMS_OUT_FAILED;
		it->failed_step = step;
		ams_err_copy(ams_job_item_err(it), err);
	}
	for (i = 0; i < job->nr_regions; i++) {
		struct ams_job_region *reg = &job->regions[i];

		if (reg->err.code == AMS_OK) {
			reg->failed_step = step;
			ams_err_copy(&reg->err, err);
		}
		if (reg->describe == AMS_OUT_PENDING)
			reg->describe = AMS_OUT_FAILED;
		if (reg->share == AMS_OUT_PENDING)
			reg->share = AMS_OUT_FAILED;
	}
	if (!job->started_at)
		job->started_at = (int64_t)ams_clock_wall();
	job->finished_at = (int64_t)ams_clock_wall();
}

/* The --report of a run that ended before its writes (see above). */
static void write_failed_report(struct ams_job *job, const struct ams_opts *o,
				const struct ams_report_meta *meta)
{
	const char *path = ams_opts_str(o, "report");
	struct ams_err err = AMS_ERR_INIT;

	if (path && ams_report_write(path, job, meta, &err))
		ams_log_error("%s", err.msg);
}

static int run_job(enum ams_job_mode mode, const char *name, bool revoke,
		   int argc, char **argv)
{
	struct ams_opts o;
	struct ams_problems problems = AMS_PROBLEMS_INIT;
	struct ams_job_config cfg;
	struct ams_inputs in;
	struct ams_job job;
	struct ams_report_meta meta;
	struct session s;
	struct ams_share_env env;
	struct ams_provenance prov;
	struct progress progress;
	struct ams_err err = AMS_ERR_INIT;
	enum ams_code rc;
	int code;

	memset(&s, 0, sizeof(s));
	memset(&job, 0, sizeof(job));
	memset(&in, 0, sizeof(in));
	memset(&cfg, 0, sizeof(cfg));
	ams_provenance_init(&prov);
	if (ams_opts_parse(&o, ams_job_opt_defs, ams_job_opt_count, argc - 1,
			   argv + 1, process_getenv, NULL, ".amishare.json",
			   &err)) {
		ams_opts_release(&o);
		return ams_cmd_usage_error(name, "%s", err.msg);
	}
	/*
	 * From here until the report is written a signal only asks to stop:
	 * one that comes during set-up stops the run before its first
	 * request, and the report still tells what was (not) done.
	 */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	set_log_level(&o);
	collect_provenance(&prov, &o);
	if (ams_inputs_resolve(&cfg, &in, &o, mode, process_getenv, NULL,
			       ams_provenance_placeholder, &prov, &problems)) {
		print_problems(&problems);
		code = AMS_EXIT_USAGE;
		goto out;
	}
	cfg.revoke = cfg.revoke || revoke;
	if (apply_provenance(&cfg, &prov, &in, &o, &err)) {
		ams_log_error("%s", err.msg);
		code = AMS_EXIT_USAGE;
		goto out;
	}
	memset(&meta, 0, sizeof(meta));
	meta.command = name;
	meta.manifest_path = in.manifest_path;
	meta.run_uuid = in.run_uuid;
	meta.build_name = in.build_name;
	meta.provenance = ams_provenance_report_json;
	meta.provenance_payload = &prov;
	rc = ams_creds_config_load(&s.creds_cfg, ams_opts_str(&o, "profile"),
				   NULL, NULL, &err);
	s.sts_region = pick_sts_region(&o, s.creds_cfg, &in);
	if (!rc)
		rc = open_engine(&s, &o, &cfg, &err);
	if (!rc)
		rc = open_source(&s, &err);
	if (rc) {
		ams_log_error("%s", err.msg);
		code = exit_for(rc);
		ams_job_init(&job, &cfg, in.images, in.nr_images);
		ams_job_make_items(&job);
		fail_undecided(&job, "set-up", &err);
		write_failed_report(&job, &o, &meta);
		goto out;
	}
	ams_log_verbose("source account %s (%s)", s.caller.account,
			ams_creds_provider_describe(s.source));

	ams_job_init(&job, &cfg, in.images, in.nr_images);
	job.source_account = xstrdup(s.caller.account);
	job.source_arn = xstrdup(s.caller.arn);
	job.partition = xstrdup(s.caller.partition);
	ams_job_make_items(&job);

	memset(&env, 0, sizeof(env));
	env.aws = s.aws;
	env.source = ams_creds_provider_identity(s.source);
	env.sts_region = s.sts_region;
	env.stop_flag = &stop_requested;
	memset(&progress, 0, sizeof(progress));
	progress.tty = isatty(STDERR_FILENO) && !getenv("CI");
	env.progress = on_progress;
	env.progress_payload = &progress;
	signal_http = s.http;
	rc = ams_share_run(&job, &env, &err);
	if (progress.drawn)
		fputc('\n', stderr);
	signal_http = NULL;
	if (rc == AMS_EUSAGE) {
		ams_log_error("%s; nothing was changed", err.msg);
		code = AMS_EXIT_USAGE;
		fail_undecided(&job, "check", &err);
		write_failed_report(&job, &o, &meta);
		goto out;
	}
	if (rc) {
		ams_log_error("%s", err.msg);
		fail_undecided(&job, "engine", &err);
	}
	code = finish(&job, &o, &meta);
	if (rc && code == AMS_EXIT_OK)
		code = AMS_EXIT_FAILED;
out:
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	ams_job_release(&job);
	ams_job_config_release(&cfg);
	ams_inputs_release(&in);
	session_release(&s);
	ams_provenance_release(&prov);
	ams_problems_release(&problems);
	ams_opts_release(&o);
	return code;
}

static int cmd_share(int argc, char **argv)
{
	return run_job(AMS_JOB_SHARE, "share", false, argc, argv);
}

static int cmd_plan(int argc, char **argv)
{
	return run_job(AMS_JOB_PLAN, "plan", false, argc, argv);
}

static int cmd_verify(int argc, char **argv)
{
	return run_job(AMS_JOB_VERIFY, "verify", false, argc, argv);
}

static int cmd_revoke(int argc, char **argv)
{
	return run_job(AMS_JOB_SHARE, "revoke", true, argc, argv);
}

static void job_help(struct ams_buf *out, const char *name)
{
	static const char *const what[] = {
		"share",
		"share the build's AMIs and write their tags in "
		"every target account",
		"plan",
		"show what share would do (reads only; --preflight "
		"proves permissions with DryRun)",
		"verify",
		"check from every target that the AMI is shared "
		"and tagged; drift exits 1",
	};
	size_t i;

	ams_buf_addf(out, "usage: amishare %s [options]\n\n", name);
	for (i = 0; i < ARRAY_SIZE(what); i += 2)
		if (!strcmp(what[i], name))
			ams_buf_addf(out, "%s.\n\n", what[i + 1]);
	ams_buf_addstr(out, "options (each also AMISHARE_<OPTION> or a key of "
			    "the --config JSON file;\nflags beat the "
			    "environment, which beats the file):\n");
	ams_opts_usage(out, ams_job_opt_defs, ams_job_opt_count);
}

const struct ams_cmd ams_cmd_share = {
	"share", cmd_share,
	"share the build's AMIs and write their tags in every target", NULL,
	job_help
};
const struct ams_cmd ams_cmd_plan = { "plan", cmd_plan,
				      "show what share would do; no writes",
				      NULL, job_help };
const struct ams_cmd ams_cmd_verify = {
	"verify", cmd_verify,
	"check from every target that the AMI is shared and tagged", NULL,
	job_help
};
const struct ams_cmd ams_cmd_revoke = {
	"revoke", cmd_revoke,
	"undo share in every target, then remove the permissions", NULL,
	job_help
};
