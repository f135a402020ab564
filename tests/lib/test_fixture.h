/*
 * Reads files under tests/fixtures/ from a unit test, wherever the test
 * binary is started from: $AMS_TOP, the current directory, or the source
 * tree two or three levels above the binary (build/tests/t_x).
 */
#ifndef AMS_TEST_FIXTURE_H
#define AMS_TEST_FIXTURE_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"

/* Appends the file's bytes to out; returns 0, or -1 when not found. */
static inline int test_fixture_read(struct ams_buf *out, const char *rel)
{
	char path[4096], exe[2048], *slash;
	const char *top = getenv("AMS_TOP");
	char buf[8192];
	size_t n, i;
	ssize_t len;
	FILE *f = NULL;

	if (top) {
		snprintf(path, sizeof(path), "%s/tests/fixtures/%s", top, rel);
		f = fopen(path, "rb");
	}
	if (!f) {
		snprintf(path, sizeof(path), "tests/fixtures/%s", rel);
		f = fopen(path, "rb");
	}
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

#endif
