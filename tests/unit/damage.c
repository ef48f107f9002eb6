/*
 * unit/damage.c - unit tests of damaged links (damage.c): an archive checked
 * against the SHA-256 its index recorded (good, damaged, missing, unknown),
 * the damage recorded, seen by the listing's health and by retention, and
 * healed by a good copy.
 */
#define _GNU_SOURCE
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

/* Writes len bytes of c into dir/name; 0 or -1. */
static int
put_file(const char *dir, const char *name, int c, size_t len)
{
	char path[512], buf[4096];
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	memset(buf, c, sizeof(buf));
	if ((fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600)) == -1)
		return -1;
	rc = write(fd, buf, len) == (ssize_t)len ? 0 : -1;
	close(fd);
	return rc;
}

/*
 * A link proven against the SHA-256 its index recorded: good, damaged,
 * missing, unknown (an old index); damage recorded, seen by the
 * listing's health and by retention, and healed by a good copy.
 */
static void
link_damage(void **state)
{
	static const char full[] = "backup-2026-11-01T01-00-00-000Z.tar.zst";
	static const char delta[] =
	    "backup-2026-11-02T01-00-00-000Z.delta.tar.zst";
	char dir[] = "/tmp/vb-unit-XXXXXX", why[512], path[512];
	struct vb_policy pol;
	struct vb_backup *list;
	struct vb_index x, back;
	struct vb_fault f;
	size_t n;
	int fd;

	(void)state;
	mkdtemp_or_fail(dir);
	assert_int_equal(put_file(dir, full, 'a', 1000), 0);
	assert_int_equal(put_file(dir, delta, 'b', 100), 0);
	memset(&x, 0, sizeof(x));
	vb_pages_init(&x.p, 4096);
	snprintf(x.stem, sizeof(x.stem), "backup-2026-11-01T01-00-00-000Z");
	snprintf(x.archive, sizeof(x.archive), "%s", full);
	x.archive_bytes = 1000;
	snprintf(path, sizeof(path), "%s/%s", dir, full);
	fd = open(path, O_RDONLY);
	assert_int_equal(vb_sha256_fd(fd, x.archive_sha256), 1000);
	close(fd);
	assert_int_equal(vb_index_write(dir, &x, why, sizeof(why)), 0);
	assert_int_equal(vb_index_read(dir, x.stem, 1, &back, why,
	    sizeof(why)), 0);
	assert_string_equal(back.archive_sha256, x.archive_sha256);
	assert_int_equal(vb_link_check(dir, &back, 0, &f, why, sizeof(why)),
	    0);
	/* One byte changed: damaged, both hashes said. */
	assert_int_equal(put_file(dir, full, 'a', 999), 0);
	assert_int_equal(vb_link_check(dir, &back, 3, &f, why, sizeof(why)),
	    1);
	assert_false(f.missing);
	assert_string_equal(f.recorded, x.archive_sha256);
	assert_string_not_equal(f.found, x.archive_sha256);
	vb_fault_text(&f, dir, why, sizeof(why));
	assert_non_null(strstr(why, "is damaged: its SHA-256 is"));
	assert_non_null(strstr(why, "the 3 backups built on it"));
	/* Recorded: the listing sees it, and the delta on it. */
	assert_int_equal(vb_damage_mark(dir, &f, why, sizeof(why)), 0);
	assert_int_equal(vb_scan(dir, &list, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 2);
	snprintf(list[0].parent, sizeof(list[0].parent), "%s", x.stem);
	assert_int_equal(vb_health(dir, list, n, 0, 1, NULL, why,
	    sizeof(why)), 0);
	assert_true(list[1].damaged);
	assert_true(list[1].unsafe);
	assert_true(list[0].unsafe);
	assert_non_null(strstr(list[0].why, "which cannot be restored"));
	/* Retention counts neither and keeps both. */
	memset(&pol, 0, sizeof(pol));
	pol.keep = 1;
	vb_retention(list, n, &pol);
	assert_int_equal(list[0].keep, VB_KEEP_UNSAFE);
	assert_int_equal(list[1].keep, VB_KEEP_UNSAFE);
	/* A good copy put back: the record goes. */
	assert_int_equal(put_file(dir, full, 'a', 1000), 0);
	assert_int_equal(vb_health(dir, list, n, 0, 1, NULL, why,
	    sizeof(why)), 0);
	assert_false(list[1].damaged);
	assert_false(list[0].unsafe);
	snprintf(path, sizeof(path), "%s/%s%s", dir, VB_DAMAGE_PREFIX,
	    x.stem);
	assert_int_equal(access(path, F_OK), -1);
	free(list);
	/* Gone: missing. */
	snprintf(path, sizeof(path), "%s/%s", dir, full);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(vb_link_check(dir, &back, 0, &f, why, sizeof(why)),
	    1);
	assert_true(f.missing);
	/* An index from before the SHA-256 was recorded: unknown. */
	assert_int_equal(put_file(dir, full, 'a', 1000), 0);
	x.archive_sha256[0] = '\0';
	assert_int_equal(vb_index_write(dir, &x, why, sizeof(why)), 0);
	assert_int_equal(vb_index_read(dir, x.stem, 1, &back, why,
	    sizeof(why)), 0);
	assert_string_equal(back.archive_sha256, "");
	assert_int_equal(vb_link_check(dir, &back, 0, &f, why, sizeof(why)),
	    -1);
	assert_non_null(strstr(why, "no SHA-256 recorded"));
	rm_rf(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(link_damage),
	};

	return cmocka_run_group_tests_name("damage.c", tests, NULL, NULL);
}
