/*
 * unit/json.c - unit tests of JSON strings (json.c): quotes, controls and
 * invalid UTF-8 escaped, valid UTF-8 kept.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "lib/vblib.h"

/* vb_json_string of s, as a string. */
static char *
json_of(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	vb_json_string(fp, s);
	fclose(fp);
	return buf;
}

static void
json_strings(void **state)
{
	static const struct {
		const char	*in;
		const char	*out;
	} cases[] = {
		{ "plain", "\"plain\"" },
		{ "a \"q\" \\ b", "\"a \\\"q\\\" \\\\ b\"" },
		{ "tab\tnl\ncr\r\001", "\"tab\\tnl\\ncr\\u000d\\u0001\"" },
		{ "caf\xc3\xa9 \xe2\x82\xac", "\"caf\xc3\xa9 \xe2\x82\xac\"" },
		{ "bad \xff byte", "\"bad \\ufffd byte\"" },
		{ "c1 \xc2\x9b del \x7f", "\"c1 \\u009b del \\u007f\"" },
		{ "cut \xe2\x82", "\"cut \\ufffd\\ufffd\"" },
	};
	size_t i;
	char *got;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = json_of(cases[i].in);
		assert_string_equal(got, cases[i].out);
		free(got);
	}
	got = json_of(NULL);
	assert_string_equal(got, "null");
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_strings),
	};

	return cmocka_run_group_tests_name("json.c", tests, NULL, NULL);
}
