/*
 * unit/delta.c - unit tests of the delta planner (delta.c): whether
 * tonight's backup is a full one or a delta, of which parent, of which
 * pages.  Everything is real: databases, snapshots and archives made by
 * the library, page indexes written by it.
 *
 * The rules: the parent is the newest nightly; the pages planned are
 * exactly those that differ from it (or lie past its end); a full is
 * written, with its reason, when there is no parent, a newer backup, the
 * last full older than FULL_EVERY, another page size, more than half the
 * pages changed, a chain over 1000 links, or a link damaged or missing
 * (each a fault, the damage recorded beside it).
 */
#define _GNU_SOURCE
#include <sys/stat.h>

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

#define PAGE	4096

static const struct vb_duration week = { 0, 0, 7, 0 };

/*
 * vb_delta_plan of a snapshot of pl's database taken at t, left raw in
 * the backups' directory (its path into snap).  Returns the planner's
 * value.
 */
static int
plan_at(const struct place *pl, time_t t, const struct vb_duration *every,
    const char *want_sha, struct vb_delta_plan *p, char *snap, size_t len,
    char *why, size_t wlen)
{
	struct vb_dbinfo info;
	struct vb_name nm;
	int fd, rc;

	snap_at(pl->db, pl->dir, t, snap, len);
	assert_int_equal(vb_name_parse(strrchr(snap, '/') + 1, &nm), 0);
	assert_int_equal(vb_db_header(snap, &info, why, wlen), 0);
	fd = open_or_fail(snap, O_RDONLY);
	rc = vb_delta_plan(pl->dir, &nm, fd, &info, every, want_sha, p, why,
	    wlen);
	close(fd);
	return rc;
}

/* The pages (from 0) of file b that differ from file a's, or lie past
 * a's end, into out (room for max); how many. */
static int64_t
pages_changed(const char *a, const char *b, int64_t *out, int64_t max)
{
	size_t alen, blen, off;
	char *pa = slurp(a, &alen), *pb = slurp(b, &blen);
	int64_t n = 0;

	assert_int_equal(blen % PAGE, 0);
	for (off = 0; off < blen; off += PAGE)
		if (off >= alen || memcmp(pa + off, pb + off, PAGE) != 0) {
			assert_true(n < max);
			out[n++] = (int64_t)(off / PAGE);
		}
	free(pa);
	free(pb);
	return n;
}

/* The page index of the file at path, every page's hash. */
static void
pages_of(const char *path, struct vb_pages *pg)
{
	size_t len;
	char *buf = slurp(path, &len);

	vb_pages_init(pg, PAGE);
	assert_int_equal(vb_pages_feed(pg, buf, len), 0);
	assert_int_equal(pg->plen, 0);
	free(buf);
}

/*
 * A backup made up in dir, as vb-compress leaves one: an archive (a few
 * bytes standing for it, their SHA-256 recorded) and the page index
 * beside it, whose hashes are pg's first count with the first alter
 * changed; a delta of parent unless it is "".
 */
static void
made_up(const char *dir, time_t t, const char *parent,
    const struct vb_pages *pg, int64_t count, int64_t alter)
{
	char path[512], why[512];
	struct vb_index x;
	int64_t i;
	int fd;

	memset(&x, 0, sizeof(x));
	stem_at(t, x.stem, sizeof(x.stem));
	snprintf(x.parent, sizeof(x.parent), "%s", parent);
	snprintf(x.archive, sizeof(x.archive), "%s%s.tar", x.stem,
	    parent[0] != '\0' ? VB_DELTA_INFIX : "");
	snprintf(path, sizeof(path), "%s/%s", dir, x.archive);
	spew(path, "link", 4);
	fd = open_or_fail(path, O_RDONLY);
	assert_int_equal(vb_sha256_fd(fd, x.archive_sha256), 4);
	close(fd);
	x.archive_bytes = 4;
	x.page_count = count;
	vb_pages_init(&x.p, PAGE);
	assert_int_equal(vb_pages_alloc(&x.p, count), 0);
	memcpy(x.p.h, pg->h, (size_t)count * VB_PAGE_HASH);
	x.p.count = count;
	for (i = 0; i < alter; i++)
		x.p.h[i * VB_PAGE_HASH] ^= 0xff;
	assert_int_equal(vb_index_write(dir, &x, why, sizeof(why)), 0);
	vb_pages_free(&x.p);
}

/* The parent is the newest nightly; the pages are those that differ. */
static void
delta_of_the_newest_nightly(void **state)
{
	char kept[256], snap[4096], why[1024], stem[64], sha[VB_SHA256_HEX];
	int64_t want[512], n, i;
	struct vb_compress_result r;
	struct vb_delta_plan p;
	struct place pl;
	int fd;

	(void)state;
	place_make(&pl, 2000);
	archive_at(pl.db, pl.dir, night_time(1), &week, NULL, &r);
	assert_false(r.delta);
	assert_non_null(strstr(r.full_why, "no earlier backup"));
	db_exec(pl.db, "UPDATE t SET v = v || 'x' WHERE id BETWEEN 100 AND "
	    "110");
	snprintf(kept, sizeof(kept), "%s/night2.db", pl.top);
	archive_at(pl.db, pl.dir, night_time(2), &week, kept, &r);
	assert_true(r.delta);
	stem_at(night_time(1), stem, sizeof(stem));
	assert_string_equal(r.parent, stem);

	/* Three rows apart, and one more at the end. */
	db_exec(pl.db, "UPDATE t SET v = 'changed' WHERE id IN (5, 900, "
	    "1800); INSERT INTO t (v) VALUES (printf('%0300d', 7))");
	assert_int_equal(plan_at(&pl, night_time(3), &week, NULL, &p, snap,
	    sizeof(snap), why, sizeof(why)), 0);
	assert_true(p.delta);
	assert_int_equal(p.nfaults, 0);
	stem_at(night_time(2), stem, sizeof(stem));
	assert_string_equal(p.parent.stem, stem);
	n = pages_changed(kept, snap, want, 512);
	assert_true(n >= 3);
	assert_int_equal(p.nchanged, n);
	for (i = 0; i < n; i++)
		assert_int_equal(p.changed[i], want[i]);
	fd = open_or_fail(snap, O_RDONLY);
	assert_int_equal(vb_sha256_fd(fd, sha), p.own.count * PAGE);
	close(fd);
	assert_string_equal(p.sha256, sha);
	vb_delta_plan_free(&p);
	assert_int_equal(unlink(snap), 0);

	/* A snapshot that is not the one recorded: an error, no plan. */
	memset(sha, '0', VB_SHA256_HEX - 1);
	assert_int_equal(plan_at(&pl, night_time(3), &week, sha, &p, snap,
	    sizeof(snap), why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not the one vb-snapshot recorded"));
	vb_delta_plan_free(&p);
	place_remove(&pl);
}

/* Plans night t in a place made by prepare; p->delta and p->why. */
static void
full_because(void (*prepare)(struct place *), time_t t,
    const char *reason)
{
	char snap[4096], why[1024];
	struct vb_delta_plan p;
	struct place pl;

	place_make(&pl, 2000);
	if (prepare != NULL)
		prepare(&pl);
	assert_int_equal(plan_at(&pl, t, &week, NULL, &p, snap, sizeof(snap),
	    why, sizeof(why)), 0);
	if (reason == NULL)
		assert_true(p.delta);
	else {
		assert_false(p.delta);
		if (strstr(p.why, reason) == NULL)
			fail_msg("a full because \"%s\", not \"%s\"", p.why,
			    reason);
	}
	vb_delta_plan_free(&p);
	place_remove(&pl);
}

static void
nights_1_and_3(struct place *pl)
{
	struct vb_compress_result r;

	archive_at(pl->db, pl->dir, night_time(1), &week, NULL, &r);
	archive_at(pl->db, pl->dir, night_time(3), &week, NULL, &r);
}

static void
night_1(struct place *pl)
{
	struct vb_compress_result r;

	archive_at(pl->db, pl->dir, night_time(1), &week, NULL, &r);
}

static void
night_1_then_page_size(struct place *pl)
{
	night_1(pl);
	db_exec(pl->db, "PRAGMA page_size = 8192; VACUUM");
}

static void
night_1_then_every_row(struct place *pl)
{
	night_1(pl);
	db_exec(pl->db, "UPDATE t SET v = v || 'y'");
}

/* Each reason for a full, and FULL_EVERY to the second. */
static void
full_when_no_parent_fits(void **state)
{
	char stem[64], want[128];

	(void)state;
	full_because(NULL, night_time(1), "no earlier backup");
	stem_at(night_time(3), stem, sizeof(stem));
	snprintf(want, sizeof(want), "%s is newer than this snapshot", stem);
	full_because(nights_1_and_3, night_time(2), want);
	full_because(night_1, night_time(8) - 1, NULL);
	full_because(night_1, night_time(8), "the last full backup is older "
	    "than FULL_EVERY");
	full_because(night_1_then_page_size, night_time(2), "the page size "
	    "changed from 4096 to 8192");
	stem_at(night_time(1), stem, sizeof(stem));
	snprintf(want, sizeof(want), "pages changed since %s", stem);
	full_because(night_1_then_every_row, night_time(2), want);
}

/*
 * Half the pages changed is still a delta, one more is a full; a page
 * past the parent's end is changed.  The parent's index is made up from
 * the snapshot's own, some hashes changed.
 */
static void
half_the_pages(void **state)
{
	char snap[4096], why[1024], stem[64];
	struct vb_delta_plan p;
	struct vb_pages pg;
	struct place pl;
	int64_t half, i;

	(void)state;
	place_make(&pl, 2000);
	snap_at(pl.db, pl.top, night_time(2), snap, sizeof(snap));
	pages_of(snap, &pg);
	assert_true(pg.count > 20);
	half = pg.count / 2;
	made_up(pl.dir, night_time(1), "", &pg, pg.count, half);
	assert_int_equal(plan_at(&pl, night_time(2), &week, NULL, &p, snap,
	    sizeof(snap), why, sizeof(why)), 0);
	assert_true(p.delta);
	assert_int_equal(p.nchanged, half);
	for (i = 0; i < half; i++)
		assert_int_equal(p.changed[i], i);
	vb_delta_plan_free(&p);
	assert_int_equal(unlink(snap), 0);

	made_up(pl.dir, night_time(1), "", &pg, pg.count, half + 1);
	assert_int_equal(plan_at(&pl, night_time(2), &week, NULL, &p, snap,
	    sizeof(snap), why, sizeof(why)), 0);
	assert_false(p.delta);
	stem_at(night_time(1), stem, sizeof(stem));
	snprintf(why, sizeof(why), "%lld of %lld pages changed since %s",
	    (long long)half + 1, (long long)pg.count, stem);
	assert_string_equal(p.why, why);
	vb_delta_plan_free(&p);
	assert_int_equal(unlink(snap), 0);

	/* A parent one page shorter: that page alone. */
	made_up(pl.dir, night_time(1), "", &pg, pg.count - 1, 0);
	assert_int_equal(plan_at(&pl, night_time(2), &week, NULL, &p, snap,
	    sizeof(snap), why, sizeof(why)), 0);
	assert_true(p.delta);
	assert_int_equal(p.nchanged, 1);
	assert_int_equal(p.changed[0], pg.count - 1);
	vb_delta_plan_free(&p);
	vb_pages_free(&pg);
	place_remove(&pl);
}

/* A chain of 1001 links is built on; of 1002, a full is written. */
static void
chain_of_1001_links_and_no_more(void **state)
{
	char snap[4096], why[1024], parent[64] = "", stem[64];
	struct vb_delta_plan p;
	struct vb_pages pg;
	struct place pl;
	int i;

	(void)state;
	place_make(&pl, 200);
	snap_at(pl.db, pl.top, night_time(2), snap, sizeof(snap));
	pages_of(snap, &pg);
	assert_int_equal(unlink(snap), 0);
	for (i = 0; i < 1001; i++) {
		made_up(pl.dir, night_time(1) + i, parent, &pg, pg.count, 0);
		stem_at(night_time(1) + i, parent, sizeof(parent));
	}
	assert_int_equal(plan_at(&pl, night_time(2), &week, NULL, &p, snap,
	    sizeof(snap), why, sizeof(why)), 0);
	assert_true(p.delta);
	assert_string_equal(p.parent.stem, parent);
	assert_int_equal(p.nchanged, 0);
	vb_delta_plan_free(&p);
	assert_int_equal(unlink(snap), 0);

	made_up(pl.dir, night_time(1) + 1001, parent, &pg, pg.count, 0);
	stem_at(night_time(1) + 1001, stem, sizeof(stem));
	assert_int_equal(plan_at(&pl, night_time(2), &week, NULL, &p, snap,
	    sizeof(snap), why, sizeof(why)), 0);
	assert_false(p.delta);
	snprintf(why, sizeof(why), "the chain of %s cannot be built on: a "
	    "chain of over 1000 links", stem);
	assert_string_equal(p.why, why);
	vb_delta_plan_free(&p);
	vb_pages_free(&pg);
	place_remove(&pl);
}

/* Plans night 4 on nights 1-3; the one fault it must find. */
static void
refused_for(struct place *pl, const char *stem, int missing)
{
	char snap[4096], why[1024];
	struct vb_delta_plan p;

	assert_int_equal(plan_at(pl, night_time(4), &week, NULL, &p, snap,
	    sizeof(snap), why, sizeof(why)), 0);
	assert_false(p.delta);
	assert_int_equal(p.nfaults, 1);
	assert_string_equal(p.faults[0].stem, stem);
	assert_int_equal(p.faults[0].missing, missing);
	assert_non_null(strstr(p.why, missing ? "is missing" : "is damaged"));
	assert_non_null(strstr(p.why, stem));
	vb_delta_plan_free(&p);
	assert_int_equal(unlink(snap), 0);
}

/* A damaged link, a missing archive, a missing link: a full. */
static void
broken_chain_refused(void **state)
{
	char s1[64], s2[64], path[512], a1[4096], a2[4096];
	struct vb_compress_result r;
	struct place pl;

	(void)state;
	place_make(&pl, 2000);
	archive_at(pl.db, pl.dir, night_time(1), &week, NULL, &r);
	snprintf(a1, sizeof(a1), "%s", r.path);
	db_exec(pl.db, "UPDATE t SET v = 'a' WHERE id = 10");
	archive_at(pl.db, pl.dir, night_time(2), &week, NULL, &r);
	snprintf(a2, sizeof(a2), "%s", r.path);
	db_exec(pl.db, "UPDATE t SET v = 'b' WHERE id = 20");
	archive_at(pl.db, pl.dir, night_time(3), &week, NULL, &r);
	assert_true(r.delta);
	stem_at(night_time(1), s1, sizeof(s1));
	stem_at(night_time(2), s2, sizeof(s2));

	/* The full's archive damaged: the damage recorded beside it. */
	flip_byte(a1, 600);
	refused_for(&pl, s1, 0);
	snprintf(path, sizeof(path), "%s/%s%s", pl.dir, VB_DAMAGE_PREFIX, s1);
	assert_int_equal(access(path, F_OK), 0);
	flip_byte(a1, 600);
	assert_int_equal(unlink(path), 0);
	/* The archive in between gone, its index left; then both gone. */
	assert_int_equal(unlink(a2), 0);
	refused_for(&pl, s2, 1);
	snprintf(path, sizeof(path), "%s/%s%s", pl.dir, VB_INDEX_PREFIX, s2);
	assert_int_equal(unlink(path), 0);
	refused_for(&pl, s2, 1);
	place_remove(&pl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(delta_of_the_newest_nightly),
		cmocka_unit_test(full_when_no_parent_fits),
		cmocka_unit_test(half_the_pages),
		cmocka_unit_test(chain_of_1001_links_and_no_more),
		cmocka_unit_test(broken_chain_refused),
	};

	return cmocka_run_group_tests_name("delta.c", tests, NULL, NULL);
}
