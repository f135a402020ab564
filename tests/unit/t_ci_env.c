/*
 * Unit tests for CI detection and URL credential stripping: every case
 * is a synthetic environment (an envp array) and the fields it must give.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ci_env.h"
#include "harness.h"
#include "log.h"

static const struct {
	const char *in, *out;
} url_cases[] = {
	{ "https://user:token@host/x", "https://host/x" },
	{ "https://token@host/x", "https://host/x" },
	{ "https://x-access-token:ghs_abc123@github.com/org/repo.git",
	  "https://github.com/org/repo.git" },
	{ "http://gitlab-ci-token:glcbt-xyz@gitlab.example/g/p.git",
	  "http://gitlab.example/g/p.git" },
	{ "ssh://user:pw@host/x", "ssh://user@host/x" },
	{ "ssh://git@host:2222/x", "ssh://git@host:2222/x" },
	{ "git+ssh://u:p@h/x", "git+ssh://u@h/x" },
	{ "ssh://:pw@host/x", "ssh://host/x" },
	{ "git@github.com:org/repo.git", "git@github.com:org/repo.git" },
	{ "git:pw@github.com:org/repo.git", "git@github.com:org/repo.git" },
	{ "https://host/x?private_token=abc#frag", "https://host/x" },
	{ "https://u:p@host/x?t=1", "https://host/x" },
	{ "https://user:p%40ss@host/x", "https://host/x" },
	{ "https://user:p@ss@host/x", "https://host/x" },
	{ "HTTPS://U:P@Host/x", "HTTPS://Host/x" },
	{ "https://u:p@host", "https://host" },
	{ "https://u:p@host?q", "https://host" },
	{ "http://host:8080/x", "http://host:8080/x" },
	{ "https://host/path@v1", "https://host/path@v1" },
	{ "https://host/a:b@c", "https://host/a:b@c" },
	{ "/srv/git/repo.git", "/srv/git/repo.git" },
	{ "../repo", "../repo" },
	{ "file:///srv/repo", "file:///srv/repo" },
	{ "C:\\repos\\x", "C:\\repos\\x" },
	{ "host:path/x", "host:path/x" },
	{ "dir/a@b:c", "dir/a@b:c" },
	{ "", "" },
	{ "1http://u:p@h/x", "1http://u:p@h/x" },
};

static void test_url_strip(void)
{
	size_t i;
	char *got;

	for (i = 0; i < ARRAY_SIZE(url_cases); i++) {
		TEST_BEGIN();
		got = ams_ci_env_url_strip(url_cases[i].in);
		CHECK_STR_EQ(url_cases[i].out, got);
		free(got);
		TEST_END("url strip '%s'", url_cases[i].in);
	}
	CHECK(ams_ci_env_url_strip(NULL) == NULL);
}

static void test_url_secrets_registered(void)
{
	struct ams_buf sb = AMS_BUF_INIT;

	ams_ci_env_url_register_secrets("https://alice:s3cr3t-pw@host/x");
	ams_ci_env_url_register_secrets("https://ghp_tokenvalue@host/x");
	ams_ci_env_url_register_secrets("ssh://gituser:sshpass1@host/x");
	ams_ci_env_url_register_secrets("https://h/x?private_token=qwerty");
	ams_buf_addstr(&sb, "a s3cr3t-pw b ghp_tokenvalue c sshpass1 d "
			    "private_token=qwerty e gituser alice");
	ams_redact(&sb);
	CHECK(!strstr(sb.buf, "s3cr3t-pw"));
	CHECK(!strstr(sb.buf, "ghp_tokenvalue"));
	CHECK(!strstr(sb.buf, "sshpass1"));
	CHECK(!strstr(sb.buf, "qwerty"));
	/* The user of an ssh URL is not a secret; an https user may be. */
	CHECK(strstr(sb.buf, "gituser") != NULL);
	CHECK(!strstr(sb.buf, "alice"));
	ams_buf_release(&sb);
	ams_log_forget_secrets();
}

static void test_getenv_envp(void)
{
	const char *envp[] = { "A=1", "AB=2", "B=", "A=3", NULL };

	CHECK_STR_EQ("1", ams_ci_env_getenv_envp("A", envp));
	CHECK_STR_EQ("2", ams_ci_env_getenv_envp("AB", envp));
	CHECK_STR_EQ("", ams_ci_env_getenv_envp("B", envp));
	CHECK(ams_ci_env_getenv_envp("C", envp) == NULL);
	CHECK(ams_ci_env_getenv_envp("A", NULL) == NULL);
}

/* Expected fields; NULL means the field must be NULL. */
struct want {
	enum ams_ci_system system;
	const char *system_name, *commit, *commit_var, *branch, *tag, *ref;
	const char *repository, *repository_url, *run_id, *run_attempt;
	const char *run_url, *job_id, *job_url, *workflow, *builder_id;
	const char *invocation_id;
	bool pull_request;
};

#define MAXENV 24
static struct {
	const char *name;
	const char *env[MAXENV];
	struct want want;
} detect_cases[] = {
	{ "empty environment", { NULL }, { .system = AMS_CI_NONE } },
	{ "CI=false is no CI",
	  { "CI=false", "BUILD_URL=http://x/", NULL },
	  { .system = AMS_CI_NONE } },
	{ "GITHUB_ACTIONS=false is no CI",
	  { "GITHUB_ACTIONS=false", "GITHUB_SHA=abc", NULL },
	  { .system = AMS_CI_NONE } },
	{ "github push to a branch",
	  { "GITHUB_ACTIONS=true", "CI=true",
	    "GITHUB_SHA=1111111111111111111111111111111111111111",
	    "GITHUB_REF=refs/heads/main", "GITHUB_REF_NAME=main",
	    "GITHUB_REF_TYPE=branch",
	    "GITHUB_HEAD_REF=", "GITHUB_REPOSITORY=org/repo",
	    "GITHUB_SERVER_URL=https://github.com", "GITHUB_RUN_ID=42",
	    "GITHUB_RUN_ATTEMPT=2", "GITHUB_WORKFLOW=build",
	    "GITHUB_WORKFLOW_REF=org/repo/.github/workflows/b.yml@"
	    "refs/heads/main",
	    NULL },
	  { .system = AMS_CI_GITHUB,
	    .system_name = "github-actions",
	    .commit = "1111111111111111111111111111111111111111",
	    .commit_var = "GITHUB_SHA",
	    .branch = "main",
	    .ref = "refs/heads/main",
	    .repository = "org/repo",
	    .repository_url = "https://github.com/org/repo",
	    .run_id = "42",
	    .run_attempt = "2",
	    .run_url = "https://github.com/org/repo/actions/runs/42/"
		       "attempts/2",
	    .workflow = "build",
	    .builder_id = "https://github.com/org/repo/.github/workflows/"
			  "b.yml@refs/heads/main",
	    .invocation_id = "https://github.com/org/repo/actions/runs/42/"
			     "attempts/2" } },
	{ "github pull request takes the head branch",
	  { "GITHUB_ACTIONS=true", "GITHUB_SHA=abcd",
	    "GITHUB_REF=refs/pull/7/merge", "GITHUB_REF_NAME=7/merge",
	    "GITHUB_HEAD_REF=feature/x", "GITHUB_REPOSITORY=o/r",
	    "GITHUB_RUN_ID=9", NULL },
	  { .system = AMS_CI_GITHUB,
	    .system_name = "github-actions",
	    .commit = "abcd",
	    .commit_var = "GITHUB_SHA",
	    .branch = "feature/x",
	    .ref = "refs/pull/7/merge",
	    .repository = "o/r",
	    .repository_url = "https://github.com/o/r",
	    .run_id = "9",
	    .run_url = "https://github.com/o/r/actions/runs/9",
	    .builder_id = "https://github.com/o/r/actions/runs/9",
	    .invocation_id = "https://github.com/o/r/actions/runs/9",
	    .pull_request = true } },
	{ "github tag push",
	  { "GITHUB_ACTIONS=true", "GITHUB_SHA=abcd",
	    "GITHUB_REF=refs/tags/v1.2", "GITHUB_REF_NAME=v1.2",
	    "GITHUB_REF_TYPE=tag", "GITHUB_SERVER_URL=https://ghe.example:8443",
	    NULL },
	  { .system = AMS_CI_GITHUB,
	    .system_name = "github-actions",
	    .commit = "abcd",
	    .commit_var = "GITHUB_SHA",
	    .tag = "v1.2",
	    .ref = "refs/tags/v1.2" } },
	{ "github ref name without GITHUB_REF",
	  { "GITHUB_ACTIONS=TRUE", "GITHUB_REF_NAME=v2", "GITHUB_REF_TYPE=tag",
	    NULL },
	  { .system = AMS_CI_GITHUB,
	    .system_name = "github-actions",
	    .commit_var = "GITHUB_SHA",
	    .tag = "v2",
	    .ref = "v2" } },
	{ "github enterprise server URL with credentials",
	  { "GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=o/r",
	    "GITHUB_SERVER_URL=https://u:pw@ghe.example", "GITHUB_RUN_ID=5",
	    "GITHUB_RUN_ATTEMPT=1", NULL },
	  { .system = AMS_CI_GITHUB,
	    .system_name = "github-actions",
	    .commit_var = "GITHUB_SHA",
	    .repository = "o/r",
	    .repository_url = "https://ghe.example/o/r",
	    .run_id = "5",
	    .run_attempt = "1",
	    .run_url = "https://ghe.example/o/r/actions/runs/5/attempts/1",
	    .builder_id = "https://ghe.example/o/r/actions/runs/5/attempts/1",
	    .invocation_id = "https://ghe.example/o/r/actions/runs/5/"
			     "attempts/1" } },
	{ "gitlab branch pipeline",
	  { "GITLAB_CI=true", "CI=true", "CI_COMMIT_SHA=2222",
	    "CI_COMMIT_REF_NAME=develop", "CI_COMMIT_BRANCH=develop",
	    "CI_PROJECT_PATH=grp/proj",
	    "CI_PROJECT_URL=https://gitlab.example/grp/proj",
	    "CI_PIPELINE_ID=100",
	    "CI_PIPELINE_URL=https://gitlab.example/grp/proj/-/pipelines/100",
	    "CI_JOB_ID=555",
	    "CI_JOB_URL=https://gitlab.example/grp/proj/-/jobs/555",
	    "CI_JOB_NAME=ami", "CI_SERVER_URL=https://gitlab.example",
	    "CI_RUNNER_ID=12", NULL },
	  { .system = AMS_CI_GITLAB,
	    .system_name = "gitlab-ci",
	    .commit = "2222",
	    .commit_var = "CI_COMMIT_SHA",
	    .branch = "develop",
	    .ref = "develop",
	    .repository = "grp/proj",
	    .repository_url = "https://gitlab.example/grp/proj",
	    .run_id = "100",
	    .run_url = "https://gitlab.example/grp/proj/-/pipelines/100",
	    .job_id = "555",
	    .job_url = "https://gitlab.example/grp/proj/-/jobs/555",
	    .workflow = "ami",
	    .builder_id = "https://gitlab.example/grp/proj/-/runners/12",
	    .invocation_id = "https://gitlab.example/grp/proj/-/jobs/555" } },
	{ "gitlab tag pipeline has no branch",
	  { "GITLAB_CI=true", "CI_COMMIT_SHA=3333", "CI_COMMIT_REF_NAME=v3.0",
	    "CI_COMMIT_TAG=v3.0", "CI_SERVER_URL=https://gl.example", NULL },
	  { .system = AMS_CI_GITLAB,
	    .system_name = "gitlab-ci",
	    .commit = "3333",
	    .commit_var = "CI_COMMIT_SHA",
	    .tag = "v3.0",
	    .ref = "v3.0",
	    .builder_id = "https://gl.example" } },
	{ "gitlab merge request pipeline",
	  { "GITLAB_CI=true", "CI_COMMIT_SHA=4444",
	    "CI_COMMIT_REF_NAME=refs/merge-requests/3/head",
	    "CI_MERGE_REQUEST_IID=3",
	    "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME=topic",
	    "CI_PIPELINE_URL=https://tok:en@gl.example/p/-/pipelines/1", NULL },
	  { .system = AMS_CI_GITLAB,
	    .system_name = "gitlab-ci",
	    .commit = "4444",
	    .commit_var = "CI_COMMIT_SHA",
	    .branch = "topic",
	    .ref = "refs/merge-requests/3/head",
	    .run_url = "https://gl.example/p/-/pipelines/1",
	    .invocation_id = "https://gl.example/p/-/pipelines/1",
	    .pull_request = true } },
	{ "gitlab without CI_COMMIT_BRANCH falls back to the ref name",
	  { "GITLAB_CI=true", "CI_COMMIT_REF_NAME=hotfix", NULL },
	  { .system = AMS_CI_GITLAB,
	    .system_name = "gitlab-ci",
	    .commit_var = "CI_COMMIT_SHA",
	    .branch = "hotfix",
	    .ref = "hotfix" } },
	{ "jenkins freestyle job strips origin/",
	  { "JENKINS_URL=https://ci.example/", "GIT_COMMIT=5555",
	    "GIT_BRANCH=origin/release/1.x",
	    "GIT_URL=https://bot:pat@git.example/r.git",
	    "BUILD_URL=https://ci.example/job/ami/17/", "JOB_NAME=ami",
	    "BUILD_NUMBER=17", NULL },
	  { .system = AMS_CI_JENKINS,
	    .system_name = "jenkins",
	    .commit = "5555",
	    .commit_var = "GIT_COMMIT",
	    .branch = "release/1.x",
	    .ref = "origin/release/1.x",
	    .repository = "ami",
	    .repository_url = "https://git.example/r.git",
	    .run_id = "17",
	    .run_url = "https://ci.example/job/ami/17/",
	    .workflow = "ami",
	    .builder_id = "https://ci.example/",
	    .invocation_id = "https://ci.example/job/ami/17/" } },
	{ "jenkins refs/remotes/origin/ branch",
	  { "JENKINS_URL=https://ci/", "GIT_BRANCH=refs/remotes/origin/main",
	    NULL },
	  { .system = AMS_CI_JENKINS,
	    .system_name = "jenkins",
	    .commit_var = "GIT_COMMIT",
	    .branch = "main",
	    .ref = "refs/remotes/origin/main",
	    .builder_id = "https://ci/" } },
	{ "jenkins detected by BUILD_URL and JOB_NAME",
	  { "BUILD_URL=https://ci/job/x/1/", "JOB_NAME=x", "GIT_BRANCH=main",
	    NULL },
	  { .system = AMS_CI_JENKINS,
	    .system_name = "jenkins",
	    .commit_var = "GIT_COMMIT",
	    .branch = "main",
	    .ref = "main",
	    .repository = "x",
	    .run_url = "https://ci/job/x/1/",
	    .workflow = "x",
	    .invocation_id = "https://ci/job/x/1/" } },
	{ "jenkins multibranch uses BRANCH_NAME",
	  { "JENKINS_URL=https://ci/", "BRANCH_NAME=feat",
	    "GIT_BRANCH=origin/other", NULL },
	  { .system = AMS_CI_JENKINS,
	    .system_name = "jenkins",
	    .commit_var = "GIT_COMMIT",
	    .branch = "feat",
	    .ref = "origin/other",
	    .builder_id = "https://ci/" } },
	{ "jenkins change request uses CHANGE_BRANCH",
	  { "JENKINS_URL=https://ci/", "BRANCH_NAME=PR-12", "CHANGE_ID=12",
	    "CHANGE_BRANCH=fix", NULL },
	  { .system = AMS_CI_JENKINS,
	    .system_name = "jenkins",
	    .commit_var = "GIT_COMMIT",
	    .branch = "fix",
	    .builder_id = "https://ci/",
	    .pull_request = true } },
	{ "jenkins tag build",
	  { "JENKINS_URL=https://ci/", "BRANCH_NAME=v9", "TAG_NAME=v9",
	    "GIT_BRANCH=v9", NULL },
	  { .system = AMS_CI_JENKINS,
	    .system_name = "jenkins",
	    .commit_var = "GIT_COMMIT",
	    .tag = "v9",
	    .ref = "v9",
	    .builder_id = "https://ci/" } },
	{ "generic CI=true with AMISHARE_CI_* fields",
	  { "CI=true", "AMISHARE_CI_SYSTEM=buildkite",
	    "AMISHARE_CI_COMMIT=6666", "AMISHARE_CI_BRANCH=trunk",
	    "AMISHARE_CI_RUN_ID=77",
	    "AMISHARE_CI_RUN_URL=https://u:p@bk.example/b/77",
	    "AMISHARE_CI_BUILDER_ID=https://bk.example/agents", NULL },
	  { .system = AMS_CI_GENERIC,
	    .system_name = "buildkite",
	    .commit = "6666",
	    .commit_var = "AMISHARE_CI_COMMIT",
	    .branch = "trunk",
	    .run_id = "77",
	    .run_url = "https://bk.example/b/77",
	    .builder_id = "https://bk.example/agents",
	    .invocation_id = "https://bk.example/b/77" } },
	{ "generic CI=1 alone",
	  { "CI=1", NULL },
	  { .system = AMS_CI_GENERIC, .system_name = "generic" } },
	{ "an AMISHARE_CI_* variable alone selects generic",
	  { "AMISHARE_CI_RUN_ID=8", NULL },
	  { .system = AMS_CI_GENERIC,
	    .system_name = "generic",
	    .run_id = "8",
	    .invocation_id = "8" } },
	{ "overrides win over the detected system",
	  { "GITHUB_ACTIONS=true", "GITHUB_SHA=aaaa",
	    "GITHUB_REF=refs/heads/main", "AMISHARE_CI_COMMIT=bbbb",
	    "AMISHARE_CI_BRANCH=other", "AMISHARE_CI_JOB_URL=https://j/1",
	    NULL },
	  { .system = AMS_CI_GITHUB,
	    .system_name = "github-actions",
	    .commit = "bbbb",
	    .commit_var = "AMISHARE_CI_COMMIT",
	    .branch = "other",
	    .ref = "refs/heads/main",
	    .job_url = "https://j/1",
	    .invocation_id = "https://j/1" } },
	{ "github wins over gitlab and jenkins markers",
	  { "JENKINS_URL=https://ci/", "GITLAB_CI=true", "GITHUB_ACTIONS=true",
	    NULL },
	  { .system = AMS_CI_GITHUB,
	    .system_name = "github-actions",
	    .commit_var = "GITHUB_SHA" } },
	{ "gitlab wins over jenkins",
	  { "JENKINS_URL=https://ci/", "GITLAB_CI=true", NULL },
	  { .system = AMS_CI_GITLAB,
	    .system_name = "gitlab-ci",
	    .commit_var = "CI_COMMIT_SHA" } },
};

#define CHECK_FIELD(f) CHECK_STR_OR_NULL(w->f, ci.f, #f)
#define CHECK_STR_OR_NULL(expect, actual, name)                             \
	do {                                                                \
		if ((expect) || (actual)) {                                 \
			if (!(expect) || !(actual) ||                       \
			    strcmp((expect), (actual))) {                   \
				harness_point_failed = 1;                   \
				printf("#   %s: expected '%s', got '%s'\n", \
				       name, (expect) ? (expect) : "NULL",  \
				       (actual) ? (actual) : "NULL");       \
			}                                                   \
		}                                                           \
	} while (0)

static void test_detect(void)
{
	struct ams_ci_env ci = AMS_CI_ENV_INIT;
	const struct want *w;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(detect_cases); i++) {
		TEST_BEGIN();
		w = &detect_cases[i].want;
		ams_ci_env_detect(&ci, ams_ci_env_getenv_envp,
				  detect_cases[i].env);
		CHECK_INT_EQ(w->system, ci.system);
		CHECK_FIELD(system_name);
		CHECK_FIELD(commit);
		CHECK_FIELD(commit_var);
		CHECK_FIELD(branch);
		CHECK_FIELD(tag);
		CHECK_FIELD(ref);
		CHECK_FIELD(repository);
		CHECK_FIELD(repository_url);
		CHECK_FIELD(run_id);
		CHECK_FIELD(run_attempt);
		CHECK_FIELD(run_url);
		CHECK_FIELD(job_id);
		CHECK_FIELD(job_url);
		CHECK_FIELD(workflow);
		CHECK_FIELD(builder_id);
		CHECK_FIELD(invocation_id);
		CHECK_INT_EQ(w->pull_request, ci.pull_request);
		TEST_END("detect: %s", detect_cases[i].name);
	}
	ams_ci_env_release(&ci);
}

static void test_detect_releases_previous(void)
{
	struct ams_ci_env ci = AMS_CI_ENV_INIT;
	const char *gh[] = { "GITHUB_ACTIONS=true", "GITHUB_SHA=abc", NULL };
	const char *none[] = { NULL };

	ams_ci_env_detect(&ci, ams_ci_env_getenv_envp, gh);
	CHECK_STR_EQ("abc", ci.commit);
	ams_ci_env_detect(&ci, ams_ci_env_getenv_envp, none);
	CHECK_INT_EQ(AMS_CI_NONE, ci.system);
	CHECK(ci.commit == NULL);
	CHECK(ci.system_name == NULL);
	ams_ci_env_release(&ci);
}

static void test_system_names(void)
{
	CHECK_STR_EQ("none", ams_ci_system_name(AMS_CI_NONE));
	CHECK_STR_EQ("generic", ams_ci_system_name(AMS_CI_GENERIC));
	CHECK_STR_EQ("github-actions", ams_ci_system_name(AMS_CI_GITHUB));
	CHECK_STR_EQ("gitlab-ci", ams_ci_system_name(AMS_CI_GITLAB));
	CHECK_STR_EQ("jenkins", ams_ci_system_name(AMS_CI_JENKINS));
}

static void test_process_getenv(void)
{
	setenv("AMS_T_CI_ENV_PROBE", "yes", 1);
	CHECK_STR_EQ("yes",
		     ams_ci_env_getenv_process("AMS_T_CI_ENV_PROBE", NULL));
	unsetenv("AMS_T_CI_ENV_PROBE");
	CHECK(ams_ci_env_getenv_process("AMS_T_CI_ENV_PROBE", NULL) == NULL);
}

int main(void)
{
	test_url_strip();
	TEST(test_url_secrets_registered,
	     "credentials of URLs are registered for redaction");
	TEST(test_getenv_envp, "envp lookup matches whole names");
	test_detect();
	TEST(test_detect_releases_previous,
	     "detect replaces what the struct held");
	TEST(test_system_names, "system names");
	TEST(test_process_getenv, "process environment reader");
	return test_done();
}
