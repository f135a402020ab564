/*
 * Unit tests for Packer manifest parsing, run selection and artifact ids.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "manifest.h"

static const char two_runs[] =
    "{\"builds\": ["
    " {\"name\": \"base\", \"builder_type\": \"amazon-ebs\","
    "  \"build_time\": 1700000000, \"files\": null,"
    "  \"artifact_id\": \"us-east-1:ami-0aaaaaaaaaaaaaaaa\","
    "  \"packer_run_uuid\": \"run-1\", \"custom_data\": null},"
    " {\"name\": \"base\", \"builder_type\": \"amazon-ebs\","
    "  \"build_time\": 1700000100,"
    "  \"artifact_id\": "
    "\"us-east-1:ami-0bbbbbbbbbbbbbbbb,eu-west-1:ami-0ccccccccccccccc0\","
    "  \"packer_run_uuid\": \"run-2\","
    "  \"custom_data\": {\"team\": \"platform\", \"os\": \"al2023\"}},"
    " {\"name\": \"gpu\", \"builder_type\": \"amazon-ebs\","
    "  \"artifact_id\": \"us-west-2:ami-0ddddddddddddddd0\","
    "  \"packer_run_uuid\": \"run-2\"}"
    "], \"last_run_uuid\": \"run-2\"}";

static void test_parse_fields(void)
{
	struct ams_manifest m;
	struct ams_err err = AMS_ERR_INIT;

	CHECK_RC(
	    AMS_OK,
	    ams_manifest_parse(&m, "m.json", two_runs, strlen(two_runs), &err),
	    &err);
	CHECK_INT_EQ(3, m.nr_builds);
	CHECK_STR_EQ("run-2", m.last_run_uuid);
	CHECK_STR_EQ("base", m.builds[1].name);
	CHECK_STR_EQ("amazon-ebs", m.builds[1].builder_type);
	CHECK_INT_EQ(1700000100, m.builds[1].build_time);
	CHECK_INT_EQ(2, m.builds[1].nr_custom_data);
	CHECK_STR_EQ("team", m.builds[1].custom_data[0].key);
	CHECK_STR_EQ("platform", m.builds[1].custom_data[0].value);
	CHECK_INT_EQ(0, m.builds[0].nr_custom_data);
	CHECK_INT_EQ(2, m.builds[2].index);
	ams_manifest_release(&m);
}

static void test_select(void)
{
	struct ams_manifest m;
	struct ams_err err = AMS_ERR_INIT;
	const struct ams_manifest_build **sel;
	size_t n;

	ams_manifest_parse(&m, "m.json", two_runs, strlen(two_runs), &err);
	/* Default: the last run, every build of it. */
	CHECK_RC(AMS_OK, ams_manifest_select(&sel, &n, &m, NULL, NULL, &err),
		 &err);
	CHECK_INT_EQ(2, n);
	CHECK(n == 2 && sel[0] == &m.builds[1] && sel[1] == &m.builds[2]);
	free(sel);
	/* PACKER_RUN_UUID beats last_run_uuid. */
	CHECK_RC(AMS_OK, ams_manifest_select(&sel, &n, &m, "run-1", NULL, &err),
		 &err);
	CHECK(n == 1 && sel[0] == &m.builds[0]);
	free(sel);
	/* A build name narrows the run. */
	CHECK_RC(AMS_OK, ams_manifest_select(&sel, &n, &m, NULL, "gpu", &err),
		 &err);
	CHECK(n == 1 && sel[0] == &m.builds[2]);
	free(sel);
	/* No match names the file, the run and what it holds. */
	CHECK_RC(AMS_EUSAGE,
		 ams_manifest_select(&sel, &n, &m, "run-1", "gpu", &err), &err);
	CHECK(sel == NULL && n == 0);
	CHECK(strstr(err.msg, "manifest 'm.json'") != NULL);
	CHECK(strstr(err.msg, "named 'gpu'") != NULL);
	CHECK(strstr(err.msg, "run 'run-1'") != NULL);
	CHECK(strstr(err.msg, "'base' (run run-2)") != NULL);
	ams_manifest_release(&m);
}

static void test_select_without_run_ids(void)
{
	static const char doc[] = "{\"builds\": [{\"name\": \"a\", "
				  "\"artifact_id\": \"us-east-1:ami-1\"}]}";
	struct ams_manifest m;
	struct ams_err err = AMS_ERR_INIT;
	const struct ams_manifest_build **sel;
	size_t n;

	CHECK_RC(AMS_OK, ams_manifest_parse(&m, "m", doc, strlen(doc), &err),
		 &err);
	CHECK_RC(AMS_OK, ams_manifest_select(&sel, &n, &m, NULL, NULL, &err),
		 &err);
	CHECK_INT_EQ(1, n);
	free(sel);
	ams_manifest_release(&m);
}

static const struct {
	const char *doc;
	const char *msg; /* substring of the error */
} bad_docs[] = {
	{ "", "not valid JSON (at byte 0)" },
	{ "{\"builds\": [", "not valid JSON" },
	{ "[]", "expected a JSON object" },
	{ "{}", "'builds' is missing or not an array" },
	{ "{\"builds\": {}}", "'builds' is missing or not an array" },
	{ "{\"builds\": [1]}", "builds[0]: expected an object" },
	{ "{\"builds\": [{}, {\"artifact_id\": 5}]}",
	  "builds[1].artifact_id: expected a string" },
	{ "{\"builds\": [{\"name\": []}]}",
	  "builds[0].name: expected a string" },
	{ "{\"builds\": [{\"build_time\": \"x\"}]}",
	  "builds[0].build_time: expected epoch seconds" },
	{ "{\"builds\": [{\"custom_data\": {\"a\": 1}}]}",
	  "builds[0].custom_data.a: expected a string" },
	{ "{\"builds\": [{\"custom_data\": []}]}",
	  "builds[0].custom_data: expected an object" },
	{ "{\"builds\": [], \"last_run_uuid\": 3}",
	  "last_run_uuid: expected a string" },
};

static void test_bad_documents(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad_docs); i++) {
		struct ams_manifest m;
		struct ams_err err = AMS_ERR_INIT;
		enum ams_code rc;

		TEST_BEGIN();
		rc = ams_manifest_parse(&m, "bad.json", bad_docs[i].doc,
					strlen(bad_docs[i].doc), &err);
		CHECK_INT_EQ(AMS_EUSAGE, rc);
		CHECK(strstr(err.msg, "manifest 'bad.json'") != NULL);
		CHECK(strstr(err.msg, bad_docs[i].msg) != NULL);
		if (!strstr(err.msg, bad_docs[i].msg))
			printf("#   got: %s\n", err.msg);
		CHECK(m.builds == NULL && m.nr_builds == 0);
		TEST_END("manifest: rejects %s", bad_docs[i].doc);
	}
}

static void test_artifact_ids(void)
{
	struct ams_image_ref *refs = NULL;
	size_t n = 0;
	struct ams_err err = AMS_ERR_INIT;

	CHECK_RC(AMS_OK,
		 ams_artifact_parse(&refs, &n,
				    "us-east-1:ami-0a, eu-west-1:ami-0b",
				    "m: builds[0].artifact_id", "base", &err),
		 &err);
	CHECK_INT_EQ(2, n);
	CHECK_STR_EQ("us-east-1", refs[0].region);
	CHECK_STR_EQ("ami-0a", refs[0].ami_id);
	CHECK_STR_EQ("eu-west-1", refs[1].region);
	CHECK_STR_EQ("ami-0b", refs[1].ami_id);
	CHECK_STR_EQ("base", refs[1].build);
	CHECK_STR_EQ("m: builds[0].artifact_id", refs[1].origin);
	/* Appends to what is there. */
	CHECK_RC(AMS_OK,
		 ams_artifact_parse(&refs, &n, "ap-south-1:ami-0c", "--ami",
				    NULL, &err),
		 &err);
	CHECK_INT_EQ(3, n);
	CHECK(refs[2].build == NULL);
	ams_image_refs_free(refs, n);
}

static void test_bad_artifact_ids(void)
{
	static const char *const bad[] = {
		"",
		" ",
		"ami-0a",
		"us-east-1:",
		":ami-0a",
		"us-east-1:ami-0a,",
		"sha256:abc:def",
		"us-east-1:ami-0a,,x:y",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct ams_image_ref *refs = NULL;
		size_t n = 0;
		struct ams_err err = AMS_ERR_INIT;

		TEST_BEGIN();
		CHECK_INT_EQ(AMS_EUSAGE,
			     ams_artifact_parse(&refs, &n, bad[i],
						"m: builds[3].artifact_id",
						NULL, &err));
		CHECK(strstr(err.msg, "m: builds[3].artifact_id") != NULL);
		ams_image_refs_free(refs, n);
		TEST_END("artifact: rejects '%s'", bad[i]);
	}
}

int main(void)
{
	TEST(test_parse_fields, "manifest: parses every build field");
	TEST(test_select, "manifest: selects the current run and build");
	TEST(test_select_without_run_ids,
	     "manifest: old manifests without run ids select every build");
	test_bad_documents();
	TEST(test_artifact_ids, "artifact: region:ami pairs");
	test_bad_artifact_ids();
	return test_done();
}
