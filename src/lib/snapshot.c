/*
 * snapshot.c - a consistent online snapshot of a live SQLite database.
 *
 * The whole copy happens inside one read transaction, so it sees exactly
 * one committed state and never restarts however busy the writers are:
 * a rollback-journal database is copied byte for byte under its SHARED
 * lock, a WAL database with one sqlite3_backup_step(-1).  The copy is
 * checked, hashed, fsync'd and renamed into place; on any failure nothing
 * is left under a final name.  Used by vb-snapshot, and by vb-restore for
 * its pre-restore safety copy.
 */
#define _GNU_SOURCE
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <pwd.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "vblib.h"

/* Read size of a rollback-journal copy. */
#define RAW_CHUNK	(1024 * 1024)

/* ---- room for the copy ---- */

/*
 * The size of the newest full archive in dir, for a dry run's estimate of
 * what one more nightly needs (a delta night may be a full one); the
 * database's size when there is none yet.
 */
static int64_t
archive_estimate(const char *dir, int64_t dbbytes)
{
	struct vb_backup *list;
	char why[256];
	size_t n, i;
	int j;
	int64_t est = dbbytes;

	if (vb_scan(dir, &list, &n, why, sizeof(why)) != 0)
		return est;
	vb_scan_sizes(dir, list, n);
	for (i = 0; i < n && est == dbbytes; i++)
		for (j = 0; j < list[i].nfiles; j++)
			if (list[i].kind == VB_KIND_BACKUP &&
			    list[i].files[j].ext != VB_EXT_DB &&
			    !list[i].files[j].delta &&
			    list[i].files[j].bytes >= 0) {
				est = list[i].files[j].bytes;
				break;
			}
	free(list);
	return est;
}

/*
 * Returns 0 if dir (or, not made yet, its parent) has room for a copy of
 * dbbytes, and for a dry run also for the archive made beside it; else -1
 * with s->why set.
 */
static int
check_room(const char *dir, int64_t dbbytes, int dry,
    struct vb_snapshot_result *s)
{
	char hneed[32], hfree[32], parent[4096], base[256];
	struct statvfs sv;
	uint64_t avail;
	int64_t need = dbbytes;

	if (dry)
		need += archive_estimate(dir, dbbytes);
	if (statvfs(dir, &sv) != 0 && (errno != ENOENT || vb_path_split(dir,
	    parent, sizeof(parent), base, sizeof(base)) != 0 ||
	    statvfs(parent, &sv) != 0)) {
		snprintf(s->why, sizeof(s->why), "%s: %s", dir,
		    strerror(errno));
		return -1;
	}
	avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	/* Room for the copy plus its file system overhead. */
	need += need / 64 + 64 * 1024;
	if (avail >= (uint64_t)need)
		return 0;
	vb_human_bytes((uint64_t)need, hneed, sizeof(hneed));
	vb_human_bytes(avail, hfree, sizeof(hfree));
	snprintf(s->why, sizeof(s->why), "not enough space in %s: %s needs "
	    "%s, %s available; free some space or move BACKUP_DIR", dir,
	    dry ? "a backup (snapshot and archive)" : "the snapshot", hneed,
	    hfree);
	return -1;
}

/* ---- the copy, checked and hashed ---- */

/*
 * Copies src into the empty file tmp with one backup step.  The caller
 * holds the read transaction that fixes which state is copied.  Returns
 * 0, or -1 with s->why set.
 */
static int
copy(sqlite3 *src, const char *tmp, struct vb_snapshot_result *s)
{
	sqlite3 *dst = NULL;
	int rc;

	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK)
		goto fail;
	/*
	 * The temporary is worthless until renamed, so no journal and no
	 * sync while copying: vb_tmp_commit fsyncs once at the end.
	 */
	if (sqlite3_exec(dst, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF",
	    NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	if ((rc = vb_db_backup(dst, src)) != SQLITE_DONE) {
		snprintf(s->why, sizeof(s->why), "copy failed: %s",
		    sqlite3_errstr(rc));
		sqlite3_close(dst);
		return -1;
	}
	/*
	 * A WAL source's header says WAL; make the copy a self-contained
	 * rollback-journal file, so that reading it never needs a -wal.
	 */
	if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL,
	    NULL) != SQLITE_OK)
		goto fail;
	return sqlite3_close(dst) == SQLITE_OK ? 0 : -1;
fail:
	snprintf(s->why, sizeof(s->why), "copy failed: %s",
	    dst != NULL ? sqlite3_errmsg(dst) : "out of memory");
	sqlite3_close(dst);
	return -1;
}

/*
 * Copies a rollback-journal database byte for byte through SQLite's own
 * file handle, hashing as it goes.  The caller's read transaction holds
 * the SHARED lock, so no writer can change the file meanwhile, and using
 * SQLite's handle (never a second descriptor, whose close would drop
 * SQLite's POSIX locks) keeps that lock intact.  This is as fast as the
 * disk allows, and in this mode the copy time is exactly how long the
 * application's commits wait.  Returns 0, or -1 with s->why set.
 */
static int
copy_raw(sqlite3 *src, int fd, int64_t bytes, struct vb_snapshot_result *s)
{
	sqlite3_file *f = NULL;
	unsigned char *buf;
	int64_t off;
	int n, rc = -1;

	if (sqlite3_file_control(src, "main", SQLITE_FCNTL_FILE_POINTER,
	    &f) != SQLITE_OK || f == NULL || f->pMethods == NULL) {
		snprintf(s->why, sizeof(s->why), "copy failed: no file handle");
		return -1;
	}
	if ((buf = malloc(RAW_CHUNK)) == NULL) {
		snprintf(s->why, sizeof(s->why), "copy failed: out of memory");
		return -1;
	}
	for (off = 0; off < bytes; off += n) {
		n = bytes - off < RAW_CHUNK ? (int)(bytes - off) : RAW_CHUNK;
		if ((rc = f->pMethods->xRead(f, buf, n, off)) != SQLITE_OK) {
			snprintf(s->why, sizeof(s->why), "copy failed: reading "
			    "at %lld: %s", (long long)off, sqlite3_errstr(rc));
			rc = -1;
			break;
		}
		if ((rc = vb_write_all(fd, buf, (size_t)n)) != 0) {
			snprintf(s->why, sizeof(s->why), "copy failed: %s",
			    strerror(errno));
			break;
		}
	}
	s->bytes = bytes;
	free(buf);
	return rc;
}

/* Checks the finished copy; returns 0, or -1 with s->why set. */
static int
check_copy(const char *tmp, int full, char *result, size_t len,
    struct vb_snapshot_result *s)
{
	int rc = vb_db_check_path(tmp, full, result, len);

	if (rc < 0)
		snprintf(s->why, sizeof(s->why), "cannot open the copy: %s",
		    result);
	else if (rc > 0)
		snprintf(s->why, sizeof(s->why), "the copy failed %s: %s",
		    full ? "integrity_check" : "quick_check", result);
	return rc == 0 ? 0 : -1;
}

/*
 * Checks the copy (unless the check is deferred to vb-compress) and,
 * unless the copy already did, hashes it: both at once (they read the
 * same pages from the page cache, on two cores).  Returns 0, or -1 with
 * s->why set.
 */
static int
verify(const struct vb_snapshot_opts *o, struct vb_tmp *t, const char *tmp,
    char *check, size_t len, struct vb_snapshot_result *s)
{
	struct vb_sha256_job h;
	int rc = 0, fd = -1;

	if (s->sha256[0] == '\0') {
		if ((fd = openat(t->dirfd, t->name, O_RDONLY | O_CLOEXEC)) ==
		    -1) {
			snprintf(s->why, sizeof(s->why), "cannot read back "
			    "%s: %s", tmp, strerror(errno));
			return -1;
		}
		vb_sha256_start(&h, fd);
	}
	if (!o->defer)
		rc = check_copy(tmp, o->full, check, len, s);
	if (fd == -1)
		return rc;
	if (vb_sha256_join(&h) < 0 && rc == 0) {
		snprintf(s->why, sizeof(s->why), "cannot read back %s: %s",
		    tmp, strerror(h.err));
		rc = -1;
	}
	close(fd);
	if (rc == 0) {
		s->bytes = h.bytes;
		memcpy(s->sha256, h.hex, sizeof(s->sha256));
	}
	return rc;
}

/* ---- the directory ---- */

/*
 * Where the snapshot goes: o->out's directory and name, or o->dir (made
 * if missing, unless dry) and a name given later.  The directory must be
 * one vb may use, and writable by this user.  Returns 0, or -1 (s->why).
 */
static int
prepare_dir(const struct vb_snapshot_opts *o, char *dir, size_t dlen,
    char *final, size_t flen, struct vb_snapshot_result *s)
{
	char parent[4096], base[256];

	if (o->out != NULL) {
		if (vb_path_split(o->out, dir, dlen, final, flen) != 0) {
			snprintf(s->why, sizeof(s->why), "%s: name too long",
			    o->out);
			return -1;
		}
		if (access(o->out, F_OK) == 0) {
			snprintf(s->why, sizeof(s->why), "%s: file exists",
			    o->out);
			return -1;
		}
	} else {
		snprintf(dir, dlen, "%s", o->dir);
		if (o->dry && access(dir, F_OK) != 0 && errno == ENOENT) {
			/* It would be made: its parent must allow that. */
			if (vb_path_split(dir, parent, sizeof(parent), base,
			    sizeof(base)) != 0 || access(parent, W_OK | X_OK)
			    != 0) {
				snprintf(s->why, sizeof(s->why), "%s does not "
				    "exist and cannot be created: %s: %s", dir,
				    parent, strerror(errno));
				return -1;
			}
			return 0;
		}
		if (!o->dry && vb_mkdir_p(dir, s->why, sizeof(s->why)) != 0)
			return -1;
		if (vb_dir_check(dir, s->why, sizeof(s->why)) != 0)
			return -1;
	}
	/* access() asks as the real user: the one who runs the job. */
	if (access(dir, W_OK | X_OK) != 0) {
		vb_dir_unwritable(dir, errno, s->why, sizeof(s->why));
		return -1;
	}
	return 0;
}

/* ---- the snapshot ---- */

/*
 * Opens the read transaction that fixes the state the snapshot copies,
 * and reads its size and journal mode.  In rollback-journal mode it also
 * holds off the application's commits until it ends, so nothing slow may
 * happen inside it.  Returns 0, or -1 (s->why).
 */
static int
begin_read(sqlite3 *src, const char *db, int64_t *pages, int64_t *pagesize,
    char *mode, size_t mlen, struct vb_snapshot_result *s)
{
	if (sqlite3_exec(src, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    vb_db_int(src, "PRAGMA page_count", pages) != 0 ||
	    vb_db_int(src, "PRAGMA page_size", pagesize) != 0 ||
	    vb_db_text(src, "PRAGMA journal_mode", mode, mlen) != 0) {
		snprintf(s->why, sizeof(s->why), "%s: cannot read: %s", db,
		    sqlite3_errmsg(src));
		return -1;
	}
	return 0;
}

/*
 * Copies the database into the open temporary t (path tmp) under the
 * read transaction, then ends that transaction.  Returns 0, or -1 (s->why).
 */
static int
copy_db(const struct vb_snapshot_opts *o, sqlite3 *src, struct vb_tmp *t,
    const char *tmp, int64_t bytes, int wal, struct vb_snapshot_result *s)
{
	struct vb_sha256_job h;
	struct vb_writebehind *wb;
	struct vb_progress *pg;
	char what[4200], walpath[4200];
	int done = 0, rc, rfd = -1, walfd = -1;

	/*
	 * In WAL mode the application never waits for us: yield the CPU to
	 * it throughout.  In rollback-journal mode its commits wait until
	 * the copy ends, so copy at full speed and yield only afterwards.
	 */
	if (wal)
		setpriority(PRIO_PROCESS, 0, VB_NICE);
	/*
	 * Write-behind keeps the copy from flooding the disk while a WAL
	 * application commits, and keeps the application's -wal written
	 * back too: our read pins the WAL, so it grows, unsynced under
	 * synchronous=NORMAL, and the application's first checkpoint after
	 * the copy would otherwise fsync all of it inside one of its commits
	 * (measured: 0.9 s).  In rollback-journal mode write-behind would
	 * slow the copy to disk speed while the application waits, so it
	 * starts only once the lock is released, and overlaps the check.
	 */
	if (wal) {
		/* Beside the file SQLite opened (no link), not o->db. */
		snprintf(walpath, sizeof(walpath), "%s-wal",
		    sqlite3_db_filename(src, "main"));
		walfd = open(walpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	wb = wal ? vb_writebehind_start(t->fd, walfd) : NULL;
	snprintf(what, sizeof(what), "copying %s", o->db);
	pg = vb_progress_start(what, t->fd, VB_PROG_SIZE, bytes);
	/*
	 * A raw copy is hashed by a second thread following the file as it
	 * is written: the application's commits wait for the copy only, the
	 * hash ends after the lock is released.  Without that thread,
	 * s->sha256 stays empty and verify() hashes the finished copy.
	 */
	if (!wal && (rfd = openat(t->dirfd, t->name, O_RDONLY |
	    O_CLOEXEC)) != -1)
		vb_sha256_follow(&h, rfd, &done);
	/* A WAL database's pages may be in the -wal: only SQLite reads it. */
	rc = wal ? copy(src, tmp, s) : copy_raw(src, t->fd, bytes, s);
	__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
	vb_progress_stop(pg, rc == 0);
	vb_writebehind_stop(wb);
	/* Only now, with no lock of SQLite's on it touched (see copy_raw). */
	if (walfd != -1)
		close(walfd);
	sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
	if (rfd != -1) {
		if (vb_sha256_join(&h) == bytes && rc == 0)
			memcpy(s->sha256, h.hex, sizeof(s->sha256));
		close(rfd);
	}
	return rc;
}

/* Checks and hashes the copy, off the application's back. */
static int
check_and_hash(const struct vb_snapshot_opts *o, struct vb_tmp *t,
    const char *tmp, struct vb_snapshot_result *s)
{
	struct vb_writebehind *wb;
	struct vb_progress *pg;
	char check[256];
	int rc;

	setpriority(PRIO_PROCESS, 0, VB_NICE);
	/* An intermediate is not kept: no need to write it back. */
	wb = o->hand_to > 0 ? NULL : vb_writebehind_start(t->fd, -1);
	/* Deferred, the check is vb-compress's, beside its compression. */
	pg = o->defer ? NULL : vb_progress_start(o->full ?
	    "integrity_check of the copy" : "quick_check of the copy", -1,
	    VB_PROG_SIZE, 0);
	rc = verify(o, t, tmp, check, sizeof(check), s);
	vb_progress_stop(pg, rc == 0);
	vb_writebehind_stop(wb);
	return rc;
}

/* A dry run, done: the read transaction ended, what it found said. */
static int
dry_done(const struct vb_snapshot_opts *o, sqlite3 *src, const char *dir,
    int64_t bytes, const char *mode, struct vb_snapshot_result *s)
{
	char hneed[32];

	sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(src);
	s->bytes = bytes;
	vb_human_bytes((uint64_t)bytes, hneed, sizeof(hneed));
	snprintf(s->message, sizeof(s->message), "%s (%s, %s) can be "
	    "read; %s can take its copy (a dry run: nothing was copied)",
	    o->db, hneed, mode, dir);
	return 0;
}

/*
 * (long: the read transaction begun, copied from and ended on every path, at
 * one label)
 */
int
vb_snapshot(const struct vb_snapshot_opts *o, struct vb_snapshot_result *s)
{
	char dir[4096], final[256], tmp[4096], stamp[VB_STAMP_LEN];
	char mode[32];
	int64_t pages, pagesize;
	struct timespec when;
	struct vb_tmp t;
	sqlite3 *src;
	int intxn = 0;

	/* Every field starts unknown, whatever the caller passed. */
	memset(s, 0, sizeof(*s));
	t.dirfd = -1;
	if ((src = vb_db_open_ro(o->db, s->why, sizeof(s->why))) == NULL)
		return -1;
	if (prepare_dir(o, dir, sizeof(dir), final, sizeof(final), s) != 0)
		goto fail;
	if (!o->dry)
		vb_clean_stale(dir, s->note, sizeof(s->note));
	if (begin_read(src, o->db, &pages, &pagesize, mode, sizeof(mode),
	    s) != 0)
		goto fail;
	intxn = 1;
	/* Not older than the state it holds: --at relies on names. */
	when = vb_now_named();
	if (o->out == NULL) {
		vb_stamp(&when, stamp);
		snprintf(final, sizeof(final), "%s-%s.db",
		    o->prefix != NULL ? o->prefix : "backup", stamp);
	}
	if (vb_path_join(s->path, sizeof(s->path), dir, final) != 0) {
		snprintf(s->why, sizeof(s->why), "%s: name too long", dir);
		goto fail;
	}
	if (check_room(dir, pages * pagesize, o->dry, s) != 0)
		goto fail;
	if (o->dry)
		return dry_done(o, src, dir, pages * pagesize, mode, s);
	if (vb_tmp_open(&t, dir, final, s->why, sizeof(s->why)) != 0)
		goto fail;
	if (vb_path_join(tmp, sizeof(tmp), dir, t.name) != 0) {
		snprintf(s->why, sizeof(s->why), "%s: name too long", dir);
		goto fail;
	}
	intxn = 0;
	if (copy_db(o, src, &t, tmp, pages * pagesize,
	    strcmp(mode, "wal") == 0, s) != 0)
		goto fail;
	sqlite3_close(src);
	src = NULL;
	if (check_and_hash(o, &t, tmp, s) != 0)
		goto fail;
	if (o->hand_to > 0) {
		if (vb_tmp_hand_over(&t, o->hand_to, final, sizeof(final),
		    s->why, sizeof(s->why)) != 0 || vb_path_join(s->path,
		    sizeof(s->path), dir, final) != 0)
			goto fail;
	} else if (vb_tmp_commit(&t, tmp, sizeof(tmp)) != 0) {
		snprintf(s->why, sizeof(s->why), "cannot put %s in place: %s",
		    s->path, tmp);
		goto fail;
	}
	snprintf(s->journal, sizeof(s->journal), "%s", mode);
	s->meta = (struct vb_snapmeta){ .source = o->db,
	    .journal = s->journal, .integrity = o->defer ? "deferred" : "ok",
	    .check = o->full ? "integrity_check" : "quick_check",
	    .pages = pages, .page_size = pagesize, .bytes = -1 };
	vb_snapmeta_format(&s->meta, s->message, sizeof(s->message));
	return 0;
fail:
	vb_tmp_abort(&t);
	if (intxn)
		sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(src);
	s->path[0] = '\0';
	return -1;
}
