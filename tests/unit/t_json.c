/*
 * JSON reading (paths, typed getters and their messages, byte offsets,
 * hostile input) and the writer.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "json.h"

static const char manifest[] =
    "{\"builds\":[{\"name\":\"a\",\"artifact_id\":\"us-east-1:ami-1\"},"
    "{\"name\":\"b\",\"artifact_id\":\"eu-west-1:ami-2\",\"n\":3},"
    "{\"name\":\"c\",\"artifact_id\":42,\"ok\":true,\"none\":null,"
    "\"neg\":-5,\"frac\":1.5,\"big\":9007199254740994}],"
    "\"last_run_uuid\":\"u-1\",\"we.ird\":1,\"nested\":{\"x\":{\"y\":[[7]]}}}";

static struct ams_json *parse(const char *s)
{
	struct ams_json *doc = NULL;
	struct ams_err err = AMS_ERR_INIT;

	CHECK_RC(AMS_OK, ams_json_parse(&doc, s, strlen(s), &err), &err);
	return doc;
}

static void test_paths(void)
{
	struct ams_json *doc = parse(manifest);
	const struct ams_json_val *root, *builds, *e;
	struct ams_err err = AMS_ERR_INIT;
	char *s = NULL;
	uint64_t u = 0;
	int64_t i = 0;
	double d = 0;
	bool b = false;
	int n = 0;

	if (!doc)
		return;
	root = ams_json_root(doc);
	CHECK_RC(AMS_OK,
		 ams_json_get_str(&s, root, "builds[1].artifact_id", &err),
		 &err);
	CHECK_STR_EQ("eu-west-1:ami-2", s);
	free(s);
	CHECK_RC(AMS_OK, ams_json_get_u64(&u, root, "builds[1].n", &err), &err);
	CHECK_INT_EQ(3, u);
	CHECK_RC(AMS_OK, ams_json_get_bool(&b, root, "builds[2].ok", &err),
		 &err);
	CHECK(b);
	CHECK_RC(AMS_OK, ams_json_get_i64(&i, root, "builds[2].neg", &err),
		 &err);
	CHECK_INT_EQ(-5, i);
	CHECK_RC(AMS_OK, ams_json_get_double(&d, root, "builds[2].frac", &err),
		 &err);
	CHECK(d == 1.5);
	CHECK_RC(AMS_OK, ams_json_get_u64(&u, root, "nested.x.y[0][0]", &err),
		 &err);
	CHECK_INT_EQ(7, u);
	CHECK_RC(AMS_OK, ams_json_get_array(&builds, root, "builds", &err),
		 &err);
	CHECK_INT_EQ(3, ams_json_size(builds));
	for (e = ams_json_child(builds); e; e = ams_json_sibling(e))
		n++;
	CHECK_INT_EQ(3, n);
	CHECK_STR_EQ("c", ams_json_str(ams_json_at(builds, "[2].name")));
	CHECK(ams_json_member(root, "we.ird") != NULL);
	CHECK(ams_json_at(root, "we.ird") == NULL);
	CHECK_STR_EQ("last_run_uuid",
		     ams_json_key(ams_json_sibling(ams_json_child(root))));
	CHECK(ams_json_at(root, "") == root);
	CHECK_INT_EQ(AMS_JSON_OBJECT, ams_json_type_of(root));
	CHECK_STR_EQ("array", ams_json_type_name(ams_json_type_of(builds)));
	ams_json_free(doc);
}

struct msg_case {
	const char *path;
	int kind; /* 0 str, 1 u64, 2 bool, 3 array, 4 object, 5 i64 */
	const char *msg;
};

static void test_error_messages(void)
{
	static const struct msg_case cases[] = {
		{ "builds[2].artifact_id", 0,
		  "builds[2].artifact_id: expected string" },
		{ "builds[7].artifact_id", 0,
		  "builds[7].artifact_id: missing" },
		{ "builds[0].nope", 0, "builds[0].nope: missing" },
		{ "builds[2].none", 0, "builds[2].none: missing" },
		{ "last_run_uuid.x", 0, "last_run_uuid: expected object" },
		{ "builds.x", 0, "builds: expected object" },
		{ "last_run_uuid[0]", 0, "last_run_uuid: expected array" },
		{ "builds[2].neg", 1,
		  "builds[2].neg: expected a non-negative integer" },
		{ "builds[2].frac", 1,
		  "builds[2].frac: expected a non-negative integer" },
		{ "builds[2].big", 1,
		  "builds[2].big: expected a non-negative integer" },
		{ "builds[0].name", 2, "builds[0].name: expected boolean" },
		{ "last_run_uuid", 3, "last_run_uuid: expected array" },
		{ "builds", 4, "builds: expected object" },
		{ "builds[2].frac", 5, "builds[2].frac: expected an integer" },
		{ "builds[x]", 0, "builds[x]: malformed path" },
		{ "", 0, "(root): expected string" },
	};
	struct ams_json *doc = parse(manifest);
	size_t k;

	if (!doc)
		return;
	for (k = 0; k < ARRAY_SIZE(cases); k++) {
		const struct msg_case *c = &cases[k];
		const struct ams_json_val *root = ams_json_root(doc), *v;
		struct ams_err err = AMS_ERR_INIT;
		char *s = NULL;
		uint64_t u;
		int64_t i;
		bool b;
		enum ams_code rc = AMS_OK;

		switch (c->kind) {
		case 0: rc = ams_json_get_str(&s, root, c->path, &err); break;
		case 1: rc = ams_json_get_u64(&u, root, c->path, &err); break;
		case 2: rc = ams_json_get_bool(&b, root, c->path, &err); break;
		case 3: rc = ams_json_get_array(&v, root, c->path, &err); break;
		case 4:
			rc = ams_json_get_object(&v, root, c->path, &err);
			break;
		case 5: rc = ams_json_get_i64(&i, root, c->path, &err); break;
		}
		CHECK_INT_EQ(AMS_EPARSE, rc);
		CHECK_STR_EQ(c->msg, err.msg);
		CHECK(s == NULL);
	}
	ams_json_free(doc);
}

static void test_optional(void)
{
	struct ams_json *doc = parse(manifest);
	const struct ams_json_val *root;
	struct ams_err err = AMS_ERR_INIT;
	static char keep[] = "keep";
	char *s = keep;
	uint64_t u = 9;
	bool b = true;
	double d = 2.5;

	if (!doc)
		return;
	root = ams_json_root(doc);
	CHECK_RC(AMS_OK, ams_json_get_str_opt(&s, root, "nope", &err), &err);
	CHECK(s == NULL);
	CHECK_RC(AMS_OK, ams_json_get_str_opt(&s, root, "builds[2].none", &err),
		 &err);
	CHECK_RC(AMS_OK, ams_json_get_u64_opt(&u, root, "nope", &err), &err);
	CHECK_INT_EQ(9, u);
	CHECK_RC(AMS_OK, ams_json_get_bool_opt(&b, root, "nope", &err), &err);
	CHECK(b);
	CHECK_RC(AMS_OK, ams_json_get_double_opt(&d, root, "nope", &err), &err);
	CHECK(d == 2.5);
	/* present but wrong type still fails */
	CHECK_RC(AMS_EPARSE,
		 ams_json_get_str_opt(&s, root, "builds[2].artifact_id", &err),
		 &err);
	ams_json_free(doc);
}

/* Timestamps are range-checked before they become time_t. */
static void test_epoch(void)
{
	static const struct {
		const char *doc;
		enum ams_code rc;
		long long want;
	} cases[] = {
		{ "{\"t\":1736942400}", AMS_OK, 1736942400 },
		{ "{\"t\":1736942400.987}", AMS_OK, 1736942400 },
		{ "{\"t\":0}", AMS_OK, 0 },
		{ "{\"t\":253402300799}", AMS_OK, 253402300799LL },
		{ "{\"t\":null}", AMS_OK, 42 },
		{ "{}", AMS_OK, 42 },
		{ "{\"t\":253402300800}", AMS_EPARSE, 42 },
		{ "{\"t\":-1}", AMS_EPARSE, 42 },
		{ "{\"t\":1.60889E60104}", AMS_EPARSE, 42 },
		{ "{\"t\":17369423456789012400.123}", AMS_EPARSE, 42 },
		{ "{\"t\":-1e300}", AMS_EPARSE, 42 },
		{ "{\"t\":\"1736942400\"}", AMS_EPARSE, 42 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ams_json *doc = parse(cases[i].doc);
		struct ams_err err = AMS_ERR_INIT;
		time_t t = 42;

		if (!doc)
			continue;
		CHECK_RC(
		    cases[i].rc,
		    ams_json_get_epoch_opt(&t, ams_json_root(doc), "t", &err),
		    &err);
		CHECK_INT_EQ(cases[i].want, (long long)t);
		if (cases[i].rc)
			CHECK(!strncmp(err.msg, "t: expected ", 12));
		ams_json_free(doc);
	}
}

static void test_syntax_errors(void)
{
	static const struct {
		const char *text;
		const char *msg;
	} cases[] = {
		{ "{\"a\":1,}", "json: syntax error at byte 7" },
		{ "{\"a\" 1}", "json: syntax error at byte 5" },
		{ "[1,2", "json: syntax error at byte 3" },
		{ "", "json: syntax error at byte 0" },
		{ "{} x", "json: unexpected data after the value at byte 3" },
		{ "{}{}", "json: unexpected data after the value at byte 2" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ams_json *doc = NULL;
		struct ams_err err = AMS_ERR_INIT;

		CHECK_RC(AMS_EPARSE,
			 ams_json_parse(&doc, cases[i].text,
					strlen(cases[i].text), &err),
			 &err);
		CHECK_STR_EQ(cases[i].msg, err.msg);
		CHECK(doc == NULL);
	}
	{
		/* trailing white space and no NUL terminator are fine */
		struct ams_json *doc = NULL;
		const char text[] = { '[', '1', ']', ' ', '\n', 'X' };

		CHECK_RC(AMS_OK, ams_json_parse(&doc, text, 5, NULL), NULL);
		ams_json_free(doc);
	}
}

static void test_hostile(void)
{
	struct ams_buf sb = AMS_BUF_INIT;
	struct ams_json *doc = NULL;
	struct ams_err err = AMS_ERR_INIT;
	char *big;
	int i;

	for (i = 0; i < 100000; i++)
		ams_buf_addch(&sb, '[');
	CHECK_RC(AMS_EPARSE, ams_json_parse(&doc, sb.buf, sb.len, &err), &err);
	CHECK_STR_EQ("json: nested deeper than 64 at byte 64", err.msg);
	ams_buf_reset(&sb);
	/* brackets inside strings do not count */
	ams_buf_addstr(&sb, "{\"k\":\"");
	for (i = 0; i < 1000; i++)
		ams_buf_addstr(&sb, "[{\\\"");
	ams_buf_addstr(&sb, "\"}");
	CHECK_RC(AMS_OK, ams_json_parse(&doc, sb.buf, sb.len, NULL), NULL);
	ams_json_free(doc);
	doc = NULL;
	/* exactly 64 levels are fine */
	ams_buf_reset(&sb);
	for (i = 0; i < 64; i++)
		ams_buf_addch(&sb, '[');
	for (i = 0; i < 64; i++)
		ams_buf_addch(&sb, ']');
	CHECK_RC(AMS_OK, ams_json_parse(&doc, sb.buf, sb.len, NULL), NULL);
	ams_json_free(doc);
	ams_buf_release(&sb);
	big = malloc(AMS_JSON_MAX_BYTES + 1);
	CHECK(big != NULL);
	if (big) {
		memset(big, ' ', AMS_JSON_MAX_BYTES + 1);
		big[0] = '0';
		ams_err_clear(&err);
		CHECK_RC(
		    AMS_ELIMIT,
		    ams_json_parse(&doc, big, AMS_JSON_MAX_BYTES + 1, &err),
		    &err);
		free(big);
	}
}

static void test_writer(void)
{
	struct ams_buf sb = AMS_BUF_INIT;
	struct ams_json_writer w;
	struct ams_err err = AMS_ERR_INIT;

	ams_json_w_init(&w, &sb);
	ams_json_w_object(&w);
	ams_json_w_key(&w, "Name");
	ams_json_w_str(&w, "/golden/\"ami\"\n");
	ams_json_w_key(&w, "Overwrite");
	ams_json_w_bool(&w, true);
	ams_json_w_key(&w, "Tags");
	ams_json_w_array(&w);
	ams_json_w_object(&w);
	ams_json_w_key(&w, "Key");
	ams_json_w_str(&w, "k");
	ams_json_w_end(&w);
	ams_json_w_object(&w);
	ams_json_w_end(&w);
	ams_json_w_end(&w);
	ams_json_w_key(&w, "n");
	ams_json_w_array(&w);
	ams_json_w_i64(&w, -3);
	ams_json_w_u64(&w, 18446744073709551615ull);
	ams_json_w_double(&w, 0.1);
	ams_json_w_double(&w, 1e300 * 1e300);
	ams_json_w_null(&w);
	ams_json_w_str(&w, NULL);
	ams_json_w_end(&w);
	ams_json_w_end(&w);
	CHECK_RC(AMS_OK, ams_json_w_finish(&w, &err), &err);
	CHECK_STR_EQ("{\"Name\":\"/golden/\\\"ami\\\"\\n\",\"Overwrite\":true,"
		     "\"Tags\":[{\"Key\":\"k\"},{}],\"n\":[-3,"
		     "18446744073709551615,0.1,null,null,null]}",
		     sb.buf);
	/* the output parses back */
	{
		struct ams_json *doc = NULL;

		CHECK_RC(AMS_OK, ams_json_parse(&doc, sb.buf, sb.len, &err),
			 &err);
		ams_json_free(doc);
	}
	/* misuse is caught at finish */
	ams_buf_reset(&sb);
	ams_json_w_init(&w, &sb);
	ams_json_w_object(&w);
	ams_json_w_str(&w, "value without key");
	ams_json_w_end(&w);
	CHECK_RC(AMS_EUSAGE, ams_json_w_finish(&w, &err), &err);
	ams_err_clear(&err);
	ams_buf_reset(&sb);
	ams_json_w_init(&w, &sb);
	ams_json_w_array(&w);
	ams_json_w_key(&w, "key in array");
	CHECK_RC(AMS_EUSAGE, ams_json_w_finish(&w, &err), &err);
	ams_err_clear(&err);
	ams_buf_reset(&sb);
	ams_json_w_init(&w, &sb);
	ams_json_w_array(&w);
	CHECK_RC(AMS_EUSAGE, ams_json_w_finish(&w, &err), &err);
	CHECK_STR_EQ("json writer: unbalanced", err.msg);
	ams_err_clear(&err);
	ams_buf_reset(&sb);
	ams_json_w_init(&w, &sb);
	ams_json_w_str(&w, "a");
	ams_json_w_str(&w, "b");
	CHECK_RC(AMS_EUSAGE, ams_json_w_finish(&w, &err), &err);
	ams_buf_release(&sb);
}

int main(void)
{
	TEST(test_paths, "paths, iteration and typed getters");
	TEST(test_error_messages, "getter errors name the path");
	TEST(test_optional, "optional getters and null");
	TEST(test_epoch, "epoch timestamps: range-checked");
	TEST(test_syntax_errors, "syntax errors give byte offsets");
	TEST(test_hostile, "depth bomb and oversize refused");
	TEST(test_writer, "writer output and misuse");
	return test_done();
}
