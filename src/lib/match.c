/*
 * match.c - which row is which: how the rows of one table in two
 * databases attached to one connection (a backup and the live one) are
 * told apart and matched, as SQL for the diff, the partial restore and
 * its undo.
 *
 * Names are SQLite's: a table is found whatever the case of its name.
 * A table's declared primary key identifies its rows, compared with IS
 * (a NULL key matches a NULL key); an INTEGER PRIMARY KEY is the rowid.
 * A table without a declared key has no stable identity (VACUUM
 * renumbers its rowids): its rows are a multiset, matched by all their
 * columns, never by rowid.  Two values are the same only if they have
 * the same type and compare equal byte for byte, whatever the column's
 * collation.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "vblib.h"

/* ---- a table's shape ---- */

int
vb_table_find(sqlite3 *db, const char *schema, const char *name,
    char **canon)
{
	sqlite3_stmt *st = NULL;
	char *sql;
	int rc;

	*canon = NULL;
	sql = sqlite3_mprintf("SELECT name FROM \"%w\".sqlite_schema WHERE "
	    "type = 'table' AND name = %Q COLLATE NOCASE", schema, name);
	if (sql == NULL || sqlite3_prepare_v2(db, sql, -1, &st, NULL) !=
	    SQLITE_OK) {
		sqlite3_free(sql);
		return -1;
	}
	sqlite3_free(sql);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*canon = sqlite3_mprintf("%s", sqlite3_column_text(st, 0));
		rc = *canon != NULL ? 1 : -1;
	} else
		rc = rc == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

/* Whether name is one of t's columns (as SQLite compares names). */
static int
is_column(const struct vb_table *t, const char *name)
{
	int i;

	for (i = 0; i < t->ncols; i++)
		if (sqlite3_stricmp(t->cols[i], name) == 0)
			return 1;
	return 0;
}

void
vb_table_spare(const struct vb_table *t, const char *base, char *buf,
    size_t len)
{
	size_t n;

	snprintf(buf, len, "%s", base);
	while (is_column(t, buf) && (n = strlen(buf)) + 1 < len) {
		buf[n] = '_';
		buf[n + 1] = '\0';
	}
}

/*
 * Whether a column declared type may hold equal values of two types (1
 * and 1.0): only one of BLOB affinity (no type, or BLOB), as SQLite's
 * rules give affinity (INT, then CHAR/CLOB/TEXT, then BLOB or none);
 * the others store an equal value one way.
 */
static int
mixed_types(const char *type)
{
	return type == NULL || *type == '\0' || (sqlite3_strlike("%INT%", type,
	    0) != 0 && sqlite3_strlike("%CHAR%", type, 0) != 0 &&
	    sqlite3_strlike("%CLOB%", type, 0) != 0 &&
	    sqlite3_strlike("%TEXT%", type, 0) != 0 &&
	    sqlite3_strlike("%BLOB%", type, 0) == 0);
}

/* t's columns, their key positions and declarations; 0, or -1. */
static int
load_columns(sqlite3 *db, const char *schema, struct vb_table *t)
{
	sqlite3_stmt *st = NULL;
	sqlite3_str *decl = sqlite3_str_new(db);
	char *sql;
	int n = 0, cap = 0, rc = -1;

	sql = sqlite3_mprintf("SELECT name, type, \"notnull\", dflt_value, pk "
	    "FROM pragma_table_info(%Q, %Q) ORDER BY cid", t->name, schema);
	if (sql == NULL || sqlite3_prepare_v2(db, sql, -1, &st, NULL) !=
	    SQLITE_OK)
		goto out;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			char **c;
			int *p, *m;

			cap = cap ? cap * 2 : 16;
			c = sqlite3_realloc64(t->cols, (sqlite3_uint64)cap *
			    sizeof(*c));
			if (c != NULL)
				t->cols = c;
			p = sqlite3_realloc64(t->pk, (sqlite3_uint64)cap *
			    sizeof(*p));
			if (p != NULL)
				t->pk = p;
			m = sqlite3_realloc64(t->mixed, (sqlite3_uint64)cap *
			    sizeof(*m));
			if (m != NULL)
				t->mixed = m;
			if (c == NULL || p == NULL || m == NULL)
				goto out;
		}
		t->cols[n] = sqlite3_mprintf("%s", sqlite3_column_text(st, 0));
		t->pk[n] = sqlite3_column_int(st, 4);
		t->mixed[n] = mixed_types((const char *)
		    sqlite3_column_text(st, 1));
		if (t->cols[n] == NULL)
			goto out;
		if (t->pk[n] > 0)
			t->nkey++;
		t->ncols = ++n;
		sqlite3_str_appendf(decl, "%s|%s|%d|%s|%d\n",
		    sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
		    sqlite3_column_int(st, 2), sqlite3_column_type(st, 3) ==
		    SQLITE_NULL ? "" : (const char *)sqlite3_column_text(st, 3),
		    t->pk[n - 1]);
	}
	rc = n > 0 ? 0 : -1;
out:
	sqlite3_finalize(st);
	sqlite3_free(sql);
	t->decl = vb_str_finish(decl);
	return t->decl != NULL ? rc : -1;
}

/*
 * What kind of table t is (pragma table_list: ordinary, virtual, a
 * virtual table's shadow) and whether it is WITHOUT ROWID.  0, or -1.
 */
static int
table_kind(sqlite3 *db, const char *schema, struct vb_table *t)
{
	char *sql = sqlite3_mprintf("SELECT wr, type FROM pragma_table_list "
	    "WHERE schema = %Q AND name = %Q", schema, t->name);
	sqlite3_stmt *st = NULL;
	const char *type;
	int rc = -1;

	if (sql != NULL && sqlite3_prepare_v2(db, sql, -1, &st, NULL) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		t->without_rowid = sqlite3_column_int(st, 0);
		type = (const char *)sqlite3_column_text(st, 1);
		t->kind = type == NULL ? VB_TABLE_OTHER : strcmp(type,
		    "table") == 0 ? VB_TABLE_ORDINARY : VB_TABLE_OTHER;
		rc = 0;
	}
	sqlite3_finalize(st);
	sqlite3_free(sql);
	return rc;
}

/* The collation of each key column, into t->decl: a key compared
 * otherwise matches other rows, so the schema is not the same. */
static int
key_collations(sqlite3 *db, const char *schema, struct vb_table *t)
{
	char *sql = sqlite3_mprintf("SELECT group_concat(x.name || ' ' || "
	    "x.coll, ', ') FROM pragma_index_list(%Q, %Q) AS l, "
	    "pragma_index_xinfo(l.name, %Q) AS x WHERE l.origin = 'pk' AND "
	    "x.key = 1", t->name, schema, schema);
	char coll[1024] = "", *d;

	if (sql == NULL) {
		sqlite3_free(sql);
		return -1;
	}
	vb_db_text(db, sql, coll, sizeof(coll));
	sqlite3_free(sql);
	if (coll[0] == '\0')
		return 0;
	if ((d = sqlite3_mprintf("%skey collations: %s\n", t->decl, coll)) ==
	    NULL)
		return -1;
	sqlite3_free(t->decl);
	t->decl = d;
	return 0;
}

int
vb_table_load(sqlite3 *db, const char *schema, const char *name,
    struct vb_table *t, char *why, size_t wlen)
{
	static const char *const rowids[] = { "rowid", "_rowid_", "oid" };
	int rc;
	size_t i;

	memset(t, 0, sizeof(*t));
	if ((rc = vb_table_find(db, schema, name, &t->name)) <= 0) {
		if (rc < 0)
			snprintf(why, wlen, "%s: %s", name, sqlite3_errmsg(db));
		return rc < 0 ? -1 : 1;
	}
	if (load_columns(db, schema, t) != 0 || table_kind(db, schema, t) !=
	    0 || key_collations(db, schema, t) != 0) {
		snprintf(why, wlen, "%s: reading its columns: %s", t->name,
		    sqlite3_errmsg(db));
		vb_table_free(t);
		return -1;
	}
	/* The rowid by a name no column takes. */
	for (i = 0; !t->without_rowid && i < 3 && t->rowid == NULL; i++)
		if (!is_column(t, rowids[i]))
			t->rowid = rowids[i];
	return 0;
}

void
vb_table_free(struct vb_table *t)
{
	int i;

	for (i = 0; i < t->ncols; i++)
		sqlite3_free(t->cols[i]);
	sqlite3_free(t->cols);
	sqlite3_free(t->pk);
	sqlite3_free(t->mixed);
	sqlite3_free(t->decl);
	sqlite3_free(t->name);
	memset(t, 0, sizeof(*t));
}

/* ---- SQL over its rows ---- */

/* One column: its name, its place (1-based), two aliases, and whether
 * equal values of two types may sit in it. */
struct piece {
	const char	*c;
	int		 i;
	const char	*a, *b;
	int		 mixed;
};

typedef void	 piece_fn(sqlite3_str *, const struct piece *);

/*
 * The fragments of each column of t (only the key's, in key order, with
 * keys), joined by sep.  NULL when out of memory.
 */
static char *
each(const struct vb_table *t, int keys, const char *sep, piece_fn *fn,
    const char *a, const char *b)
{
	sqlite3_str *s = sqlite3_str_new(NULL);
	struct piece p;
	int i, k, n = 0;

	for (k = 1; k <= (keys ? t->nkey : 1); k++)
		for (i = 0; i < t->ncols; i++) {
			if (keys && t->pk[i] != k)
				continue;
			if (n++ > 0)
				sqlite3_str_appendall(s, sep);
			p = (struct piece){ t->cols[i], i + 1, a, b,
			    t->mixed[i] };
			fn(s, &p);
		}
	return vb_str_finish(s);
}

/* a."c" (a NULL: "c") */
static void
col(sqlite3_str *s, const struct piece *p)
{
	if (p->a != NULL)
		sqlite3_str_appendf(s, "%s.", p->a);
	sqlite3_str_appendf(s, "\"%w\"", p->c);
}

/* a."c" IS b."c": the key's own collation decides. */
static void
is(sqlite3_str *s, const struct piece *p)
{
	sqlite3_str_appendf(s, "%s.\"%w\" IS %s.\"%w\"", p->a, p->c, p->b,
	    p->c);
}

/* The same bytes, and (where 1 and 1.0 may both be) the same type. */
static void
same(sqlite3_str *s, const struct piece *p)
{
	sqlite3_str_appendf(s, "%s.\"%w\" IS %s.\"%w\" COLLATE BINARY", p->a,
	    p->c, p->b, p->c);
	if (p->mixed)
		sqlite3_str_appendf(s, " AND typeof(%s.\"%w\") = "
		    "typeof(%s.\"%w\")", p->a, p->c, p->b, p->c);
}

static void
group(sqlite3_str *s, const struct piece *p)
{
	sqlite3_str_appendf(s, "%s.\"%w\" COLLATE BINARY", p->a, p->c);
	if (p->mixed)
		sqlite3_str_appendf(s, ", typeof(%s.\"%w\")", p->a, p->c);
}

static void
key_param(sqlite3_str *s, const struct piece *p)
{
	sqlite3_str_appendf(s, "\"%w\" IS ?%d", p->c, p->i);
}

static void
row_param(sqlite3_str *s, const struct piece *p)
{
	sqlite3_str_appendf(s, "\"%w\" IS ?%d COLLATE BINARY", p->c, p->i);
	if (p->mixed)
		sqlite3_str_appendf(s, " AND typeof(\"%w\") = typeof(?%d)",
		    p->c, p->i);
}

static void
param(sqlite3_str *s, const struct piece *p)
{
	sqlite3_str_appendf(s, "?%d", p->i);
}

static void
null(sqlite3_str *s, const struct piece *p)
{
	sqlite3_str_appendf(s, "%s.\"%w\" IS NULL", p->a, p->c);
}

char *
vb_sql_cols(const struct vb_table *t, const char *a)
{
	return each(t, 0, ", ", col, a, NULL);
}

char *
vb_sql_key_cols(const struct vb_table *t, const char *a)
{
	return each(t, 1, ", ", col, a, NULL);
}

char *
vb_sql_params(const struct vb_table *t)
{
	return each(t, 0, ", ", param, NULL, NULL);
}

char *
vb_sql_key_null(const struct vb_table *t, const char *a)
{
	return each(t, 1, " OR ", null, a, NULL);
}

char *
vb_sql_key_is(const struct vb_table *t, const char *a, const char *b)
{
	return each(t, 1, " AND ", is, a, b);
}

char *
vb_sql_same(const struct vb_table *t, const char *a, const char *b)
{
	return each(t, 0, " AND ", same, a, b);
}

char *
vb_sql_group(const struct vb_table *t, const char *a)
{
	return each(t, 0, ", ", group, a, NULL);
}

char *
vb_sql_key_params(const struct vb_table *t)
{
	return each(t, t->nkey > 0, " AND ", t->nkey > 0 ? key_param :
	    row_param, NULL, NULL);
}

char *
vb_sql_row_params(const struct vb_table *t)
{
	return each(t, 0, " AND ", row_param, NULL, NULL);
}

/* Two rows of a keyed table share a key under IS (NULLs): how many. */
int64_t
vb_table_ambiguous(sqlite3 *db, const struct vb_table *t, const char *schema)
{
	char *k, *null;
	int64_t n;

	/* WITHOUT ROWID keys are never NULL; the unique index of the key
	 * tells every other key apart unless it holds a NULL. */
	if (t->rowid == NULL)
		return 0;
	k = vb_sql_key_is(t, "x", "y");
	null = vb_sql_key_null(t, "x");
	n = k == NULL || null == NULL ? -1 : vb_db_count(db, sqlite3_mprintf(
	    "SELECT count(*) FROM \"%w\".\"%w\" AS x WHERE (%s) AND EXISTS "
	    "(SELECT 1 FROM \"%w\".\"%w\" AS y WHERE %s AND y.%s <> x.%s)",
	    schema, t->name, null, schema, t->name, k, t->rowid, t->rowid));
	sqlite3_free(k);
	sqlite3_free(null);
	return n;
}

/* ---- copies of a table without a key, found by value ---- */

/*
 * A table without a key has no index that finds a row by its values: a
 * copy of its rowids and values in the temporary schema, indexed, finds
 * each in a lookup instead of a scan (a scan per row is quadratic).
 */
int
vb_copies_open(sqlite3 *db, const struct vb_table *t, struct vb_copies *c,
    char *why, size_t wlen)
{
	char *cols = vb_sql_cols(t, NULL), *eq = vb_sql_row_params(t);
	char *sql[4] = { NULL, NULL, NULL, NULL };
	int i, rc = 0;

	memset(c, 0, sizeof(*c));
	c->db = db;
	vb_table_spare(t, "vb_r", c->r, sizeof(c->r));
	if (cols != NULL && eq != NULL && t->rowid != NULL) {
		sql[0] = sqlite3_mprintf("DROP TABLE IF EXISTS temp.vb_copies; "
		    "CREATE TEMP TABLE vb_copies AS SELECT %s AS \"%w\", %s "
		    "FROM main.\"%w\"; CREATE INDEX temp.vb_copies_i ON "
		    "vb_copies(%s)", t->rowid, c->r, cols, t->name, cols);
		/* The copy's own rowid (no column takes t's name of it)
		 * removes it in a lookup too. */
		sql[1] = sqlite3_mprintf("SELECT \"%w\", %s FROM "
		    "temp.vb_copies WHERE %s LIMIT 1", c->r, t->rowid, eq);
		sql[2] = sqlite3_mprintf("DELETE FROM temp.vb_copies WHERE "
		    "%s = ?1", t->rowid);
	}
	if (sql[0] == NULL || sql[1] == NULL || sql[2] == NULL ||
	    sqlite3_exec(db, sql[0], NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, sql[1], -1, &c->find, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, sql[2], -1, &c->drop, NULL) != SQLITE_OK) {
		snprintf(why, wlen, "%s: indexing its rows: %s", t->name,
		    sqlite3_errmsg(db));
		rc = -1;
	}
	for (i = 0; i < 4; i++)
		sqlite3_free(sql[i]);
	sqlite3_free(cols);
	sqlite3_free(eq);
	c->ncols = t->ncols;
	if (rc != 0)
		vb_copies_close(c);
	return rc;
}

int64_t
vb_copies_take(struct vb_copies *c, sqlite3_value **row)
{
	int64_t r, own;
	int i, rc;

	sqlite3_reset(c->find);
	for (i = 0; i < c->ncols; i++)
		sqlite3_bind_value(c->find, i + 1, row[i]);
	if ((rc = sqlite3_step(c->find)) != SQLITE_ROW)
		return rc == SQLITE_DONE ? -1 : -2;
	r = sqlite3_column_int64(c->find, 0);
	own = sqlite3_column_int64(c->find, 1);
	sqlite3_reset(c->find);
	sqlite3_reset(c->drop);
	sqlite3_bind_int64(c->drop, 1, own);
	return sqlite3_step(c->drop) == SQLITE_DONE ? r : -2;
}

void
vb_copies_close(struct vb_copies *c)
{
	sqlite3_finalize(c->find);
	sqlite3_finalize(c->drop);
	if (c->db != NULL)
		sqlite3_exec(c->db, "DROP TABLE IF EXISTS temp.vb_copies",
		    NULL, NULL, NULL);
	memset(c, 0, sizeof(*c));
}
