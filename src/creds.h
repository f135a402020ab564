/*
 * The credential chain: where amishare's AWS credentials come from, and
 * how they are kept fresh during a long run.
 *
 * Sources are consulted in this order (botocore's, aws-behaviour.md §4.1,
 * without SSO and the legacy boto files); the first one that is
 * configured wins, and a source that is configured but broken is an
 * error, never a silent fall-through:
 *
 *   1. environment   AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY
 *                    (+ AWS_SESSION_TOKEN or AWS_SECURITY_TOKEN,
 *                    AWS_CREDENTIAL_EXPIRATION, AWS_ACCOUNT_ID); skipped
 *                    when a profile was chosen with --profile
 *   2. assume role   the profile has role_arn and source_profile or
 *                    credential_source (Environment, Ec2InstanceMetadata,
 *                    EcsContainer); source profiles chain, with cycle
 *                    detection and at most AMS_CREDS_MAX_CHAIN hops
 *   3. web identity  AWS_WEB_IDENTITY_TOKEN_FILE / AWS_ROLE_ARN /
 *                    AWS_ROLE_SESSION_NAME, each before the profile's
 *                    web_identity_token_file / role_arn / role_session_name;
 *                    AssumeRoleWithWebIdentity is unsigned; the token
 *                    file is read again on every refresh (GitHub Actions)
 *   4. static keys   the profile in the credentials file
 *   5. process       the profile's credential_process
 *   6. static keys   the profile in the config file
 *   7. container     AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI
 *   8. IMDSv2        unless AWS_EC2_METADATA_DISABLED=true
 *
 * The profile is --profile, else AWS_DEFAULT_PROFILE, else AWS_PROFILE
 * (botocore's order), else "default". Files are AWS_CONFIG_FILE and
 * AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/config and ~/.aws/credentials.
 *
 * Every source yields a struct ams_creds_provider that owns a struct
 * ams_identity (aws.h) to sign with. Sources with temporary credentials
 * (roles, web identity, container, IMDS, credential_process with an
 * Expiration) install the identity's refresh hook, so the AWS layer
 * fetches new credentials before the old ones expire (its refresh
 * margin) and once more when AWS calls them expired; one refresh runs
 * at a time per identity.
 *
 * Secrets (secret keys, session tokens, web identity tokens, container
 * authorization tokens) are registered with ams_log_add_secret() the
 * moment they are read and wiped when freed. No error message holds one.
 */
#ifndef AMS_CREDS_H
#define AMS_CREDS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "err.h"
#include "sigv4.h"

struct ams_aws;
struct ams_identity;
struct ams_endpoint_config;
struct ams_tag;

/* Longest source_profile chain followed (hops). */
#define AMS_CREDS_MAX_CHAIN 16
/*
 * The AWS layer's refresh hook fetches again at most this often while the
 * credentials in hand have not expired, and after a failed fetch hands
 * back that failure for this long, or for the run when AWS refused
 * (see creds.c refresh_hook).
 */
#define AMS_CREDS_MIN_REFETCH_MS 1000u
/* credential_process must finish within this. */
#define AMS_CREDS_PROCESS_TIMEOUT_MS 60000L

/* Looks up an environment variable; NULL when unset. */
typedef const char *(ams_creds_getenv_fn)(const char *name, void *payload);

/* ---- Shared configuration ------------------------------------------------ */

/*
 * The environment and both shared files, parsed once. Opaque; read it
 * through the functions below.
 */
struct ams_creds_config;

/*
 * Loads the configuration. profile is the --profile value (NULL: take it
 * from the environment). getenv_fn (NULL: the process environment) and
 * env_payload give every environment lookup the chain makes, so tests
 * can pass a synthetic environment. Missing files count as empty.
 * Returns AMS_OK; AMS_EPARSE/AMS_EIO/AMS_ELIMIT for a file that cannot be
 * read or parsed (the message names the file and line); AMS_EUSAGE when
 * the home directory is needed and unknown. Free with
 * ams_creds_config_free().
 */
enum ams_code ams_creds_config_load(struct ams_creds_config **out,
				    const char *profile,
				    ams_creds_getenv_fn *getenv_fn,
				    void *env_payload, struct ams_err *err);
void ams_creds_config_free(struct ams_creds_config *cfg);

/* The selected profile name ("default" when nothing chose one). */
const char *ams_creds_config_profile(const struct ams_creds_config *cfg);
/* Paths of the two files, whether or not they exist. */
const char *ams_creds_config_path(const struct ams_creds_config *cfg);
const char *ams_creds_config_credentials_path(
    const struct ams_creds_config *cfg);
/*
 * The value of key in profile (NULL: the selected one), the credentials
 * file's [profile] winning over the config file's [profile profile], as
 * the SDKs merge them. NULL when absent. Borrowed.
 */
const char *ams_creds_config_get(const struct ams_creds_config *cfg,
				 const char *profile, const char *key);
/* Whether profile appears in either file. */
bool ams_creds_config_has_profile(const struct ams_creds_config *cfg,
				  const char *profile);
/* An environment variable through the config's lookup; "" counts as NULL. */
const char *ams_creds_config_env(const struct ams_creds_config *cfg,
				 const char *name);
/*
 * The Region: AWS_REGION, AWS_DEFAULT_REGION, then the selected profile's
 * region; NULL when none is set. Borrowed.
 */
const char *ams_creds_config_region(const struct ams_creds_config *cfg);
/*
 * Fills the profile tiers of an endpoint configuration: the selected
 * profile's endpoint_url, and <service>.endpoint_url from the
 * "[services <name>]" section its services key names, and sets
 * ignore_configured when the profile says ignore_configured_endpoint_urls
 * = true. Returns AMS_OK, or AMS_EUSAGE for a URL that does not parse or a
 * services section that does not exist (both named with the file).
 */
enum ams_code ams_creds_config_endpoints(struct ams_endpoint_config *ep,
					 const struct ams_creds_config *cfg,
					 struct ams_err *err);

/* ---- Pure pieces (exposed for tests) ------------------------------------- */

/*
 * The environment source. Returns AMS_OK with *out filled,
 * AMS_ENOTFOUND when neither key variable is set, AMS_ECREDS when one is
 * set without the other (naming the missing variable), when
 * AWS_CREDENTIAL_EXPIRATION is malformed or already past. *out must be
 * initialised (AMS_CREDS_INIT).
 */
enum ams_code ams_creds_from_env(struct ams_creds *out,
				 const struct ams_creds_config *cfg,
				 struct ams_err *err);
/*
 * Parses credential_process output (Version 1 JSON: AccessKeyId,
 * SecretAccessKey, optional SessionToken, Expiration, AccountId) into
 * *out (initialised). Returns AMS_OK or AMS_ECREDS naming the problem
 * (never a value).
 */
enum ams_code ams_creds_parse_process(struct ams_creds *out, const char *json,
				      size_t len, struct ams_err *err);
/*
 * Runs cmdline without a shell (procspawn.h) and parses its output.
 * what names the source in messages ("profile 'x' in '/p/config'"). A
 * non-zero exit fails with AMS_ECREDS including the exit status and the
 * start of stderr, never stdout.
 */
enum ams_code ams_creds_run_process(struct ams_creds *out, const char *cmdline,
				    const char *what, struct ams_err *err);
/*
 * Parses the JSON of the container endpoint or of IMDS (AccessKeyId,
 * SecretAccessKey, Token, Expiration, optional AccountId; a Code other
 * than "Success" is a failure). source names it in messages.
 */
enum ams_code ams_creds_parse_metadata(struct ams_creds *out, const char *json,
				       size_t len, const char *source,
				       struct ams_err *err);
/*
 * Checks a container credentials URL: https to any host; http only to a
 * loopback address, localhost, 169.254.170.2, 169.254.170.23 or
 * fd00:ec2::23. Returns AMS_OK or AMS_ECREDS saying why.
 */
enum ams_code ams_creds_check_container_url(const char *url,
					    struct ams_err *err);
/* ---- Providers ----------------------------------------------------------- */

struct ams_creds_provider;

enum ams_creds_kind {
	AMS_CREDS_STATIC = 0, /* environment or profile keys */
	AMS_CREDS_PROCESS,
	AMS_CREDS_WEB_IDENTITY,
	AMS_CREDS_ASSUME_ROLE,
	AMS_CREDS_CONTAINER,
	AMS_CREDS_IMDS,
};

/* Chain settings beyond the environment and files. */
struct ams_creds_chain_opts {
	/*
	 * Region of the STS endpoint for web identity and profile roles
	 * (NULL: ams_creds_config_region(), else us-east-1).
	 */
	const char *sts_region;
	/* Session name for roles that name none (NULL: amishare-<epoch>). */
	const char *session_name;
};

/*
 * Chooses the source as described at the top of this file and builds its
 * provider, without any network traffic (credentials that need it are
 * fetched on first use or by ams_creds_provider_resolve()). aws (borrowed,
 * must outlive the provider) carries the STS, container and IMDS calls;
 * cfg is only read during this call. opts may be NULL.
 * Returns AMS_OK; AMS_ECREDS when no source is configured ("no
 * credentials: set ...") or a configured one is broken (missing
 * source_profile, cycle, partial keys, bad credential_source, ...), the
 * message naming the profile and file and what to change; AMS_EUSAGE for
 * an explicitly chosen profile that does not exist.
 */
enum ams_code ams_creds_chain_new(struct ams_creds_provider **out,
				  struct ams_aws *aws,
				  const struct ams_creds_config *cfg,
				  const struct ams_creds_chain_opts *opts,
				  struct ams_err *err);

/* Options of an AssumeRole the program makes for itself (sts.h limits). */
struct ams_creds_role_opts {
	const char *role_arn;	     /* required */
	const char *session_name;    /* required: 2-64 of [\w+=,.@-] */
	const char *external_id;     /* NULL: none */
	unsigned duration_s;	     /* 0: STS default (3600) */
	const char *source_identity; /* NULL: none */
	const struct ams_tag *tags;  /* session tags */
	size_t ntags;
	const char *const *transitive_tag_keys;
	size_t ntransitive;
	const char *sts_region; /* required: regional STS endpoint */
};

/*
 * A provider whose credentials come from AssumeRole called with base
 * (borrowed: must outlive the provider) at the regional STS endpoint of
 * opts->sts_region, and are refreshed by calling it again before they
 * expire. opts is copied. Nothing is sent until the credentials are
 * first needed. The options are checked now (ams_sts_build_assume_role):
 * returns AMS_OK, AMS_EUSAGE naming a missing or invalid option, or
 * AMS_ELIMIT for too many tags.
 */
enum ams_code ams_creds_assume_role_new(struct ams_creds_provider **out,
					struct ams_aws *aws,
					struct ams_identity *base,
					const struct ams_creds_role_opts *opts,
					struct ams_err *err);

/*
 * Frees the provider, the identity it owns and the providers it was
 * built on. No call using the identity may still be pending. NULL is fine.
 */
void ams_creds_provider_free(struct ams_creds_provider *p);
/* The identity to sign calls with (borrowed from the provider). */
struct ams_identity *ams_creds_provider_identity(
    const struct ams_creds_provider *p);
enum ams_creds_kind ams_creds_provider_kind(const struct ams_creds_provider *p);
/*
 * A one-line description of where the credentials come from, naming
 * profiles, files, roles and URLs, e.g. "role 'arn:aws:iam::1:role/r'
 * (profile 'ci') from static keys (profile 'base' in '/h/.aws/credentials')".
 * Never holds a secret. Borrowed.
 */
const char *ams_creds_provider_describe(const struct ams_creds_provider *p);
/* The provider this one assumes a role from, or NULL. Borrowed. */
const struct ams_creds_provider *ams_creds_provider_base(
    const struct ams_creds_provider *p);
/* Credentials fetched so far (initial fetch included). */
unsigned ams_creds_provider_fetches(const struct ams_creds_provider *p);

/*
 * Makes sure the identity holds credentials that are not about to expire
 * (within margin_ms), fetching them now if needed, and runs the engine
 * until they arrive. For start-up, before the run's calls are queued:
 * this drives the whole engine (ams_http_run) and must not be called from
 * a callback. Returns AMS_OK or the fetch's error (AMS_ECREDS, AMS_EAWS
 * with the STS code, AMS_ENET, ...), with a message naming the source.
 */
enum ams_code ams_creds_provider_resolve(struct ams_creds_provider *p,
					 unsigned long margin_ms,
					 struct ams_err *err);

/* ---- Who am I -------------------------------------------------------------- */

struct ams_creds_caller {
	char *account;	 /* "123456789012" */
	char *arn;	 /* "arn:aws:sts::123456789012:assumed-role/r/s" */
	char *user_id;	 /* "AROA...:s" */
	char *partition; /* "aws", "aws-cn", "aws-us-gov" (from the ARN) */
};

/*
 * Parses a GetCallerIdentity response (ams_sts_parse_get_caller_identity)
 * into *out, adding the partition. Returns AMS_OK or AMS_EPARSE.
 */
enum ams_code ams_creds_parse_caller(struct ams_creds_caller *out,
				     const char *xml, size_t len,
				     struct ams_err *err);
void ams_creds_caller_release(struct ams_creds_caller *c);

/*
 * Called once with the caller (NULL on failure) and err (code AMS_OK on
 * success). Both are borrowed until the callback returns.
 */
typedef void(ams_creds_caller_fn)(const struct ams_creds_caller *caller,
				  const struct ams_err *err, void *payload);
/*
 * Calls STS GetCallerIdentity in region signed with id; done runs from
 * the engine's loop.
 */
void ams_creds_get_caller(struct ams_aws *aws, struct ams_identity *id,
			  const char *region, ams_creds_caller_fn *done,
			  void *payload);

#endif
