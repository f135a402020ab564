/*
 * Client-side rate limiting and the retry quota.
 *
 * struct ams_rate_bucket mirrors EC2's own throttling model
 * (aws-behaviour.md §8): a token bucket per account, Region and API
 * action, with a capacity and a refill rate; each request takes one token.
 * Taking is a reservation: a request that finds the bucket empty is given
 * the time at which its token will exist, and waits in the engine's queue
 * (not in flight) until then. N requests through a full bucket of
 * capacity C refilled at R tokens/s therefore take (N - C) / R seconds,
 * evenly paced, so a fan-out to many accounts does not throttle itself.
 *
 * struct ams_retry_quota is the SDK "standard" retry quota (§13): a
 * client-wide token bucket that retries pay from, so a failing endpoint
 * cannot turn every request into max_attempts requests.
 *
 * struct ams_ratelimit is a registry that hands out stable pointers to
 * buckets and quotas by key, so callers share them without owning them.
 */
#ifndef AMS_RATELIMIT_H
#define AMS_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ams_rate_bucket {
	double capacity;
	double refill_per_s;
	double tokens; /* may be negative: reservations not yet covered */
	uint64_t last_ms;
};

/*
 * Starts full at now_ms. refill_per_s must be > 0; capacity >= 1.
 */
void ams_rate_bucket_init(struct ams_rate_bucket *b, double capacity,
			  double refill_per_s, uint64_t now_ms);
/*
 * Reserves one token at now_ms and returns how many milliseconds from
 * now_ms it becomes usable: 0 when one was available. Rounded up, so
 * waiting that long is always enough.
 */
uint64_t ams_rate_bucket_reserve(struct ams_rate_bucket *b, uint64_t now_ms);

/* AWS standard-mode constants (aws-behaviour.md §13). */
#define AMS_RETRY_QUOTA_CAPACITY 500
#define AMS_RETRY_COST 5
#define AMS_RETRY_TIMEOUT_COST 10
#define AMS_RETRY_NO_RETRY_REFUND 1

struct ams_retry_quota {
	unsigned capacity; /* 0: unlimited (acquire always succeeds) */
	unsigned available;
};

void ams_retry_quota_init(struct ams_retry_quota *q, unsigned capacity);
/* Takes cost units; false (and nothing taken) when fewer are left. */
bool ams_retry_quota_acquire(struct ams_retry_quota *q, unsigned cost);
/* Gives back amount units, never above capacity. */
void ams_retry_quota_release(struct ams_retry_quota *q, unsigned amount);

struct ams_ratelimit;

struct ams_ratelimit *ams_ratelimit_new(void);
/* Frees the registry and every bucket and quota in it. NULL is fine. */
void ams_ratelimit_free(struct ams_ratelimit *rl);
/*
 * The bucket named key (copied), created full at now_ms with capacity and
 * refill_per_s on first use; later calls return the same bucket whatever
 * they pass. The pointer stays valid until ams_ratelimit_free().
 */
struct ams_rate_bucket *ams_ratelimit_bucket(struct ams_ratelimit *rl,
					     const char *key, double capacity,
					     double refill_per_s,
					     uint64_t now_ms);
/* The retry quota named key, created with capacity on first use. */
struct ams_retry_quota *ams_ratelimit_quota(struct ams_ratelimit *rl,
					    const char *key, unsigned capacity);
/* Number of buckets plus quotas held (for tests and memory figures). */
size_t ams_ratelimit_size(const struct ams_ratelimit *rl);

#endif
