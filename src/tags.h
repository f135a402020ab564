/*
 * Tag sets: the tags amishare copies from the source AMI, adds from the
 * command line and provenance, and writes in every target account.
 *
 * A set keeps insertion order and unique keys (setting an existing key
 * replaces its value), so output is deterministic.
 */
#ifndef AMS_TAGS_H
#define AMS_TAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

struct ams_tag {
	char *key;
	char *value;
};

struct ams_tags {
	struct ams_tag *v;
	size_t n;
};

#define AMS_TAGS_INIT   \
	{               \
		NULL, 0 \
	}

/* Sets key to value (both copied), replacing an existing value. */
void ams_tags_set(struct ams_tags *t, const char *key, const char *value);
/* The value of key, or NULL. Borrowed from t. */
const char *ams_tags_get(const struct ams_tags *t, const char *key);
bool ams_tags_remove(struct ams_tags *t, const char *key);
void ams_tags_copy(struct ams_tags *dst, const struct ams_tags *src);
void ams_tags_release(struct ams_tags *t);
/* Sorts by key (byte order), for stable comparison and output. */
void ams_tags_sort(struct ams_tags *t);

/*
 * Appends to *out the tags of want that have is missing or holds with a
 * different value: what a write must carry to make is hold want. Returns
 * them as bits too: bit i for want->v[i] (the first 64).
 */
uint64_t ams_tags_missing(struct ams_tags *out, const struct ams_tags *want,
			  const struct ams_tags *is);

/*
 * True when key passes the filters: it does not start with the reserved
 * "aws:" prefix (in any letter case), it matches one of the include globs (or includes is
 * empty) and none of the exclude globs. Globs are fnmatch(3) patterns.
 */
bool ams_tag_key_selected(const char *key, char *const *includes,
			  size_t nr_includes, char *const *excludes,
			  size_t nr_excludes);

/*
 * Looks up a placeholder name ("git.commit") for ams_tags_expand. Returns
 * the value (borrowed) or NULL when the name is unknown. A known name
 * whose value is not available returns "".
 */
typedef const char *(ams_placeholder_fn)(const char *name, void *payload);

/*
 * Expands {name} placeholders in tmpl into out; "{{" and "}}" stand for
 * literal braces. An unknown name or an unclosed brace is AMS_EUSAGE
 * naming what and where ("--tag 'Build={nope}': unknown placeholder").
 */
enum ams_code ams_tags_expand(struct ams_buf *out, const char *tmpl,
			      ams_placeholder_fn *lookup, void *payload,
			      const char *context, struct ams_err *err);

/*
 * Parses "KEY=VALUE" (the first '=' splits; the value may be empty or
 * contain '='). An empty key or a missing '=' is AMS_EUSAGE.
 */
enum ams_code ams_tag_parse_assignment(char **key, char **value,
				       const char *arg, struct ams_err *err);

#endif
