/*
 * unit/name.c - unit tests of backup names and timestamps (name.c): a name's
 * stamp and ISO time written and read back, impossible dates refused, and
 * only vb's own names taken for backups.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "lib/vblib.h"

static void
stamp_roundtrip(void **state)
{
	struct timespec ts = { 1796086800, 412000000 }, back;
	char s[VB_STAMP_LEN], iso[VB_ISO_LEN];

	(void)state;
	vb_stamp(&ts, s);
	assert_string_equal(s, "2026-12-01T01-00-00-412Z");
	vb_iso_time(&ts, iso);
	assert_string_equal(iso, "2026-12-01T01:00:00.412Z");
	assert_int_equal(vb_parse_stamp(s, &back), 0);
	assert_int_equal(back.tv_sec, ts.tv_sec);
	assert_int_equal(back.tv_nsec, ts.tv_nsec);
	assert_int_equal(vb_parse_iso(iso, &back), 0);
	assert_int_equal(back.tv_sec, ts.tv_sec);
}

static void
stamp_rejects(void **state)
{
	static const char *bad[] = {
		"2026-02-30T01-00-00-000Z",	/* no such day */
		"2023-02-29T01-00-00-000Z",	/* not a leap year */
		"2026-13-01T01-00-00-000Z",
		"2026-00-01T01-00-00-000Z",
		"2026-11-27T24-00-00-000Z",
		"2026-11-27T01-60-00-000Z",
		"2026-11-27T01-00-00-000",
		"2026-11-27T01-00-00-000Z ",
		"2026-11-27T01:00:00.000Z",
		"1969-12-31T23-59-59-999Z",
		"2026-1a-27T01-00-00-000Z",
	};
	struct timespec ts;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (vb_parse_stamp(bad[i], &ts) == 0)
			fail_msg("accepted %s", bad[i]);
	assert_int_equal(vb_parse_stamp("2024-02-29T23-59-59-999Z", &ts), 0);
}

static void
names(void **state)
{
	static const char *foreign[] = {
		"backup-foo.db", "other.tar.zst", "notes.txt",
		"backup-2026-11-27T01-00-00-000Z.db.bak",
		"backup-2026-11-27T01-00-00-000Z.tar.bz2",
		"backup-2026-11-27T01-00-00-000Z",
		"Backup-2026-11-27T01-00-00-000Z.db",
		".vb-tmp-12-backup-2026-11-27T01-00-00-000Z.db",
		"backup-2026-02-30T01-00-00-000Z.db",
		"pre-restore-2026-11-27T01-00-00-000Z.zip",
	};
	struct vb_name n;
	size_t i;

	(void)state;
	assert_int_equal(vb_name_parse(
	    "backup-2026-11-27T01-00-00-000Z.tar.zst",
	    &n), 0);
	assert_int_equal(n.kind, VB_KIND_BACKUP);
	assert_int_equal(n.ext, VB_EXT_TAR_ZST);
	assert_string_equal(n.stem, "backup-2026-11-27T01-00-00-000Z");
	assert_string_equal(vb_ext_str(n.ext), ".tar.zst");
	assert_int_equal(vb_name_parse("backup-2023-10-02T18-30-00-000Z.db",
	    &n), 0);
	assert_int_equal(n.ext, VB_EXT_DB);
	assert_int_equal(vb_name_parse(
	    "pre-restore-2026-11-27T01-00-00-000Z.tar", &n), 0);
	assert_int_equal(n.kind, VB_KIND_PRE_RESTORE);
	assert_int_equal(n.ext, VB_EXT_TAR);
	assert_string_equal(n.stem, "pre-restore-2026-11-27T01-00-00-000Z");
	for (i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++)
		if (vb_name_parse(foreign[i], &n) == 0)
			fail_msg("took %s for vb's", foreign[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stamp_roundtrip),
		cmocka_unit_test(stamp_rejects),
		cmocka_unit_test(names),
	};

	return cmocka_run_group_tests_name("name.c", tests, NULL, NULL);
}
