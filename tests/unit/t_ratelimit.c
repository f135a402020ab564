/*
 * Rate buckets adapting to throttling (ratelimit.h): an unlimited bucket
 * engages at its first throttle with a third of the rate that succeeded
 * over the last second; later throttles cut by 0.7 at most once per congestion
 * event, never below the floor; successes a second after a cut raise the
 * rate, quickly up to 90 % of the throttled rate and slowly beyond, back
 * to the documented one, burst included. Times are given, never read, so
 * every expectation is exact.
 */
#include <stdio.h>

#include "harness.h"
#include "ratelimit.h"

/* Reserves n tokens at now_ms; returns the wait of the last one. */
static uint64_t reserve_n(struct ams_rate_bucket *b, unsigned n,
			  uint64_t now_ms)
{
	uint64_t w = 0;

	while (n--)
		w = ams_rate_bucket_reserve(b, now_ms);
	return w;
}

static void test_unlimited(void)
{
	struct ams_rate_bucket b;

	ams_rate_bucket_init_unlimited(&b, 1000);
	CHECK(b.unlimited);
	CHECK_INT_EQ(0, reserve_n(&b, 10000, 1000));
	/* Successes alone never limit it. */
	for (unsigned i = 0; i < 500; i++)
		ams_rate_bucket_ok(&b, 1000 + i);
	CHECK(b.unlimited);
	CHECK_INT_EQ(0, ams_rate_bucket_reserve(&b, 1600));
}

static void test_engage(void)
{
	struct ams_rate_bucket b;

	ams_rate_bucket_init_unlimited(&b, 1000);
	/*
	 * A burst of 150 in 60 ms is not a rate of 2,500/s: at most half of
	 * 150/s is taken as the server's rate, and a third as the limit.
	 */
	for (unsigned i = 0; i < 150; i++)
		ams_rate_bucket_ok(&b, 1000 + i * 60 / 150);
	CHECK(ams_rate_bucket_throttled(&b, 1050, 1060));
	CHECK(!b.unlimited);
	CHECK(b.peak_per_s == 75.0);
	CHECK(b.refill_per_s == 50.0);
	CHECK(b.capacity == 5.0);
	/* Paced from zero: 20 ms apart. */
	CHECK_INT_EQ(20, ams_rate_bucket_reserve(&b, 1060));
	CHECK_INT_EQ(40, ams_rate_bucket_reserve(&b, 1060));
	/* Answers to attempts sent before the cut do not cut again. */
	CHECK(!ams_rate_bucket_throttled(&b, 1055, 1070));
	CHECK(!ams_rate_bucket_throttled(&b, 1059, 1080));
	CHECK(b.refill_per_s == 50.0);
	/* Nor do answers within half a second of it. */
	CHECK(!ams_rate_bucket_throttled(&b, 1060, 1100));
	CHECK(!ams_rate_bucket_throttled(&b, 1500, 1559));
	CHECK(b.refill_per_s == 50.0);
	/* A later one does: 0.7 times. */
	CHECK(ams_rate_bucket_throttled(&b, 1540, 1560));
	CHECK(b.refill_per_s == 35.0);
	CHECK(b.capacity == 3.5);
}

static void test_engage_slow_start(void)
{
	struct ams_rate_bucket b;

	/* Nothing succeeded yet: the floor. */
	ams_rate_bucket_init_unlimited(&b, 5000);
	CHECK(ams_rate_bucket_throttled(&b, 5000, 5010));
	CHECK(b.refill_per_s == AMS_RATE_MIN_PER_S);
	CHECK(b.capacity == 1.0);
	/* Cuts never go below the floor. */
	CHECK(ams_rate_bucket_throttled(&b, 6000, 6000));
	CHECK(b.refill_per_s == AMS_RATE_MIN_PER_S);
	/* Only the last second counts: old successes are forgotten. */
	ams_rate_bucket_init_unlimited(&b, 0);
	for (unsigned i = 0; i < 300; i++)
		ams_rate_bucket_ok(&b, 10 + i);
	for (unsigned i = 0; i < 60; i++)
		ams_rate_bucket_ok(&b, 5000 + i * 10);
	CHECK(ams_rate_bucket_throttled(&b, 5600, 5650));
	CHECK(b.refill_per_s == 20.0);
}

static void test_documented(void)
{
	struct ams_rate_bucket b;
	unsigned i;

	/* EC2 CreateTags: 100 burst, 10/s. */
	ams_rate_bucket_init(&b, 100, 10, 0);
	CHECK(!b.unlimited);
	CHECK(ams_rate_bucket_throttled(&b, 0, 100));
	CHECK(b.refill_per_s == 7.0);
	CHECK(b.capacity == 1.0);
	CHECK_INT_EQ(143, ams_rate_bucket_reserve(&b, 100));
	/* No raise within a second of the cut. */
	for (i = 0; i < 50; i++)
		ams_rate_bucket_ok(&b, 200 + i);
	CHECK(b.refill_per_s == 7.0);
	/* Then a tenth per success up to 90 % of the throttled rate... */
	for (i = 0; i < 10; i++)
		ams_rate_bucket_ok(&b, 1100 + i);
	CHECK(b.refill_per_s > 7.99 && b.refill_per_s < 8.01);
	for (i = 0; i < 11; i++)
		ams_rate_bucket_ok(&b, 1200 + i);
	CHECK(b.refill_per_s > 9.09 && b.refill_per_s < 9.11);
	/* ... then a hundredth, up to the documented rate and burst. */
	for (i = 0; i < 50; i++)
		ams_rate_bucket_ok(&b, 1300 + i);
	CHECK(b.refill_per_s > 9.59 && b.refill_per_s < 9.61);
	CHECK(b.capacity == 1.0);
	for (i = 0; i < 41; i++)
		ams_rate_bucket_ok(&b, 1400 + i);
	CHECK(b.refill_per_s == 10.0);
	CHECK(b.capacity == 100.0);
	CHECK_INT_EQ(0, b.cut_ms);
	/* Back to normal: a new throttle cuts from 10 again. */
	CHECK(ams_rate_bucket_throttled(&b, 1500, 1500));
	CHECK(b.refill_per_s == 7.0);
}

static void test_registry(void)
{
	struct ams_ratelimit *rl = ams_ratelimit_new();
	struct ams_rate_bucket *a, *b, *c;

	a = ams_ratelimit_adaptive(rl, "111111111111/us-east-1/sts/AssumeRole",
				   0);
	b = ams_ratelimit_adaptive(rl, "111111111111/us-east-1/sts/AssumeRole",
				   10);
	c = ams_ratelimit_adaptive(rl, "111111111111/eu-west-1/sts/AssumeRole",
				   0);
	CHECK(a == b);
	CHECK(a != c);
	CHECK(a->unlimited && c->unlimited);
	CHECK(ams_rate_bucket_throttled(a, 0, 5));
	CHECK(!a->unlimited && c->unlimited);
	CHECK_INT_EQ(2, ams_ratelimit_size(rl));
	ams_ratelimit_free(rl);
}

static void test_registry_eviction(void)
{
	struct ams_ratelimit *rl = ams_ratelimit_new();
	struct ams_rate_bucket *a, *b;
	struct ams_retry_quota *q;
	const char *k = "111111111111/us-east-1/ec2/CreateTags";

	/* Held twice: the first put frees nothing. */
	a = ams_ratelimit_bucket(rl, k, 100, 5, 1000);
	b = ams_ratelimit_bucket(rl, k, 1, 1, 1000);
	CHECK(a == b);
	CHECK_INT_EQ(0, ams_rate_bucket_reserve(a, 1000));
	ams_ratelimit_put_bucket(rl, b, 1000);
	CHECK_INT_EQ(1, ams_ratelimit_size(rl));
	/* Not full yet (99 of 100): it waits, and keeps its state. */
	ams_ratelimit_put_bucket(rl, a, 1000);
	CHECK_INT_EQ(1, ams_ratelimit_size(rl));
	a = ams_ratelimit_bucket(rl, k, 100, 5, 1100);
	CHECK(a->tokens < 100);
	ams_ratelimit_put_bucket(rl, a, 1100);
	/* 200 ms later it is full again: the next put sweeps it away. */
	q = ams_ratelimit_quota(rl, "111111111111/us-east-1", 500);
	CHECK_INT_EQ(2, ams_ratelimit_size(rl));
	ams_ratelimit_put_quota(rl, q, 1300);
	CHECK_INT_EQ(0, ams_ratelimit_size(rl));
	/* A new bucket for the key starts full, as the old one was. */
	a = ams_ratelimit_bucket(rl, k, 100, 5, 1300);
	CHECK(a->tokens == 100);
	ams_ratelimit_put_bucket(rl, a, 1300);
	CHECK_INT_EQ(0, ams_ratelimit_size(rl));
	ams_ratelimit_free(rl);
}

static void test_registry_keeps_learnt_state(void)
{
	struct ams_ratelimit *rl = ams_ratelimit_new();
	struct ams_rate_bucket *a, *c;
	struct ams_retry_quota *q;
	const char *k = "111111111111/us-east-1/ec2/DescribeImages";
	unsigned i;

	/* A throttled bucket stays until back at its documented rate. */
	a = ams_ratelimit_bucket(rl, k, 100, 20, 0);
	CHECK(ams_rate_bucket_throttled(a, 0, 10));
	ams_ratelimit_put_bucket(rl, a, 20);
	for (i = 0; i < 100; i++) {
		q = ams_ratelimit_quota(rl, "q", 500);
		ams_ratelimit_put_quota(rl, q, 30 + i);
	}
	CHECK_INT_EQ(1, ams_ratelimit_size(rl));
	a = ams_ratelimit_bucket(rl, k, 100, 20, 200);
	CHECK(a->refill_per_s == 14.0);
	ams_ratelimit_put_bucket(rl, a, 200);
	/* An unlimited bucket that counted successes keeps them. */
	c = ams_ratelimit_adaptive(rl, "111111111111/us-east-1/sts/AssumeRole",
				   0);
	ams_rate_bucket_ok(c, 5);
	ams_ratelimit_put_bucket(rl, c, 5);
	CHECK_INT_EQ(2, ams_ratelimit_size(rl));
	c = ams_ratelimit_adaptive(rl, "111111111111/us-east-1/sts/AssumeRole",
				   6);
	CHECK_INT_EQ(1, c->window_ok);
	ams_ratelimit_put_bucket(rl, c, 6);
	/* A spent quota stays until refunded to full. */
	q = ams_ratelimit_quota(rl, "111111111111/us-east-1", 500);
	CHECK(ams_retry_quota_acquire(q, 5));
	ams_ratelimit_put_quota(rl, q, 300);
	CHECK_INT_EQ(3, ams_ratelimit_size(rl));
	q = ams_ratelimit_quota(rl, "111111111111/us-east-1", 500);
	CHECK_INT_EQ(495, q->available);
	ams_retry_quota_release(q, 5);
	ams_ratelimit_put_quota(rl, q, 300);
	CHECK_INT_EQ(2, ams_ratelimit_size(rl));
	ams_ratelimit_free(rl);
}

static void test_registry_bounded(void)
{
	struct ams_ratelimit *rl = ams_ratelimit_new();
	char key[64];
	size_t peak = 0;
	unsigned i;

	/*
	 * 12,000 keys used once each at 2,000 calls a second, 64 at a time,
	 * as a run over 1,000 accounts and 4 Regions does: the registry
	 * holds what is in flight and still refilling, not every key.
	 */
	struct ams_rate_bucket *held[64] = { 0 };

	for (i = 0; i < 12000; i++) {
		uint64_t now = i / 2;

		if (held[i % 64])
			ams_ratelimit_put_bucket(rl, held[i % 64], now);
		snprintf(key, sizeof(key), "%012u/r%u/ec2/A%u", i / 12, i % 4,
			 i % 3);
		held[i % 64] = ams_ratelimit_bucket(rl, key, 100, 20, now);
		ams_rate_bucket_reserve(held[i % 64], now);
		if (ams_ratelimit_size(rl) > peak)
			peak = ams_ratelimit_size(rl);
	}
	for (i = 0; i < 64; i++)
		ams_ratelimit_put_bucket(rl, held[i], 6000 + 1000);
	CHECK(peak < 300);
	/* The last puts sweep two each: everything has come to rest. */
	CHECK_INT_EQ(0, ams_ratelimit_size(rl));
	ams_ratelimit_free(rl);
}

int main(void)
{
	TEST(test_unlimited, "an unlimited bucket never waits");
	TEST(test_engage,
	     "first throttle: a third of the last second's successes; one cut "
	     "per "
	     "congestion event");
	TEST(test_engage_slow_start,
	     "the floor, and only the last second's successes count");
	TEST(test_documented,
	     "a documented bucket cuts by 0.7, recovers fast to 90 %, then "
	     "slowly to its rate and burst");
	TEST(test_registry,
	     "the registry hands out one adaptive bucket per key");
	TEST(test_registry_eviction,
	     "an entry nobody holds goes once a new one would be the same");
	TEST(test_registry_keeps_learnt_state,
	     "throttled buckets, learnt successes and spent quotas stay");
	TEST(test_registry_bounded,
	     "12,000 keys used once: the registry holds the recent ones");
	return test_done();
}
