/*
 * Whole-file reads and atomic writes.
 */
#ifndef AMS_FILEIO_H
#define AMS_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "err.h"

/*
 * Writes all len bytes at data to fd, going on after EINTR and short
 * writes. AMS_OK, or AMS_EIO (errno tells why; 0 when write returned 0).
 */
enum ams_code ams_write_all(int fd, const void *data, size_t len);

/*
 * Reads path into out (appending), refusing files over max_bytes.
 * what names the file's role in errors: "manifest", "accounts file".
 */
enum ams_code ams_file_read(struct ams_buf *out, const char *path,
			    size_t max_bytes, const char *what,
			    struct ams_err *err);

/*
 * Writes data to path atomically: a temporary file in the same directory
 * with the given mode, fsync, then rename over path. Readers see the old
 * file or the new one, never a part. On failure the temporary file is
 * removed and path is untouched.
 */
enum ams_code ams_file_write_atomic(const char *path, const void *data,
				    size_t len, mode_t mode, const char *what,
				    struct ams_err *err);

/*
 * The same, written in pieces: open, write any number of times, then
 * commit (fsync, rename) or abort (remove the temporary file). A failed
 * write is kept: later writes do nothing and commit reports it (and
 * removes the temporary file). Commit and abort release f.
 */
struct ams_file_atomic {
	char *path;
	char *tmp;
	const char *what;
	int fd;
	int saved_errno; /* first write error; 0: none */
};
enum ams_code ams_file_atomic_open(struct ams_file_atomic *f, const char *path,
				   mode_t mode, const char *what,
				   struct ams_err *err);
void ams_file_atomic_write(struct ams_file_atomic *f, const void *data,
			   size_t len);
enum ams_code ams_file_atomic_commit(struct ams_file_atomic *f,
				     struct ams_err *err);
void ams_file_atomic_abort(struct ams_file_atomic *f);

#endif
