/*
 * String sets (strset.h): every answer checked against a plain list over
 * 20,000 account ids with duplicates among them, the table growing from
 * empty; borrowed strings; release and reuse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "strset.h"

#define N 20000

/* The naive answer: is s among the first n of v? */
static int listed(char (*v)[16], size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return 1;
	return 0;
}

static void test_against_a_list(void)
{
	static char ids[N][16], added[N][16];
	struct ams_strset set = AMS_STRSET_INIT;
	size_t i, nadded = 0, mismatches = 0;
	unsigned seed = 12345;

	/* Ids drawn from 15,000 values: about a quarter are repeats. */
	for (i = 0; i < N; i++) {
		seed = seed * 1103515245u + 12345u;
		snprintf(ids[i], sizeof(ids[i]), "%012u",
			 200000000u + (seed >> 8) % 15000u);
	}
	for (i = 0; i < N; i++) {
		int was = listed(added, nadded, ids[i]);

		if (ams_strset_has(&set, ids[i]) != was)
			mismatches++;
		if (!was)
			strcpy(added[nadded++], ids[i]);
		/* Borrowed: the set keeps the pointer to the copy kept. */
		if (ams_strset_add(&set, was ? ids[i] : added[nadded - 1]) ==
		    was)
			mismatches++;
	}
	CHECK_INT_EQ(0, mismatches);
	CHECK_INT_EQ(nadded, set.count);
	CHECK(nadded > 10000 && nadded < N);
	CHECK(set.nslots >= 2 * set.count);
	CHECK(!ams_strset_has(&set, "999999999999"));
	CHECK(!ams_strset_has(&set, ""));
	ams_strset_release(&set);
	CHECK(!ams_strset_has(&set, added[0]));
	CHECK(ams_strset_add(&set, added[0]));
	CHECK(!ams_strset_add(&set, added[0]));
	CHECK_INT_EQ(1, set.count);
	ams_strset_release(&set);
	ams_strset_release(&set);
}

int main(void)
{
	TEST(test_against_a_list,
	     "20,000 ids with repeats: the same answers as a plain list");
	return test_done();
}
