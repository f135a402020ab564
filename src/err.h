/*
 * The error type every fallible function reports through.
 *
 * Functions return enum ams_code (AMS_OK is 0) and fill a caller-owned
 * struct ams_err. The first failure recorded wins, as with curl's error
 * buffer, so a cleanup path cannot overwrite the cause. There is no global
 * "last error": many requests are in flight at once and each carries its
 * own struct ams_err.
 */
#ifndef AMS_ERR_H
#define AMS_ERR_H

#include "xmem.h"

enum ams_code {
	AMS_OK = 0,
	AMS_EUSAGE,    /* bad option, input file or configuration */
	AMS_EIO,       /* file system */
	AMS_EPARSE,    /* malformed document */
	AMS_ENET,      /* transport: DNS, connect, TLS, reset, timeout */
	AMS_EHTTP,     /* unexpected HTTP answer without an AWS error */
	AMS_EAWS,      /* AWS returned an error document (see aws_code) */
	AMS_ECREDS,    /* no usable credentials */
	AMS_EGIT,      /* libgit2 */
	AMS_ELIMIT,    /* a size or count limit was exceeded */
	AMS_ENOTFOUND, /* an expected, named thing is absent */
	AMS_ECANCELED, /* stopped by a signal or a deadline */
};

struct ams_err {
	enum ams_code code;
	long http_status;  /* 0 when not HTTP */
	char aws_code[96]; /* "RequestLimitExceeded", "InvalidAMIID.NotFound" */
	char request_id[96];
	char msg[512]; /* one line, no final full stop */
};

#define AMS_ERR_INIT                  \
	{                             \
		AMS_OK, 0, "", "", "" \
	}

/*
 * Records a failure if err holds none yet, and returns code either way so
 * callers can write `return ams_fail(err, AMS_EPARSE, "...")`.
 * err may be NULL. Newlines in the message are replaced by spaces.
 */
enum ams_code ams_fail(struct ams_err *err, enum ams_code code, const char *fmt,
		       ...) AMS_PRINTF(3, 4);
#ifdef __clang_analyzer__
/*
 * The static analyzer sees one file at a time and cannot know that the
 * result is code: it then follows impossible "failed but returned
 * AMS_OK" paths. This tells it. Builds never define the macro.
 */
#define ams_fail(err, code, ...) (ams_fail((err), (code), __VA_ARGS__), (code))
#endif
/* Records an AWS error with its HTTP status, code and request id. */
enum ams_code ams_fail_aws(struct ams_err *err, long http_status,
			   const char *aws_code, const char *request_id,
			   const char *message);
#ifdef __clang_analyzer__
#define ams_fail_aws(...) (ams_fail_aws(__VA_ARGS__), AMS_EAWS)
#endif
/* Adds "context: " in front of an existing message. */
void ams_err_prefix(struct ams_err *err, const char *fmt, ...) AMS_PRINTF(2, 3);
void ams_err_clear(struct ams_err *err);
/*
 * *slot, allocated and cleared on first use: records that exist only once
 * something fails (owned by whoever holds slot; free() releases them).
 */
struct ams_err *ams_err_slot(struct ams_err **slot);
/* err, or an empty record when err is NULL (for reading). */
const struct ams_err *ams_err_or_none(const struct ams_err *err);
/* Copies src into dst if dst holds no error yet. */
void ams_err_copy(struct ams_err *dst, const struct ams_err *src);
/* A short stable name for a code: "usage", "aws", "network", ... */
const char *ams_code_name(enum ams_code code);

#endif
