/*
 * util.c - diagnostics and small helpers every tool uses.
 *
 * Diagnostics themselves are glibc's err(3) family, which prefix the
 * program's short name; this file adds what they lack.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vb.h"

const char *
vb_progname(void)
{
	return program_invocation_short_name;
}

void
vb_usage(const char *synopsis, const char *why)
{
	if (why != NULL)
		warnx("%s", why);
	fprintf(stderr, "usage: %s %s\n", vb_progname(), synopsis);
	exit(VB_EXIT_USAGE);
}

void
vb_help(const char *synopsis, const char *text)
{
	printf("usage: %s %s\n\n%s", vb_progname(), synopsis, text);
	exit(vb_close_stdout() == 0 ? VB_EXIT_OK : VB_EXIT_FAIL);
}

void
vb_print_version(void)
{
	printf("%s %s (SQLite %s)\n", vb_progname(), VB_VERSION,
	    sqlite3_libversion());
	exit(vb_close_stdout() == 0 ? VB_EXIT_OK : VB_EXIT_FAIL);
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
vb_close_stdout(void)
{
	/* A pipe reader that went away or a full disk shows up only here. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		warn("stdout");
		fclose(stdout);
		return -1;
	}
	if (fclose(stdout) != 0) {
		warn("stdout");
		return -1;
	}
	return 0;
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

/* Prints every configuration error; returns how many there were. */
static int
config_errors(void)
{
	const char *e;
	int i, n = vb_config_load();

	for (i = 0; (e = vb_config_error(i)) != NULL; i++)
		warnx("%s", e);
	return n;
}

void
vb_config_require(void)
{
	if (config_errors() != 0) {
		warnx("fix %s (or point VB_CONF at another file)",
		    vb_config_path());
		exit(VB_EXIT_USAGE);
	}
}

void
vb_config_print_exit(void)
{
	int n = config_errors();

	if (vb_config_print(stdout) != 0 || vb_close_stdout() != 0)
		exit(VB_EXIT_FAIL);
	exit(n != 0 ? VB_EXIT_USAGE : VB_EXIT_OK);
}
