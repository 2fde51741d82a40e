/* unit_proc - drive proc.c from the tests and the benchmark.
 *
 *   unit_proc -t
 *	The /proc/net line parsers on lines recorded from a real kernel
 *	(tcp, tcp6 with an IPv4-mapped row, unix: listening, connected,
 *	not yet accepted, unbound, abstract, datagram) and on malformed ones; prints each
 *	failure and "N passed, N failed".
 *   unit_proc -n ADDR
 *	Count what bgdrain counts for an instance at ADDR (HOST:PORT,
 *	[IPv6]:PORT or unix:/path) both ways, through netlink sock_diag and
 *	from /proc/net; print the count when they agree, else both counts
 *	("diag N, proc M") and exit 1.
 *   unit_proc -d ADDR | -p ADDR
 *	Print the count one way only: netlink (-d) or /proc/net (-p).
 *   unit_proc -m PORT IP...
 *	Print the netlink count for one instance with several addresses
 *	(what a host name resolving to several gives), IP numeric: the
 *	kernel runs one address condition after the other.
 *   unit_proc -f ADDR FILE
 *	Print bg_inflight_file(ADDR, FILE): the same count over a recorded
 *	table laid out like /proc/net/tcp, tcp6 or unix.
 *   unit_proc -b ADDR N
 *	Time N polls each way, alternating in rounds of N/10 so all see the
 *	same machine: netlink counting all, /proc/net counting all, netlink
 *	stopping at the first (what bgdrain's polls do while it waits
 *	without a progress line); print per way the count, the wall clock
 *	and CPU time per poll (user: parsing; sys: the kernel listing its
 *	tables), then how many times faster than /proc netlink was.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "bg.h"
#include "unit.h"

static const char usage[] =
    "unit_proc -t | -n addr | -d addr | -p addr | -m port ip... | "
    "-f addr file | -b addr polls";

/* The recorded addresses are those of a little-endian machine. */
static int
little_endian(void)
{
	unsigned x = 1;

	return *(unsigned char *)&x == 1;
}

static void
table_tcp(void)
{
	static const struct {
		const char *s; size_t n; int ok; int family; const char *addr;
		unsigned port, state; const char *raddr; unsigned rport;
	} t[] = {
		/* /proc/net/tcp: header, listener, CLOSE_WAIT, TIME_WAIT
		 * (shorter: no socket behind it), both ends of one loopback
		 * connection. Rows are padded with spaces to 149 bytes. */
		{ S("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     "), 0, 0, NULL, 0, 0, NULL, 0 },
		{ S("   0: 0100007F:4651 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11527 1 00000000b94133c2 100 0 0 10 0                     "), 1, AF_INET, "127.0.0.1", 18001, BG_TCP_LISTEN, "0.0.0.0", 0 },
		{ S("   1: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1059 1 0000000041173eb6 100 0 0 10 0                      "), 1, AF_INET, "0.0.0.0", 2024, BG_TCP_LISTEN, "0.0.0.0", 0 },
		{ S("   2: 0100007F:4651 0100007F:DC36 08 00000000:00000001 00:00000000 00000000     0        0 11536 1 00000000e204febe 20 4 0 10 -1                     "), 1, AF_INET, "127.0.0.1", 18001, BG_TCP_CLOSE_WAIT, "127.0.0.1", 56374 },
		{ S("   3: 0100007F:4651 0100007F:DC46 06 00000000:00000000 03:00001766 00000000     0        0 0 3 0000000070e78730                                      "), 1, AF_INET, "127.0.0.1", 18001, BG_TCP_TIME_WAIT, "127.0.0.1", 56390 },
		{ S("   5: 0100007F:4651 0100007F:DC2A 01 00000000:00000000 00:00000000 00000000     0        0 11529 1 00000000035c9b44 20 0 0 10 -1                     "), 1, AF_INET, "127.0.0.1", 18001, BG_TCP_ESTABLISHED, "127.0.0.1", 56362 },
		{ S("   6: 0100007F:DC2A 0100007F:4651 01 00000000:00000000 00:00000000 00000000     0        0 11528 2 000000008d5fb5c6 20 0 0 10 -1                     "), 1, AF_INET, "127.0.0.1", 56362, BG_TCP_ESTABLISHED, "127.0.0.1", 18001 },
		{ S("   7: 0100007F:DC36 0100007F:4651 05 00000000:00000000 03:00001761 00000000     0        0 0 3 00000000ca8370f0                                      "), 1, AF_INET, "127.0.0.1", 56374, 0x05, "127.0.0.1", 18001 },
		{ S("10000: 0A000002:0050 0A000001:C350 01 00000000:00000000"), 1, AF_INET, "2.0.0.10", 80, BG_TCP_ESTABLISHED, "1.0.0.10", 50000 },
		/* /proc/net/tcp6: header, the :: listener, an IPv4 client
		 * on it (v4-mapped), both ends of a ::1 connection. */
		{ S("  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"), 0, 0, NULL, 0, 0, NULL, 0 },
		{ S("   0: 00000000000000000000000000000000:4652 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11530 1 000000003a045e8b 100 0 0 10 0"), 1, AF_INET6, "::", 18002, BG_TCP_LISTEN, "::", 0 },
		{ S("   1: 0000000000000000FFFF00000100007F:4652 0000000000000000FFFF00000100007F:DF34 01 00000000:00000000 00:00000000 00000000     0        0 11534 1 00000000c9f1d5ea 20 0 0 10 -1"), 1, AF_INET6, "::ffff:127.0.0.1", 18002, BG_TCP_ESTABLISHED, "::ffff:127.0.0.1", 57140 },
		{ S("   2: 00000000000000000000000001000000:4652 00000000000000000000000001000000:D202 01 00000000:00000000 00:00000000 00000000     0        0 11532 1 000000007429ac72 20 0 0 10 -1"), 1, AF_INET6, "::1", 18002, BG_TCP_ESTABLISHED, "::1", 53762 },
		{ S("   3: 00000000000000000000000001000000:D202 00000000000000000000000001000000:4652 01 00000000:00000000 00:00000000 00000000     0        0 11531 2 00000000cb2f4386 20 0 0 10 -1"), 1, AF_INET6, "::1", 53762, BG_TCP_ESTABLISHED, "::1", 18002 },
		{ S("   4: B80D0120000000000000000001000000:1F41 B80D0120000000000000000002000000:E1F0 08"), 1, AF_INET6, "2001:db8::1", 8001, BG_TCP_CLOSE_WAIT, "2001:db8::2", 57840 },
		/* lower-case hex is not what the kernel prints, but is hex */
		{ S("   0: 0100007f:4651 0100007f:dc36 0a"), 1, AF_INET, "127.0.0.1", 18001, BG_TCP_LISTEN, "127.0.0.1", 56374 },
		/* malformed */
		{ S(""), 0, 0, NULL, 0, 0, NULL, 0 },
		{ S("   "), 0, 0, NULL, 0, 0, NULL, 0 },
		{ S("   0:"), 0, 0, NULL, 0, 0, NULL, 0 },
		{ S("   0: "), 0, 0, NULL, 0, 0, NULL, 0 },
		{ S("   0: 0100007F:4651"), 0, 0, NULL, 0, 0, NULL, 0 },
		{ S("   0: 0100007F:4651 0100007F:DC36"), 0, 0, NULL, 0, 0, NULL, 0 },
		{ S("   0: 0100007F:4651 0100007F:DC36 "), 0, 0, NULL, 0, 0, NULL, 0 },
		{ S("   0: 0100007F:4651 0100007F:DC36 0"), 0, 0, NULL, 0, 0, NULL, 0 },
		{ S("   0: 0100007F:4651 0100007F:DC36 0A1"), 0, 0, NULL, 0, 0, NULL, 0 },
		{ S("   0: 0100007F:4651 0100007F:DC36 0AX"), 0, 0, NULL, 0, 0, NULL, 0 },
		{ S("   0: 100007F:4651 0100007F:DC36 0A"), 0, 0, NULL, 0, 0, NULL, 0 },
		{ S("   0: 0100007F0:4651 0100007F:DC36 0A"), 0, 0, NULL, 0, 0, NULL, 0 },
		{ S("   0: 0100007F:451 0100007F:DC36 0A"), 0, 0, NULL, 0, 0, NULL, 0 },
		{ S("   0: 0100007F:46511 0100007F:DC36 0A"), 0, 0, NULL, 0, 0, NULL, 0 },
		{ S("   0: 0100007G:4651 0100007F:DC36 0A"), 0, 0, NULL, 0, 0, NULL, 0 },
		{ S("   0: 0100007F 4651 0100007F:DC36 0A"), 0, 0, NULL, 0, 0, NULL, 0 },
		{ S("   0: 0100007F:4651  0100007F:DC36 0A"), 0, 0, NULL, 0, 0, NULL, 0 },
		{ S("   0: 0100007F:4651 00000000000000000000000001000000:DC36 0A"), 0, 0, NULL, 0, 0, NULL, 0 },
		{ S("   0  0100007F:4651 0100007F:DC36 0A"), 0, 0, NULL, 0, 0, NULL, 0 },
		{ S("   x: 0100007F:4651 0100007F:DC36 0A"), 0, 0, NULL, 0, 0, NULL, 0 },
		{ S("   0: 0100007F:4651 0100007F:DC36 0A\0"), 0, 0, NULL, 0, 0, NULL, 0 },
		{ S("   0: 0100\0007F:4651 0100007F:DC36 0A"), 0, 0, NULL, 0, 0, NULL, 0 },
	};
	struct bg_tcprow r;
	unsigned char want[16], rwant[16];
	size_t i, len;
	int ok;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		ok = bg_proc_tcp_line(t[i].s, t[i].n, &r) == (t[i].ok ? 0 : -1);
		if (ok && t[i].ok) {
			ok = r.family == t[i].family && r.port == t[i].port &&
			    r.state == t[i].state && r.rport == t[i].rport;
			len = t[i].family == AF_INET ? 4 : 16;
			if (ok && little_endian()) {
				inet_pton(t[i].family, t[i].addr, want);
				inet_pton(t[i].family, t[i].raddr, rwant);
				ok = memcmp(r.addr, want, len) == 0 &&
				    memcmp(r.raddr, rwant, len) == 0;
			}
		}
		check(ok, "tcp line", t[i].s, t[i].n);
	}
}

static void
table_unix(void)
{
	static const struct {
		const char *s; size_t n; int ok; unsigned long flags;
		unsigned type, state; const char *path; unsigned long long id;
	} t[] = {
		{ S("Num       RefCount Protocol Flags    Type St Inode Path"), 0, 0, 0, 0, NULL, 0 },
		/* a connected socket that is not bound: a client */
		{ S("0000000053775da9: 00000003 00000000 00000000 0001 03  1056"), 1, 0, 1, 3, "", 0x53775da9ULL },
		/* its accepted peer: shows the listener's path (with a space) */
		{ S("000000003f094e0c: 00000003 00000000 00000000 0001 03 11541 /tmp/rec test.sock"), 1, 0, 1, 3, "/tmp/rec test.sock", 0x3f094e0cULL },
		{ S("000000001ae49a25: 00000003 00000000 00000000 0001 03 11540"), 1, 0, 1, 3, "", 0x1ae49a25ULL },
		/* not connected, not bound */
		{ S("00000000a1bc38cc: 00000002 00000000 00000000 0001 01 11543"), 1, 0, 1, 1, "", 0xa1bc38ccULL },
		/* the listener: __SO_ACCEPTCON, unconnected */
		{ S("00000000bcbb18f3: 00000002 00000000 00010000 0001 01 11539 /tmp/rec test.sock"), 1, BG_UNIX_ACCEPTCON, 1, 1, "/tmp/rec test.sock", 0xbcbb18f3ULL },
		/* accepted by the kernel, not yet by the app: no inode yet */
		{ S("00000000037711d5: 00000003 00000000 00000000 0001 02     0 /tmp/emb.sock"), 1, 0, 1, 2, "/tmp/emb.sock", 0x37711d5ULL },
		/* a bound datagram socket */
		{ S("00000000724b3fe5: 00000002 00000000 00000000 0002 01 11544 /tmp/rec.dg"), 1, 0, 2, 1, "/tmp/rec.dg", 0x724b3fe5ULL },
		/* abstract: a leading '@', NULs inside shown as '@' too */
		{ S("00000000780cf9b9: 00000002 00000000 00010000 0001 01 11542 @bgabs@x"), 1, BG_UNIX_ACCEPTCON, 1, 1, "@bgabs@x", 0x780cf9b9ULL },
		/* kptr_restrict=2 hides the address; 32-bit kernels print 8 digits */
		{ S("0000000000000000: 00000002 00000000 00000000 0005 03 123456789 /run/x.sock"), 1, 0, 5, 3, "/run/x.sock", 0 },
		{ S("c5e1f000: 00000002 00000000 00000000 0001 03 7 /a"), 1, 0, 1, 3, "/a", 0xc5e1f000ULL },
		/* malformed */
		{ S(""), 0, 0, 0, 0, NULL, 0 },
		{ S("0000000053775da9:"), 0, 0, 0, 0, NULL, 0 },
		{ S("0000000053775da9 00000003 00000000 00000000 0001 03  1056"), 0, 0, 0, 0, NULL, 0 },
		{ S("10000000053775da9: 00000003 00000000 00000000 0001 03  1056"), 0, 0, 0, 0, NULL, 0 },
		{ S("0000000053775da9: 0000003 00000000 00000000 0001 03  1056"), 0, 0, 0, 0, NULL, 0 },
		{ S("0000000053775da9: 00000003 00000000 00000000 001 03  1056"), 0, 0, 0, 0, NULL, 0 },
		{ S("0000000053775da9: 00000003 00000000 00000000 0001 3  1056"), 0, 0, 0, 0, NULL, 0 },
		{ S("0000000053775da9: 00000003 00000000 0001000G 0001 03  1056"), 0, 0, 0, 0, NULL, 0 },
		{ S("0000000053775da9: 00000003 00000000 00000000 0001 03"), 0, 0, 0, 0, NULL, 0 },
		{ S("0000000053775da9: 00000003 00000000 00000000 0001 03 "), 0, 0, 0, 0, NULL, 0 },
		{ S("0000000053775da9: 00000003 00000000 00000000 0001 03  1056 "), 0, 0, 0, 0, NULL, 0 },
		{ S("0000000053775da9: 00000003 00000000 00000000 0001 03  1056x"), 0, 0, 0, 0, NULL, 0 },
		{ S("0000000053775da9: 00000003 00000000 00000000 0001 03  10a6 /p"), 0, 0, 0, 0, NULL, 0 },
	};
	struct bg_unixrow r;
	size_t i;
	int ok;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		ok = bg_proc_unix_line(t[i].s, t[i].n, &r) == (t[i].ok ? 0 : -1);
		if (ok && t[i].ok)
			ok = r.flags == t[i].flags && r.type == t[i].type &&
			    r.state == t[i].state &&
			    r.pathlen == strlen(t[i].path) &&
			    memcmp(r.path ? r.path : "", t[i].path,
			    r.pathlen) == 0 && r.id == t[i].id;
		check(ok, "unix line", t[i].s, t[i].n);
	}
}

/* CPU time used so far, in ms: user (parsing) and system (the kernel
 * printing its tables). */
static void
cpu_ms(double *user, double *sys)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*user = (double)ru.ru_utime.tv_sec * 1e3 +
	    (double)ru.ru_utime.tv_usec / 1e3;
	*sys = (double)ru.ru_stime.tv_sec * 1e3 +
	    (double)ru.ru_stime.tv_usec / 1e3;
}

/* -b: the ways in alternating rounds, so a busy spell hits them all:
 * netlink counting all, /proc/net counting all, and netlink stopping at
 * the first (bgdrain's polls while it waits, without a progress line). */
static void
bench(const struct bg_addr *a, const char *name, unsigned long polls)
{
	static const char *const way[3] = { "netlink", "/proc", "netlink, first only" };
	double wall[3] = { 0, 0, 0 }, user[3] = { 0, 0, 0 }, sys[3] = { 0, 0, 0 };
	double u0, u1, s0, s1, w0;
	unsigned long done = 0, round, i;
	long n[3] = { 0, 0, 0 };
	int k;

	round = polls / 10 ? polls / 10 : 1;
	while (done < polls) {
		if (round > polls - done)
			round = polls - done;
		for (k = 0; k < 3; k++) {
			w0 = (double)bg_now_ms();
			cpu_ms(&u0, &s0);
			for (i = 0; i < round; i++)
				if ((n[k] = k == 2 ? bg_inflight_upto(a, 1) :
				    bg_inflight_by(a, k == 0 ? BG_COUNT_DIAG :
				    BG_COUNT_PROC)) < 0)
					bg_diesys(BG_SYS, "%s count %s",
					    way[k], name);
			cpu_ms(&u1, &s1);
			wall[k] += (double)bg_now_ms() - w0;
			user[k] += u1 - u0;
			sys[k] += s1 - s0;
		}
		done += round;
	}
	for (k = 0; k < 3; k++)
		printf("%-19s count %ld, %lu polls, per poll: %.3f ms, CPU "
		    "%.3f ms (user %.3f, sys %.3f)\n", way[k], n[k], polls,
		    wall[k] / (double)polls,
		    (user[k] + sys[k]) / (double)polls,
		    user[k] / (double)polls, sys[k] / (double)polls);
	for (k = 0; k < 3; k += 2)
		printf("%s against /proc: %.1fx faster (wall), %.1fx (CPU)\n",
		    way[k], wall[k] > 0 ? wall[1] / wall[k] : 0.0,
		    user[k] + sys[k] > 0 ? (user[1] + sys[1]) /
		    (user[k] + sys[k]) : 0.0);
}

static struct bg_addr
addr_arg(const char *s)
{
	struct bg_addr a;

	if (bg_addr_parse(s, strlen(s), &a) < 0)
		bg_die(BG_USAGE, "%s: expected HOST:PORT, [IPv6]:PORT or "
		    "unix:/path", s);
	return a;
}

int
main(int argc, char *argv[])
{
	struct bg_addr a;
	unsigned long polls;
	long n = 0, np;

	bg_setprog(argv[0]);
	bg_help(argc, argv, usage);
	if (argc == 2 && strcmp(argv[1], "-t") == 0) {
		table_tcp();
		table_unix();
		printf("%d passed, %d failed\n", npass, nfail);
		return nfail ? BG_NO : BG_OK;
	}
	if (argc == 3 && strcmp(argv[1], "-n") == 0) {
		a = addr_arg(argv[2]);
		if ((n = bg_inflight_by(&a, BG_COUNT_DIAG)) < 0)
			bg_diesys(BG_SYS, "netlink count %s", argv[2]);
		if ((np = bg_inflight_by(&a, BG_COUNT_PROC)) < 0)
			bg_diesys(BG_SYS, "/proc count %s", argv[2]);
		if (n != np) {
			printf("diag %ld, proc %ld\n", n, np);
			return BG_NO;
		}
		printf("%ld\n", n);
		return BG_OK;
	}
	if (argc == 3 && (strcmp(argv[1], "-d") == 0 ||
	    strcmp(argv[1], "-p") == 0)) {
		a = addr_arg(argv[2]);
		if ((n = bg_inflight_by(&a, argv[1][1] == 'd' ? BG_COUNT_DIAG :
		    BG_COUNT_PROC)) < 0)
			bg_diesys(BG_SYS, "count %s", argv[2]);
		printf("%ld\n", n);
		return BG_OK;
	}
	if (argc >= 4 && strcmp(argv[1], "-m") == 0) {
		struct bg_target t;
		unsigned long port;
		unsigned char ip[16];
		int k;

		memset(&t, 0, sizeof t);
		if (bg_parse_ulong(argv[2], strlen(argv[2]), 65535, &port) < 0 ||
		    argc - 3 > BG_TARGET_ADDRS)
			bg_usage(usage);
		t.port = (unsigned)port;
		for (k = 3; k < argc; k++) {
			if (inet_pton(AF_INET, argv[k], ip) == 1)
				bg_addr_mapped(AF_INET, ip, t.addr[t.naddr++]);
			else if (inet_pton(AF_INET6, argv[k], ip) == 1)
				bg_addr_mapped(AF_INET6, ip, t.addr[t.naddr++]);
			else
				bg_usage(usage);
		}
		if ((n = bg_count_diag(&t, 0, 0)) < 0)
			bg_diesys(BG_SYS, "netlink count");
		printf("%ld\n", n);
		return BG_OK;
	}
	if (argc == 4 && strcmp(argv[1], "-f") == 0) {
		a = addr_arg(argv[2]);
		if ((n = bg_inflight_file(&a, argv[3])) < 0)
			bg_diesys(BG_SYS, "%s", argv[3]);
		printf("%ld\n", n);
		return BG_OK;
	}
	if (argc == 4 && strcmp(argv[1], "-b") == 0) {
		a = addr_arg(argv[2]);
		if (bg_parse_ulong(argv[3], strlen(argv[3]), 1000000,
		    &polls) < 0 || polls == 0)
			bg_usage(usage);
		bench(&a, argv[2], polls);
		return BG_OK;
	}
	bg_usage(usage);
}
