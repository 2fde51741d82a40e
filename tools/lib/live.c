/* live.c - which color is live: what nginx's /bg route answers on a fresh
 * connection. The one question bgcolor, bgdrain, bgstage and bgflip ask;
 * anything but a 200 whose whole body is a color is a failure, said in
 * why, because a deploy that guesses the live color wrongly overwrites the
 * running production instance. */
#include <stdio.h>

#include "bg.h"

#define SHOW 40		/* body bytes quoted in why */

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
bg_live_color(const struct bg_url *u, const char *host, long long deadline,
    int *color, char *why, size_t len)
{
	struct bg_reply r;
	char where[1500], body[SHOW * 4 + 64];
	int rc;

	rc = bg_http_get(&u->addr, u->path, host, deadline, 0, &r);
	if (rc != 0) {
		snprintf(why, len, "%s", r.err);
		return rc;
	}
	bg_url_fmt(&u->addr, u->path, where, sizeof where);
	if (r.status != 200) {
		snprintf(why, len, "%s answered %d%s", where, r.status,
		    r.bodytotal > 0 ? body_str(&r, body, sizeof body) : "");
		return BG_SYS;
	}
	*color = r.bodylen == r.bodytotal ? bg_color_body(r.body, r.bodylen) :
	    -1;
	if (*color < 0) {
		snprintf(why, len, "%s answered 200%s, not a color", where,
		    body_str(&r, body, sizeof body));
		return BG_SYS;
	}
	return 0;
}
