/*
 * unit/sha256.c - unit tests of SHA-256 (sha256.c): the standard vectors,
 * whole, in pieces and from a file descriptor.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/vblib.h"

static const char sha_abc[] =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

static void
sha256_vectors(void **state)
{
	char hex[VB_SHA256_HEX];
	struct vb_sha256 *h;
	FILE *fp;

	(void)state;
	h = vb_sha256_new();
	vb_sha256_final(h, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	h = vb_sha256_new();
	vb_sha256_update(h, "a", 1);
	vb_sha256_update(h, "bc", 2);
	vb_sha256_final(h, hex);
	assert_string_equal(hex, sha_abc);

	fp = tmpfile();
	assert_non_null(fp);
	fputs("abc", fp);
	fflush(fp);
	lseek(fileno(fp), 0, SEEK_SET);
	assert_int_equal(vb_sha256_fd(fileno(fp), hex), 3);
	assert_string_equal(hex, sha_abc);
	fclose(fp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sha256_vectors),
	};

	return cmocka_run_group_tests_name("sha256.c", tests, NULL, NULL);
}
