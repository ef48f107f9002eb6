/*
 * config.c - /etc/vb.conf and the environment, read one way for everyone.
 *
 * Every tool and vb-backup (through `vb-TOOL --print-config`) get their
 * settings here, so a value means the same thing to all of them.  The file
 * is KEY=value lines, `#` comments, values bare or in single or double
 * quotes.  Nothing in it is ever executed or expanded: it is read as root.
 * Unknown keys, relative paths and malformed values are errors naming the
 * file and line; an environment variable of the same name wins over it.
 * Run as root, it reads only a file root owns and no one else may write,
 * and so must be every file it names that decides trust or runs code.
 * What the checks that cost a program run found can be vouched for, for
 * one run's tools, by a stamp of exactly what they checked.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vblib.h"

enum type {
	T_PATH,		/* an absolute path */
	T_TRUST,	/* a file's: what decides trust or runs (root's) */
	T_COUNT,	/* a whole number, 0 or more */
	T_COUNT1,	/* a whole number, 1 or more */
	T_SECONDS,	/* 1 to 86400 */
	T_INTERVAL,	/* milliseconds, 5 minutes or more */
	T_THREADS,	/* 1 to 256 */
	T_CLOCK,	/* a time of day, HH:MM (local) */
	T_BUSY,		/* milliseconds, 0 to 3600000 */
	T_DURATION,	/* 7d, 2w, 1y6m, 36h */
	T_PERIOD,	/* a duration, or 0: off */
	T_SQL,		/* one read-only query (cli.c proves it on DB_PATH) */
	T_COMPRESSION,	/* zstd, gzip, xz, none */
	T_COMMAND,	/* a command line for sh, run later by vb-backup */
	T_REMOTE,	/* an rclone path: remote:path, or an absolute path */
	T_BWLIMIT	/* rclone's --bwlimit: 10M, or a timetable */
};

static const struct key {
	const char	*name;
	enum type	 type;
	const char	*def;	/* what an unset key means, or NULL */
} keys[] = {
	{ "DB_PATH",		T_PATH,		NULL },
	{ "BACKUP_DIR",		T_PATH,		NULL },
	{ "MAX_BACKUPS",	T_COUNT1,	"7" },
	{ "KEEP_DAILY",		T_COUNT,	"7" },
	{ "KEEP_WITHIN",	T_DURATION,	NULL },
	{ "KEEP_WEEKLY",	T_COUNT,	NULL },
	{ "KEEP_MONTHLY",	T_COUNT,	NULL },
	{ "KEEP_HOURLY",	T_COUNT,	NULL },
	{ "COMPRESSION",	T_COMPRESSION,	"zstd" },
	{ "COMPRESSION_THREADS", T_THREADS,	NULL },
	{ "ENCRYPT_TO",		T_TRUST,	NULL },
	{ "SIGN_WITH",		T_TRUST,	NULL },
	{ "VERIFY_WITH",	T_TRUST,	NULL },
	{ "FULL_EVERY",		T_DURATION,	NULL },
	{ "DRILL_EVERY",	T_PERIOD,	"7d" },
	{ "DRILL_SQL",		T_SQL,		NULL },
	{ "DRILL_IDENTITY",	T_TRUST,	NULL },
	{ "OFFSITE",		T_REMOTE,	NULL },
	{ "RCLONE_CONFIG",	T_TRUST,	NULL },
	{ "OFFSITE_TIMEOUT",	T_SECONDS,	"10800" },
	{ "OFFSITE_RETRIES",	T_COUNT,	"3" },
	{ "OFFSITE_BWLIMIT",	T_BWLIMIT,	NULL },
	{ "METRICS_FILE",	T_PATH,		NULL },
	{ "ON_SUCCESS",		T_COMMAND,	NULL },
	{ "ON_FAILURE",		T_COMMAND,	NULL },
	{ "HOOK_TIMEOUT",	T_SECONDS,	"120" },
	{ "BACKUP_INTERVAL",	T_INTERVAL,	"86400000" },
	{ "NIGHTLY_AT",		T_CLOCK,	"01:00" },
	{ "VB_BUSY_MS",		T_BUSY,		"30000" },
};
#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

#define MAXERRS	16
#define ERRLEN	512

static struct {
	int	 loaded;
	int	 named;		/* VB_CONF named the file */
	char	 path[4096];
	char	*file[NKEYS];		/* the file's value, or NULL */
	char	*env[NKEYS];		/* the environment's, or NULL */
	int	 nerr;
	char	 err[MAXERRS][ERRLEN];
} cf;

/* Where the next error is written (the last slot again once full). */
static char *
err_slot(void)
{
	return cf.err[cf.nerr < MAXERRS ? cf.nerr++ : MAXERRS - 1];
}

/* Levenshtein distance, capped: enough to suggest a key for a typo. */
static int
distance(const char *a, const char *b)
{
	int prev[64], cur[64], i, j, la = (int)strlen(a), lb = (int)strlen(b);

	if (la >= 63 || lb >= 63)
		return 99;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			int del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) :
			    (del < ins ? del : ins);
		}
		memcpy(prev, cur, sizeof(int) * (size_t)(lb + 1));
	}
	return prev[lb];
}

static int
find_key(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* ---- values checked, each as its key asks ---- */

/* An absolute path, written out (the file's are never expanded). */
static int
check_path(const struct key *k, const char *v, const char *where,
    int fromfile)
{
	if (fromfile && strpbrk(v, "$`") != NULL) {
		snprintf(err_slot(), ERRLEN,
		    "%s: %s=%s: vb takes values literally and never expands $ "
		    "or `; write the path out in full", where, k->name, v);
		return -1;
	}
	/* The environment is the operator's shell, where a relative path
	 * means what it says; the file has no directory. */
	if (fromfile && *v != '/') {
		snprintf(err_slot(), ERRLEN,
		    "%s: %s=%s is a relative path; give an absolute one "
		    "(starting with /)", where, k->name, v);
		return -1;
	}
	return 0;
}

/* A whole number in the key's range. */
static int
check_number(const struct key *k, const char *v, const char *where)
{
	uint64_t n;
	int ok = vb_parse_u64(v, &n) == 0;

	switch (k->type) {
	case T_COUNT:
	case T_COUNT1:
		if (ok && n <= 1000000 && (k->type == T_COUNT || n > 0))
			return 0;
		snprintf(err_slot(), ERRLEN,
		    "%s: %s must be a whole number of %d or more, not \"%s\"",
		    where, k->name, k->type == T_COUNT1 ? 1 : 0, v);
		return -1;
	case T_INTERVAL:
		if (ok && n >= 300000 && n <= 366ULL * 86400000)
			return 0;
		snprintf(err_slot(), ERRLEN,
		    "%s: %s must be a whole number of milliseconds, 300000 (5 "
		    "minutes) or more, not \"%s\"", where, k->name, v);
		return -1;
	case T_THREADS:
		if (ok && n > 0 && n <= 256)
			return 0;
		snprintf(err_slot(), ERRLEN,
		    "%s: %s must be a whole number of threads from 1 to 256, "
		    "not \"%s\"", where, k->name, v);
		return -1;
	case T_SECONDS:
		if (ok && n > 0 && n <= 86400)
			return 0;
		snprintf(err_slot(), ERRLEN,
		    "%s: %s must be a whole number of seconds from 1 to 86400, "
		    "not \"%s\"", where, k->name, v);
		return -1;
	default:
		if (ok && n <= 3600000)
			return 0;
		snprintf(err_slot(), ERRLEN,
		    "%s: %s must be a whole number of milliseconds up to "
		    "3600000, not \"%s\"", where, k->name, v);
		return -1;
	}
}

int
vb_remote_valid(const char *v, char *why, size_t wlen)
{
	size_t name = strcspn(v, ":");
	const char *bad = NULL;

	if (*v == '\0')
		bad = "is empty";
	else if (vb_has_ctl(v))
		bad = "holds a TAB, CR or newline";
	else if (*v == '-')
		bad = "may not start with '-'";
	else if (*v == ':' || (v[name] == ':' && strcspn(v, ",") < name))
		bad = "names a backend with its parameters inline; define a "
		    "remote in rclone's configuration (rclone config, or "
		    "RCLONE_CONFIG_<NAME>_* variables): credentials stay "
		    "there, never in vb.conf or on a command line";
	else if (v[name] != ':' && *v != '/')
		bad = "must be an rclone remote (name:bucket/path) or an "
		    "absolute path";
	else if (v[name] == ':' && strspn(v, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-. @") != name)
		bad = "has a remote name rclone would not take";
	if (bad == NULL)
		return 0;
	/* Inline parameters may hold a password: never repeated. */
	if (*v == ':' || strcspn(v, ",") < name)
		snprintf(why, wlen, "the rclone path %s", bad);
	else
		snprintf(why, wlen, "%s %s", v, bad);
	return -1;
}

/* OFFSITE: an rclone path vb may pass on (vb_remote_valid). */
static int
check_remote(const struct key *k, const char *v, const char *where)
{
	char why[400];

	if (vb_remote_valid(v, why, sizeof(why)) == 0)
		return 0;
	snprintf(err_slot(), ERRLEN, "%s: %s: %s", where, k->name, why);
	return -1;
}

/*
 * Checks value v of key k; where says where it came from ("file:line" or
 * "environment").  Returns 0, or -1 after recording the error.
 * (long: one case per type of value)
 */
static int
check_value(const struct key *k, const char *v, const char *where,
    int fromfile)
{
	struct vb_duration d;
	enum vb_ext ext;
	int max;

	if (vb_has_ctl(v)) {
		snprintf(err_slot(), ERRLEN,
		    "%s: %s holds a TAB, CR or newline", where, k->name);
		return -1;
	}
	switch (k->type) {
	case T_PATH:
	case T_TRUST:
		return check_path(k, v, where, fromfile);
	case T_PERIOD:
	case T_DURATION:
		if (k->type == T_PERIOD && strcmp(v, "0") == 0)
			return 0;
		/* "0d" is not "0": read three ways once; one way now. */
		if (vb_parse_duration(v, &d) == 0 && d.years == 0 &&
		    d.months == 0 && d.days == 0 && d.hours == 0) {
			snprintf(err_slot(), ERRLEN, "%s: %s=%s is no time at "
			    "all: %s", where, k->name, v, k->type == T_PERIOD ?
			    "write 0 to turn it off" : "give a duration "
			    "like 7d");
			return -1;
		}
		if (vb_parse_duration(v, &d) == 0)
			return 0;
		snprintf(err_slot(), ERRLEN,
		    "%s: %s must be a duration like 7d, 2w, 6m, 1y or 36h%s, "
		    "not \"%s\"", where, k->name, k->type == T_PERIOD ?
		    " (0: never)" : "", v);
		return -1;
	case T_COMPRESSION:
		if (vb_compression_parse(v, &ext, &max) == 0)
			return 0;
		snprintf(err_slot(), ERRLEN,
		    "%s: %s must be zstd, gzip, xz or none, not \"%s\"", where,
		    k->name, v);
		return -1;
	case T_COMMAND:
		return 0;
	case T_SQL:
		if (*v != '\0')
			return 0;
		snprintf(err_slot(), ERRLEN, "%s: %s is empty: give a query "
		    "that returns a row in a good restored copy, or remove "
		    "the line", where, k->name);
		return -1;
	case T_REMOTE:
		return check_remote(k, v, where);
	case T_CLOCK:
		if (vb_clock_parse(v, &max) == 0)
			return 0;
		snprintf(err_slot(), ERRLEN, "%s: %s must be a time of day, "
		    "HH:MM (00:00 to 23:59, local time), not \"%s\"", where,
		    k->name, v);
		return -1;
	case T_BWLIMIT:
		if (*v != '\0' && *v != '-' && strspn(v, "0123456789.:, "
		    "BKMGTPbkmgtpoff") == strlen(v))
			return 0;
		snprintf(err_slot(), ERRLEN, "%s: %s must be a bandwidth "
		    "for rclone's --bwlimit (10M, or a timetable like "
		    "\"08:00,512k 19:00,off\"), not \"%s\"", where, k->name,
		    v);
		return -1;
	default:
		return check_number(k, v, where);
	}
}

/* ---- the file read ---- */

/*
 * Reads a double-quoted value at p (just after the quote) into out, which
 * may be p itself; *end is where the value ends.  Returns what follows the
 * closing quote, or NULL if there is none.
 */
static char *
double_quoted(char *p, char *out, char **end)
{
	for (; *p != '"'; p++) {
		if (*p == '\0')
			return NULL;
		/* The shell's escapes inside double quotes, and no others. */
		if (*p == '\\' && p[1] != '\0' &&
		    strchr("\"\\$`", p[1]) != NULL)
			p++;
		*out++ = *p;
	}
	*end = out;
	return p + 1;
}

/*
 * Parses one line of the file (newline removed).  Returns 0 for a blank
 * or comment line, 1 with *key and *val set (the line rewritten in place),
 * -1 with the problem in why, or -2 with the problem of *key's value.
 * (long: a line's grammar read left to right, each refusal with its reason)
 */
static int
parse_line(char *p, char **key, char **val, const char **why)
{
	char *k, *v, *end;

	p += strspn(p, " \t");
	if (*p == '#' || *p == '\0')
		return 0;
	if (strncmp(p, "export", 6) == 0 && (p[6] == ' ' || p[6] == '\t'))
		p += 6 + strspn(p + 6, " \t");
	k = p;
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
	    (*p >= '0' && *p <= '9') || *p == '_')
		p++;
	end = p;
	p += strspn(p, " \t");
	if (end == k || *p != '=') {
		*why = "not a KEY=value line";
		return -1;
	}
	*end = '\0';
	*key = k;
	p++;
	v = p + strspn(p, " \t");
	if (*v == '#' && v > p) {
		/* "KEY= # note": an empty value, then a comment. */
		*val = v;
		*v = '\0';
		return 1;
	}
	p = v;
	if (*p == '\'') {
		v = ++p;
		if ((p = strchr(p, '\'')) == NULL) {
			*why = "a single quote is not closed on this line";
			return -2;
		}
		end = p++;
	} else if (*p == '"') {
		/* Unescaped into place: the value ends before the quote. */
		if ((p = double_quoted(p + 1, v, &end)) == NULL) {
			*why = "a double quote is not closed on this line";
			return -2;
		}
	} else {
		/* A bare word, as the shell reads one; what a shell would
		 * interpret is refused rather than taken differently. */
		p += strcspn(p, " \t");
		end = p;
		if (strcspn(v, "\"'\\;&|<>()`$") < (size_t)(end - v)) {
			*why = "the value holds a character a shell would "
			    "interpret ($ ` \\ ; & | < > ( ) or a quote); put "
			    "it in single quotes";
			return -2;
		}
	}
	p += strspn(p, " \t");
	if (*p != '\0' && *p != '#') {
		*why = "text after the value; quote a value that holds spaces";
		return -2;
	}
	*end = '\0';
	*val = v;
	return 1;
}

/* Records an unknown key, with the known one it is closest to. */
static void
unknown_key(const char *k, const char *where)
{
	int i, d, best = -1, bestd = 3;

	for (i = 0; i < (int)NKEYS; i++)
		if ((d = distance(k, keys[i].name)) < bestd) {
			bestd = d;
			best = i;
		}
	if (best >= 0)
		snprintf(err_slot(), ERRLEN, "%s: unknown key %s (did you mean "
		    "%s?)", where, k, keys[best].name);
	else
		snprintf(err_slot(), ERRLEN, "%s: unknown key %s", where, k);
}

/*
 * (long: the file's ownership and mode checked on the descriptor, then its
 * lines, one cleanup)
 */
static void
read_file(void)
{
	char *line = NULL, *k, *v, where[4200];
	const char *why;
	size_t cap = 0;
	ssize_t len;
	FILE *fp = NULL;
	int lineno = 0, i, fd, e;

	/*
	 * It says what root runs (ON_SUCCESS) and trusts: root reads only
	 * a file of its own no other user may write, and nothing at all
	 * of another.  No /etc/vb.conf is no configuration; a file VB_CONF
	 * names that is not there is a mistake (a typo would otherwise
	 * read as "nothing set"), and any other failure is one.
	 */
	if ((fd = vb_open_trusted(cf.path, cf.named ? "VB_CONF" :
	    "the configuration", where, sizeof(where))) == -1) {
		snprintf(err_slot(), ERRLEN, "%s", where);
		return;
	}
	if (fd >= 0 && (fp = fdopen(fd, "r")) == NULL) {
		e = errno;
		close(fd);
		errno = e;
	}
	if (fp == NULL) {
		if (errno != ENOENT || cf.named)
			snprintf(err_slot(), ERRLEN, "%s%s: %s%s", cf.named ?
			    "VB_CONF=" : "", cf.path, errno == ENOENT ? "" :
			    "cannot read: ", errno == ENOENT ? "no such file" :
			    strerror(errno));
		return;
	}
	while ((len = getline(&line, &cap, fp)) != -1) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%d", cf.path, lineno);
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if ((size_t)len != strlen(line)) {
			snprintf(err_slot(), ERRLEN,
			    "%s: a NUL byte: not a text file", where);
			continue;
		}
		switch (parse_line(line, &k, &v, &why)) {
		case 0:
			continue;
		case -1:
			snprintf(err_slot(), ERRLEN, "%s: %s", where, why);
			continue;
		case -2:
			snprintf(err_slot(), ERRLEN, "%s: %s: %s", where, k,
			    why);
			continue;
		}
		if ((i = find_key(k)) == -1) {
			unknown_key(k, where);
			continue;
		}
		/* An empty value unsets the key, as in the shell. */
		if (*v != '\0' && check_value(&keys[i], v, where, 1) != 0)
			continue;
		free(cf.file[i]);	/* a later line wins, as in the shell */
		cf.file[i] = NULL;
		if (*v != '\0' && (cf.file[i] = strdup(v)) == NULL)
			snprintf(err_slot(), ERRLEN, "%s: out of memory",
			    where);
	}
	if (ferror(fp))
		snprintf(err_slot(), ERRLEN,
		    "%s: cannot read: %s", cf.path, strerror(errno));
	free(line);
	fclose(fp);
}

/*
 * Run as root, each file a T_TRUST key names (the file's value or the
 * environment's) checked as vb_open_trusted checks it: one another user
 * may change is an error.  One that cannot be read is left to what uses
 * it (a host without the signing key restores).
 */
static void
trusted_files(void)
{
	char why[ERRLEN];
	const char *v;
	size_t i;
	int fd;

	if (geteuid() != 0)
		return;
	for (i = 0; i < NKEYS; i++) {
		if (keys[i].type != T_TRUST || (v = cf.env[i] != NULL ?
		    cf.env[i] : cf.file[i]) == NULL)
			continue;
		if ((fd = vb_open_trusted(v, keys[i].name, why,
		    sizeof(why))) >= 0)
			close(fd);
		else if (fd == -1)
			snprintf(err_slot(), ERRLEN, "%s", why);
	}
}

/* ---- what the tools ask ---- */

int
vb_config_load(void)
{
	const char *p = getenv("VB_CONF"), *v;
	char where[128];
	size_t i;

	if (cf.loaded)
		return cf.nerr;
	cf.loaded = 1;
	cf.named = p != NULL && *p != '\0';
	snprintf(cf.path, sizeof(cf.path), "%s", cf.named ? p :
	    "/etc/vb.conf");
	read_file();
	for (i = 0; i < NKEYS; i++) {
		if ((v = getenv(keys[i].name)) == NULL || *v == '\0')
			continue;
		snprintf(where, sizeof(where), "environment");
		if (check_value(&keys[i], v, where, 0) == 0)
			cf.env[i] = (char *)v;
	}
	trusted_files();
	return cf.nerr;
}

void
vb_config_unload(void)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		free(cf.file[i]);
	memset(&cf, 0, sizeof(cf));
}

const char *
vb_config_error(int i)
{
	return i >= 0 && i < cf.nerr ? cf.err[i] : NULL;
}

const char *
vb_config_key(int i)
{
	return i >= 0 && i < (int)NKEYS ? keys[i].name : NULL;
}

const char *
vb_config_path(void)
{
	vb_config_load();
	return cf.path;
}

const char *
vb_config(const char *key)
{
	int i;

	vb_config_load();
	if ((i = find_key(key)) == -1)
		return NULL;
	if (cf.env[i] != NULL)
		return cf.env[i];
	if (cf.file[i] != NULL)
		return cf.file[i];
	return keys[i].def;
}

int
vb_config_print(FILE *fp)
{
	const char *v;
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		v = vb_config(keys[i].name);
		fprintf(fp, "%s=%s\n", keys[i].name, v != NULL ? v : "");
	}
	return ferror(fp) ? -1 : 0;
}

/* One line of the stamp hashed: what it is and what it holds. */
static void
stamp_line(struct vb_sha256 *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
stamp_line(struct vb_sha256 *h, const char *fmt, ...)
{
	char line[ERRLEN];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		vb_sha256_update(h, line, (size_t)n < sizeof(line) ?
		    (size_t)n : sizeof(line) - 1);
}

/* A trusted file's bytes (a key: small; the first MiB at most). */
static void
stamp_bytes(struct vb_sha256 *h, int fd)
{
	char buf[8192];
	ssize_t n;
	size_t total = 0;

	while (total < 1024 * 1024 && (n = read(fd, buf, sizeof(buf))) > 0) {
		vb_sha256_update(h, buf, (size_t)n);
		total += (size_t)n;
	}
	stamp_line(h, "bytes %zu\n", total);
}

int
vb_config_stamp(unsigned checks, char *out, size_t olen)
{
	struct vb_sha256 *h;
	struct stat st;
	char hex[VB_SHA256_HEX], why[ERRLEN];
	const char *v;
	size_t i;
	int fd;

	if ((h = vb_sha256_new()) == NULL)
		return -1;
	/* The checks and who made them (a key this user cannot read is
	 * left to the job's user). */
	stamp_line(h, "vb-config-stamp 1 checks=%u euid=%ju\n", checks,
	    (uintmax_t)geteuid());
	for (i = 0; i < NKEYS; i++) {
		v = vb_config(keys[i].name);
		/* No value holds a newline: one line each, unambiguous. */
		vb_sha256_update(h, keys[i].name, strlen(keys[i].name));
		vb_sha256_update(h, "=", 1);
		if (v != NULL)
			vb_sha256_update(h, v, strlen(v));
		vb_sha256_update(h, "\n", 1);
		if (keys[i].type != T_TRUST || v == NULL)
			continue;
		/* The file as it was checked, bytes and all: replaced or
		 * changed since, the stamp is another. */
		if ((fd = vb_open_trusted(v, keys[i].name, why,
		    sizeof(why))) < 0 || fstat(fd, &st) != 0) {
			stamp_line(h, "%s -\n", keys[i].name);
		} else {
			stamp_line(h, "%s %ju %ju %o %ju %jd %jd.%09ld "
			    "%jd.%09ld\n", keys[i].name, (uintmax_t)st.st_dev,
			    (uintmax_t)st.st_ino, (unsigned)st.st_mode,
			    (uintmax_t)st.st_uid, (intmax_t)st.st_size,
			    (intmax_t)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
			    (intmax_t)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
			stamp_bytes(h, fd);
		}
		if (fd >= 0)
			close(fd);
	}
	vb_sha256_final(h, hex);
	if (snprintf(out, olen, "%u-%s", checks, hex) >= (int)olen)
		return -1;
	return 0;
}
