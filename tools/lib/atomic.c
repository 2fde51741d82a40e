/* atomic.c - whole files, read with a cap and replaced in one step.
 *
 * Replacement is written once, here: a temp file with a fixed dot-name in
 * the target's own directory (so rename(2) is atomic and `include *.conf`
 * never sees it), removed if a crash left it and recreated with O_EXCL |
 * O_NOFOLLOW, written whole, given its final owner and mode, fsynced,
 * renamed over the target, and the directory fsynced so the rename
 * survives a power cut. The temp is unlinked on any failure. Callers hold
 * the lock, which is what makes one fixed name per directory safe. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bg.h"

/* path's directory into dir and DIR/.bg.tmp into tmp (len bytes each). */
static int
tmp_for(const char *path, char *dir, char *tmp, size_t len)
{
	const char *slash = strrchr(path, '/');
	size_t dn;

	if (slash == NULL) {
		snprintf(dir, len, ".");
		snprintf(tmp, len, "%s", BG_TMP_NAME);
		return 0;
	}
	dn = (size_t)(slash - path);
	if (dn + sizeof BG_TMP_NAME + 2 > len) {
		errno = ENAMETOOLONG;
		bg_warnsys("cannot replace %s", path);
		return -1;
	}
	snprintf(dir, len, "%.*s", (int)(dn ? dn : 1), path);
	snprintf(tmp, len, "%.*s/%s", (int)dn, path, BG_TMP_NAME);
	return 0;
}

int
bg_fsync_dir(const char *dir)
{
	int fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		bg_warnsys("cannot open directory %s to sync it", dir);
		return -1;
	}
	rc = fsync(fd);
	if (rc < 0)
		bg_warnsys("cannot sync directory %s", dir);
	close(fd);
	return rc;
}

static int
write_all(int fd, const char *buf, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

int
bg_atomic_write(const char *path, const char *buf, size_t n, int mode)
{
	char dir[BG_PATH_MAX], tmp[BG_PATH_MAX];
	struct stat old;
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int fd, keep = 0;

	if (tmp_for(path, dir, tmp, sizeof dir) < 0)
		return -1;
	if (mode < 0) {
		if (lstat(path, &old) == 0 && S_ISREG(old.st_mode)) {
			keep = 1;
			mode = (int)(old.st_mode & 07777);
			uid = old.st_uid;
			gid = old.st_gid;
		} else
			mode = 0644;
	}
	if (unlink(tmp) < 0 && errno != ENOENT) {
		bg_warnsys("cannot remove stale %s", tmp);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY, 0600);
	if (fd < 0) {
		bg_warnsys("cannot create %s", tmp);
		return -1;
	}
	if (write_all(fd, buf, n) < 0) {
		bg_warnsys("cannot write %s", tmp);
		goto fail;
	}
	/* Owner first: fchown clears set-id bits that fchmod then sets. */
	if (keep && (uid != geteuid() || gid != getegid()) &&
	    fchown(fd, uid, gid) < 0) {
		bg_warnsys("cannot give %s the owner of %s", tmp, path);
		goto fail;
	}
	if (fchmod(fd, (mode_t)mode) < 0) {
		bg_warnsys("cannot set the mode of %s", tmp);
		goto fail;
	}
	if (fsync(fd) < 0) {
		bg_warnsys("cannot sync %s", tmp);
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		bg_warnsys("cannot write %s", tmp);
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		bg_warnsys("cannot rename %s to %s", tmp, path);
		goto fail;
	}
	return bg_fsync_dir(dir);
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

int
bg_atomic_symlink(const char *target, const char *path)
{
	char dir[BG_PATH_MAX], tmp[BG_PATH_MAX];

	if (tmp_for(path, dir, tmp, sizeof dir) < 0)
		return -1;
	if (unlink(tmp) < 0 && errno != ENOENT) {
		bg_warnsys("cannot remove stale %s", tmp);
		return -1;
	}
	if (symlink(target, tmp) < 0) {
		bg_warnsys("cannot create symlink %s", tmp);
		return -1;
	}
	if (rename(tmp, path) < 0) {
		bg_warnsys("cannot rename %s to %s", tmp, path);
		unlink(tmp);
		return -1;
	}
	return bg_fsync_dir(dir);
}

int
bg_remove(const char *path)
{
	char dir[BG_PATH_MAX], tmp[BG_PATH_MAX];

	if (tmp_for(path, dir, tmp, sizeof dir) < 0)
		return -1;
	if (unlink(path) < 0) {
		if (errno == ENOENT)
			return 0;
		bg_warnsys("cannot remove %s", path);
		return -1;
	}
	return bg_fsync_dir(dir);
}

int
bg_file_read(const char *path, int nofollow, size_t max, char **buf,
    size_t *n)
{
	int fd;

	*buf = NULL;
	*n = 0;
	/* O_NONBLOCK: a FIFO planted at the path must not hang us before
	 * fstat can refuse it. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC |
	    (nofollow ? O_NOFOLLOW : 0));
	if (fd < 0)
		return -1;
	return bg_file_readfd(fd, max, buf, n);
}

int
bg_file_readfd(int fd, size_t max, char **buf, size_t *n)
{
	struct stat st;
	size_t got = 0;
	ssize_t r;
	char *p;
	int err;

	*buf = NULL;
	*n = 0;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if ((p = malloc(max + 1)) == NULL)
		goto fail;
	/* Read one byte past the cap to tell "exactly max" from "more". */
	for (;;) {
		r = read(fd, p + got, max + 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(p);
			goto fail;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		if (got > max) {
			free(p);
			errno = EFBIG;
			goto fail;
		}
	}
	close(fd);
	p[got] = '\0';
	*buf = p;
	*n = got;
	return 0;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

const char *
bg_file_why(int err, size_t max, char *buf, size_t len)
{
	if (err == EINVAL)
		snprintf(buf, len, "not a regular file");
	else if (err == EFBIG)
		snprintf(buf, len, "larger than %zu bytes", max);
	else
		snprintf(buf, len, "%s", strerror(err));
	return buf;
}
