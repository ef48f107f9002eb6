/*
 * vb-snapshot - a consistent online snapshot of a live SQLite database.
 *
 * The command line around vb_snapshot() (src/lib/snapshot.c): one
 * consistent copy inside one read transaction, checked, fsync'd and
 * renamed into place, and one snapshot record on stdout.  On failure
 * nothing is left under a final name and a failed record says why.
 */
#define _GNU_SOURCE
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/vb.h"

#define SYNOPSIS "[-n] [-q | --progress] [--full-check] [--defer-check]\n" \
		"                   [--intermediate] [-d dir | -o file] db\n" \
		"       vb-snapshot --prepare [-d dir]\n" \
		"       vb-snapshot -n (--verdicts | --plan) [-d dir] db\n" \
		"       vb-snapshot --check-setup=config|schedule|keys|user\n" \
		"       vb-snapshot --print-job-user\n" \
		"       vb-snapshot --check-all"

static void __attribute__((noreturn))
usage(const char *why)
{
	vb_usage(SYNOPSIS, why);
}

/* --help's text.  (long: one line of the text a line) */
static void __attribute__((noreturn))
help(void)
{
	vb_help(SYNOPSIS,
	    "Copies the live SQLite database db, consistently and without\n"
	    "stopping its writers, to dir/backup-<UTC time>.db (mode 0600),\n"
	    "checks the copy, and writes one snapshot record on stdout.\n\n"
	    "  -d, --dir DIR      backup directory (default $BACKUP_DIR, "
	    "else ./backups)\n"
	    "  -o, --output FILE  write the snapshot to FILE instead\n"
	    "      --full-check   run integrity_check instead of quick_check\n"
	    "      --defer-check  leave the check to vb-compress, which runs\n"
	    "                     it beside its compression (the record says\n"
	    "                     quick_check=deferred)\n"
	    "      --intermediate for a pipe into vb-compress: the copy is\n"
	    "                     not synced and keeps a temporary name,\n"
	    "                     .vb-tmp-<parent PID>-backup-<time>.db, its\n"
	    "                     parent's until vb-compress archives it (or\n"
	    "                     gives it its name, when it cannot)\n"
	    "      --prepare      make dir ready for a run (created 0700,\n"
	    "                     owned by this user or root, writable by\n"
	    "                     nobody else) and its lock file .vb.lock,\n"
	    "                     never through a link; print its path\n"
	    "  -n, --dry-run      check all a snapshot needs (the database\n"
	    "                     readable, dir usable by this user, room\n"
	    "                     for a copy and an archive); write nothing\n"
	    "      --verdicts     with -n: that and whether db takes\n"
	    "                     BackupLog's rows, as vb-backup --check's\n"
	    "                     verdict lines (database, backup directory)\n"
	    "      --plan         with -n: vb-backup --dry-run's rows of\n"
	    "                     the configuration and of that check\n"
	    "                     (snapshot: its words, or WOULD FAIL:\n"
	    "                     why); exit 0 once they are written\n"
	    "  -q, --quiet        no notices or progress on stderr (errors "
	    "still)\n"
	    "      --progress     show progress even when stderr is not a\n"
	    "                     terminal (it shows by default on one)\n"
	    "      --print-config[=run|drill|check]\n"
	    "                     print the configuration as vb reads it\n"
	    "                     (drill: without what only signing needs;\n"
	    "                     run or drill: then VB_CONF_CHECKED=, the\n"
	    "                     stamp vb-backup's tools trust; any of the\n"
	    "                     three: DB_PATH, BACKUP_DIR required)\n"
	    "      --print-schedule  the schedule BACKUP_INTERVAL and\n"
	    "                     NIGHTLY_AT ask for: the cron line's five\n"
	    "                     fields, a TAB, systemd's OnCalendar\n"
	    "      --print-job-user  the user the schedule runs vb-backup\n"
	    "                     as (cron file, else systemd's timer; an\n"
	    "                     empty line when nothing schedules it)\n"
	    "      --check-setup=config|schedule|keys|user\n"
	    "                     vb-backup --check's verdicts, one a line:\n"
	    "                     VERDICT TAB WHAT TAB TEXT (ok, warn, FAIL,\n"
	    "                     FAIL-job); config: the configuration's\n"
	    "                     errors, or its DB_PATH and BACKUP_DIR;\n"
	    "                     schedule: the environment, the\n"
	    "                     cron file ($VB_CRON_FILE, else\n"
	    "                     /etc/cron.d/vb-backup) or timer, cron\n"
	    "                     running, the interval, the job's VB_CONF;\n"
	    "                     keys: ENCRYPT_TO and SIGN_WITH as this\n"
	    "                     user (run it as the job's); user: this\n"
	    "                     user against the job's, then a line\n"
	    "                     as TAB JOB'S USER TAB USER TO BECOME\n"
	    "      --check-all    vb-backup --check: the verdicts above, of\n"
	    "                     vb-restore --check, vb-offsite\n"
	    "                     --check-job and vb-log --check-runs, each\n"
	    "                     tool run as the job runs it (setpriv to\n"
	    "                     the job's user), in columns, then \"N\n"
	    "                     check(s) failed\"; exit 1 if one failed\n"
	    "  -h, --help         this help\n"
	    "  -V, --version      print the version\n\n"
	    "Exit status: 0 done, 1 snapshot failed (a failed record was\n"
	    "written; --check-setup: a FAIL), 2 bad usage or configuration.\n");
}

enum { CHECK_ALL = 256, CHECK_SETUP, DEFER, FULL, INTERMEDIATE, PREPARE,
    PLAN, PRINT_CONFIG, PRINT_JOB_USER, PRINT_SCHEDULE, PROGRESS,
    VERDICTS };
static const struct option longopts[] = {
	{ "check-all",	no_argument,		NULL, CHECK_ALL },
	{ "check-setup", required_argument,	NULL, CHECK_SETUP },
	{ "dir",	required_argument,	NULL, 'd' },
	{ "defer-check", no_argument,		NULL, DEFER },
	{ "dry-run",	no_argument,		NULL, 'n' },
	{ "full-check",	no_argument,		NULL, FULL },
	{ "help",	no_argument,		NULL, 'h' },
	{ "intermediate", no_argument,		NULL, INTERMEDIATE },
	{ "output",	required_argument,	NULL, 'o' },
	{ "plan",	no_argument,		NULL, PLAN },
	{ "prepare",	no_argument,		NULL, PREPARE },
	{ "print-config", optional_argument,	NULL, PRINT_CONFIG },
	{ "print-job-user", no_argument,	NULL, PRINT_JOB_USER },
	{ "print-schedule", no_argument,	NULL, PRINT_SCHEDULE },
	{ "progress",	no_argument,		NULL, PROGRESS },
	{ "quiet",	no_argument,		NULL, 'q' },
	{ "verdicts",	no_argument,		NULL, VERDICTS },
	{ "version",	no_argument,		NULL, 'V' },
	{ NULL,		0,			NULL, 0 }
};

/*
 * --prepare: dir ready for a run; one line, "ok TAB lock file's path" or
 * "failed TAB why", so that vb-backup reads the reason as a field.
 */
static int
prepare_dir(const char *dir, int argc)
{
	char lock[4200], why[1024];
	int ret = VB_EXIT_OK;

	if (argc != 0)
		usage("--prepare takes no database");
	vb_config_require(0);
	if (dir == NULL && (dir = vb_config("BACKUP_DIR")) == NULL)
		usage("--prepare needs -d DIR or BACKUP_DIR");
	if (vb_has_ctl(dir) || *dir == '\0')
		usage("paths may not be empty or hold TAB, CR or newline");
	if (vb_dir_prepare(dir, lock, sizeof(lock), why, sizeof(why)) != 0) {
		/* why: of dir (no TAB, CR, newline) and errno: one line. */
		warnx("%s", why);
		printf("failed\t%s\n", why);
		ret = VB_EXIT_FAIL;
	} else
		printf("ok\t%s\n", lock);
	if (vb_close_stdout() != 0)
		return VB_EXIT_FAIL;
	return ret;
}

/* The cron file the checks read (VB_CRON_FILE: the tests' own). */
static const char *
cron_file(void)
{
	const char *f = getenv("VB_CRON_FILE");

	return f != NULL && *f != '\0' ? f : "/etc/cron.d/vb-backup";
}

/*
 * --check-setup=config|schedule|keys|user: the verdicts (but config's,
 * of what parsed of the configuration: its errors are config's); user's
 * then a last line of fields, "as TAB the job's user (empty: none) TAB
 * the user to run the checks as (empty: this one)", the second empty
 * whenever the first is (read splits on TAB runs).  Exits 0, 1 if one
 * is a FAIL, 2.
 */
static void __attribute__((noreturn))
check_setup(const char *what)
{
	struct vb_verdicts vs = { 0 };
	struct vb_sched s;
	char run_as[256];
	int ret, user = strcmp(what, "user") == 0;

	if (strcmp(what, "config") == 0) {
		vb_config_verdicts(&vs);
	} else if (strcmp(what, "schedule") == 0) {
		vb_setup_environment(&vs);
		vb_sched_find(&s, cron_file());
		vb_setup_schedule(&s, &vs);
	} else if (strcmp(what, "keys") == 0) {
		vb_setup_keys(vb_config("ENCRYPT_TO"), vb_config("SIGN_WITH"),
		    vb_config("OFFSITE"), &vs);
	} else if (user) {
		vb_sched_find(&s, cron_file());
		vb_setup_user(vb_sched_user(&s), geteuid(), &vs, run_as,
		    sizeof(run_as));
	} else {
		usage("--check-setup takes config, schedule, keys or user");
	}
	ret = vb_verdicts_print(&vs, "set-up") ? VB_EXIT_FAIL : VB_EXIT_OK;
	if (user)
		printf("as\t%s\t%s\n", vb_sched_user(&s), run_as);
	exit(vb_close_stdout() == 0 ? ret : VB_EXIT_FAIL);
}

/* --print-job-user: one field, the user the schedule runs the job as. */
static void __attribute__((noreturn))
print_job_user(void)
{
	struct vb_sched s;

	vb_sched_find(&s, cron_file());
	printf("%s\n", vb_sched_user(&s));
	exit(vb_close_stdout() == 0 ? VB_EXIT_OK : VB_EXIT_FAIL);
}

/*
 * -n --plan: the configuration's rows, then the dry snapshot's (what
 * would fail is the answer, not a failure: exit 0 once written).
 */
static int
plan(const struct vb_snapshot_opts *o)
{
	struct vb_snapshot_result s;
	int ok;

	vb_plan_setup(stdout, o->db, o->dir);
	ok = vb_snapshot(o, &s) == 0;
	vb_plan_snapshot(stdout, ok, ok ? s.message : s.why);
	return vb_close_stdout() == 0 ? VB_EXIT_OK : VB_EXIT_FAIL;
}

/* The command line, parsed. */
struct args {
	struct vb_snapshot_opts	 o;
	int			 progress, quiet, prepare, verdicts, plan;
	int			 check_all;
};

/*
 * The options into a; returns optind.
 * (long: one case per option)
 */
static int
parse(int argc, char *argv[], struct args *a)
{
	struct vb_snapshot_opts *o = &a->o;
	int ch;

	memset(a, 0, sizeof(*a));
	while ((ch = getopt_long(argc, argv, "d:hno:qV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			o->dir = optarg;
			break;
		case 'h':
			help();
			break;
		case 'n':
			o->dry = 1;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'q':
			a->quiet = 1;
			break;
		case 'V':
			vb_print_version();
			break;
		case CHECK_ALL:
			a->check_all = 1;
			break;
		case CHECK_SETUP:
			check_setup(optarg);
		case DEFER:
			o->defer = 1;
			break;
		case FULL:
			o->full = 1;
			break;
		case INTERMEDIATE:
			/* Orphaned, its owner would be init, forever. */
			if ((o->hand_to = (long)getppid()) <= 1)
				usage("--intermediate: no parent to own it");
			break;
		case PLAN:
			a->plan = 1;
			break;
		case PREPARE:
			a->prepare = 1;
			break;
		case PRINT_CONFIG:
			vb_config_print_exit(optarg);
		case PRINT_JOB_USER:
			print_job_user();
		case PRINT_SCHEDULE:
			vb_schedule_print_exit();
		case PROGRESS:
			a->progress = 1;
			break;
		case VERDICTS:
			a->verdicts = 1;
			break;
		default:
			usage(NULL);
		}
	}
	return optind;
}

int
main(int argc, char *argv[])
{
	struct args a;
	struct vb_snapshot_opts *o = &a.o;
	struct vb_snapshot_result s;
	struct vb_verdicts vs = { 0 };
	int64_t t0 = vb_monotonic_ms();
	int ret, n = parse(argc, argv, &a);

	argc -= n;
	argv += n;
	if (a.check_all) {
		if (argc != 0 || a.prepare || o->dry || o->dir != NULL)
			usage("--check-all takes no other argument");
		return vb_check_all();
	}
	if (a.prepare)
		return prepare_dir(o->dir, argc);
	if (argc != 1)
		usage(argc == 0 ? "no database given" : "too many arguments");
	vb_progress_mode(a.progress, a.quiet);
	if (o->dir != NULL && o->out != NULL)
		usage("-d and -o are exclusive");
	vb_config_require(0);
	o->db = argv[0];
	if (o->dir == NULL && (o->dir = vb_config("BACKUP_DIR")) == NULL)
		o->dir = "./backups";
	if (*o->db == '\0' || vb_has_ctl(o->db) || vb_has_ctl(o->dir) ||
	    (o->out != NULL && (*o->out == '\0' || vb_has_ctl(o->out))))
		usage("paths may not be empty or hold TAB, CR or newline");
	if ((a.verdicts || a.plan) && !o->dry)
		usage("--verdicts and --plan go with -n");
	if (a.verdicts && a.plan)
		usage("--verdicts or --plan: one answer at a time");
	if (a.verdicts) {
		/* --check's view: the database and the directory judged. */
		vb_setup_place(o, &vs);
		ret = vb_verdicts_print(&vs, "backup directory");
		return vb_close_stdout() != 0 || ret ? VB_EXIT_FAIL :
		    VB_EXIT_OK;
	}
	if (a.plan)
		return plan(o);

	ret = vb_snapshot(o, &s) == 0 ? VB_EXIT_OK : VB_EXIT_FAIL;
	if (!a.quiet && s.note[0] != '\0')
		warnx("%s", s.note);
	if (ret != VB_EXIT_OK)
		warnx("%s", s.why);
	/* A dry run's record names the file it would make. */
	if (vb_emit("snapshot", ret == VB_EXIT_OK ? s.path : "-",
	    ret == VB_EXIT_OK, ret == VB_EXIT_OK ? s.bytes : -1,
	    ret == VB_EXIT_OK ? s.sha256 : NULL, t0,
	    ret == VB_EXIT_OK ? s.message : s.why) != 0)
		ret = VB_EXIT_FAIL;
	if (vb_close_stdout() != 0)
		ret = VB_EXIT_FAIL;
	return ret;
}
