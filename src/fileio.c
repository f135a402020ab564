/*
 * Whole-file reads with a size cap, and atomic writes (temp + rename,
 * after git's lockfile).
 */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum ams_code ams_file_read(struct ams_buf *out, const char *path,
			    size_t max_bytes, const char *what,
			    struct ams_err *err)
{
	char chunk[65536];
	size_t n, total = 0;
	FILE *f = fopen(path, "rb");

	if (!f)
		return ams_fail(err, AMS_EUSAGE, "%s '%s': %s", what, path,
				strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		total += n;
		if (total > max_bytes) {
			fclose(f);
			return ams_fail(err, AMS_EUSAGE,
					"%s '%s': larger than %zu bytes", what,
					path, max_bytes);
		}
		ams_buf_add(out, chunk, n);
	}
	if (ferror(f)) {
		fclose(f);
		return ams_fail(err, AMS_EIO, "%s '%s': read error", what,
				path);
	}
	fclose(f);
	return AMS_OK;
}

enum ams_code ams_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return AMS_EIO;
		p += n;
		len -= (size_t)n;
	}
	return AMS_OK;
}

enum ams_code ams_file_atomic_open(struct ams_file_atomic *f, const char *path,
				   mode_t mode, const char *what,
				   struct ams_err *err)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->what = what;
	f->tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	/*
	 * The name is predictable, so never write through what is there: a
	 * symlink planted in a shared directory would point the write at
	 * another file. Remove any leftover and create a new file, or fail.
	 */
	if (unlink(f->tmp) && errno != ENOENT)
		goto fail;
	f->fd = open(
	    f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (f->fd < 0)
		goto fail;
	/* The umask may have widened nothing but may have narrowed: be exact. */
	if (fchmod(f->fd, mode)) {
		int saved = errno;

		close(f->fd);
		unlink(f->tmp);
		errno = saved;
		goto fail;
	}
	f->path = xstrdup(path);
	return AMS_OK;
fail:
	ams_fail(err, AMS_EIO, "%s '%s': %s", what, path, strerror(errno));
	free(f->tmp);
	f->tmp = NULL;
	f->fd = -1;
	return AMS_EIO;
}

void ams_file_atomic_write(struct ams_file_atomic *f, const void *data,
			   size_t len)
{
	if (f->fd < 0 || f->saved_errno || !len)
		return;
	if (ams_write_all(f->fd, data, len))
		f->saved_errno = errno ? errno : EIO;
}

void ams_file_atomic_abort(struct ams_file_atomic *f)
{
	if (f->fd >= 0) {
		close(f->fd);
		unlink(f->tmp);
	}
	free(f->tmp);
	free(f->path);
	f->tmp = f->path = NULL;
	f->fd = -1;
}

enum ams_code ams_file_atomic_commit(struct ams_file_atomic *f,
				     struct ams_err *err)
{
	int saved = f->saved_errno;

	if (f->fd < 0)
		return ams_fail(err, AMS_EIO, "%s: not open", f->what);
	if (!saved && fsync(f->fd))
		saved = errno;
	if (close(f->fd) && !saved)
		saved = errno;
	f->fd = -1;
	if (!saved && rename(f->tmp, f->path))
		saved = errno;
	if (saved) {
		unlink(f->tmp);
		ams_fail(err, AMS_EIO, "%s '%s': %s", f->what, f->path,
			 strerror(saved));
	}
	ams_file_atomic_abort(f); /* frees the names; the file is closed */
	return saved ? AMS_EIO : AMS_OK;
}

enum ams_code ams_file_write_atomic(const char *path, const void *data,
				    size_t len, mode_t mode, const char *what,
				    struct ams_err *err)
{
	struct ams_file_atomic f;

	if (ams_file_atomic_open(&f, path, mode, what, err))
		return AMS_EIO;
	ams_file_atomic_write(&f, data, len);
	return ams_file_atomic_commit(&f, err);
}
