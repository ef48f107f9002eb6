/*
 * vblib.h - the library's own header: what its files share with each
 * other and not with the tools (vb.h, which this includes, is theirs).
 *
 * Declared in the order of the families, each in its file: small
 * helpers (util.c), vb.conf (config.c), names and times (name.c), paths
 * (path.c), the backup directory (dir.c), writes through .vb-tmp- files
 * (tmpfile.c), write-behind (writebehind.c), a ticking thread
 * (ticker.c), progress on a terminal (progress.c), records (record.c),
 * SHA-256 (sha256.c), page indexes (pages.c), damage (damage.c), SQLite
 * helpers (db.c), row counts (rows.c), a live database's pages
 * (livepages.c), the MANIFEST (manifest.c), archives (archive.c),
 * snapshots (snapshot.c), deltas (delta.c), compression (compress.c),
 * one archive read back (read.c) and a delta's chain (chain.c),
 * encryption in place (encrypt.c), restores (restore.c), the backups in
 * a directory (scan.c), retention (retention.c), pruning (prune.c), the
 * programs vb drives (child.c), age (age.c), the remote (remote.c),
 * BackupLog (backuplog.c), and output: JSON (json.c), listings
 * (listing.c), the history (history.c), the inventory (inventory.c),
 * the command line's helpers (cli.c), the jobs said (job*.c) and the
 * dry run's rows (plan.c).
 * Library functions never print, but for those output families: a
 * failure fills a reason, why (a buffer, wlen; or a result's why) that
 * the caller prints once, with warnx.  What worked is said apart:
 * found, message, note.
 */
#ifndef VBLIB_H
#define VBLIB_H

#include <sys/stat.h>

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <sqlite3.h>

#include "vb.h"

/* ---- util.c: small helpers ---- */

/* The program's name, as messages open with it. */
const char	*vb_progname(void);
/* "uid 65534 (nobody)", or "uid N" for a uid without a name, into buf. */
void		 vb_uid_name(uid_t uid, char *buf, size_t len);
/* What may never be inside a record's field: TAB, CR, newline. */
#define VB_CTL		"\t\r\n"
/*
 * Text read from a file another user may write (BackupLog, a manifest,
 * a remote's listing or an error a program printed) reaches a terminal
 * only through these: every control character a terminal would act on
 * (bytes below 0x20, TAB and newline too, DEL, and UTF-8's C1 controls
 * U+0080..U+009F), the bidirectional overrides and isolates that reorder
 * what is shown (U+202A..U+202E, U+2066..U+2069) and each byte that
 * starts no valid UTF-8 character becomes '?'.  Whether s holds none:
 */
int		 vb_is_clean(const char *s);
/* s cleaned so, in place (a C1 control's two bytes become one '?'). */
void		 vb_clean_text(char *s);
/* s written to fp cleaned so; 0, or -1 on a write error. */
int		 vb_put_clean(FILE *fp, const char *s);
/*
 * s as one word a shell reads back as s, into buf (returned): as it is
 * when it holds only [A-Za-z0-9_./:=@%+,-], else in single quotes; for
 * a path in a command vb prints for pasting.  Cut to fit, "''" if empty.
 */
const char	*vb_shq(const char *s, char *buf, size_t len);
#define VB_SHQ_LEN	(4 * 4096 + 3)	/* a path, every byte a quote */
/* Formats n bytes for humans ("1.5 MiB") into buf. */
void		 vb_human_bytes(uint64_t n, char *buf, size_t len);
/* Writes all of buf to fd; returns 0, or -1 with errno set. */
int		 vb_write_all(int fd, const void *buf, size_t len);
/*
 * Appends to the string in buf (len bytes in all), cut to fit: the one
 * way vb adds to a fixed buffer (a result's why or note).  A string of
 * unbounded pieces is built with sqlite3_str instead.
 */
void		 vb_appendf(char *buf, size_t len, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/* Adds a sentence to note, after "; " unless it is the first. */
void		 vb_notef(char *note, size_t len, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/* The string built (sqlite3_free it): "" if empty, NULL on error. */
char		*vb_str_finish(sqlite3_str *s);
/* Copies the rest of in to out; returns 0, or -1 with errno set. */
int		 vb_copy_fd(int in, int out);
/*
 * Reads up to len bytes of fd at off (by read from its offset if off is
 * -1), from a file another thread may still be writing in order: at its
 * end, waits until *done is set (release order), so that 0 means the
 * end of the finished file.  done NULL: an ordinary read.  Returns as
 * read, EINTR retried.
 */
ssize_t		 vb_read_following(int fd, void *buf, size_t len, off_t off,
		    const int *done);

/* ---- config.c: /etc/vb.conf and the environment ---- */

/*
 * Reads the configuration once: $VB_CONF (else /etc/vb.conf; no file is
 * no configuration), then the environment, which wins.  Returns how many
 * errors it found (vb_config_error); the keys that parsed stay usable.
 */
int		 vb_config_load(void);
/* Forgets what was read: the next call reads the file again. */
void		 vb_config_unload(void);
/* The ith error, "file:line: what is wrong", or NULL past the last. */
const char	*vb_config_error(int i);
/* The ith key vb.conf knows, in its table's order; NULL past the last. */
const char	*vb_config_key(int i);
/* The file read: $VB_CONF or /etc/vb.conf. */
const char	*vb_config_path(void);
/* Writes every key as KEY=value lines (empty: unset); 0, or -1. */
int		 vb_config_print(FILE *fp);
/*
 * The stamp of the configuration as read now, for the checks (VB_CONF_*)
 * that passed: "CHECKS-SHA256" of every value, the user, and the type,
 * owner, size and times of each file a T_TRUST key names.  Two reads
 * with the same stamp saw the same settings and the same key files.
 * Returns 0, or -1 (out too small, out of memory).
 */
int		 vb_config_stamp(unsigned checks, char *out, size_t olen);

/* ---- name.c: backup names and UTC timestamps ---- */

/* Whether path names a raw snapshot (backup-<ts>.db, pre-restore-...). */
int		 vb_is_snapshot(const char *path);
/* "zstd", "gzip", "xz", "none": its extension, highest level; 0 or -1. */
int		 vb_compression_parse(const char *name, enum vb_ext *ext,
		    int *maxlevel);
/* "2026-11-27T01-00-00-000Z", the stem timestamp; 24 chars + NUL. */
#define VB_STAMP_LEN	25

enum vb_kind {
	VB_KIND_NONE = 0,	/* not a name vb makes */
	VB_KIND_BACKUP,		/* backup-<ts>.<ext> */
	VB_KIND_PRE_RESTORE	/* pre-restore-<ts>.<ext> */
};

/* What a snapshot that failed its check is renamed with (not a backup). */
#define VB_FAILED_SUFFIX	".failed-check"
/* What age adds to an encrypted archive's name. */
#define VB_AGE_SUFFIX	".age"
/* What marks an incremental archive: backup-<ts>.delta.tar.zst. */
#define VB_DELTA_INFIX	".delta"

struct vb_name {
	enum vb_kind	 kind;
	enum vb_ext	 ext;
	int		 encrypted;	/* <stem><ext>.age: age's format */
	int		 delta;		/* <stem>.delta<ext>: incremental */
	struct timespec	 when;		/* UTC, millisecond precision */
	char		 stem[64];	/* "backup-<ts>", no extension */
};

/* Writes the name timestamp of ts into buf (VB_STAMP_LEN). */
void		 vb_stamp(const struct timespec *ts, char *buf);
/* Writes the ISO 8601 time of ts into buf (VB_ISO_LEN). */
void		 vb_iso_time(const struct timespec *ts, char *buf);

/* -1, 0 or 1 as a is before, at or after b. */
int		 vb_timespec_cmp(const struct timespec *a,
		    const struct timespec *b);
/* The current time in CLOCK_REALTIME. */
struct timespec	 vb_now(void);
/*
 * The time a backup whose read began just before is named for: now,
 * rounded up to the millisecond its name keeps, so that the name is
 * never earlier than the state it holds (--at relies on it).
 */
struct timespec	 vb_now_named(void);
/* Parses a name timestamp; returns 0, or -1 if s is not exactly one. */
int		 vb_parse_stamp(const char *s, struct timespec *ts);
/* Parses an ISO 8601 UTC time as vb writes it; returns 0 or -1. */
int		 vb_parse_iso(const char *s, struct timespec *ts);
/*
 * Parses a time an operator gives (--at): ISO 8601, YYYY-MM-DDTHH:MM,
 * then :SS and .fraction optional (milliseconds kept), a T or a space;
 * with Z in UTC, without it in local time (of the two times a clock
 * turned back reads twice, the earlier; one it skipped is refused).
 * Returns 0, or -1.
 */
int		 vb_parse_when(const char *s, struct timespec *ts);
/* "HH:MM" (NIGHTLY_AT) as minutes since midnight; 0, or -1. */
int		 vb_clock_parse(const char *s, int *minutes);
/*
 * Recognises a file name (no directory) that vb makes.  Returns 0 and fills
 * *n, or -1 if vb did not make a file of that name.
 */
int		 vb_name_parse(const char *filename, struct vb_name *n);
/* The undo file's name of a change made at when (.age if encrypted). */
int		 vb_undo_name(const struct timespec *when, int encrypted,
		    char *buf, size_t len);
/* Recognises an undo file's name: 0 with its time, or -1. */
int		 vb_undo_parse(const char *filename, struct timespec *when,
		    int *encrypted);
/* Writes n's file name into buf; returns 0, or -1 if it does not fit. */
int		 vb_name_format(const struct vb_name *n, char *buf,
		    size_t len);
/* What an extension stands for (name.c's one table of them). */
struct vb_format {
	enum vb_ext	 ext;
	const char	*suffix;	/* ".tar.zst", ".db" */
	const char	*compression;	/* "zstd", "none"; "raw" for .db */
	int		 filter;	/* libarchive's filter code; -1 none */
	int		 maxlevel;	/* its highest level; 0: no levels */
};

/* The format of ext. */
const struct vb_format *vb_format(enum vb_ext ext);
/* The ith format (the archives first, then .db), or NULL past the last. */
const struct vb_format *vb_format_each(int i);
/* The extension string of e, with its dot: ".db", ".tar.zst", ... */
const char	*vb_ext_str(enum vb_ext e);
/* "zstd", "gzip", "xz" or "none" for an archive, "raw" for a .db. */
const char	*vb_compression_name(enum vb_ext ext);
/*
 * The ith name an archive of stem may have (full or delta, plain or
 * encrypted, each compression), into buf and nm (unless NULL): every one
 * for i from 0 until it returns -1.  Returns 0, or -1.
 */
int		 vb_archive_name(const char *stem, int i, struct vb_name *nm,
		    char *buf, size_t len);

/* ---- path.c: paths into fixed buffers ---- */

/*
 * Resolves path a component at a time (lstat), as the kernel would, but
 * following only the symbolic links root or the effective user owns:
 * root never follows a link it did not make.  Returns 0 with the path
 * rid of links in real and what it names in *st; 1 if a component does
 * not exist (real: as far as it resolved, the rest appended; *st
 * unset); -2 with why naming a link another user made and its owner;
 * or -1 with why and errno (a loop, a name too long, another error).
 */
int		 vb_path_walk(const char *path, char *real, size_t rlen,
		    struct stat *st, char *why, size_t wlen);
/*
 * Opens path to read, walked as vb_path_walk walks it, as a file that
 * decides what vb trusts or runs (what: "ENCRYPT_TO"): when this process
 * runs as root, root or the effective user must own it and no group or
 * other user may write it (seen on the descriptor; /dev/null passes).
 * Returns the descriptor; -1 with why if it is refused (a link another
 * user made; the file's owner and mode, and what to do); or -2 with why
 * and errno if it cannot be opened (ENOENT: it does not exist).
 */
int		 vb_open_trusted(const char *path, const char *what,
		    char *why, size_t wlen);

/* dir/name into buf; 0, or -1 if it does not fit. */
int		 vb_path_join(char *buf, size_t len, const char *dir,
		    const char *name);
/* path's directory (or ".") and last component; 0, or -1. */
int		 vb_path_split(const char *path, char *dir, size_t dlen,
		    char *base, size_t blen);
/*
 * A name an operator gave for a file of dir: a file name, or a path
 * whose directory is dir (the same directory, however written); its
 * last component in base.  0, or -1 with why.
 */
int		 vb_path_in(const char *dir, const char *what, char *base,
		    size_t blen, char *why, size_t wlen);

/* ---- dir.c: the backup directory ---- */

/*
 * Creates dir (and missing parents) mode 0700 whatever the umask, never
 * under a link another user made.  An existing directory is left as it
 * is.  Returns 0, or -1 with why.
 */
int		 vb_mkdir_p(const char *dir, char *why, size_t wlen);
/*
 * Checks that dir is fit to hold backups: a real directory, not a
 * symbolic link, reached through no link another user made (any
 * component), owned by this user or root, writable by no group and no
 * other user.  Returns 0, or -1 with why.
 */
int		 vb_dir_check(const char *dir, char *why, size_t wlen);
/* vb_dir_prepare and VB_LOCK_FILE: in vb.h. */
/* Why dir cannot be written by this user (errno e), and what to do. */
void		 vb_dir_unwritable(const char *dir, int e, char *why,
		    size_t wlen);
/* fsyncs a directory, so that renames and unlinks in it are durable. */
int		 vb_fsync_dir(const char *dir);

/* ---- tmpfile.c: writes that never leave a partial file ---- */

#define VB_TMP_PREFIX	".vb-tmp-"

struct vb_tmp {
	int	 fd;		/* open for writing, mode 0600 */
	int	 dirfd;		/* the directory both names live in */
	char	 name[256];	/* ".vb-tmp-<pid>-<final>" within dirfd */
	char	 final[256];	/* the name it will get */
	int	 replace;	/* commit may replace an existing final */
};

/*
 * Opens dir and creates a fresh temporary for the file final (a bare name)
 * in it, mode 0600 whatever the umask.  The temporary is removed if the
 * process is ended by SIGINT, SIGTERM, SIGHUP or SIGPIPE.  Returns 0, or -1
 * with why (and errno set).
 */
int		 vb_tmp_open(struct vb_tmp *t, const char *dir,
		    const char *final, char *why, size_t wlen);
/*
 * fsyncs the temporary, renames it to its final name (never over an
 * existing file: EEXIST) and fsyncs the directory.  Returns 0, or -1 with
 * why (errno set) and neither the temporary nor (unless it replaced a
 * file) the final name left.
 */
int		 vb_tmp_commit(struct vb_tmp *t, char *why, size_t wlen);
/*
 * A work directory in dir (.vb-tmp-<pid>-what, 0700) into path: a drill's
 * or a diff's restored copies; vb_clean_stale removes a dead one's.
 * Returns 0, or -1 with why.
 */
int		 vb_work_make(const char *dir, const char *what, char *path,
		    size_t plen, char *why, size_t wlen);
/* Removes it, and what is in it. */
void		 vb_work_remove(const char *path);
/* Removes dir/name, a directory of temporaries, and the files in it. */
int		 vb_tmp_rmdir(const char *dir, const char *name);
/* The whole file name in dir is text (n bytes), replaced atomically. */
int		 vb_tmp_write(const char *dir, const char *name,
		    const char *text, size_t n, char *why, size_t wlen);
/*
 * t->name in t->dirfd removed too if SIGINT, SIGTERM, SIGHUP or SIGPIPE
 * ends the process (a file made for a change that never happened);
 * vb_tmp_unguard once it is to stay.
 */
void		 vb_tmp_guard(struct vb_tmp *t);
void		 vb_tmp_unguard(struct vb_tmp *t);
/* Removes the temporary (and any SQLite -journal/-wal/-shm beside it). */
void		 vb_tmp_abort(struct vb_tmp *t);
/*
 * Removes temporaries in dir whose writer no longer runs; others (and
 * names vb does not make) are left alone.  Returns how many were removed,
 * named in note for the operator ("" when none).
 */
int		 vb_clean_stale(const char *dir, char *note, size_t nlen);
/* Whether process pid still runs (a zombie does not; EPERM does). */
int		 vb_pid_runs(long pid);
/* The writer PID in a temporary's name, or -1 if name is not one. */
long		 vb_tmp_pid(const char *name);
/* The final name in a temporary's name, or NULL if name is not one. */
const char	*vb_tmp_final(const char *name);
/*
 * An intermediate, a temporary another process finishes: t renamed, not
 * synced, to ".vb-tmp-<owner>-<final>" (into name) and left to owner, who
 * is alive while it is worked on (vb_clean_stale keeps it till then).
 * Returns 0, or -1 with why and the temporary removed.
 */
int		 vb_tmp_hand_over(struct vb_tmp *t, long owner, char *name,
		    size_t nlen, char *why, size_t wlen);
/*
 * Takes over the temporary dir/name handed over: vb_tmp_commit gives it
 * its final name (synced first), vb_tmp_abort removes it, and a signal
 * too.  Returns 0, or -1 with why.
 */
int		 vb_tmp_adopt(struct vb_tmp *t, const char *dir,
		    const char *name, char *why, size_t wlen);

/*
 * The intermediate snapshots handed to owner (.vb-tmp-<owner>-backup-
 * <time>.db, vb_tmp_hand_over) in dir that no vb-compress finished: each
 * synced and given its name, a raw backup the next night archives (never
 * over an existing file; else removed).  Says each in note; returns how
 * many were lost so, or -1 if dir cannot be read (note says why).
 */
int		 vb_tmp_keep_handed(const char *dir, long owner, char *note,
		    size_t nlen);

/* ---- writebehind.c: dirty pages written back as a copy grows ---- */

/*
 * Starts a thread that writes fd's new data back to disk as it grows, so
 * that a large copy never builds a burst of dirty pages, and starts
 * writeback of all of also (unless -1) as often.  Returns NULL if no
 * thread could be had (the copy then works as well, only burstier).
 */
struct vb_writebehind *vb_writebehind_start(int fd, int also);
/* Stops the thread; NULL is allowed. */
void		 vb_writebehind_stop(struct vb_writebehind *w);

/* ---- ticker.c: a function called every few ms on a thread ---- */

struct vb_ticker;

/* Calls tick(arg) every ms milliseconds on a new thread; NULL on failure. */
struct vb_ticker *vb_ticker_start(long ms, void (*tick)(void *), void *arg);
/* Stops it and waits for a tick under way; t may be NULL. */
void		 vb_ticker_stop(struct vb_ticker *t);

/* ---- progress.c: a progress line on a terminal ---- */

enum vb_prog_how {
	VB_PROG_SIZE,		/* the size of a file being written */
	VB_PROG_POS		/* the offset of a file being read */
};

struct vb_progress;

/*
 * Starts a line "what: done / total  pct  rate  ETA" updated four times a
 * second from fd, if progress is shown; NULL otherwise (or on failure).
 * With fd -1 the line shows only the time spent (a database check).
 */
struct vb_progress *vb_progress_start(const char *what, int fd,
		    enum vb_prog_how how, int64_t total);
/* Ends it with one finished line; p may be NULL. */
void		 vb_progress_stop(struct vb_progress *p, int ok);

/* ---- record.c: records on the pipes ---- */

/* Reads msg (which it cuts up) into meta. */
void		 vb_snapmeta_parse(char *msg, struct vb_snapmeta *meta);
/* The state of a record reader; all zero to start. */
struct vb_reader {
	char	*line;		/* the line read, whole, newline removed */
	size_t	 cap;
	char	*copy;		/* the parsed copy the record points into */
	int	 err;		/* at VB_LINE_END: 0, or why reading stopped */
};

/*
 * Parses one line (its newline already removed) into *r, pointing into
 * line, which it modifies.  Returns what kind of line it was; on
 * VB_LINE_BAD, *r is unspecified.
 */
enum vb_line	 vb_record_parse(char *line, struct vb_record *r);
/*
 * Writes r as one record line to fp (buffered: a tool that streams
 * records to a pipe flushes after each).  The message is written as
 * vb_put_clean writes it (its TAB, newline or ESC a '?').  Returns 0,
 * or -1 if the path holds a TAB, CR or newline or the stream failed.
 */
int		 vb_record_write(FILE *fp, const struct vb_record *r);
/* Fills r for operation op: the time now, the rest unknown. */
void		 vb_record_init(struct vb_record *r, const char *op,
		    const char *path);
/* Replaces TAB, CR and newline in s by spaces: one record field. */
void		 vb_clean_field(char *s);
/*
 * Reads the next line of fp into rd->line and parses a copy of it into r
 * (which points into rd until the next call).  Returns what kind of line
 * it was, or VB_LINE_END at the end of input or on an error (rd->err).
 */
enum vb_line	 vb_read_record(struct vb_reader *rd, FILE *fp,
		    struct vb_record *r);
/* Frees what the reader holds. */
void		 vb_reader_free(struct vb_reader *rd);

/*
 * The value of the field key=value in a message whose fields are joined
 * by "; " (a restore's undo=, undo-sha256=, undone=), into out.  Returns
 * 0, or -1 if there is none (or it does not fit).
 */
int		 vb_msg_field(const char *msg, const char *key, char *out,
		    size_t len);
/* Writes m as a snapshot record's message; 0, or -1 if it does not fit. */
int		 vb_snapmeta_format(const struct vb_snapmeta *m, char *buf,
		    size_t len);

/*
 * The facts of a record's message as "; key=value" fields, which this
 * file names and reads back, so that rewording the prose around them
 * breaks no reader.  Rows written before a field existed are read by the
 * words they have (VB_*_WORDS), which their writers still use.
 */
#define VB_FACT_CHECKED		"checked"	/* the snapshot's check */
#define VB_FACT_POINT		"point"		/* a point's parent */
#define VB_FACT_SIGNED		"signed"	/* yes: SIGN_WITH signed it */
#define VB_FACT_DRILL		"drill"		/* proven, failed, error */
#define VB_CHECKED_WORDS	"; snapshot's %s ok"
#define VB_POINT_WORDS		"; point of "
#define VB_DRILL_WORDS		"drill: "
#define VB_DRILL_OK_WORDS	"restored and proven"

struct vb_facts {
	const char	*checked;	/* "integrity_check", "quick_check" */
	const char	*point_of;	/* a point's parent, or NULL */
	int		 is_signed;
};
/* Writes f's fields, each "; key=value" ("" for none), into buf. */
void		 vb_facts_format(const struct vb_facts *f, char *buf,
		    size_t len);
/*
 * Which check of the snapshot a compress record's message says passed
 * ("integrity_check", "quick_check"), or NULL.
 */
const char	*vb_fact_checked(const char *msg);
/* Whether a compress record's message is a point's. */
int		 vb_fact_point(const char *msg);
/*
 * A verify record's message (and status ok) as a drill's outcome: 1 it
 * proved the backup, 0 it failed, 2 it could not run (no room: the
 * backup's fault it is not), -1 not a drill's.
 */
int		 vb_fact_drill(const char *msg, int ok);

/* ---- sha256.c: SHA-256 (nettle) ---- */

struct vb_sha256;

/* Returns a new hash state, or NULL with errno set. */
struct vb_sha256 *vb_sha256_new(void);
void		 vb_sha256_update(struct vb_sha256 *, const void *, size_t);
/* Writes the digest as hex into hex and frees the state. */
void		 vb_sha256_final(struct vb_sha256 *, char hex[VB_SHA256_HEX]);
/* Hashes fd from its current offset to EOF; returns bytes, or -1 (errno). */
int64_t		 vb_sha256_fd(int fd, char hex[VB_SHA256_HEX]);

/* A file hashed on a second thread, while the caller reads it too. */
struct vb_sha256_job {
	int		 fd;
	const int	*done;		/* writer still at it, or NULL */
	int		 threaded;
	pthread_t	 th;
	int		 err;
	int64_t		 bytes;
	char		 hex[VB_SHA256_HEX];
	/* The thread's, held here: a process ended by a signal midway
	 * still points at them. */
	struct vb_sha256 *sh;
	unsigned char	*buf;
};

/*
 * Starts hashing the whole file on fd on a thread (or at join if none),
 * by pread from its start: fd's offset stays the caller's to move.
 */
void		 vb_sha256_start(struct vb_sha256_job *h, int fd);
/*
 * The same for a file another thread is still writing in order: at its
 * end, hashing waits until *done is set (release order: everything
 * written before it is read), then hashes to the end.
 */
void		 vb_sha256_follow(struct vb_sha256_job *h, int fd,
		    const int *done);
/* Waits for it; returns the bytes hashed (h->hex), or -1 with errno. */
int64_t		 vb_sha256_join(struct vb_sha256_job *h);

/* A page's hash in a page index: SHA-256 truncated to 128 bits. */
#define VB_PAGE_HASH	16
void		 vb_page_hash(const void *page, size_t len,
		    unsigned char out[VB_PAGE_HASH]);

/* ---- pages.c: page indexes, the base of incremental backups ---- */

struct vb_backup;

/*
 * The hash of every page of a database, in page order; or, sparse, of
 * some pages only (a point's), pgno[i] being the page of the ith hash.
 */
struct vb_pages {
	int64_t		 page_size;
	int64_t		 count;		/* pages hashed */
	int64_t		 cap;
	unsigned char	*h;		/* count * VB_PAGE_HASH bytes */
	unsigned char	*part;		/* a page being fed, plen bytes */
	size_t		 plen;
	int64_t		*pgno;		/* sparse: pages (from 0), rising;
					   NULL: every page in order */
};

/* Starts an empty index of pages of page_size bytes. */
void		 vb_pages_init(struct vb_pages *p, int64_t page_size);
/* Hashes the next len bytes of the database; 0, or -1 (out of memory). */
int		 vb_pages_feed(struct vb_pages *p, const void *buf,
		    size_t len);
/* Makes room for count hashes (set by the caller); 0, or -1 (ENOMEM). */
int		 vb_pages_alloc(struct vb_pages *p, int64_t count);
/* The SHA-256 of the index's bytes, as the manifest's index-sha256. */
void		 vb_pages_sha(const struct vb_pages *p,
		    char hex[VB_SHA256_HEX]);
/* Appends the hash of page pgno (from 0) to a sparse index; 0 or -1. */
int		 vb_pages_add(struct vb_pages *p, int64_t pgno,
		    const unsigned char h[VB_PAGE_HASH]);
/*
 * The whole index (every page's hash, in order) of a database of count
 * pages made from base's by the pages of the sparse index ch: base cut
 * or grown to count, ch's hashes in their places.  A page past base's
 * end that ch does not hold is an error.  Returns 0, or -1 with why.
 */
int		 vb_pages_apply(struct vb_pages *base,
		    const struct vb_pages *ch, int64_t count, char *why,
		    size_t wlen);
/*
 * Whether whole (every page's hash, as read) is base (the parent's whole
 * index) with the sparse ch's pages in their places.  0, or -1 with why
 * naming the first page that is not.
 */
int		 vb_pages_cover(const struct vb_pages *base,
		    const struct vb_pages *ch, const struct vb_pages *whole,
		    char *why, size_t wlen);
void		 vb_pages_free(struct vb_pages *p);

/*
 * A backup's page index kept beside it (BACKUP_DIR/.vb-index-<stem>), so
 * that the next night reads no archive to know what changed: a cache,
 * rebuilt from the archive when it is lost, never sent offsite.
 */
#define VB_INDEX_PREFIX	".vb-index-"

struct vb_index {
	char		 stem[64];
	char		 parent[64];	/* a delta's parent, "" for a full */
	char		 db_sha256[VB_SHA256_HEX];	/* of the database */
	char		 index_sha256[VB_SHA256_HEX];	/* of the whole index
							   (every page's);
							   "" if not known */
	char		 archive[128];	/* the archive's file name */
	char		 archive_sha256[VB_SHA256_HEX];	/* as it was made;
							   "" if not known */
	int		 point;		/* a point's: p is sparse, its own
					   pages only (vb_index_full) */
	int64_t		 page_count;	/* the database's pages */
	int64_t		 archive_bytes;
	struct vb_pages	 p;
};

/* Writes x into dir (replacing any older one); 0, or -1 with why. */
int		 vb_index_write(const char *dir, const struct vb_index *x,
		    char *why, size_t wlen);
/*
 * Reads stem's index in dir, checked whole (its own SHA-256), the hashes
 * too unless header_only.  Returns 0, or -1 with why.
 */
int		 vb_index_read(const char *dir, const char *stem,
		    int header_only, struct vb_index *x, char *why,
		    size_t wlen);
/*
 * The whole index of stem in dir: a point's own pages put on its
 * parent's whole index (read the same way), the result proven by the
 * index-sha256 the point recorded.  Returns 0 (x->p every page's), or
 * -1 with why.
 */
int		 vb_index_full(const char *dir, const char *stem,
		    struct vb_index *x, char *why, size_t wlen);
/*
 * Fills in, from the indexes dir holds, each backup's parent (a
 * delta's), whether it is a point, and whether it has an index.
 */
void		 vb_index_parents(const char *dir, struct vb_backup *list,
		    size_t n);
/* Removes the indexes in dir whose backup is gone; returns how many. */
int		 vb_index_gc(const char *dir);

/* ---- damage.c: damaged backups, and the chains they break ---- */

/* What marks a backup recorded damaged: BACKUP_DIR/.vb-damaged-<stem>. */
#define VB_DAMAGE_PREFIX	".vb-damaged-"

#define VB_MAXFAULTS	8
/* A link of a chain found damaged or missing. */
struct vb_fault {
	char		 name[128], stem[64];
	int		 missing;
	char		 recorded[VB_SHA256_HEX], found[VB_SHA256_HEX];
	int		 built_on;	/* backups of the chain built on it */
};

/*
 * Checks the archive an index x (read from dir) describes against the
 * SHA-256 recorded when it was made.  Returns 0 if it matches, 1 if it is
 * damaged or missing (f says which), or -1 with why if it cannot be told
 * (no SHA-256 recorded, unreadable).
 */
int		 vb_link_check(const char *dir, const struct vb_index *x,
		    int built_on, struct vb_fault *f, char *why, size_t wlen);
/* Records f beside the backup (.vb-damaged-<stem>); 0, or -1 with why. */
int		 vb_damage_mark(const char *dir, const struct vb_fault *f,
		    char *why, size_t wlen);
/*
 * Sets damaged, unsafe and why on each backup of list (dir's, newest
 * first, parents from vb_index_parents): damaged where recorded so and
 * still so, or, with hash, where an archive no longer hashes as its
 * index or logdb's BackupLog recorded; unsafe where damaged, where its
 * last restore drill failed (logdb), or a delta on an unsafe or missing
 * link.  With heal, a record whose file is gone or hashes right again
 * is removed.  Returns 0, or -1 (why) when logdb's BackupLog could not
 * be read: the drills' outcomes, and with hash the recorded SHA-256s, are
 * then not known (what was found is still set).
 */
int		 vb_health(const char *dir, struct vb_backup *list, size_t n,
		    int hash, int heal, const char *logdb, char *why,
		    size_t wlen);
/* Removes the records in dir whose file is gone; returns how many. */
int		 vb_damage_gc(const char *dir);

/* What fault f in dir means for the operator, one line. */
void		 vb_fault_text(const struct vb_fault *f, const char *dir,
		    char *buf, size_t len);

/* ---- db.c: SQLite helpers ---- */

/* An integer query's value (sql freed), -1 on error. */
int64_t		 vb_db_count(sqlite3 *db, char *sql);
/* path as an SQLite URI (file:...?query) into uri. */
void		 vb_db_uri(const char *path, const char *query, char *uri,
		    size_t len);
/*
 * Opens a file nobody writes (a snapshot, a restored copy) read-only and
 * immutable: no lock, no -shm or -wal made beside it.  NULL with why.
 */
sqlite3		*vb_db_open_immutable(const char *path, char *why,
		    size_t wlen);

/*
 * DRILL_SQL's vb_backup_time() defined on db: when, as datetime() writes
 * a time (UTC, "YYYY-MM-DD HH:MM:SS").  0, or -1.
 */
int		 vb_db_backup_time(sqlite3 *db, const struct timespec *when);
/*
 * Whether sql is one read-only query on the database at path (prepared,
 * never run, vb_backup_time() defined): 0, -1 with why, or 1 if the
 * database cannot be opened.
 */
int		 vb_db_query_check(const char *path, const char *sql,
		    char *why, size_t wlen);

/* How long vb waits for a lock on a live database before giving up. */
#define VB_BUSY_MS	30000

/* VB_BUSY_MS from the environment or vb.conf (ms), else the default. */
int64_t		 vb_busy_ms(void);

/*
 * Installs vb's busy handler on db: retry for VB_BUSY_MS, polling often
 * enough to get in between a rollback-journal writer's commits.  The
 * handler's state is shared: use it on one connection at a time.
 */
void		 vb_db_busy(sqlite3 *db);

/*
 * Checks that path is an existing regular file that starts with SQLite's
 * header.  Returns 0, or -1 with a diagnostic in why (for a record).
 */
int		 vb_db_check_file(const char *path, char *why, size_t wlen);
/*
 * vb_db_check_file of the live database: also reached through no symbolic
 * link another user made, in any component (vb_path_walk); its path rid
 * of links into real (unless NULL).
 */
int		 vb_db_check_live(const char *path, char *real, size_t rlen,
		    char *why, size_t wlen);
/*
 * Opens the live database at path with SQLite's flags (READONLY or
 * READWRITE, never CREATE) and vb's busy handler, checked as
 * vb_db_check_live does: SQLite gets the walked path with
 * SQLITE_OPEN_NOFOLLOW, and the file it opened must be the one walked.
 * Returns the connection, or NULL with a diagnostic in why.
 */
sqlite3		*vb_db_open_live(const char *path, int flags, char *why,
		    size_t wlen);
/* vb_db_open_live, read-only. */
sqlite3		*vb_db_open_ro(const char *path, char *why, size_t wlen);
struct vb_dbinfo {
	int64_t	 page_size;
	int64_t	 page_count;		/* -1 when the header does not say */
	char	 sqlite_version[32];	/* of the last writer, "3.40.1" */
	char	 journal_mode[16];	/* "wal" or "delete", from the header */
};

/* Reads what a database file's header says; returns 0 or -1 (why). */
int		 vb_db_header(const char *path, struct vb_dbinfo *info,
		    char *why, size_t wlen);
/* Runs a statement returning one text value into out; returns 0 or -1. */
int		 vb_db_text(sqlite3 *db, const char *sql, char *out,
		    size_t len);
/* Runs a statement returning one integer; returns 0 or -1. */
int		 vb_db_int(sqlite3 *db, const char *sql, int64_t *out);

/* "quick_check", "integrity_check" or "schema read". */
const char	*vb_check_name(enum vb_check check);
/*
 * Checks a database file that nothing else writes (a snapshot, a restored
 * copy) without locks or side files (immutable=1).  Returns 0 if ok, 1 if
 * not (the first problem in out), -1 if it could not be opened (why in
 * out).
 */
int		 vb_db_check_path(const char *path, enum vb_check check,
		    char *out, size_t len);
/*
 * Copies every page of src into dst with one sqlite3_backup_step(-1),
 * under dst's own locks and journal.  Returns SQLITE_DONE, or the error.
 */
int		 vb_db_backup(sqlite3 *dst, sqlite3 *src);

/* ---- match.c: which row is which, between two databases ---- */

/* Most columns a table vb restores in part may have (SQLite's own). */
#define VB_MAX_COLUMNS	2000

/* A table's shape as row matching needs it (vb_table_load). */
struct vb_table {
	char		*name;		/* as its schema spells it */
	int		 ncols;
	char		**cols;		/* in declaration order */
	int		*pk;		/* each column's place in the key; 0 */
	int		*mixed;		/* each: may hold 1 and 1.0 (no type) */
	int		 nkey;		/* 0: no declared key, a multiset */
	int		 without_rowid;
	enum { VB_TABLE_ORDINARY, VB_TABLE_OTHER } kind;	/* or virtual,
					   or a virtual table's shadow */
	const char	*rowid;		/* rowid, _rowid_ or oid, whichever no
					   column takes; NULL if none */
	char		*decl;		/* the columns, one comparable string */
};

/*
 * The table name in schema, whatever its case: 1 with *canon (to
 * sqlite3_free), 0 none, -1 error.
 */
int		 vb_table_find(sqlite3 *db, const char *schema,
		    const char *name, char **canon);
/* Loads schema's table name into t: 0, 1 no such table, -1 (why). */
int		 vb_table_load(sqlite3 *db, const char *schema,
		    const char *name, struct vb_table *t, char *why,
		    size_t wlen);
void		 vb_table_free(struct vb_table *t);
/* base, or base with '_' appended till no column of t is so named. */
void		 vb_table_spare(const struct vb_table *t, const char *base,
		    char *buf, size_t len);
/*
 * SQL over t's rows, to sqlite3_free (NULL: out of memory); a and b are
 * aliases.  Columns: a."c", ... (a NULL: bare); the key's alone; a's key
 * IS b's; a's row the same as b's (type and bytes); a grouping of equal
 * rows; the key (else the whole row) equal to parameters ?i (i the
 * column's place, 1-based); the whole row equal to them; ?1, ?2, ...;
 * a's key holds a NULL.
 */
char		*vb_sql_cols(const struct vb_table *t, const char *a);
char		*vb_sql_key_cols(const struct vb_table *t, const char *a);
char		*vb_sql_key_is(const struct vb_table *t, const char *a,
		    const char *b);
char		*vb_sql_same(const struct vb_table *t, const char *a,
		    const char *b);
char		*vb_sql_group(const struct vb_table *t, const char *a);
char		*vb_sql_key_params(const struct vb_table *t);
char		*vb_sql_row_params(const struct vb_table *t);
char		*vb_sql_params(const struct vb_table *t);
char		*vb_sql_key_null(const struct vb_table *t, const char *a);

/* How many rows of schema's keyed table t share their key with another
 * under IS (possible only with a NULL in it); -1 on error. */
int64_t		 vb_table_ambiguous(sqlite3 *db, const struct vb_table *t,
		    const char *schema);
/* The rows of a table without a key, indexed by value (a temporary
 * copy of its rowids and values). */
struct vb_copies {
	sqlite3		*db;
	sqlite3_stmt	*find, *drop;
	int		 ncols;
	char		 r[64];		/* the rowid's column in the copy */
};
/* t's rows copied and indexed in the temporary schema.  0, or -1. */
int		 vb_copies_open(sqlite3 *db, const struct vb_table *t,
		    struct vb_copies *c, char *why, size_t wlen);
/*
 * The rowid of one row whose values are row's (taken from the copy: the
 * next call finds another), -1 if none is left, -2 on an error.
 */
int64_t		 vb_copies_take(struct vb_copies *c, sqlite3_value **row);
void		 vb_copies_close(struct vb_copies *c);

/* ---- changeset.c: changes in SQLite's changeset format ---- */

/* A changeset being written to a file. */
struct vb_cs {
	FILE		*fp;
	int		 ncols;		/* of the table being written */
	int64_t		 changes;
};

/* Creates path (never an existing file) for writing.  0, or -1 (why). */
int		 vb_cs_open(struct vb_cs *w, const char *path, char *why,
		    size_t wlen);
/* The changes that follow are t's. */
void		 vb_cs_table(struct vb_cs *w, const struct vb_table *t);
/* One change (SQLITE_INSERT, _UPDATE, _DELETE): whole old, new rows. */
void		 vb_cs_change(struct vb_cs *w, int op, sqlite3_value **old,
		    sqlite3_value **new);
/* Flushes and closes; 0, or -1 with why if any write failed. */
int		 vb_cs_close(struct vb_cs *w, char *why, size_t wlen);
/* Longest text or blob value an undo file may hold. */
#define VB_CS_MAX_VALUE	(1024 * 1024 * 1024)
/*
 * Reads fd to its end, checking that it is a changeset of whole-row
 * changes (every table header, change and value complete and bounded),
 * its SHA-256 and size into hex and bytes.  Returns 0, or -1 with why.
 */
int		 vb_cs_check(int fd, char hex[VB_SHA256_HEX], int64_t *bytes,
		    char *why, size_t wlen);
/* SQLite's iterator over the changes read from *fd (checked first). */
int		 vb_cs_start(sqlite3_changeset_iter **it, int *fd);

/* ---- livetx.c: a change to the live database, and its undo file ---- */

struct vb_livetx {
	sqlite3		*db;		/* the live database as main */
	const char	*live, *dir;	/* its path; the backup directory */
	char		 work[4400];	/* the work directory */
	char		 changes[4500];	/* the changeset written, in it */
	struct vb_cs	 cs;
	int		 dry, committed;
	int64_t		 t0;		/* when it began (monotonic ms) */
	char		 saved[4096];	/* the pre-restore copy */
	char		 saved_sha[VB_SHA256_HEX];	/* its bytes' */
	char		 undo[4096];	/* the undo file, once in place */
	char		 undo_sha[VB_SHA256_HEX];	/* its SHA-256 */
	struct vb_tmp	 guard;		/* the copy, removed on a signal */
};

/* Opens live for the change: no trigger, no cascade.  0, or -1. */
int		 vb_livetx_open(struct vb_livetx *x, const char *live,
		    const char *dir, const char *work, char *why,
		    size_t wlen);
/* Attaches a restored copy read-only as schema as.  0, or -1. */
int		 vb_livetx_attach(struct vb_livetx *x, const char *copy,
		    const char *as, char *why, size_t wlen);
/* The pre-restore copy (not dry), BEGIN IMMEDIATE, the changeset. */
int		 vb_livetx_begin(struct vb_livetx *x, int dry, char *note,
		    size_t nlen, char *why, size_t wlen);
/*
 * The foreign key violations the n tables are part of (theirs, and
 * those of the tables that refer to them, in any case): how many (the
 * first in why), or -1 if the check itself failed (why).
 */
int64_t		 vb_livetx_fk(struct vb_livetx *x, char *const *tables,
		    int n, char *why, size_t wlen);
/* The changeset closed and put in place as the undo file (its path in
 * undo, SHA-256 in undo_sha; dry: neither).  0, or -1. */
int		 vb_livetx_seal(struct vb_livetx *x, char *why, size_t wlen);
/* The restore record of the change, msg its message (kept by the
 * caller), into r. */
void		 vb_livetx_record(const struct vb_livetx *x, const char *msg,
		    struct vb_record *r);
/* r's BackupLog row inserted, then COMMIT (dry: neither).  0, or -1
 * with the undo file removed. */
int		 vb_livetx_commit(struct vb_livetx *x, struct vb_record *r,
		    char *why, size_t wlen);
/* Rolls back what did not commit, removes a refused change's copy. */
void		 vb_livetx_close(struct vb_livetx *x);
/* Whether name is one of SQLite's own tables (sqlite_...). */
int		 vb_is_sqlite_table(const char *name);

/* ---- rows.c: each table's row count, and a sudden loss ---- */

#define VB_ROWS_LEN	8192	/* the counts' text, at most */
#define VB_LOSS_MIN	100	/* rows a loss must reach to be one */

/* Row counts: "count name\n" lines, by name. */
struct vb_rows {
	char	 text[VB_ROWS_LEN];
	int	 tables;		/* lines in text */
	int	 omitted;		/* tables that did not fit, or whose
					   name cannot be a line */
	int	 known;			/* counted (or read from a manifest) */
};

/* Counts the rows of every table of the database at path; 0, or -1. */
int		 vb_rows_count(const char *path, struct vb_rows *r,
		    char *why, size_t wlen);
/* The same on db, open (path names it in why); 0, or -1. */
int		 vb_rows_count_db(sqlite3 *db, const char *path,
		    struct vb_rows *r, char *why, size_t wlen);
/* The next table of *p (a rows text) and its count; 0 at the end. */
int		 vb_rows_next(const char **p, char *name, size_t nlen,
		    int64_t *count);
/* The count of table in r, or -1 if r has none. */
int64_t		 vb_rows_get(const struct vb_rows *r, const char *table);
/* Adds one "count name" line (a manifest's rows: value); 0, or -1. */
int		 vb_rows_add_line(struct vb_rows *r, const char *line);

/* The counting, on a thread of its own. */
struct vb_rows_job {
	pthread_t	 th;
	int		 state;		/* 0 to run, 1 on, 2 done */
	const char	*path;
	struct vb_rows	 rows;
	int		 rc;
	char		 why[512];
};
void		 vb_rows_start(struct vb_rows_job *rj, const char *path);
/* Waits for it (or counts now); returns its status. */
int		 vb_rows_end(struct vb_rows_job *rj);

/*
 * Compares now (backup stem's counts) with the counts kept in dir for
 * the backup before it: a table down by over half and VB_LOSS_MIN rows
 * holds that backup and is said in warning.  Then keeps now's counts.
 * Returns 0, or -1 with why (the hold or the counts not written).
 */
int		 vb_rows_loss(const char *dir, const char *stem,
		    const struct vb_rows *now, char *warning, size_t wlen,
		    char *why, size_t ylen);

/* ---- livepages.c: every page of a live database, one transaction ---- */

/* A live database held in one read transaction. */
struct vb_live {
	const char	*path;
	sqlite3		*db;		/* read-only, through vb-tap */
	int		 in_txn;
	int64_t		 npages, page_size;
	char		 journal[16];	/* wal, delete, ... */
	struct timespec	 when;		/* right after the read began: it
					   holds every earlier commit */
};

/*
 * Opens the live database at path read-only (never creating it) and
 * begins the read transaction every later call sees.  In rollback-journal
 * mode the application's commits wait until vb_live_close.  Returns 0,
 * or -1 with why.
 */
int		 vb_live_open(struct vb_live *l, const char *path, char *why,
		    size_t wlen);
/*
 * Calls page(arg, pgno, bytes) for every page, 1 to l->npages, in order,
 * as the read transaction sees it (the -wal's frame, else the file's),
 * writing nothing anywhere.  Returns 0, or -1 with why ("" when page
 * returned non-zero: its reason is the caller's).
 */
int		 vb_live_pages(struct vb_live *l, int (*page)(void *arg,
		    int64_t pgno, const unsigned char *bytes), void *arg,
		    char *why, size_t wlen);
/* Each table's rows, in the same transaction; 0, or -1 with why. */
int		 vb_live_rows(struct vb_live *l, struct vb_rows *r, char *why,
		    size_t wlen);
/* Ends the read transaction and closes. */
void		 vb_live_close(struct vb_live *l);

/* ---- manifest.c: the MANIFEST inside every archive ---- */

#define VB_MANIFEST_FORMAT	1
/* A point's integrity: not checked when taken (its nightly was). */
#define VB_UNCHECKED		"unchecked"
#define VB_MANIFEST_MAX		(64 * 1024)	/* larger is not ours */

struct vb_manifest {
	char	 vb_version[32];
	char	 source[1024];		/* "unknown" when not known */
	char	 host[256];
	char	 created[VB_ISO_LEN];	/* the time the snapshot stands for */
	char	 name[64];		/* its stem (signed with it) */
	char	 sqlite_version[32];	/* of the library that wrote the db */
	int64_t	 page_size;
	int64_t	 page_count;
	char	 journal_mode[16];	/* the source's: wal, delete, ... */
	int64_t	 db_bytes;
	char	 db_sha256[VB_SHA256_HEX];
	char	 integrity[128];	/* "ok", or the first problem */
	char	 integrity_check[32];	/* quick_check or integrity_check */
	int	 delta;			/* kind: delta or point (else full) */
	int	 point;			/* kind: point: pages only, no index;
					   parent's index proves them */
	/* A delta's: the backup it is made on, and that one's database. */
	char	 parent[64];
	char	 parent_db_sha256[VB_SHA256_HEX];
	int64_t	 pages;			/* pages it holds (0 for a full) */
	char	 index_sha256[VB_SHA256_HEX];	/* of its page index */
	char	 pages_sha256[VB_SHA256_HEX];	/* a point's: of its .pages
						   entry, checked alone */
	struct vb_rows rows;		/* rows: lines, rows-omitted */
};

/* Writes m as MANIFEST text into buf; returns its length, or -1. */
int		 vb_manifest_format(const struct vb_manifest *m, char *buf,
		    size_t len);
/* Parses MANIFEST text; returns 0, or -1 with the reason in why. */
int		 vb_manifest_parse(const char *text, size_t len,
		    struct vb_manifest *m, char *why, size_t wlen);

/* ---- history.c: BackupLog read back (the rest in vb.h) ---- */

/* When a snapshot last passed integrity_check ("" never); 0, or -1. */
int		 vb_backuplog_last_full_check(const char *path,
		    char when[VB_ISO_LEN], char *why, size_t wlen);
/* When a drill last proved a backup ("" never); 0, or -1. */
int		 vb_backuplog_last_drill(const char *path,
		    char when[VB_ISO_LEN], char *why, size_t wlen);
/* When the last point was made ("" never); 0, or -1. */
int		 vb_backuplog_last_point(const char *path,
		    char when[VB_ISO_LEN], char *why, size_t wlen);
/* Which backups drills proved, and when (newest first). */
struct vb_proven_one {
	char	 name[96];		/* the backup's stem */
	char	 when[VB_ISO_LEN];	/* last proven ("" never) */
	int	 seen;
	int	 failed;		/* its last drill failed */
	char	 failed_at[VB_ISO_LEN];
};
struct vb_proven {
	struct vb_proven_one *list;
	size_t	 n, cap;
	char	 dir[4096];		/* BACKUP_DIR, resolved ("" none) */
	int	 last;			/* the newest drill: 1 proven, 0
					   failed, 2 could not run, -1 none */
	char	 last_at[VB_ISO_LEN];
	int	 last_local;		/* it read a file of dir */
	char	 last_file[4096];
	char	 last_why[1024];
};
/* Reads them from the BackupLog of the database at path (NULL: none). */
/* 0, or -1 when BackupLog cannot be read (p then empty). */
int		 vb_proven_read(const char *path, struct vb_proven *p);
/* When name was last proven, or NULL. */
const char	*vb_proven_when(const struct vb_proven *p, const char *name);
/* name's entry if its last drill failed (until one proves it), or NULL. */
const struct vb_proven_one *vb_drill_failed(const struct vb_proven *p,
		    const char *name);

/* ---- hold.c (the rest in vb.h) ---- */

/* Sets held on each backup of list that dir holds. */
struct vb_backup;
void		 vb_holds_mark(const char *dir, struct vb_backup *list,
		    size_t n);

/* Holds stem in dir, for the backup by and reason; 0, or -1 (why). */
int		 vb_hold_set(const char *dir, const char *stem,
		    const char *by, const char *reason, char *why,
		    size_t wlen);
/* Reads stem's hold; 0, or -1 if it has none. */
int		 vb_hold_read(const char *dir, const char *stem,
		    struct vb_hold *h);
/*
 * The hold of the backup what names (its stem, a file name, or a path
 * in dir) into *h; 0, 1 if it is not held, -1 (why).
 */
int		 vb_hold_find(const char *dir, const char *what,
		    struct vb_hold *h, char *why, size_t wlen);
/* Releases stem; 0, 1 if it was not held, -1 (why). */
int		 vb_hold_release(const char *dir, const char *stem,
		    char *why, size_t wlen);

/* ---- lockholder.c: the run's lock, and who holds it ---- */

struct vb_lock_look {
	enum vb_lock_state {
		VB_LOCK_NONE,		/* no lock file (yet) */
		VB_LOCK_ODD,		/* a link, or not a regular file */
		VB_LOCK_UNREADABLE,	/* this user cannot open it */
		VB_LOCK_FREE,		/* nobody holds it */
		VB_LOCK_HELD
	}		 state;
	long		 pid;		/* HELD: the taker (/proc/locks), 0
					   not found */
	char		 cmd[1024];	/* its command line; "" gone */
	int		 vb_run;	/* it is vb-backup: its program, or
					   the script a shell runs */
	long long	 secs;		/* how long it has run; -1 unknown */
	char		 holders[256];	/* cmd "": the PIDs with it open */
};

/* The lock file at path looked at (never through a link) into *l. */
void		 vb_lock_look(const char *path, struct vb_lock_look *l);

/* ---- archive.c: writing and verifying vb archives ---- */

#define VB_SIGNED_MAX	(16 * 1024)	/* a manifest a signature covers */
#define VB_SIG_MAX	1024		/* an Ed25519 SSH signature: 294 */
#define VB_SIG_ENTRY	"MANIFEST.sig"	/* the last entry, when signed */

struct vb_archive_info {
	int64_t	 bytes;			/* the archive's own size */
	char	 sha256[VB_SHA256_HEX];	/* of the archive's own bytes */
	char	 dbname[256];		/* "<stem>.db" */
	/* MANIFEST as written, when small enough to be signed, and the
	 * signature after the database (MANIFEST.sig), if any. */
	char	 manifest[VB_SIGNED_MAX];
	size_t	 manifest_len;
	char	 sig[VB_SIG_MAX + 1];
	size_t	 sig_len;
	int	 noroom;		/* failed: no room to write it */
};

/*
 * Writes to fd an archive of MANIFEST (the text manifest) and dbname,
 * whose dbbytes bytes are read from dbfd.  Returns 0 (why then holds a
 * notice for the operator, or ""), or -1 with the reason in why (the
 * caller removes the file).
 */
int		 vb_archive_write(int fd, const struct vb_archive_opts *o,
		    const char *manifest, const char *dbname, int dbfd,
		    int64_t dbbytes, char *why, size_t wlen);
/*
 * Writes to fd a delta archive of stem: MANIFEST, <stem>.index (idx's
 * hashes) and <stem>.pages, the nchanged pages of dbfd whose numbers
 * (from 0) are in changed, each as its number from 1 (4 bytes,
 * big-endian) and its bytes.  Returns as vb_archive_write.
 */
int		 vb_archive_write_delta(int fd, const struct vb_archive_opts *o,
		    const char *manifest, const char *stem,
		    const struct vb_pages *idx, const int64_t *changed,
		    int64_t nchanged, int dbfd, char *why, size_t wlen);
/*
 * Writes to fd a point's archive of stem: MANIFEST and <stem>.pages,
 * whose bytes (as vb_archive_write_delta writes them: number, page, ...)
 * are the first bytes of spoolfd.  Returns as vb_archive_write.
 */
int		 vb_archive_write_point(int fd,
		    const struct vb_archive_opts *o, const char *manifest,
		    const char *stem, int spoolfd, int64_t bytes, char *why,
		    size_t wlen);
/* A delta archive's entries after MANIFEST: <stem> and these. */
#define VB_DELTA_INDEX	".index"
#define VB_DELTA_PAGES	".pages"
/*
 * Reads the archive on fd end to end and checks it: MANIFEST then one
 * regular <stem>.db (stem, if not NULL, must match), the size and SHA-256
 * the manifest declares, nothing else; or, for a delta (kind: delta),
 * <stem>.index hashing to index-sha256 and <stem>.pages, each page
 * matching its index entry; or, for a point (kind: point), <stem>.pages
 * alone, in order and within the database (its parent's index proves
 * them: the caller's).  With done not NULL, fd is a file still being
 * written: reading waits at its end until *done is set.  Writes the
 * database to outfd unless it is -1 (a delta's pages at their place in
 * it, which is then cut to db-bytes).  With pages, fills in the page
 * index of the database (a point's: of its pages, sparse; the caller
 * frees it).  Fills m and info; returns 0, or -1 with why.
 */
int		 vb_archive_verify(int fd, const int *done, const char *stem,
		    int outfd, struct vb_pages *pages, struct vb_manifest *m,
		    struct vb_archive_info *info, char *why, size_t wlen);
/* Reads only the MANIFEST of the archive on fd; 0, or -1 with why. */
int		 vb_archive_manifest(int fd, struct vb_manifest *m, char *why,
		    size_t wlen);

/* ---- delta.c: a full backup tonight, or a delta of which pages ---- */

struct vb_delta_plan {
	int		 delta;		/* write a delta (else a full) */
	char		 why[600];	/* why a full */
	struct vb_fault	 faults[VB_MAXFAULTS];	/* links found wrong */
	int		 nfaults;
	struct vb_index	 parent;	/* the parent's index, hashes too */
	struct vb_pages	 own;		/* the snapshot's, once hashed */
	char		 sha256[VB_SHA256_HEX];	/* the snapshot's, hashed */
	int64_t		*changed;	/* page numbers (from 0) */
	int64_t		 nchanged;
};

/*
 * Decides how the snapshot nm (dbfd, its header in info) in dir is
 * archived: a delta of the newest backup when its chain can be followed
 * to a full one younger than every and fewer than half the pages
 * changed; else a full (p->why says why).  Returns 0 (p->delta says
 * which), or -1 with why if the snapshot cannot be read or does not hash
 * to want_sha (NULL: not known).
 */
int		 vb_delta_plan(const char *dir, const struct vb_name *nm,
		    int dbfd, const struct vb_dbinfo *info,
		    const struct vb_duration *every, const char *want_sha,
		    struct vb_delta_plan *p, char *why, size_t wlen);
void		 vb_delta_plan_free(struct vb_delta_plan *p);

/* ---- compress.c (the rest in vb.h) ---- */

/* What an archive made (or encrypted in place, or a point) is. */
struct vb_compress_result {
	char	 path[4096];		/* the archive */
	int64_t	 bytes;
	char	 sha256[VB_SHA256_HEX];	/* of the archive's bytes */
	int64_t	 dbbytes, plain_bytes;	/* before encryption */
	int	 removed;		/* the raw snapshot is gone */
	int	 recipients;
	int	 is_signed;		/* encrypted: its manifest is */
	const char *checked;		/* the check run here, or NULL */
	int	 delta;			/* a delta archive, of parent */
	int	 point;			/* a point (a delta too) */
	char	 parent[64];
	int64_t	 pages, page_count;
	char	 full_why[600];		/* with full_every: why a full */
	struct vb_fault faults[VB_MAXFAULTS];	/* to report as failures */
	int	 nfaults;
	int	 tables;		/* row counts in the manifest */
	char	 warning[1024];		/* a sudden loss of rows */
	char	 why[1024];		/* why it failed */
	char	 note[1024];		/* for the operator */
};

/* Archives the snapshot at path; 0, 1 if only its removal failed, -1. */
int		 vb_compress_file(const char *path,
		    const struct vb_snapmeta *meta,
		    const struct vb_compress_opts *o,
		    struct vb_compress_result *res);
/* The compress record's message for rc and res. */
void		 vb_compress_message(const struct vb_compress_opts *o,
		    const struct vb_compress_result *res, int rc, char *buf,
		    size_t len);

/* ---- read.c: one archive read back and checked ---- */

/*
 * Reads the archive on fd (named nm; decrypted with identity when it is
 * encrypted, refused without one) end to end, checked, writing its
 * database (a delta: its pages) into outfd unless -1.  Returns 0 with m
 * and info (the file's own size and SHA-256), or -1 with why.
 */
int		 vb_read_archive(int fd, const char *identity,
		    const struct vb_name *nm, int outfd, struct vb_manifest *m,
		    struct vb_archive_info *info, char *why, size_t wlen);
/*
 * Reads only the MANIFEST of the archive at path (named nm; decrypted
 * with identity when it is encrypted).  Returns 0, or -1 with why.
 */
int		 vb_read_manifest(const char *path, const char *identity,
		    const struct vb_name *nm, struct vb_manifest *m, char *why,
		    size_t wlen);

/* ---- chain.c: archives read back, alone or as a delta's chain ---- */

/* One archive of a chain. */
struct vb_link {
	char			 path[4096];	/* where it is read */
	char			 name[128];	/* its name */
	struct vb_name		 nm;		/* that name, parsed once */
	struct vb_manifest	 m;		/* as first read */
	struct vb_tmp		 t;		/* fetched from the remote */
	int			 fetched;
};

/* A delta's chain: links[0] the delta, links[n-1] its full backup. */
struct vb_chain {
	int			 n;
	struct vb_link		*links;
	const char		*dir;		/* where links are looked for */
	const char		*remote;	/* missing or damaged links
						   fetched here */
	char			 note[1024];	/* which were, and why */
	struct vb_listed	*listing;	/* the remote's, once listed */
	size_t			 nlisting;
	struct timespec		 when;		/* of the oldest link so far */
};

/*
 * Follows the archive at path (named nm) down to its full backup: each
 * parent found in dir by its stem (or fetched from remote, if set, when
 * it is missing or its manifest cannot be read), its manifest read and
 * its db-sha256 the one its child was made on.  Returns 0, or -1 with
 * why naming the missing or wrong link.
 */
int		 vb_chain_resolve(const char *path, const struct vb_name *nm,
		    const char *dir, const char *identity, const char *remote,
		    struct vb_chain *ch, char *why, size_t wlen);
/*
 * Rebuilds the chain's database into outfd (empty): the full, then each
 * delta, every link checked, and the result's SHA-256 the target's.  A
 * local link that fails its checks is replaced by the remote's copy (if
 * the chain has a remote) and the rebuild starts over (ch->note says
 * so).  Returns 0 with the target's m and info, or -1 with why.
 */
int		 vb_chain_extract(struct vb_chain *ch, const char *identity,
		    int outfd, struct vb_manifest *m,
		    struct vb_archive_info *info, char *why, size_t wlen);
/* Frees ch; links fetched are kept under their names if keep. */
void		 vb_chain_free(struct vb_chain *ch, int keep);

/* ---- encrypt.c: archives made before ENCRYPT_TO, encrypted in place ---- */

/* The remote's plaintext archives encrypted; each to done; 0, 1, -1. */
int		 vb_encrypt_remote_all(const char *remote, const char *dir,
		    const char *recipients, int (*done)(void *arg,
		    const char *path, int ok, int64_t bytes, const char *hex,
		    const char *msg), void *arg, char *why, size_t wlen);

/* The file at path encrypted in place, proven first; as compress_file. */
int		 vb_encrypt_in_place(const char *path, const char *recipients,
		    struct vb_compress_result *res);
void		 vb_encrypt_message(const char *path,
		    const struct vb_compress_result *res, int rc, char *buf,
		    size_t len);

/* ---- makepoint.c (the rest in vb.h) ---- */

/*
 * A point of o->db in o->dir: the pages changed since its nightly (or
 * the hour's point), read in one read transaction, never copied whole,
 * archived as backup-<time>.delta<ext> and proven (makepoint.c).
 * Returns 0 with res, or -1 with res->why and nothing left.
 */
int		 vb_point(const struct vb_point_opts *o,
		    struct vb_compress_result *res);
/* The compress record's message of a point. */
void		 vb_point_message(const struct vb_point_opts *o,
		    const struct vb_compress_result *res, int rc, char *buf,
		    size_t len);

/* ---- restore.c: a backup verified, then put back ---- */

/* What a restore did, or why not. */
struct vb_restore_result {
	char		 target[4096];
	char		 message[2048];	/* the record's, when it worked */
	char		 why[2048];	/* why not */
	char		 note[2048];	/* for the operator */
	char		 saved[4096];	/* the pre-restore copy */
	char		 saved_sha256[VB_SHA256_HEX];	/* its bytes' */
	char		 unlogged[1024]; /* why its row is missing */
	int64_t		 bytes, archive_bytes;
	char		 sha256[VB_SHA256_HEX];	/* the database's */
	char		 archive_sha256[VB_SHA256_HEX];
	int		 carried;	/* BackupLog rows carried over */
	int		 links;		/* archives read: 1, or a chain's */
	int		 unverified;	/* it failed the backup's checks */
	int		 noroom;	/* no room where it was restored */
};

/*
 * The backup how->archive (a path, or a name on remote)
 * restored as vb-restore --to restores it into copy, a file in the work
 * directory work (where a remote's links are fetched), with no restore
 * row in it.  From how: the identity, what vouches for the archive
 * (verify_with, logdb), fetch (the remote's copy even when a local one
 * verifies) and manifest (filled, if set).  Returns vb_restore's status.
 */
int		 vb_restore_work(const struct vb_restore_opts *how,
		    const char *remote, const char *work, const char *copy,
		    struct vb_restore_result *res);
/*
 * A backup taken of another database (its manifest names
 * another source path or host, or none) does not go into db unless
 * forced.  Returns 0, or -1 with both names in why.
 */
int		 vb_same_database(const char *db, const struct vb_manifest *m,
		    char *why, size_t wlen);
/* Whether a file's name says age encrypted it (.age). */
int		 vb_age_named(const char *name);
/*
 * The pre-restore safety archive of db, in dir, by the
 * nightly's own snapshot and compress code.  Returns 0 with its path in
 * saved and its SHA-256 in sha (notes added to note), or -1 (why) with
 * nothing left.
 */
int		 vb_pre_restore(const char *db, const char *dir, char *saved,
		    size_t slen, char sha[VB_SHA256_HEX], char *note,
		    size_t nlen, char *why, size_t wlen);

/* A verified copy of a backup's database, in a temporary. */
struct vb_verified {
	struct vb_tmp		 t;
	char			 path[4096];	/* of the temporary */
	struct vb_manifest	 m;		/* empty for a raw snapshot */
	struct vb_archive_info	 info;		/* the archive's own bytes */
	int64_t			 dbbytes;
	char			 dbsha[VB_SHA256_HEX];
	enum vb_check		 check;		/* the check it passed */
	int			 links;		/* a delta: archives read */
	char			 note[1024];	/* links taken from the remote
						   as the local ones failed */
};

/*
 * Extracts the backup archive (or raw .db snapshot) into a temporary in
 * dir named for final, checking everything (the name is as's, when
 * archive is a temporary that stands for it; an encrypted one decrypted
 * with identity, refused without): the name, exactly MANIFEST
 * and <stem>.db, size and SHA-256 against the manifest, then SQLite's
 * check how (VB_CHECK_OPEN: the bytes are the checked snapshot's, so
 * SQLite need only read it; a raw .db, whose bytes nothing proves, gets
 * quick_check at least) and the page size.  Returns 0 with c filled and
 * the temporary open (vb_tmp_abort(&c->t) to drop it), or -1 with why
 * and nothing left behind.
 */
int		 vb_verify_backup(const char *archive, const char *as,
		    const char *identity, const char *remote,
		    const char *dir, const char *final,
		    enum vb_check how, struct vb_verified *c, char *why,
		    size_t wlen);

/* Verifies, then restores; 0, or -1 with res->why and nothing changed. */
int		 vb_restore(const struct vb_restore_opts *o,
		    struct vb_restore_result *res);
/* The same of a name on remote, the copy in dir first. */
int		 vb_restore_offsite(const struct vb_restore_opts *o,
		    const char *remote, const char *dir,
		    struct vb_restore_result *res);
/* The command that puts the copy saved back over db, into buf. */
void		 vb_restore_undo(const char *saved, const char *identity,
		    const char *db, char *buf, size_t len);

/* ---- drill.c (the rest in vb.h) ---- */

/* Where each backup drilled is told (a verify record). */
struct vb_drill_out {
	void	 *arg;
	int	(*done)(void *arg, const char *path, int ok, int64_t bytes,
		    const char *sha, int64_t t0, const char *msg);
};

/*
 * Restores and proves the backups o names (else the newest and one
 * older picked at random; VB_DRILL_SEED=N picks the Nth after the
 * newest), each told to out.  Returns 0 all proven, 1 one was not, -1
 * nothing to drill (why).
 */
int		 vb_drill(const struct vb_drill_opts *o,
		    const struct vb_drill_out *out, char *why, size_t wlen);

/* ---- diff.c (the rest in vb.h) ---- */

/*
 * Verifies and restores the backup into a work directory in dir and
 * compares it with the live database, table by table, on stdout (a
 * table on a terminal, TAB-separated fields when piped, or JSON); with
 * table, the SQL that makes the live table equal the backup's.  Changes
 * nothing.  Returns 0, or -1 with why.
 */
int		 vb_diff(const struct vb_diff_opts *o, char *why, size_t wlen);

/* ---- partial.c (the rest in vb.h) ---- */

/* What a partial restore or an undo did, or why not. */
struct vb_partial_result {
	char		 message[4096];	/* the tables and their counts */
	char		 why[2048];	/* why not (nothing changed) */
	char		 note[2048];
	char		 saved[4096];	/* the pre-restore copy */
	char		 undo[4096];	/* the undo file written */
	int64_t		 put_back, deleted, reset, violations;
	struct vb_record record;	/* the restore record: its BackupLog
					   row committed with the change */
};

/*
 * Puts o's tables (or the rows matching each one's where) back from the
 * verified backup into the live database, in one transaction, after a
 * pre-restore copy, writing the undo file (neither with dry).  Returns
 * 0, or -1 with res->why and nothing changed.
 */
int		 vb_partial(const struct vb_partial_opts *o,
		    struct vb_partial_result *res);

/* ---- undo.c (the rest in vb.h) ---- */

/*
 * Reverses the changes o->file recorded, where rows are still as that
 * restore left them; any other row is a conflict that refuses the whole
 * (unless o->force: left as it is).  A change like vb_partial's, with
 * its own undo file.  Returns 0, or -1 with res->why and nothing changed.
 */
int		 vb_undo(const struct vb_undo_opts *o,
		    struct vb_partial_result *res);

/* ---- scan.c: the backups in a directory ---- */

#define VB_MAXFILES	8	/* files of one stem: .db and archives */

struct vb_backup {
	struct timespec	 when;		/* from the name */
	char		 stem[64];
	enum vb_kind	 kind;
	int		 nfiles;
	struct {
		int64_t		 bytes;	/* -1 until vb_scan_sizes */
		enum vb_ext	 ext;
		int		 encrypted;	/* .age */
		int		 delta;		/* .delta: incremental */
		char		 name[96];
	}		 files[VB_MAXFILES];
	int		 delta;		/* an incremental backup */
	char		 parent[64];	/* its parent, where known */
	int		 point;		/* a point (its index says so) */
	int		 indexed;	/* it has a page index here */
	enum vb_keep {
		VB_DROP = 0,		/* no rule keeps it */
		VB_KEEP_POLICY,		/* a rule of the policy */
		VB_KEEP_PARENT,		/* a kept delta's parent */
		VB_KEEP_UNSAFE,		/* the listing cannot be trusted */
		VB_KEEP_HELD		/* held until released */
	}		 keep;		/* set by vb_retention */
	int		 needed_by;	/* VB_KEEP_PARENT: the delta (index) */
	int		 held;		/* held (hold.c): VB_KEEP_HELD */
	int		 unrecorded;	/* on a remote, a name BackupLog
					   never named: counted by no
					   rule, holding no parent */
	/* Set by vb_health: */
	int		 damaged;	/* its archive is known damaged */
	char		 damaged_file[96];	/* which */
	int		 checked;	/* its SHA-256 compared (hash) */
	int		 unsafe;	/* not restorable from here: damaged,
					   its last drill failed, or a
					   delta on an unsafe link */
	int		 drill_failed;	/* its last restore drill failed */
	char		 why[256];	/* unsafe: why */
};

/* One file of a listing (a directory's, a remote's). */
struct vb_listed {
	char		 name[96];
	int64_t		 bytes;		/* -1 when not known */
};

/* The size of name in a listing of n files, or -1 if it is not there. */
int64_t		 vb_listed_size(const struct vb_listed *f, size_t n,
		    const char *name);
/* Appends name (bytes) to *f (n used, cap allocated); 0, or -1 (ENOMEM). */
int		 vb_listed_add(struct vb_listed **f, size_t *n, size_t *cap,
		    const char *name, int64_t bytes);
/*
 * Groups the files of a listing whose names vb makes by stem, newest
 * first; other names are left out.  Returns 0 with *out to free, or -1
 * (why).
 */
int		 vb_group(const struct vb_listed *files, size_t n,
		    struct vb_backup **out, size_t *nout, char *why,
		    size_t wlen);
/*
 * Lists the backups in dir: regular files with names vb makes, grouped
 * by stem, newest first.  Returns 0 with *out to free, or -1 (why) if the
 * directory could not be read whole.
 */
int		 vb_scan(const char *dir, struct vb_backup **out, size_t *n,
		    char *why, size_t wlen);
/* Fills in the files' sizes; returns 0, or -1 if one could not be read. */
int		 vb_scan_sizes(const char *dir, struct vb_backup *list,
		    size_t n);
/*
 * The snapshots set aside in dir by failed checks (<snapshot>.failed-check,
 * or .failed-check.age): 0 with *out to free, or -1.
 */
int		 vb_scan_asides(const char *dir, struct vb_listed **out,
		    size_t *n);
/*
 * Finds an archive of backup stem in dir (any compression, full or
 * delta, encrypted or not): 0 with its name and path, or -1.
 */
int		 vb_find_archive(const char *dir, const char *stem, char *name,
		    size_t nlen, char *path, size_t plen);
/*
 * The parent of delta i of list (newest first): the backup its index
 * names (list[i].parent) if listed; with no name, the next older backup,
 * which is what vb-compress makes a delta of.  Its index, or -1.
 */
ssize_t		 vb_parent_of(const struct vb_backup *list, size_t n,
		    size_t i);

/* ---- plaintext.c: the raw snapshots a run may leave ---- */

/*
 * The raw snapshots in dir (regular files, vb's names) that have no
 * archive of their own, or with all every one, by name: 0 with *out to
 * free, or -1 (why) if dir could not be read whole.
 */
int		 vb_raw_list(const char *dir, int all, struct vb_listed **out,
		    size_t *n, char *why, size_t wlen);
/*
 * Removes the raw snapshot name from dir: only a regular file under a
 * raw snapshot's name, never through a link; the directory synced.
 * Returns 0, or -1 (why) with the file left.
 */
int		 vb_raw_remove(const char *dir, const char *name, char *why,
		    size_t wlen);

/* ---- point.c: the point planner (the rest in vb.h) ---- */

/* Whether b has an archive (not only a raw .db snapshot). */
int		 vb_has_archive(const struct vb_backup *b);
/* b's archive's file name, else its raw snapshot's. */
const char	*vb_backup_file(const struct vb_backup *b);

/* What a point made at a time leans on. */
struct vb_point_plan {
	char	 parent[64];	/* the nightly, or the hour's point */
	char	 nightly[64];	/* the nightly either way */
	int	 hourly;	/* it leans on the nightly: the hour's point */
	char	 why[512];	/* why no point can be made */
};

/*
 * The parent of a point made at when, from list (a directory's, newest
 * first, kinds and parents from its indexes, its health known): the
 * hour's point (the newest point of when's UTC hour leaning on the
 * newest nightly) if there is one, else that nightly.  Returns 0, or -1
 * with p->why (no nightly with an archive and a page index, one that
 * cannot be restored, a backup not older than when).
 */
int		 vb_point_parent(const struct vb_backup *list, size_t n,
		    const struct timespec *when, struct vb_point_plan *p);

/* What the choice of the run depends on, besides the listing. */
struct vb_due {
	int64_t		 interval_ms;	/* BACKUP_INTERVAL */
	int		 nightly_at;	/* NIGHTLY_AT, minutes, local time */
	time_t		 asked;		/* a point asked for the nightly at
					   this time (0: never) */
};

/*
 * The run due at now, from list (as vb_point_parent's): the nightly when
 * there is none since the last NIGHTLY_AT, when points could not lean on
 * the newest (no archive, no index, not restorable), or when a point
 * asked for it since; else a point.  why says which.
 */
enum vb_run	 vb_point_due(const struct vb_backup *list, size_t n,
		    time_t now, const struct vb_due *d, char *why,
		    size_t wlen);
/* A point asks for the nightly (too much changed); 0, or -1 (why). */
int		 vb_nightly_ask(const char *dir, const struct timespec *when,
		    char *why, size_t wlen);
/*
 * The schedule of a job run every interval_ms through nightly_at
 * (minutes, local time): the cron line's five fields into cron, and
 * systemd's OnCalendar into cal.  Returns 0, or -1 with why (an
 * interval cron cannot keep).
 */
int		 vb_schedule(int64_t interval_ms, int nightly_at, char *cron,
		    size_t clen, char *cal, size_t calen, char *why,
		    size_t wlen);
/* The newest backup of list at or before at: its index, or -1. */
ssize_t		 vb_point_at(const struct vb_backup *list, size_t n,
		    const struct timespec *at);

/*
 * Which run of vb-backup is due now in dir: the first at or after
 * NIGHTLY_AT each day (or while points have no nightly to lean on, or
 * one asked for it) is the nightly, every other a point; with
 * BACKUP_INTERVAL a day or more, always the nightly.  Returns it (note
 * says why), or -1 with why.
 */
int		 vb_run_due(const char *dir, char *note, size_t nlen,
		    char *why, size_t wlen);
/*
 * The backup a time names (--at): the newest at or before it, in dir or
 * on remote; its file name into name.  0, or -1 with why.
 */
int		 vb_backup_at(const char *dir, const char *remote,
		    const char *when, char *name, size_t nlen, char *why,
		    size_t wlen);

/* ---- retention.c: which backups a policy keeps ---- */

/* t plus (sign 1) or minus (sign -1) d, in UTC calendar terms. */
time_t		 vb_duration_add(time_t t, const struct vb_duration *d,
		    int sign);
/*
 * Marks which backups the policy keeps (rules combine: kept if any rule
 * keeps it, as in restic), always the newest backup; pre-restore copies
 * by their own count; and every backup a kept delta needs (its parent
 * where known, else the backup before it), so chains stay whole.  Unsafe
 * backups (vb_health) count for no rule and are all kept.
 */
void		 vb_retention(struct vb_backup *list, size_t n,
		    const struct vb_policy *p);

/* ---- prune.c: a retention policy applied to a directory ---- */

/* What a prune tells its caller, who says it. */
struct vb_prune_out {
	/* A file deleted (or, dry, that would be), or not: why. */
	int		(*file)(void *arg, const char *path, int ok,
			    int64_t bytes, const char *msg);
	/* For the operator: what is kept and why, a chain's fate. */
	void		(*note)(void *arg, const char *text);
	void		*arg;
};

/*
 * Applies policy p to dir, or to remote (its listing; dir, if set, the
 * local directory whose page indexes and health it takes), deleting
 * what no rule keeps (nothing when dry), each file told to out.
 * Returns 0, 1 if a file could not be deleted, or -1 with why when the
 * listing cannot be trusted and nothing was deleted.
 */
int		 vb_prune_apply(const char *dir, const char *remote,
		    const struct vb_policy *p, int dry,
		    const struct vb_prune_out *out, char *why, size_t wlen);

/* ---- child.c: the programs vb drives, without a shell ---- */

/* Where a child's standard output goes. */
struct vb_sink {
	char			*buf;	/* kept here (NUL-terminated, cap), */
	size_t			 cap, len;
	int			 fd;	/* or written to fd, if >= 0, */
	struct vb_sha256	*h;	/* and hashed, if set */
	int64_t			 bytes;
	int64_t			 limit;	/* more than this: EFBIG (0: none) */
	int			 err;	/* errno of a failed write; EOVERFLOW */
};

struct vb_child {
	int		 pid;
	int		 errfd;		/* its stderr, read for the reason */
	int		 killed;	/* stopped at its deadline */
	int		 signal;	/* the signal that ended it, or 0 */
	const char	*what;		/* argv[0] */
	char		 line[1024];	/* a stderr line being read */
	size_t		 llen;
	char		 last[512];	/* the last line telling why */
};

/*
 * Starts argv (argv[0] looked up on PATH, no shell) with stdin from infd
 * and stdout to outfd (-1: /dev/null), stderr read by vb_child_wait.
 * Returns 0, or -1 with why.
 */
int		 vb_child_start(struct vb_child *c, const char *const *argv,
		    int infd, int outfd, char *why, size_t wlen);
/*
 * Waits for the child.  Returns 0 if it exited 0; else -1 with why ("age
 * failed (exit 1): <its last line>") and *status its exit status (-1 for
 * a signal, -2 when it was stopped at its deadline).
 */
int		 vb_child_wait(struct vb_child *c, int *status, char *why,
		    size_t wlen);
/*
 * Runs argv to its end: stdin from infd (-1: /dev/null), stdout into out
 * (NULL: discarded), stopped after timeout_s seconds (0: never).  Returns
 * as vb_child_wait, and -1 if out could not take the output.
 */
int		 vb_child_run(const char *const *argv, int infd,
		    struct vb_sink *out, int64_t timeout_s, int *status,
		    char *why, size_t wlen);

/* ---- setup.c: the set-up judged (the rest in vb.h) ---- */

/*
 * The cron file read as data into c (64 KiB at most, never through a
 * link): the first entry naming vb-backup, its five time fields, user
 * and the VB_CONF cron gives it (a VB_CONF= word in it, else the last
 * VB_CONF line above it).  A file that is absent or this user may not
 * read is VB_CRON_NONE.  Returns 0, or -1 (VB_CRON_UNREADABLE, c->why).
 */
int		 vb_cron_read(const char *file, struct vb_cron *c);
/* Whether proc (/proc) shows root's cron or crond alive: 1, 0, or -1. */
int		 vb_cron_daemon_runs(const char *proc);
/*
 * path as readlink -m makes it (links resolved as far as it exists, the
 * rest as written) into out; 0, or -1 when it does not fit.
 */
int		 vb_path_canon(const char *path, char *out, size_t olen);

/* ---- sign.c: SSH signatures, namespace vb (ssh-keygen -Y) ---- */

#define VB_SIG_NAMESPACE	"vb"

/* Whether sig (n bytes) looks like an armored SSH signature; 0, or -1. */
int		 vb_sig_shape(const char *sig, size_t n, char *why,
		    size_t wlen);
/*
 * The public key line of the Ed25519 private key file key (SIGN_WITH),
 * which must read without a passphrase.  Returns 0, or -1 with why.
 */
int		 vb_key_public(const char *key, char *pub, size_t plen,
		    char *why, size_t wlen);
/* Checks an Ed25519 public key file (VERIFY_WITH); its line into line. */
int		 vb_key_check_public(const char *file, char *line,
		    size_t llen, char *why, size_t wlen);
/* Signs n bytes of text with key into sig (armored, NUL-terminated). */
int		 vb_sign(const char *key, const char *text, size_t n,
		    char *sig, size_t slen, char *why, size_t wlen);
/* Whether sig is pubfile's key's signature of text; 0, or -1 (why). */
int		 vb_sig_verify(const char *pubfile, const char *text,
		    size_t n, const char *sig, size_t siglen, char *why,
		    size_t wlen);

/* ---- catalog.c: the signed list of the backups (SIGN_WITH) ---- */

#define VB_CATALOG		"vb-catalog"
#define VB_CATALOG_SIG		"vb-catalog.sig"
#define VB_CATALOG_SEEN		".vb-catalog-seen"

struct vb_catalog_entry {
	char		 name[128];		/* the archive's file name */
	char		 sha256[VB_SHA256_HEX];	/* of its bytes */
	int64_t		 bytes;
	char		 when[VB_ISO_LEN];	/* the time it stands for */
};

struct vb_catalog {
	int64_t			 seq;		/* only grows */
	char			 written[VB_ISO_LEN];
	char			 host[256];
	struct vb_catalog_entry	*e;		/* sorted by name, each once */
	size_t			 n, cap;
};

/* Parses a catalog's text strictly; 0, or -1 with why. */
int		 vb_catalog_parse(const char *text, size_t len,
		    struct vb_catalog *c, char *why, size_t wlen);
/* Its text, allocated into *text (to free); the length, or -1. */
ssize_t		 vb_catalog_format(const struct vb_catalog *c, char **text);
/*
 * Reads the catalog at path, its signature at sigpath checked against
 * the public key file pub first (pub NULL: not checked).  0, or -1 (why).
 */
int		 vb_catalog_load(const char *path, const char *sigpath,
		    const char *pub, struct vb_catalog *c, char *why,
		    size_t wlen);
/*
 * Fetches remote's catalog and its signature into temporaries in dir (c
 * and s, their paths in cpath and spath, plen each), to load, then drop
 * with vb_tmp_abort.  Returns 0, or -1 with why and nothing left.
 */
int		 vb_catalog_fetch(const char *remote, const char *dir,
		    struct vb_tmp *c, struct vb_tmp *s, char *cpath,
		    char *spath, size_t plen, char *why, size_t wlen);
/* The entry for the archive name, or NULL. */
const struct vb_catalog_entry *vb_catalog_find(const struct vb_catalog *c,
		    const char *name);
/*
 * Refuses seq if it is older than the newest this host has seen or
 * signed (dir's .vb-catalog-seen), which it then raises.  0, or -1 (why).
 */
int		 vb_catalog_seen(const char *dir, int64_t seq, char *why,
		    size_t wlen);
/* The newest sequence dir's host has seen or signed; 0 if none. */
int64_t		 vb_catalog_seen_floor(const char *dir);
/*
 * Writes dir's catalog anew, signed with key: the union of the last one
 * (and OFFSITE's, merged) and dir's signed archives whose SHA-256 it or
 * logdb's BackupLog knows, less what policy p drops (NULL: nothing);
 * what it left out said in note.  Returns 0 with c (to free), or -1.
 */
int		 vb_catalog_write(const char *dir, const char *key,
		    const char *logdb, const struct vb_policy *p,
		    struct vb_catalog *c, char *note, size_t nlen, char *why,
		    size_t wlen);
void		 vb_catalog_free(struct vb_catalog *c);

/* ---- age.c: archives encrypted to age recipients ---- */

/*
 * Checks a recipients file (age1... keys or SSH public keys, one a line,
 * # comments).  Returns how many it holds (1 or more), or -1 with why.
 */
int		 vb_age_recipients(const char *file, char *why, size_t wlen);
/*
 * Encrypts infd (inbytes, read from its start) to the recipients in file
 * into outfd, and checks what age wrote: its format and its exact size.
 * Returns 0 with the output's SHA-256 and size, or -1 with why.
 */
int		 vb_age_encrypt(const char *recipients, int infd,
		    int64_t inbytes, int outfd, char hex[VB_SHA256_HEX],
		    int64_t *bytes, char *why, size_t wlen);
/*
 * Starts age decrypting infd with the identity file.  Returns a
 * descriptor to read the plaintext from (the caller closes it, then
 * vb_child_wait(c) says whether age succeeded), or -1 with why.
 */
int		 vb_age_decrypt_start(const char *identity, int infd,
		    struct vb_child *c, char *why, size_t wlen);
/* Decrypts infd into outfd (age started as c: vb_child_wait says how it
 * ended).  0, or -1 with why. */
int		 vb_age_decrypt_to(const char *identity, int infd, int outfd,
		    struct vb_child *c, char *why, size_t wlen);

/* ---- remote.c: the offsite remote, through rclone ---- */

/* One archive copied to the remote. */
struct vb_sent {
	char		 dest[4096];
	int64_t		 bytes;
	char		 sha256[VB_SHA256_HEX];
	char		 how[64];	/* by the remote, or read back */
	char		 why[1800];	/* why not */
};

/* path copied to remote, verified there; 0, or -1 with c->why. */
int		 vb_remote_send(const char *path, const char *sha,
		    const char *remote, struct vb_sent *c);
/* Each archive of dir remote lacks, to send; 0, 1, or -1 with why. */
int		 vb_catch_up(const char *remote, const char *dir,
		    int (*send)(void *arg, const char *path), void *arg,
		    char *note, size_t nlen, char *why, size_t wlen);
/* Joins an rclone path (remote:dir, remote:, /dir) and a name. */
int		 vb_remote_join(char *buf, size_t len, const char *remote,
		    const char *name);
/*
 * Lists the files directly in remote (a directory not made yet is an
 * empty one).  Returns 0 with *out to free, or -1 with why.
 */
int		 vb_remote_ls(const char *remote, struct vb_listed **out,
		    size_t *n, char *why, size_t wlen);
/* The backups on remote, grouped as vb_scan does; 0, or -1 (why). */
int		 vb_remote_list(const char *remote, struct vb_backup **list,
		    size_t *n, char *why, size_t wlen);
/*
 * Copies the local file to remote/name: uploaded under a .vb-tmp- name,
 * its SHA-256 there compared with sha, then moved into place; a copy
 * that differs is removed.  how says how the copy was checked.  Returns
 * 0, or -1 with why and nothing left on the remote.
 */
int		 vb_remote_put(const char *local, const char *remote,
		    const char *name, const char *sha, char *how, size_t hlen,
		    char *why, size_t wlen);
/*
 * Fetches remote/name into a new temporary t in dir (its path in path,
 * the SHA-256 of what came into hex), for the caller to verify, then
 * commit or abort; never more than limit bytes (0: its size in the
 * remote's listing).  Returns 0, or -1 with why and nothing left.
 */
int		 vb_remote_fetch(const char *remote, const char *name,
		    const char *dir, int64_t limit, struct vb_tmp *t,
		    char *path, size_t plen, char hex[VB_SHA256_HEX],
		    char *why, size_t wlen);
/* Deletes remote/name; returns 0, or -1 with why. */
int		 vb_remote_delete(const char *remote, const char *name,
		    char *why, size_t wlen);

/* ---- backuplog.c: BackupLog in the application's database ---- */

/* createdAt operation status filename sizeBytes sha256 durationMs message */
#define VB_LOG_NCOLS	8

/*
 * How a table keeps a time: ISO 8601 text as vb writes it, another text
 * shape (the date and time parted by sep, frac digits of a second, then
 * suffix: "2026-11-27 01:00:03.412 +00:00"), or Unix seconds or
 * milliseconds as integers.
 */
struct vb_time_repr {
	enum { VB_TIME_TEXT, VB_TIME_S, VB_TIME_MS } kind;
	char		 sep;		/* 'T' or ' ' */
	int		 frac;		/* 0 or 3 */
	char		 suffix[16];	/* "Z", " +00:00", "" */
};

/* A NOT NULL column vb has no value of its own for. */
struct vb_log_extra {
	char		 name[64];
	int		 time;		/* a time: the row's, in repr */
	int		 numeric;	/* else 0 if numeric, else '' */
	struct vb_time_repr repr;
};

#define VB_LOG_MAXEXTRA	8

/* How a BackupLog table stores what vb logs. */
struct vb_log_map {
	const char	*have[VB_LOG_NCOLS];	/* the table's name for each of
						   vb's columns, or NULL */
	int		 notnull[VB_LOG_NCOLS];	/* NOT NULL there: never NULL */
	int		 numeric[VB_LOG_NCOLS];	/* of numeric affinity */
	char		 ok[32];		/* its word for success */
	char		 failed[32];		/* and for failure */
	struct vb_time_repr created;		/* how createdAt is kept */
	int		 nextra;
	struct vb_log_extra extra[VB_LOG_MAXEXTRA];
};

struct vb_backuplog {
	const char	*path;		/* as the caller named it */
	sqlite3		*db;
	sqlite3_stmt	*ins;
	struct vb_log_map map;
};

/*
 * Reads how BackupLog stores vb's columns (by name, case and synonyms:
 * size for sizeBytes, created_at for createdAt, ...) and its words for
 * success and failure (from a CHECK constraint on status, else its rows,
 * else success/failure).  Returns 0, or -1 if there is no BackupLog.
 */
int		 vb_backuplog_map(sqlite3 *db, struct vb_log_map *m);
/* Returns 1 if a status word means success (SUCCESS, ok, done, ...). */
int		 vb_log_status_ok(const char *status);
/*
 * Opens path for writing (never creating the file), creating BackupLog if
 * absent, with vb's busy handler.  Returns it, or NULL with why.
 */
struct vb_backuplog *vb_backuplog_open(const char *path, char *why,
		    size_t wlen);
void		 vb_backuplog_close(struct vb_backuplog *l);
/*
 * Writes the n records r in one short transaction.  Returns 0, or -1 with
 * why ("" when the table could not be opened: vb_backuplog_open said so).
 */
int		 vb_backuplog_write(struct vb_backuplog *l,
		    const struct vb_record *r, size_t n, char *why,
		    size_t wlen);
/* Opens, writes r, closes; returns 0, or -1 (why). */
int		 vb_backuplog_append(const char *path,
		    const struct vb_record *r, char *why, size_t wlen);
/*
 * Inserts r's row into BackupLog through db, the open connection of the
 * database at path, inside the caller's transaction (BackupLog made if
 * absent).  Returns 0, or -1 with why.
 */
int		 vb_backuplog_insert_on(sqlite3 *db, const char *path,
		    const struct vb_record *r, char *why, size_t wlen);

/* A row of BackupLog read back as a record (and its own words). */
struct vb_log_row {
	struct vb_record r;
	char		 when[64];	/* createdAt as stored */
	char		 status[32];	/* status as stored */
	char		 file[4096];
	char		 sha[128];
	char		 msg[4096];
};

/*
 * Prepares the SELECT of q over the columns BackupLog has, newest first,
 * and fills m; vb_backuplog_row reads its rows.  Returns 0 with *st, or
 * -1 with why.
 */
int		 vb_backuplog_query(sqlite3 *db, const char *path,
		    const struct vb_log_query *q, struct vb_log_map *m,
		    sqlite3_stmt **st, char *why, size_t wlen);
/*
 * Calls each(arg, row) for every ok row of the BackupLog in the database
 * at path, newest first, until it returns non-zero.  Returns 0, or -1
 * with why if the history cannot be read.
 */
int		 vb_backuplog_each_ok(const char *path,
		    int (*each)(void *, struct vb_log_row *), void *arg,
		    char *why, size_t wlen);
/* The same for every row, failures too. */
int		 vb_backuplog_each(const char *path,
		    int (*each)(void *, struct vb_log_row *), void *arg,
		    char *why, size_t wlen);
/* Reads the current row of such a statement into row, as vb logged it. */
void		 vb_backuplog_row(sqlite3_stmt *st, const struct vb_log_map *m,
		    struct vb_log_row *row);

/* What BackupLog says of an undo file (by its file name). */
struct vb_log_undo {
	int		 recorded;		/* a restore wrote it */
	char		 at[VB_ISO_LEN];	/* when */
	char		 sha256[VB_SHA256_HEX];	/* its bytes, as written */
	int		 undone;		/* an undo of it committed */
	char		 undone_at[VB_ISO_LEN];
};
/* Reads it from the BackupLog of the database at path: 0, or -1 (why). */
int		 vb_backuplog_undo(const char *path, const char *name,
		    struct vb_log_undo *u, char *why, size_t wlen);

/* BackupLog rows held across a restore. */
struct vb_log_held {
	int64_t		 rows;		/* how many */
	char		 sql[4096];	/* the live table's CREATE TABLE */
};

/*
 * Before a restore over the live database db (a connection with
 * temp_store=MEMORY): holds, in a temporary table, the BackupLog rows it
 * gained after the backup at copy was taken (those past the backup's last
 * row).  Returns 0 (h->rows may be 0), or -1 with why.
 */
int		 vb_backuplog_hold(sqlite3 *db, const char *copy,
		    struct vb_log_held *h, char *why, size_t wlen);
/*
 * After it: puts the held rows back into the restored BackupLog (made as
 * it was, if the backup had none).  Returns how many, or -1 with why.
 */
int		 vb_backuplog_put_back(sqlite3 *db, const struct vb_log_held *h,
		    char *why, size_t wlen);

/* The SHA-256 BackupLog recorded when an archive was made or sent. */
struct vb_log_seal {
	char		 name[96];		/* the archive's file name */
	int		 is_signed;	/* its compress row: signed=yes */
	char		 sha256[VB_SHA256_HEX];
	int64_t		 bytes;		/* its size as sealed, or -1 */
	char		 when[VB_ISO_LEN];
	char		 op[16];		/* compress, offsite, restore */
};

/* The backups a BackupLog names (any ok row), SHA-256s where sealed. */
struct vb_log_known {
	struct vb_log_seal *e;
	size_t		 n, cap;
	int		 any;		/* it names at least one backup */
};

/*
 * The newest successful compress or offsite row of the archive named name
 * (its file name) in the BackupLog of the database at path: 1 with seal,
 * 0 when there is none, -1 (why) when the history cannot be read.
 */
int		 vb_backuplog_sealed(const char *path, const char *name,
		    struct vb_log_seal *seal, char *why, size_t wlen);
/* Reads them from the database at path: 0, or -1 (why). */
int		 vb_backuplog_known(const char *path, struct vb_log_known *k,
		    char *why, size_t wlen);
/* name's entry (sha256 "" when never sealed), or NULL if never named. */
const struct vb_log_seal *vb_log_known_find(const struct vb_log_known *k,
		    const char *name);
void		 vb_log_known_free(struct vb_log_known *k);

/* ---- cli.c: verdicts collected (the rest in vb.h) ---- */

/* Adds one; its text as printf makes it (out of memory: vs->lost). */
void		 vb_verdict_add(struct vb_verdicts *vs, enum vb_verdict v,
		    const char *what, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));
void		 vb_verdicts_free(struct vb_verdicts *vs);

/* ---- json.c: --json output ---- */

/* Writes str as a JSON string (null for NULL), always valid JSON. */
void		 vb_json_string(FILE *fp, const char *str);

/* ---- runs.c: what is due tonight (the rest in vb.h) ---- */

/* What is due tonight, from h and c. */
void		 vb_runs_due(const struct vb_runs *h,
		    const struct vb_runs_conf *c, struct vb_tonight *d);

/* ---- plan.c: vb-backup --dry-run's rows (the rest in vb.h) ---- */

/* One row: "LABEL:" padded to 14 columns, a space, the text cleaned
 * (vb_put_clean); 0, or -1 if fp failed. */
int		 vb_plan_row(FILE *fp, const char *label, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/* The drill row of d: every, DRILL_EVERY; cmd, the command a due drill
 * would run (vb-backup's). */
int		 vb_plan_drill(FILE *fp, const struct vb_tonight *d,
		    const char *every, const char *cmd);
/* A row of what retention would delete: path and bytes (< 0: not
 * known); path NULL: "nothing". */
int		 vb_plan_deletes(FILE *fp, const char *path, int64_t bytes);

/* ---- jobfinish.c: a run's end, in its steps (vb_finish in vb.h) ---- */

/* The archive, sizes, durations and first failures of fp's records. */
void		 vb_finish_records(struct vb_finish *f, FILE *fp);
/*
 * The pipeline's failures added after the script's failures of the
 * stages before it (config ... leftovers) and before the others: a stage
 * that exited 1 with its first failed record's message, one that died
 * (also into died) with how; a stage killed by SIGPIPE after the one
 * whose death killed it.
 */
void		 vb_finish_derive(struct vb_finish *f);
/*
 * The hold (hold.c) that tonight's archive made in f->dir, when a table
 * lost over half its rows: into f->warning, "REASON; retention keeps
 * STEM until vb-prune --release STEM".
 */
void		 vb_finish_hold(struct vb_finish *f);
/*
 * The drill's records (vb-restore --drill's) read from fp (NULL: none),
 * each given to row (its BackupLog row; nonzero: refused), the ok ones
 * counted into f->drilled.  A drill that failed (--stage drill=S, S > 0)
 * fails the run with its first failed record's path and message (the
 * message alone for a path of -), else "vb-restore --drill exited S"; a
 * row refused fails it at log.  Both after the failures given but the
 * scrub.
 */
void		 vb_finish_drill(struct vb_finish *f, FILE *fp,
		    int (*row)(void *, const struct vb_record *), void *arg);
/* The exit status, the backup row's status and message, the summary. */
void		 vb_finish_compose(struct vb_finish *f);
/* The backup row was refused: the run fails (if it had not), and says so. */
void		 vb_finish_refused(struct vb_finish *f);

/* ---- metrics.c: METRICS_FILE, written safely ---- */

/*
 * text as the file path, replacing it atomically: a fresh temporary
 * beside it (O_EXCL, O_NOFOLLOW, a name nobody predicts, mode 0644 set
 * on the descriptor), synced and renamed over it; never through a link,
 * never in a directory anyone may write without the sticky bit.
 * Returns 0, or -1 with why.
 */
int		 vb_metrics_put(const char *path, const char *text, char *why,
		    size_t wlen);

/* ---- listing.c: lists on stdout: table, records or JSON ---- */

enum vb_list_form {
	VB_LIST_RECORDS,	/* stdout is not a terminal */
	VB_LIST_TABLE,		/* stdout is a terminal */
	VB_LIST_JSON,		/* --json */
	VB_LIST_FIELDS		/* --fields: TAB-separated, for the shell */
};

struct vb_list {
	enum vb_list_form	 form;
	int			 objects;	/* JSON objects so far */
	int			 fields;	/* in the current one */
};

/* The form: JSON if json, else a table on a terminal, else records. */
enum vb_list_form vb_list_form(int json);
/* Chooses the form (vb_list_form); opens a JSON array. */
void		 vb_list_begin(struct vb_list *l, int json);
/* The same in a form chosen before (stdout since redirected). */
void		 vb_list_begin_form(struct vb_list *l, enum vb_list_form form);
/* JSON: starts the next object. */
void		 vb_list_object(struct vb_list *l);
/* JSON: one field of the current object (a string, NULL as null). */
void		 vb_list_str(struct vb_list *l, const char *key,
		    const char *v);
/* JSON: an integer field, null unless known. */
void		 vb_list_int(struct vb_list *l, const char *key, int64_t v,
		    int known);
/* JSON: a field holding true, false or null. */
void		 vb_list_lit(struct vb_list *l, const char *key,
		    const char *literal);
/* Closes the JSON array; returns 0, or -1 if stdout has failed. */
int		 vb_list_end(struct vb_list *l);

/* ---- jobcompress.c: vb-compress's jobs (the rest in vb.h) ---- */

/*
 * vb_compress_file, its record on stdout (and a failed verify record
 * per damaged link), notes on stderr unless quiet; 0, or 1 if it failed.
 */
int		 vb_compress_emit(const char *path,
		    const struct vb_snapmeta *meta,
		    const struct vb_compress_opts *o, int quiet);
/* vb_encrypt_in_place, its compress record on stdout; 0, or 1. */
int		 vb_encrypt_emit(const char *path, const char *recipients,
		    int quiet);

/* ---- checkrun.c: vb-backup --check's lines (the rest in vb.h) ---- */

/*
 * A tool's verdict line (VERDICT TAB WHAT TAB TEXT, TAB runs as one, as
 * bash's read splits them) as --check prints it, with its newline, into
 * out: -1 when it is no verdict (ok, warn, FAIL, FAIL-job), 1 a FAIL
 * (FAIL-job printed FAIL), else 0.
 */
int		 vb_checkrun_format(const char *line, char *out, size_t olen);
/*
 * A tool's answer read from in, each verdict line printed on out as
 * vb_checkrun_format gives it (a line is cut at 8 KiB, the rest of it
 * dropped; a last line without its newline is not read): the FAILs.
 * Into *n the lines read; into last (llen) the last one, ended or not.
 */
int		 vb_checkrun_lines(FILE *in, FILE *out, char *last, size_t llen,
		    int *n);

/* inventory.c (what a backup directory or the remote holds) has
 * nothing beyond vb.h's. */

#endif /* VBLIB_H */
