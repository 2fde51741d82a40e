# tests/helpers/bg.bash - the one place that starts and stops what the bats
# tests need: the fixture app (tests/bin/bgapp) and a real nginx, on free loopback
# ports, in a scratch directory nginx's workers (user nobody) can reach.
#
#   load helpers/bg
#
# Loading it defines setup() as bg_setup and teardown() as bg_teardown; a
# test file that needs more defines its own and calls them there.
#
# API
#   bg_setup                 exports T (scratch dir, 0755), BG_ROOT, NGINX_BIN;
#                            puts $BG_ROOT/tools, tests/bin and tests/unit first on
#                            PATH; unsets BG_CONF.
#   bg_teardown              stops everything started through these helpers
#                            (TERM, up to 2 s, then KILL), even after failures.
#   bg_track PID [NAME]      have bg_teardown stop PID too (e.g. a background
#                            bgload or sshd the test started itself).
#   free_port                prints a free TCP port on 127.0.0.1.
#   bg_accepts HOST PORT     true when a TCP connect succeeds (the probe sends
#                            nothing).
#   wait_for_port HOST PORT [SECS]   until a TCP connect succeeds (default 5 s).
#   start_app NAME COLOR VERSION LISTEN [bgapp args]
#                            starts tests/bin/bgapp, waits until it listens; pid in
#                            $T/app-NAME.pid, stderr in $T/app-NAME.log, the
#                            address it listens on in $T/app-NAME.addr.
#   stop_app NAME [SECS]     SIGTERM, wait (default 10 s, then KILL); returns
#                            the app's exit status (0 after a clean drain).
#   start_nginx SNIPPET      writes $T/nginx/nginx.conf including SNIPPET (a
#                            file of server{}/upstream{} blocks), runs nginx -t
#                            (fails with nginx's message), starts nginx, waits
#                            for its pid file. Exports NGINX_PREFIX, NGINX_CONF,
#                            NGINX_PID (the pid FILE, like bg.conf's nginx_pid)
#                            and NGINX_MASTER (the master's pid number).
#   nginx_reload             nginx -t, then HUP; waits until a new generation
#                            of workers runs and every old worker is gone or
#                            "shutting down".
#   stop_nginx               TERM the master, then KILL it and its workers.
#   nginx_workers            worker pids, one per line (old generations too).
#   write_conf FILE k=v ...  writes a bg.conf: one "k = v" line per argument.
#   bg_alive PID [START]     true while PID runs (not a zombie).
#   bg_gone PID...           true when none of them runs.
#   bg_children PID          its child pids, one per line.
#   wait_until SECS CMD...   runs CMD every 0.1 s until it succeeds; fails
#                            naming CMD after SECS seconds.
#   strace_saw FILE ERE      strace -o FILE shows its -e inject hit.
#   in_flight ADDR N         exactly N connections in flight to ADDR.
#
# NGINX_BIN defaults to /usr/sbin/nginx and may be set by the caller.
# Processes started here keep no fd above 2: bats waits for its pipes.

# bats-support and bats-assert, sourced file by file: their load.bash forks a
# dirname per file, which costs seconds per test file on a busy machine.
# run --separate-stderr and friends need bats >= 1.5
if type bats_require_minimum_version >/dev/null 2>&1; then
	bats_require_minimum_version 1.5.0
fi

BG_MISSING=
if [ -f /usr/lib/bats/bats-support/load.bash ] &&
    [ -f /usr/lib/bats/bats-assert/load.bash ]; then
	for bg_f in /usr/lib/bats/bats-support/src/*.bash \
	    /usr/lib/bats/bats-assert/src/*.bash; do
		# shellcheck source=/dev/null
		source "$bg_f"
	done
	unset bg_f
else
	BG_MISSING="bats-support and bats-assert are not in /usr/lib/bats (Debian: apt-get install bats-support bats-assert)"
fi

# The hooks of a test file that needs nothing more; one that does defines
# its own after the load, calling bg_setup and bg_teardown.
setup() {
	bg_setup
}

teardown() {
	bg_teardown
}

bg_setup() {
	local d mode dirs up

	if [ -n "$BG_MISSING" ]; then
		echo "bg.bash: $BG_MISSING" >&2
		return 1
	fi
	BG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd) || return 1
	export BG_ROOT
	export PATH="$BG_ROOT/tools:$BG_ROOT/tests/bin:$BG_ROOT/tests/unit:$PATH"
	unset BG_CONF
	export NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
	export T="$BATS_TEST_TMPDIR/bg"
	mkdir -p "$T" || return 1
	# bats makes its directories 0700; nginx workers run as nobody and
	# must reach sockets and files in $T.
	d=$T
	dirs=()
	while [ "$d" != "$BATS_RUN_TMPDIR" ] && [ "${d#"$BATS_RUN_TMPDIR"/}" != "$d" ]; do
		dirs+=("$d")
		d=${d%/*}
	done
	chmod 0755 "${dirs[@]}" "$BATS_RUN_TMPDIR" || return 1
	up=()
	d=${BATS_RUN_TMPDIR%/*}
	while [ -n "$d" ]; do
		up+=("$d")
		d=${d%/*}
	done
	if [ "${#up[@]}" -gt 0 ]; then
		while read -r mode d; do
			if [ "$(( 0$mode & 1 ))" -eq 0 ]; then
				echo "bg.bash: $d is not searchable by others, so nginx workers cannot reach \$T; run with TMPDIR=/tmp" >&2
				return 1
			fi
		done < <(stat -c '%a %n' "${up[@]}")
	fi
	: >"$T/.bg-started"
}

# bg_close_fds: in a subshell about to start something long-lived, close
# every fd above 2. bats waits for its pipes (fd 3 and others) to close, so
# one inherited by a process that outlives its test hangs the whole run.
bg_close_fds() {
	local fd

	for fd in /proc/"$BASHPID"/fd/*; do
		fd=${fd##*/}
		[ "$fd" -le 2 ] || eval "exec $fd>&-" || true
	done 2>/dev/null
	return 0
}

# bg_start_time PID: when PID started (clock ticks after boot), so that a
# recorded pid reused by an unrelated process is never signalled.
bg_start_time() {
	local st f

	read -r st 2>/dev/null <"/proc/$1/stat" || return 1
	st=${st##*) }
	read -r -a f <<<"$st"
	echo "${f[19]}"
}

# bg_record KIND NAME PID: remember a process for bg_teardown.
bg_record() {
	echo "$1 $2 $3 $(bg_start_time "$3")" >>"$T/.bg-started"
}

bg_track() {
	bg_record pid "${2:-proc}" "$1"
}

# bg_alive PID [START]: true while PID runs (a zombie does not count) and,
# given START, is still the process that started then.
bg_alive() {
	local st f

	read -r st 2>/dev/null <"/proc/$1/stat" || return 1
	st=${st##*) }
	[ -n "$st" ] && [ "${st%% *}" != Z ] || return 1
	[ -z "${2:-}" ] && return 0
	read -r -a f <<<"$st"
	[ "${f[19]}" = "$2" ]
}

# bg_gone PID...: none of them runs (a zombie counts as gone).
bg_gone() {
	local p

	for p in "$@"; do
		! bg_alive "$p" || return 1
	done
}

# bg_stop_pids SECS PID...: TERM them, wait up to SECS, KILL what is left.
bg_stop_pids() {
	local secs=$1 p
	shift
	for p in "$@"; do
		! bg_alive "$p" || kill -TERM "$p" 2>/dev/null || true
	done
	wait_until "$secs" bg_gone "$@" 2>/dev/null || true
	for p in "$@"; do
		! bg_alive "$p" || kill -KILL "$p" 2>/dev/null || true
	done
	for p in "$@"; do
		wait "$p" 2>/dev/null || true
	done
	return 0
}

bg_teardown() {
	local kind name pid start pids=()

	[ -n "${T:-}" ] && [ -f "$T/.bg-started" ] || return 0
	while read -r kind name pid start; do
		bg_alive "$pid" "$start" || continue
		case $kind in
		nginx) bg_nginx_kill "$pid" ;;
		*) pids+=("$pid") ;;
		esac
	done <"$T/.bg-started"
	[ "${#pids[@]}" -gt 0 ] && bg_stop_pids 2 "${pids[@]}"
	: >"$T/.bg-started"
	return 0
}

free_port() {
	"${BG_ROOT:?bg_setup first}/tests/bin/bgapp" --free-port
}

# The probe connects and closes without sending a request.
bg_accepts() {
	local host=${1#[}

	(exec 5<>"/dev/tcp/${host%]}/$2") 2>/dev/null
}

wait_for_port() {
	wait_until "${3:-5}" bg_accepts "$1" "$2" 2>/dev/null && return 0
	echo "wait_for_port: nothing accepts on $1:$2" >&2
	return 1
}

start_app() {
	local name=$1 color=$2 version=$3 listen=$4 pid st
	shift 4

	rm -f "$T/app-$name.addr" "$T/app-$name.pid" "$T/app-$name.status"
	# The wrapper keeps the exit status in a file, so stop_app can report
	# it even when called through bats' run (a subshell cannot wait).
	(
		bg_close_fds
		"$BG_ROOT/tests/bin/bgapp" --listen "$listen" --color "$color" \
		    --version "$version" "$@" </dev/null \
		    >"$T/app-$name.addr" 2>"$T/app-$name.log" &
		echo "$!" >"$T/app-$name.pid"
		st=0
		wait "$!" || st=$?
		echo "$st" >"$T/app-$name.status"
	) &
	# bgapp prints its address once it listens (and its socket has its
	# mode): no probe connection, which --reset-every would count.
	st=0
	wait_until 5 bg_app_settled "$name" 2>/dev/null || st=$?
	# recorded for bg_teardown whatever came of it
	if [ -s "$T/app-$name.pid" ]; then
		pid=$(cat "$T/app-$name.pid")
		bg_record app "$name" "$pid"
	fi
	if [ -e "$T/app-$name.status" ]; then
		echo "start_app: bgapp $name exited $(cat "$T/app-$name.status"):" >&2
	elif [ "$st" -ne 0 ]; then
		echo "start_app: bgapp $name does not listen on $listen after 5 s" >&2
	else
		return 0
	fi
	cat "$T/app-$name.log" >&2
	return 1
}

# bg_app_settled NAME: the wrapper wrote bgapp's pid (under load bgapp may
# print its address first), and bgapp listens or has exited.
bg_app_settled() {
	[ -s "$T/app-$1.pid" ] &&
	    { [ -s "$T/app-$1.addr" ] || [ -e "$T/app-$1.status" ]; }
}

stop_app() {
	local name=$1 pid

	pid=$(cat "$T/app-$name.pid") || return 1
	# once it has exited its pid may belong to someone else: no signal
	[ -s "$T/app-$name.status" ] || kill -TERM "$pid" 2>/dev/null || true
	if ! wait_until "${2:-10}" test -s "$T/app-$name.status" 2>/dev/null; then
		echo "stop_app: bgapp $name still runs after SIGTERM; killing it" >&2
		kill -KILL "$pid" 2>/dev/null || true
		return 1
	fi
	return "$(cat "$T/app-$name.status")"
}

start_nginx() {
	local snippet=$1 out pid

	export NGINX_PREFIX="$T/nginx"
	export NGINX_CONF="$NGINX_PREFIX/nginx.conf"
	export NGINX_PID="$NGINX_PREFIX/nginx.pid"
	mkdir -p "$NGINX_PREFIX/tmp" || return 1
	chmod 0755 "$NGINX_PREFIX" "$NGINX_PREFIX/tmp"
	case $snippet in
	/*) ;;
	*) snippet="$PWD/$snippet" ;;
	esac
	cat >"$NGINX_CONF" <<EOF
worker_processes 2;
pid $NGINX_PID;
error_log $NGINX_PREFIX/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $NGINX_PREFIX/tmp/body;
	proxy_temp_path $NGINX_PREFIX/tmp/proxy;
	fastcgi_temp_path $NGINX_PREFIX/tmp/fastcgi;
	uwsgi_temp_path $NGINX_PREFIX/tmp/uwsgi;
	scgi_temp_path $NGINX_PREFIX/tmp/scgi;
	include $snippet;
}
EOF
	if ! out=$("$NGINX_BIN" -t -p "$NGINX_PREFIX/" -c "$NGINX_CONF" 2>&1); then
		echo "start_nginx: nginx -t rejects the config:" >&2
		echo "$out" >&2
		return 1
	fi
	# Without "daemon off" nginx binds, reports startup errors and
	# returns once the master has forked away.
	if ! out=$(bg_close_fds; exec "$NGINX_BIN" -p "$NGINX_PREFIX/" \
	    -c "$NGINX_CONF" </dev/null 2>&1); then
		echo "start_nginx: nginx failed to start:" >&2
		echo "$out" >&2
		cat "$NGINX_PREFIX/error.log" >&2 2>/dev/null
		return 1
	fi
	if wait_until 5 bg_pidfile_alive "$NGINX_PID" 2>/dev/null; then
		pid=$(cat "$NGINX_PID")
		export NGINX_MASTER=$pid
		bg_record nginx master "$pid"
		return 0
	fi
	echo "start_nginx: no nginx pid file after 5 s" >&2
	cat "$NGINX_PREFIX/error.log" >&2 2>/dev/null
	return 1
}

# bg_pidfile_alive FILE: FILE names a running process
bg_pidfile_alive() {
	local pid

	read -r pid 2>/dev/null <"$1" && [ -n "$pid" ] && bg_alive "$pid"
}

# bg_children PID: the pids whose parent is PID.
bg_children() {
	local s st
	local -a kids

	if [ -r "/proc/$1/task/$1/children" ]; then	# no fork: fast
		# no newline at its end, empty without children, gone when
		# PID ends: read's status says nothing here
		read -r -a kids <"/proc/$1/task/$1/children" 2>/dev/null || :
		[ "${#kids[@]}" -gt 0 ] && printf '%s\n' "${kids[@]}"
		return 0
	fi
	for s in /proc/[0-9]*/stat; do
		read -r st 2>/dev/null <"$s" || continue
		st=${st##*) }
		st=${st#* }
		[ "${st%% *}" = "$1" ] || continue
		s=${s#/proc/}
		echo "${s%/stat}"
	done
}

nginx_workers() {
	local m w c

	read -r m 2>/dev/null <"$NGINX_PID" || m=${NGINX_MASTER:?no nginx}
	for w in $(bg_children "$m"); do
		c=	# nginx rewrites its argv[0] into a title
		read -r -d '' c 2>/dev/null <"/proc/$w/cmdline" || true
		case $c in
		*"worker process"*) echo "$w" ;;
		esac
	done
}

nginx_reload() {
	local out old

	if ! out=$("$NGINX_BIN" -t -p "$NGINX_PREFIX/" -c "$NGINX_CONF" 2>&1); then
		echo "nginx_reload: nginx -t rejects the config:" >&2
		echo "$out" >&2
		return 1
	fi
	old=" $(nginx_workers | tr '\n' ' ') "
	if ! out=$("$NGINX_BIN" -p "$NGINX_PREFIX/" -c "$NGINX_CONF" \
	    -s reload 2>&1 3>&-); then
		echo "nginx_reload: $out" >&2
		return 1
	fi
	wait_until 5 bg_new_generation "$old" 2>/dev/null && return 0
	echo "nginx_reload: no new generation of workers after 5 s" >&2
	tail -n 5 "$NGINX_PREFIX/error.log" >&2 2>/dev/null
	return 1
}

# bg_new_generation " PID ... ": a worker runs that is not listed, and
# every listed one still running is shutting down.
bg_new_generation() {
	local w c fresh=1

	for w in $(nginx_workers); do
		case $1 in
		*" $w "*)
			c=
			read -r -d '' c 2>/dev/null <"/proc/$w/cmdline" || true
			case $c in
			*"shutting down"*) ;;
			*) return 1 ;;
			esac
			;;
		*) fresh=0 ;;
		esac
	done
	return "$fresh"
}

# bg_nginx_kill MASTER: TERM the master (fast shutdown), then KILL it and
# every worker left.
bg_nginx_kill() {
	local -a kids

	mapfile -t kids < <(bg_children "$1")
	bg_stop_pids 2 "$1" "${kids[@]}"
}

stop_nginx() {
	local m

	read -r m 2>/dev/null <"$NGINX_PID" || m=${NGINX_MASTER:-}
	[ -n "$m" ] && bg_alive "$m" || return 0
	bg_nginx_kill "$m"
}

write_conf() {
	local file=$1 kv
	shift

	: >"$file" || return 1
	for kv in "$@"; do
		case $kv in
		*=*) printf '%s = %s\n' "${kv%%=*}" "${kv#*=}" >>"$file" ;;
		*) echo "write_conf: $kv is not key=value" >&2; return 1 ;;
		esac
	done
}

# wait_until SECS CMD...: run CMD every 0.1 s until it succeeds (return 0)
# or SECS whole seconds have passed (return 1, with a message naming CMD).
wait_until() {
	local secs=$1 end
	shift

	case $secs in
	'' | *[!0-9]*)
		echo "wait_until: $secs: not a whole number of seconds" >&2
		return 2 ;;
	esac
	end=$(( ${EPOCHREALTIME/[.,]/} + secs * 1000000 ))
	until "$@"; do
		if [ "${EPOCHREALTIME/[.,]/}" -ge "$end" ]; then
			echo "wait_until: still not true after $secs s: $*" >&2
			return 1
		fi
		sleep 0.1
	done
}

# strace_saw FILE ERE: strace's output FILE (-o FILE) has a line matching
# ERE, the evidence that an -e inject hit: "(INJECTED)" for error=,
# "(DELAYED)" for delay_enter= and delay_exit=, "^--- SIGTERM .*SI_KERNEL"
# for signal=TERM, "^\+\+\+ killed by SIGKILL" for signal=KILL. A signal
# the program holds blocked until it exits never shows arriving: add
# delay_exit=1 to the same inject, and the call it was sent at is the one
# marked "(DELAYED)". Prints FILE when it has not.
strace_saw() {
	grep -qE -- "$2" "$1" && return 0
	echo "strace_saw: no line matches '$2' in $1:"
	cat "$1"
	return 1
}

# in_flight ADDR N: exactly N connections in flight to ADDR (a bg.conf
# address: HOST:PORT, [IPv6]:PORT or unix:/path), counted alike through
# netlink and /proc/net by tests/unit/unit_proc -n; for wait_until.
in_flight() {
	local c

	c=$(unit_proc -n "$1") && [ "$c" = "$2" ]
}
