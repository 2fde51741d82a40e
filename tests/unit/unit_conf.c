/* unit_conf - drive conf.c (and num.c, color.c) from the tests.
 *
 *   unit_conf [-n KEY,...] [-f FILE] [KEY ...]
 *	Load the config the way the tools do (-f FILE, else $BG_CONF, else
 *	/etc/bg.conf), validating the KEYs given ("all": every key), then
 *	bg_conf_need the -n keys. Prints "file=PATH", one "KEY=VALUE" per
 *	KEY (defaults included) and "set=KEY:LINE,..."; a bad config is
 *	the tools' message on stderr and exit 4.
 *   unit_conf -t
 *	Built-in tables for bg_parse_ulong, bg_parse_secs, bg_color_parse,
 *	bg_color_body and bg_conf_parse on buffers a file cannot easily
 *	hold; prints each failure and "N passed, N failed".
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bg.h"
#include "unit.h"

static const char usage[] = "unit_conf [-n key,...] [-f file] [key ...] | -t";

static void
table_ulong(void)
{
	static const struct {
		const char *s; size_t n; unsigned long max; int ok;
		unsigned long want;
	} t[] = {
		{ S("0"), 10, 1, 0 },
		{ S("7"), 10, 1, 7 },
		{ S("10"), 10, 1, 10 },
		{ S("11"), 10, 0, 0 },		/* over max */
		{ S("007"), 10, 1, 7 },		/* leading zeros are digits */
		{ S(""), 10, 0, 0 },
		{ S("-1"), 10, 0, 0 },
		{ S("+1"), 10, 0, 0 },
		{ S(" 1"), 10, 0, 0 },
		{ S("1 "), 10, 0, 0 },
		{ S("1x"), 10, 0, 0 },
		{ S("0x10"), 100, 0, 0 },
		{ S("1.5"), 10, 0, 0 },
		{ S("18446744073709551615"), ULONG_MAX, 1, ULONG_MAX },
		{ S("18446744073709551616"), ULONG_MAX, 0, 0 },
		{ S("99999999999999999999"), ULONG_MAX, 0, 0 },
		{ S("00000000000000000001"), 10, 1, 1 },	/* 20 digits */
		{ S("000000000000000000001"), 10, 0, 0 },	/* 21 digits */
		{ S("4294967296"), 4294967295UL, 0, 0 },
		{ S("4294967295"), 4294967295UL, 1, 4294967295UL },
		{ "1\0", 2, 10, 0, 0 },
	};
	unsigned long v;
	size_t i;
	int r;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		v = 12345;
		r = bg_parse_ulong(t[i].s, t[i].n, t[i].max, &v);
		check(t[i].ok ? r == 0 && v == t[i].want : r == -1 && v == 12345,
		    "bg_parse_ulong", t[i].s, t[i].n);
	}
}

static void
table_secs(void)
{
	static const struct {
		const char *s; size_t n; int ok; long long want;
	} t[] = {
		{ S("30"), 1, 30000 },
		{ S("1.5"), 1, 1500 },
		{ S("1.25"), 1, 1250 },
		{ S("1.234"), 1, 1234 },
		{ S("0.001"), 1, 1 },
		{ S("030"), 1, 30000 },
		{ S("86400"), 1, 86400000 },
		{ S("86400.0"), 1, 86400000 },
		{ S("86400.001"), 0, 0 },
		{ S("86401"), 0, 0 },
		{ S("0"), 0, 0 },
		{ S("0.0"), 0, 0 },
		{ S("0.000"), 0, 0 },
		{ S("1.2345"), 0, 0 },
		{ S(".5"), 0, 0 },
		{ S("5."), 0, 0 },
		{ S("."), 0, 0 },
		{ S(""), 0, 0 },
		{ S("-1"), 0, 0 },
		{ S("+1"), 0, 0 },
		{ S("1e3"), 0, 0 },
		{ S(" 1"), 0, 0 },
		{ S("1 "), 0, 0 },
		{ S("1..2"), 0, 0 },
		{ S("1.5.2"), 0, 0 },
		{ S("1.-5"), 0, 0 },
		{ S("99999999999999999999"), 0, 0 },
		{ S("18446744073709551616"), 0, 0 },
		{ S("thirty"), 0, 0 },
	};
	long long ms;
	size_t i;
	int r;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		ms = -7;
		r = bg_parse_secs(t[i].s, t[i].n, 86400, &ms);
		check(t[i].ok ? r == 0 && ms == t[i].want : r == -1 && ms == -7,
		    "bg_parse_secs", t[i].s, t[i].n);
	}
}

static void
table_color(void)
{
	static const struct {
		const char *s; size_t n; int parse, body;
	} t[] = {
		{ S("blue"), BG_BLUE, BG_BLUE },
		{ S("green"), BG_GREEN, BG_GREEN },
		{ S("blue\n"), -1, BG_BLUE },
		{ S("green\r\n"), -1, BG_GREEN },
		{ S("blue\n\n"), -1, -1 },
		{ S("blue\r"), -1, -1 },
		{ S("blue\n\r"), -1, -1 },
		{ S("blue \n"), -1, -1 },
		{ S(" blue"), -1, -1 },
		{ S("Blue"), -1, -1 },
		{ S("BLUE"), -1, -1 },
		{ S("blu"), -1, -1 },
		{ S("bluee"), -1, -1 },
		{ S("greenblue"), -1, -1 },
		{ S("cyan"), -1, -1 },
		{ S(""), -1, -1 },
		{ S("\n"), -1, -1 },
		{ S("\r\n"), -1, -1 },
		{ "blue\0", 5, -1, -1 },
		{ "blue\0\n", 6, -1, -1 },
	};
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		check(bg_color_parse(t[i].s, t[i].n) == t[i].parse,
		    "bg_color_parse", t[i].s, t[i].n);
		check(bg_color_body(t[i].s, t[i].n) == t[i].body,
		    "bg_color_body", t[i].s, t[i].n);
	}
	check(bg_color_arg("green") == BG_GREEN, "bg_color_arg", S("green"));
	check(strcmp(bg_color_name(BG_BLUE), "blue") == 0 &&
	    strcmp(bg_color_name(BG_GREEN), "green") == 0 &&
	    bg_other(BG_BLUE) == BG_GREEN, "bg_color_name", S(""));
}

/* Parses that need bytes a shell handles badly, and the "no value in any
 * message" rule over every kind of error. */
static void
table_conf(void)
{
	static const struct {
		const char *s; size_t n; const char *err;
	} t[] = {
		{ S("url = http://127.0.0.1/bg\n"), NULL },
		{ S("hooks = /h\nlog = /l\0ogsecret\n"), "f:2: NUL byte in line" },
		{ S("\0"), "f:1: NUL byte in line" },
		{ S("# \0 in a comment\n"), "f:1: NUL byte in line" },
		{ S("hooks = /h"), NULL },		/* no final newline */
		{ S("\n\n   \n\t\n# x\n  # y = z\n"), NULL },
		{ S("hooks=/a\r\nlog=/b\r\n"), NULL },
		{ S("hooks = /a\rsecret\n"),
		    "f:1: bad value for hooks: expected an absolute path, "
		    "under 1024 bytes, without control characters" },
		{ S("Hooks = /secret\n"), "f:1: unknown key" },
		{ S("hooks\x01secret = /a\n"), "f:1: unknown key" },
		{ S("abcdefghijklmnopqrstuvwxyzabcdefg = x\n"),
		    "f:1: unknown key" },			/* 33 chars */
		{ S("abcdefghijklmnopqrstuvwxyzabcdef = x\n"),
		    "f:1: unknown key \"abcdefghijklmnopqrstuvwxyzabcdef\"" },
		{ S(" = secret\n"), "f:1: no key before '='" },
		{ S("secret\n"), "f:1: no '=' in line" },
		{ S("mode = secret\n"),
		    "f:1: bad value for mode: expected reload, socket or port" },
		{ S("mode = reload\nmode =\n"),
		    "f:2: duplicate key \"mode\" (first set on line 1)" },
		{ S("timeout = 5 secret\n"),
		    "f:1: bad value for timeout: expected seconds, like 30 or "
		    "2.5, more than 0 and at most 86400" },
		{ S("health = /up secret\n"),
		    "f:1: bad value for health: expected a path starting with "
		    "'/', printable ASCII without spaces, under 1024 bytes" },
		{ S("host_header = a\x7fsecret\n"),
		    "f:1: bad value for host_header: expected printable ASCII "
		    "without spaces, under 256 bytes" },
		{ S("staging_url = http://x/\tsecret\n"),
		    "f:1: bad value for staging_url: expected printable ASCII, "
		    "under 1024 bytes" },
	};
	struct bg_conf c;
	char err[300];
	size_t i;
	int r;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		strcpy(err, "untouched");
		r = bg_conf_parse(t[i].s, t[i].n, "f", ~0UL, &c, err, sizeof err);
		if (t[i].err == NULL)
			check(r == 0, "bg_conf_parse accepts", t[i].s, t[i].n);
		else
			check(r == -1 && strcmp(err, t[i].err) == 0 &&
			    strstr(err, "secret") == NULL,
			    t[i].err, t[i].s, t[i].n);
	}
	/* CRLF: the '\r' is not part of the value */
	r = bg_conf_parse(S("hooks = /a \r\n"), "f", ~0UL, &c, err, sizeof err);
	check(r == 0 && strcmp(c.hooks, "/a") == 0, "CRLF value", S("/a"));
	/* a tiny err buffer is still NUL-terminated */
	r = bg_conf_parse(S("x\n"), "f", ~0UL, &c, err, 4);
	check(r == -1 && strcmp(err, "f:1") == 0, "short err buffer", err, 3);
	/* errlen 0 writes nothing */
	strcpy(err, "same");
	r = bg_conf_parse(S("x\n"), "f", ~0UL, &c, err, 0);
	check(r == -1 && strcmp(err, "same") == 0, "errlen 0", S("same"));
}

static void
printkey(const struct bg_conf *c, int k)
{
	char buf[300];
	const char *v = NULL;

	switch (k) {
	case K_MODE:
		v = c->mode == BG_MODE_SOCKET ? "socket" :
		    c->mode == BG_MODE_PORT ? "port" : "reload";
		break;
	case K_LINGER:
		if (c->linger_ms == BG_LINGER_OFF)
			printf("linger=off\n");
		else
			printf("linger=%lld\n", c->linger_ms);
		return;
	case K_LIVE_ADDR:
	case K_STAGING_ADDR:
		v = "";
		if (c->set & BGK(k))
			v = bg_addr_fmt(k == K_LIVE_ADDR ? &c->live_addr :
			    &c->staging_addr, buf, sizeof buf);
		break;
	case K_NFT:		v = c->nft; break;
	case K_NFT_TABLE:	v = c->nft_table; break;
	case K_URL:
		if (c->set & BGK(K_URL))
			printf("url=%s %s\n", bg_addr_fmt(&c->url.addr, buf,
			    sizeof buf), c->url.path);
		else
			printf("url=\n");
		return;
	case K_BLUE:
	case K_GREEN:
		v = "";
		if (c->set & BGK(k))
			v = bg_addr_fmt(&c->addr[k == K_GREEN], buf, sizeof buf);
		break;
	case K_TIMEOUT:
		printf("timeout=%lld\n", c->timeout_ms);
		return;
	case K_HOST_HEADER:	v = c->host_header; break;
	case K_HEALTH:		v = c->health; break;
	case K_HOOKS:		v = c->hooks; break;
	case K_APP:		v = c->app; break;
	case K_LOCK:		v = c->lock; break;
	case K_LOG:		v = c->log; break;
	case K_STAGING_URL:	v = c->staging_url; break;
	case K_NGINX:		v = c->nginx; break;
	case K_NGINX_PREFIX:	v = c->nginx_prefix; break;
	case K_NGINX_CONF:	v = c->nginx_conf; break;
	case K_NGINX_PID:	v = c->nginx_pid; break;
	case K_LIVE_CONF:	v = c->live_conf; break;
	case K_BLUE_CONF:	v = c->color_conf[BG_BLUE]; break;
	case K_GREEN_CONF:	v = c->color_conf[BG_GREEN]; break;
	case K_STATE:		v = c->state; break;
	}
	printf("%s=%s\n", bg_conf_keys[k], v ? v : "(null)");
}

static int
keyindex(const char *s, size_t n)
{
	int k;

	if ((k = bg_conf_key(s, n)) >= 0)
		return k;
	fprintf(stderr, "unit_conf: no key %.*s\n", (int)n, s);
	exit(BG_USAGE);
}

static unsigned long
keylist(const char *s)
{
	unsigned long keys = 0;
	size_t n;

	while (*s != '\0') {
		n = strcspn(s, ",");
		if (n == 3 && strncmp(s, "all", 3) == 0)
			keys |= BGK(K_NKEYS) - 1;
		else if (n > 0)
			keys |= BGK(keyindex(s, n));
		s += n;
		if (*s == ',')
			s++;
	}
	return keys;
}

int
main(int argc, char **argv)
{
	struct bg_conf c;
	const char *file = NULL, *path, *sep = "";
	unsigned long used = 0, need = 0;
	int ch, k, tables = 0;

	bg_setprog(argv[0]);
	bg_help(argc, argv, usage);
	while ((ch = getopt(argc, argv, "f:n:t")) != -1) {
		switch (ch) {
		case 'f':
			file = optarg;
			break;
		case 'n':
			need = keylist(optarg);
			break;
		case 't':
			tables = 1;
			break;
		default:
			bg_badflag(ch, usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (tables) {
		if (argc != 0)
			bg_usage(usage);
		table_ulong();
		table_secs();
		table_color();
		table_conf();
		printf("%d passed, %d failed\n", npass, nfail);
		return nfail ? 1 : 0;
	}
	for (; argc > 0; argc--, argv++)
		used |= keylist(*argv);
	path = bg_conf_path(file);
	bg_conf_load(path, used, &c);
	bg_conf_need(&c, need, path);
	printf("file=%s\n", path);
	for (k = 0; k < K_NKEYS; k++)
		if (used & BGK(k))
			printkey(&c, k);
	printf("set=");
	for (k = 0; k < K_NKEYS; k++)
		if (c.set & BGK(k)) {
			printf("%s%s:%d", sep, bg_conf_keys[k], c.line[k]);
			sep = ",";
		}
	printf("\n");
	return fflush(stdout) == 0 ? 0 : BG_SYS;
}
