/*
 * Unit tests for the STS module: role ARN and session name validators,
 * the AssumeRole and AssumeRoleWithWebIdentity builders (compared with
 * the documented request bodies) and the pure parsers, on fixture
 * documents in tests/fixtures/sts shaped like AWS's answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "err.h"
#include "harness.h"
#include "sts.h"
#include "typed_test.h"
#include "uri.h"
#include "xmem.h"

static char *load(const char *name, size_t *len)
{
	return test_fixture_load(len, "sts", name);
}

/* ---- Validators ---------------------------------------------------- */

static void test_role_arns(void)
{
	char *long_name = repeat("r", 65), *ok_name = repeat("r", 64);
	char *long_path = repeat("p", 2048);
	char *arn65 = xasprintf("arn:aws:iam::123456789012:role/%s", long_name);
	char *arn64 = xasprintf("arn:aws:iam::123456789012:role/%s", ok_name);
	char *arn_long =
	    xasprintf("arn:aws:iam::123456789012:role/%s/x", long_path);
	const struct id_case cases[] = {
		{ "arn:aws:iam::444455556666:role/ami-publisher", 1 },
		{ "arn:aws-cn:iam::123456789012:role/x", 1 },
		{ "arn:aws-us-gov:iam::123456789012:role/a/b/Role_1+=,.@-", 1 },
		{ "arn:aws:iam::123456789012:role/service-role/x", 1 },
		{ arn64, 1 },
		{ arn65, 0 },
		{ arn_long, 0 },
		{ "", 0 },
		{ "ami-publisher", 0 },
		{ "arn:aws:iam::12345678901:role/x", 0 },
		{ "arn:aws:iam::1234567890123:role/x", 0 },
		{ "arn:aws:sts::123456789012:role/x", 0 },
		{ "arn:aws:iam::123456789012:user/x", 0 },
		{ "arn:aws:iam::123456789012:role/", 0 },
		{ "arn:aws:iam::123456789012:role/a/b/", 0 },
		{ "arn:aws:iam::123456789012:role/bad name", 0 },
		{ "arn:aws:iam::123456789012:role/na*me", 0 },
		{ "arn:aws:iam::123456789012:role/p\xc3\xa9/x", 0 },
		{ "arn:aws-xx:iam::123456789012:role/x", 0 },
		{ "arn:aws:iam:us-east-1:123456789012:role/x", 0 },
		{ "arn:aws:iamx::123456789012:role/x", 0 },
		{ "arn:aws:iam::123456789012:rolex/x", 0 },
	};
	struct ams_err err = AMS_ERR_INIT;

	run_id_cases(cases, ARRAY_SIZE(cases), ams_sts_check_role_arn,
		     "role ARN");
	CHECK_RC(AMS_EUSAGE, ams_sts_check_role_arn(NULL, &err), &err);
	ams_err_clear(&err);
	CHECK_RC(AMS_EUSAGE,
		 ams_sts_check_role_arn("arn:aws:iam::123:role/x-longer", &err),
		 &err);
	CHECK(strstr(err.msg, "12 digits") != NULL);
	free(long_name);
	free(ok_name);
	free(long_path);
	free(arn65);
	free(arn64);
	free(arn_long);
}

static void test_session_names(void)
{
	char *n64 = repeat("s", 64), *n65 = repeat("s", 65);
	const struct id_case cases[] = {
		{ "ci-build-42", 1 },
		{ "ab", 1 },
		{ "user@example.com", 1 },
		{ "x,y=z+w.v_u-t", 1 },
		{ n64, 1 },
		{ n65, 0 },
		{ "a", 0 },
		{ "", 0 },
		{ "a b", 0 },
		{ "a/b", 0 },
		{ "a:b", 0 },
		{ "\xc3\xa9t\xc3\xa9", 0 },
	};
	struct ams_err err = AMS_ERR_INIT;

	run_id_cases(cases, ARRAY_SIZE(cases), ams_sts_check_session_name,
		     "session name");
	CHECK_RC(AMS_EUSAGE, ams_sts_check_session_name("a b", &err), &err);
	CHECK(strstr(err.msg, "'a b'") != NULL);
	free(n64);
	free(n65);
}

static void test_arn_account(void)
{
	static const struct {
		const char *arn;
		const char *account;
	} cases[] = {
		{ "arn:aws:iam::444455556666:role/x", "444455556666" },
		{ "arn:aws:sts::123456789012:assumed-role/demo/TestAR",
		  "123456789012" },
		{ "arn:aws-cn:iam::111122223333:user/builder", "111122223333" },
		{ "arn:aws:kms:us-east-1:123456789012:key/k", "123456789012" },
		{ "arn:aws:iam::12345678901:role/x", "" },
		{ "arn:aws:iam::1234567890123:role/x", "" },
		{ "arn:aws:iam::", "" },
		{ "nonsense", "" },
		{ "", "" },
	};
	char out[13];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		bool ok = ams_sts_arn_account(out, cases[i].arn);

		CHECK(ok == (*cases[i].account != '\0'));
		CHECK_STR_EQ(cases[i].account, out);
	}
	CHECK(!ams_sts_arn_account(out, NULL));
}

/* ---- Builders ------------------------------------------------------ */

static void test_build_assume_role_doc(void)
{
	static const char *const transitive[] = { "project" };
	struct ams_tag tags[1];
	struct ams_sts_assume_role_req req = { 0 };
	struct ams_buf body = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;

	tags[0] = tag("project", "ami");
	req.role_arn = "arn:aws:iam::444455556666:role/ami-publisher";
	req.session_name = "ci-build-42";
	req.duration_s = 3600;
	req.external_id = "ext-123";
	req.tags = tags;
	req.ntags = 1;
	req.transitive_tag_keys = transitive;
	req.ntransitive_tag_keys = 1;
	ams_uri_form_add(&body, "Action", AMS_STS_ASSUME_ROLE);
	ams_uri_form_add(&body, "Version", "2011-06-15");
	CHECK_RC(AMS_OK, ams_sts_build_assume_role(&req, to_form, &body, &err),
		 &err);
	/* aws-behaviour.md §9.1 (test vector C's body, 254 bytes). */
	CHECK_STR_EQ(
	    "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3A"
	    "iam%3A%3A444455556666%3Arole%2Fami-publisher&"
	    "RoleSessionName=ci-build-42&DurationSeconds=3600&"
	    "ExternalId=ext-123&Tags.member.1.Key=project&"
	    "Tags.member.1.Value=ami&TransitiveTagKeys.member.1=project",
	    body.buf);
	CHECK_INT_EQ(254, body.len);
	ams_buf_release(&body);
}

static void test_build_assume_role_minimal(void)
{
	struct ams_tag tags[2];
	struct ams_sts_assume_role_req req = { 0 };
	struct ams_buf body = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;

	req.role_arn = "arn:aws:iam::444455556666:role/ami-publisher";
	req.session_name = "amishare";
	CHECK_RC(AMS_OK, ams_sts_build_assume_role(&req, to_form, &body, &err),
		 &err);
	CHECK_STR_EQ("RoleArn=arn%3Aaws%3Aiam%3A%3A444455556666%3Arole%2Fami-"
		     "publisher&RoleSessionName=amishare",
		     body.buf);
	ams_buf_reset(&body);
	tags[0] = tag("Build Id", "42");
	tags[1] = tag("commit", "");
	req.tags = tags;
	req.ntags = 2;
	req.source_identity = "ci@example.com";
	req.duration_s = 43200;
	CHECK_RC(AMS_OK, ams_sts_build_assume_role(&req, to_form, &body, &err),
		 &err);
	CHECK(strstr(body.buf, "&DurationSeconds=43200&Tags.member.1.Key="
			       "Build%20Id&Tags.member.1.Value=42&Tags.member."
			       "2.Key=commit&Tags.member.2.Value=&"
			       "SourceIdentity=ci%40example.com") != NULL);
	ams_buf_release(&body);
}

static void test_build_assume_role_invalid(void)
{
	static const char *const transitive_bad[] = { "other" };
	static const char *const transitive_case[] = { "PROJECT" };
	char *long_ext = repeat("e", 1225);
	struct ams_tag tags[AMS_STS_MAX_SESSION_TAGS + 1];
	struct ams_sts_assume_role_req good = { 0 }, req;
	struct ams_buf body = AMS_BUF_INIT;
	struct ams_err err;
	size_t i;
	int c;

	good.role_arn = "arn:aws:iam::444455556666:role/ami-publisher";
	good.session_name = "amishare";
	for (i = 0; i < ARRAY_SIZE(tags); i++)
		tags[i] = tag("project", "ami");
	for (c = 0; c < 15; c++) {
		enum ams_code want = AMS_EUSAGE;

		req = good;
		ams_err_clear(&err);
		switch (c) {
		case 0: req.role_arn = "ami-publisher"; break;
		case 1: req.session_name = "has space"; break;
		case 2: req.duration_s = 899; break;
		case 3: req.duration_s = 43201; break;
		case 4: req.external_id = "e"; break;
		case 5: req.external_id = "has space"; break;
		case 6: req.external_id = long_ext; break;
		case 7: req.source_identity = "aws:ci"; break;
		case 8: req.source_identity = "x"; break;
		case 9:
			req.tags = tags;
			req.ntags = ARRAY_SIZE(tags);
			want = AMS_ELIMIT;
			break;
		case 10:
			tags[1] = tag("PROJECT", "x");
			req.tags = tags;
			req.ntags = 2;
			break;
		case 11:
			tags[1] = tag("k", "bad#value");
			req.tags = tags;
			req.ntags = 2;
			break;
		case 12:
			req.tags = tags;
			req.ntags = 1;
			req.transitive_tag_keys = transitive_bad;
			req.ntransitive_tag_keys = 1;
			break;
		case 13:
			tags[1] = tag("", "x");
			req.tags = tags;
			req.ntags = 2;
			break;
		case 14:
			tags[1] = tag("k", NULL);
			req.tags = tags;
			req.ntags = 2;
			break;
		}
		CHECK_RC(want,
			 ams_sts_build_assume_role(&req, to_form, &body, &err),
			 &err);
		if (err.code == AMS_OK)
			printf("# case %d was accepted\n", c);
		CHECK_INT_EQ(0, body.len);
	}
	/* Transitive keys match session tags case-insensitively. */
	req = good;
	req.tags = tags;
	req.ntags = 1;
	req.transitive_tag_keys = transitive_case;
	req.ntransitive_tag_keys = 1;
	CHECK_RC(AMS_OK, ams_sts_build_assume_role(&req, to_form, &body, &err),
		 &err);
	ams_buf_release(&body);
	free(long_ext);
}

static void test_build_web_identity(void)
{
	static const char jwt[] = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOngi"
				  "fQ.c2lnbmF0dXJlLWV4YW1wbGU";
	struct ams_sts_web_identity_req req = { 0 };
	struct ams_buf body = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;

	req.role_arn = "arn:aws-cn:iam::123456789012:role/x";
	req.session_name = "gha-1";
	req.web_identity_token = jwt;
	CHECK(!redacted(jwt));
	CHECK_RC(AMS_OK,
		 ams_sts_build_assume_role_with_web_identity(&req, to_form,
							     &body, &err),
		 &err);
	/* aws-behaviour.md §9.2. */
	CHECK_STR_EQ("RoleArn=arn%3Aaws-cn%3Aiam%3A%3A123456789012%3Arole%2Fx&"
		     "RoleSessionName=gha-1&WebIdentityToken=eyJhbGciOiJSUzI1"
		     "NiJ9.eyJzdWIiOiJyZXBvOngifQ.c2lnbmF0dXJlLWV4YW1wbGU",
		     body.buf);
	/* The token is a secret from now on. */
	CHECK(redacted(jwt));
	ams_buf_reset(&body);
	req.duration_s = 900;
	req.provider_id = "www.amazon.com";
	CHECK_RC(AMS_OK,
		 ams_sts_build_assume_role_with_web_identity(&req, to_form,
							     &body, &err),
		 &err);
	CHECK(strstr(body.buf, "&DurationSeconds=900&ProviderId=www.amazon."
			       "com") != NULL);
	ams_buf_reset(&body);
	req.web_identity_token = "abc";
	CHECK_RC(AMS_EUSAGE,
		 ams_sts_build_assume_role_with_web_identity(&req, to_form,
							     &body, &err),
		 &err);
	CHECK(strstr(err.msg, "abc") == NULL);
	ams_err_clear(&err);
	req.web_identity_token = jwt;
	req.session_name = NULL;
	CHECK_RC(AMS_EUSAGE,
		 ams_sts_build_assume_role_with_web_identity(&req, to_form,
							     &body, &err),
		 &err);
	CHECK_INT_EQ(0, body.len);
	ams_buf_release(&body);
}

/* ---- Parsers ------------------------------------------------------- */

static void test_parse_assume_role_doc(void)
{
	static const char token[] =
	    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZ"
	    "TwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkP"
	    "pKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7W"
	    "Z0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7Z"
	    "D0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx"
	    "3iSIlTJabIQwj2ICCR/oLxBA==";
	struct ams_sts_session s;
	struct ams_err err = AMS_ERR_INIT;
	time_t exp = 0;
	size_t len;
	char *body = load("assume-role.xml", &len);

	CHECK_RC(AMS_OK, ams_sts_parse_assume_role(&s, body, len, &err), &err);
	CHECK_STR_EQ("ASIAIOSFODNN7EXAMPLE", s.creds.access_key_id);
	CHECK_STR_EQ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
		     s.creds.secret_access_key);
	CHECK_STR_EQ(token, s.creds.session_token);
	CHECK(ams_clock_parse_iso8601("2019-11-09T13:34:41Z", &exp));
	CHECK_INT_EQ(exp, s.creds.expiration);
	CHECK_STR_EQ("123456789012", s.creds.account_id);
	CHECK_STR_EQ("arn:aws:sts::123456789012:assumed-role/demo/TestAR",
		     s.assumed_role_arn);
	CHECK_STR_EQ("ARO123EXAMPLE123:TestAR", s.assumed_role_id);
	CHECK_STR_EQ("Alice", s.source_identity);
	CHECK_INT_EQ(6, s.packed_policy_size);
	CHECK(s.subject == NULL && s.audience == NULL && s.provider == NULL);
	/* The secret and the token are redacted from every log line. */
	CHECK(redacted("wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"));
	CHECK(redacted(token));
	ams_sts_session_release(&s);
	CHECK(s.creds.secret_access_key == NULL);
	free(body);
}

static void test_parse_assume_role_variants(void)
{
	struct ams_sts_session s;
	struct ams_err err = AMS_ERR_INIT;
	size_t len;
	char *body = load("assume-role-minimal.xml", &len);

	CHECK_RC(AMS_OK, ams_sts_parse_assume_role(&s, body, len, &err), &err);
	CHECK_STR_EQ("ASIAEXAMPLE2", s.creds.access_key_id);
	CHECK_STR_EQ("FQoGZXIvYXdzEXAMPLETOKEN", s.creds.session_token);
	CHECK_STR_EQ("444455556666", s.creds.account_id);
	CHECK_STR_EQ("AROAEXAMPLEID:ci-build-42", s.assumed_role_id);
	CHECK(s.source_identity == NULL);
	CHECK_INT_EQ(0, s.packed_policy_size);
	ams_sts_session_release(&s);
	free(body);

	body = load("assume-role-no-secret.xml", &len);
	CHECK_RC(AMS_EPARSE, ams_sts_parse_assume_role(&s, body, len, &err),
		 &err);
	CHECK(strstr(err.msg, "SecretAccessKey: missing") != NULL);
	CHECK(strstr(err.msg, "AssumeRole response") != NULL);
	CHECK(strstr(err.msg, "FQoG") == NULL);
	CHECK(s.creds.access_key_id == NULL);
	CHECK(s.assumed_role_arn == NULL);
	free(body);
}

static void test_parse_assume_role_bad(void)
{
	static const struct {
		const char *doc;
		enum ams_code rc;
		const char *msg;
	} cases[] = {
		{ "<ErrorResponse><Error><Code>AccessDenied</Code></Error>"
		  "</ErrorResponse>",
		  AMS_EPARSE, "ErrorResponse" },
		{ "<AssumeRoleResponse><ResponseMetadata/></"
		  "AssumeRoleResponse>",
		  AMS_EPARSE, "AssumeRoleResult: missing" },
		{ "<AssumeRoleResponse><AssumeRoleResult><AssumedRoleUser/>"
		  "</AssumeRoleResult></AssumeRoleResponse>",
		  AMS_EPARSE, "Credentials: missing" },
		{ "<AssumeRoleResponse><AssumeRoleResult><Credentials>"
		  "<AccessKeyId>A</AccessKeyId><SecretAccessKey>TOPSECRET"
		  "</SecretAccessKey><SessionToken>T</SessionToken>"
		  "<Expiration>soon</Expiration></Credentials>"
		  "</AssumeRoleResult></AssumeRoleResponse>",
		  AMS_EPARSE, "Expiration" },
		{ "<AssumeRoleResponse><AssumeRoleResult><Credentials>"
		  "<AccessKeyId>A</AccessKeyId><SecretAccessKey>TOPSECRET"
		  "</SecretAccessKey><SessionToken>T</SessionToken>"
		  "</Credentials></AssumeRoleResult></AssumeRoleResponse>",
		  AMS_EPARSE, "Expiration: missing" },
		{ "<AssumeRoleResponse><AssumeRoleResult><Credentials>"
		  "<AccessKeyId> </AccessKeyId><SecretAccessKey>TOPSECRET"
		  "</SecretAccessKey><SessionToken>T</SessionToken>"
		  "<Expiration>2025-01-15T13:00:00Z</Expiration></Credentials>"
		  "</AssumeRoleResult></AssumeRoleResponse>",
		  AMS_ECREDS, "" },
		{ "<AssumeRoleResponse><AssumeRoleResult><PackedPolicySize>"
		  "lots</PackedPolicySize></AssumeRoleResult>"
		  "</AssumeRoleResponse>",
		  AMS_EPARSE, "PackedPolicySize" },
		{ "<AssumeRoleWithWebIdentityResponse/>", AMS_EPARSE,
		  "expected <AssumeRoleResponse>" },
		{ "not xml", AMS_EPARSE, "" },
	};
	struct ams_sts_session s;
	struct ams_err err;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		ams_err_clear(&err);
		CHECK_RC(cases[i].rc,
			 ams_sts_parse_assume_role(&s, LIT(cases[i].doc), &err),
			 &err);
		if (!strstr(err.msg, cases[i].msg))
			printf("# case %zu: '%s'\n", i, err.msg);
		CHECK(strstr(err.msg, cases[i].msg) != NULL);
		CHECK(strstr(err.msg, "TOPSECRET") == NULL);
		CHECK(s.creds.access_key_id == NULL);
	}
}

static void test_parse_web_identity(void)
{
	struct ams_sts_session s;
	struct ams_err err = AMS_ERR_INIT;
	size_t len;
	char *body = load("assume-role-with-web-identity.xml", &len);

	CHECK_RC(
	    AMS_OK,
	    ams_sts_parse_assume_role_with_web_identity(&s, body, len, &err),
	    &err);
	CHECK_STR_EQ("ASgeIAIOSFODNN7EXAMPLE", s.creds.access_key_id);
	CHECK_STR_EQ("AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE",
		     s.creds.session_token);
	CHECK_STR_EQ("123456789012", s.creds.account_id);
	CHECK_STR_EQ("repo:example/golden-images:ref:refs/heads/main",
		     s.subject);
	CHECK_STR_EQ("sts.amazonaws.com", s.audience);
	CHECK_STR_EQ("token.actions.githubusercontent.com", s.provider);
	CHECK_STR_EQ("SourceIdentityValue", s.source_identity);
	ams_sts_session_release(&s);
	/* The AssumeRole parser refuses the other action's answer. */
	CHECK_RC(AMS_EPARSE, ams_sts_parse_assume_role(&s, body, len, &err),
		 &err);
	free(body);
}

static void test_parse_caller_identity(void)
{
	struct ams_sts_caller c;
	struct ams_err err = AMS_ERR_INIT;
	size_t len;
	char *body = load("get-caller-identity.xml", &len);

	CHECK_RC(AMS_OK, ams_sts_parse_get_caller_identity(&c, body, len, &err),
		 &err);
	CHECK_STR_EQ("123456789012", c.account);
	CHECK_STR_EQ("arn:aws:sts::123456789012:assumed-role/ami-publisher/"
		     "ci-build-42",
		     c.arn);
	CHECK_STR_EQ("AROAEXAMPLEID:ci-build-42", c.user_id);
	ams_sts_caller_release(&c);
	free(body);

	body = load("get-caller-identity-user.xml", &len);
	CHECK_RC(AMS_OK, ams_sts_parse_get_caller_identity(&c, body, len, &err),
		 &err);
	CHECK_STR_EQ("111122223333", c.account);
	CHECK_STR_EQ("arn:aws-cn:iam::111122223333:user/builder", c.arn);
	ams_sts_caller_release(&c);
	free(body);

	CHECK_RC(AMS_EPARSE,
		 ams_sts_parse_get_caller_identity(
		     &c,
		     LIT("<GetCallerIdentityResponse><GetCallerIdentity"
			 "Result><Account>1234</Account></GetCaller"
			 "IdentityResult></GetCallerIdentityResponse>"),
		     &err),
		 &err);
	CHECK(strstr(err.msg, "12 digits") != NULL);
	CHECK(c.account == NULL);
	ams_err_clear(&err);
	CHECK_RC(AMS_EPARSE,
		 ams_sts_parse_get_caller_identity(
		     &c,
		     LIT("<GetCallerIdentityResponse><GetCallerIdentity"
			 "Result/></GetCallerIdentityResponse>"),
		     &err),
		 &err);
	CHECK(strstr(err.msg, "Account: missing") != NULL);
}

int main(void)
{
	TEST(test_role_arns, "role ARNs: partition, account, path, name");
	TEST(test_session_names, "role session names: 2-64 of [\\w+=,.@-]");
	TEST(test_arn_account, "the account of an ARN");
	TEST(test_build_assume_role_doc,
	     "AssumeRole body matches the documented request");
	TEST(test_build_assume_role_minimal,
	     "AssumeRole: optional members, tags, source identity");
	TEST(test_build_assume_role_invalid,
	     "AssumeRole: every constraint is checked before sending");
	TEST(test_build_web_identity,
	     "AssumeRoleWithWebIdentity body; the token becomes a secret");
	TEST(test_parse_assume_role_doc,
	     "AssumeRole: the documented response, token unwrapped");
	TEST(test_parse_assume_role_variants,
	     "AssumeRole: order, namespace, missing members");
	TEST(test_parse_assume_role_bad,
	     "AssumeRole: malformed answers fail without leaking secrets");
	TEST(test_parse_web_identity,
	     "AssumeRoleWithWebIdentity: subject, audience, provider");
	TEST(test_parse_caller_identity, "GetCallerIdentity");
	return test_done();
}
