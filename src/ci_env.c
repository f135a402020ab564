/*
 * CI detection: which CI system runs amishare, and what it says about the
 * run (commit, branch, links). One small reader per system fills struct
 * ams_ci_env from the environment callback; the AMISHARE_CI_* variables
 * then override any field, and every URL loses its credentials.
 *
 * The variable names follow each system's documentation: GitHub Actions
 * "Variables reference", GitLab "Predefined CI/CD variables" and
 * Jenkins "Building a software project" plus the multibranch pipeline
 * variables (BRANCH_NAME, CHANGE_ID, CHANGE_BRANCH, TAG_NAME).
 */
#include "ci_env.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "log.h"
#include "xmem.h"

const char *ams_ci_env_getenv_process(const char *name, void *payload)
{
	(void)payload;
	return getenv(name);
}

const char *ams_ci_env_getenv_envp(const char *name, void *payload)
{
	char *const *envp = payload;
	size_t len = strlen(name);

	for (; envp && *envp; envp++)
		if (!strncmp(*envp, name, len) && (*envp)[len] == '=')
			return *envp + len + 1;
	return NULL;
}

const char *ams_ci_system_name(enum ams_ci_system system)
{
	switch (system) {
	case AMS_CI_GENERIC: return "generic";
	case AMS_CI_GITHUB: return "github-actions";
	case AMS_CI_GITLAB: return "gitlab-ci";
	case AMS_CI_JENKINS: return "jenkins";
	case AMS_CI_NONE: break;
	}
	return "none";
}

/* The reader's view of the environment: empty values count as unset. */
struct env {
	ams_ci_getenv_fn *get;
	void *payload;
};

static const char *env_get(const struct env *env, const char *name)
{
	const char *v = env->get(name, env->payload);

	return v && *v ? v : NULL;
}

static bool env_true(const struct env *env, const char *name)
{
	const char *v = env_get(env, name);

	return v && (!strcasecmp(v, "true") || !strcmp(v, "1"));
}

/* Replaces *field with a copy of value (NULL clears it). */
static void set(char **field, const char *value)
{
	free(*field);
	*field = value ? xstrdup(value) : NULL;
}

static void set_env(char **field, const struct env *env, const char *name)
{
	set(field, env_get(env, name));
}

/* Sets *field to value without the prefix when value starts with it. */
static bool set_after(char **field, const char *value, const char *prefix)
{
	size_t len = strlen(prefix);

	if (!value || strncmp(value, prefix, len) || !value[len])
		return false;
	set(field, value + len);
	return true;
}

static void read_github(struct ams_ci_env *ci, const struct env *env)
{
	const char *server = env_get(env, "GITHUB_SERVER_URL");
	const char *repo = env_get(env, "GITHUB_REPOSITORY");
	const char *ref = env_get(env, "GITHUB_REF");
	const char *ref_name = env_get(env, "GITHUB_REF_NAME");
	const char *ref_type = env_get(env, "GITHUB_REF_TYPE");
	const char *head_ref = env_get(env, "GITHUB_HEAD_REF");
	const char *workflow_ref = env_get(env, "GITHUB_WORKFLOW_REF");

	if (!server)
		server = "https://github.com";
	set_env(&ci->commit, env, "GITHUB_SHA");
	ci->commit_var = "GITHUB_SHA";
	set(&ci->ref, ref ? ref : ref_name);
	/* GITHUB_HEAD_REF is set only for pull_request events. */
	ci->pull_request = head_ref != NULL;
	if (head_ref)
		set(&ci->branch, head_ref);
	else if (!set_after(&ci->branch, ref, "refs/heads/") &&
		 !set_after(&ci->tag, ref, "refs/tags/") && !ref && ref_name)
		set(ref_type && !strcmp(ref_type, "tag") ? &ci->tag
							 : &ci->branch,
		    ref_name);
	set(&ci->repository, repo);
	set_env(&ci->run_id, env, "GITHUB_RUN_ID");
	set_env(&ci->run_attempt, env, "GITHUB_RUN_ATTEMPT");
	set_env(&ci->workflow, env, "GITHUB_WORKFLOW");
	if (repo) {
		free(ci->repository_url);
		ci->repository_url = xasprintf("%s/%s", server, repo);
	}
	if (repo && ci->run_id) {
		free(ci->run_url);
		ci->run_url =
		    ci->run_attempt
			? xasprintf("%s/%s/actions/runs/%s/attempts/%s", server,
				    repo, ci->run_id, ci->run_attempt)
			: xasprintf("%s/%s/actions/runs/%s", server, repo,
				    ci->run_id);
	}
	/* The workflow file at its ref names what ran the build. */
	free(ci->builder_id);
	ci->builder_id = workflow_ref
			     ? xasprintf("%s/%s", server, workflow_ref)
			     : (ci->run_url ? xstrdup(ci->run_url) : NULL);
}

static void read_gitlab(struct ams_ci_env *ci, const struct env *env)
{
	const char *server = env_get(env, "CI_SERVER_URL");
	const char *project = env_get(env, "CI_PROJECT_PATH");
	const char *runner = env_get(env, "CI_RUNNER_ID");
	const char *mr_branch =
	    env_get(env, "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME");

	set_env(&ci->commit, env, "CI_COMMIT_SHA");
	ci->commit_var = "CI_COMMIT_SHA";
	set_env(&ci->ref, env, "CI_COMMIT_REF_NAME");
	set_env(&ci->tag, env, "CI_COMMIT_TAG");
	ci->pull_request = env_get(env, "CI_MERGE_REQUEST_IID") != NULL;
	if (mr_branch)
		set(&ci->branch, mr_branch);
	else if (env_get(env, "CI_COMMIT_BRANCH"))
		set_env(&ci->branch, env, "CI_COMMIT_BRANCH");
	else if (!ci->tag)
		set(&ci->branch, ci->ref);
	set(&ci->repository, project);
	set_env(&ci->repository_url, env, "CI_PROJECT_URL");
	set_env(&ci->run_id, env, "CI_PIPELINE_ID");
	set_env(&ci->run_url, env, "CI_PIPELINE_URL");
	set_env(&ci->job_id, env, "CI_JOB_ID");
	set_env(&ci->job_url, env, "CI_JOB_URL");
	set_env(&ci->workflow, env, "CI_JOB_NAME");
	free(ci->builder_id);
	if (server && project && runner)
		ci->builder_id =
		    xasprintf("%s/%s/-/runners/%s", server, project, runner);
	else
		ci->builder_id = server ? xstrdup(server) : NULL;
}

/* "origin/main", "refs/remotes/origin/main", "refs/heads/main" -> main */
static void set_jenkins_branch(char **field, const char *git_branch)
{
	static const char *const prefixes[] = {
		"refs/remotes/origin/",
		"remotes/origin/",
		"origin/",
		"refs/heads/",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (set_after(field, git_branch, prefixes[i]))
			return;
	set(field, git_branch);
}

static void read_jenkins(struct ams_ci_env *ci, const struct env *env)
{
	const char *change_id = env_get(env, "CHANGE_ID");
	const char *tag = env_get(env, "TAG_NAME");
	const char *git_branch = env_get(env, "GIT_BRANCH");

	set_env(&ci->commit, env, "GIT_COMMIT");
	ci->commit_var = "GIT_COMMIT";
	set(&ci->ref, git_branch);
	set(&ci->tag, tag);
	ci->pull_request = change_id != NULL;
	/* Multibranch pipelines: BRANCH_NAME is "PR-12" for changes. */
	if (change_id && env_get(env, "CHANGE_BRANCH"))
		set_env(&ci->branch, env, "CHANGE_BRANCH");
	else if (!change_id && !tag && env_get(env, "BRANCH_NAME"))
		set_env(&ci->branch, env, "BRANCH_NAME");
	else if (git_branch && !tag)
		set_jenkins_branch(&ci->branch, git_branch);
	set_env(&ci->repository, env, "JOB_NAME");
	set_env(&ci->repository_url, env, "GIT_URL");
	set_env(&ci->run_id, env, "BUILD_NUMBER");
	set_env(&ci->run_url, env, "BUILD_URL");
	set_env(&ci->workflow, env, "JOB_NAME");
	set_env(&ci->builder_id, env, "JENKINS_URL");
}

static const struct {
	const char *var;
	size_t offset;
} overrides[] = {
	{ "AMISHARE_CI_SYSTEM", offsetof(struct ams_ci_env, system_name) },
	{ "AMISHARE_CI_COMMIT", offsetof(struct ams_ci_env, commit) },
	{ "AMISHARE_CI_BRANCH", offsetof(struct ams_ci_env, branch) },
	{ "AMISHARE_CI_TAG", offsetof(struct ams_ci_env, tag) },
	{ "AMISHARE_CI_REF", offsetof(struct ams_ci_env, ref) },
	{ "AMISHARE_CI_REPOSITORY", offsetof(struct ams_ci_env, repository) },
	{ "AMISHARE_CI_REPOSITORY_URL",
	  offsetof(struct ams_ci_env, repository_url) },
	{ "AMISHARE_CI_RUN_ID", offsetof(struct ams_ci_env, run_id) },
	{ "AMISHARE_CI_RUN_URL", offsetof(struct ams_ci_env, run_url) },
	{ "AMISHARE_CI_JOB_ID", offsetof(struct ams_ci_env, job_id) },
	{ "AMISHARE_CI_JOB_URL", offsetof(struct ams_ci_env, job_url) },
	{ "AMISHARE_CI_WORKFLOW", offsetof(struct ams_ci_env, workflow) },
	{ "AMISHARE_CI_BUILDER_ID", offsetof(struct ams_ci_env, builder_id) },
};

static char **field_at(struct ams_ci_env *ci, size_t offset)
{
	return (char **)(void *)((char *)ci + offset);
}

static bool any_override(const struct env *env)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(overrides); i++)
		if (env_get(env, overrides[i].var))
			return true;
	return false;
}

static void apply_overrides(struct ams_ci_env *ci, const struct env *env)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(overrides); i++)
		if (env_get(env, overrides[i].var))
			set_env(field_at(ci, overrides[i].offset), env,
				overrides[i].var);
	if (env_get(env, "AMISHARE_CI_COMMIT"))
		ci->commit_var = "AMISHARE_CI_COMMIT";
}

/* Registers then strips the credentials of a URL field in place. */
static void clean_url(char **field)
{
	char *clean;

	if (!*field)
		return;
	ams_ci_env_url_register_secrets(*field);
	clean = ams_ci_env_url_strip(*field);
	free(*field);
	*field = clean;
}

static enum ams_ci_system detect(const struct env *env)
{
	if (env_true(env, "GITHUB_ACTIONS"))
		return AMS_CI_GITHUB;
	if (env_true(env, "GITLAB_CI"))
		return AMS_CI_GITLAB;
	if (env_get(env, "JENKINS_URL") ||
	    (env_get(env, "BUILD_URL") && env_get(env, "JOB_NAME")))
		return AMS_CI_JENKINS;
	if (env_true(env, "CI") || any_override(env))
		return AMS_CI_GENERIC;
	return AMS_CI_NONE;
}

void ams_ci_env_detect(struct ams_ci_env *out, ams_ci_getenv_fn *get,
		       void *payload)
{
	struct env env;

	env.get = get;
	env.payload = payload;
	ams_ci_env_release(out);
	out->system = detect(&env);
	if (out->system == AMS_CI_NONE)
		return;
	set(&out->system_name, ams_ci_system_name(out->system));
	if (out->system == AMS_CI_GITHUB)
		read_github(out, &env);
	else if (out->system == AMS_CI_GITLAB)
		read_gitlab(out, &env);
	else if (out->system == AMS_CI_JENKINS)
		read_jenkins(out, &env);
	apply_overrides(out, &env);
	clean_url(&out->repository_url);
	clean_url(&out->run_url);
	clean_url(&out->job_url);
	clean_url(&out->builder_id);
	set(&out->invocation_id, out->job_url	? out->job_url
				 : out->run_url ? out->run_url
						: out->run_id);
}

void ams_ci_env_release(struct ams_ci_env *ci)
{
	free(ci->system_name);
	free(ci->commit);
	free(ci->branch);
	free(ci->tag);
	free(ci->ref);
	free(ci->repository);
	free(ci->repository_url);
	free(ci->run_id);
	free(ci->run_attempt);
	free(ci->run_url);
	free(ci->job_id);
	free(ci->job_url);
	free(ci->workflow);
	free(ci->builder_id);
	free(ci->invocation_id);
	memset(ci, 0, sizeof(*ci));
}

/*
 * Where the credentials of a URL sit. userinfo is [user_start, at) with
 * the '@' at `at`; pass is the ':' inside it or 0 when there is none.
 * cut is where a query or fragment starts (0 for none).
 */
struct url_parts {
	size_t user_start, pass, at, cut;
	bool has_userinfo;
	bool keep_user;
};

static bool scheme_keeps_user(const char *url, size_t len)
{
	static const char *const schemes[] = { "ssh", "git+ssh", "ssh+git" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(schemes); i++)
		if (strlen(schemes[i]) == len &&
		    !strncasecmp(url, schemes[i], len))
			return true;
	return false;
}

#define ALPHA "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DIGIT "0123456789"

/* Length of a valid RFC 3986 scheme followed by "://", or 0. */
static size_t scheme_len(const char *url)
{
	const char *sep = strstr(url, "://");
	const char *p;

	if (!sep || !strchr(ALPHA, *url))
		return 0;
	for (p = url; p < sep; p++)
		if (!strchr(ALPHA DIGIT "+.-", *p))
			return 0;
	return (size_t)(sep - url);
}

static void find_pass(struct url_parts *u, const char *url)
{
	const char *colon =
	    memchr(url + u->user_start, ':', u->at - u->user_start);

	u->pass = colon ? (size_t)(colon - url) : 0;
}

/* The user info ends at the last '@' of [start, end). */
static void last_at(struct url_parts *u, const char *url, size_t start,
		    size_t end)
{
	size_t i;

	for (i = start; i < end; i++) {
		if (url[i] == '@') {
			u->at = i;
			u->has_userinfo = true;
		}
	}
}

static bool parse_url(struct url_parts *u, const char *url)
{
	size_t slen = scheme_len(url);
	size_t auth, end, i;

	memset(u, 0, sizeof(*u));
	if (slen) {
		auth = slen + 3;
		end = auth + strcspn(url + auth, "/?#");
		last_at(u, url, auth, end);
		u->user_start = auth;
		u->keep_user = scheme_keeps_user(url, slen);
		if (u->has_userinfo)
			find_pass(u, url);
		i = end + strcspn(url + end, "?#");
		u->cut = url[i] ? i : 0;
		return u->has_userinfo || u->cut;
	}
	/* scp-like: [user[:pass]@]host:path, with no '/' before the ':'. */
	end = strcspn(url, "/");
	last_at(u, url, 0, end);
	if (!u->has_userinfo || !memchr(url + u->at, ':', end - u->at))
		return false;
	u->keep_user = true;
	find_pass(u, url);
	return u->pass != 0;
}

char *ams_ci_env_url_strip(const char *url)
{
	struct url_parts u;
	struct ams_buf sb = AMS_BUF_INIT;
	size_t user_end;

	if (!url)
		return NULL;
	if (!parse_url(&u, url))
		return xstrdup(url);
	ams_buf_add(&sb, url, u.user_start);
	if (u.has_userinfo) {
		user_end = u.pass ? u.pass : u.at;
		if (u.keep_user && user_end > u.user_start) {
			ams_buf_add(&sb, url + u.user_start,
				    user_end - u.user_start);
			ams_buf_addch(&sb, '@');
		}
		ams_buf_add(&sb, url + u.at + 1,
			    (u.cut ? u.cut : strlen(url)) - u.at - 1);
	} else {
		ams_buf_add(&sb, url + u.user_start, u.cut - u.user_start);
	}
	return ams_buf_detach(&sb, NULL);
}

void ams_ci_env_url_register_secrets(const char *url)
{
	struct url_parts u;
	char *s;

	if (!url || !parse_url(&u, url))
		return;
	if (u.has_userinfo && u.pass) {
		s = xstrndup(url + u.pass + 1, u.at - u.pass - 1);
		ams_log_add_secret(s);
		ams_free_secret(s);
	}
	if (u.has_userinfo && !u.keep_user) {
		s = xstrndup(url + u.user_start,
			     (u.pass ? u.pass : u.at) - u.user_start);
		ams_log_add_secret(s);
		ams_free_secret(s);
	}
	if (u.cut)
		ams_log_add_secret(url + u.cut + 1);
}
