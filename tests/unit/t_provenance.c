/*
 * Unit tests for reading git provenance with libgit2. Every test builds
 * a real repository at run time with the git command line (as git's own
 * t/ does) in a private scratch directory, then compares what amishare
 * reads with what git itself says.
 */
#include <git2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "ci_env.h"
#include "harness.h"
#include "json.h"
#include "provenance.h"

static char scratch[256];
static int repo_seq;

/* Runs a shell command in dir; returns its exit status. */
static int sh(const char *dir, const char *fmt, ...) AMS_PRINTF(2, 3);
static int sh(const char *dir, const char *fmt, ...)
{
	struct ams_buf cmd = AMS_BUF_INIT;
	va_list ap;
	int rc;

	ams_buf_addf(&cmd, "cd '%s' && { ", dir);
	va_start(ap, fmt);
	ams_buf_vaddf(&cmd, fmt, ap);
	va_end(ap);
	ams_buf_addstr(&cmd, "; } >/dev/null 2>&1");
	rc = system(cmd.buf);
	ams_buf_release(&cmd);
	return rc;
}

/* The first line a shell command prints, without the newline. */
static char *capture(const char *dir, const char *cmd)
{
	struct ams_buf sb = AMS_BUF_INIT;
	char line[512];
	FILE *p;

	ams_buf_addf(&sb, "cd '%s' && %s 2>/dev/null", dir, cmd);
	p = popen(sb.buf, "r");
	ams_buf_reset(&sb);
	if (p && fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = '\0';
		ams_buf_addstr(&sb, line);
	}
	if (p)
		pclose(p);
	return ams_buf_detach(&sb, NULL);
}

/* A new empty directory under the scratch directory. */
static char *new_dir(const char *what)
{
	char *dir = xasprintf("%s/%s-%d", scratch, what, ++repo_seq);

	mkdir(dir, 0700);
	return dir;
}

/* A repository on branch main with commits "one" and "two". */
static char *new_repo(void)
{
	char *dir = new_dir("repo");

	CHECK_INT_EQ(0, sh(dir, "git init -q -b main . && "
				"echo a >file && git add file && "
				"git commit -q -m one && "
				"echo b >>file && git commit -q -am two"));
	return dir;
}

static void read_ok(struct ams_git_info *gi, const char *path, unsigned flags)
{
	struct ams_err err = AMS_ERR_INIT;

	CHECK_RC(AMS_OK, ams_git_info_read(gi, path, flags, &err), &err);
}

static void test_commit_and_short(void)
{
	struct ams_git_info gi;
	char *dir = new_repo();
	char *full = capture(dir, "git rev-parse HEAD");
	char *abbrev = capture(dir, "git rev-parse --short HEAD");

	memset(&gi, 0, sizeof(gi));
	read_ok(&gi, dir, 0);
	CHECK_INT_EQ(AMS_GIT_OK, gi.state);
	CHECK(gi.reason == NULL);
	CHECK_STR_EQ(full, gi.commit);
	CHECK_INT_EQ(40, strlen(gi.commit));
	CHECK_STR_EQ(abbrev, gi.short_commit);
	CHECK_INT_EQ(7, strlen(gi.short_commit));
	CHECK_STR_EQ("two", gi.subject);
	CHECK_STR_EQ("2015-08-30T12:36:00Z", gi.commit_time);
	CHECK_STR_EQ(dir, gi.root);
	/* core.abbrev sets the length, as for git itself. */
	free(abbrev);
	CHECK_INT_EQ(0, sh(dir, "git config core.abbrev 12"));
	abbrev = capture(dir, "git rev-parse --short HEAD");
	read_ok(&gi, dir, 0);
	CHECK_INT_EQ(12, strlen(gi.short_commit));
	CHECK_STR_EQ(abbrev, gi.short_commit);
	ams_git_info_release(&gi);
	free(full);
	free(abbrev);
	free(dir);
}

static void test_discovers_from_subdirectory(void)
{
	struct ams_git_info gi;
	char *dir = new_repo();
	char *sub = xasprintf("%s/a/b", dir);

	memset(&gi, 0, sizeof(gi));
	CHECK_INT_EQ(0, sh(dir, "mkdir -p a/b"));
	read_ok(&gi, sub, 0);
	CHECK_INT_EQ(AMS_GIT_OK, gi.state);
	CHECK_STR_EQ(dir, gi.root);
	ams_git_info_release(&gi);
	free(sub);
	free(dir);
}

static void test_branch(void)
{
	struct ams_git_info gi;
	char *dir = new_repo();

	memset(&gi, 0, sizeof(gi));
	read_ok(&gi, dir, 0);
	CHECK_STR_EQ("main", gi.branch);
	CHECK(!gi.detached);
	CHECK_INT_EQ(0, sh(dir, "git checkout -q -b feature/x"));
	read_ok(&gi, dir, 0);
	CHECK_STR_EQ("feature/x", gi.branch);
	CHECK(!gi.detached);
	ams_git_info_release(&gi);
	free(dir);
}

static void test_detached_head(void)
{
	struct ams_git_info gi;
	char *dir = new_repo();
	char *first = capture(dir, "git rev-parse HEAD~1");

	memset(&gi, 0, sizeof(gi));
	CHECK_INT_EQ(0, sh(dir, "git checkout -q --detach HEAD~1"));
	read_ok(&gi, dir, 0);
	CHECK_INT_EQ(AMS_GIT_OK, gi.state);
	CHECK(gi.detached);
	CHECK(gi.branch == NULL);
	CHECK_STR_EQ(first, gi.commit);
	CHECK_STR_EQ("one", gi.subject);
	ams_git_info_release(&gi);
	free(first);
	free(dir);
}

static void test_dirty(void)
{
	struct ams_git_info gi;
	char *dir = new_repo();

	memset(&gi, 0, sizeof(gi));
	read_ok(&gi, dir, 0);
	CHECK_INT_EQ(AMS_GIT_CLEAN, gi.dirty);
	/* Untracked and ignored files do not count (git describe --dirty). */
	CHECK_INT_EQ(0, sh(dir, "echo x >untracked && mkdir -p d && "
				"echo y >d/new && echo ign >.git/info/exclude "
				"&& echo z >ign"));
	read_ok(&gi, dir, 0);
	CHECK_INT_EQ(AMS_GIT_CLEAN, gi.dirty);
	CHECK_INT_EQ(0, sh(dir, "echo c >>file"));
	read_ok(&gi, dir, 0);
	CHECK_INT_EQ(AMS_GIT_DIRTY, gi.dirty);
	/* Skipping the scan records unknown. */
	read_ok(&gi, dir, AMS_PROVENANCE_NO_DIRTY_CHECK);
	CHECK_INT_EQ(AMS_GIT_DIRTY_UNKNOWN, gi.dirty);
	CHECK_STR_EQ("unknown", ams_git_dirty_name(gi.dirty));
	/* A staged change is dirty too, and so is a deleted file. */
	CHECK_INT_EQ(0, sh(dir, "git checkout -q -- file && echo s >staged "
				"&& git add staged"));
	read_ok(&gi, dir, 0);
	CHECK_INT_EQ(AMS_GIT_DIRTY, gi.dirty);
	CHECK_INT_EQ(0, sh(dir, "git reset -q && rm file"));
	read_ok(&gi, dir, 0);
	CHECK_INT_EQ(AMS_GIT_DIRTY, gi.dirty);
	CHECK_INT_EQ(0, sh(dir, "git checkout -q -- file"));
	read_ok(&gi, dir, 0);
	CHECK_INT_EQ(AMS_GIT_CLEAN, gi.dirty);
	CHECK_STR_EQ("clean", ams_git_dirty_name(gi.dirty));
	ams_git_info_release(&gi);
	free(dir);
}

static void test_nearest_tag(void)
{
	struct ams_git_info gi;
	char *dir = new_repo();

	memset(&gi, 0, sizeof(gi));
	read_ok(&gi, dir, 0);
	CHECK(gi.tag == NULL);
	CHECK(gi.warning == NULL);
	/* Annotated tag on HEAD: exact. */
	CHECK_INT_EQ(0, sh(dir, "git tag -a -m rel v1.0-rc-1"));
	read_ok(&gi, dir, 0);
	CHECK_STR_EQ("v1.0-rc-1", gi.tag);
	CHECK_INT_EQ(0, gi.tag_distance);
	/* Two commits later the same tag is two behind. */
	CHECK_INT_EQ(0, sh(dir, "echo 3 >>file && git commit -q -am three "
				"&& echo 4 >>file && git commit -q -am four"));
	read_ok(&gi, dir, 0);
	CHECK_STR_EQ("v1.0-rc-1", gi.tag);
	CHECK_INT_EQ(2, gi.tag_distance);
	/* A nearer lightweight tag wins. */
	CHECK_INT_EQ(0, sh(dir, "git tag light HEAD~1"));
	read_ok(&gi, dir, 0);
	CHECK_STR_EQ("light", gi.tag);
	CHECK_INT_EQ(1, gi.tag_distance);
	/* A tag on another branch is not reachable from HEAD. */
	CHECK_INT_EQ(0, sh(dir, "git checkout -q -b side HEAD~3 && "
				"echo s >>file && git commit -q -am side && "
				"git tag side-tag && git checkout -q main"));
	read_ok(&gi, dir, 0);
	CHECK_STR_EQ("light", gi.tag);
	ams_git_info_release(&gi);
	free(dir);
}

static const struct {
	const char *url, *want;
} remotes[] = {
	{ "https://user:token@host.example/org/repo.git",
	  "https://host.example/org/repo.git" },
	{ "https://ghp_abcdef123456@github.com/org/repo",
	  "https://github.com/org/repo" },
	{ "ssh://user:pw@host.example/org/repo.git",
	  "ssh://user@host.example/org/repo.git" },
	{ "git@github.com:org/repo.git", "git@github.com:org/repo.git" },
	{ "https://host.example/r.git?private_token=abc",
	  "https://host.example/r.git" },
	{ "/srv/git/repo.git", "/srv/git/repo.git" },
};

static void test_remote_url(void)
{
	struct ams_git_info gi;
	char *dir = new_repo();
	char *url;
	size_t i;

	memset(&gi, 0, sizeof(gi));
	read_ok(&gi, dir, 0);
	CHECK(gi.remote_url == NULL);
	for (i = 0; i < ARRAY_SIZE(remotes); i++) {
		CHECK_INT_EQ(0, sh(dir,
				   "git remote remove origin 2>/dev/null; "
				   "git remote add origin '%s'",
				   remotes[i].url));
		read_ok(&gi, dir, 0);
		CHECK_STR_EQ(remotes[i].want, gi.remote_url);
	}
	/* url.<base>.insteadOf rewrites, the longest match winning. */
	CHECK_INT_EQ(0,
		     sh(dir, "git remote set-url origin gh:org/repo.git && "
			     "git config url.https://github.com/.insteadOf gh: "
			     "&& git config url.ssh://git@other/.insteadOf g"));
	read_ok(&gi, dir, 0);
	CHECK_STR_EQ("https://github.com/org/repo.git", gi.remote_url);
	CHECK_INT_EQ(0, sh(dir, "git config "
				"url.https://tok:en@ghe.example/o/.insteadOf "
				"gh:org/"));
	read_ok(&gi, dir, 0);
	CHECK_STR_EQ("https://ghe.example/o/repo.git", gi.remote_url);
	url = capture(dir, "git remote get-url origin");
	CHECK_STR_EQ("https://tok:en@ghe.example/o/repo.git", url);
	free(url);
	/* Only "origin" counts. */
	CHECK_INT_EQ(0, sh(dir, "git remote rename origin upstream"));
	read_ok(&gi, dir, 0);
	CHECK(gi.remote_url == NULL);
	ams_git_info_release(&gi);
	free(dir);
}

static void test_unborn_head(void)
{
	struct ams_git_info gi;
	char *dir = new_dir("unborn");

	memset(&gi, 0, sizeof(gi));
	CHECK_INT_EQ(0, sh(dir, "git init -q -b trunk . && echo a >f"));
	read_ok(&gi, dir, 0);
	CHECK_INT_EQ(AMS_GIT_UNBORN, gi.state);
	CHECK(gi.reason && strstr(gi.reason, "unborn branch 'trunk'"));
	CHECK_STR_EQ("trunk", gi.branch);
	CHECK(gi.commit == NULL);
	CHECK(gi.short_commit == NULL);
	CHECK_INT_EQ(AMS_GIT_DIRTY_UNKNOWN, gi.dirty);
	CHECK_STR_EQ(dir, gi.root);
	ams_git_info_release(&gi);
	free(dir);
}

static void test_no_repository(void)
{
	struct ams_git_info gi;
	char *dir = new_dir("plain");

	memset(&gi, 0, sizeof(gi));
	read_ok(&gi, dir, 0);
	CHECK_INT_EQ(AMS_GIT_NO_REPO, gi.state);
	CHECK(gi.reason && strstr(gi.reason, "no git repository"));
	CHECK(gi.reason && strstr(gi.reason, dir));
	CHECK(gi.root == NULL);
	CHECK(gi.commit == NULL);
	ams_git_info_release(&gi);
	free(dir);
}

static void test_bare_repository(void)
{
	struct ams_git_info gi;
	char *src = new_repo();
	char *dir = new_dir("bare");
	char *head = capture(src, "git rev-parse HEAD");

	memset(&gi, 0, sizeof(gi));
	CHECK_INT_EQ(0, sh(dir, "git clone -q --bare '%s' b.git", src));
	free(dir);
	dir = xasprintf("%s/bare-%d/b.git", scratch, repo_seq);
	read_ok(&gi, dir, 0);
	CHECK_INT_EQ(AMS_GIT_OK, gi.state);
	CHECK_STR_EQ(head, gi.commit);
	CHECK_STR_EQ(dir, gi.root);
	CHECK_INT_EQ(AMS_GIT_DIRTY_UNKNOWN, gi.dirty);
	CHECK_STR_EQ(src, gi.remote_url);
	ams_git_info_release(&gi);
	free(head);
	free(dir);
	free(src);
}

/* A shallow clone lacks history: reading it must still succeed. */
static void test_shallow_clone(void)
{
	struct ams_git_info gi;
	char *src = new_repo();
	char *dir = new_dir("shallow");
	char *head = capture(src, "git rev-parse HEAD");
	char *clone = xasprintf("%s/c", dir);

	memset(&gi, 0, sizeof(gi));
	CHECK_INT_EQ(0, sh(src, "git tag -a -m old old HEAD~1"));
	CHECK_INT_EQ(0, sh(dir, "git clone -q --depth 1 'file://%s' c", src));
	read_ok(&gi, clone, 0);
	CHECK_INT_EQ(AMS_GIT_OK, gi.state);
	CHECK_STR_EQ(head, gi.commit);
	CHECK_INT_EQ(AMS_GIT_CLEAN, gi.dirty);
	/* The tag's commit was not fetched: no tag, maybe a warning. */
	CHECK(gi.tag == NULL);
	/* Two commits deep, the tag and its commit are there. */
	CHECK_INT_EQ(0, sh(dir,
			   "git clone -q --depth 2 --no-single-branch "
			   "'file://%s' d",
			   src));
	free(clone);
	clone = xasprintf("%s/d", dir);
	read_ok(&gi, clone, 0);
	CHECK_STR_EQ(head, gi.commit);
	CHECK_STR_EQ("old", gi.tag);
	CHECK_INT_EQ(1, gi.tag_distance);
	ams_git_info_release(&gi);
	free(clone);
	free(head);
	free(dir);
	free(src);
}

static void collect(struct ams_provenance *prov, const char *dir,
		    const char **env)
{
	struct ams_err err = AMS_ERR_INIT;

	CHECK_RC(AMS_OK,
		 ams_provenance_collect(prov, dir, 0, ams_ci_env_getenv_envp,
					env, &err),
		 &err);
}

/* Detached HEAD in CI: the branch comes from each CI's variables. */
static void test_detached_branch_from_ci(void)
{
	struct ams_provenance prov;
	char *dir = new_repo();
	char *head = capture(dir, "git rev-parse HEAD");
	char *gh_sha = xasprintf("GITHUB_SHA=%s", head);
	char *gl_sha = xasprintf("CI_COMMIT_SHA=%s", head);
	char *jk_sha = xasprintf("GIT_COMMIT=%s", head);
	const char *github[] = { "GITHUB_ACTIONS=true", gh_sha,
				 "GITHUB_REF=refs/heads/release",
				 "GITHUB_REF_NAME=release", NULL };
	const char *gitlab[] = { "GITLAB_CI=true", gl_sha,
				 "CI_COMMIT_REF_NAME=develop",
				 "CI_COMMIT_BRANCH=develop", NULL };
	const char *jenkins[] = { "JENKINS_URL=https://ci.example/", jk_sha,
				  "GIT_BRANCH=origin/hotfix", NULL };
	const char *none[] = { NULL };

	CHECK_INT_EQ(0, sh(dir, "git checkout -q --detach HEAD"));
	collect(&prov, dir, github);
	CHECK(prov.git.detached);
	CHECK_STR_EQ("release", prov.branch);
	CHECK_INT_EQ(AMS_PROVENANCE_CI, prov.branch_from);
	CHECK_STR_EQ("refs/heads/release", prov.ref);
	CHECK_INT_EQ(0, prov.nr_warnings);
	ams_provenance_release(&prov);
	collect(&prov, dir, gitlab);
	CHECK_STR_EQ("develop", prov.branch);
	CHECK_INT_EQ(AMS_PROVENANCE_CI, prov.branch_from);
	CHECK_INT_EQ(0, prov.nr_warnings);
	ams_provenance_release(&prov);
	collect(&prov, dir, jenkins);
	CHECK_STR_EQ("hotfix", prov.branch);
	CHECK_INT_EQ(0, prov.nr_warnings);
	ams_provenance_release(&prov);
	collect(&prov, dir, none);
	CHECK(prov.branch == NULL);
	CHECK_INT_EQ(AMS_PROVENANCE_NONE, prov.branch_from);
	ams_provenance_release(&prov);
	/* On a real branch git wins over the CI's branch. */
	CHECK_INT_EQ(0, sh(dir, "git checkout -q main"));
	collect(&prov, dir, github);
	CHECK_STR_EQ("main", prov.branch);
	CHECK_INT_EQ(AMS_PROVENANCE_GIT, prov.branch_from);
	CHECK_STR_EQ("refs/heads/main", prov.ref);
	ams_provenance_release(&prov);
	free(head);
	free(gh_sha);
	free(gl_sha);
	free(jk_sha);
	free(dir);
}

static void test_commit_mismatch_warns(void)
{
	struct ams_provenance prov;
	char *dir = new_repo();
	char *head = capture(dir, "git rev-parse HEAD");
	char *prev = capture(dir, "git rev-parse HEAD~1");
	char *gh_prev = xasprintf("GITHUB_SHA=%s", prev);
	char *gh_short = xasprintf("GITHUB_SHA=%.10s", head);
	char *gh_upper = xasprintf("GITHUB_SHA=%s", head);
	const char *mismatch[] = { "GITHUB_ACTIONS=true", gh_prev, NULL };
	const char *abbrev[] = { "GITHUB_ACTIONS=true", gh_short, NULL };
	const char *upper[] = { "GITHUB_ACTIONS=true", gh_upper, NULL };
	size_t i;

	for (i = 0; gh_upper[i]; i++)
		if (gh_upper[i] >= 'a' && gh_upper[i] <= 'f')
			gh_upper[i] = (char)(gh_upper[i] - 'a' + 'A');
	collect(&prov, dir, mismatch);
	CHECK_INT_EQ(1, prov.nr_warnings);
	CHECK(prov.nr_warnings && strstr(prov.warnings[0], head));
	CHECK(prov.nr_warnings && strstr(prov.warnings[0], prev));
	CHECK(prov.nr_warnings && strstr(prov.warnings[0], "GITHUB_SHA"));
	/* git's commit is the one recorded. */
	CHECK_STR_EQ(head, prov.commit);
	CHECK_INT_EQ(AMS_PROVENANCE_GIT, prov.commit_from);
	ams_provenance_release(&prov);
	collect(&prov, dir, abbrev);
	CHECK_INT_EQ(0, prov.nr_warnings);
	ams_provenance_release(&prov);
	collect(&prov, dir, upper);
	CHECK_INT_EQ(0, prov.nr_warnings);
	ams_provenance_release(&prov);
	free(head);
	free(prev);
	free(gh_prev);
	free(gh_short);
	free(gh_upper);
	free(dir);
}

static void test_no_repository_uses_ci(void)
{
	struct ams_provenance prov;
	char *dir = new_dir("ci-only");
	const char *env[] = {
		"GITLAB_CI=true",
		"CI_COMMIT_SHA=0123456789abcdef0123456789abcdef01234567",
		"CI_COMMIT_REF_NAME=main",
		"CI_COMMIT_BRANCH=main",
		"CI_PROJECT_URL=https://gl.example/g/p",
		"PACKER_BUILD_NAME=golden",
		"PACKER_BUILDER_TYPE=amazon-ebs",
		"PACKER_RUN_UUID=6f1c2c52-0000-4000-8000-000000000001",
		NULL
	};

	collect(&prov, dir, env);
	CHECK_INT_EQ(AMS_GIT_NO_REPO, prov.git.state);
	CHECK_STR_EQ("0123456789abcdef0123456789abcdef01234567", prov.commit);
	CHECK_INT_EQ(AMS_PROVENANCE_CI, prov.commit_from);
	CHECK_STR_EQ("main", prov.branch);
	CHECK_STR_EQ("https://gl.example/g/p", prov.repository_url);
	CHECK_INT_EQ(AMS_PROVENANCE_CI, prov.repository_from);
	CHECK_STR_EQ("golden", prov.packer.name);
	CHECK_STR_EQ("amazon-ebs", prov.packer.builder_type);
	CHECK_STR_EQ("6f1c2c52-0000-4000-8000-000000000001",
		     prov.packer.run_uuid);
	CHECK_INT_EQ(0, prov.nr_warnings);
	ams_provenance_release(&prov);
	free(dir);
}

static void test_ref_resolution(void)
{
	struct ams_provenance prov;
	char *dir = new_repo();
	const char *pr[] = { "GITHUB_ACTIONS=true",
			     "GITHUB_REF=refs/pull/4/merge",
			     "GITHUB_HEAD_REF=topic", NULL };
	const char *none[] = { NULL };

	CHECK_INT_EQ(0, sh(dir, "git tag v2 && git checkout -q --detach"));
	collect(&prov, dir, pr);
	CHECK_STR_EQ("refs/pull/4/merge", prov.ref);
	CHECK_STR_EQ("topic", prov.branch);
	ams_provenance_release(&prov);
	collect(&prov, dir, none);
	CHECK_STR_EQ("refs/tags/v2", prov.ref);
	ams_provenance_release(&prov);
	CHECK_INT_EQ(0, sh(dir, "git checkout -q --detach HEAD~1"));
	collect(&prov, dir, none);
	CHECK(prov.ref == NULL);
	ams_provenance_release(&prov);
	free(dir);
}

static void test_packer_from_manifest(void)
{
	struct ams_provenance prov;
	struct ams_manifest_build b;
	static char k1[] = "team", v1[] = "platform", k2[] = "os",
		    v2[] = "al2023", name[] = "base", type[] = "amazon-ebs",
		    uuid[] = "uuid-1";
	struct ams_kv cd[2] = { { k1, v1 }, { k2, v2 } };
	const char *placeholders[][2] = {
		{ "build.name", "base" },
		{ "build.builder_type", "amazon-ebs" },
		{ "build.time", "2015-08-30T12:36:00Z" },
		{ "packer.run_uuid", "uuid-1" },
		{ "git.tag", "" },
		{ "ci.system", "" },
	};
	size_t i;

	ams_provenance_init(&prov);
	memset(&b, 0, sizeof(b));
	b.name = name;
	b.builder_type = type;
	b.build_time = 1440938160;
	b.packer_run_uuid = uuid;
	b.custom_data = cd;
	b.nr_custom_data = ARRAY_SIZE(cd);
	ams_packer_build_from_manifest(&prov.packer, &b);
	ams_provenance_resolve(&prov);
	CHECK_INT_EQ(2, prov.packer.nr_custom_data);
	CHECK_STR_EQ("os", prov.packer.custom_data[1].key);
	CHECK_STR_EQ("al2023", prov.packer.custom_data[1].value);
	for (i = 0; i < ARRAY_SIZE(placeholders); i++)
		CHECK_STR_EQ(
		    placeholders[i][1],
		    ams_provenance_placeholder(placeholders[i][0], &prov));
	CHECK(ams_provenance_placeholder("git.nope", &prov) == NULL);
	ams_provenance_release(&prov);
}

/* The report member, parsed back: resolved fields, git, CI, warnings. */
static void test_report_json(void)
{
	struct ams_provenance prov;
	struct ams_json_writer w;
	struct ams_buf sb = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;
	struct ams_json *doc = NULL;
	const struct ams_json_val *root;
	char *dir = new_repo();
	char *head = capture(dir, "git rev-parse HEAD");
	const char *env[] = {
		"GITHUB_ACTIONS=true",
		"GITHUB_SHA=2222222222222222222222222222222222222222",
		"GITHUB_REF=refs/heads/main", NULL
	};
	const char *none[] = { NULL };

	CHECK_INT_EQ(0, sh(dir, "git tag v3 HEAD~1 && "
				"git remote add origin https://u:pw@h/r.git"));
	collect(&prov, dir, env);
	ams_json_w_init(&w, &sb);
	ams_provenance_report_json(&w, &prov);
	CHECK_RC(AMS_OK, ams_json_w_finish(&w, &err), &err);
	CHECK_RC(AMS_OK, ams_json_parse(&doc, sb.buf, sb.len, &err), &err);
	root = ams_json_root(doc);
	CHECK_STR_EQ(head, ams_json_str(ams_json_at(root, "commit")));
	CHECK_STR_EQ("git", ams_json_str(ams_json_at(root, "commit_from")));
	CHECK_STR_EQ("main", ams_json_str(ams_json_at(root, "branch")));
	CHECK_STR_EQ("https://h/r.git",
		     ams_json_str(ams_json_at(root, "repository")));
	CHECK_STR_EQ("refs/heads/main", ams_json_str(ams_json_at(root, "ref")));
	CHECK_STR_EQ("ok", ams_json_str(ams_json_at(root, "git.state")));
	CHECK_STR_EQ("v3", ams_json_str(ams_json_at(root, "git.tag")));
	CHECK_STR_EQ("clean", ams_json_str(ams_json_at(root, "git.dirty")));
	CHECK_STR_EQ("github-actions",
		     ams_json_str(ams_json_at(root, "ci.system")));
	CHECK_INT_EQ(AMS_JSON_NULL,
		     ams_json_type_of(ams_json_at(root, "packer.run_uuid")));
	CHECK_INT_EQ(1, ams_json_size(ams_json_at(root, "warnings")));
	CHECK(strstr(ams_json_str(ams_json_at(root, "warnings[0]")),
		     "2222222222222222222222222222222222222222") != NULL);
	CHECK(!strstr(sb.buf, "pw@"));
	ams_json_free(doc);
	doc = NULL;
	ams_provenance_release(&prov);
	ams_buf_reset(&sb);
	/* No CI: "ci" is null; tag distance is a number. */
	collect(&prov, dir, none);
	ams_json_w_init(&w, &sb);
	ams_provenance_report_json(&w, &prov);
	CHECK_RC(AMS_OK, ams_json_w_finish(&w, &err), &err);
	CHECK_RC(AMS_OK, ams_json_parse(&doc, sb.buf, sb.len, &err), &err);
	root = ams_json_root(doc);
	CHECK_INT_EQ(AMS_JSON_NULL, ams_json_type_of(ams_json_at(root, "ci")));
	CHECK_INT_EQ(AMS_JSON_NUMBER,
		     ams_json_type_of(ams_json_at(root, "git.tag_distance")));
	CHECK_INT_EQ(0, ams_json_size(ams_json_at(root, "warnings")));
	ams_json_free(doc);
	ams_provenance_release(&prov);
	ams_buf_release(&sb);
	free(head);
	free(dir);
}

/* A missing HEAD commit object is a libgit2 failure: recorded, returned. */
static void test_broken_repository(void)
{
	struct ams_provenance prov;
	struct ams_err err = AMS_ERR_INIT;
	char *dir = new_repo();
	const char *env[] = { "GITLAB_CI=true", "CI_COMMIT_SHA=abc", NULL };

	CHECK_INT_EQ(0, sh(dir, "h=$(git rev-parse HEAD) && "
				"rm -f .git/objects/$(echo $h | cut -c1-2)/"
				"$(echo $h | cut -c3-)"));
	CHECK_INT_EQ(AMS_EGIT,
		     ams_provenance_collect(&prov, dir, 0,
					    ams_ci_env_getenv_envp, env, &err));
	CHECK_INT_EQ(AMS_EGIT, err.code);
	CHECK(strstr(err.msg, dir) != NULL);
	CHECK_INT_EQ(AMS_GIT_ERROR, prov.git.state);
	CHECK_STR_EQ(err.msg, prov.git.reason);
	CHECK_STR_EQ("error", ams_git_state_name(prov.git.state));
	CHECK(prov.git.commit == NULL);
	CHECK_STR_EQ("abc", prov.commit);
	CHECK_INT_EQ(AMS_PROVENANCE_CI, prov.commit_from);
	ams_provenance_release(&prov);
	free(dir);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	int rc;

	snprintf(scratch, sizeof(scratch), "%s/ams-t-prov.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(scratch)) {
		printf("Bail out! cannot create a scratch directory\n");
		return 1;
	}
	/* A predictable git: no user or system configuration, fixed time. */
	setenv("HOME", scratch, 1);
	setenv("XDG_CONFIG_HOME", scratch, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_AUTHOR_NAME", "A U Thor", 1);
	setenv("GIT_AUTHOR_EMAIL", "author@example.com", 1);
	setenv("GIT_COMMITTER_NAME", "C O Mitter", 1);
	setenv("GIT_COMMITTER_EMAIL", "committer@example.com", 1);
	setenv("GIT_AUTHOR_DATE", "2001-01-01T00:00:00Z", 1);
	setenv("GIT_COMMITTER_DATE", "2015-08-30T12:36:00Z", 1);
	git_libgit2_init();

	TEST(test_commit_and_short, "commit, short commit, subject, time");
	TEST(test_discovers_from_subdirectory,
	     "the repository is found from a subdirectory");
	TEST(test_branch, "branch names, with slashes");
	TEST(test_detached_head, "detached HEAD has no branch");
	TEST(test_dirty, "dirty: tracked changes only, or unknown if skipped");
	TEST(test_nearest_tag, "nearest tag: exact, behind, lightweight");
	TEST(test_remote_url, "origin URL without credentials");
	TEST(test_unborn_head, "unborn HEAD is a recorded state");
	TEST(test_no_repository, "no repository is a recorded state");
	TEST(test_bare_repository, "bare repository");
	TEST(test_shallow_clone, "shallow clone reads without failing");
	TEST(test_broken_repository,
	     "a libgit2 failure is returned and recorded with the CI facts");
	TEST(test_detached_branch_from_ci,
	     "detached HEAD takes the branch from GitHub, GitLab, Jenkins");
	TEST(test_commit_mismatch_warns,
	     "a git commit differing from the CI commit is a warning");
	TEST(test_no_repository_uses_ci,
	     "without a repository the CI and Packer facts remain");
	TEST(test_ref_resolution, "ref: pull request, exact tag, none");
	TEST(test_report_json, "the report's provenance object");
	TEST(test_packer_from_manifest,
	     "Packer build copied from a manifest build; placeholders");

	git_libgit2_shutdown();
	rc = test_done();
	sh("/", "rm -rf '%s'", scratch);
	return rc;
}
