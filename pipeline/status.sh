# pipeline/status.sh status|row|history APP CONF BIN - the server side of
# "make status" and "make history" (sh status.sh ...).
#
# status: for each color its role (what nginx's /bg says), REVISION, the
# health path's HTTP status (curl, when the server has it), its in-flight
# connections (bgdrain -c -F) and whether it is being staged; then the last
# five switches. history: the whole switch log, a rollback's line followed
# by "rollback" (from APP/.bg-rollbacks, which switch.sh keeps).
# row: one machine-readable line, for make status HOSTS=... (fleet.sh) and
# ansible's switch.yml, of NAME=VALUE words, values without blanks, "-" or
# "?" when unknown:
#   live= rev_blue= rev_green= health_blue= health_green= conns_blue=
#   conns_green= last= staging= staged=
# (last: the time of the last switch; staging: the color being staged;
# staged: the colors holding something staged since the last switch.)
# Run as root, it runs as APP's owner. Exit: 0; 4 config; 5 no config.

# shellcheck shell=sh disable=SC2034,SC2154 # what: common.sh's; c_KEY: set by conf

what=status
form=$1 app=$2 conf=$3 bin=$4
# shellcheck source=/dev/null
. "${0%/*}/common.sh"

# health ADDR: the HTTP status of GET ADDR+health, "down" when nothing
# answers, "?" without curl.
health() {
	command -v curl >/dev/null 2>&1 || { echo "?"; return; }
	set -- -g -s -o /dev/null -w '%{http_code}' --max-time 2
	[ -z "$c_host_header" ] || set -- "$@" -H "Host: $c_host_header"
	case $addr in
	unix:*) set -- "$@" --unix-socket "${addr#unix:}" \
	    "http://localhost$c_health" ;;
	*) set -- "$@" "http://$addr$c_health" ;;
	esac
	code=$(curl "$@" 2>/dev/null)
	case $code in
	'' | 000) echo down ;;
	*) echo "$code" ;;
	esac
}

# inflight COLOR: bgdrain's count of its connections.
inflight() {
	out=$("$bin/bgdrain" -c -F -f "$conf" "$1" 2>&1 </dev/null) && { echo 0; return; }
	n=$(printf '%s\n' "$out" | sed -n 's/.* has \([0-9]*\) connection.*/\1/p')
	echo "${n:-?}"
}

check_app
drop_to_owner "$@"
conf log health host_header blue green
if [ "$form" = history ]; then
	[ -s "$c_log" ] || { say "no switch yet ($c_log is empty or missing)"; exit 0; }
	# a line that is in .bg-rollbacks was a rollback
	rb=$app/.bg-rollbacks
	[ -f "$rb" ] || rb=/dev/null
	exec awk 'FILENAME == ARGV[1] { rb[$0] = 1; next }
	    { print $0 (($0 in rb) ? " rollback" : "") }' "$rb" "$c_log"
fi
live=$("$bin/bgcolor" -t 5 -f "$conf" </dev/null) || live=
staging=- staged=
for c in blue green; do
	eval "addr=\$c_$c"
	eval "health_$c=\$(health) conns_$c=\$(inflight $c) rev_$c=\$(revision $c)"
	[ ! -e "$app/.bg-staging.$c" ] || staging=$c
	[ ! -e "$app/.bg-staged.$c" ] || staged=$staged${staged:+,}$c
done
last=$(tail -n 1 "$c_log" 2>/dev/null | cut -d' ' -f1)
if [ "$form" = row ]; then
	# shellcheck disable=SC2154 # set by the eval above
	echo "live=${live:-?} rev_blue=$rev_blue rev_green=$rev_green health_blue=$health_blue health_green=$health_green conns_blue=$conns_blue conns_green=$conns_green last=${last:--} staging=$staging staged=${staged:--}"
	exit 0
fi
printf '%-6s %-8s %-8s %-10s %s\n' COLOR ROLE HEALTH IN-FLIGHT REVISION
for c in blue green; do
	role=standby
	[ "$c" != "$live" ] || role=live
	[ -n "$live" ] || role='?'
	note=
	[ "$c" != "$staging" ] ||
	    note="  (being staged: switch refused until a deploy succeeds)"
	eval "h=\$health_$c n=\$conns_$c r=\$rev_$c"
	# shellcheck disable=SC2154 # h and r: set by the eval above
	printf '%-6s %-8s %-8s %-10s %s%s\n' "$c" "$role" "$h" "$n" "$r" "$note"
done
echo
if [ -s "$c_log" ]; then
	echo "last switches ($c_log):"
	tail -n 5 "$c_log"
else
	echo "no switch yet ($c_log)"
fi
