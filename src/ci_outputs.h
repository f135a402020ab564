/*
 * CI-native outputs of a share, plan or verify run: what the pipeline
 * around amishare reads, rendered from the job model like the report.
 *
 *  - GitHub Actions (GITHUB_ACTIONS=true): step outputs appended to the
 *    file named by GITHUB_OUTPUT, a markdown summary appended to
 *    GITHUB_STEP_SUMMARY, and one workflow command line (::error or
 *    ::warning) per failed or interrupted item on the annotation stream;
 *  - a dotenv file for GitLab's artifacts:reports:dotenv, written when a
 *    path is given (--dotenv, AMISHARE_DOTENV) whatever the CI;
 *  - everywhere else the JSON report and the exit code say it all.
 *
 * GitHub step outputs (one per line, or in the heredoc form
 * "name<<DELIM" when a value holds a line break):
 *
 *   status      ok, partial or failed (as the report)
 *   command     share, plan, verify or revoke
 *   exit_code   the code amishare exits with
 *   amis        JSON object, region to AMI id: {"us-east-1":"ami-..."}
 *   ami_<region>  one per region, '-' as '_': ami_us_east_1=ami-...
 *   images, accounts, items, ok, failed, skipped, unknown, writes
 *   report      the --report path (only when one was given)
 *
 * A region holding several AMIs of the run (several builds) maps to
 * their ids joined by ','.
 *
 * The dotenv file holds the same facts under AMISHARE_RESULT_* names
 * (AMISHARE_RESULT_STATUS, AMISHARE_RESULT_AMIS,
 * AMISHARE_RESULT_AMI_US_EAST_1, ...): names that can never be read back
 * as AMISHARE_<OPTION> settings by a later amishare run in the same
 * pipeline. GitLab accepts single-line KEY=VALUE lines only, at most
 * AMS_CI_DOTENV_MAX_VARS variables and fewer than AMS_CI_DOTENV_MAX_BYTES
 * bytes: per-region variables are left out as a whole when they do not
 * all fit, and a value that cannot be written on one line is left out;
 * each omission is reported as a note.
 *
 * Everything written passes through the log's secret redaction first.
 */
#ifndef AMS_CI_OUTPUTS_H
#define AMS_CI_OUTPUTS_H

#include <stdbool.h>
#include <stdio.h>

#include "buf.h"
#include "ci_env.h"
#include "err.h"
#include "job.h"

/* GitLab's default limits for a dotenv report. */
#define AMS_CI_DOTENV_MAX_BYTES 5120 /* the file must be smaller */
#define AMS_CI_DOTENV_MAX_VARS 20
/* GitHub refuses a step summary over 1 MiB; stay well below. */
#define AMS_CI_SUMMARY_MAX_BYTES (512u * 1024)
/* GitHub shows 10 error annotations per step; more are noise. */
#define AMS_CI_MAX_ANNOTATIONS 50

struct ams_ci_outputs {
	const char *report_path; /* --report, or NULL */
	const char *dotenv_path; /* --dotenv or AMISHARE_DOTENV, or NULL */
	int exit_code;		 /* what the run exits with */
	ams_ci_getenv_fn *get;	 /* reads GITHUB_ACTIONS, GITHUB_OUTPUT, ... */
	void *payload;
	FILE *annotations; /* where workflow commands go (stderr) */
};

/*
 * Writes every output that applies to the environment: on GitHub
 * Actions the step outputs, summary and annotations; the dotenv file
 * when o->dotenv_path is set. Appends to the GitHub files (other tools
 * of the step may write them too); writes the dotenv file atomically.
 * Notes about values left out of the dotenv file go to the log as
 * warnings. Every output is attempted; the first failure is returned
 * (AMS_EIO naming the file).
 */
enum ams_code ams_ci_outputs_write(const struct ams_job *job,
				   const struct ams_ci_outputs *o,
				   struct ams_err *err);

/*
 * The same for the process: the environment from getenv, annotations on
 * stderr. dotenv_path is the --dotenv option (which the option layers
 * also fill from AMISHARE_DOTENV), or NULL.
 */
enum ams_code ams_ci_outputs_emit(const struct ams_job *job,
				  const char *report_path,
				  const char *dotenv_path, int exit_code,
				  struct ams_err *err);

/*
 * Renderers, each appending to out. They redact error messages before
 * escaping them (an escaped secret would no longer match the redaction
 * list); the writers above redact the whole text again.
 */

/* "share", "plan", "verify", or "revoke" (share undoing itself). */
const char *ams_ci_command_name(const struct ams_job *job);

/* Workflow command data: % CR LF as %25 %0D %0A. */
void ams_ci_gh_escape_data(struct ams_buf *out, const char *s);
/* Workflow command property: as data, and : , as %3A %2C. */
void ams_ci_gh_escape_property(struct ams_buf *out, const char *s);
/*
 * One GITHUB_OUTPUT entry: "name=value\n", or when value holds CR or LF
 * "name<<DELIM\nvalue\nDELIM\n" with a delimiter that does not occur in
 * value. value NULL is written as "".
 */
void ams_ci_gh_output(struct ams_buf *out, const char *name, const char *value);
/*
 * A step output or variable name from a prefix and a region:
 * ("ami_", "us-east-1", false) -> "ami_us_east_1"; upper true gives
 * "AMI_US_EAST_1" (prefix copied as is). Characters other than ASCII
 * letters and digits become '_'.
 */
void ams_ci_var_name(struct ams_buf *out, const char *prefix,
		     const char *region, bool upper);
/* {"region":"ami-...",...} in job order, several AMIs joined by ','. */
void ams_ci_amis_json(struct ams_buf *out, const struct ams_job *job);
/* Every GitHub step output of the run (see above). */
void ams_ci_gh_outputs(struct ams_buf *out, const struct ams_job *job,
		       const char *report_path, int exit_code);
/*
 * A markdown table cell: line breaks and tabs become spaces, & < > as
 * entities, and \ ` * _ [ ] | ~ escaped with a backslash.
 */
void ams_ci_md_cell(struct ams_buf *out, const char *s);
/*
 * The step summary: a headline, a failed listing of organization
 * members, a table of the source images, and a table of (region,
 * account) results, problems first. Rows that would take it past
 * max_bytes are counted in a closing line instead.
 */
void ams_ci_gh_summary(struct ams_buf *out, const struct ams_job *job,
		       size_t max_bytes);
/*
 * One "::error title=...::message" line for a failed listing of
 * organization members, per failed source image and per failed item,
 * "::warning" for an interrupted item; at most max_lines, then one line
 * counting the rest.
 */
void ams_ci_gh_annotations(struct ams_buf *out, const struct ams_job *job,
			   size_t max_lines);
/*
 * Whether value can be a GitLab dotenv value: no control characters, no
 * leading or trailing blank, no leading quote (GitLab keeps quotes).
 */
bool ams_ci_dotenv_value_ok(const char *value);
/*
 * The dotenv file (see above). Each note (a value left out, and why) is
 * one line appended to notes.
 */
void ams_ci_dotenv(struct ams_buf *out, struct ams_buf *notes,
		   const struct ams_job *job, const char *report_path,
		   int exit_code);

#endif
