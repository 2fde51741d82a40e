/* fuzz_diag.c - libFuzzer target for the netlink sock_diag reply parser
 * behind bgdrain's count (tools/lib/diag.c): bg_diag_parse.
 *
 *   make build/fuzz/fuzz_diag
 *   build/fuzz/fuzz_diag -max_total_time=60 tests/fuzz/corpus/diag
 *
 * The first input byte picks the question (bit 0: unix or TCP; bits 1-2:
 * the target: one IPv4 address, one IPv6 address, any address, two
 * addresses), the rest is what one recv(2) returned. The corpus holds
 * replies recorded from a real kernel (tcp: ESTABLISHED rows and DONE;
 * unix: a listener with pending connections, connected sockets, DONE).
 * Checks, besides memory safety: the result is -1, 0 or 1; on -1 errno is
 * set; a row is handed to add at most once per 4 bytes of input; the
 * parse is deterministic (the same input twice counts the same). */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bg.h"
#include "fuzz.h"

static int
add(void *arg, uint64_t key)
{
	unsigned long *n = arg;

	(void)key;
	(*n)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char lo4[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff, 127, 0, 0, 1 };
	struct bg_target t;
	unsigned long n1 = 0, n2 = 0;
	int is_unix, r1, r2;

	if (size < 1)
		return 0;
	memset(&t, 0, sizeof t);
	is_unix = data[0] & 1;
	t.path = "/tmp/dbg/b.sock";
	t.pathlen = strlen(t.path);
	t.port = 8001;
	switch ((data[0] >> 1) & 3) {
	case 0:
		memcpy(t.addr[0], lo4, 16);
		t.naddr = 1;
		break;
	case 1:
		memcpy(t.addr[0], in6addr_loopback.s6_addr, 16);
		t.naddr = 1;
		break;
	case 2:
		t.any = 1;
		break;
	default:
		memcpy(t.addr[0], lo4, 16);
		memcpy(t.addr[1], in6addr_loopback.s6_addr, 16);
		t.naddr = 2;
	}
	errno = 0;
	r1 = bg_diag_parse(data + 1, size - 1, 1, is_unix, &t, add, &n1);
	check(r1 >= -1 && r1 <= 1);
	check(r1 >= 0 || errno != 0);
	check(n1 <= size / 4);
	r2 = bg_diag_parse(data + 1, size - 1, 1, is_unix, &t, add, &n2);
	check(r1 == r2 && n1 == n2);
	return 0;
}
