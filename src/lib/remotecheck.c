/*
 * remotecheck.c - vb-backup --check's verdict on the offsite remote
 * (vb-offsite --check-job): the remote proven usable as the job reaches
 * it, by this very program re-executed (execve, no shell) in cron's empty
 * environment, and, if that fails, from this process's environment, to
 * tell "the job lacks what this shell defines" from "the remote is down".
 * One verdict in the list the tool prints; never a guess.
 */
#define _GNU_SOURCE
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vblib.h"

/* What the job's view answered: its first line, and whether it passed. */
struct view {
	char	 text[1024];
	int	 ok;
};

/* The first line of out (n bytes), without our own program's prefix. */
static void
first_line(struct view *w, const char *out, size_t n)
{
	char pfx[128];
	size_t len = strcspn(out, "\n"), pl;

	if (len > n)
		len = n;
	/* A usage error of the child, which is this program: its words. */
	pl = (size_t)snprintf(pfx, sizeof(pfx), "%s: ", vb_progname());
	if (len >= pl && strncmp(out, pfx, pl) == 0) {
		out += pl;
		len -= pl;
	}
	if (len >= sizeof(w->text))
		len = sizeof(w->text) - 1;
	memcpy(w->text, out, len);
	w->text[len] = '\0';
}

/*
 * Runs argv as /proc/self/exe in env, its stdout and stderr read into
 * out (cut at olen - 1); returns its exit status, or -1 (out says why).
 */
static int
run_self(char *const argv[], char *const env[], char *out, size_t olen)
{
	size_t n = 0, k;
	ssize_t r;
	pid_t pid;
	int p[2], st;
	char buf[512];

	if (pipe2(p, O_CLOEXEC) != 0) {
		snprintf(out, olen, "pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		snprintf(out, olen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		if (dup2(p[1], STDOUT_FILENO) == -1 ||
		    dup2(p[1], STDERR_FILENO) == -1)
			_exit(127);
		execve("/proc/self/exe", argv, env);
		dprintf(STDERR_FILENO, "cannot run /proc/self/exe: %s\n",
		    strerror(errno));
		_exit(127);
	}
	close(p[1]);
	/* Read to the end: a child blocked on a full pipe never exits. */
	while ((r = read(p[0], buf, sizeof(buf))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		k = (size_t)r < olen - 1 - n ? (size_t)r : olen - 1 - n;
		memcpy(out + n, buf, k);
		n += k;
	}
	out[n] = '\0';
	close(p[0]);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR) {
			snprintf(out, olen, "waitpid: %s", strerror(errno));
			return -1;
		}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * The job's view: vb-offsite --check (with -r remote if given) in cron's
 * environment: HOME, LOGNAME, USER of this user, SHELL=/bin/sh,
 * PATH=/usr/bin:/bin, and VB_CONF as this process has it.
 */
static void
job_view(const char *remote, const char *user, const char *dir,
    struct view *w)
{
	char home[4200], logname[300], usr[300], conf[4200], out[4096];
	const char *argv[6] = { vb_progname(), "--check", NULL };
	const char *env[8];
	int n = 0, rc;

	snprintf(home, sizeof(home), "HOME=%s", dir);
	snprintf(logname, sizeof(logname), "LOGNAME=%s", user);
	snprintf(usr, sizeof(usr), "USER=%s", user);
	env[n++] = home;
	env[n++] = logname;
	env[n++] = usr;
	env[n++] = "SHELL=/bin/sh";
	env[n++] = "PATH=/usr/bin:/bin";
	if (getenv("VB_CONF") != NULL) {
		snprintf(conf, sizeof(conf), "VB_CONF=%s", getenv("VB_CONF"));
		env[n++] = conf;
	}
	env[n] = NULL;
	if (remote != NULL) {
		argv[2] = "-r";
		argv[3] = remote;
		argv[4] = NULL;
	}
	rc = run_self((char *const *)argv, (char *const *)env, out,
	    sizeof(out));
	first_line(w, out, strlen(out));
	w->ok = rc == 0;
}

void
vb_check_remote(const char *remote, const char *given,
    struct vb_verdicts *vs)
{
	struct passwd pwd, *pw = NULL;
	char pwbuf[4096], user[256], conf[4096], found[1024], why[1024];
	struct view job;

	if (getpwuid_r(getuid(), &pwd, pwbuf, sizeof(pwbuf), &pw) == 0 &&
	    pw != NULL)
		snprintf(user, sizeof(user), "%s", pw->pw_name);
	else
		snprintf(user, sizeof(user), "uid %ld", (long)getuid());
	snprintf(conf, sizeof(conf), "%s", getenv("VB_CONF") != NULL ?
	    getenv("VB_CONF") : "/etc/vb.conf");
	job_view(given, user, pw != NULL ? pw->pw_dir : "", &job);
	if (job.ok) {
		vb_verdict_add(vs, VB_CHECK_OK, "offsite", "%s (as %s, in "
		    "cron's empty environment)", job.text, user);
	} else if (vb_remote_probe(remote, found, sizeof(found), why,
	    sizeof(why)) == 0) {
		vb_verdict_add(vs, VB_CHECK_FAIL, "offsite", "%s answers from "
		    "this shell but not as the job runs (cron: an empty "
		    "environment): %s; this shell's environment defines what "
		    "the job lacks (RCLONE_CONFIG or RCLONE_CONFIG_<NAME>_* "
		    "variables): put the remote in an rclone configuration "
		    "file (rclone config) and name it in %s: "
		    "RCLONE_CONFIG=/root/.config/rclone/rclone.conf", remote,
		    job.text, conf);
	} else {
		vb_verdict_add(vs, VB_CHECK_FAIL, "offsite", "%s%s%s; check "
		    "the remote in rclone's configuration (rclone config show, "
		    "as %s) and that it is reachable", job.text,
		    strcmp(why, job.text) != 0 ? "; from this shell: " : "",
		    strcmp(why, job.text) != 0 ? why : "", user);
	}
}
