/*
 * dir.c - the backup directory: made mode 0700 whatever the umask, fit
 * to hold backups (a real directory, this user's or root's, that nobody
 * else may write, reached through no link another user made), its lock
 * file made without following a link, and fsync'd so that renames and
 * removals in it are durable.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
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
	/* What exists of it is reached through no link another user made. */
	if (vb_path_walk(dir, buf, sizeof(buf), &st, why, wlen) == -2)
		return -1;
	snprintf(buf, sizeof(buf), "%s", dir);
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

	/* Every component: a link another user made could lead root to
	 * another directory of backups, to prune or restore. */
	if (vb_path_walk(dir, path, sizeof(path), &st, why, wlen) == -2)
		return -1;
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
	/*
	 * Whoever else may write it could plant a link for root to follow
	 * or a backup for root to restore: not a place for backups,
	 * whoever owns it.
	 */
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, wlen, "%s: the backup directory is writable by "
		    "its group or by others (mode %03o): anyone there could "
		    "plant or swap files in it; refusing to use it (chmod "
		    "go-w %s)", dir, (unsigned)(st.st_mode & 07777), dir);
		return -1;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		snprintf(why, wlen, "%s: the backup directory is owned by uid "
		    "%ld, not by this user (uid %ld) nor root: its owner "
		    "could plant or swap files in it; refusing to use it "
		    "(chown it to the user the job runs as)", dir,
		    (long)st.st_uid, (long)geteuid());
		return -1;
	}
	return 0;
}

void
vb_dir_unwritable(const char *dir, int e, char *why, size_t wlen)
{
	struct passwd pwbuf, *pw = NULL;
	char who[300], buf[1024];

	if (getpwuid_r(getuid(), &pwbuf, buf, sizeof(buf), &pw) != 0)
		pw = NULL;
	snprintf(who, sizeof(who), "%s (uid %ld)", pw != NULL ? pw->pw_name :
	    "this user", (long)getuid());
	if (e == EROFS)
		snprintf(why, wlen, "%s: read-only file system; remount it "
		    "read-write, or set BACKUP_DIR to a writable directory",
		    dir);
	else if (e == EACCES || e == EPERM)
		snprintf(why, wlen, "%s: not writable by %s: %s; make it the "
		    "job user's (chown), or run the job as its owner", dir,
		    who, strerror(e));
	else
		snprintf(why, wlen, "%s: cannot write there as %s: %s", dir,
		    who, strerror(e));
}

int
vb_dir_prepare(const char *dir, char *lock, size_t llen, char *why,
    size_t wlen)
{
	struct passwd pwd, *pw = NULL;
	char pbuf[1024], w[1024];
	const char *user;
	struct stat st;
	int dfd, fd;

	(void)getpwuid_r(geteuid(), &pwd, pbuf, sizeof(pbuf), &pw);
	user = pw != NULL ? pw->pw_name : "this user";
	if (vb_path_walk(dir, w, sizeof(w), &st, why, wlen) == -2)
		return -1;
	if (lstat(dir, &st) == 0 && !S_ISDIR(st.st_mode) &&
	    !S_ISLNK(st.st_mode)) {
		snprintf(why, wlen, "%s exists and is not a directory; set "
		    "BACKUP_DIR to a directory (or move that file away)", dir);
		return -1;
	}
	if (vb_mkdir_p(dir, w, sizeof(w)) != 0) {
		snprintf(why, wlen, "cannot create the backup directory %s: "
		    "%s; create it, owned by the user the job runs as (%s), "
		    "or set BACKUP_DIR", dir, strerror(errno), user);
		return -1;
	}
	if (vb_dir_check(dir, why, wlen) != 0)
		return -1;
	/* access() asks as the real user: the one who runs the job. */
	if (access(dir, W_OK | X_OK) != 0) {
		vb_dir_unwritable(dir, errno, why, wlen);
		return -1;
	}
	if (vb_path_join(lock, llen, dir, VB_LOCK_FILE) != 0) {
		snprintf(why, wlen, "%s: name too long", dir);
		return -1;
	}
	/* Made, or opened, never through a link; never truncated; a
	 * FIFO planted there does not hang the job. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || (fd = openat(dfd, VB_LOCK_FILE, O_RDWR |
	    O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600)) == -1) {
		snprintf(why, wlen, "cannot open the lock file %s: %s; the "
		    "backup directory must be writable by %s", lock, errno ==
		    ELOOP ? "it is a symbolic link (remove it)" :
		    strerror(errno), user);
		if (dfd != -1)
			close(dfd);
		return -1;
	}
	close(dfd);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid()) {
		snprintf(why, wlen, "the lock file %s is %s; remove it", lock,
		    !S_ISREG(st.st_mode) ? "not a regular file" : "owned by "
		    "another user");
		close(fd);
		return -1;
	}
	if ((st.st_mode & 07777) != 0600)
		(void)fchmod(fd, 0600);
	close(fd);
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
