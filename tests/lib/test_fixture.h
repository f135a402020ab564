/*
 * Reads files under tests/fixtures/ from a unit test, wherever the test
 * binary is started from: $AMS_TOP, $AMS_SRCDIR, the current directory,
 * or the source tree two or three levels above the binary
 * (build/tests/t_x).
 */
#ifndef AMS_TEST_FIXTURE_H
#define AMS_TEST_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "xmem.h"

/* Opens tests/fixtures/<rel> below the source tree root top, or NULL. */
static inline FILE *test_fixture_open_in(const char *top, const char *rel)
{
	char path[4096];

	if (!top || !*top)
		return NULL;
	snprintf(path, sizeof(path), "%s/tests/fixtures/%s", top, rel);
	return fopen(path, "rb");
}

/* Appends the file's bytes to out; returns 0, or -1 when not found. */
static inline int test_fixture_read(struct ams_buf *out, const char *rel)
{
	char path[4096], exe[2048], *slash;
	char buf[8192];
	size_t n, i;
	ssize_t len;
	FILE *f;

	f = test_fixture_open_in(getenv("AMS_TOP"), rel);
	if (!f)
		f = test_fixture_open_in(getenv("AMS_SRCDIR"), rel);
	if (!f)
		f = test_fixture_open_in(".", rel);
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (!f && len > 0) {
		exe[len] = '\0';
		slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		for (i = 2; !f && i <= 3; i++) {
			snprintf(path, sizeof(path), "%s%s/tests/fixtures/%s",
				 exe, i == 2 ? "/../.." : "/../../..", rel);
			f = fopen(path, "rb");
		}
	}
	if (!f) {
		printf("# fixture '%s' not found\n", rel);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		ams_buf_add(out, buf, n);
	fclose(f);
	return 0;
}

/*
 * The bytes of tests/fixtures/<dir>/<name> as a NUL-terminated string
 * the caller frees, their count in *len. A missing fixture reads as ""
 * (the test's checks then fail), after a diagnostic line.
 */
static inline char *test_fixture_load(size_t *len, const char *dir,
				      const char *name)
{
	struct ams_buf sb = AMS_BUF_INIT;
	char *rel = xasprintf("%s/%s", dir, name);

	test_fixture_read(&sb, rel);
	free(rel);
	return ams_buf_detach(&sb, len);
}

#endif
