/*
 * setup.c - vb-backup --check's set-up, judged: the schedule that runs
 * the job (the cron file or systemd's timer, and root's cron daemon
 * alive), the configuration that schedule gives the job, the settings
 * this shell gives that the job will not have, the keys (ENCRYPT_TO,
 * SIGN_WITH) as the job's user finds them, and the user the checks run
 * as.  Each judgement is a list of verdicts its tool prints
 * (vb_check_line).  The cron file and /proc are
 * data another user may have written: read bounded, never evaluated, and
 * their text cleaned where it is printed; age, ssh-keygen and systemctl
 * run without a shell (child.c).  What cannot be measured is a FAIL.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vblib.h"

#define CRON_MAX	65536	/* a cron file bigger than this is refused */
#define TIMEOUT_S	30	/* systemctl, age, ssh-keygen */
#define UNIT		"vb-backup.service"
#define TIMER		"vb-backup.timer"

/* ---- the cron file, read as data ---- */

/* Whether w is a cron time field vb can read ([0-9*,/a-zA-Z-]+). */
static int
cron_field(const char *w)
{
	return *w != '\0' && strspn(w, "0123456789*,/-abcdefghijklmnopqrstuv"
	    "wxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == strlen(w);
}

/* Strips one " and one ' from each end of v, as cron would not. */
static void
unquote(char *v)
{
	size_t n = strlen(v);

	if (n > 0 && v[n - 1] == '"')
		v[--n] = '\0';
	if (*v == '"')
		memmove(v, v + 1, n--);
	if (n > 0 && v[n - 1] == '\'')
		v[--n] = '\0';
	if (*v == '\'')
		memmove(v, v + 1, n);
}

/*
 * A cron variable's line ("NAME = value"): its value's start, *vb set
 * when NAME is VB_CONF; NULL if line is no assignment.
 */
static char *
cron_variable(char *line, int *vb)
{
	char *p = line + strspn(line, " \t"), *name = p;

	if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
	    *p == '_'))
		return NULL;
	p += strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_");
	*vb = p - name == 7 && strncmp(name, "VB_CONF", 7) == 0;
	p += strspn(p, " \t");
	if (*p != '=')
		return NULL;
	return p + 1 + strspn(p + 1, " \t");
}

/* The entry (a line naming vb-backup) into c: its fields, user, conf. */
static void
cron_entry(char *line, struct vb_cron *c)
{
	char *w, *save = NULL;
	int i = 0;

	snprintf(c->entry, sizeof(c->entry), "%s", line + strspn(line,
	    " \t"));
	c->state = VB_CRON_OK;
	for (w = strtok_r(line, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save), i++) {
		if (i < 5 && !cron_field(w))
			c->state = VB_CRON_BAD;
		if (i < 5)
			snprintf(c->when + strlen(c->when), sizeof(c->when) -
			    strlen(c->when), "%s%s", i > 0 ? " " : "", w);
		else if (i == 5)
			snprintf(c->user, sizeof(c->user), "%s", w);
		if (strncmp(w, "VB_CONF=", 8) == 0)
			snprintf(c->conf, sizeof(c->conf), "%s", w + 8);
	}
	if (i < 5)
		c->state = VB_CRON_BAD;
	unquote(c->conf);
}

/*
 * Whether the entry runs the job itself: after its time fields and its
 * user (and any VAR=value), the command vb-backup, alone or with
 * --nightly or --point (never --check, never another program whose
 * words name vb-backup).
 */
static int
cron_runs_job(const char *line)
{
	char copy[4096], *w, *save = NULL, *base;
	int skip;

	snprintf(copy, sizeof(copy), "%s", line);
	w = strtok_r(copy, " \t", &save);
	skip = w != NULL && *w == '@' ? 1 : 6;	/* @daily, or five; user */
	for (; w != NULL && skip > 0; skip--)
		w = strtok_r(NULL, " \t", &save);
	while (w != NULL && strchr(w, '=') != NULL)
		w = strtok_r(NULL, " \t", &save);
	if (w == NULL)
		return 0;
	base = strrchr(w, '/') != NULL ? strrchr(w, '/') + 1 : w;
	if (strcmp(base, "vb-backup") != 0)
		return 0;
	w = strtok_r(NULL, " \t", &save);
	return w == NULL || *w != '-' || strcmp(w, "--nightly") == 0 ||
	    strcmp(w, "--point") == 0;
}

/*
 * The lines of buf (NUL-terminated) as cron reads them, into c: the
 * entry that runs the job, else the first that names vb-backup (a
 * wrapper of the operator's), with the VB_CONF it gets.
 */
static void
cron_parse(char *buf, struct vb_cron *c)
{
	char *line, *save = NULL, *v, *named = NULL, conf[4096] = "";
	int vb;

	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		line[strcspn(line, "\r")] = '\0';
		v = line + strspn(line, " \t");
		if (*v == '#' || *v == '\0')
			continue;
		/* A variable applies to the entries after it. */
		if ((v = cron_variable(line, &vb)) != NULL) {
			if (vb)
				snprintf(c->conf, sizeof(c->conf), "%s", v);
			continue;
		}
		if (strstr(line, "vb-backup") == NULL)
			continue;
		if (cron_runs_job(line)) {
			cron_entry(line, c);
			return;
		}
		if (named == NULL) {
			named = line;
			snprintf(conf, sizeof(conf), "%s", c->conf);
		}
	}
	snprintf(c->conf, sizeof(c->conf), "%s", conf);
	if (named != NULL)
		cron_entry(named, c);
}

int
vb_cron_read(const char *file, struct vb_cron *c)
{
	char *buf;
	ssize_t n = 0, r;
	struct stat st;
	int fd, newline_ended;

	memset(c, 0, sizeof(*c));
	c->state = VB_CRON_NONE;
	/* Never through a link, and never a FIFO that would hang. */
	if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK)) == -1) {
		if (errno == ENOENT || errno == EACCES || errno == ENOTDIR)
			return 0;
		snprintf(c->why, sizeof(c->why), "%s", errno == ELOOP ?
		    "a link (vb reads it only as a file of its own)" :
		    strerror(errno));
		c->state = VB_CRON_UNREADABLE;
		return -1;
	}
	if ((buf = malloc(CRON_MAX + 1)) == NULL || fstat(fd, &st) != 0 ||
	    !S_ISREG(st.st_mode)) {
		snprintf(c->why, sizeof(c->why), "%s", buf == NULL ?
		    strerror(ENOMEM) : "not a regular file");
		goto bad;
	}
	while (n <= CRON_MAX && (r = read(fd, buf + n, CRON_MAX + 1 -
	    (size_t)n)) > 0)
		n += r;
	if (n > CRON_MAX || memchr(buf, '\0', (size_t)n) != NULL || r < 0) {
		snprintf(c->why, sizeof(c->why), "%s", r < 0 ?
		    strerror(errno) : "over 64 KiB, or not text");
		goto bad;
	}
	buf[n] = '\0';
	newline_ended = n > 0 && buf[n - 1] == '\n';
	close(fd);
	cron_parse(buf, c);
	free(buf);
	/* What cron(8) refuses to run, whatever the file says. */
	if (st.st_uid != 0 || (st.st_mode & 022) != 0 || st.st_nlink != 1 ||
	    (n > 0 && !newline_ended)) {
		snprintf(c->why, sizeof(c->why), "%s", st.st_uid != 0 ?
		    "not owned by root" : (st.st_mode & 022) != 0 ?
		    "writable by group or others" : st.st_nlink != 1 ?
		    "more than one hard link" : "no newline after its last "
		    "line");
		c->state = VB_CRON_IGNORED;
	}
	return 0;
bad:
	free(buf);
	close(fd);
	c->state = VB_CRON_UNREADABLE;
	return -1;
}

/* ---- root's cron daemon, from /proc ---- */

/*
 * Reads at most len - 1 bytes of the file dir/name (NUL-terminated) into
 * buf; its length, or -1.
 */
static ssize_t
read_small(int dir, const char *name, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	if ((fd = openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* Whether the process of /proc/pid (dir) is root's cron, alive. */
static int
is_cron(int dir)
{
	char buf[2048], *p;

	if (read_small(dir, "comm", buf, sizeof(buf)) <= 0)
		return 0;
	buf[strcspn(buf, "\n")] = '\0';
	if (strcmp(buf, "cron") != 0 && strcmp(buf, "crond") != 0)
		return 0;
	/* State and effective uid, as ps shows them: a zombie is dead. */
	if (read_small(dir, "status", buf, sizeof(buf)) <= 0 ||
	    (p = strstr(buf, "\nState:\t")) == NULL || p[8] == 'Z' ||
	    p[8] == 'X' || (p = strstr(buf, "\nUid:\t")) == NULL)
		return 0;
	p += 6;
	p += strcspn(p, "\t");
	return strncmp(p, "\t0\t", 3) == 0;
}

int
vb_cron_daemon_runs(const char *proc)
{
	DIR *d;
	struct dirent *e;
	int found = 0, fd;

	if ((d = opendir(proc)) == NULL)
		return -1;
	while (!found && (e = readdir(d)) != NULL) {
		if (strspn(e->d_name, "0123456789") != strlen(e->d_name) ||
		    (fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC | O_NOFOLLOW)) == -1)
			continue;
		found = is_cron(fd);
		close(fd);
	}
	closedir(d);
	return found;
}

/* ---- systemd's timer ---- */

/* systemctl args...; its first line of output into out (may be NULL). */
static int
systemctl(const char *const *argv, char *out, size_t olen)
{
	char why[256], *buf = NULL;
	struct vb_sink s;
	int status, ret;

	memset(&s, 0, sizeof(s));
	s.fd = -1;
	if (out != NULL) {
		s.buf = buf = out;
		s.cap = olen;
		s.limit = (int64_t)olen - 1;
		*out = '\0';
	}
	ret = vb_child_run(argv, -1, out != NULL ? &s : NULL, TIMEOUT_S,
	    &status, why, sizeof(why));
	if (buf != NULL)
		buf[strcspn(buf, "\n")] = '\0';
	return ret;
}

/* The unit's Environment=: its last VB_CONF= word, into out. */
static void
unit_conf(char *env, char *out, size_t olen)
{
	char *w, *save = NULL;

	*out = '\0';
	for (w = strtok_r(env, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save))
		if (strncmp(w, "VB_CONF=", 8) == 0)
			snprintf(out, olen, "%s", w + 8);
}

/* The timer, as systemctl says (nothing where systemd does not run). */
static void
find_timer(struct vb_sched *s)
{
	const char *enabled[] = { "systemctl", "is-enabled", "--quiet",
	    TIMER, NULL };
	const char *active[] = { "systemctl", "is-active", "--quiet", TIMER,
	    NULL };
	const char *user[] = { "systemctl", "show", "-p", "User", "--value",
	    UNIT, NULL };
	const char *env[] = { "systemctl", "show", "-p", "Environment",
	    "--value", UNIT, NULL };
	char buf[8192];
	struct stat st;

	if (stat("/run/systemd/system", &st) != 0 || !S_ISDIR(st.st_mode) ||
	    systemctl(enabled, NULL, 0) != 0)
		return;
	s->timer = 1;
	s->timer_active = systemctl(active, NULL, 0) == 0;
	systemctl(user, s->unit_user, sizeof(s->unit_user));
	systemctl(env, buf, sizeof(buf));
	unit_conf(buf, s->unit_conf, sizeof(s->unit_conf));
}

void
vb_sched_find(struct vb_sched *s, const char *cronfile)
{
	memset(s, 0, sizeof(*s));
	find_timer(s);
	vb_cron_read(cronfile, &s->cron);
	s->cronfile = cronfile;
	s->cron_runs = vb_cron_daemon_runs("/proc");
}

const char *
vb_sched_user(const struct vb_sched *s)
{
	if (s->cron.state == VB_CRON_OK)
		return s->cron.user[0] != '\0' ? s->cron.user : "root";
	if (s->timer)
		return s->unit_user[0] != '\0' ? s->unit_user : "root";
	return "";
}

/* ---- the schedule judged ---- */

/*
 * path as readlink -m makes it: absolute, links resolved as far as it
 * exists, the rest taken as written.  Returns 0, or -1 (too long).
 */
int
vb_path_canon(const char *path, char *out, size_t olen)
{
	char head[PATH_MAX], real[PATH_MAX], *slash;
	const char *p;
	size_t n, len;

	if (*path != '/' || snprintf(head, sizeof(head), "%s", path) >=
	    (int)sizeof(head))
		return snprintf(out, olen, "%s", path) < (int)olen ? 0 : -1;
	/* The longest leading part that exists, resolved. */
	while (realpath(*head != '\0' ? head : "/", real) == NULL &&
	    (slash = strrchr(head, '/')) != NULL)
		*slash = '\0';
	if (snprintf(out, olen, "%s", real) >= (int)olen)
		return -1;
	/* The rest as written: "." dropped, ".." one up. */
	for (p = path + strlen(head); *p != '\0'; p += n) {
		p += strspn(p, "/");
		n = strcspn(p, "/");
		if (n == 0 || (n == 1 && *p == '.'))
			continue;
		if (n == 2 && strncmp(p, "..", 2) == 0) {
			slash = strrchr(out, '/');
			slash[slash == out] = '\0';
			continue;
		}
		len = strlen(out);
		if (snprintf(out + len, olen - len, "%s%.*s",
		    strcmp(out, "/") == 0 ? "" : "/", (int)n, p) >=
		    (int)(olen - len))
			return -1;
	}
	return 0;
}

/* The configuration the job is given (job, from where) is conf. */
static void
job_conf(const char *where, const char *given, const char *conf,
    struct vb_verdicts *vs)
{
	const char *job = *given != '\0' ? given : "/etc/vb.conf";
	char a[PATH_MAX], b[PATH_MAX];

	if (*job != '/') {
		vb_verdict_add(vs, VB_CHECK_FAIL, "schedule", "the job (%s) is "
		    "given VB_CONF=%s, a relative path: cron resolves it in "
		    "the job user's home, not here; give the absolute path of "
		    "%s", where, job, conf);
		return;
	}
	if (vb_path_canon(job, a, sizeof(a)) == 0 &&
	    vb_path_canon(conf, b, sizeof(b)) == 0 && strcmp(a, b) == 0)
		return;
	vb_verdict_add(vs, VB_CHECK_FAIL, "schedule", "the job (%s) reads "
	    "%s%s, but this check read %s: it checked a configuration the "
	    "nightly does not use; check the job's (VB_CONF=%s vb-backup "
	    "--check), or give the job this one: a line VB_CONF=%s in %s "
	    "(Environment= in a unit)", where, job, *given != '\0' ? "" :
	    " (no VB_CONF there)", conf, job, conf, where);
}

/* How often the cron line w (five fields) runs, in ms; 0: not known. */
static int64_t
cron_every(const char *w, const char **words)
{
	char f[5][64];

	if (sscanf(w, "%63s %63s %63s %63s %63s", f[0], f[1], f[2], f[3],
	    f[4]) != 5 || strcmp(f[2], "*") != 0 || strcmp(f[3], "*") != 0 ||
	    strspn(f[0], "0123456789") != strlen(f[0]))
		return 0;
	if (strspn(f[1], "0123456789") == strlen(f[1]) && strcmp(f[4], "*") ==
	    0) {
		*words = "once a day";
		return 86400000;
	}
	if (strspn(f[1], "0123456789") == strlen(f[1]) && strlen(f[4]) == 1 &&
	    *f[4] >= '0' && *f[4] <= '7') {
		*words = "once a week";
		return 604800000;
	}
	if (strcmp(f[1], "*") == 0 && strcmp(f[4], "*") == 0) {
		*words = "once an hour";
		return 3600000;
	}
	return 0;
}

/* BACKUP_INTERVAL (want ms, NIGHTLY_AT at) against the cron line. */
static void
interval(const struct vb_sched *s, int64_t want, int at,
    struct vb_verdicts *vs)
{
	char cron[64], cal[64], why[512];
	const char *words = "";
	int64_t every;

	if (want < 86400000) {
		/* Points: the cron line must be the one vb derives. */
		if (vb_schedule(want, at, cron, sizeof(cron), cal, sizeof(cal),
		    why, sizeof(why)) != 0)
			vb_verdict_add(vs, VB_CHECK_FAIL, "schedule",
			    "BACKUP_INTERVAL=%lld ms: %s", (long long)want,
			    why);
		else if (strcmp(cron, s->cron.when) != 0)
			vb_verdict_add(vs, VB_CHECK_FAIL, "schedule",
			    "BACKUP_INTERVAL=%lld ms and NIGHTLY_AT ask for "
			    "the cron line '%s', but %s runs '%s': the points "
			    "are not taken as configured; ./install.sh "
			    "--schedule installs the line they ask for",
			    (long long)want, cron, s->cronfile, s->cron.when);
		return;
	}
	every = cron_every(s->cron.when, &words);
	if (every != 0 && every != want)
		vb_verdict_add(vs, VB_CHECK_WARN, "schedule", "BACKUP_INTERVAL="
		    "%lld ms, but the cron line runs %s (%lld ms); the cron "
		    "line decides: ./install.sh --schedule, or set "
		    "BACKUP_INTERVAL=%lld", (long long)want, words,
		    (long long)every, (long long)every);
}

/* The cron file's entry, found: whether it runs, when, with what. */
static void
cron_ok(const struct vb_sched *s, const char *conf, int64_t want, int at,
    struct vb_verdicts *vs)
{
	const char *f = s->cronfile;

	if (s->timer)
		vb_verdict_add(vs, VB_CHECK_FAIL, "schedule", "both %s and "
		    TIMER " are on: the job would run twice; turn one off "
		    "(install.sh --no-cron, or systemctl disable " TIMER ")",
		    f);
	if (s->cron_runs == 1)
		vb_verdict_add(vs, VB_CHECK_OK, "schedule", "%s: %s as %s; "
		    "cron runs", f, s->cron.when, vb_sched_user(s));
	else if (s->cron_runs == 0)
		vb_verdict_add(vs, VB_CHECK_FAIL, "schedule", "%s is installed "
		    "but no cron daemon runs: start it (systemctl enable --now "
		    "cron, or service cron start)", f);
	else
		vb_verdict_add(vs, VB_CHECK_FAIL, "schedule", "%s is "
		    "installed, but whether a cron daemon runs cannot be "
		    "seen (/proc is not readable)", f);
	interval(s, want, at, vs);
	job_conf(f, s->cron.conf, conf, vs);
}

void
vb_setup_schedule(const struct vb_sched *s, struct vb_verdicts *vs)
{
	const char *f = s->cronfile, *conf = vb_config_path(), *v;
	uint64_t want = 86400000;
	int at = 60;

	if ((v = vb_config("BACKUP_INTERVAL")) != NULL)
		vb_parse_u64(v, &want);
	if ((v = vb_config("NIGHTLY_AT")) != NULL)
		vb_clock_parse(v, &at);

	if (s->timer && s->timer_active)
		vb_verdict_add(vs, VB_CHECK_OK, "schedule", "systemd timer "
		    TIMER " enabled and active (runs as %s)", s->unit_user[0] !=
		    '\0' ? s->unit_user : "root");
	else if (s->timer)
		vb_verdict_add(vs, VB_CHECK_FAIL, "schedule", TIMER " is "
		    "enabled but not active: systemctl start " TIMER);
	switch (s->cron.state) {
	case VB_CRON_UNREADABLE:
		vb_verdict_add(vs, VB_CHECK_FAIL, "schedule", "%s cannot be "
		    "read: %s; reinstall it (./install.sh --schedule)", f,
		    s->cron.why);
		break;
	case VB_CRON_IGNORED:
		vb_verdict_add(vs, VB_CHECK_FAIL, "schedule", "%s is %s: cron "
		    "ignores it, and the job never runs; reinstall it "
		    "(./install.sh --schedule: root's, mode 644, one link)", f,
		    s->cron.why);
		break;
	case VB_CRON_BAD:
		vb_verdict_add(vs, VB_CHECK_FAIL, "schedule", "%s: no schedule "
		    "vb can read in: %s; reinstall it (./install.sh "
		    "--schedule)", f, s->cron.entry);
		break;
	case VB_CRON_OK:
		cron_ok(s, conf, (int64_t)want, at, vs);
		break;
	default:
		if (!s->timer)
			vb_verdict_add(vs, VB_CHECK_FAIL, "schedule", "no %s "
			    "and no enabled " TIMER ": run install.sh, or "
			    "systemctl enable --now " TIMER, f);
	}
	if (s->timer)
		job_conf(UNIT, s->unit_conf, conf, vs);
}

void
vb_setup_environment(struct vb_verdicts *vs)
{
	const char *k, *v, *conf = vb_config_path();
	int i;

	for (i = 0; (k = vb_config_key(i)) != NULL; i++)
		if ((v = getenv(k)) != NULL)
			vb_verdict_add(vs, VB_CHECK_WARN, "environment",
			    "%s=%s is set in this shell and wins over %s here; "
			    "the nightly job (cron: an empty environment) does "
			    "not see it: put it in %s", k, v, conf, conf);
}

/* ---- the keys, as this user (the job's) finds them ---- */

/* Whether name is an executable on PATH (command -v). */
static int
on_path(const char *name)
{
	const char *p = getenv("PATH");
	char file[PATH_MAX];
	size_t n;

	for (; p != NULL && *p != '\0'; p += n + (p[n] == ':')) {
		n = strcspn(p, ":");
		if (snprintf(file, sizeof(file), "%.*s/%s", (int)n, p, name) <
		    (int)sizeof(file) && n > 0 && access(file, X_OK) == 0)
			return 1;
	}
	return 0;
}

/* uid's name into buf, as id -un and stat %U say it; else unknown. */
static void
user_name(uid_t uid, const char *unknown, char *buf, size_t len)
{
	struct passwd pwd, *pw = NULL;
	char pbuf[1024];

	if (getpwuid_r(uid, &pwd, pbuf, sizeof(pbuf), &pw) == 0 && pw != NULL)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "%s", unknown);
}

/* How many lines of file start a recipient (age1, ssh-); -1 unread. */
static int
recipients(const char *file)
{
	char line[8192];
	int n = 0, lines = 0;
	FILE *fp;

	if ((fp = fopen(file, "re")) == NULL)
		return -1;
	while (lines++ < 100000 && fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "age1", 4) == 0 ||
		    strncmp(line, "ssh-", 4) == 0)
			n++;
	fclose(fp);
	return n;
}

/* Runs age; 0, or -1 with why: its own words, as it said them. */
static int
run_age(const char *const *argv, char *why, size_t wlen)
{
	struct vb_child c;
	int status;

	if (vb_child_start(&c, argv, -1, -1, why, wlen) != 0)
		return -1;
	if (vb_child_wait(&c, &status, why, wlen) == 0)
		return 0;
	if (status >= 0 && c.last[0] != '\0')
		snprintf(why, wlen, "%s", c.last);
	return -1;
}

/* ENCRYPT_TO: read by this user, holding recipients age takes. */
static void
encryption(const char *to, const char *user, struct vb_verdicts *vs)
{
	const char *age[] = { "age", "-e", "-R", to, "-o", "/dev/null", NULL };
	char why[1024];
	int n;

	if (!on_path("age"))
		vb_verdict_add(vs, VB_CHECK_FAIL, "encryption", "ENCRYPT_TO is "
		    "set but age is not installed: apt-get install age");
	else if (access(to, R_OK) != 0)
		vb_verdict_add(vs, VB_CHECK_FAIL_JOB, "encryption",
		    "ENCRYPT_TO %s cannot be read by %s: the nightly job "
		    "cannot encrypt (and so fails)", to, user);
	else if ((n = recipients(to)) <= 0)
		vb_verdict_add(vs, VB_CHECK_FAIL, "encryption", "ENCRYPT_TO %s "
		    "holds no recipient: add the public key (age-keygen -y "
		    "key.txt) of the identity that will decrypt", to);
	else if (run_age(age, why, sizeof(why)) != 0)
		vb_verdict_add(vs, VB_CHECK_FAIL, "encryption", "age refuses "
		    "the recipients in %s: %s", to, why);
	else
		vb_verdict_add(vs, VB_CHECK_OK, "encryption", "age, to %d "
		    "recipient(s) in %s; keep the identity off this machine", n,
		    to);
}

/* The key's fingerprint (ssh-keygen -l's second field); 0, or -1. */
static int
fingerprint(const char *key, char *fp, size_t flen, char *why, size_t wlen)
{
	const char *argv[] = { "ssh-keygen", "-l", "-f", key, NULL };
	char out[1024], *p;
	struct vb_sink s;
	int status;

	memset(&s, 0, sizeof(s));
	s.fd = -1;
	s.buf = out;
	s.cap = sizeof(out);
	s.limit = sizeof(out) - 1;
	*out = '\0';
	if (vb_child_run(argv, -1, &s, TIMEOUT_S, &status, why, wlen) != 0)
		return -1;
	/* "256 SHA256:... comment (ED25519)" */
	out[strcspn(out, "\n")] = '\0';
	p = out + strcspn(out, " ");
	p += strspn(p, " ");
	snprintf(fp, flen, "%.*s", (int)strcspn(p, " "), p);
	return 0;
}

/* SIGN_WITH: an Ed25519 key of this user's, no one else may read. */
static void
signing(const char *key, const char *user, struct vb_verdicts *vs)
{
	char fp[256], why[1024], pub[4096], owner[256];
	struct stat st;
	int e;

	if (!on_path("ssh-keygen")) {
		vb_verdict_add(vs, VB_CHECK_FAIL, "signatures", "SIGN_WITH is "
		    "set but ssh-keygen is not installed: apt-get install "
		    "openssh-client");
		return;
	}
	/* Out of this user's reach: ssh-keygen below says so. */
	e = stat(key, &st) == 0 ? 0 : errno;
	if (e != 0 && e != EACCES) {
		vb_verdict_add(vs, VB_CHECK_FAIL, "signatures", "SIGN_WITH %s "
		    "does not exist", key);
		return;
	}
	if (e == 0 && (st.st_mode & 077) != 0) {
		vb_verdict_add(vs, VB_CHECK_FAIL, "signatures", "SIGN_WITH %s "
		    "can be read by others (mode %o): anyone who reads it can "
		    "sign forgeries; chmod 600 %s", key,
		    (unsigned)(st.st_mode & 07777), key);
		return;
	}
	if (e == 0 && st.st_uid != geteuid()) {
		user_name(st.st_uid, "UNKNOWN", owner, sizeof(owner));
		vb_verdict_add(vs, VB_CHECK_FAIL_JOB, "signatures", "SIGN_WITH "
		    "%s is %s's, not the job's user's (%s): chown %s %s", key,
		    owner, user, user, key);
		return;
	}
	if (fingerprint(key, fp, sizeof(fp), why, sizeof(why)) != 0 ||
	    vb_key_public(key, pub, sizeof(pub), why, sizeof(why)) != 0)
		vb_verdict_add(vs, VB_CHECK_FAIL, "signatures", "SIGN_WITH %s "
		    "is not an Ed25519 key %s can read without a passphrase: "
		    "%s", key, user, why);
	else
		vb_verdict_add(vs, VB_CHECK_OK, "signatures", "manifests and "
		    "the catalog signed with %s (%s); keep its .pub off this "
		    "host for vb-restore --verify-with", key, fp);
}

void
vb_setup_keys(const char *encrypt_to, const char *sign_with,
    const char *offsite, struct vb_verdicts *vs)
{
	const char *conf = vb_config_path();
	char user[256], uid[32];

	snprintf(uid, sizeof(uid), "%u", (unsigned)geteuid());
	user_name(geteuid(), uid, user, sizeof(user));
	/* The keys this user would be given are in a file it cannot read:
	 * so would the job's run be, and no key is checked. */
	if (access(conf, R_OK) != 0 && errno != ENOENT) {
		vb_verdict_add(vs, VB_CHECK_FAIL_JOB, "keys", "%s cannot be "
		    "read by %s (%s): the keys are not checked as the job's "
		    "user, and the job cannot read its configuration", conf,
		    user, strerror(errno));
		return;
	}
	if (encrypt_to != NULL)
		encryption(encrypt_to, user, vs);
	if (sign_with != NULL)
		signing(sign_with, user, vs);
	else if (offsite != NULL)
		vb_verdict_add(vs, VB_CHECK_WARN, "signatures", "OFFSITE "
		    "without SIGN_WITH: whoever can write to %s can plant an "
		    "archive that restores cleanly; sign what this host makes: "
		    "ssh-keygen -t ed25519 -N '' -f /etc/vb/signing-key, then "
		    "SIGN_WITH=/etc/vb/signing-key in %s, and keep "
		    "signing-key.pub off the host for vb-restore --verify-with",
		    offsite, conf);
}

/* ---- the user the checks run as ---- */

void
vb_setup_user(const char *job, uid_t euid, struct vb_verdicts *vs,
    char *run_as, size_t len)
{
	char me[256], uid[32];

	snprintf(uid, sizeof(uid), "%u", (unsigned)euid);
	user_name(euid, uid, me, sizeof(me));
	*run_as = '\0';
	if (*job == '\0' || strcmp(job, me) == 0)
		return;
	/* Only root may become the job's user (the schedule's, root's). */
	if (euid == 0) {
		snprintf(run_as, len, "%s", job);
		return;
	}
	vb_verdict_add(vs, VB_CHECK_WARN, "user", "the job runs as %s, this "
	    "check as %s: what needs %s's rights is checked as %s below, and "
	    "a failure there is a warning; run vb-backup --check as root%s%s%s "
	    "for the job's own view", job, me, job, me, strcmp(job, "root") ==
	    0 ? "" : " (or as ", strcmp(job, "root") == 0 ? "" : job,
	    strcmp(job, "root") == 0 ? "" : ")");
}

/* ---- the database and the backup directory ---- */

void
vb_setup_place(const struct vb_snapshot_opts *o, struct vb_verdicts *vs)
{
	struct vb_snapshot_result s;
	char user[256], found[1024], why[1024];

	user_name(getuid(), "this user", user, sizeof(user));
	if (vb_backuplog_check(o->db, found, sizeof(found), why,
	    sizeof(why)) == 0)
		vb_verdict_add(vs, VB_CHECK_OK, "database", "%s (as %s)",
		    found, user);
	else
		vb_verdict_add(vs, VB_CHECK_FAIL_JOB, "database", "%s; DB_PATH "
		    "must name the application's database, readable and "
		    "writable by %s", why, user);
	if (vb_snapshot(o, &s) == 0)
		vb_verdict_add(vs, VB_CHECK_OK, "backup directory",
		    "%s (as %s)", s.message, user);
	else
		vb_verdict_add(vs, VB_CHECK_FAIL_JOB, "backup directory", "%s",
		    s.why);
}
