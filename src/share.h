/*
 * The share runner: drives a job (job.h) against AWS on one engine.
 *
 * Phase 1 reads the source side of every regional AMI concurrently
 * (DescribeImages, DescribeImageAttribute launchPermission and, with
 * snapshot sharing, DescribeSnapshotAttribute); the tags each target gets
 * are then fixed and checked before anything is written. Phase 2 shares
 * each regional AMI (one ModifyImageAttribute carrying every missing
 * account, organization and OU) and, as soon as a region's share is in
 * place, reads and tags the AMI in every target account of that region
 * through a role assumed once per account (its credentials reused across
 * regions). Nothing already true in AWS is written again, so a rerun of a
 * finished job makes no writes.
 *
 * One failing account or region never stops the others: every item ends
 * ok, failed (with step, AWS code, message and request id) or skipped.
 */
#ifndef AMS_SHARE_H
#define AMS_SHARE_H

#include "err.h"
#include "job.h"

struct ams_aws;
struct ams_identity;

/* Called as items finish: done of total, failed among them. */
typedef void(ams_share_progress_fn)(size_t done, size_t total, size_t failed,
				    void *payload);

struct ams_share_env {
	struct ams_aws *aws;	     /* borrowed */
	struct ams_identity *source; /* the build account's identity */
	const char *sts_region;	     /* Region of the STS calls */
	/* Set from a signal handler to stop admitting work (may be NULL). */
	volatile int *stop_flag;
	ams_share_progress_fn *progress; /* may be NULL */
	void *progress_payload;
};

/*
 * Runs the job. Returns AMS_OK when the run completed (items may still
 * have failed: see ams_job_all_ok), AMS_EUSAGE when the source state
 * makes the request invalid before any write (e.g. more than 50 tags to
 * write; err says which and nothing was changed), or AMS_ENET when the
 * engine itself failed.
 */
enum ams_code ams_share_run(struct ams_job *job,
			    const struct ams_share_env *env,
			    struct ams_err *err);

#endif
