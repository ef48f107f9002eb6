/*
 * tmpfile.c - writes that never leave a partial file under a final name.
 *
 * Work in progress is written to ".vb-tmp-<pid>-<final name>" in the
 * destination directory, fsync'd, renamed into place without replacing
 * anything, and the directory fsync'd.  A signal removes the temporary at
 * once; a crash leaves only a temporary, which the next run removes once
 * its writer (the PID in its name) is gone.
 */
#define _GNU_SOURCE
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vblib.h"

/* SQLite may create these beside a database it writes. */
static const char *sqlite_sides[] = { "-journal", "-wal", "-shm" };

/*
 * The temporaries a signal must remove, with their names laid out in
 * advance: the handler may only call async-signal-safe functions.
 */
#define MAXLIVE	4
static struct {
	volatile sig_atomic_t	 used;
	int			 dirfd;
	char			 names[4][280];
} live[MAXLIVE];

static void
on_signal(int sig)
{
	int i, j;

	for (i = 0; i < MAXLIVE; i++)
		if (live[i].used)
			for (j = 0; j < 4; j++)
				unlinkat(live[i].dirfd, live[i].names[j], 0);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
track(const struct vb_tmp *t)
{
	static int installed;
	static const int sigs[] = { SIGHUP, SIGINT, SIGPIPE, SIGTERM };
	struct sigaction sa;
	size_t i, j;

	if (!installed) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			sigaddset(&sa.sa_mask, sigs[i]);
		for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			sigaction(sigs[i], &sa, NULL);
		installed = 1;
	}
	for (i = 0; i < MAXLIVE; i++) {
		if (live[i].used)
			continue;
		live[i].dirfd = t->dirfd;
		snprintf(live[i].names[0], sizeof(live[i].names[0]), "%s",
		    t->name);
		for (j = 0; j < 3; j++)
			snprintf(live[i].names[j + 1], sizeof(live[i].names[0]),
			    "%s%s", t->name, sqlite_sides[j]);
		live[i].used = 1;
		return;
	}
}

static void
untrack(const struct vb_tmp *t)
{
	int i;

	for (i = 0; i < MAXLIVE; i++)
		if (live[i].used && live[i].dirfd == t->dirfd &&
		    strcmp(live[i].names[0], t->name) == 0)
			live[i].used = 0;
}

void
vb_tmp_guard(struct vb_tmp *t)
{
	track(t);
}

void
vb_tmp_unguard(struct vb_tmp *t)
{
	untrack(t);
}

/* Its writer's PID into *pid; the name it will get, or NULL. */
static const char *
split_tmp(const char *name, long *pid)
{
	const char *p;

	*pid = 0;
	if (strncmp(name, VB_TMP_PREFIX, strlen(VB_TMP_PREFIX)) != 0)
		return NULL;
	p = name + strlen(VB_TMP_PREFIX);
	if (*p < '0' || *p > '9')
		return NULL;
	for (; *p >= '0' && *p <= '9'; p++) {
		*pid = *pid * 10 + (*p - '0');
		if (*pid > 0x7fffffffL)
			return NULL;
	}
	if (*p != '-' || *pid <= 0)
		return NULL;
	return p + 1;
}

long
vb_tmp_pid(const char *name)
{
	long pid;

	return split_tmp(name, &pid) != NULL ? pid : -1;
}

const char *
vb_tmp_final(const char *name)
{
	long pid;
	const char *final = split_tmp(name, &pid);

	return final != NULL && *final != '\0' ? final : NULL;
}

int
vb_tmp_open(struct vb_tmp *t, const char *dir, const char *final, char *why,
    size_t wlen)
{
	int n, saved;

	memset(t, 0, sizeof(*t));
	t->fd = t->dirfd = -1;
	n = snprintf(t->name, sizeof(t->name), "%s%ld-%s", VB_TMP_PREFIX,
	    (long)getpid(), final);
	if (n < 0 || (size_t)n >= sizeof(t->name) ||
	    strlen(final) >= sizeof(t->final)) {
		snprintf(why, wlen, "%s: name too long", final);
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(t->final, final, strlen(final) + 1);
	if ((t->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(why, wlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	t->fd = openat(t->dirfd, t->name,
	    O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (t->fd == -1) {
		saved = errno;
		snprintf(why, wlen, "cannot create a file in %s: %s", dir,
		    strerror(errno));
		close(t->dirfd);
		t->dirfd = -1;
		errno = saved;
		return -1;
	}
	track(t);
	/* 0600 whatever the umask: backups hold the application's data. */
	if (fchmod(t->fd, 0600) != 0) {
		saved = errno;
		snprintf(why, wlen, "%s/%s: %s", dir, t->name, strerror(errno));
		vb_tmp_abort(t);
		errno = saved;
		return -1;
	}
	return 0;
}

void
vb_tmp_abort(struct vb_tmp *t)
{
	char side[300];
	size_t j;

	if (t->dirfd == -1)
		return;
	if (t->fd != -1)
		close(t->fd);
	unlinkat(t->dirfd, t->name, 0);
	for (j = 0; j < sizeof(sqlite_sides) / sizeof(sqlite_sides[0]); j++) {
		snprintf(side, sizeof(side), "%s%s", t->name, sqlite_sides[j]);
		unlinkat(t->dirfd, side, 0);
	}
	untrack(t);
	close(t->dirfd);
	t->fd = t->dirfd = -1;
}

/*
 * Renames from to the new name to in dirfd, never over an existing file
 * (EEXIST).  Returns as renameat2.
 */
static int
rename_new(int dirfd, const char *from, const char *to)
{
	int rc = renameat2(dirfd, from, dirfd, to, RENAME_NOREPLACE);

	if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {
		/* A filesystem without RENAME_NOREPLACE: link refuses too. */
		rc = linkat(dirfd, from, dirfd, to, 0);
		if (rc == 0)
			unlinkat(dirfd, from, 0);
	}
	return rc;
}

int
vb_tmp_commit(struct vb_tmp *t, char *why, size_t wlen)
{
	int rc, saved;

	if (fsync(t->fd) != 0) {
		snprintf(why, wlen, "fsync %s: %s", t->name, strerror(errno));
		goto fail;
	}
	if (close(t->fd) != 0) {
		t->fd = -1;
		snprintf(why, wlen, "close %s: %s", t->name, strerror(errno));
		goto fail;
	}
	t->fd = -1;
	rc = t->replace ? renameat(t->dirfd, t->name, t->dirfd, t->final) :
	    rename_new(t->dirfd, t->name, t->final);
	if (rc != 0) {
		snprintf(why, wlen, "cannot rename %s to %s: %s", t->name,
		    t->final, strerror(errno));
		goto fail;
	}
	untrack(t);
	/* The rename is durable only once the directory is.  If that
	 * fails, a new name is taken back: failed means no file under the
	 * final name.  (A replacement stays: the old file is gone.) */
	if (fsync(t->dirfd) != 0) {
		saved = errno;
		snprintf(why, wlen, "fsync of the directory of %s: %s",
		    t->final, strerror(errno));
		if (!t->replace && unlinkat(t->dirfd, t->final, 0) == 0)
			(void)fsync(t->dirfd);
		close(t->dirfd);
		errno = saved;
		t->dirfd = -1;
		return -1;
	}
	close(t->dirfd);
	t->dirfd = -1;
	return 0;
fail:
	saved = errno;	/* the caller reports why, not the cleanup's errno */
	vb_tmp_abort(t);
	errno = saved;
	return -1;
}

int
vb_tmp_hand_over(struct vb_tmp *t, long owner, char *name, size_t nlen,
    char *why, size_t wlen)
{
	int n;

	n = snprintf(name, nlen, "%s%ld-%s", VB_TMP_PREFIX, owner, t->final);
	if (n < 0 || (size_t)n >= nlen) {
		snprintf(why, wlen, "%s: name too long", t->final);
		vb_tmp_abort(t);
		return -1;
	}
	/* Not synced: nobody keeps it unless its new owner must. */
	if (close(t->fd) != 0) {
		t->fd = -1;
		snprintf(why, wlen, "close %s: %s", t->name, strerror(errno));
		vb_tmp_abort(t);
		return -1;
	}
	t->fd = -1;
	if (rename_new(t->dirfd, t->name, name) != 0) {
		snprintf(why, wlen, "cannot hand %s over as %s: %s", t->name,
		    name, strerror(errno));
		vb_tmp_abort(t);
		return -1;
	}
	untrack(t);
	close(t->dirfd);
	t->dirfd = -1;
	return 0;
}

int
vb_tmp_adopt(struct vb_tmp *t, const char *dir, const char *name, char *why,
    size_t wlen)
{
	const char *final = vb_tmp_final(name);

	memset(t, 0, sizeof(*t));
	t->fd = t->dirfd = -1;
	if (final == NULL || strlen(name) >= sizeof(t->name)) {
		snprintf(why, wlen, "%s: not a vb temporary", name);
		return -1;
	}
	memcpy(t->name, name, strlen(name) + 1);
	memcpy(t->final, final, strlen(final) + 1);
	if ((t->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (t->fd = openat(t->dirfd, name, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1) {
		snprintf(why, wlen, "%s/%s: %s", dir, name, strerror(errno));
		if (t->dirfd != -1)
			close(t->dirfd);
		t->dirfd = -1;
		return -1;
	}
	track(t);
	return 0;
}

int
vb_tmp_keep_handed(const char *dir, long owner, char *note, size_t nlen)
{
	struct dirent *de;
	struct vb_tmp t;
	struct stat st;
	const char *final;
	char why[600];
	DIR *d;
	int n = 0;

	if (nlen > 0)
		note[0] = '\0';
	if ((d = opendir(dir)) == NULL) {
		vb_appendf(note, nlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		final = vb_tmp_final(de->d_name);
		if (vb_tmp_pid(de->d_name) != owner || final == NULL ||
		    strncmp(final, "backup-", 7) != 0 || !vb_is_snapshot(final))
			continue;
		/* Only a file: never through a link, never a FIFO's open. */
		if (fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
		    vb_tmp_adopt(&t, dir, de->d_name, why, sizeof(why)) != 0)
			continue;
		if (vb_tmp_commit(&t, why, sizeof(why)) == 0) {
			vb_appendf(note, nlen, "%sthe snapshot is kept as "
			    "%s/%s", note[0] != '\0' ? "; " : "", dir,
			    t.final);
			continue;
		}
		vb_appendf(note, nlen, "%sthe snapshot %s/%s is lost: %s",
		    note[0] != '\0' ? "; " : "", dir, t.final, why);
		n++;
	}
	closedir(d);
	return n;
}

int
vb_pid_runs(long pid)
{
	char path[64], buf[256], *p;
	ssize_t r;
	int fd;

	/* EPERM means it runs, under another user. */
	if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
		return 0;
	/* A zombie (killed, its parent gone too) writes nothing more. */
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 1;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return 1;
	buf[r] = '\0';
	/* "pid (comm) S ...": the state follows the last ')'. */
	if ((p = strrchr(buf, ')')) != NULL && p[1] == ' ' && p[2] == 'Z')
		return 0;
	return 1;
}

int
vb_clean_stale(const char *dir, char *note, size_t nlen)
{
	struct dirent *de;
	struct stat st;
	size_t used;
	DIR *d;
	long pid;
	int n = 0;

	if (nlen > 0)
		note[0] = '\0';
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if ((pid = vb_tmp_pid(de->d_name)) == -1 || pid == getpid())
			continue;
		if (vb_pid_runs(pid))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) != 0 ||
		    (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)))
			continue;
		/* A killed drill's or diff's work directory goes whole. */
		if (S_ISDIR(st.st_mode) ? vb_tmp_rmdir(dir, de->d_name) == 0 :
		    unlinkat(dirfd(d), de->d_name, 0) == 0) {
			used = strlen(note);
			snprintf(note + used, nlen - used, "%s%s/%s (writer "
			    "%ld no longer runs)", n == 0 ?
			    "removed stale temporary " : ", ", dir, de->d_name,
			    pid);
			n++;
		}
	}
	closedir(d);
	return n;
}


int
vb_tmp_write(const char *dir, const char *name, const char *text, size_t n,
    char *why, size_t wlen)
{
	struct vb_tmp t;

	if (vb_tmp_open(&t, dir, name, why, wlen) != 0)
		return -1;
	t.replace = 1;
	if (vb_write_all(t.fd, text, n) != 0) {
		snprintf(why, wlen, "%s/%s: %s", dir, t.name, strerror(errno));
		vb_tmp_abort(&t);
		return -1;
	}
	return vb_tmp_commit(&t, why, wlen);
}

int
vb_tmp_rmdir(const char *dir, const char *name)
{
	struct dirent *de;
	char path[4400];
	DIR *d;
	int fd;

	if (vb_path_join(path, sizeof(path), dir, name) != 0 ||
	    (fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") !=
		    0)
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	return rmdir(path);
}

int
vb_work_make(const char *dir, const char *what, char *path, size_t plen,
    char *why, size_t wlen)
{
	char name[128];

	snprintf(name, sizeof(name), ".vb-tmp-%ld-%s", (long)getpid(), what);
	if (vb_path_join(path, plen, dir, name) != 0 || mkdir(path, 0700) !=
	    0) {
		snprintf(why, wlen, "cannot make a work directory in %s: %s",
		    dir, strerror(errno));
		return -1;
	}
	return 0;
}

void
vb_work_remove(const char *path)
{
	char dir[4096], name[256];

	if (vb_path_split(path, dir, sizeof(dir), name, sizeof(name)) == 0)
		vb_tmp_rmdir(dir, name);
}
