/*
 * retention.c - which backups a retention policy keeps.
 *
 * Rules combine as in restic: a backup is kept if any rule keeps it, and the
 * newest backup always is.  Points are backups like any other (KEEP_HOURLY
 * keeps the newest of each hour); a kept point keeps what it leans on, and a
 * point nothing leans on goes alone.  A backup that cannot be restored from
 * here (damaged, or a delta built on a damaged or missing link) counts for
 * no rule and is never deleted.  Times come from the backups' names; spans
 * (--keep-within) are counted back from the newest backup, not from now, so
 * that a host whose backups stopped does not age its last ones away.
 */
#define _GNU_SOURCE
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vblib.h"

enum period { HOUR, DAY, WEEK, MONTH };

/* The UTC hour, day, ISO week or month a time falls in, as a string. */
static void
bucket(const struct timespec *ts, enum period per, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&ts->tv_sec, &tm);
	switch (per) {
	case HOUR:
		strftime(buf, len, "%Y-%m-%dT%H", &tm);
		break;
	case DAY:
		strftime(buf, len, "%Y-%m-%d", &tm);
		break;
	case WEEK:
		strftime(buf, len, "%G-W%V", &tm);
		break;
	default:
		strftime(buf, len, "%Y-%m", &tm);
	}
}

/* Keeps the newest backup of each of the newest count periods. */
static void
keep_buckets(struct vb_backup *list, size_t n, enum vb_kind kind,
    int64_t count, enum period per)
{
	char last[32] = "", cur[32];
	int64_t taken = 0;
	size_t i;

	for (i = 0; i < n && taken < count; i++) {
		if (list[i].kind != kind || list[i].unsafe ||
		    list[i].unrecorded)
			continue;
		bucket(&list[i].when, per, cur, sizeof(cur));
		if (strcmp(cur, last) == 0)
			continue;
		memcpy(last, cur, sizeof(last));
		taken++;
		list[i].keep = VB_KEEP_POLICY;
	}
}

time_t
vb_duration_add(time_t t, const struct vb_duration *d, int sign)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	tm.tm_year += sign * d->years;
	tm.tm_mon += sign * d->months;
	tm.tm_mday += sign * d->days;
	tm.tm_hour += sign * d->hours;
	return timegm(&tm);
}

/* Keeps list[j] as the parent of list[i], unless kept already. */
static void
keep_parent(struct vb_backup *list, size_t i, size_t j)
{
	if (list[j].keep)
		return;
	list[j].keep = VB_KEEP_PARENT;
	list[j].needed_by = (int)i;
}

/*
 * Chains are kept whole: every backup a kept delta is built on is kept
 * too (keep 2, needed_by the delta).  Newest first, so a parent kept
 * here has its own parent kept when the loop reaches it.  A delta whose
 * parent no index names (a remote's, an index lost) may be a point or a
 * nightly, leaning on any backup back to the last full one: all of them
 * are kept.  A remote name BackupLog never named keeps no other.
 */
static void
keep_chains(struct vb_backup *list, size_t n)
{
	ssize_t j;
	size_t i, k;

	for (i = 0; i < n; i++) {
		/* A name nobody recorded holds nothing back (prune.c). */
		if (!list[i].keep || !list[i].delta ||
		    list[i].kind != VB_KIND_BACKUP || list[i].unrecorded)
			continue;
		if (list[i].parent[0] != '\0') {
			if ((j = vb_parent_of(list, n, i)) >= 0)
				keep_parent(list, i, (size_t)j);
			continue;
		}
		for (k = i + 1; k < n; k++) {
			if (list[k].kind != VB_KIND_BACKUP)
				continue;
			keep_parent(list, i, k);
			if (!list[k].delta)
				break;
		}
	}
}

void
vb_retention(struct vb_backup *list, size_t n, const struct vb_policy *p)
{
	time_t since = 0;
	size_t i;
	int64_t pre = 0;
	int newest = 1;

	for (i = 0; i < n; i++)
		list[i].keep = VB_DROP;
	for (i = 0; i < n; i++) {
		if (list[i].kind != VB_KIND_BACKUP || list[i].unsafe ||
		    list[i].unrecorded)
			continue;
		/* The newest backup is never deleted, whatever the policy. */
		if (newest) {
			list[i].keep = VB_KEEP_POLICY;
			newest = 0;
			since = p->within ? vb_duration_add(
			    list[i].when.tv_sec, &p->within_d, -1) : 0;
		}
		if (p->within && list[i].when.tv_sec >= since)
			list[i].keep = VB_KEEP_POLICY;
	}
	if (p->keep > 0) {
		int64_t taken = 0;

		for (i = 0; i < n && taken < p->keep; i++) {
			if (list[i].kind != VB_KIND_BACKUP ||
			    list[i].unsafe || list[i].unrecorded)
				continue;
			taken++;
			list[i].keep = VB_KEEP_POLICY;
		}
	}
	keep_buckets(list, n, VB_KIND_BACKUP, p->hourly, HOUR);
	keep_buckets(list, n, VB_KIND_BACKUP, p->daily, DAY);
	keep_buckets(list, n, VB_KIND_BACKUP, p->weekly, WEEK);
	keep_buckets(list, n, VB_KIND_BACKUP, p->monthly, MONTH);
	for (i = 0; i < n; i++) {
		if (list[i].kind != VB_KIND_PRE_RESTORE)
			continue;
		if (pre++ < p->pre_restore)
			list[i].keep = VB_KEEP_POLICY;
	}
	/*
	 * What cannot be restored from here (vb_health) counts for no rule
	 * above, and is never deleted: the operator decides.
	 */
	for (i = 0; i < n; i++)
		if (list[i].unsafe)
			list[i].keep = VB_KEEP_UNSAFE;
	/* Held after a sudden loss (hold.c): until the operator says. */
	for (i = 0; i < n; i++)
		if (list[i].held && !list[i].keep)
			list[i].keep = VB_KEEP_HELD;
	keep_chains(list, n);
}
