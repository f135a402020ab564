/*
 * Diagnostics on stderr with redaction of registered secrets.
 */
#include "log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static enum ams_log_level log_level = AMS_LOG_INFO;
static FILE *log_stream;
static char **secrets;
static size_t nr_secrets;

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

void ams_log_add_secret(const char *secret)
{
	size_t i;

	if (!secret || strlen(secret) < 4)
		return;
	for (i = 0; i < nr_secrets; i++)
		if (!strcmp(secrets[i], secret))
			return;
	secrets = xreallocarray(secrets, nr_secrets + 1, sizeof(*secrets));
	secrets[nr_secrets++] = xstrdup(secret);
}

void ams_log_forget_secrets(void)
{
	size_t i;

	for (i = 0; i < nr_secrets; i++)
		ams_free_secret(secrets[i]);
	free(secrets);
	secrets = NULL;
	nr_secrets = 0;
}

static void redact_one(struct ams_buf *sb, const char *secret)
{
	static const char mask[] = "[redacted]";
	size_t n = strlen(secret);
	struct ams_buf out = AMS_BUF_INIT;
	const char *p = sb->buf, *hit;

	if (!strstr(sb->buf, secret))
		return;
	while ((hit = strstr(p, secret))) {
		ams_buf_add(&out, p, (size_t)(hit - p));
		ams_buf_addstr(&out, mask);
		p = hit + n;
	}
	ams_buf_addstr(&out, p);
	ams_buf_release_secure(sb);
	*sb = out;
}

void ams_redact(struct ams_buf *sb)
{
	size_t i;

	for (i = 0; i < nr_secrets; i++)
		redact_one(sb, secrets[i]);
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
