/*
 * The credential chain: choosing the source (a pure decision over the
 * environment and the shared files), building a provider for it, and the
 * provider life cycle: each provider owns an identity (aws.h) and, when
 * its credentials are temporary, that identity's refresh hook, which
 * starts one fetch at a time and hands the result back with
 * ams_identity_refresh_done(). The network fetches live in creds_fetch.c,
 * the configuration in creds_config.c.
 */
#include "creds_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws.h"
#include "buf.h"
#include "clock.h"
#include "http.h"
#include "log.h"
#include "sts.h"
#include "uri.h"

#define NO_CREDENTIALS                                                      \
	"no credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "     \
	"AWS_PROFILE, AWS_WEB_IDENTITY_TOKEN_FILE+AWS_ROLE_ARN, or run on " \
	"EC2/ECS with a role"

struct chain {
	struct ams_aws *aws;
	const struct ams_creds_config *cfg;
	const char *sts_region;
	char *session_name; /* default for roles that name none */
	const char *visited[AMS_CREDS_MAX_CHAIN + 1];
	size_t nvisited;
	struct ams_err *err;
};

/* ---- Provider life cycle ---------------------------------------------------- */

static void refresh_hook(struct ams_identity *id, void *payload);

static struct ams_creds_provider *provider_new(struct ams_aws *aws,
					       enum ams_creds_kind kind,
					       char *describe)
{
	struct ams_creds_provider *p = xcalloc(1, sizeof(*p));

	p->kind = kind;
	p->aws = aws;
	p->describe = describe;
	p->id = ams_identity_new(describe);
	if (kind != AMS_CREDS_STATIC)
		ams_identity_set_refresh(p->id, refresh_hook, p);
	return p;
}

void ams_creds_provider_free(struct ams_creds_provider *p)
{
	size_t i;

	if (!p)
		return;
	ams_identity_free(p->id);
	ams_creds_provider_free(p->base_owned);
	free(p->last_err);
	free(p->describe);
	free(p->role_arn);
	free(p->session_name);
	free(p->external_id);
	free(p->source_identity);
	for (i = 0; i < p->ntags; i++) {
		free(p->tags[i].key);
		free(p->tags[i].value);
	}
	free(p->tags);
	for (i = 0; i < p->ntransitive; i++)
		free(p->transitive[i]);
	free(p->transitive);
	free(p->sts_region);
	free(p->role_from);
	free(p->token_file);
	free(p->command);
	free(p->what);
	free(p->url);
	free(p->auth_file);
	ams_free_secret(p->auth_token);
	free(p->imds_endpoint);
	ams_free_secret(p->imds_token);
	free(p->imds_role);
	free(p);
}

struct ams_identity *ams_creds_provider_identity(
    const struct ams_creds_provider *p)
{
	return p->id;
}

enum ams_creds_kind ams_creds_provider_kind(const struct ams_creds_provider *p)
{
	return p->kind;
}

const char *ams_creds_provider_describe(const struct ams_creds_provider *p)
{
	return p->describe;
}

const struct ams_creds_provider *ams_creds_provider_base(
    const struct ams_creds_provider *p)
{
	return p->base_owned;
}

unsigned ams_creds_provider_fetches(const struct ams_creds_provider *p)
{
	return p->fetches;
}

void ams_creds__finish(struct ams_creds_provider *p,
		       const struct ams_creds *creds, const struct ams_err *err)
{
	char when[21];

	p->fetching = false;
	p->fetch_done = true;
	free(p->last_err);
	p->last_err = NULL;
	if (creds) {
		p->fetches++;
		p->fetched_ms = ams_clock_mono_ms();
		if (creds->expiration) {
			ams_clock_iso8601(when, creds->expiration);
			ams_log_verbose("credentials from %s (key %s) "
					"expire at %s",
					p->describe, creds->access_key_id,
					when);
		} else {
			ams_log_verbose("credentials from %s (key %s)",
					p->describe, creds->access_key_id);
		}
	} else {
		/* Failures are rare: their 700 bytes only when one happens. */
		p->last_err = xmalloc(sizeof(*p->last_err));
		ams_err_clear(p->last_err);
		ams_err_copy(p->last_err, err);
		if (!p->last_err->code)
			ams_fail(p->last_err, AMS_ECREDS, "%s: no credentials",
				 p->describe);
		p->failed_ms = ams_clock_mono_ms();
	}
	ams_identity_refresh_done(p->id, creds, p->last_err);
}

static void fetch_process(struct ams_creds_provider *p)
{
	struct ams_creds c = AMS_CREDS_INIT;
	struct ams_err e = AMS_ERR_INIT;

	if (ams_creds_run_process(&c, p->command, p->what, &e))
		ams_creds__finish(p, NULL, &e);
	else
		ams_creds__finish(p, &c, NULL);
	ams_creds_release(&c);
}

static void start_fetch(struct ams_creds_provider *p)
{
	if (p->fetching)
		return; /* the running fetch answers every waiter */
	p->fetching = true;
	switch (p->kind) {
	case AMS_CREDS_PROCESS: fetch_process(p); break;
	case AMS_CREDS_WEB_IDENTITY: ams_creds__fetch_web_identity(p); break;
	case AMS_CREDS_ASSUME_ROLE: ams_creds__fetch_assume_role(p); break;
	case AMS_CREDS_CONTAINER: ams_creds__fetch_container(p); break;
	case AMS_CREDS_IMDS: ams_creds__fetch_imds(p); break;
	case AMS_CREDS_STATIC: {
		/* Static credentials cannot be renewed: hand back what is. */
		struct ams_err e = AMS_ERR_INIT;
		const struct ams_creds *c = ams_identity_creds(p->id);

		ams_fail(&e, AMS_ECREDS,
			 "the credentials from %s cannot be "
			 "refreshed",
			 p->describe);
		ams_creds__finish(p, c, c ? NULL : &e);
		break;
	}
	}
}

/*
 * An AWS error document with a 4xx status that is neither throttling nor
 * an expired token: asking again in this run gets the same answer.
 */
static bool refusal_is_final(const struct ams_err *e)
{
	return e->code == AMS_EAWS && e->http_status >= 400 &&
	       e->http_status < 500 && e->http_status != 429 &&
	       ams_aws_code_retry(e->aws_code) == AMS_HTTP_FINAL &&
	       !ams_aws_code_is_expired(e->aws_code);
}

/*
 * The AWS layer asks again whenever credentials are within its refresh
 * margin. A source whose answers are always inside it (a short-lived
 * credential_process, IMDS handing out its cached credentials near their
 * end) would then be asked in a tight loop, so within
 * AMS_CREDS_MIN_REFETCH_MS of the last fetch the credentials in hand are
 * kept while they have not expired.
 */
static void refresh_hook(struct ams_identity *id, void *payload)
{
	struct ams_creds_provider *p = payload;
	const struct ams_creds *cur = ams_identity_creds(id);
	struct ams_creds keep = AMS_CREDS_INIT;

	/*
	 * A fetch that failed is not repeated for every call that comes
	 * along: each Region of an account would otherwise ask STS again.
	 * AWS's definitive refusal (AccessDenied on AssumeRole, say) stands
	 * for the run; anything else is asked again after a short pause.
	 */
	if (!p->fetching && !cur && p->last_err &&
	    (refusal_is_final(p->last_err) ||
	     ams_clock_mono_ms() - p->failed_ms < AMS_CREDS_MIN_REFETCH_MS)) {
		ams_identity_refresh_done(id, NULL, p->last_err);
		return;
	}
	if (!p->fetching && cur && p->fetched_ms &&
	    ams_clock_mono_ms() - p->fetched_ms < AMS_CREDS_MIN_REFETCH_MS &&
	    (!cur->expiration || cur->expiration > ams_clock_wall())) {
		ams_creds_copy(&keep, cur);
		ams_identity_refresh_done(id, &keep, NULL);
		ams_creds_release(&keep);
		return;
	}
	start_fetch(p);
}

static bool fresh(const struct ams_creds *c, unsigned long margin_ms)
{
	time_t now = ams_clock_wall();

	if (!c)
		return false;
	if (!c->expiration)
		return true;
	return (long long)c->expiration - (long long)now >
	       (long long)(margin_ms / 1000);
}

enum ams_code ams_creds_provider_resolve(struct ams_creds_provider *p,
					 unsigned long margin_ms,
					 struct ams_err *err)
{
	enum ams_code rc = AMS_OK;

	if (fresh(ams_identity_creds(p->id), margin_ms) ||
	    (p->kind == AMS_CREDS_STATIC && ams_identity_creds(p->id)))
		return AMS_OK;
	p->fetch_done = false;
	start_fetch(p);
	if (!p->fetch_done)
		rc = ams_http_run(ams_aws_http(p->aws), err);
	if (rc)
		return rc;
	if (!p->fetch_done)
		return ams_fail(err, AMS_ECREDS,
				"%s: the credential fetch did not finish",
				p->describe);
	if (p->last_err) {
		ams_err_copy(err, p->last_err);
		/* As the AWS layer reports it; "no credentials" stands alone. */
		if (!p->imds_last_resort)
			ams_err_prefix(err, "%s", p->describe);
		return p->last_err->code;
	}
	return AMS_OK;
}

/* ---- Building providers ----------------------------------------------------- */

void ams_creds__role_req(struct ams_sts_assume_role_req *req,
			 const struct ams_creds_provider *p)
{
	memset(req, 0, sizeof(*req));
	req->role_arn = p->role_arn;
	req->session_name = p->session_name;
	req->duration_s = p->duration_s;
	req->external_id = p->external_id;
	req->tags = p->tags;
	req->ntags = p->ntags;
	req->transitive_tag_keys = (const char *const *)p->transitive;
	req->ntransitive_tag_keys = p->ntransitive;
	req->source_identity = p->source_identity;
}

static void no_param(void *payload, const char *name, const char *value)
{
	(void)payload;
	(void)name;
	(void)value;
}

/* Checks the AssumeRole parameters the provider will send. */
static enum ams_code check_role(const struct ams_creds_provider *p,
				struct ams_err *err)
{
	struct ams_sts_assume_role_req req;

	ams_creds__role_req(&req, p);
	return ams_sts_build_assume_role(&req, no_param, NULL, err);
}

static struct ams_creds_provider *static_provider(struct ams_aws *aws,
						  const struct ams_creds *c,
						  char *describe)
{
	struct ams_creds_provider *p =
	    provider_new(aws, AMS_CREDS_STATIC, describe);

	ams_identity_set_creds(p->id, c);
	if (c->account_id)
		ams_identity_set_account(p->id, c->account_id);
	p->fetches = 1;
	return p;
}

static enum ams_code env_provider(struct ams_creds_provider **out,
				  struct chain *ch)
{
	struct ams_creds c = AMS_CREDS_INIT;
	enum ams_code rc = ams_creds_from_env(&c, ch->cfg, ch->err);

	if (!rc)
		*out = static_provider(
		    ch->aws, &c, xstrdup("environment (AWS_ACCESS_KEY_ID)"));
	ams_creds_release(&c);
	return rc;
}

/*
 * Static keys of profile in one file: AMS_ENOTFOUND when it has none, an
 * error when only one of the two keys is there.
 */
static enum ams_code profile_static(struct ams_creds_provider **out,
				    struct chain *ch, const char *profile,
				    bool config_file)
{
	const struct ams_ini_section *sec =
	    ams_creds__section(ch->cfg, config_file, profile);
	const char *path =
	    config_file ? ch->cfg->config_path : ch->cfg->credentials_path;
	const char *akid = ams_ini_get(sec, "aws_access_key_id");
	const char *secret = ams_ini_get(sec, "aws_secret_access_key");
	const char *token = ams_ini_get(sec, "aws_session_token");
	const char *account = ams_ini_get(sec, "aws_account_id");
	struct ams_creds c = AMS_CREDS_INIT;
	enum ams_code rc;

	if (!token)
		token = ams_ini_get(sec, "aws_security_token");
	if ((!akid || !*akid) && (!secret || !*secret))
		return AMS_ENOTFOUND;
	if (!secret || !*secret)
		return ams_fail(ch->err, AMS_ECREDS,
				"profile '%s' in '%s': aws_access_key_id is "
				"set but aws_secret_access_key is not",
				profile, path);
	if (!akid || !*akid)
		return ams_fail(ch->err, AMS_ECREDS,
				"profile '%s' in '%s': aws_secret_access_key "
				"is set but aws_access_key_id is not",
				profile, path);
	rc = ams_creds_set(&c, akid, secret, token, 0,
			   account && *account ? account : NULL, ch->err);
	if (rc) {
		ams_err_prefix(ch->err, "profile '%s' in '%s'", profile, path);
		return rc;
	}
	*out = static_provider(
	    ch->aws, &c,
	    xasprintf("static keys (profile '%s' in '%s')", profile, path));
	ams_creds_release(&c);
	return AMS_OK;
}

static bool has_static(struct chain *ch, const char *profile)
{
	int i;

	for (i = 0; i < 2; i++) {
		const struct ams_ini_section *sec =
		    ams_creds__section(ch->cfg, i == 0, profile);
		const char *akid = ams_ini_get(sec, "aws_access_key_id");

		if (akid && *akid)
			return true;
	}
	return false;
}

static const char *pget(struct chain *ch, const char *profile, const char *key)
{
	const char *v = ams_creds_config_get(ch->cfg, profile, key);

	return v && *v ? v : NULL;
}

static bool has_role_vars(struct chain *ch, const char *profile)
{
	return pget(ch, profile, "role_arn") &&
	       (pget(ch, profile, "source_profile") ||
		pget(ch, profile, "credential_source"));
}

static enum ams_code process_provider(struct ams_creds_provider **out,
				      struct chain *ch, const char *profile)
{
	const char *cmd = pget(ch, profile, "credential_process");
	struct ams_creds_provider *p;
	char *where;

	if (!cmd)
		return AMS_ENOTFOUND;
	where = ams_creds__where(ch->cfg, profile);
	p = provider_new(ch->aws, AMS_CREDS_PROCESS,
			 xasprintf("credential_process (%s)", where));
	p->command = xstrdup(cmd);
	p->what = where;
	*out = p;
	return AMS_OK;
}

static char *default_session_name(const struct ams_creds_chain_opts *opts)
{
	if (opts && opts->session_name && *opts->session_name)
		return xstrdup(opts->session_name);
	return xasprintf("amishare-%lld", (long long)ams_clock_wall());
}

static void set_account_from_arn(struct ams_creds_provider *p)
{
	char account[13];

	if (ams_sts_arn_account(account, p->role_arn))
		ams_identity_set_account(p->id, account);
}

/*
 * Web identity from the environment (env true) before the profile's keys,
 * or from the profile's keys only (a source profile).
 */
static enum ams_code web_identity_provider(struct ams_creds_provider **out,
					   struct chain *ch,
					   const char *profile, bool env)
{
	const char *file = NULL, *arn = NULL, *session = NULL;
	const char *arn_from = "AWS_ROLE_ARN";
	struct ams_creds_provider *p;
	char *where = ams_creds__where(ch->cfg, profile);
	enum ams_code rc;

	if (env) {
		file = ams_creds_config_env(ch->cfg,
					    "AWS_WEB_IDENTITY_TOKEN_FILE");
		arn = ams_creds_config_env(ch->cfg, "AWS_ROLE_ARN");
		session =
		    ams_creds_config_env(ch->cfg, "AWS_ROLE_SESSION_NAME");
	}
	if (!file)
		file = pget(ch, profile, "web_identity_token_file");
	if (!arn) {
		arn = pget(ch, profile, "role_arn");
		arn_from = "role_arn";
	}
	if (!session)
		session = pget(ch, profile, "role_session_name");
	if (!file) {
		free(where);
		return AMS_ENOTFOUND;
	}
	if (!arn) {
		ams_fail(ch->err, AMS_ECREDS,
			 "a web identity token file is configured (%s) but "
			 "no role: set AWS_ROLE_ARN, or role_arn in %s",
			 env && ams_creds_config_env(
				    ch->cfg, "AWS_WEB_IDENTITY_TOKEN_FILE")
			     ? "AWS_WEB_IDENTITY_TOKEN_FILE"
			     : "web_identity_token_file",
			 where);
		free(where);
		return AMS_ECREDS;
	}
	rc = ams_sts_check_role_arn(arn, ch->err);
	if (!rc && session)
		rc = ams_sts_check_session_name(session, ch->err);
	if (rc) {
		ams_err_prefix(ch->err, "web identity (%s)",
			       strcmp(arn_from, "role_arn") ? arn_from : where);
		free(where);
		return rc;
	}
	p = provider_new(
	    ch->aws, AMS_CREDS_WEB_IDENTITY,
	    xasprintf("web identity role '%s' (token file '%s')", arn, file));
	p->role_arn = xstrdup(arn);
	p->token_file = xstrdup(file);
	p->session_name =
	    session ? xstrdup(session) : xstrdup(ch->session_name);
	p->sts_region = xstrdup(ch->sts_region);
	p->role_from = xstrdup(strcmp(arn_from, "role_arn") ? arn_from : where);
	free(where);
	set_account_from_arn(p);
	*out = p;
	return AMS_OK;
}

static enum ams_code container_provider(struct ams_creds_provider **out,
					struct chain *ch)
{
	const char *rel, *full, *file, *token;
	struct ams_creds_provider *p;
	char *url;

	rel = ams_creds_config_env(ch->cfg,
				   "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	full =
	    ams_creds_config_env(ch->cfg, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
	file = ams_creds_config_env(ch->cfg,
				    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	token =
	    ams_creds_config_env(ch->cfg, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
	ams_log_add_secret(token);
	if (!rel && !full)
		return AMS_ENOTFOUND;
	if (rel) {
		url = xasprintf("http://169.254.170.2%s%s",
				rel[0] == '/' ? "" : "/", rel);
	} else {
		if (ams_creds_check_container_url(full, ch->err))
			return AMS_ECREDS;
		url = xstrdup(full);
	}
	if (!file && token && strpbrk(token, "\r\n")) {
		free(url);
		return ams_fail(ch->err, AMS_ECREDS,
				"AWS_CONTAINER_AUTHORIZATION_TOKEN contains a "
				"line break, which cannot go in a header");
	}
	p = provider_new(ch->aws, AMS_CREDS_CONTAINER,
			 xasprintf("container credentials (%s)", url));
	p->url = url;
	p->auth_file = file ? xstrdup(file) : NULL;
	p->auth_token = !file && token ? xstrdup(token) : NULL;
	*out = p;
	return AMS_OK;
}

static bool env_true(struct chain *ch, const char *var, const char *key)
{
	const char *v = ams_creds_config_env(ch->cfg, var);

	if (!v && key)
		v = pget(ch, NULL, key);
	return v && !strcasecmp(v, "true");
}

static enum ams_code env_or_profile_uint(unsigned long long *out,
					 struct chain *ch, const char *var,
					 const char *key,
					 unsigned long long max)
{
	const char *v = ams_creds_config_env(ch->cfg, var);
	const char *from = var;

	if (!v) {
		v = pget(ch, NULL, key);
		from = key;
	}
	if (!v)
		return AMS_OK;
	if (!ams_str_to_u64(ams_str_from(v), max, out) || *out == 0)
		return ams_fail(ch->err, AMS_EUSAGE,
				"%s '%s' is not a whole number from 1 to %llu",
				from, v, max);
	return AMS_OK;
}

static enum ams_code imds_endpoint(char **out, struct chain *ch)
{
	const char *ep =
	    ams_creds_config_env(ch->cfg, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *mode = ams_creds_config_env(
	    ch->cfg, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	struct ams_uri u = AMS_URI_INIT;
	struct ams_err e = AMS_ERR_INIT;
	size_t n;

	if (!ep)
		ep = pget(ch, NULL, "ec2_metadata_service_endpoint");
	if (!mode)
		mode = pget(ch, NULL, "ec2_metadata_service_endpoint_mode");
	if (!ep && mode && !strcasecmp(mode, "ipv6"))
		ep = "http://[fd00:ec2::254]";
	else if (!ep && mode && strcasecmp(mode, "ipv4"))
		return ams_fail(ch->err, AMS_EUSAGE,
				"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE '%s' "
				"is not IPv4 or IPv6",
				mode);
	if (!ep)
		ep = "http://169.254.169.254";
	if (ams_uri_parse(&u, ep, &e))
		return ams_fail(ch->err, AMS_EUSAGE,
				"AWS_EC2_METADATA_SERVICE_ENDPOINT: %s", e.msg);
	ams_uri_release(&u);
	n = strlen(ep);
	while (n && ep[n - 1] == '/')
		n--;
	*out = xstrndup(ep, n);
	return AMS_OK;
}

/* IMDS unless disabled; AMS_ENOTFOUND when disabled. */
static enum ams_code imds_provider(struct ams_creds_provider **out,
				   struct chain *ch)
{
	unsigned long long timeout_s = 1, attempts = 1;
	struct ams_creds_provider *p;
	char *ep = NULL;
	enum ams_code rc;

	if (env_true(ch, "AWS_EC2_METADATA_DISABLED", NULL))
		return AMS_ENOTFOUND;
	rc = env_or_profile_uint(&timeout_s, ch, "AWS_METADATA_SERVICE_TIMEOUT",
				 "metadata_service_timeout", 3600);
	if (!rc)
		rc = env_or_profile_uint(&attempts, ch,
					 "AWS_METADATA_SERVICE_NUM_ATTEMPTS",
					 "metadata_service_num_attempts", 10);
	if (!rc)
		rc = imds_endpoint(&ep, ch);
	if (rc)
		return rc;
	p = provider_new(ch->aws, AMS_CREDS_IMDS,
			 xasprintf("EC2 instance metadata (%s)", ep));
	p->imds_endpoint = ep;
	p->imds_timeout_ms = (long)timeout_s * 1000;
	p->imds_attempts = (unsigned)attempts;
	p->imds_v1_disabled = env_true(ch, "AWS_EC2_METADATA_V1_DISABLED",
				       "ec2_metadata_v1_disabled");
	*out = p;
	return AMS_OK;
}

static enum ams_code role_provider(struct ams_creds_provider **out,
				   struct chain *ch, const char *profile);

static enum ams_code credential_source(struct ams_creds_provider **out,
				       struct chain *ch, const char *profile,
				       const char *source)
{
	char *where = ams_creds__where(ch->cfg, profile);
	enum ams_code rc;

	if (!strcmp(source, "Environment")) {
		rc = env_provider(out, ch);
		if (rc == AMS_ENOTFOUND)
			rc = ams_fail(ch->err, AMS_ECREDS,
				      "%s: credential_source is Environment "
				      "but AWS_ACCESS_KEY_ID and "
				      "AWS_SECRET_ACCESS_KEY are not set",
				      where);
	} else if (!strcmp(source, "Ec2InstanceMetadata")) {
		rc = imds_provider(out, ch);
		if (rc == AMS_ENOTFOUND)
			rc = ams_fail(ch->err, AMS_ECREDS,
				      "%s: credential_source is "
				      "Ec2InstanceMetadata but "
				      "AWS_EC2_METADATA_DISABLED is true",
				      where);
	} else if (!strcmp(source, "EcsContainer")) {
		rc = container_provider(out, ch);
		if (rc == AMS_ENOTFOUND)
			rc = ams_fail(ch->err, AMS_ECREDS,
				      "%s: credential_source is EcsContainer "
				      "but neither "
				      "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI "
				      "nor AWS_CONTAINER_CREDENTIALS_FULL_URI "
				      "is set",
				      where);
	} else {
		rc = ams_fail(ch->err, AMS_ECREDS,
			      "%s: credential_source '%s' is not one of "
			      "Environment, Ec2InstanceMetadata, EcsContainer",
			      where, source);
	}
	free(where);
	return rc;
}

static bool visited(struct chain *ch, const char *profile)
{
	size_t i;

	for (i = 0; i < ch->nvisited; i++)
		if (!strcmp(ch->visited[i], profile))
			return true;
	return false;
}

static enum ams_code cycle_error(struct chain *ch, const char *source)
{
	struct ams_buf path = AMS_BUF_INIT;
	size_t i;

	for (i = 0; i < ch->nvisited; i++)
		ams_buf_addf(&path, "'%s' -> ", ch->visited[i]);
	ams_buf_addf(&path, "'%s'", source);
	ams_fail(ch->err, AMS_ECREDS,
		 "source_profile chain %s is a loop: fix source_profile in "
		 "'%s'",
		 path.buf, ch->cfg->config_path);
	ams_buf_release(&path);
	return AMS_ECREDS;
}

/* The profile's own credentials, for a profile used as source_profile. */
static enum ams_code source_own_creds(struct ams_creds_provider **out,
				      struct chain *ch, const char *source,
				      const char *parent)
{
	enum ams_code rc;
	char *where;

	rc = web_identity_provider(out, ch, source, false);
	if (rc == AMS_ENOTFOUND)
		rc = profile_static(out, ch, source, false);
	if (rc == AMS_ENOTFOUND)
		rc = process_provider(out, ch, source);
	if (rc == AMS_ENOTFOUND)
		rc = profile_static(out, ch, source, true);
	if (rc != AMS_ENOTFOUND)
		return rc;
	where = ams_creds__where(ch->cfg, parent);
	ams_fail(ch->err, AMS_ECREDS,
		 "%s: source_profile '%s' has no credentials (needs "
		 "aws_access_key_id and aws_secret_access_key, "
		 "credential_process, web_identity_token_file, or its own "
		 "role_arn with source_profile or credential_source)",
		 where, source);
	free(where);
	return AMS_ECREDS;
}

static enum ams_code source_profile(struct ams_creds_provider **out,
				    struct chain *ch, const char *source,
				    const char *parent)
{
	char *where;

	if (!ams_creds_config_has_profile(ch->cfg, source)) {
		where = ams_creds__where(ch->cfg, parent);
		ams_fail(ch->err, AMS_ECREDS,
			 "%s: source_profile '%s' does not exist", where,
			 source);
		free(where);
		return AMS_ECREDS;
	}
	if (visited(ch, source) &&
	    (strcmp(source, parent) || !has_static(ch, source)))
		return cycle_error(ch, source);
	if (ch->nvisited >= AMS_CREDS_MAX_CHAIN)
		return ams_fail(ch->err, AMS_ECREDS,
				"source_profile chain from '%s' is longer "
				"than %d profiles",
				ch->visited[0], AMS_CREDS_MAX_CHAIN);
	ch->visited[ch->nvisited++] = source;
	if (has_static(ch, source) || !has_role_vars(ch, source))
		return source_own_creds(out, ch, source, parent);
	return role_provider(out, ch, source);
}

static enum ams_code role_settings(struct ams_creds_provider *p,
				   struct chain *ch, const char *profile,
				   const char *where)
{
	const char *v;
	unsigned long long d;

	v = pget(ch, profile, "external_id");
	p->external_id = v ? xstrdup(v) : NULL;
	v = pget(ch, profile, "role_session_name");
	p->session_name = xstrdup(v ? v : ch->session_name);
	v = pget(ch, profile, "duration_seconds");
	if (v && (!ams_str_to_u64(ams_str_from(v), 43200, &d) || d < 900))
		return ams_fail(ch->err, AMS_ECREDS,
				"%s: duration_seconds '%s' is not a number "
				"of seconds from 900 to 43200",
				where, v);
	p->duration_s = v ? (unsigned)d : 0;
	return AMS_OK;
}

/* A profile with role_arn and source_profile or credential_source. */
static enum ams_code role_provider(struct ams_creds_provider **out,
				   struct chain *ch, const char *profile)
{
	const char *arn = pget(ch, profile, "role_arn");
	const char *src = pget(ch, profile, "source_profile");
	const char *csrc = pget(ch, profile, "credential_source");
	struct ams_creds_provider *base = NULL, *p;
	char *where = ams_creds__where(ch->cfg, profile);
	enum ams_code rc = AMS_OK;

	if (!ch->nvisited)
		ch->visited[ch->nvisited++] = profile;
	if (src && csrc)
		rc = ams_fail(ch->err, AMS_ECREDS,
			      "%s: source_profile and credential_source "
			      "cannot both be set; keep one",
			      where);
	else if (pget(ch, profile, "mfa_serial"))
		rc = ams_fail(ch->err, AMS_ECREDS,
			      "%s: the role needs an MFA code (mfa_serial), "
			      "which amishare cannot prompt for; use "
			      "credential_process or session credentials",
			      where);
	else if (csrc)
		rc = credential_source(&base, ch, profile, csrc);
	else
		rc = source_profile(&base, ch, src, profile);
	if (rc) {
		free(where);
		return rc;
	}
	p = provider_new(ch->aws, AMS_CREDS_ASSUME_ROLE,
			 xasprintf("role '%s' (profile '%s') from %s", arn,
				   profile, base->describe));
	p->base_owned = base;
	p->base = base->id;
	p->role_arn = xstrdup(arn);
	p->sts_region = xstrdup(ch->sts_region);
	p->role_from = where;
	set_account_from_arn(p);
	rc = role_settings(p, ch, profile, where);
	if (!rc) {
		rc = check_role(p, ch->err);
		if (rc)
			ams_err_prefix(ch->err, "%s", where);
	}
	if (rc) {
		ams_creds_provider_free(p);
		return rc;
	}
	*out = p;
	return AMS_OK;
}

/* A profile that only says sso_*: explain instead of "no credentials". */
static enum ams_code sso_unsupported(struct chain *ch, const char *profile)
{
	char *where;

	if (!pget(ch, profile, "sso_session") &&
	    !pget(ch, profile, "sso_start_url"))
		return AMS_ENOTFOUND;
	where = ams_creds__where(ch->cfg, profile);
	ams_fail(ch->err, AMS_ECREDS,
		 "%s uses IAM Identity Center (sso_*), which amishare does "
		 "not read; add credential_process = aws configure "
		 "export-credentials --profile %s --format process",
		 where, profile);
	free(where);
	return AMS_ECREDS;
}

static enum ams_code select_source(struct ams_creds_provider **out,
				   struct chain *ch)
{
	const struct ams_creds_config *cfg = ch->cfg;
	const char *profile = cfg->profile;
	enum ams_code rc = AMS_ENOTFOUND;

	if (!cfg->profile_from_option)
		rc = env_provider(out, ch);
	if (rc != AMS_ENOTFOUND)
		return rc;
	if (cfg->profile_explicit &&
	    !ams_creds_config_has_profile(cfg, profile))
		return ams_fail(ch->err, AMS_EUSAGE,
				"profile '%s' not found in '%s' or '%s'",
				profile, cfg->config_path,
				cfg->credentials_path);
	if (has_role_vars(ch, profile))
		return role_provider(out, ch, profile);
	rc = web_identity_provider(out, ch, profile, true);
	if (rc == AMS_ENOTFOUND)
		rc = profile_static(out, ch, profile, false);
	if (rc == AMS_ENOTFOUND)
		rc = process_provider(out, ch, profile);
	if (rc == AMS_ENOTFOUND)
		rc = profile_static(out, ch, profile, true);
	if (rc == AMS_ENOTFOUND)
		rc = sso_unsupported(ch, profile);
	if (rc == AMS_ENOTFOUND)
		rc = container_provider(out, ch);
	if (rc == AMS_ENOTFOUND)
		rc = imds_provider(out, ch);
	if (rc == AMS_ENOTFOUND)
		rc = ams_fail(ch->err, AMS_ECREDS, NO_CREDENTIALS);
	return rc;
}

enum ams_code ams_creds_chain_new(struct ams_creds_provider **out,
				  struct ams_aws *aws,
				  const struct ams_creds_config *cfg,
				  const struct ams_creds_chain_opts *opts,
				  struct ams_err *err)
{
	struct chain ch;
	enum ams_code rc;

	*out = NULL;
	memset(&ch, 0, sizeof(ch));
	ch.aws = aws;
	ch.cfg = cfg;
	ch.err = err;
	ch.sts_region = opts && opts->sts_region ? opts->sts_region : NULL;
	if (!ch.sts_region)
		ch.sts_region = ams_creds_config_region(cfg);
	if (!ch.sts_region)
		ch.sts_region = "us-east-1";
	ch.session_name = default_session_name(opts);
	rc = select_source(out, &ch);
	free(ch.session_name);
	if (!rc && (*out)->kind == AMS_CREDS_IMDS)
		(*out)->imds_last_resort = true;
	if (!rc)
		ams_log_verbose("credentials: %s", (*out)->describe);
	return rc;
}

/* ---- Roles for the program itself ------------------------------------------ */

enum ams_code ams_creds_assume_role_new(struct ams_creds_provider **out,
					struct ams_aws *aws,
					struct ams_identity *base,
					const struct ams_creds_role_opts *opts,
					struct ams_err *err)
{
	struct ams_creds_provider *p;
	size_t i;
	enum ams_code rc;

	*out = NULL;
	if (!opts->sts_region || !*opts->sts_region)
		return ams_fail(err, AMS_EUSAGE,
				"no STS Region to assume role '%s' in",
				opts->role_arn ? opts->role_arn : "");
	if (!opts->role_arn || !opts->session_name)
		return ams_fail(err, AMS_EUSAGE,
				"assuming a role needs a role ARN and a "
				"session name");
	p = provider_new(aws, AMS_CREDS_ASSUME_ROLE,
			 xasprintf("role '%s'", opts->role_arn));
	p->base = base;
	p->role_arn = xstrdup(opts->role_arn);
	p->session_name = xstrdup(opts->session_name);
	p->external_id = opts->external_id ? xstrdup(opts->external_id) : NULL;
	p->source_identity =
	    opts->source_identity ? xstrdup(opts->source_identity) : NULL;
	p->duration_s = opts->duration_s;
	p->sts_region = xstrdup(opts->sts_region);
	p->ntags = opts->ntags;
	p->tags = xcalloc(opts->ntags ? opts->ntags : 1, sizeof(*p->tags));
	for (i = 0; i < opts->ntags; i++) {
		p->tags[i].key = xstrdup(opts->tags[i].key);
		p->tags[i].value = xstrdup(opts->tags[i].value);
	}
	p->ntransitive = opts->ntransitive;
	p->transitive = xcalloc(opts->ntransitive ? opts->ntransitive : 1,
				sizeof(*p->transitive));
	for (i = 0; i < opts->ntransitive; i++)
		p->transitive[i] = xstrdup(opts->transitive_tag_keys[i]);
	rc = check_role(p, err);
	if (rc) {
		ams_creds_provider_free(p);
		return rc;
	}
	set_account_from_arn(p);
	*out = p;
	return AMS_OK;
}
