/* renamex - swap two names over and over, for the trust tests' races.
 *
 *	renamex DIR A B SECS
 *
 * In DIR, exchanges A and B with renameat2(RENAME_EXCHANGE) in a tight
 * loop until SECS seconds have passed (bounded: a test never hangs on it),
 * then leaves them as they were at the start (an even number of swaps) and
 * prints how many swaps it made. Run as the attacker (the deploy user). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bg.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static int
swap(int dfd, const char *a, const char *b)
{
	return (int)syscall(SYS_renameat2, dfd, a, dfd, b, RENAME_EXCHANGE);
}

int
main(int argc, char **argv)
{
	unsigned long long n = 0;
	unsigned long secs;
	long long end;
	int dfd;

	if (argc != 5 || bg_parse_ulong(argv[4], strlen(argv[4]), 3600,
	    &secs) < 0) {
		fprintf(stderr, "usage: renamex DIR A B SECS\n");
		return 2;
	}
	if ((dfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		perror(argv[1]);
		return 1;
	}
	end = bg_now_ms() + (long long)secs * 1000;
	while (bg_now_ms() < end) {
		if (swap(dfd, argv[2], argv[3]) < 0) {
			perror("renameat2");
			return 1;
		}
		n++;
	}
	if (n % 2 && swap(dfd, argv[2], argv[3]) == 0)
		n++;
	printf("%llu\n", n);
	return 0;
}
