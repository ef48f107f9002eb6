/*
 * chain.c - the chain a delta needs, found and read back.
 *
 * A delta is restored from its chain: the full backup it rests on, then
 * every delta after it in order, each written into the same copy.  No
 * link is trusted before it is checked: each archive's own checks (its
 * manifest, its index against the manifest, each page against its
 * index), each link's parent-db-sha256 against the database its parent
 * holds, and at the end the rebuilt file's SHA-256 against the target's
 * db-sha256.  Links are found beside the target by name (any compression,
 * encrypted or not), or fetched from the offsite remote: where the local
 * one is missing, and where it fails its checks (the remote's good copy
 * is then used, and the local one left as it is for the operator).
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vblib.h"

/* Past this many links a chain is a loop or a mistake. */
#define MAX_LINKS	1000

/* Fetches an archive of stem from the remote into dir (a temporary). */
static int
find_remote(struct vb_chain *ch, const char *dir, const char *stem,
    struct vb_link *l, char *why, size_t wlen)
{
	char hex[VB_SHA256_HEX];
	struct vb_name nm;
	size_t i;

	if (ch->listing == NULL && vb_remote_ls(ch->remote, &ch->listing,
	    &ch->nlisting, why, wlen) != 0)
		return -1;
	for (i = 0; i < ch->nlisting; i++)
		if (vb_name_parse(ch->listing[i].name, &nm) == 0 &&
		    nm.ext != VB_EXT_DB && nm.kind == VB_KIND_BACKUP &&
		    strcmp(nm.stem, stem) == 0)
			break;
	if (i == ch->nlisting) {
		snprintf(why, wlen, "not on %s either", ch->remote);
		return -1;
	}
	snprintf(l->name, sizeof(l->name), "%s", ch->listing[i].name);
	l->nm = nm;
	if (vb_remote_fetch(ch->remote, l->name, dir, ch->listing[i].bytes,
	    &l->t, l->path, sizeof(l->path), hex, why, wlen) != 0)
		return -1;
	l->fetched = 1;
	return 0;
}

/* Adds the next (older) link to the chain; returns it, or NULL. */
static struct vb_link *
grow(struct vb_chain *ch)
{
	struct vb_link *l;

	if (ch->n == MAX_LINKS || (l = realloc(ch->links, (size_t)(ch->n +
	    1) * sizeof(*l))) == NULL)
		return NULL;
	ch->links = l;
	l = &ch->links[ch->n++];
	memset(l, 0, sizeof(*l));
	l->t.dirfd = -1;
	return l;
}

/*
 * The local link l failed (lwhy): replaced by the remote's copy of its
 * backup, its manifest read, noted in ch->note.  Returns 0, or -1 with
 * why saying both failures.
 */
static int
from_remote(struct vb_chain *ch, const char *identity, struct vb_link *l,
    const char *lwhy, char *why, size_t wlen)
{
	struct vb_link r;
	char w[1024];

	if (ch->remote == NULL || l->fetched) {
		snprintf(why, wlen, "%s", lwhy);
		return -1;
	}
	memset(&r, 0, sizeof(r));
	r.t.dirfd = -1;
	if (find_remote(ch, ch->dir, l->nm.stem, &r, w, sizeof(w)) != 0 ||
	    vb_read_manifest(r.path, identity, &r.nm, &r.m, w,
	    sizeof(w)) != 0) {
		if (r.fetched)
			vb_tmp_abort(&r.t);
		snprintf(why, wlen, "%s; and no good copy on %s: %s", lwhy,
		    ch->remote, w);
		return -1;
	}
	vb_notef(ch->note, sizeof(ch->note), "%s here failed its checks "
	    "(%.300s): used the copy on %s", l->path, lwhy, ch->remote);
	*l = r;
	return 0;
}

/*
 * The parent of link k (a delta): found, its manifest read, and that
 * manifest's db-sha256 the one link k was made on.  Returns 0, or -1
 * with why naming both.
 */
static int
add_parent(struct vb_chain *ch, const char *dir, const char *identity,
    char *why, size_t wlen)
{
	struct vb_link *child, *l;
	char w[1024], parent[64], cname[128];

	child = &ch->links[ch->n - 1];
	memcpy(parent, child->m.parent, sizeof(parent));
	memcpy(cname, child->name, sizeof(cname));
	if ((l = grow(ch)) == NULL) {
		snprintf(why, wlen, "%s: a chain of over %d links", cname,
		    MAX_LINKS);
		return -1;
	}
	child = &ch->links[ch->n - 2];
	if ((vb_find_archive(dir, parent, l->name, sizeof(l->name), l->path,
	    sizeof(l->path)) != 0 || vb_name_parse(l->name, &l->nm) != 0) &&
	    (ch->remote == NULL || find_remote(ch, dir, parent, l, w,
	    sizeof(w)) != 0)) {
		snprintf(why, wlen, "%s is a delta of %s, which is missing: "
		    "not in %s%s%s; the chain is broken", cname, parent, dir,
		    ch->remote != NULL ? " (" : "", ch->remote != NULL ? w :
		    "");
		if (ch->remote != NULL)
			strncat(why, ")", wlen - strlen(why) - 1);
		return -1;
	}
	if (vb_read_manifest(l->path, identity, &l->nm, &l->m, w,
	    sizeof(w)) != 0) {
		snprintf(why, wlen, "%s, the parent of %s: %s", l->name, cname,
		    w);
		if (from_remote(ch, identity, l, why, w, sizeof(w)) != 0) {
			snprintf(why, wlen, "%s", w);
			return -1;
		}
	}
	if (strcmp(l->m.db_sha256, child->m.parent_db_sha256) != 0) {
		snprintf(why, wlen, "%s was made on a database of SHA-256 %s, "
		    "but its parent %s holds %s: the chain is broken", cname,
		    child->m.parent_db_sha256, l->name, l->m.db_sha256);
		return -1;
	}
	if (vb_timespec_cmp(&l->nm.when, &ch->when) >= 0) {
		snprintf(why, wlen, "%s: a parent not older than its child",
		    l->name);
		return -1;
	}
	ch->when = l->nm.when;
	return 0;
}

int
vb_chain_resolve(const char *archive, const struct vb_name *nm,
    const char *dir, const char *identity, const char *remote,
    struct vb_chain *ch, char *why, size_t wlen)
{
	struct vb_link *l;

	memset(ch, 0, sizeof(*ch));
	ch->remote = remote;
	ch->dir = dir;
	if ((l = grow(ch)) == NULL) {
		snprintf(why, wlen, "out of memory");
		return -1;
	}
	snprintf(l->path, sizeof(l->path), "%s", archive);
	vb_name_format(nm, l->name, sizeof(l->name));
	l->nm = *nm;
	ch->when = nm->when;
	if (vb_read_manifest(archive, identity, nm, &l->m, why, wlen) != 0)
		return -1;
	while (ch->links[ch->n - 1].m.delta)
		if (add_parent(ch, dir, identity, why, wlen) != 0)
			return -1;
	return 0;
}

void
vb_chain_free(struct vb_chain *ch, int keep)
{
	char why[512];
	int i;

	for (i = 0; i < ch->n; i++) {
		if (!ch->links[i].fetched)
			continue;
		if (!keep || vb_tmp_commit(&ch->links[i].t, why,
		    sizeof(why)) != 0)
			vb_tmp_abort(&ch->links[i].t);
	}
	free(ch->links);
	free(ch->listing);
	memset(ch, 0, sizeof(*ch));
}

/* Opens and reads link l into outfd: its own checks, nothing else. */
static int
apply(const struct vb_link *l, const char *identity, int outfd,
    struct vb_manifest *m, struct vb_archive_info *info, char *why,
    size_t wlen)
{
	int fd, rc;

	if ((fd = open(l->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		snprintf(why, wlen, "%s: %s", l->path, strerror(errno));
		return -1;
	}
	rc = vb_read_archive(fd, identity, &l->nm, outfd, m, info, why, wlen);
	close(fd);
	return rc;
}

int
vb_chain_extract(struct vb_chain *ch, const char *identity, int outfd,
    struct vb_manifest *m, struct vb_archive_info *info, char *why,
    size_t wlen)
{
	char w[1024], prev[VB_SHA256_HEX] = "", hex[VB_SHA256_HEX];
	struct vb_link *l;
	int i, k;

	/* The full first, then each delta: links[n-1] down to links[0]. */
	for (i = ch->n - 1, k = 1; i >= 0; i--, k++) {
		l = &ch->links[i];
		if (apply(l, identity, outfd, m, info, w, sizeof(w)) != 0) {
			snprintf(why, wlen, "%s (link %d of %d of the chain): "
			    "%s", l->name, k, ch->n, w);
			/* A good copy from the remote, and from the start:
			 * what the bad one wrote is not to be trusted. */
			if (from_remote(ch, identity, l, why, w,
			    sizeof(w)) != 0) {
				snprintf(why, wlen, "%s", w);
				return -1;
			}
			if (ftruncate(outfd, 0) != 0 || lseek(outfd, 0,
			    SEEK_SET) != 0) {
				snprintf(why, wlen, "starting over: %s",
				    strerror(errno));
				return -1;
			}
			prev[0] = '\0';
			i = ch->n;
			k = 0;
			continue;
		}
		if (m->delta != (i != ch->n - 1) || strcmp(m->db_sha256,
		    l->m.db_sha256) != 0 || (m->delta &&
		    strcmp(m->parent_db_sha256, prev) != 0)) {
			snprintf(why, wlen, "%s (link %d of %d of the chain) "
			    "changed while it was read", l->name, k, ch->n);
			return -1;
		}
		memcpy(prev, m->db_sha256, sizeof(prev));
	}
	/* The rebuilt database, whole: the target's own hash. */
	if (lseek(outfd, 0, SEEK_SET) != 0 || vb_sha256_fd(outfd, hex) !=
	    m->db_bytes) {
		snprintf(why, wlen, "the database rebuilt from %d archives is "
		    "not %lld bytes", ch->n, (long long)m->db_bytes);
		return -1;
	}
	if (strcmp(hex, m->db_sha256) != 0) {
		snprintf(why, wlen, "the database rebuilt from %d archives has "
		    "SHA-256 %s, not the %s %s records", ch->n, hex,
		    m->db_sha256, ch->links[0].name);
		return -1;
	}
	return 0;
}
