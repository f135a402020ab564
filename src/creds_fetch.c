/*
 * The credential sources that answer over the network: STS
 * AssumeRoleWithWebIdentity (unsigned) and AssumeRole (signed with the
 * base identity) through the AWS layer, and the container and EC2
 * instance metadata endpoints as plain HTTP requests on the same engine.
 * Each fetch ends in ams_creds__finish(), from an engine callback or, when
 * it fails before sending anything, at once.
 */
#include "creds_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws.h"
#include "buf.h"
#include "http.h"
#include "log.h"
#include "sts.h"

/* Token files are small; anything bigger is a mistake. */
#define TOKEN_FILE_MAX (64u * 1024)
#define METADATA_BODY_MAX (64u * 1024)
#define IMDS_TOKEN_TTL "21600"
#define CONTAINER_TIMEOUT_MS 2000L
#define CONTAINER_ATTEMPTS 3

/* Reads a small (secret) file whole into sb. */
static enum ams_code read_token_file(struct ams_buf *sb, const char *path,
				     const char *what, struct ams_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = 0;

	if (fd < 0)
		return ams_fail(err, AMS_ECREDS, "cannot open %s '%s': %s",
				what, path, strerror(errno));
	for (;;) {
		ams_buf_grow(sb, 4096);
		n = read(fd, sb->buf + sb->len, sb->alloc - sb->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		ams_buf_setlen(sb, sb->len + (size_t)n);
		if (sb->len > TOKEN_FILE_MAX)
			break;
	}
	close(fd);
	if (n < 0)
		return ams_fail(err, AMS_ECREDS, "cannot read %s '%s': %s",
				what, path, strerror(errno));
	if (sb->len > TOKEN_FILE_MAX)
		return ams_fail(err, AMS_ECREDS,
				"%s '%s' is larger than %u bytes", what, path,
				TOKEN_FILE_MAX);
	return AMS_OK;
}

/* A short printable excerpt of an HTTP body, for error messages. */
static void body_excerpt(struct ams_buf *out, const char *body, size_t len)
{
	struct ams_buf tmp = AMS_BUF_INIT;
	struct ams_str s = ams_str_trim(ams_str_make(body, len));
	size_t i;

	for (i = 0; i < s.len && tmp.len < 160; i++) {
		unsigned char c = (unsigned char)s.ptr[i];

		ams_buf_addch(&tmp, c >= 0x20 && c < 0x7f ? c : ' ');
	}
	if (i < s.len)
		ams_buf_addstr(&tmp, "...");
	ams_redact(&tmp);
	ams_buf_add(out, tmp.buf, tmp.len);
	ams_buf_release(&tmp);
}

/*
 * Copies in (an AWS or transport error) into out with a new message
 * "<context>: <Code>: <message>", keeping code, status, AWS code and
 * request id.
 */
static void context_error(struct ams_err *out, const struct ams_err *in,
			  const char *context)
{
	struct ams_buf sb = AMS_BUF_INIT;

	ams_buf_addf(&sb, "%s: ", context);
	/* A base identity's failure arrives formatted already. */
	if (in->aws_code[0] && !strstr(in->msg, in->aws_code))
		ams_buf_addf(&sb, "%s: ", in->aws_code);
	ams_buf_addstr(&sb, in->msg);
	*out = *in;
	snprintf(out->msg, sizeof(out->msg), "%s", sb.buf);
	if (!out->code)
		out->code = AMS_ECREDS;
	ams_buf_release(&sb);
}

/* Fails the fetch with in, put in context. */
static void fail_in_context(struct ams_creds_provider *p,
			    const struct ams_err *in, const char *context)
{
	struct ams_err out = AMS_ERR_INIT;

	context_error(&out, in, context);
	ams_creds__finish(p, NULL, &out);
}

/* ---- STS --------------------------------------------------------------------- */

static char *role_context(const struct ams_creds_provider *p,
			  const char *action)
{
	char account[13];

	if (!ams_sts_arn_account(account, p->role_arn))
		snprintf(account, sizeof(account), "unknown");
	return xasprintf("%s failed (account %s, STS %s)", action, account,
			 p->sts_region);
}

typedef enum ams_code(sts_parse_fn)(struct ams_sts_session *out,
				    const char *body, size_t len,
				    struct ams_err *err);

static void on_sts(const struct ams_aws_result *res,
		   struct ams_creds_provider *p, sts_parse_fn *parse,
		   const char *action)
{
	struct ams_sts_session s;
	struct ams_err e = AMS_ERR_INIT;
	char *context = role_context(p, action);

	memset(&s, 0, sizeof(s));
	if (res->err->code) {
		fail_in_context(p, res->err, context);
	} else if (parse(&s, res->body, res->body_len, &e)) {
		fail_in_context(p, &e, context);
	} else {
		ams_log_verbose("%s: assumed %s", p->describe,
				s.assumed_role_arn ? s.assumed_role_arn : "");
		ams_creds__finish(p, &s.creds, NULL);
	}
	ams_sts_session_release(&s);
	free(context);
}

static void on_web_identity(const struct ams_aws_result *res, void *payload)
{
	on_sts(res, payload, ams_sts_parse_assume_role_with_web_identity,
	       AMS_STS_ASSUME_ROLE_WITH_WEB_IDENTITY);
}

static void on_assume_role(const struct ams_aws_result *res, void *payload)
{
	on_sts(res, payload, ams_sts_parse_assume_role, AMS_STS_ASSUME_ROLE);
}

static void add_param(void *payload, const char *name, const char *value)
{
	ams_aws_call_param(payload, name, value);
}

/* Reads the token file again: the CI may have rotated it. */
static enum ams_code web_identity_token(char **out,
					const struct ams_creds_provider *p,
					struct ams_err *err)
{
	struct ams_buf token = AMS_BUF_INIT;
	struct ams_str t;
	enum ams_code rc;

	*out = NULL;
	rc = read_token_file(&token, p->token_file, "web identity token file",
			     err);
	if (!rc) {
		ams_log_add_secret(token.buf);
		t = ams_str_trim(ams_str_make(token.buf, token.len));
		if (!t.len)
			rc = ams_fail(err, AMS_ECREDS,
				      "web identity token file '%s' is empty",
				      p->token_file);
		else
			*out = ams_str_dup(t);
	}
	ams_buf_release_secure(&token);
	return rc;
}

void ams_creds__fetch_web_identity(struct ams_creds_provider *p)
{
	struct ams_sts_web_identity_req req;
	struct ams_err e = AMS_ERR_INIT;
	struct ams_aws_call *call;
	char *tok = NULL;

	if (web_identity_token(&tok, p, &e)) {
		ams_creds__finish(p, NULL, &e);
		return;
	}
	ams_log_add_secret(tok);
	memset(&req, 0, sizeof(req));
	req.role_arn = p->role_arn;
	req.session_name = p->session_name;
	req.web_identity_token = tok;
	req.duration_s = p->duration_s;
	call = ams_aws_call_new(p->aws, AMS_SVC_STS, p->sts_region,
				AMS_STS_ASSUME_ROLE_WITH_WEB_IDENTITY, NULL);
	if (ams_sts_build_assume_role_with_web_identity(&req, add_param, call,
							&e)) {
		ams_aws_call_discard(call);
		ams_err_prefix(&e, "web identity token file '%s'",
			       p->token_file);
		ams_creds__finish(p, NULL, &e);
	} else {
		ams_aws_call_submit(call, on_web_identity, p);
	}
	ams_free_secret(tok);
}

void ams_creds__fetch_assume_role(struct ams_creds_provider *p)
{
	struct ams_sts_assume_role_req req;
	struct ams_err e = AMS_ERR_INIT;
	struct ams_aws_call *call;

	ams_creds__role_req(&req, p);
	call = ams_aws_call_new(p->aws, AMS_SVC_STS, p->sts_region,
				AMS_STS_ASSUME_ROLE, p->base);
	if (ams_sts_build_assume_role(&req, add_param, call, &e)) {
		ams_aws_call_discard(call);
		ams_creds__finish(p, NULL, &e);
		return;
	}
	ams_aws_call_submit(call, on_assume_role, p);
}

/* ---- Plain HTTP requests -------------------------------------------------------- */

static struct ams_http_req *plain_req(struct ams_creds_provider *p,
				      enum ams_http_method method,
				      const char *url, long timeout_ms,
				      unsigned attempts, ams_http_done_fn *done)
{
	struct ams_http_req *req = ams_http_req_new(ams_aws_http(p->aws));

	req->method = method;
	ams_http_req_set_url(req, url);
	req->timeout_ms = timeout_ms;
	req->connect_timeout_ms = timeout_ms;
	req->max_attempts = attempts;
	req->max_body_bytes = METADATA_BODY_MAX;
	req->done = done;
	req->payload = p;
	return req;
}

/*
 * "[<context>: ]http 404: <body excerpt>", or the transport error, as an
 * AMS_ECREDS failure.
 */
static void http_error(struct ams_err *out, const struct ams_http_req *req,
		       const char *context)
{
	struct ams_buf sb = AMS_BUF_INIT;

	if (context)
		ams_buf_addf(&sb, "%s: ", context);
	ams_buf_addstr(&sb, req->err.code ? req->err.msg : "unexpected answer");
	if (req->status && req->resp_body.len) {
		ams_buf_addstr(&sb, ": ");
		body_excerpt(&sb, req->resp_body.buf, req->resp_body.len);
	}
	ams_fail(out, AMS_ECREDS, "%s", sb.buf);
	out->http_status = req->status;
	ams_buf_release(&sb);
}

/* ---- Container ------------------------------------------------------------------- */

static void on_container(struct ams_http_req *req, void *payload)
{
	struct ams_creds_provider *p = payload;
	struct ams_creds c = AMS_CREDS_INIT;
	struct ams_err e = AMS_ERR_INIT;

	if (req->err.code || req->status != 200) {
		http_error(&e, req, NULL);
		ams_creds__finish(p, NULL, &e);
	} else {
		ams_creds_parse_metadata(&c, req->resp_body.buf,
					 req->resp_body.len, "response", &e);
		ams_creds__finish(p, e.code ? NULL : &c, &e);
	}
	ams_creds_release(&c);
}

/* The Authorization value: the token file (read each time) or variable. */
static enum ams_code container_auth(char **out, struct ams_creds_provider *p,
				    struct ams_err *err)
{
	struct ams_buf sb = AMS_BUF_INIT;
	enum ams_code rc;

	*out = NULL;
	if (!p->auth_file) {
		*out = p->auth_token ? xstrdup(p->auth_token) : NULL;
		return AMS_OK;
	}
	rc = read_token_file(&sb, p->auth_file,
			     "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", err);
	if (!rc) {
		ams_log_add_secret(sb.buf);
		if (memchr(sb.buf, '\r', sb.len) ||
		    memchr(sb.buf, '\n', sb.len))
			rc = ams_fail(err, AMS_ECREDS,
				      "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE "
				      "'%s' contains a line break, which "
				      "cannot go in a header",
				      p->auth_file);
		else if (!sb.len)
			rc = ams_fail(err, AMS_ECREDS,
				      "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE "
				      "'%s' is empty",
				      p->auth_file);
	}
	if (!rc)
		*out = xstrdup(sb.buf);
	ams_buf_release_secure(&sb);
	return rc;
}

void ams_creds__fetch_container(struct ams_creds_provider *p)
{
	struct ams_err e = AMS_ERR_INIT;
	struct ams_http_req *req;
	char *auth = NULL;

	if (container_auth(&auth, p, &e)) {
		ams_creds__finish(p, NULL, &e);
		return;
	}
	req = plain_req(p, AMS_HTTP_GET, p->url, CONTAINER_TIMEOUT_MS,
			CONTAINER_ATTEMPTS, on_container);
	ams_http_req_set_header(req, "Accept", "application/json");
	if (auth)
		ams_http_req_set_header(req, "Authorization", auth);
	ams_free_secret(auth);
	snprintf(req->label, sizeof(req->label), "container credentials");
	ams_http_submit(ams_aws_http(p->aws), req);
}

/* ---- IMDSv2 ------------------------------------------------------------------------- */

static void imds_fail(struct ams_creds_provider *p, struct ams_err *e)
{
	struct ams_err out = AMS_ERR_INIT;

	ams_free_secret(p->imds_token);
	p->imds_token = NULL;
	if (p->imds_last_resort) {
		ams_fail(&out, AMS_ECREDS,
			 "no credentials: set AWS_ACCESS_KEY_ID/"
			 "AWS_SECRET_ACCESS_KEY, AWS_PROFILE, "
			 "AWS_WEB_IDENTITY_TOKEN_FILE+AWS_ROLE_ARN, or run on "
			 "EC2/ECS with a role (%s: %s)",
			 p->describe, e->msg);
		out.http_status = e->http_status;
		e = &out;
	}
	ams_creds__finish(p, NULL, e);
}

static void imds_get(struct ams_creds_provider *p, const char *path,
		     ams_http_done_fn *done)
{
	char *url = xasprintf("%s%s", p->imds_endpoint, path);
	struct ams_http_req *req = plain_req(
	    p, AMS_HTTP_GET, url, p->imds_timeout_ms, p->imds_attempts, done);

	if (p->imds_token)
		ams_http_req_set_header(req, "x-aws-ec2-metadata-token",
					p->imds_token);
	snprintf(req->label, sizeof(req->label), "instance metadata GET");
	ams_http_submit(ams_aws_http(p->aws), req);
	free(url);
}

static void on_imds_creds(struct ams_http_req *req, void *payload)
{
	struct ams_creds_provider *p = payload;
	struct ams_creds c = AMS_CREDS_INIT;
	struct ams_err e = AMS_ERR_INIT;
	char *context = xasprintf("role '%s'", p->imds_role);

	if (req->err.code || req->status != 200) {
		http_error(&e, req, context);
		imds_fail(p, &e);
	} else if (ams_creds_parse_metadata(&c, req->resp_body.buf,
					    req->resp_body.len, context, &e)) {
		imds_fail(p, &e);
	} else {
		ams_free_secret(p->imds_token);
		p->imds_token = NULL;
		ams_creds__finish(p, &c, NULL);
	}
	ams_creds_release(&c);
	free(context);
}

static void on_imds_role(struct ams_http_req *req, void *payload)
{
	struct ams_creds_provider *p = payload;
	struct ams_err e = AMS_ERR_INIT;
	struct ams_str rest, role;
	const char *context;
	char *path;

	if (req->err.code || req->status != 200) {
		context = req->status == 404
			      ? "no IAM role is attached to this instance"
			      : "role lookup";
		http_error(&e, req, context);
		imds_fail(p, &e);
		return;
	}
	rest = ams_str_make(req->resp_body.buf, req->resp_body.len);
	role = ams_str_trim(ams_str_split(&rest, '\n'));
	if (!role.len || memchr(role.ptr, '/', role.len)) {
		ams_fail(&e, AMS_ECREDS, "no usable IAM role name");
		imds_fail(p, &e);
		return;
	}
	free(p->imds_role);
	p->imds_role = ams_str_dup(role);
	path = xasprintf("/latest/meta-data/iam/security-credentials/%s",
			 p->imds_role);
	imds_get(p, path, on_imds_creds);
	free(path);
}

static enum ams_http_retry imds_token_classify(struct ams_http_req *req,
					       enum ams_http_retry dflt,
					       void *payload)
{
	struct ams_creds_provider *p = payload;

	(void)req;
	p->imds_timed_out = dflt == AMS_HTTP_RETRY_TIMEOUT;
	return dflt;
}

static void on_imds_token(struct ams_http_req *req, void *payload)
{
	struct ams_creds_provider *p = payload;
	struct ams_err e = AMS_ERR_INIT;
	bool fallback;

	if (!req->err.code && req->status == 200 && req->resp_body.len) {
		p->imds_token = ams_str_dup(ams_str_trim(
		    ams_str_make(req->resp_body.buf, req->resp_body.len)));
		ams_log_add_secret(p->imds_token);
	} else {
		fallback = req->status ? req->status != 400 : p->imds_timed_out;
		if (!fallback || p->imds_v1_disabled) {
			http_error(&e, req,
				   fallback ? "session token request failed "
					      "and IMDSv1 is disabled"
					    : "session token request");
			imds_fail(p, &e);
			return;
		}
		ams_log_verbose("%s: no session token (%s); trying IMDSv1",
				p->describe,
				req->err.code ? req->err.msg : "empty answer");
	}
	imds_get(p, "/latest/meta-data/iam/security-credentials/",
		 on_imds_role);
}

void ams_creds__fetch_imds(struct ams_creds_provider *p)
{
	char *url = xasprintf("%s/latest/api/token", p->imds_endpoint);
	struct ams_http_req *req =
	    plain_req(p, AMS_HTTP_PUT, url, p->imds_timeout_ms,
		      p->imds_attempts, on_imds_token);

	ams_free_secret(p->imds_token);
	p->imds_token = NULL;
	p->imds_timed_out = false;
	ams_http_req_set_header(req, "x-aws-ec2-metadata-token-ttl-seconds",
				IMDS_TOKEN_TTL);
	req->classify = imds_token_classify;
	snprintf(req->label, sizeof(req->label), "instance metadata token");
	ams_http_submit(ams_aws_http(p->aws), req);
	free(url);
}

/* ---- GetCallerIdentity ---------------------------------------------------------------- */

struct caller_ctx {
	ams_creds_caller_fn *done;
	void *payload;
};

static void on_caller(const struct ams_aws_result *res, void *payload)
{
	struct caller_ctx *ctx = payload;
	struct ams_creds_caller who;
	struct ams_err e = AMS_ERR_INIT;

	memset(&who, 0, sizeof(who));
	if (res->err->code) {
		if (res->err->code == AMS_EAWS)
			context_error(&e, res->err, "sts GetCallerIdentity");
		else
			e = *res->err;
		ctx->done(NULL, &e, ctx->payload);
	} else if (ams_creds_parse_caller(&who, res->body, res->body_len, &e)) {
		ams_err_prefix(&e, "GetCallerIdentity response");
		ctx->done(NULL, &e, ctx->payload);
	} else {
		ctx->done(&who, &e, ctx->payload);
	}
	ams_creds_caller_release(&who);
	free(ctx);
}

void ams_creds_get_caller(struct ams_aws *aws, struct ams_identity *id,
			  const char *region, ams_creds_caller_fn *done,
			  void *payload)
{
	struct caller_ctx *ctx = xmalloc(sizeof(*ctx));
	struct ams_aws_call *call;

	ctx->done = done;
	ctx->payload = payload;
	call =
	    ams_aws_call_new(aws, AMS_SVC_STS, region, "GetCallerIdentity", id);
	ams_aws_call_submit(call, on_caller, ctx);
}
