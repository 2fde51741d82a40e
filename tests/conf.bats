#!/usr/bin/env bats
# The config file (SPEC "The config file"), through tests/unit/unit_conf, which
# loads it exactly as the tools do: bg_conf_path, bg_conf_load, bg_conf_need.

load helpers/bg

setup() {
	bg_setup
	C=$T/bg.conf
}

# rejects KEY=VALUE...: a config of that one line, each in turn, is exit 4
# naming line 1 and the key ("bad value for KEY: expected ...").
rejects() {
	local kv

	for kv in "$@"; do
		write_conf "$C" "$kv"
		run unit_conf -f "$C" all
		echo "$kv: $output"
		assert_failure 4
		assert_output --partial "unit_conf: $C:1: bad value for ${kv%%=*}: expected "
	done
}

# bats test_tags=sanitize
@test "conf: number, color and in-memory parser tables" {
	run unit_conf -t
	echo "$output"
	assert_success
	assert_output --partial " passed, 0 failed"
}

# bats test_tags=sanitize
@test "conf: values are read, whitespace around keys and values trimmed" {
	printf '%s\n' 'mode=socket' '  url   =   http://127.0.0.1:8080/bg  ' \
	    "	blue	=	127.0.0.1:8001	" 'green = [::1]:8002' \
	    'timeout = 2.5' 'hooks = /srv/my hooks' >"$C"
	run unit_conf -f "$C" mode url blue green timeout hooks
	echo "$output"
	assert_success
	assert_line "mode=socket"
	assert_line "url=127.0.0.1:8080 /bg"
	assert_line "blue=127.0.0.1:8001"
	assert_line "green=[::1]:8002"
	assert_line "timeout=2500"
	assert_line "hooks=/srv/my hooks"
	assert_line "set=mode:1,url:2,blue:3,green:4,timeout:5,hooks:6"
}

@test "conf: an empty file gives every default and sets nothing" {
	: >"$C"
	run unit_conf -f "$C" all
	echo "$output"
	assert_success
	assert_line "mode=reload"
	assert_line "health=/up"
	assert_line "timeout=30000"
	assert_line "app=/srv/app"
	assert_line "lock=/var/lib/bg/lock"
	assert_line "log=/var/log/bg.log"
	assert_line "nginx=/usr/sbin/nginx"
	assert_line "nginx_pid=/run/nginx.pid"
	assert_line "state=/var/lib/bg"
	assert_line "host_header="
	assert_line "nginx_prefix="
	assert_line "set="
}

@test "conf: an empty value means unset: the default applies" {
	printf '%s\n' 'timeout =' 'health =   ' 'url = http://h/bg' >"$C"
	run unit_conf -f "$C" timeout health url
	echo "$output"
	assert_success
	assert_line "timeout=30000"
	assert_line "health=/up"
	assert_line "set=url:3"
}

@test "conf: comment lines and blank lines are skipped, '#' after a value is part of it" {
	printf '%s\n' '# a comment' '' '   # indented = comment' '	' \
	    'host_header = example.com#x' 'staging_url = http://s/ # not a comment' \
	    'hooks = /srv/#hooks' >"$C"
	run unit_conf -f "$C" host_header staging_url hooks
	echo "$output"
	assert_success
	assert_line "host_header=example.com#x"
	assert_line "staging_url=http://s/ # not a comment"
	assert_line "hooks=/srv/#hooks"
	assert_line "set=host_header:5,hooks:7,staging_url:6"
}

@test "conf: CRLF line ends are accepted, a lone CR inside a value is not" {
	printf 'url = http://127.0.0.1/bg\r\nhooks = /h\r\n' >"$C"
	run unit_conf -f "$C" url hooks
	echo "$output"
	assert_success
	assert_line "url=127.0.0.1:80 /bg"
	assert_line "hooks=/h"
	printf 'hooks = /h\rx\n' >"$C"
	run unit_conf -f "$C" hooks
	assert_failure 4
	assert_output "unit_conf: $C:1: bad value for hooks: expected an absolute path, under 1024 bytes, without control characters"
}

@test "conf: a last line without a newline counts" {
	printf 'url = http://127.0.0.1/bg\nhooks = /h' >"$C"
	run unit_conf -f "$C" hooks
	assert_success
	assert_line "hooks=/h"
}

@test "conf: an unknown key is exit 4 naming file:line and the key" {
	write_conf "$C" url=http://127.0.0.1/bg colour=blue
	run unit_conf -f "$C" url
	echo "$output"
	assert_failure 4
	assert_output "unit_conf: $C:2: unknown key \"colour\""
}

@test "conf: an unknown key that does not look like a key is not echoed" {
	printf '%s\n' 'hooks = /h' 'Password123 = x' >"$C"
	run unit_conf -f "$C" hooks
	assert_failure 4
	assert_output "unit_conf: $C:2: unknown key"
	# sudo bgflip -f /etc/shadow must not print a password hash
	printf '%s\n' 'root:$6$secretsalt$secrethash:19000:0:99999:7:::' >"$C"
	run unit_conf -f "$C" hooks
	assert_failure 4
	assert_output "unit_conf: $C:1: no '=' in line"
	printf '%s\n' 'secret_token_is_hunter=2' >"$C"
	run unit_conf -f "$C" hooks
	assert_failure 4
	assert_output "unit_conf: $C:1: unknown key \"secret_token_is_hunter\""
	refute_output --partial "=2"
}

@test "conf: a duplicate key is exit 4 naming both lines, even with an empty value" {
	printf '%s\n' 'url = http://127.0.0.1/bg' '# c' 'url = http://127.0.0.2/bg' >"$C"
	run unit_conf -f "$C" url
	echo "$output"
	assert_failure 4
	assert_output "unit_conf: $C:3: duplicate key \"url\" (first set on line 1)"
	printf '%s\n' 'timeout =' 'timeout = 5' >"$C"
	run unit_conf -f "$C" timeout
	assert_failure 4
	assert_output "unit_conf: $C:2: duplicate key \"timeout\" (first set on line 1)"
}

@test "conf: a line without '=' or without a key is exit 4" {
	printf '%s\n' 'hooks = /h' '' 'url http://127.0.0.1/bg' >"$C"
	run unit_conf -f "$C" url
	assert_failure 4
	assert_output "unit_conf: $C:3: no '=' in line"
	printf '%s\n' ' = /h' >"$C"
	run unit_conf -f "$C" url
	assert_failure 4
	assert_output "unit_conf: $C:1: no key before '='"
}

@test "conf: a NUL byte is exit 4" {
	printf 'hooks = /h\nlog = /a\0b\n' >"$C"
	run unit_conf -f "$C" log
	assert_failure 4
	assert_output "unit_conf: $C:2: NUL byte in line"
}

@test "conf: malformed addresses are exit 4 naming file:line and the key" {
	local bad
	for bad in '127.0.0.1' '127.0.0.1:' '127.0.0.1:0' '127.0.0.1:65536' \
	    '::1:8001' '[::1]' 'unix:' 'unix:relative.sock' 'http://127.0.0.1:8001' \
	    'localhost:80 80' 'host:-1'; do
		printf '%s\n' 'green = 127.0.0.1:8002' "blue = $bad" >"$C"
		run unit_conf -f "$C" blue green
		echo "blue = $bad: $output"
		assert_failure 4
		assert_output "unit_conf: $C:2: bad value for blue: expected HOST:PORT, [IPv6]:PORT or unix:/path"
	done
}

@test "conf: a unix socket path of 107 bytes is accepted, 108 is exit 4" {
	local p107 p108
	p107=/$(printf 'a%.0s' $(seq 106))
	p108=/$(printf 'a%.0s' $(seq 107))
	assert_equal "${#p107}" 107
	assert_equal "${#p108}" 108
	write_conf "$C" "blue=unix:$p107"
	run unit_conf -f "$C" blue
	assert_success
	assert_line "blue=unix:$p107"
	write_conf "$C" "blue=unix:$p108"
	run unit_conf -f "$C" blue
	echo "$output"
	assert_failure 4
	assert_output "unit_conf: $C:1: bad value for blue: unix socket path longer than 107 bytes"
}

@test "conf: a malformed url is exit 4" {
	write_conf "$C" url=127.0.0.1/bg
	run unit_conf -f "$C" url
	assert_failure 4
	assert_output "unit_conf: $C:1: bad value for url: expected http://HOST[:PORT]/PATH or unix:/path.sock:/PATH"
	write_conf "$C" url=unix:/run/x.sock:/bg
	run unit_conf -f "$C" url
	assert_success
	assert_line "url=unix:/run/x.sock /bg"
}

@test "conf: mode, timeout, health and host_header values are checked" {
	rejects mode=Reload mode=sockets timeout=thirty timeout=0 timeout=-5 \
	    timeout=1.2345 timeout=86401 timeout=99999999999999999999999 \
	    'health=up' 'health=/u p' "host_header=a b" 'staging_url=x	y'
	write_conf "$C" timeout=86400 health=/health?x=1 host_header=a.example:8080
	run unit_conf -f "$C" all
	assert_success
	assert_line "timeout=86400000"
	assert_line "health=/health?x=1"
	assert_line "host_header=a.example:8080"
}

@test "conf: port mode, linger, live_addr, staging_addr and nft_table values are checked" {
	rejects mode=ports linger=forever linger=-1 linger=86401 \
	    live_addr=unix:/run/x.sock live_addr=127.0.0.1 staging_addr=:80 \
	    nft_table=1bg nft_table=b-g "nft_table=$(printf 'b%.0s' $(seq 33))" \
	    nft=usr/sbin/nft
	write_conf "$C" url=http://127.0.0.1/bg
	run unit_conf -f "$C" all
	assert_success
	assert_line "linger=10000"
	assert_line "nft=/usr/sbin/nft"
	assert_line "nft_table=bg"
	write_conf "$C" mode=port linger=off live_addr=127.0.0.1:9001 \
	    'staging_addr=[::1]:9002' nft=/sbin/nft nft_table=bg_app2
	run unit_conf -f "$C" all
	assert_success
	assert_line "mode=port"
	assert_line "linger=off"
	assert_line "live_addr=127.0.0.1:9001"
	assert_line "staging_addr=[::1]:9002"
	assert_line "nft=/sbin/nft"
	assert_line "nft_table=bg_app2"
	write_conf "$C" linger=0
	run unit_conf -f "$C" linger
	assert_success
	assert_line "linger=0"
	write_conf "$C" linger=2.5
	run unit_conf -f "$C" linger
	assert_line "linger=2500"
}

@test "conf: paths must be absolute" {
	local k
	for k in hooks app lock log nginx nginx_prefix nginx_conf nginx_pid \
	    live_conf blue_conf green_conf state; do
		write_conf "$C" url=http://127.0.0.1/bg "$k=relative/dir"
		run unit_conf -f "$C" "$k"
		assert_failure 4
		assert_output "unit_conf: $C:2: bad value for $k: expected an absolute path, under 1024 bytes, without control characters"
	done
	write_conf "$C" "state=/$(printf 'd%.0s' $(seq 1023))"
	run unit_conf -f "$C" state
	assert_failure 4
	write_conf "$C" "state=/$(printf 'd%.0s' $(seq 1022))"
	run unit_conf -f "$C" state
	assert_success
}

# bats test_tags=sanitize
@test "conf: an error message never contains a value" {
	local kv
	for kv in 'url=http://topsecret' 'blue=topsecret:x' 'green=unix:topsecret' \
	    'timeout=topsecret' 'mode=topsecret' 'hooks=topsecret' \
	    'health=topsecret' 'host_header=top secret' 'nginx_pid=topsecret'; do
		write_conf "$C" "$kv"
		run unit_conf -f "$C" all
		echo "$kv: $output"
		assert_failure 4
		refute_output --partial topsecret
		refute_output --partial "top secret"
	done
}

@test "conf: keys a program does not use are not validated, but must be known and unique" {
	write_conf "$C" url=http://127.0.0.1/bg blue=not-an-address timeout=never
	run unit_conf -f "$C" url
	echo "$output"
	assert_success
	assert_line "set=url:1"
	run unit_conf -f "$C" url timeout
	assert_failure 4
	assert_output "unit_conf: $C:3: bad value for timeout: expected seconds, like 30 or 2.5, more than 0 and at most 86400"
	write_conf "$C" url=http://127.0.0.1/bg blues=x
	run unit_conf -f "$C" url
	assert_failure 4
	assert_output "unit_conf: $C:2: unknown key \"blues\""
	write_conf "$C" blue=x blue=y
	run unit_conf -f "$C" url
	assert_failure 4
	assert_output "unit_conf: $C:2: duplicate key \"blue\" (first set on line 1)"
}

@test "conf: a missing required key is exit 4 naming the key" {
	write_conf "$C" url=http://127.0.0.1/bg blue=127.0.0.1:1
	run unit_conf -n url,blue,green -f "$C" url blue green
	echo "$output"
	assert_failure 4
	assert_output "unit_conf: $C: missing required key \"green\""
	# an empty value does not count as set
	write_conf "$C" url=http://127.0.0.1/bg blue=127.0.0.1:1 green=
	run unit_conf -n url,blue,green -f "$C" url blue green
	assert_failure 4
	assert_output "unit_conf: $C: missing required key \"green\""
	write_conf "$C" url=http://127.0.0.1/bg blue=127.0.0.1:1 green=127.0.0.1:2
	run unit_conf -n url,blue,green -f "$C" url blue green
	assert_success
}

@test "conf: -f, then \$BG_CONF, then /etc/bg.conf" {
	write_conf "$C" hooks=/from-env
	write_conf "$T/other.conf" hooks=/from-f
	BG_CONF=$C run unit_conf -f "$T/other.conf" hooks
	assert_success
	assert_line "file=$T/other.conf"
	assert_line "hooks=/from-f"
	BG_CONF=$C run unit_conf hooks
	assert_success
	assert_line "file=$C"
	assert_line "hooks=/from-env"
	BG_CONF='' run unit_conf -n hooks hooks
	# whatever this machine has in /etc/bg.conf, the default path is read
	assert_output --partial "/etc/bg.conf"
}

# bats test_tags=sanitize
@test "conf: a missing, FIFO, directory or oversized config is exit 4" {
	run unit_conf -f "$T/nope.conf" url
	assert_failure 4
	# as root the trust walk says it (SPEC "Trust"), else open(2)
	assert_output --regexp "^unit_conf: (cannot open )?config $T/nope.conf: No such file or directory$"
	mkfifo "$T/fifo"
	run timeout 10 unit_conf -f "$T/fifo" url
	assert_failure 4
	assert_output --regexp "^unit_conf: ($T/fifo: config is not a regular file|config $T/fifo: not a regular file)$"
	mkdir "$T/dir"
	run unit_conf -f "$T/dir" url
	assert_failure 4
	assert_output --regexp "^unit_conf: ($T/dir: config is not a regular file|config $T/dir: not a regular file)$"
	# 65536 bytes is the limit: a comment that fills it is fine
	{ printf '#'; head -c 65534 /dev/zero | tr '\0' x; printf '\n'; } >"$C"
	assert_equal "$(stat -c %s "$C")" 65536
	run unit_conf -f "$C" url
	assert_success
	printf 'x' >>"$C"
	run unit_conf -f "$C" url
	assert_failure 4
	assert_output "unit_conf: $C: config too large (over 65536 bytes)"
}

@test "conf: the SPEC's example config loads" {
	cat >"$C" <<'EOF'
mode = reload
url = http://127.0.0.1/bg
host_header = example.com
blue = 127.0.0.1:8001
green = 127.0.0.1:8002
hooks = /srv/app/hooks
live_conf = /etc/nginx/sites-enabled/app.conf
blue_conf = /etc/nginx/bg/blue.conf
green_conf = /etc/nginx/bg/green.conf
EOF
	run unit_conf -n url,blue,green,hooks,live_conf,blue_conf,green_conf -f "$C" all
	echo "$output"
	assert_success
	assert_line "green_conf=/etc/nginx/bg/green.conf"
	assert_line "set=mode:1,url:2,host_header:3,blue:4,green:5,hooks:6,live_conf:7,blue_conf:8,green_conf:9"
}
