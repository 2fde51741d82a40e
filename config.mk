# bg build settings. Override here, on the command line, or in local.mk.
PREFIX    = /usr/local
MANPREFIX = $(PREFIX)/share/man
CC        = cc
CFLAGS    = -std=c11 -O2 -g -Wall -Wextra -Wshadow -Wstrict-prototypes
CPPFLAGS  = -D_DEFAULT_SOURCE -D_GNU_SOURCE
LDFLAGS   =
# The version: debian/changelog's first line is the one place it is
# written; every tool prints it with -V, the package carries it.
VERSION   = $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog 2>/dev/null)
