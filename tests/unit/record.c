/*
 * unit/record.c - unit tests of records (record.c): a record line parsed
 * and written back the same, unknowns and bad lines, what a field may
 * not hold; a snapshot's message read back by its one grammar; and the
 * facts a record's message holds: the snapshot's check, a point's
 * parent, a drill's outcome and a signature, written as "; key=value"
 * fields by the messages' builders (compress.c, makepoint.c, drill.c)
 * and read back by field.
 *
 * The rules of the facts: what a builder writes reads back as the same
 * fact; the prose around a field can change and the fact still reads;
 * rows written before the fields existed (their words below are copied
 * from rows such releases wrote) read as they did; a word in a path or a
 * warning is no fact, nor is any text after the facts (a reason, a
 * warning naming the application's tables).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/vblib.h"

static const char ts_ok[] = "2026-11-27T01:00:03.412Z";
static const char sha_abc[] =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

static void
record_roundtrip(void **state)
{
	char line[512], out[512];
	struct vb_record r;
	FILE *fp;

	(void)state;
	snprintf(line, sizeof(line), "/b/backup-x.db\tsnapshot\tok\t8192\t%s"
	    "\t12\t%s\tquick_check=ok source=/a b.db", sha_abc, ts_ok);
	snprintf(out, sizeof(out), "%s\n", line);
	assert_int_equal(vb_record_parse(line, &r), VB_LINE_RECORD);
	assert_string_equal(r.path, "/b/backup-x.db");
	assert_string_equal(r.op, "snapshot");
	assert_int_equal(r.ok, 1);
	assert_int_equal(r.bytes, 8192);
	assert_string_equal(r.sha256, sha_abc);
	assert_int_equal(r.ms, 12);
	assert_string_equal(r.time, ts_ok);
	assert_string_equal(r.msg, "quick_check=ok source=/a b.db");

	fp = fmemopen(line, sizeof(line), "w");
	assert_non_null(fp);
	assert_int_equal(vb_record_write(fp, &r), 0);
	fclose(fp);
	assert_string_equal(line, out);
}

static void
record_unknowns(void **state)
{
	char line[256];
	struct vb_record r;

	(void)state;
	snprintf(line, sizeof(line), "-\tprune\tfailed\t-\t-\t-\t%s\t", ts_ok);
	assert_int_equal(vb_record_parse(line, &r), VB_LINE_RECORD);
	assert_string_equal(r.path, "-");
	assert_int_equal(r.ok, 0);
	assert_int_equal(r.bytes, -1);
	assert_string_equal(r.sha256, "");
	assert_int_equal(r.ms, -1);
	assert_string_equal(r.msg, "");
}

static void
record_bad(void **state)
{
	static const char *bad[] = {
		"",
		"a\tb",
		"p\tsnapshot\tmaybe\t1\t-\t1\t2026-11-27T01:00:03.412Z\tm",
		"p\tsnapshot\tok\t-1\t-\t1\t2026-11-27T01:00:03.412Z\tm",
		"p\tsnapshot\tok\t1x\t-\t1\t2026-11-27T01:00:03.412Z\tm",
		"p\tsnapshot\tok\t1\tabc\t1\t2026-11-27T01:00:03.412Z\tm",
		"p\tsnapshot\tok\t1\t-\t1\t2026-11-27 01:00:03\tm",
		"p\tsnapshot\tok\t1\t-\t1\t2026-11-27T01:00:03.412Z\tm\textra",
		"\tsnapshot\tok\t1\t-\t1\t2026-11-27T01:00:03.412Z\tm",
		"p\t\tok\t1\t-\t1\t2026-11-27T01:00:03.412Z\tm",
		"p\tsnapshot\tok\t99999999999999999999\t-\t1\t"
		    "2026-11-27T01:00:03.412Z\tm",
		"path\r",
		/* Found by fuzz-record: a CR the writer could not write
		 * back. */
		"b/backup-2026-11\r28T01-51-25-483Z.tar\tcompress\tok\t1\t-"
		    "\t6\t2026-11-28T01:51:25.502Z\tm",
		"p\tsnap\rshot\tok\t1\t-\t1\t2026-11-27T01:00:03.412Z\tm",
	};
	struct vb_record r;
	char line[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "%s", bad[i]);
		if (vb_record_parse(line, &r) != VB_LINE_BAD)
			fail_msg("accepted bad line %zu: %s", i, bad[i]);
	}
}

static void
record_path_line(void **state)
{
	char line[] = "backups/backup-2026-11-27T01-00-00-000Z.db";
	struct vb_record r;

	(void)state;
	assert_int_equal(vb_record_parse(line, &r), VB_LINE_PATH);
	assert_string_equal(r.path, line);
}

static void
record_write_sanitises(void **state)
{
	char buf[512];
	struct vb_record r;
	FILE *fp;

	(void)state;
	vb_record_init(&r, "verify", "/x");
	r.msg = (char *)"line one\nline\ttwo\r";
	fp = fmemopen(buf, sizeof(buf), "w");
	assert_int_equal(vb_record_write(fp, &r), 0);
	fclose(fp);
	assert_non_null(strstr(buf, "\tline one?line?two?\n"));
	assert_non_null(strstr(buf, "/x\tverify\tfailed\t-\t-\t-\t"));

	fp = fmemopen(buf, sizeof(buf), "w");
	r.path = (char *)"/a\tb";
	assert_int_equal(vb_record_write(fp, &r), -1);
	r.path = (char *)"/a\nb";
	assert_int_equal(vb_record_write(fp, &r), -1);
	fclose(fp);
}

static void
snapshot_message(void **state)
{
	struct vb_snapmeta meta, back;
	char out[256];
	char msg[] = "quick_check=ok journal=wal pages=15 page_size=4096 "
	    "source=/var/lib/my app/a=b.db";
	char full[] = "integrity=ok journal=delete source=/a.db";
	char odd[] = "garbage words journal= quick_check";

	(void)state;
	vb_snapmeta_parse(msg, &meta);
	assert_string_equal(meta.integrity, "ok");
	assert_string_equal(meta.check, "quick_check");
	assert_string_equal(meta.journal, "wal");
	/* source= is last and takes the rest, spaces and = included. */
	assert_string_equal(meta.source, "/var/lib/my app/a=b.db");
	vb_snapmeta_parse(full, &meta);
	assert_string_equal(meta.check, "integrity_check");
	assert_string_equal(meta.journal, "delete");
	vb_snapmeta_parse(odd, &meta);
	assert_null(meta.source);
	assert_null(meta.integrity);
	assert_string_equal(meta.journal, "");
	assert_null(meta.sha256);
	/* The writer's words are the reader's: one grammar, one owner. */
	memset(&back, 0, sizeof(back));
	back.check = "integrity_check";
	back.integrity = "deferred";
	back.journal = "wal";
	back.pages = 15;
	back.page_size = 4096;
	back.source = "/var/lib/my app/a=b.db";
	assert_int_equal(vb_snapmeta_format(&back, out, sizeof(out)), 0);
	assert_string_equal(out, "integrity=deferred journal=wal pages=15 "
	    "page_size=4096 source=/var/lib/my app/a=b.db");
	vb_snapmeta_parse(out, &meta);
	assert_string_equal(meta.check, "integrity_check");
	assert_string_equal(meta.integrity, "deferred");
	assert_int_equal(meta.pages, 15);
	assert_int_equal(meta.page_size, 4096);
	assert_string_equal(meta.source, back.source);
	assert_int_equal(vb_snapmeta_format(&back, out, 20), -1);
}

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
		cmocka_unit_test(record_roundtrip),
		cmocka_unit_test(record_unknowns),
		cmocka_unit_test(record_bad),
		cmocka_unit_test(record_path_line),
		cmocka_unit_test(record_write_sanitises),
		cmocka_unit_test(snapshot_message),
		cmocka_unit_test(compress_check_reads_back),
		cmocka_unit_test(free_text_forges_nothing),
		cmocka_unit_test(point_reads_back),
		cmocka_unit_test(fields_not_prose),
		cmocka_unit_test(old_rows_read_as_before),
		cmocka_unit_test(facts_format_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
