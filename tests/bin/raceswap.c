/* raceswap - swap two names with renameat2(RENAME_EXCHANGE) in a loop, as
 * an attacker racing a check-then-use by path would: the tests run it as
 * the deploy user against make init.
 *
 *   raceswap A B SECS   exchanges A and B (in one directory the caller can
 *                       write) until SECS seconds have passed; prints the
 *                       number of exchanges that succeeded; exit 0 when at
 *                       least one did, 1 when none, 2 on bad usage. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

int
main(int argc, char **argv)
{
	struct timespec now, end;
	unsigned long n = 0, i;
	char *e;
	long secs;

	if (argc != 4)
		return 2;
	secs = strtol(argv[3], &e, 10);
	if (*e != '\0' || secs < 1 || secs > 600)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += secs;
	for (;;) {
		for (i = 0; i < 1000; i++)
			if (syscall(SYS_renameat2, AT_FDCWD, argv[1], AT_FDCWD,
			    argv[2], RENAME_EXCHANGE) == 0)
				n++;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec &&
		    now.tv_nsec >= end.tv_nsec))
			break;
	}
	/* leave them as they were: an even number of exchanges */
	if (n % 2 == 1 && syscall(SYS_renameat2, AT_FDCWD, argv[1], AT_FDCWD,
	    argv[2], RENAME_EXCHANGE) == 0)
		n++;
	printf("%lu\n", n);
	return n > 0 ? 0 : 1;
}
