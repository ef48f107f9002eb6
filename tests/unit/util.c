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
#include <string.h>

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

/* What 8-bit terminals and bidirectional text make of bytes. */
static void
clean_bytes(void **state)
{
	/* Bytes, not string literals: no bidi control in the source. */
	static const char rlo_c[] = { (char)0xe2, (char)0x80, (char)0xae, 0 },
	    lri_c[] = { (char)0xe2, (char)0x81, (char)0xa6, 0 },
	    lro_c[] = { (char)0xe2, (char)0x80, (char)0xad, 0 };
	char lone[] = "a\x9b" "31mb\xff\xc3", rlo[32], out[32],
	    ok[] = "\xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\x94";
	char buf[64];
	FILE *fp;

	(void)state;
	/* A lone CSI byte, 0xff, a lead byte cut short: each one '?'. */
	assert_int_equal(vb_is_clean(lone), 0);
	vb_clean_text(lone);
	assert_string_equal(lone, "a?31mb??");
	/* U+202E (right-to-left override): its three bytes one '?'. */
	snprintf(rlo, sizeof(rlo), "x%sexe.txt", rlo_c);
	vb_clean_text(rlo);
	assert_string_equal(rlo, "x?exe.txt");
	assert_int_equal(vb_is_clean(lri_c), 0);
	/* The euro sign, an emoji and an em dash are text. */
	assert_int_equal(vb_is_clean(ok), 1);
	snprintf(out, sizeof(out), "%s\xe2\x82\xac\x9b", lro_c);
	assert_non_null(fp = fmemopen(buf, sizeof(buf), "w"));
	assert_int_equal(vb_put_clean(fp, out), 0);
	fclose(fp);
	assert_string_equal(buf, "?\xe2\x82\xac?");
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

/* A path in a printed command is one word a shell reads back as it. */
static void
shell_quoted(void **state)
{
	char buf[VB_SHQ_LEN], small[8];

	(void)state;
	assert_string_equal(vb_shq("/var/backups/vb/backup-2026.tar.zst", buf,
	    sizeof(buf)), "/var/backups/vb/backup-2026.tar.zst");
	assert_string_equal(vb_shq("/data/app.db backups/x", buf,
	    sizeof(buf)), "'/data/app.db backups/x'");
	assert_string_equal(vb_shq("it's;$(rm -rf /)", buf, sizeof(buf)),
	    "'it'\\''s;$(rm -rf /)'");
	assert_string_equal(vb_shq("", buf, sizeof(buf)), "''");
	/* Cut to fit, still closed by its quote. */
	vb_shq("a b c d e f", small, sizeof(small));
	assert_int_equal(strlen(small), 7);
	assert_int_equal(small[6], '\'');
	vb_shq("x", small, 2);
	assert_string_equal(small, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(appends),
		cmocka_unit_test(clean_text),
		cmocka_unit_test(clean_bytes),
		cmocka_unit_test(numbers),
		cmocka_unit_test(shell_quoted),
	};

	return cmocka_run_group_tests_name("util.c", tests, NULL, NULL);
}
