/*
 * vb-testwriter - a stand-in for the application: commits small
 * transactions to a database without pause, for tests and benchmarks.
 *
 * Every transaction adds a ledger row and moves its account's balance by
 * the same amount, so a consistent copy always satisfies
 * balance == SUM(ledger.amount) per account; --check verifies exactly that.
 * It reports how many commits it made and its worst commit latency.
 * --hold S keeps a write transaction open for S seconds with a row that
 * breaks the invariant, then rolls it back: no copy may ever see that row.
 */
#define _GNU_SOURCE
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>


#define ACCOUNTS	16

static volatile sig_atomic_t stop;

/* Every commit's latency, for the 99th percentile. */
static int64_t *lats;
static size_t nlats, caplats;

static void
keep_latency(int64_t us)
{
	int64_t *p;

	if (nlats == caplats) {
		caplats = caplats > 0 ? caplats * 2 : 4096;
		if ((p = realloc(lats, caplats * sizeof(*lats))) == NULL)
			err(1, "out of memory");
		lats = p;
	}
	lats[nlats++] = us;
}

static int
by_value(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The 99th percentile of the latencies kept (0 if none). */
static int64_t
p99(void)
{
	if (nlats == 0)
		return 0;
	qsort(lats, nlats, sizeof(*lats), by_value);
	return lats[nlats * 99 / 100];
}

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: vb-testwriter [--setup] [--mode wal|delete] "
	    "[--seconds S] [--count N] [--payload BYTES] [--rate N] [--slow "
	    "US] db\n"
	    "       vb-testwriter --hold S db\n"
	    "       vb-testwriter --check db\n");
	exit(2);
}

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
exec(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		errx(1, "%s: %s", sql, sqlite3_errmsg(db));
}

static int
check(sqlite3 *db)
{
	sqlite3_stmt *st;
	int bad = 0, rows = 0;

	if (sqlite3_prepare_v2(db, "SELECT a.id, a.balance, "
	    "(SELECT COALESCE(SUM(amount), 0) FROM ledger "
	    "WHERE account = a.id) "
	    "FROM accounts a", -1, &st, NULL) != SQLITE_OK)
		errx(1, "check: %s", sqlite3_errmsg(db));
	while (sqlite3_step(st) == SQLITE_ROW) {
		rows++;
		if (sqlite3_column_int64(st, 1) !=
		    sqlite3_column_int64(st, 2)) {
			printf("account %lld: balance %lld, ledger %lld\n",
			    sqlite3_column_int64(st, 0),
			    sqlite3_column_int64(st, 1),
			    sqlite3_column_int64(st, 2));
			bad = 1;
		}
	}
	sqlite3_finalize(st);
	if (rows != ACCOUNTS) {
		printf("%d accounts, expected %d\n", rows, ACCOUNTS);
		bad = 1;
	}
	if (!bad)
		printf("ok\n");
	return bad;
}

/* A non-negative number option, or the usage message. */
static double
number(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < 0)
		usage();
	return v;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "check",	no_argument,		NULL, 'c' },
		{ "count",	required_argument,	NULL, 'n' },
		{ "hold",	required_argument,	NULL, 'H' },
		{ "mode",	required_argument,	NULL, 'm' },
		{ "slow",	required_argument,	NULL, 'L' },
		{ "payload",	required_argument,	NULL, 'p' },
		{ "rate",	required_argument,	NULL, 'r' },
		{ "seconds",	required_argument,	NULL, 's' },
		{ "setup",	no_argument,		NULL, 'S' },
		{ NULL,		0,			NULL, 0 }
	};
	const char *mode = NULL;
	double seconds = 0, hold = 0, rate = 0;
	long count = 0, payload = 200, n = 0, slow = 0;
	int64_t t0, t, lat, worst = 0, total = 0;
	int ch, do_check = 0, setup = 0;
	sqlite3_stmt *ins, *upd;
	char sql[128];
	sqlite3 *db;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': do_check = 1; break;
		case 'L': slow = (long)number(optarg); break;
		case 'r': rate = number(optarg); break;
		case 'm': mode = optarg; break;
		case 'H': hold = number(optarg); break;
		case 'n': count = (long)number(optarg); break;
		case 'p': payload = (long)number(optarg); break;
		case 's': seconds = number(optarg); break;
		case 'S': setup = 1; break;
		default: usage();
		}
	}
	if (argc - optind != 1)
		usage();
	if (sqlite3_open_v2(argv[optind], &db, do_check ? SQLITE_OPEN_READONLY :
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
		errx(1, "%s: %s", argv[optind], sqlite3_errmsg(db));
	sqlite3_busy_timeout(db, 60000);
	if (do_check) {
		ch = check(db);
		sqlite3_close(db);
		return ch;
	}
	if (mode != NULL) {
		snprintf(sql, sizeof(sql), "PRAGMA journal_mode=%s", mode);
		exec(db, sql);
	}
	if (setup) {
		exec(db, "CREATE TABLE IF NOT EXISTS accounts(id INTEGER "
		    "PRIMARY KEY, balance INTEGER NOT NULL);"
		    "CREATE TABLE IF NOT EXISTS ledger(id INTEGER PRIMARY KEY, "
		    "account INTEGER NOT NULL, amount INTEGER NOT NULL, "
		    "note BLOB);CREATE INDEX IF NOT EXISTS ledger_account ON "
		    "ledger(account);"
		    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
		    "FROM n WHERE i < 16) INSERT OR IGNORE INTO accounts "
		    "SELECT i, 0 FROM n;");
		if (seconds == 0 && count == 0) {
			sqlite3_close(db);
			return 0;
		}
	}
	if (hold > 0) {
		struct timespec ts = { (time_t)hold,
		    (long)((hold - (double)(time_t)hold) * 1e9) };

		exec(db, "BEGIN IMMEDIATE; INSERT INTO ledger(account, amount) "
		    "VALUES (1, 999999)");
		printf("holding\n");
		fflush(stdout);
		nanosleep(&ts, NULL);
		exec(db, "ROLLBACK");
		sqlite3_close(db);
		return 0;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	exec(db, "PRAGMA synchronous=NORMAL");
	if (sqlite3_prepare_v2(db, "INSERT INTO ledger(account, amount, note) "
	    "VALUES (?1, ?2, randomblob(?3))", -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "UPDATE accounts SET balance = balance + ?2 "
	    "WHERE id = ?1", -1, &upd, NULL) != SQLITE_OK)
		errx(1, "prepare: %s", sqlite3_errmsg(db));
	srandom((unsigned)now_us());
	t0 = now_us();
	while (!stop && (count == 0 || n < count) &&
	    (seconds == 0 || now_us() - t0 < (int64_t)(seconds * 1e6))) {
		long acct = 1 + random() % ACCOUNTS;
		long amount = random() % 2001 - 1000;

		t = now_us();
		exec(db, "BEGIN IMMEDIATE");
		sqlite3_bind_int64(ins, 1, acct);
		sqlite3_bind_int64(ins, 2, amount);
		sqlite3_bind_int64(ins, 3, payload);
		sqlite3_bind_int64(upd, 1, acct);
		sqlite3_bind_int64(upd, 2, amount);
		if (sqlite3_step(ins) != SQLITE_DONE ||
		    sqlite3_step(upd) != SQLITE_DONE)
			errx(1, "write: %s", sqlite3_errmsg(db));
		sqlite3_reset(ins);
		sqlite3_reset(upd);
		exec(db, "COMMIT");
		lat = now_us() - t;
		/* At most rate commits a second, as a real application. */
		if (rate > 0) {
			int64_t due = t0 +
			    (int64_t)((double)(n + 1) * 1e6 / rate);
			int64_t wait = due - now_us();

			if (wait > 0) {
				struct timespec nap = {
				    (time_t)(wait / 1000000),
				    (long)(wait % 1000000) * 1000 };

				nanosleep(&nap, NULL);
			}
		}
		if (slow > 0 && lat > slow)
			fprintf(stderr, "slow commit at %.3f s: %lld us\n",
			    (double)(t - t0) / 1e6, (long long)lat);
		total += lat;
		if (lat > worst)
			worst = lat;
		keep_latency(lat);
		n++;
	}
	sqlite3_finalize(ins);
	sqlite3_finalize(upd);
	sqlite3_close(db);
	printf("commits=%ld worst_us=%lld mean_us=%lld p99_us=%lld\n", n,
	    (long long)worst, (long long)(n > 0 ? total / n : 0),
	    (long long)p99());
	return 0;
}
