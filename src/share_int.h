/*
 * Internals shared by the share runner's files: share.c (the flow),
 * share_orgs.c (org and OU members), share_kms.c (keys of encrypted
 * snapshots), share_ssm.c (the AMI id parameter in targets).
 */
#ifndef AMS_SHARE_INT_H
#define AMS_SHARE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "aws.h"
#include "ec2.h"
#include "job.h"
#include "share.h"

struct ams_creds_provider;
struct share_kms_key;

struct share_region {
	unsigned reads_pending;	      /* phase 1 calls outstanding */
	unsigned writes_pending;      /* source writes outstanding */
	unsigned snap_writes_pending; /* ModifySnapshotAttribute calls */
	unsigned items_pending;	      /* revoke: targets not done */
	struct ams_ec2_perms perms;   /* launch permissions before */
	struct ams_ec2_perms *snaps;  /* createVolumePermission per snapshot */
	bool snap_failed;
	bool snap_unknown;	    /* a snapshot write abandoned by a stop */
	bool snap_skipped;	    /* one a stop canceled before sending */
	struct share_kms_key *keys; /* parallel to the region's kms_keys */
	bool targets_started;
	size_t next_account; /* the next target to start in this region */
};

struct share_runner {
	struct ams_job *job;
	const struct ams_share_env *env;
	struct ams_http *http;
	struct share_region *rs;
	struct ams_creds_provider **providers; /* per account, lazily */
	size_t nr_providers;
	/*
	 * Per account, its items not settled yet. An account whose items
	 * have all settled has its credentials wiped and freed at the next
	 * turn of the engine (finished[]), so they live only while needed.
	 */
	unsigned *items_left;
	size_t *finished;
	size_t nr_finished;
	struct ams_creds_provider *org_provider;
	size_t items_done, items_failed;
	bool stopped;
	/*
	 * Targets are started a window at a time: at most `window` items
	 * have a call queued, parked or in flight, so memory follows the
	 * engine's in-flight limit, not the number of accounts.
	 */
	unsigned char *in_window; /* per item */
	size_t active, window;
	bool pumping;
};

/* What a callback needs to find its place in the job. */
struct share_call {
	struct share_runner *r;
	size_t region;
	size_t account;
	size_t index; /* snapshot or key index */
	char *text;   /* a page token, a key; owned */
};

/* A new call in region (index into job->regions, or a region name). */
struct ams_aws_call *ams_share_call_new(struct share_runner *r,
					enum ams_service svc, size_t region,
					const char *action,
					struct ams_identity *id,
					struct share_call **ctx_out);
/* Frees a call context (and its text). */
void ams_share_call_free(struct share_call *ctx);
bool ams_share_stopping(const struct share_runner *r);

void ams_share_region_fail(struct ams_job_region *reg, const char *step,
			   const struct ams_err *err);
/*
 * Fails an item. An error that is the engine's stop (AMS_ECANCELED while
 * stopping) makes the item unknown if a write of it reached the wire,
 * else skipped: nothing is reported failed that may have happened.
 */
void ams_share_item_fail(struct ams_job_item *it, const char *step,
			 const struct ams_err *err);
/* Whether err is the cancellation of a call by an interruption. */
bool ams_share_canceled(const struct share_runner *r,
			const struct ams_err *err);
/*
 * The outcome of a source-side write that a stop canceled: unknown once
 * it was sent (res->attempts), else skipped.
 */
enum ams_outcome ams_share_canceled_outcome(const struct ams_aws_result *res);
/*
 * A write call finished: one a stop canceled before it was sent is taken
 * back from the write count. Call it from every write's callback.
 */
void ams_share_write_done(struct share_runner *r,
			  const struct ams_aws_result *res);
/* Records that a write call of the item was sent (res->attempts > 0). */
void ams_share_item_wrote(struct ams_job_item *it,
			  const struct ams_aws_result *res);
/* Ends an item whose own steps succeeded (a failed grant still fails it). */
void ams_share_item_ok(struct share_runner *r, struct ams_job_item *it);
/* The identity of target account a, assuming its role on first use. */
struct ams_identity *ams_share_account_identity(struct share_runner *r,
						size_t a, struct ams_err *err);
char **ams_share_strv_push(char **v, size_t *n, const char *s);

/* Org and OU members (share_orgs.c): adds accounts to the job. */
void ams_share_orgs_expand(struct share_runner *r);

/* KMS (share_kms.c). */
void ams_share_kms_read(struct share_runner *r, size_t region);
/* Starts the grants of a shared region; calls back when all are done. */
void ams_share_kms_grants(struct share_runner *r, size_t region,
			  void (*then)(struct share_runner *, size_t));
/* Revoke: removes the grants amishare created for the targets. */
void ams_share_kms_revoke(struct share_runner *r, size_t region);
void ams_share_kms_release(struct share_runner *r, size_t region);

/* SSM (share_ssm.c): the parameter step of one item, then item_ok. */
void ams_share_ssm_item(struct share_runner *r, size_t region, size_t a);

#endif
