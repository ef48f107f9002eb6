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
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "vb.h"

/* Read size of a rollback-journal copy. */
#define RAW_CHUNK	(1024 * 1024)



/* Returns 0 if dir has room for need bytes, else -1 with s->msg set. */
static int
check_room(const char *dir, int64_t need, struct vb_snapshot_result *s)
{
	char hneed[32], hfree[32];
	struct statvfs sv;
	uint64_t avail;

	if (statvfs(dir, &sv) != 0) {
		snprintf(s->msg, sizeof(s->msg), "%s: %s", dir,
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
	snprintf(s->msg, sizeof(s->msg), "not enough space in %s: the "
	    "snapshot needs %s, %s available", dir, hneed, hfree);
	return -1;
}

/*
 * Copies src into the empty file tmp with one backup step.  The caller
 * holds the read transaction that fixes which state is copied.  Returns
 * 0, or -1 with s->msg set.
 */
static int
copy(sqlite3 *src, const char *tmp, struct vb_snapshot_result *s)
{
	sqlite3_backup *b;
	sqlite3 *dst = NULL;
	int rc;

	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		goto fail;
	/*
	 * The temporary is worthless until renamed, so no journal and no
	 * sync while copying: vb_tmp_commit fsyncs once at the end.
	 */
	if (sqlite3_exec(dst, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF",
	    NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	if ((b = sqlite3_backup_init(dst, "main", src, "main")) == NULL)
		goto fail;
	rc = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		snprintf(s->msg, sizeof(s->msg), "copy failed: %s",
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
	snprintf(s->msg, sizeof(s->msg), "copy failed: %s",
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
 * application's commits wait.  Returns 0, or -1 with s->msg set.
 */
static int
copy_raw(sqlite3 *src, int fd, int64_t bytes, struct vb_snapshot_result *s)
{
	struct vb_sha256 *h;
	sqlite3_file *f = NULL;
	unsigned char *buf;
	int64_t off;
	int n, rc = -1;

	if (sqlite3_file_control(src, "main", SQLITE_FCNTL_FILE_POINTER,
	    &f) != SQLITE_OK || f == NULL || f->pMethods == NULL) {
		snprintf(s->msg, sizeof(s->msg), "copy failed: no file handle");
		return -1;
	}
	if ((buf = malloc(RAW_CHUNK)) == NULL || (h = vb_sha256_new()) == NULL) {
		free(buf);
		snprintf(s->msg, sizeof(s->msg), "copy failed: out of memory");
		return -1;
	}
	for (off = 0; off < bytes; off += n) {
		n = bytes - off < RAW_CHUNK ? (int)(bytes - off) : RAW_CHUNK;
		if ((rc = f->pMethods->xRead(f, buf, n, off)) != SQLITE_OK) {
			snprintf(s->msg, sizeof(s->msg), "copy failed: reading "
			    "at %lld: %s", (long long)off, sqlite3_errstr(rc));
			rc = -1;
			break;
		}
		vb_sha256_update(h, buf, (size_t)n);
		if ((rc = vb_write_all(fd, buf, (size_t)n)) != 0) {
			snprintf(s->msg, sizeof(s->msg), "copy failed: %s",
			    strerror(errno));
			break;
		}
	}
	vb_sha256_final(h, s->sha256);
	s->bytes = bytes;
	free(buf);
	return rc;
}

/* Checks the finished copy; returns 0, or -1 with s->msg set. */
static int
check_copy(const char *tmp, int full, char *result, size_t len,
    struct vb_snapshot_result *s)
{
	int rc = vb_db_check_path(tmp, full, result, len);

	if (rc < 0)
		snprintf(s->msg, sizeof(s->msg), "cannot open the copy: %s",
		    result);
	else if (rc > 0)
		snprintf(s->msg, sizeof(s->msg), "the copy failed %s: %s",
		    full ? "integrity_check" : "quick_check", result);
	return rc == 0 ? 0 : -1;
}

/* The copy's SHA-256, computed on a second thread during the check. */
struct hash_job {
	int		 fd;
	int		 err;
	int64_t		 bytes;
	char		 hex[VB_SHA256_HEX];
};

static void *
hash_main(void *arg)
{
	struct hash_job *h = arg;

	if ((h->bytes = vb_sha256_fd(h->fd, h->hex)) < 0)
		h->err = errno;
	return NULL;
}

/*
 * Checks the copy and, unless the copy already did, hashes it: both at
 * once (they read the same pages from the page cache, on two cores).
 * Returns 0, or -1 with s->msg set.
 */
static int
verify(struct vb_tmp *t, const char *tmp, int full, char *check,
    size_t len, struct vb_snapshot_result *s)
{
	struct hash_job h;
	pthread_t th;
	int rc;

	if (s->sha256[0] != '\0')
		return check_copy(tmp, full, check, len, s);
	memset(&h, 0, sizeof(h));
	if ((h.fd = openat(t->dirfd, t->name, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(s->msg, sizeof(s->msg), "cannot read back %s: %s",
		    tmp, strerror(errno));
		return -1;
	}
	if (pthread_create(&th, NULL, hash_main, &h) != 0) {
		hash_main(&h);	/* no thread to be had: one after the other */
		rc = check_copy(tmp, full, check, len, s);
	} else {
		rc = check_copy(tmp, full, check, len, s);
		pthread_join(th, NULL);
	}
	close(h.fd);
	if (rc != 0)
		return -1;
	if (h.bytes < 0) {
		snprintf(s->msg, sizeof(s->msg), "cannot read back %s: %s",
		    tmp, strerror(h.err));
		return -1;
	}
	s->bytes = h.bytes;
	memcpy(s->sha256, h.hex, sizeof(s->sha256));
	return 0;
}

int
vb_snapshot(const struct vb_snapshot_opts *o, struct vb_snapshot_result *s)
{
	char dir[4096], final[256], tmp[4096], stamp[VB_STAMP_LEN];
	char mode[32], check[256];
	int64_t pages, pagesize;
	struct timespec when;
	struct vb_tmp t;
	sqlite3 *src;
	struct vb_writebehind *wb;
	struct vb_progress *pg;
	char what[4200];
	int intxn = 0, rc, wal, walfd = -1;

	/* Every field starts unknown, whatever the caller passed. */
	memset(s, 0, sizeof(*s));
	if ((src = vb_db_open_ro(o->db, s->msg, sizeof(s->msg))) == NULL)
		return -1;
	if (o->out != NULL) {
		if (vb_path_split(o->out, dir, sizeof(dir), final,
		    sizeof(final)) != 0) {
			snprintf(s->msg, sizeof(s->msg), "%s: name too long",
			    o->out);
			goto fail;
		}
		if (access(o->out, F_OK) == 0) {
			snprintf(s->msg, sizeof(s->msg), "%s: file exists",
			    o->out);
			goto fail;
		}
	} else {
		snprintf(dir, sizeof(dir), "%s", o->dir);
		if (vb_mkdir_p(dir) != 0) {
			snprintf(s->msg, sizeof(s->msg), "%s: cannot use "
			    "backup directory", dir);
			goto fail;
		}
		if (vb_dir_check(dir, s->msg, sizeof(s->msg)) != 0)
			goto fail;
	}
	vb_clean_stale(dir, o->quiet);

	/*
	 * The read transaction fixes the state the snapshot copies.  In
	 * rollback-journal mode it also holds off the application's commits
	 * until COMMIT below, so nothing slow may happen inside it.
	 */
	if (sqlite3_exec(src, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    vb_db_int(src, "PRAGMA page_count", &pages) != 0 ||
	    vb_db_int(src, "PRAGMA page_size", &pagesize) != 0 ||
	    vb_db_text(src, "PRAGMA journal_mode", mode, sizeof(mode)) != 0) {
		snprintf(s->msg, sizeof(s->msg), "%s: cannot read: %s", o->db,
		    sqlite3_errmsg(src));
		goto fail;
	}
	intxn = 1;
	when = vb_now();
	if (o->out == NULL) {
		vb_stamp(&when, stamp);
		snprintf(final, sizeof(final), "%s-%s.db",
		    o->prefix != NULL ? o->prefix : "backup", stamp);
	}
	if (check_room(dir, pages * pagesize, s) != 0)
		goto fail;
	if (vb_tmp_open(&t, dir, final) != 0) {
		snprintf(s->msg, sizeof(s->msg), "%s: cannot create a "
		    "temporary file: %s", dir, strerror(errno));
		goto fail;
	}
	if (vb_path_join(tmp, sizeof(tmp), dir, t.name) != 0 ||
	    vb_path_join(s->path, sizeof(s->path), dir, final) != 0) {
		snprintf(s->msg, sizeof(s->msg), "%s: name too long", dir);
		goto abort;
	}
	/*
	 * In WAL mode the application never waits for us: yield the CPU to
	 * it throughout.  In rollback-journal mode its commits wait until
	 * the copy ends, so copy at full speed and yield only afterwards.
	 */
	wal = strcmp(mode, "wal") == 0;
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
	walfd = -1;
	if (wal) {
		char walpath[4200];

		snprintf(walpath, sizeof(walpath), "%s-wal", o->db);
		walfd = open(walpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	wb = wal ? vb_writebehind_start(t.fd, walfd) : NULL;
	snprintf(what, sizeof(what), "copying %s", o->db);
	pg = vb_progress_start(what, t.fd, VB_PROG_SIZE, pages * pagesize);
	/* A WAL database's pages may be in the -wal: only SQLite reads it. */
	rc = wal ? copy(src, tmp, s) : copy_raw(src, t.fd, pages * pagesize, s);
	vb_progress_stop(pg, rc == 0);
	if (rc != 0) {
		vb_writebehind_stop(wb);
		goto abort;
	}
	vb_writebehind_stop(wb);
	/* Only now, with no lock of SQLite's on it touched (see copy_raw). */
	if (walfd != -1)
		close(walfd);
	sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
	intxn = 0;
	sqlite3_close(src);
	src = NULL;
	setpriority(PRIO_PROCESS, 0, VB_NICE);
	wb = vb_writebehind_start(t.fd, -1);
	pg = vb_progress_start(o->full ? "integrity_check of the copy" :
	    "quick_check of the copy", -1, VB_PROG_SIZE, 0);
	rc = verify(&t, tmp, o->full, check, sizeof(check), s);
	vb_progress_stop(pg, rc == 0);
	vb_writebehind_stop(wb);
	if (rc != 0)
		goto abort;
	if (vb_tmp_commit(&t) != 0) {
		snprintf(s->msg, sizeof(s->msg), "cannot put %s in place: %s",
		    s->path, strerror(errno));
		return -1;
	}
	snprintf(s->msg, sizeof(s->msg), "%s=ok journal=%s pages=%lld "
	    "page_size=%lld source=%s", o->full ? "integrity" : "quick_check",
	    mode, (long long)pages, (long long)pagesize, o->db);
	return 0;
abort:
	vb_tmp_abort(&t);
fail:
	if (intxn)
		sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(src);
	return -1;
}
