/*
 * unit/util.c - unit tests of the small helpers (util.c): appending to a
 * fixed buffer without passing its end, control characters cleaned from
 * text, numbers parsed strictly and sizes said in units.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "lib/vblib.h"

/* The one way to add to a fixed buffer: cut to fit, never past it. */
static void
appends(void **state)
{
	char buf[16] = "", note[12] = "";

	(void)state;
	vb_appendf(buf, sizeof(buf), "%s", "abc");
	vb_appendf(buf, sizeof(buf), "-%d", 42);
	assert_string_equal(buf, "abc-42");
	vb_appendf(buf, sizeof(buf), "%s", "0123456789");
	assert_string_equal(buf, "abc-42012345678");
	vb_appendf(buf, sizeof(buf), "more");	/* full: unchanged */
	assert_string_equal(buf, "abc-42012345678");
	/* A note: "; " between sentences, none before the first. */
	vb_notef(note, sizeof(note), "one");
	assert_string_equal(note, "one");
	vb_notef(note, sizeof(note), "%s", "two");
	assert_string_equal(note, "one; two");
	vb_notef(note, sizeof(note), "three");
	assert_string_equal(note, "one; two; t");
	vb_notef(note, sizeof(note), "four");
	assert_string_equal(note, "one; two; t");
}

static void
clean_text(void **state)
{
	char s[] = "a\033]0;t\007\tb\nc\177d\xc2\x9b" "1m\xc2\xa0\xc3\xa9";

	(void)state;
	assert_int_equal(vb_is_clean("caf\xc3\xa9 \xc2\xa0 ok"), 1);
	assert_int_equal(vb_is_clean("a\033b"), 0);
	assert_int_equal(vb_is_clean("a\xc2\x85"), 0);
	vb_clean_text(s);
	/* A C1 control's two bytes are one '?'; U+00A0 and é stay. */
	assert_string_equal(s, "a?]0;t??b?c?d?1m\xc2\xa0\xc3\xa9");
}

static void
numbers(void **state)
{
	char buf[32];
	uint64_t v;

	(void)state;
	assert_int_equal(vb_parse_u64("42", &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(vb_parse_u64("-1", &v), -1);
	assert_int_equal(vb_parse_u64("", &v), -1);
	assert_int_equal(vb_parse_u64("4x", &v), -1);
	assert_int_equal(vb_parse_u64(" 4", &v), -1);
	vb_human_bytes(512, buf, sizeof(buf));
	assert_string_equal(buf, "512 B");
	vb_human_bytes(1536 * 1024, buf, sizeof(buf));
	assert_string_equal(buf, "1.5 MiB");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(appends),
		cmocka_unit_test(clean_text),
		cmocka_unit_test(numbers),
	};

	return cmocka_run_group_tests_name("util.c", tests, NULL, NULL);
}
