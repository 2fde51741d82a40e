#!/usr/bin/env bats
# HOSTS="a b c": make deploy on every server at once, a rolling make switch,
# make rollback of the servers switched, make status a row each - against
# three real servers on this machine (helpers/fleet: each its own sshd,
# mount namespace, nginx and pair of fixture instances, at 127.0.0.2-4),
# with the counting load client on every server's production throughout.

load helpers/fleet

setup() {
	fleet_setup
}

teardown() {
	fleet_teardown
}

# fmk ARGS: make for the fleet; the same settings for every server.
fmk() {
	mkdir -p "$T/tmp"
	TMPDIR=$T/tmp make -C "${MK_DIR:-$BG_ROOT}" --no-print-directory \
	    HOSTS="$FLEET_HOSTS" SSH_OPTS="$SSH_OPTS" APP="$FLEET_APP" \
	    BG_CONF="$FLEET_CONF" BG_BIN="$BG_ROOT/tools" BG_LIB="$BG_ROOT/pipeline" \
	    APP_SRC="$T/src" \
	    PRE_DEPLOY="$T/no-pre-deploy" ROLLOUT="$T/rollout" "$@"
}

# line_of TEXT: the number of the first output line holding TEXT.
line_of() {
	local i

	for i in "${!lines[@]}"; do
		[[ ${lines[$i]} != *"$1"* ]] || { echo "$i"; return 0; }
	done
	echo "no line holds: $1" >&2
	return 1
}

# barrier: every server's restart hook first waits (10 s at most, then
# fails) until all of them have got that far: a deploy that does not run
# on every server at once fails.
barrier() {
	local i

	{
		echo '#!/bin/bash'
		declare -f wait_until
		cat <<EOF
echo x >>$T/barrier
all_here() { [ "\$(wc -l <$T/barrier)" -ge $FLEET_N ]; }
wait_until 10 all_here || { echo "barrier: alone for 10 s" >&2; exit 1; }
EOF
	} >"$T/barrier.sh"
	for i in $(seq "$FLEET_N"); do
		sed -i "/^set -eu/a bash $T/barrier.sh" "$(fleet_dir "$i")/hooks/restart"
	done
}

@test "fleet: deploy everywhere at once, rolling switch, rollback, under load: no request lost" {
	barrier
	fleet_load_start

	run fmk deploy
	echo "$output"
	assert_success
	each_server ' ok .*green is staged'
	for i in 1 2 3; do
		assert_output --partial "$(fleet_host "$i") | make deploy: green is staged: revision "
		assert_equal "$(staging "$i")" "green v3"
		assert_equal "$(prod "$i")" "blue v1"
	done
	assert_output --partial "make deploy: done on all 3 servers"
	assert_equal "$(wc -l <"$T/barrier")" 3
	run fmk switch
	echo "$output"
	assert_success
	# rolling: each server flipped after the one before it had drained
	for i in 1 2; do
		drained=$(line_of "$(fleet_host "$i") | make switch: green is live")
		next=$(line_of "$(fleet_host $((i + 1))) | make switch: green is live")
		assert [ "$drained" -lt "$next" ]
	done
	for i in 1 2 3; do
		assert_equal "$(prod "$i")" "green v3"
		assert_equal "$(wc -l <"$(fleet_dir "$i")/log/bg.log")" 1
	done
	assert_equal "$(cat "$T/rollout")" "$(tr ' ' '\n' <<<"$FLEET_HOSTS")"

	run fmk status
	echo "$output"
	assert_success
	each_server ' green  v1 '
	refute_output --partial differ

	run fmk rollback
	echo "$output"
	assert_success
	assert_output --partial "rolling back root@127.0.0.4 root@127.0.0.3 root@127.0.0.2"
	for i in 1 2 3; do
		assert_equal "$(prod "$i")" "blue v1"
		assert_equal "$(staging "$i")" "green v3"
	done
	assert [ ! -e "$T/rollout" ]

	fleet_load_stop
	echo "sent $SENT, ok $OK, failed $FAILED"
	assert_equal "$ALIVE" 3	# the load ran through it all
	assert [ "$SENT" -gt 0 ]
	assert_equal "$FAILED" 0
	assert [ "$OK" -eq "$SENT" ]
}

@test "fleet: an unreachable server fails alone in deploy; switch then refuses to start" {
	hosts="$(fleet_host 1) root@127.0.0.9 $(fleet_host 2)"
	run fmk deploy HOSTS="$hosts"
	echo "$output"
	assert_failure
	assert_output --partial "Error 5"
	assert_output --regexp 'root@127\.0\.0\.9.*exit 5.*cannot connect to root@127\.0\.0\.9'
	assert_output --regexp 'failed on 1 of 3 servers.*nothing went live'
	assert_equal "$(staging 1)" "green v3"
	assert_equal "$(staging 2)" "green v3"
	assert_equal "$(prod 1)" "blue v1"
	assert_equal "$(prod 2)" "blue v1"

	run fmk switch HOSTS="$hosts"
	echo "$output"
	assert_failure
	output_has "Error 5" \
	    "root@127.0.0.9: cannot tell what it runs: the ssh connection to root@127.0.0.9 failed" \
	    "nothing was switched"
	assert_equal "$(prod 1)" "blue v1"
	assert_equal "$(prod 2)" "blue v1"
	assert [ ! -s "$(fleet_dir 1)/log/bg.log" ]
	assert [ ! -s "$T/rollout" ]
}

@test "fleet: a server whose new version never turns healthy: deploy says so, switch refuses to start" {
	fleet_sick 2
	run fmk deploy
	echo "$output"
	assert_failure
	assert_output --partial "Error 3"
	assert_output --regexp "$(re_quote "$(fleet_host 2)").*exit 3.*did not answer 200"
	assert_equal "$(staging 1)" "green v3"
	assert_equal "$(staging 3)" "green v3"

	run fmk switch
	echo "$output"
	assert_failure
	assert_output --partial "$(fleet_host 2): green is being staged: make deploy did not finish there"
	assert_output --partial "nothing was switched"
	all_prod "blue v1"

	# a server that missed the deploy altogether: its standby runs
	# something else, which must not go live
	rm "$(fleet_dir 2)/sick" "$(fleet_dir 2)/app/.bg-staging.green"
	echo v2-old >"$(fleet_dir 2)/app/green/REVISION"
	run fmk switch
	echo "$output"
	assert_failure
	assert_output --partial "standbys run different revisions"
	assert_output --partial "  v2-old: $(fleet_host 2)"
	all_prod "blue v1"
}

@test "fleet: a switch failing on the second server stops the rollout there; status flags it; rollback" {
	run fmk deploy
	assert_success
	# server 2's new instance dies after its deploy: bgflip's health
	# check refuses it
	kill "$(cat "$(fleet_dir 2)/app-green.pid")"
	run fmk switch
	echo "$output"
	assert_failure
	assert_output --partial "Error 1"
	assert_output --partial "1 done stay as they are; 1 not touched"
	assert_equal "$(prod 1)" "green v3"
	assert_equal "$(prod 2)" "blue v1"
	assert_equal "$(prod 3)" "blue v1"
	assert [ ! -s "$(fleet_dir 3)/log/bg.log" ]
	assert_equal "$(cat "$T/rollout")" "$(fleet_host 1)"

	run fmk status
	echo "$output"
	assert_failure
	assert_line --regexp "$(re_quote "$(fleet_host 2)").* blue   v1 "
	assert_output --partial "live revisions differ"
	assert_output --partial "  v1: $(fleet_host 2) $(fleet_host 3)"

	run fmk rollback
	echo "$output"
	assert_success
	assert_output --partial "rolling back $(fleet_host 1):"
	all_prod "blue v1"
	assert [ ! -e "$T/rollout" ]
	run fmk rollback
	assert_failure
	assert_output --partial "no rolling switch recorded"
}

@test "fleet: PARALLEL=3 switches every server in one batch; PARALLEL=0 is refused" {
	run fmk deploy
	assert_success
	run fmk switch PARALLEL=0
	echo "$output"
	assert_failure
	assert_output --partial "PARALLEL=0: want a number of servers"
	assert_equal "$(prod 1)" "blue v1"
	run fmk switch PARALLEL=3
	echo "$output"
	assert_success
	assert_output --partial "one batch of 3 at a time"
	all_prod "green v3"
	run fmk history
	echo "$output"
	assert_success
	each_server ' \| .* blue green root '
}

@test "fleet: make init sets every server up at once; a second run changes nothing" {
	init_setup "$T/host/srv" "$T/host/build"
	set -- "${INIT_ARGS[@]}" NGINX_PREFIX="$T/host/nginx" \
	    NGINX_CONF="$T/host/nginx/nginx.conf" NGINX_PID="$T/host/nginx/nginx.pid"
	run fmk "$@"
	echo "$output"
	assert_success
	assert_output --partial "make init: done on all 3 servers"
	for i in 1 2 3; do
		assert_output --partial "$(fleet_host "$i") | make init: done"
		assert [ -x "$(fleet_dir "$i")/srv/bin/bgflip" ]
		assert grep -qx "mode = reload" "$(fleet_dir "$i")/srv/etc/bg.conf"
		assert [ -d "$(fleet_dir "$i")/srv/app/shared" ]
	done
	assert [ ! -e "$T/host/srv" ]

	run fmk "$@"
	echo "$output"
	assert_success
	for i in 1 2 3; do
		assert_output --partial "$(fleet_host "$i") | make init: nothing changed"
	done
	refute_output --partial ": created"
}
