/*
 * backuplog.c - the BackupLog table in the application's own database.
 *
 * vb creates it when absent (the schema of DESIGN.md and an index on
 * createdAt); an application's own BackupLog is never altered: vb writes
 * the columns it knows that exist there, and leaves the rest to their
 * defaults.  The database file itself is never created.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "vb.h"

/* The columns vb knows, and the names an older table may use for them. */
static const char *cols[VB_LOG_NCOLS][2] = {
	{ "createdAt",	NULL },
	{ "operation",	NULL },
	{ "status",	NULL },
	{ "filename",	NULL },
	{ "sizeBytes",	"size" },
	{ "sha256",	NULL },
	{ "durationMs",	"duration" },
	{ "message",	NULL },
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS BackupLog ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " createdAt TEXT NOT NULL, operation TEXT NOT NULL,"
    " status TEXT NOT NULL, filename TEXT, sizeBytes INTEGER,"
    " sha256 TEXT, durationMs INTEGER, message TEXT);"
    "CREATE INDEX IF NOT EXISTS BackupLog_createdAt ON BackupLog(createdAt);";

int
vb_backuplog_columns(sqlite3 *db, const char *have[VB_LOG_NCOLS])
{
	sqlite3_stmt *st;
	const char *name;
	size_t i;
	int n = 0;

	if (sqlite3_prepare_v2(db, "PRAGMA table_info(BackupLog)", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	memset(have, 0, sizeof(*have) * VB_LOG_NCOLS);
	while (sqlite3_step(st) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(st, 1);
		n++;
		for (i = 0; name != NULL && i < VB_LOG_NCOLS; i++) {
			if (have[i] == NULL &&
			    strcasecmp(name, cols[i][0]) == 0)
				have[i] = cols[i][0];
			else if (have[i] == NULL && cols[i][1] != NULL &&
			    strcasecmp(name, cols[i][1]) == 0)
				have[i] = cols[i][1];
		}
	}
	sqlite3_finalize(st);
	return n > 0 ? 0 : -1;
}

/* Opens path for writing, never creating it; returns 0, or -1 (why). */
static int
open_rw(const char *path, struct vb_backuplog *l, char *why, size_t wlen)
{
	memset(l, 0, sizeof(*l));
	l->path = path;
	if (vb_db_check_file(path, why, wlen) != 0)
		return -1;
	if (sqlite3_open_v2(path, &l->db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		snprintf(why, wlen, "%s: %s", path, l->db != NULL ?
		    sqlite3_errmsg(l->db) : "out of memory");
		sqlite3_close(l->db);
		l->db = NULL;
		return -1;
	}
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

/*
 * Prepares the insert on an open connection, creating BackupLog if it is
 * absent.  Returns 0, or -1 with why and the connection closed.
 */
static int
prepare(const char *path, struct vb_backuplog *l, char *why, size_t wlen)
{
	char sql[512], vals[64];
	size_t i;
	int n = 0;

	if (vb_backuplog_columns(l->db, l->have) != 0) {
		if (sqlite3_exec(l->db, schema, NULL, NULL, NULL) !=
		    SQLITE_OK ||
		    vb_backuplog_columns(l->db, l->have) != 0)
			goto fail;
	}
	if (l->have[0] == NULL || l->have[1] == NULL || l->have[2] == NULL) {
		snprintf(why, wlen, "%s: BackupLog has no createdAt, operation "
		    "or status column; it is not one vb can write", path);
		goto out;
	}
	snprintf(sql, sizeof(sql), "INSERT INTO BackupLog(");
	vals[0] = '\0';
	for (i = 0; i < VB_LOG_NCOLS; i++) {
		if (l->have[i] == NULL)
			continue;
		snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql),
		    "%s\"%s\"", n > 0 ? ", " : "", l->have[i]);
		snprintf(vals + strlen(vals), sizeof(vals) - strlen(vals),
		    "%s?%zu", n > 0 ? "," : "", i + 1);
		n++;
	}
	snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql),
	    ") VALUES (%s)", vals);
	if (sqlite3_prepare_v2(l->db, sql, -1, &l->ins, NULL) != SQLITE_OK)
		goto fail;
	return 0;
fail:
	snprintf(why, wlen, "%s: %s", path, l->db != NULL ?
	    sqlite3_errmsg(l->db) : "out of memory");
out:
	sqlite3_close(l->db);
	l->db = NULL;
	return -1;
}

int
vb_backuplog_insert(struct vb_backuplog *l, const struct vb_record *r)
{
	sqlite3_stmt *st = l->ins;
	int rc;

	sqlite3_bind_text(st, 1, r->time, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, r->op, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, r->ok ? "success" : "failure", -1,
	    SQLITE_STATIC);
	if (strcmp(r->path, "-") != 0)
		sqlite3_bind_text(st, 4, r->path, -1, SQLITE_TRANSIENT);
	if (r->bytes >= 0)
		sqlite3_bind_int64(st, 5, r->bytes);
	if (r->sha256[0] != '\0')
		sqlite3_bind_text(st, 6, r->sha256, -1, SQLITE_TRANSIENT);
	if (r->ms >= 0)
		sqlite3_bind_int64(st, 7, r->ms);
	sqlite3_bind_text(st, 8, r->msg, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
vb_backuplog_open(const char *path, struct vb_backuplog *l, char *why,
    size_t wlen)
{
	if (open_rw(path, l, why, wlen) != 0)
		return -1;
	return prepare(path, l, why, wlen);
}

int
vb_backuplog_check(const char *path, char *msg, size_t len)
{
	struct vb_backuplog l;
	int64_t rows = -1;
	int existed, rc = -1;

	if (open_rw(path, &l, msg, len) != 0)
		return -1;
	/* The write lock the nightly run will need, taken and given back. */
	if (sqlite3_exec(l.db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		snprintf(msg, len, "%s: cannot take the write lock: %s", path,
		    sqlite3_errmsg(l.db));
		sqlite3_close(l.db);
		return -1;
	}
	existed = vb_backuplog_columns(l.db, l.have) == 0;
	if (existed)
		vb_db_int(l.db, "SELECT count(*) FROM BackupLog", &rows);
	if (prepare(path, &l, msg, len) == 0) {
		if (existed)
			snprintf(msg, len, "%s: BackupLog can be written "
			    "(%lld rows)", path, (long long)rows);
		else
			snprintf(msg, len, "%s: can be written; BackupLog "
			    "will be created by the first run", path);
		rc = 0;
		sqlite3_exec(l.db, "ROLLBACK", NULL, NULL, NULL);
		vb_backuplog_close(&l);
	}
	return rc;
}

void
vb_backuplog_close(struct vb_backuplog *l)
{
	sqlite3_finalize(l->ins);
	sqlite3_close(l->db);
	l->ins = NULL;
	l->db = NULL;
}

int
vb_backuplog_write(struct vb_backuplog *l, const struct vb_record *r,
    size_t n, char *why, size_t wlen)
{
	size_t i;

	if (wlen > 0)
		why[0] = '\0';
	if (l->db == NULL)
		return -1;	/* vb_backuplog_open said why */
	/* One short transaction: the application waits for no more. */
	if (sqlite3_exec(l->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		goto fail;
	for (i = 0; i < n; i++)
		if (vb_backuplog_insert(l, &r[i]) != 0)
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
	struct vb_backuplog l;
	int rc;

	if (vb_backuplog_open(path, &l, why, wlen) != 0)
		return -1;
	rc = vb_backuplog_write(&l, r, 1, why, wlen);
	vb_backuplog_close(&l);
	return rc;
}

const char *
vb_backuplog_column(int i)
{
	return i >= 0 && i < VB_LOG_NCOLS ? cols[i][0] : NULL;
}

int
vb_backuplog_query(sqlite3 *db, const char *path,
    const struct vb_log_query *q, sqlite3_stmt **st, char *why, size_t wlen)
{
	const char *have[VB_LOG_NCOLS];
	char sql[1024];
	size_t i;

	*st = NULL;
	if (vb_backuplog_columns(db, have) != 0 || have[0] == NULL) {
		snprintf(why, wlen, "%s: no BackupLog table with a createdAt "
		    "column", path);
		return -1;
	}
	snprintf(sql, sizeof(sql), "SELECT ");
	for (i = 0; i < VB_LOG_NCOLS; i++)
		snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql),
		    "%s%s%s%s", i > 0 ? ", " : "", have[i] != NULL ? "\"" : "",
		    have[i] != NULL ? have[i] : "NULL",
		    have[i] != NULL ? "\"" : "");
	snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql),
	    " FROM BackupLog WHERE %s AND (?1 IS NULL OR \"%s\" >= ?1) "
	    "ORDER BY \"%s\" DESC, rowid DESC LIMIT ?2",
	    q->failures && have[2] != NULL ? "\"status\" <> 'success'" : "1",
	    have[0], have[0]);
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
		snprintf(why, wlen, "%s: %s", path, sqlite3_errmsg(db));
		return -1;
	}
	if (q->since != NULL)
		sqlite3_bind_text(*st, 1, q->since, -1, SQLITE_STATIC);
	sqlite3_bind_int64(*st, 2, q->count);
	return 0;
}

/* A column's text, cleaned to one record field, into buf; NULL if NULL. */
static const char *
text(sqlite3_stmt *st, int i, char *buf, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	if (t == NULL)
		return NULL;
	snprintf(buf, len, "%s", (const char *)t);
	vb_clean_field(buf);
	return buf;
}

void
vb_backuplog_row(sqlite3_stmt *st, struct vb_log_row *row)
{
	struct vb_record *r = &row->r;
	const char *sh;
	char op[32];

	memset(row, 0, sizeof(*row));
	text(st, 0, row->when, sizeof(row->when));
	text(st, 1, op, sizeof(op));
	text(st, 2, row->status, sizeof(row->status));
	r->path = text(st, 3, row->file, sizeof(row->file)) != NULL &&
	    row->file[0] != '\0' ? row->file : (char *)"-";
	snprintf(r->op, sizeof(r->op), "%s", op);
	r->ok = strcmp(row->status, "success") == 0;
	r->bytes = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 :
	    sqlite3_column_int64(st, 4);
	sh = text(st, 5, row->sha, sizeof(row->sha));
	if (sh != NULL && strlen(sh) == VB_SHA256_HEX - 1)
		memcpy(r->sha256, sh, VB_SHA256_HEX);
	r->ms = sqlite3_column_type(st, 6) == SQLITE_NULL ? -1 :
	    sqlite3_column_int64(st, 6);
	snprintf(r->time, sizeof(r->time), "%s", row->when);
	if (text(st, 7, row->msg, sizeof(row->msg)) == NULL)
		row->msg[0] = '\0';
	r->msg = row->msg;
}
