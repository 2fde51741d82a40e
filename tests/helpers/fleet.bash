# tests/helpers/fleet.bash - several servers on this machine, for the tests
# of HOSTS="a b c". Load after helpers/bg, scene, sshd and deploy.
#
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
#   fleet_teardown       stops every server's processes (then bg_teardown
#                        stops the sshds); safe after a failed start
#
# A process entering a namespace is started by nsenter from the server's
# sshd, so it is in the same place as every ssh session to that server.

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
	return 0
}

# prod I / staging I: what server I answers on its production / staging
# URL, on a fresh connection.
prod() {
	scene_get "${FLEET_PROD[$1]}/"
}

staging() {
	scene_get "${FLEET_STAGING[$1]}/"
}
