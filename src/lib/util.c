/*
 * util.c - small helpers for everyone: the program's name, a clock for
 * durations, numbers and sizes, control characters, writes that finish.
 * Nothing here prints or exits (cli.c is the command line's).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "vblib.h"

const char *
vb_progname(void)
{
	return program_invocation_short_name;
}

int64_t
vb_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
vb_has_ctl(const char *s)
{
	return strpbrk(s, VB_CTL) != NULL;
}

/*
 * The length of the control character at p, what a terminal acts on
 * (ESC, BEL, a C1 CSI or OSC): a byte below 0x20 or DEL (1), UTF-8's
 * U+0080..U+009F (2); or 0.
 */
static size_t
ctl_at(const unsigned char *p)
{
	if (*p < 0x20 || *p == 0x7f)
		return 1;
	if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
		return 2;
	return 0;
}

int
vb_is_clean(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (ctl_at(p) != 0)
			return 0;
	return 1;
}

void
vb_clean_text(char *s)
{
	unsigned char *p = (unsigned char *)s, *q = p;
	size_t n;

	while (*p != '\0') {
		if ((n = ctl_at(p)) != 0) {
			*q++ = '?';
			p += n;
		} else
			*q++ = *p++;
	}
	*q = '\0';
}

int
vb_put_clean(FILE *fp, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	while (*p != '\0') {
		if ((n = ctl_at(p)) != 0) {
			putc('?', fp);
			p += n;
		} else
			putc(*p++, fp);
	}
	return ferror(fp) ? -1 : 0;
}

void
vb_uid_name(uid_t uid, char *buf, size_t len)
{
	struct passwd pwd, *pw = NULL;
	char pbuf[1024];

	if (getpwuid_r(uid, &pwd, pbuf, sizeof(pbuf), &pw) != 0)
		pw = NULL;
	if (pw != NULL)
		snprintf(buf, len, "uid %ld (%s)", (long)uid, pw->pw_name);
	else
		snprintf(buf, len, "uid %ld", (long)uid);
}

int
vb_parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

void
vb_human_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	size_t i = 0;

	while (v >= 1024 && i < sizeof(unit) / sizeof(unit[0]) - 1) {
		v /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, len, "%.1f %s", v, unit[i]);
}

int
vb_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void
vb_appendf(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strnlen(buf, len);
	va_list ap;

	va_start(ap, fmt);
	if (n + 1 < len)
		vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

void
vb_notef(char *note, size_t len, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	if (note[0] != '\0')
		vb_appendf(note, len, "; ");
	n = strnlen(note, len);
	va_start(ap, fmt);
	if (n + 1 < len)
		vsnprintf(note + n, len - n, fmt, ap);
	va_end(ap);
}

char *
vb_str_finish(sqlite3_str *s)
{
	char *out;

	if (sqlite3_str_errcode(s) != SQLITE_OK) {
		sqlite3_free(sqlite3_str_finish(s));
		return NULL;
	}
	/* SQLite gives NULL for an empty string: "" is a string too. */
	out = sqlite3_str_finish(s);
	return out != NULL ? out : sqlite3_mprintf("%s", "");
}

int
vb_copy_fd(int in, int out)
{
	char buf[65536];
	ssize_t n;

	for (;;) {
		n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return (int)n;
		if (vb_write_all(out, buf, (size_t)n) != 0)
			return -1;
	}
}

ssize_t
vb_read_following(int fd, void *buf, size_t len, off_t off, const int *done)
{
	struct timespec nap = { 0, 1000 * 1000 };
	int finished;
	ssize_t n;

	for (;;) {
		/* The flag first: what was written before it is visible. */
		finished = done == NULL || __atomic_load_n(done,
		    __ATOMIC_ACQUIRE);
		n = off < 0 ? read(fd, buf, len) : pread(fd, buf, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != 0 || finished)
			return n;
		nanosleep(&nap, NULL);	/* the writer is not done yet */
	}
}
