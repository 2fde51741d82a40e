/* version.c - bg's version, from debian/changelog (config.mk's VERSION),
 * the one place it is written; the Makefile passes it as BG_VERSION. */
#include "bg.h"

#ifndef BG_VERSION
#define BG_VERSION "unknown"
#endif

const char bg_version[] = BG_VERSION;
