/*
 * The AWS call layer: error documents, retry classes, EC2 buckets, debug
 * masking, and calls through the engine against a scripted local server
 * (request shape and signature, protocols, retries on AWS codes, window
 * retries, credential refresh, rate limiting, secrets kept out of logs).
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "clock.h"
#include "harness.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "sigv4.h"

#include "../lib/scripted_httpd.h"
#include "../lib/test_fixture.h"

static struct test_server srv;
static struct ams_http *engine;

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define TOKEN "FQoGZXIvYXdzEXAMPLETOKENsecretpart"

/* ---- Pure helpers ---------------------------------------------------- */

struct envelope_case {
	const char *file;
	enum ams_aws_protocol proto;
	long status;
	const char *hdr_rid;
	enum ams_code code;
	const char *aws_code;
	const char *rid;
	const char *msg_part;
};

static void test_error_envelopes(void)
{
	static const struct envelope_case cases[] = {
		{ "aws/ec2-error.xml", AMS_AWS_PROTO_EC2, 400, NULL, AMS_EAWS,
		  "InvalidAMIID.NotFound", "ea966190-f9aa-478e-9ede-example",
		  "The image id '[ami-0abcdef1234567890]' does not exist" },
		{ "aws/ec2-error-no-decl.xml", AMS_AWS_PROTO_EC2, 400, "hdr",
		  AMS_EAWS, "InvalidAMIID.NotFound",
		  "ea966190-f9aa-478e-9ede-example", "does not exist" },
		{ "aws/ec2-throttle.xml", AMS_AWS_PROTO_EC2, 503, NULL,
		  AMS_EAWS, "RequestLimitExceeded",
		  "d1b6b8b4-1111-4f36-9d9c-example",
		  "Request limit exceeded." },
		{ "aws/sts-error.xml", AMS_AWS_PROTO_QUERY, 403, NULL, AMS_EAWS,
		  "AccessDenied", "c6104cbe-af31-11e0-8154-cbc7ccf896c7",
		  "is not authorized to perform: sts:AssumeRole" },
		{ "aws/json-error.json", AMS_AWS_PROTO_JSON, 400, "json-rid",
		  AMS_EAWS, "NotFoundException", "json-rid", "does not exist" },
		{ "aws/json-error-prefixed.json", AMS_AWS_PROTO_JSON, 400,
		  "rid-2", AMS_EAWS, "KMSInvalidStateException", "rid-2",
		  "is pending deletion." },
		{ "aws/json-error-throttle.json", AMS_AWS_PROTO_JSON, 400, NULL,
		  AMS_EAWS, "TooManyRequestsException", "",
		  "another request is already in progress" },
		{ "aws/not-aws.html", AMS_AWS_PROTO_EC2, 502, "r3", AMS_EHTTP,
		  "", "r3", "http 502: <html>" },
		{ "aws/not-aws.html", AMS_AWS_PROTO_JSON, 502, NULL, AMS_EHTTP,
		  "", "", "http 502" },
		/* an EC2 document sent to a JSON caller is not an envelope */
		{ "aws/ec2-error.xml", AMS_AWS_PROTO_JSON, 400, NULL, AMS_EHTTP,
		  "", "", "http 400" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct envelope_case *c = &cases[i];
		struct ams_buf body = AMS_BUF_INIT;
		struct ams_err err = AMS_ERR_INIT;

		TEST_BEGIN();
		CHECK(!test_fixture_read(&body, c->file));
		CHECK_INT_EQ(c->code, ams_aws_parse_error(
					  &err, c->proto, c->status, body.buf,
					  body.len, c->hdr_rid));
		CHECK_INT_EQ(c->code, err.code);
		CHECK_INT_EQ(c->status, err.http_status);
		CHECK_STR_EQ(c->aws_code, err.aws_code);
		CHECK_STR_EQ(c->rid, err.request_id);
		CHECK(strstr(err.msg, c->msg_part) != NULL);
		if (!strstr(err.msg, c->msg_part))
			printf("#   message: %s\n", err.msg);
		ams_buf_release(&body);
		TEST_END("error envelope: %s as protocol %d (%ld)", c->file,
			 (int)c->proto, c->status);
	}
}

static void test_empty_error_body(void)
{
	struct ams_err err = AMS_ERR_INIT;

	CHECK_INT_EQ(AMS_EHTTP, ams_aws_parse_error(&err, AMS_AWS_PROTO_EC2,
						    500, "", 0, NULL));
	CHECK_STR_EQ("http 500", err.msg);
	ams_err_clear(&err);
	CHECK_INT_EQ(AMS_EHTTP, ams_aws_parse_error(&err, AMS_AWS_PROTO_JSON,
						    503, NULL, 0, NULL));
	ams_err_clear(&err);
	/* a JSON body without __type is not an AWS error */
	CHECK_INT_EQ(AMS_EHTTP,
		     ams_aws_parse_error(&err, AMS_AWS_PROTO_JSON, 400,
					 "{\"message\":\"x\"}", 15, NULL));
}

static void test_code_classes(void)
{
	static const struct {
		const char *code;
		enum ams_http_retry r;
	} cases[] = {
		{ "Throttling", AMS_HTTP_RETRY_THROTTLED },
		{ "ThrottlingException", AMS_HTTP_RETRY_THROTTLED },
		{ "ThrottledException", AMS_HTTP_RETRY_THROTTLED },
		{ "RequestThrottledException", AMS_HTTP_RETRY_THROTTLED },
		{ "TooManyRequestsException", AMS_HTTP_RETRY_THROTTLED },
		{ "ProvisionedThroughputExceededException",
		  AMS_HTTP_RETRY_THROTTLED },
		{ "TransactionInProgressException", AMS_HTTP_RETRY_THROTTLED },
		{ "RequestLimitExceeded", AMS_HTTP_RETRY_THROTTLED },
		{ "BandwidthLimitExceeded", AMS_HTTP_RETRY_THROTTLED },
		{ "LimitExceededException", AMS_HTTP_RETRY_THROTTLED },
		{ "RequestThrottled", AMS_HTTP_RETRY_THROTTLED },
		{ "SlowDown", AMS_HTTP_RETRY_THROTTLED },
		{ "PriorRequestNotComplete", AMS_HTTP_RETRY_THROTTLED },
		{ "EC2ThrottledException", AMS_HTTP_RETRY_THROTTLED },
		{ "RequestTimeout", AMS_HTTP_RETRY_TRANSIENT },
		{ "RequestTimeoutException", AMS_HTTP_RETRY_TRANSIENT },
		{ "IDPCommunicationError", AMS_HTTP_RETRY_TRANSIENT },
		{ "DryRunOperation", AMS_HTTP_FINAL },
		{ "UnauthorizedOperation", AMS_HTTP_FINAL },
		{ "AuthFailure", AMS_HTTP_FINAL },
		{ "InvalidAMIID.NotFound", AMS_HTTP_FINAL },
		{ "InvalidAMIID.Malformed", AMS_HTTP_FINAL },
		{ "InvalidParameterValue", AMS_HTTP_FINAL },
		{ "ValidationException", AMS_HTTP_FINAL },
		{ "AccessDenied", AMS_HTTP_FINAL },
		{ "AccessDeniedException", AMS_HTTP_FINAL },
		{ "ExpiredToken", AMS_HTTP_FINAL },
		{ "throttling", AMS_HTTP_FINAL },
		{ "", AMS_HTTP_FINAL },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		CHECK_INT_EQ(cases[i].r, ams_aws_code_retry(cases[i].code));
		if (ams_aws_code_retry(cases[i].code) != cases[i].r)
			printf("#   code %s\n", cases[i].code);
	}
	CHECK_INT_EQ(AMS_HTTP_FINAL, ams_aws_code_retry(NULL));
	CHECK(ams_aws_code_is_expired("ExpiredToken"));
	CHECK(ams_aws_code_is_expired("ExpiredTokenException"));
	CHECK(ams_aws_code_is_expired("RequestExpired"));
	CHECK(!ams_aws_code_is_expired("InvalidClientTokenId"));
	CHECK(!ams_aws_code_is_expired(NULL));
}

static void test_ec2_buckets(void)
{
	static const struct {
		const char *action, *cls;
		double cap, refill;
	} cases[] = {
		{ "DescribeImages", "describe", 100, 20 },
		{ "DescribeImageAttribute", "describe", 100, 20 },
		{ "DescribeTags", "describe", 100, 20 },
		{ "GetImageBlockPublicAccessState", "describe", 100, 20 },
		{ "DescribeSnapshots", "unfiltered", 50, 10 },
		{ "CreateTags", "tags", 100, 10 },
		{ "DeleteTags", "tags", 100, 10 },
		{ "ModifyImageAttribute", "modify", 100, 5 },
		{ "ModifySnapshotAttribute", "modify", 100, 5 },
		{ "CopyImage", "copy", 100, 1 },
		{ "EnableImageBlockPublicAccess", "bpa", 1, 0.1 },
		{ "ResetImageAttribute", "mutating", 50, 5 },
		{ "EnableImageDeprecation", "mutating", 50, 5 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *cls = NULL;
		double cap = 0, refill = 0;

		ams_aws_ec2_bucket(&cls, &cap, &refill, cases[i].action);
		CHECK_STR_EQ(cases[i].cls, cls);
		CHECK(cap == cases[i].cap);
		CHECK(refill == cases[i].refill);
	}
	CHECK_INT_EQ(AMS_AWS_PROTO_EC2, ams_aws_protocol_of(AMS_SVC_EC2));
	CHECK_INT_EQ(AMS_AWS_PROTO_QUERY, ams_aws_protocol_of(AMS_SVC_STS));
	CHECK_INT_EQ(AMS_AWS_PROTO_JSON, ams_aws_protocol_of(AMS_SVC_SSM));
	CHECK_STR_EQ("2016-11-15", ams_aws_api_version(AMS_SVC_EC2));
	CHECK_STR_EQ("2011-06-15", ams_aws_api_version(AMS_SVC_STS));
	CHECK(ams_aws_api_version(AMS_SVC_KMS) == NULL);
	CHECK_STR_EQ("TrentService", ams_aws_json_target_prefix(AMS_SVC_KMS));
	CHECK_STR_EQ("AmazonSSM", ams_aws_json_target_prefix(AMS_SVC_SSM));
	CHECK_STR_EQ("AWSOrganizationsV20161128",
		     ams_aws_json_target_prefix(AMS_SVC_ORGANIZATIONS));
	CHECK(ams_aws_json_target_prefix(AMS_SVC_EC2) == NULL);
}

static void test_masking(void)
{
	static const char *const bodies[] = {
		"<Credentials><AccessKeyId>ASIAX</AccessKeyId><SecretAccessKey>"
		"s3cr3tValue</SecretAccessKey><SessionToken>\n tok3nValue\n"
		"</SessionToken></Credentials>",
		"{\"AccessKeyId\": \"ASIAX\", \"SecretAccessKey\" : "
		"\"s3cr3t\\\"Value\", \"Token\":\"tok3nValue\"}",
		"{\"roleCredentials\":{\"secretAccessKey\":\"s3cr3tValue\","
		"\"sessionToken\":\"tok3nValue\"}}",
		"Action=AssumeRoleWithWebIdentity&Version=2011-06-15&"
		"WebIdentityToken=tok3nValue&RoleArn=arn",
		"WebIdentityToken=tok3nValue&RoleArn=arn",
		"{\"accessToken\":\"tok3nValue\",\"expiresAt\":\"x\"}",
	};
	static const char *const kept[] = {
		"ASIAX",       "ASIAX",	      "roleCredentials",
		"RoleArn=arn", "RoleArn=arn", "expiresAt",
	};
	struct ams_http_header hdrs[] = {
		{ (char *)(uintptr_t) "Authorization",
		  (char *)(uintptr_t) "AWS4-HMAC-SHA256 Credential=AKID/x" },
		{ (char *)(uintptr_t) "X-Amz-Security-Token",
		  (char *)(uintptr_t) "tok3nValue" },
		{ (char *)(uintptr_t) "x-aws-ec2-metadata-token",
		  (char *)(uintptr_t) "imdsToken" },
		{ (char *)(uintptr_t) "X-Amz-Date",
		  (char *)(uintptr_t) "20250115T120000Z" },
		{ (char *)(uintptr_t) "X-Other",
		  (char *)(uintptr_t) "has registered-secret-xyz inside" },
	};
	struct ams_buf sb = AMS_BUF_INIT;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bodies); i++) {
		ams_buf_reset(&sb);
		ams_aws_mask_body(&sb, bodies[i], strlen(bodies[i]));
		CHECK(!strstr(sb.buf, "s3cr3t"));
		CHECK(!strstr(sb.buf, "tok3n"));
		CHECK(strstr(sb.buf, "[masked]") != NULL);
		CHECK(strstr(sb.buf, kept[i]) != NULL);
		if (strstr(sb.buf, "tok3n") || strstr(sb.buf, "s3cr3t"))
			printf("#   leaked: %s\n", sb.buf);
	}
	ams_log_add_secret("registered-secret-xyz");
	ams_buf_reset(&sb);
	ams_buf_addstr(&sb, "prefix: ");
	ams_aws_mask_headers(&sb, hdrs, ARRAY_SIZE(hdrs));
	CHECK(!strncmp(sb.buf, "prefix: Authorization: [masked]", 31));
	CHECK(!strstr(sb.buf, "tok3n"));
	CHECK(!strstr(sb.buf, "imdsToken"));
	CHECK(!strstr(sb.buf, "registered-secret-xyz"));
	CHECK(strstr(sb.buf, "X-Amz-Date: 20250115T120000Z") != NULL);
	/* the assume-role fixture as AWS sends it */
	ams_buf_reset(&sb);
	{
		struct ams_buf doc = AMS_BUF_INIT;

		CHECK(!test_fixture_read(&doc, "xml/assume-role.xml"));
		ams_aws_mask_body(&sb, doc.buf, doc.len);
		CHECK(!strstr(sb.buf, "wJalrXUtnFEMI"));
		CHECK(!strstr(sb.buf, "AQoDYXdzEPT"));
		CHECK(strstr(sb.buf, "ASIAIOSFODNN7EXAMPLE") != NULL);
		ams_buf_release(&doc);
	}
	ams_buf_release(&sb);
}

/* ---- Calls through the engine --------------------------------------- */

struct call_out {
	int done;
	struct ams_err err;
	long status;
	unsigned attempts;
	char rid[96];
	struct ams_buf body;
};

static void call_done(const struct ams_aws_result *res, void *payload)
{
	struct call_out *o = payload;

	o->done++;
	o->err = *res->err;
	o->status = res->http_status;
	o->attempts = res->attempts;
	snprintf(o->rid, sizeof(o->rid), "%s", res->request_id);
	ams_buf_reset(&o->body);
	ams_buf_add(&o->body, res->body, res->body_len);
}

static struct ams_aws *client_for(const char *path)
{
	struct ams_endpoint_config cfg;
	struct ams_aws *aws = NULL;
	struct ams_err err = AMS_ERR_INIT;

	ams_endpoint_config_init(&cfg);
	CHECK_RC(AMS_OK,
		 ams_endpoint_config_set_url(&cfg.override_url,
					     test_server_url(&srv, path),
					     "--endpoint-url", &err),
		 &err);
	CHECK_RC(AMS_OK, ams_aws_new(&aws, engine, &cfg, NULL, &err), &err);
	ams_endpoint_config_release(&cfg);
	return aws;
}

static struct ams_identity *identity_with(const char *akid, const char *token)
{
	struct ams_identity *id = ams_identity_new("test identity");
	struct ams_creds c = AMS_CREDS_INIT;
	struct ams_err err = AMS_ERR_INIT;

	CHECK_RC(
	    AMS_OK,
	    ams_creds_set(&c, akid, SECRET, token, 0, "111122223333", &err),
	    &err);
	ams_identity_set_creds(id, &c);
	ams_creds_release(&c);
	return id;
}

static void run(void)
{
	struct ams_err err = AMS_ERR_INIT;

	CHECK_RC(AMS_OK, ams_http_run(engine, &err), &err);
}

/* The value of header name in an /echo document, or NULL (caller frees). */
static char *echo_header(const struct ams_buf *echo, const char *name)
{
	struct ams_json *doc = NULL;
	const struct ams_json_val *e, *hdrs;
	char *out = NULL;

	if (ams_json_parse(&doc, echo->buf, echo->len, NULL))
		return NULL;
	hdrs = ams_json_at(ams_json_root(doc), "headers");
	for (e = ams_json_child(hdrs); e; e = ams_json_sibling(e)) {
		const char *n = ams_json_str(ams_json_at(e, "[0]"));

		if (n && !strcasecmp(n, name)) {
			out = strdup(ams_json_str(ams_json_at(e, "[1]")));
			break;
		}
	}
	ams_json_free(doc);
	return out;
}

static char *echo_field(const struct ams_buf *echo, const char *field)
{
	struct ams_json *doc = NULL;
	char *out = NULL;

	if (ams_json_parse(&doc, echo->buf, echo->len, NULL))
		return NULL;
	ams_json_get_str(&out, ams_json_root(doc), field, NULL);
	ams_json_free(doc);
	return out;
}

/*
 * Re-signs what the server received, at the time it carried, and checks
 * the Authorization header sent matches: proves the Host, headers and body
 * on the wire are the ones that were signed.
 */
static void check_signature(const struct ams_buf *echo, const char *region,
			    const char *service, const char *token)
{
	static const char *const names[] = { "Content-Type", "Host",
					     "X-Amz-Target" };
	char *vals[ARRAY_SIZE(names)], *date = echo_header(echo, "X-Amz-Date");
	char *auth = echo_header(echo, "Authorization");
	char *body = echo_field(echo, "body");
	char *path = echo_field(echo, "path");
	struct ams_sigv4_header h[ARRAY_SIZE(names)];
	struct ams_sigv4_opts so;
	struct ams_sigv4_result res;
	struct ams_creds c = AMS_CREDS_INIT;
	struct ams_err err = AMS_ERR_INIT;
	size_t i, n = 0;
	time_t t = 0;

	CHECK(date && auth && body && path);
	if (!date || !auth || !body || !path)
		goto out;
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		vals[i] = echo_header(echo, names[i]);
		if (vals[i]) {
			h[n].name = names[i];
			h[n].value = vals[i];
			n++;
		}
	}
	CHECK(ams_clock_parse_iso8601(date, &t));
	ams_creds_set(&c, "AKIDEXAMPLE", SECRET, token, 0, NULL, &err);
	memset(&so, 0, sizeof(so));
	so.method = "POST";
	so.path = path;
	so.headers = h;
	so.nheaders = n;
	so.payload = body;
	so.payload_len = strlen(body);
	so.region = region;
	so.service = service;
	so.now = t;
	so.creds = &c;
	CHECK_RC(AMS_OK, ams_sigv4_sign(&res, &so, &err), &err);
	CHECK_STR_EQ(res.authorization.buf, auth);
	ams_sigv4_result_release(&res);
	ams_creds_release(&c);
	for (i = 0; i < ARRAY_SIZE(names); i++)
		free(vals[i]);
out:
	free(date);
	free(auth);
	free(body);
	free(path);
}

static void test_ec2_call_shape(void)
{
	struct ams_aws *aws = client_for("/echo");
	struct ams_identity *id = identity_with("AKIDEXAMPLE", TOKEN);
	struct ams_aws_call *call;
	struct call_out o = { 0 };
	char *v, host[64];

	call = ams_aws_call_new(aws, AMS_SVC_EC2, "eu-west-1", "DescribeImages",
				id);
	ams_aws_call_param(call, "Owner.1", "self");
	ams_aws_call_paramf(call, "tag:Name", "Filter.%d.Name", 1);
	ams_aws_call_param(call, "Filter.1.Value.1", "golden*");
	ams_aws_call_submit(call, call_done, &o);
	CHECK_INT_EQ(0, o.done);
	run();
	CHECK_INT_EQ(1, o.done);
	CHECK_RC(AMS_OK, o.err.code, &o.err);
	v = echo_field(&o.body, "body");
	CHECK_STR_EQ("Action=DescribeImages&Version=2016-11-15&Owner.1=self&"
		     "Filter.1.Name=tag%3AName&Filter.1.Value.1=golden%2A",
		     v);
	free(v);
	v = echo_field(&o.body, "method");
	CHECK_STR_EQ("POST", v);
	free(v);
	v = echo_field(&o.body, "path");
	CHECK_STR_EQ("/echo", v);
	free(v);
	v = echo_header(&o.body, "Content-Type");
	CHECK_STR_EQ("application/x-www-form-urlencoded; charset=utf-8", v);
	free(v);
	snprintf(host, sizeof(host), "127.0.0.1:%d", srv.port);
	v = echo_header(&o.body, "Host");
	CHECK_STR_EQ(host, v);
	free(v);
	v = echo_header(&o.body, "X-Amz-Security-Token");
	CHECK_STR_EQ(TOKEN, v);
	free(v);
	v = echo_header(&o.body, "Authorization");
	CHECK(v && !strncmp(v, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", 40));
	CHECK(v && strstr(v, "/eu-west-1/ec2/aws4_request, SignedHeaders="
			     "content-type;host;x-amz-date;"
			     "x-amz-security-token, Signature=") != NULL);
	free(v);
	check_signature(&o.body, "eu-west-1", "ec2", TOKEN);
	CHECK(!strncmp(o.rid, "req-", 4));
	ams_buf_release(&o.body);
	ams_identity_free(id);
	ams_aws_free(aws);
}

static void test_json_and_query_shapes(void)
{
	struct ams_aws *aws = client_for("/echo/prefix");
	struct ams_identity *id = identity_with("AKIDEXAMPLE", NULL);
	struct ams_aws_call *call;
	struct call_out a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
	char *v;

	call =
	    ams_aws_call_new(aws, AMS_SVC_KMS, "us-east-1", "DescribeKey", id);
	ams_buf_addstr(ams_aws_call_json(call), "{\"KeyId\":\"alias/x\"}");
	ams_aws_call_param(call, "Ignored", "for JSON");
	ams_aws_call_submit(call, call_done, &a);
	call = ams_aws_call_new(aws, AMS_SVC_ORGANIZATIONS, "eu-west-1",
				"DescribeOrganization", id);
	ams_aws_call_submit(call, call_done, &b);
	call = ams_aws_call_new(aws, AMS_SVC_STS, "eu-west-1",
				"GetCallerIdentity", id);
	ams_aws_call_submit(call, call_done, &c);
	/* unsigned: no Authorization, no X-Amz-Date */
	call = ams_aws_call_new(aws, AMS_SVC_STS, "eu-west-1",
				"AssumeRoleWithWebIdentity", NULL);
	ams_aws_call_param(call, "WebIdentityToken", "eyJhbGciOi.jwt");
	ams_aws_call_submit(call, call_done, &d);
	run();
	CHECK_RC(AMS_OK, a.err.code, &a.err);
	v = echo_header(&a.body, "X-Amz-Target");
	CHECK_STR_EQ("TrentService.DescribeKey", v);
	free(v);
	v = echo_header(&a.body, "Content-Type");
	CHECK_STR_EQ("application/x-amz-json-1.1", v);
	free(v);
	v = echo_field(&a.body, "body");
	CHECK_STR_EQ("{\"KeyId\":\"alias/x\"}", v);
	free(v);
	v = echo_field(&a.body, "path");
	CHECK_STR_EQ("/echo/prefix", v);
	free(v);
	check_signature(&a.body, "us-east-1", "kms", NULL);
	v = echo_header(&a.body, "X-Amz-Security-Token");
	CHECK(v == NULL);
	free(v);
	CHECK_RC(AMS_OK, b.err.code, &b.err);
	v = echo_field(&b.body, "body");
	CHECK_STR_EQ("{}", v);
	free(v);
	v = echo_header(&b.body, "X-Amz-Target");
	CHECK_STR_EQ("AWSOrganizationsV20161128.DescribeOrganization", v);
	free(v);
	/* an override keeps the configured region for Organizations */
	check_signature(&b.body, "eu-west-1", "organizations", NULL);
	CHECK_RC(AMS_OK, c.err.code, &c.err);
	v = echo_field(&c.body, "body");
	CHECK_STR_EQ("Action=GetCallerIdentity&Version=2011-06-15", v);
	free(v);
	check_signature(&c.body, "eu-west-1", "sts", NULL);
	CHECK_RC(AMS_OK, d.err.code, &d.err);
	v = echo_header(&d.body, "Authorization");
	CHECK(v == NULL);
	free(v);
	v = echo_header(&d.body, "X-Amz-Date");
	CHECK(v == NULL);
	free(v);
	v = echo_field(&d.body, "body");
	CHECK_STR_EQ("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&"
		     "WebIdentityToken=eyJhbGciOi.jwt",
		     v);
	free(v);
	ams_buf_release(&a.body);
	ams_buf_release(&b.body);
	ams_buf_release(&c.body);
	ams_buf_release(&d.body);
	ams_identity_free(id);
	ams_aws_free(aws);
}

struct aws_retry_case {
	const char *name;
	const char *path;
	enum ams_service svc;
	const char *action;
	const char *window_code;
	unsigned max_attempts;
	enum ams_code code;
	const char *aws_code;
	long status;
	unsigned attempts;
	const char *rid;
};

static void test_aws_retries(void)
{
	static const struct aws_retry_case cases[] = {
		{ "EC2 RequestLimitExceeded retried to the limit",
		  "/seq/a1/ec2err:RequestLimitExceeded:503", AMS_SVC_EC2,
		  "DescribeImages", NULL, 3, AMS_EAWS, "RequestLimitExceeded",
		  503, 3, "ec2-rid" },
		{ "EC2 throttling then success",
		  "/seq/a2/ec2err:RequestLimitExceeded:503,echo", AMS_SVC_EC2,
		  "CreateTags", NULL, 3, AMS_OK, "", 200, 2, NULL },
		{ "STS AccessDenied not retried",
		  "/seq/a3/stserr:AccessDenied:403", AMS_SVC_STS, "AssumeRole",
		  NULL, 3, AMS_EAWS, "AccessDenied", 403, 1, "sts-rid" },
		{ "STS Throttling (400) retried",
		  "/seq/a4/stserr:Throttling:400,echo", AMS_SVC_STS,
		  "AssumeRole", NULL, 3, AMS_OK, "", 200, 2, NULL },
		{ "STS IDPCommunicationError retried",
		  "/seq/a5/stserr:IDPCommunicationError:400,echo", AMS_SVC_STS,
		  "AssumeRoleWithWebIdentity", NULL, 3, AMS_OK, "", 200, 2,
		  NULL },
		{ "JSON ThrottlingException retried",
		  "/seq/a6/jsonerr:ThrottlingException:400,echo", AMS_SVC_SSM,
		  "PutParameter", NULL, 3, AMS_OK, "", 200, 2, NULL },
		{ "Organizations TooManyRequestsException retried",
		  "/seq/a7/jsonerr:TooManyRequestsException:400",
		  AMS_SVC_ORGANIZATIONS, "ListAccounts", NULL, 2, AMS_EAWS,
		  "TooManyRequestsException", 400, 2, "req-" },
		{ "JSON client error not retried",
		  "/seq/a8/jsonerr:ValidationException:400", AMS_SVC_SSM,
		  "PutParameter", NULL, 3, AMS_EAWS, "ValidationException", 400,
		  1, "req-" },
		{ "DryRunOperation is final",
		  "/seq/a9/ec2err:DryRunOperation:412", AMS_SVC_EC2,
		  "ModifyImageAttribute", NULL, 3, AMS_EAWS, "DryRunOperation",
		  412, 1, "ec2-rid" },
		{ "500 InternalError retried as transient",
		  "/seq/a10/ec2err:InternalError:500,echo", AMS_SVC_EC2,
		  "DescribeImages", NULL, 3, AMS_OK, "", 200, 2, NULL },
		{ "non-AWS 502 retried, then AMS_EHTTP", "/seq/a11/502",
		  AMS_SVC_EC2, "DescribeImages", NULL, 2, AMS_EHTTP, "", 502, 2,
		  "req-" },
		{ "NotFound without a window is final",
		  "/seq/a12/ec2err:InvalidAMIID.NotFound:400,echo", AMS_SVC_EC2,
		  "DescribeImages", NULL, 3, AMS_EAWS, "InvalidAMIID.NotFound",
		  400, 1, "ec2-rid" },
		{ "NotFound inside the window, beyond the budget",
		  "/seq/a13/ec2err:InvalidAMIID.NotFound:400,"
		  "ec2err:InvalidAMIID.NotFound:400,"
		  "ec2err:InvalidAMIID.NotFound:400,echo",
		  AMS_SVC_EC2, "DescribeImages", "InvalidAMIID.NotFound", 2,
		  AMS_OK, "", 200, 4, NULL },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct aws_retry_case *c = &cases[i];
		struct ams_aws *aws;
		struct ams_identity *id = identity_with("AKIDEXAMPLE", NULL);
		struct ams_aws_call *call;
		struct call_out o = { 0 };

		TEST_BEGIN();
		aws = client_for(c->path);
		call =
		    ams_aws_call_new(aws, c->svc, "us-east-1", c->action, id);
		ams_aws_call_set_max_attempts(call, c->max_attempts);
		if (c->window_code)
			ams_aws_call_retry_code(call, c->window_code, 10000);
		ams_aws_call_submit(call, call_done, &o);
		run();
		CHECK_INT_EQ(1, o.done);
		CHECK_INT_EQ(c->code, o.err.code);
		CHECK_STR_EQ(c->aws_code, o.err.aws_code);
		CHECK_INT_EQ(c->status, o.status);
		CHECK_INT_EQ(c->attempts, o.attempts);
		if (c->rid)
			CHECK(!strncmp(o.rid, c->rid, strlen(c->rid)));
		if (c->code)
			CHECK_INT_EQ(c->status, o.err.http_status);
		ams_buf_release(&o.body);
		ams_identity_free(id);
		ams_aws_free(aws);
		TEST_END("aws retry: %s", c->name);
	}
}

/* ---- Credential refresh --------------------------------------------- */

struct refresher {
	struct ams_identity *id;
	const char *new_akid;
	bool fail;
	int calls;
};

static void refresh_fetched(struct ams_http_req *req, void *payload)
{
	struct refresher *r = payload;
	struct ams_creds c = AMS_CREDS_INIT;
	struct ams_err err = AMS_ERR_INIT;

	(void)req;
	if (r->fail) {
		ams_fail(&err, AMS_ECREDS, "web identity token file is empty");
		ams_identity_refresh_done(r->id, NULL, &err);
		return;
	}
	ams_creds_set(&c, r->new_akid, SECRET, NULL, 0, NULL, &err);
	ams_identity_refresh_done(r->id, &c, NULL);
	ams_creds_release(&c);
}

/* Refreshes asynchronously: the credentials "arrive" with an HTTP answer. */
static void refresh_hook(struct ams_identity *id, void *payload)
{
	struct refresher *r = payload;
	struct ams_http_req *req = ams_http_req_new(engine);

	(void)id;
	r->calls++;
	ams_http_req_set_url(req, test_server_url(&srv, "/seq/rf/sleep100"));
	req->done = refresh_fetched;
	req->payload = r;
	ams_http_submit(engine, req);
}

static void test_refresh_once_for_many(void)
{
	struct ams_aws *aws = client_for("/echo");
	struct ams_identity *id = ams_identity_new("role r in 444455556666");
	struct refresher r = { id, "AKIDFRESH", false, 0 };
	struct call_out o[10];
	size_t i;
	int ok = 0;

	memset(o, 0, sizeof(o));
	ams_identity_set_refresh(id, refresh_hook, &r);
	for (i = 0; i < ARRAY_SIZE(o); i++) {
		struct ams_aws_call *call = ams_aws_call_new(
		    aws, AMS_SVC_EC2, "us-east-1", "DescribeImages", id);

		ams_aws_call_submit(call, call_done, &o[i]);
	}
	run();
	for (i = 0; i < ARRAY_SIZE(o); i++) {
		char *auth = echo_header(&o[i].body, "Authorization");

		ok += o[i].err.code == AMS_OK && auth &&
		      strstr(auth, "Credential=AKIDFRESH/");
		free(auth);
		ams_buf_release(&o[i].body);
	}
	CHECK_INT_EQ(10, ok);
	CHECK_INT_EQ(1, r.calls);
	CHECK_INT_EQ(1, ams_identity_refresh_count(id));
	CHECK(!ams_identity_refreshing(id));
	CHECK_STR_EQ("AKIDFRESH", ams_identity_creds(id)->access_key_id);
	ams_identity_free(id);
	ams_aws_free(aws);
}

static void test_refresh_on_expired_token(void)
{
	struct ams_aws *aws =
	    client_for("/seq/exp/stserr:ExpiredToken:403,echo");
	struct ams_identity *id = identity_with("AKIDOLD", TOKEN);
	struct refresher r = { id, "AKIDNEW", false, 0 };
	struct ams_aws_call *call;
	struct call_out o = { 0 };
	char *auth;

	ams_identity_set_refresh(id, refresh_hook, &r);
	call =
	    ams_aws_call_new(aws, AMS_SVC_STS, "us-east-1", "AssumeRole", id);
	ams_aws_call_set_max_attempts(call, 1);
	ams_aws_call_submit(call, call_done, &o);
	run();
	CHECK_RC(AMS_OK, o.err.code, &o.err);
	CHECK_INT_EQ(2, o.attempts);
	CHECK_INT_EQ(1, r.calls);
	auth = echo_header(&o.body, "Authorization");
	CHECK(auth && strstr(auth, "Credential=AKIDNEW/"));
	free(auth);
	/* the new credentials carry no token: none is sent any more */
	auth = echo_header(&o.body, "X-Amz-Security-Token");
	CHECK(auth == NULL);
	free(auth);
	ams_buf_release(&o.body);
	ams_identity_free(id);
	ams_aws_free(aws);
}

static void test_refresh_only_once_per_call(void)
{
	struct ams_aws *aws = client_for("/seq/exp2/stserr:ExpiredToken:403");
	struct ams_identity *id = identity_with("AKIDOLD", NULL);
	struct refresher r = { id, "AKIDNEW", false, 0 };
	struct ams_aws_call *call;
	struct call_out o = { 0 };

	ams_identity_set_refresh(id, refresh_hook, &r);
	call =
	    ams_aws_call_new(aws, AMS_SVC_EC2, "us-east-1", "CreateTags", id);
	ams_aws_call_submit(call, call_done, &o);
	run();
	CHECK_INT_EQ(AMS_EAWS, o.err.code);
	CHECK_STR_EQ("ExpiredToken", o.err.aws_code);
	CHECK_INT_EQ(2, o.attempts);
	CHECK_INT_EQ(1, r.calls);
	ams_buf_release(&o.body);
	ams_identity_free(id);
	ams_aws_free(aws);
}

static void test_refresh_before_expiry(void)
{
	struct ams_aws *aws = client_for("/echo");
	struct ams_identity *id = ams_identity_new("expiring");
	struct refresher r = { id, "AKIDNEXT", false, 0 };
	struct ams_creds c = AMS_CREDS_INIT;
	struct ams_err err = AMS_ERR_INIT;
	struct ams_aws_call *call;
	struct call_out o = { 0 }, p = { 0 };
	char *auth;

	/* expires in 60 s: inside the 5-minute margin */
	ams_creds_set(&c, "AKIDOLD", SECRET, TOKEN, ams_clock_wall() + 60, NULL,
		      &err);
	ams_identity_set_creds(id, &c);
	ams_creds_release(&c);
	ams_identity_set_refresh(id, refresh_hook, &r);
	call =
	    ams_aws_call_new(aws, AMS_SVC_EC2, "us-east-1", "DescribeTags", id);
	ams_aws_call_submit(call, call_done, &o);
	run();
	CHECK_RC(AMS_OK, o.err.code, &o.err);
	CHECK_INT_EQ(1, o.attempts);
	auth = echo_header(&o.body, "Authorization");
	CHECK(auth && strstr(auth, "Credential=AKIDNEXT/"));
	free(auth);
	/* credentials far from expiry are used as they are */
	ams_creds_set(&c, "AKIDLONG", SECRET, NULL, ams_clock_wall() + 3600,
		      NULL, &err);
	ams_identity_set_creds(id, &c);
	ams_creds_release(&c);
	call =
	    ams_aws_call_new(aws, AMS_SVC_EC2, "us-east-1", "DescribeTags", id);
	ams_aws_call_submit(call, call_done, &p);
	run();
	CHECK_INT_EQ(1, r.calls);
	auth = echo_header(&p.body, "Authorization");
	CHECK(auth && strstr(auth, "Credential=AKIDLONG/"));
	free(auth);
	ams_buf_release(&o.body);
	ams_buf_release(&p.body);
	ams_identity_free(id);
	ams_aws_free(aws);
}

static void test_refresh_failure(void)
{
	struct ams_aws *aws = client_for("/echo");
	struct ams_identity *id = ams_identity_new("web identity role");
	struct ams_identity *none = ams_identity_new("nothing configured");
	struct refresher r = { id, NULL, true, 0 };
	struct call_out o[3], q = { 0 };
	size_t i;

	memset(o, 0, sizeof(o));
	ams_identity_set_refresh(id, refresh_hook, &r);
	for (i = 0; i < ARRAY_SIZE(o); i++) {
		struct ams_aws_call *call = ams_aws_call_new(
		    aws, AMS_SVC_EC2, "us-east-1", "DescribeImages", id);

		ams_aws_call_submit(call, call_done, &o[i]);
	}
	ams_aws_call_submit(ams_aws_call_new(aws, AMS_SVC_EC2, "us-east-1",
					     "DescribeImages", none),
			    call_done, &q);
	run();
	for (i = 0; i < ARRAY_SIZE(o); i++) {
		CHECK_INT_EQ(AMS_ECREDS, o[i].err.code);
		CHECK(strstr(o[i].err.msg, "web identity role") != NULL);
		CHECK(strstr(o[i].err.msg, "token file is empty") != NULL);
		CHECK_INT_EQ(0, o[i].attempts);
		ams_buf_release(&o[i].body);
	}
	CHECK_INT_EQ(1, r.calls);
	CHECK_INT_EQ(AMS_ECREDS, q.err.code);
	CHECK(strstr(q.err.msg, "no credentials for nothing configured") !=
	      NULL);
	ams_buf_release(&q.body);
	ams_identity_free(id);
	ams_identity_free(none);
	ams_aws_free(aws);
}

/* A provider that cannot renew: hands back what the identity holds. */
static void same_creds_hook(struct ams_identity *id, void *payload)
{
	(*(int *)payload)++;
	ams_identity_refresh_done(id, ams_identity_creds(id), NULL);
}

/* Hands out credentials that live 20 s: shorter than the 5-minute margin. */
static void short_lived_hook(struct ams_identity *id, void *payload)
{
	int *calls = payload;
	struct ams_creds c = AMS_CREDS_INIT;
	struct ams_err err = AMS_ERR_INIT;

	(*calls)++;
	ams_creds_set(&c, "AKIDSHORT", SECRET, TOKEN, ams_clock_wall() + 20,
		      NULL, &err);
	ams_identity_refresh_done(id, &c, NULL);
	ams_creds_release(&c);
}

static void test_short_lived_refresh_not_repeated(void)
{
	struct ams_aws *aws = client_for("/echo");
	struct ams_identity *id = ams_identity_new("short role");
	struct call_out o[3];
	int calls = 0;
	size_t i;

	memset(o, 0, sizeof(o));
	ams_identity_set_refresh(id, short_lived_hook, &calls);
	for (i = 0; i < ARRAY_SIZE(o); i++) {
		ams_aws_call_submit(ams_aws_call_new(aws, AMS_SVC_EC2,
						     "us-east-1",
						     "DescribeImages", id),
				    call_done, &o[i]);
		run();
		CHECK_RC(AMS_OK, o[i].err.code, &o[i].err);
	}
	/* One fetch: they are used for half their life, not refetched. */
	CHECK_INT_EQ(1, calls);
	for (i = 0; i < ARRAY_SIZE(o); i++)
		ams_buf_release(&o[i].body);
	ams_identity_free(id);
	ams_aws_free(aws);
}

static void test_refresh_synchronous_same_creds(void)
{
	struct ams_aws *aws = client_for("/echo");
	struct ams_identity *id = ams_identity_new("static keys");
	struct ams_creds c = AMS_CREDS_INIT;
	struct ams_err err = AMS_ERR_INIT;
	struct call_out o = { 0 };
	int calls = 0;
	char *auth;

	ams_creds_set(&c, "AKIDSTATIC", SECRET, TOKEN, ams_clock_wall() + 30,
		      NULL, &err);
	ams_identity_set_creds(id, &c);
	ams_creds_release(&c);
	ams_identity_set_refresh(id, same_creds_hook, &calls);
	ams_aws_call_submit(ams_aws_call_new(aws, AMS_SVC_EC2, "us-east-1",
					     "DescribeImages", id),
			    call_done, &o);
	run();
	CHECK_RC(AMS_OK, o.err.code, &o.err);
	CHECK_INT_EQ(1, calls);
	CHECK(!ams_identity_refreshing(id));
	auth = echo_header(&o.body, "Authorization");
	CHECK(auth && strstr(auth, "Credential=AKIDSTATIC/"));
	free(auth);
	CHECK_STR_EQ("AKIDSTATIC", ams_identity_creds(id)->access_key_id);
	ams_buf_release(&o.body);
	ams_identity_free(id);
	ams_aws_free(aws);
}

static void test_bad_region_async(void)
{
	struct ams_aws *aws = client_for("/echo");
	struct ams_identity *id = identity_with("AKIDEXAMPLE", NULL);
	struct call_out o = { 0 };
	const struct ams_endpoint *e1 = NULL, *e2 = NULL;
	struct ams_err err = AMS_ERR_INIT;

	ams_aws_call_submit(ams_aws_call_new(aws, AMS_SVC_EC2, "mars-north-1",
					     "DescribeImages", id),
			    call_done, &o);
	CHECK_INT_EQ(0, o.done);
	run();
	CHECK_INT_EQ(1, o.done);
	CHECK_INT_EQ(AMS_EUSAGE, o.err.code);
	CHECK(strstr(o.err.msg, "'mars-north-1'") != NULL);
	CHECK_INT_EQ(0, o.attempts);
	CHECK_RC(AMS_OK,
		 ams_aws_endpoint(&e1, aws, AMS_SVC_SSM, "eu-west-1", &err),
		 &err);
	CHECK_RC(AMS_OK,
		 ams_aws_endpoint(&e2, aws, AMS_SVC_SSM, "eu-west-1", &err),
		 &err);
	CHECK(e1 != NULL && e1 == e2);
	ams_buf_release(&o.body);
	ams_identity_free(id);
	ams_aws_free(aws);
}

static void test_rate_limit(void)
{
	struct ams_aws *aws = client_for("/status/200");
	struct ams_identity *id = identity_with("AKIDEXAMPLE", NULL);
	struct call_out o[12];
	uint64_t t0, elapsed;
	size_t i;
	int ok = 0;

	memset(o, 0, sizeof(o));
	t0 = ams_clock_mono_ms();
	for (i = 0; i < ARRAY_SIZE(o); i++) {
		struct ams_aws_call *call = ams_aws_call_new(
		    aws, AMS_SVC_EC2, "us-east-1", "CopyImage", id);

		ams_aws_call_set_rate(call, "CopyImage", 2, 10);
		ams_aws_call_submit(call, call_done, &o[i]);
	}
	run();
	elapsed = ams_clock_mono_ms() - t0;
	for (i = 0; i < ARRAY_SIZE(o); i++) {
		ok += o[i].err.code == AMS_OK;
		ams_buf_release(&o[i].body);
	}
	CHECK_INT_EQ(12, ok);
	/* (12 - 2) / 10 per second */
	CHECK(elapsed >= 1000);
	CHECK(elapsed < 1800);
	ams_identity_free(id);
	ams_aws_free(aws);
}

static void test_debug_log_has_no_secrets(void)
{
	struct ams_aws *aws = client_for("/echo");
	struct ams_identity *id = identity_with("AKIDEXAMPLE", TOKEN);
	struct call_out o = { 0 }, p = { 0 };
	struct ams_aws_call *call;
	FILE *log = tmpfile();
	struct ams_buf text = AMS_BUF_INIT;
	char buf[4096];
	size_t n;

	CHECK(log != NULL);
	if (!log)
		return;
	ams_log_set_stream(log);
	ams_log_set_level(AMS_LOG_DEBUG);
	call =
	    ams_aws_call_new(aws, AMS_SVC_STS, "us-east-1", "AssumeRole", id);
	ams_aws_call_param(call, "RoleArn", "arn:aws:iam::1:role/x");
	ams_aws_call_submit(call, call_done, &o);
	call = ams_aws_call_new(aws, AMS_SVC_STS, "us-east-1",
				"AssumeRoleWithWebIdentity", NULL);
	ams_aws_call_param(call, "WebIdentityToken", "eyJraWQiOiJwrivate.jwt");
	ams_aws_call_submit(call, call_done, &p);
	run();
	ams_log_set_level(AMS_LOG_INFO);
	ams_log_set_stream(NULL);
	rewind(log);
	while ((n = fread(buf, 1, sizeof(buf), log)) > 0)
		ams_buf_add(&text, buf, n);
	fclose(log);
	CHECK(strstr(text.buf, "aws: > POST") != NULL);
	CHECK(strstr(text.buf, "aws: < 200") != NULL);
	CHECK(strstr(text.buf, "RoleArn=") != NULL);
	CHECK(!strstr(text.buf, "FQoGZXIvYXdz"));
	CHECK(!strstr(text.buf, "wJalrXUtnFEMI"));
	CHECK(!strstr(text.buf, "eyJraWQiOiJwrivate"));
	/* request headers: the signature is masked (it could be replayed) */
	CHECK(strstr(text.buf, "Authorization: [masked]") != NULL);
	CHECK(strstr(text.buf, "X-Amz-Security-Token: [masked]") != NULL);
	ams_buf_release(&text);
	ams_buf_release(&o.body);
	ams_buf_release(&p.body);
	ams_identity_free(id);
	ams_aws_free(aws);
}

int main(void)
{
	struct ams_http_opts o;
	struct ams_err err = AMS_ERR_INIT;

	TEST(test_empty_error_body, "empty and non-AWS error bodies");
	test_error_envelopes();
	TEST(test_code_classes, "retry classes of AWS error codes");
	TEST(test_ec2_buckets, "EC2 buckets and protocol tables");
	TEST(test_masking, "debug masking of headers and bodies");

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (test_server_start(&srv)) {
		printf("not ok %d - scripted server started\n",
		       harness_points + 1);
		harness_points++;
		harness_failed_points++;
		return test_done();
	}
	ams_http_opts_init(&o);
	o.seed = 1;
	o.backoff_base_ms = 20;
	o.backoff_cap_ms = 80;
	o.window_base_ms = 20;
	o.window_cap_ms = 60;
	if (ams_http_new(&engine, &o, &err)) {
		printf("# %s\n", err.msg);
		return 1;
	}
	TEST(test_ec2_call_shape, "EC2 call: form body, headers, signature");
	TEST(test_json_and_query_shapes,
	     "JSON 1.1, query and unsigned calls on the wire");
	test_aws_retries();
	TEST(test_refresh_once_for_many, "one refresh serves many calls");
	TEST(test_refresh_on_expired_token, "ExpiredToken refreshes once");
	TEST(test_refresh_only_once_per_call, "a second ExpiredToken is final");
	TEST(test_refresh_before_expiry, "refresh within the expiry margin");
	TEST(test_short_lived_refresh_not_repeated,
	     "short-lived credentials are not fetched again at every call");
	TEST(test_refresh_failure, "refresh failure fails waiting calls");
	TEST(test_refresh_synchronous_same_creds,
	     "a refresh may finish at once with the same credentials");
	TEST(test_bad_region_async, "invalid region fails through done");
	TEST(test_rate_limit, "client-side bucket paces calls");
	TEST(test_debug_log_has_no_secrets, "debug log masks secrets");
	ams_http_free(engine);
	test_server_stop(&srv);
	curl_global_cleanup();
	return test_done();
}
