/*
 * Shared by the libFuzzer targets in tests/fuzz/fuzz_*.c.
 *
 * Each target defines LLVMFuzzerTestOneInput(). Built with clang and
 * -fsanitize=fuzzer it is driven by libFuzzer (make fuzz); built with
 * the project's normal compiler and replay.c it replays the committed
 * corpus and the crash regressions (make check), so the inputs run under
 * gcc, ASan+UBSan and valgrind as well.
 */
#ifndef AMS_FUZZ_H
#define AMS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "xmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * An exact-size heap copy of the input without a terminating NUL, so a
 * parser that reads past len trips the address sanitizer. Free it.
 */
static inline char *fuzz_copy(const uint8_t *data, size_t size)
{
	char *p = xmalloc(size ? size : 1);

	if (size)
		memcpy(p, data, size);
	return p;
}

/* A NUL-terminated copy (for APIs that take C strings). Free it. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *p = xmalloc(size + 1);

	if (size)
		memcpy(p, data, size);
	p[size] = '\0';
	return p;
}

/*
 * Whether s looks like a credential worth searching for in messages: at
 * least 12 characters with a letter and a digit. Shorter or plainer
 * values could match the fixed words of a message by chance.
 */
static inline int fuzz_secret_like(const char *s)
{
	int alpha = 0, digit = 0;

	if (!s || strlen(s) < 12)
		return 0;
	for (; *s; s++) {
		alpha |= (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z');
		digit |= *s >= '0' && *s <= '9';
	}
	return alpha && digit;
}

/*
 * Whether secret occurs exactly once in the n bytes at p: a value the
 * input repeats elsewhere (as an error code, a time) may show in a
 * message through that other use.
 */
static inline int fuzz_occurs_once(const char *p, size_t n, const char *secret)
{
	size_t len = strlen(secret), i, count = 0;

	for (i = 0; len && i + len <= n; i++)
		if (!memcmp(p + i, secret, len))
			count++;
	return count == 1;
}

/* Stops the fuzzer with a crash when a property does not hold. */
#define FUZZ_ASSERT(cond)                                               \
	do {                                                            \
		if (!(cond)) {                                          \
			fprintf(stderr, "%s:%d: property failed: %s\n", \
				__FILE__, __LINE__, #cond);             \
			abort();                                        \
		}                                                       \
	} while (0)

/*
 * Runs parse(&out, buf, len, &err) of a pure response parser: a failure
 * must carry its code and a message; a success is released.
 */
#define FUZZ_PARSE(type, parse, release, buf, len)                \
	do {                                                      \
		type fuzz_out_;                                   \
		struct ams_err fuzz_err_ = AMS_ERR_INIT;          \
		enum ams_code fuzz_rc_ =                          \
		    parse(&fuzz_out_, (buf), (len), &fuzz_err_);  \
		if (fuzz_rc_)                                     \
			FUZZ_ASSERT(fuzz_err_.code == fuzz_rc_ && \
				    fuzz_err_.msg[0]);            \
		else                                              \
			release(&fuzz_out_);                      \
	} while (0)

#endif
