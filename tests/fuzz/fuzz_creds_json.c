/*
 * Fuzz target: credential documents from outside the process: the
 * credential_process output and the IMDS / container endpoint JSON
 * (creds.h). Errors must never quote a credential.
 */
#include "creds.h"
#include "fuzz.h"
#include "json.h"
#include "log.h"
#include "sigv4.h"

#include <stdlib.h>

/*
 * The string member name of the top-level object when it looks like a
 * credential and occurs once in the input, else NULL.
 */
static char *member(const char *p, size_t n, const char *name)
{
	struct ams_json *doc = NULL;
	struct ams_err err = AMS_ERR_INIT;
	const char *s;
	char *out = NULL;

	if (ams_json_parse(&doc, p, n, &err))
		return NULL;
	s = ams_json_str(ams_json_member(ams_json_root(doc), name));
	if (fuzz_secret_like(s) && fuzz_occurs_once(p, n, s))
		out = xstrdup(s);
	ams_json_free(doc);
	return out;
}

static void check(enum ams_code rc, const struct ams_err *err,
		  const char *secret, const char *token)
{
	if (!rc)
		return;
	FUZZ_ASSERT(err->code == rc && err->msg[0]);
	if (secret)
		FUZZ_ASSERT(!strstr(err->msg, secret));
	if (token)
		FUZZ_ASSERT(!strstr(err->msg, token));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = fuzz_copy(data, size);
	char *secret = member(p, size, "SecretAccessKey");
	char *token = member(p, size, "Token");
	char *stoken = member(p, size, "SessionToken");
	struct ams_creds c = AMS_CREDS_INIT;
	struct ams_err err = AMS_ERR_INIT;
	enum ams_code rc;

	rc = ams_creds_parse_process(&c, p, size, &err);
	check(rc, &err, secret, stoken);
	if (!rc)
		FUZZ_ASSERT(c.access_key_id && c.secret_access_key);
	ams_creds_release(&c);

	ams_err_clear(&err);
	rc = ams_creds_parse_metadata(&c, p, size, "fuzz", &err);
	check(rc, &err, secret, token);
	if (!rc)
		FUZZ_ASSERT(c.access_key_id && c.secret_access_key);
	ams_creds_release(&c);

	free(secret);
	free(token);
	free(stoken);
	free(p);
	ams_log_forget_secrets();
	return 0;
}
