/*
 * The configuration half of the credential chain: which profile, which
 * files, what they say, plus the sources that need no network (the
 * environment and credential_process) and the pure parsers of the
 * documents credential sources answer with.
 */
#include "creds_int.h"

#include <arpa/inet.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "endpoint.h"
#include "json.h"
#include "log.h"
#include "procspawn.h"
#include "uri.h"
#include "sts.h"

/* Keys whose values are secrets in either file. */
static const char *const secret_keys[] = {
	"aws_secret_access_key",
	"aws_session_token",
	"aws_security_token",
};

static const char *real_getenv(const char *name, void *payload)
{
	(void)payload;
	return getenv(name);
}

const char *ams_creds_config_env(const struct ams_creds_config *cfg,
				 const char *name)
{
	const char *v = cfg->getenv_fn(name, cfg->env_payload);

	return v && *v ? v : NULL;
}

static enum ams_code home_dir(char **out, const struct ams_creds_config *cfg,
			      struct ams_err *err)
{
	const char *home = ams_creds_config_env(cfg, "HOME");
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (home) {
		*out = xstrdup(home);
		return AMS_OK;
	}
	if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) == 0 && res &&
	    res->pw_dir && *res->pw_dir) {
		*out = xstrdup(res->pw_dir);
		return AMS_OK;
	}
	return ams_fail(err, AMS_EUSAGE,
			"cannot find the home directory for the AWS shared "
			"files: set HOME, or AWS_CONFIG_FILE and "
			"AWS_SHARED_CREDENTIALS_FILE");
}

/* The path from variable, '~/' expanded, else ~/.aws/<dflt>. */
static enum ams_code file_path(char **out, const struct ams_creds_config *cfg,
			       const char *variable, const char *dflt,
			       struct ams_err *err)
{
	const char *v = ams_creds_config_env(cfg, variable);
	char *home = NULL;
	enum ams_code rc;

	if (v && strncmp(v, "~/", 2)) {
		*out = xstrdup(v);
		return AMS_OK;
	}
	rc = home_dir(&home, cfg, err);
	if (rc)
		return rc;
	if (v)
		*out = xasprintf("%s/%s", home, v + 2);
	else
		*out = xasprintf("%s/.aws/%s", home, dflt);
	free(home);
	return AMS_OK;
}

static void register_secrets(const struct ams_ini *ini)
{
	size_t i, k;

	if (!ini)
		return;
	for (i = 0; i < ini->nr_sections; i++)
		for (k = 0; k < ARRAY_SIZE(secret_keys); k++)
			ams_log_add_secret(
			    ams_ini_get(&ini->sections[i], secret_keys[k]));
}

static enum ams_code load_file(struct ams_ini **out, const char *path,
			       struct ams_err *err)
{
	struct ams_err e = AMS_ERR_INIT;
	enum ams_code rc = ams_ini_load(out, path, &e);

	if (rc == AMS_ENOTFOUND)
		return AMS_OK;
	if (rc)
		return ams_fail(err, rc, "%s", e.msg);
	register_secrets(*out);
	return AMS_OK;
}

static void choose_profile(struct ams_creds_config *cfg, const char *option)
{
	const char *v;

	if (option && *option) {
		cfg->profile = xstrdup(option);
		cfg->profile_explicit = true;
		cfg->profile_from_option = true;
		return;
	}
	v = ams_creds_config_env(cfg, "AWS_DEFAULT_PROFILE");
	if (!v)
		v = ams_creds_config_env(cfg, "AWS_PROFILE");
	cfg->profile_explicit = v != NULL;
	cfg->profile = xstrdup(v ? v : "default");
}

enum ams_code ams_creds_config_load(struct ams_creds_config **out,
				    const char *profile,
				    ams_creds_getenv_fn *getenv_fn,
				    void *env_payload, struct ams_err *err)
{
	struct ams_creds_config *cfg = xcalloc(1, sizeof(*cfg));
	enum ams_code rc;

	*out = NULL;
	cfg->getenv_fn = getenv_fn ? getenv_fn : real_getenv;
	cfg->env_payload = env_payload;
	choose_profile(cfg, profile);
	rc =
	    file_path(&cfg->config_path, cfg, "AWS_CONFIG_FILE", "config", err);
	if (!rc)
		rc = file_path(&cfg->credentials_path, cfg,
			       "AWS_SHARED_CREDENTIALS_FILE", "credentials",
			       err);
	if (!rc)
		rc = load_file(&cfg->config, cfg->config_path, err);
	if (!rc)
		rc = load_file(&cfg->credentials, cfg->credentials_path, err);
	if (rc) {
		ams_creds_config_free(cfg);
		return rc;
	}
	*out = cfg;
	return AMS_OK;
}

void ams_creds_config_free(struct ams_creds_config *cfg)
{
	if (!cfg)
		return;
	ams_ini_free(cfg->config);
	ams_ini_free(cfg->credentials);
	free(cfg->config_path);
	free(cfg->credentials_path);
	free(cfg->profile);
	free(cfg);
}

const char *ams_creds_config_profile(const struct ams_creds_config *cfg)
{
	return cfg->profile;
}

const char *ams_creds_config_path(const struct ams_creds_config *cfg)
{
	return cfg->config_path;
}

const char *ams_creds_config_credentials_path(
    const struct ams_creds_config *cfg)
{
	return cfg->credentials_path;
}

const struct ams_ini_section *ams_creds__section(
    const struct ams_creds_config *cfg, bool config_file, const char *profile)
{
	if (config_file)
		return ams_ini_profile(cfg->config, true, profile);
	return ams_ini_profile(cfg->credentials, false, profile);
}

const char *ams_creds_config_get(const struct ams_creds_config *cfg,
				 const char *profile, const char *key)
{
	const char *v;

	if (!profile)
		profile = cfg->profile;
	v = ams_ini_get(ams_creds__section(cfg, false, profile), key);
	if (!v)
		v = ams_ini_get(ams_creds__section(cfg, true, profile), key);
	return v;
}

bool ams_creds_config_has_profile(const struct ams_creds_config *cfg,
				  const char *profile)
{
	return ams_creds__section(cfg, true, profile) ||
	       ams_creds__section(cfg, false, profile);
}

char *ams_creds__where(const struct ams_creds_config *cfg, const char *profile)
{
	const char *path = cfg->config_path;

	if (!ams_creds__section(cfg, true, profile) &&
	    ams_creds__section(cfg, false, profile))
		path = cfg->credentials_path;
	return xasprintf("profile '%s' in '%s'", profile, path);
}

const char *ams_creds_config_region(const struct ams_creds_config *cfg)
{
	const char *v = ams_creds_config_env(cfg, "AWS_REGION");

	if (!v)
		v = ams_creds_config_env(cfg, "AWS_DEFAULT_REGION");
	if (!v) {
		v = ams_creds_config_get(cfg, NULL, "region");
		if (v && !*v)
			v = NULL;
	}
	return v;
}

static enum ams_code set_profile_url(char **slot, const char *url,
				     const char *what, struct ams_err *err)
{
	return ams_endpoint_config_set_url(slot, url, what, err);
}

enum ams_code ams_creds_config_endpoints(struct ams_endpoint_config *ep,
					 const struct ams_creds_config *cfg,
					 struct ams_err *err)
{
	const char *url = ams_creds_config_get(cfg, NULL, "endpoint_url");
	const char *services = ams_creds_config_get(cfg, NULL, "services");
	const char *ignore =
	    ams_creds_config_get(cfg, NULL, "ignore_configured_endpoint_urls");
	const struct ams_ini_section *sec;
	char *where = ams_creds__where(cfg, cfg->profile), *name, *what;
	enum ams_code rc = AMS_OK;
	int svc;

	if (ignore && !strcasecmp(ignore, "true"))
		ep->ignore_configured = true;
	if (url && *url) {
		what = xasprintf("endpoint_url of %s", where);
		rc = set_profile_url(&ep->profile_url, url, what, err);
		free(what);
	}
	if (!rc && services && *services) {
		name = xasprintf("services %s", services);
		sec = ams_ini_section(cfg->config, name);
		free(name);
		if (!sec)
			rc = ams_fail(err, AMS_EUSAGE,
				      "%s: services section '%s' does not "
				      "exist in '%s'",
				      where, services, cfg->config_path);
		for (svc = 0; !rc && svc < AMS_SVC_COUNT; svc++) {
			const char *sname = ams_service_name(svc);
			const char *v = ams_ini_get_sub(
			    ams_ini_prop(sec, sname), "endpoint_url");

			if (!v || !*v)
				continue;
			what = xasprintf("[services %s] %s.endpoint_url in "
					 "'%s'",
					 services, sname, cfg->config_path);
			rc = set_profile_url(&ep->profile_service_url[svc], v,
					     what, err);
			free(what);
		}
	}
	free(where);
	return rc;
}

/* ---- Environment ---------------------------------------------------------- */

enum ams_code ams_creds_from_env(struct ams_creds *out,
				 const struct ams_creds_config *cfg,
				 struct ams_err *err)
{
	const char *akid = ams_creds_config_env(cfg, "AWS_ACCESS_KEY_ID");
	const char *secret = ams_creds_config_env(cfg, "AWS_SECRET_ACCESS_KEY");
	const char *token = ams_creds_config_env(cfg, "AWS_SESSION_TOKEN");
	const char *exp =
	    ams_creds_config_env(cfg, "AWS_CREDENTIAL_EXPIRATION");
	const char *account = ams_creds_config_env(cfg, "AWS_ACCOUNT_ID");
	time_t expiration = 0;
	enum ams_code rc;

	if (!token)
		token = ams_creds_config_env(cfg, "AWS_SECURITY_TOKEN");
	ams_log_add_secret(secret);
	ams_log_add_secret(token);
	if (!akid && !secret)
		return AMS_ENOTFOUND;
	if (!secret)
		return ams_fail(err, AMS_ECREDS,
				"AWS_ACCESS_KEY_ID is set but "
				"AWS_SECRET_ACCESS_KEY is not: set both, or "
				"neither to use another credential source");
	if (!akid)
		return ams_fail(err, AMS_ECREDS,
				"AWS_SECRET_ACCESS_KEY is set but "
				"AWS_ACCESS_KEY_ID is not: set both, or "
				"neither to use another credential source");
	if (exp && !ams_clock_parse_iso8601(exp, &expiration))
		return ams_fail(err, AMS_ECREDS,
				"AWS_CREDENTIAL_EXPIRATION '%s' is not an ISO "
				"8601 time such as 2025-01-15T12:00:00Z",
				exp);
	if (exp && expiration <= ams_clock_wall())
		return ams_fail(err, AMS_ECREDS,
				"the credentials in AWS_ACCESS_KEY_ID expired "
				"at %s (AWS_CREDENTIAL_EXPIRATION): fetch new "
				"ones",
				exp);
	rc = ams_creds_set(out, akid, secret, token, expiration, account, err);
	if (rc)
		ams_err_prefix(err, "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY");
	return rc;
}

/* ---- credential_process --------------------------------------------------- */

static enum ams_code get_secret_str(char **out, const struct ams_json_val *root,
				    const char *key, bool required,
				    struct ams_err *err)
{
	enum ams_code rc;

	if (required)
		rc = ams_json_get_str(out, root, key, err);
	else
		rc = ams_json_get_str_opt(out, root, key, err);
	if (!rc)
		ams_log_add_secret(*out);
	return rc;
}

/*
 * Reads the key/secret/token/expiration/account fields common to
 * credential_process and the metadata endpoints. token_key names the
 * token member ("SessionToken" or "Token").
 */
static enum ams_code creds_from_json(struct ams_creds *out,
				     const struct ams_json_val *root,
				     const char *token_key, bool need_token,
				     bool need_expiration, struct ams_err *err)
{
	char *akid = NULL, *secret = NULL, *token = NULL, *exp = NULL;
	char *account = NULL;
	time_t expiration = 0;
	enum ams_code rc;

	rc = ams_json_get_str(&akid, root, "AccessKeyId", err);
	if (!rc)
		rc =
		    get_secret_str(&secret, root, "SecretAccessKey", true, err);
	if (!rc)
		rc = get_secret_str(&token, root, token_key, need_token, err);
	if (!rc && need_expiration)
		rc = ams_json_get_str(&exp, root, "Expiration", err);
	else if (!rc)
		rc = ams_json_get_str_opt(&exp, root, "Expiration", err);
	if (!rc)
		rc = ams_json_get_str_opt(&account, root, "AccountId", err);
	if (!rc && exp && !ams_clock_parse_iso8601(exp, &expiration))
		rc = ams_fail(err, AMS_EPARSE,
			      "Expiration: '%s' is not an ISO 8601 time", exp);
	if (!rc)
		rc = ams_creds_set(out, akid, secret, token, expiration,
				   account, err);
	free(akid);
	ams_free_secret(secret);
	ams_free_secret(token);
	free(exp);
	free(account);
	return rc;
}

enum ams_code ams_creds_parse_process(struct ams_creds *out, const char *json,
				      size_t len, struct ams_err *err)
{
	struct ams_json *doc = NULL;
	const struct ams_json_val *root, *version;
	struct ams_err e = AMS_ERR_INIT;
	double v = 0;
	enum ams_code rc;

	rc = ams_json_parse(&doc, json, len, &e);
	if (rc)
		goto out;
	root = ams_json_root(doc);
	if (ams_json_type_of(root) != AMS_JSON_OBJECT) {
		rc = ams_fail(&e, AMS_EPARSE, "expected a JSON object");
		goto out;
	}
	version = ams_json_member(root, "Version");
	if (!version) {
		rc =
		    ams_fail(&e, AMS_EPARSE, "Version is missing (expected 1)");
		goto out;
	}
	if (ams_json_type_of(version) != AMS_JSON_NUMBER ||
	    ams_json_get_double(&v, root, "Version", &e) || v != 1) {
		rc = ams_fail(&e, AMS_EPARSE,
			      "unsupported Version (expected 1)");
		goto out;
	}
	rc = creds_from_json(out, root, "SessionToken", false, false, &e);
out:
	ams_json_free(doc);
	if (rc)
		return ams_fail(err, AMS_ECREDS, "output: %s", e.msg);
	return AMS_OK;
}

/* The first bytes of stderr, printable, for an error message. */
static void stderr_excerpt(struct ams_buf *out, const struct ams_buf *in)
{
	struct ams_buf tmp = AMS_BUF_INIT;
	struct ams_str s = ams_str_trim(ams_str_make(in->buf, in->len));
	size_t i;

	for (i = 0; i < s.len && tmp.len < 300; i++) {
		unsigned char c = (unsigned char)s.ptr[i];

		ams_buf_addch(&tmp, c >= 0x20 && c != 0x7f ? c : ' ');
	}
	if (i < s.len)
		ams_buf_addstr(&tmp, "...");
	ams_redact(&tmp);
	ams_buf_add(out, tmp.buf, tmp.len);
	ams_buf_release(&tmp);
}

enum ams_code ams_creds_run_process(struct ams_creds *out, const char *cmdline,
				    const char *what, struct ams_err *err)
{
	struct ams_procspawn_result res;
	struct ams_buf excerpt = AMS_BUF_INIT;
	struct ams_err e = AMS_ERR_INIT;
	char **argv = NULL;
	size_t argc;
	enum ams_code rc;

	rc = ams_procspawn_split(&argv, &argc, cmdline, &e);
	if (rc)
		goto fail;
	rc = ams_procspawn_run(&res, argv, AMS_CREDS_PROCESS_TIMEOUT_MS, &e);
	if (!rc && res.exit_code != 0) {
		stderr_excerpt(&excerpt, &res.err);
		if (res.term_signal)
			rc = ams_fail(&e, AMS_ECREDS,
				      "'%s' was killed by signal %d%s%s",
				      argv[0], res.term_signal,
				      excerpt.len ? ": " : "", excerpt.buf);
		else
			rc = ams_fail(&e, AMS_ECREDS,
				      "'%s' exited with status %d%s%s", argv[0],
				      res.exit_code, excerpt.len ? ": " : "",
				      excerpt.buf);
	}
	if (!rc)
		rc = ams_creds_parse_process(out, res.out.buf, res.out.len, &e);
	ams_procspawn_result_release(&res);
fail:
	ams_procspawn_argv_free(argv);
	ams_buf_release(&excerpt);
	if (rc)
		return ams_fail(err, AMS_ECREDS, "credential_process of %s: %s",
				what, e.msg);
	return AMS_OK;
}

/* ---- Metadata endpoints and STS documents ---------------------------------- */

enum ams_code ams_creds_parse_metadata(struct ams_creds *out, const char *json,
				       size_t len, const char *source,
				       struct ams_err *err)
{
	struct ams_json *doc = NULL;
	const struct ams_json_val *root;
	struct ams_err e = AMS_ERR_INIT;
	const char *code, *message;
	enum ams_code rc;

	rc = ams_json_parse(&doc, json, len, &e);
	if (rc)
		goto out;
	root = ams_json_root(doc);
	if (ams_json_type_of(root) != AMS_JSON_OBJECT) {
		rc = ams_fail(&e, AMS_EPARSE, "expected a JSON object");
		goto out;
	}
	code = ams_json_str(ams_json_member(root, "Code"));
	message = ams_json_str(ams_json_member(root, "Message"));
	if (code && strcmp(code, "Success")) {
		rc = ams_fail(&e, AMS_EPARSE, "Code '%s'%s%s", code,
			      message ? ": " : "", message ? message : "");
		goto out;
	}
	rc = creds_from_json(out, root, "Token", true, true, &e);
out:
	ams_json_free(doc);
	if (rc)
		return ams_fail(err, AMS_ECREDS, "%s: %s", source, e.msg);
	return AMS_OK;
}

enum ams_code ams_creds_parse_caller(struct ams_creds_caller *out,
				     const char *xml, size_t len,
				     struct ams_err *err)
{
	struct ams_sts_caller c;
	struct ams_str rest;
	enum ams_code rc;

	memset(out, 0, sizeof(*out));
	rc = ams_sts_parse_get_caller_identity(&c, xml, len, err);
	if (rc)
		return rc;
	rest = ams_str_from(c.arn);
	if (!ams_str_eq(ams_str_split(&rest, ':'), "arn") || !rest.ptr) {
		rc =
		    ams_fail(err, AMS_EPARSE, "Arn: '%s' is not an ARN", c.arn);
		ams_sts_caller_release(&c);
		return rc;
	}
	out->partition = ams_str_dup(ams_str_split(&rest, ':'));
	out->account = c.account;
	out->arn = c.arn;
	out->user_id = c.user_id;
	return AMS_OK;
}

void ams_creds_caller_release(struct ams_creds_caller *c)
{
	free(c->account);
	free(c->arn);
	free(c->user_id);
	free(c->partition);
	memset(c, 0, sizeof(*c));
}

/* ---- Container URL rules ----------------------------------------------------- */

static bool allowed_http_host(const char *host)
{
	unsigned char a4[4], a6[16], want[16];

	if (!strcmp(host, "localhost") || !strcmp(host, "169.254.170.2") ||
	    !strcmp(host, "169.254.170.23"))
		return true;
	if (inet_pton(AF_INET, host, a4) == 1)
		return a4[0] == 127;
	if (inet_pton(AF_INET6, host, a6) != 1)
		return false;
	if (inet_pton(AF_INET6, "::1", want) == 1 && !memcmp(a6, want, 16))
		return true;
	return inet_pton(AF_INET6, "fd00:ec2::23", want) == 1 &&
	       !memcmp(a6, want, 16);
}

enum ams_code ams_creds_check_container_url(const char *url,
					    struct ams_err *err)
{
	struct ams_uri u = AMS_URI_INIT;
	struct ams_err e = AMS_ERR_INIT;
	enum ams_code rc = AMS_OK;

	if (ams_uri_parse(&u, url, &e))
		return ams_fail(err, AMS_ECREDS,
				"AWS_CONTAINER_CREDENTIALS_FULL_URI: %s",
				e.msg);
	if (!strcmp(u.scheme, "http") && !allowed_http_host(u.host))
		rc = ams_fail(err, AMS_ECREDS,
			      "AWS_CONTAINER_CREDENTIALS_FULL_URI: plain http "
			      "is only allowed to a loopback address or the "
			      "container agent (169.254.170.2, "
			      "169.254.170.23, fd00:ec2::23), not '%s'; use "
			      "https",
			      u.host);
	ams_uri_release(&u);
	return rc;
}
