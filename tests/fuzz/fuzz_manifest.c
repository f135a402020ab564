/*
 * Fuzz target: the Packer manifest (manifest.h): parsing, build
 * selection (for the file's own run and for a run named by the input)
 * and the artifact lists of the selected builds.
 */
#include "fuzz.h"
#include "manifest.h"

#include <stdlib.h>

static void artifacts(const struct ams_manifest_build *const *builds, size_t n)
{
	struct ams_image_ref *refs = NULL;
	size_t nr = 0, i;

	for (i = 0; i < n; i++) {
		struct ams_err err = AMS_ERR_INIT;

		if (!builds[i]->artifact_id)
			continue;
		if (ams_artifact_parse(&refs, &nr, builds[i]->artifact_id,
				       "fuzz", builds[i]->name, &err))
			FUZZ_ASSERT(err.code && err.msg[0]);
	}
	for (i = 0; i < nr; i++)
		FUZZ_ASSERT(refs[i].region && refs[i].ami_id);
	ams_image_refs_free(refs, nr);
}

static void select_run(const struct ams_manifest *m, const char *run,
		       const char *build)
{
	const struct ams_manifest_build **sel = NULL;
	size_t n = 0;
	struct ams_err err = AMS_ERR_INIT;

	if (ams_manifest_select(&sel, &n, m, run, build, &err)) {
		FUZZ_ASSERT(err.code && err.msg[0]);
		return;
	}
	FUZZ_ASSERT(n > 0);
	artifacts(sel, n);
	free(sel);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = fuzz_copy(data, size);
	struct ams_manifest m;
	struct ams_err err = AMS_ERR_INIT;
	struct ams_image_ref *refs = NULL;
	size_t nr = 0;
	char *s;

	if (ams_manifest_parse(&m, "fuzz.json", p, size, &err)) {
		FUZZ_ASSERT(err.code && err.msg[0]);
	} else {
		select_run(&m, NULL, NULL);
		if (m.nr_builds) {
			select_run(&m, m.builds[0].packer_run_uuid,
				   m.builds[0].name);
			select_run(&m, "no-such-run", NULL);
		}
		ams_manifest_release(&m);
	}
	/* The same bytes as an --ami value. */
	s = fuzz_cstr(data, size);
	ams_err_clear(&err);
	if (ams_artifact_parse(&refs, &nr, s, "--ami", NULL, &err))
		FUZZ_ASSERT(err.code && err.msg[0]);
	ams_image_refs_free(refs, nr);
	free(s);
	free(p);
	return 0;
}
