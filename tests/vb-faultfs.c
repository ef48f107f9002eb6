/*
 * vb-faultfs.c - an LD_PRELOAD shim that makes one file-system call fail,
 * for the fault-injection tests (tests/faults.bats).
 *
 *   VB_FAULT=OP:N:ERR   the Nth OP call fails with ERR
 *                       OP: write (write, pwrite, pwrite64, writev)
 *                           fsync (fsync, fdatasync)
 *                           rename (rename, renameat, renameat2, link,
 *                                   linkat)
 *                           unlink (unlink, unlinkat, remove)
 *                       ERR: EIO, ENOSPC, EDQUOT, EROFS
 *   VB_FAULT=short:N    the Nth write writes half of what it was asked
 *                       (at least one byte), as a full pipe or a signal
 *                       can make it; correct code carries on
 *   VB_FAULT_FLIP=NAME@OFFSET
 *                       every read of a regular file whose path holds
 *                       NAME returns the byte at OFFSET of the file
 *                       inverted (xor 0x55), as a damaged disk would:
 *                       what the read-back of a new archive must catch
 *   VB_FAULT_COUNT=FILE at exit, appends "OP COUNT" lines for each OP
 *   VB_FAULT_TRACE=1    each counted call to stderr: "OP N PATH"
 *
 * Only calls on regular files count (and every rename/unlink): a record
 * written to a pipe or a message to a terminal is not the disk failing.
 * Counters are process-wide and atomic, as the tools write from threads.
 */
#define _GNU_SOURCE
#include <sys/stat.h>
#include <sys/uio.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum op { OP_WRITE, OP_FSYNC, OP_RENAME, OP_UNLINK, OP_N };

static const char *const opname[OP_N] = { "write", "fsync", "rename",
    "unlink" };
static atomic_long calls[OP_N];
static int fault_op = -1, fault_short, fault_err, trace;
static long fault_n;
static char flip_name[256];
static long flip_at = -1;

static void report(void);

/* A positive decimal at s; returns 0 with *end after it, or -1. */
static int
number(const char *s, long *out, char **end)
{
	errno = 0;
	*out = strtol(s, end, 10);
	return errno != 0 || *end == s || *out <= 0 ? -1 : 0;
}

__attribute__((constructor)) static void
init(void)
{
	const char *spec, *colon;
	char what[16], err[16], *end;
	int i;

	if (getenv("VB_FAULT_COUNT") != NULL)
		atexit(report);
	trace = getenv("VB_FAULT_TRACE") != NULL;
	if ((spec = getenv("VB_FAULT_FLIP")) != NULL &&
	    (colon = strrchr(spec, '@')) != NULL &&
	    (size_t)(colon - spec) < sizeof(flip_name)) {
		memcpy(flip_name, spec, (size_t)(colon - spec));
		if (number(colon + 1, &flip_at, &end) != 0 || *end != '\0')
			goto bad;
	}
	spec = getenv("VB_FAULT");
	if (spec == NULL || *spec == '\0')
		return;
	if (strncmp(spec, "short:", 6) == 0) {
		fault_op = OP_WRITE;
		fault_short = 1;
		if (number(spec + 6, &fault_n, &end) != 0 || *end != '\0')
			goto bad;
		return;
	}
	/* OP:N:ERR */
	if ((colon = strchr(spec, ':')) == NULL ||
	    (size_t)(colon - spec) >= sizeof(what))
		goto bad;
	memcpy(what, spec, (size_t)(colon - spec));
	what[colon - spec] = '\0';
	if (number(colon + 1, &fault_n, &end) != 0 || *end != ':')
		goto bad;
	snprintf(err, sizeof(err), "%s", end + 1);
	for (i = 0; i < OP_N; i++)
		if (strcmp(what, opname[i]) == 0)
			fault_op = i;
	if (strcmp(err, "EIO") == 0)
		fault_err = EIO;
	else if (strcmp(err, "ENOSPC") == 0)
		fault_err = ENOSPC;
	else if (strcmp(err, "EDQUOT") == 0)
		fault_err = EDQUOT;
	else if (strcmp(err, "EROFS") == 0)
		fault_err = EROFS;
	if (fault_op >= 0 && fault_err != 0 && fault_n > 0)
		return;
bad:
	fprintf(stderr, "vb-faultfs: bad VB_FAULT or VB_FAULT_FLIP: %s\n",
	    spec);
	_exit(99);
}

static void
report(void)
{
	const char *path = getenv("VB_FAULT_COUNT");
	FILE *fp = fopen(path, "a");
	int i;

	if (fp == NULL)
		return;
	for (i = 0; i < OP_N; i++)
		fprintf(fp, "%s %ld\n", opname[i], atomic_load(&calls[i]));
	fclose(fp);
}

static int
regular(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

/*
 * Counts one call of op; returns 1 if this is the one to fail (errno is
 * then set), 2 if it is the one to cut short, else 0.
 */
static int
hit(enum op op, int fd, const char *path)
{
	long n = atomic_fetch_add(&calls[op], 1) + 1;
	char link[64], buf[512];
	ssize_t len;

	if (trace) {
		if (path == NULL) {
			snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
			len = readlink(link, buf, sizeof(buf) - 1);
			buf[len > 0 ? len : 0] = '\0';
			path = buf;
		}
		fprintf(stderr, "vb-faultfs: %s %ld %s\n", opname[op], n, path);
	}

	if ((int)op != fault_op || n != fault_n)
		return 0;
	if (fault_short)
		return 2;
	errno = fault_err;
	return 1;
}

/* Counts a write of *n bytes to fd: -1 if it is to fail (errno set), or
 * 0 with *n halved if it is to come back short. */
static int
write_fault(int fd, size_t *n)
{
	if (*n == 0 || !regular(fd))
		return 0;
	switch (hit(OP_WRITE, fd, NULL)) {
	case 1:
		return -1;
	case 2:
		*n = *n > 1 ? *n / 2 : 1;
		break;
	}
	return 0;
}

#define REAL(ret, name, ...)						\
	static ret (*real)(__VA_ARGS__);				\
	if (real == NULL)						\
		*(void **)&real = dlsym(RTLD_NEXT, name)

ssize_t
write(int fd, const void *buf, size_t n)
{
	REAL(ssize_t, "write", int, const void *, size_t);
	if (write_fault(fd, &n) != 0)
		return -1;
	return real(fd, buf, n);
}

ssize_t
pwrite(int fd, const void *buf, size_t n, off_t off)
{
	REAL(ssize_t, "pwrite", int, const void *, size_t, off_t);
	if (write_fault(fd, &n) != 0)
		return -1;
	return real(fd, buf, n, off);
}

ssize_t
pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	REAL(ssize_t, "pwrite64", int, const void *, size_t, off64_t);
	if (write_fault(fd, &n) != 0)
		return -1;
	return real(fd, buf, n, off);
}

ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
	REAL(ssize_t, "writev", int, const struct iovec *, int);
	if (cnt > 0 && regular(fd))
		switch (hit(OP_WRITE, fd, NULL)) {
		case 1: return -1;
		case 2: cnt = 1; break;	/* the first buffer only */
		}
	return real(fd, iov, cnt);
}

int
fsync(int fd)
{
	REAL(int, "fsync", int);
	if (hit(OP_FSYNC, fd, NULL) == 1)
		return -1;
	return real(fd);
}

int
fdatasync(int fd)
{
	REAL(int, "fdatasync", int);
	if (hit(OP_FSYNC, fd, NULL) == 1)
		return -1;
	return real(fd);
}

int
rename(const char *from, const char *to)
{
	REAL(int, "rename", const char *, const char *);
	if (hit(OP_RENAME, -1, to) == 1)
		return -1;
	return real(from, to);
}

int
renameat(int fd1, const char *from, int fd2, const char *to)
{
	REAL(int, "renameat", int, const char *, int, const char *);
	if (hit(OP_RENAME, -1, to) == 1)
		return -1;
	return real(fd1, from, fd2, to);
}

int
renameat2(int fd1, const char *from, int fd2, const char *to,
    unsigned flags)
{
	REAL(int, "renameat2", int, const char *, int, const char *,
	    unsigned);
	if (hit(OP_RENAME, -1, to) == 1)
		return -1;
	return real(fd1, from, fd2, to, flags);
}

int
link(const char *from, const char *to)
{
	REAL(int, "link", const char *, const char *);
	if (hit(OP_RENAME, -1, to) == 1)
		return -1;
	return real(from, to);
}

int
linkat(int fd1, const char *from, int fd2, const char *to, int flags)
{
	REAL(int, "linkat", int, const char *, int, const char *, int);
	if (hit(OP_RENAME, -1, to) == 1)
		return -1;
	return real(fd1, from, fd2, to, flags);
}

int
unlink(const char *path)
{
	REAL(int, "unlink", const char *);
	if (hit(OP_UNLINK, -1, path) == 1)
		return -1;
	return real(path);
}

int
unlinkat(int fd, const char *path, int flags)
{
	REAL(int, "unlinkat", int, const char *, int);
	if (hit(OP_UNLINK, -1, path) == 1)
		return -1;
	return real(fd, path, flags);
}

int
remove(const char *path)
{
	REAL(int, "remove", const char *);
	if (hit(OP_UNLINK, -1, path) == 1)
		return -1;
	return real(path);
}

/* Reads of the file VB_FAULT_FLIP names get its byte flipped. */
ssize_t
read(int fd, void *buf, size_t n)
{
	char link[64], path[512];
	off_t off = -1;
	ssize_t got, len;

	REAL(ssize_t, "read", int, void *, size_t);
	if (flip_at >= 0 && regular(fd)) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		len = readlink(link, path, sizeof(path) - 1);
		path[len > 0 ? len : 0] = '\0';
		if (strstr(path, flip_name) != NULL)
			off = lseek(fd, 0, SEEK_CUR);
	}
	got = real(fd, buf, n);
	if (off >= 0 && got > 0 && flip_at >= off && flip_at < off + got)
		((unsigned char *)buf)[flip_at - off] ^= 0x55;
	return got;
}
