/*
 * compress.c - turns one raw snapshot into a verified archive beside it.
 *
 * The archive is written under a .vb-tmp- name, read back end to end
 * (decompressed, both entries checked, the database's SHA-256 compared
 * with the manifest's) and only then fsync'd and renamed into place.  The
 * raw snapshot is removed only after that.  Shared by vb-compress and by
 * vb-restore's pre-restore safety copy.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "vblib.h"

/*
 * Fills the manifest from what the record said and what the file says.
 * A snapshot whose check was left to us (its record says "deferred", or
 * a plain path) is checked while it is compressed (later set, the check
 * how): the manifest says "ok" because nothing is committed unless that
 * check says so.  info is the file's header, read once by the caller.
 */
static int
fill_manifest(const char *path, int dbfd, const struct stat *st,
    const struct vb_dbinfo *info, const struct vb_name *nm,
    const struct vb_snapmeta *meta, struct vb_manifest *m, int later,
    enum vb_check how, char *why, size_t wlen)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->source, sizeof(m->source), "%s",
	    meta != NULL && meta->source != NULL ? meta->source : "unknown");
	if (gethostname(m->host, sizeof(m->host) - 1) != 0)
		snprintf(m->host, sizeof(m->host), "unknown");
	vb_iso_time(&nm->when, m->created);
	snprintf(m->name, sizeof(m->name), "%s", nm->stem);
	snprintf(m->sqlite_version, sizeof(m->sqlite_version), "%s",
	    info->sqlite_version);
	m->page_size = info->page_size;
	m->page_count = info->page_count >= 0 ? info->page_count :
	    st->st_size / info->page_size;
	snprintf(m->journal_mode, sizeof(m->journal_mode), "%s",
	    meta != NULL && meta->journal != NULL ? meta->journal :
	    info->journal_mode);
	m->db_bytes = st->st_size;
	/* Not later: the record said what its check found (plan_check). */
	snprintf(m->integrity, sizeof(m->integrity), "%s", later ||
	    meta == NULL || meta->integrity == NULL ? "ok" : meta->integrity);
	snprintf(m->integrity_check, sizeof(m->integrity_check), "%s",
	    vb_check_name(how));
	if (strcmp(m->integrity, "ok") != 0) {
		snprintf(why, wlen, "%s: failed its check: %s", path,
		    m->integrity);
		return -1;
	}
	if (meta != NULL && meta->sha256 != NULL && meta->bytes == st->st_size)
		snprintf(m->db_sha256, sizeof(m->db_sha256), "%s",
		    meta->sha256);
	else {
		/* The manifest comes first, so its hash must be known first. */
		if (vb_sha256_fd(dbfd, m->db_sha256) != st->st_size ||
		    lseek(dbfd, 0, SEEK_SET) != 0) {
			snprintf(why, wlen, "%s: %s", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* The read-back, on its own thread, following the writer. */
struct readback {
	int			 fd;
	int			 done;	/* set once the writer is finished */
	const char		*stem;
	struct vb_pages		*pages;	/* index what it reads, if set */
	int			 rc;
	struct vb_manifest	 m;
	struct vb_archive_info	 info;
	char			 why[900];
};

/* ---- the threads: read-back and check ---- */

static void *
readback_main(void *arg)
{
	struct readback *rb = arg;

	rb->rc = vb_archive_verify(rb->fd, &rb->done, rb->stem, -1,
	    rb->pages, &rb->m, &rb->info, rb->why, sizeof(rb->why));
	return NULL;
}

/* The snapshot's SQLite check, on a thread beside the compression. */
struct check {
	const char	*path;
	enum vb_check	 how;
	int		 rc;
	char		 result[512];
};

static void *
check_main(void *arg)
{
	struct check *c = arg;

	c->rc = vb_db_check_path(c->path, c->how, c->result,
	    sizeof(c->result));
	return NULL;
}

/* What one compression works on. */
struct job {
	const char		*path;		/* the raw snapshot */
	char			 dir[4096];	/* and its directory */
	char			 base[256];	/* and its name as a backup */
	char			 shown[4400];	/* its name as a backup */
	struct vb_tmp		 in;		/* it, an intermediate */
	char			 final[256];	/* the archive's name */
	char			 efinal[260];	/* its name once done (.age) */
	struct vb_name		 nm;
	struct stat		 st;
	int			 dbfd;
	struct vb_manifest	 m;
	char			 text[VB_MANIFEST_MAX];
	int			 later;		/* the check is ours to run */
	enum vb_check		 how;		/* which one */
	int			 bad;		/* and it failed */
	struct check		 ck;		/* it, on a thread */
	pthread_t		 cth;
	int			 cstate;	/* 0 to run, 1 on, 2 done */
	struct vb_dbinfo	 info;		/* the snapshot's header */
	struct vb_delta_plan	 plan;		/* with full_every */
	struct vb_pages		 pages;		/* a full's index, read back */
	char			 found[700];	/* as_found: what it found */
	struct vb_tmp		 t;		/* the archive */
	struct vb_tmp		 e;		/* encrypted, with encrypt_to */
	struct vb_rows_job	 rows;		/* its row counts, counted on
						   a thread of their own */
};

/* ---- the job's phases ---- */

/* Opens the raw snapshot: a regular file named like one.  0, or -1. */
static int
open_snapshot(struct job *j, struct vb_compress_result *res)
{
	char real[256];
	const char *name = NULL;

	if (vb_path_split(j->path, j->dir, sizeof(j->dir), real,
	    sizeof(real)) == 0 && (name = vb_tmp_final(real)) == NULL)
		name = real;
	/* A vb-snapshot --intermediate's: ours to archive or to name. */
	if (name == NULL || vb_name_parse(name, &j->nm) != 0 ||
	    j->nm.ext != VB_EXT_DB || vb_path_join(j->shown, sizeof(j->shown),
	    j->dir, name) != 0) {
		snprintf(res->why, sizeof(res->why), "%s: not a vb snapshot "
		    "(backup-<UTC time>.db)", j->path);
		return -1;
	}
	snprintf(j->base, sizeof(j->base), "%s", name);
	if (name != real && vb_tmp_adopt(&j->in, j->dir, real, res->why,
	    sizeof(res->why)) != 0)
		return -1;
	if ((j->dbfd = open(j->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) ==
	    -1 || fstat(j->dbfd, &j->st) != 0) {
		snprintf(res->why, sizeof(res->why), "%s: %s", j->path,
		    errno == ELOOP ? "is a symbolic link" : strerror(errno));
		return -1;
	}
	if (!S_ISREG(j->st.st_mode)) {
		snprintf(res->why, sizeof(res->why), "%s: not a regular file",
		    j->path);
		return -1;
	}
	return 0;
}

/*
 * A copy kept whatever its state (the pre-restore copy of a database
 * about to be replaced, perhaps because it is damaged): checked now, its
 * manifest saying what the check found, and the archive made anyway.
 */
static void
as_found(struct job *j)
{
	char result[512];
	int rc = vb_db_check_path(j->path, j->how, result, sizeof(result));

	j->later = 0;
	vb_clean_field(result);		/* one manifest line */
	snprintf(j->m.integrity, sizeof(j->m.integrity), "%s", rc == 0 ? "ok" :
	    result);
	if (rc != 0)
		snprintf(j->found, sizeof(j->found), "%s fails %s: %s; "
		    "archived as it is", j->shown, vb_check_name(j->how),
		    result);
}

/* Which check the snapshot is owed here, if any (j->later, j->how). */
static void
plan_check(struct job *j, const struct vb_snapmeta *meta)
{
	j->later = meta == NULL || meta->integrity == NULL ||
	    strcmp(meta->integrity, "deferred") == 0;
	j->how = meta != NULL && meta->check != NULL &&
	    strcmp(meta->check, "integrity_check") == 0 ? VB_CHECK_FULL :
	    VB_CHECK_QUICK;
}

/* Starts the snapshot's check on the core compression leaves. */
static void
start_check(struct job *j)
{
	j->ck.path = j->path;
	j->ck.how = j->how;
	if (pthread_create(&j->cth, NULL, check_main, &j->ck) == 0)
		j->cstate = 1;
}

/* Waits for the check (or runs it now); returns 0 if it passed. */
static int
end_check(struct job *j, struct vb_compress_result *res)
{
	if (j->cstate == 1)
		pthread_join(j->cth, NULL);
	else if (j->cstate == 0)
		check_main(&j->ck);
	j->cstate = 2;
	if (j->ck.rc == 0) {
		res->checked = vb_check_name(j->how);
		return 0;
	}
	j->bad = j->ck.rc > 0;
	snprintf(res->why, sizeof(res->why), "%s: %s %s: %s", j->shown,
	    j->ck.rc > 0 ? "failed" : "could not run", vb_check_name(j->how),
	    j->ck.result);
	return -1;
}

/*
 * With full_every: a full archive or a delta (j->plan), decided before
 * the manifest is written.  Returns 0, or -1 (res->why) if the snapshot
 * itself is wrong.
 */
static int
plan_kind(struct job *j, const struct vb_snapmeta *meta,
    const struct vb_compress_opts *o, struct vb_compress_result *res)
{
	char why[700];

	if (o->full) {
		snprintf(res->full_why, sizeof(res->full_why), "--full");
		return 0;
	}
	if (vb_delta_plan(j->dir, &j->nm, j->dbfd, &j->info, o->full_every,
	    meta != NULL && meta->bytes == j->st.st_size ? meta->sha256 :
	    NULL, &j->plan, why, sizeof(why)) != 0) {
		snprintf(res->why, sizeof(res->why), "%s: %s", j->shown, why);
		return -1;
	}
	if (!j->plan.delta)
		snprintf(res->full_why, sizeof(res->full_why), "%s",
		    j->plan.why);
	memcpy(res->faults, j->plan.faults, sizeof(res->faults));
	res->nfaults = j->plan.nfaults;
	return 0;
}

/* A delta's own lines in the manifest. */
static void
delta_manifest(struct job *j, struct vb_compress_result *res)
{
	struct vb_delta_plan *p = &j->plan;

	j->m.delta = 1;
	memcpy(j->m.parent, p->parent.stem, sizeof(j->m.parent));
	memcpy(j->m.parent_db_sha256, p->parent.db_sha256,
	    sizeof(j->m.parent_db_sha256));
	memcpy(j->m.db_sha256, p->sha256, sizeof(j->m.db_sha256));
	j->m.page_count = p->own.count;
	j->m.pages = p->nchanged;
	vb_pages_sha(&p->own, j->m.index_sha256);
	res->delta = 1;
	memcpy(res->parent, p->parent.stem, sizeof(res->parent));
	res->pages = p->nchanged;
	res->page_count = p->own.count;
}

/*
 * The row counts into the manifest, once counted; a database whose rows
 * cannot be counted (a damaged pre-restore copy) is archived without.
 */
static void
take_rows(struct job *j, struct vb_compress_result *res)
{
	if (vb_rows_end(&j->rows) != 0) {
		vb_notef(res->note, sizeof(res->note), "no row counts in its "
		    "manifest: %s", j->rows.why);
		return;
	}
	j->m.rows = j->rows.rows;
	res->tables = j->m.rows.tables;
}

/*
 * The stem's archive, name, found at res->path.  A run killed after
 * putting it in place and before removing the snapshot left it: when it
 * reads back whole and holds this very snapshot, the work is done
 * (returns 1; its page index in j->pages, its kind in res).  Anything
 * else is refused, and never overwritten (-1, res->why).
 */
static int
left_whole(struct job *j, const char *name, struct vb_compress_result *res)
{
	struct vb_archive_info info;
	struct vb_manifest m;
	struct vb_name an;
	char why[600] = "";
	int fd, rc = -1;

	if (vb_name_parse(name, &an) == 0 && !an.encrypted && (fd =
	    open(res->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) != -1) {
		rc = vb_archive_verify(fd, NULL, j->nm.stem, -1, &j->pages, &m,
		    &info, why, sizeof(why));
		close(fd);
	}
	if (rc != 0 || strcmp(m.db_sha256, j->m.db_sha256) != 0) {
		snprintf(res->why, sizeof(res->why), "%s: already exists%s%s",
		    res->path, why[0] != '\0' ? " and does not read back: " :
		    "", why);
		return -1;
	}
	res->bytes = info.bytes;
	memcpy(res->sha256, info.sha256, sizeof(res->sha256));
	res->delta = m.delta;
	memcpy(res->parent, m.parent, sizeof(res->parent));
	res->pages = m.pages;
	res->page_count = m.page_count;
	snprintf(j->efinal, sizeof(j->efinal), "%s", name);
	vb_notef(res->note, sizeof(res->note), "%s was already whole, left by "
	    "a run stopped before it removed the snapshot", name);
	return 1;
}

/*
 * The manifest, and a temporary for the archive beside the snapshot
 * (whose final name must not exist yet).  Returns 0, 1 if a whole
 * archive of it is already there (left_whole), or -1 (res->why).
 */
static int
prepare(struct job *j, const struct vb_snapmeta *meta,
    const struct vb_compress_opts *o, struct vb_compress_result *res)
{
	struct vb_snapmeta known;
	struct vb_name nm = j->nm;
	char name[128];

	/* The snapshot hashed for the plan need not be hashed again. */
	if (j->plan.sha256[0] != '\0') {
		known = meta != NULL ? *meta : (struct vb_snapmeta){ 0 };
		known.sha256 = j->plan.sha256;
		known.bytes = j->st.st_size;
		meta = &known;
	}
	if (fill_manifest(j->path, j->dbfd, &j->st, &j->info, &j->nm, meta,
	    &j->m, j->later, j->how, res->why, sizeof(res->why)) != 0)
		return -1;
	if (o->as_found && j->later)
		as_found(j);
	take_rows(j, res);
	if (j->plan.delta)
		delta_manifest(j, res);
	if (vb_manifest_format(&j->m, j->text, sizeof(j->text)) < 0) {
		snprintf(res->why, sizeof(res->why), "%s: cannot write a "
		    "manifest for it", j->shown);
		return -1;
	}
	nm.ext = o->a.ext;
	nm.delta = j->plan.delta;
	vb_name_format(&nm, j->final, sizeof(j->final));
	/* The name it will have: encrypted, the same plus .age. */
	snprintf(j->efinal, sizeof(j->efinal), "%s%s", j->final,
	    o->encrypt_to != NULL ? VB_AGE_SUFFIX : "");
	/* One archive per backup: any of the stem's names is taken. */
	if (vb_find_archive(j->dir, j->nm.stem, name, sizeof(name), res->path,
	    sizeof(res->path)) == 0)
		return left_whole(j, name, res);
	if (vb_path_join(res->path, sizeof(res->path), j->dir, j->efinal) !=
	    0) {
		snprintf(res->why, sizeof(res->why), "%s: name too long",
		    j->dir);
		return -1;
	}
	if (vb_dir_check(j->dir, res->why, sizeof(res->why)) != 0)
		return -1;
	vb_clean_stale(j->dir, res->note, sizeof(res->note));
	if (j->found[0] != '\0')
		vb_notef(res->note, sizeof(res->note), "%s", j->found);
	return vb_tmp_open(&j->t, j->dir, j->final, res->why, sizeof(res->why));
}

/* What the read-back found against what was written; 0 if the same. */
static int
same_archive(const struct job *j, const struct readback *rb,
    const char *sig)
{
	if (rb->rc != 0 || strcmp(rb->m.db_sha256, j->m.db_sha256) != 0 ||
	    rb->m.delta != j->m.delta || strcmp(rb->info.sig, sig != NULL ?
	    sig : "") != 0)
		return -1;
	return !j->m.delta || (rb->m.pages == j->m.pages &&
	    strcmp(rb->m.index_sha256, j->m.index_sha256) == 0) ? 0 : -1;
}

/*
 * Writes the archive into the temporary while a second thread reads it
 * back as it grows: on two cores the check costs almost no time.  The
 * read-back decides everything: the database inside must hash to the
 * manifest's db-sha256, which is the SHA-256 vb-snapshot recorded (a
 * delta's pages each to their index entry, the index to the
 * manifest's).  Returns 0 with the archive's size and hash in res, or -1
 * (res->why).
 * (long: the reading thread started and joined in one place, so that no path
 * leaves it running)
 */
static int
write_and_read_back(struct job *j, const struct vb_snapmeta *meta,
    const struct vb_compress_opts *o, struct vb_compress_result *res)
{
	struct vb_archive_opts ao = o->a;
	struct vb_writebehind *wb;
	struct vb_progress *pg;
	struct readback rb;
	char what[300], now[VB_SHA256_HEX], why[900], sig[VB_SIG_MAX + 1];
	pthread_t th;
	int rc, threaded;

	/* Signed, the manifest's signature goes in with it (SIGN_WITH). */
	if (o->sign_with != NULL) {
		if (vb_sign(o->sign_with, j->text, strlen(j->text), sig,
		    sizeof(sig), why, sizeof(why)) != 0) {
			snprintf(res->why, sizeof(res->why), "%s: %s",
			    j->final, why);
			return -1;
		}
		ao.sig = sig;
	}
	memset(&rb, 0, sizeof(rb));
	rb.stem = j->nm.stem;
	/* A full made with full_every: its index from what is read back. */
	if ((o->full_every != NULL || (o->index && j->nm.kind ==
	    VB_KIND_BACKUP)) && j->plan.own.count == 0)
		rb.pages = &j->pages;
	if ((rb.fd = openat(j->t.dirfd, j->t.name, O_RDONLY | O_CLOEXEC)) ==
	    -1) {
		snprintf(res->why, sizeof(res->why), "read-back: %s",
		    strerror(errno));
		return -1;
	}
	threaded = pthread_create(&th, NULL, readback_main, &rb) == 0;
	ao.mtime = j->nm.when.tv_sec;
	wb = vb_writebehind_start(j->t.fd, -1);
	snprintf(what, sizeof(what), "compressing %s", j->base);
	pg = vb_progress_start(what, j->dbfd, VB_PROG_POS, j->st.st_size);
	if (j->plan.delta)
		rc = vb_archive_write_delta(j->t.fd, &ao, j->text, j->nm.stem,
		    &j->plan.own, j->plan.changed, j->plan.nchanged, j->dbfd,
		    why, sizeof(why));
	else
		rc = vb_archive_write(j->t.fd, &ao, j->text, j->base, j->dbfd,
		    j->st.st_size, why, sizeof(why));
	vb_writebehind_stop(wb);
	__atomic_store_n(&rb.done, 1, __ATOMIC_RELEASE);
	if (threaded)
		pthread_join(th, NULL);
	else
		readback_main(&rb);
	close(rb.fd);
	vb_progress_stop(pg, rc == 0 && rb.rc == 0);
	if (j->later && end_check(j, res) != 0)
		return -1;
	if (rc != 0) {
		snprintf(res->why, sizeof(res->why), "writing %s/%s: %s",
		    j->dir, j->final, why);
		return -1;
	}
	if (why[0] != '\0')	/* vb_archive_write's notice */
		vb_notef(res->note, sizeof(res->note), "%s", why);
	if (same_archive(j, &rb, ao.sig) == 0) {
		res->bytes = rb.info.bytes;
		memcpy(res->sha256, rb.info.sha256, sizeof(res->sha256));
		return 0;
	}
	/* Tell a snapshot that changed from an archive that broke. */
	if (meta != NULL && meta->sha256 != NULL &&
	    lseek(j->dbfd, 0, SEEK_SET) == 0 &&
	    vb_sha256_fd(j->dbfd, now) >= 0 && strcmp(now, meta->sha256) != 0)
		snprintf(res->why, sizeof(res->why), "%s: SHA-256 is not the "
		    "one vb-snapshot recorded: changed or damaged since",
		    j->shown);
	else
		snprintf(res->why, sizeof(res->why), "%s: read-back check "
		    "failed: %s", j->final, rb.rc != 0 ? rb.why :
		    "manifest changed");
	return -1;
}

/*
 * With full_every, the archive's page index beside it, for the next
 * night's delta.  A failure is a note: the next night writes a full.
 */
static void
keep_index(struct job *j, const struct vb_pages *p,
    struct vb_compress_result *res)
{
	struct vb_index x;
	char why[600];

	memset(&x, 0, sizeof(x));
	memcpy(x.stem, j->nm.stem, sizeof(x.stem));
	if (res->delta)
		memcpy(x.parent, res->parent, sizeof(x.parent));
	memcpy(x.db_sha256, j->m.db_sha256, sizeof(x.db_sha256));
	snprintf(x.archive, sizeof(x.archive), "%s", j->efinal);
	x.archive_bytes = res->bytes;
	memcpy(x.archive_sha256, res->sha256, sizeof(x.archive_sha256));
	x.p = *p;
	if (vb_index_write(j->dir, &x, why, sizeof(why)) != 0)
		vb_notef(res->note, sizeof(res->note), "cannot keep the page "
		    "index (%s): the next backup will be a full one", why);
}

/* ---- a snapshot that failed its check ---- */

/*
 * The snapshots set aside by failed checks in dir that are older than
 * the one just set aside (keep, a name): removed, named in why.  Only
 * the newest is kept, so that a database failing its check every night
 * does not fill the disk.
 */
static void
drop_older_asides(const char *dir, const char *keep, char *why, size_t wlen)
{
	struct vb_name kn, nm;
	struct dirent *de;
	char base[256];
	size_t n = strlen(VB_FAILED_SUFFIX), len;
	int dfd;
	DIR *d;

	snprintf(base, sizeof(base), "%.*s", (int)(strlen(keep) - n), keep);
	if (vb_name_parse(base, &kn) != 0 || (d = opendir(dir)) == NULL)
		return;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len <= n || strcmp(de->d_name + len - n,
		    VB_FAILED_SUFFIX) != 0 || strcmp(de->d_name, keep) == 0)
			continue;
		snprintf(base, sizeof(base), "%.*s", (int)(len - n),
		    de->d_name);
		if (vb_name_parse(base, &nm) != 0 ||
		    vb_timespec_cmp(&nm.when, &kn.when) >= 0 ||
		    unlinkat(dfd, de->d_name, 0) != 0)
			continue;
		vb_appendf(why, wlen, "; the older %s/%s is removed (only the "
		    "newest is kept)", dir, de->d_name);
	}
	closedir(d);
}

/*
 * A snapshot that failed its check is not a backup: renamed out of vb's
 * names (retention would count it), kept for the operator to look at
 * (the newest only); removed when archives are encrypted.
 */
static void
set_aside(struct job *j, int encrypting, char *why, size_t wlen)
{
	char aside[4500], base[300];
	size_t used = strlen(why);

	/* Kept in the clear it would outlive the run: not when encrypting. */
	if (encrypting) {
		if (unlink(j->path) == 0)
			snprintf(why + used, wlen - used, "; the snapshot is "
			    "removed (ENCRYPT_TO: no plaintext is kept): the "
			    "database itself may be damaged");
		return;
	}
	snprintf(aside, sizeof(aside), "%s%s", j->shown, VB_FAILED_SUFFIX);
	/* An intermediate, unsynced, is made whole before it is named. */
	if ((j->in.fd != -1 && fsync(j->in.fd) != 0) ||
	    rename(j->path, aside) != 0)
		return;
	snprintf(why + used, wlen - used, "; the snapshot is kept as %s, not "
	    "as a backup: the database itself may be damaged (vb-restore the "
	    "last good backup --to a file and compare)", aside);
	if (vb_path_split(aside, j->dir, sizeof(j->dir), base,
	    sizeof(base)) == 0)
		drop_older_asides(j->dir, base, why, wlen);
}

/*
 * An intermediate whose archive failed (not its check): synced and named
 * as vb-snapshot alone would have, a raw backup the next night's
 * catch-up archives.
 */
static void
keep_raw(struct job *j, char *why, size_t wlen)
{
	char err[600];
	size_t used = strlen(why);

	if (vb_tmp_commit(&j->in, err, sizeof(err)) == 0)
		snprintf(why + used, wlen - used, "; the snapshot is kept as "
		    "%s", j->shown);
	else
		snprintf(why + used, wlen - used, "; the snapshot is lost: "
		    "%s", err);
}

/* ---- encrypted, checked, done ---- */

/*
 * Encrypts the verified archive in its temporary to o->encrypt_to into a
 * second temporary, <final>.age, which then takes the archive's place in
 * res; the plaintext temporary is dropped by the caller.  Returns 0, or
 * -1 (res->why).
 */
static int
encrypt(struct job *j, const struct vb_compress_opts *o,
    struct vb_compress_result *res)
{
	char why[1024];
	int fd, rc;

	if ((res->recipients = vb_age_recipients(o->encrypt_to, res->why,
	    sizeof(res->why))) < 0)
		return -1;
	if (vb_tmp_open(&j->e, j->dir, j->efinal, res->why,
	    sizeof(res->why)) != 0)
		return -1;
	if ((fd = openat(j->t.dirfd, j->t.name, O_RDONLY | O_CLOEXEC)) ==
	    -1) {
		snprintf(res->why, sizeof(res->why), "%s: %s", j->t.name,
		    strerror(errno));
		return -1;
	}
	res->plain_bytes = res->bytes;
	rc = vb_age_encrypt(o->encrypt_to, fd, res->bytes, j->e.fd,
	    res->sha256, &res->bytes, why, sizeof(why));
	close(fd);
	if (rc != 0) {
		snprintf(res->why, sizeof(res->why), "encrypting %s/%s: %s",
		    j->dir, j->efinal, why);
		return -1;
	}
	return 0;
}

/*
 * A check still running reads the snapshot: waited for, and what it
 * found added to the first failure, which stays first.
 */
static void
finish_check(struct job *j, struct vb_compress_result *res)
{
	char first[sizeof(res->why)];
	size_t used;

	if (j->cstate == 2)
		return;
	memcpy(first, res->why, sizeof(first));
	if (end_check(j, res) != 0 && first[0] != '\0') {
		used = strlen(first);
		snprintf(first + used, sizeof(first) - used, "; and %s",
		    res->why);
	}
	memcpy(res->why, first, sizeof(first));
}

/* The archive written, read back, encrypted if asked, and committed. */
static int
put_in_place(struct job *j, const struct vb_snapmeta *meta,
    const struct vb_compress_opts *o, struct vb_compress_result *res)
{
	char why[1024];

	if (write_and_read_back(j, meta, o, res) != 0 ||
	    (o->encrypt_to != NULL && encrypt(j, o, res) != 0))
		return -1;
	if (vb_tmp_commit(o->encrypt_to != NULL ? &j->e : &j->t, why,
	    sizeof(why)) != 0) {
		snprintf(res->why, sizeof(res->why), "cannot put %s in place: "
		    "%s", res->path, why);
		return -1;
	}
	return 0;
}

/*
 * (long: a job's many resources released at one label on every path)
 */
int
vb_compress_file(const char *path, const struct vb_snapmeta *meta,
    const struct vb_compress_opts *o, struct vb_compress_result *res)
{
	char why[1024];
	struct job *j;
	int done, rc = -1;

	memset(res, 0, sizeof(*res));
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		snprintf(res->why, sizeof(res->why), "out of memory");
		return -1;
	}
	j->path = path;
	j->dbfd = -1;
	j->t.dirfd = -1;
	j->e.dirfd = -1;
	j->in.fd = j->in.dirfd = -1;
	j->cstate = 2;
	/* Not SQLite at all: said so, and no check to run on it. */
	if (open_snapshot(j, res) != 0 || vb_db_header(j->path, &j->info,
	    res->why, sizeof(res->why)) != 0)
		goto out;
	plan_check(j, meta);
	/* The check runs beside the planning's hashing and the writing,
	 * the row counts beside the hashing. */
	vb_rows_start(&j->rows, j->path);
	if (j->later && !o->as_found) {
		j->cstate = 0;
		start_check(j);
	}
	if ((o->full_every != NULL && plan_kind(j, meta, o, res) != 0) ||
	    (done = prepare(j, meta, o, res)) < 0 || (!done &&
	    put_in_place(j, meta, o, res) != 0))
		goto out;
	res->dbbytes = j->st.st_size;
	if (o->full_every != NULL || (o->index && j->nm.kind ==
	    VB_KIND_BACKUP))
		keep_index(j, j->plan.own.count > 0 && !done ? &j->plan.own :
		    &j->pages, res);
	if (j->nm.kind == VB_KIND_BACKUP && vb_rows_loss(j->dir, j->nm.stem,
	    &j->m.rows, res->warning, sizeof(res->warning), why,
	    sizeof(why)) != 0)
		vb_notef(res->note, sizeof(res->note), "%s", why);
	rc = 0;
	if (o->keep && j->in.dirfd != -1 && vb_tmp_commit(&j->in, why,
	    sizeof(why)) != 0) {
		snprintf(res->why, sizeof(res->why), "cannot keep the raw "
		    "snapshot as %s: %s", j->shown, why);
		rc = 1;
	} else if (!o->keep) {
		if (unlink(path) != 0) {
			snprintf(res->why, sizeof(res->why), "%s: cannot "
			    "remove the raw snapshot: %s", path,
			    strerror(errno));
			rc = 1;
		} else {
			vb_fsync_dir(j->dir);
			res->removed = 1;
		}
	}
out:
	vb_rows_end(&j->rows);
	finish_check(j, res);
	if (rc < 0 && j->bad)
		set_aside(j, o->encrypt_to != NULL, res->why,
		    sizeof(res->why));
	else if (rc < 0 && j->in.dirfd != -1)
		keep_raw(j, res->why, sizeof(res->why));
	vb_tmp_abort(&j->in);	/* an intermediate archived, or gone */
	vb_tmp_abort(&j->t);	/* encrypted: the plaintext goes here */
	vb_tmp_abort(&j->e);
	vb_delta_plan_free(&j->plan);
	vb_pages_free(&j->pages);
	if (j->dbfd != -1)
		close(j->dbfd);
	if (rc < 0)
		res->path[0] = '\0';
	free(j);
	return rc;
}

/* ---- the compress record's message ---- */

/* With --full-every: "; delta of X: N of M pages", "; full: why". */
static void
kind_words(const struct vb_compress_opts *o,
    const struct vb_compress_result *res, char *buf, size_t len)
{
	if (o->full_every == NULL)
		buf[0] = '\0';
	else if (res->delta)
		snprintf(buf, len, "; delta of %s: %lld of %lld pages",
		    res->parent, (long long)res->pages,
		    (long long)res->page_count);
	else
		snprintf(buf, len, "; full (%s)", res->full_why[0] != '\0' ?
		    res->full_why : "asked for");
}

void
vb_compress_message(const struct vb_compress_opts *o,
    const struct vb_compress_result *res, int rc, char *buf, size_t len)
{
	struct vb_facts f = { res->checked, NULL, o->sign_with != NULL };
	char lvl[16], enc[64], kind[800], checked[64] = "", facts[400];

	if (rc < 0) {
		snprintf(buf, len, "%s", res->why);
		return;
	}
	if (o->a.level > 0)
		snprintf(lvl, sizeof(lvl), " level %d", o->a.level);
	else
		lvl[0] = '\0';
	if (res->recipients > 0)
		snprintf(enc, sizeof(enc), "; encrypted with age to %d "
		    "recipient%s", res->recipients, res->recipients > 1 ? "s" :
		    "");
	else
		enc[0] = '\0';
	if (res->checked != NULL)
		snprintf(checked, sizeof(checked), VB_CHECKED_WORDS,
		    res->checked);
	vb_facts_format(&f, facts, sizeof(facts));
	kind_words(o, res, kind, sizeof(kind));
	/* The facts first (record.c): what follows them may be free text. */
	snprintf(buf, len, "%s%s%s%s; db %lld bytes, archive %.1f%% of it; "
	    "read back ok%s%s; %s; snapshot %s%s%s%s%s",
	    vb_compression_name(o->a.ext), lvl, facts, kind,
	    (long long)res->dbbytes, res->dbbytes > 0 ? 100.0 *
	    (double)res->bytes / (double)res->dbbytes : 0.0, checked, enc,
	    res->tables < 0 ? "rows not counted" : "rows counted",
	    res->removed ? "removed" : "kept", rc == 1 ? ": " : "", rc == 1 ?
	    res->why : "", res->warning[0] != '\0' ? "; WARNING: " : "",
	    res->warning);
}
