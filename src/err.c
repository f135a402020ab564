/*
 * struct ams_err: first-error-wins failure records.
 */
#include "err.h"

#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* err.h shows the static analyzer what these return; here they are. */
#undef ams_fail
#undef ams_fail_aws

/*
 * One line of plain text: newlines and every other control character
 * become spaces, so a message quoted from an endpoint can neither forge
 * lines in the summary and logs nor drive the terminal (escape
 * sequences).
 */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

static void copy_field(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
	one_line(dst);
}

enum ams_code ams_fail(struct ams_err *err, enum ams_code code, const char *fmt,
		       ...)
{
	va_list ap;

	if (!err || err->code != AMS_OK)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	one_line(err->msg);
	return code;
}

enum ams_code ams_fail_aws(struct ams_err *err, long http_status,
			   const char *aws_code, const char *request_id,
			   const char *message)
{
	if (!err || err->code != AMS_OK)
		return AMS_EAWS;
	err->code = AMS_EAWS;
	err->http_status = http_status;
	copy_field(err->aws_code, sizeof(err->aws_code), aws_code);
	copy_field(err->request_id, sizeof(err->request_id), request_id);
	copy_field(err->msg, sizeof(err->msg), message);
	return AMS_EAWS;
}

void ams_err_prefix(struct ams_err *err, const char *fmt, ...)
{
	struct ams_buf sb = AMS_BUF_INIT;
	va_list ap;

	if (!err || err->code == AMS_OK)
		return;
	va_start(ap, fmt);
	ams_buf_vaddf(&sb, fmt, ap);
	va_end(ap);
	ams_buf_addstr(&sb, ": ");
	ams_buf_addstr(&sb, err->msg);
	copy_field(err->msg, sizeof(err->msg), sb.buf);
	ams_buf_release(&sb);
}

void ams_err_clear(struct ams_err *err)
{
	memset(err, 0, sizeof(*err));
}

struct ams_err *ams_err_slot(struct ams_err **slot)
{
	if (!*slot) {
		*slot = xmalloc(sizeof(**slot));
		ams_err_clear(*slot);
	}
	return *slot;
}

const struct ams_err *ams_err_or_none(const struct ams_err *err)
{
	static const struct ams_err none = AMS_ERR_INIT;

	return err ? err : &none;
}

void ams_err_copy(struct ams_err *dst, const struct ams_err *src)
{
	if (dst && dst->code == AMS_OK && src && src->code != AMS_OK)
		*dst = *src;
}

const char *ams_code_name(enum ams_code code)
{
	static const char *const names[] = {
		[AMS_OK] = "ok",
		[AMS_EUSAGE] = "usage",
		[AMS_EIO] = "io",
		[AMS_EPARSE] = "parse",
		[AMS_ENET] = "network",
		[AMS_EHTTP] = "http",
		[AMS_EAWS] = "aws",
		[AMS_ECREDS] = "credentials",
		[AMS_EGIT] = "git",
		[AMS_ELIMIT] = "limit",
		[AMS_ENOTFOUND] = "not-found",
		[AMS_ECANCELED] = "canceled",
	};

	if ((size_t)code < ARRAY_SIZE(names) && names[code])
		return names[code];
	return "unknown";
}
