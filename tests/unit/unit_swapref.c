/* unit_swapref - bgswapconf's swap (tools/lib/swap.c) against a reference:
 * the implementation as it was before its inner loop was rewritten for
 * throughput, kept here verbatim (renamed ref_*), so the rewrite can be
 * shown to give the same output byte for byte.
 *
 *   unit_swapref [-s seed] [-n inputs]
 *
 * Feeds both the same random inputs (default 20000, from a fixed seed):
 * text made of pieces of the words in every case form, letters, digits,
 * punctuation, NULs and newlines, long letter runs, cut into chunks of
 * random sizes (1 byte up to the whole input, so every boundary is hit),
 * in words mode and with -a, for blue,green and pairs of other lengths
 * (one letter, 64 letters). Compares the output, the count of swaps and,
 * after a second pass, that the swap gave the input back. Prints each
 * difference and "N passed, N failed". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"

/* --- the reference: swap.c as it was --- */

#define FORM_LOWER 0
#define FORM_UPPER 1
#define FORM_TITLE 2

static int
is_letter(unsigned char c)
{
	return (unsigned char)((c | 0x20) - 'a') < 26;
}

static char
lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c | 0x20) : c;
}

static char
upper(char c)
{
	return (c >= 'a' && c <= 'z') ? (char)(c & ~0x20) : c;
}

/* Could an occurrence of q start d letters after one of p (d may be
 * negative) and share a letter with it? Both are lower-case. */
static int
agree_at(const char *p, size_t lp, const char *q, size_t lq, long d)
{
	long i, lo, hi;

	lo = d > 0 ? d : 0;
	hi = (long)lp < d + (long)lq ? (long)lp : d + (long)lq;
	for (i = lo; i < hi; i++)
		if (p[i] != q[i - d])
			return 0;
	return lo < hi;
}

static int
can_overlap(const char *p, size_t lp, const char *q, size_t lq, int same)
{
	long d;

	for (d = 1 - (long)lq; d < (long)lp; d++) {
		if (same && d == 0)
			continue;	/* an occurrence and itself */
		if (agree_at(p, lp, q, lq, d))
			return 1;
	}
	return 0;
}

static int
ref_swap_init(struct bg_swap *s, const char *w1, size_t n1, const char *w2,
    size_t n2, int all, const char **why)
{
	const char *w[2] = { w1, w2 };
	size_t n[2] = { n1, n2 }, i;
	int k, f;

	memset(s, 0, sizeof(*s));
	for (k = 0; k < 2; k++) {
		if (n[k] == 0) {
			*why = "a word is empty";
			return -1;
		}
		if (n[k] > BG_SWAP_WMAX) {
			*why = "a word is longer than 64 letters";
			return -1;
		}
		for (i = 0; i < n[k]; i++)
			if (!is_letter((unsigned char)w[k][i])) {
				*why = "a word has a character that is not an ASCII letter";
				return -1;
			}
		s->len[k] = n[k];
		for (i = 0; i < n[k]; i++) {
			s->form[k][FORM_LOWER][i] = lower(w[k][i]);
			s->form[k][FORM_UPPER][i] = upper(w[k][i]);
			s->form[k][FORM_TITLE][i] = i == 0 ? upper(w[k][i]) :
			    lower(w[k][i]);
		}
	}
	if (n1 == n2 && memcmp(s->form[0][0], s->form[1][0], n1) == 0) {
		*why = "the two words are the same word";
		return -1;
	}
	if (all) {
		for (k = 0; k < 4; k++)
			if (can_overlap(s->form[k >> 1][0], n[k >> 1],
			    s->form[k & 1][0], n[k & 1], (k >> 1) == (k & 1))) {
				*why = "with -a the two occurrences of these words can overlap, so swapping twice would not give the input back";
				return -1;
			}
	}
	s->all = all;
	s->nforms = (n1 >= 2 && n2 >= 2) ? 3 : 2;
	s->maxlen = n1 > n2 ? n1 : n2;
	s->minlen = n1 < n2 ? n1 : n2;
	for (k = 0; k < 2; k++)
		for (f = 0; f < s->nforms; f++)
			s->first[(unsigned char)s->form[k][f][0]] |=
			    (unsigned char)(1u << (k * 3 + f));
	return 0;
}

static size_t
ref_swap_outmax(const struct bg_swap *s, size_t n)
{
	/* Every input byte, the carry included, becomes at most
	 * maxlen/minlen output bytes (a short word replaced by the long). */
	return ((n + s->maxlen) * s->maxlen + s->minlen - 1) / s->minlen;
}

static size_t
ref_swap_inmax(const struct bg_swap *s, size_t outcap)
{
	size_t n = outcap / s->maxlen * s->minlen;

	return n > s->maxlen ? n - s->maxlen : 0;
}

/* Which form is exactly w[0..n)? k*3+f, or -1. */
static int
form_is(const struct bg_swap *s, const char *w, size_t n)
{
	int k, f;

	for (k = 0; k < 2; k++) {
		if (n != s->len[k])
			continue;
		for (f = 0; f < s->nforms; f++)
			if (memcmp(w, s->form[k][f], n) == 0)
				return k * 3 + f;
	}
	return -1;
}

/* Write form r's counterpart to o. */
static char *
put_swap(struct bg_swap *s, int r, char *o)
{
	int k = 1 - r / 3;

	s->count++;
	memcpy(o, s->form[k][r % 3], s->len[k]);
	return o + s->len[k];
}

/* words mode: the run w[0..n) is complete; write it or its swap to o. */
static char *
put_run(struct bg_swap *s, const char *w, size_t n, char *o)
{
	int r = form_is(s, w, n);

	if (r >= 0)
		return put_swap(s, r, o);
	memcpy(o, w, n);
	return o + n;
}

/* Bytes that are not swapped are copied lazily, in[from..i) at a time, so
 * a chunk without a word costs one scan and one memcpy. */
static size_t
feed_words(struct bg_swap *s, const char *in, size_t n, char *out)
{
	const unsigned char *u = (const unsigned char *)in;
	size_t i = 0, j, from = 0;
	char *o = out;
	int r;

	if (s->longrun || s->carrylen > 0) {
		/* the chunk starts inside the run the last one ended in */
		for (j = 0; j < n && is_letter(u[j]); j++)
			;
		if (s->longrun) {
			s->longrun = j == n;
		} else if (s->carrylen + j > s->maxlen) {
			memcpy(o, s->carry, s->carrylen);
			o += s->carrylen;
			s->carrylen = 0;
			s->longrun = j == n;
		} else if (j == n) {
			memcpy(s->carry + s->carrylen, in, n);
			s->carrylen += n;
			return 0;
		} else {
			memcpy(s->carry + s->carrylen, in, j);
			o = put_run(s, s->carry, s->carrylen + j, o);
			s->carrylen = 0;
			from = j;
		}
		i = j;
	}
	while (i < n) {
		while (i < n && !is_letter(u[i]))
			i++;
		for (j = i; j < n && is_letter(u[j]); j++)
			;
		if (j == n) {
			/* the run may go on in the next chunk: carry it,
			 * unless it is already too long to be a word */
			if (j - i > s->maxlen) {
				s->longrun = 1;
				break;
			}
			memcpy(o, in + from, i - from);
			o += i - from;
			memcpy(s->carry, in + i, j - i);
			s->carrylen = j - i;
			return (size_t)(o - out);
		}
		if ((j - i == s->len[0] || j - i == s->len[1]) &&
		    (r = form_is(s, in + i, j - i)) >= 0) {
			memcpy(o, in + from, i - from);
			o = put_swap(s, r, o + (i - from));
			from = j;
		}
		i = j;
	}
	memcpy(o, in + from, n - from);
	o += n - from;
	return (size_t)(o - out);
}

/* all mode: which form starts at p? -1 none, -2 a proper prefix of one
 * fills p[0..avail) and more input could complete it (not at eof). */
static int
form_at(const struct bg_swap *s, const char *p, size_t avail, int eof)
{
	unsigned bits = s->first[(unsigned char)*p];
	int k, f, partial = 0;
	size_t m;

	for (k = 0; k < 2; k++)
		for (f = 0; f < s->nforms; f++) {
			if (!(bits & (1u << (k * 3 + f))))
				continue;
			m = avail < s->len[k] ? avail : s->len[k];
			if (memcmp(p, s->form[k][f], m) != 0)
				continue;
			if (m == s->len[k])
				return k * 3 + f;
			partial = 1;
		}
	return partial && !eof ? -2 : -1;
}

/* all mode: scan the positions below lim of d[0..len), writing to *op;
 * returns where it stopped: >= lim, or a position where a form may start
 * that the rest of d cannot complete yet. Copies lazily, as feed_words. */
static size_t
scan_all(struct bg_swap *s, const char *d, size_t len, size_t lim, int eof,
    char **op)
{
	const unsigned char *u = (const unsigned char *)d;
	char *o = *op;
	size_t p = 0, from = 0;
	int r;

	while (p < lim) {
		if (!s->first[u[p]]) {
			p++;
			continue;
		}
		r = form_at(s, d + p, len - p, eof);
		if (r == -2)
			break;
		if (r < 0) {
			p++;
			continue;
		}
		memcpy(o, d + from, p - from);
		o = put_swap(s, r, o + (p - from));
		p += s->len[r / 3];
		from = p;
	}
	memcpy(o, d + from, p - from);
	*op = o + (p - from);
	return p;
}

static size_t
feed_all(struct bg_swap *s, const char *in, size_t n, char *out)
{
	char join[2 * BG_SWAP_WMAX];
	size_t i = 0, k, p;
	char *o = out;

	if (s->carrylen > 0) {
		/* Scan the carried positions with enough of the new input
		 * behind them to decide; a form that is still partial then
		 * means this chunk ended too, and all of it is carried. */
		k = n < BG_SWAP_WMAX ? n : BG_SWAP_WMAX;
		memcpy(join, s->carry, s->carrylen);
		memcpy(join + s->carrylen, in, k);
		p = scan_all(s, join, s->carrylen + k, s->carrylen, 0, &o);
		if (p < s->carrylen) {
			memcpy(s->carry, join + p, s->carrylen + k - p);
			s->carrylen = s->carrylen + k - p;
			return (size_t)(o - out);
		}
		i = p - s->carrylen;
		s->carrylen = 0;
	}
	p = i + scan_all(s, in + i, n - i, n - i, 0, &o);
	if (p < n) {
		memcpy(s->carry, in + p, n - p);
		s->carrylen = n - p;
	}
	return (size_t)(o - out);
}

static size_t
ref_swap_feed(struct bg_swap *s, const char *in, size_t n, char *out)
{
	if (n == 0)
		return 0;
	return s->all ? feed_all(s, in, n, out) : feed_words(s, in, n, out);
}

static size_t
ref_swap_end(struct bg_swap *s, char *out)
{
	char *o = out;

	if (s->all)
		scan_all(s, s->carry, s->carrylen, s->carrylen, 1, &o);
	else if (s->carrylen > 0)
		o = put_run(s, s->carry, s->carrylen, o);
	s->carrylen = 0;
	s->longrun = 0;
	return (size_t)(o - out);
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

/* One piece of input: a case form or a cut of a word, letters, bytes. */
static size_t
piece(const char *w, char *p)
{
	size_t n = strlen(w), i, k;

	switch (rnd(10)) {
	case 0: case 1: case 2:		/* the word in some case form */
		k = rnd(4);
		for (i = 0; i < n; i++)
			p[i] = k == 0 ? (char)(w[i] | 0x20) : k == 1 ?
			    (char)(w[i] & ~0x20) : k == 2 ? (char)(i ? w[i] |
			    0x20 : w[i] & ~0x20) : (char)(w[i] ^ (rnd(2) ?
			    0x20 : 0));
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
			p[i] = "bluegreenxyz"[rnd(12)];
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

/* Feed in[0..n) in random chunks; returns the output length. */
static size_t
run(struct bg_swap *s, int ref, const char *src, size_t n, char *out,
    int onebyte)
{
	size_t off = 0, k, o = 0;

	while (off < n) {
		k = onebyte ? 1 : 1 + rnd(n - off);
		if (rnd(4) == 0)
			k = 1 + rnd(k < 80 ? k : 80);
		o += ref ? ref_swap_feed(s, src + off, k, out + o) :
		    bg_swap_feed(s, src + off, k, out + o);
		off += k;
	}
	o += ref ? ref_swap_end(s, out + o) : bg_swap_end(s, out + o);
	return o;
}

static int npass, nfail;

static void
fail(const char *what, size_t pair, int all, size_t n, size_t at)
{
	nfail++;
	if (nfail <= 10)
		printf("FAIL %s: -w %s,%s%s, input of %zu bytes, at %zu\n", what,
		    pairs[pair][0], pairs[pair][1], all ? " -a" : "", n, at);
}

int
main(int argc, char *argv[])
{
	struct bg_swap a, b;
	const char *why, *w;
	unsigned long inputs = 20000, t;
	size_t pair, n, k, nw, ng, nb, i;
	int all, ra, rb, onebyte;

	bg_setprog(argv[0]);
	for (i = 1; i + 1 < (size_t)argc; i += 2)
		if (strcmp(argv[i], "-s") == 0)
			rng = strtoull(argv[i + 1], NULL, 10) | 1;
		else if (strcmp(argv[i], "-n") == 0)
			inputs = strtoul(argv[i + 1], NULL, 10);
	for (t = 0; t < inputs; t++) {
		pair = rnd(NPAIRS);
		all = (int)rnd(2);
		ra = ref_swap_init(&a, pairs[pair][0], strlen(pairs[pair][0]),
		    pairs[pair][1], strlen(pairs[pair][1]), all, &why);
		rb = bg_swap_init(&b, pairs[pair][0], strlen(pairs[pair][0]),
		    pairs[pair][1], strlen(pairs[pair][1]), all, &why);
		if (ra != rb) {
			fail("init", pair, all, 0, 0);
			continue;
		}
		if (ra < 0) {
			npass++;
			continue;
		}
		if (ref_swap_inmax(&a, 4096) != bg_swap_inmax(&b, 4096) ||
		    ref_swap_outmax(&a, 777) != bg_swap_outmax(&b, 777)) {
			fail("buffer sizes", pair, all, 0, 0);
			continue;
		}
		/* mostly short inputs, some of up to 60 KiB; the output
		 * (a short word may become a long one) fits the buffers */
		k = rnd(8) == 0 ? sizeof in - 200 : 1 + rnd(600);
		while (ref_swap_outmax(&a, k + 200) > sizeof want)
			k /= 2;
		for (n = 0; n < k;) {
			w = pairs[pair][rnd(2)];
			n += piece(w, in + n);
		}
		onebyte = rnd(10) == 0 && n < 4000;
		nw = run(&a, 1, in, n, want, onebyte);
		ng = run(&b, 0, in, n, got, onebyte);
		if (nw != ng || memcmp(want, got, nw) != 0) {
			for (i = 0; i < nw && i < ng && want[i] == got[i]; i++)
				;
			fail("output", pair, all, n, i);
			continue;
		}
		if (a.count != b.count) {
			fail("count", pair, all, n, 0);
			continue;
		}
		/* and back: the rewrite is an involution too */
		nb = run(&b, 0, got, ng, back, 0);
		if (nb != n || memcmp(back, in, n) != 0) {
			fail("twice", pair, all, n, 0);
			continue;
		}
		npass++;
	}
	printf("%d passed, %d failed\n", npass, nfail);
	return nfail ? BG_NO : BG_OK;
}
