/*
 * safefile.c - writes that never leave a partial file under a final name.
 *
 * Work in progress is written to ".vb-tmp-<pid>-<final name>" in the
 * destination directory, fsync'd, renamed into place without replacing
 * anything, and the directory fsync'd.  A crash leaves only a temporary,
 * which the next run removes once its writer (the PID in its name) is gone.
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
#include <time.h>
#include <unistd.h>

#include "vb.h"

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
vb_dir_check(const char *dir, char *why, size_t len)
{
	char path[4096];
	struct stat st;
	size_t n;

	/* "dir/" would follow a symlink named dir: look at dir itself. */
	snprintf(path, sizeof(path), "%s", dir);
	for (n = strlen(path); n > 1 && path[n - 1] == '/'; n--)
		path[n - 1] = '\0';
	if (lstat(path, &st) != 0) {
		snprintf(why, len, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		snprintf(why, len, "%s: the backup directory is a symbolic "
		    "link; name the real directory", dir);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, len, "%s: not a directory", dir);
		return -1;
	}
	/* Anyone could swap or plant files in it: not a place for backups. */
	if ((st.st_mode & S_IWOTH) && st.st_uid != geteuid()) {
		snprintf(why, len, "%s: the backup directory is world-writable "
		    "and owned by uid %ld, not by this user; refusing to use it",
		    dir, (long)st.st_uid);
		return -1;
	}
	return 0;
}

long
vb_tmp_pid(const char *name)
{
	const char *p;
	long pid = 0;

	if (strncmp(name, VB_TMP_PREFIX, strlen(VB_TMP_PREFIX)) != 0)
		return -1;
	p = name + strlen(VB_TMP_PREFIX);
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		pid = pid * 10 + (*p - '0');
		if (pid > 0x7fffffffL)
			return -1;
	}
	if (*p != '-' || pid <= 0)
		return -1;
	return pid;
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
	    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
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
	if (t->replace)
		rc = renameat(t->dirfd, t->name, t->dirfd, t->final);
	else
		rc = renameat2(t->dirfd, t->name, t->dirfd, t->final,
		    RENAME_NOREPLACE);
	if (rc != 0 && !t->replace && (errno == EINVAL || errno == ENOSYS)) {
		/* A filesystem without RENAME_NOREPLACE: link refuses too. */
		rc = linkat(t->dirfd, t->name, t->dirfd, t->final, 0);
		if (rc == 0)
			unlinkat(t->dirfd, t->name, 0);
	}
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
vb_fsync_dir(const char *dir)
{
	int fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
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
		/* EPERM means it runs, under another user: leave it. */
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0) {
			used = strlen(note);
			snprintf(note + used, nlen - used, "%s%s/%s (writer %ld "
			    "no longer runs)", n == 0 ?
			    "removed stale temporary " : ", ", dir, de->d_name,
			    pid);
			n++;
		}
	}
	closedir(d);
	return n;
}

/*
 * Write-behind.  A copy of a large database dirties gigabytes of page
 * cache; left to the kernel, that lands on the disk in bursts, and an
 * application's fsync (a WAL checkpoint, a rollback-journal commit) then
 * waits behind it.  A thread that starts writeback of each new stretch of
 * the file and waits for the stretch before it keeps the dirty backlog to
 * a few WB_CHUNKs, and leaves the final fsync little to do.
 */
#define WB_CHUNK	(8LL * 1024 * 1024)

struct vb_writebehind {
	struct vb_ticker *ticker;
	int		 fd;
	int		 also;
	off_t		 started;	/* writeback started up to here */
	off_t		 waited;	/* and waited for up to here */
};

static void
writebehind_tick(void *arg)
{
	struct vb_writebehind *w = arg;
	struct stat st;

	if (w->also != -1)
		sync_file_range(w->also, 0, 0, SYNC_FILE_RANGE_WRITE);
	if (fstat(w->fd, &st) != 0 || st.st_size - w->started < WB_CHUNK)
		return;
	/* Errors here are not lost: the final fsync reports them. */
	sync_file_range(w->fd, w->started, st.st_size - w->started,
	    SYNC_FILE_RANGE_WRITE);
	if (w->started > w->waited)
		sync_file_range(w->fd, w->waited, w->started - w->waited,
		    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
		    SYNC_FILE_RANGE_WAIT_AFTER);
	w->waited = w->started;
	w->started = st.st_size;
}

struct vb_writebehind *
vb_writebehind_start(int fd, int also)
{
	struct vb_writebehind *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->fd = fd;
	w->also = also;
	if ((w->ticker = vb_ticker_start(20, writebehind_tick, w)) == NULL) {
		free(w);
		return NULL;
	}
	return w;
}

void
vb_writebehind_stop(struct vb_writebehind *w)
{
	if (w == NULL)
		return;
	vb_ticker_stop(w->ticker);
	free(w);
}
