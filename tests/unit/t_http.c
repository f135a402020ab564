/*
 * The HTTP engine against a scripted local server: retry rules with exact
 * attempt counts, backoff bounds, the retry quota, window retries,
 * Retry-After, rate-bucket pacing, response caps, asynchronous done,
 * parking, stopping and connection reuse.
 */
#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "clock.h"
#include "harness.h"
#include "http.h"
#include "json.h"
#include "ratelimit.h"

#include "../lib/scripted_httpd.h"

static struct test_server srv;
static bool srv_ok;

struct outcome {
	int done_calls;
	bool inside_submit; /* set while ams_http_submit runs */
	bool done_inside_submit;
	struct ams_err err;
	long status;
	unsigned attempts;
	unsigned nprep, nclass;
	uint64_t prep_ms[32];
	uint64_t class_ms[32];
	struct ams_buf body;
	/* classify override: window retries while status matches */
	long window_status;
};

static void on_done(struct ams_http_req *req, void *payload)
{
	struct outcome *o = payload;

	o->done_calls++;
	if (o->inside_submit)
		o->done_inside_submit = true;
	o->err = req->err;
	o->status = req->status;
	o->attempts = req->attempts;
	ams_buf_reset(&o->body);
	ams_buf_add(&o->body, req->resp_body.buf, req->resp_body.len);
}

static enum ams_http_prep record_prep(struct ams_http_req *req, void *payload)
{
	struct outcome *o = payload;

	(void)req;
	if (o->nprep < ARRAY_SIZE(o->prep_ms))
		o->prep_ms[o->nprep] = ams_clock_mono_ms();
	o->nprep++;
	return AMS_HTTP_PREP_GO;
}

static enum ams_http_retry record_class(struct ams_http_req *req,
					enum ams_http_retry dflt, void *payload)
{
	struct outcome *o = payload;

	if (o->nclass < ARRAY_SIZE(o->class_ms))
		o->class_ms[o->nclass] = ams_clock_mono_ms();
	o->nclass++;
	if (o->window_status && req->status == o->window_status)
		return AMS_HTTP_RETRY_WINDOW;
	return dflt;
}

static void test_opts(struct ams_http_opts *o)
{
	ams_http_opts_init(o);
	o->seed = 42;
	o->backoff_base_ms = 20;
	o->backoff_cap_ms = 80;
	o->window_base_ms = 20;
	o->window_cap_ms = 60;
	o->connect_timeout_ms = 2000;
	o->timeout_ms = 5000;
}

static struct ams_http *new_engine(const struct ams_http_opts *o)
{
	struct ams_http *h = NULL;
	struct ams_err err = AMS_ERR_INIT;

	if (ams_http_new(&h, o, &err)) {
		printf("# ams_http_new: %s\n", err.msg);
		return NULL;
	}
	return h;
}

static struct ams_http_req *make_req(struct ams_http *h, const char *path,
				     struct outcome *o)
{
	struct ams_http_req *req = ams_http_req_new(h);

	ams_http_req_set_url(req, test_server_url(&srv, path));
	req->done = on_done;
	req->prepare = record_prep;
	req->classify = record_class;
	req->payload = o;
	return req;
}

static void submit(struct ams_http *h, struct ams_http_req *req,
		   struct outcome *o)
{
	o->inside_submit = true;
	ams_http_submit(h, req);
	o->inside_submit = false;
}

/* Submits one request for path and runs the engine dry. */
static void run_one(struct ams_http *h, const char *path, struct outcome *o,
		    unsigned max_attempts)
{
	struct ams_err err = AMS_ERR_INIT;
	struct ams_http_req *req = make_req(h, path, o);

	req->max_attempts = max_attempts;
	submit(h, req, o);
	CHECK_RC(AMS_OK, ams_http_run(h, &err), &err);
}

static void outcome_release(struct outcome *o)
{
	ams_buf_release(&o->body);
	memset(o, 0, sizeof(*o));
}

static void test_done_is_async(void)
{
	struct ams_http_opts o;
	struct ams_http *h;
	struct outcome a = { 0 }, b = { 0 };
	struct ams_http_req *req;
	struct ams_err err = AMS_ERR_INIT;

	test_opts(&o);
	h = new_engine(&o);
	CHECK(h != NULL);
	if (!h)
		return;
	/* A request that cannot start still finishes from the loop. */
	req = ams_http_req_new(h);
	req->done = on_done;
	req->payload = &a;
	submit(h, req, &a);
	CHECK_INT_EQ(0, a.done_calls);
	req = make_req(h, "/status/200", &b);
	submit(h, req, &b);
	CHECK_INT_EQ(0, b.done_calls);
	CHECK_INT_EQ(2, ams_http_pending(h));
	CHECK_RC(AMS_OK, ams_http_run(h, &err), &err);
	CHECK_INT_EQ(1, a.done_calls);
	CHECK(!a.done_inside_submit);
	CHECK_INT_EQ(AMS_EUSAGE, a.err.code);
	CHECK_INT_EQ(0, a.attempts);
	CHECK_INT_EQ(1, b.done_calls);
	CHECK(!b.done_inside_submit);
	CHECK_INT_EQ(AMS_OK, b.err.code);
	CHECK_INT_EQ(200, b.status);
	CHECK_STR_EQ("status 200", b.body.buf);
	CHECK_INT_EQ(0, ams_http_pending(h));
	ams_http_free(h);
	outcome_release(&a);
	outcome_release(&b);
}

struct retry_case {
	const char *name;
	const char *path;
	unsigned max_attempts;
	long timeout_ms;
	enum ams_code code;
	long status;
	unsigned attempts;
	unsigned server_hits; /* requests the server answered or reset */
};

static void test_retry_rules(void)
{
	static const struct retry_case cases[] = {
		{ "5xx retried to max attempts", "/seq/r1/503", 3, 0, AMS_EHTTP,
		  503, 3, 3 },
		{ "500 502 504 retried then success", "/seq/r2/500,502,504,200",
		  4, 0, AMS_OK, 200, 4, 4 },
		{ "400 not retried", "/seq/r3/400", 3, 0, AMS_EHTTP, 400, 1,
		  1 },
		{ "403 not retried", "/seq/r4/403", 5, 0, AMS_EHTTP, 403, 1,
		  1 },
		{ "429 retried", "/seq/r5/429,200", 3, 0, AMS_OK, 200, 2, 2 },
		{ "reset retried", "/seq/r6/reset,200", 3, 0, AMS_OK, 200, 2,
		  2 },
		{ "reset to max attempts", "/seq/r7/reset", 2, 0, AMS_ENET, 0,
		  2, 2 },
		{ "timeout retried", "/seq/r8/sleep1500,200", 3, 400, AMS_OK,
		  200, 2, 2 },
		{ "one attempt means no retry", "/seq/r9/503", 1, 0, AMS_EHTTP,
		  503, 1, 1 },
		{ "404 not retried", "/seq/r10/404", 3, 0, AMS_EHTTP, 404, 1,
		  1 },
	};
	struct ams_http_opts o;
	struct ams_http *h;
	struct ams_http_req *req;
	struct ams_err err = AMS_ERR_INIT;
	size_t i;
	char key[32];

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct retry_case *c = &cases[i];
		struct outcome out = { 0 };

		TEST_BEGIN();
		test_opts(&o);
		h = new_engine(&o);
		req = make_req(h, c->path, &out);
		req->max_attempts = c->max_attempts;
		req->timeout_ms = c->timeout_ms;
		submit(h, req, &out);
		CHECK_RC(AMS_OK, ams_http_run(h, &err), &err);
		CHECK_INT_EQ(1, out.done_calls);
		CHECK_INT_EQ(c->code, out.err.code);
		CHECK_INT_EQ(c->status, out.status);
		CHECK_INT_EQ(c->attempts, out.attempts);
		CHECK_INT_EQ(c->attempts, out.nprep);
		snprintf(key, sizeof(key), "keys.%s", c->path + 5);
		*strchr(key + 5, '/') = '\0';
		CHECK_INT_EQ(c->server_hits, test_server_stat(&srv, key));
		if (c->code == AMS_EHTTP)
			CHECK_INT_EQ(c->status, out.err.http_status);
		ams_http_free(h);
		outcome_release(&out);
		TEST_END("retry rule: %s", c->name);
	}
}

static void test_backoff_function(void)
{
	struct ams_http_opts o;
	struct ams_http *a, *b;
	unsigned n, i;
	uint64_t v, w, ceiling, sum;
	bool same = true, in_range = true;

	test_opts(&o);
	o.seed = 7;
	a = new_engine(&o);
	b = new_engine(&o);
	for (n = 1; n <= 8; n++) {
		ceiling = 1000u << (n - 1);
		if (ceiling > 20000)
			ceiling = 20000;
		sum = 0;
		for (i = 0; i < 4000; i++) {
			v = ams_http_backoff_ms(a, n, 1000, 20000);
			w = ams_http_backoff_ms(b, n, 1000, 20000);
			if (v != w)
				same = false;
			if (v > ceiling)
				in_range = false;
			sum += v;
		}
		/* Full jitter: the mean is half the ceiling (within 5%). */
		CHECK(sum / 4000 > ceiling * 45 / 100);
		CHECK(sum / 4000 < ceiling * 55 / 100);
	}
	CHECK(same);
	CHECK(in_range);
	ams_http_free(a);
	ams_http_free(b);
}

static void test_backoff_measured(void)
{
	struct ams_http_opts o;
	struct ams_http *h;
	struct outcome out = { 0 };
	unsigned i;
	uint64_t ceiling, delay;

	test_opts(&o);
	o.backoff_base_ms = 100;
	o.backoff_cap_ms = 300;
	h = new_engine(&o);
	run_one(h, "/seq/b1/503", &out, 5);
	CHECK_INT_EQ(5, out.attempts);
	CHECK_INT_EQ(5, out.nprep);
	for (i = 1; i < 5 && i < out.nprep; i++) {
		ceiling = 100u << (i - 1);
		if (ceiling > 300)
			ceiling = 300;
		delay = out.prep_ms[i] - out.class_ms[i - 1];
		/* [0, cap] plus a little loop scheduling slack */
		CHECK(delay <= ceiling + 30);
		if (delay > ceiling + 30)
			printf("#   retry %u waited %llu ms, ceiling %llu\n", i,
			       (unsigned long long)delay,
			       (unsigned long long)ceiling);
	}
	ams_http_free(h);
	outcome_release(&out);
}

static void test_retry_after(void)
{
	struct ams_http_opts o;
	struct ams_http *h;
	struct outcome out = { 0 };

	test_opts(&o);
	h = new_engine(&o);
	run_one(h, "/seq/ra/ra1,200", &out, 3);
	CHECK_INT_EQ(AMS_OK, out.err.code);
	CHECK_INT_EQ(2, out.attempts);
	CHECK(out.nprep == 2 && out.prep_ms[1] - out.class_ms[0] >= 990);
	ams_http_free(h);
	outcome_release(&out);
}

static void test_retry_quota(void)
{
	struct ams_http_opts o;
	struct ams_http *h;
	struct ams_http_stats st;
	struct ams_retry_quota q;
	struct outcome a = { 0 }, b = { 0 }, c = { 0 };
	struct ams_http_req *req;
	struct ams_err err = AMS_ERR_INIT;

	test_opts(&o);
	h = new_engine(&o);
	ams_retry_quota_init(&q, 10);
	/* a: fails, retries twice (5 + 5), quota now empty */
	req = make_req(h, "/seq/q1/503", &a);
	req->quota = &q;
	submit(h, req, &a);
	CHECK_RC(AMS_OK, ams_http_run(h, &err), &err);
	CHECK_INT_EQ(3, a.attempts);
	CHECK_INT_EQ(0, q.available);
	/* b: its first retry is refused */
	req = make_req(h, "/seq/q2/503", &b);
	req->quota = &q;
	submit(h, req, &b);
	CHECK_RC(AMS_OK, ams_http_run(h, &err), &err);
	CHECK_INT_EQ(1, b.attempts);
	CHECK_INT_EQ(AMS_EHTTP, b.err.code);
	/* c: a first-try success refunds 1 */
	req = make_req(h, "/status/200", &c);
	req->quota = &q;
	submit(h, req, &c);
	CHECK_RC(AMS_OK, ams_http_run(h, &err), &err);
	CHECK_INT_EQ(1, q.available);
	ams_http_get_stats(&st, h);
	CHECK_INT_EQ(1, st.quota_refusals);
	CHECK_INT_EQ(5, st.attempts);
	CHECK_INT_EQ(2, st.retries);
	CHECK_INT_EQ(2, st.failed);
	ams_http_free(h);
	outcome_release(&a);
	outcome_release(&b);
	outcome_release(&c);
}

static void test_quota_refund_after_retry(void)
{
	struct ams_retry_quota q;
	struct ams_http_opts o;
	struct ams_http *h;
	struct outcome a = { 0 };
	struct ams_http_req *req;
	struct ams_err err = AMS_ERR_INIT;

	test_opts(&o);
	h = new_engine(&o);
	ams_retry_quota_init(&q, 500);
	req = make_req(h, "/seq/q3/sleep600,200", &a);
	req->quota = &q;
	req->timeout_ms = 200;
	submit(h, req, &a);
	CHECK_RC(AMS_OK, ams_http_run(h, &err), &err);
	CHECK_INT_EQ(AMS_OK, a.err.code);
	/* a timeout retry costs 10, refunded by the success */
	CHECK_INT_EQ(500, q.available);
	CHECK_INT_EQ(2, a.attempts);
	ams_http_free(h);
	outcome_release(&a);
}

static void test_window(void)
{
	struct ams_http_opts o;
	struct ams_http *h;
	struct outcome a = { 0 }, b = { 0 };
	struct ams_http_req *req;
	struct ams_err err = AMS_ERR_INIT;
	uint64_t t0;

	test_opts(&o);
	h = new_engine(&o);
	/* Five 404s inside the window, then success; budget of 2 unused. */
	a.window_status = 404;
	req = make_req(h, "/seq/w1/404,404,404,404,404,200", &a);
	req->max_attempts = 2;
	req->retry_window_ms = 5000;
	submit(h, req, &a);
	CHECK_RC(AMS_OK, ams_http_run(h, &err), &err);
	CHECK_INT_EQ(AMS_OK, a.err.code);
	CHECK_INT_EQ(6, a.attempts);
	/* Always 404: gives up once the window is spent. */
	b.window_status = 404;
	req = make_req(h, "/seq/w2/404", &b);
	req->max_attempts = 2;
	req->retry_window_ms = 400;
	t0 = ams_clock_mono_ms();
	submit(h, req, &b);
	CHECK_RC(AMS_OK, ams_http_run(h, &err), &err);
	CHECK_INT_EQ(AMS_EHTTP, b.err.code);
	CHECK_INT_EQ(404, b.status);
	CHECK(b.attempts > 2);
	CHECK(ams_clock_mono_ms() - t0 >= 300);
	CHECK(ams_clock_mono_ms() - t0 < 1500);
	ams_http_free(h);
	outcome_release(&a);
	outcome_release(&b);
}

static void test_rate_pacing(void)
{
	struct ams_http_opts o;
	struct ams_http *h;
	struct ams_rate_bucket bucket;
	struct outcome out[25];
	struct ams_http_req *req;
	struct ams_err err = AMS_ERR_INIT;
	uint64_t t0, elapsed;
	size_t i;
	int ok = 0;

	memset(out, 0, sizeof(out));
	test_opts(&o);
	h = new_engine(&o);
	t0 = ams_clock_mono_ms();
	/* capacity 5, refill 20/s: 25 requests need >= (25 - 5) / 20 s */
	ams_rate_bucket_init(&bucket, 5, 20, t0);
	for (i = 0; i < ARRAY_SIZE(out); i++) {
		req = make_req(h, "/status/200", &out[i]);
		req->bucket = &bucket;
		submit(h, req, &out[i]);
	}
	CHECK_RC(AMS_OK, ams_http_run(h, &err), &err);
	elapsed = ams_clock_mono_ms() - t0;
	for (i = 0; i < ARRAY_SIZE(out); i++) {
		ok += out[i].err.code == AMS_OK;
		outcome_release(&out[i]);
	}
	CHECK_INT_EQ(25, ok);
	CHECK(elapsed >= 1000);
	CHECK(elapsed < 1800);
	printf("#   25 requests through 5 + 20/s took %llu ms\n",
	       (unsigned long long)elapsed);
	ams_http_free(h);
}

static void test_rate_bucket_math(void)
{
	struct ams_rate_bucket b;
	uint64_t w;
	int i;

	ams_rate_bucket_init(&b, 3, 2, 1000);
	for (i = 0; i < 3; i++)
		CHECK_INT_EQ(0, ams_rate_bucket_reserve(&b, 1000));
	CHECK_INT_EQ(500, ams_rate_bucket_reserve(&b, 1000));
	CHECK_INT_EQ(1000, ams_rate_bucket_reserve(&b, 1000));
	/* 1 s later: two tokens refilled, both already promised */
	CHECK_INT_EQ(500, ams_rate_bucket_reserve(&b, 2000));
	/* a long idle refills to capacity, never beyond */
	for (i = 0; i < 3; i++)
		CHECK_INT_EQ(0, ams_rate_bucket_reserve(&b, 100000));
	w = ams_rate_bucket_reserve(&b, 100000);
	CHECK_INT_EQ(500, w);
	ams_rate_bucket_init(&b, 1, 0.1, 0);
	CHECK_INT_EQ(0, ams_rate_bucket_reserve(&b, 0));
	CHECK_INT_EQ(10000, ams_rate_bucket_reserve(&b, 0));
}

static void test_quota_math(void)
{
	struct ams_retry_quota q;
	struct ams_ratelimit *rl = ams_ratelimit_new();
	struct ams_rate_bucket *b1, *b2;
	char key[32];
	int i;

	ams_retry_quota_init(&q, 500);
	for (i = 0; i < 100; i++)
		CHECK(ams_retry_quota_acquire(&q, 5));
	CHECK(!ams_retry_quota_acquire(&q, 5));
	ams_retry_quota_release(&q, 10);
	CHECK(!ams_retry_quota_acquire(&q, 11));
	CHECK(ams_retry_quota_acquire(&q, 10));
	ams_retry_quota_release(&q, 1000);
	CHECK_INT_EQ(500, q.available);
	ams_retry_quota_init(&q, 0);
	CHECK(ams_retry_quota_acquire(&q, 1000));
	/* registry: stable pointers through growth, separate kinds */
	b1 =
	    ams_ratelimit_bucket(rl, "acct/us-east-1/ec2/CopyImage", 100, 1, 0);
	for (i = 0; i < 500; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		ams_ratelimit_bucket(rl, key, 10, 1, 0);
	}
	b2 = ams_ratelimit_bucket(rl, "acct/us-east-1/ec2/CopyImage", 1, 1, 0);
	CHECK(b1 == b2);
	CHECK(b2->capacity == 100);
	CHECK((void *)ams_ratelimit_quota(rl, "k1", 500) != (void *)b1);
	CHECK_INT_EQ(502, ams_ratelimit_size(rl));
	ams_ratelimit_free(rl);
}

static void test_body_cap(void)
{
	struct ams_http_opts o;
	struct ams_http *h;
	struct outcome a = { 0 }, b = { 0 };
	struct ams_http_req *req;
	struct ams_err err = AMS_ERR_INIT;

	test_opts(&o);
	h = new_engine(&o);
	req = make_req(h, "/big/100000", &a);
	req->max_body_bytes = 1000;
	submit(h, req, &a);
	req = make_req(h, "/big/1000", &b);
	req->max_body_bytes = 1000;
	submit(h, req, &b);
	CHECK_RC(AMS_OK, ams_http_run(h, &err), &err);
	CHECK_INT_EQ(AMS_ELIMIT, a.err.code);
	CHECK_INT_EQ(1, a.attempts);
	CHECK(a.body.len <= 1000);
	CHECK_INT_EQ(AMS_OK, b.err.code);
	CHECK_INT_EQ(1000, b.body.len);
	ams_http_free(h);
	outcome_release(&a);
	outcome_release(&b);
}

static void test_connection_reuse(void)
{
	struct ams_http_opts o;
	struct ams_http *h;
	struct ams_http_stats st;
	static struct outcome out[200];
	struct ams_http_req *req;
	struct ams_err err = AMS_ERR_INIT;
	long conns;
	size_t i;
	int ok = 0;

	memset(out, 0, sizeof(out));
	test_opts(&o);
	o.max_in_flight = 8;
	h = new_engine(&o);
	test_server_reset(&srv);
	for (i = 0; i < ARRAY_SIZE(out); i++) {
		req = make_req(h, "/status/200", &out[i]);
		ams_http_submit(h, req);
	}
	CHECK_RC(AMS_OK, ams_http_run(h, &err), &err);
	for (i = 0; i < ARRAY_SIZE(out); i++) {
		ok += out[i].err.code == AMS_OK;
		outcome_release(&out[i]);
	}
	CHECK_INT_EQ(200, ok);
	/* the stats request opens one more connection of its own */
	conns = test_server_stat(&srv, "connections") - 1;
	ams_http_get_stats(&st, h);
	printf("#   200 requests, in flight <= 8: %ld connections accepted, "
	       "%llu opened, peak in flight %u\n",
	       conns, (unsigned long long)st.connects, st.peak_in_flight);
	CHECK(conns >= 1 && conns <= 8);
	CHECK(st.connects <= 8);
	CHECK(st.peak_in_flight <= 8);
	CHECK_INT_EQ(200, st.requests);
	CHECK_INT_EQ(200, st.attempts);
	ams_http_free(h);
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) /
		   1e6;
}

/*
 * An idle keep-alive connection stays watched between requests. When the
 * server closes it while another request is waited on, the loop must not
 * spin on the closed socket; later requests get a new connection (often
 * under the same descriptor number).
 */
static void test_idle_connection_closed(void)
{
	struct ams_http_opts o;
	struct ams_http *h;
	struct outcome a, b, c;
	struct ams_err err = AMS_ERR_INIT;
	double cpu;
	uint64_t t0;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	test_opts(&o);
	o.max_in_flight = 2;
	h = new_engine(&o);
	test_server_reset(&srv);
	/* a's connection goes idle, then is closed 50 ms into b's wait. */
	submit(h, make_req(h, "/linger/50", &a), &a);
	submit(h, make_req(h, "/seq/idle/sleep500", &b), &b);
	cpu = cpu_seconds();
	t0 = ams_clock_mono_ms();
	CHECK_RC(AMS_OK, ams_http_run(h, &err), &err);
	cpu = cpu_seconds() - cpu;
	printf("#   %llu ms, %.3f s of CPU\n",
	       (unsigned long long)(ams_clock_mono_ms() - t0), cpu);
	CHECK_INT_EQ(200, a.status);
	CHECK_INT_EQ(200, b.status);
	CHECK(cpu < 0.2);
	run_one(h, "/status/200", &c, 1);
	CHECK_INT_EQ(200, c.status);
	CHECK_INT_EQ(AMS_OK, c.err.code);
	outcome_release(&a);
	outcome_release(&b);
	outcome_release(&c);
	ams_http_free(h);
}

struct park_ctx {
	struct ams_http_req *parked;
	int preps;
	struct outcome out;
};

static enum ams_http_prep park_once(struct ams_http_req *req, void *payload)
{
	struct park_ctx *p = payload;

	if (p->preps++ == 0) {
		p->parked = req;
		return AMS_HTTP_PREP_PARK;
	}
	return AMS_HTTP_PREP_GO;
}

static void park_done(struct ams_http_req *req, void *payload)
{
	on_done(req, &((struct park_ctx *)payload)->out);
}

static void resume_other(struct ams_http_req *req, void *payload)
{
	struct park_ctx *p = payload;

	(void)req;
	if (p->parked)
		ams_http_req_resume(p->parked);
}

static void test_park_resume(void)
{
	struct ams_http_opts o;
	struct ams_http *h;
	struct park_ctx p, q;
	struct ams_http_req *req;
	struct ams_err err = AMS_ERR_INIT;

	memset(&p, 0, sizeof(p));
	memset(&q, 0, sizeof(q));
	test_opts(&o);
	h = new_engine(&o);
	req = ams_http_req_new(h);
	ams_http_req_set_url(req, test_server_url(&srv, "/status/200"));
	req->prepare = park_once;
	req->done = park_done;
	req->payload = &p;
	ams_http_submit(h, req);
	/* another request whose completion resumes the parked one */
	req = ams_http_req_new(h);
	ams_http_req_set_url(req, test_server_url(&srv, "/seq/pk/sleep100"));
	req->done = resume_other;
	req->payload = &p;
	ams_http_submit(h, req);
	CHECK_RC(AMS_OK, ams_http_run(h, &err), &err);
	CHECK_INT_EQ(2, p.preps);
	CHECK_INT_EQ(AMS_OK, p.out.err.code);
	CHECK_INT_EQ(1, p.out.attempts);
	/* parked with nothing left to resume it: cancelled, no hang */
	req = ams_http_req_new(h);
	ams_http_req_set_url(req, test_server_url(&srv, "/status/200"));
	req->prepare = park_once;
	req->done = park_done;
	req->payload = &q;
	ams_http_submit(h, req);
	CHECK_RC(AMS_OK, ams_http_run(h, &err), &err);
	CHECK_INT_EQ(AMS_ECANCELED, q.out.err.code);
	CHECK_INT_EQ(1, q.out.done_calls);
	ams_http_free(h);
	outcome_release(&p.out);
	outcome_release(&q.out);
}

static void test_stop(void)
{
	struct ams_http_opts o;
	struct ams_http *h;
	struct outcome out[4];
	struct ams_http_req *req;
	struct ams_err err = AMS_ERR_INIT;
	uint64_t t0;
	size_t i;
	int steps = 0;

	memset(out, 0, sizeof(out));
	test_opts(&o);
	o.max_in_flight = 1;
	h = new_engine(&o);
	for (i = 0; i < ARRAY_SIZE(out); i++) {
		req = make_req(h, "/seq/stop/sleep3000", &out[i]);
		ams_http_submit(h, req);
	}
	t0 = ams_clock_mono_ms();
	while (ams_clock_mono_ms() - t0 < 200 && steps++ < 100)
		ams_http_step(h, 50, &err);
	ams_http_stop(h, 100);
	CHECK(ams_http_stopping(h));
	CHECK_RC(AMS_OK, ams_http_run(h, &err), &err);
	CHECK(ams_clock_mono_ms() - t0 < 1500);
	for (i = 0; i < ARRAY_SIZE(out); i++) {
		CHECK_INT_EQ(1, out[i].done_calls);
		CHECK_INT_EQ(AMS_ECANCELED, out[i].err.code);
		outcome_release(&out[i]);
	}
	/* nothing new is admitted after a stop */
	req = make_req(h, "/status/200", &out[0]);
	ams_http_submit(h, req);
	CHECK_RC(AMS_OK, ams_http_run(h, &err), &err);
	CHECK_INT_EQ(AMS_ECANCELED, out[0].err.code);
	CHECK_INT_EQ(0, out[0].attempts);
	ams_http_free(h);
	outcome_release(&out[0]);
}

static void test_headers_and_methods(void)
{
	struct ams_http_opts o;
	struct ams_http *h;
	struct outcome a = { 0 }, b = { 0 };
	struct ams_http_req *req;
	struct ams_err err = AMS_ERR_INIT;
	struct ams_json *doc = NULL;
	struct ams_str rid;
	char *s = NULL;

	test_opts(&o);
	h = new_engine(&o);
	req = make_req(h, "/echo/x", &a);
	req->method = AMS_HTTP_PUT;
	ams_http_req_set_header(req, "X-Test", "one");
	ams_http_req_set_header(req, "x-test", "two");
	ams_http_req_set_header(req, "X-Gone", "v");
	ams_http_req_set_header(req, "X-Gone", NULL);
	ams_http_req_set_header(req, "x-aws-ec2-metadata-token-ttl-seconds",
				"21600");
	CHECK_STR_EQ("two", ams_http_req_get_header(req, "X-TEST"));
	CHECK(ams_http_req_get_header(req, "X-Gone") == NULL);
	ams_buf_addstr(&req->body, "payload");
	submit(h, req, &a);
	/* a header with a line break is refused before sending */
	req = make_req(h, "/echo", &b);
	ams_http_req_set_header(req, "X-Bad", "a\r\nInjected: 1");
	submit(h, req, &b);
	CHECK_RC(AMS_OK, ams_http_run(h, &err), &err);
	CHECK_INT_EQ(AMS_OK, a.err.code);
	CHECK_RC(AMS_OK, ams_json_parse(&doc, a.body.buf, a.body.len, &err),
		 &err);
	if (doc) {
		const struct ams_json_val *hdrs, *e;
		bool saw_test = false, saw_gone = false, saw_expect = false;

		CHECK(
		    !ams_json_get_str(&s, ams_json_root(doc), "method", &err));
		CHECK_STR_EQ("PUT", s);
		free(s);
		CHECK(!ams_json_get_str(&s, ams_json_root(doc), "body", &err));
		CHECK_STR_EQ("payload", s);
		free(s);
		CHECK(!ams_json_get_array(&hdrs, ams_json_root(doc), "headers",
					  &err));
		for (e = ams_json_child(hdrs); e; e = ams_json_sibling(e)) {
			const char *n = ams_json_str(ams_json_at(e, "[0]"));
			const char *v = ams_json_str(ams_json_at(e, "[1]"));

			if (n && !strcasecmp(n, "X-Test"))
				saw_test = v && !strcmp(v, "two");
			if (n && !strcasecmp(n, "X-Gone"))
				saw_gone = true;
			if (n && !strcasecmp(n, "Expect"))
				saw_expect = true;
		}
		CHECK(saw_test);
		CHECK(!saw_gone);
		CHECK(!saw_expect);
		ams_json_free(doc);
	}
	CHECK_INT_EQ(AMS_EUSAGE, b.err.code);
	CHECK_INT_EQ(0, b.attempts);
	ams_http_free(h);
	outcome_release(&a);
	outcome_release(&b);
	(void)rid;
}

static void check_resp_header(struct ams_http_req *req, void *payload)
{
	struct ams_str v = ams_http_resp_header(req, "X-AMZN-REQUESTID");
	struct ams_str none = ams_http_resp_header(req, "x-missing");

	(void)payload;
	CHECK(v.ptr != NULL && ams_str_starts_with(v, "req-"));
	CHECK(none.ptr == NULL);
	on_done(req, payload);
}

static void test_response_headers(void)
{
	struct ams_http_opts o;
	struct ams_http *h;
	struct outcome a = { 0 };
	struct ams_http_req *req;
	struct ams_err err = AMS_ERR_INIT;

	test_opts(&o);
	h = new_engine(&o);
	req = make_req(h, "/status/200", &a);
	req->done = check_resp_header;
	ams_http_submit(h, req);
	CHECK_RC(AMS_OK, ams_http_run(h, &err), &err);
	CHECK_INT_EQ(1, a.done_calls);
	ams_http_free(h);
	outcome_release(&a);
}

static void test_connect_refused(void)
{
	struct ams_http_opts o;
	struct ams_http *h;
	struct outcome a = { 0 };
	struct ams_http_req *req;
	struct ams_err err = AMS_ERR_INIT;

	test_opts(&o);
	h = new_engine(&o);
	req = ams_http_req_new(h);
	/* port 9 on loopback: nothing listens (discard is never enabled) */
	ams_http_req_set_url(req, "http://127.0.0.1:9/");
	req->done = on_done;
	req->payload = &a;
	req->max_attempts = 2;
	ams_http_submit(h, req);
	CHECK_RC(AMS_OK, ams_http_run(h, &err), &err);
	CHECK_INT_EQ(AMS_ENET, a.err.code);
	CHECK_INT_EQ(2, a.attempts);
	ams_http_free(h);
	outcome_release(&a);
}

static void test_options(void)
{
	struct ams_http_opts o;
	struct ams_http *h = NULL;
	struct ams_err err = AMS_ERR_INIT;

	ams_http_opts_init(&o);
	CHECK_INT_EQ(64, o.max_in_flight);
	CHECK_INT_EQ(3, o.max_attempts);
	CHECK_INT_EQ(20000, o.backoff_cap_ms);
	CHECK_INT_EQ(500, o.retry_quota);
	setenv("AWS_MAX_ATTEMPTS", "5", 1);
	CHECK_RC(AMS_OK, ams_http_opts_from_env(&o, &err), &err);
	CHECK_INT_EQ(5, o.max_attempts);
	setenv("AWS_MAX_ATTEMPTS", "0", 1);
	CHECK_RC(AMS_EUSAGE, ams_http_opts_from_env(&o, &err), &err);
	CHECK(strstr(err.msg, "AWS_MAX_ATTEMPTS") != NULL);
	unsetenv("AWS_MAX_ATTEMPTS");
	ams_err_clear(&err);
	setenv("AWS_RETRY_MODE", "adaptive", 1);
	CHECK_RC(AMS_EUSAGE, ams_http_opts_from_env(&o, &err), &err);
	unsetenv("AWS_RETRY_MODE");
	ams_err_clear(&err);
	setenv("AWS_CA_BUNDLE", "/nonexistent/ca.pem", 1);
	CHECK_RC(AMS_EUSAGE, ams_http_opts_from_env(&o, &err), &err);
	unsetenv("AWS_CA_BUNDLE");
	ams_err_clear(&err);
	ams_http_opts_init(&o);
	o.max_in_flight = 0;
	CHECK_RC(AMS_EUSAGE, ams_http_new(&h, &o, &err), &err);
	CHECK(h == NULL);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	srv_ok = test_server_start(&srv) == 0;
	if (!srv_ok) {
		printf("not ok 1 - scripted server started\n1..1\n");
		return 1;
	}
	TEST(test_options, "options and AWS_* environment");
	TEST(test_done_is_async, "done runs from the loop, never in submit");
	test_retry_rules();
	TEST(test_backoff_function, "backoff: full jitter within the cap");
	TEST(test_backoff_measured, "backoff: measured delays within bounds");
	TEST(test_retry_after, "Retry-After is honoured");
	TEST(test_retry_quota, "retry quota: exhaustion stops retries");
	TEST(test_quota_refund_after_retry,
	     "retry quota: timeout cost refunded on success");
	TEST(test_window, "window retries: bounded by time, not attempts");
	TEST(test_rate_bucket_math, "rate bucket: reservation arithmetic");
	TEST(test_quota_math, "retry quota and registry arithmetic");
	TEST(test_rate_pacing, "rate bucket paces queued requests");
	TEST(test_body_cap, "response size cap gives AMS_ELIMIT");
	TEST(test_connection_reuse, "200 requests, 8 in flight, <= 8 conns");
	TEST(test_idle_connection_closed,
	     "an idle connection closed by the server: no spin, reconnects");
	TEST(test_park_resume, "prepare can park; resume and dead parks");
	TEST(test_stop, "stop cancels queued and abandons running");
	TEST(test_headers_and_methods, "headers, PUT body, CRLF refused");
	TEST(test_response_headers, "response header lookup");
	TEST(test_connect_refused, "refused connection retried then ENET");
	test_server_stop(&srv);
	curl_global_cleanup();
	return test_done();
}
