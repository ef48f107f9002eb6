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
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "vb.h"

#define BUFSZ	(1024 * 1024)

static const struct {
	const char	*name;
	enum vb_ext	 ext;
	int		 maxlevel;
} kinds[] = {
	{ "zstd",	VB_EXT_TAR_ZST,	19 },
	{ "gzip",	VB_EXT_TAR_GZ,	9 },
	{ "xz",		VB_EXT_TAR_XZ,	9 },
	{ "none",	VB_EXT_TAR,	0 },
};

int
vb_compression_parse(const char *name, enum vb_ext *ext, int *maxlevel)
{
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(name, kinds[i].name) == 0) {
			*ext = kinds[i].ext;
			*maxlevel = kinds[i].maxlevel;
			return 0;
		}
	return -1;
}

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

const char *
vb_compression_name(enum vb_ext ext)
{
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].ext == ext)
			return kinds[i].name;
	return "raw";
}

/* Adds the filter for ext and its options; returns 0, or -1 (why). */
static int
set_filter(struct archive *a, const struct vb_archive_opts *o, char *why,
    size_t wlen)
{
	char num[16];
	int rc = ARCHIVE_OK;

	switch (o->ext) {
	case VB_EXT_TAR_ZST:
		rc = archive_write_add_filter_zstd(a);
		break;
	case VB_EXT_TAR_GZ:
		rc = archive_write_add_filter_gzip(a);
		break;
	case VB_EXT_TAR_XZ:
		rc = archive_write_add_filter_xz(a);
		break;
	default:
		return 0;
	}
	if (rc != ARCHIVE_OK)
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

int
vb_archive_write(int fd, const struct vb_archive_opts *o,
    const char *manifest, const char *dbname, int dbfd, int64_t dbbytes,
    char *why, size_t wlen)
{
	struct archive *a;
	unsigned char *buf = NULL;
	int64_t done = 0;
	ssize_t n;
	int rc = -1;

	if (wlen > 0)
		why[0] = '\0';
	if ((a = archive_write_new()) == NULL ||
	    (buf = malloc(BUFSZ)) == NULL) {
		snprintf(why, wlen, "out of memory");
		goto cleanup;
	}
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK) {
		laerr(a, why, wlen);
		goto cleanup;
	}
	if (set_filter(a, o, why, wlen) != 0)
		goto cleanup;
	if (archive_write_open_fd(a, fd) != ARCHIVE_OK) {
		laerr(a, why, wlen);
		goto cleanup;
	}
	if (header(a, "MANIFEST", (int64_t)strlen(manifest), o->mtime, why,
	    wlen) != 0 || data(a, manifest, strlen(manifest), why, wlen) != 0 ||
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
	if (archive_write_close(a) != ARCHIVE_OK) {
		laerr(a, why, wlen);
		goto cleanup;
	}
	rc = 0;
cleanup:
	if (a != NULL)
		archive_write_free(a);
	free(buf);
	return rc;
}

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
	struct timespec nap = { 0, 2 * 1000 * 1000 };
	struct reader *r = arg;
	int finished;
	ssize_t n;

	for (;;) {
		/* Load the flag first: bytes written before it are visible. */
		finished = r->done == NULL ||
		    __atomic_load_n(r->done, __ATOMIC_ACQUIRE);
		n = read(r->fd, r->buf, BUFSZ);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != 0 || finished)
			break;
		nanosleep(&nap, NULL);	/* the writer is not done yet */
	}
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
read_manifest(struct archive *a, struct vb_manifest *m, char *why,
    size_t wlen)
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
    int outfd, char *why, size_t wlen)
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

/*
 * Nothing after the database; then what libarchive left unread is read
 * too, so that the archive's own hash covers every byte.
 */
static int
expect_end(struct archive *a, struct reader *r, char *why, size_t wlen)
{
	struct archive_entry *e;
	const void *rest;
	la_ssize_t n;
	int arc;

	if ((arc = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
		if (arc == ARCHIVE_OK)
			snprintf(why, wlen, "unexpected third entry \"%.100s\"",
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

int
vb_archive_verify(int fd, const int *done, const char *stem, int outfd,
    struct vb_manifest *m, struct vb_archive_info *info, char *why,
    size_t wlen)
{
	struct archive *a;
	struct reader r;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	memset(info, 0, sizeof(*info));
	r.fd = fd;
	r.done = done;
	if ((a = archive_read_new()) == NULL ||
	    (r.buf = malloc(BUFSZ)) == NULL ||
	    (r.h = vb_sha256_new()) == NULL) {
		snprintf(why, wlen, "out of memory");
		goto cleanup;
	}
	/* Only what vb writes: tar, through zstd, gzip, xz or nothing. */
	archive_read_support_format_tar(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_xz(a);
	if (archive_read_open(a, &r, NULL, reader_read, NULL) != ARCHIVE_OK)
		laerr(a, why, wlen);
	else if (read_manifest(a, m, why, wlen) == 0 &&
	    check_db_entry(a, stem, m, info, why, wlen) == 0 &&
	    copy_db_data(a, info->dbname, m, outfd, why, wlen) == 0 &&
	    expect_end(a, &r, why, wlen) == 0) {
		info->bytes = r.bytes;
		rc = 0;
	}
cleanup:
	if (r.h != NULL)
		vb_sha256_final(r.h, info->sha256);
	if (a != NULL)
		archive_read_free(a);
	free(r.buf);
	return rc;
}
