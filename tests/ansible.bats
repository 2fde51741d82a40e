#!/usr/bin/env bats
# ansible/deploy.yml and ansible/switch.yml on three servers of
# helpers/fleet (each its own sshd, nginx, instances and files), reached by
# ansible-playbook over ssh from an inventory written here. What each
# server serves is checked through its nginx.

load helpers/fleet

setup() {
	command -v ansible-playbook >/dev/null ||
	    skip "ansible-playbook is missing (Debian: apt-get install ansible-core)"
	fleet_setup
	ansible_setup
}

teardown() {
	ansible_teardown
	fleet_teardown
}

# ansible_setup: an ansible.cfg (every file ansible writes stays in
# $T/ansible), an inventory of the fleet, servers s1..s3, and a
# pre-deploy hook that notes its environment in $T/pre-deploy.log.
ansible_setup() {
	local i port

	[[ $SSH_OPTS =~ -p\ ([0-9]+) ]] || return 1
	port=${BASH_REMATCH[1]}
	mkdir -p "$T/ansible" || return 1
	printf '#!/bin/sh\necho "$HOST|$APP_SRC" >>%s/pre-deploy.log\n' "$T" \
	    >"$T/pre-deploy"
	chmod 0755 "$T/pre-deploy"
	cat >"$T/ansible/ansible.cfg" <<EOF
[defaults]
home = $T/ansible
local_tmp = $T/ansible/tmp
retry_files_enabled = False
forks = 10
[ssh_connection]
pipelining = True
control_path_dir = $T/ansible/cp
ssh_args = -o ControlMaster=auto -o ControlPersist=60s
EOF
	export ANSIBLE_CONFIG="$T/ansible/ansible.cfg" ANSIBLE_NOCOLOR=1
	{
		echo '[bg]'
		for i in 1 2 3; do
			echo "s$i ansible_host=127.0.0.$((i + 1))"
		done
		echo '[bg:vars]'
		echo "ansible_port=$port"
		echo 'ansible_user=root'
		echo "ansible_ssh_private_key_file=$T/ssh/id"
		echo "ansible_ssh_common_args='-F /dev/null -o IdentitiesOnly=yes -o UserKnownHostsFile=$T/ssh/known_hosts -o StrictHostKeyChecking=yes'"
		echo 'ansible_python_interpreter=/usr/bin/python3'
		echo "app=$FLEET_APP"
		echo "bg_conf=$FLEET_CONF"
		echo "bg_bin=$BG_ROOT/tools"
		echo "bg_lib=$BG_ROOT/pipeline"
		echo "pre_deploy=$T/pre-deploy"
	} >"$T/ansible/inventory"
}

# ansible_teardown: end the ssh masters ansible left (ControlPersist).
ansible_teardown() {
	local s

	[ -n "${T:-}" ] || return 0
	for s in "$T"/ansible/cp/*; do
		[ -S "$s" ] || continue
		ssh -F /dev/null -o ControlPath="$s" -O exit bg >/dev/null 2>&1 || :
	done
	return 0
}

# play PLAYBOOK [ARGS]: ansible-playbook PLAYBOOK on the fleet.
play() {
	ansible-playbook -i "$T/ansible/inventory" "$BG_ROOT/ansible/$1" \
	    "${@:2}" 3>&-
}

# history_lines I: lines in server I's switch history.
history_lines() {
	wc -l <"$(fleet_dir "$1")/log/bg.log"
}

@test "ansible: deploy.yml to three servers at once, switch.yml one at a time under load: all serve v3, no request lost" {
	d1=$(fleet_dir 1)
	echo stale >"$d1/app/green/stale"	# --delete removes it
	echo server >"$d1/app/green/.env"	# pipeline/rsync.filter keeps it
	echo mine >"$T/src/.env"		# and never ships this one
	run play deploy.yml -e app_src="$T/src"
	echo "$output"
	assert_success
	assert_equal "$(cat "$T/pre-deploy.log")" "s1 s2 s3|$T/src"	# once, here
	assert_output --regexp 'green is staged: revision [^;]+;'
	rev=$(sed -n 's/.*green is staged: revision \([^;]*\);.*/\1/p' <<<"$output" | head -n 1)
	for i in 1 2 3; do
		d=$(fleet_dir "$i")
		assert_equal "$(prod "$i")" "blue v1"
		assert_equal "$(staging "$i")" "green v3"
		assert_equal "$(cat "$d/app/green/REVISION")" "$rev"
		assert [ ! -e "$d/app/.bg-staging.green" ]
		assert_equal "$(history_lines "$i")" 0
	done
	assert [ ! -e "$d1/app/green/stale" ]
	assert_equal "$(cat "$d1/app/green/.env")" server

	fleet_load_start
	run play switch.yml
	fleet_load_stop
	echo "$output"
	assert_success
	# batches of one: the flip task ran three times, once per server
	assert_equal "$(grep -c '^TASK \[Flip' <<<"$output")" 3
	assert_equal "$(grep -c 'green is live (was blue); blue has drained' <<<"$output")" 3
	assert_equal "$ALIVE" 3	# the load ran through every switch
	assert [ "$SENT" -gt 0 ]
	assert_equal "$FAILED" 0
	assert_equal "$BAD" 0
	for i in 1 2 3; do	# each server switched while its load ran
		assert_regex "${LOAD_LINE[i]}" 'blue_v1:.*green_v3:'
	done
	for i in 1 2 3; do
		d=$(fleet_dir "$i")
		assert_equal "$(prod "$i")" "green v3"
		assert_equal "$(staging "$i")" "blue v1"
		assert_equal "$(history_lines "$i")" 1
		run cat "$d/log/bg.log"
		assert_output --regexp " blue green root $rev\$"
	done
}

# s2's standby goes wrong in three ways. Batches of two (s1 and s2, then
# s3) at the end: with batches of one, Ansible stops after a batch whose
# hosts all failed even without max_fail_percentage.
@test "ansible: deploy.yml fails alone on a server whose standby never turns healthy; switch.yml refuses to start, or stops the rollout there (max_fail_percentage 0)" {
	d2=$(fleet_dir 2)
	fleet_sick 2
	run play deploy.yml -e app_src="$T/src"
	echo "$output"
	assert_failure
	assert_output --regexp 'fatal: \[s2\].*green not healthy after 1s'
	assert_line --regexp '^s2 +:.* failed=1 '	# the recap
	refute_output --partial "fatal: [s1]"
	refute_output --partial "fatal: [s3]"
	assert_output --regexp 'green is staged: revision [^;]+;'
	rev=$(sed -n 's/.*green is staged: revision \([^;]*\);.*/\1/p' <<<"$output" | head -n 1)
	assert_equal "$(staging 1)" "green v3"
	assert_equal "$(staging 3)" "green v3"
	assert [ -e "$d2/app/.bg-staging.green" ]

	# 1. the deploy did not finish there
	run play switch.yml
	echo "$output"
	assert_failure
	assert_output --regexp 'fatal: \[s2\].*green is being staged: the last deploy did not finish here'
	refute_output --partial "PLAY [Make each"
	all_prod "blue v1"

	# 2. it missed the deploy: its standby runs something else, which
	# must not go live
	rm "$d2/sick" "$d2/app/.bg-staging.green"
	echo v2-old >"$d2/app/green/REVISION"
	run play switch.yml
	echo "$output"
	assert_failure
	assert_output --regexp "the standbys run different revisions.*'s2': 'v2-old'"
	refute_output --partial "PLAY [Make each"
	all_prod "blue v1"

	# 3. staged like the others, but unhealthy by the time of the switch:
	# bgflip's health check refuses it
	echo "$rev" >"$d2/app/green/REVISION"
	fleet_sick 2
	run play switch.yml -e batch=2
	echo "$output"
	assert_failure
	assert_output --regexp 'fatal: \[s2\].*bgflip: green is not healthy'
	refute_regex "${output#*PLAY \[Make each}" '\[s3\]'	# the rollout never got there
	assert_equal "$(prod 1)" "green v3"
	assert_equal "$(prod 2)" "blue v1"
	assert_equal "$(prod 3)" "blue v1"
	assert_equal "$(staging 3)" "green v3"
	assert_equal "$(history_lines 1)" 1
	assert_equal "$(history_lines 2)" 0
	assert_equal "$(history_lines 3)" 0
	assert [ ! -e "$(fleet_dir 3)/app/.bg-previous" ]
}

@test "ansible: deploy.yml as root: a line the deploy user writes into deploy-begin.sh's output never makes root copy" {
	d=$(fleet_dir 1)
	# server 1's APP is the deploy user's (nobody), as make init leaves it
	chown -R nobody:nogroup "$d/app"
	mkdir -m 0755 "$d/rootdir"
	echo "root's" >"$d/rootdir/keep"
	# The deploy user holds server 1's bg lock, so the dropped
	# deploy-begin.sh waits for it, and writes its own line into that
	# process's output first (pidfd_getfd): a color that is a path to
	# root's directory.
	forge_begin "$d/run/lock" "$FLEET_APP" "../rootdir - x"
	run play deploy.yml -l s1 -e app_src="$T/src"
	echo "$output"
	wait "$att" || :
	cat "$T/attack.out"
	assert grep -q '^wrote to [0-9]' "$T/attack.out"	# the injection happened
	assert_failure
	assert_output --regexp 'fatal: \[s1\].*deploy-begin\.sh answered \.\./rootdir, not a color: nothing was copied'
	ls -la "$d/rootdir"
	assert_equal "$(cat "$d/rootdir/keep")" "root's"
	assert [ ! -e "$d/rootdir/VERSION" ]
	assert_equal "$(prod 1)" "blue v1"
}
