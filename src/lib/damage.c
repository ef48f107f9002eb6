/*
 * damage.c - backups known to be damaged, and the chains they break.
 *
 * An archive is damaged when its bytes no longer hash to the SHA-256
 * recorded when it was made (its page index keeps it), and a link is
 * missing when its index names an archive the directory no longer holds.
 * Whoever finds one (vb-compress, before building a delta on it) records
 * it beside it as .vb-damaged-<stem>: retention then never counts it, or
 * a delta built on it, as a restorable point and never deletes them, and
 * vb-backup --check names them.  The record goes when the file hashes
 * right again (a good copy put back) or is gone (the operator removed
 * it), and only then.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vblib.h"

/* The record's file name for stem. */
static int
mark_name(char *buf, size_t len, const char *stem)
{
	int n = snprintf(buf, len, "%s%s", VB_DAMAGE_PREFIX, stem);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* SHA-256 of dir/name into hex; 0, 1 if it is not there, -1 (errno). */
static int
hash_file(const char *dir, const char *name, char hex[VB_SHA256_HEX])
{
	char path[4400];
	int fd, saved;
	int64_t n;

	if (vb_path_join(path, sizeof(path), dir, name) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return errno == ENOENT ? 1 : -1;
	n = vb_sha256_fd(fd, hex);
	saved = errno;
	close(fd);
	errno = saved;
	return n < 0 ? -1 : 0;
}

int
vb_link_check(const char *dir, const struct vb_index *x, int built_on,
    struct vb_fault *f, char *why, size_t wlen)
{
	char name[128], path[4400];
	int rc;

	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", x->archive);
	snprintf(f->stem, sizeof(f->stem), "%s", x->stem);
	memcpy(f->recorded, x->archive_sha256, sizeof(f->recorded));
	f->built_on = built_on;
	if ((rc = hash_file(dir, x->archive, f->found)) == 1) {
		/* Gone, unless it is there under another name (encrypted
		 * since): that one is checked next time its index says so. */
		if (vb_find_archive(dir, x->stem, name, sizeof(name), path,
		    sizeof(path)) == 0) {
			snprintf(why, wlen, "%s is now %s, which its page "
			    "index does not describe", x->archive, name);
			return -1;
		}
		f->missing = 1;
		f->found[0] = '\0';
		return 1;
	}
	if (rc < 0) {
		snprintf(why, wlen, "%s/%s: %s", dir, x->archive,
		    strerror(errno));
		return -1;
	}
	if (x->archive_sha256[0] == '\0') {
		snprintf(why, wlen, "%s has no SHA-256 recorded (its page "
		    "index was written before vb recorded one)", x->archive);
		return -1;
	}
	return strcmp(f->found, x->archive_sha256) == 0 ? 0 : 1;
}

int
vb_damage_mark(const char *dir, const struct vb_fault *f, char *why,
    size_t wlen)
{
	char name[128], text[512];
	int n;

	n = snprintf(text, sizeof(text), "file: %s\nrecorded-sha256: %s\n"
	    "found-sha256: %s\n", f->name, f->recorded, f->found);
	if (mark_name(name, sizeof(name), f->stem) != 0 || n < 0 ||
	    (size_t)n >= sizeof(text)) {
		snprintf(why, wlen, "%s: name too long", f->stem);
		return -1;
	}
	return vb_tmp_write(dir, name, text, (size_t)n, why, wlen);
}

void
vb_fault_text(const struct vb_fault *f, const char *dir, char *buf,
    size_t len)
{
	char after[96];

	snprintf(after, sizeof(after), "the %d backup%s built on it",
	    f->built_on, f->built_on == 1 ? "" : "s");
	if (f->missing)
		snprintf(buf, len, "%s/%s, a link of the chain (a page index "
		    "says so), is missing: %s cannot be restored from here "
		    "(vb-restore --offsite fetches a remote copy if there is "
		    "one)", dir, f->name, after);
	else
		snprintf(buf, len, "%s/%s is damaged: its SHA-256 is %s, "
		    "not the %s recorded when it was made; neither it nor %s "
		    "can be restored from here (vb-restore --offsite uses a "
		    "good remote copy); it is kept, never pruned, until a good "
		    "copy replaces it or it is removed", dir, f->name, f->found,
		    f->recorded, after);
}

/* What the record of stem in dir says: 0 and its fields, or -1. */
static int
read_mark(int dfd, const char *stem, char *file, size_t flen,
    char recorded[VB_SHA256_HEX])
{
	char name[128], text[512], *p, *e;
	ssize_t n;
	int fd;

	if (mark_name(name, sizeof(name), stem) != 0 ||
	    (fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	text[n > 0 ? n : 0] = '\0';
	if (strncmp(text, "file: ", 6) != 0 || (e = strchr(text, '\n')) ==
	    NULL || (size_t)(e - text - 6) >= flen ||
	    (p = strstr(text, "\nrecorded-sha256: ")) == NULL)
		return -1;
	memcpy(file, text + 6, (size_t)(e - text - 6));
	file[e - text - 6] = '\0';
	snprintf(recorded, VB_SHA256_HEX, "%.64s", p + 18);
	return 0;
}

/*
 * Whether backup b is recorded damaged, and still is: a record whose
 * file hashes as recorded again (a good copy put back) or is gone is
 * damage no more, and with heal the record is removed too.
 */
static int
marked(const char *dir, int dfd, struct vb_backup *b, int heal)
{
	char file[128], recorded[VB_SHA256_HEX], now[VB_SHA256_HEX];
	char name[128];
	int rc;

	if (read_mark(dfd, b->stem, file, sizeof(file), recorded) != 0)
		return 0;
	snprintf(b->damaged_file, sizeof(b->damaged_file), "%s", file);
	rc = hash_file(dir, file, now);
	if (rc < 0 || (rc == 0 && strcmp(now, recorded) != 0))
		return 1;	/* still wrong, or unreadable: in doubt */
	if (heal && mark_name(name, sizeof(name), b->stem) == 0)
		unlinkat(dfd, name, 0);
	b->damaged_file[0] = '\0';
	return 0;
}

/*
 * Whether one of b's archives no longer hashes to the SHA-256 recorded
 * when it was made (its page index's, else BackupLog's): every archive,
 * every kind, hashed again now (bit rot changes no size, no mtime).
 */
static int
hashes_wrong(const char *dir, struct vb_backup *b,
    const struct vb_log_known *k)
{
	const struct vb_log_seal *seal;
	char recorded[VB_SHA256_HEX], now[VB_SHA256_HEX], why[512];
	struct vb_index x;
	int j;

	if (vb_index_read(dir, b->stem, 1, &x, why, sizeof(why)) != 0)
		memset(&x, 0, sizeof(x));
	for (j = 0; j < b->nfiles; j++) {
		if (b->files[j].ext == VB_EXT_DB)
			continue;
		if (x.archive_sha256[0] != '\0' && strcmp(x.archive,
		    b->files[j].name) == 0)
			memcpy(recorded, x.archive_sha256, VB_SHA256_HEX);
		else if ((seal = vb_log_known_find(k, b->files[j].name)) !=
		    NULL && seal->sha256[0] != '\0')
			memcpy(recorded, seal->sha256, VB_SHA256_HEX);
		else
			continue;
		b->checked = 1;
		if (hash_file(dir, b->files[j].name, now) == 0 &&
		    strcmp(now, recorded) == 0)
			continue;
		snprintf(b->damaged_file, sizeof(b->damaged_file), "%s",
		    b->files[j].name);
		return 1;
	}
	return 0;
}

/*
 * Oldest first: a backup whose drill failed or that is damaged is
 * unsafe, and so is a delta on an unsafe or missing link (the why of
 * each said).
 */
static void
mark_chains(struct vb_backup *list, size_t n)
{
	ssize_t p;
	size_t i;

	for (i = n; i-- > 0;) {
		if (list[i].drill_failed) {
			list[i].unsafe = 1;
			continue;
		}
		if (list[i].damaged) {
			list[i].unsafe = 1;
			snprintf(list[i].why, sizeof(list[i].why), "%s is "
			    "damaged: it does not hash to the SHA-256 recorded "
			    "when it was made", list[i].damaged_file);
			continue;
		}
		if (!list[i].delta || list[i].kind != VB_KIND_BACKUP)
			continue;
		/* Its parent unknown (no page index): the backup before. */
		p = vb_parent_of(list, n, i);
		if (p < 0) {
			list[i].unsafe = 1;
			if (list[i].parent[0] != '\0')
				snprintf(list[i].why, sizeof(list[i].why), "a "
				    "delta of %s, which is missing: the chain "
				    "is broken", list[i].parent);
			else
				snprintf(list[i].why, sizeof(list[i].why), "a "
				    "delta with no older backup here to rest "
				    "on: the chain is broken");
		} else if (list[p].unsafe) {
			list[i].unsafe = 1;
			snprintf(list[i].why, sizeof(list[i].why), "a delta of "
			    "%s, which cannot be restored (%s)", list[p].stem,
			    list[p].damaged ? "damaged" : "its chain is "
			    "broken");
		}
	}
}

/* Whether one of b's archives failed its last restore drill. */
static int
drill_failed(struct vb_backup *b, const struct vb_proven *pv)
{
	const struct vb_proven_one *f;
	int j;

	for (j = 0; j < b->nfiles; j++)
		if ((f = vb_drill_failed(pv, b->files[j].name)) != NULL) {
			snprintf(b->why, sizeof(b->why), "%s failed its last "
			    "restore drill (%s): no restorable point until a "
			    "drill proves it (vb-backup --drill NAME) or it is "
			    "gone",
			    b->files[j].name, f->failed_at);
			return 1;
		}
	return 0;
}

int
vb_health(const char *dir, struct vb_backup *list, size_t n, int hash,
    int heal, const char *logdb, char *why, size_t wlen)
{
	struct vb_log_known k;
	struct vb_proven pv;
	char w[512];
	size_t i;
	int dfd, rc = 0;

	why[0] = '\0';
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(why, wlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	memset(&k, 0, sizeof(k));
	if (hash && logdb != NULL && access(logdb, F_OK) == 0 &&
	    vb_backuplog_known(logdb, &k, w, sizeof(w)) != 0) {
		snprintf(why, wlen, "BackupLog in %s cannot be read (%s): the "
		    "SHA-256 recorded for each archive is not known", logdb,
		    w);
		rc = -1;
	}
	if (vb_proven_read(logdb, &pv) != 0 && rc == 0) {
		snprintf(why, wlen, "BackupLog in %s cannot be read: which "
		    "backups failed their last drill is not known", logdb);
		rc = -1;
	}
	for (i = 0; i < n; i++) {
		list[i].checked = 0;
		list[i].unsafe = 0;
		list[i].why[0] = '\0';
		list[i].damaged = marked(dir, dfd, &list[i], heal) ||
		    (hash && hashes_wrong(dir, &list[i], &k));
		list[i].drill_failed = !list[i].damaged &&
		    drill_failed(&list[i], &pv);
	}
	close(dfd);
	vb_log_known_free(&k);
	free(pv.list);
	mark_chains(list, n);
	return rc;
}

int
vb_damage_gc(const char *dir)
{
	char file[128], recorded[VB_SHA256_HEX], path[4400];
	struct dirent *de;
	int removed = 0, dfd;
	struct stat st;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return 0;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, VB_DAMAGE_PREFIX,
		    strlen(VB_DAMAGE_PREFIX)) != 0)
			continue;
		if (read_mark(dfd, de->d_name + strlen(VB_DAMAGE_PREFIX), file,
		    sizeof(file), recorded) == 0 && vb_path_join(path,
		    sizeof(path), dir, file) == 0 && lstat(path, &st) == 0)
			continue;
		if (unlinkat(dfd, de->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}
