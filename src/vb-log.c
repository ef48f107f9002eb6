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
#include <stdio.h>

#include "lib/vb.h"

#define SYNOPSIS "[-q] db\n       vb-log --show [--failures] [--json] " \
		"[-n count] [--since time] db\n       vb-log --check db\n" \
		"       vb-log (--last-full-check | --last-drill | " \
		"--last-point) db"

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
	    "      --last-full-check\n"
	    "                    print when a snapshot last passed\n"
	    "                    integrity_check (UTC; nothing if never)\n"
	    "      --last-drill  print when a restore drill last proved a\n"
	    "                    backup (UTC; nothing if never)\n"
	    "      --last-point  print when the last point was made (UTC;\n"
	    "                    nothing if never)\n"
	    "      --failures    with --show: failures only\n"
	    "      --json        with --show: a JSON array of rows\n"
	    "  -n, --count N     with --show: at most N rows (default: all;\n"
	    "                    50 on a terminal)\n"
	    "      --since TIME  with --show: rows at or after TIME (UTC,\n"
	    "                    2026-11-27 or 2026-11-27T01:00:00)\n"
	    "      --print-config print the configuration as vb reads it\n"
	    "  -h, --help        this help\n"
	    "  -V, --version     print the version\n\n"
	    "Exit status: 0 done, 1 a record could not be logged (it went\n"
	    "to stderr and syslog), the history could not be read or the\n"
	    "check failed, 2 bad usage or configuration.\n");
}

/* Which time --last-* asks for. */
enum last { NONE, FULL_CHECK, DRILL, POINT };

/* vb-log --last-full-check, --last-drill, --last-point: a time, or
 * nothing. */
static int
last(const char *path, enum last what)
{
	char when[VB_ISO_LEN], why[1024];
	int rc;

	switch (what) {
	case DRILL:
		rc = vb_backuplog_last_drill(path, when, why, sizeof(why));
		break;
	case POINT:
		rc = vb_backuplog_last_point(path, when, why, sizeof(why));
		break;
	default:
		rc = vb_backuplog_last_full_check(path, when, why,
		    sizeof(why));
	}
	if (rc != 0) {
		warnx("%s", why);
		return 1;
	}
	return when[0] != '\0' && printf("%s\n", when) < 0;
}

/*
 * vb-log --check: can the nightly run write its rows?  The finding on
 * stdout either way (a check's report is its output).  The exit status.
 */
static int
check(const char *path)
{
	char found[1024], why[1024];
	int rc = vb_backuplog_check(path, found, sizeof(found), why,
	    sizeof(why));

	return printf("%s\n", rc == 0 ? found : why) < 0 || rc != 0;
}

enum { CHECK = 256, FAILURES, JSON, LAST_DRILL, LAST_FULL, LAST_POINT,
    PRINT_CONFIG, SHOW, SINCE };
static const struct option longopts[] = {
	{ "check",	no_argument,		NULL, CHECK },
	{ "count",	required_argument,	NULL, 'n' },
	{ "failures",	no_argument,		NULL, FAILURES },
	{ "help",	no_argument,		NULL, 'h' },
	{ "json",	no_argument,		NULL, JSON },
	{ "last-drill",	no_argument,		NULL, LAST_DRILL },
	{ "last-full-check", no_argument,	NULL, LAST_FULL },
	{ "last-point",	no_argument,		NULL, LAST_POINT },
	{ "print-config", no_argument,		NULL, PRINT_CONFIG },
	{ "quiet",	no_argument,		NULL, 'q' },
	{ "show",	no_argument,		NULL, SHOW },
	{ "since",	required_argument,	NULL, SINCE },
	{ "version",	no_argument,		NULL, 'V' },
	{ NULL,		0,			NULL, 0 }
};

int
main(int argc, char *argv[])
{
	struct vb_log_query q = { 0, NULL, -1 };
	uint64_t v;
	enum last last_of = NONE;
	int ch, check_mode = 0, json = 0, quiet = 0;
	int show_mode = 0, ret;

	while ((ch = getopt_long(argc, argv, "hn:qV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			help();
			break;
		case 'n':
			if (vb_parse_u64(optarg, &v) != 0 || v < 1 ||
			    v > 1000000000)
				usage("-n needs a count of 1 or more");
			q.count = (int64_t)v;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'V':
			vb_print_version();
			break;
		case CHECK:
			check_mode = 1;
			break;
		case FAILURES:
			q.failures = 1;
			break;
		case JSON:
			json = 1;
			break;
		case LAST_DRILL:
			last_of = DRILL;
			break;
		case LAST_FULL:
			last_of = FULL_CHECK;
			break;
		case LAST_POINT:
			last_of = POINT;
			break;
		case PRINT_CONFIG:
			vb_config_print_exit();
		case SHOW:
			show_mode = 1;
			break;
		case SINCE:
			q.since = optarg;
			break;
		default:
			usage(NULL);
		}
	}
	argc -= optind;
	argv += optind;

	if (argc != 1)
		usage(argc == 0 ? "no database given" : "too many arguments");
	if (!show_mode && (q.failures || json || q.since != NULL ||
	    q.count >= 0))
		usage("--failures, --json, -n and --since go with --show");
	if ((show_mode && quiet) || (check_mode + show_mode + (last_of !=
	    NONE) + quiet > 1))
		usage("-q, --show, --check and --last-* go alone");
	if (q.since != NULL && vb_parse_iso_prefix(q.since) != 0)
		usage("--since wants a UTC time like 2026-11-27 or "
		    "2026-11-27T01:00:00");
	if (*argv[0] == '\0' || vb_has_ctl(argv[0]))
		usage("the database path may not be empty or hold TAB, CR or "
		    "newline");
	vb_config_require();

	if (check_mode)
		ret = check(argv[0]);
	else if (last_of != NONE)
		ret = last(argv[0], last_of);
	else if (show_mode)
		ret = vb_history(argv[0], &q, json);
	else
		ret = vb_log_loop(argv[0], quiet);
	if (vb_close_stdout() != 0)
		ret = 1;
	return ret ? VB_EXIT_FAIL : VB_EXIT_OK;
}
