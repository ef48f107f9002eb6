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
 * The character at p, its length into *n: whether it is one a terminal
 * acts on or may be fooled by: a byte below 0x20 or DEL, UTF-8's C1
 * controls (U+0080..U+009F: ESC's CSI, OSC), the bidirectional overrides
 * and isolates (U+202A..U+202E, U+2066..U+2069), or a byte that starts no
 * valid UTF-8 character (a lone 0x9b is CSI to an 8-bit terminal).
 */
static int
ctl_at(const unsigned char *p, size_t *n)
{
	size_t len, i;

	*n = 1;
	if (*p < 0x80)
		return *p < 0x20 || *p == 0x7f;
	len = *p >= 0xc2 && *p <= 0xdf ? 2 : *p >= 0xe0 && *p <= 0xef ? 3 :
	    *p >= 0xf0 && *p <= 0xf4 ? 4 : 0;
	if (len == 0)
		return 1;
	for (i = 1; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 1;	/* cut short: the lead byte alone */
	*n = len;
	if (p[0] == 0xc2 && p[1] <= 0x9f)
		return 1;
	return p[0] == 0xe2 && ((p[1] == 0x80 && p[2] >= 0xaa &&
	    p[2] <= 0xae) || (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9));
}

int
vb_is_clean(const char *s)
{
	const unsigned char *p;
	size_t n;

	for (p = (const unsigned char *)s; *p != '\0'; p += n)
		if (ctl_at(p, &n))
			return 0;
	return 1;
}

void
vb_clean_text(char *s)
{
	unsigned char *p = (unsigned char *)s, *q = p;
	size_t n;

	while (*p != '\0') {
		if (ctl_at(p, &n)) {
			*q++ = '?';
			p += n;
		} else
			while (n-- > 0)
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
		if (ctl_at(p, &n)) {
			putc('?', fp);
			p += n;
		} else
			while (n-- > 0)
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

const char *
vb_shq(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	if (len < 3) {
		if (len > 0)
			buf[0] = '\0';
		return buf;
	}
	if (*s != '\0' && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
	    "nopqrstuvwxyz0123456789_./:=@%+,-") == strlen(s)) {
		snprintf(buf, len, "%s", s);
		return buf;
	}
	/* 'it'\''s': each quote closed, escaped, opened again. */
	buf[o++] = '\'';
	/* Room kept for the closing quote and the NUL. */
	for (; *s != '\0' && o + (*s == '\'' ? 4 : 1) + 2 <= len; s++) {
		if (*s == '\'') {
			memcpy(buf + o, "'\\''", 4);
			o += 4;
		} else
			buf[o++] = *s;
	}
	buf[o++] = '\'';
	buf[o] = '\0';
	return buf;
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
