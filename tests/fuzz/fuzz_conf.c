/* fuzz_conf.c - libFuzzer target for bg_conf_parse (tools/lib/conf.c).
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_DEFAULT_SOURCE \
 *       -D_GNU_SOURCE -Itools/lib tests/fuzz/fuzz_conf.c tools/lib/conf.c \
 *       tools/lib/addr.c tools/lib/num.c tools/lib/msg.c -o fuzz_conf
 *   ./fuzz_conf -max_total_time=60 tests/fuzz/corpus/conf
 *
 * The input is parsed validating every key, and validating none. Checks,
 * besides memory safety: an error is one of the fixed message shapes
 * ("f:LINE: what", naming at most a key: never any other text of the
 * input, since bgflip runs as root); validating fewer keys never turns an
 * error into a success the other way round; whatever is accepted is sane
 * (paths absolute without control bytes, strings terminated, numbers in
 * range, lines within the file, unvalidated keys left at their defaults). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"

/* The "why" of "bad value for KEY: why", as conf.c words it. */
static const char *const whys[] = {
	"expected reload, socket or port",
	"expected seconds, like 10 or 2.5, at most 86400, or off",
	"expected HOST:PORT or [IPv6]:PORT",
	"expected a letter, then letters, digits or _, at most 32",
	"expected http://HOST[:PORT]/PATH or unix:/path.sock:/PATH",
	"expected printable ASCII without spaces, under 256 bytes",
	"unix socket path longer than 107 bytes",
	"expected HOST:PORT, [IPv6]:PORT or unix:/path",
	"expected a path starting with '/', printable ASCII without spaces, "
	    "under 1024 bytes",
	"expected seconds, like 30 or 2.5, more than 0 and at most 86400",
	"expected printable ASCII, under 1024 bytes",
	"expected an absolute path, under 1024 bytes, without control "
	    "characters",
};

static int
eat(const char **s, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*s, lit, n) != 0)
		return 0;
	*s += n;
	return 1;
}

static int
eatnum(const char **s, int *v)
{
	char *end;
	long l = strtol(*s, &end, 10);

	if (end == *s || l < 1 || l > 100000)
		return 0;
	*v = (int)l;
	*s = end;
	return 1;
}

static int
eatkey(const char **s)
{
	const char *t;
	int k;

	for (k = 0; k < K_NKEYS; k++) {
		t = *s;
		if (eat(&t, bg_conf_keys[k]) && (*t == '"' || *t == ':')) {
			*s = t;
			return 1;
		}
	}
	return 0;
}

static void
check_err(const char *err)
{
	const char *s = err;
	size_t i, n;
	int line, first;

	if (!eat(&s, "f:") || !eatnum(&s, &line) || !eat(&s, ": "))
		abort();
	if (strcmp(s, "NUL byte in line") == 0 ||
	    strcmp(s, "no '=' in line") == 0 ||
	    strcmp(s, "no key before '='") == 0 ||
	    strcmp(s, "unknown key") == 0)
		return;
	if (eat(&s, "unknown key \"")) {
		for (n = 0; (s[n] >= 'a' && s[n] <= 'z') || s[n] == '_'; n++)
			;
		if (n < 1 || n > 32 || strcmp(s + n, "\"") != 0)
			abort();
		return;
	}
	if (eat(&s, "duplicate key \"")) {
		if (!eatkey(&s) || !eat(&s, "\" (first set on line ") ||
		    !eatnum(&s, &first) || first >= line || strcmp(s, ")") != 0)
			abort();
		return;
	}
	if (eat(&s, "bad value for ") && eatkey(&s) && eat(&s, ": "))
		for (i = 0; i < sizeof whys / sizeof whys[0]; i++)
			if (strcmp(s, whys[i]) == 0)
				return;
	abort();
}

static void
check_path(const char *p, size_t size, int may_be_empty)
{
	size_t i, n = strnlen(p, size);

	if (n == size || (n == 0 && !may_be_empty) || (n > 0 && p[0] != '/'))
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			abort();
}

static void
check_conf(const struct bg_conf *c, unsigned long used, int nlines)
{
	int k;

	if ((c->set & ~used) != 0 || (c->mode != BG_MODE_RELOAD &&
	    c->mode != BG_MODE_SOCKET && c->mode != BG_MODE_PORT))
		abort();
	for (k = 0; k < K_NKEYS; k++)
		if ((c->set & BGK(k)) ? c->line[k] < 1 || c->line[k] > nlines
		    : c->line[k] != 0)
			abort();
	if (c->timeout_ms < 1 || c->timeout_ms > 86400000LL)
		abort();
	if (c->health[0] != '/' || strnlen(c->health, sizeof c->health) ==
	    sizeof c->health || strchr(c->health, ' ') != NULL)
		abort();
	if (strnlen(c->host_header, sizeof c->host_header) ==
	    sizeof c->host_header || strnlen(c->staging_url,
	    sizeof c->staging_url) == sizeof c->staging_url)
		abort();
	check_path(c->hooks, sizeof c->hooks, 1);
	check_path(c->app, sizeof c->app, 0);
	check_path(c->lock, sizeof c->lock, 0);
	check_path(c->log, sizeof c->log, 0);
	check_path(c->nginx, sizeof c->nginx, 0);
	check_path(c->nginx_prefix, sizeof c->nginx_prefix, 1);
	check_path(c->nginx_conf, sizeof c->nginx_conf, 1);
	check_path(c->nginx_pid, sizeof c->nginx_pid, 0);
	check_path(c->live_conf, sizeof c->live_conf, 1);
	check_path(c->color_conf[0], sizeof c->color_conf[0], 1);
	check_path(c->color_conf[1], sizeof c->color_conf[1], 1);
	check_path(c->state, sizeof c->state, 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bg_conf all, none, def;
	const char *s = (const char *)data;
	char err_all[300], err_none[300];
	int r_all, r_none, nlines = 1;
	size_t i;

	for (i = 0; i < size; i++)
		if (s[i] == '\n' && i + 1 < size)
			nlines++;
	r_all = bg_conf_parse(s, size, "f", BGK(K_NKEYS) - 1, &all, err_all,
	    sizeof err_all);
	r_none = bg_conf_parse(s, size, "f", 0, &none, err_none,
	    sizeof err_none);
	if ((r_all != 0 && r_all != -1) || (r_none != 0 && r_none != -1))
		abort();
	if (r_none < 0 && r_all == 0)
		abort();
	if (r_all < 0)
		check_err(err_all);
	else
		check_conf(&all, BGK(K_NKEYS) - 1, nlines);
	if (r_none < 0) {
		check_err(err_none);
		return 0;
	}
	/* validating nothing stores nothing: the defaults, untouched */
	check_conf(&none, 0, nlines);
	if (bg_conf_parse("", 0, "f", 0, &def, err_none, sizeof err_none) != 0 ||
	    memcmp(&def, &none, sizeof def) != 0)
		abort();
	return 0;
}
