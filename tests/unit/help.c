/*
 * unit/help.c - what several unit tests share (help.h): a directory of
 * their own made and removed, and listings of backups made up.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "help.h"

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Removes the test's own directory tree, as rm -rf would. */
void
rm_rf(const char *dir)
{
	assert_int_equal(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* Makes a fresh directory for a test. */
void
mkdtemp_or_fail(char *tmpl)
{
	if (mkdtemp(tmpl) == NULL)
		fail_msg("mkdtemp: %s", strerror(errno));
}

/* Fills list with n backups, one a day at 01:00 from ts0, newest first. */
void
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
