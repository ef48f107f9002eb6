/*
 * unit/plaintext.c - unit tests of the raw snapshots a run may leave
 * (plaintext.c): which have no archive, by name; a removal of a regular
 * file under a raw snapshot's name only, never through a link.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/vblib.h"
#include "help.h"

/* Makes dir/name, a regular file holding "x". */
static void
touch(const char *dir, const char *name)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_true((fd = open(p, O_CREAT | O_WRONLY, 0600)) >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
}

static int
exists(const char *dir, const char *name)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return lstat(p, &st) == 0;
}

static void
listed(void **state)
{
	char dir[] = "/tmp/vb-unit-XXXXXX", p[512], link[512], why[512];
	struct vb_listed *l;
	size_t n;

	(void)state;
	mkdtemp_or_fail(dir);
	touch(dir, "backup-2026-11-02T01-00-00-000Z.db");
	touch(dir, "backup-2026-11-01T01-00-00-000Z.db");
	touch(dir, "backup-2026-11-01T01-00-00-000Z.tar.zst");
	touch(dir, "backup-2026-11-03T01-00-00-000Z.tar.zst");
	touch(dir, "backup-2026-11-04T01-00-00-000Z.db.failed-check");
	touch(dir, "notes.db");
	snprintf(p, sizeof(p), "%s/notes.db", dir);
	snprintf(link, sizeof(link), "%s/backup-2026-11-05T01-00-00-000Z.db",
	    dir);
	/* A link named like a snapshot: no raw snapshot. */
	assert_int_equal(symlink(p, link), 0);
	assert_int_equal(vb_raw_list(dir, 0, &l, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 1);
	assert_string_equal(l[0].name, "backup-2026-11-02T01-00-00-000Z.db");
	free(l);
	assert_int_equal(vb_raw_list(dir, 1, &l, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 2);
	/* Oldest first. */
	assert_string_equal(l[0].name, "backup-2026-11-01T01-00-00-000Z.db");
	assert_string_equal(l[1].name, "backup-2026-11-02T01-00-00-000Z.db");
	free(l);
	rm_rf(dir);
	assert_int_equal(vb_raw_list(dir, 1, &l, &n, why, sizeof(why)), -1);
	assert_non_null(strstr(why, dir));
	assert_null(l);
}

static void
removed(void **state)
{
	char dir[] = "/tmp/vb-unit-XXXXXX", p[512], link[512], why[512];

	(void)state;
	mkdtemp_or_fail(dir);
	touch(dir, "backup-2026-11-02T01-00-00-000Z.db");
	assert_int_equal(vb_raw_remove(dir,
	    "backup-2026-11-02T01-00-00-000Z.db",
	    why, sizeof(why)), 0);
	assert_false(exists(dir, "backup-2026-11-02T01-00-00-000Z.db"));
	/* Never through a link, nor the link itself. */
	touch(dir, "victim");
	snprintf(p, sizeof(p), "%s/victim", dir);
	snprintf(link, sizeof(link), "%s/backup-2026-11-03T01-00-00-000Z.db",
	    dir);
	assert_int_equal(symlink(p, link), 0);
	assert_int_equal(vb_raw_remove(dir,
	    "backup-2026-11-03T01-00-00-000Z.db",
	    why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not a regular file"));
	assert_true(exists(dir, "victim"));
	assert_true(exists(dir, "backup-2026-11-03T01-00-00-000Z.db"));
	/* Only a raw snapshot's name: no archive, no foreign file, no path. */
	touch(dir, "backup-2026-11-01T01-00-00-000Z.tar.zst");
	assert_int_equal(vb_raw_remove(dir,
	    "backup-2026-11-01T01-00-00-000Z.tar.zst", why, sizeof(why)), -1);
	assert_true(exists(dir, "backup-2026-11-01T01-00-00-000Z.tar.zst"));
	assert_int_equal(vb_raw_remove(dir, "victim", why, sizeof(why)), -1);
	assert_int_equal(vb_raw_remove(dir,
	    "../backup-2026-11-01T01-00-00-000Z.db", why, sizeof(why)), -1);
	assert_true(exists(dir, "victim"));
	/* Gone already: said. */
	assert_int_equal(vb_raw_remove(dir,
	    "backup-2026-11-09T01-00-00-000Z.db",
	    why, sizeof(why)), -1);
	assert_non_null(strstr(why, "No such file"));
	rm_rf(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(listed),
		cmocka_unit_test(removed),
	};

	return cmocka_run_group_tests_name("plaintext.c", tests, NULL, NULL);
}
