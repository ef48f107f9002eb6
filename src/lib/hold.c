/*
 * hold.c - backups retention must keep until the operator says so.
 *
 * When a table loses more than half its rows between two backups
 * (rows.c), the backup before the loss may be the last good copy of
 * that table: it is held (.vb-hold-<stem> beside it: the backup that
 * showed the loss, and what was lost) and retention, here and offsite,
 * keeps it until `vb-prune --release STEM` (or the file's removal).
 * vb-backup --check reports every hold; the run that made it warns.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vblib.h"

#define HOLD_PREFIX	".vb-hold-"

static int
hold_name(char *buf, size_t len, const char *stem)
{
	int n = snprintf(buf, len, HOLD_PREFIX "%s", stem);

	return n < 0 || (size_t)n >= len || strchr(stem, '/') != NULL ? -1 : 0;
}

int
vb_hold_set(const char *dir, const char *stem, const char *by,
    const char *reason, char *why, size_t wlen)
{
	char name[128], text[VB_HOLD_LEN + 200];
	int n;

	n = snprintf(text, sizeof(text), "by: %s\nreason: %s\n", by, reason);
	if (hold_name(name, sizeof(name), stem) != 0 || n < 0 ||
	    (size_t)n >= sizeof(text) || vb_has_ctl(by) || vb_has_ctl(reason)) {
		snprintf(why, wlen, "%s: cannot hold it: name or reason too "
		    "long", stem);
		return -1;
	}
	return vb_tmp_write(dir, name, text, (size_t)n, why, wlen);
}

int
vb_hold_read(const char *dir, const char *stem, struct vb_hold *h)
{
	char name[128], path[4300], buf[VB_HOLD_LEN + 200], *p, *nl;
	ssize_t n;
	int fd;

	memset(h, 0, sizeof(*h));
	if (hold_name(name, sizeof(name), stem) != 0 ||
	    vb_path_join(path, sizeof(path), dir, name) != 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	snprintf(h->stem, sizeof(h->stem), "%s", stem);
	for (p = buf; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		if (strncmp(p, "by: ", 4) == 0)
			snprintf(h->by, sizeof(h->by), "%s", p + 4);
		else if (strncmp(p, "reason: ", 8) == 0)
			snprintf(h->reason, sizeof(h->reason), "%s", p + 8);
	}
	if (h->reason[0] == '\0')
		snprintf(h->reason, sizeof(h->reason), "held (%s)", name);
	return 0;
}

/*
 * The stem what names in dir: a stem, a backup's file name, or a path
 * to one in dir.  0, or -1 with why.
 */
static int
hold_stem(const char *dir, const char *what, char stem[64], char *why,
    size_t wlen)
{
	char base[256];
	struct vb_name nm;

	if (vb_path_in(dir, what, base, sizeof(base), why, wlen) != 0)
		return -1;
	what = base;
	if (vb_name_parse(what, &nm) == 0) {
		snprintf(stem, 64, "%s", nm.stem);
		return 0;
	}
	if (strlen(what) >= 64 || vb_has_ctl(what) || *what == '\0') {
		snprintf(why, wlen, "%.80s: not a backup's name", what);
		return -1;
	}
	snprintf(stem, 64, "%s", what);
	return 0;
}

int
vb_hold_find(const char *dir, const char *what, struct vb_hold *h,
    char *why, size_t wlen)
{
	char stem[64];

	if (hold_stem(dir, what, stem, why, wlen) != 0)
		return -1;
	if (vb_hold_read(dir, stem, h) != 0) {
		snprintf(why, wlen, "%s: %s is not held (vb-prune --holds "
		    "lists what is)", what, stem);
		return 1;
	}
	return 0;
}

int
vb_hold_release(const char *dir, const char *stem, char *why, size_t wlen)
{
	char name[128];
	int dfd, rc = 0;

	if (hold_name(name, sizeof(name), stem) != 0) {
		snprintf(why, wlen, "%s: not a backup's name", stem);
		return -1;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(why, wlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (unlinkat(dfd, name, 0) != 0) {
		rc = errno == ENOENT ? 1 : -1;
		snprintf(why, wlen, "%s/%s: %s", dir, name, rc == 1 ?
		    "no such hold" : strerror(errno));
	} else
		fsync(dfd);
	close(dfd);
	return rc;
}

int
vb_hold_list(const char *dir, struct vb_hold **holds, size_t *n)
{
	struct vb_hold *h = NULL, *bigger;
	struct dirent *de;
	size_t len = strlen(HOLD_PREFIX), cap = 0;
	DIR *d;

	*holds = NULL;
	*n = 0;
	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, HOLD_PREFIX, len) != 0 ||
		    strlen(de->d_name + len) >= sizeof(h->stem))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			if ((bigger = realloc(h, cap * sizeof(*h))) == NULL)
				break;
			h = bigger;
		}
		if (vb_hold_read(dir, de->d_name + len, &h[*n]) == 0)
			(*n)++;
	}
	closedir(d);
	*holds = h;
	return 0;
}

void
vb_holds_mark(const char *dir, struct vb_backup *list, size_t n)
{
	struct vb_hold *h;
	size_t nh, i, j;

	if (vb_hold_list(dir, &h, &nh) != 0)
		return;
	for (i = 0; i < n; i++)
		for (j = 0; j < nh; j++)
			if (strcmp(list[i].stem, h[j].stem) == 0)
				list[i].held = 1;
	free(h);
}

int
vb_release(const char *dir, const char *what, char *note, size_t nlen,
    char *why, size_t wlen)
{
	const char *db = vb_config("DB_PATH");
	char path[4400], msg[VB_HOLD_LEN + 300], w[1024], real[4096];
	struct vb_record r;
	struct vb_hold h;
	int rc;

	*note = '\0';
	if ((rc = vb_hold_find(dir, what, &h, why, wlen)) != 0)
		return rc;
	/* Recorded first: a release BackupLog does not show is not made. */
	if (db != NULL) {
		/* Named as the nightly names its files: absolute. */
		vb_path_join(path, sizeof(path), realpath(dir, real) != NULL ?
		    real : dir, h.stem);
		snprintf(msg, sizeof(msg), "released: retention counts %s as "
		    "any other backup again; it was %s", h.stem, h.reason);
		vb_record_init(&r, "prune", path);
		r.ok = 1;
		r.ms = 0;
		r.msg = msg;
		if (vb_backuplog_append(db, &r, w, sizeof(w)) != 0) {
			snprintf(why, wlen, "%s: not released: BackupLog could "
			    "not record it: %s", h.stem, w);
			return -1;
		}
	}
	if ((rc = vb_hold_release(dir, h.stem, why, wlen)) != 0)
		return rc;
	snprintf(note, nlen, "released %s: retention counts it as any other "
	    "backup again%s", h.stem, db != NULL ? "; recorded in BackupLog" :
	    "; not recorded (no DB_PATH)");
	return 0;
}
