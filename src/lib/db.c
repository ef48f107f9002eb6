/*
 * db.c - SQLite helpers shared by the tools.
 *
 * Opening a live database is where most surprises live: a path that does
 * not exist must not become an empty database, a file that is not SQLite
 * must be named as such, and a WAL database in a directory we may not
 * write must say so rather than fail obscurely.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vblib.h"

static const char magic[16] = "SQLite format 3";	/* with its NUL */

/* Reads the first 100 bytes (the header); returns bytes read or -1. */
static ssize_t
read_header(const char *path, unsigned char *hdr)
{
	ssize_t n, got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while (got < 100) {
		n = read(fd, hdr + got, (size_t)(100 - got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	return got;
}

/*
 * vb_db_check_file of the file at real (named path in why), handing back
 * the header it read.
 */
static int
check_header(const char *path, const char *real, unsigned char *hdr,
    char *why, size_t wlen)
{
	struct stat st;
	ssize_t n;

	if (stat(real, &st) != 0) {
		snprintf(why, wlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, wlen, "%s: not a regular file", path);
		return -1;
	}
	if ((n = read_header(real, hdr)) < 0) {
		snprintf(why, wlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (n == 0) {
		snprintf(why, wlen, "%s: empty file, not a SQLite database",
		    path);
		return -1;
	}
	if (n < 100 || memcmp(hdr, magic, sizeof(magic)) != 0) {
		snprintf(why, wlen, "%s: not a SQLite database", path);
		return -1;
	}
	return 0;
}

int
vb_db_check_file(const char *path, char *why, size_t wlen)
{
	unsigned char hdr[100];

	return check_header(path, path, hdr, why, wlen);
}

/*
 * The live database at path walked (vb_path_walk: no link another user
 * made) and checked (vb_db_check_file): its path rid of links into real,
 * what it is into st.  Returns 0, or -1 with why.
 */
static int
walk_live(const char *path, char *real, size_t rlen, struct stat *st,
    char *why, size_t wlen)
{
	unsigned char hdr[100];
	int r, e;

	r = vb_path_walk(path, real, rlen, st, why, wlen);
	e = r == 1 ? ENOENT : errno;
	if (r == -2)
		return -1;
	/* Missing or unreachable: said as stat(2) says it, as ever. */
	if (r != 0) {
		if (check_header(path, path, hdr, why, wlen) == 0)
			snprintf(why, wlen, "%s: %s", path, strerror(e));
		return -1;
	}
	return check_header(path, real, hdr, why, wlen);
}

int
vb_db_check_live(const char *path, char *real, size_t rlen, char *why,
    size_t wlen)
{
	char buf[4096];
	struct stat st;

	if (real == NULL) {
		real = buf;
		rlen = sizeof(buf);
	}
	return walk_live(path, real, rlen, &st, why, wlen);
}

/* Returns 1 if the header of path marks it as a WAL database. */
static int
is_wal(const char *path)
{
	unsigned char hdr[100];

	return read_header(path, hdr) == 100 && hdr[18] == 2 && hdr[19] == 2;
}

/*
 * SQLite's own busy handler sleeps 1, 2, 5 ... 100 ms between tries.  A
 * rollback-journal writer that commits without pause holds its PENDING
 * lock for all but a few microseconds at a time, so a reader polling that
 * slowly may starve for many seconds.  Polling every ~250 us (jittered, so
 * as not to beat in step with the writer) gets in at the first gap and
 * costs only a failed fcntl() per try.
 */
static int
busy(void *arg, int n)
{
	struct timespec ts = { 0, 150000 + (n * 7919L) % 200000 };
	int64_t *deadline = arg;

	if (n == 0)
		*deadline = vb_monotonic_ms() + vb_busy_ms();
	if (vb_monotonic_ms() >= *deadline)
		return 0;
	nanosleep(&ts, NULL);
	return 1;
}

int64_t
vb_busy_ms(void)
{
	const char *v = vb_config("VB_BUSY_MS");
	uint64_t ms;

	if (v != NULL && vb_parse_u64(v, &ms) == 0 && ms <= 3600000)
		return (int64_t)ms;
	return VB_BUSY_MS;
}

void
vb_db_busy(sqlite3 *db)
{
	static int64_t deadline;

	sqlite3_busy_handler(db, busy, &deadline);
}

sqlite3 *
vb_db_open_live(const char *path, int flags, char *why, size_t wlen)
{
	char real[4096], dir[4096], base[256];
	struct stat st, now;
	sqlite3 *db = NULL;
	int64_t v;

	if (walk_live(path, real, sizeof(real), &st, why, wlen) != 0)
		return NULL;
	/*
	 * Without CREATE: a missing file is never created.  The walked
	 * path holds no link, and NOFOLLOW makes SQLite refuse one planted
	 * since (it looks at every component).
	 */
	if (sqlite3_open_v2(real, &db, flags | SQLITE_OPEN_NOFOLLOW, NULL) !=
	    SQLITE_OK)
		goto fail;
	vb_db_busy(db);
	/* Opening is lazy: read the schema to find out whether it works. */
	if (vb_db_int(db, "PRAGMA schema_version", &v) != 0)
		goto fail;
	/* The file opened is the one walked: a swap since is refused. */
	if (lstat(real, &now) != 0 || now.st_dev != st.st_dev ||
	    now.st_ino != st.st_ino) {
		snprintf(why, wlen, "%s: the file was replaced while vb opened "
		    "it; try again, and look for who swaps it", path);
		sqlite3_close(db);
		return NULL;
	}
	return db;
fail:
	if (is_wal(real) && vb_path_split(real, dir, sizeof(dir), base,
	    sizeof(base)) == 0 && access(dir, W_OK) != 0)
		snprintf(why, wlen, "%s: cannot open WAL database: SQLite "
		    "needs to create or write %s-shm, and directory %s is not "
		    "writable by this user (%s)", path, base, dir,
		    db != NULL ? sqlite3_errmsg(db) : "open failed");
	else
		snprintf(why, wlen, "%s: %s", path,
		    db != NULL ? sqlite3_errmsg(db) : "out of memory");
	sqlite3_close(db);
	return NULL;
}

sqlite3 *
vb_db_open_ro(const char *path, char *why, size_t wlen)
{
	sqlite3 *db = vb_db_open_live(path, SQLITE_OPEN_READONLY, why, wlen);

	if (db != NULL)
		sqlite3_extended_result_codes(db, 1);
	return db;
}

int
vb_db_text(sqlite3 *db, const char *sql, char *out, size_t len)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		snprintf(out, len, "%s", t != NULL ? (const char *)t : "");
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

int
vb_db_int(sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

int64_t
vb_db_count(sqlite3 *db, char *sql)
{
	int64_t n = -1;

	if (sql == NULL || vb_db_int(db, sql, &n) != 0)
		n = -1;
	sqlite3_free(sql);
	return n;
}

/*
 * Runs the check and writes "ok" or the first problem into out.  Returns
 * 0 if ok, 1 if not, -1 on error.
 */
static int
run_check(sqlite3 *db, enum vb_check check, char *out, size_t len)
{
	int64_t n;

	if (check == VB_CHECK_OPEN) {
		/* Page 1 and the whole schema, parsed: SQLite takes it. */
		if (vb_db_int(db, "SELECT count(*) FROM sqlite_master", &n) !=
		    0) {
			snprintf(out, len, "%s", sqlite3_errmsg(db));
			return 1;
		}
		snprintf(out, len, "ok");
		return 0;
	}
	if (vb_db_text(db, check == VB_CHECK_FULL ? "PRAGMA integrity_check" :
	    "PRAGMA quick_check", out, len) != 0) {
		snprintf(out, len, "%s", sqlite3_errmsg(db));
		return -1;
	}
	return strcmp(out, "ok") == 0 ? 0 : 1;
}

const char *
vb_check_name(enum vb_check check)
{
	return check == VB_CHECK_FULL ? "integrity_check" :
	    check == VB_CHECK_QUICK ? "quick_check" : "schema read";
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

int
vb_db_header(const char *path, struct vb_dbinfo *info, char *why,
    size_t wlen)
{
	unsigned char hdr[100];
	uint32_t v;

	if (check_header(path, path, hdr, why, wlen) != 0)
		return -1;
	memset(info, 0, sizeof(*info));
	info->page_size = hdr[16] << 8 | hdr[17];
	if (info->page_size == 1)
		info->page_size = 65536;
	/* The in-header size is valid only if written by a recent SQLite. */
	info->page_count = be32(hdr + 24) == be32(hdr + 92) ?
	    (int64_t)be32(hdr + 28) : -1;
	v = be32(hdr + 96);
	snprintf(info->sqlite_version, sizeof(info->sqlite_version),
	    "%u.%u.%u", v / 1000000, v / 1000 % 1000, v % 1000);
	snprintf(info->journal_mode, sizeof(info->journal_mode), "%s",
	    hdr[18] == 2 ? "wal" : "delete");
	return 0;
}

void
vb_db_uri(const char *path, const char *query, char *uri, size_t len)
{
	char *q = uri;
	const char *p;

	q += snprintf(uri, len, "file:");
	for (p = path; *p != '\0' && q < uri + len - 32 - strlen(query);
	    p++) {
		if (*p == '%' || *p == '?' || *p == '#')
			q += sprintf(q, "%%%02X", (unsigned char)*p);
		else
			*q++ = *p;
	}
	snprintf(q, (size_t)(uri + len - q), "?%s", query);
}

sqlite3 *
vb_db_open_immutable(const char *path, char *why, size_t wlen)
{
	char uri[8300];
	sqlite3 *db = NULL;

	vb_db_uri(path, "immutable=1", uri, sizeof(uri));
	if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
	    NULL) != SQLITE_OK) {
		snprintf(why, wlen, "%s", db != NULL ? sqlite3_errmsg(db) :
		    "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

int
vb_db_check_path(const char *path, enum vb_check check, char *out,
    size_t len)
{
	sqlite3 *db;
	int rc;

	/*
	 * Read by pread, never mapped: the pages of a mapped file count in
	 * the resident memory of the job (a drill mapping two restored
	 * copies was a GiB each), for a fifth of integrity_check's time.
	 */
	if ((db = vb_db_open_immutable(path, out, len)) == NULL)
		return -1;
	rc = run_check(db, check, out, len);
	sqlite3_close(db);
	return rc;
}

int
vb_db_backup(sqlite3 *dst, sqlite3 *src)
{
	sqlite3_backup *b;
	int rc;

	if ((b = sqlite3_backup_init(dst, "main", src, "main")) == NULL)
		return sqlite3_errcode(dst);
	rc = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	return rc;
}

/* vb_backup_time(): the backup's time, in datetime()'s form. */
static void
backup_time(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	(void)argv;
	sqlite3_result_text(ctx, sqlite3_user_data(ctx), -1, SQLITE_TRANSIENT);
}

int
vb_db_backup_time(sqlite3 *db, const struct timespec *when)
{
	struct tm tm;
	time_t t = when->tv_sec;
	char *text;

	if (gmtime_r(&t, &tm) == NULL || (text = sqlite3_mprintf(
	    "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec)) == NULL)
		return -1;
	/* The text is the function's: freed with it (or now, on failure). */
	return sqlite3_create_function_v2(db, "vb_backup_time", 0,
	    SQLITE_UTF8 | SQLITE_DETERMINISTIC, text, backup_time, NULL, NULL,
	    sqlite3_free) == SQLITE_OK ? 0 : -1;
}

int
vb_db_query_check(const char *path, const char *sql, char *why, size_t wlen)
{
	struct timespec now;
	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	sqlite3 *db;
	int rc = -1;

	if ((db = vb_db_open_ro(path, why, wlen)) == NULL)
		return 1;
	clock_gettime(CLOCK_REALTIME, &now);
	if (vb_db_backup_time(db, &now) != 0)
		snprintf(why, wlen, "vb_backup_time(): %s", sqlite3_errmsg(db));
	else if (sqlite3_prepare_v2(db, sql, -1, &st, &tail) != SQLITE_OK)
		snprintf(why, wlen, "%s", sqlite3_errmsg(db));
	else if (st == NULL)
		snprintf(why, wlen, "it holds no statement");
	else if (tail != NULL && tail[strspn(tail, " \t\r\n;")] != '\0')
		snprintf(why, wlen, "it holds more than one statement");
	else if (!sqlite3_stmt_readonly(st))
		snprintf(why, wlen, "it would write: a drill only reads");
	else if (sqlite3_column_count(st) == 0)
		snprintf(why, wlen, "it is not a query (it returns no column)");
	else
		rc = 0;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}
