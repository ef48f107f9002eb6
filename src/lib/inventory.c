/*
 * inventory.c - what a backup directory (or the remote) holds, listed: every
 * backup file newest first, its kind, type (full, delta, point or raw),
 * compression and parent, whether it can be restored from here (vb_health),
 * verified when asked (a full check, or each archive against its recorded
 * SHA-256), when a restore drill last proved it (BackupLog of DB_PATH), in
 * the listing's forms (listing.c) and in fields for the shell.  An output
 * helper: it prints the listing on stdout and each failed check once on
 * stderr.
 */
#define _GNU_SOURCE
#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vblib.h"

/* One file of the listing, as every form says it. */
struct item {
	const char		*path;
	const struct vb_backup	*b;
	int			 j;		/* its file in b */
	const char		*kind;		/* backup, pre-restore */
	const char		*type;		/* full, delta, point, raw */
	char			 comp[32];	/* zstd, zstd+age, raw */
	char			 parent[64];	/* a delta's, "" unknown */
	int			 checked;	/* its state was checked */
	int			 ok;
	const char		*why;		/* not ok: why */
	const char		*proven;	/* by a drill, when; or NULL */
	int			 listed;	/* in the signed catalog: 1, 0;
						   -1 not asked */
	int			 is_signed;	/* as BackupLog says: 1, 0;
						   -1 not known */
	int			 recorded;	/* BackupLog names it: 1, 0
						   (planted?); -1 no history */
	int			 held;		/* after a sudden loss */
};

/*
 * A delta's parent: its page index's word (b->parent), else its
 * manifest's (a plain local archive), else "" (not known without
 * reading an encrypted or remote one).
 */
static void
parent_of(struct item *it, int local)
{
	struct vb_manifest m;
	char why[512];
	int fd;

	snprintf(it->parent, sizeof(it->parent), "%s",
	    it->b->files[it->j].delta ? it->b->parent : "");
	if (!it->b->files[it->j].delta || it->parent[0] != '\0' ||
	    it->b->files[it->j].encrypted || !local ||
	    (fd = open(it->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return;
	if (vb_archive_manifest(fd, &m, why, sizeof(why)) == 0) {
		snprintf(it->parent, sizeof(it->parent), "%s", m.parent);
		if (m.point)
			it->type = "point";
	}
	close(fd);
}

/* The fields form: one TAB-separated line a shell reads with read. */
static int
show_fields(const struct item *it)
{
	return printf("%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%lld\t%s\t%s\t%s\t"
	    "%s\t%s\t%s\t%s\n",
	    it->path, it->b->stem, it->kind, it->type, it->comp,
	    it->b->files[it->j].encrypted, it->ok ? "ok" : "unsafe",
	    it->parent[0] != '\0' ? it->parent : "-",
	    (long long)it->b->files[it->j].bytes, it->ok ? "-" : it->why,
	    it->proven != NULL ? it->proven : "-", it->listed < 0 ? "-" :
	    it->listed ? "listed" : "unlisted", it->is_signed < 0 ? "-" :
	    it->is_signed ? "signed" : "unsigned", it->recorded < 0 ? "-" :
	    it->recorded ? "recorded" : "unrecorded", it->held ? "held" : "-",
	    it->b->drill_failed ? "drill-failed" : it->b->damaged ?
	    "damaged" : it->b->unsafe ? "broken-chain" : "-") < 0;
}

/* One backup file as a JSON object of the listing. */
static void
show_json(struct vb_list *out, const struct item *it, const char *iso)
{
	vb_list_object(out);
	vb_list_str(out, "path", it->path);
	vb_list_str(out, "time", iso);
	vb_list_str(out, "kind", it->kind);
	vb_list_str(out, "compression", it->comp);
	vb_list_str(out, "type", it->type);
	vb_list_str(out, "parent", it->parent[0] != '\0' ? it->parent :
	    NULL);
	vb_list_int(out, "bytes", it->b->files[it->j].bytes, 1);
	vb_list_lit(out, "verified", !it->checked ? "null" : it->ok ?
	    "true" : "false");
	vb_list_str(out, "error", it->checked && !it->ok ? it->why :
	    NULL);
	vb_list_str(out, "proven", it->proven);
	vb_list_lit(out, "listed", it->listed < 0 ? "null" :
	    it->listed ? "true" : "false");
	vb_list_lit(out, "signed", it->is_signed < 0 ? "null" :
	    it->is_signed ? "true" : "false");
	vb_list_lit(out, "recorded", it->recorded < 0 ? "null" :
	    it->recorded ? "true" : "false");
	vb_list_lit(out, "held", it->held ? "true" : "false");
	vb_list_lit(out, "drill_failed", it->b->drill_failed ? "true" :
	    "false");
}

/*
 * The records form: one record (o->each: handed to it, the message but
 * its health=); of and ofw say what a delta or point is built on.
 */
static int
show_record(const struct vb_inventory_opts *o, const struct item *it,
    const char *of, const char *ofw, const char *iso)
{
	const struct vb_backup *b = it->b;
	struct vb_record r;
	char msg[1200];
	size_t len;

	vb_record_init(&r, it->checked ? "verify" : "list", it->path);
	r.ok = it->ok && it->listed != 0 && it->recorded != 0;
	r.bytes = b->files[it->j].bytes;
	r.ms = 0;
	memcpy(r.time, iso, sizeof(r.time));
	/* The facts a script reads last, as fields (held=, health=). */
	snprintf(msg, sizeof(msg), "%s %s%s%s%s; %s%s%s%s%s%s%s", it->kind,
	    it->comp, of[0] != '\0' ? " " : "", of[0] != '\0' ? ofw : "", of,
	    it->checked ? (it->ok ?
	    "ok" : it->why) : b->files[it->j].ext == VB_EXT_DB ?
	    "raw snapshot" : "read back when written", it->proven != NULL ?
	    "; restored and proven by a drill at " : "", it->proven != NULL ?
	    it->proven : "", it->listed < 0 ? "" : it->listed ?
	    "; in the signed catalog" : "; NOT in the signed catalog",
	    it->is_signed < 0 ? "" : it->is_signed ? "; signed" :
	    "; not signed", it->recorded != 0 ? "" : "; UNRECORDED: "
	    "BackupLog never named it (planted?)", it->held ? "; held=yes" :
	    "");
	if (o->each != NULL)
		return o->each(o->arg, &(struct vb_item){ it->path, b, it->j,
		    it->checked, r.ok, it->is_signed, msg });
	len = strlen(msg);
	snprintf(msg + len, sizeof(msg) - len, "%s", !b->unsafe ? "" :
	    b->drill_failed ? "; health=drill-failed" : b->damaged ?
	    "; health=damaged" : "; health=broken-chain");
	r.msg = msg;
	return vb_record_write(stdout, &r);
}

/* One backup file in the listing's form (o->each: handed to it). */
static int
show(const struct vb_inventory_opts *o, struct vb_list *out,
    const struct item *it)
{
	char iso[VB_ISO_LEN], hb[32], of[100] = "", ofw[16];
	const struct vb_backup *b = it->b;

	vb_iso_time(&b->when, iso);
	if (b->files[it->j].delta)
		snprintf(of, sizeof(of), "%s%s", it->parent[0] != '\0' ?
		    it->parent : "the backup before", out->form ==
		    VB_LIST_TABLE ? ")" : "");
	/* "delta of", "point of": what it is built on. */
	snprintf(ofw, sizeof(ofw), "%s of ", it->type);
	switch (out->form) {
	case VB_LIST_FIELDS:
		return show_fields(it);
	case VB_LIST_JSON:
		show_json(out, it, iso);
		return 0;
	case VB_LIST_TABLE:
		vb_human_bytes((uint64_t)b->files[it->j].bytes, hb, sizeof(hb));
		if (!it->ok)
			warnx("%s", it->why);
		return printf("%-24s  %10s  %-8s  %-5s  %-8s  %-10.10s  "
		    "%s%s%s%s%s%s%s\n", iso, hb, it->comp, it->type,
		    it->checked ? (it->ok ? "ok" : "FAILED") : "-",
		    b->drill_failed ?
		    "FAILED" : it->proven != NULL ? it->proven : "-",
		    it->path, of[0] != '\0' ? "  (" : "", of[0] != '\0' ?
		    ofw : "", of, it->listed != 0 ? "" :
		    "  NOT IN THE SIGNED CATALOG", it->recorded != 0 ? "" :
		    "  UNRECORDED: BackupLog never named it (planted?)",
		    it->held ? "  HELD after a sudden loss of rows "
		    "(vb-prune --holds)" : "") < 0;
	case VB_LIST_RECORDS:
		break;
	}
	return show_record(o, it, of, ofw, iso);
}

/* The item for file j of backup b at path, checked as o asks. */
static void
look_at(const struct vb_inventory_opts *o, const char *where,
    const char *path, const struct vb_backup *b, int j, struct item *it,
    char *why, size_t wlen)
{
	const char *comp = vb_compression_name(b->files[j].ext);
	struct vb_verified c;

	memset(it, 0, sizeof(*it));
	it->path = path;
	it->b = b;
	it->j = j;
	it->kind = b->kind == VB_KIND_BACKUP ? "backup" : "pre-restore";
	it->type = b->files[j].ext == VB_EXT_DB ? "raw" : !b->files[j].delta ?
	    "full" : b->point ? "point" : "delta";
	/* "zstd+age": which backups need an identity, shown without one. */
	snprintf(it->comp, sizeof(it->comp), "%s%s", comp,
	    b->files[j].encrypted ? "+age" : "");
	it->ok = 1;
	it->checked = o->verify;
	/*
	 * --sums and no SHA-256 recorded for it (BackupLog lost its rows,
	 * or never had the column): checked whole instead, where it can be
	 * read here (an encrypted one needs the identity: said unchecked).
	 */
	if (o->sums && !o->verify && !b->checked && b->files[j].ext !=
	    VB_EXT_DB && (!b->files[j].encrypted || o->identity != NULL)) {
		it->checked = 1;
		it->ok = vb_verify_backup(it->path, NULL, o->identity, NULL,
		    where, b->files[j].name, VB_CHECK_OPEN, &c, why,
		    wlen) == 0;
		if (it->ok)
			vb_tmp_abort(&c.t);
	} else if (o->verify) {
		it->ok = vb_verify_backup(it->path, NULL, o->identity, NULL,
		    where, b->files[j].name, o->check, &c, why, wlen) == 0;
		if (it->ok)
			vb_tmp_abort(&c.t);
	}
	/* What cannot be restored from here, said so. */
	if (it->ok && b->unsafe) {
		snprintf(why, wlen, "cannot be restored from here: %s", b->why);
		it->ok = 0;
	}
	it->checked |= !it->ok || (o->sums && b->checked);
	it->why = why;
	parent_of(it, o->remote == NULL);
}

/* ---- against the signed catalog (--verify-with) ---- */

/*
 * When the catalog was written, said; and a warning when that is older
 * than two nights (the signer stopped, or the remote's was rolled back
 * to one whose sequence this host never saw).
 */
static void
catalog_age(const struct vb_inventory_opts *o, const struct vb_catalog *cat)
{
	struct timespec w;
	time_t now = time(NULL);

	if (vb_parse_iso(cat->written, &w) == 0 && now - w.tv_sec > 48 * 3600)
		warnx("WARNING: %s's signed catalog (sequence %lld) was "
		    "written %s, %lld h ago: older than two nights; is the "
		    "signing host still backing up, and is this the newest "
		    "catalog?",
		    o->remote != NULL ? o->remote : o->dir,
		    (long long)cat->seq, cat->written,
		    (long long)((now - w.tv_sec) / 3600));
	else if (o->json == 0 && o->fields == 0)
		warnx("%s's signed catalog: sequence %lld, written %s",
		    o->remote != NULL ? o->remote : o->dir,
		    (long long)cat->seq, cat->written);
}

/*
 * The catalog of dir, or of the remote (fetched into TMPDIR), checked
 * against the public key and what this host has seen.  0, or -1 (said).
 */
static int
catalog_of(const struct vb_inventory_opts *o, struct vb_catalog *cat)
{
	const char *tmp = getenv("TMPDIR"), *seen = o->dir;
	char c[4400], sg[4400], why[1400];
	struct vb_tmp tc, ts;
	int rc;

	memset(&tc, 0, sizeof(tc));
	memset(&ts, 0, sizeof(ts));
	tc.dirfd = ts.dirfd = -1;
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	if (o->remote == NULL) {
		snprintf(c, sizeof(c), "%s/%s", o->dir, VB_CATALOG);
		snprintf(sg, sizeof(sg), "%s/%s", o->dir, VB_CATALOG_SIG);
	} else if (vb_catalog_fetch(o->remote, tmp, &tc, &ts, c, sg,
	    sizeof(c), why, sizeof(why)) != 0) {
		warnx("%s: no signed catalog: %s", o->remote, why);
		return -1;
	}
	if (o->remote != NULL)
		seen = vb_config("BACKUP_DIR");
	rc = vb_catalog_load(c, sg, o->verify_with, cat, why, sizeof(why));
	if (rc == 0 && seen != NULL && access(seen, W_OK) == 0 &&
	    (rc = vb_catalog_seen(seen, cat->seq, why, sizeof(why))) != 0)
		vb_catalog_free(cat);
	if (rc != 0)
		warnx("%s", why);
	else
		catalog_age(o, cat);
	vb_tmp_abort(&tc);
	vb_tmp_abort(&ts);
	return rc;
}

/* Whether backup file f is in the catalog, as it is. */
static int
is_listed(const struct vb_catalog *cat, const char *name, int64_t bytes)
{
	const struct vb_catalog_entry *e = vb_catalog_find(cat, name);

	return e != NULL && e->bytes == bytes;
}

/* A backup the catalog lists and where does not hold, as a record. */
static void
missing_record(const struct vb_catalog *cat,
    const struct vb_catalog_entry *e, const char *where)
{
	char path[4400], msg[600];
	struct vb_record r;

	snprintf(path, sizeof(path), "%s/%s", where, e->name);
	vb_record_init(&r, "list", path);
	r.ok = 0;
	r.bytes = e->bytes;
	memcpy(r.sha256, e->sha256, sizeof(r.sha256));
	r.ms = 0;
	snprintf(msg, sizeof(msg), "MISSING: the signed catalog (sequence "
	    "%lld) lists it; not there", (long long)cat->seq);
	r.msg = msg;
	vb_record_write(stdout, &r);
}

/* The same handed to o->each, as its record says it. */
static void
missing_each(const struct vb_inventory_opts *o, const struct vb_catalog *cat,
    const struct vb_catalog_entry *e, const char *where)
{
	char path[4400], msg[600];

	snprintf(path, sizeof(path), "%s/%s", where, e->name);
	snprintf(msg, sizeof(msg), "MISSING: the signed catalog (sequence "
	    "%lld) lists it; not there", (long long)cat->seq);
	(void)o->each(o->arg, &(struct vb_item){ path, NULL, 0, 0, 0, -1,
	    msg });
}

/* The catalog's backups that are not here: deleted.  How many. */
static int
missing(const struct vb_inventory_opts *o, struct vb_list *out,
    const struct vb_catalog *cat, const struct vb_backup *bk, size_t n,
    const char *where)
{
	size_t i, k;
	int j, found, count = 0;

	for (k = 0; k < cat->n; k++) {
		for (i = 0, found = 0; i < n && !found; i++)
			for (j = 0; j < bk[i].nfiles && !found; j++)
				found = strcmp(bk[i].files[j].name,
				    cat->e[k].name) == 0;
		if (found)
			continue;
		count++;
		warnx("%s/%s: MISSING: the signed catalog (sequence %lld, "
		    "written %s) lists it, %s does not hold it: deleted?",
		    where, cat->e[k].name, (long long)cat->seq, cat->written,
		    where);
		if (o->each != NULL)
			missing_each(o, cat, &cat->e[k], where);
		else if (out->form == VB_LIST_TABLE)
			printf("%-24s  %10s  %-8s  %-5s  %-8s  %-10s  %s/%s\n",
			    cat->e[k].when, "-", "-", "-", "MISSING", "-",
			    where, cat->e[k].name);
		else if (out->form == VB_LIST_RECORDS)
			missing_record(cat, &cat->e[k], where);
	}
	return count;
}

/* The snapshots set aside by failed checks, in the fields form only. */
static int
show_asides(const char *dir)
{
	struct vb_listed *f;
	struct vb_backup b;
	struct item it;
	char path[4400];
	size_t n, i;
	int ret = 0;

	if (vb_scan_asides(dir, &f, &n) != 0)
		return 1;
	for (i = 0; i < n; i++) {
		memset(&b, 0, sizeof(b));
		memset(&it, 0, sizeof(it));
		snprintf(b.stem, sizeof(b.stem), "%.*s",
		    (int)strcspn(f[i].name, "."), f[i].name);
		b.nfiles = 1;
		b.files[0].bytes = f[i].bytes;
		b.files[0].ext = VB_EXT_DB;
		b.files[0].encrypted = strstr(f[i].name, VB_AGE_SUFFIX) != NULL;
		vb_path_join(path, sizeof(path), dir, f[i].name);
		it.path = path;
		it.b = &b;
		it.kind = "set-aside";
		it.type = "raw";
		it.listed = it.is_signed = it.recorded = -1;
		snprintf(it.comp, sizeof(it.comp), "raw%s",
		    b.files[0].encrypted ? "+age" : "");
		it.ok = 1;
		ret |= show_fields(&it);
	}
	free(f);
	return ret;
}

/* What vouches for each file: drills, BackupLog, the signed catalog. */
struct vouchers {
	struct vb_proven	 pv;
	struct vb_log_known	 known;
	struct vb_catalog	 cat;
	int			 listing;	/* cat was read */
};

/*
 * The local side's own facts on bk: sizes, recorded damage and failed
 * drills always (--sums: every recorded SHA-256), holds.  A history that
 * cannot be read is a failure of the listing, said: never "ok"
 * unmeasured.  Returns 0, or 1 for that failure.
 */
static int
local_facts(const struct vb_inventory_opts *o, struct vb_backup *bk,
    size_t n)
{
	char hwhy[700];
	int ret = 0;

	vb_scan_sizes(o->dir, bk, n);
	if (vb_health(o->dir, bk, n, o->sums, 0, vb_config("DB_PATH"), hwhy,
	    sizeof(hwhy)) != 0) {
		warnx("%s", hwhy);
		if (o->each != NULL)
			(void)o->each(o->arg, &(struct vb_item){ o->dir, NULL,
			    0, o->sums, 0, -1, hwhy });
		else if (!o->json && !o->fields && !isatty(STDOUT_FILENO))
			(void)vb_emit(o->sums ? "verify" : "list", o->dir, 0,
			    -1, NULL, vb_monotonic_ms(), hwhy);
		ret = 1;
	}
	vb_holds_mark(o->dir, bk, n);
	return ret;
}

/* Reads what vouches (v->cat only with --verify-with); 0, or 1. */
static int
vouchers_read(const struct vb_inventory_opts *o, struct vouchers *v)
{
	char why[1024];
	const char *db = vb_config("DB_PATH");

	memset(v, 0, sizeof(*v));
	if (o->verify_with != NULL)
		v->listing = catalog_of(o, &v->cat) == 0;
	vb_proven_read(db, &v->pv);
	if (db != NULL && access(db, F_OK) == 0)
		(void)vb_backuplog_known(db, &v->known, why, sizeof(why));
	return o->verify_with != NULL && !v->listing;
}

static void
vouchers_free(struct vouchers *v)
{
	free(v->pv.list);
	vb_log_known_free(&v->known);
	vb_catalog_free(&v->cat);
}

/* File j of backup b, looked at and vouched for, shown; 0, or 1. */
static int
list_file(const struct vb_inventory_opts *o, const char *where,
    const struct vouchers *v, struct vb_backup *b, int j,
    struct vb_list *out)
{
	const struct vb_log_seal *seal;
	const char *name = b->files[j].name;
	char why[1024], path[4096];
	struct item it;

	if (o->remote != NULL)
		vb_remote_join(path, sizeof(path), o->remote, name);
	else
		vb_path_join(path, sizeof(path), o->dir, name);
	look_at(o, where, path, b, j, &it, why, sizeof(why));
	it.proven = vb_proven_when(&v->pv, name);
	seal = vb_log_known_find(&v->known, name);
	it.is_signed = seal == NULL || seal->sha256[0] == '\0' ? -1 :
	    seal->is_signed;
	it.recorded = !v->known.any || b->kind != VB_KIND_BACKUP ? -1 :
	    seal != NULL;
	it.held = b->held;
	it.listed = o->verify_with == NULL || b->kind != VB_KIND_BACKUP ? -1 :
	    v->listing && is_listed(&v->cat, name, b->files[j].bytes);
	return show(o, out, &it) != 0 || !it.ok || it.listed == 0 ||
	    it.recorded == 0;
}

int
vb_inventory(const struct vb_inventory_opts *o)
{
	const char *where = o->remote != NULL ? o->remote : o->dir, *idir;
	char why[1024];
	struct vb_backup *bk;
	struct vouchers v;
	struct vb_list out;
	size_t n, i;
	int j, ret = 0;

	if (o->remote != NULL ? vb_remote_list(o->remote, &bk, &n, why,
	    sizeof(why)) != 0 : vb_scan(o->dir, &bk, &n, why,
	    sizeof(why)) != 0) {
		warnx("%s", why);
		return 1;
	}
	/* Parents from the page indexes, which only the local side has. */
	if ((idir = o->remote == NULL ? o->dir : vb_config("BACKUP_DIR")) !=
	    NULL)
		vb_index_parents(idir, bk, n);
	if (o->remote == NULL)
		ret |= local_facts(o, bk, n);
	ret |= vouchers_read(o, &v);
	vb_list_begin_form(&out, o->each != NULL ? VB_LIST_RECORDS :
	    vb_list_form(o->json));
	if (o->fields)
		out.form = VB_LIST_FIELDS;
	if (out.form == VB_LIST_TABLE)
		printf("%-24s  %10s  %-8s  %-5s  %-8s  %-10s  %s\n",
		    "time (UTC)", "size", "kind", "type", "verified", "proven",
		    "file");
	for (i = 0; i < n; i++)
		for (j = 0; j < bk[i].nfiles; j++)
			ret |= list_file(o, where, &v, &bk[i], j, &out);
	if (v.listing && missing(o, &out, &v.cat, bk, n, where) > 0)
		ret = 1;
	if (o->fields && o->remote == NULL)
		ret |= show_asides(o->dir);
	if (vb_list_end(&out) != 0)
		ret = 1;
	free(bk);
	vouchers_free(&v);
	return ret;
}
