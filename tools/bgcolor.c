/* bgcolor - which color is live: GET nginx's /bg route and print it.
 * Anything but a 200 whose body is exactly a color is an error, said in one
 * line, because a deploy that guesses the live color wrongly overwrites the
 * running production instance. */
#include <stdio.h>
#include <string.h>

#include "bg.h"

#define SECS_MAX	3600	/* -t: longer is a typo, not a wish */
#define SHOW		40	/* body bytes quoted in a message */

static const char usage[] = "bgcolor [-s] [-f conf] [-t secs] [-u url]";

/* The URL as the operator would write it, for messages. */
static const char *
url_str(const struct bg_url *u, char *buf, size_t len)
{
	char a[300];

	bg_addr_fmt(&u->addr, a, sizeof a);
	snprintf(buf, len, "%s%s%s%s", u->addr.is_unix ? "" : "http://", a,
	    u->addr.is_unix ? ":" : "", u->path);
	return buf;
}

/* ' with "body"' and its size when only part of it is quoted. */
static const char *
body_str(const struct bg_reply *r, char *buf, size_t len)
{
	char ex[SHOW * 4 + 8];
	size_t n;

	if (r->bodytotal == 0) {
		snprintf(buf, len, " with an empty body");
		return buf;
	}
	bg_excerpt(r->body, r->bodylen, SHOW, ex, sizeof ex);
	n = (size_t)snprintf(buf, len, " with %s", ex);
	if (r->bodytotal > SHOW && n < len)
		snprintf(buf + n, len - n, " (%zu bytes)", r->bodytotal);
	return buf;
}

int
main(int argc, char **argv)
{
	struct bg_conf c;
	struct bg_url u;
	struct bg_reply r;
	const char *fopt = NULL, *uopt = NULL, *host = NULL, *path;
	char where[1500], body[SHOW * 4 + 64], ex[200];
	long long ms = 2000, deadline;
	int ch, standby = 0, rc, color;

	bg_setprog(argv[0]);
	bg_help(argc, argv, usage);
	while ((ch = getopt(argc, argv, ":f:st:u:")) != -1) {
		switch (ch) {
		case 'f':
			fopt = optarg;
			break;
		case 's':
			standby = 1;
			break;
		case 't':
			if (bg_parse_secs(optarg, strlen(optarg), SECS_MAX,
			    &ms) < 0)
				bg_die(BG_USAGE, "bad -t %s: want seconds, "
				    "0 < secs <= %d, like 2 or 0.5",
				    bg_excerpt(optarg, strlen(optarg), 40, ex,
				    sizeof ex), SECS_MAX);
			break;
		case 'u':
			uopt = optarg;
			break;
		case ':':
			bg_warn("-%c needs a value", optopt);
			bg_usage(usage);
		default:
			bg_warn("unknown flag -%c", optopt);
			bg_usage(usage);
		}
	}
	if (optind != argc)
		bg_usage(usage);
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
		if (c.host_header[0] != '\0')
			host = c.host_header;
	}
	url_str(&u, where, sizeof where);

	rc = bg_http_get(&u.addr, u.path, host, deadline, 0, &r);
	if (rc != 0)
		bg_die(rc, "%s", r.err);
	if (r.status != 200)
		bg_die(BG_SYS, "%s answered %d%s", where, r.status,
		    r.bodytotal > 0 ? body_str(&r, body, sizeof body) : "");
	color = r.bodylen == r.bodytotal ? bg_color_body(r.body, r.bodylen) : -1;
	if (color < 0)
		bg_die(BG_SYS, "%s answered 200%s, not a color", where,
		    body_str(&r, body, sizeof body));
	if (standby)
		color = bg_other(color);
	if (printf("%s\n", bg_color_name(color)) < 0 || fflush(stdout) != 0)
		bg_diesys(BG_SYS, "cannot write the color");
	return BG_OK;
}
