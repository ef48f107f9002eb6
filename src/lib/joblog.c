/*
 * joblog.c - vb-log's loop: the records on stdin written into BackupLog
 * in short batches (one transaction each, never holding the application
 * up) and passed on; a batch BackupLog refused is said on stderr and to
 * syslog, line by line.
 */
#define _GNU_SOURCE
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "vblib.h"

/* ---- vb-log's loop: records into BackupLog, passed on ---- */

#define BATCH	256

/* The lines read and not yet written, and their records. */
struct batch {
	char		*line[BATCH];
	struct vb_record r[BATCH];
	char		*copy[BATCH];
	int		 n;
};

/*
 * Writes the batch in one short transaction and empties it.  Returns 0,
 * or -1 after reporting every line of it on stderr and to syslog.
 */
static int
flush(struct vb_backuplog *l, struct batch *b, const char *path)
{
	char why[1024];
	int i, rc = 0;

	if (b->n > 0 && vb_backuplog_write(l, b->r, (size_t)b->n, why,
	    sizeof(why)) != 0) {
		if (why[0] != '\0')
			warnx("%s", why);
		for (i = 0; i < b->n; i++) {
			warnx("not logged: %s", b->line[i]);
			syslog(LOG_ERR, "not logged in %s: %s", path,
			    b->line[i]);
		}
		rc = -1;
	}
	while (b->n > 0) {
		b->n--;
		free(b->line[b->n]);
		free(b->copy[b->n]);
	}
	return rc;
}

/* Adds the reader's current line and record to the batch. */
static void
add(struct batch *b, struct vb_reader *rd, const struct vb_record *r)
{
	if ((b->line[b->n] = strdup(rd->line)) == NULL)
		err(VB_EXIT_FAIL, "out of memory");
	/* The record points into the reader's copy: the batch keeps it. */
	b->copy[b->n] = rd->copy;
	rd->copy = NULL;
	b->r[b->n++] = *r;
}

/* Returns 1 if stdin has a line ready without waiting. */
static int
more_waiting(void)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

int
vb_log_loop(const char *path, int quiet)
{
	struct vb_backuplog *l;
	struct vb_reader rd = { 0 };
	struct vb_record r;
	struct batch b;
	enum vb_line kind;
	char why[1024];
	int ret = 0;

	openlog(vb_progname(), LOG_PID, LOG_USER);
	b.n = 0;
	if ((l = vb_backuplog_open(path, why, sizeof(why))) == NULL) {
		warnx("%s", why);
		ret = 1;
	}
	while ((kind = vb_read_record(&rd, stdin, &r)) != VB_LINE_END) {
		if (!quiet && (puts(rd.line) == EOF || fflush(stdout) != 0)) {
			warn("stdout");
			ret = 1;
		}
		if (kind != VB_LINE_RECORD) {
			if (*rd.line != '\0')
				warnx("not a record, not logged: %.80s",
				    rd.line);
			continue;
		}
		if (b.n == BATCH && flush(l, &b, path) != 0)
			ret = 1;
		add(&b, &rd, &r);
		/* Write when the pipe is quiet: never hold a lock waiting. */
		if (!more_waiting() && flush(l, &b, path) != 0)
			ret = 1;
	}
	if (rd.err != 0) {
		errno = rd.err;
		warn("stdin");
		ret = 1;
	}
	if (flush(l, &b, path) != 0)
		ret = 1;
	vb_reader_free(&rd);
	vb_backuplog_close(l);
	closelog();
	return ret;
}
