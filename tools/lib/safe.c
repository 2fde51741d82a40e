/* safe.c - may root trust this path? The SPEC's trust rules 1 and 2.
 *
 * Run as root, bgflip reads a config, copies files over nginx's config,
 * runs nginx and signals a process named in a pid file; bgstage run as
 * root runs hooks. If another user could change any of those paths, that
 * user could make root run, read or write what they like. So everything
 * root trusts must be owned by root and writable by nobody else, and so
 * must every directory above it, up to "/": a directory others (or a group
 * other than root's) can write is fine only when it is sticky, since then
 * only root can rename or remove root's entries in it (/tmp).
 *
 * Checked on descriptors, never on a path looked at earlier: the path is
 * walked component by component from "/" with openat(O_NOFOLLOW), each
 * descriptor is fstat'ed and checked before the next component is opened
 * through it, and the caller gets the descriptor of the checked object to
 * read. A symlink on the way is followed only when it is root's and sits
 * in a directory already trusted (nobody else can change it); its target
 * is walked the same way. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bg.h"

#define LINKS_MAX 40	/* as the kernel's ELOOP limit */

/* Writable by someone other than root: others, or a group not root's. */
static int
others_write(const struct stat *st)
{
	return (st->st_mode & S_IWOTH) ||
	    ((st->st_mode & S_IWGRP) && st->st_gid != 0);
}

/* A directory on the way: root's, and nobody else can change its
 * entries (sticky is fine: the entries we go on to must be root's). */
static int
dir_ok(const char *what, const char *path, const char *at,
    const struct stat *st)
{
	if (!S_ISDIR(st->st_mode)) {
		bg_warn("%s %s: %s is not a directory", what, path, at);
		return -1;
	}
	if (st->st_uid != 0) {
		bg_warn("%s %s is unsafe: it lies in %s, owned by uid %u, not "
		    "root", what, path, at, (unsigned)st->st_uid);
		return -1;
	}
	if (others_write(st) && !(st->st_mode & S_ISVTX)) {
		bg_warn("%s %s is unsafe: it lies in %s, which others can "
		    "write (chmod o-w,g-w, or +t)", what, path, at);
		return -1;
	}
	return 0;
}

/* The object itself: root's, the right type, writable by root only. */
static int
obj_ok(const char *what, const char *path, int isdir, const struct stat *st)
{
	if (isdir && !S_ISDIR(st->st_mode)) {
		bg_warn("%s %s: not a directory", what, path);
		return -1;
	}
	if (!isdir && !S_ISREG(st->st_mode)) {
		bg_warn("%s %s: not a regular file", what, path);
		return -1;
	}
	if (st->st_uid != 0) {
		bg_warn("%s %s is unsafe: owned by uid %u, not root", what,
		    path, (unsigned)st->st_uid);
		return -1;
	}
	if (others_write(st)) {
		bg_warn("%s %s is unsafe: writable by group or others (chmod "
		    "go-w)", what, path);
		return -1;
	}
	return 0;
}

/* "/" opened and checked: a new walk, or an absolute symlink target. */
static int
open_root(const char *what, const char *path)
{
	struct stat st;
	int fd;

	if ((fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		bg_warnsys("%s %s: cannot open /", what, path);
		return -1;
	}
	if (fstat(fd, &st) < 0 || dir_ok(what, path, "/", &st) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
bg_trusted_open(const char *what, const char *path, int flags)
{
	char rest[PATH_MAX], name[NAME_MAX + 1], link[PATH_MAX], at[PATH_MAX];
	struct stat st;
	int dfd, fd, isdir = (flags & O_DIRECTORY) != 0, last, links = 0;
	size_t n;
	ssize_t ln;
	char *p;

	if (path[0] != '/' || strlen(path) >= sizeof rest) {
		bg_warn("%s %s: not an absolute path", what, path);
		return -1;
	}
	snprintf(rest, sizeof rest, "%s", path);
	snprintf(at, sizeof at, "/");
	if ((dfd = open_root(what, path)) < 0)
		return -1;
	p = rest;
	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0') {	/* the path is "/" itself */
			if (fstat(dfd, &st) < 0 || obj_ok(what, path, isdir,
			    &st) < 0) {
				close(dfd);
				return -1;
			}
			return dfd;
		}
		n = strcspn(p, "/");
		if (n > NAME_MAX) {
			errno = ENAMETOOLONG;
			goto fail;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		last = p[strspn(p, "/")] == '\0';
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			goto fail;
		if (S_ISLNK(st.st_mode)) {
			/* Root's link in a directory only root changes:
			 * nobody else can have chosen where it points. */
			if (st.st_uid != 0) {
				bg_warn("%s %s is unsafe: %s%s%s is a symlink "
				    "owned by uid %u, not root", what, path, at,
				    strcmp(at, "/") == 0 ? "" : "/", name,
				    (unsigned)st.st_uid);
				close(dfd);
				return -1;
			}
			ln = readlinkat(dfd, name, link, sizeof link - 1);
			if (ln < 0)
				goto fail;
			if (ln == 0 || ++links > LINKS_MAX ||
			    (size_t)ln + strlen(p) + 1 > sizeof rest) {
				errno = ELOOP;
				goto fail;
			}
			link[ln] = '\0';
			/* rest becomes the link's target, then what was left
			 * (empty, or starting with '/') */
			memmove(rest + ln, p, strlen(p) + 1);
			memcpy(rest, link, (size_t)ln);
			p = rest;
			if (link[0] == '/') {
				close(dfd);
				snprintf(at, sizeof at, "/");
				if ((dfd = open_root(what, path)) < 0)
					return -1;
			}
			continue;
		}
		if (last)
			fd = openat(dfd, name, (flags & ~O_CREAT) | O_NOFOLLOW |
			    O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		else
			fd = openat(dfd, name, O_PATH | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			goto fail;
		close(dfd);
		dfd = fd;
		if (strlen(at) + n + 2 < sizeof at) {
			if (strcmp(at, "/") != 0)
				strcat(at, "/");
			strcat(at, name);
		}
		if (fstat(dfd, &st) < 0)
			goto fail;
		if (last) {
			/* "file/" names a directory, as for the kernel */
			if (*p == '/' && !S_ISDIR(st.st_mode)) {
				errno = ENOTDIR;
				goto fail;
			}
			if (obj_ok(what, path, isdir, &st) < 0) {
				close(dfd);
				return -1;
			}
			return dfd;
		}
		if (dir_ok(what, path, at, &st) < 0) {
			close(dfd);
			return -1;
		}
	}
fail:
	bg_warnsys("%s %s", what, path);
	close(dfd);
	return -1;
}

int
bg_conf_open(const char *path)
{
	int fd;

	if (geteuid() == 0) {
		if ((fd = bg_trusted_open("config", path, O_RDONLY)) < 0)
			exit(BG_CONFIG);
		return fd;
	}
	/* O_NONBLOCK: a FIFO planted at the path must not hang us before
	 * fstat can refuse it. */
	fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		bg_diesys(BG_CONFIG, "cannot open config %s", path);
	return fd;
}

int
bg_safe_path(const char *what, const char *path, int isdir)
{
	int fd;

	fd = bg_trusted_open(what, path, isdir ? O_PATH | O_DIRECTORY :
	    O_PATH);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

int
bg_safe_dir_of(const char *what, const char *path)
{
	char dir[BG_PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL) {
		bg_warn("%s %s: not an absolute path", what, path);
		return -1;
	}
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
