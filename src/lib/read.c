/*
 * read.c - one archive read back, plain or encrypted with age.
 *
 * An encrypted archive is decrypted by age with the operator's identity
 * as it is read, and its plaintext checked exactly as a plain archive's
 * (vb_archive_verify), never written anywhere but where the caller asks;
 * the encrypted file's own SHA-256 is taken on a thread beside.  Without
 * an identity it is refused, saying what to give.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vblib.h"

/*
 * The archive on fd (named nm) as a stream of its plaintext: fd itself,
 * or a pipe from age decrypting it (*running set, c its process).
 * Returns the descriptor to read, or -1 with why.
 */
static int
plain_open(int fd, const char *identity, const struct vb_name *nm,
    struct vb_child *c, int *running, char *why, size_t wlen)
{
	char name[128];

	*running = 0;
	if (!nm->encrypted)
		return fd;
	vb_name_format(nm, name, sizeof(name));
	if (identity == NULL) {
		snprintf(why, wlen, "%s is encrypted with age: give the "
		    "identity (the private key of a recipient in ENCRYPT_TO) "
		    "with -i FILE; nothing changed", name);
		return -1;
	}
	if ((fd = vb_age_decrypt_start(identity, fd, c, why, wlen)) != -1)
		*running = 1;
	return fd;
}

/* Waits for age, if it ran; 0, or -1 with its words in why. */
static int
plain_close(int pfd, const char *identity, const struct vb_name *nm,
    struct vb_child *c, int running, char *why, size_t wlen)
{
	char name[128], agewhy[1024];
	int status;

	if (!running)
		return 0;
	close(pfd);
	if (vb_child_wait(c, &status, agewhy, sizeof(agewhy)) == 0)
		return 0;
	vb_name_format(nm, name, sizeof(name));
	snprintf(why, wlen, "cannot decrypt %s with %s: %s; nothing changed",
	    name, identity, agewhy);
	return -1;
}

int
vb_read_archive(int fd, const char *identity, const struct vb_name *nm,
    int outfd, struct vb_manifest *m, struct vb_archive_info *info,
    char *why, size_t wlen)
{
	struct vb_sha256_job h;
	struct vb_child age;
	char w[1024];
	int pfd, rc, running;

	if ((pfd = plain_open(fd, identity, nm, &age, &running, why,
	    wlen)) == -1)
		return -1;
	/* By pread: age reading the same file moves only the offset. */
	if (running)
		vb_sha256_start(&h, fd);
	rc = vb_archive_verify(pfd, NULL, nm->stem, outfd, NULL, m, info,
	    why, wlen);
	if (!running)
		return rc;
	/* age's failure first: a wrong identity explains all the rest;
	 * but age ended by the pipe we closed on a bad entry (a renamed
	 * archive) is not its failure: the entry's is. */
	if (plain_close(pfd, identity, nm, &age, running, w, sizeof(w)) != 0) {
		vb_sha256_join(&h);
		if (rc == 0 || age.signal != SIGPIPE)
			snprintf(why, wlen, "%s", w);
		return -1;
	}
	if (vb_sha256_join(&h) < 0 && rc == 0) {
		snprintf(why, wlen, "hashing the archive: %s", strerror(h.err));
		return -1;
	}
	if (rc != 0)
		return -1;
	info->bytes = h.bytes;
	memcpy(info->sha256, h.hex, sizeof(h.hex));
	return 0;
}

int
vb_read_manifest(const char *path, const char *identity,
    const struct vb_name *nm, struct vb_manifest *m, char *why, size_t wlen)
{
	struct vb_child age;
	char w[1024];
	int fd, pfd, rc, running;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		snprintf(why, wlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((pfd = plain_open(fd, identity, nm, &age, &running, why,
	    wlen)) == -1) {
		close(fd);
		return -1;
	}
	rc = vb_archive_manifest(pfd, m, why, wlen);
	if (!running) {
		close(fd);
		return rc;
	}
	close(fd);	/* age reads its own copy */
	/* age stops on the closed pipe: only a failed read is its fault. */
	if (plain_close(pfd, identity, nm, &age, running, w, sizeof(w)) != 0 &&
	    rc != 0)
		snprintf(why, wlen, "%s", w);
	return rc;
}
