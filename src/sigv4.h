/*
 * AWS Signature Version 4 and the credentials it signs with.
 *
 * ams_sigv4_sign() is a pure function over an options struct (aws-c-auth's
 * signing config): no I/O, no clock (the time is an input), nothing cached
 * between calls unless the caller hands it a key cache (below), which
 * changes the cost and never the result. It reproduces botocore's
 * SigV4Auth: it signs every given
 * header except botocore's blacklist, canonicalises path, query and
 * header values the same way, and exposes every intermediate stage so
 * tests can compare them with AWS's published suite.
 *
 * Secrets: the secret key, "AWS4"+secret and every derived key live only
 * inside ams_sigv4_sign() and are wiped before it returns, except in a key
 * cache, which holds derived keys (never a secret) until
 * ams_sigv4_cache_free() wipes them. The result holds a
 * copy of the session token (when one must be sent), wiped by
 * ams_sigv4_result_release().
 */
#ifndef AMS_SIGV4_H
#define AMS_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "err.h"

/* Credentials. Every string is owned by the struct. */
struct ams_creds {
	char *access_key_id;
	char *secret_access_key;
	char *session_token; /* NULL for long-term keys */
	time_t expiration;   /* 0 = never */
	char *account_id;    /* may be NULL */
};

#define AMS_CREDS_INIT                    \
	{                                 \
		NULL, NULL, NULL, 0, NULL \
	}

/*
 * Replaces the contents of *c (released first; *c must be initialised,
 * e.g. AMS_CREDS_INIT) with copies of the arguments. session_token and
 * account_id may be NULL; an empty session token is stored as NULL. The
 * secret key and the token are registered with ams_log_add_secret().
 * Returns AMS_OK, or AMS_ECREDS when the access key id or secret is NULL or
 * empty, or contains characters that cannot appear in an Authorization
 * header (white space, control characters, '/', ','); *c is then left
 * empty. The message names the field, never its value.
 */
enum ams_code ams_creds_set(struct ams_creds *c, const char *access_key_id,
			    const char *secret_access_key,
			    const char *session_token, time_t expiration,
			    const char *account_id, struct ams_err *err);
/*
 * Makes *dst (released first; must be initialised) a deep copy of *src.
 */
void ams_creds_copy(struct ams_creds *dst, const struct ams_creds *src);
/* Wipes and frees the secrets, frees the rest, resets to AMS_CREDS_INIT. */
void ams_creds_release(struct ams_creds *c);

/* A header name/value pair. Strings are borrowed (NUL-terminated). */
struct ams_sigv4_header {
	const char *name;
	const char *value;
};

/*
 * A signing-key cache, one per client, shared by all the credentials it
 * signs with. Deriving the key of a (secret, date, Region, service) takes
 * four HMACs; the cache derives each once and keeps it, found by the
 * SHA-256 of the secret (it keeps no copy of a secret), together with a
 * fetched SHA-256 and one reused digest context, so that a signature
 * costs the payload and canonical-request digests, the secret's
 * fingerprint and one HMAC. Keys of other dates are dropped as the table
 * fills, and a table at its bound (512 keys) starts over. Not thread-safe: one cache per thread. ams_sigv4_cache_new()
 * never returns NULL (it stops the program when OpenSSL cannot allocate,
 * like xmalloc); ams_sigv4_cache_free() wipes every key and accepts NULL.
 */
struct ams_sigv4_cache;
struct ams_sigv4_cache *ams_sigv4_cache_new(void);
void ams_sigv4_cache_free(struct ams_sigv4_cache *cache);

/* Payload hash for requests whose body is not signed. */
#define AMS_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
/* SHA-256 of the empty string. */
#define AMS_SIGV4_EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Fixed limits: exceeding one fails with AMS_ELIMIT, nothing is dropped. */
#define AMS_SIGV4_MAX_HEADERS 128
#define AMS_SIGV4_MAX_QUERY_PARAMS 10000

enum ams_sigv4_flags {
	/*
	 * Do not sign X-Amz-Security-Token: it is still returned in
	 * add_headers, to be sent but left out of SignedHeaders (the suite's
	 * post-sts-header-after). Default: signed, as botocore does.
	 */
	AMS_SIGV4_OMIT_SESSION_TOKEN = 1 << 0,
	/*
	 * Keep ".", ".." and empty path segments as given. Default: remove
	 * them as botocore does (RFC 3986 5.2.4 plus collapsing "//").
	 */
	AMS_SIGV4_NO_NORMALIZE_PATH = 1 << 1,
	/* Add and sign X-Amz-Content-SHA256: <payload hash>. */
	AMS_SIGV4_CONTENT_SHA256 = 1 << 2,
};

/*
 * What to sign. Only creds, region, service and a host (a Host header or
 * the host field) are required; NULL elsewhere means "none".
 */
struct ams_sigv4_opts {
	const char *method; /* "POST"; upper-cased; NULL = "GET" */
	/*
	 * The path as sent on the wire (already percent-encoded when it
	 * needs to be), NULL or "" = "/". The canonical URI is this path,
	 * normalised, then encoded again with '/' kept: AWS's rule for every
	 * service but S3.
	 */
	const char *path;
	/*
	 * The query string as sent, without '?': "a=1&b=x%20y". Components
	 * are re-encoded without double encoding (ams_uri_reencode) and
	 * sorted by key, then value. Empty components are ignored; "k"
	 * without '=' signs as "k=".
	 */
	const char *query;
	/*
	 * Request headers, any case, in sending order; duplicates are joined
	 * with ',' in that order. Authorization and X-Amz-Date given here
	 * are ignored (the signer supplies them), as is X-Amz-Security-Token
	 * when creds carry a token. A given X-Amz-Content-SHA256 is signed and
	 * its value used as the payload hash (botocore). A Date header is
	 * refused (AMS_EUSAGE): the signer always dates with X-Amz-Date.
	 */
	const struct ams_sigv4_header *headers;
	size_t nheaders;
	/* Host header value to sign when headers hold none (see uri.h). */
	const char *host;
	/*
	 * The body: payload_hash when not NULL (64 lowercase hex digits or
	 * AMS_SIGV4_UNSIGNED_PAYLOAD, used verbatim), else the SHA-256 of
	 * payload_len bytes at payload (NULL/0 = empty body).
	 */
	const void *payload;
	size_t payload_len;
	const char *payload_hash;
	const char *region;  /* "us-east-1" */
	const char *service; /* signing name: "ec2", "sts", ... */
	time_t now;	     /* signing time, seconds since the epoch, UTC */
	const struct ams_creds *creds;
	unsigned flags; /* enum ams_sigv4_flags */
	/* Optional: derived keys to reuse (borrowed; NULL = derive anew). */
	struct ams_sigv4_cache *cache;
};

/* Every stage of one signature. Owned by the struct. */
struct ams_sigv4_result {
	struct ams_buf canonical_request;
	struct ams_buf string_to_sign;
	struct ams_buf signed_headers; /* "content-type;host;x-amz-date" */
	struct ams_buf authorization;  /* the Authorization header value */
	char amz_date[17];	       /* "20150830T123600Z" */
	char payload_hash[65];	       /* hex, or "UNSIGNED-PAYLOAD" */
	char signature[65];	       /* lowercase hex */
	/*
	 * Headers the caller must add to the request as given, in this
	 * order: X-Amz-Date, X-Amz-Security-Token (when creds carry a
	 * token), X-Amz-Content-SHA256 (with AMS_SIGV4_CONTENT_SHA256),
	 * Authorization. Names are literals; values point into this struct
	 * and live until ams_sigv4_result_release().
	 */
	struct ams_sigv4_header add_headers[4];
	size_t n_add_headers;
	char *session_token; /* private copy behind add_headers; wiped */
};

/*
 * Signs. *out need not be initialised. On AMS_OK the caller owns *out and
 * releases it with ams_sigv4_result_release(). Returns:
 *   AMS_EUSAGE  missing region/service/host, malformed method, header
 *               name, payload_hash or query, a Date header
 *   AMS_ECREDS  creds NULL or without key id or secret
 *   AMS_ELIMIT  more than AMS_SIGV4_MAX_HEADERS headers or
 *               AMS_SIGV4_MAX_QUERY_PARAMS query components
 * On failure *out is left empty (releasing it is harmless). Error messages
 * never contain secrets.
 */
enum ams_code ams_sigv4_sign(struct ams_sigv4_result *out,
			     const struct ams_sigv4_opts *opts,
			     struct ams_err *err);
/* Frees and wipes *res; it can be signed into again. */
void ams_sigv4_result_release(struct ams_sigv4_result *res);

/*
 * Canonicalisation steps, exposed for tests and for the emulator-facing
 * tools. Each appends to out.
 */
/* The canonical URI of a wire path (normalised unless !normalize). */
void ams_sigv4_canonical_uri(struct ams_buf *out, const char *path,
			     bool normalize);
/*
 * The canonical query string of a wire query (NULL or "" gives "").
 * Returns AMS_OK or AMS_ELIMIT.
 */
enum ams_code ams_sigv4_canonical_query(struct ams_buf *out, const char *query,
					struct ams_err *err);

/* Lowercase hex SHA-256 of len bytes at data; out holds 65 bytes. */
void ams_sigv4_sha256_hex(char out[65], const void *data, size_t len);
/* HMAC-SHA256 of data under key into out (32 bytes). */
void ams_sigv4_hmac_sha256(unsigned char out[32], const void *key,
			   size_t key_len, const void *data, size_t len);

#endif
