/*
 * Unit tests for provenance tags: the allowed character set, value
 * cleaning and clamping (never inside a UTF-8 sequence), the key prefix
 * rules, and the tag set built from a provenance record.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "harness.h"
#include "provenance.h"

static const struct {
	uint32_t cp;
	bool allowed;
	const char *what;
} chars[] = {
	{ 'a', true, "lowercase" },
	{ 'Z', true, "uppercase" },
	{ '0', true, "digit" },
	{ ' ', true, "space" },
	{ '_', true, "underscore" },
	{ '.', true, "dot" },
	{ ':', true, "colon" },
	{ '/', true, "slash" },
	{ '=', true, "equals" },
	{ '+', true, "plus" },
	{ '-', true, "minus" },
	{ '@', true, "at" },
	{ '#', false, "hash" },
	{ '!', false, "bang" },
	{ '?', false, "question mark" },
	{ '%', false, "percent" },
	{ '&', false, "ampersand" },
	{ '~', false, "tilde" },
	{ '"', false, "quote" },
	{ '\t', false, "tab" },
	{ '\n', false, "newline" },
	{ 0x7F, false, "DEL" },
	{ 0, false, "NUL" },
	{ 0x80, false, "C1 control" },
	{ 0xE9, true, "e acute (Ll)" },
	{ 0x3B1, true, "alpha (Ll)" },
	{ 0x4E2D, true, "CJK (Lo)" },
	{ 0x661, true, "Arabic-Indic one (Nd)" },
	{ 0x2160, true, "Roman numeral one (Nl)" },
	{ 0xB2, true, "superscript two (No)" },
	{ 0xA0, true, "no-break space (Zs)" },
	{ 0x2003, true, "em space (Zs)" },
	{ 0x2028, true, "line separator (Zl)" },
	{ 0x10000, true, "Linear B syllable (Lo)" },
	{ 0x1F600, false, "emoji (So)" },
	{ 0x2022, false, "bullet (Po)" },
	{ 0xA9, false, "copyright (So)" },
	{ 0x301, false, "combining acute (Mn)" },
	{ 0xB7, false, "middle dot (Po)" },
	{ 0xFFFD, false, "replacement character (So)" },
	{ 0xD800, false, "surrogate" },
	{ 0x10FFFF, false, "last code point (Cn)" },
	{ 0x110000, false, "beyond Unicode" },
};

static void test_char_allowed(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(chars); i++) {
		TEST_BEGIN();
		CHECK_INT_EQ(chars[i].allowed,
			     ams_provenance_tag_char_allowed(chars[i].cp));
		TEST_END("tag character U+%04X %s", (unsigned)chars[i].cp,
			 chars[i].what);
	}
}

static const struct {
	const char *in, *out;
} cleans[] = {
	{ "", "" },
	{ "main", "main" },
	{ "feature/foo#1", "feature/foo_1" },
	{ "https://h.example/o/r.git", "https://h.example/o/r.git" },
	{ "2015-08-30T12:36:00Z", "2015-08-30T12:36:00Z" },
	{ "caf\xc3\xa9", "caf\xc3\xa9" },
	{ "\xe4\xb8\xad\xe6\x96\x87", "\xe4\xb8\xad\xe6\x96\x87" },
	{ "a\tb\nc", "a_b_c" },
	{ "\xf0\x9f\x98\x80x", "_x" },
	{ "\xff\xfe"
	  "ab",
	  "__ab" },
	{ "\xe4\xb8", "__" },
	{ "\xe4\xb8x", "__x" },
	{ "\xc0\xaf", "__" },
	{ "\xe0\x80\x80", "___" },
	{ "\xed\xa0\x80", "___" },
	{ "\xf4\x90\x80\x80", "____" },
	{ "\x80", "_" },
	{ "e\xcc\x81", "e_" },
	{ "a\xc2\xa0"
	  "b",
	  "a\xc2\xa0"
	  "b" },
};

static void test_clean(void)
{
	size_t i;
	char *got;

	for (i = 0; i < ARRAY_SIZE(cleans); i++) {
		TEST_BEGIN();
		got = ams_provenance_tag_clean(cleans[i].in, AMS_TAG_VALUE_MAX);
		CHECK_STR_EQ(cleans[i].out, got);
		free(got);
		TEST_END("clean value %zu", i);
	}
}

/* Characters in a valid UTF-8 string, or -1 when it is not valid. */
static long utf8_chars(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	long n = 0;
	int more;

	while (*p) {
		if (*p < 0x80)
			more = 0;
		else if ((*p & 0xE0) == 0xC0)
			more = 1;
		else if ((*p & 0xF0) == 0xE0)
			more = 2;
		else if ((*p & 0xF8) == 0xF0)
			more = 3;
		else
			return -1;
		for (p++; more; more--, p++)
			if ((*p & 0xC0) != 0x80)
				return -1;
		n++;
	}
	return n;
}

static char *repeat(const char *unit, size_t times, const char *tail)
{
	struct ams_buf sb = AMS_BUF_INIT;
	size_t i;

	for (i = 0; i < times; i++)
		ams_buf_addstr(&sb, unit);
	ams_buf_addstr(&sb, tail);
	return ams_buf_detach(&sb, NULL);
}

static const struct {
	const char *unit;
	size_t times;
	const char *tail;
	long want_chars;
	size_t want_bytes;
	const char *what;
} clamps[] = {
	{ "a", 256, "", 256, 256, "256 ASCII characters stay" },
	{ "a", 257, "", 256, 256, "257 ASCII characters lose one" },
	{ "\xc3\xa9", 300, "", 256, 512, "two-byte letters" },
	{ "\xe4\xb8\xad", 300, "", 256, 768, "three-byte letters" },
	{ "a", 255, "\xe4\xb8\xad\xe4\xb8\xad", 256, 258,
	  "the last character fits whole" },
	{ "a", 255, "\xc3\xa9\xc3\xa9", 256, 257,
	  "a two-byte character at "
	  "the cut" },
	{ "\xf0\x90\x80\x80", 300, "", 256, 1024, "four-byte letters" },
	{ "\xf0\x9f\x98\x80", 300, "", 256, 256, "emoji become one '_' each" },
	{ "\xe4\xb8\xad", 100, "", 100, 300, "short values are whole" },
};

static void test_clamp(void)
{
	size_t i;
	char *in, *got;

	for (i = 0; i < ARRAY_SIZE(clamps); i++) {
		TEST_BEGIN();
		in = repeat(clamps[i].unit, clamps[i].times, clamps[i].tail);
		got = ams_provenance_tag_clean(in, AMS_TAG_VALUE_MAX);
		CHECK_INT_EQ(clamps[i].want_chars, utf8_chars(got));
		CHECK_INT_EQ(clamps[i].want_bytes, strlen(got));
		CHECK(!strncmp(in, got, 4) || got[0] == '_');
		free(in);
		free(got);
		TEST_END("clamp: %s", clamps[i].what);
	}
}

static void test_utf8_clean(void)
{
	char *got;

	got = ams_provenance_utf8_clean("plain \xe4\xb8\xad");
	CHECK_STR_EQ("plain \xe4\xb8\xad", got);
	free(got);
	got = ams_provenance_utf8_clean("a\xff"
					"b\xc3");
	CHECK_STR_EQ("a\xef\xbf\xbd"
		     "b\xef\xbf\xbd",
		     got);
	free(got);
	got = ams_provenance_utf8_clean("");
	CHECK_STR_EQ("", got);
	free(got);
}

static const struct {
	const char *prefix;
	enum ams_code rc;
	const char *first_key;
} prefixes[] = {
	{ NULL, AMS_OK, "provenance:commit" },
	{ "", AMS_OK, "commit" },
	{ "amishare/", AMS_OK, "amishare/commit" },
	{ "build:", AMS_OK, "build:commit" },
	{ "aws", AMS_OK, "awscommit" },
	{ "\xe6\x9d\xa5\xe6\xba\x90:", AMS_OK,
	  "\xe6\x9d\xa5\xe6\xba\x90:commit" },
	{ "aws:", AMS_EUSAGE, NULL },
	{ "AWS:x/", AMS_EUSAGE, NULL },
	{ "Aws:", AMS_EUSAGE, NULL },
	{ "bad#", AMS_EUSAGE, NULL },
	{ "tab\t", AMS_EUSAGE, NULL },
	{ "mid\xc2\xb7", AMS_EUSAGE, NULL },
	{ "broken\xff", AMS_EUSAGE, NULL },
};

static void set_git(struct ams_provenance *p)
{
	p->git.state = AMS_GIT_OK;
	p->git.commit = xstrdup("0123456789abcdef0123456789abcdef01234567");
	p->git.short_commit = xstrdup("0123456");
	p->git.branch = xstrdup("main");
	p->git.remote_url = xstrdup("https://github.com/org/repo.git");
	p->git.dirty = AMS_GIT_CLEAN;
}

static void test_prefixes(void)
{
	struct ams_provenance prov;
	struct ams_provenance_tags tags = { NULL, 0 };
	struct ams_err err = AMS_ERR_INIT;
	size_t i;

	ams_provenance_init(&prov);
	set_git(&prov);
	ams_provenance_resolve(&prov);
	for (i = 0; i < ARRAY_SIZE(prefixes); i++) {
		TEST_BEGIN();
		ams_err_clear(&err);
		CHECK_INT_EQ(prefixes[i].rc,
			     ams_provenance_tags(&tags, &prov,
						 prefixes[i].prefix, &err));
		if (prefixes[i].first_key) {
			CHECK(tags.n > 0);
			CHECK_STR_EQ(prefixes[i].first_key,
				     tags.n ? tags.v[0].key : NULL);
		} else {
			CHECK_INT_EQ(0, tags.n);
			CHECK(strstr(err.msg, "tag prefix") != NULL);
		}
		ams_provenance_tags_release(&tags);
		TEST_END("prefix '%s'",
			 prefixes[i].prefix ? prefixes[i].prefix : "(default)");
	}
	ams_provenance_release(&prov);
}

static void test_prefix_length(void)
{
	struct ams_provenance prov;
	struct ams_provenance_tags tags = { NULL, 0 };
	struct ams_err err = AMS_ERR_INIT;
	char *ok = repeat("\xc3\xa9", 112, "");
	char *bad = repeat("x", 113, "");
	size_t i;

	ams_provenance_init(&prov);
	set_git(&prov);
	prov.packer.run_uuid = xstrdup("u");
	ams_provenance_resolve(&prov);
	/* 112 characters (224 bytes) + "packer-run-uuid" = 127. */
	CHECK_RC(AMS_OK, ams_provenance_tags(&tags, &prov, ok, &err), &err);
	for (i = 0; i < tags.n; i++)
		CHECK(utf8_chars(tags.v[i].key) <= AMS_TAG_KEY_MAX);
	CHECK_INT_EQ(127, utf8_chars(tags.v[tags.n - 1].key));
	ams_provenance_tags_release(&tags);
	CHECK_INT_EQ(AMS_EUSAGE, ams_provenance_tags(&tags, &prov, bad, &err));
	CHECK(strstr(err.msg, "exceed 127") != NULL);
	CHECK_INT_EQ(0, tags.n);
	ams_provenance_release(&prov);
	free(ok);
	free(bad);
}

static void check_tags(const struct ams_provenance_tags *t,
		       const char *const (*want)[2], size_t n)
{
	size_t i;

	CHECK_INT_EQ(n, t->n);
	for (i = 0; i < n && i < t->n; i++) {
		CHECK_STR_EQ(want[i][0], t->v[i].key);
		CHECK_STR_EQ(want[i][1], t->v[i].value);
	}
}

static void test_tag_set(void)
{
	static const char *const want[][2] = {
		{ "provenance:commit",
		  "0123456789abcdef0123456789abcdef01234567" },
		{ "provenance:commit-short", "0123456" },
		{ "provenance:branch", "feature/x_1" },
		{ "provenance:repository", "https://github.com/org/repo.git" },
		{ "provenance:dirty", "true" },
		{ "provenance:ci-run-url",
		  "https://github.com/org/repo/actions/runs/1/attempts/1" },
		{ "provenance:packer-run-uuid",
		  "6f1c2c52-0000-4000-8000-000000000001" },
		{ "provenance:build-name", "golden base" },
		{ "provenance:build-time", "2015-08-30T12:36:00Z" },
	};
	struct ams_provenance prov;
	struct ams_provenance_tags tags = { NULL, 0 };
	struct ams_err err = AMS_ERR_INIT;

	ams_provenance_init(&prov);
	set_git(&prov);
	free(prov.git.branch);
	prov.git.branch = xstrdup("feature/x#1");
	prov.git.dirty = AMS_GIT_DIRTY;
	prov.ci.system = AMS_CI_GITHUB;
	prov.ci.run_url =
	    xstrdup("https://github.com/org/repo/actions/runs/1/attempts/1");
	prov.packer.run_uuid = xstrdup("6f1c2c52-0000-4000-8000-000000000001");
	prov.packer.name = xstrdup("golden base");
	prov.packer.build_time = xstrdup("2015-08-30T12:36:00Z");
	ams_provenance_resolve(&prov);
	CHECK_RC(AMS_OK, ams_provenance_tags(&tags, &prov, NULL, &err), &err);
	check_tags(&tags, want, ARRAY_SIZE(want));
	ams_provenance_tags_release(&tags);
	CHECK(tags.v == NULL && tags.n == 0);
	ams_provenance_release(&prov);
}

static void test_tag_set_dirty_values(void)
{
	struct ams_provenance prov;
	struct ams_provenance_tags tags = { NULL, 0 };
	struct ams_err err = AMS_ERR_INIT;
	const char *dirty;
	size_t i;

	ams_provenance_init(&prov);
	set_git(&prov);
	prov.git.dirty = AMS_GIT_DIRTY_UNKNOWN;
	ams_provenance_resolve(&prov);
	CHECK_RC(AMS_OK, ams_provenance_tags(&tags, &prov, "p:", &err), &err);
	for (dirty = NULL, i = 0; i < tags.n; i++)
		if (!strcmp(tags.v[i].key, "p:dirty"))
			dirty = tags.v[i].value;
	CHECK_STR_EQ("unknown", dirty);
	ams_provenance_tags_release(&tags);
	prov.git.dirty = AMS_GIT_CLEAN;
	CHECK_RC(AMS_OK, ams_provenance_tags(&tags, &prov, "p:", &err), &err);
	for (dirty = NULL, i = 0; i < tags.n; i++)
		if (!strcmp(tags.v[i].key, "p:dirty"))
			dirty = tags.v[i].value;
	CHECK_STR_EQ("false", dirty);
	ams_provenance_tags_release(&tags);
	ams_provenance_release(&prov);
}

/* No repository: CI facts only, no dirty tag, short commit derived. */
static void test_tag_set_without_git(void)
{
	static const char *const want[][2] = {
		{ "provenance:commit",
		  "fedcba9876543210fedcba9876543210fedcba98" },
		{ "provenance:commit-short", "fedcba9" },
		{ "provenance:branch", "release" },
		{ "provenance:ci-run-url", "https://ci.example/job/7/" },
	};
	struct ams_provenance prov;
	struct ams_provenance_tags tags = { NULL, 0 };
	struct ams_err err = AMS_ERR_INIT;

	ams_provenance_init(&prov);
	prov.git.state = AMS_GIT_NO_REPO;
	prov.ci.system = AMS_CI_JENKINS;
	prov.ci.commit = xstrdup("fedcba9876543210fedcba9876543210fedcba98");
	prov.ci.branch = xstrdup("release");
	prov.ci.run_url = xstrdup("https://ci.example/job/7/");
	ams_provenance_resolve(&prov);
	CHECK_RC(AMS_OK, ams_provenance_tags(&tags, &prov, NULL, &err), &err);
	check_tags(&tags, want, ARRAY_SIZE(want));
	ams_provenance_tags_release(&tags);
	ams_provenance_release(&prov);
}

/* Long Unicode values are clamped to 256 characters, whole sequences. */
static void test_tag_set_long_unicode(void)
{
	struct ams_provenance prov;
	struct ams_provenance_tags tags = { NULL, 0 };
	struct ams_err err = AMS_ERR_INIT;
	size_t i;

	ams_provenance_init(&prov);
	set_git(&prov);
	free(prov.git.branch);
	prov.git.branch =
	    repeat("\xe5\x88\x86\xe6\x94\xaf\xf0\x9f\x8c\xb3", 200, "");
	prov.packer.name = repeat("\xce\xb2", 400, "");
	ams_provenance_resolve(&prov);
	CHECK_RC(AMS_OK, ams_provenance_tags(&tags, &prov, NULL, &err), &err);
	for (i = 0; i < tags.n; i++) {
		CHECK(utf8_chars(tags.v[i].value) >= 0);
		CHECK(utf8_chars(tags.v[i].value) <= AMS_TAG_VALUE_MAX);
	}
	CHECK_STR_EQ("provenance:branch", tags.v[2].key);
	CHECK_INT_EQ(256, utf8_chars(tags.v[2].value));
	/* Two letters then a '_' for the emoji, repeated. */
	CHECK(!strncmp(tags.v[2].value, "\xe5\x88\x86\xe6\x94\xaf_", 7));
	CHECK_STR_EQ("provenance:build-name", tags.v[tags.n - 1].key);
	CHECK_INT_EQ(512, strlen(tags.v[tags.n - 1].value));
	ams_provenance_tags_release(&tags);
	ams_provenance_release(&prov);
}

int main(void)
{
	test_char_allowed();
	test_clean();
	test_clamp();
	TEST(test_utf8_clean, "invalid UTF-8 becomes U+FFFD for JSON");
	test_prefixes();
	TEST(test_prefix_length, "keys never exceed 127 characters");
	TEST(test_tag_set, "the tag set: keys, order, cleaned values");
	TEST(test_tag_set_dirty_values, "dirty: true, false, unknown");
	TEST(test_tag_set_without_git, "without git: CI facts only");
	TEST(test_tag_set_long_unicode,
	     "long Unicode values are clamped between characters");
	return test_done();
}
