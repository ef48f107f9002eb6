/*
 * backuplog.c - the BackupLog table in the application's own database.
 *
 * vb creates it when absent (the schema of DESIGN.md and an index on
 * createdAt).  An application's own BackupLog (the old Node service's
 * among them) is written the way that application writes it and never
 * altered: vb's columns matched to the table's by name, case and the
 * usual synonyms; with no operation column, the operation opens the
 * message; the status in the table's own words, learnt from its CHECK
 * constraint or its rows.  Reading it back (--show) undoes the same
 * mapping.  The database file itself is never created.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "vblib.h"

/* The columns vb knows, then the names other tables use for them. */
static const char *cols[VB_LOG_NCOLS][5] = {
	{ "createdAt",	"created_at", "timestamp", "created", NULL },
	{ "operation",	"op", "action", NULL, NULL },
	{ "status",	"state", "result", NULL, NULL },
	{ "filename",	"file", "path", "file_name", NULL },
	{ "sizeBytes",	"size", "bytes", "size_bytes", NULL },
	{ "sha256",	"checksum", "hash", NULL, NULL },
	{ "durationMs",	"duration", "duration_ms", "ms", NULL },
	{ "message",	"msg", "details", "error", NULL },
};

/* Words for success and failure, as tables spell them, in pairs. */
static const char *const words[][2] = {
	{ "success", "failure" }, { "SUCCESS", "FAILED" },
	{ "Success", "Failed" }, { "succeeded", "failed" },
	{ "SUCCEEDED", "FAILED" }, { "successful", "failed" },
	{ "ok", "error" }, { "OK", "ERROR" }, { "done", "failed" },
	{ "completed", "failed" }, { "COMPLETED", "FAILED" },
	{ "passed", "failed" },
};
#define NWORDS	(sizeof(words) / sizeof(words[0]))

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS main.BackupLog ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " createdAt TEXT NOT NULL, operation TEXT NOT NULL,"
    " status TEXT NOT NULL, filename TEXT, sizeBytes INTEGER,"
    " sha256 TEXT, durationMs INTEGER, message TEXT);"
    "CREATE INDEX IF NOT EXISTS main.BackupLog_createdAt"
    " ON BackupLog(createdAt);";

/* Returns the pair whose success (or failure) word w is, or -1. */
static int
pair_of(const char *w, int failure)
{
	size_t i;

	for (i = 0; i < NWORDS; i++)
		if (strcmp(w, words[i][failure]) == 0)
			return (int)i;
	for (i = 0; i < NWORDS; i++)
		if (strcasecmp(w, words[i][failure]) == 0)
			return (int)i;
	return -1;
}

int
vb_log_status_ok(const char *status)
{
	return status != NULL && pair_of(status, 0) >= 0;
}

/* Takes w as the table's word for success or failure if it is one. */
static void
learn_word(struct vb_log_map *m, const char *w)
{
	if (m->ok[0] == '\0' && pair_of(w, 0) >= 0)
		snprintf(m->ok, sizeof(m->ok), "%s", w);
	else if (m->failed[0] == '\0' && pair_of(w, 1) >= 0)
		snprintf(m->failed, sizeof(m->failed), "%s", w);
}

/*
 * The words of a CHECK constraint on the status column: the quoted
 * strings of "status IN ('A', 'B')" in the table's SQL.
 */
static void
learn_from_check(sqlite3 *db, struct vb_log_map *m)
{
	char sql[8192], word[64], *p, *q, *end;
	size_t n = strlen(m->have[2]), len;

	if (vb_db_text(db, "SELECT sql FROM main.sqlite_master WHERE type = "
	    "'table' AND name = 'BackupLog' COLLATE NOCASE", sql,
	    sizeof(sql)) != 0)
		return;
	for (p = sql; (p = strcasestr(p, m->have[2])) != NULL; p += n) {
		q = p + n;
		q += q[0] == '"' || q[0] == '`' || q[0] == ']';
		q += strspn(q, " \t\n");
		if (strncasecmp(q, "IN", 2) != 0)
			continue;
		q += 2 + strspn(q + 2, " \t\n");
		if (*q != '(' || (end = strchr(q, ')')) == NULL)
			continue;
		while ((q = strchr(q, '\'')) != NULL && q < end) {
			len = strcspn(q + 1, "'");
			snprintf(word, sizeof(word), "%.*s", (int)len, q + 1);
			learn_word(m, word);
			q += len + 1 + (q[len + 1] != '\0');
		}
		return;
	}
}

/* The words of the rows already there. */
static void
learn_from_rows(sqlite3 *db, struct vb_log_map *m)
{
	char sql[128];
	sqlite3_stmt *st;
	const char *w;

	snprintf(sql, sizeof(sql), "SELECT DISTINCT \"%s\" FROM main.BackupLog "
	    "LIMIT 64", m->have[2]);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(st) == SQLITE_ROW)
		if ((w = (const char *)sqlite3_column_text(st, 0)) != NULL)
			learn_word(m, w);
	sqlite3_finalize(st);
}

/* ---- times: each table's own representation ---- */

/* Whether a time suffix says UTC: what vb may put after a UTC time. */
static int
utc_suffix(const char *s)
{
	static const char *const utc[] = { "", "Z", "+00:00", " +00:00",
	    "+0000", " +0000", " UTC", " GMT" };
	size_t i;

	for (i = 0; i < sizeof(utc) / sizeof(utc[0]); i++)
		if (strcmp(s, utc[i]) == 0)
			return 1;
	return 0;
}

/* The shape of a text time, "2026-11-27 01:00:03.412 +00:00"; 0 or -1. */
static int
text_shape(const char *s, struct vb_time_repr *t)
{
	static const char pat[] = "dddd-dd-dd?dd:dd:dd";
	size_t i, n;

	for (i = 0; pat[i] != '\0'; i++)
		if (s[i] == '\0' || (pat[i] == 'd' && !isdigit((unsigned
		    char)s[i])) || (pat[i] != 'd' && pat[i] != '?' &&
		    s[i] != pat[i]) || (pat[i] == '?' && s[i] != 'T' &&
		    s[i] != ' '))
			return -1;
	t->kind = VB_TIME_TEXT;
	t->sep = s[10];
	s += i;
	t->frac = 0;
	if (*s == '.') {
		n = strspn(s + 1, "0123456789");
		if (n == 0)
			return -1;
		t->frac = 3;
		s += 1 + n;
	}
	if (strlen(s) >= sizeof(t->suffix) || !utc_suffix(s))
		return -1;
	snprintf(t->suffix, sizeof(t->suffix), "%s", s);
	return 0;
}

/* vb's own: 2026-11-27T01:00:03.412Z. */
static void
iso_repr(struct vb_time_repr *t)
{
	memset(t, 0, sizeof(*t));
	t->kind = VB_TIME_TEXT;
	t->sep = 'T';
	t->frac = 3;
	snprintf(t->suffix, sizeof(t->suffix), "Z");
}

/*
 * How column col keeps its times: as its newest row does (an integer
 * above 1e11 is milliseconds: seconds that large are 5000 years away),
 * else as its declared type says: an integer type holds milliseconds
 * (JavaScript's Date.now(), the old Node service's), any other ISO text.
 */
static void
learn_time(sqlite3 *db, const char *col, const char *decl,
    struct vb_time_repr *t)
{
	sqlite3_stmt *st;
	char sql[160];
	const char *v;
	int type = SQLITE_NULL;

	iso_repr(t);
	snprintf(sql, sizeof(sql), "SELECT \"%s\" FROM main.BackupLog "
	    "WHERE \"%s\" IS NOT NULL ORDER BY rowid DESC LIMIT 1", col, col);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return;
	if (sqlite3_step(st) == SQLITE_ROW)
		type = sqlite3_column_type(st, 0);
	if (type == SQLITE_INTEGER || type == SQLITE_FLOAT)
		t->kind = sqlite3_column_double(st, 0) >= 1e11 ||
		    sqlite3_column_double(st, 0) <= -1e11 ? VB_TIME_MS :
		    VB_TIME_S;
	else if (type == SQLITE_TEXT) {
		v = (const char *)sqlite3_column_text(st, 0);
		if (v == NULL || text_shape(v, t) != 0)
			iso_repr(t);
	} else if (decl != NULL && strcasestr(decl, "INT") != NULL)
		t->kind = VB_TIME_MS;
	sqlite3_finalize(st);
}

/*
 * Binds the ISO time iso (a record's) as parameter i, in the column's
 * representation t; a time that does not parse goes in as it is.
 */
static void
bind_time(sqlite3_stmt *st, int i, const struct vb_time_repr *t,
    const char *iso)
{
	struct timespec ts;
	struct tm tm;
	char buf[64];
	int n;

	if (vb_parse_iso(iso, &ts) != 0 || gmtime_r(&ts.tv_sec, &tm) == NULL) {
		sqlite3_bind_text(st, i, iso, -1, SQLITE_TRANSIENT);
		return;
	}
	if (t->kind == VB_TIME_S) {
		sqlite3_bind_int64(st, i, (sqlite3_int64)ts.tv_sec);
		return;
	}
	if (t->kind == VB_TIME_MS) {
		sqlite3_bind_int64(st, i, (sqlite3_int64)ts.tv_sec * 1000 +
		    ts.tv_nsec / 1000000);
		return;
	}
	n = snprintf(buf, sizeof(buf), "%04d-%02d-%02d%c%02d:%02d:%02d",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, t->sep, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	if (t->frac > 0)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, ".%03ld",
		    ts.tv_nsec / 1000000);
	snprintf(buf + n, sizeof(buf) - (size_t)n, "%s", t->suffix);
	sqlite3_bind_text(st, i, buf, -1, SQLITE_TRANSIENT);
}

/* ---- the table's columns ---- */

/* Whether a declared type gives numeric affinity (SQLite's rules). */
static int
numeric_type(const char *decl)
{
	if (decl == NULL || *decl == '\0')
		return 0;
	if (strcasestr(decl, "INT") != NULL)
		return 1;
	if (strcasestr(decl, "CHAR") != NULL || strcasestr(decl, "CLOB") !=
	    NULL || strcasestr(decl, "TEXT") != NULL || strcasestr(decl,
	    "BLOB") != NULL)
		return 0;
	return 1;
}

/* Whether a column holds a time, by its type or its name (updatedAt). */
static int
time_column(const char *name, const char *decl)
{
	static const char *const names[] = { "timestamp", "time", "date",
	    "datetime" };
	size_t i, n = strlen(name);

	if (decl != NULL && (strcasestr(decl, "DATE") != NULL ||
	    strcasestr(decl, "TIME") != NULL))
		return 1;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(name, names[i]) == 0)
			return 1;
	/* createdAt, updated_at, modifiedOn, inserted_time, ... */
	return (n > 2 && (strcasecmp(name + n - 2, "at") == 0 ||
	    strcasecmp(name + n - 2, "on") == 0) && (name[n - 3] == '_' ||
	    isupper((unsigned char)name[n - 2]) || strncasecmp(name,
	    "created", 7) == 0 || strncasecmp(name, "updated", 7) == 0)) ||
	    (n > 4 && strcasecmp(name + n - 4, "time") == 0);
}

/* Which of vb's columns name is (and *syn which of its names), or -1. */
static int
vb_column(const char *name, int *syn)
{
	int i, j;

	for (i = 0; i < VB_LOG_NCOLS; i++)
		for (j = 0; j < 5 && cols[i][j] != NULL; j++)
			if (strcasecmp(name, cols[i][j]) == 0) {
				*syn = j;
				return i;
			}
	return -1;
}

/*
 * One column of the table: matched to vb's (the first of a name wins),
 * or, NOT NULL with no default, one vb must fill itself.
 */
static void
map_column(sqlite3 *db, struct vb_log_map *m, sqlite3_stmt *st)
{
	const char *name = (const char *)sqlite3_column_text(st, 1);
	const char *decl = (const char *)sqlite3_column_text(st, 2);
	int notnull = sqlite3_column_int(st, 3);
	int dflt = sqlite3_column_type(st, 4) != SQLITE_NULL;
	int pk = sqlite3_column_int(st, 5), hidden = sqlite3_column_int(st, 6);
	struct vb_log_extra *x;
	int i, j;

	if (name == NULL || hidden != 0)
		return;
	if ((i = vb_column(name, &j)) >= 0 && m->have[i] == NULL) {
		m->have[i] = cols[i][j];
		m->notnull[i] = notnull;
		m->numeric[i] = numeric_type(decl);
		if (i == 0)
			learn_time(db, name, decl, &m->created);
		return;
	}
	/* The rowid's alias fills itself; a default fills the others. */
	if (!notnull || dflt || (pk > 0 && decl != NULL &&
	    strcasecmp(decl, "INTEGER") == 0) || m->nextra == VB_LOG_MAXEXTRA ||
	    strlen(name) >= sizeof(m->extra[0].name))
		return;
	x = &m->extra[m->nextra++];
	snprintf(x->name, sizeof(x->name), "%s", name);
	x->numeric = numeric_type(decl);
	if ((x->time = time_column(name, decl)))
		learn_time(db, name, decl, &x->repr);
}

int
vb_backuplog_map(sqlite3 *db, struct vb_log_map *m)
{
	sqlite3_stmt *st;
	int n = 0, p;

	if (sqlite3_prepare_v2(db, "PRAGMA main.table_xinfo(BackupLog)", -1,
	    &st, NULL) != SQLITE_OK)
		return -1;
	memset(m, 0, sizeof(*m));
	iso_repr(&m->created);
	while (sqlite3_step(st) == SQLITE_ROW) {
		n++;
		map_column(db, m, st);
	}
	sqlite3_finalize(st);
	if (n == 0)
		return -1;
	if (m->have[2] != NULL) {
		learn_from_check(db, m);
		learn_from_rows(db, m);
	}
	/* A word learnt alone brings its pair's other one. */
	if (m->ok[0] == '\0' && m->failed[0] != '\0' &&
	    (p = pair_of(m->failed, 1)) >= 0)
		snprintf(m->ok, sizeof(m->ok), "%s", words[p][0]);
	if (m->ok[0] == '\0')
		snprintf(m->ok, sizeof(m->ok), "success");
	if (m->failed[0] == '\0')
		snprintf(m->failed, sizeof(m->failed), "%s",
		    words[pair_of(m->ok, 0)][1]);
	return 0;
}

/* ---- writing rows: one short transaction a batch ---- */

/* Opens path for writing, never creating it; returns 0, or -1 (why). */
static int
open_rw(const char *path, struct vb_backuplog *l, char *why, size_t wlen)
{
	memset(l, 0, sizeof(*l));
	l->path = path;
	if ((l->db = vb_db_open_live(path, SQLITE_OPEN_READWRITE, why,
	    wlen)) == NULL)
		return -1;
	/* SQLite falls back to read-only on a file it may not write. */
	if (sqlite3_db_readonly(l->db, "main") == 1) {
		snprintf(why, wlen, "%s: cannot write BackupLog there: this "
		    "user (uid %ld) may not write the file", path,
		    (long)getuid());
		sqlite3_close(l->db);
		l->db = NULL;
		return -1;
	}
	vb_db_busy(l->db);
	return 0;
}

/* Closes what open_rw and prepare opened (l stays the caller's). */
static void
release(struct vb_backuplog *l)
{
	sqlite3_finalize(l->ins);
	sqlite3_close(l->db);
	l->ins = NULL;
	l->db = NULL;
}

/*
 * Prepares the insert on an open connection, creating BackupLog if it is
 * absent.  Returns 0, or -1 with why and the connection closed.
 */
static int
prepare(const char *path, struct vb_backuplog *l, char *why, size_t wlen)
{
	char sql[2048], vals[128];
	size_t i;
	int n = 0;

	if (vb_backuplog_map(l->db, &l->map) != 0) {
		if (sqlite3_exec(l->db, schema, NULL, NULL, NULL) !=
		    SQLITE_OK || vb_backuplog_map(l->db, &l->map) != 0)
			goto fail;
	}
	if (l->map.have[0] == NULL && l->map.have[2] == NULL &&
	    l->map.have[7] == NULL) {
		snprintf(why, wlen, "%s: BackupLog has no createdAt, status "
		    "or message column; it is not one vb can write", path);
		goto out;
	}
	snprintf(sql, sizeof(sql), "INSERT INTO main.BackupLog(");
	vals[0] = '\0';
	for (i = 0; i < VB_LOG_NCOLS + (size_t)l->map.nextra; i++) {
		if (i < VB_LOG_NCOLS && l->map.have[i] == NULL)
			continue;
		vb_appendf(sql, sizeof(sql), "%s\"%s\"", n > 0 ? ", " : "",
		    i < VB_LOG_NCOLS ? l->map.have[i] :
		    l->map.extra[i - VB_LOG_NCOLS].name);
		vb_appendf(vals, sizeof(vals), "%s?%zu", n > 0 ? "," : "",
		    i + 1);
		n++;
	}
	vb_appendf(sql, sizeof(sql), ") VALUES (%s)", vals);
	if (sqlite3_prepare_v2(l->db, sql, -1, &l->ins, NULL) != SQLITE_OK)
		goto fail;
	return 0;
fail:
	snprintf(why, wlen, "%s: %s", path, l->db != NULL ?
	    sqlite3_errmsg(l->db) : "out of memory");
out:
	return -1;
}

/*
 * Binds text, or, where the column is NOT NULL and vb has no value, what
 * the column can take: 0 in a numeric one, else an empty string.
 */
static void
bind_or_empty(struct vb_backuplog *l, int i, const char *text)
{
	if (text != NULL)
		sqlite3_bind_text(l->ins, i + 1, text, -1, SQLITE_TRANSIENT);
	else if (l->map.notnull[i] && l->map.numeric[i])
		sqlite3_bind_int(l->ins, i + 1, 0);
	else if (l->map.notnull[i])
		sqlite3_bind_text(l->ins, i + 1, "", 0, SQLITE_STATIC);
}

/* The same for a number, -1 when vb has none. */
static void
bind_num(struct vb_backuplog *l, int i, int64_t v)
{
	if (v >= 0)
		sqlite3_bind_int64(l->ins, i + 1, v);
	else
		bind_or_empty(l, i, NULL);
}

/* Inserts one row for r (inside the caller's transaction); 0 or -1. */
static int
insert_row(struct vb_backuplog *l, const struct vb_record *r)
{
	const struct vb_log_extra *x;
	sqlite3_stmt *st = l->ins;
	char msg[4200];
	int rc, i;

	/*
	 * No operation column: the operation opens the message.  No
	 * SHA-256 column (the old service's table): the hash is a field of
	 * the message, so that what was made can be checked later.
	 */
	snprintf(msg, sizeof(msg), "%s%s%s%s%s", l->map.have[1] == NULL ?
	    r->op : "", l->map.have[1] == NULL ? ": " : "", r->msg,
	    l->map.have[5] == NULL && r->sha256[0] != '\0' ? "; sha256=" :
	    "", l->map.have[5] == NULL ? r->sha256 : "");
	bind_time(st, 1, &l->map.created, r->time);
	sqlite3_bind_text(st, 2, r->op, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, r->ok ? l->map.ok : l->map.failed, -1,
	    SQLITE_TRANSIENT);
	bind_or_empty(l, 3, strcmp(r->path, "-") != 0 ? r->path : NULL);
	bind_num(l, 4, r->bytes);
	bind_or_empty(l, 5, r->sha256[0] != '\0' ? r->sha256 : NULL);
	bind_num(l, 6, r->ms);
	sqlite3_bind_text(st, 8, msg, -1, SQLITE_TRANSIENT);
	/* The NOT NULL columns vb knows nothing of: never a NULL there. */
	for (i = 0; i < l->map.nextra; i++) {
		x = &l->map.extra[i];
		if (x->time)
			bind_time(st, VB_LOG_NCOLS + i + 1, &x->repr, r->time);
		else if (x->numeric)
			sqlite3_bind_int(st, VB_LOG_NCOLS + i + 1, 0);
		else
			sqlite3_bind_text(st, VB_LOG_NCOLS + i + 1, "", 0,
			    SQLITE_STATIC);
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

struct vb_backuplog *
vb_backuplog_open(const char *path, char *why, size_t wlen)
{
	struct vb_backuplog *l;

	if ((l = calloc(1, sizeof(*l))) == NULL) {
		snprintf(why, wlen, "out of memory");
		return NULL;
	}
	if (open_rw(path, l, why, wlen) != 0) {
		free(l);
		return NULL;
	}
	if (prepare(path, l, why, wlen) != 0) {
		release(l);
		free(l);
		return NULL;
	}
	return l;
}

int
vb_backuplog_insert_on(sqlite3 *db, const char *path,
    const struct vb_record *r, char *why, size_t wlen)
{
	struct vb_backuplog l;
	int rc = -1;

	memset(&l, 0, sizeof(l));
	l.db = db;
	l.path = path;
	if (prepare(path, &l, why, wlen) == 0) {
		if ((rc = insert_row(&l, r)) != 0)
			snprintf(why, wlen, "%s: BackupLog refused the row: %s",
			    path, sqlite3_errmsg(db));
		sqlite3_finalize(l.ins);
	}
	return rc;
}

void
vb_backuplog_close(struct vb_backuplog *l)
{
	if (l == NULL)
		return;
	release(l);
	free(l);
}

int
vb_backuplog_write(struct vb_backuplog *l, const struct vb_record *r,
    size_t n, char *why, size_t wlen)
{
	size_t i;

	if (wlen > 0)
		why[0] = '\0';
	if (l == NULL || l->db == NULL)
		return -1;	/* vb_backuplog_open said why */
	/* One short transaction: the application waits for no more. */
	if (sqlite3_exec(l->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		goto fail;
	for (i = 0; i < n; i++)
		if (insert_row(l, &r[i]) != 0)
			goto fail;
	if (sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
fail:
	snprintf(why, wlen, "%s: cannot write BackupLog: %s", l->path,
	    sqlite3_errmsg(l->db));
	sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int
vb_backuplog_append(const char *path, const struct vb_record *r, char *why,
    size_t wlen)
{
	struct vb_backuplog *l;
	int rc;

	if ((l = vb_backuplog_open(path, why, wlen)) == NULL)
		return -1;
	rc = vb_backuplog_write(l, r, 1, why, wlen);
	vb_backuplog_close(l);
	return rc;
}

/* ---- --check: both kinds of row tried, rolled back ---- */

/*
 * Inserts a success row and a failure row, as the nightly writes them,
 * inside a savepoint it rolls back: proof the table takes both.  Returns
 * 0, or -1 with why naming the row refused.
 */
static int
try_rows(struct vb_backuplog *l, char *why, size_t wlen)
{
	struct vb_record ok, bad;
	const struct vb_record *r;
	int rc = 0;

	vb_record_init(&ok, "backup", "/vb-log-check/backup-"
	    "2026-11-27T01-00-00-000Z.tar.zst");
	ok.ok = 1;
	ok.bytes = 1;
	memset(ok.sha256, '0', VB_SHA256_HEX - 1);
	ok.ms = 1;
	ok.msg = "vb-log --check: a success row (rolled back)";
	/* A failure has no file, size or hash: what strict tables refuse. */
	vb_record_init(&bad, "backup", "-");
	bad.ok = 0;
	bad.msg = "vb-log --check: a failure row (rolled back)";
	if (sqlite3_exec(l->db, "SAVEPOINT vb_check", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		snprintf(why, wlen, "%s: %s", l->path, sqlite3_errmsg(l->db));
		return -1;
	}
	for (r = &ok; r != NULL && rc == 0; r = r == &ok ? &bad : NULL)
		if (insert_row(l, r) != 0) {
			snprintf(why, wlen, "%s: BackupLog would refuse a %s "
			    "row: %s", l->path, r->ok ? "success" : "failure",
			    sqlite3_errmsg(l->db));
			rc = -1;
		}
	sqlite3_exec(l->db, "ROLLBACK TO vb_check; RELEASE vb_check", NULL,
	    NULL, NULL);
	return rc;
}

/*
 * Rows dated over an hour ahead of this clock are not history: a clock
 * set back, or rows another account wrote to make a backup or a proof
 * look recent.  Every reader of the history skips them (walk); --check
 * says how many there are (vb_backuplog_check).
 */
#define FUTURE_S	3600

static int	 walk(const char *, int, int,
		    int (*)(void *, struct vb_log_row *), void *, char *,
		    size_t);

/* The time past which a row is in the future, as rows write it. */
static void
future_from(char iso[VB_ISO_LEN])
{
	struct timespec t = vb_now();

	t.tv_sec += FUTURE_S;
	vb_iso_time(&t, iso);
}

struct future {
	char		 from[VB_ISO_LEN];
	int64_t		 n;
	char		 newest[VB_ISO_LEN];
};

static int
count_future(void *arg, struct vb_log_row *row)
{
	struct future *f = arg;

	if (strcmp(row->r.time, f->from) <= 0)
		return 0;
	if (f->n++ == 0)
		snprintf(f->newest, sizeof(f->newest), "%s", row->r.time);
	return 0;
}

/* 0 when no row is dated in the future, else -1 (why says so). */
static int
future_rows(const char *path, char *why, size_t wlen)
{
	struct future f;

	memset(&f, 0, sizeof(f));
	future_from(f.from);
	if (walk(path, 0, 1, count_future, &f, why, wlen) != 0 || f.n == 0) {
		why[0] = '\0';
		return 0;
	}
	snprintf(why, wlen, "%s: BackupLog holds %lld row(s) dated in the "
	    "future (the newest %s): a clock set back, or rows written by "
	    "another account to make a backup or a drill look recent; vb "
	    "reads none of them; look (vb-log --show %s) and delete them",
	    path, (long long)f.n, f.newest, path);
	return -1;
}

int
vb_backuplog_check(const char *path, char *found, size_t flen, char *why,
    size_t wlen)
{
	struct vb_backuplog l;
	int64_t rows = -1;
	int existed, rc = -1;

	if (open_rw(path, &l, why, wlen) != 0)
		return -1;
	/* The write lock the nightly run will need, taken and given back. */
	if (sqlite3_exec(l.db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		snprintf(why, wlen, "%s: cannot take the write lock: %s", path,
		    sqlite3_errmsg(l.db));
		sqlite3_close(l.db);
		return -1;
	}
	existed = vb_backuplog_map(l.db, &l.map) == 0;
	if (existed)
		vb_db_int(l.db, "SELECT count(*) FROM main.BackupLog", &rows);
	if (prepare(path, &l, why, wlen) != 0) {
		sqlite3_exec(l.db, "ROLLBACK", NULL, NULL, NULL);
		release(&l);
		return -1;
	}
	if (try_rows(&l, why, wlen) != 0 || (existed && future_rows(path, why,
	    wlen) != 0))
		goto out;
	if (existed)
		snprintf(found, flen, "%s: BackupLog can be written: it takes "
		    "success and failure rows (%lld rows; status words "
		    "%s/%s%s%s)", path, (long long)rows, l.map.ok,
		    l.map.failed, l.map.have[1] == NULL ? "; no operation "
		    "column: it opens the message" : "", l.map.created.kind ==
		    VB_TIME_MS ? "; createdAt in Unix milliseconds" :
		    l.map.created.kind == VB_TIME_S ? "; createdAt in Unix "
		    "seconds" : "");
	else
		snprintf(found, flen, "%s: can be written; BackupLog will be "
		    "created by the first run", path);
	rc = 0;
out:
	sqlite3_exec(l.db, "ROLLBACK", NULL, NULL, NULL);
	release(&l);
	return rc;
}

/* ---- reading rows back ---- */

/* "status NOT IN (every success word)", the words in lower case. */
static void
not_success(const char *col, char *buf, size_t len)
{
	size_t i, j;

	snprintf(buf, len, "ifnull(lower(\"%s\"), '') NOT IN (", col);
	for (i = 0; i < NWORDS; i++) {
		for (j = 0; j < i; j++)
			if (strcasecmp(words[i][0], words[j][0]) == 0)
				break;
		if (j < i)
			continue;	/* SUCCESS is success, in lower case */
		vb_appendf(buf, len, "%slower('%s')", i > 0 ? ", " : "",
		    words[i][0]);
	}
	vb_appendf(buf, len, ")");
}

int
vb_backuplog_query(sqlite3 *db, const char *path,
    const struct vb_log_query *q, struct vb_log_map *m, sqlite3_stmt **st,
    char *why, size_t wlen)
{
	char sql[2048], where[512], when[400];
	const char *c;
	size_t i;

	*st = NULL;
	if (vb_backuplog_map(db, m) != 0) {
		snprintf(why, wlen, "%s: no BackupLog table", path);
		return -1;
	}
	snprintf(sql, sizeof(sql), "SELECT ");
	for (i = 0; i < VB_LOG_NCOLS; i++)
		vb_appendf(sql, sizeof(sql), "%s%s%s%s", i > 0 ? ", " : "",
		    m->have[i] != NULL ? "\"" : "",
		    m->have[i] != NULL ? m->have[i] : "NULL",
		    m->have[i] != NULL ? "\"" : "");
	if (q->failures && m->have[2] != NULL)
		not_success(m->have[2], where, sizeof(where));
	else
		snprintf(where, sizeof(where), "1");
	/*
	 * createdAt as vb writes times, whatever the row holds: ISO text or
	 * another text shape SQLite reads, Unix seconds or milliseconds.
	 * Ordered and compared on that, so that mixed rows sort right.
	 */
	if ((c = m->have[0]) != NULL)
		snprintf(when, sizeof(when), "(CASE WHEN typeof(\"%s\") IN "
		    "('integer', 'real') THEN strftime("
		    "'%%Y-%%m-%%dT%%H:%%M:%%fZ', CASE WHEN abs(\"%s\") >= "
		    "100000000000 THEN \"%s\" / 1000.0 ELSE \"%s\" END, "
		    "'unixepoch') ELSE strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', "
		    "\"%s\") END)", c, c, c, c, c);
	else
		snprintf(when, sizeof(when), "NULL");
	vb_appendf(sql, sizeof(sql), ", %s AS vb_when FROM main.BackupLog "
	    "WHERE %s AND (?1 IS NULL OR vb_when >= ?1) ORDER BY vb_when IS "
	    "NULL, vb_when DESC, rowid DESC LIMIT ?2", when, where);
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
		snprintf(why, wlen, "%s: %s", path, sqlite3_errmsg(db));
		return -1;
	}
	if (q->since != NULL)
		sqlite3_bind_text(*st, 1, q->since, -1, SQLITE_STATIC);
	sqlite3_bind_int64(*st, 2, q->count);
	return 0;
}

/*
 * A column's text into buf, cleaned (the application's account writes
 * BackupLog: no control character reaches a terminal, no TAB or newline
 * breaks a record's field); NULL if NULL.
 */
static const char *
text(sqlite3_stmt *st, int i, char *buf, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	if (t == NULL)
		return NULL;
	snprintf(buf, len, "%s", (const char *)t);
	vb_clean_text(buf);
	return buf;
}

/*
 * With no operation column, the operation vb put at the start of the
 * message ("compress: ..."), taken off it; another application's row
 * (the old service wrote only backups) is a backup.
 */
static void
op_from_message(struct vb_log_row *row)
{
	static const char *const ops[] = { "snapshot", "compress", "offsite",
	    "prune", "restore", "verify", "backup" };
	size_t i, n;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		n = strlen(ops[i]);
		if (strncmp(row->msg, ops[i], n) == 0 &&
		    strncmp(row->msg + n, ": ", 2) == 0) {
			snprintf(row->r.op, sizeof(row->r.op), "%s", ops[i]);
			memmove(row->msg, row->msg + n + 2,
			    strlen(row->msg + n + 2) + 1);
			return;
		}
	}
	snprintf(row->r.op, sizeof(row->r.op), "backup");
}

void
vb_backuplog_row(sqlite3_stmt *st, const struct vb_log_map *m,
    struct vb_log_row *row)
{
	struct vb_record *r = &row->r;
	const char *sh;
	char op[VB_SHA256_HEX + 8];

	memset(row, 0, sizeof(*row));
	text(st, 0, row->when, sizeof(row->when));
	text(st, 2, row->status, sizeof(row->status));
	r->path = text(st, 3, row->file, sizeof(row->file)) != NULL &&
	    row->file[0] != '\0' ? row->file : (char *)"-";
	r->ok = vb_log_status_ok(row->status);
	r->bytes = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 :
	    sqlite3_column_int64(st, 4);
	sh = text(st, 5, row->sha, sizeof(row->sha));
	if (sh != NULL && strlen(sh) == VB_SHA256_HEX - 1)
		memcpy(r->sha256, sh, VB_SHA256_HEX);
	r->ms = sqlite3_column_type(st, 6) == SQLITE_NULL ? -1 :
	    sqlite3_column_int64(st, 6);
	if (sqlite3_column_text(st, VB_LOG_NCOLS) != NULL)
		snprintf(r->time, sizeof(r->time), "%s",
		    (const char *)sqlite3_column_text(st, VB_LOG_NCOLS));
	else
		snprintf(r->time, sizeof(r->time), "%s", row->when);
	if (text(st, 7, row->msg, sizeof(row->msg)) == NULL)
		row->msg[0] = '\0';
	r->msg = row->msg;
	/* No SHA-256 column: the field insert_row wrote, if any. */
	if (m->have[5] == NULL && vb_msg_field(row->msg, "sha256", op,
	    sizeof(op)) == 0 && strlen(op) == VB_SHA256_HEX - 1)
		memcpy(r->sha256, op, VB_SHA256_HEX);
	if (m->have[1] != NULL) {
		text(st, 1, op, sizeof(op));
		snprintf(r->op, sizeof(r->op), "%s", op);
	} else
		op_from_message(row);
}

/* Runs sql with one text parameter; returns 0, or -1 with why. */
static int
exec1(sqlite3 *db, const char *sql, const char *arg, char *why, size_t wlen)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(why, wlen, "%s", sqlite3_errmsg(db));
		return -1;
	}
	if (arg != NULL)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		snprintf(why, wlen, "%s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* ---- carried over a restore ---- */

int
vb_backuplog_hold(sqlite3 *db, const char *copy, struct vb_log_held *h,
    char *why, size_t wlen)
{
	int64_t last = 0;
	int rc = -1;

	memset(h, 0, sizeof(*h));
	if (vb_db_text(db, "SELECT sql FROM main.sqlite_master WHERE type = "
	    "'table' AND name = 'BackupLog' COLLATE NOCASE", h->sql,
	    sizeof(h->sql)) != 0)
		return 0;	/* no BackupLog here: nothing to carry */
	/* The backup's last row: what came after it is the live one's own. */
	if (exec1(db, "ATTACH ?1 AS vbcopy", copy, why, wlen) != 0)
		return -1;
	if (vb_db_int(db, "SELECT ifnull(max(rowid), 0) FROM "
	    "vbcopy.BackupLog", &last) != 0)
		last = 0;	/* the backup has no BackupLog */
	if (sqlite3_exec(db, "DETACH vbcopy", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_exec(db, "DROP TABLE IF EXISTS temp.vb_held", NULL, NULL,
	    NULL);
	snprintf(why, wlen, "CREATE TEMP TABLE vb_held AS SELECT * FROM "
	    "main.BackupLog WHERE rowid > %lld ORDER BY rowid",
	    (long long)last);
	if (sqlite3_exec(db, why, NULL, NULL, NULL) != SQLITE_OK ||
	    vb_db_int(db, "SELECT count(*) FROM temp.vb_held", &h->rows) != 0)
		goto fail;
	why[0] = '\0';
	return 0;
fail:
	snprintf(why, wlen, "cannot read BackupLog to carry it over: %s",
	    sqlite3_errmsg(db));
	return rc;
}

/*
 * The held rows' columns that the restored BackupLog has too, as a list
 * for SQL, into buf.  Returns 0, or -1 if there are none.
 */
static int
common_columns(sqlite3 *db, char *buf, size_t len)
{
	sqlite3_stmt *st;
	const char *name;
	int n = 0;

	if (sqlite3_prepare_v2(db, "SELECT a.name FROM pragma_table_info("
	    "'vb_held', 'temp') a JOIN pragma_table_info('BackupLog', 'main') "
	    "b ON a.name = b.name COLLATE NOCASE", -1, &st, NULL) != SQLITE_OK)
		return -1;
	buf[0] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW &&
	    (name = (const char *)sqlite3_column_text(st, 0)) != NULL)
		vb_appendf(buf, len, "%s\"%s\"", n++ > 0 ? ", " : "", name);
	sqlite3_finalize(st);
	return n > 0 ? 0 : -1;
}

int
vb_backuplog_put_back(sqlite3 *db, const struct vb_log_held *h, char *why,
    size_t wlen)
{
	char list[2048], sql[4500];
	int64_t n;

	if (h->rows == 0)
		return 0;
	/* A backup from before BackupLog existed: the table as it was. */
	if (vb_db_int(db, "SELECT count(*) FROM main.sqlite_master WHERE "
	    "type = 'table' AND name = 'BackupLog' COLLATE NOCASE", &n) != 0 ||
	    (n == 0 && sqlite3_exec(db, h->sql, NULL, NULL, NULL) !=
	    SQLITE_OK) || common_columns(db, list, sizeof(list)) != 0)
		goto fail;
	snprintf(sql, sizeof(sql), "INSERT INTO main.BackupLog (%s) SELECT "
	    "%s FROM temp.vb_held ORDER BY rowid", list, list);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_exec(db, "DROP TABLE temp.vb_held", NULL, NULL, NULL);
	return (int)h->rows;
fail:
	snprintf(why, wlen, "%s", sqlite3_errmsg(db));
	return -1;
}

/* ---- what the history holds, row by row ---- */

int
vb_backuplog_each_ok(const char *path, int (*each)(void *, struct vb_log_row *),
    void *arg, char *why, size_t wlen)
{
	return walk(path, 1, 0, each, arg, why, wlen);
}

int
vb_backuplog_each(const char *path, int (*each)(void *, struct vb_log_row *),
    void *arg, char *why, size_t wlen)
{
	return walk(path, 0, 0, each, arg, why, wlen);
}

/* db has a table BackupLog (in any letter case, as SQLite finds it). */
static int
has_table(sqlite3 *db)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM main.sqlite_master WHERE "
	    "type = 'table' AND name = 'BackupLog' COLLATE NOCASE", -1, &st,
	    NULL) != SQLITE_OK)
		return 1;	/* unreadable: the query says why */
	rc = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return rc;
}

/*
 * Each row (only the ok ones, with ok_only; those dated in the future
 * only with future) to each, newest first.
 */
static int
walk(const char *path, int ok_only, int future,
    int (*each)(void *, struct vb_log_row *), void *arg, char *why,
    size_t wlen)
{
	struct vb_log_query q = { 0, NULL, -1 };
	struct vb_log_row row;
	struct vb_log_map m;
	sqlite3_stmt *st;
	char from[VB_ISO_LEN];
	sqlite3 *db;

	future_from(from);
	if ((db = vb_db_open_ro(path, why, wlen)) == NULL)
		return -1;
	/* No BackupLog yet (a first run): no history, not an error. */
	if (!has_table(db)) {
		sqlite3_close(db);
		return 0;
	}
	if (vb_backuplog_query(db, path, &q, &m, &st, why, wlen) != 0) {
		sqlite3_close(db);
		return -1;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		vb_backuplog_row(st, &m, &row);
		if (!future && strcmp(row.r.time, from) > 0)
			continue;
		if ((row.r.ok || !ok_only) && each(arg, &row) != 0)
			break;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return 0;
}

/* What BackupLog recorded for one archive, by its file name. */
struct recorded {
	const char		*name;
	struct vb_log_seal	*seal;
};

/* A compress or offsite row of that archive with its SHA-256. */
static int
sealed(void *arg, struct vb_log_row *row)
{
	struct recorded *r = arg;
	const char *base = strrchr(row->r.path, '/');

	base = base != NULL ? base + 1 : row->r.path;
	if ((strcmp(row->r.op, "compress") != 0 &&
	    strcmp(row->r.op, "offsite") != 0) ||
	    row->r.sha256[0] == '\0' || strcmp(base, r->name) != 0)
		return 0;
	memcpy(r->seal->sha256, row->r.sha256, VB_SHA256_HEX);
	r->seal->bytes = row->r.bytes;
	snprintf(r->seal->when, sizeof(r->seal->when), "%s", row->r.time);
	snprintf(r->seal->op, sizeof(r->seal->op), "%s", row->r.op);
	return 1;
}

int
vb_backuplog_sealed(const char *path, const char *name,
    struct vb_log_seal *seal, char *why, size_t wlen)
{
	struct recorded r;

	memset(seal, 0, sizeof(*seal));
	r.name = name;
	r.seal = seal;
	if (vb_backuplog_each_ok(path, sealed, &r, why, wlen) != 0)
		return -1;
	return seal->sha256[0] != '\0';
}

/* ---- which backups the history knows ---- */

/*
 * One name a row gives (its file, or a field), with the SHA-256 and size
 * that row recorded for it (sha "" none), into k.  0, or 1 out of memory.
 */
static int
know(struct vb_log_known *k, const struct vb_log_row *row, const char *base,
    const char *sha, int64_t bytes)
{
	struct vb_log_seal *e;
	struct vb_name nm;
	char v[16];
	size_t i;

	if (vb_name_parse(base, &nm) != 0 || nm.kind == VB_KIND_NONE ||
	    strlen(base) >= sizeof(k->e->name))
		return 0;
	/* "It names a backup": pre-restore copies are not the job's. */
	k->any |= nm.kind == VB_KIND_BACKUP;
	for (i = 0; i < k->n; i++)
		if (strcmp(k->e[i].name, base) == 0)
			break;
	if (i == k->n) {
		if (k->n == k->cap) {
			k->cap = k->cap ? k->cap * 2 : 64;
			if ((e = realloc(k->e, k->cap * sizeof(*e))) == NULL)
				return 1;
			k->e = e;
		}
		memset(&k->e[k->n], 0, sizeof(k->e[k->n]));
		snprintf(k->e[k->n].name, sizeof(k->e[k->n].name), "%s",
		    base);
		k->n++;
	}
	/* Made signed (SIGN_WITH): its compress row says so. */
	if ((strcmp(row->r.op, "compress") == 0 || strcmp(row->r.op,
	    "offsite") == 0) && vb_msg_field(row->r.msg, "signed", v,
	    sizeof(v)) == 0 && strcmp(v, "yes") == 0)
		k->e[i].is_signed = 1;
	/* The newest row that sealed it (made, sent, restored from). */
	if (k->e[i].sha256[0] == '\0' && sha[0] != '\0' &&
	    (strcmp(row->r.op, "compress") == 0 ||
	    strcmp(row->r.op, "offsite") == 0 ||
	    strcmp(row->r.op, "backup") == 0 ||
	    strcmp(row->r.op, "restore") == 0)) {
		memcpy(k->e[i].sha256, sha, VB_SHA256_HEX);
		k->e[i].bytes = bytes;
		snprintf(k->e[i].when, sizeof(k->e[i].when), "%s",
		    row->r.time);
		snprintf(k->e[i].op, sizeof(k->e[i].op), "%s", row->r.op);
	}
	return 0;
}

/*
 * A field's name (a file name) and its "-sha256" twin, given to know();
 * 0, or 1 out of memory.
 */
static int
know_field(struct vb_log_known *k, const struct vb_log_row *row,
    const char *key)
{
	char name[128], skey[32], sha[VB_SHA256_HEX + 8];

	if (vb_msg_field(row->r.msg, key, name, sizeof(name)) != 0)
		return 0;
	snprintf(skey, sizeof(skey), "%s-sha256", key);
	if (vb_msg_field(row->r.msg, skey, sha, sizeof(sha)) != 0 ||
	    strlen(sha) != VB_SHA256_HEX - 1)
		sha[0] = '\0';
	return know(k, row, name, sha, -1);
}

/*
 * Every row naming a backup (or pre-restore copy) of vb's, its SHA-256
 * where recorded: the row's own file, and what a restore or a partial
 * restore names as fields (archive=, saved=).
 */
static int
knows(void *arg, struct vb_log_row *row)
{
	struct vb_log_known *k = arg;
	const char *base = strrchr(row->r.path, '/');

	base = base != NULL ? base + 1 : row->r.path;
	if (strcmp(row->r.op, "restore") == 0)
		return know_field(k, row, "archive") || know_field(k, row,
		    "saved");
	return know(k, row, base, row->r.sha256, row->r.bytes);
}

int
vb_backuplog_known(const char *path, struct vb_log_known *k, char *why,
    size_t wlen)
{
	memset(k, 0, sizeof(*k));
	return vb_backuplog_each_ok(path, knows, k, why, wlen);
}

const struct vb_log_seal *
vb_log_known_find(const struct vb_log_known *k, const char *name)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if (strcmp(k->e[i].name, name) == 0)
			return &k->e[i];
	return NULL;
}

void
vb_log_known_free(struct vb_log_known *k)
{
	free(k->e);
	memset(k, 0, sizeof(*k));
}

/* ---- the partial restore an undo file belongs to ---- */

struct undo_state {
	const char		*name;
	struct vb_log_undo	*u;
};

/* Newest first: an undo of it (undone=), then the restore (undo=). */
static int
undo_rows(void *arg, struct vb_log_row *row)
{
	struct undo_state *s = arg;
	char v[4096];
	const char *base;

	if (strcmp(row->r.op, "restore") != 0)
		return 0;
	if (!s->u->undone && vb_msg_field(row->r.msg, "undone", v,
	    sizeof(v)) == 0 && strcmp(v, s->name) == 0) {
		s->u->undone = 1;
		snprintf(s->u->undone_at, sizeof(s->u->undone_at), "%s",
		    row->r.time);
	}
	if (vb_msg_field(row->r.msg, "undo", v, sizeof(v)) != 0)
		return 0;
	base = strrchr(v, '/') != NULL ? strrchr(v, '/') + 1 : v;
	if (strcmp(base, s->name) != 0)
		return 0;
	s->u->recorded = 1;
	snprintf(s->u->at, sizeof(s->u->at), "%s", row->r.time);
	if (vb_msg_field(row->r.msg, "undo-sha256", v, sizeof(v)) == 0 &&
	    strlen(v) == VB_SHA256_HEX - 1)
		memcpy(s->u->sha256, v, VB_SHA256_HEX);
	return 1;
}

int
vb_backuplog_undo(const char *path, const char *name, struct vb_log_undo *u,
    char *why, size_t wlen)
{
	struct undo_state s = { name, u };

	memset(u, 0, sizeof(*u));
	return vb_backuplog_each_ok(path, undo_rows, &s, why, wlen);
}
