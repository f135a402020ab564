/*
 * XML parsing for AWS responses, with libxml2 kept out of every header.
 *
 * Documents are parsed into a tree (responses are small and paginated)
 * with network access off and no entity substitution or DTD loading. A
 * prolog scan runs first and refuses any markup declaration ("<!DOCTYPE",
 * and with it every "<!ENTITY"), which is where external-entity reads and
 * entity-expansion bombs live; a check of the parsed tree backs it up.
 * Only UTF-8 is accepted, and the document's own encoding label is
 * ignored, so the scan sees the same bytes the parser does.
 *
 * Nodes handed out are libxml2 element pointers behind an opaque type.
 */
#include "xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "xmem.h"

struct ams_xml_doc {
	xmlDoc *doc;
};

#define NODE(n) ((xmlNode *)(uintptr_t)(n))
#define HANDLE(n) ((const struct ams_xml_node *)(n))

static bool xml_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Offset of the first needle[0..nlen) in buf[from..len), or len. */
static size_t find(const char *buf, size_t len, size_t from, const char *needle,
		   size_t nlen)
{
	size_t i;

	for (i = from; i + nlen <= len; i++)
		if (!memcmp(buf + i, needle, nlen))
			return i;
	return len;
}

/*
 * Walks the prolog (XML declaration, processing instructions, comments,
 * white space) up to the root element. Returns false when a markup
 * declaration such as <!DOCTYPE appears there.
 */
static bool prolog_is_plain(const char *buf, size_t len)
{
	size_t i = 0, end;

	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		i = 3;
	while (i < len) {
		if (xml_space(buf[i])) {
			i++;
			continue;
		}
		if (buf[i] != '<' || i + 1 >= len)
			return true; /* not XML at all: the parser says so */
		if (buf[i + 1] == '?') {
			end = find(buf, len, i + 2, "?>", 2);
			if (end == len)
				return true;
			i = end + 2;
			continue;
		}
		if (buf[i + 1] == '!') {
			if (len - i < 4 || memcmp(buf + i, "<!--", 4))
				return false;
			end = find(buf, len, i + 4, "-->", 3);
			if (end == len)
				return true;
			i = end + 3;
			continue;
		}
		return true; /* the root element starts */
	}
	return true;
}

static void set_parse_error(struct ams_err *err, xmlParserCtxt *ctxt)
{
	const xmlError *e = xmlCtxtGetLastError(ctxt);
	char msg[200];
	size_t n;

	if (!e || !e->message) {
		ams_fail(err, AMS_EPARSE, "xml: malformed document");
		return;
	}
	snprintf(msg, sizeof(msg), "%s", e->message);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	ams_fail(err, AMS_EPARSE, "xml: %s at line %d", msg, e->line);
}

/*
 * One parser context serves every parse (the program is single-threaded):
 * setting one up costs more than parsing a typical response. It is
 * renewed now and then so that its name dictionary, which interns the
 * element names of every document parsed, stays small.
 */
#define CTXT_REUSES 1024
static xmlParserCtxt *shared_ctxt;
static unsigned shared_uses;

static xmlParserCtxt *parser_ctxt(void)
{
	if (shared_ctxt && shared_uses >= CTXT_REUSES) {
		xmlFreeParserCtxt(shared_ctxt);
		shared_ctxt = NULL;
	}
	if (!shared_ctxt) {
		shared_ctxt = xmlNewParserCtxt();
		shared_uses = 0;
	}
	shared_uses++;
	return shared_ctxt;
}

void ams_xml_cleanup(void)
{
	xmlFreeParserCtxt(shared_ctxt);
	shared_ctxt = NULL;
}

enum ams_code ams_xml_parse(struct ams_xml_doc **out, const char *buf,
			    size_t len, struct ams_err *err)
{
	static bool initialised;
	const int options = XML_PARSE_NONET | XML_PARSE_NOERROR |
			    XML_PARSE_NOWARNING | XML_PARSE_IGNORE_ENC |
			    XML_PARSE_NOCDATA | XML_PARSE_COMPACT |
			    XML_PARSE_NOBLANKS;
	xmlParserCtxt *ctxt;
	xmlDoc *doc;

	*out = NULL;
	if (len > AMS_XML_MAX_BYTES)
		return ams_fail(err, AMS_ELIMIT,
				"xml: document of %zu bytes exceeds the "
				"%u-byte limit",
				len, AMS_XML_MAX_BYTES);
	if (len >= 2 && (!buf[0] || !buf[1] || (unsigned char)buf[0] >= 0xfe))
		return ams_fail(err, AMS_EPARSE,
				"xml: only UTF-8 documents are accepted");
	if (!prolog_is_plain(buf, len))
		return ams_fail(err, AMS_EPARSE,
				"xml: document type declarations are not "
				"accepted");
	if (!initialised) {
		xmlInitParser();
		initialised = true;
	}
	ctxt = parser_ctxt();
	if (!ctxt)
		return ams_fail(err, AMS_EPARSE, "xml: out of memory");
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, "UTF-8", options);
	if (!doc) {
		set_parse_error(err, ctxt);
		ams_xml_cleanup(); /* a fresh context for the next one */
		return AMS_EPARSE;
	}
	if (doc->intSubset || doc->extSubset) {
		xmlFreeDoc(doc);
		return ams_fail(err, AMS_EPARSE,
				"xml: document type declarations are not "
				"accepted");
	}
	if (!xmlDocGetRootElement(doc)) {
		xmlFreeDoc(doc);
		return ams_fail(err, AMS_EPARSE, "xml: no root element");
	}
	*out = xmalloc(sizeof(**out));
	(*out)->doc = doc;
	return AMS_OK;
}

void ams_xml_free(struct ams_xml_doc *doc)
{
	if (!doc)
		return;
	xmlFreeDoc(doc->doc);
	free(doc);
}

const struct ams_xml_node *ams_xml_root(const struct ams_xml_doc *doc)
{
	return HANDLE(xmlDocGetRootElement(doc->doc));
}

const char *ams_xml_name(const struct ams_xml_node *node)
{
	return node ? (const char *)NODE(node)->name : NULL;
}

/* The first element child of parent named name[0..len), or NULL. */
static xmlNode *child_named(xmlNode *parent, const char *name, size_t len)
{
	xmlNode *c;

	for (c = parent->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    strlen((const char *)c->name) == len &&
		    !memcmp(c->name, name, len))
			return c;
	return NULL;
}

/*
 * Follows every step of path but the last; *last gets the last step.
 * Returns the parent of the last step, or NULL.
 */
static xmlNode *walk_to_last(xmlNode *node, const char *path,
			     struct ams_str *last)
{
	struct ams_str rest = ams_str_from(path), step;

	*last = AMS_STR_NULL;
	while (node && rest.ptr) {
		step = ams_str_split(&rest, '/');
		if (!step.len)
			continue;
		if (!rest.ptr) {
			*last = step;
			return node;
		}
		node = child_named(node, step.ptr, step.len);
	}
	return node;
}

const struct ams_xml_node *ams_xml_find(const struct ams_xml_node *from,
					const char *path)
{
	struct ams_str last;
	xmlNode *parent;

	if (!from)
		return NULL;
	parent = walk_to_last(NODE(from), path ? path : "", &last);
	if (!parent || !last.ptr)
		return HANDLE(parent);
	return HANDLE(child_named(parent, last.ptr, last.len));
}

const struct ams_xml_node *ams_xml_first(const struct ams_xml_node *from,
					 const char *path)
{
	return ams_xml_find(from, path);
}

const struct ams_xml_node *ams_xml_next(const struct ams_xml_node *node)
{
	xmlNode *n;

	if (!node)
		return NULL;
	for (n = NODE(node)->next; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE &&
		    !strcmp((const char *)n->name,
			    (const char *)NODE(node)->name))
			return HANDLE(n);
	return NULL;
}

size_t ams_xml_count(const struct ams_xml_node *from, const char *path)
{
	const struct ams_xml_node *n;
	size_t count = 0;

	for (n = ams_xml_first(from, path); n; n = ams_xml_next(n))
		count++;
	return count;
}

static void add_text(struct ams_buf *out, const xmlNode *node)
{
	const xmlNode *c;

	for (c = node->children; c; c = c->next) {
		if ((c->type == XML_TEXT_NODE ||
		     c->type == XML_CDATA_SECTION_NODE) &&
		    c->content)
			ams_buf_addstr(out, (const char *)c->content);
		else if (c->type == XML_ELEMENT_NODE)
			add_text(out, c);
	}
}

void ams_xml_text(struct ams_buf *out, const struct ams_xml_node *node)
{
	if (node)
		add_text(out, NODE(node));
}

bool ams_xml_text_eq(const struct ams_xml_node *from, const char *path,
		     const char *s)
{
	const struct ams_xml_node *n = ams_xml_find(from, path);
	struct ams_buf sb = AMS_BUF_INIT;
	bool eq;

	if (!n)
		return false;
	ams_xml_text(&sb, n);
	eq = !strcmp(sb.buf, s);
	ams_buf_release(&sb);
	return eq;
}

/*
 * Reads the text at path into sb. Returns AMS_ENOTFOUND (without touching
 * err) when absent.
 */
static enum ams_code text_at(struct ams_buf *sb,
			     const struct ams_xml_node *from, const char *path)
{
	const struct ams_xml_node *n = ams_xml_find(from, path);

	if (!n)
		return AMS_ENOTFOUND;
	ams_xml_text(sb, n);
	return AMS_OK;
}

static enum ams_code missing(struct ams_err *err, const char *path)
{
	return ams_fail(err, AMS_EPARSE, "%s: missing", path);
}

static enum ams_code bad_value(struct ams_err *err, const char *path,
			       const char *type, const char *text)
{
	return ams_fail(err, AMS_EPARSE, "%s: expected %s, got '%.40s%s'", path,
			type, text, strlen(text) > 40 ? "..." : "");
}

static enum ams_code get_str(char **out, const struct ams_xml_node *from,
			     const char *path, bool required,
			     struct ams_err *err)
{
	struct ams_buf sb = AMS_BUF_INIT;

	if (text_at(&sb, from, path))
		return required ? missing(err, path) : AMS_OK;
	*out = ams_buf_detach(&sb, NULL);
	return AMS_OK;
}

enum ams_code ams_xml_get_str(char **out, const struct ams_xml_node *from,
			      const char *path, struct ams_err *err)
{
	*out = NULL;
	return get_str(out, from, path, true, err);
}

enum ams_code ams_xml_get_str_opt(char **out, const struct ams_xml_node *from,
				  const char *path, struct ams_err *err)
{
	*out = NULL;
	return get_str(out, from, path, false, err);
}

enum scalar { SCALAR_U64, SCALAR_BOOL, SCALAR_TIME };

static enum ams_code get_scalar(void *out, enum scalar kind,
				const struct ams_xml_node *from,
				const char *path, bool required,
				struct ams_err *err)
{
	struct ams_buf sb = AMS_BUF_INIT;
	struct ams_str v;
	unsigned long long u;
	enum ams_code rc = AMS_OK;
	time_t t;

	if (text_at(&sb, from, path))
		return required ? missing(err, path) : AMS_OK;
	v = ams_str_trim(ams_str_make(sb.buf, sb.len));
	switch (kind) {
	case SCALAR_U64:
		if (ams_str_to_u64(v, UINT64_MAX, &u))
			*(uint64_t *)out = u;
		else
			rc =
			    bad_value(err, path, "an unsigned integer", sb.buf);
		break;
	case SCALAR_BOOL:
		if (ams_str_eq(v, "true"))
			*(bool *)out = true;
		else if (ams_str_eq(v, "false"))
			*(bool *)out = false;
		else
			rc = bad_value(err, path, "true or false", sb.buf);
		break;
	case SCALAR_TIME: {
		char *s = ams_str_dup(v);

		if (ams_clock_parse_iso8601(s, &t))
			*(time_t *)out = t;
		else
			rc = bad_value(err, path, "an ISO 8601 time", sb.buf);
		free(s);
		break;
	}
	}
	ams_buf_release(&sb);
	return rc;
}

enum ams_code ams_xml_get_u64(uint64_t *out, const struct ams_xml_node *from,
			      const char *path, struct ams_err *err)
{
	return get_scalar(out, SCALAR_U64, from, path, true, err);
}

enum ams_code ams_xml_get_u64_opt(uint64_t *out,
				  const struct ams_xml_node *from,
				  const char *path, struct ams_err *err)
{
	return get_scalar(out, SCALAR_U64, from, path, false, err);
}

enum ams_code ams_xml_get_bool(bool *out, const struct ams_xml_node *from,
			       const char *path, struct ams_err *err)
{
	return get_scalar(out, SCALAR_BOOL, from, path, true, err);
}

enum ams_code ams_xml_get_bool_opt(bool *out, const struct ams_xml_node *from,
				   const char *path, struct ams_err *err)
{
	return get_scalar(out, SCALAR_BOOL, from, path, false, err);
}

enum ams_code ams_xml_get_time(time_t *out, const struct ams_xml_node *from,
			       const char *path, struct ams_err *err)
{
	return get_scalar(out, SCALAR_TIME, from, path, true, err);
}

enum ams_code ams_xml_get_time_opt(time_t *out, const struct ams_xml_node *from,
				   const char *path, struct ams_err *err)
{
	return get_scalar(out, SCALAR_TIME, from, path, false, err);
}
