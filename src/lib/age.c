/*
 * age.c - archives encrypted to age recipients, and decrypted again.
 *
 * vb has no cryptography of its own: the age program (the Debian package
 * "age") encrypts and decrypts, run without a shell.  Encrypting needs
 * only the recipients (public keys), so the backup host never holds what
 * decrypts its backups; decrypting needs an identity the operator brings
 * to a restore.  What age writes is checked for its format and for the
 * exact size age's format gives the plaintext, so a cut-short output
 * never counts.
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

#define AGE_MAGIC	"age-encryption.org/v1\n"
#define AGE_CHUNK	65536
#define AGE_TAG		16
#define AGE_NONCE	16

int
vb_age_recipients(const char *file, char *why, size_t wlen)
{
	char line[8192];
	int n = 0, lineno = 0;
	size_t len;
	FILE *fp;

	if ((fp = fopen(file, "re")) == NULL) {
		snprintf(why, wlen, "ENCRYPT_TO %s: %s", file, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		len = strcspn(line, "\r\n");
		line[len] = '\0';
		if (line[strspn(line, " \t")] == '\0' ||
		    line[strspn(line, " \t")] == '#')
			continue;
		if (strncmp(line, "age1", 4) != 0 &&
		    strncmp(line, "ssh-", 4) != 0) {
			snprintf(why, wlen, "ENCRYPT_TO %s:%d: not an age "
			    "recipient (age1... or an SSH public key)", file,
			    lineno);
			fclose(fp);
			return -1;
		}
		n++;
	}
	fclose(fp);
	if (n == 0)
		snprintf(why, wlen, "ENCRYPT_TO %s holds no recipient: add "
		    "the public key (age-keygen -y key.txt) whose identity "
		    "will decrypt the backups", file);
	return n > 0 ? n : -1;
}

/* age's size for a plaintext of n bytes, after a header of h bytes. */
static int64_t
age_size(int64_t h, int64_t n)
{
	int64_t chunks = n == 0 ? 1 : (n + AGE_CHUNK - 1) / AGE_CHUNK;

	return h + AGE_NONCE + n + chunks * AGE_TAG;
}

/*
 * Checks the encrypted file on fd: age's magic, a header ending in its
 * "---" line, and the size its format gives plain bytes.  Returns 0, or
 * -1 with why.
 */
static int
check_output(int fd, int64_t plain, int64_t bytes, char *why, size_t wlen)
{
	char *head, *end;
	ssize_t r;
	int64_t h;

	if ((head = malloc(AGE_CHUNK + 1)) == NULL) {
		snprintf(why, wlen, "out of memory");
		return -1;
	}
	r = pread(fd, head, AGE_CHUNK, 0);
	if (r < (ssize_t)strlen(AGE_MAGIC) || memcmp(head, AGE_MAGIC,
	    strlen(AGE_MAGIC)) != 0) {
		snprintf(why, wlen, "age wrote no age file");
		free(head);
		return -1;
	}
	head[r] = '\0';
	/* The header ends with "--- <MAC>\n"; the payload follows. */
	if ((end = strstr(head, "\n--- ")) == NULL ||
	    (end = strchr(end + 1, '\n')) == NULL) {
		snprintf(why, wlen, "age's output has no whole header");
		free(head);
		return -1;
	}
	h = end + 1 - head;
	free(head);
	if (bytes != age_size(h, plain)) {
		snprintf(why, wlen, "age's output is %lld bytes, not the "
		    "%lld its format gives %lld bytes: cut short", (long long)
		    bytes, (long long)age_size(h, plain), (long long)plain);
		return -1;
	}
	return 0;
}

int
vb_age_encrypt(const char *recipients, int infd, int64_t inbytes, int outfd,
    char hex[VB_SHA256_HEX], int64_t *bytes, char *why, size_t wlen)
{
	const char *argv[] = { "age", "--encrypt",
	    "--recipients-file", recipients, NULL };
	struct vb_sink s;
	int status;

	if (vb_age_recipients(recipients, why, wlen) < 0)
		return -1;
	memset(&s, 0, sizeof(s));
	s.fd = outfd;
	if ((s.h = vb_sha256_new()) == NULL) {
		snprintf(why, wlen, "out of memory");
		return -1;
	}
	if (lseek(infd, 0, SEEK_SET) != 0) {
		snprintf(why, wlen, "rewinding the archive: %s",
		    strerror(errno));
		vb_sha256_final(s.h, hex);
		return -1;
	}
	if (vb_child_run(argv, infd, &s, 0, &status, why, wlen) != 0) {
		vb_sha256_final(s.h, hex);
		return -1;
	}
	vb_sha256_final(s.h, hex);
	*bytes = s.bytes;
	return check_output(outfd, inbytes, s.bytes, why, wlen);
}

int
vb_age_decrypt_start(const char *identity, int infd, struct vb_child *c,
    char *why, size_t wlen)
{
	const char *argv[] = { "age", "--decrypt",
	    "--identity", identity, NULL };
	int p[2];

	if (access(identity, R_OK) != 0) {
		snprintf(why, wlen, "identity %s: %s", identity,
		    strerror(errno));
		return -1;
	}
	if (pipe2(p, O_CLOEXEC) != 0) {
		snprintf(why, wlen, "pipe: %s", strerror(errno));
		return -1;
	}
	if (vb_child_start(c, argv, infd, p[1], why, wlen) != 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	close(p[1]);
	return p[0];
}

int
vb_age_decrypt_to(const char *identity, int infd, int outfd,
    struct vb_child *c, char *why, size_t wlen)
{
	const char *argv[] = { "age", "--decrypt", "--identity", identity,
	    NULL };

	if (access(identity, R_OK) != 0) {
		snprintf(why, wlen, "identity %s: %s", identity,
		    strerror(errno));
		return -1;
	}
	return vb_child_start(c, argv, infd, outfd, why, wlen);
}
