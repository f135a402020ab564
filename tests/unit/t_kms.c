/*
 * Unit tests for the KMS module: JSON request bodies (the documented
 * CreateGrant body among them) with their local checks, and the pure
 * parsers on fixture documents in tests/fixtures/kms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "harness.h"
#include "kms.h"
#include "typed_test.h"
#include "xmem.h"

#define KEY_ARN                                   \
	"arn:aws:kms:eu-west-1:111122223333:key/" \
	"1234abcd-12ab-34cd-56ef-1234567890ab"
#define ASG_ROLE                                                       \
	"arn:aws:iam::444455556666:role/aws-service-role/autoscaling." \
	"amazonaws.com/AWSServiceRoleForAutoScaling"

static char *load(const char *name, size_t *len)
{
	return test_fixture_load(len, "kms", name);
}

static void test_build_create_grant_doc(void)
{
	static const char *const ops[] = {
		"Decrypt",	   "Encrypt",
		"GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
		"ReEncryptFrom",   "ReEncryptTo",
		"CreateGrant",	   "DescribeKey",
	};
	struct ams_kms_create_grant_req req = { 0 };
	struct ams_buf body = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;

	req.key_id = KEY_ARN;
	req.grantee_principal = ASG_ROLE;
	req.operations = ops;
	req.noperations = ARRAY_SIZE(ops);
	CHECK_RC(AMS_OK, ams_kms_build_create_grant(&body, &req, &err), &err);
	/* aws-behaviour.md §10.1, written compactly. */
	CHECK_STR_EQ("{\"KeyId\":\"" KEY_ARN
		     "\",\"GranteePrincipal\":\"" ASG_ROLE
		     "\",\"Operations\":[\"Decrypt\",\"Encrypt\","
		     "\"GenerateDataKey\",\"GenerateDataKeyWithoutPlaintext\","
		     "\"ReEncryptFrom\",\"ReEncryptTo\",\"CreateGrant\","
		     "\"DescribeKey\"]}",
		     body.buf);
	ams_buf_reset(&body);

	req.name = "amishare-444455556666";
	req.retiring_principal = "arn:aws:iam::444455556666:root";
	req.noperations = 1;
	req.dry_run = true;
	CHECK_RC(AMS_OK, ams_kms_build_create_grant(&body, &req, &err), &err);
	CHECK_STR_EQ("{\"KeyId\":\"" KEY_ARN
		     "\",\"GranteePrincipal\":\"" ASG_ROLE
		     "\",\"Operations\":[\"Decrypt\"],\"Name\":\"amishare-"
		     "444455556666\",\"RetiringPrincipal\":\"arn:aws:iam::"
		     "444455556666:root\",\"DryRun\":true}",
		     body.buf);
	ams_buf_release(&body);
}

static void test_build_create_grant_invalid(void)
{
	static const char *const good_ops[] = { "Decrypt" };
	static const char *const bad_ops[] = { "Decrypt", "decrypt" };
	struct ams_kms_create_grant_req good = { 0 }, req;
	struct ams_buf body = AMS_BUF_INIT;
	struct ams_err err;
	char *long_name = xcalloc(258, 1);
	int c;

	memset(long_name, 'n', 257);
	good.key_id = KEY_ARN;
	good.grantee_principal = ASG_ROLE;
	good.operations = good_ops;
	good.noperations = 1;
	for (c = 0; c < 8; c++) {
		req = good;
		ams_err_clear(&err);
		switch (c) {
		case 0: req.key_id = NULL; break;
		case 1: req.key_id = "key id with spaces"; break;
		case 2: req.grantee_principal = ""; break;
		case 3:
			req.grantee_principal = "arn:aws:iam::1:role/a b";
			break;
		case 4: req.noperations = 0; break;
		case 5:
			req.operations = bad_ops;
			req.noperations = 2;
			break;
		case 6: req.name = "has space"; break;
		case 7: req.name = long_name; break;
		}
		CHECK_RC(AMS_EUSAGE,
			 ams_kms_build_create_grant(&body, &req, &err), &err);
		CHECK(err.msg[0] != '\0');
		CHECK_INT_EQ(0, body.len);
	}
	CHECK(strstr(err.msg, "grant name") != NULL);
	ams_buf_release(&body);
	free(long_name);
}

static void test_build_other_calls(void)
{
	struct ams_buf body = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;

	CHECK_RC(AMS_OK, ams_kms_build_describe_key(&body, "alias/ebs", &err),
		 &err);
	CHECK_STR_EQ("{\"KeyId\":\"alias/ebs\"}", body.buf);
	ams_buf_reset(&body);
	CHECK_RC(AMS_OK,
		 ams_kms_build_list_grants(&body, KEY_ARN, NULL, 0, &err),
		 &err);
	CHECK_STR_EQ("{\"KeyId\":\"" KEY_ARN "\"}", body.buf);
	ams_buf_reset(&body);
	CHECK_RC(AMS_OK,
		 ams_kms_build_list_grants(&body, KEY_ARN, "eyJtYXJrZXIiOjJ9",
					   100, &err),
		 &err);
	CHECK_STR_EQ("{\"KeyId\":\"" KEY_ARN "\",\"Limit\":100,\"Marker\":"
		     "\"eyJtYXJrZXIiOjJ9\"}",
		     body.buf);
	ams_buf_reset(&body);
	CHECK_RC(
	    AMS_OK,
	    ams_kms_build_retire_grant(&body, KEY_ARN, "0c2374", false, &err),
	    &err);
	CHECK_STR_EQ("{\"KeyId\":\"" KEY_ARN "\",\"GrantId\":\"0c2374\"}",
		     body.buf);
	ams_buf_reset(&body);
	CHECK_RC(
	    AMS_OK,
	    ams_kms_build_revoke_grant(&body, KEY_ARN, "0c2374", true, &err),
	    &err);
	CHECK_STR_EQ("{\"KeyId\":\"" KEY_ARN "\",\"GrantId\":\"0c2374\","
		     "\"DryRun\":true}",
		     body.buf);
	ams_buf_reset(&body);

	CHECK_RC(AMS_EUSAGE, ams_kms_build_describe_key(&body, "", &err), &err);
	CHECK_RC(AMS_EUSAGE,
		 ams_kms_build_list_grants(&body, KEY_ARN, NULL, 101, &err),
		 &err);
	CHECK_RC(AMS_EUSAGE,
		 ams_kms_build_revoke_grant(&body, KEY_ARN, "", false, &err),
		 &err);
	CHECK_RC(
	    AMS_EUSAGE,
	    ams_kms_build_retire_grant(&body, KEY_ARN, "a\"b", false, &err),
	    &err);
	CHECK_INT_EQ(0, body.len);
	ams_buf_release(&body);
}

static void test_parse_describe_key(void)
{
	struct ams_kms_key key;
	struct ams_err err = AMS_ERR_INIT;
	size_t len;
	char *body = load("describe-key.json", &len);

	CHECK_RC(AMS_OK, ams_kms_parse_describe_key(&key, body, len, &err),
		 &err);
	CHECK_STR_EQ("1234abcd-12ab-34cd-56ef-1234567890ab", key.key_id);
	CHECK_STR_EQ("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-"
		     "34cd-56ef-1234567890ab",
		     key.arn);
	CHECK_STR_EQ("111122223333", key.account_id);
	CHECK_STR_EQ("Enabled", key.key_state);
	CHECK_STR_EQ("CUSTOMER", key.key_manager);
	CHECK_STR_EQ("ENCRYPT_DECRYPT", key.key_usage);
	CHECK_STR_EQ("AWS_KMS", key.origin);
	CHECK(key.enabled);
	CHECK(!key.multi_region);
	CHECK(!ams_kms_key_is_aws_managed(&key));
	ams_kms_key_release(&key);
	free(body);

	body = load("describe-key-aws-managed.json", &len);
	CHECK_RC(AMS_OK, ams_kms_parse_describe_key(&key, body, len, &err),
		 &err);
	CHECK(ams_kms_key_is_aws_managed(&key));
	CHECK_STR_EQ("PendingDeletion", key.key_state);
	CHECK(!key.enabled);
	CHECK(key.key_usage == NULL);
	ams_kms_key_release(&key);
	free(body);

	CHECK_RC(
	    AMS_EPARSE,
	    ams_kms_parse_describe_key(&key, LIT("{\"KeyMetadata\":{}}"), &err),
	    &err);
	CHECK(strstr(err.msg, "KeyId: missing") != NULL);
	ams_err_clear(&err);
	CHECK_RC(
	    AMS_EPARSE,
	    ams_kms_parse_describe_key(&key,
				       LIT("{\"KeyMetadata\":{\"KeyId\":\"k\","
					   "\"Enabled\":\"yes\"}}"),
				       &err),
	    &err);
	CHECK(strstr(err.msg, "Enabled") != NULL);
	CHECK(key.key_id == NULL);
	ams_err_clear(&err);
	CHECK_RC(AMS_EPARSE, ams_kms_parse_describe_key(&key, LIT("{}"), &err),
		 &err);
	CHECK(strstr(err.msg, "DescribeKey response") != NULL);
}

static void test_parse_create_grant(void)
{
	struct ams_kms_grant_created g;
	struct ams_err err = AMS_ERR_INIT;
	size_t len;
	char *body = load("create-grant.json", &len);

	CHECK_RC(AMS_OK, ams_kms_parse_create_grant(&g, body, len, &err), &err);
	CHECK_STR_EQ("0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e"
		     "9f3d6a60",
		     g.grant_id);
	CHECK(g.grant_token && !strncmp(g.grant_token, "AQpAM2Rh", 8));
	ams_kms_grant_created_release(&g);
	free(body);

	body = load("empty.json", &len);
	CHECK_RC(AMS_EPARSE, ams_kms_parse_create_grant(&g, body, len, &err),
		 &err);
	CHECK(strstr(err.msg, "GrantId") != NULL);
	CHECK(g.grant_id == NULL);
	free(body);
}

static void test_parse_list_grants(void)
{
	struct ams_kms_grants gs;
	struct ams_err err = AMS_ERR_INIT;
	size_t len;
	char *body = load("list-grants.json", &len);

	CHECK_RC(AMS_OK, ams_kms_parse_list_grants(&gs, body, len, &err), &err);
	CHECK_INT_EQ(2, gs.n);
	CHECK_STR_EQ("eyJtYXJrZXIiOjJ9", gs.next_marker);
	if (gs.n == 2) {
		CHECK_STR_EQ("amishare-444455556666", gs.v[0].name);
		CHECK_STR_EQ(ASG_ROLE, gs.v[0].grantee_principal);
		CHECK_STR_EQ("arn:aws:iam::444455556666:root",
			     gs.v[0].retiring_principal);
		CHECK_STR_EQ("arn:aws:iam::444455556666:root",
			     gs.v[0].issuing_account);
		CHECK_INT_EQ(8, gs.v[0].noperations);
		CHECK(ams_kms_grant_allows(&gs.v[0], "CreateGrant"));
		CHECK(!ams_kms_grant_allows(&gs.v[0], "Sign"));
		CHECK_INT_EQ(1608148006, gs.v[0].creation_time);
		/* An empty Name reads as no name. */
		CHECK(gs.v[1].name == NULL);
		CHECK(gs.v[1].retiring_principal == NULL);
		CHECK_INT_EQ(1, gs.v[1].noperations);
		CHECK_INT_EQ(1608148007, gs.v[1].creation_time);
	}
	ams_kms_grants_release(&gs);
	free(body);

	body = load("list-grants-last.json", &len);
	CHECK_RC(AMS_OK, ams_kms_parse_list_grants(&gs, body, len, &err), &err);
	CHECK_INT_EQ(0, gs.n);
	CHECK(gs.next_marker == NULL);
	ams_kms_grants_release(&gs);
	free(body);

	/* A marker without Truncated is not a reason to go on. */
	CHECK_RC(AMS_OK,
		 ams_kms_parse_list_grants(
		     &gs,
		     LIT("{\"Grants\":null,\"NextMarker\":\"m\","
			 "\"Truncated\":false}"),
		     &err),
		 &err);
	CHECK(gs.next_marker == NULL);
	ams_kms_grants_release(&gs);

	CHECK_RC(AMS_EPARSE,
		 ams_kms_parse_list_grants(
		     &gs, LIT("{\"Grants\":[],\"Truncated\":true}"), &err),
		 &err);
	CHECK(strstr(err.msg, "NextMarker") != NULL);
	ams_err_clear(&err);
	CHECK_RC(AMS_EPARSE,
		 ams_kms_parse_list_grants(
		     &gs,
		     LIT("{\"Grants\":[{\"GrantId\":\"g\",\"Operations\":"
			 "[\"Decrypt\",7]}]}"),
		     &err),
		 &err);
	CHECK(strstr(err.msg, "Grants[0]") != NULL);
	CHECK(strstr(err.msg, "Operations[1]") != NULL);
	CHECK_INT_EQ(0, gs.n);
	ams_err_clear(&err);
	CHECK_RC(AMS_EPARSE,
		 ams_kms_parse_list_grants(&gs, LIT("{\"Grants\":[{}]}"), &err),
		 &err);
	CHECK(strstr(err.msg, "GrantId") != NULL);
	ams_err_clear(&err);
	/* A date no time_t holds is malformed, not undefined behaviour. */
	CHECK_RC(
	    AMS_EPARSE,
	    ams_kms_parse_list_grants(&gs,
				      LIT("{\"Grants\":[{\"GrantId\":\"g\","
					  "\"CreationDate\":1.6E60104}]}"),
				      &err),
	    &err);
	CHECK(strstr(err.msg, "CreationDate") != NULL);
	CHECK_INT_EQ(0, gs.n);
}

int main(void)
{
	TEST(test_build_create_grant_doc,
	     "CreateGrant body matches the documented request");
	TEST(test_build_create_grant_invalid,
	     "CreateGrant: ids, principals, operations, names are checked");
	TEST(test_build_other_calls,
	     "DescribeKey, ListGrants, RetireGrant, RevokeGrant bodies");
	TEST(test_parse_describe_key,
	     "DescribeKey: customer and AWS managed keys");
	TEST(test_parse_create_grant, "CreateGrant: id and token");
	TEST(test_parse_list_grants,
	     "ListGrants: operations, markers, truncation");
	return test_done();
}
