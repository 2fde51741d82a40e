# pipeline/deploy-begin.sh APP CONF BIN DRY STAMP - the server side of
# "make deploy" before the copy (sh deploy-begin.sh ...).
#
# Checks that APP is the config's app, asks nginx for the standby and
# refuses it while it still drains. Then (DRY=0):
# - takes the deploy lock APP/.bg-deploy.lock (flock(1)) and keeps it until
#   its stdin ends: make holds that pipe open for the whole deploy, and it
#   ends when make exits or ssh dies, so a second make deploy is refused
#   while the first one copies or stages;
# - under the lock that bgstage and bgflip take (the config's lock) marks
#   the standby "being staged" (APP/.bg-staging.COLOR, holding STAMP) and
#   checks that it is still the standby: bgflip refuses it until bgstage
#   clears the mark, so no switch can make a half-copied color live, and
#   the copy never lands in a color that became live.
# DRY=1 checks, marks and holds nothing. Run as root, it runs as APP's
# owner (root writes nothing inside APP).
#
# Prints one line on stdout once the checks passed and the mark is made:
#   COLOR UID:GID STAGING_URL
# COLOR the standby; UID:GID whom the copy must run as ("-": whoever runs
# it, we were not root); STAGING_URL the config's (may be empty).
#
# Exit status:
#   0  done (the lock was held until stdin ended)
#   1  refused: the standby drains, another deploy runs, the lock stayed
#      busy, the standby became live
#   4  config: APP is not the config's app, no lock file, no flock(1)
#   5  cannot write the mark or the deploy lock
#   else the failing tool's status (bgcolor, bgdrain)

# shellcheck shell=sh disable=SC2034,SC2154 # what: common.sh's; c_KEY: set by conf

what=deploy
app=$1 conf=$2 bin=$3 dry=$4 stamp=$5
# shellcheck source=/dev/null
. "${0%/*}/common.sh"

# mark_locked, with the config's lock file open on fd 9.
mark_locked() {
	flock -w 10 9 ||
	    die 1 "the lock $c_lock stayed busy for 10 s: a switch holds it; try again"
	if [ -e "$mark" ]; then
		had=1
		say "note: $color was already marked as being staged ($(cat "$mark" 2>/dev/null)): a deploy failed; this one repairs it"
	fi
	echo "$stamp" >"$mark" ||
	    die 5 "cannot write the mark $mark: the deploy user must own $app (make init)"
	rm -f "$app/.bg-staged.$color"
	now=$("$bin/bgcolor" -t 5 -s -f "$conf" </dev/null) || exit
	if [ "$now" != "$color" ]; then
		# A mark we did not make is left alone.
		[ "$had" -eq 1 ] || rm -f "$mark"
		die 1 "$color became live while this deploy started; nothing was copied: run make deploy again"
	fi
}

check_app
# the uid and gid the copy must run as, when we are root: found before
# the drop, kept across it
app_owner
[ -z "$owner" ] || export BG_COPY_AS="${owner% *}:${owner#* }"
drop_to_owner "$@"
ids=${BG_COPY_AS:--}
conf lock staging_url

color=$("$bin/bgcolor" -t 5 -s -f "$conf" </dev/null) || exit
st=0
"$bin/bgdrain" -c -f "$conf" "$color" </dev/null || st=$?
[ "$st" -ne 1 ] ||
    die 1 "the standby $color still has requests in flight from before the last switch; deploy again once it has drained (watch: $bin/bgdrain -f $conf $color)"
[ "$st" -eq 0 ] || exit "$st"
mark=$app/.bg-staging.$color
if [ "$dry" = 1 ]; then
	say "dry run: would mark $color as being staged ($mark) under the lock $c_lock"
	printf '%s %s %s\n' "$color" "$ids" "$c_staging_url"
	exit 0
fi

command -v flock >/dev/null 2>&1 ||
    die 4 "flock(1) is missing on $(uname -n) (Debian: apt-get install util-linux)"
[ -f "$c_lock" ] || die 4 "no lock file $c_lock: make init creates it"
dlock=$app/.bg-deploy.lock
command exec 8>>"$dlock" || die 5 "cannot open $dlock: the deploy user must own $app (make init)"
flock -n 8 ||
    die 1 "another make deploy into $app is running ($(cat "$dlock" 2>/dev/null)); nothing was done: wait for it, then deploy again"
echo "$stamp" >"$dlock"
had=0
# Read-only: the lock file is root's, and flock(2) needs no write permission.
mark_locked 9<"$c_lock"
printf '%s %s %s\n' "$color" "$ids" "$c_staging_url"
# Hold the deploy lock until make is done with this deploy.
cat >/dev/null
