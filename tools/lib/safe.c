/* safe.c - may root trust this path? sshd's StrictModes, for bgflip.
 *
 * Run as root through sudo, bgflip reads a config, copies files over
 * nginx's config, signals a process named in a pid file and appends to a
 * log: if any of those paths could be changed by someone other than root,
 * that someone could make root write or signal what they like. So the
 * object must be owned by root and writable by nobody else, and every
 * directory above it must be owned by root and not writable by others
 * unless sticky (/tmp is fine: only root can rename root's files there).
 * A group-writable directory ABOVE the object is accepted, as the SPEC
 * says (Ubuntu's /var/log is root:syslog 0775). Symlinks in the path are
 * resolved first and the real path is what is checked. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bg.h"

static int
ancestors_ok(const char *what, const char *real)
{
	char buf[PATH_MAX];
	struct stat st;
	char *slash;

	snprintf(buf, sizeof buf, "%s", real);
	while ((slash = strrchr(buf, '/')) != NULL) {
		if (slash == buf)
			slash[1] = '\0';	/* "/" itself */
		else
			*slash = '\0';
		if (stat(buf, &st) < 0) {
			bg_warnsys("%s %s: cannot check %s", what, real, buf);
			return -1;
		}
		if (st.st_uid != 0) {
			bg_warn("%s %s is unsafe: it lies in %s, owned by uid "
			    "%u, not root", what, real, buf,
			    (unsigned)st.st_uid);
			return -1;
		}
		if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX)) {
			bg_warn("%s %s is unsafe: it lies in %s, which others "
			    "can write (chmod o-w, or +t)", what, real, buf);
			return -1;
		}
		/* group-writable counts, unless the group is root's */
		if ((st.st_mode & S_IWGRP) && st.st_gid != 0 &&
		    !(st.st_mode & S_ISVTX)) {
			bg_warn("%s %s is unsafe: it lies in %s, which group "
			    "%u can write (chmod g-w)", what, real, buf,
			    (unsigned)st.st_gid);
			return -1;
		}
		if (slash == buf)
			break;
	}
	return 0;
}

int
bg_safe_path(const char *what, const char *path, int isdir)
{
	char real[PATH_MAX];
	struct stat st;

	if (realpath(path, real) == NULL || stat(real, &st) < 0) {
		bg_warnsys("%s %s", what, path);
		return -1;
	}
	if (isdir && !S_ISDIR(st.st_mode)) {
		bg_warn("%s %s: not a directory", what, path);
		return -1;
	}
	if (!isdir && !S_ISREG(st.st_mode)) {
		bg_warn("%s %s: not a regular file", what, path);
		return -1;
	}
	if (st.st_uid != 0) {
		bg_warn("%s %s is unsafe: owned by uid %u, not root", what,
		    real, (unsigned)st.st_uid);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		bg_warn("%s %s is unsafe: writable by group or others "
		    "(chmod go-w)", what, real);
		return -1;
	}
	return ancestors_ok(what, real);
}

int
bg_safe_dir_of(const char *what, const char *path)
{
	char dir[BG_PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL)
		return bg_safe_path(what, ".", 1);
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= sizeof dir) {
		errno = ENAMETOOLONG;
		bg_warnsys("%s %s", what, path);
		return -1;
	}
	memcpy(dir, path, n);
	dir[n] = '\0';
	return bg_safe_path(what, dir, 1);
}
