/*
 * What a run did, for machines (a versioned JSON document) and for
 * people (a summary table and, for plan, the list of writes).
 *
 * The JSON schema is documented in README.md ("Report"); its top-level
 * "schema_version" changes only when a field changes meaning.
 */
#ifndef AMS_REPORT_H
#define AMS_REPORT_H

#include <stdio.h>

#include "buf.h"
#include "err.h"
#include "job.h"

#define AMS_REPORT_SCHEMA_VERSION 1

struct ams_json_writer;

/* Writes the "provenance" member's value (an object). */
typedef void(ams_report_provenance_fn)(struct ams_json_writer *w,
				       void *payload);

struct ams_report_meta {
	const char *command; /* "share", "plan", "verify" */
	const char *manifest_path;
	const char *run_uuid;
	const char *build_name;
	ams_report_provenance_fn *provenance; /* NULL: "provenance": null */
	void *provenance_payload;
};

/* Appends the JSON report (compact, newline-terminated). */
void ams_report_json(struct ams_buf *out, const struct ams_job *job,
		     const struct ams_report_meta *meta);
/*
 * Writes the JSON report to path atomically with mode 0600: it names
 * accounts and roles.
 */
enum ams_code ams_report_write(const char *path, const struct ams_job *job,
			       const struct ams_report_meta *meta,
			       struct ams_err *err);
/* The human summary: a headline, then a row per (region, account). */
void ams_report_text(struct ams_buf *out, const struct ams_job *job,
		     const struct ams_report_meta *meta);

#endif
