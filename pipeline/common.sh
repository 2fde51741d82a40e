# pipeline/common.sh - what every pipeline script shares, on this machine
# (pipeline/lib.sh, pipeline/fleet.sh) and on the server (the step scripts
# deploy-begin.sh, stage.sh, switch.sh, rollback-check.sh, status.sh, which
# `make install` puts in PREFIX/share/bg/pipeline next to this file).
# Sourced, POSIX sh. The sourcing script sets $what (make's target).
#
#   say TEXT          "make WHAT: TEXT" on stderr: the one message shape
#   die CODE TEXT     say, then exit CODE
#   other COLOR       the other color
#   conf KEY...       sets c_KEY for each KEY: its value checked by bgcolor -k
#                     (the one config reader: no shell parses bg.conf, no
#                     shell repeats a default); needs $bin and $conf
#   check_app         APP ($app) must be the config's app: else exit 4
#   revision COLOR    APP/COLOR/REVISION cleaned (the one place): its first
#                     line's printable non-blank bytes, at most 64, as
#                     bgflip logs it; "-" when absent
#   as_owner CMD...   CMD as the owner of APP when we are root and APP is
#                     not root's (root never reads, writes, chmods or chowns
#                     through a path inside the deploy user's APP)
#   drop_to_owner "$@"  the same for the whole script: re-runs it as APP's
#                     owner when we are root (call after check_app)
#   untty CMD...      CMD in a session of its own, without root's terminal
#   safe NAME VALUE   exit 2 unless VALUE is safe in a command line
#   revision_of DIR   the revision a deploy of DIR writes (here)

# shellcheck shell=sh disable=SC2154,SC2034 # what, bin, conf, app: the caller's; c_KEY: the caller's

say() {
	printf 'make %s: %s\n' "$what" "$*" >&2
}

die() {
	bg_code=$1
	shift
	say "$*"
	exit "$bg_code"
}

other() {
	case $1 in
	blue) echo green ;;
	green) echo blue ;;
	*) return 1 ;;
	esac
}

conf() {
	bg_vals=$("$bin/bgcolor" -f "$conf" -k "$(echo "$@" | tr ' ' ,)" \
	    </dev/null) || die "$?" "cannot read the config $conf on $(uname -n) (see above): make init writes it"
	for bg_k in "$@"; do
		bg_v=$(printf '%s\n' "$bg_vals" | head -n 1)
		bg_vals=$(printf '%s\n' "$bg_vals" | sed 1d)
		eval "c_$bg_k=\$bg_v"
	done
}

check_app() {
	conf app
	[ "$c_app" = "$app" ] ||
	    die 4 "APP is $app but $conf says app = $c_app: refusing to touch the wrong tree; run with APP=$c_app"
}

# APP's owner, "UID GID", into $owner (empty when no drop is needed).
app_owner() {
	owner=
	[ "$(id -u)" -eq 0 ] || return 0
	owner=$(stat -L -c '%u %g' "$app") ||
	    die 5 "cannot stat $app on $(uname -n)"
	[ "${owner% *}" -eq 0 ] || return 0
	owner=
	# root's APP: root works in it as root, so nothing in it may be the
	# deploy user's (a link in a color of theirs would lead root on)
	for bg_d in blue green shared; do
		[ -e "$app/$bg_d" ] || [ -L "$app/$bg_d" ] || continue
		bg_u=$(stat -c %u "$app/$bg_d") ||
		    die 5 "cannot stat $app/$bg_d on $(uname -n)"
		[ "$bg_u" -eq 0 ] ||
		    die 4 "$app is root's, but $app/$bg_d is uid $bg_u's: root never works inside the deploy user's tree; give that user $app as well (chown, as make init does)"
	done
}

# untty CMD...: CMD, which drops to the deploy user, with nothing of
# root's terminal. The deploy user may attach to its own processes (ptrace,
# pidfd_getfd): one in root's session could open /dev/tty and push keys
# into root's shell (TIOCSTI), and one holding root's terminal could read
# root's keystrokes. So CMD runs in a session of its own (setsid), its
# stdin is /dev/null when ours is a terminal, and its stdout and stderr go
# through a pipe when ours are one. INT, TERM and HUP are passed on to it
# as TERM. CMD's exit status.
untty() (
	[ ! -t 0 ] || exec </dev/null
	bg_o=f bg_e=f
	[ ! -t 1 ] || bg_o=p
	[ ! -t 2 ] || bg_e=p
	exec 4<&0 5>&1 6>&2
	bg_s=$(
		{
			{
				case $bg_o$bg_e in
				ff) setsid -w "$@" <&4 >&5 2>&6 3>&- 4<&- 5>&- 6>&- & ;;
				pf) setsid -w "$@" <&4 2>&6 3>&- 4<&- 5>&- 6>&- & ;;
				pp) setsid -w "$@" <&4 2>&1 3>&- 4<&- 5>&- 6>&- & ;;
				fp) setsid -w "$@" <&4 2>&1 >&5 3>&- 4<&- 5>&- 6>&- & ;;
				esac
				bg_p=$!
				# kill(1), not dash's, which takes no negative pid
				trap 'env kill -s TERM -- "-$bg_p" 2>/dev/null' INT TERM HUP
				bg_w=0
				wait "$bg_p" || bg_w=$?
				while [ "$bg_w" -gt 128 ] && kill -0 "$bg_p" 2>/dev/null; do
					bg_w=0
					wait "$bg_p" || bg_w=$?
				done
				echo "$bg_w" >&3
			} | if [ "$bg_o" = p ]; then
				cat >&5
			elif [ "$bg_e" = p ]; then
				cat >&6
			else
				cat >/dev/null
			fi
		} 3>&1
	)
	exit "${bg_s:-5}"
)

as_owner() {
	[ -n "${owner+set}" ] || app_owner
	if [ -n "$owner" ]; then
		untty setpriv --reuid="${owner% *}" --regid="${owner#* }" \
		    --init-groups -- "$@"
	else
		"$@"
	fi
}

drop_to_owner() {
	app_owner
	[ -n "$owner" ] || return 0
	{ command -v setpriv && command -v setsid; } >/dev/null 2>&1 ||
	    die 5 "setpriv(1) or setsid(1) is missing on $(uname -n) (Debian: apt-get install util-linux); root does not work inside $app"
	bg_st=0
	untty setpriv --reuid="${owner% *}" --regid="${owner#* }" \
	    --init-groups -- sh "$0" "$@" || bg_st=$?
	exit "$bg_st"
}

revision() {
	bg_r=$(as_owner sed -n '1{s/[^[:graph:]]//g;s/^\(.\{64\}\).*/\1/;p;}' \
	    "$app/$1/REVISION" 2>/dev/null)
	printf '%s\n' "${bg_r:--}"
}

# safe NAME VALUE: VALUE goes into command lines run by a shell, so it is
# limited to characters that need no quoting there.
safe() {
	case $2 in
	'' | -* | *[!A-Za-z0-9_./@%+=:,~-]*)
		die 2 "$1=$2: use only letters, digits and _./@%+=:,~- (not starting with -)"
		;;
	esac
}

# revision_of DIR: what make deploy writes to REVISION: the git commit of
# DIR (with -dirty when DIR has uncommitted changes), else a UTC timestamp.
revision_of() {
	if git -C "$1" rev-parse --is-inside-work-tree >/dev/null 2>&1 &&
	    bg_r=$(git -C "$1" rev-parse --verify -q HEAD 2>/dev/null); then
		if [ -n "$(git -C "$1" status --porcelain -- . 2>/dev/null)" ]; then
			bg_r=$bg_r-dirty
		fi
	else
		bg_r=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	fi
	printf '%s\n' "$bg_r"
}
