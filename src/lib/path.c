/*
 * path.c - joining and splitting paths into fixed buffers.
 *
 * Every path vb builds goes through here, so that one that does not fit
 * is an error (ENAMETOOLONG), never a silently cut name.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vblib.h"

int
vb_path_join(char *buf, size_t len, const char *dir, const char *name)
{
	int n;

	if (dir == NULL || *dir == '\0')
		n = snprintf(buf, len, "%s", name);
	else
		n = snprintf(buf, len, "%s%s%s", dir,
		    dir[strlen(dir) - 1] == '/' ? "" : "/", name);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
vb_path_split(const char *path, char *dir, size_t dlen, char *base,
    size_t blen)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL) {
		if (snprintf(dir, dlen, ".") >= (int)dlen ||
		    snprintf(base, blen, "%s", path) >= (int)blen)
			goto toolong;
		return 0;
	}
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= dlen || strlen(slash + 1) >= blen)
		goto toolong;
	memcpy(dir, path, n);
	dir[n] = '\0';
	memcpy(base, slash + 1, strlen(slash + 1) + 1);
	return 0;
toolong:
	errno = ENAMETOOLONG;
	return -1;
}
