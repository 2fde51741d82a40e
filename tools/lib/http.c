/* http.c - a tiny HTTP/1.x GET client: one fresh connection per request,
 * "Connection: close", bounded by a deadline and by BG_REPLY_MAX. The reply
 * is parsed by reply.c as it arrives. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bg.h"

/* "2s", "1.5s": the budget a wait had, to the tenth, for a message. */
static const char *
secs(long long ms, char *buf, size_t len)
{
	return bg_secs_fmt((ms < 0 ? 0 : ms + 50) / 100 * 100, "s", buf, len);
}

static int
wait_fd(int fd, short ev, long long deadline)
{
	struct pollfd pfd;
	long long rem;
	int k;

	for (;;) {
		rem = deadline - bg_now_ms();
		if (rem <= 0)
			return 0;
		pfd.fd = fd;
		pfd.events = ev;
		k = poll(&pfd, 1, rem > INT_MAX ? INT_MAX : (int)rem);
		if (k >= 0 || errno != EINTR)
			return k;
	}
}

/* Non-blocking connect bounded by the deadline: fd, or -1 with *rc set. */
static int
dial_one(int family, const struct sockaddr *sa, socklen_t salen,
    long long deadline, int *err, int *rc)
{
	int fd, k;
	socklen_t el = sizeof *err;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*err = errno;
		*rc = BG_SYS;
		return -1;
	}
	for (;;) {
		if (connect(fd, sa, salen) == 0)
			return fd;
		if (errno == EINTR)
			continue;
		/* a unix listener with a full backlog: try again shortly */
		if (errno == EAGAIN && family == AF_UNIX &&
		    bg_now_ms() + 10 < deadline) {
			bg_sleep_ms(10);
			continue;
		}
		break;
	}
	if (errno != EINPROGRESS) {
		*err = errno;
		*rc = errno == EAGAIN ? BG_TIMEOUT : BG_SYS;
		close(fd);
		return -1;
	}
	k = wait_fd(fd, POLLOUT, deadline);
	if (k <= 0) {
		*err = k < 0 ? errno : 0;
		*rc = k < 0 ? BG_SYS : BG_TIMEOUT;
		close(fd);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &el) < 0)
		*err = errno;
	if (*err != 0) {
		*rc = BG_SYS;
		close(fd);
		return -1;
	}
	return fd;
}

static int
dial(const struct bg_addr *a, long long deadline, const char *where,
    const char *budget, struct bg_reply *r, int *rc)
{
	struct addrinfo hints, *res, *ai;
	struct sockaddr_un sun;
	unsigned char tmp[sizeof(struct in6_addr)];
	char port[8];
	int fd = -1, err = 0, g;

	*rc = BG_SYS;
	if (a->is_unix) {
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		memcpy(sun.sun_path, a->path, strlen(a->path) + 1);
		fd = dial_one(AF_UNIX, (struct sockaddr *)&sun, sizeof sun,
		    deadline, &err, rc);
	} else {
		memset(&hints, 0, sizeof hints);
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICSERV;
		/* a numeric host never needs a (blocking) lookup */
		if (inet_pton(AF_INET, a->host, tmp) == 1 ||
		    inet_pton(AF_INET6, a->host, tmp) == 1)
			hints.ai_flags |= AI_NUMERICHOST;
		snprintf(port, sizeof port, "%u", a->port);
		g = getaddrinfo(a->host, port, &hints, &res);
		if (g != 0) {
			bg_reply_fail(r, "cannot resolve %s: %s",
			    a->host, g == EAI_SYSTEM ? strerror(errno) :
			    gai_strerror(g));
			return -1;
		}
		for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
			fd = dial_one(ai->ai_family, ai->ai_addr,
			    ai->ai_addrlen, deadline, &err, rc);
			if (fd < 0 && *rc == BG_TIMEOUT)
				break;
		}
		freeaddrinfo(res);
	}
	if (fd >= 0)
		return fd;
	if (*rc == BG_TIMEOUT && err == 0)
		bg_reply_fail(r, "cannot connect to %s within %s", where,
		    budget);
	else
		bg_reply_fail(r, "cannot connect to %s: %s", where,
		    strerror(err));
	return -1;
}

/* Request path and Host go into the request verbatim: no spaces, no
 * control bytes, so nothing can be smuggled into another header. */
static int
token_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s <= 0x20 || *s >= 0x7f)
			return 0;
	return 1;
}

static int
send_all(int fd, const char *s, size_t n, long long deadline)
{
	ssize_t k;

	while (n > 0) {
		k = send(fd, s, n, MSG_NOSIGNAL);
		if (k > 0) {
			s += k;
			n -= (size_t)k;
		} else if (k < 0 && errno == EINTR)
			continue;
		else if (k < 0 && errno == EAGAIN) {
			if (wait_fd(fd, POLLOUT, deadline) <= 0)
				return BG_TIMEOUT;
		} else
			return BG_SYS;
	}
	return 0;
}

int
bg_http_get(const struct bg_addr *a, const char *path, const char *host,
    long long deadline, int status_only, struct bg_reply *r)
{
	static char buf[BG_REPLY_MAX + 1];	/* one request at a time */
	char where[300], budget[32], hostbuf[300], req[1500];
	char err[sizeof r->err];
	size_t n = 0;
	ssize_t k;
	int fd, rc, eof = 0, pr, w;

	memset(r, 0, sizeof *r);
	bg_addr_fmt(a, where, sizeof where);
	secs(deadline - bg_now_ms(), budget, sizeof budget);
	if (host == NULL) {
		/* RFC 9110: the port is left out when it is the default */
		if (a->is_unix)
			host = "localhost";
		else if (a->port != 80)
			host = where;
		else if (strchr(a->host, ':') != NULL) {
			snprintf(hostbuf, sizeof hostbuf, "[%s]", a->host);
			host = hostbuf;
		} else
			host = a->host;
	}
	if (!token_ok(host) || !token_ok(path) || path[0] != '/') {
		bg_reply_fail(r, "bad %s for a request to %s",
		    path[0] != '/' || !token_ok(path) ? "path" : "Host header",
		    where);
		return BG_SYS;
	}
	w = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: bg\r\nConnection: close\r\n\r\n", path, host);
	if (w < 0 || (size_t)w >= sizeof req) {
		bg_reply_fail(r, "request to %s too long", where);
		return BG_SYS;
	}
	if ((fd = dial(a, deadline, where, budget, r, &rc)) < 0)
		return rc;
	rc = send_all(fd, req, (size_t)w, deadline);
	if (rc != 0) {
		if (rc == BG_TIMEOUT)
			bg_reply_fail(r, "cannot send a request to %s "
			    "within %s", where, budget);
		else
			bg_reply_fail(r, "cannot send a request to %s: %s",
			    where, strerror(errno));
		close(fd);
		return rc;
	}
	for (;;) {
		pr = wait_fd(fd, POLLIN, deadline);
		if (pr == 0) {
			if (n == 0)
				bg_reply_fail(r, "no reply from %s within %s",
				    where, budget);
			else
				bg_reply_fail(r, "incomplete reply from %s "
				    "within %s (%zu bytes)", where, budget, n);
			rc = BG_TIMEOUT;
			break;
		}
		k = pr < 0 ? -1 : read(fd, buf + n, sizeof buf - n);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k < 0) {
			bg_reply_fail(r, "cannot read the reply from %s "
			    "after %zu bytes: %s", where, n, strerror(errno));
			rc = BG_SYS;
			break;
		}
		if (k == 0)
			eof = 1;
		n += (size_t)k;
		pr = bg_http_parse(buf, n, eof, status_only, r);
		if (pr > 0) {
			rc = 0;
			break;
		}
		if (pr < 0) {
			memcpy(err, r->err, sizeof err);
			bg_reply_fail(r, "bad reply from %s: %s", where, err);
			rc = BG_SYS;
			break;
		}
	}
	close(fd);
	return rc;
}
