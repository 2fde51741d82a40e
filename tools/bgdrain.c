/* bgdrain - wait until a color has no connections in flight.
 * After a switch the old color still finishes the requests it was given;
 * this waits for them (or, with -c, says whether they are done) so the old
 * color can be restaged. It asks the kernel's socket tables (netlink
 * sock_diag, or /proc/net where that is refused), never talks to the app. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bg.h"

static const char usage[] =
    "bgdrain [-cFq] [-f conf] [-i ms] [-t secs] [COLOR]\n"
    "       bgdrain -V";

#define CHECK_GAP_MS	50	/* -c: between its two readings */
#define COLOR_WAIT_MS	2000	/* asking nginx which color is live */

static int progress;	/* stderr is a terminal and -q was not given */

/* The live color as nginx's /bg route tells it, or an exit status. */
static int
live_color(const struct bg_conf *c, int *live)
{
	char why[BG_WHY_MAX];
	int st;

	st = bg_live_color(&c->url, bg_conf_host(c), bg_now_ms() +
	    COLOR_WAIT_MS, live, why, sizeof why);
	if (st != 0) {
		bg_warn("cannot tell which color is live: %s", why);
		return st;	/* BG_TIMEOUT or BG_SYS */
	}
	return BG_OK;
}

static void
clear_progress(void)
{
	static const char clr[] = "\r\033[K";

	if (progress)
		(void)!write(STDERR_FILENO, clr, sizeof clr - 1);
}

/* Interrupted while the progress line shows: wipe it, then die of the
 * signal as if there were no handler, so the caller sees 130 or 143. */
static void
on_signal(int sig)
{
	clear_progress();
	signal(sig, SIG_DFL);
	raise(sig);
}

static const char *
plural(long n)
{
	return n == 1 ? "" : "s";
}

/* The connections in flight, all of them (max 0), or up to max: a poll
 * that only has to tell zero from more stops at the first, which keeps it
 * cheap however many there are. */
static long
count(const struct bg_addr *a, const char *name, long max)
{
	char where[400];
	long n;

	if ((n = max > 0 ? bg_inflight_upto(a, max) : bg_inflight(a)) < 0) {
		clear_progress();
		bg_diesys(BG_SYS, "cannot count connections to %s (%s)", name,
		    bg_addr_fmt(a, where, sizeof where));
	}
	return n;
}

/* Exit 0 when two readings CHECK_GAP_MS apart are both zero, else 1. */
static int
check(const struct bg_addr *a, const char *name)
{
	long n1, n2;

	if ((n1 = count(a, name, 1)) > 0)
		n1 = count(a, name, 0);
	bg_sleep_ms(CHECK_GAP_MS);
	if ((n2 = count(a, name, 1)) > 0)
		n2 = count(a, name, 0);
	if (n1 == 0 && n2 == 0)
		return BG_OK;
	if (n2 == 0)
		n2 = n1;
	bg_warn("%s has %ld connection%s in flight", name, n2, plural(n2));
	return BG_NO;
}

/* Poll every interval_ms until two readings in a row are zero. */
static int
wait_drained(const struct bg_addr *a, const char *name, long long interval_ms,
    long long timeout_ms)
{
	long long start, now, wait;
	long n, left = 0;
	int zeros = 0;
	char s[32];

	start = bg_now_ms();
	for (;;) {
		/* the progress line shows the count; else zero or not will do */
		n = count(a, name, progress ? 0 : 1);
		if (n == 0 && ++zeros == 2)
			break;
		now = bg_now_ms();
		if (n > 0 && now - start >= timeout_ms && !progress &&
		    (n = count(a, name, 0)) == 0) {
			zeros = 1;	/* the full count found none: look again */
			continue;
		}
		if (n > 0) {
			zeros = 0;
			left = n;
		}
		if (n > 0 && now - start >= timeout_ms) {
			clear_progress();
			bg_warn("%s still has %ld connection%s after %s", name,
			    left, plural(left), bg_secs_fmt(timeout_ms, "s", s,
			    sizeof s));
			return BG_TIMEOUT;
		}
		if (progress)
			fprintf(stderr, "\r%s: %s: %ld connection%s, %lld.%llds"
			    "\033[K", bg_prog, name, n, plural(n),
			    (now - start) / 1000, (now - start) % 1000 / 100);
		/* A zero reading past the deadline gets its second look at
		 * once: a drained color is not reported as timed out. */
		wait = start + timeout_ms - now;
		if (wait > interval_ms)
			wait = interval_ms;
		bg_sleep_ms(wait);
	}
	clear_progress();
	return BG_OK;
}

int
main(int argc, char *argv[])
{
	struct bg_conf conf;
	const char *cpath = NULL, *name;
	char ex[64];
	unsigned long interval = 100;
	long long timeout_ms = -1;
	int ch, checkonly = 0, force = 0, quiet = 0, color = -1, live, st;

	bg_setprog(argv[0]);
	bg_help(argc, argv, usage);
	while ((ch = getopt(argc, argv, "cFf:i:qt:")) != -1) {
		switch (ch) {
		case 'c':
			checkonly = 1;
			break;
		case 'F':
			force = 1;
			break;
		case 'f':
			cpath = optarg;
			break;
		case 'i':
			if (bg_parse_ulong(optarg, strlen(optarg), 60000,
			    &interval) < 0 || interval == 0)
				bg_dieusage(usage, "-i %s: expected "
				    "milliseconds, 1 to 60000", bg_excerpt(optarg,
				    strlen(optarg), 40, ex, sizeof ex));
			break;
		case 'q':
			quiet = 1;
			break;
		case 't':
			timeout_ms = bg_optsecs(ch, optarg, BG_SECS_MAX,
			    usage);
			break;
		default:
			bg_badflag(ch, usage);
		}
	}
	color = bg_color_operand(argc, argv, usage);

	cpath = bg_conf_path(cpath);
	bg_conf_load(cpath, BGK(K_URL) | BGK(K_HOST_HEADER) | BGK(K_BLUE) |
	    BGK(K_GREEN) | BGK(K_TIMEOUT), &conf);
	bg_conf_need(&conf, BGK(K_URL) | BGK(K_BLUE) | BGK(K_GREEN), cpath);
	if (timeout_ms < 0)
		timeout_ms = conf.timeout_ms;

	/* Draining the live color never ends; the url says which one it is. */
	if (color < 0 || !force) {
		if ((st = live_color(&conf, &live)) != BG_OK)
			return st;
		if (color < 0)
			color = bg_other(live);
		else if (color == live)
			bg_die(BG_NO, "%s is live: it would never drain; to "
			    "wait for it anyway: bgdrain -F %s",
			    bg_color_name(color), bg_color_name(color));
	}
	name = bg_color_name(color);

	progress = !checkonly && !quiet && isatty(STDERR_FILENO);
	if (progress) {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
	}
	if (checkonly)
		return check(&conf.addr[color], name);
	return wait_drained(&conf.addr[color], name, (long long)interval,
	    timeout_ms);
}
