/* unit.h - what the table-driven unit drivers (tests/unit/unit_*.c) share: a
 * count of passes and failures, and the one FAIL line that shows the input
 * with anything unprintable as \xNN. The driver prints the totals as
 * "N passed, N failed". */
#ifndef UNIT_H
#define UNIT_H

#include <stddef.h>
#include <stdio.h>

#define S(lit) lit, sizeof(lit) - 1	/* a literal with its length */

static int npass, nfail;

static void
check(int ok, const char *what, const char *in, size_t n)
{
	size_t i;

	if (ok) {
		npass++;
		return;
	}
	nfail++;
	printf("FAIL %s: \"", what);
	for (i = 0; i < n; i++)
		if (in[i] >= 0x20 && in[i] < 0x7f)
			putchar(in[i]);
		else
			printf("\\x%02x", (unsigned char)in[i]);
	printf("\"\n");
}

#endif
