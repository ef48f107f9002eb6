/*
 * fuzz-record.c - libFuzzer target for everything vb parses from a pipe
 * line or a file name: vb_record_parse(), then for a record the writer
 * (which must reproduce a line the parser accepts again, with the same
 * fields), vb_snapmeta_parse() and the readers of its facts (BackupLog's
 * rows come back as records) on its message and vb_name_parse() on its
 * path.  A round trip that changes a field aborts: that is a finding too.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/vblib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
roundtrip(const struct vb_record *r)
{
	struct vb_record again;
	char *buf = NULL, *line;
	size_t len = 0;
	FILE *fp;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		abort();
	if (vb_record_write(fp, r) != 0) {
		/* Only a path holding TAB/CR/LF may be refused, and the
		 * parser never yields one. */
		abort();
	}
	if (fclose(fp) != 0 || len == 0 || buf[len - 1] != '\n')
		abort();
	buf[len - 1] = '\0';
	if ((line = strdup(buf)) == NULL)
		abort();
	if (vb_record_parse(line, &again) != VB_LINE_RECORD ||
	    strcmp(again.path, r->path) != 0 || strcmp(again.op, r->op) != 0 ||
	    again.ok != r->ok || again.bytes != r->bytes ||
	    again.ms != r->ms || strcmp(again.sha256, r->sha256) != 0 ||
	    strcmp(again.time, r->time) != 0)
		abort();
	free(line);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vb_snapmeta meta;
	struct vb_record r;
	struct vb_name n;
	const char *base, *check;
	char *line, *msg;

	/* A line as the tools read it: no newline, no NUL inside. */
	if (memchr(data, '\n', size) != NULL || memchr(data, '\0', size))
		return 0;
	if ((line = malloc(size + 1)) == NULL)
		abort();
	memcpy(line, data, size);
	line[size] = '\0';
	switch (vb_record_parse(line, &r)) {
	case VB_LINE_RECORD:
		roundtrip(&r);
		if ((msg = strdup(r.msg)) == NULL)
			abort();
		vb_snapmeta_parse(msg, &meta);
		free(msg);
		check = vb_fact_checked(r.msg);
		if (check != NULL && strcmp(check, "integrity_check") != 0 &&
		    strcmp(check, "quick_check") != 0)
			abort();
		(void)vb_fact_point(r.msg);
		if (vb_fact_drill(r.msg, r.ok) < -1 ||
		    vb_fact_drill(r.msg, r.ok) > 2)
			abort();
		base = strrchr(r.path, '/');
		(void)vb_name_parse(base != NULL ? base + 1 : r.path, &n);
		break;
	case VB_LINE_PATH:
		(void)vb_name_parse(line, &n);
		break;
	case VB_LINE_BAD:
	case VB_LINE_END:
		break;
	}
	free(line);
	return 0;
}
