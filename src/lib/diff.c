/*
 * diff.c - what changed since a backup: vb-restore --diff.
 *
 * The backup is verified and restored as vb-restore --to restores it
 * (chain, age, the remote) into a work directory beside the backups,
 * then compared with the live database, which is ATTACHed read-only and
 * read in one transaction (one consistent state of it), table by table:
 * rows only in the backup, only live, and changed, matched as a partial
 * restore matches them (match.c: the declared key with IS, else whole
 * rows as a multiset, whose rows are never "changed"); tables and
 * columns that differ.  Set queries (NOT EXISTS and a join on the key,
 * which use the key's index; a grouping for a multiset) stream the
 * rows, so memory stays bounded on a GiB; sqlite3session_diff would
 * hold the whole changeset in memory and ignores tables without a
 * primary key.  BackupLog is never compared (it is vb's, and only
 * grows).  What it prints goes to a file in the work directory first
 * and to stdout only once all of it was made: on an error, nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sqlite3.h>

#include "vblib.h"

/* One table's comparison. */
struct cmp {
	const char	*name;		/* as listed */
	const char	*state;		/* same, differs, schema, only-backup,
					   only-live */
	char		 note[512];	/* schema: what differs */
	int64_t		 backup_rows, live_rows;
	int64_t		 only_backup, only_live, changed;
	int		 counted;	/* the three above are known */
	struct vb_table	 b, l;		/* both sides' shapes */
	char		*key;		/* b's key IS l's (keyed) */
	char		*same;		/* b's row is l's */
};

static void
cmp_free(struct cmp *c)
{
	vb_table_free(&c->b);
	vb_table_free(&c->l);
	sqlite3_free(c->key);
	sqlite3_free(c->same);
}

/* ---- the rows ---- */

/* The rows of schema.name, or -1. */
static int64_t
rows_in(sqlite3 *db, const char *schema, const char *name)
{
	return vb_db_count(db, sqlite3_mprintf("SELECT count(*) FROM "
	    "%s.\"%w\"", schema, name));
}

/*
 * A multiset's differences: each distinct row with how many copies the
 * backup has more than live (negative: fewer), those that differ only:
 * a query (to sqlite3_free) yielding the row's columns then the count.
 */
static char *
multiset_sql(const struct cmp *c)
{
	char *uc = vb_sql_cols(&c->b, "u"), *bc = vb_sql_cols(&c->b, "b");
	char *lc = vb_sql_cols(&c->b, "l"), *g = vb_sql_group(&c->b, "u");
	char nb[64], nl[64], d[64], *q = NULL;

	/* The counters' names: none of the table's columns. */
	vb_table_spare(&c->b, "vb_nb", nb, sizeof(nb));
	vb_table_spare(&c->b, "vb_nl", nl, sizeof(nl));
	vb_table_spare(&c->b, "vb_d", d, sizeof(d));
	if (uc != NULL && bc != NULL && lc != NULL && g != NULL)
		q = sqlite3_mprintf("SELECT %s, sum(\"%w\") - sum(\"%w\") AS "
		    "\"%w\" FROM (SELECT %s, 1 AS \"%w\", 0 AS \"%w\" FROM "
		    "main.\"%w\" AS b UNION ALL SELECT %s, 0, 1 FROM "
		    "live.\"%w\" AS l) AS u GROUP BY %s HAVING sum(\"%w\") <> "
		    "sum(\"%w\")",
		    uc, nb, nl, d, bc, nb, nl, c->b.name, lc, c->l.name, g, nb,
		    nl);
	sqlite3_free(uc);
	sqlite3_free(bc);
	sqlite3_free(lc);
	sqlite3_free(g);
	return q;
}

/* The counts of a multiset: copies only in the backup, only live. */
static int
multiset_counts(sqlite3 *db, struct cmp *c)
{
	sqlite3_stmt *st;
	char *q = multiset_sql(c);
	int64_t d;
	int rc;

	if (q == NULL || sqlite3_prepare_v2(db, q, -1, &st, NULL) !=
	    SQLITE_OK) {
		sqlite3_free(q);
		return -1;
	}
	sqlite3_free(q);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		d = sqlite3_column_int64(st, c->b.ncols);
		if (d > 0)
			c->only_backup += d;
		else
			c->only_live -= d;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The counts of a table both databases hold alike. */
static int
rows(sqlite3 *db, struct cmp *c)
{
	c->backup_rows = rows_in(db, "main", c->b.name);
	c->live_rows = rows_in(db, "live", c->l.name);
	c->same = vb_sql_same(&c->b, "b", "l");
	if (c->backup_rows < 0 || c->live_rows < 0 || c->same == NULL)
		return -1;
	if (c->b.nkey == 0) {
		if (multiset_counts(db, c) != 0)
			return -1;
	} else {
		if ((c->key = vb_sql_key_is(&c->b, "b", "l")) == NULL)
			return -1;
		c->only_backup = vb_db_count(db, sqlite3_mprintf("SELECT "
		    "count(*) FROM main.\"%w\" AS b WHERE NOT EXISTS (SELECT 1 "
		    "FROM live.\"%w\" AS l WHERE %s)", c->b.name, c->l.name,
		    c->key));
		c->only_live = vb_db_count(db, sqlite3_mprintf("SELECT "
		    "count(*) FROM live.\"%w\" AS l WHERE NOT EXISTS (SELECT 1 "
		    "FROM main.\"%w\" AS b WHERE %s)", c->l.name, c->b.name,
		    c->key));
		c->changed = vb_db_count(db, sqlite3_mprintf("SELECT count(*) "
		    "FROM main.\"%w\" AS b JOIN live.\"%w\" AS l ON %s WHERE "
		    "NOT (%s)", c->b.name, c->l.name, c->key, c->same));
		if (c->only_backup < 0 || c->only_live < 0 || c->changed < 0)
			return -1;
	}
	c->counted = 1;
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
		if ((sql = sqlite3_mprintf(q[i], i == 1 ? c->l.name : c->b.name,
		    i == 1 ? c->b.name : c->l.name)) != NULL)
			vb_db_text(db, sql, which[i], sizeof(which[i]));
		sqlite3_free(sql);
	}
	snprintf(c->note, sizeof(c->note), "its columns differ between the "
	    "backup and the live database:%s%s%s%s%s%s%s",
	    which[0][0] != '\0' ? " only in the backup: " : "", which[0],
	    which[1][0] != '\0' ? " only live: " : "", which[1],
	    which[2][0] != '\0' ? " declared otherwise or moved: " : "",
	    which[2], which[0][0] == '\0' && which[1][0] == '\0' &&
	    which[2][0] == '\0' ? " its key is compared otherwise (another "
	    "collation)" : "");
}

/* Compares table name (either side, any case); c filled.  0, or -1. */
static int
compare(sqlite3 *db, const char *name, struct cmp *c, char *why,
    size_t wlen)
{
	int in_b, in_l;

	memset(c, 0, sizeof(*c));
	c->name = name;
	c->backup_rows = c->live_rows = -1;
	if ((in_b = vb_table_load(db, "main", name, &c->b, why, wlen)) < 0 ||
	    (in_l = vb_table_load(db, "live", name, &c->l, why, wlen)) < 0)
		return -1;
	in_b = !in_b;
	in_l = !in_l;
	if (!in_b && !in_l) {
		snprintf(why, wlen, "no table %s in the backup or the live "
		    "database", name);
		return -1;
	}
	if (!in_l || !in_b) {
		c->state = in_b ? "only-backup" : "only-live";
		c->backup_rows = !in_b ? -1 : rows_in(db, "main", c->b.name);
		c->live_rows = !in_l ? -1 : rows_in(db, "live", c->l.name);
		return 0;
	}
	if (strcmp(c->b.decl, c->l.decl) != 0) {
		c->state = "schema";
		c->backup_rows = rows_in(db, "main", c->b.name);
		c->live_rows = rows_in(db, "live", c->l.name);
		schema_note(db, c);
		return 0;
	}
	/* Rows with no identity of their own are not compared. */
	if (c->b.kind != VB_TABLE_ORDINARY || (c->b.nkey > 0 &&
	    (vb_table_ambiguous(db, &c->b, "main") != 0 ||
	    vb_table_ambiguous(db, &c->l, "live") != 0))) {
		c->state = c->b.kind != VB_TABLE_ORDINARY ? "virtual" :
		    "ambiguous";
		c->backup_rows = rows_in(db, "main", c->b.name);
		c->live_rows = rows_in(db, "live", c->l.name);
		snprintf(c->note, sizeof(c->note), "%s", c->b.kind !=
		    VB_TABLE_ORDINARY ? "a virtual table: its rows are not "
		    "its own; compare the tables it is built from" : "two "
		    "rows hold the same key (NULL in it): which is which "
		    "cannot be told");
		return 0;
	}
	if (rows(db, c) == 0)
		return 0;
	snprintf(why, wlen, "comparing %s: %s", name, sqlite3_errmsg(db));
	return -1;
}

/* ---- the output ---- */

static void
show(struct vb_list *out, const struct cmp *c)
{
	char name[1024];

	switch (out->form) {
	case VB_LIST_JSON:
		vb_list_object(out);
		vb_list_str(out, "table", c->name);
		vb_list_str(out, "state", c->state);
		vb_list_int(out, "backup_rows", c->backup_rows,
		    c->backup_rows >= 0);
		vb_list_int(out, "live_rows", c->live_rows, c->live_rows >= 0);
		vb_list_int(out, "only_backup", c->only_backup, c->counted);
		vb_list_int(out, "only_live", c->only_live, c->counted);
		vb_list_int(out, "changed", c->changed, c->counted);
		vb_list_str(out, "note", c->note[0] != '\0' ? c->note : NULL);
		return;
	case VB_LIST_TABLE:
		if (!c->counted) {
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
		/* Fields: a TAB or newline in a name would break them. */
		snprintf(name, sizeof(name), "%s", c->name);
		vb_clean_field(name);
		printf("%s\t%s\t%lld\t%lld\t%lld\t%lld\t%lld\t%s\n", name,
		    c->state, (long long)c->backup_rows,
		    (long long)c->live_rows, c->counted ?
		    (long long)c->only_backup : -1LL, c->counted ?
		    (long long)c->only_live : -1LL, c->counted ?
		    (long long)c->changed : -1LL, c->note[0] != '\0' ?
		    c->note : "-");
	}
}

/*
 * The tables of either database, but vb's BackupLog and SQLite's own,
 * each once whatever its case on each side (named as live spells it),
 * in order.
 */
#define TABLES_SQL \
	"SELECT coalesce(max(CASE WHEN l THEN name END), max(name)) FROM (" \
	"SELECT name, 0 AS l FROM main.sqlite_schema WHERE type = " \
	"'table' UNION ALL SELECT name, 1 FROM live.sqlite_schema WHERE " \
	"type = 'table') WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND " \
	"name <> 'BackupLog' COLLATE NOCASE GROUP BY name COLLATE NOCASE " \
	"ORDER BY name COLLATE NOCASE"

/* Every table compared and shown as form says; 0, or -1 with why. */
static int
each_table(sqlite3 *db, enum vb_list_form form, char *why, size_t wlen)
{
	struct vb_list out;
	sqlite3_stmt *st;
	struct cmp c;
	int rc = 0, step;

	if (sqlite3_prepare_v2(db, TABLES_SQL, -1, &st, NULL) != SQLITE_OK) {
		snprintf(why, wlen, "%s", sqlite3_errmsg(db));
		return -1;
	}
	vb_list_begin_form(&out, form);
	if (out.form == VB_LIST_TABLE)
		printf("%-24s  %-11s  %12s  %12s  %10s  %10s  %10s\n", "table",
		    "state", "backup rows", "live rows", "only backup",
		    "only live", "changed");
	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = compare(db, (const char *)sqlite3_column_text(st, 0),
		    &c, why, wlen)) == 0)
			show(&out, &c);
		cmp_free(&c);
	}
	if (rc == 0 && step != SQLITE_DONE) {
		snprintf(why, wlen, "listing the tables: %s",
		    sqlite3_errmsg(db));
		rc = -1;
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
 * The SQL literal of a."c" as an expression: quote()'s, but a text
 * holding a NUL (which quote() cuts there) spelled out in hex.
 */
static void
literal(sqlite3_str *s, const char *a, const char *c)
{
	sqlite3_str_appendf(s, "CASE WHEN typeof(%s.\"%w\") = 'text' AND "
	    "instr(CAST(%s.\"%w\" AS BLOB), X'00') > 0 THEN 'CAST(X''' || "
	    "hex(%s.\"%w\") || ''' AS TEXT)' ELSE quote(%s.\"%w\") END", a, c,
	    a, c, a, c, a, c);
}

/*
 * An SQL expression of the text that names column c of alias a's row in
 * a statement: '"c" = ' || quote(a."c"), the column's name quoted as an
 * identifier, that quoted as a literal (so any name is safe); sep joins
 * them.  Over key columns only with keys (IS: a NULL key is one).
 */
static char *
assigns(const struct vb_table *t, const char *a, int keys, const char *op,
    const char *sep)
{
	sqlite3_str *s = sqlite3_str_new(NULL);
	char *id, *lit;
	int i, k, n = 0;
	/* A whole row without a key: its bytes, whatever the collation. */
	int binary = !keys && strcmp(op, "IS") == 0;

	for (k = 1; k <= (keys ? t->nkey : 1); k++)
		for (i = 0; i < t->ncols; i++) {
			if (keys && t->pk[i] != k)
				continue;
			id = sqlite3_mprintf("%s\"%w\" %s ", n++ > 0 ? sep : "",
			    t->cols[i], op);
			lit = sqlite3_mprintf("%Q", id != NULL ? id : "");
			sqlite3_str_appendf(s, "%s%s || ", n > 1 ? " || " : "",
			    lit != NULL ? lit : "''");
			literal(s, a, t->cols[i]);
			if (binary)
				sqlite3_str_appendall(s, " || ' COLLATE "
				    "BINARY'");
			sqlite3_free(id);
			sqlite3_free(lit);
		}
	return vb_str_finish(s);
}

/* The literals of a row's values, joined by ", ". */
static char *
values(const struct vb_table *t, const char *a)
{
	sqlite3_str *s = sqlite3_str_new(NULL);
	int i;

	for (i = 0; i < t->ncols; i++) {
		if (i > 0)
			sqlite3_str_appendall(s, " || ', ' || ");
		literal(s, a, t->cols[i]);
	}
	return vb_str_finish(s);
}

/* text (freed) as an SQL literal, to sqlite3_free; NULL if none. */
static char *
quoted(char *text)
{
	char *lit = text != NULL ? sqlite3_mprintf("%Q", text) : NULL;

	sqlite3_free(text);
	return lit;
}

/*
 * Runs sql (a query; freed) and writes each row: with json, the elements
 * of an array (*first set until one is written), else a line each;
 * copies times the text when its second column is a count.
 */
static int
print_rows(sqlite3 *db, char *sql, int *first, int counted)
{
	sqlite3_stmt *st;
	int64_t k, n;
	int rc;

	if (sql == NULL || sqlite3_prepare_v2(db, sql, -1, &st, NULL) !=
	    SQLITE_OK) {
		sqlite3_free(sql);
		return -1;
	}
	sqlite3_free(sql);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n = counted ? sqlite3_column_int64(st, 1) : 1;
		for (k = 0; k < n; k++) {
			if (first == NULL)
				printf("%s\n", sqlite3_column_text(st, 0));
			else
				printf("%s\n  %s", *first ? "" : ",",
				    sqlite3_column_text(st, 0));
			if (first != NULL)
				*first = 0;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * The rows of c that differ, printed: sel_l for each row only live (over
 * l), sel_b for each only in the backup (over b), sel_c for each changed
 * (over both).  A multiset's (no key): each distinct row that differs
 * (over u), sel_l for each copy only live, sel_b for each only in the
 * backup.  print_rows' first.  0, or -1.
 */
static int
each_change(sqlite3 *db, const struct cmp *c, const char *sel_l,
    const char *sel_b, const char *sel_c, int *first)
{
	char d[64], *q;
	int rc;

	if (c->b.nkey == 0) {
		vb_table_spare(&c->b, "vb_d", d, sizeof(d));
		if ((q = multiset_sql(c)) == NULL)
			return -1;
		rc = print_rows(db, sqlite3_mprintf("SELECT %s, -u.\"%w\" FROM "
		    "(%s) AS u WHERE u.\"%w\" < 0", sel_l, d, q, d), first, 1) |
		    print_rows(db, sqlite3_mprintf("SELECT %s, u.\"%w\" FROM "
		    "(%s) AS u WHERE u.\"%w\" > 0", sel_b, d, q, d), first, 1);
		sqlite3_free(q);
		return rc;
	}
	return print_rows(db, sqlite3_mprintf("SELECT %s FROM live.\"%w\" AS "
	    "l WHERE NOT EXISTS (SELECT 1 FROM main.\"%w\" AS b WHERE %s)",
	    sel_l, c->l.name, c->b.name, c->key), first, 0) | print_rows(db,
	    sqlite3_mprintf("SELECT %s FROM main.\"%w\" AS b WHERE NOT EXISTS "
	    "(SELECT 1 FROM live.\"%w\" AS l WHERE %s)", sel_b, c->b.name,
	    c->l.name, c->key), first, 0) | print_rows(db, sqlite3_mprintf(
	    "SELECT %s FROM main.\"%w\" AS b JOIN live.\"%w\" AS l ON %s WHERE "
	    "NOT (%s)", sel_c, c->b.name, c->l.name, c->key, c->same), first,
	    0);
}

/* The statements for table c (same schema on both sides); 0, or -1. */
static int
table_sql(sqlite3 *db, const struct cmp *c)
{
	const struct vb_table *t = &c->b;
	const char *l = t->nkey > 0 ? "l" : "u", *b = t->nkey > 0 ? "b" : "u";
	char *cols = vb_sql_cols(t, NULL), *vals = values(t, b);
	char *kb = assigns(t, b, 1, "IS", " AND "), *kl = assigns(t, l,
	    t->nkey > 0, "IS", " AND "), *sets = assigns(t, b, 0, "=", ", ");
	char *del = NULL, *ins = NULL, *upd = NULL, *sel_l = NULL,
	    *sel_b = NULL, *sel_c = NULL;
	int rc = -1;

	if (cols == NULL || vals == NULL || kb == NULL || kl == NULL ||
	    sets == NULL)
		goto out;
	/* A copy of a row without a key: one of the equal rows. */
	del = quoted(t->nkey > 0 ? sqlite3_mprintf("DELETE FROM \"%w\" WHERE ",
	    t->name) : sqlite3_mprintf("DELETE FROM \"%w\" WHERE %s IN "
	    "(SELECT %s FROM \"%w\" WHERE ", t->name, t->rowid, t->rowid,
	    t->name));
	ins = quoted(sqlite3_mprintf("INSERT INTO \"%w\"(%s) VALUES(",
	    t->name, cols));
	upd = quoted(sqlite3_mprintf("UPDATE \"%w\" SET ", t->name));
	if (del == NULL || ins == NULL || upd == NULL)
		goto out;
	sel_l = sqlite3_mprintf("%s || %s || '%s;'", del, kl, t->nkey > 0 ?
	    "" : " LIMIT 1)");
	sel_b = sqlite3_mprintf("%s || %s || ');'", ins, vals);
	sel_c = sqlite3_mprintf("%s || %s || ' WHERE ' || %s || ';'", upd,
	    sets, kb);
	if (sel_l == NULL || sel_b == NULL || sel_c == NULL)
		goto out;
	printf("-- %s: %lld rows to delete, %lld to insert, %lld to reset\n"
	    "BEGIN;\n", t->name, (long long)c->only_live,
	    (long long)c->only_backup, (long long)c->changed);
	rc = each_change(db, c, sel_l, sel_b, sel_c, NULL);
	printf("COMMIT;\n");
out:
	sqlite3_free(cols);
	sqlite3_free(vals);
	sqlite3_free(kb);
	sqlite3_free(kl);
	sqlite3_free(sets);
	sqlite3_free(del);
	sqlite3_free(ins);
	sqlite3_free(upd);
	sqlite3_free(sel_l);
	sqlite3_free(sel_b);
	sqlite3_free(sel_c);
	return rc;
}

/* 'c1', <a.c1 as JSON>, ...: a row as json_object's arguments; a BLOB
 * as {"hex": ...}. */
static char *
json_args(const struct vb_table *t, const char *a)
{
	sqlite3_str *s = sqlite3_str_new(NULL);
	int i;

	for (i = 0; i < t->ncols; i++)
		sqlite3_str_appendf(s, "%s%Q, json(CASE WHEN "
		    "typeof(%s.\"%w\") = 'blob' OR "
		    "instr(CAST(%s.\"%w\" AS BLOB), X'00') > 0 THEN "
		    "json_object('hex', hex(%s.\"%w\")) WHEN typeof(%s.\"%w\") "
		    "= 'real' AND abs(%s.\"%w\") > 1.7976931348623157e308 THEN "
		    "json_quote(CAST(%s.\"%w\" AS TEXT)) ELSE "
		    "json_quote(%s.\"%w\") END)", i > 0 ? ", " : "",
		    t->cols[i], a, t->cols[i], a, t->cols[i], a, t->cols[i],
		    a, t->cols[i], a, t->cols[i], a, t->cols[i], a, t->cols[i]);
	return vb_str_finish(s);
}

/*
 * --diff-table --json: the rows themselves, an object per row that
 * differs (per copy, for a table without a key): its change (only-live,
 * only-backup, changed) and the row in the backup and live (null where
 * it has none), each value as SQLite holds it.
 */
static int
table_json(sqlite3 *db, const struct cmp *c)
{
	const char *l = c->b.nkey > 0 ? "l" : "u", *b = c->b.nkey > 0 ? "b" :
	    "u";
	char *ob = json_args(&c->b, b), *ol = json_args(&c->b, l);
	char *sel_l = NULL, *sel_b = NULL, *sel_c = NULL;
	int rc = -1, first = 1;

	if (ob == NULL || ol == NULL)
		goto out;
	sel_l = sqlite3_mprintf("json_object('change', 'only-live', 'backup', "
	    "NULL, 'live', json_object(%s))", ol);
	sel_b = sqlite3_mprintf("json_object('change', 'only-backup', "
	    "'backup', json_object(%s), 'live', NULL)", ob);
	sel_c = sqlite3_mprintf("json_object('change', 'changed', 'backup', "
	    "json_object(%s), 'live', json_object(%s))", ob, ol);
	if (sel_l == NULL || sel_b == NULL || sel_c == NULL)
		goto out;
	printf("[");
	rc = each_change(db, c, sel_l, sel_b, sel_c, &first);
	printf("%s]\n", first ? "" : "\n");
out:
	sqlite3_free(ob);
	sqlite3_free(ol);
	sqlite3_free(sel_l);
	sqlite3_free(sel_b);
	sqlite3_free(sel_c);
	return rc;
}

/* The header of --diff-table's SQL: what it does, and with what. */
static void
sql_header(const char *table, const char *archive)
{
	printf("-- vb-restore --diff-table: the statements that make the live "
	    "table equal\n-- the backup's (%s).\n-- Applied with sqlite3, "
	    "they fire the table's triggers (and, with\n-- PRAGMA "
	    "foreign_keys on, its foreign key actions); vb-restore --table\n"
	    "-- %s puts the same rows back without them, and writes an undo."
	    "\n", archive, table);
}

/* --diff-table: table compared, then its statements.  0, or -1 (why). */
static int
one_table(sqlite3 *db, const struct vb_diff_opts *o, char *why,
    size_t wlen)
{
	struct cmp c;
	int rc = -1;

	memset(&c, 0, sizeof(c));	/* freed on every path */
	if (strcasecmp(o->table, "BackupLog") == 0 ||
	    vb_is_sqlite_table(o->table))
		snprintf(why, wlen, "%s: vb's history or SQLite's own: never "
		    "put back from a backup", o->table);
	else if (compare(db, o->table, &c, why, wlen) != 0)
		;
	else if (!c.counted)
		snprintf(why, wlen, "%s: %s: no statements can make one equal "
		    "the other row by row", o->table, strcmp(c.state,
		    "schema") == 0 ? c.note : strcmp(c.state, "only-backup") ==
		    0 ? "only the backup has it (vb-restore --table puts it "
		    "back)" : "only the live database has it");
	else if (c.b.nkey == 0 && c.b.rowid == NULL && !o->json)
		snprintf(why, wlen, "%s: columns take the names rowid, _rowid_ "
		    "and oid: no statement can delete one of two equal rows",
		    c.b.name);
	else {
		if (!o->json)
			sql_header(c.l.name, o->archive);
		if ((rc = o->json ? table_json(db, &c) : table_sql(db, &c)) !=
		    0)
			snprintf(why, wlen, "%s: %s", o->table,
			    sqlite3_errmsg(db));
	}
	cmp_free(&c);
	return rc;
}

/* The live database attached read-only as "live" to db, read in one
 * transaction.  0, or -1 with why. */
static int
attach_live(sqlite3 *db, const char *live, char *why, size_t wlen)
{
	char uri[8300], real[4096];
	char *sql;
	int rc;

	/* It prints rows: never of a file another user's link names. */
	if (vb_db_check_live(live, real, sizeof(real), why, wlen) != 0)
		return -1;
	vb_db_uri(real, "mode=ro", uri, sizeof(uri));
	sql = sqlite3_mprintf("ATTACH %Q AS live", uri);
	rc = sql != NULL ? sqlite3_exec(db, sql, NULL, NULL, NULL) :
	    SQLITE_NOMEM;
	sqlite3_free(sql);
	/* One transaction: one state of the live database. */
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "BEGIN; SELECT count(*) FROM "
		    "live.sqlite_schema", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		snprintf(why, wlen, "%s: %s", live, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/*
 * o's backup verified and restored into a work directory in o->dir (its
 * path into work), opened read-only as main, the live database attached
 * as live, read in one transaction.  0 with *dbp, or -1 with why and
 * nothing left.
 */
static int
open_pair(const struct vb_diff_opts *o, sqlite3 **dbp, char *work,
    size_t len, char *why, size_t wlen)
{
	struct vb_restore_result res;
	char copy[4500];
	sqlite3 *db = NULL;

	*dbp = NULL;
	/* A killed diff's or restore's work directory goes first. */
	vb_clean_stale(o->dir, copy, sizeof(copy));
	if (vb_work_make(o->dir, "diff", work, len, why, wlen) != 0)
		return -1;
	vb_path_join(copy, sizeof(copy), work, "backup.db");
	/* Vouched for as a restore would be: the key, else BackupLog. */
	if (vb_restore_work(&(struct vb_restore_opts){ .archive = o->archive,
	    .identity = o->identity, .verify_with = o->verify_with,
	    .logdb = o->db, .unrecorded = o->unrecorded }, o->remote, work,
	    copy, &res) != 0)
		snprintf(why, wlen, "%s", res.why);
	else if ((db = vb_db_open_immutable(copy, why, wlen)) != NULL) {
		vb_db_busy(db);
		if (attach_live(db, o->db, why, wlen) == 0) {
			*dbp = db;
			return 0;
		}
	}
	sqlite3_close(db);
	vb_work_remove(work);
	return -1;
}

/*
 * Runs the comparison with stdout a file in work, and copies that to
 * stdout only if all of it was made: an error prints nothing.
 */
static int
compare_into(sqlite3 *db, const struct vb_diff_opts *o, const char *work,
    char *why, size_t wlen)
{
	enum vb_list_form form = vb_list_form(o->json);
	char path[4500];
	int fd, out, rc = -1;

	vb_path_join(path, sizeof(path), work, "out");
	fflush(stdout);
	if ((fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) < 0 || (out = dup(STDOUT_FILENO)) < 0) {
		snprintf(why, wlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	dup2(fd, STDOUT_FILENO);
	rc = o->table != NULL ? one_table(db, o, why, wlen) :
	    each_table(db, form, why, wlen);
	if (fflush(stdout) != 0 && rc == 0) {
		snprintf(why, wlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	dup2(out, STDOUT_FILENO);
	close(out);
	if (rc == 0 && (lseek(fd, 0, SEEK_SET) != 0 || vb_copy_fd(fd,
	    STDOUT_FILENO) != 0)) {
		snprintf(why, wlen, "stdout: %s", strerror(errno));
		rc = -1;
	}
	close(fd);
	return rc;
}

int
vb_diff(const struct vb_diff_opts *o, char *why, size_t wlen)
{
	char work[4400];
	sqlite3 *db;
	int rc;

	if (open_pair(o, &db, work, sizeof(work), why, wlen) != 0)
		return -1;
	rc = compare_into(db, o, work, why, wlen);
	sqlite3_close(db);
	vb_work_remove(work);
	return rc;
}
