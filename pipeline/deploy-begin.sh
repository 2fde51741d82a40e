# pipeline/deploy-begin.sh APP CONF BIN DRY STAMP - the server side of
# "make deploy" before the copy, in one ssh session (make feeds this file to
# sh -s; the server needs no copy of it).
#
# Checks that APP is the config's app, asks nginx for the standby, refuses
# it while it still drains, then, under the lock that bgstage and bgflip
# take (flock(2) on the config's lock file), marks it "being staged" and
# checks that it is still the standby: from then on bgflip refuses it until
# bgstage clears the mark, so no switch can make a half-copied color live,
# and the copy can never land in a color that became live. DRY=1 checks
# and marks nothing. Prints "COLOR STAGING_URL" on stdout.
#
# Exit: 0; 1 refused (draining, lock busy, standby changed); 4 config
# (mismatch, unreadable, no lock file); 5 cannot write the mark; otherwise
# the failing tool's status.

# shellcheck shell=sh

# shellcheck disable=SC2034 # read by say() in pipeline/remote.sh
what=deploy

# mark_locked, with the lock file open on fd 9: take the lock, mark, check.
mark_locked() {
	flock -w 10 9 || {
		say "the lock $lock stayed busy for 10 s: a switch or another deploy holds it; try again"
		return 1
	}
	had=0
	if [ -e "$mark" ]; then
		had=1
		say "note: $color was already marked as being staged ($(cat "$mark" 2>/dev/null)): a deploy failed or is running; this one repairs it"
	fi
	echo "$stamp" >"$mark" || {
		say "cannot write the mark $mark: the deploy user must own $app (make init)"
		return 5
	}
	now=$("$bin/bgcolor" -t 5 -s -f "$conf") || return
	if [ "$now" != "$color" ]; then
		# It became live before we held the lock. A mark we did not
		# make is left alone.
		[ "$had" -eq 1 ] || rm -f "$mark"
		say "$color became live while this deploy started; nothing was copied: run make deploy again"
		return 1
	fi
}

main() {
	app=$1 conf=$2 bin=$3 dry=$4 stamp=$5

	if [ ! -r "$conf" ]; then
		say "cannot read $conf on $(uname -n): make init writes it"
		return 4
	fi
	conf_load
	capp=${c_app:-/srv/app}
	if [ "$capp" != "$app" ]; then
		say "APP is $app but $conf says app = $capp: refusing to copy into the wrong tree; run with APP=$capp"
		return 4
	fi
	color=$("$bin/bgcolor" -t 5 -s -f "$conf") || return
	st=0
	"$bin/bgdrain" -c -f "$conf" "$color" || st=$?
	if [ "$st" -eq 1 ]; then
		say "the standby $color still has requests in flight from before the last switch; deploy again once it has drained (watch: $bin/bgdrain -f $conf $color)"
		return 1
	elif [ "$st" -ne 0 ]; then
		return "$st"
	fi
	lock=${c_lock:-/var/lib/bg/lock}
	mark=$app/.bg-staging.$color
	if [ "$dry" = 1 ]; then
		say "dry run: would mark $color as being staged ($mark) under the lock $lock"
	else
		command -v flock >/dev/null 2>&1 || {
			say "flock(1) is missing on $(uname -n) (Debian: apt-get install util-linux)"
			return 4
		}
		if [ ! -f "$lock" ]; then
			say "no lock file $lock: make init creates it"
			return 4
		fi
		# Read-only: the lock file is root's, and flock(2) needs no
		# write permission.
		mark_locked 9<"$lock" || return
	fi
	printf '%s %s\n' "$color" "${c_staging_url:-}"
}

# Everything above is read before anything runs, so no command can eat the
# rest of this script from stdin.
main "$@" </dev/null
