# tests/helpers/deploy.bash - the server side of the pipeline tests (make
# deploy, switch, rollback over ssh): hooks that restart fixture instances
# in a scene (helpers/scene), and app trees to ship.
#
#   write_hooks          $T/hooks/{install,migrate,restart}
#   make_src DIR VERSION an app tree to deploy
#   tree_sum DIR...      one checksum of paths, modes and bytes
#   forge_begin LOCK APP LINE  the deploy user forging deploy-begin.sh's line
#   as_nobody SCRIPT ARG...    bash SCRIPT as the deploy user (nobody)
#   re_quote TEXT        TEXT as an ERE matching it literally
#   output_has TEXT...   assert_output --partial, for each TEXT
#   init_setup SRV BUILD a snapshot of the source to run make init from
#                        (MK_DIR), and INIT_ARGS: make init's settings
#                        for a server under SRV, built in BUILD

# The server's hooks. restart stops the instance that start_app (or an
# earlier restart) started for COLOR, and starts tests/bin/bgapp with the
# version in the deployed tree's VERSION file, in the background, detached
# from the ssh session; /up stays 503 while the tree holds a file "down", or
# while $T/sick exists (a server whose new version never gets healthy).
# Socket instances get mode 0660 (see helpers/scene).
write_hooks() {
	local h

	for h in install migrate; do
		# shellcheck disable=SC2016 # $1 is the hook's
		printf '#!/bin/sh\necho "%s $1" >>%s/hooks.log\n' "$h" "$T" \
		    >"$T/hooks/$h"
	done
	{
		echo '#!/bin/bash'
		declare -f wait_until bg_alive bg_gone
		cat <<EOF
set -eu
echo "restart \$1" >>$T/hooks.log
pidf=$T/app-\$1.pid
if [ -s "\$pidf" ]; then
	old=\$(cat "\$pidf")
	kill "\$old" 2>/dev/null || :
	wait_until 5 bg_gone "\$old" || :
fi
down=
[ ! -e down ] || down="--down-file \$PWD/down"
[ ! -e $T/sick ] || down="--down-file $T/sick"
mode=
case \$BG_ADDR in unix:*) mode="--sock-mode 0660" ;; esac
setsid $BG_ROOT/tests/bin/bgapp --listen "\$BG_ADDR" --color "\$1" \\
    --version "\$(cat VERSION)" \$down \$mode </dev/null >>$T/app-\$1.log 2>&1 &
echo \$! >"\$pidf"
echo "app \$1 \$!" >>$T/.bg-started
EOF
	} >"$T/hooks/restart"
	chmod 0755 "$T/hooks"/*
}

# make_src DIR VERSION: an app tree to deploy.
make_src() {
	mkdir -p "$1/static"
	echo "$2" >"$1/VERSION"
	echo "<h1>$2</h1>" >"$1/static/index.html"
}

# tree_sum DIR...: one checksum of every file's path, mode and bytes.
tree_sum() {
	find "$@" -printf '%p %m %s %l\n' | sort | md5sum
	find "$@" -type f -print0 | sort -z | xargs -0 cat | md5sum
}

# forge_begin LOCK APP LINE: in the background, as the deploy user
# (nobody), hold the bg lock LOCK so that a deploy-begin.sh for APP,
# dropped from root to nobody, waits for it, and meanwhile write LINE into
# that process's stdout through pidfd_getfd (tests/bin/fdwrite), ahead of
# its own line. The attacker's pid: $att (tracked); what it did:
# $T/attack.out, "wrote to PID" once the injection happened.
forge_begin() {
	# shellcheck disable=SC2016 # for the attacker's shell
	as_nobody '
		lock=$1 app=$2 fdwrite=$3 line=$4
		exec 9<"$lock"
		flock -n 9 || { echo "no lock"; exit 1; }
		inject() {
			pid=$(pgrep -o -u nobody -f "deploy-begin.sh $app ") &&
			    "$fdwrite" "$pid" 1 "$line" 2>/dev/null
		}
		wait_until 20 inject || exit 1
		echo "wrote to $pid"
		sleep 3
	' "$1" "$2" "$BG_ROOT/tests/bin/fdwrite" "$3" >"$T/attack.out" 2>&1 3>&- &
	att=$!
	bg_track "$att" attacker
}

# as_nobody SCRIPT ARG...: bash -c SCRIPT as the deploy user (nobody,
# nogroup, no other groups), ARGs its $1...; wait_until is defined in it.
as_nobody() {
	local script=$1
	shift
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    bash -c "$(declare -f wait_until)
$script" attack "$@"
}

# re_quote TEXT: TEXT with every ERE metacharacter escaped, to match it
# literally inside assert_output --regexp.
re_quote() {
	printf '%s' "$1" | sed 's/[][\\.*^$+?(){}|]/\\&/g'
}

# output_has TEXT...: $output holds every TEXT.
output_has() {
	local t

	for t; do
		assert_output --partial "$t" || return 1
	done
}

# init_setup SRV BUILD: make init from a snapshot of the source (the tree
# may change under a test run) in $T/repo, MK_DIR; INIT_ARGS, the settings
# every test of make init gives: everything under SRV, nginx from
# $NGINX_BIN, the server building in BUILD. The test adds the nginx paths.
init_setup() {
	local s=$1

	mkdir "$T/repo" || return 1
	(cd "$BG_ROOT" && cp -R Makefile config.mk tools nginx hooks docs \
	    pipeline systemd debian "$T/repo/") || return 1
	# shellcheck disable=SC2034 # for the tests
	MK_DIR=$T/repo
	# shellcheck disable=SC2034
	INIT_ARGS=(init BUILD_ON_SERVER=1 HOOKS="$s/hooks" REMOTE_SRC="$2"
	    BG_BIN="$s/bin" MAN_DIR="$s/man" BG_CONF="$s/etc/bg.conf"
	    APP="$s/app" DEPLOY_USER=nobody MODE=reload
	    URL="http://127.0.0.1:1/bg" BLUE=127.0.0.1:8001
	    GREEN=127.0.0.1:8002 LOCK="$s/lib/lock" LOG="$s/log/bg.log"
	    LIVE_CONF="$s/nginx/sites/app.conf"
	    BLUE_CONF="$s/nginx/bg/blue.conf"
	    GREEN_CONF="$s/nginx/bg/green.conf" LISTEN=127.0.0.1:1
	    STAGING_LISTEN=127.0.0.1:2 NGINX="$NGINX_BIN")
}
