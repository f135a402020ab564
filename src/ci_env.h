/*
 * The CI run amishare executes in: which system, which commit and branch
 * it built, and links back to the run.
 *
 * Detection reads the environment through a callback, so it is pure and
 * tests feed it synthetic environments. Systems are tried in this order;
 * the first whose marker is set wins:
 *
 *   github-actions  GITHUB_ACTIONS=true
 *   gitlab-ci       GITLAB_CI=true
 *   jenkins         JENKINS_URL, or BUILD_URL together with JOB_NAME
 *   generic         CI=true (or 1), or any AMISHARE_CI_* variable below
 *
 * Whatever the system, these variables override the field they name when
 * set and non-empty, so any CI can describe itself:
 *
 *   AMISHARE_CI_SYSTEM          system name shown in reports ("buildkite")
 *   AMISHARE_CI_COMMIT          commit the run built
 *   AMISHARE_CI_BRANCH          branch name
 *   AMISHARE_CI_TAG             tag name, for tag builds
 *   AMISHARE_CI_REF             full ref ("refs/heads/main")
 *   AMISHARE_CI_REPOSITORY      short repository name ("org/repo")
 *   AMISHARE_CI_REPOSITORY_URL  repository URL
 *   AMISHARE_CI_RUN_ID          run identifier
 *   AMISHARE_CI_RUN_URL         link to the run
 *   AMISHARE_CI_JOB_ID          job identifier inside the run
 *   AMISHARE_CI_JOB_URL         link to the job inside the run
 *   AMISHARE_CI_WORKFLOW        pipeline, workflow or job name
 *   AMISHARE_CI_BUILDER_ID      URI of the builder (SLSA builder.id)
 *
 * The invocation id (unique per attempt) is the job URL, else the run
 * URL, else the run id. Empty variables count as unset. Credentials in every URL taken from the
 * environment are removed (ams_ci_env_url_strip) and registered with the
 * log's redaction list.
 */
#ifndef AMS_CI_ENV_H
#define AMS_CI_ENV_H

#include <stdbool.h>

enum ams_ci_system {
	AMS_CI_NONE = 0, /* not running under a recognised CI */
	AMS_CI_GENERIC,
	AMS_CI_GITHUB,
	AMS_CI_GITLAB,
	AMS_CI_JENKINS,
};

/*
 * Every string is owned by the struct (NULL when unknown) and freed by
 * ams_ci_env_release. URLs carry no credentials.
 */
struct ams_ci_env {
	enum ams_ci_system system;
	char *system_name;	/* "github-actions"; AMISHARE_CI_SYSTEM wins */
	char *commit;		/* full commit id the run built */
	const char *commit_var; /* variable commit came from (static) */
	char *branch;		/* branch; for pull/merge requests the source */
	char *tag;		/* tag name when the run builds a tag */
	char *ref;		/* full or short ref as the CI gives it */
	char *repository;	/* "org/repo", "group/project", Jenkins job */
	char *repository_url;	/* web or clone URL of the repository */
	char *run_id;
	char *run_attempt;   /* GitHub re-run attempt, "1" first */
	char *run_url;	     /* link to the run (attempt, pipeline, build) */
	char *job_id;	     /* GitLab job id */
	char *job_url;	     /* GitLab job link */
	char *workflow;	     /* workflow, job or pipeline name */
	char *builder_id;    /* URI naming the builder, for SLSA builder.id */
	char *invocation_id; /* unique per run attempt: a URL when known */
	bool pull_request;   /* the run builds a pull or merge request */
};

#define AMS_CI_ENV_INIT               \
	{                             \
		.system = AMS_CI_NONE \
	}

/*
 * Returns the value of an environment variable, or NULL. The value is
 * borrowed: it must stay valid until ams_ci_env_detect returns.
 */
typedef const char *(ams_ci_getenv_fn)(const char *name, void *payload);

/* Reads the process environment (getenv); payload is ignored. */
const char *ams_ci_env_getenv_process(const char *name, void *payload);
/*
 * Reads a NULL-terminated "NAME=value" array; payload is the array
 * (char *const *), as envp or environ. The first entry of a name wins.
 */
const char *ams_ci_env_getenv_envp(const char *name, void *payload);

/*
 * Fills *out (which must be initialised, and is released first) from the
 * environment. Cannot fail: a variable that is missing leaves its field
 * NULL, and no recognised system leaves system AMS_CI_NONE.
 */
void ams_ci_env_detect(struct ams_ci_env *out, ams_ci_getenv_fn *get,
		       void *payload);
void ams_ci_env_release(struct ams_ci_env *ci);

/* "github-actions", "gitlab-ci", "jenkins", "generic" or "none". */
const char *ams_ci_system_name(enum ams_ci_system system);

/*
 * Returns a copy of url without credentials, which the caller frees:
 *  - scheme://user:secret@host/p  -> scheme://host/p (the user name of
 *    an https URL may itself be a token, so all user info goes);
 *  - ssh, git+ssh and ssh+git URLs keep the user and lose a password:
 *    ssh://git:pw@host/p -> ssh://git@host/p;
 *  - scp-like user@host:path keeps the user ("git" is not a secret) and
 *    loses a password: git:pw@host:o/r.git -> git@host:o/r.git;
 *  - a query string or fragment of a scheme URL is removed, since
 *    tokens travel there too (?private_token=...);
 *  - anything else (local paths, file:// URLs) is copied unchanged.
 * NULL gives NULL.
 */
char *ams_ci_env_url_strip(const char *url);
/*
 * Registers with the log's redaction list every credential that
 * ams_ci_env_url_strip would remove from url (password, token-like user,
 * query string), so a stray copy can never reach a log line.
 */
void ams_ci_env_url_register_secrets(const char *url);

#endif
