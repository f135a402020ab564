/*
 * Unit tests for layered options: flags > environment > config file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "options.h"

static const struct ams_opt_def defs[] = {
	{ "config", 0, AMS_OPT_STRING, "PATH", "config file", false },
	{ "accounts", 0, AMS_OPT_LIST, "LIST", "accounts", false },
	{ "tag", 't', AMS_OPT_MULTI, "K=V", "tags", false },
	{ "role-name", 0, AMS_OPT_STRING, "NAME", "role", false },
	{ "parallel", 'j', AMS_OPT_INT, "N", "in flight", false },
	{ "share-snapshots", 0, AMS_OPT_FLAG, NULL, "snapshots", false },
	{ "verbose", 'v', AMS_OPT_FLAG, NULL, "more", true },
};

/* A fake environment: NULL-terminated name/value pairs. */
static const char *fake_getenv(const char *name, void *payload)
{
	const char *const *env = payload;

	for (; env && env[0]; env += 2)
		if (!strcmp(env[0], name))
			return env[1];
	return NULL;
}

static char cfg_path[64];

static void write_config(const char *json)
{
	FILE *f;

	snprintf(cfg_path, sizeof(cfg_path), "/tmp/ams-opts-%d.json",
		 (int)getpid());
	f = fopen(cfg_path, "w");
	fputs(json, f);
	fclose(f);
}

static enum ams_code parse(struct ams_opts *o, int argc, char **argv,
			   const char *const *env, const char *dflt,
			   struct ams_err *err)
{
	return ams_opts_parse(o, defs, ARRAY_SIZE(defs), argc, argv,
			      fake_getenv, (void *)(uintptr_t)env, dflt, err);
}

static void test_flags(void)
{
	char a0[] = "--accounts", a1[] = "111111111111,222222222222",
	     a2[] = "--accounts=333333333333", a3[] = "-t", a4[] = "A=1,2",
	     a5[] = "--tag=B=", a6[] = "-vv", a7[] = "--share-snapshots",
	     a8[] = "-j8", a9[] = "pos", a10[] = "--", a11[] = "--tag";
	char *argv[] = { a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11 };
	struct ams_opts o;
	struct ams_err err = AMS_ERR_INIT;
	char *const *l;
	size_t n;

	CHECK_RC(AMS_OK, parse(&o, 12, argv, NULL, NULL, &err), &err);
	l = ams_opts_list(&o, "accounts", &n);
	CHECK_INT_EQ(3, n);
	CHECK(n == 3 && !strcmp(l[2], "333333333333"));
	l = ams_opts_list(&o, "tag", &n);
	CHECK_INT_EQ(2, n);
	CHECK(n == 2 && !strcmp(l[0], "A=1,2") && !strcmp(l[1], "B="));
	CHECK_INT_EQ(2, ams_opts_count(&o, "verbose"));
	CHECK(ams_opts_flag(&o, "share-snapshots"));
	CHECK_INT_EQ(8, ams_opts_int(&o, "parallel", 64));
	CHECK_INT_EQ(2, o.nr_args);
	CHECK(o.nr_args == 2 && !strcmp(o.args[1], "--tag"));
	CHECK_INT_EQ(AMS_SRC_FLAG, ams_opts_source(&o, "accounts"));
	CHECK_INT_EQ(AMS_SRC_DEFAULT, ams_opts_source(&o, "role-name"));
	CHECK(ams_opts_str(&o, "role-name") == NULL);
	ams_opts_release(&o);
}

static void test_precedence(void)
{
	static const char *const env[] = {
		"AMISHARE_ACCOUNTS",
		"444444444444 555555555555",
		"AMISHARE_ROLE_NAME",
		"FromEnv",
		"AMISHARE_TAG",
		"E1=x\nE2=y",
		"AMISHARE_PARALLEL", /* empty: unset, the file's 16 holds */
		"",
		NULL,
		NULL,
	};
	char a0[] = "--role-name", a1[] = "FromFlag";
	char *argv[] = { a0, a1 };
	struct ams_opts o;
	struct ams_err err = AMS_ERR_INIT;
	char *const *l;
	size_t n;

	write_config("{\"accounts\": [\"1\"], \"role_name\": \"FromFile\","
		     " \"parallel\": 16, \"share-snapshots\": true,"
		     " \"tag\": {\"F\": \"1\"}}");
	CHECK_RC(AMS_OK, parse(&o, 2, argv, env, cfg_path, &err), &err);
	CHECK_STR_EQ("FromFlag", ams_opts_str(&o, "role-name"));
	l = ams_opts_list(&o, "accounts", &n);
	CHECK(n == 2 && !strcmp(l[0], "444444444444"));
	l = ams_opts_list(&o, "tag", &n);
	CHECK(n == 2 && !strcmp(l[1], "E2=y"));
	CHECK_INT_EQ(16, ams_opts_int(&o, "parallel", 64));
	CHECK_INT_EQ(AMS_SRC_FILE, ams_opts_source(&o, "parallel"));
	CHECK(ams_opts_flag(&o, "share-snapshots"));
	CHECK_STR_EQ(cfg_path, o.config_path);
	ams_opts_release(&o);
	unlink(cfg_path);
}

static void test_config_selection(void)
{
	char a0[] = "--no-share-snapshots";
	char *argv[] = { a0 };
	static const char *const env[2] = { NULL, NULL };
	const char *env2[] = { "AMISHARE_CONFIG", NULL, NULL, NULL };
	struct ams_opts o;
	struct ams_err err = AMS_ERR_INIT;
	char *const *l;
	size_t n;

	/* A missing default file is fine; a named one is not. */
	CHECK_RC(AMS_OK, parse(&o, 0, NULL, env, "/nonexistent.json", &err),
		 &err);
	CHECK(o.config_path == NULL);
	ams_opts_release(&o);
	write_config("{\"tag\": [\"K=V\"], \"share_snapshots\": true}");
	env2[1] = cfg_path;
	CHECK_RC(AMS_OK, parse(&o, 1, argv, env2, NULL, &err), &err);
	l = ams_opts_list(&o, "tag", &n);
	CHECK(n == 1 && !strcmp(l[0], "K=V"));
	CHECK(!ams_opts_flag(&o, "share-snapshots")); /* --no- wins */
	ams_opts_release(&o);
	unlink(cfg_path);
}

static const struct {
	const char *arg1, *arg2; /* argv */
	const char *env_name, *env_val;
	const char *config; /* written to a file and named by --config */
	const char *msg;
} bad[] = {
	{ "--frob", NULL, NULL, NULL, NULL, "unknown option '--frob'" },
	{ "-x", NULL, NULL, NULL, NULL, "unknown option '-x'" },
	{ "--role-name", NULL, NULL, NULL, NULL,
	  "option '--role-name' needs a value" },
	{ "--parallel", "-3", NULL, NULL, NULL,
	  "--parallel: '-3' is not a non-negative integer" },
	{ "--no-role-name", NULL, NULL, NULL, NULL,
	  "unknown option '--no-role-name'" },
	{ "--share-snapshots=maybe", NULL, NULL, NULL, NULL,
	  "'maybe' is not a boolean" },
	{ NULL, NULL, "AMISHARE_PARALLEL", "lots", NULL,
	  "AMISHARE_PARALLEL: 'lots' is not a non-negative integer" },
	{ NULL, NULL, "AMISHARE_SHARE_SNAPSHOTS", "sure", NULL,
	  "AMISHARE_SHARE_SNAPSHOTS: 'sure' is not a boolean" },
	{ NULL, NULL, NULL, NULL, "{\"acounts\": []}",
	  "unknown option 'acounts'" },
	{ NULL, NULL, NULL, NULL, "{\"parallel\": \"8\"}",
	  "'parallel': expected a non-negative integer" },
	{ NULL, NULL, NULL, NULL, "{\"accounts\": [1]}",
	  "'accounts': expected an array of strings" },
	{ NULL, NULL, NULL, NULL, "{\"share-snapshots\": 1}",
	  "'share-snapshots': expected true or false" },
	{ NULL, NULL, NULL, NULL, "[1]", "expected a JSON object" },
	{ NULL, NULL, NULL, NULL, "{\"a\":", "not valid JSON" },
	{ NULL, NULL, NULL, NULL, "{\"config\": \"x\"}",
	  "unknown option 'config'" },
};

static void test_errors(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		char b1[64] = "", b2[64] = "", b3[] = "--config";
		char *argv[4];
		const char *env[] = { bad[i].env_name, bad[i].env_val, NULL,
				      NULL };
		struct ams_opts o;
		struct ams_err err = AMS_ERR_INIT;
		int argc = 0;

		TEST_BEGIN();
		if (bad[i].arg1) {
			snprintf(b1, sizeof(b1), "%s", bad[i].arg1);
			argv[argc++] = b1;
		}
		if (bad[i].arg2) {
			snprintf(b2, sizeof(b2), "%s", bad[i].arg2);
			argv[argc++] = b2;
		}
		if (bad[i].config) {
			write_config(bad[i].config);
			argv[argc++] = b3;
			argv[argc++] = cfg_path;
		}
		CHECK_INT_EQ(AMS_EUSAGE,
			     parse(&o, argc, argv, env, NULL, &err));
		CHECK(strstr(err.msg, bad[i].msg) != NULL);
		if (!strstr(err.msg, bad[i].msg))
			printf("#   got: %s\n", err.msg);
		if (bad[i].config)
			CHECK(strstr(err.msg, cfg_path) != NULL);
		ams_opts_release(&o);
		TEST_END("options: rejects %s", bad[i].msg);
	}
	unlink(cfg_path);
}

static void test_env_name(void)
{
	char *s = ams_opts_env_name("role-name");

	CHECK_STR_EQ("AMISHARE_ROLE_NAME", s);
	free(s);
}

int main(void)
{
	TEST(test_flags, "options: long, short, =, repeat, split, --");
	TEST(test_precedence, "options: flags beat env beat file");
	TEST(test_config_selection, "options: config file selection");
	test_errors();
	TEST(test_env_name, "options: environment names");
	return test_done();
}
