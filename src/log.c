/*
 * Diagnostics on stderr with redaction of registered secrets.
 */
#include "log.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static enum ams_log_level log_level = AMS_LOG_INFO;
static FILE *log_stream;
/*
 * Registered secrets, indexed by their first four bytes: a run that
 * assumes roles in thousands of accounts holds thousands of session
 * tokens, and every line is scanned once, not once per secret.
 */
struct secret {
	char *text;
	size_t len;
	size_t next; /* the next secret of the same bucket, + 1; 0: none */
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

static size_t bucket_of(const char *p)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < 4; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h & (nr_buckets - 1);
}

static void rehash(void)
{
	size_t i, b;

	free(buckets);
	nr_buckets = nr_buckets ? 2 * nr_buckets : 64;
	buckets = xcalloc(nr_buckets, sizeof(*buckets));
	for (i = 0; i < nr_secrets; i++) {
		b = bucket_of(secrets[i].text);
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
			if (secrets[i - 1].len == n &&
			    !memcmp(secrets[i - 1].text, secret, n))
				return;
	if (nr_secrets == alloc_secrets) {
		alloc_secrets = alloc_secrets ? 2 * alloc_secrets : 16;
		secrets =
		    xreallocarray(secrets, alloc_secrets, sizeof(*secrets));
	}
	s = &secrets[nr_secrets++];
	s->text = xstrdup(secret);
	s->len = n;
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
	size_t i;

	for (i = 0; i < nr_secrets; i++)
		ams_free_secret(secrets[i].text);
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
		if (s->len <= len && s->len > best &&
		    !memcmp(s->text, p, s->len))
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
