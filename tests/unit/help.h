/*
 * unit/help.h - what several unit tests share (help.c): a directory of
 * their own made and removed, listings of backups made up, and real
 * ones: SQLite databases, snapshots and archives made by the library
 * itself, as the nightly makes them.  Linked into every
 * tests/unit-<family> binary; never a test itself.  Each helper fails
 * the test that called it when it cannot do its work.
 */
#ifndef UNIT_HELP_H
#define UNIT_HELP_H

#include "lib/vblib.h"

/* Makes a fresh directory from tmpl (ending XXXXXX); fails the test. */
void	mkdtemp_or_fail(char *tmpl);
/* Removes the test's own directory tree, as rm -rf would. */
void	rm_rf(const char *dir);
/* Fills list with n backups, one a day at 01:00 from ts0, newest first. */
void	days(struct vb_backup *list, int n, time_t ts0, enum vb_kind kind);

/* A test's own place: the backups' directory and the live database. */
struct place {
	char	 top[64];	/* /tmp/vb-unit-XXXXXX */
	char	 dir[128];	/* top/b, mode 0700 */
	char	 db[128];	/* top/app.db */
};

/* Makes pl, its database of rows rows (db_make). */
void	place_make(struct place *pl, int rows);
/* Removes pl and all in it. */
void	place_remove(struct place *pl);
/* The time of night k: 2026-11-01T01:00:00Z, then one a day. */
time_t	night_time(int k);
/* The stem of the backup taken at t: backup-<t's stamp>. */
void	stem_at(time_t t, char *stem, size_t len);
/* A database at path in rollback-journal mode: table t (id INTEGER
 * PRIMARY KEY, v TEXT) of n rows of 200 bytes each. */
void	db_make(const char *path, int n);
/* Runs sql (statements) on the database at path. */
void	db_exec(const char *path, const char *sql);
/* A snapshot of db in dir as the backup taken at t; its path into out. */
void	snap_at(const char *db, const char *dir, time_t t, char *out,
	    size_t len);
/*
 * The nightly's two stages at t: db snapshot into dir, then archived
 * (an uncompressed tar; with every, a delta where the planner says);
 * the snapshot's bytes copied to keep first, unless it is NULL.
 */
void	archive_at(const char *db, const char *dir, time_t t,
	    const struct vb_duration *every, const char *keep,
	    struct vb_compress_result *res);
/* open(2) of path (mode 0600 if made), or the test fails. */
int	open_or_fail(const char *path, int flags);
/* The whole of the file at path (NUL-terminated too), to free; *len. */
char	*slurp(const char *path, size_t *len);
/* Writes len bytes of buf to path, replacing it. */
void	spew(const char *path, const void *buf, size_t len);
/* Flips one byte of the file at path, at off (from the end if < 0). */
void	flip_byte(const char *path, long off);
/* Runs fn(arg) with stdout into a file; returns fn's value and, in
 * *out (to free), what it printed. */
int	capture(int (*fn)(void *), void *arg, char **out);

#endif /* UNIT_HELP_H */
