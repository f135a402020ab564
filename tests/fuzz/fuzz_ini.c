/*
 * Fuzz target: the shared config and credentials file parser (ini.h).
 * Every section and property the parser returns can be found again by
 * name, and the profile lookups never fail on what it built.
 */
#include "fuzz.h"
#include "ini.h"

#include <stdlib.h>

static void walk(const struct ams_ini *ini)
{
	size_t i, j, k;

	for (i = 0; i < ini->nr_sections; i++) {
		const struct ams_ini_section *sec = &ini->sections[i];

		FUZZ_ASSERT(sec->name);
		FUZZ_ASSERT(ams_ini_section(ini, sec->name));
		for (j = 0; j < sec->nr_props; j++) {
			const struct ams_ini_prop *p = &sec->props[j];

			FUZZ_ASSERT(p->key && p->value);
			FUZZ_ASSERT(ams_ini_prop(sec, p->key));
			FUZZ_ASSERT(ams_ini_get(sec, p->key));
			for (k = 0; k < p->nr_subs; k++) {
				FUZZ_ASSERT(p->subs[k].key && p->subs[k].value);
				FUZZ_ASSERT(ams_ini_get_sub(p, p->subs[k].key));
			}
		}
		(void)ams_ini_profile(ini, true, sec->name);
		(void)ams_ini_profile(ini, false, sec->name);
	}
	(void)ams_ini_profile(ini, true, "default");
	(void)ams_ini_profile(ini, false, "default");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = fuzz_copy(data, size);
	struct ams_ini *ini = NULL;
	struct ams_err err = AMS_ERR_INIT;

	if (ams_ini_parse(&ini, p, size, "fuzz.ini", &err)) {
		FUZZ_ASSERT(!ini && err.code == AMS_EPARSE && err.msg[0]);
	} else {
		FUZZ_ASSERT(ini);
		walk(ini);
		ams_ini_free(ini);
	}
	free(p);
	return 0;
}
