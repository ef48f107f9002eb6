/*
 * catalog.c - the signed catalog of the backups (SIGN_WITH): every
 * archive's name, SHA-256, size and time, with a sequence number that
 * only grows, in "vb-catalog" beside them, its SSH signature in
 * "vb-catalog.sig"; both copied offsite after the remote's retention.
 *
 * A restore given the public key (VERIFY_WITH) refuses an archive the
 * catalog does not list with that SHA-256, and a catalog older than one
 * the host has seen or signed (".vb-catalog-seen"): a rollback.  The
 * sequence is the time of writing in milliseconds, or one more than the
 * last (the remote's too), so it keeps growing on a host rebuilt with no
 * catalog of its own.  It lists the union of the last catalog (the
 * remote's merged in) and the directory, less what retention drops: the
 * remote's history survives the loss of the local backups.  An archive
 * is listed with the SHA-256 the last catalog or BackupLog knows, and
 * only if it was signed; a file neither knows is not listed, but named.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vblib.h"

#define CATALOG_MAX	(4 * 1024 * 1024)	/* ~30,000 backups */
#define CATALOG_FORMAT	1

/* ---- the text ---- */

/*
 * The next space-separated field of *p (one space between fields) into
 * buf (len); 0, or -1 when there is none or it does not fit.
 */
static int
field(const char **p, char *buf, size_t len)
{
	size_t n = strcspn(*p, " ");

	if (n == 0 || n >= len)
		return -1;
	memcpy(buf, *p, n);
	buf[n] = '\0';
	*p += n;
	if (**p == ' ')
		(*p)++;
	return 0;
}

/* One "backup: name sha256 bytes time" line into e; 0, or -1. */
static int
parse_entry(const char *v, struct vb_catalog_entry *e)
{
	struct vb_name nm;
	char bytes[32];
	uint64_t u;

	memset(e, 0, sizeof(*e));
	if (field(&v, e->name, sizeof(e->name)) != 0 ||
	    field(&v, e->sha256, sizeof(e->sha256)) != 0 ||
	    field(&v, bytes, sizeof(bytes)) != 0 ||
	    field(&v, e->when, sizeof(e->when)) != 0 || *v != '\0' ||
	    strlen(e->sha256) != VB_SHA256_HEX - 1 ||
	    strspn(e->sha256, "0123456789abcdef") != VB_SHA256_HEX - 1 ||
	    vb_parse_u64(bytes, &u) != 0 || u > INT64_MAX ||
	    vb_name_parse(e->name, &nm) != 0 || nm.ext == VB_EXT_DB)
		return -1;
	e->bytes = (int64_t)u;
	return 0;
}

/* Header line lineno (1 to 4) into c; 0, or -1 if it is not that. */
static int
header(struct vb_catalog *c, int lineno, const char *line)
{
	uint64_t u;

	switch (lineno) {
	case 1:
		return strcmp(line, "vb-catalog: 1") == 0 ? 0 : -1;
	case 2:
		if (strncmp(line, "sequence: ", 10) != 0 ||
		    vb_parse_u64(line + 10, &u) != 0 || u == 0 ||
		    u > INT64_MAX)
			return -1;
		c->seq = (int64_t)u;
		return 0;
	case 3:
		if (strncmp(line, "written: ", 9) != 0 ||
		    strlen(line + 9) >= sizeof(c->written))
			return -1;
		snprintf(c->written, sizeof(c->written), "%s", line + 9);
		return 0;
	case 4:
		if (strncmp(line, "host: ", 6) != 0)
			return -1;
		snprintf(c->host, sizeof(c->host), "%s", line + 6);
		return 0;
	default:
		return -1;
	}
}

/* Adds e to c; 0, or -1 out of memory. */
static int
add(struct vb_catalog *c, const struct vb_catalog_entry *e)
{
	struct vb_catalog_entry *n;

	if (c->n == c->cap) {
		c->cap = c->cap != 0 ? c->cap * 2 : 32;
		if ((n = realloc(c->e, c->cap * sizeof(*n))) == NULL)
			return -1;
		c->e = n;
	}
	c->e[c->n++] = *e;
	return 0;
}

int
vb_catalog_parse(const char *text, size_t len, struct vb_catalog *c,
    char *why, size_t wlen)
{
	struct vb_catalog_entry e;
	const char *p = text, *end = text + len, *nl;
	char line[512];
	int lineno = 0;

	memset(c, 0, sizeof(*c));
	for (; p < end; p = nl + 1) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL ||
		    (size_t)(nl - p) >= sizeof(line)) {
			snprintf(why, wlen, "catalog line %d: too long or not "
			    "ended", lineno);
			goto bad;
		}
		memcpy(line, p, (size_t)(nl - p));
		line[nl - p] = '\0';
		if (lineno > 4 && strncmp(line, "backup: ", 8) == 0) {
			if (parse_entry(line + 8, &e) != 0) {
				snprintf(why, wlen, "catalog line %d: not a "
				    "backup entry", lineno);
				goto bad;
			}
			/* Sorted by name, each once: one reading only. */
			if (c->n > 0 && strcmp(c->e[c->n - 1].name, e.name) >=
			    0) {
				snprintf(why, wlen, "catalog line %d: %s is "
				    "%s; refused", lineno, e.name,
				    strcmp(c->e[c->n - 1].name, e.name) == 0 ?
				    "listed twice" : "out of order");
				goto bad;
			}
			if (add(c, &e) != 0) {
				snprintf(why, wlen, "out of memory");
				goto bad;
			}
		} else if (header(c, lineno, line) != 0) {
			snprintf(why, wlen, "catalog line %d: not a line of a "
			    "vb catalog (format %d)", lineno, CATALOG_FORMAT);
			goto bad;
		}
	}
	if (lineno < 4 || c->seq <= 0 || c->written[0] == '\0') {
		snprintf(why, wlen, "not a vb catalog (no header)");
		goto bad;
	}
	return 0;
bad:
	vb_catalog_free(c);
	return -1;
}

ssize_t
vb_catalog_format(const struct vb_catalog *c, char **text)
{
	/* Each line at most its fields' sizes and its words. */
	size_t line = sizeof(c->e[0].name) + VB_SHA256_HEX + 24 +
	    VB_ISO_LEN + 16, cap = 64 + 24 + VB_ISO_LEN + sizeof(c->host) +
	    c->n * line, n;
	size_t i;
	char *t;
	int d;

	*text = NULL;
	if ((t = malloc(cap)) == NULL)
		return -1;
	d = snprintf(t, cap, "vb-catalog: %d\nsequence: %" PRId64
	    "\nwritten: %s\nhost: %s\n", CATALOG_FORMAT, c->seq, c->written,
	    c->host);
	for (n = 0, i = 0; d >= 0 && (size_t)d < cap - n; i++) {
		n += (size_t)d;
		if (i == c->n) {
			*text = t;
			return (ssize_t)n;
		}
		d = snprintf(t + n, cap - n, "backup: %s %s %" PRId64 " %s\n",
		    c->e[i].name, c->e[i].sha256, c->e[i].bytes,
		    c->e[i].when);
	}
	free(t);
	return -1;
}

void
vb_catalog_free(struct vb_catalog *c)
{
	free(c->e);
	memset(c, 0, sizeof(*c));
}

const struct vb_catalog_entry *
vb_catalog_find(const struct vb_catalog *c, const char *name)
{
	size_t lo = 0, hi = c->n, mid;
	int r;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if ((r = strcmp(c->e[mid].name, name)) == 0)
			return &c->e[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- reading one, checked ---- */

/* The whole small file path (at most max bytes) into *buf; its length. */
static ssize_t
slurp(const char *path, size_t max, char **buf, char *why, size_t wlen)
{
	struct stat st;
	ssize_t n = -1, got = 0;
	int fd;

	*buf = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1 ||
	    fstat(fd, &st) != 0) {
		snprintf(why, wlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		snprintf(why, wlen, "%s: %s", path, !S_ISREG(st.st_mode) ?
		    "not a regular file" : "oversized; refused");
		goto out;
	}
	if ((*buf = malloc((size_t)st.st_size + 1)) != NULL)
		for (n = 0; n < (ssize_t)st.st_size; n += got)
			if ((got = vb_read_following(fd, *buf + n,
			    (size_t)(st.st_size - n), -1, NULL)) <= 0)
				break;
	if (*buf == NULL || n != (ssize_t)st.st_size) {
		n = got < 0 ? -1 : n;
		snprintf(why, wlen, "%s: %s", path, n < 0 ? strerror(errno) :
		    "changed while read");
		free(*buf);
		*buf = NULL;
		n = -1;
		goto out;
	}
	(*buf)[n] = '\0';
out:
	if (fd != -1)
		close(fd);
	return n;
}

int
vb_catalog_load(const char *path, const char *sigpath, const char *pub,
    struct vb_catalog *c, char *why, size_t wlen)
{
	char *text = NULL, *sig = NULL, w[900];
	ssize_t n, sn;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	if ((n = slurp(path, CATALOG_MAX, &text, why, wlen)) < 0)
		return -1;
	if (pub != NULL) {
		if ((sn = slurp(sigpath, VB_SIG_MAX, &sig, w, sizeof(w))) < 0) {
			snprintf(why, wlen, "the catalog's signature: %s", w);
			goto out;
		}
		if (vb_sig_verify(pub, text, (size_t)n, sig, (size_t)sn, w,
		    sizeof(w)) != 0) {
			snprintf(why, wlen, "%s: %s: forged or altered", path,
			    w);
			goto out;
		}
	}
	if (vb_catalog_parse(text, (size_t)n, c, w, sizeof(w)) != 0) {
		snprintf(why, wlen, "%s: %s", path, w);
		goto out;
	}
	rc = 0;
out:
	free(text);
	free(sig);
	return rc;
}

int64_t
vb_catalog_seen_floor(const char *dir)
{
	char path[4200], *text = NULL, w[600];
	uint64_t u;
	int64_t seen = 0;
	size_t n;

	if (dir == NULL || vb_path_join(path, sizeof(path), dir,
	    VB_CATALOG_SEEN) != 0)
		return 0;
	/* A number and its newline, nothing else: it is data. */
	if (slurp(path, 64, &text, w, sizeof(w)) >= 0 && (n = strlen(text)) >
	    1 && text[n - 1] == '\n') {
		text[n - 1] = '\0';
		if (vb_parse_u64(text, &u) == 0 && u <= INT64_MAX)
			seen = (int64_t)u;
	}
	free(text);
	return seen;
}

int
vb_catalog_seen(const char *dir, int64_t seq, char *why, size_t wlen)
{
	char buf[32], w[600];
	int64_t seen = vb_catalog_seen_floor(dir);

	if (seq < seen) {
		snprintf(why, wlen, "the catalog's sequence is %" PRId64 ", "
		    "older than %" PRId64 " which this host has seen (%s/%s): "
		    "a rollback (newer backups removed from the list); "
		    "refused", seq, seen, dir, VB_CATALOG_SEEN);
		return -1;
	}
	if (seq == seen)
		return 0;
	snprintf(buf, sizeof(buf), "%" PRId64 "\n", seq);
	/* Not being able to remember it weakens the next check only. */
	(void)vb_tmp_write(dir, VB_CATALOG_SEEN, buf, strlen(buf), w,
	    sizeof(w));
	return 0;
}

/* ---- writing it ---- */

/* ---- what it lists: the last one, and the directory, kept ---- */

/* What the writer knows of the backups. */
struct known {
	const struct vb_catalog	*old;	/* the last catalog (merged) */
	struct vb_log_known	 log;	/* what BackupLog recorded */
	int			 nunknown, nunsigned;
	char			 unknown[160];	/* the first one named */
};

/*
 * dir's archive name as an entry: its SHA-256 as the last catalog or
 * BackupLog knows it (never read from the file: a file neither knows
 * was not made by this job), listed only if it was signed.  0 listed,
 * 1 left out (counted in k), -1 error (why).
 */
static int
entry_for(const char *dir, const char *name, const struct vb_name *nm,
    struct known *k, struct vb_catalog_entry *e, char *why, size_t wlen)
{
	const struct vb_catalog_entry *o = vb_catalog_find(k->old, name);
	const struct vb_log_seal *seal = vb_log_known_find(&k->log, name);
	struct stat st;
	char path[4400];

	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	vb_iso_time(&nm->when, e->when);
	if (vb_path_join(path, sizeof(path), dir, name) != 0 ||
	    lstat(path, &st) != 0) {
		snprintf(why, wlen, "%s/%s: %s", dir, name, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode))
		return 1;
	e->bytes = st.st_size;
	if (seal != NULL && seal->sha256[0] != '\0' && (seal->is_signed ||
	    (o != NULL && strcmp(o->sha256, seal->sha256) == 0))) {
		memcpy(e->sha256, seal->sha256, VB_SHA256_HEX);
		return 0;
	}
	if (seal == NULL && o != NULL && o->bytes == st.st_size) {
		memcpy(e->sha256, o->sha256, VB_SHA256_HEX);
		return 0;
	}
	if (seal != NULL && seal->sha256[0] != '\0')
		k->nunsigned++;
	else if (k->nunknown++ == 0)
		snprintf(k->unknown, sizeof(k->unknown), "%s", name);
	return 1;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct vb_catalog_entry *)a)->name,
	    ((const struct vb_catalog_entry *)b)->name);
}

/* Every signed backup archive in dir into c.  0, or -1 (why). */
static int
list_dir(const char *dir, struct known *k, struct vb_catalog *c, char *why,
    size_t wlen)
{
	struct vb_catalog_entry e;
	struct dirent *de;
	struct vb_name nm;
	DIR *d;
	int rc = 0, r;

	if ((d = opendir(dir)) == NULL) {
		snprintf(why, wlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (vb_name_parse(de->d_name, &nm) != 0 ||
		    nm.kind != VB_KIND_BACKUP || nm.ext == VB_EXT_DB)
			continue;
		if ((r = entry_for(dir, de->d_name, &nm, k, &e, why,
		    wlen)) < 0)
			rc = -1;
		else if (r == 0 && add(c, &e) != 0) {
			snprintf(why, wlen, "out of memory");
			rc = -1;
		}
	}
	closedir(d);
	return rc;
}

/* Whether name is among the first n entries of c (sorted). */
static int
in(const struct vb_catalog *c, size_t n, const char *name)
{
	struct vb_catalog part = *c;

	part.n = n;
	return vb_catalog_find(&part, name) != NULL;
}

/*
 * Whether name's archive is in c's first n entries under another name
 * (the same backup encrypted in place: <name>.age), which replaces it.
 */
static int
renamed(const struct vb_catalog *c, size_t n, const char *name)
{
	struct vb_name a, b;
	size_t i;

	if (vb_name_parse(name, &a) != 0)
		return 0;
	for (i = 0; i < n; i++)
		if (vb_name_parse(c->e[i].name, &b) == 0 && strcmp(a.stem,
		    b.stem) == 0 && a.delta == b.delta && a.kind == b.kind &&
		    strcmp(c->e[i].name, name) != 0)
			return 1;
	return 0;
}

/*
 * The last catalog's backups no longer in dir (its archives lost with
 * the disk, the remote's history) stay listed: an entry leaves only
 * when the retention policy p drops it, which it then does here on the
 * union, as vb-prune does on a listing, or when dir holds its backup
 * under a new name (encrypted in place).  c sorted.  0, or -1 (why).
 */
static int
keep_history(const char *dir, const struct vb_catalog *old,
    const struct vb_policy *p, struct vb_catalog *c, char *why,
    size_t wlen)
{
	struct vb_listed *f = NULL;
	struct vb_backup *list = NULL;
	struct vb_catalog kept;
	size_t i, nf = 0, cap = 0, n = 0, j, have;
	int b, rc = -1;

	/* Found by name: c sorted first. */
	if (c->n > 1)
		qsort(c->e, c->n, sizeof(c->e[0]), by_name);
	for (i = 0, have = c->n; i < old->n; i++)
		if (in(c, have, old->e[i].name) == 0 && renamed(c, have,
		    old->e[i].name) == 0 && add(c, &old->e[i]) != 0)
			goto oom;
	if (c->n > 1)
		qsort(c->e, c->n, sizeof(c->e[0]), by_name);
	if (p == NULL)
		return 0;
	for (i = 0; i < c->n; i++)
		if (vb_listed_add(&f, &nf, &cap, c->e[i].name, c->e[i].bytes) !=
		    0)
			goto oom;
	if (vb_group(f, nf, &list, &n, why, wlen) != 0)
		goto out;
	vb_index_parents(dir, list, n);
	vb_retention(list, n, p);
	memset(&kept, 0, sizeof(kept));
	for (i = 0; i < n; i++)
		for (b = 0; list[i].keep && b < list[i].nfiles; b++)
			for (j = 0; j < c->n; j++)
				if (strcmp(c->e[j].name, list[i].files[b].name)
				    == 0 && add(&kept, &c->e[j]) != 0) {
					vb_catalog_free(&kept);
					goto oom;
				}
	if (kept.n > 1)
		qsort(kept.e, kept.n, sizeof(kept.e[0]), by_name);
	free(c->e);
	c->e = kept.e;
	c->n = kept.n;
	c->cap = kept.cap;
	rc = 0;
	goto out;
oom:
	snprintf(why, wlen, "out of memory");
out:
	free(f);
	free(list);
	return rc;
}

/* The SHA-256 of the file at path into hex; 0, or -1. */
static int
hash_path(const char *path, char hex[VB_SHA256_HEX])
{
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	rc = vb_sha256_fd(fd, hex) < 0 ? -1 : 0;
	close(fd);
	return rc;
}

/* Whether dir/name and the file at path hold the same bytes. */
static int
same_bytes(const char *dir, const char *name, const char *path)
{
	char here[4200], a[VB_SHA256_HEX], b[VB_SHA256_HEX];

	return vb_path_join(here, sizeof(here), dir, name) == 0 &&
	    hash_path(here, a) == 0 && hash_path(path, b) == 0 &&
	    strcmp(a, b) == 0;
}

/*
 * The remote's catalog, its signature checked against key's public
 * half, merged into old (the newer sequence; every entry of both): a
 * host that lost its backups and its catalog signs the remote's history
 * again, not a list without it.  Unreachable: a note, old as it was.
 */
static void
merge_remote(const char *dir, const char *key, const char *remote,
    struct vb_catalog *old, char *note, size_t nlen)
{
	struct vb_catalog r;
	struct vb_tmp ct, cs, pt;
	char cp[4400], sp[4400], pub[4096], pp[4400], w[1400];
	size_t i;

	ct.dirfd = cs.dirfd = pt.dirfd = -1;
	if (vb_catalog_fetch(remote, dir, &ct, &cs, cp, sp, sizeof(cp), w,
	    sizeof(w)) != 0)
		goto said;
	/* What this host put there (every nightly's prune does), byte for
	 * byte: old already holds it all, and no key need be read. */
	if (old->seq > 0 && same_bytes(dir, VB_CATALOG, cp) &&
	    same_bytes(dir, VB_CATALOG_SIG, sp))
		goto out;
	if (vb_key_public(key, pub, sizeof(pub), w, sizeof(w)) != 0 ||
	    vb_tmp_open(&pt, dir, "vb-catalog.pub", w, sizeof(w)) != 0)
		goto said;
	if (vb_write_all(pt.fd, pub, strlen(pub)) != 0 || vb_write_all(pt.fd,
	    "\n", 1) != 0 || vb_path_join(pp,
	    sizeof(pp), dir, pt.name) != 0) {
		snprintf(w, sizeof(w), "%s", strerror(errno));
		goto said;
	}
	if (vb_catalog_load(cp, sp, pp, &r, w, sizeof(w)) != 0)
		goto said;
	for (i = 0; i < r.n; i++)
		if (vb_catalog_find(old, r.e[i].name) == NULL &&
		    add(old, &r.e[i]) != 0)
			break;
	if (old->n > 1)
		qsort(old->e, old->n, sizeof(old->e[0]), by_name);
	if (r.seq > old->seq)
		old->seq = r.seq;
	vb_catalog_free(&r);
	goto out;
said:
	vb_notef(note, nlen, "the remote's catalog was not merged (%s)", w);
out:
	vb_tmp_abort(&ct);
	vb_tmp_abort(&cs);
	vb_tmp_abort(&pt);
}

/* The next sequence: past the last catalog's and every one this host
 * has seen, at least the time in ms.  -1 when it cannot grow. */
static int64_t
next_seq(const char *dir, int64_t last, int64_t ms)
{
	int64_t seen = vb_catalog_seen_floor(dir), top = last > seen ? last :
	    seen;

	if (top >= INT64_MAX - 1)
		return -1;
	return top >= ms ? top + 1 : ms;
}

/*
 * (long: one catalog's making, in order (read the last, number, list, sign,
 * write both files), one label undoing it)
 */
int
vb_catalog_write(const char *dir, const char *key, const char *logdb,
    const struct vb_policy *p, struct vb_catalog *c, char *note,
    size_t nlen, char *why, size_t wlen)
{
	struct vb_catalog old;
	struct known k;
	struct timespec now = vb_now();
	const char *remote = vb_config("OFFSITE");
	char path[4200], spath[4200], sig[VB_SIG_MAX + 1], *text = NULL;
	char w[900];
	int64_t ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	ssize_t n;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	memset(&k, 0, sizeof(k));
	/* The host's own last one, unsigned-checked: it is its own. */
	if (vb_path_join(path, sizeof(path), dir, VB_CATALOG) != 0 ||
	    vb_path_join(spath, sizeof(spath), dir, VB_CATALOG_SIG) != 0 ||
	    vb_catalog_load(path, spath, NULL, &old, w, sizeof(w)) != 0)
		memset(&old, 0, sizeof(old));
	if (remote != NULL)
		merge_remote(dir, key, remote, &old, note, nlen);
	k.old = &old;
	if (logdb != NULL && access(logdb, F_OK) == 0)
		(void)vb_backuplog_known(logdb, &k.log, w, sizeof(w));
	if ((c->seq = next_seq(dir, old.seq, ms)) < 0) {
		snprintf(why, wlen, "the catalog's sequence cannot grow past "
		    "%" PRId64 ": refused", old.seq);
		goto out;
	}
	vb_iso_time(&now, c->written);
	if (gethostname(c->host, sizeof(c->host) - 1) != 0)
		snprintf(c->host, sizeof(c->host), "unknown");
	vb_clean_field(c->host);
	if (list_dir(dir, &k, c, why, wlen) != 0 || keep_history(dir, &old, p,
	    c, why, wlen) != 0 || (n = vb_catalog_format(c, &text)) < 0)
		goto out;
	if (vb_sign(key, text, (size_t)n, sig, sizeof(sig), why, wlen) != 0)
		goto out;
	/* Each replaced atomically; a reader between the two sees them
	 * disagree and refuses, never a stale pair that verifies. */
	if (vb_tmp_write(dir, VB_CATALOG_SIG, sig, strlen(sig), why,
	    wlen) != 0 || vb_tmp_write(dir, VB_CATALOG, text, (size_t)n, why,
	    wlen) != 0)
		goto out;
	/* The signer's own sequence is the floor of every later read. */
	(void)vb_catalog_seen(dir, c->seq, w, sizeof(w));
	if (k.nunknown > 0)
		vb_notef(note, nlen, "%d archives neither the last catalog nor "
		    "BackupLog knows (%s%s) not listed: not made by this job?",
		    k.nunknown, k.unknown, k.nunknown > 1 ? ", ..." : "");
	if (k.nunsigned > 0)
		vb_notef(note, nlen, "%d unsigned archives (made before "
		    "SIGN_WITH) not listed", k.nunsigned);
	rc = 0;
out:
	if (rc != 0 && why[0] == '\0')
		snprintf(why, wlen, "out of memory");
	free(text);
	vb_catalog_free(&old);
	vb_log_known_free(&k.log);
	if (rc != 0)
		vb_catalog_free(c);
	return rc;
}

int
vb_catalog_fetch(const char *remote, const char *dir, struct vb_tmp *c,
    struct vb_tmp *s, char *cpath, char *spath, size_t plen, char *why,
    size_t wlen)
{
	char hex[VB_SHA256_HEX];

	/* A catalog or a signature larger than one can be is not one. */
	if (vb_remote_fetch(remote, VB_CATALOG_SIG, dir, VB_SIG_MAX, s, spath,
	    plen, hex, why, wlen) != 0)
		return -1;
	if (vb_remote_fetch(remote, VB_CATALOG, dir, CATALOG_MAX, c, cpath,
	    plen, hex, why, wlen) != 0) {
		vb_tmp_abort(s);
		return -1;
	}
	return 0;
}

/* ---- after retention: here, then on the remote ---- */

/* Copies dir/name to remote, checked there by its SHA-256. */
static int
put(const char *dir, const char *name, const char *remote, char *why,
    size_t wlen)
{
	char path[4400], sha[VB_SHA256_HEX], how[200];
	int fd, rc;

	if (vb_path_join(path, sizeof(path), dir, name) != 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		snprintf(why, wlen, "%s/%s: %s", dir, name, strerror(errno));
		return -1;
	}
	rc = vb_sha256_fd(fd, sha) < 0 ? -1 : 0;
	close(fd);
	if (rc != 0) {
		snprintf(why, wlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return vb_remote_put(path, remote, name, sha, how, sizeof(how), why,
	    wlen);
}

int
vb_catalog_update(const char *dir, const char *remote, const char *logdb,
    const struct vb_policy *p, char *note, size_t nlen, char *why,
    size_t wlen)
{
	const char *key = vb_config("SIGN_WITH");
	struct vb_catalog c;
	char w[1024] = "";

	note[0] = '\0';
	if (key == NULL)
		return 0;
	if (remote != NULL && dir == NULL) {
		snprintf(why, wlen, "no BACKUP_DIR: the signed catalog to "
		    "copy to %s is kept there", remote);
		return -1;
	}
	if (remote != NULL) {
		/* The signature first, the catalog last: see above. */
		if (put(dir, VB_CATALOG_SIG, remote, why, wlen) != 0 ||
		    put(dir, VB_CATALOG, remote, why, wlen) != 0)
			return -1;
		snprintf(note, nlen, "the signed catalog copied to %s",
		    remote);
		return 0;
	}
	if (vb_catalog_write(dir, key, logdb, p, &c, w, sizeof(w), why,
	    wlen) != 0)
		return -1;
	snprintf(note, nlen, "the signed catalog lists %zu backups "
	    "(sequence %" PRId64 ")%s%s", c.n, c.seq, w[0] != '\0' ? "; " :
	    "", w);
	vb_catalog_free(&c);
	return 0;
}
