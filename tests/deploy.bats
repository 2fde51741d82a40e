#!/usr/bin/env bats
# make deploy / switch / rollback / status / init, over a real sshd on
# loopback, with real rsync, into a real bg site (helpers/scene: nginx from
# the repo's templates, two fixture instances). What production and staging
# serve is checked through nginx every time.
#
# make itself exits 2 whenever a recipe fails (GNU make's rule); the
# recipe's own status is in make's "Error N" line, which the tests check.

load helpers/bg
load helpers/scene
load helpers/sshd
load helpers/deploy

# One sshd for the whole file: the test server.
setup_file() {
	start_sshd "$BATS_FILE_TMPDIR/ssh"
}

teardown_file() {
	stop_sshd
}

setup() {
	bg_setup
	scene reload
	grep -q '^staging_url' "$T/bg.conf" ||
	    echo "staging_url = $STAGING_URL/" >>"$T/bg.conf"
	: >"$T/run/lock"
	chmod 0644 "$T/run/lock"
	write_hooks
	make_src "$T/src" v3
}

# mk ARGS: make over ssh to the test server, into the scene. Its scratch
# directory (the ssh control socket) goes to $T/tmp, to check it is gone.
mk() {
	mkdir -p "$T/tmp"
	TMPDIR=$T/tmp make -C "${MK_DIR:-$BG_ROOT}" --no-print-directory HOST="$SSH_HOST" \
	    SSH_OPTS="$SSH_OPTS" APP="$T/app" BG_CONF="$T/bg.conf" \
	    BG_BIN="$BG_ROOT/tools" BG_LIB="$BG_ROOT/pipeline" APP_SRC="$T/src" \
	    PRE_DEPLOY="$T/no-pre-deploy" "$@"
}

# draining COLOR: bgdrain counts requests in flight to COLOR (exit 1).
draining() {
	local st=0

	bgdrain -c -F -f "$T/bg.conf" "$1" 2>/dev/null || st=$?
	[ "$st" -eq 1 ]
}

# mk_unreachable ARGS: mk ARGS, its ssh pointed at a port nothing listens on.
mk_unreachable() {
	local port

	port=$(free_port)
	mk "$@" SSH_OPTS="${SSH_OPTS/-p $SSHD_PORT/-p $port}"
}

# assert_make_error N: make failed (its status 2) because a recipe exited
# N: make's "Error N" line.
assert_make_error() {
	assert_failure 2 || return 1
	assert_line --regexp "^make(\[[0-9]+\])?: \*\*\* \[.*\] Error $1\$"
}

# slow_request URL MS COLOR: a request that takes MS ms, through URL, in the
# background; returns once COLOR counts it in flight. Its pid: $slow.
slow_request() {
	curl -s --max-time 30 "$1/?sleep=$2" >/dev/null 3>&- &
	slow=$!
	bg_track "$slow" curl
	wait_until 5 draining "$3"
}

@test "make deploy, switch, rollback: over ssh, nginx serves each version where it should" {
	logins=$(sshd_logins)
	run mk deploy
	echo "$output"
	assert_success
	# one connection for the whole deploy, closed and cleaned up after
	assert_equal "$(sshd_logins)" $((logins + 1))
	assert_equal "$(ls -A "$T/tmp")" ""
	output_has "green is staged" \
	    "staging: $STAGING_URL/" \
	    "now: make switch"
	assert_equal "$(prod_answer)" "blue v1"
	assert_equal "$(staging_answer)" "green v3"
	assert [ ! -e "$T/app/.bg-staging.green" ]
	assert [ -s "$T/app/green/REVISION" ]
	rev3=$(cat "$T/app/green/REVISION")

	run mk switch
	echo "$output"
	assert_success
	assert_output --partial "green is live (was blue)"
	assert_equal "$(prod_answer)" "green v3"
	assert_equal "$(staging_answer)" "blue v1"
	assert_equal "$(disk_color)" green
	run tail -n 1 "$T/log/bg.log"
	assert_output --regexp " blue green root $(re_quote "$rev3")\$"

	run mk status
	echo "$output"
	assert_success
	output_has "blue   standby  200      0          v1" \
	    "green  live     200      0          $rev3" \
	    " blue green root $rev3"

	run mk rollback
	echo "$output"
	assert_success
	assert_output --partial "blue still runs v1"
	assert_equal "$(prod_answer)" "blue v1"
	assert_equal "$(staging_answer)" "green v3"

	# and forward again: green still runs what it ran when it was live
	run mk rollback
	echo "$output"
	assert_success
	assert_equal "$(prod_answer)" "green v3"

	# history: the two rollbacks are marked, the switch is not
	run mk history
	echo "$output"
	assert_success
	assert_equal "${#lines[@]}" 3
	assert_line --index 0 --regexp " blue green root $(re_quote "$rev3")\$"
	assert_line --index 1 --regexp " green blue root v1 rollback\$"
	assert_line --index 2 --regexp " blue green root $(re_quote "$rev3") rollback\$"
}

@test "make rollback: refuses a standby deployed to since the last switch; FORCE=1 overrides" {
	run mk deploy
	assert_success
	run mk switch
	assert_success
	assert_equal "$(prod_answer)" "green v3"
	# blue, the old live one, gets a new version: going "back" would not
	# bring back what ran before.
	make_src "$T/src" v4
	run mk deploy
	echo "$output"
	assert_success
	assert_equal "$(staging_answer)" "blue v4"
	run mk rollback
	echo "$output"
	assert_make_error 1
	assert_output --regexp "refused: blue now has revision .*, but it ran v1 before the last switch"
	assert_equal "$(prod_answer)" "green v3"
	run mk rollback FORCE=1
	echo "$output"
	assert_success
	assert_output --partial "FORCE=1: going on although"
	assert_equal "$(prod_answer)" "blue v4"
}

@test "make rollback: refuses when the history holds no switch" {
	run mk rollback
	echo "$output"
	assert_failure 2
	assert_output --partial "holds no switch yet"
	assert_equal "$(prod_answer)" "blue v1"
}

@test "make deploy: DRY_RUN=1 shows what would change and changes nothing on the server" {
	echo stale >"$T/app/green/stale.txt"
	before=$(tree_sum "$T/app" "$T/bg.conf" "$T/run" "$T/log")
	run mk deploy DRY_RUN=1 INSTALL=1
	echo "$output"
	assert_success
	output_has "would mark green as being staged" \
	    "<f+++++++++ VERSION" \
	    "*deleting   stale.txt" \
	    "install" \
	    "restart" \
	    "dry run: nothing was changed"
	assert_equal "$(tree_sum "$T/app" "$T/bg.conf" "$T/run" "$T/log")" "$before"
	assert [ ! -e "$T/hooks.log" ]
	assert_equal "$(staging_answer)" "green v2"
}

@test "make deploy: rsync never deletes .env, uploads or a database in APP/COLOR" {
	g=$T/app/green
	mkdir -p "$g/uploads" "$g/log"
	echo "SECRET=server" >"$g/.env"
	echo jpg >"$g/uploads/cat.jpg"
	echo db >"$g/prod.sqlite3"
	echo log >"$g/log/app.log"
	echo old >"$g/old.txt"
	echo "SECRET=the-laptop-one" >"$T/src/.env"
	run mk deploy
	echo "$output"
	assert_success
	assert_equal "$(cat "$g/.env")" "SECRET=server"
	assert_equal "$(cat "$g/uploads/cat.jpg")" jpg
	assert_equal "$(cat "$g/prod.sqlite3")" db
	assert_equal "$(cat "$g/log/app.log")" log
	assert [ ! -e "$g/old.txt" ]
	assert_equal "$(cat "$g/VERSION")" v3
}

@test "make deploy: a failing pre-deploy hook stops everything" {
	printf '#!/bin/sh\necho "tests fail" >&2\nexit 7\n' >"$T/pre"
	chmod +x "$T/pre"
	before=$(tree_sum "$T/app")
	run mk deploy PRE_DEPLOY="$T/pre"
	echo "$output"
	assert_failure 2
	assert_output --partial "tests fail"
	assert_output --partial "$T/pre failed (exit 7): nothing was deployed"
	assert_equal "$(tree_sum "$T/app")" "$before"
	assert_equal "$(staging_answer)" "green v2"
}

@test "make deploy: refuses when APP is not the config's app" {
	mkdir -p "$T/other/green"
	run mk deploy APP="$T/other"
	echo "$output"
	assert_failure 2
	assert_output --partial "APP is $T/other but $T/bg.conf says app = $T/app"
	assert_equal "$(ls -A "$T/other/green")" ""
	assert [ ! -e "$T/other/.bg-staging.green" ]
}

@test "make deploy: an unreachable HOST fails clearly and leaves production alone" {
	run mk_unreachable deploy
	echo "$output"
	assert_make_error 5
	assert_output --partial "cannot connect to root@127.0.0.1 with ssh: nothing was changed there"
	assert [ ! -e "$T/app/.bg-staging.green" ]
	assert_equal "$(prod_answer)" "blue v1"
	assert_equal "$(staging_answer)" "green v2"
}

@test "make deploy: refuses while the standby still drains" {
	slow_request "$STAGING_URL" 4000 green
	run mk deploy
	echo "$output"
	wait "$slow"
	assert_make_error 1
	assert_output --partial "the standby green still has requests in flight"
	assert [ ! -e "$T/app/.bg-staging.green" ]
	assert [ ! -e "$T/app/green/VERSION" ]
}

@test "make deploy: an app that never turns healthy fails (bgstage exit 3); switch refuses it" {
	echo "timeout = 1" >>"$T/bg.conf"
	touch "$T/src/down"
	run mk deploy
	echo "$output"
	assert_make_error 3
	assert_output --partial "green did not answer 200 on its health path in time (bgstage exit 3)"
	assert [ -e "$T/app/.bg-staging.green" ]
	assert_equal "$(prod_answer)" "blue v1"
	run mk switch
	echo "$output"
	assert_make_error 1
	assert_output --partial "green is being staged"
	assert_equal "$(prod_answer)" "blue v1"
	# fixed, deployed again: the mark goes, the switch goes through
	rm "$T/src/down"
	sed -i 's/^timeout = 1$/timeout = 20/' "$T/bg.conf"
	run mk deploy
	assert_success
	assert [ ! -e "$T/app/.bg-staging.green" ]
	run mk switch
	assert_success
	assert_equal "$(prod_answer)" "green v3"
}

@test "make switch: exit 3 when the old color does not drain in time; production is fine" {
	printf 'timeout = 1\nlinger = off\n' >>"$T/bg.conf"
	slow_request "$PROD_URL" 4000 blue
	run mk switch
	echo "$output"
	wait "$slow"
	assert_make_error 3
	assert_output --partial "green is live and serves production: the switch succeeded"
	assert_output --partial "Production is fine"
	assert_equal "$(prod_answer)" "green v2"
}

# a big file and rsync's bandwidth limit keep the copy going for seconds
slow_src() {
	head -c 3000000 /dev/urandom >"$T/src/big.bin"
}

# copying: the deploy in the background marked green and its rsync writes
# into green.
copying() {
	[ -e "$T/app/.bg-staging.green" ] &&
	    pgrep -f "rsync --server.*$T/app/green" >/dev/null
}

@test "make deploy: ssh dying mid-copy leaves the standby marked; switch refuses it; deploying again repairs it" {
	slow_src
	mk deploy RSYNC_OPTS=--bwlimit=300 >"$T/deploy.out" 2>&1 3>&- &
	dep=$!
	wait_until 10 copying
	# the server's end of the copy dies, as when the connection drops
	for p in $(pgrep -f "rsync --server.*$T/app/green"); do
		kill -KILL "$p"
	done
	st=0
	wait "$dep" || st=$?
	cat "$T/deploy.out"
	assert_equal "$st" 2
	assert_equal "$(ls -A "$T/tmp")" ""
	run cat "$T/deploy.out"
	assert_output --regexp "copying into green failed \(rsync exit [0-9]+\)\. Production is untouched; green stays marked as being staged"
	assert [ -e "$T/app/.bg-staging.green" ]
	assert_equal "$(prod_answer)" "blue v1"
	run mk switch
	echo "$output"
	assert_failure 2
	assert_output --partial "green is being staged: finish or re-run make deploy"
	assert_equal "$(prod_answer)" "blue v1"
	run mk deploy
	echo "$output"
	assert_success
	assert_output --partial "note: green was already marked as being staged"
	assert [ ! -e "$T/app/.bg-staging.green" ]
	cmp "$T/src/big.bin" "$T/app/green/big.bin"
	assert_equal "$(staging_answer)" "green v3"
}

@test "make switch: started while make deploy copies, it never makes the half-copied standby live" {
	slow_src
	mk deploy RSYNC_OPTS=--bwlimit=1000 >"$T/deploy.out" 2>&1 3>&- &
	dep=$!
	wait_until 10 copying
	run mk switch
	echo "$output"
	assert_failure 2
	assert_output --partial "green is being staged"
	assert_equal "$(prod_answer)" "blue v1"
	assert_equal "$(disk_color)" blue
	wait "$dep"
	cat "$T/deploy.out"
	run mk switch
	echo "$output"
	assert_success
	assert_equal "$(prod_answer)" "green v3"
	cmp "$T/src/big.bin" "$T/app/green/big.bin"
}

@test "make init: sets a server up over ssh; a second run changes nothing" {
	s=$T/srv
	init_setup "$s" "$T/build"
	set -- "${INIT_ARGS[@]}" SERVER_NAME=example.com \
	    NGINX_PREFIX="$NGINX_PREFIX" NGINX_CONF="$NGINX_CONF" \
	    NGINX_PID="$NGINX_PID" STAGING_URL=http://127.0.0.1:2/ TIMEOUT=20
	run mk "$@"
	echo "$output"
	assert_success
	output_has "$s/bin/bgflip: created" \
	    "$s/etc/bg.conf: created" \
	    "$s/nginx/sites/app.conf: created" \
	    "nginx reloaded" \
	    "nobody ALL=(root) NOPASSWD: $s/bin/bgflip" \
	    "make init: done"
	run cat "$s/etc/bg.conf"
	assert_output "app = $s/app
mode = reload
url = http://127.0.0.1:1/bg
blue = 127.0.0.1:8001
green = 127.0.0.1:8002
timeout = 20
hooks = $s/hooks
lock = $s/lib/lock
log = $s/log/bg.log
nginx = $NGINX_BIN
nginx_prefix = $NGINX_PREFIX
nginx_conf = $NGINX_CONF
nginx_pid = $NGINX_PID
live_conf = $s/nginx/sites/app.conf
blue_conf = $s/nginx/bg/blue.conf
green_conf = $s/nginx/bg/green.conf
staging_url = http://127.0.0.1:2/"
	assert_equal "$(stat -c '%a %U' "$s/app" "$s/app/blue" "$s/app/green" "$s/app/shared" | sort -u)" "755 nobody"
	assert_equal "$(stat -c '%a %U' "$s/lib/lock" "$s/etc/bg.conf")" "644 root
644 root"
	assert [ -x "$s/hooks/restart" ]
	assert [ ! -e "$s/hooks/pre-deploy.example" ]
	cmp "$s/nginx/sites/app.conf" "$s/nginx/bg/blue.conf"
	assert grep -q "server 127.0.0.1:8002;" "$s/nginx/sites/bg-upstreams.conf"
	assert grep -q "listen 127.0.0.1:1;" "$s/nginx/bg/green.conf"
	assert grep -q "proxy_pass http://bg_green;" "$s/nginx/bg/blue.conf"
	run grep -q '@[A-Z_]*@' "$s/nginx/bg/green.conf" "$s/nginx/sites/bg-upstreams.conf"
	assert_failure 1
	"$s/bin/bgswapconf" "$s/nginx/bg/blue.conf" | cmp - "$s/nginx/bg/green.conf"

	before=$(tree_sum "$s")
	run mk "$@"
	echo "$output"
	assert_success
	assert_output --partial "make init: nothing changed"
	refute_output --partial ": created"
	refute_output --partial ": updated"
	refute_output --partial "nginx reloaded"
	assert_equal "$(tree_sum "$s")" "$before"
}

@test "make deploy: two at once: the second is refused while the first copies; the first finishes" {
	slow_src
	mk deploy RSYNC_OPTS=--bwlimit=1000 >"$T/deploy.out" 2>&1 3>&- &
	dep=$!
	wait_until 10 copying
	mark=$(cat "$T/app/.bg-staging.green")
	make_src "$T/src2" v9
	run mk deploy APP_SRC="$T/src2" RSYNC_OPTS=--bwlimit=1000
	echo "$output"
	assert_make_error 1
	assert_output --regexp "another make deploy into $(re_quote "$T/app") is running \(.*\); nothing was done"
	# the first deploy's mark and copy are untouched
	assert_equal "$(cat "$T/app/.bg-staging.green")" "$mark"
	st=0
	wait "$dep" || st=$?
	cat "$T/deploy.out"
	assert_equal "$st" 0
	assert [ ! -e "$T/app/.bg-staging.green" ]
	assert_equal "$(staging_answer)" "green v3"
	cmp "$T/src/big.bin" "$T/app/green/big.bin"
	# the lock went with the first deploy: a deploy now runs
	run mk deploy APP_SRC="$T/src2" FORCE=1
	echo "$output"
	assert_success
	assert_equal "$(staging_answer)" "green v9"
}

@test "make deploy: the standby ends up byte for byte APP_SRC, even after a change that keeps size and time" {
	run mk deploy
	assert_success
	# same size, same mtime, other bytes: rsync's quick check misses it
	f=$T/src/static/index.html
	t=$(stat -c %Y "$f")
	sed -i 's/v3/v4/' "$f"
	touch -d "@$t" "$f" "$T/app/green/static/index.html"
	assert_equal "$(stat -c '%s %Y' "$f")" "$(stat -c '%s %Y' "$T/app/green/static/index.html")"
	run mk deploy FORCE=1
	echo "$output"
	assert_success
	diff -r --no-dereference -x REVISION "$T/src" "$T/app/green"
}

@test "make deploy: protected names are files, directories and symlinks alike" {
	g=$T/app/green
	mkdir -p "$T/app/shared/uploads"
	echo jpg >"$T/app/shared/uploads/cat.jpg"
	ln -s ../shared/uploads "$g/uploads"
	mkdir -p "$g/static/uploads"
	echo png >"$g/static/uploads/dog.png"
	# a symlink called uploads in APP_SRC must not replace the server's
	ln -s /nonexistent "$T/src/static/uploads"
	echo "SECRET=laptop" >"$T/src/.env"
	run mk deploy
	echo "$output"
	assert_success
	assert_equal "$(readlink "$g/uploads")" ../shared/uploads
	assert_equal "$(cat "$g/uploads/cat.jpg")" jpg
	assert [ -d "$g/static/uploads" ]
	assert [ ! -L "$g/static/uploads" ]
	assert_equal "$(cat "$g/static/uploads/dog.png")" png
	assert [ ! -e "$g/.env" ]
	run mk deploy FORCE=1
	assert_success
	assert_equal "$(readlink "$g/uploads")" ../shared/uploads
}

@test "make deploy: the install hook runs on a color's first deploy; INSTALL=0 skips it, INSTALL=1 forces it" {
	rm "$T/app/green/REVISION"
	run mk deploy
	echo "$output"
	assert_success
	run cat "$T/hooks.log"
	assert_output "install green
restart green"
	: >"$T/hooks.log"
	run mk deploy
	assert_success
	run cat "$T/hooks.log"
	assert_output "restart green"
	: >"$T/hooks.log"
	run mk deploy INSTALL=1 MIGRATE=1
	assert_success
	run cat "$T/hooks.log"
	assert_output "install green
migrate green
restart green"
	: >"$T/hooks.log"
	rm "$T/app/green/REVISION"
	run mk deploy INSTALL=0
	assert_success
	run cat "$T/hooks.log"
	assert_output "restart green"
}

@test "make switch: refused when nothing was staged since the last switch; FORCE=1 overrides" {
	run mk deploy
	assert_success
	run mk switch
	assert_success
	assert_equal "$(prod_answer)" "green v3"
	run mk switch
	echo "$output"
	assert_make_error 1
	assert_output --regexp "refused: nothing was staged into blue since the last switch.*use make rollback"
	assert_equal "$(prod_answer)" "green v3"
	assert_equal "$(wc -l <"$T/log/bg.log")" 1
	run mk switch FORCE=1
	echo "$output"
	assert_success
	assert_equal "$(prod_answer)" "blue v1"
	# a deploy into the standby makes a switch possible again
	run mk deploy
	assert_success
	run mk switch
	assert_success
	assert_equal "$(prod_answer)" "green v3"
}

@test "make switch: a bgflip that did not run is never reported as a switch" {
	mkdir "$T/bin"
	for p in bgcolor bgdrain bgstage; do
		ln -s "$BG_ROOT/tools/$p" "$T/bin/$p"
	done
	run mk switch BG_BIN="$T/bin"
	echo "$output"
	assert_make_error 5
	assert_output --partial "bgflip did not run (exit 127: $T/bin/bgflip missing or not executable): nothing was switched"
	refute_output --partial "succeeded"
	refute_output --partial " is live"
	assert_equal "$(prod_answer)" "blue v1"
	assert_equal "$(disk_color)" blue
	assert [ ! -s "$T/log/bg.log" ]
	# ssh failing (255) is not a switch either
	run mk_unreachable switch
	echo "$output"
	assert_make_error 5
	assert_output --partial "the ssh connection to $SSH_HOST failed (see above) during switch.sh"
	refute_output --partial " is live"
	assert_equal "$(prod_answer)" "blue v1"
}

@test "make switch: SUDO with another BG_CONF is refused before bgflip runs" {
	run mk switch SUDO=sudo
	echo "$output"
	assert_make_error 4
	assert_output --partial "bgflip runs through sudo, and then reads only /etc/bg.conf"
	assert_equal "$(prod_answer)" "blue v1"
}

# deploy_user_app: APP belongs to an unprivileged user (nobody), as make
# init leaves a server, and make runs as root (HOST=root@...). The test
# hooks' files are nobody's too, and green is stopped so that the restart
# hook, run by bgstage as nobody, can start it.
deploy_user_app() {
	local f

	stop_app green || :
	for f in hooks.log app-green.pid app-green.log .bg-started; do
		touch "$T/$f"
		chown nobody "$T/$f"
	done
	: >"$T/app-green.pid"
	chown -R nobody:nogroup "$T/app"
	mkdir -m 0755 "$T/root"
	echo "root's" >"$T/root/victim"
	chmod 0644 "$T/root/victim"
}

@test "root-run make deploy: works as APP's owner; a planted mark or lock symlink is refused" {
	deploy_user_app
	ln -s "$T/root/victim" "$T/app/.bg-deploy.lock"
	run mk deploy
	echo "$output"
	assert_failure 2
	assert_output --partial "cannot open $T/app/.bg-deploy.lock"
	rm "$T/app/.bg-deploy.lock"
	ln -s "$T/root/victim" "$T/app/.bg-staging.green"
	run mk deploy
	echo "$output"
	assert_failure 2
	assert_output --partial "cannot write the mark $T/app/.bg-staging.green"
	assert_equal "$(cat "$T/root/victim")" "root's"
	rm "$T/app/.bg-staging.green"
	ln -sf "$T/root/victim" "$T/app/green/REVISION"
	run mk deploy
	echo "$output"
	assert_success
	assert_equal "$(cat "$T/root/victim")" "root's"
	assert_equal "$(stat -c %U "$T/root/victim")" root
	assert_equal "$(staging_answer)" "green v3"
	# what the deploy wrote in APP is nobody's
	stat -c "%U %n" "$T/app/green/REVISION" "$T/app/green/VERSION" "$T/app/green/static/index.html" "$T/app/.bg-deploy.lock" "$T/app/.bg-staged.green"
	assert_equal "$(stat -c %U "$T/app/green/REVISION" "$T/app/green/VERSION" \
	    "$T/app/green/static/index.html" "$T/app/.bg-deploy.lock" \
	    "$T/app/.bg-staged.green" | sort -u)" nobody
}

# forge_deploy LINE: make deploy as root while the deploy user writes LINE
# into deploy-begin.sh's output (forge_begin); asserts the injection
# happened.
forge_deploy() {
	forge_begin "$T/run/lock" "$T/app" "$1"
	run mk deploy
	echo "$output"
	wait "$att" || :
	cat "$T/attack.out"
	grep -q '^wrote to [0-9]' "$T/attack.out"	# the injection happened
}

@test "root-run make deploy: a line the deploy user writes into deploy-begin.sh's output never makes root copy" {
	deploy_user_app
	mkdir -m 0755 "$T/root/dir"
	echo "root's" >"$T/root/dir/keep"
	# a color that is a path to root's directory, "copy as whoever runs
	# it" (root)
	forge_deploy "../root/dir - x"
	assert_failure 2
	assert_output --partial "deploy-begin.sh on $SSH_HOST answered \"../root/dir\", not a color: nothing was copied"
	ls -la "$T/root/dir"
	assert_equal "$(cat "$T/root/dir/keep")" "root's"
	assert [ ! -e "$T/root/dir/VERSION" ]
	# whom to copy as, as a shell command on the server
	# shellcheck disable=SC2016 # for the server's shell
	forge_deploy "green 0;touch\${IFS}$T/root/pwned;:0 x"
	assert [ ! -e "$T/root/pwned" ]
	# the copy ran as APP's owner all the same
	assert_equal "$(stat -c %U "$T/app/green/VERSION")" nobody
}

@test "root-run make deploy on a terminal (HOST=local): the deploy user cannot push input into root's shell" {
	deploy_user_app
	# root's make on a terminal; then, as root's shell would, read a line
	# from that terminal: whatever the deploy user pushed into it
	cat >"$T/term.sh" <<EOF
make -C "$BG_ROOT" --no-print-directory HOST=local APP="$T/app" \\
    BG_CONF="$T/bg.conf" BG_BIN="$BG_ROOT/tools" BG_LIB="$BG_ROOT/pipeline" \\
    APP_SRC="$T/src" PRE_DEPLOY="$T/no-pre-deploy" deploy
echo "make: \$?"
stty -icanon min 0 time 20
head -c 100 >"$T/typed"
EOF
	TERM=dumb timeout 120 script -qec "sh $T/term.sh" /dev/null \
	    >"$T/term.out" 2>&1 3>&- &
	term=$!
	bg_track "$term" script
	# The deploy user (nobody) holds the bg lock, so the dropped
	# deploy-begin.sh waits for it in root's session, then attaches to
	# its own process and pushes keys into its terminal (TIOCSTI), on its
	# stderr and on /dev/tty.
	# shellcheck disable=SC2016 # for the attacker's shell
	as_nobody '
		T=$1
		exec 9<"$T/run/lock"
		flock -n 9 || { echo "no lock"; exit 1; }
		found() { pid=$(pgrep -o -u nobody -f "^sh .*/deploy-begin.sh $T/app "); }
		wait_until 6 found || exit 1
		echo "attaching to $pid"
		timeout 60 gdb -q -nx -batch -p "$pid" \
		    -ex "call (int)ioctl(2, 0x5412, \"X\")" \
		    -ex "call (int)open(\"/dev/tty\", 2)" \
		    -ex "call (int)ioctl(\$2, 0x5412, \"Y\")" 2>&1 |
		    grep -E "^[\$][0-9]+ = "
	' "$T" >"$T/attack.out" 2>&1 3>&- || echo "attacker: exit $?"
	cat "$T/attack.out"
	wait "$term" || :
	cat "$T/term.out"
	# the attempts were made: three calls evaluated
	assert_equal "$(grep -c '^\$[0-9]* = ' "$T/attack.out")" 3
	run cat "$T/term.out"
	assert_line --regexp '^make: 0'
	assert [ -f "$T/typed" ]
	od -c "$T/typed"
	assert_equal "$(tr -cd XY <"$T/typed")" ""
	assert_equal "$(staging_answer)" "green v3"
}

@test "root-run make deploy (HOST=local): an interrupt reaches the step dropped to the deploy user" {
	deploy_user_app
	printf '#!/bin/sh\necho "install $1 $$" >>%s/hooks.log\nexec sleep 60\n' "$T" \
	    >"$T/hooks/install"
	# make in a process group of its own, as a shell's job (a background
	# job of ours starts with INT ignored: not so a shell's)
	setsid env --default-signal=INT make -C "$BG_ROOT" --no-print-directory HOST=local APP="$T/app" \
	    BG_CONF="$T/bg.conf" BG_BIN="$BG_ROOT/tools" \
	    BG_LIB="$BG_ROOT/pipeline" APP_SRC="$T/src" \
	    PRE_DEPLOY="$T/no-pre-deploy" INSTALL=1 deploy \
	    >"$T/make.out" 2>&1 3>&- &
	mk=$!
	bg_track "$mk" make
	wait_until 15 grep -q '^install green' "$T/hooks.log"
	hook=$(sed -n 's/^install green //p' "$T/hooks.log")
	assert [ -n "$hook" ]
	assert_equal "$(stat -c %U "/proc/$hook")" nobody	# dropped, in its own session
	assert_not_equal "$(ps -o sid= -p "$hook")" "$(ps -o sid= -p "$mk")"
	kill -INT -- "-$mk"	# Ctrl-C
	st=0
	wait "$mk" || st=$?
	cat "$T/make.out"
	assert_equal "$st" 130	# make itself got the SIGINT
	# the hook went with it (bgstage stops its hook's group, then dies)
	wait_until 5 bg_gone "$hook"
	assert [ -e "$T/app/.bg-staging.green" ]
}

@test "root-run make switch: APP root's but a color the deploy user's is refused before root reads in it (exit 4)" {
	deploy_user_app
	run mk deploy
	assert_success
	# APP itself root's, as a server set up by hand may have it; blue's
	# REVISION a link to a secret of root's
	chown root:root "$T/app"
	echo "root-only-secret" >"$T/root/secret"
	chmod 0600 "$T/root/secret"
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    ln -sf "$T/root/secret" "$T/app/blue/REVISION"
	run mk switch
	echo "$output"
	assert_make_error 4
	assert_output --partial "$T/app is root's, but $T/app/blue is uid $(id -u nobody)'s"
	assert_equal "$(prod_answer)" "blue v1"
	run grep -r secret "$T/app/.bg-previous"
	assert_failure
}

@test "root-run make switch and rollback: never write through a path inside APP" {
	deploy_user_app
	run mk deploy
	echo "$output"
	assert_success
	for f in .bg-previous .bg-rollbacks; do
		ln -s "$T/root/victim" "$T/app/$f"
	done
	run mk switch
	echo "$output"
	assert_success
	assert_equal "$(prod_answer)" "green v3"
	run mk rollback FORCE=1
	echo "$output"
	assert_success
	assert_equal "$(prod_answer)" "blue v1"
	assert_equal "$(cat "$T/root/victim")" "root's"
	assert_equal "$(stat -c '%U %a' "$T/root/victim")" "root 644"
	# unplanted, the notes are written, as nobody
	rm "$T/app/.bg-previous" "$T/app/.bg-rollbacks"
	run mk rollback FORCE=1
	assert_success
	assert_equal "$(stat -c %U "$T/app/.bg-previous" "$T/app/.bg-rollbacks" | sort -u)" nobody
}

@test "root-run make rollback: what the deploy user makes rollback-check.sh print never reaches bgflip as an option" {
	deploy_user_app
	run mk deploy
	assert_success
	run mk switch
	assert_success
	assert_equal "$(prod_answer)" "green v3"
	cp "$T/app/.bg-previous" "$T/previous.before"
	# The dropped rollback-check.sh blocks reading blue's REVISION (a
	# FIFO of the deploy user's); the deploy user attaches to its own
	# process, makes it print "-n" and exit 0, then lets go of the FIFO.
	rm "$T/app/blue/REVISION"
	setpriv --reuid=nobody --regid=nogroup --clear-groups mkfifo "$T/app/blue/REVISION"
	# shellcheck disable=SC2016 # for the attacker's shell
	as_nobody '
		T=$1
		found() { pid=$(pgrep -o -u nobody -f "^sh .*/rollback-check.sh $T/app "); }
		if wait_until 15 found; then
			echo "attaching to $pid"
			timeout 60 gdb -q -nx -batch -p "$pid" \
			    -ex "call (long)write(1, \"-n\\n\", 3)" \
			    -ex "call (void)_exit(0)" 2>&1 | grep -E "^[\$][0-9]+ = "
		fi
		timeout 10 sh -c ": >\"\$0\"" "$T/app/blue/REVISION"
	' "$T" >"$T/attack.out" 2>&1 3>&- &
	att=$!
	bg_track "$att" attacker
	run mk rollback
	echo "$output"
	wait "$att" || :
	cat "$T/attack.out"
	assert grep -q '^\$1 = 3$' "$T/attack.out"	# "-n" was written
	assert_failure 2
	assert_output --partial 'bad color "-n"'
	assert_equal "$(prod_answer)" "green v3"
	assert [ ! -e "$T/app/.bg-rollbacks" ]
	cmp "$T/previous.before" "$T/app/.bg-previous"
}

@test "make switch: after linger the old color is retired (bgstage -r OLD), then drains; exit 0" {
	printf 'linger = 1\ntimeout = 20\n' >>"$T/bg.conf"
	# blue was started by the scene, not deployed: restart reads VERSION
	echo v1 >"$T/app/blue/VERSION"
	# the retire hook: restart the instance (which ends what it serves)
	printf '#!/bin/sh\necho "retire $1" >>%s/hooks.log\nexec %s/hooks/restart "$1"\n' \
	    "$T" "$T" >"$T/hooks/retire"
	chmod 0755 "$T/hooks/retire"
	slow_request "$PROD_URL" 6000 blue
	run mk switch
	echo "$output"
	assert_success
	output_has "waiting up to 1s (linger) for blue to drain" \
	    "blue still has long-lived connections after 1s: retiring it (bgstage -r blue)" \
	    "green is live (was blue); blue has drained"
	assert grep -qx "retire blue" "$T/hooks.log"
	assert_equal "$(prod_answer)" "green v2"
	assert_equal "$(staging_answer)" "blue v1"
}

@test "make switch, deploy: server scripts missing from BG_LIB there: exit 5 saying so, nothing changed" {
	for t in switch deploy status; do
		run mk "$t" BG_LIB="$T/nolib"
		echo "$output"
		assert_make_error 5
		assert_output --regexp "no $(re_quote "$T/nolib/")[a-z-]+\.sh on $(re_quote "$SSH_HOST"): make init \(or the bg package\) installs the server scripts there"
	done
	assert_equal "$(prod_answer)" "blue v1"
	assert [ ! -e "$T/app/.bg-staging.green" ]
}
