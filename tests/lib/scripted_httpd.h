/*
 * Starts and queries tests/lib/scripted_httpd.py from a C unit test.
 *
 *	struct test_server srv;
 *	if (test_server_start(&srv)) ... skip nothing: fail the test
 *	url = test_server_url(&srv, "/seq/a/503,200");
 *	...
 *	test_server_stop(&srv);
 *
 * The server listens on 127.0.0.1 on a free port and exits as soon as
 * its stdin closes, so a crashed test cannot leave it running.
 */
#ifndef AMS_TEST_SCRIPTED_HTTPD_H
#define AMS_TEST_SCRIPTED_HTTPD_H

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "json.h"

struct test_server {
	pid_t pid;
	int stdin_fd;
	int port;
	char url[256];
};

/*
 * Finds rel (e.g. "tests/lib/scripted_httpd.py") in the source tree: under
 * $AMS_TOP, the current directory, or two or three levels above the test
 * binary (build/tests/t_x). Static storage; NULL when not found.
 */
static inline const char *test_source_path(const char *rel)
{
	static char path[4096];
	char exe[2048], *slash;
	ssize_t n;
	const char *top = getenv("AMS_TOP");

	if (top) {
		snprintf(path, sizeof(path), "%s/%s", top, rel);
		if (!access(path, R_OK))
			return path;
	}
	snprintf(path, sizeof(path), "%s", rel);
	if (!access(path, R_OK))
		return path;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		snprintf(path, sizeof(path), "%s/../../%s", exe, rel);
		if (!access(path, R_OK))
			return path;
		snprintf(path, sizeof(path), "%s/../../../%s", exe, rel);
		if (!access(path, R_OK))
			return path;
	}
	return NULL;
}

static inline const char *test_server_script(void)
{
	return test_source_path("tests/lib/scripted_httpd.py");
}

static inline int test_server_start(struct test_server *s)
{
	int in[2], out[2];
	const char *script = test_server_script();
	char line[64];
	FILE *f;

	memset(s, 0, sizeof(*s));
	if (!script) {
		printf("# cannot find scripted_httpd.py\n");
		return -1;
	}
	if (pipe(in) || pipe(out))
		return -1;
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (!s->pid) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execlp("python3", "python3", script, "--max-seconds", "300",
		       (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	s->stdin_fd = in[1];
	f = fdopen(out[0], "r");
	if (!f || !fgets(line, sizeof(line), f) ||
	    sscanf(line, "ready %d", &s->port) != 1) {
		printf("# scripted_httpd.py did not start\n");
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d", s->port);
	return 0;
}

static inline void test_server_stop(struct test_server *s)
{
	if (s->pid <= 0)
		return;
	close(s->stdin_fd);
	waitpid(s->pid, NULL, 0);
	s->pid = 0;
}

/* A URL on the server; static storage, overwritten by the next call. */
static inline const char *test_server_url(const struct test_server *s,
					  const char *path)
{
	static char url[512];

	snprintf(url, sizeof(url), "%s%s", s->url, path);
	return url;
}

static inline size_t test_server_collect(char *data, size_t size, size_t n,
					 void *userp)
{
	ams_buf_add(userp, data, size * n);
	return size * n;
}

/* A blocking GET for the test's own bookkeeping; returns the status. */
static inline long test_server_get(const struct test_server *s,
				   const char *path, struct ams_buf *body)
{
	CURL *e = curl_easy_init();
	long status = 0;

	ams_buf_reset(body);
	curl_easy_setopt(e, CURLOPT_URL, test_server_url(s, path));
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, test_server_collect);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	if (curl_easy_perform(e) == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(e);
	return status;
}

/*
 * Reads a counter from /_stats: "connections", "requests" or
 * "keys.<key>". Returns -1 when unavailable. The stats request itself
 * opens one connection and counts as one request, after the reading.
 */
static inline long test_server_stat(const struct test_server *s,
				    const char *path)
{
	struct ams_buf body = AMS_BUF_INIT;
	struct ams_json *doc = NULL;
	uint64_t v = 0;
	long out = -1;

	if (test_server_get(s, "/_stats", &body) == 200 &&
	    !ams_json_parse(&doc, body.buf, body.len, NULL)) {
		if (!ams_json_get_u64(&v, ams_json_root(doc), path, NULL))
			out = (long)v;
		else
			out = 0; /* a key never used */
	}
	ams_json_free(doc);
	ams_buf_release(&body);
	return out;
}

static inline void test_server_reset(const struct test_server *s)
{
	struct ams_buf body = AMS_BUF_INIT;

	test_server_get(s, "/_reset", &body);
	ams_buf_release(&body);
}

#endif
