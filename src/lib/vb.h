/*
 * vb.h - what the tools use of vb's library, and nothing more (every
 * function declared here is called by a tool: tests/map.bats).
 *
 * A tool holds its command line; the mechanism lives in src/lib, one
 * family per file, whose internals (and the longer contracts) are in
 * vblib.h.  Here: exit statuses and the command line's helpers (cli.c,
 * util.c), the configuration (config.c), names, formats and paths
 * (name.c, path.c), records on the pipes (record.c), and the jobs the
 * tools drive: a snapshot (snapshot.c), an archive (compress.c,
 * encrypt.c), points in time (makepoint.c, point.c), a restore and the
 * listings (restore.c, inventory.c), the BackupLog (backuplog.c,
 * history.c), retention (retention.c, prune.c) and the remote
 * (remote.c); each job run and said for its tool by job*.c (one file
 * per tool), and vb-backup --dry-run's rows (plan.c).  Library
 * functions never print, but for the command line's helpers, the job*.c
 * files, listings and those rows; a failure fills a reason,
 * why (a buffer, wlen; or a result's why) that the tool prints once,
 * with warnx.  What worked is said apart: found, message, note.
 */
#ifndef VB_H
#define VB_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define VB_VERSION	"0.2.0"

/* ---- cli.c, util.c: exits and the command line's helpers ---- */

#define VB_EXIT_OK	0
#define VB_EXIT_FAIL	1
#define VB_EXIT_USAGE	2
#define VB_EXIT_LOCKED	75	/* vb-backup: another run holds the lock */
#define VB_NICE		10	/* a tool the application need not wait for */

/* The why (if any) and the synopsis on stderr; exits 2. */
void		 vb_usage(const char *synopsis, const char *why)
		    __attribute__((noreturn));
/* The synopsis and text on stdout; exits 0 (1 if stdout failed). */
void		 vb_help(const char *synopsis, const char *text)
		    __attribute__((noreturn));
void		 vb_print_version(void) __attribute__((noreturn));
/* What a tool checks of the configuration beyond its grammar. */
#define VB_CONF_SIGN	1	/* SIGN_WITH: it signs */
#define VB_CONF_VERIFY	2	/* VERIFY_WITH: it verifies */
#define VB_CONF_DRILL	4	/* DRILL_SQL: it drills */
/*
 * Loads the configuration (and checks what checks names: only what the
 * tool uses, so that a restore never needs the signing key, and not
 * again when VB_CONF_CHECKED is the stamp of these settings checked so);
 * on an error says each one and exits 2.
 */
void		 vb_config_require(unsigned checks);
/*
 * --print-config: KEY=value lines; exits 0, or 2 after each error (what
 * "drill": SIGN_WITH not checked, a drill signs nothing).  With what
 * "run" or "drill" (vb-backup's), a last line VB_CONF_CHECKED=stamp
 * when every check passed, for the run's tools.
 */
void		 vb_config_print_exit(const char *what)
		    __attribute__((noreturn));
/*
 * --print-schedule: the cron line's five fields, a TAB, systemd's
 * OnCalendar, for BACKUP_INTERVAL and NIGHTLY_AT; exits 0, or 2.
 */
void		 vb_schedule_print_exit(void) __attribute__((noreturn));
/* Flushes and closes stdout; 0, or -1 after a warning. */
int		 vb_close_stdout(void);
/*
 * vb-backup --check's verdicts, as a tool answers them: one line on
 * stdout, VERDICT TAB WHAT TAB TEXT, the text cleaned (vb_clean_text).
 * FAIL_JOB is a failure that needs the job's user's rights: printed
 * FAIL-job, or, with VB_CHECK_JOB_USER set (vb-backup --check: the job's
 * user, empty if none), a FAIL as that user, else a warning ending
 * "(checked as ME, not as the job's USER)".  Returns the verdict printed.
 */
enum vb_verdict { VB_CHECK_OK, VB_CHECK_WARN, VB_CHECK_FAIL,
    VB_CHECK_FAIL_JOB };
enum vb_verdict	 vb_check_line(enum vb_verdict v, const char *what,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Verdicts in the order they were judged. */
struct vb_verdicts {
	struct vb_verdict_line {
		enum vb_verdict	 v;
		const char	*what;		/* a string constant */
		char		*text;
	}		*line;
	size_t		 n, cap;
	int		 lost;		/* one could not be kept (memory) */
};
/* Each printed (vb_check_line), then freed; 1 if one is a FAIL, or lost. */
int		 vb_verdicts_print(struct vb_verdicts *vs, const char *what);
/*
 * vb-backup --check's verdicts of the configuration (its path, DB_PATH
 * and BACKUP_DIR; or a FAIL for each error --print-config finds, or for
 * DB_PATH or BACKUP_DIR unset), into vs.
 */
void		 vb_config_verdicts(struct vb_verdicts *vs);
int64_t		 vb_monotonic_ms(void);
/* Whether s holds a TAB, CR or newline (never in a path). */
int		 vb_has_ctl(const char *s);
/* A decimal integer, 0 or more; 0, or -1 if s is not one. */
int		 vb_parse_u64(const char *s, uint64_t *out);

/* ---- config.c: vb.conf and the environment ---- */

/* key's value: the environment, else the file, else its default; NULL. */
const char	*vb_config(const char *key);
/* Whether v is an rclone path vb may pass on; 0, or -1 with why. */
int		 vb_remote_valid(const char *v, char *why, size_t wlen);

/* ---- name.c, path.c: names, formats, times, paths ---- */

#define VB_ISO_LEN	25	/* "2026-11-27T01:00:03.412Z" and a NUL */
#define VB_SHA256_HEX	65	/* 64 hex digits and a NUL */
#define VB_ZSTD_LEVEL	3	/* the default: docs/BENCHMARKS.md */

enum vb_ext { VB_EXT_DB, VB_EXT_TAR_ZST, VB_EXT_TAR_GZ, VB_EXT_TAR_XZ,
	VB_EXT_TAR };

/* A span of calendar time: "7d", "1y6m". */
struct vb_duration {
	int	 years, months, days, hours;
};

/* Whether s starts an ISO 8601 UTC time (the date at least); 0 or -1. */
int		 vb_parse_iso_prefix(const char *s);
/* Parses "7d", "2w", "1y6m", "36h"; 0, or -1. */
int		 vb_parse_duration(const char *s, struct vb_duration *d);

/* ---- dir.c: the backup directory ---- */

/* The lock file a run holds, in the backup directory. */
#define VB_LOCK_FILE	".vb.lock"
/*
 * dir made ready for a run: created (0700) if need be, checked (a real
 * directory, this user's or root's, writable by nobody else, reached
 * through no link another user made), and its
 * lock file made or opened without following a link (a regular file of
 * this user's, 0600), its path into lock.  Returns 0, or -1 with why.
 */
int		 vb_dir_prepare(const char *dir, char *lock, size_t llen,
		    char *why, size_t wlen);

/* ---- record.c, cli.c, progress.c: records on the pipes ---- */

/* One record: path operation status bytes sha256 ms time message. */
struct vb_record {
	char		*path;		/* "-" when none */
	char		 op[16];
	int		 ok;
	int64_t		 bytes;		/* -1 unknown */
	char		 sha256[VB_SHA256_HEX];	/* "" unknown */
	int64_t		 ms;		/* -1 unknown */
	char		 time[VB_ISO_LEN];
	char		*msg;
};

enum vb_line { VB_LINE_RECORD, VB_LINE_PATH, VB_LINE_BAD, VB_LINE_END };

/* One record on stdout (bytes -1, sha NULL: unknown); 0, or -1. */
int		 vb_emit(const char *op, const char *path, int ok,
		    int64_t bytes, const char *sha, int64_t t0,
		    const char *msg);
/* A stage: every record on to stdout, then to act; paths to act. */
int		 vb_stage_loop(int (*act)(struct vb_record *r,
		    enum vb_line kind, void *arg), void *arg);
/* Progress on stderr: forced, or on a terminal unless quiet. */
void		 vb_progress_mode(int force, int quiet);

/* A snapshot record's message (record.c owns its words). */
struct vb_snapmeta {
	const char	*source, *journal;
	const char	*integrity;	/* "ok", "deferred", or the problem */
	const char	*check;		/* quick_check, integrity_check */
	int64_t		 pages, page_size;
	const char	*sha256;	/* the record's, if known */
	int64_t		 bytes;		/* of the snapshot, -1 unknown */
};


/* ---- snapshot.c: a consistent online snapshot ---- */

struct vb_snapshot_opts {
	const char	*db;		/* the live database */
	const char	*dir;		/* into dir/<prefix>-<UTC time>.db */
	const char	*out;		/* or exactly this file */
	const char	*prefix;	/* "backup" (NULL) or "pre-restore" */
	int		 full;		/* integrity_check, not quick_check */
	int		 defer;		/* its check left to vb-compress */
	int		 dry;		/* only what a snapshot needs */
	long		 hand_to;	/* > 0: an intermediate this PID
					   owns, unsynced, never under
					   the final name (the nightly) */
};

struct vb_snapshot_result {
	char		 path[4096];
	char		 message[1024];	/* the record's, when it worked */
	struct vb_snapmeta meta;	/* the same, as a struct: its
					   strings are the options' or
					   journal below */
	char		 journal[32];	/* the database's journal mode */
	char		 why[1024];	/* why not */
	char		 note[1024];	/* for the operator */
	char		 sha256[VB_SHA256_HEX];
	int64_t		 bytes;
};

/* Snapshots o->db, checked, in place; 0, or -1 with s->why. */
int		 vb_snapshot(const struct vb_snapshot_opts *o,
		    struct vb_snapshot_result *s);

/* ---- compress.c, encrypt.c, jobcompress.c: archives ---- */

struct vb_archive_opts {
	enum vb_ext	 ext;
	int		 level;		/* 0: the filter's default */
	int		 threads;	/* > 1: ask the filter for threads */
	time_t		 mtime;		/* of the entries */
	void		(*progress)(void *, int64_t done, int64_t total);
	void		*progress_arg;
	const char	*sig;		/* MANIFEST.sig, the last entry */
};

struct vb_compress_opts {
	struct vb_archive_opts	 a;
	int			 keep;		/* the raw snapshot */
	int			 encrypt_only;	/* --encrypt */
	const char		*encrypt_to;	/* age recipients, or NULL */
	const char		*sign_with;	/* SSH key signing MANIFEST */
	int			 as_found;	/* made though it fails */
	const struct vb_duration *full_every;	/* deltas; NULL: fulls */
	int			 full;		/* a full one now */
	int			 index;		/* keep its page index: points
						   lean on it */
};

/*
 * The compression (-z, else COMPRESSION), its level (-l) and threads
 * (-T, else COMPRESSION_THREADS, else the cores) into o; 0, or -1 (why,
 * a usage error).
 */
int		 vb_compress_settings(const char *kind, const char *level,
		    const char *threads, struct vb_compress_opts *o,
		    char *why, size_t wlen);
/* A path given: a raw snapshot archived, or with --encrypt any; 0, 1. */
int		 vb_compress_path(const char *path,
		    const struct vb_compress_opts *o, int quiet);
/* The stage: records on stdin passed on, ok snapshots archived; 0, 1. */
int		 vb_compress_stage(const struct vb_compress_opts *o, int quiet);

/*
 * --leftovers: the raw snapshots in dir that have no archive (with
 * o->encrypt_to, every one) archived as vb_compress_path does, oldest
 * first; a directory that cannot be read is a failed compress record.
 * Returns 0, or 1 if one failed.
 */
int		 vb_leftovers_emit(const char *dir,
		    const struct vb_compress_opts *o, int quiet);
/*
 * --scrub: the raw snapshots in dir named (a path or file name, an
 * intermediate's standing for its final name; nname 0: every one)
 * removed (vb_raw_remove), each removed one's path a line on
 * stdout, each failure warned.  Returns 0, or 1 if one was left or dir
 * could not be read.
 */
int		 vb_scrub_emit(const char *dir, char *const name[], int nname);
/*
 * --orphans: the snapshots handed to the caller's parent (the job) that
 * no vb-compress finished, kept as raw backups (vb_tmp_keep_handed),
 * each said on stderr.  Returns 0, or 1 if one was lost.
 */
int		 vb_orphans_emit(const char *dir);

/* ---- makepoint.c, point.c, jobcompress.c: points in time ---- */

struct vb_point_opts {
	const char	*db;		/* the live database */
	const char	*dir;		/* the backups: its nightly's */
	const struct vb_compress_opts *c;	/* compression, age, key */
};

/* vb_point, its compress record on stdout; 0, or 1 if it failed. */
int		 vb_point_emit(const struct vb_point_opts *o, int quiet);

enum vb_run { VB_RUN_POINT, VB_RUN_NIGHTLY };

/* vb_run_due's answer on stdout, nightly or point; 0, or 1. */
int		 vb_due_emit(const char *dir, int quiet);

/* ---- restore.c, inventory.c, jobrestore.c: restores, listings ---- */

enum vb_check { VB_CHECK_QUICK, VB_CHECK_FULL, VB_CHECK_OPEN };

struct vb_manifest;
struct vb_restore_opts {
	const char	*archive;
	const char	*as;		/* the name archive stands for */
	const char	*to;		/* a new file, or */
	const char	*db;		/* the live database, or neither */
	const char	*dir;		/* for the pre-restore copy */
	int		 replace;	/* --force */
	enum vb_check	 check;		/* of the extracted copy */
	const char	*identity;	/* age identity, for .age */
	const char	*remote;	/* links missing or bad: from there */
	int		 fetch;		/* --offsite: the remote's copy even
					   when a local one verifies */
	int		 unlogged;	/* no restore row in the copy (a
					   drill's, which nobody keeps) */
	struct vb_manifest *manifest;	/* if set: the backup's, filled */
	const char	*verify_with;	/* the signer's public key: an
					   archive it did not sign, or
					   its catalog does not list, is
					   refused, --force or not */
	const char	*catalog;	/* that catalog (NULL: beside
					   the archive) and its .sig */
	const char	*catalog_sig;
	const char	*logdb;		/* a database whose BackupLog
					   vouches for its backups: another
					   copy of one it sealed is refused,
					   --force or not, and so is a
					   backup it never named */
	int		 unrecorded;	/* --unrecorded: a backup logdb
					   never named is restored,
					   knowingly */
};

/*
 * Restores (vb_restore, or vb_restore_offsite from offsite) and prints
 * its record, a failure and the undo command said; the exit status.
 */
int		 vb_restore_emit(const struct vb_restore_opts *ro,
		    const char *offsite, int verify_only, int quiet);
/*
 * --at: the archive when names (vb_backup_at) in dir (NULL: BACKUP_DIR)
 * or on remote (its name there) into archive; 0, or -1 with the reason
 * said and a failed restore record on stdout.
 */
int		 vb_at_emit(const char *dir, const char *remote,
		    const char *when, char *archive, size_t alen);

/*
 * One record of the listing, as vb_inventory hands it to each: a backup
 * file (file j of b), or a line of no file (b NULL: one the signed
 * catalog lists and the directory lacks, or a history unread).
 */
struct vb_backup;
struct vb_item {
	const char		*path;
	const struct vb_backup	*b;
	int			 j;
	int			 verified;	/* a verify record, not list */
	int			 ok;		/* the record's status */
	int			 is_signed;	/* BackupLog: 1, 0; -1 no */
	const char		*msg;		/* the record's, but health= */
};

struct vb_inventory_opts {
	const char	*dir, *remote;	/* what to list */
	const char	*identity;
	int		 verify;	/* each one verified (check) */
	enum vb_check	 check;
	int		 sums;		/* each against its SHA-256 */
	int		 json, fields;	/* the form */
	const char	*verify_with;	/* each against the signed catalog */
	/* Not printed: each record the listing would write, in order. */
	int		(*each)(void *arg, const struct vb_item *it);
	void		*arg;
};

/*
 * The backups listed on stdout; 0, or 1 if one cannot be restored (or,
 * with verify_with, is not in the signed catalog, or one the catalog
 * lists is missing).
 */
int		 vb_inventory(const struct vb_inventory_opts *o);

struct vb_policy;

/* ---- backuplog.c, history.c, joblog.c: BackupLog ---- */

/* vb-log's loop (joblog.c): each line on, each record into BackupLog. */
int		 vb_log_loop(const char *path, int quiet);
/* Proves path takes a success and a failure row: 0 (found), or -1. */
int		 vb_backuplog_check(const char *path, char *found, size_t flen,
		    char *why, size_t wlen);

struct vb_log_query {
	int		 failures;	/* failures only */
	const char	*since;		/* at or after, unless NULL */
	int64_t		 count;		/* at most, -1 all */
};

/* The history on stdout, in the listing's form; 0, or 1. */
int		 vb_history(const char *path, const struct vb_log_query *q,
		    int json);
/* Which time vb_history_last answers. */
enum vb_last { VB_LAST_FULL_CHECK, VB_LAST_DRILL, VB_LAST_POINT };
/* vb-log --last-*: that time on stdout (nothing if never); 0, or 1. */
int		 vb_history_last(const char *path, enum vb_last what);
/* ---- runs.c: the runs judged (--check), and what is due tonight ---- */
/*
 * vb-log --due: tonight's due, one line of fields on stdout; a history
 * that cannot be read is said, answered as if nothing ran, and 1.
 */
int		 vb_runs_due_print(const char *path);
/*
 * vb-log --plan: vb-backup --dry-run's drill row on stdout (plan.c), cmd
 * the command a due drill would run; a history that cannot be read is
 * answered as if nothing ran.  0, or 1 if stdout failed.
 */
int		 vb_runs_plan_print(const char *path, const char *cmd);

/* What BackupLog says of the runs, read once (vb_runs_read). */
struct vb_runs {
	int	 readable;		/* 0: BackupLog could not be read */
	char	 why[1024];		/* why not */
	int	 last_run;		/* the newest backup row: 1 ok,
					   0 failed, -1 none */
	char	 last_run_at[VB_ISO_LEN];
	char	 last_run_msg[4096];
	char	 good_at[VB_ISO_LEN];	/* the last successful backup */
	char	 good_file[4096];
	int	 drill;			/* the newest drill: 1 proven, 0 failed,
					   2 could not run, -1 none */
	int	 drill_local;		/* it read a file of BACKUP_DIR */
	char	 drill_at[VB_ISO_LEN];
	char	 drill_file[4096];
	char	 drill_msg[4096];
	char	 proof[VB_ISO_LEN];	/* a drill last proved a backup ("") */
	char	 full_check[VB_ISO_LEN];	/* integrity_check last
						   passed ("") */
};
/* The settings they are judged by, and the time they are judged at. */
struct vb_runs_conf {
	const char	*db;		/* DB_PATH, as the operator gave it */
	const char	*dir;		/* BACKUP_DIR, or NULL */
	const char	*drill_every;	/* DRILL_EVERY ("0": no drill) */
	int		 can_drill;	/* not encrypted, or DRILL_IDENTITY */
	time_t		 now;
};
/* Whether tonight's nightly drills, and whether it can. */
enum vb_drill_due { VB_DRILL_OFF, VB_DRILL_NOT_DUE, VB_DRILL_DUE };
struct vb_tonight {
	enum vb_drill_due drill;
	int		 can_drill;	/* as vb_runs_conf's */
	int		 full_check;	/* the snapshot gets integrity_check */
	char		 proof[VB_ISO_LEN];	/* the last proof, to the
					   second ("" never) */
};

/*
 * Reads h from the BackupLog of the database at db (a drill read a local
 * file when it read one of BACKUP_DIR).  Returns 0, or -1 with h->why
 * when it cannot be read (h then says nothing ran).
 */
int		 vb_runs_read(const char *db, struct vb_runs *h);
/* c from the configuration (vb_config), judged at now. */
void		 vb_runs_conf(struct vb_runs_conf *c, const char *db,
		    time_t now);
/* --check's verdicts of the runs, added to vs. */
void		 vb_runs_judge(const struct vb_runs *h,
		    const struct vb_runs_conf *c, struct vb_verdicts *vs);
/* ---- plan.c: vb-backup --dry-run's rows ---- */
/*
 * Rows "LABEL:" padded to 14 columns, a space, the text.  The settings'
 * rows (configuration, database, backup dir, offsite, encryption,
 * incremental, metrics, hooks) of the database db and the directory dir,
 * from the configuration; 0, or -1 if fp failed.
 */
int		 vb_plan_setup(FILE *fp, const char *db, const char *dir);
/* The preflight's row: msg, the dry snapshot's message (ok) or why. */
int		 vb_plan_snapshot(FILE *fp, int ok, const char *msg);

/* ---- metrics.c: the job's gauges (METRICS_FILE) ---- */

#define VB_MAX_STAGES	8

/* What a run tells of itself; -1 (NULL) where it tells nothing. */
struct vb_metrics_run {
	const char	*db;		/* the db label: DB_PATH */
	const char	*logdb;		/* BackupLog's database, for history */
	const char	*dir;		/* default BACKUP_DIR: backups, holds */
	int		 offsite;	/* OFFSITE is set (from vb.conf) */
	double		 start, end;	/* the run's (Unix time), or -1 */
	int		 exit;		/* its exit status */
	struct {
		const char	*name;	/* snapshot, compress, ... */
		int		 status;
		int64_t		 ms;	/* -1 unknown */
	}		 stage[VB_MAX_STAGES];
	int		 nstages;
	int64_t		 remote_kept;	/* backups on the remote, or -1 */
	int		 drill;		/* the drill's exit status, or -1 */
	int64_t		 drill_every;	/* DRILL_EVERY in s (from vb.conf) */
};

/*
 * The gauges of r (the run where it tells, else BackupLog's last run),
 * of the history in r->logdb and of r->dir, written as path
 * (vb_metrics_put).  Nothing is read from the old file.  Returns 0, or
 * -1 with why.
 */
int		 vb_metrics_write(const char *path,
		    const struct vb_metrics_run *r, char *why, size_t wlen);

/* ---- jobfinish.c: a vb-backup run's own record and report ---- */

#define VB_FINISH_MAXFAIL	24

/* A failed stage of the run and why, in the order the run met them. */
struct vb_finish_fail {
	const char	*stage;		/* config, ..., snapshot, ..., drill */
	char		*why;		/* the reason, "" if none was said */
};

/*
 * A run at its end: what the script gives (vb_finish_init, then the
 * fields), what the run's records say (vb_finish_records) and what is
 * derived from both (vb_finish_derive, vb_finish_compose).
 */
struct vb_finish {
	/* given */
	const char	*db;		/* DB_PATH, "" when it never parsed */
	const char	*dir;		/* BACKUP_DIR, or NULL */
	const char	*offsite;	/* OFFSITE, or NULL */
	int		 point;		/* the run took a point */
	int		 drill_only;	/* vb-backup --drill: no backup row */
	double		 start;		/* when it started (Unix time) */
	int		 code;		/* its exit status so far: 0, 1, 2 */
	const char	*retained;	/* retention: ok, failed, skipped */
	int64_t		 remote_kept;	/* backups on OFFSITE, or -1 */
	const char	*drill_records;	/* the drill's records, or NULL */
	struct vb_metrics_run run;	/* the stages' statuses (and ms) */
	struct vb_finish_fail fail[VB_FINISH_MAXFAIL];
	int		 nfail;		/* given, then with the pipeline's */
	/* from the records */
	char		*archive;	/* tonight's archive, or NULL */
	int64_t		 archive_bytes, db_bytes;	/* -1 unknown */
	char		 sha256[VB_SHA256_HEX];	/* the archive's, "" */
	int64_t		 ms[3];		/* snapshot, compress, offsite */
	char		*why[3];	/* their first failed record's msg */
	/* derived */
	char		*warning;	/* the hold the archive made, NULL */
	int64_t		 drilled;	/* backups the drill proved, or -1 */
	struct vb_finish_fail died[3];	/* stages dead without a record */
	int		 ndied;
	int64_t		 kept;		/* backups in dir */
	int64_t		 elapsed_ms;
	int		 row_ok;	/* the backup row's status */
	char		*message;	/* the backup row's message */
	char		*summary;	/* the run's summary line */
};

/* f emptied: nothing known, retention skipped. */
void		 vb_finish_init(struct vb_finish *f, const char *db,
		    double start, int code);
/* What f holds freed (the tool's exit frees it all the same). */
void		 vb_finish_free(struct vb_finish *f);
/* --finish START,EXIT into f; 0, or -1 if arg is not that. */
int		 vb_finish_parse(struct vb_finish *f, const char *arg);
/* --failed STAGE=REASON (a stage the script reports) added; 0, or -1. */
int		 vb_finish_fail_parse(struct vb_finish *f, char *arg);
/* --run START,END,EXIT into r; 0, or -1 if arg is not that. */
int		 vb_run_parse(struct vb_metrics_run *r, const char *arg);
/* --stage NAME=STATUS[:MS] (cut up) added to r; 0, or -1. */
int		 vb_stage_parse(struct vb_metrics_run *r, char *arg);
/*
 * The whole end of a run: records read, failures derived, the warning
 * of the hold tonight's archive made, the drill's rows (drill_records:
 * vb_finish_drill), the dead stages' records and the backup row written
 * into db's BackupLog (one connection), then metrics (if not NULL).  A
 * drill alone (drill_only): its rows, its summary and the metrics as
 * vb-log --metrics --drill writes them, no backup row.  Returns 0, or -1
 * if the metrics could not be written (said on stderr).
 */
int		 vb_finish(struct vb_finish *f, FILE *records,
		    const char *metrics);
/*
 * f's answer on stdout, KEY=VALUE lines (vb-log(1)): EXIT, SUMMARY, SEE,
 * STATUS, WARNING, FAILED_STAGES, ARCHIVE, ARCHIVE_BYTES, DB_BYTES,
 * KEPT; 0, -1.
 */
int		 vb_finish_print(const struct vb_finish *f);

/* ---- prune.c, jobprune.c, remote.c, encrypt.c, catalog.c, sign.c ---- */
/* Retention, the remote, its signed catalog. */

struct vb_policy {
	int64_t			 keep;		/* the last N */
	int			 within;	/* within_d is set */
	struct vb_duration	 within_d;
	const char		*within_s;	/* within_d as given: "2w" */
	int64_t			 hourly, daily, weekly, monthly;
	int64_t			 pre_restore;
};

/* MAX_BACKUPS and the KEEP_* rules vb.conf sets, into p. */
void		 vb_policy_config(struct vb_policy *p);
/* p in words into buf: "keep the newest 7 backups, ...". */
void		 vb_policy_words(const struct vb_policy *p, char *buf,
		    size_t len);
/* p applied to dir, or to remote; prune records; the exit status. */
int		 vb_prune_emit(const char *dir, const char *remote,
		    const struct vb_policy *p, int dry);
/*
 * vb-prune --plan: vb-backup --dry-run's retention rows on stdout, p in
 * words and, when dir is there, what p would delete now (a listing that
 * cannot be trusted said there and on stderr).  0, or 1 if stdout failed.
 */
int		 vb_prune_plan(const char *dir, const struct vb_policy *p);

/* Listed, a file written, read back, deleted: 0 (found), or -1. */
int		 vb_remote_probe(const char *remote, char *found, size_t flen,
		    char *why, size_t wlen);
/*
 * path (its SHA-256 sha, or NULL: hashed here) copied to remote and
 * verified there, its offsite record on stdout; 0, or 1 if it failed.
 */
int		 vb_offsite_emit(const char *path, const char *sha,
		    const char *remote, int quiet);
/*
 * --catch-up: every archive of dir that remote lacks, oldest first, as
 * vb_offsite_emit; a listing that fails is a failed record.  0, or 1.
 */
int		 vb_catch_up_emit(const char *dir, const char *remote,
		    int quiet);
/*
 * --encrypt: remote's plaintext archives replaced by encrypted copies
 * (ENCRYPT_TO), each verified there first, an offsite record each.
 */
int		 vb_encrypt_remote_emit(const char *dir, const char *remote,
		    int quiet);

/*
 * With SIGN_WITH: dir's signed catalog written anew (SHA-256s known, or
 * from logdb's BackupLog), or with remote, dir's copied there (the
 * signature, then the catalog, each checked there).  Returns 0 (note
 * says what was done; nothing without SIGN_WITH), or -1 with why.
 */
int		 vb_catalog_update(const char *dir, const char *remote,
		    const char *logdb, const struct vb_policy *p, char *note,
		    size_t nlen, char *why, size_t wlen);
/* Whether file is an Ed25519 public key (--verify-with); 0, or -1. */
int		 vb_verify_key(const char *file, char *why, size_t wlen);

/* ---- drill.c, jobrestore.c: the restore drill ---- */

struct vb_drill_opts {
	const char	*dir;		/* the backups, and the work space */
	const char	*remote;	/* OFFSITE: the remote's copies */
	const char	*identity;	/* age identity, for .age */
	const char	*sql;		/* DRILL_SQL, or NULL */
	char *const	*names;		/* these backups (names), or */
	int		 nnames;	/* none: the newest and one older */
	const char	*verify_with;	/* as a restore: the signer's key, */
	const char	*logdb;		/* else this BackupLog, vouch */
};

/* vb_drill with a verify record for each on stdout; exit status. */
int		 vb_drill_emit(const struct vb_drill_opts *o, int quiet);

/* ---- diff.c, jobrestore.c: what changed since a backup ---- */

struct vb_diff_opts {
	const char	*archive;	/* a path, or with remote a name */
	const char	*db;		/* the live database */
	const char	*dir;		/* the work space (the backups') */
	const char	*identity;	/* age identity, for .age */
	const char	*remote;	/* the archive is on it */
	const char	*table;		/* --diff-table: its SQL, or NULL */
	int		 json;
	const char	*verify_with;	/* as vb_restore_opts' */
	int		 unrecorded;	/* as vb_restore_opts' */
};

/* vb_diff, a failure said; the exit status. */
int		 vb_diff_emit(const struct vb_diff_opts *o);

/* ---- partial.c, undo.c, jobrestore.c: tables, rows put back ---- */

/* Most tables one --table restore names. */
#define VB_MAX_TABLES	64

struct vb_partial_table {
	const char	*name;		/* --table, in any case */
	const char	*where;		/* its --where, or NULL */
};

struct vb_partial_opts {
	const char	*archive, *db, *dir, *identity, *remote;
	const struct vb_partial_table *tables;
	int		 ntables;
	int		 force;		/* commit despite foreign keys */
	int		 dry;		/* count, then roll back */
	const char	*verify_with;	/* as vb_restore_opts' */
	int		 unrecorded;	/* as vb_restore_opts' */
};

struct vb_undo_opts {
	const char	*file;		/* undo-<ts>.changeset[.age] */
	const char	*db, *dir, *identity;
	int		 force;		/* leave conflicts, undo the rest */
	int		 dry;
};

/* vb_partial, its record on stdout, its row in BackupLog; exit status. */
int		 vb_partial_emit(const struct vb_partial_opts *o, int quiet);
/* vb_undo, its record on stdout, its row in BackupLog; exit status. */
int		 vb_undo_emit(const struct vb_undo_opts *o, int quiet);

/* ---- backupcheck.c: vb-backup --check's verdicts on the backups ---- */

struct vb_check_opts {
	const char	*dir;		/* the backups (BACKUP_DIR) */
	const char	*remote;	/* OFFSITE, or NULL */
	const char	*db;		/* DB_PATH, named in the fixes */
	const char	*full_every;	/* FULL_EVERY, or NULL */
	const char	*verify_with;	/* VERIFY_WITH, or NULL */
	const char	*user;		/* who checks (NULL: this process's
					   user), in the lock's words */
	int		 signing;	/* SIGN_WITH is set */
	int		 encrypting;	/* ENCRYPT_TO is set */
};

/*
 * The backups as files judged, into *vs (vb_verdicts_free): archives not
 * signed, each file hashed or read whole, the snapshot set aside, files
 * not encrypted (here and on remote), holds, and the lock; what cannot
 * be measured is a FAIL (FAIL-job where the job's rights may differ).
 */
void		 vb_check_backups(const struct vb_check_opts *o,
		    struct vb_verdicts *vs);

/* ---- remotecheck.c: vb-backup --check's verdict on the remote ---- */

/*
 * The remote judged into *vs: proven usable as the job reaches it (this
 * program re-executed with --check, and -r given if not NULL, in cron's
 * empty environment), else from this process's environment, to tell a
 * remote only this shell defines from one that is down.
 */
void		 vb_check_remote(const char *remote, const char *given,
		    struct vb_verdicts *vs);

/* ---- checkrun.c: vb-backup --check, its tools run in turn ---- */

/*
 * vb-backup --check: each tool's verdicts (vb-snapshot --check-setup,
 * --verdicts, vb-restore --check, vb-offsite --check-job, vb-log
 * --check-runs), run through PATH as the job runs them, printed as
 * "%-4s  %-17s %s" lines, then "N check(s) failed".  Returns the exit
 * status: 0 none failed, 1 one did.
 */
int		 vb_check_all(void);

/* ---- setup.c: vb-backup --check's set-up (schedule, keys, place) ---- */

enum vb_cron_state { VB_CRON_NONE, VB_CRON_UNREADABLE, VB_CRON_IGNORED,
	VB_CRON_BAD, VB_CRON_OK };
/* The cron file's vb-backup entry, as cron would read it. */
struct vb_cron {
	enum vb_cron_state	 state;
	char			 entry[4096];	/* the line as written */
	char			 when[512];	/* its five time fields */
	char			 user[256];	/* its user field, or "" */
	char			 conf[4096];	/* the VB_CONF it gets, or "" */
	char			 why[256];	/* VB_CRON_UNREADABLE */
};
/* What schedules the job on this host. */
struct vb_sched {
	int		 timer, timer_active;	/* vb-backup.timer */
	char		 unit_user[256];	/* its service's User=, or "" */
	char		 unit_conf[4096];	/* its VB_CONF=, or "" */
	const char	*cronfile;
	struct vb_cron	 cron;
	int		 cron_runs;	/* root's cron: 1 alive, 0 not, -1 ? */
};
/* Finds the schedule: systemd's timer, cronfile's entry, the daemon. */
void		 vb_sched_find(struct vb_sched *s, const char *cronfile);
/* The user the schedule runs the job as; "" when nothing runs it. */
const char	*vb_sched_user(const struct vb_sched *s);
/*
 * The schedule s judged into vs: found and running, once, at the
 * interval BACKUP_INTERVAL and NIGHTLY_AT ask for, and giving the job
 * the configuration this check read (vb_config).
 */
void		 vb_setup_schedule(const struct vb_sched *s,
		    struct vb_verdicts *vs);
/* The settings this shell's environment gives, which cron's will not. */
void		 vb_setup_environment(struct vb_verdicts *vs);
/*
 * ENCRYPT_TO and SIGN_WITH (NULL: unset) as this user, the job's, finds
 * them (age and ssh-keygen run); without SIGN_WITH, OFFSITE's warning.
 */
void		 vb_setup_keys(const char *encrypt_to, const char *sign_with,
		    const char *offsite, struct vb_verdicts *vs);
/*
 * The user the checks run as, for the job's, job ("": none), when this
 * runs as euid: into run_as the user to become ("": this one, when it
 * is the job's, or not root, which vs warns of).
 */
void		 vb_setup_user(const char *job, uid_t euid,
		    struct vb_verdicts *vs, char *run_as, size_t len);
/*
 * o->db takes BackupLog's rows (vb_backuplog_check) and a snapshot of it
 * can be made in o->dir (vb_snapshot, o->dry set), as this user: two
 * verdicts, database and backup directory (FAIL-job: the job's rights).
 */
void		 vb_setup_place(const struct vb_snapshot_opts *o,
		    struct vb_verdicts *vs);

/* ---- hold.c: backups kept until the operator releases them ---- */

#define VB_HOLD_LEN	1024

struct vb_hold {
	char	 stem[64];		/* the backup held */
	char	 by[64];		/* the backup that showed the loss */
	char	 reason[VB_HOLD_LEN];
};

/*
 * vb-prune --release: what's hold recorded in DB_PATH's BackupLog (no
 * record, no release), then released.  0 with note, 1 not held, -1 (why).
 */
int		 vb_release(const char *dir, const char *what, char *note,
		    size_t nlen, char *why, size_t wlen);
/* Every hold in dir (*holds to free); 0, or -1 if dir cannot be read. */
int		 vb_hold_list(const char *dir, struct vb_hold **holds,
		    size_t *n);
#endif /* VB_H */
