/*
 * prune.c - a retention policy applied to a backup directory.
 *
 * The plan is made only from a listing that can be trusted: a directory
 * vb may use, read whole; a backup dated more than a day ahead of the
 * clock (a clock or a name gone wrong, or a file planted to freeze
 * retention) is left out of it, kept and named.  Deletion then takes
 * one file at a time, and only if it is still the regular file that was
 * listed.  The same policy applies to
 * the remote's listing, with the local directory's page indexes naming
 * the parents and its health keeping what may be the only good copy.
 * What happens to each file is the caller's to say (vb_prune_out).
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vblib.h"

/* A backup dated further ahead than this is not one to reason about. */
#define FUTURE_SLACK	(24 * 3600)

/*
 * Marks what policy p keeps of a listing of where (a directory or a
 * remote).  A backup dated over a day ahead of the clock (a clock or a
 * name gone wrong, or a file planted to stop retention) counts for no
 * rule and is never deleted: the rest is pruned as if it were not
 * there, and it is named for the operator (tell_kept).  Returns 0.
 */
static int
prune_list(const char *where, struct vb_backup *list, size_t n,
    const struct vb_policy *p, char *why, size_t wlen)
{
	time_t now = time(NULL);
	size_t i;

	(void)where;
	(void)why;
	(void)wlen;
	for (i = 0; i < n; i++)
		if (list[i].when.tv_sec > now + FUTURE_SLACK) {
			list[i].unsafe = 1;
			snprintf(list[i].why, sizeof(list[i].why), "dated in "
			    "the future (the clock or its name is wrong, or "
			    "it was planted): no backup of vb's can be, so "
			    "it is neither counted nor deleted; look at it");
		}
	vb_retention(list, n, p);
	return 0;
}

/*
 * Lists dir's backups and marks what policy p keeps, provided the
 * listing can be trusted (dir usable and read whole, nothing dated over
 * a day ahead).  Returns 0 with *list to free, or -1 with why (which
 * says that nothing will be deleted).
 */
static int
prune_plan(const char *dir, const struct vb_policy *p, int dry,
    struct vb_backup **list, size_t *n, char *why, size_t wlen)
{
	char what[1024];

	*list = NULL;
	if (vb_dir_check(dir, what, sizeof(what)) != 0 ||
	    vb_scan(dir, list, n, what, sizeof(what)) != 0) {
		snprintf(why, wlen, "%s; deleting nothing", what);
		return -1;
	}
	vb_index_parents(dir, *list, *n);
	/*
	 * A record of damage is dropped once the file is good or gone (not
	 * by a dry run, which changes nothing); a failed drill is unsafe.
	 */
	if (vb_health(dir, *list, *n, 0, !dry, vb_config("DB_PATH"), what,
	    sizeof(what)) != 0) {
		/* Which backups failed a drill unknown: none may go. */
		snprintf(why, wlen, "%s; deleting nothing", what);
		free(*list);
		*list = NULL;
		return -1;
	}
	vb_holds_mark(dir, *list, *n);
	if (prune_list(dir, *list, *n, p, why, wlen) != 0) {
		free(*list);
		*list = NULL;
		return -1;
	}
	return 0;
}

/*
 * Deletes name in the directory dfd (unless dry) if it is still a
 * regular file.  Returns 0 with its size in *bytes, or -1 with why.
 */
static int
prune_file(int dfd, const char *name, int dry, int64_t *bytes, char *why,
    size_t wlen)
{
	struct stat st;

	/* Still the regular file we listed, not a new link. */
	errno = 0;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISREG(st.st_mode) || (!dry && unlinkat(dfd, name, 0) != 0)) {
		snprintf(why, wlen, "cannot delete: %s", errno != 0 ?
		    strerror(errno) : "no longer a regular file");
		return -1;
	}
	*bytes = (int64_t)st.st_size;
	return 0;
}

/* ---- the policy applied ---- */

void
vb_policy_config(struct vb_policy *p)
{
	const char *v;
	uint64_t n;

	if ((v = vb_config("MAX_BACKUPS")) != NULL && vb_parse_u64(v, &n) == 0)
		p->keep = (int64_t)n;
	if ((v = vb_config("KEEP_HOURLY")) != NULL &&
	    vb_parse_u64(v, &n) == 0)
		p->hourly = (int64_t)n;
	if ((v = vb_config("KEEP_DAILY")) != NULL && vb_parse_u64(v, &n) == 0)
		p->daily = (int64_t)n;
	if ((v = vb_config("KEEP_WEEKLY")) != NULL && vb_parse_u64(v, &n) == 0)
		p->weekly = (int64_t)n;
	if ((v = vb_config("KEEP_MONTHLY")) != NULL &&
	    vb_parse_u64(v, &n) == 0)
		p->monthly = (int64_t)n;
	if ((v = vb_config("KEEP_WITHIN")) != NULL &&
	    vb_parse_duration(v, &p->within_d) == 0) {
		p->within = 1;
		p->within_s = v;
	}
}

void
vb_policy_words(const struct vb_policy *p, char *buf, size_t len)
{
	static const char *const unit[] = { "hours", "days", "weeks",
	    "months" };
	const int64_t n[] = { p->hourly, p->daily, p->weekly, p->monthly };
	size_t i;

	/* The bash's words, "1 days" too: the dry run's tests read them. */
	snprintf(buf, len, "keep the newest %lld backups", (long long)p->keep);
	for (i = 0; i < sizeof(n) / sizeof(n[0]); i++)
		if (n[i] > 0)
			vb_appendf(buf, len, ", the newest of each of the "
			    "last %lld %s", (long long)n[i], unit[i]);
	if (p->within)
		vb_appendf(buf, len, ", every backup within %s of the newest",
		    p->within_s != NULL ? p->within_s : "?");
	vb_appendf(buf, len, " (any rule keeps a backup); never the newest "
	    "one");
}

/* Where a prune deletes: a directory, or the rclone remote. */
struct place {
	const char		*where;	/* the directory, or the remote */
	int			 dfd;	/* the directory's; -1 the remote */
	int			 dry;
	const struct vb_prune_out *out;
};


/*
 * Deletes (or, dry, only names) every file of a backup the policy did
 * not keep, each told to the caller; counts what it deleted in *deleted.
 * Returns 0, or 1 if a file could not be deleted or told.
 */
static int
delete_unkept(const struct place *pl, const struct vb_backup *list,
    size_t n, int *deleted)
{
	char why[1024], path[4096];
	const char *name;
	int64_t bytes;
	size_t i;
	int j, rc, ret = 0;

	for (i = 0; i < n; i++)
		for (j = 0; !list[i].keep && j < list[i].nfiles; j++) {
			name = list[i].files[j].name;
			if (pl->dfd != -1) {
				vb_path_join(path, sizeof(path), pl->where,
				    name);
				rc = prune_file(pl->dfd, name, pl->dry,
				    &bytes, why, sizeof(why));
			} else {
				vb_remote_join(path, sizeof(path), pl->where,
				    name);
				bytes = list[i].files[j].bytes;
				rc = pl->dry ? 0 : vb_remote_delete(pl->where,
				    name, why, sizeof(why));
			}
			if (rc != 0)
				ret = 1;
			else
				*deleted += !pl->dry;
			if (pl->out->file(pl->out->arg, path, rc == 0, rc == 0 ?
			    bytes : -1, rc != 0 ? why : pl->dry ? "dry-run" :
			    pl->dfd != -1 ? "deleted: kept by no rule" :
			    "deleted offsite: kept by no rule") != 0)
				ret = 1;
		}
	return ret;
}

/*
 * The undo files of partial restores (undo-<ts>.changeset) go with the
 * pre-restore copy of the same time: deleted (or, dry, named) once no
 * kept pre-restore copy has their time.  Returns 0, or 1 as
 * delete_unkept.
 */
static int
undo_unkept(const struct place *pl, const struct vb_backup *list, size_t n,
    int *deleted)
{
	struct timespec when;
	struct dirent *de;
	char why[1024], path[4096];
	int64_t bytes;
	size_t i;
	int enc, kept, rc, ret = 0, dfd;
	DIR *d;

	if ((dfd = dup(pl->dfd)) < 0 || (d = fdopendir(dfd)) == NULL) {
		if (dfd >= 0)
			close(dfd);
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		if (vb_undo_parse(de->d_name, &when, &enc) != 0)
			continue;
		for (i = 0, kept = 0; i < n && !kept; i++)
			kept = list[i].kind == VB_KIND_PRE_RESTORE &&
			    list[i].keep && vb_timespec_cmp(&list[i].when,
			    &when) == 0;
		if (kept)
			continue;
		vb_path_join(path, sizeof(path), pl->where, de->d_name);
		rc = prune_file(pl->dfd, de->d_name, pl->dry, &bytes, why,
		    sizeof(why));
		if (rc != 0)
			ret = 1;
		else
			*deleted += !pl->dry;
		if (pl->out->file(pl->out->arg, path, rc == 0, rc == 0 ? bytes :
		    -1, rc != 0 ? why : pl->dry ? "dry-run" : "deleted: the "
		    "undo of a pre-restore copy no longer kept") != 0)
			ret = 1;
	}
	closedir(d);
	return ret;
}

/*
 * What becomes of each chain (dry: every delta's fate), and of what is
 * kept because it cannot be restored from here, told to the caller.
 */
static void
tell_kept(const struct place *pl, const struct vb_backup *list, size_t n)
{
	const struct vb_backup *b;
	char text[1024];
	size_t i;

	for (i = 0; i < n; i++) {
		b = &list[i];
		if (b->keep == VB_KEEP_UNSAFE)
			snprintf(text, sizeof(text), "%s/%s: kept, counted by "
			    "no rule: %s; vb-backup --check says what to do",
			    pl->where, b->stem, b->why);
		else if (b->keep == VB_KEEP_HELD)
			snprintf(text, sizeof(text), "%s/%s: kept, held after "
			    "a sudden loss of rows until vb-prune --release %s",
			    pl->where, b->stem, b->stem);
		else if (pl->dry && b->keep == VB_KEEP_PARENT)
			snprintf(text, sizeof(text), "%s/%s: a %s, kept "
			    "because %s is built on it", pl->where, b->stem,
			    b->delta ? "delta" : "full backup",
			    list[b->needed_by].stem);
		else if (pl->dry && b->delta)
			snprintf(text, sizeof(text), "%s/%s: a delta of %s, %s",
			    pl->where, b->stem, b->parent[0] != '\0' ?
			    b->parent : "the backup before it", b->keep ?
			    "kept, and every backup it is built on" :
			    "deleted with no kept backup built on it");
		else
			continue;
		pl->out->note(pl->out->arg, text);
	}
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
	/* Unreadable history: what it found stands, the rest kept too. */
	(void)vb_health(dir, list, nl, 0, 0, vb_config("DB_PATH"), why,
	    sizeof(why));
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

/*
 * On the remote, a backup BackupLog (of DB_PATH) never named, when it
 * names any: anyone with the remote's write key may have put it there.
 * It counts for no rule and holds no other backup back (retention.c).
 * Older than the newest backup BackupLog named, it is deleted like any
 * backup no rule keeps; newer, it is kept and named for the operator,
 * never deleted (a database restored from an older backup has a history
 * that does not know the genuine newer ones).  Without a readable
 * BackupLog naming a backup, every name is taken as before.
 */
static void
remote_unrecorded(struct vb_backup *list, size_t n)
{
	struct vb_log_known k;
	const char *db = vb_config("DB_PATH");
	char w[512];
	size_t i, newest = n;
	int j, named;

	if (db == NULL || access(db, F_OK) != 0 ||
	    vb_backuplog_known(db, &k, w, sizeof(w)) != 0)
		return;
	for (i = 0; k.any && i < n; i++) {	/* newest first */
		if (list[i].kind != VB_KIND_BACKUP)
			continue;
		for (j = 0, named = 0; j < list[i].nfiles && !named; j++)
			named = vb_log_known_find(&k, list[i].files[j].name) !=
			    NULL;
		if (named) {
			if (newest == n)
				newest = i;
			continue;
		}
		list[i].unrecorded = 1;
	}
	vb_log_known_free(&k);
	for (i = 0; i < newest && i < n; i++) {
		if (!list[i].unrecorded)
			continue;
		list[i].unsafe = 1;
		snprintf(list[i].why, sizeof(list[i].why), "UNRECORDED: "
		    "BackupLog never named it (planted?), and it is newer "
		    "than every backup it named; it holds no other backup "
		    "back and is never deleted: look at it");
	}
}

/* The remote's listing, planned; 0, or -1 with why. */
static int
plan_remote(const char *remote, const char *dir, const struct vb_policy *p,
    struct vb_backup **list, size_t *n, char *why, size_t wlen)
{
	if (vb_remote_list(remote, list, n, why, wlen) != 0) {
		vb_appendf(why, wlen, "; deleting nothing");
		return -1;
	}
	/* The remote holds no indexes: the local ones name the parents. */
	if (dir != NULL) {
		vb_index_parents(dir, *list, *n);
		local_unsafe(dir, *list, *n);
		vb_holds_mark(dir, *list, *n);
	}
	remote_unrecorded(*list, *n);
	if (prune_list(remote, *list, *n, p, why, wlen) != 0) {
		free(*list);
		*list = NULL;
		return -1;
	}
	return 0;
}

int
vb_prune_apply(const char *dir, const char *remote,
    const struct vb_policy *p, int dry, const struct vb_prune_out *out,
    char *why, size_t wlen)
{
	struct vb_backup *list;
	struct place pl = { remote != NULL ? remote : dir, -1, dry, out };
	size_t n;
	int ret, deleted = 0;

	if (remote != NULL ? plan_remote(remote, dir, p, &list, &n, why,
	    wlen) != 0 : prune_plan(dir, p, dry, &list, &n, why, wlen) != 0)
		return -1;
	if (remote == NULL && (pl.dfd = open(dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		snprintf(why, wlen, "%s: %s; deleting nothing", dir,
		    strerror(errno));
		free(list);
		return -1;
	}
	tell_kept(&pl, list, n);
	ret = delete_unkept(&pl, list, n, &deleted);
	if (remote == NULL)
		ret |= undo_unkept(&pl, list, n, &deleted);
	/* The page indexes and records of deleted backups go with them. */
	if (remote == NULL && deleted > 0) {
		vb_index_gc(dir);
		vb_damage_gc(dir);
		if (fsync(pl.dfd) != 0) {
			snprintf(why, wlen, "fsync %s: %s", dir,
			    strerror(errno));
			out->note(out->arg, why);
			ret = 1;
		}
	}
	if (pl.dfd != -1)
		close(pl.dfd);
	free(list);
	return ret;
}
