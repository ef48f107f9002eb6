/*
 * unit/point.c - unit tests of the point planner (point.c): which backup
 * a point leans on, which run is due, which backup --at names; of the
 * times an operator gives (name.c); of the sparse page indexes a point's
 * proof rests on (pages.c); and of retention with points (retention.c).
 *
 * The rules: a point leans on the newest nightly or on the hour's point
 * (so at most two archives beyond its nightly's chain), never on a
 * backup it cannot be restored from; the first run after NIGHTLY_AT is
 * the nightly; --at names the newest backup at or before the time, to
 * the millisecond; retention drops a point only when no kept point
 * leans on it.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "lib/vblib.h"

/* Backups of one listing, newest first (as vb_scan gives them). */
struct listing {
	struct vb_backup b[400];
	size_t		 n;
};

/* The time of an ISO 8601 UTC text. */
static struct timespec
at(const char *iso)
{
	struct timespec ts;

	assert_int_equal(vb_parse_when(iso, &ts), 0);
	return ts;
}

/*
 * Adds a backup of time iso (a point of parent when parent is set) as
 * the newest; indexed, with an archive.  Returns it.
 */
static struct vb_backup *
add(struct listing *l, const char *iso, const char *parent)
{
	struct vb_backup *b;
	char stamp[VB_STAMP_LEN];
	struct timespec ts = at(iso);

	assert_true(l->n < sizeof(l->b) / sizeof(l->b[0]));
	memmove(&l->b[1], &l->b[0], l->n * sizeof(l->b[0]));
	l->n++;
	b = &l->b[0];
	memset(b, 0, sizeof(*b));
	vb_stamp(&ts, stamp);
	b->when = ts;
	b->kind = VB_KIND_BACKUP;
	snprintf(b->stem, sizeof(b->stem), "backup-%s", stamp);
	b->nfiles = 1;
	b->files[0].ext = VB_EXT_TAR_ZST;
	b->indexed = 1;
	if (parent != NULL) {
		b->delta = b->point = b->files[0].delta = 1;
		snprintf(b->parent, sizeof(b->parent), "%s", parent);
	}
	snprintf(b->files[0].name, sizeof(b->files[0].name), "%s%s.tar.zst",
	    b->stem, b->delta ? ".delta" : "");
	return b;
}

/* The plan for a point at iso; returns vb_point_parent's status. */
static int
plan(const struct listing *l, const char *iso, struct vb_point_plan *p)
{
	struct timespec ts = at(iso);

	return vb_point_parent(l->b, l->n, &ts, p);
}

/* Makes the point the planner asks for at iso (as makepoint.c does). */
static struct vb_backup *
point(struct listing *l, const char *iso)
{
	struct vb_point_plan p;

	assert_int_equal(plan(l, iso, &p), 0);
	return add(l, iso, p.parent);
}

static void
setzone(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

/* ---- the parent ---- */

static void
parent_is_nightly_or_hours_point(void **state)
{
	struct listing *l = calloc(1, sizeof(*l));
	struct vb_point_plan p;
	char n[64], h[64];

	(void)state;
	snprintf(n, sizeof(n), "%s", add(l, "2026-12-06T01:00:00.120Z",
	    NULL)->stem);
	/* The hour's first point leans on the nightly. */
	assert_int_equal(plan(l, "2026-12-06T14:05:00Z", &p), 0);
	assert_string_equal(p.parent, n);
	assert_string_equal(p.nightly, n);
	assert_true(p.hourly);
	snprintf(h, sizeof(h), "%s", point(l, "2026-12-06T14:05:00Z")->stem);
	/* Every later point of that UTC hour on the hour's point. */
	point(l, "2026-12-06T14:10:00Z");
	point(l, "2026-12-06T14:15:00Z");
	assert_int_equal(plan(l, "2026-12-06T14:59:59.999Z", &p), 0);
	assert_string_equal(p.parent, h);
	assert_false(p.hourly);
	assert_string_equal(p.nightly, n);
	/* A new hour: a new hour's point, on the nightly. */
	assert_int_equal(plan(l, "2026-12-06T15:00:00Z", &p), 0);
	assert_string_equal(p.parent, n);
	assert_true(p.hourly);
	free(l);
}

static void
parent_follows_the_newest_nightly(void **state)
{
	struct listing *l = calloc(1, sizeof(*l));
	struct vb_point_plan p;
	char n2[64];

	(void)state;
	add(l, "2026-12-06T01:00:00Z", NULL);
	point(l, "2026-12-06T14:05:00Z");
	/* A nightly taken by hand in that hour: points lean on it now. */
	snprintf(n2, sizeof(n2), "%s", add(l, "2026-12-06T14:20:00Z",
	    NULL)->stem);
	assert_int_equal(plan(l, "2026-12-06T14:25:00Z", &p), 0);
	assert_string_equal(p.parent, n2);
	assert_true(p.hourly);
	free(l);
}

static void
parent_refused(void **state)
{
	struct listing *l = calloc(1, sizeof(*l));
	struct vb_point_plan p;
	struct vb_backup *b;

	(void)state;
	/* Nothing to lean on. */
	assert_int_equal(plan(l, "2026-12-06T14:05:00Z", &p), -1);
	assert_non_null(strstr(p.why, "no nightly"));
	/* A raw snapshot: no archive, no index. */
	b = add(l, "2026-12-06T01:00:00Z", NULL);
	b->files[0].ext = VB_EXT_DB;
	assert_int_equal(plan(l, "2026-12-06T14:05:00Z", &p), -1);
	assert_non_null(strstr(p.why, "raw"));
	/* A nightly without its page index. */
	b->files[0].ext = VB_EXT_TAR_ZST;
	b->indexed = 0;
	assert_int_equal(plan(l, "2026-12-06T14:05:00Z", &p), -1);
	assert_non_null(strstr(p.why, "no page index"));
	/* One that cannot be restored: no point on it either. */
	b->indexed = 1;
	b->unsafe = 1;
	snprintf(b->why, sizeof(b->why), "damaged");
	assert_int_equal(plan(l, "2026-12-06T14:05:00Z", &p), -1);
	assert_non_null(strstr(p.why, "cannot be restored"));
	b->unsafe = 0;
	/* A backup not older than the point: a clock gone back. */
	assert_int_equal(plan(l, "2026-12-06T01:00:00Z", &p), -1);
	assert_int_equal(plan(l, "2026-12-06T00:59:00Z", &p), -1);
	assert_non_null(strstr(p.why, "not older"));
	/* An hour's point that cannot be restored is passed over. */
	b = point(l, "2026-12-06T14:05:00Z");
	b->unsafe = 1;
	assert_int_equal(plan(l, "2026-12-06T14:10:00Z", &p), 0);
	assert_string_equal(p.parent, l->b[1].stem);
	assert_true(p.hourly);
	free(l);
}

/*
 * A day of points every 5 minutes: each restores in at most two
 * archives beyond its nightly, and leans only on the nightly or on a
 * point that leans on it.
 */
static void
day_of_points_short_chains(void **state)
{
	struct listing *l = calloc(1, sizeof(*l));
	struct timespec t = at("2026-12-06T01:00:00Z");
	char iso[VB_ISO_LEN], walk[64];
	size_t i, j;
	int links;

	(void)state;
	add(l, "2026-12-06T01:00:00Z", NULL);
	for (i = 1; i < 288; i++) {
		t.tv_sec += 300;
		vb_iso_time(&t, iso);
		point(l, iso);
	}
	for (i = 0; i < l->n; i++) {
		if (!l->b[i].point)
			continue;
		snprintf(walk, sizeof(walk), "%s", l->b[i].stem);
		for (links = 0;; links++) {
			for (j = 0; j < l->n; j++)
				if (strcmp(l->b[j].stem, walk) == 0)
					break;
			assert_true(j < l->n);
			if (!l->b[j].point)
				break;
			snprintf(walk, sizeof(walk), "%s", l->b[j].parent);
		}
		assert_true(links >= 1 && links <= 2);
	}
	free(l);
}

/* ---- which run is due ---- */

static void
due_nightly_first_after_nightly_at(void **state)
{
	struct listing *l = calloc(1, sizeof(*l));
	struct vb_due d = { 300000, 60, 0 };
	struct vb_backup *b;
	char why[256];
	time_t now = at("2026-12-06T14:00:00Z").tv_sec;

	(void)state;
	setzone("UTC");
	/* Nothing yet: the nightly. */
	assert_int_equal(vb_point_due(l->b, l->n, now, &d, why, sizeof(why)),
	    VB_RUN_NIGHTLY);
	/* Yesterday's nightly only: today's is due (first after 01:00). */
	add(l, "2026-12-05T01:00:04Z", NULL);
	point(l, "2026-12-05T23:55:00Z");
	assert_int_equal(vb_point_due(l->b, l->n, now, &d, why, sizeof(why)),
	    VB_RUN_NIGHTLY);
	assert_non_null(strstr(why, "no nightly since 2026-12-06 01:00"));
	/* Before 01:00, yesterday's nightly still counts: a point. */
	assert_int_equal(vb_point_due(l->b, l->n,
	    at("2026-12-06T00:55:00Z").tv_sec, &d, why, sizeof(why)),
	    VB_RUN_POINT);
	/* Today's nightly made: points, until 01:00 tomorrow. */
	add(l, "2026-12-06T01:00:02Z", NULL);
	assert_int_equal(vb_point_due(l->b, l->n, now, &d, why, sizeof(why)),
	    VB_RUN_POINT);
	assert_int_equal(vb_point_due(l->b, l->n,
	    at("2026-12-07T01:00:00Z").tv_sec, &d, why, sizeof(why)),
	    VB_RUN_NIGHTLY);
	/* A point asked for it (too much changed): the nightly. */
	d.asked = at("2026-12-06T13:55:00Z").tv_sec;
	assert_int_equal(vb_point_due(l->b, l->n, now, &d, why, sizeof(why)),
	    VB_RUN_NIGHTLY);
	d.asked = 0;
	/* No index to lean on (made before points): the nightly now. */
	b = &l->b[0];
	b->indexed = 0;
	assert_int_equal(vb_point_due(l->b, l->n, now, &d, why, sizeof(why)),
	    VB_RUN_NIGHTLY);
	b->indexed = 1;
	/* BACKUP_INTERVAL of a day: always the nightly. */
	d.interval_ms = 86400000;
	assert_int_equal(vb_point_due(l->b, l->n, now, &d, why, sizeof(why)),
	    VB_RUN_NIGHTLY);
	free(l);
}

static void
due_in_local_time(void **state)
{
	struct listing *l = calloc(1, sizeof(*l));
	struct vb_due d = { 600000, 60, 0 };
	char why[256];
	/* 01:30 in Berlin (UTC+1 in December): its 01:00 was 00:00Z. */
	time_t now = at("2026-12-06T00:30:00Z").tv_sec;

	(void)state;
	setzone("Europe/Berlin");
	add(l, "2026-12-05T23:59:00Z", NULL);
	assert_int_equal(vb_point_due(l->b, l->n, now, &d, why, sizeof(why)),
	    VB_RUN_NIGHTLY);
	add(l, "2026-12-06T00:00:01Z", NULL);
	assert_int_equal(vb_point_due(l->b, l->n, now, &d, why, sizeof(why)),
	    VB_RUN_POINT);
	setzone("UTC");
	free(l);
}

/* ---- which backup a time names ---- */

static void
at_names_newest_at_or_before(void **state)
{
	struct listing *l = calloc(1, sizeof(*l));
	struct timespec ts;
	struct vb_backup *b;

	(void)state;
	add(l, "2026-12-06T01:00:00Z", NULL);
	point(l, "2026-12-06T14:05:00.250Z");
	point(l, "2026-12-06T14:10:00Z");
	b = add(l, "2026-12-06T14:12:00Z", NULL);
	b->kind = VB_KIND_PRE_RESTORE;
	ts = at("2026-12-06T14:07:00Z");
	assert_int_equal(vb_point_at(l->b, l->n, &ts), 2);
	/* To the millisecond. */
	ts = at("2026-12-06T14:05:00.250Z");
	assert_int_equal(vb_point_at(l->b, l->n, &ts), 2);
	ts = at("2026-12-06T14:05:00.249Z");
	assert_int_equal(vb_point_at(l->b, l->n, &ts), 3);
	/* A pre-restore copy is not a backup to restore --at. */
	ts = at("2026-12-06T23:00:00Z");
	assert_int_equal(vb_point_at(l->b, l->n, &ts), 1);
	ts = at("2026-12-06T00:59:59.999Z");
	assert_int_equal(vb_point_at(l->b, l->n, &ts), -1);
	free(l);
}

/* ---- times an operator gives ---- */

static void
when_parsed(void **state)
{
	static const char *bad[] = { "2026-12-06", "2026-12-06T14",
	    "2026-12-06T14:3", "2026-02-30T00:00Z", "2026-12-06T24:00Z",
	    "2026-12-06T14:60Z", "2026-12-06T14:35+01:00",
	    "2026-12-06T14:35:00.Z", " 2026-12-06T14:35Z",
	    "2026-12-06T14:35:00.250ZZ", "2026-12-06t14:35Z",
	    "1969-12-31T23:59Z", "2026-12-06T14:35.250Z", "" };
	struct timespec ts;
	size_t i;

	(void)state;
	setzone("UTC");
	assert_int_equal(vb_parse_when("2026-12-06T14:35:00.250Z", &ts), 0);
	assert_int_equal(ts.tv_sec, 1796567700);
	assert_int_equal(ts.tv_nsec, 250000000);
	assert_int_equal(vb_parse_when("2026-12-06T14:35Z", &ts), 0);
	assert_int_equal(ts.tv_sec, 1796567700);
	assert_int_equal(ts.tv_nsec, 0);
	assert_int_equal(vb_parse_when("2026-12-06 14:35:07Z", &ts), 0);
	assert_int_equal(ts.tv_sec, 1796567707);
	assert_int_equal(vb_parse_when("2026-12-06T14:35:00.2Z", &ts), 0);
	assert_int_equal(ts.tv_nsec, 200000000);
	assert_int_equal(vb_parse_when("2026-12-06T14:35:00.123456Z", &ts),
	    0);
	assert_int_equal(ts.tv_nsec, 123000000);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(vb_parse_when(bad[i], &ts), -1);
}

static void
when_in_local_time(void **state)
{
	struct timespec ts;

	(void)state;
	setzone("Europe/Berlin");
	/* Without Z: local time (UTC+1 in December). */
	assert_int_equal(vb_parse_when("2026-12-06T14:35", &ts), 0);
	assert_int_equal(ts.tv_sec, at("2026-12-06T13:35:00Z").tv_sec);
	/* A time the clock skipped (spring forward) is none. */
	assert_int_equal(vb_parse_when("2026-03-29T02:30", &ts), -1);
	/* A time it read twice (fall back): the earlier, in summer time. */
	assert_int_equal(vb_parse_when("2026-10-25T02:30:00", &ts), 0);
	assert_int_equal(ts.tv_sec, at("2026-10-25T00:30:00Z").tv_sec);
	setzone("UTC");
	assert_int_equal(vb_parse_when("2026-12-06T14:35", &ts), 0);
	assert_int_equal(ts.tv_sec, at("2026-12-06T14:35:00Z").tv_sec);
}

/* A name is never earlier than the state it holds: rounded up. */
static void
names_round_up(void **state)
{
	struct timespec before, named;
	int i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		before = vb_now();
		named = vb_now_named();
		assert_true(vb_timespec_cmp(&named, &before) >= 0);
		assert_int_equal(named.tv_nsec % 1000000, 0);
		assert_true(named.tv_nsec < 1000000000);
	}
}

static void
clock_parsed(void **state)
{
	static const char *bad[] = { "24:00", "1:00", "01:60", "0100", "01:0",
	    "-1:00", "01:00 ", "" };
	size_t i;
	int m;

	(void)state;
	assert_int_equal(vb_clock_parse("01:00", &m), 0);
	assert_int_equal(m, 60);
	assert_int_equal(vb_clock_parse("23:59", &m), 0);
	assert_int_equal(m, 23 * 60 + 59);
	assert_int_equal(vb_clock_parse("00:00", &m), 0);
	assert_int_equal(m, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(vb_clock_parse(bad[i], &m), -1);
}

/* ---- the proof's indexes ---- */

/* An index of n pages whose page i holds byte v[i]. */
static void
index_of(struct vb_pages *p, const unsigned char *v, int n)
{
	unsigned char page[512];
	int i;

	vb_pages_init(p, 512);
	for (i = 0; i < n; i++) {
		memset(page, v[i], sizeof(page));
		assert_int_equal(vb_pages_feed(p, page, sizeof(page)), 0);
	}
}

/* A sparse index of the pages (from 0) pg holding bytes v. */
static void
sparse_of(struct vb_pages *p, const int64_t *pg, const unsigned char *v,
    int n)
{
	unsigned char page[512], h[VB_PAGE_HASH];
	int i;

	vb_pages_init(p, 512);
	for (i = 0; i < n; i++) {
		memset(page, v[i], sizeof(page));
		vb_page_hash(page, sizeof(page), h);
		assert_int_equal(vb_pages_add(p, pg[i], h), 0);
	}
}

static void
sparse_index_proves(void **state)
{
	static const unsigned char parent[] = { 1, 2, 3, 4 };
	static const unsigned char now[] = { 9, 2, 3, 4, 7 };
	static const unsigned char wrong[] = { 9, 2, 8, 4, 7 };
	static const int64_t pg[] = { 0, 4 };
	static const unsigned char pv[] = { 9, 7 };
	struct vb_pages base, ch, whole, bad, copy;
	char why[256], a[VB_SHA256_HEX], b[VB_SHA256_HEX];

	(void)state;
	index_of(&base, parent, 4);
	index_of(&whole, now, 5);
	index_of(&bad, wrong, 5);
	sparse_of(&ch, pg, pv, 2);
	/* The parent's pages and the point's make the database read. */
	assert_int_equal(vb_pages_cover(&base, &ch, &whole, why,
	    sizeof(why)), 0);
	assert_int_equal(vb_pages_cover(&base, &ch, &bad, why, sizeof(why)),
	    -1);
	assert_non_null(strstr(why, "page 3"));
	/* Applied, they are that index: the same SHA-256. */
	index_of(&copy, parent, 4);
	assert_int_equal(vb_pages_apply(&copy, &ch, 5, why, sizeof(why)), 0);
	vb_pages_sha(&copy, a);
	vb_pages_sha(&whole, b);
	assert_string_equal(a, b);
	vb_pages_free(&copy);
	/* A page the database grew by must be in the point. */
	vb_pages_free(&ch);
	sparse_of(&ch, pg, pv, 1);
	assert_int_equal(vb_pages_cover(&base, &ch, &whole, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "page 5"));
	index_of(&copy, parent, 4);
	assert_int_equal(vb_pages_apply(&copy, &ch, 5, why, sizeof(why)), -1);
	vb_pages_free(&copy);
	vb_pages_free(&base);
	vb_pages_free(&ch);
	vb_pages_free(&whole);
	vb_pages_free(&bad);
}

/* ---- retention ---- */

/* The index of stem in l, or -1. */
static ssize_t
find(const struct listing *l, const char *stem)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->b[i].stem, stem) == 0)
			return (ssize_t)i;
	return -1;
}

static void
retention_keeps_what_points_lean_on(void **state)
{
	struct listing *l = calloc(1, sizeof(*l));
	struct timespec t = at("2026-12-06T01:00:00Z");
	struct vb_policy p;
	char iso[VB_ISO_LEN];
	ssize_t j;
	size_t i;
	int kept = 0;

	(void)state;
	add(l, "2026-12-05T01:00:00Z", NULL);
	add(l, "2026-12-06T01:00:00Z", NULL);
	/* Points every 10 minutes from 01:10 to 05:50. */
	for (i = 1; i < 30; i++) {
		t.tv_sec += 600;
		vb_iso_time(&t, iso);
		point(l, iso);
	}
	memset(&p, 0, sizeof(p));
	p.keep = 2;
	p.hourly = 3;
	vb_retention(l->b, l->n, &p);
	for (i = 0; i < l->n; i++) {
		if (!l->b[i].keep)
			continue;
		kept++;
		/* What a kept point leans on is kept too. */
		if (l->b[i].point) {
			j = find(l, l->b[i].parent);
			assert_true(j >= 0 && l->b[j].keep);
		}
	}
	/* 05:50 05:40 (keep 2), 04:50 03:50 (hourly; 05:50 is 05's), their
	 * hours' points 05:10 04:10 03:10, and the nightly: 8. */
	assert_int_equal(kept, 8);
	assert_false(l->b[l->n - 1].keep);	/* yesterday's nightly */
	/* A point no kept point leans on goes alone. */
	assert_false(l->b[find(l, "backup-2026-12-06T05-20-00-000Z")].keep);
	free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parent_is_nightly_or_hours_point),
		cmocka_unit_test(parent_follows_the_newest_nightly),
		cmocka_unit_test(parent_refused),
		cmocka_unit_test(day_of_points_short_chains),
		cmocka_unit_test(due_nightly_first_after_nightly_at),
		cmocka_unit_test(due_in_local_time),
		cmocka_unit_test(at_names_newest_at_or_before),
		cmocka_unit_test(when_parsed),
		cmocka_unit_test(when_in_local_time),
		cmocka_unit_test(names_round_up),
		cmocka_unit_test(clock_parsed),
		cmocka_unit_test(sparse_index_proves),
		cmocka_unit_test(retention_keeps_what_points_lean_on),
	};

	setzone("UTC");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
