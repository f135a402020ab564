/*
 * JSON reading and writing (cJSON behind an opaque handle).
 *
 * ams_json_parse() reports malformed input with the byte offset where
 * parsing stopped, and routes cJSON's allocations through xmalloc.
 * Values are reached by paths: object keys separated by '.', array
 * indexes in brackets: "builds[2].artifact_id", "Credentials.Expiration",
 * "[0]". "" means the value itself. Keys are matched case-sensitively and
 * may not contain '.', '[' or ']' (use ams_json_member for those).
 * Typed getters fail with the path in the message, e.g.
 * "builds[2].artifact_id: expected string"; a caller that walked to a
 * sub-value first can add its own prefix with ams_err_prefix().
 *
 * Value pointers are borrowed from their document and die with
 * ams_json_free(). Getters copy strings out.
 *
 * Writing: struct ams_json_writer appends compact JSON to an ams_buf and
 * places the commas, for JSON 1.1 request bodies and reports.
 */
#ifndef AMS_JSON_H
#define AMS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "err.h"

#define AMS_JSON_MAX_BYTES (32u * 1024 * 1024)
/* Nesting deeper than this is refused (cJSON's own limit is 1000). */
#define AMS_JSON_MAX_DEPTH 64

struct ams_json;     /* a parsed document */
struct ams_json_val; /* a value inside it */

enum ams_json_type {
	AMS_JSON_NULL = 0,
	AMS_JSON_BOOL,
	AMS_JSON_NUMBER,
	AMS_JSON_STRING,
	AMS_JSON_ARRAY,
	AMS_JSON_OBJECT,
	AMS_JSON_INVALID,
};

/*
 * Parses len bytes at buf (no NUL needed; trailing white space allowed,
 * anything else after the value is an error). On AMS_OK *out is the
 * caller's, freed with ams_json_free(). Returns AMS_EPARSE "json: syntax
 * error at byte N", "json: nested deeper than 64 at byte N", or AMS_ELIMIT
 * above AMS_JSON_MAX_BYTES; *out is NULL on failure.
 */
enum ams_code ams_json_parse(struct ams_json **out, const char *buf, size_t len,
			     struct ams_err *err);
/*
 * ams_json_parse() for a response document whose root must be an object
 * (every AWS JSON 1.1 answer): on AMS_OK *out is the caller's, freed with
 * ams_json_free(), and *root its root object (borrowed). A root of any
 * other type fails with AMS_EPARSE "expected a JSON object"; on failure
 * both are NULL.
 */
enum ams_code ams_json_parse_object(struct ams_json **out,
				    const struct ams_json_val **root,
				    const char *buf, size_t len,
				    struct ams_err *err);
void ams_json_free(struct ams_json *doc);
const struct ams_json_val *ams_json_root(const struct ams_json *doc);

/* The value at path below from, or NULL (also for a malformed path). */
const struct ams_json_val *ams_json_at(const struct ams_json_val *from,
				       const char *path);
/* Object member named key (any characters), or NULL. */
const struct ams_json_val *ams_json_member(const struct ams_json_val *obj,
					   const char *key);
enum ams_json_type ams_json_type_of(const struct ams_json_val *v);
/* "null", "boolean", "number", "string", "array", "object". */
const char *ams_json_type_name(enum ams_json_type t);
/* Elements of an array, members of an object; 0 for other values. */
size_t ams_json_size(const struct ams_json_val *v);
/*
 * Walks an array's elements or an object's members in order:
 *	for (e = ams_json_child(arr); e; e = ams_json_sibling(e))
 * ams_json_key() is the member name of an object member, else NULL.
 */
const struct ams_json_val *ams_json_child(const struct ams_json_val *v);
const struct ams_json_val *ams_json_sibling(const struct ams_json_val *v);
const char *ams_json_key(const struct ams_json_val *v);
/* The string of a string value (borrowed), else NULL. */
const char *ams_json_str(const struct ams_json_val *v);

/*
 * Typed getters for the value at path below from. Plain forms fail with
 * AMS_EPARSE "<path>: missing" when it is absent; all fail with
 * "<path>: expected <type>" for the wrong type (JSON null counts as
 * absent for the _opt forms, which leave *out untouched, strings NULL).
 * Strings are the caller's to free. u64 accepts integral numbers in
 * [0, 2^53]; i64 in [-2^53, 2^53]; double any number.
 */
enum ams_code ams_json_get_str(char **out, const struct ams_json_val *from,
			       const char *path, struct ams_err *err);
enum ams_code ams_json_get_str_opt(char **out, const struct ams_json_val *from,
				   const char *path, struct ams_err *err);
enum ams_code ams_json_get_bool(bool *out, const struct ams_json_val *from,
				const char *path, struct ams_err *err);
enum ams_code ams_json_get_bool_opt(bool *out, const struct ams_json_val *from,
				    const char *path, struct ams_err *err);
enum ams_code ams_json_get_u64(uint64_t *out, const struct ams_json_val *from,
			       const char *path, struct ams_err *err);
enum ams_code ams_json_get_u64_opt(uint64_t *out,
				   const struct ams_json_val *from,
				   const char *path, struct ams_err *err);
enum ams_code ams_json_get_i64(int64_t *out, const struct ams_json_val *from,
			       const char *path, struct ams_err *err);
enum ams_code ams_json_get_double(double *out, const struct ams_json_val *from,
				  const char *path, struct ams_err *err);
enum ams_code ams_json_get_double_opt(double *out,
				      const struct ams_json_val *from,
				      const char *path, struct ams_err *err);
/*
 * An AWS JSON timestamp (epoch seconds, the fraction dropped) between
 * 1970 and 9999; anything else fails with "<path>: expected epoch
 * seconds". Absent or null leaves *out untouched.
 */
enum ams_code ams_json_get_epoch_opt(time_t *out,
				     const struct ams_json_val *from,
				     const char *path, struct ams_err *err);
/*
 * The array (or object) at path: *out borrowed. Fails like the getters
 * with "expected array" / "expected object".
 */
enum ams_code ams_json_get_array(const struct ams_json_val **out,
				 const struct ams_json_val *from,
				 const char *path, struct ams_err *err);
enum ams_code ams_json_get_object(const struct ams_json_val **out,
				  const struct ams_json_val *from,
				  const char *path, struct ams_err *err);

/* ---- Writer ------------------------------------------------------------- */

#define AMS_JSON_WRITER_DEPTH 32

/*
 * Appends to *out (borrowed). Containers nest at most
 * AMS_JSON_WRITER_DEPTH deep; deeper or unbalanced use is a programming
 * error caught by ams_json_w_finish.
 *
 *	struct ams_json_writer w;
 *	ams_json_w_init(&w, &body);
 *	ams_json_w_object(&w);
 *	ams_json_w_key(&w, "Name"); ams_json_w_str(&w, "/golden/ami");
 *	ams_json_w_key(&w, "Overwrite"); ams_json_w_bool(&w, true);
 *	ams_json_w_end(&w);
 *	rc = ams_json_w_finish(&w, err);
 */
struct ams_json_writer {
	struct ams_buf *out;
	unsigned depth;
	bool need_comma[AMS_JSON_WRITER_DEPTH + 1];
	bool is_object[AMS_JSON_WRITER_DEPTH + 1];
	bool after_key;
	bool broken; /* misuse seen: finish reports it */
	/*
	 * Optional: once out holds flush_bytes or more when an object or
	 * array closes, flush is called to take out's contents (and empty
	 * it), so a large document streams in bounded memory.
	 */
	void (*flush)(struct ams_buf *out, void *payload);
	void *flush_payload;
	size_t flush_bytes;
};

void ams_json_w_init(struct ams_json_writer *w, struct ams_buf *out);
void ams_json_w_object(struct ams_json_writer *w); /* { */
void ams_json_w_array(struct ams_json_writer *w);  /* [ */
void ams_json_w_end(struct ams_json_writer *w);	   /* } or ] */
/* A member name; the next value call writes its value. */
void ams_json_w_key(struct ams_json_writer *w, const char *key);
/*
 * s NULL writes null. UTF-8 is written as it is; bytes that are not
 * well-formed UTF-8 become \ufffd (see ams_buf_add_json_str).
 */
void ams_json_w_str(struct ams_json_writer *w, const char *s);
void ams_json_w_bool(struct ams_json_writer *w, bool v);
void ams_json_w_null(struct ams_json_writer *w);
void ams_json_w_i64(struct ams_json_writer *w, int64_t v);
void ams_json_w_u64(struct ams_json_writer *w, uint64_t v);
/* Finite doubles only (non-finite write null); shortest round-trip. */
void ams_json_w_double(struct ams_json_writer *w, double v);
/*
 * Checks the document is complete and balanced. Returns AMS_OK or
 * AMS_EUSAGE "json writer: unbalanced" / "misuse".
 */
enum ams_code ams_json_w_finish(struct ams_json_writer *w, struct ams_err *err);

#endif
