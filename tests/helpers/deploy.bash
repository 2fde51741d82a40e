# tests/helpers/deploy.bash - the server side of the pipeline tests (make
# deploy, switch, rollback over ssh): hooks that restart fixture instances
# in a scene (helpers/scene), and app trees to ship.
#
#   write_hooks          $T/hooks/{install,migrate,restart}
#   make_src DIR VERSION an app tree to deploy
#   tree_sum DIR...      one checksum of paths, modes and bytes
#   forge_begin LOCK APP LINE  the deploy user forging deploy-begin.sh's line

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
	cat >"$T/hooks/restart" <<EOF
#!/bin/sh
set -eu
echo "restart \$1" >>$T/hooks.log
pidf=$T/app-\$1.pid
if [ -s "\$pidf" ]; then
	old=\$(cat "\$pidf")
	kill "\$old" 2>/dev/null || :
	n=100
	while [ "\$n" -gt 0 ]; do
		st=\$(sed 's/.*) \\(.\\).*/\\1/' /proc/\$old/stat 2>/dev/null) || break
		[ "\$st" != Z ] || break
		sleep 0.05
		n=\$((n - 1))
	done
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
	setpriv --reuid=nobody --regid=nogroup --clear-groups sh -c '
		lock=$1 app=$2 fdwrite=$3 line=$4
		exec 9<"$lock"
		flock -n 9 || { echo "no lock"; exit 1; }
		n=0
		until pid=$(pgrep -o -u nobody -f "deploy-begin.sh $app ") &&
		    "$fdwrite" "$pid" 1 "$line" 2>/dev/null; do
			n=$((n + 1))
			[ "$n" -lt 1000 ] || { echo "no deploy-begin.sh"; exit 1; }
			sleep 0.02
		done
		echo "wrote to $pid"
		sleep 3
	' attack "$1" "$2" "$BG_ROOT/tests/bin/fdwrite" "$3" >"$T/attack.out" 2>&1 3>&- &
	att=$!
	bg_track "$att" attacker
}
