/* bgswapconf - swap blue and green (or two other words) in a config, in one
 * pass: a filter from stdin or FILEs, read as one stream, to stdout. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "bg.h"

static const char usage[] = "bgswapconf [-a] [-w word1,word2] [file ...]\n"
    "       bgswapconf -V";

#define IN_SIZE  65536
#define OUT_SIZE (2 * IN_SIZE)

static char inbuf[IN_SIZE];
static char outbuf[OUT_SIZE];

static void
put(const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(STDOUT_FILENO, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			bg_diesys(BG_SYS, "cannot write to standard output");
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Swap what fd gives into stdout. 0, or -1 after saying why. */
static int
swap_fd(struct bg_swap *s, int fd, const char *name)
{
	size_t slice, off, k;
	ssize_t r;

	/* a pair whose lengths differ a lot needs thinner input slices */
	slice = bg_swap_inmax(s, OUT_SIZE);
	for (;;) {
		if ((r = read(fd, inbuf, IN_SIZE)) < 0) {
			if (errno == EINTR)
				continue;
			bg_warnsys("cannot read %s", name);
			return -1;
		}
		if (r == 0)
			return 0;
		for (off = 0; off < (size_t)r; off += k) {
			k = (size_t)r - off < slice ? (size_t)r - off : slice;
			put(outbuf, bg_swap_feed(s, inbuf + off, k, outbuf));
		}
	}
}

static int
swap_file(struct bg_swap *s, const char *path)
{
	int fd, rv;

	if (strcmp(path, "-") == 0)
		return swap_fd(s, STDIN_FILENO, "standard input");
	if ((fd = open(path, O_RDONLY | O_NOCTTY)) < 0) {
		bg_warnsys("cannot open %s", path);
		return -1;
	}
	rv = swap_fd(s, fd, path);
	close(fd);
	return rv;
}

int
main(int argc, char **argv)
{
	struct bg_swap s;
	const char *w1 = "blue,green", *comma, *why;
	int all = 0, c, failed = 0, i;

	bg_setprog(argv[0]);
	bg_help(argc, argv, usage);
	while ((c = getopt(argc, argv, "aw:")) != -1) {
		switch (c) {
		case 'a':
			all = 1;
			break;
		case 'w':
			w1 = optarg;
			break;
		default:
			bg_badflag(c, usage);
		}
	}
	argc -= optind;
	argv += optind;

	if ((comma = strchr(w1, ',')) == NULL)
		bg_die(BG_USAGE, "-w %s: want two words, as word1,word2", w1);
	else if (bg_swap_init(&s, w1, (size_t)(comma - w1), comma + 1,
	    strlen(comma + 1), all, &why) < 0)
		bg_die(BG_USAGE, "-w %s: %s", w1, why);
	/* the largest slice must still make progress */
	if (bg_swap_inmax(&s, OUT_SIZE) == 0)
		bg_die(BG_SYS, "output buffer too small");

	if (argc == 0)
		failed = swap_file(&s, "-") < 0;
	for (i = 0; i < argc; i++)
		if (swap_file(&s, argv[i]) < 0)
			failed = 1;
	put(outbuf, bg_swap_end(&s, outbuf));

	if (failed)
		return BG_SYS;
	return s.count > 0 ? BG_OK : BG_NO;
}
