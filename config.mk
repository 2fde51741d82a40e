# bg build settings. Override here, on the command line, or in local.mk.
PREFIX    = /usr/local
MANPREFIX = $(PREFIX)/share/man
CC        = cc
CFLAGS    = -std=c11 -O2 -g -Wall -Wextra -Wshadow -Wstrict-prototypes
CPPFLAGS  = -D_DEFAULT_SOURCE -D_GNU_SOURCE
LDFLAGS   =
