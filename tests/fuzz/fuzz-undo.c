/*
 * fuzz-undo.c - libFuzzer target for vb-restore --undo (undo.c over
 * changeset.c and match.c): any bytes as an undo file, applied as a dry
 * run to a small live database of every shape of table (a rowid key, a
 * TEXT key holding NULL, a composite key, WITHOUT ROWID, no key, a
 * foreign key, BackupLog), whose BackupLog vouches for those very bytes
 * (so that the applier, not only the check, is reached).  It must never
 * crash nor hang, and a dry run must leave the database exactly as it
 * was: a difference aborts.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/vblib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SCHEMA \
	"PRAGMA journal_mode=wal;" \
	"CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT, a BLOB);" \
	"CREATE TABLE kv(k TEXT PRIMARY KEY, v);" \
	"CREATE TABLE \"Or'ders\"(shop TEXT, n INT, t REAL, " \
	"PRIMARY KEY(shop, n));" \
	"CREATE TABLE w(k TEXT PRIMARY KEY, v) WITHOUT ROWID;" \
	"CREATE TABLE log(msg TEXT, n INT);" \
	"CREATE TABLE child(id INTEGER PRIMARY KEY, " \
	"uid INTEGER REFERENCES USERS(id));" \
	"CREATE TABLE BackupLog(id INTEGER PRIMARY KEY, createdAt TEXT, " \
	"operation TEXT, status TEXT, filename TEXT, message TEXT);" \
	"INSERT INTO users VALUES (1, 'a', x'00'), (2, NULL, NULL);" \
	"INSERT INTO kv VALUES (NULL, 1), ('b', 'x');" \
	"INSERT INTO \"Or'ders\" VALUES ('s', 1, 1.5), ('s', 2, NULL);" \
	"INSERT INTO w VALUES ('a', 1);" \
	"INSERT INTO log VALUES ('m', 1), ('m', 1), (NULL, NULL);" \
	"INSERT INTO child VALUES (1, 1);"

/* Every row of every table, as one comparable string. */
#define STATE \
	"SELECT group_concat(x, '|') FROM (" \
	"SELECT quote(id) || quote(email) || quote(a) AS x FROM users " \
	"UNION ALL SELECT quote(k) || quote(v) FROM kv " \
	"UNION ALL SELECT quote(shop) || quote(n) || quote(t) FROM " \
	"\"Or'ders\" UNION ALL SELECT quote(k) || quote(v) FROM w " \
	"UNION ALL SELECT quote(msg) || quote(n) FROM log " \
	"UNION ALL SELECT quote(id) || quote(uid) FROM child " \
	"UNION ALL SELECT quote(id) || quote(message) FROM BackupLog " \
	"ORDER BY 1)"

static char dir[64], live[128], file[192], before[4096];

/* The database's rows now, into out. */
static void
state(char *out, size_t len)
{
	sqlite3 *db;

	if (sqlite3_open(live, &db) != SQLITE_OK ||
	    vb_db_text(db, STATE, out, len) != 0)
		abort();
	sqlite3_close(db);
}

/* Runs sql on the live database; aborts if it fails. */
static void
sql(const char *q)
{
	sqlite3 *db;

	if (sqlite3_open(live, &db) != SQLITE_OK ||
	    sqlite3_exec(db, q, NULL, NULL, NULL) != SQLITE_OK)
		abort();
	sqlite3_close(db);
}

/* A restore row in BackupLog naming the file with these bytes' hash. */
static void
vouch(const uint8_t *data, size_t size)
{
	struct vb_sha256 *h = vb_sha256_new();
	char hex[VB_SHA256_HEX], *q;

	if (h == NULL)
		abort();
	vb_sha256_update(h, data, size);
	vb_sha256_final(h, hex);
	q = sqlite3_mprintf("INSERT INTO BackupLog(createdAt, operation, "
	    "status, filename, message) VALUES ('2026-01-01T00:00:00.000Z', "
	    "'restore', 'success', %Q, 'fuzz; undo-sha256=%s; undo=%s')", live,
	    hex, file);
	if (q == NULL)
		abort();
	sql(q);
	sqlite3_free(q);
}

static void
setup(void)
{
	sqlite3 *db;

	snprintf(dir, sizeof(dir), "/tmp/vb-fuzz-undo.XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(live, sizeof(live), "%s/live.db", dir);
	snprintf(file, sizeof(file), "%s/undo-2026-01-01T00-00-00-000Z."
	    "changeset", dir);
	if (sqlite3_open(live, &db) != SQLITE_OK ||
	    sqlite3_exec(db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK)
		abort();
	sqlite3_close(db);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vb_partial_result res;
	struct vb_undo_opts o;
	char after[4096];
	int fd;

	if (dir[0] == '\0')
		setup();
	if ((fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0 ||
	    (size > 0 && write(fd, data, size) != (ssize_t)size) ||
	    close(fd) != 0)
		abort();
	/* The restore row that vouches for these bytes, as vb writes it. */
	vouch(data, size);
	state(before, sizeof(before));
	memset(&o, 0, sizeof(o));
	o.file = file;
	o.db = live;
	o.dir = dir;
	o.force = size > 0 && (data[size - 1] & 1);
	o.dry = 1;
	vb_undo(&o, &res);
	state(after, sizeof(after));
	if (strcmp(before, after) != 0)
		abort();
	sql("DELETE FROM BackupLog");
	return 0;
}
