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
 * Buckets also adapt to throttling (the idea of the SDKs' "adaptive"
 * mode, §13, in a simpler form): a throttling answer lowers the bucket's
 * rate by 0.7, at most once per congestion event (answers to attempts
 * sent before the last cut, or within half a second of it, do not cut
 * again), and a second after a cut each success raises it by a tenth of a
 * token per second (about 10 % per second) until it is back at 90 % of
 * the rate that was throttled, then by a hundredth (1 % per second), up
 * to its documented rate. A bucket for an API whose rates AWS
 * does not publish (STS, KMS, SSM, Organizations) starts unlimited; at
 * its first throttle it takes a third of the rate that succeeded over the
 * last second (which includes the server's burst) and treats half of it
 * as the rate that was throttled.
 *
 * struct ams_retry_quota is the SDK "standard" retry quota (§13): a
 * client-wide token bucket that retries pay from, so a failing endpoint
 * cannot turn every request into max_attempts requests.
 *
 * struct ams_ratelimit is a registry that hands out stable pointers to
 * buckets and quotas by key, so callers share them without owning them.
 * Each lookup takes a reference that the caller gives back with
 * ams_ratelimit_put_bucket() or _put_quota(); an entry nobody holds is
 * freed once a new one would behave the same, so a run over thousands of
 * accounts and Regions holds only the entries in use or still recovering.
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
	/* Adapting to throttling (see the file comment). */
	bool unlimited;	      /* no rate known yet: reserving never waits */
	double ceiling_per_s; /* the documented rate; 0: none */
	double full_capacity; /* the documented capacity */
	uint64_t cut_ms;      /* last throttle that lowered the rate; 0: none */
	double peak_per_s;    /* the rate that was throttled last */
	uint64_t window_ms;   /* successes counted since */
	unsigned window_ok;
};

/* Lowest rate a throttled bucket goes down to (requests per second). */
#define AMS_RATE_MIN_PER_S 0.5
/* Throttles this soon after a cut belong to the same congestion event. */
#define AMS_RATE_CUT_GAP_MS 500

/*
 * Starts full at now_ms. refill_per_s must be > 0; capacity >= 1.
 */
void ams_rate_bucket_init(struct ams_rate_bucket *b, double capacity,
			  double refill_per_s, uint64_t now_ms);
/* A bucket without a known rate: unlimited until a throttle. */
void ams_rate_bucket_init_unlimited(struct ams_rate_bucket *b, uint64_t now_ms);
/*
 * A throttling answer, at now_ms, to an attempt sent at sent_ms. Lowers
 * the rate to 0.7 times its value (an unlimited bucket: to a third of
 * the successes of the last second), never below AMS_RATE_MIN_PER_S, with a
 * burst of a tenth of a second, unless it was already lowered after
 * sent_ms or less than AMS_RATE_CUT_GAP_MS ago. Returns whether it
 * lowered the rate.
 */
bool ams_rate_bucket_throttled(struct ams_rate_bucket *b, uint64_t sent_ms,
			       uint64_t now_ms);
/* A successful answer at now_ms (counted; may raise a lowered rate). */
void ams_rate_bucket_ok(struct ams_rate_bucket *b, uint64_t now_ms);
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
 * they pass while it is held or recovering. The pointer stays valid until
 * the caller puts it back (or ams_ratelimit_free()).
 */
struct ams_rate_bucket *ams_ratelimit_bucket(struct ams_ratelimit *rl,
					     const char *key, double capacity,
					     double refill_per_s,
					     uint64_t now_ms);
/* Like ams_ratelimit_bucket() for a bucket created unlimited. */
struct ams_rate_bucket *ams_ratelimit_adaptive(struct ams_ratelimit *rl,
					       const char *key,
					       uint64_t now_ms);
/* The retry quota named key, created with capacity on first use. */
struct ams_retry_quota *ams_ratelimit_quota(struct ams_ratelimit *rl,
					    const char *key, unsigned capacity);
/*
 * Gives back one reference to a bucket or quota from the lookups above
 * (NULL is fine). An entry nobody holds is freed at once if it is at
 * rest: a documented bucket at its own rate and burst and full again, an
 * unlimited bucket that has counted no success yet, a full quota.
 * Otherwise it waits on an idle list that every put sweeps a little, and
 * a lookup of the same key meanwhile gets it back with its state. The
 * pointer must not be used after the put.
 */
void ams_ratelimit_put_bucket(struct ams_ratelimit *rl,
			      struct ams_rate_bucket *b, uint64_t now_ms);
void ams_ratelimit_put_quota(struct ams_ratelimit *rl,
			     struct ams_retry_quota *q, uint64_t now_ms);
/* Number of buckets plus quotas held (for tests and memory figures). */
size_t ams_ratelimit_size(const struct ams_ratelimit *rl);

#endif
