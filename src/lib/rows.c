/*
 * rows.c - each table's row count, as the manifest records it, and a
 * sudden loss of rows between two backups.
 *
 * vb-compress counts the snapshot's rows on a thread of its own while it
 * hashes or plans (the core the compression leaves), and the manifest
 * says them as "rows: <count> <table>" lines.  A restore drill compares
 * its restored copy with them.  After each archive, the counts are kept
 * beside the backups (.vb-rows: the backup's stem, then its counts) so
 * that the next backup, even an encrypted one, is compared with them: a
 * table that lost more than half its rows (and at least VB_LOSS_MIN)
 * puts a hold on the backup before the loss (hold.c) and is said.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "vblib.h"

#define ROWS_STATE	".vb-rows"

/* ---- counting ---- */

/* Appends "count name\n" to r; a name that cannot be a line, or does
 * not fit, is counted as omitted. */
static void
add(struct vb_rows *r, const char *name, int64_t count)
{
	size_t used = strlen(r->text);
	int n;

	if (*name == '\0' || vb_has_ctl(name)) {
		r->omitted++;
		return;
	}
	n = snprintf(r->text + used, sizeof(r->text) - used, "%" PRId64
	    " %s\n", count, name);
	if (n < 0 || (size_t)n >= sizeof(r->text) - used) {
		r->text[used] = '\0';
		r->omitted++;
		return;
	}
	r->tables++;
}

int
vb_rows_count(const char *path, struct vb_rows *r, char *why, size_t wlen)
{
	sqlite3 *db;
	int rc;

	memset(r, 0, sizeof(*r));
	/* A snapshot or a restored copy: nobody writes it, nothing beside. */
	if ((db = vb_db_open_immutable(path, why, wlen)) == NULL)
		return -1;
	rc = vb_rows_count_db(db, path, r, why, wlen);
	sqlite3_close(db);
	return rc;
}

int
vb_rows_count_db(sqlite3 *db, const char *path, struct vb_rows *r,
    char *why, size_t wlen)
{
	sqlite3_stmt *names = NULL;
	char *sql;
	int64_t count;
	int rc = -1, step;

	memset(r, 0, sizeof(*r));
	/* Virtual tables need their module, which a restore may lack. */
	if (sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema WHERE "
	    "type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND "
	    "sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name", -1, &names,
	    NULL) != SQLITE_OK)
		goto out;
	while ((step = sqlite3_step(names)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(names,
		    0);

		if (name == NULL)
			continue;
		if ((sql = sqlite3_mprintf("SELECT count(*) FROM \"%w\"",
		    name)) == NULL || vb_db_int(db, sql, &count) != 0) {
			sqlite3_free(sql);
			goto out;
		}
		sqlite3_free(sql);
		add(r, name, count);
	}
	if (step == SQLITE_DONE) {
		r->known = 1;
		rc = 0;
	}
out:
	if (rc != 0)
		snprintf(why, wlen, "%s: counting rows: %s", path,
		    sqlite3_errmsg(db));
	sqlite3_finalize(names);
	return rc;
}

/*
 * "count name" in the len bytes at s: the count into *count, the name
 * into name.  Returns 0, or -1 if it is not such a line.
 */
static int
split(const char *s, size_t len, int64_t *count, char *name, size_t nlen)
{
	const char *sp = memchr(s, ' ', len);
	char num[32];
	uint64_t u;

	if (sp == NULL || sp == s || (size_t)(sp - s) >= sizeof(num) ||
	    (size_t)(s + len - sp - 1) == 0 ||
	    (size_t)(s + len - sp - 1) >= nlen)
		return -1;
	memcpy(num, s, (size_t)(sp - s));
	num[sp - s] = '\0';
	if (vb_parse_u64(num, &u) != 0 || u > INT64_MAX)
		return -1;
	*count = (int64_t)u;
	snprintf(name, nlen, "%.*s", (int)(s + len - sp - 1), sp + 1);
	return 0;
}

int
vb_rows_next(const char **p, char *name, size_t nlen, int64_t *count)
{
	const char *nl = strchr(*p, '\n');

	if (nl == NULL || split(*p, (size_t)(nl - *p), count, name, nlen) != 0)
		return 0;
	*p = nl + 1;
	return 1;
}

int64_t
vb_rows_get(const struct vb_rows *r, const char *table)
{
	const char *p = r->text;
	char name[512];
	int64_t n;

	while (vb_rows_next(&p, name, sizeof(name), &n))
		if (strcmp(name, table) == 0)
			return n;
	return -1;
}

int
vb_rows_add_line(struct vb_rows *r, const char *line)
{
	char name[512];
	int64_t count;

	if (split(line, strlen(line), &count, name, sizeof(name)) != 0)
		return -1;
	add(r, name, count);
	r->known = 1;
	return 0;
}

/* ---- on a thread beside the compression ---- */

static void *
count_main(void *arg)
{
	struct vb_rows_job *rj = arg;

	rj->rc = vb_rows_count(rj->path, &rj->rows, rj->why, sizeof(rj->why));
	return NULL;
}

void
vb_rows_start(struct vb_rows_job *rj, const char *path)
{
	memset(rj, 0, sizeof(*rj));
	rj->path = path;
	rj->state = pthread_create(&rj->th, NULL, count_main, rj) == 0;
}

int
vb_rows_end(struct vb_rows_job *rj)
{
	if (rj->state == 1)
		pthread_join(rj->th, NULL);
	else if (rj->state == 0 && rj->path != NULL)
		count_main(rj);
	rj->state = 2;
	return rj->rc;
}

/* ---- a sudden loss ---- */

/* The counts kept for the last backup: its stem into stem. 0, or -1. */
static int
read_state(const char *dir, char *stem, size_t slen, struct vb_rows *r)
{
	char path[4200], buf[VB_ROWS_LEN + 128], *nl, *p;
	ssize_t n;
	int fd;

	memset(r, 0, sizeof(*r));
	if (vb_path_join(path, sizeof(path), dir, ROWS_STATE) != 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((nl = strchr(buf, '\n')) == NULL)
		return -1;
	*nl = '\0';
	snprintf(stem, slen, "%s", buf);
	for (p = nl + 1; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		if (vb_rows_add_line(r, p) != 0)
			return -1;
	}
	return 0;
}

/* The first table that lost more than half its rows (and VB_LOSS_MIN);
 * its words into text.  Returns 1 if there is one. */
static int
lost(const struct vb_rows *before, const struct vb_rows *now,
    const char *was, const char *is, char *text, size_t len)
{
	const char *p = before->text;
	char name[512];
	int64_t b, n;
	int found = 0, more = 0;

	while (vb_rows_next(&p, name, sizeof(name), &b)) {
		n = vb_rows_get(now, name);
		if (n < 0)
			n = 0;	/* a table dropped lost all its rows */
		if (b - n < VB_LOSS_MIN || n * 2 >= b)
			continue;
		if (found) {
			more++;
			continue;
		}
		found = 1;
		snprintf(text, len, "sudden loss: table %s has %" PRId64
		    " rows in %s, %" PRId64 " in %s before it (%" PRId64
		    " gone)", name, n, is, b, was, b - n);
	}
	if (more > 0)
		vb_appendf(text, len, ", and %d more table%s lost over half",
		    more, more == 1 ? "" : "s");
	return found;
}

int
vb_rows_loss(const char *dir, const char *stem, const struct vb_rows *now,
    char *warning, size_t wlen, char *why, size_t ylen)
{
	struct vb_rows before;
	char was[80], text[VB_ROWS_LEN + 128];
	int n;

	warning[0] = '\0';
	if (!now->known)
		return 0;
	if (read_state(dir, was, sizeof(was), &before) == 0) {
		if (strcmp(was, stem) > 0)
			return 0;	/* a newer backup's counts stay */
		/* Compared with the backup before this one only. */
		if (strcmp(was, stem) < 0 && lost(&before, now, was, stem,
		    warning, wlen)) {
			if (vb_hold_set(dir, was, stem, warning, why,
			    ylen) != 0)
				return -1;
			vb_appendf(warning, wlen, "; retention keeps %s until "
			    "released (vb-prune --release %s)", was, was);
		}
	}
	n = snprintf(text, sizeof(text), "%s\n%s", stem, now->text);
	if (n < 0 || (size_t)n >= sizeof(text))
		return 0;
	return vb_tmp_write(dir, ROWS_STATE, text, (size_t)n, why, ylen);
}
