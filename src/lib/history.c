/*
 * history.c - BackupLog read back: the history, newest first, in the
 * listing's forms (listing.c): an aligned page on a terminal with how
 * many more rows there are, every row as a record when piped (so that
 * it pipes back into vb-log unchanged), or JSON with the table's own
 * values.  Times as vb writes them, whatever the table keeps.  An output
 * helper: it prints on stdout, and a failure once on stderr.  And what
 * the history says: when a snapshot last passed integrity_check, read
 * in the words of the records' owners (record.c, compress.c), and
 * vb-log's answers of one line: --last-*, --due.
 */
#define _GNU_SOURCE
#include <err.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "vblib.h"

#define TTY_ROWS	50	/* rows a terminal gets */

/*
 * Prints one row as a JSON object: its columns as the table holds them
 * (integers as numbers, text exactly), the operation as vb logged it.
 */
static void
show_json(struct vb_list *out, sqlite3_stmt *st, const struct vb_log_map *m,
    struct vb_log_row *row)
{
	static const char *const keys[VB_LOG_NCOLS] = { "createdAt",
	    "operation", "status", "filename", "sizeBytes", "sha256",
	    "durationMs", "message" };
	const char *t;
	int i;

	vb_list_object(out);
	for (i = 0; i < VB_LOG_NCOLS; i++) {
		t = (const char *)sqlite3_column_text(st, i);
		if (i == 1 && m->have[1] == NULL)
			t = row->r.op;
		/* The operation vb put in front of the message, taken off. */
		if (i == 7 && m->have[1] == NULL && t != NULL &&
		    strncmp(t, row->r.op, strlen(row->r.op)) == 0 &&
		    strncmp(t + strlen(row->r.op), ": ", 2) == 0)
			t += strlen(row->r.op) + 2;
		if (sqlite3_column_type(st, i) == SQLITE_INTEGER)
			vb_list_int(out, keys[i], sqlite3_column_int64(st, i),
			    1);
		else
			vb_list_str(out, keys[i], t);
	}
}

/*
 * Prints one row: aligned on a terminal (sw: the width of the table's
 * status words), a record otherwise.
 */
static int
show_row(struct vb_list *out, sqlite3_stmt *st, const struct vb_log_map *m,
    int sw)
{
	struct vb_log_row row;
	char size[32], ms[32];

	vb_backuplog_row(st, m, &row);
	if (out->form == VB_LIST_JSON) {
		show_json(out, st, m, &row);
		return 0;
	}
	if (out->form == VB_LIST_RECORDS)
		return vb_record_write(stdout, &row.r);
	if (row.r.bytes < 0)
		snprintf(size, sizeof(size), "-");
	else
		vb_human_bytes((uint64_t)row.r.bytes, size, sizeof(size));
	/* No duration column, or none recorded: not "0 ms". */
	if (row.r.ms < 0)
		snprintf(ms, sizeof(ms), "-");
	else
		snprintf(ms, sizeof(ms), "%lld ms", (long long)row.r.ms);
	/* The time as vb writes it, whatever the table keeps. */
	return printf("%-24s  %-9s  %-*s  %10s  %10s  %s%s%s\n",
	    row.r.time[0] != '\0' ? row.r.time : row.when, row.r.op, sw,
	    row.status, size, ms, row.file[0] != '\0' ? row.file : "-",
	    row.msg[0] != '\0' ? "  " : "", row.msg) < 0;
}

int
vb_history(const char *path, const struct vb_log_query *q, int json)
{
	struct vb_log_query all = *q;
	struct vb_log_map m;
	struct vb_list out;
	sqlite3_stmt *st;
	sqlite3 *db;
	char why[1024];
	int64_t n, limit;
	int rc, sw, ret = 0;

	/* Every row is stepped through, so a terminal can say how many more. */
	all.count = -1;
	if ((db = vb_db_open_ro(path, why, sizeof(why))) == NULL ||
	    vb_backuplog_query(db, path, &all, &m, &st, why, sizeof(why)) !=
	    0) {
		warnx("%s", why);
		sqlite3_close(db);
		return 1;
	}
	sw = (int)(strlen(m.ok) > strlen(m.failed) ? strlen(m.ok) :
	    strlen(m.failed));
	if (sw < 6)
		sw = 6;
	vb_list_begin(&out, json);
	if (out.form == VB_LIST_TABLE)
		printf("%-24s  %-9s  %-*s  %10s  %10s  %s\n", "createdAt",
		    "operation", sw, "status", "size", "duration",
		    "file  message");
	/* Piped or JSON, the whole history; a terminal shows a page. */
	limit = q->count >= 0 || out.form != VB_LIST_TABLE ? q->count :
	    TTY_ROWS;
	if (limit < 0)
		limit = INT64_MAX;
	for (n = 0; (rc = sqlite3_step(st)) == SQLITE_ROW; n++) {
		if (n < limit && show_row(&out, st, &m, sw) != 0) {
			warn("stdout");
			ret = 1;
			break;
		}
		/* Piped, the rows asked for are all there is to print. */
		if (n >= limit && out.form != VB_LIST_TABLE)
			break;
	}
	if (n > limit && out.form == VB_LIST_TABLE)
		printf("... and %lld more rows (vb-log --show -n %lld shows "
		    "them all)\n", (long long)(n - limit), (long long)n);
	vb_list_end(&out);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		warnx("%s: %s", path, sqlite3_errmsg(db));
		ret = 1;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return ret;
}

/* ---- what the history says ---- */

/* The newest ok row a test picks: its time, for vb_backuplog_last_*. */
struct newest {
	int		(*is)(struct vb_log_row *);
	char		*when;
};

static int
newest_of(void *arg, struct vb_log_row *row)
{
	struct newest *n = arg;

	if (!n->is(row))
		return 0;
	snprintf(n->when, VB_ISO_LEN, "%s", row->r.time);
	return 1;
}

static int
last_when(const char *path, int (*is)(struct vb_log_row *),
    char when[VB_ISO_LEN], char *why, size_t wlen)
{
	struct newest n = { is, when };

	when[0] = '\0';
	return vb_backuplog_each_ok(path, newest_of, &n, why, wlen);
}

/* A snapshot proven by integrity_check. */
static int
full_checked(struct vb_log_row *row)
{
	struct vb_snapmeta meta;
	const char *check = NULL;

	if (strcmp(row->r.op, "snapshot") == 0) {
		vb_snapmeta_parse(row->msg, &meta);
		if (meta.integrity != NULL && strcmp(meta.integrity, "ok") == 0)
			check = meta.check;
	} else if (strcmp(row->r.op, "compress") == 0)
		check = vb_fact_checked(row->msg);
	return check != NULL && strcmp(check, "integrity_check") == 0;
}

int
vb_backuplog_last_full_check(const char *path, char when[VB_ISO_LEN],
    char *why, size_t wlen)
{
	return last_when(path, full_checked, when, why, wlen);
}

/* A backup a drill proved. */
static int
drilled(struct vb_log_row *row)
{
	return strcmp(row->r.op, "verify") == 0 &&
	    vb_fact_drill(row->msg, row->r.ok) == 1;
}

int
vb_backuplog_last_drill(const char *path, char when[VB_ISO_LEN], char *why,
    size_t wlen)
{
	return last_when(path, drilled, when, why, wlen);
}

/* A point made. */
static int
pointed(struct vb_log_row *row)
{
	return strcmp(row->r.op, "compress") == 0 && vb_fact_point(row->msg);
}

int
vb_backuplog_last_point(const char *path, char when[VB_ISO_LEN], char *why,
    size_t wlen)
{
	return last_when(path, pointed, when, why, wlen);
}

/*
 * The backup a file name is of: its stem (an archive encrypted in place,
 * <name>.age, is the same backup, proven or failed as before).
 */
static const char *
backup_of(const char *name, char stem[96])
{
	struct vb_name nm;

	snprintf(stem, 96, "%s", vb_name_parse(name, &nm) == 0 ? nm.stem :
	    name);
	return stem;
}

/* The entry of name in p, made if need be; NULL out of memory. */
static struct vb_proven_one *
drill_entry(struct vb_proven *p, const char *name)
{
	struct vb_proven_one *bigger;
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->list[i].name, name) == 0)
			return &p->list[i];
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		if ((bigger = realloc(p->list, p->cap * sizeof(*bigger))) ==
		    NULL)
			return NULL;
		p->list = bigger;
	}
	memset(&p->list[p->n], 0, sizeof(p->list[p->n]));
	snprintf(p->list[p->n].name, sizeof(p->list[p->n].name), "%s", name);
	return &p->list[p->n++];
}

/* Whether file (a drill row's) is in the backup directory p->dir. */
static int
local(const struct vb_proven *p, const char *file)
{
	char dir[4096], base[256], real[PATH_MAX];

	if (p->dir[0] == '\0')
		return 1;
	return vb_path_split(file, dir, sizeof(dir), base, sizeof(base)) ==
	    0 && realpath(dir, real) != NULL && strcmp(real, p->dir) == 0;
}

/*
 * Every drill of every backup, newest first: its last outcome decides
 * (a failure stands until a later drill proves it), and when it was
 * last proven.
 */
static int
drill_each(void *arg, struct vb_log_row *row)
{
	struct vb_proven *p = arg;
	struct vb_proven_one *e;
	const char *base;
	char stem[96];
	int r;

	if (strcmp(row->r.op, "verify") != 0 || (r = vb_fact_drill(row->msg,
	    row->r.ok)) < 0)
		return 0;
	/* The newest drill, wherever it read: what --check tells first. */
	if (p->last < 0) {
		p->last = r;
		snprintf(p->last_at, sizeof(p->last_at), "%s", row->r.time);
		snprintf(p->last_file, sizeof(p->last_file), "%s", row->file);
		p->last_local = local(p, row->file);
		snprintf(p->last_why, sizeof(p->last_why), "%s", row->msg);
	}
	/*
	 * A drill that could not run (no room) says nothing of the backup;
	 * one that failed on the remote's copy says nothing of the local
	 * one (a proof, from anywhere, proves the backup).
	 */
	base = strrchr(row->file, '/') != NULL ? strrchr(row->file, '/') + 1 :
	    row->file;
	if (r == 2 || (r == 0 && !local(p, row->file)))
		return 0;
	if ((e = drill_entry(p, backup_of(base, stem))) == NULL)
		return 1;
	if (!e->seen) {
		e->seen = 1;
		e->failed = r == 0;
		if (!r)
			snprintf(e->failed_at, VB_ISO_LEN, "%s", row->r.time);
	}
	if (r == 1 && e->when[0] == '\0')
		snprintf(e->when, VB_ISO_LEN, "%s", row->r.time);
	return 0;
}

int
vb_proven_read(const char *path, struct vb_proven *p)
{
	const char *dir;
	char why[512];

	memset(p, 0, sizeof(*p));
	p->last = -1;
	/* Drills of the local copies: their rows name files of this. */
	if ((dir = vb_config("BACKUP_DIR")) == NULL || realpath(dir, p->dir) ==
	    NULL)
		p->dir[0] = '\0';
	if (path != NULL && access(path, F_OK) == 0 &&
	    vb_backuplog_each(path, drill_each, p, why, sizeof(why)) != 0)
		return -1;
	return 0;
}

const char *
vb_proven_when(const struct vb_proven *p, const char *name)
{
	char stem[96];
	size_t i;

	backup_of(name, stem);
	for (i = 0; i < p->n; i++)
		if (strcmp(p->list[i].name, stem) == 0)
			return p->list[i].when[0] != '\0' ? p->list[i].when :
			    NULL;
	return NULL;
}

const struct vb_proven_one *
vb_drill_failed(const struct vb_proven *p, const char *name)
{
	char stem[96];
	size_t i;

	backup_of(name, stem);
	for (i = 0; i < p->n; i++)
		if (strcmp(p->list[i].name, stem) == 0)
			return p->list[i].failed ? &p->list[i] : NULL;
	return NULL;
}

/* ---- vb-log --last-*, --due: the answers ---- */

int
vb_history_last(const char *path, enum vb_last what)
{
	char when[VB_ISO_LEN], why[1024];
	int rc;

	switch (what) {
	case VB_LAST_DRILL:
		rc = vb_backuplog_last_drill(path, when, why, sizeof(why));
		break;
	case VB_LAST_POINT:
		rc = vb_backuplog_last_point(path, when, why, sizeof(why));
		break;
	default:
		rc = vb_backuplog_last_full_check(path, when, why,
		    sizeof(why));
	}
	if (rc != 0) {
		warnx("%s", why);
		return 1;
	}
	return when[0] != '\0' && printf("%s\n", when) < 0;
}
