/*
 * SSM Parameter Store request builders and response parsers.
 *
 * PutParameter's rules that AWS only reports after the fact, or not at
 * all (an aws:ec2:image value that is not an AMI id is accepted and then
 * silently dropped), are checked here before the request is written.
 */
#include "ssm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ec2.h"
#include "json.h"
#include "log.h"
#include "xmem.h"

/* ---- Validation -------------------------------------------------------- */

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

enum ams_code ams_ssm_check_name(const char *name, struct ams_err *err)
{
	const char *p, *first;
	size_t levels = 1;

	if (!name || !*name)
		return ams_fail(err, AMS_EUSAGE, "empty parameter name");
	if (strlen(name) > AMS_SSM_NAME_MAX)
		return ams_fail(err, AMS_EUSAGE,
				"parameter name '%.64s...' is longer than %d "
				"characters",
				name, AMS_SSM_NAME_MAX);
	for (p = name; *p; p++)
		if (!name_char(*p) && *p != '/')
			return ams_fail(err, AMS_EUSAGE,
					"parameter name '%.80s' may hold only "
					"letters, digits, '_.-' and '/'",
					name);
	if (strchr(name, '/')) {
		if (*name != '/')
			return ams_fail(err, AMS_EUSAGE,
					"hierarchical parameter name '%.80s' "
					"must start with '/'",
					name);
		if (strstr(name, "//") || name[strlen(name) - 1] == '/')
			return ams_fail(err, AMS_EUSAGE,
					"parameter name '%.80s' has an empty "
					"level",
					name);
		for (levels = 0, p = name; *p; p++)
			levels += *p == '/';
	}
	if (levels > AMS_SSM_MAX_LEVELS)
		return ams_fail(err, AMS_EUSAGE,
				"parameter name '%.80s' has %zu levels, at "
				"most %d",
				name, levels, AMS_SSM_MAX_LEVELS);
	first = name + (*name == '/');
	if (!strncasecmp(first, "aws", 3) || !strncasecmp(first, "ssm", 3))
		return ams_fail(err, AMS_EUSAGE,
				"parameter name '%.80s' starts with the "
				"reserved 'aws' or 'ssm'",
				name);
	return AMS_OK;
}

static enum ams_code check_one_of(const char *value, const char *what,
				  const char *const *allowed, size_t n,
				  struct ams_err *err)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(value, allowed[i]))
			return AMS_OK;
	return ams_fail(err, AMS_EUSAGE, "unknown parameter %s '%.40s'", what,
			value);
}

static enum ams_code check_value(const struct ams_ssm_put_parameter_req *req,
				 struct ams_err *err)
{
	size_t n = req->value ? strlen(req->value) : 0;

	if (!n)
		return ams_fail(err, AMS_EUSAGE, "parameter '%s': empty value",
				req->name);
	if (n > AMS_SSM_VALUE_MAX)
		return ams_fail(err, AMS_EUSAGE,
				"parameter '%s': value of %zu bytes, at most "
				"%d",
				req->name, n, AMS_SSM_VALUE_MAX);
	/* AWS would accept anything here and then drop it silently. */
	if (req->data_type &&
	    !strcmp(req->data_type, AMS_SSM_DATA_TYPE_IMAGE) &&
	    ams_ec2_check_image_id(req->value, NULL))
		return ams_fail(err, AMS_EUSAGE,
				"parameter '%s': data type %s needs an AMI "
				"id, not '%.40s'",
				req->name, AMS_SSM_DATA_TYPE_IMAGE, req->value);
	return AMS_OK;
}

static enum ams_code check_tags(const struct ams_ssm_put_parameter_req *req,
				struct ams_err *err)
{
	size_t i, kn, vn;

	if (!req->ntags)
		return AMS_OK;
	if (req->overwrite)
		return ams_fail(err, AMS_EUSAGE,
				"parameter '%s': tags cannot be combined "
				"with overwrite (AWS refuses it; tag the "
				"parameter separately)",
				req->name);
	if (!req->tags || req->ntags > AMS_SSM_MAX_TAGS)
		return ams_fail(err, AMS_EUSAGE,
				"parameter '%s': %zu tags, at most %d",
				req->name, req->ntags, AMS_SSM_MAX_TAGS);
	for (i = 0; i < req->ntags; i++) {
		kn =
		    req->tags[i].key ? ams_ec2_utf8_chars(req->tags[i].key) : 0;
		vn = req->tags[i].value ? ams_ec2_utf8_chars(req->tags[i].value)
					: (size_t)-1;
		if (!kn || kn > 128 || vn > 256)
			return ams_fail(err, AMS_EUSAGE,
					"parameter '%s': tag %zu needs a key "
					"of 1-128 and a value of 0-256 "
					"characters",
					req->name, i + 1);
	}
	return AMS_OK;
}

/* ---- Request builders -------------------------------------------------- */

enum ams_code ams_ssm_build_put_parameter(
    struct ams_buf *body, const struct ams_ssm_put_parameter_req *req,
    struct ams_err *err)
{
	static const char *const types[] = { "String", "StringList",
					     "SecureString" };
	static const char *const data_types[] = {
		AMS_SSM_DATA_TYPE_TEXT,
		AMS_SSM_DATA_TYPE_IMAGE,
		"aws:ssm:integration",
	};
	struct ams_json_writer w;
	size_t i;

	if (ams_ssm_check_name(req->name, err) ||
	    (req->type &&
	     check_one_of(req->type, "type", types, ARRAY_SIZE(types), err)) ||
	    (req->data_type &&
	     check_one_of(req->data_type, "data type", data_types,
			  ARRAY_SIZE(data_types), err)) ||
	    check_value(req, err) || check_tags(req, err))
		return AMS_EUSAGE;
	ams_json_w_init(&w, body);
	ams_json_w_object(&w);
	ams_json_w_key(&w, "Name");
	ams_json_w_str(&w, req->name);
	if (req->description) {
		ams_json_w_key(&w, "Description");
		ams_json_w_str(&w, req->description);
	}
	ams_json_w_key(&w, "Value");
	ams_json_w_str(&w, req->value);
	if (req->type) {
		ams_json_w_key(&w, "Type");
		ams_json_w_str(&w, req->type);
	}
	if (req->data_type) {
		ams_json_w_key(&w, "DataType");
		ams_json_w_str(&w, req->data_type);
	}
	if (req->overwrite) {
		ams_json_w_key(&w, "Overwrite");
		ams_json_w_bool(&w, true);
	}
	if (req->ntags) {
		ams_json_w_key(&w, "Tags");
		ams_json_w_array(&w);
		for (i = 0; i < req->ntags; i++) {
			ams_json_w_object(&w);
			ams_json_w_key(&w, "Key");
			ams_json_w_str(&w, req->tags[i].key);
			ams_json_w_key(&w, "Value");
			ams_json_w_str(&w, req->tags[i].value);
			ams_json_w_end(&w);
		}
		ams_json_w_end(&w);
	}
	ams_json_w_end(&w);
	return ams_json_w_finish(&w, err);
}

static enum ams_code build_by_name(struct ams_buf *body, const char *name,
				   bool with_decryption, struct ams_err *err)
{
	struct ams_json_writer w;

	if (ams_ssm_check_name(name, err))
		return AMS_EUSAGE;
	ams_json_w_init(&w, body);
	ams_json_w_object(&w);
	ams_json_w_key(&w, "Name");
	ams_json_w_str(&w, name);
	if (with_decryption) {
		ams_json_w_key(&w, "WithDecryption");
		ams_json_w_bool(&w, true);
	}
	ams_json_w_end(&w);
	return ams_json_w_finish(&w, err);
}

enum ams_code ams_ssm_build_get_parameter(struct ams_buf *body,
					  const char *name,
					  bool with_decryption,
					  struct ams_err *err)
{
	return build_by_name(body, name, with_decryption, err);
}

enum ams_code ams_ssm_build_delete_parameter(struct ams_buf *body,
					     const char *name,
					     struct ams_err *err)
{
	return build_by_name(body, name, false, err);
}

/* ---- Response parsers -------------------------------------------------- */

void ams_ssm_put_result_release(struct ams_ssm_put_result *r)
{
	free(r->tier);
	memset(r, 0, sizeof(*r));
}

enum ams_code ams_ssm_parse_put_parameter(struct ams_ssm_put_result *out,
					  const char *body, size_t len,
					  struct ams_err *err)
{
	struct ams_json *doc = NULL;
	const struct ams_json_val *root;
	uint64_t version = 0;
	enum ams_code rc;

	memset(out, 0, sizeof(*out));
	rc = ams_json_parse_object(&doc, &root, body, len, err);
	if (!rc)
		rc = ams_json_get_u64(&version, root, "Version", err);
	if (!rc)
		rc = ams_json_get_str_opt(&out->tier, root, "Tier", err);
	out->version = version;
	ams_json_free(doc);
	if (rc) {
		ams_ssm_put_result_release(out);
		ams_err_prefix(err, "PutParameter response");
	}
	return rc;
}

void ams_ssm_parameter_release(struct ams_ssm_parameter *p)
{
	free(p->name);
	free(p->type);
	ams_free_secret(p->value);
	free(p->data_type);
	free(p->arn);
	memset(p, 0, sizeof(*p));
}

enum ams_code ams_ssm_parse_get_parameter(struct ams_ssm_parameter *out,
					  const char *body, size_t len,
					  struct ams_err *err)
{
	struct ams_json *doc = NULL;
	const struct ams_json_val *root, *p = NULL;
	uint64_t version = 0;
	enum ams_code rc;

	memset(out, 0, sizeof(*out));
	rc = ams_json_parse_object(&doc, &root, body, len, err);
	if (!rc)
		rc = ams_json_get_object(&p, root, "Parameter", err);
	if (!rc)
		rc = ams_json_get_str(&out->name, p, "Name", err);
	if (!rc)
		rc = ams_json_get_str(&out->value, p, "Value", err);
	if (!rc)
		rc = ams_json_get_str_opt(&out->type, p, "Type", err);
	if (!rc && out->type && !strcmp(out->type, "SecureString"))
		ams_log_add_secret(out->value);
	if (!rc)
		rc = ams_json_get_str_opt(&out->data_type, p, "DataType", err);
	if (!rc)
		rc = ams_json_get_str_opt(&out->arn, p, "ARN", err);
	if (!rc)
		rc = ams_json_get_u64_opt(&version, p, "Version", err);
	if (!rc)
		rc = ams_json_get_epoch_opt(&out->last_modified, p,
					    "LastModifiedDate", err);
	out->version = version;
	ams_json_free(doc);
	if (rc) {
		ams_ssm_parameter_release(out);
		ams_err_prefix(err, "GetParameter response");
	}
	return rc;
}
