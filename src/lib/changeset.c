/*
 * changeset.c - the changes a partial restore made, in SQLite's
 * changeset format, written as they are made and read back inverted:
 * what vb-restore --undo applies.
 *
 * The format is the session extension's (sqlite3session.h: a table
 * header, then each change with whole old and new rows), so SQLite's own
 * changeset API reads it, streamed: memory stays bounded whatever the
 * size.  Its framing is checked whole first (vb_cs_check), because
 * SQLite 3.40's reader loops forever on a table header cut short; and
 * the undo inverts each change itself, since SQLite's inversion leaves
 * an update's key undefined where a reset changed its bytes (a NOCASE
 * key's case).  vb writes it itself rather than through a session
 * object because a session (SQLite 3.40) records no row of a table
 * without a primary key nor any row whose key holds a NULL, and keeps
 * only the columns an update changed, so that an undo could not tell a
 * row changed again since: here every change carries whole rows.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "vblib.h"

/* ---- writing ---- */

/* SQLite's varint (its file format's): 1 to 9 bytes, big-endian. */
static void
put_varint(struct vb_cs *w, uint64_t v)
{
	unsigned char buf[10];
	int i, n;

	if (v > 0x00ffffffffffffffULL) {
		buf[8] = (unsigned char)v;
		v >>= 8;
		for (i = 7; i >= 0; i--) {
			buf[i] = (unsigned char)((v & 0x7f) | 0x80);
			v >>= 7;
		}
		fwrite(buf, 1, 9, w->fp);
		return;
	}
	n = 0;
	do {
		buf[n++] = (unsigned char)((v & 0x7f) | 0x80);
		v >>= 7;
	} while (v != 0);
	buf[0] &= 0x7f;
	for (i = n - 1; i >= 0; i--)
		putc(buf[i], w->fp);
}

/* Eight bytes, big-endian. */
static void
put_u64(struct vb_cs *w, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--)
		putc((int)(v >> (i * 8) & 0xff), w->fp);
}

/* One value, as the format's record holds it. */
static void
put_value(struct vb_cs *w, sqlite3_value *v)
{
	double d;
	uint64_t u;
	int n;

	switch (sqlite3_value_type(v)) {
	case SQLITE_INTEGER:
		putc(SQLITE_INTEGER, w->fp);
		put_u64(w, (uint64_t)sqlite3_value_int64(v));
		break;
	case SQLITE_FLOAT:
		d = sqlite3_value_double(v);
		memcpy(&u, &d, sizeof(u));
		putc(SQLITE_FLOAT, w->fp);
		put_u64(w, u);
		break;
	case SQLITE_TEXT:
		n = sqlite3_value_bytes(v);
		putc(SQLITE_TEXT, w->fp);
		put_varint(w, (uint64_t)n);
		fwrite(sqlite3_value_text(v), 1, (size_t)n, w->fp);
		break;
	case SQLITE_BLOB:
		n = sqlite3_value_bytes(v);
		putc(SQLITE_BLOB, w->fp);
		put_varint(w, (uint64_t)n);
		if (n > 0)
			fwrite(sqlite3_value_blob(v), 1, (size_t)n, w->fp);
		break;
	default:
		putc(SQLITE_NULL, w->fp);
	}
}

int
vb_cs_open(struct vb_cs *w, const char *path, char *why, size_t wlen)
{
	memset(w, 0, sizeof(*w));
	if ((w->fp = fopen(path, "wbx")) == NULL) {
		snprintf(why, wlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

void
vb_cs_table(struct vb_cs *w, const struct vb_table *t)
{
	int i;

	w->ncols = t->ncols;
	putc('T', w->fp);
	put_varint(w, (uint64_t)t->ncols);
	/* Each column's place in the key; a table without one is
	 * identified by all its columns (vb's own reader knows it). */
	for (i = 0; i < t->ncols; i++)
		putc(t->nkey > 0 ? t->pk[i] : i + 1, w->fp);
	fwrite(t->name, 1, strlen(t->name) + 1, w->fp);
}

void
vb_cs_change(struct vb_cs *w, int op, sqlite3_value **old,
    sqlite3_value **new)
{
	int i;

	putc(op, w->fp);
	putc(0, w->fp);		/* not indirect */
	for (i = 0; old != NULL && i < w->ncols; i++)
		put_value(w, old[i]);
	for (i = 0; new != NULL && i < w->ncols; i++)
		put_value(w, new[i]);
	w->changes++;
}

int
vb_cs_close(struct vb_cs *w, char *why, size_t wlen)
{
	int rc = 0;

	if (w->fp == NULL)
		return 0;
	if (ferror(w->fp) || fflush(w->fp) != 0) {
		snprintf(why, wlen, "writing the changes: %s",
		    strerror(errno != 0 ? errno : EIO));
		rc = -1;
	}
	if (fclose(w->fp) != 0 && rc == 0) {
		snprintf(why, wlen, "writing the changes: %s",
		    strerror(errno));
		rc = -1;
	}
	w->fp = NULL;
	return rc;
}

/* ---- checked whole before SQLite reads it ---- */

/* A buffered reader of fd, hashing every byte it hands out. */
struct rd {
	int			 fd;
	unsigned char		 buf[65536];
	size_t			 len, off;
	int64_t			 total;
	struct vb_sha256	*h;
	int			 err;
};

/* The next byte, or -1 at the end (or on an error: r->err). */
static int
next_byte(struct rd *r)
{
	ssize_t n;

	if (r->off == r->len) {
		do
			n = read(r->fd, r->buf, sizeof(r->buf));
		while (n < 0 && errno == EINTR);
		if (n <= 0) {
			r->err = n < 0 ? errno : 0;
			return -1;
		}
		vb_sha256_update(r->h, r->buf, (size_t)n);
		r->len = (size_t)n;
		r->off = 0;
	}
	r->total++;
	return r->buf[r->off++];
}

/* n bytes skipped; 0, or -1 if the file ends first. */
static int
skip(struct rd *r, uint64_t n)
{
	while (n-- > 0)
		if (next_byte(r) < 0)
			return -1;
	return 0;
}

/* SQLite's varint; 0, or -1 if cut short. */
static int
get_varint(struct rd *r, uint64_t *v)
{
	int i, c;

	*v = 0;
	for (i = 0; i < 9; i++) {
		if ((c = next_byte(r)) < 0)
			return -1;
		if (i == 8) {
			*v = (*v << 8) | (uint64_t)c;
			return 0;
		}
		*v = (*v << 7) | (uint64_t)(c & 0x7f);
		if (!(c & 0x80))
			return 0;
	}
	return 0;
}

/* One record of ncol values (undefined ones allowed with undef). */
static int
get_record(struct rd *r, uint64_t ncol, int undef)
{
	uint64_t i, n;

	for (i = 0; i < ncol; i++) {
		switch (next_byte(r)) {
		case 0:
			if (!undef)
				return -1;
			break;
		case SQLITE_INTEGER:
		case SQLITE_FLOAT:
			if (skip(r, 8) != 0)
				return -1;
			break;
		case SQLITE_TEXT:
		case SQLITE_BLOB:
			if (get_varint(r, &n) != 0 || n > VB_CS_MAX_VALUE ||
			    skip(r, n) != 0)
				return -1;
			break;
		case SQLITE_NULL:
			break;
		default:
			return -1;
		}
	}
	return 0;
}

/* A table header after its 'T': columns, key flags, a name.  0, -1. */
static int
get_table(struct rd *r, uint64_t *ncol)
{
	int c, len = 0;

	if (get_varint(r, ncol) != 0 || *ncol < 1 || *ncol > VB_MAX_COLUMNS ||
	    skip(r, *ncol) != 0)
		return -1;
	while ((c = next_byte(r)) > 0)
		if (++len > 4096)
			return -1;
	return c == 0 && len > 0 ? 0 : -1;
}

int
vb_cs_check(int fd, char hex[VB_SHA256_HEX], int64_t *bytes, char *why,
    size_t wlen)
{
	struct rd *r;
	uint64_t ncol = 0;
	int op, bad = 0;

	if ((r = calloc(1, sizeof(*r))) == NULL || (r->h = vb_sha256_new()) ==
	    NULL) {
		free(r);
		snprintf(why, wlen, "out of memory");
		return -1;
	}
	r->fd = fd;
	while (!bad && (op = next_byte(r)) >= 0) {
		if (op == 'T')
			bad = get_table(r, &ncol) != 0;
		else if (ncol == 0 || (op != SQLITE_INSERT && op !=
		    SQLITE_DELETE && op != SQLITE_UPDATE))
			bad = 1;
		else
			bad = (unsigned)next_byte(r) > 1 || get_record(r, ncol,
			    op == SQLITE_UPDATE) != 0 || (op == SQLITE_UPDATE &&
			    get_record(r, ncol, 1) != 0);
	}
	vb_sha256_final(r->h, hex);
	*bytes = r->total;
	if (r->err != 0)
		snprintf(why, wlen, "reading the undo file: %s",
		    strerror(r->err));
	else if (bad)
		snprintf(why, wlen, "not an undo file: no change can be read "
		    "at byte %lld (cut short, or not a changeset)",
		    (long long)r->total);
	bad |= r->err != 0;
	free(r);
	return bad ? -1 : 0;
}

/* ---- reading, inverted ---- */

/* The stream's input: read(2) of the descriptor, EINTR retried. */
static int
input(void *arg, void *data, int *n)
{
	int fd = *(int *)arg;
	ssize_t got;

	do
		got = read(fd, data, (size_t)*n);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return SQLITE_IOERR;
	*n = (int)got;
	return SQLITE_OK;
}

int
vb_cs_start(sqlite3_changeset_iter **it, int *fd)
{
	return sqlite3changeset_start_strm(it, input, fd);
}
