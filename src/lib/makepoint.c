/*
 * makepoint.c - a point: an archive of the pages that changed since the
 * backup it leans on, made without copying the database.
 *
 * Inside one read transaction of the live database (livepages.c) each
 * page is hashed for the page index and compared with the parent's
 * whole index, while a second thread takes the SHA-256 of the whole
 * database from the very same bytes.  Only the changed pages are kept:
 * in a spool beside the backups (a quarter of the database at most: past
 * that, the point fails and asks for the nightly), then, once the read
 * transaction has ended, in the archive.  The proof that the archive
 * rebuilds the database its manifest names, without writing that
 * database out: the archive is read back as it is written, and every
 * page of the database as it was read must be in the archive with the
 * hash it had, or unchanged in the parent's index, itself proven when
 * the parent was made (vb_index_full).  Both hashes were taken of the
 * same bytes, so the parent's database with these pages is the database
 * whose SHA-256 the manifest records; a restore checks that SHA-256
 * again on the file it rebuilds.  Nothing is committed unless the proof
 * holds; the archive is encrypted and signed as vb-compress's are.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vblib.h"

/* Pages in flight to the whole database's hash, at most. */
#define RING_BYTES	(4 * 1024 * 1024)
/* A point holds at most a quarter of the pages (and a few). */
#define MAX_SHARE	4
#define MIN_PAGES	256

/* ---- the whole database's SHA-256, on a thread of its own ---- */

/*
 * A ring of pages from one reader (SQLite's thread) to one hasher.  The
 * counts are atomics; a side sleeps only when it must, and is woken only
 * when the other has a batch for it (a wake-up and a lock per page cost
 * more than the hashing).  Each side sets its flag, then looks at the
 * other's count; the other moves its count, then looks at the flag: both
 * sequentially consistent, one of them sees the other's move.
 */
struct ring {
	pthread_mutex_t	 mu;
	pthread_cond_t	 more, room;
	unsigned char	*buf;		/* slots pages */
	size_t		 ps;
	int64_t		 slots, batch;
	int64_t		 put, got;	/* pages put in, hashed (atomic) */
	int		 done;		/* (atomic) */
	int		 hasher_waits, reader_waits;	/* (atomic) */
	int		 threaded;
	pthread_t	 th;
	struct vb_sha256 *h;
};

#define LOAD(x)		__atomic_load_n(&(x), __ATOMIC_SEQ_CST)
#define STORE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_SEQ_CST)

/* The hasher sleeps until a batch is there, or the end. */
static void
hasher_sleep(struct ring *r, int64_t got)
{
	pthread_mutex_lock(&r->mu);
	STORE(r->hasher_waits, 1);
	while (LOAD(r->put) - got < r->batch && !LOAD(r->done))
		pthread_cond_wait(&r->more, &r->mu);
	STORE(r->hasher_waits, 0);
	pthread_mutex_unlock(&r->mu);
}

static void *
ring_main(void *arg)
{
	struct ring *r = arg;
	int64_t i, put, got = 0;

	for (;;) {
		put = LOAD(r->put);
		if (put - got < r->batch && !LOAD(r->done)) {
			hasher_sleep(r, got);
			continue;
		}
		if (put == got)
			break;
		for (i = got; i < put; i++)
			vb_sha256_update(r->h, r->buf + (size_t)(i % r->slots) *
			    r->ps, r->ps);
		got = put;
		STORE(r->got, got);
		if (LOAD(r->reader_waits)) {
			pthread_mutex_lock(&r->mu);
			pthread_cond_signal(&r->room);
			pthread_mutex_unlock(&r->mu);
		}
	}
	return NULL;
}

/* Starts it (or, with no thread to be had, hashes inline); 0 or -1. */
static int
ring_start(struct ring *r, size_t ps)
{
	memset(r, 0, sizeof(*r));
	r->ps = ps;
	/* 4 MiB of pages, 64 at least; handed over by eighths. */
	r->slots = RING_BYTES / (int64_t)ps > 64 ? RING_BYTES / (int64_t)ps :
	    64;
	r->batch = r->slots / 8;
	if ((r->h = vb_sha256_new()) == NULL)
		return -1;
	/* No ring (no memory or no thread): hashed inline. */
	if ((r->buf = malloc((size_t)r->slots * ps)) == NULL)
		return 0;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->more, NULL);
	pthread_cond_init(&r->room, NULL);
	r->threaded = pthread_create(&r->th, NULL, ring_main, r) == 0;
	return 0;
}

static void
ring_put(struct ring *r, const unsigned char *page)
{
	int64_t put = r->put;

	if (!r->threaded) {
		vb_sha256_update(r->h, page, r->ps);
		return;
	}
	if (put - LOAD(r->got) >= r->slots) {
		pthread_mutex_lock(&r->mu);
		STORE(r->reader_waits, 1);
		while (put - LOAD(r->got) >= r->slots)
			pthread_cond_wait(&r->room, &r->mu);
		STORE(r->reader_waits, 0);
		pthread_mutex_unlock(&r->mu);
	}
	/* Slot put % slots is the hasher's only once put has passed it. */
	memcpy(r->buf + (size_t)(put % r->slots) * r->ps, page, r->ps);
	STORE(r->put, put + 1);
	if (LOAD(r->hasher_waits) && put + 1 - LOAD(r->got) >= r->batch) {
		pthread_mutex_lock(&r->mu);
		pthread_cond_signal(&r->more);
		pthread_mutex_unlock(&r->mu);
	}
}

/* Waits for the hash (hex), frees the ring; hex "" if it never ran. */
static void
ring_end(struct ring *r, char hex[VB_SHA256_HEX])
{
	if (r->threaded) {
		STORE(r->done, 1);
		pthread_mutex_lock(&r->mu);
		pthread_cond_signal(&r->more);
		pthread_mutex_unlock(&r->mu);
		pthread_join(r->th, NULL);
	}
	hex[0] = '\0';
	if (r->h != NULL)
		vb_sha256_final(r->h, hex);
	if (r->buf != NULL) {
		pthread_mutex_destroy(&r->mu);
		pthread_cond_destroy(&r->more);
		pthread_cond_destroy(&r->room);
	}
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

/* ---- the job ---- */

struct point {
	const struct vb_point_opts *o;
	struct vb_compress_result *res;
	struct vb_point_plan	 plan;
	struct vb_index		 parent;	/* its whole index */
	struct vb_live		 live;
	struct ring		 ring;
	struct vb_pages		 own;		/* every page's hash */
	struct vb_pages		 held;		/* the changed pages' */
	struct vb_tmp		 spool;		/* their numbers and bytes */
	struct vb_sha256	*spooled_h;	/* and its SHA-256 */
	int64_t			 spooled, max_pages;
	unsigned char		*rec;		/* a page's record */
	unsigned char		*page1;		/* page 1, as kept */
	unsigned		 sqlite_version;
	char			 stem[64], final[128], efinal[132];
	struct vb_manifest	 m;
	char			 text[VB_MANIFEST_MAX];
	struct vb_tmp		 t, e;		/* the archive; encrypted */
	int			 ask;		/* for the nightly: too many
					   pages changed, or their size */
};

/* res->why, printf-like. */
#define fail(p, ...) \
	snprintf((p)->res->why, sizeof((p)->res->why), __VA_ARGS__)

/* Adds a notice for the operator to res->note. */
static void
note(struct point *p, const char *text)
{
	size_t used = strlen(p->res->note);

	snprintf(p->res->note + used, sizeof(p->res->note) - used, "%s%s",
	    used > 0 ? "; " : "", text);
}

/* ---- the links it leans on ---- */

/*
 * Each archive of the chain from stem down (the hour's point, or the
 * nightly and its own chain) against the SHA-256 recorded when it was
 * made: damage recorded (vb_damage_mark) and the point refused.
 */
static int
links_ok(struct point *p, const char *stem, int whole_chain)
{
	char w[600], cur[64];
	struct vb_index x;
	struct vb_fault f;
	int n, rc;

	snprintf(cur, sizeof(cur), "%s", stem);
	for (n = 0; n < 1000; n++) {
		if (vb_index_read(p->o->dir, cur, 1, &x, w, sizeof(w)) != 0) {
			fail(p, "the chain of %s cannot be followed: %s", stem,
			    w);
			return -1;
		}
		if ((rc = vb_link_check(p->o->dir, &x, n + 1, &f, w,
		    sizeof(w))) < 0) {
			fail(p, "%s cannot be checked: %s", x.archive, w);
			return -1;
		}
		if (rc == 1) {
			if (!f.missing)
				vb_damage_mark(p->o->dir, &f, w, sizeof(w));
			vb_fault_text(&f, p->o->dir, w, sizeof(w));
			fail(p, "%s", w);
			return -1;
		}
		if (!whole_chain || x.parent[0] == '\0')
			return 0;
		snprintf(cur, sizeof(cur), "%s", x.parent);
	}
	fail(p, "the chain of %s is over 1000 links", stem);
	return -1;
}

/*
 * Which backup the point leans on (point.c), its whole index read and
 * proven, its archive checked: the hour's point's alone; for the hour's
 * first point, every link of the nightly's chain.  0, or -1 (why).
 */
static int
lean(struct point *p, const struct timespec *when)
{
	struct vb_backup *list;
	char w[1024];
	size_t n;
	int rc;

	if (vb_scan(p->o->dir, &list, &n, w, sizeof(w)) != 0) {
		fail(p, "%s", w);
		return -1;
	}
	vb_index_parents(p->o->dir, list, n);
	if (vb_health(p->o->dir, list, n, 0, 0, p->o->db, w,
	    sizeof(w)) != 0) {
		free(list);
		fail(p, "no point can be made: %s", w);
		return -1;
	}
	rc = vb_point_parent(list, n, when, &p->plan);
	free(list);
	if (rc != 0) {
		fail(p, "no point can be made: %s", p->plan.why);
		return -1;
	}
	if (links_ok(p, p->plan.parent, p->plan.hourly) != 0)
		return -1;
	if (vb_index_full(p->o->dir, p->plan.parent, &p->parent, w,
	    sizeof(w)) != 0) {
		fail(p, "the page index of %s cannot be used: %s",
		    p->plan.parent, w);
		return -1;
	}
	return 0;
}

/* ---- the read ---- */

/*
 * One page as the read transaction sees it: hashed for the index and,
 * on the other thread, for the whole database; spooled if it changed.
 * Page 1 says rollback journal (bytes 18 and 19), as every snapshot's
 * does: the database rebuilt needs no -wal.
 */
static int
on_page(void *arg, int64_t pgno, const unsigned char *bytes)
{
	struct point *p = arg;
	size_t ps = (size_t)p->live.page_size;
	unsigned char h[VB_PAGE_HASH];
	int64_t i = pgno - 1;

	if (pgno == 1) {
		memcpy(p->page1, bytes, ps);
		p->page1[18] = p->page1[19] = 1;
		p->sqlite_version = (unsigned)bytes[96] << 24 |
		    (unsigned)bytes[97] << 16 | (unsigned)bytes[98] << 8 |
		    bytes[99];
		bytes = p->page1;
	}
	ring_put(&p->ring, bytes);
	vb_page_hash(bytes, ps, h);
	memcpy(p->own.h + i * VB_PAGE_HASH, h, VB_PAGE_HASH);
	p->own.count = pgno;
	if (i < p->parent.p.count && memcmp(p->parent.p.h + i * VB_PAGE_HASH,
	    h, VB_PAGE_HASH) == 0)
		return 0;
	if (p->held.count == p->max_pages) {
		p->ask = 1;
		fail(p, "more than %lld of its %lld pages changed since %s: "
		    "more than a point holds", (long long)p->max_pages,
		    (long long)p->live.npages, p->plan.parent);
		return -1;
	}
	p->rec[0] = (unsigned char)(pgno >> 24);
	p->rec[1] = (unsigned char)(pgno >> 16);
	p->rec[2] = (unsigned char)(pgno >> 8);
	p->rec[3] = (unsigned char)pgno;
	memcpy(p->rec + 4, bytes, ps);
	vb_sha256_update(p->spooled_h, p->rec, 4 + ps);
	if (vb_pages_add(&p->held, i, h) != 0 ||
	    vb_write_all(p->spool.fd, p->rec, 4 + ps) != 0) {
		fail(p, "%s/%s: %s", p->o->dir, p->spool.name,
		    strerror(errno != 0 ? errno : ENOMEM));
		return -1;
	}
	p->spooled += (int64_t)(4 + ps);
	return 0;
}

/* Room for the read: the index, the spool, the hash's thread. */
static int
read_prepare(struct point *p)
{
	size_t ps = (size_t)p->live.page_size;
	char name[160];

	if (p->parent.p.page_size != p->live.page_size) {
		p->ask = 1;
		fail(p, "its page size is %lld, %s's %lld: a point cannot "
		    "span that",
		    (long long)p->live.page_size, p->plan.parent,
		    (long long)p->parent.p.page_size);
		return -1;
	}
	vb_pages_init(&p->own, p->live.page_size);
	vb_pages_init(&p->held, p->live.page_size);
	p->max_pages = p->live.npages / MAX_SHARE + MIN_PAGES;
	snprintf(name, sizeof(name), "%s%s", p->stem, VB_DELTA_PAGES);
	if (vb_pages_alloc(&p->own, p->live.npages > 0 ? p->live.npages :
	    1) != 0 || (p->rec = malloc(4 + ps)) == NULL ||
	    (p->page1 = malloc(ps)) == NULL || (p->spooled_h =
	    vb_sha256_new()) == NULL || ring_start(&p->ring, ps) != 0) {
		fail(p, "out of memory");
		return -1;
	}
	return vb_tmp_open(&p->spool, p->o->dir, name, p->res->why,
	    sizeof(p->res->why));
}

/*
 * Every page read and hashed, the rows counted, in the read transaction
 * lean() found the parent for; then the transaction ends.  0, or -1.
 */
static int
read_live(struct point *p)
{
	char w[1024], hex[VB_SHA256_HEX];
	struct vb_rows rows;
	int rc;

	rc = read_prepare(p);
	if (rc == 0 && vb_live_pages(&p->live, on_page, p, w,
	    sizeof(w)) != 0) {
		if (w[0] != '\0')
			fail(p, "%s", w);
		rc = -1;
	}
	if (rc == 0 && vb_live_rows(&p->live, &rows, w, sizeof(w)) == 0)
		p->m.rows = rows;
	else if (rc == 0)
		note(p, "no row counts in its manifest");
	vb_live_close(&p->live);
	ring_end(&p->ring, hex);
	if (rc == 0 && p->own.count != p->live.npages) {
		fail(p, "%lld of %lld pages read", (long long)p->own.count,
		    (long long)p->live.npages);
		rc = -1;
	}
	memcpy(p->m.db_sha256, hex, sizeof(p->m.db_sha256));
	return rc;
}

/* ---- the archive ---- */

/* The manifest: kind point, its parent, what was read. */
static int
manifest(struct point *p, const struct timespec *when)
{
	struct vb_manifest *m = &p->m;

	snprintf(m->source, sizeof(m->source), "%s", p->o->db);
	if (gethostname(m->host, sizeof(m->host) - 1) != 0)
		snprintf(m->host, sizeof(m->host), "unknown");
	vb_iso_time(when, m->created);
	snprintf(m->name, sizeof(m->name), "%s", p->stem);
	snprintf(m->sqlite_version, sizeof(m->sqlite_version), "%u.%u.%u",
	    p->sqlite_version / 1000000, p->sqlite_version / 1000 % 1000,
	    p->sqlite_version % 1000);
	m->page_size = p->live.page_size;
	m->page_count = p->live.npages;
	snprintf(m->journal_mode, sizeof(m->journal_mode), "%s",
	    p->live.journal);
	m->db_bytes = p->live.npages * p->live.page_size;
	/* Not checked: its nightly was, and the drill proves points too. */
	snprintf(m->integrity, sizeof(m->integrity), "%s", VB_UNCHECKED);
	snprintf(m->integrity_check, sizeof(m->integrity_check), "none");
	m->delta = m->point = 1;
	memcpy(m->parent, p->plan.parent, sizeof(m->parent));
	memcpy(m->parent_db_sha256, p->parent.db_sha256,
	    sizeof(m->parent_db_sha256));
	m->pages = p->held.count;
	vb_pages_sha(&p->own, m->index_sha256);
	vb_sha256_final(p->spooled_h, m->pages_sha256);
	p->spooled_h = NULL;
	if (vb_manifest_format(m, p->text, sizeof(p->text)) < 0) {
		fail(p, "%s: cannot write its manifest", p->stem);
		return -1;
	}
	return 0;
}

/* The read-back, on its own thread, following the writer. */
struct readback {
	int			 fd;
	int			 done;
	const char		*stem;
	int			 rc;
	struct vb_pages		 held;		/* its pages' hashes */
	struct vb_manifest	 m;
	struct vb_archive_info	 info;
	char			 why[900];
};

static void *
readback_main(void *arg)
{
	struct readback *rb = arg;

	rb->rc = vb_archive_verify(rb->fd, &rb->done, rb->stem, -1, &rb->held,
	    &rb->m, &rb->info, rb->why, sizeof(rb->why));
	return NULL;
}

/*
 * The proof, on what was read back: the manifest as written, and every
 * page of the database as read in the archive or in the parent's index.
 */
static int
proven(struct point *p, struct readback *rb, const char *sig)
{
	char w[600];

	if (rb->rc != 0) {
		fail(p, "%s: read-back check failed: %s", p->final, rb->why);
		return -1;
	}
	if (!rb->m.point || strcmp(rb->m.db_sha256, p->m.db_sha256) != 0 ||
	    strcmp(rb->m.pages_sha256, p->m.pages_sha256) != 0 ||
	    rb->m.pages != p->held.count || strcmp(rb->m.index_sha256,
	    p->m.index_sha256) != 0 || strcmp(rb->info.sig, sig != NULL ?
	    sig : "") != 0) {
		fail(p, "%s: read-back check failed: manifest changed",
		    p->final);
		return -1;
	}
	if (vb_pages_cover(&p->parent.p, &rb->held, &p->own, w,
	    sizeof(w)) != 0) {
		fail(p, "%s does not rebuild the database on %s: %s",
		    p->final, p->plan.parent, w);
		return -1;
	}
	return 0;
}

/* Writes the archive while a thread reads it back; then the proof. */
static int
write_and_prove(struct point *p)
{
	struct vb_archive_opts ao = p->o->c->a;
	struct readback rb;
	char w[900], sig[VB_SIG_MAX + 1];
	pthread_t th;
	int rc, threaded;

	if (p->o->c->sign_with != NULL) {
		if (vb_sign(p->o->c->sign_with, p->text, strlen(p->text), sig,
		    sizeof(sig), w, sizeof(w)) != 0) {
			fail(p, "%s: %s", p->final, w);
			return -1;
		}
		ao.sig = sig;
	}
	if (vb_tmp_open(&p->t, p->o->dir, p->final, p->res->why,
	    sizeof(p->res->why)) != 0)
		return -1;
	memset(&rb, 0, sizeof(rb));
	rb.stem = p->stem;
	if ((rb.fd = openat(p->t.dirfd, p->t.name, O_RDONLY | O_CLOEXEC)) ==
	    -1) {
		fail(p, "read-back: %s", strerror(errno));
		return -1;
	}
	threaded = pthread_create(&th, NULL, readback_main, &rb) == 0;
	ao.mtime = p->live.when.tv_sec;
	rc = vb_archive_write_point(p->t.fd, &ao, p->text, p->stem,
	    p->spool.fd, p->spooled, w, sizeof(w));
	__atomic_store_n(&rb.done, 1, __ATOMIC_RELEASE);
	if (threaded)
		pthread_join(th, NULL);
	else
		readback_main(&rb);
	close(rb.fd);
	if (rc != 0)
		fail(p, "writing %s/%s: %s", p->o->dir, p->final, w);
	else if (w[0] != '\0')
		note(p, w);
	rc = rc == 0 ? proven(p, &rb, ao.sig) : -1;
	if (rc == 0) {
		p->res->bytes = rb.info.bytes;
		memcpy(p->res->sha256, rb.info.sha256, sizeof(p->res->sha256));
	}
	vb_pages_free(&rb.held);
	return rc;
}

/* Encrypted to ENCRYPT_TO, the proven plaintext's temporary read. */
static int
encrypt(struct point *p)
{
	const char *to = p->o->c->encrypt_to;
	char w[1024];
	int fd, rc;

	if ((p->res->recipients = vb_age_recipients(to, p->res->why,
	    sizeof(p->res->why))) < 0 || vb_tmp_open(&p->e, p->o->dir,
	    p->efinal, p->res->why, sizeof(p->res->why)) != 0)
		return -1;
	if ((fd = openat(p->t.dirfd, p->t.name, O_RDONLY | O_CLOEXEC)) ==
	    -1) {
		fail(p, "%s: %s", p->t.name, strerror(errno));
		return -1;
	}
	p->res->plain_bytes = p->res->bytes;
	rc = vb_age_encrypt(to, fd, p->res->bytes, p->e.fd, p->res->sha256,
	    &p->res->bytes, w, sizeof(w));
	close(fd);
	if (rc != 0)
		fail(p, "encrypting %s/%s: %s", p->o->dir, p->efinal, w);
	return rc;
}

/* Its page index beside it (sparse: its own pages), for points after. */
static void
keep_index(struct point *p)
{
	struct vb_index x;
	char w[600], text[700];

	memset(&x, 0, sizeof(x));
	memcpy(x.stem, p->stem, sizeof(x.stem));
	memcpy(x.parent, p->plan.parent, sizeof(x.parent));
	x.point = 1;
	memcpy(x.db_sha256, p->m.db_sha256, sizeof(x.db_sha256));
	x.page_count = p->live.npages;
	memcpy(x.index_sha256, p->m.index_sha256, sizeof(x.index_sha256));
	snprintf(x.archive, sizeof(x.archive), "%s", p->efinal);
	x.archive_bytes = p->res->bytes;
	memcpy(x.archive_sha256, p->res->sha256, sizeof(x.archive_sha256));
	x.p = p->held;
	if (vb_index_write(p->o->dir, &x, w, sizeof(w)) != 0) {
		snprintf(text, sizeof(text), "cannot keep its page index "
		    "(%s): no point will lean on it", w);
		note(p, text);
	}
}

/* ---- the whole ---- */

/* The names: the time the read began, a delta's archive name. */
static int
names(struct point *p)
{
	char stamp[VB_STAMP_LEN], db[96];
	struct vb_name nm;

	vb_stamp(&p->live.when, stamp);
	snprintf(db, sizeof(db), "backup-%s.db", stamp);
	if (vb_name_parse(db, &nm) != 0) {
		fail(p, "%s: not a time vb can name", stamp);
		return -1;
	}
	memcpy(p->stem, nm.stem, sizeof(p->stem));
	nm.ext = p->o->c->a.ext;
	nm.delta = 1;
	vb_name_format(&nm, p->final, sizeof(p->final));
	snprintf(p->efinal, sizeof(p->efinal), "%s%s", p->final,
	    p->o->c->encrypt_to != NULL ? VB_AGE_SUFFIX : "");
	if (vb_path_join(p->res->path, sizeof(p->res->path), p->o->dir,
	    p->efinal) != 0) {
		fail(p, "%s: name too long", p->o->dir);
		return -1;
	}
	return 0;
}

/* Made, proven, encrypted if asked, and put in place. */
static int
make(struct point *p)
{
	char w[1024];

	struct timespec now = vb_now();

	if (vb_dir_check(p->o->dir, p->res->why, sizeof(p->res->why)) != 0)
		return -1;
	vb_clean_stale(p->o->dir, p->res->note, sizeof(p->res->note));
	/* Before the read: a rollback-journal application waits on it. */
	if (lean(p, &now) != 0 || vb_live_open(&p->live, p->o->db,
	    p->res->why, sizeof(p->res->why)) != 0)
		return -1;
	if (names(p) != 0) {
		vb_live_close(&p->live);
		return -1;
	}
	if (read_live(p) != 0 || manifest(p, &p->live.when) != 0 ||
	    write_and_prove(p) != 0 || (p->o->c->encrypt_to != NULL &&
	    encrypt(p) != 0))
		return -1;
	if (vb_tmp_commit(p->o->c->encrypt_to != NULL ? &p->e : &p->t, w,
	    sizeof(w)) != 0) {
		fail(p, "cannot put %s in place: %s", p->res->path, w);
		return -1;
	}
	return 0;
}

/* What the result says of a point made: its kind, size, rows. */
static void
tell(struct point *p)
{
	struct vb_compress_result *res = p->res;
	char w[600];

	res->delta = res->point = 1;
	memcpy(res->parent, p->plan.parent, sizeof(res->parent));
	res->pages = p->held.count;
	res->page_count = p->live.npages;
	res->dbbytes = p->live.npages * p->live.page_size;
	res->tables = p->m.rows.known ? p->m.rows.tables : -1;
	keep_index(p);
	if (p->m.rows.known && vb_rows_loss(p->o->dir, p->stem, &p->m.rows,
	    res->warning, sizeof(res->warning), w, sizeof(w)) != 0)
		note(p, w);
}

int
vb_point(const struct vb_point_opts *o, struct vb_compress_result *res)
{
	struct point *p;
	char w[600];
	int rc;

	memset(res, 0, sizeof(*res));
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		snprintf(res->why, sizeof(res->why), "out of memory");
		return -1;
	}
	p->o = o;
	p->res = res;
	p->spool.dirfd = p->t.dirfd = p->e.dirfd = -1;
	if ((rc = make(p)) == 0)
		tell(p);
	/* Too much changed for a point: the next run is the nightly. */
	if (rc != 0 && p->ask && vb_nightly_ask(o->dir, &p->live.when, w,
	    sizeof(w)) == 0)
		vb_appendf(res->why, sizeof(res->why), "; the next run of "
		    "vb-backup takes the nightly instead");
	if (rc != 0)
		res->path[0] = '\0';
	vb_tmp_abort(&p->spool);
	vb_tmp_abort(&p->t);
	vb_tmp_abort(&p->e);
	vb_pages_free(&p->parent.p);
	vb_pages_free(&p->own);
	vb_pages_free(&p->held);
	if (p->spooled_h != NULL) {
		vb_sha256_final(p->spooled_h, w);
		p->spooled_h = NULL;
	}
	free(p->rec);
	free(p->page1);
	free(p);
	return rc;
}

void
vb_point_message(const struct vb_point_opts *o,
    const struct vb_compress_result *res, int rc, char *buf, size_t len)
{
	struct vb_facts f = { NULL, res->parent, o->c->sign_with != NULL };
	char lvl[16] = "", enc[64] = "", facts[400];

	if (rc != 0) {
		snprintf(buf, len, "%s", res->why);
		return;
	}
	if (o->c->a.level > 0)
		snprintf(lvl, sizeof(lvl), " level %d", o->c->a.level);
	if (res->recipients > 0)
		snprintf(enc, sizeof(enc), "; encrypted with age to %d "
		    "recipient%s", res->recipients, res->recipients > 1 ? "s" :
		    "");
	vb_facts_format(&f, facts, sizeof(facts));
	/* The facts first (record.c): what follows them may be free text. */
	snprintf(buf, len, "%s%s%s" VB_POINT_WORDS "%s: %lld of %lld pages; "
	    "db %lld bytes, not copied; read back ok, proven on %s's page "
	    "index%s; %s%s%s", vb_compression_name(o->c->a.ext), lvl, facts,
	    res->parent, (long long)res->pages, (long long)res->page_count,
	    (long long)res->dbbytes, res->parent, enc, res->tables < 0 ?
	    "rows not counted" : "rows counted",
	    res->warning[0] != '\0' ? "; WARNING: " : "", res->warning);
}
