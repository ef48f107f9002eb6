/*
 * unit/inventory.c - unit tests of the inventory (inventory.c): what a
 * backup directory holds, in the fields form a shell reads, of real
 * archives made by the library from a real database.
 *
 * The rules: every backup file, newest first, one line of sixteen
 * TAB-separated fields (path, stem, kind, type, compression, encrypted,
 * ok or unsafe, parent, bytes, why, proven, listed, signed, recorded,
 * held, health); a delta names its parent; an archive that no longer
 * hashes as recorded is damaged and every delta on it a broken chain; a
 * delta whose parent is gone is a broken chain too; any of these makes
 * the listing's status 1.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

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

/* The fields of a line, in order. */
enum {
	FLD_PATH, FLD_STEM, FLD_KIND, FLD_TYPE, FLD_COMP, FLD_ENC, FLD_OK,
	FLD_PARENT, FLD_BYTES, FLD_WHY, FLD_PROVEN, FLD_LISTED, FLD_SIGNED,
	FLD_RECORDED, FLD_HELD, FLD_HEALTH, NFIELDS
};

/* The listing: up to 8 lines of NFIELDS fields each. */
struct listing {
	char	*text;
	int	 n;
	char	*f[8][NFIELDS];
};

static const struct vb_duration week = { 0, 0, 7, 0 };

static int
run(void *arg)
{
	return vb_inventory(arg);
}

/* The fields listing of pl's directory into l (l_free); its status. */
static int
list(const struct place *pl, int sums, struct listing *l)
{
	struct vb_inventory_opts o;
	char conf[256], *line, *next, *p;
	int rc, k;

	/* No configuration but this: no DB_PATH, no history. */
	snprintf(conf, sizeof(conf), "%s/vb.conf", pl->top);
	spew(conf, "", 0);
	setenv("VB_CONF", conf, 1);
	unsetenv("DB_PATH");
	unsetenv("BACKUP_DIR");
	vb_config_unload();
	memset(&o, 0, sizeof(o));
	o.dir = pl->dir;
	o.fields = 1;
	o.sums = sums;
	memset(l, 0, sizeof(*l));
	rc = capture(run, &o, &l->text);
	for (line = l->text; *line != '\0'; line = next) {
		assert_true(l->n < 8);
		next = strchr(line, '\n');
		assert_non_null(next);
		*next++ = '\0';
		for (k = 0, p = line; p != NULL && k < NFIELDS; k++) {
			l->f[l->n][k] = p;
			if ((p = strchr(p, '\t')) != NULL)
				*p++ = '\0';
		}
		/* Sixteen fields, no more, no fewer. */
		assert_null(p);
		assert_int_equal(k, NFIELDS);
		l->n++;
	}
	return rc;
}

/* Line i of l is the backup file at path, of stem and type, parent. */
static void
is_file(const struct listing *l, int i, const char *path, time_t t,
    const char *type, const char *comp, const char *parent)
{
	char stem[64], bytes[32];
	struct stat st;

	assert_true(i < l->n);
	stem_at(t, stem, sizeof(stem));
	assert_string_equal(l->f[i][FLD_PATH], path);
	assert_string_equal(l->f[i][FLD_STEM], stem);
	assert_string_equal(l->f[i][FLD_KIND], "backup");
	assert_string_equal(l->f[i][FLD_TYPE], type);
	assert_string_equal(l->f[i][FLD_COMP], comp);
	assert_string_equal(l->f[i][FLD_ENC], "0");
	assert_string_equal(l->f[i][FLD_PARENT], parent);
	assert_int_equal(stat(path, &st), 0);
	snprintf(bytes, sizeof(bytes), "%lld", (long long)st.st_size);
	assert_string_equal(l->f[i][FLD_BYTES], bytes);
	/* No history (no DB_PATH), no catalog asked for, no hold. */
	assert_string_equal(l->f[i][FLD_PROVEN], "-");
	assert_string_equal(l->f[i][FLD_LISTED], "-");
	assert_string_equal(l->f[i][FLD_SIGNED], "-");
	assert_string_equal(l->f[i][FLD_RECORDED], "-");
	assert_string_equal(l->f[i][FLD_HELD], "-");
}

/* Line i is whole, or unsafe with health and a why holding why. */
static void
is_health(const struct listing *l, int i, const char *health,
    const char *why)
{
	assert_true(i < l->n);
	assert_string_equal(l->f[i][FLD_HEALTH], health);
	if (strcmp(health, "-") == 0) {
		assert_string_equal(l->f[i][FLD_OK], "ok");
		assert_string_equal(l->f[i][FLD_WHY], "-");
		return;
	}
	assert_string_equal(l->f[i][FLD_OK], "unsafe");
	if (strstr(l->f[i][FLD_WHY], why) == NULL)
		fail_msg("line %d: \"%s\" does not say \"%s\"", i,
		    l->f[i][FLD_WHY], why);
}

/* A full and two deltas of pl, their paths into a; rows changed. */
static void
three_nights(const struct place *pl, char a[3][4096])
{
	struct vb_compress_result r;
	int k;

	for (k = 0; k < 3; k++) {
		db_exec(pl->db, "UPDATE t SET v = v || 'n' WHERE id = 9");
		archive_at(pl->db, pl->dir, night_time(k + 1), &week, NULL,
		    &r);
		assert_int_equal(r.delta, k > 0);
		snprintf(a[k], 4096, "%s", r.path);
	}
}

/* A raw snapshot, two deltas and their full: each file's fields. */
static void
fields_of_each_file(void **state)
{
	const char *tar = vb_compression_name(VB_EXT_TAR);
	char a[3][4096], raw[4096], s1[64], s2[64];
	struct listing l;
	struct place pl;

	(void)state;
	place_make(&pl, 2000);
	three_nights(&pl, a);
	snap_at(pl.db, pl.dir, night_time(4), raw, sizeof(raw));
	stem_at(night_time(1), s1, sizeof(s1));
	stem_at(night_time(2), s2, sizeof(s2));
	assert_int_equal(list(&pl, 0, &l), 0);
	assert_int_equal(l.n, 4);
	is_file(&l, 0, raw, night_time(4), "raw", "raw", "-");
	is_file(&l, 1, a[2], night_time(3), "delta", tar, s2);
	is_file(&l, 2, a[1], night_time(2), "delta", tar, s1);
	is_file(&l, 3, a[0], night_time(1), "full", tar, "-");
	is_health(&l, 0, "-", NULL);
	is_health(&l, 1, "-", NULL);
	is_health(&l, 2, "-", NULL);
	is_health(&l, 3, "-", NULL);
	free(l.text);
	place_remove(&pl);
}

/* The full damaged: found by its SHA-256, the deltas on it unsafe. */
static void
damaged_full(void **state)
{
	const char *tar = vb_compression_name(VB_EXT_TAR);
	char a[3][4096], s1[64];
	struct listing l;
	struct place pl;

	(void)state;
	place_make(&pl, 2000);
	three_nights(&pl, a);
	flip_byte(a[0], 700);
	stem_at(night_time(1), s1, sizeof(s1));
	assert_int_equal(list(&pl, 1, &l), 1);
	assert_int_equal(l.n, 3);
	is_file(&l, 2, a[0], night_time(1), "full", tar, "-");
	is_health(&l, 2, "damaged", "is damaged");
	is_health(&l, 1, "broken-chain", s1);
	is_health(&l, 0, "broken-chain", "");
	free(l.text);
	/* Not asked to hash, and nothing recorded: not known. */
	assert_int_equal(list(&pl, 0, &l), 0);
	is_health(&l, 2, "-", NULL);
	free(l.text);
	place_remove(&pl);
}

/* The full gone: the deltas on it unsafe, the missing one named. */
static void
missing_parent(void **state)
{
	const char *tar = vb_compression_name(VB_EXT_TAR);
	char a[3][4096], s1[64], s2[64];
	struct listing l;
	struct place pl;

	(void)state;
	place_make(&pl, 2000);
	three_nights(&pl, a);
	assert_int_equal(unlink(a[0]), 0);
	stem_at(night_time(1), s1, sizeof(s1));
	stem_at(night_time(2), s2, sizeof(s2));
	assert_int_equal(list(&pl, 0, &l), 1);
	assert_int_equal(l.n, 2);
	is_file(&l, 0, a[2], night_time(3), "delta", tar, s2);
	is_file(&l, 1, a[1], night_time(2), "delta", tar, s1);
	is_health(&l, 1, "broken-chain", s1);
	is_health(&l, 0, "broken-chain", "");
	free(l.text);
	place_remove(&pl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fields_of_each_file),
		cmocka_unit_test(damaged_full),
		cmocka_unit_test(missing_parent),
	};

	return cmocka_run_group_tests_name("inventory.c", tests, NULL, NULL);
}
