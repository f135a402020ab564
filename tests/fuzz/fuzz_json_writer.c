/*
 * Fuzz target: the JSON writer that renders reports and request bodies
 * (json.h ams_json_w_*, buf.h ams_buf_add_json_str), checked against the
 * reader.
 *
 * The input is split at NUL bytes into strings, written as an object of
 * key/value pairs and as an array, plus the first 8 bytes as a double.
 * Properties: the output is valid UTF-8 without raw control characters;
 * it parses; every string that was valid UTF-8 reads back unchanged;
 * a finite double reads back exactly.
 */
#include "buf.h"
#include "fuzz.h"
#include "json.h"

#include <math.h>
#include <stdlib.h>

/* Length of the valid UTF-8 sequence at p (RFC 3629), 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

static bool valid_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		k = utf8_seq(p + i, n - i);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

static void check_output(const struct ams_buf *out)
{
	size_t i;

	FUZZ_ASSERT(valid_utf8(out->buf, out->len));
	for (i = 0; i < out->len; i++)
		FUZZ_ASSERT((unsigned char)out->buf[i] >= 0x20);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	const char *strs[64];
	size_t n = 0, off = 0, i;
	struct ams_buf out = AMS_BUF_INIT, one = AMS_BUF_INIT;
	struct ams_json_writer w;
	struct ams_json *doc = NULL;
	struct ams_err err = AMS_ERR_INIT;
	const struct ams_json_val *e;
	double d = 0;

	while (off <= size && n < ARRAY_SIZE(strs)) {
		strs[n++] = text + off;
		off += strlen(text + off) + 1;
	}
	if (size >= sizeof(d))
		memcpy(&d, data, sizeof(d));

	ams_json_w_init(&w, &out);
	ams_json_w_object(&w);
	ams_json_w_key(&w, "strings");
	ams_json_w_array(&w);
	for (i = 0; i < n; i++)
		ams_json_w_str(&w, strs[i]);
	ams_json_w_end(&w);
	ams_json_w_key(&w, "map");
	ams_json_w_object(&w);
	for (i = 0; i + 1 < n; i += 2) {
		ams_json_w_key(&w, strs[i]);
		ams_json_w_str(&w, strs[i + 1]);
	}
	ams_json_w_end(&w);
	ams_json_w_key(&w, "double");
	ams_json_w_double(&w, d);
	ams_json_w_end(&w);
	FUZZ_ASSERT(ams_json_w_finish(&w, &err) == AMS_OK);
	check_output(&out);

	FUZZ_ASSERT(ams_json_parse(&doc, out.buf, out.len, &err) == AMS_OK);
	e = ams_json_child(ams_json_at(ams_json_root(doc), "strings"));
	for (i = 0; i < n; i++, e = ams_json_sibling(e)) {
		FUZZ_ASSERT(e && ams_json_str(e));
		if (valid_utf8(strs[i], strlen(strs[i])))
			FUZZ_ASSERT(!strcmp(ams_json_str(e), strs[i]));
	}
	e = ams_json_at(ams_json_root(doc), "double");
	if (isfinite(d))
		FUZZ_ASSERT(ams_json_type_of(e) == AMS_JSON_NUMBER);
	if (isfinite(d)) {
		double back = 0;

		FUZZ_ASSERT(ams_json_get_double(&back, ams_json_root(doc),
						"double", &err) == AMS_OK);
		FUZZ_ASSERT(back == d);
	}
	ams_json_free(doc);

	/* The escaper on its own, as the report and log code call it. */
	ams_buf_add_json_str(&one, strs[0]);
	check_output(&one);

	ams_buf_release(&one);
	ams_buf_release(&out);
	free(text);
	return 0;
}
