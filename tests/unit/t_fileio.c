/*
 * Atomic writes of reports and outputs: exact content and mode whatever
 * the umask, and never a write through something planted at the
 * temporary name (a symlink in a shared directory) or at the path.
 */
#include "harness.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fileio.h"

static char dir[] = "/tmp/ams-t-fileio.XXXXXX";

static char *in_dir(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static char *tmp_name(const char *path)
{
	return xasprintf("%s.tmp.%ld", path, (long)getpid());
}

static char *slurp(const char *path)
{
	struct ams_buf sb = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;

	if (ams_file_read(&sb, path, 1 << 20, "test", &err))
		return NULL;
	return ams_buf_detach(&sb, NULL);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_mode_and_content(void)
{
	char *path = in_dir("report.json");
	struct ams_err err = AMS_ERR_INIT;
	struct stat st;
	mode_t old = umask(0);
	char *got;

	CHECK_RC(AMS_OK,
		 ams_file_write_atomic(path, "{}\n", 3, 0600, "report", &err),
		 &err);
	umask(old);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	got = slurp(path);
	CHECK_STR_EQ("{}\n", got);
	free(got);
	/* Replacing keeps the mode exact too. */
	CHECK_RC(AMS_OK,
		 ams_file_write_atomic(path, "[1]", 3, 0600, "report", &err),
		 &err);
	got = slurp(path);
	CHECK_STR_EQ("[1]", got);
	free(got);
	unlink(path);
	free(path);
}

static void test_streamed_pieces(void)
{
	char *path = in_dir("streamed.json"), *tmp = tmp_name(path), *got;
	struct ams_err err = AMS_ERR_INIT;
	struct ams_file_atomic f;
	struct stat st;

	put(path, "old");
	CHECK_RC(AMS_OK, ams_file_atomic_open(&f, path, 0600, "report", &err),
		 &err);
	ams_file_atomic_write(&f, "{\"a\":", 5);
	ams_file_atomic_write(&f, "", 0);
	/* Until the commit, readers see the old file. */
	got = slurp(path);
	CHECK_STR_EQ("old", got);
	free(got);
	ams_file_atomic_write(&f, "1}", 2);
	CHECK_RC(AMS_OK, ams_file_atomic_commit(&f, &err), &err);
	got = slurp(path);
	CHECK_STR_EQ("{\"a\":1}", got);
	free(got);
	CHECK(stat(tmp, &st) != 0);
	/* Aborted: the path keeps its content, no temporary file is left. */
	CHECK_RC(AMS_OK, ams_file_atomic_open(&f, path, 0600, "report", &err),
		 &err);
	ams_file_atomic_write(&f, "half", 4);
	ams_file_atomic_abort(&f);
	got = slurp(path);
	CHECK_STR_EQ("{\"a\":1}", got);
	free(got);
	CHECK(stat(tmp, &st) != 0);
	unlink(path);
	free(tmp);
	free(path);
}

static void test_symlink_at_temp_name(void)
{
	char *path = in_dir("r.json"), *victim = in_dir("victim");
	char *tmp = tmp_name(path), *got;
	struct ams_err err = AMS_ERR_INIT;
	struct stat st;

	put(victim, "precious\n");
	chmod(victim, 0644);
	CHECK(symlink(victim, tmp) == 0);
	CHECK_RC(AMS_OK,
		 ams_file_write_atomic(path, "report", 6, 0600, "report", &err),
		 &err);
	got = slurp(victim);
	CHECK_STR_EQ("precious\n", got);
	free(got);
	CHECK(stat(victim, &st) == 0 && (st.st_mode & 0777) == 0644);
	got = slurp(path);
	CHECK_STR_EQ("report", got);
	free(got);
	CHECK(lstat(tmp, &st) != 0);
	unlink(path);
	unlink(victim);
	free(tmp);
	free(victim);
	free(path);
}

static void test_leftover_temp_file(void)
{
	char *path = in_dir("left.json"), *tmp = tmp_name(path), *got;
	struct ams_err err = AMS_ERR_INIT;
	struct stat st;

	put(tmp, "a longer leftover from a crashed run\n");
	chmod(tmp, 0666);
	CHECK_RC(AMS_OK,
		 ams_file_write_atomic(path, "new", 3, 0600, "report", &err),
		 &err);
	got = slurp(path);
	CHECK_STR_EQ("new", got);
	free(got);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	unlink(path);
	free(tmp);
	free(path);
}

static void test_symlink_at_path(void)
{
	char *path = in_dir("link.json"), *victim = in_dir("target");
	char *got;
	struct ams_err err = AMS_ERR_INIT;
	struct stat st;

	put(victim, "keep\n");
	CHECK(symlink(victim, path) == 0);
	CHECK_RC(AMS_OK,
		 ams_file_write_atomic(path, "out", 3, 0600, "report", &err),
		 &err);
	/* The link is replaced by the report; what it pointed at is kept. */
	CHECK(lstat(path, &st) == 0 && S_ISREG(st.st_mode));
	got = slurp(victim);
	CHECK_STR_EQ("keep\n", got);
	free(got);
	unlink(path);
	unlink(victim);
	free(victim);
	free(path);
}

static void test_unwritable_directory(void)
{
	struct ams_err err = AMS_ERR_INIT;

	CHECK_RC(AMS_EIO,
		 ams_file_write_atomic("/nonexistent-dir/r.json", "x", 1, 0600,
				       "report", &err),
		 &err);
	CHECK(strstr(err.msg, "report '/nonexistent-dir/r.json'") != NULL);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	TEST(test_mode_and_content, "0600 and exact content under umask 0");
	TEST(test_streamed_pieces,
	     "written in pieces: old file until commit, nothing after abort");
	TEST(test_symlink_at_temp_name,
	     "a symlink at the temporary name is not written through");
	TEST(test_leftover_temp_file, "a leftover temporary file is replaced");
	TEST(test_symlink_at_path, "a symlink at the path is replaced");
	TEST(test_unwritable_directory, "an unwritable place fails, named");
	rmdir(dir);
	return test_done();
}
