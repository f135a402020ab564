/*
 * The transport floor of the benchmark: what amishare's HTTP engine
 * (src/http.c: libcurl, one multi handle, epoll, pooled handles and
 * connections) costs to send N requests, at most IN_FLIGHT at a time, and
 * read the answers, with nothing else: no signing, no XML, no job, no
 * report. The bench runs it against the same emulator with the same
 * number of calls as amishare made, so amishare's CPU per call minus this
 * one is what everything above the transport costs.
 *
 * usage: http_floor URL N [IN_FLIGHT]
 *
 * Each request is a POST of a DescribeImages-sized form body, unsigned,
 * so the emulator answers it (after its latency) with an error document;
 * the engine treats that as final, so there are no retries. Requests are
 * submitted a window of 4 x IN_FLIGHT at a time, as amishare does.
 * Prints one line: "requests N answered N connections N cpu_s X".
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "err.h"
#include "http.h"

struct floor_run {
	struct ams_http *http;
	const char *url;
	unsigned long total, submitted, answered;
};

static void submit_one(struct floor_run *run);

static void on_done(struct ams_http_req *req, void *payload)
{
	struct floor_run *run = payload;

	if (req->status)
		run->answered++;
	if (run->submitted < run->total)
		submit_one(run);
}

static void submit_one(struct floor_run *run)
{
	struct ams_http_req *req = ams_http_req_new(run->http);

	req->method = AMS_HTTP_POST;
	ams_http_req_set_url(req, run->url);
	ams_http_req_set_header(req, "Content-Type",
				"application/x-www-form-urlencoded; "
				"charset=utf-8");
	ams_buf_addstr(&req->body, "Action=DescribeImages&Version=2016-11-15"
				   "&ImageId.1=ami-0123456789abcdef0");
	req->max_attempts = 1;
	req->done = on_done;
	req->payload = run;
	run->submitted++;
	ams_http_submit(run->http, req);
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	struct ams_err err = AMS_ERR_INIT;
	struct ams_http_opts opts;
	struct ams_http_stats st;
	struct floor_run run = { 0 };
	unsigned long window;
	double cpu0;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: http_floor URL N [IN_FLIGHT]\n");
		return 2;
	}
	run.url = argv[1];
	run.total = strtoul(argv[2], NULL, 10);
	ams_http_opts_init(&opts);
	if (argc == 4)
		opts.max_in_flight = (unsigned)strtoul(argv[3], NULL, 10);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 1;
	if (ams_http_new(&run.http, &opts, &err)) {
		fprintf(stderr, "http_floor: %s\n", err.msg);
		return 1;
	}
	cpu0 = cpu_seconds();
	window = 4ul * opts.max_in_flight;
	while (run.submitted < run.total && run.submitted < window)
		submit_one(&run);
	if (ams_http_run(run.http, &err)) {
		fprintf(stderr, "http_floor: %s\n", err.msg);
		return 1;
	}
	ams_http_get_stats(&st, run.http);
	printf("requests %lu answered %lu connections %lu cpu_s %.3f\n",
	       run.submitted, run.answered, (unsigned long)st.connects,
	       cpu_seconds() - cpu0);
	ams_http_free(run.http);
	curl_global_cleanup();
	return run.answered == run.total ? 0 : 1;
}
