/* hupfloor - nginx's own floor for a reload, for make bench: what bgflip's
 * reload mode waits for, without bgflip.
 *
 *	hupfloor MASTER_PID PORT COLOR
 *
 * Run after the new config is on disk. Notes the master's accepting
 * workers and sends it SIGHUP (bg_nginx_hup, as bgflip does), then polls
 * every 1 ms (5 s at most): GET /bg on a fresh connection to
 * 127.0.0.1:PORT, and the old workers' titles (bg_nginx_settled). Prints
 * "first_us settled_us": from the HUP to the first fresh answer of COLOR,
 * and to the first fresh answer of COLOR once every old worker is gone or
 * "shutting down" (what bgflip verifies: before that both generations
 * accept). Exit 1 on a timeout. Links libbg. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bg.h"

/* 1 when a fresh GET /bg answers color */
static int
answers(const struct bg_addr *a, const char *color)
{
	struct bg_reply r;
	size_t n = strlen(color);

	return bg_http_get(a, "/bg", "localhost", bg_now_ms() + 1000, 0,
	    &r) == 0 && r.bodylen >= n && memcmp(r.body, color, n) == 0;
}

int
main(int argc, char *argv[])
{
	static const char usage[] = "hupfloor master_pid port color";
	struct bg_nginx ng;
	struct bg_addr a;
	unsigned long v;
	long long t0, first = -1, now;
	int settled;
	struct timespec ms = { 0, 1000000 };

	bg_setprog(argv[0]);
	if (argc != 4)
		bg_usage(usage);
	memset(&ng, 0, sizeof ng);
	memset(&a, 0, sizeof a);
	ng.pidfd = -1;
	snprintf(a.host, sizeof a.host, "127.0.0.1");
	if (bg_parse_ulong(argv[1], strlen(argv[1]), 4194304, &v) < 0 ||
	    v == 0)
		bg_usage(usage);
	ng.pid = (pid_t)v;
	if (bg_parse_ulong(argv[2], strlen(argv[2]), 65535, &v) < 0 || v == 0)
		bg_usage(usage);
	a.port = (unsigned)v;
	t0 = bg_now_us();
	if (bg_nginx_hup(&ng) < 0)
		return 2;
	for (;;) {
		now = bg_now_us();
		if (now - t0 > 5000000)
			return 1;
		settled = bg_nginx_settled(&ng);
		if (answers(&a, argv[3])) {
			if (first < 0)
				first = bg_now_us() - t0;
			if (settled)
				break;
		}
		nanosleep(&ms, NULL);
	}
	printf("%lld %lld\n", first, bg_now_us() - t0);
	return 0;
}
