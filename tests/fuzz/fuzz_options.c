/*
 * Fuzz target: the layered options of share/plan/verify (options.h) and
 * their resolution into a job (inputs.h).
 *
 * Input: lines before a "\n--\n" separator are the command line (one
 * argument per line; "AMISHARE_X=v" lines are environment variables);
 * the rest is the JSON config file. Arguments that would pick another
 * config file are dropped so every run reads only its own, and inputs
 * that name a manifest or an accounts file are not resolved (they would
 * read arbitrary paths).
 */
#include "fuzz.h"
#include "inputs.h"
#include "job.h"
#include "log.h"
#include "options.h"
#include "problems.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct env {
	char **v;
	size_t n;
};

static const char *fuzz_getenv(const char *name, void *payload)
{
	const struct env *e = payload;
	size_t i, len = strlen(name);

	for (i = 0; i < e->n; i++)
		if (!strncmp(e->v[i], name, len) && e->v[i][len] == '=')
			return e->v[i] + len + 1;
	return NULL;
}

static char config_path[64];

static void remove_config(void)
{
	unlink(config_path);
}

static void write_config(const char *p, size_t n)
{
	FILE *f;

	if (!config_path[0]) {
		snprintf(config_path, sizeof(config_path),
			 "/tmp/amishare-fuzz-options-%ld.json", (long)getpid());
		atexit(remove_config);
	}
	f = fopen(config_path, "wb");
	if (!f)
		abort();
	if (n && fwrite(p, 1, n, f) != n)
		abort();
	fclose(f);
}

static bool dropped_arg(const char *a)
{
	if (strstr(a, "config") || !strcmp(a, "--"))
		return true;
	return a[0] == '-' && a[1] != '-' && strchr(a, 'c');
}

static void read_everything(const struct ams_opts *o)
{
	size_t i, n;

	for (i = 0; i < o->nr_defs; i++) {
		const char *name = o->defs[i].name;

		(void)ams_opts_source(o, name);
		switch (o->defs[i].kind) {
		case AMS_OPT_FLAG:
			(void)ams_opts_flag(o, name);
			(void)ams_opts_count(o, name);
			break;
		case AMS_OPT_INT: (void)ams_opts_int(o, name, 7); break;
		case AMS_OPT_STRING: (void)ams_opts_str(o, name); break;
		default: (void)ams_opts_list(o, name, &n); break;
		}
	}
}

static void resolve(const struct ams_opts *o, struct env *env)
{
	struct ams_job_config cfg;
	struct ams_inputs in;
	struct ams_problems pr = AMS_PROBLEMS_INIT;
	enum ams_code rc;

	if (ams_opts_str(o, "manifest") || ams_opts_str(o, "accounts-file"))
		return;
	memset(&cfg, 0, sizeof(cfg));
	memset(&in, 0, sizeof(in));
	rc = ams_inputs_resolve(&cfg, &in, o, AMS_JOB_SHARE, fuzz_getenv, env,
				NULL, NULL, &pr);
	FUZZ_ASSERT(!rc == !pr.n);
	ams_job_config_release(&cfg);
	ams_inputs_release(&in);
	ams_problems_release(&pr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	char *sep = strstr(text, "\n--\n");
	const char *config = sep ? sep + 4 : text;
	size_t config_len = size - (size_t)(config - text);
	char **argv = NULL, *line, *next;
	size_t argc = 0;
	struct env env = { NULL, 0 };
	struct ams_opts o;
	struct ams_err err = AMS_ERR_INIT;

	argv = xreallocarray(argv, 2, sizeof(*argv));
	argv[argc++] = xstrdup("--config");
	argv[argc++] = xstrdup(config_path[0] ? config_path : "");
	if (sep) {
		*sep = '\0';
		for (line = text; line; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			if (!strncmp(line, "AMISHARE_", 9) &&
			    strchr(line, '=') && !strstr(line, "CONFIG")) {
				env.v = xreallocarray(env.v, env.n + 1,
						      sizeof(*env.v));
				env.v[env.n++] = line;
			} else if (!dropped_arg(line) && argc < 64) {
				argv = xreallocarray(argv, argc + 1,
						     sizeof(*argv));
				argv[argc++] = xstrdup(line);
			}
		}
	}
	write_config(config, config_len);
	free(argv[1]);
	argv[1] = xstrdup(config_path);
	if (!ams_opts_parse(&o, ams_job_opt_defs, ams_job_opt_count, (int)argc,
			    argv, fuzz_getenv, &env, NULL, &err)) {
		read_everything(&o);
		resolve(&o, &env);
	} else {
		FUZZ_ASSERT(err.code && err.msg[0]);
	}
	ams_opts_release(&o);
	while (argc)
		free(argv[--argc]);
	free(argv);
	free(env.v);
	free(text);
	return 0;
}
