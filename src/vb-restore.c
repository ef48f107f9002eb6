/*
 * vb-restore - verifies a backup before trusting it, and restores it to a
 * new file or over the live database; --list lists the backups.
 *
 * Nothing is trusted before it is checked: the archive's two entries, the
 * database's size and SHA-256 against the manifest, and SQLite's own
 * integrity_check of the extracted copy.  A restore over a live database
 * first makes a pre-restore safety archive, then copies through the
 * SQLite backup API so the application's connections, WAL and locks stay
 * coherent.  Any failure changes nothing.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lib/vb.h"

#define SYNOPSIS "[-q | --progress] [--quick-check] [-d dir] (--to path [--force] | " \
		"--db db | --verify-only)\n                  archive\n" \
		"       vb-restore --list [--json] [--verify [--full-check]] [dir]"

struct opts {
	const char	*archive;
	const char	*to;		/* --to */
	const char	*db;		/* --db */
	const char	*dir;		/* -d: where the pre-restore copy goes */
	int		 force;
	int		 quick;		/* quick_check, not integrity_check */
	int		 verify_only;
	int		 quiet;
};

/* A verified copy of the backup's database, in a temporary. */
struct copy {
	struct vb_tmp		 t;
	char			 path[4096];	/* of the temporary */
	struct vb_manifest	 m;		/* empty for a raw snapshot */
	struct vb_archive_info	 info;		/* the archive's own bytes */
	int64_t			 dbbytes;
	char			 dbsha[VB_SHA256_HEX];
};

static void __attribute__((noreturn))
usage(const char *why)
{
	vb_usage(SYNOPSIS, why);
}

static void __attribute__((noreturn))
help(void)
{
	vb_help(SYNOPSIS,
	    "Verifies a vb archive (or raw backup-*.db snapshot) and restores\n"
	    "it.  Verification: exactly MANIFEST and <stem>.db, the size and\n"
	    "SHA-256 the manifest declares, and PRAGMA integrity_check.\n\n"
	    "      --to PATH      write the verified database to PATH (0600)\n"
	    "      --force        with --to: replace an existing PATH\n"
	    "      --db DB        replace the live database DB, first saving\n"
	    "                     pre-restore-<time>.tar.zst in the backup dir\n"
	    "      --verify-only  only verify, and report\n"
	    "      --quick-check  PRAGMA quick_check instead of the (on large\n"
	    "                     databases much slower) integrity_check\n"
	    "  -d, --dir DIR      backup directory for the pre-restore copy\n"
	    "                     (default $BACKUP_DIR, else the archive's)\n"
	    "      --list [DIR]   list the backups in DIR, newest first\n"
	    "      --json         with --list: a JSON array\n"
	    "      --verify       with --list: verify each one (quick_check;\n"
	    "                     --full-check for integrity_check)\n"
	    "  -q, --quiet        no notices or progress on stderr (errors still)\n"
	    "      --progress     show progress even when stderr is not a\n"
	    "                     terminal (it shows by default on one)\n"
	    "      --print-config print the configuration as vb reads it\n"
	    "  -h, --help         this help\n"
	    "  -V, --version      print the version\n\n"
	    "Exit status: 0 done, 1 verification or restore failed (nothing\n"
	    "was changed; a failed record was written), 2 bad usage or\n"
	    "configuration.\n");
}

/* Copies a raw snapshot into fd, hashing it; returns 0, or -1 (why). */
static int
copy_raw(int in, int out, struct copy *c, char *why, size_t wlen)
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
 * Step 1: extracts and verifies the backup into a temporary in dir
 * (named for final there).  Returns 0 with c filled and the temporary
 * open, or -1 with why and nothing left behind.
 */
static int
verify(const char *archive, const char *dir, const char *final, int full,
    struct copy *c, char *why, size_t wlen)
{
	char adir[4096], base[256], check[512], what[300];
	struct vb_progress *pg;
	struct vb_dbinfo info;
	struct vb_name nm;
	struct stat st;
	int fd, rc;

	memset(c, 0, sizeof(*c));
	c->t.dirfd = -1;
	if (vb_path_split(archive, adir, sizeof(adir), base, sizeof(base)) != 0 ||
	    vb_name_parse(base, &nm) != 0) {
		snprintf(why, wlen, "%s: not a vb backup (backup-<UTC time> or "
		    "pre-restore-<UTC time>, .tar.zst, .tar.gz, .tar.xz, .tar "
		    "or .db)", archive);
		return -1;
	}
	if ((fd = open(archive, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1 ||
	    fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, wlen, "%s: %s", archive, fd == -1 ? (errno ==
		    ELOOP ? "is a symbolic link" : strerror(errno)) :
		    "not a regular file");
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (vb_tmp_open(&c->t, dir, final, why, wlen) != 0) {
		close(fd);
		return -1;
	}
	if (vb_path_join(c->path, sizeof(c->path), dir, c->t.name) != 0) {
		snprintf(why, wlen, "%s: name too long", dir);
		close(fd);
		vb_tmp_abort(&c->t);
		return -1;
	}
	snprintf(what, sizeof(what), "reading %s", base);
	pg = vb_progress_start(what, fd, VB_PROG_POS, (int64_t)st.st_size);
	if (nm.ext == VB_EXT_DB)
		rc = copy_raw(fd, c->t.fd, c, why, wlen);
	else {
		rc = vb_archive_verify(fd, NULL, nm.stem, c->t.fd, &c->m,
		    &c->info, why, wlen);
		c->dbbytes = c->m.db_bytes;
		memcpy(c->dbsha, c->m.db_sha256, sizeof(c->dbsha));
	}
	vb_progress_stop(pg, rc == 0);
	close(fd);
	if (rc != 0)
		goto fail;
	/* integrity_check reads every page and index: minutes on GiBs. */
	pg = vb_progress_start(full ? "integrity_check of the copy" :
	    "quick_check of the copy", -1, VB_PROG_SIZE, 0);
	rc = vb_db_check_path(c->path, full, check, sizeof(check));
	vb_progress_stop(pg, rc == 0);
	if (rc != 0) {
		snprintf(why, wlen, "the database inside %s %s: %s", archive,
		    rc < 0 ? "cannot be opened" : full ?
		    "fails integrity_check" : "fails quick_check", check);
		goto fail;
	}
	if (c->m.page_size > 0 && (vb_db_header(c->path, &info, check,
	    sizeof(check)) != 0 || info.page_size != c->m.page_size)) {
		snprintf(why, wlen, "the database inside %s does not have the "
		    "page size its manifest declares", archive);
		goto fail;
	}
	return 0;
fail:
	vb_tmp_abort(&c->t);
	return -1;
}

/* --to: the verified copy becomes path.  Returns 0, or -1 (why). */
static int
restore_to(const struct opts *o, struct copy *c, char *why, size_t wlen)
{
	sqlite3 *db = NULL;

	/* Back to the source's journal mode, as the manifest records it. */
	if (strcmp(c->m.journal_mode, "wal") == 0) {
		if (sqlite3_open_v2(c->path, &db, SQLITE_OPEN_READWRITE, NULL) !=
		    SQLITE_OK || sqlite3_exec(db, "PRAGMA journal_mode=WAL",
		    NULL, NULL, NULL) != SQLITE_OK) {
			snprintf(why, wlen, "%s: %s", c->path,
			    db != NULL ? sqlite3_errmsg(db) : "out of memory");
			sqlite3_close(db);
			return -1;
		}
		sqlite3_close(db);
	}
	char cwhy[1024];

	c->t.replace = o->force;
	if (vb_tmp_commit(&c->t, cwhy, sizeof(cwhy)) != 0) {
		snprintf(why, wlen, "cannot put %s in place: %s", o->to, cwhy);
		return -1;
	}
	return 0;
}

/*
 * --db: the pre-restore safety archive of the live database, then the
 * verified copy into it through the backup API.  Returns 0 with the
 * safety archive's path in saved, or -1 (why) with the database as it was.
 */
static int
restore_db(const struct opts *o, struct copy *c, const char *bdir,
    char *saved, size_t slen, char *why, size_t wlen)
{
	struct vb_snapshot_opts so;
	struct vb_snapshot_result sr;
	struct vb_compress_opts co;
	struct vb_compress_result cr;
	struct vb_snapmeta meta;
	sqlite3_backup *b;
	sqlite3 *dst = NULL, *src = NULL;
	int rc;

	memset(&so, 0, sizeof(so));
	so.db = o->db;
	so.dir = bdir;
	so.prefix = "pre-restore";
	rc = vb_snapshot(&so, &sr);
	if (!o->quiet && sr.note[0] != '\0')
		warnx("%s", sr.note);
	if (rc != 0) {
		snprintf(why, wlen, "pre-restore copy of %s failed: %s", o->db,
		    sr.msg);
		return -1;
	}
	vb_snapmeta_parse(sr.msg, &meta);
	meta.sha256 = sr.sha256;
	meta.bytes = sr.bytes;
	memset(&co, 0, sizeof(co));
	co.a.ext = VB_EXT_TAR_ZST;
	co.a.level = 3;
	rc = vb_compress_file(sr.path, &meta, &co, &cr);
	if (!o->quiet && cr.note[0] != '\0')
		warnx("%s", cr.note);
	if (rc != 0) {
		snprintf(why, wlen, "pre-restore archive failed: %s", cr.msg);
		unlink(sr.path);
		return -1;
	}
	snprintf(saved, slen, "%s", cr.path);

	/*
	 * The backup API writes the live file under SQLite's own locks and
	 * journal (or WAL): open connections see the new content, nothing
	 * is renamed over the database, and a failure rolls back.
	 */
	if (sqlite3_open_v2(o->db, &dst, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK || sqlite3_open_v2(c->path, &src, SQLITE_OPEN_READONLY,
	    NULL) != SQLITE_OK) {
		snprintf(why, wlen, "%s: %s", o->db, dst != NULL ?
		    sqlite3_errmsg(dst) : "out of memory");
		goto fail;
	}
	vb_db_busy(dst);
	if ((b = sqlite3_backup_init(dst, "main", src, "main")) == NULL) {
		snprintf(why, wlen, "%s: %s", o->db, sqlite3_errmsg(dst));
		goto fail;
	}
	rc = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			snprintf(why, wlen, "%s: %s: the application held its "
			    "lock for more than %lld ms; nothing changed",
			    o->db, sqlite3_errstr(rc), (long long)vb_busy_ms());
		else
			snprintf(why, wlen, "%s: %s%s", o->db,
			    sqlite3_errstr(rc), rc == SQLITE_READONLY ? " (a "
			    "WAL database takes only a copy of its own page "
			    "size)" : "");
		goto fail;
	}
	sqlite3_close(src);
	sqlite3_close(dst);
	return 0;
fail:
	sqlite3_close(src);
	sqlite3_close(dst);
	/* Nothing changed, so nothing to undo: no safety copy is left. */
	unlink(saved);
	vb_fsync_dir(bdir);
	saved[0] = '\0';
	return -1;
}

static int
restore(const struct opts *o)
{
	char dir[4096], final[256], why[1024], msg[2048], saved[4096] = "";
	char adir[4096], abase[256], side[4200];
	const char *bdir, *target;
	struct vb_record r;
	struct copy c;
	int64_t t0 = vb_monotonic_ms();
	int ret = 0;

	/* The temporary goes beside the target, on its file system. */
	target = o->to != NULL ? o->to : o->db != NULL ? o->db : o->archive;
	if (o->to != NULL && access(o->to, F_OK) == 0) {
		snprintf(side, sizeof(side), "%s-wal", o->to);
		if (!o->force || access(side, F_OK) == 0) {
			snprintf(why, sizeof(why), "%s exists; %s", o->to,
			    o->force ? "it has a -wal, so it may be a live "
			    "database: restore over it with --db" :
			    "--force replaces it");
			goto fail;
		}
	}
	if (o->db != NULL && vb_db_check_file(o->db, why, sizeof(why)) != 0)
		goto fail;
	vb_path_split(target, dir, sizeof(dir), final, sizeof(final));
	/* What an earlier restore killed or failed midway left here. */
	if (vb_clean_stale(dir, why, sizeof(why)) > 0 && !o->quiet)
		warnx("%s", why);
	if (verify(o->archive, dir, final, !o->quick, &c, why,
	    sizeof(why)) != 0)
		goto fail;
	if (o->verify_only) {
		vb_tmp_abort(&c.t);
		snprintf(msg, sizeof(msg), "verified: %s, %lld bytes, SHA-256 "
		    "and %s ok", c.m.db_sha256[0] != '\0' ?
		    "MANIFEST and database" : "raw snapshot",
		    (long long)c.dbbytes, o->quick ? "quick_check" :
		    "integrity_check");
		return vb_emit("verify", o->archive, 1, c.info.bytes,
		    c.info.sha256, t0, msg) == 0 ? 0 : 1;
	}
	if (o->to != NULL) {
		if (restore_to(o, &c, why, sizeof(why)) != 0)
			goto fail_tmp;
	} else {
		if ((bdir = o->dir) == NULL && (bdir = vb_config("BACKUP_DIR")) ==
		    NULL) {
			vb_path_split(o->archive, adir, sizeof(adir), abase,
			    sizeof(abase));
			bdir = adir;
		}
		if (restore_db(o, &c, bdir, saved, sizeof(saved), why,
		    sizeof(why)) != 0)
			goto fail_tmp;
		vb_tmp_abort(&c.t);
	}
	snprintf(msg, sizeof(msg), "restored from %s (db %lld bytes, "
	    "SHA-256 %s)%s%s", o->archive, (long long)c.dbbytes, c.dbsha,
	    saved[0] != '\0' ? "; pre-restore copy: " : "", saved);
	vb_record_init(&r, "restore", target);
	r.ok = 1;
	r.bytes = c.dbbytes;
	memcpy(r.sha256, c.dbsha, sizeof(r.sha256));
	r.ms = vb_monotonic_ms() - t0;
	r.msg = msg;
	if (vb_backuplog_append(target, &r, why, sizeof(why)) != 0) {
		warnx("restored, but not recorded: %s", why);
		ret = 1;
	}
	if (vb_emit("restore", target, 1, c.dbbytes, c.dbsha, t0, msg) != 0)
		ret = 1;
	if (!o->quiet && saved[0] != '\0')
		fprintf(stderr, "%s: the database as it was is in %s; to undo: "
		    "%s --db %s %s\n", vb_progname(), saved, vb_progname(),
		    o->db, saved);
	return ret;
fail_tmp:
	vb_tmp_abort(&c.t);
fail:
	warnx("%s", why);
	vb_emit(o->verify_only ? "verify" : "restore", o->verify_only ?
	    o->archive : "-", 0, -1, NULL, t0, why);
	return 1;
}

/* One backup file as a JSON object. */
static void
list_json(const char *path, const struct vb_backup *b, int j, int check,
    int ok, const char *why, int first)
{
	char iso[VB_ISO_LEN];

	vb_iso_time(&b->when, iso);
	printf("%s\n  {\"path\": ", first ? "" : ",");
	vb_json_string(stdout, path);
	printf(", \"time\": \"%s\", \"kind\": \"%s\", \"compression\": "
	    "\"%s\", \"bytes\": %lld, \"verified\": %s, \"error\": ", iso,
	    b->kind == VB_KIND_BACKUP ? "backup" : "pre-restore",
	    vb_compression_name(b->files[j].ext), (long long)b->files[j].bytes,
	    !check ? "null" : ok ? "true" : "false");
	vb_json_string(stdout, check && !ok ? why : NULL);
	putchar('}');
}

/* --list: the backups in dir, newest first.  Returns the exit status. */
static int
list(const char *dir, int check, int full, int json)
{
	struct vb_backup *bk;
	struct vb_record r;
	struct copy c;
	char why[1024], path[4096], iso[VB_ISO_LEN], state[1100], hb[32];
	size_t n, i;
	int j, ok, ret = 0, shown = 0, tty = isatty(STDOUT_FILENO) && !json;

	if (vb_scan(dir, &bk, &n, why, sizeof(why)) != 0) {
		warnx("%s", why);
		return 1;
	}
	vb_scan_sizes(dir, bk, n);
	if (json)
		putchar('[');
	if (tty)
		printf("%-24s  %10s  %-5s  %-12s  %s\n", "time (UTC)", "size",
		    "kind", "verified", "file");
	for (i = 0; i < n; i++)
		for (j = 0; j < bk[i].nfiles; j++) {
			vb_path_join(path, sizeof(path), dir,
			    bk[i].files[j].name);
			vb_iso_time(&bk[i].when, iso);
			ok = 1;
			snprintf(state, sizeof(state), "%s", bk[i].files[j].ext ==
			    VB_EXT_DB ? "raw snapshot" : "read back when written");
			if (check) {
				ok = verify(path, dir, bk[i].files[j].name,
				    full, &c, why, sizeof(why)) == 0;
				if (ok)
					vb_tmp_abort(&c.t);
				else
					ret = 1;
				snprintf(state, sizeof(state), "%s", ok ?
				    "ok" : why);
			}
			if (json) {
				list_json(path, &bk[i], j, check, ok, why,
				    shown++ == 0);
				continue;
			}
			if (tty) {
				vb_human_bytes((uint64_t)bk[i].files[j].bytes,
				    hb, sizeof(hb));
				printf("%-24s  %10s  %-5s  %-12s  %s\n", iso, hb,
				    vb_compression_name(bk[i].files[j].ext), check ? (ok ?
				    "ok" : "FAILED") : "-", path);
				if (!ok)
					fprintf(stderr, "%s: %s\n",
					    vb_progname(), why);
				continue;
			}
			vb_record_init(&r, check ? "verify" : "list", path);
			r.ok = ok;
			r.bytes = bk[i].files[j].bytes;
			r.ms = 0;
			memcpy(r.time, iso, sizeof(r.time));
			snprintf(why, sizeof(why), "%s %s; %s",
			    bk[i].kind == VB_KIND_BACKUP ? "backup" :
			    "pre-restore", vb_compression_name(bk[i].files[j].ext), state);
			r.msg = why;
			if (vb_record_write(stdout, &r) != 0)
				ret = 1;
		}
	if (json)
		printf("%s]\n", shown > 0 ? "\n" : "");
	free(bk);
	return ret;
}

int
main(int argc, char *argv[])
{
	enum { DB = 256, FORCE, FULL, JSON, LIST, PRINT_CONFIG, PROGRESS, QUICK,
	    TO, VERIFY, VONLY };
	static const struct option longopts[] = {
		{ "db",		required_argument,	NULL, DB },
		{ "dir",	required_argument,	NULL, 'd' },
		{ "force",	no_argument,		NULL, FORCE },
		{ "full-check",	no_argument,		NULL, FULL },
		{ "help",	no_argument,		NULL, 'h' },
		{ "json",	no_argument,		NULL, JSON },
		{ "list",	no_argument,		NULL, LIST },
		{ "print-config", no_argument,		NULL, PRINT_CONFIG },
		{ "progress",	no_argument,		NULL, PROGRESS },
		{ "quick-check", no_argument,		NULL, QUICK },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "to",		required_argument,	NULL, TO },
		{ "verify",	no_argument,		NULL, VERIFY },
		{ "verify-only", no_argument,		NULL, VONLY },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	const char *ldir;
	struct opts o;
	int ch, do_list = 0, check = 0, full = 0, json = 0, progress = 0, ret;

	memset(&o, 0, sizeof(o));
	while ((ch = getopt_long(argc, argv, "d:hqV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			o.dir = optarg;
			break;
		case 'h':
			help();
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'V':
			vb_print_version();
			break;
		case DB:
			o.db = optarg;
			break;
		case FORCE:
			o.force = 1;
			break;
		case FULL:
			full = 1;
			break;
		case JSON:
			json = 1;
			break;
		case PROGRESS:
			progress = 1;
			break;
		case QUICK:
			o.quick = 1;
			break;
		case LIST:
			do_list = 1;
			break;
		case TO:
			o.to = optarg;
			break;
		case VERIFY:
			check = 1;
			break;
		case VONLY:
			o.verify_only = 1;
			break;
		case PRINT_CONFIG:
			vb_config_print_exit();
		default:
			usage(NULL);
		}
	}
	argc -= optind;
	argv += optind;
	vb_progress_mode(progress, o.quiet);
	vb_config_require();

	if (do_list) {
		if (o.to != NULL || o.db != NULL || o.verify_only || o.force ||
		    o.quick || argc > 1)
			usage("--list takes only a directory");
		if (full && !check)
			usage("--full-check goes with --verify");
		check += check && full;
		if ((ldir = argc == 1 ? argv[0] : vb_config("BACKUP_DIR")) ==
		    NULL)
			usage("--list needs a directory, or BACKUP_DIR");
		ret = list(ldir, check, check > 1, json);
		if (vb_close_stdout() != 0)
			ret = 1;
		return ret ? VB_EXIT_FAIL : VB_EXIT_OK;
	}
	if (check || full || json)
		usage("--verify, --full-check and --json go with --list; see "
		    "--verify-only and --quick-check");
	if (argc != 1)
		usage(argc == 0 ? "no archive given" : "too many arguments");
	o.archive = argv[0];
	if ((o.to != NULL) + (o.db != NULL) + o.verify_only != 1)
		usage("say what to do: --to PATH, --db DB or --verify-only");
	if (o.force && o.to == NULL)
		usage("--force goes with --to");
	if (*o.archive == '\0' || vb_has_ctl(o.archive) ||
	    (o.to != NULL && (*o.to == '\0' || vb_has_ctl(o.to))) ||
	    (o.db != NULL && (*o.db == '\0' || vb_has_ctl(o.db))) ||
	    (o.dir != NULL && vb_has_ctl(o.dir)))
		usage("paths may not be empty or hold TAB, CR or newline");

	ret = restore(&o);
	if (vb_close_stdout() != 0)
		ret = 1;
	return ret ? VB_EXIT_FAIL : VB_EXIT_OK;
}
