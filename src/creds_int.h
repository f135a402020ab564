/*
 * Private to the credential chain (creds.c, creds_config.c,
 * creds_fetch.c): the configuration and provider structures and the
 * fetch functions each kind of source implements.
 */
#ifndef AMS_CREDS_INT_H
#define AMS_CREDS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "creds.h"
#include "ini.h"
#include "tags.h"

struct ams_creds_config {
	ams_creds_getenv_fn *getenv_fn;
	void *env_payload;
	char *profile;		  /* selected profile */
	bool profile_explicit;	  /* chosen by --profile or the environment */
	bool profile_from_option; /* chosen by --profile */
	char *config_path;
	char *credentials_path;
	struct ams_ini *config;	     /* NULL when the file is missing */
	struct ams_ini *credentials; /* NULL when the file is missing */
};

/* The section of profile in the config or credentials file, or NULL. */
const struct ams_ini_section *ams_creds__section(
    const struct ams_creds_config *cfg, bool config_file, const char *profile);
/*
 * "profile 'x' in '/path'", naming the file that defines the profile
 * (the config file when both do). The caller frees it.
 */
char *ams_creds__where(const struct ams_creds_config *cfg, const char *profile);

struct ams_creds_provider {
	enum ams_creds_kind kind;
	char *describe;
	struct ams_aws *aws;		       /* borrowed */
	struct ams_identity *id;	       /* owned */
	struct ams_identity *base;	       /* assume role: signs the call */
	struct ams_creds_provider *base_owned; /* chain: freed with us */
	bool fetching;
	bool fetch_done;	  /* a fetch finished since resolve started */
	struct ams_err *last_err; /* the last fetch's failure; NULL: none */
	unsigned fetches;
	uint64_t fetched_ms; /* ams_clock_mono_ms() of the last good fetch */
	uint64_t failed_ms;  /* ams_clock_mono_ms() of the last failed one */

	/* AMS_CREDS_ASSUME_ROLE and AMS_CREDS_WEB_IDENTITY */
	char *role_arn;
	char *session_name;
	char *external_id;
	char *source_identity;
	unsigned duration_s;
	struct ams_tag *tags;
	size_t ntags;
	char **transitive;
	size_t ntransitive;
	char *sts_region;
	char *role_from; /* "profile 'x'" or "AWS_ROLE_ARN", for messages */

	/* AMS_CREDS_WEB_IDENTITY */
	char *token_file;

	/* AMS_CREDS_PROCESS */
	char *command;
	char *what; /* "profile 'x' in '/path'" */

	/* AMS_CREDS_CONTAINER */
	char *url;
	char *auth_file;
	char *auth_token; /* secret */

	/* AMS_CREDS_IMDS */
	char *imds_endpoint; /* "http://169.254.169.254", no trailing '/' */
	long imds_timeout_ms;
	unsigned imds_attempts;
	bool imds_v1_disabled;
	bool imds_last_resort; /* chosen because nothing else was set */
	bool imds_timed_out;   /* the token request's last attempt */
	char *imds_token;      /* secret; during one fetch */
	char *imds_role;
};

/*
 * Fetches start from the identity's refresh hook (or resolve) and end
 * with ams_creds__finish(), which hands the result to the identity.
 */
void ams_creds__fetch_web_identity(struct ams_creds_provider *p);
void ams_creds__fetch_assume_role(struct ams_creds_provider *p);
void ams_creds__fetch_container(struct ams_creds_provider *p);
void ams_creds__fetch_imds(struct ams_creds_provider *p);
/* Fills an AssumeRole request from the provider (borrowing its strings). */
struct ams_sts_assume_role_req;
void ams_creds__role_req(struct ams_sts_assume_role_req *req,
			 const struct ams_creds_provider *p);
/* creds NULL: failure described by err. */
void ams_creds__finish(struct ams_creds_provider *p,
		       const struct ams_creds *creds,
		       const struct ams_err *err);

#endif
