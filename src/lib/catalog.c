/*
 * catalog.c - the signed catalog of the backups (SIGN_WITH): every
 * archive's name, SHA-256, size and time, with a sequence number that
 * only grows, in "vb-catalog" beside them, its SSH signature in
 * "vb-catalog.sig"; both copied offsite after the remote's retention.
 *
 * A restore given the public key (VERIFY_WITH) refuses an archive the
 * catalog does not list with that SHA-256, and a catalog older than one
 * the host has seen (".vb-catalog-seen"): a rollback.  The sequence is
 * the time of writing in milliseconds, or one more than the last, so it
 * keeps growing on a host rebuilt with no catalog of its own.  The
 * SHA-256s come from the catalog before (an archive's never changes),
 * else from BackupLog (recorded when it was made), else from the file.
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

int
vb_catalog_seen(const char *dir, int64_t seq, char *why, size_t wlen)
{
	char path[4200], *text = NULL, buf[32], w[600];
	int64_t seen = 0;

	if (vb_path_join(path, sizeof(path), dir, VB_CATALOG_SEEN) != 0) {
		snprintf(why, wlen, "%s: name too long", dir);
		return -1;
	}
	if (slurp(path, 64, &text, w, sizeof(w)) >= 0)
		seen = strtoll(text, NULL, 10);
	free(text);
	if (seq < seen) {
		snprintf(why, wlen, "the catalog's sequence is %" PRId64 ", "
		    "older than %" PRId64 " which this host has seen (%s): "
		    "a rollback (newer backups removed from the list); "
		    "refused", seq, seen, path);
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

/* The SHA-256 of dir/name, known or hashed, into e. */
static int
entry_for(const char *dir, const char *name, const struct vb_name *nm,
    const struct vb_catalog *old, const char *logdb,
    struct vb_catalog_entry *e, char *why, size_t wlen)
{
	const struct vb_catalog_entry *o = vb_catalog_find(old, name);
	struct vb_log_seal seal;
	struct stat st;
	char path[4400], w[600];
	int fd, rc;

	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	vb_iso_time(&nm->when, e->when);
	if (vb_path_join(path, sizeof(path), dir, name) != 0 ||
	    lstat(path, &st) != 0) {
		snprintf(why, wlen, "%s/%s: %s", dir, name, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, wlen, "%s: not a regular file", path);
		return -1;
	}
	e->bytes = st.st_size;
	/* Known, or recorded when it was made: only a stranger is read. */
	if (o != NULL && o->bytes == st.st_size) {
		memcpy(e->sha256, o->sha256, VB_SHA256_HEX);
		return 0;
	}
	if (logdb != NULL && access(logdb, F_OK) == 0 &&
	    vb_backuplog_sealed(logdb, name, &seal, w, sizeof(w)) == 1) {
		memcpy(e->sha256, seal.sha256, VB_SHA256_HEX);
		return 0;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		snprintf(why, wlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = vb_sha256_fd(fd, e->sha256) == st.st_size ? 0 : -1;
	if (rc != 0)
		snprintf(why, wlen, "%s: %s", path, strerror(errno));
	close(fd);
	return rc;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct vb_catalog_entry *)a)->name,
	    ((const struct vb_catalog_entry *)b)->name);
}

/* Every backup archive in dir into c, sorted.  0, or -1 (why). */
static int
list_dir(const char *dir, const struct vb_catalog *old, const char *logdb,
    struct vb_catalog *c, char *why, size_t wlen)
{
	struct vb_catalog_entry e;
	struct dirent *de;
	struct vb_name nm;
	DIR *d;
	int rc = 0;

	if ((d = opendir(dir)) == NULL) {
		snprintf(why, wlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (vb_name_parse(de->d_name, &nm) != 0 ||
		    nm.kind != VB_KIND_BACKUP || nm.ext == VB_EXT_DB)
			continue;
		if (entry_for(dir, de->d_name, &nm, old, logdb, &e, why,
		    wlen) != 0)
			rc = -1;
		else if (add(c, &e) != 0) {
			snprintf(why, wlen, "out of memory");
			rc = -1;
		}
	}
	closedir(d);
	if (rc == 0 && c->n > 1)
		qsort(c->e, c->n, sizeof(c->e[0]), by_name);
	return rc;
}

int
vb_catalog_write(const char *dir, const char *key, const char *logdb,
    struct vb_catalog *c, char *why, size_t wlen)
{
	struct vb_catalog old;
	struct timespec now = vb_now();
	char path[4200], spath[4200], sig[VB_SIG_MAX + 1], *text = NULL;
	char w[900];
	int64_t ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	ssize_t n;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	/* The host's own last one, unsigned-checked: it is its own. */
	if (vb_path_join(path, sizeof(path), dir, VB_CATALOG) != 0 ||
	    vb_path_join(spath, sizeof(spath), dir, VB_CATALOG_SIG) != 0 ||
	    vb_catalog_load(path, spath, NULL, &old, w, sizeof(w)) != 0)
		memset(&old, 0, sizeof(old));
	c->seq = old.seq >= ms ? old.seq + 1 : ms;
	vb_iso_time(&now, c->written);
	if (gethostname(c->host, sizeof(c->host) - 1) != 0)
		snprintf(c->host, sizeof(c->host), "unknown");
	vb_clean_field(c->host);
	if (list_dir(dir, &old, logdb, c, why, wlen) != 0 ||
	    (n = vb_catalog_format(c, &text)) < 0)
		goto out;
	if (vb_sign(key, text, (size_t)n, sig, sizeof(sig), why, wlen) != 0)
		goto out;
	/* Each replaced atomically; a reader between the two sees them
	 * disagree and refuses, never a stale pair that verifies. */
	if (vb_tmp_write(dir, VB_CATALOG_SIG, sig, strlen(sig), why,
	    wlen) != 0 || vb_tmp_write(dir, VB_CATALOG, text, (size_t)n, why,
	    wlen) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0 && why[0] == '\0')
		snprintf(why, wlen, "out of memory");
	free(text);
	vb_catalog_free(&old);
	if (rc != 0)
		vb_catalog_free(c);
	return rc;
}

int
vb_catalog_fetch(const char *remote, const char *dir, struct vb_tmp *c,
    struct vb_tmp *s, char *cpath, char *spath, size_t plen, char *why,
    size_t wlen)
{
	if (vb_remote_fetch(remote, VB_CATALOG_SIG, dir, s, spath, plen, why,
	    wlen) != 0)
		return -1;
	if (vb_remote_fetch(remote, VB_CATALOG, dir, c, cpath, plen, why,
	    wlen) != 0) {
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
    char *note, size_t nlen, char *why, size_t wlen)
{
	const char *key = vb_config("SIGN_WITH");
	struct vb_catalog c;

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
	if (vb_catalog_write(dir, key, logdb, &c, why, wlen) != 0)
		return -1;
	snprintf(note, nlen, "the signed catalog lists %zu backups "
	    "(sequence %" PRId64 ")", c.n, c.seq);
	vb_catalog_free(&c);
	return 0;
}
