/*
 * jobrestore.c - vb-restore's jobs run and said: a restore (by name or
 * --at), a diff, a partial restore and its undo, a drill; each a record
 * on stdout, the commands that undo a change on stderr.
 */
#define _GNU_SOURCE
#include <err.h>
#include <stdio.h>

#include "vblib.h"

/* ---- a restore's record ---- */

int
vb_at_emit(const char *dir, const char *remote, const char *when,
    char *archive, size_t alen)
{
	char why[1024], name[128];

	if (dir == NULL && remote == NULL)
		dir = vb_config("BACKUP_DIR");
	if (dir == NULL && remote == NULL)
		snprintf(why, sizeof(why), "--at %s: no backup directory: -d "
		    "DIR or BACKUP_DIR", when);
	else if (vb_backup_at(dir, remote, when, name, sizeof(name), why,
	    sizeof(why)) == 0) {
		if (remote != NULL)
			snprintf(archive, alen, "%s", name);
		else
			vb_path_join(archive, alen, dir, name);
		return 0;
	}
	warnx("%s", why);
	vb_emit("restore", "-", 0, -1, NULL, vb_monotonic_ms(), why);
	return -1;
}

int
vb_restore_emit(const struct vb_restore_opts *ro, const char *offsite,
    int verify_only, int quiet)
{
	struct vb_restore_result res;
	char undo[9000];
	int64_t t0 = vb_monotonic_ms();
	int rc, ret = 0;

	rc = offsite != NULL ? vb_restore_offsite(ro, offsite, ro->dir, &res) :
	    vb_restore(ro, &res);
	if (!quiet && res.note[0] != '\0')
		warnx("%s", res.note);
	if (rc != 0) {
		warnx("%s", res.why);
		vb_emit(verify_only ? "verify" : "restore", verify_only ?
		    ro->archive : "-", 0, -1, NULL, t0, res.why);
		return 1;
	}
	if (verify_only)
		return vb_emit("verify", ro->archive, 1, res.archive_bytes,
		    res.archive_sha256, t0, res.message) == 0 ? 0 : 1;
	/* It happened: exit 0, with what went wrong beside it said. */
	if (res.unlogged[0] != '\0')
		warnx("restored, but not recorded: %s", res.unlogged);
	if (vb_emit("restore", res.target, 1, res.bytes, res.sha256, t0,
	    res.message) != 0)
		ret = 1;
	if (!quiet && res.saved[0] != '\0') {
		vb_restore_undo(res.saved, ro->identity, ro->db, undo,
		    sizeof(undo));
		warnx("the database as it was is in %s; to undo: %s",
		    res.saved, undo);
	}
	return ret;
}

int
vb_diff_emit(const struct vb_diff_opts *o)
{
	char why[2048];

	if (vb_diff(o, why, sizeof(why)) == 0)
		return 0;
	warnx("%s", why);
	return 1;
}

/* How to undo it: the command that applies its undo file, pasted as
 * it is (the same -d, so that its copies go where this one's went). */
static void
undo_hint(const char *db, const char *dir, const struct vb_partial_result *res)
{
	if (res->undo[0] != '\0')
		warnx("to undo: vb-restore%s -d %s --undo %s --db %s",
		    vb_age_named(res->undo) ? " -i IDENTITY-FILE" : "", dir,
		    res->undo, db);
}

/* A change made (its row committed with it): its record, the undo
 * told, foreign keys it kept said.  Exit status. */
static int
changed(const char *db, const char *dir, struct vb_partial_result *res,
    int quiet)
{
	if (res->violations > 0)
		warnx("%lld foreign key violations kept (--force): PRAGMA "
		    "foreign_key_check lists them", (long long)res->violations);
	if (!quiet)
		undo_hint(db, dir, res);
	return vb_record_write(stdout, &res->record) != 0;
}

/* A change refused, or a dry run: said.  Exit status. */
static int
unchanged(int rc, int dry, int64_t t0, const struct vb_partial_result *res,
    int quiet)
{
	if (!quiet && res->note[0] != '\0')
		warnx("%s", res->note);
	if (rc != 0) {
		warnx("%s", res->why);
		vb_emit("restore", "-", 0, -1, NULL, t0, res->why);
		return 1;
	}
	(void)dry;
	return printf("dry run, nothing changed: %s\n", res->message) < 0;
}

int
vb_partial_emit(const struct vb_partial_opts *o, int quiet)
{
	struct vb_partial_result res;
	int64_t t0 = vb_monotonic_ms();
	int rc = vb_partial(o, &res);

	if (rc != 0 || o->dry)
		return unchanged(rc, o->dry, t0, &res, quiet);
	if (!quiet && res.note[0] != '\0')
		warnx("%s", res.note);
	return changed(o->db, o->dir, &res, quiet);
}

int
vb_undo_emit(const struct vb_undo_opts *o, int quiet)
{
	struct vb_partial_result res;
	int64_t t0 = vb_monotonic_ms();
	int rc = vb_undo(o, &res);

	if (rc != 0 || o->dry)
		return unchanged(rc, o->dry, t0, &res, quiet);
	if (!quiet && res.note[0] != '\0')
		warnx("%s", res.note);
	return changed(o->db, o->dir, &res, quiet);
}

/* One backup drilled: its verify record, and a failure said. */
static int
drilled(void *arg, const char *path, int ok, int64_t bytes, const char *sha,
    int64_t t0, const char *msg)
{
	int quiet = *(int *)arg;

	if (!ok || !quiet)
		warnx("%s: %s", path, msg);
	return vb_emit("verify", path, ok, bytes, sha, t0, msg);
}

int
vb_drill_emit(const struct vb_drill_opts *o, int quiet)
{
	struct vb_drill_out out = { &quiet, drilled };
	char why[1024];
	int64_t t0 = vb_monotonic_ms();
	int rc;

	if ((rc = vb_drill(o, &out, why, sizeof(why))) >= 0)
		return rc;
	warnx("%s", why);
	vb_emit("verify", "-", 0, -1, NULL, t0, why);
	return 1;
}
