/* msg.c - one message shape: "prog: what was being done: why". */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bg.h"

const char *bg_prog = "bg";

void
bg_setprog(const char *argv0)
{
	const char *p;

	/* First thing every program does: also the place to drop the signal
	 * dispositions a caller (sudo) passed on (SPEC, Trust rule 4). */
	bg_signals_default();
	opterr = 0;	/* getopt names the full path: bg_badflag says it */
	if (argv0 == NULL || *argv0 == '\0')
		return;
	p = strrchr(argv0, '/');
	bg_prog = p ? p + 1 : argv0;
}

static void
vwarn(int err, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", bg_prog);
	vfprintf(stderr, fmt, ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err));
	fputc('\n', stderr);
}

void
bg_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(0, fmt, ap);
	va_end(ap);
}

void
bg_warnsys(const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	va_start(ap, fmt);
	vwarn(err, fmt, ap);
	va_end(ap);
}

void
bg_die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(0, fmt, ap);
	va_end(ap);
	exit(code);
}

void
bg_diesys(int code, const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	va_start(ap, fmt);
	vwarn(err, fmt, ap);
	va_end(ap);
	exit(code);
}

void
bg_help(int argc, char **argv, const char *usage)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			printf("usage: %s\n", usage);
			exit(fflush(stdout) == 0 ? BG_OK : BG_SYS);
		}
		if (strcmp(argv[i], "-V") == 0) {
			printf("%s %s\n", bg_prog, bg_version);
			exit(fflush(stdout) == 0 ? BG_OK : BG_SYS);
		}
	}
}

void
bg_usage(const char *usage)
{
	fprintf(stderr, "usage: %s\n", usage);
	exit(BG_USAGE);
}

void
bg_dieusage(const char *usage, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(0, fmt, ap);
	va_end(ap);
	bg_usage(usage);
}

long long
bg_optsecs(int ch, const char *arg, unsigned long max, const char *usage)
{
	char ex[64];
	long long ms;

	if (bg_parse_secs(arg, strlen(arg), max, &ms) < 0)
		bg_dieusage(usage, "-%c %s: expected seconds, like 30 or 2.5, "
		    "more than 0 and at most %lu", ch,
		    bg_excerpt(arg, strlen(arg), 40, ex, sizeof ex), max);
	return ms;
}

/* 1 when usage shows flag f taking a value: "[-f conf]", "-k key". */
static int
takes_value(const char *usage, int f)
{
	const char *p;

	for (p = usage; (p = strchr(p, '-')) != NULL; p++)
		if (p[1] == f && p[2] == ' ' && (p == usage || p[-1] == ' ' ||
		    p[-1] == '['))
			return 1;
	return 0;
}

void
bg_badflag(int ch, const char *usage)
{
	if (optopt <= 0x20 || optopt >= 0x7f)
		bg_warn("unknown flag -\\x%02x", (unsigned)optopt & 0xff);
	else if (ch == ':' || takes_value(usage, optopt))
		bg_warn("-%c needs a value", optopt);
	else
		bg_warn("unknown flag -%c", optopt);
	bg_usage(usage);
}

static void
put(char *buf, size_t len, size_t *o, const char *s)
{
	while (*s != '\0' && *o + 1 < len)
		buf[(*o)++] = *s++;
	buf[*o] = '\0';
}

const char *
bg_excerpt(const char *s, size_t n, size_t max, char *buf, size_t len)
{
	size_t i, o = 0;
	char e[8];

	if (len == 0)
		return buf;
	put(buf, len, &o, "\"");
	for (i = 0; i < n && i < max; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\n')
			strcpy(e, "\\n");
		else if (ch == '\r')
			strcpy(e, "\\r");
		else if (ch == '\t')
			strcpy(e, "\\t");
		else if (ch == '"' || ch == '\\')
			snprintf(e, sizeof e, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			snprintf(e, sizeof e, "\\x%02x", ch);
		else
			snprintf(e, sizeof e, "%c", ch);
		/* keep room for the closing quote and "..." */
		if (o + strlen(e) + 4 >= len)
			break;
		put(buf, len, &o, e);
	}
	put(buf, len, &o, "\"");
	if (i < n)
		put(buf, len, &o, "...");
	return buf;
}
