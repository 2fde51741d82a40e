/* fuzz_proc.c - libFuzzer target for the /proc/net line parsers behind
 * bg_inflight (tools/lib/procline.c): bg_proc_tcp_line and bg_proc_unix_line.
 *
 *   make build/fuzz/fuzz_proc
 *   build/fuzz/fuzz_proc -max_total_time=60 tests/fuzz/corpus/proc
 *
 * The input is one line (bg_inflight never hands a '\n' to a parser, so
 * the input is cut at the first one) tried as a tcp/tcp6 row and as a
 * unix row. Checks, besides memory safety: the result is 0 or -1; an
 * accepted tcp row has a family of AF_INET or AF_INET6, a 16-bit port and
 * an 8-bit state, and printing it back the kernel's way gives a line that
 * parses to the same row; the fields after the state never matter; an
 * accepted unix row has a 16-bit type, an 8-bit state and a path that is
 * the tail of the line (or none). */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bg.h"
#include "fuzz.h"

static int
zeroed(const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

/* The row printed as the kernel prints it (tcp4_seq_show, tcp6_seq_show):
 * each 32-bit word of the address as a native integer with %08X. */
static size_t
tcp_print(const struct bg_tcprow *r, char *buf, size_t len)
{
	size_t o, k, words = r->family == AF_INET ? 1 : 4;
	uint32_t w;

	o = (size_t)snprintf(buf, len, "%4d: ", 7);
	for (k = 0; k < words; k++) {
		memcpy(&w, r->addr + 4 * k, 4);
		o += (size_t)snprintf(buf + o, len - o, "%08X", (unsigned)w);
	}
	o += (size_t)snprintf(buf + o, len - o, ":%04X ", r->port);
	for (k = 0; k < words; k++) {
		memcpy(&w, r->raddr + 4 * k, 4);
		o += (size_t)snprintf(buf + o, len - o, "%08X", (unsigned)w);
	}
	o += (size_t)snprintf(buf + o, len - o, ":%04X %02X %08X:%08X 00:00000000"
	    " 00000000     0        0 12345 1 0000000000000000 20 4 30 10 -1",
	    r->rport, r->state, 0u, 0u);
	return o;
}

static void
fuzz_tcp(const char *s, size_t n)
{
	struct bg_tcprow r, again;
	char buf[512], *ext;
	int rc;

	rc = bg_proc_tcp_line(s, n, &r);
	check(rc == 0 || rc == -1);
	if (rc < 0)
		return;
	check(r.family == AF_INET || r.family == AF_INET6);
	check(r.port <= 0xffff && r.rport <= 0xffff && r.state <= 0xff);
	if (r.family == AF_INET)
		check(zeroed(r.addr + 4, 12) && zeroed(r.raddr + 4, 12));
	n = tcp_print(&r, buf, sizeof buf);
	check(bg_proc_tcp_line(buf, n, &again) == 0 &&
	    memcmp(&r, &again, sizeof r) == 0);
	/* whatever follows the state, after a space, is not looked at */
	if ((ext = malloc(n + 3)) == NULL)
		return;
	memcpy(ext, buf, n);
	memcpy(ext + n, " Z", 2);
	check(bg_proc_tcp_line(ext, n + 2, &again) == 0 &&
	    memcmp(&r, &again, sizeof r) == 0);
	free(ext);
}

static void
fuzz_unix(const char *s, size_t n)
{
	struct bg_unixrow r;
	size_t i;
	int rc;

	rc = bg_proc_unix_line(s, n, &r);
	check(rc == 0 || rc == -1);
	if (rc < 0)
		return;
	check(r.type <= 0xffff && r.state <= 0xff && r.flags <= 0xffffffffUL);
	if (r.path == NULL) {
		check(r.pathlen == 0);
		/* unbound: the line ends with the inode's digits */
		check(n > 0 && s[n - 1] >= '0' && s[n - 1] <= '9');
		return;
	}
	/* the path is the rest of the line, after one space */
	check(r.pathlen > 0 && r.path > s && r.path + r.pathlen == s + n &&
	    r.path[-1] == ' ');
	for (i = 0; i < (size_t)(r.path - 1 - s); i++)
		check(s[i] != '\0');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const char *nl = memchr(s, '\n', size);
	size_t n = nl != NULL ? (size_t)(nl - s) : size;

	fuzz_tcp(s, n);
	fuzz_unix(s, n);
	return 0;
}
