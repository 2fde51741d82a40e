#!/usr/bin/env bats
# The fixture app itself: every other test leans on what it promises.

load helpers/bg
load helpers/ws

setup() {
	bg_setup
	PORT=$(free_port)
	URL="http://127.0.0.1:$PORT"
}

# established PORT: server-side ESTABLISHED connections on 127.0.0.1:PORT
established() {
	ss -Htn state established "( sport = :$1 )" | wc -l
}

# at_least_established PORT N: N connections or more are in
at_least_established() {
	[ "$(established "$1")" -ge "$2" ]
}

# wait_established PORT N: until N connections are in (bounded, 5 s)
wait_established() {
	wait_until 5 at_least_established "$1" "$2"
}

# kill_app NAME: SIGKILL to app NAME, which dies of it (status 128 + 9)
kill_app() {
	kill -KILL "$(cat "$T/app-$1.pid")"
	wait_until 5 test -s "$T/app-$1.status"
	assert_equal "$(cat "$T/app-$1.status")" 137
}

# bats test_tags=sanitize
@test "bgapp: answers its color and version on any path" {
	start_app blue blue v1 "127.0.0.1:$PORT"
	run curl -sf "$URL/"
	assert_success
	assert_output "blue v1"
	run curl -sf "$URL/some/path?x=1"
	assert_output "blue v1"
	run curl -sf -I "$URL/"
	assert_line --partial "Content-Length: 8"
}

@test "bgapp: prints the address it listens on, IPv4 and IPv6" {
	start_app a blue v1 "127.0.0.1:$PORT"
	run cat "$T/app-a.addr"
	assert_output "127.0.0.1:$PORT"
	P6=$(free_port)
	start_app b green v2 "[::1]:$P6"
	run cat "$T/app-b.addr"
	assert_output "[::1]:$P6"
	run curl -sfg "http://[::1]:$P6/"
	assert_output "green v2"
}

@test "bgapp: /up answers 200, then 503 while the down file exists" {
	start_app blue blue v1 "127.0.0.1:$PORT" --down-file "$T/down"
	run curl -s -w '%{http_code}' "$URL/up"
	assert_output $'ok\n200'
	touch "$T/down"
	run curl -s -w '%{http_code}' "$URL/up"
	assert_output $'down\n503'
	run curl -s -w '%{http_code}' "$URL/"
	assert_output $'blue v1\n200'
	rm "$T/down"
	run curl -s -w '%{http_code}' "$URL/up?x=1"
	assert_output $'ok\n200'
}

@test "bgapp: ?sleep holds a request without blocking the others" {
	start_app blue blue v1 "127.0.0.1:$PORT"
	curl -s -o "$T/slow" "$URL/x?sleep=2000" 3>&- &
	slow=$!
	wait_established "$PORT" 1
	run curl -s -m 2 "$URL/fast"
	assert_output "blue v1"
	# the slow one is still held while the fast one has its answer
	assert [ ! -s "$T/slow" ]
	assert bg_alive "$slow"
	wait "$slow"
	run cat "$T/slow"
	assert_output "blue v1"
}

# bats test_tags=sanitize
@test "bgapp: POST reads the body and answers like GET" {
	start_app blue blue v1 "127.0.0.1:$PORT"
	head -c 100000 /dev/zero | tr '\0' x >"$T/body"
	run curl -s -w '%{http_code} %{num_connects}\n' \
	    --data-binary @"$T/body" "$URL/a" "$URL/b"
	echo "$output"
	assert_output $'blue v1\n200 1\nblue v1\n200 0'
}

# bats test_tags=sanitize
@test "bgapp: keeps HTTP/1.1 connections alive, closes on request" {
	start_app blue blue v1 "127.0.0.1:$PORT"
	run curl -s -w '%{num_connects}\n' -o /dev/null "$URL/a" -o /dev/null "$URL/b"
	assert_output $'1\n0'
	run curl -s -w '%{num_connects}\n' -H 'Connection: close' \
	    -o /dev/null "$URL/a" -o /dev/null "$URL/b"
	assert_output $'1\n1'
	run curl -s -0 -w '%{num_connects}\n' -o /dev/null "$URL/a" \
	    -o /dev/null "$URL/b"
	assert_output $'1\n1'
}

# bats test_tags=sanitize
@test "bgapp: refuses an oversized request head and keeps serving" {
	start_app blue blue v1 "127.0.0.1:$PORT"
	big=$(head -c 20000 /dev/zero | tr '\0' a)
	run curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $big" "$URL/"
	echo "$output"
	assert_output --regexp '^(400|000)$'	# 400, or reset mid-send
	run curl -s "$URL/"
	assert_output "blue v1"
}

# bats test_tags=sanitize
@test "bgapp: SIGTERM finishes an in-flight request, closes idle ones, exits 0" {
	start_app blue blue v1 "127.0.0.1:$PORT"
	# an idle keep-alive connection: one request answered, then quiet
	exec 5<>"/dev/tcp/127.0.0.1/$PORT"
	printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' >&5
	read -r -t 5 status <&5
	assert_regex "$status" '^HTTP/1\.1 200 OK'
	curl -s -o "$T/slow" -w '%{http_code}' "$URL/x?sleep=1500" >"$T/code" 3>&- &
	slow=$!
	wait_established "$PORT" 2
	run stop_app blue
	assert_success
	wait "$slow"
	run cat "$T/slow" "$T/code"
	assert_output "blue v1
200"
	# the idle one was closed by the app: EOF after the rest of the reply
	run timeout 5 cat <&5
	assert_success
	exec 5<&-
	run curl -s "$URL/"
	assert_failure 7	# nothing listens any more
}

# bats test_tags=sanitize
@test "bgapp: unix socket with --sock-mode, removed on exit" {
	start_app blue blue v1 "unix:$T/blue.sock" --sock-mode 0666
	run stat -c %a "$T/blue.sock"
	assert_output 666
	run curl -s --unix-socket "$T/blue.sock" http://x/
	assert_output "blue v1"
	run stop_app blue
	assert_success
	assert [ ! -e "$T/blue.sock" ]
	start_app green green v2 "unix:$T/green.sock"
	run stat -c %a "$T/green.sock"
	assert_output 660
}

@test "bgapp: replaces a stale socket, refuses a live one" {
	start_app blue blue v1 "unix:$T/app.sock"
	run "$BG_ROOT/tests/bin/bgapp" --listen "unix:$T/app.sock" --color green --version v2
	assert_failure 5
	assert_output --partial "another server listens there"
	kill_app blue
	assert [ -S "$T/app.sock" ]
	start_app green green v2 "unix:$T/app.sock"
	run curl -s --unix-socket "$T/app.sock" http://x/
	assert_output "green v2"
}

@test "bgapp: --reset-every resets exactly every Nth connection" {
	start_app blue blue v1 "127.0.0.1:$PORT" --reset-every 3
	codes=
	for _ in 1 2 3 4 5 6; do
		curl -s -o /dev/null "$URL/" && codes="${codes}o" || codes="${codes}r"
	done
	assert_equal "$codes" "ooroor"
}

@test "bgapp: usage errors exit 2, --free-port prints a port" {
	run "$BG_ROOT/tests/bin/bgapp" --listen 127.0.0.1:1 --color blue
	assert_failure 2
	run "$BG_ROOT/tests/bin/bgapp" --listen nonsense --color blue --version v1
	assert_failure 2
	run "$BG_ROOT/tests/bin/bgapp" --free-port
	assert_success
	assert_output --regexp '^[0-9]+$'
}

@test "bgapp: /ws answers the RFC 6455 handshake (the RFC's own key) and names its color first" {
	start_app blue blue v1 "127.0.0.1:$PORT"
	# curl does the handshake, then waits on the open socket until
	# --max-time (exit 28): what came back is the 101 and the first frame
	run curl -sS -i --http1.1 --max-time 1 -H 'Upgrade: websocket' \
	    -H 'Connection: Upgrade' -H 'Sec-WebSocket-Version: 13' \
	    -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "$URL/ws"
	assert_failure 28
	assert_line --partial "HTTP/1.1 101 Switching Protocols"
	assert_line --partial "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
	assert_output --partial "blue v1"
	# no upgrade: a plain 400
	run curl -sS -o /dev/null -w '%{http_code}' "$URL/ws"
	assert_output 400
}

@test "bgapp: /sse sends events naming its color, chunked or plain" {
	start_app green green v2 "127.0.0.1:$PORT"
	run curl -sS -i --max-time 1 "$URL/sse?every=100"
	assert_failure 28
	assert_line --partial "Content-Type: text/event-stream"
	assert_line --partial "Transfer-Encoding: chunked"
	assert_line "data: green v2"
	run curl -sS -i --max-time 1 "$URL/sse?every=100&plain=1"
	assert_failure 28
	assert_line --partial "Connection: close"
	refute_line --partial "Transfer-Encoding"
	assert [ "$(grep -c '^data: green v2' <<<"$output")" -ge 5 ]
}

@test "bgapp: SIGTERM closes WebSockets with 1001 and ends event streams cleanly, exit 0" {
	start_app blue blue v1 "127.0.0.1:$PORT"
	ws_bg -w 5 -s 5 -e 100 -d 3 "$URL/"
	wait_established "$PORT" 10
	run stop_app blue
	assert_success
	ws_wait
	assert_equal "$W_ws_open $W_ws_clean $W_ws_eof $W_ws_reset" "5 5 0 0"
	assert_equal "$W_sse_open $W_sse_clean $W_sse_eof $W_sse_reset" "5 5 0 0"
}

@test "bgapp: SIGKILL is what an unclean end looks like to bgws (counted as cut, not clean)" {
	start_app blue blue v1 "127.0.0.1:$PORT"
	ws_bg -w 3 -s 3 -e 100 -d 2 "$URL/"
	wait_established "$PORT" 6
	kill_app blue
	ws_wait
	assert_equal "$W_ws_clean $W_sse_clean" "0 0"
	assert_equal "$((W_ws_eof + W_ws_reset)) $((W_sse_eof + W_sse_reset))" "3 3"
	assert [ "$W_refused" -gt 0 ]
}
