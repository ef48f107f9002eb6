/*
 * path.c - joining and splitting paths into fixed buffers.
 *
 * Every path vb builds goes through here, so that one that does not fit
 * is an error (ENAMETOOLONG), never a silently cut name; and every path
 * root opens or writes under is walked here first, a component at a
 * time, so that it follows no symbolic link another user made.
 */
#define _GNU_SOURCE
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

/* ---- a path walked: no link another user made ---- */

#define MAXLINKS	40	/* the kernel's own limit */

/* A walk under way: what is left to walk, and what was, link-free. */
struct walk {
	const char	*path;		/* as given, for messages */
	char		 todo[8192];	/* what is left, from rest */
	const char	*rest;
	char		 done[4096];	/* "": the root; no trailing slash */
	int		 links;
};

/* Fills why with path, what and errno e's words; -1 with errno e. */
static int
failed(const struct walk *w, const char *what, int e, char *why,
    size_t wlen)
{
	snprintf(why, wlen, "%s: %s%s%s", w->path, what, *what ? ": " : "",
	    strerror(e));
	errno = e;
	return -1;
}

/*
 * The next component into comp (skipping slashes): 0, 1 at the end, or
 * -1 if it is longer than a name may be.
 */
static int
next_component(struct walk *w, char *comp, size_t clen)
{
	const char *p = w->rest + strspn(w->rest, "/");
	size_t n = strcspn(p, "/");

	if (n == 0)
		return 1;
	if (n >= clen)
		return -1;
	memcpy(comp, p, n);
	comp[n] = '\0';
	w->rest = p + n;
	return 0;
}

/*
 * The link at at (owned by uid): refused if another user made it, else
 * its target put in front of what is left.  0, -1 (errno), -2 refused.
 */
static int
follow(struct walk *w, const char *at, uid_t uid, char *why, size_t wlen)
{
	char link[4096], buf[8192], who[300];
	ssize_t n;
	int len;

	if (uid != 0 && uid != geteuid()) {
		vb_uid_name(uid, who, sizeof(who));
		snprintf(why, wlen, "%s: %s is a symbolic link made by %s: vb "
		    "follows no link another user made (it could point "
		    "anywhere); name the real path, or have root make the "
		    "link", w->path, at, who);
		errno = EPERM;
		return -2;
	}
	if (++w->links > MAXLINKS)
		return failed(w, at, ELOOP, why, wlen);
	if ((n = readlink(at, link, sizeof(link) - 1)) < 0)
		return failed(w, at, errno, why, wlen);
	link[n] = '\0';
	len = snprintf(buf, sizeof(buf), "%s/%s", link, w->rest);
	if (len < 0 || (size_t)len >= sizeof(w->todo))
		return failed(w, "", ENAMETOOLONG, why, wlen);
	memcpy(w->todo, buf, (size_t)len + 1);
	w->rest = w->todo;
	if (link[0] == '/')
		w->done[0] = '\0';
	return 0;
}

int
vb_path_walk(const char *path, char *real, size_t rlen, struct stat *st,
    char *why, size_t wlen)
{
	char comp[256], next[4352], *slash;
	struct walk w = { .path = path };
	int r;

	if (*path != '/' && getcwd(w.done, sizeof(w.done)) == NULL)
		return failed(&w, "the current directory", errno, why, wlen);
	r = snprintf(w.todo, sizeof(w.todo), "%s/%s", *path != '/' ? w.done :
	    "", path);
	if (r < 0 || (size_t)r >= sizeof(w.todo))
		return failed(&w, "", ENAMETOOLONG, why, wlen);
	w.rest = w.todo;
	w.done[0] = '\0';
	while ((r = next_component(&w, comp, sizeof(comp))) == 0) {
		if (strcmp(comp, ".") == 0)
			continue;
		/* done holds no link: its parent is lexical. */
		if (strcmp(comp, "..") == 0) {
			if ((slash = strrchr(w.done, '/')) != NULL)
				*slash = '\0';
			continue;
		}
		if (snprintf(next, sizeof(next), "%s/%s", w.done, comp) >=
		    (int)sizeof(w.done))
			return failed(&w, "", ENAMETOOLONG, why, wlen);
		if (lstat(next, st) != 0) {
			if (errno != ENOENT)
				return failed(&w, next, errno, why, wlen);
			if (snprintf(real, rlen, "%s%s", next, w.rest) >=
			    (int)rlen)
				return failed(&w, "", ENAMETOOLONG, why, wlen);
			return 1;
		}
		if (!S_ISLNK(st->st_mode))
			memcpy(w.done, next, strlen(next) + 1);
		else if ((r = follow(&w, next, st->st_uid, why, wlen)) != 0)
			return r;
	}
	if (r < 0 || snprintf(real, rlen, "%s", w.done[0] != '\0' ?
	    w.done : "/") >= (int)rlen)
		return failed(&w, "", ENAMETOOLONG, why, wlen);
	if (lstat(real, st) != 0)
		return failed(&w, "", errno, why, wlen);
	return 0;
}

/* ---- a file root trusts ---- */

/*
 * Whether path is a descriptor's link (/dev/fd/N, /proc/self/fd/N: a
 * pipe, a memfd), which names an open file, not a path to walk.
 */
static int
descriptor_link(const char *path)
{
	return strncmp(path, "/dev/fd/", 8) == 0 || strncmp(path,
	    "/proc/", 6) == 0 || strcmp(path, "/dev/stdin") == 0;
}

/*
 * Whether another user could put another file at real (resolved, no
 * link in it): each directory above it must be root's or this user's,
 * and writable by no one else unless sticky (/tmp: no one may rename
 * another's file there).  0, or -1 with why.
 */
static int
dirs_fit(const char *path, const char *real, const char *what, char *why,
    size_t wlen)
{
	char dir[4096], who[300], *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", real);
	while ((slash = strrchr(dir, '/')) != NULL) {
		slash[slash == dir ? 1 : 0] = '\0';
		if (lstat(dir, &st) != 0) {
			snprintf(why, wlen, "%s (%s): %s: %s", path, what, dir,
			    strerror(errno));
			return -1;
		}
		if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
		    ((st.st_mode & (S_IWGRP | S_IWOTH)) &&
		    !(st.st_mode & S_ISVTX))) {
			vb_uid_name(st.st_uid, who, sizeof(who));
			snprintf(why, wlen, "%s (%s) is in %s, owned by %s, "
			    "mode %04o: another user could put another file "
			    "there; root takes what to trust or run only from "
			    "directories no other user may change: chown root "
			    "%s, chmod go-w %s", path, what, dir, who,
			    (unsigned)(st.st_mode & 07777), dir, dir);
			return -1;
		}
		if (strcmp(dir, "/") == 0)
			break;
	}
	return 0;
}

int
vb_open_trusted(const char *path, const char *what, char *why, size_t wlen)
{
	char real[4096], who[300];
	struct stat st;
	int fd, r, flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;

	/* Walked, its links root's: the kernel opens such a descriptor's
	 * link (its owner's), the fstat below judges what it is. */
	if ((r = vb_path_walk(path, real, sizeof(real), &st, why, wlen)) == 1 &&
	    descriptor_link(path)) {
		snprintf(real, sizeof(real), "%s", path);
		flags &= ~O_NOFOLLOW;
	} else if (r != 0) {
		if (r == 1)
			errno = ENOENT;
		return r == -2 ? -1 : -2;
	}
	if ((fd = open(real, flags)) == -1 || fstat(fd, &st) != 0) {
		r = errno;
		snprintf(why, wlen, "%s: %s", path, strerror(r));
		if (fd != -1)
			close(fd);
		errno = r;
		return -2;
	}
	/* /dev/null: nothing at all, whoever may write it. */
	if (geteuid() != 0 || (S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 &&
	    minor(st.st_rdev) == 3))
		return fd;
	if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		vb_uid_name(st.st_uid, who, sizeof(who));
		snprintf(why, wlen, "%s (%s) is owned by %s, mode %04o: root "
		    "takes what to trust or run only from a file no other "
		    "user may change; chown root %s, chmod go-w %s", path,
		    what, who, (unsigned)(st.st_mode & 07777), path, path);
		close(fd);
		return -1;
	}
	/* Nor from a directory another user may change. */
	if (!(flags & O_NOFOLLOW) || dirs_fit(path, real, what, why,
	    wlen) == 0)
		return fd;
	close(fd);
	return -1;
}
