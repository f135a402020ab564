/* Fuzz target: the Organizations response parsers (orgs.h). */
#include "fuzz.h"
#include "orgs.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = fuzz_copy(data, size);

	FUZZ_PARSE(struct ams_orgs_organization,
		   ams_orgs_parse_describe_organization,
		   ams_orgs_organization_release, p, size);
	FUZZ_PARSE(struct ams_orgs_units, ams_orgs_parse_list_roots,
		   ams_orgs_units_release, p, size);
	FUZZ_PARSE(struct ams_orgs_children, ams_orgs_parse_list_children,
		   ams_orgs_children_release, p, size);
	FUZZ_PARSE(struct ams_orgs_accounts,
		   ams_orgs_parse_list_accounts_for_parent,
		   ams_orgs_accounts_release, p, size);
	FUZZ_PARSE(struct ams_orgs_units, ams_orgs_parse_list_ous_for_parent,
		   ams_orgs_units_release, p, size);
	free(p);
	return 0;
}
