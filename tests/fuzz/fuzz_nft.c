/* fuzz_nft.c - libFuzzer target for port mode's reading of `nft list`
 * (tools/lib/nft.c), which decides whether a table is bg's and which
 * color it sends live_addr to, and for the ruleset text it writes.
 *
 *   make build/fuzz/fuzz_nft
 *   build/fuzz/fuzz_nft -max_total_time=60 tests/fuzz/corpus/nft
 *
 * Input: one header byte (bit 0: the config is [::1] rather than
 * 127.0.0.1; the rest picks the ports), then the text of a listing.
 * Checks, besides memory safety: a listing accepted as ours starts with
 * the table's line (after blanks) and holds bg's marker; a color is only ever reported
 * when the text names both keys with a goto; a listing with a table line
 * is what bg_nft_listed finds; the ruleset for each color is printable
 * lines that name that color for live_addr and the other for staging. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"
#include "fuzz.h"

static int
has(const char *s, size_t n, const char *w)
{
	size_t k = strlen(w), i;

	for (i = 0; i + k <= n; i++)
		if (memcmp(s + i, w, k) == 0)
			return 1;
	return 0;
}

/* s[0..n) has "goto", blanks, then the word w */
static int
has_goto(const char *s, size_t n, const char *w)
{
	size_t k = strlen(w), i, j;

	for (i = 0; i + 4 <= n; i++) {
		if (memcmp(s + i, "goto", 4) != 0)
			continue;
		for (j = i + 4; j < n && (s[j] == ' ' || s[j] == '\t'); j++)
			;
		if (j > i + 4 && j + k <= n && memcmp(s + j, w, k) == 0)
			return 1;
	}
	return 0;
}

static void
setup(struct bg_conf *c, unsigned h)
{
	const char *lo = h & 1 ? "[::1]" : "127.0.0.1";
	char a[64];
	unsigned base = 1 + (h >> 1) * 250;

	memset(c, 0, sizeof *c);
	strcpy(c->nft_table, "bg");
	snprintf(a, sizeof a, "%s:%u", lo, base);
	bg_addr_parse(a, strlen(a), &c->live_addr);
	snprintf(a, sizeof a, "%s:%u", lo, base + 1);
	bg_addr_parse(a, strlen(a), &c->staging_addr);
	snprintf(a, sizeof a, "%s:%u", lo, base + 2);
	bg_addr_parse(a, strlen(a), &c->addr[BG_BLUE]);
	snprintf(a, sizeof a, "%s:%u", lo, base + 3);
	bg_addr_parse(a, strlen(a), &c->addr[BG_GREEN]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bg_conf c;
	char buf[4096], key[80];
	const char *s;
	size_t n, i;
	int color = 99, r, k;

	if (size < 1)
		return 0;
	setup(&c, data[0]);
	s = (const char *)data + 1;
	n = size - 1;
	check(bg_nft_conf_check(&c, buf, sizeof buf) == 0);

	r = bg_nft_parse(s, n, &c, &color);
	check(r == 0 || r == 1);
	if (r == 1) {
		/* blanks before it are cut, as from every line */
		for (i = 0; i < n && (s[i] == ' ' || s[i] == '\t'); i++)
			;
		check(n - i >= 15 && memcmp(s + i, "table inet bg {", 15) == 0);
		check(has(s, n, BG_NFT_MARK));
		check(color >= -2 && color <= 1);
		if (color >= 0) {
			check(has_goto(s, n, bg_color_name(color)));
			check(has_goto(s, n, bg_color_name(bg_other(color))));
		}
	} else
		check(color == 99);
	r = bg_nft_targets(s, n, &c);
	check(r == 0 || r == 1);
	if (bg_nft_listed(s, n, "bg"))
		check(has(s, n, "table inet bg"));

	for (color = -1; color <= 1; color++) {
		k = bg_nft_ruleset(&c, color, buf, sizeof buf);
		check(k > 0 && (size_t)k == strlen(buf) && buf[k - 1] == '\n');
		for (i = 0; i < (size_t)k; i++)
			check(buf[i] == '\n' || (buf[i] >= 0x20 && buf[i] < 0x7f));
		if (color >= 0) {
			snprintf(key, sizeof key, ": goto %s , ",
			    bg_color_name(color));
			check(strstr(buf, key) != NULL);
		} else
			check(strstr(buf, "add element") == NULL);
	}
	return 0;
}
