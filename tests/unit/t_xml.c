/*
 * XML reading: paths that ignore namespaces, iteration, typed getters,
 * parse errors, and hostile documents (external entities, entity bombs,
 * document type declarations, XInclude, oversized and non-UTF-8 input).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "harness.h"
#include "xml.h"

#include "../lib/test_fixture.h"

static struct ams_xml_doc *parse_fixture(const char *rel)
{
	struct ams_buf sb = AMS_BUF_INIT;
	struct ams_xml_doc *doc = NULL;
	struct ams_err err = AMS_ERR_INIT;

	if (!test_fixture_read(&sb, rel))
		CHECK_RC(AMS_OK, ams_xml_parse(&doc, sb.buf, sb.len, &err),
			 &err);
	ams_buf_release(&sb);
	return doc;
}

static void test_describe_images(void)
{
	struct ams_xml_doc *doc = parse_fixture("xml/describe-images.xml");
	const struct ams_xml_node *root, *img, *n;
	struct ams_err err = AMS_ERR_INIT;
	char *s = NULL;
	uint64_t u = 0;
	bool b = false;
	time_t t = 0;
	int tags = 0;
	static char untouched[] = "untouched";

	CHECK(doc != NULL);
	if (!doc)
		return;
	root = ams_xml_root(doc);
	CHECK_STR_EQ("DescribeImagesResponse", ams_xml_name(root));
	CHECK_INT_EQ(1, ams_xml_count(root, "imagesSet/item"));
	img = ams_xml_first(root, "imagesSet/item");
	CHECK(img != NULL);
	CHECK_RC(AMS_OK, ams_xml_get_str(&s, img, "imageId", &err), &err);
	CHECK_STR_EQ("ami-0abcdef1234567890", s);
	free(s);
	CHECK_RC(AMS_OK,
		 ams_xml_get_u64(
		     &u, img, "blockDeviceMapping/item/ebs/volumeSize", &err),
		 &err);
	CHECK_INT_EQ(8, u);
	CHECK_RC(AMS_OK,
		 ams_xml_get_bool(
		     &b, img, "blockDeviceMapping/item/ebs/encrypted", &err),
		 &err);
	CHECK(b);
	CHECK_RC(AMS_OK, ams_xml_get_bool(&b, img, "isPublic", &err), &err);
	CHECK(!b);
	CHECK_RC(AMS_OK, ams_xml_get_time(&t, img, "creationDate", &err), &err);
	CHECK_INT_EQ(1736942283, t); /* 2025-01-15T11:58:03.000Z */
	for (n = ams_xml_first(img, "tagSet/item"); n; n = ams_xml_next(n)) {
		tags++;
		if (tags == 2) {
			CHECK(ams_xml_text_eq(n, "key", "team"));
			CHECK_RC(AMS_OK, ams_xml_get_str(&s, n, "value", &err),
				 &err);
			CHECK_STR_EQ("", s); /* empty element, not missing */
			free(s);
		}
	}
	CHECK_INT_EQ(2, tags);
	/* absent: _opt leaves the output alone, the plain form fails */
	s = untouched;
	CHECK_RC(AMS_OK, ams_xml_get_str_opt(&s, root, "nextToken", &err),
		 &err);
	CHECK(s == NULL);
	u = 77;
	CHECK_RC(AMS_OK, ams_xml_get_u64_opt(&u, img, "noSuch", &err), &err);
	CHECK_INT_EQ(77, u);
	CHECK_RC(AMS_EPARSE, ams_xml_get_str(&s, img, "kernelId", &err), &err);
	CHECK_STR_EQ("kernelId: missing", err.msg);
	ams_err_clear(&err);
	CHECK_RC(AMS_EPARSE, ams_xml_get_u64(&u, img, "imageId", &err), &err);
	CHECK(strstr(err.msg, "imageId: expected an unsigned integer") != NULL);
	ams_err_clear(&err);
	CHECK_RC(AMS_EPARSE, ams_xml_get_bool(&b, img, "name", &err), &err);
	ams_err_clear(&err);
	CHECK_RC(AMS_EPARSE, ams_xml_get_time(&t, img, "name", &err), &err);
	CHECK(ams_xml_find(root, "") == root);
	CHECK(ams_xml_find(root, "imagesSet/nothing") == NULL);
	CHECK(ams_xml_find(root, "nothing/item") == NULL);
	ams_xml_free(doc);
}

static void test_assume_role(void)
{
	struct ams_xml_doc *doc = parse_fixture("xml/assume-role.xml");
	const struct ams_xml_node *root;
	struct ams_err err = AMS_ERR_INIT;
	char *s = NULL;
	time_t t;

	CHECK(doc != NULL);
	if (!doc)
		return;
	root = ams_xml_root(doc);
	CHECK_RC(AMS_OK,
		 ams_xml_get_str(&s, root,
				 "AssumeRoleResult/Credentials/AccessKeyId",
				 &err),
		 &err);
	CHECK_STR_EQ("ASIAIOSFODNN7EXAMPLE", s);
	free(s);
	CHECK_RC(AMS_OK,
		 ams_xml_get_time(
		     &t, root, "AssumeRoleResult/Credentials/Expiration", &err),
		 &err);
	CHECK_INT_EQ(1573306481, t);
	/* text is returned exactly; callers trim where AWS pads */
	CHECK_RC(AMS_OK,
		 ams_xml_get_str(&s, root,
				 "AssumeRoleResult/Credentials/SessionToken",
				 &err),
		 &err);
	CHECK(s && s[0] == '\n' && strstr(s, "AQoDYXdzEPT") != NULL);
	free(s);
	CHECK(ams_xml_text_eq(root, "ResponseMetadata/RequestId",
			      "c6104cbe-af31-11e0-8154-cbc7ccf896c7"));
	ams_xml_free(doc);
}

static void test_namespaces_and_entities(void)
{
	static const char doc_text[] =
	    "<?xml version=\"1.0\"?>\n<!-- c --><?pi x?>"
	    "<a:R xmlns:a=\"urn:a\" xmlns=\"urn:d\"><a:x>1 &amp; 2 &lt;3&gt;"
	    "&#65;</a:x><y><![CDATA[<raw>]]></y><y>second</y></a:R>";
	struct ams_xml_doc *doc = NULL;
	struct ams_err err = AMS_ERR_INIT;
	struct ams_buf sb = AMS_BUF_INIT;
	const struct ams_xml_node *root;

	CHECK_RC(AMS_OK, ams_xml_parse(&doc, doc_text, strlen(doc_text), &err),
		 &err);
	if (!doc)
		return;
	root = ams_xml_root(doc);
	CHECK_STR_EQ("R", ams_xml_name(root));
	ams_xml_text(&sb, ams_xml_find(root, "x"));
	CHECK_STR_EQ("1 & 2 <3>A", sb.buf);
	ams_buf_reset(&sb);
	ams_xml_text(&sb, ams_xml_find(root, "y"));
	CHECK_STR_EQ("<raw>", sb.buf);
	CHECK_INT_EQ(2, ams_xml_count(root, "y"));
	CHECK_INT_EQ(0, ams_xml_count(root, "z"));
	ams_buf_release(&sb);
	ams_xml_free(doc);
}

/*
 * Indentation between elements is dropped while parsing, but text that
 * is all blanks is data when it is an element's whole content: a tag
 * value may be " " or a line break.
 */
static void test_blank_values_kept(void)
{
	static const char doc_text[] =
	    "<R>\n  <tagSet>\n    <item>\n      <key>a</key>\n"
	    "      <value>   </value>\n    </item>\n    <item>\n"
	    "      <key>b</key>\n      <value>\n</value>\n    </item>\n"
	    "    <item><key>c</key><value></value></item>\n"
	    "    <item><key>d</key><value>  x  </value></item>\n"
	    "    <item><key>e</key><value> &#32;\t</value></item>\n"
	    "  </tagSet>\n</R>\n";
	static const char *const want[] = { "   ", "\n", "", "  x  ", "  \t" };
	struct ams_xml_doc *doc = NULL;
	struct ams_err err = AMS_ERR_INIT;
	struct ams_buf sb = AMS_BUF_INIT;
	const struct ams_xml_node *item;
	size_t i = 0;

	CHECK_RC(AMS_OK, ams_xml_parse(&doc, doc_text, strlen(doc_text), &err),
		 &err);
	if (!doc)
		return;
	for (item = ams_xml_find(ams_xml_root(doc), "tagSet/item"); item;
	     item = ams_xml_next(item), i++) {
		ams_buf_reset(&sb);
		ams_xml_text(&sb, ams_xml_find(item, "value"));
		CHECK(i < ARRAY_SIZE(want) && !strcmp(want[i], sb.buf));
	}
	CHECK_INT_EQ(5, (long long)i);
	ams_buf_release(&sb);
	ams_xml_free(doc);
}

static void test_malformed(void)
{
	static const char *const bad[] = {
		"",    "not xml",	 "<a><b></a>",
		"<a>", "<a></a><b></b>", "<a x='1' x='2'/>",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct ams_xml_doc *doc = (struct ams_xml_doc *)1;
		struct ams_err err = AMS_ERR_INIT;

		CHECK_RC(AMS_EPARSE,
			 ams_xml_parse(&doc, bad[i], strlen(bad[i]), &err),
			 &err);
		CHECK(doc == NULL);
		CHECK(!strncmp(err.msg, "xml: ", 5));
	}
	{
		struct ams_xml_doc *doc = NULL;
		struct ams_err err = AMS_ERR_INIT;
		const char *s = "<a>\n<b>\n</c></a>";

		ams_xml_parse(&doc, s, strlen(s), &err);
		CHECK(strstr(err.msg, "at line 3") != NULL);
	}
}

struct hostile_case {
	const char *name;
	const char *text; /* @: the path of a file holding the marker */
	enum ams_code rc;
};

static void test_hostile(void)
{
	static const struct hostile_case cases[] = {
		{ "external entity (XXE)",
		  "<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "
		  "\"file://@\">]>\n<r>&x;</r>",
		  AMS_EPARSE },
		{ "external parameter entity",
		  "<!DOCTYPE r [<!ENTITY % p SYSTEM \"file://@\"> %p;]><r/>",
		  AMS_EPARSE },
		{ "external DTD",
		  "<?xml version=\"1.0\"?><!DOCTYPE r SYSTEM \"file://@\">"
		  "<r/>",
		  AMS_EPARSE },
		{ "doctype after a comment and PI",
		  "\xef\xbb\xbf<?xml version=\"1.0\"?><!-- x --><?p?>\n"
		  "<!DOCTYPE r [<!ENTITY x SYSTEM \"file://@\">]><r>&x;</r>",
		  AMS_EPARSE },
		{ "encoding label cannot hide a doctype",
		  "<?xml version=\"1.0\" encoding=\"UTF-16\"?><!DOCTYPE r ["
		  "<!ENTITY x SYSTEM \"file://@\">]><r>&x;</r>",
		  AMS_EPARSE },
		{ "XInclude is not processed",
		  "<r xmlns:xi=\"http://www.w3.org/2001/XInclude\">"
		  "<xi:include href=\"file://@\" parse=\"text\"/></r>",
		  AMS_OK },
		{ "undeclared entity", "<r>&x;@</r>", AMS_EPARSE },
	};
	char path[] = "/tmp/ams-xxe-XXXXXX";
	int fd = mkstemp(path);
	size_t i;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(write(fd, "TOPSECRET-MARKER", 16) == 16);
	close(fd);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ams_xml_doc *doc = NULL;
		struct ams_err err = AMS_ERR_INIT;
		struct ams_buf text = AMS_BUF_INIT, all = AMS_BUF_INIT;
		const char *p;

		TEST_BEGIN();
		for (p = cases[i].text; *p; p++)
			if (*p == '@')
				ams_buf_addstr(&text, path);
			else
				ams_buf_addch(&text, *p);
		CHECK_RC(cases[i].rc,
			 ams_xml_parse(&doc, text.buf, text.len, &err), &err);
		CHECK(!strstr(err.msg, "TOPSECRET"));
		if (doc) {
			ams_xml_text(&all, ams_xml_root(doc));
			CHECK(!strstr(all.buf, "TOPSECRET"));
		}
		if (cases[i].rc == AMS_EPARSE &&
		    strstr(cases[i].text, "DOCTYPE"))
			CHECK_STR_EQ("xml: document type declarations are "
				     "not accepted",
				     err.msg);
		ams_xml_free(doc);
		ams_buf_release(&text);
		ams_buf_release(&all);
		TEST_END("hostile xml: %s", cases[i].name);
	}
	unlink(path);
}

/*
 * No document makes the parser reach the network: references to a local
 * listener ('#' stands for its port) by an external entity, an external
 * DTD, XInclude or a schema location leave its accept queue empty.
 */
static void test_no_network(void)
{
	static const char *const docs[] = {
		"<!DOCTYPE r [<!ENTITY x SYSTEM \"http://127.0.0.1:#/e\">]>"
		"<r>&x;</r>",
		"<!DOCTYPE r SYSTEM \"http://127.0.0.1:#/dtd\"><r/>",
		"<!DOCTYPE r [<!ENTITY % p SYSTEM \"http://127.0.0.1:#/p\"> "
		"%p;]><r/>",
		"<r xmlns:xi=\"http://www.w3.org/2001/XInclude\"><xi:include "
		"href=\"http://127.0.0.1:#/xi\" parse=\"text\"/></r>",
		"<r xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
		"xsi:schemaLocation=\"u http://127.0.0.1:#/xsd\"/>",
	};
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int lfd = socket(AF_INET, SOCK_STREAM, 0), port;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(lfd, 8) || getsockname(lfd, (struct sockaddr *)&sa, &len) ||
	    fcntl(lfd, F_SETFL, O_NONBLOCK)) {
		CHECK(!"a listening socket on 127.0.0.1");
		if (lfd >= 0)
			close(lfd);
		return;
	}
	port = ntohs(sa.sin_port);
	for (i = 0; i < ARRAY_SIZE(docs); i++) {
		struct ams_xml_doc *doc = NULL;
		struct ams_err err = AMS_ERR_INIT;
		struct ams_buf sb = AMS_BUF_INIT;
		const char *p;
		int cfd;

		for (p = docs[i]; *p; p++)
			if (*p == '#')
				ams_buf_addf(&sb, "%d", port);
			else
				ams_buf_addch(&sb, *p);
		(void)ams_xml_parse(&doc, sb.buf, sb.len, &err);
		ams_xml_free(doc);
		cfd = accept(lfd, NULL, NULL);
		CHECK(cfd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
		if (cfd >= 0) {
			printf("#   document %zu reached the network\n", i);
			close(cfd);
		}
		ams_buf_release(&sb);
	}
	close(lfd);
}

static void test_billion_laughs(void)
{
	struct ams_buf sb = AMS_BUF_INIT;
	struct ams_xml_doc *doc = NULL;
	struct ams_err err = AMS_ERR_INIT;
	uint64_t t0;
	int i;

	ams_buf_addstr(&sb, "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n"
			    "<!ENTITY lol \"lol\">\n");
	for (i = 1; i <= 9; i++) {
		int j;

		ams_buf_addf(&sb, "<!ENTITY lol%d \"", i);
		for (j = 0; j < 10; j++)
			ams_buf_addf(
			    &sb, "&lol%s;",
			    i == 1 ? "" : (char[]){ (char)('0' + i - 1), 0 });
		ams_buf_addstr(&sb, "\">\n");
	}
	ams_buf_addstr(&sb, "]>\n<lolz>&lol9;</lolz>");
	t0 = ams_clock_mono_ms();
	CHECK_RC(AMS_EPARSE, ams_xml_parse(&doc, sb.buf, sb.len, &err), &err);
	CHECK(doc == NULL);
	CHECK(ams_clock_mono_ms() - t0 < 100);
	ams_buf_release(&sb);
}

static void test_limits(void)
{
	struct ams_xml_doc *doc = NULL;
	struct ams_err err = AMS_ERR_INIT;
	struct ams_buf sb = AMS_BUF_INIT;
	char *big;
	size_t n = AMS_XML_MAX_BYTES + 1, i;

	big = malloc(n);
	CHECK(big != NULL);
	if (!big)
		return;
	memset(big, ' ', n);
	memcpy(big, "<a>", 3);
	memcpy(big + n - 4, "</a>", 4);
	CHECK_RC(AMS_ELIMIT, ams_xml_parse(&doc, big, n, &err), &err);
	CHECK(doc == NULL);
	free(big);
	/* UTF-16 (with or without a byte order mark) is refused */
	ams_err_clear(&err);
	CHECK_RC(AMS_EPARSE,
		 ams_xml_parse(&doc, "\xff\xfe<\0a\0/\0>\0", 10, &err), &err);
	ams_err_clear(&err);
	CHECK_RC(AMS_EPARSE, ams_xml_parse(&doc, "<\0a\0/\0>\0", 8, &err),
		 &err);
	/* nesting deeper than libxml2's limit is an error, not a crash */
	for (i = 0; i < 5000; i++)
		ams_buf_addstr(&sb, "<a>");
	for (i = 0; i < 5000; i++)
		ams_buf_addstr(&sb, "</a>");
	ams_err_clear(&err);
	CHECK_RC(AMS_EPARSE, ams_xml_parse(&doc, sb.buf, sb.len, &err), &err);
	ams_buf_release(&sb);
}

/*
 * Parses share one parser context: each document stands alone, after
 * thousands of others (the context is renewed on the way) and after
 * failures, and nothing of one leaks into the next.
 */
static void test_shared_context(void)
{
	struct ams_xml_doc *doc;
	struct ams_err err = AMS_ERR_INIT;
	struct ams_buf xml = AMS_BUF_INIT, text = AMS_BUF_INIT;
	char path[32], want[32];
	size_t i, bad = 0;

	for (i = 0; i < 3000; i++) {
		ams_buf_reset(&xml);
		ams_err_clear(&err);
		if (i % 500 == 7) {
			ams_buf_addstr(&xml, "<R><a>unclosed</R>");
			if (!ams_xml_parse(&doc, xml.buf, xml.len, &err) ||
			    err.code != AMS_EPARSE)
				bad++;
			continue;
		}
		ams_buf_addf(&xml, "<R xmlns=\"urn:x\"><e%zu>v%zu</e%zu></R>",
			     i, i, i);
		if (ams_xml_parse(&doc, xml.buf, xml.len, &err)) {
			bad++;
			continue;
		}
		snprintf(path, sizeof(path), "e%zu", i);
		snprintf(want, sizeof(want), "v%zu", i);
		ams_buf_reset(&text);
		ams_xml_text(&text, ams_xml_find(ams_xml_root(doc), path));
		if (strcmp(text.buf, want))
			bad++;
		ams_xml_free(doc);
	}
	CHECK_INT_EQ(0, (long long)bad);
	ams_xml_cleanup();
	ams_buf_release(&xml);
	ams_buf_release(&text);
}

/*
 * Text comes back whole and in document order: libxml2 hands long text
 * over in pieces (split at entities and every few hundred bytes), and an
 * element's text is all the text below it.
 */
static void test_text_pieces_and_order(void)
{
	struct ams_buf doc_text = AMS_BUF_INIT, want = AMS_BUF_INIT;
	struct ams_buf sb = AMS_BUF_INIT;
	struct ams_xml_doc *doc = NULL;
	struct ams_err err = AMS_ERR_INIT;
	const struct ams_xml_node *root;
	size_t i;

	ams_buf_addstr(&doc_text, "<R><v>");
	for (i = 0; i < 5000; i++) {
		ams_buf_addstr(&doc_text, i % 100 ? "ab" : "&amp;&#x263A;");
		ams_buf_addstr(&want, i % 100 ? "ab" : "&\xe2\x98\xba");
	}
	ams_buf_addstr(&doc_text, "</v><m>x <b>y</b> z<c/>\n</m>"
				  "<n> <b>1</b> <b>2</b> </n></R>");
	CHECK_RC(AMS_OK, ams_xml_parse(&doc, doc_text.buf, doc_text.len, &err),
		 &err);
	if (doc) {
		root = ams_xml_root(doc);
		ams_xml_text(&sb, ams_xml_find(root, "v"));
		CHECK_INT_EQ(want.len, sb.len);
		CHECK(!strcmp(want.buf, sb.buf));
		ams_buf_reset(&sb);
		ams_xml_text(&sb, ams_xml_find(root, "m"));
		CHECK_STR_EQ("x y z", sb.buf);
		ams_buf_reset(&sb);
		/* Indentation between elements is not text. */
		ams_xml_text(&sb, ams_xml_find(root, "n"));
		CHECK_STR_EQ("12", sb.buf);
		CHECK_INT_EQ(2, ams_xml_count(root, "n/b"));
		CHECK(ams_xml_text_eq(root, "n/b", "1"));
		CHECK(ams_xml_find(root, "m/c") != NULL);
		ams_xml_free(doc);
	}
	ams_buf_release(&sb);
	ams_buf_release(&want);
	ams_buf_release(&doc_text);
}

int main(void)
{
	TEST(test_describe_images, "DescribeImages: paths, items, getters");
	TEST(test_shared_context,
	     "3,000 parses on a shared context, failures among them");
	TEST(test_assume_role, "AssumeRole: credentials by path");
	TEST(test_namespaces_and_entities, "namespaces ignored, text decoded");
	TEST(test_blank_values_kept,
	     "blank text that is a whole value is kept");
	TEST(test_text_pieces_and_order,
	     "long text whole, all text below an element in order");
	TEST(test_malformed, "malformed documents fail with EPARSE");
	test_hostile();
	TEST(test_no_network, "no document reaches the network");
	TEST(test_billion_laughs, "entity bomb refused quickly");
	TEST(test_limits, "size cap, UTF-16, deep nesting");
	return test_done();
}
