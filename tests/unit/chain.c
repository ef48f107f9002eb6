/*
 * unit/chain.c - unit tests of a delta's chain (chain.c): found from the
 * delta down to its full backup, and rebuilt.  The archives are real,
 * made by the library from a real database changed between nights.
 *
 * The rules: the chain is the delta, each parent in turn, the full last;
 * the database rebuilt from it is byte for byte the snapshot the delta
 * was made from; a missing link, a parent holding another database than
 * the one its child was made on, and a damaged link are refused, the
 * reason naming the link.
 */
#define _GNU_SOURCE
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

static const struct vb_duration week = { 0, 0, 7, 0 };

/* The archives of nights 1 (a full), 2 and 3 (deltas), rows changed
 * between them; night 3's snapshot kept at kept. */
static void
three_nights(const struct place *pl, char a[3][4096], const char *kept)
{
	struct vb_compress_result r;

	archive_at(pl->db, pl->dir, night_time(1), &week, NULL, &r);
	assert_false(r.delta);
	snprintf(a[0], 4096, "%s", r.path);
	db_exec(pl->db, "UPDATE t SET v = 'two' WHERE id IN (3, 333); "
	    "INSERT INTO t (v) VALUES ('two')");
	archive_at(pl->db, pl->dir, night_time(2), &week, NULL, &r);
	assert_true(r.delta);
	snprintf(a[1], 4096, "%s", r.path);
	db_exec(pl->db, "UPDATE t SET v = 'three' WHERE id IN (3, 1500); "
	    "DELETE FROM t WHERE id = 700");
	archive_at(pl->db, pl->dir, night_time(3), &week, kept, &r);
	assert_true(r.delta);
	snprintf(a[2], 4096, "%s", r.path);
}

/* vb_chain_resolve of the archive at path, found in dir. */
static int
resolve(const char *path, const char *dir, struct vb_chain *ch, char *why,
    size_t wlen)
{
	struct vb_name nm;

	assert_int_equal(vb_name_parse(strrchr(path, '/') + 1, &nm), 0);
	return vb_chain_resolve(path, &nm, dir, NULL, NULL, ch, why, wlen);
}

/* A full and two deltas: the chain in order, rebuilt byte for byte. */
static void
rebuilt_byte_identical(void **state)
{
	char a[3][4096], kept[256], out[256], why[1024], s1[64], s2[64];
	char sha[VB_SHA256_HEX], *want, *got;
	struct vb_archive_info info;
	struct vb_manifest m;
	struct vb_chain ch;
	struct place pl;
	size_t wlen, glen;
	int fd;

	(void)state;
	place_make(&pl, 3000);
	snprintf(kept, sizeof(kept), "%s/night3.db", pl.top);
	three_nights(&pl, a, kept);
	stem_at(night_time(1), s1, sizeof(s1));
	stem_at(night_time(2), s2, sizeof(s2));
	assert_int_equal(resolve(a[2], pl.dir, &ch, why, sizeof(why)), 0);
	assert_int_equal(ch.n, 3);
	assert_string_equal(ch.links[0].name, strrchr(a[2], '/') + 1);
	assert_string_equal(ch.links[0].m.parent, s2);
	assert_string_equal(ch.links[1].name, strrchr(a[1], '/') + 1);
	assert_string_equal(ch.links[1].m.parent, s1);
	assert_string_equal(ch.links[2].name, strrchr(a[0], '/') + 1);
	assert_false(ch.links[2].m.delta);

	snprintf(out, sizeof(out), "%s/out.db", pl.top);
	fd = open_or_fail(out, O_RDWR | O_CREAT | O_EXCL);
	assert_int_equal(vb_chain_extract(&ch, NULL, fd, &m, &info, why,
	    sizeof(why)), 0);
	close(fd);
	vb_chain_free(&ch, 0);
	want = slurp(kept, &wlen);
	got = slurp(out, &glen);
	assert_int_equal(glen, wlen);
	assert_memory_equal(got, want, wlen);
	free(want);
	free(got);
	fd = open_or_fail(kept, O_RDONLY);
	assert_int_equal(vb_sha256_fd(fd, sha), (int64_t)wlen);
	close(fd);
	assert_string_equal(m.db_sha256, sha);

	/* A full is a chain of one. */
	assert_int_equal(resolve(a[0], pl.dir, &ch, why, sizeof(why)), 0);
	assert_int_equal(ch.n, 1);
	vb_chain_free(&ch, 0);
	place_remove(&pl);
}

/* The delta in the middle gone: refused, the missing link named. */
static void
missing_link_refused(void **state)
{
	char a[3][4096], why[1024], want[1024], s2[64];
	struct vb_chain ch;
	struct place pl;

	(void)state;
	place_make(&pl, 2000);
	three_nights(&pl, a, NULL);
	assert_int_equal(unlink(a[1]), 0);
	stem_at(night_time(2), s2, sizeof(s2));
	assert_int_equal(resolve(a[2], pl.dir, &ch, why, sizeof(why)), -1);
	snprintf(want, sizeof(want), "%s is a delta of %s, which is missing: "
	    "not in %s; the chain is broken", strrchr(a[2], '/') + 1, s2,
	    pl.dir);
	assert_string_equal(why, want);
	vb_chain_free(&ch, 0);
	place_remove(&pl);
}

/* The full replaced by another database's of the same name: refused. */
static void
wrong_parent_refused(void **state)
{
	char a[3][4096], why[1024], want[1024];
	struct vb_compress_result r;
	struct vb_chain ch;
	struct place pl, other;

	(void)state;
	place_make(&pl, 2000);
	three_nights(&pl, a, NULL);
	place_make(&other, 1999);
	archive_at(other.db, other.dir, night_time(1), &week, NULL, &r);
	assert_int_equal(rename(r.path, a[0]), 0);
	assert_int_equal(resolve(a[2], pl.dir, &ch, why, sizeof(why)), -1);
	assert_int_equal(ch.n, 3);
	snprintf(want, sizeof(want), "%s was made on a database of SHA-256 "
	    "%s, but its parent %s holds %s: the chain is broken",
	    ch.links[1].name, ch.links[1].m.parent_db_sha256,
	    ch.links[2].name, ch.links[2].m.db_sha256);
	assert_string_equal(why, want);
	assert_string_not_equal(ch.links[1].m.parent_db_sha256,
	    ch.links[2].m.db_sha256);
	vb_chain_free(&ch, 0);
	place_remove(&other);
	place_remove(&pl);
}

/* A byte of the middle link changed: the rebuild stops there. */
static void
damaged_link_refused(void **state)
{
	char a[3][4096], out[256], why[1024], want[256];
	struct vb_archive_info info;
	struct vb_manifest m;
	struct vb_chain ch;
	struct place pl;
	long size;
	int fd;

	(void)state;
	place_make(&pl, 2000);
	three_nights(&pl, a, NULL);
	assert_int_equal(resolve(a[2], pl.dir, &ch, why, sizeof(why)), 0);
	fd = open_or_fail(a[1], O_RDONLY);
	size = (long)lseek(fd, 0, SEEK_END);
	close(fd);
	flip_byte(a[1], size / 2);
	snprintf(out, sizeof(out), "%s/out.db", pl.top);
	fd = open_or_fail(out, O_RDWR | O_CREAT | O_EXCL);
	assert_int_equal(vb_chain_extract(&ch, NULL, fd, &m, &info, why,
	    sizeof(why)), -1);
	close(fd);
	snprintf(want, sizeof(want), "%s (link 2 of 3 of the chain): ",
	    strrchr(a[1], '/') + 1);
	if (strncmp(why, want, strlen(want)) != 0)
		fail_msg("\"%s\" does not start \"%s\"", why, want);
	vb_chain_free(&ch, 0);
	place_remove(&pl);
}

/*
 * Night 2's delta as vb-compress writes it but for one page left out:
 * every link passes its own checks, and the database rebuilt is not
 * the one the delta records.  Its path into a2.
 */
static void
delta_short_of_a_page(const struct place *pl, const char *a1, char *a2,
    size_t len)
{
	struct vb_archive_opts ao = { .ext = VB_EXT_TAR };
	struct vb_manifest m, m1;
	struct vb_delta_plan p;
	struct vb_dbinfo info;
	struct vb_name nm;
	char snap[4096], why[1024], text[8192];
	int fd, out, n;

	assert_int_equal(vb_name_parse(strrchr(a1, '/') + 1, &nm), 0);
	assert_int_equal(vb_read_manifest(a1, NULL, &nm, &m1, why,
	    sizeof(why)), 0);
	snap_at(pl->db, pl->dir, night_time(2), snap, sizeof(snap));
	assert_int_equal(vb_name_parse(strrchr(snap, '/') + 1, &nm), 0);
	assert_int_equal(vb_db_header(snap, &info, why, sizeof(why)), 0);
	fd = open_or_fail(snap, O_RDONLY);
	assert_int_equal(vb_delta_plan(pl->dir, &nm, fd, &info, &week, NULL,
	    &p, why, sizeof(why)), 0);
	assert_true(p.delta && p.nchanged >= 2);
	memset(&m, 0, sizeof(m));
	snprintf(m.vb_version, sizeof(m.vb_version), "%s", VB_VERSION);
	snprintf(m.source, sizeof(m.source), "unknown");
	snprintf(m.host, sizeof(m.host), "unit");
	vb_iso_time(&nm.when, m.created);
	snprintf(m.name, sizeof(m.name), "%s", nm.stem);
	snprintf(m.sqlite_version, sizeof(m.sqlite_version), "%s",
	    info.sqlite_version);
	snprintf(m.journal_mode, sizeof(m.journal_mode), "%s",
	    info.journal_mode);
	m.page_size = info.page_size;
	m.page_count = p.own.count;
	m.db_bytes = p.own.count * info.page_size;
	memcpy(m.db_sha256, p.sha256, sizeof(m.db_sha256));
	snprintf(m.integrity, sizeof(m.integrity), "ok");
	snprintf(m.integrity_check, sizeof(m.integrity_check), "quick_check");
	m.delta = 1;
	memcpy(m.parent, p.parent.stem, sizeof(m.parent));
	memcpy(m.parent_db_sha256, m1.db_sha256, sizeof(m.parent_db_sha256));
	m.pages = p.nchanged - 1;
	vb_pages_sha(&p.own, m.index_sha256);
	n = vb_manifest_format(&m, text, sizeof(text));
	assert_true(n > 0);
	nm.delta = 1;
	nm.ext = VB_EXT_TAR;
	assert_int_equal(vb_name_format(&nm, text + n + 1, sizeof(text) -
	    (size_t)n - 1), 0);
	snprintf(a2, len, "%s/%s", pl->dir, text + n + 1);
	out = open_or_fail(a2, O_WRONLY | O_CREAT | O_EXCL);
	assert_int_equal(vb_archive_write_delta(out, &ao, text, nm.stem,
	    &p.own, p.changed + 1, p.nchanged - 1, fd, why, sizeof(why)), 0);
	close(out);
	close(fd);
	vb_delta_plan_free(&p);
	assert_int_equal(unlink(snap), 0);
}

/* Each link sound, the whole not: refused by the rebuilt SHA-256. */
static void
rebuilt_hash_checked(void **state)
{
	char a1[4096], a2[4096], out[256], why[1024], want[256];
	struct vb_compress_result r;
	struct vb_archive_info info;
	struct vb_manifest m;
	struct vb_chain ch;
	struct place pl;
	int fd;

	(void)state;
	place_make(&pl, 2000);
	archive_at(pl.db, pl.dir, night_time(1), &week, NULL, &r);
	snprintf(a1, sizeof(a1), "%s", r.path);
	db_exec(pl.db, "UPDATE t SET v = 'two' WHERE id IN (5, 900, 1800)");
	delta_short_of_a_page(&pl, a1, a2, sizeof(a2));
	assert_int_equal(resolve(a2, pl.dir, &ch, why, sizeof(why)), 0);
	assert_int_equal(ch.n, 2);
	snprintf(out, sizeof(out), "%s/out.db", pl.top);
	fd = open_or_fail(out, O_RDWR | O_CREAT | O_EXCL);
	assert_int_equal(vb_chain_extract(&ch, NULL, fd, &m, &info, why,
	    sizeof(why)), -1);
	close(fd);
	snprintf(want, sizeof(want), "the database rebuilt from 2 archives "
	    "has SHA-256 ");
	if (strncmp(why, want, strlen(want)) != 0 || strstr(why,
	    m.db_sha256) == NULL)
		fail_msg("\"%s\"", why);
	vb_chain_free(&ch, 0);
	place_remove(&pl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rebuilt_byte_identical),
		cmocka_unit_test(missing_link_refused),
		cmocka_unit_test(wrong_parent_refused),
		cmocka_unit_test(damaged_link_refused),
		cmocka_unit_test(rebuilt_hash_checked),
	};

	return cmocka_run_group_tests_name("chain.c", tests, NULL, NULL);
}
