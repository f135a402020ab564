/*
 * EC2 request builders, response parsers and identifier validators.
 *
 * Builders add the EC2 query parameters of one action to an aws call in
 * the order botocore would send them; list members are flattened and
 * numbered from 1 (`ResourceId.1`, `Filter.1.Value.1`). Parsers walk the
 * response by local element names, so the namespace (with or without its
 * trailing slash) and element order do not matter, and unknown elements
 * are ignored. They are pure: a document in, owned structs out.
 */
#include "ec2.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws.h"
#include "buf.h"
#include "clock.h"
#include "orgs.h"
#include "xml.h"
#include "xmem.h"

/* ---- Validators ------------------------------------------------------ */

static bool all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool all_lower_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

enum ams_code ams_ec2_check_account_id(const char *id, struct ams_err *err)
{
	if (!id || !*id)
		return ams_fail(err, AMS_EUSAGE, "empty account id");
	if (strlen(id) != 12 || !all_digits(id, 12))
		return ams_fail(err, AMS_EUSAGE,
				"invalid account id '%s': expected 12 digits",
				id);
	return AMS_OK;
}

/* "<prefix>" followed by 8 or 17 lowercase hex digits. */
static enum ams_code check_hex_id(const char *id, const char *prefix,
				  const char *what, struct ams_err *err)
{
	size_t plen = strlen(prefix), n;

	if (!id || !*id)
		return ams_fail(err, AMS_EUSAGE, "empty %s", what);
	n = strlen(id);
	if (strncmp(id, prefix, plen) || (n - plen != 8 && n - plen != 17) ||
	    !all_lower_hex(id + plen, n - plen))
		return ams_fail(err, AMS_EUSAGE,
				"invalid %s '%s': expected '%s' and 8 or 17 "
				"lowercase hex digits",
				what, id, prefix);
	return AMS_OK;
}

enum ams_code ams_ec2_check_image_id(const char *id, struct ams_err *err)
{
	return check_hex_id(id, "ami-", "AMI id", err);
}

enum ams_code ams_ec2_check_snapshot_id(const char *id, struct ams_err *err)
{
	return check_hex_id(id, "snap-", "snapshot id", err);
}

size_t ams_ec2_utf8_chars(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t chars = 0;

	while (*p) {
		unsigned int cp;
		int more, i;

		if (*p < 0x80) {
			p++;
			chars++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf) {
			cp = *p & 0x1f;
			more = 1;
		} else if (*p >= 0xe0 && *p <= 0xef) {
			cp = *p & 0x0f;
			more = 2;
		} else if (*p >= 0xf0 && *p <= 0xf4) {
			cp = *p & 0x07;
			more = 3;
		} else {
			return (size_t)-1; /* continuation, overlong, 0xf5+ */
		}
		for (i = 1; i <= more; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return (size_t)-1; /* also catches the NUL */
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((more == 2 && cp < 0x800) || (more == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return (size_t)-1;
		p += more + 1;
		chars++;
	}
	return chars;
}

bool ams_ec2_tag_key_is_reserved(const char *key)
{
	return key && !strncasecmp(key, "aws:", 4);
}

enum ams_code ams_ec2_check_tag_key(const char *key, struct ams_err *err)
{
	size_t n;

	if (!key || !*key)
		return ams_fail(err, AMS_EUSAGE, "empty tag key");
	n = ams_ec2_utf8_chars(key);
	if (n == (size_t)-1)
		return ams_fail(err, AMS_EUSAGE,
				"tag key '%s' is not valid UTF-8", key);
	if (n > AMS_EC2_TAG_KEY_MAX_CHARS)
		return ams_fail(err, AMS_EUSAGE,
				"tag key '%.40s...' has %zu characters, more "
				"than %d",
				key, n, AMS_EC2_TAG_KEY_MAX_CHARS);
	if (ams_ec2_tag_key_is_reserved(key))
		return ams_fail(err, AMS_EUSAGE,
				"tag key '%s' uses the reserved 'aws:' prefix",
				key);
	return AMS_OK;
}

enum ams_code ams_ec2_check_tag_value(const char *value, struct ams_err *err)
{
	size_t n;

	if (!value)
		return ams_fail(err, AMS_EUSAGE, "missing tag value");
	n = ams_ec2_utf8_chars(value);
	if (n == (size_t)-1)
		return ams_fail(err, AMS_EUSAGE,
				"tag value '%s' is not valid UTF-8", value);
	if (n > AMS_EC2_TAG_VALUE_MAX_CHARS)
		return ams_fail(err, AMS_EUSAGE,
				"tag value '%.40s...' has %zu characters, "
				"more than %d",
				value, n, AMS_EC2_TAG_VALUE_MAX_CHARS);
	return AMS_OK;
}

/* ---- Containers ------------------------------------------------------ */

void ams_ec2_perms_add(struct ams_ec2_perms *perms, enum ams_ec2_perm_kind kind,
		       const char *value)
{
	if (perms->n == perms->alloc) {
		perms->alloc = perms->alloc ? 2 * perms->alloc : 8;
		perms->v =
		    xreallocarray(perms->v, perms->alloc, sizeof(*perms->v));
	}
	perms->v[perms->n].kind = kind;
	perms->v[perms->n].value = xstrdup(value);
	perms->n++;
}

bool ams_ec2_perms_has(const struct ams_ec2_perms *perms,
		       enum ams_ec2_perm_kind kind, const char *value)
{
	size_t i;

	for (i = 0; i < perms->n; i++)
		if (perms->v[i].kind == kind &&
		    !strcmp(perms->v[i].value, value))
			return true;
	return false;
}

void ams_ec2_perms_release(struct ams_ec2_perms *perms)
{
	size_t i;

	for (i = 0; i < perms->n; i++)
		free(perms->v[i].value);
	free(perms->v);
	memset(perms, 0, sizeof(*perms));
}

const char *ams_ec2_perm_kind_name(enum ams_ec2_perm_kind kind)
{
	switch (kind) {
	case AMS_EC2_PERM_USER: return "userId";
	case AMS_EC2_PERM_GROUP: return "group";
	case AMS_EC2_PERM_ORG: return "organizationArn";
	case AMS_EC2_PERM_OU: return "organizationalUnitArn";
	}
	return "unknown";
}

/* ---- Response parsing helpers ----------------------------------------- */

/* A string member of a result struct, found at an element path. */
struct str_field {
	const char *path;
	size_t offset;
};

/*
 * Parses body and checks that its root element is <{action}Response>:
 * an answer to another action (or an error envelope that slipped
 * through) must not be read as this one.
 */
static enum ams_code open_response(struct ams_xml_doc **doc,
				   const struct ams_xml_node **root,
				   const char *action, const char *body,
				   size_t len, struct ams_err *err)
{
	size_t alen = strlen(action);
	const char *name;
	enum ams_code rc;

	*root = NULL;
	rc = ams_xml_parse(doc, body, len, err);
	if (rc)
		return rc;
	*root = ams_xml_root(*doc);
	name = ams_xml_name(*root);
	if (strncmp(name, action, alen) || strcmp(name + alen, "Response"))
		return ams_fail(err, AMS_EPARSE,
				"unexpected root element <%s>, expected "
				"<%sResponse>",
				name, action);
	return AMS_OK;
}

/* The text of node with white space trimmed at both ends; caller frees. */
static char *trimmed_text(const struct ams_xml_node *node)
{
	struct ams_buf sb = AMS_BUF_INIT;
	char *s;

	ams_xml_text(&sb, node);
	s = ams_str_dup(ams_str_trim(ams_str_make(sb.buf, sb.len)));
	ams_buf_release(&sb);
	return s;
}

/* The exact text of node (tag keys and values keep their spaces). */
static char *exact_text(const struct ams_xml_node *node)
{
	struct ams_buf sb = AMS_BUF_INIT;

	if (node)
		ams_xml_text(&sb, node);
	return ams_buf_detach(&sb, NULL);
}

/* Optional string members: absent elements leave NULL. */
static void get_strs(void *obj, const struct str_field *fields, size_t n,
		     const struct ams_xml_node *from)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char **slot = (char **)((char *)obj + fields[i].offset);
		const struct ams_xml_node *node;

		node = ams_xml_find(from, fields[i].path);
		if (node)
			*slot = trimmed_text(node);
	}
}

/* Frees the string members get_strs() filled. */
static void free_strs(void *obj, const struct str_field *fields, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(*(char **)((char *)obj + fields[i].offset));
}

/* Reads a required, non-empty identifier such as imageId. */
static enum ams_code get_id(char **out, const struct ams_xml_node *from,
			    const char *path, struct ams_err *err)
{
	const struct ams_xml_node *node = ams_xml_find(from, path);

	if (!node)
		return ams_fail(err, AMS_EPARSE, "%s: missing", path);
	*out = trimmed_text(node);
	if (!**out)
		return ams_fail(err, AMS_EPARSE, "%s: empty", path);
	return AMS_OK;
}

/* nextToken: absent, empty and blank all mean "last page". */
static void get_next_token(char **out, const struct ams_xml_node *root)
{
	const struct ams_xml_node *node = ams_xml_find(root, "nextToken");

	*out = NULL;
	if (!node)
		return;
	*out = trimmed_text(node);
	if (!**out) {
		free(*out);
		*out = NULL;
	}
}

/* Every tagSet/item below from into tags; a missing value reads as "". */
static enum ams_code parse_tag_set(struct ams_tags *tags,
				   const struct ams_xml_node *from,
				   struct ams_err *err)
{
	const struct ams_xml_node *item;

	for (item = ams_xml_first(from, "tagSet/item"); item;
	     item = ams_xml_next(item)) {
		const struct ams_xml_node *key = ams_xml_find(item, "key");
		char *k, *v;

		if (!key)
			return ams_fail(err, AMS_EPARSE,
					"tagSet/item/key: missing");
		k = exact_text(key);
		v = exact_text(ams_xml_find(item, "value"));
		ams_tags_set(tags, k, v);
		free(k);
		free(v);
	}
	return AMS_OK;
}

/*
 * Every <item> of a launchPermission or createVolumePermission list. An
 * item naming a grantee kind this program does not know is skipped, so
 * a new kind of grantee cannot break parsing of the known ones.
 */
static void parse_perms(struct ams_ec2_perms *perms,
			const struct ams_xml_node *from, const char *path)
{
	static const enum ams_ec2_perm_kind kinds[] = {
		AMS_EC2_PERM_USER,
		AMS_EC2_PERM_GROUP,
		AMS_EC2_PERM_ORG,
		AMS_EC2_PERM_OU,
	};
	const struct ams_xml_node *item;
	size_t i;

	for (item = ams_xml_first(from, path); item;
	     item = ams_xml_next(item)) {
		for (i = 0; i < ARRAY_SIZE(kinds); i++) {
			const char *name = ams_ec2_perm_kind_name(kinds[i]);
			const struct ams_xml_node *node;
			char *value;

			node = ams_xml_find(item, name);
			if (!node)
				continue;
			value = trimmed_text(node);
			ams_ec2_perms_add(perms, kinds[i], value);
			free(value);
		}
	}
}

static enum ams_code fail_in(struct ams_err *err, const char *action,
			     enum ams_code rc)
{
	ams_err_prefix(err, "%s response", action);
	return rc;
}

/* One kind of listing page: its action, item path and item parser. */
struct page_kind {
	const char *action;
	const char *items;
	size_t entry_size;
	enum ams_code (*parse_item)(void *entry,
				    const struct ams_xml_node *item,
				    struct ams_err *err);
};

/*
 * Parses a listing page: every element at kind->items into a new array
 * of entries (*entries, *n), then nextToken. On failure the entries stay
 * in *entries for the caller's release function, and err names the
 * action.
 */
static enum ams_code parse_page(void **entries, size_t *n, char **next_token,
				const struct page_kind *kind, const char *body,
				size_t len, struct ams_err *err)
{
	struct ams_xml_doc *doc = NULL;
	const struct ams_xml_node *root, *item;
	enum ams_code rc;
	size_t i;

	*entries = NULL;
	*n = 0;
	rc = open_response(&doc, &root, kind->action, body, len, err);
	if (rc)
		goto out;
	*n = ams_xml_count(root, kind->items);
	*entries = xcalloc(*n, kind->entry_size);
	item = ams_xml_first(root, kind->items);
	for (i = 0; item && !rc; i++, item = ams_xml_next(item))
		rc = kind->parse_item((char *)*entries + i * kind->entry_size,
				      item, err);
	get_next_token(next_token, root);
out:
	ams_xml_free(doc);
	return rc ? fail_in(err, kind->action, rc) : AMS_OK;
}

/* ---- DescribeImages ---------------------------------------------------- */

static const struct str_field image_fields[] = {
	{ "imageState", offsetof(struct ams_ec2_image, state) },
	{ "imageOwnerId", offsetof(struct ams_ec2_image, owner_id) },
	{ "imageOwnerAlias", offsetof(struct ams_ec2_image, owner_alias) },
	{ "name", offsetof(struct ams_ec2_image, name) },
	{ "description", offsetof(struct ams_ec2_image, description) },
	{ "architecture", offsetof(struct ams_ec2_image, architecture) },
	{ "imageType", offsetof(struct ams_ec2_image, image_type) },
	{ "rootDeviceType", offsetof(struct ams_ec2_image, root_device_type) },
	{ "rootDeviceName", offsetof(struct ams_ec2_image, root_device_name) },
	{ "virtualizationType",
	  offsetof(struct ams_ec2_image, virtualization_type) },
	{ "platformDetails", offsetof(struct ams_ec2_image, platform_details) },
	{ "bootMode", offsetof(struct ams_ec2_image, boot_mode) },
};

static const struct str_field ebs_fields[] = {
	{ "snapshotId", offsetof(struct ams_ec2_ebs, snapshot_id) },
	{ "kmsKeyId", offsetof(struct ams_ec2_ebs, kms_key_id) },
	{ "volumeType", offsetof(struct ams_ec2_ebs, volume_type) },
};

static const struct str_field device_fields[] = {
	{ "deviceName", offsetof(struct ams_ec2_block_device, device_name) },
	{ "virtualName", offsetof(struct ams_ec2_block_device, virtual_name) },
};

static const struct str_field product_code_fields[] = {
	{ "type", offsetof(struct ams_ec2_product_code, type) },
};

static enum ams_code parse_device(struct ams_ec2_block_device *dev,
				  const struct ams_xml_node *item,
				  struct ams_err *err)
{
	const struct ams_xml_node *ebs = ams_xml_find(item, "ebs");
	uint64_t size = 0;
	enum ams_code rc;

	get_strs(dev, device_fields, ARRAY_SIZE(device_fields), item);
	if (!ebs)
		return AMS_OK;
	dev->has_ebs = true;
	get_strs(&dev->ebs, ebs_fields, ARRAY_SIZE(ebs_fields), ebs);
	rc = ams_xml_get_bool_opt(&dev->ebs.encrypted, ebs, "encrypted", err);
	if (!rc)
		rc = ams_xml_get_bool_opt(&dev->ebs.delete_on_termination, ebs,
					  "deleteOnTermination", err);
	if (!rc)
		rc = ams_xml_get_u64_opt(&size, ebs, "volumeSize", err);
	dev->ebs.volume_size_gib = size;
	if (rc)
		ams_err_prefix(err, "blockDeviceMapping/item/ebs");
	return rc;
}

static enum ams_code parse_image(void *entry, const struct ams_xml_node *item,
				 struct ams_err *err)
{
	struct ams_ec2_image *img = entry;
	const struct ams_xml_node *node;
	enum ams_code rc;
	size_t i;

	rc = get_id(&img->image_id, item, "imageId", err);
	if (rc)
		return rc;
	get_strs(img, image_fields, ARRAY_SIZE(image_fields), item);
	rc = ams_xml_get_bool_opt(&img->is_public, item, "isPublic", err);
	if (!rc)
		rc = ams_xml_get_time_opt(&img->creation_time, item,
					  "creationDate", err);
	if (!rc)
		rc = ams_xml_get_time_opt(&img->deprecation_time, item,
					  "deprecationTime", err);
	if (!rc)
		rc = parse_tag_set(&img->tags, item, err);
	if (rc)
		goto out;

	img->ndevices = ams_xml_count(item, "blockDeviceMapping/item");
	img->devices = xcalloc(img->ndevices, sizeof(*img->devices));
	node = ams_xml_first(item, "blockDeviceMapping/item");
	for (i = 0; node && !rc; i++, node = ams_xml_next(node))
		rc = parse_device(&img->devices[i], node, err);
	if (rc)
		goto out;

	img->nproduct_codes = ams_xml_count(item, "productCodes/item");
	img->product_codes =
	    xcalloc(img->nproduct_codes, sizeof(*img->product_codes));
	node = ams_xml_first(item, "productCodes/item");
	for (i = 0; node; i++, node = ams_xml_next(node)) {
		struct ams_ec2_product_code *pc = &img->product_codes[i];

		rc = get_id(&pc->code, node, "productCode", err);
		if (rc)
			goto out;
		get_strs(pc, product_code_fields,
			 ARRAY_SIZE(product_code_fields), node);
	}
out:
	if (rc)
		ams_err_prefix(err, "image '%s'", img->image_id);
	return rc;
}

static void image_release(struct ams_ec2_image *img)
{
	size_t i;

	free(img->image_id);
	free_strs(img, image_fields, ARRAY_SIZE(image_fields));
	for (i = 0; i < img->ndevices; i++) {
		free_strs(&img->devices[i], device_fields,
			  ARRAY_SIZE(device_fields));
		free_strs(&img->devices[i].ebs, ebs_fields,
			  ARRAY_SIZE(ebs_fields));
	}
	free(img->devices);
	for (i = 0; i < img->nproduct_codes; i++) {
		free(img->product_codes[i].code);
		free_strs(&img->product_codes[i], product_code_fields,
			  ARRAY_SIZE(product_code_fields));
	}
	free(img->product_codes);
	ams_tags_release(&img->tags);
}

void ams_ec2_images_release(struct ams_ec2_images *images)
{
	size_t i;

	for (i = 0; i < images->n; i++)
		image_release(&images->v[i]);
	free(images->v);
	free(images->next_token);
	memset(images, 0, sizeof(*images));
}

const struct ams_ec2_image *ams_ec2_images_find(
    const struct ams_ec2_images *images, const char *image_id)
{
	size_t i;

	for (i = 0; i < images->n; i++)
		if (!strcmp(images->v[i].image_id, image_id))
			return &images->v[i];
	return NULL;
}

enum ams_code ams_ec2_parse_describe_images(struct ams_ec2_images *out,
					    const char *body, size_t len,
					    struct ams_err *err)
{
	static const struct page_kind kind = { "DescribeImages",
					       "imagesSet/item",
					       sizeof(struct ams_ec2_image),
					       parse_image };
	void *entries;
	enum ams_code rc;

	memset(out, 0, sizeof(*out));
	rc = parse_page(&entries, &out->n, &out->next_token, &kind, body, len,
			err);
	out->v = entries;
	if (rc)
		ams_ec2_images_release(out);
	return rc;
}

/* ---- DescribeImageAttribute / DescribeSnapshotAttribute ---------------- */

void ams_ec2_image_attribute_release(struct ams_ec2_image_attribute *attr)
{
	free(attr->image_id);
	free(attr->description);
	ams_ec2_perms_release(&attr->launch_permissions);
	memset(attr, 0, sizeof(*attr));
}

enum ams_code ams_ec2_parse_describe_image_attribute(
    struct ams_ec2_image_attribute *out, const char *body, size_t len,
    struct ams_err *err)
{
	static const char action[] = "DescribeImageAttribute";
	struct ams_xml_doc *doc = NULL;
	const struct ams_xml_node *root, *desc;
	enum ams_code rc;

	memset(out, 0, sizeof(*out));
	rc = open_response(&doc, &root, action, body, len, err);
	if (!rc)
		rc = get_id(&out->image_id, root, "imageId", err);
	if (rc)
		goto out;
	parse_perms(&out->launch_permissions, root, "launchPermission/item");
	desc = ams_xml_find(root, "description");
	if (desc)
		out->description = exact_text(ams_xml_find(desc, "value"));
out:
	ams_xml_free(doc);
	if (rc) {
		ams_ec2_image_attribute_release(out);
		return fail_in(err, action, rc);
	}
	return AMS_OK;
}

void ams_ec2_snapshot_attribute_release(struct ams_ec2_snapshot_attribute *attr)
{
	free(attr->snapshot_id);
	ams_ec2_perms_release(&attr->create_volume_permissions);
	memset(attr, 0, sizeof(*attr));
}

enum ams_code ams_ec2_parse_describe_snapshot_attribute(
    struct ams_ec2_snapshot_attribute *out, const char *body, size_t len,
    struct ams_err *err)
{
	static const char action[] = "DescribeSnapshotAttribute";
	struct ams_xml_doc *doc = NULL;
	const struct ams_xml_node *root;
	enum ams_code rc;

	memset(out, 0, sizeof(*out));
	rc = open_response(&doc, &root, action, body, len, err);
	if (!rc)
		rc = get_id(&out->snapshot_id, root, "snapshotId", err);
	if (!rc)
		parse_perms(&out->create_volume_permissions, root,
			    "createVolumePermission/item");
	ams_xml_free(doc);
	if (rc) {
		ams_ec2_snapshot_attribute_release(out);
		return fail_in(err, action, rc);
	}
	return AMS_OK;
}

/* ---- DescribeSnapshots ------------------------------------------------- */

static const struct str_field snapshot_fields[] = {
	{ "ownerId", offsetof(struct ams_ec2_snapshot, owner_id) },
	{ "status", offsetof(struct ams_ec2_snapshot, state) },
	{ "volumeId", offsetof(struct ams_ec2_snapshot, volume_id) },
	{ "description", offsetof(struct ams_ec2_snapshot, description) },
	{ "kmsKeyId", offsetof(struct ams_ec2_snapshot, kms_key_id) },
};

static enum ams_code parse_snapshot(void *entry,
				    const struct ams_xml_node *item,
				    struct ams_err *err)
{
	struct ams_ec2_snapshot *snap = entry;
	uint64_t size = 0;
	enum ams_code rc;

	rc = get_id(&snap->snapshot_id, item, "snapshotId", err);
	if (rc)
		return rc;
	get_strs(snap, snapshot_fields, ARRAY_SIZE(snapshot_fields), item);
	rc = ams_xml_get_bool_opt(&snap->encrypted, item, "encrypted", err);
	if (!rc)
		rc = ams_xml_get_u64_opt(&size, item, "volumeSize", err);
	snap->volume_size_gib = size;
	if (!rc)
		rc = parse_tag_set(&snap->tags, item, err);
	if (rc)
		ams_err_prefix(err, "snapshot '%s'", snap->snapshot_id);
	return rc;
}

void ams_ec2_snapshots_release(struct ams_ec2_snapshots *snaps)
{
	size_t i;

	for (i = 0; i < snaps->n; i++) {
		struct ams_ec2_snapshot *snap = &snaps->v[i];

		free(snap->snapshot_id);
		free_strs(snap, snapshot_fields, ARRAY_SIZE(snapshot_fields));
		ams_tags_release(&snap->tags);
	}
	free(snaps->v);
	free(snaps->next_token);
	memset(snaps, 0, sizeof(*snaps));
}

enum ams_code ams_ec2_parse_describe_snapshots(struct ams_ec2_snapshots *out,
					       const char *body, size_t len,
					       struct ams_err *err)
{
	static const struct page_kind kind = { "DescribeSnapshots",
					       "snapshotSet/item",
					       sizeof(struct ams_ec2_snapshot),
					       parse_snapshot };
	void *entries;
	enum ams_code rc;

	memset(out, 0, sizeof(*out));
	rc = parse_page(&entries, &out->n, &out->next_token, &kind, body, len,
			err);
	out->v = entries;
	if (rc)
		ams_ec2_snapshots_release(out);
	return rc;
}

/* ---- DescribeTags ------------------------------------------------------ */

static const struct str_field resource_tag_fields[] = {
	{ "resourceType",
	  offsetof(struct ams_ec2_resource_tag, resource_type) },
};

void ams_ec2_resource_tags_release(struct ams_ec2_resource_tags *tags)
{
	size_t i;

	for (i = 0; i < tags->n; i++) {
		free(tags->v[i].resource_id);
		free(tags->v[i].resource_type);
		free(tags->v[i].key);
		free(tags->v[i].value);
	}
	free(tags->v);
	free(tags->next_token);
	memset(tags, 0, sizeof(*tags));
}

static enum ams_code parse_resource_tag(void *entry,
					const struct ams_xml_node *item,
					struct ams_err *err)
{
	struct ams_ec2_resource_tag *t = entry;
	const struct ams_xml_node *key = ams_xml_find(item, "key");
	enum ams_code rc;

	rc = get_id(&t->resource_id, item, "resourceId", err);
	if (rc)
		return rc;
	if (!key)
		return ams_fail(err, AMS_EPARSE, "tagSet/item/key: missing");
	t->key = exact_text(key);
	t->value = exact_text(ams_xml_find(item, "value"));
	get_strs(t, resource_tag_fields, ARRAY_SIZE(resource_tag_fields), item);
	return AMS_OK;
}

enum ams_code ams_ec2_parse_describe_tags(struct ams_ec2_resource_tags *out,
					  const char *body, size_t len,
					  struct ams_err *err)
{
	static const struct page_kind kind = {
		"DescribeTags", "tagSet/item",
		sizeof(struct ams_ec2_resource_tag), parse_resource_tag
	};
	void *entries;
	enum ams_code rc;

	memset(out, 0, sizeof(*out));
	rc = parse_page(&entries, &out->n, &out->next_token, &kind, body, len,
			err);
	out->v = entries;
	if (rc)
		ams_ec2_resource_tags_release(out);
	return rc;
}

/* ---- Actions without output -------------------------------------------- */

enum ams_code ams_ec2_parse_return(const char *action, const char *body,
				   size_t len, struct ams_err *err)
{
	struct ams_xml_doc *doc = NULL;
	const struct ams_xml_node *root, *ret;
	enum ams_code rc;
	char *value = NULL;

	rc = open_response(&doc, &root, action, body, len, err);
	if (rc)
		goto out;
	ret = ams_xml_find(root, "return");
	if (!ret) {
		rc = ams_fail(err, AMS_EPARSE, "return: missing");
		goto out;
	}
	value = trimmed_text(ret);
	if (strcmp(value, "true"))
		rc = ams_fail(err, AMS_EAWS, "return: '%.32s', expected 'true'",
			      value);
out:
	free(value);
	ams_xml_free(doc);
	return rc ? fail_in(err, action, rc) : AMS_OK;
}

/* ---- Request builders -------------------------------------------------- */

void ams_ec2_call_param(void *call, const char *name, const char *value)
{
	ams_aws_call_param(call, name, value);
}

bool ams_ec2_dry_run_ok(const struct ams_err *err)
{
	return err && err->code == AMS_EAWS &&
	       !strcmp(err->aws_code, "DryRunOperation");
}

/* Sends name=value with a formatted name. */
static void addf(ams_ec2_param_fn *add, void *payload, const char *value,
		 const char *fmt, ...) AMS_PRINTF(4, 5);

static void addf(ams_ec2_param_fn *add, void *payload, const char *value,
		 const char *fmt, ...)
{
	struct ams_buf name = AMS_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	ams_buf_vaddf(&name, fmt, ap);
	va_end(ap);
	add(payload, name.buf, value);
	ams_buf_release(&name);
}

/*
 * Adds head.N (and head.N.tail when tail is given): the names of list
 * members, built without printf since a CreateTags call has dozens.
 */
static void add_indexed(ams_ec2_param_fn *add, void *payload, const char *value,
			const char *head, size_t n, const char *tail)
{
	char name[96], digits[24];
	size_t hl = strlen(head), tl = tail ? strlen(tail) : 0, dl = 0, at;

	do {
		digits[sizeof(digits) - ++dl] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	if (hl + dl + tl + 3 > sizeof(name)) {
		addf(add, payload, value, "%s.%s%s%s", head,
		     digits + sizeof(digits) - dl, tail ? "." : "",
		     tail ? tail : "");
		return;
	}
	memcpy(name, head, hl);
	name[hl] = '.';
	memcpy(name + hl + 1, digits + sizeof(digits) - dl, dl);
	at = hl + 1 + dl;
	if (tail) {
		name[at++] = '.';
		memcpy(name + at, tail, tl);
		at += tl;
	}
	name[at] = '\0';
	add(payload, name, value);
}

/* Prefix.1=v1&Prefix.2=v2... */
static void add_list(ams_ec2_param_fn *add, void *payload, const char *prefix,
		     const char *const *values, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		add_indexed(add, payload, values[i], prefix, i + 1, NULL);
}

static void add_filters(ams_ec2_param_fn *add, void *payload,
			const struct ams_ec2_filter *filters, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		addf(add, payload, filters[i].name, "Filter.%zu.Name", i + 1);
		for (j = 0; j < filters[i].nvalues; j++)
			addf(add, payload, filters[i].values[j],
			     "Filter.%zu.Value.%zu", i + 1, j + 1);
	}
}

static void add_paging(ams_ec2_param_fn *add, void *payload,
		       unsigned max_results, const char *next_token)
{
	char num[16];

	if (max_results) {
		snprintf(num, sizeof(num), "%u", max_results);
		add(payload, "MaxResults", num);
	}
	if (next_token && *next_token)
		add(payload, "NextToken", next_token);
}

static void add_dry_run(ams_ec2_param_fn *add, void *payload, bool dry_run)
{
	if (dry_run)
		add(payload, "DryRun", "true");
}

static enum ams_code check_list(const char *const *values, size_t n,
				const char *what, struct ams_err *err)
{
	size_t i;

	if (n && !values)
		return ams_fail(err, AMS_EUSAGE, "%s: %zu values but no list",
				what, n);
	for (i = 0; i < n; i++)
		if (!values[i] || !*values[i])
			return ams_fail(err, AMS_EUSAGE, "%s %zu: empty value",
					what, i + 1);
	return AMS_OK;
}

/* Account ids or one of the given keywords ("self", "all", ...). */
static enum ams_code check_principals(const char *const *values, size_t n,
				      const char *what,
				      const char *const *keywords,
				      size_t nkeywords, struct ams_err *err)
{
	size_t i, k;

	if (check_list(values, n, what, err))
		return AMS_EUSAGE;
	for (i = 0; i < n; i++) {
		for (k = 0; k < nkeywords; k++)
			if (!strcmp(values[i], keywords[k]))
				break;
		if (k == nkeywords && ams_ec2_check_account_id(values[i], NULL))
			return ams_fail(err, AMS_EUSAGE,
					"%s '%s': expected an account id or "
					"'%s'",
					what, values[i], keywords[0]);
	}
	return AMS_OK;
}

static enum ams_code check_filters(const struct ams_ec2_filter *filters,
				   size_t n, struct ams_err *err)
{
	size_t i;

	if (n && !filters)
		return ams_fail(err, AMS_EUSAGE, "%zu filters but no list", n);
	for (i = 0; i < n; i++) {
		if (!filters[i].name || !*filters[i].name)
			return ams_fail(err, AMS_EUSAGE,
					"filter %zu: empty name", i + 1);
		if (!filters[i].nvalues)
			return ams_fail(err, AMS_EUSAGE,
					"filter '%s': no values",
					filters[i].name);
		if (check_list(filters[i].values, filters[i].nvalues,
			       "filter value", err))
			return AMS_EUSAGE;
	}
	return AMS_OK;
}

/* A list of ids, each passing check; what names them ("image ids"). */
static enum ams_code check_ids(const char *const *ids, size_t n,
			       const char *what,
			       enum ams_code (*check)(const char *id,
						      struct ams_err *err),
			       struct ams_err *err)
{
	size_t i;

	if (n && !ids)
		return ams_fail(err, AMS_EUSAGE, "%zu %s but no list", n, what);
	for (i = 0; i < n; i++)
		if (check(ids[i], err))
			return AMS_EUSAGE;
	return AMS_OK;
}

enum ams_code ams_ec2_build_describe_images(
    const struct ams_ec2_describe_images_req *req, ams_ec2_param_fn *add,
    void *payload, struct ams_err *err)
{
	static const char *const owner_words[] = {
		"self",
		"amazon",
		"aws-marketplace",
		"aws-backup-vault",
	};
	static const char *const exec_words[] = { "self", "all" };

	if (check_ids(req->image_ids, req->nimage_ids, "image ids",
		      ams_ec2_check_image_id, err) ||
	    check_principals(req->owners, req->nowners, "owner", owner_words,
			     ARRAY_SIZE(owner_words), err) ||
	    check_principals(req->executable_by, req->nexecutable_by,
			     "executable-by", exec_words,
			     ARRAY_SIZE(exec_words), err) ||
	    check_filters(req->filters, req->nfilters, err))
		return AMS_EUSAGE;
	add_list(add, payload, "ImageId", req->image_ids, req->nimage_ids);
	add_list(add, payload, "Owner", req->owners, req->nowners);
	add_list(add, payload, "ExecutableBy", req->executable_by,
		 req->nexecutable_by);
	add_filters(add, payload, req->filters, req->nfilters);
	if (req->include_deprecated)
		add(payload, "IncludeDeprecated", "true");
	if (req->include_disabled)
		add(payload, "IncludeDisabled", "true");
	add_paging(add, payload, req->max_results, req->next_token);
	add_dry_run(add, payload, req->dry_run);
	return AMS_OK;
}

enum ams_code ams_ec2_build_describe_image_attribute(
    const char *image_id, const char *attribute, bool dry_run,
    ams_ec2_param_fn *add, void *payload, struct ams_err *err)
{
	if (ams_ec2_check_image_id(image_id, err))
		return AMS_EUSAGE;
	if (!attribute || !*attribute)
		return ams_fail(err, AMS_EUSAGE, "empty image attribute name");
	add(payload, "ImageId", image_id);
	add(payload, "Attribute", attribute);
	add_dry_run(add, payload, dry_run);
	return AMS_OK;
}

/* Wire field of a grantee inside LaunchPermission/CreateVolumePermission. */
static const char *perm_field(enum ams_ec2_perm_kind kind)
{
	switch (kind) {
	case AMS_EC2_PERM_USER: return "UserId";
	case AMS_EC2_PERM_GROUP: return "Group";
	case AMS_EC2_PERM_ORG: return "OrganizationArn";
	case AMS_EC2_PERM_OU: return "OrganizationalUnitArn";
	}
	return NULL;
}

/*
 * Checks grantees; with users_only only account ids and "all" pass.
 * *nusers counts the account ids.
 */
static enum ams_code check_perm(const struct ams_ec2_perm *perm,
				bool users_only, size_t *nusers,
				struct ams_err *err)
{
	const char *v = perm->value ? perm->value : "";

	switch (perm->kind) {
	case AMS_EC2_PERM_USER:
		(*nusers)++;
		return ams_ec2_check_account_id(v, err);
	case AMS_EC2_PERM_GROUP:
		if (strcmp(v, "all"))
			return ams_fail(err, AMS_EUSAGE,
					"invalid group '%s': only 'all' exists",
					v);
		return AMS_OK;
	case AMS_EC2_PERM_ORG:
		if (users_only)
			break;
		return ams_orgs_check_org_arn(v, err);
	case AMS_EC2_PERM_OU:
		if (users_only)
			break;
		return ams_orgs_check_ou_arn(v, err);
	}
	return ams_fail(err, AMS_EUSAGE,
			"grantee '%s': only account ids and 'all' can be "
			"given here",
			v);
}

static enum ams_code check_perms(const struct ams_ec2_perm *perms, size_t n,
				 bool users_only, size_t *nusers,
				 struct ams_err *err)
{
	size_t i;

	if (n && !perms)
		return ams_fail(err, AMS_EUSAGE, "%zu grantees but no list", n);
	for (i = 0; i < n; i++)
		if (check_perm(&perms[i], users_only, nusers, err))
			return AMS_EUSAGE;
	return AMS_OK;
}

/* Prefix.Add.N.Field=value, then Prefix.Remove.N.Field=value. */
static void add_perm_changes(ams_ec2_param_fn *add, void *payload,
			     const char *prefix,
			     const struct ams_ec2_perm *plus, size_t nplus,
			     const struct ams_ec2_perm *minus, size_t nminus)
{
	size_t i;

	for (i = 0; i < nplus; i++)
		addf(add, payload, plus[i].value, "%s.Add.%zu.%s", prefix,
		     i + 1, perm_field(plus[i].kind));
	for (i = 0; i < nminus; i++)
		addf(add, payload, minus[i].value, "%s.Remove.%zu.%s", prefix,
		     i + 1, perm_field(minus[i].kind));
}

enum ams_code ams_ec2_build_modify_image_attribute(
    const struct ams_ec2_modify_image_req *req, ams_ec2_param_fn *add,
    void *payload, struct ams_err *err)
{
	size_t nusers = 0;

	if (ams_ec2_check_image_id(req->image_id, err))
		return AMS_EUSAGE;
	if (!req->nadd && !req->nremove)
		return ams_fail(err, AMS_EUSAGE,
				"no launch permission to add or remove");
	if (check_perms(req->add, req->nadd, false, &nusers, err) ||
	    check_perms(req->remove, req->nremove, false, &nusers, err))
		return AMS_EUSAGE;
	if (nusers > AMS_EC2_LAUNCH_PERMISSION_MAX_USERS)
		return ams_fail(err, AMS_ELIMIT,
				"%zu account ids in one launch permission "
				"change, at most %d",
				nusers, AMS_EC2_LAUNCH_PERMISSION_MAX_USERS);
	add(payload, "ImageId", req->image_id);
	add_perm_changes(add, payload, "LaunchPermission", req->add, req->nadd,
			 req->remove, req->nremove);
	add_dry_run(add, payload, req->dry_run);
	return AMS_OK;
}

enum ams_code ams_ec2_build_reset_image_attribute(const char *image_id,
						  bool dry_run,
						  ams_ec2_param_fn *add,
						  void *payload,
						  struct ams_err *err)
{
	if (ams_ec2_check_image_id(image_id, err))
		return AMS_EUSAGE;
	add(payload, "ImageId", image_id);
	add(payload, "Attribute", "launchPermission");
	add_dry_run(add, payload, dry_run);
	return AMS_OK;
}

enum ams_code ams_ec2_build_describe_snapshots(
    const struct ams_ec2_describe_snapshots_req *req, ams_ec2_param_fn *add,
    void *payload, struct ams_err *err)
{
	static const char *const owner_words[] = { "self", "amazon" };
	static const char *const restore_words[] = { "self", "all" };

	if (check_ids(req->snapshot_ids, req->nsnapshot_ids, "snapshot ids",
		      ams_ec2_check_snapshot_id, err) ||
	    check_principals(req->owners, req->nowners, "owner", owner_words,
			     ARRAY_SIZE(owner_words), err) ||
	    check_principals(req->restorable_by, req->nrestorable_by,
			     "restorable-by", restore_words,
			     ARRAY_SIZE(restore_words), err) ||
	    check_filters(req->filters, req->nfilters, err))
		return AMS_EUSAGE;
	add_list(add, payload, "SnapshotId", req->snapshot_ids,
		 req->nsnapshot_ids);
	add_list(add, payload, "Owner", req->owners, req->nowners);
	add_list(add, payload, "RestorableBy", req->restorable_by,
		 req->nrestorable_by);
	add_filters(add, payload, req->filters, req->nfilters);
	add_paging(add, payload, req->max_results, req->next_token);
	add_dry_run(add, payload, req->dry_run);
	return AMS_OK;
}

enum ams_code ams_ec2_build_describe_snapshot_attribute(const char *snapshot_id,
							bool dry_run,
							ams_ec2_param_fn *add,
							void *payload,
							struct ams_err *err)
{
	if (ams_ec2_check_snapshot_id(snapshot_id, err))
		return AMS_EUSAGE;
	add(payload, "SnapshotId", snapshot_id);
	add(payload, "Attribute", "createVolumePermission");
	add_dry_run(add, payload, dry_run);
	return AMS_OK;
}

enum ams_code ams_ec2_build_modify_snapshot_attribute(
    const struct ams_ec2_modify_snapshot_req *req, ams_ec2_param_fn *add,
    void *payload, struct ams_err *err)
{
	size_t nusers = 0, n = req->nadd + req->nremove;

	if (ams_ec2_check_snapshot_id(req->snapshot_id, err))
		return AMS_EUSAGE;
	if (!n)
		return ams_fail(err, AMS_EUSAGE,
				"no create-volume permission to add or "
				"remove");
	if (req->nadd && req->nremove)
		return ams_fail(err, AMS_EUSAGE,
				"cannot add and remove create-volume "
				"permissions in one call");
	if (n > AMS_EC2_SNAPSHOT_MODIFY_MAX)
		return ams_fail(err, AMS_ELIMIT,
				"%zu create-volume permission changes in one "
				"call, at most %d",
				n, AMS_EC2_SNAPSHOT_MODIFY_MAX);
	if (check_perms(req->add, req->nadd, true, &nusers, err) ||
	    check_perms(req->remove, req->nremove, true, &nusers, err))
		return AMS_EUSAGE;
	add(payload, "SnapshotId", req->snapshot_id);
	add_perm_changes(add, payload, "CreateVolumePermission", req->add,
			 req->nadd, req->remove, req->nremove);
	add_dry_run(add, payload, req->dry_run);
	return AMS_OK;
}

static enum ams_code check_resources(const char *const *ids, size_t n,
				     struct ams_err *err)
{
	if (!n)
		return ams_fail(err, AMS_EUSAGE, "no resource ids");
	if (n > AMS_EC2_CREATE_TAGS_MAX_RESOURCES)
		return ams_fail(err, AMS_ELIMIT,
				"%zu resource ids in one call, at most %d", n,
				AMS_EC2_CREATE_TAGS_MAX_RESOURCES);
	return check_list(ids, n, "resource id", err);
}

enum ams_code ams_ec2_build_create_tags(const char *const *resource_ids,
					size_t nresource_ids,
					const struct ams_tag *tags,
					size_t ntags, bool dry_run,
					ams_ec2_param_fn *add, void *payload,
					struct ams_err *err)
{
	enum ams_code rc;
	size_t i;

	rc = check_resources(resource_ids, nresource_ids, err);
	if (rc)
		return rc;
	if (!ntags || !tags)
		return ams_fail(err, AMS_EUSAGE, "no tags to create");
	if (ntags > AMS_EC2_MAX_TAGS_PER_RESOURCE)
		return ams_fail(err, AMS_ELIMIT,
				"%zu tags, a resource holds at most %d", ntags,
				AMS_EC2_MAX_TAGS_PER_RESOURCE);
	for (i = 0; i < ntags; i++)
		if (ams_ec2_check_tag_key(tags[i].key, err) ||
		    ams_ec2_check_tag_value(tags[i].value, err))
			return AMS_EUSAGE;
	add_list(add, payload, "ResourceId", resource_ids, nresource_ids);
	for (i = 0; i < ntags; i++) {
		add_indexed(add, payload, tags[i].key, "Tag", i + 1, "Key");
		add_indexed(add, payload, tags[i].value, "Tag", i + 1, "Value");
	}
	add_dry_run(add, payload, dry_run);
	return AMS_OK;
}

enum ams_code ams_ec2_build_delete_tags(const char *const *resource_ids,
					size_t nresource_ids,
					const struct ams_tag *tags,
					size_t ntags, bool dry_run,
					ams_ec2_param_fn *add, void *payload,
					struct ams_err *err)
{
	enum ams_code rc;
	size_t i;

	rc = check_resources(resource_ids, nresource_ids, err);
	if (rc)
		return rc;
	if (ntags && !tags)
		return ams_fail(err, AMS_EUSAGE, "%zu tags but no list", ntags);
	if (ntags > AMS_EC2_DELETE_TAGS_MAX_TAGS)
		return ams_fail(err, AMS_ELIMIT,
				"%zu tags in one call, at most %d", ntags,
				AMS_EC2_DELETE_TAGS_MAX_TAGS);
	for (i = 0; i < ntags; i++)
		if (ams_ec2_check_tag_key(tags[i].key, err) ||
		    (tags[i].value &&
		     ams_ec2_check_tag_value(tags[i].value, err)))
			return AMS_EUSAGE;
	add_list(add, payload, "ResourceId", resource_ids, nresource_ids);
	for (i = 0; i < ntags; i++) {
		add_indexed(add, payload, tags[i].key, "Tag", i + 1, "Key");
		if (tags[i].value)
			add_indexed(add, payload, tags[i].value, "Tag", i + 1,
				    "Value");
	}
	add_dry_run(add, payload, dry_run);
	return AMS_OK;
}

enum ams_code ams_ec2_build_describe_tags(
    const struct ams_ec2_describe_tags_req *req, ams_ec2_param_fn *add,
    void *payload, struct ams_err *err)
{
	if (req->max_results &&
	    (req->max_results < AMS_EC2_DESCRIBE_TAGS_MIN_RESULTS ||
	     req->max_results > AMS_EC2_DESCRIBE_TAGS_MAX_RESULTS))
		return ams_fail(err, AMS_EUSAGE,
				"DescribeTags max results %u: expected %d "
				"to %d",
				req->max_results,
				AMS_EC2_DESCRIBE_TAGS_MIN_RESULTS,
				AMS_EC2_DESCRIBE_TAGS_MAX_RESULTS);
	if (check_filters(req->filters, req->nfilters, err))
		return AMS_EUSAGE;
	add_filters(add, payload, req->filters, req->nfilters);
	add_paging(add, payload, req->max_results, req->next_token);
	add_dry_run(add, payload, req->dry_run);
	return AMS_OK;
}

enum ams_code ams_ec2_build_enable_image_deprecation(
    const char *image_id, time_t deprecate_at, bool dry_run,
    ams_ec2_param_fn *add, void *payload, struct ams_err *err)
{
	char when[21];

	if (ams_ec2_check_image_id(image_id, err))
		return AMS_EUSAGE;
	if (deprecate_at <= 0)
		return ams_fail(err, AMS_EUSAGE, "no deprecation time for '%s'",
				image_id);
	ams_clock_iso8601(when, deprecate_at);
	add(payload, "ImageId", image_id);
	add(payload, "DeprecateAt", when);
	add_dry_run(add, payload, dry_run);
	return AMS_OK;
}

enum ams_code ams_ec2_build_disable_image_deprecation(const char *image_id,
						      bool dry_run,
						      ams_ec2_param_fn *add,
						      void *payload,
						      struct ams_err *err)
{
	if (ams_ec2_check_image_id(image_id, err))
		return AMS_EUSAGE;
	add(payload, "ImageId", image_id);
	add_dry_run(add, payload, dry_run);
	return AMS_OK;
}
