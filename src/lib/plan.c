/*
 * plan.c - vb-backup --dry-run's rows, said by the tools that own their
 * facts: each row "LABEL:" padded to 14 columns, a space, the text
 * (cleaned of every byte a terminal acts on).  vb-snapshot -n --plan
 * says the configuration and the preflight, vb-log --plan the drill,
 * vb-prune --plan the retention; vb-backup adds its own commands.
 *
 * An output family: these functions print the facts they are given (or
 * read from the configuration), and fetch nothing else, so that a tool
 * links only the families it asks.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "vblib.h"

int
vb_plan_row(FILE *fp, const char *label, const char *fmt, ...)
{
	char head[64], text[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	snprintf(head, sizeof(head), "%s:", label);
	fprintf(fp, "%-14s ", head);
	vb_put_clean(fp, text);
	putc('\n', fp);
	return ferror(fp) ? -1 : 0;
}

/* key's value when set and not empty; NULL. */
static const char *
set(const char *key)
{
	const char *v = vb_config(key);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* A setting's row: its value, or what its absence means. */
static void
setting(FILE *fp, const char *label, const char *key, const char *unset)
{
	const char *v = set(key);

	vb_plan_row(fp, label, "%s", v != NULL ? v : unset);
}

/* The configuration file, the database and the backup directory. */
static void
places(FILE *fp, const char *db, const char *dir)
{
	const char *conf = vb_config_path();
	struct stat st;

	vb_plan_row(fp, "configuration", "%s%s", conf,
	    access(conf, R_OK) == 0 ? "" : " (absent)");
	if (stat(db, &st) == 0 && S_ISREG(st.st_mode))
		vb_plan_row(fp, "database", "%s (%lld bytes)", db,
		    (long long)st.st_size);
	else
		vb_plan_row(fp, "database", "%s (MISSING)", db);
	vb_plan_row(fp, "backup dir", "%s%s", dir, stat(dir, &st) == 0 &&
	    S_ISDIR(st.st_mode) ? "" : " (would be created, 0700)");
}

int
vb_plan_setup(FILE *fp, const char *db, const char *dir)
{
	const char *v;

	places(fp, db, dir);
	setting(fp, "offsite", "OFFSITE", "(none: OFFSITE is not set)");
	if ((v = set("ENCRYPT_TO")) != NULL)
		vb_plan_row(fp, "encryption", "age, to the recipients in %s",
		    v);
	else
		vb_plan_row(fp, "encryption", "(none: ENCRYPT_TO is not set)");
	if ((v = set("FULL_EVERY")) != NULL)
		vb_plan_row(fp, "incremental", "a delta of the last backup "
		    "each night; a full one when the last full is %s old "
		    "(FULL_EVERY)", v);
	else
		vb_plan_row(fp, "incremental", "(off: every backup is a full "
		    "archive; FULL_EVERY is not set)");
	setting(fp, "metrics", "METRICS_FILE",
	    "(none: METRICS_FILE is not set)");
	setting(fp, "on success", "ON_SUCCESS", "(nothing)");
	setting(fp, "on failure", "ON_FAILURE", "(nothing)");
	if (set("ON_SUCCESS") != NULL || set("ON_FAILURE") != NULL)
		vb_plan_row(fp, "hook timeout", "%s s",
		    (v = set("HOOK_TIMEOUT")) != NULL ? v : "120");
	return ferror(fp) ? -1 : 0;
}

int
vb_plan_snapshot(FILE *fp, int ok, const char *msg)
{
	return vb_plan_row(fp, "snapshot", "%s%s", ok ? "" : "WOULD FAIL: ",
	    msg);
}

int
vb_plan_drill(FILE *fp, const struct vb_tonight *d, const char *every,
    const char *cmd)
{
	const char *proof = d->proof[0] != '\0' ? d->proof : "-";

	if (d->drill == VB_DRILL_OFF)
		return vb_plan_row(fp, "drill", "(off: DRILL_EVERY=0; the "
		    "snapshot gets integrity_check once a week instead)");
	if (!d->can_drill && d->drill == VB_DRILL_DUE)
		return vb_plan_row(fp, "drill", "DUE TONIGHT BUT NOT RUN: the "
		    "archives are encrypted and DRILL_IDENTITY is not set; "
		    "run it where the identity is: DRILL_IDENTITY=KEY "
		    "vb-backup --drill");
	if (!d->can_drill)
		return vb_plan_row(fp, "drill", "every %s; last proof %s, not "
		    "due tonight (when due, the nightly cannot run it: "
		    "encrypted, no DRILL_IDENTITY)", every, proof);
	if (d->drill == VB_DRILL_DUE)
		return vb_plan_row(fp, "drill", "due tonight, after retention: "
		    "%s", cmd);
	return vb_plan_row(fp, "drill", "every %s; last proof %s, not due "
	    "tonight", every, proof);
}

int
vb_plan_deletes(FILE *fp, const char *path, int64_t bytes)
{
	if (path == NULL)
		fputs("  nothing\n", fp);
	else if (bytes >= 0)
		fprintf(fp, "  %s  (%lld bytes)\n", path, (long long)bytes);
	else
		fprintf(fp, "  %s  (- bytes)\n", path);
	return ferror(fp) ? -1 : 0;
}
