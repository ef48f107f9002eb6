/*
 * unit/retention.c - unit tests of retention (retention.c): durations
 * parsed, the newest N and the weekly rule, and every kept delta's chain
 * kept whole; the policy in words (prune.c).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/vblib.h"
#include "help.h"

static void
durations(void **state)
{
	struct vb_duration d;

	(void)state;
	assert_int_equal(vb_parse_duration("7d", &d), 0);
	assert_int_equal(d.days, 7);
	assert_int_equal(vb_parse_duration("1y6m2w36h", &d), 0);
	assert_int_equal(d.years, 1);
	assert_int_equal(d.months, 6);
	assert_int_equal(d.days, 14);
	assert_int_equal(d.hours, 36);
	assert_int_equal(vb_parse_duration("", &d), -1);
	assert_int_equal(vb_parse_duration("7", &d), -1);
	assert_int_equal(vb_parse_duration("d", &d), -1);
	assert_int_equal(vb_parse_duration("-1d", &d), -1);
	assert_int_equal(vb_parse_duration("7x", &d), -1);
	assert_int_equal(vb_parse_duration("7d ", &d), -1);
}

static void
retention_rules(void **state)
{
	struct vb_backup list[40];
	struct vb_policy p;
	int i, kept;

	(void)state;
	/* 2026-01-01T01:00:00Z, a Thursday. */
	days(list, 40, 1767229200, VB_KIND_BACKUP);
	memset(&p, 0, sizeof(p));
	p.keep = 5;
	vb_retention(list, 40, &p);
	for (i = 0, kept = 0; i < 40; i++)
		kept += list[i].keep != VB_DROP;
	assert_int_equal(kept, 5);
	assert_true(list[0].keep && list[4].keep && !list[5].keep);

	/* Weekly: the newest of each of the last 3 ISO weeks. */
	memset(&p, 0, sizeof(p));
	p.weekly = 3;
	vb_retention(list, 40, &p);
	for (i = 0, kept = 0; i < 40; i++)
		kept += list[i].keep != VB_DROP;
	assert_int_equal(kept, 3);
	/* Newest: Monday 2026-02-09; then Sun 02-08 and Sun 02-01. */
	assert_true(list[0].keep && list[1].keep && list[8].keep);

	/* A policy of nothing still keeps the newest. */
	memset(&p, 0, sizeof(p));
	vb_retention(list, 40, &p);
	assert_true(list[0].keep);
	for (i = 1; i < 40; i++)
		assert_false(list[i].keep);
}

/* A kept delta keeps its chain: its named parent, else the one before. */
static void
retention_chains(void **state)
{
	struct vb_backup list[10];
	struct vb_policy p;
	int i;

	(void)state;
	days(list, 10, 1767229200, VB_KIND_BACKUP);
	/* Oldest first: b9 full, b8..b3 deltas, b2 full, b1 b0 deltas. */
	for (i = 0; i < 10; i++)
		list[i].delta = i != 9 && i != 2;
	memset(&p, 0, sizeof(p));
	p.keep = 1;
	vb_retention(list, 10, &p);
	assert_int_equal(list[0].keep, VB_KEEP_POLICY);
	assert_int_equal(list[1].keep, VB_KEEP_PARENT);
	assert_int_equal(list[2].keep, VB_KEEP_PARENT);
	/* No index names b0's parent: it may lean on any back to b2. */
	assert_int_equal(list[2].needed_by, 0);
	for (i = 3; i < 10; i++)
		assert_false(list[i].keep);
	/* A parent named by its index wins over the one before. */
	snprintf(list[0].parent, sizeof(list[0].parent), "b5");
	list[1].delta = 0;
	vb_retention(list, 10, &p);
	assert_int_equal(list[5].keep, VB_KEEP_PARENT);
	assert_false(list[1].keep);
	/* b5 is a delta too: its chain down to b9 is kept. */
	for (i = 6; i < 10; i++)
		assert_int_equal(list[i].keep, VB_KEEP_PARENT);
	assert_false(list[2].keep || list[3].keep || list[4].keep);
}

/* The policy in words: every rule given, hours included, in one order. */
static void
policy_words(void **state)
{
	struct vb_policy p = { .keep = 3, .hourly = 24, .monthly = 12 };
	char buf[1024];

	(void)state;
	vb_policy_words(&p, buf, sizeof(buf));
	assert_string_equal(buf, "keep the newest 3 backups, the newest of "
	    "each of the last 24 hours, the newest of each of the last 12 "
	    "months (any rule keeps a backup); never the newest one");
	p = (struct vb_policy){ .keep = 7, .daily = 7, .weekly = 4,
	    .within = 1, .within_s = "2w" };
	vb_policy_words(&p, buf, sizeof(buf));
	assert_string_equal(buf, "keep the newest 7 backups, the newest of "
	    "each of the last 7 days, the newest of each of the last 4 weeks, "
	    "every backup within 2w of the newest (any rule keeps a backup); "
	    "never the newest one");
	/* Cut to fit, never past the buffer. */
	vb_policy_words(&p, buf, 20);
	assert_int_equal(strlen(buf), 19);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations),
		cmocka_unit_test(retention_rules),
		cmocka_unit_test(retention_chains),
		cmocka_unit_test(policy_words),
	};

	return cmocka_run_group_tests_name("retention.c", tests, NULL, NULL);
}
