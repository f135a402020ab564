/*
 * Unit tests for the Organizations module: id and ARN validators
 * (tables after the model's regexes), JSON request bodies, and the pure
 * parsers on fixture documents in tests/fixtures/orgs, including empty
 * pages that still carry a NextToken.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "harness.h"
#include "orgs.h"
#include "typed_test.h"
#include "xmem.h"

static char *load(const char *name, size_t *len)
{
	return test_fixture_load(len, "orgs", name);
}

static void test_org_ids(void)
{
	static const struct id_case cases[] = {
		{ "o-abcde12345", 1 },
		{ "o-0123456789abcdefghijklmnopqrstuv", 1 },  /* 32 */
		{ "o-abcde1234", 0 },			      /* 9 */
		{ "o-0123456789abcdefghijklmnopqrstuvw", 0 }, /* 33 */
		{ "o-ABCDE12345", 0 },
		{ "o-abcde-12345", 0 },
		{ "abcde12345", 0 },
		{ "o-", 0 },
		{ "", 0 },
	};

	run_id_cases(cases, ARRAY_SIZE(cases), ams_orgs_check_org_id, "org id");
}

static void test_ou_and_root_ids(void)
{
	static const struct id_case ous[] = {
		{ "ou-ab12-34cd56ef", 1 },
		{ "ou-abcd-12345678", 1 },
		{ "ou-0123456789abcdefghijklmnopqrstuv-"
		  "0123456789abcdefghijklmnopqrstuv",
		  1 },
		{ "ou-abc-12345678", 0 }, /* 3 */
		{ "ou-abcd-1234567", 0 }, /* 7 */
		{ "ou-ab12-34cd56ef-", 0 },
		{ "ou-AB12-34cd56ef", 0 },
		{ "ou-ab12", 0 },
		{ "r-ab12", 0 },
		{ "", 0 },
	};
	static const struct id_case roots[] = {
		{ "r-ab12", 1 }, { "r-0123456789abcdefghijklmnopqrstuv", 1 },
		{ "r-abc", 0 },	 { "r-0123456789abcdefghijklmnopqrstuvw", 0 },
		{ "r-AB12", 0 }, { "ou-ab12-34cd56ef", 0 },
	};
	static const struct id_case parents[] = {
		{ "r-ab12", 1 },       { "ou-ab12-34cd56ef", 1 },
		{ "o-abcde12345", 0 }, { "111122223333", 0 },
		{ "r-ab12/x", 0 },     { "", 0 },
	};

	run_id_cases(ous, ARRAY_SIZE(ous), ams_orgs_check_ou_id, "ou id");
	run_id_cases(roots, ARRAY_SIZE(roots), ams_orgs_check_root_id,
		     "root id");
	run_id_cases(parents, ARRAY_SIZE(parents), ams_orgs_check_parent_id,
		     "parent id");
}

static void test_org_arns(void)
{
	static const struct id_case cases[] = {
		{ "arn:aws:organizations::123456789012:organization/"
		  "o-abcde12345",
		  1 },
		{ "arn:aws-cn:organizations::123456789012:organization/"
		  "o-abcde12345",
		  1 },
		{ "arn:aws-us-gov:organizations::123456789012:organization/"
		  "o-abcde12345",
		  1 },
		{ "o-abcde12345", 0 },
		{ "arn:aws:organizations::12345678901:organization/"
		  "o-abcde12345",
		  0 },
		{ "arn:aws:organizations:us-east-1:123456789012:organization/"
		  "o-abcde12345",
		  0 },
		{ "arn:aws:organization::123456789012:organization/"
		  "o-abcde12345",
		  0 },
		{ "arn:aws-eu:organizations::123456789012:organization/"
		  "o-abcde12345",
		  0 },
		{ "arn:aws:organizations::123456789012:organization/o-abc", 0 },
		{ "arn:aws:organizations::123456789012:organization/"
		  "o-abcde12345/",
		  0 },
		{ "arn:aws:organizations::123456789012:ou/o-abcde12345/"
		  "ou-ab12-34cd56ef",
		  0 },
		{ "", 0 },
	};

	run_id_cases(cases, ARRAY_SIZE(cases), ams_orgs_check_org_arn,
		     "org ARN");
}

static void test_ou_arns(void)
{
	static const struct id_case cases[] = {
		{ "arn:aws:organizations::123456789012:ou/o-abcde12345/"
		  "ou-ab12-34cd56ef",
		  1 },
		{ "arn:aws-cn:organizations::123456789012:ou/o-abcde12345/"
		  "ou-ab12-34cd56ef",
		  1 },
		{ "ou-ab12-34cd56ef", 0 },
		{ "arn:aws:organizations::123456789012:ou/ou-ab12-34cd56ef",
		  0 },
		{ "arn:aws:organizations::123456789012:ou/o-abcde12345/"
		  "ou-ab12-34cd56e",
		  0 },
		{ "arn:aws:organizations::123456789012:ou/o-abcde12345/"
		  "ou-ab12-34cd56ef/ou-cd34-12345678",
		  0 },
		{ "arn:aws:organizations::123456789012:ou/o-abcde12345/"
		  "r-ab12",
		  0 },
		{ "arn:aws:organizations::123456789012:organization/"
		  "o-abcde12345",
		  0 },
		{ "arn:aws:organizations::1234567890123:ou/o-abcde12345/"
		  "ou-ab12-34cd56ef",
		  0 },
	};
	char *arn;

	run_id_cases(cases, ARRAY_SIZE(cases), ams_orgs_check_ou_arn, "OU ARN");
	arn = ams_orgs_ou_arn("aws", "123456789012", "o-abcde12345",
			      "ou-ab12-34cd56ef");
	CHECK_STR_EQ("arn:aws:organizations::123456789012:ou/o-abcde12345/"
		     "ou-ab12-34cd56ef",
		     arn);
	CHECK_RC(AMS_OK, ams_orgs_check_ou_arn(arn, NULL), NULL);
	free(arn);
}

static void test_builders(void)
{
	struct ams_buf body = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;

	CHECK_RC(AMS_OK, ams_orgs_build_describe_organization(&body, &err),
		 &err);
	CHECK_STR_EQ("{}", body.buf);
	ams_buf_reset(&body);
	CHECK_RC(AMS_OK, ams_orgs_build_list_roots(&body, NULL, 0, &err), &err);
	CHECK_STR_EQ("{}", body.buf);
	ams_buf_reset(&body);
	CHECK_RC(AMS_OK, ams_orgs_build_list_roots(&body, "t\"1", 20, &err),
		 &err);
	CHECK_STR_EQ("{\"MaxResults\":20,\"NextToken\":\"t\\\"1\"}", body.buf);
	ams_buf_reset(&body);
	CHECK_RC(AMS_OK,
		 ams_orgs_build_list_children(&body, "r-ab12",
					      AMS_ORGS_CHILD_OU, "", 0, &err),
		 &err);
	CHECK_STR_EQ("{\"ParentId\":\"r-ab12\",\"ChildType\":"
		     "\"ORGANIZATIONAL_UNIT\"}",
		     body.buf);
	ams_buf_reset(&body);
	CHECK_RC(AMS_OK,
		 ams_orgs_build_list_children(&body, "ou-ab12-34cd56ef",
					      AMS_ORGS_CHILD_ACCOUNT,
					      "AAEAAbcd", 5, &err),
		 &err);
	CHECK_STR_EQ("{\"ParentId\":\"ou-ab12-34cd56ef\",\"ChildType\":"
		     "\"ACCOUNT\",\"MaxResults\":5,\"NextToken\":\"AAEAAbcd\"}",
		     body.buf);
	ams_buf_reset(&body);
	CHECK_RC(AMS_OK,
		 ams_orgs_build_list_accounts_for_parent(
		     &body, "ou-ab12-34cd56ef", "n", 0, &err),
		 &err);
	CHECK_STR_EQ("{\"ParentId\":\"ou-ab12-34cd56ef\",\"NextToken\":\"n\"}",
		     body.buf);
	ams_buf_reset(&body);
	CHECK_RC(
	    AMS_OK,
	    ams_orgs_build_list_ous_for_parent(&body, "r-ab12", NULL, 0, &err),
	    &err);
	CHECK_STR_EQ("{\"ParentId\":\"r-ab12\"}", body.buf);
	ams_buf_reset(&body);

	CHECK_RC(AMS_EUSAGE,
		 ams_orgs_build_list_children(&body, "o-abcde12345",
					      AMS_ORGS_CHILD_OU, NULL, 0, &err),
		 &err);
	CHECK(strstr(err.msg, "'o-abcde12345'") != NULL);
	CHECK_RC(AMS_EUSAGE,
		 ams_orgs_build_list_children(&body, "r-ab12",
					      (enum ams_orgs_child_type)7, NULL,
					      0, &err),
		 &err);
	CHECK_RC(AMS_EUSAGE,
		 ams_orgs_build_list_accounts_for_parent(&body, "r-ab12", NULL,
							 21, &err),
		 &err);
	CHECK_RC(AMS_EUSAGE, ams_orgs_build_list_roots(&body, NULL, 21, &err),
		 &err);
	CHECK_INT_EQ(0, body.len);
	ams_buf_release(&body);
}

static void test_parse_describe_organization(void)
{
	struct ams_orgs_organization org;
	struct ams_err err = AMS_ERR_INIT;
	size_t len;
	char *body = load("describe-organization.json", &len);

	CHECK_RC(AMS_OK,
		 ams_orgs_parse_describe_organization(&org, body, len, &err),
		 &err);
	CHECK_STR_EQ("o-abcde12345", org.id);
	CHECK_STR_EQ("arn:aws:organizations::123456789012:organization/"
		     "o-abcde12345",
		     org.arn);
	CHECK_STR_EQ("ALL", org.feature_set);
	CHECK_STR_EQ("123456789012", org.master_account_id);
	CHECK_STR_EQ("arn:aws:organizations::123456789012:account/"
		     "o-abcde12345/123456789012",
		     org.master_account_arn);
	ams_orgs_organization_release(&org);
	free(body);

	CHECK_RC(AMS_EPARSE,
		 ams_orgs_parse_describe_organization(
		     &org, LIT("{\"Organization\":{\"Arn\":\"x\"}}"), &err),
		 &err);
	CHECK(strstr(err.msg, "Id") != NULL);
	CHECK(strstr(err.msg, "DescribeOrganization response") != NULL);
	CHECK(org.arn == NULL);
	ams_err_clear(&err);
	CHECK_RC(AMS_EPARSE,
		 ams_orgs_parse_describe_organization(&org, LIT("[]"), &err),
		 &err);
	CHECK(strstr(err.msg, "expected a JSON object") != NULL);
	CHECK(org.id == NULL);
	ams_err_clear(&err);
	CHECK_RC(
	    AMS_EPARSE,
	    ams_orgs_parse_describe_organization(&org, LIT("{\"Organ"), &err),
	    &err);
}

static void test_parse_units(void)
{
	struct ams_orgs_units units;
	struct ams_err err = AMS_ERR_INIT;
	size_t len;
	char *body = load("list-roots.json", &len);

	CHECK_RC(AMS_OK, ams_orgs_parse_list_roots(&units, body, len, &err),
		 &err);
	CHECK_INT_EQ(1, units.n);
	if (units.n == 1) {
		CHECK_STR_EQ("r-ab12", units.v[0].id);
		CHECK_STR_EQ("Root", units.v[0].name);
		CHECK_STR_EQ("arn:aws:organizations::123456789012:root/"
			     "o-abcde12345/r-ab12",
			     units.v[0].arn);
	}
	CHECK(units.next_token == NULL);
	ams_orgs_units_release(&units);
	free(body);

	body = load("list-organizational-units-for-parent.json", &len);
	CHECK_RC(AMS_OK,
		 ams_orgs_parse_list_ous_for_parent(&units, body, len, &err),
		 &err);
	CHECK_INT_EQ(2, units.n);
	if (units.n == 2) {
		CHECK_STR_EQ("ou-ab12-99zz88yy", units.v[1].id);
		CHECK_STR_EQ("Sandbox", units.v[1].name);
	}
	ams_orgs_units_release(&units);
	free(body);

	/* A list under the wrong name is not this action's answer. */
	CHECK_RC(
	    AMS_OK,
	    ams_orgs_parse_list_roots(
		&units, LIT("{\"OrganizationalUnits\":[{\"Id\":1}]}"), &err),
	    &err);
	CHECK_INT_EQ(0, units.n);
	ams_orgs_units_release(&units);
	CHECK_RC(
	    AMS_EPARSE,
	    ams_orgs_parse_list_ous_for_parent(
		&units, LIT("{\"OrganizationalUnits\":[{\"Id\":1}]}"), &err),
	    &err);
	CHECK(strstr(err.msg, "OrganizationalUnits[0]") != NULL);
	CHECK_INT_EQ(0, units.n);
}

static void test_parse_children(void)
{
	struct ams_orgs_children ch;
	struct ams_err err = AMS_ERR_INIT;
	size_t len;
	char *body = load("list-children-ous.json", &len);

	CHECK_RC(AMS_OK, ams_orgs_parse_list_children(&ch, body, len, &err),
		 &err);
	CHECK_INT_EQ(2, ch.n);
	CHECK_STR_EQ("AAEAAbcd1234EXAMPLE", ch.next_token);
	if (ch.n == 2) {
		CHECK_STR_EQ("ou-ab12-34cd56ef", ch.v[0].id);
		CHECK_INT_EQ(AMS_ORGS_CHILD_OU, ch.v[0].type);
	}
	ams_orgs_children_release(&ch);
	free(body);

	body = load("list-children-accounts.json", &len);
	CHECK_RC(AMS_OK, ams_orgs_parse_list_children(&ch, body, len, &err),
		 &err);
	CHECK_INT_EQ(2, ch.n);
	CHECK(ch.next_token == NULL);
	if (ch.n == 2) {
		CHECK_STR_EQ("111122223333", ch.v[0].id);
		CHECK_INT_EQ(AMS_ORGS_CHILD_ACCOUNT, ch.v[0].type);
		CHECK_INT_EQ(AMS_ORGS_CHILD_ACCOUNT, ch.v[1].type);
	}
	ams_orgs_children_release(&ch);
	free(body);

	/* An empty page can still carry a token: the listing goes on. */
	body = load("list-children-empty-page.json", &len);
	CHECK_RC(AMS_OK, ams_orgs_parse_list_children(&ch, body, len, &err),
		 &err);
	CHECK_INT_EQ(0, ch.n);
	CHECK_STR_EQ("AAEAAempty-page-token", ch.next_token);
	ams_orgs_children_release(&ch);
	free(body);
}

static void test_parse_children_edge(void)
{
	static const struct {
		const char *doc;
		enum ams_code rc;
		size_t n;
		const char *token;
		const char *msg;
	} cases[] = {
		{ "{}", AMS_OK, 0, NULL, "" },
		{ "{\"Children\":null,\"NextToken\":null}", AMS_OK, 0, NULL,
		  "" },
		{ "{\"Children\":[],\"NextToken\":\"\"}", AMS_OK, 0, NULL, "" },
		{ "{\"NextToken\":\"t\",\"Children\":[],\"Extra\":{\"a\":[1]}}",
		  AMS_OK, 0, "t", "" },
		{ "{\"Children\":{}}", AMS_EPARSE, 0, NULL, "expected array" },
		{ "{\"Children\":[{\"Id\":\"x\",\"Type\":\"ROOT\"}]}",
		  AMS_EPARSE, 0, NULL, "Children[0]" },
		{ "{\"Children\":[{\"Type\":\"ACCOUNT\"}]}", AMS_EPARSE, 0,
		  NULL, "Id" },
		{ "{\"Children\":[],\"NextToken\":5}", AMS_EPARSE, 0, NULL,
		  "NextToken" },
		{ "{\"Children\":[]} x", AMS_EPARSE, 0, NULL, "json" },
	};
	struct ams_orgs_children ch;
	struct ams_err err;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		ams_err_clear(&err);
		CHECK_RC(
		    cases[i].rc,
		    ams_orgs_parse_list_children(&ch, LIT(cases[i].doc), &err),
		    &err);
		CHECK_INT_EQ(cases[i].n, ch.n);
		if (cases[i].token)
			CHECK_STR_EQ(cases[i].token, ch.next_token);
		else
			CHECK(ch.next_token == NULL);
		if (!strstr(err.msg, cases[i].msg))
			printf("# case %zu: '%s'\n", i, err.msg);
		CHECK(strstr(err.msg, cases[i].msg) != NULL);
		ams_orgs_children_release(&ch);
	}
}

static void test_parse_accounts(void)
{
	static const struct {
		const char *id;
		bool active;
	} want[] = {
		{ "111122223333", true },  /* ACTIVE / ACTIVE */
		{ "444455556666", false }, /* SUSPENDED */
		{ "777788889999", false }, /* PENDING_CLOSURE */
		{ "121212121212", true },  /* State only */
		{ "343434343434", true },  /* Status only (older answers) */
		{ "565656565656", false }, /* State wins over Status */
	};
	struct ams_orgs_accounts acc;
	struct ams_err err = AMS_ERR_INIT;
	size_t i, len;
	char *body = load("list-accounts-for-parent.json", &len);

	CHECK_RC(AMS_OK,
		 ams_orgs_parse_list_accounts_for_parent(&acc, body, len, &err),
		 &err);
	CHECK_INT_EQ(ARRAY_SIZE(want), acc.n);
	CHECK_STR_EQ("AAEAAaccounts-page-2", acc.next_token);
	for (i = 0; i < acc.n && i < ARRAY_SIZE(want); i++) {
		CHECK_STR_EQ(want[i].id, acc.v[i].id);
		CHECK(acc.v[i].active == want[i].active);
	}
	if (acc.n) {
		CHECK_STR_EQ("workloads-prod", acc.v[0].name);
		CHECK_STR_EQ("workloads-prod@example.com", acc.v[0].email);
		CHECK_STR_EQ("ACTIVE", acc.v[0].state);
	}
	ams_orgs_accounts_release(&acc);
	free(body);

	CHECK_RC(
	    AMS_EPARSE,
	    ams_orgs_parse_list_accounts_for_parent(
		&acc, LIT("{\"Accounts\":[{\"Id\":\"1\",\"State\":5}]}"), &err),
	    &err);
	CHECK(strstr(err.msg, "Accounts[0]") != NULL);
	CHECK(strstr(err.msg, "State") != NULL);
	CHECK_INT_EQ(0, acc.n);
}

/* Walks pages as a caller must: until NextToken ends, empty pages too. */
static void test_pagination_walk(void)
{
	static const char *const pages[] = {
		"list-children-ous.json",
		"list-children-empty-page.json",
		"list-children-accounts.json",
	};
	struct ams_orgs_children ch;
	struct ams_err err = AMS_ERR_INIT;
	size_t page = 0, total = 0, len;

	do {
		char *body = load(pages[page], &len);
		bool more;

		CHECK_RC(AMS_OK,
			 ams_orgs_parse_list_children(&ch, body, len, &err),
			 &err);
		total += ch.n;
		more = ch.next_token != NULL;
		ams_orgs_children_release(&ch);
		free(body);
		page++;
		if (!more)
			break;
	} while (page < ARRAY_SIZE(pages));
	CHECK_INT_EQ(3, page);
	CHECK_INT_EQ(4, total);
}

int main(void)
{
	TEST(test_org_ids, "organization ids: o-[a-z0-9]{10,32}");
	TEST(test_ou_and_root_ids, "OU, root and parent ids");
	TEST(test_org_arns, "organization ARNs in every partition");
	TEST(test_ou_arns, "OU ARNs, and building one");
	TEST(test_builders, "JSON request bodies and their checks");
	TEST(test_parse_describe_organization, "DescribeOrganization");
	TEST(test_parse_units, "ListRoots, ListOrganizationalUnitsForParent");
	TEST(test_parse_children, "ListChildren: OUs, accounts, empty page");
	TEST(test_parse_children_edge,
	     "ListChildren: null, empty, extra and malformed members");
	TEST(test_parse_accounts,
	     "ListAccountsForParent: only ACTIVE accounts count");
	TEST(test_pagination_walk, "an empty page with a token continues");
	return test_done();
}
