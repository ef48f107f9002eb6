/*
 * path.c - joining and splitting paths into fixed buffers.
 *
 * Every path vb builds goes through here, so that one that does not fit
 * is an error (ENAMETOOLONG), never a silently cut name.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

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

int
vb_path_in(const char *dir, const char *what, char *base, size_t blen,
    char *why, size_t wlen)
{
	char in[4096];
	struct stat a, b;

	if (strchr(what, '/') == NULL) {
		if (snprintf(base, blen, "%s", what) < (int)blen)
			return 0;
		snprintf(why, wlen, "%.80s...: name too long", what);
		return -1;
	}
	if (vb_path_split(what, in, sizeof(in), base, blen) != 0 ||
	    stat(in, &a) != 0 || stat(dir, &b) != 0 || a.st_dev != b.st_dev ||
	    a.st_ino != b.st_ino) {
		snprintf(why, wlen, "%s: not in %s", what, dir);
		return -1;
	}
	return 0;
}
