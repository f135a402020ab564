/*
 * STS request builders, response parsers and validators.
 *
 * The builders check every constraint of the STS model that can be
 * checked locally (lengths and character sets of role ARNs, session
 * names, external ids, session tags) so that a typo in the configuration
 * becomes a clear message before any request leaves, instead of a
 * ValidationError from AWS. The parsers copy the temporary credentials
 * straight into struct ams_creds and wipe every intermediate copy.
 */
#include "sts.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws.h"
#include "buf.h"
#include "ec2.h"
#include "endpoint.h"
#include "log.h"
#include "xml.h"
#include "xmem.h"

/* ---- Validators ------------------------------------------------------ */

static bool is_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/* Whether every byte of s is a word character or in extra. */
static bool all_in(const char *s, size_t n, const char *extra)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_word(s[i]) && (!s[i] || !strchr(extra, s[i])))
			return false;
	return true;
}

/*
 * Checks value against an STS pattern [\w<extra>]{min,max}; what names it
 * in messages.
 */
static enum ams_code check_pattern(const char *value, const char *what,
				   size_t min, size_t max, const char *extra,
				   struct ams_err *err)
{
	size_t n;

	if (!value || !*value)
		return ams_fail(err, AMS_EUSAGE, "empty %s", what);
	n = strlen(value);
	if (n < min || n > max)
		return ams_fail(err, AMS_EUSAGE,
				"%s '%.80s' has %zu characters, expected %zu "
				"to %zu",
				what, value, n, min, max);
	if (!all_in(value, n, extra))
		return ams_fail(err, AMS_EUSAGE,
				"%s '%.80s' may hold only letters, digits and "
				"'_%s'",
				what, value, extra);
	return AMS_OK;
}

enum ams_code ams_sts_check_session_name(const char *name, struct ams_err *err)
{
	return check_pattern(name, "role session name",
			     AMS_STS_SESSION_NAME_MIN, AMS_STS_SESSION_NAME_MAX,
			     "+=,.@-", err);
}

/* After "arn:<partition>:<service>::": the rest, or NULL. */
static const char *after_arn_service(const char *arn, const char *service)
{
	enum ams_partition part;
	size_t n;

	if (ams_arn_partition(&part, arn, NULL))
		return NULL;
	arn += 4 + strlen(ams_partition_name(part));
	n = strlen(service);
	if (*arn != ':' || strncmp(arn + 1, service, n) ||
	    strncmp(arn + 1 + n, "::", 2))
		return NULL;
	return arn + 3 + n;
}

enum ams_code ams_sts_check_role_arn(const char *arn, struct ams_err *err)
{
	static const char form[] =
	    "expected 'arn:aws:iam::<12 digits>:role/<name>'";
	const char *rest, *name;
	size_t n, i;

	if (!arn || !*arn)
		return ams_fail(err, AMS_EUSAGE, "empty role ARN");
	n = strlen(arn);
	if (n < AMS_STS_ROLE_ARN_MIN || n > AMS_STS_ROLE_ARN_MAX)
		return ams_fail(err, AMS_EUSAGE,
				"role ARN '%.80s' has %zu characters, "
				"expected %d to %d",
				arn, n, AMS_STS_ROLE_ARN_MIN,
				AMS_STS_ROLE_ARN_MAX);
	rest = after_arn_service(arn, "iam");
	if (!rest)
		return ams_fail(err, AMS_EUSAGE, "invalid role ARN '%.80s': %s",
				arn, form);
	for (i = 0; i < 12; i++)
		if (rest[i] < '0' || rest[i] > '9')
			return ams_fail(err, AMS_EUSAGE,
					"invalid role ARN '%.80s': the "
					"account must be 12 digits",
					arn);
	if (strncmp(rest + 12, ":role/", 6))
		return ams_fail(err, AMS_EUSAGE, "invalid role ARN '%.80s': %s",
				arn, form);
	rest += 18;
	for (i = 0; rest[i]; i++)
		if ((unsigned char)rest[i] < 0x21 || rest[i] == 0x7f ||
		    (unsigned char)rest[i] > 0x7f)
			return ams_fail(err, AMS_EUSAGE,
					"invalid role ARN '%.80s': the role "
					"path holds a space or a character "
					"outside ASCII",
					arn);
	name = strrchr(rest, '/');
	name = name ? name + 1 : rest;
	if (check_pattern(name, "role name", 1, 64, "+=,.@-", NULL))
		return ams_fail(err, AMS_EUSAGE,
				"invalid role ARN '%.80s': the role name must "
				"be 1 to 64 letters, digits or '_+=,.@-'",
				arn);
	return AMS_OK;
}

bool ams_sts_arn_account(char out[13], const char *arn)
{
	const char *p = arn;
	int colons = 0;
	size_t i;

	out[0] = '\0';
	if (!arn || strncmp(arn, "arn:", 4))
		return false;
	/* arn:partition:service:region:account:resource */
	while (*p && colons < 4)
		if (*p++ == ':')
			colons++;
	if (colons < 4)
		return false;
	for (i = 0; i < 12; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	if (p[12] != ':')
		return false;
	memcpy(out, p, 12);
	out[12] = '\0';
	return true;
}

/* ---- Request builders -------------------------------------------------- */

void ams_sts_call_param(void *call, const char *name, const char *value)
{
	ams_aws_call_param(call, name, value);
}

static enum ams_code check_duration(unsigned duration_s, struct ams_err *err)
{
	if (duration_s && (duration_s < AMS_STS_DURATION_MIN_S ||
			   duration_s > AMS_STS_DURATION_MAX_S))
		return ams_fail(err, AMS_EUSAGE,
				"session duration %u s: expected %d to %d "
				"seconds",
				duration_s, AMS_STS_DURATION_MIN_S,
				AMS_STS_DURATION_MAX_S);
	return AMS_OK;
}

/*
 * Session tag text: 1..max (key) or 0..max (value) characters of Unicode
 * letters, digits and spaces and "_.:/=+-@". Outside ASCII the letter
 * classes cannot be told apart without tables, so any well-formed UTF-8
 * is let through there; in ASCII the set is exact.
 */
static enum ams_code check_session_tag_text(const char *s, const char *what,
					    size_t min, size_t max,
					    struct ams_err *err)
{
	size_t chars = s ? ams_ec2_utf8_chars(s) : (size_t)-1;
	const char *p;

	if (chars == (size_t)-1)
		return ams_fail(err, AMS_EUSAGE,
				"session tag %s is missing or not UTF-8", what);
	if (chars < min || chars > max)
		return ams_fail(err, AMS_EUSAGE,
				"session tag %s '%.80s' has %zu characters, "
				"expected %zu to %zu",
				what, s, chars, min, max);
	for (p = s; *p; p++)
		if ((unsigned char)*p < 0x80 && !is_word(*p) &&
		    !strchr(" .:/=+-@", *p))
			return ams_fail(err, AMS_EUSAGE,
					"session tag %s '%.80s' holds '%c'; "
					"allowed are letters, digits, spaces "
					"and '_.:/=+-@'",
					what, s, *p);
	return AMS_OK;
}

static enum ams_code check_session_tags(const struct ams_sts_assume_role_req *r,
					struct ams_err *err)
{
	size_t i, j;

	if (r->ntags > AMS_STS_MAX_SESSION_TAGS ||
	    r->ntransitive_tag_keys > AMS_STS_MAX_SESSION_TAGS)
		return ams_fail(err, AMS_ELIMIT,
				"%zu session tags and %zu transitive keys, "
				"at most %d each",
				r->ntags, r->ntransitive_tag_keys,
				AMS_STS_MAX_SESSION_TAGS);
	if ((r->ntags && !r->tags) ||
	    (r->ntransitive_tag_keys && !r->transitive_tag_keys))
		return ams_fail(err, AMS_EUSAGE, "session tags without a list");
	for (i = 0; i < r->ntags; i++) {
		if (check_session_tag_text(r->tags[i].key, "key", 1,
					   AMS_STS_TAG_KEY_MAX, err) ||
		    check_session_tag_text(r->tags[i].value, "value", 0,
					   AMS_STS_TAG_VALUE_MAX, err))
			return AMS_EUSAGE;
		/* Session tag keys are case-insensitive. */
		for (j = 0; j < i; j++)
			if (!strcasecmp(r->tags[i].key, r->tags[j].key))
				return ams_fail(err, AMS_EUSAGE,
						"session tag keys '%s' and "
						"'%s' differ only in case",
						r->tags[j].key, r->tags[i].key);
	}
	for (i = 0; i < r->ntransitive_tag_keys; i++) {
		const char *key = r->transitive_tag_keys[i];

		for (j = 0; key && j < r->ntags; j++)
			if (!strcasecmp(key, r->tags[j].key))
				break;
		if (!key || j == r->ntags)
			return ams_fail(err, AMS_EUSAGE,
					"transitive tag key '%s' is not a "
					"session tag",
					key ? key : "");
	}
	return AMS_OK;
}

static enum ams_code check_assume_role(const struct ams_sts_assume_role_req *r,
				       struct ams_err *err)
{
	if (ams_sts_check_role_arn(r->role_arn, err) ||
	    ams_sts_check_session_name(r->session_name, err) ||
	    check_duration(r->duration_s, err))
		return AMS_EUSAGE;
	if (r->external_id && check_pattern(r->external_id, "external id", 2,
					    1224, "+=,.@:/-", err))
		return AMS_EUSAGE;
	if (r->source_identity) {
		if (check_pattern(r->source_identity, "source identity", 2, 64,
				  "+=,.@-", err))
			return AMS_EUSAGE;
		if (!strncasecmp(r->source_identity, "aws:", 4))
			return ams_fail(err, AMS_EUSAGE,
					"source identity '%s' starts with "
					"the reserved 'aws:'",
					r->source_identity);
	}
	return check_session_tags(r, err);
}

enum ams_code ams_sts_build_assume_role(
    const struct ams_sts_assume_role_req *req, ams_sts_param_fn *add,
    void *payload, struct ams_err *err)
{
	struct ams_buf name = AMS_BUF_INIT;
	enum ams_code rc;
	char num[16];
	size_t i;

	rc = check_assume_role(req, err);
	if (rc)
		return rc;
	add(payload, "RoleArn", req->role_arn);
	add(payload, "RoleSessionName", req->session_name);
	if (req->duration_s) {
		snprintf(num, sizeof(num), "%u", req->duration_s);
		add(payload, "DurationSeconds", num);
	}
	if (req->external_id)
		add(payload, "ExternalId", req->external_id);
	for (i = 0; i < req->ntags; i++) {
		ams_buf_reset(&name);
		ams_buf_addf(&name, "Tags.member.%zu.Key", i + 1);
		add(payload, name.buf, req->tags[i].key);
		ams_buf_reset(&name);
		ams_buf_addf(&name, "Tags.member.%zu.Value", i + 1);
		add(payload, name.buf, req->tags[i].value);
	}
	for (i = 0; i < req->ntransitive_tag_keys; i++) {
		ams_buf_reset(&name);
		ams_buf_addf(&name, "TransitiveTagKeys.member.%zu", i + 1);
		add(payload, name.buf, req->transitive_tag_keys[i]);
	}
	if (req->source_identity)
		add(payload, "SourceIdentity", req->source_identity);
	ams_buf_release(&name);
	return AMS_OK;
}

enum ams_code ams_sts_build_assume_role_with_web_identity(
    const struct ams_sts_web_identity_req *req, ams_sts_param_fn *add,
    void *payload, struct ams_err *err)
{
	size_t n =
	    req->web_identity_token ? strlen(req->web_identity_token) : 0;
	char num[16];

	if (ams_sts_check_role_arn(req->role_arn, err) ||
	    ams_sts_check_session_name(req->session_name, err) ||
	    check_duration(req->duration_s, err))
		return AMS_EUSAGE;
	if (n < AMS_STS_WEB_IDENTITY_TOKEN_MIN ||
	    n > AMS_STS_WEB_IDENTITY_TOKEN_MAX)
		return ams_fail(err, AMS_EUSAGE,
				"web identity token has %zu characters, "
				"expected %d to %d",
				n, AMS_STS_WEB_IDENTITY_TOKEN_MIN,
				AMS_STS_WEB_IDENTITY_TOKEN_MAX);
	if (req->provider_id &&
	    (strlen(req->provider_id) < 4 || strlen(req->provider_id) > 2048))
		return ams_fail(err, AMS_EUSAGE,
				"provider id '%.80s': expected 4 to 2048 "
				"characters",
				req->provider_id);
	ams_log_add_secret(req->web_identity_token);
	add(payload, "RoleArn", req->role_arn);
	add(payload, "RoleSessionName", req->session_name);
	add(payload, "WebIdentityToken", req->web_identity_token);
	if (req->duration_s) {
		snprintf(num, sizeof(num), "%u", req->duration_s);
		add(payload, "DurationSeconds", num);
	}
	if (req->provider_id)
		add(payload, "ProviderId", req->provider_id);
	return AMS_OK;
}

/* ---- Response parsers -------------------------------------------------- */

/*
 * Parses body and finds <{action}Result> under <{action}Response>.
 */
static enum ams_code open_result(struct ams_xml_doc **doc,
				 const struct ams_xml_node **result,
				 const char *action, const char *body,
				 size_t len, struct ams_err *err)
{
	const struct ams_xml_node *root;
	struct ams_buf want = AMS_BUF_INIT;
	enum ams_code rc;

	*result = NULL;
	rc = ams_xml_parse(doc, body, len, err);
	if (rc)
		return rc;
	root = ams_xml_root(*doc);
	ams_buf_addf(&want, "%sResponse", action);
	if (strcmp(ams_xml_name(root), want.buf)) {
		rc = ams_fail(err, AMS_EPARSE,
			      "unexpected root element <%s>, expected <%s>",
			      ams_xml_name(root), want.buf);
	} else {
		ams_buf_reset(&want);
		ams_buf_addf(&want, "%sResult", action);
		*result = ams_xml_find(root, want.buf);
		if (!*result)
			rc = ams_fail(err, AMS_EPARSE, "%s: missing", want.buf);
	}
	ams_buf_release(&want);
	return rc;
}

/* The trimmed text at path, or NULL when absent. Caller frees. */
static char *opt_text(const struct ams_xml_node *from, const char *path)
{
	const struct ams_xml_node *node = ams_xml_find(from, path);
	struct ams_buf sb = AMS_BUF_INIT;
	char *s;

	if (!node)
		return NULL;
	ams_xml_text(&sb, node);
	s = ams_str_dup(ams_str_trim(ams_str_make(sb.buf, sb.len)));
	ams_buf_release(&sb);
	return s;
}

/*
 * A credential member with every white-space byte removed (none can be
 * part of a key or token). The caller frees it with ams_free_secret().
 */
static enum ams_code secret_text(char **out, const struct ams_xml_node *creds,
				 const char *name, struct ams_err *err)
{
	const struct ams_xml_node *node = ams_xml_find(creds, name);
	struct ams_buf sb = AMS_BUF_INIT;
	size_t i, j = 0;

	*out = NULL;
	if (!node)
		return ams_fail(err, AMS_EPARSE, "Credentials/%s: missing",
				name);
	ams_xml_text(&sb, node);
	for (i = 0; i < sb.len; i++)
		if (!strchr(" \t\r\n", sb.buf[i]))
			sb.buf[j++] = sb.buf[i];
	*out = xstrndup(sb.buf, j);
	ams_buf_release_secure(&sb);
	return AMS_OK;
}

void ams_sts_session_release(struct ams_sts_session *s)
{
	ams_creds_release(&s->creds);
	free(s->assumed_role_arn);
	free(s->assumed_role_id);
	free(s->source_identity);
	free(s->subject);
	free(s->audience);
	free(s->provider);
	memset(s, 0, sizeof(*s));
}

static enum ams_code parse_credentials(struct ams_sts_session *out,
				       const struct ams_xml_node *result,
				       struct ams_err *err)
{
	const struct ams_xml_node *creds = ams_xml_find(result, "Credentials");
	char *akid = NULL, *secret = NULL, *token = NULL;
	char account[13];
	time_t expiration = 0;
	enum ams_code rc;

	if (!creds)
		return ams_fail(err, AMS_EPARSE, "Credentials: missing");
	rc = secret_text(&akid, creds, "AccessKeyId", err);
	if (!rc)
		rc = secret_text(&secret, creds, "SecretAccessKey", err);
	if (!rc)
		rc = secret_text(&token, creds, "SessionToken", err);
	if (!rc)
		rc = ams_xml_get_time(&expiration, creds, "Expiration", err);
	if (!rc) {
		ams_sts_arn_account(account, out->assumed_role_arn);
		rc = ams_creds_set(&out->creds, akid, secret, token, expiration,
				   *account ? account : NULL, err);
	}
	ams_free_secret(akid);
	ams_free_secret(secret);
	ams_free_secret(token);
	return rc;
}

static enum ams_code parse_session(struct ams_sts_session *out,
				   const char *action, const char *body,
				   size_t len, struct ams_err *err)
{
	struct ams_xml_doc *doc = NULL;
	const struct ams_xml_node *result;
	uint64_t packed = 0;
	enum ams_code rc;

	memset(out, 0, sizeof(*out)); /* the creds too: AMS_CREDS_INIT */
	rc = open_result(&doc, &result, action, body, len, err);
	if (rc)
		goto out;
	out->assumed_role_arn = opt_text(result, "AssumedRoleUser/Arn");
	out->assumed_role_id =
	    opt_text(result, "AssumedRoleUser/AssumedRoleId");
	out->source_identity = opt_text(result, "SourceIdentity");
	out->subject = opt_text(result, "SubjectFromWebIdentityToken");
	out->audience = opt_text(result, "Audience");
	out->provider = opt_text(result, "Provider");
	rc = ams_xml_get_u64_opt(&packed, result, "PackedPolicySize", err);
	if (!rc && packed > 100000)
		rc = ams_fail(err, AMS_EPARSE,
			      "PackedPolicySize: %llu is not a percentage",
			      (unsigned long long)packed);
	out->packed_policy_size = (unsigned)packed;
	if (!rc)
		rc = parse_credentials(out, result, err);
out:
	ams_xml_free(doc);
	if (rc) {
		ams_sts_session_release(out);
		ams_err_prefix(err, "%s response", action);
	}
	return rc;
}

enum ams_code ams_sts_parse_assume_role(struct ams_sts_session *out,
					const char *body, size_t len,
					struct ams_err *err)
{
	return parse_session(out, AMS_STS_ASSUME_ROLE, body, len, err);
}

enum ams_code ams_sts_parse_assume_role_with_web_identity(
    struct ams_sts_session *out, const char *body, size_t len,
    struct ams_err *err)
{
	return parse_session(out, AMS_STS_ASSUME_ROLE_WITH_WEB_IDENTITY, body,
			     len, err);
}

void ams_sts_caller_release(struct ams_sts_caller *c)
{
	free(c->account);
	free(c->arn);
	free(c->user_id);
	memset(c, 0, sizeof(*c));
}

enum ams_code ams_sts_parse_get_caller_identity(struct ams_sts_caller *out,
						const char *body, size_t len,
						struct ams_err *err)
{
	struct ams_xml_doc *doc = NULL;
	const struct ams_xml_node *result;
	enum ams_code rc;

	memset(out, 0, sizeof(*out));
	rc = open_result(&doc, &result, AMS_STS_GET_CALLER_IDENTITY, body, len,
			 err);
	if (rc)
		goto out;
	out->account = opt_text(result, "Account");
	out->arn = opt_text(result, "Arn");
	out->user_id = opt_text(result, "UserId");
	if (!out->account)
		rc = ams_fail(err, AMS_EPARSE, "Account: missing");
	else if (ams_ec2_check_account_id(out->account, NULL))
		rc = ams_fail(err, AMS_EPARSE,
			      "Account: expected 12 digits, got '%.32s'",
			      out->account);
out:
	ams_xml_free(doc);
	if (rc) {
		ams_sts_caller_release(out);
		ams_err_prefix(err, "%s response", AMS_STS_GET_CALLER_IDENTITY);
	}
	return rc;
}
