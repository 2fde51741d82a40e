# tests/helpers/scene.bash - a whole bg site in $T, for the tests of bgflip
# and of what runs on top of it: two fixture instances, real nginx running
# the repo's own templates, and a bg.conf pointing at all of it.
#
#   load helpers/bg
#   load helpers/scene
#   setup()    { bg_setup; scene reload; }	# or: scene socket
#   teardown() { bg_teardown; }
#
# scene reload|socket
#   Starts blue (version v1) and green (v2) with start_app, renders the
#   repo's nginx templates into $T/nginx-site/, starts nginx on two free
#   loopback ports (production and staging) and writes $T/bg.conf.
#     reload: TCP instances; nginx-site/ holds upstreams.conf (included
#             once), blue.conf, green.conf (bgswapconf of blue.conf) and
#             live.conf, a copy of blue.conf.
#     socket: instances on unix sockets in $T/sock (or SCENE_SOCK);
#             nginx-site/socket.conf;
#             `bgflip blue` is run once to create $T/state (views and
#             current).
#   Blue is live afterwards. Exports:
#     BG_CONF      $T/bg.conf (mode, url, staging_url, blue, green, health,
#                  app, lock, log, nginx*, live/blue/green_conf, state,
#                  hooks)
#     SCENE_MODE   reload or socket
#     SITE         $T/nginx-site
#     PROD_URL     http://127.0.0.1:PORT   (production server)
#     STAGING_URL  http://127.0.0.1:PORT   (staging server)
#     BLUE_ADDR, GREEN_ADDR   bg.conf's blue and green values
#   Directories: $T/app/{blue,green} (with REVISION v1 and v2), $T/run (the
#   lock and the crash record), $T/log (bg.log), $T/state, $T/hooks; all
#   root-owned 0755, so they pass bgflip's checks as root.
#   Health: `touch $T/down-green` makes green's /up answer 503 (bgapp
#   --down-file), removing it makes green healthy again.
#   Extra bg.conf lines: set SCENE_CONF_EXTRA=(key=value ...) before scene.
#   nginx listens on SCENE_ADDR (default 127.0.0.1), e.g. 127.0.0.2 for
#   the second host of helpers/fleet.
#
# Unix sockets: nginx's workers run as nobody and need write permission on
# an instance socket to connect. Rather than make the sockets 0666 (any
# local user could then talk to the app, bypassing nginx), $T/sock is a
# setgid directory (2750) of the workers' group and the instances create
# their sockets 0660 in it, so every socket (also one recreated by a
# restart) belongs to that group and nobody else can even reach it. The same
# recipe is in nginx/socket.conf for production (group www-data there).
#
# prod_answer [PATH] / staging_answer [PATH]
#   print what production / staging answer through nginx ("blue v1"), on a
#   fresh connection; status other than 200 is a failure.
# answers COLOR  production answers with COLOR's instance, staging with the
#                other's (asserted).
# served_color   what production's /bg says (blue or green).
# disk_color     what is live on disk: which of blue.conf/green.conf live.conf
#                is byte-equal to (reload), where $T/state/current points
#                (socket); "none" otherwise.
#
# bgload_start ARGS... / bgload_flips N / bgload_stop / bgload_lost_nothing N [MIN]
#   tests/bin/bgload ARGS against production in the background while
#   bgflip runs N times back to back; then its summary line, and the
#   assertions that no request was lost (helpers below).
# bgflip_inject SYSCALL:N ACTION [ARGS]
#   one bgflip under strace with ACTION (error=EIO, signal=KILL, ...)
#   injected at its Nth SYSCALL; exit status in INJECT_ST.
# flip_whole     no crash record, the disk wholly one color, nginx serves it.
# master_killed FLIP ERE   SIGKILL nginx's master under a held bgflip: exit 7.
# signal_each SIG CHECK STEP...
#   SIG at each step of a bgflip: it dies of it before the lock, and
#   finishes the flip from the lock on (asserted); CHECK after each.

# The group nginx's workers run as when the master is root and nginx.conf
# has no "user" line: nginx's compiled-in default, nobody's group here.
scene_worker_group() {
	id -gn nobody
}

# scene_render TEMPLATE OUT: nginx/fill, as make init runs it, with the
# scene's addresses, the app's own nginx files in $T/app-nginx (empty
# unless a test puts a *.conf there) and SCENE_FILL=(NAME=VALUE ...), e.g.
# TLS_CERT=... TLS_KEY=... TLS_LISTEN=127.0.0.1:PORT IDLE_TIMEOUT=3s.
scene_render() {
	local src=$1 dst=$2

	"$BG_ROOT/nginx/fill" "$src" \
	    LISTEN="${SCENE_ADDR:-127.0.0.1}:$SCENE_PROD" \
	    STAGING_LISTEN="${SCENE_ADDR:-127.0.0.1}:$SCENE_STAGING" \
	    SERVER_NAME=localhost STATE="$T/state" \
	    BLUE="$BLUE_ADDR" GREEN="$GREEN_ADDR" \
	    APP_NGINX="$T/app-nginx" ACME_ROOT="$T/acme" \
	    ${SCENE_FILL[@]+"${SCENE_FILL[@]}"} >"$dst"
}

# scene_port VAR: a free port into VAR, none of those handed out before in
# this scene (free_port can hand out the same port twice, and an instance
# listening on nginx's port makes nginx fail to start).
scene_port() {
	local p

	while p=$(free_port) || return 1; [[ " $SCENE_USED " == *" $p "* ]]; do
		:
	done
	SCENE_USED="$SCENE_USED $p"
	printf -v "$1" '%s' "$p"
}

scene() {
	local mode=$1 d=() site out extra=() sock

	case $mode in
	reload|socket) ;;
	*) echo "scene: reload or socket, not $mode" >&2; return 1 ;;
	esac
	export SCENE_MODE=$mode
	site="$T/nginx-site"
	export SITE=$site
	d=("$T/app" "$T/app/blue" "$T/app/green" "$T/run" "$T/log" \
	    "$T/state" "$T/hooks" "$site" "$T/app-nginx" "$T/acme")
	mkdir -p "${d[@]}" && chmod 0755 "${d[@]}" || return 1
	echo v1 >"$T/app/blue/REVISION"
	echo v2 >"$T/app/green/REVISION"
	SCENE_USED=
	scene_port SCENE_PROD && scene_port SCENE_STAGING || return 1
	if [ "$mode" = reload ]; then
		scene_port BLUE_ADDR && scene_port GREEN_ADDR || return 1
		BLUE_ADDR=127.0.0.1:$BLUE_ADDR GREEN_ADDR=127.0.0.1:$GREEN_ADDR
		export BLUE_ADDR GREEN_ADDR
		start_app blue blue v1 "$BLUE_ADDR" --down-file "$T/down-blue" ||
		    return 1
		start_app green green v2 "$GREEN_ADDR" \
		    --down-file "$T/down-green" || return 1
		scene_render "$BG_ROOT/nginx/upstreams.conf" "$site/upstreams.conf"
		scene_render "$BG_ROOT/nginx/blue.conf" "$site/blue.conf" &&
		    scene_render "$BG_ROOT/nginx/green.conf" "$site/green.conf" ||
		    return 1
		cp "$site/blue.conf" "$site/live.conf"
		printf 'include %s;\ninclude %s;\n' "$site/upstreams.conf" \
		    "$site/live.conf" >"$site/site.conf"
	else
		sock=${SCENE_SOCK:-$T/sock}
		mkdir -p "$sock" || return 1
		chgrp "$(scene_worker_group)" "$sock" && chmod 2750 "$sock" ||
		    return 1
		export BLUE_ADDR="unix:$sock/blue.sock"
		export GREEN_ADDR="unix:$sock/green.sock"
		start_app blue blue v1 "$BLUE_ADDR" --sock-mode 0660 \
		    --down-file "$T/down-blue" || return 1
		start_app green green v2 "$GREEN_ADDR" --sock-mode 0660 \
		    --down-file "$T/down-green" || return 1
		scene_render "$BG_ROOT/nginx/socket.conf" "$site/socket.conf"
		printf 'include %s;\n' "$site/socket.conf" >"$site/site.conf"
	fi
	chmod 0644 "$site"/*.conf
	# nginx only checks the instance sockets when it connects, so it can
	# start before the socket-mode state exists.
	start_nginx "$site/site.conf" || return 1
	export PROD_URL="http://${SCENE_ADDR:-127.0.0.1}:$SCENE_PROD"
	export STAGING_URL="http://${SCENE_ADDR:-127.0.0.1}:$SCENE_STAGING"
	[ "$mode" = reload ] && extra=(live_conf="$site/live.conf" \
	    blue_conf="$site/blue.conf" green_conf="$site/green.conf")
	write_conf "$T/bg.conf" mode="$mode" url="$PROD_URL/bg" \
	    staging_url="$STAGING_URL/" \
	    blue="$BLUE_ADDR" green="$GREEN_ADDR" health=/up app="$T/app" \
	    lock="$T/run/lock" log="$T/log/bg.log" nginx="$NGINX_BIN" \
	    nginx_prefix="$NGINX_PREFIX" nginx_conf="$NGINX_CONF" \
	    nginx_pid="$NGINX_PID" state="$T/state" hooks="$T/hooks" \
	    "${extra[@]}" ${SCENE_CONF_EXTRA[@]+"${SCENE_CONF_EXTRA[@]}"} ||
	    return 1
	chmod 0644 "$T/bg.conf"
	export BG_CONF="$T/bg.conf"
	if [ "$mode" = socket ]; then
		out=$("$BG_ROOT/tools/bgflip" blue 2>&1) || {
			echo "scene: bgflip blue failed: $out" >&2
			return 1
		}
	fi
	: >"$T/log/bg.log"
	chmod 0644 "$T/log/bg.log"
}

scene_get() {
	curl -sS --fail --max-time 5 -H 'Connection: close' "$1"
}

prod_answer() {
	scene_get "$PROD_URL${1:-/}"
}

staging_answer() {
	scene_get "$STAGING_URL${1:-/}"
}

answers() {
	local p s

	p=$(prod_answer /)
	s=$(staging_answer /)
	echo "production: $p, staging: $s"
	if [ "$1" = blue ]; then
		assert_equal "$p:$s" "blue v1:green v2"
	else
		assert_equal "$p:$s" "green v2:blue v1"
	fi
}

served_color() {
	scene_get "$PROD_URL/bg"
}

disk_color() {
	local t

	if [ "$SCENE_MODE" = reload ]; then
		if cmp -s "$SITE/live.conf" "$SITE/blue.conf"; then
			echo blue
		elif cmp -s "$SITE/live.conf" "$SITE/green.conf"; then
			echo green
		else
			echo none
		fi
	else
		t=$(readlink "$T/state/current" 2>/dev/null)
		case $t in
		blue|green) echo "$t" ;;
		*) echo none ;;
		esac
	fi
}

# the temp name bgflip writes a file under before renaming it into place
BG_TMP=.bg.tmp

# flip_whole: no flip is half done: the disk is wholly one color, nginx
# serves it, and no crash record is left.
flip_whole() {
	local d s

	d=$(disk_color)
	s=$(served_color)
	echo "disk $d, nginx serves $s"
	assert_regex "$d" '^(blue|green)$'
	assert_equal "$s" "$d"
	assert [ ! -e "$T/run/lock.flip" ]
}

# master_killed FLIP ERE: SIGKILL the nginx master while bgflip, under
# strace -o $T/strace as background job FLIP (its output in $T/out), is
# held by an inject; strace shows the held call (ERE), the master is
# gone, and bgflip exits 7.
master_killed() {
	local st=0

	kill -KILL "$NGINX_MASTER"
	wait "$1" || st=$?
	cat "$T/out"
	strace_saw "$T/strace" "$2"
	refute bg_alive "$NGINX_MASTER"	# the SIGKILL took
	assert_equal "$st" 7
}

# no_temps: no temp file of bgflip's ($BG_TMP, *.bg.tmp*) is left in $T
no_temps() {
	assert_equal "$(find "$T" -name "$BG_TMP" -o -name '*.bg.tmp*')" ""
}

# bgload_start ARGS...: bgload ARGS against production in the background,
# bounded by -d 120 (the flips take well under that); its key=value line
# in $T/load.out, its table in $T/load.err.
bgload_start() {
	bgload "$@" -d 120 "$PROD_URL/" >"$T/load.out" 2>"$T/load.err" 3>&- &
	LOAD=$!
	bg_track "$LOAD" bgload
	# let every client connect and get answers before the first flip
	sleep 0.5
}

# bgload_flips N: bgflip N times, back to back; FLIPS_OK counts exit 0.
bgload_flips() {
	local i out

	FLIPS_OK=0
	for i in $(seq "$1"); do
		if out=$(bgflip 2>&1); then
			FLIPS_OK=$((FLIPS_OK + 1))
		else
			echo "flip $i: exit $?: $out"
		fi
	done
	echo "flips: $FLIPS_OK of $1 succeeded"
}

# bgload_stop: end bgload (SIGTERM: it stops sending, finishes what is in
# flight and reports), print what it saw, and set LOAD_ALIVE (1 when it
# still ran), LOAD_ST (its exit status), LOAD_LINE and its summary's KEY=N
# as L_sent, L_ok, ...
# shellcheck disable=SC2034 # the tests read L_reset, L_timeout, ...
bgload_stop() {
	local kv

	# empty until the summary says: a missing key fails an assert_equal
	L_sent='' L_ok='' L_failed='' L_non2xx='' L_reset='' L_connect_err=''
	L_timeout='' L_switches='' L_gap_med_ms=- L_gap_max_ms=- L_bodies=''
	LOAD_ALIVE=0
	if bg_alive "$LOAD"; then
		LOAD_ALIVE=1
		kill -TERM "$LOAD"
	fi
	LOAD_ST=0
	wait "$LOAD" || LOAD_ST=$?
	cat "$T/load.err"
	LOAD_LINE=$(grep '^bgload ' "$T/load.out")
	echo "$LOAD_LINE"
	for kv in ${LOAD_LINE#bgload }; do
		case $kv in
		bodies=*) L_bodies=${kv#bodies=} ;;
		*=*) printf -v "L_${kv%%=*}" '%s' "${kv#*=}" ;;
		esac
	done
}

# bgload_only_instances: every 2xx answer was "blue v1" or "green v2",
# both were seen, and they add up to every request answered.
bgload_only_instances() {
	local all b n sum=0 blue=0 green=0

	IFS=, read -r -a all <<<"$L_bodies"
	for b in "${all[@]}"; do
		n=${b##*:}
		case ${b%:*} in
		blue_v1) blue=$n ;;
		green_v2) green=$n ;;
		*) fail "an answer from neither instance: $b" ;;
		esac
		sum=$((sum + n))
	done
	echo "blue v1: $blue, green v2: $green, ok: $L_ok"
	assert [ "$blue" -gt 0 ]
	assert [ "$green" -gt 0 ]
	assert_equal "$sum" "$L_ok"
}

# bgload_lost_nothing N [MIN]: the N flips all succeeded under a load
# that ran through them, each wrote its history line, every request sent
# came back 2xx from an instance, and the answers changed sides at least
# MIN times (default N/2: one switch per two flips).
bgload_lost_nothing() {
	echo "last old answer to first new one, ms: median $L_gap_med_ms, max $L_gap_max_ms (not asserted; negative: both answered at once)"
	assert_equal "$LOAD_ALIVE" 1
	assert_equal "$LOAD_ST" 0	# SIGTERM ended it cleanly, with its report
	assert_equal "$FLIPS_OK" "$1"
	assert_equal "$(wc -l <"$T/log/bg.log")" "$1"
	assert [ "$L_sent" -gt 0 ]
	assert_equal "$L_failed" 0
	assert_equal "$L_non2xx" 0
	assert_equal "$L_ok" "$L_sent"
	bgload_only_instances
	assert [ "$L_switches" -ge "${2:-$(($1 / 2))}" ]
}

# bgflip_inject SYSCALL:N ACTION [ARGS]: bgflip ARGS under strace, ACTION
# (error=EIO, signal=KILL, delay_exit=..., joined by ":") injected at its
# Nth SYSCALL (only among the calls on INJECT_PATH, when set). strace's
# lines in $T/strace, bgflip's output in $T/out and $T/err, its exit
# status in INJECT_ST (128+N when a signal ended it).
bgflip_inject() {
	local sys=${1%:*} n=${1##*:} action=$2
	shift 2

	INJECT_ST=0
	strace -o "$T/strace" ${INJECT_PATH:+-P "$INJECT_PATH"} \
	    -e trace="$sys" -e inject="$sys:$action:when=$n" bgflip "$@" \
	    >"$T/out" 2>"$T/err" 3>&- || INJECT_ST=$?
}

# signal_each SIG CHECK STEP...: SIG sent to bgflip at each SYSCALL:N,
# and strace shows the call it was sent at (delay_exit=1 marks it). At a
# step written dies:SYSCALL:N, before the lock, bgflip must die of it
# (exit 128+SIG, strace shows it arrive) with production unchanged; from
# the lock on the signal waits and the flip must finish (exit 0,
# production moved). CHECK runs after each: never a half state.
signal_each() {
	local sig=$1 check=$2 step before dies
	shift 2

	for step in "$@"; do
		dies=0
		case $step in
		dies:*) dies=1 step=${step#dies:} ;;
		esac
		before=$(served_color)
		bgflip_inject "$step" "signal=$sig:delay_exit=1"
		echo "SIG$sig at $step: exit $INJECT_ST: $(tr '\n' ' ' <"$T/err")"
		strace_saw "$T/strace" "^${step%:*}\\(.*\\(DELAYED\\)\$"
		"$check"
		if [ "$dies" -eq 1 ]; then
			assert_equal "$INJECT_ST" "$((128 + $(kill -l "$sig")))"
			strace_saw "$T/strace" "^--- SIG$sig .*SI_KERNEL"
			assert_equal "$(served_color)" "$before"
		else
			assert_equal "$INJECT_ST" 0
			assert_not_equal "$(served_color)" "$before"
		fi
	done
}
