/*
 * vb-offsite - copies each new archive to an rclone remote, verified.
 *
 * Records in, records out: every record passes on unchanged, and each ok
 * `compress` record (or a line holding only a path) is followed by an
 * `offsite` record for its copy on the remote.  A copy counts only once
 * its SHA-256 on the remote equals the archive's; one that differs is
 * removed.  --catch-up then sends every archive of the backup directory
 * the remote lacks, so a night the remote was down is made good by the
 * next.  --check proves the remote usable; --prune applies the retention
 * policy to it (vb-prune --offsite: one implementation of the policy).
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/vb.h"

#define SYNOPSIS "[-q] [-r remote] [-d dir] [--catch-up] [archive ...]\n" \
		"       vb-offsite --check [-r remote]\n" \
		"       vb-offsite --encrypt [-q] [-r remote] [-d dir]\n" \
		"       vb-offsite --prune [-n] [-r remote] [vb-prune options]"

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
	    "      --encrypt        replace the remote's plaintext archives\n"
	    "                       (made before ENCRYPT_TO) by encrypted\n"
	    "                       copies, each verified there first\n"
	    "      --prune          apply the retention policy to the remote\n"
	    "                       (vb-prune on the remote; its options)\n"
	    "  -q, --quiet          no notices\n"
	    "      --print-config   print the configuration as vb reads it\n"
	    "  -h, --help           this help\n"
	    "  -V, --version        print the version\n\n"
	    "OFFSITE_TIMEOUT bounds each rclone command (seconds, default\n"
	    "10800), OFFSITE_RETRIES and OFFSITE_BWLIMIT are passed to it.\n"
	    "Exit status: 0 every copy verified, 1 one failed (a failed\n"
	    "offsite record was written), 2 bad usage or configuration.\n");
}

/* The names sent in this run, so that --catch-up sends each once. */
static char	**sent;
static size_t	  nsent;

static void
remember(const char *name)
{
	char **grown = realloc(sent, (nsent + 1) * sizeof(*sent));

	if (grown != NULL && (grown[nsent] = strdup(name)) != NULL) {
		sent = grown;
		nsent++;
	} else if (grown != NULL)
		sent = grown;
}

static int
was_sent(const char *name)
{
	size_t i;

	for (i = 0; i < nsent; i++)
		if (strcmp(sent[i], name) == 0)
			return 1;
	return 0;
}

/*
 * Copies one archive to the remote; sha is the record's (NULL: hashed
 * here).  Writes its offsite record; returns 0, or 1 if it failed.
 */
static int
send_one(const char *path, const char *sha, const char *remote,
    const char *why_sent)
{
	char dir[4096], name[256], dest[4096] = "", hex[VB_SHA256_HEX] = "";
	char how[64], why[2048], what[1800];
	struct vb_name nm;
	struct stat st;
	int64_t t0 = vb_monotonic_ms(), bytes = -1;
	int fd, ok = 0;

	if (vb_path_split(path, dir, sizeof(dir), name, sizeof(name)) != 0 ||
	    vb_name_parse(name, &nm) != 0 || nm.ext == VB_EXT_DB) {
		snprintf(why, sizeof(why), "%s: not a vb archive (backup-<UTC "
		    "time>.tar.zst and the like); not copied", path);
	} else if (vb_remote_join(dest, sizeof(dest), remote, name) != 0) {
		snprintf(why, sizeof(why), "%s: name too long", remote);
	} else if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) ==
	    -1 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (sha == NULL && vb_sha256_fd(fd, hex) < 0)) {
		snprintf(why, sizeof(why), "%s: %s", path, fd == -1 ?
		    strerror(errno) : !S_ISREG(st.st_mode) ?
		    "not a regular file" : strerror(errno));
		if (fd != -1)
			close(fd);
	} else {
		close(fd);
		bytes = (int64_t)st.st_size;
		if (sha != NULL)
			snprintf(hex, sizeof(hex), "%s", sha);
		if (vb_remote_put(path, remote, name, hex, how, sizeof(how),
		    what, sizeof(what)) == 0) {
			snprintf(why, sizeof(why), "copied to %s%s, SHA-256 "
			    "verified (%s)", remote, why_sent, how);
			ok = 1;
		} else
			snprintf(why, sizeof(why), "not copied to %s: %s",
			    remote, what);
	}
	if (!ok)
		warnx("%s: %s", path, why);
	else if (!quiet)
		fprintf(stderr, "%s: %s\n", vb_progname(), why);
	remember(name);
	if (vb_emit("offsite", ok ? dest : path, ok, bytes, ok ? hex : NULL,
	    t0, why) != 0)
		return 1;
	return !ok;
}

/* What vb-offsite does with a line of stdin: ok archives, paths. */
static int
act(struct vb_record *r, enum vb_line kind, void *arg)
{
	const char *remote = *(const char **)arg;

	if (kind == VB_LINE_PATH)
		return send_one(r->path, NULL, remote, "");
	if (strcmp(r->op, "compress") != 0 || !r->ok)
		return 0;
	return send_one(r->path, r->sha256[0] != '\0' ? r->sha256 : NULL,
	    remote, "");
}

/*
 * Sends every archive in dir that the remote lacks (or holds at another
 * size), oldest first, and removes the remote temporaries a killed run
 * left.  Returns 0, or 1 if anything failed.
 */
static int
catch_up(const char *dir, const char *remote)
{
	struct vb_backup *list;
	struct vb_listed *f;
	char why[2048], path[4096];
	size_t n, nf, i;
	int64_t t0 = vb_monotonic_ms();
	int j, ret = 0;

	if (vb_remote_ls(remote, &f, &nf, why, sizeof(why)) != 0) {
		warnx("%s", why);
		vb_emit("offsite", remote, 0, -1, NULL, t0, why);
		return 1;
	}
	vb_remote_clean_stale(remote, f, nf, why, sizeof(why));
	if (why[0] != '\0' && !quiet)
		fprintf(stderr, "%s: %s\n", vb_progname(), why);
	if (vb_scan(dir, &list, &n, why, sizeof(why)) != 0 ||
	    vb_scan_sizes(dir, list, n) != 0) {
		warnx("%s", why);
		vb_emit("offsite", dir, 0, -1, NULL, t0, why);
		free(f);
		return 1;
	}
	for (i = n; i-- > 0;)
		for (j = 0; j < list[i].nfiles; j++) {
			if (list[i].files[j].ext == VB_EXT_DB ||
			    was_sent(list[i].files[j].name) ||
			    vb_listed_size(f, nf, list[i].files[j].name) ==
			    list[i].files[j].bytes)
				continue;
			vb_path_join(path, sizeof(path), dir,
			    list[i].files[j].name);
			ret |= send_one(path, NULL, remote,
			    " (catching up: the remote lacked it)");
		}
	free(list);
	free(f);
	return ret;
}

/*
 * --encrypt: every plaintext archive on the remote (made before
 * ENCRYPT_TO) replaced by its encrypted copy, verified on the remote
 * before the plaintext one is deleted there; an offsite record each.
 * Returns 0, or 1 if anything failed.
 */
static int
encrypt_remote(const char *dir, const char *remote)
{
	struct vb_listed *f;
	struct vb_name nm;
	char why[2048], path[4400], hex[VB_SHA256_HEX], msg[2600];
	int64_t t0 = vb_monotonic_ms(), bytes;
	size_t nf, i;
	int ok, ret = 0;

	if (vb_remote_ls(remote, &f, &nf, why, sizeof(why)) != 0) {
		warnx("%s", why);
		vb_emit("offsite", remote, 0, -1, NULL, t0, why);
		return 1;
	}
	for (i = 0; i < nf; i++) {
		if (vb_name_parse(f[i].name, &nm) != 0 || nm.encrypted ||
		    nm.ext == VB_EXT_DB)
			continue;
		t0 = vb_monotonic_ms();
		ok = vb_encrypt_remote(remote, f[i].name, dir,
		    vb_config("ENCRYPT_TO"), f, nf, hex, &bytes, why,
		    sizeof(why)) == 0;
		vb_remote_join(path, sizeof(path), remote, f[i].name);
		if (ok) {
			snprintf(msg, sizeof(msg), "%s: replaced by its copy "
			    "encrypted with age, SHA-256 verified there; the "
			    "plaintext one deleted", path);
			if (!quiet)
				fprintf(stderr, "%s: %s\n", vb_progname(), msg);
			strncat(path, VB_AGE_SUFFIX, sizeof(path) -
			    strlen(path) - 1);
		} else {
			snprintf(msg, sizeof(msg), "%s: not encrypted: %s; the "
			    "plaintext one is still there", path, why);
			warnx("%s", msg);
			ret = 1;
		}
		if (vb_emit("offsite", path, ok, ok ? bytes : -1, ok ? hex :
		    NULL, t0, msg) != 0)
			ret = 1;
	}
	free(f);
	return ret;
}

/*
 * --prune: vb-prune --offsite REMOTE with every other argument given (its
 * policy options, -n), the remote from -r/--remote or OFFSITE.
 */
static void __attribute__((noreturn))
prune(int argc, char *argv[])
{
	char self[PATH_MAX], prog[PATH_MAX + 16], why[1024], *slash;
	char **args = calloc((size_t)argc + 4, sizeof(*args));
	const char *remote = NULL;
	ssize_t len;
	int n = 3, i;

	if (args == NULL)
		err(VB_EXIT_FAIL, "out of memory");
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--prune") == 0)
			continue;
		if ((strcmp(argv[i], "-r") == 0 || strcmp(argv[i],
		    "--remote") == 0) && i + 1 < argc)
			remote = argv[++i];
		else if (strncmp(argv[i], "--remote=", 9) == 0)
			remote = argv[i] + 9;
		else
			args[n++] = argv[i];
	}
	vb_config_require();
	if (remote == NULL && (remote = vb_config("OFFSITE")) == NULL)
		usage("no remote: -r REMOTE, or OFFSITE in vb.conf");
	if (vb_remote_valid(remote, why, sizeof(why)) != 0)
		usage(why);
	args[0] = "vb-prune";
	args[1] = "--offsite";
	args[2] = (char *)remote;
	/* The vb-prune installed beside this program, else on PATH. */
	if ((len = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		self[len] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			snprintf(prog, sizeof(prog), "%s/vb-prune", self);
			if (access(prog, X_OK) == 0)
				execv(prog, args);
		}
	}
	execvp("vb-prune", args);
	err(VB_EXIT_FAIL, "cannot run vb-prune");
}

enum { CATCH_UP = 256, CHECK, ENCRYPT, PRINT_CONFIG };
static const struct option longopts[] = {
	{ "catch-up",	no_argument,		NULL, CATCH_UP },
	{ "check",	no_argument,		NULL, CHECK },
	{ "dir",	required_argument,	NULL, 'd' },
	{ "encrypt",	no_argument,		NULL, ENCRYPT },
	{ "help",	no_argument,		NULL, 'h' },
	{ "print-config", no_argument,		NULL, PRINT_CONFIG },
	{ "quiet",	no_argument,		NULL, 'q' },
	{ "remote",	required_argument,	NULL, 'r' },
	{ "version",	no_argument,		NULL, 'V' },
	{ NULL,		0,			NULL, 0 }
};

int
main(int argc, char *argv[])
{
	const char *remote = NULL, *dir = NULL;
	char why[1024];
	int ch, i, up = 0, check = 0, enc = 0, ret = 0;

	/* --prune hands its arguments to vb-prune, which reads them. */
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--prune") == 0)
			prune(argc, argv);
	while ((ch = getopt_long(argc, argv, "d:hqr:V", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'h':
			help();
			break;
		case 'q':
			quiet = 1;
			break;
		case 'r':
			remote = optarg;
			break;
		case 'V':
			vb_print_version();
			break;
		case CATCH_UP:
			up = 1;
			break;
		case CHECK:
			check = 1;
			break;
		case ENCRYPT:
			enc = 1;
			break;
		case PRINT_CONFIG:
			vb_config_print_exit();
		default:
			usage(NULL);
		}
	}
	argc -= optind;
	argv += optind;
	vb_config_require();

	if (check + up + enc > 1)
		usage("--check, --catch-up and --encrypt go alone");
	if (remote == NULL && (remote = vb_config("OFFSITE")) == NULL)
		usage("no remote: -r REMOTE, or OFFSITE in vb.conf");
	if (vb_remote_valid(remote, why, sizeof(why)) != 0)
		usage(why);
	if (check) {
		if (argc != 0)
			usage("--check takes no arguments");
		ret = vb_remote_probe(remote, why, sizeof(why));
		printf("%s\n", why);
		return ret == 0 && vb_close_stdout() == 0 ? VB_EXIT_OK :
		    VB_EXIT_FAIL;
	}
	if ((up || enc) && dir == NULL && (dir = vb_config("BACKUP_DIR")) ==
	    NULL)
		usage("--catch-up and --encrypt need the backup directory: -d "
		    "DIR or BACKUP_DIR");
	if (enc) {
		if (argc != 0)
			usage("--encrypt takes no arguments");
		if (vb_config("ENCRYPT_TO") == NULL)
			usage("--encrypt needs ENCRYPT_TO (vb.conf or the "
			    "environment)");
		ret = encrypt_remote(dir, remote);
		return vb_close_stdout() == 0 && ret == 0 ? VB_EXIT_OK :
		    VB_EXIT_FAIL;
	}
	for (i = 0; i < argc; i++)
		if (*argv[i] == '\0' || vb_has_ctl(argv[i]))
			usage("paths may not be empty or hold TAB, CR or "
			    "newline");

	if (argc == 0)
		ret = vb_stage_loop(act, &remote);
	for (i = 0; i < argc; i++)
		ret |= send_one(argv[i], NULL, remote, "");
	/* A remote that just failed is not asked again in the same run. */
	if (up && ret == 0)
		ret |= catch_up(dir, remote);
	if (vb_close_stdout() != 0)
		ret = 1;
	for (i = 0; (size_t)i < nsent; i++)
		free(sent[i]);
	free(sent);
	return ret ? VB_EXIT_FAIL : VB_EXIT_OK;
}
