/*
 * Unit tests for tag sets, key filters and placeholder expansion.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tags.h"

static void test_set_get_replace_remove(void)
{
	struct ams_tags t = AMS_TAGS_INIT;

	ams_tags_set(&t, "b", "1");
	ams_tags_set(&t, "a", "2");
	ams_tags_set(&t, "b", "3");
	CHECK_INT_EQ(2, t.n);
	CHECK_STR_EQ("b", t.v[0].key); /* insertion order kept */
	CHECK_STR_EQ("3", ams_tags_get(&t, "b"));
	CHECK(ams_tags_get(&t, "c") == NULL);
	ams_tags_sort(&t);
	CHECK_STR_EQ("a", t.v[0].key);
	CHECK(ams_tags_remove(&t, "a"));
	CHECK(!ams_tags_remove(&t, "a"));
	CHECK_INT_EQ(1, t.n);
	CHECK_STR_EQ("b", t.v[0].key);
	ams_tags_release(&t);
	CHECK(t.n == 0 && t.v == NULL);
}

static void test_missing(void)
{
	struct ams_tags want = AMS_TAGS_INIT, is = AMS_TAGS_INIT;
	struct ams_tags out = AMS_TAGS_INIT;

	ams_tags_set(&want, "Name", "golden");
	ams_tags_set(&want, "team", "");
	ams_tags_set(&want, "ver", "2");
	ams_tags_set(&is, "Name", "golden");
	ams_tags_set(&is, "ver", "1");
	ams_tags_set(&is, "local", "x"); /* the target's own: untouched */
	CHECK_INT_EQ(6, (long long)ams_tags_missing(&out, &want, &is));
	CHECK_INT_EQ(2, out.n);
	CHECK_STR_EQ("", ams_tags_get(&out, "team"));
	CHECK_STR_EQ("2", ams_tags_get(&out, "ver"));
	ams_tags_release(&out);
	ams_tags_copy(&is, &want);
	CHECK_INT_EQ(0, (long long)ams_tags_missing(&out, &want, &is));
	CHECK_INT_EQ(0, out.n);
	ams_tags_release(&want);
	ams_tags_release(&is);
	ams_tags_release(&out);
}

static void test_key_filters(void)
{
	static char i0[] = "Name", i1[] = "team*", i2[] = "cost-?";
	static char e0[] = "team-secret*";
	static char *inc[] = { i0, i1, i2 };
	static char *exc[] = { e0 };
	static const struct {
		const char *key;
		int with_filters, without;
	} cases[] = {
		{ "Name", 1, 1 },	 { "name", 0, 1 },
		{ "team", 1, 1 },	 { "team-a", 1, 1 },
		{ "team-secret", 0, 1 }, { "cost-1", 1, 1 },
		{ "cost-12", 0, 1 },	 { "aws:cloudformation:x", 0, 0 },
		{ "aws:", 0, 0 },	 { "AWS:upper", 0, 0 },
		{ "awsome", 0, 1 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		TEST_BEGIN();
		CHECK_INT_EQ(
		    cases[i].with_filters,
		    ams_tag_key_selected(cases[i].key, inc, 3, exc, 1));
		CHECK_INT_EQ(
		    cases[i].without,
		    ams_tag_key_selected(cases[i].key, NULL, 0, NULL, 0));
		TEST_END("tags: filter '%s'", cases[i].key);
	}
}

static const char *lookup(const char *name, void *payload)
{
	(void)payload;
	if (!strcmp(name, "git.commit"))
		return "0123abc";
	if (!strcmp(name, "build.name"))
		return "base";
	if (!strcmp(name, "empty"))
		return "";
	return NULL;
}

static void test_expand(void)
{
	static const struct {
		const char *tmpl, *want;
	} ok[] = {
		{ "plain", "plain" },
		{ "", "" },
		{ "{git.commit}", "0123abc" },
		{ "v-{build.name}-{git.commit}", "v-base-0123abc" },
		{ "{{literal}}", "{literal}" },
		{ "x{empty}y", "xy" },
		{ "{{{build.name}}}", "{base}" },
	};
	static const char *const bad[] = { "{nope}", "{git.commit", "a}b", "{",
					   "}" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		struct ams_buf sb = AMS_BUF_INIT;
		struct ams_err err = AMS_ERR_INIT;

		TEST_BEGIN();
		CHECK_RC(AMS_OK,
			 ams_tags_expand(&sb, ok[i].tmpl, lookup, NULL, "--tag",
					 &err),
			 &err);
		CHECK_STR_EQ(ok[i].want, sb.buf);
		ams_buf_release(&sb);
		TEST_END("tags: expand '%s'", ok[i].tmpl);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct ams_buf sb = AMS_BUF_INIT;
		struct ams_err err = AMS_ERR_INIT;

		TEST_BEGIN();
		CHECK_INT_EQ(AMS_EUSAGE,
			     ams_tags_expand(&sb, bad[i], lookup, NULL,
					     "--tag 'K=V'", &err));
		CHECK(!strncmp(err.msg, "--tag 'K=V': ", 13));
		ams_buf_release(&sb);
		TEST_END("tags: expand rejects '%s'", bad[i]);
	}
}

static void test_assignment(void)
{
	struct ams_err err = AMS_ERR_INIT;
	char *k, *v;

	CHECK_RC(AMS_OK, ams_tag_parse_assignment(&k, &v, "a=b=c", &err), &err);
	CHECK_STR_EQ("a", k);
	CHECK_STR_EQ("b=c", v);
	free(k);
	free(v);
	CHECK_RC(AMS_OK, ams_tag_parse_assignment(&k, &v, "team=", &err), &err);
	CHECK_STR_EQ("", v);
	free(k);
	free(v);
	CHECK_INT_EQ(AMS_EUSAGE, ams_tag_parse_assignment(&k, &v, "=x", &err));
	CHECK(k == NULL && v == NULL);
	ams_err_clear(&err);
	CHECK_INT_EQ(AMS_EUSAGE,
		     ams_tag_parse_assignment(&k, &v, "novalue", &err));
	CHECK(strstr(err.msg, "expected KEY=VALUE") != NULL);
}

int main(void)
{
	TEST(test_set_get_replace_remove, "tags: set, replace, remove, sort");
	TEST(test_missing, "tags: what a write must carry");
	test_key_filters();
	test_expand();
	TEST(test_assignment, "tags: KEY=VALUE parsing");
	return test_done();
}
