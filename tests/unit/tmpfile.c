/*
 * unit/tmpfile.c - unit tests of the safe writes (tmpfile.c): a temporary's
 * name carries its writer's PID, a commit is mode 0600 and never replaces a
 * file, and only a dead writer's temporaries are cleaned up.
 */
#define _GNU_SOURCE
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
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
tmp_names(void **state)
{
	(void)state;
	assert_int_equal(vb_tmp_pid(".vb-tmp-1234-backup-x.db"), 1234);
	assert_int_equal(vb_tmp_pid(".vb-tmp--backup-x.db"), -1);
	assert_int_equal(vb_tmp_pid(".vb-tmp-12x-backup"), -1);
	assert_int_equal(vb_tmp_pid(".vb-tmp-0-backup"), -1);
	assert_int_equal(vb_tmp_pid(".vb-tmp-99999999999-x"), -1);
	assert_int_equal(vb_tmp_pid("vb-tmp-12-x"), -1);
}

static void
tmp_commit_rules(void **state)
{
	char dir[] = "/tmp/vb-unit-XXXXXX", p[256], why[512];
	struct vb_tmp t;
	struct stat st;
	mode_t old;

	(void)state;
	mkdtemp_or_fail(dir);
	old = umask(0);
	assert_int_equal(vb_tmp_open(&t, dir, "backup-a.db", why,
	    sizeof(why)), 0);
	umask(old);
	assert_int_equal(write(t.fd, "data", 4), 4);
	assert_int_equal(vb_tmp_commit(&t, why, sizeof(why)), 0);
	snprintf(p, sizeof(p), "%s/backup-a.db", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 4);

	/* Never over an existing file; the temporary goes away; the
	 * reason comes back, for the caller to print once. */
	assert_int_equal(vb_tmp_open(&t, dir, "backup-a.db", why,
	    sizeof(why)), 0);
	assert_int_equal(write(t.fd, "other", 5), 5);
	assert_int_equal(vb_tmp_commit(&t, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "cannot rename"));
	assert_non_null(strstr(why, strerror(EEXIST)));
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 4);
	snprintf(p, sizeof(p), "%s/.vb-tmp-%ld-backup-a.db", dir,
	    (long)getpid());
	assert_int_equal(access(p, F_OK), -1);

	/* A directory that is not there: its name and the reason. */
	snprintf(p, sizeof(p), "%s/gone", dir);
	assert_int_equal(vb_tmp_open(&t, p, "backup-b.db", why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, p));
	assert_non_null(strstr(why, strerror(ENOENT)));
	rm_rf(dir);
}

static void
stale_only_dead_writers(void **state)
{
	char dir[] = "/tmp/vb-unit-XXXXXX", p[300], note[1024];
	pid_t dead;
	int fd;

	(void)state;
	mkdtemp_or_fail(dir);
	if ((dead = fork()) == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	snprintf(p, sizeof(p), "%s/.vb-tmp-%ld-backup-x.db", dir, (long)dead);
	close(open(p, O_CREAT | O_WRONLY, 0600));
	snprintf(p, sizeof(p), "%s/.vb-tmp-%ld-backup-y.db", dir,
	    (long)getppid());
	close(open(p, O_CREAT | O_WRONLY, 0600));
	snprintf(p, sizeof(p), "%s/.vb-tmp-x-backup-z.db", dir);
	close(open(p, O_CREAT | O_WRONLY, 0600));
	snprintf(p, sizeof(p), "%s/notes.txt", dir);
	close(open(p, O_CREAT | O_WRONLY, 0600));

	assert_int_equal(vb_clean_stale(dir, note, sizeof(note)), 1);
	snprintf(p, sizeof(p), "%s/.vb-tmp-%ld-backup-x.db", dir, (long)dead);
	assert_int_equal(access(p, F_OK), -1);
	assert_non_null(strstr(note, p));
	snprintf(p, sizeof(p), "%s/.vb-tmp-%ld-backup-y.db", dir,
	    (long)getppid());
	assert_int_equal(access(p, F_OK), 0);
	snprintf(p, sizeof(p), "%s/.vb-tmp-x-backup-z.db", dir);
	assert_int_equal(access(p, F_OK), 0);
	snprintf(p, sizeof(p), "%s/notes.txt", dir);
	assert_int_equal(access(p, F_OK), 0);
	assert_int_equal(vb_clean_stale("/nonexistent/dir", note,
	    sizeof(note)), 0);
	assert_string_equal(note, "");
	(void)fd;
	rm_rf(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tmp_names),
		cmocka_unit_test(tmp_commit_rules),
		cmocka_unit_test(stale_only_dead_writers),
	};

	return cmocka_run_group_tests_name("tmpfile.c", tests, NULL, NULL);
}
