/*
 * unit/help.h - what several unit tests share (help.c): a directory of
 * their own made and removed, and listings of backups made up.  Linked
 * into every tests/unit-<family> binary; never a test itself.
 */
#ifndef UNIT_HELP_H
#define UNIT_HELP_H

#include "lib/vblib.h"

/* Makes a fresh directory from tmpl (ending XXXXXX); fails the test. */
void	mkdtemp_or_fail(char *tmpl);
/* Removes the test's own directory tree, as rm -rf would. */
void	rm_rf(const char *dir);
/* Fills list with n backups, one a day at 01:00 from ts0, newest first. */
void	days(struct vb_backup *list, int n, time_t ts0, enum vb_kind kind);

#endif /* UNIT_HELP_H */
