/* color.c - the only two colors there are. */
#include <string.h>
#include <unistd.h>

#include "bg.h"

static const char *const names[2] = { "blue", "green" };

int
bg_color_parse(const char *s, size_t n)
{
	int c;

	for (c = 0; c < 2; c++)
		if (n == strlen(names[c]) && memcmp(s, names[c], n) == 0)
			return c;
	return -1;
}

int
bg_color_body(const char *s, size_t n)
{
	if (n >= 2 && s[n - 2] == '\r' && s[n - 1] == '\n')
		n -= 2;
	else if (n >= 1 && s[n - 1] == '\n')
		n -= 1;
	return bg_color_parse(s, n);
}

int
bg_color_arg(const char *s)
{
	return bg_color_parse(s, strlen(s));
}

const char *
bg_color_name(int c)
{
	return c == BG_GREEN ? names[1] : names[0];
}

int
bg_color_operand(int argc, char **argv, const char *usage)
{
	char ex[200];
	int c;

	if (optind == argc)
		return -1;
	if (argc - optind > 1)
		bg_usage(usage);
	if ((c = bg_color_arg(argv[optind])) < 0)
		bg_dieusage(usage, "not a color: %s (want blue or green)",
		    bg_excerpt(argv[optind], strlen(argv[optind]), 40, ex,
		    sizeof ex));
	return c;
}
