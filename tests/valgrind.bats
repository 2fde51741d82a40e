#!/usr/bin/env bats
# valgrind's memcheck over a few untimed runs of each program: no invalid
# read or write, no use of uninitialised memory, no bad syscall argument,
# no leak (definite or possible). Timing-sensitive
# tests never run under valgrind; these do one plain thing each, against
# the real nginx and fixture instances of helpers/scene.bash.
#
# Only the program itself runs under memcheck (no --trace-children): the
# nginx -t and the hooks it starts are not ours.

load helpers/bg
load helpers/scene

setup() {
	bg_setup
	command -v valgrind >/dev/null || skip "valgrind is not installed"
}

# vg STATUS PROG ARG...: run PROG under memcheck (from tools/, as the tests
# run it); it must exit STATUS with a clean report. Output in $output.
vg() {
	local want=$1 prog=$2 log
	shift 2

	log="$T/vg.$prog.$RANDOM"
	run valgrind -q --error-exitcode=99 --leak-check=full \
	    --show-leak-kinds=definite,possible \
	    --errors-for-leak-kinds=definite,possible \
	    --log-file="$log" "$BG_ROOT/tools/$prog" "$@"
	echo "$prog $*: exit $status"
	echo "$output"
	cat "$log"
	if grep -q 'debuginfo reader' "$log"; then
		echo "valgrind $(valgrind --version) cannot read the debug info of tools/$prog: built by clang (DWARF 5)? Rebuild with gcc, or with CFLAGS+=-gdwarf-4"
		return 1
	fi
	assert_equal "$status" "$want"
	# -q: memcheck writes only what it found, on ==PID== lines (a
	# program exiting with the status it expects can still have had an
	# error). --PID-- lines are valgrind's own notes, such as 3.19 not
	# knowing pidfd_open: the programs then take their fallback path.
	refute grep -q '^==[0-9]*==' "$log"
}

@test "valgrind: bgswapconf on files and stdin" {
	printf 'upstream app_blue { server unix:/run/blue.sock; }\nBlue GREEN evergreen\n' >"$T/a.conf"
	vg 0 bgswapconf "$T/a.conf"
	assert_line --index 0 "upstream app_green { server unix:/run/green.sock; }"
	assert_line --index 1 "Green BLUE evergreen"
	vg 0 bgswapconf -a -w green,red "$T/a.conf"
	assert_line --index 1 "Blue RED everred"
	vg 5 bgswapconf "$T/a.conf" "$T/missing.conf"
	vg 2 bgswapconf -w blue,blue
}

@test "valgrind: bgcolor against a real nginx, over TCP and a unix socket" {
	port=$(free_port)
	cat >"$T/snippet" <<EOF
server {
	listen 127.0.0.1:$port;
	listen unix:$T/nginx.sock;
	location = /bg { return 200 "green\n"; }
	location = /junk { return 200 "purple\n"; }
}
EOF
	start_nginx "$T/snippet"
	vg 0 bgcolor -u "http://127.0.0.1:$port/bg"
	assert_output green
	vg 0 bgcolor -s -u "unix:$T/nginx.sock:/bg"
	assert_output blue
	vg 5 bgcolor -u "http://127.0.0.1:$port/junk"
	write_conf "$T/c.conf" url="http://127.0.0.1:$port/bg" host_header=example.com
	vg 0 bgcolor -f "$T/c.conf"
	vg 4 bgcolor -f "$T/missing.conf"
}

@test "valgrind: bgdrain -c on an idle and a busy standby" {
	scene reload
	vg 0 bgdrain -c
	vg 1 bgdrain -c blue	# live: refused
	# a connection held open to green makes it busy
	exec 5<>"/dev/tcp/${GREEN_ADDR%:*}/${GREEN_ADDR##*:}"
	wait_until 5 in_flight "$GREEN_ADDR" 1
	vg 1 bgdrain -c green
	exec 5>&-
}

@test "valgrind: bgstage with a trivial hooks directory" {
	scene reload
	printf '#!/bin/sh\necho "restart $1"\n' >"$T/hooks/restart"
	printf '#!/bin/sh\nexit 0\n' >"$T/hooks/install"
	chmod 0755 "$T/hooks/restart" "$T/hooks/install"
	vg 0 bgstage -n
	vg 0 bgstage -i green
	assert_line --index -1 green
	vg 1 bgstage blue	# the live color
}

@test "valgrind: bgflip in a scene, dry run and real flips, reload mode" {
	scene reload
	vg 0 bgflip -n
	assert_line --index -1 green
	vg 0 bgflip
	assert_line --index -1 green
	assert_equal "$(served_color)" green
	vg 0 bgflip green	# already live
	touch "$T/down-blue"
	vg 1 bgflip	# unhealthy
	assert_equal "$(served_color)" green
}

@test "valgrind: bgflip in a scene, socket mode" {
	scene socket
	vg 0 bgflip
	assert_line --index -1 green
	assert_equal "$(served_color)" green
	vg 0 bgflip -n blue
}
