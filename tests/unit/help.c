/*
 * unit/help.c - what several unit tests share (help.h): a directory of
 * their own made and removed, listings of backups made up, and real
 * databases, snapshots and archives made by the library itself.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "help.h"

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Removes the test's own directory tree, as rm -rf would. */
void
rm_rf(const char *dir)
{
	assert_int_equal(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* Makes a fresh directory for a test. */
void
mkdtemp_or_fail(char *tmpl)
{
	if (mkdtemp(tmpl) == NULL)
		fail_msg("mkdtemp: %s", strerror(errno));
}

/* Fills list with n backups, one a day at 01:00 from ts0, newest first. */
void
days(struct vb_backup *list, int n, time_t ts0, enum vb_kind kind)
{
	int i;

	for (i = 0; i < n; i++) {
		memset(&list[i], 0, sizeof(list[i]));
		list[i].kind = kind;
		list[i].when.tv_sec = ts0 + (time_t)(n - 1 - i) * 86400;
		snprintf(list[i].stem, sizeof(list[i].stem), "b%d", i);
	}
}

/* ---- real databases, snapshots and archives ---- */

time_t
night_time(int k)
{
	return (time_t)1793494800 + (time_t)(k - 1) * 86400;
}

void
stem_at(time_t t, char *stem, size_t len)
{
	struct timespec ts = { t, 0 };
	char s[VB_STAMP_LEN];

	vb_stamp(&ts, s);
	snprintf(stem, len, "backup-%s", s);
}

void
db_exec(const char *path, const char *sql)
{
	char *err = NULL;
	sqlite3 *db;

	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s: %s", path, sql, err != NULL ? err :
		    sqlite3_errmsg(db));
	sqlite3_close(db);
}

void
db_make(const char *path, int n)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "PRAGMA journal_mode=delete; "
	    "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); "
	    "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c "
	    "WHERE i < %d) INSERT INTO t SELECT i, printf('%%0200d', i) "
	    "FROM c", n);
	db_exec(path, sql);
}

void
place_make(struct place *pl, int rows)
{
	memset(pl, 0, sizeof(*pl));
	snprintf(pl->top, sizeof(pl->top), "/tmp/vb-unit-XXXXXX");
	mkdtemp_or_fail(pl->top);
	snprintf(pl->dir, sizeof(pl->dir), "%s/b", pl->top);
	snprintf(pl->db, sizeof(pl->db), "%s/app.db", pl->top);
	if (mkdir(pl->dir, 0700) != 0)
		fail_msg("%s: %s", pl->dir, strerror(errno));
	db_make(pl->db, rows);
}

void
place_remove(struct place *pl)
{
	rm_rf(pl->top);
}

void
snap_at(const char *db, const char *dir, time_t t, char *out, size_t len)
{
	struct vb_snapshot_opts o;
	struct vb_snapshot_result s;
	char stem[64];

	stem_at(t, stem, sizeof(stem));
	snprintf(out, len, "%s/%s.db", dir, stem);
	memset(&o, 0, sizeof(o));
	o.db = db;
	o.out = out;
	if (vb_snapshot(&o, &s) != 0)
		fail_msg("snapshot of %s: %s", db, s.why);
}

void
archive_at(const char *db, const char *dir, time_t t,
    const struct vb_duration *every, const char *keep,
    struct vb_compress_result *res)
{
	struct vb_compress_opts o;
	char path[4096], *buf;
	size_t len;

	snap_at(db, dir, t, path, sizeof(path));
	if (keep != NULL) {
		buf = slurp(path, &len);
		spew(keep, buf, len);
		free(buf);
	}
	memset(&o, 0, sizeof(o));
	o.a.ext = VB_EXT_TAR;
	o.full_every = every;
	if (vb_compress_file(path, NULL, &o, res) != 0)
		fail_msg("archiving %s: %s", path, res->why);
}

int
open_or_fail(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0600);

	if (fd == -1) {
		fail_msg("%s: %s", path, strerror(errno));
		return -1;
	}
	return fd;
}

char *
slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open_or_fail(path, O_RDONLY);

	*len = 0;
	if (fstat(fd, &st) != 0 || (buf = malloc((size_t)st.st_size +
	    1)) == NULL) {
		fail_msg("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (read(fd, buf, (size_t)st.st_size) != st.st_size) {
		fail_msg("%s: %s", path, strerror(errno));
		free(buf);
		return NULL;
	}
	close(fd);
	buf[st.st_size] = '\0';
	*len = (size_t)st.st_size;
	return buf;
}

void
spew(const char *path, const void *buf, size_t len)
{
	int fd = open_or_fail(path, O_WRONLY | O_CREAT | O_TRUNC);

	if (write(fd, buf, len) != (ssize_t)len)
		fail_msg("%s: %s", path, strerror(errno));
	close(fd);
}

void
flip_byte(const char *path, long off)
{
	unsigned char c;
	struct stat st;
	int fd = open_or_fail(path, O_RDWR);

	if (fstat(fd, &st) != 0)
		fail_msg("%s: %s", path, strerror(errno));
	if (off < 0)
		off += (long)st.st_size;
	if (pread(fd, &c, 1, off) != 1)
		fail_msg("%s: %s", path, strerror(errno));
	c ^= 0x55;
	if (pwrite(fd, &c, 1, off) != 1)
		fail_msg("%s: %s", path, strerror(errno));
	close(fd);
}

int
capture(int (*fn)(void *), void *arg, char **out)
{
	char path[] = "/tmp/vb-unit-out-XXXXXX";
	size_t len;
	int fd, saved, rc;

	fflush(stdout);
	if ((fd = mkstemp(path)) == -1) {
		fail_msg("capture: %s", strerror(errno));
		return -1;
	}
	if ((saved = dup(STDOUT_FILENO)) == -1) {
		fail_msg("capture: %s", strerror(errno));
		close(fd);
		return -1;
	}
	dup2(fd, STDOUT_FILENO);
	rc = fn(arg);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(fd);
	*out = slurp(path, &len);
	unlink(path);
	return rc;
}
