/* swap.c - swap two words in one streaming pass (bgswapconf).
 *
 * One pass, no placeholder word, so swapping twice gives the input back byte
 * for byte. Two modes:
 *
 *  words (default): the input is cut into runs of ASCII letters; a run that
 *   is exactly one of the case forms of a word is replaced by the same form
 *   of the other word. Since a replacement is a run of letters again, the
 *   cut of the output is the cut of the input, hence the involution. Only the
 *   current run is carried between chunks, and only while it is not longer
 *   than the longest word.
 *
 *  all (-a): every occurrence of a case form is replaced, scanning left to
 *   right. bg_swap_init refuses a pair two of whose occurrences could share a
 *   letter; then the occurrences in any text are disjoint, a replacement
 *   cannot create or hide another one, and the swap is an involution again.
 *   The carry is a proper prefix of a form seen at the end of a chunk.
 *
 * Case forms: lower, UPPER and Capitalized (the last only when both words
 * have two letters or more: for a one-letter word it is its UPPER form, and
 * mapping it to two forms of the other word would break the involution).
 * Other mixtures (bLuE) are no form and are left alone.
 *
 * Speed: a swap is almost all copying. Both modes jump from one byte that
 * can start a form to the next (next_start: eight bytes at a time, folded
 * to lower case and compared with the two first letters at once), and copy
 * the bytes in between in one memcpy; only there is a run measured. */
#include <stdint.h>
#include <string.h>

#include "bg.h"

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

int
bg_swap_init(struct bg_swap *s, const char *w1, size_t n1, const char *w2,
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

size_t
bg_swap_outmax(const struct bg_swap *s, size_t n)
{
	/* Every input byte, the carry included, becomes at most
	 * maxlen/minlen output bytes (a short word replaced by the long). */
	return ((n + s->maxlen) * s->maxlen + s->minlen - 1) / s->minlen;
}

size_t
bg_swap_inmax(const struct bg_swap *s, size_t outcap)
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

#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Nonzero when one of the eight bytes of v is zero (exact for "any"). */
static uint64_t
haszero(uint64_t v)
{
	return (v - ONES) & ~v & HIGHS;
}

/* The first position in [i, lim) whose byte can start a form, or lim. The
 * first letters of the forms are the two words' first letters in lower and
 * upper case, which differ by 0x20 only: OR-ing 0x20 into every byte maps
 * exactly those four bytes (and no other) onto the two lower-case ones. */
static size_t
next_start(const struct bg_swap *s, const unsigned char *u, size_t i,
    size_t lim)
{
	uint64_t c0 = ONES * (unsigned char)s->form[0][FORM_LOWER][0],
	    c1 = ONES * (unsigned char)s->form[1][FORM_LOWER][0], x;

	while (lim - i >= 8) {
		memcpy(&x, u + i, 8);
		x |= ONES * 0x20;
		if (haszero(x ^ c0) | haszero(x ^ c1))
			break;
		i += 8;
	}
	while (i < lim && !s->first[u[i]])
		i++;
	return i;
}

/* Bytes that are not swapped are copied lazily, in[from..p) at a time, so
 * a chunk without a word costs one scan and one memcpy. A word starts at a
 * byte that can start a form, after a byte that is no letter. */
static size_t
feed_words(struct bg_swap *s, const char *in, size_t n, char *out)
{
	const unsigned char *u = (const unsigned char *)in;
	size_t i = 0, j, p, t, from = 0, lim = n;
	char *o = out;
	int r, carry = 0, longtail = 0;

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
	/* The run the chunk ends in may go on in the next one: carried when
	 * it could still be a word, else the next chunk starts in a long
	 * run. It starts at t (i > 0 means u[i] is no letter). */
	if (i < n && is_letter(u[n - 1])) {
		for (t = n - 1; t > i && n - t <= s->maxlen &&
		    is_letter(u[t - 1]); t--)
			;
		if (n - t > s->maxlen || (t > i && is_letter(u[t - 1])))
			longtail = 1;
		else {
			lim = t;
			carry = 1;
		}
	}
	while (i < lim) {
		if ((p = next_start(s, u, i, lim)) >= lim)
			break;
		if (p > 0 && is_letter(u[p - 1])) {
			i = p + 1;	/* inside a run */
			continue;
		}
		/* runs before lim end before it: at most maxlen + 1 letters
		 * are looked at */
		for (j = p + 1; j < lim && j - p <= s->maxlen &&
		    is_letter(u[j]); j++)
			;
		if (j - p <= s->maxlen && (j - p == s->len[0] ||
		    j - p == s->len[1]) && (r = form_is(s, in + p, j - p)) >= 0) {
			memcpy(o, in + from, p - from);
			o = put_swap(s, r, o + (p - from));
			from = j;
		}
		i = j;
	}
	memcpy(o, in + from, lim - from);
	o += lim - from;
	if (carry) {
		memcpy(s->carry, in + lim, n - lim);
		s->carrylen = n - lim;
	} else if (longtail)
		s->longrun = 1;
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
		if ((p = next_start(s, u, p, lim)) >= lim)
			break;
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

size_t
bg_swap_feed(struct bg_swap *s, const char *in, size_t n, char *out)
{
	if (n == 0)
		return 0;
	return s->all ? feed_all(s, in, n, out) : feed_words(s, in, n, out);
}

size_t
bg_swap_end(struct bg_swap *s, char *out)
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
