#!/usr/bin/env bats
# Port mode: bgflip switches an nftables table of bg's own instead of
# nginx's config. Every test body runs in a private network namespace
# (unshare -n, loopback up), with its own nginx, instances and nft table,
# so the host's ruleset is never read or touched. bats' assertions work
# in there too: in_netns hands the functions of this file to that shell.
#
# nginx here uses a test-local site (helpers/port.bash): production
# proxies to live_addr, staging to staging_addr, /bg is STATE/current/color.

load helpers/bg
load helpers/scene
load helpers/port

# in_netns FUNC [ARGS]: run FUNC in a new network namespace, with every
# function defined here, stopping at the first failing command. Whatever
# it starts is recorded in $T/.bg-started, so teardown stops it.
in_netns() {
	{
		echo 'ip link set lo up || exit 1'
		declare -f
		echo 'set -eET'
		# shellcheck disable=SC2016 # for that bash
		echo 'trap '\''echo "in_netns: failed in ${FUNCNAME[0]:-?}: $BASH_COMMAND" >&2'\'' ERR'
		echo '"$@"'
	} >"$T/netns.bash"
	unshare -n -- bash "$T/netns.bash" "$@"
}

# port_answers COLOR: no flip half done and current, /bg and the map say
# COLOR; production is COLOR's instance, staging the other's (answers,
# helpers/scene): all on fresh connections.
port_answers() {
	flip_whole
	assert_equal "$(disk_color)" "$1"
	assert_equal "$(map_says)" "$1"
	answers "$1"
}

# port_whole: no flip half done, and production, staging and the map
# agree with what /bg says.
port_whole() {
	port_answers "$(served_color)"
}

# Everything a refused bgflip must leave alone.
snapshot() {
	find "$T/state" "$T/run" "$T/log" ! -path "$T/run/lock" \
	    -printf '%p %y %m %s %l\n' | sort
	cat "$T/log/bg.log" "$T"/state/*/color 2>/dev/null | md5sum
	nft list ruleset
}

# bats test_tags=sanitize
@test "port: the ruleset text, the config check and the reading of nft list (unit_nft)" {
	run unit_nft
	echo "$output"
	assert_success
	refute_line --partial "not ok"
	assert_line --regexp '^1\.\.[0-9]+$'
}

# --- the flip ---------------------------------------------------------

t_flip() {
	port_scene
	workers=$(nginx_workers)
	# a fresh state: the first bgflip creates the table, its map and
	# STATE/current
	assert_equal "$(nft list tables)" ""
	run bgflip
	assert_failure 2
	assert_output --partial "no live color yet"
	run bgflip blue
	echo "$output"
	assert_success
	assert_line blue
	port_answers blue
	nft list table inet bg
	assert_equal "$(readlink "$T/state/current")" blue
	assert [ ! -e "$T/state/blue/live.sock" ]
	run bgflip
	echo "$output"
	assert_success
	assert_line green
	port_answers green
	before=$(snapshot)
	run bgflip -n
	assert_success
	assert_line blue
	assert_output --partial "would switch nft table inet bg to blue"
	assert_equal "$(snapshot)" "$before"
	port_answers green
	run bgflip
	assert_success
	port_answers blue
	run bgflip blue
	assert_success
	assert_output --partial "already live"
	assert [ ! -e "$T/run/lock.flip" ]
	assert [ ! -e "$T/state/.bg.nft" ]
	run cat "$T/log/bg.log"
	echo "$output"
	assert_equal "${#lines[@]}" 3
	assert_line --index 0 --regexp ' - blue root v1$'
	assert_line --index 1 --regexp ' blue green root v2$'
	assert_line --index 2 --regexp ' green blue root v1$'
	# nginx was never signalled: the same workers all along
	assert_equal "$(nginx_workers | wc -l)" 2
	assert_equal "$(nginx_workers)" "$workers"
}

# bats test_tags=sanitize
@test "port: bgflip moves production, staging and /bg together; fresh state" {
	in_netns t_flip
}

t_flip6() {
	port_scene 6
	run bgflip blue
	echo "$output"
	assert_success
	port_answers blue
	run bgflip
	assert_success
	port_answers green
}

@test "port: IPv6 loopback addresses" {
	in_netns t_flip6
}

t_gates() {
	port_live
	# being staged, unhealthy: refused, nothing changed
	before=$(snapshot)
	touch "$T/app/.bg-staging.green"
	run bgflip
	assert_failure 1
	assert_output --partial "green is being staged"
	rm "$T/app/.bg-staging.green"
	touch "$T/down-green"
	run bgflip
	assert_failure 1
	assert_output --partial "not healthy"
	assert_equal "$(snapshot)" "$before"
	port_answers blue
	rm "$T/down-green"
	# a config port mode cannot serve: exit 4
	sed -i "s/^staging_addr = .*/staging_addr = $LIVE_ADDR/" "$T/bg.conf"
	run bgflip
	assert_failure 4
	assert_output --partial "same address"
	sed -i "s/^staging_addr = .*/staging_addr = 10.1.2.3:80/" "$T/bg.conf"
	run bgflip
	assert_failure 4
	assert_output --partial "loopback"
	assert_equal "$(snapshot)" "$before"
}

@test "port: the being-staged mark, health and a bad config are refused" {
	in_netns t_gates
}

# --- disagreements and foreign tables ---------------------------------

t_hand_edit() {
	port_live
	key="${LIVE_ADDR%:*} . ${LIVE_ADDR##*:}"
	nft delete element inet bg colors "{ $key }"
	nft add element inet bg colors "{ $key : goto green }"
	before=$(snapshot)
	run bgflip
	echo "$output"
	assert_failure 1
	assert_output --partial "sends live_addr to neither color alone"
	assert_output --partial "rm $T/state/current && bgflip blue"
	assert_equal "$(snapshot)" "$before"
	run bgflip green
	assert_failure 1
	# the repair the hint gives
	rm "$T/state/current"
	run bgflip blue
	echo "$output"
	assert_success
	port_answers blue
	# the map swapped whole by hand: still a disagreement
	nft flush map inet bg colors
	nft add element inet bg colors "{ $key : goto green, ${STAGING_ADDR%:*} . ${STAGING_ADDR##*:} : goto blue }"
	run bgflip
	echo "$output"
	assert_failure 1
	assert_output --partial "sends live_addr to green but"
	# the repair that keeps production where it is, then the flip
	assert_output --partial "ln -sfn green $T/state/current"
	assert_equal "$(prod_answer)" "green v2"
	ln -sfn green "$T/state/current"
	run bgflip -n
	assert_success
	assert_line blue
	assert_equal "$(prod_answer)" "green v2"
	run bgflip blue
	echo "$output"
	assert_success
	port_answers blue
}

# bats test_tags=sanitize
@test "port: a map edited by hand is a disagreement: exit 1 with a repair hint" {
	in_netns t_hand_edit
}

t_restore() {
	port_live
	# a reboot, or nft flush ruleset: the table is gone, current is not
	nft delete table inet bg
	# -n says so and changes nothing
	before=$(snapshot)
	run bgflip -n
	echo "$output"
	assert_success
	assert_output --partial "would restore nft table inet bg for blue"
	assert_line green
	assert_equal "$(snapshot)" "$before"
	run bgflip blue
	echo "$output"
	assert_success
	assert_output --partial "restoring nft table inet bg for blue"
	port_answers blue
}

@test "port: a table gone after a reboot is restored from STATE/current" {
	in_netns t_restore
}

t_chains() {
	port_live
	# blue moves to another port (a new instance there): bgflip makes the
	# table follow the config, as socket mode does its views, even when
	# it flips nothing
	scene_port nb
	start_app blue3 blue v3 "127.0.0.1:$nb"
	sed -i "s/^blue = .*/blue = 127.0.0.1:$nb/" "$T/bg.conf"
	assert_equal "$(prod_answer)" "blue v1"
	before=$(snapshot)
	run bgflip -n blue
	echo "$output"
	assert_success
	assert_output --partial "would rewrite nft table inet bg for blue"
	assert_equal "$(snapshot)" "$before"
	run bgflip blue
	echo "$output"
	assert_success
	assert_output --partial "rewriting nft table inet bg for blue"
	assert_output --partial "already live"
	assert_equal "$(prod_answer)" "blue v3"
	assert_equal "$(staging_answer)" "green v2"
	# a chain edited by hand is written again too
	nft flush chain inet bg blue
	nft add rule inet bg blue meta l4proto tcp dnat ip to "$GREEN_ADDR"
	assert_equal "$(prod_answer)" "green v2"
	run bgflip blue
	echo "$output"
	assert_success
	assert_output --partial "rewriting nft table inet bg for blue"
	assert_equal "$(prod_answer)" "blue v3"
	run bgflip blue
	refute_output --partial "rewriting"
}

@test "port: chains that translate elsewhere than the config says are written again" {
	in_netns t_chains
}

t_foreign() {
	port_scene
	# everything of bg's but the marker comment
	nft add table inet bg
	nft add chain inet bg output '{ type nat hook output priority -100 ; }'
	nft add map inet bg colors '{ type ipv4_addr . inet_service : verdict ; }'
	nft add table inet other
	nft add chain inet other output '{ type nat hook output priority -100 ; }'
	nft add rule inet other output tcp dport 1 dnat ip to 127.0.0.1:2
	theirs=$(nft list table inet bg; nft list table inet other)
	before=$(snapshot)
	run bgflip blue
	echo "$output"
	assert_failure 4
	assert_output --partial "nft table inet bg is not bgflip's"
	assert_equal "$(snapshot)" "$before"
	# another name is free; the foreign tables stay as they were
	echo "nft_table = bg2" >>"$T/bg.conf"
	run bgflip blue
	echo "$output"
	assert_success
	answers_bg2=$(nft list map inet bg2 colors)
	echo "$answers_bg2"
	assert_regex "$answers_bg2" 'goto blue'
	assert_equal "$(nft list table inet bg; nft list table inet other)" "$theirs"
}

@test "port: a table of that name that is not ours is refused, exit 4; others untouched" {
	in_netns t_foreign
}

t_nft_missing() {
	port_live
	before=$(snapshot)
	echo "nft = $T/no-nft" >>"$T/bg.conf"
	run bgflip
	assert_failure 4
	assert_output --partial "nft $T/no-nft"
	cp /usr/sbin/nft "$T/nft"
	chmod 0644 "$T/nft"
	sed -i "s|^nft = .*|nft = $T/nft|" "$T/bg.conf"
	run bgflip
	echo "$output"
	assert_failure 4
	assert_output --partial "nft $T/nft is not an executable file"
	# executable but not root's to trust: writable by a group not root's
	chmod 0775 "$T/nft"
	chgrp nogroup "$T/nft"
	run bgflip
	echo "$output"
	assert_failure 4
	assert_output --partial "nft binary"
	# root's file, in a directory another group can write (whoever is
	# in it can put another file in its place)
	mkdir "$T/bin"
	cp /usr/sbin/nft "$T/bin/nft"
	chmod 0755 "$T/bin/nft"
	chgrp nogroup "$T/bin"
	chmod 0775 "$T/bin"
	sed -i "s|^nft = .*|nft = $T/bin/nft|" "$T/bg.conf"
	run bgflip
	echo "$output"
	assert_failure 4
	assert_output --partial "nft binary $T/bin/nft is unsafe: it lies in $T/bin"
	assert_equal "$(snapshot)" "$before"
	port_answers blue
}

@test "port: nft missing, not executable or not trusted: exit 4 naming it" {
	in_netns t_nft_missing
}

t_nft_env() {
	port_live
	# the caller's environment stays with the caller: nft gets PATH alone
	FOO=bar NFT_DEBUG=all run strace -f -v -s 300 -o "$T/strace.out" \
	    -e trace=execve bgflip
	echo "$output"
	assert_success
	run grep 'execve("/usr/sbin/nft", \[' "$T/strace.out"
	echo "$output"
	assert [ "${#lines[@]}" -ge 3 ]
	assert_line --partial "execve(\"/usr/sbin/nft\", [\"/usr/sbin/nft\", \"-f\", \"$T/state/.bg.nft\"], [\"PATH=/usr/sbin:/usr/bin:/sbin:/bin\"]) = 0"
	# every nft run so: PATH alone
	assert_equal "$(grep -vc '\], \["PATH=/usr/sbin:/usr/bin:/sbin:/bin"\]) = 0$' <<<"$output")" 0
	port_answers green
}

@test "port: nft runs with a fixed argv and PATH as its whole environment" {
	in_netns t_nft_env
}

t_nft_hangs() {
	port_live
	# an nft that never finishes the transaction (its pid kept, to see
	# that the deadline ends it): exit 5 naming it, nothing changed
	printf '#!/bin/sh\ncase "$1" in -f) echo $$ >%s; exec sleep 300 ;; esac\nexec /usr/sbin/nft "$@"\n' \
	    "$T/nft-hang.pid" >"$T/nft"
	chmod 0755 "$T/nft"
	echo "nft = $T/nft" >>"$T/bg.conf"
	before=$(snapshot)
	run timeout -s KILL 60 bgflip
	echo "$output"
	hung=$(cat "$T/nft-hang.pid")
	bg_track "$hung" nft-hang
	assert_failure 5
	assert_output --partial "nft $T/nft did not finish in 10 s"
	refute bg_alive "$hung"
	assert_equal "$(snapshot)" "$before"
	assert [ ! -e "$T/run/lock.flip" ]
	port_answers blue
}

@test "port: an nft that hangs is ended by the deadline: exit 5, nothing changed" {
	in_netns t_nft_hangs
}

# --- faults -----------------------------------------------------------

t_nft_fails() {
	port_live
	before=$(snapshot)
	# the transaction is one netlink batch, sent by nft's first sendmsg:
	# fail it, and nothing may change
	run strace -f -o "$T/strace.out" -e trace=sendmsg \
	    -e inject=sendmsg:error=ENOBUFS:when=1 bgflip
	echo "$output"
	assert_failure 5
	strace_saw "$T/strace.out" \
	    'sendmsg\(.*ENOBUFS \(No buffer space available\) \(INJECTED\)'
	assert_output --partial "nft -f refused the switch"
	assert_equal "$(snapshot)" "$before"
	assert [ ! -e "$T/run/lock.flip" ]
	assert [ ! -e "$T/state/.bg.nft" ]
	port_answers blue
	run bgflip
	assert_success
	port_answers green
}

@test "port: nft failing mid-transaction leaves everything as it was, exit 5" {
	in_netns t_nft_fails
}

t_nft_atomic() {
	port_live
	# The kernel refuses the transaction half way: the map is made
	# constant (its flush and new elements are refused: EBUSY), after the
	# flushes of the chains went through in the same batch. A rule of
	# ours in chain output that the flush would remove shows that
	# nothing of the batch was kept.
	l="${LIVE_ADDR%:*} . ${LIVE_ADDR##*:}"
	s="${STAGING_ADDR%:*} . ${STAGING_ADDR##*:}"
	nft delete table inet bg
	nft -f - <<-EOF
	table inet bg {
		comment "bg: blue/green ports, written by bgflip; do not edit"
		chain blue { meta l4proto tcp dnat ip to $BLUE_ADDR ; }
		chain green { meta l4proto tcp dnat ip to $GREEN_ADDR ; }
		map colors { type ipv4_addr . inet_service : verdict ; flags constant ; elements = { $l : goto blue , $s : goto green } ; }
		chain output { type nat hook output priority -100 ; policy accept ; meta l4proto udp accept ; meta l4proto tcp ip daddr . tcp dport vmap @colors ; }
	}
	EOF
	port_answers blue
	before=$(snapshot)
	run bgflip
	echo "$output"
	assert_regex "$(nft list chain inet bg output)" 'udp accept'
	assert_equal "$(snapshot)" "$before"
	assert_failure 5
	# the kernel refused the batch after the chains' flushes
	assert_output --partial "nft: flush map inet bg colors"
	assert_output --partial "Device or resource busy"
	assert_output --partial "nft -f refused the switch"
	assert [ ! -e "$T/run/lock.flip" ]
	port_answers blue
}

@test "port: a transaction the kernel refuses half way changes nothing, exit 5" {
	in_netns t_nft_atomic
}

t_rollback() {
	port_live
	# the read that verifies the table fails (bgflip's 4th nft: a read
	# for the reboot check, one against current, the transaction, then
	# this one): rolled back, exit 6
	run strace -o "$T/strace.out" -e trace=memfd_create \
	    -e inject=memfd_create:error=EMFILE:when=4 bgflip
	echo "$output"
	assert_failure 6
	strace_saw "$T/strace.out" '^memfd_create\(.*EMFILE .*\(INJECTED\)$'
	assert_output --partial "rolled back: blue is live again"
	assert [ ! -e "$T/run/lock.flip" ]
	port_answers blue
	assert [ ! -s "$T/log/bg.log" ]
	# and when every nft from then on fails, the rollback too: exit 7,
	# the record kept, and the next bgflip finishes the flip
	run strace -o "$T/strace.out" -e trace=memfd_create \
	    -e inject=memfd_create:error=EMFILE:when=4+ bgflip
	echo "$output"
	assert_failure 7
	assert [ "$(grep -c '(INJECTED)' "$T/strace.out")" -ge 2 ]
	assert [ -e "$T/run/lock.flip" ]
	run bgflip -w 10 green
	echo "$output"
	assert_success
	assert_output --partial "found an interrupted flip from blue to green; finishing it"
	port_answers green
	assert_equal "$(wc -l <"$T/log/bg.log")" 1
}

@test "port: a switch the table does not confirm is rolled back (6); a failed rollback is 7, then converges" {
	in_netns t_rollback
}

# kill_each STEP...: SIGKILL bgflip at each SYSCALL:N (asserted to have
# happened); then the next bgflip finishes or undoes the flip, does its
# own, and map, current and /bg agree.
kill_each() {
	local step

	for step in "$@"; do
		bgflip_inject "$step" signal=KILL
		echo "killed at $step: exit $INJECT_ST, map $(map_says), current $(disk_color), record $([ -e "$T/run/lock.flip" ] && echo yes || echo no)"
		strace_saw "$T/strace" '^\+\+\+ killed by SIGKILL \+\+\+$'
		assert_equal "$INJECT_ST" 137
		run bgflip -w 10
		assert_success
		port_whole
		assert [ ! -e "$T/state/.bg.nft" ]
	done
}

t_kill() {
	port_live
	# the record's write and rename; the ruleset's write; nft running
	# (the pidfd bgflip takes on its third nft: one read of the table for
	# the reboot check, one for the check against current); nft done,
	# its output not yet read (lseeks 1 to 4: the lock, two reads, the
	# history's last line); the ruleset's removal; the step between the
	# table and current (the temp link, its rename); the check of /bg and
	# of the table; the history; the record's removal
	kill_each write:1 rename:1 write:2 pidfd_open:3 lseek:5 unlink:3 \
	    symlink:1 rename:2 connect:5 memfd_create:4 write:3 unlink:5
	# the fresh state too: killed between the table and current
	rm -f "$T/state/current"
	nft delete table inet bg
	bgflip_inject symlink:1 signal=KILL green
	strace_saw "$T/strace" '^\+\+\+ killed by SIGKILL \+\+\+$'
	assert_equal "$INJECT_ST" 137
	assert_equal "$(map_says)" green
	assert [ ! -e "$T/state/current" ]
	run bgflip -w 10 green
	echo "$output"
	assert_success
	assert_output --partial "found an interrupted flip from nothing to green"
	port_answers green
}

@test "port: killed at any step, the next bgflip converges" {
	in_netns t_kill
}


t_signals() {
	port_live
	# signal_each (helpers/scene): before the lock it dies of the
	# signal, nothing changed; from the lock on the signal waits, and the
	# flip finishes: never a half state
	signal_each TERM port_whole dies:flock:1 write:2 pidfd_open:3 \
	    symlink:1 connect:5 write:3
}

@test "port: SIGTERM at each step: the flip finishes, never half" {
	in_netns t_signals
}

# --- bgdrain ----------------------------------------------------------

# conns_to ADDR N: N established connections to ADDR's port (the rows
# of the clients, whose remote port it is)
conns_to() {
	[ "$(grep -c ":$(printf '%04X' "${1##*:}") 01" /proc/net/tcp)" -eq "$2" ]
}

t_drain() {
	port_live
	# three connections through live_addr (blue), one through staging
	# (green), held open from here: the kernel translated them
	exec 5<>"/dev/tcp/${LIVE_ADDR%:*}/${LIVE_ADDR##*:}"
	exec 6<>"/dev/tcp/${LIVE_ADDR%:*}/${LIVE_ADDR##*:}"
	exec 7<>"/dev/tcp/${LIVE_ADDR%:*}/${LIVE_ADDR##*:}"
	exec 8<>"/dev/tcp/${STAGING_ADDR%:*}/${STAGING_ADDR##*:}"
	wait_until 5 conns_to "$LIVE_ADDR" 3
	wait_until 5 conns_to "$STAGING_ADDR" 1
	# the client-side rows name live_addr's port, the server-side ones
	# the instance's: only the latter count, each once
	run bgdrain -cF blue
	assert_failure 1
	assert_output "bgdrain: blue has 3 connections in flight"
	run bgdrain -c green
	assert_failure 1
	assert_output "bgdrain: green has 1 connection in flight"
	# after a flip they stay where they are (conntrack)
	bgflip >/dev/null 2>&1
	port_answers green
	run bgdrain -c blue
	assert_output "bgdrain: blue has 3 connections in flight"
	exec 5>&- 6>&- 7>&-
	run bgdrain -q -t 5 blue
	assert_success
	run bgdrain -cF green
	assert_failure 1
	exec 8>&-
	run bgdrain -q -t 5 -F green
	assert_success
}

@test "port: bgdrain counts the translated connections on the instance's port, and only them" {
	in_netns t_drain
}

# --- zero downtime ----------------------------------------------------

t_zero() {
	port_live
	workers=$(nginx_workers)
	bgload_start -k -c 50 -p 50
	bgload_flips 100
	bgload_stop
	bgload_lost_nothing 100
	# nginx never reloaded
	assert_equal "$(nginx_workers | wc -l)" 2
	assert_equal "$(nginx_workers)" "$workers"
}

@test "zero downtime: port mode, 50 keep-alive clients half POST, 100 flips: no request lost" {
	in_netns t_zero
}
