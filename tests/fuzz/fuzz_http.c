/* fuzz_http.c - libFuzzer target for the HTTP reply parser (tools/lib/reply.c).
 *
 *   make build/fuzz/fuzz_http
 *   build/fuzz/fuzz_http -max_total_time=60 tests/fuzz/corpus/http
 *
 * Input: one flag byte (bit 0: eof, bit 1: status_only, bits 2-7: where to
 * cut a prefix, in 64ths of the rest), then the reply bytes. Checks, besides
 * memory safety: the result is -1, 0 or 1; err is empty unless -1, then it
 * is one printable line that fits; a complete reply has a 3-digit status and
 * bodylen <= min(bodytotal, BG_BODY_KEEP); a prefix (bytes still to come)
 * that is already malformed stays malformed, one that is complete stays
 * complete with the same status and body; eof never leaves it undecided. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"

static void
sane(int ret, const struct bg_reply *r)
{
	size_t i, len = strnlen(r->err, sizeof r->err);

	if (ret < -1 || ret > 1 || len == sizeof r->err)
		abort();
	if ((ret == -1) != (len > 0))
		abort();
	for (i = 0; i < len; i++)
		if (r->err[i] < 0x20 || r->err[i] >= 0x7f)
			abort();
	if (ret == 1 && (r->status < 100 || r->status > 599 ||
	    r->bodylen > BG_BODY_KEEP || r->bodylen > r->bodytotal ||
	    (r->bodytotal <= BG_BODY_KEEP && r->bodylen != r->bodytotal)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bg_reply whole, part;
	const char *s = (const char *)data + 1;
	size_t n, cut;
	int eof, status_only, rw, rp;

	if (size < 1)
		return 0;
	eof = data[0] & 1;
	status_only = (data[0] >> 1) & 1;
	n = size - 1;
	cut = n * (data[0] >> 2) / 64;

	rw = bg_http_parse(s, n, eof, status_only, &whole);
	sane(rw, &whole);
	if (eof && rw == 0)
		abort();
	rp = bg_http_parse(s, cut, 0, status_only, &part);
	sane(rp, &part);
	if (rp == -1 && rw != -1)
		abort();
	if (rp == 1 && (rw != 1 || whole.status != part.status ||
	    whole.bodytotal != part.bodytotal ||
	    memcmp(whole.body, part.body, part.bodylen) != 0))
		abort();
	return 0;
}
