#!/usr/bin/env bash
# tests/bench/swapconf.sh [MB] - bgswapconf against the seed's three seds
# and against tr(1), the floor of a byte-at-a-time filter.
#
# Makes a config-like file (an nginx config with blue, green and cyan in it,
# repeated) of 1 MB and of MB megabytes (default 100), times bgswapconf,
# bgswapconf -a, `tr bg gb` and the seed's pipeline on each (best of 5 runs,
# output to /dev/null, in the same run), and prints the ratios (sed/bgswapconf:
# how many times faster than the seed; bgswapconf/tr: how many times slower
# than tr) and bgswapconf's peak RSS for both sizes: the same figure for 1 MB
# and 100 MB is what constant memory looks like.
# Not a test: it asserts nothing, it prints numbers.
set -eu
cd "$(dirname "$0")/../.."
big_mb=${1:-100}
bin=tools/bgswapconf
[ -x "$bin" ] || make -s "$bin"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# wall clock in microseconds; bash >= 5 has it without spawning a process
[ -n "${EPOCHREALTIME:-}" ] || { echo "swapconf.sh: needs bash 5" >&2; exit 2; }

# best5 CMD...: the fastest of five runs of CMD <"$in" >/dev/null, in ms
best5() {
	local t0 t1 best=
	for _ in 1 2 3 4 5; do
		t0=${EPOCHREALTIME/./}
		"$@" <"$in" >/dev/null || [ $? -eq 1 ]
		t1=${EPOCHREALTIME/./}
		t1=$(( (10#$t1 - 10#$t0) / 1000 ))
		if [ -z "$best" ] || [ "$t1" -lt "$best" ]; then best=$t1; fi
	done
	echo "$best"
}

# peak_rss CMD...: peak resident set of CMD <"$in" >/dev/null, in KiB
peak_rss() {
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f %M -o "$tmp/rss" "$@" <"$in" >/dev/null || true
		tail -n 1 "$tmp/rss"	# after any "Command exited with" line
	else
		# no GNU time: poll VmHWM while it runs
		local pid hwm=0 v
		"$@" <"$in" >/dev/null & pid=$!
		while v=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status" 2>/dev/null) &&
		    [ -n "$v" ]; do
			[ "$v" -gt "$hwm" ] && hwm=$v
		done
		wait "$pid" || true
		echo "$hwm"
	fi
}

seed() { sed -e s/blue/cyan/g -e s/green/blue/g -e s/cyan/green/g; }

# 1 MB of config: the golden nginx config over and over
block=tests/fixtures/bgswapconf/nginx.in
: >"$tmp/1"
while [ "$(stat -c %s "$tmp/1")" -lt 1048576 ]; do cat "$block" >>"$tmp/1"; done
: >"$tmp/big"
for _ in $(seq "$big_mb"); do cat "$tmp/1"; done >>"$tmp/big"

: >"$tmp/0"

echo "bgswapconf bench: $(uname -m), $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "input: $block repeated; wall ms, best of 5; 0MB is the cost of starting"
printf '%-7s %10s %8s %8s %6s %7s %8s %7s %7s %8s\n' size bytes bgswap -a tr sed \
    sed/bgs bgs/tr -a/tr rss_KiB
for f in 0 1 big; do
	in=$tmp/$f
	b=$(best5 "$bin")
	a=$(best5 "$bin" -a)
	t=$(best5 tr bg gb)
	s=$(best5 seed)
	r=$(peak_rss "$bin")
	label=${f}MB
	[ "$f" = big ] && label=${big_mb}MB
	printf '%-7s %10s %8s %8s %6s %7s %8s %7s %7s %8s\n' "$label" \
	    "$(stat -c %s "$in")" "$b" "$a" "$t" "$s" \
	    "$(awk -v x="$s" -v y="$b" 'BEGIN { printf "%.1fx", x / (y ? y : 1) }')" \
	    "$(awk -v x="$b" -v y="$t" 'BEGIN { printf "%.2fx", x / (y ? y : 1) }')" \
	    "$(awk -v x="$a" -v y="$t" 'BEGIN { printf "%.2fx", x / (y ? y : 1) }')" "$r"
done
echo "targets: sed/bgs >= 10x, bgs/tr <= 2x (load after: $(cut -d' ' -f1-3 /proc/loadavg))"

# what the seed's placeholder does to the cyan already in the file
in=$tmp/1
c0=$(grep -o cyan "$in" | wc -l)
c1=$(seed <"$in" | grep -o cyan | wc -l)
c2=$("$bin" <"$in" | grep -o cyan | wc -l)
echo "cyan in the 1 MB input: $c0; after the seed's seds: $c1; after bgswapconf: $c2"
# shellcheck disable=SC2094 # both only read $in
"$bin" <"$in" | "$bin" | cmp -s - "$in" && echo "bgswapconf twice: identical"
# shellcheck disable=SC2094
seed <"$in" | seed | cmp -s - "$in" || echo "seed twice: differs from the input"
