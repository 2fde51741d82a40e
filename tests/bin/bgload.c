/* bgload - the counting load client behind every "zero failed requests"
 * claim. Unlike wrk it never retries and never reconnects silently: a request
 * whose connection dies before its full answer is counted as lost. One epoll
 * loop, one request in flight per connection; -k keeps connections alive
 * (a server closing one between requests shows up as a reset), -C sends
 * "Connection: close" and opens one per request.
 *
 * Output: a table on stderr, one line on stdout:
 *   bgload sent= ok= non2xx= connect_err= reset= timeout= failed= rps=
 *   p50_ms= p99_ms= max_ms= switches= gap_med_ms= gap_max_ms= bodies=
 * sent = every request begun, = ok + non2xx + connect_err + reset + timeout
 * (in-flight requests are waited for, up to -t, when the time is up);
 * failed = sent - ok; rps = ok per second; latency over complete answers.
 * An ok answer's first line ("blue v1") names it: bodies counts each (spaces
 * become _), switches counts changes along the time-ordered answers, and
 * each transition's gap is the new answer's first minus the old one's last
 * time (negative: both answered for a while). Exit 0 whenever it ran. */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "bg.h"

#define CONNS_MAX 10000
#define HEAD_MAX  8192		/* reply status line + headers */
#define BODY_KEEP 64		/* body bytes kept to tell answers apart */
#define NBODY     8		/* answers told apart; more are "other" */
#define RUNS_MAX  65536		/* answer runs kept for the gaps */
#define NHIST     (33 * 512)	/* log-linear latency histogram, us */
#define TICK_US   100000	/* -T bucket */

static const char usage[] = "bgload [-Ck] [-b body_bytes] [-c conns] "
    "[-d secs | -n count] [-H host] [-p post_percent] [-T timeline] "
    "[-t timeout_ms] URL";

enum { S_IDLE, S_CONN, S_WRITE, S_HEAD, S_BODY, S_LINGER };
enum { RES_OK, RES_NON2XX, RES_CONNERR, RES_RESET, RES_TIMEOUT, RES_N };

struct conn {
	int fd, state, post, status, close_after;
	long long start, deadline;	/* us */
	long long clen, got;		/* body size (-1: to EOF), seen */
	size_t woff, inlen, keep;
	char body[BODY_KEEP];
	char in[HEAD_MAX];
};
struct run { int body; long long first, last; };

static struct sockaddr_storage dst;
static socklen_t dstlen;
static int ep, close_mode, post_pct, nbodies, last_body = -1;
static volatile sig_atomic_t interrupted;
static char *req[2];
static size_t reqlen[2];
static unsigned long long started, limit, count[RES_N + 1], nposts, switches;
static unsigned long long hist[NHIST], *tl[2], nbody[NBODY + 1];
static size_t ntl, nruns;
static long long t0, t_end, max_us, timeout_us;
static char bodies[NBODY + 1][BODY_KEEP + 1] = { [NBODY] = "other" };
static struct run runs[RUNS_MAX];

/* bucket i < 1024 holds i us; above, 512 buckets per power of two */
static size_t
hist_idx(long long us)
{
	unsigned e = 0;

	while ((us >> e) >= 1024)
		e++;
	return e == 0 ? (size_t)us : e * 512 + (size_t)(us >> e);
}

static double
percentile(double q)
{
	unsigned long long n = 0, seen = 0, want;
	size_t i;
	unsigned e;

	for (i = 0; i < NHIST; i++)
		n += hist[i];
	want = (unsigned long long)(q * (double)n);
	want += want < n;
	for (i = 0; i < NHIST && n > 0; i++)
		if ((seen += hist[i]) >= want) {
			e = i < 1024 ? 0 : (unsigned)(i / 512 - 1);
			return (double)((long long)(i - e * 512) << e) / 1000.0;
		}
	return 0;
}

/* An answer's first line names it ("blue v1"): track which one answers. */
static void
classify(const char *b, size_t n, long long t)
{
	size_t len = 0;
	int i;

	for (; len < n && b[len] != '\n' && b[len] != '\r'; len++)
		if (b[len] < 0x20 || b[len] >= 0x7f)
			return;
	if (len == 0 || len == BODY_KEEP)
		return;
	for (i = 0; i < nbodies; i++)
		if (strlen(bodies[i]) == len && memcmp(bodies[i], b, len) == 0)
			break;
	if (i == nbodies && nbodies < NBODY)
		memcpy(bodies[nbodies++], b, len);
	nbody[i]++;
	if (i != last_body) {
		switches += last_body >= 0;
		if (nruns < RUNS_MAX)
			runs[nruns++] = (struct run){ i, t, t };
		last_body = i;
	} else if (nruns > 0 && nruns < RUNS_MAX)
		runs[nruns - 1].last = t;
}

static void
tally(struct conn *c, int r)
{
	long long t = bg_now_us(), lat = t - c->start;
	size_t b = (size_t)((t - t0) / TICK_US), n;

	count[r]++;
	if (r == RES_OK || r == RES_NON2XX) {
		hist[hist_idx(lat)]++;
		if (lat > max_us)
			max_us = lat;
	}
	if (r == RES_OK)
		classify(c->body, c->keep, t);
	if (tl[0] == NULL)
		return;
	if (b >= ntl) {
		n = b + 64;
		if ((tl[0] = realloc(tl[0], n * sizeof *tl[0])) == NULL ||
		    (tl[1] = realloc(tl[1], n * sizeof *tl[1])) == NULL)
			bg_die(BG_SYS, "out of memory");
		memset(tl[0] + ntl, 0, (n - ntl) * sizeof *tl[0]);
		memset(tl[1] + ntl, 0, (n - ntl) * sizeof *tl[1]);
		ntl = n;
	}
	tl[r != RES_OK][b]++;
}

static void
drop(struct conn *c)
{
	close(c->fd);
	c->fd = -1;
	c->state = S_IDLE;
}

/* The request in flight is lost: count it, drop the connection. */
static void
fail(struct conn *c, int r)
{
	tally(c, r);
	drop(c);
}

static void
done(struct conn *c)
{
	tally(c, c->status >= 200 && c->status < 300 ? RES_OK : RES_NON2XX);
	/* after "Connection: close", wait for the server to close first, so
	 * the TIME_WAIT is on its side, not eating our ports */
	c->state = close_mode || c->close_after ? S_LINGER : S_IDLE;
}

static void
start_request(struct conn *c)
{
	struct epoll_event e = { .data.ptr = c,
	    .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET };
	int one = 1;

	c->start = bg_now_us();
	c->deadline = c->start + timeout_us;
	/* exactly post_pct of every 100 requests, spread evenly */
	c->post = (started + 1) * (unsigned)post_pct / 100 >
	    started * (unsigned)post_pct / 100;
	nposts += (unsigned)c->post;
	started++;
	c->woff = c->inlen = c->keep = 0;
	c->got = c->status = c->close_after = 0;
	c->state = S_WRITE;
	if (c->fd >= 0)
		return;
	c->state = S_CONN;
	c->fd = socket(dst.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		tally(c, RES_CONNERR);
		c->state = S_IDLE;
		return;
	}
	if (dst.ss_family != AF_UNIX)
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e) < 0)
		fail(c, RES_CONNERR);
	else if (connect(c->fd, (struct sockaddr *)&dst, dstlen) == 0)
		c->state = S_WRITE;	/* unix sockets connect at once */
	else if (errno != EINPROGRESS)
		fail(c, RES_CONNERR);
}

/* The reply head is in c->in[0..n): status, length, keep-alive. Pure but
 * for c; -1 when malformed or chunked (neither bgapp nor nginx in front of
 * it sends chunked replies). */
static int
parse_head(struct conn *c, size_t n)
{
	const char *l = c->in, *end = c->in + n, *v;
	unsigned long cl;
	size_t vl;

	if (n < 12 || strncmp(l, "HTTP/1.", 7) != 0 || l[8] != ' ' ||
	    bg_parse_ulong(l + 9, 3, 999, &cl) < 0)
		return -1;
	c->status = (int)cl;
	c->close_after = l[7] == '0';
	c->clen = -1;
	while ((l = memchr(l, '\n', (size_t)(end - l))) != NULL && ++l < end) {
		if ((v = memchr(l, ':', (size_t)(end - l))) == NULL)
			break;
		v++;
		v += strspn(v, " \t");
		vl = strcspn(v, " \t\r\n");
		if (strncasecmp(l, "content-length:", 15) == 0) {
			if (bg_parse_ulong(v, vl, 1UL << 40, &cl) < 0)
				return -1;
			c->clen = (long long)cl;
		} else if (strncasecmp(l, "connection:", 11) == 0) {
			if (strncasecmp(v, "close", 5) == 0)
				c->close_after = 1;
			else if (strncasecmp(v, "keep-alive", 10) == 0)
				c->close_after = 0;
		}
		else if (strncasecmp(l, "transfer-encoding:", 18) == 0)
			return -1;
	}
	if (c->clen < 0)
		c->close_after = 1;
	return 0;
}

static void
take_body(struct conn *c, const char *p, size_t n)
{
	size_t m = BODY_KEEP - c->keep;

	if (m > n)
		m = n;
	memcpy(c->body + c->keep, p, m);
	c->keep += m;
	c->got += (long long)n;
}

/* Move c forward as far as its socket allows (edge-triggered). */
static void
advance(struct conn *c)
{
	static char sink[65536];
	int err = 0;
	socklen_t el = sizeof err;
	ssize_t n;
	char *e;
	size_t h;

	if (c->state == S_CONN) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 ||
		    err != 0) {
			fail(c, RES_CONNERR);
			return;
		}
		c->state = S_WRITE;
	}
	while (c->state == S_WRITE) {
		n = send(c->fd, req[c->post] + c->woff,
		    reqlen[c->post] - c->woff, MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0 && errno != EINTR) {
			fail(c, RES_RESET);
			return;
		}
		if (n > 0 && (c->woff += (size_t)n) == reqlen[c->post])
			c->state = S_HEAD;
	}
	while (c->state >= S_HEAD) {
		if (c->state == S_HEAD)
			n = read(c->fd, c->in + c->inlen, HEAD_MAX - c->inlen);
		else
			n = read(c->fd, sink, sizeof sink);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (c->state == S_LINGER) {
			if (n <= 0)
				drop(c);
			continue;
		}
		if (n == 0 && c->state == S_BODY && c->clen < 0) {
			done(c);	/* a body delimited by EOF */
			continue;
		}
		if (n <= 0) {	/* closed before the full answer: lost */
			fail(c, RES_RESET);
			return;
		}
		if (c->state == S_BODY)
			take_body(c, sink, (size_t)n);
		else {
			c->inlen += (size_t)n;
			e = memmem(c->in, c->inlen, "\r\n\r\n", 4);
			if (e == NULL && c->inlen < HEAD_MAX)
				continue;
			h = e ? (size_t)(e - c->in) + 4 : 0;
			if (e == NULL || parse_head(c, h - 2) < 0) {
				if (!count[RES_N])	/* warn once */
					bg_warn("malformed or chunked reply");
				count[RES_N] = 1;
				fail(c, RES_NON2XX);
				return;
			}
			c->state = S_BODY;
			take_body(c, c->in + h, c->inlen - h);
		}
		if (c->state == S_BODY && c->clen >= 0 && c->got >= c->clen)
			done(c);
	}
}

static int
may_start(void)
{
	return !interrupted && (limit ? started < limit : bg_now_us() < t_end);
}

static void
next(struct conn *c)
{
	while (c->state == S_IDLE && may_start()) {
		start_request(c);
		if (c->state == S_WRITE)
			advance(c);
	}
}

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

/* One transition per episode: a stretch of runs alternating between answer
 * A (before) and B (after). Its gap is B's first answer minus A's last one in
 * the stretch: negative while both answered (overlap). Sorted, in us. */
static size_t
gaps(long long *g)
{
	size_t k = 0, j, lastb, n = 0;
	long long last_a;
	int a, b;

	while (k + 1 < nruns) {
		a = runs[k].body;
		b = runs[k + 1].body;
		last_a = runs[k].last;
		lastb = k + 1;
		for (j = k + 1; j < nruns &&
		    (runs[j].body == a || runs[j].body == b); j++)
			if (runs[j].body == b)
				lastb = j;
		for (j = k; j < lastb; j++)
			if (runs[j].body == a && runs[j].last > last_a)
				last_a = runs[j].last;
		g[n++] = runs[k + 1].first - last_a;
		k = lastb;
	}
	qsort(g, n, sizeof *g, cmp_ll);
	return n;
}

static void
report(const char *url, unsigned long nconns, long long elapsed)
{
	static long long g[RUNS_MAX];
	unsigned long long failed = started - count[RES_OK];
	double secs = (double)elapsed / 1e6;
	double rps = secs > 0 ? (double)count[RES_OK] / secs : 0;
	double p50 = percentile(0.5), p99 = percentile(0.99);
	double mx = (double)max_us / 1000;
	double gmed = 0, gmax = 0;
	size_t ng = gaps(g);
	int i;
	char *s;

	if (ng > 0) {
		/* NOLINTNEXTLINE(bugprone-integer-division): an index */
		gmed = (double)g[(ng - 1) / 2] / 1000;
		gmax = (double)g[ng - 1] / 1000;
	}
	fprintf(stderr, "bgload: %s, %lu connections, %s, %.2f s\n"
	    "  sent %llu  ok %llu  non2xx %llu  connect_err %llu  reset %llu"
	    "  timeout %llu  failed %llu  (POST %llu)\n"
	    "  %.0f requests/s  latency ms: p50 %.3f  p99 %.3f  max %.3f\n"
	    "  switches %llu  gap ms: median %.3f  max %.3f\n",
	    url, nconns, close_mode ? "Connection: close" : "keep-alive", secs,
	    started, count[RES_OK], count[RES_NON2XX], count[RES_CONNERR],
	    count[RES_RESET], count[RES_TIMEOUT], failed, nposts, rps, p50, p99,
	    mx, switches, gmed, gmax);
	printf("bgload sent=%llu ok=%llu non2xx=%llu connect_err=%llu "
	    "reset=%llu timeout=%llu failed=%llu rps=%.0f p50_ms=%.3f "
	    "p99_ms=%.3f max_ms=%.3f switches=%llu gap_med_ms=%.3f "
	    "gap_max_ms=%.3f bodies=",
	    started, count[RES_OK], count[RES_NON2XX], count[RES_CONNERR],
	    count[RES_RESET], count[RES_TIMEOUT], failed, rps, p50, p99, mx,
	    switches, gmed, gmax);
	for (i = 0; i <= NBODY; i++) {
		if (nbody[i] == 0)
			continue;
		fprintf(stderr, "  answer \"%s\": %llu\n", bodies[i], nbody[i]);
		for (s = bodies[i]; *s; s++)
			if (*s == ' ' || *s == ',' || *s == ':')
				*s = '_';
		printf("%s%s:%llu", i ? "," : "", bodies[i], nbody[i]);
	}
	putchar('\n');
}

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* The address to connect to, and the Host header to send. */
static void
target(const struct bg_url *u, const char *host, char *hostbuf, size_t len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICSERV }, *res;
	struct sockaddr_un *sun = (struct sockaddr_un *)&dst;
	char port[8];
	int rc;

	if (u->addr.is_unix) {
		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, u->addr.path);
		dstlen = sizeof *sun;
		snprintf(hostbuf, len, "%s", host ? host : "localhost");
		return;
	}
	snprintf(port, sizeof port, "%u", u->addr.port);
	if ((rc = getaddrinfo(u->addr.host, port, &hints, &res)) != 0)
		bg_die(BG_SYS, "%s: %s", u->addr.host, gai_strerror(rc));
	memcpy(&dst, res->ai_addr, res->ai_addrlen);
	dstlen = res->ai_addrlen;
	freeaddrinfo(res);
	if (host)
		snprintf(hostbuf, len, "%s", host);
	else
		snprintf(hostbuf, len, strchr(u->addr.host, ':') ?
		    "[%s]:%u" : "%s:%u", u->addr.host, u->addr.port);
}

static unsigned long
num_arg(const char *s, unsigned long min, unsigned long max)
{
	unsigned long v;

	if (bg_parse_ulong(s, strlen(s), max, &v) < 0 || v < min)
		bg_usage(usage);
	return v;
}

/* The two requests every connection sends: a GET and a POST with a body. */
static void
build_requests(const char *path, const char *host, unsigned long body)
{
	char head[1600];
	size_t k;
	int i;

	for (i = 0; i < 2; i++) {
		k = (size_t)snprintf(head, sizeof head, "%s %s HTTP/1.1\r\n"
		    "Host: %s\r\nUser-Agent: bgload\r\n%s", i ? "POST" : "GET",
		    path, host, close_mode ? "Connection: close\r\n" : "");
		if (i)
			k += (size_t)snprintf(head + k, sizeof head - k,
			    "Content-Type: application/octet-stream\r\n"
			    "Content-Length: %lu\r\n", body);
		k += (size_t)snprintf(head + k, sizeof head - k, "\r\n");
		reqlen[i] = k + (i ? body : 0);
		if ((req[i] = malloc(reqlen[i])) == NULL)
			bg_die(BG_SYS, "out of memory");
		memcpy(req[i], head, k);
		memset(req[i] + k, 'x', reqlen[i] - k);
	}
}

/* Until the count or the time is up and nothing is in flight. */
static void
run_load(struct conn *conns, size_t nconns)
{
	static struct epoll_event evs[1024];
	struct conn *c;
	long long now, scan = 0;
	size_t k, active;
	int i, nev;

	for (k = 0; k < nconns; k++) {
		conns[k].fd = -1;
		next(&conns[k]);
	}
	for (;;) {
		nev = epoll_wait(ep, evs, 1024, 10);
		if (nev < 0 && errno != EINTR)
			bg_diesys(BG_SYS, "epoll_wait");
		for (i = 0; i < nev; i++) {
			c = evs[i].data.ptr;
			if (c->state != S_IDLE)
				advance(c);
			next(c);
		}
		if ((now = bg_now_us()) < scan)
			continue;
		scan = now + 10000;
		active = 0;
		for (k = 0; k < nconns; k++) {
			c = &conns[k];
			if (c->state == S_LINGER && now >= c->deadline)
				drop(c);
			else if (c->state != S_IDLE && now >= c->deadline)
				fail(c, RES_TIMEOUT);
			next(c);
			active += c->state != S_IDLE;
		}
		if (active == 0 && !may_start())
			break;
	}
	for (k = 0; k < nconns; k++)
		if (conns[k].fd >= 0)
			close(conns[k].fd);
}

int
main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct bg_url u;
	struct conn *conns;
	struct rlimit rl;
	unsigned long nconns = 10, body = 64, tmo = 5000;
	long long dur = 0, end;
	const char *host = NULL, *tlfile = NULL;
	char hostbuf[300];
	FILE *tlf = NULL;
	size_t k;
	int ch;

	bg_setprog(argv[0]);
	bg_help(argc, argv, usage);
	while ((ch = getopt(argc, argv, "Cb:c:d:H:kn:p:T:t:")) != -1) {
		switch (ch) {
		case 'C': close_mode = 1; break;
		case 'b': body = num_arg(optarg, 0, 1 << 20); break;
		case 'c': nconns = num_arg(optarg, 1, CONNS_MAX); break;
		case 'd':
			if (bg_parse_secs(optarg, strlen(optarg), 3600,
			    &dur) < 0)
				bg_usage(usage);
			break;
		case 'H': host = optarg; break;
		case 'k': close_mode = 0; break;
		case 'n': limit = num_arg(optarg, 1, 1000000000); break;
		case 'p': post_pct = (int)num_arg(optarg, 0, 100); break;
		case 'T': tlfile = optarg; break;
		case 't': tmo = num_arg(optarg, 1, 600000); break;
		default: bg_badflag(ch, usage);
		}
	}
	if (argc - optind != 1 || (dur && limit) ||
	    bg_url_parse(argv[optind], strlen(argv[optind]), &u) < 0 ||
	    (host && (strpbrk(host, "\r\n") || strlen(host) > 255)))
		bg_usage(usage);
	if (!dur && !limit)
		dur = 5000;
	timeout_us = (long long)tmo * 1000;
	target(&u, host, hostbuf, sizeof hostbuf);
	build_requests(u.path, hostbuf, body);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < nconns + 16) {
		rl.rlim_cur = nconns + 16;
		if (rl.rlim_cur > rl.rlim_max ||
		    setrlimit(RLIMIT_NOFILE, &rl) < 0)
			bg_die(BG_SYS, "%lu connections need more open files "
			    "than the limit allows", nconns);
	}
	if (tlfile && (tlf = fopen(tlfile, "w")) == NULL)
		bg_diesys(BG_SYS, "cannot open %s", tlfile);
	ntl = tlf ? 1 : 0;
	if ((tlf && ((tl[0] = calloc(1, sizeof *tl[0])) == NULL ||
	    (tl[1] = calloc(1, sizeof *tl[1])) == NULL)) ||
	    (conns = calloc(nconns, sizeof *conns)) == NULL ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		bg_diesys(BG_SYS, "cannot set up");
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	t0 = bg_now_us();
	t_end = t0 + dur * 1000;
	run_load(conns, nconns);
	end = bg_now_us();
	report(argv[optind], nconns, end - t0);
	for (k = 0; tlf && k < ntl && k <= (size_t)((end - t0) / TICK_US); k++)
		fprintf(tlf, "%zu %llu %llu\n", k * (TICK_US / 1000), tl[0][k],
		    tl[1][k]);
	if ((tlf && fclose(tlf) != 0) || fflush(stdout) != 0)
		bg_diesys(BG_SYS, "write");
	free(conns);	/* LeakSanitizer (make sanitize) counts it otherwise */
	return BG_OK;
}
