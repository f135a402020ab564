/*
 * RFC 3986 percent-encoding and endpoint URL parsing.
 *
 * Encoding follows botocore's percent_encode (SAFE_CHARS '-._~'): every
 * byte except A-Z a-z 0-9 - _ . ~ becomes %XX with uppercase hex; space is
 * %20, never +. Strings are treated as bytes, so UTF-8 text is encoded
 * byte by byte. The same rules serve EC2/Query form bodies and the SigV4
 * canonical URI and query string.
 *
 * URL parsing covers what an AWS endpoint URL can hold
 * (https://ec2.us-east-1.amazonaws.com, http://127.0.0.1:4566/prefix,
 * http://[::1]:8080) and derives the Host header value SigV4 signs.
 */
#ifndef AMS_URI_H
#define AMS_URI_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

enum ams_uri_flags {
	/* ams_uri_encode: leave '/' as it is (paths). */
	AMS_URI_KEEP_SLASH = 1 << 0,
	/* ams_uri_decode: decode '+' as a space (form bodies). */
	AMS_URI_PLUS_SPACE = 1 << 1,
};

/*
 * Appends the percent-encoding of len bytes at s to out. flags may hold
 * AMS_URI_KEEP_SLASH. A '%' in the input is encoded as %25 (the input is
 * taken as raw bytes, never as already encoded).
 */
void ams_uri_encode(struct ams_buf *out, const char *s, size_t len,
		    unsigned flags);
/* ams_uri_encode over a NUL-terminated string. */
void ams_uri_encode_str(struct ams_buf *out, const char *s, unsigned flags);

/*
 * Appends len bytes at s to out in canonical encoded form without double
 * encoding: a '%' followed by two hex digits is kept as one escape (its hex
 * upper-cased, so "%2b" becomes "%2B" and "%2B" stays "%2B"); every other
 * byte is encoded as by ams_uri_encode (so a stray '%' becomes %25, a raw
 * UTF-8 byte %XX, '+' %2B). This is how the signer canonicalises query
 * components that arrive already encoded.
 */
void ams_uri_reencode(struct ams_buf *out, const char *s, size_t len);

/*
 * Appends "name=value" to a form body, preceded by '&' when body is not
 * empty, both parts encoded by ams_uri_encode (flags 0): botocore's
 * percent_encode_sequence and aws-behaviour.md 1.1. (botocore's Query
 * serializer itself goes through urlencode and sends a space as '+';
 * every other byte comes out the same, and both forms decode to the same
 * parameters.) value may be "" (gives "name="); neither may be NULL.
 */
void ams_uri_form_add(struct ams_buf *body, const char *name,
		      const char *value);

/*
 * Appends the decoding of len bytes at s to out: %XX (either case) becomes
 * the byte; with AMS_URI_PLUS_SPACE '+' becomes ' ', otherwise it stays.
 * Returns AMS_OK, or AMS_EPARSE for a '%' not followed by two hex digits
 * (out then holds what was decoded before it). Decoded bytes may include
 * NUL; out->len counts them.
 */
enum ams_code ams_uri_decode(struct ams_buf *out, const char *s, size_t len,
			     unsigned flags, struct ams_err *err);

/* A parsed endpoint URL. Every string is owned by the struct. */
struct ams_uri {
	char *scheme;	    /* "http" or "https", lowercase */
	char *host;	    /* lowercase; IPv6 literal without brackets */
	bool ipv6;	    /* host was written in brackets */
	unsigned port;	    /* explicit port, or the scheme default */
	bool port_explicit; /* the URL wrote a (non-empty) port */
	char *path;	    /* as written, "" when absent; never NULL */
	char *query;	    /* after '?', without it; NULL when absent */
};

#define AMS_URI_INIT                                    \
	{                                               \
		NULL, NULL, false, 0, false, NULL, NULL \
	}

/*
 * Parses an absolute http or https URL. Userinfo ("user:pass@") is
 * accepted and dropped, never stored; a fragment is dropped. On success
 * *out (which need not be initialised) owns its strings and is released
 * with ams_uri_release. Returns AMS_OK, or AMS_EUSAGE for anything else
 * (unknown scheme, empty or invalid host, bad port, spaces or control
 * characters); *out is then left as AMS_URI_INIT. The message never
 * repeats userinfo.
 */
enum ams_code ams_uri_parse(struct ams_uri *out, const char *url,
			    struct ams_err *err);
/* Frees the strings and resets *u to AMS_URI_INIT. NULL does nothing. */
void ams_uri_release(struct ams_uri *u);

/*
 * Appends the value of the Host header for u, as botocore's
 * _host_from_url computes it and SigV4 signs it: the lowercase host,
 * IPv6 literals in brackets, ":port" only when the URL gave a port that
 * differs from the scheme default (80 for http, 443 for https).
 */
void ams_uri_host_header(struct ams_buf *out, const struct ams_uri *u);

#endif
