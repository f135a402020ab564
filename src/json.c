/*
 * JSON reading through cJSON, and a small comma-placing writer.
 *
 * Parsing checks the size cap and the nesting depth with a byte scan
 * before cJSON runs (so a hostile document cannot recurse deeply), then
 * parses with cJSON_ParseWithLengthOpts and reports the byte offset where
 * it stopped; cJSON's global error pointer is never read. cJSON allocates
 * through xmalloc. Values handed out are cJSON items behind an opaque
 * type; every typed getter checks the type before reading and names the
 * path it was asked for when it fails.
 */
#include "json.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmem.h"

struct ams_json {
	cJSON *root;
};

#define ITEM(v) ((cJSON *)(uintptr_t)(v))
#define HANDLE(v) ((const struct ams_json_val *)(v))

static void *hook_malloc(size_t size)
{
	return xmalloc(size ? size : 1);
}

static void init_hooks(void)
{
	static bool done;
	cJSON_Hooks hooks;

	if (done)
		return;
	hooks.malloc_fn = hook_malloc;
	hooks.free_fn = free;
	cJSON_InitHooks(&hooks);
	done = true;
}

/*
 * Returns the offset at which nesting first exceeds AMS_JSON_MAX_DEPTH,
 * or len when it never does. Brackets inside strings do not count.
 */
static size_t depth_violation(const char *buf, size_t len)
{
	size_t i, depth = 0;
	bool in_str = false;

	for (i = 0; i < len; i++) {
		char c = buf[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"')
			in_str = true;
		else if (c == '[' || c == '{') {
			if (++depth > AMS_JSON_MAX_DEPTH)
				return i;
		} else if ((c == ']' || c == '}') && depth)
			depth--;
	}
	return len;
}

static bool json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

enum ams_code ams_json_parse(struct ams_json **out, const char *buf, size_t len,
			     struct ams_err *err)
{
	const char *end = NULL;
	cJSON *root;
	size_t at;

	*out = NULL;
	if (len > AMS_JSON_MAX_BYTES)
		return ams_fail(err, AMS_ELIMIT,
				"json: document of %zu bytes exceeds the "
				"%u-byte limit",
				len, AMS_JSON_MAX_BYTES);
	at = depth_violation(buf, len);
	if (at < len)
		return ams_fail(err, AMS_EPARSE,
				"json: nested deeper than %d at byte %zu",
				AMS_JSON_MAX_DEPTH, at);
	init_hooks();
	root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (!root) {
		at = end && end >= buf ? (size_t)(end - buf) : 0;
		return ams_fail(err, AMS_EPARSE,
				"json: syntax error at byte %zu", at);
	}
	at = (size_t)(end - buf);
	while (at < len && json_space(buf[at]))
		at++;
	if (at < len) {
		cJSON_Delete(root);
		return ams_fail(err, AMS_EPARSE,
				"json: unexpected data after the value at "
				"byte %zu",
				at);
	}
	*out = xmalloc(sizeof(**out));
	(*out)->root = root;
	return AMS_OK;
}

enum ams_code ams_json_parse_object(struct ams_json **out,
				    const struct ams_json_val **root,
				    const char *buf, size_t len,
				    struct ams_err *err)
{
	enum ams_code rc = ams_json_parse(out, buf, len, err);

	*root = NULL;
	if (rc)
		return rc;
	if (!cJSON_IsObject((*out)->root)) {
		ams_json_free(*out);
		*out = NULL;
		return ams_fail(err, AMS_EPARSE, "expected a JSON object");
	}
	*root = HANDLE((*out)->root);
	return AMS_OK;
}

void ams_json_free(struct ams_json *doc)
{
	if (!doc)
		return;
	cJSON_Delete(doc->root);
	free(doc);
}

const struct ams_json_val *ams_json_root(const struct ams_json *doc)
{
	return HANDLE(doc->root);
}

enum ams_json_type ams_json_type_of(const struct ams_json_val *v)
{
	const cJSON *j = ITEM(v);

	if (!j)
		return AMS_JSON_INVALID;
	if (cJSON_IsNull(j))
		return AMS_JSON_NULL;
	if (cJSON_IsBool(j))
		return AMS_JSON_BOOL;
	if (cJSON_IsNumber(j))
		return AMS_JSON_NUMBER;
	if (cJSON_IsString(j))
		return AMS_JSON_STRING;
	if (cJSON_IsArray(j))
		return AMS_JSON_ARRAY;
	if (cJSON_IsObject(j))
		return AMS_JSON_OBJECT;
	return AMS_JSON_INVALID;
}

const char *ams_json_type_name(enum ams_json_type t)
{
	static const char *const names[] = {
		[AMS_JSON_NULL] = "null",	[AMS_JSON_BOOL] = "boolean",
		[AMS_JSON_NUMBER] = "number",	[AMS_JSON_STRING] = "string",
		[AMS_JSON_ARRAY] = "array",	[AMS_JSON_OBJECT] = "object",
		[AMS_JSON_INVALID] = "invalid",
	};

	if ((size_t)t < ARRAY_SIZE(names))
		return names[t];
	return "invalid";
}

const struct ams_json_val *ams_json_member(const struct ams_json_val *obj,
					   const char *key)
{
	if (!cJSON_IsObject(ITEM(obj)) || !key)
		return NULL;
	return HANDLE(cJSON_GetObjectItemCaseSensitive(ITEM(obj), key));
}

size_t ams_json_size(const struct ams_json_val *v)
{
	const cJSON *c;
	size_t n = 0;

	if (!cJSON_IsArray(ITEM(v)) && !cJSON_IsObject(ITEM(v)))
		return 0;
	for (c = ITEM(v)->child; c; c = c->next)
		n++;
	return n;
}

const struct ams_json_val *ams_json_child(const struct ams_json_val *v)
{
	if (!cJSON_IsArray(ITEM(v)) && !cJSON_IsObject(ITEM(v)))
		return NULL;
	return HANDLE(ITEM(v)->child);
}

const struct ams_json_val *ams_json_sibling(const struct ams_json_val *v)
{
	return v ? HANDLE(ITEM(v)->next) : NULL;
}

const char *ams_json_key(const struct ams_json_val *v)
{
	return v ? ITEM(v)->string : NULL;
}

const char *ams_json_str(const struct ams_json_val *v)
{
	return cJSON_IsString(ITEM(v)) ? ITEM(v)->valuestring : NULL;
}

/*
 * How a path walk ended: found, absent (a missing member or index), or
 * blocked by a value of the wrong type at the prefix of *stop bytes.
 */
enum walk_result {
	WALK_FOUND,
	WALK_MISSING,
	WALK_NOT_OBJECT,
	WALK_NOT_ARRAY,
	WALK_BAD_PATH
};

static enum walk_result walk(const cJSON **out, const cJSON *node,
			     const char *path, size_t *stop)
{
	const char *p = path;
	char key[256];
	size_t n;
	unsigned long long idx;

	*out = NULL;
	*stop = 0;
	while (*p) {
		if (*p == '[') {
			const char *close = strchr(p, ']');

			if (!close ||
			    !ams_str_to_u64(
				ams_str_make(p + 1, (size_t)(close - p - 1)),
				1000000000ull, &idx))
				return WALK_BAD_PATH;
			if (!cJSON_IsArray(node))
				return WALK_NOT_ARRAY;
			node = cJSON_GetArrayItem(node, (int)idx);
			p = close + 1;
		} else {
			if (p != path && *p == '.')
				p++;
			n = strcspn(p, ".[]");
			if (!n || n >= sizeof(key))
				return WALK_BAD_PATH;
			if (!cJSON_IsObject(node))
				return WALK_NOT_OBJECT;
			memcpy(key, p, n);
			key[n] = '\0';
			node = cJSON_GetObjectItemCaseSensitive(node, key);
			p += n;
		}
		*stop = (size_t)(p - path);
		if (!node)
			return WALK_MISSING;
		if (*p && *p != '.' && *p != '[')
			return WALK_BAD_PATH;
	}
	*out = node;
	return WALK_FOUND;
}

const struct ams_json_val *ams_json_at(const struct ams_json_val *from,
				       const char *path)
{
	const cJSON *found;
	size_t stop;

	if (!from || walk(&found, ITEM(from), path ? path : "", &stop))
		return NULL;
	return HANDLE(found);
}

/*
 * Finds path below from for a getter. Returns AMS_OK with *out set,
 * AMS_ENOTFOUND (err untouched) when absent or null and !required, or the
 * failure recorded in err.
 */
static enum ams_code lookup(const cJSON **out, const struct ams_json_val *from,
			    const char *path, bool required,
			    struct ams_err *err)
{
	size_t stop;
	enum walk_result r = walk(out, ITEM(from), path, &stop);
	const char *shown = *path ? path : "(root)";

	if (r == WALK_FOUND && cJSON_IsNull(*out))
		r = WALK_MISSING; /* null counts as absent */
	switch (r) {
	case WALK_FOUND: return AMS_OK;
	case WALK_MISSING:
		if (!required)
			return AMS_ENOTFOUND;
		return ams_fail(err, AMS_EPARSE, "%s: missing", shown);
	case WALK_NOT_OBJECT:
	case WALK_NOT_ARRAY:
		if (!stop)
			return ams_fail(err, AMS_EPARSE, "(root): expected %s",
					r == WALK_NOT_OBJECT ? "object"
							     : "array");
		return ams_fail(err, AMS_EPARSE, "%.*s: expected %s", (int)stop,
				path,
				r == WALK_NOT_OBJECT ? "object" : "array");
	case WALK_BAD_PATH: break;
	}
	return ams_fail(err, AMS_EPARSE, "%s: malformed path", shown);
}

static enum ams_code wrong_type(struct ams_err *err, const char *path,
				const char *want)
{
	return ams_fail(err, AMS_EPARSE, "%s: expected %s",
			*path ? path : "(root)", want);
}

static enum ams_code get_str(char **out, const struct ams_json_val *from,
			     const char *path, bool required,
			     struct ams_err *err)
{
	const cJSON *j;
	enum ams_code rc;

	*out = NULL;
	rc = lookup(&j, from, path, required, err);
	if (rc)
		return rc == AMS_ENOTFOUND ? AMS_OK : rc;
	if (!cJSON_IsString(j) || !j->valuestring)
		return wrong_type(err, path, "string");
	*out = xstrdup(j->valuestring);
	return AMS_OK;
}

enum ams_code ams_json_get_str(char **out, const struct ams_json_val *from,
			       const char *path, struct ams_err *err)
{
	return get_str(out, from, path, true, err);
}

enum ams_code ams_json_get_str_opt(char **out, const struct ams_json_val *from,
				   const char *path, struct ams_err *err)
{
	return get_str(out, from, path, false, err);
}

static enum ams_code get_bool(bool *out, const struct ams_json_val *from,
			      const char *path, bool required,
			      struct ams_err *err)
{
	const cJSON *j;
	enum ams_code rc = lookup(&j, from, path, required, err);

	if (rc)
		return rc == AMS_ENOTFOUND ? AMS_OK : rc;
	if (!cJSON_IsBool(j))
		return wrong_type(err, path, "boolean");
	*out = cJSON_IsTrue(j);
	return AMS_OK;
}

enum ams_code ams_json_get_bool(bool *out, const struct ams_json_val *from,
				const char *path, struct ams_err *err)
{
	return get_bool(out, from, path, true, err);
}

enum ams_code ams_json_get_bool_opt(bool *out, const struct ams_json_val *from,
				    const char *path, struct ams_err *err)
{
	return get_bool(out, from, path, false, err);
}

#define MAX_SAFE_INT 9007199254740992.0 /* 2^53 */

static enum ams_code get_number(double *out, const struct ams_json_val *from,
				const char *path, bool required,
				struct ams_err *err)
{
	const cJSON *j;
	enum ams_code rc = lookup(&j, from, path, required, err);

	if (rc)
		return rc;
	if (!cJSON_IsNumber(j))
		return wrong_type(err, path, "number");
	*out = j->valuedouble;
	return AMS_OK;
}

static bool integral(double v)
{
	return v >= -MAX_SAFE_INT && v <= MAX_SAFE_INT &&
	       (double)(int64_t)v == v;
}

enum ams_code ams_json_get_u64(uint64_t *out, const struct ams_json_val *from,
			       const char *path, struct ams_err *err)
{
	double v = 0;
	enum ams_code rc = get_number(&v, from, path, true, err);

	if (rc)
		return rc;
	if (!integral(v) || v < 0)
		return wrong_type(err, path, "a non-negative integer");
	*out = (uint64_t)v;
	return AMS_OK;
}

enum ams_code ams_json_get_u64_opt(uint64_t *out,
				   const struct ams_json_val *from,
				   const char *path, struct ams_err *err)
{
	double v = 0;
	enum ams_code rc = get_number(&v, from, path, false, err);

	if (rc)
		return rc == AMS_ENOTFOUND ? AMS_OK : rc;
	if (!integral(v) || v < 0)
		return wrong_type(err, path, "a non-negative integer");
	*out = (uint64_t)v;
	return AMS_OK;
}

enum ams_code ams_json_get_i64(int64_t *out, const struct ams_json_val *from,
			       const char *path, struct ams_err *err)
{
	double v = 0;
	enum ams_code rc = get_number(&v, from, path, true, err);

	if (rc)
		return rc;
	if (!integral(v))
		return wrong_type(err, path, "an integer");
	*out = (int64_t)v;
	return AMS_OK;
}

enum ams_code ams_json_get_double(double *out, const struct ams_json_val *from,
				  const char *path, struct ams_err *err)
{
	return get_number(out, from, path, true, err);
}

enum ams_code ams_json_get_double_opt(double *out,
				      const struct ams_json_val *from,
				      const char *path, struct ams_err *err)
{
	enum ams_code rc = get_number(out, from, path, false, err);

	return rc == AMS_ENOTFOUND ? AMS_OK : rc;
}

/* 9999-12-31T23:59:59Z, the last second an ISO 8601 year of 4 digits. */
#define MAX_EPOCH_S 253402300799.0

enum ams_code ams_json_get_epoch_opt(time_t *out,
				     const struct ams_json_val *from,
				     const char *path, struct ams_err *err)
{
	double v = 0;
	enum ams_code rc = get_number(&v, from, path, false, err);

	if (rc)
		return rc == AMS_ENOTFOUND ? AMS_OK : rc;
	/* Checked before the conversion: out of range it is undefined. */
	if (!(v >= 0 && v <= MAX_EPOCH_S))
		return wrong_type(err, path, "epoch seconds");
	*out = (time_t)v;
	return AMS_OK;
}

static enum ams_code get_container(const struct ams_json_val **out,
				   const struct ams_json_val *from,
				   const char *path, bool array,
				   struct ams_err *err)
{
	const cJSON *j;
	enum ams_code rc;

	*out = NULL;
	rc = lookup(&j, from, path, true, err);
	if (rc)
		return rc;
	if (array ? !cJSON_IsArray(j) : !cJSON_IsObject(j))
		return wrong_type(err, path, array ? "array" : "object");
	*out = HANDLE(j);
	return AMS_OK;
}

enum ams_code ams_json_get_array(const struct ams_json_val **out,
				 const struct ams_json_val *from,
				 const char *path, struct ams_err *err)
{
	return get_container(out, from, path, true, err);
}

enum ams_code ams_json_get_object(const struct ams_json_val **out,
				  const struct ams_json_val *from,
				  const char *path, struct ams_err *err)
{
	return get_container(out, from, path, false, err);
}

/* ---- Writer ---------------------------------------------------------- */

void ams_json_w_init(struct ams_json_writer *w, struct ams_buf *out)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
}

/* Places the separator before a value; false when the writer is broken. */
static bool before_value(struct ams_json_writer *w)
{
	if (w->broken)
		return false;
	if (w->after_key) {
		w->after_key = false;
		return true;
	}
	if (w->depth && w->is_object[w->depth]) {
		w->broken = true; /* a member value without its key */
		return false;
	}
	if (w->depth == 0 && w->need_comma[0]) {
		w->broken = true; /* a second top-level value */
		return false;
	}
	if (w->need_comma[w->depth])
		ams_buf_addch(w->out, ',');
	w->need_comma[w->depth] = true;
	return true;
}

static void open_container(struct ams_json_writer *w, char c)
{
	if (!before_value(w))
		return;
	if (w->depth >= AMS_JSON_WRITER_DEPTH) {
		w->broken = true;
		return;
	}
	ams_buf_addch(w->out, c);
	w->depth++;
	w->need_comma[w->depth] = false;
	w->is_object[w->depth] = c == '{';
}

void ams_json_w_object(struct ams_json_writer *w)
{
	open_container(w, '{');
}

void ams_json_w_array(struct ams_json_writer *w)
{
	open_container(w, '[');
}

void ams_json_w_end(struct ams_json_writer *w)
{
	if (w->broken || !w->depth || w->after_key) {
		w->broken = true;
		return;
	}
	ams_buf_addch(w->out, w->is_object[w->depth] ? '}' : ']');
	w->depth--;
	if (w->flush && w->out->len >= w->flush_bytes)
		w->flush(w->out, w->flush_payload);
}

void ams_json_w_key(struct ams_json_writer *w, const char *key)
{
	if (w->broken || !w->depth || w->after_key || !w->is_object[w->depth]) {
		w->broken = true;
		return;
	}
	if (w->need_comma[w->depth])
		ams_buf_addch(w->out, ',');
	w->need_comma[w->depth] = true;
	ams_buf_add_json_str(w->out, key ? key : "");
	ams_buf_addch(w->out, ':');
	w->after_key = true;
}

void ams_json_w_str(struct ams_json_writer *w, const char *s)
{
	if (!s) {
		ams_json_w_null(w);
		return;
	}
	if (before_value(w))
		ams_buf_add_json_str(w->out, s);
}

void ams_json_w_bool(struct ams_json_writer *w, bool v)
{
	if (before_value(w))
		ams_buf_addstr(w->out, v ? "true" : "false");
}

void ams_json_w_null(struct ams_json_writer *w)
{
	if (before_value(w))
		ams_buf_addstr(w->out, "null");
}

void ams_json_w_i64(struct ams_json_writer *w, int64_t v)
{
	if (before_value(w))
		ams_buf_addf(w->out, "%lld", (long long)v);
}

void ams_json_w_u64(struct ams_json_writer *w, uint64_t v)
{
	if (before_value(w))
		ams_buf_addf(w->out, "%llu", (unsigned long long)v);
}

void ams_json_w_double(struct ams_json_writer *w, double v)
{
	char tmp[40];

	/* NaN and the infinities: v - v is NaN, which differs from 0. */
	if (v - v != 0.0) {
		ams_json_w_null(w);
		return;
	}
	if (!before_value(w))
		return;
	snprintf(tmp, sizeof(tmp), "%.15g", v);
	if (strtod(tmp, NULL) != v)
		snprintf(tmp, sizeof(tmp), "%.17g", v);
	ams_buf_addstr(w->out, tmp);
}

enum ams_code ams_json_w_finish(struct ams_json_writer *w, struct ams_err *err)
{
	if (w->broken)
		return ams_fail(err, AMS_EUSAGE, "json writer: misuse");
	if (w->depth || w->after_key || !w->need_comma[0])
		return ams_fail(err, AMS_EUSAGE, "json writer: unbalanced");
	return AMS_OK;
}
