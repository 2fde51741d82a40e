#!/usr/bin/env bats
# Fault injection: full and read-only disks, signals at every step, a lock
# left by a killed bgflip, planted temp files, a hostile environment. Real
# nginx and fixture instances (helpers/scene.bash). Root ignores file
# permissions, so a full or read-only directory is a small tmpfs the test
# mounts; a failing or interrupted system call is strace's -e inject.
#
# What tests/bgflip.bats already provokes is not repeated here: bad COLOR
# operands, a fake nginx on PATH, -f and BG_CONF under sudo, REVISION as a
# symlink, FIFO or hard link, a master dying before the HUP (exit 7), a pid
# file naming a non-nginx process, SIGKILL at each step, SIGINT, SIGTERM
# and SIGHUP at the live file's rename. Nor what bgstage.bats and
# bgdrain.bats do: SIGTERM during a hook and during a drain, a hooks
# directory others can write.

load helpers/bg
load helpers/scene

setup() {
	bg_setup
	: >"$T/mounts"
}

teardown() {
	local d

	bg_teardown
	# innermost first; lazily if something still holds it open
	if [ -n "${T:-}" ] && [ -s "$T/mounts" ]; then
		tac "$T/mounts" | while read -r d; do
			umount "$d" 2>/dev/null || umount -l "$d"
		done
	fi
}

# on_tmpfs DIR SIZE: DIR's contents moved onto a tmpfs of SIZE bytes
# mounted on DIR (root-owned 0755, like DIR). Skips where mounting is not
# allowed (not root, or a container without CAP_SYS_ADMIN).
on_tmpfs() {
	local dir=$1 size=$2 save

	save=$(mktemp -d "$T/save.XXXXXX")
	cp -a "$dir/." "$save/"
	if ! mount -t tmpfs -o "size=$size,mode=0755,uid=0,gid=0" tmpfs "$dir" \
	    2>"$T/mount.err"; then
		rm -rf "$save"
		skip "cannot mount a tmpfs here: $(cat "$T/mount.err")"
	fi
	echo "$dir" >>"$T/mounts"
	cp -a "$save/." "$dir/"
	rm -rf "$save"
}

# fill DIR: no free block left on DIR's file system
fill() {
	dd if=/dev/zero of="$1/.filler" bs=4096 2>/dev/null || :
	! dd if=/dev/zero of="$1/.filler2" bs=4096 count=1 2>/dev/null
}

# consistent: the disk is wholly one color, nginx serves it, and no flip is
# half done (no crash record, no temp file).
consistent() {
	flip_whole
	no_temps
}

@test "faults: disk full while bgflip writes the live conf: exit 5, nothing changed, no HUP" {
	scene reload
	on_tmpfs "$SITE" 256k
	fill "$SITE"
	cp "$SITE/live.conf" "$T/live.before"
	workers=$(nginx_workers | sort)
	run bgflip
	echo "$output"
	assert_failure 5
	assert_output --partial "No space left on device"
	cmp "$SITE/live.conf" "$T/live.before"
	assert_equal "$(nginx_workers | sort)" "$workers"	# not signalled
	consistent
	assert_equal "$(served_color)" blue
	assert [ ! -s "$T/log/bg.log" ]
	# room again: the next run flips and leaves nothing behind
	rm -f "$SITE/.filler" "$SITE/.filler2"
	run bgflip
	echo "$output"
	assert_success
	assert_line --index -1 green
	consistent
	assert_equal "$(served_color)" green
}

@test "faults: a read-only conf directory: exit 5, nothing changed, no HUP" {
	scene reload
	on_tmpfs "$SITE" 1m
	mount -o remount,ro "$SITE"
	workers=$(nginx_workers | sort)
	run bgflip
	echo "$output"
	assert_failure 5
	assert_output --partial "Read-only file system"
	cmp "$SITE/live.conf" "$SITE/blue.conf"
	assert_equal "$(nginx_workers | sort)" "$workers"
	consistent
	mount -o remount,rw "$SITE"
	run bgflip
	assert_success
	consistent
	assert_equal "$(served_color)" green
}

@test "faults: a read-only state directory in socket mode: exit 5, nothing changed" {
	scene socket
	on_tmpfs "$T/state" 1m
	mount -o remount,ro "$T/state"
	run bgflip
	echo "$output"
	assert_failure 5
	assert_output --partial "Read-only file system"
	assert_equal "$(readlink "$T/state/current")" blue
	consistent
	mount -o remount,rw "$T/state"
	run bgflip
	assert_success
	consistent
	assert_equal "$(served_color)" green
}

@test "faults: a full disk for the history log does not undo a verified flip" {
	scene reload
	on_tmpfs "$T/log" 64k
	fill "$T/log"
	run bgflip
	echo "$output"
	# the flip stands: failing now would make a retry flip back
	assert_success
	assert_line --index -1 green
	assert_output --partial "history line is missing"
	consistent
	assert_equal "$(served_color)" green
}

@test "faults: a short history write on a full disk is cut back, never left torn" {
	scene reload
	on_tmpfs "$T/log" 64k
	# 6 bytes left in the log's last page, and no page free after it
	printf '%04089d\n' 0 >"$T/log/bg.log"
	fill "$T/log"
	run strace -o "$T/strace" -P "$T/log/bg.log" -e trace=write,ftruncate \
	    bgflip
	echo "$output"
	cat "$T/strace"
	strace_saw "$T/strace" '^write\(.*\) += 6$'	# the short write happened
	assert_success	# the flip stands
	assert_output --partial "history line is missing"
	assert_equal "$(stat -c %s "$T/log/bg.log")" 4090	# cut back
	consistent
	# room again: the next line is whole, on a line of its own
	rm -f "$T/log/.filler" "$T/log/.filler2"
	run bgflip
	assert_success
	assert [ "$(stat -c %s "$T/log/bg.log")" -gt 4090 ]
	run tail -n 1 "$T/log/bg.log"
	assert_output --regexp '^[0-9-]{10}T[0-9:]{8}Z green blue root v1$'
	assert_equal "$(head -c 4090 "$T/log/bg.log")" "$(printf '%04089d' 0)"
}

@test "faults: a torn last history line stays a line of its own" {
	scene reload
	printf '2026-01-01T00:00:00Z blue gr' >"$T/log/bg.log"
	run bgflip
	assert_success
	run cat "$T/log/bg.log"
	echo "$output"
	assert_equal "${#lines[@]}" 2
	assert_line --index 0 "2026-01-01T00:00:00Z blue gr"
	assert_line --index 1 --regexp '^[0-9-]{10}T[0-9:]{8}Z blue green root v2$'
}

# [INJECT_PATH=PATH] inject_each ERRNO SYSCALL:N...: fail each listed call
# (only those on PATH, when set) of a bgflip with
# ERRNO; strace must show the failure injected; after each, disk and nginx
# agree, nothing is half done, and the exit status says whether the flip
# happened (0) or not (5 or 6).
inject_each() {
	local err=$1 step before
	shift

	for step in "$@"; do
		before=$(served_color)
		bgflip_inject "$step" "error=$err"
		echo "$err at $step: exit $INJECT_ST: $(tr '\n' ' ' <"$T/err")"
		strace_saw "$T/strace" "^${step%:*}\\(.* $err .*\\(INJECTED\\)\$"
		consistent
		case $INJECT_ST in
		0) assert_not_equal "$(served_color)" "$before" ;;
		5 | 6) assert_equal "$(served_color)" "$before" ;;
		*) fail "$err at $step: exit $INJECT_ST, not 0, 5 or 6" ;;
		esac
	done
}

@test "faults: ENOSPC and EIO at each write, sync and rename of a reload flip" {
	scene reload
	# the crash record's write, sync and rename; the live file's write,
	# sync and rename; the directory syncs; the history's write
	inject_each ENOSPC write:1 write:2 write:3
	inject_each EIO fsync:1 fsync:2 rename:1 fsync:3 rename:2 fsync:4
	inject_each EIO unlink:1
	# the lock's open (by path: the trust walk opens many before it)
	INJECT_PATH="$T/run/lock" inject_each EIO openat:1
	run bgflip -w 5
	echo "$output"
	assert_success
	consistent
}

@test "faults: ENOSPC and EIO at each write, sync and rename of a socket flip" {
	scene socket
	inject_each ENOSPC write:1 symlink:1
	inject_each EIO fsync:1 fsync:2 rename:1 rename:2 fsync:3 fsync:4 \
	    unlink:1
	run bgflip -w 5
	assert_success
	consistent
}

# signal_each (helpers/scene): before the lock bgflip dies of the signal
# with nothing changed; from the lock on it waits, and the flip finishes.
@test "faults: SIGTERM and SIGINT at each step of a reload flip: finished, never half" {
	scene reload
	signal_each TERM consistent dies:openat:1 dies:flock:1 write:1 \
	    rename:1 write:2 fsync:2 rename:2 pidfd_send_signal:1 write:3 \
	    unlink:2
	signal_each INT consistent dies:flock:1 rename:2 pidfd_send_signal:1
	# a history line for each flip that finished: 8 and 2
	assert_equal "$(wc -l <"$T/log/bg.log")" 10
	answers "$(served_color)"
}

@test "faults: SIGTERM at each step of a socket flip: finished, never half" {
	scene socket
	signal_each TERM consistent dies:flock:1 write:1 rename:1 symlink:1 \
	    rename:2 fsync:3 write:2 unlink:2
	assert_equal "$(wc -l <"$T/log/bg.log")" 7
}

# new_worker " PID PID ... ": an nginx worker runs whose pid is not listed
new_worker() {
	local w

	for w in $(nginx_workers); do
		[[ $1 == *" $w "* ]] || return 0
	done
	return 1
}

@test "faults: the nginx master dies after the HUP, before verification: exit 7" {
	scene reload
	workers=" $(nginx_workers | tr '\n' ' ') "
	for w in $workers; do bg_track "$w" worker; done
	# the HUP is sent; bgflip is held 2 s after it, and the master killed
	strace -o "$T/strace" -e trace=pidfd_send_signal,kill \
	    -e inject=pidfd_send_signal,kill:delay_exit=2000000:when=1 \
	    bgflip >"$T/out" 2>&1 3>&- &
	flip=$!
	bg_track "$flip" strace
	# the HUP took: a new generation of workers is there
	wait_until 5 new_worker "$workers"
	# once the master is gone its workers are no one's children
	for w in $(nginx_workers); do bg_track "$w" worker; done
	master_killed "$flip" '^(pidfd_send_signal|kill)\(.*\(DELAYED\)$'
	assert_regex "$(cat "$T/out")" died
	# the disk is put back; the record is gone or names the flip
	cmp "$SITE/live.conf" "$SITE/blue.conf"
	assert [ ! -s "$T/log/bg.log" ]
}

@test "faults: the lock of a SIGKILLed bgflip does not block the next run" {
	scene reload
	: >"$T/run/lock"
	chmod 0644 "$T/run/lock"
	# killed holding the lock: flock(2) took it and the pid went into
	# the file; the SIGKILL comes at the next call, the pid's ftruncate
	run strace -o "$T/strace" -e trace=getpid,flock,pwrite64,ftruncate \
	    -e inject=ftruncate:signal=KILL:when=1 bgflip
	echo "$output"
	cat "$T/strace"
	assert_failure 137
	strace_saw "$T/strace" '^flock\(.*\) += 0$'
	strace_saw "$T/strace" '^\+\+\+ killed by SIGKILL \+\+\+$'
	# the dead bgflip's own pid is left in the file
	dead=$(sed -n 's/^getpid() *= \([0-9]*\)$/\1/p' "$T/strace" | head -n 1)
	assert_regex "$dead" '^[0-9]+$'
	assert_equal "$(cat "$T/run/lock")" "$dead"
	refute bg_alive "$dead"
	assert [ -e "$T/run/lock" ]
	consistent
	assert_equal "$(served_color)" blue
	run bgflip
	echo "$output"
	assert_success
	consistent
	assert_equal "$(served_color)" green
	# a lock file holding junk or another live process's pid is no lock
	sleep 30 3>&- &
	other=$!
	bg_track "$other" sleep
	echo "$other" >"$T/run/lock"
	run bgflip
	assert_success
	printf 'junk\n\377\n' >"$T/run/lock"
	run bgflip
	assert_success
	consistent
	assert bg_alive "$other"	# never signalled
}

@test "faults: planted symlinks and FIFOs at the temp names leave their victims alone" {
	scene reload
	echo precious >"$T/victim"
	cp "$T/victim" "$T/victim.orig"
	ln -s "$T/victim" "$SITE/$BG_TMP"
	ln -s "$T/victim" "$T/run/$BG_TMP"
	run bgflip
	echo "$output"
	assert_success
	cmp "$T/victim" "$T/victim.orig"
	assert_equal "$(stat -c %F "$T/victim")" "regular file"
	consistent
	mkfifo "$SITE/$BG_TMP" "$T/run/$BG_TMP"
	run timeout 20 bgflip
	echo "$output"
	assert_success
	consistent
	assert_equal "$(served_color)" blue
}

@test "faults: planted symlinks at the state temp names leave their victims alone" {
	scene socket
	echo precious >"$T/victim"
	cp "$T/victim" "$T/victim.orig"
	for d in "$T/state" "$T/state/blue" "$T/state/green" "$T/run"; do
		ln -s "$T/victim" "$d/$BG_TMP"
	done
	# a view that differs, so bgflip rewrites its symlinks too
	ln -sfn /elsewhere "$T/state/green/live.sock"
	run bgflip
	echo "$output"
	assert_success
	cmp "$T/victim" "$T/victim.orig"
	assert_equal "$(readlink "$T/state/green/live.sock")" "$T/sock/green.sock"
	assert_equal "$(served_color)" green
	assert_equal "$(disk_color)" green
	assert [ ! -e "$T/run/lock.flip" ]
	# gone from every directory bgflip wrote in (blue's view needed no
	# change, so its planted link stays, harmless)
	for d in "$T/state" "$T/state/green" "$T/run"; do
		assert [ ! -L "$d/$BG_TMP" ]
	done
}

@test "faults: nginx -t runs with a fixed environment, whatever the caller's" {
	scene reload
	mkdir "$T/fakebin"
	printf '#!/bin/sh\n: >"%s/fake-ran"\nexec "$@"\n' "$T" >"$T/fakebin/nginx"
	chmod 0755 "$T/fakebin/nginx"
	run env -i PATH="$T/fakebin:/usr/sbin:/usr/bin:/sbin:/bin" \
	    BG_CONF="$BG_CONF" FOO=bar NGINX=/tmp/evil LD_LIBRARY_PATH=/tmp \
	    IFS=x MALLOC_PERTURB_=1 \
	    strace -f -v -s 256 -e trace=execve -o "$T/trace" \
	    "$BG_ROOT/tools/bgflip"
	echo "$output"
	assert_success
	assert [ ! -e "$T/fake-ran" ]
	grep 'execve(' "$T/trace" | grep -v 'tools/bgflip"' >"$T/children" || :
	cat "$T/children"
	grep -q "execve(\"$NGINX_BIN\", \[\"$NGINX_BIN\", \"-t\"" "$T/children"
	run grep -E 'FOO=|NGINX=|LD_LIBRARY_PATH=|IFS=|MALLOC_PERTURB_|fakebin|BG_CONF=' \
	    "$T/children"
	assert_failure 1
}

@test "faults: bgstage refuses hostile COLOR operands before running anything" {
	scene reload
	printf '#!/bin/sh\n: >"%s/hook-ran"\n' "$T" >"$T/hooks/restart"
	chmod 0755 "$T/hooks/restart"
	for bad in 'green;id' ../blue $'blue\n' $'green\r' 'blue ' '' \
	    'green/../blue' GREEN; do
		run bgstage "$bad"
		echo "[$bad] $status $output"
		assert_failure 2
	done
	assert [ ! -e "$T/hook-ran" ]
	assert [ ! -e "$T/app/.bg-staging.green" ]
}

# hook_done PID: the hook bgstage PID ran has ended and been reaped
hook_done() {
	[ -e "$T/hook-ran" ] && [ -z "$(bg_children "$1")" ]
}

@test "faults: SIGTERM to bgstage while it waits for health: prompt exit, mark kept" {
	scene reload
	printf '#!/bin/sh\n: >"%s/hook-ran"\n' "$T" >"$T/hooks/restart"
	chmod 0755 "$T/hooks/restart"
	touch "$T/down-green" "$T/app/.bg-staging.green"
	bgstage -t 60 green >"$T/out" 2>"$T/err" 3>&- &
	stage=$!
	bg_track "$stage" bgstage
	# in the health wait now: the hook ran and was reaped
	wait_until 5 hook_done "$stage"
	kill -TERM "$stage"
	# prompt: well within the 60 s it would otherwise wait
	timeout 5 tail --pid="$stage" -f /dev/null
	st=0
	wait "$stage" || st=$?
	cat "$T/err"
	assert_equal "$st" 143
	assert_regex "$(cat "$T/err")" "interrupted by signal 15 .*while waiting for health"
	assert [ ! -s "$T/out" ]
	assert [ -e "$T/app/.bg-staging.green" ]	# not healthy: still marked
	assert [ -z "$(bg_children "$stage")" ]
}
