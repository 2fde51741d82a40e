/* bgapp - the fixture app the tests deploy: answers its color and version.
 * One thread, one epoll loop; slow (?sleep=MS) requests are timers, so a
 * load test through nginx measures nginx, not the app.
 *
 * Any GET/POST/HEAD: 200 "COLOR VERSION\n"; /up: 200 "ok\n", or 503 while
 * --down-file exists. HTTP/1.1 keep-alive and pipelining; a POST body is
 * read (Content-Length) and ignored. --reset-every N resets (RST) every Nth
 * connection once its first request is in: a connection that never sends
 * one does not count. A unix socket gets --sock-mode (default 0660); a stale
 * one is replaced, a live one refused. Once it listens it prints its address
 * on stdout: the harness waits for that line rather than probing. SIGTERM
 * or SIGINT: the listener closes (its socket file goes), idle connections
 * close, busy ones finish, exit 0 (3 if still busy after 120 s).
 *
 * Long-lived answers, for what a switch does to them:
 * /ws (a WebSocket, RFC 6455): sends one text message "COLOR VERSION" on
 * open, then echoes every message and answers pings; frames over WS_MSG_MAX
 * bytes get close 1009. /sse[?every=MS]: text/event-stream, chunked, an
 * event "color" with data "COLOR VERSION" at once and every MS (default
 * 1000); with plain=1 in the query, or to an HTTP/1.0 request, the stream
 * is not chunked but ends with the connection (what nginx buffers unless
 * told not to). On SIGTERM a WebSocket gets close 1001 (going away) and the app
 * waits up to 5 s for the client's close; an event stream ends cleanly
 * (the last chunk). */
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bg.h"
#include "ws.h"

#define IN_MAX    16384		/* request head; more is a 400 */
#define SLEEP_MAX 600000	/* ms, cap of ?sleep= */
#define DRAIN_MAX 120000	/* ms after SIGTERM before giving up (exit 3) */
#define WS_MSG_MAX 512		/* longest WebSocket frame echoed */
#define WS_CLOSE_MS 5000	/* after our close frame, for the client's */

static const char usage[] =
    "bgapp --listen ADDR --color COLOR --version VER [--down-file PATH] "
    "[--reset-every N] [--sock-mode OCTAL] | bgapp --free-port";

enum { S_READ, S_BODY, S_SLEEP, S_WRITE,
	S_WS, S_WSCLOSE, S_SSE, S_SSEEND };	/* long-lived answers */
enum { K_HTTP, K_WS, K_SSE };

struct conn {
	int fd, state, keep, head, kind, sleeping, plain;
	unsigned ev;
	long every;			/* SSE: ms between events */
	unsigned long served, body_left;
	long long wake;			/* ms to sleep, then deadline */
	const char *status, *body;
	struct conn *next_sleep;	/* sleepers */
	struct conn *prev, *next;	/* all conns, or spare */
	size_t inlen, outlen, outoff;
	char out[2048];
	char wskey[WS_KEY_MAX + 1];
	char in[IN_MAX];
};

static int ep = -1, lfd = -1, draining;
static const char *down_file;
static char answer[210];
static unsigned long reset_every, nfirst;
static long nconns;
static struct conn *sleepers, *conns, *spare;	/* spare: closed, reused */
static struct bg_addr addr;
static struct stat sock_st;

static void process(struct conn *c);

static void
set_events(struct conn *c, unsigned ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = c };

	if (c->ev != ev && epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e) < 0)
		bg_diesys(BG_SYS, "epoll_ctl");
	c->ev = ev;
}

static void
drop(struct conn *c, int rst)
{
	struct linger l = { 1, 0 };
	struct conn **p;

	if (c->fd < 0)
		return;	/* dropped already, further up the same call chain */
	for (p = &sleepers; c->sleeping && *p; p = &(*p)->next_sleep)
		if (*p == c) {
			*p = c->next_sleep;
			break;
		}
	/* SO_LINGER 0: close sends RST, the loss bgload must count */
	if (rst)
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
	close(c->fd);
	c->fd = -1;
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = spare;
	spare = c;
	nconns--;
}

/* Send what is queued: 1 when all of it is out, 0 when the socket is full
 * (then wait for it with events ev), -1 when an error dropped c. */
static int
send_out(struct conn *c, unsigned ev)
{
	ssize_t n;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			set_events(c, ev);
			return 0;
		}
		if (n < 0) {
			drop(c, 0);
			return -1;
		}
		c->outoff += (size_t)n;
	}
	return 1;
}

static void
flush_out(struct conn *c)
{
	if (send_out(c, EPOLLOUT) <= 0)
		return;
	if (!c->keep) {
		drop(c, 0);
		return;
	}
	c->state = S_READ;
	process(c);	/* a pipelined request may be buffered already */
}

static void
respond(struct conn *c)
{
	size_t bl = strlen(c->body);
	int n;

	c->keep &= !draining;
	n = snprintf(c->out, sizeof c->out, "HTTP/1.1 %s\r\nContent-Type: "
	    "text/plain\r\nContent-Length: %zu\r\n%s\r\n%s", c->status, bl,
	    c->keep ? "" : "Connection: close\r\n", c->head ? "" : c->body);
	c->outlen = (size_t)n < sizeof c->out ? (size_t)n : sizeof c->out - 1;
	c->outoff = 0;
	c->state = S_WRITE;
	c->served++;
	flush_out(c);
}

/* ?NAME=MS (name with its '=') anywhere in the query of target[0..n) */
static long
query_ms(const char *target, size_t n, const char *name)
{
	const char *q = memchr(target, '?', n), *end = target + n;
	size_t nl = strlen(name);
	unsigned long ms;

	for (; q != NULL; q = memchr(q + 1, '&', (size_t)(end - q - 1)))
		if ((size_t)(end - q) > nl + 1 &&
		    strncmp(q + 1, name, nl) == 0 &&
		    bg_parse_ulong(q + 1 + nl, strcspn(q + 1 + nl, "&"),
		    SLEEP_MAX, &ms) == 0)
			return (long)ms;
	return 0;
}

/* path is exactly p (then end of target or '?') */
static int
is_path(const char *target, const char *p)
{
	size_t n = strlen(p);

	return strncmp(target, p, n) == 0 &&
	    (target[n] == '\0' || target[n] == '?');
}

/* The head of one request is c->in[0..end): read what matters, drop it. */
static void
take_head(struct conn *c, size_t end)
{
	char *sp, *sp2, *l, *v;
	int v11, conn_close = 0, conn_keep = 0, bad = 0, upgrade = 0;
	struct stat st;

	c->in[end - 2] = '\0';
	c->status = "200 OK";
	c->body = answer;
	c->body_left = 0;
	c->wake = 0;
	c->kind = K_HTTP;
	c->wskey[0] = '\0';
	sp = strchr(c->in, ' ');
	sp2 = sp ? strchr(sp + 1, ' ') : NULL;
	if (sp2 == NULL || strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
		bad = 1;
	for (l = c->in; !bad && (l = strchr(l, '\n')) != NULL; ) {
		*l++ = '\0';	/* ends the line before (and the target) */
		if ((v = strchr(l, ':')) == NULL)
			continue;
		v += 1 + strspn(v + 1, " \t");
		if (strncasecmp(l, "content-length:", 15) == 0)
			bad = bg_parse_ulong(v, strcspn(v, " \t\r"), 1UL << 40,
			    &c->body_left) < 0;
		else if (strncasecmp(l, "transfer-encoding:", 18) == 0)
			bad = 1;	/* chunked bodies: not needed here */
		else if (strncasecmp(l, "connection:", 11) == 0) {
			conn_close = strncasecmp(v, "close", 5) == 0;
			conn_keep = strncasecmp(v, "keep-alive", 10) == 0;
		} else if (strncasecmp(l, "upgrade:", 8) == 0)
			upgrade = strncasecmp(v, "websocket", 9) == 0;
		else if (strncasecmp(l, "sec-websocket-key:", 18) == 0 &&
		    strcspn(v, " \t\r") <= WS_KEY_MAX) {
			memcpy(c->wskey, v, strcspn(v, " \t\r"));
			c->wskey[strcspn(v, " \t\r")] = '\0';
		}
	}
	if (bad) {
		c->status = "400 Bad Request";
		c->body = "bad request\n";
		c->keep = 0;
	} else {
		v11 = sp2[8] != '0';
		*sp2 = '\0';
		c->keep = v11 ? !conn_close : conn_keep;
		c->head = sp - c->in == 4 && strncmp(c->in, "HEAD", 4) == 0;
		c->wake = query_ms(sp + 1, (size_t)(sp2 - sp - 1), "sleep=");
		if (is_path(sp + 1, "/ws") && !draining) {
			if (upgrade && c->wskey[0] != '\0' && v11)
				c->kind = K_WS;
			else {
				c->status = "400 Bad Request";
				c->body = "a WebSocket upgrade, please\n";
				c->keep = 0;
			}
		} else if (is_path(sp + 1, "/sse") && !draining) {
			c->kind = K_SSE;
			c->every = query_ms(sp + 1, (size_t)(sp2 - sp - 1),
			    "every=");
			c->plain = !v11 || query_ms(sp + 1,
			    (size_t)(sp2 - sp - 1), "plain=") > 0;
			if (c->every < 10)
				c->every = c->every == 0 ? 1000 : 10;
		} else if (is_path(sp + 1, "/up")) {
			c->body = "ok\n";
			if (down_file && stat(down_file, &st) == 0) {
				c->status = "503 Service Unavailable";
				c->body = "down\n";
			}
		}
	}
	memmove(c->in, c->in + end, c->inlen - end);
	c->inlen -= end;
}

static void
sleep_until(struct conn *c, long long when)
{
	c->wake = when;
	if (!c->sleeping) {
		c->next_sleep = sleepers;
		sleepers = c;
		c->sleeping = 1;
	}
}

/* Queue bytes on a long-lived connection; 0 when they do not fit. */
static int
queue(struct conn *c, const void *p, size_t n)
{
	if (n > sizeof c->out - c->outlen) {
		memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
		c->outlen -= c->outoff;
		c->outoff = 0;
		if (n > sizeof c->out - c->outlen)
			return 0;
	}
	memcpy(c->out + c->outlen, p, n);
	c->outlen += n;
	return 1;
}

/* Send what is queued on a long-lived connection: -1 once it is gone. */
static int
stream_flush(struct conn *c)
{
	int r;

	if (c->fd < 0)
		return -1;
	if ((r = send_out(c, EPOLLIN | EPOLLOUT)) <= 0)
		return r;
	c->outoff = c->outlen = 0;
	if (c->state == S_SSEEND) {
		drop(c, 0);
		return -1;
	}
	/* our close frame is out: FIN, then read until the client's EOF,
	 * so that closing never finds unread bytes (that would be a RST) */
	if (c->state == S_WSCLOSE)
		shutdown(c->fd, SHUT_WR);
	set_events(c, EPOLLIN);
	return 0;
}

/* A server frame (never masked): FIN + op, payload p[0..n). */
static int
ws_frame(struct conn *c, int op, const void *p, size_t n)
{
	unsigned char h[4];
	size_t hl = 2;

	h[0] = (unsigned char)(0x80 | op);
	if (n < 126)
		h[1] = (unsigned char)n;
	else {
		h[1] = 126;
		h[2] = (unsigned char)(n >> 8);
		h[3] = (unsigned char)n;
		hl = 4;
	}
	return queue(c, h, hl) && queue(c, p, n);
}

/* Close with CODE and wait (WS_CLOSE_MS at most) for the client's EOF. */
static void
ws_close(struct conn *c, int code)
{
	unsigned char b[2] = { (unsigned char)(code >> 8),
	    (unsigned char)code };

	if (c->state == S_WSCLOSE)
		return;
	ws_frame(c, 8, b, 2);
	c->state = S_WSCLOSE;
	sleep_until(c, bg_now_ms() + WS_CLOSE_MS);
	stream_flush(c);
}

static void
sse_event(struct conn *c)
{
	char ev[300];
	int n;

	n = snprintf(ev + 8, sizeof ev - 8, "event: color\ndata: %.*s\n\n",
	    (int)strlen(answer) - 1, answer);
	if (c->plain) {
		queue(c, ev + 8, (size_t)n);
		return;
	}
	/* the chunk-size line in front, the CRLF after */
	snprintf(ev, 9, "%06x\r", n);
	ev[7] = '\n';
	memcpy(ev + 8 + n, "\r\n", 2);
	queue(c, ev + 0, (size_t)n + 10);	/* full: the event is skipped */
}

/* End an event stream cleanly: the last chunk, then close. */
static void
sse_end(struct conn *c)
{
	struct conn **p;

	for (p = &sleepers; c->sleeping && *p; p = &(*p)->next_sleep)
		if (*p == c) {
			*p = c->next_sleep;
			break;
		}
	c->sleeping = 0;
	if (!c->plain)
		queue(c, "0\r\n\r\n", 5);
	c->state = S_SSEEND;
	stream_flush(c);
}

/* The answer to /ws or /sse: the connection becomes long-lived. */
static void
start_stream(struct conn *c)
{
	char acc[WS_ACCEPT_LEN + 1], h[256];
	int n;

	c->served++;
	c->outoff = c->outlen = 0;
	if (c->kind == K_WS) {
		ws_accept(c->wskey, strlen(c->wskey), acc);
		n = snprintf(h, sizeof h, "HTTP/1.1 101 Switching Protocols\r\n"
		    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		    "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
		queue(c, h, (size_t)n);
		ws_frame(c, 1, answer, strlen(answer) - 1);
		c->state = S_WS;
	} else {
		n = snprintf(h, sizeof h, "HTTP/1.1 200 OK\r\nContent-Type: "
		    "text/event-stream\r\nCache-Control: no-cache\r\n%s\r\n",
		    c->plain ? "Connection: close\r\n" :
		    "Transfer-Encoding: chunked\r\n");
		queue(c, h, (size_t)n);
		sse_event(c);
		c->state = S_SSE;
		sleep_until(c, bg_now_ms() + c->every);
	}
	stream_flush(c);
}

/* Frames the client sent: echo data, answer ping and close. */
static void
ws_input(struct conn *c)
{
	unsigned char *in = (unsigned char *)c->in, *pl;
	size_t len, hl, i;
	int op;

	while (c->fd >= 0 && c->state == S_WS && c->inlen >= 2) {
		op = in[0] & 0x0f;
		len = in[1] & 0x7f;
		hl = 6;
		if (len == 126) {
			if (c->inlen < 4)
				break;
			len = (size_t)in[2] << 8 | in[3];
			hl = 8;
		}
		if (!(in[1] & 0x80)) {
			ws_close(c, 1002);	/* a client must mask */
			break;
		}
		if (len > WS_MSG_MAX || len == 127) {
			ws_close(c, 1009);
			break;
		}
		if (c->inlen < hl + len)
			break;
		pl = in + hl;
		for (i = 0; i < len; i++)
			pl[i] ^= in[hl - 4 + i % 4];
		if (op == 0 || op == 1 || op == 2) {
			if (!queue(c, (unsigned char []){ in[0] & 0x8f,
			    (unsigned char)(len < 126 ? len : 126) }, 2) ||
			    (len >= 126 && !queue(c, in + 2, 2)) ||
			    !queue(c, pl, len)) {
				ws_close(c, 1011);
				break;
			}
		} else if (op == 9)
			ws_frame(c, 10, pl, len);
		else if (op == 8) {
			/* echo the code, then wait for the client's EOF */
			ws_frame(c, 8, pl, len >= 2 ? 2 : 0);
			c->state = S_WSCLOSE;
			sleep_until(c, bg_now_ms() + WS_CLOSE_MS);
		} else if (op != 10) {
			ws_close(c, 1002);
			break;
		}
		memmove(c->in, c->in + hl + len, c->inlen - hl - len);
		c->inlen -= hl + len;
	}
	if (c->state == S_WSCLOSE)
		c->inlen = 0;
	stream_flush(c);
}

/* Readable or writable long-lived connection. */
static void
stream_event(struct conn *c)
{
	ssize_t n;

	if (c->outoff < c->outlen && stream_flush(c) < 0)
		return;
	for (;;) {
		if ((n = ws_read(c->fd, c->in, &c->inlen, IN_MAX)) == WS_AGAIN)
			return;
		if (n <= 0) {
			drop(c, 0);
			return;
		}
		if (c->state != S_WS) {
			c->inlen = 0;	/* nothing to say after the head */
			continue;
		}
		ws_input(c);
		if (c->fd < 0)
			return;
	}
}

/* Work through what is buffered: heads, bodies, pipelined requests. */
static void
process(struct conn *c)
{
	char *e;
	size_t take;

	if (c->state == S_READ) {
		if (c->inlen == 0 && draining) {
			drop(c, 0);
			return;
		}
		e = memmem(c->in, c->inlen, "\r\n\r\n", 4);
		if (e == NULL && c->inlen == IN_MAX) {
			c->keep = 0;
			c->status = "400 Bad Request";
			c->body = "request head too large\n";
			respond(c);
			return;
		}
		if (e == NULL) {
			set_events(c, EPOLLIN);
			return;
		}
		take_head(c, (size_t)(e - c->in) + 4);
		c->state = S_BODY;
		if (c->served == 0 && reset_every &&
		    ++nfirst % reset_every == 0) {
			drop(c, 1);
			return;
		}
	}
	take = c->inlen < c->body_left ? c->inlen : c->body_left;
	memmove(c->in, c->in + take, c->inlen - take);
	c->inlen -= take;
	c->body_left -= take;
	if (c->body_left > 0) {
		set_events(c, EPOLLIN);
	} else if (c->kind != K_HTTP) {
		start_stream(c);
	} else if (c->wake > 0) {
		c->state = S_SLEEP;
		sleep_until(c, bg_now_ms() + c->wake);
		/* only to notice a client that leaves: no need to wait */
		set_events(c, EPOLLRDHUP);
	} else
		respond(c);
}

static void
on_event(struct conn *c)
{
	ssize_t n;

	if (c->state == S_SLEEP) {
		drop(c, 0);
		return;
	}
	if (c->state >= S_WS) {
		stream_event(c);
		return;
	}
	if (c->state == S_WRITE) {
		flush_out(c);
		return;
	}
	if ((n = ws_read(c->fd, c->in, &c->inlen, IN_MAX)) == WS_AGAIN)
		return;
	if (n <= 0) {
		drop(c, 0);
		return;
	}
	process(c);
}

static void
accept_all(void)
{
	struct epoll_event e = { .events = EPOLLIN };
	struct conn *c;
	int fd, one = 1;

	while ((fd = accept4(lfd, NULL, NULL,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		/* reused without zeroing the buffer: a calloc and heap trim
		 * per connection cost more than the request itself */
		if ((c = spare) != NULL)
			spare = c->next;
		else if ((c = malloc(sizeof *c)) == NULL) {
			close(fd);
			continue;
		}
		memset(c, 0, offsetof(struct conn, in));
		if (!addr.is_unix)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof one);
		c->fd = fd;
		c->ev = EPOLLIN;
		e.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0) {
			close(fd);
			c->next = spare;
			spare = c;
			continue;
		}
		if ((c->next = conns) != NULL)
			conns->prev = c;
		conns = c;
		nconns++;
	}
}

/* A socket file nobody answers on is stale; a live one is "in use". */
static void
clear_stale(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0)
		return;
	if (!S_ISSOCK(st.st_mode))
		bg_die(BG_SYS, "%s: exists and is not a socket", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		bg_diesys(BG_SYS, "socket");
	if (connect(fd, (const struct sockaddr *)sun, sizeof *sun) == 0)
		bg_die(BG_SYS, "%s: another server listens there", path);
	close(fd);
	if (unlink(path) < 0)
		bg_diesys(BG_SYS, "cannot remove stale socket %s", path);
}

static int
open_listener(const struct bg_addr *a, unsigned long mode)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICSERV | AI_PASSIVE }, *res;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char port[8];
	int fd, one = 1, rc;

	if (a->is_unix) {
		strcpy(sun.sun_path, a->path);
		clear_stale(a->path, &sun);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0)) < 0 ||
		    bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0)
			bg_diesys(BG_SYS, "cannot bind %s", a->path);
		/* remembered, so exit removes our socket, not a successor's */
		if (chmod(a->path, (mode_t)mode) < 0 ||
		    lstat(a->path, &sock_st) < 0)
			bg_diesys(BG_SYS, "chmod %s", a->path);
	} else {
		snprintf(port, sizeof port, "%u", a->port);
		if ((rc = getaddrinfo(a->host, port, &hints, &res)) != 0)
			bg_die(BG_SYS, "%s: %s", a->host, gai_strerror(rc));
		fd = socket(res->ai_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			bg_diesys(BG_SYS, "socket");
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, res->ai_addr, res->ai_addrlen) < 0)
			bg_diesys(BG_SYS, "cannot bind %s:%s", a->host, port);
		freeaddrinfo(res);
	}
	if (listen(fd, 4096) < 0)
		bg_diesys(BG_SYS, "listen");
	return fd;
}

static void
free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof sin;
	int fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) < 0)
		bg_diesys(BG_SYS, "cannot find a free port");
	printf("%u\n", ntohs(sin.sin_port));
	exit(fflush(stdout) == 0 ? BG_OK : BG_SYS);
}

/* SIGTERM: no new connections, idle ones closed, busy ones finish. */
static void
start_drain(void)
{
	struct conn *c, *next;
	struct stat st;

	draining = 1;
	close(lfd);
	if (addr.is_unix && lstat(addr.path, &st) == 0 &&
	    st.st_ino == sock_st.st_ino && st.st_dev == sock_st.st_dev)
		unlink(addr.path);
	for (c = conns; c; c = next) {
		next = c->next;
		if (c->state == S_READ && c->inlen == 0)
			drop(c, 0);
		else if (c->state == S_WS)
			ws_close(c, 1001);
		else if (c->state == S_SSE)
			sse_end(c);
	}
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "color", 1, NULL, 'c' }, { "down-file", 1, NULL, 'd' },
		{ "free-port", 0, NULL, 'F' }, { "listen", 1, NULL, 'l' },
		{ "reset-every", 1, NULL, 'r' }, { "sock-mode", 1, NULL, 's' },
		{ "version", 1, NULL, 'v' }, { NULL, 0, NULL, 0 } };
	struct epoll_event evs[256], e = { .events = EPOLLIN };
	struct signalfd_siginfo si;
	struct conn **p, *c;
	const char *listen_s = NULL, *color = NULL, *version = NULL;
	unsigned long mode = 0660;
	long long now, wait, deadline = 0;
	char shown[BG_SUN_MAX + 8], *end;
	sigset_t ss;
	int ch, i, n, sfd;

	bg_setprog(argv[0]);
	bg_help(argc, argv, usage);
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': color = optarg; break;
		case 'd': down_file = optarg; break;
		case 'F': free_port(); break;
		case 'l': listen_s = optarg; break;
		case 'r':
			if (bg_parse_ulong(optarg, strlen(optarg), 1000000,
			    &reset_every) < 0 || reset_every == 0)
				bg_usage(usage);
			break;
		case 's':
			mode = strtoul(optarg, &end, 8);
			if (*optarg < '0' || *optarg > '7' || *end != '\0' ||
			    mode > 07777)
				bg_usage(usage);
			break;
		case 'v': version = optarg; break;
		default: bg_usage(usage);
		}
	}
	if (optind != argc || !listen_s || !color || !version ||
	    strlen(color) > 100 || strlen(version) > 100 ||
	    bg_addr_parse(listen_s, strlen(listen_s), &addr) < 0)
		bg_usage(usage);
	/* cppcheck-suppress nullPointerRedundantCheck ; bg_usage() does not return: a cppcheck 2.10 false positive */
	snprintf(answer, sizeof answer, "%s %s\n", color, version);

	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((sfd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		bg_diesys(BG_SYS, "epoll");
	lfd = open_listener(&addr, mode);
	e.data.ptr = &lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &e);
	e.data.ptr = &sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &e);
	printf("%s\n", bg_addr_fmt(&addr, shown, sizeof shown));
	if (fflush(stdout) != 0)
		bg_diesys(BG_SYS, "stdout");

	while (!draining || nconns > 0) {
		now = bg_now_ms();
		if (draining && now >= deadline)
			bg_die(BG_TIMEOUT, "%ld connections still busy "
			    "after %d s", nconns, DRAIN_MAX / 1000);
		wait = draining ? deadline - now : 60000;
		for (c = sleepers; c; c = c->next_sleep)
			if (c->wake - now < wait)
				wait = c->wake > now ? c->wake - now : 0;
		n = epoll_wait(ep, evs, 256, (int)wait);
		if (n < 0 && errno != EINTR)
			bg_diesys(BG_SYS, "epoll_wait");
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == &lfd)
				accept_all();
			else if (evs[i].data.ptr != &sfd)
				on_event(evs[i].data.ptr);
			else if (read(sfd, &si, sizeof si) > 0 && !draining) {
				start_drain();
				deadline = bg_now_ms() + DRAIN_MAX;
				break;	/* evs may name closed conns */
			}
		}
		now = bg_now_ms();
		for (p = &sleepers; (c = *p) != NULL; ) {
			if (c->wake > now) {
				p = &c->next_sleep;
				continue;
			}
			*p = c->next_sleep;
			c->sleeping = 0;
			if (c->state == S_SSE) {
				sse_event(c);
				sleep_until(c, c->wake + c->every);
				stream_flush(c);
			} else if (c->state == S_WSCLOSE)
				drop(c, 0);
			else
				respond(c);
		}
	}
	return BG_OK;
}
