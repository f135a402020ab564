/*
 * KMS: the key calls encrypted AMI sharing needs (DescribeKey to refuse
 * AWS managed keys early, grants for recipient accounts).
 *
 * KMS speaks JSON 1.1 (X-Amz-Target TrentService.<Action>,
 * aws-behaviour.md §10). Builders append the request body to the buffer
 * the aws layer sends (ams_aws_call_json()); parsers are pure.
 *
 * Ownership: results are filled by the parsers and freed with their
 * _release functions; request arguments are borrowed.
 */
#ifndef AMS_KMS_H
#define AMS_KMS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "err.h"

#define AMS_KMS_DESCRIBE_KEY "DescribeKey"
#define AMS_KMS_CREATE_GRANT "CreateGrant"
#define AMS_KMS_LIST_GRANTS "ListGrants"
#define AMS_KMS_RETIRE_GRANT "RetireGrant"
#define AMS_KMS_REVOKE_GRANT "RevokeGrant"

#define AMS_KMS_LIST_GRANTS_MAX_LIMIT 100
#define AMS_KMS_GRANT_NAME_MAX 256
#define AMS_KMS_PRINCIPAL_MAX 256

/* ---- Results --------------------------------------------------------- */

struct ams_kms_key {
	char *key_id;
	char *arn;
	char *account_id;  /* AWSAccountId */
	char *key_state;   /* "Enabled", "Disabled", "PendingDeletion", ... */
	char *key_manager; /* "AWS" or "CUSTOMER" */
	char *key_usage;   /* "ENCRYPT_DECRYPT", ... */
	char *origin;
	char *description;
	bool enabled;
	bool multi_region;
};

void ams_kms_key_release(struct ams_kms_key *key);
/*
 * AWS managed keys (such as aws/ebs) cannot be shared: snapshots under
 * them cannot be shared either.
 */
bool ams_kms_key_is_aws_managed(const struct ams_kms_key *key);

struct ams_kms_grant_created {
	char *grant_id;
	char *grant_token;
};

void ams_kms_grant_created_release(struct ams_kms_grant_created *g);

struct ams_kms_grant {
	char *grant_id;
	char *key_id;
	char *name; /* NULL when the grant has none ("" is reported as NULL) */
	char *grantee_principal;
	char *retiring_principal; /* NULL when absent */
	char *issuing_account;
	char **operations;
	size_t noperations;
	time_t creation_time; /* 0 when absent */
};

struct ams_kms_grants {
	struct ams_kms_grant *v;
	size_t n;
	/* Set while Truncated is true: pass it as the next Marker. */
	char *next_marker;
};

void ams_kms_grants_release(struct ams_kms_grants *grants);
/* Whether the grant allows operation ("Decrypt", ...). */
bool ams_kms_grant_allows(const struct ams_kms_grant *grant,
			  const char *operation);

/* ---- Request builders ------------------------------------------------ */

/*
 * Each appends the JSON body to an empty body buffer and returns AMS_OK,
 * or AMS_EUSAGE (nothing written) naming the bad member.
 */

/* DescribeKey: a key id, key ARN, alias name or alias ARN. */
enum ams_code ams_kms_build_describe_key(struct ams_buf *body,
					 const char *key_id,
					 struct ams_err *err);

struct ams_kms_create_grant_req {
	/* Key id or key ARN; a key of another account needs its ARN. */
	const char *key_id;
	const char *grantee_principal; /* 1-256 of [\w+=,.@:/-] */
	/* Grant operations: "Decrypt", "Encrypt", ... (at least one). */
	const char *const *operations;
	size_t noperations;
	/* Optional: makes retries idempotent; 1-256 of [a-zA-Z0-9:/_-]. */
	const char *name;
	const char *retiring_principal; /* optional */
	bool dry_run;
};

/* CreateGrant. Unknown operation names are refused. */
enum ams_code ams_kms_build_create_grant(
    struct ams_buf *body, const struct ams_kms_create_grant_req *req,
    struct ams_err *err);

/*
 * ListGrants of key_id; marker NULL or "" for the first page; limit 0
 * leaves the page size to AWS, else 1 to AMS_KMS_LIST_GRANTS_MAX_LIMIT.
 */
enum ams_code ams_kms_build_list_grants(struct ams_buf *body,
					const char *key_id, const char *marker,
					unsigned limit, struct ams_err *err);

/* RetireGrant by key and grant id. */
enum ams_code ams_kms_build_retire_grant(struct ams_buf *body,
					 const char *key_id,
					 const char *grant_id, bool dry_run,
					 struct ams_err *err);
/* RevokeGrant by key and grant id. */
enum ams_code ams_kms_build_revoke_grant(struct ams_buf *body,
					 const char *key_id,
					 const char *grant_id, bool dry_run,
					 struct ams_err *err);

/* ---- Response parsers ------------------------------------------------ */

/*
 * Pure. *out need not be initialised; on AMS_OK the caller releases it.
 * AMS_EPARSE (naming the member) for malformed JSON or a missing or
 * mistyped required member (KeyMetadata.KeyId, GrantId, every grant's
 * GrantId, NextMarker when Truncated is true); AMS_ELIMIT from json.h.
 * RetireGrant and RevokeGrant answer with no content: nothing to parse.
 */
enum ams_code ams_kms_parse_describe_key(struct ams_kms_key *out,
					 const char *body, size_t len,
					 struct ams_err *err);
enum ams_code ams_kms_parse_create_grant(struct ams_kms_grant_created *out,
					 const char *body, size_t len,
					 struct ams_err *err);
enum ams_code ams_kms_parse_list_grants(struct ams_kms_grants *out,
					const char *body, size_t len,
					struct ams_err *err);

#endif
