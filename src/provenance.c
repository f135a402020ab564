/*
 * Provenance: reads git facts with libgit2 (after libgit2's examples:
 * open with git_repository_open_ext, HEAD, describe, status), combines
 * them with the CI run and the Packer build, and derives the commit,
 * branch, repository and ref that tags and attestations record.
 *
 * The only file that includes <git2.h>; no libgit2 type leaves it.
 * Each read runs in a child process, between git_libgit2_init and
 * git_libgit2_shutdown (see ams_git_info_read).
 */
#include "provenance.h"

#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "clock.h"
#include "json.h"
#include "procspawn.h"
#include "xmem.h"

static enum ams_code git_fail(struct ams_err *err, const char *what,
			      const char *path)
{
	const git_error *e = git_error_last();

	return ams_fail(err, AMS_EGIT, "%s '%s': %s", what, path,
			e && e->message ? e->message : "unknown libgit2 error");
}

static char *dup_trim_slash(const char *s)
{
	size_t len = strlen(s);

	while (len > 1 && s[len - 1] == '/')
		len--;
	return xstrndup(s, len);
}

/*
 * Applies the longest matching url.<base>.insteadOf rule, as git does
 * when it resolves a remote; NULL when no rule matches.
 */
static char *rewrite_url(git_config *cfg, const char *url)
{
	static const char suffix[] = ".insteadof";
	git_config_iterator *it = NULL;
	git_config_entry *e;
	size_t best = 0, nlen, vlen;
	char *base = NULL, *out;

	if (git_config_iterator_new(&it, cfg) < 0)
		return NULL;
	while (git_config_next(&e, it) == 0) {
		nlen = strlen(e->name);
		vlen = e->value ? strlen(e->value) : 0;
		if (strncmp(e->name, "url.", 4) || nlen < 4 + sizeof(suffix) ||
		    strcmp(e->name + nlen - (sizeof(suffix) - 1), suffix) ||
		    vlen <= best || strncmp(url, e->value, vlen))
			continue;
		best = vlen;
		free(base);
		base = xstrndup(e->name + 4, nlen - 4 - (sizeof(suffix) - 1));
	}
	git_config_iterator_free(it);
	if (!base)
		return NULL;
	out = xasprintf("%s%s", base, url + best);
	free(base);
	return out;
}

/*
 * remote.origin.url from the configuration, rewritten by insteadOf. The
 * configuration is read directly rather than through git_remote_lookup,
 * whose refspec matching leaks memory in some libgit2 builds.
 */
static enum ams_code read_remote(struct ams_git_info *gi, git_repository *repo,
				 struct ams_err *err)
{
	git_config *cfg = NULL;
	git_buf url = GIT_BUF_INIT;
	char *rewritten;
	int rc;

	if (git_repository_config_snapshot(&cfg, repo) < 0)
		return git_fail(err, "cannot read the configuration of",
				gi->root);
	rc = git_config_get_string_buf(&url, cfg, "remote.origin.url");
	if (rc == GIT_ENOTFOUND) {
		git_config_free(cfg);
		return AMS_OK;
	}
	if (rc < 0) {
		git_config_free(cfg);
		return git_fail(err, "cannot read remote 'origin' of",
				gi->root);
	}
	ams_ci_env_url_register_secrets(url.ptr);
	rewritten = rewrite_url(cfg, url.ptr);
	if (rewritten)
		ams_ci_env_url_register_secrets(rewritten);
	gi->remote_url = ams_ci_env_url_strip(rewritten ? rewritten : url.ptr);
	free(rewritten);
	git_buf_dispose(&url);
	git_config_free(cfg);
	return AMS_OK;
}

/* HEAD is a branch without commits: name the branch it will create. */
static enum ams_code read_unborn(struct ams_git_info *gi, git_repository *repo,
				 struct ams_err *err)
{
	git_reference *head = NULL;
	const char *target;

	gi->state = AMS_GIT_UNBORN;
	if (git_reference_lookup(&head, repo, "HEAD") < 0)
		return git_fail(err, "cannot read HEAD of", gi->root);
	target = git_reference_symbolic_target(head);
	if (target && !strncmp(target, "refs/heads/", 11))
		gi->branch = xstrdup(target + 11);
	gi->reason = xasprintf("HEAD has no commit yet (unborn branch '%s')",
			       gi->branch ? gi->branch : "?");
	git_reference_free(head);
	return AMS_OK;
}

/*
 * The nearest tag, as `git describe --tags`: the long format always ends
 * in "-<distance>-g<id>", so the name is what comes before. Failures
 * (shallow clones miss the history) become a warning.
 */
static void read_tag(struct ams_git_info *gi, git_object *commit)
{
	git_describe_options opts;
	git_describe_format_options fmt;
	git_describe_result *res = NULL;
	git_buf out = GIT_BUF_INIT;
	const git_error *e;
	char *g, *dash;
	struct ams_str num;
	unsigned long long n;

	git_describe_options_init(&opts, GIT_DESCRIBE_OPTIONS_VERSION);
	git_describe_format_options_init(&fmt,
					 GIT_DESCRIBE_FORMAT_OPTIONS_VERSION);
	opts.describe_strategy = GIT_DESCRIBE_TAGS;
	opts.show_commit_oid_as_fallback = 1;
	fmt.abbreviated_size = GIT_OID_HEXSZ;
	fmt.always_use_long_format = 1;
	if (git_describe_commit(&res, commit, &opts) < 0 ||
	    git_describe_format(&out, res, &fmt) < 0) {
		e = git_error_last();
		gi->warning = xasprintf("cannot find the nearest tag: %s",
					e && e->message ? e->message : "?");
		goto out;
	}
	g = strrchr(out.ptr, '-');
	if (!g || g[1] != 'g' || strlen(g + 2) != GIT_OID_HEXSZ)
		goto out; /* no tag: the fallback is the bare id */
	*g = '\0';
	dash = strrchr(out.ptr, '-');
	if (!dash || dash == out.ptr)
		goto out;
	num = ams_str_from(dash + 1);
	if (!ams_str_to_u64(num, (unsigned long)-1, &n))
		goto out;
	gi->tag = xstrndup(out.ptr, (size_t)(dash - out.ptr));
	gi->tag_distance = (unsigned long)n;
out:
	git_buf_dispose(&out);
	git_describe_result_free(res);
}

static int status_any(const char *path, unsigned int flags, void *payload)
{
	(void)path;
	(void)payload;
	return flags != GIT_STATUS_CURRENT;
}

/* Stops at the first changed tracked file; untracked files don't count. */
static enum ams_code read_dirty(struct ams_git_info *gi, git_repository *repo,
				struct ams_err *err)
{
	git_status_options opts;
	int rc;

	if (git_repository_is_bare(repo))
		return AMS_OK;
	git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION);
	opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	opts.flags = 0;
	rc = git_status_foreach_ext(repo, &opts, status_any, NULL);
	if (rc < 0)
		return git_fail(err, "cannot read the status of", gi->root);
	gi->dirty = rc ? AMS_GIT_DIRTY : AMS_GIT_CLEAN;
	return AMS_OK;
}

static enum ams_code read_commit(struct ams_git_info *gi, git_repository *repo,
				 git_reference *head, unsigned flags,
				 struct ams_err *err)
{
	git_object *obj = NULL;
	git_buf sbuf = GIT_BUF_INIT;
	char hex[GIT_OID_HEXSZ + 1], when[21];
	const char *summary;
	enum ams_code rc = AMS_OK;

	if (git_reference_peel(&obj, head, GIT_OBJECT_COMMIT) < 0 ||
	    git_object_short_id(&sbuf, obj) < 0) {
		rc = git_fail(err, "cannot read the HEAD commit of", gi->root);
		goto out;
	}
	git_oid_tostr(hex, sizeof(hex), git_object_id(obj));
	gi->commit = xstrdup(hex);
	gi->short_commit = xstrdup(sbuf.ptr);
	ams_clock_iso8601(when,
			  (time_t)git_commit_time((const git_commit *)obj));
	gi->commit_time = xstrdup(when);
	summary = git_commit_summary((git_commit *)obj);
	if (summary)
		gi->subject = xstrdup(summary);
	read_tag(gi, obj);
	if (!(flags & AMS_PROVENANCE_NO_DIRTY_CHECK))
		rc = read_dirty(gi, repo, err);
out:
	git_buf_dispose(&sbuf);
	git_object_free(obj);
	return rc;
}

static enum ams_code read_head(struct ams_git_info *gi, git_repository *repo,
			       unsigned flags, struct ams_err *err)
{
	git_reference *head = NULL;
	enum ams_code rc;
	int grc;

	grc = git_repository_head(&head, repo);
	if (grc == GIT_EUNBORNBRANCH || grc == GIT_ENOTFOUND)
		return read_unborn(gi, repo, err);
	if (grc < 0)
		return git_fail(err, "cannot read HEAD of", gi->root);
	gi->detached = git_repository_head_detached(repo) == 1;
	if (!gi->detached && git_reference_is_branch(head))
		gi->branch = xstrdup(git_reference_shorthand(head));
	rc = read_commit(gi, repo, head, flags, err);
	git_reference_free(head);
	return rc;
}

static enum ams_code read_info(struct ams_git_info *out, const char *path,
			       unsigned flags, struct ams_err *err)
{
	git_repository *repo = NULL;
	const char *dir;
	enum ams_code rc;
	int grc;

	ams_git_info_release(out);
	grc = git_repository_open_ext(&repo, path, 0, NULL);
	if (grc == GIT_ENOTFOUND) {
		out->state = AMS_GIT_NO_REPO;
		out->reason =
		    xasprintf("no git repository at or above '%s'", path);
		return AMS_OK;
	}
	if (grc == GIT_EOWNER) {
		git_fail(err, "cannot open git repository at", path);
		ams_err_prefix(err, "untrusted repository (see git config "
				    "safe.directory)");
		return AMS_EGIT;
	}
	if (grc < 0)
		return git_fail(err, "cannot open git repository at", path);
	dir = git_repository_workdir(repo);
	out->root = dup_trim_slash(dir ? dir : git_repository_path(repo));
	rc = read_remote(out, repo, err);
	if (!rc)
		rc = read_head(out, repo, flags, err);
	git_repository_free(repo);
	if (rc)
		ams_git_info_release(out);
	return rc;
}

/*
 * The read runs in a child process (ams_procspawn_fork), which sends its
 * result back as a record: each field a decimal length, ':' and its
 * bytes, or "-" for a NULL string. libgit2's TLS back end loads the
 * system's CA certificates at initialisation (1.5 MB of heap, and the
 * pages of libgit2 and mbedTLS that parse them), and reading a
 * repository maps its index and packs: none of it is of use to a sharing
 * run, and in a child none of it stays in the run's memory. A crash in
 * libgit2 on a damaged repository costs the provenance, not the run.
 */
struct git_read {
	const char *path;
	unsigned flags;
};

static void put_field(struct ams_buf *out, const char *s)
{
	if (!s) {
		ams_buf_addch(out, '-');
		return;
	}
	ams_buf_addf(out, "%zu:", strlen(s));
	ams_buf_addstr(out, s);
}

static void put_num(struct ams_buf *out, unsigned long n)
{
	char num[24];

	snprintf(num, sizeof(num), "%lu", n);
	put_field(out, num);
}

/* read_info between libgit2's set-up and tear-down. */
static enum ams_code read_with_libgit2(struct ams_git_info *out,
				       const char *path, unsigned flags,
				       struct ams_err *err)
{
	enum ams_code rc;

	git_libgit2_init();
	rc = read_info(out, path, flags, err);
	git_libgit2_shutdown();
	return rc;
}

/* The child: reads the repository and writes the record. */
static void read_in_child(void *payload, struct ams_buf *out)
{
	const struct git_read *gr = payload;
	struct ams_git_info gi;
	struct ams_err err = AMS_ERR_INIT;
	enum ams_code rc;

	memset(&gi, 0, sizeof(gi));
	rc = read_with_libgit2(&gi, gr->path, gr->flags, &err);
	put_num(out, (unsigned long)rc);
	put_field(out, rc ? err.msg : NULL);
	put_num(out, (unsigned long)gi.state);
	put_field(out, gi.reason);
	put_field(out, gi.root);
	put_field(out, gi.commit);
	put_field(out, gi.short_commit);
	put_field(out, gi.commit_time);
	put_field(out, gi.subject);
	put_field(out, gi.branch);
	put_num(out, gi.detached);
	put_field(out, gi.tag);
	put_num(out, gi.tag_distance);
	put_field(out, gi.remote_url);
	put_num(out, (unsigned long)gi.dirty);
	put_field(out, gi.warning);
	ams_git_info_release(&gi);
}

/* The next field of the record at *p (before end); false when malformed. */
static bool get_field(const char **p, const char *end, char **out)
{
	size_t len = 0;

	*out = NULL;
	if (*p < end && **p == '-') {
		(*p)++;
		return true;
	}
	while (*p < end && **p >= '0' && **p <= '9') {
		if (len > (size_t)(end - *p))
			return false;
		len = len * 10 + (size_t)(**p - '0');
		(*p)++;
	}
	if (*p >= end || **p != ':' || len > (size_t)(end - *p - 1))
		return false;
	*out = xstrndup(*p + 1, len);
	*p += len + 1;
	return true;
}

static bool get_num(const char **p, const char *end, unsigned long *out)
{
	char *s, *stop;
	bool ok;

	if (!get_field(p, end, &s) || !s)
		return false;
	*out = strtoul(s, &stop, 10);
	ok = *s && !*stop;
	free(s);
	return ok;
}

/* Fills *gi and *err from the child's record; false when malformed. */
static bool parse_record(const struct ams_buf *rec, enum ams_code *rc,
			 struct ams_git_info *gi, struct ams_err *err)
{
	const char *p = rec->buf, *end = rec->buf + rec->len;
	unsigned long code = 0, state = 0, detached = 0, dirty = 0;
	char *msg = NULL;
	bool ok;

	ok = get_num(&p, end, &code) && get_field(&p, end, &msg) &&
	     get_num(&p, end, &state) && get_field(&p, end, &gi->reason) &&
	     get_field(&p, end, &gi->root) && get_field(&p, end, &gi->commit) &&
	     get_field(&p, end, &gi->short_commit) &&
	     get_field(&p, end, &gi->commit_time) &&
	     get_field(&p, end, &gi->subject) &&
	     get_field(&p, end, &gi->branch) && get_num(&p, end, &detached) &&
	     get_field(&p, end, &gi->tag) &&
	     get_num(&p, end, &gi->tag_distance) &&
	     get_field(&p, end, &gi->remote_url) && get_num(&p, end, &dirty) &&
	     get_field(&p, end, &gi->warning) && p == end && code <= AMS_EGIT &&
	     state <= AMS_GIT_ERROR && dirty <= AMS_GIT_DIRTY;
	if (ok) {
		gi->state = (enum ams_git_state)state;
		gi->detached = detached != 0;
		gi->dirty = (enum ams_git_dirty)dirty;
		*rc = (enum ams_code)code;
		if (*rc)
			ams_fail(err, *rc, "%s", msg ? msg : "git: failed");
	}
	free(msg);
	return ok;
}

enum ams_code ams_git_info_read(struct ams_git_info *out, const char *path,
				unsigned flags, struct ams_err *err)
{
	struct git_read gr = { path, flags };
	struct ams_buf rec = AMS_BUF_INIT;
	struct ams_err ferr = AMS_ERR_INIT;
	enum ams_code rc;
	bool started;

	ams_git_info_release(out);
	rc = ams_procspawn_fork(&rec, read_in_child, &gr, &started, &ferr);
	if (rc && !started) {
		/* No child process to be had: read here instead. */
		ams_buf_release(&rec);
		return read_with_libgit2(out, path, flags, err);
	}
	if (rc) /* the child died or said too much */
		rc = ams_fail(err, AMS_EGIT,
			      "git: reading the repository failed: %s",
			      ferr.msg);
	else if (!parse_record(&rec, &rc, out, err))
		rc = ams_fail(err, AMS_EGIT,
			      "git: the repository reader sent a malformed "
			      "result");
	if (rc)
		ams_git_info_release(out);
	ams_buf_release(&rec);
	return rc;
}

void ams_git_info_release(struct ams_git_info *gi)
{
	free(gi->reason);
	free(gi->root);
	free(gi->commit);
	free(gi->short_commit);
	free(gi->commit_time);
	free(gi->subject);
	free(gi->branch);
	free(gi->tag);
	free(gi->remote_url);
	free(gi->warning);
	memset(gi, 0, sizeof(*gi));
}

const char *ams_git_dirty_name(enum ams_git_dirty dirty)
{
	switch (dirty) {
	case AMS_GIT_CLEAN: return "clean";
	case AMS_GIT_DIRTY: return "dirty";
	case AMS_GIT_DIRTY_UNKNOWN: break;
	}
	return "unknown";
}

static char *dup_or_null(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

void ams_packer_build_from_manifest(struct ams_packer_build *out,
				    const struct ams_manifest_build *build)
{
	char when[21];
	size_t i;

	ams_packer_build_release(out);
	out->name = dup_or_null(build->name);
	out->builder_type = dup_or_null(build->builder_type);
	out->run_uuid = dup_or_null(build->packer_run_uuid);
	if (build->build_time > 0) {
		ams_clock_iso8601(when, (time_t)build->build_time);
		out->build_time = xstrdup(when);
	}
	if (!build->nr_custom_data)
		return;
	out->custom_data =
	    xcalloc(build->nr_custom_data, sizeof(*out->custom_data));
	for (i = 0; i < build->nr_custom_data; i++) {
		out->custom_data[i].key = xstrdup(build->custom_data[i].key);
		out->custom_data[i].value =
		    xstrdup(build->custom_data[i].value);
	}
	out->nr_custom_data = build->nr_custom_data;
}

void ams_packer_build_from_env(struct ams_packer_build *out,
			       ams_ci_getenv_fn *get, void *payload)
{
	ams_packer_build_release(out);
	out->name = dup_or_null(get("PACKER_BUILD_NAME", payload));
	out->builder_type = dup_or_null(get("PACKER_BUILDER_TYPE", payload));
	out->run_uuid = dup_or_null(get("PACKER_RUN_UUID", payload));
}

void ams_packer_build_release(struct ams_packer_build *pb)
{
	size_t i;

	free(pb->name);
	free(pb->builder_type);
	free(pb->run_uuid);
	free(pb->build_time);
	for (i = 0; i < pb->nr_custom_data; i++) {
		free(pb->custom_data[i].key);
		free(pb->custom_data[i].value);
	}
	free(pb->custom_data);
	memset(pb, 0, sizeof(*pb));
}

void ams_provenance_init(struct ams_provenance *prov)
{
	memset(prov, 0, sizeof(*prov));
}

enum ams_code ams_provenance_collect(struct ams_provenance *out,
				     const char *path, unsigned flags,
				     ams_ci_getenv_fn *get, void *payload,
				     struct ams_err *err)
{
	struct ams_err git_err = AMS_ERR_INIT;
	enum ams_code rc;

	ams_provenance_init(out);
	rc = ams_git_info_read(&out->git, path, flags, &git_err);
	if (rc) {
		/* Recorded, so the CI and Packer facts still count. */
		out->git.state = AMS_GIT_ERROR;
		out->git.reason = xstrdup(git_err.msg);
		ams_err_copy(err, &git_err);
	}
	ams_ci_env_detect(&out->ci, get, payload);
	ams_packer_build_from_env(&out->packer, get, payload);
	ams_provenance_resolve(out);
	return rc;
}

static void add_warning(struct ams_provenance *prov, char *msg)
{
	prov->warnings = xreallocarray(prov->warnings, prov->nr_warnings + 1,
				       sizeof(*prov->warnings));
	prov->warnings[prov->nr_warnings++] = msg;
}

static void clear_resolved(struct ams_provenance *prov)
{
	size_t i;

	for (i = 0; i < prov->nr_warnings; i++)
		free(prov->warnings[i]);
	free(prov->warnings);
	free(prov->ref);
	prov->warnings = NULL;
	prov->nr_warnings = 0;
	prov->ref = NULL;
	prov->commit = prov->branch = prov->repository_url = NULL;
	prov->commit_from = prov->branch_from = AMS_PROVENANCE_NONE;
	prov->repository_from = AMS_PROVENANCE_NONE;
}

/*
 * Whether two commit ids name the same commit: equal ignoring case, or
 * one an abbreviation (at least 7 digits) of the other.
 */
static bool same_commit(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t n = la < lb ? la : lb;

	if (la != lb && n < 7)
		return false;
	return !strncasecmp(a, b, n);
}

static const char *pick(const char *git, const char *ci,
			enum ams_provenance_from *from)
{
	*from = git ? AMS_PROVENANCE_GIT
		    : (ci ? AMS_PROVENANCE_CI : AMS_PROVENANCE_NONE);
	return git ? git : ci;
}

static bool starts_with(const char *s, const char *prefix)
{
	return s && !strncmp(s, prefix, strlen(prefix));
}

/*
 * The ref the commit was built from, for the attestation's dependency
 * URI: a branch HEAD is on; a CI pull-request ref (the commit is its
 * merge); the branch or tag the CI names; the tag HEAD sits on.
 */
static char *resolve_ref(const struct ams_provenance *prov)
{
	const struct ams_git_info *gi = &prov->git;
	const struct ams_ci_env *ci = &prov->ci;

	if (gi->branch && !gi->detached)
		return xasprintf("refs/heads/%s", gi->branch);
	if (ci->pull_request && starts_with(ci->ref, "refs/"))
		return xstrdup(ci->ref);
	if (ci->branch)
		return xasprintf("refs/heads/%s", ci->branch);
	if (ci->tag)
		return xasprintf("refs/tags/%s", ci->tag);
	if (gi->tag && gi->tag_distance == 0)
		return xasprintf("refs/tags/%s", gi->tag);
	if (starts_with(ci->ref, "refs/"))
		return xstrdup(ci->ref);
	return NULL;
}

void ams_provenance_resolve(struct ams_provenance *prov)
{
	const struct ams_git_info *gi = &prov->git;
	const struct ams_ci_env *ci = &prov->ci;

	clear_resolved(prov);
	prov->commit = pick(gi->commit, ci->commit, &prov->commit_from);
	prov->branch = pick(gi->detached ? NULL : gi->branch, ci->branch,
			    &prov->branch_from);
	prov->repository_url =
	    pick(gi->remote_url, ci->repository_url, &prov->repository_from);
	prov->ref = resolve_ref(prov);
	if (gi->commit && ci->commit && !same_commit(gi->commit, ci->commit))
		add_warning(prov,
			    xasprintf("git HEAD %s differs from the commit %s "
				      "that %s names (%s)",
				      gi->commit, ci->commit,
				      ci->system_name ? ci->system_name : "CI",
				      ci->commit_var ? ci->commit_var : "?"));
	if (gi->warning)
		add_warning(prov, xstrdup(gi->warning));
}

void ams_provenance_release(struct ams_provenance *prov)
{
	clear_resolved(prov);
	ams_git_info_release(&prov->git);
	ams_ci_env_release(&prov->ci);
	ams_packer_build_release(&prov->packer);
}

const char *ams_provenance_from_name(enum ams_provenance_from from)
{
	switch (from) {
	case AMS_PROVENANCE_GIT: return "git";
	case AMS_PROVENANCE_CI: return "ci";
	case AMS_PROVENANCE_NONE: break;
	}
	return "none";
}

const char *ams_provenance_placeholder(const char *name, void *payload)
{
	const struct ams_provenance *p = payload;
	const struct {
		const char *name;
		const char *value;
	} table[] = {
		{ "git.commit", p->commit },
		{ "git.short_commit", p->git.short_commit },
		{ "git.commit_time", p->git.commit_time },
		{ "git.branch", p->branch },
		{ "git.tag", p->git.tag },
		{ "git.dirty", p->git.state == AMS_GIT_OK
				   ? ams_git_dirty_name(p->git.dirty)
				   : NULL },
		{ "git.repository", p->repository_url },
		{ "ci.system", p->ci.system_name },
		{ "ci.run_id", p->ci.run_id },
		{ "ci.run_url", p->ci.run_url },
		{ "build.name", p->packer.name },
		{ "build.builder_type", p->packer.builder_type },
		{ "build.time", p->packer.build_time },
		{ "packer.builder_type", p->packer.builder_type },
		{ "packer.run_uuid", p->packer.run_uuid },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(table); i++)
		if (!strcmp(name, table[i].name))
			return table[i].value ? table[i].value : "";
	return NULL;
}

/* A string member; NULL is null, invalid UTF-8 is repaired. */
static void w_str(struct ams_json_writer *w, const char *key, const char *v)
{
	char *clean = v ? ams_provenance_utf8_clean(v) : NULL;

	ams_json_w_key(w, key);
	ams_json_w_str(w, clean);
	free(clean);
}

const char *ams_git_state_name(enum ams_git_state state)
{
	switch (state) {
	case AMS_GIT_NO_REPO: return "no-repository";
	case AMS_GIT_UNBORN: return "unborn";
	case AMS_GIT_ERROR: return "error";
	case AMS_GIT_OK: break;
	}
	return "ok";
}

static void report_git(struct ams_json_writer *w, const struct ams_git_info *gi)
{
	ams_json_w_key(w, "git");
	ams_json_w_object(w);
	w_str(w, "state", ams_git_state_name(gi->state));
	w_str(w, "reason", gi->reason);
	w_str(w, "root", gi->root);
	w_str(w, "commit", gi->commit);
	w_str(w, "short_commit", gi->short_commit);
	w_str(w, "commit_time", gi->commit_time);
	w_str(w, "subject", gi->subject);
	w_str(w, "branch", gi->branch);
	ams_json_w_key(w, "detached");
	ams_json_w_bool(w, gi->detached);
	w_str(w, "tag", gi->tag);
	ams_json_w_key(w, "tag_distance");
	if (gi->tag)
		ams_json_w_u64(w, gi->tag_distance);
	else
		ams_json_w_null(w);
	w_str(w, "remote", gi->remote_url);
	w_str(w, "dirty",
	      gi->state == AMS_GIT_OK ? ams_git_dirty_name(gi->dirty) : NULL);
	ams_json_w_end(w);
}

static void report_ci(struct ams_json_writer *w, const struct ams_ci_env *ci)
{
	ams_json_w_key(w, "ci");
	if (ci->system == AMS_CI_NONE) {
		ams_json_w_null(w);
		return;
	}
	ams_json_w_object(w);
	w_str(w, "system", ci->system_name);
	w_str(w, "commit", ci->commit);
	w_str(w, "branch", ci->branch);
	w_str(w, "tag", ci->tag);
	w_str(w, "ref", ci->ref);
	w_str(w, "repository", ci->repository);
	w_str(w, "repository_url", ci->repository_url);
	w_str(w, "run_id", ci->run_id);
	w_str(w, "run_attempt", ci->run_attempt);
	w_str(w, "run_url", ci->run_url);
	w_str(w, "job_id", ci->job_id);
	w_str(w, "job_url", ci->job_url);
	w_str(w, "workflow", ci->workflow);
	w_str(w, "builder_id", ci->builder_id);
	w_str(w, "invocation_id", ci->invocation_id);
	ams_json_w_key(w, "pull_request");
	ams_json_w_bool(w, ci->pull_request);
	ams_json_w_end(w);
}

void ams_provenance_report_json(struct ams_json_writer *w, void *payload)
{
	const struct ams_provenance *p = payload;
	char *clean;
	size_t i;

	ams_json_w_object(w);
	w_str(w, "commit", p->commit);
	w_str(w, "commit_from", ams_provenance_from_name(p->commit_from));
	w_str(w, "branch", p->branch);
	w_str(w, "branch_from", ams_provenance_from_name(p->branch_from));
	w_str(w, "repository", p->repository_url);
	w_str(w, "repository_from",
	      ams_provenance_from_name(p->repository_from));
	w_str(w, "ref", p->ref);
	report_git(w, &p->git);
	report_ci(w, &p->ci);
	ams_json_w_key(w, "packer");
	ams_json_w_object(w);
	w_str(w, "build_name", p->packer.name);
	w_str(w, "builder_type", p->packer.builder_type);
	w_str(w, "run_uuid", p->packer.run_uuid);
	w_str(w, "build_time", p->packer.build_time);
	ams_json_w_end(w);
	ams_json_w_key(w, "warnings");
	ams_json_w_array(w);
	for (i = 0; i < p->nr_warnings; i++) {
		clean = ams_provenance_utf8_clean(p->warnings[i]);
		ams_json_w_str(w, clean);
		free(clean);
	}
	ams_json_w_end(w);
	ams_json_w_end(w);
}
