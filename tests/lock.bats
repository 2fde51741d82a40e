#!/usr/bin/env bats
# The lock bgstage, bgflip and make deploy share (tools/lib/lock.c), through
# tests/unit/unit_lock: "unit_lock PATH [WAIT_MS [HOLD_MS]]".

load helpers/bg

setup() {
	bg_setup
	L=$T/lock
}

# hold NAME [HOLD_MS]: a background unit_lock holding $L; its pid in
# $HOLDER once it printed "locked".
hold() {
	local out=$T/hold-$1.out

	unit_lock "$L" -1 "${2:-30000}" >"$out" 2>&1 3>&- &
	HOLDER=$!
	bg_track "$HOLDER" "unit_lock-$1"
	wait_until 5 grep -q '^locked ' "$out" && return 0
	echo "hold: unit_lock did not take $L:" >&2
	cat "$out" >&2
	return 1
}

# flock1_hold: flock(1) holding $L in the background (as in make deploy),
# its pid in $HOLDER and its command's in $CHILD once the lock is taken.
flock1_hold() {
	local st=0

	flock "$L" sleep 30 </dev/null >/dev/null 2>&1 3>&- &
	HOLDER=$!
	bg_track "$HOLDER" flock
	CHILD=
	wait_until 5 flock1_took || st=$?
	# its command too, taken or not: flock(1) leaves it running
	if [ -n "$CHILD" ]; then
		bg_track "$CHILD" flock-child
	fi
	return "$st"
}

# flock1_took: $HOLDER runs its command ($CHILD) and holds the lock
flock1_took() {
	CHILD=$(bg_children "$HOLDER")
	[ -n "$CHILD" ] && grep -q "FLOCK .* $HOLDER " /proc/locks
}

# bats test_tags=sanitize
@test "lock: a free lock is taken, the file created 0644 holding the pid" {
	umask 000	# 0644 whatever the umask: never group- or world-writable
	run unit_lock "$L"
	echo "$output"
	assert_success
	assert_output --regexp '^locked [0-9]+$'
	assert_equal "$(cat "$L")" "${output#locked }"
	assert_equal "$(stat -c %a "$L")" 644
}

# bats test_tags=sanitize
@test "lock: a second taker gets busy with the holder's pid, the file untouched" {
	hold a
	run unit_lock "$L"
	echo "$output"
	assert_failure 1
	assert_output "busy $HOLDER"
	assert_equal "$(cat "$L")" "$HOLDER"
}

@test "lock: a taker that waits times out while the lock stays held" {
	hold a
	run unit_lock "$L" 300
	echo "$output"
	assert_failure 3
	assert_output "timeout $HOLDER"
	bg_alive "$HOLDER"
}

@test "lock: a taker that waits gets the lock once the holder is done" {
	hold a 700
	run unit_lock "$L" 20000
	echo "$output"
	assert_success
	assert_output --regexp '^locked [0-9]+$'
	assert_equal "$(cat "$L")" "${output#locked }"
}

@test "lock: a SIGKILLed holder releases the lock; its pid left in the file is not stale" {
	hold a
	kill -KILL "$HOLDER"
	st=0
	wait "$HOLDER" 2>/dev/null || st=$?
	assert_equal "$st" 137	# the SIGKILL ended it
	assert_equal "$(cat "$L")" "$HOLDER"
	run unit_lock "$L"
	echo "$output"
	assert_success
	assert_equal "$(cat "$L")" "${output#locked }"
	assert_not_equal "${output#locked }" "$HOLDER"
}

@test "lock: flock(1) on the same file excludes bg_lock, and names its pid" {
	# a live pid that is not the holder, left in the file by an earlier run
	echo "$$" >"$L"
	flock1_hold
	run unit_lock "$L"
	echo "$output"
	assert_failure 1
	assert_output "busy $HOLDER"
	# flock(1) lets go when its command ends (of the SIGTERM: flock(1)
	# exits 128+15 for it)
	kill "$CHILD"
	st=0
	wait "$HOLDER" 2>/dev/null || st=$?
	assert_equal "$st" 143
	run unit_lock "$L"
	assert_success
}

@test "lock: bg_lock excludes flock(1)" {
	hold a
	run flock -n "$L" true
	assert_failure 1
	kill "$HOLDER"
	st=0
	wait "$HOLDER" 2>/dev/null || st=$?
	assert_equal "$st" 143	# the SIGTERM ended it
	run flock -n "$L" true
	assert_success
}

# bats test_tags=sanitize
@test "lock: the holder's pid comes from the kernel, not from a stale or junk file" {
	flock1_hold
	echo 999999999 >"$L"	# no such pid; /proc/locks still knows flock(1)
	run unit_lock "$L"
	assert_output "busy $HOLDER"
	printf 'junk\n' >"$L"
	run unit_lock "$L"
	assert_failure 1
	assert_output "busy $HOLDER"
	# flock(1) dies, its command keeps the lock: the kernel's entry names
	# a dead pid, so the answer is "unknown", not the live pid in the file
	echo "$$" >"$L"
	kill -KILL "$HOLDER"
	st=0
	wait "$HOLDER" 2>/dev/null || st=$?
	assert_equal "$st" 137	# the SIGKILL ended it
	run unit_lock "$L"
	echo "$output"
	assert_failure 1
	assert_output "busy 0"
	kill "$CHILD"
}

@test "lock: a symlink at the lock path is refused, its target untouched" {
	ln -s "$T/target" "$L"
	run unit_lock "$L"
	echo "$output"
	assert_failure 5
	assert_output "error: Too many levels of symbolic links"
	assert [ ! -e "$T/target" ]
	echo keep >"$T/target"
	run unit_lock "$L"
	assert_failure 5
	assert_equal "$(cat "$T/target")" keep
}

@test "lock: a FIFO or a directory at the lock path is refused without hanging" {
	mkfifo "$L"
	run timeout 10 unit_lock "$L"
	echo "$output"
	assert_failure 5
	assert_output "error: Invalid argument"
	rm "$L"
	mkdir "$L"
	run unit_lock "$L"
	assert_failure 5
	assert_output "error: Is a directory"
}

@test "lock: a missing directory is an error, not a hang" {
	run unit_lock "$T/no/such/dir/lock" 5000
	assert_failure 5
	assert_output "error: No such file or directory"
}

@test "lock: a user who can only read the lock file still takes the lock" {
	command -v setpriv >/dev/null || skip "setpriv is not installed"
	[ "$(id -u)" -eq 0 ] || skip "needs root to act as another user"
	# root's lock file, 0644, in a directory nobody cannot write
	echo 1 >"$L"
	chmod 0644 "$L"
	local as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	run "${as_nobody[@]}" "$BG_ROOT/tests/unit/unit_lock" "$L"
	echo "$output"
	assert_success
	assert_output --regexp '^locked [0-9]+$'
	assert_equal "$(cat "$L")" 1	# read-only: nothing written
	hold a
	run "${as_nobody[@]}" "$BG_ROOT/tests/unit/unit_lock" "$L"
	assert_failure 1
	assert_output "busy $HOLDER"
	# cannot create it either: the error says why
	run "${as_nobody[@]}" "$BG_ROOT/tests/unit/unit_lock" "$T/new-lock"
	assert_failure 5
	assert_output "error: Permission denied"
}
