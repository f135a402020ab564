/* Fuzz target: the SSM Parameter Store response parsers (ssm.h). */
#include "fuzz.h"
#include "log.h"
#include "ssm.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = fuzz_copy(data, size);

	FUZZ_PARSE(struct ams_ssm_put_result, ams_ssm_parse_put_parameter,
		   ams_ssm_put_result_release, p, size);
	FUZZ_PARSE(struct ams_ssm_parameter, ams_ssm_parse_get_parameter,
		   ams_ssm_parameter_release, p, size);
	free(p);
	/* SecureString values are registered as secrets. */
	ams_log_forget_secrets();
	return 0;
}
