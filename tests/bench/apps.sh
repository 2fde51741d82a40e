#!/usr/bin/env bash
# tests/bench/apps.sh - what a switch costs a real app's clients: HTTP/2
# and HTTP/1.1 keep-alive over TLS (h2load) through the seed's switch,
# bgflip in reload mode and in socket mode; one nginx reload (a certificate
# renewal's) in each mode; and long-lived clients (tests/bin/bgws: N WebSockets
# + N event streams) held across make switch. Not a test: it prints
# markdown tables and asserts nothing. make bench runs it (BENCH_SKIP=apps
# leaves it out); alone: bash tests/bench/apps.sh.
#
# Settings (environment): BENCH_SECS (8) per TLS run, BENCH_CONNS (50)
# clients, BENCH_EVERY_MS (250) between flips, BENCH_LONG (200) WebSockets
# and as many streams, BENCH_LINGER (2) seconds.
set -u
cd "$(dirname "$0")/../.." || exit 2

SECS=${BENCH_SECS:-8}
CONNS=${BENCH_CONNS:-50}
EVERY_MS=${BENCH_EVERY_MS:-250}
LONG=${BENCH_LONG:-200}
LINGER=${BENCH_LINGER:-2}

say() { echo "bench/apps: $*" >&2; }
command -v h2load >/dev/null || { say "h2load is not installed (Debian: nghttp2-client)"; exit 2; }
make -s all tests/bin/bgapp tests/bin/bgload tests/bin/bgws || exit 2
BATS_RUN_TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/bench-apps.XXXXXX") || exit 2
export BATS_RUN_TMPDIR
for h in bg scene deploy; do
	# shellcheck source=/dev/null
	. "tests/helpers/$h.bash"
done
cleanup() {
	[ -n "${T:-}" ] && bg_teardown
	rm -rf "$BATS_RUN_TMPDIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
n_scene=0

# new_scene MODE [plain]: a fresh scene with TLS on a free port ($TLS_URL;
# plain: without TLS, so that production answers plain HTTP), the
# pipeline's hooks and a retire hook.
new_scene() {
	[ -n "${T:-}" ] && bg_teardown
	n_scene=$((n_scene + 1))
	BATS_TEST_TMPDIR=$BATS_RUN_TMPDIR/s$n_scene
	mkdir -p "$BATS_TEST_TMPDIR" && bg_setup || exit 2
	openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 2 \
	    -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null || exit 2
	TLS_PORT=$(free_port)
	# shellcheck disable=SC2034 # both read by helpers/scene
	{
		SCENE_FILL=(TLS_CERT="$T/cert.pem" TLS_KEY="$T/key.pem"
		    TLS_LISTEN="127.0.0.1:$TLS_PORT")
		[ "${2:-}" = plain ] && SCENE_FILL=()
		SCENE_CONF_EXTRA=("linger=$LINGER" timeout=30)
	}
	scene "$1" || exit 5
	TLS_URL=https://127.0.0.1:$TLS_PORT/
	: >"$T/run/lock"
	chmod 0644 "$T/run/lock"
	write_hooks
	# shellcheck disable=SC2016 # $1 is the hook's
	printf '#!/bin/sh\nexec %s/hooks/restart "$1"\n' "$T" >"$T/hooks/retire"
	chmod 0755 "$T/hooks/retire"
	SEED_LIVE=blue
}

flip_seed() {
	local to=green

	[ "$SEED_LIVE" = green ] && to=blue
	cp "$SITE/$to.conf" "$SITE/live.conf" &&
	    "$NGINX_BIN" -p "$NGINX_PREFIX/" -c "$NGINX_CONF" -s reload 2>/dev/null &&
	    SEED_LIVE=$to
}
flip_bgflip() { tools/bgflip >/dev/null 2>&1; }
flip_reload() { "$NGINX_BIN" -p "$NGINX_PREFIX/" -c "$NGINX_CONF" -s reload 2>/dev/null; }

# h2 FLIPPER PROTO N: h2load (PROTO h2 or h1: HTTP/1.1 keep-alive) for
# SECS with CONNS clients through TLS while FLIPPER runs N times, evenly
# spread (N=0: none). Prints "| requests | failed | errored | flips |
# failed per flip |". h2load does not reconnect: a client whose connection
# nginx closes stops, and what it had not sent shows as failed.
h2() {
	local fn=$1 proto=$2 nflips=$3 pid out i tot fail err fpf a=()

	[ "$proto" = h1 ] && a=(--h1)
	h2load "${a[@]}" -c "$CONNS" -m 1 -D "$SECS" "$TLS_URL" \
	    >"$T/h2load.out" 2>&1 &
	pid=$!
	bg_track "$pid" h2load
	for ((i = 1; i <= nflips; i++)); do
		sleep "$(awk -v s="$SECS" -v n="$nflips" 'BEGIN { printf "%.3f", s / (n + 1) }')"
		"flip_$fn" || say "$fn: flip $i failed"
	done
	wait "$pid"
	out=$(grep '^requests:' "$T/h2load.out")
	tot=$(awk '{ print $2 }' <<<"$out")
	fail=$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$out")
	err=$(sed -n 's/.* \([0-9]*\) errored.*/\1/p' <<<"$out")
	fpf=-
	[ "$nflips" -gt 0 ] && fpf=$(awk -v f="$fail" -v n="$nflips" 'BEGIN { printf "%.1f", f / n }')
	echo "| ${tot:--} | ${fail:--} | ${err:--} | $nflips | $fpf |"
}

# load_reload MODE: bgload -k over plain HTTP across one nginx reload (what
# a renewal hook does), 4 s; prints a row like h2's.
load_reload() {
	local pid line

	tests/bin/bgload -k -c "$CONNS" -d 4 "$PROD_URL/" >"$T/load.out" 2>/dev/null &
	pid=$!
	bg_track "$pid" bgload
	sleep 2
	flip_reload
	wait "$pid"
	line=$(grep '^bgload ' "$T/load.out")
	echo "| $(field sent "$line") | $(field failed "$line") | $(field reset "$line") reset | 1 | $(field failed "$line") |"
}

field() {
	local kv

	for kv in $2; do
		[ "${kv%%=*}" = "$1" ] && { echo "${kv#*=}"; return; }
	done
	echo -
}

mk() {
	make -s -C "$BG_ROOT" --no-print-directory HOST=local SUDO= APP="$T/app" \
	    BG_CONF="$T/bg.conf" BG_BIN="$BG_ROOT/tools" APP_SRC="$T/src" \
	    PRE_DEPLOY=/nonexistent "$@" >"$T/mk.out" 2>&1
}

# long_lived MODE LOADFLAGS: deploy, then LONG WebSockets + LONG streams
# and bgload during make switch. Prints the row.
long_lived() {
	local mode=$1 lf=$2 t0 lpid wpid st w line procs=2

	make_src "$T/src" v3
	mk deploy || { say "$mode: make deploy failed: $(cat "$T/mk.out")"; return; }
	tests/bin/bgload "$lf" -c 10 -d 60 "$PROD_URL/" >"$T/load.out" 2>/dev/null &
	lpid=$!
	bg_track "$lpid" bgload
	tests/bin/bgws -P "$procs" -w "$LONG" -s "$LONG" -e 1000 -u green -x \
	    -d 40 "$PROD_URL/" >"$T/ws.out" 2>"$T/ws.err" &
	wpid=$!
	bg_track "$wpid" bgws
	sleep 3
	t0=$(date +%s%3N)
	st=0
	mk switch || st=$?
	wait "$wpid"
	kill -TERM "$lpid"
	wait "$lpid"
	w=$(cat "$T/ws.out")
	line=$(grep '^bgload ' "$T/load.out")
	echo "| $mode | $LONG + $LONG | $st | $(field ws_clean "$w") | $(field sse_clean "$w") | $(( $(field ws_eof "$w") + $(field ws_reset "$w") + $(field sse_eof "$w") + $(field sse_reset "$w") )) | $(field refused "$w") | $(field on_target "$w") | $(awk -v a="$(field all_on_ms "$w")" -v t="$t0" 'BEGIN { if (a > 0) printf "%.1f", (a - t) / 1000; else print "never" }') | $(field sent "$line") | $(field failed "$line") |"
}

TLS_ROWS=() RELOAD_ROWS=() LONG_ROWS=()
NF=$((SECS * 1000 / EVERY_MS - 1))

# one_mode MODE STEADY LOADFLAGS: in MODE, the TLS runs (steady, named
# STEADY; the seed's cp + reload in reload mode only; bgflip), one reload
# over TLS and one over plain HTTP, and the long-lived clients (bgload with
# LOADFLAGS); adds their rows to TLS_ROWS, RELOAD_ROWS and LONG_ROWS.
one_mode() {
	local mode=$1 steady=$2 lf=$3 p

	new_scene "$mode"
	for p in h2 h1; do
		TLS_ROWS+=("| $steady | $p $(h2 none "$p" 0)")
		if [ "$mode" = reload ]; then
			TLS_ROWS+=("| seed: cp + nginx -s reload | $p $(h2 seed "$p" "$NF")")
			nginx_reload >/dev/null 2>&1
		fi
		TLS_ROWS+=("| bgflip, $mode mode | $p $(h2 bgflip "$p" "$NF")")
	done
	RELOAD_ROWS+=("| $mode | h2 over TLS $(h2 reload h2 1)")
	RELOAD_ROWS+=("| $mode | HTTP/1.1 keep-alive over TLS $(h2 reload h1 1)")
	new_scene "$mode" plain
	RELOAD_ROWS+=("| $mode | HTTP/1.1 keep-alive, plain $(load_reload)")
	new_scene "$mode" plain
	LONG_ROWS+=("$(long_lived "$mode" "$lf")")
}

say "reload mode, TLS: steady, seed, bgflip (h2 and HTTP/1.1 keep-alive)"
one_mode reload steady -C
say "socket mode, TLS: steady, bgflip"
one_mode socket "steady (unix upstreams)" -k

echo "### Over TLS: failed requests per flip (h2load)"
echo
echo "\`h2load [--h1] -c $CONNS -m 1 -D $SECS\` against production over TLS, $NF flips spread over the run. h2load never reconnects: a connection nginx closes (an old worker exiting after a reload, with GOAWAY for h2) ends that client, and its unsent requests count as failed."
echo
echo "| switch | protocol | requests | failed | errored | flips | failed/flip |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${TLS_ROWS[@]}"
echo
echo "### One nginx reload, as a certificate renewal does it"
echo
echo "bgload -k -c $CONNS over plain HTTP for 4 s (sent, failed), or h2load as above for ${SECS} s (requests, failed, errored), with one \`nginx -s reload\` in the middle."
echo
echo "| mode | clients | requests | failed | errored | reloads | failed/reload |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${RELOAD_ROWS[@]}"
echo
echo "### Long-lived clients across make switch (linger = $LINGER)"
echo
echo "tests/bin/bgws -P 2: $LONG WebSockets + $LONG event streams on blue, then make switch (HOST=local) to green while tests/bin/bgload (-C in reload mode, -k in socket mode, 10 clients) runs. clean: WebSocket close 1001, end of stream; cut: EOF or reset without it; all on green: seconds from the start of make switch until every client was connected to green again."
echo
echo "| mode | clients | make switch exit | WS clean | SSE clean | cut | refused attempts | on green at the end | all on green after s | HTTP sent | HTTP failed |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${LONG_ROWS[@]}"
