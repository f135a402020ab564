/*
 * RFC 3986 percent-encoding, decoding and endpoint URL parsing.
 *
 * The encoders keep exactly the unreserved set A-Z a-z 0-9 - _ . ~ (plus
 * '/' on request) and write uppercase hex, which is both what botocore
 * puts in Query/EC2 form bodies and what SigV4 needs for canonical URIs
 * and query strings. The URL parser is deliberately small: it accepts the
 * http and https endpoint URLs AWS clients are configured with and turns
 * anything else into a usage error instead of guessing.
 */
#include <stdlib.h>
#include <string.h>

#include "uri.h"

static const char hex_upper[] = "0123456789ABCDEF";

static int is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == '~';
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void add_escape(struct ams_buf *out, unsigned char c)
{
	char esc[3];

	esc[0] = '%';
	esc[1] = hex_upper[c >> 4];
	esc[2] = hex_upper[c & 0xf];
	ams_buf_add(out, esc, sizeof(esc));
}

void ams_uri_encode(struct ams_buf *out, const char *s, size_t len,
		    unsigned flags)
{
	size_t i, run;

	ams_buf_grow(out, len);
	for (i = 0; i < len; i += run) {
		unsigned char c = (unsigned char)s[i];

		/* Copy runs of safe bytes in one append. */
		run = 0;
		while (i + run < len &&
		       (is_unreserved((unsigned char)s[i + run]) ||
			(s[i + run] == '/' && (flags & AMS_URI_KEEP_SLASH))))
			run++;
		if (run) {
			ams_buf_add(out, s + i, run);
			continue;
		}
		add_escape(out, c);
		run = 1;
	}
}

void ams_uri_encode_str(struct ams_buf *out, const char *s, unsigned flags)
{
	ams_uri_encode(out, s, strlen(s), flags);
}

void ams_uri_reencode(struct ams_buf *out, const char *s, size_t len)
{
	size_t i;

	ams_buf_grow(out, len);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int hi, lo;

		if (is_unreserved(c)) {
			ams_buf_addch(out, c);
			continue;
		}
		hi = c == '%' && i + 2 < len
			 ? hex_value((unsigned char)s[i + 1])
			 : -1;
		lo = hi >= 0 ? hex_value((unsigned char)s[i + 2]) : -1;
		if (lo >= 0) {
			/* An existing escape: keep it, normalise its case. */
			add_escape(out, (unsigned char)(hi << 4 | lo));
			i += 2;
		} else {
			add_escape(out, c);
		}
	}
}

void ams_uri_form_add(struct ams_buf *body, const char *name, const char *value)
{
	if (body->len)
		ams_buf_addch(body, '&');
	ams_uri_encode_str(body, name, 0);
	ams_buf_addch(body, '=');
	ams_uri_encode_str(body, value, 0);
}

enum ams_code ams_uri_decode(struct ams_buf *out, const char *s, size_t len,
			     unsigned flags, struct ams_err *err)
{
	size_t i;

	ams_buf_grow(out, len);
	for (i = 0; i < len; i++) {
		int hi, lo;

		if (s[i] == '+' && (flags & AMS_URI_PLUS_SPACE)) {
			ams_buf_addch(out, ' ');
			continue;
		}
		if (s[i] != '%') {
			ams_buf_addch(out, s[i]);
			continue;
		}
		hi = i + 1 < len ? hex_value((unsigned char)s[i + 1]) : -1;
		lo = i + 2 < len ? hex_value((unsigned char)s[i + 2]) : -1;
		if (hi < 0 || lo < 0)
			return ams_fail(err, AMS_EPARSE,
					"invalid percent-escape at offset %zu",
					i);
		ams_buf_addch(out, hi << 4 | lo);
		i += 2;
	}
	return AMS_OK;
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static char *dup_lower(const char *s, size_t len)
{
	char *d = xstrndup(s, len);
	size_t i;

	for (i = 0; i < len; i++)
		d[i] = ascii_lower(d[i]);
	return d;
}

static int is_reg_name_char(unsigned char c)
{
	/* Host names: letters, digits, '-', '.', '_' and '~' (unreserved). */
	return is_unreserved(c);
}

static int is_ipv6_char(unsigned char c)
{
	return hex_value(c) >= 0 || c == ':' || c == '.';
}

/* Parses "[v6]", "[v6]:port", "name" or "name:port" (userinfo removed). */
static enum ams_code parse_hostport(struct ams_uri *u, const char *a,
				    size_t len, struct ams_err *err)
{
	const char *host, *port = NULL;
	size_t host_len, port_len = 0, i;
	unsigned long long n;

	if (len && a[0] == '[') {
		const char *close = memchr(a, ']', len);

		if (!close)
			return ams_fail(
			    err, AMS_EUSAGE,
			    "endpoint URL: unterminated '[' in host");
		host = a + 1;
		host_len = (size_t)(close - host);
		for (i = 0; i < host_len; i++)
			if (!is_ipv6_char((unsigned char)host[i]))
				break;
		if (!host_len || i < host_len || !memchr(host, ':', host_len))
			return ams_fail(err, AMS_EUSAGE,
					"endpoint URL: invalid IPv6 address "
					"'%.*s'",
					(int)host_len, host);
		u->ipv6 = true;
		if (close + 1 < a + len) {
			if (close[1] != ':')
				return ams_fail(err, AMS_EUSAGE,
						"endpoint URL: unexpected text "
						"after ']'");
			port = close + 2;
			port_len = (size_t)(a + len - port);
		}
	} else {
		const char *colon = memchr(a, ':', len);

		host = a;
		host_len = colon ? (size_t)(colon - a) : len;
		if (colon) {
			port = colon + 1;
			port_len = (size_t)(a + len - port);
		}
		for (i = 0; i < host_len; i++)
			if (!is_reg_name_char((unsigned char)host[i]))
				break;
		if (!host_len || i < host_len)
			return ams_fail(err, AMS_EUSAGE,
					"endpoint URL: invalid host '%.*s'",
					(int)host_len, host);
	}
	u->host = dup_lower(host, host_len);
	if (port_len) {
		if (port_len > 5 ||
		    !ams_str_to_u64(ams_str_make(port, port_len), 65535, &n) ||
		    n == 0)
			return ams_fail(err, AMS_EUSAGE,
					"endpoint URL: invalid port '%.*s'",
					(int)(port_len > 16 ? 16 : port_len),
					port);
		u->port = (unsigned)n;
		u->port_explicit = true;
	}
	return AMS_OK;
}

static enum ams_code parse_url(struct ams_uri *u, const char *url,
			       struct ams_err *err)
{
	const char *p, *auth, *auth_end, *at, *path_end, *q;
	enum ams_code rc;
	size_t i;

	for (i = 0; url[i]; i++)
		if ((unsigned char)url[i] <= 0x20 ||
		    (unsigned char)url[i] >= 0x7f)
			return ams_fail(err, AMS_EUSAGE,
					"endpoint URL: white space, control or "
					"non-ASCII character at offset %zu",
					i);
	p = strstr(url, "://");
	if (!p)
		return ams_fail(err, AMS_EUSAGE,
				"endpoint URL: expected scheme://host");
	u->scheme = dup_lower(url, (size_t)(p - url));
	if (!strcmp(u->scheme, "https")) {
		u->port = 443;
	} else if (!strcmp(u->scheme, "http")) {
		u->port = 80;
	} else {
		/* Not echoed: a malformed URL may hold a secret here. */
		return ams_fail(err, AMS_EUSAGE,
				"endpoint URL: unsupported scheme (expected "
				"http or https)");
	}
	auth = p + 3;
	auth_end = auth + strcspn(auth, "/?#");
	/* Drop userinfo: it ends at the last '@' of the authority. */
	for (at = NULL, p = auth; p < auth_end; p++)
		if (*p == '@')
			at = p;
	if (at)
		auth = at + 1;
	rc = parse_hostport(u, auth, (size_t)(auth_end - auth), err);
	if (rc)
		return rc;
	path_end = auth_end + strcspn(auth_end, "?#");
	u->path = xstrndup(auth_end, (size_t)(path_end - auth_end));
	if (*path_end == '?') {
		q = path_end + 1;
		u->query = xstrndup(q, strcspn(q, "#"));
	}
	return AMS_OK;
}

enum ams_code ams_uri_parse(struct ams_uri *out, const char *url,
			    struct ams_err *err)
{
	struct ams_uri u = AMS_URI_INIT;
	struct ams_err local = AMS_ERR_INIT;
	enum ams_code rc;

	*out = u;
	if (!url)
		return ams_fail(err, AMS_EUSAGE, "endpoint URL: missing");
	rc = parse_url(&u, url, &local);
	if (rc) {
		ams_uri_release(&u);
		ams_err_copy(err, &local);
		return rc;
	}
	*out = u;
	return AMS_OK;
}

void ams_uri_release(struct ams_uri *u)
{
	struct ams_uri empty = AMS_URI_INIT;

	if (!u)
		return;
	free(u->scheme);
	free(u->host);
	free(u->path);
	free(u->query);
	*u = empty;
}

void ams_uri_host_header(struct ams_buf *out, const struct ams_uri *u)
{
	unsigned dflt = 0;

	if (!strcmp(u->scheme, "https"))
		dflt = 443;
	else if (!strcmp(u->scheme, "http"))
		dflt = 80;
	if (u->ipv6)
		ams_buf_addf(out, "[%s]", u->host);
	else
		ams_buf_addstr(out, u->host);
	if (u->port_explicit && u->port != dflt)
		ams_buf_addf(out, ":%u", u->port);
}
