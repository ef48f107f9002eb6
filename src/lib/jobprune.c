/*
 * jobprune.c - vb-prune's and vb-offsite's jobs run and said: retention,
 * one prune record per file; vb-offsite's copies (tonight's, --catch-up's,
 * --encrypt's), one offsite record each; why on stderr when one failed;
 * and vb-backup --dry-run's retention rows (vb-prune --plan).
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <err.h>
#include <stdio.h>

#include "vblib.h"

/* A prune record for each file, and why on stderr when it failed. */
static int
prune_said(void *arg, const char *path, int ok, int64_t bytes,
    const char *msg)
{
	(void)arg;
	if (!ok)
		warnx("%s: %s", path, msg);
	return vb_emit("prune", path, ok, bytes, NULL, vb_monotonic_ms(),
	    msg) != 0;
}

static void
prune_noted(void *arg, const char *text)
{
	(void)arg;
	warnx("%s", text);
}

int
vb_prune_emit(const char *dir, const char *remote,
    const struct vb_policy *p, int dry)
{
	struct vb_prune_out out = { prune_said, prune_noted, NULL };
	char why[1024];
	int64_t t0 = vb_monotonic_ms();
	int rc;

	if ((rc = vb_prune_apply(dir, remote, p, dry, &out, why,
	    sizeof(why))) >= 0)
		return rc;
	warnx("%s", why);
	vb_emit("prune", "-", 0, -1, NULL, t0, why);
	return 1;
}

/* --plan: a file the dry run would delete, its row. */
static int
plan_file(void *arg, const char *path, int ok, int64_t bytes,
    const char *msg)
{
	int *n = arg;

	(void)ok;
	(void)msg;
	++*n;
	return vb_plan_deletes(stdout, path, bytes) != 0;
}

int
vb_prune_plan(const char *dir, const struct vb_policy *p)
{
	struct vb_prune_out out = { plan_file, prune_noted, NULL };
	struct stat st;
	char words[1024], why[1024];
	int n = 0;

	out.arg = &n;
	vb_policy_words(p, words, sizeof(words));
	vb_plan_row(stdout, "retention", "%s", words);
	/* Nothing there yet: nothing to delete, nothing to say. */
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return 0;
	printf("retention would delete now (before tonight's backup):\n");
	if (vb_prune_apply(dir, NULL, p, 1, &out, why, sizeof(why)) < 0) {
		/* Said in the plan, which is the answer: not a failure. */
		warnx("%s", why);
		printf("  (cannot tell: %s)\n", why);
		return ferror(stdout) ? 1 : 0;
	}
	if (n == 0)
		vb_plan_deletes(stdout, NULL, 0);
	return ferror(stdout) ? 1 : 0;
}

/* ---- vb-offsite's copies ---- */

/* What --catch-up's sender needs. */
struct lacking {
	const char	*remote;
	int		 quiet;
};

/*
 * Copies one archive to the remote; sha is the record's (NULL: hashed
 * here).  Writes its offsite record; returns 0, or 1 if it failed.
 */
static int
send_one(const char *path, const char *sha, const char *remote,
    const char *why_sent, int quiet)
{
	struct vb_sent c;
	char msg[2100];
	int64_t t0 = vb_monotonic_ms();
	int ok;

	if ((ok = vb_remote_send(path, sha, remote, &c) == 0))
		snprintf(msg, sizeof(msg), "copied to %s%s, SHA-256 verified "
		    "(%s)", remote, why_sent, c.how);
	else
		snprintf(msg, sizeof(msg), "not copied to %s: %s", remote,
		    c.why);
	if (!ok)
		warnx("%s: %s", path, msg);
	else if (!quiet)
		warnx("%s", msg);
	if (vb_emit("offsite", ok ? c.dest : path, ok, c.bytes, ok ? c.sha256 :
	    NULL, t0, msg) != 0)
		return 1;
	return !ok;
}

int
vb_offsite_emit(const char *path, const char *sha, const char *remote,
    int quiet)
{
	return send_one(path, sha, remote, "", quiet);
}

/* --catch-up: one archive the remote lacks (a copy made tonight is
 * there by now, at its size: not sent again). */
static int
send_lacking(void *arg, const char *path)
{
	const struct lacking *l = arg;

	return send_one(path, NULL, l->remote,
	    " (catching up: the remote lacked it)", l->quiet);
}

int
vb_catch_up_emit(const char *dir, const char *remote, int quiet)
{
	struct lacking l = { remote, quiet };
	char why[2048], note[1024];
	int64_t t0 = vb_monotonic_ms();
	int rc;

	rc = vb_catch_up(remote, dir, send_lacking, &l, note,
	    sizeof(note), why, sizeof(why));
	if (note[0] != '\0' && !quiet)
		warnx("%s", note);
	if (rc >= 0)
		return rc;
	warnx("%s", why);
	vb_emit("offsite", remote, 0, -1, NULL, t0, why);
	return 1;
}

/* --encrypt: one remote archive's outcome, said and recorded. */
static int
encrypted(void *arg, const char *path, int ok, int64_t bytes,
    const char *hex, const char *msg)
{
	const int *quiet = arg;

	if (!ok || !*quiet)
		warnx("%s", msg);
	return vb_emit("offsite", path, ok, bytes, hex, vb_monotonic_ms(),
	    msg) != 0 || !ok;
}

int
vb_encrypt_remote_emit(const char *dir, const char *remote, int quiet)
{
	char why[2048];
	int64_t t0 = vb_monotonic_ms();
	int rc;

	if ((rc = vb_encrypt_remote_all(remote, dir, vb_config("ENCRYPT_TO"),
	    encrypted, &quiet, why, sizeof(why))) >= 0)
		return rc;
	warnx("%s", why);
	vb_emit("offsite", remote, 0, -1, NULL, t0, why);
	return 1;
}
