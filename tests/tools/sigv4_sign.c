/*
 * sigv4_sign: signs requests read as JSON lines on stdin with amishare's
 * signer and prints one result line per request, so an oracle (botocore,
 * tests/unit/t_sigv4_botocore.py) can compare many signatures through one
 * process.
 *
 * Input, one JSON object per line:
 *   {"method": "POST", "url": "https://host:port/path?query",
 *    "headers": [["Name", "value"], ...],
 *    "body": "text" | "body_hex": "00ff..." |
 *    "form": [["Name", "value"], ...] (body built by ams_uri_form_add),
 *    "payload_hash": "..." (optional, used instead of hashing the body),
 *    "region": "us-east-1", "service": "ec2", "time": 1736942400,
 *    "access_key": "...", "secret_key": "...", "token": "..." (optional),
 *    "omit_token": false, "no_normalize": false, "content_sha256": false}
 *
 * The Host header comes from the URL (ams_uri_host_header) unless the
 * headers hold one. Output: the Authorization value per line, or with
 * --json one object per line holding every stage; a request that fails
 * prints "ERROR <code>: <message>" (with --json {"error": ...}).
 * Exit status 0 unless the input could not be read as JSON.
 */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "sigv4.h"
#include "uri.h"

struct line_req {
	struct ams_sigv4_header *headers;
	size_t nheaders;
	struct ams_buf body;
	struct ams_buf host;
	struct ams_uri uri;
	struct ams_creds creds;
};

static const char *jstr(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int jbool(const cJSON *obj, const char *name)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, name));
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static enum ams_code read_body(struct ams_buf *body, const cJSON *req,
			       struct ams_err *err)
{
	const char *text = jstr(req, "body"), *hex = jstr(req, "body_hex");
	const cJSON *form = cJSON_GetObjectItemCaseSensitive(req, "form");
	const cJSON *pair;
	size_t i;

	if (text)
		ams_buf_addstr(body, text);
	cJSON_ArrayForEach(pair, form)
	{
		const cJSON *name = cJSON_GetArrayItem(pair, 0);
		const cJSON *value = cJSON_GetArrayItem(pair, 1);

		if (!cJSON_IsString(name) || !cJSON_IsString(value))
			return ams_fail(err, AMS_EUSAGE,
					"form: expected [name, value] pairs");
		ams_uri_form_add(body, name->valuestring, value->valuestring);
	}
	if (!hex)
		return AMS_OK;
	for (i = 0; hex[i] && hex[i + 1]; i += 2) {
		int hi = hexval(hex[i]), lo = hexval(hex[i + 1]);

		if (hi < 0 || lo < 0)
			return ams_fail(err, AMS_EUSAGE, "bad body_hex");
		ams_buf_addch(body, hi << 4 | lo);
	}
	if (hex[i])
		return ams_fail(err, AMS_EUSAGE, "odd body_hex length");
	return AMS_OK;
}

static enum ams_code read_headers(struct line_req *lr, const cJSON *req,
				  struct ams_err *err)
{
	const cJSON *hs = cJSON_GetObjectItemCaseSensitive(req, "headers");
	const cJSON *h;
	size_t n = 0;

	if (!hs)
		return AMS_OK;
	if (!cJSON_IsArray(hs))
		return ams_fail(err, AMS_EUSAGE, "headers: expected array");
	lr->headers =
	    xcalloc((size_t)cJSON_GetArraySize(hs) + 1, sizeof(*lr->headers));
	cJSON_ArrayForEach(h, hs)
	{
		const cJSON *name = cJSON_GetArrayItem(h, 0);
		const cJSON *value = cJSON_GetArrayItem(h, 1);

		if (!cJSON_IsString(name) || !cJSON_IsString(value))
			return ams_fail(err, AMS_EUSAGE,
					"headers[%zu]: expected [name, value]",
					n);
		lr->headers[n].name = name->valuestring;
		lr->headers[n].value = value->valuestring;
		n++;
	}
	lr->nheaders = n;
	return AMS_OK;
}

static int has_host(const struct line_req *lr)
{
	size_t i;

	for (i = 0; i < lr->nheaders; i++)
		if (!strcasecmp(lr->headers[i].name, "host"))
			return 1;
	return 0;
}

static enum ams_code sign_line(struct ams_sigv4_result *res,
			       struct line_req *lr, const cJSON *req,
			       struct ams_err *err)
{
	struct ams_sigv4_opts o;
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(req, "time");
	enum ams_code rc;

	memset(&o, 0, sizeof(o));
	rc = ams_uri_parse(&lr->uri, jstr(req, "url"), err);
	if (!rc)
		rc = read_headers(lr, req, err);
	if (!rc)
		rc = read_body(&lr->body, req, err);
	if (!rc)
		rc = ams_creds_set(&lr->creds, jstr(req, "access_key"),
				   jstr(req, "secret_key"), jstr(req, "token"),
				   0, NULL, err);
	if (rc)
		return rc;
	if (!cJSON_IsNumber(t))
		return ams_fail(err, AMS_EUSAGE, "time: expected number");
	ams_uri_host_header(&lr->host, &lr->uri);
	o.method = jstr(req, "method");
	o.path = lr->uri.path;
	o.query = lr->uri.query;
	o.headers = lr->headers;
	o.nheaders = lr->nheaders;
	o.host = has_host(lr) ? NULL : lr->host.buf;
	o.payload = lr->body.buf;
	o.payload_len = lr->body.len;
	o.payload_hash = jstr(req, "payload_hash");
	o.region = jstr(req, "region");
	o.service = jstr(req, "service");
	o.now = (time_t)t->valuedouble;
	o.creds = &lr->creds;
	if (jbool(req, "omit_token"))
		o.flags |= AMS_SIGV4_OMIT_SESSION_TOKEN;
	if (jbool(req, "no_normalize"))
		o.flags |= AMS_SIGV4_NO_NORMALIZE_PATH;
	if (jbool(req, "content_sha256"))
		o.flags |= AMS_SIGV4_CONTENT_SHA256;
	return ams_sigv4_sign(res, &o, err);
}

static void print_json(const struct ams_sigv4_result *res,
		       const struct ams_err *err, enum ams_code rc)
{
	struct ams_buf out = AMS_BUF_INIT;

	if (rc) {
		ams_buf_addstr(&out, "{\"error\": ");
		ams_buf_add_json_str(&out, err->msg);
	} else {
		ams_buf_addstr(&out, "{\"authorization\": ");
		ams_buf_add_json_str(&out, res->authorization.buf);
		ams_buf_addstr(&out, ", \"canonical_request\": ");
		ams_buf_add_json_str(&out, res->canonical_request.buf);
		ams_buf_addstr(&out, ", \"string_to_sign\": ");
		ams_buf_add_json_str(&out, res->string_to_sign.buf);
	}
	ams_buf_addstr(&out, "}\n");
	fwrite(out.buf, 1, out.len, stdout);
	ams_buf_release(&out);
}

static void release_line(struct line_req *lr)
{
	free(lr->headers);
	ams_buf_release(&lr->body);
	ams_buf_release(&lr->host);
	ams_uri_release(&lr->uri);
	ams_creds_release(&lr->creds);
}

int main(int argc, char **argv)
{
	int json = argc > 1 && !strcmp(argv[1], "--json");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int status = 0;

	for (;;) {
		struct line_req lr = { NULL,	     0,
				       AMS_BUF_INIT, AMS_BUF_INIT,
				       AMS_URI_INIT, AMS_CREDS_INIT };
		struct ams_sigv4_result res;
		struct ams_err err = AMS_ERR_INIT;
		enum ams_code rc;
		cJSON *req;

		len = getline(&line, &cap, stdin);
		if (len <= 0)
			break;
		req = cJSON_ParseWithLength(line, (size_t)len);
		if (!req) {
			fprintf(stderr, "sigv4_sign: invalid JSON line\n");
			status = 2;
			break;
		}
		rc = sign_line(&res, &lr, req, &err);
		if (json)
			print_json(&res, &err, rc);
		else if (rc)
			printf("ERROR %s: %s\n", ams_code_name(rc), err.msg);
		else
			printf("%s\n", res.authorization.buf);
		if (!rc)
			ams_sigv4_result_release(&res);
		release_line(&lr);
		cJSON_Delete(req);
	}
	free(line);
	fflush(stdout);
	return status;
}
