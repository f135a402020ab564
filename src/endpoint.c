/*
 * Endpoint resolution for the five services amishare calls.
 *
 * The rules are a hand-written subset of botocore's endpoint rule sets for
 * EC2, STS, KMS, SSM and Organizations (aws-behaviour.md §2): the
 * partition follows from the Region name, the host from the service,
 * partition and the FIPS and dual-stack switches, and the two global
 * services (Organizations always, STS in "legacy" mode for the Regions
 * the rule set lists) pin their signing Region. Configured endpoint URLs
 * (§4.8) replace the host but never the signing Region.
 */
#include "endpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "uri.h"
#include "xmem.h"

static const struct {
	const char *name;
	const char *env;
} services[AMS_SVC_COUNT] = {
	[AMS_SVC_EC2] = { "ec2", "EC2" },
	[AMS_SVC_STS] = { "sts", "STS" },
	[AMS_SVC_KMS] = { "kms", "KMS" },
	[AMS_SVC_SSM] = { "ssm", "SSM" },
	[AMS_SVC_ORGANIZATIONS] = { "organizations", "ORGANIZATIONS" },
};

static const struct {
	const char *name;
	const char *dns_suffix;
	const char *dualstack_suffix;
	const char *org_region; /* where Organizations lives */
} partitions[] = {
	[AMS_PARTITION_AWS] = { "aws", "amazonaws.com", "api.aws",
				"us-east-1" },
	[AMS_PARTITION_CN] = { "aws-cn", "amazonaws.com.cn",
			       "api.amazonwebservices.com.cn",
			       "cn-northwest-1" },
	[AMS_PARTITION_GOV] = { "aws-us-gov", "amazonaws.com", "api.aws",
				"us-gov-west-1" },
};

/* Regions the STS rule set sends to sts.amazonaws.com in legacy mode. */
static const char *const sts_legacy_global[] = {
	"ap-northeast-1", "ap-south-1",	  "ap-southeast-1", "ap-southeast-2",
	"aws-global",	  "ca-central-1", "eu-central-1",   "eu-north-1",
	"eu-west-1",	  "eu-west-2",	  "eu-west-3",	    "sa-east-1",
	"us-east-1",	  "us-east-2",	  "us-west-1",	    "us-west-2",
};

const char *ams_service_name(enum ams_service svc)
{
	if ((unsigned)svc >= AMS_SVC_COUNT)
		return "unknown";
	return services[svc].name;
}

bool ams_service_from_name(enum ams_service *out, const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(services); i++)
		if (name && !strcmp(services[i].name, name)) {
			*out = (enum ams_service)i;
			return true;
		}
	return false;
}

const char *ams_service_env_suffix(enum ams_service svc)
{
	if ((unsigned)svc >= AMS_SVC_COUNT)
		return "UNKNOWN";
	return services[svc].env;
}

const char *ams_partition_name(enum ams_partition p)
{
	if ((unsigned)p >= ARRAY_SIZE(partitions))
		return "unknown";
	return partitions[p].name;
}

const char *ams_partition_dns_suffix(enum ams_partition p)
{
	if ((unsigned)p >= ARRAY_SIZE(partitions))
		return "";
	return partitions[p].dns_suffix;
}

static bool is_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/* Whether s is exactly \w+-\d+ (the tail of every Region regex). */
static bool word_dash_digits(const char *s)
{
	const char *p = s;

	while (is_word(*p))
		p++;
	if (p == s || *p != '-')
		return false;
	s = ++p;
	while (*p >= '0' && *p <= '9')
		p++;
	return p != s && !*p;
}

static bool partition_of(enum ams_partition *out, const char *region)
{
	static const char *const aws_prefixes[] = {
		"us-", "eu-", "ap-", "sa-", "ca-", "me-", "af-", "il-", "mx-",
	};
	size_t i;

	if (!strncmp(region, "us-gov-", 7) && word_dash_digits(region + 7)) {
		*out = AMS_PARTITION_GOV;
		return true;
	}
	if (!strncmp(region, "cn-", 3) && word_dash_digits(region + 3)) {
		*out = AMS_PARTITION_CN;
		return true;
	}
	for (i = 0; i < ARRAY_SIZE(aws_prefixes); i++)
		if (!strncmp(region, aws_prefixes[i], 3) &&
		    word_dash_digits(region + 3)) {
			*out = AMS_PARTITION_AWS;
			return true;
		}
	return false;
}

/* Quotes untrusted text for a message: printable ASCII, at most 64 bytes. */
static void add_quoted(struct ams_buf *sb, const char *s)
{
	size_t i, n = strnlen(s, 65);

	ams_buf_addch(sb, '\'');
	for (i = 0; i < n && i < 64; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\'')
			ams_buf_addch(sb, c);
		else
			ams_buf_addf(sb, "\\x%02x", c);
	}
	if (n > 64)
		ams_buf_addstr(sb, "...");
	ams_buf_addch(sb, '\'');
}

enum ams_code ams_region_partition(enum ams_partition *out, const char *region,
				   struct ams_err *err)
{
	struct ams_buf sb = AMS_BUF_INIT;

	if (region && partition_of(out, region))
		return AMS_OK;
	if (!region || !*region)
		return ams_fail(err, AMS_EUSAGE, "no region given");
	add_quoted(&sb, region);
	ams_fail(err, AMS_EUSAGE,
		 "invalid region %s: expected a name like 'us-east-1'", sb.buf);
	ams_buf_release(&sb);
	return AMS_EUSAGE;
}

enum ams_code ams_arn_partition(enum ams_partition *out, const char *arn,
				struct ams_err *err)
{
	const char *p, *end;
	size_t i;
	struct ams_buf sb = AMS_BUF_INIT;

	if (arn && !strncmp(arn, "arn:", 4)) {
		p = arn + 4;
		end = strchr(p, ':');
		for (i = 0; end && i < ARRAY_SIZE(partitions); i++)
			if (strlen(partitions[i].name) == (size_t)(end - p) &&
			    !strncmp(partitions[i].name, p,
				     (size_t)(end - p))) {
				*out = (enum ams_partition)i;
				return AMS_OK;
			}
	}
	add_quoted(&sb, arn ? arn : "");
	ams_fail(err, AMS_EUSAGE,
		 "%s is not an ARN of the aws, aws-cn or aws-us-gov partition",
		 sb.buf);
	ams_buf_release(&sb);
	return AMS_EUSAGE;
}

void ams_endpoint_config_init(struct ams_endpoint_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
}

void ams_endpoint_config_release(struct ams_endpoint_config *cfg)
{
	size_t i;

	free(cfg->override_url);
	free(cfg->env_url);
	free(cfg->profile_url);
	for (i = 0; i < AMS_SVC_COUNT; i++) {
		free(cfg->service_env_url[i]);
		free(cfg->profile_service_url[i]);
	}
	ams_endpoint_config_init(cfg);
}

enum ams_code ams_endpoint_config_set_url(char **slot, const char *url,
					  const char *what, struct ams_err *err)
{
	struct ams_uri u;
	enum ams_code rc;

	if (!url) {
		free(*slot);
		*slot = NULL;
		return AMS_OK;
	}
	rc = ams_uri_parse(&u, url, err);
	if (rc) {
		ams_err_prefix(err, "%s", what);
		return rc;
	}
	if (u.query) {
		ams_uri_release(&u);
		return ams_fail(err, AMS_EUSAGE,
				"%s: an endpoint URL cannot have a query",
				what);
	}
	ams_uri_release(&u);
	free(*slot);
	*slot = xstrdup(url);
	return AMS_OK;
}

static enum ams_code env_bool(bool *out, const char *name, struct ams_err *err)
{
	const char *v = getenv(name);

	if (!v || !*v)
		return AMS_OK;
	if (!strcasecmp(v, "true"))
		*out = true;
	else if (!strcasecmp(v, "false"))
		*out = false;
	else
		return ams_fail(err, AMS_EUSAGE,
				"%s: expected true or false, got '%.32s'", name,
				v);
	return AMS_OK;
}

static enum ams_code env_url(char **slot, const char *name, struct ams_err *err)
{
	const char *v = getenv(name);

	if (!v || !*v)
		return AMS_OK;
	return ams_endpoint_config_set_url(slot, v, name, err);
}

enum ams_code ams_endpoint_config_from_env(struct ams_endpoint_config *cfg,
					   struct ams_err *err)
{
	enum ams_code rc;
	const char *sts;
	char name[64];
	size_t i;

	rc = env_url(&cfg->env_url, "AWS_ENDPOINT_URL", err);
	for (i = 0; !rc && i < AMS_SVC_COUNT; i++) {
		snprintf(name, sizeof(name), "AWS_ENDPOINT_URL_%s",
			 services[i].env);
		rc = env_url(&cfg->service_env_url[i], name, err);
	}
	if (!rc)
		rc = env_bool(&cfg->ignore_configured,
			      "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", err);
	if (!rc)
		rc = env_bool(&cfg->use_fips, "AWS_USE_FIPS_ENDPOINT", err);
	if (!rc)
		rc = env_bool(&cfg->use_dualstack, "AWS_USE_DUALSTACK_ENDPOINT",
			      err);
	if (rc)
		return rc;
	sts = getenv("AWS_STS_REGIONAL_ENDPOINTS");
	if (sts && *sts) {
		if (!strcasecmp(sts, "legacy"))
			cfg->sts_global = true;
		else if (!strcasecmp(sts, "regional"))
			cfg->sts_global = false;
		else
			return ams_fail(err, AMS_EUSAGE,
					"AWS_STS_REGIONAL_ENDPOINTS: expected "
					"legacy or regional, got '%.32s'",
					sts);
	}
	return AMS_OK;
}

static const char *configured_url(const struct ams_endpoint_config *cfg,
				  enum ams_service svc)
{
	if (!cfg)
		return NULL;
	if (cfg->override_url)
		return cfg->override_url;
	if (cfg->ignore_configured)
		return NULL;
	if (cfg->service_env_url[svc])
		return cfg->service_env_url[svc];
	if (cfg->env_url)
		return cfg->env_url;
	if (cfg->profile_service_url[svc])
		return cfg->profile_service_url[svc];
	return cfg->profile_url;
}

static bool sts_is_legacy_global(const char *region)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sts_legacy_global); i++)
		if (!strcmp(sts_legacy_global[i], region))
			return true;
	return false;
}

/* The standard host and signing Region; false when FIPS is impossible. */
static bool standard_host(struct ams_buf *host, const char **sign_region,
			  const struct ams_endpoint_config *cfg,
			  enum ams_service svc, enum ams_partition part,
			  const char *region)
{
	bool fips = cfg && cfg->use_fips;
	bool dual = cfg && cfg->use_dualstack;
	const char *name = services[svc].name;
	const char *suffix = dual ? partitions[part].dualstack_suffix
				  : partitions[part].dns_suffix;

	*sign_region = region;
	if (fips && part == AMS_PARTITION_CN)
		return false;
	/* aws-us-gov hosts are FIPS already, except KMS's. */
	if (part == AMS_PARTITION_GOV && svc != AMS_SVC_KMS)
		fips = false;
	if (svc == AMS_SVC_ORGANIZATIONS) {
		*sign_region = partitions[part].org_region;
		ams_buf_addf(host, "organizations%s.%s.%s", fips ? "-fips" : "",
			     *sign_region, partitions[part].dns_suffix);
		return true;
	}
	if (svc == AMS_SVC_STS && !fips && !dual && cfg && cfg->sts_global &&
	    part == AMS_PARTITION_AWS && sts_is_legacy_global(region)) {
		*sign_region = "us-east-1";
		ams_buf_addstr(host, "sts.amazonaws.com");
		return true;
	}
	ams_buf_addf(host, "%s%s.%s.%s", name, fips ? "-fips" : "", region,
		     suffix);
	return true;
}

static enum ams_code from_url(struct ams_endpoint *out, const char *url,
			      struct ams_err *err)
{
	struct ams_uri u;
	struct ams_buf sb = AMS_BUF_INIT;
	enum ams_code rc;

	rc = ams_uri_parse(&u, url, err);
	if (rc) {
		ams_err_prefix(err, "endpoint URL");
		return rc;
	}
	ams_uri_host_header(&sb, &u);
	out->host_header = ams_buf_detach(&sb, NULL);
	out->path = xstrdup(*u.path ? u.path : "/");
	/* botocore _urljoin: POST / on a URL without a path adds the '/'. */
	if (*u.path)
		out->url = xstrdup(url);
	else
		out->url = xasprintf("%s/", url);
	ams_uri_release(&u);
	return AMS_OK;
}

enum ams_code ams_endpoint_resolve(struct ams_endpoint *out,
				   const struct ams_endpoint_config *cfg,
				   enum ams_service svc, const char *region,
				   struct ams_err *err)
{
	struct ams_endpoint ep = AMS_ENDPOINT_INIT;
	struct ams_buf host = AMS_BUF_INIT;
	const char *url, *sign_region;
	enum ams_code rc;

	*out = ep;
	if ((unsigned)svc >= AMS_SVC_COUNT)
		return ams_fail(err, AMS_EUSAGE, "unknown service %d",
				(int)svc);
	rc = ams_region_partition(&ep.partition, region, err);
	if (rc)
		return rc;
	ep.signing_name = services[svc].name;
	url = configured_url(cfg, svc);
	if (url) {
		rc = from_url(&ep, url, err);
		if (rc)
			return rc;
		ep.signing_region = xstrdup(region);
		ep.overridden = true;
		*out = ep;
		return AMS_OK;
	}
	if (!standard_host(&host, &sign_region, cfg, svc, ep.partition,
			   region)) {
		ams_buf_release(&host);
		return ams_fail(err, AMS_EUSAGE,
				"%s has no FIPS endpoints in region '%s' "
				"(partition %s)",
				services[svc].name, region,
				partitions[ep.partition].name);
	}
	ep.url = xasprintf("https://%s/", host.buf);
	ep.host_header = ams_buf_detach(&host, NULL);
	ep.path = xstrdup("/");
	ep.signing_region = xstrdup(sign_region);
	*out = ep;
	return AMS_OK;
}

void ams_endpoint_release(struct ams_endpoint *ep)
{
	struct ams_endpoint empty = AMS_ENDPOINT_INIT;

	if (!ep)
		return;
	free(ep->url);
	free(ep->host_header);
	free(ep->path);
	free(ep->signing_region);
	*ep = empty;
}
