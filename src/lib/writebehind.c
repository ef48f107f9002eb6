/*
 * writebehind.c - keeps a large copy's dirty pages from piling up.
 *
 * A copy of a large database dirties gigabytes of page cache; left to the
 * kernel, that lands on the disk in bursts, and an application's fsync (a
 * WAL checkpoint, a rollback-journal commit) then waits behind it.  A
 * thread that starts writeback of each new stretch of the file and waits
 * for the stretch before it keeps the dirty backlog to a few WB_CHUNKs,
 * and leaves the final fsync little to do.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <fcntl.h>
#include <stdlib.h>

#include "vblib.h"

#define WB_CHUNK	(8LL * 1024 * 1024)

struct vb_writebehind {
	struct vb_ticker *ticker;
	int		 fd;
	int		 also;
	off_t		 started;	/* writeback started up to here */
	off_t		 waited;	/* and waited for up to here */
};

static void
writebehind_tick(void *arg)
{
	struct vb_writebehind *w = arg;
	struct stat st;

	if (w->also != -1)
		sync_file_range(w->also, 0, 0, SYNC_FILE_RANGE_WRITE);
	if (fstat(w->fd, &st) != 0 || st.st_size - w->started < WB_CHUNK)
		return;
	/* Errors here are not lost: the final fsync reports them. */
	sync_file_range(w->fd, w->started, st.st_size - w->started,
	    SYNC_FILE_RANGE_WRITE);
	if (w->started > w->waited)
		sync_file_range(w->fd, w->waited, w->started - w->waited,
		    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
		    SYNC_FILE_RANGE_WAIT_AFTER);
	w->waited = w->started;
	w->started = st.st_size;
}

struct vb_writebehind *
vb_writebehind_start(int fd, int also)
{
	struct vb_writebehind *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->fd = fd;
	w->also = also;
	if ((w->ticker = vb_ticker_start(20, writebehind_tick, w)) == NULL) {
		free(w);
		return NULL;
	}
	return w;
}

void
vb_writebehind_stop(struct vb_writebehind *w)
{
	if (w == NULL)
		return;
	vb_ticker_stop(w->ticker);
	free(w);
}
