/*
 * A minimal TAP unit-test harness (git t/unit-tests, curl fail_unless).
 *
 *	static void test_something(void)
 *	{
 *		CHECK(x == 1);
 *		CHECK_STR_EQ("a", s);
 *	}
 *	int main(void)
 *	{
 *		TEST(test_something, "what it proves");
 *		return test_done();
 *	}
 *
 * Each TEST() is one TAP point, failed when any CHECK inside it failed.
 * Failed checks print their location and values as TAP diagnostics. The
 * binary exits 1 when any point failed or none ran.
 */
#ifndef AMS_TEST_HARNESS_H
#define AMS_TEST_HARNESS_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int harness_points, harness_failed_points, harness_point_failed;

#define CHECK(cond)                                                       \
	do {                                                              \
		if (!(cond)) {                                            \
			harness_point_failed = 1;                         \
			printf("#   %s:%d: check failed: %s\n", __FILE__, \
			       __LINE__, #cond);                          \
		}                                                         \
	} while (0)

#define CHECK_STR_EQ(expect, actual)                                    \
	do {                                                            \
		const char *e_ = (expect), *a_ = (actual);              \
		if (!e_ || !a_ || strcmp(e_, a_)) {                     \
			harness_point_failed = 1;                       \
			printf("#   %s:%d: %s != %s\n#     expected: "  \
			       "'%s'\n#     actual:   '%s'\n",          \
			       __FILE__, __LINE__, #expect, #actual,    \
			       e_ ? e_ : "(null)", a_ ? a_ : "(null)"); \
		}                                                       \
	} while (0)

#define CHECK_MEM_EQ(expect, actual, len)                                 \
	do {                                                              \
		if (memcmp((expect), (actual), (len))) {                  \
			harness_point_failed = 1;                         \
			printf("#   %s:%d: %s and %s differ\n", __FILE__, \
			       __LINE__, #expect, #actual);               \
		}                                                         \
	} while (0)

#define CHECK_INT_EQ(expect, actual)                                          \
	do {                                                                  \
		long long e_ = (long long)(expect);                           \
		long long a_ = (long long)(actual);                           \
		if (e_ != a_) {                                               \
			harness_point_failed = 1;                             \
			printf("#   %s:%d: %s != %s (%lld != %lld)\n",        \
			       __FILE__, __LINE__, #expect, #actual, e_, a_); \
		}                                                             \
	} while (0)

/* Checks an enum ams_code result; prints err's message on mismatch. */
static inline const char *harness_err_msg(const void *errp, size_t off)
{
	return errp ? (const char *)errp + off : "";
}

#define CHECK_RC(expect, actual, errp)                                      \
	do {                                                                \
		int e_ = (int)(expect), a_ = (int)(actual);                 \
		if (e_ != a_) {                                             \
			harness_point_failed = 1;                           \
			printf("#   %s:%d: %s returned %d, expected %d: "   \
			       "%s\n",                                      \
			       __FILE__, __LINE__, #actual, a_, e_,         \
			       harness_err_msg(                             \
				   (errp), offsetof(struct ams_err, msg))); \
		}                                                           \
	} while (0)

static inline void harness_run(void (*fn)(void), const char *name)
{
	harness_point_failed = 0;
	fn();
	harness_points++;
	if (harness_point_failed)
		harness_failed_points++;
	printf("%s %d - %s\n", harness_point_failed ? "not ok" : "ok",
	       harness_points, name);
	fflush(stdout);
}

#define TEST(fn, name) harness_run(fn, name)

/* Runs a table-driven point by name without a separate function. */
#define TEST_BEGIN() (harness_point_failed = 0)
#define TEST_END(...)                                                      \
	do {                                                               \
		harness_points++;                                          \
		if (harness_point_failed)                                  \
			harness_failed_points++;                           \
		printf("%s %d - ", harness_point_failed ? "not ok" : "ok", \
		       harness_points);                                    \
		printf(__VA_ARGS__);                                       \
		printf("\n");                                              \
		fflush(stdout);                                            \
	} while (0)

static inline int test_done(void)
{
	printf("1..%d\n", harness_points);
	return harness_failed_points || !harness_points ? 1 : 0;
}

#endif
