/* lock.c - the one lock bgstage, bgflip and make deploy share.
 *
 * flock(2), so flock(1) in a shell takes the same lock, and the kernel drops
 * it when the holder dies: a lock file left behind by a killed run is never
 * "stale". The file is never truncated on open (O_TRUNC would wipe the pid
 * of a live holder) and never unlinked (a taker blocked on the old inode
 * and one on a new file would both "hold" it).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "bg.h"

#define POLL_MS 50

/* O_NONBLOCK|O_NOCTTY: a FIFO or tty planted at the path must not hang or
 * adopt us before fstat refuses it. */
#define OPEN_FLAGS (O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)

static int
open_lock(const char *path, int *writable)
{
	int fd, err;

	*writable = 1;
	fd = open(path, O_RDWR | O_CREAT | OPEN_FLAGS, 0644);
	if (fd >= 0 || (errno != EACCES && errno != EROFS))
		return fd;
	/* A deploy user may only read a root-owned lock: flock(2) works on a
	 * read-only descriptor all the same. */
	err = errno;
	*writable = 0;
	fd = open(path, O_RDONLY | OPEN_FLAGS);
	if (fd < 0 && errno == ENOENT)
		errno = err;	/* "cannot create": say why */
	return fd;
}

static pid_t
alive(unsigned long pid)
{
	if (pid == 0 || pid > INT_MAX)
		return 0;
	if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
		return 0;
	return (pid_t)pid;
}

/* The kernel knows who holds a flock: /proc/locks lines look like
 * "3: FLOCK  ADVISORY  WRITE 1234 08:01:56789 0 EOF" (waiters have "->").
 * This also names a flock(1) holder, which writes no pid into the file.
 * The pid, 0 when that process is gone (a child inherited the lock), or -1
 * when the kernel does not say (no /proc, a device number that differs,
 * as on overlayfs). */
static pid_t
holder_proc(const struct stat *st)
{
	char line[256], type[16];
	unsigned long pid, ino;
	unsigned maj, min;
	pid_t found = -1;
	FILE *f;
	int nlines = 0;

	if ((f = fopen("/proc/locks", "re")) == NULL)
		return -1;
	while (found < 0 && nlines++ < 100000 &&
	    fgets(line, sizeof line, f) != NULL) {
		if (strstr(line, "->") != NULL)
			continue;
		/* NOLINTNEXTLINE(cert-err34-c): the kernel wrote it */
		if (sscanf(line, "%*d: %15s %*s %*s %lu %x:%x:%lu", type, &pid,
		    &maj, &min, &ino) != 5 || strcmp(type, "FLOCK") != 0)
			continue;
		if (maj == major(st->st_dev) && min == minor(st->st_dev) &&
		    ino == (unsigned long)st->st_ino)
			found = alive(pid);
	}
	fclose(f);
	return found;
}

/* Else the first line of the file, as the last bg_lock holder wrote it. */
static pid_t
holder_file(int fd)
{
	char buf[32];
	unsigned long pid;
	ssize_t n;
	size_t len;

	n = pread(fd, buf, sizeof buf, 0);
	if (n <= 0)
		return 0;
	for (len = 0; len < (size_t)n && buf[len] != '\n'; len++)
		;
	if (bg_parse_ulong(buf, len, INT_MAX, &pid) < 0)
		return 0;
	return alive(pid);
}

static pid_t
holder_of(int fd, const struct stat *st)
{
	pid_t pid;

	if ((pid = holder_proc(st)) < 0)
		pid = holder_file(fd);
	return pid;
}

/* Still the file at path? If someone replaced it, our lock guards nothing. */
static int
same_file(const char *path, const struct stat *st)
{
	struct stat now;

	return lstat(path, &now) == 0 && now.st_dev == st->st_dev &&
	    now.st_ino == st->st_ino;
}

static void
write_pid(int fd)
{
	char buf[32];
	int n;

	/* Write first, then cut: a reader never sees an empty file. */
	n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (pwrite(fd, buf, (size_t)n, 0) == n)
		(void)ftruncate(fd, n);
}

int
bg_lock(const char *path, long long wait_ms, pid_t *holder)
{
	long long deadline = 0, left;
	struct stat st;
	pid_t dummy;
	int fd, writable, err, replaced = 0;

	if (holder == NULL)
		holder = &dummy;
	*holder = 0;
	if (wait_ms >= 0)
		deadline = bg_now_ms() + wait_ms;
	for (;;) {
		if ((fd = open_lock(path, &writable)) < 0)
			return BG_LOCK_ERROR;
		if (fstat(fd, &st) < 0)
			goto fail;
		if (!S_ISREG(st.st_mode)) {
			close(fd);
			errno = EINVAL;
			return BG_LOCK_ERROR;
		}
		while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EWOULDBLOCK)
				goto fail;
			*holder = holder_of(fd, &st);
			if (wait_ms < 0) {
				close(fd);
				return BG_LOCK_BUSY;
			}
			left = deadline - bg_now_ms();
			if (left <= 0) {
				close(fd);
				return BG_LOCK_TIMEOUT;
			}
			bg_sleep_ms(left < POLL_MS ? left : POLL_MS);
		}
		if (same_file(path, &st))
			break;
		close(fd);
		if (++replaced > 10) {
			errno = ESTALE;
			return BG_LOCK_ERROR;
		}
	}
	if (writable)
		write_pid(fd);
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return BG_LOCK_ERROR;
}
