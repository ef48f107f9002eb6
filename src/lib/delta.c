/*
 * delta.c - whether tonight's backup is a full one or a delta, and of which
 * pages.
 *
 * A delta is made on the newest backup in the directory that is not a point
 * (its parent), never on an older one and never for a snapshot older than a
 * backup already there, so that a delta's parent is always the nightly
 * before it.  Anything that makes the chain doubtful makes a full backup
 * instead, and says why: no parent, the last full older than FULL_EVERY, a
 * parent whose page index cannot be read, a link of its chain whose archive
 * is missing or no longer hashes to the SHA-256 recorded when it was made
 * (p->faults: the caller reports them as failures, and each damaged one is
 * recorded beside it, vb_damage_mark), another page size, or more than half
 * the pages changed.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vblib.h"

#define BUFSZ		(1024 * 1024)
/* A chain longer than this is a loop or a mistake: a full is written. */
#define MAX_CHAIN	1000

void
vb_delta_plan_free(struct vb_delta_plan *p)
{
	vb_pages_free(&p->parent.p);
	vb_pages_free(&p->own);
	free(p->changed);
	p->changed = NULL;
}

/* Adds f to the plan's faults and records the damage beside it. */
static void
add_fault(const char *dir, struct vb_delta_plan *p, const struct vb_fault *f)
{
	char why[512];

	if (p->nfaults == VB_MAXFAULTS)
		return;
	p->faults[p->nfaults++] = *f;
	if (!f->missing)
		vb_damage_mark(dir, f, why, sizeof(why));
}

/*
 * Follows the parent's chain down to its full backup through the page
 * indexes' headers, every link's archive checked against the SHA-256
 * recorded when it was made (a damaged or missing one added to
 * p->faults).  Returns 0 with the full's time, or -1 with why a full is
 * written (the faults, or a chain that cannot be followed).
 */
static int
chain_ok(const char *dir, struct vb_delta_plan *p, time_t *full, char *why,
    size_t wlen)
{
	struct vb_index x;
	struct vb_fault f;
	struct vb_name nm;
	char name[128], path[4400], stem[64];
	int n, rc;

	x = p->parent;
	x.p.h = x.p.part = NULL;
	for (n = 0;; n++) {
		memcpy(stem, x.stem, sizeof(stem));
		if ((rc = vb_link_check(dir, &x, n, &f, why, wlen)) < 0)
			return -1;
		if (rc == 1)
			add_fault(dir, p, &f);
		if (x.parent[0] == '\0')
			break;
		memcpy(stem, x.parent, sizeof(stem));
		if (n == MAX_CHAIN) {
			snprintf(why, wlen, "a chain of over %d links",
			    MAX_CHAIN);
			return -1;
		}
		if (vb_index_read(dir, stem, 1, &x, why, wlen) == 0)
			continue;
		/* Index and archive both gone: a missing link, not a cache. */
		if (vb_find_archive(dir, stem, name, sizeof(name), path,
		    sizeof(path)) == 0)
			return -1;
		memset(&f, 0, sizeof(f));
		snprintf(f.stem, sizeof(f.stem), "%s", stem);
		snprintf(f.name, sizeof(f.name), "%s", stem);
		f.missing = 1;
		f.built_on = n + 1;
		add_fault(dir, p, &f);
		break;
	}
	if (p->nfaults > 0) {
		snprintf(why, wlen, "%s is %s%s", p->faults[0].name,
		    p->faults[0].missing ? "missing" : "damaged",
		    p->nfaults > 1 ? ", and more links" : "");
		return -1;
	}
	snprintf(name, sizeof(name), "%s.db", stem);
	if (vb_name_parse(name, &nm) != 0) {
		snprintf(why, wlen, "%s: not a backup's name", stem);
		return -1;
	}
	*full = nm.when.tv_sec;
	return 0;
}

/*
 * The parent: the newest backup that is not a point, with an archive,
 * older than the snapshot, and no backup newer than the snapshot.
 * Returns 0 with its index read whole into p->parent, or -1 with why a
 * full is written.
 */
static int
find_parent(const char *dir, const struct vb_name *nm,
    const struct vb_duration *every, struct vb_delta_plan *p)
{
	struct vb_backup *list;
	size_t n, i;
	time_t full;
	char why[512];
	int rc = -1;

	if (vb_scan(dir, &list, &n, why, sizeof(why)) != 0) {
		snprintf(p->why, sizeof(p->why), "%s", why);
		return -1;
	}
	/* Nightlies chain on nightlies: points are leaves between them. */
	vb_index_parents(dir, list, n);
	for (i = 0; i < n; i++)
		if (list[i].kind == VB_KIND_BACKUP &&
		    strcmp(list[i].stem, nm->stem) != 0 &&
		    vb_timespec_cmp(&list[i].when, &nm->when) > 0) {
			snprintf(p->why, sizeof(p->why), "%s is newer than "
			    "this snapshot", list[i].stem);
			goto out;
		}
	for (i = 0; i < n; i++)
		if (list[i].kind == VB_KIND_BACKUP && !list[i].point &&
		    strcmp(list[i].stem, nm->stem) != 0)
			break;
	if (i == n) {
		snprintf(p->why, sizeof(p->why), "no earlier backup");
		goto out;
	}
	if (vb_index_read(dir, list[i].stem, 0, &p->parent, why,
	    sizeof(why)) != 0) {
		snprintf(p->why, sizeof(p->why), "the last backup's page index "
		    "cannot be used (%s)", why);
		goto out;
	}
	if (chain_ok(dir, p, &full, why, sizeof(why)) != 0) {
		snprintf(p->why, sizeof(p->why), "the chain of %s cannot be "
		    "built on: %s", list[i].stem, why);
		goto out;
	}
	if (vb_duration_add(full, every, 1) <= nm->when.tv_sec) {
		snprintf(p->why, sizeof(p->why), "the last full backup is "
		    "older than FULL_EVERY");
		goto out;
	}
	rc = 0;
out:
	free(list);
	return rc;
}

/*
 * Hashes every page of the snapshot (p->own) while a second thread
 * hashes the whole file (p->sha256).  Returns 0, or -1 with why.
 */
static int
hash_snapshot(int dbfd, int64_t page_size, struct vb_delta_plan *p,
    char *why, size_t wlen)
{
	struct vb_sha256_job job;
	struct stat st;
	unsigned char *buf;
	off_t off = 0;
	ssize_t n = 0;
	int rc = -1;

	vb_pages_init(&p->own, page_size);
	/* As many as the file holds now: no room grown by doubling. */
	if ((buf = malloc(BUFSZ)) == NULL || (fstat(dbfd, &st) == 0 &&
	    st.st_size > 0 && vb_pages_alloc(&p->own, st.st_size /
	    page_size) != 0)) {
		snprintf(why, wlen, "out of memory");
		free(buf);
		return -1;
	}
	vb_sha256_start(&job, dbfd);
	while ((n = pread(dbfd, buf, BUFSZ, off)) > 0) {
		if (vb_pages_feed(&p->own, buf, (size_t)n) != 0) {
			n = -1;
			errno = ENOMEM;
			break;
		}
		off += n;
	}
	if (n < 0)
		snprintf(why, wlen, "reading the snapshot: %s",
		    strerror(errno));
	else if (vb_sha256_join(&job) != off)
		snprintf(why, wlen, "hashing the snapshot: %s",
		    job.err != 0 ? strerror(job.err) : "it changed size");
	else if (p->own.plen != 0)
		snprintf(why, wlen, "the snapshot is not a whole number of "
		    "pages");
	else {
		memcpy(p->sha256, job.hex, sizeof(p->sha256));
		rc = 0;
	}
	if (n < 0)
		vb_sha256_join(&job);
	free(buf);
	return rc;
}

/* The pages that differ from the parent's, or are past its end. */
static int
diff(struct vb_delta_plan *p)
{
	const struct vb_pages *a = &p->parent.p, *b = &p->own;
	int64_t i;

	if ((p->changed = malloc((size_t)(b->count > 0 ? b->count : 1) *
	    sizeof(*p->changed))) == NULL)
		return -1;
	p->nchanged = 0;
	for (i = 0; i < b->count; i++)
		if (i >= a->count || memcmp(a->h + i * VB_PAGE_HASH,
		    b->h + i * VB_PAGE_HASH, VB_PAGE_HASH) != 0)
			p->changed[p->nchanged++] = i;
	return 0;
}

int
vb_delta_plan(const char *dir, const struct vb_name *nm, int dbfd,
    const struct vb_dbinfo *info, const struct vb_duration *every,
    const char *want_sha, struct vb_delta_plan *p, char *why, size_t wlen)
{
	memset(p, 0, sizeof(*p));
	if (find_parent(dir, nm, every, p) != 0)
		return 0;
	if (p->parent.p.page_size != info->page_size) {
		snprintf(p->why, sizeof(p->why), "the page size changed from "
		    "%lld to %lld", (long long)p->parent.p.page_size,
		    (long long)info->page_size);
		return 0;
	}
	if (hash_snapshot(dbfd, info->page_size, p, why, wlen) != 0)
		return -1;
	if (want_sha != NULL && strcmp(want_sha, p->sha256) != 0) {
		snprintf(why, wlen, "SHA-256 is not the one vb-snapshot "
		    "recorded: changed or damaged since");
		return -1;
	}
	if (info->page_count >= 0 && info->page_count != p->own.count) {
		snprintf(p->why, sizeof(p->why), "the header's page count is "
		    "not the file's");
		return 0;
	}
	if (diff(p) != 0) {
		snprintf(why, wlen, "out of memory");
		return -1;
	}
	if (p->nchanged * 2 > p->own.count) {
		snprintf(p->why, sizeof(p->why), "%lld of %lld pages changed "
		    "since %s", (long long)p->nchanged,
		    (long long)p->own.count, p->parent.stem);
		return 0;
	}
	p->delta = 1;
	return 0;
}
