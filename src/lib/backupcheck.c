/*
 * backupcheck.c - vb-backup --check's verdicts on the backups as files
 * (vb-restore --check): the archives not signed, each backup file hashed
 * again or read whole (what cannot be restored from here, and why), the
 * snapshot a failed check set aside, the files left unencrypted (here and
 * on OFFSITE), the holds, and the run's lock.  Each judgement is made on
 * what the library itself computes (the inventory's records, the holds,
 * the lock as lockholder.c finds it), never on a tool's text; each is a
 * verdict in a list the tool prints.  What cannot be measured is said
 * so, never "ok".
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vblib.h"

/* ---- the backups (the inventory's records) ---- */

/* What the walk over the inventory's records counts. */
struct tally {
	const struct vb_check_opts *o;
	struct vb_verdicts	 bad;		/* one FAIL per bad file */
	int			 n, sums;	/* files, and those checked */
	int			 unsigned_n;	/* archives not signed */
	char			 first_unsigned[4400];
	int			 plain;		/* files not encrypted */
};

/* Whether the file of it is a raw snapshot: no archive hash to check. */
static int
is_raw(const struct vb_item *it)
{
	return it->b != NULL && it->b->files[it->j].ext == VB_EXT_DB &&
	    !it->b->files[it->j].encrypted && !it->b->files[it->j].delta;
}

/* One record of the listing, counted; a FAIL if it failed.  Always 0. */
static int
count(void *arg, const struct vb_item *it)
{
	struct tally *t = arg;
	const char *base;
	char q1[VB_SHQ_LEN], q2[VB_SHQ_LEN];

	t->n++;
	if (it->verified || is_raw(it))
		t->sums++;
	if (it->b != NULL && !it->b->files[it->j].encrypted)
		t->plain++;
	if (it->is_signed == 0 && t->unsigned_n++ == 0)
		snprintf(t->first_unsigned, sizeof(t->first_unsigned), "%s",
		    it->path);
	if (it->ok)
		return 0;
	if ((base = strrchr(it->path, '/')) == NULL)
		base = it->path;
	else
		base++;
	if (it->b != NULL && it->b->unsafe && it->b->drill_failed)
		vb_verdict_add(&t->bad, VB_CHECK_FAIL, "backups",
		    "%s: %s; find why "
		    "(vb-log --show --failures %s), then prove it again: "
		    "vb-backup --drill %s; until a drill proves it, retention "
		    "keeps it and counts it as no restorable point", it->path,
		    it->msg, vb_shq(t->o->db != NULL ? t->o->db : "", q1,
		    sizeof(q1)), vb_shq(base, q2, sizeof(q2)));
	else if (it->b == NULL && strcmp(it->path, t->o->dir) == 0)
		/* The history unread: the directory is no file to put back. */
		vb_verdict_add(&t->bad, VB_CHECK_FAIL, "backups",
		    "%s: %s", it->path,
		    it->msg);
	else
		vb_verdict_add(&t->bad, VB_CHECK_FAIL, "backups",
		    "%s: %s; it is kept, "
		    "never pruned: put a good copy in its place (vb-restore "
		    "--offsite uses the remote's meanwhile), or, if no copy "
		    "exists, remove it (rm %s)", it->path, it->msg,
		    vb_shq(it->path, q1, sizeof(q1)));
	return 0;
}

/* The verdicts of check_unsigned and check_backups, from t. */
static void
backups_said(const struct vb_check_opts *o, struct tally *t,
    struct vb_verdicts *vs)
{
	const char *every = o->full_every;
	size_t i;

	if (o->signing && t->unsigned_n > 0)
		vb_verdict_add(vs, VB_CHECK_WARN, "signatures",
		    "%d archive(s) were made "
		    "before SIGN_WITH and are not signed (%s ...): vb-restore "
		    "--verify-with refuses them and the signed catalog does "
		    "not list them; they restore without --verify-with, and "
		    "retention ages them out", t->unsigned_n,
		    t->first_unsigned);
	for (i = 0; i < t->bad.n; i++) {
		vb_verdict_add(vs, t->bad.line[i].v, t->bad.line[i].what, "%s",
		    t->bad.line[i].text);
	}
	vs->lost |= t->bad.lost;
	if (t->n == 0)
		vb_verdict_add(vs, VB_CHECK_FAIL, "backups",
		    "no backup in %s: nothing "
		    "to restore from here; run vb-backup now", o->dir);
	else if (t->sums < t->n)
		/* Never "ok" for what was not measured. */
		vb_verdict_add(vs, VB_CHECK_WARN, "backups",
		    "%d of the %d file(s) in %s "
		    "could not be checked: no SHA-256 recorded for them "
		    "(BackupLog lost their rows?) and encrypted (no identity "
		    "here to read them whole); vb-restore --list --verify -i "
		    "KEY-FILE reads them", t->n - t->sums, t->n, o->dir);
	if (t->bad.n == 0 && t->n > 0)
		vb_verdict_add(vs, VB_CHECK_OK, "backups",
		    "%d file(s) in %s, none known "
		    "damaged, none failed its last drill; %d hashed now, or "
		    "read whole, and found as made%s%s%s", t->n, o->dir,
		    t->sums, every != NULL ? "; FULL_EVERY=" : "",
		    every != NULL ? every : "", every != NULL ?
		    ": every chain whole" : "");
}

/* The newest snapshot a failed check set aside (check_set_aside). */
static void
set_aside(const struct vb_check_opts *o, struct vb_verdicts *vs, int *plain)
{
	struct vb_listed *f;
	size_t n, i, last = 0;
	char path[4400], q1[VB_SHQ_LEN], q2[VB_SHQ_LEN];

	if (vb_scan_asides(o->dir, &f, &n) != 0) {
		vb_verdict_add(vs, VB_CHECK_FAIL_JOB, "failed check",
		    "not checked: %s: "
		    "%s", o->dir, strerror(errno));
		return;
	}
	for (i = 0; i < n; i++) {
		if (strstr(f[i].name, VB_AGE_SUFFIX) == NULL)
			(*plain)++;
		if (strcmp(f[i].name, f[last].name) > 0)
			last = i;
	}
	if (n > 0) {
		snprintf(path, sizeof(path), "%s/%s", o->dir, f[last].name);
		vb_verdict_add(vs, VB_CHECK_FAIL, "failed check",
		    "%s: a snapshot that "
		    "failed its integrity check, kept to look at: the "
		    "database itself may be damaged; check it (sqlite3 %s "
		    "'PRAGMA integrity_check'), compare with the last good "
		    "backup (vb-restore --to), then remove it (rm %s)", path,
		    vb_shq(o->db != NULL ? o->db : "", q1, sizeof(q1)),
		    vb_shq(path, q2, sizeof(q2)));
	}
	free(f);
}

/* With ENCRYPT_TO, the files left readable without the identity. */
static void
plaintext(const struct vb_check_opts *o, int here, struct vb_verdicts *vs)
{
	struct vb_backup *bk;
	char why[1024], on[1200] = "";
	size_t n, i;
	int j, remote = 0;

	if (o->remote != NULL && vb_remote_list(o->remote, &bk, &n, why,
	    sizeof(why)) != 0) {
		vb_verdict_add(vs, VB_CHECK_FAIL, "encryption",
		    "ENCRYPT_TO is set, but "
		    "what %s holds cannot be listed (%s): its unencrypted "
		    "files, if any, are not counted", o->remote, why);
	} else if (o->remote != NULL) {
		for (i = 0; i < n; i++)
			for (j = 0; j < bk[i].nfiles; j++)
				remote += !bk[i].files[j].encrypted;
		free(bk);
	}
	if (remote > 0)
		snprintf(on, sizeof(on), " and %d on %s", remote, o->remote);
	if (here > 0 || remote > 0)
		vb_verdict_add(vs, VB_CHECK_FAIL, "encryption",
		    "ENCRYPT_TO is set, but "
		    "%d file(s) in %s%s are not encrypted (made before it "
		    "was): encrypt them in place, each verified: vb-backup "
		    "--encrypt-existing", here, o->dir, on);
}

/* The backups held after a sudden loss of rows (check_holds). */
static void
holds(const struct vb_check_opts *o, struct vb_verdicts *vs)
{
	struct vb_hold *h;
	char name[128], path[4400], q[VB_SHQ_LEN];
	size_t n, i;

	if (vb_hold_list(o->dir, &h, &n) != 0) {
		vb_verdict_add(vs, VB_CHECK_FAIL_JOB, "held",
		    "not checked: %s: %s",
		    o->dir, strerror(errno));
		return;
	}
	for (i = 0; i < n; i++)
		vb_verdict_add(vs, VB_CHECK_FAIL, "held",
		    "%s: was it meant? look at the "
		    "rows before (vb-restore --to /tmp/before.db %s); "
		    "retention keeps %s until: vb-prune --release %s",
		    h[i].reason, vb_shq(vb_find_archive(o->dir, h[i].stem,
		    name, sizeof(name), path, sizeof(path)) == 0 ? path :
		    h[i].stem, q, sizeof(q)), h[i].stem, h[i].stem);
	free(h);
}

/* ---- the lock ---- */

/*
 * The lock's verdict (check_lock), as lockholder.c finds it.
 * (long: one verdict for each state the lock can be in, in one switch)
 */
static void
lock(const struct vb_check_opts *o, struct vb_verdicts *vs)
{
	struct vb_lock_look l;
	const char *user = o->user;
	char path[4400], ps[300], taker[32], pwbuf[1024], q[VB_SHQ_LEN];
	struct passwd pwd, *pw;
	size_t i;

	if (user == NULL)
		user = getpwuid_r(geteuid(), &pwd, pwbuf, sizeof(pwbuf), &pw) ==
		    0 && pw != NULL ? pw->pw_name : "this user";
	snprintf(path, sizeof(path), "%s/%s", o->dir, VB_LOCK_FILE);
	vb_lock_look(path, &l);
	switch (l.state) {
	case VB_LOCK_NONE:
		vb_verdict_add(vs, VB_CHECK_OK, "lock",
		    "no lock file yet (the first run "
		    "makes it)");
		return;
	case VB_LOCK_ODD:
		vb_verdict_add(vs, VB_CHECK_FAIL, "lock",
		    "%s is not a regular file (a "
		    "link or something planted?): remove it; the next run "
		    "makes it", path);
		return;
	case VB_LOCK_UNREADABLE:
		vb_verdict_add(vs, VB_CHECK_FAIL_JOB, "lock",
		    "%s is not readable by %s: "
		    "chown %s %s", path, user, user, vb_shq(path, q,
		    sizeof(q)));
		return;
	case VB_LOCK_FREE:
		vb_verdict_add(vs, VB_CHECK_OK, "lock", "%s is free", path);
		return;
	case VB_LOCK_HELD:
		break;
	}
	if (l.cmd[0] == '\0') {
		/* The taker is gone; a child of it still has the file open. */
		snprintf(ps, sizeof(ps), "%s", l.holders);
		for (i = 0; ps[i] != '\0'; i++)
			if (ps[i] == ' ')
				ps[i] = ',';
		snprintf(taker, sizeof(taker), "%ld", l.pid);
		vb_verdict_add(vs, VB_CHECK_FAIL, "lock",
		    "%s is held by PID %s, which "
		    "outlived the run that took it (PID %s): a killed run's "
		    "stage still running? look at it (ps -f -p %s) and kill it "
		    "if it is stuck", path, l.holders[0] != '\0' ? l.holders :
		    "?", l.pid > 0 ? taker : "?", ps);
	} else if (!l.vb_run)
		vb_verdict_add(vs, VB_CHECK_FAIL, "lock",
		    "%s is held by PID %ld (%s), "
		    "not a vb-backup run: the nightly job will not start (exit "
		    "75) until it lets go", path, l.pid, l.cmd);
	else if (l.secs > 12 * 3600)
		vb_verdict_add(vs, VB_CHECK_FAIL, "lock",
		    "a vb-backup run (PID %ld) has "
		    "held %s for %lld h: hung? look at it (ps -p %ld -f) and "
		    "kill it if it is stuck", l.pid, path, l.secs / 3600,
		    l.pid);
	else if (l.secs >= 0)
		vb_verdict_add(vs, VB_CHECK_OK, "lock",
		    "a run is in progress (PID %ld, "
		    "for %lld s)", l.pid, l.secs);
	else
		vb_verdict_add(vs, VB_CHECK_OK, "lock",
		    "a run is in progress (PID %ld, "
		    "for ? s)", l.pid);
}

/* ---- all of them ---- */

void
vb_check_backups(const struct vb_check_opts *o, struct vb_verdicts *vs)
{
	struct tally t = { .o = o };
	struct vb_backup *bk;
	struct stat st;
	char why[1024];
	size_t n;
	int listed = 0, err;

	memset(vs, 0, sizeof(*vs));
	/* No directory is no backup: never a check that passes. */
	err = stat(o->dir, &st) == 0 ? 0 : errno;
	if (err == ENOENT)
		vb_verdict_add(vs, VB_CHECK_FAIL, "backups", "%s does not "
		    "exist: no backup to restore from here (a disk not "
		    "mounted, or BACKUP_DIR changed?); run vb-backup now",
		    o->dir);
	else if (err != 0)
		vb_verdict_add(vs, VB_CHECK_FAIL_JOB, "backups", "not "
		    "checked: %s: %s", o->dir, strerror(err));
	else if (!S_ISDIR(st.st_mode))
		vb_verdict_add(vs, VB_CHECK_FAIL, "backups", "%s is not a "
		    "directory: no backup to restore from here", o->dir);
	else {
		if (vb_scan(o->dir, &bk, &n, why, sizeof(why)) == 0) {
			free(bk);
			listed = 1;
		} else
			vb_verdict_add(vs, VB_CHECK_FAIL_JOB, "backups",
			    "not checked: "
			    "%s", why);
	}
	if (listed) {
		/* --list --sums: each archive hashed again, each chain's
		 * links, the damage recorded, the last drill of each. */
		(void)vb_inventory(&(struct vb_inventory_opts){ .dir = o->dir,
		    .sums = 1, .verify_with = o->verify_with, .each = count,
		    .arg = &t });
		backups_said(o, &t, vs);
		set_aside(o, vs, &t.plain);
	}
	if (o->encrypting)
		plaintext(o, t.plain, vs);
	if (listed)
		holds(o, vs);
	lock(o, vs);
	vb_verdicts_free(&t.bad);
}
