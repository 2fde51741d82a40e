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

# the version: config.mk's VERSION, from debian/changelog
tools/lib/version.o: tools/lib/version.c $(HDR) $(wildcard debian/changelog)
	$(CC) $(CPPFLAGS) -DBG_VERSION='"$(VERSION)"' $(CFLAGS) -c -o $@ $<

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

# what make init installs on a server from, under PREFIX/share/bg
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
# make deploy, switch, rollback, status, history, init, and demo. The
# recipes say what runs where (make -n deploy prints them); pipeline/lib.sh
# only knows how to reach the server, over ONE ssh connection per make run;
# pipeline/*.sh that it feeds to the server's sh are the steps that must
# run there together, in one session. Settings: on the command line or in
# local.mk; see docs/operations.md.

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
# root needs no sudo: HOST=root@server, or HOST=local run as root
SUDO        ?= $(if $(filter root@% local:0,$(HOST) $(HOST):$(shell id -u)),,sudo)
DRY_RUN     ?=
INSTALL     ?=
MIGRATE     ?=
FORCE       ?=
# what make deploy writes to APP/COLOR/REVISION; empty: bg_revision's
# (pipeline/lib.sh) git commit of APP_SRC, else a timestamp
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
	$(foreach v,$(INIT_PLACEHOLDERS),$(call shq,$(v)=$($(v)))) \
	$(call shq,STATE=$(or $(STATE),/var/lib/bg))
# the template placeholders make init fills (pipeline/init.sh's render):
# @NAME@ for each NAME here (the server adds USER and GROUP)
INIT_PLACEHOLDERS = LISTEN STAGING_LISTEN SERVER_NAME BLUE GREEN LIVE_ADDR \
	STAGING_ADDR SERVICE APP APP_EXEC ENV_DIR SOCKET_DIR SOCKET_GROUP

PIPE = set -e; target=$@ host=$(call shq,$(HOST)) ssh_opts=$(call shq,$(SSH_OPTS)) \
	app=$(call shq,$(APP)) conf=$(call shq,$(BG_CONF)) bin=$(call shq,$(BG_BIN)); \
	. pipeline/lib.sh

# bgflip accepts only /etc/bg.conf under sudo.
FLIP_OPTS  = $(if $(SUDO),, -f $(BG_CONF))$(if $(call yes,$(FORCE)), -F)
SUDO_CHECK = $(if $(SUDO),$(if $(filter /etc/bg.conf,$(BG_CONF)),,bg_die 4 \
	"bgflip runs through $(SUDO), and then reads only /etc/bg.conf: set BG_CONF=/etc/bg.conf (or SUDO= when you log in as root)";))

# The server side of switch and rollback, in one session (a terminal when
# make has one, for bgdrain's progress): bgflip as root to $$to (empty: the
# standby); note the old color's REVISION for make rollback (no deploy can
# have touched it yet: it was live until now, and a deploy waits for its
# drain); wait for the old color to drain. Exit: bgflip's status when it
# failed; 99 when $$to was live already; 100 + bgdrain's status otherwise.
FLIP = live=$$($(BG_BIN)/bgcolor -t 5 -f $(BG_CONF) 2>/dev/null) || live=; \
	new=$$($(SUDO) $(BG_BIN)/bgflip$(FLIP_OPTS) $$to) || exit; \
	[ "$$new" != "$$live" ] || exit 99; \
	case $$new in blue) old=green ;; *) old=blue ;; esac; \
	r=$$(sed -n "1{s/[^[:graph:]]//g;s/^\(.\{64\}\).*/\1/;p;}" $(APP)/$$old/REVISION 2>/dev/null); \
	echo "$$old $${r:--}" >$(APP)/.bg-previous 2>/dev/null; \
	echo "make $@: $$new is live (was $$old); waiting for $$old to drain" >&2; \
	$(BG_BIN)/bgdrain -f $(BG_CONF) $$old && exit 100; st=$$?; \
	[ $$st -ne 3 ] || echo "make $@: $$new is live and serves production: the switch succeeded. $$old still had requests in flight when bgdrain timed out; they finish there on their own. Production is fine." >&2; \
	exit $$((100 + st))
FLIP_STATUS = case $$st in \
	0|99|100) ;; \
	255) bg_die 5 "the ssh connection to $(HOST) failed; if bgflip ran, make status says what is live" ;; \
	10[1-9]|11[0-9]|12[0-9]) bg_die $$((st - 100)) "the switch succeeded, but bgdrain exited $$((st - 100))" ;; \
	6) bg_die 6 "bgflip failed and rolled back: what was live is live again" ;; \
	7) bg_die 7 "bgflip failed and could not roll back: a human must look (make status)" ;; \
	*) bg_die $$st "bgflip exited $$st: nothing was switched" ;; \
	esac

ifeq ($(strip $(HOSTS)),)
# make deploy: hooks/pre-deploy here; on the server, in one session, the
# standby, refusals and the being-staged mark taken under the lock
# (pipeline/deploy-begin.sh); the copy; REVISION and bgstage, which clears
# the mark once the standby is healthy. A failure after the mark leaves it,
# so a half-copied standby cannot be switched to; deploying again repairs it.
deploy:
	@$(PIPE); \
	[ -d $(call shq,$(APP_SRC)) ] || bg_die 2 "APP_SRC=$(APP_SRC) is not a directory"; \
	$(DEPLOY_PRE) \
	rev=$(if $(REVISION),$(call shq,$(REVISION)),$$(bg_revision $(call shq,$(APP_SRC)))); \
	bg_safe REVISION "$$rev"; \
	stamp=$$(date -u +%Y-%m-%dT%H:%M:%SZ),$$(id -un | tr -cd A-Za-z0-9_.-)@$$(uname -n | tr -cd A-Za-z0-9_.-); \
	bg_connect; \
	st=0; out=$$(bg_script pipeline/deploy-begin.sh $(APP) $(BG_CONF) $(BG_BIN) $(DEPLOY_DRY) $$stamp) || st=$$?; \
	! bg_ssh_failed $$st || bg_die 5 "lost the connection to $(HOST): nothing was copied"; \
	[ $$st -eq 0 ] || exit $$st; \
	color=$${out%% *}; staging=$${out#* }; \
	bg_say "copying $(APP_SRC)/ to $(HOST):$(APP)/$$color/ $(DEPLOY_WHAT)"; \
	bg_rsync -rlpt --delete --itemize-changes $(DEPLOY_RSYNC) --filter=$(call shq,merge $(RSYNC_FILTER)) \
	    $(RSYNC_OPTS) $(call shq,$(APP_SRC)/) "$${at}$(APP)/$$color/" || \
	    bg_die 5 "copying into $$color failed (rsync exit $$?). Production is untouched; $$color stays marked as being staged, so make switch refuses it; run make deploy again to repair it"; \
	$(DEPLOY_STAGE)

ifeq ($(call yes,$(DRY_RUN)),)
DEPLOY_DRY = 0
DEPLOY_PRE = if [ -x $(call shq,$(PRE_DEPLOY)) ]; then \
	HOST=$(call shq,$(HOST)) APP_SRC=$(call shq,$(APP_SRC)) $(call shq,$(PRE_DEPLOY)) || \
	bg_die 1 "$(PRE_DEPLOY) failed (exit $$?): nothing was deployed"; fi;
DEPLOY_STAGE = st=0; \
	bg_tty "echo $$rev >$(APP)/$$color/REVISION && $(BG_BIN)/bgstage -f $(BG_CONF)$(STAGE_OPTS) $$color >/dev/null" || st=$$?; \
	case $$st in \
	0) ;; \
	3) bg_die 3 "$$color did not answer 200 on its health path in time (bgstage exit 3). Production is untouched; $$color stays marked as being staged, so make switch refuses it; fix it and run make deploy again" ;; \
	255) bg_die 5 "lost the connection to $(HOST) during bgstage. Production is untouched; $$color stays marked as being staged until a deploy succeeds" ;; \
	*) bg_die $$st "bgstage failed (exit $$st, see above). Production is untouched; $$color stays marked as being staged, so make switch refuses it; fix it and run make deploy again" ;; \
	esac; \
	bg_say "$$color is staged: revision $$rev"; \
	echo "staging: $${staging:-$(or $(STAGING_URL),(set staging_url in $(BG_CONF) to see it here))}"; \
	echo "now: make switch"
else
# DRY_RUN=1: what rsync would change and what bgstage would run; nothing
# is written on the server, not even the mark.
DEPLOY_DRY = 1
DEPLOY_WHAT = (dry run: what would change)
DEPLOY_RSYNC = --dry-run
DEPLOY_PRE = [ ! -x $(call shq,$(PRE_DEPLOY)) ] || bg_say "dry run: would run $(PRE_DEPLOY)";
DEPLOY_STAGE = bg_on "$(BG_BIN)/bgstage -n -f $(BG_CONF)$(STAGE_OPTS) $$color >/dev/null" || \
	bg_die $$? "bgstage -n refuses (see above)"; \
	bg_say "dry run: nothing was changed on $(HOST)"
endif
STAGE_OPTS = $(if $(call yes,$(INSTALL)), -i)$(if $(call yes,$(MIGRATE)), -m)

# make switch: bgflip, then bgdrain, on the server (FLIP above).
switch:
	@$(PIPE); $(SUDO_CHECK) \
	st=0; bg_tty 'to=; $(FLIP)' || st=$$?; \
	$(FLIP_STATUS)

# make rollback: back to the standby only if it still runs what was live
# before the last switch (pipeline/rollback-check.sh; FORCE=1 overrides
# that, and bgflip's health check).
rollback:
	@$(PIPE); $(SUDO_CHECK) \
	bg_connect; \
	st=0; to=$$(bg_script pipeline/rollback-check.sh $(APP) $(BG_CONF) $(BG_BIN) $(if $(call yes,$(FORCE)),1,0)) || st=$$?; \
	! bg_ssh_failed $$st || bg_die 5 "cannot reach $(HOST): nothing was switched"; \
	[ $$st -eq 0 ] || exit $$st; \
	bg_say "rolling back to $$to"; \
	st=0; bg_tty "to=$$to; "'$(FLIP)' || st=$$?; \
	$(FLIP_STATUS)

status:
	@$(PIPE); bg_script pipeline/status.sh $(if $(filter row,$(STATUS_FORMAT)),row,status) $(APP) $(BG_CONF) $(BG_BIN)

history:
	@$(PIPE); bg_script pipeline/status.sh history $(APP) $(BG_CONF) $(BG_BIN)

# make init: on the server, as root, pipeline/init.sh with the config,
# the hooks and the placeholders made here, and the package (made here
# with make deb, or PACKAGE=): it checks every setting before it changes
# anything. BUILD_ON_SERVER=1 (and HOST=local): the tools from a built
# tree instead.
init:
	@$(PIPE); \
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

else
# HOSTS="a b c": the same targets on every server, through sub-makes with
# HOST set to each (pipeline/fleet.sh): deploy and init at once, switch
# and rollback rolling, PARALLEL servers at a time; status a row each.
# One REVISION for every server, even when it is a timestamp.
deploy switch rollback status history init:
	@$(PIPE); rev=$(if $(REVISION),$(call shq,$(REVISION)),$$(bg_revision $(call shq,$(APP_SRC)))); \
	bg_safe REVISION "$$rev"; \
	MAKE=$(call shq,$(MAKE)) PARALLEL=$(call shq,$(PARALLEL)) REVISION=$$rev \
	ROLLOUT=$(call shq,$(ROLLOUT)) PRE_DEPLOY=$(call shq,$(PRE_DEPLOY)) \
	DRY_RUN=$(call shq,$(call yes,$(DRY_RUN))) APP_SRC=$(call shq,$(APP_SRC)) \
	sh pipeline/fleet.sh $@ $(HOSTS)
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

$(FUZZ)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ)/libbg.a $(HDR)
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
LINT_SH  = .ci/run tests/run tests/fuzz/run tests/sanitize/run \
	$(wildcard tests/helpers/*.bash tests/bench/*.sh pipeline/*.sh ansible/*.sh demo/run) \
	$(shell grep -ls '^\#!.*sh' hooks/* tests/hooks/*/* demo/hooks/* 2>/dev/null)
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
