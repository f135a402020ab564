/*
 * AWS Signature Version 4, as botocore's SigV4Auth computes it.
 *
 * ams_sigv4_sign() runs six named steps over an options struct (curl's
 * Curl_output_aws_sigv4 shape): check the inputs, choose the payload hash,
 * collect and canonicalise the headers, build the canonical request, build
 * the string to sign, and derive the key and signature. Every stage stays
 * in the result so tests can compare each one against AWS's suite. The
 * signer does no I/O and never reads the clock.
 *
 * All crypto goes through the wrappers below (SHA-256 and HMAC-SHA256 on
 * OpenSSL). They only fail when OpenSSL cannot allocate, which, like
 * xmalloc, stops the program. "AWS4"+secret and every derived key sit in
 * exactly-sized buffers that are wiped before the signer returns.
 *
 * A key cache (struct ams_sigv4_cache) makes repeated signing cheap: the
 * signing key of a (secret, date, Region, service) is derived once and
 * kept in a hash table under a fingerprint of the secret, so a signature
 * is the payload digest, the canonical request digest, the fingerprint
 * and one HMAC over the string to sign, all on one fetched SHA-256 and
 * one reused context instead of an implicit fetch per call. A thousand
 * assumed roles in four Regions take about 300 KB of keys.
 *
 * Also here: struct ams_creds, which owns a set of credentials.
 */
#include <limits.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "sigv4.h"
#include "uri.h"

/* ------------------------------------------------------------------ */
/* Credentials */

static bool is_scope_safe(const char *s)
{
	/* Printable ASCII without space, '/' or ',' (Authorization syntax). */
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    *s == '/' || *s == ',')
			return false;
	return true;
}

enum ams_code ams_creds_set(struct ams_creds *c, const char *access_key_id,
			    const char *secret_access_key,
			    const char *session_token, time_t expiration,
			    const char *account_id, struct ams_err *err)
{
	struct ams_creds n = AMS_CREDS_INIT;
	enum ams_code rc = AMS_OK;

	/* Copy before releasing: the arguments may point into *c. */
	if (!access_key_id || !*access_key_id)
		rc = ams_fail(err, AMS_ECREDS, "access key id is empty");
	else if (!is_scope_safe(access_key_id))
		rc = ams_fail(err, AMS_ECREDS,
			      "access key id contains an invalid character");
	else if (!secret_access_key || !*secret_access_key)
		rc = ams_fail(err, AMS_ECREDS, "secret access key is empty");
	if (!rc) {
		ams_log_add_secret(secret_access_key);
		n.access_key_id = xstrdup(access_key_id);
		n.secret_access_key = xstrdup(secret_access_key);
		if (session_token && *session_token) {
			ams_log_add_secret(session_token);
			n.session_token = xstrdup(session_token);
		}
		n.expiration = expiration;
		if (account_id)
			n.account_id = xstrdup(account_id);
	}
	ams_creds_release(c);
	*c = n;
	return rc;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void ams_creds_copy(struct ams_creds *dst, const struct ams_creds *src)
{
	if (dst == src)
		return;
	ams_creds_release(dst);
	dst->access_key_id = dup_or_null(src->access_key_id);
	dst->secret_access_key = dup_or_null(src->secret_access_key);
	dst->session_token = dup_or_null(src->session_token);
	dst->expiration = src->expiration;
	dst->account_id = dup_or_null(src->account_id);
}

void ams_creds_release(struct ams_creds *c)
{
	struct ams_creds empty = AMS_CREDS_INIT;

	if (!c)
		return;
	free(c->access_key_id);
	ams_free_secret(c->secret_access_key);
	ams_free_secret(c->session_token);
	free(c->account_id);
	*c = empty;
}

/* ------------------------------------------------------------------ */
/* Crypto wrappers */

static AMS_NORETURN void die_crypto(const char *what)
{
	fprintf(stderr, "amishare: fatal: OpenSSL %s failed\n", what);
	abort();
}

static void to_hex(char *out, const unsigned char *in, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

void ams_sigv4_sha256_hex(char out[65], const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	if (!EVP_Digest(len ? data : "", len, md, &md_len, EVP_sha256(),
			NULL) ||
	    md_len != 32)
		die_crypto("SHA-256");
	to_hex(out, md, 32);
}

void ams_sigv4_hmac_sha256(unsigned char out[32], const void *key,
			   size_t key_len, const void *data, size_t len)
{
	unsigned int md_len = 0;

	if (key_len > (size_t)INT_MAX)
		die_crypto("HMAC key length");
	if (!HMAC(EVP_sha256(), key, (int)key_len,
		  (const unsigned char *)(len ? data : ""), len, out,
		  &md_len) ||
	    md_len != 32)
		die_crypto("HMAC-SHA256");
}

/* ------------------------------------------------------------------ */
/* Key cache */

#define SHA256_BLOCK 64
/* "ap-southeast-2/ec2" fits; longer scopes are signed without the cache. */
#define SCOPE_MAX 48

struct cache_key {
	unsigned char fp[16];  /* SHA-256 of the secret, truncated */
	char date[8];	       /* YYYYMMDD */
	char scope[SCOPE_MAX]; /* "<region>/<service>" */
	unsigned char key[32]; /* kSigning */
};

struct ams_sigv4_cache {
	EVP_MD *fetched; /* SHA-256 fetched once (OpenSSL 3) */
	const EVP_MD *md;
	EVP_MD_CTX *work;
	struct cache_key *keys; /* dense */
	size_t nkeys, alloc;
	uint32_t *slots; /* open addressing: index + 1 into keys, 0 = free */
	size_t nslots;	 /* a power of two, at least twice nkeys */
};

static EVP_MD_CTX *new_md_ctx(void)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx)
		die_crypto("EVP_MD_CTX_new");
	return ctx;
}

static void digest_init(EVP_MD_CTX *ctx, const EVP_MD *md)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	/* Reuses the context's provider state: no fetch, no allocation. */
	if (!EVP_DigestInit_ex2(ctx, md, NULL))
		die_crypto("SHA-256 init");
#else
	if (!EVP_DigestInit_ex(ctx, md, NULL))
		die_crypto("SHA-256 init");
#endif
}

static void digest_update(EVP_MD_CTX *ctx, const void *data, size_t len)
{
	if (len && !EVP_DigestUpdate(ctx, data, len))
		die_crypto("SHA-256 update");
}

static void digest_final(EVP_MD_CTX *ctx, unsigned char out[32])
{
	unsigned int n = 0;

	if (!EVP_DigestFinal_ex(ctx, out, &n) || n != 32)
		die_crypto("SHA-256 final");
}

struct ams_sigv4_cache *ams_sigv4_cache_new(void)
{
	struct ams_sigv4_cache *c = xcalloc(1, sizeof(*c));

#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	c->fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
#endif
	c->md = c->fetched ? c->fetched : EVP_sha256();
	c->work = new_md_ctx();
	return c;
}

void ams_sigv4_cache_free(struct ams_sigv4_cache *c)
{
	if (!c)
		return;
	ams_wipe(c->keys, c->alloc * sizeof(*c->keys));
	free(c->keys);
	free(c->slots);
	/* Freeing a digest context wipes its state (OPENSSL_clear_free). */
	EVP_MD_CTX_free(c->work);
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	EVP_MD_free(c->fetched);
#endif
	free(c);
}

/* SHA-256 as hex, on the cache's digest when there is one. */
static void sha256_hex_in(struct ams_sigv4_cache *c, char out[65],
			  const void *data, size_t len)
{
	unsigned char md[32];

	if (!c) {
		ams_sigv4_sha256_hex(out, data, len);
		return;
	}
	digest_init(c->work, c->md);
	digest_update(c->work, data, len);
	digest_final(c->work, md);
	to_hex(out, md, 32);
}

/* FNV-1a over what identifies a key. */
static uint32_t key_hash(const struct cache_key *k)
{
	const unsigned char *parts[3] = { k->fp, (const unsigned char *)k->date,
					  (const unsigned char *)k->scope };
	const size_t lens[3] = { sizeof(k->fp), sizeof(k->date),
				 strlen(k->scope) };
	uint32_t h = 2166136261u;
	size_t i, j;

	for (i = 0; i < 3; i++)
		for (j = 0; j < lens[i]; j++)
			h = (h ^ parts[i][j]) * 16777619u;
	return h;
}

static bool key_same(const struct cache_key *a, const struct cache_key *b)
{
	return !memcmp(a->fp, b->fp, sizeof(a->fp)) &&
	       !memcmp(a->date, b->date, sizeof(a->date)) &&
	       !strcmp(a->scope, b->scope);
}

/* The slot holding probe's key, or the free slot where it would go. */
static uint32_t *find_slot(struct ams_sigv4_cache *c,
			   const struct cache_key *probe)
{
	size_t mask = c->nslots - 1, i = key_hash(probe) & mask;

	while (c->slots[i] && !key_same(&c->keys[c->slots[i] - 1], probe))
		i = (i + 1) & mask;
	return &c->slots[i];
}

/*
 * At most this many keys are kept (52 KiB). A run over thousands of
 * accounts moves through them a few at a time and uses each key a few
 * times in a row, so a bounded table that starts over when full keeps
 * nearly every hit and not every key of the run.
 */
#define CACHE_MAX_KEYS 512

/*
 * Makes room for one more key: drops the keys of other dates than date
 * (a long run crossing midnight), grows the table when still needed, and
 * empties it instead when it is at its bound.
 */
static void make_room(struct ams_sigv4_cache *c, const char *date)
{
	size_t i, kept = 0;

	if (c->nkeys + 1 <= c->nslots / 2)
		return;
	for (i = 0; i < c->nkeys; i++)
		if (!memcmp(c->keys[i].date, date, 8))
			c->keys[kept++] = c->keys[i];
	ams_wipe(c->keys + kept, (c->nkeys - kept) * sizeof(*c->keys));
	c->nkeys = kept;
	if (c->nkeys + 1 > c->nslots / 2 && c->nslots / 2 >= CACHE_MAX_KEYS) {
		/* Full at its bound: start over rather than grow. */
		ams_wipe(c->keys, c->nkeys * sizeof(*c->keys));
		c->nkeys = 0;
	}
	if (c->nkeys + 1 > c->nslots / 2)
		c->nslots = c->nslots ? 2 * c->nslots : 16;
	if (c->nkeys + 1 > c->alloc) {
		struct cache_key *grown =
		    xreallocarray(NULL, c->nslots / 2, sizeof(*grown));

		if (c->nkeys)
			memcpy(grown, c->keys, c->nkeys * sizeof(*grown));
		ams_wipe(c->keys, c->alloc * sizeof(*c->keys));
		free(c->keys);
		c->keys = grown;
		c->alloc = c->nslots / 2;
	}
	free(c->slots);
	c->slots = xcalloc(c->nslots, sizeof(*c->slots));
	for (i = 0; i < c->nkeys; i++)
		*find_slot(c, &c->keys[i]) = (uint32_t)(i + 1);
}

/* ------------------------------------------------------------------ */
/* Canonical URI */

/*
 * botocore's remove_dot_segments: drop empty and "." segments, let ".."
 * remove the previous one, keep a leading '/' and, when any segment is
 * left, a trailing one.
 */
static void normalize_path(struct ams_buf *out, const char *path, size_t len)
{
	struct ams_str *segs = NULL, rest, seg;
	size_t nsegs = 0, i;

	segs = xreallocarray(NULL, len / 2 + 1, sizeof(*segs));
	rest = ams_str_make(path, len);
	while (rest.ptr) {
		seg = ams_str_split(&rest, '/');
		if (!seg.len || ams_str_eq(seg, "."))
			continue;
		if (ams_str_eq(seg, "..")) {
			if (nsegs)
				nsegs--;
			continue;
		}
		segs[nsegs++] = seg;
	}
	if (path[0] == '/')
		ams_buf_addch(out, '/');
	for (i = 0; i < nsegs; i++) {
		if (i)
			ams_buf_addch(out, '/');
		ams_buf_add(out, segs[i].ptr, segs[i].len);
	}
	if (path[len - 1] == '/' && nsegs)
		ams_buf_addch(out, '/');
	free(segs);
}

void ams_sigv4_canonical_uri(struct ams_buf *out, const char *path,
			     bool normalize)
{
	struct ams_buf norm = AMS_BUF_INIT;

	if (!path || !*path) {
		ams_buf_addch(out, '/');
		return;
	}
	if (!normalize) {
		ams_uri_encode_str(out, path, AMS_URI_KEEP_SLASH);
		return;
	}
	normalize_path(&norm, path, strlen(path));
	ams_uri_encode(out, norm.buf, norm.len, AMS_URI_KEEP_SLASH);
	ams_buf_release(&norm);
}

/* ------------------------------------------------------------------ */
/* Canonical query string */

struct query_param {
	const char *key, *value;
	size_t key_len, value_len;
};

static int cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int cmp_query_param(const void *pa, const void *pb)
{
	const struct query_param *a = pa, *b = pb;
	int c = cmp_bytes(a->key, a->key_len, b->key, b->key_len);

	if (c)
		return c;
	return cmp_bytes(a->value, a->value_len, b->value, b->value_len);
}

/*
 * Splits a wire query at '&' and '=', appending each key and value to enc
 * in canonical encoding. *offs_out receives three offsets per parameter
 * (key start, value start, value end): offsets, because enc moves while it
 * grows. Empty components are skipped.
 */
static enum ams_code encode_query(struct ams_buf *enc, size_t **offs_out,
				  size_t *n_out, const char *query,
				  struct ams_err *err)
{
	struct ams_str rest = ams_str_from(query), part, key;
	size_t n = 0, alloc = 0, *offs = NULL;

	while (rest.ptr) {
		part = ams_str_split(&rest, '&');
		if (!part.len)
			continue;
		if (n == AMS_SIGV4_MAX_QUERY_PARAMS) {
			free(offs);
			return ams_fail(err, AMS_ELIMIT,
					"query string has more than %d "
					"parameters",
					AMS_SIGV4_MAX_QUERY_PARAMS);
		}
		if (n == alloc) {
			alloc = alloc ? 2 * alloc : 16;
			offs = xreallocarray(offs, alloc, 3 * sizeof(*offs));
		}
		key = ams_str_split(&part, '=');
		offs[3 * n] = enc->len;
		ams_uri_reencode(enc, key.ptr, key.len);
		offs[3 * n + 1] = enc->len;
		if (part.ptr)
			ams_uri_reencode(enc, part.ptr, part.len);
		offs[3 * n + 2] = enc->len;
		n++;
	}
	*offs_out = offs;
	*n_out = n;
	return AMS_OK;
}

enum ams_code ams_sigv4_canonical_query(struct ams_buf *out, const char *query,
					struct ams_err *err)
{
	struct ams_buf enc = AMS_BUF_INIT;
	struct query_param *params;
	size_t n = 0, i, *offs = NULL;
	enum ams_code rc;

	if (!query || !*query)
		return AMS_OK;
	rc = encode_query(&enc, &offs, &n, query, err);
	if (rc) {
		ams_buf_release(&enc);
		return rc;
	}
	params = xreallocarray(NULL, n ? n : 1, sizeof(*params));
	for (i = 0; i < n; i++) {
		params[i].key = enc.buf + offs[3 * i];
		params[i].key_len = offs[3 * i + 1] - offs[3 * i];
		params[i].value = enc.buf + offs[3 * i + 1];
		params[i].value_len = offs[3 * i + 2] - offs[3 * i + 1];
	}
	qsort(params, n, sizeof(*params), cmp_query_param);
	for (i = 0; i < n; i++) {
		if (i)
			ams_buf_addch(out, '&');
		ams_buf_add(out, params[i].key, params[i].key_len);
		ams_buf_addch(out, '=');
		ams_buf_add(out, params[i].value, params[i].value_len);
	}
	free(params);
	free(offs);
	ams_buf_release(&enc);
	return AMS_OK;
}

/* ------------------------------------------------------------------ */
/* Canonical headers */

/* Never signed (botocore SIGNED_HEADERS_BLACKLIST). */
static const char *const unsigned_headers[] = {
	"connection",
	"expect",
	"keep-alive",
	"proxy-authenticate",
	"proxy-authorization",
	"te",
	"trailer",
	"transfer-encoding",
	"upgrade",
	"user-agent",
	"x-amzn-trace-id",
};

struct sign_header {
	char *name; /* lowercase, owned */
	const char *value;
	size_t seq; /* input order, to keep duplicates in order */
};

struct header_set {
	struct sign_header *h;
	size_t n;
};

static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_blacklisted(const char *lname)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(unsigned_headers); i++)
		if (!strcmp(lname, unsigned_headers[i]))
			return true;
	return false;
}

static void header_set_add(struct header_set *hs, const char *name,
			   const char *value)
{
	struct sign_header *h;
	size_t i;

	hs->h = xreallocarray(hs->h, hs->n + 1, sizeof(*hs->h));
	h = &hs->h[hs->n];
	h->name = xstrdup(name);
	for (i = 0; h->name[i]; i++)
		if (h->name[i] >= 'A' && h->name[i] <= 'Z')
			h->name[i] = (char)(h->name[i] - 'A' + 'a');
	h->value = value;
	h->seq = hs->n++;
}

static void header_set_release(struct header_set *hs)
{
	size_t i;

	for (i = 0; i < hs->n; i++)
		free(hs->h[i].name);
	free(hs->h);
	hs->h = NULL;
	hs->n = 0;
}

static const char *header_set_get(const struct header_set *hs,
				  const char *lname)
{
	size_t i;

	for (i = 0; i < hs->n; i++)
		if (!strcmp(hs->h[i].name, lname))
			return hs->h[i].value;
	return NULL;
}

static int cmp_sign_header(const void *pa, const void *pb)
{
	const struct sign_header *a = pa, *b = pb;
	int c = strcmp(a->name, b->name);

	if (c)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* White space as Python's str.split() sees it in ASCII. */
static bool is_trim_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

/*
 * Appends value with white space trimmed and runs collapsed to one ' ',
 * a run of ordinary bytes at a time.
 */
static void add_trimall(struct ams_buf *out, const char *value)
{
	const unsigned char *p = (const unsigned char *)value, *start;
	bool any = false;

	for (;;) {
		while (*p && is_trim_space(*p))
			p++;
		if (!*p)
			return;
		if (any)
			ams_buf_addch(out, ' ');
		start = p;
		while (*p && !is_trim_space(*p))
			p++;
		ams_buf_add(out, start, (size_t)(p - start));
		any = true;
	}
}

/* Appends "name:v1,v2\n" per name, and "a;b;c" to signed. */
static void canonical_headers(struct ams_buf *out, struct ams_buf *signed_hdrs,
			      struct header_set *hs)
{
	size_t i;

	qsort(hs->h, hs->n, sizeof(*hs->h), cmp_sign_header);
	for (i = 0; i < hs->n; i++) {
		bool same = i && !strcmp(hs->h[i].name, hs->h[i - 1].name);

		if (same) {
			ams_buf_addch(out, ',');
		} else {
			if (i)
				ams_buf_addch(out, '\n');
			ams_buf_addstr(out, hs->h[i].name);
			ams_buf_addch(out, ':');
			if (signed_hdrs->len)
				ams_buf_addch(signed_hdrs, ';');
			ams_buf_addstr(signed_hdrs, hs->h[i].name);
		}
		add_trimall(out, hs->h[i].value);
	}
	ams_buf_addch(out, '\n');
}

/* ------------------------------------------------------------------ */
/* The signer */

static void result_init(struct ams_sigv4_result *r)
{
	struct ams_buf init = AMS_BUF_INIT;

	memset(r, 0, sizeof(*r));
	r->canonical_request = init;
	r->string_to_sign = init;
	r->signed_headers = init;
	r->authorization = init;
}

void ams_sigv4_result_release(struct ams_sigv4_result *res)
{
	if (!res)
		return;
	ams_buf_release(&res->canonical_request);
	ams_buf_release(&res->string_to_sign);
	ams_buf_release(&res->signed_headers);
	ams_buf_release(&res->authorization);
	ams_free_secret(res->session_token);
	result_init(res);
}

static bool is_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[64] == '\0';
}

/* Step 1: inputs that would make a signature meaningless. */
static enum ams_code check_opts(const struct ams_sigv4_opts *o,
				struct ams_err *err)
{
	const char *m;

	if (!o->creds || !o->creds->access_key_id ||
	    !*o->creds->access_key_id || !o->creds->secret_access_key ||
	    !*o->creds->secret_access_key)
		return ams_fail(err, AMS_ECREDS,
				"sigv4: no access key id or secret key");
	if (!is_scope_safe(o->creds->access_key_id))
		return ams_fail(err, AMS_ECREDS,
				"sigv4: access key id contains an invalid "
				"character");
	if (!o->region || !*o->region || !is_scope_safe(o->region))
		return ams_fail(err, AMS_EUSAGE, "sigv4: invalid region '%s'",
				o->region ? o->region : "(none)");
	if (!o->service || !*o->service || !is_scope_safe(o->service))
		return ams_fail(err, AMS_EUSAGE, "sigv4: invalid service '%s'",
				o->service ? o->service : "(none)");
	m = o->method ? o->method : "GET";
	if (!*m)
		return ams_fail(err, AMS_EUSAGE, "sigv4: empty method");
	for (; *m; m++)
		if (!is_tchar((unsigned char)*m))
			return ams_fail(err, AMS_EUSAGE,
					"sigv4: invalid method");
	if (o->nheaders > AMS_SIGV4_MAX_HEADERS)
		return ams_fail(err, AMS_ELIMIT,
				"sigv4: %zu headers, more than %d", o->nheaders,
				AMS_SIGV4_MAX_HEADERS);
	if (o->payload_hash && !is_hex64(o->payload_hash) &&
	    strcmp(o->payload_hash, AMS_SIGV4_UNSIGNED_PAYLOAD))
		return ams_fail(err, AMS_EUSAGE,
				"sigv4: payload hash is neither 64 lowercase "
				"hex digits nor " AMS_SIGV4_UNSIGNED_PAYLOAD);
	/* X-Amz-Date has four year digits: 1970 to 9999. */
	if (o->now < 0 || (long long)o->now >= 253402300800LL)
		return ams_fail(err, AMS_EUSAGE,
				"sigv4: signing time out of range");
	return AMS_OK;
}

/* Step 2: the payload hash (unless a given X-Amz-Content-SHA256 wins). */
static void payload_hash(struct ams_sigv4_result *out,
			 const struct ams_sigv4_opts *o)
{
	if (o->payload_hash) {
		snprintf(out->payload_hash, sizeof(out->payload_hash), "%s",
			 o->payload_hash);
		return;
	}
	sha256_hex_in(o->cache, out->payload_hash, o->payload, o->payload_len);
}

/* Whether the caller's header lname is dropped (the signer owns it). */
static bool signer_owned(const char *lname, const struct ams_sigv4_opts *o)
{
	if (!strcmp(lname, "authorization") || !strcmp(lname, "x-amz-date"))
		return true;
	if (!strcmp(lname, "x-amz-security-token"))
		return o->creds->session_token && *o->creds->session_token;
	if (!strcmp(lname, "x-amz-content-sha256"))
		return (o->flags & AMS_SIGV4_CONTENT_SHA256) != 0;
	return is_blacklisted(lname);
}

/* Step 3a: the caller's headers that get signed. */
static enum ams_code add_given_headers(struct header_set *hs,
				       const struct ams_sigv4_opts *o,
				       struct ams_err *err)
{
	const char *lname, *p;
	size_t i;

	for (i = 0; i < o->nheaders; i++) {
		p = o->headers[i].name;
		if (!p || !*p)
			return ams_fail(err, AMS_EUSAGE,
					"sigv4: header %zu has no name", i);
		for (; *p; p++)
			if (!is_tchar((unsigned char)*p))
				return ams_fail(err, AMS_EUSAGE,
						"sigv4: header %zu has an "
						"invalid name",
						i);
		if (!o->headers[i].value)
			return ams_fail(err, AMS_EUSAGE,
					"sigv4: header '%s' has no value",
					o->headers[i].name);
		header_set_add(hs, o->headers[i].name, o->headers[i].value);
		lname = hs->h[hs->n - 1].name;
		if (!strcmp(lname, "date"))
			return ams_fail(err, AMS_EUSAGE,
					"sigv4: a Date header is not supported "
					"(the signer sets X-Amz-Date)");
		if (signer_owned(lname, o)) {
			free(hs->h[hs->n - 1].name);
			hs->n--;
		}
	}
	return AMS_OK;
}

/* Step 3b: host, the signer's own headers, and the payload hash. */
static enum ams_code add_signer_headers(struct header_set *hs,
					struct ams_sigv4_result *out,
					const struct ams_sigv4_opts *o,
					struct ams_err *err)
{
	const char *given_hash;

	if (!header_set_get(hs, "host")) {
		if (!o->host || !*o->host)
			return ams_fail(err, AMS_EUSAGE,
					"sigv4: no Host header and no host");
		header_set_add(hs, "host", o->host);
	}
	header_set_add(hs, "x-amz-date", out->amz_date);
	if (o->creds->session_token && *o->creds->session_token) {
		out->session_token = xstrdup(o->creds->session_token);
		if (!(o->flags & AMS_SIGV4_OMIT_SESSION_TOKEN))
			header_set_add(hs, "x-amz-security-token",
				       out->session_token);
	}
	if (o->flags & AMS_SIGV4_CONTENT_SHA256) {
		header_set_add(hs, "x-amz-content-sha256", out->payload_hash);
		return AMS_OK;
	}
	/* botocore: a given X-Amz-Content-SHA256 is the payload hash. */
	given_hash = header_set_get(hs, "x-amz-content-sha256");
	if (given_hash) {
		if (strlen(given_hash) >= sizeof(out->payload_hash))
			return ams_fail(err, AMS_EUSAGE,
					"sigv4: X-Amz-Content-SHA256 value "
					"longer than 64 characters");
		snprintf(out->payload_hash, sizeof(out->payload_hash), "%s",
			 given_hash);
	}
	return AMS_OK;
}

/* Step 4: the canonical request. */
static enum ams_code canonical_request(struct ams_sigv4_result *out,
				       const struct ams_sigv4_opts *o,
				       struct header_set *hs,
				       struct ams_err *err)
{
	struct ams_buf *cr = &out->canonical_request;
	const char *m = o->method ? o->method : "GET";
	enum ams_code rc;

	for (; *m; m++)
		ams_buf_addch(cr, *m >= 'a' && *m <= 'z' ? *m - 'a' + 'A' : *m);
	ams_buf_addch(cr, '\n');
	ams_sigv4_canonical_uri(cr, o->path,
				!(o->flags & AMS_SIGV4_NO_NORMALIZE_PATH));
	ams_buf_addch(cr, '\n');
	rc = ams_sigv4_canonical_query(cr, o->query, err);
	if (rc)
		return rc;
	ams_buf_addch(cr, '\n');
	canonical_headers(cr, &out->signed_headers, hs);
	ams_buf_addch(cr, '\n');
	ams_buf_add(cr, out->signed_headers.buf, out->signed_headers.len);
	ams_buf_addch(cr, '\n');
	ams_buf_addstr(cr, out->payload_hash);
	return AMS_OK;
}

/* Appends "<lead><first><sep><date8>/<region>/<service>/aws4_request". */
static void add_scope(struct ams_buf *sb, const char *lead, const char *first,
		      char sep, const char *amz_date,
		      const struct ams_sigv4_opts *o)
{
	ams_buf_addstr(sb, lead);
	ams_buf_addstr(sb, first);
	ams_buf_addch(sb, sep);
	ams_buf_add(sb, amz_date, 8);
	ams_buf_addch(sb, '/');
	ams_buf_addstr(sb, o->region);
	ams_buf_addch(sb, '/');
	ams_buf_addstr(sb, o->service);
	ams_buf_addstr(sb, "/aws4_request");
}

/* Step 5: the string to sign. */
static void string_to_sign(struct ams_sigv4_result *out,
			   const struct ams_sigv4_opts *o)
{
	char hash[65];

	sha256_hex_in(o->cache, hash, out->canonical_request.buf,
		      out->canonical_request.len);
	add_scope(&out->string_to_sign, "AWS4-HMAC-SHA256\n", out->amz_date,
		  '\n', out->amz_date, o);
	ams_buf_addch(&out->string_to_sign, '\n');
	ams_buf_add(&out->string_to_sign, hash, 64);
}

/*
 * HMAC-SHA256 on the cache's digest (RFC 2104 over a reused context), or
 * the one-shot wrapper without a cache or for keys longer than a block.
 */
static void hmac_in(struct ams_sigv4_cache *c, unsigned char out[32],
		    const void *key, size_t key_len, const void *data,
		    size_t len)
{
	unsigned char block[SHA256_BLOCK], inner[32];
	size_t i;

	if (!c || key_len > sizeof(block)) {
		ams_sigv4_hmac_sha256(out, key, key_len, data, len);
		return;
	}
	memset(block, 0x36, sizeof(block));
	for (i = 0; i < key_len; i++)
		block[i] =
		    (unsigned char)(((const unsigned char *)key)[i] ^ 0x36);
	digest_init(c->work, c->md);
	digest_update(c->work, block, sizeof(block));
	digest_update(c->work, data, len);
	digest_final(c->work, inner);
	for (i = 0; i < sizeof(block); i++)
		block[i] ^= 0x36 ^ 0x5c;
	digest_init(c->work, c->md);
	digest_update(c->work, block, sizeof(block));
	digest_update(c->work, inner, sizeof(inner));
	digest_final(c->work, out);
	ams_wipe(block, sizeof(block));
	ams_wipe(inner, sizeof(inner));
}

/* kSigning = HMAC chain over "AWS4"+secret, date, Region, service. */
static void derive_key(struct ams_sigv4_cache *c, unsigned char out[32],
		       const char *secret, const char *date8,
		       const char *region, const char *service)
{
	size_t secret_len = strlen(secret);
	unsigned char k1[32];
	char *k0 = xmalloc(4 + secret_len);

	memcpy(k0, "AWS4", 4);
	memcpy(k0 + 4, secret, secret_len);
	hmac_in(c, out, k0, 4 + secret_len, date8, 8);
	ams_wipe(k0, 4 + secret_len);
	free(k0);
	hmac_in(c, k1, out, 32, region, strlen(region));
	hmac_in(c, out, k1, sizeof(k1), service, strlen(service));
	hmac_in(c, k1, out, 32, "aws4_request", 12);
	memcpy(out, k1, sizeof(k1));
	ams_wipe(k1, sizeof(k1));
}

/*
 * Fills key with the signing key of (secret, date, Region, service) from
 * the cache, deriving and keeping it on a miss. Scopes too long for an
 * entry are derived every time.
 */
static void cached_key(struct ams_sigv4_cache *c, unsigned char key[32],
		       const char *secret, const char *date8,
		       const char *region, const char *service)
{
	struct cache_key probe;
	unsigned char fp[32];
	uint32_t *slot;
	int n;

	memset(&probe, 0, sizeof(probe));
	n = snprintf(probe.scope, sizeof(probe.scope), "%s/%s", region,
		     service);
	if (n < 0 || (size_t)n >= sizeof(probe.scope)) {
		derive_key(c, key, secret, date8, region, service);
		return;
	}
	digest_init(c->work, c->md);
	digest_update(c->work, secret, strlen(secret));
	digest_final(c->work, fp);
	memcpy(probe.fp, fp, sizeof(probe.fp));
	ams_wipe(fp, sizeof(fp));
	memcpy(probe.date, date8, sizeof(probe.date));
	if (c->nslots) {
		slot = find_slot(c, &probe);
		if (*slot) {
			memcpy(key, c->keys[*slot - 1].key, 32);
			ams_wipe(&probe, sizeof(probe));
			return;
		}
	}
	make_room(c, date8);
	derive_key(c, key, secret, date8, region, service);
	memcpy(probe.key, key, 32);
	c->keys[c->nkeys] = probe;
	*find_slot(c, &probe) = (uint32_t)(++c->nkeys);
	ams_wipe(&probe, sizeof(probe));
}

/* Step 6: derive (or find) the signing key, sign, and wipe every key. */
static void signature(struct ams_sigv4_result *out,
		      const struct ams_sigv4_opts *o)
{
	const char *secret = o->creds->secret_access_key;
	unsigned char key[32], sig[32];
	char date8[9];

	memcpy(date8, out->amz_date, 8);
	date8[8] = '\0';
	if (o->cache)
		cached_key(o->cache, key, secret, date8, o->region, o->service);
	else
		derive_key(NULL, key, secret, date8, o->region, o->service);
	hmac_in(o->cache, sig, key, sizeof(key), out->string_to_sign.buf,
		out->string_to_sign.len);
	ams_wipe(key, sizeof(key));
	to_hex(out->signature, sig, sizeof(sig));
}

static void add_out_header(struct ams_sigv4_result *out, const char *name,
			   const char *value)
{
	out->add_headers[out->n_add_headers].name = name;
	out->add_headers[out->n_add_headers].value = value;
	out->n_add_headers++;
}

static void finish(struct ams_sigv4_result *out, const struct ams_sigv4_opts *o)
{
	add_scope(&out->authorization,
		  "AWS4-HMAC-SHA256 Credential=", o->creds->access_key_id, '/',
		  out->amz_date, o);
	ams_buf_addstr(&out->authorization, ", SignedHeaders=");
	ams_buf_add(&out->authorization, out->signed_headers.buf,
		    out->signed_headers.len);
	ams_buf_addstr(&out->authorization, ", Signature=");
	ams_buf_add(&out->authorization, out->signature, 64);
	add_out_header(out, "X-Amz-Date", out->amz_date);
	if (out->session_token)
		add_out_header(out, "X-Amz-Security-Token", out->session_token);
	if (o->flags & AMS_SIGV4_CONTENT_SHA256)
		add_out_header(out, "X-Amz-Content-SHA256", out->payload_hash);
	add_out_header(out, "Authorization", out->authorization.buf);
}

enum ams_code ams_sigv4_sign(struct ams_sigv4_result *out,
			     const struct ams_sigv4_opts *opts,
			     struct ams_err *err)
{
	struct header_set hs = { NULL, 0 };
	enum ams_code rc;

	result_init(out);
	rc = check_opts(opts, err);
	if (!rc) {
		ams_clock_amz_date(out->amz_date, opts->now);
		payload_hash(out, opts);
		rc = add_given_headers(&hs, opts, err);
	}
	if (!rc)
		rc = add_signer_headers(&hs, out, opts, err);
	if (!rc)
		rc = canonical_request(out, opts, &hs, err);
	header_set_release(&hs);
	if (rc) {
		ams_sigv4_result_release(out);
		return rc;
	}
	string_to_sign(out, opts);
	signature(out, opts);
	finish(out, opts);
	return AMS_OK;
}
