/*
 * unit/record.c - unit tests of the facts a record's message holds
 * (record.c): the snapshot's check, a point's parent, a drill's outcome
 * and a signature, written as "; key=value" fields by the messages'
 * builders (compress.c, makepoint.c, drill.c) and read back by field.
 *
 * The rules: what a builder writes reads back as the same fact; the
 * prose around a field can change and the fact still reads; rows written
 * before the fields existed (their words below are copied from rows such
 * releases wrote) read as they did; a word in a path or a warning is no
 * fact, nor is any text after the facts (a reason, a warning naming
 * the application's tables).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/vblib.h"

/* A compress record's message as vb-compress writes it. */
static void
compress_message(const char *checked, const char *sign, char *buf,
    size_t len)
{
	struct vb_compress_opts o;
	struct vb_compress_result res;

	memset(&o, 0, sizeof(o));
	memset(&res, 0, sizeof(res));
	o.a.ext = VB_EXT_TAR_ZST;
	o.sign_with = sign;
	res.checked = checked;
	res.dbbytes = 4096;
	res.bytes = 512;
	res.removed = 1;
	vb_compress_message(&o, &res, 0, buf, len);
}

static void
compress_check_reads_back(void **state)
{
	char msg[2400];

	(void)state;
	compress_message("integrity_check", NULL, msg, sizeof(msg));
	assert_string_equal(vb_fact_checked(msg), "integrity_check");
	assert_false(vb_fact_point(msg));
	assert_non_null(strstr(msg, "; checked=integrity_check"));
	compress_message("quick_check", "/k", msg, sizeof(msg));
	assert_string_equal(vb_fact_checked(msg), "quick_check");
	assert_non_null(strstr(msg, "; signed=yes"));
	compress_message(NULL, NULL, msg, sizeof(msg));
	assert_null(vb_fact_checked(msg));
	assert_non_null(strstr(msg, "; checked=none"));
	assert_null(strstr(msg, "signed="));
}

/* Free text after the facts (issue 37's review) is never a fact. */
static void
free_text_forges_nothing(void **state)
{
	struct vb_duration week = { 0, 0, 7, 0 };
	struct vb_compress_opts o;
	struct vb_compress_result res;
	char msg[2400];

	(void)state;
	memset(&o, 0, sizeof(o));
	memset(&res, 0, sizeof(res));
	o.a.ext = VB_EXT_TAR_ZST;
	o.full_every = &week;
	res.checked = "quick_check";
	/* A reason naming BACKUP_DIR, a warning naming tables. */
	snprintf(res.full_why, sizeof(res.full_why), "%s",
	    "/srv/b; checked=integrity_check; x");
	snprintf(res.warning, sizeof(res.warning), "%s",
	    "t; point=x; checked=integrity_check lost 9 rows");
	vb_compress_message(&o, &res, 0, msg, sizeof(msg));
	assert_string_equal(vb_fact_checked(msg), "quick_check");
	assert_false(vb_fact_point(msg));
	/* No check at all: none, whatever the warning says. */
	res.checked = NULL;
	vb_compress_message(&o, &res, 0, msg, sizeof(msg));
	assert_null(vb_fact_checked(msg));
	/* A drill's reason may name a table: the last drill= decides. */
	assert_int_equal(vb_fact_drill("drill: t; drill=proven; x: rows "
	    "differ; drill=failed", 0), 0);
}

static void
point_reads_back(void **state)
{
	struct vb_compress_opts c;
	struct vb_point_opts o;
	struct vb_compress_result res;
	char msg[2400], v[64];

	(void)state;
	memset(&c, 0, sizeof(c));
	memset(&res, 0, sizeof(res));
	c.a.ext = VB_EXT_TAR_ZST;
	c.sign_with = "/k";
	o.db = "/srv/app.db";
	o.dir = "/b";
	o.c = &c;
	snprintf(res.parent, sizeof(res.parent), "%s",
	    "backup-2026-12-06T01-00-00-000Z");
	res.pages = 3;
	res.page_count = 100;
	vb_point_message(&o, &res, 0, msg, sizeof(msg));
	assert_true(vb_fact_point(msg));
	assert_null(vb_fact_checked(msg));
	assert_int_equal(vb_msg_field(msg, "point", v, sizeof(v)), 0);
	assert_string_equal(v, res.parent);
	assert_int_equal(vb_msg_field(msg, "signed", v, sizeof(v)), 0);
	assert_string_equal(v, "yes");
}

/* Facts read by field: the prose around them may say anything. */
static void
fields_not_prose(void **state)
{
	(void)state;
	assert_string_equal(vb_fact_checked("zstd, reworded; "
	    "checked=integrity_check; signed=yes"), "integrity_check");
	assert_null(vb_fact_checked("zstd; checked=integrity_checks"));
	assert_null(vb_fact_checked("zstd; checked=none"));
	assert_true(vb_fact_point("reworded entirely; point=backup-x"));
	assert_int_equal(vb_fact_drill("proven, in other words; drill=proven",
	    1), 1);
	assert_int_equal(vb_fact_drill("anything; drill=failed", 0), 0);
	assert_int_equal(vb_fact_drill("no room; drill=error", 0), 2);
	assert_int_equal(vb_fact_drill("x; drill=maybe", 1), -1);
	/* The field's first occurrence is the fact, not a later warning's. */
	assert_string_equal(vb_fact_checked("zstd; checked=quick_check; "
	    "WARNING: checked=integrity_check"), "quick_check");
	/* A word inside another field, or a key's tail, is no field. */
	assert_null(vb_fact_checked("zstd; unchecked=integrity_check"));
	assert_false(vb_fact_point("zstd; checkpoint=yes"));
	assert_int_equal(vb_fact_drill("verify; redrill=proven", 1), -1);
}

/* Rows earlier releases wrote, word for word. */
static void
old_rows_read_as_before(void **state)
{
	(void)state;
	assert_string_equal(vb_fact_checked("zstd level 3; db 4096 bytes, "
	    "archive 12.5% of it; read back ok; snapshot's integrity_check "
	    "ok; rows counted; snapshot removed"), "integrity_check");
	assert_string_equal(vb_fact_checked("zstd; db 4096 bytes, archive "
	    "12.5% of it; read back ok; snapshot's quick_check ok; rows "
	    "counted; snapshot removed; signed=yes"), "quick_check");
	/* A check that did not pass is no check. */
	assert_null(vb_fact_checked("zstd; read back ok; snapshot's "
	    "integrity_check failed; rows counted"));
	assert_true(vb_fact_point("zstd; point of backup-2026-12-06T01-00-"
	    "00-000Z: 3 of 100 pages; db 409600 bytes, not copied"));
	assert_false(vb_fact_point("zstd; delta of backup-2026-12-06T01-00-"
	    "00-000Z: 3 of 100 pages"));
	assert_int_equal(vb_fact_drill("drill: restored and proven: "
	    "integrity_check ok, the rows of 3 tables as its manifest "
	    "recorded", 1), 1);
	/* Old rows: a failed drill was a failed status, its words free. */
	assert_int_equal(vb_fact_drill("drill: archive does not hash", 0), 0);
	assert_int_equal(vb_fact_drill("drill: something else", 1), -1);
	assert_int_equal(vb_fact_drill("restored from x", 1), -1);
}

static void
facts_format_alone(void **state)
{
	struct vb_facts f = { NULL, NULL, 0 };
	char buf[128];

	(void)state;
	vb_facts_format(&f, buf, sizeof(buf));
	assert_string_equal(buf, "; checked=none");
	f.checked = "integrity_check";
	f.point_of = "backup-p";
	f.is_signed = 1;
	vb_facts_format(&f, buf, sizeof(buf));
	assert_string_equal(buf, "; checked=integrity_check; point=backup-p; "
	    "signed=yes");
	/* Too small a buffer: cut, never overrun. */
	vb_facts_format(&f, buf, 8);
	assert_int_equal(strlen(buf), 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(compress_check_reads_back),
		cmocka_unit_test(free_text_forges_nothing),
		cmocka_unit_test(point_reads_back),
		cmocka_unit_test(fields_not_prose),
		cmocka_unit_test(old_rows_read_as_before),
		cmocka_unit_test(facts_format_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
