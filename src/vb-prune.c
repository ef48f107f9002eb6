/*
 * vb-prune - applies the retention policy to a backup directory.
 *
 * It deletes only regular files whose names vb makes, never the newest
 * backup, and nothing at all when the listing cannot be trusted.  Rules
 * combine as in restic: a backup is kept if any rule keeps it.  One prune
 * record per deleted file, so that "| vb-log DB" records it.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/vb.h"

#define SYNOPSIS "[-n] [-d dir | --offsite remote] [--keep N] " \
		"[--keep-within duration]\n                " \
		"[--keep-hourly N] [--keep-daily N] [--keep-weekly N]\n" \
		"                [--keep-monthly N] [--keep-pre-restore N]\n" \
		"       vb-prune [-d dir] (--holds | --release name)\n" \
		"       vb-prune --catalog [-d dir | --offsite remote]\n" \
		"       vb-prune --policy [--keep N] ...\n" \
		"       vb-prune --plan [-d dir] [--keep N] ..."

static void __attribute__((noreturn))
usage(const char *why)
{
	vb_usage(SYNOPSIS, why);
}

static void __attribute__((noreturn))
help(void)
{
	vb_help(SYNOPSIS,
	    "Deletes the backups in dir (default $BACKUP_DIR) that no rule\n"
	    "keeps.  Only files named backup-<UTC time>.<ext> and\n"
	    "pre-restore-<UTC time>.<ext> are considered; a raw .db and its\n"
	    "archive are one backup; the newest backup is always kept.\n"
	    "With no rule given, the rules are MAX_BACKUPS (default 7),\n"
	    "KEEP_HOURLY, KEEP_DAILY, KEEP_WEEKLY, KEEP_MONTHLY and\n"
	    "KEEP_WITHIN from the environment or vb.conf.  Points count as\n"
	    "backups; what a kept one leans on is kept.\n\n"
	    "  -d, --dir DIR             the backup directory\n"
	    "      --offsite REMOTE      the rclone remote instead (OFFSITE):\n"
	    "                            the same policy, vb's names only\n"
	    "      --keep N              the last N backups\n"
	    "      --keep-within D       all within D of the newest backup\n"
	    "                            (D: 7d, 2w, 6m, 1y, 36h, 1y6m)\n"
	    "      --keep-hourly N       the newest of each of the last N "
	    "hours\n"
	    "      --keep-daily N        the newest of each of the last N "
	    "days\n"
	    "      --keep-weekly N       ... ISO weeks\n"
	    "      --keep-monthly N      ... months\n"
	    "      --keep-pre-restore N  the last N pre-restore copies "
	    "(default 3)\n"
	    "  -n, --dry-run             print what would go; delete nothing\n"
	    "      --holds               list the backups held after a sudden\n"
	    "                            loss of rows (stem, the backup that\n"
	    "                            showed it, what was lost; TABs)\n"
	    "      --release NAME        release a held backup to retention\n"
	    "                            (its stem, file name or path)\n"
	    "      --catalog             only write the signed catalog\n"
	    "                            (SIGN_WITH; after every prune too),\n"
	    "                            or copy it to --offsite REMOTE\n"
	    "      --policy              print the policy in words (the\n"
	    "                            rules given, or vb.conf's)\n"
	    "      --plan                print vb-backup --dry-run's rows:\n"
	    "                            the policy and what it would\n"
	    "                            delete now (when dir is there);\n"
	    "                            exit 0 once they are written\n"
	    "      --print-config        print the configuration as vb reads "
	    "it\n"
	    "  -h, --help                this help\n"
	    "  -V, --version             print the version\n\n"
	    "Exit status: 0 done, 1 a file could not be deleted or the\n"
	    "directory not read (a failed record was written), 2 bad usage\n"
	    "or configuration.\n");
}

static int64_t
count(const char *opt, const char *arg)
{
	uint64_t v;

	if (vb_parse_u64(arg, &v) != 0 || v > 1000000) {
		warnx("%s wants a whole number, not \"%s\"", opt, arg);
		usage(NULL);
	}
	return (int64_t)v;
}

enum { CATALOG = 256, DAILY, HOLDS, HOURLY, KEEP, MONTHLY, OFFSITE, PLAN,
    POLICY, PRE, PRINT_CONFIG, RELEASE, WEEKLY, WITHIN };
static const struct option longopts[] = {
	{ "catalog",		no_argument,		NULL, CATALOG },
	{ "dir",		required_argument,	NULL, 'd' },
	{ "dry-run",		no_argument,		NULL, 'n' },
	{ "help",		no_argument,		NULL, 'h' },
	{ "holds",		no_argument,		NULL, HOLDS },
	{ "keep",		required_argument,	NULL, KEEP },
	{ "keep-daily",		required_argument,	NULL, DAILY },
	{ "keep-hourly",	required_argument,	NULL, HOURLY },
	{ "keep-monthly",	required_argument,	NULL, MONTHLY },
	{ "keep-pre-restore",	required_argument,	NULL, PRE },
	{ "keep-weekly",	required_argument,	NULL, WEEKLY },
	{ "keep-within",	required_argument,	NULL, WITHIN },
	{ "offsite",		required_argument,	NULL, OFFSITE },
	{ "plan",		no_argument,		NULL, PLAN },
	{ "policy",		no_argument,		NULL, POLICY },
	{ "print-config",	no_argument,		NULL, PRINT_CONFIG },
	{ "release",		required_argument,	NULL, RELEASE },
	{ "version",		no_argument,		NULL, 'V' },
	{ NULL,			0,			NULL, 0 }
};

/* What vb-prune was asked to do: one of these. */
enum verb { PRUNE, HOLDS_V, RELEASE_V, CATALOG_V, POLICY_V, PLAN_V };

/* The command line: the policy, and where. */
struct opts {
	enum verb	 verb;
	struct vb_policy p;
	int		 given;		/* a rule given: vb.conf's unused */
	const char	*dir, *remote;
	int		 dry;
	const char	*release;	/* --release */
};

/* A mode's option: one mode at most. */
static void
mode(struct opts *o, enum verb v)
{
	if (o->verb != PRUNE)
		usage("--holds, --release, --catalog, --policy and --plan go "
		    "alone");
	o->verb = v;
}

/* One rule of the policy (ch, its option), from arg. */
static void
rule(struct opts *o, int ch, const char *arg)
{
	o->given |= ch != PRE;
	switch (ch) {
	case DAILY:
		o->p.daily = count("--keep-daily", arg);
		break;
	case HOURLY:
		o->p.hourly = count("--keep-hourly", arg);
		break;
	case KEEP:
		o->p.keep = count("--keep", arg);
		break;
	case MONTHLY:
		o->p.monthly = count("--keep-monthly", arg);
		break;
	case PRE:
		o->p.pre_restore = count("--keep-pre-restore", arg);
		break;
	case WEEKLY:
		o->p.weekly = count("--keep-weekly", arg);
		break;
	default:	/* WITHIN */
		if (vb_parse_duration(arg, &o->p.within_d) != 0)
			usage("--keep-within wants a duration like 7d, 2w, "
			    "6m, 1y or 36h");
		o->p.within = 1;
		o->p.within_s = arg;
	}
}

/* Parses the options into o; returns optind. */
static int
parse(int argc, char *argv[], struct opts *o)
{
	int ch;

	memset(o, 0, sizeof(*o));
	o->p.pre_restore = 3;
	while ((ch = getopt_long(argc, argv, "d:hnV", longopts, NULL)) != -1) {
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
		case 'V':
			vb_print_version();
			break;
		case DAILY:
		case HOURLY:
		case KEEP:
		case MONTHLY:
		case PRE:
		case WEEKLY:
		case WITHIN:
			rule(o, ch, optarg);
			break;
		case CATALOG:
			mode(o, CATALOG_V);
			break;
		case HOLDS:
			mode(o, HOLDS_V);
			break;
		case OFFSITE:
			o->remote = optarg;
			break;
		case PLAN:
			mode(o, PLAN_V);
			break;
		case POLICY:
			mode(o, POLICY_V);
			break;
		case PRINT_CONFIG:
			vb_config_print_exit(NULL);
		case RELEASE:
			mode(o, RELEASE_V);
			o->release = optarg;
			break;
		default:
			usage(NULL);
		}
	}
	return optind;
}

/*
 * --release: the hold let go, and METRICS_FILE written again at once (its
 * held-backups gauge, not at the next night).  Exit status.
 */
static int
release(const struct opts *o)
{
	struct vb_metrics_run run = { .start = -1, .end = -1,
	    .remote_kept = -1, .drill = -1 };
	const char *mf = vb_config("METRICS_FILE");
	char why[1024], note[300];

	if (vb_release(o->dir, o->release, note, sizeof(note), why,
	    sizeof(why)) != 0) {
		warnx("%s", why);
		return 1;
	}
	warnx("%s", note);
	run.db = run.logdb = vb_config("DB_PATH");
	run.dir = o->dir;
	if (mf != NULL && run.db != NULL && vb_metrics_write(mf, &run, why,
	    sizeof(why)) != 0) {
		warnx("%s: released, but the metrics file could not be "
		    "written: %s", o->release, why);
		return 1;
	}
	return 0;
}

/* --holds and --release: what is held, and letting go.  Exit status. */
static int
holds(const struct opts *o)
{
	struct vb_hold *h;
	size_t n, i;

	if (vb_hold_list(o->dir, &h, &n) != 0) {
		warn("%s", o->dir);
		return 1;
	}
	for (i = 0; i < n; i++)
		printf("%s\t%s\t%s\n", h[i].stem, h[i].by, h[i].reason);
	free(h);
	return 0;
}

/*
 * With SIGN_WITH, the signed catalog follows what retention left: written
 * anew here, or copied to the remote after its retention (last).  A
 * failure is a failed prune record.  Returns the exit status.
 */
static int
catalog(const struct opts *o)
{
	int64_t t0 = vb_monotonic_ms();
	char note[300], why[1024], path[4400];

	if (vb_catalog_update(o->dir, o->remote, vb_config("DB_PATH"), &o->p,
	    note, sizeof(note), why, sizeof(why)) == 0) {
		if (o->verb != CATALOG_V)
			return 0;
		if (note[0] == '\0')
			warnx("no SIGN_WITH: no catalog to write");
		else
			warnx("%s", note);
		return note[0] == '\0';
	}
	snprintf(path, sizeof(path), "%s/vb-catalog", o->remote != NULL ?
	    o->remote : o->dir);
	warnx("catalog: %s", why);
	vb_emit("prune", path, 0, -1, NULL, t0, why);
	return 1;
}

/* --policy: the rules in words, as the dry run shows them.  Status. */
static int
policy(const struct vb_policy *p)
{
	char words[1024];

	vb_policy_words(p, words, sizeof(words));
	return printf("%s\n", words) < 0;
}

/* The options each mode takes, and no other (usage). */
static void
modes(const struct opts *o)
{
	if ((o->verb == HOLDS_V || o->verb == RELEASE_V) &&
	    (o->remote != NULL || o->given || o->dry))
		usage("--holds or --release, with -d DIR only");
	if ((o->verb == POLICY_V || o->verb == PLAN_V) && o->dry)
		usage("-n goes with a prune, not --policy or --plan");
	if (o->verb == PLAN_V && o->remote != NULL)
		usage("--plan takes -d DIR");
	if (o->verb == CATALOG_V && (o->given || o->dry))
		usage("--catalog takes -d DIR or --offsite REMOTE");
}

int
main(int argc, char *argv[])
{
	struct opts o;
	char why[1024];
	int ret = 0;

	if (parse(argc, argv, &o) != argc)
		usage("no arguments besides options");
	vb_config_require(VB_CONF_SIGN);
	if (!o.given)
		vb_policy_config(&o.p);
	if (o.p.keep == 0 && !o.p.within && o.p.hourly == 0 &&
	    o.p.daily == 0 && o.p.weekly == 0 && o.p.monthly == 0)
		usage("that policy keeps nothing but the newest backup; "
		    "give a count of 1 or more");
	if (o.remote != NULL) {
		if (o.dir != NULL)
			usage("-d and --offsite: one place at a time");
		if (vb_remote_valid(o.remote, why, sizeof(why)) != 0)
			usage(why);
		/* The local side's page indexes name the parents there. */
		o.dir = vb_config("BACKUP_DIR");
	} else if (o.dir == NULL && (o.dir = vb_config("BACKUP_DIR")) ==
	    NULL)
		usage("no backup directory: -d DIR or BACKUP_DIR");
	else if (*o.dir == '\0' || vb_has_ctl(o.dir))
		usage("the directory may not be empty or hold TAB, CR or "
		    "newline");

	modes(&o);
	switch (o.verb) {
	case HOLDS_V:
		ret = holds(&o);
		break;
	case RELEASE_V:
		ret = release(&o);
		break;
	case CATALOG_V:
		ret = catalog(&o);
		break;
	case POLICY_V:
		ret = policy(&o.p);
		break;
	case PLAN_V:
		ret = vb_prune_plan(o.dir, &o.p);
		break;
	case PRUNE:
		ret = vb_prune_emit(o.dir, o.remote, &o.p, o.dry);
		if (ret == 0 && !o.dry)
			ret = catalog(&o);
		break;
	}
	if (vb_close_stdout() != 0)
		ret = 1;
	return ret ? VB_EXIT_FAIL : VB_EXIT_OK;
}
