# bg - zero-downtime blue/green deploys on one server.
# Build: make. Test: make check. The pipeline targets are further down.

include config.mk
-include local.mk

PROGS   = bgcolor bgdrain bgflip bgstage bgswapconf
TOOLS   = $(PROGS:%=tools/%)
LIBSRC  = $(wildcard tools/lib/*.c)
LIBOBJ  = $(LIBSRC:.c=.o)
LIB     = tools/lib/libbg.a
HDR     = tools/lib/bg.h
# C programs the tests use (fixture app, load client, unit tests): tests/*.c
TESTSRC = $(wildcard tests/*.c)
TESTBIN = $(TESTSRC:.c=)
MAN1    = $(PROGS:%=docs/%.1)
MAN7    = docs/bg.7

all: $(TOOLS) nginx/green.conf

$(LIB): $(LIBOBJ)
	rm -f $@
	$(AR) rcs $@ $(LIBOBJ)

tools/lib/%.o: tools/lib/%.c $(HDR)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

tools/%: tools/%.c $(LIB) $(HDR)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Itools/lib -o $@ $< $(LIB) $(LDFLAGS)

tests/%: tests/%.c $(LIB) $(HDR)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Itools/lib -o $@ $< $(LIB) $(LDFLAGS)

# The seed kept nginx-blue.conf by hand and derived the green one with cp and
# three seds through a placeholder word; bgswapconf does it in one pass.
nginx/green.conf: nginx/blue.conf tools/bgswapconf
	tools/bgswapconf nginx/blue.conf > $@.tmp; st=$$?; \
	    if [ $$st -gt 1 ]; then rm -f $@.tmp; exit $$st; fi; mv $@.tmp $@

tests: $(TESTBIN)

check: all tests
	tests/run

clean:
	rm -f $(TOOLS) $(LIB) $(LIBOBJ) $(TESTBIN) nginx/green.conf

install: all
	mkdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANPREFIX)/man1 $(DESTDIR)$(MANPREFIX)/man7
	for p in $(PROGS); do install -m 755 tools/$$p $(DESTDIR)$(PREFIX)/bin/$$p; done
	for m in $(wildcard $(MAN1)); do install -m 644 $$m $(DESTDIR)$(MANPREFIX)/man1/; done
	for m in $(wildcard $(MAN7)); do install -m 644 $$m $(DESTDIR)$(MANPREFIX)/man7/; done

uninstall:
	for p in $(PROGS); do rm -f $(DESTDIR)$(PREFIX)/bin/$$p $(DESTDIR)$(MANPREFIX)/man1/$$p.1; done
	rm -f $(DESTDIR)$(MANPREFIX)/man7/bg.7

.PHONY: all tests check clean install uninstall
