/*
 * unit/plan.c - unit tests of vb-backup --dry-run's rows (plan.c) and
 * of the tools' answers built on them: the configuration's rows as the
 * settings and the places are, the preflight's, the drill's five cases,
 * what retention would delete in a real directory (vb_prune_plan) and
 * the drill row from a database's history (vb_runs_plan_print).
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

static char dir[] = "/tmp/vb-plan-XXXXXX";

/* What fn printed into a memory stream, to free. */
struct mem {
	FILE	*fp;
	char	*buf;
	size_t	 len;
};

static void
mem_open(struct mem *m)
{
	m->buf = NULL;
	m->len = 0;
	assert_non_null(m->fp = open_memstream(&m->buf, &m->len));
}

/* Closes m; its text, which the caller frees. */
static char *
mem_text(struct mem *m)
{
	assert_int_equal(fclose(m->fp), 0);
	return m->buf;
}

/* The settings only the environment gives, none set; config reread. */
static void
no_settings(const char *conf)
{
	static const char *const keys[] = { "OFFSITE", "ENCRYPT_TO",
	    "FULL_EVERY", "METRICS_FILE", "ON_SUCCESS", "ON_FAILURE",
	    "HOOK_TIMEOUT", "DRILL_EVERY", "DRILL_IDENTITY" };
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		unsetenv(keys[i]);
	setenv("VB_CONF", conf, 1);
	vb_config_unload();
}

static void
plan_row(void **state)
{
	struct mem m;
	char *t;

	(void)state;
	mem_open(&m);
	assert_int_equal(vb_plan_row(m.fp, "then", "%s | %d", "a", 2), 0);
	vb_plan_row(m.fp, "configuration", "x");
	vb_plan_row(m.fp, "snapshot", "a\tb\nc");
	t = mem_text(&m);
	/* "LABEL:" in 14 columns, one space: bash's printf '%-14s %s'. */
	assert_string_equal(t, "then:          a | 2\n"
	    "configuration: x\n"
	    "snapshot:      a?b?c\n");
	free(t);
}

static void
plan_setup_unset(void **state)
{
	char conf[128], db[128], bdir[128], *t;
	struct mem m;

	(void)state;
	snprintf(conf, sizeof(conf), "%s/absent.conf", dir);
	snprintf(db, sizeof(db), "%s/none.db", dir);
	snprintf(bdir, sizeof(bdir), "%s/none", dir);
	no_settings(conf);
	mem_open(&m);
	assert_int_equal(vb_plan_setup(m.fp, db, bdir), 0);
	t = mem_text(&m);
	assert_non_null(strstr(t, "configuration: "));
	assert_non_null(strstr(t, "absent.conf (absent)\n"));
	assert_non_null(strstr(t, "none.db (MISSING)\n"));
	assert_non_null(strstr(t, "/none (would be created, 0700)\n"));
	assert_non_null(strstr(t, "offsite:       (none: OFFSITE is not "
	    "set)\n"));
	assert_non_null(strstr(t, "encryption:    (none: ENCRYPT_TO is not "
	    "set)\n"));
	assert_non_null(strstr(t, "incremental:   (off: every backup is a "
	    "full archive; FULL_EVERY is not set)\n"));
	assert_non_null(strstr(t, "metrics:       (none: METRICS_FILE is "
	    "not set)\n"));
	assert_non_null(strstr(t, "on success:    (nothing)\n"));
	assert_non_null(strstr(t, "on failure:    (nothing)\n"));
	/* No hook: no timeout to tell. */
	assert_null(strstr(t, "hook timeout"));
	free(t);
}

static void
plan_setup_set(void **state)
{
	char conf[128], db[128], remote[128], want[512], *t;
	struct mem m;

	(void)state;
	snprintf(conf, sizeof(conf), "%s/vb.conf", dir);
	snprintf(db, sizeof(db), "%s/app.db", dir);
	snprintf(remote, sizeof(remote), "%s/remote", dir);
	spew(conf, "FULL_EVERY=7d\n", 14);
	spew(db, "12345", 5);
	no_settings(conf);
	setenv("OFFSITE", remote, 1);
	setenv("METRICS_FILE", "/tmp/vb.prom", 1);
	setenv("ON_FAILURE", "echo failed", 1);
	vb_config_unload();
	mem_open(&m);
	vb_plan_setup(m.fp, db, dir);
	t = mem_text(&m);
	snprintf(want, sizeof(want), "configuration: %s\ndatabase:      %s "
	    "(5 bytes)\nbackup dir:    %s\noffsite:       %s\n", conf, db, dir,
	    remote);
	/* The configuration's places first, as they are, then OFFSITE. */
	assert_int_equal(strncmp(t, want, strlen(want)), 0);
	free(t);
	/* The rest, one at a time. */
	setenv("HOOK_TIMEOUT", "30", 1);
	vb_config_unload();
	mem_open(&m);
	vb_plan_setup(m.fp, db, dir);
	t = mem_text(&m);
	assert_non_null(strstr(t, "incremental:   a delta of the last backup "
	    "each night; a full one when the last full is 7d old "
	    "(FULL_EVERY)\n"));
	assert_non_null(strstr(t, "metrics:       /tmp/vb.prom\n"));
	assert_non_null(strstr(t, "on failure:    echo failed\n"));
	assert_non_null(strstr(t, "hook timeout:  30 s\n"));
	free(t);
	no_settings("/dev/null");
	unlink(conf);
	unlink(db);
}

static void
plan_snapshot(void **state)
{
	struct mem m;
	char *t;

	(void)state;
	mem_open(&m);
	vb_plan_snapshot(m.fp, 1, "x can be read");
	vb_plan_snapshot(m.fp, 0, "no room");
	t = mem_text(&m);
	assert_string_equal(t, "snapshot:      x can be read\n"
	    "snapshot:      WOULD FAIL: no room\n");
	free(t);
}

/* The drill row of (drill, can, proof). */
static char *
drill_row(enum vb_drill_due drill, int can, const char *proof)
{
	struct vb_tonight d = { drill, can, 0, "" };
	struct mem m;

	snprintf(d.proof, sizeof(d.proof), "%s", proof);
	mem_open(&m);
	vb_plan_drill(m.fp, &d, "7d", "vb-restore --drill | vb-log -q db");
	return mem_text(&m);
}

static void
plan_drill(void **state)
{
	static const struct {
		enum vb_drill_due	 drill;
		int			 can;
		const char		*proof, *want;
	} c[] = {
		{ VB_DRILL_OFF, 1, "", "drill:         (off: DRILL_EVERY=0; "
		    "the snapshot gets integrity_check once a week "
		    "instead)\n" },
		{ VB_DRILL_DUE, 0, "", "drill:         DUE TONIGHT BUT NOT "
		    "RUN: the archives are encrypted and DRILL_IDENTITY is "
		    "not set; run it where the identity is: "
		    "DRILL_IDENTITY=KEY vb-backup --drill\n" },
		{ VB_DRILL_NOT_DUE, 0, "2026-11-01T01:00:00Z", "drill:         "
		    "every 7d; last proof 2026-11-01T01:00:00Z, not due "
		    "tonight (when due, the nightly cannot run it: "
		    "encrypted, no DRILL_IDENTITY)\n" },
		{ VB_DRILL_DUE, 1, "", "drill:         due tonight, after "
		    "retention: vb-restore --drill | vb-log -q db\n" },
		{ VB_DRILL_NOT_DUE, 1, "", "drill:         every 7d; last "
		    "proof -, not due tonight\n" },
	};
	size_t i;
	char *t;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		t = drill_row(c[i].drill, c[i].can, c[i].proof);
		assert_string_equal(t, c[i].want);
		free(t);
	}
}

static void
plan_deletes(void **state)
{
	struct mem m;
	char *t;

	(void)state;
	mem_open(&m);
	vb_plan_deletes(m.fp, "/b/backup-x.tar.zst", 120);
	vb_plan_deletes(m.fp, "/b/backup-y.tar.zst", -1);
	vb_plan_deletes(m.fp, NULL, 0);
	t = mem_text(&m);
	assert_string_equal(t, "  /b/backup-x.tar.zst  (120 bytes)\n"
	    "  /b/backup-y.tar.zst  (- bytes)\n  nothing\n");
	free(t);
}

/* vb_prune_plan of the directory arg, keeping the newest 2. */
static int
prune_plan(void *arg)
{
	struct vb_policy p;

	memset(&p, 0, sizeof(p));
	p.keep = 2;
	return vb_prune_plan(arg, &p);
}

static void
plan_prune(void **state)
{
	static const char *const day[] = { "01", "02", "03" };
	char b[128], f[256], *t;
	size_t i;

	(void)state;
	no_settings("/dev/null");
	snprintf(b, sizeof(b), "%s/b", dir);
	/* No directory yet: the policy alone. */
	assert_int_equal(capture(prune_plan, b, &t), 0);
	assert_string_equal(t, "retention:     keep the newest 2 backups "
	    "(any rule keeps a backup); never the newest one\n");
	free(t);
	assert_int_equal(mkdir(b, 0700), 0);
	assert_int_equal(capture(prune_plan, b, &t), 0);
	assert_non_null(strstr(t, "\nretention would delete now (before "
	    "tonight's backup):\n  nothing\n"));
	free(t);
	for (i = 0; i < 3; i++) {
		snprintf(f, sizeof(f), "%s/backup-2026-11-%sT01-00-00-000Z"
		    ".tar.zst", b, day[i]);
		spew(f, "abc", i);
	}
	assert_int_equal(capture(prune_plan, b, &t), 0);
	snprintf(f, sizeof(f), "(before tonight's backup):\n  %s/backup-"
	    "2026-11-01T01-00-00-000Z.tar.zst  (0 bytes)\n", b);
	assert_non_null(strstr(t, f));
	assert_null(strstr(t, "2026-11-02"));
	free(t);
	/* Nothing was deleted. */
	snprintf(f, sizeof(f), "%s/backup-2026-11-01T01-00-00-000Z.tar.zst",
	    b);
	assert_int_equal(access(f, F_OK), 0);
}

/* vb_runs_plan_print of the database arg. */
static int
runs_plan(void *arg)
{
	return vb_runs_plan_print(arg, "CMD");
}

static void
plan_runs(void **state)
{
	char db[128], *t;

	(void)state;
	snprintf(db, sizeof(db), "%s/never.db", dir);
	no_settings("/dev/null");
	/* No history: as if nothing ran, so the drill is due. */
	assert_int_equal(capture(runs_plan, db, &t), 0);
	assert_string_equal(t, "drill:         due tonight, after "
	    "retention: CMD\n");
	free(t);
	setenv("DRILL_EVERY", "0", 1);
	vb_config_unload();
	assert_int_equal(capture(runs_plan, db, &t), 0);
	assert_non_null(strstr(t, "(off: DRILL_EVERY=0;"));
	free(t);
	no_settings("/dev/null");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plan_row),
		cmocka_unit_test(plan_setup_unset),
		cmocka_unit_test(plan_setup_set),
		cmocka_unit_test(plan_snapshot),
		cmocka_unit_test(plan_drill),
		cmocka_unit_test(plan_deletes),
		cmocka_unit_test(plan_prune),
		cmocka_unit_test(plan_runs),
	};
	int rc;

	mkdtemp_or_fail(dir);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rm_rf(dir);
	return rc;
}
