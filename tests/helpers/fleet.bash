# tests/helpers/fleet.bash - several servers on this machine, for the tests
# of HOSTS="a b c". Loads helpers/bg, scene, sshd and deploy itself.
#
#   load helpers/fleet
#   setup()    { fleet_setup; }
#   teardown() { fleet_teardown; }
#
#   fleet_setup          bg_setup, three servers (fleet_start 3) and an app
#                        tree $T/src of version v3 (make_src) to deploy
#   fleet_start N [MODE]
#       N servers (MODE: socket, the default, or reload). Server I (1..N)
#       is 127.0.0.(I+1): its own sshd there, in its own mount namespace
#       where $T/host - the path every server's config and tree use - is
#       its private directory $T/hI. In there, started inside that
#       namespace: a whole scene (helpers/scene: real nginx listening on
#       127.0.0.(I+1), blue v1 live, green v2 standby) and the pipeline
#       tests' hooks (helpers/deploy). So one set of make settings
#       reaches every server, as on a real fleet, and each server has its
#       own files, processes and addresses. One thing differs in their
#       configs: the instances' unix sockets are in $T/hI/sock, since the
#       servers share one network namespace and /proc/net/unix, which
#       bgdrain reads, names sockets by path.
#       Exports FLEET_HOSTS ("root@127.0.0.2 root@127.0.0.3 ..."),
#       FLEET_APP ($T/host/app), FLEET_CONF ($T/host/bg.conf), SSH_OPTS
#       (one key and one port for all), and FLEET_PROD[I],
#       FLEET_STAGING[I] (bash arrays, not exported), the URLs of server
#       I's production and staging.
#   fleet_dir I          the directory server I calls $T/host
#   fleet_host I         root@127.0.0.(I+1)
#   fleet_teardown       stops every server's processes, then bg_teardown
#                        (the sshds); safe after a failed start
#   fleet_load_start     a counting load client on every server's production
#   fleet_load_stop      ends them; sums their counts
#   each_server ERE      every server has an output line: its name, then ERE
#   all_prod ANSWER      every server's production answers ANSWER
#   fleet_sick I         server I's new instances never turn healthy
#
# A process entering a namespace is started by nsenter from the server's
# sshd, so it is in the same place as every ssh session to that server.

for bg_f in bg scene sshd deploy; do
	# shellcheck source=/dev/null
	source "${BASH_SOURCE[0]%/*}/$bg_f.bash"
done
unset bg_f

fleet_setup() {
	bg_setup && fleet_start 3 && make_src "$T/src" v3
}

fleet_start() {
	local n=$1 mode=${2:-socket} i addr d port pid

	export FLEET_N=$n FLEET_APP="$T/host/app" FLEET_CONF="$T/host/bg.conf"
	FLEET_HOSTS=
	# shellcheck disable=SC2034 # for the tests
	FLEET_PROD=()
	# shellcheck disable=SC2034
	FLEET_STAGING=()
	mkdir -p "$T/host" && chmod 0755 "$T/host" || return 1
	sshd_keys "$T/ssh" || return 1
	port=$(free_port) || return 1
	for i in $(seq "$n"); do
		addr=127.0.0.$((i + 1))
		d=$(fleet_dir "$i")
		mkdir -p "$d" && chmod 0755 "$d" || return 1
		: >"$d/.bg-started"
		# shellcheck disable=SC2016 # for the wrapper's sh
		sshd_start "$T/ssh" "$addr" "$port" \
		    unshare -m --propagation private -- \
		    sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' \
		    sh "$d" "$T/host" || return 1
		pid=$(cat "$T/ssh/$addr.bgpid")
		# shellcheck disable=SC2016 # expanded by that bash
		if ! nsenter -t "$pid" -m -- env T="$T/host" BG_ROOT="$BG_ROOT" \
		    NGINX_BIN="$NGINX_BIN" SCENE_ADDR="$addr" MODE="$mode" \
		    SCENE_SOCK="$d/sock" \
		    bash -c 'source "$BG_ROOT/tests/helpers/bg.bash" &&
			source "$BG_ROOT/tests/helpers/scene.bash" &&
			source "$BG_ROOT/tests/helpers/deploy.bash" &&
			SCENE_CONF_EXTRA=(timeout=5) &&
			scene "$MODE" && write_hooks &&
			: >"$T/run/lock" && chmod 0644 "$T/run/lock" &&
			printf "%s %s\n" "$PROD_URL" "$STAGING_URL" >"$T/urls"' \
		    </dev/null >"$d/setup.log" 2>&1; then
			echo "fleet_start: server $i ($addr) did not come up:" >&2
			cat "$d/setup.log" >&2
			return 1
		fi
		read -r "FLEET_PROD[$i]" "FLEET_STAGING[$i]" <"$d/urls"
		FLEET_HOSTS="$FLEET_HOSTS${FLEET_HOSTS:+ }$(fleet_host "$i")"
	done
	export FLEET_HOSTS
	sshd_opts "$T/ssh" "$port"
}

fleet_dir() {
	echo "$T/h$1"
}

fleet_host() {
	echo "root@127.0.0.$(($1 + 1))"
}

fleet_teardown() {
	local i

	for i in $(seq "${FLEET_N:-0}"); do
		T=$(fleet_dir "$i") bg_teardown
	done
	bg_teardown
}

# all_prod ANSWER: every server's production answers ANSWER.
all_prod() {
	local i

	for i in $(seq "$FLEET_N"); do
		assert_equal "server $i: $(prod "$i")" "server $i: $1" || return 1
	done
}

# fleet_sick I: from now on, an instance server I's restart hook starts
# never answers 200 on /up (helpers/deploy: $T/sick there). Its timeout
# becomes 1 s: the wait for a health that never comes is that long, not
# the 5 s the other servers keep.
fleet_sick() {
	touch "$(fleet_dir "$1")/sick" &&
	    sed -i 's/^timeout = .*/timeout = 1/' "$(fleet_dir "$1")/bg.conf"
}

# prod I / staging I: what server I answers on its production / staging
# URL, on a fresh connection.
prod() {
	scene_get "${FLEET_PROD[$1]}/"
}

staging() {
	scene_get "${FLEET_STAGING[$1]}/"
}

# fleet_load_start: tests/bin/bgload against every server's production, 10
# keep-alive clients, half POST, bounded by -d 120; output in
# $T/loadI.{out,err}. Niced: three of them can take both cores, and the
# deploy tool starved of CPU triples a test's time; they still send
# thousands of requests a second, and every one must come back.
fleet_load_start() {
	local i

	LOAD=()
	for i in $(seq "$FLEET_N"); do
		nice -n 19 bgload -k -c 10 -p 50 -d 120 "${FLEET_PROD[$i]}/" \
		    >"$T/load$i.out" 2>"$T/load$i.err" 3>&- &
		LOAD[i]=$!
		bg_track "${LOAD[i]}" bgload
	done
	# let every client connect and get answers first
	sleep 0.5
}

# fleet_load_stop: SIGTERM each client (it finishes what is in flight and
# reports) and print what it saw. ALIVE counts the clients that ran until
# then; SENT, OK and FAILED sum their counts; BAD counts clients whose
# ok != sent; LOAD_LINE[I] is client I's report.
fleet_load_stop() {
	local i kv sent ok failed

	ALIVE=0 SENT=0 OK=0 FAILED=0 BAD=0
	LOAD_LINE=()
	for i in $(seq "$FLEET_N"); do
		if bg_alive "${LOAD[i]}"; then
			ALIVE=$((ALIVE + 1))
			kill -TERM "${LOAD[i]}"
		fi
		wait "${LOAD[i]}" || true
		LOAD_LINE[i]=$(grep '^bgload ' "$T/load$i.out")
		echo "server $i: ${LOAD_LINE[i]}"
		sent=0 ok=-1 failed=-1	# no report: counted as failing
		for kv in ${LOAD_LINE[i]#bgload }; do
			case $kv in
			sent=*) sent=${kv#sent=} ;;
			ok=*) ok=${kv#ok=} ;;
			failed=*) failed=${kv#failed=} ;;
			esac
		done
		SENT=$((SENT + sent))
		OK=$((OK + ok))
		FAILED=$((FAILED + failed))
		[ "$ok" -eq "$sent" ] || BAD=$((BAD + 1))
	done
}

# each_server ERE: for every server a line of $output holds its name and,
# after it, something matching ERE.
each_server() {
	local i

	for i in $(seq "$FLEET_N"); do
		assert_line --regexp "$(re_quote "$(fleet_host "$i")").*$1" ||
		    return 1
	done
}
