/*
 * AWS Organizations: typed calls for discovering the accounts and OUs an
 * AMI is shared with, and the organization/OU identifier validators.
 *
 * Organizations speaks JSON 1.1 (X-Amz-Target AWSOrganizationsV20161128,
 * aws-behaviour.md §12). Builders write the JSON request body into the
 * buffer the aws layer sends (ams_aws_call_json()); parsers are pure and
 * turn a 2xx response body into owned structs.
 *
 * Pagination: every List call returns NextToken until the last page, and
 * a page may be empty while still carrying a token: callers must keep
 * asking while next_token is not NULL, whatever the page held.
 *
 * Ownership: results are filled by the parsers and freed with their
 * _release functions. Request arguments are borrowed.
 */
#ifndef AMS_ORGS_H
#define AMS_ORGS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

#define AMS_ORGS_DESCRIBE_ORGANIZATION "DescribeOrganization"
#define AMS_ORGS_LIST_ROOTS "ListRoots"
#define AMS_ORGS_LIST_CHILDREN "ListChildren"
#define AMS_ORGS_LIST_ACCOUNTS_FOR_PARENT "ListAccountsForParent"
#define AMS_ORGS_LIST_OUS_FOR_PARENT "ListOrganizationalUnitsForParent"

/* MaxResults range of the List calls. */
#define AMS_ORGS_MAX_RESULTS 20

/* ---- Validators ------------------------------------------------------ */

/*
 * Each returns AMS_OK or AMS_EUSAGE naming the value and the expected
 * form; err may be NULL. Patterns are the Organizations model's, with the
 * partition ("aws", "aws-cn", "aws-us-gov") taken from the ARN.
 */
/* o-[a-z0-9]{10,32} */
enum ams_code ams_orgs_check_org_id(const char *id, struct ams_err *err);
/* ou-[0-9a-z]{4,32}-[a-z0-9]{8,32} */
enum ams_code ams_orgs_check_ou_id(const char *id, struct ams_err *err);
/* r-[0-9a-z]{4,32} */
enum ams_code ams_orgs_check_root_id(const char *id, struct ams_err *err);
/* A root or OU id: what ParentId accepts. */
enum ams_code ams_orgs_check_parent_id(const char *id, struct ams_err *err);
/* arn:<partition>:organizations::<12 digits>:organization/o-... */
enum ams_code ams_orgs_check_org_arn(const char *arn, struct ams_err *err);
/* arn:<partition>:organizations::<12 digits>:ou/o-.../ou-... */
enum ams_code ams_orgs_check_ou_arn(const char *arn, struct ams_err *err);
/*
 * The ARN of an OU, as ModifyImageAttribute wants it: the account is the
 * management account (DescribeOrganization's MasterAccountId). Returns a
 * string the caller frees. The arguments are not checked.
 */
char *ams_orgs_ou_arn(const char *partition, const char *mgmt_account_id,
		      const char *org_id, const char *ou_id);

/* ---- Results --------------------------------------------------------- */

struct ams_orgs_organization {
	char *id;  /* "o-..." */
	char *arn; /* "arn:aws:organizations::<mgmt>:organization/o-..." */
	char *feature_set; /* "ALL", "CONSOLIDATED_BILLING" */
	char *master_account_id;
	char *master_account_arn;
};

void ams_orgs_organization_release(struct ams_orgs_organization *org);

/* A root, an OU: the entries of ListRoots and ...ForParent. */
struct ams_orgs_unit {
	char *id;
	char *arn;
	char *name;
};

struct ams_orgs_units {
	struct ams_orgs_unit *v;
	size_t n;
	char *next_token; /* NULL on the last page */
};

void ams_orgs_units_release(struct ams_orgs_units *units);

enum ams_orgs_child_type {
	AMS_ORGS_CHILD_ACCOUNT = 1,
	AMS_ORGS_CHILD_OU,
};

struct ams_orgs_child {
	char *id;
	enum ams_orgs_child_type type;
};

struct ams_orgs_children {
	struct ams_orgs_child *v;
	size_t n;
	char *next_token;
};

void ams_orgs_children_release(struct ams_orgs_children *children);

struct ams_orgs_account {
	char *id; /* 12 digits */
	char *arn;
	char *name;
	char *email;
	char *state;  /* "ACTIVE", "SUSPENDED", ...; NULL when not sent */
	char *status; /* the older field; NULL when not sent */
	/*
	 * Whether the account counts as a share target: State is ACTIVE, or
	 * State is absent and Status is ACTIVE.
	 */
	bool active;
};

struct ams_orgs_accounts {
	struct ams_orgs_account *v;
	size_t n;
	char *next_token;
};

void ams_orgs_accounts_release(struct ams_orgs_accounts *accounts);

/* ---- Request builders ------------------------------------------------ */

/*
 * Each appends the JSON request body to an empty body buffer (the aws
 * call's ams_aws_call_json()). next_token NULL or "" asks for the first
 * page; max_results 0 leaves the page size to AWS, else 1 to
 * AMS_ORGS_MAX_RESULTS. Returns AMS_OK, or AMS_EUSAGE (nothing written)
 * for an invalid parent id or page size.
 */
enum ams_code ams_orgs_build_describe_organization(struct ams_buf *body,
						   struct ams_err *err);
enum ams_code ams_orgs_build_list_roots(struct ams_buf *body,
					const char *next_token,
					unsigned max_results,
					struct ams_err *err);
enum ams_code ams_orgs_build_list_children(
    struct ams_buf *body, const char *parent_id, enum ams_orgs_child_type type,
    const char *next_token, unsigned max_results, struct ams_err *err);
enum ams_code ams_orgs_build_list_accounts_for_parent(struct ams_buf *body,
						      const char *parent_id,
						      const char *next_token,
						      unsigned max_results,
						      struct ams_err *err);
enum ams_code ams_orgs_build_list_ous_for_parent(struct ams_buf *body,
						 const char *parent_id,
						 const char *next_token,
						 unsigned max_results,
						 struct ams_err *err);

/* ---- Response parsers ------------------------------------------------ */

/*
 * Pure. *out need not be initialised; on AMS_OK the caller releases it.
 * Returns AMS_EPARSE (naming the member) for malformed JSON, a missing
 * or mistyped required member (Organization.Id, every entry's Id, an
 * unknown child Type), AMS_ELIMIT from json.h. An absent, null or empty
 * NextToken means the last page.
 */
enum ams_code ams_orgs_parse_describe_organization(
    struct ams_orgs_organization *out, const char *body, size_t len,
    struct ams_err *err);
enum ams_code ams_orgs_parse_list_roots(struct ams_orgs_units *out,
					const char *body, size_t len,
					struct ams_err *err);
enum ams_code ams_orgs_parse_list_children(struct ams_orgs_children *out,
					   const char *body, size_t len,
					   struct ams_err *err);
enum ams_code ams_orgs_parse_list_accounts_for_parent(
    struct ams_orgs_accounts *out, const char *body, size_t len,
    struct ams_err *err);
enum ams_code ams_orgs_parse_list_ous_for_parent(struct ams_orgs_units *out,
						 const char *body, size_t len,
						 struct ams_err *err);

#endif
