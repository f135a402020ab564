/*
 * Packer manifest.json (the `manifest` post-processor) and AMI lists.
 *
 * A manifest accumulates builds across runs:
 *   {"builds": [{"name", "builder_type", "build_time", "artifact_id",
 *                "packer_run_uuid", "custom_data"}, ...],
 *    "last_run_uuid": "..."}
 * For an AMI builder, artifact_id is "region:ami-id,region:ami-id".
 * Parsing is pure; selection picks the current run's builds.
 */
#ifndef AMS_MANIFEST_H
#define AMS_MANIFEST_H

#include <stddef.h>

#include "err.h"

/* One regional AMI, with where it came from for error messages. */
struct ams_image_ref {
	char *region;
	char *ami_id;
	char *origin; /* "manifest.json: builds[2].artifact_id", "--ami" */
	char *build;  /* build name, or NULL */
};

struct ams_kv {
	char *key;
	char *value;
};

struct ams_manifest_build {
	size_t index; /* position in the file's builds array */
	char *name;
	char *builder_type;
	long long build_time; /* epoch seconds; 0 when absent */
	char *artifact_id;
	char *packer_run_uuid;
	struct ams_kv *custom_data;
	size_t nr_custom_data;
};

struct ams_manifest {
	char *path;
	char *last_run_uuid;
	struct ams_manifest_build *builds;
	size_t nr_builds;
};

/*
 * Parses a manifest document. path only names the file in errors. On
 * failure *out is left empty and err says which field is wrong:
 * "manifest 'p': builds[1].artifact_id: expected a string".
 */
enum ams_code ams_manifest_parse(struct ams_manifest *out, const char *path,
				 const char *buf, size_t len,
				 struct ams_err *err);
/* Reads and parses the file (at most 64 MiB). */
enum ams_code ams_manifest_load(struct ams_manifest *out, const char *path,
				struct ams_err *err);
void ams_manifest_release(struct ams_manifest *m);

/*
 * Selects the builds of one run: run_uuid, else the manifest's
 * last_run_uuid; then, if build_name is non-NULL, only builds of that
 * name. *out receives borrowed pointers into m (free the array only).
 * No match is AMS_EUSAGE with a message listing what the file holds.
 */
enum ams_code ams_manifest_select(const struct ams_manifest_build ***out,
				  size_t *nr_out, const struct ams_manifest *m,
				  const char *run_uuid, const char *build_name,
				  struct ams_err *err);

/*
 * Splits an artifact id "r1:ami-a,r2:ami-b" into image refs appended to
 * *images (grown with xreallocarray). origin and build are copied into
 * each ref. Syntax only: region and AMI id formats are checked by the
 * caller's validation. An empty or malformed list is AMS_EUSAGE naming
 * origin.
 */
enum ams_code ams_artifact_parse(struct ams_image_ref **images, size_t *nr,
				 const char *artifact_id, const char *origin,
				 const char *build, struct ams_err *err);

void ams_image_ref_release(struct ams_image_ref *ref);
void ams_image_refs_free(struct ams_image_ref *refs, size_t nr);

#endif
