# bg - zero-downtime blue/green deploys on one server.
# Read top to bottom: settings, build and tests, the pipeline targets
# (deploy, switch, rollback, status, history, init, demo), the checks
# beyond the suite. Build: make. Test: make check.

include config.mk
-include local.mk

# --- settings ---
# The pipeline's settings: on the command line or in local.mk; see
# docs/operations.md.

HOST        ?= local
# several servers: HOSTS="a b c" (then HOST is set for each in turn);
# make switch and rollback go PARALLEL servers at a time, and record the
# servers a switch switched in ROLLOUT, for make rollback.
HOSTS       ?=
PARALLEL    ?= 1
ROLLOUT     ?= .bg-rollout
SSH_OPTS    ?=
APP_SRC     ?= demo/app
APP         ?= /srv/app
BG_CONF     ?= /etc/bg.conf
BG_BIN      ?= /usr/bin
# the step scripts on the server (make install, and the package, put them in
# PREFIX/share/bg/pipeline); HOST=local: this tree's
BG_LIB      ?= $(if $(filter local,$(HOST)),$(CURDIR)/pipeline,$(dir $(BG_BIN:%/=%))share/bg/pipeline)
# root needs no sudo: HOST=root@server, or HOST=local run as root
SUDO        ?= $(if $(filter root@% local:0,$(HOST) $(HOST):$(shell id -u)),,sudo)
DRY_RUN     ?=
# empty: the install hook runs on a color's first deploy; 1 always, 0 never
INSTALL     ?=
MIGRATE     ?=
FORCE       ?=
# what make deploy writes to APP/COLOR/REVISION; empty: the git commit of
# APP_SRC, else a timestamp
REVISION    ?=
# what deploy never ships nor deletes (.env, uploads, databases, logs)
RSYNC_FILTER ?= pipeline/rsync.filter
RSYNC_OPTS  ?=
# run here before anything else; failing, it stops the deploy
PRE_DEPLOY  ?= hooks/pre-deploy
# make init: the package it installs (empty: make deb here), or
# BUILD_ON_SERVER=1 to ship the source and build it there (REMOTE_SRC,
# relative to the remote user's home; HOST=local builds here); the hooks
# it installs, exactly, into HOOKS (root's, outside APP); the deploy user
# (required, not root); Debian's nginx layout; the nginx template
# placeholders; supervision (SYSTEMD=1: the unit; SOCKET_DIR: the socket
# directory and its tmpfiles.d entry). See docs/operations.md.
PACKAGE     ?=
BUILD_ON_SERVER ?=
REMOTE_SRC  ?= bg-src
HOOKS_SRC   ?= hooks
DEPLOY_USER ?=
MAN_DIR     ?= $(dir $(BG_BIN:%/=%))share/man
DEB_SITE    = /etc/nginx/sites-available/bg
LIVE_CONF   ?= $(DEB_SITE)
BLUE_CONF   ?= $(if $(filter reload,$(or $(MODE),reload)),/etc/nginx/bg/blue.conf)
GREEN_CONF  ?= $(if $(filter reload,$(or $(MODE),reload)),/etc/nginx/bg/green.conf)
UPSTREAMS_CONF ?= $(if $(filter $(DEB_SITE),$(LIVE_CONF)),/etc/nginx/conf.d/bg-upstreams.conf,$(dir $(LIVE_CONF))bg-upstreams.conf)
SITE_LINK   ?= $(if $(filter $(DEB_SITE),$(LIVE_CONF)),/etc/nginx/sites-enabled/bg)
ALLOW_DEFAULT_SITE ?=
LISTEN      ?= 80
STAGING_LISTEN ?= 127.0.0.1:8081
SERVER_NAME ?= _
# what a real app needs from the templates (nginx/fill says more): TLS with
# HTTP/2 on TLS_LISTEN when both TLS_CERT and TLS_KEY are set (plain HTTP
# then redirects there), how long a quiet WebSocket or stream stays open,
# certbot's webroot, who besides loopback may ask /bg, and the directory of
# the app's own nginx files (*.conf, never written by bg)
TLS_CERT    ?=
TLS_KEY     ?=
TLS_LISTEN  ?= 443
IDLE_TIMEOUT ?= 3600s
ACME_ROOT   ?= /var/www/letsencrypt
BG_ALLOW    ?=
APP_NGINX   ?= /etc/bg/nginx.d
HOOKS       ?= /etc/bg/hooks
SYSTEMD     ?=
SERVICE     ?= app
APP_EXEC    ?=
ENV_DIR     ?= /etc/bg/env
SYSTEMD_DIR ?= /etc/systemd/system
SOCKET_DIR  ?=
SOCKET_GROUP ?= www-data
TMPFILES_DIR ?= /etc/tmpfiles.d
SANDBOX     ?=

# The config keys make init writes, as VARIABLE=key. Only variables given
# on the command line or in a makefile count: an environment that happens
# to hold URL or TIMEOUT must not end up in /etc/bg.conf.
BG_KEYS = MODE=mode URL=url HOST_HEADER=host_header BLUE=blue GREEN=green \
	HEALTH=health TIMEOUT=timeout HOOKS=hooks LOCK=lock LOG=log \
	STATE=state NGINX=nginx NGINX_PREFIX=nginx_prefix \
	NGINX_CONF=nginx_conf NGINX_PID=nginx_pid LIVE_CONF=live_conf \
	BLUE_CONF=blue_conf GREEN_CONF=green_conf STAGING_URL=staging_url \
	LIVE_ADDR=live_addr STAGING_ADDR=staging_addr NFT=nft NFT_TABLE=nft_table \
	LINGER=linger
bg_var  = $(word 1,$(subst =, ,$(1)))
bg_set  = $(and $(filter command file override,$(firstword $(origin $(1)))),$(strip $($(1))))
# quote $(1) for the shell
shq     = '$(subst ','\'',$(1))'
yes     = $(filter-out 0 no false,$(1))

INIT_CONF = $(call shq,app = $(APP)) $(foreach k,$(BG_KEYS),$(if \
	$(call bg_set,$(call bg_var,$(k))),$(call shq,$(word 2,$(subst =, ,$(k))) = $($(call bg_var,$(k))))))
INIT_VARS = $(foreach v,conf=$(BG_CONF) bin=$(BG_BIN) mandir=$(MAN_DIR) \
	user=$(DEPLOY_USER) upstreams=$(UPSTREAMS_CONF) site_link=$(SITE_LINK) \
	socket_dir=$(SOCKET_DIR) socket_group=$(SOCKET_GROUP) \
	systemd=$(call yes,$(SYSTEMD)) service=$(SERVICE) env_dir=$(ENV_DIR) \
	unit_dir=$(SYSTEMD_DIR) tmpfiles_dir=$(TMPFILES_DIR) app_exec=$(APP_EXEC) \
	allow_default_site=$(call yes,$(ALLOW_DEFAULT_SITE)) sandbox=$(call yes,$(SANDBOX)) \
	pkg=$(if $(INIT_PKG),1,0),$(call shq,$(v))) \
	$(foreach v,$(INIT_PLACEHOLDERS) TLS_CERT TLS_KEY TLS_LISTEN IDLE_TIMEOUT ACME_ROOT BG_ALLOW APP_NGINX,$(call shq,$(v)=$($(v)))) \
	$(call shq,STATE=$(or $(STATE),/var/lib/bg))
# the template placeholders make init fills (pipeline/init.sh's render):
# @NAME@ for each NAME here (the server adds USER and GROUP)
INIT_PLACEHOLDERS = LISTEN STAGING_LISTEN SERVER_NAME BLUE GREEN LIVE_ADDR \
	STAGING_ADDR SERVICE APP APP_EXEC ENV_DIR SOCKET_DIR SOCKET_GROUP

# --- build ---
PROGS   = bgcolor bgdrain bgflip bgstage bgswapconf
TOOLS   = $(PROGS:%=tools/%)
LIBSRC  = $(wildcard tools/lib/*.c)
LIBOBJ  = $(LIBSRC:.c=.o)
LIB     = tools/lib/libbg.a
HDR     = tools/lib/bg.h
# C programs the tests use: fixture app, load client and the like in
# tests/bin, the table-driven unit tests in tests/unit
TESTSRC = $(wildcard tests/bin/*.c tests/unit/*.c)
TESTBIN = $(TESTSRC:.c=)
MAN1    = $(PROGS:%=docs/%.1)
MAN7    = docs/bg.7

all: $(TOOLS) nginx/green.conf nginx/socket.conf nginx/port.conf

$(LIB): $(LIBOBJ)
	rm -f $@
	$(AR) rcs $@ $(LIBOBJ)

tools/lib/%.o: tools/lib/%.c $(HDR)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# the version: config.mk's VERSION, from debian/changelog
tools/lib/version.o: tools/lib/version.c $(HDR) $(wildcard debian/changelog)
	$(CC) $(CPPFLAGS) -DBG_VERSION='"$(VERSION)"' $(CFLAGS) -c -o $@ $<

tools/%: tools/%.c $(LIB) $(HDR)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Itools/lib -o $@ $< $(LIB) $(LDFLAGS)

tests/%: tests/%.c $(LIB) $(HDR)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Itools/lib -o $@ $< $(LIB) $(LDFLAGS)

# the unit drivers' shared pass/fail counting
tests/unit/unit_conf tests/unit/unit_proc: tests/unit/unit.h
# the reference swap unit_swapref and fuzz_swap compare swap.c with
tests/unit/unit_swapref build/fuzz/fuzz_swap: tests/unit/swapref.h
tests/bin/bgapp tests/bin/bgws: tests/bin/ws.h

# The seed kept nginx-blue.conf by hand and derived the green one with cp and
# three seds through a placeholder word; bgswapconf does it in one pass.
nginx/green.conf: nginx/blue.conf tools/bgswapconf
	tools/bgswapconf nginx/blue.conf > $@.tmp; st=$$?; \
	    if [ $$st -gt 1 ]; then rm -f $@.tmp; exit $$st; fi; mv $@.tmp $@

# Socket and port mode: the same source, other instance addresses and /bg
# from STATE/current/color (nginx/fill -d). nginx/fill fills them all in.
nginx/socket.conf nginx/port.conf: nginx/blue.conf nginx/fill
	sh nginx/fill -d $(basename $(notdir $@)) nginx/blue.conf > $@.tmp && mv $@.tmp $@

tests: $(TESTBIN)

check: all tests
	tests/run

clean:
	rm -f $(TOOLS) $(LIB) $(LIBOBJ) $(TESTBIN) nginx/green.conf nginx/socket.conf nginx/port.conf

# what make init installs on a server from, under PREFIX/share/bg: the
# templates (socket.conf and port.conf built), hooks, the step scripts
SHARE_DIRS = nginx hooks pipeline systemd

install: all
	mkdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANPREFIX)/man1 $(DESTDIR)$(MANPREFIX)/man7
	for p in $(PROGS); do install -m 755 tools/$$p $(DESTDIR)$(PREFIX)/bin/$$p; done
	for m in $(wildcard $(MAN1)); do install -m 644 $$m $(DESTDIR)$(MANPREFIX)/man1/; done
	for m in $(wildcard $(MAN7)); do install -m 644 $$m $(DESTDIR)$(MANPREFIX)/man7/; done
	rm -rf $(DESTDIR)$(PREFIX)/share/bg && mkdir -p $(DESTDIR)$(PREFIX)/share/bg
	tar -cf - $(SHARE_DIRS) | tar -xf - --no-same-owner -C $(DESTDIR)$(PREFIX)/share/bg

uninstall:
	for p in $(PROGS); do rm -f $(DESTDIR)$(PREFIX)/bin/$$p $(DESTDIR)$(MANPREFIX)/man1/$$p.1; done
	rm -f $(DESTDIR)$(MANPREFIX)/man7/bg.7
	rm -rf $(DESTDIR)$(PREFIX)/share/bg

# make deb: the package, built in a clean copy of the tree under
# DEB_DIR (never in the repository's parent); the .deb lands in DEB_DIR.
# SOURCE_DATE_EPOCH comes from debian/changelog, so two builds give the
# same bytes.
DEB_DIR = build/deb
DEB     = $(DEB_DIR)/bg_$(VERSION)_$(shell dpkg --print-architecture 2>/dev/null).deb
deb:
	@command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null || \
	    { echo "make deb: needs dpkg-dev and debhelper (apt-get install dpkg-dev debhelper)" >&2; exit 2; }
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/bg-$(VERSION)
	{ git ls-files -z -c -o --exclude-standard 2>/dev/null || \
	    find Makefile config.mk README.md debian docs hooks nginx pipeline systemd tools -type f -print0; } | \
	    grep -zv '^build/' | tar --null -T - -cf - | tar -xf - -C $(DEB_DIR)/bg-$(VERSION)
	cd $(DEB_DIR)/bg-$(VERSION) && dpkg-buildpackage -b -us -uc >../build.log 2>&1 || \
	    { tail -n 30 ../build.log >&2; exit 1; }
	@echo $(DEB)

.PHONY: all tests check clean install uninstall deb

# --- bench ---
# make bench: not a test but a report. Requests lost, throughput and flip
# time under load for steady, the seed's cp + reload, bgflip in reload and
# in socket mode (bgload and wrk, against real nginx), each tool's start time
# and memory, bgswapconf against sed, bgdrain's poll cost. Markdown on stdout
# and in build/bench/results.md; BENCH_SECS, BENCH_CONNS, BENCH_EVERY_MS,
# BENCH_RUNS, BENCH_SKIP tune it (tests/bench/run).
bench: all tests
	@tests/bench/run

.PHONY: bench
# --- end bench ---

# --- pipeline ---
# make deploy, switch, rollback, status, history, init, and demo. Each
# step runs one script on the server (pipeline/*.sh, from BG_LIB there; the
# table of its exit statuses is in its header); pipeline/lib.sh only knows
# how to reach the server, over ONE ssh connection per make run. With
# HOSTS set, pipeline/fleet.sh runs the one-server target on each.

PIPE = set -e; target=$@ host=$(call shq,$(HOST)) ssh_opts=$(call shq,$(SSH_OPTS)) \
	lib=$(call shq,$(BG_LIB)) app=$(call shq,$(APP)) conf=$(call shq,$(BG_CONF)); \
	. pipeline/lib.sh
FLEET = $(if $(strip $(HOSTS)),exec env MAKE=$(call shq,$(MAKE)) \
	PARALLEL=$(call shq,$(PARALLEL)) REVISION=$(call shq,$(REVISION)) \
	ROLLOUT=$(call shq,$(ROLLOUT)) PRE_DEPLOY=$(call shq,$(PRE_DEPLOY)) \
	DRY_RUN=$(DRY) APP_SRC=$(call shq,$(APP_SRC)) \
	sh pipeline/fleet.sh $@ $(HOSTS);)
# the arguments every step script starts with
SRV   = $(call shq,$(APP)) $(call shq,$(BG_CONF)) $(call shq,$(BG_BIN))
DRY   = $(if $(call yes,$(DRY_RUN)),1,0)
FORCED = $(if $(call yes,$(FORCE)),1,0)

# make deploy: hooks/pre-deploy here; the standby, the deploy lock and the
# being-staged mark (deploy-begin.sh, which holds the lock until this
# recipe ends); the copy; REVISION, bgstage and the staged note
# (stage.sh). A failure after the mark leaves it, so a half-copied standby
# cannot be switched to; deploying again repairs it.
deploy:
	@$(FLEET) $(PIPE); \
	bg_deploy_init $(call shq,$(APP_SRC)) $(call shq,$(REVISION)); \
	bg_pre_deploy $(call shq,$(PRE_DEPLOY)) $(DRY) $(call shq,$(APP_SRC)); \
	bg_begin $(SRV) $(DRY) "$$stamp"; \
	bg_copy $(call shq,$(APP_SRC)) $(call shq,$(RSYNC_FILTER)) $(DRY) $(RSYNC_OPTS); \
	bg_server -t stage.sh $(SRV) "$$color" "$$rev" "$$stamp" $(DRY) \
	    $(if $(INSTALL),$(if $(call yes,$(INSTALL)),1,0),auto) $(if $(call yes,$(MIGRATE)),1,0) || exit; \
	bg_end $(DRY)

# make switch: bgflip, then the old color's drain (switch.sh).
switch:
	@$(FLEET) $(PIPE); \
	bg_server -t switch.sh switch $(SRV) $(call shq,$(SUDO)) $(FORCED)

# make rollback: back to the standby only if it still runs what was live
# before the last switch (rollback-check.sh; FORCE=1 overrides that and
# bgflip's health check), then the same flip and drain.
rollback:
	@$(FLEET) $(PIPE); \
	to=$$(bg_server rollback-check.sh $(SRV) $(FORCED)) || exit; \
	bg_server -t switch.sh rollback $(SRV) $(call shq,$(SUDO)) $(FORCED) "$$to"

status:
	@$(FLEET) $(PIPE); bg_server status.sh $(if $(filter row,$(STATUS_FORMAT)),row,status) $(SRV)

history:
	@$(FLEET) $(PIPE); bg_server status.sh history $(SRV)

# make init: on the server, as root, pipeline/init.sh with the config,
# the hooks and the placeholders made here, and the package (made here
# with make deb, or PACKAGE=): it checks every setting before it changes
# anything. BUILD_ON_SERVER=1 (and HOST=local): the tools from a built
# tree instead.
init:
	@$(FLEET) $(PIPE); \
	bg_say "sets up $(if $(filter local,$(HOST)),this machine,$(HOST)): needs root there$(if $(SUDO), (through passwordless $(SUDO)))"; \
	bg_safe REMOTE_SRC $(call shq,$(REMOTE_SRC)); \
	bg_tmp; \
	mkdir "$$ctl/init" "$$ctl/init/hooks"; \
	printf '%s\n' $(INIT_CONF) >"$$ctl/init/bg.conf"; \
	printf '%s\n' $(INIT_VARS) >"$$ctl/init/vars"; \
	for f in $(HOOKS_SRC)/*; do \
	    case $$f in */pre-deploy*|*.example) continue ;; esac; \
	    [ ! -f "$$f" ] || cp -p "$$f" "$$ctl/init/hooks/"; \
	done; \
	$(INIT_PREP) \
	bg_connect; \
	st=0; $(INIT_RUN) || st=$$?; \
	! bg_ssh_failed $$st || bg_die 5 "lost the connection to $(HOST)"; \
	exit $$st

INIT_PKG = $(if $(call yes,$(BUILD_ON_SERVER)),,$(if $(PACKAGE),1,$(if $(filter local,$(HOST)),,1)))
INIT_SHIP = Makefile config.mk tools nginx hooks docs pipeline systemd debian
ifneq ($(INIT_PKG),)
# the package: PACKAGE, or make deb here when it is older than the tree
INIT_PREP = pkg=$(call shq,$(or $(PACKAGE),$(DEB))); \
	$(if $(PACKAGE),[ -f "$$pkg" ] || bg_die 2 "PACKAGE=$(PACKAGE): no such file; nothing was changed on $(HOST)";, \
	if [ ! -f "$$pkg" ] || [ -n "$$(find $(INIT_SHIP) -newer "$$pkg" -type f ! -name '*.o' ! -name '*.a' ! -name green.conf 2>/dev/null | grep -v '^tools/bg[a-z]*$$' | head -n 1)" ]; then \
	    bg_say "building the package (make deb)"; \
	    $(MAKE) -s deb >/dev/null || bg_die 2 "make deb failed here: build the package on a Debian machine and give it as PACKAGE=path/to/bg_VERSION_ARCH.deb (or BUILD_ON_SERVER=1); nothing was changed on $(HOST)"; \
	fi;) \
	cp "$$pkg" "$$ctl/init/bg.deb" && cp pipeline/init.sh "$$ctl/init/init.sh" || bg_die 5 "cannot copy $$pkg";
ifeq ($(HOST),local)
INIT_RUN = $(SUDO) sh "$$ctl/init/init.sh" - "$$ctl/init"
else
INIT_RUN = d=$$(bg_on 'mktemp -d /tmp/bg-init.XXXXXX') || bg_die 5 "cannot make a scratch directory on $(HOST)"; \
	{ bg_rsync -rlpt "$$ctl/init/" "$${at}$$d/" || bg_die 5 "cannot copy the package to $(HOST):$$d"; } && \
	bg_tty "$(if $(SUDO),$(SUDO) -n )sh -c 'sh \"\$$1/init.sh\" - \"\$$1\"; st=\$$?; rm -rf \"\$$1\"; exit \$$st' sh $$d"
endif
else
INIT_PREP =
ifeq ($(HOST),local)
INIT_RUN = { $(MAKE) -s all || bg_die 1 "the build failed"; } && \
	$(SUDO) sh pipeline/init.sh "$$PWD" "$$ctl/init"
else
INIT_RUN = { bg_rsync -rlpt --delete --exclude='*.o' --exclude='*.a' --exclude=/nginx/green.conf \
	    $(PROGS:%=--exclude=/tools/%) $(INIT_SHIP) "$$ctl/init" "$${at}$(REMOTE_SRC)/" || \
	    bg_die 5 "cannot copy the source to $(HOST):$(REMOTE_SRC)"; } && \
	{ bg_on "make -s -j2 -C $(REMOTE_SRC) all" || \
	    bg_die 1 "building on $(HOST) failed: it needs make and a C compiler (Debian: apt-get install make gcc)"; } && \
	bg_tty "$(if $(SUDO),$(SUDO) -n )sh $(REMOTE_SRC)/pipeline/init.sh $(REMOTE_SRC) $(REMOTE_SRC)/init"
endif
endif

# make demo: real nginx and two instances of a small app in a sandbox on
# 127.0.0.1; deploys v2, switches under load, prints what the load saw.
demo:
	@MAKE=$(MAKE) sh demo/run

.PHONY: deploy switch rollback status history init demo
# --- end pipeline ---

# --- hardening ---
# make sanitize, fuzz, lint, valgrind: the checks beyond the suite, run by
# .ci/run too. Their builds live under build/, never next to the normal
# objects, so they never disturb a plain make or a test run.

# make sanitize: tests/sanitize/run builds every program and test binary
# with ASan+UBSan in build/sanitize (a mirror of the tree whose sources are
# symlinks) and runs the bats tests tagged "sanitize" against it; any
# sanitizer report fails it.
SAN_CC    = clang
SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_TAGS  = sanitize

sanitize:
	SAN_CC='$(SAN_CC)' SAN_CFLAGS='$(CFLAGS) $(SAN_FLAGS)' \
	    SAN_LDFLAGS='$(LDFLAGS) $(SAN_FLAGS)' SAN_TAGS='$(SAN_TAGS)' tests/sanitize/run

# make fuzz: a libFuzzer target per parser (tests/fuzz/fuzz_*.c), built
# against libbg compiled with coverage instrumentation, each run for
# FUZZ_SECONDS on a scratch copy of its corpus tests/fuzz/corpus/NAME.
FUZZ         = build/fuzz
FUZZ_CC      = clang
FUZZ_CFLAGS  = -std=c11 -g -O1 -Wall -Wextra -Wshadow -Wstrict-prototypes \
	-fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_SECONDS = 30
FUZZ_SRC     = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN     = $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ)/%)
FUZZ_LIBOBJ  = $(LIBSRC:tools/lib/%.c=$(FUZZ)/lib/%.o)

$(FUZZ)/lib/%.o: tools/lib/%.c $(HDR)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ)/libbg.a: $(FUZZ_LIBOBJ)
	rm -f $@
	$(AR) rcs $@ $(FUZZ_LIBOBJ)

$(FUZZ)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ)/libbg.a $(HDR)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Itools/lib -o $@ $< $(FUZZ)/libbg.a

fuzz-build: $(FUZZ_BIN)

fuzz:
	FUZZ_SECONDS='$(FUZZ_SECONDS)' tests/fuzz/run

# make lint: static checks; each finding is fixed, or suppressed in place
# with a reason (cppcheck-suppress, NOLINT, shellcheck disable=), or the
# check is disabled with a reason in .clang-tidy or below. clang-tidy runs
# two files at a time (its analyzer is the slow part).
LINT_C   = $(LIBSRC) $(PROGS:%=tools/%.c) $(TESTSRC) $(FUZZ_SRC)
LINT_CPP = $(CPPFLAGS) -Itools/lib
LINT_SH  = .ci/run tests/run tests/fuzz/run tests/sanitize/run nginx/fill \
	$(wildcard tests/helpers/*.bash tests/bench/*.sh pipeline/*.sh ansible/*.sh demo/run) \
	$(shell grep -ls '^\#!.*sh' hooks/* hooks/*/* tests/hooks/*/* demo/hooks/* 2>/dev/null)
LINT_BATS = $(wildcard tests/*.bats)
# In bats files: each @test runs in a subshell, so a variable a test sets
# through a helper (SC2030/SC2031) is not lost; run --separate-stderr sets
# stderr and stderr_lines, unknown to shellcheck (SC2154); hook scripts
# are written in single quotes on purpose (SC2016).
LINT_BATS_EXCLUDE = SC2030,SC2031,SC2154,SC2016

lint:
	cppcheck -q --std=c11 --enable=warning,portability,performance \
	    --error-exitcode=1 --inline-suppr --suppress=missingIncludeSystem \
	    $(LINT_CPP) $(LINT_C)
	printf '%s\n' $(LINT_C) | xargs -P 2 -n 4 sh -c \
	    'clang-tidy --quiet "$$@" -- -std=c11 $(LINT_CPP) 2>/dev/null' clang-tidy
	shellcheck $(LINT_SH)
	shellcheck -s bash -e $(LINT_BATS_EXCLUDE) $(LINT_BATS)
	mandoc -Tlint -W warning $(wildcard $(MAN1) $(MAN7))

# make valgrind: memcheck over a few untimed runs of each program.
valgrind: all tests
	tests/run tests/valgrind.bats

.PHONY: sanitize fuzz fuzz-build lint valgrind
# --- end hardening ---
