/*
 * Unit tests for the EC2 module: identifier and tag validators (tables),
 * request builders (compared with the exact form bodies of
 * aws-behaviour.md §5) and the pure response parsers (fixture documents
 * in tests/fixtures/ec2 shaped like AWS's answers, plus variants).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "ec2.h"
#include "err.h"
#include "harness.h"
#include "typed_test.h"
#include "uri.h"
#include "xmem.h"

/* ---- Helpers ------------------------------------------------------- */

static char *load(const char *name, size_t *len)
{
	return test_fixture_load(len, "ec2", name);
}

static time_t utc(const char *iso)
{
	time_t t = 0;

	if (!ams_clock_parse_iso8601(iso, &t))
		printf("# bad test time '%s'\n", iso);
	return t;
}

/* ---- Validators ---------------------------------------------------- */

static void test_account_ids(void)
{
	static const struct id_case cases[] = {
		{ "123456789012", 1 },
		{ "000000000000", 1 },
		{ "12345678901", 0 },
		{ "1234567890123", 0 },
		{ "1234-5678-9012", 0 },
		{ "12345678901a", 0 },
		{ " 123456789012", 0 },
		{ "123456789012\n", 0 },
		{ "", 0 },
		{ "+12345678901", 0 },
		{ "self", 0 },
		{ "\xef\xbc\x91"
		  "23456789012",
		  0 },
	};
	struct ams_err err = AMS_ERR_INIT;

	run_id_cases(cases, ARRAY_SIZE(cases), ams_ec2_check_account_id,
		     "account id");
	CHECK_RC(AMS_EUSAGE, ams_ec2_check_account_id(NULL, &err), &err);
	ams_err_clear(&err);
	CHECK_RC(AMS_EUSAGE, ams_ec2_check_account_id("1111-2222-3333", &err),
		 &err);
	CHECK(strstr(err.msg, "'1111-2222-3333'") != NULL);
	CHECK(strstr(err.msg, "12 digits") != NULL);
}

static void test_image_ids(void)
{
	static const struct id_case cases[] = {
		{ "ami-12345678", 1 },
		{ "ami-0abcdef1234567890", 1 },
		{ "ami-1234567", 0 },
		{ "ami-123456789", 0 },
		{ "ami-0abcdef123456789", 0 },	 /* 16 */
		{ "ami-0abcdef12345678901", 0 }, /* 18 */
		{ "ami-0ABCDEF1234567890", 0 },
		{ "AMI-12345678", 0 },
		{ "ami-1234567g", 0 },
		{ "ami-", 0 },
		{ "ami", 0 },
		{ "", 0 },
		{ "snap-12345678", 0 },
		{ "ami-12345678 ", 0 },
		{ "xami-12345678", 0 },
	};
	struct ams_err err = AMS_ERR_INIT;

	run_id_cases(cases, ARRAY_SIZE(cases), ams_ec2_check_image_id,
		     "image id");
	CHECK_RC(AMS_EUSAGE, ams_ec2_check_image_id(NULL, NULL), NULL);
	CHECK_RC(AMS_EUSAGE, ams_ec2_check_image_id("ami-XYZ", &err), &err);
	CHECK(strstr(err.msg, "'ami-XYZ'") != NULL);
}

static void test_snapshot_ids(void)
{
	static const struct id_case cases[] = {
		{ "snap-12345678", 1 },
		{ "snap-0123456789abcdef0", 1 },
		{ "snap-1234567", 0 },
		{ "snap-0123456789ABCDEF0", 0 },
		{ "snap-0123456789abcdef", 0 },
		{ "ami-12345678", 0 },
		{ "snap-", 0 },
		{ "", 0 },
		{ "vol-12345678", 0 },
	};

	run_id_cases(cases, ARRAY_SIZE(cases), ams_ec2_check_snapshot_id,
		     "snapshot id");
}

static void test_utf8_chars(void)
{
	static const struct {
		const char *s;
		size_t chars;
	} cases[] = {
		{ "", 0 },
		{ "abc", 3 },
		{ "\xc3\xa9", 1 },		    /* é */
		{ "\xe2\x82\xac", 1 },		    /* € */
		{ "\xf0\x9f\x98\x80", 1 },	    /* U+1F600 */
		{ "a\xc3\xa9\xe2\x82\xac", 3 },	    /* mixed */
		{ "\xf4\x8f\xbf\xbf", 1 },	    /* U+10FFFF */
		{ "\xc3", (size_t)-1 },		    /* truncated */
		{ "\xe2\x82", (size_t)-1 },	    /* truncated */
		{ "\x80", (size_t)-1 },		    /* lone continuation */
		{ "\xc0\xaf", (size_t)-1 },	    /* overlong '/' */
		{ "\xc1\xbf", (size_t)-1 },	    /* overlong */
		{ "\xe0\x80\xaf", (size_t)-1 },	    /* overlong */
		{ "\xf0\x80\x80\xaf", (size_t)-1 }, /* overlong */
		{ "\xed\xa0\x80", (size_t)-1 },	    /* surrogate */
		{ "\xf4\x90\x80\x80", (size_t)-1 }, /* > U+10FFFF */
		{ "\xf5\x80\x80\x80", (size_t)-1 }, /* invalid lead */
		{ "\xff", (size_t)-1 },
		{ "ok\xc3\x28", (size_t)-1 }, /* bad continuation */
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t got = ams_ec2_utf8_chars(cases[i].s);

		if (got != cases[i].chars)
			printf("# utf8 case %zu\n", i);
		CHECK(got == cases[i].chars);
	}
}

static void test_tag_keys(void)
{
	char *k128 = repeat("k", 128), *k129 = repeat("k", 129);
	char *e128 = repeat("\xc3\xa9", 128), *e129 = repeat("\xc3\xa9", 129);
	char *f128 = repeat("\xf0\x9f\x98\x80", 128);
	char *f129 = repeat("\xf0\x9f\x98\x80", 129);
	const struct id_case cases[] = {
		{ "Name", 1 },
		{ "team name", 1 },
		{ "+-=._:/@", 1 },
		{ "aws", 1 },
		{ "awsfoo", 1 },
		{ "x:aws:y", 1 },
		{ "\xc3\xa9t\xc3\xa9", 1 },
		{ k128, 1 },
		{ k129, 0 },
		{ e128, 1 }, /* 256 bytes */
		{ e129, 0 },
		{ f128, 1 }, /* 512 bytes */
		{ f129, 0 },
		{ "", 0 },
		{ "aws:cloudformation:stack", 0 },
		{ "AWS:x", 0 },
		{ "Aws:x", 0 },
		{ "aWs:", 0 },
		/* EC2 accepts any character (aws-behaviour.md §6). */
		{ "a\tb", 1 },
		{ "a\nb", 1 },
		{ "a#b*c!", 1 },
		{ "bad\xc3", 0 },
		{ "\xed\xa0\x80", 0 },
	};
	struct ams_err err = AMS_ERR_INIT;

	run_id_cases(cases, ARRAY_SIZE(cases), ams_ec2_check_tag_key,
		     "tag key");
	free(k128);
	free(k129);
	free(e128);
	free(e129);
	free(f128);
	free(f129);
	CHECK_RC(AMS_EUSAGE, ams_ec2_check_tag_key(NULL, NULL), NULL);
	CHECK_RC(AMS_EUSAGE, ams_ec2_check_tag_key("AWS:Name", &err), &err);
	CHECK(strstr(err.msg, "reserved") != NULL);
	CHECK(ams_ec2_tag_key_is_reserved("aws:x"));
	CHECK(ams_ec2_tag_key_is_reserved("AwS:"));
	CHECK(!ams_ec2_tag_key_is_reserved("aws"));
	CHECK(!ams_ec2_tag_key_is_reserved("xaws:"));
	CHECK(!ams_ec2_tag_key_is_reserved(NULL));
}

static void test_tag_values(void)
{
	char *v256 = repeat("v", 256), *v257 = repeat("v", 257);
	char *e256 = repeat("\xe2\x82\xac", 256);
	char *e257 = repeat("\xe2\x82\xac", 257);
	const struct id_case cases[] = {
		{ "", 1 },
		{ "golden base 2025-01", 1 },
		{ "aws:allowed-in-values", 1 },
		{ v256, 1 },
		{ v257, 0 },
		{ e256, 1 }, /* 768 bytes */
		{ e257, 0 },
		{ "line\nbreak", 1 },
		{ "\xc0\x80", 0 },
	};

	run_id_cases(cases, ARRAY_SIZE(cases), ams_ec2_check_tag_value,
		     "tag value");
	CHECK_RC(AMS_EUSAGE, ams_ec2_check_tag_value(NULL, NULL), NULL);
	free(v256);
	free(v257);
	free(e256);
	free(e257);
}

static void test_perm_containers(void)
{
	struct ams_ec2_perms perms = { NULL, 0, 0 };
	size_t i;

	for (i = 0; i < 100; i++) {
		char id[13];

		snprintf(id, sizeof(id), "%012zu", i);
		ams_ec2_perms_add(&perms, AMS_EC2_PERM_USER, id);
	}
	ams_ec2_perms_add(&perms, AMS_EC2_PERM_GROUP, "all");
	CHECK_INT_EQ(101, perms.n);
	CHECK(ams_ec2_perms_has(&perms, AMS_EC2_PERM_USER, "000000000099"));
	CHECK(!ams_ec2_perms_has(&perms, AMS_EC2_PERM_GROUP, "000000000099"));
	CHECK(ams_ec2_perms_has(&perms, AMS_EC2_PERM_GROUP, "all"));
	CHECK_STR_EQ("organizationalUnitArn",
		     ams_ec2_perm_kind_name(AMS_EC2_PERM_OU));
	ams_ec2_perms_release(&perms);
	CHECK_INT_EQ(0, perms.n);
	CHECK(perms.v == NULL);
}

/* ---- Builders ------------------------------------------------------ */

/* The whole form body the aws layer sends for action. */
static void with_action(struct ams_buf *full, const char *action,
			const struct ams_buf *params)
{
	ams_uri_form_add(full, "Action", action);
	ams_uri_form_add(full, "Version", "2016-11-15");
	if (params->len) {
		ams_buf_addch(full, '&');
		ams_buf_add(full, params->buf, params->len);
	}
}

static void test_build_describe_images_doc(void)
{
	static const char *const ids[] = { "ami-0abcdef1234567890" };
	static const char *const owners[] = { "self" };
	static const char *const values[] = { "golden*" };
	const struct ams_ec2_filter filters[] = {
		{ "tag:Name", values, 1 },
	};
	struct ams_ec2_describe_images_req req = { 0 };
	struct ams_buf body = AMS_BUF_INIT, full = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;

	req.image_ids = ids;
	req.nimage_ids = 1;
	req.owners = owners;
	req.nowners = 1;
	req.filters = filters;
	req.nfilters = 1;
	req.include_deprecated = true;
	CHECK_RC(AMS_OK,
		 ams_ec2_build_describe_images(&req, to_form, &body, &err),
		 &err);
	with_action(&full, AMS_EC2_DESCRIBE_IMAGES, &body);
	/* aws-behaviour.md §5.1, byte for byte (Content-Length: 160). */
	CHECK_STR_EQ("Action=DescribeImages&Version=2016-11-15&ImageId.1=ami-"
		     "0abcdef1234567890&Owner.1=self&Filter.1.Name=tag%3AName&"
		     "Filter.1.Value.1=golden%2A&IncludeDeprecated=true",
		     full.buf);
	CHECK_INT_EQ(160, full.len);
	ams_buf_release(&body);
	ams_buf_release(&full);
}

static void test_build_describe_images_all(void)
{
	static const char *const ids[] = { "ami-12345678",
					   "ami-0abcdef1234567890" };
	static const char *const owners[] = { "123456789012", "amazon" };
	static const char *const exec[] = { "self", "444455556666", "all" };
	static const char *const states[] = { "available", "pending" };
	static const char *const names[] = { "golden base ?" };
	const struct ams_ec2_filter filters[] = {
		{ "state", states, 2 },
		{ "name", names, 1 },
	};
	struct ams_ec2_describe_images_req req = { 0 };
	struct ams_buf body = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;

	req.image_ids = ids;
	req.nimage_ids = 2;
	req.owners = owners;
	req.nowners = 2;
	req.executable_by = exec;
	req.nexecutable_by = 3;
	req.filters = filters;
	req.nfilters = 2;
	req.include_disabled = true;
	req.max_results = 500;
	req.next_token = "tok/en+=";
	req.dry_run = true;
	CHECK_RC(AMS_OK,
		 ams_ec2_build_describe_images(&req, to_form, &body, &err),
		 &err);
	CHECK_STR_EQ("ImageId.1=ami-12345678&ImageId.2=ami-0abcdef1234567890&"
		     "Owner.1=123456789012&Owner.2=amazon&ExecutableBy.1=self&"
		     "ExecutableBy.2=444455556666&ExecutableBy.3=all&"
		     "Filter.1.Name=state&Filter.1.Value.1=available&"
		     "Filter.1.Value.2=pending&Filter.2.Name=name&"
		     "Filter.2.Value.1=golden%20base%20%3F&"
		     "IncludeDisabled=true&MaxResults=500&"
		     "NextToken=tok%2Fen%2B%3D&DryRun=true",
		     body.buf);
	ams_buf_release(&body);

	/* Nothing at all: every image the caller may launch. */
	memset(&req, 0, sizeof(req));
	req.next_token = "";
	CHECK_RC(AMS_OK,
		 ams_ec2_build_describe_images(&req, to_form, &body, &err),
		 &err);
	CHECK_STR_EQ("", body.buf);
	ams_buf_release(&body);
}

static void test_build_describe_images_invalid(void)
{
	static const char *const bad_id[] = { "ami-0abcdef1234567890",
					      "ami-nope" };
	static const char *const bad_owner[] = { "me" };
	static const char *const bad_exec[] = { "amazon" };
	static const char *const empty[] = { "" };
	const struct ams_ec2_filter no_values[] = { { "state", NULL, 0 } };
	const struct ams_ec2_filter no_name[] = { { "", empty, 1 } };
	const struct ams_ec2_filter empty_value[] = { { "state", empty, 1 } };
	struct ams_ec2_describe_images_req req;
	struct ams_buf body = AMS_BUF_INIT;
	struct ams_err err;
	int i;

	for (i = 0; i < 6; i++) {
		memset(&req, 0, sizeof(req));
		ams_err_clear(&err);
		switch (i) {
		case 0:
			req.image_ids = bad_id;
			req.nimage_ids = 2;
			break;
		case 1:
			req.owners = bad_owner;
			req.nowners = 1;
			break;
		case 2:
			req.executable_by = bad_exec;
			req.nexecutable_by = 1;
			break;
		case 3:
			req.filters = no_values;
			req.nfilters = 1;
			break;
		case 4:
			req.filters = no_name;
			req.nfilters = 1;
			break;
		case 5:
			req.filters = empty_value;
			req.nfilters = 1;
			break;
		}
		CHECK_RC(
		    AMS_EUSAGE,
		    ams_ec2_build_describe_images(&req, to_form, &body, &err),
		    &err);
		CHECK(err.msg[0] != '\0');
		/* A refused request adds nothing. */
		CHECK_INT_EQ(0, body.len);
	}
	CHECK(strstr(err.msg, "filter value") != NULL);
	ams_buf_release(&body);
}

static void test_build_image_attribute_calls(void)
{
	struct ams_buf body = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;

	CHECK_RC(AMS_OK,
		 ams_ec2_build_describe_image_attribute(
		     "ami-0abcdef1234567890", "launchPermission", false,
		     to_form, &body, &err),
		 &err);
	CHECK_STR_EQ("ImageId=ami-0abcdef1234567890&Attribute=launchPermission",
		     body.buf);
	ams_buf_reset(&body);
	CHECK_RC(AMS_OK,
		 ams_ec2_build_reset_image_attribute("ami-12345678", true,
						     to_form, &body, &err),
		 &err);
	CHECK_STR_EQ("ImageId=ami-12345678&Attribute=launchPermission&"
		     "DryRun=true",
		     body.buf);
	ams_buf_reset(&body);
	CHECK_RC(AMS_EUSAGE,
		 ams_ec2_build_describe_image_attribute(
		     "ami-12345678", "", false, to_form, &body, &err),
		 &err);
	CHECK_RC(AMS_EUSAGE,
		 ams_ec2_build_reset_image_attribute("i-12345678", false,
						     to_form, &body, &err),
		 &err);
	CHECK_INT_EQ(0, body.len);
	ams_buf_release(&body);
}

static struct ams_ec2_perm perm(enum ams_ec2_perm_kind kind, const char *v)
{
	struct ams_ec2_perm p;

	p.kind = kind;
	p.value = (char *)(uintptr_t)v; /* the builder only reads it */
	return p;
}

static void test_build_modify_image_doc(void)
{
	struct ams_ec2_perm add[2];
	struct ams_ec2_modify_image_req req = { 0 };
	struct ams_buf body = AMS_BUF_INIT, full = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;

	add[0] = perm(AMS_EC2_PERM_USER, "111122223333");
	add[1] = perm(AMS_EC2_PERM_OU, "arn:aws:organizations::123456789012:"
				       "ou/o-abcde12345/ou-ab12-34cd56ef");
	req.image_id = "ami-0abcdef1234567890";
	req.add = add;
	req.nadd = 2;
	CHECK_RC(
	    AMS_OK,
	    ams_ec2_build_modify_image_attribute(&req, to_form, &body, &err),
	    &err);
	with_action(&full, AMS_EC2_MODIFY_IMAGE_ATTRIBUTE, &body);
	/* aws-behaviour.md §5.3 (test vector A's body, 247 bytes). */
	CHECK_STR_EQ("Action=ModifyImageAttribute&Version=2016-11-15&ImageId="
		     "ami-0abcdef1234567890&LaunchPermission.Add.1.UserId="
		     "111122223333&LaunchPermission.Add.2."
		     "OrganizationalUnitArn=arn%3Aaws%3Aorganizations%3A%3A"
		     "123456789012%3Aou%2Fo-abcde12345%2Fou-ab12-34cd56ef",
		     full.buf);
	CHECK_INT_EQ(247, full.len);
	ams_buf_release(&body);
	ams_buf_release(&full);
}

static void test_build_modify_image_remove(void)
{
	struct ams_ec2_perm add[2], rm[2];
	struct ams_ec2_modify_image_req req = { 0 };
	struct ams_buf body = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;

	add[0] = perm(AMS_EC2_PERM_ORG, "arn:aws-us-gov:organizations::"
					"123456789012:organization/"
					"o-abcde12345");
	add[1] = perm(AMS_EC2_PERM_GROUP, "all");
	rm[0] = perm(AMS_EC2_PERM_USER, "444455556666");
	rm[1] = perm(AMS_EC2_PERM_OU, "arn:aws-cn:organizations::"
				      "123456789012:ou/o-abcde12345/"
				      "ou-ab12-34cd56ef");
	req.image_id = "ami-12345678";
	req.add = add;
	req.nadd = 2;
	req.remove = rm;
	req.nremove = 2;
	req.dry_run = true;
	CHECK_RC(
	    AMS_OK,
	    ams_ec2_build_modify_image_attribute(&req, to_form, &body, &err),
	    &err);
	CHECK_STR_EQ(
	    "ImageId=ami-12345678&LaunchPermission.Add.1.OrganizationArn="
	    "arn%3Aaws-us-gov%3Aorganizations%3A%3A123456789012%3A"
	    "organization%2Fo-abcde12345&LaunchPermission.Add.2.Group=all&"
	    "LaunchPermission.Remove.1.UserId=444455556666&"
	    "LaunchPermission.Remove.2.OrganizationalUnitArn=arn%3Aaws-cn"
	    "%3Aorganizations%3A%3A123456789012%3Aou%2Fo-abcde12345%2F"
	    "ou-ab12-34cd56ef&DryRun=true",
	    body.buf);
	ams_buf_release(&body);
}

static void test_build_modify_image_invalid(void)
{
	static const struct {
		enum ams_ec2_perm_kind kind;
		const char *value;
		const char *msg;
	} cases[] = {
		{ AMS_EC2_PERM_USER, "1111-2222-3333", "12 digits" },
		{ AMS_EC2_PERM_USER, NULL, "account id" },
		{ AMS_EC2_PERM_GROUP, "everyone", "only 'all'" },
		{ AMS_EC2_PERM_ORG, "o-abcde12345", "organization ARN" },
		{ AMS_EC2_PERM_OU, "ou-ab12-34cd56ef", "unit ARN" },
		{ AMS_EC2_PERM_OU,
		  "arn:aws:organizations::123456789012:organization/"
		  "o-abcde12345",
		  "unit ARN" },
		{ (enum ams_ec2_perm_kind)99, "x", "only account ids" },
	};
	struct ams_ec2_modify_image_req req = { 0 };
	struct ams_buf body = AMS_BUF_INIT;
	struct ams_ec2_perm one;
	struct ams_err err;
	size_t i;

	req.image_id = "ami-12345678";
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		ams_err_clear(&err);
		one = perm(cases[i].kind, cases[i].value);
		req.add = &one;
		req.nadd = 1;
		CHECK_RC(AMS_EUSAGE,
			 ams_ec2_build_modify_image_attribute(&req, to_form,
							      &body, &err),
			 &err);
		if (!strstr(err.msg, cases[i].msg))
			printf("# case %zu: '%s'\n", i, err.msg);
		CHECK(strstr(err.msg, cases[i].msg) != NULL);
	}
	ams_err_clear(&err);
	req.nadd = 0;
	CHECK_RC(
	    AMS_EUSAGE,
	    ams_ec2_build_modify_image_attribute(&req, to_form, &body, &err),
	    &err);
	CHECK_INT_EQ(0, body.len);
	ams_buf_release(&body);
}

static void test_build_modify_image_limit(void)
{
	struct ams_ec2_modify_image_req req = { 0 };
	size_t n = AMS_EC2_LAUNCH_PERMISSION_MAX_USERS + 1, i, count = 0;
	struct ams_ec2_perm *add = xcalloc(n, sizeof(*add));
	char(*ids)[13] = xcalloc(n, sizeof(*ids));
	struct ams_buf body = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;
	const char *p;

	for (i = 0; i < n; i++) {
		snprintf(ids[i], sizeof(ids[i]), "%012zu", 100000000000u + i);
		add[i] = perm(AMS_EC2_PERM_USER, ids[i]);
	}
	req.image_id = "ami-12345678";
	req.add = add;
	req.nadd = n;
	CHECK_RC(
	    AMS_ELIMIT,
	    ams_ec2_build_modify_image_attribute(&req, to_form, &body, &err),
	    &err);
	CHECK_INT_EQ(0, body.len);
	req.nadd = n - 1;
	ams_err_clear(&err);
	CHECK_RC(
	    AMS_OK,
	    ams_ec2_build_modify_image_attribute(&req, to_form, &body, &err),
	    &err);
	for (p = body.buf; (p = strstr(p, "UserId=")); p++)
		count++;
	CHECK_INT_EQ(AMS_EC2_LAUNCH_PERMISSION_MAX_USERS, count);
	CHECK(strstr(body.buf, "LaunchPermission.Add.10000.UserId="
			       "100000009999") != NULL);
	ams_buf_release(&body);
	free(ids);
	free(add);
}

static void test_build_snapshot_calls(void)
{
	static const char *const ids[] = { "snap-0123456789abcdef0" };
	static const char *const owners[] = { "self" };
	static const char *const restorable[] = { "444455556666" };
	static const char *const enc[] = { "true" };
	const struct ams_ec2_filter filters[] = { { "encrypted", enc, 1 } };
	struct ams_ec2_describe_snapshots_req req = { 0 };
	struct ams_buf body = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;

	req.snapshot_ids = ids;
	req.nsnapshot_ids = 1;
	req.owners = owners;
	req.nowners = 1;
	req.restorable_by = restorable;
	req.nrestorable_by = 1;
	req.filters = filters;
	req.nfilters = 1;
	req.max_results = 5;
	req.next_token = "p2";
	CHECK_RC(AMS_OK,
		 ams_ec2_build_describe_snapshots(&req, to_form, &body, &err),
		 &err);
	CHECK_STR_EQ("SnapshotId.1=snap-0123456789abcdef0&Owner.1=self&"
		     "RestorableBy.1=444455556666&Filter.1.Name=encrypted&"
		     "Filter.1.Value.1=true&MaxResults=5&NextToken=p2",
		     body.buf);
	ams_buf_reset(&body);

	req.snapshot_ids = owners; /* "self" is not a snapshot id */
	CHECK_RC(AMS_EUSAGE,
		 ams_ec2_build_describe_snapshots(&req, to_form, &body, &err),
		 &err);
	CHECK_INT_EQ(0, body.len);

	ams_err_clear(&err);
	CHECK_RC(AMS_OK,
		 ams_ec2_build_describe_snapshot_attribute(
		     "snap-12345678", true, to_form, &body, &err),
		 &err);
	CHECK_STR_EQ("SnapshotId=snap-12345678&Attribute="
		     "createVolumePermission&DryRun=true",
		     body.buf);
	ams_buf_release(&body);
}

static void test_build_modify_snapshot(void)
{
	struct ams_ec2_perm two[2], org;
	struct ams_ec2_modify_snapshot_req req = { 0 };
	size_t n = AMS_EC2_SNAPSHOT_MODIFY_MAX + 1, i;
	struct ams_ec2_perm *many = xcalloc(n, sizeof(*many));
	struct ams_buf body = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;

	two[0] = perm(AMS_EC2_PERM_USER, "111122223333");
	two[1] = perm(AMS_EC2_PERM_USER, "444455556666");
	req.snapshot_id = "snap-0123456789abcdef0";
	req.add = two;
	req.nadd = 2;
	CHECK_RC(
	    AMS_OK,
	    ams_ec2_build_modify_snapshot_attribute(&req, to_form, &body, &err),
	    &err);
	CHECK_STR_EQ("SnapshotId=snap-0123456789abcdef0&"
		     "CreateVolumePermission.Add.1.UserId=111122223333&"
		     "CreateVolumePermission.Add.2.UserId=444455556666",
		     body.buf);
	ams_buf_reset(&body);

	req.add = NULL;
	req.nadd = 0;
	req.remove = two;
	req.nremove = 1;
	req.dry_run = true;
	CHECK_RC(
	    AMS_OK,
	    ams_ec2_build_modify_snapshot_attribute(&req, to_form, &body, &err),
	    &err);
	CHECK_STR_EQ("SnapshotId=snap-0123456789abcdef0&"
		     "CreateVolumePermission.Remove.1.UserId=111122223333&"
		     "DryRun=true",
		     body.buf);
	ams_buf_reset(&body);

	/* Add and remove together: AWS refuses it, so do we. */
	req.add = two;
	req.nadd = 1;
	CHECK_RC(
	    AMS_EUSAGE,
	    ams_ec2_build_modify_snapshot_attribute(&req, to_form, &body, &err),
	    &err);
	CHECK(strstr(err.msg, "add and remove") != NULL);

	/* Organizations cannot be granted snapshot access. */
	org = perm(AMS_EC2_PERM_ORG, "arn:aws:organizations::123456789012:"
				     "organization/o-abcde12345");
	req.add = &org;
	req.nadd = 1;
	req.nremove = 0;
	ams_err_clear(&err);
	CHECK_RC(
	    AMS_EUSAGE,
	    ams_ec2_build_modify_snapshot_attribute(&req, to_form, &body, &err),
	    &err);

	for (i = 0; i < n; i++)
		many[i] = perm(AMS_EC2_PERM_USER, "111122223333");
	req.add = many;
	req.nadd = n;
	ams_err_clear(&err);
	CHECK_RC(
	    AMS_ELIMIT,
	    ams_ec2_build_modify_snapshot_attribute(&req, to_form, &body, &err),
	    &err);
	req.nadd = n - 1;
	CHECK_INT_EQ(0, body.len);
	ams_err_clear(&err);
	CHECK_RC(
	    AMS_OK,
	    ams_ec2_build_modify_snapshot_attribute(&req, to_form, &body, &err),
	    &err);
	CHECK(strstr(body.buf, "CreateVolumePermission.Add.500.UserId=") !=
	      NULL);
	ams_buf_release(&body);
	free(many);
}

static void test_build_create_tags_doc(void)
{
	static const char *const ids[] = { "ami-0abcdef1234567890" };
	struct ams_tag tags[2];
	struct ams_buf body = AMS_BUF_INIT, full = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;

	tags[0] = tag("Name", "golden base 2025-01");
	tags[1] = tag("team", "");
	CHECK_RC(AMS_OK,
		 ams_ec2_build_create_tags(ids, 1, tags, 2, false, to_form,
					   &body, &err),
		 &err);
	with_action(&full, AMS_EC2_CREATE_TAGS, &body);
	/* aws-behaviour.md §5.7 (test vector B's body, 150 bytes). */
	CHECK_STR_EQ("Action=CreateTags&Version=2016-11-15&ResourceId.1=ami-"
		     "0abcdef1234567890&Tag.1.Key=Name&Tag.1.Value=golden%20"
		     "base%202025-01&Tag.2.Key=team&Tag.2.Value=",
		     full.buf);
	CHECK_INT_EQ(150, full.len);
	ams_buf_release(&body);
	ams_buf_release(&full);
}

static void test_build_create_tags_limits(void)
{
	size_t n = AMS_EC2_CREATE_TAGS_MAX_RESOURCES + 1, i;
	const char **ids = xcalloc(n, sizeof(*ids));
	struct ams_tag tags[AMS_EC2_MAX_TAGS_PER_RESOURCE + 1];
	char keys[AMS_EC2_MAX_TAGS_PER_RESOURCE + 1][8];
	struct ams_buf body = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;

	for (i = 0; i < n; i++)
		ids[i] = "snap-12345678";
	for (i = 0; i < ARRAY_SIZE(tags); i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
		tags[i] = tag(keys[i], "v");
	}
	CHECK_RC(AMS_ELIMIT,
		 ams_ec2_build_create_tags(ids, n, tags, 1, false, to_form,
					   &body, &err),
		 &err);
	ams_err_clear(&err);
	CHECK_RC(AMS_OK,
		 ams_ec2_build_create_tags(ids, n - 1, tags, 1, false, to_form,
					   &body, &err),
		 &err);
	CHECK(strstr(body.buf, "&ResourceId.1000=snap-12345678&") != NULL);
	ams_buf_reset(&body);
	CHECK_RC(AMS_ELIMIT,
		 ams_ec2_build_create_tags(ids, 1, tags, ARRAY_SIZE(tags),
					   false, to_form, &body, &err),
		 &err);
	ams_err_clear(&err);
	CHECK_RC(AMS_OK,
		 ams_ec2_build_create_tags(ids, 1, tags, ARRAY_SIZE(tags) - 1,
					   true, to_form, &body, &err),
		 &err);
	CHECK(strstr(body.buf, "&Tag.50.Key=k49&Tag.50.Value=v&DryRun=true") !=
	      NULL);
	ams_buf_reset(&body);

	/* No resources, no tags, reserved or invalid keys, NULL values. */
	CHECK_RC(AMS_EUSAGE,
		 ams_ec2_build_create_tags(ids, 0, tags, 1, false, to_form,
					   &body, &err),
		 &err);
	CHECK_RC(AMS_EUSAGE,
		 ams_ec2_build_create_tags(ids, 1, tags, 0, false, to_form,
					   &body, &err),
		 &err);
	tags[0] = tag("aws:cloudformation:stack-name", "x");
	ams_err_clear(&err);
	CHECK_RC(AMS_EUSAGE,
		 ams_ec2_build_create_tags(ids, 1, tags, 1, false, to_form,
					   &body, &err),
		 &err);
	CHECK(strstr(err.msg, "aws:") != NULL);
	tags[0] = tag("Name", NULL);
	CHECK_RC(AMS_EUSAGE,
		 ams_ec2_build_create_tags(ids, 1, tags, 1, false, to_form,
					   &body, &err),
		 &err);
	ids[0] = "";
	tags[0] = tag("Name", "x");
	CHECK_RC(AMS_EUSAGE,
		 ams_ec2_build_create_tags(ids, 1, tags, 1, false, to_form,
					   &body, &err),
		 &err);
	CHECK_INT_EQ(0, body.len);
	ams_buf_release(&body);
	free(ids);
}

static void test_build_delete_tags(void)
{
	static const char *const ids[] = { "ami-12345678", "snap-12345678" };
	struct ams_tag tags[3];
	struct ams_buf body = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;

	tags[0] = tag("Name", NULL);	/* whatever its value */
	tags[1] = tag("team", "");	/* only when empty */
	tags[2] = tag("stage", "beta"); /* only when "beta" */
	CHECK_RC(AMS_OK,
		 ams_ec2_build_delete_tags(ids, 2, tags, 3, false, to_form,
					   &body, &err),
		 &err);
	CHECK_STR_EQ("ResourceId.1=ami-12345678&ResourceId.2=snap-12345678&"
		     "Tag.1.Key=Name&Tag.2.Key=team&Tag.2.Value=&"
		     "Tag.3.Key=stage&Tag.3.Value=beta",
		     body.buf);
	ams_buf_reset(&body);
	CHECK_RC(AMS_OK,
		 ams_ec2_build_delete_tags(ids, 1, NULL, 0, true, to_form,
					   &body, &err),
		 &err);
	CHECK_STR_EQ("ResourceId.1=ami-12345678&DryRun=true", body.buf);
	ams_buf_reset(&body);
	tags[0] = tag("aws:x", NULL);
	CHECK_RC(AMS_EUSAGE,
		 ams_ec2_build_delete_tags(ids, 1, tags, 1, false, to_form,
					   &body, &err),
		 &err);
	CHECK_INT_EQ(0, body.len);
	ams_buf_release(&body);
}

static void test_build_describe_tags(void)
{
	static const char *const res[] = { "ami-0abcdef1234567890" };
	static const char *const keys[] = { "Name", "team" };
	const struct ams_ec2_filter filters[] = {
		{ "resource-id", res, 1 },
		{ "key", keys, 2 },
	};
	struct ams_ec2_describe_tags_req req = { 0 };
	struct ams_buf body = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;

	req.filters = filters;
	req.nfilters = 2;
	req.max_results = 1000;
	req.next_token = "tags-page-2";
	CHECK_RC(AMS_OK,
		 ams_ec2_build_describe_tags(&req, to_form, &body, &err), &err);
	CHECK_STR_EQ("Filter.1.Name=resource-id&Filter.1.Value.1=ami-"
		     "0abcdef1234567890&Filter.2.Name=key&Filter.2.Value.1="
		     "Name&Filter.2.Value.2=team&MaxResults=1000&NextToken="
		     "tags-page-2",
		     body.buf);
	ams_buf_reset(&body);
	req.max_results = 4;
	CHECK_RC(AMS_EUSAGE,
		 ams_ec2_build_describe_tags(&req, to_form, &body, &err), &err);
	req.max_results = 1001;
	CHECK_RC(AMS_EUSAGE,
		 ams_ec2_build_describe_tags(&req, to_form, &body, &err), &err);
	CHECK_INT_EQ(0, body.len);
	ams_buf_release(&body);
}

static void test_build_deprecation(void)
{
	struct ams_buf body = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;

	CHECK_RC(AMS_OK,
		 ams_ec2_build_enable_image_deprecation(
		     "ami-0abcdef1234567890", utc("2027-01-15T12:00:00Z"),
		     false, to_form, &body, &err),
		 &err);
	CHECK_STR_EQ("ImageId=ami-0abcdef1234567890&DeprecateAt=2027-01-15T12"
		     "%3A00%3A00Z",
		     body.buf);
	ams_buf_reset(&body);
	CHECK_RC(AMS_OK,
		 ams_ec2_build_disable_image_deprecation("ami-12345678", true,
							 to_form, &body, &err),
		 &err);
	CHECK_STR_EQ("ImageId=ami-12345678&DryRun=true", body.buf);
	ams_buf_reset(&body);
	CHECK_RC(AMS_EUSAGE,
		 ams_ec2_build_enable_image_deprecation(
		     "ami-12345678", 0, false, to_form, &body, &err),
		 &err);
	CHECK_INT_EQ(0, body.len);
	ams_buf_release(&body);
}

static void test_dry_run_ok(void)
{
	struct ams_err err = AMS_ERR_INIT;

	CHECK(!ams_ec2_dry_run_ok(&err));
	CHECK(!ams_ec2_dry_run_ok(NULL));
	ams_fail_aws(&err, 412, "DryRunOperation", "r",
		     "Request would have succeeded, but DryRun flag is set.");
	CHECK(ams_ec2_dry_run_ok(&err));
	ams_err_clear(&err);
	ams_fail_aws(&err, 403, "UnauthorizedOperation", "r", "no");
	CHECK(!ams_ec2_dry_run_ok(&err));
}

/* ---- Parsers ------------------------------------------------------- */

static void test_parse_describe_images_doc(void)
{
	struct ams_ec2_images out;
	struct ams_err err = AMS_ERR_INIT;
	const struct ams_ec2_image *img;
	size_t len;
	char *body = load("describe-images.xml", &len);

	CHECK_RC(AMS_OK, ams_ec2_parse_describe_images(&out, body, len, &err),
		 &err);
	CHECK_INT_EQ(1, out.n);
	CHECK(out.next_token == NULL);
	img = ams_ec2_images_find(&out, "ami-0abcdef1234567890");
	CHECK(img != NULL);
	CHECK(ams_ec2_images_find(&out, "ami-12345678") == NULL);
	if (img) {
		CHECK_STR_EQ("available", img->state);
		CHECK_STR_EQ("123456789012", img->owner_id);
		CHECK(img->owner_alias == NULL);
		CHECK_STR_EQ("golden-base-2025-01", img->name);
		CHECK_STR_EQ("Golden base image", img->description);
		CHECK_STR_EQ("x86_64", img->architecture);
		CHECK_STR_EQ("machine", img->image_type);
		CHECK_STR_EQ("ebs", img->root_device_type);
		CHECK_STR_EQ("/dev/xvda", img->root_device_name);
		CHECK_STR_EQ("hvm", img->virtualization_type);
		CHECK_STR_EQ("Linux/UNIX", img->platform_details);
		CHECK_STR_EQ("uefi-preferred", img->boot_mode);
		CHECK(!img->is_public);
		CHECK_INT_EQ(utc("2025-01-15T11:58:03Z"), img->creation_time);
		CHECK_INT_EQ(utc("2027-01-15T12:00:00Z"),
			     img->deprecation_time);
		CHECK_INT_EQ(1, img->ndevices);
		CHECK_STR_EQ("/dev/xvda", img->devices[0].device_name);
		CHECK(img->devices[0].has_ebs);
		CHECK_STR_EQ("snap-0123456789abcdef0",
			     img->devices[0].ebs.snapshot_id);
		CHECK(img->devices[0].ebs.encrypted);
		CHECK(img->devices[0].ebs.delete_on_termination);
		CHECK_INT_EQ(8, img->devices[0].ebs.volume_size_gib);
		CHECK_STR_EQ("gp3", img->devices[0].ebs.volume_type);
		CHECK_STR_EQ("arn:aws:kms:us-east-1:123456789012:key/1234abcd-"
			     "12ab-34cd-56ef-1234567890ab",
			     img->devices[0].ebs.kms_key_id);
		CHECK_INT_EQ(2, img->tags.n);
		CHECK_STR_EQ("golden base 2025-01",
			     ams_tags_get(&img->tags, "Name"));
		CHECK_STR_EQ("", ams_tags_get(&img->tags, "team"));
		CHECK_INT_EQ(0, img->nproduct_codes);
	}
	ams_ec2_images_release(&out);
	CHECK_INT_EQ(0, out.n);
	free(body);
}

static void test_parse_describe_images_paged(void)
{
	struct ams_ec2_images out;
	struct ams_err err = AMS_ERR_INIT;
	const struct ams_ec2_image *a, *b;
	size_t len;
	char *body = load("describe-images-paged.xml", &len);

	CHECK_RC(AMS_OK, ams_ec2_parse_describe_images(&out, body, len, &err),
		 &err);
	CHECK_INT_EQ(2, out.n);
	CHECK_STR_EQ("eyJ2IjoyLCJjIjoiZXhhbXBsZSJ9", out.next_token);
	if (out.n == 2) {
		a = &out.v[0];
		b = &out.v[1];
		CHECK_STR_EQ("ami-1a2b3c4d", a->image_id);
		CHECK(a->is_public);
		CHECK_STR_EQ("aws-marketplace", a->owner_alias);
		CHECK_INT_EQ(1, a->nproduct_codes);
		CHECK_STR_EQ("cdef5678ghij9012klmn3456o",
			     a->product_codes[0].code);
		CHECK_STR_EQ("marketplace", a->product_codes[0].type);
		CHECK_INT_EQ(utc("2016-08-30T10:23:14Z"), a->creation_time);
		CHECK_INT_EQ(0, a->deprecation_time);
		CHECK_INT_EQ(3, a->ndevices);
		CHECK(a->devices[0].has_ebs);
		CHECK(!a->devices[0].ebs.encrypted);
		CHECK(!a->devices[0].ebs.delete_on_termination);
		CHECK(a->devices[0].ebs.kms_key_id == NULL);
		CHECK_INT_EQ(30, a->devices[0].ebs.volume_size_gib);
		CHECK(!a->devices[1].has_ebs);
		CHECK_STR_EQ("/dev/sdb", a->devices[1].device_name);
		CHECK_STR_EQ("ephemeral0", a->devices[1].virtual_name);
		CHECK(!a->devices[2].has_ebs);
		CHECK(a->devices[2].virtual_name == NULL);
		CHECK_INT_EQ(0, a->tags.n);
		/* The minimal item: optional elements are absent. */
		CHECK_STR_EQ("ami-0fedcba9876543210", b->image_id);
		CHECK_STR_EQ("pending", b->state);
		CHECK_INT_EQ(0, b->creation_time);
		CHECK(b->description == NULL);
		CHECK(b->architecture == NULL);
		CHECK_INT_EQ(0, b->ndevices);
		CHECK_INT_EQ(0, b->tags.n);
	}
	ams_ec2_images_release(&out);
	free(body);
}

static void test_parse_describe_images_empty(void)
{
	static const char *const files[] = {
		"describe-images-empty.xml",
		"describe-images-empty-token.xml",
	};
	struct ams_ec2_images out;
	struct ams_err err = AMS_ERR_INIT;
	size_t i, len;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		char *body = load(files[i], &len);

		CHECK_RC(AMS_OK,
			 ams_ec2_parse_describe_images(&out, body, len, &err),
			 &err);
		CHECK_INT_EQ(0, out.n);
		/* An empty nextToken ends the listing like an absent one. */
		CHECK(out.next_token == NULL);
		ams_ec2_images_release(&out);
		free(body);
	}
	/* No imagesSet element at all. */
	CHECK_RC(AMS_OK,
		 ams_ec2_parse_describe_images(
		     &out,
		     LIT("<DescribeImagesResponse><requestId>r</requestId>"
			 "<nextToken>  </nextToken></DescribeImagesResponse>"),
		     &err),
		 &err);
	CHECK_INT_EQ(0, out.n);
	CHECK(out.next_token == NULL);
	ams_ec2_images_release(&out);
}

static void test_parse_describe_images_unordered(void)
{
	struct ams_ec2_images out;
	struct ams_err err = AMS_ERR_INIT;
	const struct ams_ec2_image *img;
	size_t len;
	char *body = load("describe-images-unordered.xml", &len);

	CHECK_RC(AMS_OK, ams_ec2_parse_describe_images(&out, body, len, &err),
		 &err);
	CHECK_INT_EQ(1, out.n);
	CHECK_STR_EQ("page-3", out.next_token);
	img = out.n ? &out.v[0] : NULL;
	if (img) {
		CHECK_STR_EQ("ami-0bbbbbbbbbbbbbbbb", img->image_id);
		CHECK_STR_EQ("unordered", img->name);
		CHECK_STR_EQ("210987654321", img->owner_id);
		CHECK_INT_EQ(utc("2025-02-01T08:00:00Z"), img->creation_time);
		CHECK_INT_EQ(utc("2026-03-01T00:00:00Z"),
			     img->deprecation_time);
		CHECK_STR_EQ("prod", ams_tags_get(&img->tags, "env"));
		CHECK_STR_EQ("a & b <c> \xc3\xa9t\xc3\xa9",
			     ams_tags_get(&img->tags, "note"));
		CHECK_INT_EQ(1, img->ndevices);
		CHECK_STR_EQ("/dev/xvda", img->devices[0].device_name);
		CHECK_STR_EQ("alias/ebs-cmk", img->devices[0].ebs.kms_key_id);
		CHECK(img->devices[0].ebs.encrypted);
	}
	ams_ec2_images_release(&out);
	free(body);
}

static void test_parse_describe_images_huge(void)
{
	struct ams_buf doc = AMS_BUF_INIT;
	struct ams_ec2_images out;
	struct ams_err err = AMS_ERR_INIT;
	const size_t n = 20000;
	char id[32];
	size_t i;

	ams_buf_addstr(&doc, "<DescribeImagesResponse xmlns=\"http://ec2."
			     "amazonaws.com/doc/2016-11-15/\"><imagesSet>");
	for (i = 0; i < n; i++)
		ams_buf_addf(&doc,
			     "<item><imageId>ami-%017zx</imageId><imageState>"
			     "available</imageState><tagSet><item><key>n</key>"
			     "<value>%zu</value></item></tagSet></item>",
			     i, i);
	ams_buf_addstr(&doc, "</imagesSet></DescribeImagesResponse>");
	CHECK_RC(AMS_OK,
		 ams_ec2_parse_describe_images(&out, doc.buf, doc.len, &err),
		 &err);
	CHECK_INT_EQ(n, out.n);
	if (out.n == n) {
		snprintf(id, sizeof(id), "ami-%017zx", n - 1);
		CHECK_STR_EQ(id, out.v[n - 1].image_id);
		CHECK_STR_EQ("19999", ams_tags_get(&out.v[n - 1].tags, "n"));
	}
	ams_ec2_images_release(&out);
	ams_buf_release(&doc);
}

static void test_parse_describe_images_bad(void)
{
	static const struct {
		const char *doc;
		enum ams_code rc;
		const char *msg;
	} cases[] = {
		{ "<DescribeImagesResponse><imagesSet><item>", AMS_EPARSE,
		  "xml" },
		{ "", AMS_EPARSE, "" },
		{ "<ModifyImageAttributeResponse><return>true</return>"
		  "</ModifyImageAttributeResponse>",
		  AMS_EPARSE, "ModifyImageAttributeResponse" },
		{ "<Response><Errors><Error><Code>AuthFailure</Code>"
		  "</Error></Errors></Response>",
		  AMS_EPARSE, "<Response>" },
		{ "<DescribeImagesResponseX/>", AMS_EPARSE, "unexpected" },
		{ "<DescribeImagesResponse><imagesSet><item><imageState>"
		  "available</imageState></item></imagesSet>"
		  "</DescribeImagesResponse>",
		  AMS_EPARSE, "imageId: missing" },
		{ "<DescribeImagesResponse><imagesSet><item><imageId> "
		  "</imageId></item></imagesSet></DescribeImagesResponse>",
		  AMS_EPARSE, "imageId: empty" },
		{ "<DescribeImagesResponse><imagesSet><item><imageId>ami-1"
		  "</imageId><isPublic>yes</isPublic></item></imagesSet>"
		  "</DescribeImagesResponse>",
		  AMS_EPARSE, "isPublic" },
		{ "<DescribeImagesResponse><imagesSet><item><imageId>ami-1"
		  "</imageId><creationDate>yesterday</creationDate></item>"
		  "</imagesSet></DescribeImagesResponse>",
		  AMS_EPARSE, "creationDate" },
		{ "<DescribeImagesResponse><imagesSet><item><imageId>ami-1"
		  "</imageId><tagSet><item><value>v</value></item></tagSet>"
		  "</item></imagesSet></DescribeImagesResponse>",
		  AMS_EPARSE, "key: missing" },
		{ "<DescribeImagesResponse><imagesSet><item><imageId>ami-1"
		  "</imageId><blockDeviceMapping><item><ebs><volumeSize>-8"
		  "</volumeSize></ebs></item></blockDeviceMapping></item>"
		  "</imagesSet></DescribeImagesResponse>",
		  AMS_EPARSE, "volumeSize" },
		{ "<!DOCTYPE x [<!ENTITY a \"b\">]><DescribeImagesResponse>"
		  "</DescribeImagesResponse>",
		  AMS_EPARSE, "" },
	};
	struct ams_ec2_images out;
	struct ams_err err;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		ams_err_clear(&err);
		CHECK_RC(cases[i].rc,
			 ams_ec2_parse_describe_images(
			     &out, cases[i].doc, strlen(cases[i].doc), &err),
			 &err);
		if (!strstr(err.msg, cases[i].msg))
			printf("# case %zu: '%s'\n", i, err.msg);
		CHECK(strstr(err.msg, cases[i].msg) != NULL);
		CHECK(strstr(err.msg, "DescribeImages response") != NULL);
		/* A failed parse leaves nothing behind. */
		CHECK_INT_EQ(0, out.n);
		CHECK(out.v == NULL);
		CHECK(out.next_token == NULL);
	}
}

static void test_parse_image_attribute(void)
{
	struct ams_ec2_image_attribute out;
	struct ams_err err = AMS_ERR_INIT;
	const char *ou = "arn:aws:organizations::123456789012:ou/o-abcde12345/"
			 "ou-ab12-34cd56ef";
	size_t len;
	char *body = load("describe-image-attribute.xml", &len);

	CHECK_RC(AMS_OK,
		 ams_ec2_parse_describe_image_attribute(&out, body, len, &err),
		 &err);
	CHECK_STR_EQ("ami-0abcdef1234567890", out.image_id);
	CHECK_INT_EQ(2, out.launch_permissions.n);
	CHECK(ams_ec2_perms_has(&out.launch_permissions, AMS_EC2_PERM_USER,
				"111122223333"));
	CHECK(ams_ec2_perms_has(&out.launch_permissions, AMS_EC2_PERM_OU, ou));
	CHECK(out.description == NULL);
	ams_ec2_image_attribute_release(&out);
	free(body);

	body = load("describe-image-attribute-all.xml", &len);
	CHECK_RC(AMS_OK,
		 ams_ec2_parse_describe_image_attribute(&out, body, len, &err),
		 &err);
	CHECK_INT_EQ(5, out.launch_permissions.n);
	if (out.launch_permissions.n == 5) {
		CHECK_INT_EQ(AMS_EC2_PERM_GROUP,
			     out.launch_permissions.v[0].kind);
		CHECK_STR_EQ("all", out.launch_permissions.v[0].value);
		CHECK_INT_EQ(AMS_EC2_PERM_ORG,
			     out.launch_permissions.v[2].kind);
		CHECK_STR_EQ("arn:aws:organizations::123456789012:"
			     "organization/o-abcde12345",
			     out.launch_permissions.v[2].value);
		CHECK_INT_EQ(AMS_EC2_PERM_USER,
			     out.launch_permissions.v[4].kind);
	}
	ams_ec2_image_attribute_release(&out);
	free(body);

	body = load("describe-image-attribute-empty.xml", &len);
	CHECK_RC(AMS_OK,
		 ams_ec2_parse_describe_image_attribute(&out, body, len, &err),
		 &err);
	CHECK_INT_EQ(0, out.launch_permissions.n);
	CHECK_STR_EQ("ami-0abcdef1234567890", out.image_id);
	ams_ec2_image_attribute_release(&out);
	free(body);

	body = load("describe-image-attribute-description.xml", &len);
	CHECK_RC(AMS_OK,
		 ams_ec2_parse_describe_image_attribute(&out, body, len, &err),
		 &err);
	CHECK_STR_EQ("Golden base image", out.description);
	CHECK_INT_EQ(0, out.launch_permissions.n);
	ams_ec2_image_attribute_release(&out);
	free(body);

	/* An item of a grantee kind this program does not know. */
	CHECK_RC(AMS_OK,
		 ams_ec2_parse_describe_image_attribute(
		     &out,
		     LIT("<DescribeImageAttributeResponse><imageId>ami-1"
			 "</imageId><launchPermission><item><futureKind>x"
			 "</futureKind></item><item><userId> 111122223333 "
			 "</userId></item></launchPermission>"
			 "</DescribeImageAttributeResponse>"),
		     &err),
		 &err);
	CHECK_INT_EQ(1, out.launch_permissions.n);
	CHECK(ams_ec2_perms_has(&out.launch_permissions, AMS_EC2_PERM_USER,
				"111122223333"));
	ams_ec2_image_attribute_release(&out);

	CHECK_RC(AMS_EPARSE,
		 ams_ec2_parse_describe_image_attribute(
		     &out,
		     LIT("<DescribeImageAttributeResponse><launchPermission/>"
			 "</DescribeImageAttributeResponse>"),
		     &err),
		 &err);
	CHECK(strstr(err.msg, "imageId") != NULL);
}

static void test_parse_snapshots(void)
{
	struct ams_ec2_snapshots out;
	struct ams_ec2_snapshot_attribute attr;
	struct ams_err err = AMS_ERR_INIT;
	size_t len;
	char *body = load("describe-snapshots.xml", &len);

	CHECK_RC(AMS_OK,
		 ams_ec2_parse_describe_snapshots(&out, body, len, &err), &err);
	CHECK_INT_EQ(2, out.n);
	CHECK_STR_EQ("snap-page-2", out.next_token);
	if (out.n == 2) {
		CHECK_STR_EQ("snap-0123456789abcdef0", out.v[0].snapshot_id);
		CHECK_STR_EQ("completed", out.v[0].state);
		CHECK_STR_EQ("123456789012", out.v[0].owner_id);
		CHECK_STR_EQ("vol-1234567890abcdef0", out.v[0].volume_id);
		CHECK(out.v[0].encrypted);
		CHECK_INT_EQ(8, out.v[0].volume_size_gib);
		CHECK_STR_EQ("arn:aws:kms:us-east-1:123456789012:key/1234abcd-"
			     "12ab-34cd-56ef-1234567890ab",
			     out.v[0].kms_key_id);
		CHECK_STR_EQ("golden base 2025-01",
			     ams_tags_get(&out.v[0].tags, "Name"));
		CHECK_STR_EQ("pending", out.v[1].state);
		CHECK(!out.v[1].encrypted);
		CHECK(out.v[1].kms_key_id == NULL);
		CHECK(out.v[1].description == NULL);
	}
	ams_ec2_snapshots_release(&out);
	free(body);

	body = load("describe-snapshot-attribute.xml", &len);
	CHECK_RC(
	    AMS_OK,
	    ams_ec2_parse_describe_snapshot_attribute(&attr, body, len, &err),
	    &err);
	CHECK_STR_EQ("snap-0123456789abcdef0", attr.snapshot_id);
	CHECK_INT_EQ(2, attr.create_volume_permissions.n);
	CHECK(ams_ec2_perms_has(&attr.create_volume_permissions,
				AMS_EC2_PERM_USER, "111122223333"));
	CHECK(ams_ec2_perms_has(&attr.create_volume_permissions,
				AMS_EC2_PERM_GROUP, "all"));
	ams_ec2_snapshot_attribute_release(&attr);
	free(body);

	CHECK_RC(AMS_EPARSE,
		 ams_ec2_parse_describe_snapshots(
		     &out,
		     LIT("<DescribeSnapshotsResponse><snapshotSet><item>"
			 "<snapshotId>snap-1</snapshotId><encrypted>1"
			 "</encrypted></item></snapshotSet>"
			 "</DescribeSnapshotsResponse>"),
		     &err),
		 &err);
	CHECK(strstr(err.msg, "encrypted") != NULL);
	CHECK(strstr(err.msg, "snap-1") != NULL);
	CHECK_INT_EQ(0, out.n);
}

static void test_parse_describe_tags(void)
{
	struct ams_ec2_resource_tags out;
	struct ams_err err = AMS_ERR_INIT;
	size_t len;
	char *body = load("describe-tags.xml", &len);

	CHECK_RC(AMS_OK, ams_ec2_parse_describe_tags(&out, body, len, &err),
		 &err);
	CHECK_INT_EQ(2, out.n);
	CHECK_STR_EQ("tags-page-2", out.next_token);
	if (out.n == 2) {
		CHECK_STR_EQ("ami-0abcdef1234567890", out.v[0].resource_id);
		CHECK_STR_EQ("image", out.v[0].resource_type);
		CHECK_STR_EQ("Name", out.v[0].key);
		CHECK_STR_EQ("golden base 2025-01", out.v[0].value);
		CHECK_STR_EQ("team", out.v[1].key);
		CHECK_STR_EQ("", out.v[1].value);
	}
	ams_ec2_resource_tags_release(&out);
	free(body);

	/* Leading and trailing spaces of keys and values are data. */
	CHECK_RC(AMS_OK,
		 ams_ec2_parse_describe_tags(
		     &out,
		     LIT("<DescribeTagsResponse><tagSet><item><resourceId>"
			 "snap-1</resourceId><key> k </key></item></tagSet>"
			 "</DescribeTagsResponse>"),
		     &err),
		 &err);
	CHECK_INT_EQ(1, out.n);
	if (out.n == 1) {
		CHECK_STR_EQ(" k ", out.v[0].key);
		CHECK_STR_EQ("", out.v[0].value);
		CHECK(out.v[0].resource_type == NULL);
	}
	ams_ec2_resource_tags_release(&out);
}

static void test_parse_return(void)
{
	static const struct {
		const char *file;
		const char *action;
		enum ams_code rc;
	} cases[] = {
		{ "modify-image-attribute.xml", AMS_EC2_MODIFY_IMAGE_ATTRIBUTE,
		  AMS_OK },
		{ "create-tags.xml", AMS_EC2_CREATE_TAGS, AMS_OK },
		{ "enable-image-deprecation.xml",
		  AMS_EC2_ENABLE_IMAGE_DEPRECATION, AMS_OK },
		{ "return-false.xml", AMS_EC2_CREATE_TAGS, AMS_EAWS },
		{ "return-missing.xml", AMS_EC2_CREATE_TAGS, AMS_EPARSE },
		/* The right document for the wrong action. */
		{ "create-tags.xml", AMS_EC2_DELETE_TAGS, AMS_EPARSE },
		{ "describe-images.xml", AMS_EC2_DESCRIBE_IMAGES, AMS_EPARSE },
	};
	struct ams_err err;
	size_t i, len;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *body = load(cases[i].file, &len);

		ams_err_clear(&err);
		CHECK_RC(cases[i].rc,
			 ams_ec2_parse_return(cases[i].action, body, len, &err),
			 &err);
		if (cases[i].rc)
			CHECK(strstr(err.msg, cases[i].action) != NULL);
		free(body);
	}
}

int main(void)
{
	TEST(test_account_ids, "account ids: exactly 12 digits");
	TEST(test_image_ids, "AMI ids: ami- and 8 or 17 lowercase hex");
	TEST(test_snapshot_ids, "snapshot ids: snap- and 8 or 17 hex");
	TEST(test_utf8_chars, "UTF-8 character counting rejects bad forms");
	TEST(test_tag_keys, "tag keys: characters not bytes, aws: reserved");
	TEST(test_tag_values, "tag values: up to 256 characters, may be empty");
	TEST(test_perm_containers, "launch permission lists");
	TEST(test_build_describe_images_doc,
	     "DescribeImages body matches the documented request");
	TEST(test_build_describe_images_all,
	     "DescribeImages: every list, paging and DryRun");
	TEST(test_build_describe_images_invalid,
	     "DescribeImages: invalid input is refused, nothing added");
	TEST(test_build_image_attribute_calls,
	     "DescribeImageAttribute and ResetImageAttribute");
	TEST(test_build_modify_image_doc,
	     "ModifyImageAttribute body matches the documented request");
	TEST(test_build_modify_image_remove,
	     "ModifyImageAttribute: add and remove of every grantee kind");
	TEST(test_build_modify_image_invalid,
	     "ModifyImageAttribute: malformed grantees are refused");
	TEST(test_build_modify_image_limit,
	     "ModifyImageAttribute: 10000 account ids per call");
	TEST(test_build_snapshot_calls,
	     "DescribeSnapshots and DescribeSnapshotAttribute");
	TEST(test_build_modify_snapshot,
	     "ModifySnapshotAttribute: add xor remove, 500 per call");
	TEST(test_build_create_tags_doc,
	     "CreateTags body matches the documented request");
	TEST(test_build_create_tags_limits,
	     "CreateTags: 1000 resources, 50 tags, valid keys");
	TEST(test_build_delete_tags, "DeleteTags with and without values");
	TEST(test_build_describe_tags, "DescribeTags filters and paging");
	TEST(test_build_deprecation, "Enable/DisableImageDeprecation");
	TEST(test_dry_run_ok, "DryRunOperation means permitted");
	TEST(test_parse_describe_images_doc,
	     "DescribeImages: the documented response, every field");
	TEST(test_parse_describe_images_paged,
	     "DescribeImages: product codes, devices, optional elements");
	TEST(test_parse_describe_images_empty,
	     "DescribeImages: empty sets, empty and blank nextToken");
	TEST(test_parse_describe_images_unordered,
	     "DescribeImages: any order, unknown elements, namespaces");
	TEST(test_parse_describe_images_huge, "DescribeImages: 20000 images");
	TEST(test_parse_describe_images_bad,
	     "DescribeImages: malformed documents fail cleanly");
	TEST(test_parse_image_attribute,
	     "DescribeImageAttribute: every grantee kind, description");
	TEST(test_parse_snapshots,
	     "DescribeSnapshots and DescribeSnapshotAttribute");
	TEST(test_parse_describe_tags, "DescribeTags keeps keys exact");
	TEST(test_parse_return, "void actions need <return>true</return>");
	return test_done();
}
