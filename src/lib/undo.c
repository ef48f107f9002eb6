/*
 * undo.c - a partial restore reversed: vb-restore --undo FILE.
 *
 * The undo file holds the restore's changes (changeset.c).  It is trusted
 * only as the restore left it: the live database's BackupLog must hold
 * the row that restore committed with its changes, naming this file and
 * its SHA-256, and no row of an undo of it (an undo is applied once);
 * its framing is checked whole before SQLite reads it.  Then each change
 * is reversed only where the row is still as the restore left it: a row
 * put back must still be there, whole, a row reset must be unchanged
 * since, and a deleted row's key must still be free.  Any other row is a
 * conflict: listed, and with conflicts nothing changes, unless --force,
 * which leaves those rows as they are and undoes the rest.  Rows are
 * found as match.c matches them (the key with IS; a table without a key
 * through an index of its values).  The undo is itself a change to the
 * live database (livetx.c): pre-restore copy, one transaction, foreign
 * keys checked, its own row and undo file, which redoes.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sqlite3.h>

#include "vblib.h"

#define FIRST_CONFLICTS	5

/* The table being undone, and its statements. */
struct cur {
	struct vb_table	 t;
	sqlite3_stmt	*find;		/* keyed: (row same as ?, count) */
	sqlite3_stmt	*del;		/* by key, or (no key) by rowid */
	sqlite3_stmt	*ins;
	sqlite3_stmt	*upd;		/* by key: ?1.. the key, ?n+1.. new */
	struct vb_copies copies;	/* no key: its rows, by value */
	int		 indexed;	/* copies made */
	int64_t		 n[3];		/* deleted, reset, put back */
	int		 used;
};

struct undo {
	struct vb_livetx x;
	struct cur	 c;
	sqlite3_str	*said;		/* each table's counts */
	char		*names[VB_MAX_TABLES];
	int		 ntables;
	int64_t		 conflicts;
	char		 first[1024];	/* the first conflicts, named */
	char		 sha[VB_SHA256_HEX];	/* the file's, as stored */
	const char	*base;		/* its name */
};

/* ---- the table a change is for ---- */

static void
cur_end(struct undo *u)
{
	struct cur *c = &u->c;

	if (c->used && u->said != NULL)
		sqlite3_str_appendf(u->said, "%s%s: %lld put back, %lld "
		    "deleted, %lld reset", sqlite3_str_length(u->said) > 0 ?
		    "; " : "", c->t.name, (long long)c->n[2],
		    (long long)c->n[0], (long long)c->n[1]);
	sqlite3_finalize(c->find);
	sqlite3_finalize(c->del);
	sqlite3_finalize(c->ins);
	sqlite3_finalize(c->upd);
	if (c->indexed)
		vb_copies_close(&c->copies);
	vb_table_free(&c->t);
	memset(c, 0, sizeof(*c));
}

/* "c1" = ?{n+1}, ...: every column set from the second row's values. */
static char *
set_list(const struct vb_table *t)
{
	sqlite3_str *s = sqlite3_str_new(NULL);
	int i;

	for (i = 0; i < t->ncols; i++)
		sqlite3_str_appendf(s, "%s\"%w\" = ?%d", i > 0 ? ", " : "",
		    t->cols[i], t->ncols + i + 1);
	return vb_str_finish(s);
}

/* The statements of the live table c->t.  0, or -1 with why. */
static int
prepare(sqlite3 *db, struct cur *c, char *why, size_t wlen)
{
	char *key = vb_sql_key_params(&c->t), *row = vb_sql_row_params(&c->t);
	char *cols = vb_sql_cols(&c->t, NULL), *qs = vb_sql_params(&c->t);
	char *set = set_list(&c->t), *sql[4] = { NULL, NULL, NULL, NULL };
	sqlite3_stmt **st[4] = { &c->find, &c->del, &c->ins, &c->upd };
	const char *t = c->t.name;
	int i, rc = 0;

	if (key != NULL && row != NULL && cols != NULL && qs != NULL &&
	    set != NULL) {
		sql[0] = sqlite3_mprintf("SELECT max(%s), count(*) FROM "
		    "main.\"%w\" WHERE %s", row, t, key);
		sql[1] = c->t.nkey > 0 ? sqlite3_mprintf("DELETE FROM "
		    "main.\"%w\" WHERE %s", t, key) : sqlite3_mprintf("DELETE "
		    "FROM main.\"%w\" WHERE %s = ?1", t, c->t.rowid);
		sql[2] = sqlite3_mprintf("INSERT INTO main.\"%w\"(%s) "
		    "VALUES(%s)", t, cols, qs);
		sql[3] = sqlite3_mprintf("UPDATE main.\"%w\" SET %s WHERE %s",
		    t, set, key);
	}
	for (i = 0; i < 4 && rc == 0; i++)
		if (sql[i] == NULL || sqlite3_prepare_v2(db, sql[i], -1, st[i],
		    NULL) != SQLITE_OK) {
			snprintf(why, wlen, "%s: %s", t, sqlite3_errmsg(db));
			rc = -1;
		}
	for (i = 0; i < 4; i++)
		sqlite3_free(sql[i]);
	sqlite3_free(key);
	sqlite3_free(row);
	sqlite3_free(cols);
	sqlite3_free(qs);
	sqlite3_free(set);
	return rc;
}

/* Whether the change's key flags are the live table's key. */
static int
same_shape(const struct vb_table *t, const unsigned char *pk, int ncol)
{
	int i;

	if (t->ncols != ncol || ncol > VB_MAX_COLUMNS || (t->nkey == 0 &&
	    t->rowid == NULL))
		return 0;
	for (i = 0; i < ncol; i++)
		if (pk[i] != (t->nkey > 0 ? t->pk[i] : i + 1))
			return 0;
	return 1;
}

/*
 * The live table the change at it is for, its shape checked against the
 * change's (the same columns, the same key).  0, or -1 with why.
 */
static int
table_of(struct undo *u, sqlite3_changeset_iter *it, char *why,
    size_t wlen)
{
	const char *name;
	unsigned char *pk;
	int ncol, op, ind, npk, i;

	if (sqlite3changeset_op(it, &name, &ncol, &op, &ind) != SQLITE_OK ||
	    sqlite3changeset_pk(it, &pk, &npk) != SQLITE_OK) {
		snprintf(why, wlen, "not an undo file: a change without its "
		    "table");
		return -1;
	}
	if (u->c.t.name != NULL && strcmp(u->c.t.name, name) == 0)
		return 0;
	cur_end(u);
	if (strcasecmp(name, "BackupLog") == 0 || vb_is_sqlite_table(name)) {
		snprintf(why, wlen, "%s: an undo never changes that table",
		    name);
		return -1;
	}
	if ((i = vb_table_load(u->x.db, "main", name, &u->c.t, why,
	    wlen)) != 0) {
		if (i > 0)
			snprintf(why, wlen, "%s: no such table in %s: the undo "
			    "cannot apply", name, u->x.live);
		return -1;
	}
	if (!same_shape(&u->c.t, pk, ncol)) {
		snprintf(why, wlen, "%s: its columns or its key changed since "
		    "the restore: the undo cannot apply (nothing changed)",
		    name);
		return -1;
	}
	for (i = 0; i < u->ntables; i++)
		if (sqlite3_stricmp(u->names[i], u->c.t.name) == 0)
			break;
	if (i == u->ntables && u->ntables < VB_MAX_TABLES &&
	    (u->names[u->ntables] = sqlite3_mprintf("%s", u->c.t.name)) !=
	    NULL)
		u->ntables++;
	u->c.used = 1;
	vb_cs_table(&u->x.cs, &u->c.t);
	return prepare(u->x.db, &u->c, why, wlen);
}

/* ---- one change undone ---- */

/* Binds row (ncols values) to st from parameter at. */
static void
bind_row(sqlite3_stmt *st, sqlite3_value **row, int ncols, int at)
{
	int i, max = sqlite3_bind_parameter_count(st);

	for (i = 0; i < ncols && at + i <= max; i++)
		sqlite3_bind_value(st, at + i, row[i]);
}

/*
 * Whether the row a keyed change expects (want) is there as it is: 0
 * yes, 1 it is gone, 2 it changed since, 3 two rows hold its key; -1
 * error.
 */
static int
as_left(struct cur *c, sqlite3_value **want)
{
	int64_t n;
	int same;

	sqlite3_reset(c->find);
	bind_row(c->find, want, c->t.ncols, 1);
	if (sqlite3_step(c->find) != SQLITE_ROW)
		return -1;
	same = sqlite3_column_int(c->find, 0);
	n = sqlite3_column_int64(c->find, 1);
	sqlite3_reset(c->find);
	return n == 0 ? 1 : n > 1 ? 3 : same ? 0 : 2;
}

/* A conflict, counted and (the first ones) named. */
static void
conflict(struct undo *u, sqlite3_value **row, int why)
{
	static const char *const said[] = { "", "gone since the restore",
	    "changed since the restore", "its key held by two rows",
	    "its key taken since the restore" };
	sqlite3_str *k;
	char *s;
	int i, n = 0;

	if (u->conflicts++ >= FIRST_CONFLICTS)
		return;
	k = sqlite3_str_new(NULL);
	for (i = 0; i < u->c.t.ncols; i++) {
		if (u->c.t.nkey > 0 && u->c.t.pk[i] == 0)
			continue;
		sqlite3_str_appendf(k, "%s%s", n++ > 0 ? ", " : "",
		    sqlite3_value_type(row[i]) == SQLITE_BLOB ? "x'..'" :
		    sqlite3_value_type(row[i]) == SQLITE_NULL ? "NULL" :
		    (const char *)sqlite3_value_text(row[i]));
	}
	s = vb_str_finish(k);
	vb_notef(u->first, sizeof(u->first), "%s (%.80s): %s", u->c.t.name,
	    s != NULL ? s : "", said[why]);
	sqlite3_free(s);
}

/* Runs st (bound); it must change one row.  0, or -1. */
static int
one(sqlite3 *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE && sqlite3_changes64(db) == 1 ? 0 : -1;
}

/* A row the restore put back taken out again: 0 done, else a conflict
 * (the row gone or changed since), -1 error. */
static int
take_out(struct undo *u, sqlite3_value **row)
{
	struct cur *c = &u->c;
	char w[512];
	int64_t r;
	int st;

	if (c->t.nkey > 0) {
		if ((st = as_left(c, row)) != 0)
			return st;
		sqlite3_reset(c->del);
		bind_row(c->del, row, c->t.ncols, 1);
		return one(u->x.db, c->del);
	}
	/* No key: one of the equal copies, found through its index. */
	if (!c->indexed) {
		if (vb_copies_open(u->x.db, &c->t, &c->copies, w,
		    sizeof(w)) != 0)
			return -1;
		c->indexed = 1;
	}
	if ((r = vb_copies_take(&c->copies, row)) < 0)
		return r == -1 ? 1 : -1;
	sqlite3_reset(c->del);
	sqlite3_bind_int64(c->del, 1, r);
	return one(u->x.db, c->del);
}

/*
 * The change at it undone (each inverted here: SQLite's inversion leaves
 * an update's key undefined), unless the row is not as the restore left
 * it (a conflict, skipped), and recorded.  0, or -1 with why.
 * (long: one case per kind of change, each inverted and checked against the
 * row as the restore left it)
 */
static int
apply(struct undo *u, sqlite3_changeset_iter *it, char *why, size_t wlen)
{
	sqlite3_value *was[VB_MAX_COLUMNS], *now[VB_MAX_COLUMNS];
	struct cur *c = &u->c;
	const char *name;
	int ncol, op, ind, i, st = 0, rc = 0;

	if (table_of(u, it, why, wlen) != 0)
		return -1;
	sqlite3changeset_op(it, &name, &ncol, &op, &ind);
	/* was: the row before the restore; now: as the restore left it. */
	for (i = 0; i < ncol; i++) {
		was[i] = now[i] = NULL;
		if ((op == SQLITE_DELETE || op == SQLITE_UPDATE) &&
		    (sqlite3changeset_old(it, i, &was[i]) != SQLITE_OK ||
		    was[i] == NULL))
			goto corrupt;
		if ((op == SQLITE_INSERT || op == SQLITE_UPDATE) &&
		    (sqlite3changeset_new(it, i, &now[i]) != SQLITE_OK ||
		    now[i] == NULL))
			goto corrupt;
	}
	switch (op) {
	case SQLITE_INSERT:	/* put back: taken out again */
		if ((st = take_out(u, now)) == 0)
			c->n[0]++;
		break;
	case SQLITE_DELETE:	/* deleted: back, if its key is free */
		if (c->t.nkey > 0 && (st = as_left(c, was)) != 1)
			st = st < 0 ? -1 : 4;
		else {
			sqlite3_reset(c->ins);
			bind_row(c->ins, was, ncol, 1);
			st = one(u->x.db, c->ins);
			c->n[2] += st == 0;
		}
		break;
	default:		/* reset: its old values back */
		if (c->t.nkey == 0)
			goto corrupt;
		if ((st = as_left(c, now)) == 0) {
			sqlite3_reset(c->upd);
			bind_row(c->upd, now, ncol, 1);
			bind_row(c->upd, was, ncol, ncol + 1);
			rc = one(u->x.db, c->upd);
			c->n[1]++;
		}
	}
	if (st < 0 || rc != 0) {
		snprintf(why, wlen, "%s: %s", c->t.name,
		    sqlite3_errmsg(u->x.db));
		return -1;
	}
	if (st > 0)
		conflict(u, op == SQLITE_DELETE ? was : now, st);
	else	/* the undo's own change, forward: its undo redoes */
		vb_cs_change(&u->x.cs, op == SQLITE_INSERT ? SQLITE_DELETE :
		    op == SQLITE_DELETE ? SQLITE_INSERT : SQLITE_UPDATE,
		    op == SQLITE_DELETE ? NULL : now, op == SQLITE_INSERT ?
		    NULL : was);
	return 0;
corrupt:
	snprintf(why, wlen, "not an undo file: a change of %s without its "
	    "whole rows", name);
	return -1;
}

/* ---- the undo file: the restore's, unchanged, not yet undone ---- */

/*
 * The undo file opened, never through a link: its plain changes (age
 * decrypts an encrypted one into the work directory), their framing
 * checked, its SHA-256 as stored into u->sha.  The descriptor of the
 * changes, or -1 with why.
 */
static int
open_undo(const struct vb_undo_opts *o, struct undo *u, const char *work,
    char *why, size_t wlen)
{
	char plain[4500], hex[VB_SHA256_HEX];
	struct timespec when;
	struct vb_child child;
	struct stat st;
	int64_t bytes;
	int fd, pfd, enc, status;

	u->base = strrchr(o->file, '/') != NULL ? strrchr(o->file, '/') + 1 :
	    o->file;
	if (vb_undo_parse(u->base, &when, &enc) != 0) {
		snprintf(why, wlen, "%s: not an undo file's name "
		    "(undo-<time>.changeset, .age when encrypted)", o->file);
		return -1;
	}
	if (enc && o->identity == NULL) {
		snprintf(why, wlen, "%s is encrypted: give the age identity "
		    "(-i FILE)", o->file);
		return -1;
	}
	if ((fd = open(o->file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 ||
	    fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, wlen, "%s: %s", o->file, fd < 0 ? (errno ==
		    ELOOP ? "a symbolic link" : strerror(errno)) :
		    "not a regular file");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!enc) {
		if (vb_cs_check(fd, u->sha, &bytes, why, wlen) != 0 ||
		    lseek(fd, 0, SEEK_SET) != 0) {
			close(fd);
			return -1;
		}
		return fd;
	}
	/* Encrypted: its stored bytes hashed, then decrypted whole. */
	vb_path_join(plain, sizeof(plain), work, "changes.in");
	if (vb_sha256_fd(fd, u->sha) < 0 || lseek(fd, 0, SEEK_SET) != 0 ||
	    (pfd = open(plain, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) <
	    0) {
		snprintf(why, wlen, "%s: %s", o->file, strerror(errno));
		close(fd);
		return -1;
	}
	if (vb_age_decrypt_to(o->identity, fd, pfd, &child, why, wlen) != 0 ||
	    vb_child_wait(&child, &status, why, wlen) != 0 || lseek(pfd, 0,
	    SEEK_SET) != 0 || vb_cs_check(pfd, hex, &bytes, why, wlen) != 0 ||
	    lseek(pfd, 0, SEEK_SET) != 0) {
		close(fd);
		close(pfd);
		return -1;
	}
	close(fd);
	return pfd;
}

/*
 * The restore that wrote the file, as the live database's BackupLog
 * (read inside the undo's transaction) says: recorded, with this very
 * SHA-256, and never undone.  0, or -1 with why.
 */
static int
belongs(const struct vb_undo_opts *o, const struct undo *u, char *why,
    size_t wlen)
{
	struct vb_log_undo r = { 0 };
	char w[512];

	if (vb_backuplog_undo(o->db, u->base, &r, w, sizeof(w)) != 0) {
		snprintf(why, wlen, "%s: its BackupLog cannot be read (%s): "
		    "nothing vouches for %s; refused", o->db, w, o->file);
		return -1;
	}
	if (!r.recorded)
		snprintf(why, wlen, "%s: no partial restore recorded in the "
		    "BackupLog of %s wrote it (the undo of another database's "
		    "restore, or a file vb-restore did not write): refused, "
		    "nothing changed", o->file, o->db);
	else if (strcmp(r.sha256, u->sha) != 0)
		snprintf(why, wlen, "%s is not the undo file the restore of "
		    "%s wrote (SHA-256 %s, recorded %s; this file's is %s): "
		    "altered or replaced since; refused, nothing changed",
		    o->file, r.at, r.sha256[0] != '\0' ? r.sha256 : "unknown",
		    o->db, u->sha);
	else if (r.undone)
		snprintf(why, wlen, "%s was applied already, at %s (an undo "
		    "is applied once; its own undo file redoes it): refused, "
		    "nothing changed", o->file, r.undone_at);
	else
		return 0;
	return -1;
}

/* ---- the whole ---- */

/* Each change undone, in the open transaction.  0, or -1 with why. */
static int
each_change(struct undo *u, int fd, char *why, size_t wlen)
{
	sqlite3_changeset_iter *it = NULL;
	int rc;

	if (vb_cs_start(&it, &fd) != SQLITE_OK) {
		snprintf(why, wlen, "reading the undo file: out of memory");
		return -1;
	}
	while ((rc = sqlite3changeset_next(it)) == SQLITE_ROW)
		if (apply(u, it, why, wlen) != 0)
			break;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		snprintf(why, wlen, "not an undo file, or cut short: %s",
		    sqlite3_errstr(rc));
	sqlite3changeset_finalize(it);
	cur_end(u);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The message: what it undid, each table's counts, the copies made. */
static void
say(const struct vb_undo_opts *o, struct undo *u, int64_t fk,
    struct vb_partial_result *res)
{
	sqlite3_str *m = sqlite3_str_new(NULL);
	char *said = vb_str_finish(u->said), *s;

	u->said = NULL;
	/* undone= first, read back (vb_msg_field): applied once only. */
	sqlite3_str_appendf(m, "undone=%s; undo of %s: %s", u->base, o->file,
	    said != NULL && *said != '\0' ? said : "nothing to undo");
	if (u->conflicts > 0)
		sqlite3_str_appendf(m, "; %lld rows changed since left as they "
		    "are (--force): %s", (long long)u->conflicts, u->first);
	if (fk > 0)
		sqlite3_str_appendf(m, "; %lld foreign key violations kept "
		    "(--force)", (long long)fk);
	if (u->x.saved[0] != '\0')
		sqlite3_str_appendf(m, "; pre-restore copy: %s", u->x.saved);
	if (u->x.undo[0] != '\0')
		sqlite3_str_appendf(m, "; undo-sha256=%s; undo=%s",
		    u->x.undo_sha, u->x.undo);
	s = vb_str_finish(m);
	snprintf(res->message, sizeof(res->message), "%s", s != NULL ? s :
	    "out of memory");
	sqlite3_free(s);
	sqlite3_free(said);
}

/* Begun, vouched for, undone, checked, committed.  0, or -1 (why). */
static int
run(struct undo *u, const struct vb_undo_opts *o, int fd,
    struct vb_partial_result *res)
{
	int64_t fk;

	if (vb_livetx_begin(&u->x, o->dry, res->note, sizeof(res->note),
	    res->why, sizeof(res->why)) != 0 || belongs(o, u, res->why,
	    sizeof(res->why)) != 0 || each_change(u, fd, res->why,
	    sizeof(res->why)) != 0)
		return -1;
	if (u->conflicts > 0 && !o->force) {
		snprintf(res->why, sizeof(res->why), "%lld rows changed since "
		    "the restore: %s%s; nothing changed (--force undoes the "
		    "rest and leaves those as they are)",
		    (long long)u->conflicts, u->first, u->conflicts >
		    FIRST_CONFLICTS ? " ..." : "");
		return -1;
	}
	if ((fk = vb_livetx_fk(&u->x, u->names, u->ntables, res->why,
	    sizeof(res->why))) < 0 || (fk > 0 && !o->force))
		return -1;
	res->violations = fk;
	if (vb_livetx_seal(&u->x, res->why, sizeof(res->why)) != 0)
		return -1;
	say(o, u, fk, res);
	snprintf(res->saved, sizeof(res->saved), "%s", u->x.saved);
	snprintf(res->undo, sizeof(res->undo), "%s", u->x.undo);
	vb_livetx_record(&u->x, res->message, &res->record);
	return vb_livetx_commit(&u->x, &res->record, res->why,
	    sizeof(res->why));
}

int
vb_undo(const struct vb_undo_opts *o, struct vb_partial_result *res)
{
	struct undo u;
	char work[4400], w[512];
	int fd, i, rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&u, 0, sizeof(u));
	u.said = sqlite3_str_new(NULL);
	vb_clean_stale(o->dir, w, sizeof(w));
	if (vb_work_make(o->dir, "undo", work, sizeof(work), res->why,
	    sizeof(res->why)) != 0) {
		sqlite3_free(vb_str_finish(u.said));
		return -1;
	}
	if ((fd = open_undo(o, &u, work, res->why, sizeof(res->why))) >= 0) {
		if (vb_livetx_open(&u.x, o->db, o->dir, work, res->why,
		    sizeof(res->why)) == 0)
			rc = run(&u, o, fd, res);
		close(fd);
	}
	vb_livetx_close(&u.x);
	for (i = 0; i < u.ntables; i++)
		sqlite3_free(u.names[i]);
	sqlite3_free(vb_str_finish(u.said));
	vb_work_remove(work);
	return rc;
}
