/*
 * partial.c - some tables, or some rows, put back from a backup while
 * the rest of the live database stays: vb-restore --table [--where].
 *
 * The backup is verified and restored into a work directory (diff.c's
 * vb_diff_open), opened read-only, and the live database attached to the
 * same connection for writing, under one BEGIN IMMEDIATE: every change
 * is one transaction through SQLite, so the application's connections
 * and WAL stay coherent and a crash leaves the live database as it was
 * or wholly restored.  Triggers do not fire (SQLITE_DBCONFIG_ENABLE_
 * TRIGGER off on this connection, foreign key actions off), foreign keys
 * are checked before the commit.  Every refusal is taken before the
 * commit: nothing changes.  BackupLog is never a table it restores.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "vblib.h"

/* ---- what is asked, checked ---- */

/* The --where's authorizer: it may read the table it filters, only. */
static int
only_table(void *arg, int op, const char *a, const char *b, const char *db,
    const char *inner)
{
	(void)b;
	(void)db;
	(void)inner;
	if (op == SQLITE_READ && a != NULL && strcmp(a, arg) != 0 &&
	    strcmp(a, "sqlite_master") != 0 && strcmp(a, "sqlite_schema") != 0)
		return SQLITE_DENY;
	return op == SQLITE_SELECT || op == SQLITE_READ || op ==
	    SQLITE_FUNCTION ? SQLITE_OK : SQLITE_DENY;
}

/*
 * Prepares the query of table filtered by where as fmt places it, under
 * an authorizer that lets it read that table only and do nothing else.
 * Returns 0, or -1 with why.
 */
static int
try_where(sqlite3 *db, const char *table, const char *fmt,
    const char *where, char *why, size_t wlen)
{
	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	char *sql;
	int rc;

	sql = sqlite3_mprintf(fmt, table, where);
	sqlite3_set_authorizer(db, only_table, (void *)table);
	rc = sql != NULL ? sqlite3_prepare_v2(db, sql, -1, &st, &tail) :
	    SQLITE_NOMEM;
	sqlite3_set_authorizer(db, NULL, NULL);
	if (rc != SQLITE_OK || st == NULL || (tail != NULL && *tail != '\0') ||
	    !sqlite3_stmt_readonly(st)) {
		snprintf(why, wlen, "--where must be one condition on the "
		    "columns of %s (no statement, no other table): %s", table,
		    rc != SQLITE_OK ? sqlite3_errmsg(db) : "more follows it");
		rc = -1;
	} else
		rc = 0;
	sqlite3_finalize(st);
	sqlite3_free(sql);
	return rc;
}

/*
 * where is one expression on table's columns: it parses both bare and
 * in parentheses (so "1) OR (1" and "1 LIMIT 1" are refused).
 */
static int
check_where(sqlite3 *db, const char *table, const char *where, char *why,
    size_t wlen)
{
	return try_where(db, table, "SELECT count(*) FROM main.\"%w\" WHERE "
	    "(%s)", where, why, wlen) != 0 || try_where(db, table, "SELECT "
	    "count(*) FROM main.\"%w\" WHERE %s", where, why, wlen) != 0 ?
	    -1 : 0;
}

/* A table both sides hold with the same columns, not vb's.  0, or -1. */
static int
check_table(sqlite3 *db, const char *table, char *why, size_t wlen)
{
	char *a, *b;
	int rc = 0;

	if (strcasecmp(table, "BackupLog") == 0) {
		snprintf(why, wlen, "BackupLog is vb's history of this "
		    "database: never put back from a backup");
		return -1;
	}
	a = vb_table_columns(db, "main", table);
	b = vb_table_columns(db, "live", table);
	if (a == NULL || b == NULL || strcmp(a, b) != 0) {
		snprintf(why, wlen, "%s: %s", table, a == NULL && b == NULL ?
		    "no such table in the backup or the live database" :
		    a == NULL ? "the backup has no such table" : b == NULL ?
		    "the live database has no such table" : "its columns "
		    "differ between the backup and the live database: put "
		    "back only a table whose schema is unchanged");
		rc = -1;
	}
	sqlite3_free(a);
	sqlite3_free(b);
	return rc;
}

/* ---- the rows put back ---- */

/* Runs sql (freed); the rows it changed, or -1 with why. */
static int64_t
change(sqlite3 *db, char *sql, char *why, size_t wlen)
{
	int rc;

	rc = sql != NULL ? sqlite3_exec(db, sql, NULL, NULL, NULL) :
	    SQLITE_NOMEM;
	sqlite3_free(sql);
	if (rc != SQLITE_OK) {
		snprintf(why, wlen, "%s", sqlite3_errmsg(db));
		return -1;
	}
	return sqlite3_changes64(db);
}

/* cols and bcols: the table's columns, and the backup's (b.); a rowid
 * table's with its rowid first.  0, or -1. */
static int
column_lists(sqlite3 *db, const char *t, char **cols, char **bcols)
{
	char *rowid = vb_table_list(db, t, 1, "%.0s%.0s%s", "");
	char *c = vb_table_list(db, t, 0, "\"%w\"%.0s%.0s", ", ");
	char *b = vb_table_list(db, t, 0, "b.\"%w\"%.0s%.0s", ", ");
	int with = rowid != NULL && strcmp(rowid, "rowid") == 0;

	*cols = c == NULL ? NULL : sqlite3_mprintf("%s%s", with ? "rowid, " :
	    "", c);
	*bcols = b == NULL ? NULL : sqlite3_mprintf("%s%s", with ?
	    "b.rowid, " : "", b);
	sqlite3_free(rowid);
	sqlite3_free(c);
	sqlite3_free(b);
	return *cols != NULL && *bcols != NULL ? 0 : -1;
}

/*
 * The backup's row b matches where: the condition alone as the WHERE of
 * a query of its own, so that no text in it can reach beyond (a "1) OR
 * (1" selects every row, as its words say, and changes nothing else).
 */
static char *
where_match(sqlite3 *db, const char *t, const char *where)
{
	char *rowid, *wk, *m = NULL;

	if (where == NULL)
		return sqlite3_mprintf("%s", "");
	rowid = vb_table_list(db, t, 1, "%.0s%.0s%s", "");
	if (rowid != NULL && strcmp(rowid, "rowid") == 0)
		m = sqlite3_mprintf(" AND b.rowid IN (SELECT rowid FROM "
		    "main.\"%w\" WHERE (%s))", t, where);
	else if (rowid != NULL && (wk = vb_table_list(db, t, 1,
	    "w.\"%w\" IS b.\"%w\"%.0s", " AND ")) != NULL) {
		m = sqlite3_mprintf(" AND EXISTS (SELECT 1 FROM (SELECT * FROM "
		    "main.\"%w\" WHERE (%s)) AS w WHERE %s)", t, where, wk);
		sqlite3_free(wk);
	}
	sqlite3_free(rowid);
	return m;
}

/*
 * One table put back: without where, its content becomes the backup's;
 * with it, the backup's rows that match come back (the deleted ones
 * inserted, the changed ones reset) and nothing else is touched.
 * Returns 0 with the counts in n (deleted, reset, put back), or -1.
 */
static int
put_back(sqlite3 *db, const char *t, const char *where, int64_t n[3],
    char *why, size_t wlen)
{
	char *key = NULL, *same = NULL, *cols = NULL, *bcols = NULL, *w;
	int rc = -1;

	w = where_match(db, t, where);
	if (w == NULL || vb_table_match(db, "main", t, &key, &same) != 0 ||
	    column_lists(db, t, &cols, &bcols) != 0) {
		snprintf(why, wlen, "%s: %s", t, sqlite3_errmsg(db));
		goto out;
	}
	n[0] = where != NULL ? 0 : change(db, sqlite3_mprintf("DELETE FROM "
	    "live.\"%w\" AS l WHERE NOT EXISTS (SELECT 1 FROM main.\"%w\" "
	    "AS b WHERE %s)", t, t, key), why, wlen);
	n[1] = n[0] < 0 ? -1 : change(db, sqlite3_mprintf("UPDATE "
	    "live.\"%w\" AS l SET (%s) = (SELECT %s FROM main.\"%w\" AS b "
	    "WHERE %s) WHERE EXISTS (SELECT 1 FROM main.\"%w\" AS b WHERE %s "
	    "AND NOT (%s)%s)", t, cols, bcols, t, key, t, key, same, w), why,
	    wlen);
	n[2] = n[1] < 0 ? -1 : change(db, sqlite3_mprintf("INSERT INTO "
	    "live.\"%w\"(%s) SELECT %s FROM main.\"%w\" AS b WHERE NOT "
	    "EXISTS (SELECT 1 FROM live.\"%w\" AS l WHERE %s)%s", t, cols,
	    bcols, t, t, key, w), why, wlen);
	if (n[2] >= 0)
		rc = 0;
	else
		snprintf(why + strlen(why), wlen - strlen(why), " (putting "
		    "back %s)", t);
out:
	sqlite3_free(w);
	sqlite3_free(cols);
	sqlite3_free(bcols);
	sqlite3_free(key);
	sqlite3_free(same);
	return rc;
}

/* ---- foreign keys ---- */

/* Whether name is one of the tables put back. */
static int
among(const struct vb_partial_opts *o, const char *name)
{
	int i;

	for (i = 0; name != NULL && i < o->ntables; i++)
		if (strcmp(o->tables[i], name) == 0)
			return 1;
	return 0;
}

/* Counts table's violations into *n, the first said in why. */
static void
check_one(sqlite3 *db, const char *table, int64_t *n, char *why,
    size_t wlen)
{
	sqlite3_stmt *st;
	char *sql = sqlite3_mprintf("PRAGMA live.foreign_key_check(%Q)",
	    table);

	if (sql == NULL || sqlite3_prepare_v2(db, sql, -1, &st, NULL) !=
	    SQLITE_OK) {
		sqlite3_free(sql);
		return;
	}
	sqlite3_free(sql);
	while (sqlite3_step(st) == SQLITE_ROW)
		if ((*n)++ == 0)
			snprintf(why, wlen, "foreign keys would be broken: "
			    "row %lld of %s refers to a %s row that would not "
			    "exist", (long long)sqlite3_column_int64(st, 1),
			    sqlite3_column_text(st, 0),
			    sqlite3_column_text(st, 2));
	sqlite3_finalize(st);
}

/*
 * The foreign key violations that involve the tables put back: theirs
 * (as children), and those of the tables that refer to them (only
 * those: a check of the whole database would read every table).  Said
 * in why; returns how many.
 */
static int64_t
violations(sqlite3 *db, const struct vb_partial_opts *o, char *why,
    size_t wlen)
{
	sqlite3_stmt *st;
	int64_t n = 0;
	int i;

	for (i = 0; i < o->ntables; i++)
		check_one(db, o->tables[i], &n, why, wlen);
	/* The tables whose foreign keys name one put back. */
	if (sqlite3_prepare_v2(db, "SELECT DISTINCT s.name, f.\"table\" FROM "
	    "live.sqlite_schema AS s, pragma_foreign_key_list(s.name, 'live') "
	    "AS f WHERE s.type = 'table'", -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW)
			if (among(o, (const char *)sqlite3_column_text(st,
			    1)) && !among(o, (const char *)
			    sqlite3_column_text(st, 0)))
				check_one(db, (const char *)
				    sqlite3_column_text(st, 0), &n, why, wlen);
		sqlite3_finalize(st);
	}
	if (n > 1)
		snprintf(why + strlen(why), wlen - strlen(why), ", and %lld "
		    "more", (long long)(n - 1));
	if (n > 0)
		snprintf(why + strlen(why), wlen - strlen(why), "; put back "
		    "the tables they refer to as well, or --force (nothing "
		    "changed)");
	return n;
}

/* ---- the whole ---- */

/* Each table checked (and its --where); 0, or -1 with why. */
static int
check_all(sqlite3 *db, const struct vb_partial_opts *o, char *why,
    size_t wlen)
{
	int i;

	for (i = 0; i < o->ntables; i++)
		if (check_table(db, o->tables[i], why, wlen) != 0 ||
		    (o->where != NULL && check_where(db, o->tables[i],
		    o->where, why, wlen) != 0))
			return -1;
	return 0;
}

/* The tables put back in the open transaction; counts and words in
 * res.  0, or -1 with res->why. */
static int
apply(sqlite3 *db, const struct vb_partial_opts *o,
    struct vb_partial_result *res)
{
	char *m = res->message;
	size_t ml = sizeof(res->message);
	int64_t n[3];
	int i;

	for (i = 0; i < o->ntables; i++) {
		if (put_back(db, o->tables[i], o->where, n, res->why,
		    sizeof(res->why)) != 0)
			return -1;
		res->deleted += n[0];
		res->reset += n[1];
		res->put_back += n[2];
		snprintf(m + strlen(m), ml - strlen(m), "%s%s: %lld put back, "
		    "%lld deleted, %lld reset", i > 0 ? "; " : "",
		    o->tables[i], (long long)n[2], (long long)n[0],
		    (long long)n[1]);
	}
	if ((res->violations = violations(db, o, res->why,
	    sizeof(res->why))) > 0 && !o->force)
		return -1;
	return 0;
}

int
vb_partial(const struct vb_partial_opts *o, struct vb_partial_result *res)
{
	struct vb_diff_opts d = { o->archive, o->db, o->dir, o->identity,
	    o->remote, NULL, 0, o->verify_with };
	char work[4400], fk[1024] = "";
	sqlite3 *db;
	int on, rc = -1;

	memset(res, 0, sizeof(*res));
	if (vb_diff_open(&d, 1, &db, work, sizeof(work), res->why,
	    sizeof(res->why)) != 0)
		return -1;
	/* No trigger fires, no foreign key action cascades. */
	sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, &on);
	sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_FKEY, 0, &on);
	if (check_all(db, o, res->why, sizeof(res->why)) != 0 ||
	    (!o->dry && vb_pre_restore(o->db, o->dir, res->saved,
	    sizeof(res->saved), res->note, sizeof(res->note), res->why,
	    sizeof(res->why)) != 0))
		goto out;
	/* One transaction; the checks again inside it. */
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		snprintf(res->why, sizeof(res->why), "%s: %s", o->db,
		    sqlite3_errmsg(db));
		goto out;
	}
	/* A dry run rolls back what it did; a real one commits it. */
	if (check_all(db, o, res->why, sizeof(res->why)) == 0 &&
	    apply(db, o, res) == 0 && (o->dry || sqlite3_exec(db, "COMMIT",
	    NULL, NULL, NULL) == SQLITE_OK))
		rc = 0;
	else if (res->why[0] == '\0')
		snprintf(res->why, sizeof(res->why), "%s: %s", o->db,
		    sqlite3_errmsg(db));
	if (res->violations > 0 && o->force)
		snprintf(fk, sizeof(fk), "; %lld foreign key violations kept "
		    "(--force)", (long long)res->violations);
	snprintf(res->message + strlen(res->message), sizeof(res->message) -
	    strlen(res->message), "%s from %s%s%s%s", fk, o->archive,
	    o->where != NULL ? " where " : "", o->where != NULL ? o->where :
	    "", res->saved[0] != '\0' ? "; pre-restore copy: " : "");
	snprintf(res->message + strlen(res->message), sizeof(res->message) -
	    strlen(res->message), "%s", res->saved);
	if (sqlite3_get_autocommit(db) == 0)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	/* Refused in the transaction: its safety copy is of nothing. */
	if (rc != 0 && res->saved[0] != '\0' && unlink(res->saved) == 0)
		res->saved[0] = '\0';
out:
	sqlite3_close(db);
	vb_work_remove(work);
	return rc;
}
