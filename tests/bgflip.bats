#!/usr/bin/env bats
# bgflip against real nginx and two fixture instances (helpers/scene.bash).
# Every flip is checked through nginx: which instance answers production
# and staging, and what /bg says on fresh connections.

load helpers/bg
load helpers/scene

# fresh_all COLOR: 200 requests on new connections, every one answers COLOR.
fresh_all() {
	local out

	out=$(bgload -C -c 4 -n 200 "$PROD_URL/bg" 2>&1)
	echo "$out"
	assert_regex "$out" ' failed=0 '
	assert_regex "$out" " bodies=$1:200($| )"
}

# Every history line well formed, each flip starting where the last ended,
# the last one ending at what nginx serves.
history_ok() {
	local t f to u r extra prev=
	local re='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'

	while read -r t f to u r extra; do
		assert_regex "$t" "$re"
		assert_regex "$f $to" '^(blue|green|-) (blue|green)$'
		assert_not_equal "$f" "$to"
		assert_regex "$u" '^[!-~]+$'
		assert_regex "$r" '^[!-~]{1,64}$'
		assert_equal "$extra" ""
		# each flip starts where the last one ended
		if [ -n "$prev" ]; then
			assert_equal "$f" "$prev"
		fi
		prev=$to
	done <"$T/log/bg.log"
	if [ -n "$prev" ]; then
		assert_equal "$(served_color)" "$prev"
	fi
}

# Everything bgflip could change, and the worker pids (a reload changes them).
snapshot() {
	find "$T/state" "$T/run" "$SITE" "$T/log" ! -path "$T/run/lock" \
	    -printf '%p %y %m %s %l\n' | sort
	cat "$SITE"/*.conf "$T/log/bg.log" "$T"/state/*/color 2>/dev/null |
	    md5sum
	nginx_workers | sort
}

@test "bgflip: -h prints the usage on stdout" {
	run bgflip -h
	assert_success
	assert_output "usage: bgflip [-Fn] [-f conf] [-w secs] [COLOR]
       bgflip -V"
}

# bats test_tags=sanitize
@test "bgflip: a COLOR other than blue or green is a usage error" {
	for bad in 'green;id' ../blue $'blue\n' BLUE Blue '' ' blue' red; do
		run bgflip "$bad"
		echo "[$bad] $status $output"
		assert_failure 2
		assert_output --partial usage:
	done
	run bgflip blue green
	assert_failure 2
	run bgflip -w 0 blue
	assert_failure 2
	run bgflip -x
	assert_failure 2
}

# bats test_tags=sanitize
@test "bgflip: reload mode moves production and staging between the instances" {
	scene reload
	answers blue
	old=$(nginx_workers)
	run bgflip
	# when bgflip returns, no worker of the old generation still accepts
	for w in $old; do
		c=$(tr '\0' ' ' <"/proc/$w/cmdline" 2>/dev/null) || continue
		echo "old worker $w: $c"
		if [ -n "$c" ]; then
			assert_regex "$c" 'shutting down'
		fi
	done
	echo "$output"
	assert_success
	assert_line --index -1 green
	cmp "$SITE/live.conf" "$SITE/green.conf"
	answers green
	fresh_all green
	run bgflip
	assert_success
	assert_line --index -1 blue
	answers blue
	fresh_all blue
	# mode and owner of the live file are kept
	assert_equal "$(stat -c %a:%u "$SITE/live.conf")" 644:0
	assert [ ! -e "$T/run/lock.flip" ]
	no_temps
	run cat "$T/log/bg.log"
	echo "$output"
	assert_equal "${#lines[@]}" 2
	assert_line --index 0 --regexp '^[0-9-]{10}T[0-9:]{8}Z blue green root v2$'
	assert_line --index 1 --regexp '^[0-9-]{10}T[0-9:]{8}Z green blue root v1$'
	history_ok
}

# bats test_tags=sanitize
@test "bgflip: socket mode moves production and staging between the instances" {
	scene socket
	answers blue
	run bgflip
	echo "$output"
	assert_success
	assert_line --index -1 green
	assert_equal "$(readlink "$T/state/current")" green
	answers green
	fresh_all green
	run bgflip green
	assert_success
	assert_output "$(printf 'bgflip: green is already live; nothing to do\ngreen')"
	run bgflip blue
	assert_success
	answers blue
	fresh_all blue
	assert [ ! -e "$T/run/lock.flip" ]
	no_temps
	run cat "$T/log/bg.log"
	assert_equal "${#lines[@]}" 2
	history_ok
}

# bats test_tags=sanitize
@test "bgflip: socket mode views match the config whatever the umask" {
	scene socket
	rm -r "$T/state/green"
	ln -sfn /nonexistent "$T/state/blue/staging.sock"
	chmod 0700 "$T/state/blue"
	rm "$T/state/current"
	run bgflip
	echo "$output"
	assert_failure 2	# no live color yet: name one
	(umask 077; bgflip green)
	assert_equal "$(readlink "$T/state/blue/staging.sock")" "$T/sock/green.sock"
	assert_equal "$(readlink "$T/state/green/live.sock")" "$T/sock/green.sock"
	assert_equal "$(readlink "$T/state/green/staging.sock")" "$T/sock/blue.sock"
	assert_equal "$(stat -c %a "$T/state/blue")" 755
	assert_equal "$(stat -c %a "$T/state/green")" 755
	assert_equal "$(stat -c %a "$T/state/green/color")" 644
	assert_equal "$(cat "$T/state/green/color")" green
	answers green
	assert_regex "$(cat "$T/log/bg.log")" ' - green root v2$'
}

@test "bgflip: flipping to the live color changes nothing" {
	scene reload
	before=$(snapshot)
	run bgflip blue
	echo "$output"
	assert_success
	assert_line --index -1 blue
	assert_output --partial "blue is already live"
	assert_equal "$(snapshot)" "$before"
}

# bats test_tags=sanitize
@test "bgflip: -n changes nothing and prints the color that would go live" {
	scene reload
	before=$(snapshot)
	run bgflip -n
	echo "$output"
	assert_success
	assert_line --index -1 green
	assert_output --partial "would copy"
	assert_equal "$(snapshot)" "$before"
	touch "$T/down-green"
	run bgflip -n
	assert_failure 1	# as the real run would
	assert_equal "$(snapshot)" "$before"
	answers blue
}

@test "bgflip: -n in socket mode changes nothing" {
	scene socket
	ln -sfn /elsewhere "$T/state/green/live.sock"
	before=$(snapshot)
	run bgflip -n green
	echo "$output"
	assert_success
	assert_line --index -1 green
	assert_output --partial "would point $T/state/green/live.sock"
	assert_equal "$(snapshot)" "$before"
	assert_equal "$(readlink "$T/state/current")" blue
}

@test "bgflip: a busy lock is exit 1 naming the holder; -w waits, then exit 3" {
	scene socket
	flock "$T/run/lock" sh -c ": >'$T/held'; exec sleep 30" 3>&- &
	holder=$!
	bg_track "$holder" flock
	wait_until 5 test -e "$T/held"
	run bgflip
	echo "$output"
	assert_failure 1
	assert_output --partial "held by pid $holder"
	run bgflip -w 1
	echo "$output"
	assert_failure 3
	answers blue
	# shellcheck disable=SC2046 # pids, one per line
	kill $(bg_children "$holder") "$holder"	# sleep holds it too
	st=0
	wait "$holder" || st=$?
	assert_equal "$st" 143	# the SIGTERM ended flock(1)
	run bgflip -w 5
	assert_success
	answers green
}

@test "bgflip: refuses an unhealthy color (exit 1) unless -F" {
	scene reload
	touch "$T/down-green"
	run bgflip
	echo "$output"
	assert_failure 1
	assert_output --regexp 'green is not healthy.*503'
	cmp "$SITE/live.conf" "$SITE/blue.conf"
	answers blue
	run bgflip -F
	echo "$output"
	assert_success
	answers green
}

@test "bgflip: refuses a color being staged (exit 1)" {
	scene socket
	touch "$T/app/.bg-staging.green"
	run bgflip -F green
	echo "$output"
	assert_failure 1
	assert_output --partial "green is being staged: finish or re-run make deploy"
	answers blue
	rm "$T/app/.bg-staging.green"
	run bgflip
	assert_success
	answers green
}

@test "bgflip: refuses when nginx and the disk disagree (exit 1)" {
	scene reload
	cp "$SITE/green.conf" "$SITE/live.conf"	# by hand, no reload
	before=$(snapshot)
	run bgflip
	echo "$output"
	assert_failure 1
	assert_output --regexp "nginx serves blue but live_conf.*is green's"
	assert_equal "$(snapshot)" "$before"
	run bgflip blue
	assert_failure 1
	echo '# an edit' >>"$SITE/live.conf"
	run bgflip green
	echo "$output"
	assert_failure 1
	assert_output --partial "neither blue_conf nor green_conf"
	answers blue
}

# bats test_tags=sanitize
@test "bgflip: a config nginx -t rejects is exit 4: old file back, no reload" {
	scene reload
	echo 'bogus_directive on;' >>"$SITE/green.conf"
	workers=$(nginx_workers | sort)
	run bgflip
	echo "$output"
	assert_failure 4
	assert_output --partial 'unknown directive "bogus_directive"'
	cmp "$SITE/live.conf" "$SITE/blue.conf"
	assert_equal "$(nginx_workers | sort)" "$workers"
	assert [ ! -e "$T/run/lock.flip" ]
	no_temps
	answers blue
	assert [ ! -s "$T/log/bg.log" ]
}

@test "bgflip: a reload that fails after nginx -t passed is rolled back (exit 6)" {
	scene reload
	# listen on the port blue's instance holds: nginx -t cannot see it
	sed -i "0,/^\tlisten /s//\tlisten $BLUE_ADDR;\n\tlisten /" \
	    "$SITE/green.conf"
	grep -q "listen $BLUE_ADDR;" "$SITE/green.conf"
	run bgflip
	echo "$output"
	assert_failure 6
	assert_output --partial "rolled back: blue is live again"
	cmp "$SITE/live.conf" "$SITE/blue.conf"
	assert [ ! -e "$T/run/lock.flip" ]
	answers blue
	fresh_all blue
	assert [ ! -s "$T/log/bg.log" ]
}

@test "bgflip: an nginx master that dies during the switch is exit 7" {
	scene reload
	workers=$(nginx_workers)
	for w in $workers; do bg_track "$w" worker; done
	# hold the SIGHUP back 2 s, long enough to kill the master first
	strace -o "$T/strace" -e trace=pidfd_send_signal \
	    -e inject=pidfd_send_signal:delay_enter=2000000 \
	    bgflip >"$T/out" 2>&1 3>&- &
	flip=$!
	bg_track "$flip" strace
	wait_until 5 cmp -s "$SITE/live.conf" "$SITE/green.conf"
	master_killed "$flip" '^pidfd_send_signal\(.*\(DELAYED\)$'
	assert_regex "$(cat "$T/out")" 'a human|gone'
	cmp "$SITE/live.conf" "$SITE/blue.conf"
}

# bats test_tags=sanitize
@test "bgflip: exit 5 when nginx is not running or the pid file names another process" {
	scene reload
	sleep 30 3>&- &
	other=$!
	bg_track "$other" sleep
	echo "$other" >"$T/run/other.pid"
	sed -i "s|^nginx_pid = .*|nginx_pid = $T/run/other.pid|" "$BG_CONF"
	run bgflip
	echo "$output"
	assert_failure 5
	assert_output --partial "is not an nginx master"
	assert bg_alive "$other"	# never signalled
	cmp "$SITE/live.conf" "$SITE/blue.conf"
	sed -i "s|^nginx_pid = .*|nginx_pid = $NGINX_PID|" "$BG_CONF"
	stop_nginx || true	# it may return wait's 127 for a non-child
	refute bg_alive "$NGINX_MASTER"
	run bgflip
	echo "$output"
	assert_failure 5
	cmp "$SITE/live.conf" "$SITE/blue.conf"
}

# bats test_tags=sanitize
@test "bgflip: refuses unsafe or bad paths and configs (exit 4)" {
	scene reload
	before=$(snapshot)
	SUDO_UID=1000 run bgflip -f "$BG_CONF"
	echo "$output"
	assert_failure 4
	SUDO_UID=1000 run bgflip
	assert_failure 4	# BG_CONF names another config
	# group-writable counts unless the group is root's
	chmod 0664 "$BG_CONF"
	chgrp nogroup "$BG_CONF"
	run bgflip
	echo "$output"
	assert_failure 4
	assert_output --partial "writable by group or others"
	chgrp root "$BG_CONF"
	chmod 0644 "$BG_CONF"
	chown nobody "$BG_CONF"
	run bgflip
	assert_failure 4
	chown root "$BG_CONF"
	mkdir -m 0777 "$T/open"
	cp -p "$BG_CONF" "$T/open/bg.conf"
	run bgflip -f "$T/open/bg.conf"
	echo "$output"
	assert_failure 4
	assert_output --partial "which others can write"
	chmod 0775 "$T/run"
	chgrp nogroup "$T/run"
	run bgflip
	echo "$output"
	assert_failure 4	# the lock's directory, group-writable
	chgrp root "$T/run"
	chmod 0755 "$T/run"
	chmod 0777 "$SITE"
	run bgflip
	assert_failure 4	# live_conf in a directory others can write
	chmod 0755 "$SITE"
	chmod 0666 "$SITE/green.conf"
	run bgflip
	assert_failure 4
	chmod 0644 "$SITE/green.conf"
	mv "$SITE/live.conf" "$SITE/live.real"
	ln -s live.real "$SITE/live.conf"
	run bgflip
	echo "$output"
	assert_failure 4
	assert_output --partial "not a regular file"
	rm "$SITE/live.conf"
	mv "$SITE/live.real" "$SITE/live.conf"
	sed -i "s|^nginx = .*|nginx = nginx|" "$BG_CONF"
	run bgflip
	assert_failure 4
	sed -i "s|^nginx = .*|nginx = $NGINX_BIN|" "$BG_CONF"
	echo 'secret = hunter2' >>"$BG_CONF"
	run bgflip
	echo "$output"
	assert_failure 4
	refute_output --partial hunter2
	sed -i '$d' "$BG_CONF"
	assert_equal "$(snapshot)" "$before"
	# a sticky world-writable directory is fine
	chmod 1777 "$T/open"
	run bgflip -f "$T/open/bg.conf"
	echo "$output"
	assert_success
	answers green
}

@test "bgflip: socket mode refuses a symlinked state directory and TCP instances (exit 4)" {
	scene socket
	mv "$T/state" "$T/state.real"
	ln -s state.real "$T/state"
	run bgflip
	echo "$output"
	assert_failure 4
	rm "$T/state"
	mv "$T/state.real" "$T/state"
	sed -i "s|^green = .*|green = 127.0.0.1:1|" "$BG_CONF"
	run bgflip
	assert_failure 4
	answers blue
}

@test "bgflip: runs the configured nginx, never one found on PATH" {
	scene reload
	mkdir "$T/fakebin"
	printf '#!/bin/sh\n: >"%s/fake-ran"\nexit 0\n' "$T" >"$T/fakebin/nginx"
	chmod 0755 "$T/fakebin/nginx"
	PATH="$T/fakebin:$PATH" run bgflip
	echo "$output"
	assert_success
	assert [ ! -e "$T/fake-ran" ]
	answers green
}

# bats test_tags=sanitize
@test "bgflip: the history line is safe whatever REVISION is" {
	scene socket
	ln -sfn /etc/shadow "$T/app/green/REVISION"
	SUDO_USER=alice run bgflip
	assert_success
	rm "$T/app/blue/REVISION"
	mkfifo "$T/app/blue/REVISION"
	run timeout 20 bgflip
	assert_success
	printf 'v3 \033[31mred\nsecond line\n' >"$T/app/green/REVISION.new"
	mv "$T/app/green/REVISION.new" "$T/app/green/REVISION"
	run bgflip
	assert_success
	rm "$T/app/blue/REVISION"
	printf '%0100d' 0 >"$T/app/blue/REVISION"
	run bgflip
	assert_success
	echo private >"$T/private"
	rm "$T/app/green/REVISION"
	ln "$T/private" "$T/app/green/REVISION"
	run bgflip
	assert_success
	cat "$T/log/bg.log"
	run cut -d' ' -f2- "$T/log/bg.log"
	assert_line --index 0 "blue green alice -"
	assert_line --index 1 "green blue root -"
	assert_line --index 2 "blue green root v3[31mred"
	assert_line --index 3 "green blue root $(printf '%064d' 0)"
	assert_line --index 4 "blue green root -"
	history_ok
}

@test "bgflip: ten concurrent runs are ten flips, one at a time" {
	scene reload
	pids=()
	for i in $(seq 10); do
		bgflip -w 60 >"$T/c$i.out" 2>"$T/c$i.err" 3>&- &
		pids+=($!)
	done
	fails=0
	for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
	cat "$T"/c*.err
	assert_equal "$fails" 0
	assert_equal "$(cat "$T"/c*.out | grep -c '^green$')" 5
	assert_equal "$(cat "$T"/c*.out | grep -c '^blue$')" 5
	assert_equal "$(served_color)" blue
	assert_equal "$(disk_color)" blue
	assert_equal "$(wc -l <"$T/log/bg.log")" 10
	history_ok
	no_temps
	answers blue
}

@test "bgflip: SIGINT, SIGTERM and SIGHUP do not stop a flip half way" {
	scene reload
	# signal_each (helpers/scene): held, never delivered; the flip
	# finishes
	for sig in INT TERM HUP; do
		signal_each "$sig" flip_whole rename:2
	done
	assert_equal "$(wc -l <"$T/log/bg.log")" 3
	answers green
	history_ok
}

# kill_each STEP...: SIGKILL bgflip at each SYSCALL:N (strace must show
# it killed there); after each, the disk is wholly one color, and the next
# bgflip finishes or undoes the flip (and stops there), or, when nothing
# was recorded yet, does its own.
kill_each() {
	local step d confs

	confs=$(find "$T" -name '*.conf' | sort)
	for step in "$@"; do
		bgflip_inject "$step" signal=KILL
		d=$(disk_color)
		echo "killed at $step: exit $INJECT_ST, disk $d"
		strace_saw "$T/strace" '^\+\+\+ killed by SIGKILL \+\+\+$'
		assert_equal "$INJECT_ST" 137
		assert_regex "$d" '^(blue|green)$'	# whole, at once
		assert_equal "$(find "$T" -name '*.conf' | sort)" "$confs"
		run bgflip -w 10
		assert_success
		flip_whole
		no_temps
		history_ok
	done
}

@test "bgflip: killed at any step in reload mode, the next bgflip converges" {
	scene reload
	# writing the record, the record in place, writing the new live file,
	# its rename, the HUP, the first check, the history, the record's
	# removal (connects 1-2 are nscd's, 3 health, 4 /bg)
	kill_each write:1 rename:1 write:2 rename:2 pidfd_send_signal:1 \
	    connect:5 write:3 unlink:3
	answers "$(served_color)"
}

@test "bgflip: killed at any step in socket mode, the next bgflip converges" {
	scene socket
	kill_each write:1 rename:1 symlink:1 rename:2 fsync:3 connect:5 \
	    write:2 unlink:3
	answers "$(served_color)"
}

# bats test_tags=sanitize
@test "bgflip: finishes a recorded flip to a healthy color, undoes it otherwise" {
	scene reload
	line="2026-01-01T00:00:00Z blue green carol v2"
	cp "$SITE/green.conf" "$SITE/live.conf"	# killed before the HUP
	printf 'bgflip reload blue green\n%s\n' "$line" >"$T/run/lock.flip"
	before=$(snapshot)
	run bgflip -n
	echo "$output"
	assert_success
	assert_output --partial "would finish it"
	assert_line --index -1 green	# and stop there: no COLOR was given
	assert_equal "$(snapshot)" "$before"
	run bgflip green
	echo "$output"
	assert_success
	assert_line --index -1 green
	answers green
	assert_equal "$(cat "$T/log/bg.log")" "$line"
	assert [ ! -e "$T/run/lock.flip" ]
	# the other way, with its target down: undone
	cp "$SITE/blue.conf" "$SITE/live.conf"
	printf 'bgflip reload green blue\n%s\n' "$line" >"$T/run/lock.flip"
	touch "$T/down-blue"
	run bgflip green
	echo "$output"
	assert_success
	assert_output --partial "undoing it"
	cmp "$SITE/live.conf" "$SITE/green.conf"
	answers green
	assert_equal "$(wc -l <"$T/log/bg.log")" 1
	echo garbage >"$T/run/lock.flip"
	run bgflip
	assert_failure 4
}

@test "bgflip: socket mode loses no request while flipping under load" {
	scene socket
	bgload_start -k -c 20
	bgload_flips 20
	bgload_stop
	bgload_lost_nothing 20 1
	history_ok
}

@test "bgflip: a recorded flip to a color being staged is undone, never finished" {
	scene reload
	line="2026-01-01T00:00:00Z blue green carol v2"
	cp "$SITE/green.conf" "$SITE/live.conf"	# killed before the HUP
	printf 'bgflip reload blue green\n%s\n' "$line" >"$T/run/lock.flip"
	touch "$T/app/.bg-staging.green"	# and a deploy began on green
	run bgflip
	echo "$output"
	assert_success
	assert_output --partial "undoing it: green is being staged"
	assert_line blue
	cmp "$SITE/live.conf" "$SITE/blue.conf"
	assert_equal "$(served_color)" blue
	assert [ ! -e "$T/run/lock.flip" ]
	assert [ ! -s "$T/log/bg.log" ]
}

@test "bgflip: after finishing an interrupted flip, no COLOR stops there; a COLOR goes on" {
	scene reload
	line="2026-01-01T00:00:00Z blue green carol v2"
	cp "$SITE/green.conf" "$SITE/live.conf"
	printf 'bgflip reload blue green\n%s\n' "$line" >"$T/run/lock.flip"
	# make switch re-run after a crash: the switch it asked for stands
	run bgflip
	echo "$output"
	assert_success
	assert_output --partial "finishing it"
	assert_line --index -1 green
	answers green
	assert_equal "$(cat "$T/log/bg.log")" "$line"
	# with a COLOR it finishes, then does what it was asked
	line2="2026-01-01T00:00:01Z green blue carol v1"
	printf 'bgflip reload green blue\n%s\n' "$line2" >"$T/run/lock.flip"
	run bgflip green
	echo "$output"
	assert_success
	assert_output --partial "finishing it"
	assert_line --index -1 green
	answers green
	run cut -d' ' -f2-4 "$T/log/bg.log"
	assert_output "$(printf 'blue green carol\ngreen blue carol\nblue green root')"
	assert_equal "$(wc -l <"$T/log/bg.log")" 3
	assert [ ! -e "$T/run/lock.flip" ]
}

@test "bgflip: killed while rolling back, the crash record is still there" {
	scene reload
	# a reload that fails after nginx -t passed: rolled back; killed at
	# the rollback's HUP, before nginx is confirmed to serve blue again
	sed -i "0,/^\tlisten /s//\tlisten $BLUE_ADDR;\n\tlisten /" \
	    "$SITE/green.conf"
	run strace -o "$T/strace" -e trace=pidfd_send_signal,unlink \
	    -e inject=pidfd_send_signal:signal=KILL:when=2 bgflip
	echo "$output"
	cat "$T/strace"
	assert_failure 137
	strace_saw "$T/strace" '^\+\+\+ killed by SIGKILL \+\+\+$'
	assert_equal "$(grep -c '^pidfd_send_signal' "$T/strace")" 2
	cmp "$SITE/live.conf" "$SITE/blue.conf"
	assert [ -e "$T/run/lock.flip" ]	# the rollback is not confirmed yet
	run bgflip -w 10 blue
	echo "$output"
	assert_success
	assert_output --partial "interrupted flip from blue to green"
	assert [ ! -e "$T/run/lock.flip" ]
	answers blue
}

@test "bgflip: a site file it cannot use is one message naming the key, the file and why (exit 4)" {
	scene reload
	cp "$SITE/blue.conf" "$T/blue.keep"
	cp "$SITE/live.conf" "$T/live.keep"
	head -c 1048577 /dev/zero >>"$SITE/blue.conf"
	run --separate-stderr bgflip
	echo "$stderr"
	assert_failure 4
	assert_equal "$stderr" "bgflip: cannot use blue_conf $SITE/blue.conf: larger than 1048576 bytes"
	cp "$T/blue.keep" "$SITE/blue.conf"
	head -c 1048577 /dev/zero >>"$SITE/live.conf"
	run --separate-stderr bgflip
	echo "$stderr"
	assert_failure 4
	assert_equal "$stderr" "bgflip: cannot use live_conf $SITE/live.conf: larger than 1048576 bytes"
	cp "$T/live.keep" "$SITE/live.conf"
	answers blue
}
