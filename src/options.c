/*
 * Layered options: flags > AMISHARE_* environment > JSON config file >
 * defaults. Each layer replaces, rather than merges with, the layers
 * below it for the options it sets, so a flag given once overrides a
 * list set in the file.
 */
#include "options.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"

#define CONFIG_MAX_BYTES (1u << 20)

static const struct ams_opt_def *find_def(const struct ams_opts *o,
					  const char *name, size_t len,
					  size_t *idx)
{
	size_t i;

	for (i = 0; i < o->nr_defs; i++) {
		const char *d = o->defs[i].name;

		if (strlen(d) != len)
			continue;
		if (!strncmp(d, name, len)) {
			*idx = i;
			return &o->defs[i];
		}
	}
	return NULL;
}

/* Config keys may use '_' where flags use '-'. */
static const struct ams_opt_def *find_key(const struct ams_opts *o,
					  const char *key, size_t *idx)
{
	char *norm = xstrdup(key), *p;
	const struct ams_opt_def *d;

	for (p = norm; *p; p++)
		if (*p == '_')
			*p = '-';
	d = find_def(o, norm, strlen(norm), idx);
	free(norm);
	return d;
}

static void val_clear(struct ams_opt_val *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		free(v->items[i]);
	free(v->items);
	v->items = NULL;
	v->n = 0;
}

static void val_push(struct ams_opt_val *v, const char *s, size_t len)
{
	v->items = xreallocarray(v->items, v->n + 1, sizeof(*v->items));
	v->items[v->n++] = xstrndup(s, len);
}

/* Starts a layer for v: values from a lower layer are dropped. */
static void val_take(struct ams_opt_val *v, enum ams_opt_source src)
{
	if (v->source != src) {
		val_clear(v);
		v->source = src;
	}
}

static void push_split(struct ams_opt_val *v, const char *s, const char *seps)
{
	const char *p = s;

	while (*p) {
		size_t n;

		p += strspn(p, seps);
		n = strcspn(p, seps);
		if (n)
			val_push(v, p, n);
		p += n;
	}
}

static bool parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off", "" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++)
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return true;
		}
	for (i = 0; i < ARRAY_SIZE(no); i++)
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return true;
		}
	return false;
}

static bool valid_int(const char *s)
{
	unsigned long long v;

	return ams_str_to_u64(ams_str_from(s), 1000000000ULL, &v);
}

/* Stores one textual value from a flag or the environment. */
static enum ams_code store(struct ams_opt_val *v, const struct ams_opt_def *d,
			   const char *value, bool from_env, const char *where,
			   struct ams_err *err)
{
	bool b;

	switch (d->kind) {
	case AMS_OPT_FLAG:
		if (!parse_bool(value, &b))
			return ams_fail(err, AMS_EUSAGE,
					"%s: '%s' is not a boolean (use true "
					"or false)",
					where, value);
		val_clear(v);
		val_push(v, b ? "true" : "false", b ? 4 : 5);
		return AMS_OK;
	case AMS_OPT_INT:
		if (!valid_int(value))
			return ams_fail(err, AMS_EUSAGE,
					"%s: '%s' is not a non-negative "
					"integer",
					where, value);
		/* fall through */
	case AMS_OPT_STRING:
		val_clear(v);
		val_push(v, value, strlen(value));
		return AMS_OK;
	case AMS_OPT_LIST: push_split(v, value, ", \t\r\n"); return AMS_OK;
	case AMS_OPT_MULTI:
		if (from_env)
			push_split(v, value, "\r\n");
		else
			val_push(v, value, strlen(value));
		return AMS_OK;
	}
	return AMS_OK;
}

static enum ams_code parse_long(struct ams_opts *o, int argc, char *const *argv,
				int *i, struct ams_err *err)
{
	const char *arg = argv[*i] + 2;
	const char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	const struct ams_opt_def *d;
	struct ams_opt_val *v;
	bool negated = false;
	size_t idx;

	d = find_def(o, arg, len, &idx);
	if (!d && len > 3 && !strncmp(arg, "no-", 3)) {
		d = find_def(o, arg + 3, len - 3, &idx);
		if (d && d->kind != AMS_OPT_FLAG)
			d = NULL;
		negated = d != NULL;
	}
	if (!d)
		return ams_fail(err, AMS_EUSAGE, "unknown option '--%.*s'",
				(int)len, arg);
	v = &o->vals[idx];
	val_take(v, AMS_SRC_FLAG);
	if (d->kind == AMS_OPT_FLAG) {
		if (eq)
			return store(v, d, eq + 1, false, argv[*i], err);
		val_clear(v);
		val_push(v, negated ? "false" : "true", negated ? 5 : 4);
		v->count = negated ? 0 : v->count + 1;
		return AMS_OK;
	}
	if (eq)
		return store(v, d, eq + 1, false, argv[*i], err);
	if (*i + 1 >= argc)
		return ams_fail(err, AMS_EUSAGE, "option '--%s' needs a value",
				d->name);
	(*i)++;
	return store(v, d, argv[*i], false, argv[*i - 1], err);
}

static enum ams_code parse_short(struct ams_opts *o, int argc,
				 char *const *argv, int *i, struct ams_err *err)
{
	const char *p;

	for (p = argv[*i] + 1; *p; p++) {
		const struct ams_opt_def *d = NULL;
		struct ams_opt_val *v;
		size_t k;
		char where[8];

		for (k = 0; k < o->nr_defs; k++)
			if (o->defs[k].short_name == *p) {
				d = &o->defs[k];
				break;
			}
		if (!d)
			return ams_fail(err, AMS_EUSAGE, "unknown option '-%c'",
					*p);
		v = &o->vals[k];
		val_take(v, AMS_SRC_FLAG);
		if (d->kind == AMS_OPT_FLAG) {
			val_clear(v);
			val_push(v, "true", 4);
			v->count++;
			continue;
		}
		snprintf(where, sizeof(where), "-%c", *p);
		if (p[1])
			return store(v, d, p + 1, false, where, err);
		if (*i + 1 >= argc)
			return ams_fail(err, AMS_EUSAGE,
					"option '-%c' needs a value", *p);
		(*i)++;
		return store(v, d, argv[*i], false, where, err);
	}
	return AMS_OK;
}

static enum ams_code parse_flags(struct ams_opts *o, int argc,
				 char *const *argv, struct ams_err *err)
{
	int i;
	enum ams_code rc;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			for (i++; i < argc; i++) {
				o->args = xreallocarray(o->args, o->nr_args + 1,
							sizeof(*o->args));
				o->args[o->nr_args++] = xstrdup(argv[i]);
			}
			break;
		}
		if (a[0] == '-' && a[1] == '-' && a[2])
			rc = parse_long(o, argc, argv, &i, err);
		else if (a[0] == '-' && a[1])
			rc = parse_short(o, argc, argv, &i, err);
		else {
			o->args = xreallocarray(o->args, o->nr_args + 1,
						sizeof(*o->args));
			o->args[o->nr_args++] = xstrdup(a);
			rc = AMS_OK;
		}
		if (rc)
			return rc;
	}
	return AMS_OK;
}

char *ams_opts_env_name(const char *name)
{
	char *env = xasprintf("AMISHARE_%s", name), *p;

	for (p = env; *p; p++) {
		if (*p == '-')
			*p = '_';
		else if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	}
	return env;
}

static enum ams_code apply_env(struct ams_opts *o, ams_getenv_fn *getenv_fn,
			       void *payload, struct ams_err *err)
{
	size_t i;

	for (i = 0; i < o->nr_defs; i++) {
		struct ams_opt_val *v = &o->vals[i];
		char *name;
		const char *val;
		enum ams_code rc;

		if (v->source == AMS_SRC_FLAG)
			continue;
		name = ams_opts_env_name(o->defs[i].name);
		val = getenv_fn(name, payload);
		/* An empty variable is unset, as the AWS SDKs treat theirs. */
		if (val && *val) {
			val_take(v, AMS_SRC_ENV);
			rc = store(v, &o->defs[i], val, true, name, err);
			if (rc) {
				free(name);
				return rc;
			}
		}
		free(name);
	}
	return AMS_OK;
}

static enum ams_code file_value(struct ams_opt_val *v,
				const struct ams_opt_def *d, const cJSON *j,
				const char *path, const char *key,
				struct ams_err *err)
{
	const cJSON *it;

	if (d->kind == AMS_OPT_FLAG && cJSON_IsBool(j)) {
		val_clear(v);
		val_push(v, cJSON_IsTrue(j) ? "true" : "false",
			 cJSON_IsTrue(j) ? 4 : 5);
		return AMS_OK;
	}
	if (d->kind == AMS_OPT_INT && cJSON_IsNumber(j) &&
	    j->valuedouble >= 0 && j->valuedouble <= 1e9 &&
	    j->valuedouble == (double)(long long)j->valuedouble) {
		char num[32];

		snprintf(num, sizeof(num), "%lld", (long long)j->valuedouble);
		val_clear(v);
		val_push(v, num, strlen(num));
		return AMS_OK;
	}
	if (d->kind == AMS_OPT_STRING && cJSON_IsString(j)) {
		val_clear(v);
		val_push(v, j->valuestring, strlen(j->valuestring));
		return AMS_OK;
	}
	if ((d->kind == AMS_OPT_LIST || d->kind == AMS_OPT_MULTI) &&
	    cJSON_IsString(j)) {
		if (d->kind == AMS_OPT_LIST)
			push_split(v, j->valuestring, ", \t\r\n");
		else
			val_push(v, j->valuestring, strlen(j->valuestring));
		return AMS_OK;
	}
	if ((d->kind == AMS_OPT_LIST || d->kind == AMS_OPT_MULTI) &&
	    cJSON_IsArray(j)) {
		cJSON_ArrayForEach(it, j)
		{
			if (!cJSON_IsString(it))
				return ams_fail(err, AMS_EUSAGE,
						"config '%s': '%s': expected "
						"an array of strings",
						path, key);
			val_push(v, it->valuestring, strlen(it->valuestring));
		}
		return AMS_OK;
	}
	/* {"tag": {"Team": "platform"}} is the natural way to write tags. */
	if (d->kind == AMS_OPT_MULTI && cJSON_IsObject(j)) {
		cJSON_ArrayForEach(it, j)
		{
			char *kv;

			if (!cJSON_IsString(it))
				return ams_fail(err, AMS_EUSAGE,
						"config '%s': '%s.%s': "
						"expected a string",
						path, key, it->string);
			kv = xasprintf("%s=%s", it->string, it->valuestring);
			val_push(v, kv, strlen(kv));
			free(kv);
		}
		return AMS_OK;
	}
	return ams_fail(err, AMS_EUSAGE, "config '%s': '%s': expected %s", path,
			key,
			d->kind == AMS_OPT_FLAG	    ? "true or false"
			: d->kind == AMS_OPT_INT    ? "a non-negative integer"
			: d->kind == AMS_OPT_STRING ? "a string"
						    : "a string or an array of "
						      "strings");
}

static enum ams_code read_small_file(struct ams_buf *sb, const char *path,
				     const char *what, struct ams_err *err)
{
	char chunk[8192];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return ams_fail(err, AMS_EUSAGE, "%s '%s': %s", what, path,
				strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (sb->len + n > CONFIG_MAX_BYTES) {
			fclose(f);
			return ams_fail(err, AMS_EUSAGE,
					"%s '%s': larger than %u bytes", what,
					path, CONFIG_MAX_BYTES);
		}
		ams_buf_add(sb, chunk, n);
	}
	fclose(f);
	return AMS_OK;
}

static enum ams_code apply_file(struct ams_opts *o, const char *path,
				struct ams_err *err)
{
	struct ams_buf sb = AMS_BUF_INIT;
	const char *end = NULL;
	cJSON *root = NULL;
	const cJSON *it;
	enum ams_code rc;

	rc = read_small_file(&sb, path, "config", err);
	if (rc)
		goto out;
	root = cJSON_ParseWithLengthOpts(sb.buf, sb.len, &end, 0);
	if (!root) {
		rc = ams_fail(err, AMS_EUSAGE,
			      "config '%s': not valid JSON (at byte %zu)", path,
			      end ? (size_t)(end - sb.buf) : (size_t)0);
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		rc = ams_fail(err, AMS_EUSAGE,
			      "config '%s': expected a JSON object", path);
		goto out;
	}
	cJSON_ArrayForEach(it, root)
	{
		size_t idx;
		const struct ams_opt_def *d = find_key(o, it->string, &idx);

		if (!d || !strcmp(d->name, "config")) {
			rc = ams_fail(err, AMS_EUSAGE,
				      "config '%s': unknown option '%s'", path,
				      it->string);
			goto out;
		}
		if (o->vals[idx].source > AMS_SRC_FILE)
			continue;
		val_take(&o->vals[idx], AMS_SRC_FILE);
		rc = file_value(&o->vals[idx], d, it, path, it->string, err);
		if (rc)
			goto out;
	}
	o->config_path = xstrdup(path);
out:
	cJSON_Delete(root);
	ams_buf_release(&sb);
	return rc;
}

enum ams_code ams_opts_parse(struct ams_opts *o, const struct ams_opt_def *defs,
			     size_t nr_defs, int argc, char *const *argv,
			     ams_getenv_fn *getenv_fn, void *env_payload,
			     const char *default_config, struct ams_err *err)
{
	const char *config;
	enum ams_code rc;

	memset(o, 0, sizeof(*o));
	o->defs = defs;
	o->nr_defs = nr_defs;
	o->vals = xcalloc(nr_defs, sizeof(*o->vals));
	rc = parse_flags(o, argc, argv, err);
	if (!rc)
		rc = apply_env(o, getenv_fn, env_payload, err);
	if (rc)
		return rc;
	config = ams_opts_str(o, "config");
	if (config && *config)
		return apply_file(o, config, err);
	if (default_config && !access(default_config, F_OK))
		return apply_file(o, default_config, err);
	return AMS_OK;
}

void ams_opts_release(struct ams_opts *o)
{
	size_t i;

	for (i = 0; o->vals && i < o->nr_defs; i++)
		val_clear(&o->vals[i]);
	free(o->vals);
	for (i = 0; i < o->nr_args; i++)
		free(o->args[i]);
	free(o->args);
	free(o->config_path);
	memset(o, 0, sizeof(*o));
}

static const struct ams_opt_val *get(const struct ams_opts *o, const char *name)
{
	size_t idx;

	if (!find_def(o, name, strlen(name), &idx))
		return NULL;
	return &o->vals[idx];
}

const char *ams_opts_str(const struct ams_opts *o, const char *name)
{
	const struct ams_opt_val *v = get(o, name);

	return v && v->n ? v->items[v->n - 1] : NULL;
}

long long ams_opts_int(const struct ams_opts *o, const char *name,
		       long long dflt)
{
	const char *s = ams_opts_str(o, name);
	unsigned long long v;

	if (!s || !ams_str_to_u64(ams_str_from(s), 1000000000ULL, &v))
		return dflt;
	return (long long)v;
}

bool ams_opts_flag(const struct ams_opts *o, const char *name)
{
	const char *s = ams_opts_str(o, name);

	return s && !strcmp(s, "true");
}

unsigned ams_opts_count(const struct ams_opts *o, const char *name)
{
	const struct ams_opt_val *v = get(o, name);

	if (!v)
		return 0;
	if (v->source == AMS_SRC_FLAG)
		return v->count;
	return ams_opts_flag(o, name) ? 1 : 0;
}

char *const *ams_opts_list(const struct ams_opts *o, const char *name,
			   size_t *n)
{
	const struct ams_opt_val *v = get(o, name);

	*n = v ? v->n : 0;
	return v ? v->items : NULL;
}

enum ams_opt_source ams_opts_source(const struct ams_opts *o, const char *name)
{
	const struct ams_opt_val *v = get(o, name);

	return v ? v->source : AMS_SRC_DEFAULT;
}

void ams_opts_usage(struct ams_buf *out, const struct ams_opt_def *defs,
		    size_t nr_defs)
{
	size_t i;

	for (i = 0; i < nr_defs; i++) {
		const struct ams_opt_def *d = &defs[i];
		struct ams_buf head = AMS_BUF_INIT;

		if (d->short_name)
			ams_buf_addf(&head, "-%c, ", d->short_name);
		ams_buf_addf(&head, "--%s", d->name);
		if (d->metavar)
			ams_buf_addf(&head, " %s", d->metavar);
		ams_buf_addf(out, "  %-28s %s\n", head.buf, d->help);
		ams_buf_release(&head);
	}
}
