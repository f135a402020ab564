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

static enum ams_code write_all(int fd, const char *p, size_t len)
{
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

enum ams_code ams_file_write_atomic(const char *path, const void *data,
				    size_t len, mode_t mode, const char *what,
				    struct ams_err *err)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd, saved;

	/*
	 * The name is predictable, so never write through what is there: a
	 * symlink planted in a shared directory would point the write at
	 * another file. Remove any leftover and create a new file, or fail.
	 */
	if (unlink(tmp) && errno != ENOENT) {
		ams_fail(err, AMS_EIO, "%s '%s': %s", what, path,
			 strerror(errno));
		free(tmp);
		return AMS_EIO;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  mode);
	if (fd < 0) {
		ams_fail(err, AMS_EIO, "%s '%s': %s", what, path,
			 strerror(errno));
		free(tmp);
		return AMS_EIO;
	}
	/* The umask may have widened nothing but may have narrowed: be exact. */
	if (fchmod(fd, mode) || write_all(fd, data, len) || fsync(fd)) {
		saved = errno;
		close(fd);
		unlink(tmp);
		ams_fail(err, AMS_EIO, "%s '%s': %s", what, path,
			 strerror(saved));
		free(tmp);
		return AMS_EIO;
	}
	if (close(fd) || rename(tmp, path)) {
		saved = errno;
		unlink(tmp);
		ams_fail(err, AMS_EIO, "%s '%s': %s", what, path,
			 strerror(saved));
		free(tmp);
		return AMS_EIO;
	}
	free(tmp);
	return AMS_OK;
}
