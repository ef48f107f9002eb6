/*
 * jobprune.c - vb-prune's and vb-offsite's retention run and said: one
 * prune record per file on stdout, why on stderr when one failed.
 */
#define _GNU_SOURCE
#include <err.h>
#include <stdio.h>

#include "vblib.h"

/* A prune record for each file, and why on stderr when it failed. */
static int
prune_said(void *arg, const char *path, int ok, int64_t bytes,
    const char *msg)
{
	(void)arg;
	if (!ok)
		warnx("%s: %s", path, msg);
	return vb_emit("prune", path, ok, bytes, NULL, vb_monotonic_ms(),
	    msg) != 0;
}

static void
prune_noted(void *arg, const char *text)
{
	(void)arg;
	warnx("%s", text);
}

int
vb_prune_emit(const char *dir, const char *remote,
    const struct vb_policy *p, int dry)
{
	struct vb_prune_out out = { prune_said, prune_noted, NULL };
	char why[1024];
	int64_t t0 = vb_monotonic_ms();
	int rc;

	if ((rc = vb_prune_apply(dir, remote, p, dry, &out, why,
	    sizeof(why))) >= 0)
		return rc;
	warnx("%s", why);
	vb_emit("prune", "-", 0, -1, NULL, t0, why);
	return 1;
}
