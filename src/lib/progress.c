/*
 * progress.c - one updating progress line on stderr, for a person at a
 * terminal: bytes done and total, percent, rate, ETA.
 *
 * A tool decides once whether to show it (vb_progress_mode: a terminal on
 * stderr and no -q, or --progress); the library then starts a watcher
 * around each long stretch of I/O.  The watcher is a thread that looks at
 * a file descriptor four times a second - the size of a file being
 * written, or the read offset of one being read - so the copy loops, and
 * sqlite3_backup_step(-1), which reports nothing until it is done, need
 * no hooks.  Under cron and in pipes to files nothing of this is printed.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vblib.h"

#define TICK_MS	250

static int enabled;

struct vb_progress {
	struct vb_ticker *ticker;
	int		 fd;
	enum vb_prog_how how;
	int64_t		 total;
	int64_t		 t0;
	char		 what[200];
};

void
vb_progress_mode(int force, int quiet)
{
	enabled = force || (!quiet && isatty(STDERR_FILENO));
}

static int64_t
sample(const struct vb_progress *p)
{
	struct stat st;
	off_t off;

	if (p->fd < 0)
		return 0;
	if (p->how == VB_PROG_SIZE)
		return fstat(p->fd, &st) == 0 ? (int64_t)st.st_size : -1;
	off = lseek(p->fd, 0, SEEK_CUR);
	return off < 0 ? -1 : (int64_t)off;
}

static void
duration(int64_t secs, char *buf, size_t len)
{
	if (secs >= 3600)
		snprintf(buf, len, "%lld:%02lld:%02lld", (long long)secs / 3600,
		    (long long)secs / 60 % 60, (long long)secs % 60);
	else
		snprintf(buf, len, "%lld:%02lld", (long long)secs / 60,
		    (long long)secs % 60);
}

/* The line for done bytes after ms milliseconds. */
static void
draw(struct vb_progress *p, int64_t done, int64_t ms)
{
	char d[32], t[32], r[32], eta[32] = "", pct[8] = "";
	double rate = ms > 0 ? (double)done * 1000.0 / (double)ms : 0;

	if (done < 0)
		return;
	if (p->fd < 0) {
		/* Nothing to count (a database check): the time it takes. */
		duration(ms / 1000, eta, sizeof(eta));
		fprintf(stderr, "\r\033[K%s: %s  %s", vb_progname(), p->what,
		    eta);
		fflush(stderr);
		return;
	}
	if (p->total > 0 && done > p->total)
		done = p->total;
	vb_human_bytes((uint64_t)done, d, sizeof(d));
	vb_human_bytes((uint64_t)(p->total > 0 ? p->total : 0), t, sizeof(t));
	vb_human_bytes((uint64_t)rate, r, sizeof(r));
	if (p->total > 0) {
		snprintf(pct, sizeof(pct), "%3d%%",
		    (int)(done * 100 / p->total));
		if (rate > 0 && done > 0) {
			char left[24];

			duration((int64_t)((double)(p->total - done) / rate),
			    left, sizeof(left));
			snprintf(eta, sizeof(eta), "  ETA %s", left);
		}
	}
	/* \r and erase-line: one line, rewritten in place. */
	fprintf(stderr, "\r\033[K%s: %s  %s / %s  %s  %s/s%s",
	    vb_progname(), p->what, d, t, pct, r, eta);
	fflush(stderr);
}

static void
tick(void *arg)
{
	struct vb_progress *p = arg;

	draw(p, sample(p), vb_monotonic_ms() - p->t0);
}

struct vb_progress *
vb_progress_start(const char *what, int fd, enum vb_prog_how how,
    int64_t total)
{
	struct vb_progress *p;

	if (!enabled || (p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	snprintf(p->what, sizeof(p->what), "%s", what);
	p->fd = fd;
	p->how = how;
	p->total = total;
	p->t0 = vb_monotonic_ms();
	if ((p->ticker = vb_ticker_start(TICK_MS, tick, p)) == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

void
vb_progress_stop(struct vb_progress *p, int ok)
{
	char d[32], r[32];
	int64_t ms, done;

	if (p == NULL)
		return;
	vb_ticker_stop(p->ticker);
	ms = vb_monotonic_ms() - p->t0;
	done = ok ? p->total : sample(p);
	if (done < 0)
		done = 0;
	/* The last state stays on the screen, as one finished line. */
	vb_human_bytes((uint64_t)done, d, sizeof(d));
	vb_human_bytes((uint64_t)(ms > 0 ? (double)done * 1000.0 /
	    (double)ms : 0), r, sizeof(r));
	if (p->fd < 0)
		fprintf(stderr, "\r\033[K%s: %s  %s in %lld.%01lld s\n",
		    vb_progname(), p->what, ok ? "done" : "stopped",
		    (long long)ms / 1000, (long long)ms % 1000 / 100);
	else
		fprintf(stderr, "\r\033[K%s: %s  %s in %lld.%01lld s  "
		    "%s/s%s\n", vb_progname(), p->what, d, (long long)ms / 1000,
		    (long long)ms % 1000 / 100, r, ok ? "" : "  (stopped)");
	fflush(stderr);
	free(p);
}
