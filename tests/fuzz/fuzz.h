/* fuzz.h - what the libFuzzer targets in tests/fuzz/ share: the entry
 * point's prototype and the one way a property check fails (abort, which
 * libFuzzer reports with the input). */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void
check(int ok)
{
	if (!ok)
		abort();
}

#endif
