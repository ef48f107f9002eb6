/*
 * unit/diff.c - unit tests of what changed since a backup (diff.c): a
 * real database archived by the library, then changed, compared table
 * by table in the fields form, and --diff-table's SQL run for real.
 *
 * The rules: each table once, in order of name, BackupLog never: rows
 * only in the backup, only live and changed, by the key where there is
 * one, as a multiset where there is none; a table on one side only, or
 * whose columns differ, said so with no counts.  --diff-table's SQL,
 * applied to the live table, makes it the backup's; a table it cannot
 * make equal row by row is refused, and a refusal prints nothing.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/vblib.h"
#include "help.h"

/* A diff to run, and why it failed. */
struct run {
	struct vb_diff_opts	 o;
	char			 why[1024];
};

static int
diff(void *arg)
{
	struct run *r = arg;

	return vb_diff(&r->o, r->why, sizeof(r->why));
}

/*
 * pl's database with four more tables, archived (its path into a, a
 * copy of the database as archived at copy), then changed: t's rows
 * 1 and 2 changed, 3 gone, three added; m (no key) two copies of a row
 * and a new row added, a row gone; gone dropped, new made, s a column
 * more.
 */
static void
archived_then_changed(const struct place *pl, char *a, size_t alen,
    const char *copy)
{
	struct vb_compress_result r;
	size_t len;
	char *buf;

	db_exec(pl->db, "CREATE TABLE m (a TEXT, b INTEGER); INSERT INTO m "
	    "VALUES ('x', 1), ('x', 1), ('y', 2), ('z', 3); CREATE TABLE "
	    "gone (k INTEGER PRIMARY KEY); INSERT INTO gone VALUES (1), (2); "
	    "CREATE TABLE s (id INTEGER PRIMARY KEY, a TEXT); INSERT INTO s "
	    "VALUES (1, 'a')");
	archive_at(pl->db, pl->dir, night_time(1), NULL, NULL, &r);
	snprintf(a, alen, "%s", r.path);
	buf = slurp(pl->db, &len);
	spew(copy, buf, len);
	free(buf);
	db_exec(pl->db, "UPDATE t SET v = 'changed' WHERE id IN (1, 2); "
	    "DELETE FROM t WHERE id = 3; INSERT INTO t (v) VALUES ('a'), "
	    "('b'), ('c'); INSERT INTO m VALUES ('x', 1), ('x', 1), ('w', 4); "
	    "DELETE FROM m WHERE a = 'z'; DROP TABLE gone; CREATE TABLE new "
	    "(a); INSERT INTO new VALUES (1); ALTER TABLE s ADD COLUMN b");
}

/* Each table: state, rows on each side, only backup, only live, changed. */
static void
tables_compared(void **state)
{
	static const char want[] =
	    "gone\tonly-backup\t2\t-1\t-1\t-1\t-1\t-\n"
	    "m\tdiffers\t4\t6\t1\t3\t0\t-\n"
	    "new\tonly-live\t-1\t1\t-1\t-1\t-1\t-\n"
	    "s\tschema\t1\t1\t-1\t-1\t-1\tits columns differ between the "
	    "backup and the live database: only live: b\n"
	    "t\tdiffers\t2000\t2002\t1\t3\t2\t-\n";
	char a[4096], copy[256], *out;
	struct place pl;
	struct run r;

	(void)state;
	place_make(&pl, 2000);
	snprintf(copy, sizeof(copy), "%s/backup.db", pl.top);
	archived_then_changed(&pl, a, sizeof(a), copy);
	/* vb's own history is never compared. */
	db_exec(pl.db, "CREATE TABLE BackupLog (x); INSERT INTO BackupLog "
	    "VALUES (1)");
	memset(&r, 0, sizeof(r));
	r.o.archive = a;
	r.o.db = pl.db;
	r.o.dir = pl.dir;
	if (capture(diff, &r, &out) != 0)
		fail_msg("%s", r.why);
	assert_string_equal(out, want);
	free(out);
	place_remove(&pl);
}

/* Whether table (its columns cols) holds the same rows in the database
 * at a and in b's, as many of each. */
static int
same_rows(const char *a, const char *b, const char *table, const char *cols)
{
	char *sql;
	sqlite3 *db;
	int64_t n = -1;

	assert_int_equal(sqlite3_open(a, &db), SQLITE_OK);
	sql = sqlite3_mprintf("ATTACH %Q AS o", b);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_free(sql);
	sql = sqlite3_mprintf("SELECT (SELECT count(*) FROM (SELECT %s, "
	    "count(*) FROM main.%s GROUP BY %s EXCEPT SELECT %s, count(*) "
	    "FROM o.%s GROUP BY %s)) + (SELECT count(*) FROM (SELECT %s, "
	    "count(*) FROM o.%s GROUP BY %s EXCEPT SELECT %s, count(*) FROM "
	    "main.%s GROUP BY %s))", cols, table, cols, cols, table, cols,
	    cols, table, cols, cols, table, cols);
	assert_int_equal(vb_db_int(db, sql, &n), 0);
	sqlite3_free(sql);
	sqlite3_close(db);
	return n == 0;
}

/* --diff-table's SQL, run on the live table, makes it the backup's:
 * with a key and without. */
static void
table_sql_puts_back(void **state)
{
	static const char *const tables[] = { "t", "m" };
	static const char *const cols[] = { "id, v", "a, b" };
	static const char *const counts[] = {
		"-- t: 3 rows to delete, 1 to insert, 2 to reset\n",
		"-- m: 3 rows to delete, 1 to insert, 0 to reset\n",
	};
	char a[4096], copy[256], *out;
	struct place pl;
	struct run r;
	size_t i;

	(void)state;
	place_make(&pl, 2000);
	snprintf(copy, sizeof(copy), "%s/backup.db", pl.top);
	archived_then_changed(&pl, a, sizeof(a), copy);
	for (i = 0; i < 2; i++) {
		assert_false(same_rows(pl.db, copy, tables[i], cols[i]));
		memset(&r, 0, sizeof(r));
		r.o.archive = a;
		r.o.db = pl.db;
		r.o.dir = pl.dir;
		r.o.table = tables[i];
		if (capture(diff, &r, &out) != 0)
			fail_msg("%s", r.why);
		assert_non_null(strstr(out, counts[i]));
		db_exec(pl.db, out);
		free(out);
		assert_true(same_rows(pl.db, copy, tables[i], cols[i]));
	}
	place_remove(&pl);
}

/* BackupLog, a table on one side only, or none: refused, nothing said. */
static void
table_sql_refused(void **state)
{
	static const struct {
		const char	*table;
		const char	*why;
	} cases[] = {
		{ "BackupLog", "BackupLog: vb's history or SQLite's own: never "
		    "put back from a backup" },
		{ "gone", "gone: only the backup has it (vb-restore --table "
		    "puts it back): no statements can make one equal the "
		    "other row by row" },
		{ "s", "s: its columns differ between the backup and the live "
		    "database: only live: b" },
		{ "nosuch", "no table nosuch in the backup or the live "
		    "database" },
	};
	char a[4096], copy[256], *out;
	struct place pl;
	struct run r;
	size_t i;

	(void)state;
	place_make(&pl, 200);
	snprintf(copy, sizeof(copy), "%s/backup.db", pl.top);
	archived_then_changed(&pl, a, sizeof(a), copy);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&r, 0, sizeof(r));
		r.o.archive = a;
		r.o.db = pl.db;
		r.o.dir = pl.dir;
		r.o.table = cases[i].table;
		assert_int_equal(capture(diff, &r, &out), -1);
		assert_string_equal(out, "");
		free(out);
		if (strncmp(r.why, cases[i].why, strlen(cases[i].why)) != 0)
			fail_msg("\"%s\" does not start \"%s\"", r.why,
			    cases[i].why);
	}
	place_remove(&pl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tables_compared),
		cmocka_unit_test(table_sql_puts_back),
		cmocka_unit_test(table_sql_refused),
	};

	return cmocka_run_group_tests_name("diff.c", tests, NULL, NULL);
}
