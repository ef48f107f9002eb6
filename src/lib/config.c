/*
 * config.c - defaults from /etc/vb.conf, overridden by the environment.
 *
 * The file holds shell KEY=value lines (the same file vb-backup sources);
 * this reader takes the plain subset: comments, blank lines, an optional
 * "export ", and values bare or in single or double quotes.  It never
 * runs anything.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vb.h"

#define MAXKEYS	64

static struct {
	char	*key;
	char	*val;
} conf[MAXKEYS];
static int nconf = -1;

/* Parses one line in place; returns 0 and sets key, val, or -1. */
static int
parse_line(char *p, char **key, char **val)
{
	char *k, *v, *end, q;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '#' || *p == '\0')
		return -1;
	if (strncmp(p, "export ", 7) == 0)
		p += 7;
	k = p;
	while (isalnum((unsigned char)*p) || *p == '_')
		p++;
	if (p == k || *p != '=')
		return -1;
	*p++ = '\0';
	if (*p == '"' || *p == '\'') {
		q = *p++;
		v = p;
		if ((end = strchr(p, q)) == NULL)
			return -1;
		*end = '\0';
	} else {
		v = p;
		while (*p != '\0' && !isspace((unsigned char)*p) && *p != '#')
			p++;
		*p = '\0';
	}
	*key = k;
	*val = v;
	return 0;
}

static void
load(void)
{
	const char *path = getenv("VB_CONF");
	char *line = NULL, *k, *v;
	size_t cap = 0;
	FILE *fp;
	int i;

	nconf = 0;
	if (path == NULL || *path == '\0')
		path = "/etc/vb.conf";
	if ((fp = fopen(path, "re")) == NULL)
		return;
	while (getline(&line, &cap, fp) != -1 && nconf < MAXKEYS) {
		line[strcspn(line, "\n")] = '\0';
		if (parse_line(line, &k, &v) != 0)
			continue;
		/* A later line wins, as in the shell. */
		for (i = 0; i < nconf; i++)
			if (strcmp(conf[i].key, k) == 0)
				break;
		if (i == nconf) {
			if ((conf[i].key = strdup(k)) == NULL)
				break;
			nconf++;
		} else
			free(conf[i].val);
		conf[i].val = strdup(v);
	}
	free(line);
	fclose(fp);
}

const char *
vb_config(const char *key)
{
	const char *v = getenv(key);
	int i;

	if (v != NULL && *v != '\0')
		return v;
	if (nconf == -1)
		load();
	for (i = 0; i < nconf; i++)
		if (strcmp(conf[i].key, key) == 0 && conf[i].val != NULL &&
		    *conf[i].val != '\0')
			return conf[i].val;
	return NULL;
}
