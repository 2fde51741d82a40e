/* trace.c - BG_TRACE=1: time each step of a run on stderr, one line per
 * step ("bgflip: trace: STEP  +X ms  (at Y ms)"), to find where a flip's
 * time goes. Off by default, and then a call costs one test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bg.h"

int bg_trace_on;
static double t0, last;

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void
bg_trace_init(void)
{
	const char *e = getenv("BG_TRACE");

	bg_trace_on = e != NULL && strcmp(e, "1") == 0;
	t0 = last = now_ms();
}

void
bg_trace(const char *step)
{
	double t;

	if (!bg_trace_on)
		return;
	t = now_ms();
	fprintf(stderr, "%s: trace: %-34s +%8.3f ms (at %8.3f ms)\n", bg_prog,
	    step, t - last, t - t0);
	last = t;
}
