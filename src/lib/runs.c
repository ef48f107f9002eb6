/*
 * runs.c - the runs judged: what vb-backup --check says of the last run,
 * the last successful backup and the restore drills, and what tonight's
 * nightly is due (a drill, the snapshot's integrity_check), from
 * BackupLog's history and the configuration.  Facts are read by the
 * fields their owners write (record.c's drill=, history.c's proofs),
 * never by a message's words.  Nothing here prints but vb-log --due's
 * one line (vb_runs_due_print) and --plan's drill row (plan.c says it):
 * the verdicts are filled in, vb-log says them.  A history that cannot
 * be read is a verdict of its own, and is never taken for "all is
 * well": what it would have said is judged as nothing having run.
 */
#define _GNU_SOURCE
#include <err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vblib.h"

#define FULL_CHECK_DAYS	7	/* integrity_check at least this often */
#define DRILL_SLACK_S	3600	/* the same 01:00 a week later counts */
#define BACKUP_STALE_S	(26 * 3600)	/* a nightly missed, and then some */

/* ---- reading ---- */

/* The backup and compress rows, newest first: the last run, the last ok. */
struct walk {
	struct vb_runs	*h;
	int		 runs;		/* a backup row was seen */
	char		 compress_at[VB_ISO_LEN];
	char		 compress_file[4096];
};

static int
runs_each(void *arg, struct vb_log_row *row)
{
	struct walk *w = arg;
	struct vb_runs *h = w->h;

	if (strcmp(row->r.op, "backup") == 0) {
		if (!w->runs) {
			w->runs = 1;
			h->last_run = row->r.ok;
			snprintf(h->last_run_at, sizeof(h->last_run_at), "%s",
			    row->r.time);
			snprintf(h->last_run_msg, sizeof(h->last_run_msg),
			    "%s", row->r.msg);
		}
		if (row->r.ok) {
			snprintf(h->good_at, sizeof(h->good_at), "%s",
			    row->r.time);
			snprintf(h->good_file, sizeof(h->good_file), "%s",
			    row->r.path);
			return 1;
		}
	} else if (!w->runs && row->r.ok && strcmp(row->r.op, "compress") ==
	    0 && w->compress_at[0] == '\0') {
		/* Where no vb-backup ran, the last archive made. */
		snprintf(w->compress_at, sizeof(w->compress_at), "%s",
		    row->r.time);
		snprintf(w->compress_file, sizeof(w->compress_file), "%s",
		    row->r.path);
	}
	return 0;
}

/* The newest drill, wherever it read (history.c's vb_proven). */
static int
newest_drill(const char *db, struct vb_runs *h)
{
	struct vb_proven pv;

	if (vb_proven_read(db, &pv) != 0)
		return -1;
	h->drill = pv.last;
	h->drill_local = pv.last_local;
	snprintf(h->drill_at, sizeof(h->drill_at), "%s", pv.last_at);
	snprintf(h->drill_file, sizeof(h->drill_file), "%s", pv.last_file);
	snprintf(h->drill_msg, sizeof(h->drill_msg), "%s", pv.last_why);
	free(pv.list);
	return 0;
}

int
vb_runs_read(const char *db, struct vb_runs *h)
{
	struct walk w;

	memset(h, 0, sizeof(*h));
	memset(&w, 0, sizeof(w));
	h->last_run = h->drill = -1;
	w.h = h;
	if (vb_backuplog_each(db, runs_each, &w, h->why, sizeof(h->why)) !=
	    0 || vb_backuplog_last_drill(db, h->proof, h->why,
	    sizeof(h->why)) != 0 || vb_backuplog_last_full_check(db,
	    h->full_check, h->why, sizeof(h->why)) != 0)
		goto unreadable;
	if (newest_drill(db, h) != 0) {
		snprintf(h->why, sizeof(h->why), "%s: BackupLog cannot be "
		    "read", db);
		goto unreadable;
	}
	if (!w.runs && w.compress_at[0] != '\0') {
		memcpy(h->good_at, w.compress_at, sizeof(h->good_at));
		memcpy(h->good_file, w.compress_file, sizeof(h->good_file));
	}
	h->readable = 1;
	return 0;
unreadable:
	/* Nothing is known to have run: judged so, beside the FAIL. */
	snprintf(w.compress_file, sizeof(w.compress_file), "%s", h->why);
	memset(h, 0, sizeof(*h));
	snprintf(h->why, sizeof(h->why), "%s", w.compress_file);
	h->last_run = h->drill = -1;
	return -1;
}

void
vb_runs_conf(struct vb_runs_conf *c, const char *db, time_t now)
{
	const char *enc = vb_config("ENCRYPT_TO");
	const char *id = vb_config("DRILL_IDENTITY");

	memset(c, 0, sizeof(*c));
	c->db = db;
	c->dir = vb_config("BACKUP_DIR");
	c->drill_every = vb_config("DRILL_EVERY");
	if (c->drill_every == NULL || *c->drill_every == '\0')
		c->drill_every = "7d";
	c->can_drill = enc == NULL || *enc == '\0' || (id != NULL &&
	    *id != '\0');
	c->now = now;
}

/* ---- times ---- */

/* A record's time as Unix seconds (truncated), or -1 if it is none. */
static time_t
seconds(const char *iso)
{
	struct timespec ts;

	if (iso == NULL || *iso == '\0' || vb_parse_iso(iso, &ts) != 0)
		return -1;
	return ts.tv_sec;
}

/* t as 2026-11-27T01:00:03Z into buf. */
static void
utc(time_t t, char buf[VB_ISO_LEN])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, VB_ISO_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, VB_ISO_LEN, "%lld", (long long)t);
}

/* The time DRILL_EVERY times k before c->now (an unreadable one: 7d). */
static time_t
period_ago(const struct vb_runs_conf *c, int k)
{
	struct vb_duration d;

	if (vb_parse_duration(c->drill_every, &d) != 0)
		(void)vb_parse_duration("7d", &d);
	d.years *= k;
	d.months *= k;
	d.days *= k;
	d.hours *= k;
	return vb_duration_add(c->now, &d, -1);
}

static int
drill_off(const struct vb_runs_conf *c)
{
	return strcmp(c->drill_every, "0") == 0;
}

/* ---- the verdicts ---- */

/* The last run's own record: a failure says when, where and why. */
static void
last_run(const struct vb_runs *h, const struct vb_runs_conf *c,
    struct vb_verdicts *vs)
{
	char q[VB_SHQ_LEN];

	if (h->last_run == 0)
		vb_verdict_add(vs, VB_CHECK_FAIL, "last run",
		    "%s: %s; see vb-log "
		    "--show --failures %s", h->last_run_at, h->last_run_msg,
		    vb_shq(c->db, q, sizeof(q)));
	else if (h->last_run == 1)
		vb_verdict_add(vs, VB_CHECK_OK, "last run",
		    "%s: ok", h->last_run_at);
}

/* Whether file is under dir, as the operator wrote it. */
static int
under(const char *file, const char *dir)
{
	size_t len = dir != NULL ? strlen(dir) : 0;

	return dir != NULL && strncmp(file, dir, len) == 0 &&
	    file[len] == '/';
}

/*
 * The age of the last successful backup, as BackupLog says; the file it
 * names, if in the backup directory, must be there.
 */
static void
last_backup(const struct vb_runs *h, const struct vb_runs_conf *c,
    struct vb_verdicts *vs)
{
	time_t when = seconds(h->good_at), age;
	char at[VB_ISO_LEN], q[VB_SHQ_LEN];

	if (when < 0) {
		vb_verdict_add(vs, VB_CHECK_FAIL, "last backup",
		    "no successful "
		    "backup recorded (BackupLog): run vb-backup once by hand");
		return;
	}
	age = c->now - when;
	utc(when, at);
	if (under(h->good_file, c->dir) && access(h->good_file, F_OK) != 0)
		vb_verdict_add(vs, VB_CHECK_FAIL, "last backup", "the last "
		    "successful backup BackupLog records (%s) is %s, and it "
		    "is not there (deleted or moved?): run vb-backup now, and "
		    "find out what removed it", at, h->good_file);
	else if (age < BACKUP_STALE_S)
		vb_verdict_add(vs, VB_CHECK_OK, "last backup",
		    "%s, %lld h %lld min "
		    "ago (%s)", at, (long long)(age / 3600),
		    (long long)(age % 3600 / 60), h->good_file);
	else
		vb_verdict_add(vs, VB_CHECK_FAIL, "last backup", "the last "
		    "successful backup is %lld h old (%s, from BackupLog): "
		    "see vb-log --show --failures %s and the system log "
		    "(journalctl -t vb-backup, or /var/log/syslog)",
		    (long long)(age / 3600), at, vb_shq(c->db, q, sizeof(q)));
}

/*
 * The newest drill, if it failed on the remote's copy or could not run
 * (a local backup that failed its drill is one of the backups' lines,
 * until proven or gone); then a drill proved a backup within twice
 * DRILL_EVERY.
 */
static void
drills(const struct vb_runs *h, const struct vb_runs_conf *c,
    struct vb_verdicts *vs)
{
	static const char cannot[] = "; the archives are encrypted and "
	    "DRILL_IDENTITY is not set, so the nightly cannot drill: run "
	    "DRILL_IDENTITY=KEY-FILE vb-backup --drill where the key is";
	char q[VB_SHQ_LEN];
	const char *why = c->can_drill ? "" : cannot, *p, *cut = NULL;
	time_t last = seconds(h->proof);
	char at[VB_ISO_LEN];

	if (h->drill == 2 || (h->drill == 0 && !h->drill_local)) {
		/* The reason, without its drill= field. */
		for (p = h->drill_msg; (p = strstr(p, "; drill=")) != NULL;
		    p++)
			cut = p;
		vb_verdict_add(vs, VB_CHECK_FAIL, "drill",
		    "the last drill (%s) "
		    "failed: %s: %.*s; fix what it says, then vb-backup "
		    "--drill", h->drill_at, h->drill_file, cut != NULL ?
		    (int)(cut - h->drill_msg) : (int)strlen(h->drill_msg),
		    h->drill_msg);
	}
	if (drill_off(c)) {
		vb_verdict_add(vs, VB_CHECK_WARN, "drill",
		    "DRILL_EVERY=0: no restore "
		    "drill proves the backups (the snapshot's weekly "
		    "integrity_check only); vb-backup --drill runs one");
		return;
	}
	if (last < 0) {
		vb_verdict_add(vs, VB_CHECK_FAIL, "drill", "no backup has been "
		    "restored and proven yet (DRILL_EVERY=%s): vb-backup "
		    "--drill%s", c->drill_every, why);
		return;
	}
	utc(last, at);
	if (last < period_ago(c, 2))
		vb_verdict_add(vs, VB_CHECK_FAIL, "drill",
		    "the last verified restore "
		    "is from %s, older than twice DRILL_EVERY=%s: see vb-log "
		    "--show --failures %s; vb-backup --drill%s", at,
		    c->drill_every, vb_shq(c->db, q, sizeof(q)), why);
	else
		vb_verdict_add(vs, VB_CHECK_OK, "drill",
		    "last verified restore %s "
		    "(DRILL_EVERY=%s)", at, c->drill_every);
}

void
vb_runs_judge(const struct vb_runs *h, const struct vb_runs_conf *c,
    struct vb_verdicts *vs)
{
	if (!h->readable)
		vb_verdict_add(vs, VB_CHECK_FAIL, "history", "BackupLog in %s "
		    "cannot be read (%s): the last run, the last backup and "
		    "the drills below are unknown", c->db, h->why);
	last_run(h, c, vs);
	last_backup(h, c, vs);
	drills(h, c, vs);
}

/* ---- what is due ---- */

void
vb_runs_due(const struct vb_runs *h, const struct vb_runs_conf *c,
    struct vb_tonight *d)
{
	time_t proof = seconds(h->proof), full = seconds(h->full_check);

	memset(d, 0, sizeof(*d));
	d->can_drill = c->can_drill;
	if (proof >= 0)
		utc(proof, d->proof);
	if (drill_off(c))
		d->drill = VB_DRILL_OFF;
	else if (proof < 0 || proof <= period_ago(c, 1) + DRILL_SLACK_S)
		d->drill = VB_DRILL_DUE;
	else
		d->drill = VB_DRILL_NOT_DUE;
	/*
	 * integrity_check once a week, unless a drill takes that slot: it
	 * runs integrity_check on the same bytes after their trip through
	 * the archive.
	 */
	d->full_check = (d->drill == VB_DRILL_OFF || !d->can_drill) &&
	    (full < 0 || full < c->now - FULL_CHECK_DAYS * 86400);
}

int
vb_runs_due_print(const char *path)
{
	static const char *const drill[] = { "off", "not-due", "due" };
	struct vb_runs_conf c;
	struct vb_tonight d;
	struct vb_runs h;
	int ret = 0;

	if (vb_runs_read(path, &h) != 0) {
		warnx("%s", h.why);
		ret = 1;
	}
	vb_runs_conf(&c, path, time(NULL));
	vb_runs_due(&h, &c, &d);
	printf("%s\t%s\t%s\t%s\n", drill[d.drill], d.can_drill ? "yes" : "no",
	    d.full_check ? "yes" : "no", d.proof[0] != '\0' ? d.proof : "-");
	return ret;
}

int
vb_runs_plan_print(const char *path, const char *cmd)
{
	struct vb_runs_conf c;
	struct vb_tonight d;
	struct vb_runs h;

	/* Unreadable: answered as if nothing ran, as --due does; the
	 * plan's database row says why. */
	vb_runs_read(path, &h);
	vb_runs_conf(&c, path, time(NULL));
	vb_runs_due(&h, &c, &d);
	return vb_plan_drill(stdout, &d, c.drill_every, cmd) != 0;
}
