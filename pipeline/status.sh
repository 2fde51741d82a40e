# pipeline/status.sh status|row|history APP CONF BIN - the server side of
# "make status" and "make history", in one ssh session (make feeds this
# file to sh -s).
#
# status: for each color its role (what nginx's /bg says), REVISION, the
# health path's HTTP status (curl, when the server has it), its in-flight
# connections (bgdrain -c -F) and whether it is being staged; then the last
# five switches. row: the same on one line, for make status HOSTS=...
# (pipeline/fleet.sh): "LIVE REV_BLUE REV_GREEN HEALTH_BLUE HEALTH_GREEN
# CONNS_BLUE CONNS_GREEN LAST_SWITCH BEING_STAGED" ("-" or "?" when
# unknown). history: the whole switch log.

# shellcheck shell=sh

# health ADDR: the HTTP status of GET ADDR+health, "down" when nothing
# answers, "?" without curl.
health() {
	command -v curl >/dev/null 2>&1 || { echo "?"; return; }
	set -- -g -s -o /dev/null -w '%{http_code}' --max-time 2
	[ -z "$hosth" ] || set -- "$@" -H "Host: $hosth"
	case $addr in
	unix:*) set -- "$@" --unix-socket "${addr#unix:}" \
	    "http://localhost$hpath" ;;
	*) set -- "$@" "http://$addr$hpath" ;;
	esac
	code=$(curl "$@" 2>/dev/null)
	case $code in
	'' | 000) echo down ;;
	*) echo "$code" ;;
	esac
}

# inflight COLOR: bgdrain's count of its connections.
inflight() {
	out=$("$bin/bgdrain" -c -F -f "$conf" "$1" 2>&1) && { echo 0; return; }
	n=$(printf '%s\n' "$out" | sed -n 's/.* has \([0-9]*\) connection.*/\1/p')
	echo "${n:-?}"
}

main() {
	what=$1 app=$2 conf=$3 bin=$4

	if [ ! -r "$conf" ]; then
		say "cannot read $conf on $(uname -n): make init writes it"
		return 4
	fi
	conf_load
	log=${c_log:-/var/log/bg.log}
	if [ "${c_app:-/srv/app}" != "$app" ]; then
		say "note: APP is $app but $conf says app = ${c_app:-/srv/app}: showing the config's"
		app=${c_app:-/srv/app}
	fi
	if [ "$what" = history ]; then
		if [ -s "$log" ]; then
			cat "$log"
		else
			say "no switch yet ($log is empty or missing)"
		fi
		return 0
	fi
	live=$("$bin/bgcolor" -t 5 -f "$conf") || live=
	hpath=${c_health:-/up}
	hosth=${c_host_header:-}
	for c in blue green; do
		addr=
		eval "addr=\${c_$c:-}"
		eval "health_$c=\$(health) conns_$c=\$(inflight $c) rev_$c=\$(revision $c)"
	done
	last=$(tail -n 1 "$log" 2>/dev/null | cut -d' ' -f1)
	if [ "$what" = row ]; then
		staging=-
		for c in blue green; do
			[ ! -e "$app/.bg-staging.$c" ] || staging=$c
		done
		# shellcheck disable=SC2154 # set by the eval above
		echo "${live:-?} $rev_blue $rev_green $health_blue $health_green $conns_blue $conns_green ${last:--} $staging"
		return 0
	fi
	printf '%-6s %-8s %-8s %-10s %s\n' COLOR ROLE HEALTH IN-FLIGHT REVISION
	for c in blue green; do
		role=standby
		[ "$c" = "$live" ] && role=live
		[ -n "$live" ] || role='?'
		note=
		[ ! -e "$app/.bg-staging.$c" ] ||
		    note="  (being staged: switch refused until a deploy succeeds)"
		eval "h=\$health_$c n=\$conns_$c r=\$rev_$c"
		# shellcheck disable=SC2154 # h and r: set by the eval above
		printf '%-6s %-8s %-8s %-10s %s%s\n' "$c" "$role" "$h" "$n" "$r" "$note"
	done
	echo
	if [ -s "$log" ]; then
		echo "last switches ($log):"
		tail -n 5 "$log"
	else
		echo "no switch yet ($log)"
	fi
}

main "$@" </dev/null
