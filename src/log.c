/*
 * Diagnostics on stderr with redaction of registered secrets.
 */
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static enum ams_log_level log_level = AMS_LOG_INFO;
static FILE *log_stream;
/*
 * Registered secrets, indexed by their first four bytes: a run that
 * assumes roles in thousands of accounts holds thousands of session
 * tokens, and every line is scanned once, not once per secret. No copy
 * of a secret is kept: a secret is its length, first four and last eight
 * bytes and a 64-bit digest of the whole, which a candidate must all
 * match (a different string matching by chance is only redacted too).
 */
#define SECRET_TAIL 8
struct secret {
	uint64_t digest;
	size_t len;
	size_t next; /* the next secret of the same bucket, + 1; 0: none */
	unsigned char head[4], tail[SECRET_TAIL];
};
static struct secret *secrets;
static size_t nr_secrets, alloc_secrets;
static size_t *buckets; /* first secret of each bucket, + 1; 0: empty */
static size_t nr_buckets;

void ams_log_set_level(enum ams_log_level level)
{
	log_level = level;
}

enum ams_log_level ams_log_get_level(void)
{
	return log_level;
}

void ams_log_set_stream(FILE *stream)
{
	log_stream = stream;
}

int ams_log_enabled(enum ams_log_level level)
{
	return level <= log_level;
}

static size_t bucket_of(const void *p)
{
	const unsigned char *b = p;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < 4; i++)
		h = (h ^ b[i]) * 16777619u;
	return h & (nr_buckets - 1);
}

/* FNV-1a over the bytes, then a final mix so that every bit counts. */
static uint64_t digest_of(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

/* The tail to compare: the last SECRET_TAIL bytes, or all of a short one. */
static size_t tail_len(size_t n)
{
	return n < SECRET_TAIL ? n : SECRET_TAIL;
}

/* Whether the n bytes at p are the secret s. */
static bool is_secret(const struct secret *s, const char *p, size_t n)
{
	size_t t = tail_len(n);

	return s->len == n && !memcmp(s->head, p, 4) &&
	       !memcmp(s->tail, p + n - t, t) && s->digest == digest_of(p, n);
}

static void rehash(void)
{
	size_t i, b;

	free(buckets);
	nr_buckets = nr_buckets ? 2 * nr_buckets : 64;
	buckets = xcalloc(nr_buckets, sizeof(*buckets));
	for (i = 0; i < nr_secrets; i++) {
		b = bucket_of(secrets[i].head);
		secrets[i].next = buckets[b];
		buckets[b] = i + 1;
	}
}

void ams_log_add_secret(const char *secret)
{
	size_t n = secret ? strlen(secret) : 0, i;
	struct secret *s;

	if (n < 4)
		return;
	if (nr_buckets)
		for (i = buckets[bucket_of(secret)]; i; i = secrets[i - 1].next)
			if (is_secret(&secrets[i - 1], secret, n))
				return;
	if (nr_secrets == alloc_secrets) {
		alloc_secrets = alloc_secrets ? 2 * alloc_secrets : 16;
		secrets =
		    xreallocarray(secrets, alloc_secrets, sizeof(*secrets));
	}
	s = &secrets[nr_secrets++];
	memset(s, 0, sizeof(*s));
	s->len = n;
	s->digest = digest_of(secret, n);
	memcpy(s->head, secret, 4);
	memcpy(s->tail, secret + n - tail_len(n), tail_len(n));
	if (nr_secrets > nr_buckets / 2) {
		rehash(); /* links the new one too */
	} else {
		i = bucket_of(secret);
		s->next = buckets[i];
		buckets[i] = nr_secrets;
	}
}

void ams_log_forget_secrets(void)
{
	ams_wipe(secrets, nr_secrets * sizeof(*secrets));
	free(secrets);
	free(buckets);
	secrets = NULL;
	buckets = NULL;
	nr_secrets = alloc_secrets = nr_buckets = 0;
}

/* Length of the longest secret that starts at p (len bytes left), or 0. */
static size_t secret_at(const char *p, size_t len)
{
	size_t i, best = 0;
	const struct secret *s;

	for (i = buckets[bucket_of(p)]; i; i = s->next) {
		s = &secrets[i - 1];
		if (s->len <= len && s->len > best && is_secret(s, p, s->len))
			best = s->len;
	}
	return best;
}

void ams_redact(struct ams_buf *sb)
{
	static const char mask[] = "[redacted]";
	struct ams_buf out = AMS_BUF_INIT;
	size_t i, n, copied = 0;

	if (!nr_secrets || sb->len < 4)
		return;
	for (i = 0; i + 4 <= sb->len;) {
		n = secret_at(sb->buf + i, sb->len - i);
		if (!n) {
			i++;
			continue;
		}
		ams_buf_add(&out, sb->buf + copied, i - copied);
		ams_buf_addstr(&out, mask);
		i += n;
		copied = i;
	}
	if (!copied)
		return; /* nothing found: sb stays as it is */
	ams_buf_add(&out, sb->buf + copied, sb->len - copied);
	ams_buf_release_secure(sb);
	*sb = out;
}

static void emit(enum ams_log_level level, const char *prefix, const char *fmt,
		 va_list ap) AMS_PRINTF(3, 0);

static void emit(enum ams_log_level level, const char *prefix, const char *fmt,
		 va_list ap)
{
	struct ams_buf line = AMS_BUF_INIT;
	FILE *out = log_stream ? log_stream : stderr;
	size_t i;

	if (!ams_log_enabled(level))
		return;
	ams_buf_addstr(&line, "amishare: ");
	ams_buf_addstr(&line, prefix);
	ams_buf_vaddf(&line, fmt, ap);
	/*
	 * One message, one line of text: a newline in data cannot forge a
	 * log line, an escape sequence cannot drive the terminal.
	 */
	for (i = 0; i < line.len; i++)
		if ((unsigned char)line.buf[i] < 0x20 || line.buf[i] == 0x7f)
			line.buf[i] = ' ';
	ams_redact(&line);
	ams_buf_addch(&line, '\n');
	fwrite(line.buf, 1, line.len, out);
	fflush(out);
	ams_buf_release_secure(&line);
}

#define DEFINE_LOG(name, level, prefix)       \
	void name(const char *fmt, ...)       \
	{                                     \
		va_list ap;                   \
		va_start(ap, fmt);            \
		emit(level, prefix, fmt, ap); \
		va_end(ap);                   \
	}

DEFINE_LOG(ams_log_error, AMS_LOG_QUIET, "error: ")
DEFINE_LOG(ams_log_warn, AMS_LOG_QUIET, "warning: ")
DEFINE_LOG(ams_log_info, AMS_LOG_INFO, "")
DEFINE_LOG(ams_log_verbose, AMS_LOG_VERBOSE, "")
DEFINE_LOG(ams_log_debug, AMS_LOG_DEBUG, "debug: ")
