/*
 * scan.c - the backups in a directory, and which of them a retention
 * policy keeps.
 *
 * Only regular files whose names vb makes count; everything else
 * (foreign files, subdirectories, symbolic links even when named like a
 * backup) is invisible here and so never touched.  Files of one stem (a
 * raw snapshot and its archive) are one backup.  The time comes from the
 * name, never from mtime.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vb.h"

/* One file found, before grouping by stem. */
struct found {
	struct vb_name	 nm;
	int64_t		 bytes;
	char		 name[96];
};

/* Newest first; files of one stem end up side by side. */
static int
found_order(const void *a, const void *b)
{
	const struct found *x = *(const struct found *const *)a;
	const struct found *y = *(const struct found *const *)b;

	if (x->nm.when.tv_sec != y->nm.when.tv_sec)
		return x->nm.when.tv_sec < y->nm.when.tv_sec ? 1 : -1;
	if (x->nm.when.tv_nsec != y->nm.when.tv_nsec)
		return x->nm.when.tv_nsec < y->nm.when.tv_nsec ? 1 : -1;
	return strcmp(y->nm.stem, x->nm.stem);
}

/* Reads the directory's vb files into *out; returns the count or -1. */
static ssize_t
list_files(const char *dir, struct found **out, char *why, size_t wlen)
{
	struct found *f = NULL, *grown;
	struct dirent *de;
	struct vb_name nm;
	struct stat st;
	size_t n = 0, cap = 0;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		snprintf(why, wlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL)
			break;
		if (vb_name_parse(de->d_name, &nm) != 0 ||
		    strlen(de->d_name) >= sizeof(f->name))
			continue;
		/* The type from the listing saves a stat per file. */
		if (de->d_type == DT_UNKNOWN) {
			if (fstatat(dirfd(d), de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) != 0) {
				snprintf(why, wlen, "%s/%s: %s", dir,
				    de->d_name, strerror(errno));
				goto fail;
			}
			if (!S_ISREG(st.st_mode))
				continue;
		} else if (de->d_type != DT_REG)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((grown = realloc(f, cap * sizeof(*f))) == NULL) {
				snprintf(why, wlen, "out of memory");
				goto fail;
			}
			f = grown;
		}
		f[n].nm = nm;
		f[n].bytes = -1;	/* see vb_scan_sizes */
		memcpy(f[n].name, de->d_name, strlen(de->d_name) + 1);
		n++;
	}
	if (errno != 0) {
		/* A listing cut short is not one to delete anything on. */
		snprintf(why, wlen, "%s: reading the directory: %s", dir,
		    strerror(errno));
		goto fail;
	}
	closedir(d);
	*out = f;
	return (ssize_t)n;
fail:
	closedir(d);
	free(f);
	return -1;
}

int
vb_scan(const char *dir, struct vb_backup **out, size_t *nout, char *why,
    size_t wlen)
{
	struct vb_backup *list = NULL, *b = NULL;
	struct found *f = NULL, **fp = NULL;
	ssize_t nf;
	size_t i, n = 0;

	*out = NULL;
	*nout = 0;
	if ((nf = list_files(dir, &f, why, wlen)) < 0)
		return -1;
	if (nf == 0) {
		free(f);
		return 0;
	}
	/* Sort pointers: the records themselves are large. */
	if ((fp = malloc((size_t)nf * sizeof(struct found *))) == NULL ||
	    (list = calloc((size_t)nf, sizeof(*list))) == NULL) {
		snprintf(why, wlen, "out of memory");
		goto fail;
	}
	for (i = 0; i < (size_t)nf; i++)
		fp[i] = &f[i];
	qsort(fp, (size_t)nf, sizeof(struct found *), found_order);
	for (i = 0; i < (size_t)nf; i++) {
		if (b == NULL || strcmp(b->stem, fp[i]->nm.stem) != 0) {
			b = &list[n++];
			memcpy(b->stem, fp[i]->nm.stem, sizeof(b->stem));
			b->kind = fp[i]->nm.kind;
			b->when = fp[i]->nm.when;
		}
		if (b->nfiles == VB_MAXFILES) {
			snprintf(why, wlen, "%s: too many files for %s", dir,
			    b->stem);
			goto fail;
		}
		b->files[b->nfiles].ext = fp[i]->nm.ext;
		b->files[b->nfiles].bytes = fp[i]->bytes;
		memcpy(b->files[b->nfiles].name, fp[i]->name,
		    sizeof(b->files[b->nfiles].name));
		b->nfiles++;
	}
	free(fp);
	free(f);
	*out = list;
	*nout = n;
	return 0;
fail:
	free(fp);
	free(f);
	free(list);
	return -1;
}

int
vb_scan_sizes(const char *dir, struct vb_backup *list, size_t n)
{
	struct stat st;
	char path[4096];
	size_t i;
	int j, rc = 0;

	for (i = 0; i < n; i++)
		for (j = 0; j < list[i].nfiles; j++) {
			if (vb_path_join(path, sizeof(path), dir,
			    list[i].files[j].name) != 0 ||
			    lstat(path, &st) != 0) {
				rc = -1;
				continue;
			}
			list[i].files[j].bytes = st.st_size;
		}
	return rc;
}

enum period { DAY, WEEK, MONTH };

/* The UTC day, ISO week or month a time falls in, as a string. */
static void
bucket(const struct timespec *ts, enum period per, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&ts->tv_sec, &tm);
	switch (per) {
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
    int64_t count, enum period per, const char *why)
{
	char last[32] = "", cur[32];
	int64_t taken = 0;
	size_t i;

	for (i = 0; i < n && taken < count; i++) {
		if (list[i].kind != kind)
			continue;
		bucket(&list[i].when, per, cur, sizeof(cur));
		if (strcmp(cur, last) == 0)
			continue;
		memcpy(last, cur, sizeof(last));
		taken++;
		if (!list[i].keep)
			snprintf(list[i].why, sizeof(list[i].why), "%s", why);
		list[i].keep = 1;
	}
}

/* Subtracts a duration from t in calendar terms; returns the result. */
static time_t
minus(time_t t, const struct vb_duration *d)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	tm.tm_year -= d->years;
	tm.tm_mon -= d->months;
	tm.tm_mday -= d->days;
	tm.tm_hour -= d->hours;
	return timegm(&tm);
}

int
vb_parse_duration(const char *s, struct vb_duration *d)
{
	long v;
	int n;
	char *end;

	memset(d, 0, sizeof(*d));
	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		if (*s < '0' || *s > '9')
			return -1;
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno != 0 || v > 100000)
			return -1;
		n = (int)v;
		switch (*end) {
		case 'y': d->years += n; break;
		case 'm': d->months += n; break;
		case 'w': d->days += 7 * n; break;
		case 'd': d->days += n; break;
		case 'h': d->hours += n; break;
		default: return -1;
		}
		/* "1d1d1d..." adds up: bound the sums as each term is. */
		if (d->years > 100000 || d->months > 100000 ||
		    d->days > 700000 || d->hours > 100000)
			return -1;
		s = end + 1;
	}
	return 0;
}

void
vb_retention(struct vb_backup *list, size_t n, const struct vb_policy *p)
{
	time_t since = 0;
	size_t i;
	int64_t pre = 0;
	int newest = 1;

	for (i = 0; i < n; i++) {
		list[i].keep = 0;
		list[i].why[0] = '\0';
	}
	for (i = 0; i < n; i++) {
		if (list[i].kind != VB_KIND_BACKUP)
			continue;
		/* The newest backup is never deleted, whatever the policy. */
		if (newest) {
			list[i].keep = 1;
			snprintf(list[i].why, sizeof(list[i].why), "newest");
			newest = 0;
			since = p->within ? minus(list[i].when.tv_sec,
			    &p->within_d) : 0;
		}
		if (p->within && list[i].when.tv_sec >= since && !list[i].keep) {
			list[i].keep = 1;
			snprintf(list[i].why, sizeof(list[i].why), "within");
		}
	}
	if (p->keep > 0) {
		int64_t taken = 0;

		for (i = 0; i < n && taken < p->keep; i++) {
			if (list[i].kind != VB_KIND_BACKUP)
				continue;
			taken++;
			if (!list[i].keep)
				snprintf(list[i].why, sizeof(list[i].why),
				    "last %lld", (long long)p->keep);
			list[i].keep = 1;
		}
	}
	keep_buckets(list, n, VB_KIND_BACKUP, p->daily, DAY, "daily");
	keep_buckets(list, n, VB_KIND_BACKUP, p->weekly, WEEK, "weekly");
	keep_buckets(list, n, VB_KIND_BACKUP, p->monthly, MONTH, "monthly");
	for (i = 0; i < n; i++) {
		if (list[i].kind != VB_KIND_PRE_RESTORE)
			continue;
		if (pre++ < p->pre_restore) {
			list[i].keep = 1;
			snprintf(list[i].why, sizeof(list[i].why),
			    "pre-restore");
		}
	}
}
