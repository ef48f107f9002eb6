/*
 * partial.c - some tables, or some rows, put back from a backup while
 * the rest of the live database stays: vb-restore --table [--where].
 *
 * The promise: it changes only the rows the operator asked for, or
 * nothing.  The backup is verified and restored into a work directory,
 * attached read-only beside the live database, and every table put back
 * in one transaction through SQLite (livetx.c: pre-restore copy, no
 * trigger, foreign keys checked, an undo file of exactly the changes).
 * Rows are matched as match.c says (the declared key with IS, else as a
 * multiset of whole rows).  Without --where a table's content becomes
 * the backup's; with it, the backup's rows that match come back, a live
 * row is changed only if it matches too, and a key reused since by a
 * live row that does not match is a collision that refuses the whole.
 * Each change is written to the changeset before the statement that
 * makes it runs, and the statement must change exactly those rows.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "vblib.h"

/* The schema the backup's copy is attached as. */
#define BAK	"bak"

/* One table put back: both sides' shapes, its condition, its counts. */
struct put {
	const char	*asked;		/* as --table named it */
	const char	*where;		/* its --where, or NULL */
	struct vb_table	 b, l;		/* in the backup, live */
	int		 create;	/* none live: made from the backup's */
	char		*bw, *lw;	/* "a backup / live row matches" */
	int64_t		 n[3];		/* deleted, reset, put back */
};

/* ---- what is asked, checked ---- */

/* The --where's authorizer: it may read the table it filters, only. */
static int
only_table(void *arg, int op, const char *a, const char *b, const char *db,
    const char *inner)
{
	(void)b;
	(void)db;
	(void)inner;
	if (op == SQLITE_READ && a != NULL && sqlite3_stricmp(a, arg) != 0 &&
	    sqlite3_stricmp(a, "sqlite_master") != 0 &&
	    sqlite3_stricmp(a, "sqlite_schema") != 0)
		return SQLITE_DENY;
	return op == SQLITE_SELECT || op == SQLITE_READ || op ==
	    SQLITE_FUNCTION ? SQLITE_OK : SQLITE_DENY;
}

/*
 * Prepares the query of schema.table filtered by where as fmt places it,
 * under an authorizer that lets it read that table only and do nothing
 * else.  Returns 0, or -1 with why.
 */
static int
try_where(sqlite3 *db, const char *schema, const char *table,
    const char *fmt, const char *where, char *why, size_t wlen)
{
	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	char *sql;
	int rc;

	sql = sqlite3_mprintf(fmt, schema, table, where);
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
 * where is one expression on the table's columns: it parses both bare
 * and in parentheses (so "1) OR (1" and "1 LIMIT 1" are refused), on
 * either side.
 */
static int
check_where(sqlite3 *db, const char *schema, const char *table,
    const char *where, char *why, size_t wlen)
{
	return try_where(db, schema, table, "SELECT count(*) FROM "
	    "\"%w\".\"%w\" WHERE (%s)", where, why, wlen) != 0 ||
	    try_where(db, schema, table, "SELECT count(*) FROM \"%w\".\"%w\" "
	    "WHERE %s", where, why, wlen) != 0 ? -1 : 0;
}

/*
 * The row of alias a in schema.t matches where: the condition alone as
 * the WHERE of a query of its own, over the rowid (or a WITHOUT ROWID
 * table's key, never NULL), so that nothing in it reaches beyond.
 */
static char *
matches(const struct vb_table *t, const char *schema, const char *a,
    const char *where)
{
	char *k, *ak, *m;

	if (where == NULL)
		return sqlite3_mprintf("1");
	if (t->rowid != NULL)
		return sqlite3_mprintf("%s.%s IN (SELECT %s FROM \"%w\".\"%w\" "
		    "WHERE (%s))", a, t->rowid, t->rowid, schema, t->name,
		    where);
	k = vb_sql_key_cols(t, NULL);
	ak = vb_sql_key_cols(t, a);
	m = k == NULL || ak == NULL ? NULL : sqlite3_mprintf("(%s) IN (SELECT "
	    "%s FROM \"%w\".\"%w\" WHERE (%s))", ak, k, schema, t->name,
	    where);
	sqlite3_free(k);
	sqlite3_free(ak);
	return m;
}

/* Loads and checks one table asked for, both sides.  0, or -1. */
static int
check_table(sqlite3 *db, struct put *p, char *why, size_t wlen)
{
	int rb, rl;

	vb_table_free(&p->b);
	vb_table_free(&p->l);
	if (strcasecmp(p->asked, "BackupLog") == 0 ||
	    vb_is_sqlite_table(p->asked)) {
		snprintf(why, wlen, "%s: %s", p->asked,
		    vb_is_sqlite_table(p->asked) ? "SQLite's own table: "
		    "never put back" : "BackupLog is vb's history of this "
		    "database: never put back from a backup");
		return -1;
	}
	if ((rb = vb_table_load(db, BAK, p->asked, &p->b, why, wlen)) < 0 ||
	    (rl = vb_table_load(db, "main", p->asked, &p->l, why, wlen)) < 0)
		return -1;
	if (rb == 1) {
		snprintf(why, wlen, "%s: %s", p->asked, rl == 0 ? "the backup "
		    "has no such table (the live database has)" : "no such "
		    "table in the backup or the live database");
		return -1;
	}
	p->create = rl == 1;
	if (p->b.kind != VB_TABLE_ORDINARY || (!p->create && p->l.kind !=
	    VB_TABLE_ORDINARY)) {
		snprintf(why, wlen, "%s: a virtual table (or one SQLite keeps "
		    "for one): its rows are not its own; put back the tables "
		    "it is built from, then rebuild it", p->b.name);
		return -1;
	}
	if (!p->create && strcmp(p->b.decl, p->l.decl) != 0) {
		snprintf(why, wlen, "%s: its columns differ between the backup "
		    "and the live database: put back only a table whose "
		    "schema is unchanged (vb-restore --diff names them)",
		    p->b.name);
		return -1;
	}
	if (p->b.nkey == 0 && p->b.rowid == NULL) {
		snprintf(why, wlen, "%s: no primary key, and columns named "
		    "rowid, _rowid_ and oid: its rows cannot be told apart",
		    p->b.name);
		return -1;
	}
	if (p->where != NULL && (check_where(db, BAK, p->b.name, p->where,
	    why, wlen) != 0 || (!p->create && check_where(db, "main",
	    p->l.name, p->where, why, wlen) != 0)))
		return -1;
	if (p->b.nkey > 0 && (vb_table_ambiguous(db, &p->b, BAK) != 0 ||
	    (!p->create && vb_table_ambiguous(db, &p->l, "main") != 0))) {
		snprintf(why, wlen, "%s: two rows hold the same key (NULL in "
		    "its primary key): which is which cannot be told; put it "
		    "back whole with vb-restore --to", p->b.name);
		return -1;
	}
	return 0;
}

/* Every table asked for checked, none twice.  0, or -1 with why. */
static int
check_all(sqlite3 *db, struct put *p, int n, char *why, size_t wlen)
{
	int i, j;

	for (i = 0; i < n; i++) {
		if (check_table(db, &p[i], why, wlen) != 0)
			return -1;
		for (j = 0; j < i; j++)
			if (sqlite3_stricmp(p[j].b.name, p[i].b.name) == 0) {
				snprintf(why, wlen, "%s: named twice (as %s "
				    "and %s); one --table each, its --where "
				    "after it", p[i].b.name, p[j].asked,
				    p[i].asked);
				return -1;
			}
	}
	return 0;
}

/* ---- a dropped table made again ---- */

/* The table and its indexes, from the backup's schema.  0, or -1. */
static int
create(sqlite3 *db, struct put *p, char *why, size_t wlen)
{
	sqlite3_stmt *st = NULL;
	char *sql;
	int rc;

	sql = sqlite3_mprintf("SELECT sql FROM " BAK ".sqlite_schema WHERE "
	    "tbl_name = %Q AND type IN ('table', 'index') AND sql IS NOT NULL "
	    "ORDER BY type = 'index', rowid", p->b.name);
	if (sql == NULL || sqlite3_prepare_v2(db, sql, -1, &st, NULL) !=
	    SQLITE_OK) {
		sqlite3_free(sql);
		snprintf(why, wlen, "%s: %s", p->b.name, sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_free(sql);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (sqlite3_exec(db, (const char *)sqlite3_column_text(st, 0),
		    NULL, NULL, NULL) != SQLITE_OK)
			break;
	if (rc != SQLITE_DONE)
		snprintf(why, wlen, "%s: making it again from the backup's "
		    "schema: %s", p->b.name, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	vb_table_free(&p->l);
	return vb_table_load(db, "main", p->b.name, &p->l, why, wlen) == 0 ?
	    0 : -1;
}

/* ---- the changes: recorded, then made ---- */

/*
 * Writes each row of sql (freed) to the changeset as op: its first
 * ncols columns the old row (with old), the next the new.  Returns how
 * many, or -1 with why.
 */
static int64_t
record(struct vb_livetx *x, char *sql, int op, int old, int new,
    char *why, size_t wlen)
{
	sqlite3_value *v[2 * VB_MAX_COLUMNS];
	sqlite3_stmt *st = NULL;
	int64_t n = 0;
	int i, rc, nc = x->cs.ncols;

	if (sql == NULL || sqlite3_prepare_v2(x->db, sql, -1, &st, NULL) !=
	    SQLITE_OK) {
		snprintf(why, wlen, "%s", sqlite3_errmsg(x->db));
		sqlite3_free(sql);
		return -1;
	}
	sqlite3_free(sql);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (i = 0; i < (old + new) * nc; i++)
			v[i] = sqlite3_column_value(st, i);
		vb_cs_change(&x->cs, op, old ? v : NULL, new ? v + (old ?
		    nc : 0) : NULL);
		n++;
	}
	if (rc != SQLITE_DONE) {
		snprintf(why, wlen, "%s", sqlite3_errmsg(x->db));
		n = -1;
	}
	sqlite3_finalize(st);
	return n;
}

/* Runs sql (freed), which must change exactly want rows.  0, or -1. */
static int
make(sqlite3 *db, char *sql, int64_t want, char *why, size_t wlen)
{
	int rc;

	rc = sql != NULL ? sqlite3_exec(db, sql, NULL, NULL, NULL) :
	    SQLITE_NOMEM;
	sqlite3_free(sql);
	if (rc != SQLITE_OK) {
		snprintf(why, wlen, "%s", sqlite3_errmsg(db));
		return -1;
	}
	if (sqlite3_changes64(db) != want) {
		snprintf(why, wlen, "%lld rows changed where %lld were "
		    "recorded: nothing is changed", (long long)
		    sqlite3_changes64(db), (long long)want);
		return -1;
	}
	return 0;
}

/* The SQL fragments of a keyed table's put back. */
struct frag {
	char	*key;		/* b's key IS l's */
	char	*same;		/* b's row is l's */
	char	*cols, *bcols, *lcols;
};

static void
frag_free(struct frag *f)
{
	sqlite3_free(f->key);
	sqlite3_free(f->same);
	sqlite3_free(f->cols);
	sqlite3_free(f->bcols);
	sqlite3_free(f->lcols);
}

/*
 * A keyed table with --where: backup rows that match whose key a live
 * row that does not match holds.  Refused, naming how many and the first
 * keys.  Returns 0 (none), or -1 with why.
 */
static int
collisions(struct vb_livetx *x, struct put *p, const struct frag *f,
    char *why, size_t wlen)
{
	char *kq = NULL, *from, *q = NULL;
	char first[512] = "";
	int64_t n;
	int i;

	if (p->where == NULL)
		return 0;
	from = sqlite3_mprintf("FROM " BAK ".\"%w\" AS b JOIN main.\"%w\" AS "
	    "l ON %s WHERE %s AND NOT (%s)", p->b.name, p->l.name, f->key,
	    p->bw, p->lw);
	n = from == NULL ? -1 : vb_db_count(x->db, sqlite3_mprintf("SELECT "
	    "count(*) %s", from));
	if (n == 0 || n < 0) {
		if (n < 0)
			snprintf(why, wlen, "%s: %s", p->b.name,
			    sqlite3_errmsg(x->db));
		sqlite3_free(from);
		return n == 0 ? 0 : -1;
	}
	/* The first keys, as SQL literals. */
	for (i = 0; i < p->b.ncols; i++)
		if (p->b.pk[i] > 0) {
			char *k = sqlite3_mprintf("%s%squote(b.\"%w\")", kq !=
			    NULL ? kq : "", kq != NULL ? " || ', ' || " : "",
			    p->b.cols[i]);

			sqlite3_free(kq);
			kq = k;
		}
	if (kq != NULL && (q = sqlite3_mprintf("SELECT group_concat('(' || k "
	    "|| ')', ' ') FROM (SELECT %s AS k %s LIMIT 3)", kq, from)) !=
	    NULL)
		vb_db_text(x->db, q, first, sizeof(first));
	sqlite3_free(q);
	snprintf(why, wlen, "%s: %lld of the backup's rows matching --where "
	    "have their key held by a live row that does not match it (a key "
	    "reused since): %s%s; putting them back would overwrite those "
	    "rows: refused, nothing changed", p->b.name, (long long)n, first,
	    n > 3 ? " ..." : "");
	sqlite3_free(kq);
	sqlite3_free(from);
	return -1;
}

/* A keyed table: the changes, recorded, then made.  0, or -1. */
static int
put_keyed(struct vb_livetx *x, struct put *p, char *why, size_t wlen)
{
	struct frag f = { vb_sql_key_is(&p->b, "b", "l"),
	    vb_sql_same(&p->b, "b", "l"), vb_sql_cols(&p->b, NULL),
	    vb_sql_cols(&p->b, "b"), vb_sql_cols(&p->b, "l") };
	const char *t = p->l.name, *bt = p->b.name;
	int rc = -1;

	if (f.key == NULL || f.same == NULL || f.cols == NULL ||
	    f.bcols == NULL || f.lcols == NULL) {
		snprintf(why, wlen, "out of memory");
		goto out;
	}
	if (collisions(x, p, &f, why, wlen) != 0)
		goto out;
	/* Live rows the backup has no row for: only without --where. */
	if (p->where == NULL && ((p->n[0] = record(x, sqlite3_mprintf("SELECT "
	    "%s FROM main.\"%w\" AS l WHERE NOT EXISTS (SELECT 1 FROM "
	    BAK ".\"%w\" AS b WHERE %s)", f.lcols, t, bt, f.key),
	    SQLITE_DELETE, 1, 0, why, wlen)) < 0 || make(x->db,
	    sqlite3_mprintf("DELETE FROM main.\"%w\" AS l WHERE NOT EXISTS "
	    "(SELECT 1 FROM " BAK ".\"%w\" AS b WHERE %s)", t, bt, f.key),
	    p->n[0], why, wlen) != 0))
		goto out;
	/* Rows both have, changed since (both matching --where). */
	if ((p->n[1] = record(x, sqlite3_mprintf("SELECT %s, %s FROM "
	    BAK ".\"%w\" AS b JOIN main.\"%w\" AS l ON %s WHERE %s AND %s AND "
	    "NOT (%s)", f.lcols, f.bcols, bt, t, f.key, p->bw, p->lw,
	    f.same), SQLITE_UPDATE, 1, 1, why, wlen)) < 0 || make(x->db,
	    sqlite3_mprintf("UPDATE main.\"%w\" AS l SET (%s) = (SELECT %s "
	    "FROM " BAK ".\"%w\" AS b WHERE %s) WHERE %s AND EXISTS (SELECT 1 "
	    "FROM " BAK ".\"%w\" AS b WHERE %s AND %s AND NOT (%s))", t,
	    f.cols, f.bcols, bt, f.key, p->lw, bt, f.key, p->bw, f.same),
	    p->n[1], why, wlen) != 0)
		goto out;
	/* The backup's rows no live row has the key of. */
	if ((p->n[2] = record(x, sqlite3_mprintf("SELECT %s FROM " BAK
	    ".\"%w\" AS b WHERE %s AND NOT EXISTS (SELECT 1 FROM main.\"%w\" "
	    "AS l WHERE %s)", f.bcols, bt, p->bw, t, f.key), SQLITE_INSERT, 0,
	    1, why, wlen)) < 0 || make(x->db, sqlite3_mprintf("INSERT INTO "
	    "main.\"%w\"(%s) SELECT %s FROM " BAK ".\"%w\" AS b WHERE %s AND "
	    "NOT EXISTS (SELECT 1 FROM main.\"%w\" AS l WHERE %s)", t, f.cols,
	    f.bcols, bt, p->bw, t, f.key), p->n[2], why, wlen) != 0)
		goto out;
	rc = 0;
out:
	frag_free(&f);
	return rc;
}

/*
 * A table without a key, a multiset: for each distinct row, as many
 * copies as the backup holds (with --where, of the rows that match: only
 * the missing copies put back).  The differences counted first into a
 * temporary table, then each copy recorded and made.  0, or -1.
 * (long: the temporary table of differences made, read and dropped on every
 * path in one place)
 */
static int
put_multiset(struct vb_livetx *x, struct put *p, char *why, size_t wlen)
{
	char *cols = vb_sql_cols(&p->b, NULL), *bc = vb_sql_cols(&p->b, "b");
	char *lc = vb_sql_cols(&p->b, "l"), *g = vb_sql_group(&p->b, "u");
	char *eq = vb_sql_row_params(&p->b), *uc = vb_sql_cols(&p->b, "u");
	char *qs = vb_sql_params(&p->b);
	char *ins = NULL, *del = NULL, *q = NULL;
	sqlite3_stmt *each = NULL, *si = NULL, *sd = NULL;
	sqlite3_value *v[VB_MAX_COLUMNS];
	struct vb_copies cp;
	char nb[64], nl[64];
	int i, nc = p->b.ncols, rc = -1;
	int64_t k, d, r;

	memset(&cp, 0, sizeof(cp));
	if (cols == NULL || bc == NULL || lc == NULL || g == NULL ||
	    eq == NULL || uc == NULL || qs == NULL)
		goto sql;
	sqlite3_exec(x->db, "DROP TABLE IF EXISTS temp.vb_ms", NULL, NULL,
	    NULL);
	/* The counters' names: none of the table's columns. */
	vb_table_spare(&p->b, "vb_nb", nb, sizeof(nb));
	vb_table_spare(&p->b, "vb_nl", nl, sizeof(nl));
	q = sqlite3_mprintf("CREATE TEMP TABLE vb_ms AS SELECT %s, sum(\"%w\") "
	    "- sum(\"%w\") FROM (SELECT %s, 1 AS \"%w\", 0 AS \"%w\" FROM " BAK
	    ".\"%w\" AS b WHERE (%s) UNION ALL SELECT %s, 0, 1 FROM "
	    "main.\"%w\" AS l) AS u GROUP BY %s HAVING sum(\"%w\") %s "
	    "sum(\"%w\")", uc, nb, nl, bc, nb, nl, p->b.name, p->where !=
	    NULL ? p->where : "1", lc, p->l.name, g, nb, p->where != NULL ?
	    ">" : "<>", nl);
	if (q == NULL || sqlite3_exec(x->db, q, NULL, NULL, NULL) != SQLITE_OK)
		goto sql;
	ins = sqlite3_mprintf("INSERT INTO main.\"%w\"(%s) VALUES(%s)",
	    p->l.name, cols, qs);
	del = sqlite3_mprintf("DELETE FROM main.\"%w\" WHERE %s = ?1",
	    p->l.name, p->l.rowid);
	if (ins == NULL || del == NULL || sqlite3_prepare_v2(x->db, "SELECT * "
	    "FROM temp.vb_ms", -1, &each, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(x->db, ins, -1, &si, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(x->db, del, -1, &sd, NULL) != SQLITE_OK)
		goto sql;
	/* Copies to delete are found by value through an index. */
	if (p->where == NULL && vb_copies_open(x->db, &p->l, &cp, why,
	    wlen) != 0)
		goto out;
	while (sqlite3_step(each) == SQLITE_ROW) {
		d = sqlite3_column_int64(each, nc);
		for (i = 0; i < nc; i++) {
			v[i] = sqlite3_column_value(each, i);
			sqlite3_bind_value(si, i + 1, v[i]);
		}
		for (k = 0; k < (d < 0 ? -d : d); k++) {
			sqlite3_stmt *s = d < 0 ? sd : si;

			vb_cs_change(&x->cs, d < 0 ? SQLITE_DELETE :
			    SQLITE_INSERT, d < 0 ? v : NULL, d < 0 ? NULL : v);
			if (d < 0 && (r = vb_copies_take(&cp, v)) < 0) {
				snprintf(why, wlen, "%s: a copy to delete was "
				    "not found", p->b.name);
				goto out;
			}
			if (d < 0)
				sqlite3_bind_int64(sd, 1, r);
			if (sqlite3_step(s) != SQLITE_DONE ||
			    sqlite3_changes64(x->db) != 1)
				goto sql;
			sqlite3_reset(s);
			p->n[d < 0 ? 0 : 2]++;
		}
	}
	rc = 0;
	goto out;
sql:
	snprintf(why, wlen, "%s: %s", p->b.name, sqlite3_errmsg(x->db));
out:
	vb_copies_close(&cp);
	sqlite3_finalize(each);
	sqlite3_finalize(si);
	sqlite3_finalize(sd);
	sqlite3_exec(x->db, "DROP TABLE IF EXISTS temp.vb_ms", NULL, NULL,
	    NULL);
	sqlite3_free(q);
	sqlite3_free(ins);
	sqlite3_free(del);
	sqlite3_free(cols);
	sqlite3_free(bc);
	sqlite3_free(lc);
	sqlite3_free(g);
	sqlite3_free(eq);
	sqlite3_free(uc);
	sqlite3_free(qs);
	return rc;
}

/* One table put back, in the open transaction.  0, or -1 with why. */
static int
put_back(struct vb_livetx *x, struct put *p, char *why, size_t wlen)
{
	char w[1024];

	if (p->create && create(x->db, p, w, sizeof(w)) != 0) {
		snprintf(why, wlen, "%s", w);
		return -1;
	}
	if (p->b.ncols > VB_MAX_COLUMNS) {
		snprintf(why, wlen, "%s: more than %d columns", p->b.name,
		    VB_MAX_COLUMNS);
		return -1;
	}
	p->bw = matches(&p->b, BAK, "b", p->where);
	p->lw = matches(&p->l, "main", "l", p->where);
	if (p->bw == NULL || p->lw == NULL) {
		snprintf(why, wlen, "out of memory");
		return -1;
	}
	vb_cs_table(&x->cs, &p->l);
	if ((p->b.nkey > 0 ? put_keyed(x, p, w, sizeof(w)) :
	    put_multiset(x, p, w, sizeof(w))) != 0) {
		snprintf(why, wlen, "%s (putting back %s)", w, p->b.name);
		return -1;
	}
	return 0;
}

/* ---- the whole ---- */

/* The message: each table's counts, what from, the copies made. */
static void
say(const struct vb_partial_opts *o, const struct put *p, int n,
    const struct vb_livetx *x, int64_t fk, struct vb_partial_result *res)
{
	sqlite3_str *m = sqlite3_str_new(NULL);
	char *s;
	int i;

	for (i = 0; i < n; i++) {
		sqlite3_str_appendf(m, "%s%s: %lld put back, %lld deleted, "
		    "%lld reset", i > 0 ? "; " : "", p[i].b.name,
		    (long long)p[i].n[2], (long long)p[i].n[0],
		    (long long)p[i].n[1]);
		if (p[i].create)
			sqlite3_str_appendall(m, " (the table made again)");
		if (p[i].where != NULL)
			sqlite3_str_appendf(m, " where %s", p[i].where);
		res->put_back += p[i].n[2];
		res->deleted += p[i].n[0];
		res->reset += p[i].n[1];
	}
	if (fk > 0)
		sqlite3_str_appendf(m, "; %lld foreign key violations kept "
		    "(--force)", (long long)fk);
	sqlite3_str_appendf(m, " from %s", o->archive);
	/* The copy named as fields too: BackupLog's seal of it. */
	if (x->saved[0] != '\0')
		sqlite3_str_appendf(m, "; pre-restore copy: %s; saved=%s; "
		    "saved-sha256=%s", x->saved, strrchr(x->saved, '/') !=
		    NULL ? strrchr(x->saved, '/') + 1 : x->saved, x->saved_sha);
	/* Read back by the undo (vb_msg_field): undo= last, a path. */
	if (x->undo[0] != '\0')
		sqlite3_str_appendf(m, "; undo-sha256=%s; undo=%s",
		    x->undo_sha, x->undo);
	s = vb_str_finish(m);
	snprintf(res->message, sizeof(res->message), "%s", s != NULL ? s :
	    "out of memory");
	sqlite3_free(s);
}

/* Checked, begun, put back, checked again, committed.  0, or -1. */
static int
run(struct vb_livetx *x, const struct vb_partial_opts *o, struct put *p,
    struct vb_partial_result *res)
{
	char *names[VB_MAX_TABLES];
	int64_t fk;
	int i;

	if (check_all(x->db, p, o->ntables, res->why, sizeof(res->why)) != 0 ||
	    vb_livetx_begin(x, o->dry, res->note, sizeof(res->note), res->why,
	    sizeof(res->why)) != 0)
		return -1;
	/* Inside the transaction, on the state it will change. */
	if (check_all(x->db, p, o->ntables, res->why, sizeof(res->why)) != 0)
		return -1;
	for (i = 0; i < o->ntables; i++) {
		if (put_back(x, &p[i], res->why, sizeof(res->why)) != 0)
			return -1;
		names[i] = p[i].l.name;
	}
	if ((fk = vb_livetx_fk(x, names, o->ntables, res->why,
	    sizeof(res->why))) < 0 || (fk > 0 && !o->force))
		return -1;
	res->violations = fk;
	if (vb_livetx_seal(x, res->why, sizeof(res->why)) != 0)
		return -1;
	snprintf(res->saved, sizeof(res->saved), "%s", x->saved);
	snprintf(res->undo, sizeof(res->undo), "%s", x->undo);
	say(o, p, o->ntables, x, fk, res);
	vb_livetx_record(x, res->message, &res->record);
	return vb_livetx_commit(x, &res->record, res->why, sizeof(res->why));
}

int
vb_partial(const struct vb_partial_opts *o, struct vb_partial_result *res)
{
	struct vb_restore_result rr;
	struct vb_manifest m;
	struct vb_livetx x;
	struct put p[VB_MAX_TABLES];
	char work[4400], copy[4500];
	int i, rc = -1;

	memset(res, 0, sizeof(*res));
	memset(p, 0, sizeof(p));
	memset(&x, 0, sizeof(x));
	if (o->ntables < 1 || o->ntables > VB_MAX_TABLES) {
		snprintf(res->why, sizeof(res->why), "1 to %d tables",
		    VB_MAX_TABLES);
		return -1;
	}
	for (i = 0; i < o->ntables; i++) {
		p[i].asked = o->tables[i].name;
		p[i].where = o->tables[i].where;
	}
	/* A killed restore's work directory goes first. */
	vb_clean_stale(o->dir, copy, sizeof(copy));
	if (vb_work_make(o->dir, "restore", work, sizeof(work), res->why,
	    sizeof(res->why)) != 0)
		return -1;
	vb_path_join(copy, sizeof(copy), work, "backup.db");
	/* Vouched for as a restore would be: the key, else BackupLog. */
	memset(&m, 0, sizeof(m));
	if (vb_restore_work(&(struct vb_restore_opts){ .archive = o->archive,
	    .identity = o->identity, .verify_with = o->verify_with,
	    .logdb = o->db, .unrecorded = o->unrecorded, .manifest = &m },
	    o->remote, work, copy, &rr) != 0)
		snprintf(res->why, sizeof(res->why), "%s", rr.why);
	/* Another database's backup: only knowingly, as --db. */
	else if (!o->force && vb_same_database(o->db, &m, res->why,
	    sizeof(res->why)) != 0)
		;
	else if (vb_livetx_open(&x, o->db, o->dir, work, res->why,
	    sizeof(res->why)) == 0 && vb_livetx_attach(&x, copy, BAK,
	    res->why, sizeof(res->why)) == 0)
		rc = run(&x, o, p, res);
	vb_livetx_close(&x);
	for (i = 0; i < o->ntables; i++) {
		vb_table_free(&p[i].b);
		vb_table_free(&p[i].l);
		sqlite3_free(p[i].bw);
		sqlite3_free(p[i].lw);
	}
	vb_work_remove(work);
	return rc;
}
