/*
 * unit/backupcheck.c - unit tests of vb-backup --check's verdicts on the
 * backups (backupcheck.c) and of the lock looked at (lockholder.c), on
 * real archives made by the library and real locks taken by real
 * processes.
 *
 * The rules: whole backups, one ok saying how many were hashed; a damaged
 * archive and the deltas on it, a FAIL each with what to do, and no ok;
 * no backup, a FAIL; the newest snapshot set aside, a FAIL naming it;
 * with ENCRYPT_TO, the files not encrypted counted in a FAIL; a hold, a
 * FAIL naming its archive and its release; the lock: none, free, a link
 * (FAIL), held by another program (FAIL), by a run (ok), or by a run's
 * child that outlived it (FAIL naming it).
 */
#define _GNU_SOURCE
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/vblib.h"
#include "help.h"

static const struct vb_duration week = { 0, 0, 7, 0 };

/* The verdicts on pl's directory, with no configuration but opts'. */
static void
judge(const struct place *pl, struct vb_check_opts *o, struct vb_verdicts *vs)
{
	char conf[256];

	snprintf(conf, sizeof(conf), "%s/vb.conf", pl->top);
	spew(conf, "", 0);
	setenv("VB_CONF", conf, 1);
	unsetenv("DB_PATH");
	unsetenv("BACKUP_DIR");
	vb_config_unload();
	o->dir = pl->dir;
	o->db = pl->db;
	o->user = "tester";
	vb_check_backups(o, vs);
	assert_int_equal(vs->lost, 0);
}

/* How many verdicts v of what vs holds whose text holds text. */
static int
has(const struct vb_verdicts *vs, enum vb_verdict v, const char *what,
    const char *text)
{
	size_t i;
	int n = 0;

	for (i = 0; i < vs->n; i++)
		n += vs->line[i].v == v &&
		    strcmp(vs->line[i].what, what) == 0 &&
		    strstr(vs->line[i].text, text) != NULL;
	return n;
}

/* Fails with every verdict shown unless vs has v of what with text. */
static void
says(const struct vb_verdicts *vs, enum vb_verdict v, const char *what,
    const char *text)
{
	size_t i;

	if (has(vs, v, what, text) > 0)
		return;
	for (i = 0; i < vs->n; i++)
		print_message("%d %s %s\n", vs->line[i].v, vs->line[i].what,
		    vs->line[i].text);
	fail_msg("no verdict %d %s \"%s\"", v, what, text);
}

/* A full and two deltas of pl, their paths into a. */
static void
three_nights(const struct place *pl, char a[3][4096])
{
	struct vb_compress_result r;
	int k;

	for (k = 0; k < 3; k++) {
		db_exec(pl->db, "UPDATE t SET v = v || 'n' WHERE id = 9");
		archive_at(pl->db, pl->dir, night_time(k + 1), &week, NULL,
		    &r);
		snprintf(a[k], 4096, "%s", r.path);
	}
}

/* Whole backups: one ok, each hashed (read whole: no SHA-256 recorded). */
static void
whole_backups(void **state)
{
	struct vb_check_opts o = { 0 };
	struct vb_verdicts vs;
	char a[3][4096], text[300];
	struct place pl;

	(void)state;
	place_make(&pl, 2000);
	three_nights(&pl, a);
	o.full_every = "7d";
	judge(&pl, &o, &vs);
	snprintf(text, sizeof(text), "3 file(s) in %s, none known damaged, "
	    "none failed its last drill; 3 hashed now, or read whole, and "
	    "found as made; FULL_EVERY=7d: every chain whole", pl.dir);
	says(&vs, VB_CHECK_OK, "backups", text);
	says(&vs, VB_CHECK_OK, "lock", "no lock file yet (the first run "
	    "makes it)");
	/* Nothing else: no FAIL, no warning, nothing about encryption. */
	assert_int_equal(vs.n, 2);
	vb_verdicts_free(&vs);
	/* With ENCRYPT_TO: the three are plaintext. */
	o.encrypting = 1;
	judge(&pl, &o, &vs);
	snprintf(text, sizeof(text), "ENCRYPT_TO is set, but 3 file(s) in %s "
	    "are not encrypted (made before it was): encrypt them in place, "
	    "each verified: vb-backup --encrypt-existing", pl.dir);
	says(&vs, VB_CHECK_FAIL, "encryption", text);
	vb_verdicts_free(&vs);
	place_remove(&pl);
}

/* The full damaged: a FAIL for it and each delta on it, and no ok. */
static void
damaged_full(void **state)
{
	struct vb_check_opts o = { 0 };
	struct vb_verdicts vs;
	char a[3][4096], text[4400 + 100];
	struct place pl;
	int k;

	(void)state;
	place_make(&pl, 2000);
	three_nights(&pl, a);
	flip_byte(a[0], 700);
	judge(&pl, &o, &vs);
	for (k = 0; k < 3; k++) {
		snprintf(text, sizeof(text), "%s: backup ", a[k]);
		says(&vs, VB_CHECK_FAIL, "backups", text);
		snprintf(text, sizeof(text), "; it is kept, never pruned: "
		    "put a good copy in its place (vb-restore --offsite uses "
		    "the remote's meanwhile), or, if no copy exists, remove "
		    "it (rm %s)", a[k]);
		says(&vs, VB_CHECK_FAIL, "backups", text);
	}
	/* The health= field is the record's, never the verdict's words. */
	assert_int_equal(has(&vs, VB_CHECK_FAIL, "backups", "health="), 0);
	assert_int_equal(has(&vs, VB_CHECK_OK, "backups", ""), 0);
	vb_verdicts_free(&vs);
	place_remove(&pl);
}

/* No backup: a FAIL; a snapshot set aside: a FAIL naming the newest. */
static void
none_and_set_aside(void **state)
{
	struct vb_check_opts o = { 0 };
	struct vb_verdicts vs;
	char text[600], old[300], young[300];
	struct place pl;

	(void)state;
	place_make(&pl, 10);
	judge(&pl, &o, &vs);
	snprintf(text, sizeof(text), "no backup in %s: nothing to restore "
	    "from here; run vb-backup now", pl.dir);
	says(&vs, VB_CHECK_FAIL, "backups", text);
	assert_int_equal(has(&vs, VB_CHECK_FAIL, "failed check", ""), 0);
	vb_verdicts_free(&vs);
	snprintf(old, sizeof(old), "%s/backup-2026-11-01T01-00-00-000Z.db"
	    VB_FAILED_SUFFIX, pl.dir);
	snprintf(young, sizeof(young), "%s/backup-2026-11-02T01-00-00-000Z.db"
	    VB_FAILED_SUFFIX, pl.dir);
	spew(old, "x", 1);
	spew(young, "y", 1);
	judge(&pl, &o, &vs);
	snprintf(text, sizeof(text), "%s: a snapshot that failed its "
	    "integrity check, kept to look at: the database itself may be "
	    "damaged; check it (sqlite3 %s 'PRAGMA integrity_check'), compare "
	    "with the last good backup (vb-restore --to), then remove it "
	    "(rm %s)", young, pl.db, young);
	says(&vs, VB_CHECK_FAIL, "failed check", text);
	assert_int_equal(has(&vs, VB_CHECK_FAIL, "failed check", ""), 1);
	vb_verdicts_free(&vs);
	/* Set aside: not encrypted, counted with ENCRYPT_TO. */
	o.encrypting = 1;
	judge(&pl, &o, &vs);
	says(&vs, VB_CHECK_FAIL, "encryption", "but 2 file(s) in");
	vb_verdicts_free(&vs);
	place_remove(&pl);
}

/* A hold: a FAIL with its reason, its archive, how to release it. */
static void
held(void **state)
{
	struct vb_check_opts o = { 0 };
	struct vb_verdicts vs;
	char a[3][4096], stem[64], why[256], text[4400 + 300];
	struct place pl;

	(void)state;
	place_make(&pl, 2000);
	three_nights(&pl, a);
	stem_at(night_time(2), stem, sizeof(stem));
	assert_int_equal(vb_hold_set(pl.dir, stem, "backup-x",
	    "t lost 90% of its rows", why, sizeof(why)), 0);
	judge(&pl, &o, &vs);
	snprintf(text, sizeof(text), "t lost 90%% of its rows: was it meant? "
	    "look at the rows before (vb-restore --to /tmp/before.db %s); "
	    "retention keeps %s until: vb-prune --release %s", a[1], stem,
	    stem);
	says(&vs, VB_CHECK_FAIL, "held", text);
	vb_verdicts_free(&vs);
	place_remove(&pl);
}

/* ---- the lock ---- */

/* Runs flock(1) named argv0 holding path; its PID, once it holds it. */
static pid_t
holder(const char *argv0, const char *path)
{
	struct vb_lock_look l;
	pid_t pid;
	int k;

	if ((pid = fork()) == 0) {
		/* -o: sleep has no part in the lock; killing flock frees it. */
		execlp("flock", argv0, "-o", path, "sleep", "30",
		    (char *)NULL);
		_exit(127);
	}
	assert_true(pid > 0);
	for (k = 0; k < 500; k++) {
		vb_lock_look(path, &l);
		if (l.state == VB_LOCK_HELD)
			return pid;
		usleep(10000);
	}
	fail_msg("flock never took %s", path);
	return -1;
}

/* Stops a holder this test started, by its PID. */
static void
stop(pid_t pid)
{
	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
}

/* None, free, a link, held by another program, by a run. */
static void
lock_states(void **state)
{
	struct vb_check_opts o = { 0 };
	struct vb_lock_look l;
	struct vb_verdicts vs;
	char lock[300], text[600];
	struct place pl;
	pid_t pid;

	(void)state;
	place_make(&pl, 10);
	snprintf(lock, sizeof(lock), "%s/%s", pl.dir, VB_LOCK_FILE);
	spew(lock, "", 0);
	judge(&pl, &o, &vs);
	snprintf(text, sizeof(text), "%s is free", lock);
	says(&vs, VB_CHECK_OK, "lock", text);
	vb_verdicts_free(&vs);

	pid = holder("flock", lock);
	judge(&pl, &o, &vs);
	snprintf(text, sizeof(text), "%s is held by PID %d (flock -o %s "
	    "sleep 30), not a vb-backup run: the nightly job will not start "
	    "(exit 75) until it lets go", lock, (int)pid, lock);
	says(&vs, VB_CHECK_FAIL, "lock", text);
	vb_verdicts_free(&vs);
	stop(pid);

	/* A run's own command line: in progress, for how long. */
	pid = holder("vb-backup", lock);
	judge(&pl, &o, &vs);
	snprintf(text, sizeof(text), "a run is in progress (PID %d, for ",
	    (int)pid);
	says(&vs, VB_CHECK_OK, "lock", text);
	vb_verdicts_free(&vs);
	/* Its age from /proc/PID/stat: seconds, not hours. */
	vb_lock_look(lock, &l);
	assert_true(l.secs >= 0 && l.secs < 60);
	stop(pid);

	/* A link in its place: never followed. */
	assert_int_equal(unlink(lock), 0);
	assert_int_equal(symlink("/etc/passwd", lock), 0);
	judge(&pl, &o, &vs);
	snprintf(text, sizeof(text), "%s is not a regular file (a link or "
	    "something planted?): remove it; the next run makes it", lock);
	says(&vs, VB_CHECK_FAIL, "lock", text);
	vb_verdicts_free(&vs);
	place_remove(&pl);
}

/*
 * The run that took the lock is gone, a child of it holds it open: the
 * taker named, and the child, by the file (its device and inode).
 */
static void
lock_outlived(void **state)
{
	struct vb_lock_look l;
	char lock[300], pids[32];
	struct place pl;
	pid_t run, child = 0;
	int p[2], fd;

	(void)state;
	place_make(&pl, 10);
	snprintf(lock, sizeof(lock), "%s/%s", pl.dir, VB_LOCK_FILE);
	assert_int_equal(pipe(p), 0);
	if ((run = fork()) == 0) {
		if ((fd = open(lock, O_RDWR | O_CREAT, 0600)) == -1 ||
		    flock(fd, LOCK_EX) == -1)
			_exit(1);
		if ((child = fork()) == 0) {
			close(p[1]);
			pause();
			_exit(0);
		}
		_exit(write(p[1], &child, sizeof(child)) == sizeof(child) ?
		    0 : 1);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &child, sizeof(child)), sizeof(child));
	close(p[0]);
	assert_int_equal(waitpid(run, NULL, 0), run);
	vb_lock_look(lock, &l);
	assert_int_equal(l.state, VB_LOCK_HELD);
	assert_int_equal(l.pid, run);
	assert_string_equal(l.cmd, "");
	snprintf(pids, sizeof(pids), "%d", (int)child);
	assert_string_equal(l.holders, pids);
	assert_int_equal(kill(child, SIGKILL), 0);
	place_remove(&pl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(whole_backups),
		cmocka_unit_test(damaged_full),
		cmocka_unit_test(none_and_set_aside),
		cmocka_unit_test(held),
		cmocka_unit_test(lock_states),
		cmocka_unit_test(lock_outlived),
	};

	return cmocka_run_group_tests_name("backupcheck.c", tests, NULL,
	    NULL);
}
