/*
 * checkrun.c - vb-backup --check run (vb-snapshot --check-all): the
 * tools that own each verdict run in turn, as child processes found
 * through PATH (vb-backup puts its own directory first), in the job's
 * user's rights where they matter (setpriv, exec'd with an argument
 * vector, never a shell), and their verdict lines (VERDICT TAB WHAT TAB
 * TEXT, vb_check_line) printed in columns.  A tool that answered
 * nothing, or exited 2 or more, is a FAIL of its part, in its own first
 * words.  No deadline here: the tool that waits on the network (the
 * remote's check) keeps its own.  A line is read up to CHECK_LINE bytes;
 * the rest of a longer one is dropped.
 */
#define _GNU_SOURCE
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vblib.h"

#define CHECK_LINE	8192

/* What one tool answered. */
struct answer {
	int	 rc;			/* exit status (128 + a signal) */
	int	 lines;			/* complete lines on its stdout */
	char	 last[CHECK_LINE];	/* its last line, complete or not */
	char	 err[CHECK_LINE];	/* its first stderr line, trimmed */
	int	 said;			/* that line ended with a newline */
};

/* The checks' state, and the settings read of the configuration. */
struct run {
	char		 conf[CHECK_LINE];	/* the file this check reads */
	char		 run_as[256];	/* the user to become ("": none) */
	char		 gid[32];	/* run_as's group, as id -g gives it */
	int		 nfail;
	char		 db[CHECK_LINE], dir[CHECK_LINE];
	int		 keys;		/* ENCRYPT_TO or SIGN_WITH set */
	int		 offsite;	/* OFFSITE set */
};

/*
 * One line of f into buf (at most len - 1 bytes kept, the rest of the
 * line dropped); *whole set when it ended with a newline.  0 at the end.
 */
static int
get_line(FILE *f, char *buf, size_t len, int *whole)
{
	size_t n = 0;
	int c, any = 0;

	*whole = 0;
	while ((c = getc(f)) != EOF) {
		any = 1;
		if (c == '\n') {
			*whole = 1;
			break;
		}
		if (n + 1 < len)
			buf[n++] = (char)c;
	}
	buf[n] = '\0';
	return any;
}

/* The next TAB-separated field of *p (runs of TABs are one, as read's). */
static char *
field(char **p, int last)
{
	char *s = *p + strspn(*p, "\t"), *e;

	if (last) {
		e = s + strlen(s);
		while (e > s && e[-1] == '\t')
			*--e = '\0';
		*p = e;
		return s;
	}
	e = s + strcspn(s, "\t");
	*p = *e != '\0' ? e + 1 : e;
	*e = '\0';
	return s;
}

int
vb_checkrun_format(const char *line, char *out, size_t olen)
{
	static const char *const word[] = { "ok", "warn", "FAIL",
	    "FAIL-job" };
	char buf[CHECK_LINE], *p = buf, *v, *w, *text;
	size_t i;

	snprintf(buf, sizeof(buf), "%s", line);
	v = field(&p, 0);
	w = field(&p, 0);
	text = field(&p, 1);
	for (i = 0; i < sizeof(word) / sizeof(word[0]); i++)
		if (strcmp(v, word[i]) == 0)
			break;
	if (i == sizeof(word) / sizeof(word[0]))
		return -1;
	snprintf(out, olen, "%-4s  %-17s %s\n", i == 3 ? "FAIL" : v, w,
	    text);
	return i >= 2;
}

/* s without its leading and trailing blanks, as read leaves a line. */
static void
trim(char *s)
{
	size_t n = strspn(s, " \t"), len;

	memmove(s, s + n, strlen(s + n) + 1);
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		s[--len] = '\0';
}

int
vb_checkrun_lines(FILE *in, FILE *out, char *last, size_t llen, int *n)
{
	char line[CHECK_LINE], said[CHECK_LINE + 64];
	int whole, v, nfail = 0;

	*n = 0;
	*last = '\0';
	while (get_line(in, line, sizeof(line), &whole)) {
		snprintf(last, llen, "%s", line);
		/* An unended last line is no answer (as read has it). */
		if (!whole)
			break;
		++*n;
		if ((v = vb_checkrun_format(line, said, sizeof(said))) >= 0)
			fputs(said, out);
		nfail += v == 1;
	}
	return nfail;
}

/* One line of ours: STATUS WHAT TEXT, a FAIL counted. */
static void
say(struct run *r, const char *status, const char *what, const char *text)
{
	printf("%-4s  %-17s %s\n", status, what, text);
	if (strcmp(status, "FAIL") == 0)
		r->nfail++;
}

/* The child's end: its output in, its program run (or 127, 126). */
static void __attribute__((noreturn))
child(FILE *out, FILE *err, const char *conf, char *const argv[])
{
	if (dup2(fileno(out), STDOUT_FILENO) == -1 ||
	    dup2(fileno(err), STDERR_FILENO) == -1)
		_exit(126);
	/* Only as standard output and error, as bash's redirections. */
	if (fileno(out) > STDERR_FILENO)
		close(fileno(out));
	if (fileno(err) > STDERR_FILENO)
		close(fileno(err));
	if (conf != NULL && setenv("VB_CONF", conf, 1) != 0)
		_exit(126);
	execvp(argv[0], argv);
	fprintf(stderr, "%s: %s\n", argv[0], errno == ENOENT ?
	    "command not found" : strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* Waits for pid: its exit status, or 128 + the signal that ended it. */
static int
reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return 127;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * Runs argv (with VB_CONF=conf unless NULL; through setpriv as r->run_as
 * when job is set): its stdout into *out (rewound, the caller's to
 * close), its rc and first stderr line into *a.  0, or -1 (a->err why).
 */
static int
run_tool(struct run *r, const char *conf, int job, char *const argv[],
    FILE **out, struct answer *a)
{
	char reuid[300], regid[64], *av[64];
	FILE *err;
	pid_t pid;
	int n = 0, whole;

	memset(a, 0, sizeof(*a));
	if (job && r->run_as[0] != '\0') {
		snprintf(reuid, sizeof(reuid), "--reuid=%s", r->run_as);
		snprintf(regid, sizeof(regid), "--regid=%s", r->gid);
		av[n++] = (char *)"setpriv";
		av[n++] = reuid;
		av[n++] = regid;
		av[n++] = (char *)"--init-groups";
		av[n++] = (char *)"--";
	}
	while (*argv != NULL && n < 63)
		av[n++] = *argv++;
	av[n] = NULL;
	fflush(NULL);
	if ((*out = tmpfile()) == NULL || (err = tmpfile()) == NULL) {
		snprintf(a->err, sizeof(a->err), "%s", strerror(errno));
		if (*out != NULL)
			fclose(*out);
		return a->said = 1, a->rc = 2, -1;
	}
	if ((pid = fork()) == 0)
		child(*out, err, conf, av);
	a->rc = pid == -1 ? 126 : reap(pid);
	rewind(*out);
	rewind(err);
	if (get_line(err, a->err, sizeof(a->err), &whole) && whole) {
		a->said = 1;
		trim(a->err);
	}
	fclose(err);
	return 0;
}

/*
 * The verdicts of the tool argv, each a line of ours; a tool that
 * answered nothing, or exited 2 or more, a FAIL of what ("not checked:"
 * its first words, or its exit status).  *a: what it answered.
 */
static void
verdicts(struct run *r, const char *what, const char *conf, int job,
    char *const argv[], struct answer *a)
{
	char text[CHECK_LINE + 32];
	FILE *f;
	int fails = 0;

	if (run_tool(r, conf, job, argv, &f, a) == 0) {
		fails = vb_checkrun_lines(f, stdout, a->last,
		    sizeof(a->last), &a->lines);
		r->nfail += fails;
		fclose(f);
	}
	/* An answer: exit 0, or 1 and the FAIL it stands for.  A tool that
	 * failed without saying which check failed is no answer, never an
	 * ok. */
	if (a->rc < 2 && a->lines > 0 && (a->rc == 0 || fails > 0))
		return;
	if (a->said)
		snprintf(text, sizeof(text), "not checked: %s", a->err);
	else
		snprintf(text, sizeof(text), "not checked: exit %d", a->rc);
	say(r, "FAIL", what, text);
}

/*
 * The settings this check needs, as vb-snapshot --print-config=check
 * gives them (what did parse of a broken file too); the tools after get
 * VB_CONF=/dev/null when the file is broken, so that each other problem
 * still shows.
 */
static void
load_config(struct run *r)
{
	char *av[] = { (char *)"vb-snapshot", (char *)"--print-config=check",
	    NULL };
	char line[CHECK_LINE], *v;
	struct answer *a = malloc(sizeof(*a));
	FILE *f;
	int whole;

	if (a == NULL || run_tool(r, NULL, 0, av, &f, a) != 0) {
		free(a);
		setenv("VB_CONF", "/dev/null", 1);
		return;
	}
	while (get_line(f, line, sizeof(line), &whole) && whole) {
		if ((v = strchr(line, '=')) == NULL)
			continue;
		*v++ = '\0';
		if (strcmp(line, "DB_PATH") == 0)
			snprintf(r->db, sizeof(r->db), "%s", v);
		else if (strcmp(line, "BACKUP_DIR") == 0)
			snprintf(r->dir, sizeof(r->dir), "%s", v);
		else if (strcmp(line, "OFFSITE") == 0)
			r->offsite = *v != '\0';
		else if (strcmp(line, "ENCRYPT_TO") == 0 ||
		    strcmp(line, "SIGN_WITH") == 0)
			r->keys |= *v != '\0';
	}
	fclose(f);
	if (a->rc != 0)
		setenv("VB_CONF", "/dev/null", 1);
	free(a);
}

/*
 * The user the checks run as (vb-snapshot --check-setup=user, whose
 * last line is "as TAB the job's user TAB the user to become"), and the
 * job's user exported for each tool's FAIL-job (VB_CHECK_JOB_USER).
 */
static void
check_user(struct run *r, struct answer *a)
{
	char *av[] = { (char *)"vb-snapshot", (char *)"--check-setup=user",
	    NULL };
	char *p = a->last, *as, *job, *to, buf[1024];
	struct passwd pwd, *pw = NULL;

	verdicts(r, "user", NULL, 0, av, a);
	as = field(&p, 0);
	job = field(&p, 0);
	to = field(&p, 1);
	if (strcmp(as, "as") != 0)
		job = to = (char *)"";
	snprintf(r->run_as, sizeof(r->run_as), "%s", to);
	setenv("VB_CHECK_JOB_USER", job, 1);
	r->gid[0] = '\0';
	if (r->run_as[0] != '\0' &&
	    getpwnam_r(r->run_as, &pwd, buf, sizeof(buf), &pw) == 0 &&
	    pw != NULL)
		snprintf(r->gid, sizeof(r->gid), "%u", (unsigned)pw->pw_gid);
}

/* The database, the directory, the keys, the backups, the remote, runs. */
static void
check_rest(struct run *r, struct answer *a)
{
	char *place[] = { (char *)"vb-snapshot", r->db, (char *)"-d", r->dir,
	    (char *)"-q", (char *)"-n", (char *)"--verdicts", NULL };
	char *keys[] = { (char *)"vb-snapshot", (char *)"--check-setup=keys",
	    NULL };
	char *backups[] = { (char *)"vb-restore", (char *)"--check",
	    (char *)"-d", r->dir, NULL };
	char *offsite[] = { (char *)"vb-offsite", (char *)"--check-job",
	    NULL };
	char *history[] = { (char *)"vb-log", (char *)"--check-runs", r->db,
	    NULL };

	/* BackupLog takes rows, the directory a snapshot, as the job. */
	verdicts(r, "backup directory", NULL, 1, place, a);
	/* ENCRYPT_TO and SIGN_WITH (or OFFSITE without it): the file's. */
	if (r->keys || r->offsite)
		verdicts(r, "keys", r->conf, 1, keys, a);
	/* Every backup file read again, plaintext, holds, the lock. */
	verdicts(r, "backups", NULL, 1, backups, a);
	/* The remote as the job reaches it, in cron's environment. */
	if (r->offsite)
		verdicts(r, "offsite", NULL, 1, offsite, a);
	/* The last run, backup and drill as BackupLog says. */
	verdicts(r, "history", NULL, 0, history, a);
}

int
vb_check_all(void)
{
	char *config[] = { (char *)"vb-snapshot",
	    (char *)"--check-setup=config", NULL };
	char *schedule[] = { (char *)"vb-snapshot",
	    (char *)"--check-setup=schedule", NULL };
	const char *c = getenv("VB_CONF");
	struct run *r = calloc(1, sizeof(*r));
	struct answer *a = malloc(sizeof(*a));
	int ret;

	if (r == NULL || a == NULL)
		err(VB_EXIT_FAIL, "out of memory");
	snprintf(r->conf, sizeof(r->conf), "%s",
	    c != NULL && *c != '\0' ? c : "/etc/vb.conf");
	verdicts(r, "configuration", NULL, 0, config, a);
	load_config(r);
	/* The environment and the schedule, of the file this check read. */
	verdicts(r, "schedule", r->conf, 0, schedule, a);
	check_user(r, a);
	if (r->db[0] == '\0' || r->dir[0] == '\0')
		say(r, "FAIL", "the rest",
		    "not checked: DB_PATH and BACKUP_DIR are needed");
	else
		check_rest(r, a);
	if (r->nfail > 0)
		printf("%d check(s) failed\n", r->nfail);
	ret = r->nfail > 0 ? VB_EXIT_FAIL : VB_EXIT_OK;
	free(r);
	free(a);
	return vb_close_stdout() == 0 ? ret : VB_EXIT_FAIL;
}
