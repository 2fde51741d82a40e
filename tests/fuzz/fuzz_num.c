/* fuzz_num.c - libFuzzer target for bg_parse_ulong, bg_parse_secs
 * (tools/lib/num.c), bg_color_parse and bg_color_body (tools/lib/color.c).
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_DEFAULT_SOURCE \
 *       -D_GNU_SOURCE -Itools/lib tests/fuzz/fuzz_num.c tools/lib/num.c \
 *       tools/lib/color.c -o fuzz_num
 *   ./fuzz_num -max_total_time=60 tests/fuzz/corpus/num
 *
 * Each parser is checked against a slow, obvious reference written from
 * bg.h's contract: decimal digits only (at most 20), no sign, no spaces,
 * no overflow, <= max; seconds "N" or "N.D" with 1..3 decimals, more than
 * 0 and at most max_s; a color exactly "blue" or "green", a body allowing
 * one trailing "\n" or "\r\n". Failed parses leave the output untouched. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"

static const unsigned long maxes[] = { 0, 1, 9, 10, 999, 65535, 86400,
	4294967295UL, ULONG_MAX / 10, ULONG_MAX - 1, ULONG_MAX };

/* max in decimal, into buf; its length */
static size_t
decimal(unsigned long m, char *buf)
{
	char rev[32];
	size_t r = 0, n = 0;

	do {
		rev[r++] = (char)('0' + m % 10);
		m /= 10;
	} while (m > 0);
	while (r > 0)
		buf[n++] = rev[--r];
	return n;
}

/* Reference: -1 bad, else 0 with *out. Compares decimal strings instead of
 * multiplying, so it cannot share num.c's overflow check. */
static int
ref_ulong(const char *s, size_t n, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	size_t i, sig, ml;
	char maxs[32];
	int cmp;

	if (n == 0 || n > 20)
		return -1;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	for (sig = 0; sig < n - 1 && s[sig] == '0'; sig++)
		;
	ml = decimal(max, maxs);
	if (n - sig != ml)
		cmp = n - sig < ml ? -1 : 1;
	else
		cmp = memcmp(s + sig, maxs, ml);
	if (cmp > 0)
		return -1;
	for (i = sig; i < n; i++)
		v = v * 10 + (unsigned long)(s[i] - '0');
	*out = v;
	return 0;
}

static int
ref_secs(const char *s, size_t n, unsigned long max_s, long long *ms)
{
	const char *dot = memchr(s, '.', n);
	size_t wn = dot ? (size_t)(dot - s) : n, fn = dot ? n - wn - 1 : 0;
	unsigned long whole, frac = 0;
	size_t i;
	long long v;

	if (ref_ulong(s, wn, ULONG_MAX, &whole) < 0)
		return -1;
	if (dot != NULL) {
		if (fn < 1 || fn > 3)
			return -1;
		for (i = 0; i < 3; i++) {
			if (i < fn && (dot[1 + i] < '0' || dot[1 + i] > '9'))
				return -1;
			frac = frac * 10 + (i < fn ? (unsigned long)(dot[1 + i] - '0') : 0);
		}
	}
	if (whole > max_s || whole > LLONG_MAX / 1000 - 1)
		return -1;
	v = (long long)whole * 1000 + (long long)frac;
	if (v <= 0 || (unsigned long long)v > (unsigned long long)max_s * 1000)
		return -1;
	*ms = v;
	return 0;
}

static int
ref_color(const char *s, size_t n)
{
	if (n == 4 && memcmp(s, "blue", 4) == 0)
		return BG_BLUE;
	if (n == 5 && memcmp(s, "green", 5) == 0)
		return BG_GREEN;
	return -1;
}

static int
ref_body(const char *s, size_t n)
{
	int c;

	if ((c = ref_color(s, n)) >= 0)
		return c;
	if (n >= 1 && s[n - 1] == '\n' && (c = ref_color(s, n - 1)) >= 0)
		return c;
	if (n >= 2 && s[n - 2] == '\r' && s[n - 1] == '\n')
		return ref_color(s, n - 2);
	return -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	unsigned long got, want;
	long long gms, wms;
	size_t i;
	int r, w;

	for (i = 0; i < sizeof maxes / sizeof maxes[0]; i++) {
		got = want = 4242;
		r = bg_parse_ulong(s, size, maxes[i], &got);
		w = ref_ulong(s, size, maxes[i], &want);
		if (r != w || got != want)
			abort();
	}
	for (i = 0; i < sizeof maxes / sizeof maxes[0]; i++) {
		/* max_s is seconds that must fit a long long of ms */
		if (maxes[i] > 86400UL * 366 * 1000)
			continue;
		gms = wms = -4242;
		r = bg_parse_secs(s, size, maxes[i], &gms);
		w = ref_secs(s, size, maxes[i], &wms);
		if (r != w || gms != wms)
			abort();
	}
	if (bg_color_parse(s, size) != ref_color(s, size) ||
	    bg_color_body(s, size) != ref_body(s, size))
		abort();
	return 0;
}
