/*
 * fuzz-archive.c - libFuzzer target for the archive-reading and
 * verification path of vb-restore: the bytes become an archive file,
 * vb_archive_verify() reads it as vb-restore does (tar through zstd, gzip,
 * xz or none; MANIFEST then one <stem>.db, or a delta's index and pages;
 * sizes and SHA-256 checked) and writes the database it finds to a second
 * file.  Any crash, leak or
 * undefined behaviour is a finding; a refusal is the expected outcome.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/vblib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int in = -1, out = -1;
	struct vb_archive_info info;
	struct vb_manifest m;
	struct vb_pages pages;
	char why[512];

	if (in == -1 && ((in = memfd_create("in", 0)) == -1 ||
	    (out = memfd_create("out", 0)) == -1))
		abort();
	if (ftruncate(in, 0) != 0 || ftruncate(out, 0) != 0 ||
	    pwrite(in, data, size, 0) != (ssize_t)size ||
	    lseek(in, 0, SEEK_SET) != 0 || lseek(out, 0, SEEK_SET) != 0)
		abort();
	/*
	 * With a stem, as vb-restore passes the archive's own (a delta is
	 * read only with one), and without; indexing the pages as
	 * vb-compress's read-back does, and not.
	 */
	vb_pages_init(&pages, 4096);
	(void)vb_archive_verify(in, NULL,
	    size > 0 && (data[size - 1] & 1) == 0 ?
	    "backup-2026-11-28T01-51-22-054Z" : NULL,
	    out, (size & 2) ? &pages : NULL, &m, &info, why, sizeof(why));
	if (size & 2)
		vb_pages_free(&pages);
	/* The manifest parser on the raw bytes too, bounded as in archive.c. */
	if (size <= VB_MANIFEST_MAX)
		(void)vb_manifest_parse((const char *)data, size, &m, why,
		    sizeof(why));
	return 0;
}
