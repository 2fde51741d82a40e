# pipeline/switch.sh switch|rollback APP CONF BIN SUDO FORCE [COLOR] - the
# server side of "make switch" and "make rollback", and of ansible's
# switch.yml (sh switch.sh ...): flip, then drain the old color.
#
# 1. switch, unless FORCE=1: refuses when nothing was staged into the
#    standby since the last switch (no APP/.bg-staged.STANDBY, which
#    stage.sh writes and a switch to that color removes): the switch would
#    put the previous release back; that is make rollback.
# 2. bgflip as root (through SUDO, e.g. "sudo", when not root; bgflip then
#    reads only /etc/bg.conf), to COLOR or the standby; -F when FORCE=1.
#    A bgflip that did not run (126, 127: no sudo, no bgflip), was killed,
#    or printed no color is never taken for a switch.
# 3. Notes, as APP's owner: APP/.bg-previous "OLD REVISION" (what was live
#    before: make rollback checks it), the new color's .bg-staged note
#    removed, and for a rollback bgflip's history line appended to
#    APP/.bg-rollbacks (make history marks those lines).
# 4. Waits for the old color: with the config's linger "off", bgdrain OLD
#    (the config's timeout). Else bgdrain -t LINGER OLD; when it is still
#    busy, bgstage -r OLD (the retire hook closes its long-lived
#    connections cleanly), then bgdrain OLD.
# 5. Checks that nginx still serves the new color.
#
# Prints nothing on stdout. Exit status:
#   0  switched (or COLOR was live already) and the old color drained
#   1  refused: nothing staged since the last switch; or bgflip's 1; or
#      nginx serves another color after the drain (switched meanwhile)
#   2  COLOR is neither blue nor green: nothing was switched
#   3  switched, but the old color still had connections when bgdrain
#      timed out: production is fine
#   4  config: APP is not the config's app, BG_CONF not /etc/bg.conf under
#      sudo, or bgflip's 4
#   5  bgflip did not run or its status was lost: nothing reported as
#      switched (make status says what is live); or bgflip's 5; or nginx
#      could not be asked after the drain
#   6, 7  bgflip's: rolled back / a human must look
#   other  the switch succeeded, but bgdrain failed with that status

# shellcheck shell=sh disable=SC2034,SC2154 # what: common.sh's; c_KEY: set by conf

what=$1
app=$2 conf=$3 bin=$4 sudo=$5 force=$6 to=${7:-}
# shellcheck source=/dev/null
. "${0%/*}/common.sh"

# COLOR may come from a step that ran as the deploy user (rollback-check.sh
# drops to APP's owner, whose process can be made to print anything): a
# color, or bgflip would take it as an option.
case $to in
'' | blue | green) ;;
*) die 2 "bad color \"$(printf '%s' "$to" | tr -cd '[:graph:]' | cut -c1-40)\": nothing was switched" ;;
esac
# bgflip accepts only /etc/bg.conf under sudo.
if [ -n "$sudo" ] && [ "$conf" != /etc/bg.conf ]; then
	die 4 "bgflip runs through $sudo, and then reads only /etc/bg.conf: set BG_CONF=/etc/bg.conf (or SUDO= when you log in as root)"
fi
check_app
app_owner	# now, not after the flip: it may refuse
conf log linger

live=$("$bin/bgcolor" -t 5 -f "$conf" </dev/null 2>/dev/null) || live=
if [ "$what" = switch ] && [ "$force" != 1 ] && [ -n "$live" ]; then
	standby=$(other "$live")
	if [ -s "$c_log" ] && ! as_owner test -e "$app/.bg-staged.$standby"; then
		die 1 "refused: nothing was staged into $standby since the last switch, so switching would put the previous release back live: use make rollback (or make deploy first; FORCE=1 switches anyway)"
	fi
fi

set -- "$bin/bgflip"
[ -n "$sudo" ] || set -- "$@" -f "$conf"
[ "$force" != 1 ] || set -- "$@" -F
[ -z "$to" ] || set -- "$@" "$to"
st=0
# shellcheck disable=SC2086 # SUDO is a command and its options
new=$($sudo "$@" </dev/null) || st=$?
case $st in
0) ;;
126 | 127) die 5 "bgflip did not run (exit $st: ${sudo:+$sudo or }$bin/bgflip missing or not executable): nothing was switched" ;;
6) die 6 "bgflip failed and rolled back: what was live is live again" ;;
7) die 7 "bgflip failed and could not roll back: a human must look (make status)" ;;
*)
	[ "$st" -lt 128 ] ||
	    die 5 "bgflip was killed (exit $st): whether it switched is unknown; make status says what is live"
	die "$st" "bgflip exited $st: nothing was switched"
	;;
esac
old=$(other "$new") ||
    die 5 "bgflip printed no color (\"$new\"): whether it switched is unknown; make status says what is live"
if [ "$new" = "$live" ]; then
	say "$new was live already: nothing switched"
	exit 0
fi

# No deploy can have touched OLD's REVISION yet: it was live until now, and
# a deploy waits for its drain.
# shellcheck disable=SC2016 # for that sh
as_owner sh -c 'printf "%s\n" "$1" >"$2"; rm -f "$3"' sh \
    "$old $(revision "$old")" "$app/.bg-previous" "$app/.bg-staged.$new"
if [ "$what" = rollback ]; then
	# shellcheck disable=SC2016
	tail -n 1 "$c_log" 2>/dev/null |
	    as_owner sh -c 'cat >>"$1"' sh "$app/.bg-rollbacks"
fi

drained() {
	st=0
	"$bin/bgdrain" -f "$conf" "$@" "$old" </dev/null || st=$?
	return "$st"
}
if [ "$c_linger" = off ]; then
	say "$new is live (was $old); waiting for $old to drain"
	drained
else
	say "$new is live (was $old); waiting up to ${c_linger}s (linger) for $old to drain"
	if [ "$c_linger" = 0 ]; then
		drained -c 2>/dev/null
	else
		drained -t "$c_linger"
	fi
	if [ "$st" -eq 1 ] || [ "$st" -eq 3 ]; then
		say "$old still has long-lived connections after ${c_linger}s: retiring it (bgstage -r $old)"
		"$bin/bgstage" -r -f "$conf" "$old" </dev/null >/dev/null ||
		    say "retiring $old failed (bgstage -r exit $?, see above); waiting for its connections to end"
		drained
	fi
fi
# Still the new color? (someone may have switched meanwhile)
now=$("$bin/bgcolor" -t 5 -f "$conf" </dev/null) ||
    die 5 "bgflip made $new live, but nginx could not be asked afterwards: check with $bin/bgcolor -f $conf"
[ "$now" = "$new" ] ||
    die 1 "bgflip made $new live, but nginx now serves $now: someone switched meanwhile?"
case $st in
0) say "$new is live (was $old); $old has drained" ;;
3) say "$new is live and serves production: the switch succeeded. $old still had requests in flight when bgdrain timed out; they finish there on their own. Production is fine." ;;
*) say "$new is live: the switch succeeded, but bgdrain $old exited $st" ;;
esac
exit "$st"
