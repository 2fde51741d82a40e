# tests/helpers/port.bash - a port-mode bg site in $T, for tests/port.bats
# and the benchmark. Call it only inside a private network namespace
# (unshare -n, loopback up): bgflip there creates an nft table.
#
#   load helpers/bg
#   load helpers/scene	# scene_port, disk_color, prod_answer, ...
#   load helpers/port
#
# port_scene [6]
#   blue (v1) and green (v2) on free loopback ports, nginx on two more
#   (production and staging, a site written here: production proxies to
#   live_addr, staging to staging_addr, /bg is STATE/current/color, as in
#   nginx/socket.conf), live_addr and staging_addr two ports nobody
#   listens on, and $T/bg.conf (mode = port). No state yet. With 6, every
#   address is [::1] (nginx itself still listens on 127.0.0.1).
#   Exports BG_CONF, SCENE_MODE=port, SITE, PROD_URL, STAGING_URL,
#   BLUE_ADDR, GREEN_ADDR, LIVE_ADDR, STAGING_ADDR. Extra bg.conf lines:
#   PORT_CONF_EXTRA=(key=value ...).
# port_live [6]
#   port_scene, then `bgflip blue` (the table, its map, the state) and an
#   empty history.
# map_says
#   the color the nft map sends live_addr to, or "none".
#
# Until nginx/ has a port-mode template this site is the tests' own.

# port_site FILE: the nginx site of a port-mode server (no upstream
# keepalive, no open_file_cache on /bg, as in nginx/socket.conf).
port_site() {
	cat >"$1" <<EOF
server {
	listen 127.0.0.1:$SCENE_PROD;
	location = /bg {
		default_type text/plain;
		add_header Cache-Control "no-store" always;
		if_modified_since off;
		etag off;
		alias $T/state/current/color;
	}
	location / {
		proxy_pass http://$LIVE_ADDR;
		proxy_connect_timeout 5s;
	}
}
server {
	listen 127.0.0.1:$SCENE_STAGING;
	location / {
		proxy_pass http://$STAGING_ADDR;
		proxy_connect_timeout 5s;
	}
}
EOF
}

port_scene() {
	local d lo=127.0.0.1 b g l s

	export SCENE_MODE=port SITE="$T/nginx-site"
	d=("$T/app" "$T/app/blue" "$T/app/green" "$T/run" "$T/log" \
	    "$T/state" "$T/hooks" "$SITE")
	mkdir -p "${d[@]}" && chmod 0755 "${d[@]}" || return 1
	echo v1 >"$T/app/blue/REVISION"
	echo v2 >"$T/app/green/REVISION"
	# shellcheck disable=SC2034 # scene_port (helpers/scene) reads it
	SCENE_USED=
	scene_port SCENE_PROD && scene_port SCENE_STAGING && scene_port b &&
	    scene_port g && scene_port l && scene_port s || return 1
	if [ "${1:-4}" = 6 ]; then
		lo='[::1]'
	fi
	export BLUE_ADDR="$lo:$b" GREEN_ADDR="$lo:$g"
	export LIVE_ADDR="$lo:$l" STAGING_ADDR="$lo:$s"
	start_app blue blue v1 "$BLUE_ADDR" --down-file "$T/down-blue" &&
	    start_app green green v2 "$GREEN_ADDR" \
	    --down-file "$T/down-green" || return 1
	port_site "$SITE/port.conf" && chmod 0644 "$SITE/port.conf" &&
	    start_nginx "$SITE/port.conf" || return 1
	export PROD_URL="http://127.0.0.1:$SCENE_PROD"
	export STAGING_URL="http://127.0.0.1:$SCENE_STAGING"
	write_conf "$T/bg.conf" mode=port url="$PROD_URL/bg" \
	    blue="$BLUE_ADDR" green="$GREEN_ADDR" live_addr="$LIVE_ADDR" \
	    staging_addr="$STAGING_ADDR" health=/up app="$T/app" \
	    lock="$T/run/lock" log="$T/log/bg.log" state="$T/state" \
	    hooks="$T/hooks" ${PORT_CONF_EXTRA[@]+"${PORT_CONF_EXTRA[@]}"} ||
	    return 1
	chmod 0644 "$T/bg.conf"
	export BG_CONF="$T/bg.conf"
}

port_live() {
	port_scene "$@" || return 1
	"$BG_ROOT/tools/bgflip" blue >/dev/null 2>"$T/first.err" || {
		cat "$T/first.err"
		return 1
	}
	: >"$T/log/bg.log"
}

# map_says: what the nft map sends live_addr to ("none" when nothing).
map_says() {
	local m key

	m=$(nft list map inet bg colors 2>/dev/null) || { echo none; return; }
	m=$(tr -s ' \t\n' ' ' <<<"$m")
	key="${LIVE_ADDR%:*} . ${LIVE_ADDR##*:}"
	key=${key#[}
	key=${key/] / }
	case $m in
	*"$key : goto blue"*) echo blue ;;
	*"$key : goto green"*) echo green ;;
	*) echo none ;;
	esac
}
