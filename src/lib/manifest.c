/*
 * manifest.c - the MANIFEST that opens every vb archive.
 *
 * "key: value" lines describing the database inside: where it came from,
 * when, what SQLite says of it, its size and SHA-256.  Parsing is strict
 * (a restore trusts nothing it has not checked): required keys must be
 * present and well formed, no key may appear twice, unknown keys are
 * allowed so later versions can add some.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vblib.h"

/*
 * The rows: lines after the n bytes in buf (size len), and how many
 * tables had no room; returns the new length, or -1.
 */
static int
add_rows(const struct vb_manifest *m, char *buf, size_t len, int n)
{
	const char *p = m->rows.text;
	char name[512];
	int64_t count;
	int d;

	while (n >= 0 && vb_rows_next(&p, name, sizeof(name), &count)) {
		d = snprintf(buf + n, len - (size_t)n, "rows: %lld %s\n",
		    (long long)count, name);
		n = d < 0 || (size_t)d >= len - (size_t)n ? -1 : n + d;
	}
	if (n >= 0 && m->rows.omitted > 0) {
		d = snprintf(buf + n, len - (size_t)n, "rows-omitted: %d\n",
		    m->rows.omitted);
		n = d < 0 || (size_t)d >= len - (size_t)n ? -1 : n + d;
	}
	return n;
}

int
vb_manifest_format(const struct vb_manifest *m, char *buf, size_t len)
{
	int n, d;

	if (vb_has_ctl(m->source) || vb_has_ctl(m->host) ||
	    vb_has_ctl(m->integrity))
		return -1;
	n = snprintf(buf, len,
	    "format: %d\n"
	    "vb-version: %s\n"
	    "source: %s\n"
	    "host: %s\n"
	    "created: %s\n"
	    "sqlite-version: %s\n"
	    "page-size: %lld\n"
	    "page-count: %lld\n"
	    "journal-mode: %s\n"
	    "db-bytes: %lld\n"
	    "db-sha256: %s\n"
	    "integrity: %s\n"
	    "integrity-check: %s\n"
	    "kind: %s\n"
	    "%s%s%s",
	    VB_MANIFEST_FORMAT, VB_VERSION, m->source, m->host, m->created,
	    m->sqlite_version, (long long)m->page_size,
	    (long long)m->page_count, m->journal_mode,
	    (long long)m->db_bytes, m->db_sha256, m->integrity,
	    m->integrity_check, m->point ? "point" : m->delta ? "delta" :
	    "full",
	    m->name[0] != '\0' ? "name: " : "", m->name,
	    m->name[0] != '\0' ? "\n" : "");
	if (n < 0 || (size_t)n >= len)
		return -1;
	if (m->delta) {
		d = snprintf(buf + n, len - (size_t)n, "parent: %s\n"
		    "parent-db-sha256: %s\npages: %lld\nindex-sha256: %s\n"
		    "%s%s%s", m->parent, m->parent_db_sha256,
		    (long long)m->pages, m->index_sha256, m->point ?
		    "pages-sha256: " : "", m->point ? m->pages_sha256 : "",
		    m->point ? "\n" : "");
		if (d < 0 || (size_t)d >= len - (size_t)n)
			return -1;
		n += d;
	}
	return add_rows(m, buf, len, n);
}

/* Copies v into dst (size len); returns 0, or -1 if it does not fit. */
static int
take(char *dst, size_t len, const char *v)
{
	if (strlen(v) >= len)
		return -1;
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int
take_num(int64_t *dst, const char *v)
{
	uint64_t u;

	if (vb_parse_u64(v, &u) != 0 || u > INT64_MAX)
		return -1;
	*dst = (int64_t)u;
	return 0;
}

/* The keys this version reads, in the order set_field numbers them. */
static const char *known[] = { "format", "vb-version", "source", "host",
    "created", "sqlite-version", "page-size", "page-count", "journal-mode",
    "db-bytes", "db-sha256", "integrity", "integrity-check", "kind",
    "parent", "parent-db-sha256", "pages", "index-sha256", "name",
    "pages-sha256" };

/* Copies v into a hex SHA-256 field; 0, or -1 if it is not one. */
static int
take_sha(char dst[VB_SHA256_HEX], const char *v)
{
	return strlen(v) != VB_SHA256_HEX - 1 ||
	    strspn(v, "0123456789abcdef") != VB_SHA256_HEX - 1 ||
	    take(dst, VB_SHA256_HEX, v);
}

/*
 * A stem vb makes into dst (len): the backup's own (backup-<UTC time>,
 * pre-restore-<UTC time>), or with backup_only a parent's, which is a
 * backup's.  Returns 0, or -1 if v is not one.
 */
static int
take_stem(char *dst, size_t len, const char *v, int backup_only)
{
	struct vb_name nm;
	char name[80];

	if (strlen(v) >= len)
		return -1;
	snprintf(name, sizeof(name), "%s.db", v);
	if (vb_name_parse(name, &nm) != 0 || strcmp(nm.stem, v) != 0 ||
	    (backup_only && nm.kind != VB_KIND_BACKUP))
		return -1;
	return take(dst, len, v);
}

/* Sets known key i to v in m (format into *format); 0, or not if bad. */
static int
set_field(struct vb_manifest *m, int64_t *format, size_t i, const char *v)
{
	switch (i) {
	case 0: return take_num(format, v);
	case 1: return take(m->vb_version, sizeof(m->vb_version), v);
	case 2: return take(m->source, sizeof(m->source), v);
	case 3: return take(m->host, sizeof(m->host), v);
	case 4: return take(m->created, sizeof(m->created), v);
	case 5: return take(m->sqlite_version, sizeof(m->sqlite_version), v);
	case 6: return take_num(&m->page_size, v);
	case 7: return take_num(&m->page_count, v);
	case 8: return take(m->journal_mode, sizeof(m->journal_mode), v);
	case 9: return take_num(&m->db_bytes, v);
	case 10: return take_sha(m->db_sha256, v);
	case 11: return take(m->integrity, sizeof(m->integrity), v);
	case 12:
		return take(m->integrity_check, sizeof(m->integrity_check), v);
	case 13:
		if (strcmp(v, "full") != 0 && strcmp(v, "delta") != 0 &&
		    strcmp(v, "point") != 0)
			return -1;
		/* A point is a delta whose pages its parent's index proves. */
		m->point = strcmp(v, "point") == 0;
		m->delta = strcmp(v, "full") != 0;
		return 0;
	case 14: return take_stem(m->parent, sizeof(m->parent), v, 1);
	case 15: return take_sha(m->parent_db_sha256, v);
	case 16: return take_num(&m->pages, v);
	case 17: return take_sha(m->index_sha256, v);
	case 18: return take_stem(m->name, sizeof(m->name), v, 0);
	default: return take_sha(m->pages_sha256, v);
	}
}

/*
 * A delta's manifest must say everything its pages are applied by: the
 * parent and its database's hash, the page size and count (which make
 * db-bytes), how many pages it holds and its index's hash.
 */
static int
check_delta(const struct vb_manifest *m, char *why, size_t wlen)
{
	if (m->parent[0] == '\0' || m->parent_db_sha256[0] == '\0' ||
	    m->index_sha256[0] == '\0' || m->pages < 0 || (m->point &&
	    m->pages_sha256[0] == '\0')) {
		snprintf(why, wlen, "MANIFEST: a delta without parent, "
		    "parent-db-sha256, pages or index-sha256 (a point: or "
		    "pages-sha256)");
		return -1;
	}
	if (m->page_size < 512 || m->page_size > 65536 ||
	    (m->page_size & (m->page_size - 1)) != 0 || m->page_count < 0 ||
	    m->page_count > INT64_MAX / m->page_size ||
	    m->page_count * m->page_size != m->db_bytes ||
	    m->pages > m->page_count) {
		snprintf(why, wlen, "MANIFEST: a delta's page-size, "
		    "page-count, pages and db-bytes do not agree");
		return -1;
	}
	return 0;
}

/*
 * (long: one line per key, then the checks of the whole, at one label)
 */
int
vb_manifest_parse(const char *text, size_t len, struct vb_manifest *m,
    char *why, size_t wlen)
{
	unsigned seen = 0;
	char *copy, *line, *next, *v;
	uint64_t u;
	int64_t format = -1;
	size_t i;
	int rc = -1, bad;

	memset(m, 0, sizeof(*m));
	m->db_bytes = m->page_size = m->page_count = -1;
	if (memchr(text, '\0', len) != NULL) {
		snprintf(why, wlen, "MANIFEST holds a NUL byte");
		return -1;
	}
	if ((copy = strndup(text, len)) == NULL) {
		snprintf(why, wlen, "out of memory");
		return -1;
	}
	for (line = copy; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		/* Whoever made the archive wrote it: nothing for a terminal. */
		vb_clean_text(line);
		if ((v = strstr(line, ": ")) == NULL) {
			snprintf(why, wlen, "MANIFEST: not a \"key: value\" "
			    "line: %.60s", line);
			goto out;
		}
		*v = '\0';
		v += 2;
		/* One line per table: the only key that repeats. */
		if (strcmp(line, "rows") == 0) {
			if (vb_rows_add_line(&m->rows, v) != 0) {
				snprintf(why, wlen, "MANIFEST: bad rows: %.80s",
				    v);
				goto out;
			}
			continue;
		}
		if (strcmp(line, "rows-omitted") == 0) {
			if (vb_parse_u64(v, &u) != 0 || u > 1000000) {
				snprintf(why, wlen, "MANIFEST: bad "
				    "rows-omitted: %.80s", v);
				goto out;
			}
			m->rows.omitted = (int)u;
			continue;
		}
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(line, known[i]) == 0)
				break;
		if (i == sizeof(known) / sizeof(known[0]))
			continue;	/* a later version's key */
		if (seen & (1u << i)) {
			snprintf(why, wlen, "MANIFEST: %s given twice", line);
			goto out;
		}
		seen |= 1u << i;
		bad = set_field(m, &format, i, v);
		if (bad) {
			snprintf(why, wlen, "MANIFEST: bad %s: %.80s", line, v);
			goto out;
		}
	}
	if (format != VB_MANIFEST_FORMAT) {
		snprintf(why, wlen, "MANIFEST: format %lld is not one this "
		    "vb reads (%d)", (long long)format, VB_MANIFEST_FORMAT);
		goto out;
	}
	if (m->db_bytes < 0 || m->db_sha256[0] == '\0') {
		snprintf(why, wlen, "MANIFEST: db-bytes or db-sha256 missing");
		goto out;
	}
	if (m->delta && check_delta(m, why, wlen) != 0)
		goto out;
	rc = 0;
out:
	free(copy);
	return rc;
}
