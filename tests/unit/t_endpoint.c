/*
 * Endpoint resolution: partitions, hosts per service, global services,
 * FIPS and dual-stack variants, override precedence, Region validation
 * and the environment.
 */
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"
#include "harness.h"

enum { F_FIPS = 1, F_DUAL = 2, F_LEGACY = 4 };

struct resolve_case {
	enum ams_service svc;
	const char *region;
	unsigned flags;
	const char *url; /* NULL: expect AMS_EUSAGE */
	const char *signing_region;
	enum ams_partition partition;
};

static const struct resolve_case resolve_cases[] = {
	/* aws partition */
	{ AMS_SVC_EC2, "us-east-1", 0, "https://ec2.us-east-1.amazonaws.com/",
	  "us-east-1", AMS_PARTITION_AWS },
	{ AMS_SVC_EC2, "eu-west-1", 0, "https://ec2.eu-west-1.amazonaws.com/",
	  "eu-west-1", AMS_PARTITION_AWS },
	{ AMS_SVC_EC2, "il-central-1", 0,
	  "https://ec2.il-central-1.amazonaws.com/", "il-central-1",
	  AMS_PARTITION_AWS },
	{ AMS_SVC_EC2, "mx-central-1", 0,
	  "https://ec2.mx-central-1.amazonaws.com/", "mx-central-1",
	  AMS_PARTITION_AWS },
	{ AMS_SVC_EC2, "us-east-1", F_FIPS,
	  "https://ec2-fips.us-east-1.amazonaws.com/", "us-east-1",
	  AMS_PARTITION_AWS },
	{ AMS_SVC_EC2, "us-east-1", F_DUAL, "https://ec2.us-east-1.api.aws/",
	  "us-east-1", AMS_PARTITION_AWS },
	{ AMS_SVC_EC2, "us-west-2", F_FIPS | F_DUAL,
	  "https://ec2-fips.us-west-2.api.aws/", "us-west-2",
	  AMS_PARTITION_AWS },
	{ AMS_SVC_STS, "eu-central-1", 0,
	  "https://sts.eu-central-1.amazonaws.com/", "eu-central-1",
	  AMS_PARTITION_AWS },
	{ AMS_SVC_STS, "eu-central-1", F_LEGACY, "https://sts.amazonaws.com/",
	  "us-east-1", AMS_PARTITION_AWS },
	{ AMS_SVC_STS, "us-east-1", F_LEGACY, "https://sts.amazonaws.com/",
	  "us-east-1", AMS_PARTITION_AWS },
	/* not in the legacy global list: regional even in legacy mode */
	{ AMS_SVC_STS, "ap-east-1", F_LEGACY,
	  "https://sts.ap-east-1.amazonaws.com/", "ap-east-1",
	  AMS_PARTITION_AWS },
	{ AMS_SVC_STS, "us-east-2", F_FIPS,
	  "https://sts-fips.us-east-2.amazonaws.com/", "us-east-2",
	  AMS_PARTITION_AWS },
	{ AMS_SVC_KMS, "eu-west-2", 0, "https://kms.eu-west-2.amazonaws.com/",
	  "eu-west-2", AMS_PARTITION_AWS },
	{ AMS_SVC_KMS, "us-east-1", F_FIPS,
	  "https://kms-fips.us-east-1.amazonaws.com/", "us-east-1",
	  AMS_PARTITION_AWS },
	{ AMS_SVC_SSM, "ap-southeast-2", 0,
	  "https://ssm.ap-southeast-2.amazonaws.com/", "ap-southeast-2",
	  AMS_PARTITION_AWS },
	{ AMS_SVC_SSM, "ca-central-1", F_FIPS,
	  "https://ssm-fips.ca-central-1.amazonaws.com/", "ca-central-1",
	  AMS_PARTITION_AWS },
	{ AMS_SVC_ORGANIZATIONS, "eu-west-1", 0,
	  "https://organizations.us-east-1.amazonaws.com/", "us-east-1",
	  AMS_PARTITION_AWS },
	{ AMS_SVC_ORGANIZATIONS, "ap-south-1", F_FIPS,
	  "https://organizations-fips.us-east-1.amazonaws.com/", "us-east-1",
	  AMS_PARTITION_AWS },
	/* aws-cn */
	{ AMS_SVC_EC2, "cn-north-1", 0,
	  "https://ec2.cn-north-1.amazonaws.com.cn/", "cn-north-1",
	  AMS_PARTITION_CN },
	{ AMS_SVC_STS, "cn-northwest-1", 0,
	  "https://sts.cn-northwest-1.amazonaws.com.cn/", "cn-northwest-1",
	  AMS_PARTITION_CN },
	{ AMS_SVC_STS, "cn-north-1", F_LEGACY,
	  "https://sts.cn-north-1.amazonaws.com.cn/", "cn-north-1",
	  AMS_PARTITION_CN },
	{ AMS_SVC_KMS, "cn-north-1", 0,
	  "https://kms.cn-north-1.amazonaws.com.cn/", "cn-north-1",
	  AMS_PARTITION_CN },
	{ AMS_SVC_ORGANIZATIONS, "cn-north-1", 0,
	  "https://organizations.cn-northwest-1.amazonaws.com.cn/",
	  "cn-northwest-1", AMS_PARTITION_CN },
	{ AMS_SVC_EC2, "cn-north-1", F_FIPS, NULL, NULL, AMS_PARTITION_CN },
	{ AMS_SVC_EC2, "cn-north-1", F_DUAL,
	  "https://ec2.cn-north-1.api.amazonwebservices.com.cn/", "cn-north-1",
	  AMS_PARTITION_CN },
	/* aws-us-gov */
	{ AMS_SVC_EC2, "us-gov-west-1", 0,
	  "https://ec2.us-gov-west-1.amazonaws.com/", "us-gov-west-1",
	  AMS_PARTITION_GOV },
	{ AMS_SVC_EC2, "us-gov-east-1", F_FIPS,
	  "https://ec2.us-gov-east-1.amazonaws.com/", "us-gov-east-1",
	  AMS_PARTITION_GOV },
	{ AMS_SVC_STS, "us-gov-west-1", F_FIPS,
	  "https://sts.us-gov-west-1.amazonaws.com/", "us-gov-west-1",
	  AMS_PARTITION_GOV },
	{ AMS_SVC_STS, "us-gov-east-1", F_LEGACY,
	  "https://sts.us-gov-east-1.amazonaws.com/", "us-gov-east-1",
	  AMS_PARTITION_GOV },
	{ AMS_SVC_KMS, "us-gov-west-1", F_FIPS,
	  "https://kms-fips.us-gov-west-1.amazonaws.com/", "us-gov-west-1",
	  AMS_PARTITION_GOV },
	{ AMS_SVC_SSM, "us-gov-west-1", F_FIPS,
	  "https://ssm.us-gov-west-1.amazonaws.com/", "us-gov-west-1",
	  AMS_PARTITION_GOV },
	{ AMS_SVC_ORGANIZATIONS, "us-gov-east-1", 0,
	  "https://organizations.us-gov-west-1.amazonaws.com/", "us-gov-west-1",
	  AMS_PARTITION_GOV },
	/* invalid Regions */
	{ AMS_SVC_EC2, "us-east", 0, NULL, NULL, 0 },
	{ AMS_SVC_EC2, "moon-east-1", 0, NULL, NULL, 0 },
	{ AMS_SVC_EC2, "", 0, NULL, NULL, 0 },
	{ AMS_SVC_EC2, "us-east-1a", 0, NULL, NULL, 0 },
	{ AMS_SVC_EC2, "US-EAST-1", 0, NULL, NULL, 0 },
	{ AMS_SVC_EC2, "us-east-1/../x", 0, NULL, NULL, 0 },
	{ AMS_SVC_EC2, "us-east-1.evil.com", 0, NULL, NULL, 0 },
	{ AMS_SVC_EC2, "us-east-1 ", 0, NULL, NULL, 0 },
	{ AMS_SVC_EC2, "eu--1", 0, NULL, NULL, 0 },
};

static void test_resolve_table(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(resolve_cases); i++) {
		const struct resolve_case *c = &resolve_cases[i];
		struct ams_endpoint_config cfg;
		struct ams_endpoint ep;
		struct ams_err err = AMS_ERR_INIT;
		enum ams_code rc;

		TEST_BEGIN();
		ams_endpoint_config_init(&cfg);
		cfg.use_fips = c->flags & F_FIPS;
		cfg.use_dualstack = c->flags & F_DUAL;
		cfg.sts_global = c->flags & F_LEGACY;
		rc = ams_endpoint_resolve(&ep, &cfg, c->svc, c->region, &err);
		if (!c->url) {
			CHECK_RC(AMS_EUSAGE, rc, &err);
			CHECK(ep.url == NULL);
		} else {
			CHECK_RC(AMS_OK, rc, &err);
			CHECK_STR_EQ(c->url, ep.url);
			CHECK_STR_EQ(c->signing_region, ep.signing_region);
			CHECK_STR_EQ(ams_service_name(c->svc), ep.signing_name);
			CHECK_STR_EQ("/", ep.path);
			CHECK_INT_EQ(c->partition, ep.partition);
			CHECK(!ep.overridden);
			/* the Host header is the URL's host */
			CHECK(!strncmp(c->url + 8, ep.host_header,
				       strlen(ep.host_header)));
		}
		ams_endpoint_release(&ep);
		ams_endpoint_config_release(&cfg);
		TEST_END("resolve %s in '%s'%s%s%s", ams_service_name(c->svc),
			 c->region, c->flags & F_FIPS ? " fips" : "",
			 c->flags & F_DUAL ? " dualstack" : "",
			 c->flags & F_LEGACY ? " legacy" : "");
	}
}

static void test_invalid_region_message(void)
{
	struct ams_err err = AMS_ERR_INIT;
	enum ams_partition p;

	CHECK_RC(AMS_EUSAGE, ams_region_partition(&p, "moon-east-1", &err),
		 &err);
	CHECK(strstr(err.msg, "'moon-east-1'") != NULL);
	ams_err_clear(&err);
	CHECK_RC(AMS_EUSAGE, ams_region_partition(&p, "us-east-1\n", &err),
		 &err);
	CHECK(strstr(err.msg, "'us-east-1\\x0a'") != NULL);
	ams_err_clear(&err);
	CHECK_RC(AMS_EUSAGE, ams_region_partition(&p, NULL, &err), &err);
	CHECK_RC(AMS_OK, ams_region_partition(&p, "af-south-1", NULL), NULL);
	CHECK_INT_EQ(AMS_PARTITION_AWS, p);
	CHECK_RC(AMS_OK, ams_region_partition(&p, "us-gov-west-1", NULL), NULL);
	CHECK_INT_EQ(AMS_PARTITION_GOV, p);
	/* "us-gov-1" matches the aws regex, as in endpoints.json */
	CHECK_RC(AMS_OK, ams_region_partition(&p, "us-gov-1", NULL), NULL);
	CHECK_INT_EQ(AMS_PARTITION_AWS, p);
}

struct override_case {
	const char *name;
	const char *override_url, *svc_env, *env, *profile_svc, *profile;
	bool ignore;
	const char *url, *host, *path;
};

static void test_override_precedence(void)
{
	static const struct override_case cases[] = {
		{ "explicit beats everything", "http://127.0.0.1:4566",
		  "http://svc:1", "http://all:2", "http://psvc:3",
		  "http://prof:4", false, "http://127.0.0.1:4566/",
		  "127.0.0.1:4566", "/" },
		{ "explicit beats ignore", "https://x.example", NULL, NULL,
		  NULL, NULL, true, "https://x.example/", "x.example", "/" },
		{ "service env beats env", NULL, "http://svc:1", "http://all:2",
		  NULL, NULL, false, "http://svc:1/", "svc:1", "/" },
		{ "env beats profile", NULL, NULL, "http://all:2",
		  "http://psvc:3", "http://prof:4", false, "http://all:2/",
		  "all:2", "/" },
		{ "profile service beats profile", NULL, NULL, NULL,
		  "http://psvc:3", "http://prof:4", false, "http://psvc:3/",
		  "psvc:3", "/" },
		{ "profile", NULL, NULL, NULL, NULL, "http://prof:4", false,
		  "http://prof:4/", "prof:4", "/" },
		{ "ignore configured", NULL, "http://svc:1", "http://all:2",
		  "http://psvc:3", "http://prof:4", true,
		  "https://ec2.eu-west-1.amazonaws.com/",
		  "ec2.eu-west-1.amazonaws.com", "/" },
		{ "URL with a path", NULL, NULL, "http://127.0.0.1:8080/prefix",
		  NULL, NULL, false, "http://127.0.0.1:8080/prefix",
		  "127.0.0.1:8080", "/prefix" },
		{ "default port dropped from Host", NULL, NULL,
		  "https://Fake.Example:443/", NULL, NULL, false,
		  "https://Fake.Example:443/", "fake.example", "/" },
		{ "IPv6 literal", NULL, NULL, "http://[::1]:9000", NULL, NULL,
		  false, "http://[::1]:9000/", "[::1]:9000", "/" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct override_case *c = &cases[i];
		struct ams_endpoint_config cfg;
		struct ams_endpoint ep;
		struct ams_err err = AMS_ERR_INIT;

		TEST_BEGIN();
		ams_endpoint_config_init(&cfg);
		cfg.override_url =
		    c->override_url ? strdup(c->override_url) : NULL;
		cfg.service_env_url[AMS_SVC_EC2] =
		    c->svc_env ? strdup(c->svc_env) : NULL;
		/* another service's variable must not apply */
		cfg.service_env_url[AMS_SVC_STS] = strdup("http://sts-only:9");
		cfg.env_url = c->env ? strdup(c->env) : NULL;
		cfg.profile_service_url[AMS_SVC_EC2] =
		    c->profile_svc ? strdup(c->profile_svc) : NULL;
		cfg.profile_url = c->profile ? strdup(c->profile) : NULL;
		cfg.ignore_configured = c->ignore;
		CHECK_RC(AMS_OK,
			 ams_endpoint_resolve(&ep, &cfg, AMS_SVC_EC2,
					      "eu-west-1", &err),
			 &err);
		CHECK_STR_EQ(c->url, ep.url);
		CHECK_STR_EQ(c->host, ep.host_header);
		CHECK_STR_EQ(c->path, ep.path);
		/* with an override the signing Region stays configured */
		CHECK_STR_EQ("eu-west-1", ep.signing_region);
		ams_endpoint_release(&ep);
		ams_endpoint_config_release(&cfg);
		TEST_END("endpoint override: %s", c->name);
	}
}

static void test_override_global_service(void)
{
	struct ams_endpoint_config cfg;
	struct ams_endpoint ep;
	struct ams_err err = AMS_ERR_INIT;

	ams_endpoint_config_init(&cfg);
	CHECK_RC(AMS_OK,
		 ams_endpoint_config_set_url(&cfg.env_url,
					     "http://127.0.0.1:4566",
					     "AWS_ENDPOINT_URL", &err),
		 &err);
	CHECK_RC(AMS_OK,
		 ams_endpoint_resolve(&ep, &cfg, AMS_SVC_ORGANIZATIONS,
				      "eu-west-1", &err),
		 &err);
	CHECK_STR_EQ("eu-west-1", ep.signing_region);
	CHECK_STR_EQ("organizations", ep.signing_name);
	CHECK(ep.overridden);
	ams_endpoint_release(&ep);
	/* an override still needs a valid Region */
	CHECK_RC(AMS_EUSAGE,
		 ams_endpoint_resolve(&ep, &cfg, AMS_SVC_EC2, "bogus", &err),
		 &err);
	ams_err_clear(&err);
	CHECK_RC(AMS_EUSAGE,
		 ams_endpoint_config_set_url(&cfg.override_url, "ftp://x",
					     "--endpoint-url", &err),
		 &err);
	CHECK(strstr(err.msg, "--endpoint-url") != NULL);
	ams_err_clear(&err);
	CHECK_RC(AMS_EUSAGE,
		 ams_endpoint_config_set_url(&cfg.override_url, "http://h/?a=b",
					     "--endpoint-url", &err),
		 &err);
	ams_endpoint_config_release(&cfg);
}

static void test_from_env(void)
{
	struct ams_endpoint_config cfg;
	struct ams_err err = AMS_ERR_INIT;

	ams_endpoint_config_init(&cfg);
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1", 1);
	setenv("AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:2/ec2", 1);
	setenv("AWS_ENDPOINT_URL_ORGANIZATIONS", "http://127.0.0.1:3", 1);
	setenv("AWS_ENDPOINT_URL_KMS", "", 1);
	setenv("AWS_USE_FIPS_ENDPOINT", "TRUE", 1);
	setenv("AWS_USE_DUALSTACK_ENDPOINT", "false", 1);
	setenv("AWS_STS_REGIONAL_ENDPOINTS", "legacy", 1);
	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false", 1);
	CHECK_RC(AMS_OK, ams_endpoint_config_from_env(&cfg, &err), &err);
	CHECK_STR_EQ("http://127.0.0.1:1", cfg.env_url);
	CHECK_STR_EQ("http://127.0.0.1:2/ec2",
		     cfg.service_env_url[AMS_SVC_EC2]);
	CHECK_STR_EQ("http://127.0.0.1:3",
		     cfg.service_env_url[AMS_SVC_ORGANIZATIONS]);
	CHECK(cfg.service_env_url[AMS_SVC_KMS] == NULL);
	CHECK(cfg.use_fips);
	CHECK(!cfg.use_dualstack);
	CHECK(cfg.sts_global);
	ams_endpoint_config_release(&cfg);

	setenv("AWS_USE_FIPS_ENDPOINT", "yes", 1);
	CHECK_RC(AMS_EUSAGE, ams_endpoint_config_from_env(&cfg, &err), &err);
	CHECK(strstr(err.msg, "AWS_USE_FIPS_ENDPOINT") != NULL);
	ams_endpoint_config_release(&cfg);
	unsetenv("AWS_USE_FIPS_ENDPOINT");
	ams_err_clear(&err);
	setenv("AWS_STS_REGIONAL_ENDPOINTS", "global", 1);
	CHECK_RC(AMS_EUSAGE, ams_endpoint_config_from_env(&cfg, &err), &err);
	ams_endpoint_config_release(&cfg);
	unsetenv("AWS_STS_REGIONAL_ENDPOINTS");
	ams_err_clear(&err);
	setenv("AWS_ENDPOINT_URL_SSM", "not a url", 1);
	CHECK_RC(AMS_EUSAGE, ams_endpoint_config_from_env(&cfg, &err), &err);
	CHECK(strstr(err.msg, "AWS_ENDPOINT_URL_SSM") != NULL);
	ams_endpoint_config_release(&cfg);
	unsetenv("AWS_ENDPOINT_URL_SSM");
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_EC2");
	unsetenv("AWS_ENDPOINT_URL_ORGANIZATIONS");
	unsetenv("AWS_ENDPOINT_URL_KMS");
	unsetenv("AWS_USE_DUALSTACK_ENDPOINT");
	unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
}

static void test_arn_and_names(void)
{
	static const struct {
		const char *arn;
		enum ams_code rc;
		enum ams_partition p;
	} cases[] = {
		{ "arn:aws:iam::111122223333:role/x", AMS_OK,
		  AMS_PARTITION_AWS },
		{ "arn:aws-cn:iam::111122223333:role/x", AMS_OK,
		  AMS_PARTITION_CN },
		{ "arn:aws-us-gov:sts::111122223333:assumed-role/x/y", AMS_OK,
		  AMS_PARTITION_GOV },
		{ "arn:aws-iso:iam::1:role/x", AMS_EUSAGE, 0 },
		{ "arn:awsx:iam::1:role/x", AMS_EUSAGE, 0 },
		{ "arn:aws", AMS_EUSAGE, 0 },
		{ "aws:iam::1", AMS_EUSAGE, 0 },
		{ "", AMS_EUSAGE, 0 },
	};
	enum ams_service svc;
	enum ams_partition p;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ams_err err = AMS_ERR_INIT;

		p = AMS_PARTITION_AWS;
		CHECK_RC(cases[i].rc, ams_arn_partition(&p, cases[i].arn, &err),
			 &err);
		if (!cases[i].rc)
			CHECK_INT_EQ(cases[i].p, p);
	}
	CHECK_STR_EQ("aws-cn", ams_partition_name(AMS_PARTITION_CN));
	CHECK_STR_EQ("aws-us-gov", ams_partition_name(AMS_PARTITION_GOV));
	CHECK_STR_EQ("amazonaws.com.cn",
		     ams_partition_dns_suffix(AMS_PARTITION_CN));
	CHECK(ams_service_from_name(&svc, "organizations"));
	CHECK_INT_EQ(AMS_SVC_ORGANIZATIONS, svc);
	CHECK(!ams_service_from_name(&svc, "s3"));
	CHECK_STR_EQ("ORGANIZATIONS",
		     ams_service_env_suffix(AMS_SVC_ORGANIZATIONS));
}

int main(void)
{
	test_resolve_table();
	TEST(test_invalid_region_message, "invalid regions are named");
	test_override_precedence();
	TEST(test_override_global_service,
	     "override keeps the configured signing region");
	TEST(test_from_env, "AWS_ENDPOINT_URL*, FIPS, STS mode from env");
	TEST(test_arn_and_names, "ARN partitions and service names");
	return test_done();
}
