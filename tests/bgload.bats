#!/usr/bin/env bats
# shellcheck disable=SC2154 # $stderr is set by run --separate-stderr
# The load client is the instrument behind every "0 failed" claim: it must
# count exactly, and count a lost request as lost.

load helpers/bg

setup() {
	bg_setup
	PORT=$(free_port)
	URL="http://127.0.0.1:$PORT/"
}

# kv KEY: the value of KEY in bgload's machine-readable line
kv() {
	local v

	v=$(sed -n "s/^bgload.* $1=\([^ ]*\).*/\1/p" <<<"$output")
	echo "$v"
}

# interrupt PID: SIGINT to a timed bgload (-d 60); it ends within 5 s, long
# before its time is up, and exits 0 with its line in $T/out, which is
# then in $output.
interrupt() {
	local st=0

	kill -INT "$1"
	wait_until 5 bg_gone "$1"
	wait "$1" || st=$?
	cat "$T/err"
	output=$(cat "$T/out")
	echo "$output"
	assert_equal "$st" 0
}

# answers_green URL: URL answers "green v2"
answers_green() {
	[ "$(curl -s "$1")" = "green v2" ]
}

# bats test_tags=sanitize
@test "bgload: counts every request against the app directly" {
	start_app blue blue v1 "127.0.0.1:$PORT"
	run --separate-stderr bgload -n 1000 -c 10 "$URL"
	echo "$output"
	assert_success
	assert_output --regexp '^bgload sent=1000 ok=1000 non2xx=0 connect_err=0 reset=0 timeout=0 failed=0 rps=[0-9]+ p50_ms=[0-9.]+ p99_ms=[0-9.]+ max_ms=[0-9.]+ switches=0 gap_med_ms=0.000 gap_max_ms=0.000 bodies=blue_v1:1000$'
	assert_regex "$stderr" 'sent 1000  ok 1000'
}

@test "bgload: keep-alive reuses connections, -C opens one per request" {
	# every 2nd connection is reset after its first request: one kept-alive
	# connection sees none, 10 fresh connections see 5
	start_app blue blue v1 "127.0.0.1:$PORT" --reset-every 2
	run --separate-stderr bgload -k -c 1 -n 10 "$URL"
	echo "$output"
	assert_equal "$(kv ok) $(kv reset)" "10 0"
	run --separate-stderr bgload -C -c 1 -n 10 "$URL"
	echo "$output"
	assert_equal "$(kv ok) $(kv reset) $(kv failed)" "5 5 5"
}

@test "bgload: counts resets exactly, never retries" {
	start_app blue blue v1 "127.0.0.1:$PORT" --reset-every 10
	run --separate-stderr bgload -C -n 100 -c 4 "$URL"
	echo "$output"
	assert_success
	assert_equal "$(kv sent) $(kv ok) $(kv reset) $(kv failed)" "100 90 10 10"
	# keep-alive: 20 first connections, the 10th and 20th are reset, their
	# replacements are the 21st and 22nd
	run --separate-stderr bgload -k -n 1000 -c 20 "$URL"
	echo "$output"
	assert_equal "$(kv sent) $(kv ok) $(kv reset) $(kv failed)" "1000 998 2 2"
}

# bats test_tags=sanitize
@test "bgload: POST mix with bodies keeps the connection in step" {
	start_app blue blue v1 "127.0.0.1:$PORT"
	run --separate-stderr bgload -n 1000 -c 10 -p 30 -b 5000 "$URL"
	echo "$output"
	echo "$stderr"
	assert_equal "$(kv sent) $(kv ok) $(kv failed)" "1000 1000 0"
	assert_regex "$stderr" '\(POST 300\)'
}

@test "bgload: counts refused connections, timeouts and non-2xx answers" {
	run --separate-stderr bgload -n 20 -c 4 "$URL"
	echo "$output"
	assert_success
	assert_equal "$(kv sent) $(kv connect_err) $(kv failed)" "20 20 20"
	start_app blue blue v1 "127.0.0.1:$PORT" --down-file "$T/down"
	touch "$T/down"
	run --separate-stderr bgload -n 50 -c 5 "${URL}up"
	echo "$output"
	assert_equal "$(kv ok) $(kv non2xx) $(kv failed)" "0 50 50"
	run --separate-stderr bgload -n 4 -c 4 -t 200 "${URL}?sleep=5000"
	echo "$output"
	assert_equal "$(kv sent) $(kv timeout) $(kv failed)" "4 4 4"
}

# bats test_tags=sanitize
@test "bgload: unix socket URL and a timeline" {
	start_app blue blue v1 "unix:$T/app.sock"
	run --separate-stderr bgload -n 500 -c 5 -T "$T/tl" "unix:$T/app.sock:/x"
	echo "$output"
	assert_equal "$(kv ok) $(kv failed) $(kv bodies)" "500 0 blue_v1:500"
	run awk '{ ok += $2; f += $3 } END { print ok, f }' "$T/tl"
	assert_output "500 0"
}

@test "bgload: SIGINT ends a timed run early with a full count" {
	start_app blue blue v1 "127.0.0.1:$PORT"
	bgload -d 60 -c 5 "${URL}?sleep=20" >"$T/out" 2>"$T/err" 3>&- &
	pid=$!
	bg_track "$pid" bgload
	sleep 1
	interrupt "$pid"
	assert [ "$(kv sent)" -gt 0 ]
	assert_equal "$(kv failed)" 0
	assert_equal "$(kv sent)" "$(kv ok)"
}

@test "bgload: 0 failed through a real nginx, keep-alive, close and -H" {
	start_app blue blue v1 "127.0.0.1:$PORT"
	NP=$(free_port)
	cat >"$T/site.conf" <<-EOF
	server {
		listen 127.0.0.1:$NP default_server;
		location / { proxy_pass http://127.0.0.1:$PORT; }
	}
	server {
		listen 127.0.0.1:$NP;
		server_name other.test;
		location / { return 200 "other v9\n"; }
	}
	EOF
	start_nginx "$T/site.conf"
	run --separate-stderr bgload -k -c 50 -d 1 "http://127.0.0.1:$NP/"
	echo "$output"
	assert [ "$(kv sent)" -gt 100 ]
	assert_equal "$(kv failed) $(kv switches)" "0 0"
	run --separate-stderr bgload -C -c 10 -n 500 "http://127.0.0.1:$NP/"
	echo "$output"
	assert_equal "$(kv ok) $(kv failed) $(kv bodies)" "500 0 blue_v1:500"
	run --separate-stderr bgload -H other.test -n 100 "http://127.0.0.1:$NP/"
	echo "$output"
	assert_equal "$(kv ok) $(kv bodies)" "100 other_v9:100"
}

@test "bgload: sees the answer switch when nginx flips upstreams" {
	start_app blue blue v1 "127.0.0.1:$PORT"
	GP=$(free_port)
	start_app green green v2 "127.0.0.1:$GP"
	NP=$(free_port)
	site() {
		cat >"$T/site.conf" <<-EOF
		server {
			listen 127.0.0.1:$NP;
			location / { proxy_pass http://127.0.0.1:$1; }
		}
		EOF
	}
	site "$PORT"
	start_nginx "$T/site.conf"
	bgload -C -c 4 -d 60 "http://127.0.0.1:$NP/" >"$T/out" 2>"$T/err" 3>&- &
	pid=$!
	bg_track "$pid" bgload
	sleep 1
	site "$GP"
	nginx_reload
	wait_until 5 answers_green "http://127.0.0.1:$NP/"
	sleep 0.5
	interrupt "$pid"
	assert_equal "$(kv failed)" 0
	assert [ "$(kv switches)" -ge 1 ]
	assert_regex "$(kv bodies)" '^blue_v1:.*,green_v2:'
}

@test "bgload: usage errors exit 2, an unusable timeline file exits 5" {
	run bgload -n 10 -d 1 "$URL"
	assert_failure 2
	run bgload -c 0 "$URL"
	assert_failure 2
	run bgload -c 10001 "$URL"
	assert_failure 2
	run bgload -n 10 "ftp://127.0.0.1/"
	assert_failure 2
	run bgload -n 10
	assert_failure 2
	run bgload -h
	assert_success
	assert_output --partial "usage: bgload [-Ck]"
	run bgload -n 10 -T "$T/no/such/dir/tl" "$URL"
	assert_failure 5
}
