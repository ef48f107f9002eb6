/*
 * name.c - backup names, the formats their extensions stand for, UTC
 * timestamps and durations ("7d", "1y6m").
 *
 * vb names every file it makes from the UTC time it stands for:
 * backup-2026-11-27T01-00-00-000Z.tar.zst.  Retention reads the time back
 * from the name, so parsing here is strict: a name is vb's only if it
 * formats back to itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <archive.h>

#include "vblib.h"

/*
 * The one table of what a name's extension means: adding a compression
 * is one line here.  In the order vb looks for a stem's archive.
 */
static const struct vb_format formats[] = {
	{ VB_EXT_TAR_ZST, ".tar.zst",	"zstd",	ARCHIVE_FILTER_ZSTD,	19 },
	{ VB_EXT_TAR_GZ,  ".tar.gz",	"gzip",	ARCHIVE_FILTER_GZIP,	9 },
	{ VB_EXT_TAR_XZ,  ".tar.xz",	"xz",	ARCHIVE_FILTER_XZ,	9 },
	{ VB_EXT_TAR,	  ".tar",	"none",	ARCHIVE_FILTER_NONE,	0 },
	{ VB_EXT_DB,	  ".db",	"raw",	-1,			0 },
};
#define NFORMATS	(sizeof(formats) / sizeof(formats[0]))
/* The archives among them: all but the raw snapshot, last. */
#define NARCHIVES	(NFORMATS - 1)

static const struct {
	const char	*str;
	enum vb_kind	 kind;
} prefixes[] = {
	{ "backup-",		VB_KIND_BACKUP },
	{ "pre-restore-",	VB_KIND_PRE_RESTORE },
};

struct timespec
vb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

struct timespec
vb_now_named(void)
{
	struct timespec ts = vb_now();
	long sub = ts.tv_nsec % 1000000;

	/* Up, never down: a name may not be older than what it holds. */
	if (sub != 0 && (ts.tv_nsec += 1000000 - sub) >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

int
vb_timespec_cmp(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	if (a->tv_nsec != b->tv_nsec)
		return a->tv_nsec < b->tv_nsec ? -1 : 1;
	return 0;
}

/* Formats ts as a name timestamp, or as an ISO 8601 time when iso. */
static void
format(const struct timespec *ts, int iso, char *buf)
{
	struct tm tm;
	time_t t = ts->tv_sec;
	unsigned ms = (unsigned)(ts->tv_nsec / 1000000) % 1000u;

	gmtime_r(&t, &tm);
	if (strftime(buf, VB_STAMP_LEN, iso ? "%Y-%m-%dT%H:%M:%S" :
	    "%Y-%m-%dT%H-%M-%S", &tm) != 19) {
		/* Past year 9999: not a time vb can name. */
		memcpy(buf, "0000-00-00T00-00-00-000Z", VB_STAMP_LEN);
		return;
	}
	snprintf(buf + 19, VB_STAMP_LEN - 19, iso ? ".%03uZ" : "-%03uZ", ms);
}

void
vb_stamp(const struct timespec *ts, char *buf)
{
	format(ts, 0, buf);
}

void
vb_iso_time(const struct timespec *ts, char *buf)
{
	format(ts, 1, buf);
}

/*
 * Parses the 24 characters of s against shape, where 'D' is a digit and
 * any other character must match itself, then checks that the date exists
 * by formatting it back.
 */
static int
parse_shape(const char *s, const char *shape, struct timespec *ts)
{
	struct tm tm;
	int f[7], i, n = 0;
	const char *p;

	if (strlen(s) != strlen(shape))
		return -1;
	memset(f, 0, sizeof(f));
	for (p = shape, i = 0; *p != '\0'; p++, i++) {
		if (*p == 'D') {
			if (s[i] < '0' || s[i] > '9')
				return -1;
			f[n] = f[n] * 10 + (s[i] - '0');
			if (p[1] != 'D')
				n++;
		} else if (s[i] != *p)
			return -1;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = f[0] - 1900;
	tm.tm_mon = f[1] - 1;
	tm.tm_mday = f[2];
	tm.tm_hour = f[3];
	tm.tm_min = f[4];
	tm.tm_sec = f[5];
	if (f[0] < 1970 || f[1] < 1 || f[1] > 12 || f[2] < 1 || f[3] > 23 ||
	    f[4] > 59 || f[5] > 59)
		return -1;
	ts->tv_sec = timegm(&tm);
	ts->tv_nsec = (long)f[6] * 1000000;
	/* 2026-02-30 normalises to March: not a date, so not our name. */
	gmtime_r(&ts->tv_sec, &tm);
	if (tm.tm_mday != f[2] || tm.tm_mon != f[1] - 1)
		return -1;
	return 0;
}

int
vb_parse_stamp(const char *s, struct timespec *ts)
{
	return parse_shape(s, "DDDD-DD-DDTDD-DD-DD-DDDZ", ts);
}

int
vb_parse_iso(const char *s, struct timespec *ts)
{
	return parse_shape(s, "DDDD-DD-DDTDD:DD:DD.DDDZ", ts);
}

int
vb_parse_iso_prefix(const char *s)
{
	static const char zero[] = "1970-01-01T00:00:00.000Z";
	char full[VB_ISO_LEN];
	struct timespec ts;
	size_t n = strlen(s);

	if (n < 10 || n >= sizeof(zero))
		return -1;
	/* The rest of the time from midnight: "2026-11-27T01" is 01:00. */
	snprintf(full, sizeof(full), "%s%s", s, zero + n);
	return vb_parse_iso(full, &ts);
}

/* n digits at *p into *v, *p moved past them; 0, or -1. */
static int
digits(const char **p, int n, int *v)
{
	int i;

	for (*v = 0, i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		*v = *v * 10 + (*p)[i] - '0';
	}
	*p += n;
	return 0;
}

/*
 * The time of tm in local time: of the two a clock turned back reads
 * twice, the earlier; -1 for one a clock turned forward never read.
 */
static time_t
local_time(const struct tm *want)
{
	struct tm tm, back;
	time_t t, best = (time_t)-1;
	int dst;

	for (dst = 0; dst <= 1; dst++) {
		tm = *want;
		tm.tm_isdst = dst;
		if ((t = mktime(&tm)) == (time_t)-1 ||
		    localtime_r(&t, &back) == NULL || back.tm_isdst != dst ||
		    back.tm_year != want->tm_year ||
		    back.tm_mon != want->tm_mon ||
		    back.tm_mday != want->tm_mday ||
		    back.tm_hour != want->tm_hour ||
		    back.tm_min != want->tm_min || back.tm_sec != want->tm_sec)
			continue;
		if (best == (time_t)-1 || t < best)
			best = t;
	}
	return best;
}

int
vb_parse_when(const char *s, struct timespec *ts)
{
	struct tm tm, back;
	int f[6] = { 0 }, ms = 0, d = 0, v;
	const char *p = s;
	time_t t;

	if (digits(&p, 4, &f[0]) != 0 || *p++ != '-' ||
	    digits(&p, 2, &f[1]) != 0 || *p++ != '-' ||
	    digits(&p, 2, &f[2]) != 0 || (*p != 'T' && *p != ' ') ||
	    (p++, digits(&p, 2, &f[3])) != 0 || *p++ != ':' ||
	    digits(&p, 2, &f[4]) != 0)
		return -1;
	if (*p == ':') {
		p++;
		if (digits(&p, 2, &f[5]) != 0)
			return -1;
		/* A fraction of a second: milliseconds, the rest cut. */
		if (*p == '.') {
			for (p++; *p >= '0' && *p <= '9'; p++, d++)
				if (d < 3)
					ms = ms * 10 + (*p - '0');
			if (d == 0)
				return -1;
			for (; d < 3; d++)
				ms *= 10;
		}
	}
	if ((*p != '\0' && strcmp(p, "Z") != 0) || f[0] < 1970 || f[1] < 1 ||
	    f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 ||
	    f[5] > 59)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = f[0] - 1900;
	tm.tm_mon = f[1] - 1;
	tm.tm_mday = f[2];
	tm.tm_hour = f[3];
	tm.tm_min = f[4];
	tm.tm_sec = f[5];
	if (*p == 'Z') {
		t = timegm(&tm);
		/* 2026-02-30 normalises to March: not a date. */
		v = gmtime_r(&t, &back) != NULL && back.tm_mday == f[2] &&
		    back.tm_mon == f[1] - 1;
	} else
		v = (t = local_time(&tm)) != (time_t)-1;
	if (!v)
		return -1;
	ts->tv_sec = t;
	ts->tv_nsec = (long)ms * 1000000;
	return 0;
}

int
vb_clock_parse(const char *s, int *minutes)
{
	if (strlen(s) != 5 || s[2] != ':' || s[0] < '0' || s[0] > '2' ||
	    s[1] < '0' || s[1] > '9' || s[3] < '0' || s[3] > '5' ||
	    s[4] < '0' || s[4] > '9')
		return -1;
	*minutes = ((s[0] - '0') * 10 + s[1] - '0') * 60 + (s[3] - '0') * 10 +
	    s[4] - '0';
	return *minutes < 24 * 60 ? 0 : -1;
}

const struct vb_format *
vb_format(enum vb_ext ext)
{
	size_t i;

	for (i = 0; i < NFORMATS; i++)
		if (formats[i].ext == ext)
			return &formats[i];
	return &formats[NFORMATS - 1];
}

const struct vb_format *
vb_format_each(int i)
{
	return i >= 0 && (size_t)i < NFORMATS ? &formats[i] : NULL;
}

const char *
vb_ext_str(enum vb_ext e)
{
	return vb_format(e)->suffix;
}

int
vb_compression_parse(const char *name, enum vb_ext *ext, int *maxlevel)
{
	size_t i;

	for (i = 0; i < NARCHIVES; i++)
		if (strcmp(name, formats[i].compression) == 0) {
			*ext = formats[i].ext;
			*maxlevel = formats[i].maxlevel;
			return 0;
		}
	return -1;
}

const char *
vb_compression_name(enum vb_ext ext)
{
	return vb_format(ext)->compression;
}

int
vb_archive_name(const char *stem, int i, struct vb_name *nm, char *buf,
    size_t len)
{
	struct vb_name x;
	char name[128];

	if (i < 0 || (size_t)i >= 4 * NARCHIVES)
		return -1;
	snprintf(name, sizeof(name), "%s.db", stem);
	if (vb_name_parse(name, &x) != 0)
		return -1;
	/* Full, then delta; plain, then encrypted; each compression. */
	x.delta = i / (2 * (int)NARCHIVES);
	x.encrypted = i / (int)NARCHIVES % 2;
	x.ext = formats[i % NARCHIVES].ext;
	if (nm != NULL)
		*nm = x;
	return vb_name_format(&x, buf, len);
}

int
vb_name_format(const struct vb_name *n, char *buf, size_t len)
{
	int w = snprintf(buf, len, "%s%s%s%s", n->stem, n->delta ?
	    VB_DELTA_INFIX : "", vb_ext_str(n->ext), n->encrypted ?
	    VB_AGE_SUFFIX : "");

	return w < 0 || (size_t)w >= len ? -1 : 0;
}

int
vb_name_parse(const char *filename, struct vb_name *n)
{
	char stamp[VB_STAMP_LEN];
	const char *rest;
	size_t i, plen, len;

	memset(n, 0, sizeof(*n));
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		plen = strlen(prefixes[i].str);
		if (strncmp(filename, prefixes[i].str, plen) == 0) {
			n->kind = prefixes[i].kind;
			break;
		}
	}
	if (n->kind == VB_KIND_NONE)
		return -1;
	rest = filename + plen;
	if (strlen(rest) < VB_STAMP_LEN - 1)
		goto no;
	memcpy(stamp, rest, VB_STAMP_LEN - 1);
	stamp[VB_STAMP_LEN - 1] = '\0';
	if (vb_parse_stamp(stamp, &n->when) != 0)
		goto no;
	rest += VB_STAMP_LEN - 1;
	/* An incremental archive: backup-<ts>.delta.tar.zst. */
	if (n->kind == VB_KIND_BACKUP && strncmp(rest, VB_DELTA_INFIX,
	    strlen(VB_DELTA_INFIX)) == 0) {
		n->delta = 1;
		rest += strlen(VB_DELTA_INFIX);
	}
	/* An archive encrypted with age: the same name plus ".age". */
	len = strlen(rest);
	if (len > 4 && strcmp(rest + len - 4, VB_AGE_SUFFIX) == 0) {
		n->encrypted = 1;
		len -= 4;
	}
	for (i = 0; i < NFORMATS; i++) {
		if (strlen(formats[i].suffix) == len &&
		    strncmp(rest, formats[i].suffix, len) == 0 &&
		    ((!n->encrypted && !n->delta) ||
		    formats[i].ext != VB_EXT_DB)) {
			n->ext = formats[i].ext;
			len = (size_t)(rest - filename) - (n->delta ?
			    strlen(VB_DELTA_INFIX) : 0);
			memcpy(n->stem, filename, len);
			n->stem[len] = '\0';
			return 0;
		}
	}
no:
	n->kind = VB_KIND_NONE;
	return -1;
}

/* ---- undo files: undo-<ts>.changeset, beside a pre-restore copy ---- */

#define UNDO_PREFIX	"undo-"
#define UNDO_SUFFIX	".changeset"

int
vb_undo_name(const struct timespec *when, int encrypted, char *buf,
    size_t len)
{
	char stamp[VB_STAMP_LEN];
	int w;

	vb_stamp(when, stamp);
	w = snprintf(buf, len, UNDO_PREFIX "%s" UNDO_SUFFIX "%s", stamp,
	    encrypted ? VB_AGE_SUFFIX : "");
	return w < 0 || (size_t)w >= len ? -1 : 0;
}

int
vb_undo_parse(const char *filename, struct timespec *when, int *encrypted)
{
	char stamp[VB_STAMP_LEN], again[128];
	size_t plen = strlen(UNDO_PREFIX);

	if (strncmp(filename, UNDO_PREFIX, plen) != 0 ||
	    strlen(filename) < plen + VB_STAMP_LEN - 1)
		return -1;
	memcpy(stamp, filename + plen, VB_STAMP_LEN - 1);
	stamp[VB_STAMP_LEN - 1] = '\0';
	*encrypted = strcmp(filename + plen + VB_STAMP_LEN - 1, UNDO_SUFFIX
	    VB_AGE_SUFFIX) == 0;
	/* Only a name that formats back to itself is vb's. */
	if (vb_parse_stamp(stamp, when) != 0 || vb_undo_name(when,
	    *encrypted, again, sizeof(again)) != 0 ||
	    strcmp(again, filename) != 0)
		return -1;
	return 0;
}

int
vb_is_snapshot(const char *path)
{
	const char *base = strrchr(path, '/');
	struct vb_name nm;

	return vb_name_parse(base != NULL ? base + 1 : path, &nm) == 0 &&
	    nm.ext == VB_EXT_DB;
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
