/*
 * fuzz-finish.c - libFuzzer target for vb-log --finish: its grammar
 * (--stage, --failed, --finish) on the input's first line, and the run's
 * records (the rest, as vb-log reads them on stdin) read, the failures
 * derived and the backup row and summary composed, under statuses the
 * input's first byte picks.  The row's message must come out one field
 * (no TAB, CR or newline), the exit status 0, 1 or 2, every failure
 * named by a stage: anything else aborts.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/vblib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The first line offered to each of the command line's parsers; the
 * copy a --failed kept its stage's name in, which f points into until
 * it is freed (argv's, in vb-log).
 */
static char *
grammar(struct vb_finish *f, const char *line)
{
	struct vb_metrics_run r = { .nstages = 0 };
	struct vb_finish g;
	char *a;

	if ((a = strdup(line)) == NULL)
		abort();
	(void)vb_stage_parse(&r, a);
	free(a);
	(void)vb_run_parse(&r, line);
	vb_finish_init(&g, "", -1, 0);
	(void)vb_finish_parse(&g, line);
	vb_finish_free(&g);
	/* A --failed kept: its stage is one the script may report. */
	if ((a = strdup(line)) == NULL)
		abort();
	if (vb_finish_fail_parse(f, a) == 0 && (f->nfail != 1 ||
	    f->fail[0].why == NULL))
		abort();
	return a;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const st[] = { "0", "1", "2", "137", "141" };
	static const char *const name[] = { "snapshot", "compress",
	    "offsite" };
	char *text, *nl, *kept = NULL, arg[32];
	struct vb_finish f;
	FILE *fp;
	int i;

	if (size < 1 || memchr(data, '\0', size) != NULL)
		return 0;
	if ((text = malloc(size)) == NULL)
		abort();
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	vb_finish_init(&f, "/db", 1.0, data[0] & 0x80 ? 2 : 0);
	f.point = data[0] & 0x40 ? 1 : 0;
	for (i = 0; i < 3; i++) {
		snprintf(arg, sizeof(arg), "%s=%s", name[i],
		    st[(data[0] >> (2 * i)) % 5]);
		if (vb_stage_parse(&f.run, arg) != 0)
			abort();
	}
	if ((nl = strchr(text, '\n')) != NULL) {
		*nl = '\0';
		kept = grammar(&f, text);
		*nl = '\n';
	}
	if (size > 1) {
		if ((fp = fmemopen(text, size - 1, "r")) == NULL)
			abort();
		vb_finish_records(&f, fp);
		fclose(fp);
	}
	vb_finish_derive(&f);
	f.elapsed_ms = 1000;
	vb_finish_compose(&f);
	if (f.code < 0 || f.code > 2 || strpbrk(f.message, "\t\r\n") != NULL)
		abort();
	for (i = 0; i < f.nfail; i++)
		if (f.fail[i].stage == NULL || f.fail[i].why == NULL)
			abort();
	vb_finish_free(&f);
	free(kept);
	free(text);
	return 0;
}
