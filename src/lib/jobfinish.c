/*
 * jobfinish.c - the end of a vb-backup run (vb-log --finish): what the
 * run's records say (the archive, the database's size, the stages'
 * durations, why a stage failed), the records of stages that died without
 * writing their own, the warning of the hold tonight's archive made (a
 * sudden loss), the run's `backup` row (written last, so that it heads
 * BackupLog newest first), its summary line and its metrics; and the end
 * of a drill alone (vb-backup --drill): its summary and metrics, no row.
 * The words of the row and of the summary live here and only here.
 */
#define _GNU_SOURCE
#include <err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "vblib.h"

/* The stages the script reports before the pipeline runs. */
static const char *const before_pipe[] = { "config", "directory",
    "preflight", "lock", "leftovers", NULL };

/* The pipeline's stages in their own order, and the records each writes
 * (vb-compress also proves the links of the chain it extends: verify). */
static const struct {
	const char	*name, *ops;
} pipe_stage[] = {
	{ "snapshot", " snapshot " },
	{ "compress", " compress verify " },
	{ "offsite", " offsite " },
};
#define NPIPE	(sizeof(pipe_stage) / sizeof(pipe_stage[0]))

static int
listed(const char *const *list, const char *s)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

static char *
xstrdup(const char *s)
{
	char *d = strdup(s != NULL ? s : "");

	if (d == NULL)
		err(VB_EXIT_FAIL, "out of memory");
	return d;
}

/* ---- the run as the script tells it ---- */

/* A number that is a time or a count: digits and one point.  0, -1. */
static int
number(const char *s, double *out)
{
	char *end;

	if (*s == '\0' || strspn(s, "0123456789.") != strlen(s) ||
	    strchr(s, '.') != strrchr(s, '.'))
		return -1;
	*out = strtod(s, &end);
	return *end == '\0' ? 0 : -1;
}

/* An exit status: 0 to 255.  0, -1. */
static int
status(const char *s, int *out)
{
	double x;

	if (number(s, &x) != 0 || x > 255 || x != (int)x)
		return -1;
	*out = (int)x;
	return 0;
}

int
vb_run_parse(struct vb_metrics_run *r, const char *arg)
{
	char buf[128], *a, *b, *c, *sp;

	snprintf(buf, sizeof(buf), "%s", arg);
	if ((a = strtok_r(buf, ",", &sp)) == NULL || (b = strtok_r(NULL, ",",
	    &sp)) == NULL || (c = strtok_r(NULL, ",", &sp)) == NULL ||
	    strtok_r(NULL, ",", &sp) != NULL || number(a, &r->start) != 0 ||
	    number(b, &r->end) != 0 || status(c, &r->exit) != 0)
		return -1;
	return 0;
}

int
vb_stage_parse(struct vb_metrics_run *r, char *arg)
{
	static const char *const names[] = { "snapshot", "compress",
	    "offsite", "log", "prune", "prune_offsite", "drill", NULL };
	char *eq = strchr(arg, '='), *colon;
	double ms = -1;
	int i, st;

	if (eq == NULL || r->nstages == VB_MAX_STAGES)
		return -1;
	*eq++ = '\0';
	if ((colon = strchr(eq, ':')) != NULL)
		*colon++ = '\0';
	for (i = 0; names[i] != NULL && strcmp(names[i], arg) != 0; i++)
		;
	if (names[i] == NULL || status(eq, &st) != 0 || (colon != NULL &&
	    (number(colon, &ms) != 0 || ms != (double)(int64_t)ms)))
		return -1;
	r->stage[r->nstages].name = names[i];
	r->stage[r->nstages].status = st;
	r->stage[r->nstages++].ms = (int64_t)ms;
	return 0;
}

int
vb_finish_parse(struct vb_finish *f, const char *arg)
{
	char buf[128], *a, *b, *sp;

	snprintf(buf, sizeof(buf), "%s", arg);
	if ((a = strtok_r(buf, ",", &sp)) == NULL || (b = strtok_r(NULL, ",",
	    &sp)) == NULL || strtok_r(NULL, ",", &sp) != NULL ||
	    number(a, &f->start) != 0 || status(b, &f->code) != 0)
		return -1;
	return 0;
}

int
vb_finish_fail_parse(struct vb_finish *f, char *arg)
{
	static const char *const after[] = { "log", "prune", "prune_offsite",
	    "drill", "scrub", NULL };
	char *eq = strchr(arg, '=');

	if (eq == NULL || f->nfail == VB_FINISH_MAXFAIL)
		return -1;
	*eq++ = '\0';
	if (!listed(before_pipe, arg) && !listed(after, arg))
		return -1;
	f->fail[f->nfail].stage = arg;
	f->fail[f->nfail++].why = xstrdup(eq);
	return 0;
}

/* ---- the facts: the run's records, the failures ---- */

void
vb_finish_records(struct vb_finish *f, FILE *fp)
{
	struct vb_reader rd = { 0 };
	struct vb_record r;
	enum vb_line kind;
	char op[32];
	size_t i;

	while ((kind = vb_read_record(&rd, fp, &r)) != VB_LINE_END) {
		if (kind != VB_LINE_RECORD)
			continue;
		snprintf(op, sizeof(op), " %s ", r.op);
		for (i = 0; !r.ok && i < NPIPE; i++)
			if (f->why[i] == NULL && strstr(pipe_stage[i].ops, op))
				f->why[i] = xstrdup(r.msg);
		if (!r.ok)
			continue;
		if (strcmp(r.op, "snapshot") == 0) {
			f->db_bytes = r.bytes;
			f->ms[0] = r.ms;
		} else if (strcmp(r.op, "compress") == 0) {
			free(f->archive);
			f->archive = xstrdup(r.path);
			f->archive_bytes = r.bytes;
			snprintf(f->sha256, sizeof(f->sha256), "%s", r.sha256);
			f->ms[1] = r.ms;
		} else if (strcmp(r.op, "offsite") == 0 && r.ms > 0)
			f->ms[2] += r.ms;
	}
	vb_reader_free(&rd);
}

/* The hold tonight's archive made (vb-compress: a sudden loss). */
void
vb_finish_hold(struct vb_finish *f)
{
	const char *base;
	struct vb_hold *h;
	struct vb_name nm;
	size_t n, i;

	if (f->archive == NULL || f->dir == NULL || f->warning != NULL)
		return;
	base = strrchr(f->archive, '/');
	base = base != NULL ? base + 1 : f->archive;
	if (vb_name_parse(base, &nm) != 0 || vb_hold_list(f->dir, &h, &n) != 0)
		return;
	for (i = 0; i < n && strcmp(h[i].by, nm.stem) != 0; i++)
		;
	if (i < n && (f->warning = sqlite3_mprintf("%s; retention keeps %s "
	    "until vb-prune --release %s", h[i].reason, h[i].stem,
	    h[i].stem)) == NULL)
		err(VB_EXIT_FAIL, "out of memory");
	free(h);
}

/* The stage's status as the script gave it, or -1 (it did not run). */
static int
status_of(const struct vb_finish *f, const char *name)
{
	int i;

	for (i = 0; i < f->run.nstages; i++)
		if (strcmp(f->run.stage[i].name, name) == 0)
			return f->run.stage[i].status;
	return -1;
}

/* A failure the run met after the script's others, before its scrub. */
static void
add_fail_before_scrub(struct vb_finish *f, const char *stage, char *why)
{
	struct vb_finish_fail x;
	int i;

	if (why == NULL)
		err(VB_EXIT_FAIL, "out of memory");
	if (f->nfail == VB_FINISH_MAXFAIL) {
		sqlite3_free(why);
		return;
	}
	for (i = 0; i < f->nfail && strcmp(f->fail[i].stage, "scrub") != 0;
	    i++)
		;
	x.stage = stage;
	x.why = xstrdup(why);
	sqlite3_free(why);
	memmove(&f->fail[i + 1], &f->fail[i], (size_t)(f->nfail - i) *
	    sizeof(x));
	f->fail[i] = x;
	f->nfail++;
}

void
vb_finish_drill(struct vb_finish *f, FILE *fp,
    int (*row)(void *, const struct vb_record *), void *arg)
{
	struct vb_reader rd = { 0 };
	struct vb_record r;
	enum vb_line kind;
	char *why = NULL;
	int st = status_of(f, "drill"), refused = 0;

	f->drilled = 0;
	while (fp != NULL && (kind = vb_read_record(&rd, fp, &r)) !=
	    VB_LINE_END) {
		if (kind != VB_LINE_RECORD)
			continue;
		refused |= row(arg, &r) != 0;
		f->drilled += r.ok;
		if (!r.ok && why == NULL && (why = strcmp(r.path, "-") == 0 ?
		    sqlite3_mprintf("%s", r.msg) : sqlite3_mprintf("%s: %s",
		    r.path, r.msg)) == NULL)
			err(VB_EXIT_FAIL, "out of memory");
	}
	vb_reader_free(&rd);
	if (st > 0)
		add_fail_before_scrub(f, "drill", why != NULL && *why != '\0' ?
		    sqlite3_mprintf("%s", why) : sqlite3_mprintf("vb-restore "
		    "--drill exited %d", st));
	if (refused)
		add_fail_before_scrub(f, "log", sqlite3_mprintf("BackupLog in "
		    "%s could not take the drill's rows", f->db));
	sqlite3_free(why);
}

/* "exited 2", "was killed by SIGKILL", as the shell names a status. */
static char *
died_how(const char *stage, int status)
{
	const char *sig = status > 128 ? sigabbrev_np(status - 128) : NULL;

	if (status <= 128)
		return sqlite3_mprintf("vb-%s exited %d", stage, status);
	if (sig != NULL)
		return sqlite3_mprintf("vb-%s was killed by SIG%s", stage, sig);
	return sqlite3_mprintf("vb-%s was killed by SIG%d", stage,
	    status - 128);
}

static void
add_fail(struct vb_finish *f, const char *stage, const char *why)
{
	if (f->nfail == VB_FINISH_MAXFAIL)
		return;
	f->fail[f->nfail].stage = stage;
	f->fail[f->nfail++].why = xstrdup(why);
}

void
vb_finish_derive(struct vb_finish *f)
{
	struct vb_finish_fail given[VB_FINISH_MAXFAIL];
	int order[NPIPE], n = 0, i, k, ngiven = f->nfail, st[NPIPE];
	char *how;

	for (k = 0; k < (int)NPIPE; k++)
		st[k] = status_of(f, pipe_stage[k].name);
	if (st[0] < 0 && st[1] < 0)
		return;		/* the pipeline never ran */
	/* A stage killed by SIGPIPE (141) died because the next one did:
	 * the cause is reported first. */
	if (st[0] == 141)
		order[n++] = 1, order[n++] = 0;
	else
		order[n++] = 0, order[n++] = 1;
	if (st[2] >= 0)
		order[n++] = 2;
	if (st[1] == 141 && st[2] >= 0)
		n = 0, order[n++] = 2, order[n++] = 0, order[n++] = 1;
	memcpy(given, f->fail, sizeof(given));
	for (i = 0; i < ngiven && listed(before_pipe, given[i].stage); i++)
		;
	f->nfail = i;
	for (k = 0; k < n; k++) {
		int s = order[k];

		if (st[s] <= 0)
			continue;
		if (st[s] == 1 && f->why[s] != NULL && *f->why[s] != '\0') {
			add_fail(f, pipe_stage[s].name, f->why[s]);
			continue;
		}
		if (st[s] == 1) {
			/* Failed without saying why in a record: its exit. */
			how = sqlite3_mprintf("vb-%s exited 1 without a failed "
			    "record (see its messages above)",
			    pipe_stage[s].name);
			if (how == NULL)
				err(VB_EXIT_FAIL, "out of memory");
			add_fail(f, pipe_stage[s].name, how);
			sqlite3_free(how);
			continue;
		}
		/* It died without its record: the run writes one for it. */
		how = died_how(pipe_stage[s].name, st[s]);
		add_fail(f, pipe_stage[s].name, how);
		f->died[f->ndied++] = f->fail[f->nfail - 1];
		sqlite3_free(how);
	}
	for (; i < ngiven; i++)
		if (f->nfail < VB_FINISH_MAXFAIL)
			f->fail[f->nfail++] = given[i];
		else
			free(given[i].why);
}

/* ---- the words: the backup row's message, the summary ---- */

static const char *
ms_text(int64_t ms, char *buf, size_t len)
{
	if (ms < 0)
		return "";
	snprintf(buf, len, "%lld", (long long)ms);
	return buf;
}

/* The message of a run that made its backup. */
static void
ok_message(const struct vb_finish *f, sqlite3_str *s)
{
	char a[24], b[24], c[24];

	if (f->point)
		sqlite3_str_appendf(s, "ok: point, read and archived %s ms",
		    ms_text(f->ms[1], b, sizeof(b)));
	else
		sqlite3_str_appendf(s, "ok: snapshot %s ms, compress and "
		    "read-back %s ms", ms_text(f->ms[0], a, sizeof(a)),
		    ms_text(f->ms[1], b, sizeof(b)));
	if (f->offsite != NULL)
		sqlite3_str_appendf(s, ", offsite copy verified %s ms",
		    ms_text(status_of(f, "offsite") >= 0 ? f->ms[2] : -1, c,
		    sizeof(c)));
	sqlite3_str_appendf(s, "; retention %s; %lld backups kept",
	    f->retained, (long long)f->kept);
	if (f->remote_kept >= 0 && f->offsite != NULL)
		sqlite3_str_appendf(s, ", %lld on %s",
		    (long long)f->remote_kept, f->offsite);
	if (f->drilled >= 0)
		sqlite3_str_appendf(s, "; drill: %lld backup(s) restored and "
		    "proven", (long long)f->drilled);
	if (f->warning != NULL)
		sqlite3_str_appendf(s, "; WARNING: %s", f->warning);
}

/* A drill alone's summary, as vb-backup --drill says it. */
static void
drill_summary(const struct vb_finish *f, sqlite3_str *t)
{
	if (f->code == 0)
		sqlite3_str_appendf(t, "drill: %lld backup(s) restored and "
		    "proven", (long long)(f->drilled > 0 ? f->drilled : 0));
	else
		sqlite3_str_appendf(t, "drill FAILED: %s", f->nfail > 0 ?
		    f->fail[0].why : "");
}

void
vb_finish_compose(struct vb_finish *f)
{
	sqlite3_str *m = sqlite3_str_new(NULL), *t = sqlite3_str_new(NULL);
	int64_t secs = f->elapsed_ms / 1000;
	const char *stage = f->nfail > 0 ? f->fail[0].stage : "";
	const char *why = f->nfail > 0 ? f->fail[0].why : "";

	if (f->code == 0 && f->nfail > 0)
		f->code = 1;
	f->row_ok = 1;
	if (f->point)
		sqlite3_str_appendall(m, "kind=point; ");
	if (f->drill_only)
		drill_summary(f, t);
	else if (f->code == 0) {
		ok_message(f, m);
		sqlite3_str_appendf(t, "ok: %s backed up to %s in %llds%s "
		    "(retention: %s)", f->db, f->dir != NULL ? f->dir : "",
		    (long long)secs, f->point ? " (a point)" : "",
		    f->retained);
		if (f->warning != NULL)
			sqlite3_str_appendf(t, "; WARNING: %s", f->warning);
	} else {
		sqlite3_str_appendf(t, "FAILED after %llds at %s: %s",
		    (long long)secs, stage, why);
		/* A BackupLog that refused rows does not make the backup
		 * bad. */
		if (strcmp(stage, "log") == 0) {
			ok_message(f, m);
			sqlite3_str_appendall(m, "; but BackupLog refused rows "
			    "of this run (see syslog)");
		} else {
			f->row_ok = 0;
			sqlite3_str_appendf(m, "failed at %s: %s", stage, why);
		}
	}
	f->message = vb_str_finish(m);
	f->summary = vb_str_finish(t);
	if (f->message == NULL || f->summary == NULL)
		err(VB_EXIT_FAIL, "out of memory");
	vb_clean_field(f->message);
}

void
vb_finish_refused(struct vb_finish *f)
{
	char *t;

	if (f->code == 0) {
		f->code = 1;
		t = sqlite3_mprintf("BackupLog in %s could not take the backup "
		    "row", f->db);
		add_fail(f, "log", t);
		sqlite3_free(t);
	}
	t = sqlite3_mprintf("%s; BackupLog could not take the backup row",
	    f->summary);
	if (t == NULL)
		err(VB_EXIT_FAIL, "out of memory");
	sqlite3_free(f->summary);
	f->summary = t;
}

/* ---- the writes: the rows, the metrics ---- */

/* Writes r through l; a refusal said on stderr and to syslog.  0, -1. */
static int
log_row(struct vb_backuplog *l, const char *db, const struct vb_record *r)
{
	char why[1024], *line = NULL;
	size_t len = 0;
	FILE *mem;

	if (l != NULL && vb_backuplog_write(l, r, 1, why, sizeof(why)) == 0)
		return 0;
	if (l != NULL && why[0] != '\0')
		warnx("%s", why);
	if ((mem = open_memstream(&line, &len)) == NULL)
		err(VB_EXIT_FAIL, "out of memory");
	(void)vb_record_write(mem, r);
	fclose(mem);
	if (len > 0 && line[len - 1] == '\n')
		line[len - 1] = '\0';
	warnx("not logged: %s", line);
	syslog(LOG_ERR, "not logged in %s: %s", db, line);
	free(line);
	return -1;
}

/* BackupLog opened for the run's rows (NULL: said, each row refused). */
static struct vb_backuplog *
log_open(const struct vb_finish *f)
{
	struct vb_backuplog *l = NULL;
	char why[1024];

	openlog(vb_progname(), LOG_PID, LOG_USER);
	if (*f->db != '\0' && (l = vb_backuplog_open(f->db, why,
	    sizeof(why))) == NULL)
		warnx("%s", why);
	return l;
}

struct drill_log {
	struct vb_backuplog	*l;
	const char		*db;
};

static int
drill_row(void *arg, const struct vb_record *r)
{
	struct drill_log *d = arg;

	return log_row(d->l, d->db, r);
}

/* The drill's records at f->drill_records (vb_finish_drill), rows in l. */
static void
drill_rows(struct vb_finish *f, struct vb_backuplog *l)
{
	struct drill_log d = { l, f->db };
	FILE *fp;

	if (f->drill_records == NULL)
		return;
	if ((fp = fopen(f->drill_records, "re")) == NULL)
		warn("%s", f->drill_records);
	vb_finish_drill(f, fp, drill_row, &d);
	if (fp != NULL)
		fclose(fp);
}

/* The records of stages that died, then the run's backup row. */
static void
write_rows(struct vb_finish *f, struct vb_backuplog *l)
{
	struct vb_record r;
	int i;

	for (i = 0; *f->db != '\0' && i < f->ndied; i++) {
		vb_record_init(&r, f->died[i].stage, NULL);
		r.msg = f->died[i].why;
		(void)log_row(l, f->db, &r);
	}
	vb_record_init(&r, "backup", f->archive);
	r.ok = f->row_ok;
	r.bytes = f->archive_bytes;
	snprintf(r.sha256, sizeof(r.sha256), "%s", f->sha256);
	r.ms = f->elapsed_ms;
	r.msg = f->message;
	if (*f->db == '\0' || log_row(l, f->db, &r) != 0)
		vb_finish_refused(f);
}

/* How many backups dir holds (a snapshot and its archive are one). */
static int64_t
kept_in(const char *dir)
{
	struct vb_backup *list;
	char why[512];
	size_t n, i;
	int64_t k = 0;

	if (dir == NULL || vb_scan(dir, &list, &n, why, sizeof(why)) != 0)
		return 0;
	for (i = 0; i < n; i++)
		k += list[i].kind == VB_KIND_BACKUP;
	free(list);
	return k;
}

static int64_t
ms_between(double a, double b)
{
	return b > a ? (int64_t)((b - a) * 1000) : 0;
}

void
vb_finish_init(struct vb_finish *f, const char *db, double start, int code)
{
	memset(f, 0, sizeof(*f));
	f->db = db;
	f->start = start;
	f->code = code;
	f->retained = "skipped";
	f->remote_kept = f->drilled = -1;
	f->archive_bytes = f->db_bytes = f->ms[0] = f->ms[1] = -1;
	f->run.start = f->run.end = -1;
	f->run.remote_kept = -1;
	f->run.drill = -1;
}

void
vb_finish_free(struct vb_finish *f)
{
	int i;

	free(f->archive);
	sqlite3_free(f->warning);
	for (i = 0; i < 3; i++)
		free(f->why[i]);
	/* died[] shares its texts with fail[]. */
	for (i = 0; i < f->nfail; i++)
		free(f->fail[i].why);
	sqlite3_free(f->message);
	sqlite3_free(f->summary);
	memset(f, 0, sizeof(*f));
}

/* The pipeline's durations, from its records, into the stages given. */
static void
stage_ms(struct vb_finish *f)
{
	size_t k;
	int i;

	for (i = 0; i < f->run.nstages; i++)
		for (k = 0; k < NPIPE; k++)
			if (strcmp(f->run.stage[i].name, pipe_stage[k].name) ==
			    0)
				f->run.stage[i].ms = f->ms[k];
}

static double
now_secs(void)
{
	struct timespec now = vb_now();

	return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/*
 * A drill alone: its summary; the metrics as vb-log --metrics --drill
 * writes them (the last run's gauges from BackupLog).  0, -1.
 */
static int
drill_end(struct vb_finish *f, const char *metrics)
{
	struct vb_metrics_run r = { .db = f->db, .start = -1, .end = -1,
	    .remote_kept = -1, .drill = status_of(f, "drill") };
	struct vb_backuplog *l = log_open(f);
	char why[1024];

	f->kept = -1;
	drill_rows(f, l);
	vb_backuplog_close(l);
	closelog();
	vb_finish_compose(f);
	if (metrics == NULL)
		return 0;
	r.logdb = *f->db != '\0' ? f->db : NULL;
	if (vb_metrics_write(metrics, &r, why, sizeof(why)) == 0)
		return 0;
	warnx("cannot write the metrics file: %s", why);
	return -1;
}

int
vb_finish(struct vb_finish *f, FILE *records, const char *metrics)
{
	struct vb_backuplog *l;
	char why[1024];

	if (f->drill_only)
		return drill_end(f, metrics);
	f->kept = kept_in(f->dir);
	vb_finish_records(f, records);
	stage_ms(f);
	vb_finish_derive(f);
	vb_finish_hold(f);
	l = log_open(f);
	drill_rows(f, l);
	f->elapsed_ms = ms_between(f->start, now_secs());
	vb_finish_compose(f);
	write_rows(f, l);
	vb_backuplog_close(l);
	closelog();
	if (metrics == NULL)
		return 0;
	f->run.start = f->start;
	f->run.end = now_secs();
	f->run.exit = f->code;
	f->run.db = f->db;
	f->run.logdb = *f->db != '\0' ? f->db : NULL;
	f->run.remote_kept = f->remote_kept;
	f->run.drill = status_of(f, "drill");
	if (vb_metrics_write(metrics, &f->run, why, sizeof(why)) == 0)
		return 0;
	warnx("could not write the metrics file %s: %s", metrics, why);
	return -1;
}

/* ---- the answer: KEY=VALUE lines for the script ---- */

/*
 * One line; a value's TAB, CR and newline as spaces (one line a key),
 * every other byte a terminal would act on as '?' (vb_clean_text): the
 * summary reaches a terminal and syslog.
 */
static int
put(const char *key, const char *v)
{
	char *c = xstrdup(v);
	int rc;

	vb_clean_field(c);
	vb_clean_text(c);
	rc = printf("%s=%s\n", key, c);
	free(c);
	return rc < 0 ? -1 : 0;
}

static int
put_num(const char *key, int64_t v)
{
	char buf[24] = "";

	if (v >= 0)
		snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return put(key, buf);
}

int
vb_finish_print(const struct vb_finish *f)
{
	sqlite3_str *s = sqlite3_str_new(NULL);
	char *stages, *see, q[4200];
	int i, rc;

	for (i = 0; i < f->nfail; i++)
		sqlite3_str_appendf(s, "%s%s", i > 0 ? " " : "",
		    f->fail[i].stage);
	if ((stages = vb_str_finish(s)) == NULL)
		stages = sqlite3_mprintf("%s", "");
	/* What to look at, and the hook's VB_STATUS (ON_FAILURE's too
	 * when a run that backed up warns); a drill alone's summary says
	 * it all. */
	see = f->code == 0 || f->drill_only ? sqlite3_mprintf("%s", "") :
	    *f->db != '\0' ?
	    sqlite3_mprintf("see: vb-log --show --failures %s, and vb-backup "
	    "--check", vb_shq(f->db, q, sizeof(q))) :
	    sqlite3_mprintf("see: vb-backup --check");
	rc = put_num("EXIT", f->code) | put("SUMMARY", f->summary) |
	    put("SEE", see != NULL ? see : "") | put("STATUS", f->code != 0 ?
	    "failure" : f->warning != NULL ? "warning" : "success") |
	    put("WARNING", f->warning != NULL ? f->warning : "") |
	    put("FAILED_STAGES", stages != NULL ? stages : "") |
	    put("ARCHIVE", f->archive) | put_num("ARCHIVE_BYTES",
	    f->archive_bytes) | put_num("DB_BYTES", f->db_bytes) |
	    put_num("KEPT", f->kept);
	sqlite3_free(stages);
	sqlite3_free(see);
	return rc;
}
