/* history.c - the switch history: one line per flip, appended to "log".
 *
 *	2026-11-26T17:03:12Z blue green alice 4f2a9c1
 *
 * UTC time, from ("-" for the first flip of a fresh socket state), to, who
 * ran it, and the new color's APP/COLOR/REVISION ("-" when absent). Every
 * field is printable ASCII without spaces, so a line is split by spaces.
 *
 * A line is appended whole or not at all: a short write (a full disk) is
 * cut back to the old size. A line torn anyway (a power cut mid-write, an
 * older bgflip) gets a newline before the next one, so it stays a line of
 * its own that readers skip as malformed: a well-formed line is exactly
 * those five fields, one space apart, ending in a newline (bg_history_ok).
 *
 * REVISION is written by the deploy user and read by root, so it is opened
 * without following a symlink in the last two components (APP/COLOR and
 * REVISION), must be a regular file with a single link (a hard link to
 * /etc/shadow would otherwise be read), is opened O_NONBLOCK (a FIFO must
 * not hang us), and only its first line's first 64 printable bytes count. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bg.h"

#define REV_MAX 64

size_t
bg_field_clean(const char *s, size_t n, char *out, size_t len, size_t max)
{
	size_t i, o = 0;

	for (i = 0; i < n && s[i] != '\n' && o < max && o + 1 < len; i++)
		if ((unsigned char)s[i] > 0x20 && (unsigned char)s[i] < 0x7f)
			out[o++] = s[i];
	if (len > 0)
		out[o] = '\0';
	return o;
}

const char *
bg_invoker(char *buf, size_t len)
{
	const char *u = getenv("SUDO_USER");
	char login[256];
	struct passwd *pw;

	if ((u == NULL || *u == '\0') && getlogin_r(login, sizeof login) == 0)
		u = login;
	if ((u == NULL || *u == '\0') && (pw = getpwuid(getuid())) != NULL)
		u = pw->pw_name;
	if (u == NULL || bg_field_clean(u, strlen(u), buf, len, 32) == 0)
		snprintf(buf, len, "uid%u", (unsigned)getuid());
	return buf;
}

const char *
bg_revision(const struct bg_conf *c, int color, char *buf, size_t len)
{
	char dir[BG_PATH_MAX + 8], raw[256];
	struct stat st;
	int dfd, fd = -1;
	ssize_t n = -1;

	snprintf(buf, len, "-");
	snprintf(dir, sizeof dir, "%s/%s", c->app, bg_color_name(color));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return buf;
	fd = openat(dfd, "REVISION", O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC);
	close(dfd);
	if (fd < 0)
		return buf;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1)
		do
			n = read(fd, raw, sizeof raw);
		while (n < 0 && errno == EINTR);
	close(fd);
	if (n > 0 && bg_field_clean(raw, (size_t)n, buf, len, REV_MAX) == 0)
		snprintf(buf, len, "-");
	return buf;
}

int
bg_history_line(char *buf, size_t len, time_t t, int from, int to,
    const char *user, const char *rev)
{
	struct tm tm;
	char when[32];
	int n;

	if (gmtime_r(&t, &tm) == NULL)
		return -1;
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(buf, len, "%s %s %s %s %s", when,
	    from < 0 ? "-" : bg_color_name(from), bg_color_name(to), user, rev);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
bg_history_ok(const char *s, size_t n)
{
	static const char tmpl[] = "0000-00-00T00:00:00Z";
	const char *p = s, *end = s + n, *q;
	int field, c[2] = { -2, -2 };
	size_t i, len;

	if (n > 0 && s[n - 1] == '\n')
		end--;
	for (field = 0; field < 5; field++) {
		for (q = p; q < end && *q != ' '; q++)
			if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
				return 0;
		len = (size_t)(q - p);
		if (len == 0 || (field < 4 && q == end) ||
		    (field == 4 && q != end))
			return 0;
		switch (field) {
		case 0:
			if (len != sizeof tmpl - 1)
				return 0;
			for (i = 0; i < len; i++)
				if (tmpl[i] == '0' ? p[i] < '0' || p[i] > '9' :
				    p[i] != tmpl[i])
					return 0;
			break;
		case 1:
			if (len == 1 && *p == '-')
				c[0] = -1;
			else if ((c[0] = bg_color_parse(p, len)) < 0)
				return 0;
			break;
		case 2:
			if ((c[1] = bg_color_parse(p, len)) < 0 || c[1] == c[0])
				return 0;
			break;
		case 3:
			if (len > 32)
				return 0;
			break;
		case 4:
			if (len > REV_MAX)
				return 0;
			break;
		}
		p = q + 1;
	}
	return 1;
}

int
bg_history_append(const char *log, const char *line)
{
	char buf[512], last, *p;
	struct stat st;
	ssize_t w;
	int fd, n, k;

	n = snprintf(buf, sizeof buf, "\n%s\n", line);
	if (n < 0 || (size_t)n >= sizeof buf)
		return -1;
	fd = open(log, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_NOCTTY |
	    O_NONBLOCK | O_CLOEXEC, 0644);
	if (fd < 0) {
		bg_warnsys("cannot open history %s", log);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		bg_warn("history %s is not a regular file", log);
		close(fd);
		return -1;
	}
	/* After a torn last line, a newline first: the fragment stays a
	 * malformed line of its own instead of swallowing this one. */
	p = buf + 1;
	k = n - 1;
	if (st.st_size > 0 && (pread(fd, &last, 1, st.st_size - 1) != 1 ||
	    last != '\n')) {
		p = buf;
		k = n;
	}
	/* One write, under the lock: with O_APPEND it lands whole after the
	 * old end, or is cut back to it. */
	do
		w = write(fd, p, (size_t)k);
	while (w < 0 && errno == EINTR);
	if (w != k) {
		if (w >= 0)
			errno = ENOSPC;	/* a short write: the disk is full */
		bg_warnsys("cannot append to history %s", log);
		if (w > 0 && ftruncate(fd, st.st_size) < 0)
			bg_warnsys("cannot cut the torn line off history %s "
			    "(readers skip it)", log);
		close(fd);
		return -1;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		bg_warnsys("cannot write history %s", log);
		return -1;
	}
	return 0;
}

int
bg_history_last(const char *log, const char *line)
{
	char buf[1024];
	struct stat st;
	size_t len = strlen(line);
	ssize_t n;
	off_t off;
	int fd;

	fd = open(log, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size < len + 1) {
		close(fd);
		return 0;
	}
	off = st.st_size - (off_t)(len + 2);
	if (off < 0)
		off = 0;
	n = pread(fd, buf, sizeof buf, off);
	close(fd);
	/* the last line, with the newline before it (or the file start) */
	if (n < (ssize_t)(len + 1) || buf[n - 1] != '\n' ||
	    memcmp(buf + n - 1 - len, line, len) != 0)
		return 0;
	return n - 1 - (ssize_t)len == 0 ? off == 0 :
	    buf[n - 2 - len] == '\n';
}
