/* proc.c - in-flight connections to an instance, counted from /proc/net.
 * The line parsers are in procline.c; this reads the files in big chunks
 * into one buffer reused across polls. bg_inflight asks the kernel through
 * netlink first (diag.c), and reads /proc/net only when that is refused. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bg.h"

#define PROC_CAP (64L << 20)	/* bytes read per file per poll, at most */
#define MAXADDRS BG_TARGET_ADDRS	/* addresses kept for a host name */

static const unsigned char v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* IPv4 and IPv4-mapped IPv6 compare equal once both are in mapped form. */
void
bg_addr_mapped(int family, const unsigned char *addr, unsigned char *out)
{
	if (family == AF_INET) {
		memcpy(out, v4mapped, 12);
		memcpy(out + 12, addr, 4);
	} else
		memcpy(out, addr, 16);
}

/* FNV-1a: a row's identity, for spotting it twice in one reading. */
uint64_t
bg_row_hash(const void *p, size_t n, uint64_t h)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

#define HASH0 BG_HASH0

/* 1 when the row counts, with *key its identity (0: none known). */
static int
tcp_match(const char *s, size_t n, const struct bg_target *t, uint64_t *key)
{
	struct bg_tcprow r;
	unsigned char a[16];
	int k;

	if (bg_proc_tcp_line(s, n, &r) < 0 || r.port != t->port ||
	    (r.state != BG_TCP_ESTABLISHED && r.state != BG_TCP_CLOSE_WAIT))
		return 0;
	*key = bg_row_hash(&r.rport, sizeof r.rport, bg_row_hash(r.raddr, 16,
	    bg_row_hash(r.addr, 16, HASH0)));
	if (t->any)
		return 1;
	bg_addr_mapped(r.family, r.addr, a);
	for (k = 0; k < t->naddr; k++)
		if (memcmp(a, t->addr[k], 16) == 0)
			return 1;
	return 0;
}

/* Both ends of a connection: accepted by the app (connected), or still in
 * its listen queue (connecting); never the listener itself. */
static int
unix_match(const char *s, size_t n, const struct bg_target *t, uint64_t *key)
{
	struct bg_unixrow r;

	if (bg_proc_unix_line(s, n, &r) < 0 || r.type != BG_UNIX_STREAM ||
	    (r.state != BG_UNIX_CONNECTED && r.state != BG_UNIX_CONNECTING) ||
	    (r.flags & BG_UNIX_ACCEPTCON) || r.pathlen != t->pathlen ||
	    /* a unix target always has a path (target_of): */
	    /* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker) */
	    memcmp(r.path, t->path, r.pathlen) != 0)
		return 0;
	*key = r.id ? bg_row_hash(&r.id, sizeof r.id, HASH0) : 0;
	return 1;
}

/* The rows counted in one reading, by identity: a file read in many
 * chunks while connections come and go shows some rows twice (each read
 * resumes at a position in a hash bucket that moved). Open addressing,
 * reused across readings. */
static struct {
	uint64_t *slot;
	size_t cap, used;
} seen;

/* 1 new, 0 seen before, -1 out of memory. */
int
bg_seen_add(uint64_t key)
{
	uint64_t *old = seen.slot;
	size_t oldcap = seen.cap, i, k;

	if (key == 0)
		key = 1;	/* 0 marks an empty slot */
	if (2 * (seen.used + 1) > seen.cap) {
		seen.cap = oldcap ? 2 * oldcap : 1024;
		if ((seen.slot = calloc(seen.cap, sizeof *seen.slot)) == NULL) {
			seen.slot = old;
			seen.cap = oldcap;
			return -1;
		}
		seen.used = 0;
		for (k = 0; k < oldcap; k++)
			if (old[k] != 0)
				(void)bg_seen_add(old[k]);
		free(old);
	}
	for (i = key & (seen.cap - 1); seen.slot[i] != 0;
	    i = (i + 1) & (seen.cap - 1))
		if (seen.slot[i] == key)
			return 0;
	seen.slot[i] = key;
	seen.used++;
	return 1;
}

void
bg_seen_clear(void)
{
	if (seen.slot != NULL)
		memset(seen.slot, 0, seen.cap * sizeof *seen.slot);
	seen.used = 0;
}

typedef int matchfn(const char *, size_t, const struct bg_target *, uint64_t *);

/* One line: 1 counted, 0 not, -1 out of memory. */
static int
count_line(const char *s, size_t n, matchfn *match, const struct bg_target *t)
{
	uint64_t key = 0;

	if (!match(s, n, t, &key))
		return 0;
	return key == 0 ? 1 : bg_seen_add(key);
}

/* Numeric addresses are taken as they are; a host name is resolved once per
 * process (the lookup has no deadline of its own: keep names in
 * /etc/hosts) and a connection to any of its addresses counts. */
static int
resolve(const char *host, struct bg_target *t)
{
	static char cached[256];
	static int ncached = -1;
	static unsigned char caddr[MAXADDRS][16];
	struct addrinfo hints, *res, *ai;
	unsigned char a[16];
	int e;

	if (inet_pton(AF_INET, host, a) == 1) {
		t->any = memcmp(a, "\0\0\0\0", 4) == 0;
		bg_addr_mapped(AF_INET, a, t->addr[0]);
		t->naddr = 1;
		return 0;
	}
	if (inet_pton(AF_INET6, host, a) == 1) {
		t->any = memcmp(a, in6addr_any.s6_addr, 16) == 0;
		memcpy(t->addr[0], a, 16);
		t->naddr = 1;
		return 0;
	}
	if (ncached < 0 || strcmp(cached, host) != 0) {
		memset(&hints, 0, sizeof hints);
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		if ((e = getaddrinfo(host, NULL, &hints, &res)) != 0) {
			errno = e == EAI_SYSTEM ? errno : EADDRNOTAVAIL;
			return -1;
		}
		ncached = 0;
		for (ai = res; ai != NULL && ncached < MAXADDRS; ai = ai->ai_next)
			if (ai->ai_family == AF_INET)
				bg_addr_mapped(AF_INET, (unsigned char *)&((struct
				    sockaddr_in *)ai->ai_addr)->sin_addr,
				    caddr[ncached++]);
			else if (ai->ai_family == AF_INET6)
				memcpy(caddr[ncached++], &((struct sockaddr_in6 *)
				    ai->ai_addr)->sin6_addr, 16);
		freeaddrinfo(res);
		snprintf(cached, sizeof cached, "%s", host);
	}
	memcpy(t->addr, caddr, sizeof caddr);
	t->naddr = ncached;
	return 0;
}

/* Count the rows of one /proc file that match t. A missing file (no IPv6)
 * counts nothing. Lines are split across reads, so a partial last line is
 * moved to the front of the buffer and completed by the next read. */
static long
count_file(const char *path, matchfn *match, const struct bg_target *t)
{
	static char buf[1 << 18];
	size_t have = 0, used;
	long total = 0, count = 0;
	ssize_t got;
	char *p, *nl, *end;
	int fd, err, c = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : -1;
	bg_seen_clear();
	for (;;) {
		got = read(fd, buf + have, sizeof buf - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		if ((total += got) > PROC_CAP) {
			errno = EFBIG;
			got = -1;
			break;
		}
		have += (size_t)got;
		end = buf + have;
		for (p = buf; (nl = memchr(p, '\n', (size_t)(end - p))) &&
		    (c = count_line(p, (size_t)(nl - p), match, t)) >= 0;
		    p = nl + 1)
			count += c;
		if (c < 0) {
			errno = ENOMEM;
			got = -1;
			break;
		}
		used = (size_t)(p - buf);
		if (used == 0 && have == sizeof buf) {
			errno = EOVERFLOW;	/* a line longer than the buffer */
			got = -1;
			break;
		}
		memmove(buf, p, have - used);
		have -= used;
	}
	err = errno;
	close(fd);
	if (got < 0) {
		errno = err;
		return -1;
	}
	if (have > 0 && (c = count_line(buf, have, match, t)) < 0) {
		errno = ENOMEM;
		return -1;
	}
	return count + (have > 0 ? c : 0);
}

int
bg_target_of(const struct bg_addr *a, struct bg_target *t)
{
	memset(t, 0, sizeof *t);
	if (a->is_unix) {
		t->path = a->path;
		t->pathlen = strlen(a->path);
		return 0;
	}
	t->port = a->port;
	return resolve(a->host, t);
}

/* The /proc/net reading of what t names. */
static long
count_proc(const struct bg_target *t, int is_unix)
{
	long n4 = 0, n6;
	int k, v4 = 0;

	if (is_unix)
		return count_file("/proc/net/unix", unix_match, t);
	/* tcp6 always: IPv4 clients of a dual-stack listener are there, as
	 * v4-mapped rows. tcp only when an IPv4 address can match: reading
	 * it costs as much as the whole table is long. */
	for (k = 0; k < t->naddr; k++)
		v4 |= memcmp(t->addr[k], v4mapped, 12) == 0;
	if (((t->any || v4) &&
	    (n4 = count_file("/proc/net/tcp", tcp_match, t)) < 0) ||
	    (n6 = count_file("/proc/net/tcp6", tcp_match, t)) < 0)
		return -1;
	return n4 + n6;
}

static long
inflight(const struct bg_addr *a, int how, long max)
{
	static int refused;
	struct bg_target t;
	long n;

	if (bg_target_of(a, &t) < 0)
		return -1;
	if (how == BG_COUNT_PROC)
		return count_proc(&t, a->is_unix);
	if (how == BG_COUNT_DIAG)
		return bg_count_diag(&t, a->is_unix, max);
	if (!refused) {
		if ((n = bg_count_diag(&t, a->is_unix, max)) >= 0)
			return n;
		/* Said once: every later poll reads /proc/net. */
		refused = 1;
		bg_warnsys("cannot count through netlink sock_diag, reading "
		    "/proc/net instead");
	}
	n = count_proc(&t, a->is_unix);
	return max > 0 && n > max ? max : n;
}

long
bg_inflight_by(const struct bg_addr *a, int how)
{
	return inflight(a, how, 0);
}

long
bg_inflight_upto(const struct bg_addr *a, long max)
{
	return inflight(a, BG_COUNT_AUTO, max);
}

long
bg_inflight(const struct bg_addr *a)
{
	return bg_inflight_by(a, BG_COUNT_AUTO);
}

long
bg_inflight_file(const struct bg_addr *a, const char *path)
{
	struct bg_target t;

	if (bg_target_of(a, &t) < 0)
		return -1;
	return count_file(path, a->is_unix ? unix_match : tcp_match, &t);
}
