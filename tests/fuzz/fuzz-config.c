/*
 * fuzz-config.c - libFuzzer target for the vb.conf reader (config.c): any
 * bytes as the file.  Whatever it accepts must be printable by
 * vb_config_print() and, written back as quoted KEY=value lines, read
 * again without an error into the same values; no accepted value may hold
 * a TAB, CR or newline.  A difference aborts: that is a finding too.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/stat.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/vblib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Loads the bytes as $VB_CONF (a memfd); returns the print of it. */
static char *
load(const void *data, size_t size, int *nerr)
{
	static int fd = -1;
	char path[64], *buf = NULL;
	size_t len = 0;
	FILE *fp;

	if (fd == -1) {
		/* Root reads only a file of its own no one else may write
		 * (a memfd is made 0777). */
		if ((fd = memfd_create("vb.conf", 0)) == -1 ||
		    fchmod(fd, 0600) != 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		setenv("VB_CONF", path, 1);
	}
	if (ftruncate(fd, 0) != 0 || (size > 0 &&
	    pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	vb_config_unload();
	*nerr = vb_config_load();
	if ((fp = open_memstream(&buf, &len)) == NULL ||
	    vb_config_print(fp) != 0 || fclose(fp) != 0)
		abort();
	return buf;
}

/* The print as a file in quotes: KEY='v', or KEY="v" with escapes. */
static char *
quoted(const char *print)
{
	char *buf = NULL, *copy, *line, *save = NULL, *eq;
	const char *v;
	size_t len = 0;
	FILE *fp;

	if ((fp = open_memstream(&buf, &len)) == NULL ||
	    (copy = strdup(print)) == NULL)
		abort();
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if ((eq = strchr(line, '=')) == NULL)
			abort();
		*eq = '\0';
		if (vb_has_ctl(eq + 1))
			abort();
		if (strchr(eq + 1, '\'') == NULL) {
			fprintf(fp, "%s='%s'\n", line, eq + 1);
			continue;
		}
		fprintf(fp, "%s=\"", line);
		for (v = eq + 1; *v != '\0'; v++) {
			if (strchr("\"\\$`", *v) != NULL)
				putc('\\', fp);
			putc(*v, fp);
		}
		fputs("\"\n", fp);
	}
	free(copy);
	if (fclose(fp) != 0)
		abort();
	return buf;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int cleared;
	char *first, *file, *again;
	int nerr;

	if (!cleared) {
		/* The file alone: no setting of the machine's environment. */
		static const char *keys[] = { "DB_PATH", "BACKUP_DIR",
		    "MAX_BACKUPS", "KEEP_DAILY", "KEEP_WITHIN", "KEEP_WEEKLY",
		    "KEEP_MONTHLY", "COMPRESSION", "ENCRYPT_TO", "OFFSITE",
		    "METRICS_FILE", "ON_SUCCESS", "ON_FAILURE", "HOOK_TIMEOUT",
		    "BACKUP_INTERVAL", "VB_BUSY_MS", "NIGHTLY_AT",
		    "KEEP_HOURLY", "COMPRESSION_THREADS" };
		size_t i;

		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			unsetenv(keys[i]);
		cleared = 1;
	}
	first = load(data, size, &nerr);
	if (nerr > 0 && vb_config_error(nerr - 1) == NULL)
		abort();
	file = quoted(first);
	again = load(file, strlen(file), &nerr);
	if (nerr != 0 || strcmp(first, again) != 0)
		abort();
	free(first);
	free(file);
	free(again);
	return 0;
}
