/* unit_swapref - bgswapconf's swap (tools/lib/swap.c) against the reference
 * in swapref.h, written from its definition in bgswapconf(1), not from
 * swap.c.
 *
 *   unit_swapref [-s seed] [-n inputs]
 *	Feeds both the same random inputs (default 20000, from a fixed seed):
 *	text made of pieces of the words in every case form, letters,
 *	digits, punctuation, NULs and newlines, long letter runs, cut into
 *	chunks of random sizes (1 byte up to the whole input, so every
 *	boundary is hit), in words mode and with -a, for fixed pairs (blue,
 *	green; one-letter and 64-letter words) and random ones over a small
 *	alphabet (so that overlapping pairs turn up, and bad words now and
 *	then). Compares whether the pair is refused, the output, the count of
 *	swaps, that no chunk writes more than bg_swap_outmax says, and, after
 *	a second pass, that the swap gave the input back. Prints each
 *	difference and "N passed, N failed".
 *   unit_swapref -r [-a] [-w word1,word2]
 *	The reference alone, as a filter from stdin to stdout (less than
 *	64 KiB): its output for the golden files must be theirs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bg.h"
#include "swapref.h"

/* --- -r: the reference as a filter --- */

static int
filter(int all, const char *pair)
{
	static char ibuf[1 << 16], obuf[REF_WMAX << 16];
	const char *comma = strchr(pair, ',');
	unsigned long long count;
	struct ref r;
	size_t n = 0, o;
	ssize_t k;

	if (comma == NULL || ref_init(&r, pair, (size_t)(comma - pair),
	    comma + 1, strlen(comma + 1), all) < 0)
		bg_die(BG_USAGE, "-w %s: the reference refuses the pair", pair);
	while ((k = read(STDIN_FILENO, ibuf + n, sizeof ibuf - n)) > 0)
		n += (size_t)k;
	if (k < 0 || n == sizeof ibuf)
		bg_die(BG_SYS, "cannot read all of standard input");
	o = ref_swap(&r, ibuf, n, obuf, &count);
	if (fwrite(obuf, 1, o, stdout) != o || fflush(stdout) != 0)
		bg_diesys(BG_SYS, "cannot write to standard output");
	return count > 0 ? BG_OK : BG_NO;
}

/* --- the comparison --- */

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

static unsigned long
rnd(unsigned long n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? (unsigned long)(rng % n) : 0;
}

static const char *const pairs[][2] = {
	{ "blue", "green" },
	{ "Blue", "GREEN" },
	{ "x", "yz" },
	{ "ab", "cd" },
	{ "b", "g" },
	{ "gb", "bg" },
	{ "bb", "gg" },
	{ "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl",
	  "blue" },
};
#define NPAIRS (sizeof pairs / sizeof pairs[0])

/* A random word: mostly 1 to 4 letters of a small alphabet, so that words
 * overlap; now and then one bgswapconf must refuse. Returns its length. */
static size_t
random_word(char *w)
{
	size_t n, i;

	switch (rnd(40)) {
	case 0:
		return 0;			/* empty */
	case 1:
		memset(w, 'q', REF_WMAX + 1);	/* too long */
		return REF_WMAX + 1;
	case 2:
		w[0] = 'a';
		w[1] = '1';			/* not a letter */
		return 2;
	case 3:
		memset(w, 'z', REF_WMAX);		/* just long enough */
		return REF_WMAX;
	}
	n = 1 + rnd(4);
	for (i = 0; i < n; i++)
		w[i] = "abAB"[rnd(4)];
	return n;
}

/* One piece of input: a case form or a cut of a word, letters, bytes. */
static size_t
piece(const char *w, size_t n, char *p)
{
	size_t i, k;

	switch (rnd(10)) {
	case 0: case 1: case 2:		/* the word in some case form */
		k = rnd(4);
		for (i = 0; i < n; i++)
			p[i] = k == 0 ? ref_lower(w[i]) : k == 1 ?
			    ref_upper(w[i]) : k == 2 ? (i ? ref_lower(w[i]) :
			    ref_upper(w[i])) : (char)(w[i] ^ (rnd(2) ? 0x20 :
			    0));
		return n;
	case 3:				/* a prefix or suffix of it */
		k = rnd(n + 1);
		if (rnd(2))
			memcpy(p, w, k);
		else
			memcpy(p, w + n - k, k);
		return k;
	case 4:				/* a letter */
		p[0] = (char)((rnd(2) ? 'a' : 'A') + rnd(26));
		return 1;
	case 5:				/* a long run of letters */
		k = 60 + rnd(12);
		for (i = 0; i < k; i++)
			p[i] = "bluegreenxyzab"[rnd(14)];
		return k;
	case 6:				/* any byte */
		p[0] = (char)rnd(256);
		return 1;
	default:			/* a separator */
		p[0] = " \n_.-\"/0:;\t@\0"[rnd(13)];
		return 1;
	}
}

static char in[1 << 16], want[1 << 18], got[1 << 18], back[1 << 18];
static int npass, nfail;

/* Feed src[0..n) to s in random chunks; returns the output length, or
 * (size_t)-1 when a chunk wrote more than bg_swap_outmax allows. */
static size_t
run(struct bg_swap *s, const char *src, size_t n, char *out, int onebyte)
{
	size_t off = 0, k, o = 0, w;

	while (off < n) {
		k = onebyte ? 1 : 1 + rnd(n - off);
		if (rnd(4) == 0)
			k = 1 + rnd(k < 80 ? k : 80);
		if ((w = bg_swap_feed(s, src + off, k, out + o)) >
		    bg_swap_outmax(s, k))
			return (size_t)-1;
		o += w;
		off += k;
	}
	if ((w = bg_swap_end(s, out + o)) > bg_swap_outmax(s, 0))
		return (size_t)-1;
	return o + w;
}

static void
fail(const char *what, const char *w[2], const size_t wn[2], int all,
    size_t n, size_t at)
{
	nfail++;
	if (nfail <= 10)
		printf("FAIL %s: -w %.*s,%.*s%s, input of %zu bytes, at %zu\n",
		    what, (int)wn[0], w[0], (int)wn[1], w[1], all ? " -a" : "",
		    n, at);
}

/* One random input: 1 when it passed. */
static int
one(void)
{
	static char words[2][REF_WMAX + 2];
	struct bg_swap b;
	struct ref r;
	const char *why, *w[2];
	unsigned long long count;
	size_t wn[2], n, k, nw, ng, nb, i, ratio;
	int all, rr, rb, onebyte, x;

	all = (int)rnd(2);
	k = rnd(2) ? rnd(NPAIRS) : NPAIRS;	/* a fixed pair, or mixed */
	for (x = 0; x < 2; x++)
		if (k < NPAIRS || rnd(2)) {
			w[x] = pairs[k < NPAIRS ? k : rnd(NPAIRS)][x];
			wn[x] = strlen(w[x]);
		} else {
			wn[x] = random_word(words[x]);
			w[x] = words[x];
		}
	rr = ref_init(&r, w[0], wn[0], w[1], wn[1], all);
	rb = bg_swap_init(&b, w[0], wn[0], w[1], wn[1], all, &why);
	if (rr != rb) {
		fail(rr < 0 ? "accepted what the reference refuses" :
		    "refused what the reference accepts", w, wn, all, 0, 0);
		return 0;
	}
	if (rr < 0)
		return 1;
	/* mostly short inputs, some of up to 60 KiB; a word may become one
	 * up to 64 times longer, and the output must fit the buffers */
	ratio = (r.len[0] > r.len[1] ? r.len[0] : r.len[1]) /
	    (r.len[0] < r.len[1] ? r.len[0] : r.len[1]) + 1;
	k = rnd(8) == 0 ? sizeof in - 200 : 1 + rnd(600);
	while ((k + 4 * REF_WMAX) * ratio > sizeof want)
		k /= 2;
	for (n = 0; n < k;) {
		x = (int)rnd(2);
		n += piece(w[x], wn[x], in + n);
	}
	onebyte = rnd(10) == 0 && n < 4000;
	nw = ref_swap(&r, in, n, want, &count);
	ng = run(&b, in, n, got, onebyte);
	if (ng == (size_t)-1) {
		fail("more output than bg_swap_outmax", w, wn, all, n, 0);
		return 0;
	}
	if (nw != ng || memcmp(want, got, nw) != 0) {
		for (i = 0; i < nw && i < ng && want[i] == got[i]; i++)
			;
		fail("output", w, wn, all, n, i);
		return 0;
	}
	if (b.count != count) {
		fail("count", w, wn, all, n, 0);
		return 0;
	}
	/* and back: the swap is an involution */
	nb = run(&b, got, ng, back, 0);
	if (nb != n || memcmp(back, in, n) != 0) {
		fail("twice", w, wn, all, n, 0);
		return 0;
	}
	return 1;
}

int
main(int argc, char *argv[])
{
	const char *pair = "blue,green";
	unsigned long inputs = 20000, t;
	int c, all = 0, ref = 0;

	bg_setprog(argv[0]);
	while ((c = getopt(argc, argv, "an:rs:w:")) != -1)
		switch (c) {
		case 'a': all = 1; break;
		case 'n': inputs = strtoul(optarg, NULL, 10); break;
		case 'r': ref = 1; break;
		case 's': rng = strtoull(optarg, NULL, 10) | 1; break;
		case 'w': pair = optarg; break;
		default:
			bg_usage("unit_swapref [-s seed] [-n inputs] | "
			    "unit_swapref -r [-a] [-w word1,word2]");
		}
	if (ref)
		return filter(all, pair);
	for (t = 0; t < inputs; t++) {
		if (one())
			npass++;
	}
	printf("%d passed, %d failed\n", npass, nfail);
	return nfail ? BG_NO : BG_OK;
}
