/*
 * vb-compress - turns raw snapshots into compressed, verified archives,
 * and takes points.
 *
 * For each ok snapshot record (or plain path) on stdin, or each FILE, it
 * writes <stem>.tar.zst beside the snapshot, reads it back end to end, and
 * only then removes the snapshot.  Records it reads pass through unchanged
 * and in order; each archive adds a compress record after its snapshot's.
 * --point archives the pages of a live database changed since its
 * nightly, never copying it (makepoint.c); --due says which run is due.
 */
#define _GNU_SOURCE
#include <sys/resource.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/vb.h"

#define SYNOPSIS "[-kq] [--progress] [-e recipients] [-l level] " \
		"[-T threads]\n                   [-z zstd|gzip|xz|none] " \
		"[--full-every D] [--full] [file ...]\n" \
		"       vb-compress --encrypt [-q] [-e recipients] " \
		"[file ...]\n" \
		"       vb-compress --point [-q] [-d dir] [-e recipients] " \
		"[-l level] [-z ...] db\n" \
		"       vb-compress --due [-q] [-d dir]\n" \
		"       vb-compress --orphans [-d dir]\n" \
		"       vb-compress --leftovers [-q] [-d dir] " \
		"[-e recipients] [-l level]\n" \
		"                   [-T threads] [-z ...]\n" \
		"       vb-compress --scrub [-d dir] [-e recipients] [name ...]"

/*
 * What it does: archive snapshots, encrypt archives, a point, --due,
 * and the raw snapshots left in the directory.  --scrub lives here, not
 * in vb-prune: it keeps vb-compress's promise under ENCRYPT_TO (no
 * plaintext outlives the archive), while vb-prune removes backups by a
 * policy that counts them.
 */
enum verb { COMPRESS, ENCRYPT, POINT, DUE, ORPHANS, LEFTOVERS, SCRUB };

static int quiet;

static void __attribute__((noreturn))
usage(const char *why)
{
	vb_usage(SYNOPSIS, why);
}

static void __attribute__((noreturn))
help(void)
{
	vb_help(SYNOPSIS,
	    "Archives each raw snapshot (from ok snapshot records or plain\n"
	    "paths on stdin, or each file) as <stem>.tar.zst beside it: a tar\n"
	    "of MANIFEST and <stem>.db, read back and checked before the raw\n"
	    "snapshot is removed.  Records read pass through unchanged.\n\n"
	    "  -e, --encrypt-to F   then encrypt it with age to the\n"
	    "                       recipients in F (default $ENCRYPT_TO):\n"
	    "                       <stem>.tar.zst.age, no plaintext left\n"
	    "      --full-every D   incremental: a delta archive of the pages\n"
	    "                       changed since the last backup, unless\n"
	    "                       the last full one is older than D (7d;\n"
	    "                       default $FULL_EVERY, else always full)\n"
	    "      --full           a full archive now (its page index kept\n"
	    "                       for the deltas after it)\n"
	    "      --encrypt        encrypt archives made before ENCRYPT_TO\n"
	    "                       in place, each read back and checked\n"
	    "                       first (raw snapshots are archived and\n"
	    "                       encrypted as usual)\n"
	    "      --point          a point of the live db: the pages changed\n"
	    "                       since its nightly (or the hour's point),\n"
	    "                       read in one read transaction, never\n"
	    "                       copied whole: backup-<time>.delta.tar.zst\n"
	    "      --due            say which run of vb-backup is due now:\n"
	    "                       nightly or point (NIGHTLY_AT,\n"
	    "                       BACKUP_INTERVAL)\n"
	    "      --orphans        keep the intermediate snapshots handed\n"
	    "                       to this one's parent (the job) that no\n"
	    "                       vb-compress finished: synced, named as\n"
	    "                       raw backups\n"
	    "      --leftovers      archive the raw snapshots in DIR that\n"
	    "                       have no archive (with ENCRYPT_TO, every\n"
	    "                       one)\n"
	    "      --scrub          remove the raw snapshots NAMEd (else\n"
	    "                       every one) in DIR (not through a link,\n"
	    "                       vb's names only), each a line on\n"
	    "                       stdout: ENCRYPT_TO allows no plaintext\n"
	    "                       (needs -e or ENCRYPT_TO)\n"
	    "  -d, --dir DIR        --point, --due, --orphans, --leftovers,\n"
	    "                       --scrub: the backups\n"
	    "                       (default\n"
	    "                       $BACKUP_DIR)\n"
	    "  -k, --keep           keep the raw snapshot\n"
	    "  -l, --level N        compression level (zstd 1-19, gzip 1-9,\n"
	    "                       xz 0-9; default zstd 3)\n"
	    "  -q, --quiet          no notices or progress on stderr (errors "
	    "still)\n"
	    "      --progress       show progress even when stderr is not a\n"
	    "                       terminal (it shows by default on one)\n"
	    "  -T, --threads N      compression threads (zstd, xz; default\n"
	    "                       $COMPRESSION_THREADS, else the cores)\n"
	    "  -z, --compression K  zstd, gzip, xz or none (default\n"
	    "                       $COMPRESSION, else zstd)\n"
	    "      --print-config   print the configuration as vb reads it\n"
	    "  -h, --help           this help\n"
	    "  -V, --version        print the version\n\n"
	    "Exit status: 0 done, 1 an item failed (a failed record was\n"
	    "written), 2 bad usage or configuration.\n");
}

enum { DUE_OPT = 256, ENCRYPT_OPT, FULL, FULL_EVERY, LEFTOVERS_OPT,
    ORPHANS_OPT, POINT_OPT, PRINT_CONFIG, PROGRESS, SCRUB_OPT };
static const struct option longopts[] = {
	{ "compression", required_argument,	NULL, 'z' },
	{ "dir",	required_argument,	NULL, 'd' },
	{ "due",	no_argument,		NULL, DUE_OPT },
	{ "encrypt",	no_argument,		NULL, ENCRYPT_OPT },
	{ "encrypt-to",	required_argument,	NULL, 'e' },
	{ "full",	no_argument,		NULL, FULL },
	{ "full-every",	required_argument,	NULL, FULL_EVERY },
	{ "help",	no_argument,		NULL, 'h' },
	{ "keep",	no_argument,		NULL, 'k' },
	{ "leftovers",	no_argument,		NULL, LEFTOVERS_OPT },
	{ "level",	required_argument,	NULL, 'l' },
	{ "orphans",	no_argument,		NULL, ORPHANS_OPT },
	{ "point",	no_argument,		NULL, POINT_OPT },
	{ "print-config", no_argument,		NULL, PRINT_CONFIG },
	{ "progress",	no_argument,		NULL, PROGRESS },
	{ "quiet",	no_argument,		NULL, 'q' },
	{ "scrub",	no_argument,		NULL, SCRUB_OPT },
	{ "threads",	required_argument,	NULL, 'T' },
	{ "version",	no_argument,		NULL, 'V' },
	{ NULL,		0,			NULL, 0 }
};

/* The options as given, before they mean anything. */
struct args {
	enum verb	 verb;
	const char	*kind, *level, *threads, *every, *dir;
	int		 full, progress;
};

/* A mode's option: one mode at most. */
static void
mode(struct args *a, enum verb v)
{
	if (a->verb != COMPRESS)
		usage("--encrypt, --point, --due, --orphans, --leftovers and "
		    "--scrub are exclusive");
	a->verb = v;
}

/*
 * Parses the options into a and o; returns optind.
 * (long: one case per option)
 */
static int
parse(int argc, char *argv[], struct args *a, struct vb_compress_opts *o)
{
	int ch;

	memset(a, 0, sizeof(*a));
	memset(o, 0, sizeof(*o));
	while ((ch = getopt_long(argc, argv, "d:e:hkl:qT:Vz:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			a->dir = optarg;
			break;
		case 'e':
			o->encrypt_to = optarg;
			break;
		case 'h':
			help();
			break;
		case 'k':
			o->keep = 1;
			break;
		case 'l':
			a->level = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'T':
			a->threads = optarg;
			break;
		case 'V':
			vb_print_version();
			break;
		case 'z':
			a->kind = optarg;
			break;
		case DUE_OPT:
			mode(a, DUE);
			break;
		case ENCRYPT_OPT:
			mode(a, ENCRYPT);
			o->encrypt_only = 1;
			break;
		case FULL:
			a->full = 1;
			break;
		case FULL_EVERY:
			a->every = optarg;
			break;
		case LEFTOVERS_OPT:
			mode(a, LEFTOVERS);
			break;
		case ORPHANS_OPT:
			mode(a, ORPHANS);
			break;
		case POINT_OPT:
			mode(a, POINT);
			break;
		case PRINT_CONFIG:
			vb_config_print_exit(NULL);
		case PROGRESS:
			a->progress = 1;
			break;
		case SCRUB_OPT:
			mode(a, SCRUB);
			break;
		default:
			usage(NULL);
		}
	}
	return optind;
}

/* What a mode on a directory is given; usage() if it makes no sense. */
static void
check_point(struct args *a, struct vb_compress_opts *o, int argc,
    char *argv[])
{
	if (o->keep || a->progress || (a->verb != LEFTOVERS && (a->full ||
	    a->every != NULL)))
		usage("--point, --due, --orphans and --scrub take -q, -d, and "
		    "--point -e, -l, -T and -z");
	if (a->dir == NULL && (a->dir = vb_config("BACKUP_DIR")) == NULL)
		usage("--point, --due, --orphans, --leftovers and --scrub need "
		    "-d DIR or BACKUP_DIR");
	if (a->verb == SCRUB && o->encrypt_to == NULL)
		usage("--scrub removes plaintext only where ENCRYPT_TO allows "
		    "none: -e FILE or ENCRYPT_TO");
	if (a->verb == POINT ? argc != 1 : a->verb != SCRUB && argc != 0)
		usage(a->verb == POINT ? "--point takes the live database" :
		    "--due, --orphans and --leftovers take no operand");
	if (vb_has_ctl(a->dir) || (a->verb == POINT && (*argv[0] == '\0' ||
	    vb_has_ctl(argv[0]))))
		usage("paths may not be empty or hold TAB, CR or newline");
}

/* What the options make together; usage() if it makes no sense. */
static void
configure(struct args *a, struct vb_compress_opts *o,
    struct vb_duration *d, int argc, char *argv[])
{
	const char *every = a->every != NULL ? a->every :
	    vb_config("FULL_EVERY");
	char why[128];
	uint64_t ms;
	int i;

	if (vb_compress_settings(a->kind, a->level, a->threads, o, why,
	    sizeof(why)) != 0)
		usage(why);
	if (o->encrypt_to == NULL)
		o->encrypt_to = vb_config("ENCRYPT_TO");
	o->sign_with = vb_config("SIGN_WITH");
	memset(d, 0, sizeof(*d));
	if (every != NULL && vb_parse_duration(every, d) != 0)
		usage("--full-every takes a duration: 7d, 2w, 36h");
	o->full = a->full;	/* whatever FULL_EVERY says */
	/* --full: a delta never, the index for the next ones still. */
	if (every != NULL || a->full)
		o->full_every = d;
	/* Points between nightlies lean on the nightlies' page indexes. */
	o->index = vb_parse_u64(vb_config("BACKUP_INTERVAL"), &ms) == 0 &&
	    ms < 86400000;
	if (o->encrypt_to != NULL && o->keep)
		usage("-k would keep the unencrypted snapshot: not with "
		    "ENCRYPT_TO");
	if (o->encrypt_only && o->encrypt_to == NULL)
		usage("--encrypt needs the recipients: -e FILE or ENCRYPT_TO");
	if (a->verb != COMPRESS && a->verb != ENCRYPT)
		check_point(a, o, argc, argv);
	else if (a->dir != NULL)
		usage("-d goes with --point, --due, --orphans, --leftovers and "
		    "--scrub");
	for (i = 0; i < argc; i++)
		if (*argv[i] == '\0' || vb_has_ctl(argv[i]))
			usage("paths may not be empty or hold TAB, CR or "
			    "newline");
}

int
main(int argc, char *argv[])
{
	struct vb_compress_opts o;
	struct vb_duration d;
	struct args a;
	int i, ret = 0;

	i = parse(argc, argv, &a, &o);
	argc -= i;
	argv += i;
	vb_progress_mode(a.progress, quiet);
	vb_config_require(VB_CONF_SIGN);
	configure(&a, &o, &d, argc, argv);

	setpriority(PRIO_PROCESS, 0, VB_NICE);
	switch (a.verb) {
	case DUE:
		ret = vb_due_emit(a.dir, quiet);
		break;
	case ORPHANS:
		ret = vb_orphans_emit(a.dir);
		break;
	case LEFTOVERS:
		ret = vb_leftovers_emit(a.dir, &o, quiet);
		break;
	case SCRUB:
		ret = vb_scrub_emit(a.dir, argv, argc);
		break;
	case POINT:
		ret = vb_point_emit(&(struct vb_point_opts){ argv[0], a.dir,
		    &o }, quiet);
		break;
	default:
		if (argc == 0)
			ret = vb_compress_stage(&o, quiet);
		for (i = 0; i < argc; i++)
			ret |= vb_compress_path(argv[i], &o, quiet);
	}
	if (vb_close_stdout() != 0)
		ret = 1;
	return ret ? VB_EXIT_FAIL : VB_EXIT_OK;
}
