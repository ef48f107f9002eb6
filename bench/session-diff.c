/*
 * bench/session-diff.c - the session extension's way to diff a table,
 * for bench/diff.sh to set beside vb-restore --diff: sqlite3session_diff
 * of LIVE's table into BACKUP's, then the changeset it would print.
 * Prints the changeset's size and the peak RSS in KiB.  A benchmark
 * helper, not part of vb.
 *
 *   session-diff BACKUP LIVE TABLE
 */
#include <sys/resource.h>

#include <stdio.h>

#include <sqlite3.h>

int
main(int argc, char *argv[])
{
	sqlite3 *db;
	sqlite3_session *s;
	struct rusage ru;
	char *sql, *err = NULL;
	void *cs = NULL;
	int n = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: session-diff backup live table\n");
		return 2;
	}
	if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK || (sql = sqlite3_mprintf("ATTACH %Q AS live",
	    argv[2])) == NULL || sqlite3_exec(db, sql, NULL, NULL, NULL) !=
	    SQLITE_OK || sqlite3session_create(db, "main", &s) != SQLITE_OK ||
	    sqlite3session_attach(s, argv[3]) != SQLITE_OK ||
	    sqlite3session_diff(s, "live", argv[3], &err) != SQLITE_OK ||
	    sqlite3session_changeset(s, &n, &cs) != SQLITE_OK) {
		fprintf(stderr, "session-diff: %s\n", err != NULL ? err :
		    sqlite3_errmsg(db));
		return 1;
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("%d %ld\n", n, ru.ru_maxrss);
	sqlite3_free(cs);
	sqlite3session_delete(s);
	sqlite3_close(db);
	return 0;
}
