/*
 * unit/dir.c - unit tests of directories (dir.c): made mode 0700 whatever
 * the umask, and a failure that names the path and the reason.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/vblib.h"
#include "help.h"

static void
mkdir_mode(void **state)
{
	char dir[] = "/tmp/vb-unit-XXXXXX", p[256], why[512];
	struct stat st;
	mode_t old;

	(void)state;
	mkdtemp_or_fail(dir);
	snprintf(p, sizeof(p), "%s/a/b", dir);
	old = umask(0777);
	assert_int_equal(vb_mkdir_p(p, why, sizeof(why)), 0);
	umask(old);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	snprintf(p, sizeof(p), "%s/f", dir);
	close(open(p, O_CREAT | O_WRONLY, 0600));
	assert_int_equal(vb_mkdir_p(p, why, sizeof(why)), -1);
	assert_non_null(strstr(why, p));
	assert_non_null(strstr(why, "not a directory"));
	snprintf(p, sizeof(p), "/proc/nope/x");
	assert_int_equal(vb_mkdir_p(p, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "cannot create directory /proc/nope"));
	rm_rf(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mkdir_mode),
	};

	return cmocka_run_group_tests_name("dir.c", tests, NULL, NULL);
}
