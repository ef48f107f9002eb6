/*
 * unit/drill.c - unit tests of which backups a restore drill picks
 * (drill.c: the archives, pick, the names given), each drilled for real:
 * archives made by the library from a real database, restored and
 * proven, every outcome told to a callback as the verify records are.
 *
 * The rules: without names, the newest backup archive and one older one
 * (VB_DRILL_SEED=N: the Nth after the newest, wrapping), never a raw
 * snapshot, a pre-restore copy, or, where BackupLog says what the job
 * made, a name it never recorded; none to drill is an error.  Names are
 * drilled in the order given: a file name, a stem (its archive) or a
 * path in the directory; a path elsewhere, or with a remote any path, is
 * refused before anything is drilled.
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

/* What the drill told, in order. */
struct told {
	int	 n;
	char	 path[4][4096];
	int	 ok[4];
	char	 msg[4][2048];
};

static int
done(void *arg, const char *path, int ok, int64_t bytes, const char *sha,
    int64_t t0, const char *msg)
{
	struct told *t = arg;

	(void)bytes;
	(void)sha;
	(void)t0;
	assert_true(t->n < 4);
	snprintf(t->path[t->n], sizeof(t->path[0]), "%s", path);
	snprintf(t->msg[t->n], sizeof(t->msg[0]), "%s", msg);
	t->ok[t->n++] = ok;
	return 0;
}

/* The drill of o, what it told into t; its value. */
static int
drill(const struct vb_drill_opts *o, struct told *t, char *why,
    size_t wlen)
{
	struct vb_drill_out out;

	memset(t, 0, sizeof(*t));
	out.arg = t;
	out.done = done;
	return vb_drill(o, &out, why, wlen);
}

/* Told i is archive a, proven. */
static void
proven(const struct told *t, int i, const char *a)
{
	assert_true(i < t->n);
	assert_string_equal(t->path[i], a);
	assert_true(t->ok[i]);
	assert_non_null(strstr(t->msg[i], "; drill=proven"));
}

/*
 * Full archives of nights 1 to n in pl (their paths into a), rows
 * changed between; then a raw snapshot and an archived pre-restore copy,
 * both newer, which a drill never picks.
 */
static void
nights(const struct place *pl, int n, char a[][4096])
{
	struct vb_snapshot_opts so;
	struct vb_snapshot_result s;
	struct vb_compress_opts co;
	struct vb_compress_result r;
	struct timespec ts = { night_time(n + 2), 0 };
	char path[4096], stamp[VB_STAMP_LEN];
	int k;

	for (k = 1; k <= n; k++) {
		db_exec(pl->db, "UPDATE t SET v = v || 'n' WHERE id = 1");
		archive_at(pl->db, pl->dir, night_time(k), NULL, NULL, &r);
		snprintf(a[k - 1], 4096, "%s", r.path);
	}
	snap_at(pl->db, pl->dir, night_time(n + 1), path, sizeof(path));
	vb_stamp(&ts, stamp);
	snprintf(path, sizeof(path), "%s/pre-restore-%s.db", pl->dir, stamp);
	memset(&so, 0, sizeof(so));
	so.db = pl->db;
	so.out = path;
	so.prefix = "pre-restore";
	assert_int_equal(vb_snapshot(&so, &s), 0);
	memset(&co, 0, sizeof(co));
	co.a.ext = VB_EXT_TAR;
	assert_int_equal(vb_compress_file(path, NULL, &co, &r), 0);
}

/* The newest, and the seed's older one, wrapping; the rest never. */
static void
newest_and_one_older(void **state)
{
	static const int older[] = { 2, 1, 0, 2 };
	struct vb_drill_opts o;
	struct told t;
	struct place pl;
	char a[4][4096], why[1024], seed[8];
	size_t i;

	(void)state;
	place_make(&pl, 300);
	nights(&pl, 4, a);
	memset(&o, 0, sizeof(o));
	o.dir = pl.dir;
	for (i = 0; i < sizeof(older) / sizeof(older[0]); i++) {
		snprintf(seed, sizeof(seed), "%zu", i);
		setenv("VB_DRILL_SEED", seed, 1);
		assert_int_equal(drill(&o, &t, why, sizeof(why)), 0);
		assert_int_equal(t.n, 2);
		proven(&t, 0, a[3]);
		proven(&t, 1, a[older[i]]);
	}
	unsetenv("VB_DRILL_SEED");
	place_remove(&pl);
}

/* One archive: it alone.  None (a raw snapshot is none): an error. */
static void
one_or_none(void **state)
{
	struct vb_drill_opts o;
	struct told t;
	struct place pl;
	char a[1][4096], why[1024], want[256], path[4096];

	(void)state;
	place_make(&pl, 300);
	memset(&o, 0, sizeof(o));
	o.dir = pl.dir;
	snap_at(pl.db, pl.dir, night_time(1), path, sizeof(path));
	assert_int_equal(drill(&o, &t, why, sizeof(why)), -1);
	snprintf(want, sizeof(want), "no backup archive in %s to drill",
	    pl.dir);
	assert_string_equal(why, want);
	assert_int_equal(t.n, 0);
	assert_int_equal(unlink(path), 0);
	nights(&pl, 1, a);
	assert_int_equal(drill(&o, &t, why, sizeof(why)), 0);
	assert_int_equal(t.n, 1);
	proven(&t, 0, a[0]);
	place_remove(&pl);
}

/* A compress record of the archive at path into BackupLog of db. */
static void
log_made(const char *db, const char *path)
{
	struct timespec now = { night_time(9), 0 };
	struct vb_backuplog *l;
	struct vb_record r;
	char why[512];
	int fd;

	vb_record_init(&r, "compress", path);
	r.ok = 1;
	r.msg = "tar";
	vb_iso_time(&now, r.time);
	fd = open_or_fail(path, O_RDONLY);
	r.bytes = vb_sha256_fd(fd, r.sha256);
	close(fd);
	if ((l = vb_backuplog_open(db, why, sizeof(why))) == NULL)
		fail_msg("%s", why);
	assert_int_equal(vb_backuplog_write(l, &r, 1, why, sizeof(why)), 0);
	vb_backuplog_close(l);
}

/* Where BackupLog says what the job made, a name it never did is
 * never picked: the newest it recorded is. */
static void
planted_never_picked(void **state)
{
	struct vb_drill_opts o;
	struct told t;
	struct place pl;
	char a[4][4096], why[1024];
	int k;

	(void)state;
	place_make(&pl, 300);
	nights(&pl, 4, a);
	for (k = 0; k < 3; k++)
		log_made(pl.db, a[k]);
	memset(&o, 0, sizeof(o));
	o.dir = pl.dir;
	o.logdb = pl.db;
	setenv("VB_DRILL_SEED", "0", 1);
	assert_int_equal(drill(&o, &t, why, sizeof(why)), 0);
	unsetenv("VB_DRILL_SEED");
	assert_int_equal(t.n, 2);
	proven(&t, 0, a[2]);
	proven(&t, 1, a[1]);
	place_remove(&pl);
}

/* Names given: a stem, a path in the directory, a file name; in order. */
static void
names_given(void **state)
{
	struct vb_drill_opts o;
	struct told t;
	struct place pl;
	char a[3][4096], why[1024], stem[64];
	char *names[3];

	(void)state;
	place_make(&pl, 300);
	nights(&pl, 3, a);
	stem_at(night_time(2), stem, sizeof(stem));
	names[0] = stem;
	names[1] = a[2];
	names[2] = strrchr(a[0], '/') + 1;
	memset(&o, 0, sizeof(o));
	o.dir = pl.dir;
	o.names = names;
	o.nnames = 3;
	assert_int_equal(drill(&o, &t, why, sizeof(why)), 0);
	assert_int_equal(t.n, 3);
	proven(&t, 0, a[1]);
	proven(&t, 1, a[2]);
	proven(&t, 2, a[0]);
	place_remove(&pl);
}

/*
 * A path outside the directory, or any path with a remote: refused,
 * nothing drilled.  A name that is not there, or that no backup has:
 * refused too (a drill=failed row would mark a backup of that name).
 */
static void
names_refused(void **state)
{
	struct vb_drill_opts o;
	struct told t;
	struct place pl;
	char a[1][4096], why[1024], want[4200], out[4096], sub[256];
	char *names[1];

	(void)state;
	place_make(&pl, 300);
	nights(&pl, 1, a);
	snprintf(out, sizeof(out), "%s/%s", pl.top, strrchr(a[0], '/') + 1);
	assert_int_equal(link(a[0], out), 0);
	memset(&o, 0, sizeof(o));
	o.dir = pl.dir;
	o.names = names;
	o.nnames = 1;
	names[0] = out;
	assert_int_equal(drill(&o, &t, why, sizeof(why)), -1);
	snprintf(want, sizeof(want), "%s: not in %s", out, pl.dir);
	assert_string_equal(why, want);
	assert_int_equal(t.n, 0);

	o.remote = "offsite:vb";
	snprintf(sub, sizeof(sub), "b/%s", strrchr(a[0], '/') + 1);
	names[0] = sub;
	assert_int_equal(drill(&o, &t, why, sizeof(why)), -1);
	snprintf(want, sizeof(want), "%s: give the backup's file name, as in "
	    "offsite:vb", names[0]);
	assert_string_equal(why, want);
	assert_int_equal(t.n, 0);

	/* Nothing there, or no backup's name: refused, no failed proof. */
	o.remote = NULL;
	names[0] = "backup-2026-11-20T01-00-00-000Z.tar";
	assert_int_equal(drill(&o, &t, why, sizeof(why)), -1);
	snprintf(want, sizeof(want), "%s: no such backup in %s (vb-restore "
	    "--list shows them)", names[0], pl.dir);
	assert_string_equal(why, want);
	assert_int_equal(t.n, 0);
	snprintf(out, sizeof(out), "%s/notes.txt", pl.dir);
	assert_int_equal(link(a[0], out), 0);
	names[0] = "notes.txt";
	assert_int_equal(drill(&o, &t, why, sizeof(why)), -1);
	assert_string_equal(why, "notes.txt: not the name of a vb backup "
	    "(vb-restore --list shows them)");
	assert_int_equal(t.n, 0);
	place_remove(&pl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(newest_and_one_older),
		cmocka_unit_test(one_or_none),
		cmocka_unit_test(planted_never_picked),
		cmocka_unit_test(names_given),
		cmocka_unit_test(names_refused),
	};

	return cmocka_run_group_tests_name("drill.c", tests, NULL, NULL);
}
