/*
 * String sets: open addressing with linear probing, at most half full.
 */
#include "strset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xmem.h"

static size_t hash_of(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (size_t)(h ^ (h >> 32));
}

/* The slot holding s, or the empty slot where it would go. */
static const char **find(const struct ams_strset *set, const char *s)
{
	size_t mask = set->nslots - 1, i = hash_of(s) & mask;

	while (set->slots[i] && strcmp(set->slots[i], s))
		i = (i + 1) & mask;
	return &set->slots[i];
}

static void grow(struct ams_strset *set)
{
	struct ams_strset bigger = AMS_STRSET_INIT;
	size_t i;

	bigger.nslots = set->nslots ? 2 * set->nslots : 64;
	bigger.slots = xcalloc(bigger.nslots, sizeof(*bigger.slots));
	for (i = 0; i < set->nslots; i++)
		if (set->slots[i])
			*find(&bigger, set->slots[i]) = set->slots[i];
	bigger.count = set->count;
	free(set->slots);
	*set = bigger;
}

bool ams_strset_add(struct ams_strset *set, const char *s)
{
	const char **slot;

	if (2 * (set->count + 1) > set->nslots)
		grow(set);
	slot = find(set, s);
	if (*slot)
		return false;
	*slot = s;
	set->count++;
	return true;
}

bool ams_strset_has(const struct ams_strset *set, const char *s)
{
	return set->nslots && *find(set, s);
}

void ams_strset_release(struct ams_strset *set)
{
	free(set->slots);
	set->slots = NULL;
	set->nslots = set->count = 0;
}
