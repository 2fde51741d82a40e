# pipeline/rollback-check.sh APP CONF BIN FORCE - the server side of
# "make rollback" before the flip (make feeds this file to sh -s).
#
# A rollback makes the standby live again, and is only what it says when
# the standby still runs what was live before the last switch. That
# revision comes from the history (bgflip's log, "TIME FROM TO USER REV"
# lines): the line before the last one recorded FROM's revision when FROM
# went live, and FROM stayed live, untouched, until the last switch. When
# the history has no such line (the first switch), make switch's own note
# APP/.bg-previous ("COLOR REVISION", taken before its flip) says it.
# Refuses (exit 1, saying why) when that revision is unknown, when the
# standby has another one now (it was deployed to since), or when the
# history does not end at the live color. FORCE=1 turns each refusal into
# a note. Health is bgflip's to check. Prints the color to make live.

# shellcheck shell=sh

# shellcheck disable=SC2034 # read by say() in pipeline/remote.sh
what=rollback

refuse() {
	if [ "$force" = 1 ]; then
		say "FORCE=1: going on although $*"
		return 0
	fi
	say "refused: $*; to roll back anyway: make rollback FORCE=1"
	exit 1
}

main() {
	app=$1 conf=$2 bin=$3 force=$4

	[ -r "$conf" ] || { say "cannot read $conf: make init writes it"; exit 4; }
	live=$("$bin/bgcolor" -t 5 -f "$conf") || exit
	case $live in
	blue) other=green ;;
	*) other=blue ;;
	esac
	conf_load
	log=${c_log:-/var/log/bg.log}
	if [ "${c_app:-/srv/app}" != "$app" ]; then
		say "APP is $app but $conf says app = ${c_app:-/srv/app}: run with APP=${c_app:-/srv/app}"
		exit 4
	fi
	have=$(revision "$other")
	# shellcheck disable=SC2046 # fields are split on purpose
	set -- $(tail -n 1 "$log" 2>/dev/null)
	if [ $# -lt 3 ]; then
		refuse "the history $log holds no switch yet, so there is nothing to go back to"
		echo "$other"
		return 0
	fi
	if [ "$3" != "$live" ] || [ "$2" != "$other" ]; then
		refuse "the last switch in $log went from $2 to $3, but $live is live now (switched some other way?)"
		echo "$other"
		return 0
	fi
	want=
	prev=
	[ "$(wc -l <"$log")" -lt 2 ] || prev=$(tail -n 2 "$log" | head -n 1)
	# shellcheck disable=SC2046,SC2086
	set -- $prev
	if [ $# -ge 3 ] && [ "$3" = "$other" ]; then
		want=${5:--}
	else
		# shellcheck disable=SC2046
		set -- $(cat "$app/.bg-previous" 2>/dev/null)
		[ "${1:-}" = "$other" ] && want=${2:--}
	fi
	if [ -z "$want" ] || [ "$want" = - ]; then
		refuse "no record says which revision $other ran before the last switch (it has $have now)"
	elif [ "$want" != "$have" ]; then
		refuse "$other now has revision $have, but it ran $want before the last switch: it was deployed to since (to go back, deploy the old version and switch)"
	else
		say "$other still runs $have, which was live before the last switch"
	fi
	echo "$other"
}

main "$@" </dev/null
