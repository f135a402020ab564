/*
 * The HTTP engine: a request queue on one libcurl multi handle, after the
 * parallel loop of curl's own tool (src/tool_operate.c).
 *
 * A request moves through these states:
 *
 *   TIMED    in a min-heap ordered by not_before_ms (new requests, backoff,
 *            rate-token reservations)
 *   READY    due and holding its rate token; FIFO waiting for a slot
 *   PARKED   its prepare hook asked to wait (credential refresh)
 *   RUNNING  an easy handle in the multi handle
 *   DONE     finished; its done callback runs at the end of the step
 *
 * One step: promote due requests, start as many as max_in_flight allows,
 * wait for socket activity until the next timer, let libcurl act, read
 * the finished transfers, classify each (engine default, then the
 * request's classify hook), schedule retries, then run the done callbacks.
 * Nothing here sleeps, and done never runs inside submit.
 *
 * On Linux the wait is epoll over the sockets libcurl reports through
 * CURLMOPT_SOCKETFUNCTION, and only the sockets with events are handed to
 * curl_multi_socket_action(): the cost of a step follows the transfers
 * that progressed, not the number in flight (curl_multi_poll() and
 * curl_multi_perform() visit every transfer on every step). Elsewhere the
 * engine falls back to curl_multi_poll() and curl_multi_perform().
 *
 * Easy handles and request objects are pooled: a handle is reset with
 * curl_easy_reset() and reused, so a run of thousands of calls allocates
 * about max_in_flight of them. Connections belong to the multi handle's
 * cache; DNS results and TLS sessions are shared through one CURLSH.
 */
#include "http.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/epoll.h>
#include <sys/eventfd.h>
#define USE_EPOLL 1
#endif

#include "clock.h"
#include "log.h"
#include "ratelimit.h"
#include "xmem.h"

#ifndef AMS_VERSION
#define AMS_VERSION "dev"
#endif

#define MAX_HEADER_BYTES (64u * 1024)
/* Request buffers larger than this are freed rather than pooled. */
#define POOL_KEEP_BYTES (8u * 1024)

enum req_state {
	ST_IDLE = 0,
	ST_TIMED,
	ST_READY,
	ST_PARKED,
	ST_RUNNING,
	ST_DONE,
};

struct ams_http_slot {
	CURL *easy;
	struct curl_slist *headers;
	struct ams_http_slot *next_free;
	char errbuf[CURL_ERROR_SIZE];
};

struct req_list {
	struct ams_http_req *head, *tail;
	size_t len;
};

struct ams_http {
	CURLM *multi;
	CURLSH *share;
	struct ams_http_opts opts;
	char *ca_bundle;
	char user_agent[48];

	struct ams_http_req **heap;
	size_t heap_len, heap_alloc;
	struct req_list ready, parked, running, done;

	struct ams_http_req *free_reqs;
	size_t nfree_reqs;
	struct ams_http_slot *free_slots;

	size_t pending; /* submitted, done not yet returned */
#ifdef USE_EPOLL
	int epfd;	     /* sockets libcurl watches, and wake_fd */
	int wake_fd;	     /* eventfd: ams_http_wakeup() */
	bool curl_timer_set; /* libcurl asked for a timeout action */
	uint64_t curl_due_ms;
	/*
	 * Per descriptor number: FD_OURS for connection sockets opened and
	 * closed through our callbacks, FD_IN_EPOLL with the events in the
	 * set, FD_WANTED while libcurl watches it. A connection going idle
	 * between two requests stays in the set (two epoll_ctl calls less
	 * per request); an event on it while unwanted takes it out.
	 */
	uint32_t *fd_state;
	size_t fd_cap;
#endif
	struct ams_retry_quota quota;
	uint64_t rng;
	struct ams_http_stats stats;
	bool stopping;
	uint64_t stop_deadline_ms;
};

/* ---- Options --------------------------------------------------------- */

void ams_http_opts_init(struct ams_http_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->max_in_flight = 64;
	opts->max_attempts = 3;
	opts->connect_timeout_ms = 10000;
	opts->timeout_ms = 60000;
	opts->max_body_bytes = 16u * 1024 * 1024;
	opts->backoff_base_ms = 1000;
	opts->backoff_cap_ms = 20000;
	opts->max_retry_after_ms = 20000;
	opts->retry_quota = AMS_RETRY_QUOTA_CAPACITY;
	opts->window_base_ms = 1000;
	opts->window_cap_ms = 15000;
	opts->http_version = 1;
}

static bool file_readable(const char *path)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	fclose(f);
	return true;
}

enum ams_code ams_http_opts_from_env(struct ams_http_opts *opts,
				     struct ams_err *err)
{
	const char *v;
	unsigned long long n;

	v = getenv("AWS_MAX_ATTEMPTS");
	if (v && *v) {
		if (!ams_str_to_u64(ams_str_from(v), 100, &n) || n < 1)
			return ams_fail(err, AMS_EUSAGE,
					"AWS_MAX_ATTEMPTS: expected a number "
					"from 1 to 100, got '%.32s'",
					v);
		opts->max_attempts = (unsigned)n;
	}
	v = getenv("AWS_CA_BUNDLE");
	if (v && *v) {
		if (!file_readable(v))
			return ams_fail(err, AMS_EUSAGE,
					"AWS_CA_BUNDLE: cannot read '%s'", v);
		opts->ca_bundle = v;
	}
	v = getenv("AWS_RETRY_MODE");
	if (v && *v && strcmp(v, "standard") && strcmp(v, "legacy"))
		return ams_fail(err, AMS_EUSAGE,
				"AWS_RETRY_MODE: expected standard or "
				"legacy, got '%.32s'",
				v);
	return AMS_OK;
}

/* ---- Lists and heap -------------------------------------------------- */

static void list_push(struct req_list *l, struct ams_http_req *r)
{
	r->next = NULL;
	r->prev = l->tail;
	if (l->tail)
		l->tail->next = r;
	else
		l->head = r;
	l->tail = r;
	l->len++;
}

static void list_remove(struct req_list *l, struct ams_http_req *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		l->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		l->tail = r->prev;
	r->next = r->prev = NULL;
	l->len--;
}

static struct ams_http_req *list_pop(struct req_list *l)
{
	struct ams_http_req *r = l->head;

	/* The analyzer cannot tell that no request links to itself. */
	if (r)
		list_remove(l, r); /* NOLINT(clang-analyzer-unix.Malloc) */
	return r;
}

static bool heap_less(const struct ams_http_req *a,
		      const struct ams_http_req *b)
{
	return a->not_before_ms < b->not_before_ms;
}

static void heap_set(struct ams_http *h, size_t i, struct ams_http_req *r)
{
	h->heap[i] = r;
	r->heap_index = i;
}

static void heap_push(struct ams_http *h, struct ams_http_req *r)
{
	size_t i;

	if (h->heap_len == h->heap_alloc) {
		h->heap_alloc = h->heap_alloc ? h->heap_alloc * 2 : 64;
		h->heap =
		    xreallocarray(h->heap, h->heap_alloc, sizeof(*h->heap));
	}
	i = h->heap_len++;
	while (i > 0 && heap_less(r, h->heap[(i - 1) / 2])) {
		heap_set(h, i, h->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(h, i, r);
}

static struct ams_http_req *heap_pop(struct ams_http *h)
{
	struct ams_http_req *top, *last;
	size_t i = 0, child;

	if (!h->heap_len)
		return NULL;
	top = h->heap[0];
	last = h->heap[--h->heap_len];
	while ((child = 2 * i + 1) < h->heap_len) {
		if (child + 1 < h->heap_len &&
		    heap_less(h->heap[child + 1], h->heap[child]))
			child++;
		if (!heap_less(h->heap[child], last))
			break;
		heap_set(h, i, h->heap[child]);
		i = child;
	}
	if (h->heap_len)
		heap_set(h, i, last);
	return top;
}

/* ---- Jitter ---------------------------------------------------------- */

/* splitmix64: small, fast, and seedable for deterministic tests. */
static uint64_t next_random(struct ams_http *h)
{
	uint64_t z = (h->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t ams_http_backoff_ms(struct ams_http *http, unsigned n,
			     uint64_t base_ms, uint64_t cap_ms)
{
	uint64_t ceiling = base_ms;
	double u;
	unsigned i;

	for (i = 1; i < n && ceiling < cap_ms; i++)
		ceiling *= 2;
	if (ceiling > cap_ms)
		ceiling = cap_ms;
	u = (double)(next_random(http) >> 11) * (1.0 / 9007199254740992.0);
	return (uint64_t)(u * (double)ceiling);
}

/* ---- Requests -------------------------------------------------------- */

static void reset_buf(struct ams_buf *sb)
{
	if (sb->alloc > POOL_KEEP_BYTES)
		ams_buf_release(sb);
	else
		ams_buf_reset(sb);
}

static void free_headers(struct ams_http_req *req)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++) {
		free(req->headers[i].name);
		ams_free_secret(req->headers[i].value);
	}
	free(req->headers);
	req->headers = NULL;
	req->nheaders = 0;
}

struct ams_http_req *ams_http_req_new(struct ams_http *http)
{
	struct ams_http_req *req = http->free_reqs;

	if (req) {
		http->free_reqs = req->next;
		http->nfree_reqs--;
		req->next = NULL;
	} else {
		req = xcalloc(1, sizeof(*req));
		ams_buf_init(&req->body, 0);
		ams_buf_init(&req->resp_headers, 0);
		ams_buf_init(&req->resp_body, 0);
	}
	req->http = http;
	req->method = AMS_HTTP_GET;
	return req;
}

/* Clears everything but the pooled buffers and the engine pointer. */
static void recycle(struct ams_http_req *req)
{
	struct ams_http *http = req->http;
	struct ams_buf body = req->body, hdrs = req->resp_headers,
		       resp = req->resp_body;

	free(req->url);
	free_headers(req);
	/* A request body may hold a web identity token: wipe it. */
	ams_wipe(body.buf, body.len);
	reset_buf(&body);
	reset_buf(&hdrs);
	/*
	 * Answers are not pooled: a request waiting in the queue should not
	 * hold the memory of an earlier answer, which may carry credentials
	 * (AssumeRole), so it is wiped. The next one is allocated at its own
	 * size (body_size_hint).
	 */
	ams_buf_release_secure(&resp);
	memset(req, 0, sizeof(*req));
	req->body = body;
	req->resp_headers = hdrs;
	req->resp_body = resp;
	req->http = http;
	if (http->nfree_reqs >= http->opts.max_in_flight + 16) {
		ams_buf_release(&req->body);
		ams_buf_release(&req->resp_headers);
		ams_buf_release(&req->resp_body);
		free(req);
		return;
	}
	req->next = http->free_reqs;
	http->free_reqs = req;
	http->nfree_reqs++;
}

void ams_http_req_discard(struct ams_http_req *req)
{
	if (req)
		recycle(req);
}

void ams_http_req_set_url(struct ams_http_req *req, const char *url)
{
	free(req->url);
	req->url = url ? xstrdup(url) : NULL;
}

static bool has_crlf(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

void ams_http_req_set_header(struct ams_http_req *req, const char *name,
			     const char *value)
{
	size_t i;

	if (has_crlf(name) || (value && has_crlf(value)) || !*name ||
	    strchr(name, ':')) {
		req->bad_header = true;
		return;
	}
	for (i = 0; i < req->nheaders; i++)
		if (!strcasecmp(req->headers[i].name, name))
			break;
	if (i < req->nheaders) {
		ams_free_secret(req->headers[i].value);
		if (value) {
			req->headers[i].value = xstrdup(value);
			return;
		}
		free(req->headers[i].name);
		memmove(&req->headers[i], &req->headers[i + 1],
			(req->nheaders - i - 1) * sizeof(*req->headers));
		req->nheaders--;
		return;
	}
	if (!value)
		return;
	req->headers = xreallocarray(req->headers, req->nheaders + 1,
				     sizeof(*req->headers));
	req->headers[req->nheaders].name = xstrdup(name);
	req->headers[req->nheaders].value = xstrdup(value);
	req->nheaders++;
}

const char *ams_http_req_get_header(const struct ams_http_req *req,
				    const char *name)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++)
		if (!strcasecmp(req->headers[i].name, name))
			return req->headers[i].value;
	return NULL;
}

struct ams_str ams_http_resp_header(const struct ams_http_req *req,
				    const char *name)
{
	struct ams_str rest =
	    ams_str_make(req->resp_headers.buf, req->resp_headers.len);
	size_t n = strlen(name);

	while (rest.ptr) {
		struct ams_str line = ams_str_split(&rest, '\n');

		if (line.len > n && line.ptr[n] == ':' &&
		    !strncasecmp(line.ptr, name, n))
			return ams_str_trim(
			    ams_str_make(line.ptr + n + 1, line.len - n - 1));
	}
	return AMS_STR_NULL;
}

/* ---- Completion ------------------------------------------------------ */

static void complete(struct ams_http *h, struct ams_http_req *req)
{
	struct ams_retry_quota *q = req->quota ? req->quota : &h->quota;

	req->state = ST_DONE;
	req->end_ms = ams_clock_mono_ms();
	if (req->err.code) {
		h->stats.failed++;
	} else {
		if (req->bucket && req->attempts)
			ams_rate_bucket_ok(req->bucket, req->end_ms);
		/* §13: refund 1 on a first-try success, else the last cost. */
		ams_retry_quota_release(q, req->last_cost
					       ? req->last_cost
					       : AMS_RETRY_NO_RETRY_REFUND);
	}
	list_push(&h->done, req);
}

static void schedule(struct ams_http *h, struct ams_http_req *req,
		     uint64_t when_ms)
{
	req->state = ST_TIMED;
	req->not_before_ms = when_ms;
	heap_push(h, req);
}

void ams_http_submit(struct ams_http *http, struct ams_http_req *req)
{
	uint64_t now = ams_clock_mono_ms();

	http->stats.requests++;
	http->pending++;
	req->submit_ms = now;
	ams_err_clear(&req->err);
	if (!req->done) {
		/* Without a callback nobody would learn the outcome. */
		ams_log_error("http: request without a done callback dropped");
		http->pending--;
		recycle(req);
		return;
	}
	if (http->stopping) {
		ams_fail(&req->err, AMS_ECANCELED, "stopped before sending");
		complete(http, req);
		return;
	}
	if (!req->url || !*req->url) {
		ams_fail(&req->err, AMS_EUSAGE, "http: request without a URL");
		complete(http, req);
		return;
	}
	schedule(http, req, now);
}

void ams_http_fail(struct ams_http *http, struct ams_http_req *req,
		   const struct ams_err *err)
{
	http->stats.requests++;
	http->pending++;
	req->submit_ms = ams_clock_mono_ms();
	ams_err_clear(&req->err);
	ams_err_copy(&req->err, err);
	if (!req->err.code)
		ams_fail(&req->err, AMS_EUSAGE,
			 "request failed before sending");
	if (!req->done) {
		ams_log_error("http: request without a done callback dropped");
		http->pending--;
		recycle(req);
		return;
	}
	complete(http, req);
}

void ams_http_req_resume(struct ams_http_req *req)
{
	struct ams_http *h = req->http;

	if (req->state != ST_PARKED)
		return;
	list_remove(&h->parked, req);
	/* It already waited for its rate token and backoff. */
	req->state = ST_READY;
	list_push(&h->ready, req);
}

/* ---- Transfers ------------------------------------------------------- */

/*
 * The size to allocate for a response body at its first piece (n bytes):
 * its Content-Length when given and within max, so the body is stored in
 * one allocation of the right size; at most BODY_HINT_MAX, so an answer
 * that announces more than it sends cannot make 64 transfers reserve
 * megabytes each.
 */
#define BODY_HINT_MAX (256u * 1024)
static size_t body_size_hint(const struct ams_http_req *req, size_t n,
			     size_t max)
{
	curl_off_t cl = -1;

	if (!req->slot || curl_easy_getinfo(req->slot->easy,
					    CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
					    &cl) != CURLE_OK)
		return n;
	if (cl > (curl_off_t)BODY_HINT_MAX)
		cl = BODY_HINT_MAX;
	return cl > (curl_off_t)n && (size_t)cl <= max ? (size_t)cl : n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct ams_http_req *req = userp;
	size_t n = size * nmemb;
	size_t max = req->max_body_bytes ? req->max_body_bytes
					 : req->http->opts.max_body_bytes;

	if (req->resp_body.len + n > max) {
		req->too_big = true;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	if (!req->resp_body.alloc)
		ams_buf_grow(&req->resp_body, body_size_hint(req, n, max));
	ams_buf_add(&req->resp_body, data, n);
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
	struct ams_http_req *req = userp;
	size_t n = size * nmemb;

	/* A new status line starts a new response (after 100 Continue). */
	if (n >= 5 && !memcmp(data, "HTTP/", 5))
		ams_buf_reset(&req->resp_headers);
	if (req->resp_headers.len + n > MAX_HEADER_BYTES) {
		req->too_big = true;
		return 0;
	}
	/* Stored with LF line ends, which ams_http_resp_header splits on. */
	while (n && (data[n - 1] == '\n' || data[n - 1] == '\r'))
		n--;
	if (n) {
		ams_buf_add(&req->resp_headers, data, n);
		ams_buf_addch(&req->resp_headers, '\n');
	}
	return size * nmemb;
}

#ifdef USE_EPOLL
static curl_socket_t on_open_socket(void *clientp, curlsocktype purpose,
				    struct curl_sockaddr *addr);
static int on_close_socket(void *clientp, curl_socket_t fd);
#endif

/* Options that never change for a handle: set once when it is created. */
static void configure_once(struct ams_http *h, struct ams_http_slot *s)
{
	CURL *e = s->easy;

	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_SHARE, h->share);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	/*
	 * AWS answers here are a few KiB: an 8 KiB receive buffer reads most
	 * in one call and halves libcurl's default per handle (16 KiB, times
	 * the in-flight limit).
	 */
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 8192L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
			 h->opts.http_version == 2
			     ? (long)CURL_HTTP_VERSION_2TLS
			     : (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->ca_bundle)
		curl_easy_setopt(e, CURLOPT_CAINFO, h->ca_bundle);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, h->user_agent);
#ifdef USE_EPOLL
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, h);
	curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
	curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, h);
#endif
}

/*
 * A handle from the pool. Handles are not curl_easy_reset(): every option
 * an attempt may change is set again by configure().
 */
static struct ams_http_slot *get_slot(struct ams_http *h)
{
	struct ams_http_slot *s = h->free_slots;

	if (s) {
		h->free_slots = s->next_free;
		return s;
	}
	s = xcalloc(1, sizeof(*s));
	s->easy = curl_easy_init();
	if (!s->easy) {
		free(s);
		return NULL;
	}
	configure_once(h, s);
	return s;
}

static void put_slot(struct ams_http *h, struct ams_http_slot *s)
{
	curl_slist_free_all(s->headers);
	s->headers = NULL;
	s->next_free = h->free_slots;
	h->free_slots = s;
}

static struct curl_slist *build_headers(const struct ams_http_req *req)
{
	struct curl_slist *list = NULL, *next;
	struct ams_buf line = AMS_BUF_INIT;
	size_t i;

	for (i = 0; i < req->nheaders; i++) {
		ams_buf_reset(&line);
		ams_buf_addstr(&line, req->headers[i].name);
		/* "Name;" is curl's way to send a header with no value. */
		if (*req->headers[i].value) {
			ams_buf_add(&line, ": ", 2);
			ams_buf_addstr(&line, req->headers[i].value);
		} else {
			ams_buf_addch(&line, ';');
		}
		next = curl_slist_append(list, line.buf);
		if (!next)
			break;
		list = next;
	}
	/* Never wait for 100 Continue: bodies here are small. */
	if (!ams_http_req_get_header(req, "Expect")) {
		next = curl_slist_append(list, "Expect:");
		if (next)
			list = next;
	}
	ams_buf_release_secure(&line);
	return list;
}

static void set_method(CURL *e, struct ams_http_req *req)
{
	bool with_body = req->method == AMS_HTTP_POST ||
			 req->method == AMS_HTTP_PUT ||
			 (req->method == AMS_HTTP_DELETE && req->body.len);

	/* Undo whatever the handle's previous request set. */
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
	curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	switch (req->method) {
	case AMS_HTTP_GET: break;
	case AMS_HTTP_HEAD: curl_easy_setopt(e, CURLOPT_NOBODY, 1L); break;
	case AMS_HTTP_POST: curl_easy_setopt(e, CURLOPT_POST, 1L); break;
	case AMS_HTTP_PUT:
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
		break;
	case AMS_HTTP_DELETE:
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");
		break;
	}
	if (with_body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body.buf);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)req->body.len);
	}
}

static void configure(struct ams_http *h, struct ams_http_slot *s,
		      struct ams_http_req *req)
{
	CURL *e = s->easy;
	long connect_ms = req->connect_timeout_ms ? req->connect_timeout_ms
						  : h->opts.connect_timeout_ms;
	long total_ms = req->timeout_ms ? req->timeout_ms : h->opts.timeout_ms;

	s->errbuf[0] = '\0';
	s->headers = build_headers(req);
	curl_easy_setopt(e, CURLOPT_URL, req->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, req);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, req);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, total_ms);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->headers);
	set_method(e, req);
}

static void start_attempt(struct ams_http *h, struct ams_http_req *req)
{
	struct ams_http_slot *s;
	enum ams_http_prep prep = AMS_HTTP_PREP_GO;
	CURLMcode mc;

	ams_err_clear(&req->err);
	req->status = 0;
	req->too_big = false;
	req->retry_after_ms = 0;
	ams_buf_reset(&req->resp_headers);
	ams_buf_reset(&req->resp_body);
	if (req->prepare)
		prep = req->prepare(req, req->payload);
	if (prep == AMS_HTTP_PREP_PARK) {
		req->state = ST_PARKED;
		list_push(&h->parked, req);
		return;
	}
	if (prep == AMS_HTTP_PREP_FAIL || req->bad_header) {
		if (!req->err.code)
			ams_fail(&req->err, AMS_EUSAGE,
				 "http: invalid header in request");
		complete(h, req);
		return;
	}
	s = get_slot(h);
	if (!s) {
		ams_fail(&req->err, AMS_ENET, "http: cannot create a handle");
		complete(h, req);
		return;
	}
	configure(h, s, req);
	mc = curl_multi_add_handle(h->multi, s->easy);
	if (mc != CURLM_OK) {
		put_slot(h, s);
		ams_fail(&req->err, AMS_ENET, "http: %s",
			 curl_multi_strerror(mc));
		complete(h, req);
		return;
	}
	req->slot = s;
	req->state = ST_RUNNING;
	list_push(&h->running, req);
	if (h->running.len > h->stats.peak_in_flight)
		h->stats.peak_in_flight = (unsigned)h->running.len;
	req->attempt_ms = ams_clock_mono_ms();
	if (!req->attempts)
		req->first_attempt_ms = req->attempt_ms;
	req->attempts++;
	if (req->attempts > 1) {
		req->retries++;
		h->stats.retries++;
	}
	if (!req->free_attempt)
		req->budget_used++;
	req->free_attempt = false;
	h->stats.attempts++;
}

/* The engine's view of a finished transfer: sets req->err, returns class. */
static enum ams_http_retry default_class(struct ams_http_req *req, CURLcode rc,
					 const char *errbuf)
{
	const char *why = *errbuf ? errbuf : curl_easy_strerror(rc);
	size_t max = req->max_body_bytes ? req->max_body_bytes
					 : req->http->opts.max_body_bytes;

	if (req->too_big) {
		ams_fail(&req->err, AMS_ELIMIT,
			 "response from '%s' exceeds %zu bytes", req->url, max);
		return AMS_HTTP_FINAL;
	}
	switch (rc) {
	case CURLE_OK: break;
	case CURLE_OPERATION_TIMEDOUT:
		ams_fail(&req->err, AMS_ENET, "%s: %s", req->url, why);
		return AMS_HTTP_RETRY_TIMEOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		ams_fail(&req->err, AMS_ENET, "%s: %s", req->url, why);
		return AMS_HTTP_RETRY_TRANSIENT;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		ams_fail(&req->err, AMS_EUSAGE, "%s: %s", req->url, why);
		return AMS_HTTP_FINAL;
	default:
		ams_fail(&req->err, AMS_ENET, "%s: %s", req->url, why);
		return AMS_HTTP_FINAL;
	}
	if (req->status >= 200 && req->status < 300)
		return AMS_HTTP_FINAL;
	ams_fail(&req->err, AMS_EHTTP, "http %ld from '%s'", req->status,
		 req->url);
	req->err.http_status = req->status;
	switch (req->status) {
	case 429: return AMS_HTTP_RETRY_THROTTLED;
	case 500:
	case 502:
	case 503:
	case 504: return AMS_HTTP_RETRY_TRANSIENT;
	default: return AMS_HTTP_FINAL;
	}
}

static const char *retry_name(enum ams_http_retry v)
{
	switch (v) {
	case AMS_HTTP_RETRY_TRANSIENT: return "transient error";
	case AMS_HTTP_RETRY_TIMEOUT: return "timeout";
	case AMS_HTTP_RETRY_THROTTLED: return "throttled";
	case AMS_HTTP_RETRY_WINDOW: return "waiting";
	case AMS_HTTP_RETRY_REFRESH: return "credentials refreshed";
	case AMS_HTTP_FINAL: break;
	}
	return "final";
}

/* Standard-mode retry: budget, quota, backoff. False when final. */
static bool retry_standard(struct ams_http *h, struct ams_http_req *req,
			   enum ams_http_retry v, uint64_t *delay_ms)
{
	unsigned max =
	    req->max_attempts ? req->max_attempts : h->opts.max_attempts;
	unsigned cost = v == AMS_HTTP_RETRY_TIMEOUT ? AMS_RETRY_TIMEOUT_COST
						    : AMS_RETRY_COST;
	struct ams_retry_quota *q = req->quota ? req->quota : &h->quota;
	uint64_t ra;

	if (req->budget_used >= max)
		return false;
	/*
	 * A throttled request on a rate bucket is paced by the bucket, which
	 * has just slowed down: it retries without paying the quota, which
	 * guards against endpoints that fail, not against ones that ask to
	 * slow down.
	 */
	if (v == AMS_HTTP_RETRY_THROTTLED && req->bucket)
		cost = 0;
	if (cost && !ams_retry_quota_acquire(q, cost)) {
		h->stats.quota_refusals++;
		ams_log_verbose("http: %s: retry quota exhausted, not retrying",
				*req->label ? req->label : req->url);
		return false;
	}
	req->last_cost = cost;
	*delay_ms =
	    ams_http_backoff_ms(h, req->budget_used, h->opts.backoff_base_ms,
				h->opts.backoff_cap_ms);
	ra = req->retry_after_ms;
	if (ra > h->opts.max_retry_after_ms)
		ra = h->opts.max_retry_after_ms;
	if (ra > *delay_ms)
		*delay_ms = ra;
	return true;
}

/*
 * After bucket slowed down: requests that took their token at the old
 * rate and still wait for a slot take a new one at the new rate.
 */
static void retake_tokens(struct ams_http *h, struct ams_rate_bucket *bucket,
			  uint64_t now)
{
	struct ams_http_req *r = h->ready.head, *next;

	for (; r; r = next) {
		next = r->next;
		if (r->bucket != bucket)
			continue;
		list_remove(&h->ready, r);
		schedule(h, r, now);
	}
}

static void apply_verdict(struct ams_http *h, struct ams_http_req *req,
			  enum ams_http_retry v)
{
	uint64_t now = ams_clock_mono_ms(), delay = 0;
	bool again = false;

	if (v == AMS_HTTP_RETRY_THROTTLED) {
		h->stats.throttled++;
		/* Later attempts on this bucket go slower. */
		if (req->bucket && ams_rate_bucket_throttled(
				       req->bucket, req->attempt_ms, now)) {
			ams_log_verbose("http: %s: throttled; rate now %.1f/s",
					*req->label ? req->label : req->url,
					req->bucket->refill_per_s);
			retake_tokens(h, req->bucket, now);
		}
	}
	if (h->stopping || v == AMS_HTTP_FINAL) {
		complete(h, req);
		return;
	}
	switch (v) {
	case AMS_HTTP_RETRY_TRANSIENT:
	case AMS_HTTP_RETRY_TIMEOUT:
	case AMS_HTTP_RETRY_THROTTLED:
		again = retry_standard(h, req, v, &delay);
		break;
	case AMS_HTTP_RETRY_WINDOW:
		req->window_retries++;
		delay = ams_http_backoff_ms(h, req->window_retries,
					    h->opts.window_base_ms,
					    h->opts.window_cap_ms);
		again =
		    now + delay - req->first_attempt_ms <= req->retry_window_ms;
		req->free_attempt = again;
		break;
	case AMS_HTTP_RETRY_REFRESH:
		again = !req->refreshed;
		req->refreshed = true;
		req->free_attempt = again;
		break;
	case AMS_HTTP_FINAL: break;
	}
	if (!again) {
		complete(h, req);
		return;
	}
	ams_log_verbose("http: %s: %s (%s), attempt %u, retrying in %llu ms",
			*req->label ? req->label : req->url, req->err.msg,
			retry_name(v), req->attempts,
			(unsigned long long)delay);
	schedule(h, req, now + delay);
}

static void finish_transfer(struct ams_http *h, CURL *easy, CURLcode rc)
{
	struct ams_http_req *req = NULL;
	struct ams_http_slot *s;
	enum ams_http_retry v;
	long status = 0, connects = 0;
	curl_off_t retry_after = 0;
	char *priv = NULL;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
	req = (struct ams_http_req *)(void *)priv;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &connects);
	curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &retry_after);
	curl_multi_remove_handle(h->multi, easy);
	s = req->slot;
	req->slot = NULL;
	list_remove(&h->running, req);
	req->status = status;
	req->connects += connects;
	h->stats.connects += (uint64_t)connects;
	h->stats.bytes_in += req->resp_body.len;
	if (retry_after > 0)
		req->retry_after_ms = (uint64_t)retry_after * 1000u;
	v = default_class(req, rc, s->errbuf);
	put_slot(h, s);
	if (ams_log_enabled(AMS_LOG_DEBUG))
		ams_log_debug(
		    "http: %s -> %ld (%zu bytes, attempt %u, "
		    "%llu ms)%s%s",
		    *req->label ? req->label : req->url, status,
		    req->resp_body.len, req->attempts,
		    (unsigned long long)(ams_clock_mono_ms() - req->submit_ms),
		    req->err.code ? ": " : "", req->err.msg);
	if (req->classify)
		v = req->classify(req, v, req->payload);
	apply_verdict(h, req, v);
}

/* ---- Engine ---------------------------------------------------------- */

#ifdef USE_EPOLL
#define FD_OURS 0x80000000u
#define FD_IN_EPOLL 0x40000000u
#define FD_WANTED 0x20000000u
#define FD_EVENTS (EPOLLIN | EPOLLOUT)

static uint32_t *fd_state(struct ams_http *h, curl_socket_t fd)
{
	size_t n;

	if (fd < 0)
		return NULL;
	if ((size_t)fd >= h->fd_cap) {
		n = h->fd_cap ? h->fd_cap : 64;
		while (n <= (size_t)fd)
			n *= 2;
		h->fd_state = xreallocarray(h->fd_state, n, sizeof(uint32_t));
		memset(h->fd_state + h->fd_cap, 0,
		       (n - h->fd_cap) * sizeof(uint32_t));
		h->fd_cap = n;
	}
	return &h->fd_state[fd];
}

/* CURLOPT_OPENSOCKETFUNCTION: a connection socket, marked as ours. */
static curl_socket_t on_open_socket(void *clientp, curlsocktype purpose,
				    struct curl_sockaddr *addr)
{
	struct ams_http *h = clientp;
	curl_socket_t fd;
	uint32_t *st;

	(void)purpose;
	fd =
	    socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
	st = fd_state(h, fd);
	if (st)
		*st = FD_OURS;
	return fd;
}

/* CURLOPT_CLOSESOCKETFUNCTION: closing takes it out of the epoll set. */
static int on_close_socket(void *clientp, curl_socket_t fd)
{
	struct ams_http *h = clientp;
	uint32_t *st = fd_state(h, fd);

	if (st)
		*st = 0;
	return close(fd);
}

/* CURLMOPT_SOCKETFUNCTION: mirror what libcurl wants to watch in epoll. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp,
		     void *socketp)
{
	struct ams_http *h = userp;
	struct epoll_event ev;
	uint32_t *st = fd_state(h, fd);
	int op;

	(void)easy;
	(void)socketp;
	if (!st)
		return -1;
	if (what == CURL_POLL_REMOVE) {
		/*
		 * Only our connection sockets stay in the set: others (the
		 * resolver's) may be closed behind our back, and a number
		 * reused with the same events would then never be added.
		 */
		if ((*st & FD_IN_EPOLL) && !(*st & FD_OURS)) {
			epoll_ctl(h->epfd, EPOLL_CTL_DEL, fd, NULL);
			*st = 0;
		}
		*st &= ~FD_WANTED;
		return 0;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) |
		    ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
	ev.data.fd = fd;
	if ((*st & FD_IN_EPOLL) && (*st & FD_EVENTS) == ev.events) {
		*st |= FD_WANTED;
		return 0;
	}
	op = (*st & FD_IN_EPOLL) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(h->epfd, op, fd, &ev) < 0) {
		/* A descriptor number reused behind our back. */
		op = op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
		if (epoll_ctl(h->epfd, op, fd, &ev) < 0)
			return -1;
	}
	*st = (*st & FD_OURS) | FD_IN_EPOLL | FD_WANTED | ev.events;
	return 0;
}

/* An event on a socket libcurl no longer watches: take it out. */
static bool unwanted(struct ams_http *h, int fd)
{
	uint32_t *st = fd_state(h, fd);

	if (!st || (*st & FD_WANTED))
		return false;
	epoll_ctl(h->epfd, EPOLL_CTL_DEL, fd, NULL);
	*st &= FD_OURS;
	return true;
}

/* CURLMOPT_TIMERFUNCTION: when libcurl wants its timeout action. */
static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct ams_http *h = userp;

	(void)multi;
	h->curl_timer_set = timeout_ms >= 0;
	if (timeout_ms >= 0)
		h->curl_due_ms = ams_clock_mono_ms() + (uint64_t)timeout_ms;
	return 0;
}

static bool open_backend(struct ams_http *h)
{
	struct epoll_event ev;

	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	h->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (h->epfd < 0 || h->wake_fd < 0)
		return false;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = h->wake_fd;
	if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->wake_fd, &ev) < 0)
		return false;
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	return true;
}

static void close_backend(struct ams_http *h)
{
	if (h->epfd >= 0)
		close(h->epfd);
	if (h->wake_fd >= 0)
		close(h->wake_fd);
	h->epfd = h->wake_fd = -1;
	free(h->fd_state);
	h->fd_state = NULL;
	h->fd_cap = 0;
}

static int curl_select_flags(uint32_t events)
{
	int flags = 0;

	if (events & (EPOLLIN | EPOLLHUP))
		flags |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (events & EPOLLERR)
		flags |= CURL_CSELECT_ERR;
	return flags;
}

/*
 * Waits at most wait_ms (less when libcurl's timer falls due) and hands
 * every socket with events, then a due timer, to libcurl.
 */
static enum ams_code wait_and_act(struct ams_http *h, long wait_ms,
				  struct ams_err *err)
{
	struct epoll_event ev[64];
	uint64_t now = ams_clock_mono_ms(), sink;
	CURLMcode mc = CURLM_OK;
	int n, i, still = 0;

	if (h->curl_timer_set && h->curl_due_ms <= now)
		wait_ms = 0;
	else if (h->curl_timer_set && h->curl_due_ms - now < (uint64_t)wait_ms)
		wait_ms = (long)(h->curl_due_ms - now);
	n = epoll_wait(h->epfd, ev, (int)ARRAY_SIZE(ev), (int)wait_ms);
	if (n < 0 && errno != EINTR)
		return ams_fail(err, AMS_ENET, "http: epoll_wait: %s",
				strerror(errno));
	for (i = 0; i < n && mc == CURLM_OK; i++) {
		if (ev[i].data.fd == h->wake_fd) {
			/* Reading an eventfd resets it. */
			if (read(h->wake_fd, &sink, sizeof(sink)) < 0)
				sink = 0;
			continue;
		}
		if (unwanted(h, ev[i].data.fd))
			continue;
		mc = curl_multi_socket_action(h->multi, ev[i].data.fd,
					      curl_select_flags(ev[i].events),
					      &still);
	}
	if (mc == CURLM_OK && h->curl_timer_set &&
	    h->curl_due_ms <= ams_clock_mono_ms()) {
		h->curl_timer_set = false;
		mc = curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0,
					      &still);
	}
	if (mc != CURLM_OK)
		return ams_fail(err, AMS_ENET, "http: %s",
				curl_multi_strerror(mc));
	return AMS_OK;
}

static void wake(struct ams_http *h)
{
	uint64_t one = 1;
	ssize_t n;

	/* write(2) is async-signal-safe; a full counter is awake anyway. */
	n = write(h->wake_fd, &one, sizeof(one));
	(void)n;
}
#else
static bool open_backend(struct ams_http *h)
{
	(void)h;
	return true;
}

static void close_backend(struct ams_http *h)
{
	(void)h;
}

static enum ams_code wait_and_act(struct ams_http *h, long wait_ms,
				  struct ams_err *err)
{
	CURLMcode mc;
	int still = 0;

	mc = curl_multi_poll(h->multi, NULL, 0, (int)wait_ms, NULL);
	if (mc == CURLM_OK)
		mc = curl_multi_perform(h->multi, &still);
	if (mc != CURLM_OK)
		return ams_fail(err, AMS_ENET, "http: %s",
				curl_multi_strerror(mc));
	return AMS_OK;
}

static void wake(struct ams_http *h)
{
	curl_multi_wakeup(h->multi);
}
#endif

enum ams_code ams_http_new(struct ams_http **out,
			   const struct ams_http_opts *opts,
			   struct ams_err *err)
{
	struct ams_http *h;
	struct ams_http_opts o;

	*out = NULL;
	if (opts)
		o = *opts;
	else
		ams_http_opts_init(&o);
	if (!o.max_in_flight || o.max_in_flight > 4096)
		return ams_fail(err, AMS_EUSAGE,
				"http: max in flight must be 1 to 4096, not %u",
				o.max_in_flight);
	if (!o.max_attempts)
		return ams_fail(err, AMS_EUSAGE,
				"http: max attempts must be at least 1");
	if (o.ca_bundle && !file_readable(o.ca_bundle))
		return ams_fail(err, AMS_EUSAGE, "cannot read CA bundle '%s'",
				o.ca_bundle);
	h = xcalloc(1, sizeof(*h));
	h->opts = o;
	h->ca_bundle = o.ca_bundle ? xstrdup(o.ca_bundle) : NULL;
	h->opts.ca_bundle = h->ca_bundle;
	snprintf(h->user_agent, sizeof(h->user_agent), "amishare/%s",
		 AMS_VERSION);
	h->rng = o.seed ? o.seed
			: ((uint64_t)ams_clock_wall() << 20) ^
			      ams_clock_mono_ms() ^ (uint64_t)getpid();
	ams_retry_quota_init(&h->quota, o.retry_quota);
#ifdef USE_EPOLL
	h->epfd = h->wake_fd = -1;
#endif
	h->multi = curl_multi_init();
	h->share = curl_share_init();
	if (!h->multi || !h->share || !open_backend(h)) {
		ams_http_free(h);
		return ams_fail(err, AMS_ENET,
				"http: cannot initialise libcurl");
	}
	curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(h->share, CURLSHOPT_SHARE,
			  CURL_LOCK_DATA_SSL_SESSION);
	curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
			  (long)o.max_in_flight);
	curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
			  (long)o.max_in_flight);
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS,
			  (long)o.max_in_flight);
	*out = h;
	return AMS_OK;
}

static void free_req_list(struct req_list *l)
{
	struct ams_http_req *r;

	while ((r = list_pop(l)) != NULL) {
		free(r->url);
		free_headers(r);
		ams_buf_release_secure(&r->body);
		ams_buf_release(&r->resp_headers);
		ams_buf_release(&r->resp_body);
		free(r);
	}
}

void ams_http_free(struct ams_http *http)
{
	struct ams_http_req *r;
	struct ams_http_slot *s;

	if (!http)
		return;
	while ((r = list_pop(&http->running)) != NULL) {
		curl_multi_remove_handle(http->multi, r->slot->easy);
		put_slot(http, r->slot);
		list_push(&http->done, r);
	}
	while ((r = heap_pop(http)) != NULL)
		list_push(&http->done, r);
	free_req_list(&http->ready);
	free_req_list(&http->parked);
	free_req_list(&http->done);
	while (http->free_reqs) {
		r = http->free_reqs;
		http->free_reqs = r->next;
		ams_buf_release(&r->body);
		ams_buf_release(&r->resp_headers);
		ams_buf_release(&r->resp_body);
		free(r);
	}
	while ((s = http->free_slots) != NULL) {
		http->free_slots = s->next_free;
		curl_easy_cleanup(s->easy);
		free(s);
	}
	free(http->heap);
	if (http->multi)
		curl_multi_cleanup(http->multi);
	close_backend(http);
	if (http->share)
		curl_share_cleanup(http->share);
	free(http->ca_bundle);
	free(http);
}

/* Moves due timers to the ready list, reserving rate tokens first. */
static void promote_due(struct ams_http *h, uint64_t now)
{
	struct ams_http_req *r;
	uint64_t wait;

	while (h->heap_len && h->heap[0]->not_before_ms <= now) {
		r = heap_pop(h);
		if (r->bucket && !r->token_held) {
			r->token_held = true;
			wait = ams_rate_bucket_reserve(r->bucket, now);
			if (wait) {
				schedule(h, r, now + wait);
				continue;
			}
		}
		r->token_held = false;
		r->state = ST_READY;
		list_push(&h->ready, r);
	}
}

static void admit(struct ams_http *h)
{
	while (h->ready.len && h->running.len < h->opts.max_in_flight)
		start_attempt(h, list_pop(&h->ready));
}

static void cancel_list(struct ams_http *h, struct req_list *l, const char *why)
{
	struct ams_http_req *r;

	while ((r = list_pop(l)) != NULL) {
		ams_err_clear(&r->err);
		ams_fail(&r->err, AMS_ECANCELED, "%s", why);
		complete(h, r);
	}
}

static void handle_stop(struct ams_http *h, uint64_t now)
{
	struct ams_http_req *r;

	while ((r = heap_pop(h)) != NULL) {
		ams_err_clear(&r->err);
		ams_fail(&r->err, AMS_ECANCELED, "stopped before sending");
		complete(h, r);
	}
	cancel_list(h, &h->ready, "stopped before sending");
	cancel_list(h, &h->parked, "stopped while waiting");
	if (now < h->stop_deadline_ms)
		return;
	while ((r = list_pop(&h->running)) != NULL) {
		curl_multi_remove_handle(h->multi, r->slot->easy);
		put_slot(h, r->slot);
		r->slot = NULL;
		ams_err_clear(&r->err);
		ams_fail(&r->err, AMS_ECANCELED, "abandoned after a stop");
		complete(h, r);
	}
}

static void run_done_callbacks(struct ams_http *h)
{
	struct ams_http_req *r;

	while ((r = list_pop(&h->done)) != NULL) {
		r->done(r, r->payload);
		h->pending--;
		recycle(r);
	}
}

static long poll_timeout(struct ams_http *h, long max_wait_ms, uint64_t now)
{
	uint64_t t = max_wait_ms > 0 ? (uint64_t)max_wait_ms : 0;

	if (t > 3600000)
		t = 3600000; /* curl_multi_poll takes an int */

	if (h->done.len ||
	    (h->ready.len && h->running.len < h->opts.max_in_flight))
		return 0;
	if (h->heap_len) {
		uint64_t due = h->heap[0]->not_before_ms;

		if (due <= now)
			return 0;
		if (due - now < t)
			t = due - now;
	}
	if (h->stopping && h->running.len) {
		if (h->stop_deadline_ms <= now)
			return 0;
		if (h->stop_deadline_ms - now < t)
			t = h->stop_deadline_ms - now;
	}
	return (long)t;
}

enum ams_code ams_http_step(struct ams_http *http, long max_wait_ms,
			    struct ams_err *err)
{
	struct CURLMsg *msg;
	int left = 0;
	enum ams_code rc;
	uint64_t now = ams_clock_mono_ms();
	long wait;

	if (http->stopping)
		handle_stop(http, now);
	promote_due(http, now);
	admit(http);
	wait = poll_timeout(http, max_wait_ms, now);
	if (http->running.len || wait > 0) {
		rc = wait_and_act(http, wait, err);
		if (rc)
			return rc;
		while ((msg = curl_multi_info_read(http->multi, &left)))
			if (msg->msg == CURLMSG_DONE)
				finish_transfer(http, msg->easy_handle,
						msg->data.result);
	}
	now = ams_clock_mono_ms();
	if (http->stopping)
		handle_stop(http, now);
	/* Start follow-ups now so they pick up the connections just freed. */
	promote_due(http, now);
	admit(http);
	run_done_callbacks(http);
	return AMS_OK;
}

enum ams_code ams_http_run(struct ams_http *http, struct ams_err *err)
{
	enum ams_code rc;

	while (http->pending) {
		if (!http->running.len && !http->heap_len && !http->ready.len &&
		    !http->done.len && http->parked.len) {
			cancel_list(http, &http->parked,
				    "waited for a resume that cannot come");
		}
		rc = ams_http_step(http, 1000, err);
		if (rc)
			return rc;
	}
	return AMS_OK;
}

size_t ams_http_pending(const struct ams_http *http)
{
	return http->pending;
}

void ams_http_stop(struct ams_http *http, uint64_t grace_ms)
{
	if (http->stopping)
		return;
	http->stopping = true;
	http->stop_deadline_ms = ams_clock_mono_ms() + grace_ms;
	wake(http);
}

bool ams_http_stopping(const struct ams_http *http)
{
	return http->stopping;
}

void ams_http_wakeup(struct ams_http *http)
{
	wake(http);
}

void ams_http_get_stats(struct ams_http_stats *out, const struct ams_http *http)
{
	*out = http->stats;
}

const struct ams_http_opts *ams_http_get_opts(const struct ams_http *http)
{
	return &http->opts;
}
