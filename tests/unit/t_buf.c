/*
 * Unit tests for buffers, string views, errors, clocks and log redaction.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "clock.h"
#include "err.h"
#include "harness.h"
#include "log.h"

static void test_buf_init_is_empty_string(void)
{
	struct ams_buf sb = AMS_BUF_INIT;

	CHECK(sb.buf != NULL);
	CHECK_STR_EQ("", sb.buf);
	ams_buf_release(&sb);
	CHECK_STR_EQ("", sb.buf);
}

static void test_buf_appends_and_grows(void)
{
	struct ams_buf sb = AMS_BUF_INIT;
	int i;

	for (i = 0; i < 1000; i++)
		ams_buf_addch(&sb, 'a' + i % 26);
	CHECK_INT_EQ(1000, sb.len);
	CHECK(sb.buf[1000] == '\0');
	ams_buf_reset(&sb);
	ams_buf_addf(&sb, "%s-%d-%05.1f", "x", 42, 3.25);
	CHECK_STR_EQ("x-42-003.2", sb.buf);
	ams_buf_add(&sb, "\0z", 2);
	CHECK_INT_EQ(12, sb.len);
	ams_buf_release(&sb);
}

static void test_buf_addf_long(void)
{
	struct ams_buf sb = AMS_BUF_INIT;
	char big[5000];

	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ams_buf_addstr(&sb, "<");
	ams_buf_addf(&sb, "%s>", big);
	CHECK_INT_EQ(5001, sb.len);
	CHECK(sb.buf[0] == '<' && sb.buf[5000] == '>');
	ams_buf_release(&sb);
}

static void test_buf_detach(void)
{
	struct ams_buf sb = AMS_BUF_INIT;
	size_t len;
	char *p;

	p = ams_buf_detach(&sb, &len);
	CHECK_STR_EQ("", p);
	CHECK_INT_EQ(0, len);
	free(p);
	ams_buf_addstr(&sb, "hello");
	p = ams_buf_detach(&sb, &len);
	CHECK_STR_EQ("hello", p);
	CHECK_INT_EQ(5, len);
	CHECK_STR_EQ("", sb.buf);
	free(p);
}

static void test_buf_hex_and_json(void)
{
	struct ams_buf sb = AMS_BUF_INIT;
	const unsigned char bytes[] = { 0x00, 0x7f, 0xff, 0x10 };

	ams_buf_addhex(&sb, bytes, sizeof(bytes));
	CHECK_STR_EQ("007fff10", sb.buf);
	ams_buf_reset(&sb);
	ams_buf_add_json_str(&sb, "a\"b\\c\nd\x01 \xc3\xa9");
	CHECK_STR_EQ("\"a\\\"b\\\\c\\nd\\u0001 \xc3\xa9\"", sb.buf);
	ams_buf_release(&sb);
}

/* JSON text is UTF-8: malformed sequences become U+FFFD, valid ones stay. */
static void test_buf_json_utf8(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "caf\xc3\xa9", "\"caf\xc3\xa9\"" },
		{ "\xe2\x82\xac\xf0\x9f\x98\x80",
		  "\"\xe2\x82\xac\xf0\x9f\x98\x80\"" },
		{ "\xff", "\"\\ufffd\"" },
		{ "a\x80"
		  "b",
		  "\"a\\ufffdb\"" },
		{ "\xc3", "\"\\ufffd\"" },	      /* truncated */
		{ "\xc3(", "\"\\ufffd(\"" },	      /* bad continuation */
		{ "\xc0\xaf", "\"\\ufffd\\ufffd\"" }, /* overlong '/' */
		{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" }, /* surrogate */
		{ "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
		{ "\xf0\x9f\x98", "\"\\ufffd\\ufffd\\ufffd\"" },
		{ "\x1b[31m", "\"\\u001b[31m\"" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ams_buf sb = AMS_BUF_INIT;

		ams_buf_add_json_str(&sb, cases[i].in);
		CHECK_STR_EQ(cases[i].want, sb.buf);
		ams_buf_release(&sb);
	}
}

static void test_str_split_and_trim(void)
{
	struct ams_str rest = ams_str_from("a,, b ,c");
	struct ams_str f;
	const char *want[] = { "a", "", "b", "c" };
	int n = 0;

	while (rest.ptr) {
		f = ams_str_trim(ams_str_split(&rest, ','));
		if (n < 4)
			CHECK(ams_str_eq(f, want[n]));
		n++;
	}
	CHECK_INT_EQ(4, n);
	CHECK(ams_str_starts_with(ams_str_from("ami-123"), "ami-"));
	CHECK(!ams_str_starts_with(ams_str_from("am"), "ami-"));
}

static void test_str_to_u64(void)
{
	unsigned long long v = 0;

	CHECK(
	    ams_str_to_u64(ams_str_from("123456789012"), 999999999999ULL, &v));
	CHECK(v == 123456789012ULL);
	CHECK(!ams_str_to_u64(ams_str_from("1000"), 999, &v));
	CHECK(!ams_str_to_u64(ams_str_from("-1"), 999, &v));
	CHECK(!ams_str_to_u64(ams_str_from(" 1"), 999, &v));
	CHECK(!ams_str_to_u64(ams_str_from(""), 999, &v));
	CHECK(!ams_str_to_u64(ams_str_from("99999999999999999999999"), ~0ULL,
			      &v));
}

static void test_err_first_wins(void)
{
	struct ams_err err = AMS_ERR_INIT;

	CHECK_INT_EQ(AMS_EPARSE,
		     ams_fail(&err, AMS_EPARSE, "bad '%s'\nline", "x"));
	ams_fail(&err, AMS_EIO, "second");
	CHECK_INT_EQ(AMS_EPARSE, err.code);
	CHECK_STR_EQ("bad 'x' line", err.msg);
	ams_err_prefix(&err, "manifest '%s'", "m.json");
	CHECK_STR_EQ("manifest 'm.json': bad 'x' line", err.msg);
	ams_err_clear(&err);
	ams_fail_aws(&err, 503, "RequestLimitExceeded", "req-1", "slow down");
	CHECK_INT_EQ(AMS_EAWS, err.code);
	CHECK_INT_EQ(503, err.http_status);
	CHECK_STR_EQ("RequestLimitExceeded", err.aws_code);
	CHECK_STR_EQ("req-1", err.request_id);
	CHECK_STR_EQ("aws", ams_code_name(err.code));
	/* A message from an endpoint cannot drive the terminal. */
	ams_err_clear(&err);
	ams_fail_aws(&err, 400, "Bad\x1b[2J", "r\x07",
		     "a\x1b]0;x\x07"
		     "b\tc\x7f");
	CHECK_STR_EQ("a ]0;x b c ", err.msg);
	CHECK_STR_EQ("Bad [2J", err.aws_code);
	CHECK_STR_EQ("r ", err.request_id);
	ams_err_clear(&err);
	ams_fail(&err, AMS_EHTTP, "%s", "x\x1b[31my\x01");
	CHECK_STR_EQ("x [31my ", err.msg);
}

static void test_clock_formats(void)
{
	char amz[17], iso[21];
	time_t t = 0;

	CHECK(ams_clock_parse_iso8601("20150830T123600Z", &t));
	CHECK_INT_EQ(1440938160, t);
	ams_clock_amz_date(amz, t);
	CHECK_STR_EQ("20150830T123600Z", amz);
	ams_clock_iso8601(iso, t);
	CHECK_STR_EQ("2015-08-30T12:36:00Z", iso);
	CHECK(ams_clock_parse_iso8601("2015-08-30T12:36:00.123Z", &t));
	CHECK_INT_EQ(1440938160, t);
	CHECK(ams_clock_parse_iso8601("2000-02-29T00:00:00+00:00", &t));
	CHECK_INT_EQ(951782400, t);
	CHECK(!ams_clock_parse_iso8601("2015-08-30 12:36", &t));
	CHECK(!ams_clock_parse_iso8601("2015-13-30T12:36:00Z", &t));
	CHECK(!ams_clock_parse_iso8601("2015-08-30T12:36:00+02:00", &t));
}

static void test_log_redacts_secrets(void)
{
	struct ams_buf sb = AMS_BUF_INIT;
	FILE *f = tmpfile();
	char line[256] = "";

	ams_log_add_secret("wJalrXUtnFEMI/K7MDENG");
	ams_log_add_secret("abc"); /* too short: ignored */
	ams_buf_addstr(&sb, "key=wJalrXUtnFEMI/K7MDENG abc");
	ams_redact(&sb);
	CHECK_STR_EQ("key=[redacted] abc", sb.buf);
	ams_log_set_stream(f);
	ams_log_error("x %s\ny", "wJalrXUtnFEMI/K7MDENG");
	rewind(f);
	CHECK(fgets(line, sizeof(line), f) != NULL);
	CHECK_STR_EQ("amishare: error: x [redacted] y\n", line);
	fseek(f, 0, SEEK_END);
	ams_log_error("tag %s", "\x1b[2Jv\x07\tw\r");
	rewind(f);
	CHECK(fgets(line, sizeof(line), f) != NULL);
	CHECK(fgets(line, sizeof(line), f) != NULL);
	CHECK_STR_EQ("amishare: error: tag  [2Jv  w \n", line);
	ams_log_set_stream(NULL);
	fclose(f);
	ams_log_forget_secrets();
	ams_buf_release(&sb);
}

/* Naive oracle: every occurrence of every secret, leftmost-longest. */
static void redact_oracle(struct ams_buf *out, const char *text,
			  char (*sec)[24], size_t n)
{
	size_t i = 0, k, best, len = strlen(text);

	while (i < len) {
		best = 0;
		for (k = 0; k < n; k++) {
			size_t l = strlen(sec[k]);

			if (l > best && l <= len - i &&
			    !memcmp(text + i, sec[k], l))
				best = l;
		}
		if (best) {
			ams_buf_addstr(out, "[redacted]");
			i += best;
		} else {
			ams_buf_addch(out, text[i++]);
		}
	}
}

static void test_redact_many_secrets(void)
{
	enum { NSEC = 3000, NTEXT = 300 };
	static char sec[NSEC][24];
	struct ams_buf text = AMS_BUF_INIT, want = AMS_BUF_INIT;
	unsigned seed = 12345;
	size_t i, k, bad = 0, pieces;

	for (i = 0; i < NSEC; i++) {
		size_t l = 4 + (i % 19);

		for (k = 0; k < l; k++) {
			seed = seed * 1103515245u + 12345u;
			sec[i][k] = "abcdefgh"[(seed >> 16) % 8];
		}
		sec[i][l] = '\0';
		ams_log_add_secret(sec[i]);
		ams_log_add_secret(sec[i]); /* again: kept once */
	}
	for (i = 0; i < NTEXT; i++) {
		ams_buf_reset(&text);
		ams_buf_reset(&want);
		seed = seed * 1103515245u + 12345u;
		pieces = (seed >> 16) % 6;
		for (k = 0; k < pieces; k++) {
			seed = seed * 1103515245u + 12345u;
			ams_buf_addstr(&text, (seed >> 20) & 1 ? "xyz" : "a ");
			ams_buf_addstr(&text, sec[(seed >> 8) % NSEC]);
		}
		redact_oracle(&want, text.buf, sec, NSEC);
		ams_redact(&text);
		if (strcmp(text.buf, want.buf))
			bad++;
		for (k = 0; k < NSEC; k++)
			if (strstr(text.buf, sec[k]))
				bad++;
	}
	CHECK_INT_EQ(0, (long long)bad);
	ams_log_forget_secrets();
	ams_buf_reset(&text);
	ams_log_add_secret("tokenABCD");
	ams_log_add_secret("tokenABCDEFGH");
	ams_buf_addstr(&text, "tokenABCDEFGHtokenABCDtokenABC");
	ams_redact(&text);
	CHECK_STR_EQ("[redacted][redacted]tokenABC", text.buf);
	ams_log_forget_secrets();
	ams_buf_release(&text);
	ams_buf_release(&want);
}

int main(void)
{
	TEST(test_buf_init_is_empty_string, "buf: initialised buffer is \"\"");
	TEST(test_buf_appends_and_grows,
	     "buf: appends grow and stay NUL-terminated");
	TEST(test_buf_addf_long, "buf: addf longer than the allocation");
	TEST(test_buf_detach, "buf: detach hands over the memory");
	TEST(test_buf_hex_and_json, "buf: hex and JSON string escaping");
	TEST(test_buf_json_utf8, "buf: JSON strings are always valid UTF-8");
	TEST(test_redact_many_secrets,
	     "log: thousands of secrets, leftmost-longest, against an oracle");
	TEST(test_str_split_and_trim, "str: split and trim");
	TEST(test_str_to_u64, "str: strict decimal parsing");
	TEST(test_err_first_wins, "err: first error wins, one line");
	TEST(test_clock_formats, "clock: formats and ISO 8601 parsing");
	TEST(test_log_redacts_secrets, "log: secrets are redacted");
	return test_done();
}
