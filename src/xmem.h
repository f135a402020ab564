/*
 * Allocation wrappers that stop the program when memory runs out, so that
 * callers never carry an out-of-memory branch (git wrapper.c, tmux).
 * Every allocation in amishare goes through these.
 */
#ifndef AMS_XMEM_H
#define AMS_XMEM_H

#include <stddef.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define AMS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define AMS_NORETURN __attribute__((noreturn))
#define AMS_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define AMS_PRINTF(f, a)
#define AMS_NORETURN
#define AMS_WARN_UNUSED
#endif

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
/* Reallocates ptr to nmemb * size bytes; stops on overflow. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
/* Copies at most len bytes of s and NUL-terminates. */
char *xstrndup(const char *s, size_t len);
/* Like asprintf; the caller frees the result. */
char *xasprintf(const char *fmt, ...) AMS_PRINTF(1, 2);

/* Wipes len bytes at p in a way the compiler cannot elide. */
void ams_wipe(void *p, size_t len);
/* Wipes and frees a NUL-terminated secret; NULL does nothing. */
void ams_free_secret(char *s);

#endif
