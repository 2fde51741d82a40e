/* num.c - numbers from the command line and the config, checked. */
#include <stdio.h>

#include "bg.h"

int
bg_parse_ulong(const char *s, size_t n, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0 || n > 20)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (d > max || v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int
bg_parse_secs(const char *s, size_t n, unsigned long max_s, long long *ms)
{
	unsigned long whole, frac = 0;
	size_t i, dot = n, fn;

	for (i = 0; i < n; i++)
		if (s[i] == '.') {
			dot = i;
			break;
		}
	if (bg_parse_ulong(s, dot, max_s, &whole) < 0)
		return -1;
	if (dot < n) {
		fn = n - dot - 1;
		if (fn == 0 || fn > 3 ||
		    bg_parse_ulong(s + dot + 1, fn, 999, &frac) < 0)
			return -1;
		for (; fn < 3; fn++)
			frac *= 10;
	}
	if ((whole == 0 && frac == 0) || (whole == max_s && frac > 0))
		return -1;
	*ms = (long long)whole * 1000 + (long long)frac;
	return 0;
}

int
bg_hexdigit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

const char *
bg_secs_fmt(long long ms, const char *unit, char *buf, size_t len)
{
	int n;

	n = snprintf(buf, len, "%lld.%03lld", ms / 1000, ms % 1000);
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return buf;
	}
	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
	snprintf(buf + n, len - (size_t)n, "%s", unit);
	return buf;
}
