# ansible/switch.sh APP CONF BIN SUDO - the server side of switch.yml on
# one host, in one session: what make switch runs there (the Makefile's
# FLIP), fed to sh -s after pipeline/remote.sh (the host needs no copy).
#
# bgflip as root (through SUDO, e.g. "sudo -n", when the login is not
# root; bgflip then reads only /etc/bg.conf), the old color's REVISION
# into APP/.bg-previous for make rollback, bgdrain of the old color, then
# bgcolor to check that nginx still serves the new one. Prints one line
# saying what happened.
#
# Exit: 0 switched and drained, or the standby was live already; 3 only
# when the switch succeeded and the old color's drain timed out
# (production is fine); otherwise what failed: bgflip's status (nothing
# was switched, or 6/7), bgdrain's, 5 when nginx cannot be asked
# afterwards, 1 when it serves another color.

# shellcheck shell=sh

# shellcheck disable=SC2034 # read by say() in pipeline/remote.sh
what=switch

main() {
	app=$1 conf=$2 bin=$3 sudo=$4

	if [ -n "$sudo" ] && [ "$conf" != /etc/bg.conf ]; then
		say "bgflip runs through $sudo, and then reads only /etc/bg.conf: set bg_conf=/etc/bg.conf (or bg_sudo='' when you log in as root)"
		return 4
	fi
	live=$("$bin/bgcolor" -t 5 -f "$conf" 2>/dev/null) || live=
	if [ -z "$sudo" ]; then
		new=$("$bin/bgflip" -f "$conf") || return
	else
		# shellcheck disable=SC2086 # SUDO is a command and its options
		new=$($sudo "$bin/bgflip") || return
	fi
	if [ "$new" = "$live" ]; then
		echo "$new was live already: nothing switched"
		return 0
	fi
	case $new in
	blue) old=green ;;
	*) old=blue ;;
	esac
	# No deploy can have touched it yet: it was live until now, and a
	# deploy refuses a standby that still drains.
	echo "$old $(revision "$old")" >"$app/.bg-previous" 2>/dev/null
	st=0
	"$bin/bgdrain" -f "$conf" "$old" || st=$?
	if ! now=$("$bin/bgcolor" -t 5 -f "$conf"); then
		say "bgflip made $new live, but nginx could not be asked afterwards: check with $bin/bgcolor -f $conf"
		return 5
	fi
	if [ "$now" != "$new" ]; then
		say "bgflip made $new live, but nginx now serves $now: someone switched meanwhile?"
		return 1
	fi
	case $st in
	0)
		echo "$new is live (was $old); $old has drained"
		;;
	3)
		echo "$new is live and serves production: the switch succeeded. $old still had requests in flight when bgdrain timed out; they finish there on their own. Production is fine."
		;;
	*)
		say "$new is live, but bgdrain $old exited $st"
		;;
	esac
	return "$st"
}

main "$@" </dev/null
