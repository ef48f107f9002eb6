/*
 * unit/sign.c - unit tests of signatures (sign.c): the shape of an SSH
 * signature, armored text of a sane size, and nothing else.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/vblib.h"

/* A signature's shape: armored text of a sane size, nothing else. */
static void
signature_shape(void **state)
{
	char sig[2048], why[256];

	(void)state;
	snprintf(sig, sizeof(sig), "-----BEGIN SSH SIGNATURE-----\n%s\n"
	    "-----END SSH SIGNATURE-----\n", "U1NIU0lHAAAAAQAAADMAAAALc3NoLWVk"
	    "MjU1MTkAAAAgJGGT8rgjpUKD62EY5GiByU2Re7SweG8XH98LFUPCHecAAAACdmIA");
	assert_int_equal(vb_sig_shape(sig, strlen(sig), why, sizeof(why)), 0);
	assert_int_equal(vb_sig_shape(sig, 60, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "truncated"));
	assert_int_equal(vb_sig_shape(sig, VB_SIG_MAX + 1, why, sizeof(why)),
	    -1);
	assert_non_null(strstr(why, "oversized"));
	sig[40] = (char)0xc3;
	assert_int_equal(vb_sig_shape(sig, strlen(sig), why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not text"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(signature_shape),
	};

	return cmocka_run_group_tests_name("sign.c", tests, NULL, NULL);
}
