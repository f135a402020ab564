/*
 * Signed AWS calls over the HTTP engine.
 *
 * A struct ams_aws client holds the engine (borrowed), the endpoint
 * configuration, a cache of resolved endpoints, the client-side rate
 * buckets (EC2's per account, Region and action buckets of
 * aws-behaviour.md §8) and the per account and Region retry quotas.
 *
 * A struct ams_aws_call is one API operation:
 *
 *	call = ams_aws_call_new(aws, AMS_SVC_EC2, "eu-west-1",
 *				"DescribeImages", identity);
 *	ams_aws_call_param(call, "Owner.1", "self");
 *	ams_aws_call_submit(call, on_done, ctx);
 *	...  ams_http_run(ams_aws_http(aws), &err)  ...
 *	static void on_done(const struct ams_aws_result *res, void *ctx)
 *	{ if (res->err->code) ...; else parse res->body ... }
 *
 * The protocol follows the service (§1): EC2 query (Action, Version
 * 2016-11-15, flattened lists: the caller names parameters), AWS query for
 * STS (Version 2011-06-15, "member" lists), JSON 1.1 for KMS, SSM and
 * Organizations (X-Amz-Target <prefix>.<Action>, a body the caller
 * writes). Every request is POST to the endpoint's path with
 * Content-Type application/x-www-form-urlencoded; charset=utf-8 or
 * application/x-amz-json-1.1, signed with SigV4 before EVERY attempt with
 * the current time and the identity's current credentials (the session
 * token is sent and signed as X-Amz-Security-Token).
 *
 * Every AWS error document is turned into struct ams_err here and only
 * here: EC2 Response/Errors/Error + RequestID, query
 * ErrorResponse/Error + RequestId, JSON __type + message/Message +
 * x-amzn-RequestId (§1.4). A non-2xx answer without one is AMS_EHTTP.
 *
 * Retries (on top of the engine's standard mode): throttling and
 * transient codes of §13, caller-chosen codes within a time window (e.g.
 * InvalidAMIID.NotFound after a share), and one credential refresh on
 * ExpiredToken, ExpiredTokenException or RequestExpired.
 *
 * Identities: a struct ams_identity is "the credentials to sign with" for
 * one principal (the build account, a role assumed in a target account).
 * It may carry a refresh hook, implemented by the credential chain. Before
 * an attempt, when the credentials are missing, expire within the refresh
 * margin (default 5 minutes) or were rejected as expired, the call parks
 * and the hook runs (once per identity, however many calls wait); when
 * the chain reports back with ams_identity_refresh_done() the waiting
 * calls resume and sign with the new credentials.
 *
 * At AMS_LOG_DEBUG each attempt's request and response are logged with
 * Authorization, security tokens, secret keys and web identity tokens
 * masked, and every registered secret redacted.
 */
#ifndef AMS_AWS_H
#define AMS_AWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "endpoint.h"
#include "err.h"
#include "http.h"

struct ams_aws;
struct ams_aws_call;
struct ams_identity;
struct ams_creds;

enum ams_aws_protocol {
	AMS_AWS_PROTO_EC2 = 0, /* EC2 query */
	AMS_AWS_PROTO_QUERY,   /* AWS query (STS) */
	AMS_AWS_PROTO_JSON,    /* JSON 1.1 */
};

/* ---- Client ------------------------------------------------------------ */

struct ams_aws_opts {
	/* Client-side token buckets that adapt to throttling (default on). */
	bool rate_limit;
	/*
	 * Multiplies the documented bucket capacity and refill (default
	 * 1.0); below 1 leaves room for other clients of the same account.
	 */
	double rate_scale;
	/* Refresh credentials expiring within this (default 300000). */
	uint64_t refresh_margin_ms;
	/* Retry quota per account and Region (default 500, 0 = none). */
	unsigned retry_quota;
};

void ams_aws_opts_init(struct ams_aws_opts *opts);

/*
 * Creates a client over http (borrowed: it must outlive the client).
 * cfg (may be NULL: standard endpoints) and opts (NULL: defaults) are
 * copied. Returns AMS_OK, or AMS_EUSAGE for invalid options. Free with
 * ams_aws_free() after the engine has run dry.
 */
enum ams_code ams_aws_new(struct ams_aws **out, struct ams_http *http,
			  const struct ams_endpoint_config *cfg,
			  const struct ams_aws_opts *opts, struct ams_err *err);
void ams_aws_free(struct ams_aws *aws);
/* The engine, for driving the loop and for unsigned plain HTTP calls. */
struct ams_http *ams_aws_http(const struct ams_aws *aws);
/*
 * The endpoint for svc in region, resolved once and cached. *out is
 * borrowed from the client. Returns AMS_OK or ams_endpoint_resolve()'s
 * errors.
 */
enum ams_code ams_aws_endpoint(const struct ams_endpoint **out,
			       struct ams_aws *aws, enum ams_service svc,
			       const char *region, struct ams_err *err);

/* ---- Identities --------------------------------------------------------- */

/*
 * Starts a refresh of id: the chain fetches new credentials (possibly
 * through AWS calls on the same client) and then calls
 * ams_identity_refresh_done(), from a later callback or before returning.
 */
typedef void(ams_identity_refresh_fn)(struct ams_identity *id, void *payload);

/*
 * A new identity without credentials. label (copied) names it in logs and
 * errors, e.g. "role ami-publisher in 444455556666". Free with
 * ams_identity_free() once no call that uses it is pending.
 */
struct ams_identity *ams_identity_new(const char *label);
/* Wipes the credentials and frees. NULL is fine. */
void ams_identity_free(struct ams_identity *id);
/*
 * Replaces the credentials with a deep copy of creds (NULL clears them).
 * The account id, when creds carry none, stays as set before.
 */
void ams_identity_set_creds(struct ams_identity *id,
			    const struct ams_creds *creds);
/* Sets the account id (copied; used for rate buckets and messages). */
void ams_identity_set_account(struct ams_identity *id, const char *account);
/* Installs the refresh hook (NULL: the credentials are final). */
void ams_identity_set_refresh(struct ams_identity *id,
			      ams_identity_refresh_fn *fn, void *payload);
/*
 * Ends a refresh: with creds (copied) on success, or NULL and err
 * (copied into every waiting call's result, AMS_ECREDS if err is NULL or
 * empty) on failure. Resumes or fails every call waiting on id. Calling it
 * while no refresh runs just sets the credentials.
 */
void ams_identity_refresh_done(struct ams_identity *id,
			       const struct ams_creds *creds,
			       const struct ams_err *err);
/* Current credentials (borrowed; NULL when none), account, label. */
const struct ams_creds *ams_identity_creds(const struct ams_identity *id);
const char *ams_identity_account(const struct ams_identity *id);
const char *ams_identity_label(const struct ams_identity *id);
/* Whether a refresh is running. */
bool ams_identity_refreshing(const struct ams_identity *id);
/* Refreshes the identity run so far (tests and statistics). */
unsigned ams_identity_refresh_count(const struct ams_identity *id);

/* ---- Calls ------------------------------------------------------------- */

/* What a finished call hands its done callback. Borrowed until it returns. */
struct ams_aws_result {
	const struct ams_err *err; /* err->code == AMS_OK: HTTP 2xx */
	long http_status;	   /* 0 when no answer arrived */
	const char *body;	   /* response body, NUL-terminated */
	size_t body_len;
	/* x-amzn-RequestId, or the error document's; "" when unknown. */
	const char *request_id;
	enum ams_service service;
	const char *region;
	const char *action;
	struct ams_identity *identity; /* NULL for unsigned calls */
	unsigned attempts;
	uint64_t elapsed_ms; /* submit to finish */
};

typedef void(ams_aws_done_fn)(const struct ams_aws_result *res, void *payload);

/*
 * A new call of action on svc in region, signed with id, or unsigned when
 * id is NULL (AssumeRoleWithWebIdentity). region and action are copied.
 * The call belongs to the caller until ams_aws_call_submit() (or
 * ams_aws_call_discard()). The endpoint is resolved at submit; an invalid
 * Region then fails the call through done.
 */
struct ams_aws_call *ams_aws_call_new(struct ams_aws *aws, enum ams_service svc,
				      const char *region, const char *action,
				      struct ams_identity *id);
/* Frees a call that was never submitted. NULL is fine. */
void ams_aws_call_discard(struct ams_aws_call *call);

/*
 * Appends a form parameter (EC2 and query protocols), encoded as RFC 3986
 * (uri.h), in call order after Action and Version. name and value are not
 * kept. Ignored for JSON services.
 */
void ams_aws_call_param(struct ams_aws_call *call, const char *name,
			const char *value);
/* Like ams_aws_call_param with a formatted name: "ImageId.%zu". */
void ams_aws_call_paramf(struct ams_aws_call *call, const char *value,
			 const char *name_fmt, ...) AMS_PRINTF(3, 4);
/*
 * The JSON request body to write into (JSON services; borrowed from the
 * call). Left empty, "{}" is sent.
 */
struct ams_buf *ams_aws_call_json(struct ams_aws_call *call);

/*
 * Retries the call while AWS answers aws_code (e.g.
 * "InvalidAMIID.NotFound"), for up to window_ms after the first attempt,
 * with the engine's window backoff; these retries do not use the normal
 * attempt budget or retry quota. Up to 8 codes; the window is the largest
 * given.
 */
void ams_aws_call_retry_code(struct ams_aws_call *call, const char *aws_code,
			     uint64_t window_ms);
/*
 * Overrides the rate bucket: name (e.g. "CopyImage") with capacity and
 * refill_per_s, keyed per account and Region; name NULL disables rate
 * limiting for this call. By default EC2 calls use their action's bucket
 * from ams_aws_ec2_bucket(), and other signed calls a bucket per account,
 * Region and action that is unlimited until AWS throttles it; either
 * slows down after a throttle and recovers (ratelimit.h).
 */
void ams_aws_call_set_rate(struct ams_aws_call *call, const char *name,
			   double capacity, double refill_per_s);
/* Per-attempt timeout (0 = engine default). */
void ams_aws_call_set_timeout(struct ams_aws_call *call, long timeout_ms);
/* Total attempts for this call (0 = engine default, 1 = no retries). */
void ams_aws_call_set_max_attempts(struct ams_aws_call *call, unsigned n);
/* Response body cap for this call (0 = engine default). */
void ams_aws_call_set_max_body(struct ams_aws_call *call, size_t bytes);

/*
 * Queues the call; the client owns it from now on. done (required) runs
 * exactly once, from the engine's loop, never from inside this function.
 */
void ams_aws_call_submit(struct ams_aws_call *call, ams_aws_done_fn *done,
			 void *payload);

/* ---- Pure helpers (exposed for the typed modules and tests) -------------- */

enum ams_aws_protocol ams_aws_protocol_of(enum ams_service svc);
/* "2016-11-15" (EC2), "2011-06-15" (STS); NULL for JSON services. */
const char *ams_aws_api_version(enum ams_service svc);
/* "TrentService", "AmazonSSM", "AWSOrganizationsV20161128"; else NULL. */
const char *ams_aws_json_target_prefix(enum ams_service svc);

/*
 * Turns a non-2xx answer into *err (which must hold no error yet, or is
 * left alone as usual): AMS_EAWS with http_status, aws_code, request_id
 * and message when body is an AWS error document of proto's shape;
 * otherwise AMS_EHTTP "http <status>" with the start of the body
 * (printable ASCII, at most 120 bytes). header_request_id (may be NULL)
 * is used when the document has none. Returns err's new code.
 */
enum ams_code ams_aws_parse_error(struct ams_err *err,
				  enum ams_aws_protocol proto, long http_status,
				  const char *body, size_t len,
				  const char *header_request_id);
/*
 * The standard-mode class of an AWS error code: AMS_HTTP_RETRY_THROTTLED
 * for the throttling codes of §13, AMS_HTTP_RETRY_TRANSIENT for
 * RequestTimeout, RequestTimeoutException, PriorRequestNotComplete and
 * IDPCommunicationError, AMS_HTTP_FINAL for anything else.
 */
enum ams_http_retry ams_aws_code_retry(const char *aws_code);
/* ExpiredToken, ExpiredTokenException, RequestExpired. */
bool ams_aws_code_is_expired(const char *aws_code);
/*
 * EC2's documented bucket for action (§8): its class name ("describe",
 * "mutating", "tags", "modify", "copy", "bpa") and capacity and refill
 * per second. Unknown Describe and Get actions are "describe", other
 * unknown actions "mutating".
 */
void ams_aws_ec2_bucket(const char **class_name, double *capacity,
			double *refill_per_s, const char *action);

/*
 * Appends a loggable copy of an HTTP message part to out: header values of
 * Authorization, X-Amz-Security-Token, x-aws-ec2-metadata-token and
 * x-amz-sso_bearer_token replaced by "[masked]"; in bodies the values of
 * SecretAccessKey, SessionToken, Token, WebIdentityToken, AccessToken
 * (any letter case of the first letter; XML elements, JSON members and
 * form fields) masked; then every registered secret redacted.
 */
void ams_aws_mask_headers(struct ams_buf *out,
			  const struct ams_http_header *headers, size_t n);
void ams_aws_mask_body(struct ams_buf *out, const char *body, size_t len);

#endif
