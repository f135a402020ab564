/*
 * Endpoint resolution: Region -> partition -> service host, signing name
 * and signing Region (aws-behaviour.md §2, §4.8).
 *
 * Precedence for the base URL of a service call:
 *   1. an explicit override (--endpoint-url), for every service;
 *   2. AWS_ENDPOINT_URL_<SERVICE> (EC2, STS, KMS, SSM, ORGANIZATIONS);
 *   3. AWS_ENDPOINT_URL;
 *   4. the profile's [services] <service>.endpoint_url, then endpoint_url
 *      (filled in by whoever reads the config file);
 *   5. the partition's standard host, with FIPS and dual-stack variants.
 * Tiers 2-4 are skipped when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true.
 * With any override the signing Region is the configured Region, even for
 * the global services (STS legacy global endpoint, Organizations).
 *
 * Everything here is pure apart from ams_endpoint_config_from_env().
 */
#ifndef AMS_ENDPOINT_H
#define AMS_ENDPOINT_H

#include <stdbool.h>

#include "err.h"

enum ams_service {
	AMS_SVC_EC2 = 0,
	AMS_SVC_STS,
	AMS_SVC_KMS,
	AMS_SVC_SSM,
	AMS_SVC_ORGANIZATIONS,
	AMS_SVC_COUNT
};

enum ams_partition {
	AMS_PARTITION_AWS = 0,
	AMS_PARTITION_CN,
	AMS_PARTITION_GOV,
};

/* "ec2", "sts", "kms", "ssm", "organizations": the signing name. */
const char *ams_service_name(enum ams_service svc);
/* Looks a service up by signing name; false when unknown. */
bool ams_service_from_name(enum ams_service *out, const char *name);
/* "EC2", "STS", ...: the suffix of AWS_ENDPOINT_URL_<SERVICE>. */
const char *ams_service_env_suffix(enum ams_service svc);

/* "aws", "aws-cn", "aws-us-gov". */
const char *ams_partition_name(enum ams_partition p);
/* "amazonaws.com", "amazonaws.com.cn", "amazonaws.com". */
const char *ams_partition_dns_suffix(enum ams_partition p);

/*
 * The partition of a Region name, by the regexes of endpoints.json:
 * aws ^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$, aws-cn ^cn-\w+-\d+$,
 * aws-us-gov ^us-gov-\w+-\d+$. Returns AMS_OK, or AMS_EUSAGE
 * "invalid region '<name>'" (the name is shown escaped if it holds
 * unprintable bytes).
 */
enum ams_code ams_region_partition(enum ams_partition *out, const char *region,
				   struct ams_err *err);
/*
 * The partition named in an ARN ("arn:aws-cn:iam::..."). Returns AMS_OK
 * or AMS_EUSAGE for text that is not an ARN of a known partition.
 */
enum ams_code ams_arn_partition(enum ams_partition *out, const char *arn,
				struct ams_err *err);

/* Where service URLs come from. Strings are owned by the struct. */
struct ams_endpoint_config {
	char *override_url;			  /* --endpoint-url */
	char *service_env_url[AMS_SVC_COUNT];	  /* AWS_ENDPOINT_URL_<SVC> */
	char *env_url;				  /* AWS_ENDPOINT_URL */
	char *profile_service_url[AMS_SVC_COUNT]; /* [services] section */
	char *profile_url;			  /* profile endpoint_url */
	bool ignore_configured; /* AWS_IGNORE_CONFIGURED_ENDPOINT_URLS */
	bool use_fips;		/* AWS_USE_FIPS_ENDPOINT */
	bool use_dualstack;	/* AWS_USE_DUALSTACK_ENDPOINT */
	bool sts_global;	/* AWS_STS_REGIONAL_ENDPOINTS=legacy */
};

/* Empty: no overrides, regional STS, no FIPS, no dual-stack. */
void ams_endpoint_config_init(struct ams_endpoint_config *cfg);
void ams_endpoint_config_release(struct ams_endpoint_config *cfg);
/*
 * Reads AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL,
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, AWS_USE_FIPS_ENDPOINT,
 * AWS_USE_DUALSTACK_ENDPOINT and AWS_STS_REGIONAL_ENDPOINTS into cfg
 * (empty variables are ignored). URLs are validated with ams_uri_parse.
 * Returns AMS_OK, or AMS_EUSAGE naming the variable and what is wrong
 * (an invalid URL, a boolean other than true/false, an
 * AWS_STS_REGIONAL_ENDPOINTS other than legacy/regional).
 */
enum ams_code ams_endpoint_config_from_env(struct ams_endpoint_config *cfg,
					   struct ams_err *err);
/*
 * Sets one URL slot (replacing it; NULL clears it) after validating it:
 * slot is &cfg->override_url, &cfg->env_url, &cfg->service_env_url[svc],
 * ... what names the source for the error message ("--endpoint-url").
 * Returns AMS_OK or AMS_EUSAGE.
 */
enum ams_code ams_endpoint_config_set_url(char **slot, const char *url,
					  const char *what,
					  struct ams_err *err);

/* A resolved endpoint. Strings are owned by the struct. */
struct ams_endpoint {
	/*
	 * The request URL for POST /: the standard "https://<host>/", or an
	 * override as given plus "/" when it has no path (botocore _urljoin).
	 */
	char *url;
	char *host_header;	  /* Host value SigV4 signs ("h:port" if set) */
	char *path;		  /* path part of url, at least "/" */
	char *signing_region;	  /* Region in the credential scope */
	const char *signing_name; /* "ec2", ... (static) */
	enum ams_partition partition;
	bool overridden; /* url came from an override tier */
};

#define AMS_ENDPOINT_INIT                              \
	{                                              \
		NULL, NULL, NULL, NULL, NULL, 0, false \
	}

/*
 * Resolves svc in region under cfg. *out need not be initialised; on
 * AMS_OK the caller releases it with ams_endpoint_release(). Returns
 * AMS_EUSAGE for an invalid Region (also with an override: the Region
 * still goes into the signature), an override URL that does not parse, or
 * FIPS in aws-cn, which has no FIPS endpoints. Elsewhere FIPS gives
 * "<svc>-fips.<region>.<suffix>" as the endpoint rule sets do (in
 * aws-us-gov EC2, STS, SSM and Organizations keep their standard host,
 * which is already FIPS); dual-stack uses api.aws
 * (api.amazonwebservices.com.cn in aws-cn).
 */
enum ams_code ams_endpoint_resolve(struct ams_endpoint *out,
				   const struct ams_endpoint_config *cfg,
				   enum ams_service svc, const char *region,
				   struct ams_err *err);
void ams_endpoint_release(struct ams_endpoint *ep);

#endif
