/*
 * child.c - the programs vb drives (rclone, age), run without a shell.
 *
 * A child gets an argument vector, standard input from a descriptor (or
 * /dev/null), standard output into a descriptor or a sink, and standard
 * error into a pipe whose last telling line becomes the reason when the
 * child fails.  A deadline stops it (SIGTERM, then SIGKILL).
 */
#define _GNU_SOURCE
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vblib.h"

/* Keeps what the child said last that explains a failure. */
static void
note_line(char *line, char *last, size_t llen)
{
	char *p = line;

	/* rclone: "2026/11/28 17:00:05 ERROR : x: why" -> "x: why" */
	if (strlen(p) > 20 && p[4] == '/' && p[7] == '/' && p[13] == ':')
		p += 20;
	if (strncmp(p, "ERROR : ", 8) == 0)
		p += 8;
	else if (strncmp(p, "NOTICE:", 7) == 0 || strncmp(p, "INFO", 4) == 0)
		return;
	/* age's closing advert says nothing about this failure. */
	if (*p == '\0' || strstr(p, "report unexpected or unhelpful") != NULL)
		return;
	/* rclone's "Failed to copy: ..." sums up: it is kept over all. */
	if (strncmp(last, "Failed to", 9) == 0 &&
	    strncmp(p, "Failed to", 9) != 0)
		return;
	snprintf(last, llen, "%s", p);
	vb_clean_field(last);
	/* rclone may quote a server's words, age a file's: inert. */
	vb_clean_text(last);
}

/* Reads what the child wrote on its stderr; 0 at its end. */
static int
drain_err(struct vb_child *c)
{
	char buf[4096], *nl;
	ssize_t r = read(c->errfd, buf, sizeof(buf));
	size_t take;

	if (r <= 0)
		return r == -1 && errno == EINTR ? 1 : 0;
	take = (size_t)r < sizeof(c->line) - 1 - c->llen ? (size_t)r :
	    sizeof(c->line) - 1 - c->llen;
	memcpy(c->line + c->llen, buf, take);
	c->llen += take;
	c->line[c->llen] = '\0';
	while ((nl = strchr(c->line, '\n')) != NULL) {
		*nl = '\0';
		note_line(c->line, c->last, sizeof(c->last));
		c->llen -= (size_t)(nl + 1 - c->line);
		memmove(c->line, nl + 1, c->llen + 1);
	}
	if (c->llen == sizeof(c->line) - 1)
		c->llen = 0;	/* a line longer than the buffer: dropped */
	return 1;
}

/* Takes what the child wrote on its stdout into s; 0 at its end. */
static int
drain_out(int fd, struct vb_sink *s)
{
	char buf[65536];
	ssize_t r = read(fd, buf, sizeof(buf));
	size_t take;

	if (r <= 0)
		return r == -1 && errno == EINTR ? 1 : 0;
	/* More than it was said to be: stopped, never written. */
	if (s->limit > 0 && s->bytes + r > s->limit) {
		s->err = EFBIG;
		return 0;
	}
	if (s->h != NULL)
		vb_sha256_update(s->h, buf, (size_t)r);
	s->bytes += r;
	if (s->fd >= 0 && s->err == 0 &&
	    vb_write_all(s->fd, buf, (size_t)r) != 0)
		s->err = errno;
	if (s->fd < 0 && s->buf != NULL) {
		take = (size_t)r < s->cap - 1 - s->len ? (size_t)r :
		    s->cap - 1 - s->len;
		memcpy(s->buf + s->len, buf, take);
		s->len += take;
		s->buf[s->len] = '\0';
		if (take < (size_t)r)
			s->err = EOVERFLOW;
	}
	return 1;
}

int
vb_child_start(struct vb_child *c, const char *const *argv, int infd,
    int outfd, char *why, size_t wlen)
{
	int ep[2];

	memset(c, 0, sizeof(*c));
	c->errfd = -1;
	c->what = argv[0];
	if (pipe2(ep, O_CLOEXEC) != 0) {
		snprintf(why, wlen, "cannot run %s: pipe: %s", argv[0],
		    strerror(errno));
		return -1;
	}
	if ((c->pid = fork()) == -1) {
		snprintf(why, wlen, "cannot run %s: fork: %s", argv[0],
		    strerror(errno));
		close(ep[0]);
		close(ep[1]);
		return -1;
	}
	if (c->pid == 0) {
		if (infd < 0)
			infd = open("/dev/null", O_RDONLY);
		if (outfd < 0)
			outfd = open("/dev/null", O_WRONLY);
		if (infd < 0 || outfd < 0 || dup2(infd, 0) == -1 ||
		    dup2(outfd, 1) == -1 || dup2(ep[1], 2) == -1)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], (char *const *)argv);
		dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(ep[1]);
	c->errfd = ep[0];
	return 0;
}

/* Waits for the child, stopping it once the deadline (ms) has passed. */
static int
reap(struct vb_child *c, int64_t deadline)
{
	int st, sig = SIGTERM;

	for (;;) {
		if (waitpid(c->pid, &st, deadline < 0 ? 0 : WNOHANG) ==
		    c->pid)
			return st;
		if (deadline >= 0 && vb_monotonic_ms() > deadline) {
			c->killed = 1;
			kill(c->pid, sig);
			sig = SIGKILL;
			deadline = vb_monotonic_ms() + 5000;
		}
		usleep(20000);
	}
}

int
vb_child_wait(struct vb_child *c, int *status, char *why, size_t wlen)
{
	int st = 0;

	/* One stopped may still hold its stderr: reaped first. */
	if (c->killed)
		st = reap(c, vb_monotonic_ms() + 5000);
	if (c->errfd >= 0) {
		while (drain_err(c) != 0)
			;
		close(c->errfd);
		c->errfd = -1;
	}
	if (!c->killed)
		st = reap(c, -1);
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	c->signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	if (c->killed) {
		*status = -2;
		snprintf(why, wlen, "%s did not finish in time and was "
		    "stopped", c->what);
		return -1;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFSIGNALED(st))
		snprintf(why, wlen, "%s was killed by signal %d", c->what,
		    WTERMSIG(st));
	else if (WEXITSTATUS(st) == 127 && c->last[0] != '\0')
		snprintf(why, wlen, "%s (install it: apt-get install %s)",
		    c->last, c->what);
	else
		snprintf(why, wlen, "%s failed (exit %d): %s", c->what,
		    WEXITSTATUS(st), c->last[0] != '\0' ? c->last :
		    "no message");
	return -1;
}

int
vb_child_run(const char *const *argv, int infd, struct vb_sink *out,
    int64_t timeout_s, int *status, char *why, size_t wlen)
{
	struct vb_sink discard;
	struct vb_child c;
	struct pollfd pf[2];
	int64_t deadline;
	int op[2], open_n = 2, i, more;

	*status = -1;
	if (out == NULL) {
		memset(&discard, 0, sizeof(discard));
		discard.fd = -1;
		out = &discard;
	}
	if (pipe2(op, O_CLOEXEC) != 0) {
		snprintf(why, wlen, "cannot run %s: pipe: %s", argv[0],
		    strerror(errno));
		return -1;
	}
	i = vb_child_start(&c, argv, infd, op[1], why, wlen);
	close(op[1]);
	if (i != 0) {
		close(op[0]);
		return -1;
	}
	deadline = timeout_s > 0 ? vb_monotonic_ms() + timeout_s * 1000 : -1;
	pf[0].fd = op[0];
	pf[1].fd = c.errfd;
	pf[0].events = pf[1].events = POLLIN;
	while (open_n > 0 && !c.killed) {
		if (poll(pf, 2, 500) < 0 && errno != EINTR)
			break;
		for (i = 0; i < 2; i++) {
			if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN |
			    POLLHUP | POLLERR)))
				continue;
			more = i == 0 ? drain_out(pf[i].fd, out) :
			    drain_err(&c);
			if (more)
				continue;
			close(pf[i].fd);
			pf[i].fd = -1;
			if (i == 1)
				c.errfd = -1;
			open_n--;
		}
		if (deadline >= 0 && vb_monotonic_ms() > deadline) {
			c.killed = 1;
			kill(c.pid, SIGTERM);
		}
	}
	if (pf[0].fd >= 0)
		close(pf[0].fd);
	if (vb_child_wait(&c, status, why, wlen) != 0)
		return -1;
	if (out->err != 0) {
		snprintf(why, wlen, "%s: its output: %s", argv[0],
		    strerror(out->err));
		return -1;
	}
	return 0;
}
