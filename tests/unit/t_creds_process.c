/*
 * credential_process: shell-style splitting (checked against what
 * Python's shlex.split gives), running without a shell (exit codes,
 * separate streams, deadline, output cap), the Version 1 JSON document,
 * and the whole path through small scripts written to a temporary
 * directory.
 */
#include "harness.h"

#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "creds.h"
#include "log.h"
#include "procspawn.h"

struct split_case {
	const char *in;
	const char *words[8]; /* NULL-terminated; all NULL with error */
	const char *error;
};

static const struct split_case splits[] = {
	{ "a b  c", { "a", "b", "c" }, NULL },
	{ " \ta\tb\n", { "a", "b" }, NULL },
	{ "'a b' \"c d\"", { "a b", "c d" }, NULL },
	{ "a\\ b", { "a b" }, NULL },
	{ "\"a\\\"b\"", { "a\"b" }, NULL },
	{ "\"a\\nb\"", { "a\\nb" }, NULL },
	{ "\"a\\\\b\"", { "a\\b" }, NULL },
	{ "\"a\\$b\"", { "a\\$b" }, NULL },
	{ "'a\\b'", { "a\\b" }, NULL },
	{ "a\\\\b", { "a\\b" }, NULL },
	{ "a'b c'd", { "ab cd" }, NULL },
	{ "''", { "" }, NULL },
	{ "a \"\" b", { "a", "", "b" }, NULL },
	{ "$HOME `x` $(y) ;|&", { "$HOME", "`x`", "$(y)", ";|&" }, NULL },
	{ "aws configure export-credentials --profile p --format process",
	  { "aws", "configure", "export-credentials", "--profile", "p",
	    "--format", "process" },
	  NULL },
	{ "", { NULL }, "command line is empty" },
	{ "   ", { NULL }, "command line is empty" },
	{ "'abc", { NULL }, "command line has an unterminated single quote" },
	{ "a \"b", { NULL }, "command line has an unterminated double quote" },
	{ "abc\\", { NULL }, "command line ends with an unescaped backslash" },
};

/* The input with tabs and newlines shown as escapes, for a TAP name. */
static const char *shown(const char *s)
{
	static char buf[128];
	size_t n = 0;

	for (; *s && n + 3 < sizeof(buf); s++) {
		if (*s == '\n' || *s == '\t') {
			buf[n++] = '\\';
			buf[n++] = *s == '\n' ? 'n' : 't';
		} else {
			buf[n++] = *s;
		}
	}
	buf[n] = '\0';
	return buf;
}

static void test_split_table(void)
{
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(splits); i++) {
		const struct split_case *c = &splits[i];
		struct ams_err err = AMS_ERR_INIT;
		char **argv = NULL;
		size_t n = 99, want = 0;
		enum ams_code rc;

		TEST_BEGIN();
		rc = ams_procspawn_split(&argv, &n, c->in, &err);
		if (c->error) {
			CHECK_RC(AMS_EUSAGE, rc, &err);
			CHECK_STR_EQ(c->error, err.msg);
			CHECK(argv == NULL);
			CHECK_INT_EQ(0, n);
		} else {
			CHECK_RC(AMS_OK, rc, &err);
			while (want < ARRAY_SIZE(c->words) && c->words[want])
				want++;
			for (j = 0; rc == AMS_OK && j < want && j < n; j++)
				CHECK_STR_EQ(c->words[j], argv[j]);
			CHECK_INT_EQ(want, n);
			CHECK(argv && argv[n] == NULL);
		}
		ams_procspawn_argv_free(argv);
		TEST_END("split: [%s]", shown(c->in));
	}
}

static char tmpdir[] = "/tmp/t_creds_process.XXXXXX";

/* Writes an executable script; returns its path (caller frees). */
static char *script(const char *name, const char *body)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");

	fprintf(f, "#!/bin/sh\n%s", body);
	fclose(f);
	chmod(path, 0755);
	return path;
}

/* Splits cmdline and runs it. */
static enum ams_code run(struct ams_procspawn_result *res, const char *cmdline,
			 long timeout_ms, struct ams_err *err)
{
	char **argv = NULL;
	size_t n;
	enum ams_code rc = ams_procspawn_split(&argv, &n, cmdline, err);

	memset(res, 0, sizeof(*res));
	if (!rc)
		rc = ams_procspawn_run(res, argv, timeout_ms, err);
	ams_procspawn_argv_free(argv);
	return rc;
}

static void test_run_streams(void)
{
	struct ams_procspawn_result res;
	struct ams_err err = AMS_ERR_INIT;

	CHECK_RC(AMS_OK,
		 run(&res, "sh -c 'printf out; printf err >&2; exit 7'", 10000,
		     &err),
		 &err);
	CHECK_INT_EQ(7, res.exit_code);
	CHECK_INT_EQ(0, res.term_signal);
	CHECK_STR_EQ("out", res.out.buf);
	CHECK_STR_EQ("err", res.err.buf);
	ams_procspawn_result_release(&res);
}

static void test_run_no_shell(void)
{
	/* A metacharacter reaches the program as an argument. */
	char **argv = NULL;
	size_t n;
	struct ams_procspawn_result res;
	struct ams_err err = AMS_ERR_INIT;

	CHECK_RC(AMS_OK,
		 ams_procspawn_split(&argv, &n, "echo a;echo b $HOME", &err),
		 &err);
	CHECK_RC(AMS_OK, ams_procspawn_run(&res, argv, 10000, &err), &err);
	CHECK_STR_EQ("a;echo b $HOME\n", res.out.buf);
	ams_procspawn_result_release(&res);
	ams_procspawn_argv_free(argv);
}

static void test_run_signal(void)
{
	struct ams_procspawn_result res;
	struct ams_err err = AMS_ERR_INIT;

	CHECK_RC(AMS_OK, run(&res, "sh -c 'kill -TERM $$'", 10000, &err), &err);
	CHECK_INT_EQ(-1, res.exit_code);
	CHECK_INT_EQ(15, res.term_signal);
	ams_procspawn_result_release(&res);
}

static void test_run_not_found(void)
{
	struct ams_procspawn_result res;
	struct ams_err err = AMS_ERR_INIT;

	CHECK_RC(AMS_EIO,
		 run(&res, "/nonexistent/credential-helper", 10000, &err),
		 &err);
	CHECK(strstr(err.msg, "cannot run '/nonexistent/credential-helper'") !=
	      NULL);
	ams_procspawn_result_release(&res);
}

static void test_run_deadline(void)
{
	struct ams_procspawn_result res;
	struct ams_err err = AMS_ERR_INIT;
	uint64_t t0 = ams_clock_mono_ms();

	CHECK_RC(AMS_ECANCELED, run(&res, "sleep 5", 200, &err), &err);
	CHECK(strstr(err.msg, "'sleep' did not finish in time") != NULL);
	ams_procspawn_result_release(&res);
	/* Closing its output does not let a child hold us past the deadline. */
	ams_err_clear(&err);
	CHECK_RC(AMS_ECANCELED,
		 run(&res, "sh -c 'exec >&- 2>&-; sleep 5'", 200, &err), &err);
	ams_procspawn_result_release(&res);
	CHECK(ams_clock_mono_ms() - t0 < 3000);
}

static void test_run_cap(void)
{
	struct ams_procspawn_result res;
	struct ams_err err = AMS_ERR_INIT;

	CHECK_RC(AMS_ELIMIT,
		 run(&res, "head -c 2000000 /dev/zero", 10000, &err), &err);
	CHECK(strstr(err.msg, "wrote more than") != NULL);
	ams_procspawn_result_release(&res);
}

/* Work for the fork tests: payload says what the child does. */
static void child_work(void *payload, struct ams_buf *out)
{
	const char *what = payload;
	size_t i;

	if (!strcmp(what, "answer")) {
		ams_buf_addstr(out, "from the child ");
		ams_buf_addf(out, "%ld", (long)getpid());
	} else if (!strcmp(what, "big")) {
		for (i = 0; i <= AMS_PROCSPAWN_MAX_OUTPUT; i += 8)
			ams_buf_add(out, "01234567", 8);
	} else if (!strcmp(what, "crash")) {
		raise(SIGKILL);
	}
}

static void test_fork(void)
{
	struct ams_buf out = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;
	char answer[] = "answer", crash[] = "crash", big[] = "big";
	char self[32];
	bool started;

	/* The answer comes from another process. */
	CHECK_RC(AMS_OK,
		 ams_procspawn_fork(&out, child_work, answer, &started, &err),
		 &err);
	CHECK(started);
	snprintf(self, sizeof(self), "%ld", (long)getpid());
	CHECK(!strncmp(out.buf, "from the child ", 15));
	CHECK(strcmp(out.buf + 15, self) != 0);
	ams_buf_reset(&out);
	/* A child that dies, or says too much, is an error. */
	CHECK_RC(AMS_EIO,
		 ams_procspawn_fork(&out, child_work, crash, &started, &err),
		 &err);
	CHECK(started);
	CHECK(strstr(err.msg, "killed by signal 9") != NULL);
	ams_err_clear(&err);
	ams_buf_reset(&out);
	CHECK_RC(AMS_ELIMIT,
		 ams_procspawn_fork(&out, child_work, big, &started, &err),
		 &err);
	CHECK(strstr(err.msg, "wrote more than") != NULL);
	ams_buf_release(&out);
}

struct parse_case {
	const char *name;
	const char *json;
	const char *error; /* NULL: success */
	const char *akid;
	const char *token;
	long long expiration;
	const char *account;
};

static const struct parse_case parses[] = {
	{ "long-term keys",
	  "{\"Version\":1,\"AccessKeyId\":\"AKIDPROC\","
	  "\"SecretAccessKey\":\"procsecret1\"}",
	  NULL, "AKIDPROC", NULL, 0, NULL },
	{ "temporary keys with expiration and account",
	  "{\"Version\": 1, \"AccessKeyId\": \"ASIAPROC\", "
	  "\"SecretAccessKey\": \"procsecret2\", \"SessionToken\": "
	  "\"proctoken2\", \"Expiration\": \"2030-01-02T03:04:05Z\", "
	  "\"AccountId\": \"111122223333\"}",
	  NULL, "ASIAPROC", "proctoken2", 1893553445LL, "111122223333" },
	{ "fractional expiration",
	  "{\"Version\":1,\"AccessKeyId\":\"A1\",\"SecretAccessKey\":\"s1s1\","
	  "\"Expiration\":\"2030-01-02T03:04:05.123Z\"}",
	  NULL, "A1", NULL, 1893553445LL, NULL },
	{ "version 2",
	  "{\"Version\":2,\"AccessKeyId\":\"A\","
	  "\"SecretAccessKey\":\"s\"}",
	  "output: unsupported Version (expected 1)", NULL, NULL, 0, NULL },
	{ "version as string",
	  "{\"Version\":\"1\",\"AccessKeyId\":\"A\","
	  "\"SecretAccessKey\":\"s\"}",
	  "output: unsupported Version (expected 1)", NULL, NULL, 0, NULL },
	{ "no version", "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\"}",
	  "output: Version is missing (expected 1)", NULL, NULL, 0, NULL },
	{ "no secret", "{\"Version\":1,\"AccessKeyId\":\"A\"}",
	  "output: SecretAccessKey: missing", NULL, NULL, 0, NULL },
	{ "no key id", "{\"Version\":1,\"SecretAccessKey\":\"s\"}",
	  "output: AccessKeyId: missing", NULL, NULL, 0, NULL },
	{ "key id not a string",
	  "{\"Version\":1,\"AccessKeyId\":5,\"SecretAccessKey\":\"s\"}",
	  "output: AccessKeyId: expected string", NULL, NULL, 0, NULL },
	{ "bad expiration",
	  "{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\","
	  "\"Expiration\":\"tomorrow\"}",
	  "output: Expiration: 'tomorrow' is not an ISO 8601 time", NULL, NULL,
	  0, NULL },
	{ "not json", "AKIA... secret", "output: json: syntax error", NULL,
	  NULL, 0, NULL },
	{ "not an object", "[1]", "output: expected a JSON object", NULL, NULL,
	  0, NULL },
	{ "empty output", "", "output: json: syntax error", NULL, NULL, 0,
	  NULL },
};

static void test_parse_table(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(parses); i++) {
		const struct parse_case *c = &parses[i];
		struct ams_creds cr = AMS_CREDS_INIT;
		struct ams_err err = AMS_ERR_INIT;
		enum ams_code rc;

		TEST_BEGIN();
		rc = ams_creds_parse_process(&cr, c->json, strlen(c->json),
					     &err);
		if (c->error) {
			CHECK_RC(AMS_ECREDS, rc, &err);
			if (strncmp(err.msg, c->error, strlen(c->error)))
				CHECK_STR_EQ(c->error, err.msg);
			CHECK(cr.access_key_id == NULL);
		} else {
			CHECK_RC(AMS_OK, rc, &err);
			CHECK_STR_EQ(c->akid, cr.access_key_id);
			if (c->token)
				CHECK_STR_EQ(c->token, cr.session_token);
			else
				CHECK(cr.session_token == NULL);
			CHECK_INT_EQ(c->expiration, cr.expiration);
			if (c->account)
				CHECK_STR_EQ(c->account, cr.account_id);
			else
				CHECK(cr.account_id == NULL);
		}
		ams_creds_release(&cr);
		TEST_END("process output: %s", c->name);
	}
}

static void test_secrets_registered(void)
{
	struct ams_buf sb = AMS_BUF_INIT;

	/* The table above parsed these; they must now be redacted. */
	ams_buf_addstr(&sb, "x procsecret2 proctoken2 ASIAPROC");
	ams_redact(&sb);
	CHECK_STR_EQ("x [redacted] [redacted] ASIAPROC", sb.buf);
	ams_buf_release(&sb);
}

static void test_script_success(void)
{
	char *path = script(
	    "ok.sh", "echo '{\"Version\": 1, \"AccessKeyId\": "
		     "\"ASIASCRIPT\", \"SecretAccessKey\": \"scrsecret\", "
		     "\"SessionToken\": \"scrtoken\", \"Expiration\": "
		     "\"2031-05-06T07:08:09Z\"}'\n");
	char *cmd = xasprintf("'%s' --profile \"two words\"", path);
	struct ams_creds c = AMS_CREDS_INIT;
	struct ams_err err = AMS_ERR_INIT;
	time_t want;

	CHECK(ams_clock_parse_iso8601("2031-05-06T07:08:09Z", &want));
	CHECK_RC(AMS_OK, ams_creds_run_process(&c, cmd, "profile 'p'", &err),
		 &err);
	CHECK_STR_EQ("ASIASCRIPT", c.access_key_id);
	CHECK_STR_EQ("scrsecret", c.secret_access_key);
	CHECK_STR_EQ("scrtoken", c.session_token);
	CHECK_INT_EQ(want, c.expiration);
	ams_creds_release(&c);
	free(cmd);
	free(path);
}

static void test_script_args(void)
{
	/* Quoted arguments arrive as single words. */
	char *path = script("args.sh",
			    "[ \"$1\" = \"two words\" ] && [ $# = 2 ] || "
			    "exit 9\n"
			    "echo '{\"Version\":1,\"AccessKeyId\":\"AKIDARGS\","
			    "\"SecretAccessKey\":\"argsecret\"}'\n");
	char *cmd = xasprintf("%s \"two words\" 'x'", path);
	struct ams_creds c = AMS_CREDS_INIT;
	struct ams_err err = AMS_ERR_INIT;

	CHECK_RC(AMS_OK, ams_creds_run_process(&c, cmd, "profile 'p'", &err),
		 &err);
	CHECK_STR_EQ("AKIDARGS", c.access_key_id);
	CHECK_INT_EQ(0, c.expiration);
	ams_creds_release(&c);
	free(cmd);
	free(path);
}

static void test_script_failure(void)
{
	char *path = script("fail.sh",
			    "echo '{\"SecretAccessKey\": \"leakedonstdout\"}'\n"
			    "echo 'token expired; run login' >&2\n"
			    "exit 3\n");
	struct ams_creds c = AMS_CREDS_INIT;
	struct ams_err err = AMS_ERR_INIT;

	CHECK_RC(AMS_ECREDS,
		 ams_creds_run_process(&c, path, "profile 'ci' in '/x/config'",
				       &err),
		 &err);
	CHECK(strstr(err.msg, "credential_process of profile 'ci' in "
			      "'/x/config': '") == err.msg);
	CHECK(strstr(err.msg, "fail.sh' exited with status 3: token "
			      "expired; run login") != NULL);
	CHECK(strstr(err.msg, "leakedonstdout") == NULL);
	CHECK(c.access_key_id == NULL);
	free(path);
}

static void test_script_bad_output(void)
{
	char *bad = script("bad.sh", "echo 'not json'\n");
	char *v2 = script("v2.sh", "echo '{\"Version\": 2, \"AccessKeyId\": "
				   "\"A\", \"SecretAccessKey\": \"s\"}'\n");
	struct ams_creds c = AMS_CREDS_INIT;
	struct ams_err err = AMS_ERR_INIT;

	CHECK_RC(AMS_ECREDS,
		 ams_creds_run_process(&c, bad, "profile 'b'", &err), &err);
	CHECK(strstr(err.msg, "credential_process of profile 'b': output: "
			      "json: syntax error") != NULL);
	ams_err_clear(&err);
	CHECK_RC(AMS_ECREDS, ams_creds_run_process(&c, v2, "profile 'b'", &err),
		 &err);
	CHECK_STR_EQ("credential_process of profile 'b': output: unsupported "
		     "Version (expected 1)",
		     err.msg);
	ams_err_clear(&err);
	CHECK_RC(
	    AMS_ECREDS,
	    ams_creds_run_process(&c, "'unterminated", "profile 'b'", &err),
	    &err);
	CHECK_STR_EQ("credential_process of profile 'b': command line has an "
		     "unterminated single quote",
		     err.msg);
	ams_err_clear(&err);
	CHECK_RC(
	    AMS_ECREDS,
	    ams_creds_run_process(&c, "/no/such/helper", "profile 'b'", &err),
	    &err);
	CHECK(strstr(err.msg, "cannot run '/no/such/helper'") != NULL);
	free(bad);
	free(v2);
}

int main(void)
{
	CHECK(mkdtemp(tmpdir) != NULL);
	test_split_table();
	TEST(test_run_streams, "run: stdout, stderr and exit code apart");
	TEST(test_run_no_shell, "run: no shell interprets the command");
	TEST(test_run_signal, "run: death by signal is reported");
	TEST(test_run_not_found, "run: a missing program is an error");
	TEST(test_run_deadline, "run: the deadline kills and reaps");
	TEST(test_run_cap, "run: output beyond the cap is an error");
	TEST(test_fork, "fork: the child's result, its death, its cap");
	test_parse_table();
	TEST(test_secrets_registered, "parsed secrets are redacted in logs");
	TEST(test_script_success, "script: temporary credentials");
	TEST(test_script_args, "script: quoted arguments, no expiration");
	TEST(test_script_failure,
	     "script: non-zero exit shows stderr, never stdout");
	TEST(test_script_bad_output, "script: bad JSON, Version 2, bad line");
	{
		char *cmd = xasprintf("rm -rf '%s'", tmpdir);

		if (system(cmd))
			printf("# could not remove %s\n", tmpdir);
		free(cmd);
	}
	return test_done();
}
