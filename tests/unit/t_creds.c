/*
 * The credential chain without a network: which source wins for a given
 * environment and pair of shared files (a table of cases), the errors a
 * broken configuration gives, the configuration helpers (profile,
 * Region, endpoints, file paths), the environment source, and the pure
 * parsers of container/IMDS JSON, STS XML and container URLs.
 */
#include "harness.h"

#include <time.h>
#include <unistd.h>

#include "aws.h"
#include "clock.h"
#include "creds.h"
#include "endpoint.h"
#include "log.h"
#include "tags.h"

static char tmpdir[] = "/tmp/t_creds.XXXXXX";
static char *config_path, *creds_path;

/* ---- A synthetic environment ---------------------------------------------- */

#define MAX_ENV 24

struct env {
	const char *vars[MAX_ENV]; /* "NAME=value" */
};

static const char *env_get(const char *name, void *payload)
{
	const struct env *env = payload;
	size_t i, n = strlen(name);

	for (i = 0; i < MAX_ENV && env->vars[i]; i++)
		if (!strncmp(env->vars[i], name, n) && env->vars[i][n] == '=')
			return env->vars[i] + n + 1;
	return NULL;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text ? text : "", f);
	fclose(f);
}

/*
 * Loads a configuration: both files written from text (NULL: absent),
 * AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE and HOME added to env.
 */
static enum ams_code load(struct ams_creds_config **cfg, struct env *env,
			  const char *config, const char *credentials,
			  const char *profile, struct ams_err *err)
{
	static char cf[512], cr[512], home[512];
	size_t n = 0;

	unlink(config_path);
	unlink(creds_path);
	if (config)
		write_file(config_path, config);
	if (credentials)
		write_file(creds_path, credentials);
	while (n < MAX_ENV && env->vars[n])
		n++;
	snprintf(cf, sizeof(cf), "AWS_CONFIG_FILE=%s", config_path);
	snprintf(cr, sizeof(cr), "AWS_SHARED_CREDENTIALS_FILE=%s", creds_path);
	snprintf(home, sizeof(home), "HOME=%s", tmpdir);
	if (!env_get("AWS_CONFIG_FILE", env))
		env->vars[n++] = cf;
	if (!env_get("AWS_SHARED_CREDENTIALS_FILE", env))
		env->vars[n++] = cr;
	if (!env_get("HOME", env))
		env->vars[n++] = home;
	return ams_creds_config_load(cfg, profile, env_get, env, err);
}

/* ---- Which source wins --------------------------------------------------- */

struct chain_case {
	const char *name;
	const char *env[12];
	const char *config;
	const char *credentials;
	const char *profile; /* --profile */
	enum ams_code rc;
	/* Kinds from the top provider down its base chain, "" ends. */
	const char *kinds;
	/* Expected describe() of the top provider, or error message; %C
	 * and %R stand for the config and credentials file paths. */
	const char *text;
};

#define KEYS "AWS_ACCESS_KEY_ID=AKIDENV", "AWS_SECRET_ACCESS_KEY=envsecret"
#define NO_IMDS "AWS_EC2_METADATA_DISABLED=true"
#define STATIC_P(name, akid)                         \
	"[" name "]\naws_access_key_id = " akid "\n" \
	"aws_secret_access_key = s3cr3t" akid "\n"

static const struct chain_case chain_cases[] = {
	{ "environment keys",
	  { KEYS },
	  NULL,
	  NULL,
	  NULL,
	  AMS_OK,
	  "S",
	  "environment (AWS_ACCESS_KEY_ID)" },
	{ "environment beats AWS_PROFILE",
	  { KEYS, "AWS_PROFILE=dev" },
	  NULL,
	  STATIC_P("dev", "AKIDDEV"),
	  NULL,
	  AMS_OK,
	  "S",
	  "environment (AWS_ACCESS_KEY_ID)" },
	{ "--profile skips the environment",
	  { KEYS },
	  NULL,
	  STATIC_P("dev", "AKIDDEV"),
	  "dev",
	  AMS_OK,
	  "S",
	  "static keys (profile 'dev' in '%R')" },
	{ "AWS_PROFILE selects the credentials section",
	  { "AWS_PROFILE=dev" },
	  NULL,
	  STATIC_P("default", "AKIDDEF") STATIC_P("dev", "AKIDDEV"),
	  NULL,
	  AMS_OK,
	  "S",
	  "static keys (profile 'dev' in '%R')" },
	{ "AWS_DEFAULT_PROFILE beats AWS_PROFILE",
	  { "AWS_PROFILE=dev", "AWS_DEFAULT_PROFILE=ops" },
	  NULL,
	  STATIC_P("dev", "AKIDDEV") STATIC_P("ops", "AKIDOPS"),
	  NULL,
	  AMS_OK,
	  "S",
	  "static keys (profile 'ops' in '%R')" },
	{ "default profile without any variable",
	  { NO_IMDS },
	  NULL,
	  STATIC_P("default", "AKIDDEF"),
	  NULL,
	  AMS_OK,
	  "S",
	  "static keys (profile 'default' in '%R')" },
	{ "config file keys",
	  { "AWS_PROFILE=dev" },
	  "[profile dev]\naws_access_key_id = AKIDCFG\n"
	  "aws_secret_access_key = cfgsecret\n",
	  NULL,
	  NULL,
	  AMS_OK,
	  "S",
	  "static keys (profile 'dev' in '%C')" },
	{ "credentials file beats credential_process",
	  { "AWS_PROFILE=dev" },
	  "[profile dev]\ncredential_process = /bin/false\n",
	  STATIC_P("dev", "AKIDDEV"),
	  NULL,
	  AMS_OK,
	  "S",
	  "static keys (profile 'dev' in '%R')" },
	{ "credential_process beats config file keys",
	  { "AWS_PROFILE=dev" },
	  "[profile dev]\ncredential_process = /bin/false\n"
	  "aws_access_key_id = AKIDCFG\naws_secret_access_key = x1x1\n",
	  NULL,
	  NULL,
	  AMS_OK,
	  "P",
	  "credential_process (profile 'dev' in '%C')" },
	{ "[profile default] beats [default] in config",
	  { NO_IMDS },
	  "[default]\ncredential_process = /bin/false\n"
	  "[profile default]\naws_access_key_id = AKIDPD\n"
	  "aws_secret_access_key = pdsecret\n",
	  NULL,
	  NULL,
	  AMS_OK,
	  "S",
	  "static keys (profile 'default' in '%C')" },
	{ "role from source_profile",
	  { "AWS_PROFILE=ci" },
	  "[profile ci]\nrole_arn = arn:aws:iam::444455556666:role/pub\n"
	  "source_profile = base\n",
	  STATIC_P("base", "AKIDBASE"),
	  NULL,
	  AMS_OK,
	  "AS",
	  "role 'arn:aws:iam::444455556666:role/pub' (profile 'ci') from "
	  "static keys (profile 'base' in '%R')" },
	{ "role beats web identity in the environment",
	  { "AWS_PROFILE=ci", "AWS_WEB_IDENTITY_TOKEN_FILE=/t",
	    "AWS_ROLE_ARN=arn:aws:iam::111111111111:role/w" },
	  "[profile ci]\nrole_arn = arn:aws:iam::444455556666:role/pub\n"
	  "source_profile = base\n",
	  STATIC_P("base", "AKIDBASE"),
	  NULL,
	  AMS_OK,
	  "AS",
	  NULL },
	{ "role chain of three",
	  { "AWS_PROFILE=a" },
	  "[profile a]\nrole_arn = arn:aws:iam::111111111111:role/a\n"
	  "source_profile = b\n"
	  "[profile b]\nrole_arn = arn:aws:iam::222222222222:role/b\n"
	  "source_profile = c\n",
	  STATIC_P("c", "AKIDC"),
	  NULL,
	  AMS_OK,
	  "AAS",
	  "role 'arn:aws:iam::111111111111:role/a' (profile 'a') from role "
	  "'arn:aws:iam::222222222222:role/b' (profile 'b') from static keys "
	  "(profile 'c' in '%R')" },
	{ "source_profile cycle",
	  { "AWS_PROFILE=a" },
	  "[profile a]\nrole_arn = "
	  "arn:aws:iam::111111111111:role/a\nsource_profile = b\n"
	  "[profile b]\nrole_arn = "
	  "arn:aws:iam::222222222222:role/b\nsource_profile = "
	  "a\n",
	  NULL,
	  NULL,
	  AMS_ECREDS,
	  NULL,
	  "source_profile chain 'a' -> 'b' -> 'a' is a loop: fix "
	  "source_profile in '%C'" },
	{ "profile naming itself with static keys",
	  { "AWS_PROFILE=self" },
	  "[profile self]\nrole_arn = arn:aws:iam::333333333333:role/s\n"
	  "source_profile = self\n",
	  STATIC_P("self", "AKIDSELF"),
	  NULL,
	  AMS_OK,
	  "AS",
	  "role 'arn:aws:iam::333333333333:role/s' (profile 'self') from "
	  "static keys "
	  "(profile 'self' in '%R')" },
	{ "profile naming itself without keys",
	  { "AWS_PROFILE=self" },
	  "[profile self]\nrole_arn = arn:aws:iam::333333333333:role/s\n"
	  "source_profile = self\n",
	  NULL,
	  NULL,
	  AMS_ECREDS,
	  NULL,
	  "source_profile chain 'self' -> 'self' is a loop: fix "
	  "source_profile in '%C'" },
	{ "missing source_profile",
	  { "AWS_PROFILE=x" },
	  "[profile x]\nrole_arn = "
	  "arn:aws:iam::111111111111:role/x\nsource_profile = "
	  "y\n",
	  NULL,
	  NULL,
	  AMS_ECREDS,
	  NULL,
	  "profile 'x' in '%C': source_profile 'y' does not exist" },
	{ "source_profile without credentials",
	  { "AWS_PROFILE=x" },
	  "[profile x]\nrole_arn = "
	  "arn:aws:iam::111111111111:role/x\nsource_profile = "
	  "y\n[profile y]\nregion = us-east-2\n",
	  NULL,
	  NULL,
	  AMS_ECREDS,
	  NULL,
	  "profile 'x' in '%C': source_profile 'y' has no credentials" },
	{ "source profile with credential_process",
	  { "AWS_PROFILE=x" },
	  "[profile x]\nrole_arn = "
	  "arn:aws:iam::111111111111:role/x\nsource_profile = "
	  "y\n[profile y]\ncredential_process = helper --x\n",
	  NULL,
	  NULL,
	  AMS_OK,
	  "AP",
	  NULL },
	{ "source profile with web identity",
	  { "AWS_PROFILE=x" },
	  "[profile x]\nrole_arn = "
	  "arn:aws:iam::111111111111:role/x\nsource_profile = "
	  "y\n[profile y]\nweb_identity_token_file = /tok\n"
	  "role_arn = arn:aws:iam::999999999999:role/oidc\n",
	  NULL,
	  NULL,
	  AMS_OK,
	  "AW",
	  NULL },
	{ "credential_source Environment",
	  { KEYS },
	  "[profile x]\nrole_arn = arn:aws:iam::111111111111:role/x\n"
	  "credential_source = Environment\n",
	  NULL,
	  "x",
	  AMS_OK,
	  "AS",
	  "role 'arn:aws:iam::111111111111:role/x' (profile 'x') from "
	  "environment "
	  "(AWS_ACCESS_KEY_ID)" },
	{ "credential_source Environment without keys",
	  { NO_IMDS },
	  "[profile x]\nrole_arn = arn:aws:iam::111111111111:role/x\n"
	  "credential_source = Environment\n",
	  NULL,
	  "x",
	  AMS_ECREDS,
	  NULL,
	  "profile 'x' in '%C': credential_source is Environment but "
	  "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set" },
	{ "credential_source Ec2InstanceMetadata",
	  { "AWS_PROFILE=x" },
	  "[profile x]\nrole_arn = arn:aws:iam::111111111111:role/x\n"
	  "credential_source = Ec2InstanceMetadata\n",
	  NULL,
	  NULL,
	  AMS_OK,
	  "AI",
	  NULL },
	{ "credential_source EcsContainer",
	  { "AWS_PROFILE=x",
	    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/abc" },
	  "[profile x]\nrole_arn = arn:aws:iam::111111111111:role/x\n"
	  "credential_source = EcsContainer\n",
	  NULL,
	  NULL,
	  AMS_OK,
	  "AC",
	  "role 'arn:aws:iam::111111111111:role/x' (profile 'x') from "
	  "container "
	  "credentials (http://169.254.170.2/v2/credentials/abc)" },
	{ "credential_source unknown",
	  { "AWS_PROFILE=x" },
	  "[profile x]\nrole_arn = arn:aws:iam::111111111111:role/x\n"
	  "credential_source = Ec2\n",
	  NULL,
	  NULL,
	  AMS_ECREDS,
	  NULL,
	  "profile 'x' in '%C': credential_source 'Ec2' is not one of "
	  "Environment, Ec2InstanceMetadata, EcsContainer" },
	{ "source_profile and credential_source",
	  { "AWS_PROFILE=x" },
	  "[profile x]\nrole_arn = arn:aws:iam::111111111111:role/x\n"
	  "credential_source = Environment\nsource_profile = y\n",
	  NULL,
	  NULL,
	  AMS_ECREDS,
	  NULL,
	  "profile 'x' in '%C': source_profile and credential_source cannot "
	  "both be set; keep one" },
	{ "mfa_serial",
	  { "AWS_PROFILE=x" },
	  "[profile x]\nrole_arn = arn:aws:iam::111111111111:role/x\n"
	  "source_profile = y\nmfa_serial = arn:aws:iam::111111111111:mfa/me\n",
	  STATIC_P("y", "AKIDY"),
	  NULL,
	  AMS_ECREDS,
	  NULL,
	  "profile 'x' in '%C': the role needs an MFA code (mfa_serial)" },
	{ "bad duration_seconds",
	  { "AWS_PROFILE=x" },
	  "[profile x]\nrole_arn = arn:aws:iam::111111111111:role/x\n"
	  "source_profile = y\nduration_seconds = 60\n",
	  STATIC_P("y", "AKIDY"),
	  NULL,
	  AMS_ECREDS,
	  NULL,
	  "profile 'x' in '%C': duration_seconds '60' is not a number of "
	  "seconds from 900 to 43200" },
	{ "web identity from the environment",
	  { "AWS_WEB_IDENTITY_TOKEN_FILE=/run/token",
	    "AWS_ROLE_ARN=arn:aws:iam::777788889999:role/gha" },
	  NULL,
	  NULL,
	  NULL,
	  AMS_OK,
	  "W",
	  "web identity role 'arn:aws:iam::777788889999:role/gha' (token "
	  "file '/run/token')" },
	{ "web identity env beats profile keys",
	  { "AWS_WEB_IDENTITY_TOKEN_FILE=/run/token" },
	  "[default]\nweb_identity_token_file = /other\n"
	  "role_arn = arn:aws:iam::111111111111:role/p\n",
	  NULL,
	  NULL,
	  AMS_OK,
	  "W",
	  "web identity role 'arn:aws:iam::111111111111:role/p' (token file "
	  "'/run/token')" },
	{ "web identity beats credentials file",
	  { "AWS_WEB_IDENTITY_TOKEN_FILE=/run/token",
	    "AWS_ROLE_ARN=arn:aws:iam::111111111111:role/w" },
	  NULL,
	  STATIC_P("default", "AKIDDEF"),
	  NULL,
	  AMS_OK,
	  "W",
	  NULL },
	{ "web identity token without a role",
	  { "AWS_WEB_IDENTITY_TOKEN_FILE=/run/token" },
	  NULL,
	  NULL,
	  NULL,
	  AMS_ECREDS,
	  NULL,
	  "a web identity token file is configured "
	  "(AWS_WEB_IDENTITY_TOKEN_FILE) but no role: set AWS_ROLE_ARN, or "
	  "role_arn in profile 'default' in '%C'" },
	{ "AWS_ROLE_ARN alone is not web identity",
	  { "AWS_ROLE_ARN=arn:aws:iam::111111111111:role/w" },
	  NULL,
	  STATIC_P("default", "AKIDDEF"),
	  NULL,
	  AMS_OK,
	  "S",
	  NULL },
	{ "partial keys in the environment",
	  { "AWS_ACCESS_KEY_ID=AKID" },
	  NULL,
	  NULL,
	  NULL,
	  AMS_ECREDS,
	  NULL,
	  "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not" },
	{ "partial keys in a profile",
	  { "AWS_PROFILE=p" },
	  NULL,
	  "[p]\naws_access_key_id = AKIDP\n",
	  NULL,
	  AMS_ECREDS,
	  NULL,
	  "profile 'p' in '%R': aws_access_key_id is set but "
	  "aws_secret_access_key is not" },
	{ "unknown profile",
	  { "AWS_PROFILE=nope" },
	  "[profile x]\n",
	  STATIC_P("default", "AKIDDEF"),
	  NULL,
	  AMS_EUSAGE,
	  NULL,
	  "profile 'nope' not found in '%C' or '%R'" },
	{ "unknown --profile",
	  { KEYS },
	  NULL,
	  NULL,
	  "nope",
	  AMS_EUSAGE,
	  NULL,
	  "profile 'nope' not found in '%C' or '%R'" },
	{ "sso profile",
	  { "AWS_PROFILE=sso" },
	  "[profile sso]\nsso_session = corp\nsso_account_id = 1\n",
	  NULL,
	  NULL,
	  AMS_ECREDS,
	  NULL,
	  "profile 'sso' in '%C' uses IAM Identity Center (sso_*), which "
	  "amishare does not read; add credential_process = aws configure "
	  "export-credentials --profile sso --format process" },
	{ "container relative URI",
	  { "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/x" },
	  NULL,
	  NULL,
	  NULL,
	  AMS_OK,
	  "C",
	  "container credentials (http://169.254.170.2/v2/credentials/x)" },
	{ "container relative beats full",
	  { "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/r",
	    "AWS_CONTAINER_CREDENTIALS_FULL_URI=https://example.com/c" },
	  NULL,
	  NULL,
	  NULL,
	  AMS_OK,
	  "C",
	  "container credentials (http://169.254.170.2/r)" },
	{ "container full https URI",
	  { "AWS_CONTAINER_CREDENTIALS_FULL_URI=https://creds.example.com/c" },
	  NULL,
	  NULL,
	  NULL,
	  AMS_OK,
	  "C",
	  "container credentials (https://creds.example.com/c)" },
	{ "container full http to loopback",
	  { "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:9/c" },
	  NULL,
	  NULL,
	  NULL,
	  AMS_OK,
	  "C",
	  NULL },
	{ "container full http elsewhere",
	  { "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://10.0.0.1/c" },
	  NULL,
	  NULL,
	  NULL,
	  AMS_ECREDS,
	  NULL,
	  "AWS_CONTAINER_CREDENTIALS_FULL_URI: plain http is only allowed to "
	  "a loopback address or the container agent (169.254.170.2, "
	  "169.254.170.23, fd00:ec2::23), not '10.0.0.1'; use https" },
	{ "container token with a line break",
	  { "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/r",
	    "AWS_CONTAINER_AUTHORIZATION_TOKEN=abcd\r\nX-Evil: 1" },
	  NULL,
	  NULL,
	  NULL,
	  AMS_ECREDS,
	  NULL,
	  "AWS_CONTAINER_AUTHORIZATION_TOKEN contains a line break, which "
	  "cannot go in a header" },
	{ "instance metadata last",
	  { "AWS_PROFILE=empty" },
	  "[profile empty]\nregion = eu-west-1\n",
	  NULL,
	  NULL,
	  AMS_OK,
	  "I",
	  "EC2 instance metadata (http://169.254.169.254)" },
	{ "instance metadata endpoint override",
	  { "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:8/" },
	  NULL,
	  NULL,
	  NULL,
	  AMS_OK,
	  "I",
	  "EC2 instance metadata (http://127.0.0.1:8)" },
	{ "instance metadata endpoint from the profile",
	  { "AWS_REGION=us-east-1" },
	  "[default]\nec2_metadata_service_endpoint = http://[::1]:7\n",
	  NULL,
	  NULL,
	  AMS_OK,
	  "I",
	  "EC2 instance metadata (http://[::1]:7)" },
	{ "instance metadata IPv6 mode",
	  { "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6" },
	  NULL,
	  NULL,
	  NULL,
	  AMS_OK,
	  "I",
	  "EC2 instance metadata (http://[fd00:ec2::254])" },
	{ "instance metadata bad timeout",
	  { "AWS_METADATA_SERVICE_TIMEOUT=soon" },
	  NULL,
	  NULL,
	  NULL,
	  AMS_EUSAGE,
	  NULL,
	  "AWS_METADATA_SERVICE_TIMEOUT 'soon' is not a whole number from 1 "
	  "to 3600" },
	{ "nothing at all",
	  { NO_IMDS },
	  NULL,
	  NULL,
	  NULL,
	  AMS_ECREDS,
	  NULL,
	  "no credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
	  "AWS_PROFILE, AWS_WEB_IDENTITY_TOKEN_FILE+AWS_ROLE_ARN, or run on "
	  "EC2/ECS with a role" },
	{ "metadata disabled in any case",
	  { "AWS_EC2_METADATA_DISABLED=TRUE" },
	  NULL,
	  NULL,
	  NULL,
	  AMS_ECREDS,
	  NULL,
	  "no credentials: " },
};

/* Replaces %C and %R with the file paths. */
static char *expand(const char *text)
{
	struct ams_buf sb = AMS_BUF_INIT;
	const char *p;

	for (p = text; *p; p++) {
		if (p[0] == '%' && p[1] == 'C') {
			ams_buf_addstr(&sb, config_path);
			p++;
		} else if (p[0] == '%' && p[1] == 'R') {
			ams_buf_addstr(&sb, creds_path);
			p++;
		} else {
			ams_buf_addch(&sb, *p);
		}
	}
	return ams_buf_detach(&sb, NULL);
}

static char kind_letter(enum ams_creds_kind k)
{
	static const char letters[] = "SPWACI";

	return letters[k];
}

static void test_chain_table(void)
{
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(chain_cases); i++) {
		const struct chain_case *c = &chain_cases[i];
		struct env env;
		struct ams_creds_config *cfg = NULL;
		struct ams_creds_provider *p = NULL;
		const struct ams_creds_provider *q;
		struct ams_err err = AMS_ERR_INIT;
		char kinds[16], *want;
		enum ams_code rc;

		TEST_BEGIN();
		memset(&env, 0, sizeof(env));
		for (j = 0; j < ARRAY_SIZE(c->env) && c->env[j]; j++)
			env.vars[j] = c->env[j];
		rc = load(&cfg, &env, c->config, c->credentials, c->profile,
			  &err);
		CHECK_RC(AMS_OK, rc, &err);
		if (!rc)
			rc = ams_creds_chain_new(&p, NULL, cfg, NULL, &err);
		CHECK_RC(c->rc, rc, &err);
		want = c->text ? expand(c->text) : NULL;
		if (!rc && p) {
			j = 0;
			for (q = p; q && j + 1 < sizeof(kinds);
			     q = ams_creds_provider_base(q))
				kinds[j++] =
				    kind_letter(ams_creds_provider_kind(q));
			kinds[j] = '\0';
			CHECK_STR_EQ(c->kinds, kinds);
			if (want)
				CHECK_STR_EQ(want,
					     ams_creds_provider_describe(p));
			CHECK(ams_creds_provider_identity(p) != NULL);
		} else if (rc) {
			CHECK(p == NULL);
			if (want && strncmp(err.msg, want, strlen(want)))
				CHECK_STR_EQ(want, err.msg);
		}
		free(want);
		ams_creds_provider_free(p);
		ams_creds_config_free(cfg);
		TEST_END("chain: %s", c->name);
	}
}

static void test_depth_limit(void)
{
	struct ams_buf cfgtext = AMS_BUF_INIT;
	struct env env = { { "AWS_PROFILE=p0" } };
	struct ams_creds_config *cfg = NULL;
	struct ams_creds_provider *p = NULL;
	struct ams_err err = AMS_ERR_INIT;
	int i;

	for (i = 0; i < 20; i++)
		ams_buf_addf(&cfgtext,
			     "[profile p%d]\nrole_arn = "
			     "arn:aws:iam::111111111111:role/r%d\n"
			     "source_profile = p%d\n",
			     i, i, i + 1);
	CHECK_RC(AMS_OK,
		 load(&cfg, &env, cfgtext.buf, STATIC_P("p20", "AKID20"), NULL,
		      &err),
		 &err);
	CHECK_RC(AMS_ECREDS, ams_creds_chain_new(&p, NULL, cfg, NULL, &err),
		 &err);
	CHECK_STR_EQ("source_profile chain from 'p0' is longer than 16 "
		     "profiles",
		     err.msg);
	ams_creds_provider_free(p);
	ams_creds_config_free(cfg);
	ams_buf_release(&cfgtext);
}

static void test_static_creds_and_account(void)
{
	struct env env = { { "AWS_PROFILE=p" } };
	struct ams_creds_config *cfg = NULL;
	struct ams_creds_provider *p = NULL;
	struct ams_err err = AMS_ERR_INIT;
	const struct ams_creds *c;

	CHECK_RC(AMS_OK,
		 load(&cfg, &env, NULL,
		      "[p]\naws_access_key_id = ASIAPROF\n"
		      "aws_secret_access_key = profsecret\n"
		      "aws_security_token = proftoken\n"
		      "aws_account_id = 123456789012\n",
		      NULL, &err),
		 &err);
	CHECK_RC(AMS_OK, ams_creds_chain_new(&p, NULL, cfg, NULL, &err), &err);
	c = ams_identity_creds(ams_creds_provider_identity(p));
	CHECK(c != NULL);
	if (c) {
		CHECK_STR_EQ("ASIAPROF", c->access_key_id);
		CHECK_STR_EQ("profsecret", c->secret_access_key);
		CHECK_STR_EQ("proftoken", c->session_token);
		CHECK_INT_EQ(0, c->expiration);
	}
	CHECK_STR_EQ("123456789012",
		     ams_identity_account(ams_creds_provider_identity(p)));
	/* Static credentials need no fetch. */
	CHECK_RC(AMS_OK, ams_creds_provider_resolve(p, 300000, &err), &err);
	ams_creds_provider_free(p);
	ams_creds_config_free(cfg);
}

static void test_role_account(void)
{
	struct env env = { { "AWS_PROFILE=ci" } };
	struct ams_creds_config *cfg = NULL;
	struct ams_creds_provider *p = NULL;
	struct ams_err err = AMS_ERR_INIT;

	CHECK_RC(AMS_OK,
		 load(&cfg, &env,
		      "[profile ci]\nrole_arn = "
		      "arn:aws-cn:iam::444455556666:role/pub\n"
		      "source_profile = base\n",
		      STATIC_P("base", "AKIDBASE"), NULL, &err),
		 &err);
	CHECK_RC(AMS_OK, ams_creds_chain_new(&p, NULL, cfg, NULL, &err), &err);
	/* Known before any fetch: rate buckets and messages use it. */
	CHECK_STR_EQ("444455556666",
		     ams_identity_account(ams_creds_provider_identity(p)));
	CHECK(ams_identity_creds(ams_creds_provider_identity(p)) == NULL);
	ams_creds_provider_free(p);
	ams_creds_config_free(cfg);
}

/* ---- Configuration helpers --------------------------------------------- */

static void test_config_get_and_region(void)
{
	struct env env = { { "AWS_PROFILE=dev" } };
	struct env env2 = { { "AWS_PROFILE=dev",
			      "AWS_DEFAULT_REGION=sa-east-1" } };
	struct env env3 = { { "AWS_PROFILE=dev", "AWS_DEFAULT_REGION=sa-east-1",
			      "AWS_REGION=ap-south-1" } };
	static const char config[] = "[profile dev]\nregion = eu-west-3\n"
				     "output = json\nshared = from-config\n";
	static const char credentials[] = "[dev]\nshared = from-credentials\n";
	struct ams_creds_config *cfg = NULL;
	struct ams_err err = AMS_ERR_INIT;

	CHECK_RC(AMS_OK, load(&cfg, &env, config, credentials, NULL, &err),
		 &err);
	CHECK_STR_EQ("dev", ams_creds_config_profile(cfg));
	CHECK_STR_EQ("json", ams_creds_config_get(cfg, NULL, "output"));
	CHECK_STR_EQ("from-credentials",
		     ams_creds_config_get(cfg, "dev", "shared"));
	CHECK(ams_creds_config_get(cfg, "other", "shared") == NULL);
	CHECK(ams_creds_config_has_profile(cfg, "dev"));
	CHECK(!ams_creds_config_has_profile(cfg, "other"));
	CHECK_STR_EQ("eu-west-3", ams_creds_config_region(cfg));
	CHECK_STR_EQ(config_path, ams_creds_config_path(cfg));
	CHECK_STR_EQ(creds_path, ams_creds_config_credentials_path(cfg));
	ams_creds_config_free(cfg);
	CHECK_RC(AMS_OK, load(&cfg, &env2, config, credentials, NULL, &err),
		 &err);
	CHECK_STR_EQ("sa-east-1", ams_creds_config_region(cfg));
	ams_creds_config_free(cfg);
	CHECK_RC(AMS_OK, load(&cfg, &env3, config, credentials, NULL, &err),
		 &err);
	CHECK_STR_EQ("ap-south-1", ams_creds_config_region(cfg));
	ams_creds_config_free(cfg);
}

static void test_config_paths(void)
{
	struct env env;
	struct ams_creds_config *cfg = NULL;
	struct ams_err err = AMS_ERR_INIT;
	char *want, *home = xasprintf("HOME=%s", tmpdir);

	/* Defaults under $HOME/.aws; "~/" expanded in the variables. */
	memset(&env, 0, sizeof(env));
	env.vars[0] = home;
	env.vars[1] = "AWS_CONFIG_FILE=~/alt/config";
	env.vars[2] = "AWS_SHARED_CREDENTIALS_FILE=";
	CHECK_RC(AMS_OK, ams_creds_config_load(&cfg, NULL, env_get, &env, &err),
		 &err);
	want = xasprintf("%s/alt/config", tmpdir);
	CHECK_STR_EQ(want, ams_creds_config_path(cfg));
	free(want);
	want = xasprintf("%s/.aws/credentials", tmpdir);
	CHECK_STR_EQ(want, ams_creds_config_credentials_path(cfg));
	free(want);
	CHECK_STR_EQ("default", ams_creds_config_profile(cfg));
	ams_creds_config_free(cfg);
	free(home);
}

static void test_config_parse_error(void)
{
	struct env env;
	struct ams_creds_config *cfg = NULL;
	struct ams_err err = AMS_ERR_INIT;
	char *want;

	memset(&env, 0, sizeof(env));
	CHECK_RC(AMS_EPARSE,
		 load(&cfg, &env, "[default]\nregion = x\n[broken\n", NULL,
		      NULL, &err),
		 &err);
	want = xasprintf("'%s' line 3: section header must end with ']'",
			 config_path);
	CHECK_STR_EQ(want, err.msg);
	CHECK(cfg == NULL);
	free(want);
}

static void test_config_secrets_redacted(void)
{
	struct env env;
	struct ams_creds_config *cfg = NULL;
	struct ams_err err = AMS_ERR_INIT;
	struct ams_buf sb = AMS_BUF_INIT;

	memset(&env, 0, sizeof(env));
	CHECK_RC(AMS_OK,
		 load(&cfg, &env, "[profile q]\naws_session_token = cfgtok99\n",
		      "[z]\naws_secret_access_key = zsecret99\n", NULL, &err),
		 &err);
	ams_buf_addstr(&sb, "zsecret99 cfgtok99");
	ams_redact(&sb);
	CHECK_STR_EQ("[redacted] [redacted]", sb.buf);
	ams_buf_release(&sb);
	ams_creds_config_free(cfg);
}

static void test_config_endpoints(void)
{
	struct env env = { { "AWS_PROFILE=emu" } };
	struct ams_creds_config *cfg = NULL;
	struct ams_endpoint_config ep;
	struct ams_err err = AMS_ERR_INIT;

	CHECK_RC(AMS_OK,
		 load(&cfg, &env,
		      "[profile emu]\nendpoint_url = http://127.0.0.1:4566\n"
		      "services = local\n"
		      "[services local]\nsts =\n  endpoint_url = "
		      "http://127.0.0.1:5000\nec2 =\n  other = 1\n"
		      "[profile bad]\nservices = missing\n",
		      NULL, NULL, &err),
		 &err);
	ams_endpoint_config_init(&ep);
	CHECK_RC(AMS_OK, ams_creds_config_endpoints(&ep, cfg, &err), &err);
	CHECK_STR_EQ("http://127.0.0.1:4566", ep.profile_url);
	CHECK_STR_EQ("http://127.0.0.1:5000",
		     ep.profile_service_url[AMS_SVC_STS]);
	CHECK(ep.profile_service_url[AMS_SVC_EC2] == NULL);
	CHECK(!ep.ignore_configured);
	ams_endpoint_config_release(&ep);
	ams_creds_config_free(cfg);

	env.vars[0] = "AWS_PROFILE=bad";
	CHECK_RC(AMS_OK,
		 load(&cfg, &env, "[profile bad]\nservices = nope\n", NULL,
		      NULL, &err),
		 &err);
	ams_endpoint_config_init(&ep);
	CHECK_RC(AMS_EUSAGE, ams_creds_config_endpoints(&ep, cfg, &err), &err);
	CHECK(strstr(err.msg, "services section 'nope' does not exist") !=
	      NULL);
	ams_endpoint_config_release(&ep);
	ams_creds_config_free(cfg);
}

/* ---- The environment source ---------------------------------------------- */

static void test_env_source(void)
{
	struct env env;
	struct ams_creds_config *cfg = NULL;
	struct ams_creds c = AMS_CREDS_INIT;
	struct ams_err err = AMS_ERR_INIT;
	time_t want;

	memset(&env, 0, sizeof(env));
	env.vars[0] = "AWS_ACCESS_KEY_ID=ASIAENV";
	env.vars[1] = "AWS_SECRET_ACCESS_KEY=envsecret77";
	env.vars[2] = "AWS_SECURITY_TOKEN=legacytoken77";
	env.vars[3] = "AWS_CREDENTIAL_EXPIRATION=2099-01-01T00:00:00Z";
	env.vars[4] = "AWS_ACCOUNT_ID=210987654321";
	CHECK_RC(AMS_OK, load(&cfg, &env, NULL, NULL, NULL, &err), &err);
	CHECK_RC(AMS_OK, ams_creds_from_env(&c, cfg, &err), &err);
	CHECK_STR_EQ("ASIAENV", c.access_key_id);
	CHECK_STR_EQ("legacytoken77", c.session_token);
	CHECK(ams_clock_parse_iso8601("2099-01-01T00:00:00Z", &want));
	CHECK_INT_EQ(want, c.expiration);
	CHECK_STR_EQ("210987654321", c.account_id);
	ams_creds_release(&c);
	ams_creds_config_free(cfg);

	/* AWS_SESSION_TOKEN wins over the legacy name. */
	env.vars[5] = "AWS_SESSION_TOKEN=newtoken77";
	CHECK_RC(AMS_OK, load(&cfg, &env, NULL, NULL, NULL, &err), &err);
	CHECK_RC(AMS_OK, ams_creds_from_env(&c, cfg, &err), &err);
	CHECK_STR_EQ("newtoken77", c.session_token);
	ams_creds_release(&c);
	ams_creds_config_free(cfg);
}

static void test_env_source_errors(void)
{
	static const struct {
		const char *vars[4];
		enum ams_code rc;
		const char *msg;
	} cases[] = {
		{ { "AWS_REGION=x" }, AMS_ENOTFOUND, "" },
		{ { "AWS_ACCESS_KEY_ID=" }, AMS_ENOTFOUND, "" },
		{ { "AWS_SECRET_ACCESS_KEY=s" },
		  AMS_ECREDS,
		  "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not" },
		{ { "AWS_ACCESS_KEY_ID=A", "AWS_SECRET_ACCESS_KEY=s",
		    "AWS_CREDENTIAL_EXPIRATION=soon" },
		  AMS_ECREDS,
		  "AWS_CREDENTIAL_EXPIRATION 'soon' is not an ISO 8601 time" },
		{ { "AWS_ACCESS_KEY_ID=A", "AWS_SECRET_ACCESS_KEY=s",
		    "AWS_CREDENTIAL_EXPIRATION=2001-01-01T00:00:00Z" },
		  AMS_ECREDS,
		  "the credentials in AWS_ACCESS_KEY_ID expired at "
		  "2001-01-01T00:00:00Z" },
		{ { "AWS_ACCESS_KEY_ID=A B", "AWS_SECRET_ACCESS_KEY=s" },
		  AMS_ECREDS,
		  "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY: " },
	};
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct env env;
		struct ams_creds_config *cfg = NULL;
		struct ams_creds c = AMS_CREDS_INIT;
		struct ams_err err = AMS_ERR_INIT;

		memset(&env, 0, sizeof(env));
		for (j = 0; j < 4 && cases[i].vars[j]; j++)
			env.vars[j] = cases[i].vars[j];
		CHECK_RC(AMS_OK, load(&cfg, &env, NULL, NULL, NULL, &err),
			 &err);
		CHECK_RC(cases[i].rc, ams_creds_from_env(&c, cfg, &err), &err);
		if (strncmp(err.msg, cases[i].msg, strlen(cases[i].msg)))
			CHECK_STR_EQ(cases[i].msg, err.msg);
		/* "not configured" leaves the error free for the next. */
		if (cases[i].rc == AMS_ENOTFOUND)
			CHECK_INT_EQ(AMS_OK, err.code);
		CHECK(c.access_key_id == NULL);
		ams_creds_config_free(cfg);
	}
}

/* ---- Pure parsers ----------------------------------------------------------- */

static void test_parse_metadata(void)
{
	static const struct {
		const char *json;
		const char *error;
	} cases[] = {
		{ "{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\","
		  "\"AccessKeyId\":\"ASIAMETA\",\"SecretAccessKey\":\"metas1\","
		  "\"Token\":\"metat1\",\"Expiration\":\"2030-01-01T00:00:"
		  "00Z\","
		  "\"AccountId\":\"999988887777\"}",
		  NULL },
		{ "{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"Message\":"
		  "\"not allowed\"}",
		  "imds: Code 'AssumeRoleUnauthorizedAccess': not allowed" },
		{ "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\","
		  "\"Expiration\":\"2030-01-01T00:00:00Z\"}",
		  "imds: Token: missing" },
		{ "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\","
		  "\"Token\":\"t\"}",
		  "imds: Expiration: missing" },
		{ "[]", "imds: expected a JSON object" },
		{ "<html>", "imds: json: syntax error" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ams_creds c = AMS_CREDS_INIT;
		struct ams_err err = AMS_ERR_INIT;
		enum ams_code rc = ams_creds_parse_metadata(
		    &c, cases[i].json, strlen(cases[i].json), "imds", &err);

		if (!cases[i].error) {
			CHECK_RC(AMS_OK, rc, &err);
			CHECK_STR_EQ("ASIAMETA", c.access_key_id);
			CHECK_STR_EQ("metat1", c.session_token);
			CHECK_STR_EQ("999988887777", c.account_id);
			CHECK(c.expiration > 0);
		} else {
			CHECK_RC(AMS_ECREDS, rc, &err);
			if (strncmp(err.msg, cases[i].error,
				    strlen(cases[i].error)))
				CHECK_STR_EQ(cases[i].error, err.msg);
		}
		ams_creds_release(&c);
	}
}

static void test_parse_caller(void)
{
	static const char xml[] =
	    "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/"
	    "2011-06-15/\"><GetCallerIdentityResult>"
	    "<Arn>arn:aws-us-gov:sts::123456789012:assumed-role/p/s</Arn>"
	    "<UserId>AROAEXAMPLEID:s</UserId><Account>123456789012</Account>"
	    "</GetCallerIdentityResult><ResponseMetadata><RequestId>r"
	    "</RequestId></ResponseMetadata></GetCallerIdentityResponse>";
	static const char bad[] =
	    "<GetCallerIdentityResponse><GetCallerIdentityResult>"
	    "<Arn>nope</Arn><Account>123456789012</Account>"
	    "</GetCallerIdentityResult>"
	    "</GetCallerIdentityResponse>";
	struct ams_creds_caller who;
	struct ams_err err = AMS_ERR_INIT;

	CHECK_RC(AMS_OK, ams_creds_parse_caller(&who, xml, strlen(xml), &err),
		 &err);
	CHECK_STR_EQ("123456789012", who.account);
	CHECK_STR_EQ("arn:aws-us-gov:sts::123456789012:assumed-role/p/s",
		     who.arn);
	CHECK_STR_EQ("AROAEXAMPLEID:s", who.user_id);
	CHECK_STR_EQ("aws-us-gov", who.partition);
	ams_creds_caller_release(&who);
	CHECK_RC(AMS_EPARSE,
		 ams_creds_parse_caller(&who, bad, strlen(bad), &err), &err);
	CHECK_STR_EQ("Arn: 'nope' is not an ARN", err.msg);
	CHECK(who.account == NULL);
}

static void test_container_urls(void)
{
	static const struct {
		const char *url;
		bool ok;
	} cases[] = {
		{ "https://anything.example.com/creds", true },
		{ "http://127.0.0.1/c", true },
		{ "http://127.3.4.5:8080/c", true },
		{ "http://localhost:1/c", true },
		{ "http://[::1]:9/c", true },
		{ "http://169.254.170.2/v2", true },
		{ "http://169.254.170.23/v1/credentials", true },
		{ "http://[fd00:ec2::23]/v1", true },
		{ "http://[fd00:ec2:0:0::23]/v1", true },
		{ "http://169.254.169.254/latest", false },
		{ "http://128.0.0.1/c", false },
		{ "http://example.com/c", false },
		{ "http://localhost.example.com/c", false },
		{ "http://[fd00:ec2::24]/v1", false },
		{ "ftp://127.0.0.1/c", false },
		{ "not a url", false },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ams_err err = AMS_ERR_INIT;
		enum ams_code rc =
		    ams_creds_check_container_url(cases[i].url, &err);

		if (cases[i].ok != (rc == AMS_OK))
			printf("#   url '%s': %s\n", cases[i].url, err.msg);
		CHECK(cases[i].ok == (rc == AMS_OK));
		if (!cases[i].ok)
			CHECK_INT_EQ(AMS_ECREDS, rc);
	}
}

static void test_role_opts(void)
{
	struct ams_creds_role_opts o;
	struct ams_creds_provider *p = NULL;
	struct ams_identity *base = ams_identity_new("base");
	struct ams_err err = AMS_ERR_INIT;
	char key[] = "project", value[] = "ami";
	struct ams_tag tags[1];

	tags[0].key = key;
	tags[0].value = value;
	memset(&o, 0, sizeof(o));
	o.role_arn = "arn:aws:iam::444455556666:role/ami-publisher";
	o.session_name = "ci-build-42";
	o.external_id = "ext-123";
	o.duration_s = 900;
	o.tags = tags;
	o.ntags = 1;
	o.sts_region = "us-east-2";
	CHECK_RC(AMS_OK, ams_creds_assume_role_new(&p, NULL, base, &o, &err),
		 &err);
	CHECK_STR_EQ("role 'arn:aws:iam::444455556666:role/ami-publisher'",
		     ams_creds_provider_describe(p));
	CHECK_STR_EQ("444455556666",
		     ams_identity_account(ams_creds_provider_identity(p)));
	CHECK_INT_EQ(AMS_CREDS_ASSUME_ROLE, ams_creds_provider_kind(p));
	ams_creds_provider_free(p);

	o.session_name = "has space";
	CHECK_RC(AMS_EUSAGE,
		 ams_creds_assume_role_new(&p, NULL, base, &o, &err), &err);
	CHECK(strstr(err.msg, "role session name 'has space'") != NULL);
	CHECK(p == NULL);
	ams_err_clear(&err);
	o.session_name = "ok";
	o.role_arn = "ami-publisher";
	CHECK_RC(AMS_EUSAGE,
		 ams_creds_assume_role_new(&p, NULL, base, &o, &err), &err);
	ams_err_clear(&err);
	o.role_arn = "arn:aws:iam::111111111111:role/r";
	o.duration_s = 100;
	CHECK_RC(AMS_EUSAGE,
		 ams_creds_assume_role_new(&p, NULL, base, &o, &err), &err);
	ams_err_clear(&err);
	o.duration_s = 0;
	o.source_identity = "aws:me";
	CHECK_RC(AMS_EUSAGE,
		 ams_creds_assume_role_new(&p, NULL, base, &o, &err), &err);
	ams_err_clear(&err);
	o.source_identity = NULL;
	o.external_id = "x";
	CHECK_RC(AMS_EUSAGE,
		 ams_creds_assume_role_new(&p, NULL, base, &o, &err), &err);
	ams_identity_free(base);
}

int main(void)
{
	CHECK(mkdtemp(tmpdir) != NULL);
	config_path = xasprintf("%s/config", tmpdir);
	creds_path = xasprintf("%s/credentials", tmpdir);
	test_chain_table();
	TEST(test_depth_limit, "chain: source_profile depth limit");
	TEST(test_static_creds_and_account, "chain: profile keys and account");
	TEST(test_role_account, "chain: role account known before fetching");
	TEST(test_config_get_and_region, "config: merged keys and Region");
	TEST(test_config_paths, "config: default paths and ~ expansion");
	TEST(test_config_parse_error, "config: parse errors name file/line");
	TEST(test_config_secrets_redacted, "config: file secrets redacted");
	TEST(test_config_endpoints, "config: profile endpoint URLs");
	TEST(test_env_source, "env: keys, legacy token, expiration, account");
	TEST(test_env_source_errors, "env: partial, malformed, expired");
	TEST(test_parse_metadata, "parse: container and IMDS JSON");
	TEST(test_parse_caller, "parse: GetCallerIdentity");
	TEST(test_container_urls, "container URL rules");
	TEST(test_role_opts, "AssumeRole options are checked");
	unlink(config_path);
	unlink(creds_path);
	rmdir(tmpdir);
	free(config_path);
	free(creds_path);
	return test_done();
}
