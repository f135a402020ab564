/*
 * Fuzz target: every EC2 response parser (ec2.h) over the same bytes.
 * Properties: no memory error, a failure always carries a message, and
 * what a parser returns can be released.
 */
#include "ec2.h"
#include "fuzz.h"

#include <stdlib.h>

static void check_err(enum ams_code rc, const struct ams_err *err)
{
	if (rc)
		FUZZ_ASSERT(err->code == rc && err->msg[0]);
	else
		FUZZ_ASSERT(err->code == AMS_OK);
}

static void images(const char *p, size_t n)
{
	struct ams_ec2_images out;
	struct ams_err err = AMS_ERR_INIT;
	enum ams_code rc = ams_ec2_parse_describe_images(&out, p, n, &err);
	size_t i;

	check_err(rc, &err);
	if (rc)
		return;
	for (i = 0; i < out.n; i++) {
		FUZZ_ASSERT(out.v[i].image_id);
		FUZZ_ASSERT(ams_ec2_images_find(&out, out.v[i].image_id));
	}
	ams_ec2_images_release(&out);
}

static void image_attribute(const char *p, size_t n)
{
	struct ams_ec2_image_attribute out;
	struct ams_err err = AMS_ERR_INIT;
	enum ams_code rc =
	    ams_ec2_parse_describe_image_attribute(&out, p, n, &err);
	size_t i;

	check_err(rc, &err);
	if (rc)
		return;
	for (i = 0; i < out.launch_permissions.n; i++)
		FUZZ_ASSERT(out.launch_permissions.v[i].value);
	ams_ec2_image_attribute_release(&out);
}

static void snapshots(const char *p, size_t n)
{
	struct ams_ec2_snapshots out;
	struct ams_err err = AMS_ERR_INIT;
	enum ams_code rc = ams_ec2_parse_describe_snapshots(&out, p, n, &err);

	check_err(rc, &err);
	if (!rc)
		ams_ec2_snapshots_release(&out);
}

static void snapshot_attribute(const char *p, size_t n)
{
	struct ams_ec2_snapshot_attribute out;
	struct ams_err err = AMS_ERR_INIT;
	enum ams_code rc =
	    ams_ec2_parse_describe_snapshot_attribute(&out, p, n, &err);

	check_err(rc, &err);
	if (!rc)
		ams_ec2_snapshot_attribute_release(&out);
}

static void tags(const char *p, size_t n)
{
	struct ams_ec2_resource_tags out;
	struct ams_err err = AMS_ERR_INIT;
	enum ams_code rc = ams_ec2_parse_describe_tags(&out, p, n, &err);

	check_err(rc, &err);
	if (!rc)
		ams_ec2_resource_tags_release(&out);
}

static void returns(const char *p, size_t n)
{
	static const char *const actions[] = {
		AMS_EC2_CREATE_TAGS,
		AMS_EC2_DELETE_TAGS,
		AMS_EC2_MODIFY_IMAGE_ATTRIBUTE,
		AMS_EC2_ENABLE_IMAGE_DEPRECATION,
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(actions); i++) {
		struct ams_err err = AMS_ERR_INIT;

		check_err(ams_ec2_parse_return(actions[i], p, n, &err), &err);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = fuzz_copy(data, size);

	images(p, size);
	image_attribute(p, size);
	snapshots(p, size);
	snapshot_attribute(p, size);
	tags(p, size);
	returns(p, size);
	free(p);
	return 0;
}
