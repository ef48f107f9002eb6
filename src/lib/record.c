/*
 * record.c - the records that flow between the tools.
 *
 * One line per artifact or event, eight TAB-separated fields:
 * path, operation, status, bytes, sha256, ms, time, message.  Parsing is
 * strict so that a tool never acts on a line it half understood; writing
 * refuses paths that would break the line format, and writes a message
 * with no control character a terminal would act on.
 *
 * A message's facts (the snapshot's check, a point's parent, a drill's
 * outcome, a signature) are "; key=value" fields this file writes and
 * reads back, never the prose around them: rewording a message breaks
 * no reader.  Rows older than a field are read by their words.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vblib.h"

#define NFIELDS	8

void
vb_record_init(struct vb_record *r, const char *op, const char *path)
{
	struct timespec now = vb_now();

	memset(r, 0, sizeof(*r));
	r->path = (char *)(path != NULL ? path : "-");
	snprintf(r->op, sizeof(r->op), "%s", op);
	r->ok = 0;
	r->bytes = -1;
	r->ms = -1;
	vb_iso_time(&now, r->time);
	r->msg = (char *)"";
}

/* Parses "-" as -1, or a decimal number; returns 0 or -1. */
static int
parse_num(const char *s, int64_t *out)
{
	uint64_t v;

	if (strcmp(s, "-") == 0) {
		*out = -1;
		return 0;
	}
	if (vb_parse_u64(s, &v) != 0 || v > INT64_MAX)
		return -1;
	*out = (int64_t)v;
	return 0;
}

static int
parse_sha(const char *s, char *out)
{
	size_t i;

	if (strcmp(s, "-") == 0) {
		out[0] = '\0';
		return 0;
	}
	if (strlen(s) != VB_SHA256_HEX - 1)
		return -1;
	for (i = 0; i < VB_SHA256_HEX - 1; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return -1;
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	out[i] = '\0';
	return 0;
}

enum vb_line
vb_record_parse(char *line, struct vb_record *r)
{
	char *f[NFIELDS], *p = line;
	struct timespec ts;
	int n;

	memset(r, 0, sizeof(*r));
	for (n = 0; n < NFIELDS; n++) {
		f[n] = p;
		p = strchr(p, '\t');
		if (p == NULL)
			break;
		*p++ = '\0';
	}
	if (n == 0) {
		/* No TAB: a plain path, as from ls. */
		if (*line == '\0' || strchr(line, '\r') != NULL)
			return VB_LINE_BAD;
		r->path = line;
		return VB_LINE_PATH;
	}
	if (n != NFIELDS - 1)
		return VB_LINE_BAD;
	/* A CR in the path or operation (a CRLF line, or a hostile one)
	 * would be a path no tool can write back out: refuse it here. */
	if (*f[0] == '\0' || *f[1] == '\0' || strlen(f[1]) >= sizeof(r->op) ||
	    vb_has_ctl(f[0]) || vb_has_ctl(f[1]))
		return VB_LINE_BAD;
	r->path = f[0];
	memcpy(r->op, f[1], strlen(f[1]) + 1);
	if (strcmp(f[2], "ok") == 0)
		r->ok = 1;
	else if (strcmp(f[2], "failed") == 0)
		r->ok = 0;
	else
		return VB_LINE_BAD;
	if (parse_num(f[3], &r->bytes) != 0 ||
	    parse_sha(f[4], r->sha256) != 0 ||
	    parse_num(f[5], &r->ms) != 0 || vb_parse_iso(f[6], &ts) != 0)
		return VB_LINE_BAD;
	memcpy(r->time, f[6], VB_ISO_LEN);
	r->msg = f[7];
	return VB_LINE_RECORD;
}

int
vb_record_write(FILE *fp, const struct vb_record *r)
{
	if (vb_has_ctl(r->path) || vb_has_ctl(r->op))
		return -1;
	fprintf(fp, "%s\t%s\t%s\t", r->path, r->op, r->ok ? "ok" : "failed");
	if (r->bytes >= 0)
		fprintf(fp, "%lld\t", (long long)r->bytes);
	else
		fputs("-\t", fp);
	fprintf(fp, "%s\t", r->sha256[0] != '\0' ? r->sha256 : "-");
	if (r->ms >= 0)
		fprintf(fp, "%lld\t", (long long)r->ms);
	else
		fputs("-\t", fp);
	fprintf(fp, "%s\t", r->time);
	/* A message may quote BackupLog or a remote: nothing for a
	 * terminal to act on, no TAB or newline to break the line. */
	vb_put_clean(fp, r->msg != NULL ? r->msg : "");
	putc('\n', fp);
	return ferror(fp) ? -1 : 0;
}

void
vb_clean_field(char *s)
{
	for (; (s = strpbrk(s, VB_CTL)) != NULL; s++)
		*s = ' ';
}

enum vb_line
vb_read_record(struct vb_reader *rd, FILE *fp, struct vb_record *r)
{
	ssize_t n;

	errno = 0;
	if ((n = getline(&rd->line, &rd->cap, fp)) == -1) {
		rd->err = ferror(fp) || errno == ENOMEM ? errno : 0;
		return VB_LINE_END;
	}
	if (n > 0 && rd->line[n - 1] == '\n')
		rd->line[--n] = '\0';
	free(rd->copy);
	/* Parsing cuts the copy into fields; the line stays whole. */
	if ((rd->copy = strdup(rd->line)) == NULL) {
		rd->err = ENOMEM;
		return VB_LINE_END;
	}
	return vb_record_parse(rd->copy, r);
}

void
vb_reader_free(struct vb_reader *rd)
{
	free(rd->line);
	free(rd->copy);
	memset(rd, 0, sizeof(*rd));
}

/* ---- the snapshot record's message: key=value words ---- */

int
vb_snapmeta_format(const struct vb_snapmeta *m, char *buf, size_t len)
{
	int n;

	/* source= last, taking the rest of the field: paths hold spaces. */
	n = snprintf(buf, len, "%s=%s journal=%s pages=%lld page_size=%lld "
	    "source=%s", m->check != NULL && strcmp(m->check,
	    "integrity_check") == 0 ? "integrity" : "quick_check",
	    m->integrity, m->journal, (long long)m->pages,
	    (long long)m->page_size, m->source);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

void
vb_snapmeta_parse(char *msg, struct vb_snapmeta *meta)
{
	char *p, *word, *eq;
	int64_t v;

	memset(meta, 0, sizeof(*meta));
	for (p = msg; p != NULL && *p != '\0'; ) {
		word = p;
		/* source= is last and takes the rest: paths hold spaces. */
		if (strncmp(word, "source=", 7) == 0) {
			meta->source = word + 7;
			break;
		}
		if ((p = strchr(p, ' ')) != NULL)
			*p++ = '\0';
		if ((eq = strchr(word, '=')) == NULL)
			continue;
		*eq++ = '\0';
		if (strcmp(word, "journal") == 0)
			meta->journal = eq;
		else if (strcmp(word, "pages") == 0 && parse_num(eq, &v) == 0)
			meta->pages = v;
		else if (strcmp(word, "page_size") == 0 &&
		    parse_num(eq, &v) == 0)
			meta->page_size = v;
		else if (strcmp(word, "quick_check") == 0 ||
		    strcmp(word, "integrity") == 0) {
			meta->check = strcmp(word, "integrity") == 0 ?
			    "integrity_check" : "quick_check";
			meta->integrity = eq;
		}
	}
}

/* ---- a restore record's message: "; key=value" fields ---- */

int
vb_msg_field(const char *msg, const char *key, char *out, size_t len)
{
	size_t k = strlen(key), n;
	const char *p, *end;

	for (p = msg; (p = strstr(p, key)) != NULL; p += k) {
		/* A whole field: at the start, or after "; " or ": ". */
		if ((p != msg && (p - msg < 2 || p[-1] != ' ' ||
		    (p[-2] != ';' && p[-2] != ':'))) || p[k] != '=')
			continue;
		p += k + 1;
		/* Up to the next "; " (undo= is written last: a path). */
		end = strstr(p, "; ");
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (n >= len)
			return -1;
		memcpy(out, p, n);
		out[n] = '\0';
		return 0;
	}
	return -1;
}

/* ---- the facts a row's message holds: "; key=value" fields ---- */

static const char *const checks[] = { "integrity_check", "quick_check" };
#define NCHECKS	(sizeof(checks) / sizeof(checks[0]))

void
vb_facts_format(const struct vb_facts *f, char *buf, size_t len)
{
	sqlite3_str *s = sqlite3_str_new(NULL);
	char *out;

	/* Always one field: a row of this release has a facts block. */
	sqlite3_str_appendf(s, "; " VB_FACT_CHECKED "=%s",
	    f->checked != NULL ? f->checked : "none");
	if (f->point_of != NULL)
		sqlite3_str_appendf(s, "; " VB_FACT_POINT "=%s", f->point_of);
	if (f->is_signed)
		sqlite3_str_appendall(s, "; " VB_FACT_SIGNED "=yes");
	out = sqlite3_str_finish(s);
	snprintf(buf, len, "%s", out != NULL ? out : "");
	sqlite3_free(out);
}

/*
 * key's value in msg's facts block: the "; key=value" fields right after
 * its first segment (the compression's name), up to the first segment
 * that is not one, so that free text after them (a reason, a warning
 * naming the application's tables) is never read as a fact.  Returns 0
 * with the value (cut to fit), 1 if the block has no key, -1 if the
 * message has no facts block (a row written before them).
 */
static int
block_field(const char *msg, const char *key, char *out, size_t len)
{
	const char *p = strstr(msg, "; "), *end, *eq;
	size_t k = strlen(key), n;
	int any = 0;

	for (; p != NULL; p = end) {
		p += 2;
		end = strstr(p, "; ");
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		eq = memchr(p, '=', n);
		if (eq == NULL || eq == p || strspn(p, "abcdefghijklmnopqrstu"
		    "vwxyz0123456789-") != (size_t)(eq - p))
			break;
		any = 1;
		if ((size_t)(eq - p) == k && strncmp(p, key, k) == 0) {
			n -= k + 1;
			snprintf(out, len, "%.*s", (int)n, eq + 1);
			return 0;
		}
	}
	return any ? 1 : -1;
}

const char *
vb_fact_checked(const char *msg)
{
	char v[32], words[64];
	size_t i;
	int r;

	if ((r = block_field(msg, VB_FACT_CHECKED, v, sizeof(v))) >= 0) {
		for (i = 0; r == 0 && i < NCHECKS; i++)
			if (strcmp(v, checks[i]) == 0)
				return checks[i];
		return NULL;
	}
	/* Rows written before the field: the words of those days. */
	for (i = 0; i < NCHECKS; i++) {
		snprintf(words, sizeof(words), VB_CHECKED_WORDS ";",
		    checks[i]);
		if (strstr(msg, words) != NULL)
			return checks[i];
	}
	return NULL;
}

int
vb_fact_point(const char *msg)
{
	char v[8];
	int r;

	if ((r = block_field(msg, VB_FACT_POINT, v, sizeof(v))) >= 0)
		return r == 0 && v[0] != '\0';
	/* Rows written before the field: the words of those days. */
	return strstr(msg, VB_POINT_WORDS) != NULL;
}

int
vb_fact_drill(const char *msg, int ok)
{
	const char *p, *last = NULL;
	char v[16];

	/*
	 * The last drill= field: it closes the message, after the reason a
	 * drill failed, which may name the application's tables.
	 */
	for (p = msg; (p = strstr(p, "; " VB_FACT_DRILL "=")) != NULL; p++)
		last = p;
	if (last != NULL && vb_msg_field(last, VB_FACT_DRILL, v,
	    sizeof(v)) == 0)
		return strcmp(v, "proven") == 0 ? 1 : strcmp(v, "failed") ==
		    0 ? 0 : strcmp(v, "error") == 0 ? 2 : -1;
	/* Rows written before the field: the words of those days. */
	if (strncmp(msg, VB_DRILL_WORDS, strlen(VB_DRILL_WORDS)) != 0)
		return -1;
	return ok && strncmp(msg, VB_DRILL_WORDS VB_DRILL_OK_WORDS,
	    strlen(VB_DRILL_WORDS VB_DRILL_OK_WORDS)) == 0 ? 1 : ok ? -1 : 0;
}
