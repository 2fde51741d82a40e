/* procline.c - the /proc/net line parsers behind bg_inflight (proc.c):
 * one row of /proc/net/tcp, tcp6 or unix into a struct. Pure. */
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "bg.h"

/* Exactly len hex digits at s[*i]; the kernel pads every field. */
static int
hexfix(const char *s, size_t n, size_t *i, size_t len, unsigned long *out)
{
	unsigned long v = 0;
	size_t k;
	int d;

	if (len > 2 * sizeof v || n - *i < len)
		return -1;
	for (k = 0; k < len; k++) {
		if ((d = bg_hexdigit(s[*i + k])) < 0)
			return -1;
		v = v << 4 | (unsigned long)d;
	}
	*i += len;
	*out = v;
	return 0;
}

/* How many hex digits start at s[i]. */
static size_t
hexrun(const char *s, size_t n, size_t i)
{
	size_t k = i;

	while (k < n && bg_hexdigit(s[k]) >= 0)
		k++;
	return k - i;
}

static int
expect(const char *s, size_t n, size_t *i, char ch)
{
	if (*i >= n || s[*i] != ch)
		return -1;
	(*i)++;
	return 0;
}

static void
skipspaces(const char *s, size_t n, size_t *i)
{
	while (*i < n && s[*i] == ' ')
		(*i)++;
}

/* ADDR:PORT, the address of digits hex digits. The kernel prints each
 * 32-bit word of the address with %08X as a native integer, so storing the
 * parsed word back in native order yields the address bytes in network
 * order on the machine that wrote the line. */
static int
endpoint(const char *s, size_t n, size_t *i, size_t digits,
    unsigned char *addr, unsigned *port)
{
	unsigned long w;
	uint32_t w32;
	size_t k;

	for (k = 0; k < digits / 8; k++) {
		if (hexfix(s, n, i, 8, &w) < 0)
			return -1;
		w32 = (uint32_t)w;
		memcpy(addr + 4 * k, &w32, 4);
	}
	if (expect(s, n, i, ':') < 0 || hexfix(s, n, i, 4, &w) < 0)
		return -1;
	*port = (unsigned)w;
	return 0;
}

int
bg_proc_tcp_line(const char *s, size_t n, struct bg_tcprow *r)
{
	unsigned long v;
	size_t digits, i = 0;

	memset(r, 0, sizeof *r);
	skipspaces(s, n, &i);
	if (i >= n || s[i] < '0' || s[i] > '9')
		return -1;	/* the header, or garbage */
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	if (expect(s, n, &i, ':') < 0 || expect(s, n, &i, ' ') < 0)
		return -1;
	digits = hexrun(s, n, i);
	if (digits == 8)
		r->family = AF_INET;
	else if (digits == 32)
		r->family = AF_INET6;
	else
		return -1;
	if (endpoint(s, n, &i, digits, r->addr, &r->port) < 0 ||
	    expect(s, n, &i, ' ') < 0 || hexrun(s, n, i) != digits ||
	    endpoint(s, n, &i, digits, r->raddr, &r->rport) < 0 ||
	    expect(s, n, &i, ' ') < 0 || hexfix(s, n, &i, 2, &v) < 0)
		return -1;
	r->state = (unsigned)v;
	if (i < n && s[i] != ' ')
		return -1;
	return 0;
}

int
bg_proc_unix_line(const char *s, size_t n, struct bg_unixrow *r)
{
	unsigned long v;
	size_t i = 0, k;

	memset(r, 0, sizeof *r);
	k = hexrun(s, n, 0);
	if (k == 0 || k > 16)
		return -1;	/* the header "Num ...", or garbage */
	for (i = 0; i < k; i++)
		r->id = r->id << 4 | (unsigned long long)bg_hexdigit(s[i]);
	if (expect(s, n, &i, ':') < 0 || expect(s, n, &i, ' ') < 0 ||
	    hexfix(s, n, &i, 8, &v) < 0 ||		/* refcount */
	    expect(s, n, &i, ' ') < 0 || hexfix(s, n, &i, 8, &v) < 0 ||
	    expect(s, n, &i, ' ') < 0 || hexfix(s, n, &i, 8, &r->flags) < 0 ||
	    expect(s, n, &i, ' ') < 0 || hexfix(s, n, &i, 4, &v) < 0)
		return -1;
	r->type = (unsigned)v;
	if (expect(s, n, &i, ' ') < 0 || hexfix(s, n, &i, 2, &v) < 0 ||
	    expect(s, n, &i, ' ') < 0)
		return -1;
	r->state = (unsigned)v;
	skipspaces(s, n, &i);	/* the inode is %5lu: right-aligned */
	k = i;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == k)
		return -1;
	if (i == n)
		return 0;	/* unbound */
	/* One space, then the path to the end of the line: it may hold
	 * spaces; an abstract name starts with '@'. */
	if (expect(s, n, &i, ' ') < 0 || i == n)
		return -1;
	r->path = s + i;
	r->pathlen = n - i;
	return 0;
}
