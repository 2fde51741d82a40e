/* fuzz_flip.c - libFuzzer target for the small parsers bgflip runs as root
 * over files others can write or forge: the nginx pid file and
 * /proc/PID/stat (tools/lib/nginx.c), the crash record (record.c), the
 * history fields such as REVISION (history.c), and the excerpt that puts
 * untrusted bytes into a message (msg.c).
 *
 *   make build/fuzz/fuzz_flip
 *   build/fuzz/fuzz_flip -max_total_time=60 tests/fuzz/corpus/flip
 *
 * Input: two header bytes (the output size and the byte cap given to
 * bg_field_clean and bg_excerpt), then the text every parser gets.
 * Checks, besides memory safety: a pid is 2..4194304 and came from digits
 * and at most one trailing newline; a ppid is what follows the last ')'
 * and the state; an accepted record printed back the way bg_record_write
 * prints it is the input byte for byte; a cleaned field is a terminated
 * run of printable non-space bytes taken in order from the first line, no
 * longer than asked; an excerpt is terminated, fits, is printable, and
 * unescaped is a prefix of the input; a history line bg_history_ok
 * accepts is five graphic fields, four spaces and at most a final
 * newline, and every line bg_history_line writes is accepted. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"
#include "fuzz.h"

static void
fuzz_pidfile(const char *s, size_t n)
{
	pid_t pid = 0;
	size_t i, d = n;

	if (bg_pidfile_parse(s, n, &pid) < 0)
		return;
	check(pid >= 2 && pid <= 4194304);
	if (d > 0 && s[d - 1] == '\n')
		d--;
	check(d > 0);
	for (i = 0; i < d; i++)
		check(s[i] >= '0' && s[i] <= '9');
}

static void
fuzz_stat(const char *s, size_t n)
{
	const char *p = NULL;
	char buf[64];
	long ppid = bg_proc_stat_ppid(s, n);
	size_t i, k;

	check(ppid >= -1);
	if (ppid < 0)
		return;
	for (i = n; i > 0 && p == NULL; i--)
		if (s[i - 1] == ')')
			p = s + i;
	check(p != NULL && (size_t)(s + n - p) >= 5 && p[0] == ' ' &&
	    p[2] == ' ');
	/* the field after the state is the ppid in decimal, maybe with
	 * leading zeros */
	p += 3;
	for (k = 0; p + k < s + n && p[k] != ' '; k++)
		;
	while (k > 1 && p[0] == '0') {
		p++;
		k--;
	}
	check(k == (size_t)snprintf(buf, sizeof buf, "%ld", ppid) &&
	    memcmp(p, buf, k) == 0);
}

static void
fuzz_record(const char *s, size_t n)
{
	struct bg_record r;
	char buf[512];
	int k;

	memset(&r, 0, sizeof r);
	if (bg_record_parse(s, n, &r) < 0)
		return;
	check(r.mode == BG_MODE_RELOAD || r.mode == BG_MODE_SOCKET ||
	    r.mode == BG_MODE_PORT);
	check(r.from >= -1 && r.from <= 1 && r.to >= 0 && r.to <= 1 &&
	    r.from != r.to);
	check(strnlen(r.line, sizeof r.line) < sizeof r.line);
	/* what bg_record_write writes */
	k = snprintf(buf, sizeof buf, "bgflip %s %s %s\n%s\n",
	    r.mode == BG_MODE_PORT ? "port" :
	    r.mode == BG_MODE_SOCKET ? "socket" : "reload",
	    r.from < 0 ? "-" : bg_color_name(r.from), bg_color_name(r.to),
	    r.line);
	check(k > 0 && (size_t)k == n && memcmp(buf, s, n) == 0);
}

static void
fuzz_field(const char *s, size_t n, size_t len, size_t max)
{
	char *out = malloc(len > 0 ? len : 1);
	size_t o, i, j;

	if (out == NULL)
		return;
	o = bg_field_clean(s, n, out, len, max);
	check(o <= max);
	if (len == 0) {
		check(o == 0);
		free(out);
		return;
	}
	check(o < len && out[o] == '\0');
	/* in order, from the first line only, nothing but graphic ASCII */
	for (i = 0, j = 0; i < o; i++, j++) {
		check(out[i] > 0x20 && out[i] < 0x7f);
		while (j < n && s[j] != '\n' && s[j] != out[i])
			j++;
		check(j < n && s[j] == out[i]);
	}
	free(out);
}

static void
fuzz_history(const char *s, size_t n)
{
	char line[256], user[40], rev[80];
	size_t i, spaces = 0;
	int from = n % 3 == 2 ? -1 : (int)(n % 2);

	if (bg_history_ok(s, n)) {
		for (i = 0; i < n; i++) {
			if (s[i] == ' ')
				spaces++;
			else if (s[i] == '\n')
				check(i == n - 1);
			else
				check(s[i] > 0x20 && s[i] < 0x7f);
		}
		check(spaces == 4);
	}
	bg_field_clean(s, n, user, sizeof user, 32);
	bg_field_clean(s, n, rev, sizeof rev, 64);
	if (user[0] == '\0' || rev[0] == '\0')
		return;
	if (bg_history_line(line, sizeof line, (time_t)(n % 40000) * 86400,
	    from, from < 0 ? (int)(n % 2) : 1 - from, user, rev) == 0)
		check(bg_history_ok(line, strlen(line)));
}

static void
fuzz_excerpt(const char *s, size_t n, size_t len, size_t max)
{
	char *buf = malloc(len > 0 ? len : 1);
	size_t i, k = 0, o;

	if (buf == NULL)
		return;
	check(bg_excerpt(s, n, max, buf, len) == buf);
	if (len == 0) {
		free(buf);
		return;
	}
	o = strnlen(buf, len);
	check(o < len);
	for (i = 0; i < o; i++)
		check(buf[i] >= 0x20 && buf[i] < 0x7f);
	/* unescape what is between the quotes: a prefix of s, within max */
	if (o < 2 || buf[0] != '"') {
		free(buf);
		return;
	}
	for (i = 1; i < o && buf[i] != '"'; k++) {
		char want;

		check(k < n && k < max);
		if (buf[i] != '\\') {
			want = buf[i++];
		} else {
			check(i + 1 < o);
			switch (buf[i + 1]) {
			case 'n': want = '\n'; i += 2; break;
			case 'r': want = '\r'; i += 2; break;
			case 't': want = '\t'; i += 2; break;
			case '"': want = '"'; i += 2; break;
			case '\\': want = '\\'; i += 2; break;
			case 'x':
				/* lower-case hex digits only, as printed */
				check(i + 3 < o &&
				    strchr("0123456789abcdef", buf[i + 2]) &&
				    strchr("0123456789abcdef", buf[i + 3]) &&
				    buf[i + 2] && buf[i + 3]);
				want = (char)(bg_hexdigit(buf[i + 2]) << 4 |
				    bg_hexdigit(buf[i + 3]));
				i += 4;
				break;
			default:
				check(0);
				return;
			}
		}
		check(s[k] == want);
	}
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s;
	size_t n, len, max;

	if (size < 2)
		return 0;
	len = data[0];
	max = data[1];
	s = (const char *)data + 2;
	n = size - 2;
	fuzz_pidfile(s, n);
	fuzz_stat(s, n);
	fuzz_record(s, n);
	fuzz_field(s, n, len, max);
	fuzz_history(s, n);
	fuzz_excerpt(s, n, len, max);
	return 0;
}
