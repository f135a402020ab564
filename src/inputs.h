/*
 * The options shared by share, plan and verify, and their resolution
 * into a job: which AMIs (manifest or --ami), which targets, which tags.
 *
 * Resolution validates everything that can be checked without AWS and
 * reports every problem at once; nothing is sent to AWS until it passes.
 */
#ifndef AMS_INPUTS_H
#define AMS_INPUTS_H

#include <stddef.h>

#include "err.h"
#include "job.h"
#include "manifest.h"
#include "options.h"
#include "problems.h"

/* The option table of share, plan and verify. */
extern const struct ams_opt_def ams_job_opt_defs[];
extern const size_t ams_job_opt_count;

/* Looks up a {placeholder} for --tag values (see tags.h). */
struct ams_inputs;
typedef const char *(ams_inputs_placeholder_fn)(const char *name,
						void *payload);

struct ams_inputs {
	/* What was selected. */
	struct ams_image_ref *images;
	size_t nr_images;
	char *manifest_path; /* NULL when images came from --ami */
	char *run_uuid;
	char *build_name;
	const struct ams_manifest_build **builds; /* selected, borrowed */
	size_t nr_builds;
	struct ams_manifest manifest;
	/* Provenance for {build.*} and {packer.*} placeholders. */
	const struct ams_manifest_build *build; /* first selected, or NULL */
};

/*
 * Resolves the options into *cfg and *in. getenv_fn gives
 * PACKER_RUN_UUID and PACKER_BUILD_NAME. extra_lookup (may be NULL)
 * answers placeholders this module does not know ({git.*}). Problems are
 * added to *problems; returns AMS_EUSAGE when there is any.
 */
enum ams_code ams_inputs_resolve(struct ams_job_config *cfg,
				 struct ams_inputs *in,
				 const struct ams_opts *opts,
				 enum ams_job_mode mode,
				 ams_getenv_fn *getenv_fn, void *env_payload,
				 ams_inputs_placeholder_fn *extra_lookup,
				 void *lookup_payload,
				 struct ams_problems *problems);
void ams_inputs_release(struct ams_inputs *in);

/* RoleSessionName: 2-64 of [A-Za-z0-9_+=,.@-]. */
enum ams_code ams_inputs_check_session_name(const char *name,
					    struct ams_err *err);

#endif
