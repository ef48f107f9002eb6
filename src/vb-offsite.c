/*
 * vb-offsite - copies each new archive to an rclone remote, verified.
 *
 * Records in, records out: every record passes on unchanged, and each ok
 * `compress` record (or a line holding only a path) is followed by an
 * `offsite` record for its copy on the remote.  A copy counts only once
 * its SHA-256 on the remote equals the archive's; one that differs is
 * removed.  --catch-up then sends every archive of the backup directory
 * the remote lacks, so a night the remote was down is made good by the
 * next.  --check proves the remote usable (--check-job: as the job
 * reaches it, a verdict for vb-backup --check); --encrypt replaces its
 * plaintext archives by encrypted ones; --prune applies vb.conf's
 * retention policy to it (the one implementation vb-prune uses too).
 */
#define _GNU_SOURCE
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "lib/vb.h"

#define SYNOPSIS "[-q] [-r remote] [-d dir] [--catch-up] [archive ...]\n" \
		"       vb-offsite --check | --check-job [-r remote]\n" \
		"       vb-offsite --encrypt [-q] [-r remote] [-d dir]\n" \
		"       vb-offsite --prune [-n] [-r remote]"

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
	    "Copies archives to the rclone remote (default $OFFSITE): each ok\n"
	    "compress record on stdin (or a line holding only a path, or the\n"
	    "archives named), uploaded under a temporary name and moved into\n"
	    "place only once its SHA-256 there equals the archive's.  Every\n"
	    "record read passes on; an offsite record follows for each copy.\n"
	    "Credentials stay in rclone's configuration (RCLONE_CONFIG or\n"
	    "RCLONE_CONFIG_<NAME>_* variables).\n\n"
	    "  -r, --remote REMOTE  an rclone path, remote:bucket/dir\n"
	    "  -d, --dir DIR        the backup directory ($BACKUP_DIR)\n"
	    "      --catch-up       then send every archive in DIR that the\n"
	    "                       remote lacks\n"
	    "      --check          list, write, read back and delete a file\n"
	    "                       on the remote\n"
	    "      --check-job      the same, as the nightly reaches it\n"
	    "                       (cron's empty environment), else from\n"
	    "                       here: a verdict for vb-backup --check\n"
	    "      --encrypt        replace the remote's plaintext archives\n"
	    "                       (made before ENCRYPT_TO) by encrypted\n"
	    "                       copies, each verified there first\n"
	    "      --prune          apply vb.conf's retention policy to the\n"
	    "                       remote (for other rules: vb-prune)\n"
	    "  -n, --dry-run        with --prune: delete nothing\n"
	    "  -q, --quiet          no notices\n"
	    "      --print-config   print the configuration as vb reads it\n"
	    "  -h, --help           this help\n"
	    "  -V, --version        print the version\n\n"
	    "OFFSITE_TIMEOUT bounds each rclone command (seconds, default\n"
	    "10800), OFFSITE_RETRIES and OFFSITE_BWLIMIT are passed to it.\n"
	    "Exit status: 0 every copy verified, 1 one failed (a failed\n"
	    "offsite record was written), 2 bad usage or configuration.\n");
}

/* What vb-offsite does with a line of stdin: ok archives, paths. */
static int
act(struct vb_record *r, enum vb_line kind, void *arg)
{
	const char *remote = *(const char **)arg;

	if (kind == VB_LINE_PATH)
		return vb_offsite_emit(r->path, NULL, remote, quiet);
	if (strcmp(r->op, "compress") != 0 || !r->ok)
		return 0;
	return vb_offsite_emit(r->path, r->sha256[0] != '\0' ? r->sha256 :
	    NULL, remote, quiet);
}

/*
 * --prune: the retention policy of vb.conf on the remote (vb-prune
 * --offsite takes other rules).  Returns the exit status.
 */
static int
prune(const char *remote, int dry)
{
	struct vb_policy p;

	memset(&p, 0, sizeof(p));
	p.pre_restore = 3;
	vb_policy_config(&p);
	return vb_prune_emit(vb_config("BACKUP_DIR"), remote, &p, dry);
}

enum { CATCH_UP = 256, CHECK, CHECK_JOB, ENCRYPT, PRINT_CONFIG, PRUNE };
static const struct option longopts[] = {
	{ "catch-up",	no_argument,		NULL, CATCH_UP },
	{ "check",	no_argument,		NULL, CHECK },
	{ "check-job",	no_argument,		NULL, CHECK_JOB },
	{ "dir",	required_argument,	NULL, 'd' },
	{ "dry-run",	no_argument,		NULL, 'n' },
	{ "encrypt",	no_argument,		NULL, ENCRYPT },
	{ "help",	no_argument,		NULL, 'h' },
	{ "print-config", no_argument,		NULL, PRINT_CONFIG },
	{ "prune",	no_argument,		NULL, PRUNE },
	{ "quiet",	no_argument,		NULL, 'q' },
	{ "remote",	required_argument,	NULL, 'r' },
	{ "version",	no_argument,		NULL, 'V' },
	{ NULL,		0,			NULL, 0 }
};

/* What vb-offsite was asked to do: one of these. */
enum verb { SEND, CATCH_UP_V, CHECK_V, CHECK_JOB_V, ENCRYPT_V, PRUNE_V };

/* The command line: what to do, and where. */
struct opts {
	enum verb	 verb;
	const char	*remote;	/* -r, else OFFSITE */
	const char	*given;		/* -r, or NULL */
	const char	*dir;		/* -d, else BACKUP_DIR */
	int		 dry;		/* -n, with --prune */
};

/* A mode's option: one mode at most. */
static void
mode(struct opts *o, enum verb v)
{
	if (o->verb != SEND)
		usage("--check, --check-job, --catch-up, --encrypt and --prune "
		    "go alone");
	o->verb = v;
}

/* Parses the options into o; returns optind.  usage() on bad ones. */
static int
parse(int argc, char *argv[], struct opts *o)
{
	int ch;

	memset(o, 0, sizeof(*o));
	while ((ch = getopt_long(argc, argv, "d:hnqr:V", longopts,
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
		case 'q':
			quiet = 1;
			break;
		case 'r':
			o->remote = o->given = optarg;
			break;
		case 'V':
			vb_print_version();
			break;
		case CATCH_UP:
			mode(o, CATCH_UP_V);
			break;
		case CHECK:
			mode(o, CHECK_V);
			break;
		case CHECK_JOB:
			mode(o, CHECK_JOB_V);
			break;
		case ENCRYPT:
			mode(o, ENCRYPT_V);
			break;
		case PRINT_CONFIG:
			vb_config_print_exit(NULL);
		case PRUNE:
			mode(o, PRUNE_V);
			break;
		default:
			usage(NULL);
		}
	}
	return optind;
}

/* Checks what the options make together; usage() if it makes no sense. */
static void
check_opts(struct opts *o, int argc, char *argv[])
{
	char why[1024];
	int i;

	if (o->dry && o->verb != PRUNE_V)
		usage("-n goes with --prune");
	if (o->verb != SEND && o->verb != CATCH_UP_V && argc != 0)
		usage("--check, --check-job, --encrypt and --prune take no "
		    "arguments");
	if (o->remote == NULL && (o->remote = vb_config("OFFSITE")) == NULL)
		usage("no remote: -r REMOTE, or OFFSITE in vb.conf");
	if (vb_remote_valid(o->remote, why, sizeof(why)) != 0)
		usage(why);
	if ((o->verb == CATCH_UP_V || o->verb == ENCRYPT_V) &&
	    o->dir == NULL &&
	    (o->dir = vb_config("BACKUP_DIR")) == NULL)
		usage("--catch-up and --encrypt need the backup directory: -d "
		    "DIR or BACKUP_DIR");
	if (o->verb == ENCRYPT_V && vb_config("ENCRYPT_TO") == NULL)
		usage("--encrypt needs ENCRYPT_TO (vb.conf or the "
		    "environment)");
	for (i = 0; i < argc; i++)
		if (*argv[i] == '\0' || vb_has_ctl(argv[i]))
			usage("paths may not be empty or hold TAB, CR or "
			    "newline");
}

/*
 * --check: the remote proven usable, the finding on stdout either way
 * (a check's report is its output; the exit status says which).
 */
static int
check(const char *remote)
{
	char found[1024], why[1024];
	int rc = vb_remote_probe(remote, found, sizeof(found), why,
	    sizeof(why));

	return printf("%s\n", rc == 0 ? found : why) < 0 || rc != 0;
}

int
main(int argc, char *argv[])
{
	struct vb_verdicts vs = { 0 };
	struct opts o;
	int i, ret = 0;

	i = parse(argc, argv, &o);
	argc -= i;
	argv += i;
	vb_config_require(0);
	check_opts(&o, argc, argv);

	switch (o.verb) {
	case CHECK_V:
		ret = check(o.remote);
		break;
	case CHECK_JOB_V:
		vb_check_remote(o.remote, o.given, &vs);
		ret = vb_verdicts_print(&vs, "offsite");
		break;
	case ENCRYPT_V:
		ret = vb_encrypt_remote_emit(o.dir, o.remote, quiet);
		break;
	case PRUNE_V:
		ret = prune(o.remote, o.dry);
		break;
	case SEND:
	case CATCH_UP_V:
		if (argc == 0)
			ret = vb_stage_loop(act, &o.remote);
		for (i = 0; i < argc; i++)
			ret |= vb_offsite_emit(argv[i], NULL, o.remote, quiet);
		/* A remote that just failed is not asked again. */
		if (o.verb == CATCH_UP_V && ret == 0)
			ret |= vb_catch_up_emit(o.dir, o.remote, quiet);
		break;
	}
	if (vb_close_stdout() != 0)
		ret = 1;
	return ret ? VB_EXIT_FAIL : VB_EXIT_OK;
}
