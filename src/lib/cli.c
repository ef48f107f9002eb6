/*
 * cli.c - the command line's helpers, which every tool links: usage,
 * help and version; the configuration required (or printed) before a
 * tool does anything; a tool's records emitted on stdout; the loop of a
 * stage on the pipe; and standard output closed and checked before the
 * exit status is chosen.  The jobs run and said for one tool each are
 * beside it (job*.c), so that a tool links only what it uses.
 * Diagnostics are err(3)'s (warn, warnx): "vb-tool: what: why" on
 * stderr, never stdout.
 */
#define _GNU_SOURCE
#include <err.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vblib.h"

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

/*
 * For vb-backup --check (VB_CHECK_JOB_USER set: the job's user, or
 * empty when nothing schedules it), a FAIL-job is a FAIL when this
 * process runs as the job's user (or there is none), else a warning
 * that says which user it was checked as; of is that suffix.
 */
static enum vb_verdict
as_judged(enum vb_verdict v, char *of, size_t olen)
{
	const char *job = getenv("VB_CHECK_JOB_USER");
	struct passwd pwd, *pw = NULL;
	char me[256], buf[1024];

	*of = '\0';
	if (v != VB_CHECK_FAIL_JOB || job == NULL)
		return v;
	if (getpwuid_r(geteuid(), &pwd, buf, sizeof(buf), &pw) != 0 ||
	    pw == NULL)
		snprintf(me, sizeof(me), "%u", (unsigned)geteuid());
	else
		snprintf(me, sizeof(me), "%s", pw->pw_name);
	if (*job == '\0' || strcmp(job, me) == 0)
		return VB_CHECK_FAIL;
	snprintf(of, olen, " (checked as %s, not as the job's %s)", me, job);
	return VB_CHECK_WARN;
}

enum vb_verdict
vb_check_line(enum vb_verdict v, const char *what, const char *fmt, ...)
{
	static const char *const word[] = { "ok", "warn", "FAIL",
	    "FAIL-job" };
	va_list ap;
	char *text, of[600];

	va_start(ap, fmt);
	text = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	v = as_judged(v, of, sizeof(of));
	printf("%s\t%s\t", word[v], what);
	vb_put_clean(stdout, text != NULL ? text : "(out of memory)");
	vb_put_clean(stdout, of);
	putchar('\n');
	sqlite3_free(text);
	return v;
}

void
vb_verdict_add(struct vb_verdicts *vs, enum vb_verdict v, const char *what,
    const char *fmt, ...)
{
	struct vb_verdict_line *grown;
	va_list ap;

	if (vs->n == vs->cap) {
		if ((grown = reallocarray(vs->line, vs->cap ? vs->cap * 2 : 8,
		    sizeof(*grown))) == NULL) {
			vs->lost = 1;
			return;
		}
		vs->line = grown;
		vs->cap = vs->cap ? vs->cap * 2 : 8;
	}
	va_start(ap, fmt);
	vs->line[vs->n].text = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	if (vs->line[vs->n].text == NULL) {
		vs->lost = 1;
		return;
	}
	vs->line[vs->n].v = v;
	vs->line[vs->n++].what = what;
}

int
vb_verdicts_print(struct vb_verdicts *vs, const char *what)
{
	int ret = vs->lost;
	size_t i;

	for (i = 0; i < vs->n; i++) {
		ret |= vb_check_line(vs->line[i].v, vs->line[i].what, "%s",
		    vs->line[i].text) >= VB_CHECK_FAIL;
	}
	/* Never silent: a verdict lost is a FAIL of its own. */
	if (vs->lost)
		vb_check_line(VB_CHECK_FAIL, what, "not every verdict could "
		    "be kept: out of memory");
	vb_verdicts_free(vs);
	return ret;
}

void
vb_verdicts_free(struct vb_verdicts *vs)
{
	size_t i;

	for (i = 0; i < vs->n; i++)
		sqlite3_free(vs->line[i].text);
	free(vs->line);
	memset(vs, 0, sizeof(*vs));
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

/*
 * With --print-config, each configuration error is also a field of the
 * printout, VB_CONF_ERROR=why (cleaned: one line), which
 * vb-backup reports as its own without matching this tool's stderr.
 */
static int conf_error_fields;
/* With --check-setup=config, each is a verdict instead, and only that. */
static struct vb_verdicts *conf_error_verdicts;

/* One configuration error: on stderr, and as a field when asked. */
static void __attribute__((format(printf, 1, 2)))
conf_error(const char *fmt, ...)
{
	char why[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (conf_error_verdicts != NULL) {
		vb_verdict_add(conf_error_verdicts, VB_CHECK_FAIL,
		    "configuration", "%s; fix %s (or VB_CONF)", why,
		    vb_config_path());
		return;
	}
	warnx("%s", why);
	if (conf_error_fields) {
		vb_clean_text(why);
		printf("VB_CONF_ERROR=%s\n", why);
	}
}

/* Whether the setting has a value. */
static int
set(const char *key)
{
	const char *v = vb_config(key);

	return v != NULL && *v != '\0';
}

/* A run (a drill, a check) of nothing: DB_PATH or BACKUP_DIR unset is
 * a configuration error (said).  1 if so, else 0. */
static int
places_unset(void)
{
	if (set("DB_PATH") && set("BACKUP_DIR"))
		return 0;
	conf_error("DB_PATH and BACKUP_DIR must be set, in %s or the "
	    "environment", vb_config_path());
	return 1;
}

/*
 * DRILL_SQL must be one read-only query on the database: refused now,
 * not at 01:00.  Returns 1 if it was refused (said), else 0.
 */
static int
drill_sql_error(void)
{
	const char *sql = vb_config("DRILL_SQL"), *db = vb_config("DB_PATH");
	char why[512];

	if (sql == NULL || db == NULL || vb_db_query_check(db, sql, why,
	    sizeof(why)) != -1)
		return 0;
	conf_error("%s: DRILL_SQL must be one read-only query on %s (it runs "
	    "on each restored copy and must return a row): %s",
	    vb_config_path(), db, why);
	return 1;
}

/*
 * SIGN_WITH an Ed25519 private key that reads without a passphrase, and
 * VERIFY_WITH a public one: a wrong file is refused now, not at 01:00.
 * A signing key this user may not read is left to the job's user (its
 * --check says so).  Returns how many were refused (said).
 */
static int
key_errors(unsigned checks)
{
	const char *sign = checks & VB_CONF_SIGN ? vb_config("SIGN_WITH") :
	    NULL;
	const char *verify = checks & VB_CONF_VERIFY ?
	    vb_config("VERIFY_WITH") : NULL;
	char why[1024], line[4096];
	int n = 0;

	if (sign != NULL && (access(sign, R_OK) == 0 || errno != EACCES) &&
	    vb_key_public(sign, line, sizeof(line), why, sizeof(why)) != 0) {
		conf_error("%s: SIGN_WITH: %s", vb_config_path(), why);
		n++;
	}
	if (verify != NULL && vb_key_check_public(verify, line, sizeof(line),
	    why, sizeof(why)) != 0) {
		conf_error("%s: VERIFY_WITH: %s", vb_config_path(), why);
		n++;
	}
	return n;
}

/*
 * Whether vb-backup checked these very settings at its start, for at
 * least checks: VB_CONF_CHECKED, which its --print-config=run (or
 * =drill) printed, is the stamp of this configuration now.  Its tools
 * then trust that check instead of running ssh-keygen or opening the
 * database for it again; a tool run alone, or on anything changed since
 * (a value, a key file replaced), checks for itself.
 */
static int
checked_before(unsigned checks)
{
	const char *v = getenv("VB_CONF_CHECKED");
	char mine[16 + VB_SHA256_HEX], *end;
	unsigned long done;

	if (v == NULL || checks == 0)
		return 0;
	errno = 0;
	done = strtoul(v, &end, 10);
	if (errno != 0 || end == v || *end != '-' || done > 7 ||
	    (done & checks) != checks)
		return 0;
	return vb_config_stamp((unsigned)done, mine, sizeof(mine)) == 0 &&
	    strcmp(mine, v) == 0;
}

/*
 * Prints every configuration error, and those of the settings checks
 * names (a signing key, a verifying key, DRILL_SQL) unless trust and
 * vb-backup checked them already; how many.
 */
static int
config_errors(unsigned checks, int trust)
{
	const char *e;
	int i, d, n = vb_config_load();

	for (i = 0; (e = vb_config_error(i)) != NULL; i++)
		conf_error("%s", e);
	/* DRILL_SQL against the live schema, which may change within a
	 * run: never taken on trust. */
	d = checks & VB_CONF_DRILL ? drill_sql_error() : 0;
	if (n == 0 && trust && checked_before(checks & ~VB_CONF_DRILL))
		return d;
	return n + d + key_errors(checks);
}

void
vb_config_require(unsigned checks)
{
	if (config_errors(checks, 1) != 0) {
		warnx("fix %s (or point VB_CONF at another file)",
		    vb_config_path());
		exit(VB_EXIT_USAGE);
	}
}

void
vb_config_verdicts(struct vb_verdicts *vs)
{
	const char *conf = vb_config_path();
	int n;

	/* Every check --print-config makes, signing key and all. */
	conf_error_verdicts = vs;
	n = config_errors(VB_CONF_VERIFY | VB_CONF_DRILL | VB_CONF_SIGN, 0);
	if (n == 0)
		n = places_unset();
	conf_error_verdicts = NULL;
	if (n == 0)
		vb_verdict_add(vs, VB_CHECK_OK, "configuration", "%s%s: "
		    "DB_PATH=%s BACKUP_DIR=%s", conf, access(conf, R_OK) == 0 ?
		    "" : " (absent: the environment only)",
		    vb_config("DB_PATH"), vb_config("BACKUP_DIR"));
}

void
vb_schedule_print_exit(void)
{
	char cron[64], cal[64], why[512];
	const char *v;
	uint64_t ms = 86400000;
	int at = 60;

	vb_config_require(0);
	if ((v = vb_config("BACKUP_INTERVAL")) != NULL)
		vb_parse_u64(v, &ms);
	if ((v = vb_config("NIGHTLY_AT")) != NULL)
		vb_clock_parse(v, &at);
	if (vb_schedule((int64_t)ms, at, cron, sizeof(cron), cal, sizeof(cal),
	    why, sizeof(why)) != 0) {
		warnx("%s", why);
		exit(VB_EXIT_USAGE);
	}
	printf("%s\t%s\n", cron, cal);
	exit(vb_close_stdout() == 0 ? VB_EXIT_OK : VB_EXIT_FAIL);
}

void
vb_config_print_exit(const char *what)
{
	/* A drill signs nothing: a host without the signing key drills. */
	int drill = what != NULL && strcmp(what, "drill") == 0;
	int run = what != NULL && strcmp(what, "run") == 0;
	int check = what != NULL && strcmp(what, "check") == 0;
	unsigned checks = VB_CONF_VERIFY | VB_CONF_DRILL |
	    (drill ? 0 : VB_CONF_SIGN);
	char stamp[16 + VB_SHA256_HEX], before[16 + VB_SHA256_HEX];
	int n, stamped;

	if (what != NULL && !drill && !run && !check) {
		warnx("--print-config=%s: it takes run or drill, or nothing "
		    "(or check, vb-backup --check's)", what);
		exit(VB_EXIT_USAGE);
	}
	/*
	 * The check a run's tools will trust is made here, whole, between
	 * two stamps: a key file changed while it was checked (another
	 * file renamed in, then back) gives none.
	 */
	conf_error_fields = 1;
	stamped = (drill || run) && vb_config_load() == 0 &&
	    vb_config_stamp(checks, before, sizeof(before)) == 0;
	n = config_errors(checks, 0);
	/* A run (a drill, a check) of nothing, when all else is right
	 * (a file that cannot be read sets nothing: its error says why). */
	if (n == 0 && what != NULL)
		n = places_unset();

	if (vb_config_print(stdout) != 0)
		exit(VB_EXIT_FAIL);
	/* For vb-backup: the stamp its tools compare with their own. */
	if (n == 0 && stamped && vb_config_stamp(checks, stamp,
	    sizeof(stamp)) == 0 && strcmp(stamp, before) == 0)
		printf("VB_CONF_CHECKED=%s\n", stamp);
	if (vb_close_stdout() != 0)
		exit(VB_EXIT_FAIL);
	exit(n != 0 ? VB_EXIT_USAGE : VB_EXIT_OK);
}

int
vb_emit(const char *op, const char *path, int ok, int64_t bytes,
    const char *sha, int64_t t0, const char *msg)
{
	struct vb_record r;

	vb_record_init(&r, op, path);
	r.ok = ok;
	r.bytes = bytes;
	if (sha != NULL)
		snprintf(r.sha256, sizeof(r.sha256), "%s", sha);
	r.ms = vb_monotonic_ms() - t0;
	r.msg = (char *)msg;
	if (vb_record_write(stdout, &r) != 0) {
		warn("stdout");
		return -1;
	}
	return 0;
}

int
vb_stage_loop(int (*act)(struct vb_record *, enum vb_line, void *),
    void *arg)
{
	struct vb_reader rd = { 0 };
	struct vb_record r;
	enum vb_line kind;
	int ret = 0;

	while ((kind = vb_read_record(&rd, stdin, &r)) != VB_LINE_END) {
		switch (kind) {
		case VB_LINE_RECORD:
			/* Every record passes on, unchanged, in order. */
			if (puts(rd.line) == EOF || fflush(stdout) != 0) {
				warn("stdout");
				ret = 1;
			}
			ret |= act(&r, kind, arg);
			break;
		case VB_LINE_PATH:
			ret |= act(&r, kind, arg);
			break;
		default:
			if (*rd.line == '\0')
				break;
			warnx("passing on a line that is not a record: %.80s",
			    rd.line);
			if (puts(rd.line) == EOF)
				ret = 1;
		}
	}
	if (rd.err != 0) {
		errno = rd.err;
		warn("stdin");
		ret = 1;
	}
	vb_reader_free(&rd);
	return ret;
}
