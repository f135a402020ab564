/*
 * KMS request builders and response parsers (DescribeKey, CreateGrant,
 * ListGrants, RetireGrant, RevokeGrant).
 *
 * Grant operations and names are checked against the KMS model before a
 * request is written, so a misspelt operation is reported here rather
 * than as a ValidationException from AWS.
 */
#include "kms.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "xmem.h"

/* ---- Validation -------------------------------------------------------- */

static const char *const grant_operations[] = {
	"Decrypt",
	"Encrypt",
	"GenerateDataKey",
	"GenerateDataKeyWithoutPlaintext",
	"ReEncryptFrom",
	"ReEncryptTo",
	"Sign",
	"Verify",
	"GetPublicKey",
	"CreateGrant",
	"RetireGrant",
	"DescribeKey",
	"GenerateDataKeyPair",
	"GenerateDataKeyPairWithoutPlaintext",
	"GenerateMac",
	"VerifyMac",
	"DeriveSharedSecret",
};

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* 1..max characters, each alphanumeric or in extra. */
static enum ams_code check_chars(const char *s, const char *what, size_t max,
				 const char *extra, struct ams_err *err)
{
	size_t i, n;

	if (!s || !*s)
		return ams_fail(err, AMS_EUSAGE, "empty %s", what);
	n = strlen(s);
	if (n > max)
		return ams_fail(err, AMS_EUSAGE,
				"%s '%.64s...' is longer than %zu characters",
				what, s, max);
	for (i = 0; i < n; i++)
		if (!is_alnum(s[i]) && !strchr(extra, s[i]))
			return ams_fail(err, AMS_EUSAGE,
					"%s '%.80s' may hold only letters, "
					"digits and '%s'",
					what, s, extra);
	return AMS_OK;
}

static enum ams_code check_key_id(const char *key_id, struct ams_err *err)
{
	return check_chars(key_id, "KMS key id", 2048, "-_:/", err);
}

static enum ams_code check_grant_id(const char *grant_id, struct ams_err *err)
{
	return check_chars(grant_id, "grant id", 128, "-_", err);
}

static enum ams_code check_principal(const char *arn, const char *what,
				     struct ams_err *err)
{
	return check_chars(arn, what, AMS_KMS_PRINCIPAL_MAX, "_+=,.@:/-", err);
}

static enum ams_code check_operations(const char *const *ops, size_t n,
				      struct ams_err *err)
{
	size_t i, j;

	if (!n || !ops)
		return ams_fail(err, AMS_EUSAGE, "a grant needs operations");
	for (i = 0; i < n; i++) {
		for (j = 0; j < ARRAY_SIZE(grant_operations); j++)
			if (ops[i] && !strcmp(ops[i], grant_operations[j]))
				break;
		if (j == ARRAY_SIZE(grant_operations))
			return ams_fail(err, AMS_EUSAGE,
					"unknown grant operation '%s'",
					ops[i] ? ops[i] : "");
	}
	return AMS_OK;
}

/* ---- Request builders -------------------------------------------------- */

static void member_str(struct ams_json_writer *w, const char *key,
		       const char *value)
{
	ams_json_w_key(w, key);
	ams_json_w_str(w, value);
}

static void member_dry_run(struct ams_json_writer *w, bool dry_run)
{
	if (dry_run) {
		ams_json_w_key(w, "DryRun");
		ams_json_w_bool(w, true);
	}
}

enum ams_code ams_kms_build_describe_key(struct ams_buf *body,
					 const char *key_id,
					 struct ams_err *err)
{
	struct ams_json_writer w;

	if (check_key_id(key_id, err))
		return AMS_EUSAGE;
	ams_json_w_init(&w, body);
	ams_json_w_object(&w);
	member_str(&w, "KeyId", key_id);
	ams_json_w_end(&w);
	return ams_json_w_finish(&w, err);
}

enum ams_code ams_kms_build_create_grant(
    struct ams_buf *body, const struct ams_kms_create_grant_req *req,
    struct ams_err *err)
{
	struct ams_json_writer w;
	size_t i;

	if (check_key_id(req->key_id, err) ||
	    check_principal(req->grantee_principal, "grantee principal", err) ||
	    check_operations(req->operations, req->noperations, err) ||
	    (req->name && check_chars(req->name, "grant name",
				      AMS_KMS_GRANT_NAME_MAX, ":/_-", err)) ||
	    (req->retiring_principal &&
	     check_principal(req->retiring_principal, "retiring principal",
			     err)))
		return AMS_EUSAGE;
	ams_json_w_init(&w, body);
	ams_json_w_object(&w);
	member_str(&w, "KeyId", req->key_id);
	member_str(&w, "GranteePrincipal", req->grantee_principal);
	ams_json_w_key(&w, "Operations");
	ams_json_w_array(&w);
	for (i = 0; i < req->noperations; i++)
		ams_json_w_str(&w, req->operations[i]);
	ams_json_w_end(&w);
	if (req->name)
		member_str(&w, "Name", req->name);
	if (req->retiring_principal)
		member_str(&w, "RetiringPrincipal", req->retiring_principal);
	member_dry_run(&w, req->dry_run);
	ams_json_w_end(&w);
	return ams_json_w_finish(&w, err);
}

enum ams_code ams_kms_build_list_grants(struct ams_buf *body,
					const char *key_id, const char *marker,
					unsigned limit, struct ams_err *err)
{
	struct ams_json_writer w;

	if (check_key_id(key_id, err))
		return AMS_EUSAGE;
	if (limit > AMS_KMS_LIST_GRANTS_MAX_LIMIT)
		return ams_fail(err, AMS_EUSAGE,
				"ListGrants limit %u: at most %d", limit,
				AMS_KMS_LIST_GRANTS_MAX_LIMIT);
	ams_json_w_init(&w, body);
	ams_json_w_object(&w);
	member_str(&w, "KeyId", key_id);
	if (limit) {
		ams_json_w_key(&w, "Limit");
		ams_json_w_u64(&w, limit);
	}
	if (marker && *marker)
		member_str(&w, "Marker", marker);
	ams_json_w_end(&w);
	return ams_json_w_finish(&w, err);
}

static enum ams_code build_grant_ref(struct ams_buf *body, const char *key_id,
				     const char *grant_id, bool dry_run,
				     struct ams_err *err)
{
	struct ams_json_writer w;

	if (check_key_id(key_id, err) || check_grant_id(grant_id, err))
		return AMS_EUSAGE;
	ams_json_w_init(&w, body);
	ams_json_w_object(&w);
	member_str(&w, "KeyId", key_id);
	member_str(&w, "GrantId", grant_id);
	member_dry_run(&w, dry_run);
	ams_json_w_end(&w);
	return ams_json_w_finish(&w, err);
}

enum ams_code ams_kms_build_retire_grant(struct ams_buf *body,
					 const char *key_id,
					 const char *grant_id, bool dry_run,
					 struct ams_err *err)
{
	return build_grant_ref(body, key_id, grant_id, dry_run, err);
}

enum ams_code ams_kms_build_revoke_grant(struct ams_buf *body,
					 const char *key_id,
					 const char *grant_id, bool dry_run,
					 struct ams_err *err)
{
	return build_grant_ref(body, key_id, grant_id, dry_run, err);
}

/* ---- Response parsers -------------------------------------------------- */

/* An optional string member of a result struct. */
struct str_field {
	const char *key;
	size_t offset;
};

static enum ams_code get_strs(void *obj, const struct str_field *fields,
			      size_t n, const struct ams_json_val *from,
			      struct ams_err *err)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char **slot = (char **)((char *)obj + fields[i].offset);

		if (ams_json_get_str_opt(slot, from, fields[i].key, err))
			return AMS_EPARSE;
	}
	return AMS_OK;
}

static void free_strs(void *obj, const struct str_field *fields, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(*(char **)((char *)obj + fields[i].offset));
}

/* An array member that may be absent or null (then *out is NULL). */
static enum ams_code opt_array(const struct ams_json_val **out,
			       const struct ams_json_val *from, const char *key,
			       struct ams_err *err)
{
	enum ams_json_type t = ams_json_type_of(ams_json_member(from, key));

	*out = NULL;
	if (t == AMS_JSON_INVALID || t == AMS_JSON_NULL)
		return AMS_OK;
	return ams_json_get_array(out, from, key, err);
}

static const struct str_field key_fields[] = {
	{ "KeyId", offsetof(struct ams_kms_key, key_id) },
	{ "Arn", offsetof(struct ams_kms_key, arn) },
	{ "AWSAccountId", offsetof(struct ams_kms_key, account_id) },
	{ "KeyState", offsetof(struct ams_kms_key, key_state) },
	{ "KeyManager", offsetof(struct ams_kms_key, key_manager) },
	{ "KeyUsage", offsetof(struct ams_kms_key, key_usage) },
	{ "Origin", offsetof(struct ams_kms_key, origin) },
	{ "Description", offsetof(struct ams_kms_key, description) },
};

void ams_kms_key_release(struct ams_kms_key *key)
{
	free_strs(key, key_fields, ARRAY_SIZE(key_fields));
	memset(key, 0, sizeof(*key));
}

bool ams_kms_key_is_aws_managed(const struct ams_kms_key *key)
{
	return key->key_manager && !strcmp(key->key_manager, "AWS");
}

enum ams_code ams_kms_parse_describe_key(struct ams_kms_key *out,
					 const char *body, size_t len,
					 struct ams_err *err)
{
	struct ams_json *doc = NULL;
	const struct ams_json_val *root, *meta;
	enum ams_code rc;

	memset(out, 0, sizeof(*out));
	rc = ams_json_parse_object(&doc, &root, body, len, err);
	if (!rc)
		rc = ams_json_get_object(&meta, root, "KeyMetadata", err);
	if (!rc)
		rc = get_strs(out, key_fields, ARRAY_SIZE(key_fields), meta,
			      err);
	if (!rc && !out->key_id)
		rc = ams_fail(err, AMS_EPARSE, "KeyMetadata.KeyId: missing");
	if (!rc)
		rc = ams_json_get_bool_opt(&out->enabled, meta, "Enabled", err);
	if (!rc)
		rc = ams_json_get_bool_opt(&out->multi_region, meta,
					   "MultiRegion", err);
	ams_json_free(doc);
	if (rc) {
		ams_kms_key_release(out);
		ams_err_prefix(err, "DescribeKey response");
	}
	return rc;
}

void ams_kms_grant_created_release(struct ams_kms_grant_created *g)
{
	free(g->grant_id);
	free(g->grant_token);
	memset(g, 0, sizeof(*g));
}

enum ams_code ams_kms_parse_create_grant(struct ams_kms_grant_created *out,
					 const char *body, size_t len,
					 struct ams_err *err)
{
	struct ams_json *doc = NULL;
	const struct ams_json_val *root;
	enum ams_code rc;

	memset(out, 0, sizeof(*out));
	rc = ams_json_parse_object(&doc, &root, body, len, err);
	if (!rc)
		rc = ams_json_get_str(&out->grant_id, root, "GrantId", err);
	if (!rc)
		rc = ams_json_get_str_opt(&out->grant_token, root, "GrantToken",
					  err);
	ams_json_free(doc);
	if (rc) {
		ams_kms_grant_created_release(out);
		ams_err_prefix(err, "CreateGrant response");
	}
	return rc;
}

static const struct str_field grant_fields[] = {
	{ "GrantId", offsetof(struct ams_kms_grant, grant_id) },
	{ "KeyId", offsetof(struct ams_kms_grant, key_id) },
	{ "Name", offsetof(struct ams_kms_grant, name) },
	{ "GranteePrincipal",
	  offsetof(struct ams_kms_grant, grantee_principal) },
	{ "RetiringPrincipal",
	  offsetof(struct ams_kms_grant, retiring_principal) },
	{ "IssuingAccount", offsetof(struct ams_kms_grant, issuing_account) },
};

static void grant_release(struct ams_kms_grant *g)
{
	size_t i;

	free_strs(g, grant_fields, ARRAY_SIZE(grant_fields));
	for (i = 0; i < g->noperations; i++)
		free(g->operations[i]);
	free(g->operations);
}

void ams_kms_grants_release(struct ams_kms_grants *grants)
{
	size_t i;

	for (i = 0; i < grants->n; i++)
		grant_release(&grants->v[i]);
	free(grants->v);
	free(grants->next_marker);
	memset(grants, 0, sizeof(*grants));
}

bool ams_kms_grant_allows(const struct ams_kms_grant *grant,
			  const char *operation)
{
	size_t i;

	for (i = 0; i < grant->noperations; i++)
		if (!strcmp(grant->operations[i], operation))
			return true;
	return false;
}

static enum ams_code parse_grant(struct ams_kms_grant *g,
				 const struct ams_json_val *e,
				 struct ams_err *err)
{
	const struct ams_json_val *ops = NULL, *op;
	enum ams_code rc;
	size_t i = 0;

	rc = get_strs(g, grant_fields, ARRAY_SIZE(grant_fields), e, err);
	if (!rc && !g->grant_id)
		rc = ams_fail(err, AMS_EPARSE, "GrantId: missing");
	if (!rc)
		rc = ams_json_get_epoch_opt(&g->creation_time, e,
					    "CreationDate", err);
	if (rc)
		return rc;
	if (g->name && !*g->name) {
		free(g->name);
		g->name = NULL;
	}
	rc = opt_array(&ops, e, "Operations", err);
	if (rc)
		return rc;
	g->noperations = ams_json_size(ops);
	g->operations = xcalloc(g->noperations, sizeof(*g->operations));
	for (op = ams_json_child(ops); op; op = ams_json_sibling(op), i++) {
		if (!ams_json_str(op))
			return ams_fail(err, AMS_EPARSE,
					"Operations[%zu]: expected string", i);
		g->operations[i] = xstrdup(ams_json_str(op));
	}
	return AMS_OK;
}

enum ams_code ams_kms_parse_list_grants(struct ams_kms_grants *out,
					const char *body, size_t len,
					struct ams_err *err)
{
	struct ams_json *doc = NULL;
	const struct ams_json_val *root, *arr = NULL, *e;
	bool truncated = false;
	enum ams_code rc;
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	rc = ams_json_parse_object(&doc, &root, body, len, err);
	if (!rc)
		rc = opt_array(&arr, root, "Grants", err);
	if (rc)
		goto out;
	out->n = ams_json_size(arr);
	out->v = xcalloc(out->n, sizeof(*out->v));
	for (e = ams_json_child(arr); e && !rc; e = ams_json_sibling(e), i++) {
		rc = parse_grant(&out->v[i], e, err);
		if (rc)
			ams_err_prefix(err, "Grants[%zu]", i);
	}
	if (!rc)
		rc = ams_json_get_bool_opt(&truncated, root, "Truncated", err);
	if (!rc && truncated) {
		rc = ams_json_get_str(&out->next_marker, root, "NextMarker",
				      err);
		if (!rc && !*out->next_marker)
			rc = ams_fail(err, AMS_EPARSE,
				      "NextMarker: empty while Truncated");
	}
out:
	ams_json_free(doc);
	if (rc) {
		ams_kms_grants_release(out);
		ams_err_prefix(err, "ListGrants response");
	}
	return rc;
}
