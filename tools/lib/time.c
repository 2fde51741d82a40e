/* time.c - monotonic milliseconds for deadlines (microseconds for the
 * bench and the load client). */
#include <errno.h>
#include <time.h>

#include "bg.h"

long long
bg_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

long long
bg_now_ms(void)
{
	return bg_now_us() / 1000;
}

void
bg_sleep_ms(long long ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}
