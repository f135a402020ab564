/*
 * creds_probe: drives the credential chain the way the program does, for
 * the t3xxx credential scenarios. It loads the configuration, builds the
 * chain, optionally assumes a role from it, fetches credentials and makes
 * STS GetCallerIdentity calls, printing only what is not secret:
 *
 *	source: <describe>
 *	key: <access key id> expires: <time|never> account: <id|->
 *	role: <describe>                     (with --assume)
 *	role-key: ...                        (with --assume)
 *	call <n>: ok <caller arn> partition <p> key <access key id>
 *	fetches: <n> refreshes: <n>
 *
 * usage: creds_probe [--profile P] [--region R] [--margin-ms N]
 *        [--no-resolve] [--resolve-times N] [--calls N] [--interval-ms N]
 *        [--between CMD] [--assume ARN [--session S] [--external-id X]
 *        [--duration S] [--source-identity S] [--tag K=V]...
 *        [--transitive K]...] [--verbose|--debug]
 *
 * --between runs CMD with /bin/sh between iterations (rotating token
 * files). Errors go to stderr as "creds_probe: error: <message>" (exit 1).
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aws.h"
#include "clock.h"
#include "creds.h"
#include "endpoint.h"
#include "http.h"
#include "log.h"
#include "tags.h"

struct probe {
	const char *profile;
	const char *region;
	unsigned long margin_ms;
	bool resolve;
	unsigned resolve_times;
	unsigned calls;
	unsigned interval_ms;
	const char *between;
	struct ams_creds_role_opts role;
	struct ams_tag tags[8];
	const char *transitive[8];
	char *tag_text[8];

	struct ams_http *http;
	struct ams_aws *aws;
	struct ams_creds_config *cfg;
	struct ams_creds_provider *chain;
	struct ams_creds_provider *assumed;
};

static int fail(const struct ams_err *err)
{
	fprintf(stderr, "creds_probe: error: %s\n", err->msg);
	return 1;
}

static void show(const char *what, const struct ams_creds_provider *p)
{
	struct ams_identity *id = ams_creds_provider_identity(p);
	const struct ams_creds *c = ams_identity_creds(id);
	const char *account = ams_identity_account(id);
	char when[21] = "never";

	if (c && c->expiration)
		ams_clock_iso8601(when, c->expiration);
	printf("%s: %s expires: %s account: %s\n", what,
	       c ? c->access_key_id : "-", c ? when : "-",
	       account ? account : "-");
}

static int parse_args(struct probe *pr, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--no-resolve")) {
			pr->resolve = false;
			continue;
		}
		if (!strcmp(a, "--verbose")) {
			ams_log_set_level(AMS_LOG_VERBOSE);
			continue;
		}
		if (!strcmp(a, "--debug")) {
			ams_log_set_level(AMS_LOG_DEBUG);
			continue;
		}
		if (!v) {
			fprintf(stderr, "creds_probe: '%s' needs a value\n", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--profile")) {
			pr->profile = v;
		} else if (!strcmp(a, "--region")) {
			pr->region = v;
		} else if (!strcmp(a, "--margin-ms")) {
			pr->margin_ms = strtoul(v, NULL, 10);
		} else if (!strcmp(a, "--resolve-times")) {
			pr->resolve_times = (unsigned)strtoul(v, NULL, 10);
		} else if (!strcmp(a, "--calls")) {
			pr->calls = (unsigned)strtoul(v, NULL, 10);
		} else if (!strcmp(a, "--interval-ms")) {
			pr->interval_ms = (unsigned)strtoul(v, NULL, 10);
		} else if (!strcmp(a, "--between")) {
			pr->between = v;
		} else if (!strcmp(a, "--assume")) {
			pr->role.role_arn = v;
		} else if (!strcmp(a, "--session")) {
			pr->role.session_name = v;
		} else if (!strcmp(a, "--external-id")) {
			pr->role.external_id = v;
		} else if (!strcmp(a, "--duration")) {
			pr->role.duration_s = (unsigned)strtoul(v, NULL, 10);
		} else if (!strcmp(a, "--source-identity")) {
			pr->role.source_identity = v;
		} else if (!strcmp(a, "--tag") && pr->role.ntags < 8) {
			char *t = xstrdup(v), *eq = strchr(t, '=');

			pr->tag_text[pr->role.ntags] = t;
			if (eq)
				*eq++ = '\0';
			pr->tags[pr->role.ntags].key = t;
			pr->tags[pr->role.ntags].value =
			    eq ? eq : t + strlen(t);
			pr->role.ntags++;
		} else if (!strcmp(a, "--transitive") &&
			   pr->role.ntransitive < 8) {
			pr->transitive[pr->role.ntransitive++] = v;
		} else {
			fprintf(stderr, "creds_probe: unknown option '%s'\n",
				a);
			return 2;
		}
	}
	return 0;
}

static enum ams_code setup(struct probe *pr, struct ams_err *err)
{
	struct ams_http_opts hopts;
	struct ams_aws_opts aopts;
	struct ams_endpoint_config ep;
	enum ams_code rc;

	rc = ams_creds_config_load(&pr->cfg, pr->profile, NULL, NULL, err);
	if (rc)
		return rc;
	if (!pr->region)
		pr->region = ams_creds_config_region(pr->cfg);
	if (!pr->region)
		pr->region = "us-east-1";
	ams_http_opts_init(&hopts);
	rc = ams_http_opts_from_env(&hopts, err);
	if (!rc)
		rc = ams_http_new(&pr->http, &hopts, err);
	if (rc)
		return rc;
	ams_endpoint_config_init(&ep);
	rc = ams_endpoint_config_from_env(&ep, err);
	if (!rc)
		rc = ams_creds_config_endpoints(&ep, pr->cfg, err);
	ams_aws_opts_init(&aopts);
	aopts.refresh_margin_ms = pr->margin_ms;
	if (!rc)
		rc = ams_aws_new(&pr->aws, pr->http, &ep, &aopts, err);
	ams_endpoint_config_release(&ep);
	return rc;
}

struct call_ctx {
	unsigned n;
	bool ok;
	struct ams_identity *id;
};

static void on_caller(const struct ams_creds_caller *who,
		      const struct ams_err *err, void *payload)
{
	struct call_ctx *ctx = payload;
	const struct ams_creds *c = ams_identity_creds(ctx->id);

	if (!who) {
		fprintf(stderr, "creds_probe: error: call %u: %s\n", ctx->n,
			err->msg);
		printf("call %u: failed\n", ctx->n);
		return;
	}
	ctx->ok = true;
	printf("call %u: ok %s partition %s key %s\n", ctx->n, who->arn,
	       who->partition, c ? c->access_key_id : "-");
}

static void pause_between(struct probe *pr)
{
	struct timespec ts;

	if (pr->between && system(pr->between))
		fprintf(stderr, "creds_probe: --between command failed\n");
	ts.tv_sec = pr->interval_ms / 1000;
	ts.tv_nsec = (long)(pr->interval_ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

static int run(struct probe *pr)
{
	struct ams_err err = AMS_ERR_INIT;
	struct ams_creds_provider *use;
	struct ams_creds_chain_opts copts;
	unsigned i, failed = 0;

	if (setup(pr, &err))
		return fail(&err);
	memset(&copts, 0, sizeof(copts));
	if (ams_creds_chain_new(&pr->chain, pr->aws, pr->cfg, &copts, &err))
		return fail(&err);
	printf("source: %s\n", ams_creds_provider_describe(pr->chain));
	use = pr->chain;
	if (pr->role.role_arn) {
		pr->role.tags = pr->tags;
		pr->role.transitive_tag_keys = pr->transitive;
		if (!pr->role.session_name)
			pr->role.session_name = "creds-probe";
		pr->role.sts_region = pr->region;
		if (ams_creds_assume_role_new(
			&pr->assumed, pr->aws,
			ams_creds_provider_identity(pr->chain), &pr->role,
			&err))
			return fail(&err);
		printf("role: %s\n", ams_creds_provider_describe(pr->assumed));
		use = pr->assumed;
	}
	for (i = 0; pr->resolve && i < pr->resolve_times; i++) {
		if (i)
			pause_between(pr);
		if (ams_creds_provider_resolve(use, pr->margin_ms, &err))
			return fail(&err);
		if (use != pr->chain)
			show("key", pr->chain);
		show(use == pr->chain ? "key" : "role-key", use);
	}
	for (i = 0; i < pr->calls; i++) {
		struct call_ctx ctx = { i + 1, false,
					ams_creds_provider_identity(use) };

		if (i || pr->resolve_times)
			pause_between(pr);
		ams_creds_get_caller(pr->aws, ctx.id, pr->region, on_caller,
				     &ctx);
		if (ams_http_run(pr->http, &err))
			return fail(&err);
		if (!ctx.ok)
			failed++;
	}
	printf("fetches: %u refreshes: %u\n", ams_creds_provider_fetches(use),
	       ams_identity_refresh_count(ams_creds_provider_identity(use)));
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct probe pr;
	int rc, i;

	memset(&pr, 0, sizeof(pr));
	pr.margin_ms = 300000;
	pr.resolve = true;
	pr.resolve_times = 1;
	rc = parse_args(&pr, argc, argv);
	if (rc)
		return rc;
	setvbuf(stdout, NULL, _IOLBF, 0);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = run(&pr);
	ams_creds_provider_free(pr.assumed);
	ams_creds_provider_free(pr.chain);
	ams_aws_free(pr.aws);
	ams_http_free(pr.http);
	ams_creds_config_free(pr.cfg);
	for (i = 0; i < 8; i++)
		free(pr.tag_text[i]);
	ams_log_forget_secrets();
	curl_global_cleanup();
	return rc;
}
