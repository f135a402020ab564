/*
 * URI module tests: percent-encoding (raw and canonical re-encoding), form
 * bodies as botocore writes them, decoding, endpoint URL parsing and the
 * Host header value SigV4 signs. Table-driven.
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "harness.h"
#include "uri.h"

static void test_encode(void)
{
	static const struct {
		const char *in;
		unsigned flags;
		const char *out;
	} rows[] = {
		{ "", 0, "" },
		{ "abcXYZ019", 0, "abcXYZ019" },
		{ "-._~", 0, "-._~" },
		{ "a b", 0, "a%20b" },
		{ "a+b", 0, "a%2Bb" },
		{ "%2B", 0, "%252B" },
		{ "100%", 0, "100%25" },
		{ "tag:Name", 0, "tag%3AName" },
		{ "golden*", 0, "golden%2A" },
		{ "/a/b", 0, "%2Fa%2Fb" },
		{ "/a/b", AMS_URI_KEEP_SLASH, "/a/b" },
		{ "/a b/c+d", AMS_URI_KEEP_SLASH, "/a%20b/c%2Bd" },
		{ "!#$&'()*,;=?@[]", 0,
		  "%21%23%24%26%27%28%29%2A%2C%3B%3D%3F%40"
		  "%5B%5D" },
		{ "\"<>\\^`{|}", 0, "%22%3C%3E%5C%5E%60%7B%7C%7D" },
		{ "\t\r\n\x7f", 0, "%09%0D%0A%7F" },
		{ "caf\xc3\xa9", 0, "caf%C3%A9" },
		{ "\xe2\x82\xac", 0, "%E2%82%AC" },
		{ "\xf0\x9f\x98\x80", 0, "%F0%9F%98%80" },
		{ "\xe1\x88\xb4", AMS_URI_KEEP_SLASH, "%E1%88%B4" },
	};
	struct ams_buf out = AMS_BUF_INIT;
	char byte[1];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		ams_buf_reset(&out);
		ams_uri_encode_str(&out, rows[i].in, rows[i].flags);
		CHECK_STR_EQ(rows[i].out, out.buf);
	}
	/* Every byte: unreserved ones stay, the rest are %XX uppercase. */
	for (i = 0; i < 256; i++) {
		char expect[4];
		int keep = (i >= 'A' && i <= 'Z') || (i >= 'a' && i <= 'z') ||
			   (i >= '0' && i <= '9') || i == '-' || i == '_' ||
			   i == '.' || i == '~';

		byte[0] = (char)i;
		ams_buf_reset(&out);
		ams_uri_encode(&out, byte, 1, 0);
		if (keep)
			snprintf(expect, sizeof(expect), "%c", (int)i);
		else
			snprintf(expect, sizeof(expect), "%%%02X", (unsigned)i);
		CHECK_STR_EQ(expect, out.buf);
	}
	/* Length-delimited: an embedded NUL is encoded, not a terminator. */
	ams_buf_reset(&out);
	ams_uri_encode(&out, "a\0b", 3, 0);
	CHECK_STR_EQ("a%00b", out.buf);
	/* Appends. */
	ams_uri_encode_str(&out, "/", AMS_URI_KEEP_SLASH);
	CHECK_STR_EQ("a%00b/", out.buf);
	ams_buf_release(&out);
}

static void test_reencode(void)
{
	static const struct {
		const char *in, *out;
	} rows[] = {
		{ "", "" },
		{ "plain-._~", "plain-._~" },
		{ "%2B", "%2B" },
		{ "%2b", "%2B" },
		{ "+", "%2B" },
		{ "a%20b", "a%20b" },
		{ "a b", "a%20b" },
		{ "%", "%25" },
		{ "%4", "%254" },
		{ "%g1", "%25g1" },
		{ "%%41", "%25%41" },
		{ "%e1%88%b4", "%E1%88%B4" },
		{ "\xe1\x88\xb4", "%E1%88%B4" },
		{ "%C3%BC\xc3\xbc", "%C3%BC%C3%BC" },
		{ "a=b&c", "a%3Db%26c" },
		{ "%41", "%41" },
	};
	struct ams_buf out = AMS_BUF_INIT, again = AMS_BUF_INIT;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		ams_buf_reset(&out);
		ams_uri_reencode(&out, rows[i].in, strlen(rows[i].in));
		CHECK_STR_EQ(rows[i].out, out.buf);
		/* No double encoding: canonical input is a fixed point. */
		ams_buf_reset(&again);
		ams_uri_reencode(&again, out.buf, out.len);
		CHECK_STR_EQ(out.buf, again.buf);
	}
	/* A '%' at the very end of a length-delimited slice is alone. */
	ams_buf_reset(&out);
	ams_uri_reencode(&out, "a%41", 2);
	CHECK_STR_EQ("a%25", out.buf);
	ams_buf_release(&out);
	ams_buf_release(&again);
}

static void test_form(void)
{
	struct ams_buf body = AMS_BUF_INIT;

	/* aws-behaviour.md 5.3: test vector A's body (247 bytes). */
	ams_uri_form_add(&body, "Action", "ModifyImageAttribute");
	ams_uri_form_add(&body, "Version", "2016-11-15");
	ams_uri_form_add(&body, "ImageId", "ami-0abcdef1234567890");
	ams_uri_form_add(&body, "LaunchPermission.Add.1.UserId",
			 "111122223333");
	ams_uri_form_add(&body, "LaunchPermission.Add.2.OrganizationalUnitArn",
			 "arn:aws:organizations::123456789012:ou/o-abcde12345/"
			 "ou-ab12-34cd56ef");
	CHECK_STR_EQ("Action=ModifyImageAttribute&Version=2016-11-15&ImageId="
		     "ami-0abcdef1234567890&LaunchPermission.Add.1.UserId="
		     "111122223333&LaunchPermission.Add.2."
		     "OrganizationalUnitArn=arn%3Aaws%3Aorganizations%3A%"
		     "3A123456789012%3Aou%2Fo-abcde12345%2Fou-ab12-34cd56ef",
		     body.buf);
	CHECK_INT_EQ(247, body.len);

	/* 5.7: vector B, with a space and an empty value (150 bytes). */
	ams_buf_reset(&body);
	ams_uri_form_add(&body, "Action", "CreateTags");
	ams_uri_form_add(&body, "Version", "2016-11-15");
	ams_uri_form_add(&body, "ResourceId.1", "ami-0abcdef1234567890");
	ams_uri_form_add(&body, "Tag.1.Key", "Name");
	ams_uri_form_add(&body, "Tag.1.Value", "golden base 2025-01");
	ams_uri_form_add(&body, "Tag.2.Key", "team");
	ams_uri_form_add(&body, "Tag.2.Value", "");
	CHECK_STR_EQ("Action=CreateTags&Version=2016-11-15&ResourceId.1=ami-"
		     "0abcdef1234567890&Tag.1.Key=Name&Tag.1.Value=golden%"
		     "20base%202025-01&Tag.2.Key=team&Tag.2.Value=",
		     body.buf);
	CHECK_INT_EQ(150, body.len);

	/* 9.1: vector C (254 bytes). */
	ams_buf_reset(&body);
	ams_uri_form_add(&body, "Action", "AssumeRole");
	ams_uri_form_add(&body, "Version", "2011-06-15");
	ams_uri_form_add(&body, "RoleArn",
			 "arn:aws:iam::444455556666:role/ami-publisher");
	ams_uri_form_add(&body, "RoleSessionName", "ci-build-42");
	ams_uri_form_add(&body, "DurationSeconds", "3600");
	ams_uri_form_add(&body, "ExternalId", "ext-123");
	ams_uri_form_add(&body, "Tags.member.1.Key", "project");
	ams_uri_form_add(&body, "Tags.member.1.Value", "ami");
	ams_uri_form_add(&body, "TransitiveTagKeys.member.1", "project");
	CHECK_INT_EQ(254, body.len);
	CHECK(strstr(body.buf, "RoleArn=arn%3Aaws%3Aiam%3A%3A444455556666%"
			       "3Arole%2Fami-publisher&") != NULL);

	/* Unicode, '+', '=' and '&' inside names and values. */
	ams_buf_reset(&body);
	ams_uri_form_add(&body, "Tag.1.Value", "caf\xc3\xa9 +=&\xe2\x82\xac");
	ams_uri_form_add(&body, "K=&", "v");
	CHECK_STR_EQ("Tag.1.Value=caf%C3%A9%20%2B%3D%26%E2%82%AC&K%3D%26=v",
		     body.buf);
	ams_buf_release(&body);
}

static void test_decode(void)
{
	static const struct {
		const char *in;
		unsigned flags;
		const char *out;
	} rows[] = {
		{ "", 0, "" },
		{ "%41%42c", 0, "ABc" },
		{ "a+b", 0, "a+b" },
		{ "a+b", AMS_URI_PLUS_SPACE, "a b" },
		{ "%2B", AMS_URI_PLUS_SPACE, "+" },
		{ "%2b%2F", 0, "+/" },
		{ "%e2%82%AC", 0, "\xe2\x82\xac" },
		{ "a%20b%252B", 0, "a b%2B" },
	};
	static const char *const bad[] = { "%", "a%4", "%zz", "%4g", "%%" };
	struct ams_buf out = AMS_BUF_INIT, enc = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;
	unsigned char raw[64];
	unsigned seed = 12345;
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		ams_buf_reset(&out);
		CHECK_RC(AMS_OK,
			 ams_uri_decode(&out, rows[i].in, strlen(rows[i].in),
					rows[i].flags, &err),
			 &err);
		CHECK_STR_EQ(rows[i].out, out.buf);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ams_buf_reset(&out);
		ams_err_clear(&err);
		CHECK_RC(AMS_EPARSE,
			 ams_uri_decode(&out, bad[i], strlen(bad[i]), 0, &err),
			 &err);
		CHECK(err.msg[0] != '\0');
	}
	ams_buf_reset(&out);
	CHECK_RC(AMS_OK, ams_uri_decode(&out, "%00x", 4, 0, &err), &err);
	CHECK(out.len == 2 && out.buf[0] == '\0' && out.buf[1] == 'x');
	/* Round trip of pseudo-random bytes (fixed seed, bounded loop). */
	for (i = 0; i < 200; i++) {
		size_t n = i % ARRAY_SIZE(raw);

		for (j = 0; j < n; j++) {
			seed = seed * 1103515245u + 12345u;
			raw[j] = (unsigned char)(seed >> 16);
		}
		ams_buf_reset(&enc);
		ams_buf_reset(&out);
		ams_uri_encode(&enc, (const char *)raw, n, i & 1);
		CHECK_RC(AMS_OK,
			 ams_uri_decode(&out, enc.buf, enc.len, 0, &err), &err);
		CHECK(out.len == n && !memcmp(out.buf, raw, n));
	}
	ams_buf_release(&out);
	ams_buf_release(&enc);
}

struct url_row {
	const char *url, *scheme, *host;
	int ipv6;
	unsigned port;
	int port_explicit;
	const char *path, *query, *host_header;
};

static const struct url_row url_rows[] = {
	{ "https://ec2.us-east-1.amazonaws.com", "https",
	  "ec2.us-east-1.amazonaws.com", 0, 443, 0, "", NULL,
	  "ec2.us-east-1.amazonaws.com" },
	{ "http://127.0.0.1:4566/prefix", "http", "127.0.0.1", 0, 4566, 1,
	  "/prefix", NULL, "127.0.0.1:4566" },
	{ "HTTPS://EC2.US-East-1.AmazonAWS.com:443/", "https",
	  "ec2.us-east-1.amazonaws.com", 0, 443, 1, "/", NULL,
	  "ec2.us-east-1.amazonaws.com" },
	{ "http://localhost:80", "http", "localhost", 0, 80, 1, "", NULL,
	  "localhost" },
	{ "http://localhost:443", "http", "localhost", 0, 443, 1, "", NULL,
	  "localhost:443" },
	{ "https://localhost:80", "https", "localhost", 0, 80, 1, "", NULL,
	  "localhost:80" },
	{ "https://host:00443", "https", "host", 0, 443, 1, "", NULL, "host" },
	{ "http://[::1]:4566/x?y=1#frag", "http", "::1", 1, 4566, 1, "/x",
	  "y=1", "[::1]:4566" },
	{ "http://[FD00:EC2::254]", "http", "fd00:ec2::254", 1, 80, 0, "", NULL,
	  "[fd00:ec2::254]" },
	{ "http://[::ffff:127.0.0.1]:80/", "http", "::ffff:127.0.0.1", 1, 80, 1,
	  "/", NULL, "[::ffff:127.0.0.1]" },
	{ "https://user:pass@host.example:8443/p", "https", "host.example", 0,
	  8443, 1, "/p", NULL, "host.example:8443" },
	{ "https://a@b@host", "https", "host", 0, 443, 0, "", NULL, "host" },
	{ "https://host?x", "https", "host", 0, 443, 0, "", "x", "host" },
	{ "https://host/?", "https", "host", 0, 443, 0, "/", "", "host" },
	{ "https://host#f?x", "https", "host", 0, 443, 0, "", NULL, "host" },
	{ "http://host:", "http", "host", 0, 80, 0, "", NULL, "host" },
	{ "http://[::1]:", "http", "::1", 1, 80, 0, "", NULL, "[::1]" },
	{ "https://host/a%20b/../c?c=%2B&d", "https", "host", 0, 443, 0,
	  "/a%20b/../c", "c=%2B&d", "host" },
	{ "https://my_host.local~:65535", "https", "my_host.local~", 0, 65535,
	  1, "", NULL, "my_host.local~:65535" },
	{ "http://sts.us-gov-west-1.amazonaws.com:8080/a/b/", "http",
	  "sts.us-gov-west-1.amazonaws.com", 0, 8080, 1, "/a/b/", NULL,
	  "sts.us-gov-west-1.amazonaws.com:8080" },
};

static void test_parse(void)
{
	struct ams_buf hh = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(url_rows); i++) {
		const struct url_row *r = &url_rows[i];
		struct ams_uri u;

		CHECK_RC(AMS_OK, ams_uri_parse(&u, r->url, &err), &err);
		if (!u.scheme) {
			printf("#   url %s\n", r->url);
			continue;
		}
		CHECK_STR_EQ(r->scheme, u.scheme);
		CHECK_STR_EQ(r->host, u.host);
		CHECK_INT_EQ(r->ipv6, u.ipv6);
		CHECK_INT_EQ(r->port, u.port);
		CHECK_INT_EQ(r->port_explicit, u.port_explicit);
		CHECK_STR_EQ(r->path, u.path);
		if (r->query)
			CHECK_STR_EQ(r->query, u.query);
		else
			CHECK(u.query == NULL);
		ams_buf_reset(&hh);
		ams_uri_host_header(&hh, &u);
		CHECK_STR_EQ(r->host_header, hh.buf);
		ams_uri_release(&u);
		CHECK(u.scheme == NULL && u.host == NULL && u.path == NULL);
	}
	ams_uri_release(NULL);
	ams_buf_release(&hh);
}

static void test_parse_errors(void)
{
	static const char *const bad[] = {
		"ftp://host",
		"ec2.amazonaws.com",
		"https://",
		"https://:443",
		"https://host:0",
		"https://host:65536",
		"https://host:123456",
		"https://host:abc",
		"https://host:-1",
		"https://ho st",
		"https://host/pa th",
		"http://[::1",
		"http://[zz::1]",
		"http://[]",
		"http://[1.2.3.4]",
		"http://[::1]x",
		"http://ho%73t",
		"https://user:pw@",
		"https://user:pw@/path",
		"https://h\x01",
		"https://h\xc3\xa9",
		"https://host\t",
		"https://host:44 3",
		"://host",
	};
	static const char *const secretive[] = {
		"ftp://user:supersecret@host",
		"https://user:supersecret@host:99999",
		"https://user:supersecret@ho~st%",
		"user:supersecret@ftp://host",
	};
	struct ams_err err = AMS_ERR_INIT;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct ams_uri u;
		enum ams_code rc;

		ams_err_clear(&err);
		rc = ams_uri_parse(&u, bad[i], &err);
		if (rc != AMS_EUSAGE)
			printf("#   accepted '%s'\n", bad[i]);
		CHECK_INT_EQ(AMS_EUSAGE, rc);
		CHECK(err.msg[0] != '\0');
		CHECK(u.scheme == NULL && u.host == NULL && u.path == NULL &&
		      u.query == NULL);
		ams_uri_release(&u);
	}
	for (i = 0; i < ARRAY_SIZE(secretive); i++) {
		struct ams_uri u;

		ams_err_clear(&err);
		CHECK_RC(AMS_EUSAGE, ams_uri_parse(&u, secretive[i], &err),
			 &err);
		CHECK(strstr(err.msg, "supersecret") == NULL);
		if (strstr(err.msg, "supersecret"))
			printf("#   leaked: %s\n", err.msg);
	}
	ams_err_clear(&err);
	{
		struct ams_uri u;

		CHECK_RC(AMS_EUSAGE, ams_uri_parse(&u, NULL, &err), &err);
	}
}

int main(void)
{
	TEST(test_encode, "encode: unreserved kept, %XX uppercase, bytes");
	TEST(test_reencode, "re-encode: canonical escapes, no double encoding");
	TEST(test_form, "form bodies as botocore writes them (vectors A-C)");
	TEST(test_decode, "decode: escapes, '+', errors, round trip");
	TEST(test_parse, "URL parsing and the SigV4 Host header");
	TEST(test_parse_errors, "URL errors, userinfo never echoed");
	return test_done();
}
