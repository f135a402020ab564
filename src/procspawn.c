/*
 * Runs a helper program without a shell and captures its output: the
 * command line is split with shell quoting rules, started with
 * posix_spawnp() on two pipes, and drained with poll() until both pipes
 * close or the deadline passes; the child is always reaped.
 */
#include "procspawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "fileio.h"

extern char **environ;

enum split_state { S_SPACE, S_WORD, S_SQUOTE, S_DQUOTE };

static void push_word(char ***argv, size_t *n, struct ams_buf *word)
{
	*argv = xreallocarray(*argv, *n + 2, sizeof(**argv));
	(*argv)[(*n)++] = ams_buf_detach(word, NULL);
	(*argv)[*n] = NULL;
}

enum ams_code ams_procspawn_split(char ***out, size_t *nwords,
				  const char *cmdline, struct ams_err *err)
{
	enum split_state st = S_SPACE;
	struct ams_buf word = AMS_BUF_INIT;
	char **argv = NULL;
	size_t n = 0;
	const char *p;

	*out = NULL;
	*nwords = 0;
	for (p = cmdline; *p; p++) {
		char c = *p;

		if (st == S_SQUOTE) {
			if (c == '\'')
				st = S_WORD;
			else
				ams_buf_addch(&word, c);
			continue;
		}
		if (st == S_DQUOTE) {
			if (c == '"') {
				st = S_WORD;
			} else if (c == '\\' && (p[1] == '"' || p[1] == '\\')) {
				ams_buf_addch(&word, *++p);
			} else {
				ams_buf_addch(&word, c);
			}
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			if (st == S_WORD)
				push_word(&argv, &n, &word);
			st = S_SPACE;
			continue;
		}
		st = S_WORD;
		if (c == '\'') {
			st = S_SQUOTE;
		} else if (c == '"') {
			st = S_DQUOTE;
		} else if (c == '\\') {
			if (!p[1])
				goto trailing_backslash;
			ams_buf_addch(&word, *++p);
		} else {
			ams_buf_addch(&word, c);
		}
	}
	if (st == S_SQUOTE || st == S_DQUOTE) {
		ams_buf_release(&word);
		ams_procspawn_argv_free(argv);
		return ams_fail(err, AMS_EUSAGE,
				"command line has an unterminated %s quote",
				st == S_SQUOTE ? "single" : "double");
	}
	if (st == S_WORD)
		push_word(&argv, &n, &word);
	if (!n)
		return ams_fail(err, AMS_EUSAGE, "command line is empty");
	*out = argv;
	*nwords = n;
	return AMS_OK;

trailing_backslash:
	ams_buf_release(&word);
	ams_procspawn_argv_free(argv);
	return ams_fail(err, AMS_EUSAGE,
			"command line ends with an unescaped backslash");
}

void ams_procspawn_argv_free(char **argv)
{
	size_t i;

	if (!argv)
		return;
	for (i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
}

void ams_procspawn_result_release(struct ams_procspawn_result *res)
{
	ams_buf_release_secure(&res->out);
	ams_buf_release(&res->err);
	res->exit_code = 0;
	res->term_signal = 0;
}

static void close_pair(int fds[2])
{
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	fds[0] = fds[1] = -1;
}

/* A pipe whose ends do not leak into other children. */
static int cloexec_pipe(int fds[2])
{
	if (pipe(fds))
		return -1;
	if (fcntl(fds[0], F_SETFD, FD_CLOEXEC) ||
	    fcntl(fds[1], F_SETFD, FD_CLOEXEC))
		return -1;
	return 0;
}

static enum ams_code start(pid_t *pid, int outp[2], int errp[2],
			   char *const argv[], struct ams_err *err)
{
	posix_spawn_file_actions_t fa;
	int rc;

	if (cloexec_pipe(outp) || cloexec_pipe(errp))
		return ams_fail(err, AMS_EIO,
				"cannot create a pipe for '%s': %s", argv[0],
				strerror(errno));
	if (posix_spawn_file_actions_init(&fa))
		return ams_fail(err, AMS_EIO, "cannot start '%s'", argv[0]);
	rc = posix_spawn_file_actions_adddup2(&fa, outp[1], STDOUT_FILENO);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, errp[1],
						      STDERR_FILENO);
	if (!rc)
		rc = posix_spawnp(pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc)
		return ams_fail(err, AMS_EIO, "cannot run '%s': %s", argv[0],
				strerror(rc));
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;
	return AMS_OK;
}

/* Reads what is available on fd into sb; false at end of file. */
static bool drain(int fd, struct ams_buf *sb, bool *too_big)
{
	ssize_t n;

	ams_buf_grow(sb, 4096);
	n = read(fd, sb->buf + sb->len, sb->alloc - sb->len - 1);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN;
	if (n == 0)
		return false;
	ams_buf_setlen(sb, sb->len + (size_t)n);
	if (sb->len > AMS_PROCSPAWN_MAX_OUTPUT)
		*too_big = true;
	return true;
}

/* Collects both streams until they close, the deadline, or the cap. */
static enum ams_code collect(struct ams_procspawn_result *out, int outfd,
			     int errfd, uint64_t deadline, const char *name,
			     struct ams_err *err)
{
	struct pollfd pfd[2];
	bool open_out = true, open_err = true, too_big = false;

	while ((open_out || open_err) && !too_big) {
		uint64_t now = ams_clock_mono_ms();
		int nfds = 0, rc;

		if (now >= deadline)
			return ams_fail(err, AMS_ECANCELED,
					"'%s' did not finish in time", name);
		if (open_out)
			pfd[nfds++] = (struct pollfd){ outfd, POLLIN, 0 };
		if (open_err)
			pfd[nfds++] = (struct pollfd){ errfd, POLLIN, 0 };
		rc = poll(pfd, (nfds_t)nfds, (int)(deadline - now));
		if (rc < 0 && errno != EINTR)
			return ams_fail(err, AMS_EIO, "poll: %s",
					strerror(errno));
		if (rc <= 0)
			continue;
		for (int i = 0; i < nfds; i++) {
			bool is_out = pfd[i].fd == outfd;

			if (!pfd[i].revents)
				continue;
			if (!drain(pfd[i].fd, is_out ? &out->out : &out->err,
				   &too_big)) {
				if (is_out)
					open_out = false;
				else
					open_err = false;
			}
		}
	}
	if (too_big)
		return ams_fail(err, AMS_ELIMIT,
				"'%s' wrote more than %u bytes", name,
				AMS_PROCSPAWN_MAX_OUTPUT);
	return AMS_OK;
}

/*
 * Waits until the child exits or the deadline passes; a child that closed
 * its output but keeps running must not hold us forever. A pidfd makes the
 * exit pollable; without one (old kernels) the wait is unbounded, as it is
 * in the SDKs.
 */
static bool wait_exit(pid_t pid, uint64_t deadline)
{
#ifdef SYS_pidfd_open
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd pfd;
	int rc = 0;

	if (fd < 0)
		return true;
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (rc <= 0) {
		uint64_t now = ams_clock_mono_ms();

		if (now >= deadline)
			break;
		rc = poll(&pfd, 1, (int)(deadline - now));
		if (rc < 0 && errno != EINTR)
			break;
	}
	close(fd);
	return rc > 0;
#else
	(void)pid;
	(void)deadline;
	return true;
#endif
}

static void reap(pid_t pid, bool kill_first, struct ams_procspawn_result *out)
{
	int status = 0;

	if (kill_first)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status)) {
		out->exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		out->exit_code = -1;
		out->term_signal = WTERMSIG(status);
	}
}

enum ams_code ams_procspawn_run(struct ams_procspawn_result *out,
				char *const argv[], long timeout_ms,
				struct ams_err *err)
{
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	uint64_t deadline;
	pid_t pid;
	enum ams_code rc;

	memset(out, 0, sizeof(*out));
	ams_buf_init(&out->out, 0);
	ams_buf_init(&out->err, 0);
	if (!argv || !argv[0])
		return ams_fail(err, AMS_EUSAGE, "no program to run");
	deadline =
	    ams_clock_mono_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	rc = start(&pid, outp, errp, argv, err);
	if (rc) {
		close_pair(outp);
		close_pair(errp);
		return rc;
	}
	rc = collect(out, outp[0], errp[0], deadline, argv[0], err);
	close_pair(outp);
	close_pair(errp);
	if (!rc && !wait_exit(pid, deadline))
		rc = ams_fail(err, AMS_ECANCELED,
			      "'%s' did not exit within %ld ms", argv[0],
			      timeout_ms);
	reap(pid, rc != AMS_OK, out);
	return rc;
}

enum ams_code ams_procspawn_fork(struct ams_buf *out, ams_procspawn_fn *fn,
				 void *payload, bool *started,
				 struct ams_err *err)
{
	int fds[2] = { -1, -1 }, status = 0;
	bool too_big = false;
	pid_t pid;

	*started = false;
	if (cloexec_pipe(fds)) {
		close_pair(fds);
		return ams_fail(err, AMS_EIO, "cannot create a pipe: %s",
				strerror(errno));
	}
	pid = fork();
	if (pid < 0) {
		close_pair(fds);
		return ams_fail(err, AMS_EIO, "cannot fork: %s",
				strerror(errno));
	}
	if (pid == 0) {
		struct ams_buf res = AMS_BUF_INIT;

		close(fds[0]);
		fn(payload, &res);
		_exit(ams_write_all(fds[1], res.buf, res.len) ? 1 : 0);
	}
	*started = true;
	close(fds[1]);
	fds[1] = -1;
	while (!too_big && drain(fds[0], out, &too_big))
		;
	close_pair(fds);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return ams_fail(err, AMS_EIO,
					"cannot wait for a "
					"child process: %s",
					strerror(errno));
	if (too_big)
		return ams_fail(err, AMS_ELIMIT,
				"a child process wrote more than %u bytes",
				AMS_PROCSPAWN_MAX_OUTPUT);
	if (WIFSIGNALED(status))
		return ams_fail(err, AMS_EIO,
				"a child process was killed by signal %d",
				WTERMSIG(status));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return ams_fail(err, AMS_EIO,
				"a child process exited with status %d",
				WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return AMS_OK;
}
