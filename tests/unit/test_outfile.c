/* test_outfile: atomic replacement; what a failure leaves behind. */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "outfile.h"
#include "testutil.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_outfile.XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	DIR *d;
	struct dirent *de;

	(void)state;
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			char path[512];
			if (de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
			    strcmp(de->d_name, "..") == 0))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	return rmdir(dir);
}

/* The names in dir, sorted and ','-joined. */
static void
listing(char *out, size_t size)
{
	struct dirent **names;
	int n, i;

	out[0] = '\0';
	n = scandir(dir, &names, NULL, alphasort);
	assert_true(n >= 2);
	for (i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") != 0 &&
		    strcmp(names[i]->d_name, "..") != 0) {
			if (out[0] != '\0')
				strncat(out, ",", size - strlen(out) - 1);
			strncat(out, names[i]->d_name, size - strlen(out) - 1);
		}
		free(names[i]);
	}
	free(names);
}

static void
check_content(const char *path, const char *want)
{
	struct buf b;

	tu_slurp(path, &b);
	assert_string_equal(b.data, want);
	buf_free(&b);
}

static void
test_replace(void **state)
{
	char path[128], names[256];
	struct stat st;
	struct err e = { 0 };
	mode_t old = umask(077);

	(void)state;
	snprintf(path, sizeof(path), "%s/dna.json", dir);
	assert_int_equal(outfile_write(path, "one\n", 4, 0644, &e), 0);
	check_content(path, "one\n");
	assert_int_equal(outfile_write(path, "two\n", 4, 0644, &e), 0);
	check_content(path, "two\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);	/* umask 077 or not */
	listing(names, sizeof(names));
	assert_string_equal(names, "dna.json");
	assert_int_equal(outfile_write(path, "", 0, 0644, &e), 0);
	check_content(path, "");
	umask(old);
}

static void
test_missing_dir(void **state)
{
	char path[128];
	struct err e = { 0 };

	(void)state;
	snprintf(path, sizeof(path), "%s/nope/dna.json", dir);
	assert_int_equal(outfile_write(path, "x", 1, 0644, &e), ERR_FAIL);
	assert_non_null(strstr(e.msg, "No such file or directory"));
	snprintf(path, sizeof(path), "%s/", dir);
	assert_int_equal(outfile_write(path, "x", 1, 0644, &e), ERR_FAIL);
	assert_int_equal(outfile_write("", "x", 1, 0644, &e), ERR_FAIL);
}

/* A write that fails halfway (RLIMIT_FSIZE): the old file stays whole
 * and the partial temporary file is gone. */
static void
test_write_fails(void **state)
{
	char path[128], names[256], big[4096];
	struct err e = { 0 };
	pid_t pid;
	int status;

	(void)state;
	snprintf(path, sizeof(path), "%s/dna.json", dir);
	assert_int_equal(outfile_write(path, "old\n", 4, 0644, &e), 0);
	memset(big, 'x', sizeof(big));
	if ((pid = fork()) == 0) {
		struct rlimit rl = { 1000, 1000 };

		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
			_exit(10);
		if (outfile_write(path, big, sizeof(big), 0644, &e) != ERR_FAIL)
			_exit(11);
		_exit(strstr(e.msg, "File too large") ? 0 : 12);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	check_content(path, "old\n");
	listing(names, sizeof(names));
	assert_string_equal(names, "dna.json");
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_missing_dir),
		cmocka_unit_test(test_write_fails),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
