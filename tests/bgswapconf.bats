#!/usr/bin/env bats
# bgswapconf: swap blue and green in one pass; golden files in
# tests/fixtures/bgswapconf/NAME.in and NAME.out, arguments in NAME.args.

load helpers/bg

setup() {
	bg_setup
	FIX="$BG_ROOT/tests/fixtures/bgswapconf"
}

# golden NAME: NAME.in swaps to NAME.out, NAME.out swaps back to NAME.in,
# and the exit status says whether anything was swapped.
golden() {
	local name=$1 args=() want=0 st

	if [ -f "$FIX/$name.args" ]; then
		read -ra args <"$FIX/$name.args"
	fi
	cmp -s "$FIX/$name.in" "$FIX/$name.out" && want=1
	st=0
	bgswapconf "${args[@]}" <"$FIX/$name.in" >"$T/out" 2>"$T/err" || st=$?
	cat "$T/err"
	assert_equal "$name.in: exit $st" "$name.in: exit $want"
	assert [ ! -s "$T/err" ]
	if ! cmp "$T/out" "$FIX/$name.out"; then
		od -c "$T/out" | head -20
		fail "bgswapconf <$name.in is not $name.out"
	fi
	st=0
	bgswapconf "${args[@]}" <"$FIX/$name.out" >"$T/back" || st=$?
	assert_equal "$name.out: exit $st" "$name.out: exit $want"
	assert cmp "$T/back" "$FIX/$name.in"
}

# nginx_t FILE: nginx -t on an http{} that includes FILE, in a scratch prefix.
nginx_t() {
	local d
	d=$(mktemp -d "$T/ngt.XXXXXX")
	cat >"$d/nginx.conf" <<EOF
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $d/body;
	proxy_temp_path $d/proxy;
	fastcgi_temp_path $d/fastcgi;
	uwsgi_temp_path $d/uwsgi;
	scgi_temp_path $d/scgi;
	include $1;
}
EOF
	"$NGINX_BIN" -t -q -e "$d/error.log" -p "$d/" -c "$d/nginx.conf"
}

# bats test_tags=sanitize
@test "bgswapconf: swaps a real nginx config with blue/green upstreams (golden)" {
	golden nginx
}

@test "bgswapconf: empty input gives empty output, exit 1 (golden)" {
	golden empty
}

@test "bgswapconf: input without a trailing newline (golden)" {
	golden no-newline
}

# bats test_tags=sanitize
@test "bgswapconf: NUL bytes pass through and separate words (golden)" {
	golden nul
}

@test "bgswapconf: CRLF line ends are kept (golden)" {
	golden crlf
}

# bats test_tags=sanitize
@test "bgswapconf: invalid UTF-8 passes through byte for byte (golden)" {
	golden invalid-utf8
}

@test "bgswapconf: words at the very start and end of the input (golden)" {
	golden edges
}

@test "bgswapconf: cyan is never touched (golden)" {
	golden cyan
}

@test "bgswapconf: blueprint, evergreen, Greenwich are not words, exit 1 (golden)" {
	golden lookalikes
}

@test "bgswapconf: swaps blue/green, Blue/Green, BLUE/GREEN and leaves bLuE alone (golden)" {
	golden case
}

@test "bgswapconf: swaps words next to _ . \" digits \$ / - : (golden)" {
	golden separators
}

# bats test_tags=sanitize
@test "bgswapconf: -a swaps inside words too (golden)" {
	golden all
}

@test "bgswapconf: -w swaps another pair (golden)" {
	golden words
}

@test "bgswapconf: -w with a one-letter word leaves the Capitalized form alone (golden)" {
	golden words-one-letter
}

# bats test_tags=sanitize
@test "bgswapconf: -a -w swaps another pair inside words (golden)" {
	golden words-all
}

# bats test_tags=sanitize
@test "bgswapconf: the swap gives what a plain reference swap gives on random inputs (unit_swapref)" {
	# the reference is written from bgswapconf(1), not from swap.c;
	# 20000 inputs from a fixed seed, then 5000 from another
	run unit_swapref
	echo "$output"
	assert_success
	assert_output "20000 passed, 0 failed"
	run unit_swapref -s "$RANDOM" -n 5000
	echo "$output"
	assert_success
	assert_output "5000 passed, 0 failed"
}

@test "bgswapconf: the reference swap of unit_swapref gives every golden output" {
	local f name args st n=0
	for f in "$FIX"/*.in; do
		name=${f%.in} args=() st=0
		[ -f "$name.args" ] && read -ra args <"$name.args"
		unit_swapref -r "${args[@]}" <"$f" >"$T/ref" || st=$?
		echo "${name##*/}: exit $st"
		assert [ "$st" -le 1 ]
		assert cmp "$T/ref" "$name.out"
		n=$((n + 1))
	done
	assert [ "$n" -ge 15 ]
}

@test "bgswapconf: a 100 MB single line streams in constant memory" {
	local pat='app_blue green.sock cyan blueprint evergreen BLUE GREEN Blue Green bLuE	'
	local swp='app_green blue.sock cyan blueprint evergreen GREEN BLUE Green Blue bLuE	'
	local size rss
	assert [ "${#pat}" -eq "${#swp}" ]
	size=$(( 100 * 1024 * 1024 / ${#pat} * ${#pat} ))
	yes -- "$pat" | tr -d '\n' | head -c "$size" >"$T/big"
	assert [ "$(stat -c %s "$T/big")" -eq "$size" ]
	assert_equal "$(grep -c . "$T/big")" 1	# one line, no newline at all
	# the expected output is made from the swapped pattern, not by swapping
	/usr/bin/time -f %M -o "$T/rss" bgswapconf <"$T/big" |
	    cmp - <(yes -- "$swp" | tr -d '\n' | head -c "$size")
	# shellcheck disable=SC2094 # both only read it
	bgswapconf <"$T/big" | bgswapconf | cmp - "$T/big"
	# constant memory: far below the 100 MB a line-buffering tool needs
	rss=$(cat "$T/rss")
	echo "peak RSS ${rss} KiB"
	assert [ "$rss" -lt 8192 ]
}

# bats test_tags=sanitize
@test "bgswapconf: a letter run longer than any word is passed through whole" {
	local st=0
	{ head -c 100000 /dev/zero | tr '\0' x; printf 'blue\n'; } >"$T/in"
	bgswapconf "$T/in" >"$T/out" || st=$?
	assert_equal "$st" 1
	cmp "$T/in" "$T/out"
	{ head -c 100000 /dev/zero | tr '\0' x; printf ' blue'; } >"$T/in2"
	bgswapconf "$T/in2" >"$T/out"
	assert_equal "$(tail -c 6 "$T/out")" " green"
	assert_equal "$(stat -c %s "$T/out")" 100006
}

@test "bgswapconf: twice is the identity on every file in /etc/nginx" {
	local f n=0
	[ -d /etc/nginx ] || skip "no /etc/nginx"
	while IFS= read -r -d '' f; do
		for a in "" -a; do
			bgswapconf $a "$f" | bgswapconf $a | cmp - "$f" ||
			    fail "not an involution: $f $a"
		done
		n=$((n + 1))
	done < <(find -L /etc/nginx -type f -print0)
	echo "$n files"
	assert [ "$n" -gt 5 ]
}

@test "bgswapconf: nginx -t accepts the swapped config of a config it accepts" {
	local p s b g
	p=$(free_port); s=$(free_port); b=$(free_port); g=$(free_port)
	cat >"$T/blue.conf" <<EOF
# blue is live: production goes to app_blue, staging to app_green
upstream app_blue {
	server 127.0.0.1:$b max_fails=0;
}
upstream app_green {
	server 127.0.0.1:$g max_fails=0;
}
server {
	listen 127.0.0.1:$p;
	server_name _;
	location / {
		proxy_pass http://app_blue;
		proxy_set_header Host \$host;
		proxy_set_header X-Color blue;
	}
	location = /bg {
		default_type text/plain;
		return 200 "blue\n";
	}
}
server {
	listen 127.0.0.1:$s;
	location / {
		proxy_pass http://app_green;
	}
	location = /bg {
		default_type text/plain;
		return 200 "green\n";
	}
}
EOF
	nginx_t "$T/blue.conf"
	bgswapconf "$T/blue.conf" >"$T/green.conf"
	run nginx_t "$T/green.conf"
	echo "$output"
	assert_success
	# and the real nginx serves it: production's /bg says green
	start_nginx "$T/green.conf"
	run curl -sS --max-time 5 "http://127.0.0.1:$p/bg"
	assert_success
	assert_output green
	run curl -sS --max-time 5 "http://127.0.0.1:$s/bg"
	assert_output blue
}

@test "bgswapconf: nginx -t accepts nginx/green.conf whenever it accepts nginx/blue.conf" {
	local p s b g f
	p=$(free_port); s=$(free_port); b=$(free_port); g=$(free_port)
	mkdir "$T/app-nginx"
	# as make init does: swap the template, then nginx/fill fills it in
	cp "$BG_ROOT/nginx/blue.conf" "$T/blue.tmpl"
	bgswapconf "$BG_ROOT/nginx/blue.conf" >"$T/green.tmpl"
	cp "$BG_ROOT/nginx/upstreams.conf" "$T/upstreams.tmpl"
	for f in upstreams blue green; do
		run --separate-stderr "$BG_ROOT/nginx/fill" "$T/$f.tmpl" \
		    LISTEN="127.0.0.1:$p" STAGING_LISTEN="127.0.0.1:$s" \
		    SERVER_NAME=localhost BLUE="127.0.0.1:$b" \
		    GREEN="127.0.0.1:$g" APP_NGINX="$T/app-nginx" \
		    ACME_ROOT="$T/acme"
		echo "nginx/fill $f: exit $status: $stderr"
		assert_success
		printf '%s\n' "$output" >"$T/$f.conf"
		run grep -n '@[A-Z_]*@' "$T/$f.conf"
		assert_failure 1
	done
	for f in blue green; do
		printf 'include %s;\ninclude %s;\n' "$T/upstreams.conf" \
		    "$T/$f.conf" >"$T/$f.site"
		run nginx_t "$T/$f.site"
		echo "nginx -t $f: $output"
		assert_success
	done
	start_nginx "$T/green.site"
	run curl -sS --max-time 5 "http://127.0.0.1:$p/bg"
	assert_output green
}

# bats test_tags=sanitize
@test "bgswapconf: reads FILEs as one stream, - is stdin" {
	printf 'blu' >"$T/a"
	printf 'e green\n' >"$T/b"
	run bash -c 'echo Blue | bgswapconf "$1" "$2" - "$1"' _ "$T/a" "$T/b"
	assert_success
	assert_output "$(printf 'green blue\nGreen\nblu')"
}

# bats test_tags=sanitize
@test "bgswapconf: an unreadable FILE is exit 5, named, and the others are still swapped" {
	printf 'blue\n' >"$T/a.conf"
	printf 'green\n' >"$T/b.conf"
	mkdir "$T/dir.conf"
	st=0
	bgswapconf "$T/a.conf" "$T/missing.conf" "$T/dir.conf" "$T/b.conf" \
	    >"$T/out" 2>"$T/err" || st=$?
	cat "$T/err"
	assert_equal "$st" 5
	assert_equal "$(cat "$T/out")" "$(printf 'green\nblue')"
	grep -q "^bgswapconf: cannot open $T/missing.conf: No such file or directory\$" "$T/err"
	grep -q "^bgswapconf: cannot read $T/dir.conf: Is a directory\$" "$T/err"
	assert_equal "$(wc -l <"$T/err")" 2
	# 5 wins over 1 (nothing swapped)
	printf 'cyan\n' >"$T/c.conf"
	run bgswapconf "$T/c.conf" "$T/missing.conf"
	assert_failure 5
}

@test "bgswapconf: exit 1 when nothing was swapped, output still written" {
	printf 'cyan blueprint\nno colors here\n' >"$T/in"
	st=0
	bgswapconf <"$T/in" >"$T/out" 2>"$T/err" || st=$?
	assert_equal "$st" 1
	cmp "$T/in" "$T/out"
	assert [ ! -s "$T/err" ]
}

@test "bgswapconf: a write error (stdout is /dev/full) is exit 5 with a message" {
	[ -w /dev/full ] || skip "no /dev/full"
	run bash -c 'bgswapconf "$1" >/dev/full' _ "$FIX/nginx.in"
	echo "$output"
	assert_failure 5
	assert_output "bgswapconf: cannot write to standard output: No space left on device"
}

@test "bgswapconf: -h and --help print the usage" {
	run bgswapconf -h
	assert_success
	assert_output "usage: bgswapconf [-a] [-w word1,word2] [file ...]
       bgswapconf -V"
	run bgswapconf --help
	assert_success
	assert_output "usage: bgswapconf [-a] [-w word1,word2] [file ...]
       bgswapconf -V"
}

@test "bgswapconf: a bad flag is exit 2 with the usage" {
	run bgswapconf -x
	assert_failure 2
	assert_output --partial "usage: bgswapconf [-a] [-w word1,word2] [file ...]"
	run bgswapconf -w
	assert_failure 2
}

@test "bgswapconf: -w refuses what is not two different words of ASCII letters (exit 2)" {
	local w long
	long=$(printf 'a%.0s' $(seq 65))
	for w in blue blue,green,red ,green 'blue,' ',' blue,gr33n blue,blue \
	    blue,BLUE "blue,gre en" blue_x,green "$(printf 'bl\xc3\xbce,green')" \
	    "$long,b"; do
		run bgswapconf -w "$w" </dev/null
		echo "-w '$w': $status $output"
		assert_failure 2
		assert_output --regexp '^bgswapconf: -w '
		assert_equal "${#lines[@]}" 1
	done
	# 64 letters is the limit, not 65
	run bgswapconf -w "${long:1},b" </dev/null
	assert_failure 1
}

@test "bgswapconf: -a refuses a pair whose occurrences can overlap (exit 2)" {
	local w
	for w in ab,ba aba,x red,redder redder,red ab,cabd cabd,ab aa,b \
	    green,ngreen nab,bna; do
		run bgswapconf -a -w "$w" </dev/null
		echo "-a -w $w: $status $output"
		assert_failure 2
		assert_output --partial overlap
		# without -a a word is a whole letter run: these pairs are fine
		run bgswapconf -w "$w" </dev/null
		assert_failure 1
	done
	# and pairs that cannot overlap are taken with -a
	for w in blue,green up,down ab,cd a,b left,right; do
		run bgswapconf -a -w "$w" </dev/null
		assert_failure 1
	done
}
