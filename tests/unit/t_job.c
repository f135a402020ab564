/*
 * Unit tests for the job model (status, role ARNs, desired tags) and the
 * report rendered from it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "job.h"
#include "manifest.h"
#include "fileio.h"
#include "report.h"

static void make_job(struct ams_job *job, size_t nr_accounts)
{
	struct ams_job_config cfg;
	struct ams_image_ref refs[2];
	static char *accts[] = { NULL, NULL, NULL };
	static char a0[] = "222222222222", a1[] = "333333333333",
		    a2[] = "444444444444";
	size_t i;

	accts[0] = a0;
	accts[1] = a1;
	accts[2] = a2;
	memset(&cfg, 0, sizeof(cfg));
	cfg.accounts = xcalloc(nr_accounts, sizeof(char *));
	for (i = 0; i < nr_accounts; i++)
		cfg.accounts[i] = xstrdup(accts[i]);
	cfg.nr_accounts = nr_accounts;
	cfg.copy_tags = true;
	memset(refs, 0, sizeof(refs));
	refs[0].region = (char *)(uintptr_t) "us-east-1";
	refs[0].ami_id = (char *)(uintptr_t) "ami-0123456789abcdef0";
	refs[0].origin = (char *)(uintptr_t) "--ami";
	refs[1].region = (char *)(uintptr_t) "eu-west-1";
	refs[1].ami_id = (char *)(uintptr_t) "ami-0123456789abcdef1";
	refs[1].origin = (char *)(uintptr_t) "--ami";
	ams_job_init(job, &cfg, refs, 2);
	ams_job_make_items(job);
}

static void all_source_ok(struct ams_job *job)
{
	size_t i;

	for (i = 0; i < job->nr_regions; i++) {
		job->regions[i].describe = AMS_OUT_OK;
		job->regions[i].share = AMS_OUT_OK;
	}
}

static void test_layout(void)
{
	struct ams_job job;

	make_job(&job, 3);
	CHECK_INT_EQ(2, job.nr_regions);
	CHECK_INT_EQ(3, job.nr_accounts);
	CHECK_INT_EQ(6, job.nr_items);
	CHECK_INT_EQ(1, ams_job_item(&job, 1, 0)->region);
	CHECK_INT_EQ(2, ams_job_item(&job, 0, 2)->account);
	CHECK(!ams_job_add_account(&job, "333333333333", "account"));
	CHECK(ams_job_add_account(&job, "555555555555", "ou"));
	CHECK_INT_EQ(4, job.nr_accounts);
	ams_job_release(&job);
}

static void test_status(void)
{
	struct ams_job job;
	size_t i;

	make_job(&job, 2);
	CHECK_STR_EQ("failed", ams_job_status(&job));
	all_source_ok(&job);
	for (i = 0; i < job.nr_items; i++)
		job.items[i].status = AMS_OUT_OK;
	CHECK(ams_job_all_ok(&job));
	CHECK_STR_EQ("ok", ams_job_status(&job));
	job.items[3].status = AMS_OUT_FAILED;
	CHECK(!ams_job_all_ok(&job));
	CHECK_STR_EQ("partial", ams_job_status(&job));
	job.items[3].status = AMS_OUT_SKIPPED;
	CHECK_STR_EQ("partial", ams_job_status(&job));
	job.items[3].status = AMS_OUT_OK;
	job.cfg.share_snapshots = true; /* snapshots not shared yet */
	CHECK_STR_EQ("partial", ams_job_status(&job));
	job.regions[0].snapshot_share = AMS_OUT_OK;
	job.regions[1].snapshot_share = AMS_OUT_OK;
	CHECK_STR_EQ("ok", ams_job_status(&job));
	job.interrupted = true;
	CHECK(!ams_job_all_ok(&job));
	ams_job_release(&job);
}

static void test_role_arn(void)
{
	struct ams_err err = AMS_ERR_INIT;
	char *arn;

	CHECK_RC(AMS_OK,
		 ams_job_role_arn(&arn,
				  "arn:{partition}:iam::{account}:role/ci/T",
				  "222222222222", "aws-cn", &err),
		 &err);
	CHECK_STR_EQ("arn:aws-cn:iam::222222222222:role/ci/T", arn);
	free(arn);
	CHECK_INT_EQ(AMS_EUSAGE,
		     ams_job_role_arn(&arn, "arn:aws:iam::{acct}:role/x",
				      "222222222222", "aws", &err));
	CHECK(arn == NULL);
	CHECK(strstr(err.msg, "unknown placeholder") != NULL);
}

static void test_desired_tags(void)
{
	struct ams_job_config cfg;
	struct ams_tags src = AMS_TAGS_INIT, out = AMS_TAGS_INIT;
	static char inc0[] = "team*", inc1[] = "Name", exc0[] = "*secret";
	static char *inc[] = { inc0, inc1 }, *exc[] = { exc0 };

	memset(&cfg, 0, sizeof(cfg));
	ams_tags_set(&src, "Name", "golden");
	ams_tags_set(&src, "team", "a");
	ams_tags_set(&src, "team-secret", "x");
	ams_tags_set(&src, "cost", "1");
	ams_tags_set(&cfg.provenance_tags, "provenance:commit", "abc");
	ams_tags_set(&cfg.extra_tags, "Name", "override");
	cfg.copy_tags = true;
	cfg.include_tags = inc;
	cfg.nr_include_tags = 2;
	cfg.exclude_tags = exc;
	cfg.nr_exclude_tags = 1;
	ams_job_desired_tags(&out, &cfg, &src);
	CHECK_INT_EQ(3, out.n);
	CHECK_STR_EQ("override", ams_tags_get(&out, "Name"));
	CHECK_STR_EQ("a", ams_tags_get(&out, "team"));
	CHECK_STR_EQ("abc", ams_tags_get(&out, "provenance:commit"));
	CHECK(ams_tags_get(&out, "cost") == NULL);
	ams_tags_release(&out);
	cfg.copy_tags = false;
	ams_job_desired_tags(&out, &cfg, &src);
	CHECK_INT_EQ(2, out.n);
	ams_tags_release(&out);
	ams_tags_release(&src);
	ams_tags_release(&cfg.provenance_tags);
	ams_tags_release(&cfg.extra_tags);
}

/*
 * The report file is streamed in chunks; it must hold exactly the bytes
 * of the in-memory document, across many chunk boundaries.
 */
static void test_report_streamed_equals_memory(void)
{
	enum { NACCT = 1500 };
	struct ams_job_config cfg;
	struct ams_image_ref refs[2];
	struct ams_job job;
	struct ams_report_meta meta;
	struct ams_buf mem = AMS_BUF_INIT, file = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;
	char path[] = "/tmp/ams-t-job-report.XXXXXX";
	int fd = mkstemp(path);
	size_t i, r;

	CHECK(fd >= 0);
	close(fd);
	memset(&cfg, 0, sizeof(cfg));
	cfg.accounts = xcalloc(NACCT, sizeof(char *));
	for (i = 0; i < NACCT; i++)
		cfg.accounts[i] = xasprintf("%012zu", 200000000000u + i);
	cfg.nr_accounts = NACCT;
	memset(refs, 0, sizeof(refs));
	refs[0].region = (char *)(uintptr_t) "us-east-1";
	refs[0].ami_id = (char *)(uintptr_t) "ami-0123456789abcdef0";
	refs[1].region = (char *)(uintptr_t) "eu-west-1";
	refs[1].ami_id = (char *)(uintptr_t) "ami-0123456789abcdef1";
	ams_job_init(&job, &cfg, refs, 2);
	ams_job_make_items(&job);
	all_source_ok(&job);
	for (r = 0; r < 2; r++)
		for (i = 0; i < 12; i++) {
			char *k = xasprintf("key-%zu", i);

			ams_tags_set(&job.regions[r].desired, k, "v\"al\\ue");
			free(k);
		}
	for (i = 0; i < job.nr_items; i++) {
		job.items[i].status = AMS_OUT_OK;
		job.items[i].written = (uint64_t)i & 0xfff;
		if (i % 97 == 0) {
			job.items[i].status = AMS_OUT_FAILED;
			job.items[i].failed_step = "create-tags";
			ams_fail_aws(ams_job_item_err(&job.items[i]), 400,
				     "InvalidParameterValue", "req", "bad");
		}
	}
	memset(&meta, 0, sizeof(meta));
	meta.command = "share";
	ams_report_json(&mem, &job, &meta);
	CHECK(mem.len > 10 * 65536);
	CHECK_RC(AMS_OK, ams_report_write(path, &job, &meta, &err), &err);
	CHECK_RC(AMS_OK, ams_file_read(&file, path, 64u << 20, "report", &err),
		 &err);
	CHECK_INT_EQ((long long)mem.len, (long long)file.len);
	CHECK(mem.len == file.len && !memcmp(mem.buf, file.buf, mem.len));
	unlink(path);
	ams_buf_release(&mem);
	ams_buf_release(&file);
	ams_job_release(&job);
}

static void test_report_shapes(void)
{
	struct ams_job job;
	struct ams_report_meta meta;
	struct ams_buf json = AMS_BUF_INIT, text = AMS_BUF_INIT;
	struct ams_job_item *it;

	make_job(&job, 2);
	all_source_ok(&job);
	job.items[0].status = AMS_OUT_OK;
	ams_tags_set(&job.regions[0].desired, "Other", "x");
	ams_tags_set(&job.regions[0].desired, "Name", "a\"b");
	job.items[0].written = 2; /* desired.v[1] */
	job.items[1].status = AMS_OUT_OK;
	job.items[1].unchanged = true;
	job.items[2].status = AMS_OUT_SKIPPED;
	job.items[2].skip_reason = "interrupted before it started";
	it = &job.items[3];
	it->failed_step = "create-tags";
	ams_fail_aws(ams_job_item_err(it), 403, "UnauthorizedOperation",
		     "req-9", "You are not authorized");
	it->status = AMS_OUT_FAILED;
	memset(&meta, 0, sizeof(meta));
	meta.command = "share";
	meta.manifest_path = "m.json";
	ams_report_json(&json, &job, &meta);
	CHECK(strstr(json.buf, "\"schema_version\":1") != NULL);
	CHECK(strstr(json.buf, "\"status\":\"partial\"") != NULL);
	CHECK(strstr(json.buf, "\"Name\":\"a\\\"b\"") != NULL);
	CHECK(strstr(json.buf,
		     "\"error\":{\"step\":\"create-tags\",\"kind\":\"aws\","
		     "\"code\":\"UnauthorizedOperation\",\"http_status\":403,"
		     "\"message\":\"You are not authorized\","
		     "\"request_id\":\"req-9\"}") != NULL);
	CHECK(strstr(json.buf, "\"skip_reason\":\"interrupted before it "
			       "started\"") != NULL);
	CHECK(strstr(json.buf, "\"ok\":2,\"failed\":1,\"skipped\":1") != NULL);
	CHECK(strstr(json.buf, "\"provenance\":null") != NULL);
	ams_report_text(&text, &job, &meta);
	CHECK(strstr(text.buf, "amishare share: partial: 2 images x 2 "
			       "accounts: 2 ok, 1 failed, 1 skipped") != NULL);
	CHECK(strstr(text.buf, "333333333333 failed   create-tags: "
			       "UnauthorizedOperation: You are not "
			       "authorized (request req-9)") != NULL);
	CHECK(strstr(text.buf, "1 tags written") != NULL);
	ams_buf_release(&json);
	ams_buf_release(&text);
	ams_job_release(&job);
}

int main(void)
{
	TEST(test_report_streamed_equals_memory,
	     "report: the streamed file holds the in-memory document");
	TEST(test_layout, "job: regions x accounts items");
	TEST(test_status, "job: ok, partial, failed");
	TEST(test_role_arn, "job: role ARN templates");
	TEST(test_desired_tags, "job: desired tags precedence and filters");
	TEST(test_report_shapes, "report: JSON and text shapes");
	return test_done();
}
