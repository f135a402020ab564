/*
 * Provenance: where an image came from. Three sources, combined:
 *
 *  - git, read with libgit2 from the repository that contains a path
 *    (never by running git): commit, branch, nearest tag, dirty flag,
 *    origin URL without credentials;
 *  - the CI run (ci_env.h): system, commit and branch it built, links;
 *  - the Packer build: name, builder type, run UUID, time, custom data
 *    (copied from a parsed manifest, see manifest.h, or from the
 *    environment Packer gives its post-processors).
 *
 * A missing repository or a repository without commits is a recorded
 * state, never a failure. libgit2 errors are AMS_EGIT.
 *
 * The same facts become EC2 tags (ams_provenance_tags) and an in-toto
 * statement (intoto.h).
 */
#ifndef AMS_PROVENANCE_H
#define AMS_PROVENANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ci_env.h"
#include "err.h"
#include "manifest.h"

enum ams_git_state {
	AMS_GIT_OK = 0,	 /* HEAD names a commit */
	AMS_GIT_NO_REPO, /* no repository at or above the path */
	AMS_GIT_UNBORN,	 /* a repository whose HEAD has no commit yet */
	AMS_GIT_ERROR,	 /* libgit2 failed (ams_provenance_collect only) */
};

/*
 * Work tree state, as `git describe --dirty` sees it: changes to tracked
 * files (staged or not, submodules per their ignore setting) make it
 * dirty; untracked and ignored files do not.
 */
enum ams_git_dirty {
	AMS_GIT_DIRTY_UNKNOWN = 0, /* not checked, bare, or no commit */
	AMS_GIT_CLEAN,
	AMS_GIT_DIRTY,
};

/* Every string is owned by the struct; NULL when unknown. */
struct ams_git_info {
	enum ams_git_state state;
	char *reason;	    /* why state is not AMS_GIT_OK, one line */
	char *root;	    /* work tree root; the git dir of a bare repo */
	char *commit;	    /* full hex id of HEAD */
	char *short_commit; /* as git abbreviates: core.abbrev, else 7 hex,
			     * longer when 7 would be ambiguous */
	char *commit_time;  /* committer time, "2024-05-01T12:00:00Z" */
	char *subject;	    /* first line of the message */
	char *branch;	    /* branch HEAD is on (also when unborn) */
	bool detached;	    /* HEAD points at a commit, not a branch */
	char *tag;	    /* nearest tag reachable from HEAD */
	unsigned long tag_distance; /* commits since tag; 0 = exact */
	char *remote_url;	    /* remote "origin", credentials removed */
	enum ams_git_dirty dirty;
	char *warning; /* an optional detail could not be read (tag) */
};

enum ams_provenance_flags {
	/* Skip the status scan on huge work trees: dirty stays unknown. */
	AMS_PROVENANCE_NO_DIRTY_CHECK = 1 << 0,
};

/*
 * Reads the repository containing path (searching upward, like git).
 * *out must be zeroed or released; it is released first. No repository
 * and an unborn HEAD return AMS_OK with out->state and out->reason set.
 * A failure to find the nearest tag (a shallow clone) is not an error:
 * out->warning says why tag is NULL. Other libgit2 failures return
 * AMS_EGIT, leaving *out released. libgit2 runs in a child process (a
 * fork; in this process when none can be started), so neither its memory
 * nor a crash in it stays with the caller: a child that dies is AMS_EGIT.
 */
enum ams_code ams_git_info_read(struct ams_git_info *out, const char *path,
				unsigned flags, struct ams_err *err);
void ams_git_info_release(struct ams_git_info *gi);
/* "ok", "no-repository", "unborn" or "error". */
const char *ams_git_state_name(enum ams_git_state state);
/* "clean", "dirty" or "unknown". */
const char *ams_git_dirty_name(enum ams_git_dirty dirty);

/*
 * The Packer build an image came from. Strings are owned; custom_data
 * is an array of nr_custom_data owned pairs (struct ams_kv, manifest.h).
 */
struct ams_packer_build {
	char *name;	    /* build name: manifest builds[].name */
	char *builder_type; /* "amazon-ebs" */
	char *run_uuid;	    /* packer_run_uuid */
	char *build_time;   /* ISO 8601 UTC */
	struct ams_kv *custom_data;
	size_t nr_custom_data;
};

/* Replaces *out with copies of a manifest build's fields. */
void ams_packer_build_from_manifest(struct ams_packer_build *out,
				    const struct ams_manifest_build *build);
/*
 * Replaces *out with what Packer exports to shell-local post-processors:
 * PACKER_BUILD_NAME, PACKER_BUILDER_TYPE and PACKER_RUN_UUID.
 */
void ams_packer_build_from_env(struct ams_packer_build *out,
			       ams_ci_getenv_fn *get, void *payload);
void ams_packer_build_release(struct ams_packer_build *pb);

enum ams_provenance_from {
	AMS_PROVENANCE_NONE = 0,
	AMS_PROVENANCE_GIT,
	AMS_PROVENANCE_CI,
};

/*
 * Everything known about where an image came from. git, ci and packer
 * are filled by their readers (or by the caller); the fields below them
 * are derived by ams_provenance_resolve and borrow from git and ci.
 */
struct ams_provenance {
	struct ams_git_info git;
	struct ams_ci_env ci;
	struct ams_packer_build packer;

	/* Resolved: */
	const char *commit; /* git HEAD, else the CI commit */
	enum ams_provenance_from commit_from;
	const char *branch; /* git branch unless detached, else CI */
	enum ams_provenance_from branch_from;
	const char *repository_url; /* origin, else the CI repository */
	enum ams_provenance_from repository_from;
	char *ref;	 /* "refs/heads/main", "refs/tags/v1", or NULL */
	char **warnings; /* owned; shown by reports */
	size_t nr_warnings;
};

void ams_provenance_init(struct ams_provenance *prov);
/*
 * Reads git at path (flags as for ams_git_info_read), the CI from the
 * environment callback and the Packer build from the same environment,
 * then resolves. *out is initialised here. When libgit2 fails the result
 * is still complete: git.state is AMS_GIT_ERROR with the message in
 * git.reason, the CI and Packer facts are there, and AMS_EGIT is
 * returned with err set, for the caller to treat as fatal or not.
 */
enum ams_code ams_provenance_collect(struct ams_provenance *out,
				     const char *path, unsigned flags,
				     ams_ci_getenv_fn *get, void *payload,
				     struct ams_err *err);
/*
 * Derives the resolved fields and warnings from git, ci and packer.
 * Call it again after changing any of them (for example after copying
 * a manifest build into packer). Branch precedence: the git branch when
 * HEAD is on one, else the CI branch. A git commit that differs from
 * the CI commit adds a warning naming both.
 */
void ams_provenance_resolve(struct ams_provenance *prov);
void ams_provenance_release(struct ams_provenance *prov);

/* "git", "ci" or "none". */
const char *ams_provenance_from_name(enum ams_provenance_from from);

/*
 * Placeholder lookup for ams_tags_expand (tags.h); payload is a
 * const struct ams_provenance *. Names: git.commit, git.short_commit,
 * git.commit_time, git.branch, git.tag, git.dirty, git.repository,
 * ci.system, ci.run_id, ci.run_url, build.name, build.builder_type (also
 * packer.builder_type), build.time, packer.run_uuid. Returns a borrowed
 * value, "" for a known name without a value, NULL for an unknown name.
 */
const char *ams_provenance_placeholder(const char *name, void *payload);

struct ams_json_writer;
/*
 * Writes the provenance as one JSON object for the run report; matches
 * ams_report_provenance_fn (report.h), payload is a const struct
 * ams_provenance *. Keys are snake_case; unknown values are null:
 *   {"commit", "commit_from", "branch", "branch_from", "repository",
 *    "repository_from", "ref",
 *    "git": {"state", "reason", "root", "commit", "short_commit",
 *            "commit_time", "subject", "branch", "detached", "tag",
 *            "tag_distance", "remote", "dirty"},
 *    "ci": null | {"system", "commit", "branch", "tag", "ref",
 *                  "repository", "repository_url", "run_id",
 *                  "run_attempt", "run_url", "job_id", "job_url",
 *                  "workflow", "builder_id", "invocation_id",
 *                  "pull_request"},
 *    "packer": {"build_name", "builder_type", "run_uuid", "build_time"},
 *    "warnings": [...]}
 */
void ams_provenance_report_json(struct ams_json_writer *w, void *payload);

/*
 * Provenance as EC2 tags (provenance_tags.c). Keys are the prefix
 * followed by a fixed name; the default prefix is "provenance:":
 *
 *   <prefix>commit          full commit id
 *   <prefix>commit-short    abbreviated commit id
 *   <prefix>branch          branch (see ams_provenance_resolve)
 *   <prefix>repository      repository URL without credentials
 *   <prefix>dirty           "true", "false" or "unknown"
 *   <prefix>ci-run-url      link to the CI run
 *   <prefix>packer-run-uuid Packer run UUID
 *   <prefix>build-name      Packer build name
 *   <prefix>build-time      Packer build time, ISO 8601 UTC
 *
 * A tag whose value is unknown is left out. Values pass through
 * ams_provenance_tag_clean with AMS_TAG_VALUE_MAX characters.
 */
#define AMS_PROVENANCE_TAG_PREFIX "provenance:"
#define AMS_TAG_KEY_MAX 127   /* characters; see aws-behaviour.md section 6 */
#define AMS_TAG_VALUE_MAX 256 /* characters */

/* An ordered list of owned key/value pairs. */
struct ams_provenance_tags {
	struct ams_kv *v;
	size_t n;
};

/*
 * Fills *out (appending; initialise it to zeroes) with the tag set.
 * prefix NULL means AMS_PROVENANCE_TAG_PREFIX. A prefix that starts with
 * "aws:" in any case, holds a character outside the allowed set, or
 * makes a key longer than AMS_TAG_KEY_MAX characters is AMS_EUSAGE.
 */
enum ams_code ams_provenance_tags(struct ams_provenance_tags *out,
				  const struct ams_provenance *prov,
				  const char *prefix, struct ams_err *err);
void ams_provenance_tags_release(struct ams_provenance_tags *tags);

/*
 * True for the characters every AWS service accepts in tags: Unicode
 * letters (L), numbers (N) and separators (Z), and _ . : / = + - @.
 */
bool ams_provenance_tag_char_allowed(uint32_t cp);
/*
 * Returns a copy of s (caller frees) that holds only allowed characters
 * and at most max_chars of them. Each disallowed character and each byte
 * of an invalid UTF-8 sequence becomes '_'; cutting happens between
 * characters, never inside a UTF-8 sequence.
 */
char *ams_provenance_tag_clean(const char *s, size_t max_chars);
/*
 * Returns a copy of s (caller frees) in which each byte that is not part
 * of a valid UTF-8 sequence is replaced by U+FFFD, for JSON output.
 */
char *ams_provenance_utf8_clean(const char *s);

#endif
