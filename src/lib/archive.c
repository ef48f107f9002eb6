/*
 * archive.c - vb's archives: a pax tar holding MANIFEST, then <stem>.db,
 * compressed by libarchive.
 *
 * Writing streams the database in fixed-size blocks, so memory does not
 * grow with it.  Reading (the read-back after writing, and every restore)
 * trusts nothing: exactly those two regular entries, in that order, names
 * vb makes, the size and SHA-256 the manifest declares, nothing after.
 * libarchive's return tiers: anything but ARCHIVE_OK is a failure, its
 * words reported (a warning about a backup is not one to trust or to
 * write past), short writes are errors, and everything is freed under
 * one cleanup label.  The one exception is an option a filter refuses
 * (threads), which is a notice, not a failure.
 */
#define _GNU_SOURCE
#include <sys/statvfs.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "vblib.h"

#define BUFSZ	(1024 * 1024)

/* Describes libarchive's last error, with its errno where it has one. */
static void
laerr(struct archive *a, char *why, size_t wlen)
{
	const char *msg = archive_error_string(a);
	int e = archive_errno(a);

	if (msg == NULL)
		msg = "damaged or unreadable archive";
	/* EILSEQ and EINVAL are libarchive's "bad format", not the OS's. */
	if (e > 0 && e != EILSEQ && e != EINVAL &&
	    strstr(msg, strerror(e)) == NULL)
		snprintf(why, wlen, "%s: %s", msg, strerror(e));
	else
		snprintf(why, wlen, "%s", msg);
}

/* ---- writing an archive ---- */

/* Adds the filter for ext and its options; returns 0, or -1 (why). */
static int
set_filter(struct archive *a, const struct vb_archive_opts *o, char *why,
    size_t wlen)
{
	const struct vb_format *f = vb_format(o->ext);
	char num[16];

	if (f->filter <= ARCHIVE_FILTER_NONE)
		return 0;
	if (archive_write_add_filter(a, f->filter) != ARCHIVE_OK)
		goto fail;
	if (o->level > 0) {
		snprintf(num, sizeof(num), "%d", o->level);
		if (archive_write_set_filter_option(a, NULL,
		    "compression-level", num) != ARCHIVE_OK)
			goto fail;
	}
	if (o->threads > 1) {
		snprintf(num, sizeof(num), "%d", o->threads);
		/* Not every libarchive has threads for every filter. */
		if (archive_write_set_filter_option(a, NULL, "threads",
		    num) != ARCHIVE_OK)
			snprintf(why, wlen, "this libarchive (%s) cannot "
			    "compress with threads; using one",
			    archive_version_string());
	}
	return 0;
fail:
	laerr(a, why, wlen);
	return -1;
}

/* Adds one regular entry header; returns 0, or -1 (why). */
static int
header(struct archive *a, const char *name, int64_t size, time_t mtime,
    char *why, size_t wlen)
{
	struct archive_entry *e;
	int rc;

	if ((e = archive_entry_new()) == NULL) {
		snprintf(why, wlen, "out of memory");
		return -1;
	}
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0600);
	archive_entry_set_size(e, size);
	archive_entry_set_mtime(e, mtime, 0);
	rc = archive_write_header(a, e);
	archive_entry_free(e);
	if (rc != ARCHIVE_OK) {
		laerr(a, why, wlen);
		return -1;
	}
	return 0;
}

/* Writes all of buf as entry data; returns 0, or -1 (why). */
static int
data(struct archive *a, const void *buf, size_t len, char *why, size_t wlen)
{
	la_ssize_t n = archive_write_data(a, buf, len);

	if (n < 0)
		laerr(a, why, wlen);
	else if ((size_t)n != len)
		snprintf(why, wlen, "short write to the archive");
	if (n < 0 || (size_t)n != len)
		return -1;
	return 0;
}

/*
 * Starts an archive on fd: pax, the filter and its options.  Returns it,
 * or NULL with why (why may hold a notice on success).
 */
static struct archive *
wopen(int fd, const struct vb_archive_opts *o, char *why, size_t wlen)
{
	struct archive *a;

	if (wlen > 0)
		why[0] = '\0';
	if ((a = archive_write_new()) == NULL) {
		snprintf(why, wlen, "out of memory");
		return NULL;
	}
	/* Written in blocks of BUFSZ, not tar's 10 KiB (a write each). */
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(a, BUFSZ) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK) {
		laerr(a, why, wlen);
		goto fail;
	}
	if (set_filter(a, o, why, wlen) != 0)
		goto fail;
	if (archive_write_open_fd(a, fd) != ARCHIVE_OK) {
		laerr(a, why, wlen);
		goto fail;
	}
	return a;
fail:
	archive_write_free(a);
	return NULL;
}

/* Writes one whole small entry; returns 0, or -1 (why). */
static int
small_entry(struct archive *a, const char *name, const void *buf,
    size_t len, time_t mtime, char *why, size_t wlen)
{
	if (header(a, name, (int64_t)len, mtime, why, wlen) != 0)
		return -1;
	return len == 0 ? 0 : data(a, buf, len, why, wlen);
}

/*
 * The manifest's signature, when there is one: the last entry, so that
 * MANIFEST and the database stay first and second.  0, or -1 (why).
 */
static int
signature(struct archive *a, const struct vb_archive_opts *o, char *why,
    size_t wlen)
{
	return o->sig == NULL ? 0 : small_entry(a, VB_SIG_ENTRY, o->sig,
	    strlen(o->sig), o->mtime, why, wlen);
}

/* Ends the archive and frees it; returns 0, or -1 (why) if it failed. */
static int
wclose(struct archive *a, int ok, char *why, size_t wlen)
{
	if (ok && archive_write_close(a) != ARCHIVE_OK) {
		laerr(a, why, wlen);
		ok = 0;
	}
	archive_write_free(a);
	return ok ? 0 : -1;
}

int
vb_archive_write(int fd, const struct vb_archive_opts *o,
    const char *manifest, const char *dbname, int dbfd, int64_t dbbytes,
    char *why, size_t wlen)
{
	struct archive *a;
	unsigned char *buf = NULL;
	int64_t done = 0;
	ssize_t n;
	int ok = 0;

	if ((a = wopen(fd, o, why, wlen)) == NULL)
		return -1;
	if ((buf = malloc(BUFSZ)) == NULL) {
		snprintf(why, wlen, "out of memory");
		goto cleanup;
	}
	if (small_entry(a, "MANIFEST", manifest, strlen(manifest), o->mtime,
	    why, wlen) != 0 ||
	    header(a, dbname, dbbytes, o->mtime, why, wlen) != 0)
		goto cleanup;
	while (done < dbbytes) {
		n = read(dbfd, buf, (size_t)(dbbytes - done < BUFSZ ?
		    dbbytes - done : BUFSZ));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(why, wlen, "reading %s: %s", dbname,
			    n < 0 ? strerror(errno) : "file shrank while read");
			goto cleanup;
		}
		if (data(a, buf, (size_t)n, why, wlen) != 0)
			goto cleanup;
		done += n;
		if (o->progress != NULL)
			o->progress(o->progress_arg, done, dbbytes);
	}
	if (read(dbfd, buf, 1) != 0) {
		snprintf(why, wlen, "reading %s: file grew while read", dbname);
		goto cleanup;
	}
	ok = signature(a, o, why, wlen) == 0;
cleanup:
	free(buf);
	return wclose(a, ok, why, wlen);
}

int
vb_archive_write_delta(int fd, const struct vb_archive_opts *o,
    const char *manifest, const char *stem, const struct vb_pages *idx,
    const int64_t *changed, int64_t nchanged, int dbfd, char *why,
    size_t wlen)
{
	struct archive *a;
	unsigned char *rec = NULL;
	size_t ps = (size_t)idx->page_size;
	char name[128];
	int64_t i;
	ssize_t n;
	int ok = 0;

	if ((a = wopen(fd, o, why, wlen)) == NULL)
		return -1;
	if ((rec = malloc(4 + ps)) == NULL) {
		snprintf(why, wlen, "out of memory");
		goto cleanup;
	}
	snprintf(name, sizeof(name), "%s%s", stem, VB_DELTA_INDEX);
	if (small_entry(a, "MANIFEST", manifest, strlen(manifest), o->mtime,
	    why, wlen) != 0 || small_entry(a, name, idx->h,
	    (size_t)(idx->count * VB_PAGE_HASH), o->mtime, why, wlen) != 0)
		goto cleanup;
	snprintf(name, sizeof(name), "%s%s", stem, VB_DELTA_PAGES);
	if (header(a, name, nchanged * (int64_t)(4 + ps), o->mtime, why,
	    wlen) != 0)
		goto cleanup;
	/* Each page as its number (from 1, big-endian), then its bytes. */
	for (i = 0; i < nchanged; i++) {
		uint32_t pgno = (uint32_t)(changed[i] + 1);

		rec[0] = (unsigned char)(pgno >> 24);
		rec[1] = (unsigned char)(pgno >> 16);
		rec[2] = (unsigned char)(pgno >> 8);
		rec[3] = (unsigned char)pgno;
		n = pread(dbfd, rec + 4, ps, (off_t)changed[i] * (off_t)ps);
		if (n != (ssize_t)ps) {
			snprintf(why, wlen, "reading page %u: %s", pgno,
			    n < 0 ? strerror(errno) : "file shrank while read");
			goto cleanup;
		}
		if (data(a, rec, 4 + ps, why, wlen) != 0)
			goto cleanup;
	}
	ok = signature(a, o, why, wlen) == 0;
cleanup:
	free(rec);
	return wclose(a, ok, why, wlen);
}

int
vb_archive_write_point(int fd, const struct vb_archive_opts *o,
    const char *manifest, const char *stem, int spoolfd, int64_t bytes,
    char *why, size_t wlen)
{
	struct archive *a;
	unsigned char *buf = NULL;
	char name[128];
	int64_t done = 0;
	ssize_t n;
	int ok = 0;

	if ((a = wopen(fd, o, why, wlen)) == NULL)
		return -1;
	snprintf(name, sizeof(name), "%s%s", stem, VB_DELTA_PAGES);
	if ((buf = malloc(BUFSZ)) == NULL) {
		snprintf(why, wlen, "out of memory");
		goto cleanup;
	}
	if (small_entry(a, "MANIFEST", manifest, strlen(manifest), o->mtime,
	    why, wlen) != 0 || header(a, name, bytes, o->mtime, why,
	    wlen) != 0)
		goto cleanup;
	/* The spool holds the entry as it is: number, page, number, ... */
	while (done < bytes) {
		n = pread(spoolfd, buf, (size_t)(bytes - done < BUFSZ ?
		    bytes - done : BUFSZ), (off_t)done);
		if (n <= 0) {
			snprintf(why, wlen, "reading the point's pages: %s",
			    n < 0 ? strerror(errno) : "they end early");
			goto cleanup;
		}
		if (data(a, buf, (size_t)n, why, wlen) != 0)
			goto cleanup;
		done += n;
	}
	ok = signature(a, o, why, wlen) == 0;
cleanup:
	free(buf);
	return wclose(a, ok, why, wlen);
}

/* ---- reading one back, hashed as it is read ---- */

/* The read side: raw bytes come through here, so they can be hashed. */
struct reader {
	int			 fd;
	const int		*done;	/* follow a writer until *done */
	struct vb_sha256	*h;
	int64_t			 bytes;
	unsigned char		*buf;
};

static la_ssize_t
reader_read(struct archive *a, void *arg, const void **out)
{
	struct reader *r = arg;
	ssize_t n;

	/* By read: fd may be a pipe (age decrypting). */
	n = vb_read_following(r->fd, r->buf, BUFSZ, -1, r->done);
	if (n < 0) {
		archive_set_error(a, errno, "read: %s", strerror(errno));
		return -1;
	}
	vb_sha256_update(r->h, r->buf, (size_t)n);
	r->bytes += n;
	*out = r->buf;
	return n;
}

/* Returns 0 if e is a plain regular file entry, else -1 (why). */
static int
plain_file(struct archive_entry *e, char *why, size_t wlen)
{
	const char *name = archive_entry_pathname(e);

	if (archive_entry_filetype(e) != AE_IFREG ||
	    archive_entry_hardlink(e) != NULL ||
	    archive_entry_symlink(e) != NULL) {
		snprintf(why, wlen, "entry \"%.100s\" is not a regular file",
		    name != NULL ? name : "");
		return -1;
	}
	if (!archive_entry_size_is_set(e) || archive_entry_size(e) < 0) {
		snprintf(why, wlen, "entry \"%.100s\" has no size",
		    name != NULL ? name : "");
		return -1;
	}
	return 0;
}

/*
 * The next entry's header into *e.  Returns 0, or -1 with why: none when
 * there is no next entry, libarchive's words when it failed.
 */
static int
next_entry(struct archive *a, struct archive_entry **e, const char *none,
    char *why, size_t wlen)
{
	int arc = archive_read_next_header(a, e);

	if (arc == ARCHIVE_OK)
		return 0;
	if (arc == ARCHIVE_EOF)
		snprintf(why, wlen, "%s", none);
	else
		laerr(a, why, wlen);
	return -1;
}

/* The first entry: a small regular MANIFEST that parses, into m. */
static int
read_manifest(struct archive *a, struct vb_manifest *m,
    struct vb_archive_info *info, char *why, size_t wlen)
{
	struct archive_entry *e;
	const char *name;
	char *text;
	int64_t got;
	la_ssize_t n = 0;
	int rc = -1;

	if (next_entry(a, &e, "the archive is empty", why, wlen) != 0)
		return -1;
	name = archive_entry_pathname(e);
	if (name == NULL || strcmp(name, "MANIFEST") != 0) {
		snprintf(why, wlen, "first entry is \"%.100s\", not MANIFEST",
		    name != NULL ? name : "");
		return -1;
	}
	if (plain_file(e, why, wlen) != 0)
		return -1;
	if (archive_entry_size(e) > VB_MANIFEST_MAX) {
		snprintf(why, wlen, "MANIFEST is too large (%lld bytes)",
		    (long long)archive_entry_size(e));
		return -1;
	}
	if ((text = malloc(VB_MANIFEST_MAX + 1)) == NULL) {
		snprintf(why, wlen, "out of memory");
		return -1;
	}
	for (got = 0; (n = archive_read_data(a, text + got,
	    (size_t)(VB_MANIFEST_MAX + 1 - got))) > 0; got += n)
		;
	if (n < 0)
		laerr(a, why, wlen);
	else if (got != archive_entry_size(e))
		snprintf(why, wlen, "MANIFEST is not the size its header says");
	else
		rc = vb_manifest_parse(text, (size_t)got, m, why, wlen);
	/* Kept as written: what a signature covers. */
	if (rc == 0 && info != NULL && got <= VB_SIGNED_MAX) {
		memcpy(info->manifest, text, (size_t)got);
		info->manifest_len = (size_t)got;
	}
	free(text);
	return rc;
}

/*
 * The second entry: a regular <stem>.db (a name vb makes: no directory,
 * no "..", nothing absolute) of the size the manifest declares.
 */
static int
check_db_entry(struct archive *a, const char *stem,
    const struct vb_manifest *m, struct vb_archive_info *info, char *why,
    size_t wlen)
{
	struct archive_entry *e;
	struct vb_name nm;
	const char *name;

	if (next_entry(a, &e, "the archive holds no database", why, wlen) != 0)
		return -1;
	name = archive_entry_pathname(e);
	if (name == NULL || vb_name_parse(name, &nm) != 0 ||
	    nm.ext != VB_EXT_DB ||
	    (stem != NULL && strcmp(nm.stem, stem) != 0)) {
		snprintf(why, wlen, "second entry \"%.100s\" is not %s%s",
		    name != NULL ? name : "", stem != NULL ? stem :
		    "a vb snapshot", stem != NULL ? ".db" : "");
		return -1;
	}
	if (plain_file(e, why, wlen) != 0)
		return -1;
	if (archive_entry_size(e) != m->db_bytes) {
		snprintf(why, wlen, "%s is %lld bytes, the manifest says %lld",
		    name, (long long)archive_entry_size(e),
		    (long long)m->db_bytes);
		return -1;
	}
	snprintf(info->dbname, sizeof(info->dbname), "%s", name);
	return 0;
}

/*
 * The database's data, hashed (and written to outfd unless -1): exactly
 * the manifest's size and SHA-256.  Returns 0, or -1 with why.
 */
static int
copy_db_data(struct archive *a, const char *name, const struct vb_manifest *m,
    int outfd, struct vb_pages *pages, char *why, size_t wlen)
{
	struct vb_sha256 *h;
	char hex[VB_SHA256_HEX];
	const void *blk;
	size_t len;
	la_int64_t off;
	int64_t got = 0;
	int arc;

	if ((h = vb_sha256_new()) == NULL) {
		snprintf(why, wlen, "out of memory");
		return -1;
	}
	while ((arc = archive_read_data_block(a, &blk, &len, &off)) ==
	    ARCHIVE_OK) {
		/* Sparse holes would be zeros we never hashed. */
		if (off != got) {
			snprintf(why, wlen, "%s: data out of order", name);
			break;
		}
		if (got + (int64_t)len > m->db_bytes) {
			snprintf(why, wlen, "%s is larger than the manifest "
			    "says", name);
			break;
		}
		vb_sha256_update(h, blk, len);
		if (pages != NULL && vb_pages_feed(pages, blk, len) != 0) {
			snprintf(why, wlen, "out of memory");
			break;
		}
		if (outfd != -1 && vb_write_all(outfd, blk, len) != 0) {
			snprintf(why, wlen, "writing the database: %s",
			    strerror(errno));
			break;
		}
		got += (int64_t)len;
	}
	vb_sha256_final(h, hex);
	if (arc == ARCHIVE_OK)
		return -1;	/* one of the breaks above */
	if (arc != ARCHIVE_EOF) {
		laerr(a, why, wlen);
		return -1;
	}
	if (got != m->db_bytes) {
		snprintf(why, wlen, "%s is %lld bytes, the manifest says %lld",
		    name, (long long)got, (long long)m->db_bytes);
		return -1;
	}
	if (strcmp(hex, m->db_sha256) != 0) {
		snprintf(why, wlen, "%s: SHA-256 %s does not match the "
		    "manifest's %s", name, hex, m->db_sha256);
		return -1;
	}
	return 0;
}

/* MANIFEST.sig, the entry e: a small armored signature, into info. */
static int
read_sig(struct archive *a, struct archive_entry *e,
    struct vb_archive_info *info, char *why, size_t wlen)
{
	int64_t size = archive_entry_size(e), got;
	la_ssize_t n = 0;
	char w[300];

	if (plain_file(e, why, wlen) != 0)
		return -1;
	if (size > VB_SIG_MAX) {
		snprintf(why, wlen, "%s is oversized (%lld bytes; an SSH "
		    "signature is under %d): refused", VB_SIG_ENTRY,
		    (long long)size, VB_SIG_MAX);
		return -1;
	}
	for (got = 0; got < size && (n = archive_read_data(a, info->sig + got,
	    (size_t)(size - got))) > 0; got += n)
		;
	if (n < 0) {
		laerr(a, why, wlen);
		return -1;
	}
	info->sig[got] = '\0';
	info->sig_len = (size_t)got;
	if (got != size || vb_sig_shape(info->sig, info->sig_len, w,
	    sizeof(w)) != 0) {
		snprintf(why, wlen, "%s: %s", VB_SIG_ENTRY, got != size ?
		    "shorter than its header says" : w);
		return -1;
	}
	return 0;
}

/*
 * Nothing after the database but the manifest's signature, if signed;
 * then what libarchive left unread is read too, so that the archive's
 * own hash covers every byte.
 */
static int
expect_end(struct archive *a, struct reader *r, struct vb_archive_info *info,
    char *why, size_t wlen)
{
	struct archive_entry *e;
	const void *rest;
	const char *name;
	la_ssize_t n;
	int arc;

	arc = archive_read_next_header(a, &e);
	if (arc == ARCHIVE_OK && (name = archive_entry_pathname(e)) != NULL &&
	    strcmp(name, VB_SIG_ENTRY) == 0) {
		if (read_sig(a, e, info, why, wlen) != 0)
			return -1;
		arc = archive_read_next_header(a, &e);
	}
	if (arc != ARCHIVE_EOF) {
		if (arc == ARCHIVE_OK)
			snprintf(why, wlen, "unexpected %s entry \"%.100s\"",
			    info->sig_len > 0 ? "last" : "third",
			    archive_entry_pathname(e) != NULL ?
			    archive_entry_pathname(e) : "");
		else
			laerr(a, why, wlen);
		return -1;
	}
	while ((n = reader_read(a, r, &rest)) > 0)
		;
	if (n < 0) {
		laerr(a, why, wlen);
		return -1;
	}
	return 0;
}

/* ---- a delta's entries ---- */

/* Reads exactly len bytes of the current entry's data into buf. */
static int
read_exact(struct archive *a, void *buf, size_t len, char *why, size_t wlen)
{
	size_t got = 0;
	la_ssize_t n;

	while (got < len) {
		if ((n = archive_read_data(a, (char *)buf + got, len - got)) <=
		    0) {
			if (n < 0)
				laerr(a, why, wlen);
			else
				snprintf(why, wlen, "entry data ends early");
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

/*
 * The next entry: a regular <stem><suffix> of exactly size bytes.
 * Returns 0, or -1 with why.
 */
static int
delta_entry(struct archive *a, const char *stem, const char *suffix,
    int64_t size, char *why, size_t wlen)
{
	struct archive_entry *e;
	const char *name;
	char want[128];

	snprintf(want, sizeof(want), "%s%s", stem, suffix);
	if (next_entry(a, &e, "the delta archive ends early", why, wlen) != 0)
		return -1;
	name = archive_entry_pathname(e);
	if (name == NULL || strcmp(name, want) != 0) {
		snprintf(why, wlen, "entry \"%.100s\" is not %s",
		    name != NULL ? name : "", want);
		return -1;
	}
	if (plain_file(e, why, wlen) != 0)
		return -1;
	if (archive_entry_size(e) != size) {
		snprintf(why, wlen, "%s is %lld bytes, the manifest makes it "
		    "%lld", want, (long long)archive_entry_size(e),
		    (long long)size);
		return -1;
	}
	return 0;
}

/*
 * A delta's index (the hash of every page of its database, as many as
 * page-count, hashing to index-sha256) into idx.
 */
static int
delta_index(struct archive *a, const char *stem, const struct vb_manifest *m,
    struct vb_pages *idx, char *why, size_t wlen)
{
	char hex[VB_SHA256_HEX];
	int64_t bytes, got, n, want;

	/* Bounded by page-count; 2^28 pages is a 1 TiB database at 4 KiB. */
	if (m->page_count > ((int64_t)1 << 28)) {
		snprintf(why, wlen, "a delta of %lld pages is more than vb "
		    "reads", (long long)m->page_count);
		return -1;
	}
	bytes = m->page_count * VB_PAGE_HASH;
	vb_pages_init(idx, m->page_size);
	if (delta_entry(a, stem, VB_DELTA_INDEX, bytes, why, wlen) != 0)
		return -1;
	/*
	 * Room made as the data comes (doubling), not as the header claims:
	 * a hostile header's size costs nothing until its bytes arrive.
	 */
	for (got = 0; got < bytes; got += n) {
		n = bytes - got < 1024 * 1024 ? bytes - got : 1024 * 1024;
		want = (got + n) / VB_PAGE_HASH * 2;
		if (vb_pages_alloc(idx, want < m->page_count ? want :
		    m->page_count) != 0) {
			snprintf(why, wlen, "out of memory");
			return -1;
		}
		if (read_exact(a, idx->h + got, (size_t)n, why, wlen) != 0)
			return -1;
	}
	idx->count = m->page_count;
	vb_pages_sha(idx, hex);
	if (strcmp(hex, m->index_sha256) != 0) {
		snprintf(why, wlen, "%s%s: SHA-256 %s does not match the "
		    "manifest's %s", stem, VB_DELTA_INDEX, hex,
		    m->index_sha256);
		return -1;
	}
	return 0;
}

/*
 * A delta's pages: each one's number (from 1, increasing, within the
 * database) and bytes hashing to the index's entry for it (a point has
 * no index: idx NULL, its pages' hashes added to the sparse index held
 * instead, when set, for the caller to prove on the parent's); written
 * into outfd at its place unless outfd is -1, which is then cut to the
 * database's size.
 * (long: one pass over the pages entry; each refusal names its page, and one
 * label frees the buffers)
 */
static int
delta_pages(struct archive *a, const char *stem, const struct vb_manifest *m,
    const struct vb_pages *idx, struct vb_pages *held, int outfd, char *why,
    size_t wlen)
{
	size_t ps = (size_t)m->page_size;
	unsigned char *rec, hash[VB_PAGE_HASH];
	char hex[VB_SHA256_HEX];
	struct vb_sha256 *whole = NULL;
	int64_t i, last = 0, pgno;
	int rc = -1;

	if (delta_entry(a, stem, VB_DELTA_PAGES, m->pages * (int64_t)(4 + ps),
	    why, wlen) != 0)
		return -1;
	/* A point has no index: the entry's own SHA-256 checks it alone. */
	if ((rec = malloc(4 + ps)) == NULL || (m->point && (whole =
	    vb_sha256_new()) == NULL)) {
		snprintf(why, wlen, "out of memory");
		free(rec);
		return -1;
	}
	for (i = 0; i < m->pages; i++) {
		if (read_exact(a, rec, 4 + ps, why, wlen) != 0)
			goto out;
		if (whole != NULL)
			vb_sha256_update(whole, rec, 4 + ps);
		pgno = (int64_t)rec[0] << 24 | (int64_t)rec[1] << 16 |
		    (int64_t)rec[2] << 8 | rec[3];
		if (pgno <= last || pgno > m->page_count) {
			snprintf(why, wlen, "%s%s: page %lld out of order or "
			    "past the database's %lld pages", stem,
			    VB_DELTA_PAGES, (long long)pgno,
			    (long long)m->page_count);
			goto out;
		}
		last = pgno;
		if (idx != NULL || held != NULL)
			vb_page_hash(rec + 4, ps, hash);
		if (held != NULL && vb_pages_add(held, pgno - 1, hash) != 0) {
			snprintf(why, wlen, "out of memory");
			goto out;
		}
		if (idx != NULL && memcmp(hash, idx->h + (pgno - 1) *
		    VB_PAGE_HASH, VB_PAGE_HASH) != 0) {
			snprintf(why, wlen, "%s%s: page %lld does not match "
			    "its index", stem, VB_DELTA_PAGES,
			    (long long)pgno);
			goto out;
		}
		if (outfd != -1 && pwrite(outfd, rec + 4, ps, (off_t)(pgno -
		    1) * (off_t)ps) != (ssize_t)ps) {
			snprintf(why, wlen, "writing the database: %s",
			    strerror(errno));
			goto out;
		}
	}
	if (whole != NULL) {
		vb_sha256_final(whole, hex);
		whole = NULL;
		if (strcmp(hex, m->pages_sha256) != 0) {
			snprintf(why, wlen, "%s%s: SHA-256 %s does not match "
			    "the manifest's %s", stem, VB_DELTA_PAGES, hex,
			    m->pages_sha256);
			goto out;
		}
	}
	/* A database that shrank ends where its page count says. */
	if (outfd != -1 && ftruncate(outfd, (off_t)m->db_bytes) != 0) {
		snprintf(why, wlen, "writing the database: %s",
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (whole != NULL)
		vb_sha256_final(whole, hex);
	free(rec);
	return rc;
}

/* ---- verifying: the whole archive, in order ---- */

/* The entries after the manifest, full or delta. */
/*
 * Whether the database m declares is one that fits: a delta's size its
 * pages (page-count times page-size), and any within the free space
 * where outfd writes it (-1: not written).  0, -1 (why), or -2 (why) no
 * room there.
 */
static int
room_for(int outfd, const struct vb_manifest *m, char *why, size_t wlen)
{
	struct statvfs sv;
	double avail;

	if (m->delta && (m->page_count < 0 || m->page_size <= 0 ||
	    m->page_count > INT64_MAX / m->page_size ||
	    m->page_count * m->page_size != m->db_bytes)) {
		snprintf(why, wlen, "the manifest's db-bytes (%lld) is not its "
		    "page-count times its page-size: not one vb wrote",
		    (long long)m->db_bytes);
		return -1;
	}
	if (outfd == -1 || fstatvfs(outfd, &sv) != 0)
		return 0;
	avail = (double)sv.f_bavail * (double)sv.f_frsize;
	if ((double)m->db_bytes > avail) {
		snprintf(why, wlen, "the database it holds is %lld bytes, more "
		    "than the %.0f free where it would be restored: refused "
		    "before a byte is written", (long long)m->db_bytes, avail);
		return -2;		/* the caller tells it from damage */
	}
	return 0;
}

static int
verify_body(struct archive *a, const char *stem, struct vb_manifest *m,
    int outfd, struct vb_pages *pages, struct vb_archive_info *info,
    char *why, size_t wlen)
{
	struct vb_pages own;
	int rc;

	/* What the manifest declares must fit where it goes, before a byte
	 * is written: an archive of a few KiB may claim a TiB. */
	if ((rc = room_for(outfd, m, why, wlen)) != 0) {
		info->noroom = rc == -2;
		return -1;
	}
	if (!m->delta) {
		if (pages != NULL)
			vb_pages_init(pages, m->page_size > 0 ? m->page_size :
			    4096);
		return check_db_entry(a, stem, m, info, why, wlen) != 0 ||
		    copy_db_data(a, info->dbname, m, outfd, pages, why,
		    wlen) != 0 ? -1 : 0;
	}
	if (stem == NULL) {
		snprintf(why, wlen, "a delta archive read without its name");
		return -1;
	}
	snprintf(info->dbname, sizeof(info->dbname), "%s%s", stem,
	    VB_DELTA_PAGES);
	/* A point's pages alone: pages gets their hashes (sparse). */
	if (m->point) {
		if (pages != NULL)
			vb_pages_init(pages, m->page_size);
		rc = delta_pages(a, stem, m, NULL, pages, outfd, why, wlen);
		if (rc != 0 && pages != NULL)
			vb_pages_free(pages);
		return rc;
	}
	if (pages == NULL)
		pages = &own;
	rc = delta_index(a, stem, m, pages, why, wlen) != 0 ||
	    delta_pages(a, stem, m, pages, NULL, outfd, why, wlen) != 0 ? -1 :
	    0;
	if (pages == &own || rc != 0)
		vb_pages_free(pages);
	return rc;
}

/* A reader of vb's archives on r: tar through zstd, gzip, xz or none. */
static struct archive *
ropen(struct reader *r, char *why, size_t wlen)
{
	struct archive *a;
	int i;

	if ((a = archive_read_new()) == NULL ||
	    (r->buf = malloc(BUFSZ)) == NULL ||
	    (r->h = vb_sha256_new()) == NULL) {
		snprintf(why, wlen, "out of memory");
		if (a != NULL)
			archive_read_free(a);
		return NULL;
	}
	archive_read_support_format_tar(a);
	/* The filters of vb's formats, and no other. */
	for (i = 0; vb_format_each(i) != NULL; i++)
		if (vb_format_each(i)->filter > ARCHIVE_FILTER_NONE)
			archive_read_support_filter_by_code(a,
			    vb_format_each(i)->filter);
	if (archive_read_open(a, r, NULL, reader_read, NULL) != ARCHIVE_OK) {
		laerr(a, why, wlen);
		archive_read_free(a);
		return NULL;
	}
	return a;
}

int
vb_archive_verify(int fd, const int *done, const char *stem, int outfd,
    struct vb_pages *pages, struct vb_manifest *m,
    struct vb_archive_info *info, char *why, size_t wlen)
{
	struct archive *a;
	struct reader r;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	memset(info, 0, sizeof(*info));
	r.fd = fd;
	r.done = done;
	if ((a = ropen(&r, why, wlen)) != NULL &&
	    read_manifest(a, m, info, why, wlen) == 0 &&
	    verify_body(a, stem, m, outfd, pages, info, why, wlen) == 0 &&
	    expect_end(a, &r, info, why, wlen) == 0) {
		info->bytes = r.bytes;
		rc = 0;
	}
	if (r.h != NULL)
		vb_sha256_final(r.h, info->sha256);
	if (a != NULL)
		archive_read_free(a);
	free(r.buf);
	return rc;
}

int
vb_archive_manifest(int fd, struct vb_manifest *m, char *why, size_t wlen)
{
	struct archive *a;
	struct reader r;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	r.fd = fd;
	if ((a = ropen(&r, why, wlen)) != NULL) {
		rc = read_manifest(a, m, NULL, why, wlen);
		archive_read_free(a);
	}
	if (r.h != NULL) {
		char hex[VB_SHA256_HEX];

		vb_sha256_final(r.h, hex);
	}
	free(r.buf);
	return rc;
}
