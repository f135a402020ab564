/*
 * STS: typed AssumeRole, AssumeRoleWithWebIdentity and GetCallerIdentity
 * calls, and the role ARN and session name validators.
 *
 * STS speaks the AWS query protocol (aws-behaviour.md §1.2): form
 * parameters like EC2's, but lists are "member" lists
 * (Tags.member.1.Key), and answers wrap their output in <{Action}Result>.
 * Builders hand parameters to a callback (ams_sts_call_param fills an
 * aws call; tests collect them); parsers are pure.
 *
 * Secrets: parsed credentials go into struct ams_creds (sigv4.h), which
 * registers the secret key and session token for redaction and wipes
 * them when released. The web identity token given to the builder is
 * registered too. No message of this module contains a secret.
 */
#ifndef AMS_STS_H
#define AMS_STS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "err.h"
#include "sigv4.h"
#include "tags.h"

#define AMS_STS_ASSUME_ROLE "AssumeRole"
#define AMS_STS_ASSUME_ROLE_WITH_WEB_IDENTITY "AssumeRoleWithWebIdentity"
#define AMS_STS_GET_CALLER_IDENTITY "GetCallerIdentity"

/* Limits of aws-behaviour.md §9. */
#define AMS_STS_DURATION_MIN_S 900
#define AMS_STS_DURATION_MAX_S 43200
#define AMS_STS_SESSION_NAME_MIN 2
#define AMS_STS_SESSION_NAME_MAX 64
#define AMS_STS_MAX_SESSION_TAGS 50
#define AMS_STS_TAG_KEY_MAX 128
#define AMS_STS_TAG_VALUE_MAX 256
#define AMS_STS_ROLE_ARN_MIN 20
#define AMS_STS_ROLE_ARN_MAX 2048
#define AMS_STS_WEB_IDENTITY_TOKEN_MIN 4
#define AMS_STS_WEB_IDENTITY_TOKEN_MAX 20000

/* ---- Validators ------------------------------------------------------ */

/*
 * An IAM role ARN: arn:<aws|aws-cn|aws-us-gov>:iam::<12 digits>:role/
 * [path/]name, the name 1-64 of [A-Za-z0-9+=,.@_-], the path printable
 * ASCII, 20-2048 characters in all. AMS_OK or AMS_EUSAGE naming the ARN
 * and the first thing wrong; err may be NULL.
 */
enum ams_code ams_sts_check_role_arn(const char *arn, struct ams_err *err);
/* A RoleSessionName: 2-64 characters of [A-Za-z0-9_+=,.@-]. */
enum ams_code ams_sts_check_session_name(const char *name, struct ams_err *err);
/*
 * The 12-digit account of an IAM or STS ARN ("arn:aws:iam::<acct>:...",
 * "arn:aws:sts::<acct>:assumed-role/..."), copied into out (13 bytes).
 * Returns false, leaving out "", when arn holds none.
 */
bool ams_sts_arn_account(char out[13], const char *arn);

/* ---- Request builders ------------------------------------------------ */

typedef void(ams_sts_param_fn)(void *payload, const char *name,
			       const char *value);

/* The ams_sts_param_fn that appends to a struct ams_aws_call (payload). */
void ams_sts_call_param(void *call, const char *name, const char *value);

struct ams_sts_assume_role_req {
	const char *role_arn;	  /* required */
	const char *session_name; /* required */
	unsigned duration_s;	  /* 0: AWS's default (3600) */
	const char *external_id;  /* NULL: none; 2-1224 [\w+=,.@:/-] */
	/* Session tags (Tags.member.N): key 1-128, value 0-256. */
	const struct ams_tag *tags;
	size_t ntags;
	const char *const *transitive_tag_keys;
	size_t ntransitive_tag_keys;
	const char *source_identity; /* NULL: none; 2-64, not "aws:..." */
};

/*
 * AssumeRole. Checks every member first and adds nothing on failure:
 * AMS_EUSAGE names the member and what is wrong, AMS_ELIMIT more than
 * AMS_STS_MAX_SESSION_TAGS tags or transitive keys.
 */
enum ams_code ams_sts_build_assume_role(
    const struct ams_sts_assume_role_req *req, ams_sts_param_fn *add,
    void *payload, struct ams_err *err);

struct ams_sts_web_identity_req {
	const char *role_arn;
	const char *session_name;
	const char *web_identity_token; /* the JWT; a secret */
	unsigned duration_s;		/* 0: AWS's default */
	const char *provider_id;	/* OAuth 2.0 providers only */
};

/*
 * AssumeRoleWithWebIdentity: the call is sent unsigned (no identity). The
 * token is registered with ams_log_add_secret(). Errors as above; the
 * token is never quoted.
 */
enum ams_code ams_sts_build_assume_role_with_web_identity(
    const struct ams_sts_web_identity_req *req, ams_sts_param_fn *add,
    void *payload, struct ams_err *err);

/* GetCallerIdentity takes no parameters: the call needs nothing added. */

/* ---- Results and parsers --------------------------------------------- */

/* A role session: AssumeRole and AssumeRoleWithWebIdentity answers. */
struct ams_sts_session {
	/*
	 * The temporary credentials, with expiration and account_id (from
	 * the assumed-role ARN) set.
	 */
	struct ams_creds creds;
	char *assumed_role_arn;	     /* arn:aws:sts::<acct>:assumed-role/r/s */
	char *assumed_role_id;	     /* "AROA...:<session>" */
	char *source_identity;	     /* NULL when absent */
	unsigned packed_policy_size; /* percent; 0 when absent */
	/* Web identity only (NULL otherwise). */
	char *subject;
	char *audience;
	char *provider;
};

/* Wipes the credentials and frees everything; *s can be reused. */
void ams_sts_session_release(struct ams_sts_session *s);

/*
 * Pure. *out need not be initialised; on AMS_OK the caller releases it.
 * White space around every value is dropped, and inside credentials too
 * (AWS's documented example wraps the session token over lines).
 * Returns AMS_EPARSE for malformed XML, a root other than
 * <{Action}Response>, a missing Credentials member or Expiration, or an
 * unparsable Expiration or PackedPolicySize; AMS_ECREDS when the
 * credentials are unusable (ams_creds_set()); AMS_ELIMIT from xml.h.
 * Messages never hold a credential.
 */
enum ams_code ams_sts_parse_assume_role(struct ams_sts_session *out,
					const char *body, size_t len,
					struct ams_err *err);
enum ams_code ams_sts_parse_assume_role_with_web_identity(
    struct ams_sts_session *out, const char *body, size_t len,
    struct ams_err *err);

struct ams_sts_caller {
	char *account; /* 12 digits */
	char *arn;
	char *user_id;
};

void ams_sts_caller_release(struct ams_sts_caller *c);

/*
 * GetCallerIdentity. AMS_EPARSE as above, also when Account is missing
 * or not 12 digits.
 */
enum ams_code ams_sts_parse_get_caller_identity(struct ams_sts_caller *out,
						const char *body, size_t len,
						struct ams_err *err);

#endif
