/*
 * Diagnostics on stderr, with secret redaction.
 *
 * Primary output (reports, plans) goes to stdout and is written by cmd/;
 * everything chatty comes here. Every secret the program learns (secret
 * keys, session tokens, web identity tokens) is registered with
 * ams_log_add_secret() as soon as it is read, and every line this module
 * prints, and every string passed through ams_redact(), has them replaced
 * by "[redacted]".
 */
#ifndef AMS_LOG_H
#define AMS_LOG_H

#include <stdio.h>

#include "buf.h"

enum ams_log_level {
	AMS_LOG_QUIET = 0, /* errors only */
	AMS_LOG_INFO,	   /* progress (default) */
	AMS_LOG_VERBOSE,   /* per-request summaries */
	AMS_LOG_DEBUG,	   /* requests and responses, redacted */
};

void ams_log_set_level(enum ams_log_level level);
enum ams_log_level ams_log_get_level(void);
/* Where lines go (default stderr). */
void ams_log_set_stream(FILE *stream);

void ams_log_error(const char *fmt, ...) AMS_PRINTF(1, 2);
void ams_log_warn(const char *fmt, ...) AMS_PRINTF(1, 2);
void ams_log_info(const char *fmt, ...) AMS_PRINTF(1, 2);
void ams_log_verbose(const char *fmt, ...) AMS_PRINTF(1, 2);
void ams_log_debug(const char *fmt, ...) AMS_PRINTF(1, 2);
int ams_log_enabled(enum ams_log_level level);

/*
 * Registers a secret (strings shorter than 4 bytes are ignored as too
 * likely to match ordinary text). No copy is kept, only what recognises
 * it: its length, its ends and a digest. Safe to call repeatedly.
 */
void ams_log_add_secret(const char *secret);
/* Replaces every registered secret in sb in place. */
void ams_redact(struct ams_buf *sb);
/* Wipes and forgets all registered secrets (at exit). */
void ams_log_forget_secrets(void);

#endif
