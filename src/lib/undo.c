/*
 * undo.c - a partial restore reversed: vb-restore --undo FILE.
 *
 * The undo file holds the restore's changes (changeset.c); SQLite's
 * changeset reader inverts them as it streams them, and each inverse is
 * applied only where the row is still as the restore left it: a row
 * deleted must not be back, a row put back or reset must be unchanged
 * since, whole.  Any other row is a conflict: listed, and with conflicts
 * nothing changes, unless --force, which leaves those rows as they are
 * and undoes the rest.  Rows are found as match.c matches them (the key
 * with IS, else a whole equal row).  The undo is itself a change to the
 * live database (livetx.c): pre-restore copy, one transaction, foreign
 * keys checked, and an undo file of its own, which redoes.
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

#define FIRST_CONFLICTS	5

/* The table being undone, and its statements. */
struct cur {
	struct vb_table	 t;
	sqlite3_stmt	*find;		/* (row same as ?, count) by key */
	sqlite3_stmt	*del;		/* by key, or one equal row */
	sqlite3_stmt	*ins;
	sqlite3_stmt	*upd;		/* by key: ?1.. the key, ?n+1.. new */
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
		    "FROM main.\"%w\" WHERE %s IN (SELECT %s FROM main.\"%w\" "
		    "WHERE %s LIMIT 1)", t, c->t.rowid, c->t.rowid, t, row);
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
	int ncol, op, ind, npk, i, same;

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
	same = u->c.t.ncols == ncol && ncol <= VB_MAX_COLUMNS &&
	    (u->c.t.nkey > 0 || u->c.t.rowid != NULL);
	for (i = 0; same && i < ncol; i++)
		same = pk[i] == (u->c.t.nkey > 0 ? u->c.t.pk[i] : i + 1);
	if (!same) {
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
 * Whether the row the change expects (want) is there as it is: 0 yes,
 * 1 it is gone, 2 it changed since, 3 two rows hold its key; -1 error.
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
	if (n == 0)
		return 1;
	if (c->t.nkey == 0)
		return 0;	/* an equal row: any copy will do */
	return n > 1 ? 3 : same ? 0 : 2;
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
		s = sqlite3_mprintf("%s%s", n++ > 0 ? ", " : "",
		    sqlite3_value_type(row[i]) == SQLITE_BLOB ? "x'..'" :
		    sqlite3_value_type(row[i]) == SQLITE_NULL ? "NULL" :
		    (const char *)sqlite3_value_text(row[i]));
		sqlite3_str_appendall(k, s != NULL ? s : "");
		sqlite3_free(s);
	}
	s = vb_str_finish(k);
	snprintf(u->first + strlen(u->first), sizeof(u->first) -
	    strlen(u->first), "%s%s (%.80s): %s", u->first[0] != '\0' ? "; " :
	    "", u->c.t.name, s != NULL ? s : "", said[why]);
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

/*
 * The inverse change at it applied, unless the row is not as the
 * restore left it (a conflict, skipped), and recorded.  0, or -1 with
 * why.
 */
static int
apply(struct undo *u, sqlite3_changeset_iter *it, char *why, size_t wlen)
{
	sqlite3_value *old[VB_MAX_COLUMNS], *new[VB_MAX_COLUMNS];
	struct cur *c = &u->c;
	const char *name;
	int ncol, op, ind, i, st = 0, rc = 0;

	if (table_of(u, it, why, wlen) != 0)
		return -1;
	sqlite3changeset_op(it, &name, &ncol, &op, &ind);
	for (i = 0; i < ncol; i++) {
		old[i] = new[i] = NULL;
		if ((op == SQLITE_DELETE || op == SQLITE_UPDATE) &&
		    (sqlite3changeset_old(it, i, &old[i]) != SQLITE_OK ||
		    old[i] == NULL))
			goto corrupt;
		if ((op == SQLITE_INSERT || op == SQLITE_UPDATE) &&
		    sqlite3changeset_new(it, i, &new[i]) != SQLITE_OK)
			goto corrupt;
		/* An update's key is undefined in its new row: unchanged. */
		if (op == SQLITE_UPDATE && new[i] == NULL)
			new[i] = old[i];
		if (op == SQLITE_INSERT && new[i] == NULL)
			goto corrupt;
	}
	switch (op) {
	case SQLITE_DELETE:	/* a row the restore put back */
		if ((st = as_left(c, old)) == 0) {
			bind_row(c->del, old, ncol, 1);
			rc = one(u->x.db, c->del);
			c->n[0]++;
		}
		break;
	case SQLITE_INSERT:	/* a row the restore deleted */
		if (c->t.nkey > 0 && (st = as_left(c, new)) != 1)
			st = st < 0 ? -1 : 4;
		else {
			st = 0;
			bind_row(c->ins, new, ncol, 1);
			rc = one(u->x.db, c->ins);
			c->n[2]++;
		}
		break;
	default:		/* a row the restore reset */
		if ((st = as_left(c, old)) == 0) {
			bind_row(c->upd, old, ncol, 1);
			bind_row(c->upd, new, ncol, ncol + 1);
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
		conflict(u, op == SQLITE_INSERT ? new : old, st);
	else
		vb_cs_change(&u->x.cs, op, op == SQLITE_INSERT ? NULL : old,
		    op == SQLITE_DELETE ? NULL : new);
	return 0;
corrupt:
	snprintf(why, wlen, "not an undo file: a change of %s without its "
	    "rows", name);
	return -1;
}

/* ---- the whole ---- */

/*
 * The undo file opened for reading its changes: age decrypts an
 * encrypted one (child started).  Returns the descriptor, or -1 (why).
 */
static int
open_undo(const struct vb_undo_opts *o, struct vb_child *child,
    int *started, char *why, size_t wlen)
{
	const char *base = strrchr(o->file, '/');
	struct timespec when;
	int fd, enc, out;

	*started = 0;
	if (vb_undo_parse(base != NULL ? base + 1 : o->file, &when, &enc) !=
	    0) {
		snprintf(why, wlen, "%s: not an undo file's name "
		    "(undo-<time>.changeset, .age when encrypted)", o->file);
		return -1;
	}
	if (enc && o->identity == NULL) {
		snprintf(why, wlen, "%s is encrypted: give the age identity "
		    "(-i FILE)", o->file);
		return -1;
	}
	if ((fd = open(o->file, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(why, wlen, "%s: %s", o->file, strerror(errno));
		return -1;
	}
	if (!enc)
		return fd;
	out = vb_age_decrypt_start(o->identity, fd, child, why, wlen);
	close(fd);
	*started = out >= 0;
	return out;
}

/* Each change undone, in the open transaction.  0, or -1 with why. */
static int
each_change(struct undo *u, int fd, char *why, size_t wlen)
{
	sqlite3_changeset_iter *it = NULL;
	int rc;

	if (vb_cs_start_inverted(&it, &fd) != SQLITE_OK) {
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

/* The message: each table's counts, what from, the copies made. */
static void
say(const struct vb_undo_opts *o, struct undo *u, int64_t fk,
    struct vb_partial_result *res)
{
	sqlite3_str *m = sqlite3_str_new(NULL);
	char *said = vb_str_finish(u->said), *s;

	u->said = NULL;
	sqlite3_str_appendf(m, "undo of %s: %s", o->file, said != NULL &&
	    *said != '\0' ? said : "nothing to undo");
	if (u->conflicts > 0)
		sqlite3_str_appendf(m, "; %lld rows changed since left as they "
		    "are (--force): %s", (long long)u->conflicts, u->first);
	if (fk > 0)
		sqlite3_str_appendf(m, "; %lld foreign key violations kept "
		    "(--force)", (long long)fk);
	if (u->x.saved[0] != '\0')
		sqlite3_str_appendf(m, "; pre-restore copy: %s", u->x.saved);
	if (u->x.undo[0] != '\0')
		sqlite3_str_appendf(m, "; undo=%s", u->x.undo);
	s = vb_str_finish(m);
	snprintf(res->message, sizeof(res->message), "%s", s != NULL ? s :
	    "out of memory");
	sqlite3_free(s);
	sqlite3_free(said);
}

/*
 * age's verdict on an encrypted undo file read to its end: a file it
 * could not decrypt whole is refused before anything commits.  With
 * *child NULL (not encrypted, or already waited for) 0.
 */
static int
decrypted(struct vb_child **child, const char *file, char *why, size_t wlen)
{
	char w[512];
	int status, rc;

	if (*child == NULL)
		return 0;
	rc = vb_child_wait(*child, &status, w, sizeof(w));
	*child = NULL;
	if (rc == 0)
		return 0;
	snprintf(why, wlen, "%s: %s (nothing changed)", file, w);
	return -1;
}

/* Begun, undone, checked, committed.  0, or -1 with res->why. */
static int
run(struct undo *u, const struct vb_undo_opts *o, int fd,
    struct vb_child **child, struct vb_partial_result *res)
{
	int64_t fk;

	if (vb_livetx_begin(&u->x, o->dry, res->note, sizeof(res->note),
	    res->why, sizeof(res->why)) != 0 || each_change(u, fd, res->why,
	    sizeof(res->why)) != 0 || decrypted(child, o->file, res->why,
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
	if (vb_livetx_commit(&u->x, res->why, sizeof(res->why)) != 0)
		return -1;
	say(o, u, fk, res);
	return 0;
}

int
vb_undo(const struct vb_undo_opts *o, struct vb_partial_result *res)
{
	struct vb_child child, *age = NULL;
	struct undo u;
	char work[4400], w[512];
	int fd, started, status, i, rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&u, 0, sizeof(u));
	u.said = sqlite3_str_new(NULL);
	vb_clean_stale(o->dir, w, sizeof(w));
	if (vb_work_make(o->dir, "undo", work, sizeof(work), res->why,
	    sizeof(res->why)) != 0) {
		sqlite3_free(vb_str_finish(u.said));
		return -1;
	}
	if ((fd = open_undo(o, &child, &started, res->why,
	    sizeof(res->why))) >= 0) {
		age = started ? &child : NULL;
		if (vb_livetx_open(&u.x, o->db, o->dir, work, res->why,
		    sizeof(res->why)) == 0)
			rc = run(&u, o, fd, &age, res);
		close(fd);
		/* Stopped before its end: our reason, not age's. */
		if (age != NULL)
			vb_child_wait(age, &status, w, sizeof(w));
	}
	if (rc == 0) {
		snprintf(res->saved, sizeof(res->saved), "%s", u.x.saved);
		snprintf(res->undo, sizeof(res->undo), "%s", u.x.undo);
	}
	vb_livetx_close(&u.x);
	for (i = 0; i < u.ntables; i++)
		sqlite3_free(u.names[i]);
	sqlite3_free(vb_str_finish(u.said));
	vb_work_remove(work);
	return rc;
}
