/*
 * scan.c - the backups in a directory, grouped by stem, newest first.
 *
 * Only regular files whose names vb makes count; everything else
 * (foreign files, subdirectories, symbolic links even when named like a
 * backup) is invisible here and so never touched.  Files of one stem (a
 * raw snapshot and its archive) are one backup.  The time comes from the
 * name, never from mtime.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vblib.h"

/* One vb file of a listing, its name parsed. */
struct found {
	struct vb_name		 nm;
	const struct vb_listed	*f;
};

/* Newest first; files of one stem end up side by side. */
static int
found_order(const void *a, const void *b)
{
	const struct found *x = a, *y = b;
	int c = vb_timespec_cmp(&y->nm.when, &x->nm.when);

	return c != 0 ? c : strcmp(y->nm.stem, x->nm.stem);
}

int
vb_listed_add(struct vb_listed **f, size_t *n, size_t *cap, const char *name,
    int64_t bytes)
{
	struct vb_listed *grown;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		if ((grown = realloc(*f, *cap * sizeof(**f))) == NULL)
			return -1;
		*f = grown;
	}
	snprintf((*f)[*n].name, sizeof((*f)[*n].name), "%s", name);
	(*f)[(*n)++].bytes = bytes;
	return 0;
}

int64_t
vb_listed_size(const struct vb_listed *f, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(f[i].name, name) == 0)
			return f[i].bytes;
	return -1;
}

/* Reads the directory's vb files into *out; returns the count or -1. */
static ssize_t
list_files(const char *dir, struct vb_listed **out, char *why, size_t wlen)
{
	struct vb_listed *f = NULL;
	struct dirent *de;
	struct vb_name nm;
	struct stat st;
	size_t n = 0, cap = 0;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		snprintf(why, wlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL)
			break;
		if (vb_name_parse(de->d_name, &nm) != 0 ||
		    strlen(de->d_name) >= sizeof(f->name))
			continue;
		/* The type from the listing saves a stat per file. */
		if (de->d_type == DT_UNKNOWN) {
			if (fstatat(dirfd(d), de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) != 0) {
				snprintf(why, wlen, "%s/%s: %s", dir,
				    de->d_name, strerror(errno));
				goto fail;
			}
			if (!S_ISREG(st.st_mode))
				continue;
		} else if (de->d_type != DT_REG)
			continue;
		/* -1: see vb_scan_sizes */
		if (vb_listed_add(&f, &n, &cap, de->d_name, -1) != 0) {
			snprintf(why, wlen, "out of memory");
			goto fail;
		}
	}
	if (errno != 0) {
		/* A listing cut short is not one to delete anything on. */
		snprintf(why, wlen, "%s: reading the directory: %s", dir,
		    strerror(errno));
		goto fail;
	}
	closedir(d);
	*out = f;
	return (ssize_t)n;
fail:
	closedir(d);
	free(f);
	return -1;
}

int
vb_group(const struct vb_listed *files, size_t nf, struct vb_backup **out,
    size_t *nout, char *why, size_t wlen)
{
	struct vb_backup *list = NULL, *b = NULL;
	struct found *fp = NULL;
	size_t i, nv = 0, n = 0;

	*out = NULL;
	*nout = 0;
	if (nf == 0)
		return 0;
	if ((fp = malloc(nf * sizeof(*fp))) == NULL) {
		snprintf(why, wlen, "out of memory");
		return -1;
	}
	for (i = 0; i < nf; i++)
		if (vb_name_parse(files[i].name, &fp[nv].nm) == 0) {
			fp[nv].f = &files[i];
			nv++;
		}
	if (nv == 0) {
		free(fp);
		return 0;
	}
	if ((list = calloc(nv, sizeof(*list))) == NULL) {
		snprintf(why, wlen, "out of memory");
		goto fail;
	}
	qsort(fp, nv, sizeof(*fp), found_order);
	for (i = 0; i < nv; i++) {
		if (b == NULL || strcmp(b->stem, fp[i].nm.stem) != 0) {
			b = &list[n++];
			memcpy(b->stem, fp[i].nm.stem, sizeof(b->stem));
			b->kind = fp[i].nm.kind;
			b->when = fp[i].nm.when;
		}
		if (b->nfiles == VB_MAXFILES) {
			snprintf(why, wlen, "too many files for %s", b->stem);
			goto fail;
		}
		b->files[b->nfiles].ext = fp[i].nm.ext;
		b->files[b->nfiles].encrypted = fp[i].nm.encrypted;
		b->files[b->nfiles].delta = fp[i].nm.delta;
		b->delta |= fp[i].nm.delta;
		b->files[b->nfiles].bytes = fp[i].f->bytes;
		memcpy(b->files[b->nfiles].name, fp[i].f->name,
		    sizeof(b->files[b->nfiles].name));
		b->nfiles++;
	}
	free(fp);
	*out = list;
	*nout = n;
	return 0;
fail:
	free(fp);
	free(list);
	return -1;
}

int
vb_scan(const char *dir, struct vb_backup **out, size_t *nout, char *why,
    size_t wlen)
{
	struct vb_listed *f = NULL;
	char what[512];
	ssize_t nf;
	int rc;

	*out = NULL;
	*nout = 0;
	if ((nf = list_files(dir, &f, why, wlen)) < 0)
		return -1;
	if ((rc = vb_group(f, (size_t)nf, out, nout, what,
	    sizeof(what))) != 0)
		snprintf(why, wlen, "%s: %s", dir, what);
	free(f);
	return rc;
}

int
vb_scan_sizes(const char *dir, struct vb_backup *list, size_t n)
{
	struct stat st;
	char path[4096];
	size_t i;
	int j, rc = 0;

	for (i = 0; i < n; i++)
		for (j = 0; j < list[i].nfiles; j++) {
			if (vb_path_join(path, sizeof(path), dir,
			    list[i].files[j].name) != 0 ||
			    lstat(path, &st) != 0) {
				rc = -1;
				continue;
			}
			list[i].files[j].bytes = st.st_size;
		}
	return rc;
}

ssize_t
vb_parent_of(const struct vb_backup *list, size_t n, size_t i)
{
	size_t j;

	if (list[i].parent[0] != '\0') {
		for (j = i + 1; j < n; j++)
			if (strcmp(list[j].stem, list[i].parent) == 0)
				return (ssize_t)j;
		return -1;
	}
	for (j = i + 1; j < n; j++)
		if (list[j].kind == VB_KIND_BACKUP)
			return (ssize_t)j;
	return -1;
}

int
vb_find_archive(const char *dir, const char *stem, char *name, size_t nlen,
    char *path, size_t plen)
{
	struct stat st;
	int i;

	for (i = 0; vb_archive_name(stem, i, NULL, name, nlen) == 0; i++)
		if (vb_path_join(path, plen, dir, name) == 0 &&
		    lstat(path, &st) == 0 && S_ISREG(st.st_mode))
			return 0;
	return -1;
}

int
vb_scan_asides(const char *dir, struct vb_listed **out, size_t *n)
{
	struct dirent *de;
	struct stat st;
	size_t cap = 0, len;
	DIR *d;

	*out = NULL;
	*n = 0;
	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		/* <snapshot>.failed-check, or encrypted since (.age). */
		if (strstr(de->d_name, VB_FAILED_SUFFIX) == NULL ||
		    (strcmp(de->d_name + len - strlen(VB_FAILED_SUFFIX),
		    VB_FAILED_SUFFIX) != 0 && (len < strlen(VB_FAILED_SUFFIX
		    VB_AGE_SUFFIX) || strcmp(de->d_name + len -
		    strlen(VB_FAILED_SUFFIX VB_AGE_SUFFIX), VB_FAILED_SUFFIX
		    VB_AGE_SUFFIX) != 0)) || fstatat(dirfd(d), de->d_name,
		    &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (vb_listed_add(out, n, &cap, de->d_name,
		    (int64_t)st.st_size) != 0) {
			closedir(d);
			free(*out);
			*out = NULL;
			return -1;
		}
	}
	closedir(d);
	return 0;
}
