/* msg.c - one message shape: "prog: what was being done: why". */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"

const char *bg_prog = "bg";

void
bg_setprog(const char *argv0)
{
	const char *p;

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
