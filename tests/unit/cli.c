/*
 * unit/cli.c - unit tests of vb-backup --check's verdicts as cli.c says
 * them: a FAIL-job judged by the job's user (VB_CHECK_JOB_USER) with its
 * exact words, and the configuration's verdicts, errors and all.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "help.h"

/* One FAIL-job line, "lock" and "not readable", printed. */
static int
fail_job(void *arg)
{
	(void)arg;
	return (int)vb_check_line(VB_CHECK_FAIL_JOB, "lock", "not %s",
	    "readable");
}

/* The FAIL-job line as printed with VB_CHECK_JOB_USER job (NULL: none). */
static void
printed(const char *job, enum vb_verdict want_v, const char *want)
{
	char *out;
	int v;

	if (job != NULL)
		setenv("VB_CHECK_JOB_USER", job, 1);
	else
		unsetenv("VB_CHECK_JOB_USER");
	v = capture(fail_job, NULL, &out);
	assert_int_equal(v, want_v);
	assert_string_equal(out, want);
	free(out);
	unsetenv("VB_CHECK_JOB_USER");
}

static void
fail_job_judged(void **state)
{
	struct passwd pwd, *pw = NULL;
	char me[256], want[600], buf[1024];

	(void)state;
	if (getpwuid_r(geteuid(), &pwd, buf, sizeof(buf), &pw) == 0 &&
	    pw != NULL)
		snprintf(me, sizeof(me), "%s", pw->pw_name);
	else
		snprintf(me, sizeof(me), "%u", (unsigned)geteuid());
	/* A tool on its own: FAIL-job, for whoever reads it. */
	printed(NULL, VB_CHECK_FAIL_JOB, "FAIL-job\tlock\tnot readable\n");
	/* No schedule, or this is the job's user: a FAIL. */
	printed("", VB_CHECK_FAIL, "FAIL\tlock\tnot readable\n");
	printed(me, VB_CHECK_FAIL, "FAIL\tlock\tnot readable\n");
	/* Another user's job: a warning that says as whom, cleaned. */
	snprintf(want, sizeof(want), "warn\tlock\tnot readable (checked as "
	    "%s, not as the job's vb-no-such\?)\n", me);
	printed("vb-no-such\033", VB_CHECK_WARN, want);
}

/* The configuration's verdicts into vs, of the file holding text. */
static const char *
verdicts_of(const char *text, struct vb_verdicts *vs)
{
	static char path[] = "/tmp/vb-unit-cli-XXXXXX";
	static int fd = -1;

	if (fd == -1 && (fd = mkstemp(path)) == -1)
		fail_msg("mkstemp: %s", strerror(errno));
	if (ftruncate(fd, 0) != 0 || pwrite(fd, text, strlen(text), 0) !=
	    (ssize_t)strlen(text))
		fail_msg("write %s: %s", path, strerror(errno));
	setenv("VB_CONF", path, 1);
	vb_config_unload();
	vb_config_verdicts(vs);
	return path;
}

static void
config_verdicts(void **state)
{
	struct vb_verdicts vs = { 0 };
	const char *conf;
	char want[512];

	(void)state;
	unsetenv("DB_PATH");
	unsetenv("BACKUP_DIR");
	conf = verdicts_of("DB_PATH=/srv/app.db\nBACKUP_DIR=/srv/b\n", &vs);
	assert_int_equal(vs.n, 1);
	assert_int_equal(vs.line[0].v, VB_CHECK_OK);
	assert_string_equal(vs.line[0].what, "configuration");
	snprintf(want, sizeof(want), "%s: DB_PATH=/srv/app.db "
	    "BACKUP_DIR=/srv/b", conf);
	assert_string_equal(vs.line[0].text, want);
	vb_verdicts_free(&vs);
	/* Each error a FAIL, with the file to fix; nothing else. */
	conf = verdicts_of("DB_PATH=/srv/app.db\nBACKUP_DIR=/srv/b\n"
	    "MAX_BACKUP=3\nCOMPRESSION=lz4\n", &vs);
	assert_int_equal(vs.n, 2);
	snprintf(want, sizeof(want), "%s:3: unknown key MAX_BACKUP (did you "
	    "mean MAX_BACKUPS?); fix %s (or VB_CONF)", conf, conf);
	assert_int_equal(vs.line[0].v, VB_CHECK_FAIL);
	assert_string_equal(vs.line[0].text, want);
	assert_int_equal(vs.line[1].v, VB_CHECK_FAIL);
	assert_non_null(strstr(vs.line[1].text, ":4: COMPRESSION must be"));
	vb_verdicts_free(&vs);
	/* Parsed, but neither DB_PATH nor BACKUP_DIR: one FAIL. */
	conf = verdicts_of("MAX_BACKUPS=3\n", &vs);
	assert_int_equal(vs.n, 1);
	snprintf(want, sizeof(want), "DB_PATH and BACKUP_DIR must be set, in "
	    "%s or the environment; fix %s (or VB_CONF)", conf, conf);
	assert_int_equal(vs.line[0].v, VB_CHECK_FAIL);
	assert_string_equal(vs.line[0].text, want);
	vb_verdicts_free(&vs);
	unlink(conf);
	vb_config_unload();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fail_job_judged),
		cmocka_unit_test(config_verdicts),
	};

	return cmocka_run_group_tests_name("cli.c", tests, NULL, NULL);
}
