/*
 * A parser for the AWS shared configuration file format. It walks the
 * buffer one line at a time, keeping only "the current section" and "the
 * current property" as state, and builds a small tree of sections and
 * properties. Duplicate sections and properties are merged as the SDKs
 * merge them. See ini.h for the rules.
 */
#include "ini.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"

struct parser {
	struct ams_ini *ini;
	struct ams_ini_section *sec; /* current section, or NULL */
	struct ams_ini_prop *prop;   /* property continuations attach to */
	bool prop_is_block;	     /* prop takes sub-properties */
	unsigned line;
	struct ams_err *err;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool key_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (lower(*a) != lower(*b))
			return false;
	return *a == *b;
}

static char *dup_lower(struct ams_str s)
{
	char *p = ams_str_dup(s);
	size_t i;

	for (i = 0; p[i]; i++)
		p[i] = lower(p[i]);
	return p;
}

static enum ams_code perr(struct parser *p, const char *what)
{
	return ams_fail(p->err, AMS_EPARSE, "'%s' line %u: %s", p->ini->path,
			p->line, what);
}

static void free_prop(struct ams_ini_prop *prop)
{
	size_t i;

	for (i = 0; i < prop->nr_subs; i++)
		free_prop(&prop->subs[i]);
	free(prop->subs);
	free(prop->key);
	ams_free_secret(prop->value);
	memset(prop, 0, sizeof(*prop));
}

/*
 * Collapses the white space after the first word of a trimmed section
 * name, so "profile \t x" and "profile x" name the same section.
 */
static char *normalise_section(struct ams_str name)
{
	struct ams_buf sb = AMS_BUF_INIT;
	size_t i = 0;

	while (i < name.len && !is_blank(name.ptr[i]))
		i++;
	ams_buf_add(&sb, name.ptr, i);
	if (i < name.len) {
		while (i < name.len && is_blank(name.ptr[i]))
			i++;
		ams_buf_addch(&sb, ' ');
		ams_buf_add(&sb, name.ptr + i, name.len - i);
	}
	return ams_buf_detach(&sb, NULL);
}

static struct ams_ini_section *find_section(struct ams_ini *ini,
					    const char *name)
{
	size_t i;

	for (i = 0; i < ini->nr_sections; i++)
		if (!strcmp(ini->sections[i].name, name))
			return &ini->sections[i];
	return NULL;
}

static enum ams_code parse_header(struct parser *p, struct ams_str line)
{
	struct ams_str name, rest;
	const char *close = memchr(line.ptr, ']', line.len);
	char *norm;

	if (!close)
		return perr(p, "section header must end with ']'");
	name = ams_str_trim(
	    ams_str_make(line.ptr + 1, (size_t)(close - line.ptr - 1)));
	rest = ams_str_trim(
	    ams_str_make(close + 1, line.len - (size_t)(close - line.ptr) - 1));
	if (rest.len && rest.ptr[0] != '#' && rest.ptr[0] != ';')
		return perr(p, "unexpected text after the section header");
	if (!name.len)
		return perr(p, "empty section name");
	norm = normalise_section(name);
	p->sec = find_section(p->ini, norm);
	if (p->sec) {
		free(norm);
	} else {
		struct ams_ini *ini = p->ini;

		ini->sections =
		    xreallocarray(ini->sections, ini->nr_sections + 1,
				  sizeof(*ini->sections));
		p->sec = &ini->sections[ini->nr_sections++];
		memset(p->sec, 0, sizeof(*p->sec));
		p->sec->name = norm;
		p->sec->line = p->line;
	}
	p->prop = NULL;
	return AMS_OK;
}

/*
 * Adds or replaces key in the array *props (of *nr entries) and returns
 * the entry, emptied of any earlier value.
 */
static struct ams_ini_prop *set_prop(struct ams_ini_prop **props, size_t *nr,
				     struct ams_str key, unsigned line)
{
	char *k = dup_lower(key);
	struct ams_ini_prop *prop = NULL;
	size_t i;

	for (i = 0; i < *nr; i++) {
		if (!strcmp((*props)[i].key, k)) {
			prop = &(*props)[i];
			free_prop(prop);
			break;
		}
	}
	if (!prop) {
		*props = xreallocarray(*props, *nr + 1, sizeof(**props));
		prop = &(*props)[(*nr)++];
		memset(prop, 0, sizeof(*prop));
	}
	prop->key = k;
	prop->line = line;
	return prop;
}

/* Cuts a comment that starts with white space then '#' or ';'. */
static struct ams_str strip_value_comment(struct ams_str v)
{
	size_t i;

	for (i = 1; i < v.len; i++) {
		if ((v.ptr[i] == '#' || v.ptr[i] == ';') &&
		    is_blank(v.ptr[i - 1])) {
			v.len = i;
			break;
		}
	}
	return ams_str_trim(v);
}

static enum ams_code parse_property(struct parser *p, struct ams_str line)
{
	const char *eq = memchr(line.ptr, '=', line.len);
	struct ams_str key, value;
	struct ams_ini_prop *prop;

	if (!p->sec)
		return perr(p, "property outside any section "
			       "(expected a '[section]' header first)");
	if (!eq)
		return perr(p, "expected 'name = value'");
	key = ams_str_trim(ams_str_make(line.ptr, (size_t)(eq - line.ptr)));
	if (!key.len)
		return perr(p, "property has no name");
	value = strip_value_comment(
	    ams_str_make(eq + 1, line.len - (size_t)(eq - line.ptr) - 1));
	prop = set_prop(&p->sec->props, &p->sec->nr_props, key, p->line);
	prop->value = ams_str_dup(value);
	p->prop = prop;
	p->prop_is_block = value.len == 0;
	return AMS_OK;
}

static enum ams_code parse_sub_property(struct parser *p, struct ams_str line)
{
	const char *eq = memchr(line.ptr, '=', line.len);
	struct ams_str key;
	struct ams_ini_prop *sub;

	if (!eq)
		return perr(p, "expected 'name = value' in a sub-property "
			       "block");
	key = ams_str_trim(ams_str_make(line.ptr, (size_t)(eq - line.ptr)));
	if (!key.len)
		return perr(p, "sub-property has no name");
	sub = set_prop(&p->prop->subs, &p->prop->nr_subs, key, p->line);
	sub->value = ams_str_dup(ams_str_trim(
	    ams_str_make(eq + 1, line.len - (size_t)(eq - line.ptr) - 1)));
	return AMS_OK;
}

static enum ams_code parse_continuation(struct parser *p, struct ams_str line)
{
	struct ams_buf sb = AMS_BUF_INIT;

	if (!p->sec)
		return perr(p, "indented line outside any section "
			       "(expected a '[section]' header first)");
	if (!p->prop)
		return perr(p, "indented line continues no property");
	if (p->prop_is_block)
		return parse_sub_property(p, line);
	ams_buf_addstr(&sb, p->prop->value);
	ams_buf_addch(&sb, '\n');
	ams_buf_add(&sb, line.ptr, line.len);
	ams_free_secret(p->prop->value);
	p->prop->value = ams_buf_detach(&sb, NULL);
	return AMS_OK;
}

static enum ams_code parse_line(struct parser *p, struct ams_str raw)
{
	struct ams_str line = ams_str_trim(raw);

	if (!line.len || line.ptr[0] == '#' || line.ptr[0] == ';')
		return AMS_OK;
	if (is_blank(raw.ptr[0]))
		return parse_continuation(p, line);
	if (line.ptr[0] == '[')
		return parse_header(p, line);
	return parse_property(p, line);
}

/* Length of the line at buf (up to len bytes), without its line end. */
static size_t line_length(const char *buf, size_t len, size_t *eol_len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (buf[i] == '\n') {
			*eol_len = 1;
			return i;
		}
		if (buf[i] == '\r') {
			*eol_len = i + 1 < len && buf[i + 1] == '\n' ? 2 : 1;
			return i;
		}
	}
	*eol_len = 0;
	return len;
}

enum ams_code ams_ini_parse(struct ams_ini **out, const char *buf, size_t len,
			    const char *path_for_errors, struct ams_err *err)
{
	struct parser p;
	size_t pos = 0, n, eol;
	enum ams_code rc = AMS_OK;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.ini = xcalloc(1, sizeof(*p.ini));
	p.ini->path = xstrdup(path_for_errors ? path_for_errors : "(config)");
	p.err = err;
	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		pos = 3;
	while (pos < len && !rc) {
		p.line++;
		n = line_length(buf + pos, len - pos, &eol);
		if (memchr(buf + pos, '\0', n))
			rc = perr(&p, "NUL byte (not a text file)");
		else
			rc = parse_line(&p, ams_str_make(buf + pos, n));
		pos += n + eol;
	}
	if (rc) {
		ams_ini_free(p.ini);
		return rc;
	}
	*out = p.ini;
	return AMS_OK;
}

static enum ams_code read_file(struct ams_buf *sb, const char *path,
			       struct ams_err *err)
{
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
		return ams_fail(err, AMS_ENOTFOUND, "'%s' does not exist",
				path);
	if (fd < 0)
		return ams_fail(err, AMS_EIO, "cannot open '%s': %s", path,
				strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return ams_fail(err, AMS_EIO, "'%s' is a directory", path);
	}
	for (;;) {
		ams_buf_grow(sb, 8192);
		n = read(fd, sb->buf + sb->len, sb->alloc - sb->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		ams_buf_setlen(sb, sb->len + (size_t)n);
		if (sb->len > AMS_INI_MAX_BYTES) {
			close(fd);
			return ams_fail(err, AMS_ELIMIT,
					"'%s' is larger than %u bytes", path,
					AMS_INI_MAX_BYTES);
		}
	}
	close(fd);
	if (n < 0)
		return ams_fail(err, AMS_EIO, "cannot read '%s': %s", path,
				strerror(errno));
	return AMS_OK;
}

enum ams_code ams_ini_load(struct ams_ini **out, const char *path,
			   struct ams_err *err)
{
	struct ams_buf sb = AMS_BUF_INIT;
	enum ams_code rc;

	*out = NULL;
	rc = read_file(&sb, path, err);
	if (!rc)
		rc = ams_ini_parse(out, sb.buf, sb.len, path, err);
	ams_buf_release_secure(&sb);
	return rc;
}

void ams_ini_free(struct ams_ini *ini)
{
	size_t i, j;

	if (!ini)
		return;
	for (i = 0; i < ini->nr_sections; i++) {
		struct ams_ini_section *sec = &ini->sections[i];

		for (j = 0; j < sec->nr_props; j++)
			free_prop(&sec->props[j]);
		free(sec->props);
		free(sec->name);
	}
	free(ini->sections);
	free(ini->path);
	free(ini);
}

const struct ams_ini_section *ams_ini_section(const struct ams_ini *ini,
					      const char *name)
{
	size_t i;

	if (!ini || !name)
		return NULL;
	for (i = 0; i < ini->nr_sections; i++)
		if (!strcmp(ini->sections[i].name, name))
			return &ini->sections[i];
	return NULL;
}

static const struct ams_ini_prop *find_prop(const struct ams_ini_prop *props,
					    size_t nr, const char *key)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (key_eq(props[i].key, key))
			return &props[i];
	return NULL;
}

const struct ams_ini_prop *ams_ini_prop(const struct ams_ini_section *sec,
					const char *key)
{
	return sec ? find_prop(sec->props, sec->nr_props, key) : NULL;
}

const char *ams_ini_get(const struct ams_ini_section *sec, const char *key)
{
	const struct ams_ini_prop *prop = ams_ini_prop(sec, key);

	return prop ? prop->value : NULL;
}

const char *ams_ini_get_sub(const struct ams_ini_prop *prop, const char *sub)
{
	const struct ams_ini_prop *s;

	if (!prop)
		return NULL;
	s = find_prop(prop->subs, prop->nr_subs, sub);
	return s ? s->value : NULL;
}

const struct ams_ini_section *ams_ini_profile(const struct ams_ini *ini,
					      bool is_config, const char *name)
{
	const struct ams_ini_section *sec;
	char *full;

	if (!ini || !name)
		return NULL;
	if (!is_config)
		return ams_ini_section(ini, name);
	full = xasprintf("profile %s", name);
	sec = ams_ini_section(ini, full);
	free(full);
	if (!sec && !strcmp(name, "default"))
		sec = ams_ini_section(ini, "default");
	return sec;
}
