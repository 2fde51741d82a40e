/* addr.c - where an instance listens, and the URLs the tools GET.
 * Strict on purpose: what is accepted here ends up in a connect(2) and in a
 * request line, so anything unusual is refused rather than guessed at. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "bg.h"

static int
is_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9');
}

/* A socket path: absolute, fits sun_path with its NUL, printable ASCII (a
 * newline would break every line-based file that names it, and messages
 * quote it to a terminal). */
static int
unix_path(const char *s, size_t n, struct bg_addr *a)
{
	size_t i;

	if (n < 2 || n > BG_SUN_MAX || s[0] != '/')
		return -1;
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] >= 0x7f)
			return -1;
	memcpy(a->path, s, n);
	a->path[n] = '\0';
	a->is_unix = 1;
	return 0;
}

/* A dotted quad, or a DNS name of letters, digits, dots and hyphens. A name
 * whose last label is all digits must be a valid dotted quad: otherwise
 * getaddrinfo would read "10.1" or "0x7f.1" the inet_aton way. */
static int
host_name(const char *s, size_t n)
{
	size_t i, label = 0;
	int digits = 1;
	char tmp[16];
	struct in_addr in;

	if (n == 0 || n > 253)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (label == 0 || s[i - 1] == '-')
				return -1;
			label = 0;
			digits = 1;
			continue;
		}
		if (!is_alnum(s[i]) && s[i] != '-')
			return -1;
		if (s[i] == '-' && label == 0)
			return -1;
		if (s[i] < '0' || s[i] > '9')
			digits = 0;
		if (++label > 63)
			return -1;
	}
	if (label == 0 || s[n - 1] == '-')
		return -1;
	if (digits) {
		if (n >= sizeof tmp)
			return -1;
		memcpy(tmp, s, n);
		tmp[n] = '\0';
		if (inet_pton(AF_INET, tmp, &in) != 1)
			return -1;
	}
	return 0;
}

static int
port(const char *s, size_t n, unsigned *out)
{
	unsigned long v;

	if (bg_parse_ulong(s, n, 65535, &v) < 0 || v == 0)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* "[v6]", "[v6]:port", "host", "host:port" (port optional when defport) */
static int
hostport(const char *s, size_t n, unsigned defport, struct bg_addr *a)
{
	const char *hs, *ps = NULL;
	size_t hn, pn = 0;
	struct in6_addr in6;

	if (n > 0 && s[0] == '[') {
		const char *rb = memchr(s, ']', n);

		if (rb == NULL)
			return -1;
		hs = s + 1;
		hn = (size_t)(rb - hs);
		if (rb + 1 < s + n) {
			if (rb[1] != ':')
				return -1;
			ps = rb + 2;
			pn = (size_t)(s + n - ps);
		}
		if (hn == 0 || hn >= 46)	/* INET6_ADDRSTRLEN */
			return -1;
		/* inet_pton would stop at a NUL and accept "::\0junk" */
		if (strspn(hs, "0123456789abcdefABCDEF:.") < hn)
			return -1;
		memcpy(a->host, hs, hn);
		a->host[hn] = '\0';
		if (inet_pton(AF_INET6, a->host, &in6) != 1)
			return -1;
	} else {
		const char *colon = memchr(s, ':', n);

		hs = s;
		hn = colon ? (size_t)(colon - s) : n;
		if (colon) {
			ps = colon + 1;
			pn = (size_t)(s + n - ps);
		}
		/* "unix:..." is a socket path: a host "unix" could not be
		 * written back as HOST:PORT */
		if (host_name(hs, hn) < 0 || (hn == 4 && memcmp(hs, "unix",
		    4) == 0))
			return -1;
		memcpy(a->host, hs, hn);
		a->host[hn] = '\0';
	}
	if (ps != NULL)
		return port(ps, pn, &a->port);
	if (defport == 0)
		return -1;
	a->port = defport;
	return 0;
}

int
bg_addr_parse(const char *s, size_t n, struct bg_addr *a)
{
	memset(a, 0, sizeof *a);
	if (n >= 5 && memcmp(s, "unix:", 5) == 0)
		return unix_path(s + 5, n - 5, a);
	return hostport(s, n, 0, a);
}

/* The request target: '/' then printable ASCII, no spaces (it goes into the
 * request line verbatim) and no '#' (a fragment is never sent). */
static int
url_path(const char *s, size_t n, struct bg_url *u)
{
	size_t i;

	if (n == 0 || n >= sizeof u->path || s[0] != '/')
		return -1;
	for (i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '#')
			return -1;
	memcpy(u->path, s, n);
	u->path[n] = '\0';
	return 0;
}

int
bg_url_parse(const char *s, size_t n, struct bg_url *u)
{
	const char *p;

	memset(u, 0, sizeof *u);
	if (n >= 7 && memcmp(s, "http://", 7) == 0) {
		s += 7;
		n -= 7;
		p = memchr(s, '/', n);
		if (p == NULL)
			return -1;
		if (hostport(s, (size_t)(p - s), 80, &u->addr) < 0)
			return -1;
	} else if (n >= 5 && memcmp(s, "unix:", 5) == 0) {
		/* like nginx's unix:/path:/uri, the first ':' ends the path */
		p = memchr(s + 5, ':', n - 5);
		if (p == NULL)
			return -1;
		if (unix_path(s + 5, (size_t)(p - s - 5), &u->addr) < 0)
			return -1;
		p++;
	} else
		return -1;
	return url_path(p, (size_t)(s + n - p), u);
}

const char *
bg_addr_fmt(const struct bg_addr *a, char *buf, size_t len)
{
	int r;

	if (a->is_unix)
		r = snprintf(buf, len, "unix:%s", a->path);
	else if (strchr(a->host, ':') != NULL)
		r = snprintf(buf, len, "[%s]:%u", a->host, a->port);
	else
		r = snprintf(buf, len, "%s:%u", a->host, a->port);
	if (r < 0 && len > 0)
		buf[0] = '\0';
	return buf;
}

const char *
bg_url_fmt(const struct bg_addr *a, const char *path, char *buf, size_t len)
{
	char where[300];
	int r;

	bg_addr_fmt(a, where, sizeof where);
	r = snprintf(buf, len, "%s%s%s%s", a->is_unix ? "" : "http://", where,
	    a->is_unix ? ":" : "", path);
	if (r < 0 && len > 0)
		buf[0] = '\0';
	return buf;
}
