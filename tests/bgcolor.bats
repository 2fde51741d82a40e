#!/usr/bin/env bats
# bgcolor against a real nginx, and against tests/bin/httpsrv for the replies
# nginx would never send (chunked /bg, bare LF, silence, a dribble).

bats_require_minimum_version 1.5.0
load helpers/bg

# nginx on a free port ($NPORT) and on $T/nginx.sock: blue.test (the default
# server) says blue, green.test says green; other routes misbehave.
nginx_bg() {
	NPORT=$(free_port)
	mkdir -p "$T/www"
	truncate -s 64M "$T/www/big"
	cat >"$T/site.conf" <<EOF
server {
	listen 127.0.0.1:$NPORT default_server;
	listen unix:$T/nginx.sock default_server;
	server_name blue.test;
	location = /bg { return 200 "blue\n"; }
	location = /crlf { return 200 "blue\r\n"; }
	location = /moved { return 301 /bg; }
	location = /missing { return 404; }
	location = /broken { return 500; }
	location = /upper { return 200 "BLUE"; }
	location = /two { return 200 "blue green\n"; }
	location = /empty { return 200 ""; }
	location = /big { alias $T/www/big; }
}
server {
	listen 127.0.0.1:$NPORT;
	listen unix:$T/nginx.sock;
	server_name green.test;
	location = /bg { return 200 "green\n"; }
}
EOF
	start_nginx "$T/site.conf"
	URL=http://127.0.0.1:$NPORT
}

# start_srv NAME HTTPSRV-ARGS...: tests/bin/httpsrv on a free port, URL in $SRV.
start_srv() {
	local name=$1 port
	shift

	port=$(free_port)
	httpsrv --listen "127.0.0.1:$port" --lifetime 30 "$@" \
	    </dev/null >"$T/srv-$name.addr" 2>"$T/srv-$name.log" 3>&- &
	bg_track $! "httpsrv-$name"
	wait_until 5 test -s "$T/srv-$name.addr" ||
	    { cat "$T/srv-$name.log"; return 1; }
	SRV=http://127.0.0.1:$port/bg
}

# srv_reply NAME BYTES: httpsrv sending the printf-format BYTES.
srv_reply() {
	# shellcheck disable=SC2059 # $2 is the format, on purpose
	printf "$2" >"$T/$1.reply"
	start_srv "$1" --reply "$T/$1.reply"
}

# fails CODE REGEX CMD...: exits CODE with nothing on stdout and exactly one
# line on stderr, matching REGEX.
fails() {
	local code=$1 re=$2
	shift 2

	run --separate-stderr "$@"
	echo "status: $status"
	echo "stdout: $output"
	echo "stderr: $stderr"
	assert_failure "$code"
	refute_output
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" "$re"
}

# bats test_tags=sanitize
@test "bgcolor: prints the live color from nginx, exactly blue and a newline" {
	nginx_bg
	bgcolor -u "$URL/bg" >"$T/out" 2>"$T/err"
	printf 'blue\n' | cmp - "$T/out"
	assert [ ! -s "$T/err" ]
}

@test "bgcolor: -s prints the standby color" {
	nginx_bg
	run --separate-stderr bgcolor -s -u "$URL/bg"
	assert_success
	assert_output green
	run --separate-stderr bgcolor -u "$URL/bg" -s -t 0.5
	assert_success
	assert_output green
}

@test "bgcolor: accepts blue with CRLF" {
	nginx_bg
	run --separate-stderr bgcolor -u "$URL/crlf"
	assert_success
	assert_output blue
}

@test "bgcolor: reads url from the config given by -f, or by BG_CONF" {
	nginx_bg
	write_conf "$T/bg.conf" "url=$URL/bg"
	run --separate-stderr bgcolor -f "$T/bg.conf"
	assert_success
	assert_output blue
	BG_CONF=$T/bg.conf run --separate-stderr bgcolor -s
	assert_success
	assert_output green
}

@test "bgcolor: sends the config's host_header as the Host header" {
	nginx_bg
	# same port, two server_names: only the Host header picks green
	write_conf "$T/bg.conf" "url=$URL/bg" "host_header=green.test"
	run --separate-stderr bgcolor -f "$T/bg.conf"
	assert_success
	assert_output green
	write_conf "$T/bg.conf" "url=$URL/bg" "host_header=blue.test"
	run --separate-stderr bgcolor -f "$T/bg.conf"
	assert_output blue
	# and the request on the wire
	printf 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nblue\n' >"$T/host.reply"
	start_srv log --reply "$T/host.reply" --log "$T/req.log"
	write_conf "$T/bg.conf" "url=$SRV" "host_header=example.com"
	run bgcolor -f "$T/bg.conf"
	assert_success
	cat -A "$T/req.log"
	printf 'GET /bg HTTP/1.1\r\nHost: example.com\r\nUser-Agent: bg\r\nConnection: close\r\n\r\n' |
	    cmp - "$T/req.log"
}

@test "bgcolor: with -u the config is not read, so no host_header" {
	nginx_bg
	write_conf "$T/bg.conf" "url=$URL/bg" "host_header=green.test"
	run --separate-stderr bgcolor -f "$T/bg.conf" -u "$URL/bg"
	assert_success
	assert_output blue
	# not even a broken or missing one
	echo garbage >"$T/broken.conf"
	run --separate-stderr bgcolor -f "$T/broken.conf" -u "$URL/bg"
	assert_success
	run --separate-stderr bgcolor -f "$T/none.conf" -u "$URL/bg"
	assert_success
}

# bats test_tags=sanitize
@test "bgcolor: unix: URL to nginx listening on a unix socket" {
	nginx_bg
	run --separate-stderr bgcolor -u "unix:$T/nginx.sock:/bg"
	assert_success
	assert_output blue
	write_conf "$T/bg.conf" "url=unix:$T/nginx.sock:/bg" \
	    "host_header=green.test"
	run --separate-stderr bgcolor -f "$T/bg.conf"
	assert_success
	assert_output green
}

# bats test_tags=sanitize
@test "bgcolor: IPv6 URL" {
	[ -e /proc/net/if_inet6 ] || skip "no IPv6"
	NPORT=$(free_port)
	cat >"$T/site.conf" <<EOF
server { listen [::1]:$NPORT; location = /bg { return 200 "green\n"; } }
EOF
	start_nginx "$T/site.conf"
	run --separate-stderr bgcolor -u "http://[::1]:$NPORT/bg"
	assert_success
	assert_output green
}

@test "bgcolor: connection refused is exit 5, one line" {
	port=$(free_port)
	fails 5 "^bgcolor: cannot connect to 127\.0\.0\.1:$port: Connection refused$" \
	    bgcolor -u "http://127.0.0.1:$port/bg"
	fails 5 "^bgcolor: cannot connect to unix:$T/none.sock: No such file" \
	    bgcolor -u "unix:$T/none.sock:/bg"
}

@test "bgcolor: a server that accepts and says nothing is exit 3 at the deadline" {
	start_srv silent --silent
	fails 3 "^bgcolor: no reply from 127\.0\.0\.1:[0-9]+ within [0-9.]+s$" \
	    bgcolor -t 1 -u "$SRV"
}

# bats test_tags=sanitize
@test "bgcolor: a server that dribbles bytes forever is exit 3 at the deadline" {
	start_srv dribble --dribble
	fails 3 "^bgcolor: incomplete reply from 127\.0\.0\.1:[0-9]+ within [0-9.]+s \([0-9]+ bytes\)$" \
	    bgcolor -t 1 -u "$SRV"
}

# bats test_tags=sanitize
@test "bgcolor: a 64 MB body is exit 5 without reading it all" {
	nginx_bg
	fails 5 "^bgcolor: bad reply from 127\.0\.0\.1:$NPORT: reply over 65536 bytes \(Content-Length: 67108864\)$" \
	    bgcolor -u "$URL/big"
	for len in "" --nolen; do
		start_srv "big$len" --big 67108864 $len
		fails 5 "^bgcolor: bad reply from 127\.0\.0\.1:[0-9]+: reply over 65536 bytes" \
		    bgcolor -u "$SRV"
		# the server counts what it could send before bgcolor hung up
		wait_until 5 grep -q 'sent' "$T/srv-big$len.log"
		cat "$T/srv-big$len.log"
		sent=$(sed -n 's/.*sent \([0-9]*\) bytes/\1/p' "$T/srv-big$len.log")
		assert [ "$sent" -lt 67108864 ]
	done
}

@test "bgcolor: 301, 404 and 500 are exit 5 naming the status" {
	nginx_bg
	for s in moved:301 missing:404 broken:500; do
		fails 5 "^bgcolor: http://127\.0\.0\.1:$NPORT/${s%:*} answered ${s#*:} with \"<html>" \
		    bgcolor -u "$URL/${s%:*}"
	done
}

# bats test_tags=sanitize
@test "bgcolor: a 200 that is not exactly a color is exit 5 quoting it" {
	nginx_bg
	fails 5 "^bgcolor: http://127\.0\.0\.1:$NPORT/upper answered 200 with \"BLUE\", not a color$" \
	    bgcolor -u "$URL/upper"
	fails 5 "answered 200 with \"blue green\\\\n\", not a color$" \
	    bgcolor -u "$URL/two"
	fails 5 "answered 200 with an empty body, not a color$" \
	    bgcolor -u "$URL/empty"
	srv_reply esc 'HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n\033[2Jab'
	fails 5 'answered 200 with "\\x1b\[2Jab", not a color$' \
	    bgcolor -u "$SRV"
	srv_reply twonl 'HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nblue\n\n'
	fails 5 'with "blue\\n\\n", not a color$' bgcolor -u "$SRV"
}

@test "bgcolor: chunked encoding is exit 5" {
	srv_reply chunked 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nblue\n\r\n0\r\n\r\n'
	fails 5 "^bgcolor: bad reply from 127\.0\.0\.1:[0-9]+: chunked encoding not supported$" \
	    bgcolor -u "$SRV"
}

@test "bgcolor: a bare LF status line is exit 5" {
	srv_reply lf 'HTTP/1.1 200 OK\nContent-Length: 5\n\nblue\n'
	fails 5 'bad reply from 127\.0\.0\.1:[0-9]+: malformed status line "HTTP/1\.1 200 OK\\n" \(bare LF\)$' \
	    bgcolor -u "$SRV"
}

@test "bgcolor: a reply with no length ends at EOF" {
	srv_reply eof 'HTTP/1.0 200 OK\r\n\r\ngreen\n'
	run --separate-stderr bgcolor -u "$SRV"
	assert_success
	assert_output green
	srv_reply cut 'HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\ngre'
	fails 5 "reply cut short: 3 of 6 body bytes$" bgcolor -u "$SRV"
	srv_reply none ''
	fails 5 "connection closed without a reply$" bgcolor -u "$SRV"
}

@test "bgcolor: a malformed -u URL or -t is exit 2" {
	for u in https://127.0.0.1/bg http://127.0.0.1 'http://a/b c' \
	    http://u@a/bg 'http://a/b#f' http://a:0/bg unix:rel.sock:/bg \
	    "unix:$T/s.sock" ftp://a/bg ''; do
		fails 2 "^bgcolor: malformed URL " bgcolor -u "$u"
	done
	for t in 0 -1 abc 1.2345 3601 ''; do
		run --separate-stderr bgcolor -t "$t" -u http://a/bg
		assert_failure 2
		assert_equal "${stderr_lines[0]}" "bgcolor: -t \"$t\": expected seconds, like 30 or 2.5, more than 0 and at most 3600"
	done
}

@test "bgcolor: a missing config is exit 4" {
	fails 4 "^bgcolor: (cannot open )?config $T/none\.conf: No such file" \
	    bgcolor -f "$T/none.conf"
	BG_CONF=$T/none.conf fails 4 "none\.conf" bgcolor
}

# bats test_tags=sanitize
@test "bgcolor: a broken config is exit 4 naming it" {
	echo "url http://127.0.0.1/bg" >"$T/bg.conf"
	fails 4 "bg\.conf:1" bgcolor -f "$T/bg.conf"
	write_conf "$T/bg.conf" "url=https://127.0.0.1/bg"
	fails 4 "bg\.conf:1" bgcolor -f "$T/bg.conf"
	write_conf "$T/bg.conf" "host_header=a.test"
	fails 4 "url" bgcolor -f "$T/bg.conf"
	write_conf "$T/bg.conf" "url=http://127.0.0.1/bg" "frobnicate=1"
	fails 4 "bg\.conf:2" bgcolor -f "$T/bg.conf"
}

@test "bgcolor: -h prints usage on stdout, a bad flag or operand is exit 2" {
	run --separate-stderr bgcolor -h
	assert_success
	assert_output "usage: bgcolor [-s] [-f conf] [-t secs] [-u url]
       bgcolor [-f conf] -k key[,key...]
       bgcolor -V"
	assert [ -z "$stderr" ]
	run --separate-stderr bgcolor --help
	assert_success
	for args in -x "-u http://a/bg blue" -t -f; do
		# shellcheck disable=SC2086 # split into arguments on purpose
		run --separate-stderr bgcolor $args
		echo "$args: $status $stderr"
		assert_failure 2
		refute_output
		assert_regex "$stderr" 'usage: bgcolor \[-s\] \[-f conf\] \[-t secs\] \[-u url\]'
	done
}

@test "bgcolor: -k prints config values, defaults applied, in the order asked, without asking nginx" {
	write_conf "$T/bg.conf" "url=http://127.0.0.1:1/bg" "app=$T/app" \
	    "linger=2.5" "blue=unix:$T/b.sock" "staging_url="
	run --separate-stderr bgcolor -f "$T/bg.conf" -k linger,app -k timeout \
	    -k log,staging_url,blue,mode,lock
	assert_success
	assert [ -z "$stderr" ]
	assert_output "2.5
$T/app
30
/var/log/bg.log

unix:$T/b.sock
reload
/var/lib/bg/lock"
	write_conf "$T/bg.conf" "url=http://127.0.0.1:1/bg" "linger=off" "timeout=0.25"
	run bgcolor -f "$T/bg.conf" -k linger,timeout,app
	assert_success
	assert_output "off
0.25
/srv/app"
	# no url needed for other keys; BG_CONF works as for the color
	write_conf "$T/bg.conf" "app=$T/app"
	BG_CONF=$T/bg.conf run bgcolor -k app
	assert_success
	assert_output "$T/app"
}

@test "bgcolor: -k with an unknown key or a bad value is exit 4; with -s, -t or -u exit 2" {
	write_conf "$T/bg.conf" "url=http://127.0.0.1:1/bg" "linger=soon"
	run --separate-stderr bgcolor -f "$T/bg.conf" -k app,nope
	assert_failure 4
	assert_output ""
	assert_regex "$stderr" 'bgcolor: unknown config key "nope"'
	run --separate-stderr bgcolor -f "$T/bg.conf" -k app,linger
	assert_failure 4
	assert_output ""
	assert_regex "$stderr" 'bg\.conf:2'
	# an unasked key with a bad value is still a key it knows
	run bgcolor -f "$T/bg.conf" -k app
	assert_success
	for f in -s "-t 1" "-u http://127.0.0.1:1/bg"; do
		# shellcheck disable=SC2086 # split into arguments on purpose
		run --separate-stderr bgcolor -f "$T/bg.conf" -k app $f
		assert_failure 2
		assert_regex "$stderr" '-k does not go with'
	done
}

@test "every tool: a bad flag or a flag without its value says PROG: what, then usage, exit 2" {
	local t
	# run by full path: getopt's own message would name it
	for t in bgcolor:-t bgdrain:-t bgflip:-w bgstage:-t bgswapconf:-w; do
		run --separate-stderr "$BG_ROOT/tools/${t%%:*}" -y
		echo "$stderr"
		assert_failure 2
		assert_equal "${stderr_lines[0]}" "${t%%:*}: unknown flag -y"
		assert_regex "${stderr_lines[1]}" "^usage: ${t%%:*} "
		run --separate-stderr "$BG_ROOT/tools/${t%%:*}" "${t#*:}"
		echo "$stderr"
		assert_failure 2
		assert_equal "${stderr_lines[0]}" "${t%%:*}: ${t#*:} needs a value"
		assert_regex "${stderr_lines[1]}" "^usage: ${t%%:*} "
	done
}
