/*
 * livepages.c - every page of a live database, read inside one read
 * transaction, with no copy of it anywhere.
 *
 * SQLite hands out no page as it is stored (its sqlite_dbpage table is
 * not in Debian's build), so the pages are taken where SQLite reads
 * them.  The live database is opened read-only through "vb-tap", a VFS
 * that passes everything on to the system's and keeps what each read of
 * one whole page brought in: from the database file, or from the -wal
 * frame that holds the page in this transaction's snapshot (the frame's
 * header names it).  One sqlite3_backup_step(-1) then makes SQLite's
 * pager fetch every page in order, inside the caller's read transaction,
 * into a destination on "vb-null", whose files throw away what is
 * written to them: nothing is written anywhere, and memory is two page
 * caches of a few pages.  A page the pager already held (page 1, the
 * schema, read before the copy began) was kept by the tap when it was
 * read, so every page reaches the caller once, in page order, exactly
 * as this transaction sees it.  In WAL mode writers never wait; in
 * rollback-journal mode they wait until the read transaction ends.  One
 * live read at a time per process.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "vblib.h"

/* The WAL's header and each frame's (SQLite's file format). */
#define WAL_HDR		32
#define FRAME_HDR	24
/* Pages kept from before the copy began: the schema's, at most. */
#define MAX_KEPT	16384
/* The page SQLite never uses: the lock bytes at 1 GiB. */
#define PENDING_BYTE	0x40000000

/* Not in use; before the copy (pages kept); during it; after it. */
enum phase { IDLE, BEFORE, DURING, AFTER };

/* A page read before the copy began, kept for its turn. */
struct kept {
	int64_t		 pgno;
	unsigned char	*data;
};

/* The one live read of this process. */
static struct {
	enum phase	 phase;
	int64_t		 page_size, npages;
	int64_t		 next;		/* the next page the caller gets */
	struct kept	*kept;
	size_t		 nkept;
	unsigned char	*zero;		/* the lock-byte page's bytes */
	int		(*page)(void *, int64_t, const unsigned char *);
	void		*arg;
	int		 failed;	/* the caller's callback, or ours */
	char		 why[512];
} tap;

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static sqlite3_vfs tap_vfs, null_vfs;
static int registered;

/* ---- the pages, handed on in order ---- */

/* Keeps a page read before the copy began (a later read replaces it). */
static int
keep(int64_t pgno, const unsigned char *data)
{
	struct kept *k;
	size_t i;

	for (i = 0; i < tap.nkept; i++)
		if (tap.kept[i].pgno == pgno)
			break;
	if (i == tap.nkept) {
		if (tap.nkept == MAX_KEPT || (k = realloc(tap.kept,
		    (tap.nkept + 1) * sizeof(*k))) == NULL)
			return -1;
		tap.kept = k;
		k[i].pgno = pgno;
		if ((k[i].data = malloc((size_t)tap.page_size)) == NULL)
			return -1;
		tap.nkept++;
	}
	memcpy(tap.kept[i].data, data, (size_t)tap.page_size);
	return 0;
}

static const unsigned char *
kept_page(int64_t pgno)
{
	size_t i;

	for (i = 0; i < tap.nkept; i++)
		if (tap.kept[i].pgno == pgno)
			return tap.kept[i].data;
	return NULL;
}

/* The caller's turn for page tap.next; 0, or -1 (tap.why). */
static int
hand(const unsigned char *data)
{
	if (tap.failed)
		return -1;
	if (tap.page(tap.arg, tap.next, data) != 0) {
		tap.failed = 1;
		return -1;
	}
	tap.next++;
	return 0;
}

/*
 * Hands on every page before pgno the pager did not read now: it held
 * them, as read before (kept), or never uses them (the lock bytes).
 */
static int
catch_up(int64_t pgno)
{
	const unsigned char *d;

	while (tap.next < pgno && !tap.failed) {
		if ((d = kept_page(tap.next)) == NULL &&
		    (tap.next - 1) * tap.page_size == PENDING_BYTE)
			d = tap.zero;
		if (d == NULL) {
			snprintf(tap.why, sizeof(tap.why), "page %lld was "
			    "neither read nor held by SQLite",
			    (long long)tap.next);
			tap.failed = 1;
			return -1;
		}
		if (hand(d) != 0)
			return -1;
	}
	return tap.failed ? -1 : 0;
}

/* A whole page pgno came in from a file; 0, or -1 to fail the read. */
static int
came_in(int64_t pgno, const unsigned char *data, int amt)
{
	if (tap.phase == AFTER)
		return 0;
	if (tap.phase == BEFORE) {
		if (amt != tap.page_size)
			return 0;
		if (keep(pgno, data) != 0) {
			snprintf(tap.why, sizeof(tap.why), "out of memory");
			tap.failed = 1;
			return -1;
		}
		return 0;
	}
	if (amt != tap.page_size || pgno < tap.next || pgno > tap.npages)
		return 0;
	if (catch_up(pgno) != 0 || hand(data) != 0)
		return -1;
	return 0;
}

/* ---- vb-tap: the system's VFS, its page reads seen ---- */

enum { T_MAIN, T_WAL, T_OTHER };

struct tap_file {
	sqlite3_file	 base;
	int		 kind;
	sqlite3_file	*real;		/* right after this structure */
};

static sqlite3_vfs *
real_vfs(void)
{
	return (sqlite3_vfs *)tap_vfs.pAppData;
}

/* A power of two a page may be. */
static int
page_sized(int amt)
{
	return amt >= 512 && amt <= 65536 && (amt & (amt - 1)) == 0;
}

/*
 * Which page a read of amt bytes at off is, if it is one whole page;
 * 0 if not.  In the -wal, the page a frame holds is in its header.
 */
static int64_t
which_page(struct tap_file *f, int amt, sqlite3_int64 off)
{
	unsigned char h[4];
	sqlite3_int64 frame;

	if (!page_sized(amt))
		return 0;
	if (f->kind == T_MAIN)
		return off % amt == 0 ? off / amt + 1 : 0;
	frame = off - WAL_HDR - FRAME_HDR;
	if (f->kind != T_WAL || frame < 0 || frame % (amt + FRAME_HDR) != 0 ||
	    f->real->pMethods->xRead(f->real, h, 4, off - FRAME_HDR) !=
	    SQLITE_OK)
		return 0;
	return (int64_t)h[0] << 24 | (int64_t)h[1] << 16 |
	    (int64_t)h[2] << 8 | h[3];
}

static int
tap_read(sqlite3_file *pf, void *buf, int amt, sqlite3_int64 off)
{
	struct tap_file *f = (struct tap_file *)pf;
	int rc = f->real->pMethods->xRead(f->real, buf, amt, off);
	int64_t pgno;

	/* A short read is zeros past the end, as SQLite takes it. */
	if ((rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) ||
	    tap.phase == IDLE || f->kind == T_OTHER)
		return rc;
	if ((pgno = which_page(f, amt, off)) > 0 && came_in(pgno, buf,
	    amt) != 0)
		return SQLITE_IOERR_READ;
	return rc;
}

/* The rest of the methods: the real file's. */
#define REAL(f)	(((struct tap_file *)(f))->real)

static int
tap_close(sqlite3_file *f)
{
	return REAL(f)->pMethods->xClose(REAL(f));
}

static int
tap_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{
	return REAL(f)->pMethods->xWrite(REAL(f), b, n, o);
}

static int
tap_truncate(sqlite3_file *f, sqlite3_int64 n)
{
	return REAL(f)->pMethods->xTruncate(REAL(f), n);
}

static int
tap_sync(sqlite3_file *f, int flags)
{
	return REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int
tap_size(sqlite3_file *f, sqlite3_int64 *n)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), n);
}

static int
tap_lock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xLock(REAL(f), l);
}

static int
tap_unlock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), l);
}

static int
tap_reserved(sqlite3_file *f, int *r)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), r);
}

static int
tap_control(sqlite3_file *f, int op, void *arg)
{
	/* No memory map: every page comes in through xRead. */
	if (op == SQLITE_FCNTL_MMAP_SIZE) {
		*(sqlite3_int64 *)arg = 0;
		return SQLITE_OK;
	}
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int
tap_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int
tap_device(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int
tap_shm_map(sqlite3_file *f, int i, int sz, int extend, void volatile **pp)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), i, sz, extend, pp);
}

static int
tap_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}

static void
tap_shm_barrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int
tap_shm_unmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static int
tap_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **pp)
{
	(void)f;
	(void)off;
	(void)amt;
	*pp = NULL;		/* read it instead */
	return SQLITE_OK;
}

static int
tap_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	(void)f;
	(void)off;
	(void)p;
	return SQLITE_OK;
}

static const sqlite3_io_methods tap_io = {
	3, tap_close, tap_read, tap_write, tap_truncate, tap_sync, tap_size,
	tap_lock, tap_unlock, tap_reserved, tap_control, tap_sector,
	tap_device, tap_shm_map, tap_shm_lock, tap_shm_barrier,
	tap_shm_unmap, tap_fetch, tap_unfetch
};

static int
tap_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *pf, int flags,
    int *out)
{
	struct tap_file *f = (struct tap_file *)pf;
	int rc;

	(void)vfs;
	f->real = (sqlite3_file *)(f + 1);
	f->kind = flags & SQLITE_OPEN_MAIN_DB ? T_MAIN : flags &
	    SQLITE_OPEN_WAL ? T_WAL : T_OTHER;
	rc = real_vfs()->xOpen(real_vfs(), name, f->real, flags, out);
	/* No methods: SQLite calls no xClose (the real one failed). */
	f->base.pMethods = f->real->pMethods != NULL ? &tap_io : NULL;
	return rc;
}

static int
tap_delete(sqlite3_vfs *v, const char *name, int sync)
{
	(void)v;
	return real_vfs()->xDelete(real_vfs(), name, sync);
}

static int
tap_access(sqlite3_vfs *v, const char *name, int flags, int *res)
{
	(void)v;
	return real_vfs()->xAccess(real_vfs(), name, flags, res);
}

static int
tap_full(sqlite3_vfs *v, const char *name, int n, char *out)
{
	(void)v;
	return real_vfs()->xFullPathname(real_vfs(), name, n, out);
}

static int
tap_random(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return real_vfs()->xRandomness(real_vfs(), n, out);
}

static int
tap_sleep(sqlite3_vfs *v, int us)
{
	(void)v;
	return real_vfs()->xSleep(real_vfs(), us);
}

static int
tap_time(sqlite3_vfs *v, double *t)
{
	(void)v;
	return real_vfs()->xCurrentTime(real_vfs(), t);
}

static int
tap_error(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return real_vfs()->xGetLastError(real_vfs(), n, out);
}

static int
tap_time64(sqlite3_vfs *v, sqlite3_int64 *t)
{
	(void)v;
	return real_vfs()->xCurrentTimeInt64(real_vfs(), t);
}

/* ---- vb-null: files that keep nothing ---- */

struct null_file {
	sqlite3_file	 base;
	sqlite3_int64	 size;
};

static int
null_close(sqlite3_file *f)
{
	(void)f;
	return SQLITE_OK;
}

/* Nothing is kept: only pages never written are read, as zeros. */
static int
null_read(sqlite3_file *pf, void *buf, int amt, sqlite3_int64 off)
{
	struct null_file *f = (struct null_file *)pf;

	memset(buf, 0, (size_t)amt);
	return off + amt > f->size ? SQLITE_IOERR_SHORT_READ : SQLITE_OK;
}

static int
null_write(sqlite3_file *pf, const void *buf, int amt, sqlite3_int64 off)
{
	struct null_file *f = (struct null_file *)pf;

	(void)buf;
	if (off + amt > f->size)
		f->size = off + amt;
	return SQLITE_OK;
}

static int
null_truncate(sqlite3_file *pf, sqlite3_int64 n)
{
	((struct null_file *)pf)->size = n;
	return SQLITE_OK;
}

static int
null_sync(sqlite3_file *f, int flags)
{
	(void)f;
	(void)flags;
	return SQLITE_OK;
}

static int
null_size(sqlite3_file *pf, sqlite3_int64 *n)
{
	*n = ((struct null_file *)pf)->size;
	return SQLITE_OK;
}

static int
null_lock(sqlite3_file *f, int l)
{
	(void)f;
	(void)l;
	return SQLITE_OK;
}

static int
null_reserved(sqlite3_file *f, int *r)
{
	(void)f;
	*r = 0;
	return SQLITE_OK;
}

static int
null_control(sqlite3_file *f, int op, void *arg)
{
	(void)f;
	(void)op;
	(void)arg;
	return SQLITE_NOTFOUND;
}

static int
null_sector(sqlite3_file *f)
{
	(void)f;
	return 4096;
}

static int
null_device(sqlite3_file *f)
{
	(void)f;
	return 0;
}

static const sqlite3_io_methods null_io = {
	1, null_close, null_read, null_write, null_truncate, null_sync,
	null_size, null_lock, null_lock, null_reserved, null_control,
	null_sector, null_device, NULL, NULL, NULL, NULL, NULL, NULL
};

static int
null_open(sqlite3_vfs *v, const char *name, sqlite3_file *pf, int flags,
    int *out)
{
	struct null_file *f = (struct null_file *)pf;

	(void)v;
	(void)name;
	f->size = 0;
	f->base.pMethods = &null_io;
	if (out != NULL)
		*out = flags;
	return SQLITE_OK;
}

static int
null_access(sqlite3_vfs *v, const char *name, int flags, int *res)
{
	(void)v;
	(void)name;
	(void)flags;
	*res = 0;		/* no journal to roll back, ever */
	return SQLITE_OK;
}

static int
null_delete(sqlite3_vfs *v, const char *name, int sync)
{
	(void)v;
	(void)name;
	(void)sync;
	return SQLITE_OK;
}

static int
null_full(sqlite3_vfs *v, const char *name, int n, char *out)
{
	(void)v;
	snprintf(out, (size_t)n, "%s", name);
	return SQLITE_OK;
}

/* Registers both (never the default); 0, or -1. */
static int
register_vfs(void)
{
	sqlite3_vfs *sys;
	int rc = 0;

	pthread_mutex_lock(&reg_lock);
	if (!registered && (sys = sqlite3_vfs_find(NULL)) != NULL) {
		tap_vfs = (sqlite3_vfs){ 2, (int)(sizeof(struct tap_file) +
		    (size_t)sys->szOsFile), sys->mxPathname, NULL, "vb-tap",
		    sys, tap_open, tap_delete, tap_access, tap_full, NULL,
		    NULL, NULL, NULL, tap_random, tap_sleep, tap_time,
		    tap_error, tap_time64, NULL, NULL, NULL };
		null_vfs = (sqlite3_vfs){ 2, (int)sizeof(struct null_file),
		    sys->mxPathname, NULL, "vb-null", NULL, null_open,
		    null_delete, null_access, null_full, NULL, NULL, NULL,
		    NULL, tap_random, tap_sleep, tap_time, tap_error,
		    tap_time64, NULL, NULL, NULL };
		tap_vfs.pAppData = sys;
		if (sqlite3_vfs_register(&tap_vfs, 0) != SQLITE_OK ||
		    sqlite3_vfs_register(&null_vfs, 0) != SQLITE_OK)
			rc = -1;
		else
			registered = 1;
	}
	if (!registered)
		rc = -1;
	pthread_mutex_unlock(&reg_lock);
	return rc;
}

/* ---- the read ---- */

static void
forget(void)
{
	size_t i;

	for (i = 0; i < tap.nkept; i++)
		free(tap.kept[i].data);
	free(tap.kept);
	free(tap.zero);
	memset(&tap, 0, sizeof(tap));
}

/* The read transaction begun, what it sees read; 0, or -1 (why). */
static int
begin(struct vb_live *l, char *why, size_t wlen)
{
	int64_t n, ps;

	/* The first read begins the transaction: the time right after it,
	 * which the name keeps, holds every commit before it. */
	l->in_txn = 1;
	if (sqlite3_exec(l->db, "PRAGMA cache_size=16; BEGIN", NULL, NULL,
	    NULL) != SQLITE_OK || vb_db_int(l->db, "PRAGMA page_count",
	    &n) != 0)
		goto fail;
	l->when = vb_now_named();
	if (vb_db_int(l->db, "PRAGMA page_size", &ps) != 0 ||
	    vb_db_text(l->db, "PRAGMA journal_mode", l->journal,
	    sizeof(l->journal)) != 0)
		goto fail;
	l->npages = n;
	l->page_size = ps;
	return 0;
fail:
	snprintf(why, wlen, "%s: cannot read: %s", l->path,
	    sqlite3_errmsg(l->db));
	return -1;
}

int
vb_live_open(struct vb_live *l, const char *path, char *why, size_t wlen)
{
	struct vb_dbinfo info;

	memset(l, 0, sizeof(*l));
	l->path = path;
	/* The page size, to know a page's read from the first one on. */
	if (vb_db_header(path, &info, why, wlen) != 0)
		return -1;
	if (register_vfs() != 0) {
		snprintf(why, wlen, "cannot register vb's SQLite VFS");
		return -1;
	}
	pthread_mutex_lock(&reg_lock);
	if (tap.phase != IDLE) {
		pthread_mutex_unlock(&reg_lock);
		snprintf(why, wlen, "another live read is under way");
		return -1;
	}
	tap.phase = BEFORE;
	tap.page_size = info.page_size;
	pthread_mutex_unlock(&reg_lock);
	/*
	 * READONLY without CREATE: a missing file is never created; nor a
	 * link followed, should one replace the file after its checks.
	 */
	if (sqlite3_open_v2(path, &l->db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOFOLLOW, "vb-tap") !=
	    SQLITE_OK) {
		snprintf(why, wlen, "%s: %s", path, l->db != NULL ?
		    sqlite3_errmsg(l->db) : "out of memory");
		vb_live_close(l);
		return -1;
	}
	sqlite3_extended_result_codes(l->db, 1);
	vb_db_busy(l->db);
	if (begin(l, why, wlen) != 0) {
		vb_live_close(l);
		return -1;
	}
	if (l->page_size != tap.page_size) {
		snprintf(why, wlen, "%s: its page size changed as it was "
		    "opened (a VACUUM?); try again", path);
		vb_live_close(l);
		return -1;
	}
	return 0;
}

/* A destination that keeps nothing, of the source's page size. */
static sqlite3 *
null_db(char *why, size_t wlen)
{
	sqlite3 *d = NULL;

	if (sqlite3_open_v2("vb-null", &d, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, "vb-null") != SQLITE_OK ||
	    sqlite3_exec(d, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
	    "PRAGMA cache_size=16", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(why, wlen, "cannot open a null destination: %s",
		    d != NULL ? sqlite3_errmsg(d) : "out of memory");
		sqlite3_close(d);
		return NULL;
	}
	return d;
}

int
vb_live_pages(struct vb_live *l, int (*page)(void *, int64_t,
    const unsigned char *), void *arg, char *why, size_t wlen)
{
	sqlite3 *d;
	int rc;

	if ((tap.zero = calloc(1, (size_t)l->page_size)) == NULL) {
		snprintf(why, wlen, "out of memory");
		return -1;
	}
	tap.npages = l->npages;
	tap.next = 1;
	tap.page = page;
	tap.arg = arg;
	if ((d = null_db(why, wlen)) == NULL)
		return -1;
	/* The pages SQLite held from before are read again: kept now. */
	tap.phase = DURING;
	rc = vb_db_backup(d, l->db);
	sqlite3_close(d);
	if (rc == SQLITE_DONE && catch_up(l->npages + 1) == 0) {
		tap.phase = AFTER;
		return 0;
	}
	if (tap.failed && tap.why[0] != '\0')
		snprintf(why, wlen, "%s: %s", l->path, tap.why);
	else if (!tap.failed)
		snprintf(why, wlen, "%s: reading its pages: %s", l->path,
		    sqlite3_errstr(rc));
	/* Else the callback failed: its why is the caller's to say. */
	else
		why[0] = '\0';
	tap.phase = AFTER;
	return -1;
}

int
vb_live_rows(struct vb_live *l, struct vb_rows *r, char *why, size_t wlen)
{
	return vb_rows_count_db(l->db, l->path, r, why, wlen);
}

void
vb_live_close(struct vb_live *l)
{
	if (l->in_txn)
		sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL);
	l->in_txn = 0;
	sqlite3_close(l->db);
	l->db = NULL;
	pthread_mutex_lock(&reg_lock);
	forget();
	pthread_mutex_unlock(&reg_lock);
}
