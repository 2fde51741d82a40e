/* fuzz_url.c - libFuzzer target for bg_addr_parse and bg_url_parse
 * (tools/lib/addr.c).
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_DEFAULT_SOURCE \
 *       -Itools/lib tests/fuzz/fuzz_url.c tools/lib/addr.c tools/lib/num.c \
 *       -o fuzz_url
 *   ./fuzz_url -max_total_time=60 tests/fuzz/corpus/url
 *
 * The input is tried as an address and as a URL. Checks, besides memory
 * safety: whatever is accepted is printable ASCII with no spaces (it goes
 * into a request line or a sockaddr), ports are 1..65535, socket paths are
 * absolute and fit sun_path; bg_addr_fmt gives back a string that parses to
 * the same address, and a URL rebuilt from its parts parses to the same URL. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"

static void
printable(const char *s, int spaces_ok)
{
	for (; *s != '\0'; s++)
		if (*s < (spaces_ok ? 0x20 : 0x21) || *s >= 0x7f)
			abort();
}

static void
sane_addr(const struct bg_addr *a)
{
	struct bg_addr b;
	char buf[400];

	if (a->is_unix) {
		if (a->path[0] != '/' || strlen(a->path) > BG_SUN_MAX ||
		    a->host[0] != '\0' || a->port != 0)
			abort();
		printable(a->path, 1);
	} else {
		if (a->port < 1 || a->port > 65535 || a->host[0] == '\0' ||
		    a->path[0] != '\0')
			abort();
		printable(a->host, 0);
	}
	bg_addr_fmt(a, buf, sizeof buf);
	if (bg_addr_parse(buf, strlen(buf), &b) != 0 ||
	    memcmp(a, &b, sizeof b) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct bg_addr a;
	struct bg_url u, v;
	char buf[1600], fmt[400];

	if (bg_addr_parse(s, size, &a) == 0)
		sane_addr(&a);
	if (bg_url_parse(s, size, &u) == 0) {
		sane_addr(&u.addr);
		if (u.path[0] != '/' || strchr(u.path, '#') != NULL)
			abort();
		printable(u.path, 0);
		bg_addr_fmt(&u.addr, fmt, sizeof fmt);
		snprintf(buf, sizeof buf, "%s%s%s%s", u.addr.is_unix ? "" :
		    "http://", fmt, u.addr.is_unix ? ":" : "", u.path);
		if (bg_url_parse(buf, strlen(buf), &v) != 0 ||
		    memcmp(&u, &v, sizeof v) != 0)
			abort();
	}
	return 0;
}
