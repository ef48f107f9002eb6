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
		"[--keep-daily N] [--keep-weekly N] [--keep-monthly N]\n" \
		"                [--keep-pre-restore N]"

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
	    "KEEP_DAILY, KEEP_WEEKLY, KEEP_MONTHLY and KEEP_WITHIN from the\n"
	    "environment or vb.conf.\n\n"
	    "  -d, --dir DIR             the backup directory\n"
	    "      --offsite REMOTE      the rclone remote instead (OFFSITE):\n"
	    "                            the same policy, vb's names only\n"
	    "      --keep N              the last N backups\n"
	    "      --keep-within D       all within D of the newest backup\n"
	    "                            (D: 7d, 2w, 6m, 1y, 36h, 1y6m)\n"
	    "      --keep-daily N        the newest of each of the last N "
	    "days\n"
	    "      --keep-weekly N       ... ISO weeks\n"
	    "      --keep-monthly N      ... months\n"
	    "      --keep-pre-restore N  the last N pre-restore copies "
	    "(default 3)\n"
	    "  -n, --dry-run             print what would go; delete nothing\n"
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

/*
 * The policy vb.conf and the environment set (the configuration is
 * loaded and valid): MAX_BACKUPS and the KEEP_* rules.
 */
static void
config_policy(struct vb_policy *p)
{
	const char *v;
	uint64_t n;

	if ((v = vb_config("MAX_BACKUPS")) != NULL && vb_parse_u64(v, &n) == 0)
		p->keep = (int64_t)n;
	if ((v = vb_config("KEEP_DAILY")) != NULL && vb_parse_u64(v, &n) == 0)
		p->daily = (int64_t)n;
	if ((v = vb_config("KEEP_WEEKLY")) != NULL && vb_parse_u64(v, &n) == 0)
		p->weekly = (int64_t)n;
	if ((v = vb_config("KEEP_MONTHLY")) != NULL &&
	    vb_parse_u64(v, &n) == 0)
		p->monthly = (int64_t)n;
	if ((v = vb_config("KEEP_WITHIN")) != NULL &&
	    vb_parse_duration(v, &p->within_d) == 0)
		p->within = 1;
}

/* Reports a prune that deleted nothing: why, and a failed record. */
static int
nothing_deleted(const char *why, int64_t t0)
{
	warnx("%s", why);
	vb_emit("prune", "-", 0, -1, NULL, t0, why);
	return 1;
}

/* Where a prune deletes: a directory, or the rclone remote. */
struct place {
	const char	*where;		/* the directory, or the remote */
	int		 dfd;		/* the directory's; -1 for the remote */
};

/*
 * Deletes (or lists, when dry) every file of a backup the policy did not
 * keep, one prune record each; counts what it deleted in *deleted.
 * Returns 0, or 1 if a file could not be deleted or a record written.
 */
static int
delete_unkept(const struct place *pl, const struct vb_backup *list,
    size_t n, int dry, int *deleted)
{
	char why[1024], path[4096];
	const char *name;
	int64_t bytes, t0;
	size_t i;
	int j, rc, ret = 0;

	for (i = 0; i < n; i++)
		for (j = 0; !list[i].keep && j < list[i].nfiles; j++) {
			t0 = vb_monotonic_ms();
			name = list[i].files[j].name;
			if (pl->dfd != -1) {
				vb_path_join(path, sizeof(path), pl->where,
				    name);
				rc = vb_prune_file(pl->dfd, name, dry, &bytes,
				    why, sizeof(why));
			} else {
				vb_remote_join(path, sizeof(path), pl->where,
				    name);
				bytes = list[i].files[j].bytes;
				rc = dry ? 0 : vb_remote_delete(pl->where, name,
				    why, sizeof(why));
			}
			if (rc != 0) {
				warnx("%s: %s", path, why);
				vb_emit("prune", path, 0, -1, NULL, t0, why);
				ret = 1;
				continue;
			}
			*deleted += !dry;
			if (vb_emit("prune", path, 1, bytes, NULL, t0, dry ?
			    "dry-run" : pl->dfd != -1 ? "deleted: kept by no "
			    "rule" : "deleted offsite: kept by no rule") != 0)
				ret = 1;
		}
	return ret;
}

/*
 * --dry-run: each chain of deltas and what becomes of it, on stderr
 * (stdout holds only the records of what would be deleted).
 */
static void
show_chains(const char *where, const struct vb_backup *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (list[i].keep == 3)
			continue;	/* said by unsafe() */
		if (list[i].keep == 2)
			fprintf(stderr, "%s: %s/%s: a %s, kept because %s "
			    "is built on it\n", vb_progname(), where,
			    list[i].stem, list[i].delta ? "delta" :
			    "full backup", list[list[i].needed_by].stem);
		else if (list[i].delta)
			fprintf(stderr, "%s: %s/%s: a delta of %s, %s\n",
			    vb_progname(), where, list[i].stem,
			    list[i].parent[0] != '\0' ? list[i].parent :
			    "the backup before it", list[i].keep ? "kept, "
			    "and every backup it is built on" :
			    "deleted with no kept backup built on it");
	}
}

/* The backups kept because they cannot be restored from here, said. */
static void
unsafe(const char *where, const struct vb_backup *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i].keep == 3)
			warnx("%s/%s: kept, counted by no rule: %s; "
			    "vb-backup --check says what to do", where,
			    list[i].stem, list[i].why);
}

/* The policy on a directory. */
static int
prune(const char *dir, const struct vb_policy *p, int dry)
{
	struct vb_backup *list;
	struct place pl;
	char why[1024];
	int64_t t0 = vb_monotonic_ms();
	size_t n;
	int ret, deleted = 0;

	if (vb_prune_plan(dir, p, &list, &n, why, sizeof(why)) != 0)
		return nothing_deleted(why, t0);
	pl.where = dir;
	if ((pl.dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(why, sizeof(why), "%s: %s", dir, strerror(errno));
		free(list);
		return nothing_deleted(why, t0);
	}
	if (dry)
		show_chains(dir, list, n);
	unsafe(dir, list, n);
	ret = delete_unkept(&pl, list, n, dry, &deleted);
	/* The page indexes and records of deleted backups go with them. */
	if (!dry && deleted > 0) {
		vb_index_gc(dir);
		vb_damage_gc(dir);
	}
	if (deleted > 0 && fsync(pl.dfd) != 0) {
		warn("fsync %s", dir);
		ret = 1;
	}
	close(pl.dfd);
	free(list);
	return ret;
}

/*
 * A remote backup whose local copy cannot be restored (damaged, or on a
 * damaged link) may be the only good one: kept like the local one, and
 * counted by no rule.
 */
static void
local_unsafe(const char *dir, struct vb_backup *remote, size_t n)
{
	struct vb_backup *list;
	char why[512];
	size_t nl, i, j;

	if (vb_scan(dir, &list, &nl, why, sizeof(why)) != 0)
		return;
	vb_index_parents(dir, list, nl);
	vb_health(dir, list, nl, 0, 0);
	for (i = 0; i < n; i++)
		for (j = 0; j < nl; j++)
			if (list[j].unsafe && strcmp(list[j].stem,
			    remote[i].stem) == 0) {
				remote[i].unsafe = 1;
				snprintf(remote[i].why, sizeof(remote[i].why),
				    "the local copy cannot be restored (%s): "
				    "this may be the good one", list[j].why);
			}
	free(list);
}

/* The same policy on the rclone remote's listing (rclone deletefile). */
static int
prune_remote(const char *remote, const struct vb_policy *p, int dry)
{
	struct vb_backup *list;
	struct place pl = { remote, -1 };
	const char *local;
	char why[1024];
	int64_t t0 = vb_monotonic_ms();
	size_t n;
	int ret, deleted = 0;

	if (vb_remote_list(remote, &list, &n, why, sizeof(why)) != 0) {
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
		    "; deleting nothing");
		return nothing_deleted(why, t0);
	}
	/* The remote holds no indexes: the local ones name the parents. */
	if ((local = vb_config("BACKUP_DIR")) != NULL) {
		vb_index_parents(local, list, n);
		local_unsafe(local, list, n);
	}
	if (vb_prune_list(remote, list, n, p, why, sizeof(why)) != 0) {
		free(list);
		return nothing_deleted(why, t0);
	}
	if (dry)
		show_chains(remote, list, n);
	unsafe(remote, list, n);
	ret = delete_unkept(&pl, list, n, dry, &deleted);
	free(list);
	return ret;
}

enum { KEEP = 256, WITHIN, DAILY, WEEKLY, MONTHLY, OFFSITE, PRE,
    PRINT_CONFIG };
static const struct option longopts[] = {
	{ "dir",		required_argument,	NULL, 'd' },
	{ "dry-run",		no_argument,		NULL, 'n' },
	{ "help",		no_argument,		NULL, 'h' },
	{ "keep",		required_argument,	NULL, KEEP },
	{ "keep-daily",		required_argument,	NULL, DAILY },
	{ "keep-monthly",	required_argument,	NULL, MONTHLY },
	{ "keep-pre-restore",	required_argument,	NULL, PRE },
	{ "keep-weekly",	required_argument,	NULL, WEEKLY },
	{ "keep-within",	required_argument,	NULL, WITHIN },
	{ "offsite",		required_argument,	NULL, OFFSITE },
	{ "print-config",	no_argument,		NULL, PRINT_CONFIG },
	{ "version",		no_argument,		NULL, 'V' },
	{ NULL,			0,			NULL, 0 }
};

int
main(int argc, char *argv[])
{
	struct vb_policy p;
	const char *dir = NULL, *remote = NULL;
	char why[1024];
	int ch, dry = 0, given = 0, ret;

	memset(&p, 0, sizeof(p));
	p.pre_restore = 3;
	while ((ch = getopt_long(argc, argv, "d:hnV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'h':
			help();
			break;
		case 'n':
			dry = 1;
			break;
		case 'V':
			vb_print_version();
			break;
		case KEEP:
			p.keep = count("--keep", optarg);
			given = 1;
			break;
		case WITHIN:
			if (vb_parse_duration(optarg, &p.within_d) != 0)
				usage("--keep-within wants a duration like 7d, "
				    "2w, 6m, 1y or 36h");
			p.within = 1;
			given = 1;
			break;
		case DAILY:
			p.daily = count("--keep-daily", optarg);
			given = 1;
			break;
		case WEEKLY:
			p.weekly = count("--keep-weekly", optarg);
			given = 1;
			break;
		case MONTHLY:
			p.monthly = count("--keep-monthly", optarg);
			given = 1;
			break;
		case OFFSITE:
			remote = optarg;
			break;
		case PRE:
			p.pre_restore = count("--keep-pre-restore", optarg);
			break;
		case PRINT_CONFIG:
			vb_config_print_exit();
		default:
			usage(NULL);
		}
	}
	argc -= optind;

	if (argc != 0)
		usage("no arguments besides options");
	vb_config_require();
	if (!given)
		config_policy(&p);
	if (p.keep == 0 && !p.within && p.daily == 0 && p.weekly == 0 &&
	    p.monthly == 0)
		usage("that policy keeps nothing but the newest backup; "
		    "give a count of 1 or more");
	if (remote != NULL) {
		if (dir != NULL)
			usage("-d and --offsite: one place at a time");
		if (vb_remote_valid(remote, why, sizeof(why)) != 0)
			usage(why);
		ret = prune_remote(remote, &p, dry);
		if (vb_close_stdout() != 0)
			ret = 1;
		return ret ? VB_EXIT_FAIL : VB_EXIT_OK;
	}
	if (dir == NULL && (dir = vb_config("BACKUP_DIR")) == NULL)
		usage("no backup directory: -d DIR or BACKUP_DIR");
	if (*dir == '\0' || vb_has_ctl(dir))
		usage("the directory may not be empty or hold TAB, CR or "
		    "newline");

	ret = prune(dir, &p, dry);
	if (vb_close_stdout() != 0)
		ret = 1;
	return ret ? VB_EXIT_FAIL : VB_EXIT_OK;
}
