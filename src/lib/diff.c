/*
 * diff.c - what changed since a backup: vb-restore --diff.
 *
 * The backup is verified and restored as vb-restore --to restores it
 * (chain, age, the remote) into a work directory beside the backups,
 * then compared with the live database, which is ATTACHed read-only and
 * read in one transaction (one consistent state of it), table by table:
 * rows only in the backup, only live, and changed, matched by primary
 * key, else by rowid; tables and columns that differ.  Set queries
 * (NOT EXISTS and a join on the key, which use the key's index) stream
 * the rows, so memory stays bounded on a GiB; sqlite3session_diff would
 * hold the whole changeset in memory and ignores tables without a
 * primary key.  BackupLog is never compared (it is vb's, and only
 * grows).  An output helper: it prints on stdout, a failure once.
 */
#define _GNU_SOURCE
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "vblib.h"

/* One table's comparison. */
struct cmp {
	const char	*name;
	const char	*state;		/* same, differs, schema, only-backup,
					   only-live */
	char		 note[512];	/* schema: what differs */
	int64_t		 backup_rows, live_rows;
	int64_t		 only_backup, only_live, changed;
	char		*key;		/* "b.k1 IS l.k1 AND ..." */
	char		*same;		/* every column IS its twin */
};

/* ---- the schemas ---- */

/* The columns of db.table as one comparable string (name, type, not
 * null, default, key position), or NULL if it has none. */
char *
vb_table_columns(sqlite3 *db, const char *schema, const char *table)
{
	sqlite3_stmt *st;
	char *sql, *all = NULL, *more;

	sql = sqlite3_mprintf("SELECT name, type, \"notnull\", dflt_value, pk "
	    "FROM pragma_table_info(%Q, %Q) ORDER BY cid", table, schema);
	if (sql == NULL || sqlite3_prepare_v2(db, sql, -1, &st, NULL) !=
	    SQLITE_OK) {
		sqlite3_free(sql);
		return NULL;
	}
	sqlite3_free(sql);
	while (sqlite3_step(st) == SQLITE_ROW) {
		more = sqlite3_mprintf("%s%s|%s|%d|%s|%d\n", all != NULL ? all :
		    "", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
		    sqlite3_column_int(st, 2), sqlite3_column_type(st, 3) ==
		    SQLITE_NULL ? "" : (const char *)sqlite3_column_text(st, 3),
		    sqlite3_column_int(st, 4));
		sqlite3_free(all);
		all = more;
	}
	sqlite3_finalize(st);
	return all;
}

int
vb_table_match(sqlite3 *db, const char *schema, const char *table,
    char **keyp, char **samep)
{
	sqlite3_stmt *st;
	char *sql, *key = NULL, *same = NULL, *k, *s;
	int pk;

	sql = sqlite3_mprintf("SELECT name, pk FROM pragma_table_info(%Q, %Q) "
	    "ORDER BY pk, cid", table, schema);
	if (sql == NULL || sqlite3_prepare_v2(db, sql, -1, &st, NULL) !=
	    SQLITE_OK) {
		sqlite3_free(sql);
		return -1;
	}
	sqlite3_free(sql);
	while (sqlite3_step(st) == SQLITE_ROW) {
		pk = sqlite3_column_int(st, 1);
		s = sqlite3_mprintf("%s%sb.\"%w\" IS l.\"%w\"", same != NULL ?
		    same : "", same != NULL ? " AND " : "",
		    sqlite3_column_text(st, 0), sqlite3_column_text(st, 0));
		sqlite3_free(same);
		same = s;
		if (pk == 0)
			continue;
		k = sqlite3_mprintf("%s%sb.\"%w\" = l.\"%w\"", key != NULL ?
		    key : "", key != NULL ? " AND " : "",
		    sqlite3_column_text(st, 0), sqlite3_column_text(st, 0));
		sqlite3_free(key);
		key = k;
	}
	sqlite3_finalize(st);
	*keyp = key != NULL ? key : sqlite3_mprintf("b.rowid = l.rowid");
	*samep = same;
	return *keyp != NULL && *samep != NULL ? 0 : -1;
}

/* ---- the rows ---- */

int64_t
vb_db_count(sqlite3 *db, char *sql)
{
	int64_t n = -1;

	if (sql == NULL || vb_db_int(db, sql, &n) != 0)
		n = -1;
	sqlite3_free(sql);
	return n;
}

/* The rows of schema.name, or -1. */
static int64_t
rows_in(sqlite3 *db, const char *schema, const char *name)
{
	return vb_db_count(db, sqlite3_mprintf("SELECT count(*) FROM "
	    "%s.\"%w\"", schema, name));
}

/* The counts of a table both databases hold alike. */
static int
rows(sqlite3 *db, struct cmp *c)
{
	if (vb_table_match(db, "main", c->name, &c->key, &c->same) != 0)
		return -1;
	c->backup_rows = rows_in(db, "main", c->name);
	c->live_rows = rows_in(db, "live", c->name);
	c->only_backup = vb_db_count(db, sqlite3_mprintf("SELECT count(*) FROM "
	    "main.\"%w\" AS b WHERE NOT EXISTS (SELECT 1 FROM live.\"%w\" AS "
	    "l WHERE %s)", c->name, c->name, c->key));
	c->only_live = vb_db_count(db, sqlite3_mprintf("SELECT count(*) FROM "
	    "live.\"%w\" AS l WHERE NOT EXISTS (SELECT 1 FROM main.\"%w\" AS "
	    "b WHERE %s)", c->name, c->name, c->key));
	c->changed = vb_db_count(db, sqlite3_mprintf("SELECT count(*) FROM "
	    "main.\"%w\" AS b JOIN live.\"%w\" AS l ON %s WHERE NOT (%s)",
	    c->name, c->name, c->key, c->same));
	if (c->backup_rows < 0 || c->live_rows < 0 || c->only_backup < 0 ||
	    c->only_live < 0 || c->changed < 0)
		return -1;
	c->state = c->only_backup + c->only_live + c->changed > 0 ?
	    "differs" : "same";
	return 0;
}

/*
 * What differs in c's columns, into c->note: those only one side has,
 * and those both have but declare otherwise.
 */
static void
schema_note(sqlite3 *db, struct cmp *c)
{
	char *sql;
	char which[3][160] = { "", "", "" };
	int i;

	/* 0: only in the backup; 1: only live; 2: declared otherwise. */
	static const char *const q[3] = {
	    "SELECT group_concat(name, ', ') FROM pragma_table_info(%Q, "
	    "'main') WHERE name NOT IN (SELECT name FROM "
	    "pragma_table_info(%Q, 'live'))",
	    "SELECT group_concat(name, ', ') FROM pragma_table_info(%Q, "
	    "'live') WHERE name NOT IN (SELECT name FROM "
	    "pragma_table_info(%Q, 'main'))",
	    "SELECT group_concat(b.name, ', ') FROM pragma_table_info(%Q, "
	    "'main') AS b JOIN pragma_table_info(%Q, 'live') AS l USING "
	    "(name) WHERE b.type IS NOT l.type OR b.\"notnull\" IS NOT "
	    "l.\"notnull\" OR b.dflt_value IS NOT l.dflt_value OR b.pk IS "
	    "NOT l.pk OR b.cid IS NOT l.cid" };

	for (i = 0; i < 3; i++) {
		if ((sql = sqlite3_mprintf(q[i], c->name, c->name)) != NULL)
			vb_db_text(db, sql, which[i], sizeof(which[i]));
		sqlite3_free(sql);
	}
	snprintf(c->note, sizeof(c->note), "its columns differ between the "
	    "backup and the live database:%s%s%s%s%s%s",
	    which[0][0] != '\0' ? " only in the backup: " : "", which[0],
	    which[1][0] != '\0' ? " only live: " : "", which[1],
	    which[2][0] != '\0' ? " declared otherwise or moved: " : "",
	    which[2]);
}

/* Compares table name; c filled.  0, or -1 (the query failed). */
static int
compare(sqlite3 *db, const char *name, int in_backup, int in_live,
    struct cmp *c)
{
	char *a, *b;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	c->name = name;
	c->backup_rows = c->live_rows = -1;
	if (!in_live || !in_backup) {
		c->state = in_backup ? "only-backup" : "only-live";
		c->backup_rows = !in_backup ? -1 : rows_in(db, "main", name);
		c->live_rows = !in_live ? -1 : rows_in(db, "live", name);
		return 0;
	}
	a = vb_table_columns(db, "main", name);
	b = vb_table_columns(db, "live", name);
	if (a == NULL || b == NULL || strcmp(a, b) != 0) {
		c->state = "schema";
		c->backup_rows = rows_in(db, "main", name);
		c->live_rows = rows_in(db, "live", name);
		schema_note(db, c);
	} else
		rc = rows(db, c);
	sqlite3_free(a);
	sqlite3_free(b);
	return rc;
}

/* ---- the output ---- */

static void
show(struct vb_list *out, const struct cmp *c)
{
	switch (out->form) {
	case VB_LIST_JSON:
		vb_list_object(out);
		vb_list_str(out, "table", c->name);
		vb_list_str(out, "state", c->state);
		vb_list_int(out, "backup_rows", c->backup_rows,
		    c->backup_rows >= 0);
		vb_list_int(out, "live_rows", c->live_rows, c->live_rows >= 0);
		vb_list_int(out, "only_backup", c->only_backup,
		    c->key != NULL);
		vb_list_int(out, "only_live", c->only_live, c->key != NULL);
		vb_list_int(out, "changed", c->changed, c->key != NULL);
		vb_list_str(out, "note", c->note[0] != '\0' ? c->note : NULL);
		return;
	case VB_LIST_TABLE:
		if (c->key == NULL) {
			printf("%-24s  %-11s  %s\n", c->name, c->state,
			    c->note);
			return;
		}
		printf("%-24s  %-11s  %12lld  %12lld  %10lld  %10lld  %10lld\n",
		    c->name, c->state, (long long)c->backup_rows,
		    (long long)c->live_rows, (long long)c->only_backup,
		    (long long)c->only_live, (long long)c->changed);
		return;
	default:
		printf("%s\t%s\t%lld\t%lld\t%lld\t%lld\t%lld\t%s\n", c->name,
		    c->state, (long long)c->backup_rows,
		    (long long)c->live_rows, c->key != NULL ?
		    (long long)c->only_backup : -1LL, c->key != NULL ?
		    (long long)c->only_live : -1LL, c->key != NULL ?
		    (long long)c->changed : -1LL, c->note[0] != '\0' ?
		    c->note : "-");
	}
}

/*
 * The tables of either database, but vb's BackupLog and SQLite's own,
 * with where each is: a statement yielding (name, in_backup, in_live).
 */
#define TABLES_SQL \
	"SELECT name, max(b), max(l) FROM (" \
	"SELECT name, 1 AS b, 0 AS l FROM main.sqlite_schema WHERE type = " \
	"'table' UNION ALL SELECT name, 0, 1 FROM live.sqlite_schema WHERE " \
	"type = 'table') WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND " \
	"name <> 'BackupLog' COLLATE NOCASE GROUP BY name ORDER BY name"

/* Every table compared and shown; 0, or -1 with why. */
static int
each_table(sqlite3 *db, int json, char *why, size_t wlen)
{
	struct vb_list out;
	sqlite3_stmt *st;
	struct cmp c;
	const char *name;
	int rc = 0;

	if (sqlite3_prepare_v2(db, TABLES_SQL, -1, &st, NULL) != SQLITE_OK) {
		snprintf(why, wlen, "%s", sqlite3_errmsg(db));
		return -1;
	}
	vb_list_begin(&out, json);
	if (out.form == VB_LIST_TABLE)
		printf("%-24s  %-11s  %12s  %12s  %10s  %10s  %10s\n", "table",
		    "state", "backup rows", "live rows", "only backup",
		    "only live", "changed");
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(st, 0);
		if ((rc = compare(db, name, sqlite3_column_int(st, 1),
		    sqlite3_column_int(st, 2), &c)) == 0)
			show(&out, &c);
		else
			snprintf(why, wlen, "comparing %s: %s", name,
			    sqlite3_errmsg(db));
		sqlite3_free(c.key);
		sqlite3_free(c.same);
	}
	sqlite3_finalize(st);
	if (vb_list_end(&out) != 0 && rc == 0) {
		snprintf(why, wlen, "stdout: write error");
		rc = -1;
	}
	return rc;
}

/* ---- --diff-table: the SQL that puts the backup's rows back ---- */

/*
 * For each column of main.table (the key's only, with keys; its rowid if
 * it has no primary key), fmt given the column's name four times, joined
 * by sep.  NULL on error.
 */
char *
vb_table_list(sqlite3 *db, const char *table, int keys, const char *fmt,
    const char *sep)
{
	sqlite3_stmt *st;
	char *sql, *all = NULL, *one, *more;
	const char *col;
	int n = 0;

	sql = sqlite3_mprintf("SELECT name FROM pragma_table_info(%Q, 'main') "
	    "WHERE %s ORDER BY %s", table, keys ? "pk > 0" : "1",
	    keys ? "pk" : "cid");
	if (sql == NULL || sqlite3_prepare_v2(db, sql, -1, &st, NULL) !=
	    SQLITE_OK) {
		sqlite3_free(sql);
		return NULL;
	}
	sqlite3_free(sql);
	for (;;) {
		if (sqlite3_step(st) == SQLITE_ROW)
			col = (const char *)sqlite3_column_text(st, 0);
		else if (keys && n == 0)
			col = "rowid";
		else
			break;
		one = sqlite3_mprintf(fmt, col, col, col, col);
		more = sqlite3_mprintf("%s%s%s", all != NULL ? all : "",
		    all != NULL ? sep : "", one);
		sqlite3_free(one);
		sqlite3_free(all);
		all = more;
		if (n++ == 0 && strcmp(col, "rowid") == 0)
			break;
	}
	sqlite3_finalize(st);
	return all;
}

/*
 * Runs sql (a query of one text column; freed) and prints each row: a
 * line each, or with first the elements of a JSON array (*first set
 * until one is printed).
 */
static int
print_rows(sqlite3 *db, char *sql, int *first)
{
	sqlite3_stmt *st;
	int rc;

	if (sql == NULL || sqlite3_prepare_v2(db, sql, -1, &st, NULL) !=
	    SQLITE_OK) {
		sqlite3_free(sql);
		return -1;
	}
	sqlite3_free(sql);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (first == NULL)
			printf("%s\n", sqlite3_column_text(st, 0));
		else
			printf("%s\n  %s", *first ? "" : ",",
			    sqlite3_column_text(st, 0));
		if (first != NULL)
			*first = 0;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * The rows of c that differ, printed: sel_l for each row only live (over
 * l), sel_b for each only in the backup (over b), sel_c for each changed
 * (over both); print_rows' first.  0, or -1.
 */
static int
each_change(sqlite3 *db, const struct cmp *c, const char *sel_l,
    const char *sel_b, const char *sel_c, int *first)
{
	return print_rows(db, sqlite3_mprintf("SELECT %s FROM live.\"%w\" AS "
	    "l WHERE NOT EXISTS (SELECT 1 FROM main.\"%w\" AS b WHERE %s)",
	    sel_l, c->name, c->name, c->key), first) | print_rows(db,
	    sqlite3_mprintf("SELECT %s FROM main.\"%w\" AS b WHERE NOT EXISTS "
	    "(SELECT 1 FROM live.\"%w\" AS l WHERE %s)", sel_b, c->name,
	    c->name, c->key), first) | print_rows(db, sqlite3_mprintf("SELECT "
	    "%s FROM main.\"%w\" AS b JOIN live.\"%w\" AS l ON %s WHERE NOT "
	    "(%s)", sel_c, c->name, c->name, c->key, c->same), first);
}

/* The statements for table c (same schema on both sides); 0, or -1. */
static int
table_sql(sqlite3 *db, const struct cmp *c)
{
	char *cols, *vals, *kb, *kl, *sets, *rowid, *sel_l, *sel_b, *sel_c;
	int rc = -1;

	/* A rowid table's rows keep their rowid. */
	rowid = vb_table_list(db, c->name, 1, "%.0s%.0s%s", "");
	cols = vb_table_list(db, c->name, 0, "\"%w\"%.0s%.0s", ", ");
	vals = vb_table_list(db, c->name, 0, "quote(b.\"%w\")%.0s%.0s",
	    " || ', ' || ");
	kb = vb_table_list(db, c->name, 1, "'\"%w\" = ' || quote(b.\"%w\")%.0s",
	    " || ' AND ' || ");
	kl = vb_table_list(db, c->name, 1, "'\"%w\" = ' || quote(l.\"%w\")%.0s",
	    " || ' AND ' || ");
	sets = vb_table_list(db, c->name, 0, "'\"%w\" = ' || quote(b.\"%w\")"
	    "%.0s", " || ', ' || ");
	if (rowid == NULL || cols == NULL || vals == NULL || kb == NULL ||
	    kl == NULL || sets == NULL)
		goto out;
	if (strcmp(rowid, "rowid") == 0) {
		char *c2 = sqlite3_mprintf("rowid, %s", cols);
		char *v2 = sqlite3_mprintf("quote(b.rowid) || ', ' || %s",
		    vals);

		sqlite3_free(cols);
		sqlite3_free(vals);
		cols = c2;
		vals = v2;
	}
	printf("-- %s: %lld rows to delete, %lld to insert, %lld to reset\n"
	    "BEGIN;\n", c->name, (long long)c->only_live,
	    (long long)c->only_backup, (long long)c->changed);
	sel_l = sqlite3_mprintf("'DELETE FROM \"%w\" WHERE ' || %s || ';'",
	    c->name, kl);
	sel_b = sqlite3_mprintf("'INSERT INTO \"%w\"(%s) VALUES(' || %s || "
	    "');'", c->name, cols, vals);
	sel_c = sqlite3_mprintf("'UPDATE \"%w\" SET ' || %s || ' WHERE ' || "
	    "%s || ';'", c->name, sets, kb);
	rc = sel_l == NULL || sel_b == NULL || sel_c == NULL ? -1 :
	    each_change(db, c, sel_l, sel_b, sel_c, NULL);
	sqlite3_free(sel_l);
	sqlite3_free(sel_b);
	sqlite3_free(sel_c);
	printf("COMMIT;\n");
out:
	sqlite3_free(rowid);
	sqlite3_free(cols);
	sqlite3_free(vals);
	sqlite3_free(kb);
	sqlite3_free(kl);
	sqlite3_free(sets);
	return rc;
}

/*
 * --diff-table --json: the rows themselves, an object per row that
 * differs: its change (only-live, only-backup, changed) and the row in
 * the backup and live (null where it has none), each value as SQLite
 * holds it (a BLOB as {"hex": ...}; a rowid table's rowid as "rowid").
 */
static int
table_json(sqlite3 *db, const struct cmp *c)
{
	char *rowid, *ob, *ol, *sel_l, *sel_b, *sel_c;
	int rc = -1, first = 1;

	rowid = vb_table_list(db, c->name, 1, "%.0s%.0s%.0s%s", "");
#define JV(x)	"%Q, json(CASE typeof(" x ".\"%w\") WHEN 'blob' THEN " \
	    "json_object('hex', hex(" x ".\"%w\")) ELSE json_quote(" x \
	    ".\"%w\") END)"
	ob = vb_table_list(db, c->name, 0, JV("b"), ", ");
	ol = vb_table_list(db, c->name, 0, JV("l"), ", ");
#undef JV
	if (rowid == NULL || ob == NULL || ol == NULL)
		goto out;
	if (strcmp(rowid, "rowid") == 0) {
		char *b = sqlite3_mprintf("'rowid', b.rowid, %s", ob);
		char *l = sqlite3_mprintf("'rowid', l.rowid, %s", ol);

		sqlite3_free(ob);
		sqlite3_free(ol);
		ob = b;
		ol = l;
	}
	printf("[");
	sel_l = sqlite3_mprintf("json_object('change', 'only-live', 'backup', "
	    "NULL, 'live', json_object(%s))", ol);
	sel_b = sqlite3_mprintf("json_object('change', 'only-backup', "
	    "'backup', json_object(%s), 'live', NULL)", ob);
	sel_c = sqlite3_mprintf("json_object('change', 'changed', 'backup', "
	    "json_object(%s), 'live', json_object(%s))", ob, ol);
	rc = sel_l == NULL || sel_b == NULL || sel_c == NULL ? -1 :
	    each_change(db, c, sel_l, sel_b, sel_c, &first);
	sqlite3_free(sel_l);
	sqlite3_free(sel_b);
	sqlite3_free(sel_c);
	printf("%s]\n", first ? "" : "\n");
out:
	sqlite3_free(rowid);
	sqlite3_free(ob);
	sqlite3_free(ol);
	return rc;
}

/* --diff-table: table compared, then its statements.  0, or -1 (why). */
static int
one_table(sqlite3 *db, const char *table, int json, char *why, size_t wlen)
{
	struct cmp c;
	int in_b, in_l, rc = -1;

	memset(&c, 0, sizeof(c));
	in_b = vb_db_count(db, sqlite3_mprintf("SELECT count(*) FROM main."
	    "sqlite_schema WHERE type = 'table' AND name = %Q", table)) > 0;
	in_l = vb_db_count(db, sqlite3_mprintf("SELECT count(*) FROM live."
	    "sqlite_schema WHERE type = 'table' AND name = %Q", table)) > 0;
	if (!in_b && !in_l)
		snprintf(why, wlen, "no table %s in the backup or the live "
		    "database", table);
	else if (compare(db, table, in_b, in_l, &c) != 0)
		snprintf(why, wlen, "comparing %s: %s", table,
		    sqlite3_errmsg(db));
	else if (c.key == NULL)
		snprintf(why, wlen, "%s: %s: no statements can make one equal "
		    "the other row by row", table, strcmp(c.state, "schema") ==
		    0 ? c.note : strcmp(c.state, "only-backup") == 0 ?
		    "only the backup has it" : "only the live database has it");
	else if ((rc = json ? table_json(db, &c) : table_sql(db, &c)) != 0)
		snprintf(why, wlen, "%s: %s", table, sqlite3_errmsg(db));
	sqlite3_free(c.key);
	sqlite3_free(c.same);
	return rc;
}

/* The live database attached as "live" to db (rw: for writing).  0,
 * or -1 with why. */
static int
attach_live(sqlite3 *db, const char *live, int rw, char *why, size_t wlen)
{
	char uri[8300];
	char *sql;
	int rc;

	if (vb_db_check_file(live, why, wlen) != 0)
		return -1;
	vb_db_uri(live, rw ? "mode=rw" : "mode=ro", uri, sizeof(uri));
	sql = sqlite3_mprintf("ATTACH %Q AS live", uri);
	rc = sql != NULL ? sqlite3_exec(db, sql, NULL, NULL, NULL) :
	    SQLITE_NOMEM;
	sqlite3_free(sql);
	/* One transaction: one state of the live database (a writer
	 * begins its own, once it has checked what it can). */
	if (rc == SQLITE_OK && !rw)
		rc = sqlite3_exec(db, "BEGIN; SELECT count(*) FROM "
		    "live.sqlite_schema", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		snprintf(why, wlen, "%s: %s", live, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/*
 * The restored copy, never written (immutable); on a connection that may
 * write what it attaches with rw.  NULL with why.
 */
static sqlite3 *
open_copy(const char *copy, int rw, char *why, size_t wlen)
{
	char uri[8300];
	sqlite3 *db = NULL;

	if (!rw)
		return vb_db_open_immutable(copy, why, wlen);
	vb_db_uri(copy, "immutable=1", uri, sizeof(uri));
	if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI,
	    NULL) == SQLITE_OK)
		return db;
	snprintf(why, wlen, "%s: %s", copy, db != NULL ? sqlite3_errmsg(db) :
	    "out of memory");
	sqlite3_close(db);
	return NULL;
}

int
vb_diff_open(const struct vb_diff_opts *o, int rw, sqlite3 **dbp,
    char *work, size_t len, char *why, size_t wlen)
{
	struct vb_restore_result res;
	char copy[4500];
	sqlite3 *db = NULL;

	*dbp = NULL;
	/* A killed diff's or restore's work directory goes first. */
	vb_clean_stale(o->dir, copy, sizeof(copy));
	if (vb_work_make(o->dir, rw ? "restore" : "diff", work, len, why,
	    wlen) != 0)
		return -1;
	vb_path_join(copy, sizeof(copy), work, "backup.db");
	/* Vouched for as a restore would be: the key, else BackupLog. */
	if (vb_restore_work(&(struct vb_restore_opts){ .archive = o->archive,
	    .identity = o->identity, .verify_with = o->verify_with,
	    .logdb = o->db }, o->remote, work, copy, &res) != 0)
		snprintf(why, wlen, "%s", res.why);
	else if ((db = open_copy(copy, rw, why, wlen)) != NULL) {
		vb_db_busy(db);
		if (attach_live(db, o->db, rw, why, wlen) == 0) {
			*dbp = db;
			return 0;
		}
	}
	sqlite3_close(db);
	vb_work_remove(work);
	return -1;
}

int
vb_diff(const struct vb_diff_opts *o, char *why, size_t wlen)
{
	char work[4400];
	sqlite3 *db;
	int rc;

	if (vb_diff_open(o, 0, &db, work, sizeof(work), why, wlen) != 0)
		return -1;
	rc = o->table != NULL ? one_table(db, o->table, o->json, why, wlen) :
	    each_table(db, o->json, why, wlen);
	sqlite3_close(db);
	vb_work_remove(work);
	return rc;
}
