/* mark.c - the "being staged" mark: deploy and switch never interleave. */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "bg.h"

const char *
bg_mark_path(const struct bg_conf *c, int color, char *buf, size_t len)
{
	int n;

	n = snprintf(buf, len, "%s/.bg-staging.%s", c->app, bg_color_name(color));
	if (n < 0 || (size_t)n >= len)
		return NULL;
	return buf;
}

int
bg_marked(const struct bg_conf *c, int color)
{
	char path[BG_PATH_MAX + 32];
	struct stat st;

	if (bg_mark_path(c, color, path, sizeof path) == NULL) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (lstat(path, &st) == 0)
		return 1;
	return errno == ENOENT ? 0 : -1;
}
