/*
 * unit/runs.c - unit tests of the runs judged (runs.c): real databases
 * whose BackupLog holds the rows vb writes, read back and judged as
 * vb-backup --check says them (each verdict's status, check and words)
 * and as vb-log --due answers what tonight is due.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

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

#define H	3600
#define D	86400

static char dir[] = "/tmp/vb-runs-XXXXXX";
static char db[64], bdir[64];
static time_t now;

/* One row of BackupLog: op, file, ok, ago seconds before now, message. */
static void
row(const char *op, const char *file, int ok, time_t ago, const char *msg)
{
	struct vb_record r;
	struct timespec ts = { now - ago, 0 };
	char why[256], m[1024];

	memset(&r, 0, sizeof(r));
	snprintf(m, sizeof(m), "%s", msg);
	r.path = (char *)(file != NULL ? file : "-");
	snprintf(r.op, sizeof(r.op), "%s", op);
	r.ok = ok;
	r.bytes = r.ms = -1;
	vb_iso_time(&ts, r.time);
	r.msg = m;
	if (vb_backuplog_append(db, &r, why, sizeof(why)) != 0)
		fail_msg("append: %s", why);
}

/*
 * A fresh database and backup directory for each test (BACKUP_DIR, read
 * once, stays: the directory is made again).
 */
static int
setup(void **state)
{
	(void)state;
	if (access(db, F_OK) == 0)
		assert_int_equal(unlink(db), 0);
	assert_int_equal(mkdir(bdir, 0700), 0);
	db_exec(db, "CREATE TABLE t (x)");
	now = time(NULL);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	rm_rf(bdir);
	return 0;
}

/* An empty file at path. */
static void
touch(const char *path)
{
	spew(path, "", 0);
}

static void
conf(struct vb_runs_conf *c, const char *every, int can)
{
	memset(c, 0, sizeof(*c));
	c->db = db;
	c->dir = bdir;
	c->drill_every = every;
	c->can_drill = can;
	c->now = now;
}

/* The verdicts of the last judge() (freed by the next). */
static struct vb_verdicts vs;

/* Reads and judges; *out the verdicts, returns how many. */
static int
judge(const char *every, int can, struct vb_verdict_line **out)
{
	struct vb_runs_conf c;
	struct vb_runs h;

	vb_verdicts_free(&vs);
	assert_int_equal(vb_runs_read(db, &h), 0);
	conf(&c, every, can);
	vb_runs_judge(&h, &c, &vs);
	*out = vs.line;
	return (int)vs.n;
}

/* Verdict i is v of what, its text opening with start. */
static void
is(const struct vb_verdict_line *out, int i, enum vb_verdict v,
    const char *what, const char *start)
{
	assert_int_equal(out[i].v, v);
	assert_string_equal(out[i].what, what);
	if (strncmp(out[i].text, start, strlen(start)) != 0)
		fail_msg("verdict %d: \"%s\" does not open \"%s\"", i,
		    out[i].text, start);
}

static void
has(const struct vb_verdict_line *out, int i, const char *words)
{
	if (strstr(out[i].text, words) == NULL)
		fail_msg("verdict %d: \"%s\" lacks \"%s\"", i, out[i].text,
		    words);
}

static void
runs_unreadable(void **state)
{
	struct vb_verdict_line *out;
	struct vb_runs_conf c;
	struct vb_runs h;
	struct vb_tonight t;
	int n;

	(void)state;
	assert_int_equal(unlink(db), 0);
	assert_int_equal(vb_runs_read(db, &h), -1);
	conf(&c, "7d", 1);
	vb_verdicts_free(&vs);
	vb_runs_judge(&h, &c, &vs);
	out = vs.line;
	n = (int)vs.n;
	assert_int_equal(n, 3);
	is(out, 0, VB_CHECK_FAIL, "history", "BackupLog in ");
	has(out, 0, "cannot be read (");
	has(out, 0, "): the last run, the last backup and the drills below "
	    "are unknown");
	is(out, 1, VB_CHECK_FAIL, "last backup", "no successful backup "
	    "recorded (BackupLog): run vb-backup once by hand");
	is(out, 2, VB_CHECK_FAIL, "drill", "no backup has been restored and "
	    "proven yet (DRILL_EVERY=7d): vb-backup --drill");
	/* Unknown is never "not due". */
	vb_runs_due(&h, &c, &t);
	assert_int_equal(t.drill, VB_DRILL_DUE);
	assert_string_equal(t.proof, "");
}

static void
runs_last_run(void **state)
{
	struct vb_verdict_line *out;
	char file[128];
	int n;

	(void)state;
	snprintf(file, sizeof(file), "%s/backup-1.tar.zst", bdir);
	touch(file);
	row("backup", file, 1, 30 * H, "backup ok");
	row("compress", file, 1, 2 * H, "a newer compress, no backup");
	row("backup", NULL, 0, H, "snapshot: disk full");
	n = judge("7d", 1, &out);
	assert_int_equal(n, 3);
	is(out, 0, VB_CHECK_FAIL, "last run", "");
	has(out, 0, ": snapshot: disk full; see vb-log --show --failures ");
	/* The last ok backup row, not the newer compress: 30 h old. */
	is(out, 1, VB_CHECK_FAIL, "last backup", "the last successful backup "
	    "is 30 h old (");
	has(out, 1, ", from BackupLog): see vb-log --show --failures ");
	/* A successful run is ok, with its time. */
	row("backup", file, 1, 10 * 60, "backup ok");
	assert_int_equal(judge("7d", 1, &out), 3);
	is(out, 0, VB_CHECK_OK, "last run", "");
	has(out, 0, ": ok");
	is(out, 1, VB_CHECK_OK, "last backup", "");
	has(out, 1, "Z, 0 h 10 min ago (");
	has(out, 1, "backup-1.tar.zst)");
	/* Its file gone from the backup directory: said. */
	assert_int_equal(unlink(file), 0);
	assert_int_equal(judge("7d", 1, &out), 3);
	is(out, 1, VB_CHECK_FAIL, "last backup", "the last successful backup "
	    "BackupLog records (");
	has(out, 1, "and it is not there (deleted or moved?)");
}

static void
runs_compress_only(void **state)
{
	struct vb_verdict_line *out;
	int n;

	(void)state;
	/* No vb-backup ever ran: the last archive made counts. */
	row("compress", "/elsewhere/backup-2.tar.zst", 1, 2 * H, "made");
	n = judge("7d", 1, &out);
	assert_int_equal(n, 2);		/* no last run line */
	is(out, 0, VB_CHECK_OK, "last backup", "");
	has(out, 0, "2 h 0 min ago (/elsewhere/backup-2.tar.zst)");
	/* Once one ran, only its rows count: none ok, no backup. */
	row("backup", NULL, 0, H, "compress: no room");
	assert_int_equal(judge("7d", 1, &out), 3);
	is(out, 1, VB_CHECK_FAIL, "last backup", "no successful backup "
	    "recorded");
}

static void
runs_drills(void **state)
{
	struct vb_verdict_line *out;
	char file[128];
	int n;

	(void)state;
	snprintf(file, sizeof(file), "%s/backup-1.tar.zst", bdir);
	row("verify", file, 1, 3 * D, "drill: restored and proven; "
	    "drill=proven");
	n = judge("7d", 1, &out);
	is(out, n - 1, VB_CHECK_OK, "drill", "last verified restore ");
	has(out, n - 1, "Z (DRILL_EVERY=7d)");
	/* Older than twice DRILL_EVERY. */
	n = judge("1d", 1, &out);
	is(out, n - 1, VB_CHECK_FAIL, "drill", "the last verified restore is "
	    "from ");
	has(out, n - 1, ", older than twice DRILL_EVERY=1d: see vb-log "
	    "--show --failures ");
	/* And the nightly cannot drill: said why. */
	n = judge("1d", 0, &out);
	has(out, n - 1, "; vb-backup --drill; the archives are encrypted and "
	    "DRILL_IDENTITY is not set, so the nightly cannot drill: run "
	    "DRILL_IDENTITY=KEY-FILE vb-backup --drill where the key is");
	n = judge("0", 1, &out);
	is(out, n - 1, VB_CHECK_WARN, "drill", "DRILL_EVERY=0: no restore "
	    "drill proves the backups");
	/* A local backup that failed its drill: the backups' line, not ours. */
	row("verify", file, 0, 2 * D, "drill: rows lost; drill=failed");
	n = judge("7d", 1, &out);
	assert_int_equal(out[n - 2].what[0], 'l');	/* last backup */
	/* One that failed on the remote's copy: ours. */
	row("verify", "remote:b/backup-1.tar.zst", 0, D, "drill: rows lost; "
	    "drill=failed");
	n = judge("7d", 1, &out);
	is(out, n - 2, VB_CHECK_FAIL, "drill", "the last drill (");
	has(out, n - 2, "failed: remote:b/backup-1.tar.zst: drill: rows "
	    "lost; fix what it says, then vb-backup --drill");
	/* One that could not run (no room), even a local one: ours. */
	row("verify", file, 0, H, "drill: no room; drill=error");
	n = judge("7d", 1, &out);
	is(out, n - 2, VB_CHECK_FAIL, "drill", "the last drill (");
	has(out, n - 2, "backup-1.tar.zst: drill: no room; fix what");
}

static void
runs_due(void **state)
{
	struct vb_facts f = { "integrity_check", NULL, 0 };
	struct vb_runs_conf c;
	struct vb_tonight t;
	struct vb_runs h;
	char msg[256];

	(void)state;
	assert_int_equal(vb_runs_read(db, &h), 0);
	/* Never drilled: due; drills on, no integrity_check (theirs). */
	conf(&c, "7d", 1);
	vb_runs_due(&h, &c, &t);
	assert_int_equal(t.drill, VB_DRILL_DUE);
	assert_false(t.full_check);
	/* Off: the snapshot's integrity_check instead, none yet. */
	conf(&c, "0", 1);
	vb_runs_due(&h, &c, &t);
	assert_int_equal(t.drill, VB_DRILL_OFF);
	assert_true(t.full_check);
	/* A proof a day old: not due; its time to the second. */
	row("verify", "/b/backup-1.tar.zst", 1, D, "drill: restored and "
	    "proven; drill=proven");
	assert_int_equal(vb_runs_read(db, &h), 0);
	conf(&c, "7d", 1);
	vb_runs_due(&h, &c, &t);
	assert_int_equal(t.drill, VB_DRILL_NOT_DUE);
	assert_int_equal(strlen(t.proof), 20);
	assert_int_equal(t.proof[19], 'Z');
	/* Encrypted, no identity: due or not, it cannot; the check is back. */
	conf(&c, "7d", 0);
	vb_runs_due(&h, &c, &t);
	assert_false(t.can_drill);
	assert_true(t.full_check);
	/* One passed a day ago: not due for a week. */
	vb_facts_format(&f, msg, sizeof(msg));
	row("compress", "/b/backup-1.tar.zst", 1, D, msg);
	assert_int_equal(vb_runs_read(db, &h), 0);
	vb_runs_due(&h, &c, &t);
	assert_false(t.full_check);
	row("compress", "/b/backup-1.tar.zst", 1, 0, "no check field");
	c.now += 8 * D;
	vb_runs_due(&h, &c, &t);
	assert_true(t.full_check);
}

/* The slack: a proof made just under DRILL_EVERY ago is due tonight. */
static void
runs_due_slack(void **state)
{
	struct vb_runs_conf c;
	struct vb_tonight t;
	struct vb_runs h;

	(void)state;
	row("verify", "/b/backup-1.tar.zst", 1, 7 * D - H / 2, "x; "
	    "drill=proven");
	assert_int_equal(vb_runs_read(db, &h), 0);
	conf(&c, "7d", 1);
	vb_runs_due(&h, &c, &t);
	assert_int_equal(t.drill, VB_DRILL_DUE);
	conf(&c, "8d", 1);
	vb_runs_due(&h, &c, &t);
	assert_int_equal(t.drill, VB_DRILL_NOT_DUE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(runs_unreadable, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(runs_last_run, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(runs_compress_only, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(runs_drills, setup, teardown),
		cmocka_unit_test_setup_teardown(runs_due, setup, teardown),
		cmocka_unit_test_setup_teardown(runs_due_slack, setup,
		    teardown),
	};

	int rc;

	mkdtemp_or_fail(dir);
	snprintf(db, sizeof(db), "%s/app.db", dir);
	snprintf(bdir, sizeof(bdir), "%s/b", dir);
	/* Drills of the local files: those of BACKUP_DIR (vb_proven). */
	setenv("VB_CONF", "/dev/null", 1);
	setenv("BACKUP_DIR", bdir, 1);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	vb_verdicts_free(&vs);
	rm_rf(dir);
	return rc;
}
