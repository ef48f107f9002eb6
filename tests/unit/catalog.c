/*
 * unit/catalog.c - unit tests of the signed catalog's text (catalog.c): one
 * strict reading, written back byte for byte; an entry twice, out of order
 * or not a backup archive refused.
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

/* The signed catalog's text: one strict reading, written back the same;
 * an entry twice, out of order, or not a backup archive is refused. */
static void
catalog_strict(void **state)
{
	static const char head[] = "vb-catalog: 1\nsequence: 42\n"
	    "written: 2026-12-05T01:00:09.123Z\nhost: app1\n";
	static const char a[] = "backup: backup-2026-12-03T01-00-00-000Z."
	    "tar.zst 0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
	    "abcdef 100 2026-12-03T01:00:00.000Z\n";
	static const char b[] = "backup: backup-2026-12-04T01-00-00-000Z."
	    "delta.tar.zst.age fedcba9876543210fedcba9876543210fedcba98765432"
	    "10fedcba9876543210 7 2026-12-04T01:00:00.000Z\n";
	struct vb_catalog c, back;
	char text[2048], why[512], *out;
	ssize_t n;

	(void)state;
	snprintf(text, sizeof(text), "%s%s%s", head, a, b);
	assert_int_equal(vb_catalog_parse(text, strlen(text), &c, why,
	    sizeof(why)), 0);
	assert_int_equal(c.seq, 42);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.e[1].bytes, 7);
	assert_ptr_equal(vb_catalog_find(&c, "backup-2026-12-04T01-00-00-000Z."
	    "delta.tar.zst.age"), &c.e[1]);
	assert_null(vb_catalog_find(&c, "backup-2026-12-05T01-00-00-000Z."
	    "tar.zst"));
	n = vb_catalog_format(&c, &out);
	assert_int_equal(n, (ssize_t)strlen(text));
	assert_memory_equal(out, text, (size_t)n);
	free(out);
	vb_catalog_free(&c);
	/* Twice, out of order, a raw snapshot, a short hash, no header. */
	snprintf(text, sizeof(text), "%s%s%s", head, a, a);
	assert_int_equal(vb_catalog_parse(text, strlen(text), &back, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "listed twice"));
	snprintf(text, sizeof(text), "%s%s%s", head, b, a);
	assert_int_equal(vb_catalog_parse(text, strlen(text), &back, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "out of order"));
	snprintf(text, sizeof(text), "%sbackup: backup-2026-12-03T01-00-00-"
	    "000Z.db 0123456789abcdef0123456789abcdef0123456789abcdef01234567"
	    "89abcdef 1 x\n", head);
	assert_int_equal(vb_catalog_parse(text, strlen(text), &back, why,
	    sizeof(why)), -1);
	snprintf(text, sizeof(text), "%sbackup: backup-2026-12-03T01-00-00-"
	    "000Z.tar 0123 1 x\n", head);
	assert_int_equal(vb_catalog_parse(text, strlen(text), &back, why,
	    sizeof(why)), -1);
	assert_int_equal(vb_catalog_parse(a, strlen(a), &back, why,
	    sizeof(why)), -1);
	/* Without its last newline: not a whole catalog. */
	snprintf(text, sizeof(text), "%s%s", head, a);
	assert_int_equal(vb_catalog_parse(text, strlen(text) - 1, &back, why,
	    sizeof(why)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(catalog_strict),
	};

	return cmocka_run_group_tests_name("catalog.c", tests, NULL, NULL);
}
