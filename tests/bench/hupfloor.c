/* hupfloor - nginx's own floor for a reload, for make bench: what bgflip's
 * reload mode waits for, without bgflip.
 *
 *	hupfloor MASTER_PID PORT COLOR
 *
 * Run after the new config is on disk. Lists the master's accepting
 * workers (/proc/PID/task/PID/children), sends it SIGHUP, then polls every
 * 1 ms (5 s at most): GET /bg on a fresh connection to 127.0.0.1:PORT,
 * and the old workers' titles. Prints "first_us settled_us": from the HUP
 * to the first fresh answer of COLOR, and to the first fresh answer of
 * COLOR once every old worker is gone or "shutting down" (what bgflip
 * verifies: before that both generations accept). Exit 1 on a timeout. */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static ssize_t
slurp(const char *path, char *buf, size_t len)
{
	ssize_t r, i;
	int fd;

	if ((fd = open(path, O_RDONLY)) < 0)
		return -1;
	r = read(fd, buf, len - 1);
	close(fd);
	if (r < 0)
		return -1;
	for (i = 0; i < r; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[r] = '\0';
	return r;
}

static int
accepting(long pid)
{
	char path[64], cmd[256];

	snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
	return slurp(path, cmd, sizeof cmd) > 0 &&
	    strstr(cmd, "worker process") && !strstr(cmd, "shutting down");
}

/* 1 when a fresh GET /bg answers color */
static int
answers(int port, const char *color)
{
	static const char req[] = "GET /bg HTTP/1.0\r\nHost: localhost\r\n\r\n";
	struct sockaddr_in sa;
	char buf[2048], *body;
	size_t have = 0;
	ssize_t r;
	int fd, ok;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return 0;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    write(fd, req, sizeof req - 1) < 0) {
		close(fd);
		return 0;
	}
	while (have < sizeof buf - 1 &&
	    (r = read(fd, buf + have, sizeof buf - 1 - have)) > 0)
		have += (size_t)r;
	close(fd);
	buf[have] = '\0';
	body = strstr(buf, "\r\n\r\n");
	ok = body != NULL && strncmp(body + 4, color, strlen(color)) == 0;
	return ok;
}

int
main(int argc, char *argv[])
{
	long master, old[256], v;
	char path[64], kids[8192], *p, *e;
	long long t0, first = -1, now;
	int nold = 0, port, i, settled;
	struct timespec ms = { 0, 1000000 };

	if (argc != 4) {
		fprintf(stderr, "usage: hupfloor master_pid port color\n");
		return 2;
	}
	master = atol(argv[1]);
	port = atoi(argv[2]);
	snprintf(path, sizeof path, "/proc/%ld/task/%ld/children", master,
	    master);
	if (slurp(path, kids, sizeof kids) < 0) {
		perror(path);
		return 2;
	}
	for (p = kids; nold < 256 && (v = strtol(p, &e, 10)) > 0; p = e)
		if (accepting(v))
			old[nold++] = v;
	t0 = now_us();
	if (kill((pid_t)master, SIGHUP) < 0) {
		perror("hupfloor: kill");
		return 2;
	}
	for (;;) {
		now = now_us();
		if (now - t0 > 5000000)
			return 1;
		settled = 1;
		for (i = 0; i < nold; i++)
			if (accepting(old[i]))
				settled = 0;
		if (answers(port, argv[3])) {
			if (first < 0)
				first = now_us() - t0;
			if (settled)
				break;
		}
		nanosleep(&ms, NULL);
	}
	printf("%lld %lld\n", first, now_us() - t0);
	return 0;
}
