/*
 * The in-toto statement with a SLSA Provenance v1 predicate, built as a
 * cJSON tree (this file owns the document, so cJSON stays inside it) in
 * the order the specifications list the fields, then printed once.
 *
 * Where the facts go:
 *  externalParameters   what the build was asked to do: the source
 *                       (repository and ref), the Packer build name and
 *                       builder type, the regions of the images;
 *  internalParameters   what amishare observed: git state (commit, tag,
 *                       dirty flag), the CI run, the Packer run UUID,
 *                       time and custom data, and any warnings;
 *  resolvedDependencies the source commit: git+<repository>@<ref> with
 *                       digest {"gitCommit": <id>};
 *  runDetails           builder.id from the CI (else the local builder),
 *                       amishare's version, and the run's invocation id
 *                       and start and finish times.
 */
#include "intoto.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fileio.h"
#include "xmem.h"

#ifndef AMS_VERSION
#define AMS_VERSION "unknown"
#endif

/* Adds a string member unless value is NULL; invalid UTF-8 is repaired. */
static void add_str(cJSON *obj, const char *key, const char *value)
{
	char *clean;

	if (!value)
		return;
	clean = ams_provenance_utf8_clean(value);
	cJSON_AddStringToObject(obj, key, clean);
	free(clean);
}

static void add_time(cJSON *obj, const char *key, time_t t)
{
	char when[21];

	if (!t)
		return;
	ams_clock_iso8601(when, t);
	cJSON_AddStringToObject(obj, key, when);
}

/* Drops obj again when nothing was added to it. */
static void drop_if_empty(cJSON *parent, const char *key)
{
	cJSON *obj = cJSON_GetObjectItemCaseSensitive(parent, key);

	if (obj && !obj->child)
		cJSON_DeleteItemFromObjectCaseSensitive(parent, key);
}

static bool all_hex(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!s[i] || !strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	return !s[len];
}

bool ams_intoto_ami_id_valid(const char *ami_id)
{
	if (strncmp(ami_id, "ami-", 4))
		return false;
	ami_id += 4;
	if (strlen(ami_id) != 8 && strlen(ami_id) != 17)
		return false;
	return strspn(ami_id, "0123456789abcdef") == strlen(ami_id);
}

bool ams_intoto_region_valid(const char *region)
{
	const char *p = region;
	size_t n, words = 0;

	if (strspn(p, "abcdefghijklmnopqrstuvwxyz") != 2 || p[2] != '-')
		return false;
	p += 3;
	for (;;) {
		n = strspn(p, "abcdefghijklmnopqrstuvwxyz");
		if (!n || p[n] != '-')
			break;
		p += n + 1;
		words++;
	}
	n = strspn(p, "0123456789");
	return words > 0 && n > 0 && !p[n];
}

const char *ams_intoto_partition(const char *region)
{
	static const struct {
		const char *prefix, *partition;
	} table[] = {
		{ "cn-", "aws-cn" },	     { "us-gov-", "aws-us-gov" },
		{ "us-iso-", "aws-iso" },    { "us-isob-", "aws-iso-b" },
		{ "eu-isoe-", "aws-iso-e" }, { "us-isof-", "aws-iso-f" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(table); i++)
		if (!strncmp(region, table[i].prefix, strlen(table[i].prefix)))
			return table[i].partition;
	return "aws";
}

static bool seen_image(const struct ams_intoto_opts *o, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (!strcmp(o->images[j].region, o->images[i].region) &&
		    !strcmp(o->images[j].ami_id, o->images[i].ami_id))
			return true;
	return false;
}

static enum ams_code check_image(const struct ams_image_ref *img,
				 struct ams_err *err)
{
	const char *origin = img->origin ? img->origin : "image";

	if (!img->region || !ams_intoto_region_valid(img->region))
		return ams_fail(err, AMS_EUSAGE, "%s: invalid region '%s'",
				origin, img->region ? img->region : "");
	if (!img->ami_id || !ams_intoto_ami_id_valid(img->ami_id))
		return ams_fail(err, AMS_EUSAGE, "%s: invalid AMI id '%s'",
				origin, img->ami_id ? img->ami_id : "");
	return AMS_OK;
}

static enum ams_code add_subjects(cJSON *root, const struct ams_intoto_opts *o,
				  struct ams_err *err)
{
	cJSON *subjects = cJSON_AddArrayToObject(root, "subject");
	cJSON *s, *obj;
	const struct ams_image_ref *img;
	const char *partition;
	char *name;
	size_t i;

	for (i = 0; i < o->nr_images; i++) {
		img = &o->images[i];
		if (check_image(img, err))
			return AMS_EUSAGE;
		if (seen_image(o, i))
			continue;
		partition = ams_intoto_partition(img->region);
		name = xasprintf("arn:%s:ec2:%s::image/%s", partition,
				 img->region, img->ami_id);
		s = cJSON_CreateObject();
		cJSON_AddItemToArray(subjects, s);
		cJSON_AddStringToObject(s, "name", name);
		obj = cJSON_AddObjectToObject(s, "digest");
		cJSON_AddStringToObject(obj, AMS_INTOTO_AMI_DIGEST,
					img->ami_id);
		obj = cJSON_AddObjectToObject(s, "annotations");
		cJSON_AddStringToObject(obj, "region", img->region);
		cJSON_AddStringToObject(obj, "partition", partition);
		add_str(obj, "buildName", img->build);
		free(name);
	}
	return AMS_OK;
}

/*
 * The repository as a URI for "git+<uri>": scp-like user@host:path
 * becomes ssh://user@host/path, an absolute path file:///path.
 */
static char *repo_uri(const struct ams_provenance *prov)
{
	const char *url = prov->repository_url;
	const char *colon, *slash, *path;

	if (!url)
		return prov->git.root ? xasprintf("file://%s", prov->git.root)
				      : NULL;
	if (strstr(url, "://"))
		return xstrdup(url);
	if (url[0] == '/')
		return xasprintf("file://%s", url);
	colon = strchr(url, ':');
	slash = strchr(url, '/');
	if (!colon || colon == url || (slash && slash < colon))
		return xstrdup(url);
	path = colon[1] == '/' ? colon + 2 : colon + 1;
	return xasprintf("ssh://%.*s/%s", (int)(colon - url), url, path);
}

static void add_external(cJSON *bd, const struct ams_provenance *prov,
			 const struct ams_intoto_opts *o)
{
	cJSON *ext = cJSON_AddObjectToObject(bd, "externalParameters");
	cJSON *obj, *regions;
	size_t i, j;

	obj = cJSON_AddObjectToObject(ext, "source");
	add_str(obj, "repository", prov->repository_url);
	add_str(obj, "ref", prov->ref);
	drop_if_empty(ext, "source");
	obj = cJSON_AddObjectToObject(ext, "packer");
	add_str(obj, "buildName", prov->packer.name);
	add_str(obj, "builderType", prov->packer.builder_type);
	drop_if_empty(ext, "packer");
	regions = cJSON_AddArrayToObject(ext, "regions");
	for (i = 0; i < o->nr_images; i++) {
		for (j = 0; j < i; j++)
			if (!strcmp(o->images[j].region, o->images[i].region))
				break;
		if (j == i)
			cJSON_AddItemToArray(
			    regions, cJSON_CreateString(o->images[i].region));
	}
}

static void add_git(cJSON *ip, const struct ams_git_info *gi)
{
	cJSON *git = cJSON_AddObjectToObject(ip, "git");

	cJSON_AddStringToObject(git, "state", ams_git_state_name(gi->state));
	add_str(git, "reason", gi->reason);
	add_str(git, "commit", gi->commit);
	add_str(git, "shortCommit", gi->short_commit);
	add_str(git, "commitTime", gi->commit_time);
	add_str(git, "subject", gi->subject);
	add_str(git, "branch", gi->branch);
	if (gi->state == AMS_GIT_OK)
		cJSON_AddBoolToObject(git, "detached", gi->detached);
	add_str(git, "tag", gi->tag);
	if (gi->tag)
		cJSON_AddNumberToObject(git, "tagDistance",
					(double)gi->tag_distance);
	add_str(git, "remote", gi->remote_url);
	if (gi->state == AMS_GIT_OK)
		cJSON_AddStringToObject(git, "dirty",
					ams_git_dirty_name(gi->dirty));
}

static void add_ci(cJSON *ip, const struct ams_ci_env *ci)
{
	cJSON *obj;

	if (ci->system == AMS_CI_NONE)
		return;
	obj = cJSON_AddObjectToObject(ip, "ci");
	add_str(obj, "system", ci->system_name);
	add_str(obj, "commit", ci->commit);
	add_str(obj, "branch", ci->branch);
	add_str(obj, "tag", ci->tag);
	add_str(obj, "ref", ci->ref);
	add_str(obj, "repository", ci->repository);
	add_str(obj, "runId", ci->run_id);
	add_str(obj, "runAttempt", ci->run_attempt);
	add_str(obj, "runUrl", ci->run_url);
	add_str(obj, "jobId", ci->job_id);
	add_str(obj, "jobUrl", ci->job_url);
	add_str(obj, "workflow", ci->workflow);
	cJSON_AddBoolToObject(obj, "pullRequest", ci->pull_request);
}

static void add_packer(cJSON *ip, const struct ams_packer_build *pb)
{
	cJSON *obj = cJSON_AddObjectToObject(ip, "packer");
	cJSON *cd;
	size_t i;
	char *key;

	add_str(obj, "runUuid", pb->run_uuid);
	add_str(obj, "buildTime", pb->build_time);
	if (pb->nr_custom_data) {
		cd = cJSON_AddObjectToObject(obj, "customData");
		for (i = 0; i < pb->nr_custom_data; i++) {
			key = ams_provenance_utf8_clean(pb->custom_data[i].key);
			add_str(cd, key, pb->custom_data[i].value);
			free(key);
		}
	}
	drop_if_empty(ip, "packer");
}

static void add_internal(cJSON *bd, const struct ams_provenance *prov)
{
	cJSON *ip = cJSON_AddObjectToObject(bd, "internalParameters");
	cJSON *warnings;
	size_t i;
	char *w;

	add_git(ip, &prov->git);
	add_ci(ip, &prov->ci);
	add_packer(ip, &prov->packer);
	if (!prov->nr_warnings)
		return;
	warnings = cJSON_AddArrayToObject(ip, "warnings");
	for (i = 0; i < prov->nr_warnings; i++) {
		w = ams_provenance_utf8_clean(prov->warnings[i]);
		cJSON_AddItemToArray(warnings, cJSON_CreateString(w));
		free(w);
	}
}

static void add_dependencies(cJSON *bd, const struct ams_provenance *prov)
{
	cJSON *deps, *dep, *digest;
	char *uri, *full, *commit;
	size_t len = prov->commit ? strlen(prov->commit) : 0;
	size_t i;

	if (!(len == 40 || len == 64) || !all_hex(prov->commit, len))
		return;
	deps = cJSON_AddArrayToObject(bd, "resolvedDependencies");
	dep = cJSON_CreateObject();
	cJSON_AddItemToArray(deps, dep);
	uri = repo_uri(prov);
	if (uri) {
		full = prov->ref ? xasprintf("git+%s@%s", uri, prov->ref)
				 : xasprintf("git+%s", uri);
		add_str(dep, "uri", full);
		free(full);
		free(uri);
	}
	commit = xstrdup(prov->commit);
	for (i = 0; i < len; i++)
		if (commit[i] >= 'A' && commit[i] <= 'F')
			commit[i] = (char)(commit[i] - 'A' + 'a');
	digest = cJSON_AddObjectToObject(dep, "digest");
	cJSON_AddStringToObject(digest, "gitCommit", commit);
	free(commit);
}

static void add_run_details(cJSON *pred, const struct ams_provenance *prov,
			    const struct ams_intoto_opts *o)
{
	cJSON *rd = cJSON_AddObjectToObject(pred, "runDetails");
	cJSON *builder = cJSON_AddObjectToObject(rd, "builder");
	cJSON *meta, *version;

	add_str(builder, "id",
		prov->ci.builder_id ? prov->ci.builder_id
				    : AMS_INTOTO_LOCAL_BUILDER);
	version = cJSON_AddObjectToObject(builder, "version");
	cJSON_AddStringToObject(version, "amishare", AMS_VERSION);
	meta = cJSON_AddObjectToObject(rd, "metadata");
	add_str(meta, "invocationId", prov->ci.invocation_id);
	add_time(meta, "startedOn", o->started_on);
	add_time(meta, "finishedOn", o->finished_on);
	drop_if_empty(rd, "metadata");
}

static cJSON *build_statement(const struct ams_provenance *prov,
			      const struct ams_intoto_opts *o,
			      struct ams_err *err)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *pred, *bd;

	cJSON_AddStringToObject(root, "_type", AMS_INTOTO_STATEMENT_TYPE);
	if (add_subjects(root, o, err)) {
		cJSON_Delete(root);
		return NULL;
	}
	cJSON_AddStringToObject(root, "predicateType",
				AMS_INTOTO_PREDICATE_TYPE);
	pred = cJSON_AddObjectToObject(root, "predicate");
	bd = cJSON_AddObjectToObject(pred, "buildDefinition");
	cJSON_AddStringToObject(bd, "buildType",
				o->build_type ? o->build_type
					      : AMS_INTOTO_BUILD_TYPE);
	add_external(bd, prov, o);
	add_internal(bd, prov);
	add_dependencies(bd, prov);
	add_run_details(pred, prov, o);
	return root;
}

enum ams_code ams_intoto_statement(struct ams_buf *out,
				   const struct ams_provenance *prov,
				   const struct ams_intoto_opts *opts,
				   struct ams_err *err)
{
	cJSON *root;
	char *text;

	root = build_statement(prov, opts, err);
	if (!root)
		return err && err->code ? err->code : AMS_EUSAGE;
	text = opts->pretty ? cJSON_Print(root) : cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (!text)
		return ams_fail(err, AMS_ELIMIT,
				"in-toto statement: cannot print the document");
	ams_buf_addstr(out, text);
	ams_buf_addch(out, '\n');
	cJSON_free(text);
	return AMS_OK;
}

enum ams_code ams_intoto_write(const char *path,
			       const struct ams_provenance *prov,
			       const struct ams_intoto_opts *opts,
			       struct ams_err *err)
{
	struct ams_buf sb = AMS_BUF_INIT;
	enum ams_code rc;

	rc = ams_intoto_statement(&sb, prov, opts, err);
	if (!rc)
		rc = ams_file_write_atomic(path, sb.buf, sb.len, 0644,
					   "provenance statement", err);
	ams_buf_release(&sb);
	return rc;
}
