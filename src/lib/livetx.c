/*
 * livetx.c - a change to the live database in one transaction through
 * SQLite: a partial restore, or its undo.
 *
 * The application's connections and WAL stay coherent (no file is
 * replaced), triggers do not fire and foreign key actions do not cascade
 * on this connection, and the order makes every refusal change nothing:
 * a pre-restore copy first, then BEGIN IMMEDIATE, the changes (each one
 * also written to a changeset in the work directory), the foreign keys
 * checked, the undo file put in place, and the restore's BackupLog row
 * (naming the undo file and its SHA-256) inserted in the same
 * transaction before the COMMIT.  A COMMIT that fails removes the undo
 * file; a change refused removes the pre-restore copy it made.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sqlite3.h>

#include "vblib.h"

int
vb_livetx_open(struct vb_livetx *x, const char *live, const char *dir,
    const char *work, char *why, size_t wlen)
{
	int on;

	memset(x, 0, sizeof(*x));
	x->guard.dirfd = -1;
	x->t0 = vb_monotonic_ms();
	x->live = live;
	x->dir = dir;
	snprintf(x->work, sizeof(x->work), "%s", work);
	if ((x->db = vb_db_open_live(live, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_URI, why, wlen)) == NULL)
		return -1;
	/* No trigger fires, no foreign key action cascades. */
	sqlite3_db_config(x->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, &on);
	sqlite3_db_config(x->db, SQLITE_DBCONFIG_ENABLE_FKEY, 0, &on);
	sqlite3_db_config(x->db, SQLITE_DBCONFIG_DEFENSIVE, 1, &on);
	return 0;
}

int
vb_livetx_attach(struct vb_livetx *x, const char *copy, const char *as,
    char *why, size_t wlen)
{
	char uri[8300];
	char *sql;
	int rc;

	/* A restored copy nobody writes: read-only, no lock, no WAL. */
	vb_db_uri(copy, "mode=ro&immutable=1", uri, sizeof(uri));
	sql = sqlite3_mprintf("ATTACH %Q AS \"%w\"", uri, as);
	rc = sql != NULL ? sqlite3_exec(x->db, sql, NULL, NULL, NULL) :
	    SQLITE_NOMEM;
	sqlite3_free(sql);
	if (rc != SQLITE_OK) {
		snprintf(why, wlen, "%s: %s", copy, sqlite3_errmsg(x->db));
		return -1;
	}
	return 0;
}

int
vb_livetx_begin(struct vb_livetx *x, int dry, char *note, size_t nlen,
    char *why, size_t wlen)
{
	x->dry = dry;
	if (!dry && vb_pre_restore(x->live, x->dir, x->saved,
	    sizeof(x->saved), x->saved_sha, note, nlen, why, wlen) != 0)
		return -1;
	/* A signal before the commit: the copy is of nothing that
	 * changed, and would push a needed one out of retention. */
	if (!dry && (x->guard.dirfd = open(x->dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) >= 0) {
		snprintf(x->guard.name, sizeof(x->guard.name), "%s",
		    strrchr(x->saved, '/') != NULL ?
		    strrchr(x->saved, '/') + 1 : x->saved);
		vb_tmp_guard(&x->guard);
	}
	if (sqlite3_exec(x->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		snprintf(why, wlen, "%s: %s", x->live, sqlite3_errmsg(x->db));
		return -1;
	}
	vb_path_join(x->changes, sizeof(x->changes), x->work, "changes");
	return vb_cs_open(&x->cs, x->changes, why, wlen);
}

/* ---- foreign keys ---- */

/* Whether name is one of the n tables (as SQLite compares names). */
static int
among(char *const *tables, int n, const char *name)
{
	int i;

	for (i = 0; name != NULL && i < n; i++)
		if (sqlite3_stricmp(tables[i], name) == 0)
			return 1;
	return 0;
}

/* table's violations counted into *n, the first said in first.
 * Returns 0, or -1 if the check itself failed (why). */
static int
check_one(sqlite3 *db, const char *table, int64_t *n, char *first,
    size_t flen, char *why, size_t wlen)
{
	sqlite3_stmt *st = NULL;
	char *sql = sqlite3_mprintf("PRAGMA main.foreign_key_check(%Q)",
	    table);
	int rc;

	if (sql == NULL || sqlite3_prepare_v2(db, sql, -1, &st, NULL) !=
	    SQLITE_OK) {
		snprintf(why, wlen, "checking the foreign keys of %s: %s",
		    table, sqlite3_errmsg(db));
		sqlite3_free(sql);
		return -1;
	}
	sqlite3_free(sql);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((*n)++ == 0)
			snprintf(first, flen, "row %lld of %s refers to a %s "
			    "row that would not exist",
			    (long long)sqlite3_column_int64(st, 1),
			    sqlite3_column_text(st, 0),
			    sqlite3_column_text(st, 2));
	if (rc != SQLITE_DONE)
		snprintf(why, wlen, "checking the foreign keys of %s: %s",
		    table, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int64_t
vb_livetx_fk(struct vb_livetx *x, char *const *tables, int n, char *why,
    size_t wlen)
{
	sqlite3_stmt *st;
	char first[1024] = "";
	int64_t v = 0;
	int i, rc = 0;

	for (i = 0; rc == 0 && i < n; i++)
		rc = check_one(x->db, tables[i], &v, first, sizeof(first),
		    why, wlen);
	/* The tables whose foreign keys name one of them, in any case. */
	if (rc == 0 && sqlite3_prepare_v2(x->db, "SELECT DISTINCT s.name, "
	    "f.\"table\" FROM main.sqlite_schema AS s, "
	    "pragma_foreign_key_list(s.name, 'main') AS f WHERE s.type = "
	    "'table'", -1, &st, NULL) == SQLITE_OK) {
		while (rc == 0 && sqlite3_step(st) == SQLITE_ROW)
			if (among(tables, n, (const char *)
			    sqlite3_column_text(st, 1)) && !among(tables, n,
			    (const char *)sqlite3_column_text(st, 0)))
				rc = check_one(x->db, (const char *)
				    sqlite3_column_text(st, 0), &v, first,
				    sizeof(first), why, wlen);
		if (sqlite3_finalize(st) != SQLITE_OK && rc == 0) {
			snprintf(why, wlen, "listing the foreign keys: %s",
			    sqlite3_errmsg(x->db));
			rc = -1;
		}
	} else if (rc == 0) {
		snprintf(why, wlen, "listing the foreign keys: %s",
		    sqlite3_errmsg(x->db));
		rc = -1;
	}
	if (rc != 0)
		return -1;
	if (v > 0)
		snprintf(why, wlen, "foreign keys would be broken: %s; %lld "
		    "in all; put back the tables they refer to as well, or "
		    "--force (nothing changed)", first, (long long)v);
	return v;
}

/* ---- the undo file, then the commit ---- */

/* The undo file's name for the pre-restore copy saved, into buf. */
static int
undo_name(const char *saved, int encrypted, char *buf, size_t len)
{
	const char *base = strrchr(saved, '/');
	struct vb_name nm;

	if (vb_name_parse(base != NULL ? base + 1 : saved, &nm) != 0 ||
	    nm.kind != VB_KIND_PRE_RESTORE)
		return -1;
	return vb_undo_name(&nm.when, encrypted, buf, len);
}

/* The changes file copied (or encrypted) into the temporary t, the
 * SHA-256 of what was written into x->undo_sha. */
static int
fill(struct vb_livetx *x, struct vb_tmp *t, const char *to, char *why,
    size_t wlen)
{
	struct stat st;
	int64_t bytes;
	int fd, rc;

	if ((fd = open(x->changes, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 ||
	    fstat(fd, &st) != 0) {
		snprintf(why, wlen, "%s: %s", x->changes, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (to != NULL)
		rc = vb_age_encrypt(to, fd, st.st_size, t->fd, x->undo_sha,
		    &bytes, why, wlen);
	else if ((rc = vb_copy_fd(fd, t->fd)) != 0)
		snprintf(why, wlen, "writing the undo file: %s",
		    strerror(errno));
	else if ((rc = lseek(t->fd, 0, SEEK_SET) == 0 && vb_sha256_fd(t->fd,
	    x->undo_sha) >= 0 ? 0 : -1) != 0)
		snprintf(why, wlen, "reading the undo file back: %s",
		    strerror(errno));
	close(fd);
	return rc;
}

int
vb_livetx_seal(struct vb_livetx *x, char *why, size_t wlen)
{
	const char *to = vb_config("ENCRYPT_TO");
	struct vb_tmp t;
	char name[128];

	if (vb_cs_close(&x->cs, why, wlen) != 0)
		return -1;
	if (x->dry)
		return 0;
	if (undo_name(x->saved, to != NULL, name, sizeof(name)) != 0) {
		snprintf(why, wlen, "%s: not a pre-restore copy's name",
		    x->saved);
		return -1;
	}
	if (vb_tmp_open(&t, x->dir, name, why, wlen) != 0)
		return -1;
	if (fill(x, &t, to, why, wlen) != 0) {
		vb_tmp_abort(&t);
		return -1;
	}
	if (vb_tmp_commit(&t, why, wlen) != 0)
		return -1;
	vb_path_join(x->undo, sizeof(x->undo), x->dir, name);
	return 0;
}

void
vb_livetx_record(const struct vb_livetx *x, const char *msg,
    struct vb_record *r)
{
	vb_record_init(r, "restore", x->live);
	r->ok = 1;
	r->ms = vb_monotonic_ms() - x->t0;
	r->msg = (char *)msg;
}

int
vb_livetx_commit(struct vb_livetx *x, struct vb_record *r, char *why,
    size_t wlen)
{
	if (x->dry)
		return 0;
	/*
	 * The restore row goes in with the changes, in one transaction:
	 * the undo file it names (and its SHA-256) then belongs to a change
	 * that happened to this very database, and its undo, which writes
	 * its own row the same way, can be applied once only.
	 */
	if (vb_backuplog_insert_on(x->db, x->live, r, why, wlen) != 0) {
		vb_appendf(why, wlen, "; the undo needs that row: nothing "
		    "changed");
		goto fail;
	}
	if (sqlite3_exec(x->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK) {
		x->committed = 1;
		return 0;
	}
	snprintf(why, wlen, "%s: %s", x->live, sqlite3_errmsg(x->db));
fail:
	/* Nothing changed: nothing to undo. */
	if (x->undo[0] != '\0') {
		unlink(x->undo);
		vb_fsync_dir(x->dir);
		x->undo[0] = '\0';
	}
	return -1;
}

void
vb_livetx_close(struct vb_livetx *x)
{
	char why[256];

	vb_cs_close(&x->cs, why, sizeof(why));
	if (x->db != NULL && sqlite3_get_autocommit(x->db) == 0)
		sqlite3_exec(x->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(x->db);
	x->db = NULL;
	if (x->changes[0] != '\0')
		unlink(x->changes);
	/* Refused: its safety copy is of nothing that changed. */
	if (!x->committed && x->saved[0] != '\0' && unlink(x->saved) == 0) {
		vb_fsync_dir(x->dir);
		x->saved[0] = '\0';
	}
	if (x->guard.name[0] != '\0') {
		vb_tmp_unguard(&x->guard);
		close(x->guard.dirfd);
		x->guard.name[0] = '\0';
	}
}

int
vb_is_sqlite_table(const char *name)
{
	return strncasecmp(name, "sqlite_", 7) == 0;
}
