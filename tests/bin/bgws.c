/* bgws - holds long-lived connections through a switch and counts how each
 * one ends: -w WebSockets to URL/ws and -s event streams to URL/sse, each
 * reconnected as soon as it ends (100 ms after a failed attempt), until -d
 * secs or SIGTERM. The fixture app (tests/bin/bgapp) names its color in the
 * first WebSocket message and in every event; that is where a connection
 * "is". A WebSocket sends one text message "echo" once open, then stays
 * quiet (so an idle timeout can cut it); -p MS pings instead every MS.
 * -r asks for plain streams (/sse?plain=1: not chunked by the app, ended by
 * closing; nginx chunks them for us), which a buffering proxy holds back.
 *
 * Output, one line on stdout:
 *   bgws ws_open= ws_clean= ws_eof= ws_reset= sse_open= sse_clean= sse_eof=
 *   sse_reset= refused= echo= events= blue= green= other= on_target= late=
 *   all_on_ms=
 * *_open: connections opened (first ones and reconnects); ws_clean: ended by
 * a close frame 1000, 1001 or 1012; sse_clean: ended by the last chunk;
 * *_eof: ended by the server without that (a cut); *_reset: ECONNRESET or
 * another socket error; refused: attempts that did not open (connect error,
 * not 101/200); echo: echoes of "echo" received; events: SSE events; blue,
 * green, other: where each open landed. With -u COLOR: on_target counts the
 * connections open on COLOR at the end; late those that were not (closed,
 * or elsewhere) at -D (a CLOCK_REALTIME time in ms, e.g. a switch's start
 * plus linger + 2 s); all_on_ms the CLOCK_REALTIME ms when, after at least
 * one connection had ended, every connection was open on COLOR (0: never).
 * -x exits as soon as that happens. -P spreads the connections over that
 * many processes (each one's share must fit its open-files limit). Exit 0;
 * 3 with -u when not every connection ended on COLOR; 2 usage; 5 system. */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bg.h"
#include "ws.h"

#define CONNS_MAX 20000
#define IN_MAX    8192
#define RETRY_MS  100

static const char usage[] = "bgws [-rx] [-D realtime_ms] [-d secs] "
    "[-e every_ms] [-P procs] [-p ping_ms] [-s sse] [-u COLOR] [-w ws] URL";

enum { C_WAIT, C_CONN, C_HEAD, C_OPEN };
enum { ST_WS_OPEN, ST_WS_CLEAN, ST_WS_EOF, ST_WS_RESET, ST_SSE_OPEN,
	ST_SSE_CLEAN, ST_SSE_EOF, ST_SSE_RESET, ST_REFUSED, ST_ECHO,
	ST_EVENTS, ST_BLUE, ST_GREEN, ST_OTHER, ST_ON_TARGET, ST_LATE,
	ST_ALL_ON, ST_N };
static const char *const st_names[ST_N] = { "ws_open", "ws_clean", "ws_eof",
	"ws_reset", "sse_open", "sse_clean", "sse_eof", "sse_reset",
	"refused", "echo", "events", "blue", "green", "other", "on_target",
	"late", "all_on_ms" };

struct conn {
	int fd, ws, state, color;	/* color: where it is open, -1 none */
	int seen;			/* its color was named */
	char key[WS_KEY_MAX];		/* Sec-WebSocket-Key sent */
	long long wake;			/* C_WAIT: reconnect; C_OPEN: ping */
	size_t inlen;
	char in[IN_MAX];
};

static struct conn *conns;
static int nconns, ep, target = -1;
static long long st[ST_N], ping_ms, every_ms;
static long long late_at;		/* realtime ms, 0: none */
static int ended_once, exit_early, plain;
static struct addrinfo *ai;
static char host[300], base[1024];
static volatile sig_atomic_t stop;

static void on_stop(int sig) { (void)sig; stop = 1; }

static long long
real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
watch(struct conn *c, unsigned ev, int op)
{
	struct epoll_event e = { .events = ev, .data.ptr = c };

	epoll_ctl(ep, op, c->fd, &e);
}

static void
start(struct conn *c)
{
	int one = 1;

	c->inlen = 0;
	c->color = -1;
	c->seen = 0;
	c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		bg_diesys(BG_SYS, "socket");
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) < 0 &&
	    errno != EINPROGRESS) {
		close(c->fd);
		c->fd = -1;
		st[ST_REFUSED]++;
		c->state = C_WAIT;
		c->wake = bg_now_ms() + RETRY_MS;
		return;
	}
	c->state = C_CONN;
	watch(c, EPOLLOUT, EPOLL_CTL_ADD);
}

/* The connection ended (how: an ST_ counter, or -1 for a refused attempt);
 * reconnect at once, or after RETRY_MS when it never opened. */
static void
ended(struct conn *c, int how)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (how < 0)
		st[ST_REFUSED]++;
	else {
		st[how]++;
		ended_once = 1;
	}
	c->color = -1;
	c->state = C_WAIT;
	c->wake = bg_now_ms() + (how < 0 ? RETRY_MS : 0);
}

static int
send_all(struct conn *c, const void *p, size_t n)
{
	/* small writes on a fresh socket: they fit, or the peer is gone */
	return send(c->fd, p, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

/* A client frame: always masked (RFC 6455 5.3). */
static int
ws_send(struct conn *c, int op, const void *p, size_t n)
{
	unsigned char f[140];
	const unsigned char *s = p;
	size_t i;

	if (n > 125)
		return -1;
	f[0] = (unsigned char)(0x80 | op);
	f[1] = (unsigned char)(0x80 | n);
	/* a mask and a nonce for a test, not secrets */
	for (i = 0; i < 4; i++)
		/* NOLINTNEXTLINE(cert-msc30-c,cert-msc50-cpp) */
		f[2 + i] = (unsigned char)(rand() & 0xff);
	for (i = 0; i < n; i++)
		f[6 + i] = s[i] ^ f[2 + i % 4];
	return send_all(c, f, n + 6);
}

static void
landed(struct conn *c, const char *s, size_t n)
{
	size_t w = 0;

	while (w < n && s[w] != ' ')
		w++;
	c->seen = 1;
	c->color = bg_color_parse(s, w);
	st[c->color == BG_BLUE ? ST_BLUE : c->color == BG_GREEN ?
	    ST_GREEN : ST_OTHER]++;
}

static void
send_request(struct conn *c)
{
	char req[1500];
	unsigned char raw[16];
	int i, n;

	if (c->ws) {
		for (i = 0; i < 16; i++)
			/* NOLINTNEXTLINE(cert-msc30-c,cert-msc50-cpp) */
			raw[i] = (unsigned char)(rand() & 0xff);
		ws_base64(raw, sizeof raw, c->key);
		n = snprintf(req, sizeof req, "GET %s/ws HTTP/1.1\r\nHost: %s"
		    "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		    "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
		    "\r\n", base, host, c->key);
	} else
		n = snprintf(req, sizeof req, "GET %s/sse?every=%lld%s HTTP/1.1"
		    "\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", base,
		    every_ms, plain ? "&plain=1" : "", host);
	if (send_all(c, req, (size_t)n) < 0) {
		ended(c, -1);
		return;
	}
	c->state = C_HEAD;
	watch(c, EPOLLIN, EPOLL_CTL_MOD);
}

/* The reply head is in[0..end): 101 with the right accept, or 200. */
static int
head_ok(struct conn *c, size_t end)
{
	char want[WS_ACCEPT_LEN + 1], *a;

	c->in[end - 1] = '\0';
	if (!c->ws)
		return strncmp(c->in, "HTTP/1.1 200", 12) == 0;
	if (strncmp(c->in, "HTTP/1.1 101", 12) != 0)
		return 0;
	ws_accept(c->key, strlen(c->key), want);
	a = strcasestr(c->in, "\nSec-WebSocket-Accept:");
	if (a == NULL)
		return 0;
	a += 22 + strspn(a + 22, " ");
	return strncmp(a, want, WS_ACCEPT_LEN) == 0;
}

/* Server frames in c->in: returns -1 when the connection ended. */
static int
ws_input(struct conn *c)
{
	unsigned char *in = (unsigned char *)c->in;
	size_t len, hl;
	int op, code;

	while (c->inlen >= 2) {
		op = in[0] & 0x0f;
		len = in[1] & 0x7f;
		hl = 2;
		if (len == 126) {
			if (c->inlen < 4)
				return 0;
			len = (size_t)in[2] << 8 | in[3];
			hl = 4;
		} else if (len == 127 || (in[1] & 0x80)) {
			ended(c, ST_WS_RESET);	/* not what bgapp sends */
			return -1;
		}
		if (len > IN_MAX - 4) {
			ended(c, ST_WS_RESET);
			return -1;
		}
		if (c->inlen < hl + len)
			return 0;
		if (op == 1 && !c->seen && len > 0 && len < 200)
			landed(c, c->in + hl, len);
		else if (op == 1 && len == 4 && memcmp(in + hl, "echo", 4) == 0)
			st[ST_ECHO]++;
		else if (op == 9)
			ws_send(c, 10, in + hl, len < 125 ? len : 125);
		else if (op == 8) {
			code = len >= 2 ? in[hl] << 8 | in[hl + 1] : 1005;
			ws_send(c, 8, in + hl, len >= 2 ? 2 : 0);
			ended(c, code == 1000 || code == 1001 || code == 1012 ?
			    ST_WS_CLEAN : ST_WS_EOF);
			return -1;
		}
		memmove(c->in, c->in + hl + len, c->inlen - hl - len);
		c->inlen -= hl + len;
	}
	return 0;
}

/* Event-stream lines in c->in (nginx's chunked framing around them):
 * "data: COLOR VERSION" is an event, a line "0" the last chunk. */
static int
sse_input(struct conn *c)
{
	char *l = c->in, *nl;
	size_t n;

	while ((nl = memchr(l, '\n', c->inlen - (size_t)(l - c->in)))) {
		n = (size_t)(nl - l);
		if (n > 0 && l[n - 1] == '\r')
			n--;
		if (n > 6 && memcmp(l, "data: ", 6) == 0) {
			st[ST_EVENTS]++;
			if (!c->seen)
				landed(c, l + 6, n - 6);
		} else if (n == 1 && l[0] == '0') {
			ended(c, ST_SSE_CLEAN);
			return -1;
		}
		l = nl + 1;
	}
	c->inlen -= (size_t)(l - c->in);
	memmove(c->in, l, c->inlen);
	if (c->inlen == IN_MAX)
		c->inlen = 0;	/* a line this long is not ours */
	return 0;
}

static void
on_event(struct conn *c)
{
	char *e;
	int err = 0;
	socklen_t el = sizeof err;
	ssize_t n;
	size_t end;

	if (c->state == C_CONN) {
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err != 0) {
			ended(c, -1);
			return;
		}
		send_request(c);
		return;
	}
	for (;;) {
		if ((n = ws_read(c->fd, c->in, &c->inlen, IN_MAX)) == WS_AGAIN)
			return;
		if (n <= 0) {
			if (c->state == C_HEAD)
				ended(c, -1);
			else if (n == 0)
				ended(c, c->ws ? ST_WS_EOF : ST_SSE_EOF);
			else
				ended(c, c->ws ? ST_WS_RESET : ST_SSE_RESET);
			return;
		}
		if (c->state == C_HEAD) {
			e = memmem(c->in, c->inlen, "\r\n\r\n", 4);
			if (e == NULL) {
				if (c->inlen == IN_MAX) {
					ended(c, -1);
					return;
				}
				continue;
			}
			end = (size_t)(e - c->in) + 4;
			if (!head_ok(c, end)) {
				ended(c, -1);
				return;
			}
			memmove(c->in, c->in + end, c->inlen - end);
			c->inlen -= end;
			c->state = C_OPEN;
			st[c->ws ? ST_WS_OPEN : ST_SSE_OPEN]++;
			if (c->ws && ws_send(c, 1, "echo", 4) < 0) {
				ended(c, ST_WS_RESET);
				return;
			}
			c->wake = bg_now_ms() + ping_ms;
		}
		if ((c->ws ? ws_input(c) : sse_input(c)) < 0)
			return;
	}
}

/* Every connection open on the target color. */
static int
all_on(void)
{
	int i;

	for (i = 0; i < nconns; i++)
		if (conns[i].state != C_OPEN || conns[i].color != target)
			return 0;
	return 1;
}

static void
count_late(void)
{
	int i;

	st[ST_LATE] = 0;
	for (i = 0; i < nconns; i++)
		if (conns[i].state != C_OPEN || conns[i].color != target)
			st[ST_LATE]++;
}

/* One process's share: nws WebSockets, nsse streams, until deadline. */
static void
run(int nws, int nsse, long long deadline)
{
	struct epoll_event evs[256];
	long long now, wait;
	int i, n, late_done = late_at == 0;

	nconns = nws + nsse;
	if ((conns = calloc((size_t)nconns + 1, sizeof *conns)) == NULL)
		bg_diesys(BG_SYS, "calloc");
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		bg_diesys(BG_SYS, "epoll_create1");
	for (i = 0; i < nconns; i++) {
		conns[i].ws = i < nws;
		conns[i].fd = -1;
		start(&conns[i]);
	}
	while (!stop && (now = bg_now_ms()) < deadline) {
		wait = deadline - now < 50 ? deadline - now : 50;
		n = epoll_wait(ep, evs, 256, (int)wait);
		if (n < 0 && errno != EINTR)
			bg_diesys(BG_SYS, "epoll_wait");
		for (i = 0; i < n; i++)
			on_event(evs[i].data.ptr);
		now = bg_now_ms();
		for (i = 0; i < nconns; i++) {
			struct conn *c = &conns[i];

			if (c->state == C_WAIT && c->wake <= now)
				start(c);
			else if (c->state == C_OPEN && c->ws && ping_ms > 0 &&
			    c->wake <= now) {
				ws_send(c, 9, "p", 1);
				c->wake = now + ping_ms;
			}
		}
		if (!late_done && real_ms() >= late_at) {
			count_late();
			late_done = 1;
		}
		if (target >= 0 && ended_once && st[ST_ALL_ON] == 0 &&
		    all_on()) {
			st[ST_ALL_ON] = real_ms();
			if (exit_early)
				break;
		}
	}
	if (!late_done)
		count_late();
	for (i = 0; i < nconns; i++)
		if (conns[i].state == C_OPEN && conns[i].color == target)
			st[ST_ON_TARGET]++;
}

int
main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICSERV };
	struct bg_url u;
	struct sigaction sa = { .sa_handler = on_stop };
	long long deadline_ms = 10000, part[ST_N];
	unsigned long v;
	pid_t *kids;
	char port[12];
	int ch, i, j, rc, nws = 0, nsse = 0, procs = 1, (*pipes)[2], ws0, sse0;
	int never = 0;

	bg_setprog(argv[0]);
	bg_help(argc, argv, usage);
	every_ms = 1000;
	while ((ch = getopt(argc, argv, "D:d:e:P:p:rs:u:w:x")) != -1) {
		if (ch == 'r') {
			plain = 1;
			continue;
		}
		if (ch == 'u') {
			if ((target = bg_color_arg(optarg)) < 0)
				bg_usage(usage);
			continue;
		}
		if (ch == 'x') {
			exit_early = 1;
			continue;
		}
		if (ch == '?' || bg_parse_ulong(optarg, strlen(optarg),
		    ch == 'D' ? (unsigned long)-1 / 2 : CONNS_MAX * 100UL,
		    &v) < 0)
			bg_usage(usage);
		switch (ch) {
		case 'D': late_at = (long long)v; break;
		case 'd': deadline_ms = (long long)v * 1000; break;
		case 'e': every_ms = v > 0 ? (long long)v : 1; break;
		case 'P': procs = v > 0 ? (int)v : 1; break;
		case 'p': ping_ms = (long long)v; break;
		case 's': nsse = (int)v; break;
		case 'w': nws = (int)v; break;
		default: bg_usage(usage);
		}
	}
	if (optind != argc - 1 || nws + nsse == 0 || nws + nsse > CONNS_MAX ||
	    bg_url_parse(argv[optind], strlen(argv[optind]), &u) < 0 ||
	    u.addr.is_unix)
		bg_usage(usage);
	snprintf(base, sizeof base, "%s", strcmp(u.path, "/") == 0 ? "" :
	    u.path);
	snprintf(host, sizeof host, "%s", u.addr.host);
	snprintf(port, sizeof port, "%u", u.addr.port ? u.addr.port : 80);
	if ((rc = getaddrinfo(u.addr.host, port, &hints, &ai)) != 0)
		bg_die(BG_SYS, "%s: %s", u.addr.host, gai_strerror(rc));
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	srand((unsigned)getpid() ^ (unsigned)bg_now_ms());

	if (procs > nws + nsse)
		procs = nws + nsse;
	if (procs <= 1) {
		run(nws, nsse, bg_now_ms() + deadline_ms);
	} else {
		/* children report their counters through a pipe each */
		kids = calloc((size_t)procs, sizeof *kids);
		pipes = calloc((size_t)procs, sizeof *pipes);
		if (kids == NULL || pipes == NULL)
			bg_diesys(BG_SYS, "calloc");
		for (i = 0; i < procs; i++) {
			ws0 = nws / procs + (i < nws % procs);
			sse0 = nsse / procs + (i < nsse % procs);
			/* cppcheck-suppress nullPointerRedundantCheck ; bg_diesys() does not return */
			if (pipe(pipes[i]) < 0 || (kids[i] = fork()) < 0)
				bg_diesys(BG_SYS, "fork");
			if (kids[i] == 0) {
				close(pipes[i][0]);
				run(ws0, sse0, bg_now_ms() + deadline_ms);
				_exit(write(pipes[i][1], st, sizeof st) ==
				    (ssize_t)sizeof st ? 0 : 5);
			}
			close(pipes[i][1]);
		}
		for (i = 0; i < procs; i++) {
			while ((rc = (int)read(pipes[i][0], part, sizeof part))
			    < 0 && errno == EINTR)
				for (j = i; stop && j < procs; j++)
					kill(kids[j], SIGTERM);
			if (rc != (int)sizeof part)
				bg_die(BG_SYS, "process %d of %d said nothing",
				    i + 1, procs);
			/* all on: when the last process got there */
			never |= part[ST_ALL_ON] == 0;
			for (j = 0; j < ST_N; j++)
				if (j != ST_ALL_ON)
					st[j] += part[j];
				else if (part[j] > st[j])
					st[j] = part[j];
			while (waitpid(kids[i], NULL, 0) < 0 && errno == EINTR)
				;
			close(pipes[i][0]);
		}
		free(kids);
		free(pipes);
	}
	freeaddrinfo(ai);
	if (never)
		st[ST_ALL_ON] = 0;
	printf("bgws");
	for (i = 0; i < ST_N; i++)
		printf(" %s=%lld", st_names[i], st[i]);
	printf("\n");
	if (fflush(stdout) != 0)
		return BG_SYS;
	return target >= 0 && st[ST_ON_TARGET] != nws + nsse ? BG_TIMEOUT :
	    BG_OK;
}
