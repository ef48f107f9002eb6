/*
 * unit.c - unit tests of src/lib (cmocka).
 *
 * The parsing and naming edge cases every tool depends on: record lines,
 * backup names and timestamps, SHA-256 vectors, configuration lines, and
 * the safe-write rules (mode 0600, never replacing, stale temporaries).
 */
#define _GNU_SOURCE
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <ftw.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/vblib.h"

static const char ts_ok[] = "2026-11-27T01:00:03.412Z";
static const char sha_abc[] =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

static void
record_roundtrip(void **state)
{
	char line[512], out[512];
	struct vb_record r;
	FILE *fp;

	(void)state;
	snprintf(line, sizeof(line), "/b/backup-x.db\tsnapshot\tok\t8192\t%s"
	    "\t12\t%s\tquick_check=ok source=/a b.db", sha_abc, ts_ok);
	snprintf(out, sizeof(out), "%s\n", line);
	assert_int_equal(vb_record_parse(line, &r), VB_LINE_RECORD);
	assert_string_equal(r.path, "/b/backup-x.db");
	assert_string_equal(r.op, "snapshot");
	assert_int_equal(r.ok, 1);
	assert_int_equal(r.bytes, 8192);
	assert_string_equal(r.sha256, sha_abc);
	assert_int_equal(r.ms, 12);
	assert_string_equal(r.time, ts_ok);
	assert_string_equal(r.msg, "quick_check=ok source=/a b.db");

	fp = fmemopen(line, sizeof(line), "w");
	assert_non_null(fp);
	assert_int_equal(vb_record_write(fp, &r), 0);
	fclose(fp);
	assert_string_equal(line, out);
}

static void
record_unknowns(void **state)
{
	char line[256];
	struct vb_record r;

	(void)state;
	snprintf(line, sizeof(line), "-\tprune\tfailed\t-\t-\t-\t%s\t", ts_ok);
	assert_int_equal(vb_record_parse(line, &r), VB_LINE_RECORD);
	assert_string_equal(r.path, "-");
	assert_int_equal(r.ok, 0);
	assert_int_equal(r.bytes, -1);
	assert_string_equal(r.sha256, "");
	assert_int_equal(r.ms, -1);
	assert_string_equal(r.msg, "");
}

static void
record_bad(void **state)
{
	static const char *bad[] = {
		"",
		"a\tb",
		"p\tsnapshot\tmaybe\t1\t-\t1\t2026-11-27T01:00:03.412Z\tm",
		"p\tsnapshot\tok\t-1\t-\t1\t2026-11-27T01:00:03.412Z\tm",
		"p\tsnapshot\tok\t1x\t-\t1\t2026-11-27T01:00:03.412Z\tm",
		"p\tsnapshot\tok\t1\tabc\t1\t2026-11-27T01:00:03.412Z\tm",
		"p\tsnapshot\tok\t1\t-\t1\t2026-11-27 01:00:03\tm",
		"p\tsnapshot\tok\t1\t-\t1\t2026-11-27T01:00:03.412Z\tm\textra",
		"\tsnapshot\tok\t1\t-\t1\t2026-11-27T01:00:03.412Z\tm",
		"p\t\tok\t1\t-\t1\t2026-11-27T01:00:03.412Z\tm",
		"p\tsnapshot\tok\t99999999999999999999\t-\t1\t"
		    "2026-11-27T01:00:03.412Z\tm",
		"path\r",
		/* Found by fuzz-record: a CR the writer could not write
		 * back. */
		"b/backup-2026-11\r28T01-51-25-483Z.tar\tcompress\tok\t1\t-"
		    "\t6\t2026-11-28T01:51:25.502Z\tm",
		"p\tsnap\rshot\tok\t1\t-\t1\t2026-11-27T01:00:03.412Z\tm",
	};
	struct vb_record r;
	char line[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "%s", bad[i]);
		if (vb_record_parse(line, &r) != VB_LINE_BAD)
			fail_msg("accepted bad line %zu: %s", i, bad[i]);
	}
}

static void
record_path_line(void **state)
{
	char line[] = "backups/backup-2026-11-27T01-00-00-000Z.db";
	struct vb_record r;

	(void)state;
	assert_int_equal(vb_record_parse(line, &r), VB_LINE_PATH);
	assert_string_equal(r.path, line);
}

static void
record_write_sanitises(void **state)
{
	char buf[512];
	struct vb_record r;
	FILE *fp;

	(void)state;
	vb_record_init(&r, "verify", "/x");
	r.msg = (char *)"line one\nline\ttwo\r";
	fp = fmemopen(buf, sizeof(buf), "w");
	assert_int_equal(vb_record_write(fp, &r), 0);
	fclose(fp);
	assert_non_null(strstr(buf, "\tline one?line?two?\n"));
	assert_non_null(strstr(buf, "/x\tverify\tfailed\t-\t-\t-\t"));

	fp = fmemopen(buf, sizeof(buf), "w");
	r.path = (char *)"/a\tb";
	assert_int_equal(vb_record_write(fp, &r), -1);
	r.path = (char *)"/a\nb";
	assert_int_equal(vb_record_write(fp, &r), -1);
	fclose(fp);
}

static void
stamp_roundtrip(void **state)
{
	struct timespec ts = { 1796086800, 412000000 }, back;
	char s[VB_STAMP_LEN], iso[VB_ISO_LEN];

	(void)state;
	vb_stamp(&ts, s);
	assert_string_equal(s, "2026-12-01T01-00-00-412Z");
	vb_iso_time(&ts, iso);
	assert_string_equal(iso, "2026-12-01T01:00:00.412Z");
	assert_int_equal(vb_parse_stamp(s, &back), 0);
	assert_int_equal(back.tv_sec, ts.tv_sec);
	assert_int_equal(back.tv_nsec, ts.tv_nsec);
	assert_int_equal(vb_parse_iso(iso, &back), 0);
	assert_int_equal(back.tv_sec, ts.tv_sec);
}

static void
stamp_rejects(void **state)
{
	static const char *bad[] = {
		"2026-02-30T01-00-00-000Z",	/* no such day */
		"2023-02-29T01-00-00-000Z",	/* not a leap year */
		"2026-13-01T01-00-00-000Z",
		"2026-00-01T01-00-00-000Z",
		"2026-11-27T24-00-00-000Z",
		"2026-11-27T01-60-00-000Z",
		"2026-11-27T01-00-00-000",
		"2026-11-27T01-00-00-000Z ",
		"2026-11-27T01:00:00.000Z",
		"1969-12-31T23-59-59-999Z",
		"2026-1a-27T01-00-00-000Z",
	};
	struct timespec ts;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (vb_parse_stamp(bad[i], &ts) == 0)
			fail_msg("accepted %s", bad[i]);
	assert_int_equal(vb_parse_stamp("2024-02-29T23-59-59-999Z", &ts), 0);
}

static void
names(void **state)
{
	static const char *foreign[] = {
		"backup-foo.db", "other.tar.zst", "notes.txt",
		"backup-2026-11-27T01-00-00-000Z.db.bak",
		"backup-2026-11-27T01-00-00-000Z.tar.bz2",
		"backup-2026-11-27T01-00-00-000Z",
		"Backup-2026-11-27T01-00-00-000Z.db",
		".vb-tmp-12-backup-2026-11-27T01-00-00-000Z.db",
		"backup-2026-02-30T01-00-00-000Z.db",
		"pre-restore-2026-11-27T01-00-00-000Z.zip",
	};
	struct vb_name n;
	size_t i;

	(void)state;
	assert_int_equal(vb_name_parse(
	    "backup-2026-11-27T01-00-00-000Z.tar.zst",
	    &n), 0);
	assert_int_equal(n.kind, VB_KIND_BACKUP);
	assert_int_equal(n.ext, VB_EXT_TAR_ZST);
	assert_string_equal(n.stem, "backup-2026-11-27T01-00-00-000Z");
	assert_string_equal(vb_ext_str(n.ext), ".tar.zst");
	assert_int_equal(vb_name_parse("backup-2023-10-02T18-30-00-000Z.db",
	    &n), 0);
	assert_int_equal(n.ext, VB_EXT_DB);
	assert_int_equal(vb_name_parse(
	    "pre-restore-2026-11-27T01-00-00-000Z.tar", &n), 0);
	assert_int_equal(n.kind, VB_KIND_PRE_RESTORE);
	assert_int_equal(n.ext, VB_EXT_TAR);
	assert_string_equal(n.stem, "pre-restore-2026-11-27T01-00-00-000Z");
	for (i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++)
		if (vb_name_parse(foreign[i], &n) == 0)
			fail_msg("took %s for vb's", foreign[i]);
}

static void
sha256_vectors(void **state)
{
	char hex[VB_SHA256_HEX];
	struct vb_sha256 *h;
	FILE *fp;

	(void)state;
	h = vb_sha256_new();
	vb_sha256_final(h, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	h = vb_sha256_new();
	vb_sha256_update(h, "a", 1);
	vb_sha256_update(h, "bc", 2);
	vb_sha256_final(h, hex);
	assert_string_equal(hex, sha_abc);

	fp = tmpfile();
	assert_non_null(fp);
	fputs("abc", fp);
	fflush(fp);
	lseek(fileno(fp), 0, SEEK_SET);
	assert_int_equal(vb_sha256_fd(fileno(fp), hex), 3);
	assert_string_equal(hex, sha_abc);
	fclose(fp);
}

static void
tmp_names(void **state)
{
	(void)state;
	assert_int_equal(vb_tmp_pid(".vb-tmp-1234-backup-x.db"), 1234);
	assert_int_equal(vb_tmp_pid(".vb-tmp--backup-x.db"), -1);
	assert_int_equal(vb_tmp_pid(".vb-tmp-12x-backup"), -1);
	assert_int_equal(vb_tmp_pid(".vb-tmp-0-backup"), -1);
	assert_int_equal(vb_tmp_pid(".vb-tmp-99999999999-x"), -1);
	assert_int_equal(vb_tmp_pid("vb-tmp-12-x"), -1);
}

static void
paths(void **state)
{
	char d[64], b[64], j[16];

	(void)state;
	assert_int_equal(vb_path_split("/var/lib/app.db", d, 64, b, 64), 0);
	assert_string_equal(d, "/var/lib");
	assert_string_equal(b, "app.db");
	assert_int_equal(vb_path_split("app.db", d, 64, b, 64), 0);
	assert_string_equal(d, ".");
	assert_int_equal(vb_path_split("/app.db", d, 64, b, 64), 0);
	assert_string_equal(d, "/");
	assert_int_equal(vb_path_join(j, sizeof(j), "a/", "b"), 0);
	assert_string_equal(j, "a/b");
	assert_int_equal(vb_path_join(j, sizeof(j), "dir", "b"), 0);
	assert_string_equal(j, "dir/b");
	assert_int_equal(vb_path_join(j, sizeof(j), "a-long-dir", "names"), -1);
	assert_int_equal(vb_has_ctl("a\tb"), 1);
	assert_int_equal(vb_has_ctl("a b"), 0);
}

static void
numbers(void **state)
{
	char buf[32];
	uint64_t v;

	(void)state;
	assert_int_equal(vb_parse_u64("42", &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(vb_parse_u64("-1", &v), -1);
	assert_int_equal(vb_parse_u64("", &v), -1);
	assert_int_equal(vb_parse_u64("4x", &v), -1);
	assert_int_equal(vb_parse_u64(" 4", &v), -1);
	vb_human_bytes(512, buf, sizeof(buf));
	assert_string_equal(buf, "512 B");
	vb_human_bytes(1536 * 1024, buf, sizeof(buf));
	assert_string_equal(buf, "1.5 MiB");
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Removes the test's own directory tree, as rm -rf would. */
static void
rm_rf(const char *dir)
{
	assert_int_equal(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* Makes a fresh directory for a test. */
static void
mkdtemp_or_fail(char *tmpl)
{
	if (mkdtemp(tmpl) == NULL)
		fail_msg("mkdtemp: %s", strerror(errno));
}

/* What vb_path_walk makes of path: its return, and real when it is 0. */
static int
walked(const char *path, char *real, size_t rlen)
{
	char why[512];
	struct stat st;

	return vb_path_walk(path, real, rlen, &st, why, sizeof(why));
}

static void
path_walk(void **state)
{
	char dir[] = "/tmp/vb-unit-XXXXXX", p[256], q[256], real[4096];
	char cwd[4096];

	(void)state;
	mkdtemp_or_fail(dir);
	snprintf(p, sizeof(p), "%s/a/b", dir);
	assert_int_equal(vb_mkdir_p(p, real, sizeof(real)), 0);
	/* Root's links are followed, relative and absolute, "..", ".". */
	snprintf(p, sizeof(p), "%s/l", dir);
	assert_int_equal(symlink("a/b", p), 0);
	snprintf(p, sizeof(p), "%s/l/../b/./", dir);
	assert_int_equal(walked(p, real, sizeof(real)), 0);
	snprintf(q, sizeof(q), "%s/a/b", dir);
	assert_string_equal(real, q);
	snprintf(p, sizeof(p), "%s/abs", dir);
	assert_int_equal(symlink(q, p), 0);
	snprintf(p, sizeof(p), "%s/abs/new/x", dir);
	assert_int_equal(walked(p, real, sizeof(real)), 1);
	snprintf(q, sizeof(q), "%s/a/b/new/x", dir);
	assert_string_equal(real, q);
	/* Relative to the working directory. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(walked("l", real, sizeof(real)), 0);
	snprintf(q, sizeof(q), "%s/a/b", dir);
	assert_string_equal(real, q);
	assert_int_equal(chdir(cwd), 0);
	/* A loop; another user's link (as root only). */
	snprintf(p, sizeof(p), "%s/loop", dir);
	assert_int_equal(symlink("loop", p), 0);
	assert_int_equal(walked(p, real, sizeof(real)), -1);
	assert_int_equal(errno, ELOOP);
	snprintf(p, sizeof(p), "%s/l", dir);
	if (geteuid() == 0 && lchown(p, 65534, 65534) == 0) {
		snprintf(p, sizeof(p), "%s/l/c", dir);
		assert_int_equal(walked(p, real, sizeof(real)), -2);
	}
	rm_rf(dir);
}

/* The one way to add to a fixed buffer: cut to fit, never past it. */
static void
appends(void **state)
{
	char buf[16] = "", note[12] = "";

	(void)state;
	vb_appendf(buf, sizeof(buf), "%s", "abc");
	vb_appendf(buf, sizeof(buf), "-%d", 42);
	assert_string_equal(buf, "abc-42");
	vb_appendf(buf, sizeof(buf), "%s", "0123456789");
	assert_string_equal(buf, "abc-42012345678");
	vb_appendf(buf, sizeof(buf), "more");	/* full: unchanged */
	assert_string_equal(buf, "abc-42012345678");
	/* A note: "; " between sentences, none before the first. */
	vb_notef(note, sizeof(note), "one");
	assert_string_equal(note, "one");
	vb_notef(note, sizeof(note), "%s", "two");
	assert_string_equal(note, "one; two");
	vb_notef(note, sizeof(note), "three");
	assert_string_equal(note, "one; two; t");
	vb_notef(note, sizeof(note), "four");
	assert_string_equal(note, "one; two; t");
}

static void
clean_text(void **state)
{
	char s[] = "a\033]0;t\007\tb\nc\177d\xc2\x9b" "1m\xc2\xa0\xc3\xa9";

	(void)state;
	assert_int_equal(vb_is_clean("caf\xc3\xa9 \xc2\xa0 ok"), 1);
	assert_int_equal(vb_is_clean("a\033b"), 0);
	assert_int_equal(vb_is_clean("a\xc2\x85"), 0);
	vb_clean_text(s);
	/* A C1 control's two bytes are one '?'; U+00A0 and é stay. */
	assert_string_equal(s, "a?]0;t??b?c?d?1m\xc2\xa0\xc3\xa9");
}

static void
tmp_commit_rules(void **state)
{
	char dir[] = "/tmp/vb-unit-XXXXXX", p[256], why[512];
	struct vb_tmp t;
	struct stat st;
	mode_t old;

	(void)state;
	mkdtemp_or_fail(dir);
	old = umask(0);
	assert_int_equal(vb_tmp_open(&t, dir, "backup-a.db", why,
	    sizeof(why)), 0);
	umask(old);
	assert_int_equal(write(t.fd, "data", 4), 4);
	assert_int_equal(vb_tmp_commit(&t, why, sizeof(why)), 0);
	snprintf(p, sizeof(p), "%s/backup-a.db", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 4);

	/* Never over an existing file; the temporary goes away; the
	 * reason comes back, for the caller to print once. */
	assert_int_equal(vb_tmp_open(&t, dir, "backup-a.db", why,
	    sizeof(why)), 0);
	assert_int_equal(write(t.fd, "other", 5), 5);
	assert_int_equal(vb_tmp_commit(&t, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "cannot rename"));
	assert_non_null(strstr(why, strerror(EEXIST)));
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 4);
	snprintf(p, sizeof(p), "%s/.vb-tmp-%ld-backup-a.db", dir,
	    (long)getpid());
	assert_int_equal(access(p, F_OK), -1);

	/* A directory that is not there: its name and the reason. */
	snprintf(p, sizeof(p), "%s/gone", dir);
	assert_int_equal(vb_tmp_open(&t, p, "backup-b.db", why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, p));
	assert_non_null(strstr(why, strerror(ENOENT)));
	rm_rf(dir);
}

/* Loads text as the configuration file; returns how many errors. */
static int
load_conf(const char *text)
{
	static char path[] = "/tmp/vb-unit-conf-XXXXXX";
	static int fd = -1;

	if (fd == -1 && (fd = mkstemp(path)) == -1)
		fail_msg("mkstemp: %s", strerror(errno));
	if (ftruncate(fd, 0) != 0 || pwrite(fd, text, strlen(text), 0) !=
	    (ssize_t)strlen(text))
		fail_msg("write %s: %s", path, strerror(errno));
	setenv("VB_CONF", path, 1);
	vb_config_unload();
	return vb_config_load();
}

/* The first error contains want. */
static void
first_error_has(const char *want)
{
	const char *e = vb_config_error(0);

	if (e == NULL || strstr(e, want) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", e != NULL ? e :
		    "(none)", want);
}

static void
config_grammar(void **state)
{
	(void)state;
	unsetenv("DB_PATH");
	unsetenv("BACKUP_DIR");
	unsetenv("MAX_BACKUPS");
	unsetenv("COMPRESSION");
	unsetenv("ON_SUCCESS");
	unsetenv("ON_FAILURE");
	unsetenv("METRICS_FILE");
	/* Comments, export, quotes of both kinds, spaces around =, a
	 * comment after a value, CRLF, an empty value unsetting. */
	assert_int_equal(load_conf("# vb\n\n  export DB_PATH=/srv/a.db\n"
	    "BACKUP_DIR = '/srv/my backups' # here\r\n"
	    "ON_FAILURE=\"mail -s \\\"vb: $VB_SUMMARY\\\" root\"\n"
	    "ON_SUCCESS='touch /x; echo $HOME'\n"
	    "MAX_BACKUPS=9\nMAX_BACKUPS=\n"
	    "METRICS_FILE= # unset, with a note\n"), 0);
	assert_null(vb_config("METRICS_FILE"));
	assert_string_equal(vb_config("ON_SUCCESS"), "touch /x; echo $HOME");
	assert_string_equal(vb_config("DB_PATH"), "/srv/a.db");
	assert_string_equal(vb_config("BACKUP_DIR"), "/srv/my backups");
	assert_string_equal(vb_config("ON_FAILURE"),
	    "mail -s \"vb: $VB_SUMMARY\" root");
	/* Unset again: the default. */
	assert_string_equal(vb_config("MAX_BACKUPS"), "7");
	assert_string_equal(vb_config("COMPRESSION"), "zstd");
	assert_null(vb_config("METRICS_FILE"));
	assert_null(vb_config("NO_SUCH_KEY"));
	/* As in the shell, # starts a comment only after a space. */
	assert_int_equal(load_conf("ON_SUCCESS=#not-a-comment\n"), 0);
	assert_string_equal(vb_config("ON_SUCCESS"), "#not-a-comment");

	/* The environment wins, and is checked too. */
	setenv("MAX_BACKUPS", "4", 1);
	assert_int_equal(load_conf("MAX_BACKUPS=9\n"), 0);
	assert_string_equal(vb_config("MAX_BACKUPS"), "4");
	setenv("MAX_BACKUPS", "four", 1);
	assert_int_equal(load_conf("MAX_BACKUPS=9\n"), 1);
	first_error_has("environment: MAX_BACKUPS");
	assert_string_equal(vb_config("MAX_BACKUPS"), "9");
	unsetenv("MAX_BACKUPS");

	/* A file VB_CONF names that is not there is an error, said so. */
	setenv("VB_CONF", "/nonexistent/vb.conf", 1);
	vb_config_unload();
	assert_int_equal(vb_config_load(), 1);
	first_error_has("VB_CONF=/nonexistent/vb.conf: no such file");
	assert_string_equal(vb_config("MAX_BACKUPS"), "7");
}

static void
config_errors_name_the_line(void **state)
{
	static const struct {
		const char	*text;
		const char	*want;
	} bad[] = {
		{ "MAX_BACKUP=3\n", ":1: unknown key MAX_BACKUP (did you "
		    "mean MAX_BACKUPS?)" },
		{ "\n\nFOO=1\n", ":3: unknown key FOO" },
		{ "MAX_BACKUPS=abc\n", "MAX_BACKUPS must be a whole number" },
		{ "MAX_BACKUPS=0\n", "of 1 or more" },
		{ "MAX_BACKUPS=9#x\n", "whole number" },
		{ "BACKUP_DIR=backups\n", "relative path" },
		{ "BACKUP_DIR=$HOME/b\n", "a shell would interpret" },
		{ "BACKUP_DIR='$HOME/b'\n", "never expands" },
		{ "DB_PATH=\"/a/`id`\"\n", "never expands" },
		{ "DB_PATH=$(touch /tmp/x)\n", "a shell would interpret" },
		{ "DB_PATH=/a;rm -rf /\n", "a shell would interpret" },
		{ "DB_PATH=/a/b c\n", "text after the value" },
		{ "DB_PATH='/a\n", "single quote is not closed" },
		{ "DB_PATH=\"/a\n", "double quote is not closed" },
		{ "DB_PATH\n", "not a KEY=value line" },
		{ "rm -rf /\n", "not a KEY=value line" },
		{ "COMPRESSION=lz4\n", "zstd, gzip, xz or none" },
		{ "HOOK_TIMEOUT=0\n", "seconds from 1" },
		{ "KEEP_WITHIN=week\n", "duration like 7d" },
		{ "BACKUP_INTERVAL=1d\n", "milliseconds" },
		{ "OFFSITE=backups\n", "rclone remote" },
		{ "OFFSITE=:sftp,pass=x:/b\n", "rclone's configuration" },
		{ "OFFSITE=-r:b\n", "may not start" },
		{ "OFFSITE_BWLIMIT=fast\n", "bandwidth" },
		{ "ENCRYPT_TO=recipients.txt\n", "absolute" },
		{ "FULL_EVERY=weekly\n", "duration like 7d" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (load_conf(bad[i].text) != 1)
			fail_msg("\"%s\": %d errors", bad[i].text,
			    vb_config_load());
		first_error_has(bad[i].want);
	}
	/* Every error is reported, and what parsed is still there. */
	assert_int_equal(load_conf("FOO=1\nDB_PATH=/a.db\nBAR=2\n"), 2);
	assert_string_equal(vb_config("DB_PATH"), "/a.db");
	assert_null(vb_config_error(2));
	setenv("VB_CONF", "/nonexistent/vb.conf", 1);
	vb_config_unload();
}

/* rclone paths: joined with one slash, refused when unsafe to pass. */
static void
remote_paths(void **state)
{
	char buf[64], why[512];
	struct vb_listed f[] = {
		{ "backup-2026-11-27T01-00-00-000Z.tar.zst", 10 },
		{ "notes.txt", 1 },
		{ "backup-2026-11-28T01-00-00-000Z.tar.zst", 12 },
		{ ".vb-tmp-12-backup-2026-11-28T01-00-00-000Z.tar.zst", 3 },
		{ "backup-2026-11-28T01-00-00-000Z.db", 40 },
	};
	struct vb_backup *list;
	size_t n;

	(void)state;
	assert_int_equal(vb_remote_join(buf, sizeof(buf), "s3:b/dir", "x"), 0);
	assert_string_equal(buf, "s3:b/dir/x");
	assert_int_equal(vb_remote_join(buf, sizeof(buf), "s3:", "x"), 0);
	assert_string_equal(buf, "s3:x");
	assert_int_equal(vb_remote_join(buf, sizeof(buf), "/srv/", "x"), 0);
	assert_string_equal(buf, "/srv/x");
	assert_int_equal(vb_remote_join(buf, 8, "s3:bucket", "x"), -1);
	assert_int_equal(vb_remote_valid("s3:bucket/vb", why, sizeof(why)), 0);
	assert_int_equal(vb_remote_valid("/srv/vb", why, sizeof(why)), 0);
	assert_int_equal(vb_remote_valid("my-remote:", why, sizeof(why)), 0);
	assert_int_equal(vb_remote_valid("--config=/x", why, sizeof(why)), -1);
	assert_int_equal(vb_remote_valid("rel/dir", why, sizeof(why)), -1);
	assert_int_equal(vb_remote_valid(":s3,secret_access_key=K:b", why,
	    sizeof(why)), -1);
	assert_null(strstr(why, "K:b"));
	assert_int_equal(vb_remote_valid("s3,key=K:b", why, sizeof(why)), -1);
	assert_null(strstr(why, "key=K"));
	/* A remote listing groups as a directory's: vb's names, by stem. */
	assert_int_equal(vb_group(f, 5, &list, &n, why, sizeof(why)), 0);
	assert_int_equal((int)n, 2);
	assert_string_equal(list[0].stem, "backup-2026-11-28T01-00-00-000Z");
	assert_int_equal(list[0].nfiles, 2);
	assert_int_equal((int)list[1].files[0].bytes, 10);
	free(list);
}

/* A manifest as vb-compress writes one. */
static void
sample_manifest(struct vb_manifest *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->vb_version, sizeof(m->vb_version), "%s", VB_VERSION);
	snprintf(m->source, sizeof(m->source), "/var/lib/my app/app.db");
	snprintf(m->host, sizeof(m->host), "app1");
	snprintf(m->created, sizeof(m->created), "2026-11-27T01:00:00.123Z");
	snprintf(m->sqlite_version, sizeof(m->sqlite_version), "3.40.1");
	m->page_size = 4096;
	m->page_count = 15;
	snprintf(m->journal_mode, sizeof(m->journal_mode), "wal");
	m->db_bytes = 61440;
	memset(m->db_sha256, 'a', VB_SHA256_HEX - 1);
	snprintf(m->integrity, sizeof(m->integrity), "ok");
	snprintf(m->integrity_check, sizeof(m->integrity_check),
	    "quick_check");
}

static void
manifest_round_trip(void **state)
{
	struct vb_manifest m, back;
	char text[4096], why[256];
	int n;

	(void)state;
	sample_manifest(&m);
	n = vb_manifest_format(&m, text, sizeof(text));
	assert_true(n > 0);
	assert_int_equal(vb_manifest_parse(text, (size_t)n, &back, why,
	    sizeof(why)), 0);
	assert_memory_equal(&m, &back, sizeof(m));
	/* A later version's key is ignored; the order does not matter. */
	snprintf(text, sizeof(text), "db-bytes: 5\nnew-key: x\nformat: 1\n"
	    "db-sha256: %s\n", "0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef");
	assert_int_equal(vb_manifest_parse(text, strlen(text), &back, why,
	    sizeof(why)), 0);
	assert_int_equal(back.db_bytes, 5);
	assert_int_equal(back.page_size, -1);
	/* Too small a buffer is an error, not a cut manifest. */
	assert_int_equal(vb_manifest_format(&m, text, 40), -1);
}

/* Row counts go into the manifest and come back, names with spaces too;
 * a bad rows line is refused. */
static void
manifest_rows(void **state)
{
	struct vb_manifest m, back;
	char text[4096], why[256];
	int n;

	(void)state;
	sample_manifest(&m);
	assert_int_equal(vb_rows_add_line(&m.rows, "7158278 orders"), 0);
	assert_int_equal(vb_rows_add_line(&m.rows, "0 my table"), 0);
	assert_int_equal(vb_rows_add_line(&m.rows, "x orders"), -1);
	assert_int_equal(vb_rows_add_line(&m.rows, "12"), -1);
	m.rows.omitted = 2;
	n = vb_manifest_format(&m, text, sizeof(text));
	assert_true(n > 0);
	assert_non_null(strstr(text, "rows: 7158278 orders\nrows: 0 my "
	    "table\nrows-omitted: 2\n"));
	assert_int_equal(vb_manifest_parse(text, (size_t)n, &back, why,
	    sizeof(why)), 0);
	assert_memory_equal(&m, &back, sizeof(m));
	assert_int_equal(vb_rows_get(&back.rows, "my table"), 0);
	assert_int_equal(vb_rows_get(&back.rows, "orders"), 7158278);
	assert_int_equal(vb_rows_get(&back.rows, "order"), -1);
	snprintf(text + n, sizeof(text) - (size_t)n, "rows: many orders\n");
	assert_int_equal(vb_manifest_parse(text, strlen(text), &back, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "bad rows"));
}

/* The signed catalog's text: one strict reading, written back the same;
 * an entry twice, out of order, or not a backup archive is refused. */
static void
catalog_strict(void **state)
{
	static const char head[] = "vb-catalog: 1\nsequence: 42\n"
	    "written: 2026-12-05T01:00:09.123Z\nhost: app1\n";
	static const char a[] = "backup: backup-2026-12-03T01-00-00-000Z."
	    "tar.zst 0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
	    "abcdef 100 2026-12-03T01:00:00.000Z\n";
	static const char b[] = "backup: backup-2026-12-04T01-00-00-000Z."
	    "delta.tar.zst.age fedcba9876543210fedcba9876543210fedcba98765432"
	    "10fedcba9876543210 7 2026-12-04T01:00:00.000Z\n";
	struct vb_catalog c, back;
	char text[2048], why[512], *out;
	ssize_t n;

	(void)state;
	snprintf(text, sizeof(text), "%s%s%s", head, a, b);
	assert_int_equal(vb_catalog_parse(text, strlen(text), &c, why,
	    sizeof(why)), 0);
	assert_int_equal(c.seq, 42);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.e[1].bytes, 7);
	assert_ptr_equal(vb_catalog_find(&c, "backup-2026-12-04T01-00-00-000Z."
	    "delta.tar.zst.age"), &c.e[1]);
	assert_null(vb_catalog_find(&c, "backup-2026-12-05T01-00-00-000Z."
	    "tar.zst"));
	n = vb_catalog_format(&c, &out);
	assert_int_equal(n, (ssize_t)strlen(text));
	assert_memory_equal(out, text, (size_t)n);
	free(out);
	vb_catalog_free(&c);
	/* Twice, out of order, a raw snapshot, a short hash, no header. */
	snprintf(text, sizeof(text), "%s%s%s", head, a, a);
	assert_int_equal(vb_catalog_parse(text, strlen(text), &back, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "listed twice"));
	snprintf(text, sizeof(text), "%s%s%s", head, b, a);
	assert_int_equal(vb_catalog_parse(text, strlen(text), &back, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "out of order"));
	snprintf(text, sizeof(text), "%sbackup: backup-2026-12-03T01-00-00-"
	    "000Z.db 0123456789abcdef0123456789abcdef0123456789abcdef01234567"
	    "89abcdef 1 x\n", head);
	assert_int_equal(vb_catalog_parse(text, strlen(text), &back, why,
	    sizeof(why)), -1);
	snprintf(text, sizeof(text), "%sbackup: backup-2026-12-03T01-00-00-"
	    "000Z.tar 0123 1 x\n", head);
	assert_int_equal(vb_catalog_parse(text, strlen(text), &back, why,
	    sizeof(why)), -1);
	assert_int_equal(vb_catalog_parse(a, strlen(a), &back, why,
	    sizeof(why)), -1);
	/* Without its last newline: not a whole catalog. */
	snprintf(text, sizeof(text), "%s%s", head, a);
	assert_int_equal(vb_catalog_parse(text, strlen(text) - 1, &back, why,
	    sizeof(why)), -1);
}

/* A signature's shape: armored text of a sane size, nothing else. */
static void
signature_shape(void **state)
{
	char sig[2048], why[256];

	(void)state;
	snprintf(sig, sizeof(sig), "-----BEGIN SSH SIGNATURE-----\n%s\n"
	    "-----END SSH SIGNATURE-----\n", "U1NIU0lHAAAAAQAAADMAAAALc3NoLWVk"
	    "MjU1MTkAAAAgJGGT8rgjpUKD62EY5GiByU2Re7SweG8XH98LFUPCHecAAAACdmIA");
	assert_int_equal(vb_sig_shape(sig, strlen(sig), why, sizeof(why)), 0);
	assert_int_equal(vb_sig_shape(sig, 60, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "truncated"));
	assert_int_equal(vb_sig_shape(sig, VB_SIG_MAX + 1, why, sizeof(why)),
	    -1);
	assert_non_null(strstr(why, "oversized"));
	sig[40] = (char)0xc3;
	assert_int_equal(vb_sig_shape(sig, strlen(sig), why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not text"));
}

static void	days(struct vb_backup *list, int n, time_t ts0,
		    enum vb_kind kind);

/*
 * One night's counts (one or two "count table" lines) into r, compared
 * by vb_rows_loss in dir as backup stem; warn (1024 bytes) says a loss.
 */
static int
night(const char *dir, const char *stem, const char *a, const char *b,
    struct vb_rows *r, char *warn)
{
	char why[512];

	memset(r, 0, sizeof(*r));
	vb_rows_add_line(r, a);
	if (b != NULL)
		vb_rows_add_line(r, b);
	return vb_rows_loss(dir, stem, r, warn, 1024, why, sizeof(why));
}

/* A table down by over half and 100 rows holds the backup before it;
 * less is no loss; a held backup is kept by retention. */
static void
rows_loss_and_hold(void **state)
{
	char dir[] = "/tmp/vb-unit-XXXXXX", warn[1024], why[512];
	struct vb_rows r;
	struct vb_hold h;
	struct vb_backup list[3];
	struct vb_policy p;

	(void)state;
	mkdtemp_or_fail(dir);
	assert_int_equal(night(dir, "backup-a", "1000 orders", "150 users",
	    &r, warn), 0);
	assert_string_equal(warn, "");
	/* users: 150 to 60 (over half, but only 90); orders: 1000 to 501. */
	assert_int_equal(night(dir, "backup-b", "501 orders", "60 users", &r,
	    warn), 0);
	assert_string_equal(warn, "");
	/* orders gone: backup-b is held, by backup-c. */
	assert_int_equal(night(dir, "backup-c", "10 users", NULL, &r, warn),
	    0);
	assert_non_null(strstr(warn, "sudden loss: table orders has 0 rows in "
	    "backup-c, 501 in backup-b before it (501 gone)"));
	assert_int_equal(vb_hold_read(dir, "backup-b", &h), 0);
	assert_string_equal(h.by, "backup-c");
	assert_int_equal(vb_hold_read(dir, "backup-a", &h), -1);
	/* An older backup's counts never replace a newer one's. */
	assert_int_equal(vb_rows_loss(dir, "backup-0", &r, warn, 1024, why,
	    sizeof(why)), 0);
	assert_string_equal(warn, "");
	/* Retention keeps it (one backup asked for), until released. */
	days(list, 3, 1767229200, VB_KIND_BACKUP);
	snprintf(list[1].stem, sizeof(list[1].stem), "backup-b");
	vb_holds_mark(dir, list, 3);
	memset(&p, 0, sizeof(p));
	p.keep = 1;
	vb_retention(list, 3, &p);
	assert_int_equal(list[1].keep, VB_KEEP_HELD);
	assert_int_equal(list[2].keep, VB_DROP);
	assert_int_equal(vb_hold_release(dir, "backup-b", why, sizeof(why)),
	    0);
	assert_int_equal(vb_hold_release(dir, "backup-b", why, sizeof(why)),
	    1);
	rm_rf(dir);
}

#define Z32	"00000000000000000000000000000000"
#define Z63	Z32 "0000000000000000000000000000000"
#define Z64	Z32 Z32

static void
manifest_refusals(void **state)
{
	static const struct {
		const char	*text;
		const char	*want;
	} bad[] = {
		{ "format: 2\ndb-bytes: 1\ndb-sha256: " Z64 "\n", "format 2" },
		{ "db-bytes: 1\ndb-sha256: " Z64 "\n", "format -1" },
		{ "format: 1\ndb-sha256: " Z64 "\n", "db-bytes or db-sha256" },
		{ "format: 1\nformat: 1\ndb-bytes: 1\ndb-sha256: " Z64 "\n",
		    "format given twice" },
		{ "format: 1\ndb-bytes: x\ndb-sha256: " Z64 "\n",
		    "bad db-bytes" },
		{ "format: 1\ndb-bytes: 1\ndb-sha256: " Z63 "\n",
		    "bad db-sha256" },
		{ "format: 1\ndb-bytes: 1\ndb-sha256: " Z64 "\nnonsense\n",
		    "not a \"key: value\" line" },
	};
	struct vb_manifest m;
	char text[512], why[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%s", bad[i].text);
		assert_int_equal(vb_manifest_parse(text, strlen(text), &m, why,
		    sizeof(why)), -1);
		if (strstr(why, bad[i].want) == NULL)
			fail_msg("\"%s\": \"%s\" lacks \"%s\"", bad[i].text,
			    why, bad[i].want);
	}
	assert_int_equal(vb_manifest_parse("format: 1\0x", 11, &m, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "NUL"));
}

static void
snapshot_message(void **state)
{
	struct vb_snapmeta meta, back;
	char out[256];
	char msg[] = "quick_check=ok journal=wal pages=15 page_size=4096 "
	    "source=/var/lib/my app/a=b.db";
	char full[] = "integrity=ok journal=delete source=/a.db";
	char odd[] = "garbage words journal= quick_check";

	(void)state;
	vb_snapmeta_parse(msg, &meta);
	assert_string_equal(meta.integrity, "ok");
	assert_string_equal(meta.check, "quick_check");
	assert_string_equal(meta.journal, "wal");
	/* source= is last and takes the rest, spaces and = included. */
	assert_string_equal(meta.source, "/var/lib/my app/a=b.db");
	vb_snapmeta_parse(full, &meta);
	assert_string_equal(meta.check, "integrity_check");
	assert_string_equal(meta.journal, "delete");
	vb_snapmeta_parse(odd, &meta);
	assert_null(meta.source);
	assert_null(meta.integrity);
	assert_string_equal(meta.journal, "");
	assert_null(meta.sha256);
	/* The writer's words are the reader's: one grammar, one owner. */
	memset(&back, 0, sizeof(back));
	back.check = "integrity_check";
	back.integrity = "deferred";
	back.journal = "wal";
	back.pages = 15;
	back.page_size = 4096;
	back.source = "/var/lib/my app/a=b.db";
	assert_int_equal(vb_snapmeta_format(&back, out, sizeof(out)), 0);
	assert_string_equal(out, "integrity=deferred journal=wal pages=15 "
	    "page_size=4096 source=/var/lib/my app/a=b.db");
	vb_snapmeta_parse(out, &meta);
	assert_string_equal(meta.check, "integrity_check");
	assert_string_equal(meta.integrity, "deferred");
	assert_int_equal(meta.pages, 15);
	assert_int_equal(meta.page_size, 4096);
	assert_string_equal(meta.source, back.source);
	assert_int_equal(vb_snapmeta_format(&back, out, 20), -1);
}

/* vb_json_string of s, as a string. */
static char *
json_of(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	vb_json_string(fp, s);
	fclose(fp);
	return buf;
}

static void
json_strings(void **state)
{
	static const struct {
		const char	*in;
		const char	*out;
	} cases[] = {
		{ "plain", "\"plain\"" },
		{ "a \"q\" \\ b", "\"a \\\"q\\\" \\\\ b\"" },
		{ "tab\tnl\ncr\r\001", "\"tab\\tnl\\ncr\\u000d\\u0001\"" },
		{ "caf\xc3\xa9 \xe2\x82\xac", "\"caf\xc3\xa9 \xe2\x82\xac\"" },
		{ "bad \xff byte", "\"bad \\ufffd byte\"" },
		{ "c1 \xc2\x9b del \x7f", "\"c1 \\u009b del \\u007f\"" },
		{ "cut \xe2\x82", "\"cut \\ufffd\\ufffd\"" },
	};
	size_t i;
	char *got;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = json_of(cases[i].in);
		assert_string_equal(got, cases[i].out);
		free(got);
	}
	got = json_of(NULL);
	assert_string_equal(got, "null");
	free(got);
}

static void
backuplog_columns(void **state)
{
	struct vb_log_query q = { 0, NULL, 10 };
	struct vb_log_row row;
	struct vb_log_map m;
	sqlite3_stmt *st;
	char why[256];
	sqlite3 *db;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	/* No table at all. */
	assert_int_equal(vb_backuplog_map(db, &m), -1);
	/* The old service's names: size, duration; case does not matter. */
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE BackupLog (id "
	    "INTEGER PRIMARY KEY, CREATEDAT TEXT, filename TEXT, size "
	    "INTEGER, status TEXT, operation TEXT, duration INTEGER, "
	    "message TEXT); INSERT INTO BackupLog VALUES (1, "
	    "'2026-11-27T01:00:00.000Z', 'a\tb.tar.zst', 9, 'success', "
	    "'compress', 7, 'line\none'), (2, '2026-11-28T01:00:00.000Z', "
	    "NULL, NULL, 'failure', 'snapshot', NULL, NULL)", NULL, NULL,
	    NULL), SQLITE_OK);
	assert_int_equal(vb_backuplog_map(db, &m), 0);
	assert_string_equal(m.have[0], "createdAt");
	assert_string_equal(m.have[4], "size");
	assert_string_equal(m.have[6], "duration");
	assert_null(m.have[5]);			/* no sha256 */
	assert_string_equal(m.ok, "success");
	assert_string_equal(m.failed, "failure");
	/* Read back newest first, as records. */
	assert_int_equal(vb_backuplog_query(db, ":memory:", &q, &m, &st, why,
	    sizeof(why)), 0);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	vb_backuplog_row(st, &m, &row);
	assert_string_equal(row.r.op, "snapshot");
	assert_false(row.r.ok);
	assert_string_equal(row.r.path, "-");
	assert_int_equal(row.r.bytes, -1);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	vb_backuplog_row(st, &m, &row);
	assert_true(row.r.ok);
	assert_string_equal(row.r.path, "a?b.tar.zst");	/* cleaned */
	assert_int_equal(row.r.bytes, 9);
	assert_int_equal(row.r.ms, 7);
	assert_string_equal(row.r.msg, "line?one");
	assert_string_equal(row.r.time, "2026-11-27T01:00:00.000Z");
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	/* --failures: only the failure. */
	q.failures = 1;
	assert_int_equal(vb_backuplog_query(db, ":memory:", &q, &m, &st, why,
	    sizeof(why)), 0);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void
backuplog_words(void **state)
{
	static const struct {
		const char	*table;
		const char	*ok, *failed, *op;
	} cases[] = {
		/* The Node service's: a CHECK, no operation column. */
		{ "CREATE TABLE BackupLog (id INTEGER PRIMARY KEY, filename "
		    "TEXT, size INTEGER, status TEXT CHECK(status IN "
		    "('SUCCESS', 'FAILED')), message TEXT, createdAt TEXT)",
		    "SUCCESS", "FAILED", NULL },
		/* Words from the rows already there. */
		{ "CREATE TABLE BackupLog (created_at TEXT, op TEXT, state "
		    "TEXT); INSERT INTO BackupLog VALUES ('x', 'y', 'ok'), "
		    "('x', 'y', 'error')", "ok", "error", "op" },
		/* One word alone brings its pair's other. */
		{ "CREATE TABLE BackupLog (timestamp TEXT, status TEXT); "
		    "INSERT INTO BackupLog VALUES ('x', 'FAILED')", "SUCCESS",
		    "FAILED", NULL },
		{ "CREATE TABLE BackupLog (createdAt TEXT, \"Status\" TEXT "
		    "CHECK (\"Status\" in ('done','failed')))", "done",
		    "failed", NULL },
	};
	struct vb_log_map m;
	sqlite3 *db;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, cases[i].table, NULL, NULL,
		    NULL), SQLITE_OK);
		assert_int_equal(vb_backuplog_map(db, &m), 0);
		assert_string_equal(m.ok, cases[i].ok);
		assert_string_equal(m.failed, cases[i].failed);
		if (cases[i].op == NULL)
			assert_null(m.have[1]);
		else
			assert_string_equal(m.have[1], cases[i].op);
		sqlite3_close(db);
	}
	assert_true(vb_log_status_ok("SUCCESS"));
	assert_true(vb_log_status_ok("Done"));
	assert_false(vb_log_status_ok("FAILED"));
	assert_false(vb_log_status_ok(NULL));
}

/* Logs a failure and a success into a table made by sql; 0 or -1. */
static int
log_two(const char *sql, const char *path)
{
	struct vb_backuplog *l;
	struct vb_record bad, ok;
	char why[512];
	sqlite3 *db;
	int rc;

	unlink(path);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	sqlite3_close(db);
	vb_record_init(&bad, "backup", "-");
	bad.ok = 0;
	bad.msg = "failed at config: x";
	snprintf(bad.time, sizeof(bad.time), "2026-11-27T01:00:00.250Z");
	vb_record_init(&ok, "compress", "/b/backup-x.tar.zst");
	ok.ok = 1;
	ok.bytes = 10;
	ok.msg = "zstd";
	snprintf(ok.time, sizeof(ok.time), "2026-11-28T01:00:00.000Z");
	if ((l = vb_backuplog_open(path, why, sizeof(why))) == NULL)
		return -1;
	rc = vb_backuplog_write(l, &bad, 1, why, sizeof(why)) != 0 ||
	    vb_backuplog_write(l, &ok, 1, why, sizeof(why)) != 0 ? -1 : 0;
	vb_backuplog_close(l);
	return rc;
}

static void
backuplog_strict(void **state)
{
	static const struct {
		const char	*table;
		const char	*rows;	/* what the failure row holds */
		int64_t		 count;	/* rows --show reads back */
		const char	*when;	/* the failure's, read back */
	} cases[] = {
		/* NOT NULL filename, integer milliseconds, updatedAt. */
		{ "CREATE TABLE BackupLog (id INTEGER PRIMARY KEY "
		    "AUTOINCREMENT, filename TEXT NOT NULL, size INTEGER NOT "
		    "NULL, status TEXT NOT NULL CHECK(status IN ('SUCCESS', "
		    "'FAILED')), message TEXT, createdAt INTEGER NOT NULL, "
		    "updatedAt INTEGER NOT NULL)",
		    "|0|FAILED|backup: failed at config: x|1795741200250|"
		    "1795741200250", 2, "2026-11-27T01:00:00.250Z" },
		/* Unix seconds, learnt from a row already there. */
		{ "CREATE TABLE BackupLog (id INTEGER PRIMARY KEY, status "
		    "TEXT, createdAt INTEGER NOT NULL, host TEXT NOT NULL); "
		    "INSERT INTO BackupLog VALUES (1, 'ok', 1700000000, 'a')",
		    "error|1795741200|", 3, "2026-11-27T01:00:00.000Z" },
		/* Sequelize's DATETIME text, learnt from its rows. */
		{ "CREATE TABLE BackupLog (id INTEGER PRIMARY KEY, status "
		    "TEXT, createdAt DATETIME NOT NULL, updatedAt DATETIME "
		    "NOT NULL); INSERT INTO BackupLog VALUES (1, 'SUCCESS', "
		    "'2023-10-02 18:30:00.000 +00:00', "
		    "'2023-10-02 18:30:00.000 +00:00')",
		    "FAILED|2026-11-27 01:00:00.250 +00:00|"
		    "2026-11-27 01:00:00.250 +00:00", 3,
		    "2026-11-27T01:00:00.250Z" },
	};
	struct vb_log_query q = { 0, NULL, -1 };
	struct vb_log_row row;
	struct vb_log_map m;
	char dir[] = "/tmp/vb-unit-XXXXXX", path[256], got[512], why[512];
	sqlite3_stmt *st;
	sqlite3 *db;
	int64_t n;
	size_t i;

	(void)state;
	mkdtemp_or_fail(dir);
	snprintf(path, sizeof(path), "%s/a.db", dir);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(log_two(cases[i].table, path), 0);
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		/* The failure row is there. */
		assert_int_equal(sqlite3_exec(db, "CREATE TEMP VIEW f AS "
		    "SELECT * FROM BackupLog WHERE rowid = (SELECT min(rowid) "
		    "FROM BackupLog WHERE status LIKE 'f%' OR status LIKE "
		    "'e%')", NULL, NULL, NULL), SQLITE_OK);
		assert_int_equal(vb_db_int(db, "SELECT count(*) FROM f", &n),
		    0);
		assert_int_equal(n, 1);
		/* Read back: newest first, times as vb writes them. */
		assert_int_equal(vb_backuplog_query(db, path, &q, &m, &st, why,
		    sizeof(why)), 0);
		for (n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
			vb_backuplog_row(st, &m, &row);
			if (n == 0)
				assert_string_equal(row.r.time,
				    "2026-11-28T01:00:00.000Z");
			if (n == 1) {
				assert_string_equal(row.r.time,
				    cases[i].when);
				assert_false(row.r.ok);
			}
		}
		sqlite3_finalize(st);
		assert_int_equal(n, cases[i].count);
		sqlite3_close(db);
	}
	/* What the first table's failure row holds, column by column. */
	assert_int_equal(log_two(cases[0].table, path), 0);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(vb_db_text(db, "SELECT filename || '|' || size || '|' "
	    "|| status || '|' || message || '|' || createdAt || '|' || "
	    "updatedAt FROM BackupLog WHERE id = 1", got, sizeof(got)), 0);
	assert_string_equal(got, cases[0].rows);
	sqlite3_close(db);
	/* And the check proves both rows go in, leaving none behind. */
	assert_int_equal(vb_backuplog_check(path, got, sizeof(got), why,
	    sizeof(why)), 0);
	assert_non_null(strstr(got, "Unix milliseconds"));
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(vb_db_int(db, "SELECT count(*) FROM BackupLog", &n),
	    0);
	assert_int_equal(n, 2);
	/* A table whose CHECK refuses a failure row: the check says so. */
	assert_int_equal(sqlite3_exec(db, "DROP TABLE BackupLog; CREATE TABLE "
	    "BackupLog (createdAt TEXT, status TEXT, filename TEXT NOT NULL "
	    "CHECK(filename LIKE '%.tar%'))", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(vb_backuplog_check(path, why, sizeof(why), got,
	    sizeof(got)), -1);
	assert_non_null(strstr(got, "would refuse a failure row"));
	unlink(path);
	rmdir(dir);
}

static void
mkdir_mode(void **state)
{
	char dir[] = "/tmp/vb-unit-XXXXXX", p[256], why[512];
	struct stat st;
	mode_t old;

	(void)state;
	mkdtemp_or_fail(dir);
	snprintf(p, sizeof(p), "%s/a/b", dir);
	old = umask(0777);
	assert_int_equal(vb_mkdir_p(p, why, sizeof(why)), 0);
	umask(old);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	snprintf(p, sizeof(p), "%s/f", dir);
	close(open(p, O_CREAT | O_WRONLY, 0600));
	assert_int_equal(vb_mkdir_p(p, why, sizeof(why)), -1);
	assert_non_null(strstr(why, p));
	assert_non_null(strstr(why, "not a directory"));
	snprintf(p, sizeof(p), "/proc/nope/x");
	assert_int_equal(vb_mkdir_p(p, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "cannot create directory /proc/nope"));
	rm_rf(dir);
}

static void
stale_only_dead_writers(void **state)
{
	char dir[] = "/tmp/vb-unit-XXXXXX", p[300], note[1024];
	pid_t dead;
	int fd;

	(void)state;
	mkdtemp_or_fail(dir);
	if ((dead = fork()) == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	snprintf(p, sizeof(p), "%s/.vb-tmp-%ld-backup-x.db", dir, (long)dead);
	close(open(p, O_CREAT | O_WRONLY, 0600));
	snprintf(p, sizeof(p), "%s/.vb-tmp-%ld-backup-y.db", dir,
	    (long)getppid());
	close(open(p, O_CREAT | O_WRONLY, 0600));
	snprintf(p, sizeof(p), "%s/.vb-tmp-x-backup-z.db", dir);
	close(open(p, O_CREAT | O_WRONLY, 0600));
	snprintf(p, sizeof(p), "%s/notes.txt", dir);
	close(open(p, O_CREAT | O_WRONLY, 0600));

	assert_int_equal(vb_clean_stale(dir, note, sizeof(note)), 1);
	snprintf(p, sizeof(p), "%s/.vb-tmp-%ld-backup-x.db", dir, (long)dead);
	assert_int_equal(access(p, F_OK), -1);
	assert_non_null(strstr(note, p));
	snprintf(p, sizeof(p), "%s/.vb-tmp-%ld-backup-y.db", dir,
	    (long)getppid());
	assert_int_equal(access(p, F_OK), 0);
	snprintf(p, sizeof(p), "%s/.vb-tmp-x-backup-z.db", dir);
	assert_int_equal(access(p, F_OK), 0);
	snprintf(p, sizeof(p), "%s/notes.txt", dir);
	assert_int_equal(access(p, F_OK), 0);
	assert_int_equal(vb_clean_stale("/nonexistent/dir", note,
	    sizeof(note)), 0);
	assert_string_equal(note, "");
	(void)fd;
	rm_rf(dir);
}

static void
durations(void **state)
{
	struct vb_duration d;

	(void)state;
	assert_int_equal(vb_parse_duration("7d", &d), 0);
	assert_int_equal(d.days, 7);
	assert_int_equal(vb_parse_duration("1y6m2w36h", &d), 0);
	assert_int_equal(d.years, 1);
	assert_int_equal(d.months, 6);
	assert_int_equal(d.days, 14);
	assert_int_equal(d.hours, 36);
	assert_int_equal(vb_parse_duration("", &d), -1);
	assert_int_equal(vb_parse_duration("7", &d), -1);
	assert_int_equal(vb_parse_duration("d", &d), -1);
	assert_int_equal(vb_parse_duration("-1d", &d), -1);
	assert_int_equal(vb_parse_duration("7x", &d), -1);
	assert_int_equal(vb_parse_duration("7d ", &d), -1);
}

/* Fills list with n backups, one a day at 01:00 from ts0, newest first. */
static void
days(struct vb_backup *list, int n, time_t ts0, enum vb_kind kind)
{
	int i;

	for (i = 0; i < n; i++) {
		memset(&list[i], 0, sizeof(list[i]));
		list[i].kind = kind;
		list[i].when.tv_sec = ts0 + (time_t)(n - 1 - i) * 86400;
		snprintf(list[i].stem, sizeof(list[i].stem), "b%d", i);
	}
}

static void
retention_rules(void **state)
{
	struct vb_backup list[40];
	struct vb_policy p;
	int i, kept;

	(void)state;
	/* 2026-01-01T01:00:00Z, a Thursday. */
	days(list, 40, 1767229200, VB_KIND_BACKUP);
	memset(&p, 0, sizeof(p));
	p.keep = 5;
	vb_retention(list, 40, &p);
	for (i = 0, kept = 0; i < 40; i++)
		kept += list[i].keep != VB_DROP;
	assert_int_equal(kept, 5);
	assert_true(list[0].keep && list[4].keep && !list[5].keep);

	/* Weekly: the newest of each of the last 3 ISO weeks. */
	memset(&p, 0, sizeof(p));
	p.weekly = 3;
	vb_retention(list, 40, &p);
	for (i = 0, kept = 0; i < 40; i++)
		kept += list[i].keep != VB_DROP;
	assert_int_equal(kept, 3);
	/* Newest: Monday 2026-02-09; then Sun 02-08 and Sun 02-01. */
	assert_true(list[0].keep && list[1].keep && list[8].keep);

	/* A policy of nothing still keeps the newest. */
	memset(&p, 0, sizeof(p));
	vb_retention(list, 40, &p);
	assert_true(list[0].keep);
	for (i = 1; i < 40; i++)
		assert_false(list[i].keep);
}

/* A kept delta keeps its chain: its named parent, else the one before. */
static void
retention_chains(void **state)
{
	struct vb_backup list[10];
	struct vb_policy p;
	int i;

	(void)state;
	days(list, 10, 1767229200, VB_KIND_BACKUP);
	/* Oldest first: b9 full, b8..b3 deltas, b2 full, b1 b0 deltas. */
	for (i = 0; i < 10; i++)
		list[i].delta = i != 9 && i != 2;
	memset(&p, 0, sizeof(p));
	p.keep = 1;
	vb_retention(list, 10, &p);
	assert_int_equal(list[0].keep, VB_KEEP_POLICY);
	assert_int_equal(list[1].keep, VB_KEEP_PARENT);
	assert_int_equal(list[2].keep, VB_KEEP_PARENT);
	/* No index names b0's parent: it may lean on any back to b2. */
	assert_int_equal(list[2].needed_by, 0);
	for (i = 3; i < 10; i++)
		assert_false(list[i].keep);
	/* A parent named by its index wins over the one before. */
	snprintf(list[0].parent, sizeof(list[0].parent), "b5");
	list[1].delta = 0;
	vb_retention(list, 10, &p);
	assert_int_equal(list[5].keep, VB_KEEP_PARENT);
	assert_false(list[1].keep);
	/* b5 is a delta too: its chain down to b9 is kept. */
	for (i = 6; i < 10; i++)
		assert_int_equal(list[i].keep, VB_KEEP_PARENT);
	assert_false(list[2].keep || list[3].keep || list[4].keep);
}

/* Delta names, and a delta's manifest: what it must say. */
static void
delta_names_and_manifest(void **state)
{
	struct vb_manifest m, back;
	struct vb_name nm;
	char text[4096], why[256], name[128];
	int n;

	(void)state;
	assert_int_equal(vb_name_parse("backup-2026-11-27T01-00-00-000Z"
	    ".delta.tar.zst.age", &nm), 0);
	assert_true(nm.delta && nm.encrypted && nm.ext == VB_EXT_TAR_ZST);
	assert_string_equal(nm.stem, "backup-2026-11-27T01-00-00-000Z");
	assert_int_equal(vb_name_format(&nm, name, sizeof(name)), 0);
	assert_string_equal(name, "backup-2026-11-27T01-00-00-000Z"
	    ".delta.tar.zst.age");
	/* No raw delta, no pre-restore delta. */
	assert_int_equal(vb_name_parse("backup-2026-11-27T01-00-00-000Z"
	    ".delta.db", &nm), -1);
	assert_int_equal(vb_name_parse("pre-restore-2026-11-27T01-00-00-000Z"
	    ".delta.tar.zst", &nm), -1);

	sample_manifest(&m);
	m.delta = 1;
	snprintf(m.parent, sizeof(m.parent), "backup-2026-11-26T01-00-00-000Z");
	memset(m.parent_db_sha256, 'b', VB_SHA256_HEX - 1);
	memset(m.index_sha256, 'c', VB_SHA256_HEX - 1);
	m.pages = 3;
	n = vb_manifest_format(&m, text, sizeof(text));
	assert_true(n > 0);
	assert_non_null(strstr(text, "kind: delta\nparent: backup-"));
	assert_int_equal(vb_manifest_parse(text, (size_t)n, &back, why,
	    sizeof(why)), 0);
	assert_memory_equal(&m, &back, sizeof(m));
	/* A delta whose sizes do not agree, or without a parent. */
	m.db_bytes += 1;
	n = vb_manifest_format(&m, text, sizeof(text));
	assert_int_equal(vb_manifest_parse(text, (size_t)n, &back, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "do not agree"));
	m.db_bytes -= 1;
	snprintf(m.parent, sizeof(m.parent), "../etc/passwd");
	n = vb_manifest_format(&m, text, sizeof(text));
	assert_int_equal(vb_manifest_parse(text, (size_t)n, &back, why,
	    sizeof(why)), -1);
}

/* Pages hashed as they come, in pieces of any size. */
static void
page_index_feed(void **state)
{
	struct vb_pages a, b;
	unsigned char buf[3 * 4096], h[VB_PAGE_HASH];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7 + i / 4096);
	vb_pages_init(&a, 4096);
	assert_int_equal(vb_pages_feed(&a, buf, sizeof(buf)), 0);
	vb_pages_init(&b, 4096);
	for (i = 0; i < sizeof(buf); i += 1000)
		assert_int_equal(vb_pages_feed(&b, buf + i,
		    sizeof(buf) - i < 1000 ? sizeof(buf) - i : 1000), 0);
	assert_int_equal(a.count, 3);
	assert_int_equal(b.count, 3);
	assert_int_equal(b.plen, 0);
	assert_memory_equal(a.h, b.h, 3 * VB_PAGE_HASH);
	vb_page_hash(buf + 4096, 4096, h);
	assert_memory_equal(a.h + VB_PAGE_HASH, h, VB_PAGE_HASH);
	vb_pages_free(&a);
	vb_pages_free(&b);
}

/* Writes len bytes of c into dir/name; 0 or -1. */
static int
put_file(const char *dir, const char *name, int c, size_t len)
{
	char path[512], buf[4096];
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	memset(buf, c, sizeof(buf));
	if ((fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600)) == -1)
		return -1;
	rc = write(fd, buf, len) == (ssize_t)len ? 0 : -1;
	close(fd);
	return rc;
}

/*
 * A link proven against the SHA-256 its index recorded: good, damaged,
 * missing, unknown (an old index); damage recorded, seen by the
 * listing's health and by retention, and healed by a good copy.
 */
static void
link_damage(void **state)
{
	static const char full[] = "backup-2026-11-01T01-00-00-000Z.tar.zst";
	static const char delta[] =
	    "backup-2026-11-02T01-00-00-000Z.delta.tar.zst";
	char dir[] = "/tmp/vb-unit-XXXXXX", why[512], path[512];
	struct vb_policy pol;
	struct vb_backup *list;
	struct vb_index x, back;
	struct vb_fault f;
	size_t n;
	int fd;

	(void)state;
	mkdtemp_or_fail(dir);
	assert_int_equal(put_file(dir, full, 'a', 1000), 0);
	assert_int_equal(put_file(dir, delta, 'b', 100), 0);
	memset(&x, 0, sizeof(x));
	vb_pages_init(&x.p, 4096);
	snprintf(x.stem, sizeof(x.stem), "backup-2026-11-01T01-00-00-000Z");
	snprintf(x.archive, sizeof(x.archive), "%s", full);
	x.archive_bytes = 1000;
	snprintf(path, sizeof(path), "%s/%s", dir, full);
	fd = open(path, O_RDONLY);
	assert_int_equal(vb_sha256_fd(fd, x.archive_sha256), 1000);
	close(fd);
	assert_int_equal(vb_index_write(dir, &x, why, sizeof(why)), 0);
	assert_int_equal(vb_index_read(dir, x.stem, 1, &back, why,
	    sizeof(why)), 0);
	assert_string_equal(back.archive_sha256, x.archive_sha256);
	assert_int_equal(vb_link_check(dir, &back, 0, &f, why, sizeof(why)),
	    0);
	/* One byte changed: damaged, both hashes said. */
	assert_int_equal(put_file(dir, full, 'a', 999), 0);
	assert_int_equal(vb_link_check(dir, &back, 3, &f, why, sizeof(why)),
	    1);
	assert_false(f.missing);
	assert_string_equal(f.recorded, x.archive_sha256);
	assert_string_not_equal(f.found, x.archive_sha256);
	vb_fault_text(&f, dir, why, sizeof(why));
	assert_non_null(strstr(why, "is damaged: its SHA-256 is"));
	assert_non_null(strstr(why, "the 3 backups built on it"));
	/* Recorded: the listing sees it, and the delta on it. */
	assert_int_equal(vb_damage_mark(dir, &f, why, sizeof(why)), 0);
	assert_int_equal(vb_scan(dir, &list, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 2);
	snprintf(list[0].parent, sizeof(list[0].parent), "%s", x.stem);
	assert_int_equal(vb_health(dir, list, n, 0, 1, NULL, why,
	    sizeof(why)), 0);
	assert_true(list[1].damaged);
	assert_true(list[1].unsafe);
	assert_true(list[0].unsafe);
	assert_non_null(strstr(list[0].why, "which cannot be restored"));
	/* Retention counts neither and keeps both. */
	memset(&pol, 0, sizeof(pol));
	pol.keep = 1;
	vb_retention(list, n, &pol);
	assert_int_equal(list[0].keep, VB_KEEP_UNSAFE);
	assert_int_equal(list[1].keep, VB_KEEP_UNSAFE);
	/* A good copy put back: the record goes. */
	assert_int_equal(put_file(dir, full, 'a', 1000), 0);
	assert_int_equal(vb_health(dir, list, n, 0, 1, NULL, why,
	    sizeof(why)), 0);
	assert_false(list[1].damaged);
	assert_false(list[0].unsafe);
	snprintf(path, sizeof(path), "%s/%s%s", dir, VB_DAMAGE_PREFIX,
	    x.stem);
	assert_int_equal(access(path, F_OK), -1);
	free(list);
	/* Gone: missing. */
	snprintf(path, sizeof(path), "%s/%s", dir, full);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(vb_link_check(dir, &back, 0, &f, why, sizeof(why)),
	    1);
	assert_true(f.missing);
	/* An index from before the SHA-256 was recorded: unknown. */
	assert_int_equal(put_file(dir, full, 'a', 1000), 0);
	x.archive_sha256[0] = '\0';
	assert_int_equal(vb_index_write(dir, &x, why, sizeof(why)), 0);
	assert_int_equal(vb_index_read(dir, x.stem, 1, &back, why,
	    sizeof(why)), 0);
	assert_string_equal(back.archive_sha256, "");
	assert_int_equal(vb_link_check(dir, &back, 0, &f, why, sizeof(why)),
	    -1);
	assert_non_null(strstr(why, "no SHA-256 recorded"));
	rm_rf(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(record_roundtrip),
		cmocka_unit_test(record_unknowns),
		cmocka_unit_test(record_bad),
		cmocka_unit_test(record_path_line),
		cmocka_unit_test(record_write_sanitises),
		cmocka_unit_test(stamp_roundtrip),
		cmocka_unit_test(stamp_rejects),
		cmocka_unit_test(names),
		cmocka_unit_test(sha256_vectors),
		cmocka_unit_test(tmp_names),
		cmocka_unit_test(paths),
		cmocka_unit_test(path_walk),
		cmocka_unit_test(appends),
		cmocka_unit_test(clean_text),
		cmocka_unit_test(numbers),
		cmocka_unit_test(tmp_commit_rules),
		cmocka_unit_test(mkdir_mode),
		cmocka_unit_test(manifest_round_trip),
		cmocka_unit_test(manifest_refusals),
		cmocka_unit_test(manifest_rows),
		cmocka_unit_test(rows_loss_and_hold),
		cmocka_unit_test(snapshot_message),
		cmocka_unit_test(json_strings),
		cmocka_unit_test(backuplog_columns),
		cmocka_unit_test(backuplog_words),
		cmocka_unit_test(backuplog_strict),
		cmocka_unit_test(link_damage),
		cmocka_unit_test(config_grammar),
		cmocka_unit_test(config_errors_name_the_line),
		cmocka_unit_test(remote_paths),
		cmocka_unit_test(stale_only_dead_writers),
		cmocka_unit_test(durations),
		cmocka_unit_test(retention_rules),
		cmocka_unit_test(retention_chains),
		cmocka_unit_test(delta_names_and_manifest),
		cmocka_unit_test(page_index_feed),
		cmocka_unit_test(catalog_strict),
		cmocka_unit_test(signature_shape),
	};

	return cmocka_run_group_tests_name("src/lib", tests, NULL, NULL);
}
