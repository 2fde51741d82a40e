# pipeline/rollback-check.sh APP CONF BIN FORCE - the server side of
# "make rollback" before the flip (sh rollback-check.sh ...).
#
# A rollback makes the standby live again, and is only what it says when
# the standby still runs what was live before the last switch. That
# revision comes from the history (bgflip's log, "TIME FROM TO USER REV"
# lines): the line before the last one recorded FROM's revision when FROM
# went live, and FROM stayed live, untouched, until the last switch. When
# the history has no such line (the first switch), make switch's own note
# APP/.bg-previous ("COLOR REVISION", taken right after its flip) says it.
# Refuses when that revision is unknown, when the standby has another one
# now (it was deployed to since), or when the history does not end at the
# live color. FORCE=1 turns each refusal into a note. Health is bgflip's
# to check. Run as root, it runs as APP's owner.
#
# Prints the color to make live on stdout. Exit status:
#   0  go ahead (printed)
#   1  refused, saying why
#   4  config: APP is not the config's app
#   else bgcolor's status (nginx could not be asked)

# shellcheck shell=sh disable=SC2034,SC2154 # what: common.sh's; c_KEY: set by conf

what=rollback
app=$1 conf=$2 bin=$3 force=$4
# shellcheck source=/dev/null
. "${0%/*}/common.sh"

refuse() {
	[ "$force" = 1 ] || die 1 "refused: $*; to roll back anyway: make rollback FORCE=1"
	say "FORCE=1: going on although $*"
}

check_app
drop_to_owner "$@"
conf log
live=$("$bin/bgcolor" -t 5 -f "$conf" </dev/null) || exit
to=$(other "$live")
have=$(revision "$to")
# shellcheck disable=SC2046 # fields are split on purpose
set -- $(tail -n 1 "$c_log" 2>/dev/null)
if [ $# -lt 3 ]; then
	refuse "the history $c_log holds no switch yet, so there is nothing to go back to"
elif [ "$3" != "$live" ] || [ "$2" != "$to" ]; then
	refuse "the last switch in $c_log went from $2 to $3, but $live is live now (switched some other way?)"
else
	want=
	# shellcheck disable=SC2046
	set -- $(tail -n 2 "$c_log" | sed '$d')
	if [ $# -ge 3 ] && [ "$3" = "$to" ]; then
		want=${5:--}
	else
		# shellcheck disable=SC2046
		set -- $(cat "$app/.bg-previous" 2>/dev/null)
		[ "${1:-}" != "$to" ] || want=${2:--}
	fi
	if [ -z "$want" ] || [ "$want" = - ]; then
		refuse "no record says which revision $to ran before the last switch (it has $have now)"
	elif [ "$want" != "$have" ]; then
		refuse "$to now has revision $have, but it ran $want before the last switch: it was deployed to since (to go back, deploy the old version and switch)"
	else
		say "$to still runs $have, which was live before the last switch"
	fi
fi
echo "$to"
