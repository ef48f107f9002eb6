/*
 * unit/pages.c - unit tests of page indexes (pages.c): pages hashed as they
 * come, in pieces of any size, the same as whole.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "lib/vblib.h"

/* Pages hashed as they come, in pieces of any size. */
static void
page_index_feed(void **state)
{
	struct vb_pages a, b;
	unsigned char buf[3 * 4096], h[VB_PAGE_HASH];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7 + i / 4096);
	vb_pages_init(&a, 4096);
	assert_int_equal(vb_pages_feed(&a, buf, sizeof(buf)), 0);
	vb_pages_init(&b, 4096);
	for (i = 0; i < sizeof(buf); i += 1000)
		assert_int_equal(vb_pages_feed(&b, buf + i,
		    sizeof(buf) - i < 1000 ? sizeof(buf) - i : 1000), 0);
	assert_int_equal(a.count, 3);
	assert_int_equal(b.count, 3);
	assert_int_equal(b.plen, 0);
	assert_memory_equal(a.h, b.h, 3 * VB_PAGE_HASH);
	vb_page_hash(buf + 4096, 4096, h);
	assert_memory_equal(a.h + VB_PAGE_HASH, h, VB_PAGE_HASH);
	vb_pages_free(&a);
	vb_pages_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(page_index_feed),
	};

	return cmocka_run_group_tests_name("pages.c", tests, NULL, NULL);
}
