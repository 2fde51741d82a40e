# pipeline/stage.sh APP CONF BIN COLOR REVISION STAMP DRY INSTALL MIGRATE -
# the server side of "make deploy" after the copy (sh stage.sh ...).
#
# Checks that COLOR's being-staged mark is still this deploy's (STAMP: a
# deploy never stages over another one's copy), writes APP/COLOR/REVISION,
# runs bgstage (hooks, restart, wait until healthy; it clears the mark),
# then notes APP/.bg-staged.COLOR: something new was staged into COLOR, so
# make switch may make it live (switch.sh). The install hook runs when
# INSTALL=1, or when INSTALL is empty and COLOR has no REVISION yet (its
# first deploy); INSTALL=0 skips it. MIGRATE=1 runs the migrate hook.
# DRY=1: bgstage -n, nothing written. Run as root, it runs as APP's owner.
#
# Exit status: bgstage's (0 staged, 1 a hook failed or refused, 3 not
# healthy in time, 4 config, 5 system), or
#   1  COLOR's mark is gone or another deploy's: nothing was staged
#   4  APP is not the config's app

# shellcheck shell=sh disable=SC2034,SC2154 # what: common.sh's; c_KEY: set by conf

what=deploy
app=$1 conf=$2 bin=$3 color=$4 rev=$5 stamp=$6 dry=$7 install=$8 migrate=$9
# shellcheck source=/dev/null
. "${0%/*}/common.sh"

check_app
drop_to_owner "$@"
other "$color" >/dev/null || die 2 "bad color $color"

opts=
case $install in
1) opts=-i ;;
0) ;;
*) [ -e "$app/$color/REVISION" ] || opts=-i ;;
esac
[ "$migrate" != 1 ] || opts="$opts -m"

if [ "$dry" = 1 ]; then
	# shellcheck disable=SC2086 # a list of flags
	"$bin/bgstage" -n -f "$conf" $opts "$color" </dev/null >/dev/null ||
	    die "$?" "bgstage -n refuses (see above)"
	exit 0
fi

mark=$app/.bg-staging.$color
[ "$(cat "$mark" 2>/dev/null)" = "$stamp" ] ||
    die 1 "$color is no longer marked by this deploy (another make deploy took it over, or it was cleared): nothing was staged; run make deploy again"
# replaced, never written through: a link there is not followed
if ! { printf '%s\n' "$rev" >"$app/$color/.REVISION.tmp" &&
    mv -f "$app/$color/.REVISION.tmp" "$app/$color/REVISION"; }; then
	die 5 "cannot write $app/$color/REVISION"
fi
st=0
# shellcheck disable=SC2086
"$bin/bgstage" -f "$conf" $opts "$color" </dev/null >/dev/null || st=$?
case $st in
0) ;;
3) die 3 "$color did not answer 200 on its health path in time (bgstage exit 3). Production is untouched; $color stays marked as being staged, so make switch refuses it; fix it and run make deploy again" ;;
*) die "$st" "bgstage failed (exit $st, see above). Production is untouched; $color stays marked as being staged, so make switch refuses it; fix it and run make deploy again" ;;
esac
echo "$stamp" >"$app/.bg-staged.$color" ||
    die 5 "cannot write $app/.bg-staged.$color"
say "$color is staged: revision $rev"
