/*
 * Fuzz target: the STS response parsers (sts.h) and the caller identity
 * parser of the credential chain (creds.h). Besides memory safety, it
 * checks the promise that error messages never hold a credential: the
 * secret key and session token of the input never appear in one.
 */
#include "creds.h"
#include "fuzz.h"
#include "log.h"
#include "sts.h"

#include <stdlib.h>

/*
 * The text of the first <name>...</name> when it has no markup, looks
 * like a credential and occurs once in the input, else NULL.
 */
static char *element_text(const char *p, size_t n, const char *name)
{
	char *open = xasprintf("<%s>", name);
	char *close = xasprintf("</%s>", name);
	char *doc = fuzz_cstr((const uint8_t *)p, n);
	char *s = strstr(doc, open), *e, *out = NULL;

	if (s) {
		s += strlen(open);
		e = strstr(s, close);
		if (e && !memchr(s, '<', (size_t)(e - s)) &&
		    !memchr(s, '&', (size_t)(e - s)))
			out = xstrndup(s, (size_t)(e - s));
		if (out &&
		    (!fuzz_secret_like(out) || !fuzz_occurs_once(p, n, out))) {
			free(out);
			out = NULL;
		}
	}
	free(doc);
	free(open);
	free(close);
	return out;
}

static void no_secret(const struct ams_err *err, const char *secret)
{
	if (err->code && secret)
		FUZZ_ASSERT(!strstr(err->msg, secret));
}

static void check(enum ams_code rc, const struct ams_err *err,
		  const char *secret, const char *token)
{
	if (rc)
		FUZZ_ASSERT(err->code == rc && err->msg[0]);
	no_secret(err, secret);
	no_secret(err, token);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = fuzz_copy(data, size);
	char *secret = element_text(p, size, "SecretAccessKey");
	char *token = element_text(p, size, "SessionToken");
	struct ams_sts_session s;
	struct ams_sts_caller c;
	struct ams_creds_caller cc;
	struct ams_err err = AMS_ERR_INIT;
	enum ams_code rc;

	rc = ams_sts_parse_assume_role(&s, p, size, &err);
	check(rc, &err, secret, token);
	if (!rc)
		ams_sts_session_release(&s);

	ams_err_clear(&err);
	rc = ams_sts_parse_assume_role_with_web_identity(&s, p, size, &err);
	check(rc, &err, secret, token);
	if (!rc)
		ams_sts_session_release(&s);

	ams_err_clear(&err);
	rc = ams_sts_parse_get_caller_identity(&c, p, size, &err);
	check(rc, &err, secret, token);
	if (!rc) {
		FUZZ_ASSERT(c.account && strlen(c.account) == 12);
		ams_sts_caller_release(&c);
	}

	ams_err_clear(&err);
	memset(&cc, 0, sizeof(cc));
	rc = ams_creds_parse_caller(&cc, p, size, &err);
	check(rc, &err, secret, token);
	if (!rc)
		ams_creds_caller_release(&cc);

	free(secret);
	free(token);
	free(p);
	ams_log_forget_secrets();
	return 0;
}
