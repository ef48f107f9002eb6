/*
 * metrics.c - METRICS_FILE: the job's gauges in Prometheus' text format,
 * for node_exporter's textfile collector.
 *
 * Every value is a number vb computed: what the run says (its times,
 * exit status, stages), what BackupLog's history says (the last success,
 * the last proven restore), what the backup directory holds.  Nothing is
 * read back from the old file, which another account may have written.
 * The file is written as root may write into a directory another
 * account owns: a fresh temporary made with O_EXCL and O_NOFOLLOW under
 * a name nobody can predict, its mode set on the descriptor, synced,
 * then renamed over the file (a link there is replaced, never
 * followed); a directory anyone may write without the sticky bit is
 * refused.
 */
#define _GNU_SOURCE
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "vblib.h"

/* ---- what the history says ---- */

struct seen {
	int		 backup, snapshot, offsite, any_backup;
	double		 ok_at;			/* the last ok backup row */
	int64_t		 archive_bytes;
	int64_t		 db_bytes;		/* its snapshot's */
	double		 offsite_at;
	int64_t		 offsite_bytes;
	double		 last_at;		/* the last backup row, any */
	int64_t		 last_ms;
	int		 last_ok;
};

/* A row's time as Unix seconds (ms precision), or -1. */
static double
epoch(const char *iso)
{
	struct timespec ts;

	if (iso == NULL || vb_parse_iso(iso, &ts) != 0)
		return -1;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Each row, newest first, until everything wanted was found. */
static int
take(void *arg, struct vb_log_row *row)
{
	struct seen *s = arg;
	const char *op = row->r.op;

	if (strcmp(op, "backup") == 0 && !s->any_backup) {
		s->any_backup = 1;
		s->last_at = epoch(row->r.time);
		s->last_ms = row->r.ms;
		s->last_ok = row->r.ok;
	}
	if (!row->r.ok)
		return 0;
	if (strcmp(op, "backup") == 0 && !s->backup) {
		s->backup = 1;
		s->ok_at = epoch(row->r.time);
		s->archive_bytes = row->r.bytes;
	} else if (strcmp(op, "snapshot") == 0 && !s->snapshot) {
		s->snapshot = 1;
		s->db_bytes = row->r.bytes;
	} else if (strcmp(op, "offsite") == 0 && !s->offsite) {
		s->offsite = 1;
		s->offsite_at = epoch(row->r.time);
		s->offsite_bytes = row->r.bytes;
	}
	return s->backup && s->snapshot && s->offsite && s->any_backup;
}

/* ---- the text ---- */

/* One gauge, its HELP and TYPE, labelled db (and more, if given). */
static void
gauge(sqlite3_str *s, const char *name, const char *help, const char *db,
    const char *more, const char *value)
{
	sqlite3_str_appendf(s, "# HELP %s %s\n# TYPE %s gauge\n%s{db=\"%s\"%s} "
	    "%s\n", name, help, name, name, db, more != NULL ? more : "",
	    value);
}

static void
gauge_i(sqlite3_str *s, const char *name, const char *help, const char *db,
    int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	gauge(s, name, help, db, NULL, buf);
}

static void
gauge_t(sqlite3_str *s, const char *name, const char *help, const char *db,
    double v)
{
	char buf[48];

	snprintf(buf, sizeof(buf), "%.3f", v);
	gauge(s, name, help, db, NULL, buf);
}

/* A label value: \ " and newline escaped (the text format's rules). */
static char *
label(const char *v)
{
	sqlite3_str *s = sqlite3_str_new(NULL);

	for (; *v != '\0'; v++)
		if (*v == '\\' || *v == '"')
			sqlite3_str_appendf(s, "\\%c", *v);
		else if (*v == '\n')
			sqlite3_str_appendall(s, "\\n");
		else
			sqlite3_str_appendchar(s, 1, *v);
	return vb_str_finish(s);
}

/* The stages' gauges: success, exit status and duration of each. */
static void
stages(sqlite3_str *s, const struct vb_metrics_run *r, const char *db)
{
	static const char *const name[3] = { "vb_backup_stage_success",
	    "vb_backup_stage_exit_status", "vb_backup_stage_duration_seconds" };
	static const char *const help[3] = { "1 if the stage succeeded in the "
	    "last run, 0 if it failed; absent if it did not run.", "Exit "
	    "status of the stage's tool in the last run.", "How long the "
	    "stage took in the last run." };
	int k, i;

	for (k = 0; k < 3; k++) {
		if (r->nstages == 0)
			continue;
		sqlite3_str_appendf(s, "# HELP %s %s\n# TYPE %s gauge\n",
		    name[k], help[k], name[k]);
		for (i = 0; i < r->nstages; i++) {
			if (k == 2 && r->stage[i].ms < 0)
				continue;
			sqlite3_str_appendf(s, "%s{db=\"%s\",stage=\"%s\"} ",
			    name[k], db, r->stage[i].name);
			if (k == 0)
				sqlite3_str_appendf(s, "%d\n",
				    r->stage[i].status == 0);
			else if (k == 1)
				sqlite3_str_appendf(s, "%d\n",
				    r->stage[i].status);
			else
				sqlite3_str_appendf(s, "%.3f\n",
				    (double)r->stage[i].ms / 1000.0);
		}
	}
}

/*
 * How many backups dir holds (a snapshot and its archive are one), and
 * how many of them cannot be restored from here (recorded damaged, on a
 * broken chain, their last drill failed: vb_health, without hashing).
 */
static int64_t
kept_in(const char *dir, const char *logdb, int64_t *unsafe)
{
	struct vb_backup *list;
	char why[512];
	size_t n, i;
	int64_t k = 0;

	*unsafe = -1;
	if (dir == NULL || vb_scan(dir, &list, &n, why, sizeof(why)) != 0)
		return -1;
	vb_index_parents(dir, list, n);
	if (vb_health(dir, list, n, 0, 0, logdb, why, sizeof(why)) == 0)
		*unsafe = 0;
	for (i = 0; i < n; i++) {
		k += list[i].kind == VB_KIND_BACKUP;
		if (*unsafe >= 0)
			*unsafe += list[i].kind == VB_KIND_BACKUP &&
			    list[i].unsafe;
	}
	free(list);
	return k;
}

/* The last run: its times and status, as the run or the history say. */
static void
last_run(sqlite3_str *s, const struct vb_metrics_run *r,
    const struct seen *h, const char *db)
{
	double start = r->start, end = r->end;
	int exit = r->exit;

	if (end < 0 && h->any_backup) {
		end = h->last_at;
		start = end - (double)h->last_ms / 1000.0;
		exit = h->last_ok ? 0 : 1;
	}
	if (end < 0)
		return;
	gauge_t(s, "vb_backup_last_run_start_timestamp_seconds", "When the "
	    "last vb-backup run started (Unix time).", db, start);
	gauge_t(s, "vb_backup_last_run_end_timestamp_seconds", "When the "
	    "last vb-backup run ended (Unix time).", db, end);
	gauge_t(s, "vb_backup_last_run_duration_seconds", "How long the last "
	    "vb-backup run took.", db, end - start);
	gauge_i(s, "vb_backup_last_run_exit_status", "The last run's exit "
	    "status (0 ok, 1 failed, 2 configuration).", db, exit);
	gauge_i(s, "vb_backup_last_run_success", "1 if the last run "
	    "succeeded, else 0.", db, exit == 0);
}

/*
 * The drill's verdict on the backups there are: 0 when one of them (in
 * dir) failed its last drill, or this run's drill failed; 1 when a drill
 * ever proved one (or ran now) and none there failed; -1 never drilled.
 */
static int
drill_verdict(const struct vb_metrics_run *r)
{
	struct vb_backup *list;
	struct vb_proven pv;
	char why[512];
	size_t n = 0, i;
	int j, v = -1;

	vb_proven_read(r->logdb, &pv);
	/*
	 * This run's drill failed, or the newest one could not run or
	 * failed on the remote's copy (a local backup that failed counts
	 * below while it is kept).
	 */
	if (r->drill > 0 || pv.last == 2 || (pv.last == 0 && !pv.last_local))
		v = 0;
	else if (r->drill == 0 || pv.n > 0)
		v = 1;
	if (v == 1 && r->dir != NULL && vb_scan(r->dir, &list, &n, why,
	    sizeof(why)) == 0) {
		for (i = 0; i < n && v == 1; i++)
			for (j = 0; j < list[i].nfiles; j++)
				if (vb_drill_failed(&pv, list[i].files[j].name)
				    != NULL)
					v = 0;
		free(list);
	}
	free(pv.list);
	return v;
}

/*
 * The gauges of the history: the last success, offsite, proof.  What
 * never happened is a value too (a time of 0), so that an alert on its
 * age fires on a host that never had it.
 */
static void
history(sqlite3_str *s, const struct vb_metrics_run *r,
    const struct seen *h, const char *db)
{
	struct vb_hold *holds;
	char when[VB_ISO_LEN], why[512];
	size_t nh = 0;
	int64_t k, bad;
	int v;

	/* This run, when it succeeded; else the history's last one. */
	gauge_t(s, "vb_backup_last_success_timestamp_seconds", "When the last "
	    "successful run ended (Unix time; 0: never).", db, r->end >= 0 &&
	    r->exit == 0 ? r->end : h->backup && h->ok_at >= 0 ? h->ok_at :
	    0);
	if (h->backup && h->archive_bytes >= 0)
		gauge_i(s, "vb_backup_last_archive_bytes", "Size of the last "
		    "successful backup's archive.", db, h->archive_bytes);
	if (h->snapshot && h->db_bytes >= 0)
		gauge_i(s, "vb_backup_last_database_bytes", "Size of the "
		    "database in the last successful backup.", db, h->db_bytes);
	if ((k = kept_in(r->dir, r->logdb, &bad)) >= 0)
		gauge_i(s, "vb_backup_backups_kept", "Backups in the backup "
		    "directory after the run.", db, k);
	if (k >= 0 && bad >= 0)
		gauge_i(s, "vb_backup_unsafe_backups", "Backups kept that "
		    "cannot be restored from here: recorded damaged, on a "
		    "broken chain, or their last drill failed (vb-backup "
		    "--check names them).", db, bad);
	if (r->offsite)
		gauge_t(s, "vb_backup_offsite_last_success_timestamp_seconds",
		    "When an offsite copy was last verified (Unix time; 0: "
		    "never).", db, h->offsite && h->offsite_at >= 0 ?
		    h->offsite_at : 0);
	if (r->offsite && h->offsite && h->offsite_bytes >= 0)
		gauge_i(s, "vb_backup_offsite_last_bytes", "Bytes of the last "
		    "archive copied offsite and verified.", db,
		    h->offsite_bytes);
	if (r->offsite && r->remote_kept >= 0)
		gauge_i(s, "vb_backup_offsite_backups_kept", "Backups on the "
		    "offsite remote after the run's retention.", db,
		    r->remote_kept);
	gauge_i(s, "vb_backup_drill_interval_seconds", "DRILL_EVERY in "
	    "seconds (0: no drills): a verified restore is due within it.",
	    db, r->drill_every);
	gauge_t(s, "vb_backup_last_verified_restore_timestamp_seconds", "When "
	    "a restore drill last proved a backup (Unix time; 0: never).", db,
	    r->logdb != NULL && vb_backuplog_last_drill(r->logdb, when, why,
	    sizeof(why)) == 0 && when[0] != '\0' ? epoch(when) : 0);
	if ((v = drill_verdict(r)) >= 0)
		gauge_i(s, "vb_backup_last_drill_success", "0 while a backup "
		    "whose last drill failed is kept (until a drill proves it "
		    "or it is gone), 1 once drills proved every backup they "
		    "restored; absent: never drilled.", db, v);
	if (r->dir != NULL && vb_hold_list(r->dir, &holds, &nh) == 0) {
		free(holds);
		gauge_i(s, "vb_backup_held_backups", "Backups held after a "
		    "sudden loss of rows, until released (vb-prune --release).",
		    db, (int64_t)nh);
	}
}

/*
 * Points (BACKUP_INTERVAL below a day): the interval and when the last
 * point was made (0: never), so that an alert fires when none follows
 * for three intervals; no gauge when no points are asked for.
 */
static void
points(sqlite3_str *s, const struct vb_metrics_run *r, const char *db)
{
	const char *v = vb_config("BACKUP_INTERVAL");
	char when[VB_ISO_LEN], why[512];
	uint64_t ms;

	if (v == NULL || vb_parse_u64(v, &ms) != 0 || ms >= 86400000 ||
	    ms == 0)
		return;
	gauge_i(s, "vb_backup_point_interval_seconds", "BACKUP_INTERVAL in "
	    "seconds, when below a day: a point is due within it.", db,
	    (int64_t)(ms / 1000));
	gauge_t(s, "vb_backup_last_point_timestamp_seconds", "When the last "
	    "point was made (Unix time; 0: never).", db, r->logdb != NULL &&
	    vb_backuplog_last_point(r->logdb, when, why, sizeof(why)) == 0 &&
	    when[0] != '\0' ? epoch(when) : 0);
}

/* ---- written safely ---- */

/*
 * A fresh temporary in the directory dfd, named after base and 16 random
 * bytes, made with O_EXCL and O_NOFOLLOW.  Its fd, or -1.
 */
static int
fresh(int dfd, const char *base, char *name, size_t len)
{
	unsigned char r[8];
	int i, fd;

	for (i = 0; i < 16; i++) {
		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
			return -1;
		snprintf(name, len, ".%s.%02x%02x%02x%02x%02x%02x%02x%02x.tmp",
		    base, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
		if ((fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600)) >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

/* The directory of path opened, never through a link another user made
 * (vb_path_walk), and fit (not writable by anyone without the sticky
 * bit).  Its fd, or -1 (why). */
static int
open_dir(const char *path, char *base, size_t blen, char *why, size_t wlen)
{
	char dir[4096], real[4096];
	struct stat st, walked;
	int dfd = -1, r;

	if (vb_path_split(path, dir, sizeof(dir), base, blen) != 0 ||
	    *base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") ==
	    0) {
		snprintf(why, wlen, "%s: not a file name", path);
		return -1;
	}
	/* Through no link another user made, in any component; then
	 * opened as walked (a link planted since is not followed). */
	if ((r = vb_path_walk(dir, real, sizeof(real), &walked, why, wlen)) <
	    0)
		return -1;
	if (r == 1 || (dfd = open(real, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || fstat(dfd, &st) != 0) {
		snprintf(why, wlen, "%s: %s", dir, r == 1 ? strerror(ENOENT) :
		    errno == ELOOP ? "a symbolic link" : strerror(errno));
		if (dfd != -1)
			close(dfd);
		return -1;
	}
	if (st.st_dev != walked.st_dev || st.st_ino != walked.st_ino) {
		snprintf(why, wlen, "%s: replaced while vb opened it", dir);
		close(dfd);
		return -1;
	}
	if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX)) {
		snprintf(why, wlen, "%s: anyone may write it and replace what "
		    "vb writes there (mode %03o, no sticky bit); refusing to "
		    "write the metrics there", dir, (unsigned)(st.st_mode &
		    07777));
		close(dfd);
		return -1;
	}
	return dfd;
}

int
vb_metrics_put(const char *path, const char *text, char *why, size_t wlen)
{
	char base[256], tmp[320];
	size_t n = strlen(text);
	int dfd, fd, rc = -1;

	if ((dfd = open_dir(path, base, sizeof(base), why, wlen)) == -1)
		return -1;
	if ((fd = fresh(dfd, base, tmp, sizeof(tmp))) == -1) {
		snprintf(why, wlen, "%s: a temporary beside it: %s", path,
		    strerror(errno));
		close(dfd);
		return -1;
	}
	/* Readable by the exporter; set on the descriptor, not a name. */
	if (fchmod(fd, 0644) != 0 || vb_write_all(fd, text, n) != 0 ||
	    fsync(fd) != 0) {
		snprintf(why, wlen, "%s: %s", path, strerror(errno));
		close(fd);
	} else if (close(fd) != 0 || renameat(dfd, tmp, dfd, base) != 0)
		snprintf(why, wlen, "%s: %s", path, strerror(errno));
	else
		rc = 0;
	if (rc != 0)
		(void)unlinkat(dfd, tmp, 0);
	close(dfd);
	return rc;
}

/* What the configuration tells: the directory, OFFSITE, DRILL_EVERY. */
static void
config(struct vb_metrics_run *r)
{
	struct vb_duration d;
	const char *v = vb_config("DRILL_EVERY");
	time_t now = time(NULL);

	if (r->dir == NULL)
		r->dir = vb_config("BACKUP_DIR");
	r->offsite = vb_config("OFFSITE") != NULL;
	r->drill_every = v != NULL && strcmp(v, "0") == 0 ? 0 :
	    vb_parse_duration(v != NULL ? v : "7d", &d) != 0 ? 0 :
	    (int64_t)(now - vb_duration_add(now, &d, -1));
}

int
vb_metrics_write(const char *path, const struct vb_metrics_run *given,
    char *why, size_t wlen)
{
	struct vb_metrics_run run = *given;
	const struct vb_metrics_run *r;
	struct seen h;
	sqlite3_str *s = sqlite3_str_new(NULL);
	char w[512], *db = label(given->db != NULL ? given->db : ""), *text;
	int rc;

	memset(&h, 0, sizeof(h));
	config(&run);
	r = &run;
	if (r->logdb != NULL && access(r->logdb, F_OK) == 0)
		(void)vb_backuplog_each(r->logdb, take, &h, w, sizeof(w));
	if (db != NULL) {
		last_run(s, r, &h, db);
		history(s, r, &h, db);
		points(s, r, db);
		stages(s, r, db);
	}
	sqlite3_free(db);
	if ((text = vb_str_finish(s)) == NULL) {
		snprintf(why, wlen, "out of memory");
		return -1;
	}
	rc = vb_metrics_put(path, text, why, wlen);
	sqlite3_free(text);
	return rc;
}
