#!/usr/bin/env bash
# tests/bench/drain.sh [--netns] [N] - what a bgdrain poll costs, and how
# late it sees a drain. Not a test: it prints numbers and asserts nothing.
#
#   1. ms per poll of bgdrain's count (what it does every -i ms), through
#      netlink sock_diag (all of them; and stopping at the first, as its
#      polls while it waits do) and from /proc/net, side by side in the
#      same run (tests/unit/unit_proc -b alternates them), with no connections,
#      then with
#      N (default 10000) idle TCP connections held open to a bgapp on
#      loopback plus N more to another bgapp (so /proc/net/tcp has 4N
#      rows, the instance's N among them), each set held by its own
#      process (the open-files hard limit may be 20000);
#   2. the drain detection delay: from the end of the last (slow) request to
#      bgdrain's exit, with the default -i 100, over a few runs.
#
# Needs the open-files limit raised to N + a few hundred (it tries).
# --netns (root, unshare(1), ip(8)): run in a private network namespace, so
# /proc/net/tcp lists only the benchmark's sockets, not the rest of the
# machine's (the kernel still walks its one global hash table to list them).
set -u
cd "$(dirname "$0")/../.." || exit 2
if [ "${1:-}" = --netns ]; then
	shift
	# shellcheck disable=SC2016 # expanded by the inner bash
	exec unshare -n bash -c 'ip link set lo up && exec "$0" "$@"' "$0" "$@"
fi
N=${1:-10000}
RUNS=5

make -s tools/bgdrain tests/bin/bgapp tests/unit/unit_proc || exit 2
tmp=$(mktemp -d) || exit 2
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_app COLOR LOG: a bgapp of COLOR on a free loopback port, logging to
# $tmp/LOG; app_port is its port once it accepts connections.
start_app() {
	app_port=$(tests/bin/bgapp --free-port) || exit 2
	tests/bin/bgapp --listen "127.0.0.1:$app_port" --color "$1" \
	    --version 1 </dev/null >"$tmp/$2" 2>&1 &
	pids+=($!)
	for _ in $(seq 50); do
		(exec 5<>"/dev/tcp/127.0.0.1/$app_port") 2>/dev/null && break
		sleep 0.1
	done
}

${CC:-cc} -O2 -o "$tmp/conns" tests/bench/conns.c || exit 2
ulimit -n "$(ulimit -Hn)" 2>/dev/null
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((N + 200)) ]; then
	echo "drain.sh: the open-files limit is $(ulimit -n); $N connections need $((N + 200))" >&2
	exit 2
fi

start_app blue app.log
port=$app_port addr=127.0.0.1:$app_port

# The others: another instance on another port, N connections of its own.
start_app green other.log
oport=$app_port

echo "== poll cost: tests/unit/unit_proc -b $addr 100 (netlink, /proc, netlink first only: alternating)"
echo "   (/proc/net/tcp before: $(wc -l </proc/net/tcp) lines; load $(cut -d' ' -f1-3 /proc/loadavg))"
echo "idle:"
tests/unit/unit_proc -b "$addr" 100 | sed 's/^/   /'
"$tmp/conns" 127.0.0.1 "$port" "$N" >"$tmp/conns.out" &
pids+=($!)
cpid1=$!
"$tmp/conns" 127.0.0.1 "$oport" "$N" >"$tmp/conns2.out" &
pids+=($!)
cpid2=$!
for _ in $(seq 600); do
	[ -s "$tmp/conns.out" ] && [ -s "$tmp/conns2.out" ] && break
	sleep 0.1
done
if [ ! -s "$tmp/conns.out" ] || [ ! -s "$tmp/conns2.out" ]; then
	echo "drain.sh: conns did not connect" >&2
	exit 5
fi
sleep 0.5	# let the bgapps accept the last of them
echo "$N connections to the instance, $N to another (load $(cut -d' ' -f1-3 /proc/loadavg)):"
tests/unit/unit_proc -b "$addr" 100 | sed 's/^/   /'
echo "   (/proc/net/tcp: $(wc -l </proc/net/tcp) lines, $(wc -c </proc/net/tcp) bytes)"
kill -TERM "$cpid1" "$cpid2"
wait "$cpid1" "$cpid2" 2>/dev/null

# A second instance for the delay, untouched by the 10,000 closes above.
start_app green app2.log
addr=127.0.0.1:$app_port
# -F and an explicit COLOR: the url is never asked, only /proc is read.
cat >"$tmp/bg.conf" <<EOF
url = http://127.0.0.1:1/bg
blue = 127.0.0.1:$port
green = $addr
timeout = 10
EOF
echo "   (/proc/net/tcp now: $(wc -l </proc/net/tcp) lines)"
echo "== drain detection delay, $RUNS runs: a ?sleep=500 request ends, then"
echo "   tools/bgdrain -F -f bg.conf green (default -i 100) exits"
for r in $(seq "$RUNS"); do
	( curl -s -o /dev/null "http://$addr/?sleep=500"
	  date +%s%N >"$tmp/end" ) &
	cpid=$!
	sleep 0.2
	tools/bgdrain -F -f "$tmp/bg.conf" green
	st=$?
	done_ns=$(date +%s%N)
	wait "$cpid"
	printf '   run %d: exit %d, %d ms after the request ended\n' "$r" "$st" \
	    $(( (done_ns - $(cat "$tmp/end")) / 1000000 ))
done
