/*
 * Unit tests for the SSM module: parameter name rules (table), the
 * PutParameter body of aws-behaviour.md §11 and its local checks (tags
 * with overwrite, aws:ec2:image values), and the pure parsers on fixture
 * documents in tests/fixtures/ssm.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "harness.h"
#include "ssm.h"
#include "typed_test.h"
#include "xmem.h"

static char *load(const char *name, size_t *len)
{
	return test_fixture_load(len, "ssm", name);
}

static void test_names(void)
{
	char *long_name = xcalloc(AMS_SSM_NAME_MAX + 2, 1);
	const struct id_case cases[] = {
		{ "/golden/ami", 1 },
		{ "golden-ami", 1 },
		{ "golden_ami.v2", 1 },
		{ "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o", 1 }, /* 15 levels */
		{ "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p", 0 },
		{ "golden/ami", 0 },
		{ "/golden//ami", 0 },
		{ "/golden/ami/", 0 },
		{ "/golden ami", 0 },
		{ "/golden/ami$", 0 },
		{ "aws-ami", 0 },
		{ "/AWS/service/x", 0 },
		{ "/Ssm/x", 0 },
		{ "ssmx", 0 },
		{ "/x/aws", 1 },
		{ "", 0 },
		{ long_name, 0 },
	};
	struct ams_err err = AMS_ERR_INIT;

	memset(long_name, 'n', AMS_SSM_NAME_MAX + 1);
	run_id_cases(cases, ARRAY_SIZE(cases), ams_ssm_check_name,
		     "parameter name");
	long_name[AMS_SSM_NAME_MAX] = '\0';
	CHECK_RC(AMS_OK, ams_ssm_check_name(long_name, NULL), NULL);
	CHECK_RC(AMS_EUSAGE, ams_ssm_check_name(NULL, NULL), NULL);
	CHECK_RC(AMS_EUSAGE, ams_ssm_check_name("/aws/x", &err), &err);
	CHECK(strstr(err.msg, "reserved") != NULL);
	free(long_name);
}

static void test_build_put_parameter_doc(void)
{
	struct ams_ssm_put_parameter_req req = { 0 };
	struct ams_buf body = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;
	struct ams_tag tags[2];

	req.name = "/golden/ami";
	req.value = "ami-0abcdef1234567890";
	req.type = "String";
	req.data_type = AMS_SSM_DATA_TYPE_IMAGE;
	req.overwrite = true;
	CHECK_RC(AMS_OK, ams_ssm_build_put_parameter(&body, &req, &err), &err);
	/* aws-behaviour.md §11, written compactly. */
	CHECK_STR_EQ("{\"Name\":\"/golden/ami\",\"Value\":\"ami-0abcdef123456"
		     "7890\",\"Type\":\"String\",\"DataType\":\"aws:ec2:image"
		     "\",\"Overwrite\":true}",
		     body.buf);
	ams_buf_reset(&body);

	/* Creating with tags and a description, no overwrite. */
	tags[0] = tag("team", "images");
	tags[1] = tag("empty", "");
	req.overwrite = false;
	req.tags = tags;
	req.ntags = 2;
	req.description = "latest \"golden\" AMI";
	CHECK_RC(AMS_OK, ams_ssm_build_put_parameter(&body, &req, &err), &err);
	CHECK_STR_EQ("{\"Name\":\"/golden/ami\",\"Description\":\"latest "
		     "\\\"golden\\\" AMI\",\"Value\":\"ami-0abcdef1234567890\","
		     "\"Type\":\"String\",\"DataType\":\"aws:ec2:image\","
		     "\"Tags\":[{\"Key\":\"team\",\"Value\":\"images\"},"
		     "{\"Key\":\"empty\",\"Value\":\"\"}]}",
		     body.buf);
	ams_buf_reset(&body);

	/* An update without type or data type sends only what is given. */
	memset(&req, 0, sizeof(req));
	req.name = "plain";
	req.value = "any text";
	req.overwrite = true;
	CHECK_RC(AMS_OK, ams_ssm_build_put_parameter(&body, &req, &err), &err);
	CHECK_STR_EQ("{\"Name\":\"plain\",\"Value\":\"any text\","
		     "\"Overwrite\":true}",
		     body.buf);
	ams_buf_release(&body);
}

static void test_build_put_parameter_invalid(void)
{
	struct ams_ssm_put_parameter_req good = { 0 }, req;
	struct ams_buf body = AMS_BUF_INIT;
	struct ams_err err;
	struct ams_tag tags[1];
	char *big = xcalloc(AMS_SSM_VALUE_MAX + 2, 1);
	int c;

	memset(big, 'v', AMS_SSM_VALUE_MAX + 1);
	tags[0] = tag("team", "images");
	good.name = "/golden/ami";
	good.value = "ami-0abcdef1234567890";
	good.type = "String";
	good.data_type = AMS_SSM_DATA_TYPE_IMAGE;
	for (c = 0; c < 9; c++) {
		const char *want = "";

		req = good;
		ams_err_clear(&err);
		switch (c) {
		case 0:
			req.tags = tags;
			req.ntags = 1;
			req.overwrite = true;
			want = "overwrite";
			break;
		case 1:
			req.value = "golden-base-2025-01";
			want = "AMI id";
			break;
		case 2:
			req.value = "ami-0ABCDEF1234567890";
			want = "AMI id";
			break;
		case 3:
			req.type = "Text";
			want = "type";
			break;
		case 4:
			req.data_type = "aws:ec2:ami";
			want = "data type";
			break;
		case 5:
			req.value = "";
			want = "empty value";
			break;
		case 6:
			req.data_type = NULL;
			req.value = big;
			want = "bytes";
			break;
		case 7:
			req.name = "/aws/golden";
			want = "reserved";
			break;
		case 8:
			tags[0] = tag("", "x");
			req.tags = tags;
			req.ntags = 1;
			want = "tag 1";
			break;
		}
		CHECK_RC(AMS_EUSAGE,
			 ams_ssm_build_put_parameter(&body, &req, &err), &err);
		if (!strstr(err.msg, want))
			printf("# case %d: '%s'\n", c, err.msg);
		CHECK(strstr(err.msg, want) != NULL);
		CHECK_INT_EQ(0, body.len);
	}
	ams_buf_release(&body);
	free(big);
}

static void test_build_get_delete(void)
{
	struct ams_buf body = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;

	CHECK_RC(AMS_OK,
		 ams_ssm_build_get_parameter(&body, "/golden/ami", false, &err),
		 &err);
	CHECK_STR_EQ("{\"Name\":\"/golden/ami\"}", body.buf);
	ams_buf_reset(&body);
	CHECK_RC(AMS_OK,
		 ams_ssm_build_get_parameter(&body, "/golden/ami", true, &err),
		 &err);
	CHECK_STR_EQ("{\"Name\":\"/golden/ami\",\"WithDecryption\":true}",
		     body.buf);
	ams_buf_reset(&body);
	CHECK_RC(AMS_OK,
		 ams_ssm_build_delete_parameter(&body, "/golden/ami", &err),
		 &err);
	CHECK_STR_EQ("{\"Name\":\"/golden/ami\"}", body.buf);
	ams_buf_reset(&body);
	CHECK_RC(AMS_EUSAGE,
		 ams_ssm_build_delete_parameter(&body, "golden/ami", &err),
		 &err);
	CHECK_INT_EQ(0, body.len);
	ams_buf_release(&body);
}

static void test_parse_put_parameter(void)
{
	struct ams_ssm_put_result r;
	struct ams_err err = AMS_ERR_INIT;
	size_t len;
	char *body = load("put-parameter.json", &len);

	CHECK_RC(AMS_OK, ams_ssm_parse_put_parameter(&r, body, len, &err),
		 &err);
	CHECK_INT_EQ(3, r.version);
	CHECK_STR_EQ("Standard", r.tier);
	ams_ssm_put_result_release(&r);
	free(body);

	CHECK_RC(AMS_OK,
		 ams_ssm_parse_put_parameter(&r, LIT("{\"Version\":1}"), &err),
		 &err);
	CHECK_INT_EQ(1, r.version);
	CHECK(r.tier == NULL);
	ams_ssm_put_result_release(&r);

	body = load("delete-parameter.json", &len);
	CHECK_RC(AMS_EPARSE, ams_ssm_parse_put_parameter(&r, body, len, &err),
		 &err);
	CHECK(strstr(err.msg, "Version") != NULL);
	CHECK(strstr(err.msg, "PutParameter response") != NULL);
	free(body);
	ams_err_clear(&err);
	CHECK_RC(AMS_EPARSE,
		 ams_ssm_parse_put_parameter(&r, LIT("{\"Version\":-1}"), &err),
		 &err);
}

static void test_parse_get_parameter(void)
{
	struct ams_ssm_parameter p;
	struct ams_err err = AMS_ERR_INIT;
	size_t len;
	char *body = load("get-parameter.json", &len);

	CHECK_RC(AMS_OK, ams_ssm_parse_get_parameter(&p, body, len, &err),
		 &err);
	CHECK_STR_EQ("/golden/ami", p.name);
	CHECK_STR_EQ("String", p.type);
	CHECK_STR_EQ("ami-0abcdef1234567890", p.value);
	CHECK_STR_EQ("aws:ec2:image", p.data_type);
	CHECK_STR_EQ("arn:aws:ssm:us-east-1:123456789012:parameter/golden/ami",
		     p.arn);
	CHECK_INT_EQ(3, p.version);
	CHECK_INT_EQ(1736942400, p.last_modified);
	ams_ssm_parameter_release(&p);
	free(body);

	/* A SecureString value becomes a secret the logs never show. */
	CHECK_RC(AMS_OK,
		 ams_ssm_parse_get_parameter(
		     &p,
		     LIT("{\"Parameter\":{\"Name\":\"s\",\"Type\":"
			 "\"SecureString\",\"Value\":\"hunter2-secret\"}}"),
		     &err),
		 &err);
	CHECK(redacted("hunter2-secret"));
	ams_ssm_parameter_release(&p);

	CHECK_RC(AMS_EPARSE,
		 ams_ssm_parse_get_parameter(
		     &p, LIT("{\"Parameter\":{\"Name\":\"n\"}}"), &err),
		 &err);
	CHECK(strstr(err.msg, "Value") != NULL);
	CHECK(p.name == NULL);
	ams_err_clear(&err);
	CHECK_RC(
	    AMS_EPARSE,
	    ams_ssm_parse_get_parameter(&p, LIT("{\"Parameter\":[]}"), &err),
	    &err);
	CHECK(strstr(err.msg, "Parameter") != NULL);
	ams_err_clear(&err);
	/* A date no time_t holds is malformed, not undefined behaviour. */
	CHECK_RC(AMS_EPARSE,
		 ams_ssm_parse_get_parameter(
		     &p,
		     LIT("{\"Parameter\":{\"Name\":\"n\",\"Value\":\"v\","
			 "\"LastModifiedDate\":17369423456789012400.1}}"),
		     &err),
		 &err);
	CHECK(strstr(err.msg, "LastModifiedDate") != NULL);
	CHECK(p.name == NULL);
}

int main(void)
{
	TEST(test_names, "parameter names: charset, hierarchy, reserved");
	TEST(test_build_put_parameter_doc,
	     "PutParameter body matches the documented request");
	TEST(test_build_put_parameter_invalid,
	     "PutParameter: tags with overwrite, non-AMI values refused");
	TEST(test_build_get_delete, "GetParameter and DeleteParameter");
	TEST(test_parse_put_parameter, "PutParameter: version and tier");
	TEST(test_parse_get_parameter,
	     "GetParameter: fields; SecureString values are secrets");
	return test_done();
}
