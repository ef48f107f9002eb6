/*
 * unit/jobfinish.c - unit tests of a vb-backup run's end (jobfinish.c):
 * what the run's records say (the archive, sizes, durations, the first
 * failed record of each stage), the failures derived from the pipeline's
 * statuses (exited 1: its record's words; died: how, and a record
 * written for it; a stage killed by SIGPIPE after the one that killed
 * it), their order among the script's, the backup row's message and the
 * summary in every shape the nightly ends, the warning of the hold
 * tonight's archive made, the drill's records (its rows, the backups
 * proven, why it failed), a drill alone's end and answer, and the
 * options' grammar.
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
#include "help.h"

#define SHA	"0123456789abcdef0123456789abcdef" \
		"0123456789abcdef0123456789abcdef"
#define AT	"2026-11-27T01:00:03.412Z"

/* f started with the stages given as --stage would (NAME=STATUS[:MS]). */
static void
start(struct vb_finish *f, int code, const char *const *stages)
{
	char buf[64];

	vb_finish_init(f, "/srv/app.db", 1000, code);
	f->dir = "/srv/backups";
	for (; *stages != NULL; stages++) {
		snprintf(buf, sizeof(buf), "%s", *stages);
		assert_int_equal(vb_stage_parse(&f->run, buf), 0);
	}
}

/* f's records: the lines of text. */
static void
records(struct vb_finish *f, const char *text)
{
	FILE *fp = fmemopen((void *)text, strlen(text), "r");

	assert_non_null(fp);
	vb_finish_records(f, fp);
	fclose(fp);
}

/* The failed stages, space-separated, into buf. */
static const char *
stages_of(const struct vb_finish *f, char *buf, size_t len)
{
	int i;

	buf[0] = '\0';
	for (i = 0; i < f->nfail; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
		    i > 0 ? " " : "", f->fail[i].stage);
	return buf;
}

static void
records_read(void **state)
{
	static const char *const st[] = { "snapshot=0", "compress=0",
	    "offsite=0", "log=0", NULL };
	struct vb_finish f;

	(void)state;
	start(&f, 0, st);
	records(&f,
	    "/b/backup-x.db\tsnapshot\tok\t8192\t-\t12\t" AT "\tpages=2\n"
	    "not a record\n"
	    "/b/backup-x.tar.zst\tcompress\tok\t300\t" SHA "\t40\t" AT "\tok\n"
	    "/b/backup-x.tar.zst\toffsite\tok\t300\t-\t5\t" AT "\tcopied\n"
	    "/b/backup-x.tar.zst\toffsite\tok\t300\t-\t7\t" AT "\tverified\n"
	    "-\tverify\tfailed\t-\t-\t-\t" AT "\tlink broken\n");
	assert_string_equal(f.archive, "/b/backup-x.tar.zst");
	assert_int_equal(f.archive_bytes, 300);
	assert_string_equal(f.sha256, SHA);
	assert_int_equal(f.db_bytes, 8192);
	assert_int_equal(f.ms[0], 12);
	assert_int_equal(f.ms[1], 40);
	assert_int_equal(f.ms[2], 12);
	/* vb-compress's verify record is the compress stage's. */
	assert_null(f.why[0]);
	assert_string_equal(f.why[1], "link broken");
	vb_finish_free(&f);
}

static void
ok_nightly(void **state)
{
	static const char *const st[] = { "snapshot=0", "compress=0",
	    "offsite=0", "log=0", "prune=0:3", "prune_offsite=0",
	    "drill=0:900", NULL };
	struct vb_finish f;
	char buf[128];

	(void)state;
	start(&f, 0, st);
	f.offsite = "remote:vb";
	f.retained = "ok";
	f.kept = 7;
	f.remote_kept = 5;
	f.drilled = 2;
	f.elapsed_ms = 61999;
	records(&f,
	    "/b/s.db\tsnapshot\tok\t10\t-\t12\t" AT "\tm\n"
	    "/b/s.tar.zst\tcompress\tok\t3\t" SHA "\t40\t" AT "\tm\n"
	    "/b/s.tar.zst\toffsite\tok\t3\t-\t9\t" AT "\tm\n");
	vb_finish_derive(&f);
	vb_finish_compose(&f);
	assert_int_equal(f.code, 0);
	assert_int_equal(f.row_ok, 1);
	assert_string_equal(f.message, "ok: snapshot 12 ms, compress and "
	    "read-back 40 ms, offsite copy verified 9 ms; retention ok; 7 "
	    "backups kept, 5 on remote:vb; drill: 2 backup(s) restored and "
	    "proven");
	assert_string_equal(f.summary, "ok: /srv/app.db backed up to "
	    "/srv/backups in 61s (retention: ok)");
	assert_string_equal(stages_of(&f, buf, sizeof(buf)), "");
	vb_finish_free(&f);
}

static void
ok_point_warning(void **state)
{
	static const char *const st[] = { "snapshot=0", "compress=0", "log=0",
	    NULL };
	struct vb_finish f;

	(void)state;
	start(&f, 0, st);
	f.point = 1;
	f.warning = sqlite3_mprintf("%s", "ledger lost 90% of its rows");
	records(&f, "/b/p.tar.zst\tcompress\tok\t3\t" SHA "\t-\t" AT "\tm\n");
	vb_finish_derive(&f);
	vb_finish_compose(&f);
	/* An unknown duration is nothing, as the shell printed it. */
	assert_string_equal(f.message, "kind=point; ok: point, read and "
	    "archived  ms; retention skipped; 0 backups kept; WARNING: "
	    "ledger lost 90% of its rows");
	assert_string_equal(f.summary, "ok: /srv/app.db backed up to "
	    "/srv/backups in 0s (a point) (retention: skipped); WARNING: "
	    "ledger lost 90% of its rows");
	vb_finish_free(&f);
}

static void
failed_with_record(void **state)
{
	static const char *const st[] = { "snapshot=0", "compress=1", "log=0",
	    NULL };
	struct vb_finish f;
	char buf[128], arg[] = "leftovers=a raw snapshot could not be "
	    "archived: x", arg2[] = "log=BackupLog refused";

	(void)state;
	start(&f, 0, st);
	assert_int_equal(vb_finish_fail_parse(&f, arg), 0);
	assert_int_equal(vb_finish_fail_parse(&f, arg2), 0);
	records(&f,
	    "/b/s.db\tsnapshot\tok\t10\t-\t12\t" AT "\tm\n"
	    "/b/s.tar.zst\tcompress\tfailed\t-\t-\t-\t" AT "\tread-back "
	    "check failed\n"
	    "/b/s.tar.zst\tcompress\tfailed\t-\t-\t-\t" AT "\tsecond\n");
	vb_finish_derive(&f);
	f.elapsed_ms = 2500;
	vb_finish_compose(&f);
	/* The script's failures before the pipeline first, the rest after. */
	assert_string_equal(stages_of(&f, buf, sizeof(buf)),
	    "leftovers compress log");
	assert_string_equal(f.fail[1].why, "read-back check failed");
	assert_int_equal(f.ndied, 0);
	assert_int_equal(f.code, 1);
	assert_int_equal(f.row_ok, 0);
	assert_string_equal(f.message, "failed at leftovers: a raw snapshot "
	    "could not be archived: x");
	assert_string_equal(f.summary, "FAILED after 2s at leftovers: a raw "
	    "snapshot could not be archived: x");
	vb_finish_free(&f);
}

static void
died_sigpipe_order(void **state)
{
	static const char *const st[] = { "snapshot=141", "compress=137",
	    "log=0", NULL };
	static const char *const off[] = { "snapshot=0", "compress=141",
	    "offsite=2", "log=0", NULL };
	struct vb_finish f;
	char buf[128];

	(void)state;
	start(&f, 0, st);
	records(&f, "");
	vb_finish_derive(&f);
	vb_finish_compose(&f);
	/* The snapshot died of the compressor's death: the cause first. */
	assert_string_equal(stages_of(&f, buf, sizeof(buf)),
	    "compress snapshot");
	assert_string_equal(f.fail[0].why, "vb-compress was killed by SIGKILL");
	assert_string_equal(f.fail[1].why, "vb-snapshot was killed by SIGPIPE");
	assert_int_equal(f.ndied, 2);
	assert_string_equal(f.died[0].stage, "compress");
	assert_string_equal(f.message, "failed at compress: vb-compress was "
	    "killed by SIGKILL");
	vb_finish_free(&f);

	start(&f, 0, off);
	records(&f, "");
	vb_finish_derive(&f);
	assert_string_equal(stages_of(&f, buf, sizeof(buf)),
	    "offsite compress");
	assert_string_equal(f.fail[0].why, "vb-offsite exited 2");
	vb_finish_free(&f);
}

static void
log_refused(void **state)
{
	static const char *const st[] = { "snapshot=0", "compress=0", "log=1",
	    NULL };
	struct vb_finish f;
	char buf[128], arg[] = "log=BackupLog in /srv/app.db could not take "
	    "this run's rows (see vb-log's messages above)";

	(void)state;
	start(&f, 1, st);
	assert_int_equal(vb_finish_fail_parse(&f, arg), 0);
	f.retained = "ok";
	f.kept = 1;
	records(&f, "/b/s.db\tsnapshot\tok\t10\t-\t12\t" AT "\tm\n"
	    "/b/s.tar.zst\tcompress\tok\t3\t" SHA "\t40\t" AT "\tm\n");
	vb_finish_derive(&f);
	vb_finish_compose(&f);
	/* A BackupLog that refused rows does not make the backup bad. */
	assert_int_equal(f.row_ok, 1);
	assert_string_equal(f.message, "ok: snapshot 12 ms, compress and "
	    "read-back 40 ms; retention ok; 1 backups kept; but BackupLog "
	    "refused rows of this run (see syslog)");
	/* The backup row refused too: said, the status unchanged. */
	vb_finish_refused(&f);
	assert_int_equal(f.code, 1);
	assert_string_equal(stages_of(&f, buf, sizeof(buf)), "log");
	assert_string_equal(f.summary, "FAILED after 0s at log: BackupLog in "
	    "/srv/app.db could not take this run's rows (see vb-log's "
	    "messages above); BackupLog could not take the backup row");
	vb_finish_free(&f);
}

static void
row_refused_ok_run(void **state)
{
	static const char *const none[] = { NULL };
	struct vb_finish f;
	char buf[128];

	(void)state;
	start(&f, 0, none);
	vb_finish_derive(&f);
	vb_finish_compose(&f);
	vb_finish_refused(&f);
	assert_int_equal(f.code, 1);
	assert_string_equal(stages_of(&f, buf, sizeof(buf)), "log");
	assert_string_equal(f.fail[0].why, "BackupLog in /srv/app.db could "
	    "not take the backup row");
	assert_string_equal(f.summary, "ok: /srv/app.db backed up to "
	    "/srv/backups in 0s (retention: skipped); BackupLog could not "
	    "take the backup row");
	vb_finish_free(&f);
}

static void
config_failure(void **state)
{
	static const char *const none[] = { NULL };
	struct vb_finish f;
	char arg[] = "config=DB_PATH and BACKUP_DIR must be set";

	(void)state;
	start(&f, 2, none);
	f.db = "";
	assert_int_equal(vb_finish_fail_parse(&f, arg), 0);
	vb_finish_derive(&f);
	vb_finish_compose(&f);
	assert_int_equal(f.code, 2);
	assert_string_equal(f.message, "failed at config: DB_PATH and "
	    "BACKUP_DIR must be set");
	vb_finish_free(&f);
}

static void
grammar(void **state)
{
	struct vb_metrics_run r = { .nstages = 0 };
	struct vb_finish f;
	char a[] = "compress=137:12", b[] = "nosuch=0", c[] = "log=256",
	    d[] = "snapshot=x", e[] = "snapshot", g[] = "compress=no",
	    h[] = "drill=", k[] = "drill=the archive: x=y",
	    m[] = "scrub=a plaintext snapshot stays";

	(void)state;
	assert_int_equal(vb_stage_parse(&r, a), 0);
	assert_int_equal(r.stage[0].status, 137);
	assert_int_equal(r.stage[0].ms, 12);
	assert_int_equal(vb_stage_parse(&r, b), -1);
	assert_int_equal(vb_stage_parse(&r, c), -1);
	assert_int_equal(vb_stage_parse(&r, d), -1);
	assert_int_equal(vb_run_parse(&r, "1.5,2.5,0"), 0);
	assert_int_equal(vb_run_parse(&r, "1.5,2.5"), -1);
	vb_finish_init(&f, "", -1, 0);
	assert_int_equal(vb_finish_parse(&f, "1733600000.25,2"), 0);
	assert_int_equal(f.code, 2);
	assert_int_equal(vb_finish_parse(&f, "1,2,3"), -1);
	assert_int_equal(vb_finish_parse(&f, "x,0"), -1);
	/* The pipeline's failures are derived, never told. */
	assert_int_equal(vb_finish_fail_parse(&f, e), -1);
	assert_int_equal(vb_finish_fail_parse(&f, g), -1);
	assert_int_equal(vb_finish_fail_parse(&f, h), 0);
	assert_int_equal(vb_finish_fail_parse(&f, k), 0);
	assert_string_equal(f.fail[1].why, "the archive: x=y");
	/* The end's scrub under ENCRYPT_TO fails the run when it cannot. */
	assert_int_equal(vb_finish_fail_parse(&f, m), 0);
	assert_string_equal(f.fail[2].stage, "scrub");
	vb_finish_free(&f);
	{
		static const char *const one[] = { "snapshot=0",
		    "compress=1", "log=0", NULL };

		/* Failed with no failed record: never an empty reason. */
		start(&f, 0, one);
		records(&f, "");
		vb_finish_derive(&f);
		assert_string_equal(f.fail[0].why, "vb-compress exited 1 "
		    "without a failed record (see its messages above)");
	}
	vb_finish_free(&f);
}

static int
print(void *f)
{
	return vb_finish_print(f);
}

/* The hold tonight's archive made is the run's warning; no other. */
static void
loss_warning(void **state)
{
	static const char *const st[] = { "snapshot=0", "compress=0", "log=0",
	    NULL };
	const char *before = "backup-2026-11-26T01-00-00-000Z",
	    *now = "backup-2026-11-27T01-00-00-000Z";
	char dir[] = "/tmp/vb-unit-XXXXXX", line[512], why[256], *out;
	struct vb_finish f;

	(void)state;
	mkdtemp_or_fail(dir);
	assert_int_equal(vb_hold_set(dir, "backup-2026-11-20T01-00-00-000Z",
	    "backup-2026-11-21T01-00-00-000Z", "an older loss", why,
	    sizeof(why)), 0);
	start(&f, 0, st);
	f.dir = dir;
	snprintf(line, sizeof(line), "%s/%s.tar.zst\tcompress\tok\t3\t" SHA
	    "\t40\t" AT "\tm\n", dir, now);
	records(&f, line);
	vb_finish_hold(&f);
	assert_null(f.warning);		/* no hold by tonight's */
	assert_int_equal(vb_hold_set(dir, before, now, "sudden loss: table "
	    "ledger has 10 rows", why, sizeof(why)), 0);
	vb_finish_hold(&f);
	assert_string_equal(f.warning, "sudden loss: table ledger has 10 "
	    "rows; retention keeps backup-2026-11-26T01-00-00-000Z until "
	    "vb-prune --release backup-2026-11-26T01-00-00-000Z");
	vb_finish_derive(&f);
	vb_finish_compose(&f);
	assert_non_null(strstr(f.summary, "; WARNING: sudden loss: table "));
	assert_int_equal(capture(print, &f, &out), 0);
	assert_non_null(strstr(out, "\nSTATUS=warning\nWARNING=sudden loss: "
	    "table ledger has 10 rows; retention keeps backup-2026-11-26T01-"
	    "00-00-000Z until vb-prune --release backup-2026-11-26T01-00-00-"
	    "000Z\n"));
	free(out);
	vb_finish_free(&f);
	rm_rf(dir);
}

/* A drill's row callback: counts the rows, refuses them if told to. */
static int
row_seen(void *arg, const struct vb_record *r)
{
	int *n = arg;

	(void)r;
	(*n)++;
	return n[1];
}

/* The drill's records of fp into f (vb_finish_drill), rows into n. */
static void
drill_of(struct vb_finish *f, const char *text, int *n)
{
	FILE *fp = fmemopen((void *)text, strlen(text), "r");

	assert_non_null(fp);
	vb_finish_drill(f, fp, row_seen, n);
	fclose(fp);
}

/* Proven backups counted; a failed drill's why, before the scrub's. */
static void
drill_records(void **state)
{
	static const char *const ok[] = { "snapshot=0", "compress=0",
	    "log=0", "drill=0:40", NULL }, *const bad[] = { "snapshot=0",
	    "compress=0", "log=0", "drill=1:40", NULL };
	char scrub[] = "scrub=x", prune[] = "prune=y", buf[128];
	struct vb_finish f;
	int n[2] = { 0, 0 };

	(void)state;
	start(&f, 0, ok);
	drill_of(&f, "/b/a.tar.zst\tverify\tok\t3\t-\t9\t" AT "\tdrill: "
	    "ok; drill=proven\n/b/b.tar.zst\tverify\tok\t3\t-\t9\t" AT
	    "\tdrill: ok; drill=proven\n", n);
	assert_int_equal(n[0], 2);
	assert_int_equal(f.drilled, 2);
	assert_int_equal(f.nfail, 0);
	vb_finish_free(&f);
	/* Failed: the first failed record's path and message, after the
	 * script's failures but its scrub; refused rows fail it at log. */
	start(&f, 0, bad);
	assert_int_equal(vb_finish_fail_parse(&f, prune), 0);
	assert_int_equal(vb_finish_fail_parse(&f, scrub), 0);
	n[0] = 0, n[1] = 1;
	drill_of(&f, "/b/a.tar.zst\tverify\tok\t3\t-\t9\t" AT "\td\n"
	    "/b/b.tar.zst\tverify\tfailed\t-\t-\t9\t" AT "\tbroken\n"
	    "-\tverify\tfailed\t-\t-\t9\t" AT "\tlater\n", n);
	assert_int_equal(n[0], 3);
	assert_int_equal(f.drilled, 1);
	assert_string_equal(stages_of(&f, buf, sizeof(buf)),
	    "prune drill log scrub");
	assert_string_equal(f.fail[1].why, "/b/b.tar.zst: broken");
	assert_string_equal(f.fail[2].why, "BackupLog in /srv/app.db could "
	    "not take the drill's rows");
	vb_finish_free(&f);
	/* No record: the path "-" alone, or nothing, says the exit. */
	start(&f, 0, bad);
	n[1] = 0;
	drill_of(&f, "-\tverify\tfailed\t-\t-\t9\t" AT "\tno room\n", n);
	assert_string_equal(f.fail[0].why, "no room");
	vb_finish_free(&f);
	start(&f, 0, bad);
	vb_finish_drill(&f, NULL, row_seen, n);
	assert_int_equal(f.drilled, 0);
	assert_string_equal(f.fail[0].why, "vb-restore --drill exited 1");
	vb_finish_free(&f);
}

/* vb-backup --drill's end: its summary, no SEE, no backup's facts. */
static void
drill_alone(void **state)
{
	static const char *const st[] = { "drill=0:812", NULL },
	    *const bad[] = { "drill=1:90", NULL };
	char arg[] = "drill=/b/x.tar.zst: integrity_check failed", *out;
	struct vb_finish f;

	(void)state;
	start(&f, 0, st);
	f.db = "";		/* no BackupLog: no drill's rows given */
	f.drill_only = 1;
	f.drilled = 2;
	assert_int_equal(vb_finish(&f, NULL, NULL), 0);
	assert_int_equal(f.code, 0);
	assert_string_equal(f.summary, "drill: 2 backup(s) restored and "
	    "proven");
	assert_int_equal(capture(print, &f, &out), 0);
	assert_string_equal(out, "EXIT=0\nSUMMARY=drill: 2 backup(s) "
	    "restored and proven\nSEE=\nSTATUS=success\nWARNING=\n"
	    "FAILED_STAGES=\nARCHIVE=\nARCHIVE_BYTES=\nDB_BYTES=\nKEPT=\n");
	free(out);
	vb_finish_free(&f);
	start(&f, 0, bad);
	f.db = "";
	f.drill_only = 1;
	f.drilled = 1;
	assert_int_equal(vb_finish_fail_parse(&f, arg), 0);
	assert_int_equal(vb_finish(&f, NULL, NULL), 0);
	assert_int_equal(f.code, 1);
	assert_string_equal(f.summary, "drill FAILED: /b/x.tar.zst: "
	    "integrity_check failed");
	assert_int_equal(capture(print, &f, &out), 0);
	assert_non_null(strstr(out, "\nSEE=\nSTATUS=failure\nWARNING=\n"
	    "FAILED_STAGES=drill\n"));
	free(out);
	vb_finish_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(records_read),
		cmocka_unit_test(ok_nightly),
		cmocka_unit_test(ok_point_warning),
		cmocka_unit_test(failed_with_record),
		cmocka_unit_test(died_sigpipe_order),
		cmocka_unit_test(log_refused),
		cmocka_unit_test(row_refused_ok_run),
		cmocka_unit_test(config_failure),
		cmocka_unit_test(grammar),
		cmocka_unit_test(loss_warning),
		cmocka_unit_test(drill_records),
		cmocka_unit_test(drill_alone),
	};

	return cmocka_run_group_tests_name("jobfinish.c", tests, NULL, NULL);
}
