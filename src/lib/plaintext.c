/*
 * plaintext.c - the raw snapshots of a backup directory, the plaintext a
 * run may leave behind: which have no archive of their own, and their
 * removal where ENCRYPT_TO allows none.  Only regular files with the names
 * vb makes for a raw snapshot are ever named (scan.c); a removal unlinks
 * that name in the directory, never a file through a link, and is synced.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vblib.h"

/* By name: oldest first, as the archives are made in time order. */
static int
by_name(const void *a, const void *b)
{
	const struct vb_listed *x = a, *y = b;

	return strcmp(x->name, y->name);
}


int
vb_raw_list(const char *dir, int all, struct vb_listed **out, size_t *n,
    char *why, size_t wlen)
{
	struct vb_backup *list;
	size_t i, nb, cap = 0;
	int j;

	*out = NULL;
	*n = 0;
	if (vb_scan(dir, &list, &nb, why, wlen) != 0)
		return -1;
	for (i = 0; i < nb; i++) {
		if (!all && vb_has_archive(&list[i]))
			continue;
		for (j = 0; j < list[i].nfiles; j++)
			if (list[i].files[j].ext == VB_EXT_DB &&
			    vb_listed_add(out, n, &cap, list[i].files[j].name,
			    -1) != 0) {
				snprintf(why, wlen, "out of memory");
				free(list);
				free(*out);
				*out = NULL;
				*n = 0;
				return -1;
			}
	}
	free(list);
	if (*n > 1)
		qsort(*out, *n, sizeof(**out), by_name);
	return 0;
}

int
vb_raw_remove(const char *dir, const char *name, char *why, size_t wlen)
{
	struct stat st;
	int dfd, rc = -1;

	if (strchr(name, '/') != NULL || !vb_is_snapshot(name)) {
		snprintf(why, wlen, "%s/%s: not a raw snapshot's name", dir,
		    name);
		return -1;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(why, wlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	/* The name itself, never what a link planted under it points at. */
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		snprintf(why, wlen, "%s/%s: %s", dir, name, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		snprintf(why, wlen, "%s/%s: not a regular file; left as it is",
		    dir, name);
	else if (unlinkat(dfd, name, 0) != 0)
		snprintf(why, wlen, "%s/%s: cannot remove: %s", dir, name,
		    strerror(errno));
	else if (fsync(dfd) != 0)
		/* Removed, but a crash might bring the plaintext back. */
		snprintf(why, wlen, "%s: syncing the removal of %s: %s", dir,
		    name, strerror(errno));
	else
		rc = 0;
	close(dfd);
	return rc;
}
