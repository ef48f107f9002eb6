/*
 * driver.c - runs a fuzz target over files without libFuzzer, so that
 * the kept inputs (seed corpus and every input that once crashed) replay
 * in the ordinary gcc build of `make check` and under ASan and valgrind.
 * Usage: fuzz-<target> FILE...   Exit 0 when every input ran.
 */
#define _GNU_SOURCE
#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		FILE *fp = fopen(argv[i], "rb");
		uint8_t *buf = NULL;
		size_t len = 0, n;
		uint8_t chunk[65536];

		if (fp == NULL)
			err(1, "%s", argv[i]);
		while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
			uint8_t *nb = realloc(buf, len + n);

			if (nb == NULL)
				err(1, "%s", argv[i]);
			buf = nb;
			memcpy(buf + len, chunk, n);
			len += n;
		}
		if (ferror(fp))
			err(1, "%s", argv[i]);
		fclose(fp);
		LLVMFuzzerTestOneInput(buf, len);
		free(buf);
	}
	printf("%d inputs\n", argc - 1);
	return 0;
}
