/*
 * unit/setup.c - unit tests of vb-backup --check's set-up (setup.c): the
 * cron file read as cron reads it and refused when it is no cron file,
 * root's cron daemon found in a /proc of the test's own making, each
 * judgement of the schedule with its exact words, the environment,
 * real keys (age, ssh-keygen) judged as this user finds them, and the
 * user the checks run as.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "help.h"

static char top[64];

/* Writes text to top/name; its path into path (static). */
static const char *
put(const char *name, const char *text, mode_t mode)
{
	static char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", top, name);
	if ((fp = fopen(path, "w")) == NULL || fputs(text, fp) == EOF ||
	    fclose(fp) != 0 || chmod(path, mode) != 0)
		fail_msg("%s: %s", path, strerror(errno));
	return path;
}

/* The verdicts hold one of v for what, its text containing want. */
static void
has(const struct vb_verdicts *vs, enum vb_verdict v, const char *what,
    const char *want)
{
	size_t i;

	for (i = 0; i < vs->n; i++)
		if (vs->line[i].v == v && strcmp(vs->line[i].what, what) == 0 &&
		    strstr(vs->line[i].text, want) != NULL)
			return;
	for (i = 0; i < vs->n; i++)
		print_message("%d %s %s\n", vs->line[i].v, vs->line[i].what,
		    vs->line[i].text);
	fail_msg("no verdict %d %s \"%s\"", v, what, want);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(top, sizeof(top), "/tmp/vb-unit-setup-XXXXXX");
	mkdtemp_or_fail(top);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	rm_rf(top);
	return 0;
}

/* The configuration read from top/vb.conf holding text. */
static const char *
conf(const char *text)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s", put("vb.conf", text, 0600));
	setenv("VB_CONF", path, 1);
	unsetenv("BACKUP_INTERVAL");
	unsetenv("NIGHTLY_AT");
	vb_config_unload();
	vb_config_load();
	return path;
}

/* ---- the cron file ---- */

static void
cron_entries(void **state)
{
	struct vb_cron c;
	char big[70000];

	(void)state;
	/* VB_CONF as a variable above the entry, quoted; comments; a PATH
	 * naming vb-backup is a variable, no entry. */
	vb_cron_read(put("c1", "# vb-backup\nPATH=/opt/vb-backup/bin:/bin\n"
	    "VB_CONF=\"/etc/vb/x.conf\"\n\n 0 1 * * * nobody vb-backup\n"
	    "VB_CONF=/late.conf\n", 0644), &c);
	assert_int_equal(c.state, VB_CRON_OK);
	assert_string_equal(c.when, "0 1 * * *");
	assert_string_equal(c.user, "nobody");
	assert_string_equal(c.conf, "/etc/vb/x.conf");
	/* A word of the entry wins; a variable after it never reaches it. */
	vb_cron_read(put("c2", "VB_CONF=/a.conf\n*/5 * * * 1-5 root "
	    "VB_CONF='/b.conf' /usr/bin/vb-backup\n", 0644), &c);
	assert_int_equal(c.state, VB_CRON_OK);
	assert_string_equal(c.when, "*/5 * * * 1-5");
	assert_string_equal(c.conf, "/b.conf");
	vb_cron_read(put("c3", "0 1 * * * root vb-backup\nVB_CONF=/x\n",
	    0644), &c);
	assert_string_equal(c.conf, "");
	/* The entry that runs the job, not the first line naming it: a
	 * logger's words, vb-backup --check (review helper-24: --check then
	 * ran as root, not as the job's nobody). */
	vb_cron_read(put("c11", "VB_CONF=/early.conf\n30 0 * * * root logger "
	    "\"vb-backup in 30 min\"\n0 7 * * * root vb-backup --check\n"
	    "VB_CONF=/job.conf\n0 1 * * * nobody VB_X=1 /usr/local/bin/"
	    "vb-backup 2>&1 | logger -t vb-backup\n", 0644), &c);
	assert_int_equal(c.state, VB_CRON_OK);
	assert_string_equal(c.user, "nobody");
	assert_string_equal(c.when, "0 1 * * *");
	assert_string_equal(c.conf, "/job.conf");
	vb_cron_read(put("c12", "*/15 * * * * backup vb-backup --point\n",
	    0644), &c);
	assert_string_equal(c.user, "backup");
	/* None runs it: the first naming it (an operator's wrapper), with
	 * the VB_CONF it gets. */
	vb_cron_read(put("c13", "VB_CONF=/w.conf\n0 2 * * * op "
	    "/opt/vb-backup-wrapper\nVB_CONF=/later.conf\n0 3 * * * root "
	    "vb-backup --check\n", 0644), &c);
	assert_int_equal(c.state, VB_CRON_OK);
	assert_string_equal(c.user, "op");
	assert_string_equal(c.conf, "/w.conf");
	/* No schedule cron could read: four fields, a character. */
	vb_cron_read(put("c4", "0 1 * vb-backup\n", 0644), &c);
	assert_int_equal(c.state, VB_CRON_BAD);
	assert_string_equal(c.entry, "0 1 * vb-backup");
	vb_cron_read(put("c5", "0 1 * * $(x) root vb-backup\n", 0644), &c);
	assert_int_equal(c.state, VB_CRON_BAD);
	/* None: absent, or no entry naming vb-backup. */
	assert_int_equal(vb_cron_read("/nonexistent/vb-backup", &c), 0);
	assert_int_equal(c.state, VB_CRON_NONE);
	vb_cron_read(put("c6", "0 1 * * * root other\n", 0644), &c);
	assert_int_equal(c.state, VB_CRON_NONE);
	/* Refused: a link, a file too big, a NUL byte. */
	snprintf(big, sizeof(big), "%s/link", top);
	assert_int_equal(symlink(put("c1", "0 1 * * * root vb-backup\n",
	    0644), big), 0);
	assert_int_equal(vb_cron_read(big, &c), -1);
	assert_int_equal(c.state, VB_CRON_UNREADABLE);
	assert_non_null(strstr(c.why, "a link"));
	memset(big, '#', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(vb_cron_read(put("c7", big, 0644), &c), -1);
	assert_non_null(strstr(c.why, "over 64 KiB"));
	/* What cron(8) ignores whatever it says: writable by others, more
	 * than one link, no newline at its end (and, as root, not root's). */
	vb_cron_read(put("c8", "0 1 * * * root vb-backup\n", 0664), &c);
	assert_int_equal(c.state, VB_CRON_IGNORED);
	assert_string_equal(c.why, "writable by group or others");
	snprintf(big, sizeof(big), "%s/c9-link", top);
	assert_int_equal(link(put("c9", "0 1 * * * root vb-backup\n", 0644),
	    big), 0);
	vb_cron_read(big, &c);
	assert_int_equal(c.state, VB_CRON_IGNORED);
	assert_string_equal(c.why, "more than one hard link");
	vb_cron_read(put("c10", "0 1 * * * root vb-backup", 0644), &c);
	assert_int_equal(c.state, VB_CRON_IGNORED);
	assert_string_equal(c.why, "no newline after its last line");
	if (geteuid() == 0) {
		assert_int_equal(chown(put("c11", "0 1 * * * root vb-backup\n",
		    0644), 65534, 65534), 0);
		snprintf(big, sizeof(big), "%s/c11", top);
		vb_cron_read(big, &c);
		assert_int_equal(c.state, VB_CRON_IGNORED);
		assert_string_equal(c.why, "not owned by root");
	}
}

/* ---- root's cron daemon, in a /proc made here ---- */

/* top/proc/pid with comm and a status of state and uid. */
static void
proc_entry(const char *pid, const char *comm, char state, int uid)
{
	char name[128], text[256];

	snprintf(name, sizeof(name), "%s/proc/%s", top, pid);
	mkdir(name, 0755);
	snprintf(name, sizeof(name), "proc/%s/comm", pid);
	snprintf(text, sizeof(text), "%s\n", comm);
	put(name, text, 0644);
	snprintf(name, sizeof(name), "proc/%s/status", pid);
	snprintf(text, sizeof(text), "Name:\t%s\nState:\t%c (x)\nTgid:\t1\n"
	    "Uid:\t%d\t%d\t%d\t%d\n", comm, state, uid, uid, uid, uid);
	put(name, text, 0644);
}

static void
cron_daemon(void **state)
{
	char proc[128];

	(void)state;
	snprintf(proc, sizeof(proc), "%s/proc", top);
	assert_int_equal(vb_cron_daemon_runs(proc), -1);
	mkdir(proc, 0755);
	proc_entry("10", "cronx", 'S', 0);
	proc_entry("11", "cron", 'S', 65534);	/* nobody's, named cron */
	proc_entry("12", "crond", 'Z', 0);	/* root's, dead */
	assert_int_equal(vb_cron_daemon_runs(proc), 0);
	proc_entry("13", "crond", 'S', 0);
	assert_int_equal(vb_cron_daemon_runs(proc), 1);
}

/* ---- the schedule judged ---- */

/* A schedule found: the cron file top/cron holding text, cron alive. */
static void
sched(struct vb_sched *s, const char *text)
{
	memset(s, 0, sizeof(*s));
	s->cronfile = put("cron", text, 0644);
	vb_cron_read(s->cronfile, &s->cron);
	s->cron_runs = 1;
}

static void
schedule_cron(void **state)
{
	struct vb_verdicts vs = { 0 };
	struct vb_sched s;
	char text[512], line[600];
	const char *c;

	(void)state;
	c = conf("");
	snprintf(text, sizeof(text), "VB_CONF=%s\n0 1 * * * nobody vb-backup\n",
	    c);
	sched(&s, text);
	vb_setup_schedule(&s, &vs);
	assert_int_equal(vs.n, 1);
	snprintf(line, sizeof(line), "%s: 0 1 * * * as nobody; cron runs",
	    s.cronfile);
	has(&vs, VB_CHECK_OK, "schedule", line);
	assert_string_equal(vb_sched_user(&s), "nobody");
	vb_verdicts_free(&vs);
	/* No daemon; its state unknown; and the timer on too. */
	s.cron_runs = 0;
	s.timer = s.timer_active = 1;
	snprintf(s.unit_conf, sizeof(s.unit_conf), "%s", c);
	vb_setup_schedule(&s, &vs);
	has(&vs, VB_CHECK_OK, "schedule", "systemd timer vb-backup.timer "
	    "enabled and active (runs as root)");
	has(&vs, VB_CHECK_FAIL, "schedule", "vb-backup.timer are on: the job "
	    "would run twice");
	has(&vs, VB_CHECK_FAIL, "schedule", "is installed but no cron daemon "
	    "runs: start it (systemctl enable --now cron, or service cron "
	    "start)");
	assert_int_equal(vs.n, 3);
	vb_verdicts_free(&vs);
	s.cron_runs = -1;
	s.timer = 0;
	vb_setup_schedule(&s, &vs);
	has(&vs, VB_CHECK_FAIL, "schedule", "whether a cron daemon runs "
	    "cannot be seen");
	vb_verdicts_free(&vs);
	/* Unreadable, unparsable, absent. */
	s.cron.state = VB_CRON_BAD;
	vb_setup_schedule(&s, &vs);
	has(&vs, VB_CHECK_FAIL, "schedule", "no schedule vb can read in: "
	    "0 1 * * * nobody vb-backup; reinstall it (./install.sh "
	    "--schedule)");
	vb_verdicts_free(&vs);
	s.cron.state = VB_CRON_UNREADABLE;
	snprintf(s.cron.why, sizeof(s.cron.why), "a link");
	vb_setup_schedule(&s, &vs);
	has(&vs, VB_CHECK_FAIL, "schedule", "cannot be read: a link");
	vb_verdicts_free(&vs);
	s.cron.state = VB_CRON_NONE;
	vb_setup_schedule(&s, &vs);
	has(&vs, VB_CHECK_FAIL, "schedule", "and no enabled vb-backup.timer: "
	    "run install.sh, or systemctl enable --now vb-backup.timer");
	assert_string_equal(vb_sched_user(&s), "");
	vb_verdicts_free(&vs);
}

static void
schedule_timer(void **state)
{
	struct vb_verdicts vs = { 0 };
	struct vb_sched s;
	const char *c;

	(void)state;
	c = conf("");
	memset(&s, 0, sizeof(s));
	s.cronfile = "/nonexistent/vb-backup";
	s.timer = 1;
	snprintf(s.unit_user, sizeof(s.unit_user), "backup");
	vb_setup_schedule(&s, &vs);
	has(&vs, VB_CHECK_FAIL, "schedule", "vb-backup.timer is enabled but "
	    "not active: systemctl start vb-backup.timer");
	/* The unit gives no VB_CONF: /etc/vb.conf, not this check's. */
	has(&vs, VB_CHECK_FAIL, "schedule", "the job (vb-backup.service) "
	    "reads /etc/vb.conf (no VB_CONF there), but this check read");
	assert_string_equal(vb_sched_user(&s), "backup");
	vb_verdicts_free(&vs);
	snprintf(s.unit_conf, sizeof(s.unit_conf), "%s", c);
	s.timer_active = 1;
	vb_setup_schedule(&s, &vs);
	assert_int_equal(vs.n, 1);
	has(&vs, VB_CHECK_OK, "schedule", "(runs as backup)");
	vb_verdicts_free(&vs);
}

static void
schedule_conf(void **state)
{
	struct vb_verdicts vs = { 0 };
	struct vb_sched s;
	char text[512], alias[256];
	const char *c;

	(void)state;
	c = conf("");
	sched(&s, "0 1 * * * root VB_CONF=vb.conf vb-backup\n");
	vb_setup_schedule(&s, &vs);
	has(&vs, VB_CHECK_FAIL, "schedule", "is given VB_CONF=vb.conf, a "
	    "relative path: cron resolves it in the job user's home");
	vb_verdicts_free(&vs);
	/* The same file by a link and a "..": the same one. */
	snprintf(alias, sizeof(alias), "%s/alias", top);
	assert_int_equal(symlink(top, alias), 0);
	snprintf(text, sizeof(text), "0 1 * * * root VB_CONF=%s/x/../%s "
	    "vb-backup\n", alias, strrchr(c, '/') + 1);
	sched(&s, text);
	vb_setup_schedule(&s, &vs);
	assert_int_equal(vs.n, 1);
	vb_verdicts_free(&vs);
	sched(&s, "0 1 * * * root VB_CONF=/srv/other.conf vb-backup\n");
	vb_setup_schedule(&s, &vs);
	has(&vs, VB_CHECK_FAIL, "schedule", "reads /srv/other.conf, but this "
	    "check read");
	has(&vs, VB_CHECK_FAIL, "schedule", "checked a configuration the "
	    "nightly does not use");
	vb_verdicts_free(&vs);
}

static void
schedule_interval(void **state)
{
	struct vb_verdicts vs = { 0 };
	struct vb_sched s;
	char text[512], line[600];
	const char *c;

	(void)state;
	/* Points: the cron line must be the one vb derives. */
	c = conf("BACKUP_INTERVAL=3600000\n");
	snprintf(text, sizeof(text), "VB_CONF=%s\n0 1 * * * root vb-backup\n",
	    c);
	sched(&s, text);
	vb_setup_schedule(&s, &vs);
	snprintf(line, sizeof(line), "BACKUP_INTERVAL=3600000 ms and NIGHTLY_AT"
	    " ask for the cron line '0 * * * *', but %s runs '0 1 * * *': the "
	    "points are not taken as configured", s.cronfile);
	has(&vs, VB_CHECK_FAIL, "schedule", line);
	vb_verdicts_free(&vs);
	snprintf(text, sizeof(text), "VB_CONF=%s\n0 * * * * root vb-backup\n",
	    c);
	sched(&s, text);
	vb_setup_schedule(&s, &vs);
	assert_int_equal(vs.n, 1);
	vb_verdicts_free(&vs);
	/* An interval cron cannot keep: said, never skipped. */
	setenv("BACKUP_INTERVAL", "420000", 1);
	vb_config_unload();
	vb_setup_schedule(&s, &vs);
	has(&vs, VB_CHECK_FAIL, "schedule", "BACKUP_INTERVAL=420000 ms: ");
	unsetenv("BACKUP_INTERVAL");
	vb_verdicts_free(&vs);
	/* A day or more: another cadence is a warning; the same, none. */
	c = conf("BACKUP_INTERVAL=172800000\n");
	snprintf(text, sizeof(text), "VB_CONF=%s\n0 1 * * * root vb-backup\n",
	    c);
	sched(&s, text);
	vb_setup_schedule(&s, &vs);
	has(&vs, VB_CHECK_WARN, "schedule", "BACKUP_INTERVAL=172800000 ms, "
	    "but the cron line runs once a day (86400000 ms); the cron line "
	    "decides: ./install.sh --schedule, or set BACKUP_INTERVAL="
	    "86400000");
	vb_verdicts_free(&vs);
	c = conf("BACKUP_INTERVAL=604800000\n");
	snprintf(text, sizeof(text), "VB_CONF=%s\n0 1 * * 0 root vb-backup\n",
	    c);
	sched(&s, text);
	vb_setup_schedule(&s, &vs);
	assert_int_equal(vs.n, 1);
	vb_verdicts_free(&vs);
	snprintf(text, sizeof(text), "VB_CONF=%s\n0 * * * * root vb-backup\n",
	    c);
	sched(&s, text);
	vb_setup_schedule(&s, &vs);
	has(&vs, VB_CHECK_WARN, "schedule", "runs once an hour (3600000 ms)");
	vb_verdicts_free(&vs);
}

static void
environment(void **state)
{
	struct vb_verdicts vs = { 0 };
	char line[512];
	const char *c, *k;
	int i;

	(void)state;
	for (i = 0; (k = vb_config_key(i)) != NULL; i++)
		unsetenv(k);
	c = conf("");
	vb_setup_environment(&vs);
	assert_int_equal(vs.n, 0);
	setenv("MAX_BACKUPS", "3\033[2J", 1);
	vb_setup_environment(&vs);
	snprintf(line, sizeof(line), "MAX_BACKUPS=3\033[2J is set in this "
	    "shell and wins over %s here; the nightly job (cron: an empty "
	    "environment) does not see it: put it in %s", c, c);
	has(&vs, VB_CHECK_WARN, "environment", line);
	assert_int_equal(vs.n, 1);
	unsetenv("MAX_BACKUPS");
	vb_verdicts_free(&vs);
}

/* ---- the keys, real ones ---- */

/* Runs argv (no shell), its stdout into the file out (NULL: none). */
static void
run(const char *const *argv, const char *out)
{
	struct vb_sink sink;
	char why[512];
	int status, fd = -1;

	memset(&sink, 0, sizeof(sink));
	sink.fd = -1;
	if (out != NULL && (sink.fd = fd = open(out, O_WRONLY | O_CREAT |
	    O_TRUNC | O_CLOEXEC, 0644)) == -1)
		fail_msg("%s: %s", out, strerror(errno));
	if (vb_child_run(argv, -1, &sink, 60, &status, why, sizeof(why)) != 0)
		fail_msg("%s: %s", argv[0], why);
	if (fd >= 0)
		close(fd);
}

static void
keys_encryption(void **state)
{
	struct vb_verdicts vs = { 0 };
	char to[256], key[256];
	const char *gen[] = { "age-keygen", "-o", key, NULL };
	const char *pub[] = { "age-keygen", "-y", key, NULL };

	(void)state;
	conf("");
	snprintf(to, sizeof(to), "%s/recipients.txt", top);
	snprintf(key, sizeof(key), "%s/key.txt", top);
	run(gen, NULL);
	run(pub, to);
	vb_setup_keys(to, NULL, NULL, &vs);
	has(&vs, VB_CHECK_OK, "encryption", "age, to 1 recipient(s) in ");
	vb_verdicts_free(&vs);
	put("recipients.txt", "# nobody yet\n", 0644);
	vb_setup_keys(to, NULL, NULL, &vs);
	has(&vs, VB_CHECK_FAIL, "encryption", "holds no recipient: add the "
	    "public key (age-keygen -y key.txt) of the identity that will "
	    "decrypt");
	vb_verdicts_free(&vs);
	put("recipients.txt", "age1notakey\n", 0644);
	vb_setup_keys(to, NULL, NULL, &vs);
	has(&vs, VB_CHECK_FAIL, "encryption", "age refuses the recipients in ");
	vb_verdicts_free(&vs);
	/* Root reads anything: unreadable is the job user's (bats). */
	if (geteuid() != 0) {
		chmod(to, 0);
		vb_setup_keys(to, NULL, NULL, &vs);
		has(&vs, VB_CHECK_FAIL_JOB, "encryption", "cannot be read by");
		vb_verdicts_free(&vs);
	}
}

static void
keys_signing(void **state)
{
	struct vb_verdicts vs = { 0 };
	char key[256], pub[300];
	const char *gen[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "",
	    "-f", key, NULL };
	const char *pass[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N",
	    "secret", "-f", key, NULL };

	(void)state;
	conf("");
	snprintf(key, sizeof(key), "%s/signing-key", top);
	snprintf(pub, sizeof(pub), "%s.pub", key);
	vb_setup_keys(NULL, key, NULL, &vs);
	has(&vs, VB_CHECK_FAIL, "signatures", "does not exist");
	vb_verdicts_free(&vs);
	run(gen, NULL);
	vb_setup_keys(NULL, key, NULL, &vs);
	has(&vs, VB_CHECK_OK, "signatures", "manifests and the catalog signed "
	    "with");
	has(&vs, VB_CHECK_OK, "signatures", "(SHA256:");
	vb_verdicts_free(&vs);
	chmod(key, 0644);
	vb_setup_keys(NULL, key, NULL, &vs);
	has(&vs, VB_CHECK_FAIL, "signatures", "can be read by others (mode "
	    "644): anyone who reads it can sign forgeries; chmod 600");
	vb_verdicts_free(&vs);
	chmod(key, 0600);
	if (geteuid() == 0) {
		assert_int_equal(chown(key, 65534, 65534), 0);
		vb_setup_keys(NULL, key, NULL, &vs);
		has(&vs, VB_CHECK_FAIL_JOB, "signatures", "'s, not the job's "
		    "user's (root): chown root ");
		vb_verdicts_free(&vs);
		assert_int_equal(chown(key, 0, 0), 0);
	}
	/* A passphrase: not a key the job can use. */
	unlink(key);
	unlink(pub);
	run(pass, NULL);
	vb_setup_keys(NULL, key, NULL, &vs);
	has(&vs, VB_CHECK_FAIL, "signatures", "is not an Ed25519 key");
	vb_verdicts_free(&vs);
	/* No key, a remote: the warning, naming the configuration. */
	vb_setup_keys(NULL, NULL, "r:bucket", &vs);
	has(&vs, VB_CHECK_WARN, "signatures", "OFFSITE without SIGN_WITH: "
	    "whoever can write to r:bucket can plant");
	assert_int_equal(vs.n, 1);
	vb_verdicts_free(&vs);
	vb_setup_keys(NULL, NULL, NULL, &vs);
	assert_int_equal(vs.n, 0);
	/* A configuration this user cannot read: said, never nothing. */
	if (geteuid() != 0) {
		chmod(vb_config_path(), 0);
		vb_setup_keys(NULL, NULL, NULL, &vs);
		has(&vs, VB_CHECK_FAIL_JOB, "keys", "cannot be read by");
		vb_verdicts_free(&vs);
	}
}

/* The user the checks run as, for each job's user and this one's. */
static void
user_judged(void **state)
{
	struct vb_verdicts vs = { 0 };
	char run_as[256];

	(void)state;
	/* Nothing schedules the job, or it is this user's: as this one. */
	vb_setup_user("", 0, &vs, run_as, sizeof(run_as));
	vb_setup_user("root", 0, &vs, run_as, sizeof(run_as));
	assert_int_equal(vs.n, 0);
	assert_string_equal(run_as, "");
	/* Root becomes the job's user, and says nothing. */
	vb_setup_user("nobody", 0, &vs, run_as, sizeof(run_as));
	assert_int_equal(vs.n, 0);
	assert_string_equal(run_as, "nobody");
	/* Another user cannot: said once, with whom to run it as. */
	vb_setup_user("root", 65534, &vs, run_as, sizeof(run_as));
	assert_string_equal(run_as, "");
	has(&vs, VB_CHECK_WARN, "user", "the job runs as root, this check "
	    "as ");
	has(&vs, VB_CHECK_WARN, "user", ": what needs root's rights is "
	    "checked as ");
	has(&vs, VB_CHECK_WARN, "user", " below, and a failure there is a "
	    "warning; run vb-backup --check as root for the job's own view");
	vb_verdicts_free(&vs);
	vb_setup_user("alice", 65534, &vs, run_as, sizeof(run_as));
	has(&vs, VB_CHECK_WARN, "user", "as root (or as alice) for the "
	    "job's own view");
	assert_int_equal(vs.n, 1);
	vb_verdicts_free(&vs);
}

static void
path_canon(void **state)
{
	char out[4096], want[256];

	(void)state;
	assert_int_equal(vb_path_canon("/nonexistent/a/../b/./c", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "/nonexistent/b/c");
	snprintf(want, sizeof(want), "%s/l", top);
	assert_int_equal(symlink("/tmp", want), 0);
	snprintf(want, sizeof(want), "%s/l/none/x", top);
	assert_int_equal(vb_path_canon(want, out, sizeof(out)), 0);
	assert_string_equal(out, "/tmp/none/x");
	assert_int_equal(vb_path_canon("/", out, sizeof(out)), 0);
	assert_string_equal(out, "/");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(cron_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(cron_daemon, setup, teardown),
		cmocka_unit_test_setup_teardown(schedule_cron, setup, teardown),
		cmocka_unit_test_setup_teardown(schedule_timer, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(schedule_conf, setup, teardown),
		cmocka_unit_test_setup_teardown(schedule_interval, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(environment, setup, teardown),
		cmocka_unit_test_setup_teardown(keys_encryption, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(keys_signing, setup, teardown),
		cmocka_unit_test_setup_teardown(user_judged, setup, teardown),
		cmocka_unit_test_setup_teardown(path_canon, setup, teardown),
	};

	return cmocka_run_group_tests_name("setup.c", tests, NULL, NULL);
}
