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
 * whose message opens with "drill: " (vb_drill_proven reads it back).
 */
#define _GNU_SOURCE
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "vblib.h"

#define DRILL_PREFIX	"drill: "
#define DRILL_OK	"restored and proven"
#define WORKDIR		"drill"		/* .vb-tmp-<pid>-drill */

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

/* DRILL_SQL on the copy must return a row; 0, or -1 with why. */
static int
sql_returns(const char *copy, const char *sql, char *why, size_t wlen)
{
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int rc;

	if ((db = vb_db_open_immutable(copy, why, wlen)) == NULL)
		return -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(why, wlen, "DRILL_SQL cannot run on the restored "
		    "copy: %s", sqlite3_errmsg(db));
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

/*
 * Restores name into work (the copy's path) and proves it.  Returns 0
 * with message, or -1 with why; res says the archive's size and hash.
 */
static int
prove(const struct vb_drill_opts *o, const char *name, const char *work,
    const char *copy, struct vb_restore_result *res, char *message,
    size_t mlen)
{
	struct vb_restore_opts ro;
	struct vb_manifest m;
	char archive[4400], chain[64] = "", rows[96];
	int rc;

	memset(&ro, 0, sizeof(ro));
	ro.to = copy;
	ro.check = VB_CHECK_FULL;
	ro.identity = o->identity;
	ro.unlogged = 1;
	ro.manifest = &m;
	ro.fetch = 1;
	memset(&m, 0, sizeof(m));
	if (o->remote != NULL) {
		ro.archive = name;
		rc = vb_restore_offsite(&ro, o->remote, work, res);
	} else {
		vb_path_join(archive, sizeof(archive), o->dir, name);
		ro.archive = archive;
		rc = vb_restore(&ro, res);
	}
	if (rc != 0)
		return -1;
	if (m.rows.known && same_rows(copy, &m, res->why, sizeof(res->why)) !=
	    0)
		return -1;
	if (o->sql != NULL && sql_returns(copy, o->sql, res->why,
	    sizeof(res->why)) != 0)
		return -1;
	if (res->links > 1)
		snprintf(chain, sizeof(chain), " (a chain of %d archives)",
		    res->links);
	if (m.rows.known)
		snprintf(rows, sizeof(rows), "the rows of %d tables as its "
		    "manifest recorded%s", m.rows.tables, m.rows.omitted > 0 ?
		    " (some tables not recorded)" : "");
	else
		snprintf(rows, sizeof(rows), "no row counts to compare (an "
		    "archive made before vb recorded them)");
	snprintf(message, mlen, DRILL_PREFIX DRILL_OK "%s%s%s: "
	    "integrity_check ok, %s%s", o->remote != NULL ? ", from the copy "
	    "on " : "", o->remote != NULL ? o->remote : "", chain, rows,
	    o->sql != NULL ? ", DRILL_SQL returned a row" : "");
	return 0;
}

/* One backup drilled, told to done.  Returns 0 if it was proven. */
static int
drill_one(const struct vb_drill_opts *o, const char *name,
    const struct vb_drill_out *out)
{
	struct vb_restore_result res;
	char work[300], wpath[4400], copy[4500], path[4400], msg[2048];
	int64_t t0 = vb_monotonic_ms();
	int rc;

	snprintf(work, sizeof(work), ".vb-tmp-%ld-" WORKDIR, (long)getpid());
	memset(&res, 0, sizeof(res));
	if (vb_path_join(wpath, sizeof(wpath), o->dir, work) != 0 ||
	    vb_path_join(copy, sizeof(copy), wpath, "restored.db") != 0) {
		snprintf(res.why, sizeof(res.why), "%s: name too long", o->dir);
		rc = -1;
	} else if (mkdir(wpath, 0700) != 0) {
		snprintf(res.why, sizeof(res.why), "cannot make the drill's "
		    "work directory %s: %s", wpath, strerror(errno));
		rc = -1;
	} else
		rc = prove(o, name, wpath, copy, &res, msg, sizeof(msg));
	vb_tmp_rmdir(o->dir, work);
	if (o->remote != NULL)
		vb_remote_join(path, sizeof(path), o->remote, name);
	else
		vb_path_join(path, sizeof(path), o->dir, name);
	if (rc != 0)
		snprintf(msg, sizeof(msg), DRILL_PREFIX "%s", res.why);
	out->done(out->arg, path, rc == 0, rc == 0 ? res.archive_bytes : -1,
	    rc == 0 ? res.archive_sha256 : NULL, t0, msg);
	return rc;
}

/* ---- which backups ---- */

/* The archive's name of each backup with one, newest first (*names). */
static int
archives(const struct vb_drill_opts *o, char (**names)[96], size_t *n,
    char *why, size_t wlen)
{
	struct vb_backup *list;
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
	for (i = 0; i < nl; i++) {
		if (list[i].kind != VB_KIND_BACKUP)
			continue;
		for (j = 0; j < list[i].nfiles; j++)
			if (list[i].files[j].ext != VB_EXT_DB) {
				memcpy((*names)[(*n)++], list[i].files[j].name,
				    sizeof((*names)[0]));
				break;
			}
	}
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

int
vb_drill(const struct vb_drill_opts *o, const struct vb_drill_out *out,
    char *why, size_t wlen)
{
	char (*names)[96] = NULL;
	size_t n, i;
	char note[1024];
	int failed = 0;

	/* A killed drill's work directory, and other writers' leftovers. */
	vb_clean_stale(o->dir, note, sizeof(note));
	if (o->nnames > 0) {
		for (i = 0; i < (size_t)o->nnames; i++)
			failed |= drill_one(o, o->names[i], out) != 0;
		return failed ? 1 : 0;
	}
	if (archives(o, &names, &n, why, wlen) != 0)
		return -1;
	if (n == 0) {
		snprintf(why, wlen, "no backup archive in %s to drill",
		    o->remote != NULL ? o->remote : o->dir);
		free(names);
		return -1;
	}
	failed |= drill_one(o, names[0], out) != 0;
	if (n > 1)
		failed |= drill_one(o, names[1 + pick(n - 1)], out) != 0;
	free(names);
	return failed ? 1 : 0;
}

int
vb_drill_proven(const char *msg)
{
	return strncmp(msg, DRILL_PREFIX DRILL_OK,
	    strlen(DRILL_PREFIX DRILL_OK)) == 0;
}
