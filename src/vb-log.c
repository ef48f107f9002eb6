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
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/vb.h"

#define SYNOPSIS "[-q] db\n       vb-log --show [--failures] [--json] " \
		"[-n count] [--since time] db\n       vb-log (--check | " \
		"--check-runs | --due) db\n" \
		"       vb-log --plan command db\n" \
		"       vb-log (--last-full-check | --last-drill | " \
		"--last-point) db\n" \
		"       vb-log --metrics file [--run start,end,exit] " \
		"[--stage name=status[:ms]] ...\n              " \
		"[--remote-kept n] [--drill status] db\n" \
		"       vb-log --finish start,exit [--metrics file] " \
		"[--stage name=status[:ms]] ...\n              " \
		"[--failed stage=reason] ... [--point] [--retained how]\n" \
		"              [--remote-kept n] [--drill-records file] " \
		"[--drill-only] db"

static void __attribute__((noreturn))
usage(const char *why)
{
	vb_usage(SYNOPSIS, why);
}

/* (long: one string, a line per option of the tool's many modes) */
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
	    "      --check-runs  judge the last run, the last successful\n"
	    "                    backup and the drills: verdict lines\n"
	    "                    (VERDICT TAB CHECK TAB TEXT)\n"
	    "      --due         print what tonight's run is due: DRILL\n"
	    "                    (off, due, not-due) TAB CAN-DRILL (yes,\n"
	    "                    no) TAB FULL-CHECK (yes, no) TAB the last\n"
	    "                    proof (UTC, - if never)\n"
	    "      --plan CMD    print vb-backup --dry-run's drill row (CMD:\n"
	    "                    the command a due drill would run)\n"
	    "      --last-full-check\n"
	    "                    print when a snapshot last passed\n"
	    "                    integrity_check (UTC; nothing if never)\n"
	    "      --last-drill  print when a restore drill last proved a\n"
	    "                    backup (UTC; nothing if never)\n"
	    "      --metrics FILE  write the job's gauges to FILE (Prometheus\n"
	    "                    text) from db's history, the backup\n"
	    "                    directory and what the run says:\n"
	    "      --run S,E,X   the run's start and end (Unix time) and exit\n"
	    "      --stage N=S[:MS]  a stage's exit status (and ms), again\n"
	    "                    for each stage\n"
	    "      --remote-kept N  backups on the remote after retention\n"
	    "      --drill S     the drill's exit status, if one ran\n"
	    "      --finish START,EXIT  end a vb-backup run begun at START\n"
	    "                    (Unix time), its exit status so far EXIT:\n"
	    "                    read its records on stdin, write the\n"
	    "                    records of stages that died and its backup\n"
	    "                    row, the metrics (with --metrics), and print\n"
	    "                    EXIT, SUMMARY, SEE, STATUS, WARNING,\n"
	    "                    FAILED_STAGES, ARCHIVE, ARCHIVE_BYTES,\n"
	    "                    DB_BYTES, KEPT (KEY=VALUE); the run told\n"
	    "                    with --stage, --remote-kept,\n"
	    "      --failed S=WHY  a stage the script saw fail, in order\n"
	    "      --point       the run took a point\n"
	    "      --retained HOW  retention: ok, failed, skipped (default)\n"
	    "      --drill-records FILE  the drill's records (vb-restore\n"
	    "                    --drill's): written, counted, why it failed\n"
	    "      --drill-only  the end of vb-backup --drill: no backup row,\n"
	    "                    the metrics as --metrics --drill writes them\n"
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
	    "to stderr and syslog), the history could not be read, the\n"
	    "check failed or the metrics could not be written, 2 bad usage\n"
	    "or configuration.\n");
}

/* What vb-log was asked to do: one of these. */
enum verb { LOG, SHOW_V, CHECK_V, CHECK_RUNS_V, DUE_V, LAST_FULL_V,
    LAST_DRILL_V, LAST_POINT_V, METRICS_V, FINISH_V, PLAN_V };

struct opts {
	enum verb		 verb;
	int			 quiet, json;
	struct vb_log_query	 q;
	const char		*metrics;	/* --metrics FILE */
	const char		*plan;		/* --plan CMD */
	struct vb_metrics_run	 run;
	struct vb_finish	 fin;		/* --finish's run */
};

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

/*
 * vb-log --check-runs: the runs judged, one verdict line each (a history
 * that cannot be read is one of them).  1 if one is a FAIL.
 */
static int
check_runs(const char *path)
{
	struct vb_verdicts vs = { 0 };
	struct vb_runs_conf c;
	struct vb_runs h;

	(void)vb_runs_read(path, &h);
	vb_runs_conf(&c, path, time(NULL));
	vb_runs_judge(&h, &c, &vs);
	return vb_verdicts_print(&vs, "history");
}

/* vb-log --metrics: the gauges written.  The exit status. */
static int
metrics(struct opts *o, const char *db)
{
	char why[1024];

	o->run.db = db;
	o->run.logdb = *db != '\0' ? db : NULL;
	if (vb_metrics_write(o->metrics, &o->run, why, sizeof(why)) == 0)
		return 0;
	warnx("cannot write the metrics file: %s", why);
	return 1;
}

/*
 * vb-log --finish: the run ended (vb_finish) and its answer printed.  1
 * if the metrics or the answer could not be written.
 */
static int
finish(struct opts *o, const char *db)
{
	const char *off = vb_config("OFFSITE");
	int ret;

	o->fin.db = db;
	o->fin.dir = vb_config("BACKUP_DIR");
	o->fin.offsite = off != NULL && *off != '\0' ? off : NULL;
	o->fin.run = o->run;
	o->fin.remote_kept = o->run.remote_kept;
	ret = vb_finish(&o->fin, stdin, o->metrics) != 0;
	ret |= vb_finish_print(&o->fin) != 0;
	vb_finish_free(&o->fin);
	return ret;
}

/* --run, --finish, --stage, --failed (jobfinish.c's grammar). */
static void
fact(int rc, const char *why)
{
	if (rc != 0)
		usage(why);
}

/* A count option's value; usage() if it is none. */
static int64_t
count(const char *arg, const char *what)
{
	uint64_t v;

	if (vb_parse_u64(arg, &v) != 0 || v > 1000000000)
		usage(what);
	return (int64_t)v;
}

enum { CHECK = 256, CHECK_RUNS, DRILL, DRILL_RECORDS, DRILL_ONLY, DUE,
    FAILED, FAILURES, FINISH, JSON, LAST_DRILL, LAST_FULL, LAST_POINT,
    METRICS, PLAN, POINT, PRINT_CONFIG, REMOTE_KEPT, RETAINED, RUN, SHOW,
    SINCE, STAGE };
static const struct option longopts[] = {
	{ "check",	no_argument,		NULL, CHECK },
	{ "check-runs",	no_argument,		NULL, CHECK_RUNS },
	{ "count",	required_argument,	NULL, 'n' },
	{ "drill",	required_argument,	NULL, DRILL },
	{ "drill-records", required_argument,	NULL, DRILL_RECORDS },
	{ "drill-only",	no_argument,		NULL, DRILL_ONLY },
	{ "due",	no_argument,		NULL, DUE },
	{ "failed",	required_argument,	NULL, FAILED },
	{ "failures",	no_argument,		NULL, FAILURES },
	{ "finish",	required_argument,	NULL, FINISH },
	{ "help",	no_argument,		NULL, 'h' },
	{ "json",	no_argument,		NULL, JSON },
	{ "last-drill",	no_argument,		NULL, LAST_DRILL },
	{ "last-full-check", no_argument,	NULL, LAST_FULL },
	{ "last-point",	no_argument,		NULL, LAST_POINT },
	{ "metrics",	required_argument,	NULL, METRICS },
	{ "plan",	required_argument,	NULL, PLAN },
	{ "point",	no_argument,		NULL, POINT },
	{ "print-config", no_argument,		NULL, PRINT_CONFIG },
	{ "quiet",	no_argument,		NULL, 'q' },
	{ "remote-kept", required_argument,	NULL, REMOTE_KEPT },
	{ "retained",	required_argument,	NULL, RETAINED },
	{ "run",	required_argument,	NULL, RUN },
	{ "show",	no_argument,		NULL, SHOW },
	{ "since",	required_argument,	NULL, SINCE },
	{ "stage",	required_argument,	NULL, STAGE },
	{ "version",	no_argument,		NULL, 'V' },
	{ NULL,		0,			NULL, 0 }
};

/* One verb, once; usage() for a second. */
static void
verb(struct opts *o, enum verb v)
{
	/* --finish writes the metrics too: --metrics is its option. */
	if (o->verb == METRICS_V && v == FINISH_V)
		o->verb = LOG;
	if (o->verb == FINISH_V && v == METRICS_V)
		return;
	if (o->verb != LOG)
		usage("--show, --check, --check-runs, --due, --plan, "
		    "--last-*, --metrics and --finish go alone");
	o->verb = v;
}

/*
 * The options into o; returns optind.
 * (long: one case per option)
 */
static int
parse(int argc, char *argv[], struct opts *o)
{
	int ch, facts = 0, fin = 0;

	while ((ch = getopt_long(argc, argv, "hn:qV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			help();
			break;
		case 'n':
			o->q.count = count(optarg, "-n needs a count of 1 or "
			    "more");
			if (o->q.count < 1)
				usage("-n needs a count of 1 or more");
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'V':
			vb_print_version();
			break;
		case CHECK:
			verb(o, CHECK_V);
			break;
		case CHECK_RUNS:
			verb(o, CHECK_RUNS_V);
			break;
		case DRILL:
			o->run.drill = (int)count(optarg, "--drill wants an "
			    "exit status");
			facts = 1;
			break;
		case DRILL_RECORDS:
			o->fin.drill_records = optarg;
			fin = 1;
			break;
		case DRILL_ONLY:
			o->fin.drill_only = fin = 1;
			break;
		case DUE:
			verb(o, DUE_V);
			break;
		case FAILED:
			fact(vb_finish_fail_parse(&o->fin, optarg), "--failed "
			    "wants STAGE=REASON, a stage vb-backup reports");
			fin = 1;
			break;
		case FAILURES:
			o->q.failures = 1;
			break;
		case FINISH:
			verb(o, FINISH_V);
			fact(vb_finish_parse(&o->fin, optarg), "--finish wants "
			    "START,EXIT: a Unix time and a status");
			break;
		case JSON:
			o->json = 1;
			break;
		case LAST_DRILL:
			verb(o, LAST_DRILL_V);
			break;
		case LAST_FULL:
			verb(o, LAST_FULL_V);
			break;
		case LAST_POINT:
			verb(o, LAST_POINT_V);
			break;
		case METRICS:
			verb(o, METRICS_V);
			o->metrics = optarg;
			break;
		case PLAN:
			verb(o, PLAN_V);
			if (vb_has_ctl(optarg))
				usage("--plan's command may not hold TAB, CR "
				    "or newline");
			o->plan = optarg;
			break;
		case POINT:
			o->fin.point = fin = 1;
			break;
		case PRINT_CONFIG:
			vb_config_print_exit(NULL);
		case REMOTE_KEPT:
			o->run.remote_kept = count(optarg, "--remote-kept "
			    "wants a count");
			facts = 1;
			break;
		case RETAINED:
			if (strcmp(optarg, "ok") != 0 && strcmp(optarg,
			    "failed") != 0 && strcmp(optarg, "skipped") != 0)
				usage("--retained wants ok, failed or skipped");
			o->fin.retained = optarg;
			fin = 1;
			break;
		case RUN:
			fact(vb_run_parse(&o->run, optarg), "--run wants "
			    "START,END,EXIT: two Unix times and a status");
			facts = 1;
			break;
		case SHOW:
			verb(o, SHOW_V);
			break;
		case SINCE:
			o->q.since = optarg;
			break;
		case STAGE:
			fact(vb_stage_parse(&o->run, optarg), "--stage wants "
			    "NAME=STATUS[:MS]: a stage of the job, its exit "
			    "status, its milliseconds");
			facts = 1;
			break;
		default:
			usage(NULL);
		}
	}
	if (facts && o->verb != METRICS_V && o->verb != FINISH_V)
		usage("--run, --stage, --remote-kept and --drill go with "
		    "--metrics");
	if (o->verb == FINISH_V && (o->run.start >= 0 || o->run.drill >= 0))
		usage("--finish takes the run's times itself, and the drill "
		    "as --stage drill=STATUS");
	if (fin && o->verb != FINISH_V)
		usage("--failed, --point, --retained, --drill-records and "
		    "--drill-only go with --finish");
	return optind;
}

/* The verb o names, on the database at db; its status. */
static int
act(struct opts *o, const char *db)
{
	switch (o->verb) {
	case CHECK_V:
		return check(db);
	case CHECK_RUNS_V:
		return check_runs(db);
	case DUE_V:
		return vb_runs_due_print(db);
	case PLAN_V:
		return vb_runs_plan_print(db, o->plan);
	case LAST_FULL_V:
		return vb_history_last(db, VB_LAST_FULL_CHECK);
	case LAST_DRILL_V:
		return vb_history_last(db, VB_LAST_DRILL);
	case LAST_POINT_V:
		return vb_history_last(db, VB_LAST_POINT);
	case SHOW_V:
		return vb_history(db, &o->q, o->json);
	case METRICS_V:
		return metrics(o, db);
	case FINISH_V:
		return finish(o, db);
	default:
		return vb_log_loop(db, o->quiet);
	}
}

int
main(int argc, char *argv[])
{
	struct opts o = { .q = { 0, NULL, -1 }, .run = { .start = -1,
	    .end = -1, .remote_kept = -1, .drill = -1 } };
	int ret;

	vb_finish_init(&o.fin, "", -1, 0);
	ret = parse(argc, argv, &o);
	argc -= ret;
	argv += ret;
	if (argc != 1)
		usage(argc == 0 ? "no database given" : "too many arguments");
	if (o.verb != SHOW_V && (o.q.failures || o.json || o.q.since != NULL ||
	    o.q.count >= 0))
		usage("--failures, --json, -n and --since go with --show");
	if (o.quiet && o.verb != LOG)
		usage("-q goes with logging records alone");
	if (o.q.since != NULL && vb_parse_iso_prefix(o.q.since) != 0)
		usage("--since wants a UTC time like 2026-11-27 or "
		    "2026-11-27T01:00:00");
	/* --metrics of a run whose DB_PATH never parsed: no history. */
	if ((*argv[0] == '\0' && o.verb != METRICS_V && o.verb != FINISH_V) ||
	    vb_has_ctl(argv[0]) ||
	    (o.metrics != NULL &&
	    (*o.metrics == '\0' || vb_has_ctl(o.metrics))))
		usage("paths may not be empty or hold TAB, CR or newline");
	vb_config_require(0);
	ret = act(&o, argv[0]);
	if (vb_close_stdout() != 0)
		ret = 1;
	return ret ? VB_EXIT_FAIL : VB_EXIT_OK;
}
