/*
 * pages.c - page indexes: the hash of every page of a backed-up database.
 *
 * SQLite's unit of change is the page, so an incremental backup is the
 * pages whose hash differs from its parent's index.  Every archive made
 * with FULL_EVERY has its index kept beside it in the backup directory
 * (.vb-index-<stem>: a few text lines, the hashes, and the SHA-256 of
 * both), so the next night reads no archive to know what changed.  Its
 * header records the archive's own SHA-256 as it was made: the next
 * night proves each link of a chain against it before building on it.  The
 * file is a cache: a delta archive holds its index too, a full archive's
 * is its database hashed again, and a night that cannot read its
 * parent's index writes a full backup instead.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vblib.h"

#define INDEX_MAGIC	"vb-page-index: 1\n"
#define HEAD_MAX	4096

void
vb_pages_init(struct vb_pages *p, int64_t page_size)
{
	memset(p, 0, sizeof(*p));
	p->page_size = page_size;
}

int
vb_pages_alloc(struct vb_pages *p, int64_t count)
{
	unsigned char *h;

	if (count <= p->cap)
		return 0;
	if (count > INT64_MAX / VB_PAGE_HASH ||
	    (h = realloc(p->h, (size_t)(count * VB_PAGE_HASH))) == NULL)
		return -1;
	p->h = h;
	p->cap = count;
	return 0;
}

/* Adds the hash of one whole page (room made as it grows, doubling). */
static int
add(struct vb_pages *p, const unsigned char *page)
{
	if (p->count == p->cap && vb_pages_alloc(p, p->cap > 0 ? p->cap * 2 :
	    1024) != 0)
		return -1;
	vb_page_hash(page, (size_t)p->page_size, p->h + p->count *
	    VB_PAGE_HASH);
	p->count++;
	return 0;
}

int
vb_pages_feed(struct vb_pages *p, const void *buf, size_t len)
{
	const unsigned char *b = buf;
	size_t ps = (size_t)p->page_size, take;

	if (p->part == NULL && (p->part = malloc(ps)) == NULL)
		return -1;
	while (len > 0) {
		if (p->plen == 0 && len >= ps) {
			if (add(p, b) != 0)
				return -1;
			b += ps;
			len -= ps;
			continue;
		}
		take = ps - p->plen < len ? ps - p->plen : len;
		memcpy(p->part + p->plen, b, take);
		p->plen += take;
		b += take;
		len -= take;
		if (p->plen == ps) {
			p->plen = 0;
			if (add(p, p->part) != 0)
				return -1;
		}
	}
	return 0;
}

void
vb_pages_sha(const struct vb_pages *p, char hex[VB_SHA256_HEX])
{
	struct vb_sha256 *h = vb_sha256_new();

	if (h == NULL) {
		hex[0] = '\0';
		return;
	}
	vb_sha256_update(h, p->h, (size_t)(p->count * VB_PAGE_HASH));
	vb_sha256_final(h, hex);
}

void
vb_pages_free(struct vb_pages *p)
{
	free(p->h);
	free(p->part);
	p->h = p->part = NULL;
	p->count = p->cap = 0;
	p->plen = 0;
}

static int
index_name(char *buf, size_t len, const char *stem)
{
	int n = snprintf(buf, len, "%s%s", VB_INDEX_PREFIX, stem);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
vb_index_write(const char *dir, const struct vb_index *x, char *why,
    size_t wlen)
{
	char name[128], head[HEAD_MAX], hex[VB_SHA256_HEX];
	struct vb_sha256 *h;
	struct vb_tmp t;
	size_t hbytes = (size_t)(x->p.count * VB_PAGE_HASH);
	int n;

	n = snprintf(head, sizeof(head), INDEX_MAGIC "stem: %s\nparent: %s\n"
	    "db-sha256: %s\npage-size: %lld\npage-count: %lld\narchive: %s\n"
	    "archive-bytes: %lld\narchive-sha256: %s\n\n", x->stem,
	    x->parent[0] != '\0' ? x->parent : "-", x->db_sha256,
	    (long long)x->p.page_size, (long long)x->p.count, x->archive,
	    (long long)x->archive_bytes, x->archive_sha256[0] != '\0' ?
	    x->archive_sha256 : "-");
	if (n < 0 || (size_t)n >= sizeof(head) || index_name(name,
	    sizeof(name), x->stem) != 0 || (h = vb_sha256_new()) == NULL) {
		snprintf(why, wlen, "%s: cannot write its page index",
		    x->stem);
		return -1;
	}
	vb_sha256_update(h, head, (size_t)n);
	vb_sha256_update(h, x->p.h, hbytes);
	vb_sha256_final(h, hex);
	if (vb_tmp_open(&t, dir, name, why, wlen) != 0)
		return -1;
	t.replace = 1;
	if (vb_write_all(t.fd, head, (size_t)n) != 0 ||
	    vb_write_all(t.fd, x->p.h, hbytes) != 0 ||
	    vb_write_all(t.fd, hex, VB_SHA256_HEX - 1) != 0) {
		snprintf(why, wlen, "%s/%s: %s", dir, t.name, strerror(errno));
		vb_tmp_abort(&t);
		return -1;
	}
	return vb_tmp_commit(&t, why, wlen);
}

/* The value of "key: " in the header text, copied into out. */
static int
head_value(const char *head, const char *key, char *out, size_t len)
{
	char pat[64];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\n%s: ", key);
	if ((p = strstr(head, pat)) == NULL)
		return -1;
	p += strlen(pat);
	if ((e = strchr(p, '\n')) == NULL || (size_t)(e - p) >= len)
		return -1;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	return 0;
}

static int
head_num(const char *head, const char *key, int64_t *v)
{
	char buf[32];
	uint64_t u;

	if (head_value(head, key, buf, sizeof(buf)) != 0 ||
	    vb_parse_u64(buf, &u) != 0 || u > INT64_MAX / 2)
		return -1;
	*v = (int64_t)u;
	return 0;
}

/* Parses the header of an index (NUL-terminated); its length, or -1. */
static ssize_t
parse_head(char *head, const char *stem, struct vb_index *x)
{
	char *end;

	if (strncmp(head, INDEX_MAGIC, strlen(INDEX_MAGIC)) != 0 ||
	    (end = strstr(head, "\n\n")) == NULL)
		return -1;
	end[1] = '\0';
	if (head_value(head, "stem", x->stem, sizeof(x->stem)) != 0 ||
	    strcmp(x->stem, stem) != 0 ||
	    head_value(head, "parent", x->parent, sizeof(x->parent)) != 0 ||
	    head_value(head, "db-sha256", x->db_sha256,
	    sizeof(x->db_sha256)) != 0 ||
	    head_value(head, "archive", x->archive, sizeof(x->archive)) != 0 ||
	    head_num(head, "page-size", &x->p.page_size) != 0 ||
	    head_num(head, "page-count", &x->p.count) != 0 ||
	    head_num(head, "archive-bytes", &x->archive_bytes) != 0 ||
	    x->p.page_size < 512 || x->p.page_size > 65536 ||
	    x->p.count > INT64_MAX / 64 / VB_PAGE_HASH)
		return -1;
	if (strcmp(x->parent, "-") == 0)
		x->parent[0] = '\0';
	/* An index made before vb recorded it: the archive unverifiable. */
	if (head_value(head, "archive-sha256", x->archive_sha256,
	    sizeof(x->archive_sha256)) != 0 || strspn(x->archive_sha256,
	    "0123456789abcdef") != VB_SHA256_HEX - 1)
		x->archive_sha256[0] = '\0';
	return end + 2 - head;
}

int
vb_index_read(const char *dir, const char *stem, int header_only,
    struct vb_index *x, char *why, size_t wlen)
{
	char name[128], head[HEAD_MAX + 1], hex[VB_SHA256_HEX];
	char want[VB_SHA256_HEX];
	struct vb_sha256 *h;
	ssize_t n, hlen;
	size_t hbytes;
	int dfd, fd;

	memset(x, 0, sizeof(*x));
	if (index_name(name, sizeof(name), stem) != 0 ||
	    (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(why, wlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	close(dfd);
	if (fd == -1) {
		snprintf(why, wlen, "%s/%s: %s", dir, name, strerror(errno));
		return -1;
	}
	n = pread(fd, head, HEAD_MAX, 0);
	head[n > 0 ? n : 0] = '\0';
	if (n <= 0 || (hlen = parse_head(head, stem, x)) < 0) {
		snprintf(why, wlen, "%s/%s: not a page index of %s", dir, name,
		    stem);
		goto fail;
	}
	if (header_only) {
		close(fd);
		return 0;
	}
	hbytes = (size_t)(x->p.count * VB_PAGE_HASH);
	if (vb_pages_alloc(&x->p, x->p.count) != 0 ||
	    (h = vb_sha256_new()) == NULL) {
		snprintf(why, wlen, "out of memory");
		goto fail;
	}
	/* The header as written: parse_head cut it at its blank line. */
	head[hlen - 1] = '\n';
	vb_sha256_update(h, head, (size_t)hlen);
	n = pread(fd, x->p.h, hbytes, hlen);
	if (n == (ssize_t)hbytes)
		vb_sha256_update(h, x->p.h, hbytes);
	vb_sha256_final(h, hex);
	if (n != (ssize_t)hbytes || pread(fd, want, sizeof(want),
	    hlen + (off_t)hbytes) != VB_SHA256_HEX - 1 ||
	    memcmp(want, hex, VB_SHA256_HEX - 1) != 0) {
		snprintf(why, wlen, "%s/%s: damaged (its SHA-256 does not "
		    "match)", dir, name);
		goto fail;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	vb_pages_free(&x->p);
	return -1;
}

int
vb_index_gc(const char *dir)
{
	struct vb_backup *list;
	struct dirent *de;
	const char *stem;
	size_t n, i;
	char why[512];
	int removed = 0, dfd;
	DIR *d;

	if (vb_scan(dir, &list, &n, why, sizeof(why)) != 0)
		return 0;
	if ((d = opendir(dir)) == NULL) {
		free(list);
		return 0;
	}
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, VB_INDEX_PREFIX,
		    strlen(VB_INDEX_PREFIX)) != 0)
			continue;
		stem = de->d_name + strlen(VB_INDEX_PREFIX);
		for (i = 0; i < n; i++)
			if (strcmp(list[i].stem, stem) == 0)
				break;
		if (i == n && unlinkat(dfd, de->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	free(list);
	return removed;
}

void
vb_index_parents(const char *dir, struct vb_backup *list, size_t n)
{
	struct vb_index x;
	char why[512];
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i].delta && vb_index_read(dir, list[i].stem, 1, &x,
		    why, sizeof(why)) == 0)
			memcpy(list[i].parent, x.parent,
			    sizeof(list[i].parent));
}
