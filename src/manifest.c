/*
 * Packer manifest.json parsing and run/build selection.
 *
 * Packer's manifest post-processor appends one entry per build to the
 * same file on every run, and records the newest run in last_run_uuid.
 * A shell-local post-processor sees PACKER_RUN_UUID and
 * PACKER_BUILD_NAME, which the caller passes in as run_uuid and
 * build_name.
 */
#include "manifest.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define MANIFEST_MAX_BYTES (64u << 20)

static enum ams_code field_error(struct ams_err *err, const char *path,
				 size_t i, const char *field, const char *what)
{
	return ams_fail(err, AMS_EUSAGE, "manifest '%s': builds[%zu].%s: %s",
			path, i, field, what);
}

/* Reads an optional string member; NULL when absent or null. */
static enum ams_code opt_string(char **out, const cJSON *obj, const char *field,
				const char *path, size_t i, struct ams_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);

	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return AMS_OK;
	if (!cJSON_IsString(v))
		return field_error(err, path, i, field, "expected a string");
	*out = xstrdup(v->valuestring);
	return AMS_OK;
}

static enum ams_code parse_custom_data(struct ams_manifest_build *b,
				       const cJSON *obj, const char *path,
				       struct ams_err *err)
{
	const cJSON *cd = cJSON_GetObjectItemCaseSensitive(obj, "custom_data");
	const cJSON *it;
	size_t n = 0;

	if (!cd || cJSON_IsNull(cd))
		return AMS_OK;
	if (!cJSON_IsObject(cd))
		return field_error(err, path, b->index, "custom_data",
				   "expected an object");
	cJSON_ArrayForEach(it, cd) n++;
	b->custom_data = xcalloc(n, sizeof(*b->custom_data));
	cJSON_ArrayForEach(it, cd)
	{
		struct ams_kv *kv = &b->custom_data[b->nr_custom_data];

		if (!cJSON_IsString(it)) {
			struct ams_buf f = AMS_BUF_INIT;

			ams_buf_addf(&f, "custom_data.%s", it->string);
			field_error(err, path, b->index, f.buf,
				    "expected a string");
			ams_buf_release(&f);
			return AMS_EUSAGE;
		}
		kv->key = xstrdup(it->string);
		kv->value = xstrdup(it->valuestring);
		b->nr_custom_data++;
	}
	return AMS_OK;
}

static enum ams_code parse_build(struct ams_manifest_build *b, const cJSON *obj,
				 const char *path, struct ams_err *err)
{
	const cJSON *t;
	enum ams_code rc;

	if (!cJSON_IsObject(obj))
		return ams_fail(
		    err, AMS_EUSAGE,
		    "manifest '%s': builds[%zu]: expected an object", path,
		    b->index);
	rc = opt_string(&b->name, obj, "name", path, b->index, err);
	if (!rc)
		rc = opt_string(&b->builder_type, obj, "builder_type", path,
				b->index, err);
	if (!rc)
		rc = opt_string(&b->artifact_id, obj, "artifact_id", path,
				b->index, err);
	if (!rc)
		rc = opt_string(&b->packer_run_uuid, obj, "packer_run_uuid",
				path, b->index, err);
	if (rc)
		return rc;
	t = cJSON_GetObjectItemCaseSensitive(obj, "build_time");
	if (t && !cJSON_IsNull(t)) {
		if (!cJSON_IsNumber(t) || t->valuedouble < 0 ||
		    t->valuedouble > 1e13)
			return field_error(err, path, b->index, "build_time",
					   "expected epoch seconds");
		b->build_time = (long long)t->valuedouble;
	}
	return parse_custom_data(b, obj, path, err);
}

enum ams_code ams_manifest_parse(struct ams_manifest *out, const char *path,
				 const char *buf, size_t len,
				 struct ams_err *err)
{
	const char *end = NULL;
	cJSON *root;
	const cJSON *builds, *it, *last;
	enum ams_code rc = AMS_OK;
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (!root)
		return ams_fail(err, AMS_EUSAGE,
				"manifest '%s': not valid JSON (at byte %zu)",
				path, end ? (size_t)(end - buf) : (size_t)0);
	out->path = xstrdup(path);
	if (!cJSON_IsObject(root)) {
		rc = ams_fail(err, AMS_EUSAGE,
			      "manifest '%s': expected a JSON object", path);
		goto out;
	}
	builds = cJSON_GetObjectItemCaseSensitive(root, "builds");
	if (!cJSON_IsArray(builds)) {
		rc = ams_fail(err, AMS_EUSAGE,
			      "manifest '%s': 'builds' is missing or not an "
			      "array",
			      path);
		goto out;
	}
	last = cJSON_GetObjectItemCaseSensitive(root, "last_run_uuid");
	if (last && !cJSON_IsNull(last)) {
		if (!cJSON_IsString(last)) {
			rc = ams_fail(err, AMS_EUSAGE,
				      "manifest '%s': last_run_uuid: expected "
				      "a string",
				      path);
			goto out;
		}
		out->last_run_uuid = xstrdup(last->valuestring);
	}
	cJSON_ArrayForEach(it, builds) n++;
	out->builds = xcalloc(n, sizeof(*out->builds));
	cJSON_ArrayForEach(it, builds)
	{
		struct ams_manifest_build *b = &out->builds[out->nr_builds];

		b->index = out->nr_builds++;
		rc = parse_build(b, it, path, err);
		if (rc)
			goto out;
	}
out:
	cJSON_Delete(root);
	if (rc)
		ams_manifest_release(out);
	return rc;
}

enum ams_code ams_manifest_load(struct ams_manifest *out, const char *path,
				struct ams_err *err)
{
	struct ams_buf sb = AMS_BUF_INIT;
	char chunk[65536];
	FILE *f;
	size_t n;
	enum ams_code rc;

	memset(out, 0, sizeof(*out));
	f = fopen(path, "rb");
	if (!f)
		return ams_fail(err, AMS_EUSAGE, "manifest '%s': %s", path,
				strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (sb.len + n > MANIFEST_MAX_BYTES) {
			fclose(f);
			ams_buf_release(&sb);
			return ams_fail(err, AMS_EUSAGE,
					"manifest '%s': larger than %u bytes",
					path, MANIFEST_MAX_BYTES);
		}
		ams_buf_add(&sb, chunk, n);
	}
	if (ferror(f)) {
		rc = ams_fail(err, AMS_EIO, "manifest '%s': read error", path);
		fclose(f);
		ams_buf_release(&sb);
		return rc;
	}
	fclose(f);
	rc = ams_manifest_parse(out, path, sb.buf, sb.len, err);
	ams_buf_release(&sb);
	return rc;
}

void ams_manifest_release(struct ams_manifest *m)
{
	size_t i, j;

	for (i = 0; i < m->nr_builds; i++) {
		struct ams_manifest_build *b = &m->builds[i];

		free(b->name);
		free(b->builder_type);
		free(b->artifact_id);
		free(b->packer_run_uuid);
		for (j = 0; j < b->nr_custom_data; j++) {
			free(b->custom_data[j].key);
			free(b->custom_data[j].value);
		}
		free(b->custom_data);
	}
	free(m->builds);
	free(m->path);
	free(m->last_run_uuid);
	memset(m, 0, sizeof(*m));
}

static void describe_contents(struct ams_buf *sb, const struct ams_manifest *m)
{
	size_t i, shown = 0;

	if (!m->nr_builds) {
		ams_buf_addstr(sb, "it holds no builds");
		return;
	}
	ams_buf_addstr(sb, "it holds");
	for (i = m->nr_builds; i-- > 0 && shown < 5; shown++)
		ams_buf_addf(sb, "%s '%s' (run %s)", shown ? "," : "",
			     m->builds[i].name ? m->builds[i].name : "",
			     m->builds[i].packer_run_uuid
				 ? m->builds[i].packer_run_uuid
				 : "none");
	if (m->nr_builds > shown)
		ams_buf_addf(sb, " and %zu more", m->nr_builds - shown);
}

enum ams_code ams_manifest_select(const struct ams_manifest_build ***out,
				  size_t *nr_out, const struct ams_manifest *m,
				  const char *run_uuid, const char *build_name,
				  struct ams_err *err)
{
	const struct ams_manifest_build **sel;
	const char *run = run_uuid && *run_uuid ? run_uuid : m->last_run_uuid;
	struct ams_buf what = AMS_BUF_INIT;
	size_t i, n = 0;
	enum ams_code rc;

	*out = NULL;
	*nr_out = 0;
	sel = xcalloc(m->nr_builds, sizeof(*sel));
	for (i = 0; i < m->nr_builds; i++) {
		const struct ams_manifest_build *b = &m->builds[i];

		if (run &&
		    (!b->packer_run_uuid || strcmp(b->packer_run_uuid, run)))
			continue;
		if (build_name && (!b->name || strcmp(b->name, build_name)))
			continue;
		sel[n++] = b;
	}
	if (n) {
		*out = sel;
		*nr_out = n;
		return AMS_OK;
	}
	free(sel);
	describe_contents(&what, m);
	if (run)
		rc = ams_fail(err, AMS_EUSAGE,
			      "manifest '%s': no build%s%s%s of run '%s' (%s)",
			      m->path, build_name ? " named '" : "",
			      build_name ? build_name : "",
			      build_name ? "'" : "", run, what.buf);
	else
		rc = ams_fail(err, AMS_EUSAGE,
			      "manifest '%s': no build%s%s%s and no "
			      "last_run_uuid (%s)",
			      m->path, build_name ? " named '" : "",
			      build_name ? build_name : "",
			      build_name ? "'" : "", what.buf);
	ams_buf_release(&what);
	return rc;
}

enum ams_code ams_artifact_parse(struct ams_image_ref **images, size_t *nr,
				 const char *artifact_id, const char *origin,
				 const char *build, struct ams_err *err)
{
	struct ams_str rest = ams_str_from(artifact_id ? artifact_id : "");
	size_t added = 0;

	if (!ams_str_trim(rest).len)
		return ams_fail(err, AMS_EUSAGE,
				"%s: empty; expected 'region:ami-id[,...]'",
				origin);
	while (rest.ptr) {
		struct ams_str pair = ams_str_trim(ams_str_split(&rest, ','));
		struct ams_str region, ami;
		struct ams_image_ref *ref;

		ami = pair;
		region = ams_str_trim(ams_str_split(&ami, ':'));
		ami = ams_str_trim(ami);
		if (!ami.ptr || !region.len || !ami.len ||
		    memchr(ami.ptr, ':', ami.len)) {
			char *bad = ams_str_dup(pair);

			ams_fail(err, AMS_EUSAGE,
				 "%s: '%s' is not 'region:ami-id' (is this an "
				 "AMI build?)",
				 origin, bad);
			free(bad);
			return AMS_EUSAGE;
		}
		*images = xreallocarray(*images, *nr + 1, sizeof(**images));
		ref = &(*images)[(*nr)++];
		ref->region = ams_str_dup(region);
		ref->ami_id = ams_str_dup(ami);
		ref->origin = xstrdup(origin);
		ref->build = build ? xstrdup(build) : NULL;
		added++;
	}
	return added ? AMS_OK : AMS_EUSAGE;
}

void ams_image_ref_release(struct ams_image_ref *ref)
{
	free(ref->region);
	free(ref->ami_id);
	free(ref->origin);
	free(ref->build);
	memset(ref, 0, sizeof(*ref));
}

void ams_image_refs_free(struct ams_image_ref *refs, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++)
		ams_image_ref_release(&refs[i]);
	free(refs);
}
