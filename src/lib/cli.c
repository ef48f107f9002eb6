/*
 * cli.c - the command line's helpers: the one file of the library that
 * prints to standard output or exits.  Usage, help and version; the
 * configuration required (or printed) before a tool does anything; a
 * tool's records emitted on stdout; the loop of a stage on the pipe, and
 * vb-log's, which writes what it passes on into BackupLog in short
 * batches; a prune's outcomes said; and standard output closed and
 * checked before the exit status is chosen.
 * Diagnostics are err(3)'s (warn, warnx): "vb-tool: what: why" on
 * stderr, never stdout.
 */
#define _GNU_SOURCE
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
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
	warnx("%s: DRILL_SQL must be one read-only query on %s (it runs on "
	    "each restored copy and must return a row): %s", vb_config_path(),
	    db, why);
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
		warnx("%s: SIGN_WITH: %s", vb_config_path(), why);
		n++;
	}
	if (verify != NULL && vb_key_check_public(verify, line, sizeof(line),
	    why, sizeof(why)) != 0) {
		warnx("%s: VERIFY_WITH: %s", vb_config_path(), why);
		n++;
	}
	return n;
}

/*
 * Prints every configuration error, and those of the settings checks
 * names (a signing key, a verifying key, DRILL_SQL); how many.
 */
static int
config_errors(unsigned checks)
{
	const char *e;
	int i, n = vb_config_load();

	for (i = 0; (e = vb_config_error(i)) != NULL; i++)
		warnx("%s", e);
	return n + (checks & VB_CONF_DRILL ? drill_sql_error() : 0) +
	    key_errors(checks);
}

void
vb_config_require(unsigned checks)
{
	if (config_errors(checks) != 0) {
		warnx("fix %s (or point VB_CONF at another file)",
		    vb_config_path());
		exit(VB_EXIT_USAGE);
	}
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
	int n = config_errors(VB_CONF_VERIFY | VB_CONF_DRILL | (what != NULL &&
	    strcmp(what, "drill") == 0 ? 0 : VB_CONF_SIGN));

	if (vb_config_print(stdout) != 0 || vb_close_stdout() != 0)
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

/* A prune record for each file, and why on stderr when it failed. */
static int
prune_said(void *arg, const char *path, int ok, int64_t bytes,
    const char *msg)
{
	(void)arg;
	if (!ok)
		warnx("%s: %s", path, msg);
	return vb_emit("prune", path, ok, bytes, NULL, vb_monotonic_ms(),
	    msg) != 0;
}

static void
prune_noted(void *arg, const char *text)
{
	(void)arg;
	warnx("%s", text);
}

int
vb_prune_emit(const char *dir, const char *remote,
    const struct vb_policy *p, int dry)
{
	struct vb_prune_out out = { prune_said, prune_noted, NULL };
	char why[1024];
	int64_t t0 = vb_monotonic_ms();
	int rc;

	if ((rc = vb_prune_apply(dir, remote, p, dry, &out, why,
	    sizeof(why))) >= 0)
		return rc;
	warnx("%s", why);
	vb_emit("prune", "-", 0, -1, NULL, t0, why);
	return 1;
}

/* ---- an archive's records ---- */

/*
 * The links of the chain vb-compress would have built on that were found
 * damaged or missing: one failed verify record each (tonight's archive is
 * a full one).  Returns 0 if there were none, else 1.
 */
static int
faults(const char *path, const struct vb_compress_result *res)
{
	char dir[4096], base[256], msg[1400], where[4400];
	int i;

	if (res->nfaults == 0)
		return 0;
	vb_path_split(path, dir, sizeof(dir), base, sizeof(base));
	for (i = 0; i < res->nfaults; i++) {
		vb_fault_text(&res->faults[i], dir, msg, sizeof(msg));
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), "; "
		    "tonight's backup is a full one");
		warnx("%s", msg);
		vb_path_join(where, sizeof(where), dir, res->faults[i].name);
		vb_emit("verify", where, 0, -1, NULL, vb_monotonic_ms(), msg);
	}
	return 1;
}

/* One compress record for rc and res (msg its message); 0, or 1. */
static int
compressed(const char *path, int rc, const struct vb_compress_result *res,
    const char *msg, int64_t t0, int quiet)
{
	if (!quiet && res->note[0] != '\0')
		warnx("%s", res->note);
	if (rc != 0)
		warnx("%s", res->why);
	/* A loss of rows is news even to a quiet run. */
	if (res->warning[0] != '\0')
		warnx("WARNING: %s", res->warning);
	/* Flushed at once: vb-log downstream logs each as it happens. */
	if (vb_emit("compress", rc >= 0 ? res->path : path, rc >= 0,
	    rc >= 0 ? res->bytes : -1, rc >= 0 ? res->sha256 : NULL, t0,
	    msg) != 0 || fflush(stdout) != 0)
		return 1;
	return rc != 0;
}

int
vb_compress_emit(const char *path, const struct vb_snapmeta *meta,
    const struct vb_compress_opts *o, int quiet)
{
	struct vb_compress_result res;
	char msg[2400];
	int64_t t0 = vb_monotonic_ms();
	int rc, bad;

	rc = vb_compress_file(path, meta, o, &res);
	bad = faults(path, &res);
	vb_compress_message(o, &res, rc, msg, sizeof(msg));
	return compressed(path, rc, &res, msg, t0, quiet) | bad;
}

int
vb_encrypt_emit(const char *path, const char *recipients, int quiet)
{
	struct vb_compress_result res;
	char msg[1400];
	int64_t t0 = vb_monotonic_ms();
	int rc;

	rc = vb_encrypt_in_place(path, recipients, &res);
	if (!quiet && res.note[0] != '\0')
		warnx("%s", res.note);
	vb_encrypt_message(path, &res, rc, msg, sizeof(msg));
	if (rc != 0)
		warnx("%s", rc < 0 ? res.why : msg);
	if (vb_emit("compress", rc >= 0 ? res.path : path, rc >= 0,
	    rc >= 0 ? res.bytes : -1, rc >= 0 ? res.sha256 : NULL, t0,
	    msg) != 0 || fflush(stdout) != 0)
		return 1;
	return rc != 0;
}

int
vb_point_emit(const struct vb_point_opts *o, int quiet)
{
	struct vb_compress_result res;
	char msg[2400];
	int64_t t0 = vb_monotonic_ms();
	int rc;

	rc = vb_point(o, &res);
	vb_point_message(o, &res, rc, msg, sizeof(msg));
	return compressed(o->db, rc, &res, msg, t0, quiet);
}

int
vb_due_emit(const char *dir, int quiet)
{
	char note[600], why[1024];
	int rc = vb_run_due(dir, note, sizeof(note), why, sizeof(why));

	if (rc < 0) {
		warnx("%s", why);
		return 1;
	}
	if (!quiet)
		warnx("%s", note);
	return printf("%s\n", rc == VB_RUN_NIGHTLY ? "nightly" : "point") <
	    0;
}

/* ---- a restore's record ---- */

int
vb_at_emit(const char *dir, const char *remote, const char *when,
    char *archive, size_t alen)
{
	char why[1024], name[128];

	if (dir == NULL && remote == NULL)
		dir = vb_config("BACKUP_DIR");
	if (dir == NULL && remote == NULL)
		snprintf(why, sizeof(why), "--at %s: no backup directory: -d "
		    "DIR or BACKUP_DIR", when);
	else if (vb_backup_at(dir, remote, when, name, sizeof(name), why,
	    sizeof(why)) == 0) {
		if (remote != NULL)
			snprintf(archive, alen, "%s", name);
		else
			vb_path_join(archive, alen, dir, name);
		return 0;
	}
	warnx("%s", why);
	vb_emit("restore", "-", 0, -1, NULL, vb_monotonic_ms(), why);
	return -1;
}

int
vb_restore_emit(const struct vb_restore_opts *ro, const char *offsite,
    int verify_only, int quiet)
{
	struct vb_restore_result res;
	char undo[9000];
	int64_t t0 = vb_monotonic_ms();
	int rc, ret = 0;

	rc = offsite != NULL ? vb_restore_offsite(ro, offsite, ro->dir, &res) :
	    vb_restore(ro, &res);
	if (!quiet && res.note[0] != '\0')
		warnx("%s", res.note);
	if (rc != 0) {
		warnx("%s", res.why);
		vb_emit(verify_only ? "verify" : "restore", verify_only ?
		    ro->archive : "-", 0, -1, NULL, t0, res.why);
		return 1;
	}
	if (verify_only)
		return vb_emit("verify", ro->archive, 1, res.archive_bytes,
		    res.archive_sha256, t0, res.message) == 0 ? 0 : 1;
	/* It happened: exit 0, with what went wrong beside it said. */
	if (res.unlogged[0] != '\0')
		warnx("restored, but not recorded: %s", res.unlogged);
	if (vb_emit("restore", res.target, 1, res.bytes, res.sha256, t0,
	    res.message) != 0)
		ret = 1;
	if (!quiet && res.saved[0] != '\0') {
		vb_restore_undo(res.saved, ro->identity, ro->db, undo,
		    sizeof(undo));
		warnx("the database as it was is in %s; to undo: %s",
		    res.saved, undo);
	}
	return ret;
}

int
vb_diff_emit(const struct vb_diff_opts *o)
{
	char why[2048];

	if (vb_diff(o, why, sizeof(why)) == 0)
		return 0;
	warnx("%s", why);
	return 1;
}

/* How to undo it: the command that applies its undo file, pasted as
 * it is (the same -d, so that its copies go where this one's went). */
static void
undo_hint(const char *db, const char *dir, const struct vb_partial_result *res)
{
	if (res->undo[0] != '\0')
		warnx("to undo: vb-restore%s -d %s --undo %s --db %s",
		    vb_age_named(res->undo) ? " -i IDENTITY-FILE" : "", dir,
		    res->undo, db);
}

/* A change made (its row committed with it): its record, the undo
 * told, foreign keys it kept said.  Exit status. */
static int
changed(const char *db, const char *dir, struct vb_partial_result *res,
    int quiet)
{
	if (res->violations > 0)
		warnx("%lld foreign key violations kept (--force): PRAGMA "
		    "foreign_key_check lists them", (long long)res->violations);
	if (!quiet)
		undo_hint(db, dir, res);
	return vb_record_write(stdout, &res->record) != 0;
}

/* A change refused, or a dry run: said.  Exit status. */
static int
unchanged(int rc, int dry, int64_t t0, const struct vb_partial_result *res,
    int quiet)
{
	if (!quiet && res->note[0] != '\0')
		warnx("%s", res->note);
	if (rc != 0) {
		warnx("%s", res->why);
		vb_emit("restore", "-", 0, -1, NULL, t0, res->why);
		return 1;
	}
	(void)dry;
	return printf("dry run, nothing changed: %s\n", res->message) < 0;
}

int
vb_partial_emit(const struct vb_partial_opts *o, int quiet)
{
	struct vb_partial_result res;
	int64_t t0 = vb_monotonic_ms();
	int rc = vb_partial(o, &res);

	if (rc != 0 || o->dry)
		return unchanged(rc, o->dry, t0, &res, quiet);
	if (!quiet && res.note[0] != '\0')
		warnx("%s", res.note);
	return changed(o->db, o->dir, &res, quiet);
}

int
vb_undo_emit(const struct vb_undo_opts *o, int quiet)
{
	struct vb_partial_result res;
	int64_t t0 = vb_monotonic_ms();
	int rc = vb_undo(o, &res);

	if (rc != 0 || o->dry)
		return unchanged(rc, o->dry, t0, &res, quiet);
	if (!quiet && res.note[0] != '\0')
		warnx("%s", res.note);
	return changed(o->db, o->dir, &res, quiet);
}

/* One backup drilled: its verify record, and a failure said. */
static int
drilled(void *arg, const char *path, int ok, int64_t bytes, const char *sha,
    int64_t t0, const char *msg)
{
	int quiet = *(int *)arg;

	if (!ok || !quiet)
		warnx("%s: %s", path, msg);
	return vb_emit("verify", path, ok, bytes, sha, t0, msg);
}

int
vb_drill_emit(const struct vb_drill_opts *o, int quiet)
{
	struct vb_drill_out out = { &quiet, drilled };
	char why[1024];
	int64_t t0 = vb_monotonic_ms();
	int rc;

	if ((rc = vb_drill(o, &out, why, sizeof(why))) >= 0)
		return rc;
	warnx("%s", why);
	vb_emit("verify", "-", 0, -1, NULL, t0, why);
	return 1;
}

/* ---- vb-log's loop: records into BackupLog, passed on ---- */

#define BATCH	256

/* The lines read and not yet written, and their records. */
struct batch {
	char		*line[BATCH];
	struct vb_record r[BATCH];
	char		*copy[BATCH];
	int		 n;
};

/*
 * Writes the batch in one short transaction and empties it.  Returns 0,
 * or -1 after reporting every line of it on stderr and to syslog.
 */
static int
flush(struct vb_backuplog *l, struct batch *b, const char *path)
{
	char why[1024];
	int i, rc = 0;

	if (b->n > 0 && vb_backuplog_write(l, b->r, (size_t)b->n, why,
	    sizeof(why)) != 0) {
		if (why[0] != '\0')
			warnx("%s", why);
		for (i = 0; i < b->n; i++) {
			warnx("not logged: %s", b->line[i]);
			syslog(LOG_ERR, "not logged in %s: %s", path,
			    b->line[i]);
		}
		rc = -1;
	}
	while (b->n > 0) {
		b->n--;
		free(b->line[b->n]);
		free(b->copy[b->n]);
	}
	return rc;
}

/* Adds the reader's current line and record to the batch. */
static void
add(struct batch *b, struct vb_reader *rd, const struct vb_record *r)
{
	if ((b->line[b->n] = strdup(rd->line)) == NULL)
		err(VB_EXIT_FAIL, "out of memory");
	/* The record points into the reader's copy: the batch keeps it. */
	b->copy[b->n] = rd->copy;
	rd->copy = NULL;
	b->r[b->n++] = *r;
}

/* Returns 1 if stdin has a line ready without waiting. */
static int
more_waiting(void)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

int
vb_log_loop(const char *path, int quiet)
{
	struct vb_backuplog *l;
	struct vb_reader rd = { 0 };
	struct vb_record r;
	struct batch b;
	enum vb_line kind;
	char why[1024];
	int ret = 0;

	openlog(vb_progname(), LOG_PID, LOG_USER);
	b.n = 0;
	if ((l = vb_backuplog_open(path, why, sizeof(why))) == NULL) {
		warnx("%s", why);
		ret = 1;
	}
	while ((kind = vb_read_record(&rd, stdin, &r)) != VB_LINE_END) {
		if (!quiet && (puts(rd.line) == EOF || fflush(stdout) != 0)) {
			warn("stdout");
			ret = 1;
		}
		if (kind != VB_LINE_RECORD) {
			if (*rd.line != '\0')
				warnx("not a record, not logged: %.80s",
				    rd.line);
			continue;
		}
		if (b.n == BATCH && flush(l, &b, path) != 0)
			ret = 1;
		add(&b, &rd, &r);
		/* Write when the pipe is quiet: never hold a lock waiting. */
		if (!more_waiting() && flush(l, &b, path) != 0)
			ret = 1;
	}
	if (rd.err != 0) {
		errno = rd.err;
		warn("stdin");
		ret = 1;
	}
	if (flush(l, &b, path) != 0)
		ret = 1;
	vb_reader_free(&rd);
	vb_backuplog_close(l);
	closelog();
	return ret;
}
