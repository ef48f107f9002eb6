/*
 * restore.c - a backup made trustworthy again, then put back.
 *
 * Nothing in a backup is trusted before it is checked: the archive's two
 * entries, the database's size and SHA-256 against the manifest, and
 * SQLite's own check of the extracted copy, all into a temporary beside
 * where it will go.  Then the copy becomes a new file (--to), or is
 * written into the live database through the SQLite backup API after a
 * pre-restore safety archive of it (--db), so that the application's
 * connections, WAL and locks stay coherent.  Any failure changes nothing.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "vblib.h"

/* ---- a backup verified ---- */

/* Copies a raw snapshot into out, hashing it; returns 0, or -1 (why). */
static int
extract_raw(int in, int out, struct vb_verified *c, char *why, size_t wlen)
{
	struct vb_sha256 *h;
	char buf[65536];
	ssize_t n;

	if ((h = vb_sha256_new()) == NULL) {
		snprintf(why, wlen, "out of memory");
		return -1;
	}
	c->dbbytes = 0;
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || vb_write_all(out, buf, (size_t)n) != 0) {
			snprintf(why, wlen, "copying: %s", strerror(errno));
			vb_sha256_final(h, c->dbsha);
			return -1;
		}
		vb_sha256_update(h, buf, (size_t)n);
		c->dbbytes += n;
	}
	vb_sha256_final(h, c->dbsha);
	memcpy(c->info.sha256, c->dbsha, sizeof(c->dbsha));
	c->info.bytes = c->dbbytes;
	return 0;
}

/*
 * A raw snapshot that is gone was archived: BackupLog's snapshot row
 * names the .db vb-compress removed once its archive was read back.
 * Adds the archive's name to why when there is one beside it.
 */
static void
archived_as(const char *archive, const char *dir, const struct vb_name *nm,
    char *why, size_t wlen)
{
	char name[128], path[4400];

	if (vb_find_archive(dir, nm->stem, name, sizeof(name), path,
	    sizeof(path)) == 0)
		snprintf(why, wlen, "%s: No such file or directory; it was "
		    "archived as %s (vb-compress removes the raw snapshot "
		    "once the archive is read back): restore that", archive,
		    path);
}

/*
 * Opens a file named like a backup, never through a symbolic link.
 * Returns the descriptor (its name in base and parsed into nm, its size
 * in bytes), or -1 with why.
 */
static int
open_backup(const char *archive, const char *as, struct vb_name *nm,
    int64_t *bytes, char *base, size_t blen, char *why, size_t wlen)
{
	char adir[4096], asdir[4096];
	struct stat st;
	int fd;

	if (vb_path_split(archive, adir, sizeof(adir), base, blen) != 0 ||
	    (as != NULL && vb_path_split(as, asdir, sizeof(asdir), base,
	    blen) != 0) || vb_name_parse(base, nm) != 0) {
		snprintf(why, wlen, "%s: not a vb backup (backup-<UTC time> or "
		    "pre-restore-<UTC time>, .tar.zst, .tar.gz, .tar.xz, .tar "
		    "or .db)", as != NULL ? as : archive);
		return -1;
	}
	if ((fd = open(archive, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1 ||
	    fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, wlen, "%s: %s", archive, fd == -1 ? (errno ==
		    ELOOP ? "is a symbolic link" : strerror(errno)) :
		    "not a regular file");
		if (fd == -1 && errno == ENOENT && nm->ext == VB_EXT_DB)
			archived_as(archive, adir, nm, why, wlen);
		if (fd != -1)
			close(fd);
		return -1;
	}
	*bytes = (int64_t)st.st_size;
	return fd;
}

/*
 * SQLite's own word on the extracted copy, and the page size its
 * manifest declares.  A raw snapshot has no manifest and no SHA-256 to
 * prove its bytes: it gets quick_check at least.  Returns 0, or -1 with
 * why.
 */
static int
check_extracted(const char *archive, struct vb_verified *c,
    enum vb_check how, char *why, size_t wlen)
{
	struct vb_progress *pg;
	struct vb_dbinfo info;
	char check[512], what[64];
	int rc;

	if (how == VB_CHECK_OPEN && c->m.db_sha256[0] == '\0')
		how = VB_CHECK_QUICK;
	c->check = how;
	/* integrity_check reads every page and index: minutes on GiBs. */
	snprintf(what, sizeof(what), "%s of the copy", vb_check_name(how));
	pg = vb_progress_start(what, -1, VB_PROG_SIZE, 0);
	rc = vb_db_check_path(c->path, how, check, sizeof(check));
	vb_progress_stop(pg, rc == 0);
	if (rc != 0) {
		snprintf(why, wlen, "the database inside %s %s: %s", archive,
		    rc < 0 ? "cannot be opened" : how == VB_CHECK_FULL ?
		    "fails integrity_check" : how == VB_CHECK_QUICK ?
		    "fails quick_check" : "is not one SQLite reads", check);
		return -1;
	}
	if (c->m.page_size > 0 && (vb_db_header(c->path, &info, check,
	    sizeof(check)) != 0 || info.page_size != c->m.page_size)) {
		snprintf(why, wlen, "the database inside %s does not have the "
		    "page size its manifest declares", archive);
		return -1;
	}
	return 0;
}

/*
 * A delta: its chain found (links fetched from remote if missing here)
 * and rebuilt into c's temporary.  Links fetched are never kept: that
 * the chain reads whole proves nothing of who made them (the restore's
 * checks come after), and a link kept would be signed into the next
 * catalog.  Returns 0, or -1 with why.
 */
static int
extract_chain(const char *archive, const struct vb_name *nm,
    const char *identity, const char *remote, struct vb_verified *c,
    char *why, size_t wlen)
{
	struct vb_chain ch;
	char adir[4096], base[256];
	int rc;

	vb_path_split(archive, adir, sizeof(adir), base, sizeof(base));
	rc = vb_chain_resolve(archive, nm, adir, identity, remote, &ch, why,
	    wlen) == 0 && vb_chain_extract(&ch, identity, c->t.fd, &c->m,
	    &c->info, why, wlen) == 0 ? 0 : -1;
	if (rc == 0)
		c->links = ch.n;
	snprintf(c->note, sizeof(c->note), "%s", ch.note);
	vb_chain_free(&ch, 0);
	return rc;
}

int
vb_verify_backup(const char *archive, const char *as, const char *identity,
    const char *remote, const char *dir, const char *final,
    enum vb_check how, struct vb_verified *c, char *why, size_t wlen)
{
	struct vb_progress *pg;
	struct vb_name nm;
	char base[256], what[300];
	int64_t bytes;
	int fd, rc;

	memset(c, 0, sizeof(*c));
	c->t.dirfd = -1;
	if ((fd = open_backup(archive, as, &nm, &bytes, base, sizeof(base),
	    why, wlen)) == -1)
		return -1;
	if (vb_tmp_open(&c->t, dir, final, why, wlen) != 0) {
		close(fd);
		return -1;
	}
	if (vb_path_join(c->path, sizeof(c->path), dir, c->t.name) != 0) {
		snprintf(why, wlen, "%s: name too long", dir);
		close(fd);
		goto fail;
	}
	snprintf(what, sizeof(what), "reading %s", base);
	pg = vb_progress_start(what, fd, VB_PROG_POS, bytes);
	if (nm.ext == VB_EXT_DB)
		rc = extract_raw(fd, c->t.fd, c, why, wlen);
	else if (nm.delta)
		rc = extract_chain(archive, &nm, identity, remote, c, why,
		    wlen);
	else if ((rc = vb_read_archive(fd, identity, &nm, c->t.fd, &c->m,
	    &c->info, why, wlen)) == 0 && c->m.delta) {
		/* Its pages alone are no database: never as a full one. */
		snprintf(why, wlen, "%s: its manifest says it is a delta but "
		    "its name does not (.delta. before the extension): "
		    "renamed? refused", base);
		rc = -1;
	}
	if (nm.ext != VB_EXT_DB) {
		c->dbbytes = c->m.db_bytes;
		memcpy(c->dbsha, c->m.db_sha256, sizeof(c->dbsha));
	}
	vb_progress_stop(pg, rc == 0);
	close(fd);
	if (rc == 0 && check_extracted(archive, c, how, why, wlen) == 0)
		return 0;
fail:
	vb_tmp_abort(&c->t);
	return -1;
}

/* ---- put back: to a new file, or over the live database ---- */

/*
 * The first of to's -wal, -journal and -shm that exists (any type, a
 * link included), in side; 1, or 0 when none does.  SQLite applies a
 * -wal or a hot -journal beside a database when it opens it: whoever
 * put one there would write what the restored copy holds.
 */
static int
sidecar(const char *to, char *side, size_t len)
{
	static const char *const ext[] = { "-wal", "-journal", "-shm" };
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		snprintf(side, len, "%s%s", to, ext[i]);
		if (lstat(side, &st) == 0)
			return 1;
	}
	return 0;
}

/*
 * --to: the verified copy becomes the file to (never over an existing
 * one unless replace), in its source's journal mode.  Returns 0, or -1
 * with why and nothing left.
 */
static int
put(struct vb_verified *c, const char *to, int replace, char *why,
    size_t wlen)
{
	char cwhy[1024], side[4200];
	sqlite3 *db = NULL;

	/* Back to the source's journal mode, as the manifest records it. */
	if (strcmp(c->m.journal_mode, "wal") == 0) {
		if (sqlite3_open_v2(c->path, &db, SQLITE_OPEN_READWRITE,
		    NULL) != SQLITE_OK || sqlite3_exec(db,
		    "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK) {
			snprintf(why, wlen, "%s: %s", c->path,
			    db != NULL ? sqlite3_errmsg(db) : "out of memory");
			sqlite3_close(db);
			return -1;
		}
		sqlite3_close(db);
	}
	c->t.replace = replace;
	if (vb_tmp_commit(&c->t, cwhy, sizeof(cwhy)) != 0) {
		snprintf(why, wlen, "cannot put %s in place: %s", to, cwhy);
		return -1;
	}
	/* One put there while it was restored: the copy is not given. */
	if (sidecar(to, side, sizeof(side))) {
		snprintf(why, wlen, "%s appeared beside %s while it was "
		    "restored (someone else writes that directory): SQLite "
		    "would apply it when the copy is opened; the copy is "
		    "removed; restore into a directory only you can write",
		    side, to);
		unlink(to);
		return -1;
	}
	return 0;
}

/*
 * The pre-restore safety archive of db, in dir, by the nightly's own
 * snapshot and compress code.  Returns 0 with its path in saved, or -1
 * (why) with nothing left.
 * (long: the nightly's snapshot then its compression, each half removed on
 * the other's failure)
 */
int
vb_pre_restore(const char *db, const char *dir, char *saved, size_t slen,
    char sha[VB_SHA256_HEX], char *note, size_t nlen, char *why, size_t wlen)
{
	struct vb_snapshot_opts so;
	struct vb_snapshot_result sr;
	struct vb_compress_opts co;
	struct vb_compress_result cr;
	struct vb_snapmeta meta;
	struct vb_tmp guard;
	char line[4096], w[1024];
	int rc;

	memset(&so, 0, sizeof(so));
	so.db = db;
	so.dir = dir;
	so.prefix = "pre-restore";
	/*
	 * The database being replaced is saved as it is, damaged or not (a
	 * damaged one is why many restores happen): its check runs in the
	 * compression and goes into the manifest and the note.
	 */
	so.defer = 1;
	rc = vb_snapshot(&so, &sr);
	if (sr.note[0] != '\0')
		vb_notef(note, nlen, "%s", sr.note);
	if (rc != 0) {
		snprintf(why, wlen, "pre-restore copy of %s failed: %s", db,
		    sr.why);
		return -1;
	}
	/* The raw copy is of nothing yet: a signal takes it away. */
	memset(&guard, 0, sizeof(guard));
	if ((guard.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >=
	    0) {
		snprintf(guard.name, sizeof(guard.name), "%s",
		    strrchr(sr.path, '/') != NULL ? strrchr(sr.path, '/') + 1 :
		    sr.path);
		vb_tmp_guard(&guard);
	}
	meta = sr.meta;
	meta.sha256 = sr.sha256;
	meta.bytes = sr.bytes;
	memset(&co, 0, sizeof(co));
	co.a.ext = VB_EXT_TAR_ZST;
	/* Encrypted like every archive vb writes, when so configured. */
	co.encrypt_to = vb_config("ENCRYPT_TO");
	/* Signed when this host can sign; a host without the key (a new
	 * machine restoring) keeps an unsigned copy, and says so. */
	if ((co.sign_with = vb_config("SIGN_WITH")) != NULL &&
	    vb_key_public(co.sign_with, line, sizeof(line), w,
	    sizeof(w)) != 0) {
		vb_notef(note, nlen, "the pre-restore copy is not signed: "
		    "SIGN_WITH: %s", w);
		co.sign_with = NULL;
	}
	co.a.level = VB_ZSTD_LEVEL;
	co.as_found = 1;
	rc = vb_compress_file(sr.path, &meta, &co, &cr);
	if (guard.dirfd >= 0) {
		vb_tmp_unguard(&guard);
		close(guard.dirfd);
	}
	if (cr.note[0] != '\0')
		vb_notef(note, nlen, "%s", cr.note);
	if (rc != 0) {
		snprintf(why, wlen, "pre-restore archive failed: %s", cr.why);
		unlink(sr.path);
		return -1;
	}
	snprintf(saved, slen, "%s", cr.path);
	memcpy(sha, cr.sha256, VB_SHA256_HEX);
	return 0;
}

/*
 * Writes the database copy into the live db through the backup API,
 * under SQLite's own locks and journal (or WAL): open connections see the
 * new content, nothing is renamed over the database, and a failure rolls
 * back.  The BackupLog rows the live database gained after the backup
 * are held first and put back after (res->carried; a failure to put them
 * back is a note: the restore happened).  Returns 0, or -1 with why.
 */
static int
write_into(const char *db, const char *copy, struct vb_restore_result *res,
    char *why, size_t wlen)
{
	struct vb_log_held held;
	sqlite3 *dst = NULL, *src = NULL;
	char bwhy[512];
	int rc, ret = -1;

	if ((dst = vb_db_open_live(db, SQLITE_OPEN_READWRITE, why, wlen)) ==
	    NULL)
		goto out;
	if (sqlite3_open_v2(copy, &src, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		snprintf(why, wlen, "%s: %s", copy, src != NULL ?
		    sqlite3_errmsg(src) : "out of memory");
		goto out;
	}
	/* The held rows live in memory: nothing of them touches a disk. */
	if (sqlite3_exec(dst, "PRAGMA temp_store=MEMORY", NULL, NULL, NULL) !=
	    SQLITE_OK || vb_backuplog_hold(dst, copy, &held, bwhy,
	    sizeof(bwhy)) != 0) {
		snprintf(why, wlen, "%s: %s; nothing changed", db, bwhy);
		goto out;
	}
	if ((rc = vb_db_backup(dst, src)) == SQLITE_DONE) {
		ret = 0;
		res->carried = vb_backuplog_put_back(dst, &held, bwhy,
		    sizeof(bwhy));
		if (res->carried < 0)
			vb_notef(res->note, sizeof(res->note), "restored, but "
			    "the %lld BackupLog rows written since the backup "
			    "could not be carried over (%s); they are in the "
			    "pre-restore copy", (long long)held.rows, bwhy);
	} else if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		snprintf(why, wlen, "%s: %s: the application held its lock for "
		    "more than %lld ms; nothing changed", db,
		    sqlite3_errstr(rc), (long long)vb_busy_ms());
	else
		snprintf(why, wlen, "%s: %s; nothing changed", db,
		    sqlite3_errstr(rc));
out:
	sqlite3_close(src);
	sqlite3_close(dst);
	return ret;
}

/*
 * A WAL database keeps its page size: the backup API cannot write one of
 * another size into it.  Returns 0 if the copy can go into db, else -1
 * with both sizes and the way out in why.
 */
static int
same_page_size(const char *db, const struct vb_verified *c, char *why,
    size_t wlen)
{
	struct vb_dbinfo live, bk;
	char w[256];

	if (vb_db_header(db, &live, w, sizeof(w)) != 0 ||
	    vb_db_header(c->path, &bk, w, sizeof(w)) != 0 ||
	    strcmp(live.journal_mode, "wal") != 0 ||
	    live.page_size == bk.page_size)
		return 0;
	snprintf(why, wlen, "%s is a WAL database of page size %lld and the "
	    "backup's page size is %lld: SQLite cannot restore it in place. "
	    "Restore it with --to NEW.db, stop the application, move NEW.db "
	    "over %s (removing %s-wal and %s-shm), and start it again; "
	    "nothing changed", db, (long long)live.page_size,
	    (long long)bk.page_size, db, db, db);
	return -1;
}

/*
 * --db: writes the pre-restore safety archive of the live db into dir
 * (its path into res->saved), then the verified copy into db.  Returns
 * 0, or -1 with why, db as it was and no safety copy left.
 */
static int
restore_db(const char *db, const struct vb_verified *c, const char *dir,
    struct vb_restore_result *res, char *why, size_t wlen)
{
	if (same_page_size(db, c, why, wlen) != 0 ||
	    vb_pre_restore(db, dir, res->saved, sizeof(res->saved),
	    res->saved_sha256, res->note,
	    sizeof(res->note), why, wlen) != 0)
		return -1;
	if (write_into(db, c->path, res, why, wlen) == 0)
		return 0;
	/* Nothing changed, so nothing to undo: no safety copy is left. */
	unlink(res->saved);
	vb_fsync_dir(dir);
	res->saved[0] = '\0';
	return -1;
}

/* ---- the restore, from here or from the remote ---- */

/*
 * --db of a database that does not exist (a new machine): refused, with
 * the command that makes it (--to), which works pasted as it is.
 * Returns 0 if it exists, else -1 with res->why.
 */
static int
db_missing(const struct vb_restore_opts *o, int offsite,
    struct vb_restore_result *res)
{
	char dir[4096], base[256];
	const char *name = o->as != NULL ? o->as : o->archive;

	if (o->db == NULL || access(o->db, F_OK) == 0 || errno != ENOENT)
		return 0;
	if (offsite && vb_path_split(name, dir, sizeof(dir), base,
	    sizeof(base)) == 0)
		name = base;
	snprintf(res->why, sizeof(res->why), "%s does not exist: --db "
	    "replaces a live database, keeping a copy of it first; to make "
	    "%s from the backup (a new machine, the application not yet "
	    "started): vb-restore%s%s%s --to %s %s", o->db, o->db,
	    o->identity != NULL ? " -i " : "", o->identity != NULL ?
	    o->identity : "", offsite ? " --offsite" : "", o->db, name);
	return -1;
}

/*
 * Where the restore's temporary goes (beside its target, on its file
 * system) and what it will be called, after the checks that need no
 * archive.  Returns 0, or -1 with res->why.
 */
static int
prepare(const struct vb_restore_opts *o, char *dir, size_t dlen,
    char *final, size_t flen, struct vb_restore_result *res)
{
	char side[4200];
	struct stat st;

	/* Written beside it: through no link another user made. */
	if (o->to != NULL && vb_path_walk(o->to, side, sizeof(side), &st,
	    res->why, sizeof(res->why)) == -2)
		return -1;
	if (o->to != NULL && access(o->to, F_OK) == 0) {
		snprintf(side, sizeof(side), "%s-wal", o->to);
		if (!o->replace || access(side, F_OK) == 0) {
			snprintf(res->why, sizeof(res->why), "%s exists; %s",
			    o->to, o->replace ? "it has a -wal, so it may be a "
			    "live database: restore over it with --db" :
			    "--force replaces it");
			return -1;
		}
	}
	if (o->to != NULL && sidecar(o->to, side, sizeof(side))) {
		snprintf(res->why, sizeof(res->why), "%s is there: SQLite "
		    "would apply it to the restored copy when it is opened "
		    "(its pages, not the backup's); remove it (rm %s), or "
		    "restore to another name; refused, nothing written", side,
		    side);
		return -1;
	}
	if (db_missing(o, o->remote != NULL, res) != 0)
		return -1;
	if (o->db != NULL && vb_db_check_live(o->db, NULL, 0, res->why,
	    sizeof(res->why)) != 0)
		return -1;
	vb_path_split(res->target, dir, dlen, final, flen);
	/* What an earlier restore killed or failed midway left here. */
	vb_clean_stale(dir, res->note, sizeof(res->note));
	return 0;
}

/* --db: the backup directory for the pre-restore copy. */
static const char *
backup_dir(const struct vb_restore_opts *o, char *buf, size_t len)
{
	char base[256];
	const char *d;

	if ((d = o->dir) != NULL || (d = vb_config("BACKUP_DIR")) != NULL)
		return d;
	vb_path_split(o->archive, buf, len, base, sizeof(base));
	return buf;
}

/* The restore's row in the restored database's BackupLog. */
static void
log_restore(struct vb_restore_result *res, int64_t t0)
{
	struct vb_record r;

	vb_record_init(&r, "restore", res->target);
	r.ok = 1;
	r.bytes = res->bytes;
	memcpy(r.sha256, res->sha256, sizeof(r.sha256));
	r.ms = vb_monotonic_ms() - t0;
	r.msg = res->message;
	if (vb_backuplog_append(res->target, &r, res->unlogged,
	    sizeof(res->unlogged)) == 0)
		res->unlogged[0] = '\0';
}

/*
 * A backup taken of another database (its manifest names another source
 * path, or another host) does not go over db unless forced.  Returns 0,
 * or -1 with both names in why.
 */
int
vb_same_database(const char *db, const struct vb_manifest *m, char *why,
    size_t wlen)
{
	char real[4096], src[4096], host[256] = "", mbase[256], dbase[256];
	char dir[4096];
	int same = 1;

	if (m->db_sha256[0] == '\0')
		return 0;	/* a raw snapshot: no manifest to ask */
	/* An archive that does not say what it is of is not "the same". */
	if (m->source[0] == '\0' || strcmp(m->source, "unknown") == 0) {
		snprintf(why, wlen, "this backup does not say which database "
		    "it is of (its manifest's source is unknown: archived "
		    "from a bare path, or not made by this job): restoring "
		    "it over %s is refused; --force does it anyway (nothing "
		    "changed)", db);
		return -1;
	}
	if (realpath(db, real) == NULL)
		snprintf(real, sizeof(real), "%s", db);
	if (m->source[0] == '/')
		same = strcmp(m->source, real) == 0 || (realpath(m->source,
		    src) != NULL && strcmp(src, real) == 0);
	else if (vb_path_split(m->source, dir, sizeof(dir), mbase,
	    sizeof(mbase)) == 0 && vb_path_split(real, dir, sizeof(dir), dbase,
	    sizeof(dbase)) == 0)
		same = strcmp(mbase, dbase) == 0;	/* a relative name */
	gethostname(host, sizeof(host) - 1);
	if (same && (m->host[0] == '\0' || strcmp(m->host, "unknown") == 0 ||
	    strcmp(m->host, host) == 0))
		return 0;
	snprintf(why, wlen, "this backup is of %s on %s, not of %s on %s: "
	    "restoring it would put another database's data in its place; "
	    "--force does it anyway (nothing changed)", m->source,
	    m->host[0] != '\0' ? m->host : "an unknown host", real, host);
	return -1;
}

/*
 * With the signer's public key (--verify-with, VERIFY_WITH): the
 * manifest was signed by its private key (SIGN_WITH), and it names this
 * very backup, at this very time, so that an old genuine archive renamed
 * as a newer one is refused too.  The manifest's db-sha256 then vouches
 * for the database, and through the chain's hashes for every link of a
 * delta (the rebuilt database must hash to it).  Returns 0, or -1 (why).
 */
static int
signed_by(const struct vb_restore_opts *o, const char *name,
    const struct vb_verified *c, char *why, size_t wlen)
{
	char w[900], when[VB_ISO_LEN];
	struct vb_name nm;

	if (vb_name_parse(name, &nm) != 0 || nm.ext == VB_EXT_DB) {
		snprintf(why, wlen, "%s: a raw snapshot carries no signature; "
		    "refused (--verify-with)", name);
		return -1;
	}
	if (c->info.sig_len == 0) {
		snprintf(why, wlen, "%s is not signed (no %s), and a "
		    "signature by %s is asked for: refused, nothing changed "
		    "(a backup made before SIGN_WITH was set restores only "
		    "without --verify-with and VERIFY_WITH)", name,
		    VB_SIG_ENTRY, o->verify_with);
		return -1;
	}
	if (c->info.manifest_len == 0) {
		snprintf(why, wlen, "%s: its MANIFEST is too large to be "
		    "one vb signed; refused", name);
		return -1;
	}
	if (vb_sig_verify(o->verify_with, c->info.manifest,
	    c->info.manifest_len, c->info.sig, c->info.sig_len, w,
	    sizeof(w)) != 0) {
		snprintf(why, wlen, "%s: %s: forged or altered; refused, "
		    "nothing changed", name, w);
		return -1;
	}
	vb_iso_time(&nm.when, when);
	if (strcmp(c->m.name, nm.stem) != 0 || strcmp(c->m.created, when) !=
	    0) {
		snprintf(why, wlen, "%s: its signed manifest is of %s, made "
		    "%s: an older backup renamed as this one; refused, "
		    "nothing changed", name, c->m.name[0] != '\0' ? c->m.name :
		    "a backup it does not name", c->m.created);
		return -1;
	}
	return 0;
}

/*
 * With the public key, a backup must also be in the signed catalog with
 * this very SHA-256 (not an archive planted beside the genuine ones), and
 * the catalog no older than one this host has seen (not a rollback that
 * hides the newest backups).  Returns 0, or -1 (why).
 */
static int
listed(const struct vb_restore_opts *o, const char *name,
    const struct vb_verified *c, char *why, size_t wlen)
{
	char dir[4096], base[256], cpath[4400], spath[4400], w[1400];
	const struct vb_catalog_entry *e;
	struct vb_catalog cat;
	struct vb_name nm;
	int rc = -1;

	/* Pre-restore copies are made by restores, not listed. */
	if (vb_name_parse(name, &nm) != 0 || nm.kind != VB_KIND_BACKUP)
		return 0;
	if (vb_path_split(o->archive, dir, sizeof(dir), base,
	    sizeof(base)) != 0)
		snprintf(dir, sizeof(dir), ".");
	snprintf(cpath, sizeof(cpath), "%s/%s", dir, VB_CATALOG);
	snprintf(spath, sizeof(spath), "%s/%s", dir, VB_CATALOG_SIG);
	if (vb_catalog_load(o->catalog != NULL ? o->catalog : cpath,
	    o->catalog != NULL ? o->catalog_sig : spath, o->verify_with, &cat,
	    w, sizeof(w)) != 0) {
		snprintf(why, wlen, "%s: no signed catalog vouches for it "
		    "(%s); refused, nothing changed", name, w);
		return -1;
	}
	/* The host's floor: what its backup directory has seen or signed,
	 * wherever this copy was fetched to. */
	if (vb_catalog_seen(vb_config("BACKUP_DIR") != NULL &&
	    access(vb_config("BACKUP_DIR"), W_OK) == 0 ?
	    vb_config("BACKUP_DIR") : dir, cat.seq, w, sizeof(w)) != 0)
		snprintf(why, wlen, "%s: %s", name, w);
	else if ((e = vb_catalog_find(&cat, name)) == NULL)
		snprintf(why, wlen, "%s is not in the signed catalog (sequence "
		    "%lld, written %s): planted, or made after it; refused, "
		    "nothing changed", name, (long long)cat.seq, cat.written);
	else if (strcmp(e->sha256, c->info.sha256) != 0)
		snprintf(why, wlen, "%s is not the archive the signed catalog "
		    "lists (SHA-256 %s; this copy's is %s): replaced; refused, "
		    "nothing changed", name, e->sha256, c->info.sha256);
	else
		rc = 0;
	vb_catalog_free(&cat);
	return rc;
}

/*
 * The live database's BackupLog vouches for the archives its job made:
 * the copy restored must be the one that was made (or sent offsite),
 * whose SHA-256 it recorded, and a backup it never named at all (one
 * planted on the remote under a newer name, which brings its own
 * manifest and passes every check of its own) is refused unless asked
 * for knowingly (--unrecorded).  A BackupLog that names no backup (a new
 * machine, a new table) has nothing to compare; nor does a local
 * pre-restore copy, which restores make, not the job.  No --force
 * waives this.  Returns 0, or -1 with why.
 */
/*
 * The remote's copy restored with no BackupLog naming any backup and no
 * signature checked (a disaster restore on a new host, without
 * SIGN_WITH): said, since nothing vouched for it but itself.
 */
static void
unvouched(const struct vb_restore_opts *o, const char *name,
    struct vb_restore_result *res)
{
	if (o->as == NULL)	/* not a fetched copy */
		return;
	vb_notef(res->note, sizeof(res->note), "nothing vouched for %s: no "
	    "BackupLog here names a backup and no signature was checked, so "
	    "the remote's copy was taken on its own word (SIGN_WITH and "
	    "--verify-with make it vouched for)", name);
}

static int
as_recorded(const struct vb_restore_opts *o, const char *name,
    const struct vb_verified *c, struct vb_restore_result *res)
{
	const struct vb_log_seal *seal;
	struct vb_log_known k;
	struct vb_name nm;
	char err[600];
	int rc = 0;

	if (vb_name_parse(name, &nm) == 0 && nm.kind != VB_KIND_BACKUP &&
	    o->as == NULL)
		return 0;
	if (o->logdb == NULL || access(o->logdb, F_OK) != 0) {
		unvouched(o, name, res);
		return 0;
	}
	if (vb_backuplog_known(o->logdb, &k, err, sizeof(err)) != 0) {
		vb_notef(res->note, sizeof(res->note), "BackupLog in %s could "
		    "not be read to vouch for %s (%s)", o->logdb, name, err);
		return 0;
	}
	if (!k.any)
		unvouched(o, name, res);
	else if ((seal = vb_log_known_find(&k, name)) == NULL &&
	    !o->unrecorded) {
		snprintf(res->why, sizeof(res->why), "%s: BackupLog in %s "
		    "never recorded a backup of that name: not one this "
		    "database's job made (planted where the backups are?); "
		    "refused, nothing changed (--unrecorded restores it "
		    "knowingly)", name, o->logdb);
		rc = -1;
	} else if (seal != NULL && seal->sha256[0] != '\0' &&
	    c->info.sha256[0] != '\0' && strcmp(seal->sha256,
	    c->info.sha256) != 0) {
		snprintf(res->why, sizeof(res->why), "%s is not the archive "
		    "that was made: BackupLog in %s recorded SHA-256 %s for "
		    "it (%s, %s), this copy's is %s: replaced or altered "
		    "since; refused, nothing changed", name, o->logdb,
		    seal->sha256, seal->op, seal->when, c->info.sha256);
		rc = -1;
	} else if (seal == NULL)
		vb_notef(res->note, sizeof(res->note), "%s: restored though "
		    "BackupLog never recorded it (--unrecorded)", name);
	vb_log_known_free(&k);
	return rc;
}

/*
 * Whether this copy c of the archive name is the one vouched for: not
 * this copy, another (the remote's) may be.  The signed catalog vouches
 * where there is one (a database restored on a new host has a BackupLog
 * older than its newest backups); else BackupLog does.  0, or -1 (why).
 */
static int
vouched(const struct vb_restore_opts *o, const char *name,
    struct vb_verified *c, struct vb_restore_result *res)
{
	if (o->verify_with == NULL)
		return as_recorded(o, name, c, res);
	return signed_by(o, name, c, res->why, sizeof(res->why)) != 0 ||
	    listed(o, name, c, res->why, sizeof(res->why)) != 0 ? -1 : 0;
}

/*
 * What the verified copy c tells into res: sizes, SHA-256s, links,
 * notes; into chain, the words of a chain ("" for one archive).
 * Returns whether its database went unchecked when taken (a point's is
 * not checked: its nightly's is).
 */
static int
verified_result(const struct vb_verified *c, char *chain, size_t clen,
    struct vb_restore_result *res)
{
	int unchecked = strcmp(c->m.integrity, VB_UNCHECKED) == 0;

	res->archive_bytes = c->info.bytes;
	memcpy(res->archive_sha256, c->info.sha256, VB_SHA256_HEX);
	res->links = c->links;
	if (c->note[0] != '\0')
		vb_notef(res->note, sizeof(res->note), "%s", c->note);
	/* A copy saved as found (a pre-restore copy of a damaged one). */
	if (c->m.integrity[0] != '\0' && strcmp(c->m.integrity, "ok") != 0 &&
	    !unchecked)
		vb_notef(res->note, sizeof(res->note), "this backup's database "
		    "failed its %s when it was taken: %s", c->m.integrity_check,
		    c->m.integrity);
	res->bytes = c->dbbytes;
	memcpy(res->sha256, c->dbsha, VB_SHA256_HEX);
	if (c->links > 1)
		snprintf(chain, clen, " rebuilt from a chain of %d archives "
		    "(a full backup and %d deltas or points)", c->links,
		    c->links - 1);
	return unchecked;
}

/* What --verify-only says of the verified copy c into res->message. */
static void
verified_message(const struct vb_verified *c, const char *chain,
    int unchecked, struct vb_restore_result *res)
{
	int opened = c->check == VB_CHECK_OPEN;

	snprintf(res->message, sizeof(res->message), "verified: %s%s, %lld "
	    "bytes, SHA-256 and %s ok%s%s%s", c->m.db_sha256[0] != '\0' ?
	    "MANIFEST and database" : "raw snapshot", chain,
	    (long long)c->dbbytes, vb_check_name(c->check),
	    opened && !unchecked ? "; its " : "",
	    opened && !unchecked ? c->m.integrity_check : "", !opened ? "" :
	    unchecked ? "; a point: not checked when taken (its nightly "
	    "was)" : strcmp(c->m.integrity, "ok") == 0 ? " at backup time "
	    "ok" : " at backup time FAILED (saved as found)");
}

/*
 * The restore's record into res->message: the archive (from, as given;
 * name, its file name) and the pre-restore copy named as fields, what
 * this database's BackupLog knows from now on (a backup restored from
 * is vouched for by the restore that trusted it; the copy's SHA-256 is
 * what --check hashes it against).
 */
static void
restored_message(const char *from, const char *name,
    const struct vb_verified *c, const char *chain,
    struct vb_restore_result *res)
{
	sqlite3_str *m = sqlite3_str_new(NULL);
	char *s;

	sqlite3_str_appendf(m, "restored from %s%s (db %lld bytes, SHA-256 "
	    "%s)", from, chain, (long long)c->dbbytes, c->dbsha);
	if (res->saved[0] != '\0')
		sqlite3_str_appendf(m, "; pre-restore copy: %s", res->saved);
	if (res->carried > 0)
		sqlite3_str_appendf(m, "; %d later BackupLog rows carried "
		    "over", res->carried);
	sqlite3_str_appendf(m, "; archive=%s; archive-sha256=%s", name,
	    c->info.sha256);
	if (res->saved[0] != '\0')
		sqlite3_str_appendf(m, "; saved=%s; saved-sha256=%s",
		    strrchr(res->saved, '/') != NULL ? strrchr(res->saved,
		    '/') + 1 : res->saved, res->saved_sha256);
	s = vb_str_finish(m);
	snprintf(res->message, sizeof(res->message), "%s", s != NULL ? s :
	    "out of memory");
	sqlite3_free(s);
}

int
vb_restore(const struct vb_restore_opts *o, struct vb_restore_result *res)
{
	char dir[4096], final[256], bdir[4096], chain[96] = "";
	struct vb_verified c;
	int64_t t0 = vb_monotonic_ms();
	int unchecked;
	/* The archive's file name: what signatures, the catalog and
	 * BackupLog know it by (a fetched temporary stands for as). */
	const char *name = o->as != NULL ? o->as : o->archive;

	if (strrchr(name, '/') != NULL)
		name = strrchr(name, '/') + 1;
	memset(res, 0, sizeof(*res));
	snprintf(res->target, sizeof(res->target), "%s", o->to != NULL ? o->to :
	    o->db != NULL ? o->db : o->archive);
	if (prepare(o, dir, sizeof(dir), final, sizeof(final), res) != 0)
		return -1;
	if (vb_verify_backup(o->archive, o->as, o->identity, o->remote, dir,
	    final, o->check, &c, res->why, sizeof(res->why)) != 0) {
		/* No room where it goes is not the backup's fault. */
		res->noroom = c.info.noroom || errno == ENOSPC ||
		    errno == EDQUOT;
		res->unverified = !res->noroom;
		return -1;
	}
	if (vouched(o, name, &c, res) != 0) {
		res->unverified = 1;
		goto fail;
	}
	if (o->manifest != NULL)
		*o->manifest = c.m;
	unchecked = verified_result(&c, chain, sizeof(chain), res);
	if (o->to == NULL && o->db == NULL) {
		vb_tmp_abort(&c.t);
		verified_message(&c, chain, unchecked, res);
		return 0;
	}
	if (o->to != NULL && put(&c, o->to, o->replace, res->why,
	    sizeof(res->why)) != 0)
		goto fail;
	if (o->db != NULL) {
		if ((!o->replace && vb_same_database(o->db, &c.m, res->why,
		    sizeof(res->why)) != 0) || restore_db(o->db, &c,
		    backup_dir(o, bdir, sizeof(bdir)), res, res->why,
		    sizeof(res->why)) != 0)
			goto fail;
		vb_tmp_abort(&c.t);
	}
	restored_message(o->as != NULL ? o->as : o->archive, name, &c, chain,
	    res);
	if (!o->unlogged)
		log_restore(res, t0);
	return 0;
fail:
	vb_tmp_abort(&c.t);
	return -1;
}

/*
 * Without a signed catalog, what BackupLog recorded for name: its size
 * bounds the fetch and its SHA-256 is compared before a byte is
 * decompressed; a name it never recorded (over a BackupLog that records
 * backups) is refused before anything is fetched, unless --unrecorded.
 * With neither, e zeroed: the listing bounds the fetch (and the free
 * space, vb_remote_fetch).  0, or -1 (why).
 */
static int
recorded_entry(const struct vb_restore_opts *o, const char *name,
    struct vb_catalog_entry *e, char *why, size_t wlen)
{
	const struct vb_log_seal *seal;
	struct vb_log_known k;
	char w[600];
	int rc = 0;

	if (o->logdb == NULL || access(o->logdb, F_OK) != 0 ||
	    vb_backuplog_known(o->logdb, &k, w, sizeof(w)) != 0)
		return 0;
	if ((seal = vb_log_known_find(&k, name)) == NULL && k.any &&
	    !o->unrecorded) {
		snprintf(why, wlen, "%s: BackupLog in %s never recorded a "
		    "backup of that name: not one this database's job made "
		    "(planted on the remote?); refused, nothing fetched "
		    "(--unrecorded restores it knowingly)", name, o->logdb);
		rc = -1;
	} else if (seal != NULL && seal->sha256[0] != '\0') {
		memcpy(e->sha256, seal->sha256, VB_SHA256_HEX);
		e->bytes = seal->bytes > 0 ? seal->bytes : 0;
	}
	vb_log_known_free(&k);
	return rc;
}

/*
 * With a signed catalog (--verify-with), name's entry in it, checked
 * (signature, rollback) as listed() checks it: its size bounds the
 * fetch and its SHA-256 is compared before a byte is decompressed.
 * Without one, what BackupLog recorded (recorded_entry).  0, or -1.
 */
static int
catalog_entry(const struct vb_restore_opts *o, const char *name,
    struct vb_catalog_entry *e, char *why, size_t wlen)
{
	const struct vb_catalog_entry *f;
	struct vb_catalog cat;
	char w[1400];
	int rc = -1;

	memset(e, 0, sizeof(*e));
	if (o->verify_with == NULL || o->catalog == NULL)
		return recorded_entry(o, name, e, why, wlen);
	if (vb_catalog_load(o->catalog, o->catalog_sig, o->verify_with, &cat,
	    w, sizeof(w)) != 0)
		snprintf(why, wlen, "no signed catalog vouches for it (%s); "
		    "refused, nothing fetched", w);
	else if ((f = vb_catalog_find(&cat, name)) == NULL)
		snprintf(why, wlen, "%s is not in the signed catalog (sequence "
		    "%lld, written %s): planted, or made after it; refused, "
		    "nothing fetched", name, (long long)cat.seq, cat.written);
	else {
		*e = *f;
		rc = 0;
	}
	if (rc == 0 || cat.e != NULL)
		vb_catalog_free(&cat);
	return rc;
}

/*
 * Step 5 of DESIGN.md's restore: name on the remote.  A local archive of
 * that name in dir is used when it verifies; otherwise the remote copy is
 * fetched into dir under a temporary name and restored from there, and
 * kept under its name once it has been (unless only verifying, or a
 * local file of the name is there).
 * (long: the local copy tried, the fetch, the keep; every path's temporary
 * removed at one label)
 */
static int
from_offsite(const struct vb_restore_opts *o, const char *remote,
    const char *dir, struct vb_restore_result *res)
{
	struct vb_restore_opts base = *o, v;
	char local[4096], tmp[4096], from[4096], bad[1024] = "", why[1024];
	char said[2048];
	char hex[VB_SHA256_HEX];
	struct vb_catalog_entry entry;
	struct vb_tmp t;
	int rc, have;

	/* A delta's links missing here come from the remote too. */
	base.remote = remote;
	o = &base;
	v = *o;
	memset(res, 0, sizeof(*res));
	if (db_missing(o, 1, res) != 0)
		return -1;

	if (vb_path_join(local, sizeof(local), dir, o->archive) != 0 ||
	    vb_remote_join(from, sizeof(from), remote, o->archive) != 0) {
		memset(res, 0, sizeof(*res));
		snprintf(res->why, sizeof(res->why), "%s: name too long",
		    o->archive);
		return -1;
	}
	v.archive = local;
	/* The local copy, verified once; the remote's only if it fails. */
	if ((have = access(local, F_OK) == 0) && !o->fetch) {
		if ((rc = vb_restore(&v, res)) == 0 || !res->unverified)
			return rc;
		snprintf(bad, sizeof(bad), "the local %s failed verification "
		    "(%s); ", local, res->why);
	}
	memset(res, 0, sizeof(*res));
	/* On a new machine the backup directory may not exist yet. */
	if (vb_mkdir_p(dir, why, sizeof(why)) != 0 || catalog_entry(o,
	    o->archive, &entry, why, sizeof(why)) != 0 ||
	    vb_remote_fetch(remote, o->archive, dir, entry.bytes, &t, tmp,
	    sizeof(tmp), hex, why, sizeof(why)) != 0) {
		snprintf(res->why, sizeof(res->why), "%scannot fetch %s: %s",
		    bad, from, why);
		return -1;
	}
	/* Not what was recorded: refused before it is read. */
	if (entry.sha256[0] != '\0' && strcmp(hex, entry.sha256) != 0) {
		snprintf(res->why, sizeof(res->why), "%s is not the archive "
		    "%s (SHA-256 %s; the copy fetched is %s): replaced; "
		    "refused, nothing read, nothing kept", from,
		    o->verify_with != NULL ? "the signed catalog lists" :
		    "BackupLog recorded", entry.sha256, hex);
		vb_tmp_abort(&t);
		return -1;
	}
	v = *o;
	v.archive = tmp;
	v.as = from;
	rc = vb_restore(&v, res);
	/* What the restore said of the copy comes after where it is. */
	snprintf(said, sizeof(said), "%s%s", res->note[0] != '\0' ? "; " :
	    "", res->note);
	/*
	 * Kept once restored, where no local file has its name; a delta
	 * only with no link fetched besides it (the links are never kept,
	 * and a delta without its chain would be a broken one here).
	 */
	if (rc == 0 && !have && (o->to != NULL || o->db != NULL) &&
	    res->links <= 1 && vb_tmp_commit(&t, why, sizeof(why)) == 0)
		snprintf(res->note, sizeof(res->note), "%sfetched %s; kept as "
		    "%s%s", bad, from, local, said);
	else {
		vb_tmp_abort(&t);
		snprintf(res->note, sizeof(res->note), "%sfetched %s%s%s", bad,
		    from, rc != 0 ? "; removed the fetched copy" : rc == 0 &&
		    res->links > 1 && !have ? "; not kept: a delta, whose "
		    "chain is not here" : "", said);
	}
	return rc;
}

/*
 * Restores name from the remote; with the signer's public key, against
 * the remote's own signed catalog, fetched first (the local one may be
 * lost with the host, or differ).
 */
int
vb_restore_offsite(const struct vb_restore_opts *o, const char *remote,
    const char *dir, struct vb_restore_result *res)
{
	struct vb_restore_opts v = *o;
	struct vb_tmp ct, cs;
	char cpath[4096], spath[4096], why[1024];
	int rc;

	if (o->verify_with == NULL || o->catalog != NULL)
		return from_offsite(o, remote, dir, res);
	memset(res, 0, sizeof(*res));
	if (vb_mkdir_p(dir, why, sizeof(why)) != 0 ||
	    vb_catalog_fetch(remote, dir, &ct, &cs, cpath, spath,
	    sizeof(cpath), why, sizeof(why)) != 0) {
		snprintf(res->why, sizeof(res->why), "%s: cannot fetch the "
		    "remote's signed catalog: %s; refused (--verify-with)",
		    o->archive, why);
		return -1;
	}
	v.catalog = cpath;
	v.catalog_sig = spath;
	rc = from_offsite(&v, remote, dir, res);
	vb_tmp_abort(&ct);
	vb_tmp_abort(&cs);
	return rc;
}

void
vb_restore_undo(const char *saved, const char *identity, const char *db,
    char *buf, size_t len)
{
	int enc = vb_age_named(saved);

	/* An encrypted copy needs an identity this host may not hold. */
	snprintf(buf, len, "vb-restore%s%s --db %s %s", enc ? " -i " : "",
	    !enc ? "" : identity != NULL ? identity : "IDENTITY-FILE (the "
	    "private key of a recipient in ENCRYPT_TO)", db, saved);
}

int
vb_age_named(const char *name)
{
	size_t n = strlen(name), m = strlen(VB_AGE_SUFFIX);

	return n > m && strcmp(name + n - m, VB_AGE_SUFFIX) == 0;
}

int
vb_restore_work(const struct vb_restore_opts *how, const char *remote,
    const char *work, const char *copy, struct vb_restore_result *res)
{
	struct vb_restore_opts ro = *how;

	ro.to = copy;
	ro.db = NULL;
	ro.check = VB_CHECK_OPEN;	/* as --to does */
	ro.unlogged = 1;		/* a copy nobody keeps */
	return remote != NULL ? vb_restore_offsite(&ro, remote, work, res) :
	    vb_restore(&ro, res);
}
