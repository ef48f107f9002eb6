/*
 * unit/path.c - unit tests of paths (path.c): split and joined within their
 * buffers, and walked to a real directory through links, refusing a loop.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/vblib.h"
#include "help.h"

static void
paths(void **state)
{
	char d[64], b[64], j[16];

	(void)state;
	assert_int_equal(vb_path_split("/var/lib/app.db", d, 64, b, 64), 0);
	assert_string_equal(d, "/var/lib");
	assert_string_equal(b, "app.db");
	assert_int_equal(vb_path_split("app.db", d, 64, b, 64), 0);
	assert_string_equal(d, ".");
	assert_int_equal(vb_path_split("/app.db", d, 64, b, 64), 0);
	assert_string_equal(d, "/");
	assert_int_equal(vb_path_join(j, sizeof(j), "a/", "b"), 0);
	assert_string_equal(j, "a/b");
	assert_int_equal(vb_path_join(j, sizeof(j), "dir", "b"), 0);
	assert_string_equal(j, "dir/b");
	assert_int_equal(vb_path_join(j, sizeof(j), "a-long-dir", "names"), -1);
	assert_int_equal(vb_has_ctl("a\tb"), 1);
	assert_int_equal(vb_has_ctl("a b"), 0);
}

/* What vb_path_walk makes of path: its return, and real when it is 0. */
static int
walked(const char *path, char *real, size_t rlen)
{
	char why[512];
	struct stat st;

	return vb_path_walk(path, real, rlen, &st, why, sizeof(why));
}

static void
path_walk(void **state)
{
	char dir[] = "/tmp/vb-unit-XXXXXX", p[256], q[256], real[4096];
	char cwd[4096];

	(void)state;
	mkdtemp_or_fail(dir);
	snprintf(p, sizeof(p), "%s/a/b", dir);
	assert_int_equal(vb_mkdir_p(p, real, sizeof(real)), 0);
	/* Root's links are followed, relative and absolute, "..", ".". */
	snprintf(p, sizeof(p), "%s/l", dir);
	assert_int_equal(symlink("a/b", p), 0);
	snprintf(p, sizeof(p), "%s/l/../b/./", dir);
	assert_int_equal(walked(p, real, sizeof(real)), 0);
	snprintf(q, sizeof(q), "%s/a/b", dir);
	assert_string_equal(real, q);
	snprintf(p, sizeof(p), "%s/abs", dir);
	assert_int_equal(symlink(q, p), 0);
	snprintf(p, sizeof(p), "%s/abs/new/x", dir);
	assert_int_equal(walked(p, real, sizeof(real)), 1);
	snprintf(q, sizeof(q), "%s/a/b/new/x", dir);
	assert_string_equal(real, q);
	/* Relative to the working directory. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(walked("l", real, sizeof(real)), 0);
	snprintf(q, sizeof(q), "%s/a/b", dir);
	assert_string_equal(real, q);
	assert_int_equal(chdir(cwd), 0);
	/* A loop; another user's link (as root only). */
	snprintf(p, sizeof(p), "%s/loop", dir);
	assert_int_equal(symlink("loop", p), 0);
	assert_int_equal(walked(p, real, sizeof(real)), -1);
	assert_int_equal(errno, ELOOP);
	snprintf(p, sizeof(p), "%s/l", dir);
	if (geteuid() == 0 && lchown(p, 65534, 65534) == 0) {
		snprintf(p, sizeof(p), "%s/l/c", dir);
		assert_int_equal(walked(p, real, sizeof(real)), -2);
	}
	rm_rf(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(paths),
		cmocka_unit_test(path_walk),
	};

	return cmocka_run_group_tests_name("path.c", tests, NULL, NULL);
}
