/* fuzz_swap.c - libFuzzer target for the streaming swapper (tools/lib/swap.c).
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Itools/lib \
 *       tests/fuzz/fuzz_swap.c tools/lib/swap.c -o fuzz_swap
 *   ./fuzz_swap -max_total_time=60 tests/fuzz/corpus/swap
 *
 * Input: a 14-byte header, then the text.
 *   [0]     bit 0: -a; bits 1-3: a word pair from pairs[]; bit 4: the pair
 *           is made of header bytes [3..10] instead (small alphabet, so that
 *           overlapping pairs turn up and bg_swap_init must refuse them)
 *   [1] [2] lengths of those two words (1..4)
 *   [3..10] their letters
 *   [11]    largest read chunk; [12] [13] seed of the chunk sizes
 * It checks that bg_swap_init refuses the pairs the reference swap
 * (tests/unit/swapref.h, written from bgswapconf(1), shared with
 * unit_swapref) refuses; and for every accepted pair: the streamed output,
 * for chunks cut by the fuzzer, equals the reference's whole-buffer swap;
 * it does not depend on the cuts; swapping it again gives the text back
 * byte for byte with the same count; no feed writes more than
 * bg_swap_outmax() says. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"
#include "../unit/swapref.h"

#define HDR 14

static const char *const pairs[8][2] = {
	{ "blue", "green" }, { "a", "b" }, { "red", "redder" },
	{ "x", "longerword" }, { "ab", "cd" }, { "on", "off" },
	{ "BLUE", "green" }, { "q", "quux" },
};

static void
check(int ok)
{
	if (!ok)
		__builtin_trap();
}

static uint32_t
next(uint32_t *st)
{
	*st ^= *st << 13;
	*st ^= *st >> 17;
	*st ^= *st << 5;
	return *st;
}

/* Stream in[0..n) through s in chunks of 1..maxchunk bytes. */
static size_t
stream(struct bg_swap *s, const char *in, size_t n, char *out,
    unsigned maxchunk, uint32_t seed)
{
	size_t i = 0, o = 0, w;

	seed |= 1;
	while (i < n) {
		size_t k = 1 + next(&seed) % maxchunk;

		if (k > n - i)
			k = n - i;
		w = bg_swap_feed(s, in + i, k, out + o);
		check(w <= bg_swap_outmax(s, k));
		o += w;
		i += k;
	}
	w = bg_swap_end(s, out + o);
	check(w <= bg_swap_outmax(s, 0));
	return o + w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char alpha[] = "abcAB";
	static const unsigned chunks[8] = { 1, 2, 3, 5, 8, 64, 300, 70000 };
	char words[2][4];
	const char *w[2];
	size_t n[2], len, cap, o1, o2, o3;
	struct bg_swap s;
	struct ref r;
	const char *why, *x;
	char *ref, *a, *b, *c;
	unsigned long long rc, c1;
	uint32_t seed;
	int all, k;

	if (size < HDR)
		return 0;
	all = data[0] & 1;
	if (data[0] & 16) {
		for (k = 0; k < 2; k++) {
			size_t i;

			n[k] = 1 + data[1 + k] % 4;
			for (i = 0; i < n[k]; i++)
				words[k][i] = alpha[data[3 + 4 * k + i] % 5];
			w[k] = words[k];
		}
	} else {
		for (k = 0; k < 2; k++) {
			w[k] = pairs[(data[0] >> 1) & 7][k];
			n[k] = strlen(w[k]);
		}
	}
	k = ref_init(&r, w[0], n[0], w[1], n[1], all);
	check(bg_swap_init(&s, w[0], n[0], w[1], n[1], all, &why) == k);
	if (k < 0)
		return 0;
	seed = (uint32_t)data[12] << 8 | data[13];
	x = (const char *)data + HDR;
	len = size - HDR;

	/* a correct swap writes at most maxlen/minlen times its input */
	cap = (len + 1) * BG_SWAP_WMAX + bg_swap_outmax(&s, len);
	ref = malloc(cap);
	a = malloc(cap);
	b = malloc(cap);
	check(ref && a && b);

	o1 = ref_swap(&r, x, len, ref, &rc);
	/* one chunk */
	o2 = stream(&s, x, len, a, 70000, 1);
	check(o2 == o1 && memcmp(a, ref, o1) == 0 && s.count == rc);
	/* the fuzzer's cuts */
	s.count = 0;
	o2 = stream(&s, x, len, b, chunks[data[11] & 7], seed);
	check(o2 == o1 && memcmp(b, ref, o1) == 0 && s.count == rc);
	/* twice is the identity, cut differently again */
	c1 = s.count;
	s.count = 0;
	c = malloc((o2 + 1) * BG_SWAP_WMAX + bg_swap_outmax(&s, o2));
	check(c != NULL);
	o3 = stream(&s, b, o2, c, chunks[(data[11] >> 3) & 7], seed * 7 + 3);
	check(o3 == len && memcmp(c, x, len) == 0 && s.count == c1);

	free(ref);
	free(a);
	free(b);
	free(c);
	return 0;
}
