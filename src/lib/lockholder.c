/*
 * lockholder.c - the run's lock file looked at, as vb-backup --check
 * reports it: absent, not a plain file, unreadable, free, or held, and
 * then by whom (the taker in /proc/locks, by the file's device and
 * inode; its command line and age from /proc/PID; or, the taker gone,
 * the processes that still have the file open).  Reads /proc as data:
 * every line bounded, a malformed one skipped; never follows a link to
 * the lock, never runs ps.
 */
#define _GNU_SOURCE
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vblib.h"

/*
 * A number in base at s, ended by end (or the string's end when end is
 * '\0'); 0 with *v and *next past it, or -1 if s holds none.
 */
static int
number(const char *s, int base, char end, unsigned long long *v,
    const char **next)
{
	char *e;

	if (!isxdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*v = strtoull(s, &e, base);
	if (errno != 0 || e == s || *e != end)
		return -1;
	*next = *e != '\0' ? e + 1 : e;
	return 0;
}

/*
 * Whether a line of /proc/locks ("1: FLOCK  ADVISORY  WRITE 1234
 * 08:01:5678 0 EOF", device in hex) is an FLOCK taken on st's file; its
 * PID into *pid.  A waiter's line ("1: -> FLOCK ...") takes nothing.
 */
static int
takes(char *line, const struct stat *st, long *pid)
{
	unsigned long long maj, min, ino, p;
	char *w[6], *save = NULL;
	const char *s;
	int k;

	for (k = 0; k < 6; k++)
		if ((w[k] = strtok_r(k == 0 ? line : NULL, " \t\n", &save)) ==
		    NULL)
			return 0;
	if (strcmp(w[1], "FLOCK") != 0 || number(w[4], 10, '\0', &p,
	    &s) != 0 || p == 0 || p > 0x7fffffff ||
	    number(w[5], 16, ':', &maj, &s) != 0 ||
	    number(s, 16, ':', &min, &s) != 0 ||
	    number(s, 10, '\0', &ino, &s) != 0)
		return 0;
	*pid = (long)p;
	return maj == major(st->st_dev) && min == minor(st->st_dev) &&
	    ino == (unsigned long long)st->st_ino;
}

/* The PID whose FLOCK /proc/locks lists on st's file, or 0. */
static long
lock_taker(const struct stat *st)
{
	char line[512];
	long pid = 0;
	FILE *fp;

	if ((fp = fopen("/proc/locks", "re")) == NULL)
		return 0;
	/* A longer line than any the kernel writes is skipped in pieces:
	 * none of them holds six words that match. */
	while (fgets(line, sizeof(line), fp) != NULL)
		if (takes(line, st, &pid))
			break;
		else
			pid = 0;
	(void)fclose(fp);
	return pid;
}

/* Whether word (a NUL-ended argv element) names the program vb-backup. */
static int
is_vb_backup(const char *word)
{
	const char *base = strrchr(word, '/');

	return strcmp(base != NULL ? base + 1 : word, "vb-backup") == 0;
}

/*
 * Whether argv (n bytes of /proc/PID/cmdline) runs vb-backup: it is the
 * program, or a shell's (bash, sh) script, its first word not an option.
 */
static int
runs_vb_backup(const char *argv, ssize_t n)
{
	const char *base = strrchr(argv, '/'), *w;

	if (is_vb_backup(argv))
		return 1;
	base = base != NULL ? base + 1 : argv;
	if (strcmp(base, "bash") != 0 && strcmp(base, "sh") != 0)
		return 0;
	for (w = argv + strlen(argv) + 1; w < argv + n && *w == '-';
	    w += strlen(w) + 1)
		;
	return w < argv + n && is_vb_backup(w);
}

/*
 * /proc/PID/cmdline, its NULs as spaces, into buf ("" if none); whether
 * it runs vb-backup into *run.
 */
static void
command_line(long pid, char *buf, size_t len, int *run)
{
	char path[64];
	ssize_t n, i;
	int fd;

	buf[0] = '\0';
	*run = 0;
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	n = read(fd, buf, len - 1);
	(void)close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	buf[n] = '\0';
	*run = runs_vb_backup(buf, n);
	for (i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
}

/* How long PID has run, in seconds (as ps's etimes), or -1. */
static long long
age_of(long pid)
{
	char path[64], st[1024], up[64], *p, *e;
	unsigned long long start;
	const char *next;
	double now;
	ssize_t n;
	long hz = sysconf(_SC_CLK_TCK);
	int fd, k;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (hz <= 0 || (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, st, sizeof(st) - 1);
	(void)close(fd);
	/* The name in parentheses may hold anything: after its last ')',
	 * fields 3 onwards; the start time is field 22. */
	if (n <= 0 || (st[n] = '\0', p = strrchr(st, ')')) == NULL)
		return -1;
	for (k = 2; k < 22 && p != NULL; k++)
		p = strchr(p + 1, ' ');
	if (p == NULL || number(p + 1, 10, ' ', &start, &next) != 0)
		return -1;
	if ((fd = open("/proc/uptime", O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, up, sizeof(up) - 1);
	(void)close(fd);
	if (n <= 0)
		return -1;
	up[n] = '\0';
	errno = 0;
	now = strtod(up, &e);
	if (errno != 0 || e == up || now < (double)start / (double)hz)
		return -1;
	return (long long)(now - (double)start / (double)hz);
}

/* Appends pid to the holders' list, if it fits. */
static void
add_holder(struct vb_lock_look *l, const char *pid)
{
	size_t used = strlen(l->holders);

	if (used + strlen(pid) + 2 < sizeof(l->holders))
		snprintf(l->holders + used, sizeof(l->holders) - used, "%s%s",
		    used > 0 ? " " : "", pid);
}

/* Whether process pid (its /proc directory) has st's file open. */
static int
has_open(int procfd, const char *pid, const struct stat *st)
{
	char path[64];
	struct dirent *e;
	struct stat fs;
	DIR *d;
	int fd, yes = 0;

	snprintf(path, sizeof(path), "%s/fd", pid);
	if ((fd = openat(procfd, path, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			(void)close(fd);
		return 0;
	}
	while (!yes && (e = readdir(d)) != NULL)
		yes = e->d_name[0] != '.' && fstatat(dirfd(d), e->d_name, &fs,
		    0) == 0 && fs.st_dev == st->st_dev &&
		    fs.st_ino == st->st_ino;
	(void)closedir(d);
	return yes;
}

/* The PIDs that have st's file open, into l->holders. */
static void
holders(struct vb_lock_look *l, const struct stat *st)
{
	struct dirent *e;
	DIR *d;

	if ((d = opendir("/proc")) == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (isdigit((unsigned char)e->d_name[0]) &&
		    strspn(e->d_name, "0123456789") == strlen(e->d_name) &&
		    has_open(dirfd(d), e->d_name, st))
			add_holder(l, e->d_name);
	(void)closedir(d);
}

void
vb_lock_look(const char *path, struct vb_lock_look *l)
{
	struct stat st;
	int fd, held;

	memset(l, 0, sizeof(*l));
	l->secs = -1;
	if (lstat(path, &st) == -1) {
		l->state = errno == ENOENT || errno == ENOTDIR ?
		    VB_LOCK_NONE : VB_LOCK_UNREADABLE;
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		l->state = VB_LOCK_ODD;
		return;
	}
	/* Never through a link, nor a file swapped in since. */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1) {
		l->state = errno == ELOOP ? VB_LOCK_ODD : VB_LOCK_UNREADABLE;
		return;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		(void)close(fd);
		l->state = VB_LOCK_ODD;
		return;
	}
	held = flock(fd, LOCK_SH | LOCK_NB) == -1;
	(void)close(fd);	/* lets go of the test's own lock */
	if (!held) {
		l->state = VB_LOCK_FREE;
		return;
	}
	l->state = VB_LOCK_HELD;
	if ((l->pid = lock_taker(&st)) > 0) {
		command_line(l->pid, l->cmd, sizeof(l->cmd), &l->vb_run);
		l->secs = age_of(l->pid);
	}
	if (l->cmd[0] == '\0')
		holders(l, &st);
}
