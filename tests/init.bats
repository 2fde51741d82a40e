#!/usr/bin/env bats
# make init against a fresh Debian "server" with no compiler and no make
# (helpers/debserver: this machine through a private mount namespace whose
# writes land in overlays), over a real sshd running inside it: the package
# is installed there, every setting is checked before anything changes,
# hooks are installed exactly and outside APP, the systemd unit and the
# tmpfiles.d entry are real, and a deploy and a switch work afterwards.

load helpers/bg
load helpers/sshd
load helpers/debserver

setup_file() {
	# one package for the file ($DEB, see file_deb): BG_TEST_DEB, one
	# built already (.ci/run builds it first)
	export DEB=$BATS_FILE_TMPDIR/bg.deb
	if [ -n "${BG_TEST_DEB:-}" ]; then
		cp "$BG_TEST_DEB" "$DEB" || return 1
	fi
}

# file_deb: $DEB, the package this file's tests install, made once for the
# file: BG_TEST_DEB's copy, or the one the from-scratch test's make init
# built (from the same tree), or else make deb here.
file_deb() {
	[ -f "$DEB" ] && return 0
	(
		flock 9 || exit 1
		[ -f "$DEB" ] && exit 0
		make -s -C "$BG_ROOT" deb >"$BATS_FILE_TMPDIR/deb.out" 2>&1 ||
		    { cat "$BATS_FILE_TMPDIR/deb.out"; exit 1; }
		cp "$BG_ROOT/$(tail -n 1 "$BATS_FILE_TMPDIR/deb.out")" "$DEB.tmp" &&
		    mv "$DEB.tmp" "$DEB"
	) 9>"$BATS_FILE_TMPDIR/deb.lock"
}

setup() {
	bg_setup
	debserver_init
	debserver_sshd
	PROD=$(free_port)
	STAGE=$(free_port)
	mkdir -p "$T/hooks" "$T/src"
	# the test app: the fixture server, shipped in the app's own tree
	cp "$BG_ROOT/tests/bin/bgapp" "$T/src/bgapp"
	echo v1 >"$T/src/VERSION"
	cat >"$T/hooks/restart" <<'EOF'
#!/bin/sh
set -eu
run=$BG_APP_DIR/../shared
if [ -s "$run/$1.pid" ]; then
	kill "$(cat "$run/$1.pid")" 2>/dev/null || :
	sleep 0.3
fi
rm -f "${BG_ADDR#unix:}"
setsid ./bgapp --listen "$BG_ADDR" --color "$1" --version "$(cat VERSION)" \
    --sock-mode 0660 </dev/null >>"$run/$1.log" 2>&1 &
echo $! >"$run/$1.pid"
EOF
	printf '#!/bin/sh\nexit 0\n' >"$T/hooks/install"
	printf '#!/bin/sh\nexit 0\n' >"$T/hooks/migrate"
	chmod 0755 "$T/hooks"/*
}

teardown() {
	local p

	# what the sessions started in the server: nginx, the instances
	for p in $(debserver_pids); do
		bg_track "$p" server
	done
	bg_teardown
}

# mk ARGS: make init to the test server, settings for socket mode in
# Debian's layout; ARGS add or override (PACKAGE= too: then no $DEB).
mk() {
	case " $* " in
	*" PACKAGE="*) ;;
	*) file_deb || return 1 ;;
	esac
	make -C "${MK_DIR:-$BG_ROOT}" --no-print-directory init \
	    HOST="$SSH_HOST" SSH_OPTS="$SSH_OPTS" PACKAGE="$DEB" \
	    DEPLOY_USER=deploy MODE=socket URL="http://127.0.0.1:$PROD/bg" \
	    BLUE=unix:/run/app/blue.sock GREEN=unix:/run/app/green.sock \
	    LISTEN="127.0.0.1:$PROD" STAGING_LISTEN="127.0.0.1:$STAGE" \
	    SERVER_NAME=localhost SOCKET_DIR=/run/app HOOKS_SRC="$T/hooks" "$@"
}

# mk_timed WHAT ARGS: run mk ARGS; its output, and how long it took.
mk_timed() {
	local what=$1 t0=$EPOCHSECONDS
	shift

	run mk "$@"
	echo "$output"
	echo "# $what: $((EPOCHSECONDS - t0))s" >&3
}

# is_comm PID NAME: PID runs the program NAME.
is_comm() {
	[ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]
}

# swaps PID FILE: the number of exchanges raceswap PID has made so far:
# asked with SIGUSR1, answered with one more line in FILE, its output.
swaps() {
	local n

	n=$(grep -c . "$2" || :)
	kill -USR1 "$1" || return 1
	wait_until 5 has_lines "$2" $((n + 1)) || return 1
	sed -n "$((n + 1))p" "$2"
}

# has_lines FILE N: FILE has at least N lines.
has_lines() {
	[ "$(grep -c . "$1")" -ge "$2" ]
}

server_user() {
	ssh_run 'useradd -M -d /nonexistent -s /bin/sh -p \* deploy'
}

@test "make init: a server without compiler or make, from scratch: the package, a deploy and a switch over ssh; twice changes nothing" {
	run ssh_run 'command -v gcc || command -v cc || command -v make || echo none'
	assert_output none
	server_user
	run ssh_run 'ls /etc/nginx/sites-enabled/default && rm /etc/nginx/sites-enabled/default && nginx && cat /run/nginx.pid'
	assert_success
	# the app's own nginx file (APP_NGINX), which bg never writes: kept
	# and served across make init twice, a deploy and a switch
	run ssh_run 'mkdir -p /etc/bg/nginx.d && printf "%s\n" "location = /own { add_header X-Own yes always; return 200 \"own\\n\"; }" >/etc/bg/nginx.d/own.conf && cat /etc/bg/nginx.d/own.conf'
	assert_success
	own=$output
	# make deb here (from a snapshot of the tree), not a given PACKAGE
	mkdir "$T/repo"
	(cd "$BG_ROOT" && git ls-files -z -c -o --exclude-standard | grep -zv '^build/' |
	    tar --null -T - -cf - | tar -xf - -C "$T/repo")
	MK_DIR=$T/repo
	mk_timed "fresh make init (make deb included)" PACKAGE= SYSTEMD=1 APP_EXEC=/srv/app/%i/bgapp
	assert_success
	assert_output --partial "building the package (make deb)"
	# the file's other tests install this same package (file_deb)
	[ -f "$DEB" ] || { cp "$T"/repo/build/deb/bg_*.deb "$DEB.tmp" && mv "$DEB.tmp" "$DEB"; }
	assert_output --partial "package bg 0.9.0: installed"
	assert_output --partial "/srv/app/blue/: created (by deploy)"
	assert_output --partial "/etc/nginx/sites-enabled/bg -> /etc/nginx/sites-available/bg: created"
	assert_output --partial "/run/app/: created (2750 deploy:www-data)"
	assert_output --partial "/var/lib/bg/current: created (blue is live)"
	assert_output --partial "deploy ALL=(root) NOPASSWD: /usr/bin/bgflip"
	assert_output --partial "visudo -cf: valid"
	assert_output --partial "make init: done"
	run ssh_run 'stat -c "%a %U:%G %n" /srv/app /srv/app/blue /srv/app/green /srv/app/shared /etc/bg/hooks /etc/bg/hooks/restart /etc/bg.conf /run/app; bgflip -V; dpkg-query -W -f "\${Status}\n" bg nginx-light rsync'
	echo "$output"
	assert_output "755 deploy:deploy /srv/app
755 deploy:deploy /srv/app/blue
755 deploy:deploy /srv/app/green
755 deploy:deploy /srv/app/shared
755 root:root /etc/bg/hooks
755 root:root /etc/bg/hooks/restart
644 root:root /etc/bg.conf
2750 deploy:www-data /run/app
bgflip 0.9.0
install ok installed
install ok installed
install ok installed"

	before=$(debserver_changes)
	mk_timed "no-change make init" PACKAGE= SYSTEMD=1 APP_EXEC=/srv/app/%i/bgapp
	assert_success
	assert_output --partial "make init: nothing changed"
	refute_output --partial ": created"
	refute_output --partial ": updated"
	refute_output --partial "building the package"
	assert_equal "$(debserver_changes)" "$before"

	# the sudoers line make init printed; then a deploy and a switch, as
	# the deploy user, over ssh, with the installed tools
	ssh_run "echo 'deploy ALL=(root) NOPASSWD: /usr/bin/bgflip' >/etc/sudoers.d/bg && chmod 0440 /etc/sudoers.d/bg"
	dep=(HOST=deploy@127.0.0.1 SSH_OPTS="$SSH_OPTS" APP=/srv/app
	    BG_CONF=/etc/bg.conf BG_BIN=/usr/bin APP_SRC="$T/src" PRE_DEPLOY=/nonexistent)
	run make -C "$BG_ROOT" --no-print-directory deploy "${dep[@]}"
	echo "$output"
	assert_success
	assert_output --partial "green is staged"
	run curl -sS "http://127.0.0.1:$STAGE/"
	assert_output --partial "green v1"
	run make -C "$BG_ROOT" --no-print-directory switch "${dep[@]}"
	echo "$output"
	assert_success
	run curl -sS "http://127.0.0.1:$PROD/"
	assert_output --partial "green v1"
	run curl -sS "http://127.0.0.1:$PROD/bg"
	assert_output green
	run curl -sS -i "http://127.0.0.1:$PROD/own"
	echo "$output"
	assert_line --partial "X-Own: yes"
	assert_line own
	run ssh_run 'cat /etc/bg/nginx.d/own.conf'
	assert_output "$own"
}

@test "make init: each missing or wrong setting is refused, naming it, and nothing on the server changes" {
	server_user
	before=$(debserver_changes)
	assert [ -n "$before" ]
	busy=$(free_port)
	start_app busy blue v0 "127.0.0.1:$busy"
	# VARIABLE=value (empty: unset)|exit status|what the message names
	cases=(
	    "DEPLOY_USER=|2|DEPLOY_USER is not set"
	    "DEPLOY_USER=root|2|DEPLOY_USER=root"
	    "DEPLOY_USER=nosuchuser|4|DEPLOY_USER=nosuchuser: no such user"
	    "MODE=bogus|2|MODE=bogus"
	    "URL=|2|URL is not set"
	    "URL=ftp://x/bg|2|URL=ftp://x/bg"
	    "BLUE=|2|BLUE is not set"
	    "GREEN=nowhere|2|GREEN=nowhere"
	    "LIVE_CONF=|2|MODE=socket needs LIVE_CONF"
	    "LIVE_CONF=relative/bg|2|LIVE_CONF=relative/bg: not an absolute path"
	    "HOOKS=/srv/app/hooks|2|HOOKS=/srv/app/hooks is inside APP"
	    "HOOKS=/tmp/x y|2|HOOKS=/tmp/x y"
	    "BG_BIN=/usr/local/bin|2|BG_BIN=/usr/local/bin"
	    "LOCK=/tmp/bg-init-test.lock|4|LOCK=/tmp/bg-init-test.lock"
	    "LOCK=/var/tmp/bg.lock|4|LOCK=/var/tmp/bg.lock"
	    "HOOKS=/var/tmp/bg|4|HOOKS=/var/tmp/bg"
	    "SYSTEMD=1|2|SYSTEMD=1 needs APP_EXEC"
	    "SOCKET_GROUP=nosuchgroup|4|SOCKET_GROUP=nosuchgroup"
	    "PACKAGE=/nonexistent.deb|2|PACKAGE=/nonexistent.deb: no such file"
	    "MODE=port|2|MODE=port needs LIVE_ADDR"
	    "LIVE_ADDR=127.0.0.1:$busy|4|LIVE_ADDR=127.0.0.1:$busy: something listens there"
	    "ALLOW_DEFAULT_SITE=|4|/etc/nginx/sites-enabled/default: listen 80 default_server"
	)
	# a lock file in /tmp that is not root's: root must not write there;
	# nor create a lock or hooks in /var/tmp (the test server's own), where
	# anyone could have made them first
	install -m 0644 -o nobody /dev/null /tmp/bg-init-test.lock
	for c in "${cases[@]}"; do
		IFS='|' read -r set code says <<<"$c"
		extra=()
		case $set in
		LIVE_ADDR=*) extra=(MODE=port "STAGING_ADDR=127.0.0.1:$(free_port)") ;;
		ALLOW_DEFAULT_SITE=*) ;;
		*) extra=(ALLOW_DEFAULT_SITE=1) ;;
		esac
		run mk "${extra[@]}" "$set"
		echo "--- $set: $output"
		assert_failure
		assert_output --partial "$says"
		assert_output --partial "nothing was changed on"
		assert_output --partial "Error $code"
		assert_equal "$(debserver_changes)" "$before"
	done
	rm -f /tmp/bg-init-test.lock
}

@test "make init: installs exactly the hooks of HOOKS_SRC; moves hooks out of APP" {
	server_user
	# an older bg kept the hooks inside APP, and root's cron ran them there
	ssh_run 'mkdir -p /srv/app/hooks && echo "#!/bin/sh" >/srv/app/hooks/stop && chmod 0755 /srv/app/hooks/stop && chown deploy /srv/app && echo "*/5 * * * * root /srv/app/hooks/stop" >/etc/cron.d/bg-stop'
	printf '#!/bin/sh\nexit 0\n' >"$T/hooks/extra"
	chmod 0755 "$T/hooks/extra"
	mk_timed "fresh make init, PACKAGE given" ALLOW_DEFAULT_SITE=1
	assert_success
	assert_output --partial "/etc/bg/hooks/extra: created"
	assert_output --regexp "/srv/app/hooks/: moved to /srv/app/hooks.unused-[0-9]+"
	assert_output --partial "/etc/cron.d/bg-stop still names /srv/app/hooks/"
	run ssh_run 'ls /srv/app; stat -c "%U %n" /srv/app/hooks.unused-*; grep -c . /etc/bg.conf; grep hooks /etc/bg.conf'
	echo "$output"
	assert_line "hooks = /etc/bg/hooks"
	assert_line --regexp "^root /srv/app/hooks.unused-[0-9]+$"
	refute_line hooks
	# an operator's own hook, not make init's, stays; extra goes
	ssh_run 'printf "#!/bin/sh\n" >/etc/bg/hooks/mine && chmod 0755 /etc/bg/hooks/mine'
	rm "$T/hooks/extra"
	run mk ALLOW_DEFAULT_SITE=1
	echo "$output"
	assert_success
	assert_output --partial "/etc/bg/hooks/extra: removed (no longer in HOOKS_SRC)"
	run ssh_run 'ls /etc/bg/hooks'
	assert_output "install
migrate
mine
restart"
}

@test "make init: root's directories, APP, the socket directory and the lock set right when wrong; a symlink at SOCKET_DIR is refused, its target untouched" {
	server_user
	run mk ALLOW_DEFAULT_SITE=1
	echo "$output"
	assert_success
	# another mode for each; APP and the socket directory another owner too
	ssh_run 'chmod 0700 /etc/bg/hooks /run/app && chown root:root /srv/app /run/app && chmod 0777 /srv/app && chmod 0600 /var/lib/bg/lock'
	run mk ALLOW_DEFAULT_SITE=1
	echo "$output"
	assert_success
	assert_line "make init: /etc/bg/hooks/: mode and owner set to 0755 root:root"
	assert_line "make init: /srv/app/: mode and owner set to 0755 deploy:deploy"
	assert_line "make init: /run/app/: mode and owner set to 2750 deploy:www-data"
	assert_line "make init: /var/lib/bg/lock: mode and owner set to 0644 root:root"
	run ssh_run 'stat -c "%a %U:%G %n" /etc/bg/hooks /srv/app /run/app /var/lib/bg/lock'
	assert_output "755 root:root /etc/bg/hooks
755 deploy:deploy /srv/app
2750 deploy:www-data /run/app
644 root:root /var/lib/bg/lock"
	# a symlink where the socket directory goes: refused, and what it
	# points at keeps its mode and owner
	ssh_run 'rm -rf /run/app && mkdir -m 0700 /srv/elsewhere && ln -s /srv/elsewhere /run/app'
	run mk ALLOW_DEFAULT_SITE=1
	echo "$output"
	assert_failure 2
	assert_line "make init: /run/app exists and is not a directory"
	run ssh_run 'stat -c "%a %U:%G" /srv/elsewhere; readlink /run/app'
	assert_output "700 root:root
/srv/elsewhere"
}

@test "make init: the systemd unit and the tmpfiles.d entry pass systemd-analyze verify; tmpfiles recreates the socket directory" {
	server_user
	run mk ALLOW_DEFAULT_SITE=1 SYSTEMD=1 SERVICE=shop APP_EXEC='/srv/app/%i/bgapp --listen $${BG_ADDR} --color %i --version v1'
	echo "$output"
	assert_success
	assert_output --partial "/etc/systemd/system/shop@.service: created"
	assert_output --partial "/etc/tmpfiles.d/shop.conf: created"
	run ssh_run 'cat /etc/systemd/system/shop@.service /etc/bg/env/blue.env /etc/tmpfiles.d/shop.conf'
	echo "$output"
	assert_line "User=deploy"
	assert_line "Group=deploy"
	assert_line "WorkingDirectory=/srv/app/%i"
	assert_line "EnvironmentFile=/etc/bg/env/%i.env"
	assert_line 'ExecStart=/srv/app/%i/bgapp --listen ${BG_ADDR} --color %i --version v1'
	assert_line "KillSignal=SIGTERM"
	assert_line "Restart=on-failure"
	assert_line "BG_ADDR=unix:/run/app/blue.sock"
	assert_line "d /run/app 2750 deploy www-data -"
	# verify needs the program to exist; the unit instance by its name
	ssh_run 'cp /usr/bin/true /srv/app/blue/bgapp'
	run ssh_run 'cd /etc/systemd/system && systemd-analyze verify shop@blue.service 2>&1; echo "exit $?"'
	echo "$output"
	assert_output "exit 0"
	# the unit must be broken for verify to say so: it does
	run ssh_run 'sed "s/^KillSignal=.*/KillSignal=SIGNOPE/" /etc/systemd/system/shop@.service >/tmp/bad@.service && cd /tmp && systemd-analyze verify bad@blue.service 2>&1; rm -f /tmp/bad@.service'
	assert_output --partial "SIGNOPE"
	# at boot /run is empty: tmpfiles makes the directory again
	run ssh_run 'rmdir /run/app && systemd-tmpfiles --create /etc/tmpfiles.d/shop.conf && stat -c "%a %U:%G" /run/app'
	echo "$output"
	assert_output "2750 deploy:www-data"
}

@test "make init: a deploy user swapping APP/blue with a symlink (RENAME_EXCHANGE) never gets root to chmod or chown what it points at" {
	server_user
	run mk ALLOW_DEFAULT_SITE=1
	assert_success
	# the target: a directory of root's; the bait: a symlink to it, which
	# the deploy user keeps exchanging with its own APP/blue (mode 0700,
	# so that make init has something to fix on every run)
	ssh_run 'mkdir -m 0700 /etc/target && ln -s /etc/target /srv/app/bait && chown -h deploy:deploy /srv/app/bait && chmod 0700 /srv/app/blue'
	# raceswap swaps until told to stop (120 s at the most); setpriv
	# execs it, so $! is its pid (same pid namespace)
	rs=$(ssh_run "cd /srv/app; setsid setpriv --reuid=deploy --regid=deploy --init-groups $BG_ROOT/tests/bin/raceswap blue bait 120 >$T/swaps 2>&1 </dev/null & echo \$!")
	bg_track "$rs" raceswap
	wait_until 5 is_comm "$rs" raceswap
	# make init again and again, until it has got to chmod APP/blue (its
	# check saw the deploy user's directory there) 3 times, 30 runs at
	# the most: each time the bait may lie there by the chmod, and a
	# chmod by root, by path, would change the target.
	tries=0
	for i in $(seq 30); do
		[ "$tries" -lt 3 ] || break
		# its directory 0700 again, wherever it is now: work for make init
		ssh_run 'setpriv --reuid=deploy --regid=deploy --init-groups chmod 0700 /srv/app/blue /srv/app/bait 2>/dev/null; :'
		a=$(swaps "$rs" "$T/swaps")
		run mk ALLOW_DEFAULT_SITE=1
		echo "--- run $i: $output"
		case $output in
		*"/srv/app/blue/: mode set to 0755 (by deploy)"* | \
		    *"cannot chmod /srv/app/blue as deploy"*) tries=$((tries + 1)) ;;
		esac
		b=$(swaps "$rs" "$T/swaps")
		echo "--- swaps while it ran: $((b - a)); chmods tried so far: $tries"
		# the race ran while make init did: the names really were
		# exchanged; whatever make init saw, root's directory is untouched
		assert [ "$b" -gt "$a" ]
		run ssh_run 'stat -c "%a %U:%G" /etc/target'
		assert_output "700 root:root"
	done
	assert_equal "$tries" 3
	kill -TERM "$rs"
	wait_until 5 bg_gone "$rs"
	run cat "$T/swaps"
	assert_line --regexp '^total [1-9][0-9]*$'
	# an even number of swaps: the names are back where they were
	run ssh_run 'stat -c "%a %U:%G" /etc/target; stat -c "%F %n" /srv/app/blue /srv/app/bait'
	echo "$output"
	assert_output "700 root:root
directory /srv/app/blue
symbolic link /srv/app/bait"
}

@test "hooks/sysv: restart starts and replaces an instance with start-stop-daemon; stop stops it, and fails loudly when it cannot" {
	app=$T/app
	mkdir -p "$app/green/bin" "$app/shared"
	port=$(free_port)
	cat >"$app/green/bin/start" <<EOF
#!/bin/sh
exec $BG_ROOT/tests/bin/bgapp --listen "\$BG_ADDR" --color "\$1" --version v9
EOF
	chmod 0755 "$app/green/bin/start"
	chown -R nobody "$app"
	h() {	# h HOOK: run hooks/sysv/HOOK green as bgstage would, as nobody
		(cd "$app/green" && setpriv --reuid=nobody --regid="$(id -g nobody)" \
		    --clear-groups env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		    BG_COLOR=green BG_ADDR="127.0.0.1:$port" BG_APP_DIR="$app/green" \
		    "$BG_ROOT/hooks/sysv/$1" green)
	}
	run h restart
	assert_success
	wait_for_port 127.0.0.1 "$port"
	pid1=$(cat "$app/shared/run/green.pid")
	bg_track "$pid1" app
	assert_equal "$(stat -c %U "/proc/$pid1")" nobody
	run curl -sS "http://127.0.0.1:$port/"
	assert_output --partial "green v9"
	run h restart
	assert_success
	pid2=$(cat "$app/shared/run/green.pid")
	bg_track "$pid2" app
	assert_not_equal "$pid2" "$pid1"
	run ! bg_alive "$pid1"
	wait_for_port 127.0.0.1 "$port"

	# root's cron stop: green is the standby of a config whose /bg says
	# blue; drained, not being staged, deployed before the last switch
	nginx_port=$(free_port)
	mkdir -p "$T/site" "$T/run" "$T/log"
	echo blue >"$T/site/bg"
	cat >"$T/snippet" <<EOF
server { listen 127.0.0.1:$nginx_port; location = /bg { default_type text/plain; alias $T/site/bg; } }
EOF
	start_nginx "$T/snippet"
	write_conf "$T/bg.conf" url="http://127.0.0.1:$nginx_port/bg" \
	    blue=127.0.0.1:1 green="127.0.0.1:$port" app="$app" \
	    lock="$T/run/lock" log="$T/log/bg.log"
	touch -d '1 hour ago' "$app/green/REVISION"
	touch "$T/log/bg.log"
	[ -d /run/systemd/system ] && skip "systemd runs here: stop uses systemctl"
	# the pid file is the deploy user's: pointed at a process of root's
	# (nginx's master), root's stop must not signal it
	echo "$NGINX_MASTER" >"$app/shared/run/green.pid"
	run env BG_CONF="$T/bg.conf" BG_BIN="$BG_ROOT/tools" "$BG_ROOT/hooks/sysv/stop" green
	echo "$output"
	assert_success
	assert bg_alive "$NGINX_MASTER"
	assert bg_alive "$pid2"
	echo "$pid2" >"$app/shared/run/green.pid"
	run env BG_CONF="$T/bg.conf" BG_BIN="$BG_ROOT/tools" "$BG_ROOT/hooks/sysv/stop" green
	echo "$output"
	assert_success
	wait_until 5 bg_gone "$pid2"
	# nothing to stop it with: no systemd, no pid directory: loud
	rm -rf "$app/shared/run"
	run env BG_CONF="$T/bg.conf" BG_BIN="$BG_ROOT/tools" "$BG_ROOT/hooks/sysv/stop" green
	echo "$output"
	assert_failure 5
	assert_output --partial "stop: cannot stop green: systemd is not running here"
}

@test "bgstage: a standby that never gets healthy: says whether anything listens, and points at the hook's output" {
	np=$(free_port)
	gp=$(free_port)
	cat >"$T/snippet" <<EOF
server { listen 127.0.0.1:$np; location = /bg { return 200 "blue\n"; } }
EOF
	start_nginx "$T/snippet"
	mkdir -p "$T/app/blue" "$T/app/green" "$T/sock"
	printf '#!/bin/sh\necho "restart: the app crashed at once" >&2\n' >"$T/hooks/restart"
	conf() {	# conf GREEN_ADDR
		write_conf "$T/bg.conf" "url=http://127.0.0.1:$np/bg" \
		    "blue=127.0.0.1:1" "green=$1" "hooks=$T/hooks" \
		    "app=$T/app" "lock=$T/lock"
	}
	# no socket file at all
	conf "unix:$T/sock/green.sock"
	run bgstage -f "$T/bg.conf" -t 0.5 green
	echo "$output"
	assert_failure 3
	assert_output --partial "restart: the app crashed at once"
	assert_output --partial "nothing listens: no socket file $T/sock/green.sock (No such file or directory"
	assert_output --partial "see the restart hook's output above"
	# a TCP port nobody listens on
	conf "127.0.0.1:$gp"
	run bgstage -f "$T/bg.conf" -t 0.5 green
	echo "$output"
	assert_failure 3
	assert_output --partial "nothing listens at 127.0.0.1:$gp (connection refused"
	# something answers, but 503
	touch "$T/down"
	start_app green green v1 "127.0.0.1:$gp" --down-file "$T/down"
	run bgstage -f "$T/bg.conf" -t 0.5 green
	echo "$output"
	assert_failure 3
	assert_output --partial "last answer 503; something listens at 127.0.0.1:$gp and answers, but not 200"
}
