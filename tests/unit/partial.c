/*
 * unit/partial.c - unit tests of which row is which (match.c) and of
 * the undo file's format (changeset.c), on in-memory databases.
 *
 * The rules a partial restore rests on: names found whatever their
 * case, keys compared with IS, a table without a key a multiset, values
 * the same only in type and bytes; and a changeset vb writes that is
 * byte for byte what SQLite's session extension writes, read back
 * inverted by SQLite.
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

/* An in-memory database holding sql, with a second one as "l". */
static sqlite3 *
pair(const char *sql, const char *live)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "ATTACH ':memory:' AS l", NULL,
	    NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	if (live != NULL)
		assert_int_equal(sqlite3_exec(db, live, NULL, NULL, NULL),
		    SQLITE_OK);
	return db;
}

/* The integer sql (freed) yields on db. */
static int64_t
count(sqlite3 *db, char *sql)
{
	int64_t n = vb_db_count(db, sql);

	assert_true(n >= 0);
	return n;
}

static void
match_shapes(void **state)
{
	sqlite3 *db = pair("CREATE TABLE \"Order's\"(a, \"B\" TEXT, c, "
	    "PRIMARY KEY(c, a)); CREATE TABLE log(msg, n); "
	    "CREATE TABLE kv(k TEXT PRIMARY KEY, v) WITHOUT ROWID; "
	    "CREATE TABLE odd(rowid, _rowid_, x)", NULL);
	struct vb_table t;
	char why[256], *s;

	(void)state;
	assert_int_equal(vb_table_load(db, "main", "ORDER'S", &t, why,
	    sizeof(why)), 0);
	assert_string_equal(t.name, "Order's");
	assert_int_equal(t.ncols, 3);
	assert_int_equal(t.nkey, 2);
	assert_int_equal(t.pk[2], 1);
	assert_int_equal(t.pk[0], 2);
	assert_string_equal(t.rowid, "rowid");
	s = vb_sql_key_is(&t, "b", "l");
	assert_string_equal(s, "b.\"c\" IS l.\"c\" AND b.\"a\" IS l.\"a\"");
	sqlite3_free(s);
	s = vb_sql_key_params(&t);
	assert_string_equal(s, "\"c\" IS ?3 AND \"a\" IS ?1");
	sqlite3_free(s);
	s = vb_sql_cols(&t, "x");
	assert_string_equal(s, "x.\"a\", x.\"B\", x.\"c\"");
	sqlite3_free(s);
	vb_table_free(&t);
	/* No key: a multiset, its key the whole row. */
	assert_int_equal(vb_table_load(db, "main", "LOG", &t, why,
	    sizeof(why)), 0);
	assert_int_equal(t.nkey, 0);
	s = vb_sql_key_params(&t);
	assert_non_null(strstr(s, "\"msg\" IS ?1 COLLATE BINARY AND "
	    "typeof(\"msg\") = typeof(?1)"));
	sqlite3_free(s);
	vb_table_free(&t);
	assert_int_equal(vb_table_load(db, "main", "kv", &t, why,
	    sizeof(why)), 0);
	assert_int_equal(t.without_rowid, 1);
	assert_null(t.rowid);
	vb_table_free(&t);
	/* Columns take rowid and _rowid_: oid is still the rowid. */
	assert_int_equal(vb_table_load(db, "main", "odd", &t, why,
	    sizeof(why)), 0);
	assert_string_equal(t.rowid, "oid");
	vb_table_free(&t);
	assert_int_equal(vb_table_load(db, "main", "nosuch", &t, why,
	    sizeof(why)), 1);
	assert_int_equal(vb_table_load(db, "l", "log", &t, why,
	    sizeof(why)), 1);
	sqlite3_close(db);
}

static void
match_values(void **state)
{
	sqlite3 *db = pair("CREATE TABLE t(k TEXT COLLATE NOCASE PRIMARY KEY,"
	    " v); INSERT INTO t VALUES (NULL, 1), ('a', 1), ('x', 1), "
	    "('y', 'z')", "CREATE TABLE l.t(k TEXT COLLATE NOCASE PRIMARY KEY, "
	    "v); INSERT INTO l.t VALUES (NULL, 1), ('A', 1), ('x', 1.0), "
	    "('y', x'7a')");
	struct vb_table t;
	char why[256], *key, *same;

	(void)state;
	assert_int_equal(vb_table_load(db, "main", "T", &t, why,
	    sizeof(why)), 0);
	key = vb_sql_key_is(&t, "b", "l");
	same = vb_sql_same(&t, "b", "l");
	/* Every key has its twin, the NULL one too; 'a' is 'A' by the
	 * key's own collation. */
	assert_int_equal(count(db, sqlite3_mprintf("SELECT count(*) FROM "
	    "main.t AS b JOIN l.t AS l ON %s", key)), 4);
	/* Only the NULL row is the same: 'a' and 'A' differ in bytes, 1
	 * and 1.0 in type, 'z' and x'7a' in type. */
	assert_int_equal(count(db, sqlite3_mprintf("SELECT count(*) FROM "
	    "main.t AS b JOIN l.t AS l ON %s WHERE %s", key, same)), 1);
	sqlite3_free(key);
	sqlite3_free(same);
	vb_table_free(&t);
	sqlite3_close(db);
}

/* The bytes of a session's changeset of sql on a fresh copy of schema. */
static void *
session_changes(const char *schema, const char *sql, int *n)
{
	sqlite3_session *s;
	sqlite3 *db;
	void *p = NULL;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, schema, NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3session_create(db, "main", &s), SQLITE_OK);
	assert_int_equal(sqlite3session_attach(s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3session_changeset(s, n, &p), SQLITE_OK);
	sqlite3session_delete(s);
	sqlite3_close(db);
	return p;
}

/* Writes each row of sql on db as op (whole rows) into w. */
static void
write_rows(sqlite3 *db, struct vb_cs *w, const char *sql, int op)
{
	sqlite3_value *v[8];
	sqlite3_stmt *st;
	int i;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (i = 0; i < sqlite3_column_count(st); i++)
			v[i] = sqlite3_column_value(st, i);
		vb_cs_change(w, op, op == SQLITE_INSERT ? NULL : v,
		    op == SQLITE_DELETE ? NULL : v);
	}
	sqlite3_finalize(st);
}

static void
changeset_is_sessions(void **state)
{
	static const char schema[] = "CREATE TABLE t(a INTEGER, b TEXT, c, "
	    "d REAL, PRIMARY KEY(b, a)); INSERT INTO t VALUES (1, 'x', "
	    "x'00ff', 0.5), (-7, 'long', NULL, -1e300);";
	char path[] = "/tmp/vb-unit-cs.XXXXXX", why[256], buf[4096];
	char big[300];
	struct vb_table t;
	struct vb_cs w;
	sqlite3 *db;
	void *want;
	int n, fd;
	ssize_t got;

	(void)state;
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	db = pair(schema, NULL);
	assert_int_equal(vb_table_load(db, "main", "t", &t, why,
	    sizeof(why)), 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	assert_int_equal(vb_cs_open(&w, path, why, sizeof(why)), 0);
	vb_cs_table(&w, &t);
	/* What the session would record of: a delete, then an insert of a
	 * long text (a two-byte varint). */
	write_rows(db, &w, "SELECT * FROM t WHERE a = -7", SQLITE_DELETE);
	sqlite3_exec(db, "CREATE TEMP TABLE n AS SELECT 9 AS a, NULL AS b, "
	    "NULL AS c, NULL AS d", NULL, NULL, NULL);
	{
		char *q = sqlite3_mprintf("SELECT 9, %Q, 42, NULL", big);

		write_rows(db, &w, q, SQLITE_INSERT);
		sqlite3_free(q);
	}
	assert_int_equal(vb_cs_close(&w, why, sizeof(why)), 0);
	assert_int_equal(w.changes, 2);
	{
		char *q = sqlite3_mprintf("DELETE FROM t WHERE a = -7; "
		    "INSERT INTO t VALUES (9, %Q, 42, NULL)", big);

		want = session_changes(schema, q, &n);
		sqlite3_free(q);
	}
	fd = open(path, O_RDONLY);
	got = read(fd, buf, sizeof(buf));
	close(fd);
	assert_int_equal(got, n);
	assert_memory_equal(buf, want, (size_t)n);
	sqlite3_free(want);
	unlink(path);
	vb_table_free(&t);
	sqlite3_close(db);
}

/*
 * An undo file written by vb_cs and read back: its framing checked whole
 * (vb_cs_check), then SQLite's iterator over it, the changes as written.
 */
static void
changeset_read_back(void **state)
{
	char path[] = "/tmp/vb-unit-cs.XXXXXX", why[256], hex[VB_SHA256_HEX];
	int64_t bytes = 0;
	sqlite3_changeset_iter *it;
	sqlite3_value *nv, *ov;
	struct vb_table t;
	struct vb_cs w;
	const char *name;
	sqlite3 *db;
	int fd, ncol, op, ind, seen = 0;

	(void)state;
	db = pair("CREATE TABLE log(msg, n); INSERT INTO log VALUES "
	    "('a', 1), ('a', 1), ('b', NULL)", NULL);
	assert_int_equal(vb_table_load(db, "main", "log", &t, why,
	    sizeof(why)), 0);
	fd = mkstemp(path);
	close(fd);
	unlink(path);
	assert_int_equal(vb_cs_open(&w, path, why, sizeof(why)), 0);
	vb_cs_table(&w, &t);
	write_rows(db, &w, "SELECT * FROM log", SQLITE_INSERT);
	write_rows(db, &w, "SELECT * FROM log WHERE n IS NULL",
	    SQLITE_DELETE);
	assert_int_equal(vb_cs_close(&w, why, sizeof(why)), 0);
	/* Checked whole, then read back streamed, as written. */
	fd = open(path, O_RDONLY);
	assert_int_equal(vb_cs_check(fd, hex, &bytes, why, sizeof(why)), 0);
	assert_true(bytes > 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(vb_cs_start(&it, &fd), SQLITE_OK);
	while (sqlite3changeset_next(it) == SQLITE_ROW) {
		assert_int_equal(sqlite3changeset_op(it, &name, &ncol, &op,
		    &ind), SQLITE_OK);
		assert_string_equal(name, "log");
		assert_int_equal(ncol, 2);
		if (seen++ < 3) {
			assert_int_equal(op, SQLITE_INSERT);
			assert_int_equal(sqlite3changeset_new(it, 0, &nv),
			    SQLITE_OK);
			assert_non_null(nv);
		} else {
			assert_int_equal(op, SQLITE_DELETE);
			assert_int_equal(sqlite3changeset_old(it, 1, &ov),
			    SQLITE_OK);
			assert_int_equal(sqlite3_value_type(ov), SQLITE_NULL);
		}
	}
	assert_int_equal(sqlite3changeset_finalize(it), SQLITE_OK);
	assert_int_equal(seen, 4);
	close(fd);
	unlink(path);
	vb_table_free(&t);
	sqlite3_close(db);
}

static void
undo_names(void **state)
{
	struct timespec when = { 1796000000, 412000000 }, back;
	char name[128];
	int enc;

	(void)state;
	assert_int_equal(vb_undo_name(&when, 1, name, sizeof(name)), 0);
	assert_string_equal(name,
	    "undo-2026-11-30T00-53-20-412Z.changeset.age");
	assert_int_equal(vb_undo_parse(name, &back, &enc), 0);
	assert_int_equal(enc, 1);
	assert_int_equal(vb_timespec_cmp(&when, &back), 0);
	assert_int_equal(vb_undo_parse("undo-2026-11-30T00-53-20-412Z."
	    "changeset", &back, &enc), 0);
	assert_int_equal(enc, 0);
	assert_int_equal(vb_undo_parse("undo-2026-11-30T00-53-20-412Z."
	    "changeset.bak", &back, &enc), -1);
	assert_int_equal(vb_undo_parse("undo-2026-02-30T01-33-20-412Z."
	    "changeset", &back, &enc), -1);
	assert_int_equal(vb_undo_parse("pre-restore-2026-11-30T00-53-20-412Z"
	    ".tar.zst", &back, &enc), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(match_shapes),
		cmocka_unit_test(match_values),
		cmocka_unit_test(changeset_is_sessions),
		cmocka_unit_test(changeset_read_back),
		cmocka_unit_test(undo_names),
	};

	return cmocka_run_group_tests_name("partial restore", tests, NULL,
	    NULL);
}
