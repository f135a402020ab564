/*
 * Safe XML reading for AWS responses (libxml2 behind an opaque handle).
 *
 * ams_xml_parse() builds a tree with network access off and without
 * entity substitution or DTD loading, and refuses any document that
 * carries a document type declaration or an entity declaration at all
 * (AWS never sends one; refusing them stops external-entity reads and
 * entity-expansion bombs before libxml2 sees them). Input above
 * AMS_XML_MAX_BYTES is refused with AMS_ELIMIT.
 *
 * Elements are found by paths of local names separated by '/', ignoring
 * namespaces: "imagesSet/item", "AssumeRoleResult/Credentials/AccessKeyId".
 * A path is relative to the node passed in; "" means that node. Each
 * step takes the first child element with that local name, except that
 * ams_xml_first()/ams_xml_next() walk all matches of the last step.
 *
 * Node pointers are borrowed from their document and die with
 * ams_xml_free(). Getters copy text out into caller-owned memory.
 */
#ifndef AMS_XML_H
#define AMS_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "err.h"

#define AMS_XML_MAX_BYTES (32u * 1024 * 1024)

struct ams_xml_doc;
struct ams_xml_node;

/*
 * Parses len bytes at buf. On AMS_OK *out is the caller's, freed with
 * ams_xml_free(). Returns AMS_EPARSE for malformed XML ("xml: <reason>
 * at line N"), a DOCTYPE or ENTITY declaration ("xml: document type
 * declarations are not accepted"), AMS_ELIMIT above AMS_XML_MAX_BYTES.
 * *out is NULL on failure.
 */
enum ams_code ams_xml_parse(struct ams_xml_doc **out, const char *buf,
			    size_t len, struct ams_err *err);
void ams_xml_free(struct ams_xml_doc *doc);
/* Frees the parser context parses share (at exit; parsing may go on). */
void ams_xml_cleanup(void);

/* The root element (never NULL for a parsed document). */
const struct ams_xml_node *ams_xml_root(const struct ams_xml_doc *doc);
/* Local name of an element ("DescribeImagesResponse"). Borrowed. */
const char *ams_xml_name(const struct ams_xml_node *node);

/* The element at path below from, or NULL. */
const struct ams_xml_node *ams_xml_find(const struct ams_xml_node *from,
					const char *path);
/*
 * Iteration over every element matching path's last step under the
 * element its earlier steps find:
 *	for (n = ams_xml_first(resp, "imagesSet/item"); n;
 *	     n = ams_xml_next(n))
 * ams_xml_next() returns the next sibling element with the same local
 * name, or NULL.
 */
const struct ams_xml_node *ams_xml_first(const struct ams_xml_node *from,
					 const char *path);
const struct ams_xml_node *ams_xml_next(const struct ams_xml_node *node);
/* Number of elements ams_xml_first/next would visit. */
size_t ams_xml_count(const struct ams_xml_node *from, const char *path);

/*
 * Appends the text content of node (all descendant text, entities like
 * &amp; decoded) to out.
 */
void ams_xml_text(struct ams_buf *out, const struct ams_xml_node *node);
/* Whether the element at path exists and its text equals s exactly. */
bool ams_xml_text_eq(const struct ams_xml_node *from, const char *path,
		     const char *s);

/*
 * Typed getters for the element at path below from. The _opt forms
 * return AMS_OK and leave *out untouched (strings: NULL) when the element
 * is absent; the plain forms fail with AMS_EPARSE "<path>: missing".
 * Malformed values fail with AMS_EPARSE "<path>: expected <type>, got
 * '<text>'" (the text shortened). Strings are the caller's to free.
 * Numbers are decimal without sign or space; booleans are "true" and
 * "false"; times are ISO 8601 as ams_clock_parse_iso8601 reads them.
 */
enum ams_code ams_xml_get_str(char **out, const struct ams_xml_node *from,
			      const char *path, struct ams_err *err);
enum ams_code ams_xml_get_str_opt(char **out, const struct ams_xml_node *from,
				  const char *path, struct ams_err *err);
enum ams_code ams_xml_get_u64(uint64_t *out, const struct ams_xml_node *from,
			      const char *path, struct ams_err *err);
enum ams_code ams_xml_get_u64_opt(uint64_t *out,
				  const struct ams_xml_node *from,
				  const char *path, struct ams_err *err);
enum ams_code ams_xml_get_bool(bool *out, const struct ams_xml_node *from,
			       const char *path, struct ams_err *err);
enum ams_code ams_xml_get_bool_opt(bool *out, const struct ams_xml_node *from,
				   const char *path, struct ams_err *err);
enum ams_code ams_xml_get_time(time_t *out, const struct ams_xml_node *from,
			       const char *path, struct ams_err *err);
enum ams_code ams_xml_get_time_opt(time_t *out, const struct ams_xml_node *from,
				   const char *path, struct ams_err *err);

#endif
