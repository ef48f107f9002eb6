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
 * parent's index writes a full backup instead.  A point's index is
 * sparse: the hashes of the pages it holds, and the SHA-256 of the whole
 * index they make on its parent's (vb_index_full proves it), so that a
 * day of points costs kilobytes of index, not a whole index each.
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

int
vb_pages_add(struct vb_pages *p, int64_t pgno,
    const unsigned char h[VB_PAGE_HASH])
{
	int64_t *g;

	if (p->count == p->cap) {
		if (vb_pages_alloc(p, p->cap > 0 ? p->cap * 2 : 256) != 0)
			return -1;
		if ((g = realloc(p->pgno, (size_t)p->cap * sizeof(*g))) ==
		    NULL)
			return -1;
		p->pgno = g;
	}
	memcpy(p->h + p->count * VB_PAGE_HASH, h, VB_PAGE_HASH);
	p->pgno[p->count++] = pgno;
	return 0;
}

int
vb_pages_apply(struct vb_pages *base, const struct vb_pages *ch,
    int64_t count, char *why, size_t wlen)
{
	int64_t i, had = base->count, past = 0;

	if (base->pgno != NULL || count < 0) {
		snprintf(why, wlen, "not a whole index");
		return -1;
	}
	if (vb_pages_alloc(base, count) != 0) {
		snprintf(why, wlen, "out of memory");
		return -1;
	}
	for (i = 0; i < ch->count; i++) {
		if (ch->pgno[i] < 0 || ch->pgno[i] >= count || (i > 0 &&
		    ch->pgno[i] <= ch->pgno[i - 1])) {
			snprintf(why, wlen, "page %lld out of order or past "
			    "the database's %lld pages",
			    (long long)ch->pgno[i] + 1, (long long)count);
			return -1;
		}
		past += ch->pgno[i] >= had;
		memcpy(base->h + ch->pgno[i] * VB_PAGE_HASH, ch->h + i *
		    VB_PAGE_HASH, VB_PAGE_HASH);
	}
	/* A page the database grew by is in ch, every one of them. */
	if (count > had && past != count - had) {
		snprintf(why, wlen, "%lld pages past the parent's %lld are not "
		    "all there", (long long)(count - had), (long long)had);
		return -1;
	}
	base->count = count;
	return 0;
}

int
vb_pages_cover(const struct vb_pages *base, const struct vb_pages *ch,
    const struct vb_pages *whole, char *why, size_t wlen)
{
	const unsigned char *h;
	int64_t i, k = 0;

	for (i = 0; i < whole->count; i++) {
		if (k < ch->count && ch->pgno[k] == i)
			h = ch->h + k++ * VB_PAGE_HASH;
		else if (i < base->count)
			h = base->h + i * VB_PAGE_HASH;
		else {
			snprintf(why, wlen, "page %lld is neither in it nor in "
			    "its parent", (long long)i + 1);
			return -1;
		}
		if (memcmp(h, whole->h + i * VB_PAGE_HASH, VB_PAGE_HASH) !=
		    0) {
			snprintf(why, wlen, "page %lld is not the page read",
			    (long long)i + 1);
			return -1;
		}
	}
	if (k != ch->count) {
		snprintf(why, wlen, "it holds pages out of order or past the "
		    "database's %lld", (long long)whole->count);
		return -1;
	}
	return 0;
}

void
vb_pages_free(struct vb_pages *p)
{
	free(p->h);
	free(p->part);
	free(p->pgno);
	p->h = p->part = NULL;
	p->pgno = NULL;
	p->count = p->cap = 0;
	p->plen = 0;
}

static int
index_name(char *buf, size_t len, const char *stem)
{
	int n = snprintf(buf, len, "%s%s", VB_INDEX_PREFIX, stem);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* A sparse index's page numbers, 4 bytes each, big-endian, from 1. */
static unsigned char *
pgno_bytes(const struct vb_pages *p)
{
	unsigned char *b;
	int64_t i;
	uint32_t v;

	if ((b = malloc((size_t)(p->count > 0 ? p->count : 1) * 4)) == NULL)
		return NULL;
	for (i = 0; i < p->count; i++) {
		v = (uint32_t)(p->pgno[i] + 1);
		b[i * 4] = (unsigned char)(v >> 24);
		b[i * 4 + 1] = (unsigned char)(v >> 16);
		b[i * 4 + 2] = (unsigned char)(v >> 8);
		b[i * 4 + 3] = (unsigned char)v;
	}
	return b;
}

/* The header's text into head; its length, or -1. */
static int
format_head(const struct vb_index *x, char *head, size_t len)
{
	char changed[48] = "";

	if (x->point)
		snprintf(changed, sizeof(changed), "changed: %lld\n",
		    (long long)x->p.count);
	return snprintf(head, len, INDEX_MAGIC "stem: %s\nparent: %s\n"
	    "kind: %s\ndb-sha256: %s\npage-size: %lld\npage-count: %lld\n"
	    "%sindex-sha256: %s\narchive: %s\narchive-bytes: %lld\n"
	    "archive-sha256: %s\n\n", x->stem, x->parent[0] != '\0' ?
	    x->parent : "-", x->point ? "point" : x->parent[0] != '\0' ?
	    "delta" : "full", x->db_sha256, (long long)x->p.page_size,
	    (long long)(x->point ? x->page_count : x->p.count), changed,
	    x->index_sha256[0] != '\0' ? x->index_sha256 : "-", x->archive,
	    (long long)x->archive_bytes, x->archive_sha256[0] != '\0' ?
	    x->archive_sha256 : "-");
}

int
vb_index_write(const char *dir, const struct vb_index *x, char *why,
    size_t wlen)
{
	char name[128], head[HEAD_MAX], hex[VB_SHA256_HEX];
	struct vb_sha256 *h = NULL;
	unsigned char *nums = NULL;
	struct vb_tmp t;
	size_t hbytes = (size_t)(x->p.count * VB_PAGE_HASH);
	size_t nbytes = x->point ? (size_t)x->p.count * 4 : 0;
	int n;

	n = format_head(x, head, sizeof(head));
	if (n < 0 || (size_t)n >= sizeof(head) || index_name(name,
	    sizeof(name), x->stem) != 0 || (x->point && (nums =
	    pgno_bytes(&x->p)) == NULL) || (h = vb_sha256_new()) == NULL) {
		snprintf(why, wlen, "%s: cannot write its page index",
		    x->stem);
		free(nums);
		return -1;
	}
	vb_sha256_update(h, head, (size_t)n);
	vb_sha256_update(h, x->p.h, hbytes);
	if (nums != NULL)
		vb_sha256_update(h, nums, nbytes);
	vb_sha256_final(h, hex);
	if (vb_tmp_open(&t, dir, name, why, wlen) != 0) {
		free(nums);
		return -1;
	}
	t.replace = 1;
	if (vb_write_all(t.fd, head, (size_t)n) != 0 ||
	    vb_write_all(t.fd, x->p.h, hbytes) != 0 ||
	    (nums != NULL && vb_write_all(t.fd, nums, nbytes) != 0) ||
	    vb_write_all(t.fd, hex, VB_SHA256_HEX - 1) != 0) {
		snprintf(why, wlen, "%s/%s: %s", dir, t.name, strerror(errno));
		free(nums);
		vb_tmp_abort(&t);
		return -1;
	}
	free(nums);
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

/* Whether v is a SHA-256 in hex; else it is made "" (not known). */
static void
sha_or_none(char v[VB_SHA256_HEX])
{
	if (strlen(v) != VB_SHA256_HEX - 1 || strspn(v, "0123456789abcdef") !=
	    VB_SHA256_HEX - 1)
		v[0] = '\0';
}

/* The kind line, and a point's count of pages held, into x. */
static int
parse_kind(const char *head, struct vb_index *x)
{
	char kind[16];

	/* An index made before vb wrote kinds: a full's or a delta's. */
	if (head_value(head, "kind", kind, sizeof(kind)) != 0)
		return 0;
	if (strcmp(kind, "point") == 0) {
		x->point = 1;
		x->page_count = x->p.count;
		if (x->parent[0] == '\0' || head_num(head, "changed",
		    &x->p.count) != 0 || x->p.count > x->page_count)
			return -1;
		return 0;
	}
	return strcmp(kind, "full") == 0 || strcmp(kind, "delta") == 0 ? 0 :
	    -1;
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
	x->page_count = x->p.count;
	if (parse_kind(head, x) != 0)
		return -1;
	/* An index made before vb recorded it: the archive unverifiable. */
	if (head_value(head, "archive-sha256", x->archive_sha256,
	    sizeof(x->archive_sha256)) != 0)
		x->archive_sha256[0] = '\0';
	sha_or_none(x->archive_sha256);
	if (head_value(head, "index-sha256", x->index_sha256,
	    sizeof(x->index_sha256)) != 0)
		x->index_sha256[0] = '\0';
	sha_or_none(x->index_sha256);
	return end + 2 - head;
}

/*
 * A point's page numbers after its hashes (n bytes at off in fd, hashed
 * into h) into x->p.pgno.  Returns 0, or -1.
 */
static int
read_pgnos(int fd, off_t off, struct vb_index *x, struct vb_sha256 *h)
{
	size_t n = (size_t)x->p.count * 4;
	unsigned char *b;
	int64_t i;

	if ((b = malloc(n > 0 ? n : 1)) == NULL || (x->p.pgno = malloc(
	    (size_t)(x->p.count > 0 ? x->p.count : 1) * sizeof(int64_t))) ==
	    NULL || pread(fd, b, n, off) != (ssize_t)n) {
		free(b);
		return -1;
	}
	vb_sha256_update(h, b, n);
	for (i = 0; i < x->p.count; i++)
		x->p.pgno[i] = ((int64_t)b[i * 4] << 24 | (int64_t)b[i * 4 +
		    1] << 16 | (int64_t)b[i * 4 + 2] << 8 | b[i * 4 + 3]) - 1;
	free(b);
	return 0;
}

/* The index's body after its header (hlen bytes, hashed into h). */
static int
read_body(int fd, ssize_t hlen, struct vb_index *x, struct vb_sha256 *h,
    char hex[VB_SHA256_HEX])
{
	size_t hbytes = (size_t)(x->p.count * VB_PAGE_HASH);
	size_t nbytes = x->point ? (size_t)x->p.count * 4 : 0;
	char want[VB_SHA256_HEX];
	ssize_t n;

	n = pread(fd, x->p.h, hbytes, hlen);
	if (n == (ssize_t)hbytes)
		vb_sha256_update(h, x->p.h, hbytes);
	if (n != (ssize_t)hbytes || (x->point && read_pgnos(fd, hlen +
	    (off_t)hbytes, x, h) != 0)) {
		vb_sha256_final(h, hex);
		return -1;
	}
	vb_sha256_final(h, hex);
	return pread(fd, want, sizeof(want), hlen + (off_t)(hbytes +
	    nbytes)) == VB_SHA256_HEX - 1 && memcmp(want, hex,
	    VB_SHA256_HEX - 1) == 0 ? 0 : -1;
}

int
vb_index_read(const char *dir, const char *stem, int header_only,
    struct vb_index *x, char *why, size_t wlen)
{
	char name[128], head[HEAD_MAX + 1], hex[VB_SHA256_HEX];
	struct vb_sha256 *h;
	ssize_t n, hlen;
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
	if (vb_pages_alloc(&x->p, x->p.count) != 0 ||
	    (h = vb_sha256_new()) == NULL) {
		snprintf(why, wlen, "out of memory");
		goto fail;
	}
	/* The header as written: parse_head cut it at its blank line. */
	head[hlen - 1] = '\n';
	vb_sha256_update(h, head, (size_t)hlen);
	if (read_body(fd, hlen, x, h, hex) != 0) {
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

/* A point leans on its nightly, or on the hour's point: at most 2. */
#define MAX_POINTS	4

/*
 * A point's whole index: x's pages on the whole index below it (*below,
 * then freed), proven by the index-sha256 x recorded.  0, or -1 (why).
 */
static int
put_on(struct vb_index *x, struct vb_pages *below, char *why, size_t wlen)
{
	char hex[VB_SHA256_HEX], w[600];

	if (below->page_size != x->p.page_size || vb_pages_apply(below,
	    &x->p, x->page_count, w, sizeof(w)) != 0) {
		snprintf(why, wlen, "%s: its pages do not fit %s's: %s",
		    x->stem, x->parent, below->page_size != x->p.page_size ?
		    "another page size" : w);
		return -1;
	}
	vb_pages_sha(below, hex);
	if (strcmp(hex, x->index_sha256) != 0) {
		snprintf(why, wlen, "%s: its pages on %s's index do not make "
		    "the index it recorded", x->stem, x->parent);
		return -1;
	}
	vb_pages_free(&x->p);
	x->p = *below;
	memset(below, 0, sizeof(*below));
	return 0;
}

int
vb_index_full(const char *dir, const char *stem, struct vb_index *x,
    char *why, size_t wlen)
{
	struct vb_index pts[MAX_POINTS], base;
	char w[1024];
	int n, rc = -1;

	if (vb_index_read(dir, stem, 0, x, why, wlen) != 0)
		return -1;
	if (!x->point)
		return 0;
	/* Down to the first index that is not a point's. */
	pts[0] = *x;
	memset(&base, 0, sizeof(base));
	for (n = 1; pts[n - 1].point; n++) {
		if (n == MAX_POINTS) {
			snprintf(why, wlen, "%s: a chain of points over %d "
			    "long", stem, MAX_POINTS);
			goto out;
		}
		if (vb_index_read(dir, pts[n - 1].parent, 0, &pts[n], w,
		    sizeof(w)) != 0) {
			snprintf(why, wlen, "%s is a point of %s: %s",
			    pts[n - 1].stem, pts[n - 1].parent, w);
			goto out;
		}
	}
	/* Then up again, each point's pages on the index below it. */
	base = pts[--n];
	while (n-- > 0) {
		if (put_on(&pts[n], &base.p, why, wlen) != 0) {
			vb_pages_free(&pts[n].p);
			goto out;
		}
		base = pts[n];
		pts[n].p.h = NULL;
		pts[n].p.pgno = NULL;
		pts[n].p.part = NULL;
	}
	*x = base;
	memset(&base, 0, sizeof(base));
	rc = 0;
out:
	vb_pages_free(&base.p);
	while (n-- > 0)
		vb_pages_free(&pts[n].p);
	if (rc != 0)
		memset(&x->p, 0, sizeof(x->p));
	return rc;
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

	for (i = 0; i < n; i++) {
		if (list[i].kind != VB_KIND_BACKUP || vb_index_read(dir,
		    list[i].stem, 1, &x, why, sizeof(why)) != 0)
			continue;
		list[i].indexed = 1;
		list[i].point = x.point && list[i].delta;
		if (list[i].delta)
			memcpy(list[i].parent, x.parent,
			    sizeof(list[i].parent));
	}
}
