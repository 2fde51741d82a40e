/* httpsrv - a scripted, misbehaving HTTP server for the tests: what a broken
 * or hostile peer of the bg tools' HTTP client might do. One connection at a
 * time: read the request head, then act out the chosen part.
 *
 *   --reply FILE   send FILE's bytes as they are, then close
 *   --silent       accept, read, say nothing until the client goes away
 *   --dribble      a valid-looking reply head, one byte every 100 ms, forever
 *   --big N        a 200 with an N-byte body (--nolen: no Content-Length)
 *
 * It prints its address on stdout once it listens (tests wait for that),
 * logs each request head to --log FILE, reports on stderr how many bytes it
 * sent per connection, and exits by itself after --lifetime secs (60). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "bg.h"

#define REPLY_MAX (1 << 20)
#define HEAD_MAX 8192

static const char usage[] = "httpsrv --listen addr [--big n [--nolen] | "
    "--dribble | --reply file | --silent] [--lifetime secs] [--log file]";

enum { REPLY, SILENT, DRIBBLE, BIG };

static int
listen_on(const struct bg_addr *a)
{
	struct addrinfo hints, *res;
	struct sockaddr_un sun;
	struct stat st;
	char port[8];
	int fd, one = 1, g;

	if (a->is_unix) {
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		memcpy(sun.sun_path, a->path, strlen(a->path) + 1);
		if (lstat(a->path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(a->path);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
		    bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0 ||
		    chmod(a->path, 0666) < 0)
			bg_diesys(1, "cannot listen on unix:%s", a->path);
	} else {
		memset(&hints, 0, sizeof hints);
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
		snprintf(port, sizeof port, "%u", a->port);
		if ((g = getaddrinfo(a->host, port, &hints, &res)) != 0)
			bg_die(1, "%s: %s", a->host, gai_strerror(g));
		fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof one) < 0 || bind(fd, res->ai_addr,
		    res->ai_addrlen) < 0)
			bg_diesys(1, "cannot listen on %s:%s", a->host, port);
		freeaddrinfo(res);
	}
	if (listen(fd, 64) < 0)
		bg_diesys(1, "listen");
	return fd;
}

/* The request head, up to the empty line, HEAD_MAX bytes or 5 s. */
static size_t
read_head(int fd, char *buf, size_t len)
{
	long long deadline = bg_now_ms() + 5000;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t n = 0;
	ssize_t k;

	while (n < len - 1 && bg_now_ms() < deadline) {
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if ((k = read(fd, buf + n, len - 1 - n)) <= 0)
			break;
		n += (size_t)k;
		buf[n] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL)
			break;
	}
	buf[n] = '\0';
	return n;
}

static int
send_all(int fd, const char *s, size_t n, unsigned long long *sent)
{
	ssize_t k;

	while (n > 0) {
		k = send(fd, s, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		s += k;
		n -= (size_t)k;
		*sent += (unsigned long long)k;
	}
	return 0;
}

static void
serve(int fd, int mode, const char *reply, size_t replylen,
    unsigned long long big, int nolen, unsigned long long *sent)
{
	static char chunk[65536];
	const char *head = "HTTP/1.1 200 OK\r\nX-Dribble: ";
	char hdr[128], ch;
	unsigned long long left;
	size_t i, k;

	switch (mode) {
	case REPLY:
		send_all(fd, reply, replylen, sent);
		shutdown(fd, SHUT_WR);
		break;
	case SILENT:
		while (read(fd, chunk, sizeof chunk) > 0)
			;
		break;
	case DRIBBLE:
		for (i = 0;;) {
			ch = head[i] != '\0' ? head[i++] : 'a';
			if (send_all(fd, &ch, 1, sent) < 0)
				break;
			bg_sleep_ms(100);
		}
		break;
	case BIG:
		if (nolen)
			snprintf(hdr, sizeof hdr, "HTTP/1.1 200 OK\r\n\r\n");
		else
			snprintf(hdr, sizeof hdr, "HTTP/1.1 200 OK\r\n"
			    "Content-Length: %llu\r\n\r\n", big);
		memset(chunk, 'x', sizeof chunk);
		if (send_all(fd, hdr, strlen(hdr), sent) < 0)
			break;
		for (left = big; left > 0; left -= k) {
			k = left < sizeof chunk ? (size_t)left : sizeof chunk;
			if (send_all(fd, chunk, k, sent) < 0)
				break;
		}
		break;
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "big", required_argument, NULL, 'b' },
		{ "dribble", no_argument, NULL, 'd' },
		{ "lifetime", required_argument, NULL, 't' },
		{ "listen", required_argument, NULL, 'l' },
		{ "log", required_argument, NULL, 'g' },
		{ "nolen", no_argument, NULL, 'n' },
		{ "reply", required_argument, NULL, 'r' },
		{ "silent", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	static char reply[REPLY_MAX], head[HEAD_MAX];
	struct bg_addr a;
	const char *listen_arg = NULL, *logpath = NULL;
	char where[300];
	unsigned long big = 0, lifetime = 60, conn = 0;
	unsigned long long sent;
	size_t replylen = 0;
	ssize_t k;
	int ch, mode = -1, nolen = 0, lfd, cfd, fd, logfd = -1;

	bg_setprog(argv[0]);
	bg_help(argc, argv, usage);
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			mode = BIG;
			if (bg_parse_ulong(optarg, strlen(optarg), 1UL << 40,
			    &big) < 0)
				bg_usage(usage);
			break;
		case 'd':
			mode = DRIBBLE;
			break;
		case 'g':
			logpath = optarg;
			break;
		case 'l':
			listen_arg = optarg;
			break;
		case 'n':
			nolen = 1;
			break;
		case 'r':
			mode = REPLY;
			if ((fd = open(optarg, O_RDONLY)) < 0)
				bg_diesys(1, "cannot open %s", optarg);
			while ((k = read(fd, reply + replylen,
			    sizeof reply - replylen)) > 0)
				replylen += (size_t)k;
			close(fd);
			break;
		case 's':
			mode = SILENT;
			break;
		case 't':
			if (bg_parse_ulong(optarg, strlen(optarg), 3600,
			    &lifetime) < 0 || lifetime == 0)
				bg_usage(usage);
			break;
		default:
			bg_usage(usage);
		}
	}
	if (optind != argc || listen_arg == NULL || mode < 0 ||
	    bg_addr_parse(listen_arg, strlen(listen_arg), &a) < 0)
		bg_usage(usage);

	/* never outlive a test that forgot us */
	alarm((unsigned)lifetime);
	if (logpath != NULL && (logfd = open(logpath,
	    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0)
		bg_diesys(1, "cannot open %s", logpath);
	lfd = listen_on(&a);
	printf("%s\n", bg_addr_fmt(&a, where, sizeof where));
	fflush(stdout);
	for (;;) {
		if ((cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			bg_diesys(1, "accept");
		}
		conn++;
		k = (ssize_t)read_head(cfd, head, sizeof head);
		if (logfd >= 0 && write(logfd, head, (size_t)k) != k)
			bg_warnsys("cannot write %s", logpath);
		sent = 0;
		serve(cfd, mode, reply, replylen, big, nolen, &sent);
		close(cfd);
		bg_warn("connection %lu: sent %llu bytes", conn, sent);
	}
}
