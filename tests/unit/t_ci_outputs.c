/*
 * Unit tests for the CI-native outputs: GitHub workflow command escaping,
 * GITHUB_OUTPUT entries (read back with a parser that follows the
 * runner's rules, so an injected line can never become an output),
 * markdown cells, GitLab dotenv rules and limits, and the writers'
 * file handling and redaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "ci_outputs.h"
#include "harness.h"
#include "job.h"
#include "log.h"
#include "manifest.h"

static const struct {
	const char *in, *data, *property;
} escape_cases[] = {
	{ "", "", "" },
	{ "plain text", "plain text", "plain text" },
	{ "100%", "100%25", "100%25" },
	{ "%0A", "%250A", "%250A" },
	{ "a\nb", "a%0Ab", "a%0Ab" },
	{ "a\r\nb", "a%0D%0Ab", "a%0D%0Ab" },
	{ "title: x, y", "title: x, y", "title%3A x%2C y" },
	{ "::error::x", "::error::x", "%3A%3Aerror%3A%3Ax" },
	{ "%\r\n:,", "%25%0D%0A:,", "%25%0D%0A%3A%2C" },
	{ "caf\xc3\xa9 \xe2\x9c\x93", "caf\xc3\xa9 \xe2\x9c\x93",
	  "caf\xc3\xa9 \xe2\x9c\x93" },
};

static void test_escape(void)
{
	struct ams_buf sb = AMS_BUF_INIT;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(escape_cases); i++) {
		TEST_BEGIN();
		ams_buf_reset(&sb);
		ams_ci_gh_escape_data(&sb, escape_cases[i].in);
		CHECK_STR_EQ(escape_cases[i].data, sb.buf);
		ams_buf_reset(&sb);
		ams_ci_gh_escape_property(&sb, escape_cases[i].in);
		CHECK_STR_EQ(escape_cases[i].property, sb.buf);
		TEST_END("workflow command escaping of case %zu", i);
	}
	ams_buf_release(&sb);
}

static const struct {
	const char *name, *value, *want;
} output_cases[] = {
	{ "status", "ok", "status=ok\n" },
	{ "report", NULL, "report=\n" },
	{ "empty", "", "empty=\n" },
	{ "eq", "a=b<<c", "eq=a=b<<c\n" },
	{ "amis", "{\"us-east-1\":\"ami-1\"}",
	  "amis={\"us-east-1\":\"ami-1\"}\n" },
	{ "two", "a\nb", "two<<AMISHARE_EOF\na\nb\nAMISHARE_EOF\n" },
	{ "cr", "a\rb", "cr<<AMISHARE_EOF\na\rb\nAMISHARE_EOF\n" },
	{ "trail", "a\n", "trail<<AMISHARE_EOF\na\n\nAMISHARE_EOF\n" },
	{ "forge", "x\nAMISHARE_EOF\nstatus=ok",
	  "forge<<AMISHARE_EOF_1\nx\nAMISHARE_EOF\nstatus=ok\n"
	  "AMISHARE_EOF_1\n" },
	{ "forge2", "AMISHARE_EOF_1\nAMISHARE_EOF",
	  "forge2<<AMISHARE_EOF_2\nAMISHARE_EOF_1\nAMISHARE_EOF\n"
	  "AMISHARE_EOF_2\n" },
};

/*
 * Reads GITHUB_OUTPUT text as the runner does: "name=value" when '='
 * comes before any "<<", else "name<<DELIM" and the lines up to one
 * equal to DELIM. Returns the number of entries, filling names/values.
 */
static size_t parse_outputs(const char *text, char **names, char **values,
			    size_t max)
{
	struct ams_str rest = ams_str_from(text), line;
	size_t n = 0;

	while (rest.ptr && rest.len && n < max) {
		const char *eq, *hd;
		char *l;

		line = ams_str_split(&rest, '\n');
		l = ams_str_dup(line);
		eq = strchr(l, '=');
		hd = strstr(l, "<<");
		if (eq && (!hd || eq < hd)) {
			names[n] = xstrndup(l, (size_t)(eq - l));
			values[n++] = xstrdup(eq + 1);
		} else if (hd) {
			struct ams_buf v = AMS_BUF_INIT;
			const char *delim = hd + 2;
			bool first = true, closed = false;

			names[n] = xstrndup(l, (size_t)(hd - l));
			while (rest.ptr) {
				line = ams_str_split(&rest, '\n');
				if (ams_str_eq(line, delim)) {
					closed = true;
					break;
				}
				if (!first)
					ams_buf_addch(&v, '\n');
				first = false;
				ams_buf_add(&v, line.ptr, line.len);
			}
			values[n++] = closed ? ams_buf_detach(&v, NULL)
					     : xstrdup("(unterminated)");
			ams_buf_release(&v);
		}
		free(l);
	}
	return n;
}

static void test_output_entries(void)
{
	struct ams_buf sb = AMS_BUF_INIT;
	char *names[4], *values[4];
	size_t i, n, k;

	for (i = 0; i < ARRAY_SIZE(output_cases); i++) {
		TEST_BEGIN();
		ams_buf_reset(&sb);
		ams_ci_gh_output(&sb, output_cases[i].name,
				 output_cases[i].value);
		CHECK_STR_EQ(output_cases[i].want, sb.buf);
		/* Read back: exactly one entry, the same value. */
		n = parse_outputs(sb.buf, names, values, ARRAY_SIZE(names));
		CHECK_INT_EQ(1, n);
		if (n >= 1) {
			CHECK_STR_EQ(output_cases[i].name, names[0]);
			CHECK_STR_EQ(
			    output_cases[i].value ? output_cases[i].value : "",
			    values[0]);
		}
		for (k = 0; k < n; k++) {
			free(names[k]);
			free(values[k]);
		}
		TEST_END("GITHUB_OUTPUT entry '%s'", output_cases[i].name);
	}
	ams_buf_release(&sb);
}

static const struct {
	const char *prefix, *region, *lower, *upper;
} name_cases[] = {
	{ "ami_", "us-east-1", "ami_us_east_1", "ami_US_EAST_1" },
	{ "AMI_", "eu-west-2", "AMI_eu_west_2", "AMI_EU_WEST_2" },
	{ "", "us-gov-west-1", "us_gov_west_1", "US_GOV_WEST_1" },
	{ "x_", "Cn-North-1", "x_cn_north_1", "x_CN_NORTH_1" },
	{ "x_", "a.b/c d", "x_a_b_c_d", "x_A_B_C_D" },
	{ "x_", "", "x_", "x_" },
};

static void test_var_names(void)
{
	struct ams_buf sb = AMS_BUF_INIT;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(name_cases); i++) {
		TEST_BEGIN();
		ams_buf_reset(&sb);
		ams_ci_var_name(&sb, name_cases[i].prefix, name_cases[i].region,
				false);
		CHECK_STR_EQ(name_cases[i].lower, sb.buf);
		ams_buf_reset(&sb);
		ams_ci_var_name(&sb, name_cases[i].prefix, name_cases[i].region,
				true);
		CHECK_STR_EQ(name_cases[i].upper, sb.buf);
		TEST_END("output name for region '%s'", name_cases[i].region);
	}
	ams_buf_release(&sb);
}

static const struct {
	const char *in, *want;
} md_cases[] = {
	{ "ami-0123", "ami-0123" },
	{ "a|b", "a\\|b" },
	{ "<script>&", "&lt;script&gt;&amp;" },
	{ "line\nbreak\r\tx", "line break  x" },
	{ "*bold* _it_ `code` [l](u) ~s~ \\",
	  "\\*bold\\* \\_it\\_ \\`code\\` \\[l\\](u) \\~s\\~ \\\\" },
	{ "ou:arn:aws:organizations::1:ou/o-x/ou-y",
	  "ou:arn:aws:organizations::1:ou/o-x/ou-y" },
	{ "\x01\x7f", "  " },
	{ "", "" },
};

static void test_md_cells(void)
{
	struct ams_buf sb = AMS_BUF_INIT;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(md_cases); i++) {
		TEST_BEGIN();
		ams_buf_reset(&sb);
		ams_ci_md_cell(&sb, md_cases[i].in);
		CHECK_STR_EQ(md_cases[i].want, sb.buf);
		TEST_END("markdown cell of case %zu", i);
	}
	ams_buf_release(&sb);
}

static const struct {
	const char *value;
	bool ok;
} dotenv_value_cases[] = {
	{ "ok", true },
	{ "", true },
	{ "{\"us-east-1\":\"ami-1\"}", true },
	{ "out/report.json", true },
	{ "with inner space", true },
	{ "a=b#c$d", true },
	{ " lead", false },
	{ "trail ", false },
	{ "a\nb", false },
	{ "a\rb", false },
	{ "a\tb", false },
	{ "\"quoted\"", false },
	{ "'quoted'", false },
	{ "x\x7f", false },
};

static void test_dotenv_values(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dotenv_value_cases); i++) {
		TEST_BEGIN();
		CHECK_INT_EQ(
		    dotenv_value_cases[i].ok,
		    ams_ci_dotenv_value_ok(dotenv_value_cases[i].value));
		TEST_END("dotenv value of case %zu", i);
	}
}

/* A job over regions ("region:ami" strings) and accounts, all pending. */
static void make_job(struct ams_job *job, enum ams_job_mode mode,
		     const char *const *images, size_t nr_images,
		     const char *const *accounts, size_t nr_accounts)
{
	struct ams_job_config cfg;
	struct ams_image_ref *refs = xcalloc(nr_images, sizeof(*refs));
	size_t i;

	memset(&cfg, 0, sizeof(cfg));
	cfg.mode = mode;
	for (i = 0; i < nr_images; i++) {
		const char *colon = strchr(images[i], ':');

		refs[i].region =
		    xstrndup(images[i], (size_t)(colon - images[i]));
		refs[i].ami_id = xstrdup(colon + 1);
		refs[i].origin = xstrdup("--ami");
	}
	ams_job_init(job, &cfg, refs, nr_images);
	for (i = 0; i < nr_images; i++) {
		free(refs[i].region);
		free(refs[i].ami_id);
		free(refs[i].origin);
		job->regions[i].describe = AMS_OUT_OK;
		job->regions[i].share = AMS_OUT_OK;
	}
	free(refs);
	for (i = 0; i < nr_accounts; i++)
		ams_job_add_account(job, accounts[i], "account");
	ams_job_make_items(job);
}

static const char *const two_images[] = {
	"us-east-1:ami-0aaaaaaaaaaaaaaaa",
	"eu-west-1:ami-0bbbbbbbbbbbbbbbb",
};
static const char *const two_accounts[] = { "222222222222", "333333333333" };

/*
 * Two images, two accounts: three items ok (one already tagged), the
 * (eu-west-1, 333333333333) item failed with a message that holds a
 * percent sign and a line break.
 */
static void make_partial_job(struct ams_job *job)
{
	struct ams_job_item *bad;
	size_t i;

	make_job(job, AMS_JOB_SHARE, two_images, 2, two_accounts, 2);
	for (i = 0; i < job->nr_regions; i++) {
		ams_tags_set(&job->regions[i].desired, "Name", "golden");
		ams_tags_set(&job->regions[i].desired, "team", "platform");
	}
	for (i = 0; i < job->nr_items; i++) {
		job->items[i].status = AMS_OUT_OK;
		job->items[i].written = 3; /* both desired tags */
	}
	ams_job_item(job, 1, 0)->written = 0;
	ams_job_item(job, 1, 0)->unchanged = true;
	bad = ams_job_item(job, 1, 1);
	bad->status = AMS_OUT_FAILED;
	bad->failed_step = "assume-role";
	bad->written = 0;
	ams_fail_aws(ams_job_item_err(bad), 403, "AccessDenied", "req-1",
		     "not authorized to perform: sts:AssumeRole");
	/* ams_fail flattens line breaks; a message must survive them too. */
	snprintf(bad->err->msg, sizeof(bad->err->msg), "%s",
		 "not authorized: 100% denied\nsecond line");
	job->regions[0].perms_added = xcalloc(2, sizeof(char *));
	job->regions[0].perms_added[0] = xstrdup("user:222222222222");
	job->regions[0].perms_added[1] = xstrdup("user:333333333333");
	job->regions[0].nr_perms_added = 2;
	job->stats.writes = 5;
	job->stats.api_calls = 20;
	job->duration_ms = 1234;
}

static void test_gh_outputs(void)
{
	struct ams_job job;
	struct ams_buf sb = AMS_BUF_INIT;

	make_partial_job(&job);
	ams_ci_gh_outputs(&sb, &job, "out/report.json", 1);
	CHECK_STR_EQ("status=partial\n"
		     "command=share\n"
		     "exit_code=1\n"
		     "amis={\"us-east-1\":\"ami-0aaaaaaaaaaaaaaaa\","
		     "\"eu-west-1\":\"ami-0bbbbbbbbbbbbbbbb\"}\n"
		     "ami_us_east_1=ami-0aaaaaaaaaaaaaaaa\n"
		     "ami_eu_west_1=ami-0bbbbbbbbbbbbbbbb\n"
		     "images=2\n"
		     "accounts=2\n"
		     "items=4\n"
		     "ok=3\n"
		     "failed=1\n"
		     "skipped=0\n"
		     "unknown=0\n"
		     "writes=5\n"
		     "report=out/report.json\n",
		     sb.buf);
	ams_buf_reset(&sb);
	ams_ci_gh_outputs(&sb, &job, NULL, 1);
	CHECK(!strstr(sb.buf, "report="));
	ams_buf_release(&sb);
	ams_job_release(&job);
}

static void test_several_amis_per_region(void)
{
	static const char *const imgs[] = { "us-east-1:ami-1",
					    "eu-west-1:ami-2",
					    "us-east-1:ami-3",
					    "us-east-1:ami-4" };
	struct ams_job job;
	struct ams_buf sb = AMS_BUF_INIT, notes = AMS_BUF_INIT;

	make_job(&job, AMS_JOB_PLAN, imgs, ARRAY_SIZE(imgs), two_accounts, 1);
	ams_ci_amis_json(&sb, &job);
	CHECK_STR_EQ("{\"us-east-1\":\"ami-1,ami-3,ami-4\","
		     "\"eu-west-1\":\"ami-2\"}",
		     sb.buf);
	ams_buf_reset(&sb);
	ams_ci_gh_outputs(&sb, &job, NULL, 0);
	CHECK(strstr(sb.buf, "\nami_us_east_1=ami-1,ami-3,ami-4\n"));
	CHECK(strstr(sb.buf, "\nami_eu_west_1=ami-2\n"));
	CHECK(strstr(sb.buf, "\ncommand=plan\n"));
	ams_buf_reset(&sb);
	ams_ci_dotenv(&sb, &notes, &job, NULL, 0);
	CHECK(strstr(sb.buf, "\nAMISHARE_RESULT_AMI_US_EAST_1=ami-1,ami-3,"
			     "ami-4\n"));
	CHECK_STR_EQ("", notes.buf);
	ams_buf_release(&sb);
	ams_buf_release(&notes);
	ams_job_release(&job);
}

static void test_annotations(void)
{
	struct ams_job job;
	struct ams_buf sb = AMS_BUF_INIT;

	make_partial_job(&job);
	ams_ci_gh_annotations(&sb, &job, 50);
	CHECK_STR_EQ("::error title=amishare share%3A 333333333333 in "
		     "eu-west-1::assume-role: AccessDenied: not authorized: "
		     "100%25 denied%0Asecond line (request req-1)\n",
		     sb.buf);

	/* A source-side failure and an interrupted item. */
	job.regions[0].share = AMS_OUT_FAILED;
	job.regions[0].failed_step = "modify-image-attribute";
	ams_fail_aws(&job.regions[0].err, 400, "InvalidAMIID.Unavailable", NULL,
		     "image is not available");
	ams_job_item(&job, 0, 1)->status = AMS_OUT_UNKNOWN;
	ams_job_item(&job, 0, 0)->status = AMS_OUT_SKIPPED;
	ams_buf_reset(&sb);
	ams_ci_gh_annotations(&sb, &job, 50);
	CHECK_STR_EQ("::error title=amishare share%3A ami-0aaaaaaaaaaaaaaaa in "
		     "us-east-1::modify-image-attribute: "
		     "InvalidAMIID.Unavailable: image is not available\n"
		     "::warning title=amishare share%3A 333333333333 in "
		     "us-east-1::ami-0aaaaaaaaaaaaaaaa: interrupted before it "
		     "finished\n"
		     "::error title=amishare share%3A 333333333333 in "
		     "eu-west-1::assume-role: AccessDenied: not authorized: "
		     "100%25 denied%0Asecond line (request req-1)\n",
		     sb.buf);

	/* A cap, then one line counting the rest. */
	ams_buf_reset(&sb);
	ams_ci_gh_annotations(&sb, &job, 1);
	CHECK(!strncmp(sb.buf, "::error title=amishare share%3A ami-0aaa", 40));
	CHECK(strstr(sb.buf, "\n::error title=amishare share::2 more "
			     "problems: see the JSON report\n"));
	CHECK(!strstr(sb.buf, "::warning"));

	/* Every line is one workflow command. */
	{
		struct ams_str rest = ams_str_from(sb.buf), line;

		while (rest.ptr && rest.len) {
			line = ams_str_split(&rest, '\n');
			CHECK(ams_str_starts_with(line, "::error title=") ||
			      ams_str_starts_with(line, "::warning title="));
		}
	}
	ams_buf_release(&sb);
	ams_job_release(&job);
}

static void test_summary(void)
{
	struct ams_job job;
	struct ams_buf sb = AMS_BUF_INIT;
	const char *failed_row, *ok_row, *head;

	make_partial_job(&job);
	ams_ci_gh_summary(&sb, &job, AMS_CI_SUMMARY_MAX_BYTES);
	head = "### amishare share: partial\n\n"
	       "2 images x 2 accounts: 3 ok, 1 failed, 0 skipped, "
	       "0 unknown; 5 writes, 20 API calls in 1.23 s\n\n"
	       "| Region | AMI | Launch permission | Added | Error | "
	       "Detail |\n"
	       "| --- | --- | --- | --- | --- | --- |\n"
	       "| us-east-1 | ami-0aaaaaaaaaaaaaaaa | ok | "
	       "user:222222222222 user:333333333333 |  |  |\n"
	       "| eu-west-1 | ami-0bbbbbbbbbbbbbbbb | ok |  |  |  |\n"
	       "\n| Region | AMI | Account | Status | Tags written | "
	       "Error | Detail |\n"
	       "| --- | --- | --- | --- | ---: | --- | --- |\n";
	CHECK(!strncmp(sb.buf, head, strlen(head)));
	failed_row = strstr(sb.buf, "| eu-west-1 | ami-0bbbbbbbbbbbbbbbb | "
				    "333333333333 | **failed** | 0 | "
				    "AccessDenied | assume-role: "
				    "AccessDenied: not authorized: 100% "
				    "denied second line (request req-1) |\n");
	ok_row = strstr(sb.buf, "| us-east-1 | ami-0aaaaaaaaaaaaaaaa | "
				"222222222222 | ok | 2 |  |  |\n");
	CHECK(failed_row != NULL);
	CHECK(ok_row != NULL);
	/* Problems come first. */
	CHECK(failed_row && ok_row && failed_row < ok_row);
	CHECK(strstr(sb.buf, "| eu-west-1 | ami-0bbbbbbbbbbbbbbbb | "
			     "222222222222 | ok | 0 |  | already tagged |\n"));
	CHECK(!strstr(sb.buf, "left out"));
	/* A table row per region and per item, plus headers. */
	{
		size_t rows = 0;
		const char *p;

		for (p = sb.buf; (p = strstr(p, "\n| ")) != NULL; p++)
			rows++;
		CHECK_INT_EQ(2 + 2 + 2 + 4, rows);
	}
	ams_buf_release(&sb);

	/* plan and verify word the columns for what they do. */
	job.cfg.mode = AMS_JOB_VERIFY;
	job.cfg.share_snapshots = true;
	ams_ci_gh_summary(&sb, &job, AMS_CI_SUMMARY_MAX_BYTES);
	CHECK(strstr(sb.buf, "### amishare verify: partial\n"));
	CHECK(strstr(sb.buf, "| Launch permission | Snapshots | Missing |"));
	CHECK(strstr(sb.buf, "| Tags missing |"));
	CHECK(strstr(sb.buf, "| us-east-1 | ami-0aaaaaaaaaaaaaaaa | ok | "
			     "pending | user:"));
	ams_buf_release(&sb);
	ams_job_release(&job);
}

static void test_revoke_and_org(void)
{
	struct ams_job job;
	struct ams_buf sb = AMS_BUF_INIT;
	size_t i;

	make_partial_job(&job);
	job.cfg.revoke = true;
	for (i = 0; i < job.nr_items; i++)
		ams_tags_set(&job.items[i].removed, "Approved", "true");
	job.regions[1].perms_removed = xcalloc(1, sizeof(char *));
	job.regions[1].perms_removed[0] = xstrdup("user:444444444444");
	job.regions[1].nr_perms_removed = 1;
	CHECK_STR_EQ("revoke", ams_ci_command_name(&job));
	ams_ci_gh_outputs(&sb, &job, NULL, 1);
	CHECK(strstr(sb.buf, "\ncommand=revoke\n"));
	ams_buf_reset(&sb);
	ams_ci_gh_summary(&sb, &job, AMS_CI_SUMMARY_MAX_BYTES);
	CHECK(strstr(sb.buf, "### amishare revoke: partial\n"));
	CHECK(strstr(sb.buf, "| Launch permission | Removed | Error |"));
	CHECK(strstr(sb.buf, "| Tags removed |"));
	/* Removed permissions and tags are shown, not added ones. */
	CHECK(strstr(sb.buf, "| eu-west-1 | ami-0bbbbbbbbbbbbbbbb | ok | "
			     "user:444444444444 |"));
	CHECK(!strstr(sb.buf, "user:222222222222"));
	CHECK(strstr(sb.buf, "| 222222222222 | ok | 1 |  | nothing to "
			     "remove |\n"));
	job.cfg.mode = AMS_JOB_PLAN;
	CHECK_STR_EQ("plan", ams_ci_command_name(&job));
	ams_buf_reset(&sb);
	ams_ci_gh_summary(&sb, &job, AMS_CI_SUMMARY_MAX_BYTES);
	CHECK(strstr(sb.buf, "| To remove |"));
	CHECK(strstr(sb.buf, "| Tags to remove |"));
	job.cfg.mode = AMS_JOB_VERIFY;
	ams_buf_reset(&sb);
	ams_ci_gh_summary(&sb, &job, AMS_CI_SUMMARY_MAX_BYTES);
	CHECK(strstr(sb.buf, "| Left |"));
	CHECK(strstr(sb.buf, "| Tags left |"));

	/* Listing the organization's members failed. */
	job.cfg.mode = AMS_JOB_SHARE;
	job.cfg.revoke = false;
	job.org_step = "list-accounts-for-parent";
	ams_fail_aws(&job.org_err, 400, "AccessDeniedException", "req-o",
		     "not allowed | to list");
	ams_buf_reset(&sb);
	ams_ci_gh_annotations(&sb, &job, 50);
	CHECK(!strncmp(sb.buf,
		       "::error title=amishare share%3A organization "
		       "members::list-accounts-for-parent: "
		       "AccessDeniedException: not allowed | to list "
		       "(request req-o)\n::error title=amishare share%3A "
		       "333333333333 in eu-west-1::",
		       160));
	ams_buf_reset(&sb);
	ams_ci_gh_annotations(&sb, &job, 1);
	CHECK(strstr(sb.buf, "organization members::"));
	CHECK(strstr(sb.buf, "::1 more problem: see the JSON report\n"));
	ams_buf_reset(&sb);
	ams_ci_gh_summary(&sb, &job, AMS_CI_SUMMARY_MAX_BYTES);
	CHECK(strstr(sb.buf, "\n**Organization members not listed:** "
			     "list-accounts-for-parent: AccessDeniedException: "
			     "not allowed \\| to list (request req-o)\n\n| "
			     "Region |"));
	ams_buf_release(&sb);
	ams_job_release(&job);
}

static void test_summary_budget(void)
{
	static const char *const one[] = { "us-east-1:ami-1" };
	char *accounts[300];
	struct ams_job job;
	struct ams_buf sb = AMS_BUF_INIT;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(accounts); i++)
		accounts[i] = xasprintf("%012zu", 100000000000 + i);
	make_job(&job, AMS_JOB_SHARE, one, 1, (const char *const *)accounts,
		 ARRAY_SIZE(accounts));
	for (i = 0; i < job.nr_items; i++)
		job.items[i].status = AMS_OUT_OK;
	/* The last item failed: it must still be shown. */
	job.items[299].status = AMS_OUT_FAILED;
	job.items[299].failed_step = "create-tags";
	ams_fail_aws(ams_job_item_err(&job.items[299]), 400, "TagLimitExceeded",
		     NULL, "too many tags");
	ams_ci_gh_summary(&sb, &job, 4096);
	CHECK(sb.len <= 4096);
	CHECK(strstr(sb.buf, "| 100000000299 | **failed** |"));
	CHECK(strstr(sb.buf, "| 100000000000 | ok |"));
	CHECK(!strstr(sb.buf, "| 100000000298 | ok |"));
	CHECK(strstr(sb.buf, " more rows left out for size: see the JSON "
			     "report._\n"));
	ams_buf_release(&sb);
	ams_ci_gh_summary(&sb, &job, AMS_CI_SUMMARY_MAX_BYTES);
	CHECK(strstr(sb.buf, "| 100000000298 | ok |"));
	CHECK(!strstr(sb.buf, "left out"));
	ams_buf_release(&sb);
	ams_job_release(&job);
	for (i = 0; i < ARRAY_SIZE(accounts); i++)
		free(accounts[i]);
}

static void test_dotenv(void)
{
	struct ams_job job;
	struct ams_buf sb = AMS_BUF_INIT, notes = AMS_BUF_INIT;

	make_partial_job(&job);
	ams_ci_dotenv(&sb, &notes, &job, "amishare-report.json", 1);
	CHECK_STR_EQ("AMISHARE_RESULT_STATUS=partial\n"
		     "AMISHARE_RESULT_COMMAND=share\n"
		     "AMISHARE_RESULT_EXIT_CODE=1\n"
		     "AMISHARE_RESULT_ITEMS=4\n"
		     "AMISHARE_RESULT_OK=3\n"
		     "AMISHARE_RESULT_FAILED=1\n"
		     "AMISHARE_RESULT_SKIPPED=0\n"
		     "AMISHARE_RESULT_AMIS={\"us-east-1\":"
		     "\"ami-0aaaaaaaaaaaaaaaa\",\"eu-west-1\":"
		     "\"ami-0bbbbbbbbbbbbbbbb\"}\n"
		     "AMISHARE_RESULT_REPORT=amishare-report.json\n"
		     "AMISHARE_RESULT_AMI_US_EAST_1=ami-0aaaaaaaaaaaaaaaa\n"
		     "AMISHARE_RESULT_AMI_EU_WEST_1=ami-0bbbbbbbbbbbbbbbb\n",
		     sb.buf);
	CHECK_STR_EQ("", notes.buf);

	/* A report path with a line break cannot be a dotenv value. */
	ams_buf_reset(&sb);
	ams_ci_dotenv(&sb, &notes, &job, "two\nlines.json", 0);
	CHECK(!strstr(sb.buf, "REPORT"));
	CHECK(!strstr(sb.buf, "lines.json"));
	CHECK(strstr(sb.buf, "AMISHARE_RESULT_EXIT_CODE=0\n"));
	CHECK(strstr(notes.buf, "AMISHARE_RESULT_REPORT left out"));
	ams_buf_release(&sb);
	ams_buf_release(&notes);
	ams_job_release(&job);
}

/* A job over n regions named r00-x, r01-x, ... with one account. */
static void make_regions_job(struct ams_job *job, size_t n)
{
	char *imgs[40] = { NULL };
	size_t i;

	for (i = 0; i < n; i++)
		imgs[i] = xasprintf("r%02zu-x:ami-%017zu", i, i);
	make_job(job, AMS_JOB_SHARE, (const char *const *)imgs, n, two_accounts,
		 1);
	for (i = 0; i < n; i++)
		free(imgs[i]);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_dotenv_limits(void)
{
	struct ams_job job;
	struct ams_buf sb = AMS_BUF_INIT, notes = AMS_BUF_INIT;
	char *longpath;

	/* 9 fixed variables and 11 regions: exactly GitLab's 20. */
	make_regions_job(&job, 11);
	ams_ci_dotenv(&sb, &notes, &job, "r.json", 0);
	CHECK_INT_EQ(AMS_CI_DOTENV_MAX_VARS, count_lines(sb.buf));
	CHECK(strstr(sb.buf, "AMISHARE_RESULT_AMI_R10_X=ami-"));
	CHECK_STR_EQ("", notes.buf);
	ams_job_release(&job);

	/* 12 regions: the per-region variables go, all of them. */
	ams_buf_reset(&sb);
	make_regions_job(&job, 12);
	ams_ci_dotenv(&sb, &notes, &job, "r.json", 0);
	CHECK_INT_EQ(9, count_lines(sb.buf));
	CHECK(!strstr(sb.buf, "AMISHARE_RESULT_AMI_R"));
	CHECK(strstr(sb.buf, "\"r11-x\":\"ami-00000000000000011\""));
	CHECK(strstr(notes.buf, "the 12 AMISHARE_RESULT_AMI_<REGION> "
				"variables left out"));
	ams_job_release(&job);

	/* Without a report path the 12th region fits. */
	ams_buf_reset(&sb);
	ams_buf_reset(&notes);
	make_regions_job(&job, 12);
	ams_ci_dotenv(&sb, &notes, &job, NULL, 0);
	CHECK_INT_EQ(AMS_CI_DOTENV_MAX_VARS, count_lines(sb.buf));
	CHECK_STR_EQ("", notes.buf);
	ams_job_release(&job);

	/* Size: a report path that would make the file 5 KB is left out. */
	ams_buf_reset(&sb);
	longpath = xcalloc(5000, 1);
	memset(longpath, 'p', 4999);
	make_regions_job(&job, 2);
	ams_ci_dotenv(&sb, &notes, &job, longpath, 0);
	CHECK(sb.len < AMS_CI_DOTENV_MAX_BYTES);
	CHECK(!strstr(sb.buf, "REPORT"));
	CHECK(strstr(sb.buf, "AMISHARE_RESULT_AMI_R01_X="));
	CHECK(strstr(notes.buf, "AMISHARE_RESULT_REPORT left out: GitLab "
				"takes fewer than 5120 bytes"));
	free(longpath);
	ams_job_release(&job);
	ams_buf_release(&sb);
	ams_buf_release(&notes);
}

static char *slurp(const char *path)
{
	struct ams_buf sb = AMS_BUF_INIT;
	FILE *f = fopen(path, "rb");
	char chunk[4096];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		ams_buf_add(&sb, chunk, n);
	fclose(f);
	return ams_buf_detach(&sb, NULL);
}

static void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_writers(void)
{
	char dir[] = "/tmp/ams-ci-outputs.XXXXXX";
	char *out_path, *sum_path, *env_path, *ann_path, *text, *e_out, *e_sum;
	char *envp[4];
	struct ams_ci_outputs o;
	struct ams_job job;
	struct ams_err err = AMS_ERR_INIT;
	FILE *ann;
	struct stat st;

	CHECK(mkdtemp(dir) != NULL);
	out_path = xasprintf("%s/github_output", dir);
	sum_path = xasprintf("%s/step_summary", dir);
	env_path = xasprintf("%s/amishare.env", dir);
	ann_path = xasprintf("%s/annotations", dir);
	e_out = xasprintf("GITHUB_OUTPUT=%s", out_path);
	e_sum = xasprintf("GITHUB_STEP_SUMMARY=%s", sum_path);
	envp[0] = xstrdup("GITHUB_ACTIONS=true");
	envp[1] = e_out;
	envp[2] = e_sum;
	envp[3] = NULL;
	/* Earlier steps' lines stay: the files are appended to. */
	spit(out_path, "earlier=1\n");
	spit(sum_path, "# Earlier\n");

	make_partial_job(&job);
	ams_log_add_secret("SECRET_TOKEN%42*");
	snprintf(ams_job_item_err(&job.items[3])->msg,
		 sizeof(job.items[3].err->msg), "%s",
		 "denied with token SECRET_TOKEN%42* in it");
	ann = fopen(ann_path, "wb");
	memset(&o, 0, sizeof(o));
	o.report_path = "report.json";
	o.dotenv_path = env_path;
	o.exit_code = 1;
	o.get = ams_ci_env_getenv_envp;
	o.payload = envp;
	o.annotations = ann;
	CHECK_RC(AMS_OK, ams_ci_outputs_write(&job, &o, &err), &err);
	fclose(ann);

	text = slurp(out_path);
	CHECK(text && !strncmp(text, "earlier=1\nstatus=partial\n", 25));
	CHECK(text && strstr(text, "\nreport=report.json\n"));
	free(text);
	text = slurp(sum_path);
	CHECK(text && !strncmp(text, "# Earlier\n### amishare share: ", 30));
	CHECK(text && !strstr(text, "TOKEN"));
	CHECK(text && strstr(text, "\\[redacted\\]"));
	free(text);
	text = slurp(ann_path);
	CHECK(text && !strncmp(text, "::error title=", 14));
	CHECK(text && !strstr(text, "TOKEN"));
	CHECK(text && strstr(text, "[redacted]"));
	free(text);
	text = slurp(env_path);
	CHECK(text && !strncmp(text, "AMISHARE_RESULT_STATUS=partial\n", 31));
	free(text);
	CHECK(stat(env_path, &st) == 0 && (st.st_mode & 0777) == 0644);

	/* Not on GitHub: only the dotenv file. */
	unlink(out_path);
	unlink(env_path);
	envp[0][0] = 'X';
	o.annotations = NULL;
	CHECK_RC(AMS_OK, ams_ci_outputs_write(&job, &o, &err), &err);
	CHECK(access(out_path, F_OK) != 0);
	CHECK(access(env_path, F_OK) == 0);

	/* An unwritable GITHUB_OUTPUT fails, naming it; the rest is written. */
	envp[0][0] = 'G';
	free(envp[1]);
	envp[1] = xasprintf("GITHUB_OUTPUT=%s/missing/dir/out", dir);
	unlink(env_path);
	unlink(sum_path);
	CHECK_RC(AMS_EIO, ams_ci_outputs_write(&job, &o, &err), &err);
	CHECK(strstr(err.msg, "GITHUB_OUTPUT '") != NULL);
	CHECK(access(sum_path, F_OK) == 0);
	CHECK(access(env_path, F_OK) == 0);

	unlink(sum_path);
	unlink(env_path);
	unlink(ann_path);
	rmdir(dir);
	free(envp[0]);
	free(envp[1]);
	free(e_sum);
	free(out_path);
	free(sum_path);
	free(env_path);
	free(ann_path);
	ams_job_release(&job);
}

int main(void)
{
	test_escape();
	test_output_entries();
	test_var_names();
	test_md_cells();
	test_dotenv_values();
	TEST(test_gh_outputs, "GitHub step outputs of a partial run");
	TEST(test_several_amis_per_region,
	     "several AMIs in one region are joined by ','");
	TEST(test_annotations, "workflow command annotations and their cap");
	TEST(test_summary, "the step summary tables, problems first");
	TEST(test_revoke_and_org,
	     "revoke's words and columns; a failed organization listing");
	TEST(test_summary_budget, "a large summary is cut, failures kept");
	TEST(test_dotenv, "the dotenv file of a partial run");
	TEST(test_dotenv_limits, "dotenv variable and size limits");
	TEST(test_writers, "writers append, redact, and report failures");
	return test_done();
}
