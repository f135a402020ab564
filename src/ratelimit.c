/*
 * Token buckets with reservation, the standard-mode retry quota, and a
 * registry that hands out both by name.
 *
 * A bucket's tokens may go negative: each negative token is a request
 * that has been promised a future start time. The promise is the time at
 * which refill brings the balance back to zero, so requests queued on one
 * bucket start exactly 1/refill seconds apart once the burst capacity is
 * spent. A throttle lowers the refill rate and the burst (set_rate); the
 * tokens already promised stay promised. The registry is a chained hash
 * table whose entries are allocated one by one, so pointers handed out
 * never move. Entries are counted references: one nobody holds is freed
 * as soon as it is at rest (a new entry would behave the same), so the
 * table holds the recently used keys, not every key a run ever used.
 */
#include "ratelimit.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "xmem.h"

void ams_rate_bucket_init(struct ams_rate_bucket *b, double capacity,
			  double refill_per_s, uint64_t now_ms)
{
	memset(b, 0, sizeof(*b));
	b->capacity = capacity < 1 ? 1 : capacity;
	b->refill_per_s = refill_per_s > 0 ? refill_per_s : 1e-3;
	b->tokens = b->capacity;
	b->last_ms = now_ms;
	b->ceiling_per_s = b->refill_per_s;
	b->full_capacity = b->capacity;
	b->window_ms = now_ms;
}

void ams_rate_bucket_init_unlimited(struct ams_rate_bucket *b, uint64_t now_ms)
{
	ams_rate_bucket_init(b, 1, 1, now_ms);
	b->unlimited = true;
	b->ceiling_per_s = 0;
}

/* Sets the rate, with a burst of a tenth of a second. */
static void set_rate(struct ams_rate_bucket *b, double rate)
{
	b->refill_per_s = rate;
	b->capacity = rate / 10 < 1 ? 1 : rate / 10;
	if (b->ceiling_per_s > 0 && rate >= b->ceiling_per_s) {
		/* Back at the documented rate: its burst again. */
		b->refill_per_s = b->ceiling_per_s;
		b->capacity = b->full_capacity;
		b->cut_ms = 0;
	}
	if (b->tokens > b->capacity)
		b->tokens = b->capacity;
}

static void refill(struct ams_rate_bucket *b, uint64_t now_ms);

bool ams_rate_bucket_throttled(struct ams_rate_bucket *b, uint64_t sent_ms,
			       uint64_t now_ms)
{
	double rate, span_ms;

	/*
	 * One cut per congestion event: answers to attempts sent before the
	 * last cut, or within AMS_RATE_CUT_GAP_MS of it (still paced by
	 * reservations made at the old rate), do not cut again.
	 */
	if (b->cut_ms &&
	    (sent_ms < b->cut_ms || now_ms < b->cut_ms + AMS_RATE_CUT_GAP_MS))
		return false;
	refill(b, now_ms);
	if (b->unlimited) {
		/* Over at least a second: a burst is not a rate. */
		span_ms = (double)(now_ms - b->window_ms);
		if (span_ms < 1000)
			span_ms = 1000;
		/*
		 * What got through includes the server's burst, so the
		 * rate it refills at is taken to be at most half of it, and
		 * the limiter starts at a third, below that.
		 */
		b->peak_per_s = 0.5 * b->window_ok * 1000.0 / span_ms;
		rate = b->peak_per_s * 2 / 3;
		b->unlimited = false;
		b->tokens = 0;
	} else {
		b->peak_per_s = b->refill_per_s;
		rate = 0.7 * b->refill_per_s;
	}
	if (rate < AMS_RATE_MIN_PER_S)
		rate = AMS_RATE_MIN_PER_S;
	set_rate(b, rate);
	if (b->tokens > 0)
		b->tokens = 0;
	b->cut_ms = now_ms ? now_ms : 1;
	b->window_ms = now_ms;
	b->window_ok = 0;
	return true;
}

void ams_rate_bucket_ok(struct ams_rate_bucket *b, uint64_t now_ms)
{
	if (now_ms - b->window_ms >= 1000 && (b->unlimited || !b->cut_ms)) {
		b->window_ms = now_ms; /* count the last second only */
		b->window_ok = 0;
	}
	b->window_ok++;
	if (b->unlimited || !b->cut_ms || now_ms - b->cut_ms < 1000)
		return;
	refill(b, now_ms);
	/*
	 * About 10 % a second back towards the rate that was throttled, 1 %
	 * a second past 90 % of it: recover fast, probe gently.
	 */
	set_rate(b, b->refill_per_s +
			(b->refill_per_s < 0.9 * b->peak_per_s ? 0.1 : 0.01));
}

static void refill(struct ams_rate_bucket *b, uint64_t now_ms)
{
	double add;

	if (now_ms <= b->last_ms)
		return;
	add = (double)(now_ms - b->last_ms) * b->refill_per_s / 1000.0;
	b->tokens += add;
	if (b->tokens > b->capacity)
		b->tokens = b->capacity;
	b->last_ms = now_ms;
}

uint64_t ams_rate_bucket_reserve(struct ams_rate_bucket *b, uint64_t now_ms)
{
	double wait_ms;
	uint64_t whole;

	if (b->unlimited)
		return 0;
	refill(b, now_ms);
	b->tokens -= 1.0;
	/* Tolerate rounding dust so a fully refilled token is not late. */
	if (b->tokens >= -1e-9)
		return 0;
	wait_ms = -b->tokens * 1000.0 / b->refill_per_s - 1e-6;
	whole = (uint64_t)wait_ms;
	if ((double)whole < wait_ms)
		whole++; /* round up: waiting that long is always enough */
	return whole ? whole : 1;
}

void ams_retry_quota_init(struct ams_retry_quota *q, unsigned capacity)
{
	q->capacity = capacity;
	q->available = capacity;
}

bool ams_retry_quota_acquire(struct ams_retry_quota *q, unsigned cost)
{
	if (!q->capacity)
		return true;
	if (q->available < cost)
		return false;
	q->available -= cost;
	return true;
}

void ams_retry_quota_release(struct ams_retry_quota *q, unsigned amount)
{
	if (!q->capacity)
		return;
	if (amount > q->capacity - q->available)
		q->available = q->capacity;
	else
		q->available += amount;
}

enum entry_kind { ENTRY_BUCKET, ENTRY_QUOTA };

struct entry {
	struct entry *next; /* hash chain */
	/* On the idle list: nobody holds it, but it is not at rest yet. */
	struct entry *idle_prev, *idle_next;
	bool idle;
	enum entry_kind kind;
	unsigned refs;
	union {
		struct ams_rate_bucket bucket;
		struct ams_retry_quota quota;
	} u;
	char key[]; /* NUL-terminated */
};

struct ams_ratelimit {
	struct entry **slots;
	size_t nslots; /* power of two */
	size_t count;
	struct entry *idle_head, *idle_tail;
};

struct ams_ratelimit *ams_ratelimit_new(void)
{
	struct ams_ratelimit *rl = xcalloc(1, sizeof(*rl));

	rl->nslots = 64;
	rl->slots = xcalloc(rl->nslots, sizeof(*rl->slots));
	return rl;
}

void ams_ratelimit_free(struct ams_ratelimit *rl)
{
	size_t i;

	if (!rl)
		return;
	for (i = 0; i < rl->nslots; i++) {
		struct entry *e = rl->slots[i];

		while (e) {
			struct entry *next = e->next;

			free(e);
			e = next;
		}
	}
	free(rl->slots);
	free(rl);
}

/* FNV-1a, with the kind mixed in so a bucket and a quota may share a key. */
static size_t hash_key(const char *key, enum entry_kind kind)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)kind;

	for (; *key; key++) {
		h ^= (unsigned char)*key;
		h *= 1099511628211ull;
	}
	return (size_t)(h ^ (h >> 29));
}

static void grow(struct ams_ratelimit *rl)
{
	size_t nslots = rl->nslots * 2, i;
	struct entry **slots = xcalloc(nslots, sizeof(*slots));

	for (i = 0; i < rl->nslots; i++) {
		struct entry *e = rl->slots[i];

		while (e) {
			struct entry *next = e->next;
			size_t h = hash_key(e->key, e->kind) & (nslots - 1);

			e->next = slots[h];
			slots[h] = e;
			e = next;
		}
	}
	free(rl->slots);
	rl->slots = slots;
	rl->nslots = nslots;
}

static struct entry *lookup(struct ams_ratelimit *rl, const char *key,
			    enum entry_kind kind, bool *created)
{
	size_t h = hash_key(key, kind) & (rl->nslots - 1);
	size_t keylen = strlen(key);
	struct entry *e;

	for (e = rl->slots[h]; e; e = e->next)
		if (e->kind == kind && !strcmp(e->key, key)) {
			*created = false;
			e->refs++;
			return e;
		}
	if (rl->count + 1 > rl->nslots) {
		grow(rl);
		h = hash_key(key, kind) & (rl->nslots - 1);
	}
	e = xcalloc(1, sizeof(*e) + keylen + 1);
	e->kind = kind;
	e->refs = 1;
	memcpy(e->key, key, keylen + 1);
	e->next = rl->slots[h];
	rl->slots[h] = e;
	rl->count++;
	*created = true;
	return e;
}

struct ams_rate_bucket *ams_ratelimit_bucket(struct ams_ratelimit *rl,
					     const char *key, double capacity,
					     double refill_per_s,
					     uint64_t now_ms)
{
	bool created;
	struct entry *e = lookup(rl, key, ENTRY_BUCKET, &created);

	if (created)
		ams_rate_bucket_init(&e->u.bucket, capacity, refill_per_s,
				     now_ms);
	return &e->u.bucket;
}

struct ams_rate_bucket *ams_ratelimit_adaptive(struct ams_ratelimit *rl,
					       const char *key, uint64_t now_ms)
{
	bool created;
	struct entry *e = lookup(rl, key, ENTRY_BUCKET, &created);

	if (created)
		ams_rate_bucket_init_unlimited(&e->u.bucket, now_ms);
	return &e->u.bucket;
}

struct ams_retry_quota *ams_ratelimit_quota(struct ams_ratelimit *rl,
					    const char *key, unsigned capacity)
{
	bool created;
	struct entry *e = lookup(rl, key, ENTRY_QUOTA, &created);

	if (created)
		ams_retry_quota_init(&e->u.quota, capacity);
	return &e->u.quota;
}

size_t ams_ratelimit_size(const struct ams_ratelimit *rl)
{
	return rl->count;
}

/* Tokens at now_ms, without changing the bucket. */
static double tokens_at(const struct ams_rate_bucket *b, uint64_t now_ms)
{
	double t = b->tokens;

	if (now_ms > b->last_ms)
		t += (double)(now_ms - b->last_ms) * b->refill_per_s / 1000.0;
	return t;
}

/*
 * Whether a new entry for the same key would behave exactly like this
 * one: a documented bucket back at its rate and burst and full again, a
 * full quota. An unlimited bucket rests only while it has learnt nothing:
 * its count of recent successes sets the rate of its first throttle.
 */
static bool at_rest(const struct entry *e, uint64_t now_ms)
{
	const struct ams_rate_bucket *b = &e->u.bucket;

	if (e->kind == ENTRY_QUOTA)
		return e->u.quota.available >= e->u.quota.capacity;
	if (b->unlimited)
		return !b->window_ok && !b->cut_ms;
	return !b->cut_ms && b->refill_per_s == b->ceiling_per_s &&
	       b->capacity == b->full_capacity &&
	       tokens_at(b, now_ms) >= b->capacity - 1e-9;
}

static void idle_unlink(struct ams_ratelimit *rl, struct entry *e)
{
	if (e->idle_prev)
		e->idle_prev->idle_next = e->idle_next;
	else
		rl->idle_head = e->idle_next;
	if (e->idle_next)
		e->idle_next->idle_prev = e->idle_prev;
	else
		rl->idle_tail = e->idle_prev;
	e->idle_prev = e->idle_next = NULL;
	e->idle = false;
}

static void idle_append(struct ams_ratelimit *rl, struct entry *e)
{
	e->idle_prev = rl->idle_tail;
	e->idle_next = NULL;
	if (rl->idle_tail)
		rl->idle_tail->idle_next = e;
	else
		rl->idle_head = e;
	rl->idle_tail = e;
	e->idle = true;
}

static void evict(struct ams_ratelimit *rl, struct entry *e)
{
	struct entry **pp =
	    &rl->slots[hash_key(e->key, e->kind) & (rl->nslots - 1)];

	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	if (e->idle)
		idle_unlink(rl, e);
	rl->count--;
	free(e);
}

/*
 * Looks at the two oldest idle entries: one held again leaves the list
 * (its holder puts it back), one at rest goes, one still busy moves to
 * the end. Each release does this, so the list drains as fast as it
 * fills once its entries come to rest.
 */
static void sweep(struct ams_ratelimit *rl, uint64_t now_ms)
{
	struct entry *e = rl->idle_head, *next;
	int i;

	for (i = 0; i < 2 && e; i++, e = next) {
		next = e->idle_next;
		if (e->refs) {
			idle_unlink(rl, e);
		} else if (at_rest(e, now_ms)) {
			evict(rl, e);
		} else if (next) {
			idle_unlink(rl, e);
			idle_append(rl, e);
		} else {
			break;
		}
	}
}

static void put(struct ams_ratelimit *rl, struct entry *e, uint64_t now_ms)
{
	if (e->refs && --e->refs == 0 && !e->idle) {
		if (at_rest(e, now_ms))
			evict(rl, e);
		else
			idle_append(rl, e);
	}
	sweep(rl, now_ms);
}

void ams_ratelimit_put_bucket(struct ams_ratelimit *rl,
			      struct ams_rate_bucket *b, uint64_t now_ms)
{
	if (rl && b)
		put(rl,
		    (struct entry *)((char *)b -
				     offsetof(struct entry, u.bucket)),
		    now_ms);
}

void ams_ratelimit_put_quota(struct ams_ratelimit *rl,
			     struct ams_retry_quota *q, uint64_t now_ms)
{
	if (rl && q)
		put(rl,
		    (struct entry *)((char *)q -
				     offsetof(struct entry, u.quota)),
		    now_ms);
}
