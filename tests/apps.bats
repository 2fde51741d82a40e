#!/usr/bin/env bats
# A real app behind bg: WebSockets and event streams through every mode's
# template (real nginx, the fixture app's /ws and /sse, tests/bin/bgws), the
# idle timeout, TLS with HTTP/2, /bg for loopback only, the app's own nginx
# files, and long-lived connections across make switch and make rollback
# (linger, bgstage -r, the retire hook) while tests/bin/bgload counts every
# HTTP request. Counts only.

load helpers/bg
load helpers/scene
load helpers/deploy
load helpers/ws

# mk ARGS: make on this machine (HOST=local) into the scene.
mk() {
	make -C "$BG_ROOT" --no-print-directory HOST=local SUDO= \
	    APP="$T/app" BG_CONF="$T/bg.conf" BG_BIN="$BG_ROOT/tools" \
	    APP_SRC="$T/src" PRE_DEPLOY="$T/no-pre-deploy" "$@"
}

# site MODE: a scene with the pipeline's hooks (helpers/deploy) and a
# retire hook that logs, then restarts the color as restart does.
site() {
	scene "$1"
	: >"$T/run/lock"
	chmod 0644 "$T/run/lock"
	write_hooks
	# shellcheck disable=SC2016 # $1 is the hook's
	printf '#!/bin/sh\necho "retire $1" >>%s/hooks.log\nexec %s/hooks/restart "$1"\n' \
	    "$T" "$T" >"$T/hooks/retire"
	chmod 0755 "$T/hooks/retire"
}

# long_lived MODE: the basic promises through MODE's template.
long_lived() {
	# unbuffered: streams the app ends by closing (not chunked) are what
	# a buffering nginx holds back; 20 events of 100 ms must come through
	# (a client of their own, meanwhile)
	ws_bg -r -s 2 -e 100 -d 2 "$PROD_URL/"
	# production is blue: 2 WebSockets echo, 2 streams get events every
	# 100 ms; nothing ends during the 2 s
	ws -w 2 -s 2 -e 100 -d 2 "$PROD_URL/"
	assert_equal "$W_ws_open $W_echo $W_sse_open $W_blue $W_green" "2 2 2 4 0"
	assert_equal "$W_ws_eof $W_ws_reset $W_sse_eof $W_sse_reset $W_refused" "0 0 0 0 0"
	assert [ "$W_events" -ge 10 ]
	ws_wait
	assert_equal "$W_sse_open $W_sse_eof $W_sse_reset" "2 0 0"
	assert [ "$W_events" -ge 10 ]
	ws -w 1 -s 1 -e 100 -d 1 "$STAGING_URL/"
	assert_equal "$W_ws_open $W_sse_open $W_green $W_blue" "1 1 2 0"
}

@test "apps: WebSocket and event stream through the reload-mode template, unbuffered" {
	scene reload
	long_lived
}

@test "apps: WebSocket and event stream through the socket-mode template, unbuffered" {
	scene socket
	long_lived
}

@test "apps: WebSocket and event stream through the port-mode template (proxying only)" {
	local p s g

	# The port-mode flip engine (nft) is not here: live_addr and
	# staging_addr are the instances themselves, and STATE/current/color
	# is written by hand, which is what the template reads.
	p=$(free_port) s=$(free_port) b=$(free_port) g=$(free_port)
	start_app blue blue v1 "127.0.0.1:$b"
	start_app green green v2 "127.0.0.1:$g"
	mkdir -p "$T/state/blue" "$T/app-nginx" && chmod -R 0755 "$T/state"
	echo blue >"$T/state/blue/color"
	ln -s blue "$T/state/current"
	"$BG_ROOT/nginx/fill" "$BG_ROOT/nginx/port.conf" LISTEN="127.0.0.1:$p" \
	    STAGING_LISTEN="127.0.0.1:$s" SERVER_NAME=localhost STATE="$T/state" \
	    LIVE_ADDR="127.0.0.1:$b" STAGING_ADDR="127.0.0.1:$g" \
	    APP_NGINX="$T/app-nginx" >"$T/port.conf"
	chmod 0644 "$T/port.conf"
	start_nginx "$T/port.conf"
	PROD_URL=http://127.0.0.1:$p STAGING_URL=http://127.0.0.1:$s
	run curl -sf "$PROD_URL/bg"
	assert_output blue
	long_lived
}

@test "apps: IDLE_TIMEOUT: an idle WebSocket survives 1 s of a 2 s timeout and is cut after it; default an hour" {
	run "$BG_ROOT/nginx/fill" "$BG_ROOT/nginx/blue.conf" LISTEN=80 \
	    STAGING_LISTEN=127.0.0.1:8081 SERVER_NAME=x BLUE=127.0.0.1:1 \
	    GREEN=127.0.0.1:2
	assert_success
	assert_line --partial "proxy_read_timeout 3600s;"
	# 1 s of margin on each side: the cut comes at 2 s, within the 3 s
	# run, and the reconnected one could be cut at 4 s at the earliest
	SCENE_FILL=(IDLE_TIMEOUT=2s)
	scene socket
	ws -w 1 -d 1 "$PROD_URL/"
	assert_equal "$W_ws_open $W_echo $W_ws_eof $W_ws_reset" "1 1 0 0"
	# two clients at once: the idle one is cut by nginx, without a close
	# frame, after 2 s, then reconnected; pings keep the other open past
	# the timeout
	ws_bg -w 1 -d 3 "$PROD_URL/"
	ws -w 1 -p 500 -d 3 "$PROD_URL/"
	assert_equal "$W_ws_eof $W_ws_open" "0 1"
	ws_wait
	assert_equal "$W_ws_eof $W_ws_clean $W_ws_open" "1 0 2"
}

@test "apps: TLS with HTTP/2, HTTP redirects to HTTPS, /bg only for loopback, a switch works" {
	local tp

	openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost \
	    -days 2 -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
	tp=$(free_port)
	SCENE_FILL=(TLS_CERT="$T/cert.pem" TLS_KEY="$T/key.pem"
	    TLS_LISTEN="127.0.0.1:$tp")
	scene reload
	run curl -sS -k --http2 -w '%{http_code} %{http_version}\n' \
	    "https://127.0.0.1:$tp/"
	assert_output "blue v1
200 2"
	run curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' \
	    "$PROD_URL/some/page?x=1"
	assert_output "301 https://127.0.0.1/some/page?x=1"
	# /bg: loopback yes, 127.0.0.2 (standing for the public) no, on
	# plain HTTP and on TLS alike
	run curl -sS "$PROD_URL/bg"
	assert_output blue
	run curl -sS -o /dev/null -w '%{http_code}' --interface 127.0.0.2 "$PROD_URL/bg"
	assert_output 403
	run curl -sS -k -o /dev/null -w '%{http_code}' --interface 127.0.0.2 \
	    "https://127.0.0.1:$tp/bg"
	assert_output 403
	run curl -sS -k --interface 127.0.0.2 "https://127.0.0.1:$tp/"
	assert_output "blue v1"
	# bgflip still reads /bg over plain HTTP
	run bgflip
	assert_success
	assert_output green
	run curl -sS -k --http2 "https://127.0.0.1:$tp/"
	assert_output "green v2"
}

@test "apps: BG_ALLOW opens /bg to a listed address" {
	# shellcheck disable=SC2034 # read by helpers/scene
	SCENE_FILL=(BG_ALLOW=127.0.0.2)
	scene socket
	run curl -sS --interface 127.0.0.2 "$PROD_URL/bg"
	assert_output blue
	run curl -sS -o /dev/null -w '%{http_code}' --interface 127.0.0.3 "$PROD_URL/bg"
	assert_output 403
}

@test "apps: the app's own nginx file is served and survives deploy, switch and rollback" {
	local sum

	# written before the scene starts nginx, as make init would find it
	mkdir -p "$T/app-nginx"
	cat >"$T/app-nginx/app.conf" <<'EOF'
client_max_body_size 20m;
location /hello/ {
	add_header X-App hello always;
	return 200 "hello\n";
}
location /api/ {
	add_header X-App api always;
	proxy_pass http://$bg_app;
}
EOF
	sum=$(md5sum "$T/app-nginx/app.conf")
	site reload
	make_src "$T/src" v3
	check() {
		run curl -sS -i "$PROD_URL/hello/"
		assert_line --partial "X-App: hello"
		assert_line hello
		run curl -sS -i "$PROD_URL/api/x"
		assert_line --partial "X-App: api"
		assert_line "$1"
		run curl -sS "$STAGING_URL/api/x"
		assert_output "$2"
		assert_equal "$(md5sum "$T/app-nginx/app.conf")" "$sum"
	}
	check "blue v1" "green v2"
	run mk deploy
	echo "$output"
	assert_success
	check "blue v1" "green v3"
	run mk switch
	echo "$output"
	assert_success
	check "green v3" "blue v1"
	run mk rollback
	echo "$output"
	assert_success
	check "blue v1" "green v3"
}

@test "bgstage -r: runs retire, not restart, on a color with connections; refuses the live one; linger = off needs -F" {
	local hold

	SCENE_CONF_EXTRA=(linger=off)
	site socket
	# a WebSocket held on green (the standby) through staging
	ws_bg -w 1 -d 30 "$STAGING_URL/"
	wait_until 5 in_flight "$GREEN_ADDR" 1
	run bgstage green
	assert_failure 1
	assert_output --partial "in flight"
	run bgstage -r green
	assert_failure 1
	assert_output --partial "linger = off"
	run bgstage -rF blue
	assert_failure 1
	assert_output --partial "blue is live: refusing to retire it"
	run bgstage -r -i green
	assert_failure 2
	: >"$T/app/.bg-staging.green"
	run bgstage -rF green
	assert_failure 1
	assert_output --partial "being staged"
	rm "$T/app/.bg-staging.green"
	: >"$T/hooks.log"
	run --separate-stderr bgstage -rF green
	echo "$stderr"
	assert_success
	assert_output green
	run cat "$T/hooks.log"
	assert_output "retire green
restart green"
	hold=$(cat "$T/app-green.pid")
	assert [ -n "$hold" ]
	kill -TERM "$WS_PID"
	wait_until 5 bg_gone "$WS_PID"	# the signal ended it, not its -d 30
	ws_wait
	# the WebSocket was closed cleanly by the retired instance and came
	# back (to the new green instance, through staging)
	assert_equal "$W_ws_clean $W_ws_eof $W_ws_reset" "1 0 0"
	assert_equal "$W_ws_open" 2
}

# across MODE LOADFLAGS: 50 WebSockets + 50 event streams and HTTP load
# through a deploy, a switch, an immediate deploy, a switch, a rollback
# and an immediate deploy: every long-lived client is closed cleanly and
# is on the new color within linger + 2 s, no request fails, every make
# exits 0.
across() {
	local mode=$1 loadflags=$2 linger=1 round to t0 rev=3 st

	# shellcheck disable=SC2034 # read by helpers/scene
	SCENE_CONF_EXTRA=("linger=$linger" timeout=20)
	site "$mode"
	make_src "$T/src" v3
	run mk deploy
	echo "$output"
	assert_success
	bgload "$loadflags" -c 10 -d 120 "$PROD_URL/" >"$T/load.out" \
	    2>"$T/load.err" 3>&- &
	LOAD=$!
	bg_track "$LOAD" bgload
	for round in switch:green deploy switch:blue rollback:green deploy; do
		if [ "$round" = deploy ]; then
			rev=$((rev + 1))
			make_src "$T/src" "v$rev"
			run mk deploy
			echo "$output"
			assert_success
			continue
		fi
		to=${round#*:}
		t0=$(( $(date +%s%3N) + 1500 ))
		ws_bg -w 50 -s 50 -e 200 -u "$to" -x \
		    -D $((t0 + (linger + 2) * 1000)) -d 30 "$PROD_URL/"
		sleep 1.5
		run mk "${round%:*}"
		echo "$output"
		assert_success
		ws_wait
		cat "$T/hooks.log"
		tail -n 3 "$T"/app-*.log
		assert_equal "$W_ws_open $W_sse_open" "$((50 + W_ws_clean)) $((50 + W_sse_clean))"
		assert_equal "$W_ws_clean $W_sse_clean" "50 50"
		assert_equal "$W_ws_eof $W_ws_reset $W_sse_eof $W_sse_reset" "0 0 0 0"
		assert_equal "$W_on_target $W_late" "100 0"
	done
	kill -TERM "$LOAD"
	wait_until 5 bg_gone "$LOAD"	# the signal ended it, not its -d 120
	st=0
	wait "$LOAD" || st=$?
	cat "$T/load.err"
	assert_equal "$st" 0
	run cat "$T/load.out"
	echo "$output"
	assert_output --partial ' failed=0 '
	refute_output --partial ' sent=0 '
}

@test "apps: reload mode: 50 WebSockets + 50 streams across switch and rollback, each closed cleanly and moved in linger + 2 s, 0 requests failed" {
	# Connection: close clients: keep-alive ones can lose a request to
	# an old worker closing its idle connections (bench measures that)
	across reload -C
}

@test "apps: socket mode: 50 WebSockets + 50 streams across switch and rollback, each closed cleanly and moved in linger + 2 s, 0 requests failed" {
	across socket -k
}

@test "nginx/fill: refuses what would end a directive, names what is missing, TLS needs both halves" {
	local f=$BG_ROOT/nginx/fill t=$BG_ROOT/nginx/socket.conf

	run "$f" "$t" LISTEN=80 STAGING_LISTEN=127.0.0.1:8081 SERVER_NAME=x \
	    STATE=/var/lib/bg
	assert_success
	refute_output --partial '@'
	run "$f" "$t" LISTEN='80; include /etc/shadow' STAGING_LISTEN=1 \
	    SERVER_NAME=x STATE=/s
	assert_failure 2
	assert_output --partial "LISTEN: a value may not hold"
	run "$f" "$t" LISTEN=80 STAGING_LISTEN=127.0.0.1:8081 SERVER_NAME=x
	assert_failure 4
	assert_output --partial "no value for STATE"
	run "$f" "$t" LISTEN=80 STAGING_LISTEN=127.0.0.1:8081 SERVER_NAME=x \
	    STATE=/s TLS_CERT=/c
	assert_failure 2
	assert_output --partial "set both or neither"
	run "$f" "$t" LISTEN=80 STAGING_LISTEN=127.0.0.1:8081 SERVER_NAME=x \
	    STATE=/s IDLE_TIMEOUT=forever
	assert_failure 2
	run "$f" "$t" LISTEN=80 STAGING_LISTEN=127.0.0.1:8081 SERVER_NAME=x \
	    STATE=/s BG_ALLOW='10.0.0.1 deny'
	assert_failure 2
	# the reload pair: byte for byte swaps of each other once filled
	run "$f" "$BG_ROOT/nginx/blue.conf" LISTEN=80 STAGING_LISTEN=1 SERVER_NAME=x
	assert_success
	echo "$output" >"$T/b.conf"
	"$f" "$BG_ROOT/nginx/green.conf" LISTEN=80 STAGING_LISTEN=1 \
	    SERVER_NAME=x >"$T/g.conf"
	"$BG_ROOT/tools/bgswapconf" "$T/b.conf" | cmp - "$T/g.conf"
}
