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
		"(--to path | --db db | --verify-only) [--offsite] archive\n" \
		"       vb-restore --list [--json | --fields] [--sums | " \
		"--verify [--full-check]] [dir]\n" \
		"       vb-restore --list --offsite [--json | --fields]\n" \
		"       vb-restore --drill [-q] [-d dir] [-i identity] " \
		"[--offsite] [name ...]"

struct opts {
	const char	*archive;	/* or, with --list, the directory */
	const char	*to;		/* --to */
	const char	*db;		/* --db */
	const char	*dir;		/* -d: the pre-restore copy's dir */
	int		 force;
	int		 quick;		/* quick_check, not integrity_check */
	int		 verify_only;
	int		 quiet;
	int		 list;		/* --list, with: */
	int		 verify;	/* --verify */
	int		 sums;		/* --sums */
	int		 fields;	/* --fields */
	int		 full;		/* --full-check */
	int		 json;		/* --json */
	const char	*offsite;	/* --offsite: OFFSITE, the remote */
	int		 progress;	/* --progress */
	const char	*identity;	/* -i: age identity */
	int		 drill;		/* --drill */
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
	    "Verifies a vb archive (or raw backup-*.db snapshot) and restores\n"
	    "it.  Verification: exactly MANIFEST and <stem>.db, the size and\n"
	    "SHA-256 the manifest declares (so the bytes are those of the\n"
	    "snapshot that passed its check when taken), and SQLite reading\n"
	    "the copy's schema; a raw .db gets PRAGMA quick_check.\n\n"
	    "      --to PATH      write the verified database to PATH (0600)\n"
	    "      --force        with --to: replace an existing PATH; with\n"
	    "                     --db: restore another database's backup\n"
	    "      --db DB        replace the live database DB, first saving\n"
	    "                     pre-restore-<time>.tar.zst in the backup "
	    "dir\n"
	    "      --verify-only  only verify, and report\n"
	    "  -i, --identity F   the age identity (private key) that\n"
	    "                     decrypts an encrypted archive (.age)\n"
	    "      --offsite      the archive is a name on the rclone remote\n"
	    "                     OFFSITE: fetched into the backup directory\n"
	    "                     (a local copy that verifies is used first);\n"
	    "                     with --list: list the remote\n"
	    "      --quick-check  also run PRAGMA quick_check on the copy\n"
	    "      --full-check   also run PRAGMA integrity_check (slow)\n"
	    "  -d, --dir DIR      backup directory for the pre-restore copy\n"
	    "                     (default $BACKUP_DIR, else the archive's)\n"
	    "      --drill        restore the named backups (default: the\n"
	    "                     newest and one older at random) into DIR\n"
	    "                     and prove them: integrity_check, rows as\n"
	    "                     the manifest says, DRILL_SQL returns a row\n"
	    "      --list [DIR]   list the backups in DIR, newest first\n"
	    "      --json         with --list: a JSON array\n"
	    "      --fields       with --list: one line per file, TAB-\n"
	    "                     separated, for scripts: path, stem, kind,\n"
	    "                     type, compression, encrypted (1/0), state\n"
	    "                     (ok/unsafe), parent, bytes, why, proven\n"
	    "                     (when a drill last restored it); snapshots\n"
	    "                     set aside by a failed check too\n"
	    "      --verify       with --list: verify each one (quick_check;\n"
	    "                     --full-check for integrity_check)\n"
	    "      --sums         with --list: check each archive against the\n"
	    "                     SHA-256 recorded when it was made (its page\n"
	    "                     index), and each chain's links\n"
	    "  -q, --quiet        no notices or progress on stderr (errors "
	    "still)\n"
	    "      --progress     show progress even when stderr is not a\n"
	    "                     terminal (it shows by default on one)\n"
	    "      --print-config print the configuration as vb reads it\n"
	    "  -h, --help         this help\n"
	    "  -V, --version      print the version\n\n"
	    "Exit status: 0 done (warnings, if any, on stderr), 1 nothing\n"
	    "was changed (verification or restore failed; a failed record was\n"
	    "written), 2 bad usage or configuration.\n");
}

/* --verify-only, --to or --db.  Returns the exit status. */
static int
restore(const struct opts *o)
{
	struct vb_restore_opts ro;

	memset(&ro, 0, sizeof(ro));
	ro.archive = o->archive;
	ro.to = o->to;
	ro.db = o->db;
	ro.dir = o->dir;
	ro.replace = o->force;
	ro.identity = o->identity;
	/* The archive's SHA-256 proves its bytes are the snapshot that
	 * passed its check: SQLite need only read it, unless asked. */
	ro.check = o->full ? VB_CHECK_FULL : o->quick ? VB_CHECK_QUICK :
	    VB_CHECK_OPEN;
	return vb_restore_emit(&ro, o->offsite, o->verify_only, o->quiet);
}

/* --drill: the names given, else the newest and one older. */
static int
drill(const struct opts *o, int argc, char *argv[])
{
	struct vb_drill_opts d;

	memset(&d, 0, sizeof(d));
	d.dir = o->dir;
	d.remote = o->offsite;
	d.identity = o->identity;
	d.sql = vb_config("DRILL_SQL");
	d.names = argv;
	d.nnames = argc;
	return vb_drill_emit(&d, o->quiet);
}

/* --list: the backups, in the form asked.  Returns the exit status. */
static int
list(const struct opts *o)
{
	struct vb_inventory_opts io;

	memset(&io, 0, sizeof(io));
	io.dir = o->archive;
	io.remote = o->offsite;
	io.identity = o->identity;
	io.verify = o->verify;
	io.check = o->full ? VB_CHECK_FULL : VB_CHECK_QUICK;
	io.sums = o->sums;
	io.json = o->json;
	io.fields = o->fields;
	return vb_inventory(&io);
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

enum { DB = 256, DRILL, FIELDS, FORCE, FULL, JSON, LIST, OFFSITE, PRINT_CONFIG,
    PROGRESS, QUICK, SUMS, TO, VERIFY, VONLY };
static const struct option longopts[] = {
	{ "db",		required_argument,	NULL, DB },
	{ "dir",	required_argument,	NULL, 'd' },
	{ "drill",	no_argument,		NULL, DRILL },
	{ "fields",	no_argument,		NULL, FIELDS },
	{ "force",	no_argument,		NULL, FORCE },
	{ "full-check",	no_argument,		NULL, FULL },
	{ "help",	no_argument,		NULL, 'h' },
	{ "identity",	required_argument,	NULL, 'i' },
	{ "json",	no_argument,		NULL, JSON },
	{ "list",	no_argument,		NULL, LIST },
	{ "offsite",	no_argument,		NULL, OFFSITE },
	{ "print-config", no_argument,		NULL, PRINT_CONFIG },
	{ "progress",	no_argument,		NULL, PROGRESS },
	{ "quick-check", no_argument,		NULL, QUICK },
	{ "quiet",	no_argument,		NULL, 'q' },
	{ "sums",	no_argument,		NULL, SUMS },
	{ "to",		required_argument,	NULL, TO },
	{ "verify",	no_argument,		NULL, VERIFY },
	{ "verify-only", no_argument,		NULL, VONLY },
	{ "version",	no_argument,		NULL, 'V' },
	{ NULL,		0,			NULL, 0 }
};

/* Parses the options into o; returns optind. */
static int
parse(int argc, char *argv[], struct opts *o)
{
	int ch;

	memset(o, 0, sizeof(*o));
	while ((ch = getopt_long(argc, argv, "d:hi:qV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
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
		case DB:
			o->db = optarg;
			break;
		case DRILL:
			o->drill = 1;
			break;
		case FIELDS:
			o->fields = 1;
			break;
		case FORCE:
			o->force = 1;
			break;
		case FULL:
			o->full = 1;
			break;
		case JSON:
			o->json = 1;
			break;
		case LIST:
			o->list = 1;
			break;
		case OFFSITE:
			o->offsite = "";	/* OFFSITE's, once read */
			break;
		case PRINT_CONFIG:
			vb_config_print_exit();
		case PROGRESS:
			o->progress = 1;
			break;
		case QUICK:
			o->quick = 1;
			break;
		case SUMS:
			o->sums = 1;
			break;
		case TO:
			o->to = optarg;
			break;
		case VERIFY:
			o->verify = 1;
			break;
		case VONLY:
			o->verify_only = 1;
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
	struct opts o;
	char why[1024];
	int i, ret;

	i = parse(argc, argv, &o);
	argc -= i;
	argv += i;
	vb_progress_mode(o.progress, o.quiet);
	vb_config_require();
	if (o.offsite != NULL && (o.offsite = vb_config("OFFSITE")) == NULL)
		usage("--offsite needs OFFSITE (vb.conf or the environment)");
	if (o.offsite != NULL && vb_remote_valid(o.offsite, why,
	    sizeof(why)) != 0)
		usage(why);
	if (o.drill && (o.list || o.to != NULL || o.db != NULL ||
	    o.verify_only || o.force || o.quick || o.full || o.json ||
	    o.fields || (o.dir == NULL && (o.dir = vb_config("BACKUP_DIR")) ==
	    NULL)))
		usage("--drill takes -d DIR (or BACKUP_DIR), -i, --offsite and "
		    "names only");
	if (o.list && !o.drill)
		check_list(&o, argc, argv);
	else if (!o.drill)
		check_restore(&o, argc, argv);

	ret = o.drill ? drill(&o, argc, argv) : o.list ? list(&o) :
	    restore(&o);
	if (vb_close_stdout() != 0)
		ret = 1;
	return ret ? VB_EXIT_FAIL : VB_EXIT_OK;
}
