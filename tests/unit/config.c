/*
 * unit/config.c - unit tests of vb.conf (config.c): the shell-like grammar
 * read without running anything, the environment's values checked too, and
 * every error naming its line and what was wrong.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/vblib.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config_grammar),
		cmocka_unit_test(config_errors_name_the_line),
	};

	return cmocka_run_group_tests_name("config.c", tests, NULL, NULL);
}
