#!/usr/bin/env bash
# tests/bench/fleet.sh [RUNS] - what HOSTS= costs: the wall time of a make
# deploy that changes nothing and of a make switch, on one server and on
# three (deploy at once, switch rolling), side by side in one run. Not a
# test: it prints a markdown table and asserts nothing.
#
# The servers are tests/helpers/fleet's: three on this machine, each its
# own sshd (loopback ssh, one connection per make run), mount namespace,
# real nginx in socket mode and pair of fixture instances. Each figure is
# the median (and min to max) of RUNS runs (default 5); a no-change deploy
# is one that follows a deploy of the same tree (REVISION=bench); switches
# go back and forth. Needs root (unshare, nsenter, sshd), as the tests do.
set -u
cd "$(dirname "$0")/../.." || exit 2
RUNS=${1:-5}

make -s all tests/bin/bgapp || exit 2
BATS_RUN_TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/bench-fleet.XXXXXX") || exit 2
BATS_TEST_TMPDIR=$BATS_RUN_TMPDIR/fleet
export BATS_RUN_TMPDIR BATS_TEST_TMPDIR
mkdir "$BATS_TEST_TMPDIR" || exit 2
for h in bg scene sshd deploy fleet; do
	# shellcheck source=/dev/null
	. "tests/helpers/$h.bash"
done
cleanup() {
	[ -n "${T:-}" ] && { fleet_teardown; bg_teardown; }
	rm -rf "$BATS_RUN_TMPDIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bg_setup || exit 2
fleet_start 3 || exit 2
make_src "$T/src" v3

# mk ARGS: make for these servers, quiet; fails loudly.
mk() {
	make -s --no-print-directory SSH_OPTS="$SSH_OPTS" APP="$FLEET_APP" \
	    BG_CONF="$FLEET_CONF" BG_BIN="$BG_ROOT/tools" BG_LIB="$BG_ROOT/pipeline" APP_SRC="$T/src" \
	    PRE_DEPLOY=/nonexistent ROLLOUT="$T/rollout" REVISION=bench "$@" \
	    >"$T/mk.out" 2>&1 || { cat "$T/mk.out" >&2; exit 1; }
}

# times WHAT ARGS: run mk ARGS RUNS times; print "WHAT | median | min-max".
times() {
	local what=$1 t0 ms=()
	shift
	for _ in $(seq "$RUNS"); do
		t0=${EPOCHREALTIME/./}
		mk "$@"
		ms+=($(( (${EPOCHREALTIME/./} - t0) / 1000 )))
	done
	mapfile -t ms < <(printf '%s\n' "${ms[@]}" | sort -n)
	printf '| %s | %s | %s to %s |\n' "$what" "${ms[$((RUNS / 2))]}" \
	    "${ms[0]}" "${ms[$((RUNS - 1))]}"
}

one=$(fleet_host 1)
echo "| what | median ms | min to max ms |"
echo "| --- | ---: | --- |"
mk deploy HOST="$one"
times "no-change deploy, 1 server" deploy HOST="$one"
# FORCE=1: switching back and forth, nothing new staged in between
times "switch, 1 server" switch HOST="$one" FORCE=1
# back to blue live there too: a rolling switch needs every standby to
# hold the same revision
[ $((RUNS % 2)) -eq 0 ] || mk switch HOST="$one" FORCE=1
mk deploy HOSTS="$FLEET_HOSTS"
times "no-change deploy, 3 servers at once" deploy HOSTS="$FLEET_HOSTS"
times "switch, 3 servers rolling (PARALLEL=1)" switch HOSTS="$FLEET_HOSTS" FORCE=1
times "switch, 3 servers PARALLEL=3" switch HOSTS="$FLEET_HOSTS" PARALLEL=3 FORCE=1
t0=${EPOCHREALTIME/./}
# shellcheck disable=SC2086 # options
ssh $SSH_OPTS "$one" true
echo "| a bare ssh $one true, for scale | $(( (${EPOCHREALTIME/./} - t0) / 1000 )) | |"
echo
echo "$RUNS runs each; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)."
