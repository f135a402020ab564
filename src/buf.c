/*
 * Growable byte buffers (struct ams_buf) and string views (struct ams_str).
 */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char ams_buf_empty[1];

void ams_buf_init(struct ams_buf *sb, size_t hint)
{
	sb->buf = ams_buf_empty;
	sb->len = 0;
	sb->alloc = 0;
	if (hint)
		ams_buf_grow(sb, hint);
}

void ams_buf_release(struct ams_buf *sb)
{
	if (sb->alloc)
		free(sb->buf);
	ams_buf_init(sb, 0);
}

void ams_buf_release_secure(struct ams_buf *sb)
{
	if (sb->alloc)
		ams_wipe(sb->buf, sb->alloc);
	ams_buf_release(sb);
}

void ams_buf_reset(struct ams_buf *sb)
{
	ams_buf_setlen(sb, 0);
}

void ams_buf_grow(struct ams_buf *sb, size_t extra)
{
	size_t need;
	char *p;

	if (extra > (size_t)-1 - sb->len - 1)
		xreallocarray(NULL, (size_t)-1, 2); /* stops: overflow */
	need = sb->len + extra + 1;
	if (need <= sb->alloc)
		return;
	if (need < sb->alloc + sb->alloc / 2)
		need = sb->alloc + sb->alloc / 2;
	if (need < 64)
		need = 64;
	if (sb->alloc) {
		sb->buf = xreallocarray(sb->buf, need, 1);
	} else {
		p = xmalloc(need);
		p[0] = '\0';
		sb->buf = p;
	}
	sb->alloc = need;
}

void ams_buf_setlen(struct ams_buf *sb, size_t len)
{
	if (!sb->alloc)
		return; /* the shared empty string stays "" */
	if (len >= sb->alloc)
		len = sb->alloc - 1;
	sb->len = len;
	sb->buf[len] = '\0';
}

char *ams_buf_detach(struct ams_buf *sb, size_t *len_out)
{
	char *p;

	if (len_out)
		*len_out = sb->len;
	if (!sb->alloc)
		ams_buf_grow(sb, 0);
	p = sb->buf;
	ams_buf_init(sb, 0);
	return p;
}

void ams_buf_add(struct ams_buf *sb, const void *data, size_t len)
{
	if (!len)
		return;
	ams_buf_grow(sb, len);
	memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void ams_buf_addstr(struct ams_buf *sb, const char *s)
{
	ams_buf_add(sb, s, strlen(s));
}

void ams_buf_addch(struct ams_buf *sb, int c)
{
	ams_buf_grow(sb, 1);
	sb->buf[sb->len++] = (char)c;
	sb->buf[sb->len] = '\0';
}

void ams_buf_vaddf(struct ams_buf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(sb->buf + sb->len, sb->alloc ? sb->alloc - sb->len : 0,
		      fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if ((size_t)n >= (sb->alloc ? sb->alloc - sb->len : 0)) {
		ams_buf_grow(sb, (size_t)n);
		n = vsnprintf(sb->buf + sb->len, sb->alloc - sb->len, fmt, ap);
		if (n < 0) {
			sb->buf[sb->len] = '\0';
			return;
		}
	}
	sb->len += (size_t)n;
}

void ams_buf_addf(struct ams_buf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ams_buf_vaddf(sb, fmt, ap);
	va_end(ap);
}

void ams_buf_addhex(struct ams_buf *sb, const unsigned char *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	ams_buf_grow(sb, len * 2);
	for (i = 0; i < len; i++) {
		sb->buf[sb->len++] = hex[data[i] >> 4];
		sb->buf[sb->len++] = hex[data[i] & 15];
	}
	sb->buf[sb->len] = '\0';
}

/*
 * Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0. p is
 * NUL-terminated, so a truncated sequence stops at the NUL.
 */
static size_t utf8_len(const unsigned char *p)
{
	size_t len, i;
	unsigned cp;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1fu;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0fu;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07u;
	} else {
		return 0;
	}
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3fu);
	}
	if (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
		return 0;
	if (len == 4 && (cp < 0x10000 || cp > 0x10ffff))
		return 0;
	return len;
}

void ams_buf_add_json_str(struct ams_buf *sb, const char *s)
{
	const unsigned char *p;
	size_t n;

	ams_buf_addch(sb, '"');
	for (p = (const unsigned char *)s; *p; p++) {
		n = *p >= 0x80 ? utf8_len(p) : 1;
		switch (*p) {
		case '"': ams_buf_addstr(sb, "\\\""); break;
		case '\\': ams_buf_addstr(sb, "\\\\"); break;
		case '\n': ams_buf_addstr(sb, "\\n"); break;
		case '\r': ams_buf_addstr(sb, "\\r"); break;
		case '\t': ams_buf_addstr(sb, "\\t"); break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				ams_buf_addf(sb, "\\u%04x", *p);
			} else if (*p < 0x80) {
				ams_buf_addch(sb, (char)*p);
			} else if (n) {
				ams_buf_add(sb, p, n);
				p += n - 1;
			} else {
				/*
				 * JSON text is UTF-8 (RFC 8259): a stray
				 * byte, say from an error message of an
				 * endpoint, becomes U+FFFD rather than
				 * making the whole report unreadable.
				 */
				ams_buf_addstr(sb, "\\ufffd");
			}
		}
	}
	ams_buf_addch(sb, '"');
}

struct ams_str ams_str_from(const char *s)
{
	return ams_str_make(s, s ? strlen(s) : 0);
}

struct ams_str ams_str_make(const char *ptr, size_t len)
{
	struct ams_str v;

	v.ptr = ptr;
	v.len = len;
	return v;
}

bool ams_str_eq(struct ams_str a, const char *s)
{
	size_t n = strlen(s);

	return a.len == n && (n == 0 || memcmp(a.ptr, s, n) == 0);
}

bool ams_str_starts_with(struct ams_str a, const char *prefix)
{
	size_t n = strlen(prefix);

	return a.len >= n && (n == 0 || memcmp(a.ptr, prefix, n) == 0);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

struct ams_str ams_str_trim(struct ams_str a)
{
	while (a.len && is_space(a.ptr[0])) {
		a.ptr++;
		a.len--;
	}
	while (a.len && is_space(a.ptr[a.len - 1]))
		a.len--;
	return a;
}

struct ams_str ams_str_split(struct ams_str *rest, char sep)
{
	struct ams_str head = *rest;
	const char *p = rest->len ? memchr(rest->ptr, sep, rest->len) : NULL;

	if (!p) {
		*rest = AMS_STR_NULL;
		return head;
	}
	head.len = (size_t)(p - rest->ptr);
	rest->len -= head.len + 1;
	rest->ptr = p + 1;
	return head;
}

char *ams_str_dup(struct ams_str a)
{
	char *p = xmalloc(a.len + 1);

	if (a.len)
		memcpy(p, a.ptr, a.len);
	p[a.len] = '\0';
	return p;
}

bool ams_str_to_u64(struct ams_str a, unsigned long long max,
		    unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i;

	if (!a.len)
		return false;
	for (i = 0; i < a.len; i++) {
		unsigned d;

		if (a.ptr[i] < '0' || a.ptr[i] > '9')
			return false;
		d = (unsigned)(a.ptr[i] - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}
