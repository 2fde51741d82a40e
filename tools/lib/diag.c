/* diag.c - in-flight connections to an instance, asked of the kernel through
 * NETLINK_SOCK_DIAG (the interface ss(8) uses) instead of reading the text
 * of /proc/net, which the kernel formats for every socket on the machine.
 *
 * TCP: one dump per address family, the kernel keeping only the states
 * ESTABLISHED and CLOSE_WAIT and running a filter (inet_diag bytecode) on
 * each of those: local port equal to the instance's, local address one of
 * its addresses (an IPv4 condition also matches v4-mapped IPv6 sockets);
 * so the answer costs in proportion to the sockets that match. unix: the
 * kernel cannot filter by name, so it sends the connected and listening
 * stream sockets with their names (and a listener's queue of connections
 * not accepted yet), and the path is matched here; no text to format.
 *
 * What counts is what proc.c counts, row for row: every message is checked
 * here again against the same target, so the kernel filter only makes the
 * answer shorter, never different. bg_diag_parse is pure (fuzz_diag.c);
 * bg_count_diag does the socket I/O. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>

#include "bg.h"

#define TCPF(st) (1U << (st))
#define ST_ESTABLISHED 1	/* TCP_ESTABLISHED: also a connected unix socket */
#define ST_CLOSE_WAIT 8
#define ST_LISTEN 10
#define BC_MAX 512		/* bytecode bytes: 4 + 8 addresses */

static const unsigned char v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static int
tcp_row(const struct inet_diag_msg *m, const struct bg_target *t,
    uint64_t *key)
{
	unsigned char a[16];
	int k;

	if ((m->idiag_family != AF_INET && m->idiag_family != AF_INET6) ||
	    (m->idiag_state != ST_ESTABLISHED &&
	    m->idiag_state != ST_CLOSE_WAIT) ||
	    ntohs(m->id.idiag_sport) != t->port)
		return 0;
	*key = bg_row_hash(m->id.idiag_cookie, sizeof m->id.idiag_cookie,
	    bg_row_hash(&m->idiag_family, 1, BG_HASH0));
	if (t->any)
		return 1;
	bg_addr_mapped(m->idiag_family, (const unsigned char *)m->id.idiag_src,
	    a);
	for (k = 0; k < t->naddr; k++)
		if (memcmp(a, t->addr[k], 16) == 0)
			return 1;
	return 0;
}

/* A unix socket: its bound name (a path comes with its terminating NUL,
 * which /proc/net/unix does not print) and, for a listener, the pending
 * connections in its queue (UNIX_DIAG_ICONS: the inodes of their clients).
 * Connected sockets bound to the path count, and so do the connections a
 * listener on the path has not accepted yet: the kernel lists those in
 * /proc/net/unix but not in a dump (they have no inode of their own). */
static int
unix_row(const struct unix_diag_msg *m, const unsigned char *p, size_t len,
    const struct bg_target *t, int (*add)(void *, uint64_t), void *arg)
{
	const unsigned char *name = NULL, *icons = NULL;
	size_t off = NLMSG_ALIGN(sizeof *m), alen, nlen = 0, nicons = 0, i;
	struct rtattr ra;
	uint32_t ino;

	if (m->udiag_type != SOCK_STREAM || (m->udiag_state != ST_ESTABLISHED &&
	    m->udiag_state != ST_LISTEN))
		return 0;
	while (off <= len && len - off >= sizeof ra) {
		memcpy(&ra, p + off, sizeof ra);
		if (ra.rta_len < sizeof ra || ra.rta_len > len - off)
			return -1;
		alen = ra.rta_len - sizeof ra;
		if (ra.rta_type == UNIX_DIAG_NAME) {
			name = p + off + sizeof ra;
			nlen = alen;
			if (nlen > 0 && name[0] != '\0' && name[nlen - 1] == '\0')
				nlen--;
		} else if (ra.rta_type == UNIX_DIAG_ICONS) {
			icons = p + off + sizeof ra;
			nicons = alen / sizeof ino;
		}
		off += RTA_ALIGN(ra.rta_len);
	}
	if (name == NULL || nlen != t->pathlen || t->path == NULL ||
	    memcmp(name, t->path, nlen) != 0)
		return 0;	/* not bound (a client), or another name */
	if (m->udiag_state == ST_ESTABLISHED)
		return add(arg, bg_row_hash(&m->udiag_ino, sizeof m->udiag_ino,
		    BG_HASH0)) < 0 ? -2 : 0;
	for (i = 0; i < nicons; i++) {
		memcpy(&ino, icons + i * sizeof ino, sizeof ino);
		if (add(arg, bg_row_hash(&ino, sizeof ino,
		    bg_row_hash(&m->udiag_ino, sizeof m->udiag_ino,
		    BG_HASH0 ^ 1))) < 0)
			return -2;
	}
	return 0;
}

int
bg_diag_parse(const void *buf, size_t n, unsigned seq, int is_unix,
    const struct bg_target *t, int (*add)(void *, uint64_t), void *arg)
{
	const unsigned char *p = buf;
	struct nlmsghdr h;
	struct nlmsgerr e;
	union {
		struct inet_diag_msg in;
		struct unix_diag_msg un;
	} m;
	size_t off = 0, plen;
	uint64_t key;
	int r;

	while (n - off >= sizeof h) {
		memcpy(&h, p + off, sizeof h);
		if (h.nlmsg_len < sizeof h || h.nlmsg_len > n - off) {
			errno = EBADMSG;
			return -1;
		}
		plen = h.nlmsg_len - sizeof h;
		if (h.nlmsg_seq == seq) {
			if (h.nlmsg_type == NLMSG_DONE)
				return 1;
			if (h.nlmsg_type == NLMSG_ERROR) {
				if (plen < sizeof e.error) {
					errno = EBADMSG;
					return -1;
				}
				memcpy(&e.error, p + off + sizeof h,
				    sizeof e.error);
				errno = e.error < 0 && e.error > -4096 ?
				    -e.error : EPROTO;
				return -1;
			}
			if ((h.nlmsg_type != SOCK_DIAG_BY_FAMILY &&
			    h.nlmsg_type != TCPDIAG_GETSOCK) ||
			    plen < (is_unix ? sizeof m.un : sizeof m.in)) {
				errno = EBADMSG;
				return -1;
			}
			/* the fixed part copied out: a fuzzer's buffer holds
			 * no alignment promise; attributes are read with
			 * memcpy in place */
			memcpy(&m, p + off + sizeof h,
			    is_unix ? sizeof m.un : sizeof m.in);
			key = 0;
			r = is_unix ? unix_row(&m.un, p + off + sizeof h, plen,
			    t, add, arg) : tcp_row(&m.in, t, &key);
			if (r == -1)
				errno = EBADMSG;
			if (r < 0 || (r > 0 && add(arg, key) < 0))
				return -1;
		}
		/* another request's leftovers are skipped */
		if (NLMSG_ALIGN(h.nlmsg_len) >= n - off)
			break;
		off += NLMSG_ALIGN(h.nlmsg_len);
	}
	return 0;
}

/* --- the bytecode: ops run from the start; "yes" and "no" are byte offsets
 * forward; landing exactly at the end accepts, at end + 4 rejects. The
 * kernel's audit follows "yes" from op to op, so "yes" always steps to the
 * next op and a jump is a JMP op (which always takes "no"). */

static size_t
put_op(unsigned char *bc, size_t o, unsigned code, unsigned yes, unsigned no)
{
	struct inet_diag_bc_op op;

	op.code = (unsigned char)code;
	op.yes = (unsigned char)yes;
	op.no = (unsigned short)no;
	memcpy(bc + o, &op, sizeof op);
	return o + sizeof op;
}

static size_t
cond_len(const unsigned char *a)
{
	return sizeof(struct inet_diag_bc_op) +
	    sizeof(struct inet_diag_hostcond) +
	    (memcmp(a, v4mapped, 12) == 0 ? 4 : 16);
}

/* Local port == t->port, and (unless any) local address one of t's. */
static size_t
bytecode(const struct bg_target *t, unsigned char *bc)
{
	struct inet_diag_hostcond hc;
	size_t o = 0, len, rest, cl;
	int k;

	len = 16;
	if (!t->any)
		for (k = 0; k < t->naddr; k++)
			len += cond_len(t->addr[k]) + (k + 1 < t->naddr ? 4 : 0);
	o = put_op(bc, o, INET_DIAG_BC_S_GE, 8, (unsigned)(len - o + 4));
	o = put_op(bc, o, 0, 0, t->port);
	o = put_op(bc, o, INET_DIAG_BC_S_LE, 8, (unsigned)(len - o + 4));
	o = put_op(bc, o, 0, 0, t->port);
	if (t->any)
		return o;
	for (k = 0; k < t->naddr; k++) {
		cl = cond_len(t->addr[k]);
		rest = len - o;
		/* no: the next condition, past this one's JMP; the last
		 * one's no rejects */
		o = put_op(bc, o, INET_DIAG_BC_S_COND, (unsigned)cl,
		    (unsigned)(k + 1 < t->naddr ? cl + 4 : rest + 4));
		memset(&hc, 0, sizeof hc);
		hc.port = -1;
		if (memcmp(t->addr[k], v4mapped, 12) == 0) {
			hc.family = AF_INET;
			hc.prefix_len = 32;
			memcpy(bc + o + sizeof hc, t->addr[k] + 12, 4);
		} else {
			hc.family = AF_INET6;
			hc.prefix_len = 128;
			memcpy(bc + o + sizeof hc, t->addr[k], 16);
		}
		memcpy(bc + o, &hc, sizeof hc);
		o += cl - sizeof(struct inet_diag_bc_op);
		if (k + 1 < t->naddr)	/* matched: to the end, accept */
			o = put_op(bc, o, INET_DIAG_BC_JMP, 4,
			    (unsigned)(len - o));
	}
	return o;
}

/* --- the socket, kept open across polls */

static int nlfd = -1;
static long limit;		/* stop the dump at this many (0: count all) */
static int stopped;		/* and it did: the rest of it is unread */
static int nocompat;		/* TCPDIAG_GETSOCK refused */
static unsigned seqno;
static uint32_t rbuf[(64 << 10) / sizeof(uint32_t)];

static int
count_add(void *arg, uint64_t key)
{
	long *n = arg;
	int r;

	if ((r = key == 0 ? 1 : bg_seen_add(key)) < 0) {
		errno = ENOMEM;
		return -1;
	}
	if ((*n += r) >= limit && limit > 0) {
		stopped = 1;
		errno = ECANCELED;
		return -1;
	}
	return 0;
}

/* One dump: send the request, read until NLMSG_DONE. */
static int
dump(const void *req, size_t reqlen, const void *bc, size_t bclen,
    int is_unix, const struct bg_target *t, long *n)
{
	struct sockaddr_nl sa;
	struct iovec iov[2];
	struct msghdr mh;
	ssize_t got;
	int r;

	memset(&sa, 0, sizeof sa);
	sa.nl_family = AF_NETLINK;
	iov[0].iov_base = (void *)(uintptr_t)req;
	iov[0].iov_len = reqlen;
	iov[1].iov_base = (void *)(uintptr_t)bc;
	iov[1].iov_len = bclen;
	memset(&mh, 0, sizeof mh);
	mh.msg_name = &sa;
	mh.msg_namelen = sizeof sa;
	mh.msg_iov = iov;
	mh.msg_iovlen = bclen > 0 ? 2 : 1;
	while (sendmsg(nlfd, &mh, 0) < 0)
		if (errno != EINTR)
			return -1;
	for (;;) {
		got = recv(nlfd, rbuf, sizeof rbuf, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -1;
		if (got == 0) {
			errno = EPROTO;
			return -1;
		}
		r = bg_diag_parse(rbuf, (size_t)got, seqno, is_unix, t,
		    count_add, n);
		if (r != 0)
			return r < 0 && !stopped ? -1 : 0;
	}
}

/* The header of a dump request of len bytes, the next sequence number. */
static void
nl_head(struct nlmsghdr *h, size_t len, unsigned short type)
{
	h->nlmsg_len = (uint32_t)len;
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	h->nlmsg_seq = ++seqno;
}

/* The attribute that carries bclen bytes of filter after the request. */
static void
bytecode_attr(struct rtattr *ra, size_t bclen)
{
	ra->rta_type = INET_DIAG_REQ_BYTECODE;
	ra->rta_len = (unsigned short)(sizeof *ra + bclen);
}

/* family AF_INET or AF_INET6: one family, SOCK_DIAG_BY_FAMILY. AF_UNSPEC:
 * both families in one walk of the kernel's table, through the older
 * request (TCPDIAG_GETSOCK), where SOCK_DIAG_BY_FAMILY takes one family
 * per dump and so walks the table once per family. */
static int
dump_tcp(int family, const struct bg_target *t, long *n)
{
	union {
		struct {
			struct nlmsghdr h;
			struct inet_diag_req_v2 r;
			struct rtattr ra;
		} v2;
		struct {
			struct nlmsghdr h;
			struct inet_diag_req r;
			struct rtattr ra;
		} old;
	} req;
	const uint32_t states = TCPF(ST_ESTABLISHED) | TCPF(ST_CLOSE_WAIT);
	/* the kernel compares the port before it runs any bytecode */
	const uint16_t sport = htons((uint16_t)t->port);
	unsigned char bc[BC_MAX];
	size_t bclen, len;

	bclen = bytecode(t, bc);
	memset(&req, 0, sizeof req);
	if (family == AF_UNSPEC) {
		len = sizeof req.old;
		nl_head(&req.old.h, len + bclen, TCPDIAG_GETSOCK);
		req.old.r.idiag_states = states;
		req.old.r.id.idiag_sport = sport;
		bytecode_attr(&req.old.ra, bclen);
	} else {
		len = sizeof req.v2;
		nl_head(&req.v2.h, len + bclen, SOCK_DIAG_BY_FAMILY);
		req.v2.r.sdiag_family = (uint8_t)family;
		req.v2.r.sdiag_protocol = IPPROTO_TCP;
		req.v2.r.idiag_states = states;
		req.v2.r.id.idiag_sport = sport;
		bytecode_attr(&req.v2.ra, bclen);
	}
	return dump(&req, len, bc, bclen, 0, t, n);
}

static int
dump_unix(const struct bg_target *t, long *n)
{
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} req;

	memset(&req, 0, sizeof req);
	nl_head(&req.h, sizeof req, SOCK_DIAG_BY_FAMILY);
	req.r.sdiag_family = AF_UNIX;
	req.r.udiag_states = TCPF(ST_ESTABLISHED) | TCPF(ST_LISTEN);
	req.r.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_ICONS;
	return dump(&req, sizeof req, NULL, 0, 1, t, n);
}

long
bg_count_diag(const struct bg_target *t, int is_unix, long max)
{
	long n = 0;
	int k, v4 = 0, err;

	if (nlfd < 0 && (nlfd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG)) < 0)
		return -1;
	limit = max;
	stopped = 0;
	bg_seen_clear();
	if (is_unix) {
		if (dump_unix(t, &n) < 0)
			goto fail;
		goto done;
	}
	if (!nocompat) {
		if (dump_tcp(AF_UNSPEC, t, &n) == 0)
			goto done;
		if (errno != EINVAL && errno != ENOENT && errno != EOPNOTSUPP)
			goto fail;
		nocompat = 1;	/* a kernel without it: one dump per family */
		close(nlfd);
		if ((nlfd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
		    NETLINK_SOCK_DIAG)) < 0)
			return -1;
		n = 0;
		bg_seen_clear();
	}
	/* as proc.c: the IPv4 table only when an IPv4 address can match;
	 * the IPv6 one always (v4-mapped clients of a dual-stack socket) */
	for (k = 0; k < t->naddr; k++)
		v4 |= memcmp(t->addr[k], v4mapped, 12) == 0;
	if ((t->any || v4) && dump_tcp(AF_INET, t, &n) < 0)
		goto fail;
	/* no IPv6 in the kernel: no tcp6 rows, as /proc/net/tcp6 missing */
	if (!stopped && dump_tcp(AF_INET6, t, &n) < 0 && errno != ENOENT)
		goto fail;
done:
	if (stopped) {
		/* the rest of the dump is left unread: closing the socket
		 * ends it in the kernel too */
		close(nlfd);
		nlfd = -1;
	}
	return n;
fail:
	/* a dump cut short leaves messages behind: a new socket next time */
	err = errno;
	close(nlfd);
	nlfd = -1;
	errno = err;
	return -1;
}
