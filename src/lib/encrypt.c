/*
 * encrypt.c - archives made before ENCRYPT_TO was set, encrypted in place.
 *
 * An archive is read back whole and checked as any archive is (its
 * entries, its manifest, its database's or pages' hashes) before it is
 * encrypted, so that what is encrypted is a good backup; age's output is
 * checked for its format and exact size; the encrypted file takes its
 * final name (<name>.age) by the usual temporary, fsync and rename, its
 * page index is told its new name, size and SHA-256, and only then is
 * the plaintext removed.  A failure anywhere leaves the plaintext archive
 * as it was and nothing else.  The remote's plaintext archives are
 * replaced the same way: the encrypted copy verified there first.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vblib.h"

/*
 * Encrypts fd (a file of plain_bytes named name) to recipients into e, a
 * new temporary in dir for <name>.age.  Returns 0 with res's path, size,
 * SHA-256 and recipients, or -1 with res->why and nothing left.
 */
static int
seal(int fd, int64_t plain_bytes, const char *name, const char *dir,
    const char *recipients, struct vb_tmp *e, struct vb_compress_result *res)
{
	char ename[300], why[1024];

	snprintf(ename, sizeof(ename), "%s%s", name, VB_AGE_SUFFIX);
	if ((res->recipients = vb_age_recipients(recipients, res->why,
	    sizeof(res->why))) < 0)
		return -1;
	if (vb_path_join(res->path, sizeof(res->path), dir, ename) != 0) {
		snprintf(res->why, sizeof(res->why), "%s: name too long", dir);
		return -1;
	}
	if (vb_tmp_open(e, dir, ename, res->why, sizeof(res->why)) != 0)
		return -1;
	res->plain_bytes = plain_bytes;
	if (vb_age_encrypt(recipients, fd, plain_bytes, e->fd, res->sha256,
	    &res->bytes, why, sizeof(why)) != 0) {
		snprintf(res->why, sizeof(res->why), "encrypting %s/%s: %s",
		    dir, name, why);
		vb_tmp_abort(e);
		return -1;
	}
	return 0;
}

/*
 * Reads the plaintext archive on fd (its file name name) back whole,
 * checked as any archive is, then encrypts it to the recipients in file
 * recipients into e, a new temporary in dir for <name>.age.  Returns 0
 * with res's path (dir/<name>.age), bytes, sha256 and recipients, or -1
 * with res->why and nothing left.
 */
static int
prove_and_seal(int fd, const char *name, const char *dir,
    const char *recipients, struct vb_tmp *e, struct vb_compress_result *res)
{
	struct vb_archive_info info;
	struct vb_manifest m;
	struct vb_name nm;
	struct stat st;
	char why[1024];

	memset(res, 0, sizeof(*res));
	e->dirfd = -1;
	if (vb_name_parse(name, &nm) != 0 || nm.ext == VB_EXT_DB ||
	    nm.encrypted) {
		snprintf(res->why, sizeof(res->why), "%s: not a plaintext vb "
		    "archive", name);
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(res->why, sizeof(res->why), "%s: %s", name,
		    strerror(errno));
		return -1;
	}
	/* The whole archive read back: only a good backup is encrypted. */
	if (vb_archive_verify(fd, NULL, nm.stem, -1, NULL, &m, &info, why,
	    sizeof(why)) != 0) {
		snprintf(res->why, sizeof(res->why), "%s/%s fails its checks, "
		    "so it is not encrypted: %s", dir, name, why);
		return -1;
	}
	res->dbbytes = m.db_bytes;
	res->delta = m.delta;
	/* Signed when made: still so (the signature is inside). */
	res->is_signed = info.sig_len > 0;
	return seal(fd, (int64_t)st.st_size, name, dir, recipients, e, res);
}

/* A backup's page index told its archive's new name, size and hash. */
static void
tell_index(const char *dir, const struct vb_name *nm,
    struct vb_compress_result *res)
{
	struct vb_index x;
	char why[512], base[256], d[4096];

	if (vb_index_read(dir, nm->stem, 0, &x, why, sizeof(why)) != 0)
		return;		/* none: nothing to tell */
	vb_path_split(res->path, d, sizeof(d), base, sizeof(base));
	snprintf(x.archive, sizeof(x.archive), "%s", base);
	x.archive_bytes = res->bytes;
	memcpy(x.archive_sha256, res->sha256, sizeof(x.archive_sha256));
	if (vb_index_write(dir, &x, why, sizeof(why)) != 0)
		snprintf(res->note, sizeof(res->note), "cannot update the page "
		    "index (%s): the next backup will be a full one", why);
	vb_pages_free(&x.p);
}

/*
 * The encrypted temporary e put in place of the plaintext at path (dir,
 * name), the page index told when it is a backup's.  Returns 0, 1 if
 * only the plaintext could not be removed (res->why), or -1 (res->why)
 * with the plaintext as it was.
 */
static int
replace(const char *path, const char *dir, const char *name,
    struct vb_tmp *e, struct vb_compress_result *res)
{
	struct vb_name nm;
	char why[1024];

	if (vb_tmp_commit(e, why, sizeof(why)) != 0) {
		snprintf(res->why, sizeof(res->why), "cannot put %s in place: "
		    "%s", res->path, why);
		vb_tmp_abort(e);
		return -1;
	}
	if (vb_name_parse(name, &nm) == 0)
		tell_index(dir, &nm, res);
	if (unlink(path) != 0) {
		snprintf(res->why, sizeof(res->why), "%s is encrypted as %s, "
		    "but the plaintext cannot be removed: %s", path, res->path,
		    strerror(errno));
		return 1;
	}
	vb_fsync_dir(dir);
	res->removed = 1;
	return 0;
}

void
vb_encrypt_message(const char *path, const struct vb_compress_result *res,
    int rc, char *buf, size_t len)
{
	if (rc < 0)
		snprintf(buf, len, "%s", res->why);
	else
		snprintf(buf, len, "encrypted in place with age to %d "
		    "recipient%s: %s (%lld bytes%s) %s%s%s%s", res->recipients,
		    res->recipients > 1 ? "s" : "", path,
		    (long long)res->plain_bytes, res->dbbytes > 0 ?
		    ", read back ok" : "", rc == 0 ? "removed" : "kept",
		    rc == 1 ? ": " : "", rc == 1 ? res->why : "",
		    res->is_signed ? "; signed=yes" : "");
}

int
vb_encrypt_in_place(const char *path, const char *recipients,
    struct vb_compress_result *res)
{
	char dir[4096], name[256];
	struct vb_name nm;
	struct vb_tmp e;
	struct stat st;
	int fd, rc;

	memset(res, 0, sizeof(*res));
	e.dirfd = -1;
	if (vb_path_split(path, dir, sizeof(dir), name, sizeof(name)) != 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		snprintf(res->why, sizeof(res->why), "%s: %s", path,
		    strerror(errno));
		return -1;
	}
	/* A backup's archive is proven first; anything else as it is. */
	if (vb_name_parse(name, &nm) == 0)
		rc = prove_and_seal(fd, name, dir, recipients, &e, res);
	else if (fstat(fd, &st) == 0)
		rc = seal(fd, (int64_t)st.st_size, name, dir, recipients, &e,
		    res);
	else {
		snprintf(res->why, sizeof(res->why), "%s: %s", path,
		    strerror(errno));
		rc = -1;
	}
	close(fd);
	return rc != 0 ? -1 : replace(path, dir, name, &e, res);
}

/*
 * The encrypted copy of name on the remote, verified (see below); the
 * remote's plaintext fetched only as BackupLog recorded it (seal): its
 * size bounds the fetch, its SHA-256 is compared before it is read.
 */
static int
put_copy(const char *remote, const char *name, const char *dir,
    const char *recipients, const struct vb_log_seal *seal,
    const struct vb_listed *f, size_t nf, char hex[VB_SHA256_HEX],
    int64_t *bytes, char *why, size_t wlen)
{
	struct vb_compress_result res;
	struct vb_tmp t, e;
	struct stat st;
	char ename[300], local[4400], tmp[4400], how[64], got[VB_SHA256_HEX];
	int fd, rc;

	snprintf(ename, sizeof(ename), "%s%s", name, VB_AGE_SUFFIX);
	if (vb_path_join(local, sizeof(local), dir, ename) == 0 &&
	    (fd = open(local, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) != -1) {
		rc = fstat(fd, &st) == 0 && vb_sha256_fd(fd, hex) >= 0 ? 0 : -1;
		close(fd);
		*bytes = (int64_t)st.st_size;
		if (rc != 0) {
			snprintf(why, wlen, "%s: %s", local, strerror(errno));
			return -1;
		}
		if (vb_listed_size(f, nf, ename) == *bytes)
			return 0;	/* sent and verified before */
		return vb_remote_put(local, remote, ename, hex, how,
		    sizeof(how), why, wlen);
	}
	if (recipients == NULL) {
		snprintf(why, wlen, "ENCRYPT_TO is not set: nothing to "
		    "encrypt to");
		return -1;
	}
	if (vb_remote_fetch(remote, name, dir, seal->bytes > 0 ? seal->bytes :
	    0, &t, tmp, sizeof(tmp), got, why, wlen) != 0)
		return -1;
	if (strcmp(got, seal->sha256) != 0) {
		snprintf(why, wlen, "%s is not the archive that was made: "
		    "BackupLog recorded SHA-256 %s (%s, %s), the remote's is "
		    "%s: replaced there; not encrypted, not kept", name,
		    seal->sha256, seal->op, seal->when, got);
		vb_tmp_abort(&t);
		return -1;
	}
	if ((fd = open(tmp, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(why, wlen, "%s: %s", tmp, strerror(errno));
		vb_tmp_abort(&t);
		return -1;
	}
	rc = prove_and_seal(fd, name, dir, recipients, &e, &res);
	close(fd);
	vb_tmp_abort(&t);	/* the plaintext fetched: gone at once */
	if (rc != 0) {
		snprintf(why, wlen, "%s", res.why);
		return -1;
	}
	vb_path_join(tmp, sizeof(tmp), dir, e.name);
	rc = vb_remote_put(tmp, remote, ename, res.sha256, how, sizeof(how),
	    why, wlen);
	vb_tmp_abort(&e);
	memcpy(hex, res.sha256, VB_SHA256_HEX);
	*bytes = res.bytes;
	return rc;
}

/*
 * The plaintext archive name on remote (listed in f) replaced by its
 * copy encrypted to recipients: dir's <name>.age if it has one (sent
 * unless the remote has it at its size), else the remote's own fetched
 * into dir, checked and encrypted there (prove_and_seal), no plaintext
 * kept; the copy verified on the remote before the plaintext one is
 * deleted.  Returns 0 with the copy's SHA-256 and size, or -1 with why.
 */
static int
replace_remote(const char *remote, const char *name, const char *dir,
    const char *recipients, const struct vb_log_seal *seal,
    const struct vb_listed *f, size_t nf, char hex[VB_SHA256_HEX],
    int64_t *bytes, char *why, size_t wlen)
{
	if (put_copy(remote, name, dir, recipients, seal, f, nf, hex, bytes,
	    why, wlen) != 0)
		return -1;
	/* Only a verified copy lets the plaintext go. */
	return vb_remote_delete(remote, name, why, wlen);
}

int
vb_encrypt_remote_all(const char *remote, const char *dir,
    const char *recipients, int (*done)(void *arg, const char *path, int ok,
    int64_t bytes, const char *hex, const char *msg), void *arg, char *why,
    size_t wlen)
{
	const struct vb_log_seal *seal;
	const char *db = vb_config("DB_PATH");
	struct vb_log_known k;
	struct vb_listed *f;
	struct vb_name nm;
	char w[2048], path[4400], hex[VB_SHA256_HEX], msg[2600];
	int64_t bytes;
	size_t nf, i;
	int ok, ret = 0;

	memset(&k, 0, sizeof(k));
	if (db == NULL || vb_backuplog_known(db, &k, w, sizeof(w)) != 0) {
		snprintf(why, wlen, "the remote's archives are encrypted only "
		    "as BackupLog recorded them, and %s: %s", db == NULL ?
		    "DB_PATH is not set" : db, db == NULL ? "nothing vouches "
		    "for them" : w);
		return -1;
	}
	if (vb_remote_ls(remote, &f, &nf, why, wlen) != 0) {
		vb_log_known_free(&k);
		return -1;
	}
	for (i = 0; i < nf; i++) {
		if (vb_name_parse(f[i].name, &nm) != 0 || nm.encrypted ||
		    nm.ext == VB_EXT_DB)
			continue;
		/*
		 * Only what this job made, as it made it: a file planted on
		 * the remote is never fetched, encrypted and so vouched for.
		 */
		seal = vb_log_known_find(&k, f[i].name);
		if (seal == NULL || seal->sha256[0] == '\0') {
			snprintf(w, sizeof(w), "BackupLog in %s never recorded "
			    "it%s: not one this job made (planted?); left as "
			    "it is, for the operator to look at", db, seal ==
			    NULL ? "" : " with its SHA-256");
			ok = 0;
		} else
			ok = replace_remote(remote, f[i].name, dir, recipients,
			    seal, f, nf, hex, &bytes, w, sizeof(w)) == 0;
		vb_remote_join(path, sizeof(path), remote, f[i].name);
		if (ok) {
			snprintf(msg, sizeof(msg), "%s: replaced by its copy "
			    "encrypted with age, SHA-256 verified there; the "
			    "plaintext one deleted%s", path, seal->is_signed ?
			    "; signed=yes" : "");
			strncat(path, VB_AGE_SUFFIX, sizeof(path) -
			    strlen(path) - 1);
		} else
			snprintf(msg, sizeof(msg), "%s: not encrypted: %s; the "
			    "plaintext one is still there", path, w);
		ret |= done(arg, path, ok, ok ? bytes : -1, ok ? hex : NULL,
		    msg) != 0;
	}
	free(f);
	vb_log_known_free(&k);
	return ret;
}
