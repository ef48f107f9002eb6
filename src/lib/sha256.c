/*
 * sha256.c - SHA-256 through nettle, which libarchive already links.
 *
 * vb never implements a hash itself; this file only adapts nettle's
 * interface to hex digests and file descriptors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include "vblib.h"

#define BUFSZ	(256 * 1024)

struct vb_sha256 {
	struct sha256_ctx ctx;
};

struct vb_sha256 *
vb_sha256_new(void)
{
	struct vb_sha256 *h;

	if ((h = malloc(sizeof(*h))) == NULL)
		return NULL;
	sha256_init(&h->ctx);
	return h;
}

void
vb_sha256_update(struct vb_sha256 *h, const void *buf, size_t len)
{
	sha256_update(&h->ctx, len, buf);
}

void
vb_sha256_final(struct vb_sha256 *h, char hex[VB_SHA256_HEX])
{
	static const char digits[] = "0123456789abcdef";
	uint8_t d[SHA256_DIGEST_SIZE];
	int i;

	sha256_digest(&h->ctx, sizeof(d), d);
	for (i = 0; i < SHA256_DIGEST_SIZE; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 0xf];
	}
	hex[2 * SHA256_DIGEST_SIZE] = '\0';
	free(h);
}

int64_t
vb_sha256_fd(int fd, char hex[VB_SHA256_HEX])
{
	struct vb_sha256 *h;
	unsigned char *buf;
	int64_t total = 0;
	ssize_t n;
	int saved;

	if ((buf = malloc(BUFSZ)) == NULL)
		return -1;
	if ((h = vb_sha256_new()) == NULL) {
		free(buf);
		return -1;
	}
	for (;;) {
		n = read(fd, buf, BUFSZ);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			saved = errno;
			vb_sha256_final(h, hex);
			free(buf);
			errno = saved;
			return -1;
		}
		vb_sha256_update(h, buf, (size_t)n);
		total += n;
	}
	vb_sha256_final(h, hex);
	free(buf);
	return total;
}

/*
 * The job's whole file by pread from its start: the descriptor's offset
 * is the caller's (a reader, or age, moves it meanwhile).  A file still
 * being written is waited for at its end until the writer is done.
 */
static void *
hash_main(void *arg)
{
	struct vb_sha256_job *h = arg;
	int64_t total = 0;
	ssize_t n;

	if ((h->buf = malloc(BUFSZ)) == NULL ||
	    (h->sh = vb_sha256_new()) == NULL) {
		h->err = ENOMEM;
		free(h->buf);
		return NULL;
	}
	while ((n = vb_read_following(h->fd, h->buf, BUFSZ, (off_t)total,
	    h->done)) != 0) {
		if (n < 0) {
			h->err = errno;
			break;
		}
		vb_sha256_update(h->sh, h->buf, (size_t)n);
		total += n;
	}
	vb_sha256_final(h->sh, h->hex);
	free(h->buf);
	h->sh = NULL;
	h->buf = NULL;
	if (h->err == 0)
		h->bytes = total;
	return NULL;
}

void
vb_sha256_start(struct vb_sha256_job *h, int fd)
{
	vb_sha256_follow(h, fd, NULL);
}

void
vb_sha256_follow(struct vb_sha256_job *h, int fd, const int *done)
{
	h->fd = fd;
	h->done = done;
	h->err = 0;
	h->bytes = -1;
	h->threaded = pthread_create(&h->th, NULL, hash_main, h) == 0;
}

int64_t
vb_sha256_join(struct vb_sha256_job *h)
{
	if (h->threaded)
		pthread_join(h->th, NULL);
	else
		hash_main(h);	/* no thread to be had: now, in this one */
	errno = h->err;
	return h->bytes;
}

void
vb_page_hash(const void *page, size_t len, unsigned char out[VB_PAGE_HASH])
{
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, len, page);
	/* nettle truncates the digest to the length asked for. */
	sha256_digest(&ctx, VB_PAGE_HASH, out);
}
