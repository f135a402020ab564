/*
 * Ordered, unique-key tag sets; key filters; placeholder expansion.
 */
#include "tags.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static struct ams_tag *find(const struct ams_tags *t, const char *key)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].key, key))
			return &t->v[i];
	return NULL;
}

void ams_tags_set(struct ams_tags *t, const char *key, const char *value)
{
	struct ams_tag *tag = find(t, key);

	if (tag) {
		char *v = xstrdup(value);

		free(tag->value);
		tag->value = v;
		return;
	}
	t->v = xreallocarray(t->v, t->n + 1, sizeof(*t->v));
	t->v[t->n].key = xstrdup(key);
	t->v[t->n].value = xstrdup(value);
	t->n++;
}

const char *ams_tags_get(const struct ams_tags *t, const char *key)
{
	const struct ams_tag *tag = find(t, key);

	return tag ? tag->value : NULL;
}

bool ams_tags_remove(struct ams_tags *t, const char *key)
{
	struct ams_tag *tag = find(t, key);
	size_t i;

	if (!tag)
		return false;
	i = (size_t)(tag - t->v);
	free(tag->key);
	free(tag->value);
	memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(*t->v));
	t->n--;
	return true;
}

void ams_tags_copy(struct ams_tags *dst, const struct ams_tags *src)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		ams_tags_set(dst, src->v[i].key, src->v[i].value);
}

void ams_tags_release(struct ams_tags *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->v[i].key);
		free(t->v[i].value);
	}
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

static int cmp_tag(const void *a, const void *b)
{
	return strcmp(((const struct ams_tag *)a)->key,
		      ((const struct ams_tag *)b)->key);
}

void ams_tags_sort(struct ams_tags *t)
{
	if (t->n > 1)
		qsort(t->v, t->n, sizeof(*t->v), cmp_tag);
}

uint64_t ams_tags_missing(struct ams_tags *out, const struct ams_tags *want,
			  const struct ams_tags *is)
{
	uint64_t mask = 0;
	size_t i;

	for (i = 0; i < want->n; i++) {
		const char *have = ams_tags_get(is, want->v[i].key);

		if (!have || strcmp(have, want->v[i].value)) {
			ams_tags_set(out, want->v[i].key, want->v[i].value);
			if (i < 64)
				mask |= UINT64_C(1) << i;
		}
	}
	return mask;
}

static bool matches_any(const char *key, char *const *globs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!fnmatch(globs[i], key, 0))
			return true;
	return false;
}

bool ams_tag_key_selected(const char *key, char *const *includes,
			  size_t nr_includes, char *const *excludes,
			  size_t nr_excludes)
{
	if (!strncasecmp(key, "aws:", 4))
		return false;
	if (nr_includes && !matches_any(key, includes, nr_includes))
		return false;
	return !matches_any(key, excludes, nr_excludes);
}

enum ams_code ams_tags_expand(struct ams_buf *out, const char *tmpl,
			      ams_placeholder_fn *lookup, void *payload,
			      const char *context, struct ams_err *err)
{
	const char *p = tmpl;

	while (*p) {
		const char *close;
		char *name;
		const char *val;

		if ((p[0] == '{' && p[1] == '{') ||
		    (p[0] == '}' && p[1] == '}')) {
			ams_buf_addch(out, p[0]);
			p += 2;
			continue;
		}
		if (*p == '}')
			return ams_fail(err, AMS_EUSAGE,
					"%s: unmatched '}' (write '}}' for a "
					"literal brace)",
					context);
		if (*p != '{') {
			ams_buf_addch(out, *p++);
			continue;
		}
		close = strchr(p + 1, '}');
		if (!close)
			return ams_fail(err, AMS_EUSAGE,
					"%s: unclosed '{' (write '{{' for a "
					"literal brace)",
					context);
		name = xstrndup(p + 1, (size_t)(close - p - 1));
		val = lookup(name, payload);
		if (!val) {
			ams_fail(err, AMS_EUSAGE,
				 "%s: unknown placeholder '{%s}'", context,
				 name);
			free(name);
			return AMS_EUSAGE;
		}
		free(name);
		ams_buf_addstr(out, val);
		p = close + 1;
	}
	return AMS_OK;
}

enum ams_code ams_tag_parse_assignment(char **key, char **value,
				       const char *arg, struct ams_err *err)
{
	const char *eq = strchr(arg, '=');

	*key = NULL;
	*value = NULL;
	if (!eq)
		return ams_fail(err, AMS_EUSAGE, "tag '%s': expected KEY=VALUE",
				arg);
	if (eq == arg)
		return ams_fail(err, AMS_EUSAGE, "tag '%s': empty key", arg);
	*key = xstrndup(arg, (size_t)(eq - arg));
	*value = xstrdup(eq + 1);
	return AMS_OK;
}
