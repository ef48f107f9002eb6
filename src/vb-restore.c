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
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lib/vb.h"

#define SYNOPSIS "[-q | --progress] [--quick-check | --full-check] " \
		"[-d dir] [-i identity]\n                  [--force] " \
		"(--to path | --db db | --verify-only) [--offsite] archive\n" \
		"       vb-restore --list [--json] [--sums | --verify " \
		"[--full-check]] [dir]\n" \
		"       vb-restore --list --offsite [--json]"

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
	int		 full;		/* --full-check */
	int		 json;		/* --json */
	const char	*offsite;	/* --offsite: OFFSITE, the remote */
	const char	*identity;	/* -i: age identity */
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
	    "      --full-check   also run PRAGMA integrity_check (indexes\n"
	    "                     too: minutes on large databases)\n"
	    "  -d, --dir DIR      backup directory for the pre-restore copy\n"
	    "                     (default $BACKUP_DIR, else the archive's)\n"
	    "      --list [DIR]   list the backups in DIR, newest first\n"
	    "      --json         with --list: a JSON array\n"
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

/*
 * After --db: where the database as it was is, and the command that puts
 * it back (an encrypted copy needs an identity: the one given, else one
 * of ENCRYPT_TO's, which this host may not hold).
 */
static void
undo_hint(const struct opts *o, const char *saved)
{
	size_t n = strlen(saved), m = strlen(VB_AGE_SUFFIX);
	int enc = n > m && strcmp(saved + n - m, VB_AGE_SUFFIX) == 0;

	fprintf(stderr, "%s: the database as it was is in %s; to undo: %s%s%s "
	    "--db %s %s\n", vb_progname(), saved, vb_progname(), enc ?
	    " -i " : "", !enc ? "" : o->identity != NULL ? o->identity :
	    "IDENTITY-FILE (the private key of a recipient in ENCRYPT_TO)",
	    o->db, saved);
}

/* --verify-only, --to or --db.  Returns the exit status. */
static int
restore(const struct opts *o)
{
	struct vb_restore_opts ro;
	struct vb_restore_result res;
	int64_t t0 = vb_monotonic_ms();
	int rc, ret = 0;

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
	rc = o->offsite != NULL ? vb_restore_offsite(&ro, o->offsite, o->dir,
	    &res) : vb_restore(&ro, &res);
	if (!o->quiet && res.note[0] != '\0')
		warnx("%s", res.note);
	if (rc != 0) {
		warnx("%s", res.msg);
		vb_emit(o->verify_only ? "verify" : "restore", o->verify_only ?
		    o->archive : "-", 0, -1, NULL, t0, res.msg);
		return 1;
	}
	if (o->verify_only)
		return vb_emit("verify", o->archive, 1, res.archive_bytes,
		    res.archive_sha256, t0, res.msg) == 0 ? 0 : 1;
	/* It happened: exit 0, with what went wrong beside it said. */
	if (res.unlogged[0] != '\0')
		warnx("restored, but not recorded: %s", res.unlogged);
	if (vb_emit("restore", res.target, 1, res.bytes, res.sha256, t0,
	    res.msg) != 0)
		ret = 1;
	if (!o->quiet && res.saved[0] != '\0')
		undo_hint(o, res.saved);
	return ret;
}

/*
 * What --list says of a delta's parent: its page index's word (b->parent,
 * vb_index_parents), else its manifest's (a plain local archive), else
 * "" (not known without reading an encrypted or remote one).
 */
static void
parent_of(const char *path, const struct vb_backup *b, int j, char *parent,
    size_t len)
{
	struct vb_manifest m;
	char why[512];
	int fd;

	snprintf(parent, len, "%s", b->files[j].delta ? b->parent : "");
	if (!b->files[j].delta || parent[0] != '\0' ||
	    b->files[j].encrypted || path == NULL ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return;
	if (vb_archive_manifest(fd, &m, why, sizeof(why)) == 0)
		snprintf(parent, len, "%s", m.parent);
	close(fd);
}

/* One backup file of --list, in the listing's form. */
static int
list_one(struct vb_list *out, const char *path, const struct vb_backup *b,
    int j, const char *parent, int check, int ok, const char *why)
{
	char iso[VB_ISO_LEN], msg[1200], hb[32], of[100] = "";
	const char *type = b->files[j].ext == VB_EXT_DB ? "raw" :
	    b->files[j].delta ? "delta" : "full";
	const char *kind = b->kind == VB_KIND_BACKUP ? "backup" : "pre-restore";
	const char *comp = vb_compression_name(b->files[j].ext);
	struct vb_record r;
	char ecomp[32];

	/* "zstd+age": which backups need an identity, shown without one. */
	if (b->files[j].encrypted) {
		snprintf(ecomp, sizeof(ecomp), "%s+age", comp);
		comp = ecomp;
	}

	vb_iso_time(&b->when, iso);
	switch (out->form) {
	case VB_LIST_JSON:
		vb_list_object(out);
		vb_list_str(out, "path", path);
		vb_list_str(out, "time", iso);
		vb_list_str(out, "kind", kind);
		vb_list_str(out, "compression", comp);
		vb_list_str(out, "type", type);
		vb_list_str(out, "parent", parent[0] != '\0' ? parent : NULL);
		vb_list_int(out, "bytes", b->files[j].bytes, 1);
		vb_list_lit(out, "verified", !check ? "null" : ok ? "true" :
		    "false");
		vb_list_str(out, "error", check && !ok ? why : NULL);
		return 0;
	case VB_LIST_TABLE:
		vb_human_bytes((uint64_t)b->files[j].bytes, hb, sizeof(hb));
		if (!ok)
			fprintf(stderr, "%s: %s\n", vb_progname(), why);
		if (b->files[j].delta)
			snprintf(of, sizeof(of), "  (delta of %s)",
			    parent[0] != '\0' ? parent : "the backup before");
		return printf("%-24s  %10s  %-8s  %-5s  %-8s  %s%s\n", iso, hb,
		    comp, type, check ? (ok ? "ok" : "FAILED") : "-", path,
		    of) < 0;
	case VB_LIST_RECORDS:
		break;
	}
	vb_record_init(&r, check ? "verify" : "list", path);
	r.ok = ok;
	r.bytes = b->files[j].bytes;
	r.ms = 0;
	memcpy(r.time, iso, sizeof(r.time));
	if (b->files[j].delta)
		snprintf(of, sizeof(of), " delta of %s", parent[0] != '\0' ?
		    parent : "the backup before");
	snprintf(msg, sizeof(msg), "%s %s%s; %s", kind, comp, of, check ? (ok ?
	    "ok" : why) : b->files[j].ext == VB_EXT_DB ? "raw snapshot" :
	    "read back when written");
	r.msg = msg;
	return vb_record_write(stdout, &r);
}

/*
 * --list: the backups in dir (or on remote), newest first.  Returns the
 * exit status.
 */
static int
list(const char *dir, const char *remote, const char *identity, int check,
    int sums, int full, int json)
{
	struct vb_backup *bk;
	struct vb_verified c;
	struct vb_list out;
	char why[1024], path[4096], parent[64];
	const char *idir;
	size_t n, i;
	int j, ok, ret = 0;

	if (remote != NULL ? vb_remote_list(remote, &bk, &n, why,
	    sizeof(why)) != 0 : vb_scan(dir, &bk, &n, why, sizeof(why)) != 0) {
		warnx("%s", why);
		return 1;
	}
	/* Parents from the page indexes, which only the local side has. */
	if ((idir = remote == NULL ? dir : vb_config("BACKUP_DIR")) != NULL)
		vb_index_parents(idir, bk, n);
	if (remote == NULL) {
		vb_scan_sizes(dir, bk, n);
		/* Recorded damage always; --sums: every recorded SHA-256. */
		vb_health(dir, bk, n, sums, 0);
	} else
		dir = remote;
	vb_list_begin(&out, json);
	if (out.form == VB_LIST_TABLE)
		printf("%-24s  %10s  %-8s  %-5s  %-8s  %s\n", "time (UTC)",
		    "size", "kind", "type", "verified", "file");
	for (i = 0; i < n; i++)
		for (j = 0; j < bk[i].nfiles; j++) {
			if (remote != NULL)
				vb_remote_join(path, sizeof(path), remote,
				    bk[i].files[j].name);
			else
				vb_path_join(path, sizeof(path), dir,
				    bk[i].files[j].name);
			ok = !check || vb_verify_backup(path, NULL, identity,
			    NULL, dir, bk[i].files[j].name, full, &c, why,
			    sizeof(why)) == 0;
			if (check && ok)
				vb_tmp_abort(&c.t);
			/* What cannot be restored from here, said so. */
			if (ok && bk[i].unsafe) {
				snprintf(why, sizeof(why), "cannot be restored "
				    "from here: %s", bk[i].why);
				ok = 0;
			}
			parent_of(remote == NULL ? path : NULL, &bk[i], j,
			    parent, sizeof(parent));
			if (list_one(&out, path, &bk[i], j, parent, check ||
			    !ok || (sums && bk[i].checked), ok, why) != 0 ||
			    !ok)
				ret = 1;
		}
	if (vb_list_end(&out) != 0)
		ret = 1;
	free(bk);
	return ret;
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
	if (o->verify || o->json || o->sums)
		usage("--verify, --sums and --json go with --list; see "
		    "--verify-only");
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

enum { DB = 256, FORCE, FULL, JSON, LIST, OFFSITE, PRINT_CONFIG, PROGRESS,
    QUICK, SUMS, TO, VERIFY, VONLY };
static const struct option longopts[] = {
	{ "db",		required_argument,	NULL, DB },
	{ "dir",	required_argument,	NULL, 'd' },
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

int
main(int argc, char *argv[])
{
	struct opts o;
	char why[1024];
	int ch, progress = 0, offsite = 0, ret;

	memset(&o, 0, sizeof(o));
	while ((ch = getopt_long(argc, argv, "d:hi:qV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'i':
			o.identity = optarg;
			break;
		case 'd':
			o.dir = optarg;
			break;
		case 'h':
			help();
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'V':
			vb_print_version();
			break;
		case DB:
			o.db = optarg;
			break;
		case FORCE:
			o.force = 1;
			break;
		case FULL:
			o.full = 1;
			break;
		case JSON:
			o.json = 1;
			break;
		case LIST:
			o.list = 1;
			break;
		case OFFSITE:
			offsite = 1;
			break;
		case PRINT_CONFIG:
			vb_config_print_exit();
		case PROGRESS:
			progress = 1;
			break;
		case QUICK:
			o.quick = 1;
			break;
		case SUMS:
			o.sums = 1;
			break;
		case TO:
			o.to = optarg;
			break;
		case VERIFY:
			o.verify = 1;
			break;
		case VONLY:
			o.verify_only = 1;
			break;
		default:
			usage(NULL);
		}
	}
	argc -= optind;
	argv += optind;
	vb_progress_mode(progress, o.quiet);
	vb_config_require();
	if (offsite && (o.offsite = vb_config("OFFSITE")) == NULL)
		usage("--offsite needs OFFSITE (vb.conf or the environment)");
	if (o.offsite != NULL && vb_remote_valid(o.offsite, why,
	    sizeof(why)) != 0)
		usage(why);
	if (o.list)
		check_list(&o, argc, argv);
	else
		check_restore(&o, argc, argv);

	ret = o.list ? list(o.archive, o.offsite, o.identity, o.verify,
	    o.sums, o.full, o.json) : restore(&o);
	if (vb_close_stdout() != 0)
		ret = 1;
	return ret ? VB_EXIT_FAIL : VB_EXIT_OK;
}
