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
# served_color   what production's /bg says (blue or green).
# disk_color     what is live on disk: which of blue.conf/green.conf live.conf
#                is byte-equal to (reload), where $T/state/current points
#                (socket); "none" otherwise.

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

# no_temps: no temp file of bgflip's ($BG_TMP, *.bg.tmp*) is left in $T
no_temps() {
	local left

	left=$(find "$T" -name "$BG_TMP" -o -name '*.bg.tmp*')
	[ -z "$left" ] || { echo "temp files left: $left"; return 1; }
}
