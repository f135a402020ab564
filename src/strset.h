/*
 * A set of strings, for finding duplicates in linear time (account ids
 * from files, flags and organisation listings). Strings are borrowed:
 * each one added must stay valid and unchanged while the set is used.
 */
#ifndef AMS_STRSET_H
#define AMS_STRSET_H

#include <stdbool.h>
#include <stddef.h>

struct ams_strset {
	const char **slots; /* open addressing; NULL: empty */
	size_t nslots;	    /* a power of two, or 0 */
	size_t count;
};

#define AMS_STRSET_INIT    \
	{                  \
		NULL, 0, 0 \
	}

/* Adds s unless an equal string is in already; returns whether it added. */
bool ams_strset_add(struct ams_strset *set, const char *s);
bool ams_strset_has(const struct ams_strset *set, const char *s);
/* Frees the table (not the strings); the set is empty and usable again. */
void ams_strset_release(struct ams_strset *set);

#endif
