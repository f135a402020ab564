/*
 * EC2: typed calls for AMIs, snapshots and tags.
 *
 * Every operation has a request builder, which turns a plain C struct into
 * the EC2 wire parameters (flattened 1-based lists, aws-behaviour.md §1.1),
 * and a pure response parser, which turns the XML document of a successful
 * answer into owned C structs without any I/O. Error documents never reach
 * these parsers: the aws layer turns them into struct ams_err.
 *
 * Also here: the validators for identifiers the whole product checks
 * before talking to AWS (account, AMI and snapshot ids, tag keys and
 * values). Region names are checked by endpoint.h.
 *
 * Ownership: every `struct ams_ec2_*` result is filled by a parser and
 * freed with its _release function; strings in it are owned by it. Request
 * structs only borrow the caller's strings. On failure a parser leaves its
 * output empty (released).
 */
#ifndef AMS_EC2_H
#define AMS_EC2_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "err.h"
#include "tags.h"

/* Action names, for ams_aws_call_new() and ams_ec2_parse_return(). */
#define AMS_EC2_DESCRIBE_IMAGES "DescribeImages"
#define AMS_EC2_DESCRIBE_IMAGE_ATTRIBUTE "DescribeImageAttribute"
#define AMS_EC2_MODIFY_IMAGE_ATTRIBUTE "ModifyImageAttribute"
#define AMS_EC2_RESET_IMAGE_ATTRIBUTE "ResetImageAttribute"
#define AMS_EC2_DESCRIBE_SNAPSHOTS "DescribeSnapshots"
#define AMS_EC2_DESCRIBE_SNAPSHOT_ATTRIBUTE "DescribeSnapshotAttribute"
#define AMS_EC2_MODIFY_SNAPSHOT_ATTRIBUTE "ModifySnapshotAttribute"
#define AMS_EC2_CREATE_TAGS "CreateTags"
#define AMS_EC2_DELETE_TAGS "DeleteTags"
#define AMS_EC2_DESCRIBE_TAGS "DescribeTags"
#define AMS_EC2_ENABLE_IMAGE_DEPRECATION "EnableImageDeprecation"
#define AMS_EC2_DISABLE_IMAGE_DEPRECATION "DisableImageDeprecation"

/* Limits from aws-behaviour.md §5.3, §5.5, §5.7, §6, §7. */
#define AMS_EC2_CREATE_TAGS_MAX_RESOURCES 1000
#define AMS_EC2_DELETE_TAGS_MAX_RESOURCES 1000
#define AMS_EC2_DELETE_TAGS_MAX_TAGS 1000
#define AMS_EC2_MAX_TAGS_PER_RESOURCE 50
#define AMS_EC2_TAG_KEY_MAX_CHARS 128
#define AMS_EC2_TAG_VALUE_MAX_CHARS 256
/* Account ids in one ModifyImageAttribute request. */
#define AMS_EC2_LAUNCH_PERMISSION_MAX_USERS 10000
/* Sharing quota: accounts, organizations and OUs per AMI per Region. */
#define AMS_EC2_AMI_SHARE_MAX_ENTITIES 1000
/* Modifications in one ModifySnapshotAttribute request. */
#define AMS_EC2_SNAPSHOT_MODIFY_MAX 500
#define AMS_EC2_DESCRIBE_TAGS_MIN_RESULTS 5
#define AMS_EC2_DESCRIBE_TAGS_MAX_RESULTS 1000

/* ---- Validators ------------------------------------------------------ */

/*
 * Each returns AMS_OK, or AMS_EUSAGE with a message naming the value and
 * what is wrong with it. err may be NULL for a plain yes/no test.
 */

/* Exactly 12 ASCII digits. */
enum ams_code ams_ec2_check_account_id(const char *id, struct ams_err *err);
/* "ami-" and 8 or 17 lowercase hex digits. */
enum ams_code ams_ec2_check_image_id(const char *id, struct ams_err *err);
/* "snap-" and 8 or 17 lowercase hex digits. */
enum ams_code ams_ec2_check_snapshot_id(const char *id, struct ams_err *err);
/*
 * A user tag key: valid UTF-8, 1 to AMS_EC2_TAG_KEY_MAX_CHARS characters
 * (characters, not bytes), not starting with the reserved "aws:" prefix
 * in any letter case. EC2 accepts any character otherwise (§6), so no
 * character set is imposed: the cross-service set is a convention, not
 * an EC2 rule.
 */
enum ams_code ams_ec2_check_tag_key(const char *key, struct ams_err *err);
/* A tag value: valid UTF-8, 0 to AMS_EC2_TAG_VALUE_MAX_CHARS characters. */
enum ams_code ams_ec2_check_tag_value(const char *value, struct ams_err *err);
/* Whether key starts with "aws:" in any letter case (AWS-owned tags). */
bool ams_ec2_tag_key_is_reserved(const char *key);
/*
 * The number of characters in a UTF-8 string, or (size_t)-1 when it is not
 * well-formed UTF-8 (overlong forms, surrogates, code points past U+10FFFF
 * and truncated sequences are all rejected).
 */
size_t ams_ec2_utf8_chars(const char *s);

/* ---- Launch and create-volume permissions ---------------------------- */

enum ams_ec2_perm_kind {
	AMS_EC2_PERM_USER = 1, /* account id */
	AMS_EC2_PERM_GROUP,    /* "all": public */
	AMS_EC2_PERM_ORG,      /* organization ARN */
	AMS_EC2_PERM_OU,       /* organizational unit ARN */
};

struct ams_ec2_perm {
	enum ams_ec2_perm_kind kind;
	char *value;
};

struct ams_ec2_perms {
	struct ams_ec2_perm *v;
	size_t n;
	size_t alloc;
};

void ams_ec2_perms_add(struct ams_ec2_perms *perms, enum ams_ec2_perm_kind kind,
		       const char *value);
/* Whether perms holds exactly this grantee. */
bool ams_ec2_perms_has(const struct ams_ec2_perms *perms,
		       enum ams_ec2_perm_kind kind, const char *value);
void ams_ec2_perms_release(struct ams_ec2_perms *perms);
/* "userId", "group", "organizationArn", "organizationalUnitArn". */
const char *ams_ec2_perm_kind_name(enum ams_ec2_perm_kind kind);

/* ---- Images ---------------------------------------------------------- */

struct ams_ec2_ebs {
	char *snapshot_id; /* NULL when absent */
	char *kms_key_id;  /* NULL when absent */
	char *volume_type;
	bool encrypted;
	bool delete_on_termination;
	unsigned long long volume_size_gib; /* 0 when absent */
};

struct ams_ec2_block_device {
	char *device_name;
	char *virtual_name; /* ephemeral devices; NULL otherwise */
	bool has_ebs;
	struct ams_ec2_ebs ebs;
};

struct ams_ec2_product_code {
	char *code;
	char *type; /* "devpay", "marketplace" */
};

struct ams_ec2_image {
	char *image_id;
	char *state; /* "available", "pending", "failed", ... */
	char *owner_id;
	char *owner_alias; /* NULL when absent */
	char *name;
	char *description;
	char *architecture;
	char *image_type;
	char *root_device_type;
	char *root_device_name;
	char *virtualization_type;
	char *platform_details;
	char *boot_mode;
	bool is_public;
	time_t creation_time;	 /* 0 when absent */
	time_t deprecation_time; /* 0 when absent */
	struct ams_ec2_block_device *devices;
	size_t ndevices;
	struct ams_ec2_product_code *product_codes;
	size_t nproduct_codes;
	struct ams_tags tags; /* the caller's own tags only */
};

struct ams_ec2_images {
	struct ams_ec2_image *v;
	size_t n;
	char *next_token; /* NULL on the last page */
};

void ams_ec2_images_release(struct ams_ec2_images *images);
/* The image with this id, or NULL; borrowed from images. */
const struct ams_ec2_image *ams_ec2_images_find(
    const struct ams_ec2_images *images, const char *image_id);

struct ams_ec2_image_attribute {
	char *image_id;
	struct ams_ec2_perms launch_permissions;
	char *description; /* NULL unless the description was asked for */
};

void ams_ec2_image_attribute_release(struct ams_ec2_image_attribute *attr);

/* ---- Snapshots ------------------------------------------------------- */

struct ams_ec2_snapshot {
	char *snapshot_id;
	char *owner_id;
	char *state; /* "pending", "completed", "error", ... */
	char *volume_id;
	char *description;
	char *kms_key_id; /* NULL when not encrypted */
	bool encrypted;
	unsigned long long volume_size_gib;
	struct ams_tags tags;
};

struct ams_ec2_snapshots {
	struct ams_ec2_snapshot *v;
	size_t n;
	char *next_token;
};

void ams_ec2_snapshots_release(struct ams_ec2_snapshots *snaps);

struct ams_ec2_snapshot_attribute {
	char *snapshot_id;
	struct ams_ec2_perms create_volume_permissions; /* user, group */
};

void ams_ec2_snapshot_attribute_release(
    struct ams_ec2_snapshot_attribute *attr);

/* ---- DescribeTags ---------------------------------------------------- */

struct ams_ec2_resource_tag {
	char *resource_id;
	char *resource_type; /* "image", "snapshot", ... */
	char *key;
	char *value;
};

struct ams_ec2_resource_tags {
	struct ams_ec2_resource_tag *v;
	size_t n;
	char *next_token;
};

void ams_ec2_resource_tags_release(struct ams_ec2_resource_tags *tags);

/* ---- Request builders ------------------------------------------------ */

/*
 * Builders hand each form parameter, in order, to add(payload, name,
 * value); Action and Version are the aws layer's. To fill a call:
 *
 *	call = ams_aws_call_new(aws, AMS_SVC_EC2, region,
 *				AMS_EC2_DESCRIBE_IMAGES, id);
 *	rc = ams_ec2_build_describe_images(&req, ams_ec2_call_param, call,
 *					   &err);
 *
 * Each builder first checks its whole input and adds nothing when it
 * fails: AMS_EUSAGE names the bad value (an invalid id, an empty list
 * where one is required), AMS_ELIMIT a list longer than one call may
 * carry (split it: the limits above). Optional members that are NULL, 0
 * or false are not sent. dry_run sends DryRun=true: AWS then answers
 * DryRunOperation or UnauthorizedOperation (see ams_ec2_dry_run_ok()).
 */
typedef void(ams_ec2_param_fn)(void *payload, const char *name,
			       const char *value);

/* The ams_ec2_param_fn that appends to a struct ams_aws_call (payload). */
void ams_ec2_call_param(void *call, const char *name, const char *value);

/* Filter.N.Name and Filter.N.Value.M: names like "tag:Name", "state". */
struct ams_ec2_filter {
	const char *name;
	const char *const *values;
	size_t nvalues; /* at least 1 */
};

struct ams_ec2_describe_images_req {
	const char *const *image_ids; /* ImageId.N */
	size_t nimage_ids;
	/* Owner.N: account ids, "self", "amazon", "aws-marketplace", ... */
	const char *const *owners;
	size_t nowners;
	/* ExecutableBy.N: account ids, "self", "all". */
	const char *const *executable_by;
	size_t nexecutable_by;
	const struct ams_ec2_filter *filters; /* Filter.N */
	size_t nfilters;
	bool include_deprecated;
	bool include_disabled;
	unsigned max_results;	/* 0: not sent */
	const char *next_token; /* NULL or "": first page */
	bool dry_run;
};

enum ams_code ams_ec2_build_describe_images(
    const struct ams_ec2_describe_images_req *req, ams_ec2_param_fn *add,
    void *payload, struct ams_err *err);

/*
 * DescribeImageAttribute of one attribute: "launchPermission",
 * "description", ... (one per call).
 */
enum ams_code ams_ec2_build_describe_image_attribute(
    const char *image_id, const char *attribute, bool dry_run,
    ams_ec2_param_fn *add, void *payload, struct ams_err *err);

/*
 * ModifyImageAttribute, structured launch permission form:
 * LaunchPermission.Add.N.UserId|Group|OrganizationArn|
 * OrganizationalUnitArn and the same under Remove. Account ids must be 12
 * digits, groups "all", organization and OU values full ARNs (orgs.h).
 * At most AMS_EC2_LAUNCH_PERMISSION_MAX_USERS account ids per call.
 */
struct ams_ec2_modify_image_req {
	const char *image_id;
	const struct ams_ec2_perm *add;
	size_t nadd;
	const struct ams_ec2_perm *remove;
	size_t nremove;
	bool dry_run;
};

enum ams_code ams_ec2_build_modify_image_attribute(
    const struct ams_ec2_modify_image_req *req, ams_ec2_param_fn *add,
    void *payload, struct ams_err *err);

/* ResetImageAttribute of launchPermission: the image becomes private. */
enum ams_code ams_ec2_build_reset_image_attribute(const char *image_id,
						  bool dry_run,
						  ams_ec2_param_fn *add,
						  void *payload,
						  struct ams_err *err);

struct ams_ec2_describe_snapshots_req {
	const char *const *snapshot_ids; /* SnapshotId.N */
	size_t nsnapshot_ids;
	const char *const *owners; /* Owner.N: account ids, "self", ... */
	size_t nowners;
	/* RestorableBy.N: account ids, "self", "all". */
	const char *const *restorable_by;
	size_t nrestorable_by;
	const struct ams_ec2_filter *filters;
	size_t nfilters;
	unsigned max_results;
	const char *next_token;
	bool dry_run;
};

enum ams_code ams_ec2_build_describe_snapshots(
    const struct ams_ec2_describe_snapshots_req *req, ams_ec2_param_fn *add,
    void *payload, struct ams_err *err);

/* DescribeSnapshotAttribute of "createVolumePermission". */
enum ams_code ams_ec2_build_describe_snapshot_attribute(const char *snapshot_id,
							bool dry_run,
							ams_ec2_param_fn *add,
							void *payload,
							struct ams_err *err);

/*
 * ModifySnapshotAttribute, structured form
 * CreateVolumePermission.Add|Remove.N.UserId|Group. Either add or remove
 * (AWS refuses both in one call), user and group grantees only, at most
 * AMS_EC2_SNAPSHOT_MODIFY_MAX of them.
 */
struct ams_ec2_modify_snapshot_req {
	const char *snapshot_id;
	const struct ams_ec2_perm *add;
	size_t nadd;
	const struct ams_ec2_perm *remove;
	size_t nremove;
	bool dry_run;
};

enum ams_code ams_ec2_build_modify_snapshot_attribute(
    const struct ams_ec2_modify_snapshot_req *req, ams_ec2_param_fn *add,
    void *payload, struct ams_err *err);

/*
 * CreateTags: ResourceId.N and Tag.N.Key/Value (an empty value is sent as
 * "Tag.N.Value="). 1 to AMS_EC2_CREATE_TAGS_MAX_RESOURCES resources and 1
 * to AMS_EC2_MAX_TAGS_PER_RESOURCE tags, each passing
 * ams_ec2_check_tag_key/value.
 */
enum ams_code ams_ec2_build_create_tags(const char *const *resource_ids,
					size_t nresource_ids,
					const struct ams_tag *tags,
					size_t ntags, bool dry_run,
					ams_ec2_param_fn *add, void *payload,
					struct ams_err *err);

/*
 * DeleteTags. A tag whose value is NULL is deleted whatever its value; a
 * value (also "") deletes it only when it holds that value. ntags 0
 * deletes every user tag of the resources.
 */
enum ams_code ams_ec2_build_delete_tags(const char *const *resource_ids,
					size_t nresource_ids,
					const struct ams_tag *tags,
					size_t ntags, bool dry_run,
					ams_ec2_param_fn *add, void *payload,
					struct ams_err *err);

/*
 * DescribeTags with filters such as resource-id, resource-type, key.
 * max_results 0 or AMS_EC2_DESCRIBE_TAGS_MIN/MAX_RESULTS.
 */
struct ams_ec2_describe_tags_req {
	const struct ams_ec2_filter *filters;
	size_t nfilters;
	unsigned max_results;
	const char *next_token;
	bool dry_run;
};

enum ams_code ams_ec2_build_describe_tags(
    const struct ams_ec2_describe_tags_req *req, ams_ec2_param_fn *add,
    void *payload, struct ams_err *err);

/* EnableImageDeprecation at deprecate_at, sent as YYYY-MM-DDTHH:MM:SSZ. */
enum ams_code ams_ec2_build_enable_image_deprecation(
    const char *image_id, time_t deprecate_at, bool dry_run,
    ams_ec2_param_fn *add, void *payload, struct ams_err *err);
enum ams_code ams_ec2_build_disable_image_deprecation(const char *image_id,
						      bool dry_run,
						      ams_ec2_param_fn *add,
						      void *payload,
						      struct ams_err *err);

/*
 * Whether a failed call's error is AWS's answer to a permitted dry run
 * (DryRunOperation): the caller would have been allowed.
 */
bool ams_ec2_dry_run_ok(const struct ams_err *err);

/* ---- Response parsers ------------------------------------------------ */

/*
 * Pure: body is the 2xx response document of the named action. *out need
 * not be initialised; on AMS_OK the caller releases it. Returns AMS_OK,
 * or AMS_EPARSE / AMS_ELIMIT from xml.h, AMS_EPARSE for a document whose
 * root is not <{Action}Response> or that lacks a required element
 * (imageId, snapshotId, resourceId, tag key), or a malformed boolean,
 * number or time. Messages name the action and the element.
 */
enum ams_code ams_ec2_parse_describe_images(struct ams_ec2_images *out,
					    const char *body, size_t len,
					    struct ams_err *err);
enum ams_code ams_ec2_parse_describe_image_attribute(
    struct ams_ec2_image_attribute *out, const char *body, size_t len,
    struct ams_err *err);
enum ams_code ams_ec2_parse_describe_snapshots(struct ams_ec2_snapshots *out,
					       const char *body, size_t len,
					       struct ams_err *err);
enum ams_code ams_ec2_parse_describe_snapshot_attribute(
    struct ams_ec2_snapshot_attribute *out, const char *body, size_t len,
    struct ams_err *err);
enum ams_code ams_ec2_parse_describe_tags(struct ams_ec2_resource_tags *out,
					  const char *body, size_t len,
					  struct ams_err *err);
/*
 * The answer of an action without output (ModifyImageAttribute,
 * ResetImageAttribute, ModifySnapshotAttribute, CreateTags, DeleteTags,
 * Enable/DisableImageDeprecation): AMS_OK when it holds
 * <return>true</return>, AMS_EAWS when <return> holds anything else,
 * AMS_EPARSE when it is missing or the root is not <{action}Response>.
 */
enum ams_code ams_ec2_parse_return(const char *action, const char *body,
				   size_t len, struct ams_err *err);

#endif
