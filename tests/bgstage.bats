#!/usr/bin/env bats
# bgstage: hooks, refusals, the health wait, the mark, the lock.
#
# Real nginx answers /bg with "blue", so green is the standby. Hooks come
# from tests/hooks/fixture, copied to $T/hooks (a fresh 0755 directory
# whatever the checkout's umask); its restart starts tests/bin/bgapp for the
# color on BG_ADDR, never systemctl. APP is $T/app.

load helpers/bg
bats_require_minimum_version 1.5.0

setup() {
	bg_setup
	NP=$(free_port)
	BP=$(free_port)
	GP=$(free_port)
	cat >"$T/nginx.snippet" <<EOF
server {
	listen 127.0.0.1:$NP;
	location = /bg { return 200 "blue\n"; }
}
EOF
	start_nginx "$T/nginx.snippet"
	mkdir -p "$T/app/blue" "$T/app/green"
	ln -s "$BG_ROOT/tests/bin/bgapp" "$T/app/bgapp"
	cp -R "$BG_ROOT/tests/hooks/fixture" "$T/hooks"
	chmod 0755 "$T/hooks" "$T/hooks"/*
	export BG_CONF="$T/bg.conf"
	write_conf "$BG_CONF" "url=http://127.0.0.1:$NP/bg" \
	    "blue=127.0.0.1:$BP" "green=127.0.0.1:$GP" "hooks=$T/hooks" \
	    "app=$T/app" "lock=$T/lock" timeout=10
	LOG="$T/app/hooks.log"
}

teardown() {
	local f

	for f in "$T"/app/bgapp.*.pid; do
		[ -s "$f" ] && bg_track "$(cat "$f")" hook-app
	done
	bg_teardown
}

# hook NAME BODY: replace a hook of $T/hooks with a sh script
hook() {
	printf '#!/bin/sh\n%s\n' "$2" >"$T/hooks/$1"
	chmod 0755 "$T/hooks/$1"
}

# bats test_tags=sanitize
@test "bgstage: stages the stopped standby and waits until it is healthy" {
	run --separate-stderr bgstage
	echo "$stderr"
	assert_success
	assert_output green
	# the hook's stdout went to bgstage's stderr, not to stdout
	assert_regex "$stderr" 'restart: restarting green'
	run cat "$LOG"
	assert_output "restart green"
	run curl -sf "http://127.0.0.1:$GP/up"
	assert_output ok
	run curl -sf "http://127.0.0.1:$GP/"
	assert_output "green v1"
}

@test "bgstage: stages an instance on a unix socket" {
	write_conf "$BG_CONF" "url=http://127.0.0.1:$NP/bg" \
	    "blue=127.0.0.1:$BP" "green=unix:$T/green.sock" "hooks=$T/hooks" \
	    "app=$T/app" "lock=$T/lock" timeout=10
	run --separate-stderr bgstage green
	echo "$stderr"
	assert_success
	assert_output green
	run curl -sf --unix-socket "$T/green.sock" http://x/
	assert_output "green v1"
}

@test "bgstage: times out (exit 3) on an instance that keeps answering 503" {
	touch "$T/app/down.green"
	run bgstage -t 1 green
	echo "$output"
	assert_failure 3
	assert_output --partial "green not healthy after 1s: last answer 503"
	run cat "$LOG"
	assert_output "restart green"
}

@test "bgstage: times out (exit 3) naming a refused connection" {
	hook restart 'exit 0'
	run bgstage -t 0.5 green
	echo "$output"
	assert_failure 3
	assert_output --partial "green not healthy after 0.5s: cannot connect"
	assert_output --partial "refused"
}

@test "bgstage: a missing hook stops it (exit 1) before any hook runs" {
	rm "$T/hooks/restart"
	run bgstage -i -m green
	echo "$output"
	assert_failure 1
	assert_output --partial "$T/hooks/restart"
	assert [ ! -e "$LOG" ]
	rm "$T/hooks/migrate"
	run bgstage -m green
	assert_failure 1
	assert_output --partial "$T/hooks/migrate"
}

@test "bgstage: a non-executable hook stops it (exit 1)" {
	chmod 0644 "$T/hooks/migrate"
	run bgstage -i -m green
	echo "$output"
	assert_failure 1
	assert_output --partial "$T/hooks/migrate is not an executable file"
	assert [ ! -e "$LOG" ]
}

@test "bgstage: a failing hook stops it (exit 1) and later hooks do not run" {
	hook migrate 'echo "migrate $1" >>"$BG_APP_DIR/../hooks.log"; exit 3'
	run bgstage -i -m green
	echo "$output"
	assert_failure 1
	assert_output --partial "hook $T/hooks/migrate exited 3"
	run cat "$LOG"
	assert_output $'install green\nmigrate green'
}

@test "bgstage: a killed hook stops it (exit 1) and later hooks do not run" {
	hook install 'echo "install $1" >>"$BG_APP_DIR/../hooks.log"; kill -9 $$'
	run bgstage -i -m green
	echo "$output"
	assert_failure 1
	assert_output --partial "hook $T/hooks/install killed by signal 9"
	run cat "$LOG"
	assert_output "install green"
}

@test "bgstage: a failing restart leaves the being-staged mark" {
	: >"$T/app/.bg-staging.green"
	hook restart 'exit 1'
	run bgstage green
	assert_failure 1
	assert [ -e "$T/app/.bg-staging.green" ]
}

@test "bgstage: removes the being-staged mark on success, keeps it on a timeout" {
	: >"$T/app/.bg-staging.green"
	: >"$T/app/.bg-staging.blue"
	touch "$T/app/down.green"
	run bgstage -t 0.5 green
	assert_failure 3
	assert [ -e "$T/app/.bg-staging.green" ]
	rm "$T/app/down.green"
	run bgstage -t 5 green
	echo "$output"
	assert_success
	assert [ ! -e "$T/app/.bg-staging.green" ]
	# the other color's mark is not ours to clear
	assert [ -e "$T/app/.bg-staging.blue" ]
}

@test "bgstage: refuses the live color (exit 1), even with -F" {
	run bgstage blue
	echo "$output"
	assert_failure 1
	assert_output --partial "blue is live"
	run bgstage -F blue
	assert_failure 1
	assert_output --partial "blue is live"
	run bgstage -n -F -i blue
	assert_failure 1
	assert [ ! -e "$LOG" ]
}

@test "bgstage: refuses while a request is in flight on the target; -F overrides" {
	run bgstage green
	assert_success
	curl -s -o "$T/slow.out" "http://127.0.0.1:$GP/?sleep=3000" 3>&- &
	bg_track $! curl
	wait_until 5 in_flight "127.0.0.1:$GP" 1
	run bgstage green
	echo "$output"
	assert_failure 1
	assert_output --partial "green still has 1 connection in flight; to stage it anyway: bgstage -F green"
	run cat "$LOG"
	assert_output "restart green"
	run bgstage -F green
	echo "$output"
	assert_success
	assert_output --partial green
	run cat "$LOG"
	assert_output $'restart green\nrestart green'
}

# bats test_tags=sanitize
@test "bgstage: runs install and migrate in order, only when asked" {
	run bgstage -m -i green
	echo "$output"
	assert_success
	run cat "$LOG"
	assert_output $'install green\nmigrate green\nrestart green'
	rm "$LOG"
	run bgstage -m green
	assert_success
	run cat "$LOG"
	assert_output $'migrate green\nrestart green'
}

# bats test_tags=sanitize
@test "bgstage: hooks get a fixed argv, cwd APP/COLOR and a clean environment" {
	hook install 'printf "%s\n" "$0" "$@" >"$BG_APP_DIR/../argv"
pwd -P >"$BG_APP_DIR/../pwd"
env | LC_ALL=C sort >"$BG_APP_DIR/../env"'
	GP6=$(free_port)
	write_conf "$BG_CONF" "url=http://127.0.0.1:$NP/bg" \
	    "blue=127.0.0.1:$BP" "green=[::1]:$GP6" "hooks=$T/hooks" \
	    "app=$T/app" "lock=$T/lock" timeout=10
	BG_LEAK=1 HOME=/nonexistent run bgstage -i green
	echo "$output"
	assert_success
	run cat "$T/app/argv"
	assert_output "$T/hooks/install"$'\n'green
	run cat "$T/app/pwd"
	assert_output "$(cd "$T/app/green" && pwd -P)"
	# sh itself adds PWD; everything else comes from bgstage
	run grep -v '^PWD=' "$T/app/env"
	assert_output "BG_ADDR=[::1]:$GP6
BG_APP_DIR=$T/app/green
BG_COLOR=green
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
}

@test "bgstage: refuses a hooks directory writable by group or others (exit 4)" {
	chmod 0775 "$T/hooks"
	run bgstage green
	echo "$output"
	assert_failure 4
	assert_output --partial "hooks directory $T/hooks is writable by group or others"
	chmod 0757 "$T/hooks"
	run bgstage green
	assert_failure 4
	chmod 1777 "$T/hooks"
	run bgstage -n green
	assert_failure 4
	chmod 0755 "$T/hooks"
	chmod 0777 "$T/hooks/restart"
	run bgstage green
	assert_failure 4
	assert_output --partial "hook $T/hooks/restart is writable by group or others"
	assert [ ! -e "$LOG" ]
}

@test "bgstage: a missing APP/COLOR directory is a configuration error (exit 4)" {
	rmdir "$T/app/green"
	run bgstage green
	echo "$output"
	assert_failure 4
	assert_output --partial "$T/app/green: not a directory"
	assert [ ! -e "$LOG" ]
}

# bats test_tags=sanitize
@test "bgstage: -n prints what it would run and changes nothing" {
	: >"$T/app/.bg-staging.green"
	run --separate-stderr bgstage -n -i -m
	echo "$stderr"
	assert_success
	assert_output green
	assert_regex "$stderr" "would run $T/hooks/install green in $T/app/green"
	assert_regex "$stderr" "would run $T/hooks/migrate green"
	assert_regex "$stderr" "would run $T/hooks/restart green"
	assert_regex "$stderr" "BG_ADDR=127\.0\.0\.1:$GP"
	assert_regex "$stderr" "http://127\.0\.0\.1:$GP/up"
	assert [ ! -e "$LOG" ]
	assert [ ! -e "$T/lock" ]
	assert [ -e "$T/app/.bg-staging.green" ]
	run curl -s "http://127.0.0.1:$GP/"
	assert_failure
}

@test "bgstage: a busy lock is exit 1 naming the holder's pid" {
	touch "$T/app/down.green"
	bgstage -t 2 green 2>"$T/first.err" 3>&- &
	first=$!
	bg_track "$first" bgstage
	wait_until 5 grep -qs "restart green" "$LOG"
	run bgstage green
	echo "$output"
	assert_failure 1
	assert_output --partial "held by pid $first"
	run cat "$LOG"
	assert_output "restart green"
	st=0
	wait "$first" || st=$?
	assert_equal "$st" 3
}

# bats test_tags=sanitize
@test "bgstage: SIGTERM stops the running hook and its children" {
	hook restart 'sleep 30 &
echo $! >"$BG_APP_DIR/../sleep.pid"
wait'
	bgstage green 2>"$T/err" 3>&- &
	pid=$!
	bg_track "$pid" bgstage
	wait_until 5 test -s "$T/app/sleep.pid"
	sp=$(cat "$T/app/sleep.pid")
	bg_track "$sp" sleep
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	cat "$T/err"
	assert_equal "$st" 143
	run cat "$T/err"
	assert_output --partial "interrupted by signal 15"
	run bg_alive "$sp"
	assert_failure
}

@test "bgstage: exit 5 when it cannot tell which color is live" {
	stop_nginx || :	# its last wait(1) is 127: nginx is not our child
	run bgstage green
	echo "$output"
	assert_failure 5
	assert_output --partial "cannot tell which color is live"
	assert [ ! -e "$LOG" ]
}

@test "bgstage: usage errors are exit 2" {
	run bgstage cyan
	assert_failure 2
	run bgstage blue green
	assert_failure 2
	run bgstage -t 0 green
	assert_failure 2
	run bgstage -t x green
	assert_failure 2
	run bgstage -x
	assert_failure 2
	run bgstage -h
	assert_success
	assert_output "usage: bgstage [-Fimnr] [-f conf] [-t secs] [COLOR]
       bgstage -V"
	assert [ ! -e "$LOG" ]
}

@test "bgstage: a config without hooks is exit 4" {
	write_conf "$BG_CONF" "url=http://127.0.0.1:$NP/bg" \
	    "blue=127.0.0.1:$BP" "green=127.0.0.1:$GP" "app=$T/app"
	run bgstage green
	echo "$output"
	assert_failure 4
	assert_output --partial hooks
	run bgstage -f "$T/nonexistent.conf" green
	assert_failure 4
}
