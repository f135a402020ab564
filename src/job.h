/*
 * The share job: what to share with whom, what is observed in AWS, and
 * what happened, per region and per (region, account) item.
 *
 * One model serves every command. `share` reads the source and target
 * state and writes what is missing; `plan` does the same reads and
 * records the writes it would make; `verify` does the reads and counts
 * every missing write as drift. The report and the human summary are
 * rendered from this model (report.h).
 */
#ifndef AMS_JOB_H
#define AMS_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "strset.h"
#include "tags.h"

enum ams_job_mode {
	AMS_JOB_SHARE = 0,
	AMS_JOB_PLAN,
	AMS_JOB_VERIFY,
};

/* What to do about customer KMS keys of encrypted snapshots. */
enum ams_kms_mode {
	AMS_KMS_NONE = 0, /* only refuse AWS managed keys */
	AMS_KMS_CHECK,	  /* report targets without a grant */
	AMS_KMS_GRANTS,	  /* create a named grant per key and target */
};

enum ams_outcome {
	AMS_OUT_PENDING = 0, /* not decided yet (becomes UNKNOWN at a stop) */
	AMS_OUT_OK,	     /* true in AWS (written now or already there) */
	AMS_OUT_FAILED,	     /* AWS or transport error; err says which */
	AMS_OUT_SKIPPED,     /* not attempted; skip_reason says why */
	AMS_OUT_UNKNOWN,     /* interrupted while in flight */
};

/* "ok", "failed", "skipped", "unknown", "pending". */
const char *ams_outcome_name(enum ams_outcome o);

struct ams_job_config {
	enum ams_job_mode mode;
	/*
	 * Undo instead of do: delete the tags and parameters amishare
	 * manages in the targets, revoke its grants, remove the launch and
	 * snapshot permissions. plan and verify look at it the same way.
	 */
	bool revoke;
	/* Targets. */
	char **accounts;
	size_t nr_accounts;
	char **exclude_accounts; /* also applied to org/OU members */
	size_t nr_exclude_accounts;
	char **org_arns;
	size_t nr_org_arns;
	char **ou_arns;
	size_t nr_ou_arns;
	char *org_role_arn;	 /* lists org/OU members when set */
	char *role_arn_template; /* with {account} and {partition} */
	char *external_id;	 /* secret-ish: never printed */
	char *session_name;
	unsigned duration_s; /* AssumeRole DurationSeconds; 0 = default */
	/* Tagging. */
	bool copy_tags;
	char **include_tags;
	size_t nr_include_tags;
	char **exclude_tags;
	size_t nr_exclude_tags;
	struct ams_tags extra_tags; /* --tag, placeholders expanded */
	struct ams_tags provenance_tags;
	char *provenance_prefix; /* keys revoke may delete whatever value */
	/* Beyond tags. */
	enum ams_kms_mode kms_mode;
	char *ssm_parameter;  /* parameter holding the AMI id in targets */
	int64_t deprecate_at; /* EnableImageDeprecation; 0 = not asked */
	/* Sharing. */
	bool share_snapshots;
	bool allow_public;
	bool preflight; /* plan: prove permissions with DryRun */
	/* Engine. */
	unsigned parallel;
	unsigned visibility_wait_s; /* NotFound window after a share */
	unsigned timeout_ms;	    /* per HTTP attempt; 0 = engine default */
};

/* One regional AMI of the build, in the source account. */
struct ams_job_region {
	char *region;
	char *ami_id;
	char *build;  /* build name, or NULL */
	char *origin; /* where the pair came from, for messages */
	/* Observed in the source account. */
	bool found;
	char *name;
	char *state;
	bool is_public;
	struct ams_tags source_tags;
	char **snapshots;
	size_t nr_snapshots;
	/* Launch permissions before the run, and what the run adds. */
	char **perms_before; /* "user:ID", "org:ARN", "ou:ARN", "group:all" */
	size_t nr_perms_before;
	char **perms_added; /* same form; written (or to write) */
	size_t nr_perms_added;
	char **snapshot_perms_added; /* "snap-...:ACCOUNT" */
	size_t nr_snapshot_perms_added;
	char **perms_removed; /* revoke: launch permissions taken away */
	size_t nr_perms_removed;
	/* Customer KMS keys of encrypted snapshots (key ARNs). */
	char **kms_keys;
	size_t nr_kms_keys;
	int64_t deprecation_time; /* observed; 0 = none */
	/* Tags every target gets in this region (filters applied). */
	struct ams_tags desired;
	/* Outcome of the source-side steps. */
	enum ams_outcome describe;
	enum ams_outcome share;
	enum ams_outcome snapshot_share;
	enum ams_outcome kms;	      /* key checks and grants */
	enum ams_outcome deprecation; /* PENDING when not asked */
	struct ams_err err;	      /* first source-side error */
	const char *failed_step;
	unsigned api_calls;
};

/* One target account. */
struct ams_job_account {
	char *id;
	char *role_arn;
	const char *via; /* "account", or the org/OU ARN it came from */
	enum ams_outcome assume;
	struct ams_err
	    *assume_err; /* why AssumeRole failed; NULL: it did not */
	void *identity;	 /* the assumed identity, owned by the runner */
};

/* One (region, account) pair: the shared AMI as the target sees it. */
struct ams_job_item {
	size_t region;	/* index into job->regions */
	size_t account; /* index into job->accounts */
	enum ams_outcome status;
	const char *skip_reason; /* static text */
	const char *failed_step; /* "assume-role", "describe-images", ... */
	/*
	 * Why it failed or stopped; NULL until then. Out of line: a run at
	 * organisation scale holds thousands of items and few fail.
	 */
	struct ams_err *err;
	bool visible;	      /* the target can see the AMI */
	unsigned tags_before; /* how many tags the target had */
	/*
	 * What CreateTags carried (or would): bit i stands for the region's
	 * desired.v[i], which holds at most AMS_EC2_MAX_TAGS_PER_RESOURCE.
	 */
	uint64_t written;
	bool unchanged;		 /* nothing needed writing */
	struct ams_tags removed; /* revoke: tags deleted (or to delete) */
	enum ams_outcome kms;	 /* grants for this account; PENDING: n/a */
	unsigned kms_grants;	 /* grants created (or to create) */
	enum ams_outcome ssm;	 /* the parameter; PENDING: not asked */
	bool ssm_unchanged;
	unsigned attempts; /* HTTP attempts for this item */
	/*
	 * A write of this item reached the wire (it may have been in flight
	 * when a stop abandoned it): an interrupted item is then unknown,
	 * not skipped.
	 */
	bool writes_sent;
	uint64_t started_ms; /* monotonic */
	uint64_t finished_ms;
};

struct ams_job_stats {
	unsigned long api_calls;
	unsigned long writes;
	unsigned long retries;
	unsigned long throttled;
	unsigned long connections;
};

struct ams_job {
	struct ams_job_config cfg;
	struct ams_job_region *regions;
	size_t nr_regions;
	struct ams_job_account *accounts;
	size_t nr_accounts, alloc_accounts;
	struct ams_strset account_ids; /* the ids in accounts, borrowed */
	struct ams_job_item *items; /* nr_regions * nr_accounts, region-major */
	size_t nr_items;
	struct ams_job_stats stats;
	/* Listing org/OU members (when --org-role is given). */
	struct ams_err org_err;
	const char *org_step;
	size_t org_accounts; /* accounts found through orgs and OUs */
	char *source_account;
	char *source_arn;
	char *partition;
	int64_t started_at; /* wall clock, epoch seconds */
	int64_t finished_at;
	uint64_t duration_ms;
	bool interrupted;
};

/* Frees every owned field of the config. */
void ams_job_config_release(struct ams_job_config *cfg);

/*
 * Sets up regions from the image list (copied) and accounts from
 * cfg->accounts, in order; takes over cfg (the caller's copy is zeroed).
 */
struct ams_image_ref;
void ams_job_init(struct ams_job *job, struct ams_job_config *cfg,
		  const struct ams_image_ref *images, size_t nr_images);
/*
 * Adds a target account (deduplicated; returns false when it was there).
 * via is borrowed and must outlive the job.
 */
bool ams_job_add_account(struct ams_job *job, const char *id, const char *via);
/* Allocates the items once every account is known. */
void ams_job_make_items(struct ams_job *job);
void ams_job_release(struct ams_job *job);

struct ams_job_item *ams_job_item(struct ams_job *job, size_t region,
				  size_t account);
/* How many tags it->written names. */
size_t ams_job_item_nr_written(const struct ams_job_item *it);
/* The item's error record, allocated (empty) on first use. */
struct ams_err *ams_job_item_err(struct ams_job_item *it);
/* The item's error for reading: an empty record when it has none. */
const struct ams_err *ams_job_item_err_of(const struct ams_job_item *it);

/* "ok", "partial" or "failed" over every item and source step. */
const char *ams_job_status(const struct ams_job *job);
/* Whether everything asked for is true in AWS (exit code 0). */
bool ams_job_all_ok(const struct ams_job *job);

/*
 * Expands a role ARN template: {account} and {partition}. Unknown
 * placeholders are AMS_EUSAGE naming them.
 */
enum ams_code ams_job_role_arn(char **out, const char *tmpl,
			       const char *account, const char *partition,
			       struct ams_err *err);

/* Computes region->desired from its source tags and the config. */
void ams_job_desired_tags(struct ams_tags *out,
			  const struct ams_job_config *cfg,
			  const struct ams_tags *source_tags);

#endif
