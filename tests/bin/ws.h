/* ws.h - what the fixture app (tests/bin/bgapp.c) and the long-lived client
 * (tests/bin/bgws.c) share: the RFC 6455 handshake's arithmetic, SHA-1
 * (RFC 3174) and base64, just enough to compute Sec-WebSocket-Accept; and
 * the read of a non-blocking socket. Header-only: each includer gets static
 * copies. */
#ifndef BG_TESTS_WS_H
#define BG_TESTS_WS_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_KEY_MAX 64		/* a client key is 24 base64 characters */
#define WS_ACCEPT_LEN 28	/* base64 of 20 bytes */

static uint32_t
ws_rol(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

static void
ws_sha1_block(uint32_t h[5], const unsigned char *p)
{
	uint32_t w[80], a, b, c, d, e, f, k, t;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (; i < 80; i++)
		w[i] = ws_rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = h[0]; b = h[1]; c = h[2]; d = h[3]; e = h[4];
	for (i = 0; i < 80; i++) {
		if (i < 20) {
			f = (b & c) | (~b & d); k = 0x5A827999;
		} else if (i < 40) {
			f = b ^ c ^ d; k = 0x6ED9EBA1;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDC;
		} else {
			f = b ^ c ^ d; k = 0xCA62C1D6;
		}
		t = ws_rol(a, 5) + f + e + k + w[i];
		e = d; d = c; c = ws_rol(b, 30); b = a; a = t;
	}
	h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
}

/* SHA-1 of p[0..n) into out[20]. */
static void
ws_sha1(const void *p, size_t n, unsigned char out[20])
{
	uint32_t h[5] = { 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476,
	    0xC3D2E1F0 };
	const unsigned char *s = p;
	unsigned char blk[64];
	uint64_t bits = (uint64_t)n * 8;
	size_t i, r;

	for (; n >= 64; n -= 64, s += 64)
		ws_sha1_block(h, s);
	memset(blk, 0, sizeof blk);
	memcpy(blk, s, n);
	blk[n] = 0x80;
	if (n >= 56) {
		ws_sha1_block(h, blk);
		memset(blk, 0, sizeof blk);
	}
	for (i = 0; i < 8; i++)
		blk[63 - i] = (unsigned char)(bits >> (8 * i));
	ws_sha1_block(h, blk);
	for (i = 0; i < 5; i++)
		for (r = 0; r < 4; r++)
			out[4 * i + r] = (unsigned char)(h[i] >> (24 - 8 * r));
}

/* base64 of p[0..n) into out (4 * ceil(n / 3) + 1 bytes), NUL-terminated. */
static void
ws_base64(const unsigned char *p, size_t n, char *out)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	uint32_t v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*out++ = a[v >> 18]; *out++ = a[(v >> 12) & 63];
		*out++ = a[(v >> 6) & 63]; *out++ = a[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)p[i] << 16;
		*out++ = a[v >> 18]; *out++ = a[(v >> 12) & 63];
		*out++ = '='; *out++ = '=';
	} else if (n - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		*out++ = a[v >> 18]; *out++ = a[(v >> 12) & 63];
		*out++ = a[(v >> 6) & 63]; *out++ = '=';
	}
	*out = '\0';
}

/* Sec-WebSocket-Accept for key[0..n) (n <= WS_KEY_MAX) into
 * out[WS_ACCEPT_LEN + 1]. */
static void
ws_accept(const char *key, size_t n, char *out)
{
	char buf[WS_KEY_MAX + sizeof WS_GUID];
	unsigned char d[20];

	memcpy(buf, key, n);
	memcpy(buf + n, WS_GUID, sizeof WS_GUID - 1);
	ws_sha1(buf, n + sizeof WS_GUID - 1, d);
	ws_base64(d, sizeof d, out);
}

#define WS_AGAIN (-2)	/* ws_read: nothing to read yet */

/* Read what the non-blocking socket fd has into buf[*len..max), EINTR
 * retried: the count read (added to *len), 0 at EOF, -1 on an error,
 * WS_AGAIN when nothing is there yet. */
static ssize_t
ws_read(int fd, char *buf, size_t *len, size_t max)
{
	ssize_t n;

	do
		n = read(fd, buf + *len, max - *len);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return WS_AGAIN;
	if (n > 0)
		*len += (size_t)n;
	return n;
}

#endif
