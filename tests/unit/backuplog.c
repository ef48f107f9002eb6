/*
 * unit/backuplog.c - unit tests of BackupLog (backuplog.c): the columns and
 * status words of the applications' own tables learnt, rows written in their
 * formats (milliseconds, seconds, DATETIME text) and read back newest first,
 * and a table that would refuse a failure row said so.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/vblib.h"
#include "help.h"

static void
backuplog_columns(void **state)
{
	struct vb_log_query q = { 0, NULL, 10 };
	struct vb_log_row row;
	struct vb_log_map m;
	sqlite3_stmt *st;
	char why[256];
	sqlite3 *db;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	/* No table at all. */
	assert_int_equal(vb_backuplog_map(db, &m), -1);
	/* The old service's names: size, duration; case does not matter. */
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE BackupLog (id "
	    "INTEGER PRIMARY KEY, CREATEDAT TEXT, filename TEXT, size "
	    "INTEGER, status TEXT, operation TEXT, duration INTEGER, "
	    "message TEXT); INSERT INTO BackupLog VALUES (1, "
	    "'2026-11-27T01:00:00.000Z', 'a\tb.tar.zst', 9, 'success', "
	    "'compress', 7, 'line\none'), (2, '2026-11-28T01:00:00.000Z', "
	    "NULL, NULL, 'failure', 'snapshot', NULL, NULL)", NULL, NULL,
	    NULL), SQLITE_OK);
	assert_int_equal(vb_backuplog_map(db, &m), 0);
	assert_string_equal(m.have[0], "createdAt");
	assert_string_equal(m.have[4], "size");
	assert_string_equal(m.have[6], "duration");
	assert_null(m.have[5]);			/* no sha256 */
	assert_string_equal(m.ok, "success");
	assert_string_equal(m.failed, "failure");
	/* Read back newest first, as records. */
	assert_int_equal(vb_backuplog_query(db, ":memory:", &q, &m, &st, why,
	    sizeof(why)), 0);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	vb_backuplog_row(st, &m, &row);
	assert_string_equal(row.r.op, "snapshot");
	assert_false(row.r.ok);
	assert_string_equal(row.r.path, "-");
	assert_int_equal(row.r.bytes, -1);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	vb_backuplog_row(st, &m, &row);
	assert_true(row.r.ok);
	assert_string_equal(row.r.path, "a?b.tar.zst");	/* cleaned */
	assert_int_equal(row.r.bytes, 9);
	assert_int_equal(row.r.ms, 7);
	assert_string_equal(row.r.msg, "line?one");
	assert_string_equal(row.r.time, "2026-11-27T01:00:00.000Z");
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	/* --failures: only the failure. */
	q.failures = 1;
	assert_int_equal(vb_backuplog_query(db, ":memory:", &q, &m, &st, why,
	    sizeof(why)), 0);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void
backuplog_words(void **state)
{
	static const struct {
		const char	*table;
		const char	*ok, *failed, *op;
	} cases[] = {
		/* The Node service's: a CHECK, no operation column. */
		{ "CREATE TABLE BackupLog (id INTEGER PRIMARY KEY, filename "
		    "TEXT, size INTEGER, status TEXT CHECK(status IN "
		    "('SUCCESS', 'FAILED')), message TEXT, createdAt TEXT)",
		    "SUCCESS", "FAILED", NULL },
		/* Words from the rows already there. */
		{ "CREATE TABLE BackupLog (created_at TEXT, op TEXT, state "
		    "TEXT); INSERT INTO BackupLog VALUES ('x', 'y', 'ok'), "
		    "('x', 'y', 'error')", "ok", "error", "op" },
		/* One word alone brings its pair's other. */
		{ "CREATE TABLE BackupLog (timestamp TEXT, status TEXT); "
		    "INSERT INTO BackupLog VALUES ('x', 'FAILED')", "SUCCESS",
		    "FAILED", NULL },
		{ "CREATE TABLE BackupLog (createdAt TEXT, \"Status\" TEXT "
		    "CHECK (\"Status\" in ('done','failed')))", "done",
		    "failed", NULL },
	};
	struct vb_log_map m;
	sqlite3 *db;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, cases[i].table, NULL, NULL,
		    NULL), SQLITE_OK);
		assert_int_equal(vb_backuplog_map(db, &m), 0);
		assert_string_equal(m.ok, cases[i].ok);
		assert_string_equal(m.failed, cases[i].failed);
		if (cases[i].op == NULL)
			assert_null(m.have[1]);
		else
			assert_string_equal(m.have[1], cases[i].op);
		sqlite3_close(db);
	}
	assert_true(vb_log_status_ok("SUCCESS"));
	assert_true(vb_log_status_ok("Done"));
	assert_false(vb_log_status_ok("FAILED"));
	assert_false(vb_log_status_ok(NULL));
}

/* Logs a failure and a success into a table made by sql; 0 or -1. */
static int
log_two(const char *sql, const char *path)
{
	struct vb_backuplog *l;
	struct vb_record bad, ok;
	char why[512];
	sqlite3 *db;
	int rc;

	unlink(path);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	sqlite3_close(db);
	vb_record_init(&bad, "backup", "-");
	bad.ok = 0;
	bad.msg = "failed at config: x";
	snprintf(bad.time, sizeof(bad.time), "2026-11-27T01:00:00.250Z");
	vb_record_init(&ok, "compress", "/b/backup-x.tar.zst");
	ok.ok = 1;
	ok.bytes = 10;
	ok.msg = "zstd";
	snprintf(ok.time, sizeof(ok.time), "2026-11-28T01:00:00.000Z");
	if ((l = vb_backuplog_open(path, why, sizeof(why))) == NULL)
		return -1;
	rc = vb_backuplog_write(l, &bad, 1, why, sizeof(why)) != 0 ||
	    vb_backuplog_write(l, &ok, 1, why, sizeof(why)) != 0 ? -1 : 0;
	vb_backuplog_close(l);
	return rc;
}

static void
backuplog_strict(void **state)
{
	static const struct {
		const char	*table;
		const char	*rows;	/* what the failure row holds */
		int64_t		 count;	/* rows --show reads back */
		const char	*when;	/* the failure's, read back */
	} cases[] = {
		/* NOT NULL filename, integer milliseconds, updatedAt. */
		{ "CREATE TABLE BackupLog (id INTEGER PRIMARY KEY "
		    "AUTOINCREMENT, filename TEXT NOT NULL, size INTEGER NOT "
		    "NULL, status TEXT NOT NULL CHECK(status IN ('SUCCESS', "
		    "'FAILED')), message TEXT, createdAt INTEGER NOT NULL, "
		    "updatedAt INTEGER NOT NULL)",
		    "|0|FAILED|backup: failed at config: x|1795741200250|"
		    "1795741200250", 2, "2026-11-27T01:00:00.250Z" },
		/* Unix seconds, learnt from a row already there. */
		{ "CREATE TABLE BackupLog (id INTEGER PRIMARY KEY, status "
		    "TEXT, createdAt INTEGER NOT NULL, host TEXT NOT NULL); "
		    "INSERT INTO BackupLog VALUES (1, 'ok', 1700000000, 'a')",
		    "error|1795741200|", 3, "2026-11-27T01:00:00.000Z" },
		/* Sequelize's DATETIME text, learnt from its rows. */
		{ "CREATE TABLE BackupLog (id INTEGER PRIMARY KEY, status "
		    "TEXT, createdAt DATETIME NOT NULL, updatedAt DATETIME "
		    "NOT NULL); INSERT INTO BackupLog VALUES (1, 'SUCCESS', "
		    "'2023-10-02 18:30:00.000 +00:00', "
		    "'2023-10-02 18:30:00.000 +00:00')",
		    "FAILED|2026-11-27 01:00:00.250 +00:00|"
		    "2026-11-27 01:00:00.250 +00:00", 3,
		    "2026-11-27T01:00:00.250Z" },
	};
	struct vb_log_query q = { 0, NULL, -1 };
	struct vb_log_row row;
	struct vb_log_map m;
	char dir[] = "/tmp/vb-unit-XXXXXX", path[256], got[512], why[512];
	sqlite3_stmt *st;
	sqlite3 *db;
	int64_t n;
	size_t i;

	(void)state;
	mkdtemp_or_fail(dir);
	snprintf(path, sizeof(path), "%s/a.db", dir);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(log_two(cases[i].table, path), 0);
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		/* The failure row is there. */
		assert_int_equal(sqlite3_exec(db, "CREATE TEMP VIEW f AS "
		    "SELECT * FROM BackupLog WHERE rowid = (SELECT min(rowid) "
		    "FROM BackupLog WHERE status LIKE 'f%' OR status LIKE "
		    "'e%')", NULL, NULL, NULL), SQLITE_OK);
		assert_int_equal(vb_db_int(db, "SELECT count(*) FROM f", &n),
		    0);
		assert_int_equal(n, 1);
		/* Read back: newest first, times as vb writes them. */
		assert_int_equal(vb_backuplog_query(db, path, &q, &m, &st, why,
		    sizeof(why)), 0);
		for (n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
			vb_backuplog_row(st, &m, &row);
			if (n == 0)
				assert_string_equal(row.r.time,
				    "2026-11-28T01:00:00.000Z");
			if (n == 1) {
				assert_string_equal(row.r.time,
				    cases[i].when);
				assert_false(row.r.ok);
			}
		}
		sqlite3_finalize(st);
		assert_int_equal(n, cases[i].count);
		sqlite3_close(db);
	}
	/* What the first table's failure row holds, column by column. */
	assert_int_equal(log_two(cases[0].table, path), 0);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(vb_db_text(db, "SELECT filename || '|' || size || '|' "
	    "|| status || '|' || message || '|' || createdAt || '|' || "
	    "updatedAt FROM BackupLog WHERE id = 1", got, sizeof(got)), 0);
	assert_string_equal(got, cases[0].rows);
	sqlite3_close(db);
	/* And the check proves both rows go in, leaving none behind. */
	assert_int_equal(vb_backuplog_check(path, got, sizeof(got), why,
	    sizeof(why)), 0);
	assert_non_null(strstr(got, "Unix milliseconds"));
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(vb_db_int(db, "SELECT count(*) FROM BackupLog", &n),
	    0);
	assert_int_equal(n, 2);
	/* A table whose CHECK refuses a failure row: the check says so. */
	assert_int_equal(sqlite3_exec(db, "DROP TABLE BackupLog; CREATE TABLE "
	    "BackupLog (createdAt TEXT, status TEXT, filename TEXT NOT NULL "
	    "CHECK(filename LIKE '%.tar%'))", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(vb_backuplog_check(path, why, sizeof(why), got,
	    sizeof(got)), -1);
	assert_non_null(strstr(got, "would refuse a failure row"));
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(backuplog_columns),
		cmocka_unit_test(backuplog_words),
		cmocka_unit_test(backuplog_strict),
	};

	return cmocka_run_group_tests_name("backuplog.c", tests, NULL, NULL);
}
