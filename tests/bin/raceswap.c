/* raceswap - swap two names with renameat2(RENAME_EXCHANGE) in a loop, as
 * an attacker racing a check-then-use by path would: the tests run it as
 * the deploy user against make init.
 *
 *   raceswap A B SECS   exchanges A and B (in one directory the caller can
 *                       write) until SIGTERM, or SECS seconds at the most;
 *                       prints the number of exchanges that succeeded so
 *                       far on each SIGUSR1 (one line each), and at the end
 *                       "total N"; exit 0 when at least one did, 1 when
 *                       none, 2 on bad usage. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static volatile sig_atomic_t asked, stop;

static void
onsig(int sig)
{
	if (sig == SIGUSR1)
		asked = 1;
	else
		stop = 1;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	struct timespec now, end;
	unsigned long n = 0, i;
	char *e;
	long secs;

	if (argc != 4)
		return 2;
	secs = strtol(argv[3], &e, 10);
	if (*e != '\0' || secs < 1 || secs > 600)
		return 2;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = onsig;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += secs;
	while (!stop) {
		for (i = 0; i < 1000; i++)
			if (syscall(SYS_renameat2, AT_FDCWD, argv[1], AT_FDCWD,
			    argv[2], RENAME_EXCHANGE) == 0)
				n++;
		if (asked) {
			asked = 0;
			printf("%lu\n", n);
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec &&
		    now.tv_nsec >= end.tv_nsec))
			break;
	}
	/* leave them as they were: an even number of exchanges */
	if (n % 2 == 1 && syscall(SYS_renameat2, AT_FDCWD, argv[1], AT_FDCWD,
	    argv[2], RENAME_EXCHANGE) == 0)
		n++;
	printf("total %lu\n", n);
	return n > 0 ? 0 : 1;
}
