#!/usr/bin/env bats
# Zero downtime, counted: tests/bin/bgload keeps 50 clients busy through real
# nginx (the repo's templates, helpers/scene.bash) while bgflip switches
# back and forth, and every request sent must come back complete, 2xx, and
# from one of the two instances. bgload never retries, so a request lost
# to a closed connection is a failure here even where a browser or wrk
# would quietly resend it. Counts only: timing lives in make bench.

load helpers/bg
load helpers/scene

setup() {
	bg_setup
}

teardown() {
	bg_teardown
}

# load_start ARGS...: bgload ARGS against production in the background,
# bounded by -d 120 (the flips below take well under that); output in
# $T/load.out (the key=value line) and $T/load.err (the table).
load_start() {
	bgload "$@" -d 120 "$PROD_URL/" >"$T/load.out" 2>"$T/load.err" 3>&- &
	LOAD=$!
	bg_track "$LOAD" bgload
	# let every client connect and get answers before the first flip
	sleep 0.5
}

# flips N: run bgflip N times, back to back; FLIPS_OK counts exit 0.
flips() {
	local i out

	FLIPS_OK=0
	for i in $(seq "$1"); do
		if out=$(bgflip 2>&1); then
			FLIPS_OK=$((FLIPS_OK + 1))
		else
			echo "flip $i: exit $?: $out"
		fi
	done
}

# load_stop: end bgload (SIGTERM: it stops sending, finishes what is in
# flight and reports), print what it saw, and set LOAD_LINE and the KEY=N
# values of its summary as variables L_sent, L_ok, L_failed, ...
load_stop() {
	local kv

	L_sent=0 L_ok=0 L_failed=0 L_non2xx=0 L_reset=0 L_connect_err=0
	L_timeout=0 L_switches=0 L_gap_med_ms=- L_gap_max_ms=- L_bodies=
	LOAD_ALIVE=0
	if bg_alive "$LOAD"; then
		LOAD_ALIVE=1
		kill -TERM "$LOAD"
	fi
	wait "$LOAD" || true
	cat "$T/load.err"
	LOAD_LINE=$(grep '^bgload ' "$T/load.out")
	echo "$LOAD_LINE"
	for kv in ${LOAD_LINE#bgload }; do
		case $kv in
		bodies=*) L_bodies=${kv#bodies=} ;;
		*=*) printf -v "L_${kv%%=*}" '%s' "${kv#*=}" ;;
		esac
	done
}

# only_instances: every 2xx answer was "blue v1" or "green v2", both were
# seen, and they add up to every request answered.
only_instances() {
	local all b name n sum=0 blue=0 green=0

	IFS=, read -r -a all <<<"$L_bodies"
	for b in "${all[@]}"; do
		name=${b%:*}
		n=${b##*:}
		case $name in
		blue_v1) blue=$n ;;
		green_v2) green=$n ;;
		*) echo "an answer from neither instance: $b"; return 1 ;;
		esac
		sum=$((sum + n))
	done
	echo "blue v1: $blue, green v2: $green, ok: $L_ok"
	[ "$blue" -gt 0 ] && [ "$green" -gt 0 ] && [ "$sum" -eq "$L_ok" ]
}

@test "zero downtime: socket mode, 50 keep-alive clients half POST, 100 flips: no request lost" {
	scene socket
	load_start -k -c 50 -p 50
	flips 100
	load_stop
	echo "flips: $FLIPS_OK of 100 succeeded"
	echo "last old answer to first new one, ms: median $L_gap_med_ms, max $L_gap_max_ms (not asserted; negative: both answered at once)"
	assert_equal "$LOAD_ALIVE" 1		# the load ran through every flip
	assert_equal "$FLIPS_OK" 100
	assert_equal "$(wc -l <"$T/log/bg.log")" 100
	assert [ "$L_sent" -gt 0 ]
	assert_equal "$L_failed" 0
	assert_equal "$L_non2xx" 0
	assert [ "$L_ok" -eq "$L_sent" ]
	only_instances
	# each flip moved the clients: at least one switch per two flips
	assert [ "$L_switches" -ge 50 ]
}

@test "zero downtime: reload mode, 50 Connection: close clients half POST, 50 flips: no request lost" {
	scene reload
	load_start -C -c 50 -p 50
	flips 50
	load_stop
	echo "flips: $FLIPS_OK of 50 succeeded"
	echo "last old answer to first new one, ms: median $L_gap_med_ms, max $L_gap_max_ms (not asserted)"
	assert_equal "$LOAD_ALIVE" 1
	assert_equal "$FLIPS_OK" 50
	assert_equal "$(wc -l <"$T/log/bg.log")" 50
	assert [ "$L_sent" -gt 0 ]
	assert_equal "$L_failed" 0
	assert_equal "$L_non2xx" 0
	assert [ "$L_ok" -eq "$L_sent" ]
	only_instances
	assert [ "$L_switches" -ge 25 ]
}

# The documented limit of reload mode on nginx < 1.27.4 (docs/performance.md):
# an old worker closes its idle keep-alive connections as it exits, racing
# with the client's next request. Measured and printed, not asserted zero;
# what is asserted is that the flips happened under load and every answer
# that came back was whole and from an instance.
@test "zero downtime: reload mode, 50 keep-alive clients, 10 flips: losses measured, not asserted" {
	scene reload
	load_start -k -c 50 -p 50
	flips 10
	load_stop
	echo "flips: $FLIPS_OK of 10 succeeded"
	echo "reload mode, keep-alive: $L_failed of $L_sent requests lost over $FLIPS_OK flips (reset $L_reset, connect_err $L_connect_err, timeout $L_timeout, non2xx $L_non2xx)"
	echo "nginx: $("$NGINX_BIN" -v 2>&1)"
	assert_equal "$LOAD_ALIVE" 1
	assert_equal "$FLIPS_OK" 10
	assert_equal "$L_non2xx" 0
	assert [ "$L_ok" -gt 0 ]
	only_instances
	assert [ "$L_switches" -ge 5 ]
}
