/* Fuzz target: the KMS response parsers (kms.h). */
#include "fuzz.h"
#include "kms.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = fuzz_copy(data, size);

	FUZZ_PARSE(struct ams_kms_key, ams_kms_parse_describe_key,
		   ams_kms_key_release, p, size);
	FUZZ_PARSE(struct ams_kms_grant_created, ams_kms_parse_create_grant,
		   ams_kms_grant_created_release, p, size);
	FUZZ_PARSE(struct ams_kms_grants, ams_kms_parse_list_grants,
		   ams_kms_grants_release, p, size);
	free(p);
	return 0;
}
