/*
 * dir.c - the backup directory: made mode 0700 whatever the umask, fit
 * to hold backups (a real directory, not someone else's world-writable
 * one), and fsync'd so that renames and removals in it are durable.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vblib.h"

int
vb_mkdir_p(const char *dir, char *why, size_t wlen)
{
	char buf[4096], *p;
	struct stat st;

	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf)) {
		snprintf(why, wlen, "%s: path too long", dir);
		return -1;
	}
	for (p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		{
			char c = *p;

			*p = '\0';
			if (mkdir(buf, 0700) == 0) {
				/* mkdir obeys the umask; the mode must not. */
				if (chmod(buf, 0700) != 0) {
					snprintf(why, wlen, "%s: %s", buf,
					    strerror(errno));
					return -1;
				}
			} else if (errno != EEXIST) {
				snprintf(why, wlen, "cannot create directory "
				    "%s: %s", buf, strerror(errno));
				return -1;
			}
			*p = c;
		}
		if (*p == '\0')
			break;
	}
	if (stat(dir, &st) != 0) {
		snprintf(why, wlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, wlen, "%s: not a directory", dir);
		return -1;
	}
	return 0;
}

int
vb_dir_check(const char *dir, char *why, size_t wlen)
{
	char path[4096];
	struct stat st;
	size_t n;

	/* "dir/" would follow a symlink named dir: look at dir itself. */
	snprintf(path, sizeof(path), "%s", dir);
	for (n = strlen(path); n > 1 && path[n - 1] == '/'; n--)
		path[n - 1] = '\0';
	if (lstat(path, &st) != 0) {
		snprintf(why, wlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		snprintf(why, wlen, "%s: the backup directory is a symbolic "
		    "link; name the real directory", dir);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, wlen, "%s: not a directory", dir);
		return -1;
	}
	/* Anyone could swap or plant files in it: not a place for backups. */
	if ((st.st_mode & S_IWOTH) && st.st_uid != geteuid()) {
		snprintf(why, wlen, "%s: the backup directory is "
		    "world-writable and owned by uid %ld, not by this user; "
		    "refusing to use it", dir, (long)st.st_uid);
		return -1;
	}
	return 0;
}

int
vb_fsync_dir(const char *dir)
{
	int fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}
