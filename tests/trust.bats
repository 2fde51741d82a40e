#!/usr/bin/env bats
# trust: root stays root's (SPEC "Trust: root and the deploy user").
#
# A real unprivileged deploy user (helpers/trust.bash) attacks what root
# runs: bgflip through real sudo and the documented sudoers line, inside a
# private mount namespace whose /etc/bg.conf is the scene's config; bgstage
# run as root. Every attack must be refused with the SPEC's exit code and a
# message naming the path, and nothing of root's may change. An attack
# that injects a signal or a fault asserts that it happened.
#
# Where the SPEC's rules are checked: safe.c (rules 1, 2), bgstage.c
# (hooks, the mark: rule 3), run.c and msg.c (rule 4), flip.c, history.c.

load helpers/bg
load helpers/scene
load helpers/trust
bats_require_minimum_version 1.5.0

setup_file() {
	trust_user_add
}

teardown_file() {
	trust_user_del
}

SUDO_FLIP=()

# a reload scene with APP the deploy user's, as make init leaves it
deploy_scene() {
	scene reload || return 1
	chown -R "$TU:$TU" "$T/app"
	SUDO_FLIP=(sudo -n "$BG_ROOT/tools/bgflip")
	mkdir -m 0700 "$T/u"	# where the deploy user keeps its output
	chown "$TU:$TU" "$T/u"
}

# conf_set KEY VALUE: replace a line of $BG_CONF
conf_set() {
	if grep -q "^$1 = " "$BG_CONF"; then
		sed -i "s|^$1 = .*|$1 = $2|" "$BG_CONF"
	else
		echo "$1 = $2" >>"$BG_CONF"
	fi
}

# root_state: what a refused attack must leave as it was
root_state() {
	md5sum "$SITE"/*.conf "$T/log/bg.log"
	stat -c '%n %a %U:%G' "$SITE" "$SITE"/* "$T/log"/*
	find "$T/run" ! -name lock ! -path "$T/run"
	nginx_workers | sort
}

@test "trust: the documented sudoers line lets the deploy user flip, nothing else" {
	deploy_scene
	run as_deploy "${SUDO_FLIP[@]}"
	echo "$output"
	assert_success
	assert_line green
	assert_equal "$(served_color)" green
	run cut -d' ' -f2- "$T/log/bg.log"
	assert_output "blue green $TU v2"
	# -f is refused under sudo, and nothing else runs as root
	run as_deploy "${SUDO_FLIP[@]}" -f "$BG_CONF"
	assert_failure 4
	assert_output --partial "under sudo the config is /etc/bg.conf"
	run as_deploy sudo -n /usr/bin/id -u
	assert_failure
	assert_equal "$(served_color)" green
}

@test "trust: a conf reached through the deploy user's symlink is refused (exit 4)" {
	deploy_scene
	# a sticky world-writable directory: the deploy user may add a link
	mkdir -m 1777 "$T/sticky"
	as_user ln -s "$SITE" "$T/sticky/site"
	conf_set green_conf "$T/sticky/site/green.conf"
	before=$(root_state)
	run as_deploy "${SUDO_FLIP[@]}"
	echo "$output"
	assert_failure 4
	assert_output --partial "green_conf $T/sticky/site/green.conf is unsafe: $T/sticky/site is a symlink owned by uid $TU_UID"
	assert_equal "$(root_state)" "$before"
	assert_equal "$(served_color)" blue
	# the same link made by root is root's choice: followed
	rm "$T/sticky/site"
	ln -s "$SITE" "$T/sticky/site"
	run as_deploy "${SUDO_FLIP[@]}"
	echo "$output"
	assert_success
	assert_equal "$(served_color)" green
}

@test "trust: a conf swapped in by a group member (RENAME_EXCHANGE race) is never installed" {
	deploy_scene
	# the site directory writable by the deploy user's group
	chgrp "$TU" "$SITE"
	chmod 0775 "$SITE"
	{ cat "$SITE/green.conf"; echo '# planted'; } >"$SITE/planted.conf"
	chown "$TU" "$SITE/planted.conf"
	before=$(root_state)
	as_user "$BG_ROOT/tests/bin/renamex" "$SITE" green.conf planted.conf 8 \
	    >"$T/swaps" 2>&1 3>&- &
	racer=$!
	bg_track "$racer" renamex
	won=0 refused=0 tries=0
	while bg_alive "$racer" && [ "$tries" -lt 40 ]; do
		tries=$((tries + 1))
		st=0
		as_deploy "${SUDO_FLIP[@]}" >/dev/null 2>"$T/err" || st=$?
		grep -q planted "$SITE/live.conf" && won=$((won + 1))
		if [ "$st" -eq 4 ] && grep -q "$SITE" "$T/err"; then
			refused=$((refused + 1))
		else
			echo "try $tries: exit $st: $(cat "$T/err")"
		fi
	done
	wait "$racer"
	echo "swaps: $(cat "$T/swaps"), tries $tries, refused $refused, won $won"
	cat "$T/err"
	assert [ "$(cat "$T/swaps")" -gt 0 ]	# the race ran
	assert [ "$tries" -ge 5 ]
	assert_equal "$won" 0
	assert_equal "$refused" "$tries"
	assert grep -q "lies in $SITE, which others can write" "$T/err"
	assert_equal "$(root_state)" "$before"
	assert_equal "$(served_color)" blue
}

@test "trust: nginx_conf and nginx_prefix the deploy user can change are refused (exit 4)" {
	deploy_scene
	before=$(root_state)
	# the deploy user's file (a load_module line would run as root)
	cp "$NGINX_CONF" "$NGINX_PREFIX/theirs.conf"
	chown "$TU" "$NGINX_PREFIX/theirs.conf"
	conf_set nginx_conf "$NGINX_PREFIX/theirs.conf"
	run as_deploy "${SUDO_FLIP[@]}"
	echo "$output"
	assert_failure 4
	assert_output --partial "nginx_conf $NGINX_PREFIX/theirs.conf is unsafe: owned by uid $TU_UID"
	# root's file, in the deploy user's directory: still theirs to swap
	cp "$NGINX_CONF" "$T/app/nginx.conf"
	conf_set nginx_conf "$T/app/nginx.conf"
	run as_deploy "${SUDO_FLIP[@]}"
	assert_failure 4
	assert_output --partial "nginx_conf $T/app/nginx.conf is unsafe: it lies in $T/app, owned by uid $TU_UID"
	conf_set nginx_conf "$NGINX_CONF"
	conf_set nginx_prefix "$T/app"
	run as_deploy "${SUDO_FLIP[@]}"
	echo "$output"
	assert_failure 4
	assert_output --partial "nginx_prefix $T/app is unsafe: owned by uid $TU_UID"
	assert_equal "$(root_state)" "$before"
	assert_equal "$(served_color)" blue
}

@test "trust: bgstage as root refuses hooks the deploy user renamed in (exit 4)" {
	deploy_scene
	printf '#!/bin/sh\nexit 0\n' >"$T/hooks/restart"
	chmod 0755 "$T/hooks/restart"
	# hooks inside APP: the deploy user renames them away, plants theirs
	cp -a "$T/hooks" "$T/app/hooks"
	conf_set hooks "$T/app/hooks"
	as_user mv "$T/app/hooks" "$T/app/hooks.old"
	as_user mkdir "$T/app/hooks"
	as_user sh -c "printf '#!/bin/sh\nid -u >%s/app/ran-as\n' '$T' >'$T/app/hooks/restart'; chmod 0755 '$T/app/hooks/restart'"
	run bgstage green
	echo "$output"
	assert_failure 4
	assert_output --partial "hooks directory $T/app/hooks is unsafe: it lies in $T/app, owned by uid $TU_UID"
	assert [ ! -e "$T/app/ran-as" ]
	# root's hooks, but inside APP: the deploy user could rename them
	rm -r "$T/app/hooks"
	cp -a "$T/hooks" "$T/app/hooks"
	run bgstage green
	echo "$output"
	assert_failure 4
	assert_output --partial "it lies in $T/app, owned by uid $TU_UID"
	# a deploy-owned hook in root's hooks directory
	conf_set hooks "$T/hooks"
	chown "$TU" "$T/hooks/restart"
	run bgstage green
	assert_failure 4
	assert_output --partial "hook $T/hooks/restart is unsafe: owned by uid $TU_UID"
	assert [ ! -e "$T/app/ran-as" ]
	# root's hooks outside APP run
	chown root "$T/hooks/restart"
	run bgstage green
	echo "$output"
	assert_success
	assert_output --partial green
}

@test "trust: bgstage as root refuses a config the deploy user could swap (exit 4)" {
	deploy_scene
	printf '#!/bin/sh\n: >"%s/restart-ran"\n' "$T" >"$T/hooks/restart"
	chmod 0755 "$T/hooks/restart"
	cp "$BG_CONF" "$T/app/bg.conf"	# root's file, in the deploy user's APP
	BG_CONF="$T/app/bg.conf" run bgstage green
	echo "$output"
	assert_failure 4
	assert_output --partial "config $T/app/bg.conf is unsafe: it lies in $T/app, owned by uid $TU_UID"
	assert [ ! -e "$T/restart-ran" ]
}

@test "trust: bgstage as root refuses a lock in a directory the deploy user owns (exit 4)" {
	deploy_scene
	printf '#!/bin/sh\n: >"%s/restart-ran"\n' "$T" >"$T/hooks/restart"
	chmod 0755 "$T/hooks/restart"
	# root's file, planted by the deploy user as the lock, which root
	# opens for writing
	echo "root's" >"$T/victim"
	conf_set lock "$T/app/lock"
	run as_user ln -s "$T/victim" "$T/app/lock"
	assert_success
	run bgstage green
	echo "$output"
	assert_failure 4
	assert_output --partial "lock directory"
	assert_output --partial "$T/app"
	assert [ ! -e "$T/restart-ran" ]
	assert_equal "$(cat "$T/victim")" "root's"
}

@test "trust: bgcolor -k as root (the cron stop hook) refuses a config the deploy user could swap (exit 4)" {
	deploy_scene
	cp "$BG_CONF" "$T/app/bg.conf"	# root's file, in the deploy user's APP
	run --separate-stderr bgcolor -f "$T/app/bg.conf" -k app
	echo "$stderr"
	assert_failure 4
	refute_output
	assert_regex "$stderr" "config $T/app/bg.conf is unsafe: it lies in $T/app, owned by uid $TU_UID"
	run bgcolor -f "$BG_CONF" -k app
	assert_success
	assert_output "$T/app"
}

@test "trust: bgstage as root never removes a mark outside the deploy user's APP" {
	scene reload
	printf '#!/bin/sh\nexit 0\n' >"$T/hooks/restart"
	chmod 0755 "$T/hooks/restart"
	# APP lies below a directory of the deploy user's
	mkdir -p "$T/home/sub/app/green" "$T/home/sub/app/blue"
	chown -R "$TU:$TU" "$T/home"
	conf_set app "$T/home/sub/app"
	# root's files named like a mark, where the deploy user will point
	mkdir -p "$T/rootapp/green" "$T/rootsub/app/green"
	touch "$T/rootapp/.bg-staging.green" "$T/rootsub/app/.bg-staging.green"
	# APP itself a symlink
	as_user mv "$T/home/sub/app" "$T/home/sub/app.real"
	as_user ln -s "$T/rootapp" "$T/home/sub/app"
	run bgstage green
	echo "$output"
	assert_failure 4
	assert_output --partial "app $T/home/sub/app is not a directory (a symlink?)"
	assert [ -e "$T/rootapp/.bg-staging.green" ]
	# a directory above APP swapped for a link to root's tree
	as_user rm "$T/home/sub/app"
	as_user mv "$T/home/sub" "$T/home/sub.real"
	as_user ln -s "$T/rootsub" "$T/home/sub"
	run bgstage green
	echo "$output"
	assert_failure 4
	assert_output --partial "app $T/home/sub/app is unsafe"
	assert [ -e "$T/rootsub/app/.bg-staging.green" ]
	# the deploy user's own APP: the mark goes, removed as its owner
	as_user rm "$T/home/sub"
	as_user mv "$T/home/sub.real" "$T/home/sub"
	as_user mv "$T/home/sub/app.real" "$T/home/sub/app"
	as_user touch "$T/home/sub/app/.bg-staging.green"
	strace -f -o "$T/strace" -e trace=setuid,unlinkat bgstage green
	assert [ ! -e "$T/home/sub/app/.bg-staging.green" ]
	cat "$T/strace"
	assert grep -E "setuid\($TU_UID\) += 0" "$T/strace"
	assert grep -E 'unlinkat\(.*"\.bg-staging\.green", 0\) += 0' "$T/strace"
}

@test "trust: SIGCHLD ignored by the caller does not bypass nginx -t (sudo passes it on)" {
	deploy_scene
	echo 'bogus_directive on;' >>"$SITE/green.conf"
	before=$(root_state)
	run as_deploy bash -c "trap '' CHLD; grep '^SigIgn' /proc/self/status >&2; exec ${SUDO_FLIP[*]}"
	echo "$output"
	# the injection: the caller's children start with SIGCHLD (17) ignored
	ign=$(echo "$output" | sed -n 's/^SigIgn:[[:space:]]*//p')
	assert_equal $(( 0x$ign >> 16 & 1 )) 1
	assert_failure 4
	assert_output --partial 'unknown directive "bogus_directive"'
	assert_equal "$(root_state)" "$before"
	assert [ ! -e "$T/run/lock.flip" ]
	assert_equal "$(served_color)" blue
}

@test "trust: SIGCHLD ignored does not make a failing hook succeed (bgstage as root)" {
	scene reload
	printf '#!/bin/sh\nexit 3\n' >"$T/hooks/install"
	printf '#!/bin/sh\n: >"%s/restart-ran"\n' "$T" >"$T/hooks/restart"
	chmod 0755 "$T/hooks/install" "$T/hooks/restart"
	touch "$T/app/.bg-staging.green"
	run bash -c "trap '' CHLD; grep '^SigIgn' /proc/self/status >&2; exec bgstage -i green"
	echo "$output"
	ign=$(echo "$output" | sed -n 's/^SigIgn:[[:space:]]*//p')
	assert_equal $(( 0x$ign >> 16 & 1 )) 1
	assert_failure 1
	assert_output --partial "hook $T/hooks/install exited 3"
	assert [ ! -e "$T/restart-ran" ]
	assert [ -e "$T/app/.bg-staging.green" ]
}

@test "trust: USR1 relayed by sudo mid-flip does not stop the flip half way" {
	deploy_scene
	# root watches through sudo (strace -u runs the deploy user's shell);
	# the first rename (the crash record in place) is held 3 s
	# shellcheck disable=SC2016 # for the deploy user's shell
	as_root_ns strace -f -u "$TU" -o "$T/strace" -e trace=rename,kill \
	    -e inject=rename:delay_exit=3000000:when=1 \
	    bash -c "$(declare -f wait_until)"'
		'"${SUDO_FLIP[*]}"' >"$0/u/out" 2>"$0/u/err" & s=$!
		wait_until 5 test -e "$0/run/lock.flip" || exit 1
		kill -USR1 "$s"
		st=0; wait "$s" || st=$?
		echo "$st" >"$0/u/status"' "$T" 3>&-
	cat "$T/u/err" "$T/u/out"
	grep -E 'SIGUSR1|rename\(' "$T/strace"
	# the signal reached sudo and sudo relayed it to bgflip
	assert [ "$(grep -cE 'kill\([0-9]+, SIGUSR1\) += 0' "$T/strace")" -ge 2 ]
	strace_saw "$T/strace" 'lock\.flip"\) = 0 \(DELAYED\)'
	assert_equal "$(cat "$T/u/status")" 0
	assert_equal "$(cat "$T/u/out")" green
	assert [ ! -e "$T/run/lock.flip" ]
	assert_equal "$(served_color)" green
	assert_equal "$(disk_color)" green
	assert_equal "$(wc -l <"$T/log/bg.log")" 1
}

@test "trust: ENOSPC on the history through sudo: the flip stands, the log is whole" {
	deploy_scene
	as_root_ns strace -f -u "$TU" -o "$T/strace" -P "$T/log/bg.log" \
	    -e trace=write -e inject=write:error=ENOSPC:when=1 \
	    bash -c "${SUDO_FLIP[*]} >'$T/u/out' 2>'$T/u/err'"
	cat "$T/u/err" "$T/strace"
	strace_saw "$T/strace" 'ENOSPC \(No space left on device\) \(INJECTED\)'
	assert_equal "$(cat "$T/u/out")" green
	assert grep -q "history line is missing" "$T/u/err"
	assert [ ! -s "$T/log/bg.log" ]
	assert [ ! -e "$T/run/lock.flip" ]
	assert_equal "$(served_color)" green
}

@test "trust: out of file descriptors is said as such, never as a wrong pid" {
	deploy_scene
	# through sudo (which itself needs a dozen) and as root directly
	seen=0
	for n in $(seq 4 16); do
		for via in sudo root; do
			st=0
			if [ "$via" = sudo ]; then
				as_deploy bash -c "ulimit -n $n && exec ${SUDO_FLIP[*]}" \
				    >"$T/out" 2>"$T/err" || st=$?
			else
				bash -c "ulimit -n $n && exec bgflip" \
				    >"$T/out" 2>"$T/err" || st=$?
			fi
			echo "$via, ulimit -n $n: exit $st: $(tr '\n' ' ' <"$T/err")"
			refute grep -q 'is not an nginx master' "$T/err"
			if [ "$st" -ne 0 ]; then
				# the loader's "Error 24" is EMFILE too
				assert grep -qE 'Too many open files|Error 24|^sudo:' "$T/err"
			fi
			grep -q '^bgflip: .*Too many open files' "$T/err" &&
			    seen=$((seen + 1))
			assert_equal "$(served_color)" "$(disk_color)"
			assert [ ! -e "$T/run/lock.flip" ]
		done
	done
	assert [ "$seen" -gt 0 ]	# the limit did bite bgflip itself
}

@test "trust: a REVISION hard-linked to a secret is not read into the history" {
	deploy_scene
	echo 'root-only secret' >"$T/secret"
	chmod 0600 "$T/secret"
	rm "$T/app/green/REVISION"
	# as a system without protected_hardlinks would let the deploy user
	ln "$T/secret" "$T/app/green/REVISION"
	run as_deploy "${SUDO_FLIP[@]}"
	assert_success
	run cat "$T/log/bg.log"
	refute_output --partial secret
	assert_output --partial " blue green $TU -"
}
