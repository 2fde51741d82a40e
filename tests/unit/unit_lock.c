/* unit_lock - take the bg lock the way the tools do, for tests/lock.bats.
 *
 *   unit_lock PATH [WAIT_MS [HOLD_MS]]
 *
 * WAIT_MS < 0 (the default): do not wait. Prints one line on stdout:
 * "locked PID" (then holds the lock HOLD_MS ms, default 0, and exits 0),
 * "busy PID" (exit 1), "timeout PID" (exit 3) with the holder's pid (0:
 * unknown), or "error: why" (exit 5).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bg.h"

static const char usage[] = "unit_lock path [wait_ms [hold_ms]]";

static long long
number(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		bg_usage(usage);
	return v;
}

int
main(int argc, char **argv)
{
	long long wait_ms = -1, hold_ms = 0;
	pid_t holder = -1;
	int fd;

	bg_setprog(argv[0]);
	bg_help(argc, argv, usage);
	if (argc < 2 || argc > 4)
		bg_usage(usage);
	if (argc > 2)
		wait_ms = number(argv[2]);
	if (argc > 3)
		hold_ms = number(argv[3]);
	fd = bg_lock(argv[1], wait_ms, &holder);
	switch (fd) {
	case BG_LOCK_BUSY:
		printf("busy %ld\n", (long)holder);
		return BG_NO;
	case BG_LOCK_TIMEOUT:
		printf("timeout %ld\n", (long)holder);
		return BG_TIMEOUT;
	case BG_LOCK_ERROR:
		printf("error: %s\n", strerror(errno));
		return BG_SYS;
	}
	printf("locked %ld\n", (long)getpid());
	fflush(stdout);
	if (hold_ms > 0)
		bg_sleep_ms(hold_ms);
	return BG_OK;
}
