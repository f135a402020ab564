/*
 * A list of input problems, so that validation reports every problem at
 * once instead of stopping at the first.
 */
#ifndef AMS_PROBLEMS_H
#define AMS_PROBLEMS_H

#include <stddef.h>

#include "err.h"

struct ams_problems {
	char **msgs;
	size_t n;
};

#define AMS_PROBLEMS_INIT \
	{                 \
		NULL, 0   \
	}

void ams_problems_add(struct ams_problems *p, const char *fmt, ...)
    AMS_PRINTF(2, 3);
/* Adds err's message if it holds an error, then clears err. */
void ams_problems_take(struct ams_problems *p, struct ams_err *err);
/*
 * AMS_OK when there are none; else records the first in err as
 * AMS_EUSAGE ("... (and N more problems)") and returns AMS_EUSAGE.
 */
enum ams_code ams_problems_result(const struct ams_problems *p,
				  struct ams_err *err);
void ams_problems_release(struct ams_problems *p);

#endif
