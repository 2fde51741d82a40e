/* conf.c - /etc/bg.conf: "key = value" lines, checked strictly.
 *
 * bgflip runs as root and may be pointed at a file it should not leak, so
 * an error names the file, the line and at most a key name: never a value,
 * and an unknown key only when it looks like one ([a-z_]{1,32}).
 *
 * Where the SPEC is silent:
 * - A line may end in "\r\n": one trailing '\r' is dropped (a file saved by
 *   a Windows editor means the same thing); a '\r' elsewhere is a control
 *   character, refused by every value check.
 * - Blanks are spaces and tabs.
 * - A key that appears twice is a duplicate even when one of the values is
 *   empty: "url =" after "url = ..." is a mistake, not a reset.
 * - A NUL byte anywhere is an error (the file is text).
 * - Paths must be absolute, shorter than BG_PATH_MAX, without control
 *   characters; they are kept as written (no normalisation).
 * - Only the keys in `used` are validated and stored; `set` and `line`
 *   record only those, so a set bit always means "this field came from the
 *   file and passed its check".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bg.h"


/* An nft table name: a letter, then letters, digits and '_'. */
static int
tablename(const char *s, size_t n, char *dst, size_t size)
{
	size_t i;

	if (n == 0 || n > 32 || n >= size ||
	    !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return -1;
	for (i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

const char *const bg_conf_keys[K_NKEYS] = {
	[K_MODE] = "mode", [K_URL] = "url", [K_HOST_HEADER] = "host_header",
	[K_BLUE] = "blue", [K_GREEN] = "green", [K_HEALTH] = "health",
	[K_TIMEOUT] = "timeout", [K_HOOKS] = "hooks", [K_APP] = "app",
	[K_LOCK] = "lock", [K_LOG] = "log", [K_STAGING_URL] = "staging_url",
	[K_NGINX] = "nginx", [K_NGINX_PREFIX] = "nginx_prefix",
	[K_NGINX_CONF] = "nginx_conf", [K_NGINX_PID] = "nginx_pid",
	[K_LIVE_CONF] = "live_conf", [K_BLUE_CONF] = "blue_conf",
	[K_GREEN_CONF] = "green_conf", [K_STATE] = "state",
	[K_LINGER] = "linger", [K_LIVE_ADDR] = "live_addr",
	[K_STAGING_ADDR] = "staging_addr", [K_NFT] = "nft",
	[K_NFT_TABLE] = "nft_table",
};

static int
isblank_(char ch)
{
	return ch == ' ' || ch == '\t';
}

static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && isblank_(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && isblank_((*s)[*n - 1]))
		(*n)--;
}

/* Every byte in [lo, 0x7e]: lo 0x21 forbids spaces, 0x20 allows them. */
static int
printable(const char *s, size_t n, unsigned char lo)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < lo || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/* Absolute, short enough, no control characters; bytes >= 0x80 are fine
 * (a UTF-8 directory name is a legal path). */
static int
abspath(const char *s, size_t n, char *dst)
{
	size_t i;

	if (n == 0 || n >= BG_PATH_MAX || s[0] != '/')
		return -1;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static int
copystr(const char *s, size_t n, char *dst, size_t size)
{
	if (n >= size)
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static char *
pathfield(struct bg_conf *c, int k)
{
	switch (k) {
	case K_HOOKS:		return c->hooks;
	case K_APP:		return c->app;
	case K_LOCK:		return c->lock;
	case K_LOG:		return c->log;
	case K_NGINX:		return c->nginx;
	case K_NGINX_PREFIX:	return c->nginx_prefix;
	case K_NGINX_CONF:	return c->nginx_conf;
	case K_NGINX_PID:	return c->nginx_pid;
	case K_LIVE_CONF:	return c->live_conf;
	case K_BLUE_CONF:	return c->color_conf[BG_BLUE];
	case K_GREEN_CONF:	return c->color_conf[BG_GREEN];
	case K_STATE:		return c->state;
	case K_NFT:		return c->nft;
	}
	return NULL;
}

const char *
bg_conf_pathval(const struct bg_conf *c, int k)
{
	return pathfield((struct bg_conf *)c, k);
}

/* Check and store the value v[0..n) of key k. NULL when good, else what
 * was expected (a fixed string: never the value itself). */
static const char *
setval(struct bg_conf *c, int k, const char *v, size_t n)
{
	int color;

	switch (k) {
	case K_MODE:
		if (n == 6 && memcmp(v, "reload", 6) == 0)
			c->mode = BG_MODE_RELOAD;
		else if (n == 6 && memcmp(v, "socket", 6) == 0)
			c->mode = BG_MODE_SOCKET;
		else if (n == 4 && memcmp(v, "port", 4) == 0)
			c->mode = BG_MODE_PORT;
		else
			return "expected reload, socket or port";
		return NULL;
	case K_LINGER:
		if (n == 3 && memcmp(v, "off", 3) == 0)
			c->linger_ms = BG_LINGER_OFF;
		else if (n == 1 && v[0] == '0')
			c->linger_ms = 0;
		else if (bg_parse_secs(v, n, BG_SECS_MAX, &c->linger_ms) < 0)
			return "expected seconds, like 10 or 2.5, at most "
			    "86400, or off";
		return NULL;
	case K_LIVE_ADDR:
	case K_STAGING_ADDR:
		if (bg_addr_parse(v, n, k == K_LIVE_ADDR ? &c->live_addr :
		    &c->staging_addr) < 0 ||
		    (k == K_LIVE_ADDR ? c->live_addr : c->staging_addr).is_unix)
			return "expected HOST:PORT or [IPv6]:PORT";
		return NULL;
	case K_NFT_TABLE:
		if (tablename(v, n, c->nft_table, sizeof c->nft_table) < 0)
			return "expected a letter, then letters, digits or _, "
			    "at most 32";
		return NULL;
	case K_URL:
		if (bg_url_parse(v, n, &c->url) < 0)
			return "expected http://HOST[:PORT]/PATH or "
			    "unix:/path.sock:/PATH";
		return NULL;
	case K_HOST_HEADER:
		if (!printable(v, n, 0x21) ||
		    copystr(v, n, c->host_header, sizeof c->host_header) < 0)
			return "expected printable ASCII without spaces, "
			    "under 256 bytes";
		return NULL;
	case K_BLUE:
	case K_GREEN:
		color = k == K_BLUE ? BG_BLUE : BG_GREEN;
		if (n > 5 && memcmp(v, "unix:", 5) == 0 && n - 5 > BG_SUN_MAX)
			return "unix socket path longer than 107 bytes";
		if (bg_addr_parse(v, n, &c->addr[color]) < 0)
			return "expected HOST:PORT, [IPv6]:PORT or unix:/path";
		return NULL;
	case K_HEALTH:
		if (n == 0 || v[0] != '/' || !printable(v, n, 0x21) ||
		    copystr(v, n, c->health, sizeof c->health) < 0)
			return "expected a path starting with '/', printable "
			    "ASCII without spaces, under 1024 bytes";
		return NULL;
	case K_TIMEOUT:
		if (bg_parse_secs(v, n, BG_SECS_MAX, &c->timeout_ms) < 0)
			return "expected seconds, like 30 or 2.5, "
			    "more than 0 and at most 86400";
		return NULL;
	case K_STAGING_URL:
		if (!printable(v, n, 0x20) ||
		    copystr(v, n, c->staging_url, sizeof c->staging_url) < 0)
			return "expected printable ASCII, under 1024 bytes";
		return NULL;
	}
	if (abspath(v, n, pathfield(c, k)) < 0)
		return "expected an absolute path, under 1024 bytes, "
		    "without control characters";
	return NULL;
}

static void
defaults(struct bg_conf *c)
{
	memset(c, 0, sizeof *c);
	c->mode = BG_MODE_RELOAD;
	strcpy(c->health, "/up");
	c->timeout_ms = 30 * 1000;
	strcpy(c->app, "/srv/app");
	strcpy(c->lock, "/var/lib/bg/lock");
	strcpy(c->log, "/var/log/bg.log");
	strcpy(c->nginx, "/usr/sbin/nginx");
	strcpy(c->nginx_pid, "/run/nginx.pid");
	strcpy(c->state, "/var/lib/bg");
	c->linger_ms = 10 * 1000;
	strcpy(c->nft, "/usr/sbin/nft");
	strcpy(c->nft_table, "bg");
}

int
bg_conf_key(const char *s, size_t n)
{
	int k;

	for (k = 0; k < K_NKEYS; k++)
		if (strlen(bg_conf_keys[k]) == n &&
		    memcmp(bg_conf_keys[k], s, n) == 0)
			return k;
	return -1;
}

/* Safe to echo: looks like a key, so it cannot carry a secret value. */
static int
keylike(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 32)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
			return 0;
	return 1;
}

int
bg_conf_parse(const char *buf, size_t n, const char *fname,
    unsigned long used, struct bg_conf *c, char *err, size_t errlen)
{
	int seen[K_NKEYS] = { 0 };
	const char *p = buf, *end = buf + n, *eol, *eq, *key, *val, *why;
	size_t len, klen, vlen;
	int lineno = 0, k;

	defaults(c);
	while (p < end) {
		lineno++;
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		len = (size_t)(eol - p);
		key = p;
		p = eol < end ? eol + 1 : end;
		if (memchr(key, '\0', len) != NULL) {
			snprintf(err, errlen, "%s:%d: NUL byte in line",
			    fname, lineno);
			return -1;
		}
		if (len > 0 && key[len - 1] == '\r')
			len--;
		trim(&key, &len);
		if (len == 0 || key[0] == '#')
			continue;
		if ((eq = memchr(key, '=', len)) == NULL) {
			snprintf(err, errlen, "%s:%d: no '=' in line",
			    fname, lineno);
			return -1;
		}
		val = eq + 1;
		vlen = len - (size_t)(val - key);
		klen = (size_t)(eq - key);
		trim(&key, &klen);
		trim(&val, &vlen);
		if (klen == 0) {
			snprintf(err, errlen, "%s:%d: no key before '='",
			    fname, lineno);
			return -1;
		}
		if ((k = bg_conf_key(key, klen)) < 0) {
			if (keylike(key, klen))
				snprintf(err, errlen, "%s:%d: unknown key "
				    "\"%.*s\"", fname, lineno, (int)klen, key);
			else
				snprintf(err, errlen, "%s:%d: unknown key",
				    fname, lineno);
			return -1;
		}
		if (seen[k]) {
			snprintf(err, errlen, "%s:%d: duplicate key \"%s\" "
			    "(first set on line %d)", fname, lineno,
			    bg_conf_keys[k], seen[k]);
			return -1;
		}
		seen[k] = lineno;
		if (vlen == 0 || !(used & BGK(k)))
			continue;
		if ((why = setval(c, k, val, vlen)) != NULL) {
			snprintf(err, errlen, "%s:%d: bad value for %s: %s",
			    fname, lineno, bg_conf_keys[k], why);
			return -1;
		}
		c->set |= BGK(k);
		c->line[k] = lineno;
	}
	return 0;
}

const char *
bg_conf_path(const char *opt)
{
	const char *env;

	if (opt != NULL)
		return opt;
	env = getenv("BG_CONF");
	if (env != NULL && *env != '\0')
		return env;
	return BG_CONF_DEFAULT;
}

void
bg_conf_load(const char *path, unsigned long used, struct bg_conf *c)
{
	/* as root: only a config root's all the way up (SPEC "Trust") */
	bg_conf_load_fd(bg_conf_open(path), path, used, c);
}

void
bg_conf_load_fd(int fd, const char *path, unsigned long used,
    struct bg_conf *c)
{
	static char buf[BG_CONF_MAX + 1];
	char err[BG_PATH_MAX + 200];
	struct stat st;
	size_t n = 0;
	ssize_t r;

	if (fstat(fd, &st) < 0)
		bg_diesys(BG_CONFIG, "cannot stat config %s", path);
	if (!S_ISREG(st.st_mode))
		bg_die(BG_CONFIG, "%s: config is not a regular file", path);
	while (n < sizeof buf) {
		r = read(fd, buf + n, sizeof buf - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			bg_diesys(BG_CONFIG, "cannot read config %s", path);
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n > BG_CONF_MAX)
		bg_die(BG_CONFIG, "%s: config too large (over %d bytes)",
		    path, BG_CONF_MAX);
	if (bg_conf_parse(buf, n, path, used, c, err, sizeof err) < 0)
		bg_die(BG_CONFIG, "%s", err);
}

void
bg_conf_need(const struct bg_conf *c, unsigned long keys, const char *path)
{
	int k;

	for (k = 0; k < K_NKEYS; k++)
		if ((keys & BGK(k)) && !(c->set & BGK(k)))
			bg_die(BG_CONFIG, "%s: missing required key \"%s\"",
			    path, bg_conf_keys[k]);
}

const char *
bg_conf_host(const struct bg_conf *c)
{
	return c->host_header[0] != '\0' ? c->host_header : NULL;
}
