/*
 * Running a helper program without a shell: credential_process.
 *
 * A command line from a config file is split the way POSIX shells (and
 * Python's shlex, which botocore uses) split words, then executed
 * directly with posix_spawnp(), so no shell ever interprets it. The
 * child inherits the environment and stdin; its stdout and stderr are
 * captured separately, both capped, under a deadline.
 *
 * This blocks the calling thread while the child runs; credential_process
 * is consulted at start-up and on refresh, as the AWS SDKs do.
 */
#ifndef AMS_PROCSPAWN_H
#define AMS_PROCSPAWN_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

/* Each captured stream is capped at this many bytes (then AMS_ELIMIT). */
#define AMS_PROCSPAWN_MAX_OUTPUT (1024u * 1024)

/*
 * Splits cmdline into words like shlex.split() in POSIX mode: blanks
 * separate words; '...' is literal; inside "..." a backslash escapes only
 * '"' and '\'; elsewhere a backslash escapes the next character; quotes
 * next to other text join it ("a'b c'" is one word). No comments, no
 * expansion of any kind.
 * On AMS_OK *out is a NULL-terminated array of *nwords words, which the
 * caller frees with ams_procspawn_argv_free(). Returns AMS_EUSAGE for an
 * unterminated quote, a trailing backslash or an empty command (the
 * message never quotes the command line).
 */
enum ams_code ams_procspawn_split(char ***out, size_t *nwords,
				  const char *cmdline, struct ams_err *err);
/* Frees an array from ams_procspawn_split(). NULL does nothing. */
void ams_procspawn_argv_free(char **argv);

struct ams_procspawn_result {
	int exit_code;	    /* exit status, or -1 when killed by a signal */
	int term_signal;    /* the signal that killed it, else 0 */
	struct ams_buf out; /* captured stdout */
	struct ams_buf err; /* captured stderr */
};

/*
 * Runs argv[0] (looked up in PATH when it has no '/') with argv, waits at
 * most timeout_ms for it to finish and collects its output into *out,
 * which need not be initialised and is always released by the caller
 * with ams_procspawn_result_release() (stdout is wiped: it may hold
 * secrets). A non-zero exit is not an error here: look at exit_code.
 * Returns AMS_OK when the program ran to completion; AMS_EIO when it
 * cannot be started (message names argv[0] and the reason); AMS_ELIMIT
 * when a stream exceeds AMS_PROCSPAWN_MAX_OUTPUT; AMS_ECANCELED after the
 * deadline. In the last two cases the child is killed and reaped.
 */
enum ams_code ams_procspawn_run(struct ams_procspawn_result *out,
				char *const argv[], long timeout_ms,
				struct ams_err *err);
void ams_procspawn_result_release(struct ams_procspawn_result *res);

/* Work for ams_procspawn_fork(): appends its result to out. */
typedef void(ams_procspawn_fn)(void *payload, struct ams_buf *out);

/*
 * Runs fn(payload, out) in a forked copy of this process and appends what
 * it produced to *out (at most AMS_PROCSPAWN_MAX_OUTPUT bytes). For work
 * whose memory and libraries should not stay in this process afterwards:
 * the child ends with _exit(), so it runs no exit handlers and flushes no
 * stdio buffer it inherited. Blocks until the child has exited.
 * *started tells whether a child ran. Returns AMS_OK when the child
 * exited with status 0; AMS_EIO when no child could be started (no pipe,
 * no fork: the caller may run fn itself); AMS_ELIMIT above the cap;
 * AMS_EIO "... killed by signal N" or "... exited with status N" when
 * the child failed.
 */
enum ams_code ams_procspawn_fork(struct ams_buf *out, ams_procspawn_fn *fn,
				 void *payload, bool *started,
				 struct ams_err *err);

#endif
