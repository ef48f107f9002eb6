/*
 * jobcompress.c - vb-compress's jobs run and said: an archive, an
 * encryption in place, the raw snapshots left archived (--leftovers) or
 * removed (--scrub: each path a line), a point, which run is due; each
 * one record on stdout, flushed at once, the damaged links found on the
 * way as failed verify records, notes and warnings on stderr.
 */
#define _GNU_SOURCE
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vblib.h"

/* ---- an archive's records ---- */

/*
 * The links of the chain vb-compress would have built on that were found
 * damaged or missing: one failed verify record each (tonight's archive is
 * a full one).  Returns 0 if there were none, else 1.
 */
static int
faults(const char *path, const struct vb_compress_result *res)
{
	char dir[4096], base[256], msg[1400], where[4400];
	int i;

	if (res->nfaults == 0)
		return 0;
	vb_path_split(path, dir, sizeof(dir), base, sizeof(base));
	for (i = 0; i < res->nfaults; i++) {
		vb_fault_text(&res->faults[i], dir, msg, sizeof(msg));
		vb_appendf(msg, sizeof(msg), "; tonight's backup is a full "
		    "one");
		warnx("%s", msg);
		vb_path_join(where, sizeof(where), dir, res->faults[i].name);
		vb_emit("verify", where, 0, -1, NULL, vb_monotonic_ms(), msg);
	}
	return 1;
}

/* One compress record for rc and res (msg its message); 0, or 1. */
static int
compressed(const char *path, int rc, const struct vb_compress_result *res,
    const char *msg, int64_t t0, int quiet)
{
	if (!quiet && res->note[0] != '\0')
		warnx("%s", res->note);
	if (rc != 0)
		warnx("%s", res->why);
	/* A loss of rows is news even to a quiet run. */
	if (res->warning[0] != '\0')
		warnx("WARNING: %s", res->warning);
	/* Flushed at once: vb-log downstream logs each as it happens. */
	if (vb_emit("compress", rc >= 0 ? res->path : path, rc >= 0,
	    rc >= 0 ? res->bytes : -1, rc >= 0 ? res->sha256 : NULL, t0,
	    msg) != 0 || fflush(stdout) != 0)
		return 1;
	return rc != 0;
}

int
vb_compress_emit(const char *path, const struct vb_snapmeta *meta,
    const struct vb_compress_opts *o, int quiet)
{
	struct vb_compress_result res;
	char msg[2400];
	int64_t t0 = vb_monotonic_ms();
	int rc, bad;

	rc = vb_compress_file(path, meta, o, &res);
	bad = faults(path, &res);
	vb_compress_message(o, &res, rc, msg, sizeof(msg));
	return compressed(path, rc, &res, msg, t0, quiet) | bad;
}

int
vb_encrypt_emit(const char *path, const char *recipients, int quiet)
{
	struct vb_compress_result res;
	char msg[1400];
	int64_t t0 = vb_monotonic_ms();
	int rc;

	rc = vb_encrypt_in_place(path, recipients, &res);
	if (!quiet && res.note[0] != '\0')
		warnx("%s", res.note);
	vb_encrypt_message(path, &res, rc, msg, sizeof(msg));
	if (rc != 0)
		warnx("%s", rc < 0 ? res.why : msg);
	if (vb_emit("compress", rc >= 0 ? res.path : path, rc >= 0,
	    rc >= 0 ? res.bytes : -1, rc >= 0 ? res.sha256 : NULL, t0,
	    msg) != 0 || fflush(stdout) != 0)
		return 1;
	return rc != 0;
}

int
vb_leftovers_emit(const char *dir, const struct vb_compress_opts *o,
    int quiet)
{
	struct vb_listed *raw;
	char path[4096], why[1024];
	int64_t t0 = vb_monotonic_ms();
	size_t i, n;
	int ret = 0;

	if (vb_raw_list(dir, o->encrypt_to != NULL, &raw, &n, why,
	    sizeof(why)) != 0) {
		/* The job's failure needs the reason in a record. */
		warnx("%s", why);
		vb_emit("compress", dir, 0, -1, NULL, t0, why);
		return 1;
	}
	for (i = 0; i < n; i++)
		if (vb_path_join(path, sizeof(path), dir, raw[i].name) != 0) {
			warnx("%s/%s: path too long", dir, raw[i].name);
			ret = 1;
		} else
			ret |= vb_compress_emit(path, NULL, o, quiet);
	free(raw);
	return ret;
}

/*
 * The raw snapshot's name a given name stands for: a path's last part,
 * and an intermediate's (".vb-tmp-<pid>-<final>", as vb-snapshot's
 * record names it) final name, which it takes when its archive fails.
 */
static const char *
raw_name(const char *given)
{
	const char *base = strrchr(given, '/'), *final;

	base = base != NULL ? base + 1 : given;
	final = vb_tmp_final(base);
	return final != NULL ? final : base;
}

int
vb_scrub_emit(const char *dir, char *const name[], int nname)
{
	struct vb_listed *raw;
	char why[1024];
	size_t i, n;
	int ret = 0, k;

	if (vb_raw_list(dir, 1, &raw, &n, why, sizeof(why)) != 0) {
		warnx("%s", why);
		return 1;
	}
	for (i = 0; i < n; i++) {
		/* Named: those only (a name not there is already gone). */
		for (k = 0; k < nname && strcmp(raw_name(name[k]),
		    raw[i].name) != 0; k++)
			;
		if (nname > 0 && k == nname)
			continue;
		if (vb_raw_remove(dir, raw[i].name, why, sizeof(why)) != 0) {
			warnx("%s", why);
			ret = 1;
		} else if (printf("%s/%s\n", dir, raw[i].name) < 0)
			ret = 1;
	}
	free(raw);
	return ret;
}

int
vb_orphans_emit(const char *dir)
{
	char note[2048];
	int lost = vb_tmp_keep_handed(dir, (long)getppid(), note,
	    sizeof(note));

	if (note[0] != '\0')
		warnx("%s", note);
	return lost != 0;
}

int
vb_point_emit(const struct vb_point_opts *o, int quiet)
{
	struct vb_compress_result res;
	char msg[2400];
	int64_t t0 = vb_monotonic_ms();
	int rc;

	rc = vb_point(o, &res);
	vb_point_message(o, &res, rc, msg, sizeof(msg));
	return compressed(o->db, rc, &res, msg, t0, quiet);
}

int
vb_due_emit(const char *dir, int quiet)
{
	char note[600], why[1024];
	int rc = vb_run_due(dir, note, sizeof(note), why, sizeof(why));

	if (rc < 0) {
		warnx("%s", why);
		return 1;
	}
	if (!quiet)
		warnx("%s", note);
	return printf("%s\n", rc == VB_RUN_NIGHTLY ? "nightly" : "point") <
	    0;
}

/* ---- the command line's settings and inputs ---- */

int
vb_compress_settings(const char *kind, const char *level, const char *threads,
    struct vb_compress_opts *o, char *why, size_t wlen)
{
	uint64_t v;
	int maxlevel;

	if (vb_compression_parse(kind != NULL ? kind :
	    vb_config("COMPRESSION"), &o->a.ext, &maxlevel) != 0)
		return snprintf(why, wlen, "compression must be zstd, gzip, "
		    "xz or none"), -1;
	if (level != NULL) {
		if (o->a.ext == VB_EXT_TAR)
			return snprintf(why, wlen, "-l makes no sense with -z "
			    "none"), -1;
		if (vb_parse_u64(level, &v) != 0 || v > (uint64_t)maxlevel ||
		    (v == 0 && o->a.ext != VB_EXT_TAR_XZ))
			return snprintf(why, wlen, "level out of range for "
			    "this compression"), -1;
		o->a.level = (int)v;
	} else if (o->a.ext == VB_EXT_TAR_ZST)
		o->a.level = VB_ZSTD_LEVEL;
	/* Every core by default: vb-compress runs niced. */
	if (threads != NULL) {
		if (vb_parse_u64(threads, &v) != 0 || v < 1 || v > 256)
			return snprintf(why, wlen, "threads must be 1 to 256"),
			    -1;
		o->a.threads = (int)v;
	} else if (o->a.ext != VB_EXT_TAR_ZST && o->a.ext != VB_EXT_TAR_XZ)
		o->a.threads = 1;	/* the others have none */
	else if (vb_config("COMPRESSION_THREADS") != NULL &&
	    vb_parse_u64(vb_config("COMPRESSION_THREADS"), &v) == 0)
		o->a.threads = (int)(v < 256 ? v : 256);
	else
		o->a.threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (o->a.threads < 1 || o->a.threads > 256)
		o->a.threads = o->a.threads < 1 ? 1 : 256;
	return 0;
}

int
vb_compress_path(const char *path, const struct vb_compress_opts *o,
    int quiet)
{
	if (o->encrypt_only && !vb_is_snapshot(path))
		return vb_encrypt_emit(path, o->encrypt_to, quiet);
	return vb_compress_emit(path, NULL, o, quiet);
}

/* What vb_compress_stage is handed with each line. */
struct stage {
	const struct vb_compress_opts	*o;
	int				 quiet;
};

/* What vb-compress does with a line of stdin: ok snapshots, paths. */
static int
act(struct vb_record *r, enum vb_line kind, void *arg)
{
	const struct stage *st = arg;
	struct vb_snapmeta meta;

	if (kind == VB_LINE_PATH)
		return vb_compress_path(r->path, st->o, st->quiet);
	if (strcmp(r->op, "snapshot") != 0 || !r->ok)
		return 0;
	vb_snapmeta_parse(r->msg, &meta);
	meta.sha256 = r->sha256[0] != '\0' ? r->sha256 : NULL;
	meta.bytes = r->bytes;
	return vb_compress_emit(r->path, &meta, st->o, st->quiet);
}

int
vb_compress_stage(const struct vb_compress_opts *o, int quiet)
{
	struct stage st = { o, quiet };

	return vb_stage_loop(act, &st);
}
