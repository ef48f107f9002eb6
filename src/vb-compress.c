/*
 * vb-compress - turns raw snapshots into compressed, verified archives.
 *
 * For each ok snapshot record (or plain path) on stdin, or each FILE, it
 * writes <stem>.tar.zst beside the snapshot, reads it back end to end, and
 * only then removes the snapshot.  Records it reads pass through unchanged
 * and in order; each archive adds a compress record after its snapshot's.
 */
#define _GNU_SOURCE
#include <sys/resource.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/vb.h"

#define SYNOPSIS "[-kq] [--progress] [-e recipients] [-l level] " \
		"[-T threads]\n                   [-z zstd|gzip|xz|none] " \
		"[--full-every D] [--full] [file ...]\n" \
		"       vb-compress --encrypt [-q] [-e recipients] [file ...]"

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
	    "  -k, --keep           keep the raw snapshot\n"
	    "  -l, --level N        compression level (zstd 1-19, gzip 1-9,\n"
	    "                       xz 0-9; default zstd 3)\n"
	    "  -q, --quiet          no notices or progress on stderr (errors "
	    "still)\n"
	    "      --progress       show progress even when stderr is not a\n"
	    "                       terminal (it shows by default on one)\n"
	    "  -T, --threads N      compression threads (zstd, xz)\n"
	    "  -z, --compression K  zstd, gzip, xz or none (default\n"
	    "                       $COMPRESSION, else zstd)\n"
	    "      --print-config   print the configuration as vb reads it\n"
	    "  -h, --help           this help\n"
	    "  -V, --version        print the version\n\n"
	    "Exit status: 0 done, 1 an item failed (a failed record was\n"
	    "written), 2 bad usage or configuration.\n");
}

/*
 * The links of the chain vb-compress would have built on that were found
 * damaged or missing: one failed verify record each (tonight's archive is
 * a full one).  Returns 0 if there were none, else 1.
 */
static int
faults(const char *path, const struct vb_compress_result *res)
{
	char dir[4096], base[256], msg[1400], where[4400];
	int i;

	if (res->nfaults == 0)
		return 0;
	vb_path_split(path, dir, sizeof(dir), base, sizeof(base));
	for (i = 0; i < res->nfaults; i++) {
		vb_fault_text(&res->faults[i], dir, msg, sizeof(msg));
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), "; "
		    "tonight's backup is a full one");
		warnx("%s", msg);
		vb_path_join(where, sizeof(where), dir, res->faults[i].name);
		vb_emit("verify", where, 0, -1, NULL, vb_monotonic_ms(), msg);
	}
	return 1;
}

/*
 * Archives one snapshot and writes its compress record.  Returns 0, or 1
 * if it failed.
 */
static int
compress_one(const char *path, const struct vb_snapmeta *meta,
    const struct vb_compress_opts *o)
{
	struct vb_compress_result res;
	char msg[2400];
	int64_t t0 = vb_monotonic_ms();
	int rc, ret = 0;

	rc = vb_compress_file(path, meta, o, &res);
	if (!quiet && res.note[0] != '\0')
		warnx("%s", res.note);
	if (faults(path, &res) != 0)
		ret = 1;
	vb_compress_message(o, &res, rc, msg, sizeof(msg));
	if (rc != 0)
		warnx("%s", res.why);
	/* A loss of rows is news even to a quiet run. */
	if (res.warning[0] != '\0')
		warnx("WARNING: %s", res.warning);
	/* Flushed at once: vb-log downstream logs each as it happens. */
	if (vb_emit("compress", rc >= 0 ? res.path : path, rc >= 0,
	    rc >= 0 ? res.bytes : -1, rc >= 0 ? res.sha256 : NULL, t0,
	    msg) != 0 || fflush(stdout) != 0)
		return 1;
	return rc == 0 ? ret : 1;
}

/*
 * --encrypt: an archive made before ENCRYPT_TO (or a snapshot set aside
 * by a failed check) encrypted in place, and its compress record.
 * Returns 0, or 1 if it failed.
 */
static int
encrypt_one(const char *path, const struct vb_compress_opts *o)
{
	struct vb_compress_result res;
	char msg[1400];
	int64_t t0 = vb_monotonic_ms();
	int rc;

	rc = vb_encrypt_in_place(path, o->encrypt_to, &res);
	if (!quiet && res.note[0] != '\0')
		warnx("%s", res.note);
	vb_encrypt_message(path, &res, rc, msg, sizeof(msg));
	if (rc != 0)
		warnx("%s", rc < 0 ? res.why : msg);
	if (vb_emit("compress", rc >= 0 ? res.path : path, rc >= 0,
	    rc >= 0 ? res.bytes : -1, rc >= 0 ? res.sha256 : NULL, t0,
	    msg) != 0 || fflush(stdout) != 0)
		return 1;
	return rc != 0;
}

/* A path vb-compress is given: a raw snapshot, or with --encrypt any. */
static int
one_path(const char *path, const struct vb_compress_opts *o)
{
	if (o->encrypt_only && !vb_is_snapshot(path))
		return encrypt_one(path, o);
	return compress_one(path, NULL, o);
}

/* What vb-compress does with a line of stdin: ok snapshots, paths. */
static int
act(struct vb_record *r, enum vb_line kind, void *arg)
{
	const struct vb_compress_opts *o = arg;
	struct vb_snapmeta meta;

	if (kind == VB_LINE_PATH)
		return one_path(r->path, o);
	if (strcmp(r->op, "snapshot") != 0 || !r->ok)
		return 0;
	vb_snapmeta_parse(r->msg, &meta);
	meta.sha256 = r->sha256[0] != '\0' ? r->sha256 : NULL;
	meta.bytes = r->bytes;
	return compress_one(r->path, &meta, o);
}

enum { ENCRYPT = 256, FULL, FULL_EVERY, PRINT_CONFIG, PROGRESS };
static const struct option longopts[] = {
	{ "compression", required_argument,	NULL, 'z' },
	{ "encrypt",	no_argument,		NULL, ENCRYPT },
	{ "encrypt-to",	required_argument,	NULL, 'e' },
	{ "full",	no_argument,		NULL, FULL },
	{ "full-every",	required_argument,	NULL, FULL_EVERY },
	{ "help",	no_argument,		NULL, 'h' },
	{ "keep",	no_argument,		NULL, 'k' },
	{ "level",	required_argument,	NULL, 'l' },
	{ "print-config", no_argument,		NULL, PRINT_CONFIG },
	{ "progress",	no_argument,		NULL, PROGRESS },
	{ "quiet",	no_argument,		NULL, 'q' },
	{ "threads",	required_argument,	NULL, 'T' },
	{ "version",	no_argument,		NULL, 'V' },
	{ NULL,		0,			NULL, 0 }
};

/* The options as given, before they mean anything. */
struct args {
	const char	*kind, *level, *threads, *every;
	int		 full, progress;
};

/* Parses the options into a and o; returns optind. */
static int
parse(int argc, char *argv[], struct args *a, struct vb_compress_opts *o)
{
	int ch;

	memset(a, 0, sizeof(*a));
	memset(o, 0, sizeof(*o));
	while ((ch = getopt_long(argc, argv, "e:hkl:qT:Vz:", longopts,
	    NULL)) != -1) {
		switch (ch) {
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
		case ENCRYPT:
			o->encrypt_only = 1;
			break;
		case FULL:
			a->full = 1;
			break;
		case FULL_EVERY:
			a->every = optarg;
			break;
		case PRINT_CONFIG:
			vb_config_print_exit(NULL);
		case PROGRESS:
			a->progress = 1;
			break;
		default:
			usage(NULL);
		}
	}
	return optind;
}

/* The compression, its level and threads; usage() if they are wrong. */
static void
compression(const struct args *a, struct vb_compress_opts *o)
{
	const char *kind = a->kind != NULL ? a->kind :
	    vb_config("COMPRESSION");
	uint64_t v;
	int maxlevel;

	if (vb_compression_parse(kind, &o->a.ext, &maxlevel) != 0)
		usage("compression must be zstd, gzip, xz or none");
	if (a->level != NULL) {
		if (o->a.ext == VB_EXT_TAR)
			usage("-l makes no sense with -z none");
		if (vb_parse_u64(a->level, &v) != 0 || v > (uint64_t)maxlevel ||
		    (v == 0 && o->a.ext != VB_EXT_TAR_XZ))
			usage("level out of range for this compression");
		o->a.level = (int)v;
	} else if (o->a.ext == VB_EXT_TAR_ZST)
		o->a.level = VB_ZSTD_LEVEL;
	if (a->threads != NULL) {
		if (vb_parse_u64(a->threads, &v) != 0 || v < 1 || v > 256)
			usage("threads must be 1 to 256");
		o->a.threads = (int)v;
	}
}

/* What the options make together; usage() if it makes no sense. */
static void
configure(const struct args *a, struct vb_compress_opts *o,
    struct vb_duration *d, int argc, char *argv[])
{
	const char *every = a->every != NULL ? a->every :
	    vb_config("FULL_EVERY");
	int i;

	compression(a, o);
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
	if (o->encrypt_to != NULL && o->keep)
		usage("-k would keep the unencrypted snapshot: not with "
		    "ENCRYPT_TO");
	if (o->encrypt_only && o->encrypt_to == NULL)
		usage("--encrypt needs the recipients: -e FILE or ENCRYPT_TO");
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
	if (argc == 0)
		ret = vb_stage_loop(act, &o);
	for (i = 0; i < argc; i++)
		ret |= one_path(argv[i], &o);
	if (vb_close_stdout() != 0)
		ret = 1;
	return ret ? VB_EXIT_FAIL : VB_EXIT_OK;
}
