/*
 * sign.c - SSH signatures (namespace "vb") over manifests and catalogs,
 * made and checked by ssh-keygen -Y (openssh-client), so that an operator
 * without vb checks them the same way.  vb parses no key and computes no
 * signature of its own: it only checks the shape of what it is given (a
 * key file of the right type, an armored signature of a sane size) so a
 * wrong file is a configuration error, not a failed night.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vblib.h"

#define SIG_BEGIN	"-----BEGIN SSH SIGNATURE-----\n"
#define SIG_END		"-----END SSH SIGNATURE-----\n"
#define KEY_TYPE	"ssh-ed25519 "
#define TIMEOUT_S	30

/*
 * A memory file holding n bytes of text, read from its start; inherited
 * by children (they open it as /dev/fd/N).  Returns it, or -1 (why).
 */
static int
memfile(const char *what, const void *text, size_t n, char *why, size_t wlen)
{
	int fd = memfd_create(what, 0);

	if (fd == -1 || vb_write_all(fd, text, n) != 0 ||
	    lseek(fd, 0, SEEK_SET) != 0) {
		snprintf(why, wlen, "%s: %s", what, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * Runs ssh-keygen with argv (argv[0] set here), stdin from infd; its
 * output into buf (cap bytes, NUL-terminated; NULL: discarded).  Returns
 * 0, or -1 with why (output that does not fit is one).
 */
static int
keygen(const char **argv, int infd, char *buf, size_t cap, char *why,
    size_t wlen)
{
	struct vb_sink out;
	int status;

	memset(&out, 0, sizeof(out));
	out.fd = -1;
	out.buf = buf;
	out.cap = cap;
	argv[0] = "ssh-keygen";
	return vb_child_run(argv, infd, buf != NULL ? &out : NULL, TIMEOUT_S,
	    &status, why, wlen);
}

int
vb_sig_shape(const char *sig, size_t n, char *why, size_t wlen)
{
	size_t i;

	if (n > VB_SIG_MAX) {
		snprintf(why, wlen, "the signature is oversized (%zu bytes; an "
		    "SSH signature is under %d)", n, VB_SIG_MAX);
		return -1;
	}
	if (n < strlen(SIG_BEGIN) + strlen(SIG_END) + 64 ||
	    strncmp(sig, SIG_BEGIN, strlen(SIG_BEGIN)) != 0 ||
	    strncmp(sig + n - strlen(SIG_END), SIG_END, strlen(SIG_END)) != 0) {
		snprintf(why, wlen, "the signature is truncated or not an SSH "
		    "signature (%zu bytes)", n);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (sig[i] == '\0' || (sig[i] & 0x80) != 0) {
			snprintf(why, wlen, "the signature is not text");
			return -1;
		}
	return 0;
}

int
vb_key_public(const char *key, char *pub, size_t plen, char *why,
    size_t wlen)
{
	const char *argv[] = { NULL, "-y", "-P", "", "-f", key, NULL };
	char err[600];
	char *nl;

	if (keygen(argv, -1, pub, plen, err, sizeof(err)) != 0) {
		snprintf(why, wlen, "%s is not a private key ssh-keygen can "
		    "read without a passphrase (ssh-keygen -t ed25519 -N '' "
		    "makes one): %s", key, err);
		return -1;
	}
	if ((nl = strchr(pub, '\n')) != NULL)
		*nl = '\0';
	if (strncmp(pub, KEY_TYPE, strlen(KEY_TYPE)) != 0) {
		snprintf(why, wlen, "%s is a %.*s key; vb signs with Ed25519 "
		    "(ssh-keygen -t ed25519 -N '')", key,
		    (int)strcspn(pub, " "), pub);
		return -1;
	}
	return 0;
}

/*
 * The Ed25519 public key line of file (its first line that is not a
 * comment) into line, by its shape only.  Returns 0, or -1 with why.
 */
static int
read_public(const char *file, char *line, size_t llen, char *why,
    size_t wlen)
{
	FILE *f;
	char *nl;

	if ((f = fopen(file, "re")) == NULL) {
		snprintf(why, wlen, "%s: %s", file, strerror(errno));
		return -1;
	}
	line[0] = '\0';
	while (fgets(line, (int)llen, f) != NULL && (line[0] == '#' ||
	    line[0] == '\n'))
		line[0] = '\0';
	fclose(f);
	if ((nl = strchr(line, '\n')) != NULL)
		*nl = '\0';
	if (strstr(line, "PRIVATE KEY") != NULL) {
		snprintf(why, wlen, "%s is a private key: give its .pub (the "
		    "private key stays on the backup host)", file);
		return -1;
	}
	if (strncmp(line, KEY_TYPE, strlen(KEY_TYPE)) != 0) {
		snprintf(why, wlen, "%s is not an Ed25519 public key (one "
		    "line, ssh-ed25519 AAAA...: the .pub of SIGN_WITH)", file);
		return -1;
	}
	return 0;
}

int
vb_key_check_public(const char *file, char *line, size_t llen, char *why,
    size_t wlen)
{
	const char *argv[] = { NULL, "-l", "-f", file, NULL };
	char err[600];

	if (read_public(file, line, llen, why, wlen) != 0)
		return -1;
	/* Its key itself, as ssh-keygen reads it: once, when it is given. */
	if (keygen(argv, -1, NULL, 0, err, sizeof(err)) != 0) {
		snprintf(why, wlen, "%s is not a public key ssh-keygen can "
		    "read: %s", file, err);
		return -1;
	}
	return 0;
}

int
vb_verify_key(const char *file, char *why, size_t wlen)
{
	char line[4096];

	return vb_key_check_public(file, line, sizeof(line), why, wlen);
}

int
vb_sign(const char *key, const char *text, size_t n, char *sig, size_t slen,
    char *why, size_t wlen)
{
	const char *argv[] = { NULL, "-Y", "sign", "-f", key, "-n",
	    VB_SIG_NAMESPACE, "-q", NULL };
	char err[600];
	int fd, rc;

	if ((fd = memfile("vb-signed", text, n, why, wlen)) == -1)
		return -1;
	rc = keygen(argv, fd, sig, slen, err, sizeof(err));
	close(fd);
	if (rc != 0) {
		snprintf(why, wlen, "cannot sign with %s: %s", key, err);
		return -1;
	}
	return vb_sig_shape(sig, strlen(sig), why, wlen);
}

int
vb_sig_verify(const char *pubfile, const char *text, size_t n,
    const char *sig, size_t siglen, char *why, size_t wlen)
{
	char line[4096], allowed[4200], apath[64], spath[64], err[600];
	const char *argv[] = { NULL, "-Y", "verify", "-f", apath, "-I",
	    VB_SIG_NAMESPACE, "-n", VB_SIG_NAMESPACE, "-s", spath, NULL };
	int afd = -1, sfd = -1, tfd = -1, rc = -1;

	/* The key was checked whole when it was given (configuration,
	 * --verify-with); here its line is only read. */
	if (vb_sig_shape(sig, siglen, why, wlen) != 0 ||
	    read_public(pubfile, line, sizeof(line), why, wlen) != 0)
		return -1;
	/* The signer "vb", allowed this key in the namespace "vb" only. */
	snprintf(allowed, sizeof(allowed), "%s namespaces=\"%s\" %s\n",
	    VB_SIG_NAMESPACE, VB_SIG_NAMESPACE, line);
	if ((afd = memfile("vb-allowed", allowed, strlen(allowed), why,
	    wlen)) == -1 || (sfd = memfile("vb-sig", sig, siglen, why,
	    wlen)) == -1 || (tfd = memfile("vb-signed", text, n, why,
	    wlen)) == -1)
		goto out;
	snprintf(apath, sizeof(apath), "/dev/fd/%d", afd);
	snprintf(spath, sizeof(spath), "/dev/fd/%d", sfd);
	if (keygen(argv, tfd, NULL, 0, err, sizeof(err)) != 0) {
		err[strcspn(err, "\n")] = '\0';
		while (err[0] != '\0' && err[strlen(err) - 1] == ' ')
			err[strlen(err) - 1] = '\0';
		snprintf(why, wlen, "not signed by %s (%s)", pubfile, err);
	} else
		rc = 0;
out:
	if (afd != -1)
		close(afd);
	if (sfd != -1)
		close(sfd);
	if (tfd != -1)
		close(tfd);
	return rc;
}
