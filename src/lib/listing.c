/*
 * listing.c - lists on stdout, the way every vb listing prints them: a
 * table on a terminal, records when piped (to vb-log, awk, cut), and a
 * JSON array of objects with --json.
 *
 * The tool prints its own table rows and chooses its JSON keys; this file
 * decides the form and keeps the JSON well-formed (the commas, the array,
 * strings escaped by json.c), so every listing reads the same.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>

#include "vblib.h"

enum vb_list_form
vb_list_form(int json)
{
	return json ? VB_LIST_JSON : isatty(STDOUT_FILENO) ? VB_LIST_TABLE :
	    VB_LIST_RECORDS;
}

void
vb_list_begin(struct vb_list *l, int json)
{
	vb_list_begin_form(l, vb_list_form(json));
}

void
vb_list_begin_form(struct vb_list *l, enum vb_list_form form)
{
	l->form = form;
	l->objects = 0;
	l->fields = 0;
	if (l->form == VB_LIST_JSON)
		putchar('[');
}

void
vb_list_object(struct vb_list *l)
{
	if (l->objects > 0)
		putchar('}');
	printf("%s\n  {", l->objects++ > 0 ? "," : "");
	l->fields = 0;
}

/* The key of the next field, after a comma unless it is the first. */
static void
key(struct vb_list *l, const char *k)
{
	printf("%s\"%s\": ", l->fields++ > 0 ? ", " : "", k);
}

void
vb_list_str(struct vb_list *l, const char *k, const char *v)
{
	key(l, k);
	vb_json_string(stdout, v);
}

void
vb_list_int(struct vb_list *l, const char *k, int64_t v, int known)
{
	key(l, k);
	if (known)
		printf("%lld", (long long)v);
	else
		fputs("null", stdout);
}

void
vb_list_lit(struct vb_list *l, const char *k, const char *literal)
{
	key(l, k);
	fputs(literal, stdout);
}

int
vb_list_end(struct vb_list *l)
{
	if (l->form == VB_LIST_JSON)
		printf("%s]\n", l->objects > 0 ? "}\n" : "");
	return ferror(stdout) ? -1 : 0;
}
