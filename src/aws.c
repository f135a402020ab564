/*
 * Signed AWS calls: protocol encoding, signing before every attempt,
 * credential refresh, error documents and retry classification.
 *
 * An ams_aws_call wraps one engine request. Building it writes the form
 * body (Action, Version, then the caller's parameters) or leaves a JSON
 * body for the caller straight into the request, so nothing is copied at
 * submit. The engine then calls back three times per attempt:
 *
 *   prepare   waits for the identity's credentials when they are missing,
 *             about to expire, or were rejected as expired (one refresh per
 *             identity; every call that needs it parks until it is done),
 *             then signs with the current clock;
 *   classify  turns an error answer into struct ams_err (the one place
 *             that reads AWS error documents) and picks the retry class:
 *             caller window codes, credential expiry, throttling and
 *             transient codes, else the engine's status-based default;
 *   done      hands the caller a struct ams_aws_result.
 *
 * Resolved endpoints are cached per service and Region; rate buckets and
 * retry quotas live in a registry keyed by account and Region.
 */
#include "aws.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "json.h"
#include "log.h"
#include "ratelimit.h"
#include "sigv4.h"
#include "uri.h"
#include "xml.h"
#include "xmem.h"

#define MAX_RETRY_CODES 8
#define FORM_CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"
#define JSON_CONTENT_TYPE "application/x-amz-json-1.1"

struct ep_entry {
	struct ep_entry *next;
	enum ams_service svc;
	struct ams_endpoint ep;
	char region[];
};

struct ams_aws {
	struct ams_http *http;
	struct ams_endpoint_config cfg;
	struct ams_aws_opts opts;
	struct ams_ratelimit *rl;
	struct ep_entry *endpoints;
	struct ams_aws_call *free_calls;
	size_t nfree_calls;
	/* Derived signing keys of every identity the client signs for. */
	struct ams_sigv4_cache *sigcache;
};

struct ams_identity {
	char *label;
	char *account;
	struct ams_creds creds;
	bool has_creds;
	bool refreshing;
	bool stale;	     /* rejected as expired: refresh before signing */
	bool refresh_failed; /* the last refresh failed (see refresh_err) */
	unsigned generation; /* bumped whenever the credentials change */
	time_t obtained;     /* when a refresh brought them; 0: set directly */
	unsigned refresh_count;
	ams_identity_refresh_fn *refresh;
	void *refresh_payload;
	/* Why the last refresh failed; allocated when one fails. */
	struct ams_err *refresh_err;
	struct ams_aws_call *waiters;
};

struct ams_aws_call {
	struct ams_aws *aws;
	struct ams_http_req *req;
	struct ams_identity *id;
	enum ams_service svc;
	const struct ams_endpoint *ep;
	char region[40];
	char action[80];
	bool too_long;
	char *codes[MAX_RETRY_CODES];
	size_t ncodes;
	uint64_t window_ms;
	bool rate_set;
	char *rate_name; /* NULL with rate_set: not limited */
	double rate_capacity, rate_refill;
	ams_aws_done_fn *done;
	void *payload;
	unsigned signed_generation;
	bool waiting;
	struct ams_err *fail_err; /* a refresh failure to report (rare) */
	struct ams_aws_call *wait_next;
};

/* ---- Pure helpers ---------------------------------------------------- */

enum ams_aws_protocol ams_aws_protocol_of(enum ams_service svc)
{
	switch (svc) {
	case AMS_SVC_EC2: return AMS_AWS_PROTO_EC2;
	case AMS_SVC_STS: return AMS_AWS_PROTO_QUERY;
	default: return AMS_AWS_PROTO_JSON;
	}
}

const char *ams_aws_api_version(enum ams_service svc)
{
	switch (svc) {
	case AMS_SVC_EC2: return "2016-11-15";
	case AMS_SVC_STS: return "2011-06-15";
	default: return NULL;
	}
}

const char *ams_aws_json_target_prefix(enum ams_service svc)
{
	switch (svc) {
	case AMS_SVC_KMS: return "TrentService";
	case AMS_SVC_SSM: return "AmazonSSM";
	case AMS_SVC_ORGANIZATIONS: return "AWSOrganizationsV20161128";
	default: return NULL;
	}
}

static bool in_list(const char *s, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(s, list[i]))
			return true;
	return false;
}

enum ams_http_retry ams_aws_code_retry(const char *aws_code)
{
	/* botocore retries/standard.py, aws-behaviour.md §13. */
	static const char *const throttling[] = {
		"Throttling",
		"ThrottlingException",
		"ThrottledException",
		"RequestThrottledException",
		"TooManyRequestsException",
		"ProvisionedThroughputExceededException",
		"TransactionInProgressException",
		"RequestLimitExceeded",
		"BandwidthLimitExceeded",
		"LimitExceededException",
		"RequestThrottled",
		"SlowDown",
		"PriorRequestNotComplete",
		"EC2ThrottledException",
	};
	static const char *const transient[] = {
		"RequestTimeout",
		"RequestTimeoutException",
		"IDPCommunicationError",
	};

	if (!aws_code || !*aws_code)
		return AMS_HTTP_FINAL;
	if (in_list(aws_code, throttling, ARRAY_SIZE(throttling)))
		return AMS_HTTP_RETRY_THROTTLED;
	if (in_list(aws_code, transient, ARRAY_SIZE(transient)))
		return AMS_HTTP_RETRY_TRANSIENT;
	return AMS_HTTP_FINAL;
}

bool ams_aws_code_is_expired(const char *aws_code)
{
	static const char *const expired[] = {
		"ExpiredToken",
		"ExpiredTokenException",
		"RequestExpired",
	};

	return aws_code && in_list(aws_code, expired, ARRAY_SIZE(expired));
}

void ams_aws_ec2_bucket(const char **class_name, double *capacity,
			double *refill_per_s, const char *action)
{
	/* aws-behaviour.md §8 (EC2 API throttling documentation). */
	static const struct {
		const char *action;
		const char *cls;
		double capacity, refill;
	} table[] = {
		{ "DescribeSnapshots", "unfiltered", 50, 10 },
		{ "DescribeInstances", "unfiltered", 50, 10 },
		{ "DescribeVolumes", "unfiltered", 50, 10 },
		{ "CreateTags", "tags", 100, 10 },
		{ "DeleteTags", "tags", 100, 10 },
		{ "ModifyImageAttribute", "modify", 100, 5 },
		{ "ModifySnapshotAttribute", "modify", 100, 5 },
		{ "DeregisterImage", "modify", 100, 5 },
		{ "CreateSnapshot", "modify", 100, 5 },
		{ "DeleteSnapshot", "modify", 100, 5 },
		{ "CopyImage", "copy", 100, 1 },
		{ "EnableImageBlockPublicAccess", "bpa", 1, 0.1 },
		{ "DisableImageBlockPublicAccess", "bpa", 1, 0.1 },
		{ "EnableSnapshotBlockPublicAccess", "bpa", 1, 0.1 },
		{ "DisableSnapshotBlockPublicAccess", "bpa", 1, 0.1 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(table); i++)
		if (!strcmp(table[i].action, action)) {
			*class_name = table[i].cls;
			*capacity = table[i].capacity;
			*refill_per_s = table[i].refill;
			return;
		}
	if (!strncmp(action, "Describe", 8) || !strncmp(action, "Get", 3)) {
		*class_name = "describe";
		*capacity = 100;
		*refill_per_s = 20;
		return;
	}
	*class_name = "mutating";
	*capacity = 50;
	*refill_per_s = 5;
}

/* ---- Error documents ------------------------------------------------- */

/* "aws.protocol#Code:http://..." -> "Code" (botocore BaseJSONParser). */
static void clean_json_code(char *code)
{
	char *hash = strrchr(code, '#'), *colon;

	if (hash)
		memmove(code, hash + 1, strlen(hash + 1) + 1);
	colon = strchr(code, ':');
	if (colon)
		*colon = '\0';
}

static enum ams_code fail_http(struct ams_err *err, long status,
			       const char *body, size_t len,
			       const char *request_id)
{
	char snippet[121];
	size_t i, n = 0;

	for (i = 0; i < len && n < sizeof(snippet) - 1; i++) {
		unsigned char c = (unsigned char)body[i];

		snippet[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : ' ';
	}
	snippet[n] = '\0';
	if (ams_fail(err, AMS_EHTTP, "http %ld%s%s", status, n ? ": " : "",
		     snippet) == AMS_EHTTP &&
	    err && err->code == AMS_EHTTP) {
		err->http_status = status;
		if (request_id)
			snprintf(err->request_id, sizeof(err->request_id), "%s",
				 request_id);
	}
	return AMS_EHTTP;
}

static bool parse_xml_error(char **code, char **msg, char **rid,
			    const char *body, size_t len)
{
	struct ams_xml_doc *doc = NULL;
	const struct ams_xml_node *root, *e = NULL;
	const char *name;

	if (ams_xml_parse(&doc, body, len, NULL))
		return false;
	root = ams_xml_root(doc);
	name = ams_xml_name(root);
	if (!strcmp(name, "Response"))
		e = ams_xml_find(root, "Errors/Error");
	else if (!strcmp(name, "ErrorResponse"))
		e = ams_xml_find(root, "Error");
	else if (!strcmp(name, "Error"))
		e = root;
	if (e) {
		ams_xml_get_str_opt(code, e, "Code", NULL);
		ams_xml_get_str_opt(msg, e, "Message", NULL);
		ams_xml_get_str_opt(rid, root, "RequestID", NULL);
		if (!*rid)
			ams_xml_get_str_opt(rid, root, "RequestId", NULL);
		if (!*rid && e != root)
			ams_xml_get_str_opt(rid, e, "RequestId", NULL);
	}
	ams_xml_free(doc);
	return *code && **code;
}

static bool parse_json_error(char **code, char **msg, const char *body,
			     size_t len)
{
	struct ams_json *doc = NULL;
	const struct ams_json_val *root;

	if (ams_json_parse(&doc, body, len, NULL))
		return false;
	root = ams_json_root(doc);
	ams_json_get_str_opt(code, root, "__type", NULL);
	if (!*code)
		ams_json_get_str_opt(code, root, "code", NULL);
	ams_json_get_str_opt(msg, root, "message", NULL);
	if (!*msg)
		ams_json_get_str_opt(msg, root, "Message", NULL);
	ams_json_free(doc);
	if (*code)
		clean_json_code(*code);
	return *code && **code;
}

enum ams_code ams_aws_parse_error(struct ams_err *err,
				  enum ams_aws_protocol proto, long http_status,
				  const char *body, size_t len,
				  const char *header_request_id)
{
	char *code = NULL, *msg = NULL, *rid = NULL;
	bool found;
	enum ams_code rc;

	if (!body)
		len = 0;
	if (proto == AMS_AWS_PROTO_JSON)
		found = len && parse_json_error(&code, &msg, body, len);
	else
		found = len && parse_xml_error(&code, &msg, &rid, body, len);
	if (!found) {
		rc = fail_http(err, http_status, body, len, header_request_id);
	} else {
		rc = ams_fail_aws(
		    err, http_status, code,
		    rid && *rid ? rid
				: (header_request_id ? header_request_id : ""),
		    msg && *msg ? msg : code);
	}
	free(code);
	free(msg);
	free(rid);
	return rc;
}

/* ---- Masking for debug logs ------------------------------------------ */

static const char *const masked_headers[] = {
	"Authorization",
	"X-Amz-Security-Token",
	"x-aws-ec2-metadata-token",
	"x-amz-sso_bearer_token",
};

void ams_aws_mask_headers(struct ams_buf *out,
			  const struct ams_http_header *headers, size_t n)
{
	size_t i, j, start = out->len;
	bool mask;
	struct ams_buf tail = AMS_BUF_INIT;

	for (i = 0; i < n; i++) {
		mask = false;
		for (j = 0; j < ARRAY_SIZE(masked_headers); j++)
			if (!strcasecmp(headers[i].name, masked_headers[j]))
				mask = true;
		ams_buf_addf(out, "%s%s: %s", i ? "\n" : "", headers[i].name,
			     mask ? "[masked]" : headers[i].value);
	}
	/* Redact only what this call appended. */
	ams_buf_add(&tail, out->buf + start, out->len - start);
	ams_redact(&tail);
	ams_buf_setlen(out, start);
	ams_buf_add(out, tail.buf, tail.len);
	ams_buf_release_secure(&tail);
}

static const char *const secret_fields[] = {
	"SecretAccessKey",  "SessionToken", "Token",
	"WebIdentityToken", "AccessToken",
};

/* Length of a masked value's opening at body[i], 0 when none starts. */
static size_t secret_opening(const char *body, size_t len, size_t i,
			     char *closer)
{
	size_t k, n, j;

	for (k = 0; k < ARRAY_SIZE(secret_fields); k++) {
		const char *f = secret_fields[k];

		n = strlen(f);
		j = i + 1;
		if (j + n > len ||
		    (body[j] != f[0] && body[j] != (char)(f[0] | 0x20)) ||
		    memcmp(body + j + 1, f + 1, n - 1))
			continue;
		j += n;
		if (body[i] == '<' && j < len && body[j] == '>') {
			*closer = '<';
			return j + 1 - i;
		}
		if (body[i] == '"' && j < len && body[j] == '"') {
			j++;
			while (j < len && (body[j] == ' ' || body[j] == ':'))
				j++;
			if (j < len && body[j] == '"') {
				*closer = '"';
				return j + 1 - i;
			}
		}
		if (body[i] == '&' && j < len && body[j] == '=') {
			*closer = '&';
			return j + 1 - i;
		}
	}
	return 0;
}

void ams_aws_mask_body(struct ams_buf *out, const char *body, size_t len)
{
	struct ams_buf sb = AMS_BUF_INIT;
	size_t i = 0, open, end;
	char closer = 0;

	/* A form body's first field has no '&' before it: pretend one. */
	ams_buf_addch(&sb, '&');
	while (i < len) {
		char c = body[i];

		open = (c == '<' || c == '"' || c == '&')
			   ? secret_opening(body, len, i, &closer)
			   : 0;
		if (!open && i == 0 && c != '<' && c != '"' && c != '{') {
			/* Form body start: check as if after '&'. */
			struct ams_buf tmp = AMS_BUF_INIT;

			ams_buf_addch(&tmp, '&');
			ams_buf_add(&tmp, body, len < 64 ? len : 64);
			open = secret_opening(tmp.buf, tmp.len, 0, &closer);
			ams_buf_release(&tmp);
			if (open) {
				ams_buf_add(&sb, body, open - 1);
				i = open - 1;
				goto masked;
			}
		}
		if (!open) {
			ams_buf_addch(&sb, c);
			i++;
			continue;
		}
		ams_buf_add(&sb, body + i, open);
		i += open;
	masked:
		end = i;
		while (end < len && body[end] != closer) {
			if (closer == '"' && body[end] == '\\')
				end++;
			end++;
		}
		ams_buf_addstr(&sb, "[masked]");
		i = end < len ? end : len;
	}
	ams_redact(&sb);
	ams_buf_add(out, sb.buf + 1, sb.len - 1);
	ams_buf_release_secure(&sb);
}

/* ---- Client ---------------------------------------------------------- */

void ams_aws_opts_init(struct ams_aws_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->rate_limit = true;
	opts->rate_scale = 1.0;
	opts->refresh_margin_ms = 300000;
	opts->retry_quota = AMS_RETRY_QUOTA_CAPACITY;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void copy_config(struct ams_endpoint_config *dst,
			const struct ams_endpoint_config *src)
{
	size_t i;

	ams_endpoint_config_init(dst);
	if (!src)
		return;
	*dst = *src;
	dst->override_url = dup_or_null(src->override_url);
	dst->env_url = dup_or_null(src->env_url);
	dst->profile_url = dup_or_null(src->profile_url);
	for (i = 0; i < AMS_SVC_COUNT; i++) {
		dst->service_env_url[i] = dup_or_null(src->service_env_url[i]);
		dst->profile_service_url[i] =
		    dup_or_null(src->profile_service_url[i]);
	}
}

enum ams_code ams_aws_new(struct ams_aws **out, struct ams_http *http,
			  const struct ams_endpoint_config *cfg,
			  const struct ams_aws_opts *opts, struct ams_err *err)
{
	struct ams_aws *aws;
	struct ams_aws_opts o;

	*out = NULL;
	if (opts)
		o = *opts;
	else
		ams_aws_opts_init(&o);
	if (!http)
		return ams_fail(err, AMS_EUSAGE, "aws: no HTTP engine");
	if (!(o.rate_scale > 0) || o.rate_scale > 100)
		return ams_fail(err, AMS_EUSAGE,
				"aws: rate scale must be above 0 and at most "
				"100");
	aws = xcalloc(1, sizeof(*aws));
	aws->http = http;
	aws->opts = o;
	copy_config(&aws->cfg, cfg);
	aws->rl = ams_ratelimit_new();
	aws->sigcache = ams_sigv4_cache_new();
	*out = aws;
	return AMS_OK;
}

static void free_call(struct ams_aws_call *call)
{
	size_t i;

	for (i = 0; i < call->ncodes; i++)
		free(call->codes[i]);
	free(call->rate_name);
	free(call);
}

void ams_aws_free(struct ams_aws *aws)
{
	struct ep_entry *e;
	struct ams_aws_call *c;

	if (!aws)
		return;
	while ((e = aws->endpoints) != NULL) {
		aws->endpoints = e->next;
		ams_endpoint_release(&e->ep);
		free(e);
	}
	while ((c = aws->free_calls) != NULL) {
		aws->free_calls = c->wait_next;
		free_call(c);
	}
	ams_ratelimit_free(aws->rl);
	ams_sigv4_cache_free(aws->sigcache);
	ams_endpoint_config_release(&aws->cfg);
	free(aws);
}

struct ams_http *ams_aws_http(const struct ams_aws *aws)
{
	return aws->http;
}

enum ams_code ams_aws_endpoint(const struct ams_endpoint **out,
			       struct ams_aws *aws, enum ams_service svc,
			       const char *region, struct ams_err *err)
{
	struct ep_entry *e;
	struct ams_endpoint ep;
	size_t n;
	enum ams_code rc;

	*out = NULL;
	for (e = aws->endpoints; e; e = e->next)
		if (e->svc == svc && !strcmp(e->region, region)) {
			*out = &e->ep;
			return AMS_OK;
		}
	rc = ams_endpoint_resolve(&ep, &aws->cfg, svc, region, err);
	if (rc)
		return rc;
	n = strlen(region);
	e = xcalloc(1, sizeof(*e) + n + 1);
	memcpy(e->region, region, n + 1);
	e->svc = svc;
	e->ep = ep;
	e->next = aws->endpoints;
	aws->endpoints = e;
	*out = &e->ep;
	return AMS_OK;
}

/* ---- Identities ------------------------------------------------------ */

struct ams_identity *ams_identity_new(const char *label)
{
	struct ams_identity *id = xcalloc(1, sizeof(*id));
	struct ams_creds empty = AMS_CREDS_INIT;

	id->label = xstrdup(label ? label : "credentials");
	id->creds = empty;
	return id;
}

void ams_identity_free(struct ams_identity *id)
{
	if (!id)
		return;
	ams_creds_release(&id->creds);
	free(id->refresh_err);
	free(id->label);
	free(id->account);
	free(id);
}

void ams_identity_set_creds(struct ams_identity *id,
			    const struct ams_creds *creds)
{
	id->generation++;
	id->stale = false;
	if (creds == &id->creds) /* handed back as they are */
		return;
	if (!creds) {
		ams_creds_release(&id->creds);
		id->has_creds = false;
		return;
	}
	ams_creds_copy(&id->creds, creds);
	id->has_creds = true;
	id->obtained = 0;
	if (creds->account_id && *creds->account_id)
		ams_identity_set_account(id, creds->account_id);
}

void ams_identity_set_account(struct ams_identity *id, const char *account)
{
	free(id->account);
	id->account = account && *account ? xstrdup(account) : NULL;
}

void ams_identity_set_refresh(struct ams_identity *id,
			      ams_identity_refresh_fn *fn, void *payload)
{
	id->refresh = fn;
	id->refresh_payload = payload;
}

void ams_identity_refresh_done(struct ams_identity *id,
			       const struct ams_creds *creds,
			       const struct ams_err *err)
{
	struct ams_aws_call *c, *next;

	id->refreshing = false;
	if (id->refresh_err)
		ams_err_clear(id->refresh_err);
	if (creds) {
		ams_identity_set_creds(id, creds);
		id->obtained = ams_clock_wall();
		id->refresh_failed = false;
	} else {
		id->refresh_failed = true;
		ams_err_copy(ams_err_slot(&id->refresh_err), err);
		if (!id->refresh_err->code)
			ams_fail(id->refresh_err, AMS_ECREDS,
				 "cannot refresh credentials");
		ams_err_prefix(id->refresh_err, "%s", id->label);
	}
	c = id->waiters;
	id->waiters = NULL;
	for (; c; c = next) {
		next = c->wait_next;
		c->wait_next = NULL;
		c->waiting = false;
		if (!creds) {
			if (!c->fail_err)
				c->fail_err = xmalloc(sizeof(*c->fail_err));
			*c->fail_err = *id->refresh_err;
		}
		ams_http_req_resume(c->req);
	}
}

const struct ams_creds *ams_identity_creds(const struct ams_identity *id)
{
	return id->has_creds ? &id->creds : NULL;
}

const char *ams_identity_account(const struct ams_identity *id)
{
	return id->account;
}

const char *ams_identity_label(const struct ams_identity *id)
{
	return id->label;
}

bool ams_identity_refreshing(const struct ams_identity *id)
{
	return id->refreshing;
}

unsigned ams_identity_refresh_count(const struct ams_identity *id)
{
	return id->refresh_count;
}

static void add_waiter(struct ams_identity *id, struct ams_aws_call *call)
{
	call->waiting = true;
	call->wait_next = id->waiters;
	id->waiters = call;
}

static void remove_waiter(struct ams_identity *id, struct ams_aws_call *call)
{
	struct ams_aws_call **p;

	for (p = &id->waiters; *p; p = &(*p)->wait_next)
		if (*p == call) {
			*p = call->wait_next;
			break;
		}
	call->waiting = false;
	call->wait_next = NULL;
}

/*
 * Whether to fetch new credentials before signing: none yet, rejected as
 * expired, or expiring within the margin. The margin is at most half the
 * credentials' lifetime, so credentials that live shorter than the
 * margin (a short credential_process or role session) are used for half
 * their life after a refresh instead of being fetched again and again.
 */
static bool needs_refresh(const struct ams_identity *id, uint64_t margin_ms)
{
	int64_t margin_s = (int64_t)(margin_ms / 1000), lifetime_s;
	time_t now;

	if (!id->refresh)
		return false;
	if (!id->has_creds || id->stale)
		return true;
	if (!id->creds.expiration)
		return false;
	now = ams_clock_wall();
	lifetime_s = (int64_t)id->creds.expiration - (int64_t)id->obtained;
	if (id->obtained && lifetime_s > 0 && lifetime_s / 2 < margin_s)
		margin_s = lifetime_s / 2;
	return (int64_t)id->creds.expiration - (int64_t)now <= margin_s;
}

/* ---- Calls ----------------------------------------------------------- */

struct ams_aws_call *ams_aws_call_new(struct ams_aws *aws, enum ams_service svc,
				      const char *region, const char *action,
				      struct ams_identity *id)
{
	struct ams_aws_call *call = aws->free_calls;
	const char *version = ams_aws_api_version(svc);

	if (call) {
		aws->free_calls = call->wait_next;
		aws->nfree_calls--;
		memset(call, 0, sizeof(*call));
	} else {
		call = xcalloc(1, sizeof(*call));
	}
	call->aws = aws;
	call->svc = svc;
	call->id = id;
	if (!region || strlen(region) >= sizeof(call->region) || !action ||
	    strlen(action) >= sizeof(call->action))
		call->too_long = true;
	else {
		memcpy(call->region, region, strlen(region) + 1);
		memcpy(call->action, action, strlen(action) + 1);
	}
	call->req = ams_http_req_new(aws->http);
	if (version && !call->too_long) {
		ams_uri_form_add(&call->req->body, "Action", call->action);
		ams_uri_form_add(&call->req->body, "Version", version);
	}
	return call;
}

static void release_call(struct ams_aws_call *call)
{
	struct ams_aws *aws = call->aws;
	size_t i;

	for (i = 0; i < call->ncodes; i++)
		free(call->codes[i]);
	call->ncodes = 0;
	free(call->rate_name);
	call->rate_name = NULL;
	free(call->fail_err);
	call->fail_err = NULL;
	if (aws->nfree_calls >= 256) {
		free(call);
		return;
	}
	call->wait_next = aws->free_calls;
	aws->free_calls = call;
	aws->nfree_calls++;
}

void ams_aws_call_discard(struct ams_aws_call *call)
{
	if (!call)
		return;
	ams_http_req_discard(call->req);
	release_call(call);
}

void ams_aws_call_param(struct ams_aws_call *call, const char *name,
			const char *value)
{
	if (ams_aws_protocol_of(call->svc) == AMS_AWS_PROTO_JSON)
		return;
	ams_uri_form_add(&call->req->body, name, value ? value : "");
}

void ams_aws_call_paramf(struct ams_aws_call *call, const char *value,
			 const char *name_fmt, ...)
{
	struct ams_buf name = AMS_BUF_INIT;
	va_list ap;

	va_start(ap, name_fmt);
	ams_buf_vaddf(&name, name_fmt, ap);
	va_end(ap);
	ams_aws_call_param(call, name.buf, value);
	ams_buf_release(&name);
}

struct ams_buf *ams_aws_call_json(struct ams_aws_call *call)
{
	return &call->req->body;
}

void ams_aws_call_retry_code(struct ams_aws_call *call, const char *aws_code,
			     uint64_t window_ms)
{
	if (call->ncodes >= MAX_RETRY_CODES || !aws_code)
		return;
	call->codes[call->ncodes++] = xstrdup(aws_code);
	if (window_ms > call->window_ms)
		call->window_ms = window_ms;
}

void ams_aws_call_set_rate(struct ams_aws_call *call, const char *name,
			   double capacity, double refill_per_s)
{
	free(call->rate_name);
	call->rate_set = true;
	call->rate_name = name ? xstrdup(name) : NULL;
	call->rate_capacity = capacity;
	call->rate_refill = refill_per_s;
}

void ams_aws_call_set_timeout(struct ams_aws_call *call, long timeout_ms)
{
	call->req->timeout_ms = timeout_ms;
}

void ams_aws_call_set_max_attempts(struct ams_aws_call *call, unsigned n)
{
	call->req->max_attempts = n;
}

void ams_aws_call_set_max_body(struct ams_aws_call *call, size_t bytes)
{
	call->req->max_body_bytes = bytes;
}

/* The account part of rate and quota keys. */
static const char *key_account(const struct ams_aws_call *call)
{
	if (!call->id)
		return "unsigned";
	if (call->id->account)
		return call->id->account;
	if (call->id->has_creds && call->id->creds.access_key_id)
		return call->id->creds.access_key_id;
	return call->id->label;
}

/* "a/b[/c/d]": built without printf, this runs for every call. */
static void add_key(struct ams_buf *key, const char *a, const char *b,
		    const char *c, const char *d)
{
	ams_buf_addstr(key, a);
	ams_buf_addch(key, '/');
	ams_buf_addstr(key, b);
	if (c) {
		ams_buf_addch(key, '/');
		ams_buf_addstr(key, c);
		ams_buf_addch(key, '/');
		ams_buf_addstr(key, d);
	}
}

static void attach_limits(struct ams_aws_call *call)
{
	struct ams_aws *aws = call->aws;
	struct ams_buf key = AMS_BUF_INIT;
	const char *cls, *name = NULL;
	double cap = 0, refill = 0;
	uint64_t now = ams_clock_mono_ms();

	if (aws->opts.retry_quota) {
		add_key(&key, key_account(call), call->region, NULL, NULL);
		call->req->quota = ams_ratelimit_quota(aws->rl, key.buf,
						       aws->opts.retry_quota);
	}
	if (call->rate_set) {
		name = call->rate_name;
		cap = call->rate_capacity;
		refill = call->rate_refill;
	} else if (aws->opts.rate_limit && call->svc == AMS_SVC_EC2) {
		ams_aws_ec2_bucket(&cls, &cap, &refill, call->action);
		name = call->action;
		cap *= aws->opts.rate_scale;
		refill *= aws->opts.rate_scale;
	}
	if (name && refill > 0) {
		ams_buf_reset(&key);
		add_key(&key, key_account(call), call->region,
			ams_service_name(call->svc), name);
		call->req->bucket =
		    ams_ratelimit_bucket(aws->rl, key.buf, cap, refill, now);
	} else if (!call->rate_set && aws->opts.rate_limit && call->id) {
		/* No published rate: unlimited until AWS throttles. */
		ams_buf_reset(&key);
		add_key(&key, key_account(call), call->region,
			ams_service_name(call->svc), call->action);
		call->req->bucket =
		    ams_ratelimit_adaptive(aws->rl, key.buf, now);
	}
	ams_buf_release(&key);
}

static void log_request(const struct ams_aws_call *call)
{
	struct ams_http_req *req = call->req;
	struct ams_buf sb = AMS_BUF_INIT;

	ams_buf_addf(&sb, "aws: > POST %s (%s %s %s, attempt %u)\n", req->url,
		     ams_service_name(call->svc), call->action, call->region,
		     req->attempts + 1);
	ams_aws_mask_headers(&sb, req->headers, req->nheaders);
	ams_buf_addch(&sb, '\n');
	ams_aws_mask_body(&sb, req->body.buf, req->body.len);
	ams_log_debug("%s", sb.buf);
	ams_buf_release_secure(&sb);
}

static void log_response(const struct ams_aws_call *call)
{
	struct ams_http_req *req = call->req;
	struct ams_buf sb = AMS_BUF_INIT;

	ams_buf_addf(&sb, "aws: < %ld (%s %s %s)\n", req->status,
		     ams_service_name(call->svc), call->action, call->region);
	ams_aws_mask_body(&sb, req->resp_body.buf, req->resp_body.len);
	ams_log_debug("%s", sb.buf);
	ams_buf_release_secure(&sb);
}

/*
 * The headers every attempt sends. Set in prepare rather than at submit so
 * a call waiting in the queue holds no header strings.
 */
static void set_headers(struct ams_aws_call *call)
{
	struct ams_http_req *req = call->req;
	const char *prefix = ams_aws_json_target_prefix(call->svc);
	struct ams_buf target = AMS_BUF_INIT;

	ams_http_req_set_header(req, "Host", call->ep->host_header);
	if (prefix) {
		ams_http_req_set_header(req, "Content-Type", JSON_CONTENT_TYPE);
		ams_buf_addstr(&target, prefix);
		ams_buf_addch(&target, '.');
		ams_buf_addstr(&target, call->action);
		ams_http_req_set_header(req, "X-Amz-Target", target.buf);
		ams_buf_release(&target);
	} else {
		ams_http_req_set_header(req, "Content-Type", FORM_CONTENT_TYPE);
	}
}

static enum ams_http_prep sign(struct ams_aws_call *call)
{
	struct ams_http_req *req = call->req;
	struct ams_sigv4_header hdrs[8];
	struct ams_sigv4_opts so;
	struct ams_sigv4_result res;
	size_t i, n = 0;
	enum ams_code rc;

	/* Drop the last attempt's signature before computing a new one. */
	ams_http_req_set_header(req, "Authorization", NULL);
	ams_http_req_set_header(req, "X-Amz-Date", NULL);
	ams_http_req_set_header(req, "X-Amz-Security-Token", NULL);
	for (i = 0; i < req->nheaders && n < ARRAY_SIZE(hdrs); i++) {
		hdrs[n].name = req->headers[i].name;
		hdrs[n].value = req->headers[i].value;
		n++;
	}
	memset(&so, 0, sizeof(so));
	so.method = "POST";
	so.path = call->ep->path;
	so.headers = hdrs;
	so.nheaders = n;
	so.host = call->ep->host_header;
	so.payload = req->body.buf;
	so.payload_len = req->body.len;
	so.region = call->ep->signing_region;
	so.service = call->ep->signing_name;
	so.now = ams_clock_wall();
	so.creds = &call->id->creds;
	so.cache = call->aws->sigcache;
	rc = ams_sigv4_sign(&res, &so, &req->err);
	if (rc) {
		ams_sigv4_result_release(&res);
		ams_err_prefix(&req->err, "cannot sign %s %s",
			       ams_service_name(call->svc), call->action);
		return AMS_HTTP_PREP_FAIL;
	}
	for (i = 0; i < res.n_add_headers; i++)
		ams_http_req_set_header(req, res.add_headers[i].name,
					res.add_headers[i].value);
	ams_sigv4_result_release(&res);
	call->signed_generation = call->id->generation;
	return AMS_HTTP_PREP_GO;
}

static enum ams_http_prep call_prepare(struct ams_http_req *req, void *payload)
{
	struct ams_aws_call *call = payload;
	struct ams_identity *id = call->id;

	if (call->fail_err) {
		ams_err_copy(&req->err, call->fail_err);
		return AMS_HTTP_PREP_FAIL;
	}
	if (id) {
		if (id->refreshing) {
			add_waiter(id, call);
			return AMS_HTTP_PREP_PARK;
		}
		if (needs_refresh(id, call->aws->opts.refresh_margin_ms)) {
			id->refreshing = true;
			id->refresh_count++;
			ams_log_verbose("aws: refreshing %s", id->label);
			id->refresh(id, id->refresh_payload);
			if (id->refreshing) {
				add_waiter(id, call);
				return AMS_HTTP_PREP_PARK;
			}
			if (id->refresh_failed) {
				ams_err_copy(&req->err, id->refresh_err);
				return AMS_HTTP_PREP_FAIL;
			}
		}
		if (!id->has_creds) {
			ams_fail(&req->err, AMS_ECREDS, "no credentials for %s",
				 id->label);
			return AMS_HTTP_PREP_FAIL;
		}
	}
	if (!ams_http_req_get_header(req, "Host"))
		set_headers(call);
	if (id && sign(call) != AMS_HTTP_PREP_GO)
		return AMS_HTTP_PREP_FAIL;
	if (ams_log_enabled(AMS_LOG_DEBUG))
		log_request(call);
	return AMS_HTTP_PREP_GO;
}

static bool is_window_code(const struct ams_aws_call *call, const char *code)
{
	size_t i;

	for (i = 0; i < call->ncodes; i++)
		if (!strcmp(call->codes[i], code))
			return true;
	return false;
}

static void header_copy(char *out, size_t size, const struct ams_http_req *req,
			const char *name)
{
	struct ams_str v = ams_http_resp_header(req, name);

	out[0] = '\0';
	if (v.ptr)
		snprintf(out, size, "%.*s", (int)v.len, v.ptr);
}

static enum ams_http_retry call_classify(struct ams_http_req *req,
					 enum ams_http_retry dflt,
					 void *payload)
{
	struct ams_aws_call *call = payload;
	struct ams_identity *id = call->id;
	char rid[96];
	enum ams_http_retry r;

	if (ams_log_enabled(AMS_LOG_DEBUG) && req->status)
		log_response(call);
	if (!req->err.code || !req->status || req->err.code == AMS_ELIMIT)
		return dflt;
	header_copy(rid, sizeof(rid), req, "x-amzn-RequestId");
	if (!*rid)
		header_copy(rid, sizeof(rid), req, "x-amz-request-id");
	ams_err_clear(&req->err);
	ams_aws_parse_error(&req->err, ams_aws_protocol_of(call->svc),
			    req->status, req->resp_body.buf, req->resp_body.len,
			    rid);
	if (req->err.code != AMS_EAWS)
		return dflt;
	if (is_window_code(call, req->err.aws_code))
		return AMS_HTTP_RETRY_WINDOW;
	if (ams_aws_code_is_expired(req->err.aws_code) && id && id->refresh) {
		/* Only the first rejection of these credentials refreshes. */
		if (call->signed_generation == id->generation)
			id->stale = true;
		return AMS_HTTP_RETRY_REFRESH;
	}
	r = ams_aws_code_retry(req->err.aws_code);
	return r != AMS_HTTP_FINAL ? r : dflt;
}

static void call_done(struct ams_http_req *req, void *payload)
{
	struct ams_aws_call *call = payload;
	struct ams_aws_result res;
	char rid[96];
	uint64_t now;

	if (call->waiting)
		remove_waiter(call->id, call);
	if (req->err.code && req->err.code != AMS_EAWS)
		ams_err_prefix(&req->err, "%s %s in %s",
			       ams_service_name(call->svc), call->action,
			       call->region);
	memset(&res, 0, sizeof(res));
	res.err = &req->err;
	res.http_status = req->status;
	res.body = req->resp_body.buf;
	res.body_len = req->resp_body.len;
	if (req->err.code) {
		snprintf(rid, sizeof(rid), "%s", req->err.request_id);
	} else {
		header_copy(rid, sizeof(rid), req, "x-amzn-RequestId");
		if (!*rid)
			header_copy(rid, sizeof(rid), req, "x-amz-request-id");
	}
	res.request_id = rid;
	res.service = call->svc;
	res.region = call->region;
	res.action = call->action;
	res.identity = call->id;
	res.attempts = req->attempts;
	res.elapsed_ms = req->end_ms - req->submit_ms;
	call->done(&res, call->payload);
	/* After done: a follow-up call it submitted keeps them warm. */
	now = ams_clock_mono_ms();
	ams_ratelimit_put_bucket(call->aws->rl, req->bucket, now);
	ams_ratelimit_put_quota(call->aws->rl, req->quota, now);
	req->bucket = NULL;
	req->quota = NULL;
	release_call(call);
}

static void set_request(struct ams_aws_call *call)
{
	struct ams_http_req *req = call->req;

	req->method = AMS_HTTP_POST;
	ams_http_req_set_url(req, call->ep->url);
	if (ams_aws_json_target_prefix(call->svc) && !req->body.len)
		ams_buf_addstr(&req->body, "{}");
	req->retry_window_ms = call->window_ms;
	req->prepare = call_prepare;
	req->classify = call_classify;
	req->done = call_done;
	req->payload = call;
	snprintf(req->label, sizeof(req->label), "%.13s %.56s %.24s",
		 ams_service_name(call->svc), call->action, call->region);
}

void ams_aws_call_submit(struct ams_aws_call *call, ams_aws_done_fn *done,
			 void *payload)
{
	struct ams_aws *aws = call->aws;
	struct ams_err err = AMS_ERR_INIT;
	enum ams_code rc;

	call->done = done;
	call->payload = payload;
	call->req->done = call_done;
	call->req->payload = call;
	if (call->too_long) {
		ams_fail(&err, AMS_EUSAGE,
			 "aws: missing or overlong region or action name");
		ams_http_fail(aws->http, call->req, &err);
		return;
	}
	rc = ams_aws_endpoint(&call->ep, aws, call->svc, call->region, &err);
	if (rc) {
		ams_http_fail(aws->http, call->req, &err);
		return;
	}
	set_request(call);
	attach_limits(call);
	ams_http_submit(aws->http, call->req);
}
