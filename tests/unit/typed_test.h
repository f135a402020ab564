/*
 * Helpers shared by the unit tests of the typed AWS calls (t_ec2, t_sts,
 * t_kms, t_ssm, t_orgs): documents as the (body, len) pair the parsers
 * take, request parameters written as a form body, borrowed tags, long
 * strings, redaction probes and a runner for validator tables. Fixture
 * files come from tests/lib/test_fixture.h. Everything is static inline,
 * so each test uses only what it needs.
 */
#ifndef AMS_TYPED_TEST_H
#define AMS_TYPED_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../lib/test_fixture.h"
#include "buf.h"
#include "err.h"
#include "harness.h"
#include "log.h"
#include "tags.h"
#include "uri.h"

/* A string literal as the (body, len) pair the parsers take. */
#define LIT(s) (s), strlen(s)

/*
 * A parameter callback (ams_ec2_param_fn, ams_sts_param_fn) writing a
 * form body into the struct ams_buf payload, as the aws layer does.
 */
static inline void to_form(void *payload, const char *name, const char *value)
{
	ams_uri_form_add(payload, name, value);
}

/* A tag borrowing k and v: the builders only read them. */
static inline struct ams_tag tag(const char *k, const char *v)
{
	struct ams_tag t;

	t.key = (char *)(uintptr_t)k;
	t.value = (char *)(uintptr_t)v;
	return t;
}

/* unit written times over; the caller frees it. */
static inline char *repeat(const char *unit, size_t times)
{
	struct ams_buf sb = AMS_BUF_INIT;
	size_t i;

	for (i = 0; i < times; i++)
		ams_buf_addstr(&sb, unit);
	return ams_buf_detach(&sb, NULL);
}

/* Whether redaction hides s (it is a registered secret). */
static inline bool redacted(const char *s)
{
	struct ams_buf sb = AMS_BUF_INIT;
	bool hidden;

	ams_buf_addstr(&sb, s);
	ams_redact(&sb);
	hidden = strstr(sb.buf, s) == NULL;
	ams_buf_release(&sb);
	return hidden;
}

/* A validator case: the input and whether it is valid. */
struct id_case {
	const char *s;
	int ok;
};

/*
 * Runs check over the cases: a valid input passes with no message, an
 * invalid one fails with AMS_EUSAGE and a message; NULL is refused. what
 * names the kind of input in the diagnostics.
 */
static inline void run_id_cases(const struct id_case *cases, size_t n,
				enum ams_code (*check)(const char *s,
						       struct ams_err *err),
				const char *what)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct ams_err err = AMS_ERR_INIT;
		enum ams_code rc = check(cases[i].s, &err);

		if ((rc == AMS_OK) != cases[i].ok)
			printf("# %s case %zu '%s': %s\n", what, i, cases[i].s,
			       err.msg);
		CHECK((rc == AMS_OK) == cases[i].ok);
		CHECK(rc == AMS_OK || rc == AMS_EUSAGE);
		CHECK((rc == AMS_OK) == (err.msg[0] == '\0'));
	}
	CHECK_RC(AMS_EUSAGE, check(NULL, NULL), NULL);
}

#endif
