/* views.c - socket mode's state directory: one view per color and the
 * symlink "current" naming the live one.
 *
 *	STATE/blue/live.sock     -> blue's socket	 STATE/current -> blue
 *	STATE/blue/staging.sock  -> green's socket
 *	STATE/blue/color            "blue\n"
 *	STATE/green/...             the same, the other way round
 *
 * nginx connects to STATE/current/live.sock and reads STATE/current/color,
 * resolving the links on every new connection, so one rename(2) of
 * "current" switches production, staging and /bg at once. Every change is
 * made by rename (atomic.c), never by editing in place, so nginx never sees
 * a missing link. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bg.h"

/* Make STATE/COLOR/NAME a symlink to target. 0 in sync, 1 changed (or
 * would be: dry), -1 error. */
static int
sync_link(const char *dir, const char *name, const char *target, int dry)
{
	char path[BG_PATH_MAX + 32], cur[BG_PATH_MAX + 1];
	ssize_t k;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	k = readlink(path, cur, sizeof cur - 1);
	if (k >= 0) {
		cur[k] = '\0';
		if (strcmp(cur, target) == 0)
			return 0;
	} else if (errno != ENOENT && errno != EINVAL) {
		bg_warnsys("cannot read link %s", path);
		return -1;
	}
	bg_warn("%s %s -> %s", dry ? "would point" : "pointing", path, target);
	if (dry)
		return 1;
	return bg_atomic_symlink(target, path) < 0 ? -1 : 1;
}

static int
sync_color(const char *dir, int color, int dry)
{
	char path[BG_PATH_MAX + 32], want[8];
	struct stat st;
	size_t n;
	char *buf;
	int same;

	snprintf(path, sizeof path, "%s/color", dir);
	snprintf(want, sizeof want, "%s\n", bg_color_name(color));
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & 07777) == 0644 && st.st_uid == geteuid() &&
	    bg_file_read(path, 1, 64, &buf, &n) == 0) {
		same = n == strlen(want) && memcmp(buf, want, n) == 0;
		free(buf);
		if (same)
			return 0;
	}
	bg_warn("%s %s", dry ? "would write" : "writing", path);
	if (dry)
		return 1;
	return bg_atomic_write(path, want, strlen(want), 0644) < 0 ? -1 : 1;
}

static int
sync_view(const struct bg_conf *c, int color, int dry)
{
	char dir[BG_PATH_MAX + 8];
	struct stat st;
	int a, b, k;

	snprintf(dir, sizeof dir, "%s/%s", c->state, bg_color_name(color));
	if (lstat(dir, &st) < 0) {
		if (errno != ENOENT) {
			bg_warnsys("cannot use view %s", dir);
			return BG_SYS;
		}
		bg_warn("%s view %s", dry ? "would create" : "creating", dir);
		if (dry)
			return 0;
		if (mkdir(dir, 0700) < 0 || chmod(dir, 0755) < 0) {
			bg_warnsys("cannot create view %s", dir);
			return BG_SYS;
		}
		if (lstat(dir, &st) < 0) {
			bg_warnsys("cannot use view %s", dir);
			return BG_SYS;
		}
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
		bg_warn("view %s is not a directory of ours (a symlink, or "
		    "planted): move it away and re-run", dir);
		return BG_CONFIG;
	}
	/* 0755 whatever the umask: nginx's workers must traverse it. */
	if ((st.st_mode & 07777) != 0755) {
		bg_warn("%s the mode of view %s to 0755",
		    dry ? "would set" : "setting", dir);
		if (!dry && chmod(dir, 0755) < 0) {
			bg_warnsys("cannot chmod view %s", dir);
			return BG_SYS;
		}
	}
	a = b = 0;	/* port mode: only "color"; nft does the rest */
	if (c->mode == BG_MODE_SOCKET) {
		a = sync_link(dir, "live.sock", c->addr[color].path, dry);
		b = sync_link(dir, "staging.sock",
		    c->addr[bg_other(color)].path, dry);
	}
	k = sync_color(dir, color, dry);
	return a < 0 || b < 0 || k < 0 ? BG_SYS : 0;
}

int
bg_views_sync(const struct bg_conf *c, int dry)
{
	int rc;

	if ((rc = sync_view(c, BG_BLUE, dry)) != 0)
		return rc;
	return sync_view(c, BG_GREEN, dry);
}

int
bg_current_get(const struct bg_conf *c)
{
	char path[BG_PATH_MAX + 16], cur[16];
	ssize_t k;
	int color;

	snprintf(path, sizeof path, "%s/current", c->state);
	k = readlink(path, cur, sizeof cur - 1);
	if (k < 0 && errno == ENOENT)
		return -1;
	if (k < 0) {
		bg_warnsys("%s is not a symlink to a view", path);
		return -2;
	}
	if ((color = bg_color_parse(cur, (size_t)k)) < 0) {
		bg_warn("%s points at neither blue nor green: move it away "
		    "and run bgflip COLOR", path);
		return -2;
	}
	return color;
}

int
bg_current_set(const struct bg_conf *c, int color)
{
	char path[BG_PATH_MAX + 16];

	snprintf(path, sizeof path, "%s/current", c->state);
	if (color < 0)
		return bg_remove(path);
	/* Relative: the state directory can move without breaking it. */
	return bg_atomic_symlink(bg_color_name(color), path);
}
