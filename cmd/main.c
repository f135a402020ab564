/*
 * amishare entry point: global library set-up and tear-down, the
 * subcommand table, and the mapping of results to exit codes.
 */
#include <curl/curl.h>
#include <git2.h>
#include <libxml/parser.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "cmd.h"
#include "log.h"
#include "xml.h"
#include "xmem.h"

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const struct ams_cmd cmd_help_entry = {
	"help", cmd_help, "show help for amishare or one of its commands",
	"usage: amishare help [<command>]\n", NULL
};
static const struct ams_cmd cmd_version_entry = {
	"version", cmd_version, "print the version and library versions",
	"usage: amishare version\n", NULL
};

/* Alphabetical; each cmd/cmd_<name>.c exports its entry (cmd.h). */
static const struct ams_cmd *const commands[] = {
	/* clang-format off */
	&cmd_help_entry,
	&ams_cmd_plan,
	&ams_cmd_provenance,
	&ams_cmd_revoke,
	&ams_cmd_share,
	&ams_cmd_verify,
	&cmd_version_entry,
	/* clang-format on */
};

static const struct ams_cmd *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

int ams_cmd_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("amishare: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see 'amishare help%s%s')\n", cmd ? " " : "",
		cmd ? cmd : "");
	return AMS_EXIT_USAGE;
}

static void print_overview(FILE *out)
{
	size_t i;

	fputs(
	    "usage: amishare [--version] [--help] <command> [<options>]\n\n"
	    "Shares golden AMIs with target accounts, organisations and OUs,\n"
	    "and writes the build's tags onto the shared image inside every\n"
	    "target account.\n\ncommands:\n",
	    out);
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "   %-12s %s\n", commands[i]->name,
			commands[i]->summary);
	fputs("\n'amishare help <command>' shows a command's options.\n"
	      "exit codes: 0 ok, 1 an action failed or drift found, "
	      "2 usage or input error\n",
	      out);
}

int ams_cmd_print_help(const char *name)
{
	const struct ams_cmd *cmd = find_command(name);

	if (!cmd)
		return ams_cmd_usage_error(NULL, "unknown command '%s'", name);
	if (cmd->help) {
		struct ams_buf sb = AMS_BUF_INIT;

		cmd->help(&sb, cmd->name);
		fputs(sb.buf, stdout);
		ams_buf_release(&sb);
	} else {
		fputs(cmd->usage, stdout);
	}
	return AMS_EXIT_OK;
}

static int cmd_help(int argc, char **argv)
{
	if (argc > 2)
		return ams_cmd_usage_error("help", "too many arguments");
	if (argc == 2)
		return ams_cmd_print_help(argv[1]);
	print_overview(stdout);
	return AMS_EXIT_OK;
}

static int cmd_version(int argc, char **argv)
{
	const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
	int major, minor, rev;

	(void)argv;
	if (argc > 1)
		return ams_cmd_usage_error("version", "too many arguments");
	git_libgit2_version(&major, &minor, &rev);
	printf("amishare %s\n", AMS_VERSION);
	printf("libcurl %s (%s), libxml2 %s, libgit2 %d.%d.%d\n", cv->version,
	       cv->ssl_version ? cv->ssl_version : "no TLS",
	       LIBXML_DOTTED_VERSION, major, minor, rev);
	return AMS_EXIT_OK;
}

static int dispatch(int argc, char **argv)
{
	const struct ams_cmd *cmd;
	int i;

	if (argc < 2) {
		print_overview(stderr);
		return AMS_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
		return cmd_version(1, argv + 1);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(1, argv + 1);
	if (argv[1][0] == '-')
		return ams_cmd_usage_error(NULL, "unknown option '%s'",
					   argv[1]);
	cmd = find_command(argv[1]);
	if (!cmd)
		return ams_cmd_usage_error(NULL, "unknown command '%s'",
					   argv[1]);
	/* `amishare <cmd> --help` is `amishare help <cmd>`. */
	for (i = 2; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return ams_cmd_print_help(cmd->name);
	return cmd->run(argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
	int rc;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fputs("amishare: fatal: cannot initialise libcurl\n", stderr);
		return AMS_EXIT_FAILED;
	}
	xmlInitParser();

	rc = dispatch(argc, argv);

	fflush(stdout);
	ams_log_forget_secrets();
	ams_xml_cleanup();
	xmlCleanupParser();
	curl_global_cleanup();
	return rc;
}
