/*
 * The concurrent HTTP engine: one libcurl multi handle for the whole run.
 *
 * Every HTTP exchange amishare makes (signed AWS calls through aws.h, and
 * the unsigned IMDS and container-credential calls of the credential
 * chain) is a struct ams_http_req queued on one struct ams_http. The
 * engine owns one connection cache, DNS cache and TLS session cache, so the
 * number of TLS handshakes follows the number of endpoints, not the number
 * of accounts.
 *
 * Life of a request:
 *
 *	req = ams_http_req_new(http);          engine-owned, from a pool
 *	ams_http_req_set_url(req, url);        fill the inputs
 *	ams_http_req_set_header(req, "Accept", "application/json");
 *	req->done = on_done; req->payload = ctx;
 *	ams_http_submit(http, req);            queued; never calls done
 *	...
 *	ams_http_run(http, &err);              drives until nothing is left
 *
 * Each attempt goes: wait for not_before_ms (backoff) -> take a rate token
 * (req->bucket, see ratelimit.h, which learns from the THROTTLED verdicts
 * and successes of its requests) -> wait for a free in-flight slot ->
 * prepare hook (the AWS layer signs here with a fresh clock) -> transfer ->
 * classify -> done, or re-queue for another attempt. `done` is called
 * exactly once per submitted request, always from inside ams_http_step()
 * or ams_http_run(), never from inside ams_http_submit(), even when the
 * request fails at once. After `done` returns the engine recycles the
 * request: pointers into it must not be kept (take the body with
 * ams_buf_detach() or a swap if needed).
 *
 * Retries follow the AWS SDK "standard" mode (aws-behaviour.md §13):
 * max_attempts total attempts, full-jitter exponential backoff
 * uniform(0,1) * min(base * 2^(n-1), cap), a retry quota token bucket (500,
 * cost 5, 10 after a timeout; refund 1 on first-try success, the last cost
 * after a retried success; a throttled request that has a rate bucket
 * retries free, paced by the bucket), Retry-After honoured. The engine
 * knows nothing about AWS error codes: it classifies transport errors and
 * HTTP statuses itself and lets the request's classify hook override
 * (aws.c does that after parsing the error document).
 *
 * Everything runs on the calling thread; there are no locks. Nothing here
 * sleeps: waiting happens in epoll_wait() (Linux) or curl_multi_poll().
 */
#ifndef AMS_HTTP_H
#define AMS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

struct ams_http;
struct ams_http_req;
struct ams_http_slot; /* engine-private per-attempt transfer state */
struct ams_rate_bucket;
struct ams_retry_quota;

/* ---- Engine options ---------------------------------------------------- */

struct ams_http_opts {
	/*
	 * Transfers running at once (default 64). Also the per-host and total
	 * connection limits, so connections <= in-flight per endpoint.
	 */
	unsigned max_in_flight;
	unsigned max_attempts;	  /* total attempts per request (default 3) */
	long connect_timeout_ms;  /* per attempt (default 10000) */
	long timeout_ms;	  /* whole attempt (default 60000) */
	size_t max_body_bytes;	  /* response body cap (default 16 MiB) */
	uint64_t backoff_base_ms; /* standard mode: 1000 */
	uint64_t backoff_cap_ms;  /* standard mode: 20000 */
	/* Longest Retry-After honoured; longer values are cut to it. */
	uint64_t max_retry_after_ms; /* default 20000 */
	/* The engine-wide retry quota (default 500; 0 disables the quota). */
	unsigned retry_quota;
	/*
	 * Backoff for AMS_HTTP_RETRY_WINDOW verdicts (default 1000 and
	 * 15000): full jitter over min(base * 2^(n-1), cap), with n counting
	 * window retries only.
	 */
	uint64_t window_base_ms;
	uint64_t window_cap_ms;
	/*
	 * PEM CA bundle for TLS verification; NULL = libcurl's default store.
	 * Copied. TLS peer and host verification are always on.
	 */
	const char *ca_bundle;
	/* Seed of the jitter generator; 0 picks one from time and pid. */
	uint64_t seed;
	/* Test hook: 1 forces HTTP/1.1 (default), 2 allows HTTP/2 over TLS. */
	int http_version;
};

/* Fills *opts with the defaults above. */
void ams_http_opts_init(struct ams_http_opts *opts);
/*
 * Applies the environment: AWS_MAX_ATTEMPTS (1-100), AWS_CA_BUNDLE (a
 * readable file; the pointer stored in opts is getenv's) and
 * AWS_RETRY_MODE (standard or legacy are accepted and mean standard here;
 * adaptive is refused). Returns AMS_OK or AMS_EUSAGE naming the variable
 * and its bad value.
 */
enum ams_code ams_http_opts_from_env(struct ams_http_opts *opts,
				     struct ams_err *err);

/* ---- Requests ---------------------------------------------------------- */

enum ams_http_method {
	AMS_HTTP_GET = 0,
	AMS_HTTP_POST,
	AMS_HTTP_PUT,
	AMS_HTTP_DELETE,
	AMS_HTTP_HEAD,
};

/* What to do with a finished attempt (see ams_http_classify_fn). */
enum ams_http_retry {
	AMS_HTTP_FINAL = 0,	  /* no retry; req->err tells the outcome */
	AMS_HTTP_RETRY_TRANSIENT, /* standard retry, quota cost 5 */
	AMS_HTTP_RETRY_TIMEOUT,	  /* standard retry, quota cost 10 */
	AMS_HTTP_RETRY_THROTTLED, /* standard retry, cost 5, counted */
	/*
	 * Caller-chosen retry inside req->retry_window_ms measured from the
	 * first attempt: window backoff, no attempt budget, no quota. When
	 * the window is spent the attempt is final.
	 */
	AMS_HTTP_RETRY_WINDOW,
	/*
	 * Retry at once, without budget or quota, at most once per request
	 * (after a credential refresh the prepare hook arranges). A second
	 * REFRESH verdict is final.
	 */
	AMS_HTTP_RETRY_REFRESH,
};

/* What the prepare hook decided. */
enum ams_http_prep {
	AMS_HTTP_PREP_GO = 0, /* send now */
	/*
	 * Not yet: the engine parks the request (it holds no slot) until
	 * someone calls ams_http_req_resume(), which re-runs prepare.
	 */
	AMS_HTTP_PREP_PARK,
	AMS_HTTP_PREP_FAIL, /* req->err is set; finish without sending */
};

/*
 * Runs before every attempt, right before the transfer starts (after any
 * backoff, rate and slot wait). It may change the URL, headers and body,
 * e.g. to sign with the current time and credentials.
 */
typedef enum ams_http_prep(ams_http_prepare_fn)(struct ams_http_req *req,
						void *payload);
/*
 * Runs after every attempt. On entry req->status, resp_headers and
 * resp_body hold the answer, req->err the engine's verdict (AMS_OK for
 * 2xx, AMS_ENET for transport errors, AMS_EHTTP "http <status>" for
 * other statuses, AMS_ELIMIT for an oversized answer, AMS_EUSAGE for an
 * unusable URL) and dflt the engine's classification: transport resets,
 * refused connections and partial bodies are TRANSIENT, timeouts TIMEOUT,
 * 429 THROTTLED, 500/502/503/504 TRANSIENT, everything else FINAL. The
 * hook may rewrite req->err (ams_err_clear first) and returns the verdict
 * the engine applies.
 */
typedef enum ams_http_retry(ams_http_classify_fn)(struct ams_http_req *req,
						  enum ams_http_retry dflt,
						  void *payload);
/* Called once when the request is finished; see the file comment. */
typedef void(ams_http_done_fn)(struct ams_http_req *req, void *payload);

struct ams_http_header {
	char *name; /* owned */
	char *value;
};

/*
 * A request. Fields marked "in" are set by the caller before
 * ams_http_submit() (and may be changed by prepare); "out" fields are
 * filled by the engine and valid inside classify and done; the rest is
 * the engine's.
 */
struct ams_http_req {
	/* in */
	enum ams_http_method method;	 /* default GET */
	char *url;			 /* set with ams_http_req_set_url */
	struct ams_http_header *headers; /* ams_http_req_set_header */
	size_t nheaders;
	struct ams_buf body; /* sent for POST and PUT (may be empty) */
	long timeout_ms;     /* 0 = engine default */
	long connect_timeout_ms;
	size_t max_body_bytes;		/* 0 = engine default */
	unsigned max_attempts;		/* 0 = engine default; 1 = no retries */
	uint64_t retry_window_ms;	/* budget for AMS_HTTP_RETRY_WINDOW */
	struct ams_rate_bucket *bucket; /* borrowed; NULL = not limited */
	struct ams_retry_quota *quota;	/* borrowed; NULL = engine's */
	ams_http_prepare_fn *prepare;	/* optional */
	ams_http_classify_fn *classify; /* optional */
	ams_http_done_fn *done;		/* required */
	void *payload;
	/* Short text for debug logs, e.g. "ec2 DescribeImages us-east-1". */
	char label[96];

	/* out */
	struct ams_err err;	     /* outcome of the last attempt */
	long status;		     /* HTTP status, 0 when none arrived */
	struct ams_buf resp_headers; /* last response's header block */
	struct ams_buf resp_body;
	unsigned attempts;	 /* transfers started */
	unsigned retries;	 /* attempts after the first */
	uint64_t retry_after_ms; /* last Retry-After seen, 0 = none */
	uint64_t submit_ms;	 /* ams_clock_mono_ms() at submit */
	uint64_t first_attempt_ms;
	uint64_t attempt_ms; /* when the last attempt started */
	uint64_t end_ms;
	long connects; /* new connections its attempts opened */

	/* engine state */
	struct ams_http *http;
	struct ams_http_slot *slot;
	struct ams_http_req *next, *prev;
	uint64_t not_before_ms;
	size_t heap_index;
	unsigned state;
	unsigned budget_used; /* attempts counted against max_attempts */
	unsigned window_retries;
	unsigned last_cost;
	bool refreshed;
	bool token_held;
	bool too_big;
	bool free_attempt; /* next attempt is outside the budget */
	bool bad_header;
};

/*
 * A request from the engine's pool, zeroed and ready to fill (method GET,
 * empty body). Owned by the engine: hand it to ams_http_submit(), or give
 * it back unsubmitted with ams_http_req_discard().
 */
struct ams_http_req *ams_http_req_new(struct ams_http *http);
/* Returns an unsubmitted request to the pool. NULL does nothing. */
void ams_http_req_discard(struct ams_http_req *req);
/* Replaces the URL (copied). */
void ams_http_req_set_url(struct ams_http_req *req, const char *url);
/*
 * Sets header name to value (both copied), replacing an existing header of
 * that name (case-insensitive); value NULL removes it. Names and values
 * must not contain CR or LF (such a header is dropped and the request
 * fails with AMS_EUSAGE when it starts).
 */
void ams_http_req_set_header(struct ams_http_req *req, const char *name,
			     const char *value);
/* The value of request header name, or NULL. Borrowed. */
const char *ams_http_req_get_header(const struct ams_http_req *req,
				    const char *name);
/*
 * Finds response header name (case-insensitive) in the last response and
 * returns its trimmed value as a view into req->resp_headers, or a view
 * with ptr NULL when absent.
 */
struct ams_str ams_http_resp_header(const struct ams_http_req *req,
				    const char *name);

/*
 * Queues req (which the engine owns from now on). Never calls done; a
 * request that cannot start (no URL, engine stopping) finishes with an
 * error on the next step.
 */
void ams_http_submit(struct ams_http *http, struct ams_http_req *req);
/*
 * Queues req as already failed with a copy of err (which must hold an
 * error): done runs on the next step, as for any other request. For
 * callers that find a problem before the request could be sent.
 */
void ams_http_fail(struct ams_http *http, struct ams_http_req *req,
		   const struct ams_err *err);
/*
 * Moves a request parked by its prepare hook back into the queue; prepare
 * runs again when it gets a slot. Safe from any callback. Does nothing
 * for a request that is not parked.
 */
void ams_http_req_resume(struct ams_http_req *req);

/* ---- Engine ------------------------------------------------------------ */

/*
 * Creates the engine (one CURLM, one CURLSH for DNS and TLS sessions).
 * curl_global_init() must have run. opts may be NULL for the defaults;
 * it is copied. Returns AMS_OK, or AMS_EUSAGE for invalid options
 * (max_in_flight 0 or above 4096, max_attempts 0, ca_bundle unreadable),
 * AMS_ENET when libcurl refuses to initialise. Free with ams_http_free.
 */
enum ams_code ams_http_new(struct ams_http **out,
			   const struct ams_http_opts *opts,
			   struct ams_err *err);
/*
 * Frees the engine. Requests still queued or running are dropped without
 * their done callbacks: stop and run the engine dry first. NULL is fine.
 */
void ams_http_free(struct ams_http *http);

/*
 * One turn of the loop: start what may start, wait in curl_multi_poll()
 * at most max_wait_ms (less when a backoff, rate token or stop deadline
 * falls due sooner; 0 = do not wait), finish transfers, schedule retries
 * and call done callbacks (which may submit more). Returns AMS_OK, or
 * AMS_ENET when libcurl's multi interface fails.
 */
enum ams_code ams_http_step(struct ams_http *http, long max_wait_ms,
			    struct ams_err *err);
/*
 * Steps until no request is queued, parked, running or awaiting its done
 * callback. Parked requests with nothing else left that could resume
 * them fail with AMS_ECANCELED ("waited for a resume that cannot come").
 * Must not be called from inside a callback.
 */
enum ams_code ams_http_run(struct ams_http *http, struct ams_err *err);
/* Requests submitted and not yet finished (done not yet returned). */
size_t ams_http_pending(const struct ams_http *http);

/*
 * Stops the engine: nothing new is admitted; queued, waiting and parked
 * requests finish with AMS_ECANCELED; running transfers may finish within
 * grace_ms, after which they are abandoned and finish with AMS_ECANCELED.
 * No retries are scheduled after a stop. Call from the loop's thread (a
 * signal handler sets a flag and calls ams_http_wakeup; the loop's owner
 * then calls this).
 */
void ams_http_stop(struct ams_http *http, uint64_t grace_ms);
bool ams_http_stopping(const struct ams_http *http);
/* Makes a waiting ams_http_step() return early. Async-signal-safe. */
void ams_http_wakeup(struct ams_http *http);

/* Counters for reports and benchmarks. */
struct ams_http_stats {
	uint64_t requests;  /* submitted */
	uint64_t attempts;  /* transfers started */
	uint64_t retries;   /* attempts after a first attempt */
	uint64_t throttled; /* attempts classified THROTTLED */
	uint64_t failed;    /* requests finished with an error */
	uint64_t connects;  /* connections opened (CURLINFO_NUM_CONNECTS) */
	uint64_t quota_refusals; /* retries refused by the retry quota */
	uint64_t bytes_in;	 /* response body bytes */
	unsigned peak_in_flight;
};
void ams_http_get_stats(struct ams_http_stats *out,
			const struct ams_http *http);
/* The engine's options after defaults were applied. Borrowed. */
const struct ams_http_opts *ams_http_get_opts(const struct ams_http *http);

/*
 * The full-jitter backoff of retry n (1-based): a uniform draw in
 * [0, min(base_ms * 2^(n-1), cap_ms)] from the engine's seeded generator.
 * Exposed for tests.
 */
uint64_t ams_http_backoff_ms(struct ams_http *http, unsigned n,
			     uint64_t base_ms, uint64_t cap_ms);

#endif
