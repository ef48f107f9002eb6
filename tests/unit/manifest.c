/*
 * unit/manifest.c - unit tests of the MANIFEST (manifest.c): written and
 * read back the same, a later version's keys ignored, every malformed one
 * refused with its reason; row counts and a delta's fields, and delta names.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/vblib.h"

/* A manifest as vb-compress writes one. */
static void
sample_manifest(struct vb_manifest *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->vb_version, sizeof(m->vb_version), "%s", VB_VERSION);
	snprintf(m->source, sizeof(m->source), "/var/lib/my app/app.db");
	snprintf(m->host, sizeof(m->host), "app1");
	snprintf(m->created, sizeof(m->created), "2026-11-27T01:00:00.123Z");
	snprintf(m->sqlite_version, sizeof(m->sqlite_version), "3.40.1");
	m->page_size = 4096;
	m->page_count = 15;
	snprintf(m->journal_mode, sizeof(m->journal_mode), "wal");
	m->db_bytes = 61440;
	memset(m->db_sha256, 'a', VB_SHA256_HEX - 1);
	snprintf(m->integrity, sizeof(m->integrity), "ok");
	snprintf(m->integrity_check, sizeof(m->integrity_check),
	    "quick_check");
}

static void
manifest_round_trip(void **state)
{
	struct vb_manifest m, back;
	char text[4096], why[256];
	int n;

	(void)state;
	sample_manifest(&m);
	n = vb_manifest_format(&m, text, sizeof(text));
	assert_true(n > 0);
	assert_int_equal(vb_manifest_parse(text, (size_t)n, &back, why,
	    sizeof(why)), 0);
	assert_memory_equal(&m, &back, sizeof(m));
	/* A later version's key is ignored; the order does not matter. */
	snprintf(text, sizeof(text), "db-bytes: 5\nnew-key: x\nformat: 1\n"
	    "db-sha256: %s\n", "0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef");
	assert_int_equal(vb_manifest_parse(text, strlen(text), &back, why,
	    sizeof(why)), 0);
	assert_int_equal(back.db_bytes, 5);
	assert_int_equal(back.page_size, -1);
	/* Too small a buffer is an error, not a cut manifest. */
	assert_int_equal(vb_manifest_format(&m, text, 40), -1);
}

#define Z32	"00000000000000000000000000000000"
#define Z63	Z32 "0000000000000000000000000000000"
#define Z64	Z32 Z32

static void
manifest_refusals(void **state)
{
	static const struct {
		const char	*text;
		const char	*want;
	} bad[] = {
		{ "format: 2\ndb-bytes: 1\ndb-sha256: " Z64 "\n", "format 2" },
		{ "db-bytes: 1\ndb-sha256: " Z64 "\n", "format -1" },
		{ "format: 1\ndb-sha256: " Z64 "\n", "db-bytes or db-sha256" },
		{ "format: 1\nformat: 1\ndb-bytes: 1\ndb-sha256: " Z64 "\n",
		    "format given twice" },
		{ "format: 1\ndb-bytes: x\ndb-sha256: " Z64 "\n",
		    "bad db-bytes" },
		{ "format: 1\ndb-bytes: 1\ndb-sha256: " Z63 "\n",
		    "bad db-sha256" },
		{ "format: 1\ndb-bytes: 1\ndb-sha256: " Z64 "\nnonsense\n",
		    "not a \"key: value\" line" },
	};
	struct vb_manifest m;
	char text[512], why[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%s", bad[i].text);
		assert_int_equal(vb_manifest_parse(text, strlen(text), &m, why,
		    sizeof(why)), -1);
		if (strstr(why, bad[i].want) == NULL)
			fail_msg("\"%s\": \"%s\" lacks \"%s\"", bad[i].text,
			    why, bad[i].want);
	}
	assert_int_equal(vb_manifest_parse("format: 1\0x", 11, &m, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "NUL"));
}

/* Row counts go into the manifest and come back, names with spaces too;
 * a bad rows line is refused. */
static void
manifest_rows(void **state)
{
	struct vb_manifest m, back;
	char text[4096], why[256];
	int n;

	(void)state;
	sample_manifest(&m);
	assert_int_equal(vb_rows_add_line(&m.rows, "7158278 orders"), 0);
	assert_int_equal(vb_rows_add_line(&m.rows, "0 my table"), 0);
	assert_int_equal(vb_rows_add_line(&m.rows, "x orders"), -1);
	assert_int_equal(vb_rows_add_line(&m.rows, "12"), -1);
	m.rows.omitted = 2;
	n = vb_manifest_format(&m, text, sizeof(text));
	assert_true(n > 0);
	assert_non_null(strstr(text, "rows: 7158278 orders\nrows: 0 my "
	    "table\nrows-omitted: 2\n"));
	assert_int_equal(vb_manifest_parse(text, (size_t)n, &back, why,
	    sizeof(why)), 0);
	assert_memory_equal(&m, &back, sizeof(m));
	assert_int_equal(vb_rows_get(&back.rows, "my table"), 0);
	assert_int_equal(vb_rows_get(&back.rows, "orders"), 7158278);
	assert_int_equal(vb_rows_get(&back.rows, "order"), -1);
	snprintf(text + n, sizeof(text) - (size_t)n, "rows: many orders\n");
	assert_int_equal(vb_manifest_parse(text, strlen(text), &back, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "bad rows"));
}

/* Delta names, and a delta's manifest: what it must say. */
static void
delta_names_and_manifest(void **state)
{
	struct vb_manifest m, back;
	struct vb_name nm;
	char text[4096], why[256], name[128];
	int n;

	(void)state;
	assert_int_equal(vb_name_parse("backup-2026-11-27T01-00-00-000Z"
	    ".delta.tar.zst.age", &nm), 0);
	assert_true(nm.delta && nm.encrypted && nm.ext == VB_EXT_TAR_ZST);
	assert_string_equal(nm.stem, "backup-2026-11-27T01-00-00-000Z");
	assert_int_equal(vb_name_format(&nm, name, sizeof(name)), 0);
	assert_string_equal(name, "backup-2026-11-27T01-00-00-000Z"
	    ".delta.tar.zst.age");
	/* No raw delta, no pre-restore delta. */
	assert_int_equal(vb_name_parse("backup-2026-11-27T01-00-00-000Z"
	    ".delta.db", &nm), -1);
	assert_int_equal(vb_name_parse("pre-restore-2026-11-27T01-00-00-000Z"
	    ".delta.tar.zst", &nm), -1);

	sample_manifest(&m);
	m.delta = 1;
	snprintf(m.parent, sizeof(m.parent), "backup-2026-11-26T01-00-00-000Z");
	memset(m.parent_db_sha256, 'b', VB_SHA256_HEX - 1);
	memset(m.index_sha256, 'c', VB_SHA256_HEX - 1);
	m.pages = 3;
	n = vb_manifest_format(&m, text, sizeof(text));
	assert_true(n > 0);
	assert_non_null(strstr(text, "kind: delta\nparent: backup-"));
	assert_int_equal(vb_manifest_parse(text, (size_t)n, &back, why,
	    sizeof(why)), 0);
	assert_memory_equal(&m, &back, sizeof(m));
	/* A delta whose sizes do not agree, or without a parent. */
	m.db_bytes += 1;
	n = vb_manifest_format(&m, text, sizeof(text));
	assert_int_equal(vb_manifest_parse(text, (size_t)n, &back, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "do not agree"));
	m.db_bytes -= 1;
	snprintf(m.parent, sizeof(m.parent), "../etc/passwd");
	n = vb_manifest_format(&m, text, sizeof(text));
	assert_int_equal(vb_manifest_parse(text, (size_t)n, &back, why,
	    sizeof(why)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(manifest_round_trip),
		cmocka_unit_test(manifest_refusals),
		cmocka_unit_test(manifest_rows),
		cmocka_unit_test(delta_names_and_manifest),
	};

	return cmocka_run_group_tests_name("manifest.c", tests, NULL, NULL);
}
