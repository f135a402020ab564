/*
 * Resolution and validation of the share/plan/verify options into a job
 * configuration and the list of AMIs. Every problem is collected, so a
 * user fixes them all in one go; nothing here talks to AWS.
 */
#include "inputs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "ec2.h"
#include "endpoint.h"
#include "fileio.h"
#include "log.h"
#include "orgs.h"
#include "ssm.h"
#include "strset.h"

#define DEFAULT_PARALLEL 64
#define MAX_PARALLEL 1024
#define DEFAULT_VISIBILITY_WAIT_S 120
#define MIN_TIMEOUT_MS 100
#define MAX_TIMEOUT_MS 600000

const struct ams_opt_def ams_job_opt_defs[] = {
	/* Inputs. */
	{ "manifest", 'm', AMS_OPT_STRING, "PATH",
	  "Packer manifest.json (default: packer-manifest.json, then "
	  "manifest.json)",
	  false },
	{ "build", 0, AMS_OPT_STRING, "NAME",
	  "only this build (default: PACKER_BUILD_NAME, else every build "
	  "of the run)",
	  false },
	{ "run-uuid", 0, AMS_OPT_STRING, "UUID",
	  "the Packer run (default: PACKER_RUN_UUID, else last_run_uuid)",
	  false },
	{ "ami", 0, AMS_OPT_LIST, "REGION:AMI",
	  "an AMI to share, repeatable; 'r1:ami-a,r2:ami-b' works too", false },
	/* Targets. */
	{ "accounts", 'a', AMS_OPT_LIST, "LIST",
	  "target account ids (comma or space separated, repeatable)", false },
	{ "accounts-file", 0, AMS_OPT_STRING, "PATH",
	  "target account ids, one per line, # comments", false },
	{ "exclude-accounts", 0, AMS_OPT_LIST, "LIST",
	  "accounts to leave out (for example those without the role)", false },
	{ "org-arn", 0, AMS_OPT_LIST, "ARN", "share with an organization",
	  false },
	{ "ou-arn", 0, AMS_OPT_LIST, "ARN", "share with an organizational unit",
	  false },
	{ "org-role", 0, AMS_OPT_STRING, "ARN",
	  "role in the management or delegated-admin account: tag every "
	  "active member of --org-arn/--ou-arn too",
	  false },
	{ "role-name", 'r', AMS_OPT_STRING, "NAME",
	  "role to assume in every target account", false },
	{ "role-arn", 0, AMS_OPT_STRING, "TEMPLATE",
	  "role ARN template with {account} and {partition}", false },
	{ "external-id", 0, AMS_OPT_STRING, "ID",
	  "ExternalId for the target roles", false },
	{ "session-name", 0, AMS_OPT_STRING, "NAME",
	  "AssumeRole session name (default: amishare-<short commit>)", false },
	{ "role-duration", 0, AMS_OPT_INT, "SECONDS",
	  "AssumeRole DurationSeconds (900-43200)", false },
	/* Tagging. */
	{ "tag", 't', AMS_OPT_MULTI, "KEY=VALUE",
	  "add a tag; values may use {git.commit}, {build.name}, "
	  "{packer.run_uuid}, {date}, ...",
	  false },
	{ "include-tags", 0, AMS_OPT_LIST, "GLOBS",
	  "copy only source tags whose keys match", false },
	{ "exclude-tags", 0, AMS_OPT_LIST, "GLOBS",
	  "do not copy source tags whose keys match", false },
	{ "copy-tags", 0, AMS_OPT_FLAG, NULL,
	  "copy the source AMI's tags (default; --no-copy-tags)", false },
	{ "provenance-tags", 0, AMS_OPT_FLAG, NULL,
	  "write provenance tags (default; --no-provenance-tags)", false },
	{ "provenance-prefix", 0, AMS_OPT_STRING, "PREFIX",
	  "key prefix of provenance tags", false },
	{ "repo", 0, AMS_OPT_STRING, "PATH",
	  "git repository for provenance (default: the working directory)",
	  false },
	{ "dirty-check", 0, AMS_OPT_FLAG, NULL,
	  "scan the work tree for changes (default; --no-dirty-check for "
	  "huge trees)",
	  false },
	/* Sharing. */
	{ "share-snapshots", 0, AMS_OPT_FLAG, NULL,
	  "also grant createVolumePermission on the AMI's snapshots", false },
	{ "kms-grants", 0, AMS_OPT_FLAG, NULL,
	  "create a named KMS grant per key of encrypted snapshots and "
	  "target",
	  false },
	{ "kms-check", 0, AMS_OPT_FLAG, NULL,
	  "report targets without a KMS grant on encrypted snapshots' keys",
	  false },
	{ "ssm-parameter", 0, AMS_OPT_STRING, "NAME",
	  "write the AMI id into this SSM parameter in every target and "
	  "region (aws:ec2:image; placeholders allowed)",
	  false },
	{ "deprecate-at", 0, AMS_OPT_STRING, "TIME",
	  "set the image's deprecation time (YYYY-MM-DD or ISO 8601 UTC)",
	  false },
	{ "allow-public", 0, AMS_OPT_FLAG, NULL,
	  "allow the 'all' group (public); refused otherwise", false },
	{ "revoke", 0, AMS_OPT_FLAG, NULL,
	  "plan/verify: what revoke would undo, or that it is undone", false },
	{ "preflight", 0, AMS_OPT_FLAG, NULL,
	  "plan: prove every write with EC2 DryRun", false },
	{ "visibility-wait", 0, AMS_OPT_INT, "SECONDS",
	  "how long a target may not yet see a new share (default 120)",
	  false },
	/* Output and engine. */
	{ "report", 'o', AMS_OPT_STRING, "PATH",
	  "write the JSON report here (also when the run fails)", false },
	{ "output", 0, AMS_OPT_STRING, "FORMAT",
	  "stdout format: text (default) or json", false },
	{ "dotenv", 0, AMS_OPT_STRING, "PATH",
	  "write the outcome as a dotenv file (GitLab's "
	  "artifacts:reports:dotenv)",
	  false },
	{ "quiet", 'q', AMS_OPT_FLAG, NULL, "errors only on stderr", false },
	{ "verbose", 'v', AMS_OPT_FLAG, NULL, "more detail on stderr", true },
	{ "debug", 0, AMS_OPT_FLAG, NULL,
	  "log requests and responses (secrets redacted)", false },
	{ "parallel", 'j', AMS_OPT_INT, "N",
	  "requests in flight at once (default 64)", false },
	{ "timeout-ms", 0, AMS_OPT_INT, "MS",
	  "give up an HTTP attempt after this long and retry (default 60000)",
	  false },
	{ "region", 0, AMS_OPT_STRING, "REGION",
	  "Region for STS (default: AWS_REGION, the profile, the first "
	  "AMI's)",
	  false },
	{ "profile", 0, AMS_OPT_STRING, "NAME", "AWS profile", false },
	{ "endpoint-url", 0, AMS_OPT_STRING, "URL",
	  "send every AWS call here (an AWS-compatible endpoint)", false },
	{ "config", 'c', AMS_OPT_STRING, "PATH",
	  "JSON config file (default: .amishare.json if present)", false },
};
const size_t ams_job_opt_count = ARRAY_SIZE(ams_job_opt_defs);

static char **strv_push(char **v, size_t *n, const char *s)
{
	v = xreallocarray(v, *n + 1, sizeof(*v));
	v[(*n)++] = xstrdup(s);
	return v;
}

static bool strv_has(char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static const char *source_name(const struct ams_opts *o, const char *opt)
{
	switch (ams_opts_source(o, opt)) {
	case AMS_SRC_ENV: return "environment";
	case AMS_SRC_FILE: return "config";
	default: return "option";
	}
}

/* ---- Images ------------------------------------------------------------ */

static void images_from_manifest(struct ams_inputs *in, const char *path,
				 const struct ams_opts *o,
				 ams_getenv_fn *getenv_fn, void *env_payload,
				 struct ams_problems *pr)
{
	struct ams_err err = AMS_ERR_INIT;
	const char *run = ams_opts_str(o, "run-uuid");
	const char *build = ams_opts_str(o, "build");
	size_t i;

	if (!run)
		run = getenv_fn("PACKER_RUN_UUID", env_payload);
	if (!build)
		build = getenv_fn("PACKER_BUILD_NAME", env_payload);
	in->manifest_path = xstrdup(path);
	if (ams_manifest_load(&in->manifest, path, &err) ||
	    ams_manifest_select(&in->builds, &in->nr_builds, &in->manifest, run,
				build, &err)) {
		ams_problems_take(pr, &err);
		return;
	}
	in->run_uuid = run && *run ? xstrdup(run)
		       : in->manifest.last_run_uuid
			   ? xstrdup(in->manifest.last_run_uuid)
			   : NULL;
	in->build_name = build && *build ? xstrdup(build) : NULL;
	in->build = in->builds[0];
	for (i = 0; i < in->nr_builds; i++) {
		const struct ams_manifest_build *b = in->builds[i];
		char *origin =
		    xasprintf("manifest '%s': builds[%zu]", path, b->index);
		char *field = xasprintf("%s.artifact_id", origin);

		if (b->builder_type && strncmp(b->builder_type, "amazon-", 7))
			ams_problems_add(pr,
					 "%s.builder_type: '%s' does not "
					 "build AMIs",
					 origin, b->builder_type);
		else if (ams_artifact_parse(&in->images, &in->nr_images,
					    b->artifact_id, field, b->name,
					    &err))
			ams_problems_take(pr, &err);
		free(origin);
		free(field);
	}
}

static void resolve_images(struct ams_inputs *in, const struct ams_opts *o,
			   ams_getenv_fn *getenv_fn, void *env_payload,
			   struct ams_problems *pr)
{
	struct ams_err err = AMS_ERR_INIT;
	const char *manifest = ams_opts_str(o, "manifest");
	char *const *amis;
	size_t n, i;

	amis = ams_opts_list(o, "ami", &n);
	for (i = 0; i < n; i++)
		if (ams_artifact_parse(&in->images, &in->nr_images, amis[i],
				       "--ami", NULL, &err))
			ams_problems_take(pr, &err);
	if (!manifest && !n) {
		if (!access("packer-manifest.json", F_OK))
			manifest = "packer-manifest.json";
		else if (!access("manifest.json", F_OK))
			manifest = "manifest.json";
		else
			ams_problems_add(pr,
					 "no images: give --manifest PATH or "
					 "--ami REGION:AMI_ID (there is no "
					 "packer-manifest.json or "
					 "manifest.json here)");
	}
	if (manifest)
		images_from_manifest(in, manifest, o, getenv_fn, env_payload,
				     pr);
	for (i = 0; i < in->nr_images; i++) {
		const struct ams_image_ref *r = &in->images[i];
		enum ams_partition part;
		size_t j;

		if (ams_region_partition(&part, r->region, &err)) {
			ams_err_prefix(&err, "%s", r->origin);
			ams_problems_take(pr, &err);
		}
		if (ams_ec2_check_image_id(r->ami_id, &err)) {
			ams_err_prefix(&err, "%s", r->origin);
			ams_problems_take(pr, &err);
		}
		for (j = 0; j < i; j++)
			if (!strcmp(in->images[j].ami_id, r->ami_id) &&
			    !strcmp(in->images[j].region, r->region))
				ams_problems_add(
				    pr, "%s: %s in %s is listed twice",
				    r->origin, r->ami_id, r->region);
	}
}

/* ---- Targets ----------------------------------------------------------- */

/* seen: the accounts listed so far, to find one listed twice. */
static void add_account(struct ams_job_config *cfg, struct ams_strset *seen,
			const char *id, const char *where,
			struct ams_problems *pr)
{
	struct ams_err err = AMS_ERR_INIT;

	if (ams_ec2_check_account_id(id, &err)) {
		ams_err_prefix(&err, "%s", where);
		ams_problems_take(pr, &err);
		return;
	}
	if (ams_strset_has(seen, id)) {
		ams_problems_add(pr, "%s: account %s is listed twice", where,
				 id);
		return;
	}
	cfg->accounts = strv_push(cfg->accounts, &cfg->nr_accounts, id);
	ams_strset_add(seen, cfg->accounts[cfg->nr_accounts - 1]);
}

static void accounts_from_file(struct ams_job_config *cfg,
			       struct ams_strset *seen, const char *path,
			       struct ams_problems *pr)
{
	struct ams_buf sb = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;
	struct ams_str rest;
	unsigned line = 0;

	if (ams_file_read(&sb, path, 16u << 20, "accounts file", &err)) {
		ams_problems_take(pr, &err);
		return;
	}
	rest = ams_str_make(sb.buf, sb.len);
	while (rest.ptr) {
		struct ams_str l = ams_str_split(&rest, '\n');
		const char *hash = l.len ? memchr(l.ptr, '#', l.len) : NULL;
		char *text, *where, *tok, *save = NULL;

		line++;
		if (hash)
			l.len = (size_t)(hash - l.ptr);
		text = ams_str_dup(l);
		where = xasprintf("accounts file '%s' line %u", path, line);
		for (tok = strtok_r(text, " \t\r,", &save); tok;
		     tok = strtok_r(NULL, " \t\r,", &save))
			add_account(cfg, seen, tok, where, pr);
		free(where);
		free(text);
	}
	ams_buf_release(&sb);
}

enum ams_code ams_inputs_check_session_name(const char *name,
					    struct ams_err *err)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyz"
				 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				 "_+=,.@-";
	size_t n = strlen(name);

	if (n < 2 || n > 64 || strspn(name, ok) != n)
		return ams_fail(err, AMS_EUSAGE,
				"session name '%s': use 2 to 64 of letters, "
				"digits and _+=,.@-",
				name);
	return AMS_OK;
}

static void resolve_arns(char ***out, size_t *nr, const struct ams_opts *o,
			 const char *opt, bool ou, struct ams_problems *pr)
{
	struct ams_err err = AMS_ERR_INIT;
	char *const *v;
	size_t n, i;

	v = ams_opts_list(o, opt, &n);
	for (i = 0; i < n; i++) {
		if (ou ? ams_orgs_check_ou_arn(v[i], &err)
		       : ams_orgs_check_org_arn(v[i], &err)) {
			ams_err_prefix(&err, "--%s", opt);
			ams_problems_take(pr, &err);
		} else if (strv_has(*out, *nr, v[i])) {
			ams_problems_add(pr, "--%s: '%s' is listed twice", opt,
					 v[i]);
		} else {
			*out = strv_push(*out, nr, v[i]);
		}
	}
}

static void resolve_role(struct ams_job_config *cfg, const struct ams_opts *o,
			 struct ams_problems *pr)
{
	static const char name_chars[] = "abcdefghijklmnopqrstuvwxyz"
					 "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "0123456789_+=,.@-/";
	const char *name = ams_opts_str(o, "role-name");
	const char *tmpl = ams_opts_str(o, "role-arn");
	struct ams_err err = AMS_ERR_INIT;

	if (name && tmpl) {
		ams_problems_add(pr,
				 "give --role-name or --role-arn, not both");
		return;
	}
	if (tmpl) {
		char *probe = NULL;

		if (!strstr(tmpl, "{account}"))
			ams_problems_add(pr,
					 "--role-arn '%s': the template needs "
					 "{account}",
					 tmpl);
		else if (ams_job_role_arn(&probe, tmpl, "123456789012", "aws",
					  &err))
			ams_problems_take(pr, &err);
		else if (strncmp(probe, "arn:", 4) ||
			 !strstr(probe, ":iam::123456789012:role/"))
			ams_problems_add(pr,
					 "--role-arn '%s': expected "
					 "arn:{partition}:iam::{account}:"
					 "role/NAME",
					 tmpl);
		free(probe);
		cfg->role_arn_template = xstrdup(tmpl);
		return;
	}
	if (name) {
		size_t n = strlen(name);

		if (!n || n > 64 || strspn(name, name_chars) != n ||
		    name[0] == '/' || name[n - 1] == '/')
			ams_problems_add(pr,
					 "--role-name '%s': use 1 to 64 of "
					 "letters, digits and _+=,.@- (a path "
					 "may precede it: path/Name)",
					 name);
		cfg->role_arn_template =
		    xasprintf("arn:{partition}:iam::{account}:role/%s", name);
	}
}

static void resolve_targets(struct ams_job_config *cfg,
			    const struct ams_opts *o, struct ams_problems *pr)
{
	const char *file = ams_opts_str(o, "accounts-file");
	const char *ext = ams_opts_str(o, "external-id");
	const char *session = ams_opts_str(o, "session-name");
	struct ams_err err = AMS_ERR_INIT;
	struct ams_strset seen = AMS_STRSET_INIT;
	char *const *v;
	char *where;
	size_t n, i, j;

	for (i = 0; i < cfg->nr_accounts; i++)
		ams_strset_add(&seen, cfg->accounts[i]);
	v = ams_opts_list(o, "accounts", &n);
	where = xasprintf("--accounts (%s)", source_name(o, "accounts"));
	for (i = 0; i < n; i++) {
		if (!strcmp(v[i], "all")) {
			ams_problems_add(pr,
					 "--accounts: 'all' would make the "
					 "image public; amishare never does "
					 "that");
			continue;
		}
		add_account(cfg, &seen, v[i], where, pr);
	}
	free(where);
	if (file)
		accounts_from_file(cfg, &seen, file, pr);
	ams_strset_release(&seen); /* exclusions free listed strings */
	v = ams_opts_list(o, "exclude-accounts", &n);
	for (i = 0; i < n; i++) {
		if (ams_ec2_check_account_id(v[i], &err)) {
			ams_err_prefix(&err, "--exclude-accounts");
			ams_problems_take(pr, &err);
			continue;
		}
		cfg->exclude_accounts = strv_push(
		    cfg->exclude_accounts, &cfg->nr_exclude_accounts, v[i]);
		for (j = 0; j < cfg->nr_accounts; j++)
			if (!strcmp(cfg->accounts[j], v[i])) {
				free(cfg->accounts[j]);
				memmove(&cfg->accounts[j],
					&cfg->accounts[j + 1],
					(cfg->nr_accounts - j - 1) *
					    sizeof(*cfg->accounts));
				cfg->nr_accounts--;
				break;
			}
	}
	resolve_arns(&cfg->org_arns, &cfg->nr_org_arns, o, "org-arn", false,
		     pr);
	resolve_arns(&cfg->ou_arns, &cfg->nr_ou_arns, o, "ou-arn", true, pr);
	if (!cfg->nr_accounts && !cfg->nr_org_arns && !cfg->nr_ou_arns)
		ams_problems_add(pr, "no targets: give --accounts, "
				     "--accounts-file, --org-arn or --ou-arn");
	resolve_role(cfg, o, pr);
	if (ams_opts_str(o, "org-role")) {
		const char *arn = ams_opts_str(o, "org-role");

		if (strncmp(arn, "arn:", 4) || !strstr(arn, ":iam::") ||
		    !strstr(arn, ":role/"))
			ams_problems_add(pr,
					 "--org-role '%s': expected a role ARN "
					 "(arn:aws:iam::<account>:role/NAME)",
					 arn);
		else if (!cfg->nr_org_arns && !cfg->nr_ou_arns)
			ams_problems_add(pr, "--org-role needs --org-arn or "
					     "--ou-arn");
		cfg->org_role_arn = xstrdup(arn);
	}
	if ((cfg->nr_accounts || cfg->org_role_arn) && !cfg->role_arn_template)
		ams_problems_add(pr, "tagging in target accounts needs a role: "
				     "give --role-name NAME or --role-arn "
				     "TEMPLATE");
	if (ext) {
		size_t len = strlen(ext);

		if (len < 2 || len > 1224)
			ams_problems_add(pr, "--external-id: must be 2 to 1224 "
					     "characters");
		cfg->external_id = xstrdup(ext);
		/* It guards the role: no log or report shows it. */
		ams_log_add_secret(ext);
	}
	if (session) {
		if (ams_inputs_check_session_name(session, &err))
			ams_problems_take(pr, &err);
		cfg->session_name = xstrdup(session);
	}
	cfg->duration_s = (unsigned)ams_opts_int(o, "role-duration", 0);
	if (cfg->duration_s &&
	    (cfg->duration_s < 900 || cfg->duration_s > 43200))
		ams_problems_add(pr,
				 "--role-duration: %u is outside 900-43200 "
				 "seconds",
				 cfg->duration_s);
}

/* ---- Tags -------------------------------------------------------------- */

struct lookup_ctx {
	const struct ams_inputs *in;
	ams_inputs_placeholder_fn *extra;
	void *extra_payload;
	char date[11];
	char timestamp[21];
	char build_time[21];
};

static const char *lookup(const char *name, void *payload)
{
	struct lookup_ctx *c = payload;
	const struct ams_manifest_build *b = c->in->build;
	size_t i;

	if (!strcmp(name, "date"))
		return c->date;
	if (!strcmp(name, "timestamp"))
		return c->timestamp;
	if (!strcmp(name, "build.name"))
		return b && b->name ? b->name : "";
	if (!strcmp(name, "build.time"))
		return c->build_time;
	if (!strcmp(name, "packer.run_uuid"))
		return c->in->run_uuid ? c->in->run_uuid : "";
	if (!strcmp(name, "packer.builder_type"))
		return b && b->builder_type ? b->builder_type : "";
	if (!strncmp(name, "custom.", 7)) {
		for (i = 0; b && i < b->nr_custom_data; i++)
			if (!strcmp(b->custom_data[i].key, name + 7))
				return b->custom_data[i].value;
		return "";
	}
	return c->extra ? c->extra(name, c->extra_payload) : NULL;
}

static void lookup_init(struct lookup_ctx *ctx, const struct ams_inputs *in,
			ams_inputs_placeholder_fn *extra, void *extra_payload)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->in = in;
	ctx->extra = extra;
	ctx->extra_payload = extra_payload;
	ams_clock_iso8601(ctx->timestamp, ams_clock_wall());
	memcpy(ctx->date, ctx->timestamp, 10);
	if (in->build && in->build->build_time)
		ams_clock_iso8601(ctx->build_time,
				  (time_t)in->build->build_time);
}

static void resolve_tags(struct ams_job_config *cfg,
			 const struct ams_inputs *in, const struct ams_opts *o,
			 ams_inputs_placeholder_fn *extra, void *extra_payload,
			 struct ams_problems *pr)
{
	struct lookup_ctx ctx;
	struct ams_err err = AMS_ERR_INIT;
	char *const *v;
	size_t n, i;

	lookup_init(&ctx, in, extra, extra_payload);

	v = ams_opts_list(o, "tag", &n);
	for (i = 0; i < n; i++) {
		struct ams_buf val = AMS_BUF_INIT;
		char *key = NULL, *tmpl = NULL, *where;

		where = xasprintf("--tag '%s'", v[i]);
		if (ams_tag_parse_assignment(&key, &tmpl, v[i], &err) ||
		    ams_ec2_check_tag_key(key, &err) ||
		    ams_tags_expand(&val, tmpl, lookup, &ctx, where, &err) ||
		    ams_ec2_check_tag_value(val.buf, &err)) {
			if (!strstr(err.msg, "--tag"))
				ams_err_prefix(&err, "%s", where);
			ams_problems_take(pr, &err);
		} else if (ams_tags_get(&cfg->extra_tags, key)) {
			ams_problems_add(pr, "%s: key '%s' is given twice",
					 where, key);
		} else {
			ams_tags_set(&cfg->extra_tags, key, val.buf);
		}
		ams_buf_release(&val);
		free(key);
		free(tmpl);
		free(where);
	}
	v = ams_opts_list(o, "include-tags", &n);
	for (i = 0; i < n; i++)
		cfg->include_tags =
		    strv_push(cfg->include_tags, &cfg->nr_include_tags, v[i]);
	v = ams_opts_list(o, "exclude-tags", &n);
	for (i = 0; i < n; i++)
		cfg->exclude_tags =
		    strv_push(cfg->exclude_tags, &cfg->nr_exclude_tags, v[i]);
	cfg->copy_tags = ams_opts_source(o, "copy-tags") == AMS_SRC_DEFAULT ||
			 ams_opts_flag(o, "copy-tags");
	if (cfg->extra_tags.n > AMS_EC2_MAX_TAGS_PER_RESOURCE)
		ams_problems_add(pr,
				 "%zu tags given with --tag; AWS allows %d "
				 "per resource",
				 cfg->extra_tags.n,
				 AMS_EC2_MAX_TAGS_PER_RESOURCE);
}

/* KMS, SSM, deprecation and the provenance prefix. */
static void resolve_extras(struct ams_job_config *cfg,
			   const struct ams_inputs *in,
			   const struct ams_opts *o,
			   ams_inputs_placeholder_fn *extra,
			   void *extra_payload, struct ams_problems *pr)
{
	const char *ssm = ams_opts_str(o, "ssm-parameter");
	const char *dep = ams_opts_str(o, "deprecate-at");
	const char *prefix = ams_opts_str(o, "provenance-prefix");
	struct ams_err err = AMS_ERR_INIT;

	if (ams_opts_flag(o, "kms-grants") && ams_opts_flag(o, "kms-check"))
		ams_problems_add(pr, "give --kms-grants or --kms-check, not "
				     "both");
	else if (ams_opts_flag(o, "kms-grants"))
		cfg->kms_mode = AMS_KMS_GRANTS;
	else if (ams_opts_flag(o, "kms-check"))
		cfg->kms_mode = AMS_KMS_CHECK;
	if (ssm) {
		struct lookup_ctx ctx;
		struct ams_buf name = AMS_BUF_INIT;
		char *where = xasprintf("--ssm-parameter '%s'", ssm);

		lookup_init(&ctx, in, extra, extra_payload);
		if (ams_tags_expand(&name, ssm, lookup, &ctx, where, &err) ||
		    ams_ssm_check_name(name.buf, &err)) {
			if (!strstr(err.msg, "--ssm-parameter"))
				ams_err_prefix(&err, "%s", where);
			ams_problems_take(pr, &err);
		}
		cfg->ssm_parameter = ams_buf_detach(&name, NULL);
		free(where);
	}
	if (dep) {
		char *full = strlen(dep) == 10 ? xasprintf("%sT00:00:00Z", dep)
					       : xstrdup(dep);
		time_t t;

		if (!ams_clock_parse_iso8601(full, &t))
			ams_problems_add(pr,
					 "--deprecate-at '%s': expected "
					 "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ",
					 dep);
		else
			cfg->deprecate_at = (int64_t)t;
		free(full);
	}
	cfg->provenance_prefix = xstrdup(prefix ? prefix : "provenance:");
}

enum ams_code ams_inputs_resolve(struct ams_job_config *cfg,
				 struct ams_inputs *in,
				 const struct ams_opts *opts,
				 enum ams_job_mode mode,
				 ams_getenv_fn *getenv_fn, void *env_payload,
				 ams_inputs_placeholder_fn *extra_lookup,
				 void *lookup_payload,
				 struct ams_problems *problems)
{
	const char *output = ams_opts_str(opts, "output");
	long long parallel, timeout_ms;

	memset(cfg, 0, sizeof(*cfg));
	memset(in, 0, sizeof(*in));
	cfg->mode = mode;
	if (opts->nr_args)
		ams_problems_add(problems, "unexpected argument '%s'",
				 opts->args[0]);
	resolve_images(in, opts, getenv_fn, env_payload, problems);
	resolve_targets(cfg, opts, problems);
	resolve_tags(cfg, in, opts, extra_lookup, lookup_payload, problems);
	resolve_extras(cfg, in, opts, extra_lookup, lookup_payload, problems);
	cfg->share_snapshots = ams_opts_flag(opts, "share-snapshots");
	cfg->allow_public = ams_opts_flag(opts, "allow-public");
	cfg->preflight = ams_opts_flag(opts, "preflight");
	cfg->revoke = ams_opts_flag(opts, "revoke");
	if (cfg->revoke && mode == AMS_JOB_SHARE)
		ams_problems_add(problems, "--revoke belongs to plan and "
					   "verify; use 'amishare revoke'");
	if (cfg->preflight && mode != AMS_JOB_PLAN)
		ams_problems_add(problems, "--preflight belongs to plan");
	parallel = ams_opts_int(opts, "parallel", DEFAULT_PARALLEL);
	if (parallel < 1 || parallel > MAX_PARALLEL)
		ams_problems_add(problems, "--parallel: %lld is outside 1-%d",
				 parallel, MAX_PARALLEL);
	cfg->parallel = (unsigned)parallel;
	cfg->visibility_wait_s = (unsigned)ams_opts_int(
	    opts, "visibility-wait", DEFAULT_VISIBILITY_WAIT_S);
	timeout_ms = ams_opts_int(opts, "timeout-ms", 0);
	if (ams_opts_str(opts, "timeout-ms") &&
	    (timeout_ms < MIN_TIMEOUT_MS || timeout_ms > MAX_TIMEOUT_MS))
		ams_problems_add(problems,
				 "--timeout-ms: %lld is outside %d-%d",
				 timeout_ms, MIN_TIMEOUT_MS, MAX_TIMEOUT_MS);
	else
		cfg->timeout_ms = (unsigned)timeout_ms;
	if (output && strcmp(output, "text") && strcmp(output, "json"))
		ams_problems_add(problems, "--output: '%s' is not text or json",
				 output);
	return problems->n ? AMS_EUSAGE : AMS_OK;
}

void ams_inputs_release(struct ams_inputs *in)
{
	ams_image_refs_free(in->images, in->nr_images);
	free(in->manifest_path);
	free(in->run_uuid);
	free(in->build_name);
	free(in->builds);
	ams_manifest_release(&in->manifest);
	memset(in, 0, sizeof(*in));
}
