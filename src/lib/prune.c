/*
 * prune.c - a retention policy applied to a backup directory.
 *
 * The plan is made only from a listing that can be trusted: a directory
 * vb may use, read whole, with no backup dated more than a day ahead of
 * the clock (a clock or a name gone wrong would make "newest" mean the
 * wrong thing).  Deletion then takes one file at a time, and only if it
 * is still the regular file that was listed.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vb.h"

/* A backup dated further ahead than this is not one to reason about. */
#define FUTURE_SLACK	(24 * 3600)

int
vb_prune_list(const char *where, struct vb_backup *list, size_t n,
    const struct vb_policy *p, char *why, size_t wlen)
{
	time_t now = time(NULL);
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i].when.tv_sec > now + FUTURE_SLACK) {
			snprintf(why, wlen, "%s/%s is dated in the future; "
			    "deleting nothing until the clock or the name is "
			    "right", where, list[i].files[0].name);
			return -1;
		}
	vb_retention(list, n, p);
	return 0;
}

int
vb_prune_plan(const char *dir, const struct vb_policy *p,
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
	/* A record of damage is dropped once the file is good or gone. */
	vb_health(dir, *list, *n, 0, 1);
	if (vb_prune_list(dir, *list, *n, p, why, wlen) != 0) {
		free(*list);
		*list = NULL;
		return -1;
	}
	return 0;
}

int
vb_prune_file(int dfd, const char *name, int dry, int64_t *bytes, char *why,
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
