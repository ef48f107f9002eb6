/*
 * compress.c - turns one raw snapshot into a verified archive beside it.
 *
 * The archive is written under a .vb-tmp- name, read back end to end
 * (decompressed, both entries checked, the database's SHA-256 compared
 * with the manifest's) and only then fsync'd and renamed into place.  The
 * raw snapshot is removed only after that.  Shared by vb-compress and by
 * vb-restore's pre-restore safety copy.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "vb.h"

void
vb_snapmeta_parse(char *msg, struct vb_snapmeta *meta)
{
	char *p, *word, *eq;

	memset(meta, 0, sizeof(*meta));
	for (p = msg; p != NULL && *p != '\0'; ) {
		word = p;
		/* source= is last and takes the rest: paths hold spaces. */
		if (strncmp(word, "source=", 7) == 0) {
			meta->source = word + 7;
			break;
		}
		if ((p = strchr(p, ' ')) != NULL)
			*p++ = '\0';
		if ((eq = strchr(word, '=')) == NULL)
			continue;
		*eq++ = '\0';
		if (strcmp(word, "journal") == 0)
			meta->journal = eq;
		else if (strcmp(word, "quick_check") == 0 ||
		    strcmp(word, "integrity") == 0) {
			meta->check = strcmp(word, "integrity") == 0 ?
			    "integrity_check" : "quick_check";
			meta->integrity = eq;
		}
	}
}

/* Fills the manifest from what the record said and what the file says. */
static int
fill_manifest(const char *path, int dbfd, const struct stat *st,
    const struct vb_name *nm, const struct vb_snapmeta *meta,
    struct vb_manifest *m, char *why, size_t wlen)
{
	struct vb_dbinfo info;

	memset(m, 0, sizeof(*m));
	if (vb_db_header(path, &info, why, wlen) != 0)
		return -1;
	snprintf(m->source, sizeof(m->source), "%s",
	    meta != NULL && meta->source != NULL ? meta->source : "unknown");
	if (gethostname(m->host, sizeof(m->host) - 1) != 0)
		snprintf(m->host, sizeof(m->host), "unknown");
	vb_iso_time(&nm->when, m->created);
	snprintf(m->sqlite_version, sizeof(m->sqlite_version), "%s",
	    info.sqlite_version);
	m->page_size = info.page_size;
	m->page_count = info.page_count >= 0 ? info.page_count :
	    st->st_size / info.page_size;
	snprintf(m->journal_mode, sizeof(m->journal_mode), "%s",
	    meta != NULL && meta->journal != NULL ? meta->journal :
	    info.journal_mode);
	m->db_bytes = st->st_size;
	if (meta != NULL && meta->integrity != NULL) {
		snprintf(m->integrity, sizeof(m->integrity), "%s",
		    meta->integrity);
		snprintf(m->integrity_check, sizeof(m->integrity_check), "%s",
		    meta->check);
	} else {
		/* A plain path: check it here rather than claim anything. */
		if (vb_db_check_path(path, 0, m->integrity,
		    sizeof(m->integrity)) < 0) {
			snprintf(why, wlen, "%s: %s", path, m->integrity);
			return -1;
		}
		snprintf(m->integrity_check, sizeof(m->integrity_check),
		    "quick_check");
	}
	if (strcmp(m->integrity, "ok") != 0) {
		snprintf(why, wlen, "%s: failed its check: %s", path,
		    m->integrity);
		return -1;
	}
	if (meta != NULL && meta->sha256 != NULL && meta->bytes == st->st_size)
		snprintf(m->db_sha256, sizeof(m->db_sha256), "%s",
		    meta->sha256);
	else {
		/* The manifest comes first, so its hash must be known first. */
		if (vb_sha256_fd(dbfd, m->db_sha256) != st->st_size ||
		    lseek(dbfd, 0, SEEK_SET) != 0) {
			snprintf(why, wlen, "%s: %s", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* The read-back, on its own thread, following the writer. */
struct readback {
	int			 fd;
	int			 done;	/* set once the writer is finished */
	const char		*stem;
	int			 rc;
	struct vb_manifest	 m;
	struct vb_archive_info	 info;
	char			 why[900];
};

static void *
readback_main(void *arg)
{
	struct readback *rb = arg;

	rb->rc = vb_archive_verify(rb->fd, &rb->done, rb->stem, -1, &rb->m,
	    &rb->info, rb->why, sizeof(rb->why));
	return NULL;
}

int
vb_compress_file(const char *path, const struct vb_snapmeta *meta,
    const struct vb_compress_opts *o, struct vb_compress_result *res)
{
	char dir[4096], base[256], final[256], text[VB_MANIFEST_MAX];
	struct vb_archive_opts ao = o->a;
	struct readback rb;
	pthread_t th;
	struct vb_writebehind *wb;
	struct vb_progress *pg;
	char what[1024];
	struct vb_archive_info info;
	struct vb_manifest m;
	struct vb_name nm;
	struct vb_tmp t;
	struct stat st;
	int dbfd = -1, rc, threaded;

	memset(res, 0, sizeof(*res));
	t.dirfd = -1;
	if (vb_path_split(path, dir, sizeof(dir), base, sizeof(base)) != 0 ||
	    vb_name_parse(base, &nm) != 0 || nm.ext != VB_EXT_DB) {
		snprintf(res->msg, sizeof(res->msg), "%s: not a vb snapshot "
		    "(backup-<UTC time>.db)", path);
		return -1;
	}
	if ((dbfd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1 ||
	    fstat(dbfd, &st) != 0) {
		snprintf(res->msg, sizeof(res->msg), "%s: %s", path,
		    errno == ELOOP ? "is a symbolic link" : strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(res->msg, sizeof(res->msg), "%s: not a regular file",
		    path);
		goto fail;
	}
	if (fill_manifest(path, dbfd, &st, &nm, meta, &m, res->msg,
	    sizeof(res->msg)) != 0)
		goto fail;
	if (vb_manifest_format(&m, text, sizeof(text)) < 0) {
		snprintf(res->msg, sizeof(res->msg), "%s: cannot write a "
		    "manifest for it", path);
		goto fail;
	}
	snprintf(final, sizeof(final), "%s%s", nm.stem, vb_ext_str(o->a.ext));
	if (vb_path_join(res->path, sizeof(res->path), dir, final) != 0 ||
	    access(res->path, F_OK) == 0) {
		snprintf(res->msg, sizeof(res->msg), "%s: already exists",
		    res->path);
		goto fail;
	}
	if (vb_dir_check(dir, res->msg, sizeof(res->msg)) != 0)
		goto fail;
	vb_clean_stale(dir, res->note, sizeof(res->note));
	if (vb_tmp_open(&t, dir, final, res->msg, sizeof(res->msg)) != 0)
		goto fail;

	/*
	 * The read-back runs beside the writer, reading the temporary as it
	 * grows: on two cores the check costs almost no time.  It decides
	 * everything: the database inside must hash to the manifest's
	 * db-sha256, which is the SHA-256 vb-snapshot recorded.
	 */
	memset(&rb, 0, sizeof(rb));
	rb.stem = nm.stem;
	if ((rb.fd = openat(t.dirfd, t.name, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(res->msg, sizeof(res->msg), "read-back: %s",
		    strerror(errno));
		goto abort;
	}
	threaded = pthread_create(&th, NULL, readback_main, &rb) == 0;
	ao.mtime = nm.when.tv_sec;
	wb = vb_writebehind_start(t.fd, -1);
	snprintf(what, sizeof(what), "compressing %s", base);
	pg = vb_progress_start(what, dbfd, VB_PROG_POS, st.st_size);
	rc = vb_archive_write(t.fd, &ao, text, base, dbfd, st.st_size,
	    res->msg, sizeof(res->msg));
	vb_writebehind_stop(wb);
	__atomic_store_n(&rb.done, 1, __ATOMIC_RELEASE);
	if (threaded)
		pthread_join(th, NULL);
	else
		readback_main(&rb);
	close(rb.fd);
	vb_progress_stop(pg, rc == 0 && rb.rc == 0);
	if (rc != 0) {
		char why[900];

		snprintf(why, sizeof(why), "%s", res->msg);
		snprintf(res->msg, sizeof(res->msg), "writing %s/%s: %s", dir,
		    final, why);
		goto abort;
	}
	if (rb.rc != 0 || strcmp(rb.m.db_sha256, m.db_sha256) != 0) {
		char now[VB_SHA256_HEX];

		/* Tell a snapshot that changed from an archive that broke. */
		if (meta != NULL && meta->sha256 != NULL &&
		    lseek(dbfd, 0, SEEK_SET) == 0 &&
		    vb_sha256_fd(dbfd, now) >= 0 &&
		    strcmp(now, meta->sha256) != 0)
			snprintf(res->msg, sizeof(res->msg), "%s: SHA-256 is "
			    "not the one vb-snapshot recorded: changed or "
			    "damaged since", path);
		else
			snprintf(res->msg, sizeof(res->msg), "%s: read-back "
			    "check failed: %s", final, rb.rc != 0 ? rb.why :
			    "manifest changed");
		goto abort;
	}
	info = rb.info;
	if (res->msg[0] != '\0') {	/* vb_archive_write's notice */
		size_t used = strlen(res->note);

		snprintf(res->note + used, sizeof(res->note) - used, "%s%s",
		    used > 0 ? "; " : "", res->msg);
		res->msg[0] = '\0';
	}
	if (vb_tmp_commit(&t, what, sizeof(what)) != 0) {
		snprintf(res->msg, sizeof(res->msg), "cannot put %s in place: "
		    "%s", res->path, what);
		goto fail;
	}
	close(dbfd);
	res->bytes = info.bytes;
	res->dbbytes = st.st_size;
	memcpy(res->sha256, info.sha256, sizeof(res->sha256));
	res->removed = 0;
	if (!o->keep) {
		if (unlink(path) != 0) {
			snprintf(res->msg, sizeof(res->msg), "%s: cannot remove "
			    "the raw snapshot: %s", path, strerror(errno));
			return 1;
		}
		vb_fsync_dir(dir);
		res->removed = 1;
	}
	return 0;
abort:
	vb_tmp_abort(&t);
fail:
	if (dbfd != -1)
		close(dbfd);
	res->path[0] = '\0';
	return -1;
}
