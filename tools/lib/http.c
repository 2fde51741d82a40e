/* http.c - a tiny HTTP/1.x GET client: one fresh connection per request,
 * "Connection: close", bounded by a deadline and by BG_REPLY_MAX. The tools
 * only ever ask nginx or their own instances for a status and a word, so the
 * parser is strict and refuses what it does not need (chunked bodies, bare
 * LF line ends, folded headers) instead of half-supporting it. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bg.h"

#define HDR_LINES_MAX	100	/* nginx sends ~8; more is not a /bg reply */
#define EXCERPT		60	/* input bytes quoted in a message */

static void
put(char *buf, size_t len, size_t *o, const char *s)
{
	while (*s != '\0' && *o + 1 < len)
		buf[(*o)++] = *s++;
	buf[*o] = '\0';
}

const char *
bg_excerpt(const char *s, size_t n, size_t max, char *buf, size_t len)
{
	size_t i, o = 0;
	char e[8];

	if (len == 0)
		return buf;
	put(buf, len, &o, "\"");
	for (i = 0; i < n && i < max; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\n')
			strcpy(e, "\\n");
		else if (ch == '\r')
			strcpy(e, "\\r");
		else if (ch == '\t')
			strcpy(e, "\\t");
		else if (ch == '"' || ch == '\\')
			snprintf(e, sizeof e, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			snprintf(e, sizeof e, "\\x%02x", ch);
		else
			snprintf(e, sizeof e, "%c", ch);
		/* keep room for the closing quote and "..." */
		if (o + strlen(e) + 4 >= len)
			break;
		put(buf, len, &o, e);
	}
	put(buf, len, &o, "\"");
	if (i < n)
		put(buf, len, &o, "...");
	return buf;
}

static int
fail(struct bg_reply *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof r->err, fmt, ap);
	va_end(ap);
	return -1;
}

static int
fail_line(struct bg_reply *r, const char *what, const char *s, size_t n,
    const char *why)
{
	char ex[EXCERPT * 4 + 8];

	bg_excerpt(s, n, EXCERPT, ex, sizeof ex);
	return fail(r, "malformed %s %s%s", what, ex, why);
}

/* Case-insensitive s[0..n) == lit (lit lower case). */
static int
ieq(const char *s, size_t n, const char *lit)
{
	size_t i;

	for (i = 0; i < n && lit[i] != '\0'; i++) {
		char ch = s[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (ch != lit[i])
			return 0;
	}
	return i == n && lit[i] == '\0';
}

static int
is_tchar(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || (ch != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* Field value and reason phrase bytes: HTAB, SP, VCHAR, obs-text. */
static int
is_text(char ch)
{
	unsigned char u = (unsigned char)ch;

	return u == '\t' || (u >= 0x20 && u != 0x7f);
}

/* The first n bytes of a status line, complete or not, could still become
 * "HTTP/1.x DDD reason": refusing early makes a non-HTTP peer fail fast. */
static int
status_prefix_ok(const char *s, size_t n)
{
	static const char pat[] = "HTTP/1.? ??? ";	/* '?' checked below */
	size_t i;

	for (i = 0; i < n && i < sizeof pat - 1; i++) {
		if (i == 7) {
			if (s[i] != '0' && s[i] != '1')
				return 0;
		} else if (i == 9) {
			if (s[i] < '1' || s[i] > '5')
				return 0;
		} else if (i == 10 || i == 11) {
			if (s[i] < '0' || s[i] > '9')
				return 0;
		} else if (s[i] != pat[i])
			return 0;
	}
	return 1;
}

/* One header line without its CRLF. Only the framing headers matter. */
static int
header(const char *s, size_t n, struct bg_reply *r, unsigned long *clen,
    int *have_clen, int *te)
{
	size_t i, name, vs, ve;

	for (name = 0; name < n && is_tchar(s[name]); name++)
		;
	if (name == 0 || name == n || s[name] != ':')
		return fail_line(r, "header line", s, n, "");
	for (i = name + 1; i < n; i++)
		if (!is_text(s[i]))
			return fail_line(r, "header line", s, n, "");
	for (vs = name + 1; vs < n && (s[vs] == ' ' || s[vs] == '\t'); vs++)
		;
	for (ve = n; ve > vs && (s[ve - 1] == ' ' || s[ve - 1] == '\t'); ve--)
		;
	if (ieq(s, name, "content-length")) {
		if (*have_clen)
			return fail(r, "more than one Content-Length");
		if (bg_parse_ulong(s + vs, ve - vs, ULONG_MAX, clen) < 0)
			return fail_line(r, "Content-Length", s + vs, ve - vs,
			    "");
		*have_clen = 1;
	} else if (ieq(s, name, "transfer-encoding")) {
		/* remember the worst one: chunked wins the message */
		if (*te != 2) {
			*te = 1;
			for (i = vs; i + 7 <= ve; i++)
				if (ieq(s + i, 7, "chunked"))
					*te = 2;
		}
	}
	return 0;
}

/* Incomplete: wait for more, unless the cap is already reached. */
static int
more(struct bg_reply *r, int over)
{
	return over ? fail(r, "reply over %d bytes", BG_REPLY_MAX) : 0;
}

static void
keep(struct bg_reply *r, const char *body, size_t n)
{
	r->bodylen = n < BG_BODY_KEEP ? n : BG_BODY_KEEP;
	memcpy(r->body, body, r->bodylen);
	r->bodytotal = n;
}

int
bg_http_parse(const char *buf, size_t n, int eof, int status_only,
    struct bg_reply *r)
{
	const char *p, *nl, *end = buf + n;
	size_t lines = 0, hdrlen, avail, len;
	unsigned long clen = 0;
	int have_clen = 0, te = 0, i, over = n > BG_REPLY_MAX;

	r->status = 0;
	r->bodylen = r->bodytotal = 0;
	r->err[0] = '\0';
	/* Parse what fits, so a reply over the cap is still refused for the
	 * first thing wrong with it (a huge Content-Length, say). */
	if (over) {
		n = BG_REPLY_MAX;
		end = buf + n;
		eof = 0;
	}
	if (n == 0)
		return eof ? fail(r, "connection closed without a reply") : 0;

	/* status line: HTTP/1.0|1.1 SP 3DIGIT SP reason CRLF */
	nl = memchr(buf, '\n', n);
	len = nl ? (size_t)(nl - buf) : n;
	if (!status_prefix_ok(buf, len))
		return fail_line(r, "status line", buf, nl ? len + 1 : n, "");
	if (nl == NULL)
		return eof ? fail_line(r, "status line", buf, n, " (cut short)")
		    : more(r, over);
	if (len == 0 || buf[len - 1] != '\r')
		return fail_line(r, "status line", buf, len + 1, " (bare LF)");
	len--;
	if (len < 13)
		return fail_line(r, "status line", buf, len + 2, "");
	for (i = 13; (size_t)i < len; i++)
		if (!is_text(buf[i]))
			return fail_line(r, "status line", buf, len + 2, "");
	r->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + buf[11] - '0';

	/* header lines, up to the empty one */
	for (p = nl + 1;; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			return eof ? fail(r, "connection closed in the headers")
			    : more(r, over);
		if (nl == p || nl[-1] != '\r')
			return fail_line(r, "header line", p,
			    (size_t)(nl - p) + 1, " (bare LF)");
		len = (size_t)(nl - p) - 1;
		if (len == 0)
			break;
		if (++lines > HDR_LINES_MAX)
			return fail(r, "more than %d header lines",
			    HDR_LINES_MAX);
		if (header(p, len, r, &clen, &have_clen, &te) < 0)
			return -1;
	}
	p = nl + 1;
	hdrlen = (size_t)(p - buf);
	avail = n - hdrlen;
	/* a health check needs the status only, whatever the body framing */
	if (status_only)
		return 1;
	if (te == 2)
		return fail(r, "chunked encoding not supported");
	if (te == 1)
		return fail(r, "Transfer-Encoding not supported");
	if (r->status < 200 || r->status == 204 || r->status == 304)
		return 1;
	if (have_clen) {
		if (clen > BG_REPLY_MAX - hdrlen)
			return fail(r, "reply over %d bytes (Content-Length: %lu)",
			    BG_REPLY_MAX, clen);
		if (avail > clen)
			avail = clen;	/* trailing garbage is not ours */
		keep(r, p, avail);
		if (avail == clen)
			return 1;
		return eof ? fail(r, "reply cut short: %zu of %lu body bytes",
		    avail, clen) : 0;
	}
	keep(r, p, avail);	/* no length: the body ends at EOF */
	return eof ? 1 : more(r, over);
}

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
			fail(r, "cannot resolve %s: %s", a->host,
			    g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g));
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
		fail(r, "cannot connect to %s within %s", where, budget);
	else
		fail(r, "cannot connect to %s: %s", where, strerror(err));
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
		fail(r, "bad %s for a request to %s",
		    path[0] != '/' || !token_ok(path) ? "path" : "Host header",
		    where);
		return BG_SYS;
	}
	w = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: bg\r\nConnection: close\r\n\r\n", path, host);
	if (w < 0 || (size_t)w >= sizeof req) {
		fail(r, "request to %s too long", where);
		return BG_SYS;
	}
	if ((fd = dial(a, deadline, where, budget, r, &rc)) < 0)
		return rc;
	rc = send_all(fd, req, (size_t)w, deadline);
	if (rc != 0) {
		if (rc == BG_TIMEOUT)
			fail(r, "cannot send a request to %s within %s",
			    where, budget);
		else
			fail(r, "cannot send a request to %s: %s", where,
			    strerror(errno));
		close(fd);
		return rc;
	}
	for (;;) {
		pr = wait_fd(fd, POLLIN, deadline);
		if (pr == 0) {
			if (n == 0)
				fail(r, "no reply from %s within %s", where,
				    budget);
			else
				fail(r, "incomplete reply from %s within %s "
				    "(%zu bytes)", where, budget, n);
			rc = BG_TIMEOUT;
			break;
		}
		k = pr < 0 ? -1 : read(fd, buf + n, sizeof buf - n);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k < 0) {
			fail(r, "cannot read the reply from %s after %zu "
			    "bytes: %s", where, n, strerror(errno));
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
			fail(r, "bad reply from %s: %s", where, err);
			rc = BG_SYS;
			break;
		}
	}
	close(fd);
	return rc;
}
