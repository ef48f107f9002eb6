/*
 * vb-log - records every operation in the BackupLog table of the
 * application's own database, and shows that history.
 *
 * It sits anywhere in a pipe: every line it reads goes on to stdout
 * unchanged.  Records are written in short batches, one transaction each,
 * taken only when there is something to write, never while waiting on
 * stdin.  A record it could not write is never lost silently: it goes to
 * stderr and to syslog, and the exit status says so.
 */
#define _GNU_SOURCE
#include <err.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lib/vb.h"

#define SYNOPSIS "[-q] db\n       vb-log --show [--failures] [--json] " \
		"[-n count] [--since time] db\n       vb-log --check db"
#define BATCH	256

static void __attribute__((noreturn))
usage(const char *why)
{
	vb_usage(SYNOPSIS, why);
}

static void __attribute__((noreturn))
help(void)
{
	vb_help(SYNOPSIS,
	    "Appends one BackupLog row per record read on stdin to db and\n"
	    "passes every line on unchanged; --show prints the history,\n"
	    "newest first (a table on a terminal, records otherwise).\n\n"
	    "  -q, --quiet       pass nothing on to stdout\n"
	    "      --show        print the history instead\n"
	    "      --check       check that db can take BackupLog rows (as\n"
	    "                    this user); write none\n"
	    "      --failures    with --show: failures only\n"
	    "      --json        with --show: a JSON array of rows\n"
	    "  -n, --count N     with --show: at most N rows (default 50)\n"
	    "      --since TIME  with --show: rows at or after TIME (UTC,\n"
	    "                    2026-11-27 or 2026-11-27T01:00:00)\n"
	    "      --print-config print the configuration as vb reads it\n"
	    "  -h, --help        this help\n"
	    "  -V, --version     print the version\n\n"
	    "Exit status: 0 done, 1 a record could not be logged (it went\n"
	    "to stderr and syslog), the history could not be read or the\n"
	    "check failed, 2 bad usage or configuration.\n");
}

/*
 * Writes the batch in one short transaction.  Returns 0, or -1 after
 * reporting every line of it on stderr and to syslog.
 */
static int
flush(struct vb_backuplog *l, char **batch, int n, const char *path)
{
	struct vb_record r;
	char *copy;
	int i, ok = l->db != NULL;

	if (n == 0)
		return 0;
	if (ok && sqlite3_exec(l->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		ok = 0;
	for (i = 0; ok && i < n; i++) {
		if ((copy = strdup(batch[i])) == NULL) {
			ok = 0;
			break;
		}
		vb_record_parse(copy, &r);
		if (vb_backuplog_insert(l, &r) != 0)
			ok = 0;
		free(copy);
	}
	if (ok && sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		ok = 0;
	if (ok)
		return 0;
	if (l->db != NULL) {
		warnx("%s: cannot write BackupLog: %s", path,
		    sqlite3_errmsg(l->db));
		sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
	}
	for (i = 0; i < n; i++) {
		fprintf(stderr, "%s: not logged: %s\n", vb_progname(),
		    batch[i]);
		syslog(LOG_ERR, "not logged in %s: %s", path, batch[i]);
	}
	return -1;
}

/* Returns 1 if stdin has a line ready without waiting. */
static int
more_waiting(void)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static int
log_records(const char *path, int quiet)
{
	struct vb_record r;
	struct vb_backuplog l;
	char *line = NULL, *copy, *batch[BATCH], why[1024];
	size_t cap = 0;
	ssize_t len;
	int n = 0, ret = 0;

	openlog(vb_progname(), LOG_PID, LOG_USER);
	if (vb_backuplog_open(path, &l, why, sizeof(why)) != 0) {
		warnx("%s", why);
		ret = 1;
	}
	while ((len = getline(&line, &cap, stdin)) != -1) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (!quiet && (puts(line) == EOF || fflush(stdout) != 0)) {
			warn("stdout");
			ret = 1;
		}
		if ((copy = strdup(line)) == NULL)
			err(VB_EXIT_FAIL, "out of memory");
		if (vb_record_parse(copy, &r) != VB_LINE_RECORD) {
			if (*line != '\0')
				warnx("not a record, not logged: %.80s", line);
			free(copy);
			continue;
		}
		free(copy);
		if (n == BATCH) {
			if (flush(&l, batch, n, path) != 0)
				ret = 1;
			while (n > 0)
				free(batch[--n]);
		}
		if ((batch[n++] = strdup(line)) == NULL)
			err(VB_EXIT_FAIL, "out of memory");
		/* Write when the pipe is quiet: never hold a lock waiting. */
		if (!more_waiting()) {
			if (flush(&l, batch, n, path) != 0)
				ret = 1;
			while (n > 0)
				free(batch[--n]);
		}
	}
	if (flush(&l, batch, n, path) != 0)
		ret = 1;
	while (n > 0)
		free(batch[--n]);
	free(line);
	vb_backuplog_close(&l);
	closelog();
	return ret;
}

struct show {
	int64_t		 count;
	int		 failures;
	int		 json;
	const char	*since;
};

/* Prints one row as a JSON object (SQL NULL as null). */
static void
show_json(sqlite3_stmt *st, int first)
{
	static const char *keys[VB_LOG_NCOLS] = { "createdAt", "operation",
	    "status", "filename", "sizeBytes", "sha256", "durationMs",
	    "message" };
	int i;

	printf("%s\n  {", first ? "" : ",");
	for (i = 0; i < VB_LOG_NCOLS; i++) {
		printf("%s\"%s\": ", i > 0 ? ", " : "", keys[i]);
		if (sqlite3_column_type(st, i) == SQLITE_NULL)
			fputs("null", stdout);
		else if (sqlite3_column_type(st, i) == SQLITE_INTEGER)
			printf("%lld", sqlite3_column_int64(st, i));
		else
			vb_json_string(stdout,
			    (const char *)sqlite3_column_text(st, i));
	}
	putchar('}');
}

/* Accepts "2026-11-27", "2026-11-27T01:00", ... up to the full form. */
static int
since_ok(const char *t)
{
	static const char shape[] = "DDDD-DD-DDTDD:DD:DD.DDDZ";
	size_t i, n = strlen(t);

	if (n < 10 || n > sizeof(shape) - 1)
		return 0;
	for (i = 0; i < n; i++)
		if (shape[i] == 'D' ? t[i] < '0' || t[i] > '9' : t[i] != shape[i])
			return 0;
	return 1;
}

/* A column's text with TAB, CR and newline made spaces, into buf. */
static const char *
text(sqlite3_stmt *st, int i, char *buf, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	size_t j;

	if (t == NULL)
		return NULL;
	snprintf(buf, len, "%s", (const char *)t);
	for (j = 0; buf[j] != '\0'; j++)
		if (buf[j] == '\t' || buf[j] == '\n' || buf[j] == '\r')
			buf[j] = ' ';
	return buf;
}

/* Prints one row: aligned on a terminal, a record otherwise. */
static int
show_row(sqlite3_stmt *st, int tty)
{
	char when[64], op[32], status[32], file[4096], sha[128], msg[4096];
	char size[32];
	const char *f, *sh;
	struct vb_record r;

	text(st, 0, when, sizeof(when));
	text(st, 1, op, sizeof(op));
	text(st, 2, status, sizeof(status));
	f = text(st, 3, file, sizeof(file));
	sh = text(st, 5, sha, sizeof(sha));
	if (text(st, 7, msg, sizeof(msg)) == NULL)
		msg[0] = '\0';
	if (tty) {
		if (sqlite3_column_type(st, 4) == SQLITE_NULL)
			snprintf(size, sizeof(size), "-");
		else
			vb_human_bytes((uint64_t)sqlite3_column_int64(st, 4),
			    size, sizeof(size));
		return printf("%-24s  %-9s  %-7s  %10s  %7lld ms  %s%s%s\n",
		    when, op, status, size,
		    (long long)sqlite3_column_int64(st, 6),
		    f != NULL ? f : "-", msg[0] != '\0' ? "  " : "", msg) < 0;
	}
	memset(&r, 0, sizeof(r));
	r.path = f != NULL && *f != '\0' ? file : (char *)"-";
	snprintf(r.op, sizeof(r.op), "%s", op);
	r.ok = strcmp(status, "success") == 0;
	r.bytes = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 :
	    sqlite3_column_int64(st, 4);
	if (sh != NULL && strlen(sh) == VB_SHA256_HEX - 1)
		memcpy(r.sha256, sh, VB_SHA256_HEX);
	r.ms = sqlite3_column_type(st, 6) == SQLITE_NULL ? -1 :
	    sqlite3_column_int64(st, 6);
	snprintf(r.time, sizeof(r.time), "%s", when);
	r.msg = msg;
	return vb_record_write(stdout, &r);
}

/* vb-log --show: the history, newest first.  Returns the exit status. */
static int
show(const char *path, const struct show *s)
{
	const char *have[VB_LOG_NCOLS];
	char why[1024], sql[1024];
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	size_t i;
	int rc, ret = 0, n = 0, tty = isatty(STDOUT_FILENO);

	if ((db = vb_db_open_ro(path, why, sizeof(why))) == NULL) {
		warnx("%s", why);
		return 1;
	}
	if (vb_backuplog_columns(db, have) != 0 || have[0] == NULL) {
		warnx("%s: no BackupLog table with a createdAt column", path);
		sqlite3_close(db);
		return 1;
	}
	snprintf(sql, sizeof(sql), "SELECT ");
	for (i = 0; i < VB_LOG_NCOLS; i++)
		snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql),
		    "%s%s%s%s", i > 0 ? ", " : "", have[i] != NULL ? "\"" : "",
		    have[i] != NULL ? have[i] : "NULL",
		    have[i] != NULL ? "\"" : "");
	snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql),
	    " FROM BackupLog WHERE %s AND (?1 IS NULL OR \"%s\" >= ?1) "
	    "ORDER BY \"%s\" DESC, rowid DESC LIMIT ?2",
	    s->failures && have[2] != NULL ? "\"status\" <> 'success'" : "1",
	    have[0], have[0]);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		warnx("%s: %s", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return 1;
	}
	if (s->since != NULL)
		sqlite3_bind_text(st, 1, s->since, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, s->count);
	if (s->json)
		tty = 0;
	if (tty)
		printf("%-24s  %-9s  %-7s  %10s  %10s  %s\n", "createdAt",
		    "operation", "status", "size", "duration", "file  message");
	if (s->json)
		putchar('[');
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (s->json)
			show_json(st, n++ == 0);
		else if (show_row(st, tty) != 0) {
			warn("stdout");
			ret = 1;
			break;
		}
	}
	if (s->json)
		printf("%s]\n", n > 0 ? "\n" : "");
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		warnx("%s: %s", path, sqlite3_errmsg(db));
		ret = 1;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return ret;
}

/* vb-log --check: can the nightly run write its rows?  The exit status. */
static int
check(const char *path)
{
	char msg[1024];

	if (vb_backuplog_check(path, msg, sizeof(msg)) != 0) {
		warnx("%s", msg);
		return 1;
	}
	return printf("%s\n", msg) < 0;
}

int
main(int argc, char *argv[])
{
	enum { CHECK = 256, PRINT_CONFIG };
	static const struct option longopts[] = {
		{ "check",	no_argument,		NULL, CHECK },
		{ "count",	required_argument,	NULL, 'n' },
		{ "failures",	no_argument,		NULL, 'f' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "print-config", no_argument,		NULL, PRINT_CONFIG },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "show",	no_argument,		NULL, 's' },
		{ "since",	required_argument,	NULL, 'S' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	struct show s;
	uint64_t v;
	int ch, check_mode = 0, quiet = 0, show_mode = 0, ret;

	memset(&s, 0, sizeof(s));
	s.count = 50;
	while ((ch = getopt_long(argc, argv, "hn:qV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			s.failures = 1;
			break;
		case 'h':
			help();
			break;
		case 'j':
			s.json = 1;
			break;
		case 'n':
			if (vb_parse_u64(optarg, &v) != 0 || v < 1 ||
			    v > 1000000000)
				usage("-n needs a count of 1 or more");
			s.count = (int64_t)v;
			break;
		case 'q':
			quiet = 1;
			break;
		case 's':
			show_mode = 1;
			break;
		case 'S':
			s.since = optarg;
			break;
		case 'V':
			vb_print_version();
			break;
		case CHECK:
			check_mode = 1;
			break;
		case PRINT_CONFIG:
			vb_config_print_exit();
		default:
			usage(NULL);
		}
	}
	argc -= optind;
	argv += optind;

	if (argc != 1)
		usage(argc == 0 ? "no database given" : "too many arguments");
	if (!show_mode && (s.failures || s.json || s.since != NULL ||
	    s.count != 50))
		usage("--failures, --json, -n and --since go with --show");
	if (show_mode && quiet)
		usage("-q makes no sense with --show");
	if (check_mode && (show_mode || quiet))
		usage("--check goes alone");
	if (s.since != NULL && !since_ok(s.since))
		usage("--since wants a UTC time like 2026-11-27 or "
		    "2026-11-27T01:00:00");
	if (*argv[0] == '\0' || vb_has_ctl(argv[0]))
		usage("the database path may not be empty or hold TAB, CR or "
		    "newline");

	vb_config_require();

	if (check_mode)
		ret = check(argv[0]);
	else
		ret = show_mode ? show(argv[0], &s) :
		    log_records(argv[0], quiet);
	if (vb_close_stdout() != 0)
		ret = 1;
	return ret ? VB_EXIT_FAIL : VB_EXIT_OK;
}
