/*
 * unit/rows.c - unit tests of row counts (rows.c): a table that suddenly
 * lost most of its rows holds the backup before it (hold.c), which retention
 * then keeps until released.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/vblib.h"
#include "help.h"

/*
 * One night's counts (one or two "count table" lines) into r, compared
 * by vb_rows_loss in dir as backup stem; warn (1024 bytes) says a loss.
 */
static int
night(const char *dir, const char *stem, const char *a, const char *b,
    struct vb_rows *r, char *warn)
{
	char why[512];

	memset(r, 0, sizeof(*r));
	vb_rows_add_line(r, a);
	if (b != NULL)
		vb_rows_add_line(r, b);
	return vb_rows_loss(dir, stem, r, warn, 1024, why, sizeof(why));
}

/* A table down by over half and 100 rows holds the backup before it;
 * less is no loss; a held backup is kept by retention. */
static void
rows_loss_and_hold(void **state)
{
	char dir[] = "/tmp/vb-unit-XXXXXX", warn[1024], why[512];
	struct vb_rows r;
	struct vb_hold h;
	struct vb_backup list[3];
	struct vb_policy p;

	(void)state;
	mkdtemp_or_fail(dir);
	assert_int_equal(night(dir, "backup-a", "1000 orders", "150 users",
	    &r, warn), 0);
	assert_string_equal(warn, "");
	/* users: 150 to 60 (over half, but only 90); orders: 1000 to 501. */
	assert_int_equal(night(dir, "backup-b", "501 orders", "60 users", &r,
	    warn), 0);
	assert_string_equal(warn, "");
	/* orders gone: backup-b is held, by backup-c. */
	assert_int_equal(night(dir, "backup-c", "10 users", NULL, &r, warn),
	    0);
	assert_non_null(strstr(warn, "sudden loss: table orders has 0 rows in "
	    "backup-c, 501 in backup-b before it (501 gone)"));
	assert_int_equal(vb_hold_read(dir, "backup-b", &h), 0);
	assert_string_equal(h.by, "backup-c");
	assert_int_equal(vb_hold_read(dir, "backup-a", &h), -1);
	/* An older backup's counts never replace a newer one's. */
	assert_int_equal(vb_rows_loss(dir, "backup-0", &r, warn, 1024, why,
	    sizeof(why)), 0);
	assert_string_equal(warn, "");
	/* Retention keeps it (one backup asked for), until released. */
	days(list, 3, 1767229200, VB_KIND_BACKUP);
	snprintf(list[1].stem, sizeof(list[1].stem), "backup-b");
	vb_holds_mark(dir, list, 3);
	memset(&p, 0, sizeof(p));
	p.keep = 1;
	vb_retention(list, 3, &p);
	assert_int_equal(list[1].keep, VB_KEEP_HELD);
	assert_int_equal(list[2].keep, VB_DROP);
	assert_int_equal(vb_hold_release(dir, "backup-b", why, sizeof(why)),
	    0);
	assert_int_equal(vb_hold_release(dir, "backup-b", why, sizeof(why)),
	    1);
	rm_rf(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rows_loss_and_hold),
	};

	return cmocka_run_group_tests_name("rows.c", tests, NULL, NULL);
}
