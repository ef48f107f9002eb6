/*
 * remote.c - the offsite remote, through rclone.
 *
 * vb speaks no storage protocol: every remote operation is one rclone
 * command, run with an argument vector (no shell), stdin closed, bounded
 * in time (OFFSITE_TIMEOUT) and retried by rclone itself (OFFSITE_RETRIES,
 * OFFSITE_BWLIMIT passed through).  Credentials stay in rclone's own
 * configuration (the file RCLONE_CONFIG names, in vb.conf or the
 * environment): nothing here reads, stores or prints them, and what
 * rclone says on failure reaches the operator as its last error line.
 * An upload lands under a .vb-tmp- name and is moved to its final name
 * only once the remote copy's SHA-256 (the backend's own, else read back)
 * equals the local file's.
 */
#define _GNU_SOURCE
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vblib.h"

int
vb_remote_join(char *buf, size_t len, const char *remote, const char *name)
{
	size_t n = strlen(remote);
	int w;

	w = snprintf(buf, len, "%s%s%s", remote, n > 0 &&
	    remote[n - 1] != ':' && remote[n - 1] != '/' ? "/" : "", name);
	return w < 0 || (size_t)w >= len ? -1 : 0;
}

/* ---- rclone, run ---- */

/*
 * Runs rclone args with the common flags, its stdout into out (NULL:
 * discarded).  Returns 0 if rclone succeeded; else -1 with why (what
 * rclone said, or how it ended) and *status its exit status (-1 killed,
 * -2 stopped at OFFSITE_TIMEOUT).
 */
static int
run(const char *const *args, struct vb_sink *out, int *status, char *why,
    size_t wlen)
{
	const char *argv[64], *v;
	char retries[32], what[1024];
	int64_t limit = 10800;
	uint64_t u;
	int n = 0, i;

	if ((v = vb_config("OFFSITE_TIMEOUT")) != NULL &&
	    vb_parse_u64(v, &u) == 0)
		limit = (int64_t)u;
	/*
	 * The rclone configuration the job uses (cron gives it no
	 * environment): vb.conf's RCLONE_CONFIG, or the environment's.
	 */
	if ((v = vb_config("RCLONE_CONFIG")) != NULL && *v != '\0')
		setenv("RCLONE_CONFIG", v, 1);
	v = vb_config("OFFSITE_RETRIES");
	snprintf(retries, sizeof(retries), "%s", v != NULL ? v : "3");
	argv[n++] = "rclone";
	argv[n++] = "--quiet";
	argv[n++] = "--ask-password=false";
	argv[n++] = "--retries";
	argv[n++] = retries;
	argv[n++] = "--low-level-retries";
	argv[n++] = "3";
	argv[n++] = "--contimeout";
	argv[n++] = "20s";
	argv[n++] = "--timeout";
	argv[n++] = "120s";
	if ((v = vb_config("OFFSITE_BWLIMIT")) != NULL && *v != '\0') {
		argv[n++] = "--bwlimit";
		argv[n++] = v;
	}
	for (i = 0; args[i] != NULL && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (vb_child_run(argv, -1, out, limit, status, what,
	    sizeof(what)) == 0)
		return 0;
	if (*status == -2)
		snprintf(why, wlen, "rclone %s did not finish within "
		    "OFFSITE_TIMEOUT=%llds and was stopped", args[0],
		    (long long)limit);
	else if (strncmp(what, argv[0], strlen(argv[0])) == 0)
		/* "rclone failed (exit 1): ..." names the command too. */
		snprintf(why, wlen, "rclone %s%s", args[0],
		    what + strlen(argv[0]));
	else
		snprintf(why, wlen, "rclone %s: %s", args[0], what);
	return -1;
}

/* ---- listed, got, put, deleted ---- */

int
vb_remote_ls(const char *remote, struct vb_listed **out, size_t *n,
    char *why, size_t wlen)
{
	const char *args[] = { "lsf", "--files-only", "--format", "sp",
	    "--separator", "\t", remote, NULL };
	char *line, *tab, *next;
	struct vb_sink s;
	size_t cap = 0;
	uint64_t bytes;
	int status;

	*out = NULL;
	*n = 0;
	memset(&s, 0, sizeof(s));
	s.fd = -1;
	s.cap = 16 * 1024 * 1024;	/* some 200 000 names */
	if ((s.buf = malloc(s.cap)) == NULL) {
		snprintf(why, wlen, "out of memory");
		return -1;
	}
	s.buf[0] = '\0';
	if (run(args, &s, &status, why, wlen) != 0) {
		free(s.buf);
		/* rclone's "directory not found": nothing there yet. */
		return status == 3 ? 0 : -1;
	}
	for (line = s.buf; *line != '\0'; line = next) {
		next = line + strcspn(line, "\n");
		if (*next == '\n')
			*next++ = '\0';
		/* "size<TAB>name"; a name vb makes holds no TAB or newline. */
		if ((tab = strchr(line, '\t')) == NULL)
			continue;
		*tab = '\0';
		/* Nor anything a terminal acts on: not vb's, never said. */
		if (vb_parse_u64(line, &bytes) != 0 ||
		    strlen(tab + 1) >= sizeof((*out)->name) ||
		    !vb_is_clean(tab + 1))
			continue;
		if (vb_listed_add(out, n, &cap, tab + 1, (int64_t)bytes) != 0) {
			snprintf(why, wlen, "out of memory");
			free(*out);
			*out = NULL;
			free(s.buf);
			return -1;
		}
	}
	free(s.buf);
	return 0;
}

int
vb_remote_list(const char *remote, struct vb_backup **list, size_t *n,
    char *why, size_t wlen)
{
	struct vb_listed *f;
	size_t nf;
	int rc;

	*list = NULL;
	*n = 0;
	if (vb_remote_ls(remote, &f, &nf, why, wlen) != 0)
		return -1;
	rc = vb_group(f, nf, list, n, why, wlen);
	free(f);
	return rc;
}

int
vb_remote_delete(const char *remote, const char *name, char *why,
    size_t wlen)
{
	char path[4096];
	const char *args[] = { "deletefile", path, NULL };
	int status;

	if (vb_remote_join(path, sizeof(path), remote, name) != 0) {
		snprintf(why, wlen, "%s: name too long", remote);
		return -1;
	}
	return run(args, NULL, &status, why, wlen);
}

/*
 * Reads remote/name into fd (or only hashes it, fd -1): its SHA-256 in
 * hex and its size in *bytes.  Returns 0, or -1 with why.
 */
static int
remote_get(const char *remote, const char *name, int fd, int64_t limit,
    char hex[VB_SHA256_HEX], int64_t *bytes, char *why, size_t wlen)
{
	char path[4096], count[32];
	const char *args[] = { "cat", path, limit > 0 ? "--count" : NULL,
	    count, NULL };
	struct vb_sink s;
	int status, rc;

	if (vb_remote_join(path, sizeof(path), remote, name) != 0) {
		snprintf(why, wlen, "%s: name too long", remote);
		return -1;
	}
	memset(&s, 0, sizeof(s));
	s.fd = fd;
	/* Never more than it was said to be: a byte more is refused. */
	s.limit = limit;
	snprintf(count, sizeof(count), "%lld", (long long)limit + 1);
	if ((s.h = vb_sha256_new()) == NULL) {
		snprintf(why, wlen, "out of memory");
		return -1;
	}
	rc = run(args, &s, &status, why, wlen);
	vb_sha256_final(s.h, hex);
	*bytes = s.bytes;
	if (s.err == EFBIG) {
		snprintf(why, wlen, "%s is larger than the %lld bytes the "
		    "signed catalog, BackupLog or the remote's listing gave: "
		    "refused, not kept", name, (long long)limit);
		return -1;
	}
	if (rc == 0 && fd >= 0 && s.err != 0) {
		snprintf(why, wlen, "writing %s: %s", name, strerror(s.err));
		rc = -1;
	}
	return rc;
}

/*
 * The SHA-256 of the remote file path: the backend's own where it has
 * one, else read back through rclone cat.  how says which.
 */
static int
remote_sha(const char *remote, const char *name, char hex[VB_SHA256_HEX],
    const char **how, char *why, size_t wlen)
{
	char path[4096], buf[512];
	const char *args[] = { "hashsum", "sha256", path, NULL };
	struct vb_sink s;
	int64_t bytes;
	int status;

	if (vb_remote_join(path, sizeof(path), remote, name) != 0) {
		snprintf(why, wlen, "%s: name too long", remote);
		return -1;
	}
	memset(&s, 0, sizeof(s));
	s.fd = -1;
	s.buf = buf;
	s.cap = sizeof(buf);
	buf[0] = '\0';
	if (run(args, &s, &status, why, wlen) == 0 && strspn(buf,
	    "0123456789abcdef") == 64) {
		memcpy(hex, buf, 64);
		hex[64] = '\0';
		*how = "SHA-256 by the remote";
		return 0;
	}
	*how = "read back";
	return remote_get(remote, name, -1, 0, hex, &bytes, why, wlen);
}

int
vb_remote_put(const char *local, const char *remote, const char *name,
    const char *sha, char *how, size_t hlen, char *why, size_t wlen)
{
	char tmpname[256], tmp[4096], final[4096], got[VB_SHA256_HEX];
	char what[1024];
	const char *copy[] = { "copyto", local, tmp, NULL };
	const char *move[] = { "moveto", tmp, final, NULL };
	const char *by;
	int status, sent = 0;

	snprintf(tmpname, sizeof(tmpname), "%s%ld-%s", VB_TMP_PREFIX,
	    (long)getpid(), name);
	if (vb_remote_join(tmp, sizeof(tmp), remote, tmpname) != 0 ||
	    vb_remote_join(final, sizeof(final), remote, name) != 0) {
		snprintf(why, wlen, "%s: name too long", remote);
		return -1;
	}
	if (run(copy, NULL, &status, why, wlen) != 0)
		goto fail;
	sent = 1;
	if (remote_sha(remote, tmpname, got, &by, why, wlen) != 0)
		goto fail;
	if (strcmp(got, sha) != 0) {
		snprintf(why, wlen, "the copy on %s has SHA-256 %s (%s), not "
		    "the archive's %s: removed it", remote, got, by, sha);
		goto fail;
	}
	if (run(move, NULL, &status, why, wlen) != 0)
		goto fail;
	snprintf(how, hlen, "%s", by);
	return 0;
fail:
	/* A copy that is not proven is not left, not even as a temporary. */
	if (vb_remote_delete(remote, tmpname, what, sizeof(what)) != 0 &&
	    sent && strstr(what, "not found") == NULL)
		vb_appendf(why, wlen, "; and its temporary %s could not be "
		    "removed: %s", tmp, what);
	return -1;
}

/*
 * Removes the .vb-tmp- files of the listing f whose writer (a process of
 * this host) no longer runs.  Returns how many, named in note.
 */
static int
clean_stale(const char *remote, const struct vb_listed *f,
    size_t n, char *note, size_t nlen)
{
	char why[1024];
	size_t i, used = 0;
	int removed = 0;
	long pid;

	note[0] = '\0';
	for (i = 0; i < n; i++) {
		/* Only our host's writers use this remote between locks. */
		if ((pid = vb_tmp_pid(f[i].name)) < 0 || vb_pid_runs(pid))
			continue;
		if (vb_remote_delete(remote, f[i].name, why, sizeof(why)) != 0)
			continue;
		if (used < nlen)
			used += (size_t)snprintf(note + used, nlen - used,
			    "%s%s", removed ? ", " : "removed stale "
			    "temporaries on the remote: ", f[i].name);
		removed++;
	}
	return removed;
}

/* ---- the jobs: probe, fetch, catch up, send ---- */

int
vb_remote_probe(const char *remote, char *found, size_t flen, char *why,
    size_t wlen)
{
	char tmpname[128], tmp[4096], got[VB_SHA256_HEX], want[VB_SHA256_HEX];
	char line[1024], local[] = "/tmp/vb-probe-XXXXXX";
	const char *copy[] = { "copyto", local, tmp, NULL };
	struct vb_sha256 *h;
	struct vb_listed *f;
	int64_t bytes;
	size_t n;
	int fd, status, rc = -1;

	if (vb_remote_ls(remote, &f, &n, why, wlen) != 0)
		return -1;
	free(f);
	snprintf(tmpname, sizeof(tmpname), "%s%ld-probe", VB_TMP_PREFIX,
	    (long)getpid());
	if (vb_remote_join(tmp, sizeof(tmp), remote, tmpname) != 0 ||
	    (fd = mkstemp(local)) == -1 || (h = vb_sha256_new()) == NULL) {
		snprintf(why, wlen, "cannot make a probe file: %s",
		    strerror(errno));
		return -1;
	}
	snprintf(line, sizeof(line), "vb probe %ld\n", (long)getpid());
	vb_sha256_update(h, line, strlen(line));
	vb_sha256_final(h, want);
	if (vb_write_all(fd, line, strlen(line)) != 0) {
		snprintf(why, wlen, "cannot write %s: %s", local,
		    strerror(errno));
		goto done;
	}
	/* Written, read back the same, deleted: each step says why not. */
	if (run(copy, NULL, &status, why, wlen) != 0 ||
	    remote_get(remote, tmpname, -1, 0, got, &bytes, why, wlen) != 0)
		goto done;
	if (strcmp(got, want) != 0) {
		snprintf(why, wlen, "%s: a file written there reads back "
		    "different", remote);
		goto done;
	}
	if (vb_remote_delete(remote, tmpname, why, wlen) != 0)
		goto done;
	snprintf(found, flen, "%s: listed, written, read back and deleted a "
	    "file", remote);
	rc = 0;
done:
	if (rc != 0)
		vb_remote_delete(remote, tmpname, line, sizeof(line));
	close(fd);
	unlink(local);
	return rc;
}

/*
 * Whether limit bytes fit on fd's filesystem and leave 1% of it (at
 * least 1 MiB) free: a size a remote's listing gave (its writer's word)
 * never fills the disk the application writes to.  0, or -1 (why).
 */
static int
room(int fd, int64_t limit, const char *dir, const char *name, char *why,
    size_t wlen)
{
	struct statvfs sv;
	int64_t avail, keep;

	if (fstatvfs(fd, &sv) != 0)
		return 0;	/* not known: the write fails if it must */
	avail = (int64_t)sv.f_bavail * (int64_t)sv.f_frsize;
	keep = (int64_t)sv.f_blocks * (int64_t)sv.f_frsize / 100;
	if (keep < 1024 * 1024)
		keep = 1024 * 1024;
	if (limit <= avail - keep)
		return 0;
	snprintf(why, wlen, "%s is %lld bytes, more than %s can take and "
	    "keep %lld free (%lld free now): refused before a byte was "
	    "fetched", name, (long long)limit, dir, (long long)keep,
	    (long long)avail);
	return -1;
}

int
vb_remote_fetch(const char *remote, const char *name, const char *dir,
    int64_t limit, struct vb_tmp *t, char *path, size_t plen,
    char hex[VB_SHA256_HEX], char *why, size_t wlen)
{
	struct vb_listed *f;
	int64_t bytes;
	size_t n;

	/* Bounded before a byte comes: by the caller, else the listing. */
	if (limit <= 0) {
		if (vb_remote_ls(remote, &f, &n, why, wlen) != 0)
			return -1;
		limit = vb_listed_size(f, n, name);
		free(f);
		if (limit < 0) {
			snprintf(why, wlen, "%s: not on %s", name, remote);
			return -1;
		}
	}
	if (vb_tmp_open(t, dir, name, why, wlen) != 0)
		return -1;
	if (vb_path_join(path, plen, dir, t->name) != 0) {
		snprintf(why, wlen, "%s: name too long", dir);
		vb_tmp_abort(t);
		return -1;
	}
	if (room(t->fd, limit, dir, name, why, wlen) != 0) {
		vb_tmp_abort(t);
		return -1;
	}
	if (remote_get(remote, name, t->fd, limit, hex, &bytes, why,
	    wlen) != 0) {
		vb_tmp_abort(t);
		return -1;
	}
	return 0;
}

int
vb_catch_up(const char *remote, const char *dir,
    int (*send)(void *arg, const char *path), void *arg, char *note,
    size_t nlen, char *why, size_t wlen)
{
	struct vb_backup *list;
	struct vb_listed *f;
	char path[4400];
	size_t n, nf, i;
	int j, ret = 0;

	note[0] = '\0';
	if (vb_remote_ls(remote, &f, &nf, why, wlen) != 0)
		return -1;
	clean_stale(remote, f, nf, note, nlen);
	if (vb_scan(dir, &list, &n, why, wlen) != 0 ||
	    vb_scan_sizes(dir, list, n) != 0) {
		free(f);
		return -1;
	}
	/* Oldest first: the remote's history fills in order. */
	for (i = n; i-- > 0;)
		for (j = 0; j < list[i].nfiles; j++) {
			if (list[i].files[j].ext == VB_EXT_DB ||
			    vb_listed_size(f, nf, list[i].files[j].name) ==
			    list[i].files[j].bytes)
				continue;
			vb_path_join(path, sizeof(path), dir,
			    list[i].files[j].name);
			ret |= send(arg, path) != 0;
		}
	free(list);
	free(f);
	return ret;
}

int
vb_remote_send(const char *path, const char *sha, const char *remote,
    struct vb_sent *c)
{
	char dir[4096], name[256];
	struct vb_name nm;
	struct stat st;
	int fd;

	memset(c, 0, sizeof(*c));
	c->bytes = -1;
	if (vb_path_split(path, dir, sizeof(dir), name, sizeof(name)) != 0 ||
	    vb_name_parse(name, &nm) != 0 || nm.ext == VB_EXT_DB) {
		snprintf(c->why, sizeof(c->why), "%s: not a vb archive "
		    "(backup-<UTC time>.tar.zst and the like); not copied",
		    path);
		return -1;
	}
	if (vb_remote_join(c->dest, sizeof(c->dest), remote, name) != 0) {
		snprintf(c->why, sizeof(c->why), "%s: name too long", remote);
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1 ||
	    fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (sha == NULL && vb_sha256_fd(fd, c->sha256) < 0)) {
		snprintf(c->why, sizeof(c->why), "%s: %s", path, fd == -1 ?
		    strerror(errno) : !S_ISREG(st.st_mode) ?
		    "not a regular file" : strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	close(fd);
	c->bytes = (int64_t)st.st_size;
	if (sha != NULL)
		snprintf(c->sha256, sizeof(c->sha256), "%s", sha);
	return vb_remote_put(path, remote, name, c->sha256, c->how,
	    sizeof(c->how), c->why, sizeof(c->why));
}
