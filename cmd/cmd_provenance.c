/*
 * amishare provenance: shows where an image comes from, for the
 * repository containing the current directory (or --repo), the CI run
 * in the environment and the Packer build Packer describes in it. The
 * output is the in-toto statement that share records (json, default) or
 * a summary for people (text).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "ci_env.h"
#include "cmd.h"
#include "intoto.h"
#include "provenance.h"
#include "xmem.h"

static const char usage[] =
    "usage: amishare provenance [--repo PATH] [--no-dirty-check]\n"
    "                           [--ami REGION:AMI_ID ...] "
    "[--output json|text]\n"
    "\n"
    "Shows where an image comes from: the commit, branch, nearest tag and\n"
    "work tree state of the git repository containing PATH (default: the\n"
    "current directory), the CI run (GitHub Actions, GitLab CI, Jenkins,\n"
    "or the AMISHARE_CI_* variables) and the Packer build\n"
    "(PACKER_BUILD_NAME, PACKER_BUILDER_TYPE, PACKER_RUN_UUID).\n"
    "\n"
    "The json output is an in-toto statement (https://in-toto.io/"
    "Statement/v1)\n"
    "with a SLSA provenance v1 predicate whose subjects are the --ami\n"
    "images. Credentials in repository and CI URLs are never shown.\n"
    "\n"
    "options:\n"
    "  --repo PATH          read the repository containing PATH\n"
    "  --no-dirty-check     skip the work tree scan (dirty: unknown)\n"
    "  --ami REGION:AMI_ID  name an image as a subject (repeatable)\n"
    "  --output json|text   the statement (default) or a summary\n"
    "\n"
    "A missing repository or one without commits is reported, not an\n"
    "error. Exit codes: 0 shown, 1 the repository cannot be read, 2 usage.\n";

struct args {
	const char *repo;
	unsigned flags;
	bool text;
	struct ams_image_ref *images;
	size_t nr_images;
};

/* "--name VALUE" or "--name=VALUE": *value set, *i advanced. */
static int opt_value(const char **value, int argc, char **argv, int *i,
		     const char *name)
{
	size_t len = strlen(name);
	const char *arg = argv[*i];

	if (strncmp(arg, name, len))
		return 0;
	if (arg[len] == '=') {
		*value = arg + len + 1;
		return 1;
	}
	if (arg[len])
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*value = argv[++*i];
	return 1;
}

static int add_image(struct args *a, const char *arg)
{
	const char *colon = strchr(arg, ':');
	struct ams_image_ref *img;
	char *region;

	if (!colon)
		return ams_cmd_usage_error(
		    "provenance", "--ami '%s': expected REGION:AMI_ID", arg);
	region = xstrndup(arg, (size_t)(colon - arg));
	if (!ams_intoto_region_valid(region) ||
	    !ams_intoto_ami_id_valid(colon + 1)) {
		free(region);
		return ams_cmd_usage_error(
		    "provenance",
		    "--ami '%s': expected REGION:AMI_ID like "
		    "us-east-1:ami-0123456789abcdef0",
		    arg);
	}
	a->images =
	    xreallocarray(a->images, a->nr_images + 1, sizeof(*a->images));
	img = &a->images[a->nr_images++];
	memset(img, 0, sizeof(*img));
	img->region = region;
	img->ami_id = xstrdup(colon + 1);
	img->origin = xstrdup("--ami");
	return AMS_EXIT_OK;
}

static int set_output(struct args *a, const char *v)
{
	if (strcmp(v, "json") && strcmp(v, "text"))
		return ams_cmd_usage_error("provenance",
					   "--output '%s': expected 'json' or "
					   "'text'",
					   v);
	a->text = !strcmp(v, "text");
	return AMS_EXIT_OK;
}

static int parse_one(struct args *a, int argc, char **argv, int *i)
{
	const char *arg = argv[*i];
	const char *v = NULL;
	int r;

	if (!strcmp(arg, "--no-dirty-check")) {
		a->flags |= AMS_PROVENANCE_NO_DIRTY_CHECK;
		return AMS_EXIT_OK;
	}
	r = opt_value(&v, argc, argv, i, "--repo");
	if (r > 0) {
		a->repo = v;
		return AMS_EXIT_OK;
	}
	if (!r) {
		r = opt_value(&v, argc, argv, i, "--ami");
		if (r > 0)
			return add_image(a, v);
	}
	if (!r) {
		r = opt_value(&v, argc, argv, i, "--output");
		if (r > 0)
			return set_output(a, v);
	}
	if (r < 0)
		return ams_cmd_usage_error("provenance", "'%s' needs a value",
					   arg);
	if (arg[0] == '-')
		return ams_cmd_usage_error("provenance", "unknown option '%s'",
					   arg);
	return ams_cmd_usage_error("provenance", "unexpected argument '%s'",
				   arg);
}

static int parse_args(struct args *a, int argc, char **argv)
{
	struct stat st;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		rc = parse_one(a, argc, argv, &i);
		if (rc)
			return rc;
	}
	if (i + 1 < argc)
		return ams_cmd_usage_error(
		    "provenance", "unexpected argument '%s'", argv[i + 1]);
	if (a->repo && stat(a->repo, &st))
		return ams_cmd_usage_error("provenance",
					   "--repo '%s': no such file or "
					   "directory",
					   a->repo);
	return AMS_EXIT_OK;
}

static void line(struct ams_buf *sb, const char *label, const char *fmt, ...)
    AMS_PRINTF(3, 4);

static void line(struct ams_buf *sb, const char *label, const char *fmt, ...)
{
	va_list ap;

	ams_buf_addf(sb, "%-12s ", label);
	va_start(ap, fmt);
	ams_buf_vaddf(sb, fmt, ap);
	va_end(ap);
	ams_buf_addch(sb, '\n');
}

static void text_git(struct ams_buf *sb, const struct ams_provenance *p)
{
	const struct ams_git_info *gi = &p->git;

	if (gi->root)
		line(sb, "repository", "%s", gi->root);
	if (gi->state != AMS_GIT_OK)
		line(sb, "git", "%s", gi->reason);
	if (p->repository_url)
		line(sb, "remote", "%s (from %s)", p->repository_url,
		     ams_provenance_from_name(p->repository_from));
	if (p->commit)
		line(sb, "commit", "%s (from %s)", p->commit,
		     ams_provenance_from_name(p->commit_from));
	if (gi->short_commit)
		line(sb, "short", "%s, committed %s", gi->short_commit,
		     gi->commit_time);
	if (gi->subject)
		line(sb, "subject", "%s", gi->subject);
	if (p->branch)
		line(sb, "branch", "%s (from %s)", p->branch,
		     ams_provenance_from_name(p->branch_from));
	else if (gi->detached)
		line(sb, "branch", "none: HEAD is detached");
	if (gi->tag && gi->tag_distance)
		line(sb, "tag", "%s, %lu commit%s behind HEAD", gi->tag,
		     gi->tag_distance, gi->tag_distance == 1 ? "" : "s");
	else if (gi->tag)
		line(sb, "tag", "%s (HEAD is at the tag)", gi->tag);
	if (gi->state == AMS_GIT_OK)
		line(sb, "work tree", "%s%s", ams_git_dirty_name(gi->dirty),
		     gi->dirty == AMS_GIT_DIRTY_UNKNOWN ? " (not checked)"
							: "");
}

static void text_summary(struct ams_buf *sb, const struct ams_provenance *p,
			 const struct args *a)
{
	const struct ams_ci_env *ci = &p->ci;
	size_t i;

	text_git(sb, p);
	if (ci->system != AMS_CI_NONE)
		line(sb, "ci", "%s%s%s", ci->system_name,
		     ci->run_url ? ", run " : "",
		     ci->run_url ? ci->run_url : "");
	if (p->packer.name || p->packer.run_uuid)
		line(sb, "packer", "build %s (%s), run %s",
		     p->packer.name ? p->packer.name : "?",
		     p->packer.builder_type ? p->packer.builder_type : "?",
		     p->packer.run_uuid ? p->packer.run_uuid : "?");
	for (i = 0; i < a->nr_images; i++)
		line(sb, "image", "arn:%s:ec2:%s::image/%s",
		     ams_intoto_partition(a->images[i].region),
		     a->images[i].region, a->images[i].ami_id);
	for (i = 0; i < p->nr_warnings; i++)
		line(sb, "warning", "%s", p->warnings[i]);
}

static int run(const struct args *a)
{
	struct ams_provenance prov;
	struct ams_intoto_opts opts;
	struct ams_err err = AMS_ERR_INIT;
	struct ams_buf out = AMS_BUF_INIT;
	enum ams_code rc;

	rc = ams_provenance_collect(&prov, a->repo ? a->repo : ".", a->flags,
				    ams_ci_env_getenv_process, NULL, &err);
	if (!rc && a->text) {
		text_summary(&out, &prov, a);
	} else if (!rc) {
		memset(&opts, 0, sizeof(opts));
		opts.images = a->images;
		opts.nr_images = a->nr_images;
		opts.pretty = true;
		rc = ams_intoto_statement(&out, &prov, &opts, &err);
	}
	if (rc)
		fprintf(stderr, "amishare: error: %s\n", err.msg);
	else
		fwrite(out.buf, 1, out.len, stdout);
	ams_buf_release(&out);
	ams_provenance_release(&prov);
	if (!rc)
		return AMS_EXIT_OK;
	return rc == AMS_EUSAGE ? AMS_EXIT_USAGE : AMS_EXIT_FAILED;
}

static int cmd_provenance(int argc, char **argv)
{
	struct args a;
	int rc;

	memset(&a, 0, sizeof(a));
	rc = parse_args(&a, argc, argv);
	if (!rc)
		rc = run(&a);
	ams_image_refs_free(a.images, a.nr_images);
	return rc;
}

const struct ams_cmd ams_cmd_provenance = {
	"provenance", cmd_provenance,
	"show where an image comes from (git, CI, Packer) as in-toto", usage,
	NULL
};
