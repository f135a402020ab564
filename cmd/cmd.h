/*
 * The subcommand table. Each subcommand lives in cmd/cmd_<name>.c and
 * exports one struct ams_cmd (tmux cmd_entry, git builtin/).
 */
#ifndef AMS_CMD_H
#define AMS_CMD_H

/* Exit codes, documented in README.md. */
enum ams_exit {
	AMS_EXIT_OK = 0,      /* everything asked for is true in AWS */
	AMS_EXIT_FAILED = 1,  /* one or more actions failed, or drift found */
	AMS_EXIT_USAGE = 2,   /* usage, input or configuration error */
	AMS_EXIT_SIGNAL = 130 /* interrupted */
};

typedef int(ams_cmd_fn)(int argc, char **argv);

struct ams_buf;
/* Writes a command's full help text (for help generated from tables). */
typedef void(ams_cmd_help_fn)(struct ams_buf *out, const char *name);

struct ams_cmd {
	const char *name;
	ams_cmd_fn *run;
	const char *summary;   /* one line for `amishare --help` */
	const char *usage;     /* full text for `amishare help <name>` */
	ams_cmd_help_fn *help; /* used instead of usage when set */
};

/* The subcommands, one per cmd/cmd_<name>.c, listed in main.c. */
extern const struct ams_cmd ams_cmd_plan;
extern const struct ams_cmd ams_cmd_provenance;
extern const struct ams_cmd ams_cmd_revoke;
extern const struct ams_cmd ams_cmd_share;
extern const struct ams_cmd ams_cmd_verify;

/* Prints "amishare: error: <msg>" and a hint to stderr; returns 2. */
int ams_cmd_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints the usage text of the named command to stdout. */
int ams_cmd_print_help(const char *name);

#endif
