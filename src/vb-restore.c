/*
 * vb-restore - verifies a backup before trusting it, and restores it to a
 * new file or over the live database; --list lists the backups.
 *
 * Nothing is trusted before it is checked: the archive's two entries, the
 * database's size and SHA-256 against the manifest, and SQLite's own
 * integrity_check of the extracted copy.  A restore over a live database
 * first makes a pre-restore safety archive, then copies through the
 * SQLite backup API so the application's connections, WAL and locks stay
 * coherent.  Any failure changes nothing.
 */
#define _GNU_SOURCE
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "lib/vb.h"

#define SYNOPSIS "[-q | --progress] [--quick-check | --full-check] " \
		"[-d dir] [-i identity]\n                  [--force] " \
		"[--unrecorded] [--verify-with key.pub]\n                  " \
		"(--to path | --db db | --verify-only) [--offsite]\n" \
		"                  (archive | --at time)\n" \
		"       vb-restore --list [--json | --fields] [--sums | " \
		"--verify [--full-check]] [dir]\n" \
		"       vb-restore --list --offsite [--json | --fields]\n" \
		"       vb-restore --check [-d dir]\n" \
		"       vb-restore --drill [-q] [-d dir] [-i identity] " \
		"[--offsite] [name ...]\n" \
		"       vb-restore --diff [--json | --diff-table table] " \
		"[--db db] [-d dir] [-i identity]\n                  " \
		"[--offsite] archive\n" \
		"       vb-restore --table table [--where condition] ... " \
		"[--dry-run] [--force]\n                  [-d dir] " \
		"[-i identity] --db db [--offsite] archive\n" \
		"       vb-restore --undo file [--dry-run] [--force] " \
		"[-d dir] [-i identity] --db db"

/* What vb-restore is asked to do: one mode per run. */
enum verb { RESTORE, LIST_V, CHECK_V, DRILL_V, DIFF_V, PARTIAL_V, UNDO_V };

struct opts {
	enum verb	 verb;
	const char	*archive;	/* or, with --list, the directory */
	const char	*at;		/* --at: the archive a time names */
	const char	*to;		/* --to */
	const char	*db;		/* --db */
	const char	*dir;		/* -d: the pre-restore copy's dir */
	const char	*offsite;	/* --offsite: OFFSITE, the remote */
	const char	*identity;	/* -i: age identity */
	const char	*verify_with;	/* --verify-with, VERIFY_WITH */
	const char	*diff_table;	/* --diff-table */
	struct vb_partial_table tables[VB_MAX_TABLES];	/* --table, --where */
	int		 ntables;
	const char	*undo;		/* --undo */
	int		 dry;		/* --dry-run */
	int		 force, quick, full, verify_only, quiet, progress;
	int		 unrecorded;	/* --unrecorded */
	int		 verify, sums, fields, json;	/* --list's */
};

static void __attribute__((noreturn))
usage(const char *why)
{
	vb_usage(SYNOPSIS, why);
}

static void __attribute__((noreturn))
help(void)
{
	vb_help(SYNOPSIS,
	    "Verifies a vb archive (MANIFEST and <stem>.db, their size and\n"
	    "SHA-256, SQLite reading the copy) and restores it; vb-restore(1)\n"
	    "says more of each.\n\n"
	    "      --to PATH      write the verified database to PATH (0600)\n"
	    "      --db DB        replace the live DB, a safety copy first\n"
	    "      --force        --to: replace PATH; --db, --table: another\n"
	    "                     db's backup; --table: despite foreign\n"
	    "                     keys; --undo: leave rows changed since,\n"
	    "                     undo the rest (never a tamper check)\n"
	    "      --verify-only  only verify, and report\n"
	    "      --unrecorded   restore a backup the live database's\n"
	    "                     BackupLog never recorded (knowingly)\n"
	    "      --verify-with K  refuse what the key K.pub (of SIGN_WITH)\n"
	    "                     did not sign (default $VERIFY_WITH)\n"
	    "  -i, --identity F   the age identity for an encrypted archive\n"
	    "      --offsite      the archive is a name on OFFSITE (fetched);\n"
	    "                     with --list: list the remote\n"
	    "      --at TIME      instead of an archive: the newest backup\n"
	    "                     (point or nightly) at or before TIME, ISO\n"
	    "                     8601: with Z in UTC, else local time\n"
	    "      --quick-check  also PRAGMA quick_check the copy\n"
	    "      --full-check   also PRAGMA integrity_check it (slow)\n"
	    "  -d, --dir DIR      for pre-restore copies and work (default\n"
	    "                     $BACKUP_DIR, else the archive's)\n"
	    "      --drill        restore and prove the named backups (else\n"
	    "                     the newest and one older, at random)\n"
	    "      --diff         compare the backup with the live --db (or\n"
	    "                     DB_PATH) table by table; change nothing\n"
	    "      --diff-table T the SQL making the live T the backup's\n"
	    "      --table T      put table T back (again for more) into --db\n"
	    "                     DB in one transaction; the rest stays\n"
	    "      --where COND   after a --table: only the backup's rows\n"
	    "                     matching COND, and live rows matching it\n"
	    "      --undo FILE    reverse the partial restore that wrote FILE\n"
	    "                     (undo=FILE in its record) in --db DB\n"
	    "      --dry-run      with --table or --undo: the counts only\n"
	    "      --list [DIR]   list the backups in DIR, newest first\n"
	    "      --json         with --list or --diff: a JSON array\n"
	    "      --fields       with --list: TAB-separated, for scripts\n"
	    "      --verify       with --list: verify each (quick_check;\n"
	    "                     --full-check: integrity_check)\n"
	    "      --sums         with --list: each against its SHA-256\n"
	    "      --check        the backups in -d DIR (or BACKUP_DIR) and\n"
	    "                     their lock judged, for vb-backup --check:\n"
	    "                     lines VERDICT TAB WHAT TAB TEXT\n"
	    "  -q, --quiet        no notices or progress on stderr\n"
	    "      --progress     progress even when stderr is no terminal\n"
	    "      --print-config print the configuration as vb reads it\n"
	    "  -h, --help         this help\n"
	    "  -V, --version      print the version\n\n"
	    "Exit status: 0 done (warnings on stderr), 1 nothing was changed\n"
	    "(a failed record was written), 2 bad usage or configuration.\n");
}

/* --verify-only, --to or --db.  Returns the exit status. */
static int
restore(const struct opts *o)
{
	/* The archive's SHA-256 proves its bytes are the snapshot that
	 * passed its check: SQLite need only read it, unless asked. */
	struct vb_restore_opts ro = { .archive = o->archive, .to = o->to,
	    .db = o->db, .dir = o->dir, .replace = o->force,
	    .identity = o->identity, .check = o->full ? VB_CHECK_FULL :
	    o->quick ? VB_CHECK_QUICK : VB_CHECK_OPEN,
	    .verify_with = o->verify_with, .unrecorded = o->unrecorded };

	/* The live database's BackupLog vouches for what it recorded. */
	ro.logdb = o->db != NULL ? o->db : vb_config("DB_PATH");

	return vb_restore_emit(&ro, o->offsite, o->verify_only, o->quiet);
}

/* --drill: the names given, else the newest and one older. */
static int
drill(const struct opts *o, int argc, char *argv[])
{
	struct vb_drill_opts d = { o->dir, o->offsite, o->identity,
	    vb_config("DRILL_SQL"), argv, argc, o->verify_with,
	    vb_config("DB_PATH") };

	return vb_drill_emit(&d, o->quiet);
}

/* --diff: the backup against the live database.  The exit status. */
static int
diff(const struct opts *o, const char *archive)
{
	return vb_diff_emit(&(struct vb_diff_opts){ archive, o->db, o->dir,
	    o->identity, o->offsite, o->diff_table, o->json,
	    o->verify_with, o->unrecorded });
}

/* --table: those tables (or rows) put back.  The exit status. */
static int
partial(const struct opts *o, const char *archive)
{
	return vb_partial_emit(&(struct vb_partial_opts){ archive, o->db,
	    o->dir, o->identity, o->offsite, o->tables, o->ntables, o->force,
	    o->dry, o->verify_with, o->unrecorded }, o->quiet);
}

/* --undo: a partial restore reversed.  The exit status. */
static int
undo(const struct opts *o)
{
	return vb_undo_emit(&(struct vb_undo_opts){ o->undo, o->db, o->dir,
	    o->identity, o->force, o->dry }, o->quiet);
}

/* Checks --drill, --diff, --table or --undo; usage() if it makes no
 * sense. */
static void
check_work(struct opts *o, int argc)
{
	if (o->to != NULL || o->verify_only || o->quick || o->full ||
	    o->fields || o->verify || o->sums || (o->force &&
	    o->verb != PARTIAL_V && o->verb != UNDO_V) ||
	    (o->verb == DRILL_V && (o->db != NULL || o->json)) ||
	    (o->verb == UNDO_V && (argc != 0 || o->offsite != NULL ||
	    o->json)))
		usage("--drill takes -d, -i, --offsite and names; --diff and "
		    "--table -d, -i, --offsite, --db and one archive; --undo "
		    "-d, -i, --force, --dry-run and --db");
	if (o->dir == NULL && (o->dir = vb_config("BACKUP_DIR")) == NULL)
		usage("--drill, --diff, --table and --undo work in -d DIR or "
		    "BACKUP_DIR");
	if (o->verb == DIFF_V && (argc != 1 || (o->db == NULL &&
	    (o->db = vb_config("DB_PATH")) == NULL)))
		usage("--diff compares one archive with --db DB (or DB_PATH)");
	if (o->verb == PARTIAL_V && (argc != 1 || o->db == NULL))
		usage("--table puts tables back from one archive into --db DB");
	if (o->verb == UNDO_V && o->db == NULL)
		usage("--undo FILE reverses a partial restore of --db DB");
}

/* --list: the backups, in the form asked.  Returns the exit status. */
static int
list(const struct opts *o)
{
	return vb_inventory(&(struct vb_inventory_opts){ .dir = o->archive,
	    .remote = o->offsite, .identity = o->identity, .verify = o->verify,
	    .check = o->full ? VB_CHECK_FULL : VB_CHECK_QUICK, .sums = o->sums,
	    .json = o->json, .fields = o->fields,
	    .verify_with = o->verify_with });
}

/*
 * --check: the backups' verdicts, one line each (vb_check_line); 1 if
 * one is a FAIL.
 */
static int
check(const struct opts *o, int argc)
{
	struct vb_check_opts c = { .dir = o->dir, .db = vb_config("DB_PATH"),
	    .remote = vb_config("OFFSITE"), .verify_with = o->verify_with,
	    .full_every = vb_config("FULL_EVERY") };
	const char *sign = vb_config("SIGN_WITH"), *enc =
	    vb_config("ENCRYPT_TO");
	struct vb_verdicts vs;

	if (argc != 0 || o->to != NULL || o->db != NULL ||
	    o->verify_only || o->offsite != NULL || o->at != NULL ||
	    o->identity != NULL || o->sums || o->verify || o->json ||
	    o->fields || o->force || o->quick || o->full || o->dry)
		usage("--check takes -d DIR only");
	if (c.dir == NULL && (c.dir = vb_config("BACKUP_DIR")) == NULL)
		usage("--check needs -d DIR, or BACKUP_DIR");
	if (c.remote != NULL && *c.remote == '\0')
		c.remote = NULL;
	if (c.full_every != NULL && *c.full_every == '\0')
		c.full_every = NULL;
	c.signing = sign != NULL && *sign != '\0';
	c.encrypting = enc != NULL && *enc != '\0';
	vb_check_backups(&c, &vs);
	return vb_verdicts_print(&vs, "backups");
}

/* Checks what --list was given with; usage() if it makes no sense. */
static void
check_list(struct opts *o, int argc, char *argv[])
{
	if (o->to != NULL || o->db != NULL || o->verify_only || o->force ||
	    o->quick || argc > 1)
		usage("--list takes only a directory");
	if (o->full && !o->verify)
		usage("with --list, --full-check goes with --verify");
	if (o->sums && o->verify)
		usage("--sums or --verify, not both");
	if (o->fields && o->json)
		usage("--fields or --json, not both");
	if (o->offsite != NULL && (o->verify || o->sums || argc != 0))
		usage("--list --offsite lists the remote; verify one backup "
		    "with --offsite --verify-only NAME");
	if ((o->archive = argc == 1 ? argv[0] : vb_config("BACKUP_DIR")) ==
	    NULL && o->offsite == NULL)
		usage("--list needs a directory, or BACKUP_DIR");
}

/* Checks what a restore was given; usage() if it makes no sense. */
static void
check_restore(struct opts *o, int argc, char *argv[])
{
	if (o->verify || o->json || o->sums || o->fields)
		usage("--verify, --sums, --json and --fields go with --list; "
		    "see --verify-only");
	if (o->quick && o->full)
		usage("--quick-check or --full-check, not both");
	if (argc != 1)
		usage(argc == 0 ? "no archive given" : "too many arguments");
	o->archive = argv[0];
	if ((o->to != NULL) + (o->db != NULL) + o->verify_only != 1)
		usage("say what to do: --to PATH, --db DB or --verify-only");
	if (o->offsite != NULL && (strchr(o->archive, '/') != NULL ||
	    (o->dir == NULL && (o->dir = vb_config("BACKUP_DIR")) == NULL)))
		usage("--offsite takes the archive's name on the remote, and "
		    "fetches it into -d DIR or BACKUP_DIR");
	if (o->force && o->to == NULL && o->db == NULL)
		usage("--force goes with --to or --db");
	if (*o->archive == '\0' || vb_has_ctl(o->archive) ||
	    (o->to != NULL && (*o->to == '\0' || vb_has_ctl(o->to))) ||
	    (o->db != NULL && (*o->db == '\0' || vb_has_ctl(o->db))) ||
	    (o->dir != NULL && vb_has_ctl(o->dir)))
		usage("paths may not be empty or hold TAB, CR or newline");
}

/* The options: flags set by getopt_long itself, the rest by parse(). */
static struct opts opt;

/* A mode's option: one mode at most (--table again is the same one). */
static void
mode(struct opts *o, enum verb v)
{
	if (o->verb != RESTORE && o->verb != v)
		usage("--list, --check, --drill, --diff, --table and --undo "
		    "go alone");
	o->verb = v;
}

enum { AT = 256, CHECK, DB, DIFF, DIFF_TABLE, DRILL, LIST, OFFSITE,
    PRINT_CONFIG, TABLE, TO, UNDO, VERIFY_WITH, WHERE };
static const struct option longopts[] = {
	{ "at",		required_argument,	NULL, AT },
	{ "check",	no_argument,		NULL, CHECK },
	{ "db",		required_argument,	NULL, DB },
	{ "diff",	no_argument,		NULL, DIFF },
	{ "diff-table",	required_argument,	NULL, DIFF_TABLE },
	{ "dir",	required_argument,	NULL, 'd' },
	{ "drill",	no_argument,		NULL, DRILL },
	{ "dry-run",	no_argument,		&opt.dry, 1 },
	{ "fields",	no_argument,		&opt.fields, 1 },
	{ "force",	no_argument,		&opt.force, 1 },
	{ "full-check",	no_argument,		&opt.full, 1 },
	{ "help",	no_argument,		NULL, 'h' },
	{ "identity",	required_argument,	NULL, 'i' },
	{ "json",	no_argument,		&opt.json, 1 },
	{ "list",	no_argument,		NULL, LIST },
	{ "offsite",	no_argument,		NULL, OFFSITE },
	{ "print-config", no_argument,		NULL, PRINT_CONFIG },
	{ "progress",	no_argument,		&opt.progress, 1 },
	{ "quick-check", no_argument,		&opt.quick, 1 },
	{ "quiet",	no_argument,		NULL, 'q' },
	{ "sums",	no_argument,		&opt.sums, 1 },
	{ "table",	required_argument,	NULL, TABLE },
	{ "to",		required_argument,	NULL, TO },
	{ "undo",	required_argument,	NULL, UNDO },
	{ "unrecorded",	no_argument,		&opt.unrecorded, 1 },
	{ "verify",	no_argument,		&opt.verify, 1 },
	{ "verify-only", no_argument,		&opt.verify_only, 1 },
	{ "verify-with", required_argument,	NULL, VERIFY_WITH },
	{ "version",	no_argument,		NULL, 'V' },
	{ "where",	required_argument,	NULL, WHERE },
	{ NULL,		0,			NULL, 0 }
};

/*
 * Parses the options into opt; returns optind.
 * (long: one case per option)
 */
static int
parse(int argc, char *argv[])
{
	struct opts *o = &opt;
	int ch;

	while ((ch = getopt_long(argc, argv, "d:hi:qV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 0:		/* a flag, set */
			break;
		case 'd':
			o->dir = optarg;
			break;
		case 'h':
			help();
			break;
		case 'i':
			o->identity = optarg;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'V':
			vb_print_version();
			break;
		case AT:
			o->at = optarg;
			break;
		case CHECK:
			mode(o, CHECK_V);
			break;
		case DB:
			o->db = optarg;
			break;
		case DIFF:
			mode(o, DIFF_V);
			break;
		case DIFF_TABLE:
			mode(o, DIFF_V);
			if (o->diff_table != NULL)
				usage("one --diff-table a run");
			o->diff_table = optarg;
			break;
		case DRILL:
			mode(o, DRILL_V);
			break;
		case LIST:
			mode(o, LIST_V);
			break;
		case OFFSITE:
			o->offsite = "";	/* OFFSITE's, once read */
			break;
		case PRINT_CONFIG:
			vb_config_print_exit(NULL);
		case TABLE:
			mode(o, PARTIAL_V);
			if (o->ntables == VB_MAX_TABLES)
				usage("at most 64 --table");
			o->tables[o->ntables++].name = optarg;
			break;
		case TO:
			o->to = optarg;
			break;
		case VERIFY_WITH:
			o->verify_with = optarg;
			break;
		case UNDO:
			mode(o, UNDO_V);
			o->undo = optarg;
			break;
		case WHERE:
			/* A --where filters the --table before it. */
			if (o->ntables == 0)
				usage("--where goes after the --table it "
				    "filters: --table T --where COND");
			if (o->tables[o->ntables - 1].where != NULL)
				usage("one --where per --table (join "
				    "conditions with AND)");
			o->tables[o->ntables - 1].where = optarg;
			break;
		default:
			usage(NULL);
		}
	}
	return optind;
}

/* The mode asked, its options checked; the exit status's 0 or 1. */
static int
run(struct opts *o, int argc, char *argv[])
{
	switch (o->verb) {
	case RESTORE:
		check_restore(o, argc, argv);
		return restore(o);
	case LIST_V:
		check_list(o, argc, argv);
		return list(o);
	case CHECK_V:
		return check(o, argc);
	case DRILL_V:
		check_work(o, argc);
		return drill(o, argc, argv);
	case DIFF_V:
		check_work(o, argc);
		return diff(o, argv[0]);
	case PARTIAL_V:
		check_work(o, argc);
		return partial(o, argv[0]);
	case UNDO_V:
		check_work(o, argc);
		return undo(o);
	}
	return 1;
}

int
main(int argc, char *argv[])
{
	struct opts *o = &opt;
	char why[1024], at[4400], *atv[] = { at, NULL };
	int i, ret;

	i = parse(argc, argv);
	argc -= i;
	argv += i;
	vb_progress_mode(o->progress, o->quiet);
	vb_config_require(VB_CONF_VERIFY |
	    (o->verb == DRILL_V ? VB_CONF_DRILL : 0));
	if (o->offsite != NULL && (o->offsite = vb_config("OFFSITE")) == NULL)
		usage("--offsite needs OFFSITE (vb.conf or the environment)");
	if (o->offsite != NULL && vb_remote_valid(o->offsite, why,
	    sizeof(why)) != 0)
		usage(why);
	if (o->verify_with == NULL)
		o->verify_with = vb_config("VERIFY_WITH");
	else if (vb_verify_key(o->verify_with, why, sizeof(why)) != 0)
		usage(why);
	if (o->dry && o->verb != PARTIAL_V && o->verb != UNDO_V)
		usage("--dry-run goes with --table or --undo");
	/* --at: the archive it names stands as the operand. */
	if (o->at != NULL && (argc != 0 || o->verb == LIST_V ||
	    o->verb == CHECK_V || o->verb == DRILL_V || o->verb == UNDO_V))
		usage("--at TIME names the archive of a restore, --diff or "
		    "--table");
	if (o->at != NULL && vb_at_emit(o->offsite != NULL ? NULL : o->dir,
	    o->offsite, o->at, at, sizeof(at)) != 0)
		return VB_EXIT_FAIL;
	if (o->at != NULL) {
		argv = atv;
		argc = 1;
	}
	ret = run(o, argc, argv);
	if (vb_close_stdout() != 0)
		ret = 1;
	return ret ? VB_EXIT_FAIL : VB_EXIT_OK;
}
