/* record.c - the crash record: which flip was under way.
 *
 * bgflip writes it (atomically, next to the lock) before it changes
 * anything and removes it once the flip is verified and logged, so a
 * bgflip killed at any point leaves it behind and the next one, under the
 * lock, knows what to finish or undo. Two lines:
 *
 *	bgflip reload blue green
 *	2026-11-26T17:03:12Z blue green alice 4f2a9c1
 *
 * the mode, from (or "-" when there was no live color yet) and to; then the
 * history line the flip will append, so that finishing it logs the flip
 * exactly once (see bg_history_last). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bg.h"

static int
word(const char **p, const char *end, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(end - *p) < n || memcmp(*p, w, n) != 0)
		return -1;
	*p += n;
	return 0;
}

/* A color or "-" (-1) followed by sep. */
static int
color_field(const char **p, const char *end, char sep, int *color)
{
	const char *q = *p;

	while (q < end && *q != sep)
		q++;
	if (q == end)
		return -1;
	if (q - *p == 1 && **p == '-')
		*color = -1;
	else if ((*color = bg_color_parse(*p, (size_t)(q - *p))) < 0)
		return -1;
	*p = q + 1;
	return 0;
}

int
bg_record_parse(const char *s, size_t n, struct bg_record *r)
{
	const char *p = s, *end = s + n, *nl;
	size_t i, len;

	if (word(&p, end, "bgflip ") < 0)
		return -1;
	if (word(&p, end, "reload ") == 0)
		r->mode = BG_MODE_RELOAD;
	else if (word(&p, end, "socket ") == 0)
		r->mode = BG_MODE_SOCKET;
	else if (word(&p, end, "port ") == 0)
		r->mode = BG_MODE_PORT;
	else
		return -1;
	if (color_field(&p, end, ' ', &r->from) < 0 ||
	    color_field(&p, end, '\n', &r->to) < 0 || r->to < 0 ||
	    r->to == r->from)
		return -1;
	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL ||
	    nl + 1 != end)
		return -1;
	len = (size_t)(nl - p);
	if (len == 0 || len >= sizeof r->line)
		return -1;
	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e)
			return -1;
	memcpy(r->line, p, len);
	r->line[len] = '\0';
	return 0;
}

const char *
bg_record_path(const struct bg_conf *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s.flip", c->lock);
	return buf;
}

int
bg_record_read(const struct bg_conf *c, struct bg_record *r)
{
	char path[BG_PATH_MAX + 8], why[64];
	size_t n;
	char *buf;
	int rc;

	bg_record_path(c, path, sizeof path);
	if (bg_file_read(path, 1, 1024, &buf, &n) < 0) {
		if (errno == ENOENT)
			return 0;
		bg_warn("cannot read crash record %s: %s", path,
		    bg_file_why(errno, 1024, why, sizeof why));
		return -1;
	}
	rc = bg_record_parse(buf, n, r);
	free(buf);
	if (rc < 0) {
		bg_warn("crash record %s is damaged: check that nginx serves "
		    "what live_conf or state/current says, then remove it",
		    path);
		return -1;
	}
	return 1;
}

int
bg_record_write(const struct bg_conf *c, const struct bg_record *r)
{
	char path[BG_PATH_MAX + 8], buf[512];
	int n;

	n = snprintf(buf, sizeof buf, "bgflip %s %s %s\n%s\n",
	    r->mode == BG_MODE_PORT ? "port" :
	    r->mode == BG_MODE_SOCKET ? "socket" : "reload",
	    r->from < 0 ? "-" : bg_color_name(r->from),
	    bg_color_name(r->to), r->line);
	if (n < 0 || (size_t)n >= sizeof buf)
		return -1;
	return bg_atomic_write(bg_record_path(c, path, sizeof path), buf,
	    (size_t)n, 0644);
}

/* No fsync of the directory after the unlink: a record that a power cut
 * brings back describes a flip that is done (or undone), the state a cut
 * just before the unlink leaves anyway; the next bgflip checks it and
 * finishes it without a second history line (docs/performance.md). */
int
bg_record_remove(const struct bg_conf *c)
{
	char path[BG_PATH_MAX + 8];

	bg_record_path(c, path, sizeof path);
	if (unlink(path) < 0 && errno != ENOENT) {
		bg_warnsys("cannot remove %s", path);
		return -1;
	}
	return 0;
}
