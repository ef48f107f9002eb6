/*
 * point.c - the point planner: which backup a point leans on, which run
 * is due (the nightly or a point), and which backup a time names.
 *
 * Decisions over a directory's listing (vb_scan, with each backup's kind
 * and parent from its page index, and its health), so that every rule
 * is one function the unit tests call.  A point leans on the newest
 * nightly (any backup that is not a point), or on the hour's point: the
 * first point of that UTC hour, which leans on the nightly itself.  So a
 * point restores through at most two archives beyond its nightly's own
 * chain, a point no other leans on can be dropped alone, and keeping the
 * newest point of an hour keeps at most its hour's point besides.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vblib.h"

/* What asks for the nightly before its time: a point that could not. */
#define NIGHTLY_DUE	".vb-nightly-due"

int
vb_has_archive(const struct vb_backup *b)
{
	int j;

	for (j = 0; j < b->nfiles; j++)
		if (b->files[j].ext != VB_EXT_DB)
			return 1;
	return 0;
}

const char *
vb_backup_file(const struct vb_backup *b)
{
	int j;

	for (j = 0; j < b->nfiles; j++)
		if (b->files[j].ext != VB_EXT_DB)
			return b->files[j].name;
	return b->nfiles > 0 ? b->files[0].name : NULL;
}

/* The newest nightly of list (a backup that is not a point), or -1. */
static ssize_t
newest_nightly(const struct vb_backup *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i].kind == VB_KIND_BACKUP && !list[i].point)
			return (ssize_t)i;
	return -1;
}

/* Whether a and b fall in the same UTC hour. */
static int
same_hour(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec / 3600 == b->tv_sec / 3600;
}

int
vb_point_parent(const struct vb_backup *list, size_t n,
    const struct timespec *when, struct vb_point_plan *p)
{
	ssize_t k;
	size_t i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < n; i++)
		if (list[i].kind == VB_KIND_BACKUP &&
		    vb_timespec_cmp(&list[i].when, when) >= 0) {
			snprintf(p->why, sizeof(p->why), "%s is not older than "
			    "this point: the clock went back, or that name is "
			    "ahead of it; no point until the clock passes it "
			    "(check the clock: timedatectl; a backup named "
			    "wrongly: move it aside)", list[i].stem);
			return -1;
		}
	if ((k = newest_nightly(list, n)) < 0 || !vb_has_archive(&list[k])) {
		snprintf(p->why, sizeof(p->why), "no nightly archive to lean "
		    "on%s%s: take the nightly first (vb-backup --nightly)",
		    k >= 0 ? ": the newest nightly is the raw " : "", k >= 0 ?
		    list[k].stem : "");
		return -1;
	}
	if (!list[k].indexed) {
		snprintf(p->why, sizeof(p->why), "%s has no page index (made "
		    "before BACKUP_INTERVAL was below a day, or it is lost): "
		    "the next nightly keeps one (vb-backup --nightly)",
		    list[k].stem);
		return -1;
	}
	if (list[k].unsafe) {
		snprintf(p->why, sizeof(p->why), "%s cannot be restored from "
		    "here (%s), so neither could a point on it: take the "
		    "nightly (vb-backup --nightly); vb-backup --check says "
		    "more", list[k].stem, list[k].why);
		return -1;
	}
	memcpy(p->nightly, list[k].stem, sizeof(p->nightly));
	/* The hour's point, if this hour has one on this nightly. */
	for (i = 0; i < (size_t)k; i++)
		if (list[i].point && list[i].indexed && !list[i].unsafe &&
		    strcmp(list[i].parent, list[k].stem) == 0 &&
		    same_hour(&list[i].when, when)) {
			memcpy(p->parent, list[i].stem, sizeof(p->parent));
			return 0;
		}
	memcpy(p->parent, list[k].stem, sizeof(p->parent));
	p->hourly = 1;
	return 0;
}

/* ---- which run is due ---- */

/* The last time the local clock read minutes (since midnight) by now. */
static time_t
last_at(time_t now, int minutes)
{
	struct tm tm;
	time_t t;
	int back;

	for (back = 0; back < 3; back++) {
		localtime_r(&now, &tm);
		tm.tm_mday -= back;
		tm.tm_hour = minutes / 60;
		tm.tm_min = minutes % 60;
		tm.tm_sec = 0;
		tm.tm_isdst = -1;
		if ((t = mktime(&tm)) != (time_t)-1 && t <= now)
			return t;
	}
	return now - 86400;
}

enum vb_run
vb_point_due(const struct vb_backup *list, size_t n, time_t now,
    const struct vb_due *d, char *why, size_t wlen)
{
	char at[32];
	ssize_t k = newest_nightly(list, n);
	time_t since;
	struct tm tm;

	if (d->interval_ms >= 86400000) {
		snprintf(why, wlen, "BACKUP_INTERVAL is a day or more: every "
		    "run is the nightly");
		return VB_RUN_NIGHTLY;
	}
	since = last_at(now, d->nightly_at);
	localtime_r(&since, &tm);
	strftime(at, sizeof(at), "%Y-%m-%d %H:%M", &tm);
	if (k < 0 || list[k].when.tv_sec < since)
		snprintf(why, wlen, "no nightly since %s (NIGHTLY_AT)", at);
	else if (!vb_has_archive(&list[k]) || !list[k].indexed ||
	    list[k].unsafe)
		snprintf(why, wlen, "points cannot lean on %s (%s)",
		    list[k].stem, !vb_has_archive(&list[k]) ? "no archive" :
		    !list[k].indexed ? "no page index" : "not restorable");
	else if (d->asked > list[k].when.tv_sec)
		snprintf(why, wlen, "a point asked for it: too much changed "
		    "since %s", list[k].stem);
	else {
		snprintf(why, wlen, "the nightly since %s is %s", at,
		    list[k].stem);
		return VB_RUN_POINT;
	}
	return VB_RUN_NIGHTLY;
}

int
vb_nightly_ask(const char *dir, const struct timespec *when, char *why,
    size_t wlen)
{
	char stamp[VB_STAMP_LEN], text[64];

	vb_stamp(when, stamp);
	snprintf(text, sizeof(text), "asked: %s\n", stamp);
	return vb_tmp_write(dir, NIGHTLY_DUE, text, strlen(text), why, wlen);
}

/* When a point last asked for the nightly (0: never), from dir. */
static time_t
asked(const char *dir)
{
	char path[4400], text[64], *nl;
	struct timespec ts;
	FILE *fp;

	if (vb_path_join(path, sizeof(path), dir, NIGHTLY_DUE) != 0 ||
	    (fp = fopen(path, "re")) == NULL)
		return 0;
	text[0] = '\0';
	if (fgets(text, sizeof(text), fp) == NULL)
		text[0] = '\0';
	fclose(fp);
	if ((nl = strchr(text, '\n')) != NULL)
		*nl = '\0';
	if (strncmp(text, "asked: ", 7) != 0 ||
	    vb_parse_stamp(text + 7, &ts) != 0)
		return 0;
	return ts.tv_sec;
}

int
vb_run_due(const char *dir, char *note, size_t nlen, char *why, size_t wlen)
{
	struct vb_backup *list;
	struct vb_due d;
	const char *v;
	uint64_t u;
	size_t n;
	int rc;

	memset(&d, 0, sizeof(d));
	d.interval_ms = 86400000;
	if ((v = vb_config("BACKUP_INTERVAL")) != NULL &&
	    vb_parse_u64(v, &u) == 0)
		d.interval_ms = (int64_t)u;
	if ((v = vb_config("NIGHTLY_AT")) == NULL ||
	    vb_clock_parse(v, &d.nightly_at) != 0)
		d.nightly_at = 60;
	if (access(dir, F_OK) != 0 && errno == ENOENT) {
		snprintf(note, nlen, "%s does not exist yet: the first run is "
		    "the nightly", dir);
		return VB_RUN_NIGHTLY;
	}
	if (vb_scan(dir, &list, &n, why, wlen) != 0)
		return -1;
	vb_index_parents(dir, list, n);
	if (vb_health(dir, list, n, 0, 0, vb_config("DB_PATH"), note,
	    nlen) != 0) {
		/* The nightly finds out, and says it. */
		free(list);
		return VB_RUN_NIGHTLY;
	}
	d.asked = asked(dir);
	rc = vb_point_due(list, n, time(NULL), &d, note, nlen);
	free(list);
	return rc;
}

/* ---- when the job runs ---- */

int
vb_schedule(int64_t interval_ms, int nightly_at, char *cron, size_t clen,
    char *cal, size_t calen, char *why, size_t wlen)
{
	int64_t m = interval_ms / 60000, h = interval_ms / 3600000;
	int hh = nightly_at / 60, mm = nightly_at % 60;

	/* A day or more: once a day, the nightly every time. */
	if (interval_ms >= 86400000) {
		snprintf(cron, clen, "%d %d * * *", mm, hh);
		snprintf(cal, calen, "*-*-* %02d:%02d:00", hh, mm);
		return 0;
	}
	/* Every m minutes, or h hours, on a grid through NIGHTLY_AT. */
	if (interval_ms % 60000 == 0 && m < 60 && 60 % m == 0) {
		snprintf(cron, clen, "%d-59/%d * * * *", (int)(mm % m), (int)m);
		snprintf(cal, calen, "*-*-* *:%02d/%d:00", (int)(mm % m),
		    (int)m);
		return 0;
	}
	if (interval_ms == 3600000) {
		snprintf(cron, clen, "%d * * * *", mm);
		snprintf(cal, calen, "*-*-* *:%02d:00", mm);
		return 0;
	}
	if (interval_ms % 3600000 == 0 && 24 % h == 0) {
		snprintf(cron, clen, "%d %d-23/%d * * *", mm, (int)(hh % h),
		    (int)h);
		snprintf(cal, calen, "*-*-* %02d/%d:%02d:00", (int)(hh % h),
		    (int)h, mm);
		return 0;
	}
	snprintf(why, wlen, "BACKUP_INTERVAL=%lld ms is not an interval cron "
	    "can keep: give one that divides an hour (5, 6, 10, 12, 15, 20 or "
	    "30 minutes) or a day (1, 2, 3, 4, 6, 8 or 12 hours), or a day",
	    (long long)interval_ms);
	return -1;
}

/* ---- which backup a time names ---- */

ssize_t
vb_point_at(const struct vb_backup *list, size_t n, const struct timespec *at)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i].kind == VB_KIND_BACKUP &&
		    vb_timespec_cmp(&list[i].when, at) <= 0)
			return (ssize_t)i;
	return -1;
}

int
vb_backup_at(const char *dir, const char *remote, const char *when,
    char *name, size_t nlen, char *why, size_t wlen)
{
	struct vb_backup *list;
	struct timespec at;
	char iso[VB_ISO_LEN];
	size_t n;
	ssize_t k;

	if (vb_parse_when(when, &at) != 0) {
		snprintf(why, wlen, "--at %s: not a time vb reads: give ISO "
		    "8601, 2026-12-06T14:35:00.250Z in UTC or without the Z in "
		    "local time (seconds and milliseconds optional)", when);
		return -1;
	}
	if ((remote != NULL ? vb_remote_list(remote, &list, &n, why, wlen) :
	    vb_scan(dir, &list, &n, why, wlen)) != 0)
		return -1;
	vb_iso_time(&at, iso);
	if ((k = vb_point_at(list, n, &at)) < 0) {
		snprintf(why, wlen, "no backup in %s at or before %s (--at %s)",
		    remote != NULL ? remote : dir, iso, when);
		free(list);
		return -1;
	}
	snprintf(name, nlen, "%s", vb_backup_file(&list[k]));
	free(list);
	return 0;
}
