/* unit_http - table-driven tests of the pure parsers in addr.c and reply.c.
 * Prints TAP ("ok N - name" / "not ok N - name: why") and exits 1 if any
 * case failed. Run by tests/unit.bats. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"

#define L(s) s, sizeof(s) - 1	/* a literal with its length, NULs and all */

static int ntest, nfail;

static void
check(int ok, const char *name, const char *fmt, const char *a, const char *b)
{
	ntest++;
	if (ok) {
		printf("ok %d - %s\n", ntest, name);
		return;
	}
	nfail++;
	printf("not ok %d - %s: ", ntest, name);
	printf(fmt, a, b);
	putchar('\n');
}

static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s >= 0x7f)
			return 0;
	return 1;
}

static const struct {
	const char *in;
	size_t n;
	const char *fmt;	/* NULL: must be refused */
} addrs[] = {
	{ L("127.0.0.1:8001"), "127.0.0.1:8001" },
	{ L("[::1]:8001"), "[::1]:8001" },
	{ L("[2001:db8::7]:1"), "[2001:db8::7]:1" },
	{ L("localhost:65535"), "localhost:65535" },
	{ L("app-1.example.com:80"), "app-1.example.com:80" },
	{ L("a:1"), "a:1" },
	{ L("unix:/run/app.sock"), "unix:/run/app.sock" },
	{ L("unix:/a:b"), "unix:/a:b" },
	{ L(""), NULL },
	{ L(":80"), NULL },
	{ L("127.0.0.1"), NULL },
	{ L("127.0.0.1:"), NULL },
	{ L("127.0.0.1:0"), NULL },
	{ L("127.0.0.1:65536"), NULL },
	{ L("127.0.0.1:+80"), NULL },
	{ L("127.0.0.1: 80"), NULL },
	{ L("127.0.0.1:80 "), NULL },
	{ L("127.0.0.1:80\0"), NULL },
	{ L("127.0.0.1:99999999999999999999999"), NULL },
	{ L("[::1]"), NULL },
	{ L("[::1]:"), NULL },
	{ L("[::1]8001"), NULL },
	{ L("[::1:8001"), NULL },
	{ L("[::\0junk]:8001"), NULL },
	{ L("::1:8001"), NULL },
	{ L("[zz]:80"), NULL },
	{ L("[]:80"), NULL },
	{ L("[fe80::1%eth0]:80"), NULL },
	{ L("[127.0.0.1]:80"), NULL },
	{ L("1.2.3:80"), NULL },
	{ L("256.1.1.1:80"), NULL },
	{ L("01.2.3.4:80"), NULL },
	{ L("host_name:80"), NULL },
	{ L("-a:80"), NULL },
	{ L("a-:80"), NULL },
	{ L("a..b:80"), NULL },
	{ L(".a:80"), NULL },
	{ L("a.:80"), NULL },
	{ L("user@a:80"), NULL },
	{ L("http://a:80"), NULL },
	{ L("unix:"), NULL },
	{ L("unix:/"), NULL },
	{ L("unix:rel.sock"), NULL },
	{ L("unix:/a\nb"), NULL },
	{ L("unix:/a\0b"), NULL },
	{ L("unix:/caf\xc3\xa9.sock"), NULL },
	{ L("unix:/a\x7f"), NULL },
	{ L("UNIX:/a"), NULL },
};

static const struct {
	const char *in;
	size_t n;
	const char *addr, *path;	/* addr NULL: must be refused */
} urls[] = {
	{ L("http://127.0.0.1/bg"), "127.0.0.1:80", "/bg" },
	{ L("http://127.0.0.1:8080/bg?x=1&y=%20"), "127.0.0.1:8080",
	    "/bg?x=1&y=%20" },
	{ L("http://[::1]:8080/"), "[::1]:8080", "/" },
	{ L("http://[::1]/x"), "[::1]:80", "/x" },
	{ L("http://localhost/bg"), "localhost:80", "/bg" },
	{ L("unix:/run/nginx.sock:/bg"), "unix:/run/nginx.sock", "/bg" },
	{ L("unix:/s:/a:b"), "unix:/s", "/a:b" },
	{ L("https://a/bg"), NULL, NULL },
	{ L("HTTP://a/bg"), NULL, NULL },
	{ L("ftp://a/bg"), NULL, NULL },
	{ L("http://a"), NULL, NULL },
	{ L("http:///bg"), NULL, NULL },
	{ L("http://a:/bg"), NULL, NULL },
	{ L("http://a:0/bg"), NULL, NULL },
	{ L("http://u@a/bg"), NULL, NULL },
	{ L("http://unix:35/"), NULL, NULL },
	{ L("http://u:p@a/bg"), NULL, NULL },
	{ L("http://a/b c"), NULL, NULL },
	{ L("http://a/b#frag"), NULL, NULL },
	{ L("http://a/b\x7f"), NULL, NULL },
	{ L("http://a/b\xc3\xa9"), NULL, NULL },
	{ L("http://a/b\r\nX: y"), NULL, NULL },
	{ L("http://a/b\0"), NULL, NULL },
	{ L("http://[::1/bg"), NULL, NULL },
	{ L("unix:/run/nginx.sock"), NULL, NULL },
	{ L("unix:/run/nginx.sock:bg"), NULL, NULL },
	{ L("unix:/run/nginx.sock:"), NULL, NULL },
	{ L("unix:rel:/bg"), NULL, NULL },
	{ L("unix::/bg"), NULL, NULL },
	{ L("127.0.0.1:80/bg"), NULL, NULL },
	{ L(" http://a/bg"), NULL, NULL },
};

static void
test_addr(void)
{
	struct bg_addr a;
	struct bg_url u;
	char fmt[300], name[400], path[1400], ex[300];
	size_t i;
	int r;

	for (i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
		bg_excerpt(addrs[i].in, addrs[i].n, 60, ex, sizeof ex);
		snprintf(name, sizeof name, "addr %s %s", ex,
		    addrs[i].fmt ? "parses" : "is refused");
		r = bg_addr_parse(addrs[i].in, addrs[i].n, &a);
		if (addrs[i].fmt == NULL)
			check(r == -1, name, "%s%s", "accepted", "");
		else
			check(r == 0 && strcmp(bg_addr_fmt(&a, fmt, sizeof fmt),
			    addrs[i].fmt) == 0, name, "got %s, want %s",
			    r == 0 ? fmt : "refused", addrs[i].fmt);
	}
	for (i = 0; i < sizeof urls / sizeof urls[0]; i++) {
		bg_excerpt(urls[i].in, urls[i].n, 60, ex, sizeof ex);
		snprintf(name, sizeof name, "url %s %s", ex,
		    urls[i].addr ? "parses" : "is refused");
		r = bg_url_parse(urls[i].in, urls[i].n, &u);
		if (urls[i].addr == NULL) {
			check(r == -1, name, "%s%s", "accepted", "");
			continue;
		}
		bg_addr_fmt(&u.addr, fmt, sizeof fmt);
		snprintf(path, sizeof path, "%s %s", fmt, u.path);
		snprintf(fmt, sizeof fmt, "%s %s", urls[i].addr, urls[i].path);
		check(r == 0 && strcmp(path, fmt) == 0, name, "got %s, want %s",
		    r == 0 ? path : "refused", fmt);
	}

	/* the limits: a 107-byte socket path fits, 108 does not */
	memcpy(path, "unix:/", 6);
	memset(path + 6, 'a', 106);
	check(bg_addr_parse(path, 6 + 106, &a) == 0 && strlen(a.path) == 107,
	    "addr unix path of 107 bytes parses", "%s%s", "refused", "");
	path[6 + 106] = 'a';
	check(bg_addr_parse(path, 6 + 107, &a) == -1,
	    "addr unix path of 108 bytes is refused", "%s%s", "accepted", "");
	memcpy(path, "http://a/", 9);
	memset(path + 9, 'p', 1022);
	check(bg_url_parse(path, 8 + 1023, &u) == 0 &&
	    strlen(u.path) == 1023, "url path of 1023 bytes parses", "%s%s",
	    "refused", "");
	check(bg_url_parse(path, 8 + 1024, &u) == -1,
	    "url path of 1024 bytes is refused", "%s%s", "accepted", "");
}

static const struct {
	const char *name, *in;
	size_t n;
	int eof, status_only;
	int ret, status;	/* want */
	const char *body;	/* want (NULL: don't check), or err substring */
} replies[] = {
	{ "200 with Content-Length", L("HTTP/1.1 200 OK\r\n"
	    "Content-Length: 5\r\n\r\nblue\n"), 0, 0, 1, 200, "blue\n" },
	{ "HTTP/1.0 and a lower-case header name", L("HTTP/1.0 200 OK\r\n"
	    "content-length:5\r\n\r\nblue\n"), 0, 0, 1, 200, "blue\n" },
	{ "Content-Length with spaces around it", L("HTTP/1.1 200 OK\r\n"
	    "Content-Length: \t 6 \r\n\r\ngreen\n"), 0, 0, 1, 200, "green\n" },
	{ "body not all in yet", L("HTTP/1.1 200 OK\r\n"
	    "Content-Length: 5\r\n\r\nblu"), 0, 0, 0, 200, NULL },
	{ "headers not all in yet", L("HTTP/1.1 200 OK\r\n"
	    "Content-Length: 5\r\n"), 0, 0, 0, 200, NULL },
	{ "status line not all in yet", L("HTTP/1.1 20"), 0, 0, 0, 0, NULL },
	{ "nothing yet", L(""), 0, 0, 0, 0, NULL },
	{ "empty reply", L(""), 1, 0, -1, 0, "without a reply" },
	{ "no length: more until EOF", L("HTTP/1.0 200 OK\r\n\r\nblue\n"),
	    0, 0, 0, 200, NULL },
	{ "no length: body ends at EOF", L("HTTP/1.0 200 OK\r\n\r\nblue\n"),
	    1, 0, 1, 200, "blue\n" },
	{ "bytes after Content-Length are ignored", L("HTTP/1.1 200 OK\r\n"
	    "Content-Length: 4\r\n\r\nbluegreen"), 0, 0, 1, 200, "blue" },
	{ "404 with an empty body", L("HTTP/1.1 404 Not Found\r\n"
	    "Content-Length: 0\r\n\r\n"), 0, 0, 1, 404, "" },
	{ "204 has no body", L("HTTP/1.1 204 No Content\r\n\r\n"), 0, 0, 1,
	    204, "" },
	{ "empty reason phrase", L("HTTP/1.1 200 \r\nContent-Length: 0\r\n"
	    "\r\n"), 0, 0, 1, 200, "" },
	{ "reason with obs-text and tabs", L("HTTP/1.1 500 Int\xe9rn\tal\r\n"
	    "Content-Length: 0\r\n\r\n"), 0, 0, 1, 500, "" },
	{ "status_only: complete at the end of the headers",
	    L("HTTP/1.1 503 Unavailable\r\nContent-Length: 99999999\r\n\r\n"),
	    0, 1, 1, 503, NULL },
	{ "status_only: chunked is fine", L("HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n5\r\n"), 0, 1, 1, 200, NULL },
	{ "status_only: still needs the headers", L("HTTP/1.1 200 OK\r\n"),
	    0, 1, 0, 200, NULL },
	{ "chunked is refused", L("HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n5\r\nblue\n\r\n0\r\n\r\n"),
	    0, 0, -1, 200, "chunked encoding not supported" },
	{ "chunked after gzip is refused", L("HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: gzip, Chunked\r\n\r\n"), 0, 0, -1, 200,
	    "chunked encoding not supported" },
	{ "other transfer codings are refused", L("HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: gzip\r\n\r\n"), 1, 0, -1, 200,
	    "Transfer-Encoding not supported" },
	{ "Content-Length over the cap", L("HTTP/1.1 200 OK\r\n"
	    "Content-Length: 67108864\r\n\r\n"), 0, 0, -1, 200,
	    "reply over 65536 bytes (Content-Length: 67108864)" },
	{ "Content-Length just over the cap", L("HTTP/1.1 200 OK\r\n"
	    "Content-Length: 65500\r\n\r\n"), 0, 0, -1, 200, "reply over" },
	{ "Content-Length overflowing", L("HTTP/1.1 200 OK\r\n"
	    "Content-Length: 99999999999999999999999\r\n\r\n"), 0, 0, -1, 200,
	    "malformed Content-Length" },
	{ "negative Content-Length", L("HTTP/1.1 200 OK\r\n"
	    "Content-Length: -1\r\n\r\n"), 0, 0, -1, 200,
	    "malformed Content-Length \"-1\"" },
	{ "Content-Length list", L("HTTP/1.1 200 OK\r\n"
	    "Content-Length: 5, 5\r\n\r\nblue\n"), 0, 0, -1, 200, "malformed" },
	{ "empty Content-Length", L("HTTP/1.1 200 OK\r\n"
	    "Content-Length:\r\n\r\n"), 0, 0, -1, 200, "malformed" },
	{ "two Content-Lengths", L("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	    "Content-Length: 5\r\n\r\nblue\n"), 0, 0, -1, 200,
	    "more than one Content-Length" },
	{ "body cut short", L("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
	    "blue\n"), 1, 0, -1, 200, "reply cut short: 5 of 10 body bytes" },
	{ "EOF in the headers", L("HTTP/1.1 200 OK\r\nContent-Le"), 1, 0, -1,
	    200, "closed in the headers" },
	{ "EOF in the status line", L("HTTP/1.1 200 OK"), 1, 0, -1, 0,
	    "malformed status line \"HTTP/1.1 200 OK\" (cut short)" },
	{ "bare LF status line", L("HTTP/1.1 200 OK\n\r\nblue\n"), 1, 0, -1,
	    0, "malformed status line \"HTTP/1.1 200 OK\\n\" (bare LF)" },
	{ "bare LF header line", L("HTTP/1.1 200 OK\r\nServer: x\n\r\n"), 1,
	    0, -1, 200, "malformed header line \"Server: x\\n\" (bare LF)" },
	{ "bare LF end of headers", L("HTTP/1.1 200 OK\r\n\nblue\n"), 1, 0, -1,
	    200, "bare LF" },
	{ "CR inside the status line", L("HTTP/1.1 200 O\rK\r\n\r\n"), 1, 0,
	    -1, 0, "malformed status line" },
	{ "NUL inside the reason", L("HTTP/1.1 200 O\0K\r\n\r\n"), 1, 0, -1, 0,
	    "malformed status line \"HTTP/1.1 200 O\\x00K\\r\\n\"" },
	{ "HTTP/2 status line", L("HTTP/2 200 OK\r\n\r\n"), 1, 0, -1, 0,
	    "malformed status line" },
	{ "HTTP/1.2", L("HTTP/1.2 200 OK\r\n\r\n"), 1, 0, -1, 0, "malformed" },
	{ "lower-case http", L("http/1.1 200 OK\r\n\r\n"), 1, 0, -1, 0,
	    "malformed" },
	{ "no reason and no space", L("HTTP/1.1 200\r\n\r\n"), 1, 0, -1, 0,
	    "malformed status line" },
	{ "two-digit status", L("HTTP/1.1 20 OK\r\n\r\n"), 1, 0, -1, 0,
	    "malformed" },
	{ "status 600", L("HTTP/1.1 600 X\r\n\r\n"), 1, 0, -1, 0, "malformed" },
	{ "four-digit status", L("HTTP/1.1 2000 X\r\n\r\n"), 1, 0, -1, 0,
	    "malformed" },
	{ "leading space", L(" HTTP/1.1 200 OK\r\n\r\n"), 1, 0, -1, 0,
	    "malformed" },
	{ "not HTTP at all fails early", L("SSH-2.0-OpenSSH_9.2"), 0, 0, -1, 0,
	    "malformed status line \"SSH-2.0-OpenSSH_9.2\"" },
	{ "a partial good prefix waits", L("HTT"), 0, 0, 0, 0, NULL },
	{ "folded header", L("HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n"), 1, 0,
	    -1, 200, "malformed header line \" c\"" },
	{ "space before the colon", L("HTTP/1.1 200 OK\r\n"
	    "Content-Length : 5\r\n\r\nblue\n"), 1, 0, -1, 200,
	    "malformed header line" },
	{ "header without a colon", L("HTTP/1.1 200 OK\r\nblue\r\n\r\n"), 1, 0,
	    -1, 200, "malformed header line \"blue\"" },
	{ "control byte in a header value", L("HTTP/1.1 200 OK\r\n"
	    "X: a\x01" "b\r\n\r\n"), 1, 0, -1, 200,
	    "malformed header line \"X: a\\x01b\"" },
	{ "escape sequence in an error is defused", L("\x1b[2J"), 0, 0, -1, 0,
	    "malformed status line \"\\x1b[2J\"" },
};

static void
test_reply(void)
{
	static char big[BG_REPLY_MAX + 200];
	struct bg_reply r;
	size_t i, n;
	int ret;
	char name[200], got[300];

	for (i = 0; i < sizeof replies / sizeof replies[0]; i++) {
		const char *want = replies[i].body;
		int ok;

		memset(&r, 'x', sizeof r);
		ret = bg_http_parse(replies[i].in, replies[i].n, replies[i].eof,
		    replies[i].status_only, &r);
		snprintf(name, sizeof name, "http %s", replies[i].name);
		ok = ret == replies[i].ret && printable(r.err);
		if (ret >= 0)
			ok = ok && r.err[0] == '\0';
		if (ret > 0 || replies[i].status != 0)
			ok = ok && r.status == replies[i].status;
		if (ret == 1 && want != NULL)
			ok = ok && r.bodylen == strlen(want) &&
			    memcmp(r.body, want, r.bodylen) == 0;
		if (ret == -1 && want != NULL)
			ok = ok && strstr(r.err, want) != NULL;
		snprintf(got, sizeof got, "ret %d status %d err %.200s", ret,
		    r.status, r.err);
		check(ok, name, "got %s%s", got, "");
	}

	/* a body longer than what is kept */
	n = (size_t)snprintf(big, sizeof big,
	    "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
	memset(big + n, 'b', 1000);
	ret = bg_http_parse(big, n + 1000, 0, 0, &r);
	check(ret == 1 && r.bodylen == BG_BODY_KEEP && r.bodytotal == 1000,
	    "http a 1000-byte body: 256 bytes kept, 1000 seen", "%s%s",
	    "wrong counts", "");

	/* exactly BG_REPLY_MAX bytes without a length is fine, one more not */
	n = (size_t)snprintf(big, sizeof big, "HTTP/1.0 200 OK\r\n\r\n");
	memset(big + n, 'b', sizeof big - n);
	ret = bg_http_parse(big, BG_REPLY_MAX, 1, 0, &r);
	check(ret == 1 && r.bodytotal == BG_REPLY_MAX - n,
	    "http a reply of exactly BG_REPLY_MAX bytes", "ret %s%s",
	    ret == 1 ? "1" : "not 1", "");
	ret = bg_http_parse(big, BG_REPLY_MAX + 1, 0, 0, &r);
	check(ret == -1 && strcmp(r.err, "reply over 65536 bytes") == 0,
	    "http a reply over BG_REPLY_MAX bytes", "err %s%s", r.err, "");

	/* over the cap in one read: the Content-Length is still what is named */
	n = (size_t)snprintf(big, sizeof big,
	    "HTTP/1.1 200 OK\r\nContent-Length: 67108864\r\n\r\n");
	memset(big + n, 'b', sizeof big - n);
	ret = bg_http_parse(big, sizeof big, 0, 0, &r);
	check(ret == -1 && strstr(r.err, "(Content-Length: 67108864)"),
	    "http over the cap at once: Content-Length named", "err %s%s",
	    r.err, "");
	/* ... and a small Content-Length with trailing bytes is complete */
	snprintf(big, sizeof big,
	    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nblue\n");
	ret = bg_http_parse(big, sizeof big, 0, 0, &r);
	check(ret == 1 && r.bodytotal == 5, "http over the cap at once: "
	    "a complete reply with trailing bytes", "err %s%s", r.err, "");

	/* more header lines than the cap */
	n = (size_t)snprintf(big, sizeof big, "HTTP/1.1 200 OK\r\n");
	for (i = 0; i < 101; i++)
		n += (size_t)snprintf(big + n, sizeof big - n, "X-%zu: y\r\n", i);
	ret = bg_http_parse(big, n, 0, 0, &r);
	check(ret == -1 && strstr(r.err, "more than 100 header lines"),
	    "http 101 header lines are refused", "err %s%s", r.err, "");

	/* a long malformed line: the error is cut, stays one printable line */
	n = (size_t)snprintf(big, sizeof big, "HTTP/1.1 200 OK\r\nX");
	memset(big + n, '\n', 2000);
	big[n + 2000] = '\r';
	memset(big + n + 1, 0x7f, 1000);
	ret = bg_http_parse(big, n + 2000, 1, 0, &r);
	check(ret == -1 && printable(r.err) && strlen(r.err) < sizeof r.err,
	    "http error text is printable and bounded", "err %s%s", r.err, "");
}

static void
test_excerpt(void)
{
	char buf[64];

	bg_excerpt("blue\n", 5, 60, buf, sizeof buf);
	check(strcmp(buf, "\"blue\\n\"") == 0, "excerpt escapes a newline",
	    "got %s%s", buf, "");
	bg_excerpt("blue green", 10, 4, buf, sizeof buf);
	check(strcmp(buf, "\"blue\"...") == 0, "excerpt cut at max",
	    "got %s%s", buf, "");
	bg_excerpt("\"\\\x80", 3, 60, buf, sizeof buf);
	check(strcmp(buf, "\"\\\"\\\\\\x80\"") == 0,
	    "excerpt escapes quote, backslash, high bytes", "got %s%s", buf,
	    "");
	bg_excerpt("aaaaaaaaaaaaaaaaaaaa", 20, 60, buf, 12);
	check(strcmp(buf, "\"aaaaaaa\"...") == 0 || strlen(buf) < 12,
	    "excerpt fits a small buffer", "got %s%s", buf, "");
}

int
main(void)
{
	test_addr();
	test_reply();
	test_excerpt();
	printf("1..%d\n", ntest);
	if (nfail > 0)
		fprintf(stderr, "unit_http: %d of %d failed\n", nfail, ntest);
	return nfail > 0;
}
