/*
 * Growable byte buffers and non-owning string views.
 *
 * struct ams_buf follows git's strbuf: `buf` is never NULL and the contents
 * are always NUL-terminated, so a freshly initialised buffer can be printed.
 * Appends cannot fail (allocation failure stops the program, see xmem.h).
 * Size limits belong at the I/O edge (the HTTP engine caps response bodies),
 * not here.
 */
#ifndef AMS_BUF_H
#define AMS_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "xmem.h"

struct ams_buf {
	char *buf;
	size_t len;
	size_t alloc; /* 0 while buf points at the shared empty string */
};

extern char ams_buf_empty[];
#define AMS_BUF_INIT                \
	{                           \
		ams_buf_empty, 0, 0 \
	}

void ams_buf_init(struct ams_buf *sb, size_t hint);
/* Frees the contents (not the struct) and re-initialises it. */
void ams_buf_release(struct ams_buf *sb);
/* Like ams_buf_release, wiping the bytes first: for secrets and keys. */
void ams_buf_release_secure(struct ams_buf *sb);
/* Empties the buffer, keeping its allocation. */
void ams_buf_reset(struct ams_buf *sb);
/* Ensures room for extra more bytes plus the terminating NUL. */
void ams_buf_grow(struct ams_buf *sb, size_t extra);
/* Sets the length (<= allocated size) and NUL-terminates. */
void ams_buf_setlen(struct ams_buf *sb, size_t len);
/*
 * Hands the contents to the caller, who frees them with free(); the buffer
 * is re-initialised. *len_out (may be NULL) receives the length.
 */
char *ams_buf_detach(struct ams_buf *sb, size_t *len_out);

void ams_buf_add(struct ams_buf *sb, const void *data, size_t len);
void ams_buf_addstr(struct ams_buf *sb, const char *s);
void ams_buf_addch(struct ams_buf *sb, int c);
void ams_buf_addf(struct ams_buf *sb, const char *fmt, ...) AMS_PRINTF(2, 3);
void ams_buf_vaddf(struct ams_buf *sb, const char *fmt, va_list ap)
    AMS_PRINTF(2, 0);
/* Appends the lowercase hex form of len bytes. */
void ams_buf_addhex(struct ams_buf *sb, const unsigned char *data, size_t len);
/*
 * Appends s as a JSON string literal, quotes included. Control
 * characters are escaped; bytes that are not well-formed UTF-8 are
 * written as \ufffd, so the output is always valid JSON text.
 */
void ams_buf_add_json_str(struct ams_buf *sb, const char *s);

/* A non-owning view: ptr need not be NUL-terminated. Passed by value. */
struct ams_str {
	const char *ptr;
	size_t len;
};

#define AMS_STR_NULL ((struct ams_str){ NULL, 0 })

struct ams_str ams_str_from(const char *s);
struct ams_str ams_str_make(const char *ptr, size_t len);
bool ams_str_eq(struct ams_str a, const char *s);
bool ams_str_starts_with(struct ams_str a, const char *prefix);
/* Trims ASCII white space at both ends. */
struct ams_str ams_str_trim(struct ams_str a);
/*
 * Splits *rest at the first sep: returns the part before it and advances
 * *rest past it. Without sep, returns all of *rest and leaves it empty
 * with ptr NULL, so `while (rest.ptr)` walks every field.
 */
struct ams_str ams_str_split(struct ams_str *rest, char sep);
/* Copies the view into a new NUL-terminated string the caller frees. */
char *ams_str_dup(struct ams_str a);
/*
 * Parses a decimal unsigned integer that fills the whole view and is at
 * most max; returns false on anything else (sign, space, overflow).
 */
bool ams_str_to_u64(struct ams_str a, unsigned long long max,
		    unsigned long long *out);

#endif
