/*
 * unit/checkrun.c - unit tests of vb-backup --check's lines (checkrun.c):
 * a tool's verdict line in columns as bash's read and printf made it, a
 * line that is no verdict skipped but counted, an unended last line not
 * read, and a line too long cut, never overflowing.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/vblib.h"

/* One line: TAB runs as one, FAIL-job a FAIL, other words no verdict. */
static void
format_line(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(vb_checkrun_format("ok\tlock\tis free", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "ok    lock              is free\n");
	assert_int_equal(vb_checkrun_format("\tFAIL-job\t\tbackups\ta\tb\t\t",
	    out, sizeof(out)), 1);
	assert_string_equal(out, "FAIL  backups           a\tb\n");
	assert_int_equal(vb_checkrun_format("warn\tuser", out, sizeof(out)),
	    0);
	assert_string_equal(out, "warn  user              \n");
	assert_int_equal(vb_checkrun_format("FAIL\ta-what-of-20-chars\tx",
	    out, sizeof(out)), 1);
	assert_string_equal(out, "FAIL  a-what-of-20-chars x\n");
	assert_int_equal(vb_checkrun_format("as\troot\t", out, sizeof(out)),
	    -1);
	assert_int_equal(vb_checkrun_format("", out, sizeof(out)), -1);
	assert_int_equal(vb_checkrun_format("oks\tx\ty", out, sizeof(out)),
	    -1);
	/* A small buffer is cut, never overrun. */
	assert_int_equal(vb_checkrun_format("ok\tlock\tis free", out, 8), 0);
	assert_string_equal(out, "ok    l");
}

/* A tool's answer: lines counted, FAILs, the last line, one unended. */
static void
answer_lines(void **state)
{
	const char in[] = "ok\ta\tone\nnoise\nFAIL\tb\ttwo\nas\tjob\tto";
	char *buf = NULL, last[64];
	size_t blen = 0;
	FILE *f = fmemopen((void *)in, sizeof(in) - 1, "r");
	FILE *out = open_memstream(&buf, &blen);
	int n;

	(void)state;
	assert_non_null(f);
	assert_non_null(out);
	assert_int_equal(vb_checkrun_lines(f, out, last, sizeof(last), &n), 1);
	fclose(out);
	assert_int_equal(n, 3);
	assert_string_equal(last, "as\tjob\tto");
	assert_string_equal(buf, "ok    a                 one\n"
	    "FAIL  b                 two\n");
	fclose(f);
	free(buf);
}

/* A line of 100 KiB: cut at 8 KiB, the next line read whole. */
static void
long_line(void **state)
{
	size_t len = 100 * 1024, blen = 0;
	char *in = malloc(len + 32), *buf = NULL, last[16];
	FILE *f, *out;
	int n;

	(void)state;
	assert_non_null(in);
	memset(in, 'x', len);
	snprintf(in, len, "warn\tw\t");
	in[7] = 'x';
	snprintf(in + len, 32, "\nok\tz\tend\n");
	f = fmemopen(in, strlen(in), "r");
	out = open_memstream(&buf, &blen);
	assert_non_null(f);
	assert_non_null(out);
	assert_int_equal(vb_checkrun_lines(f, out, last, sizeof(last), &n), 0);
	fclose(out);
	assert_int_equal(n, 2);
	assert_string_equal(last, "ok\tz\tend");
	assert_true(blen > 8000 && blen < 8300);
	assert_non_null(strstr(buf, "\nok    z                 end\n"));
	assert_memory_equal(buf, "warn  w                 xxx", 27);
	fclose(f);
	free(buf);
	free(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(format_line),
		cmocka_unit_test(answer_lines),
		cmocka_unit_test(long_line),
	};

	return cmocka_run_group_tests_name("checkrun.c", tests, NULL, NULL);
}
