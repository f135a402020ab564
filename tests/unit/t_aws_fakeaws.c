/*
 * Signed round trips against the project's AWS emulator
 * (tests/fakeaws/serve), which verifies SigV4 independently: STS, EC2 and
 * JSON 1.1 services over plain HTTP, TLS with the emulator's CA through
 * the engine's CA bundle (and refused without it), a wrong key refused
 * with SignatureDoesNotMatch, and a fan-out over many accounts with its
 * connection count and client CPU per call.
 */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aws.h"
#include "clock.h"
#include "harness.h"
#include "http.h"
#include "sigv4.h"
#include "xml.h"

#include "../lib/scripted_httpd.h"

struct emulator {
	pid_t pid;
	char url[256];
	char ca[512];
};

/* Fan-out size: AMS_FANOUT_ACCOUNTS (1 to 2000, default 50). */
static size_t fanout_accounts(void)
{
	const char *v = getenv("AMS_FANOUT_ACCOUNTS");
	unsigned long long n = 0;

	if (v && ams_str_to_u64(ams_str_from(v), 2000, &n) && n)
		return (size_t)n;
	return 50;
}

/*
 * A world with the accounts these tests sign as: 111111111111,
 * 222222222222 and 300000000000 onwards for the fan-out, each with the
 * emulator's default key pattern.
 */
static void write_world(const char *path)
{
	FILE *f = fopen(path, "w");
	size_t i, n = fanout_accounts() + 2;
	unsigned long long id;

	if (!f)
		return;
	fputs("{\"partition\": \"aws\", \"accounts\": [", f);
	for (i = 0; i < n; i++) {
		id = i == 0   ? 111111111111ull
		     : i == 1 ? 222222222222ull
			      : 300000000000ull + (i - 2);
		fprintf(f,
			"%s{\"id\": \"%012llu\", \"access_key_id\": "
			"\"AKIAFAKE%012llu\", \"secret_access_key\": "
			"\"fakeaws-secret-%012llu-EXAMPLEKEY0\"}",
			i ? ", " : "", id, id, id);
	}
	fputs("]}\n", f);
	fclose(f);
}

static int emulator_start(struct emulator *e, bool tls)
{
	const char *serve = test_source_path("tests/fakeaws/serve");
	char ca_arg[512], line[512], world[128];
	int out[2];
	FILE *f;

	memset(e, 0, sizeof(*e));
	if (!serve || pipe(out))
		return -1;
	snprintf(ca_arg, sizeof(ca_arg), "/tmp/ams-fakeaws-ca-%d.pem",
		 (int)getpid());
	snprintf(world, sizeof(world), "/tmp/ams-fakeaws-world-%d.json",
		 (int)getpid());
	write_world(world);
	e->pid = fork();
	if (e->pid < 0)
		return -1;
	if (!e->pid) {
		/* never outlive the test */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(out[1], 1);
		close(out[0]);
		if (tls)
			execlp("python3", "python3", serve, "--port", "0",
			       "--world", world, "--tls", "--ca-file", ca_arg,
			       (char *)NULL);
		else
			execlp("python3", "python3", serve, "--port", "0",
			       "--world", world, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	f = fdopen(out[0], "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "ready ", 6))
			snprintf(e->url, sizeof(e->url), "%.250s", line + 6);
		if (!strncmp(line, "ca ", 3))
			snprintf(e->ca, sizeof(e->ca), "%.500s", line + 3);
		if (*e->url && (!tls || *e->ca))
			break;
	}
	fclose(f);
	unlink(world);
	return *e->url ? 0 : -1;
}

static void emulator_stop(struct emulator *e)
{
	if (e->pid <= 0)
		return;
	kill(e->pid, SIGTERM);
	waitpid(e->pid, NULL, 0);
	if (*e->ca)
		unlink(e->ca);
	e->pid = 0;
}

struct out {
	int done;
	struct ams_err err;
	long status;
	unsigned attempts;
	char account[16];
	char root[64];
};

static void on_done(const struct ams_aws_result *res, void *payload)
{
	struct out *o = payload;
	struct ams_xml_doc *doc = NULL;
	char *acct = NULL;

	o->done++;
	o->err = *res->err;
	o->status = res->http_status;
	o->attempts = res->attempts;
	if (res->err->code || !res->body_len)
		return;
	if (ams_xml_parse(&doc, res->body, res->body_len, NULL))
		return;
	snprintf(o->root, sizeof(o->root), "%s",
		 ams_xml_name(ams_xml_root(doc)));
	if (!ams_xml_get_str_opt(&acct, ams_xml_root(doc),
				 "GetCallerIdentityResult/Account", NULL) &&
	    acct)
		snprintf(o->account, sizeof(o->account), "%s", acct);
	free(acct);
	ams_xml_free(doc);
}

static struct ams_identity *account_identity(unsigned long long n, bool wrong)
{
	char akid[40], secret[64], acct[24];
	struct ams_identity *id;
	struct ams_creds c = AMS_CREDS_INIT;

	snprintf(acct, sizeof(acct), "%012llu", n);
	snprintf(akid, sizeof(akid), "AKIAFAKE%012llu", n);
	snprintf(secret, sizeof(secret), "fakeaws-secret-%012llu-EXAMPLEKEY%c",
		 n, wrong ? '1' : '0');
	id = ams_identity_new(acct);
	ams_creds_set(&c, akid, secret, NULL, 0, acct, NULL);
	ams_identity_set_creds(id, &c);
	ams_creds_release(&c);
	return id;
}

static struct ams_aws *client(struct ams_http *h, const char *url)
{
	struct ams_endpoint_config cfg;
	struct ams_aws *aws = NULL;
	struct ams_err err = AMS_ERR_INIT;

	ams_endpoint_config_init(&cfg);
	ams_endpoint_config_set_url(&cfg.env_url, url, "AWS_ENDPOINT_URL",
				    &err);
	CHECK_RC(AMS_OK, ams_aws_new(&aws, h, &cfg, NULL, &err), &err);
	ams_endpoint_config_release(&cfg);
	return aws;
}

static struct ams_http *engine(const char *ca, unsigned in_flight)
{
	struct ams_http_opts o;
	struct ams_http *h = NULL;
	struct ams_err err = AMS_ERR_INIT;

	ams_http_opts_init(&o);
	o.seed = 3;
	o.ca_bundle = ca;
	o.max_in_flight = in_flight;
	o.backoff_base_ms = 20;
	CHECK_RC(AMS_OK, ams_http_new(&h, &o, &err), &err);
	return h;
}

static bool signature_refused(const struct out *o)
{
	static const char *const codes[] = {
		"SignatureDoesNotMatch",     "IncompleteSignature",
		"InvalidSignatureException", "UnrecognizedClientException",
		"InvalidClientTokenId",	     "AuthFailure",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(codes); i++)
		if (!strcmp(o->err.aws_code, codes[i]))
			return true;
	return false;
}

static struct emulator plain;

static void test_round_trips(void)
{
	struct ams_http *h = engine(NULL, 8);
	struct ams_aws *aws = client(h, plain.url);
	struct ams_identity *id = account_identity(111111111111u, false);
	struct ams_identity *bad = account_identity(111111111111u, true);
	struct out sts = { 0 }, ec2 = { 0 }, kms = { 0 }, org = { 0 },
		   ssm = { 0 }, wrong = { 0 };
	struct ams_aws_call *call;
	struct ams_err err = AMS_ERR_INIT;

	ams_aws_call_submit(ams_aws_call_new(aws, AMS_SVC_STS, "us-east-1",
					     "GetCallerIdentity", id),
			    on_done, &sts);
	call = ams_aws_call_new(aws, AMS_SVC_EC2, "eu-west-1", "DescribeImages",
				id);
	ams_aws_call_param(call, "Owner.1", "self");
	ams_aws_call_param(call, "Filter.1.Name", "tag:Name");
	ams_aws_call_param(call, "Filter.1.Value.1", "golden base*");
	ams_aws_call_submit(call, on_done, &ec2);
	call =
	    ams_aws_call_new(aws, AMS_SVC_KMS, "us-east-1", "DescribeKey", id);
	ams_buf_addstr(ams_aws_call_json(call),
		       "{\"KeyId\":\"alias/aws/ebs\"}");
	ams_aws_call_submit(call, on_done, &kms);
	ams_aws_call_submit(ams_aws_call_new(aws, AMS_SVC_ORGANIZATIONS,
					     "eu-central-1",
					     "DescribeOrganization", id),
			    on_done, &org);
	call =
	    ams_aws_call_new(aws, AMS_SVC_SSM, "us-east-1", "GetParameter", id);
	ams_buf_addstr(ams_aws_call_json(call), "{\"Name\":\"/no/such\"}");
	ams_aws_call_submit(call, on_done, &ssm);
	ams_aws_call_submit(ams_aws_call_new(aws, AMS_SVC_STS, "us-east-1",
					     "GetCallerIdentity", bad),
			    on_done, &wrong);
	CHECK_RC(AMS_OK, ams_http_run(h, &err), &err);

	CHECK_RC(AMS_OK, sts.err.code, &sts.err);
	CHECK_STR_EQ("111111111111", sts.account);
	CHECK_RC(AMS_OK, ec2.err.code, &ec2.err);
	CHECK_STR_EQ("DescribeImagesResponse", ec2.root);
	/*
	 * JSON services: whatever the answer (this world has no
	 * organisation and no such parameter), the signature was accepted
	 */
	CHECK(kms.done == 1 && !signature_refused(&kms));
	CHECK(org.done == 1 && !signature_refused(&org));
	CHECK(ssm.done == 1 && !signature_refused(&ssm));
	if (ssm.err.code)
		CHECK_STR_EQ("ParameterNotFound", ssm.err.aws_code);
	CHECK_INT_EQ(AMS_EAWS, wrong.err.code);
	CHECK_STR_EQ("SignatureDoesNotMatch", wrong.err.aws_code);
	CHECK_INT_EQ(403, wrong.status);
	CHECK_INT_EQ(1, wrong.attempts);
	printf("#   kms %s, organizations %s, ssm %s\n",
	       kms.err.code ? kms.err.aws_code : "ok",
	       org.err.code ? org.err.aws_code : "ok",
	       ssm.err.code ? ssm.err.aws_code : "ok");
	ams_identity_free(id);
	ams_identity_free(bad);
	ams_aws_free(aws);
	ams_http_free(h);
}

static void test_tls(void)
{
	struct emulator tls;
	struct ams_http *h, *h2;
	struct ams_aws *aws, *aws2;
	struct ams_identity *id;
	struct out ok = { 0 }, refused = { 0 };
	struct ams_err err = AMS_ERR_INIT;

	CHECK(emulator_start(&tls, true) == 0);
	if (!tls.pid)
		return;
	CHECK(!strncmp(tls.url, "https://", 8));
	id = account_identity(222222222222u, false);
	h = engine(tls.ca, 4);
	aws = client(h, tls.url);
	ams_aws_call_submit(ams_aws_call_new(aws, AMS_SVC_STS, "us-east-1",
					     "GetCallerIdentity", id),
			    on_done, &ok);
	CHECK_RC(AMS_OK, ams_http_run(h, &err), &err);
	CHECK_RC(AMS_OK, ok.err.code, &ok.err);
	CHECK_STR_EQ("222222222222", ok.account);
	/* without the emulator's CA the peer is not trusted: no retry */
	h2 = engine(NULL, 4);
	aws2 = client(h2, tls.url);
	ams_aws_call_submit(ams_aws_call_new(aws2, AMS_SVC_STS, "us-east-1",
					     "GetCallerIdentity", id),
			    on_done, &refused);
	CHECK_RC(AMS_OK, ams_http_run(h2, &err), &err);
	CHECK_INT_EQ(AMS_ENET, refused.err.code);
	CHECK_INT_EQ(1, refused.attempts);
	ams_aws_free(aws);
	ams_aws_free(aws2);
	ams_http_free(h);
	ams_http_free(h2);
	ams_identity_free(id);
	emulator_stop(&tls);
}

/* Process CPU time in microseconds: user, or user + system. */
static uint64_t cpu_us_of(bool with_system)
{
	struct rusage ru;
	uint64_t us;

	getrusage(RUSAGE_SELF, &ru);
	us = (uint64_t)ru.ru_utime.tv_sec * 1000000u +
	     (uint64_t)ru.ru_utime.tv_usec;
	if (with_system)
		us += (uint64_t)ru.ru_stime.tv_sec * 1000000u +
		      (uint64_t)ru.ru_stime.tv_usec;
	return us;
}

static uint64_t cpu_us(void)
{
	return cpu_us_of(true);
}

/* AMS_FANOUT_IN_FLIGHT (1 to 512, default 16). */
static unsigned fanout_in_flight(void)
{
	const char *v = getenv("AMS_FANOUT_IN_FLIGHT");
	unsigned long long n = 0;

	if (v && ams_str_to_u64(ams_str_from(v), 512, &n) && n)
		return (unsigned)n;
	return 16;
}

static void test_fan_out(void)
{
	enum { REGIONS = 4 };
	const unsigned IN_FLIGHT = fanout_in_flight();
	struct rusage ru;
	static const char *const regions[REGIONS] = { "us-east-1", "eu-west-1",
						      "ap-south-1",
						      "sa-east-1" };
	const size_t ACCOUNTS = fanout_accounts();
	struct out *outs = calloc(ACCOUNTS * REGIONS, sizeof(*outs));
	struct ams_identity **ids = calloc(ACCOUNTS, sizeof(*ids));
	struct ams_http *h = engine(NULL, IN_FLIGHT);
	struct ams_aws *aws = client(h, plain.url);
	struct ams_http_stats st;
	struct ams_err err = AMS_ERR_INIT;
	uint64_t cpu0, user0, t0, cpu, user, wall;
	size_t i, j, good = 0;

	for (i = 0; i < ACCOUNTS; i++)
		ids[i] = account_identity(300000000000ull + i, false);
	getrusage(RUSAGE_SELF, &ru);
	printf("#   peak RSS before the fan-out %ld KiB\n", ru.ru_maxrss);
	cpu0 = cpu_us();
	user0 = cpu_us_of(false);
	t0 = ams_clock_mono_ms();
	for (i = 0; i < ACCOUNTS; i++)
		for (j = 0; j < REGIONS; j++) {
			struct ams_aws_call *call =
			    ams_aws_call_new(aws, AMS_SVC_EC2, regions[j],
					     "DescribeImages", ids[i]);

			ams_aws_call_param(call, "Owner.1", "self");
			ams_aws_call_submit(call, on_done,
					    &outs[i * REGIONS + j]);
		}
	CHECK_RC(AMS_OK, ams_http_run(h, &err), &err);
	cpu = cpu_us() - cpu0;
	user = cpu_us_of(false) - user0;
	wall = ams_clock_mono_ms() - t0;
	for (i = 0; i < ACCOUNTS * REGIONS; i++)
		good += outs[i].err.code == AMS_OK &&
			!strcmp(outs[i].root, "DescribeImagesResponse");
	ams_http_get_stats(&st, h);
	CHECK_INT_EQ(ACCOUNTS * REGIONS, good);
	if (good != ACCOUNTS * REGIONS)
		printf("#   first: %s %s\n", outs[0].err.aws_code,
		       outs[0].err.msg);
	CHECK(st.connects <= IN_FLIGHT);
	CHECK(st.peak_in_flight <= IN_FLIGHT);
	getrusage(RUSAGE_SELF, &ru);
	printf("#   %zu calls, %u in flight: %llu connections, %llu ms wall, "
	       "%llu us client CPU per call (%llu us user), peak RSS %ld "
	       "KiB\n",
	       ACCOUNTS * REGIONS, IN_FLIGHT, (unsigned long long)st.connects,
	       (unsigned long long)wall,
	       (unsigned long long)(cpu / (ACCOUNTS * REGIONS)),
	       (unsigned long long)(user / (ACCOUNTS * REGIONS)), ru.ru_maxrss);
	for (i = 0; i < ACCOUNTS; i++)
		ams_identity_free(ids[i]);
	free(ids);
	free(outs);
	ams_aws_free(aws);
	ams_http_free(h);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (emulator_start(&plain, false)) {
		printf("not ok 1 - the emulator starts\n1..1\n");
		emulator_stop(&plain);
		return 1;
	}
	TEST(test_round_trips, "signed STS, EC2, KMS, SSM, Organizations");
	TEST(test_tls, "TLS verified with the CA bundle, refused without");
	TEST(test_fan_out, "fan-out over many accounts x 4 regions");
	emulator_stop(&plain);
	curl_global_cleanup();
	return test_done();
}
