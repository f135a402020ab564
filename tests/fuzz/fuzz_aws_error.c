/*
 * Fuzz target: AWS error documents (ams_aws_parse_error in aws.h) in the
 * three protocols, their retry class, and the debug-log masking of
 * response bodies. Properties: every answer becomes an error with a
 * message; a non-AWS body is quoted as printable ASCII only; a secret key
 * that occurs once in a body never survives masking.
 */
#include "aws.h"
#include "fuzz.h"
#include "log.h"

#include <stdlib.h>

static const char *const fields[] = {
	"SecretAccessKey",
	"SessionToken",
	"Token",
};

/* The value of the first <field>value</field>, if it occurs only once. */
static char *lone_secret(const char *doc, const char *field)
{
	char *open = xasprintf("<%s>", field), *out = NULL;
	const char *s = strstr(doc, open), *e;

	if (s) {
		s += strlen(open);
		e = strchr(s, '<');
		if (e && e - s >= 8) {
			out = xstrndup(s, (size_t)(e - s));
			/* Appearing elsewhere, it may legitimately show. */
			if (strstr(strstr(doc, out) + 1, out) ||
			    strpbrk(out, "&\"'\\,;= \t\r\n")) {
				free(out);
				out = NULL;
			}
		}
	}
	free(open);
	return out;
}

static void masking(const uint8_t *data, size_t size)
{
	char *doc = fuzz_cstr(data, size);
	struct ams_buf out = AMS_BUF_INIT;
	size_t i;

	if (strlen(doc) != size) {
		free(doc);
		return;
	}
	ams_aws_mask_body(&out, doc, size);
	for (i = 0; i < ARRAY_SIZE(fields); i++) {
		char *secret = lone_secret(doc, fields[i]);

		if (secret)
			FUZZ_ASSERT(!strstr(out.buf ? out.buf : "", secret));
		free(secret);
	}
	ams_buf_release(&out);
	free(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum ams_aws_protocol protos[] = {
		AMS_AWS_PROTO_EC2,
		AMS_AWS_PROTO_QUERY,
		AMS_AWS_PROTO_JSON,
	};
	static const long statuses[] = { 400, 403, 500, 503 };
	char *p = fuzz_copy(data, size);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(protos); i++) {
		struct ams_err err = AMS_ERR_INIT;
		enum ams_code rc = ams_aws_parse_error(
		    &err, protos[i],
		    statuses[(size + i) % ARRAY_SIZE(statuses)], p, size,
		    i == 1 ? "hdr-request-id" : NULL);
		const char *c;

		FUZZ_ASSERT(rc == AMS_EAWS || rc == AMS_EHTTP);
		FUZZ_ASSERT(err.code == rc && err.msg[0]);
		if (rc == AMS_EAWS) {
			FUZZ_ASSERT(err.aws_code[0]);
			(void)ams_aws_code_retry(err.aws_code);
			(void)ams_aws_code_is_expired(err.aws_code);
		} else {
			for (c = err.msg; *c; c++)
				FUZZ_ASSERT(*c >= 0x20 && *c < 0x7f);
		}
	}
	free(p);
	masking(data, size);
	ams_log_forget_secrets();
	return 0;
}
