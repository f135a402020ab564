/*
 * XML parsing for AWS responses, with libxml2 kept out of every header.
 *
 * libxml2 parses (network access off, no entity substitution, no DTD
 * loading) and hands its events (SAX2) to a builder here that keeps a
 * small tree of its own: element nodes with their local names and text
 * nodes, all in one arena per document, so a response costs a few
 * allocations instead of one or more per node, and freeing it is freeing
 * the arena. A prolog scan runs first and refuses any markup declaration
 * ("<!DOCTYPE", and with it every "<!ENTITY"), which is where
 * external-entity reads and entity-expansion bombs live; the builder
 * backs it up by refusing a document type declaration it is told of.
 * Only UTF-8 is accepted, and the document's own encoding label is
 * ignored, so the scan sees the same bytes the parser does.
 *
 * Indentation between elements is dropped as it arrives: text that is
 * all blanks is kept only when it is an element's whole content (a tag
 * value may be " ").
 */
#include "xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "xmem.h"

/* An element (name set) or a text node (name NULL). */
struct xnode {
	const char *name; /* local name of an element */
	const char *text; /* text of a text node */
	size_t len;	  /* length of the name or the text */
	struct xnode *parent, *child, *last, *next;
	bool has_elements; /* an element child was added */
};

struct chunk {
	struct chunk *next;
	size_t size, used;
	max_align_t data[]; /* size bytes */
};

struct ams_xml_doc {
	struct chunk *chunks;
	struct xnode *root;
};

#define NODE(n) ((const struct xnode *)(n))
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

static enum ams_code parse_error(struct ams_err *err, xmlParserCtxt *ctxt)
{
	const xmlError *e = xmlCtxtGetLastError(ctxt);
	char msg[200];
	size_t n;

	if (!e || !e->message)
		return ams_fail(err, AMS_EPARSE, "xml: malformed document");
	snprintf(msg, sizeof(msg), "%s", e->message);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	return ams_fail(err, AMS_EPARSE, "xml: %s at line %d", msg, e->line);
}

/* ---- The arena ----------------------------------------------------- */

static void *arena_alloc(struct ams_xml_doc *doc, size_t n)
{
	struct chunk *c = doc->chunks;
	size_t size;
	void *p;

	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (!c || c->size - c->used < n) {
		size = c ? 2 * c->size : 1024;
		if (size < n)
			size = n;
		c = xmalloc(sizeof(*c) + size);
		c->size = size;
		c->used = 0;
		c->next = doc->chunks;
		doc->chunks = c;
	}
	p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

static const char *arena_strndup(struct ams_xml_doc *doc, const char *s,
				 size_t len)
{
	char *p = arena_alloc(doc, len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* ---- Building the tree from libxml2's events ------------------------- */

struct builder {
	struct ams_xml_doc *doc;
	struct xnode *cur;	/* the open element, NULL outside the root */
	struct ams_buf pending; /* text of cur not yet placed */
	bool doctype;		/* a document type declaration was seen */
};

/* The builder of the parse under way: parsing is not reentrant. */
static struct builder *building;

static struct xnode *add_node(struct builder *b)
{
	struct xnode *n = arena_alloc(b->doc, sizeof(*n));

	memset(n, 0, sizeof(*n));
	n->parent = b->cur;
	if (b->cur) {
		if (b->cur->last)
			b->cur->last->next = n;
		else
			b->cur->child = n;
		b->cur->last = n;
	}
	return n;
}

static bool all_blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!xml_space(s[i]))
			return false;
	return true;
}

/*
 * Places the text gathered for the open element. Blank text is kept only
 * when it is the element's whole content: at its end, with no element
 * child.
 */
static void place_text(struct builder *b, bool at_end)
{
	struct xnode *n;

	if (!b->pending.len)
		return;
	if (!all_blank(b->pending.buf, b->pending.len) ||
	    (at_end && !b->cur->has_elements)) {
		n = add_node(b);
		n->text = arena_strndup(b->doc, b->pending.buf, b->pending.len);
		n->len = b->pending.len;
	}
	ams_buf_reset(&b->pending);
}

static void on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
		     const xmlChar *uri, int nb_ns, const xmlChar **ns,
		     int nb_attrs, int nb_defaulted, const xmlChar **attrs)
{
	struct builder *b = building;
	struct xnode *n;
	size_t len = strlen((const char *)localname);

	(void)ctx, (void)prefix, (void)uri, (void)nb_ns, (void)ns;
	(void)nb_attrs, (void)nb_defaulted, (void)attrs;
	if (b->cur) {
		place_text(b, false);
		b->cur->has_elements = true;
	} else if (b->doc->root) {
		return; /* a second root: the parser reports it */
	}
	n = add_node(b);
	n->name = arena_strndup(b->doc, (const char *)localname, len);
	n->len = len;
	if (!b->doc->root)
		b->doc->root = n;
	b->cur = n;
}

static void on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
		   const xmlChar *uri)
{
	struct builder *b = building;

	(void)ctx, (void)localname, (void)prefix, (void)uri;
	if (!b->cur)
		return;
	place_text(b, true);
	b->cur = b->cur->parent;
}

static void on_text(void *ctx, const xmlChar *ch, int len)
{
	struct builder *b = building;

	(void)ctx;
	if (b->cur && len > 0)
		ams_buf_add(&b->pending, ch, (size_t)len);
}

static void on_doctype(void *ctx, const xmlChar *name, const xmlChar *ext_id,
		       const xmlChar *system_id)
{
	(void)name, (void)ext_id, (void)system_id;
	building->doctype = true;
	xmlStopParser(ctx);
}

static void on_entity(void *ctx, const xmlChar *name, int type,
		      const xmlChar *public_id, const xmlChar *system_id,
		      xmlChar *content)
{
	(void)name, (void)type, (void)public_id, (void)system_id;
	(void)content;
	building->doctype = true;
	xmlStopParser(ctx);
}

/*
 * One parser context serves every parse (the program is single-threaded):
 * setting one up costs more than parsing a typical response. It is
 * renewed now and then so that its name dictionary, which interns the
 * element names of every document parsed, stays small. Its SAX handler
 * is the builder's: no libxml2 tree is ever made.
 */
#define CTXT_REUSES 1024
static xmlParserCtxt *shared_ctxt;
static unsigned shared_uses;

static void use_builder(xmlSAXHandler *sax)
{
	memset(sax, 0, sizeof(*sax));
	sax->initialized = XML_SAX2_MAGIC;
	sax->startElementNs = on_start;
	sax->endElementNs = on_end;
	sax->characters = on_text;
	sax->ignorableWhitespace = on_text;
	sax->cdataBlock = on_text;
	sax->internalSubset = on_doctype;
	sax->externalSubset = on_doctype;
	sax->entityDecl = on_entity;
}

static xmlParserCtxt *parser_ctxt(void)
{
	if (shared_ctxt && shared_uses >= CTXT_REUSES) {
		xmlFreeParserCtxt(shared_ctxt);
		shared_ctxt = NULL;
	}
	if (!shared_ctxt) {
		shared_ctxt = xmlNewParserCtxt();
		if (!shared_ctxt)
			return NULL;
		use_builder(shared_ctxt->sax);
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
			    XML_PARSE_NOCDATA;
	struct builder b;
	xmlParserCtxt *ctxt;
	xmlDoc *tree;
	enum ams_code rc = AMS_OK;

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
	memset(&b, 0, sizeof(b));
	b.doc = xcalloc(1, sizeof(*b.doc));
	ams_buf_init(&b.pending, 0);
	building = &b;
	tree = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, "UTF-8", options);
	building = NULL;
	xmlFreeDoc(tree); /* NULL: the builder makes none */
	if (b.doctype)
		rc = ams_fail(err, AMS_EPARSE,
			      "xml: document type declarations are not "
			      "accepted");
	else if (!ctxt->wellFormed)
		rc = parse_error(err, ctxt);
	else if (!b.doc->root)
		rc = ams_fail(err, AMS_EPARSE, "xml: no root element");
	if (b.doctype || !ctxt->wellFormed)
		ams_xml_cleanup(); /* a fresh context for the next one */
	ams_buf_release(&b.pending);
	if (rc) {
		ams_xml_free(b.doc);
		return rc;
	}
	*out = b.doc;
	return AMS_OK;
}

void ams_xml_free(struct ams_xml_doc *doc)
{
	struct chunk *c, *next;

	if (!doc)
		return;
	for (c = doc->chunks; c; c = next) {
		next = c->next;
		free(c);
	}
	free(doc);
}

const struct ams_xml_node *ams_xml_root(const struct ams_xml_doc *doc)
{
	return HANDLE(doc->root);
}

const char *ams_xml_name(const struct ams_xml_node *node)
{
	return node ? NODE(node)->name : NULL;
}

/* The first element child of parent named name[0..len), or NULL. */
static const struct xnode *child_named(const struct xnode *parent,
				       const char *name, size_t len)
{
	const struct xnode *c;

	for (c = parent->child; c; c = c->next)
		if (c->name && c->len == len && !memcmp(c->name, name, len))
			return c;
	return NULL;
}

/*
 * Follows every step of path but the last; *last gets the last step.
 * Returns the parent of the last step, or NULL.
 */
static const struct xnode *walk_to_last(const struct xnode *node,
					const char *path, struct ams_str *last)
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
	const struct xnode *parent;

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
	const struct xnode *n;

	if (!node)
		return NULL;
	for (n = NODE(node)->next; n; n = n->next)
		if (n->name && n->len == NODE(node)->len &&
		    !memcmp(n->name, NODE(node)->name, n->len))
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

static void add_text(struct ams_buf *out, const struct xnode *node)
{
	const struct xnode *c;

	for (c = node->child; c; c = c->next) {
		if (!c->name)
			ams_buf_add(out, c->text, c->len);
		else
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
