#!/usr/bin/env bats
# bgdrain: counting in-flight connections to a color from /proc/net, against
# real nginx and the fixture app, over IPv4, IPv6 and unix sockets.

# shellcheck disable=SC2154 # $stderr: set by bats' run --separate-stderr
bats_require_minimum_version 1.5.0
load helpers/bg

setup() {
	bg_setup
	C=$T/bg.conf
}

teardown() {
	exec 7>&- 8>&-
	# a test may leave an app stopped; a stopped app cannot stop
	for f in "$T"/app-*.pid; do
		[ -f "$f" ] && kill -CONT "$(cat "$f")" 2>/dev/null
	done
	bg_teardown
}

# Blue (live, per nginx's /bg) and green (the standby) on 127.0.0.1; nginx
# proxies everything else to green with no upstream keepalive, so a request
# through nginx is one connection to green for as long as it runs.
# GPORT, GLISTEN, GADDR, GPROXY override green's port, listen address,
# config value and proxy_pass target.
two_colors() {
	BP=$(free_port)
	start_app blue blue 1 "127.0.0.1:$BP"
	GP=${GPORT:-$(free_port)}
	start_app green green 1 "${GLISTEN:-127.0.0.1:$GP}" --sock-mode 0666
	NP=$(free_port)
	cat >"$T/site.conf" <<EOF
server {
	listen 127.0.0.1:$NP;
	location = /bg { default_type text/plain; return 200 "blue\n"; }
	location / { proxy_pass http://${GPROXY:-127.0.0.1:$GP}; }
}
EOF
	start_nginx "$T/site.conf"
	write_conf "$C" "url=http://127.0.0.1:$NP/bg" "blue=127.0.0.1:$BP" \
	    "green=${GADDR:-127.0.0.1:$GP}" timeout=10
}

# Green alone, for tests that name it with -F: url points at a closed port,
# so bgdrain fails if it asks which color is live. Same overrides.
green_only() {
	GP=${GPORT:-$(free_port)}
	start_app green green 1 "${GLISTEN:-127.0.0.1:$GP}"
	write_conf "$C" "url=http://127.0.0.1:1/bg" "blue=127.0.0.1:2" \
	    "green=${GADDR:-127.0.0.1:$GP}" timeout=10
}

# count_is ADDR N: wait (5 s at most) until ADDR has N connections in flight,
# counted the same through netlink and /proc (in_flight, helpers/bg: while a
# connection is being made the two readings may differ, and it fails).
count_is() {
	wait_until 5 in_flight "$1" "$2" && return 0
	echo "count_is: $1 has $(unit_proc -n "$1" 2>&1) connections in flight, not $2" >&2
	return 1
}

# agree ADDR N: netlink sock_diag and /proc/net both count N for ADDR
# (unit_proc -n counts both ways and says "diag X, proc Y" when they differ).
agree() {
	run unit_proc -n "$1"
	echo "unit_proc -n $1: $output"
	assert_success
	assert_output "$2"
	run unit_proc -d "$1"
	assert_output "$2"
	run unit_proc -p "$1"
	assert_output "$2"
}

# idle_conn HOST PORT: one keep-alive request on fd 7, left open.
idle_conn() {
	local line

	exec 7<>"/dev/tcp/$1/$2"
	printf 'GET / HTTP/1.1\r\nHost: t\r\n\r\n' >&7
	read -r -t 5 line <&7
	assert_regex "$line" '^HTTP/1\.1 200 '
}

# bats test_tags=sanitize
@test "bgdrain: the /proc line parsers pass their unit tests (unit_proc)" {
	run unit_proc -t
	echo "$output"
	assert_success
	assert_line --regexp '^[0-9]+ passed, 0 failed$'
	refute_line --partial FAIL
}

# bats test_tags=sanitize
@test "bgdrain: a recorded table of thousands of rows: each connection counted once" {
	# /proc prints addresses as native words: these are little-endian
	[ "$(printf '\1\0' | od -An -tu2 | tr -d ' ')" = 1 ] ||
	    skip "the recorded rows are little-endian"
	# 127.0.0.1:8001 is 0100007F:1F41. Rows padded to 149 bytes like the
	# kernel's, about 1 MB in all, so lines straddle bgdrain's reads.
	awk 'function row(i, l, lp, r, rp, st) {
		s = sprintf("%4d: %s:%04X %s:%04X %02X 00000000:00000000 00:00000000 00000000     0        0 %d 1 0000000000000000 20 4 30 10 -1", i, l, lp, r, rp, st, 1000 + i)
		while (length(s) < 149) s = s " "
		return s
	}
	BEGIN {
		print "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
		for (i = 0; i < 3000; i++) {
			est[i] = row(i, "0100007F", 8001, "0100007F", 30000 + i, 1)
			print est[i]				# server side: counts
			print row(i, "0100007F", 30000 + i, "0100007F", 8001, 1)	# client side
		}
		for (i = 0; i < 500; i++)
			print row(i, "0100007F", 8001, "0100007F", 40000 + i, 6)	# TIME_WAIT
		for (i = 0; i < 200; i++)
			print row(i, "0100007F", 8001, "0200000A", 50000 + i, 8)	# CLOSE_WAIT: counts
		for (i = 0; i < 50; i++)
			print row(i, "0200007F", 8001, "0100007F", 55000 + i, 1)	# 127.0.0.2
		print row(1, "0100007F", 8001, "0100007F", 8002, 10)		# LISTEN
		for (i = 0; i < 100; i++)
			print est[i * 7]			# seen twice: once
		printf "%s", row(9999, "0100007F", 8001, "0100007F", 60000, 1)	# no newline: counts
	}' >"$T/tcp"
	run unit_proc -f 127.0.0.1:8001 "$T/tcp"
	assert_output 3201
	run unit_proc -f 0.0.0.0:8001 "$T/tcp"
	assert_output 3251
	run unit_proc -f 127.0.0.1:8002 "$T/tcp"
	assert_output 0

	awk 'function row(id, fl, ty, st, ino, p) {
		return sprintf("%016x: 00000002 00000000 %08X %04X %02X %5d%s", id, fl, ty, st, ino, p)
	}
	BEGIN {
		p = " /run/app/green.sock"
		print "Num       RefCount Protocol Flags    Type St Inode Path"
		print row(1, 65536, 1, 1, 7, p)			# the listener
		for (i = 0; i < 1000; i++) {
			acc[i] = row(4096 + i, 0, 1, 3, 10000 + i, p)
			print acc[i]				# accepted: counts
			print row(65536 + i, 0, 1, 3, 20000 + i, "")	# its client
		}
		for (i = 0; i < 10; i++)
			print row(8192 + i, 0, 1, 2, 0, p)	# not accepted yet: counts
		for (i = 0; i < 5; i++)
			print row(0, 0, 1, 3, 30000 + i, p)	# ids hidden: each counts
		print row(2, 0, 2, 1, 8, p)			# datagram
		print row(3, 0, 1, 3, 9, p ".old")		# another path
		print row(4, 0, 1, 3, 9, " @/run/app/green.sock")	# abstract
		for (i = 0; i < 50; i++)
			print acc[i * 3]			# seen twice: once
	}' >"$T/unix"
	run unit_proc -f unix:/run/app/green.sock "$T/unix"
	assert_output 1015
}

@test "bgdrain: a slow request through nginx keeps the old color busy until it ends" {
	two_colors
	run --separate-stderr bgdrain -c -f "$C"
	assert_success
	assert_output ""
	assert_equal "$stderr" ""

	curl -s -o "$T/body" "http://127.0.0.1:$NP/slow?sleep=3500" 3>&- &
	bg_track $! curl
	cpid=$!
	count_is "127.0.0.1:$GP" 1
	run --separate-stderr bgdrain -c -f "$C"
	echo "$stderr"
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "bgdrain: green has 1 connection in flight"

	bgdrain -t 5 -f "$C" 2>"$T/drain.err" 3>&- &
	dpid=$!
	bg_track $dpid bgdrain
	sleep 0.5
	assert bg_alive "$dpid"	# still waiting: the request is in flight
	wait "$dpid"
	cat "$T/drain.err"
	wait "$cpid"
	assert_equal "$(cat "$T/body")" "green 1"
	assert [ ! -s "$T/drain.err" ]
	run unit_proc -n "127.0.0.1:$GP"
	assert_output 0
}

# bats test_tags=sanitize
@test "bgdrain: an idle keep-alive connection counts; closing it drains" {
	green_only
	idle_conn 127.0.0.1 "$GP"
	run --separate-stderr bgdrain -F -c -f "$C" green
	assert_failure 1
	assert_equal "$stderr" "bgdrain: green has 1 connection in flight"
	# the client side of the loopback connection is there, not counted
	assert_equal "$(ss -Htn state established "( dport = :$GP )" | wc -l)" 1
	agree "127.0.0.1:$GP" 1
	agree "0.0.0.0:$GP" 1
	agree "127.0.0.2:$GP" 0
	exec 7>&-
	run bgdrain -F -t 5 -q -f "$C" green
	assert_success
	assert_output ""
}

@test "bgdrain: TIME_WAIT on the old color's port does not count" {
	green_only
	# HTTP/1.0: bgapp answers and closes first, so its side of the
	# connection ends in TIME_WAIT.
	exec 7<>"/dev/tcp/127.0.0.1/$GP"
	printf 'GET / HTTP/1.0\r\n\r\n' >&7
	timeout 5 cat <&7 >"$T/reply"
	exec 7>&-
	run cat "$T/reply"
	assert_line --partial "green 1"
	port=$(printf '%04X' "$GP")
	wait_until 5 grep -Eq "^ *[0-9]+: [0-9A-F]+:$port [0-9A-F]+:[0-9A-F]+ 06 " /proc/net/tcp
	run --separate-stderr bgdrain -F -c -f "$C" green
	assert_success
	assert_equal "$stderr" ""
	agree "127.0.0.1:$GP" 0
	assert grep -Eq "^ *[0-9]+: [0-9A-F]+:$port [0-9A-F]+:[0-9A-F]+ 06 " /proc/net/tcp
}

# bats test_tags=sanitize
@test "bgdrain: counts connections to an instance on [::1]" {
	[ -e /proc/net/tcp6 ] || skip "no IPv6"
	p=$(free_port)
	GPORT=$p GLISTEN="[::1]:$p" GADDR="[::1]:$p" green_only
	idle_conn ::1 "$GP"
	run --separate-stderr bgdrain -F -c -f "$C" green
	assert_failure 1
	assert_equal "$stderr" "bgdrain: green has 1 connection in flight"
	agree "[::1]:$GP" 1
	agree "[::]:$GP" 1
	agree "127.0.0.1:$GP" 0
	exec 7>&-
	run bgdrain -F -t 5 -f "$C" green
	assert_success
}

# bats test_tags=sanitize
@test "bgdrain: a dual-stack [::] instance counts IPv4 clients (v4-mapped rows)" {
	[ -e /proc/net/tcp6 ] || skip "no IPv6"
	p=$(free_port)
	GPORT=$p GLISTEN="[::]:$p" GADDR="[::]:$p" green_only
	idle_conn 127.0.0.1 "$GP"
	run --separate-stderr bgdrain -F -c -f "$C" green
	assert_failure 1
	assert_equal "$stderr" "bgdrain: green has 1 connection in flight"
	agree "[::]:$GP" 1
	agree "127.0.0.1:$GP" 1
	agree "[::ffff:127.0.0.1]:$GP" 1
	agree "[::1]:$GP" 0
	agree "127.0.0.2:$GP" 0
	# a name with several addresses: the kernel's filter tries each
	exec 8<>"/dev/tcp/::1/$GP"
	agree "[::1]:$GP" 1
	run unit_proc -m "$GP" 127.0.0.1 ::1
	assert_output 2
	run unit_proc -m "$GP" 127.0.0.2 ::1
	assert_output 1
	run unit_proc -m "$GP" ::2 127.0.0.2 127.0.0.1
	assert_output 1
	run unit_proc -m "$GP" ::2 127.0.0.2
	assert_output 0
	exec 8>&-
	# the config may name the IPv4 address its clients use
	write_conf "$C" url=http://127.0.0.1:1/bg blue=127.0.0.1:2 \
	    "green=127.0.0.1:$GP"
	run --separate-stderr bgdrain -F -c -f "$C" green
	assert_failure 1
	assert_equal "$stderr" "bgdrain: green has 1 connection in flight"
	# another local address on the same port is another instance
	write_conf "$C" url=http://127.0.0.1:1/bg blue=127.0.0.1:2 \
	    "green=127.0.0.2:$GP"
	run bgdrain -F -c -f "$C" green
	assert_success
	exec 7>&-
}

# bats test_tags=sanitize
@test "bgdrain: counts connected unix sockets bound to the instance's path" {
	S=$T/green.sock
	GLISTEN="unix:$S" GADDR="unix:$S" GPROXY="unix:$S:" two_colors
	# the listening socket itself is not a connection
	run bgdrain -c -f "$C"
	assert_success
	curl -s -o "$T/body" "http://127.0.0.1:$NP/slow?sleep=2000" 3>&- &
	cpid=$!
	bg_track $cpid curl
	curl -s -o "$T/body2" --unix-socket "$S" "http://x/slow?sleep=2000" 3>&- &
	bg_track $! curl
	count_is "unix:$S" 2
	agree "unix:$S" 2
	agree "unix:$S.other" 0
	run --separate-stderr bgdrain -c -f "$C"
	assert_failure 1
	assert_equal "$stderr" "bgdrain: green has 2 connections in flight"
	run bgdrain -t 5 -f "$C"
	assert_success
	wait "$cpid"
	assert_equal "$(cat "$T/body")" "green 1"
}

@test "bgdrain: connections the instance has not accepted yet count" {
	green_only
	start_app blue blue 1 "unix:$T/blue.sock"
	write_conf "$C" url=http://127.0.0.1:1/bg "blue=unix:$T/blue.sock" \
	    "green=127.0.0.1:$GP"
	# stopped, the apps accept nothing: connections wait in their
	# listen queues, established by the kernel alone
	kill -STOP "$(cat "$T/app-green.pid")" "$(cat "$T/app-blue.pid")"
	run ps -o state= -p "$(cat "$T/app-green.pid"),$(cat "$T/app-blue.pid")"
	assert_output $'T\nT'
	exec 7<>"/dev/tcp/127.0.0.1/$GP"
	curl -s -o "$T/body" --max-time 20 --unix-socket "$T/blue.sock" \
	    http://x/ 3>&- &
	cpid=$!
	bg_track $cpid curl
	count_is "unix:$T/blue.sock" 1
	agree "unix:$T/blue.sock" 1
	agree "127.0.0.1:$GP" 1
	run --separate-stderr bgdrain -F -c -f "$C" green
	assert_failure 1
	assert_equal "$stderr" "bgdrain: green has 1 connection in flight"
	run --separate-stderr bgdrain -F -c -f "$C" blue
	assert_failure 1
	assert_equal "$stderr" "bgdrain: blue has 1 connection in flight"
	kill -CONT "$(cat "$T/app-green.pid")" "$(cat "$T/app-blue.pid")"
	wait "$cpid"
	assert_equal "$(cat "$T/body")" "blue 1"
	exec 7>&-
	run bgdrain -F -t 5 -f "$C" green
	assert_success
	run bgdrain -F -t 5 -f "$C" blue
	assert_success
}

@test "bgdrain: netlink refused: says so once, counts from /proc/net" {
	command -v strace >/dev/null || skip "no strace"
	green_only
	idle_conn 127.0.0.1 "$GP"
	# every netlink socket(2) fails as in a sandbox that forbids them
	run --separate-stderr strace -f -qq -o "$T/strace" \
	    -e trace=socket -e inject=socket:error=EACCES \
	    bgdrain -F -t 0.5 -i 50 -f "$C" green
	cat "$T/strace"
	echo "$stderr"
	assert_failure 3
	strace_saw "$T/strace" 'socket\(AF_NETLINK, .*NETLINK_SOCK_DIAG\) = -1 EACCES \(Permission denied\) \(INJECTED\)'
	assert_equal "$stderr" "bgdrain: cannot count through netlink sock_diag, reading /proc/net instead: Permission denied
bgdrain: green still has 1 connection after 0.5s"
	exec 7>&-
	run --separate-stderr strace -f -qq -o "$T/strace" \
	    -e trace=socket -e inject=socket:error=EACCES \
	    bgdrain -F -c -f "$C" green
	assert_success
	strace_saw "$T/strace" 'NETLINK_SOCK_DIAG\) = -1 EACCES .*\(INJECTED\)'
	assert_equal "$stderr" "bgdrain: cannot count through netlink sock_diag, reading /proc/net instead: Permission denied"
	# without the fault, netlink answers and nothing is said
	run --separate-stderr strace -f -qq -o "$T/strace" -e trace=socket \
	    bgdrain -F -c -f "$C" green
	assert_success
	assert_equal "$stderr" ""
	strace_saw "$T/strace" 'socket\(AF_NETLINK, .*NETLINK_SOCK_DIAG\) = [0-9]'
}

@test "bgdrain: refuses the live color unless -F" {
	two_colors
	run --separate-stderr bgdrain -c -f "$C" blue
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "bgdrain: blue is live: it would never drain; to wait for it anyway: bgdrain -F blue"
	run --separate-stderr bgdrain -F -c -f "$C" blue
	assert_success
	assert_equal "$stderr" ""
	idle_conn 127.0.0.1 "$BP"
	run --separate-stderr bgdrain -F -c -f "$C" blue
	assert_failure 1
	assert_equal "$stderr" "bgdrain: blue has 1 connection in flight"
}

@test "bgdrain: -t gives up with exit 3 naming the connections left" {
	green_only
	idle_conn 127.0.0.1 "$GP"
	run --separate-stderr bgdrain -F -t 0.5 -i 50 -f "$C" green
	assert_failure 3
	assert_output ""
	assert_equal "$stderr" "bgdrain: green still has 1 connection after 0.5s"
	# the config's timeout is the default
	write_conf "$C" url=http://127.0.0.1:1/bg blue=127.0.0.1:2 \
	    "green=127.0.0.1:$GP" timeout=1
	run --separate-stderr bgdrain -F -f "$C" green
	assert_failure 3
	assert_equal "$stderr" "bgdrain: green still has 1 connection after 1s"
	# its polls stop at the first connection; the message counts them all
	exec 8<>"/dev/tcp/127.0.0.1/$GP"
	count_is "127.0.0.1:$GP" 2
	run --separate-stderr bgdrain -F -t 0.3 -f "$C" green
	assert_failure 3
	assert_equal "$stderr" "bgdrain: green still has 2 connections after 0.3s"
	run --separate-stderr bgdrain -F -c -f "$C" green
	assert_failure 1
	assert_equal "$stderr" "bgdrain: green has 2 connections in flight"
}

@test "bgdrain: progress on a terminal, cleared at the end; -q silences it" {
	green_only
	idle_conn 127.0.0.1 "$GP"
	run script -qec "bgdrain -F -t 0.5 -f '$C' green" /dev/null
	echo "$output" | od -c | head -20
	assert_output --partial $'\rbgdrain: green: 1 connection, 0.'
	assert_output --partial $'\r\e[Kbgdrain: green still has 1 connection after 0.5s'
	run script -qec "bgdrain -F -q -t 0.5 -f '$C' green" /dev/null
	refute_output --partial 'connection, '
	assert_output --partial 'bgdrain: green still has 1 connection after 0.5s'
}

# bats test_tags=sanitize
@test "bgdrain: SIGTERM while waiting ends it at once" {
	green_only
	idle_conn 127.0.0.1 "$GP"
	bgdrain -F -t 60 -f "$C" green 2>/dev/null 3>&- &
	dpid=$!
	bg_track $dpid bgdrain
	sleep 0.3
	kill -TERM "$dpid"
	wait_until 5 bg_gone "$dpid"
	st=0
	wait "$dpid" || st=$?
	assert_equal "$st" 143
}

USAGE="usage: bgdrain [-cFq] [-f conf] [-i ms] [-t secs] [COLOR]
       bgdrain -V"

# bad_usage ARG...: bgdrain -F -c -f $C ARG... is a usage error.
bad_usage() {
	run --separate-stderr bgdrain -F -c -f "$C" "$@"
	echo "bgdrain $*: $stderr"
	assert_failure 2
	assert_output ""
	# the message, if any, then the usage
	assert_equal "${stderr: -${#USAGE}}" "$USAGE"
}

# bats test_tags=sanitize
@test "bgdrain: usage errors exit 2" {
	write_conf "$C" url=http://127.0.0.1:1/bg blue=127.0.0.1:2 green=127.0.0.1:3
	bad_usage "green;id"
	assert_equal "$stderr" "bgdrain: not a color: \"green;id\" (want blue or green)
$USAGE"
	bad_usage ../blue
	bad_usage Blue
	bad_usage ""
	bad_usage "green "
	bad_usage blue green
	bad_usage -i 0 green
	bad_usage -i 60001 green
	bad_usage -i 1x green
	bad_usage -i -5 green
	bad_usage -t 0 green
	bad_usage -t -1 green
	bad_usage -t 86401 green
	bad_usage -t 1.0001 green
	bad_usage -x green
	bad_usage -f
	run bgdrain -h
	assert_success
	assert_output "$USAGE"
}

@test "bgdrain: configuration errors exit 4" {
	run --separate-stderr bgdrain -F -c -f "$T/nope.conf" green
	assert_failure 4
	write_conf "$C" url=http://127.0.0.1:1/bg blue=127.0.0.1:2
	run --separate-stderr bgdrain -F -c -f "$C" green
	assert_failure 4
	assert_equal "$stderr" "bgdrain: $C: missing required key \"green\""
	write_conf "$C" url=http://127.0.0.1:1/bg blue=127.0.0.1:2 green=nowhere
	run --separate-stderr bgdrain -F -c -f "$C" green
	assert_failure 4
	write_conf "$C" url=http://127.0.0.1:1/bg blue=127.0.0.1:2 \
	    green=127.0.0.1:3 timeout=soon
	BG_CONF=$C run --separate-stderr bgdrain -F -c green
	assert_failure 4
}

@test "bgdrain: no answer from url exits 5 (refused) or 3 (too slow)" {
	P=$(free_port)
	write_conf "$C" "url=http://127.0.0.1:$P/bg" blue=127.0.0.1:2 \
	    green=127.0.0.1:3
	run --separate-stderr bgdrain -c -f "$C"
	assert_failure 5
	assert_output ""
	# naming the color still asks url whether it is live; -F does not
	run bgdrain -c -f "$C" green
	assert_failure 5
	run bgdrain -F -c -f "$C" green
	assert_success
	# a body that is not a color
	start_app other purple 1 "127.0.0.1:$P"
	run --separate-stderr bgdrain -c -f "$C"
	assert_failure 5
	# the url's 2 s deadline
	write_conf "$C" "url=http://127.0.0.1:$P/bg?sleep=4000" \
	    blue=127.0.0.1:2 green=127.0.0.1:3
	run --separate-stderr bgdrain -c -f "$C"
	echo "$stderr"
	assert_failure 3
}

@test "bgdrain: an unreadable socket table exits 5" {
	command -v strace >/dev/null || skip "no strace"
	write_conf "$C" url=http://127.0.0.1:1/bg blue=127.0.0.1:2 green=127.0.0.1:3
	# netlink refused, and root reads /proc whatever its mode: make
	# the open fail instead. strace's -P would hide socket(2), so find
	# which openat(2) reads /proc/net/tcp first, then fail that one.
	strace -qq -o "$T/strace" -e trace=socket,openat \
	    -e inject=socket:error=EACCES bgdrain -F -c -f "$C" green || true
	k=$(grep '^openat(' "$T/strace" | grep -n '/proc/net/tcp"' | head -1 |
	    cut -d: -f1)
	assert [ -n "$k" ]
	run strace -qq -o "$T/strace" -e trace=socket,openat \
	    -e inject=socket:error=EACCES -e inject=openat:error=EIO:when="$k" \
	    bgdrain -F -c -f "$C" green
	cat "$T/strace"
	echo "$output"
	assert_failure 5
	strace_saw "$T/strace" 'NETLINK_SOCK_DIAG\) = -1 EACCES .*\(INJECTED\)'
	strace_saw "$T/strace" '/proc/net/tcp".* = -1 EIO .*\(INJECTED\)'
	assert_line "bgdrain: cannot count connections to green (127.0.0.1:3): Input/output error"
}
