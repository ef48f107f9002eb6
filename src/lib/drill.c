/*
 * drill.c - the restore drill: a backup counts once it has been restored.
 *
 * The newest backup and one older one picked at random are each restored
 * exactly as vb-restore --to restores them for an operator (the whole
 * chain, through age when encrypted; with a remote, from the remote's
 * copies), into a temporary directory beside the backups
 * (.vb-tmp-<pid>-drill, removed after, and by the next drill if this one
 * was killed).  The copy must pass PRAGMA integrity_check, hold as many
 * rows in each table as its manifest recorded when the snapshot was
 * taken, and return a row for DRILL_SQL when it is set.  The drill never
 * opens the live database.  Each backup drilled is one verify record,
 * whose message opens with "drill: " and ends with its outcome as a
 * field, drill=proven or drill=failed (read back by vb_fact_drill).
 */
#define _GNU_SOURCE
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "vblib.h"

/* ---- one backup proven ---- */

/* The copy's rows against the manifest's; 0, or -1 with why. */
static int
same_rows(const char *copy, const struct vb_manifest *m, char *why,
    size_t wlen)
{
	struct vb_rows now;
	const char *p = m->rows.text;
	char name[512];
	int64_t want, got;

	if (vb_rows_count(copy, &now, why, wlen) != 0)
		return -1;
	while (vb_rows_next(&p, name, sizeof(name), &want)) {
		got = vb_rows_get(&now, name);
		if (got == want)
			continue;
		if (got < 0)
			snprintf(why, wlen, "table %s (%" PRId64 " rows in its "
			    "manifest) is not in the restored copy", name,
			    want);
		else
			snprintf(why, wlen, "table %s has %" PRId64 " rows in "
			    "the restored copy; its manifest recorded %" PRId64
			    " when the snapshot was taken", name, got, want);
		return -1;
	}
	return 0;
}

/*
 * DRILL_SQL on the copy of the backup name must return a row, its
 * vb_backup_time() that backup's time; 0, or -1 with why.
 */
static int
sql_returns(const char *copy, const char *name, const char *sql, char *why,
    size_t wlen)
{
	sqlite3_stmt *st = NULL;
	struct vb_name nm;
	sqlite3 *db;
	int rc;

	if (vb_name_parse(name, &nm) != 0) {
		snprintf(why, wlen, "%s: not a backup's name", name);
		return -1;
	}
	if ((db = vb_db_open_immutable(copy, why, wlen)) == NULL)
		return -1;
	if (vb_db_backup_time(db, &nm.when) != 0) {
		snprintf(why, wlen, "vb_backup_time(): %s", sqlite3_errmsg(db));
		rc = -1;
	} else if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(why, wlen, "DRILL_SQL cannot run on the restored "
		    "copy: %s", sqlite3_errmsg(db));
		rc = -1;
	} else if (!sqlite3_stmt_readonly(st)) {
		/* Refused when the configuration was checked; a run's tools
		 * trust that check, this one is the drill's own. */
		snprintf(why, wlen, "DRILL_SQL would write: a drill only "
		    "reads");
		rc = -1;
	} else if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		rc = 0;
	else {
		snprintf(why, wlen, "DRILL_SQL returned %s on the restored "
		    "copy: %s", rc == SQLITE_DONE ? "no row" : "an error",
		    rc == SQLITE_DONE ? sql : sqlite3_errmsg(db));
		rc = -1;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

/* One backup drilled: restored, then proven (perhaps on a thread). */
struct proof {
	const struct vb_drill_opts *o;
	const char		*name;
	char			 copy[4500];	/* the restored copy */
	struct vb_manifest	 m;
	struct vb_restore_result res;
	char			 msg[2048];	/* the record's, if proven */
	int64_t			 t0;
	int			 rc;		/* 0 proven so far, -1 not */
	pthread_t		 th;
	int			 threaded;
	int			 reported;
};

/*
 * Restores p's backup into the copy exactly as vb-restore --to does (the
 * whole chain, through age; with a remote, the remote's copies fetched
 * into work).  Sets p->rc.
 */
static void
restore_one(struct proof *p, const char *work, int i)
{
	const struct vb_drill_opts *o = p->o;
	char archive[4400], base[32];

	p->t0 = vb_monotonic_ms();
	snprintf(base, sizeof(base), "restored-%d.db", i);
	if (vb_path_join(p->copy, sizeof(p->copy), work, base) != 0 ||
	    (o->remote == NULL && vb_path_join(archive, sizeof(archive),
	    o->dir, p->name) != 0)) {
		snprintf(p->res.why, sizeof(p->res.why), "%s: name too long",
		    work);
		p->rc = -1;
		return;
	}
	/* Vouched for as a restore is: a forged copy proves nothing. */
	p->rc = vb_restore_work(&(struct vb_restore_opts){ .archive =
	    o->remote != NULL ? p->name : archive, .identity = o->identity,
	    .fetch = 1, .manifest = &p->m, .verify_with = o->verify_with,
	    .logdb = o->logdb }, o->remote, work, p->copy, &p->res);
}

/* The restored copy proven: integrity_check, rows, DRILL_SQL. */
static void *
prove_main(void *arg)
{
	struct proof *p = arg;
	const struct vb_drill_opts *o = p->o;
	char check[512], chain[64] = "", rows[96];

	if (vb_db_check_path(p->copy, VB_CHECK_FULL, check,
	    sizeof(check)) != 0) {
		snprintf(p->res.why, sizeof(p->res.why), "the restored copy "
		    "fails integrity_check: %s", check);
		p->rc = -1;
		return NULL;
	}
	if ((p->m.rows.known && same_rows(p->copy, &p->m, p->res.why,
	    sizeof(p->res.why)) != 0) || (o->sql != NULL &&
	    sql_returns(p->copy, p->name, o->sql, p->res.why,
	    sizeof(p->res.why)) !=
	    0)) {
		p->rc = -1;
		return NULL;
	}
	if (p->res.links > 1)
		snprintf(chain, sizeof(chain), " (a chain of %d archives)",
		    p->res.links);
	if (p->m.rows.known)
		snprintf(rows, sizeof(rows), "the rows of %d tables as its "
		    "manifest recorded%s", p->m.rows.tables,
		    p->m.rows.omitted > 0 ? " (some tables not recorded)" : "");
	else
		snprintf(rows, sizeof(rows), "no row counts to compare (an "
		    "archive made before vb recorded them)");
	snprintf(p->msg, sizeof(p->msg), VB_DRILL_WORDS VB_DRILL_OK_WORDS
	    "%s%s%s: integrity_check ok, %s%s; " VB_FACT_DRILL "=proven",
	    o->remote != NULL ? ", from the copy on " : "",
	    o->remote != NULL ? o->remote : "", chain, rows, o->sql != NULL ?
	    ", DRILL_SQL returned a row" : "");
	return NULL;
}

/* Whether dir has room for another copy of bytes beside what it holds. */
static int
room(const char *dir, int64_t bytes)
{
	struct statvfs sv;

	return statvfs(dir, &sv) == 0 && (double)sv.f_bavail *
	    (double)sv.f_frsize > (double)bytes * 1.1 + 64.0 * 1048576.0;
}

/* p's record told to out, its copy removed.  Returns p->rc. */
static int
report(struct proof *p, const struct vb_drill_out *out)
{
	const struct vb_drill_opts *o = p->o;
	char path[4400];

	if (p->reported)
		return p->rc;
	p->reported = 1;
	if (p->threaded)
		pthread_join(p->th, NULL);
	p->threaded = 0;
	unlink(p->copy);
	if (o->remote != NULL)
		vb_remote_join(path, sizeof(path), o->remote, p->name);
	else
		vb_path_join(path, sizeof(path), o->dir, p->name);
	/* No room to restore it into: the drill failed, not the backup. */
	if (p->rc != 0)
		snprintf(p->msg, sizeof(p->msg), VB_DRILL_WORDS "%s; "
		    VB_FACT_DRILL "=%s", p->res.why, p->res.noroom ? "error" :
		    "failed");
	out->done(out->arg, path, p->rc == 0, p->rc == 0 ?
	    p->res.archive_bytes : -1, p->rc == 0 ? p->res.archive_sha256 :
	    NULL, p->t0, p->msg);
	return p->rc;
}

/*
 * The backups named, each restored in turn and proven; a proof runs on
 * a thread beside the next restore (two cores: the integrity_checks
 * overlap) when the work directory has room for both copies.  Returns
 * 0 all proven, 1 not.
 */
static int
drill_all(const struct vb_drill_opts *o, char *const *names, size_t n,
    const struct vb_drill_out *out, const char *work)
{
	struct proof *p;
	size_t i;
	int failed = 0;

	if ((p = calloc(n, sizeof(*p))) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		p[i].o = o;
		p[i].name = names[i];
		/* A copy proven already makes room for this one. */
		if (i > 0 && !p[i - 1].threaded)
			failed |= report(&p[i - 1], out) != 0;
		restore_one(&p[i], work, (int)i);
		if (p[i].rc == 0 && i + 1 < n && room(work, p[i].res.bytes) &&
		    pthread_create(&p[i].th, NULL, prove_main, &p[i]) == 0)
			p[i].threaded = 1;
		else if (p[i].rc == 0)
			prove_main(&p[i]);
		/* The one before is done with by now, or waited for. */
		if (i > 0)
			failed |= report(&p[i - 1], out) != 0;
	}
	failed |= report(&p[n - 1], out) != 0;
	free(p);
	return failed;
}

/* The work directory made, the backups drilled, the directory gone. */
static int
drill_names(const struct vb_drill_opts *o, char *const *names, size_t n,
    const struct vb_drill_out *out, char *why, size_t wlen)
{
	char wpath[4400];
	int rc;

	if (vb_work_make(o->dir, "drill", wpath, sizeof(wpath), why, wlen) !=
	    0)
		return -1;
	rc = drill_all(o, names, n, out, wpath);
	vb_work_remove(wpath);
	return rc;
}

/* ---- which backups ---- */

/* The archive's name of each backup with one, newest first (*names). */
static int
archives(const struct vb_drill_opts *o, char (**names)[96], size_t *n,
    char *why, size_t wlen)
{
	struct vb_backup *list;
	struct vb_log_known k;
	char w[512];
	size_t nl, i;
	int j;

	*n = 0;
	if ((o->remote != NULL ? vb_remote_list(o->remote, &list, &nl, why,
	    wlen) : vb_scan(o->dir, &list, &nl, why, wlen)) != 0)
		return -1;
	if ((*names = calloc(nl + 1, sizeof(**names))) == NULL) {
		free(list);
		snprintf(why, wlen, "out of memory");
		return -1;
	}
	/*
	 * Only what this database's job made, where BackupLog says: a name
	 * planted on the remote is never picked (it would be refused, and
	 * the drill of the real newest backup never run).
	 */
	memset(&k, 0, sizeof(k));
	if (o->logdb != NULL && access(o->logdb, F_OK) == 0)
		(void)vb_backuplog_known(o->logdb, &k, w, sizeof(w));
	for (i = 0; i < nl; i++) {
		if (list[i].kind != VB_KIND_BACKUP)
			continue;
		for (j = 0; j < list[i].nfiles; j++)
			if (list[i].files[j].ext != VB_EXT_DB && (!k.any ||
			    vb_log_known_find(&k, list[i].files[j].name) !=
			    NULL)) {
				memcpy((*names)[(*n)++], list[i].files[j].name,
				    sizeof((*names)[0]));
				break;
			}
	}
	vb_log_known_free(&k);
	free(list);
	return 0;
}

/* Which older backup: VB_DRILL_SEED's (tests), else one at random. */
static size_t
pick(size_t older)
{
	const char *seed = getenv("VB_DRILL_SEED");
	uint64_t r;

	if (seed == NULL || vb_parse_u64(seed, &r) != 0)
		while (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
			continue;
	return (size_t)(r % older);
}

/*
 * The names given, each a file name or a path in the directory (not a
 * remote's), as file names into given; 0, or -1 with why.
 */
static int
given_names(const struct vb_drill_opts *o, char (*given)[96], char *why,
    size_t wlen)
{
	char name[96], path[4400];
	struct vb_name nm;
	size_t i;

	for (i = 0; i < (size_t)o->nnames; i++) {
		if (o->remote != NULL && strchr(o->names[i], '/') != NULL) {
			snprintf(why, wlen, "%s: give the backup's file name, "
			    "as in %s", o->names[i], o->remote);
			return -1;
		}
		if (vb_path_in(o->dir, o->names[i], given[i], sizeof(given[i]),
		    why, wlen) != 0)
			return -1;
		/*
		 * A stem: its archive here (vb-prune --holds prints stems).
		 * Nothing to drill is no failed proof: a drill=failed row
		 * would mark a backup of that name, were one ever made.
		 */
		if (vb_name_parse(given[i], &nm) != 0) {
			if (o->remote != NULL || vb_find_archive(o->dir,
			    given[i], name, sizeof(name), path,
			    sizeof(path)) != 0) {
				snprintf(why, wlen, "%s: not the name of a vb "
				    "backup (vb-restore --list shows them)",
				    o->names[i]);
				return -1;
			}
			snprintf(given[i], sizeof(given[i]), "%s", name);
		}
		if (o->remote == NULL && (vb_path_join(path, sizeof(path),
		    o->dir, given[i]) != 0 || access(path, F_OK) != 0)) {
			snprintf(why, wlen, "%s: no such backup in %s "
			    "(vb-restore --list shows them)", o->names[i],
			    o->dir);
			return -1;
		}
	}
	return 0;
}

int
vb_drill(const struct vb_drill_opts *o, const struct vb_drill_out *out,
    char *why, size_t wlen)
{
	char (*names)[96] = NULL, (*given)[96];
	char *two[2], note[1024], **each;
	size_t n, i;
	int rc;

	/* A killed drill's work directory, and other writers' leftovers. */
	vb_clean_stale(o->dir, note, sizeof(note));
	if (o->nnames > 0) {
		given = calloc((size_t)o->nnames, sizeof(*given));
		each = calloc((size_t)o->nnames, sizeof(*each));
		if (given == NULL || each == NULL) {
			snprintf(why, wlen, "out of memory");
			rc = -1;
		} else if ((rc = given_names(o, given, why, wlen)) == 0) {
			for (i = 0; i < (size_t)o->nnames; i++)
				each[i] = given[i];
			rc = drill_names(o, each, (size_t)o->nnames, out, why,
			    wlen);
		}
		free(given);
		free(each);
		return rc;
	}
	if (archives(o, &names, &n, why, wlen) != 0)
		return -1;
	if (n == 0) {
		snprintf(why, wlen, "no backup archive in %s to drill",
		    o->remote != NULL ? o->remote : o->dir);
		free(names);
		return -1;
	}
	two[0] = names[0];
	if (n > 1)
		two[1] = names[1 + pick(n - 1)];
	rc = drill_names(o, two, n > 1 ? 2 : 1, out, why, wlen);
	free(names);
	return rc;
}
