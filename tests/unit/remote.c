/*
 * unit/remote.c - unit tests of the remote's paths (remote.c): joined with
 * one slash, refused when unsafe to hand to rclone, and a remote listing
 * grouped as a directory's.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/vblib.h"

/* rclone paths: joined with one slash, refused when unsafe to pass. */
static void
remote_paths(void **state)
{
	char buf[64], why[512];
	struct vb_listed f[] = {
		{ "backup-2026-11-27T01-00-00-000Z.tar.zst", 10 },
		{ "notes.txt", 1 },
		{ "backup-2026-11-28T01-00-00-000Z.tar.zst", 12 },
		{ ".vb-tmp-12-backup-2026-11-28T01-00-00-000Z.tar.zst", 3 },
		{ "backup-2026-11-28T01-00-00-000Z.db", 40 },
	};
	struct vb_backup *list;
	size_t n;

	(void)state;
	assert_int_equal(vb_remote_join(buf, sizeof(buf), "s3:b/dir", "x"), 0);
	assert_string_equal(buf, "s3:b/dir/x");
	assert_int_equal(vb_remote_join(buf, sizeof(buf), "s3:", "x"), 0);
	assert_string_equal(buf, "s3:x");
	assert_int_equal(vb_remote_join(buf, sizeof(buf), "/srv/", "x"), 0);
	assert_string_equal(buf, "/srv/x");
	assert_int_equal(vb_remote_join(buf, 8, "s3:bucket", "x"), -1);
	assert_int_equal(vb_remote_valid("s3:bucket/vb", why, sizeof(why)), 0);
	assert_int_equal(vb_remote_valid("/srv/vb", why, sizeof(why)), 0);
	assert_int_equal(vb_remote_valid("my-remote:", why, sizeof(why)), 0);
	assert_int_equal(vb_remote_valid("--config=/x", why, sizeof(why)), -1);
	assert_int_equal(vb_remote_valid("rel/dir", why, sizeof(why)), -1);
	assert_int_equal(vb_remote_valid(":s3,secret_access_key=K:b", why,
	    sizeof(why)), -1);
	assert_null(strstr(why, "K:b"));
	assert_int_equal(vb_remote_valid("s3,key=K:b", why, sizeof(why)), -1);
	assert_null(strstr(why, "key=K"));
	/* A remote listing groups as a directory's: vb's names, by stem. */
	assert_int_equal(vb_group(f, 5, &list, &n, why, sizeof(why)), 0);
	assert_int_equal((int)n, 2);
	assert_string_equal(list[0].stem, "backup-2026-11-28T01-00-00-000Z");
	assert_int_equal(list[0].nfiles, 2);
	assert_int_equal((int)list[1].files[0].bytes, 10);
	free(list);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(remote_paths),
	};

	return cmocka_run_group_tests_name("remote.c", tests, NULL, NULL);
}
