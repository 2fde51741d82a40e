/* swapref.h - bgswapconf's swap as bgswapconf(1) defines it, written
 * plainly and apart from tools/lib/swap.c: the reference that unit_swapref
 * and the fuzz target tests/fuzz/fuzz_swap.c compare swap.c with. The whole
 * input at once, a byte or a run of letters at a time; no carry, no tables,
 * no speed. Header-only: each includer gets static copies. */
#ifndef BG_TESTS_SWAPREF_H
#define BG_TESTS_SWAPREF_H

#include <stddef.h>
#include <string.h>

#define REF_WMAX 64		/* a word is 1 to 64 ASCII letters */

static int
ref_letter(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static char
ref_lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

static char
ref_upper(char ch)
{
	return ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
}

struct ref {
	int all;
	int nforms;			/* 3, or 2 without Capitalized */
	size_t len[2];
	char form[2][3][REF_WMAX + 1];	/* [word][lower, UPPER, Capitalized] */
};

/* With -a, may two occurrences share a letter? "where the end of one word
 * is the start of one of the two, or where one word contains the other". */
static int
ref_overlap(const struct ref *r)
{
	const char *p, *q;
	size_t lp, lq, k;
	int a, b;

	for (a = 0; a < 2; a++)
		for (b = 0; b < 2; b++) {
			p = r->form[a][0];
			q = r->form[b][0];
			lp = r->len[a];
			lq = r->len[b];
			/* a proper end of p, k letters, starts q */
			for (k = 1; k < lp && k <= lq; k++)
				if (memcmp(p + lp - k, q, k) == 0)
					return 1;
			if (a != b && strstr(p, q) != NULL)
				return 1;
		}
	return 0;
}

/* 0, or -1 when bgswapconf must refuse the pair (exit 2). */
static int
ref_init(struct ref *r, const char *w1, size_t n1, const char *w2, size_t n2,
    int all)
{
	const char *w[2] = { w1, w2 };
	size_t n[2] = { n1, n2 }, i;
	int k;

	memset(r, 0, sizeof *r);
	r->all = all;
	for (k = 0; k < 2; k++) {
		if (n[k] < 1 || n[k] > REF_WMAX)
			return -1;
		for (i = 0; i < n[k]; i++) {
			if (!ref_letter((unsigned char)w[k][i]))
				return -1;
			r->form[k][0][i] = ref_lower(w[k][i]);
			r->form[k][1][i] = ref_upper(w[k][i]);
			r->form[k][2][i] = i == 0 ? ref_upper(w[k][i]) :
			    ref_lower(w[k][i]);
		}
		r->len[k] = n[k];
	}
	/* "taken in lower case ... they must differ in more than case" */
	if (strcmp(r->form[0][0], r->form[1][0]) == 0)
		return -1;
	/* a one-letter word's Capitalized form is its upper case form */
	r->nforms = n1 > 1 && n2 > 1 ? 3 : 2;
	if (all && ref_overlap(r))
		return -1;
	return 0;
}

/* The form (word * 3 + form) that s[0..n) is exactly, or with prefix set
 * that it starts with; -1 for none. */
static int
ref_form(const struct ref *r, const char *s, size_t n, int prefix)
{
	int k, f;

	for (k = 0; k < 2; k++)
		for (f = 0; f < r->nforms; f++)
			if ((prefix ? n >= r->len[k] : n == r->len[k]) &&
			    memcmp(s, r->form[k][f], r->len[k]) == 0)
				return k * 3 + f;
	return -1;
}

/* Swap in[0..n) into out (room for n * 64 bytes); returns its length.
 * Words mode: a run of letters that is exactly a form becomes the same form
 * of the other word. -a: left to right, a form wherever it starts. */
static size_t
ref_swap(const struct ref *r, const char *in, size_t n, char *out,
    unsigned long long *count)
{
	size_t i = 0, j, o = 0;
	int x;

	*count = 0;
	while (i < n) {
		if (r->all) {
			x = ref_form(r, in + i, n - i, 1);
			j = x >= 0 ? i + r->len[x / 3] : i + 1;
		} else if (ref_letter((unsigned char)in[i])) {
			for (j = i + 1; j < n &&
			    ref_letter((unsigned char)in[j]); j++)
				;
			x = ref_form(r, in + i, j - i, 0);
		} else {
			x = -1;
			j = i + 1;
		}
		if (x < 0) {
			memcpy(out + o, in + i, j - i);
			o += j - i;
		} else {
			memcpy(out + o, r->form[1 - x / 3][x % 3],
			    r->len[1 - x / 3]);
			o += r->len[1 - x / 3];
			(*count)++;
		}
		i = j;
	}
	return o;
}

#endif
