/* bgcolor - which color is live: GET nginx's /bg route and print it.
 * Anything but a 200 whose body is exactly a color is an error, said in one
 * line, because a deploy that guesses the live color wrongly overwrites the
 * running production instance.
 *
 * -k KEY (repeatable, or a comma list) prints config values instead, checked
 * by the one config parser with defaults applied, one per line in the order
 * asked: the pipeline's shell never parses bg.conf itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"

#define SECS_MAX	3600	/* -t: longer is a typo, not a wish */

#define KEYS_MAX	32	/* -k: values asked for at once */

static const char usage[] =
    "bgcolor [-s] [-f conf] [-t secs] [-u url]\n"
    "       bgcolor [-f conf] -k key[,key...]\n"
    "       bgcolor -V";

/* Add the keys of the comma list s to keys[*nk]; -1 naming an unknown one. */
static int
keys_add(const char *s, int *keys, int *nk)
{
	char ex[80];
	const char *e;
	size_t n;
	int k;

	for (;;) {
		e = strchr(s, ',');
		n = e != NULL ? (size_t)(e - s) : strlen(s);
		if ((k = bg_conf_key(s, n)) < 0) {
			bg_warn("unknown config key %s",
			    bg_excerpt(s, n, 32, ex, sizeof ex));
			return -1;
		}
		if (*nk == KEYS_MAX) {
			bg_warn("more than %d keys asked for", KEYS_MAX);
			return -1;
		}
		keys[(*nk)++] = k;
		if (e == NULL)
			return 0;
		s = e + 1;
	}
}

/* The value of key k as the config would write it; "" when unset. */
static const char *
keyval(const struct bg_conf *c, int k, char *buf, size_t len)
{
	static const char *const modes[] = { "reload", "socket", "port" };
	const char *p;

	switch (k) {
	case K_MODE:		return modes[c->mode];
	case K_URL:
		return c->set & BGK(K_URL) ? bg_url_fmt(&c->url.addr, c->url.path, buf,
		    len) : "";
	case K_HOST_HEADER:	return c->host_header;
	case K_BLUE:
	case K_GREEN:
		return c->set & BGK(k) ? bg_addr_fmt(&c->addr[k == K_BLUE ?
		    BG_BLUE : BG_GREEN], buf, len) : "";
	case K_LIVE_ADDR:
	case K_STAGING_ADDR:
		return c->set & BGK(k) ? bg_addr_fmt(k == K_LIVE_ADDR ?
		    &c->live_addr : &c->staging_addr, buf, len) : "";
	case K_HEALTH:		return c->health;
	case K_TIMEOUT:		return bg_secs_fmt(c->timeout_ms, "", buf, len);
	case K_LINGER:
		return c->linger_ms == BG_LINGER_OFF ? "off" :
		    bg_secs_fmt(c->linger_ms, "", buf, len);
	case K_STAGING_URL:	return c->staging_url;
	case K_NFT_TABLE:	return c->nft_table;
	}
	p = bg_conf_pathval(c, k);	/* hooks, app, lock, ... */
	return p != NULL ? p : "";
}

/* -k: print the values of keys[0..nk), one a line; never asks nginx. */
static int
print_keys(const char *fopt, const int *keys, int nk)
{
	struct bg_conf c;
	const char *path;
	char buf[1500];
	unsigned long used = 0;
	int i;

	for (i = 0; i < nk; i++)
		used |= BGK(keys[i]);
	path = bg_conf_path(fopt);
	bg_conf_load(path, used, &c);
	for (i = 0; i < nk; i++)
		if (printf("%s\n", keyval(&c, keys[i], buf, sizeof buf)) < 0)
			break;
	if (fflush(stdout) != 0 || ferror(stdout))
		bg_diesys(BG_SYS, "cannot write the values");
	return BG_OK;
}

int
main(int argc, char **argv)
{
	struct bg_conf c;
	struct bg_url u;
	const char *fopt = NULL, *uopt = NULL, *host = NULL, *path;
	char why[BG_WHY_MAX], ex[200];
	long long ms = 2000, deadline;
	int ch, standby = 0, rc, color, keys[KEYS_MAX], nk = 0, timed = 0;

	bg_setprog(argv[0]);
	bg_help(argc, argv, usage);
	while ((ch = getopt(argc, argv, ":f:k:st:u:")) != -1) {
		switch (ch) {
		case 'f':
			fopt = optarg;
			break;
		case 'k':
			if (keys_add(optarg, keys, &nk) < 0)
				exit(BG_CONFIG);
			break;
		case 's':
			standby = 1;
			break;
		case 't':
			ms = bg_optsecs(ch, optarg, SECS_MAX, usage);
			timed = 1;
			break;
		case 'u':
			uopt = optarg;
			break;
		default:	/* ':' or '?' */
			bg_badflag(ch, usage);
		}
	}
	if (optind != argc)
		bg_usage(usage);
	if (nk > 0) {
		if (standby || timed || uopt != NULL)
			bg_dieusage(usage, "-k does not go with -s, -t or -u");
		return print_keys(fopt, keys, nk);
	}
	deadline = bg_now_ms() + ms;

	if (uopt != NULL) {
		/* -u: the config is not read at all (SPEC) */
		if (bg_url_parse(uopt, strlen(uopt), &u) < 0)
			bg_die(BG_USAGE, "malformed URL %s: want "
			    "http://HOST[:PORT]/PATH or unix:/path.sock:/PATH",
			    bg_excerpt(uopt, strlen(uopt), 80, ex, sizeof ex));
	} else {
		path = bg_conf_path(fopt);
		bg_conf_load(path, BGK(K_URL) | BGK(K_HOST_HEADER), &c);
		bg_conf_need(&c, BGK(K_URL), path);
		u = c.url;
		host = bg_conf_host(&c);
	}
	if ((rc = bg_live_color(&u, host, deadline, &color, why,
	    sizeof why)) != 0)
		bg_die(rc, "%s", why);
	if (standby)
		color = bg_other(color);
	if (printf("%s\n", bg_color_name(color)) < 0 || fflush(stdout) != 0)
		bg_diesys(BG_SYS, "cannot write the color");
	return BG_OK;
}
