/*
 * fuzz-catalog.c - libFuzzer target for the signed catalog's parser
 * (catalog.c), which reads what a remote holds: vb_catalog_parse(), then
 * for a catalog it accepts the writer, whose text must parse again to
 * the same catalog.  A round trip that changes it aborts.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/vblib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vb_catalog c, again;
	char why[512], *text;
	ssize_t n;
	size_t i;

	if (vb_catalog_parse((const char *)data, size, &c, why,
	    sizeof(why)) != 0)
		return 0;
	if ((n = vb_catalog_format(&c, &text)) < 0)
		abort();
	if (vb_catalog_parse(text, (size_t)n, &again, why, sizeof(why)) != 0 ||
	    again.seq != c.seq || again.n != c.n ||
	    strcmp(again.written, c.written) != 0)
		abort();
	for (i = 0; i < c.n; i++)
		if (strcmp(again.e[i].name, c.e[i].name) != 0 ||
		    strcmp(again.e[i].sha256, c.e[i].sha256) != 0 ||
		    strcmp(again.e[i].when, c.e[i].when) != 0 ||
		    again.e[i].bytes != c.e[i].bytes ||
		    vb_catalog_find(&c, c.e[i].name) != &c.e[i])
			abort();
	free(text);
	vb_catalog_free(&again);
	vb_catalog_free(&c);
	return 0;
}
