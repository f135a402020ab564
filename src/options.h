/*
 * Layered command options: command-line flags beat environment variables
 * (AMISHARE_<NAME>; an empty one counts as unset), which beat a JSON config file (--config, else
 * AMISHARE_CONFIG, else the command's default file if it exists), which
 * beat built-in defaults. One table of option definitions drives all
 * three layers, so every option works the same way everywhere.
 */
#ifndef AMS_OPTIONS_H
#define AMS_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

enum ams_opt_kind {
	AMS_OPT_FLAG,	/* --name / --no-name; env and file take booleans */
	AMS_OPT_STRING, /* one value; the last one given wins */
	AMS_OPT_INT,	/* one non-negative decimal value */
	AMS_OPT_LIST,	/* repeatable; values also split on ',' and spaces */
	AMS_OPT_MULTI,	/* repeatable; never split (env: one per line) */
};

struct ams_opt_def {
	const char *name; /* long name without "--": "role-name" */
	char short_name;  /* 'v', or 0 */
	enum ams_opt_kind kind;
	const char *metavar; /* "ARN"; NULL for flags */
	const char *help;
	bool repeatable_flag; /* FLAG only: count occurrences (-v -v) */
};

enum ams_opt_source {
	AMS_SRC_DEFAULT = 0,
	AMS_SRC_FILE,
	AMS_SRC_ENV,
	AMS_SRC_FLAG,
};

struct ams_opt_val {
	enum ams_opt_source source;
	char **items; /* strings; a FLAG holds "true" or "false" */
	size_t n;
	unsigned count; /* FLAG: times given on the command line */
};

struct ams_opts {
	const struct ams_opt_def *defs;
	size_t nr_defs;
	struct ams_opt_val *vals; /* parallel to defs */
	char **args;		  /* positional arguments */
	size_t nr_args;
	char *config_path; /* the config file read, or NULL */
};

/* Looks up an environment variable; NULL when unset. */
typedef const char *(ams_getenv_fn)(const char *name, void *payload);

/*
 * Parses argv (without the command name) over the env and config
 * layers. defs must contain an AMS_OPT_STRING named "config" for the
 * config layer to be selectable; default_config (may be NULL) is read
 * only if it exists. Errors name the flag, variable or file and key.
 */
enum ams_code ams_opts_parse(struct ams_opts *o, const struct ams_opt_def *defs,
			     size_t nr_defs, int argc, char *const *argv,
			     ams_getenv_fn *getenv_fn, void *env_payload,
			     const char *default_config, struct ams_err *err);
void ams_opts_release(struct ams_opts *o);

/* The value of a STRING or INT option, or NULL when unset. */
const char *ams_opts_str(const struct ams_opts *o, const char *name);
/* The value of an INT option, or dflt when unset. */
long long ams_opts_int(const struct ams_opts *o, const char *name,
		       long long dflt);
bool ams_opts_flag(const struct ams_opts *o, const char *name);
/* How many times a repeatable flag was given (-v -v → 2). */
unsigned ams_opts_count(const struct ams_opts *o, const char *name);
/* The values of a LIST or MULTI option (borrowed; *n may be 0). */
char *const *ams_opts_list(const struct ams_opts *o, const char *name,
			   size_t *n);
enum ams_opt_source ams_opts_source(const struct ams_opts *o, const char *name);
/* "AMISHARE_ROLE_NAME" for "role-name"; the caller frees. */
char *ams_opts_env_name(const char *name);

/* Appends "  --name METAVAR  help" lines for a usage text. */
struct ams_buf;
void ams_opts_usage(struct ams_buf *out, const struct ams_opt_def *defs,
		    size_t nr_defs);

#endif
