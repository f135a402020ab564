/*
 * SSM Parameter Store: publishing the shared AMI id under a parameter
 * name (PutParameter with DataType aws:ec2:image), reading and deleting
 * it.
 *
 * SSM speaks JSON 1.1 (X-Amz-Target AmazonSSM.<Action>, aws-behaviour.md
 * §11). Builders append the request body to the buffer the aws layer
 * sends (ams_aws_call_json()); parsers are pure.
 *
 * Note that AWS validates aws:ec2:image values asynchronously: a
 * successful PutParameter only means the request was accepted.
 */
#ifndef AMS_SSM_H
#define AMS_SSM_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "err.h"
#include "tags.h"

#define AMS_SSM_PUT_PARAMETER "PutParameter"
#define AMS_SSM_GET_PARAMETER "GetParameter"
#define AMS_SSM_DELETE_PARAMETER "DeleteParameter"

#define AMS_SSM_DATA_TYPE_TEXT "text"
#define AMS_SSM_DATA_TYPE_IMAGE "aws:ec2:image"

#define AMS_SSM_NAME_MAX 1011
#define AMS_SSM_MAX_LEVELS 15
/* Advanced-tier value size; standard parameters hold 4096 bytes. */
#define AMS_SSM_VALUE_MAX 8192
#define AMS_SSM_MAX_TAGS 50

/*
 * A parameter name: [a-zA-Z0-9_.-] and '/' for hierarchy (then with a
 * leading '/', no empty level, at most AMS_SSM_MAX_LEVELS levels), at most
 * AMS_SSM_NAME_MAX characters, and not starting with "aws" or "ssm" in
 * any letter case. AMS_OK or AMS_EUSAGE naming the name; err may be NULL.
 */
enum ams_code ams_ssm_check_name(const char *name, struct ams_err *err);

struct ams_ssm_put_parameter_req {
	const char *name;
	const char *value; /* an AMI id when data_type is aws:ec2:image */
	/* "String", "StringList", "SecureString"; NULL: not sent (update) */
	const char *type;
	const char *data_type; /* "text", "aws:ec2:image"; NULL: not sent */
	const char *description;
	bool overwrite;
	/* Only when creating: AWS refuses tags together with overwrite. */
	const struct ams_tag *tags;
	size_t ntags;
};

/*
 * PutParameter. Returns AMS_OK, or AMS_EUSAGE (nothing written) for an
 * invalid name, type or data type, a value that is empty, too long or
 * (for aws:ec2:image) not an AMI id, invalid tags, or tags combined with
 * overwrite.
 */
enum ams_code ams_ssm_build_put_parameter(
    struct ams_buf *body, const struct ams_ssm_put_parameter_req *req,
    struct ams_err *err);
/* GetParameter; with_decryption for SecureString values. */
enum ams_code ams_ssm_build_get_parameter(struct ams_buf *body,
					  const char *name,
					  bool with_decryption,
					  struct ams_err *err);
/* DeleteParameter. Its answer is "{}": nothing to parse. */
enum ams_code ams_ssm_build_delete_parameter(struct ams_buf *body,
					     const char *name,
					     struct ams_err *err);

struct ams_ssm_put_result {
	unsigned long long version;
	char *tier; /* "Standard", "Advanced"; NULL when absent */
};

void ams_ssm_put_result_release(struct ams_ssm_put_result *r);

struct ams_ssm_parameter {
	char *name;
	char *type;
	/* For SecureString the value is registered as a secret and wiped. */
	char *value;
	char *data_type; /* NULL when absent */
	char *arn;
	unsigned long long version;
	time_t last_modified; /* 0 when absent */
};

void ams_ssm_parameter_release(struct ams_ssm_parameter *p);

/*
 * Pure. *out need not be initialised; on AMS_OK the caller releases it.
 * AMS_EPARSE (naming the member) for malformed JSON or a missing or
 * mistyped Version (PutParameter) or Parameter.Name/Value
 * (GetParameter); AMS_ELIMIT from json.h.
 */
enum ams_code ams_ssm_parse_put_parameter(struct ams_ssm_put_result *out,
					  const char *body, size_t len,
					  struct ams_err *err);
enum ams_code ams_ssm_parse_get_parameter(struct ams_ssm_parameter *out,
					  const char *body, size_t len,
					  struct ams_err *err);

#endif
