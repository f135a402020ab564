/*
 * The AWS shared configuration file format (~/.aws/config and
 * ~/.aws/credentials), parsed into sections and properties.
 *
 * The rules follow the cross-SDK profile file format:
 *
 *   - a line whose first non-blank character is '#' or ';' is a comment;
 *     after a section header anything starting with '#' or ';' is a
 *     comment; after a value only a '#' or ';' that follows white space
 *     starts one ("a=b#c" keeps "b#c");
 *   - "[name]" opens a section; the name is trimmed and the white space
 *     after its first word is collapsed, so "[profile \t x]" is named
 *     "profile x"; sections that appear twice are merged;
 *   - "key = value" defines a property; keys are case-insensitive and
 *     stored in lowercase; the last definition of a key wins; ':' is not
 *     a separator;
 *   - an indented line continues the previous property: after a non-empty
 *     value it is appended with a newline; after an empty value ("s3 =")
 *     the indented lines are "name = value" sub-properties;
 *   - line ends are LF, CRLF or a lone CR; a UTF-8 byte order mark is
 *     skipped; a NUL byte is an error.
 *
 * The parser is pure (a buffer in, a tree out) so it can be fuzzed.
 * Values may be secrets (aws_secret_access_key): ams_ini_free() wipes
 * every value, and the caller registers secrets with the log.
 */
#ifndef AMS_INI_H
#define AMS_INI_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* Files larger than this are refused by ams_ini_load() (AMS_ELIMIT). */
#define AMS_INI_MAX_BYTES (4u * 1024 * 1024)

struct ams_ini_prop {
	char *key;   /* lowercase, never NULL */
	char *value; /* trimmed, never NULL; "" for a sub-property block */
	unsigned line;
	struct ams_ini_prop *subs; /* sub-properties, in file order */
	size_t nr_subs;
};

struct ams_ini_section {
	char *name;    /* normalised as described above */
	unsigned line; /* line of its first header */
	struct ams_ini_prop *props;
	size_t nr_props;
};

struct ams_ini {
	char *path; /* as given for error messages */
	struct ams_ini_section *sections;
	size_t nr_sections;
};

/*
 * Parses len bytes of buf. path_for_errors names the file in messages,
 * which read "'<path>' line <n>: <what>" and never quote a value.
 * On success *out is a new document the caller frees with ams_ini_free().
 * Returns AMS_OK or AMS_EPARSE (*out is then NULL).
 */
enum ams_code ams_ini_parse(struct ams_ini **out, const char *buf, size_t len,
			    const char *path_for_errors, struct ams_err *err);

/*
 * Reads and parses the file at path. A missing file is AMS_ENOTFOUND
 * (with a message), so callers can treat it as empty; unreadable is
 * AMS_EIO; larger than AMS_INI_MAX_BYTES is AMS_ELIMIT; else as above.
 * The read buffer is wiped before it is freed.
 */
enum ams_code ams_ini_load(struct ams_ini **out, const char *path,
			   struct ams_err *err);

/* Frees the document, wiping every value. NULL does nothing. */
void ams_ini_free(struct ams_ini *ini);

/* The section with exactly this (normalised) name, or NULL. */
const struct ams_ini_section *ams_ini_section(const struct ams_ini *ini,
					      const char *name);
/* The property key (any case) in sec, or NULL; sec may be NULL. */
const struct ams_ini_prop *ams_ini_prop(const struct ams_ini_section *sec,
					const char *key);
/* The value of key in sec, or NULL; sec may be NULL. */
const char *ams_ini_get(const struct ams_ini_section *sec, const char *key);
/* The value of sub-property sub of prop, or NULL; prop may be NULL. */
const char *ams_ini_get_sub(const struct ams_ini_prop *prop, const char *sub);

/*
 * The section holding profile name: in a config file "[profile name]",
 * and for "default" "[profile default]" if present, else "[default]"; in
 * a credentials file "[name]". Returns NULL when there is none.
 */
const struct ams_ini_section *ams_ini_profile(const struct ams_ini *ini,
					      bool is_config, const char *name);

#endif
