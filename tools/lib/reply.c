/* reply.c - the HTTP/1.x reply parser behind bg_http_get (http.c). Pure:
 * it sees bytes, never a socket. The tools only ever ask nginx or their own
 * instances for a status and a word, so it is strict and refuses what it
 * does not need (chunked bodies, bare LF line ends, folded headers) instead
 * of half-supporting it. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bg.h"

#define HDR_LINES_MAX	100	/* nginx sends ~8; more is not a /bg reply */
#define EXCERPT		60	/* input bytes quoted in a message */

int
bg_reply_fail(struct bg_reply *r, const char *fmt, ...)
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
	return bg_reply_fail(r, "malformed %s %s%s", what, ex, why);
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
			return bg_reply_fail(r, "more than one Content-Length");
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
	return over ? bg_reply_fail(r, "reply over %d bytes", BG_REPLY_MAX) : 0;
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
		return eof ? bg_reply_fail(r, "connection closed without a "
		    "reply") : 0;

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
			return eof ? bg_reply_fail(r, "connection closed in "
			    "the headers") : more(r, over);
		if (nl == p || nl[-1] != '\r')
			return fail_line(r, "header line", p,
			    (size_t)(nl - p) + 1, " (bare LF)");
		len = (size_t)(nl - p) - 1;
		if (len == 0)
			break;
		if (++lines > HDR_LINES_MAX)
			return bg_reply_fail(r, "more than %d header lines",
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
		return bg_reply_fail(r, "chunked encoding not supported");
	if (te == 1)
		return bg_reply_fail(r, "Transfer-Encoding not supported");
	if (r->status < 200 || r->status == 204 || r->status == 304)
		return 1;
	if (have_clen) {
		if (clen > BG_REPLY_MAX - hdrlen)
			return bg_reply_fail(r, "reply over %d bytes "
			    "(Content-Length: %lu)", BG_REPLY_MAX, clen);
		if (avail > clen)
			avail = clen;	/* trailing garbage is not ours */
		keep(r, p, avail);
		if (avail == clen)
			return 1;
		return eof ? bg_reply_fail(r, "reply cut short: %zu of %lu "
		    "body bytes", avail, clen) : 0;
	}
	keep(r, p, avail);	/* no length: the body ends at EOF */
	return eof ? 1 : more(r, over);
}
