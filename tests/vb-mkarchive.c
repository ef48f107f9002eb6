/*
 * vb-mkarchive - writes tar archives of any shape, hostile ones included,
 * for the restore tests: entries with any name, type and content.
 *
 *   vb-mkarchive OUT.tar.zst SPEC...
 *   SPEC: file:NAME=PATH   a regular file with PATH's bytes
 *         text:NAME=TEXT   a regular file holding TEXT and a newline
 *         symlink:NAME=TO  hardlink:NAME=TO  dir:NAME  fifo:NAME
 * The compression follows OUT's name (.zst, .gz, .xz, else none).
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0)
		err(1, "%s", path);
	rewind(fp);
	if ((buf = malloc((size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, fp) != (size_t)n)
		err(1, "%s", path);
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

int
main(int argc, char *argv[])
{
	struct archive_entry *e;
	struct archive *a;
	char *spec, *name, *arg, *data;
	size_t len;
	int i;

	if (argc < 2)
		errx(2, "usage: vb-mkarchive out spec...");
	a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (strstr(argv[1], ".zst") != NULL)
		archive_write_add_filter_zstd(a);
	else if (strstr(argv[1], ".gz") != NULL)
		archive_write_add_filter_gzip(a);
	else if (strstr(argv[1], ".xz") != NULL)
		archive_write_add_filter_xz(a);
	if (archive_write_open_filename(a, argv[1]) != ARCHIVE_OK)
		errx(1, "%s", archive_error_string(a));
	for (i = 2; i < argc; i++) {
		spec = strdup(argv[i]);
		if ((name = strchr(spec, ':')) == NULL) {
			warnx("bad spec %s", argv[i]);
			exit(2);
		}
		*name++ = '\0';
		if ((arg = strchr(name, '=')) != NULL)
			*arg++ = '\0';
		e = archive_entry_new();
		archive_entry_set_pathname(e, name);
		archive_entry_set_perm(e, 0600);
		archive_entry_set_mtime(e, 1796086800, 0);
		data = NULL;
		len = 0;
		if (strcmp(spec, "file") == 0 || strcmp(spec, "text") == 0) {
			if (strcmp(spec, "file") == 0)
				data = slurp(arg, &len);
			else if (asprintf(&data, "%s\n", arg) < 0)
				err(1, "asprintf");
			else
				len = strlen(data);
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, (la_int64_t)len);
		} else if (strcmp(spec, "symlink") == 0) {
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, arg);
		} else if (strcmp(spec, "hardlink") == 0) {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, arg);
		} else if (strcmp(spec, "dir") == 0)
			archive_entry_set_filetype(e, AE_IFDIR);
		else if (strcmp(spec, "fifo") == 0)
			archive_entry_set_filetype(e, AE_IFIFO);
		else
			errx(2, "bad spec %s", argv[i]);
		if (archive_write_header(a, e) != ARCHIVE_OK)
			errx(1, "%s: %s", name, archive_error_string(a));
		if (len > 0 &&
		    archive_write_data(a, data, len) != (la_ssize_t)len)
			errx(1, "%s: %s", name, archive_error_string(a));
		archive_entry_free(e);
		free(data);
		free(spec);
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		errx(1, "%s", archive_error_string(a));
	archive_write_free(a);
	return 0;
}
