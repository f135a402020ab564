/*
 * Collected input problems.
 */
#include "problems.h"

#include <stdarg.h>
#include <stdlib.h>

#include "buf.h"

void ams_problems_add(struct ams_problems *p, const char *fmt, ...)
{
	struct ams_buf sb = AMS_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	ams_buf_vaddf(&sb, fmt, ap);
	va_end(ap);
	p->msgs = xreallocarray(p->msgs, p->n + 1, sizeof(*p->msgs));
	p->msgs[p->n++] = ams_buf_detach(&sb, NULL);
}

void ams_problems_take(struct ams_problems *p, struct ams_err *err)
{
	if (err->code == AMS_OK)
		return;
	ams_problems_add(p, "%s", err->msg);
	ams_err_clear(err);
}

enum ams_code ams_problems_result(const struct ams_problems *p,
				  struct ams_err *err)
{
	if (!p->n)
		return AMS_OK;
	if (p->n == 1)
		return ams_fail(err, AMS_EUSAGE, "%s", p->msgs[0]);
	return ams_fail(err, AMS_EUSAGE, "%s (and %zu more problems)",
			p->msgs[0], p->n - 1);
}

void ams_problems_release(struct ams_problems *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->msgs[i]);
	free(p->msgs);
	p->msgs = NULL;
	p->n = 0;
}
