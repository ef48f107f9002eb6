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
		uint8_t *buf;
		long len;

		if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 ||
		    (len = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0)
			err(1, "%s", argv[i]);
		/* One byte more, so that an empty file still gets a buffer. */
		if ((buf = malloc((size_t)len + 1)) == NULL)
			err(1, "%s", argv[i]);
		if (fread(buf, 1, (size_t)len, fp) != (size_t)len)
			err(1, "%s: short read", argv[i]);
		fclose(fp);
		LLVMFuzzerTestOneInput(buf, (size_t)len);
		free(buf);
	}
	printf("%d inputs\n", argc - 1);
	return 0;
}
