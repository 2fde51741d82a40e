# tests/helpers/ws.bash - tests/bin/bgws, the long-lived client, and its
# counts as shell variables. Needs helpers/bg (bg_setup before use).
#
#   ws ARGS...        runs bgws ARGS, prints its line, sets W_NAME=VALUE for
#                     each count NAME (W_ws_open, W_ws_clean, W_events, ...);
#                     returns bgws's status.
#   ws_bg ARGS...     bgws ARGS in the background (stdout in $T/ws.out,
#                     stderr in $T/ws.err), pid in WS_PID, stopped by
#                     bg_teardown.
#   ws_wait           waits for it (bounded by its own -d), prints its stderr
#                     and line, sets W_ as ws does; returns bgws's status.

# ws_counts STATUS: print bgws's line $W_LINE with STATUS, set W_NAME for
# each NAME=VALUE on it; return STATUS.
ws_counts() {
	local kv v

	for v in "${!W_@}"; do	# no count left from an earlier run
		[ "$v" = W_LINE ] || unset "$v"
	done
	echo "bgws: exit $1: ${W_LINE:-}"
	for kv in ${W_LINE#bgws }; do
		printf -v "W_${kv%%=*}" '%s' "${kv#*=}"
	done
	return "$1"
}

ws() {
	local st=0

	echo "bgws $*"
	W_LINE=$("$BG_ROOT/tests/bin/bgws" "$@") || st=$?
	ws_counts "$st"
}

ws_bg() {
	"$BG_ROOT/tests/bin/bgws" "$@" >"$T/ws.out" 2>"$T/ws.err" 3>&- &
	WS_PID=$!
	bg_track "$WS_PID" bgws
}

ws_wait() {
	local st=0

	wait "$WS_PID" || st=$?
	cat "$T/ws.err"
	W_LINE=$(cat "$T/ws.out")
	ws_counts "$st"
}
