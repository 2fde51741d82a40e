# tests/helpers/sshd.bash - a real sshd on a free loopback port, for the
# tests of make deploy/switch/rollback over ssh. Load after helpers/bg.
#
#   start_sshd [DIR]
#                 generates a host key and a client key in DIR (default
#                 $T/ssh), writes an sshd_config there (loopback, that port, keys only,
#                 root by key, StrictModes no because $T is under /tmp,
#                 UsePAM no), starts /usr/sbin/sshd -D -e in the background
#                 and waits until it accepts. Started from a test, it is
#                 stopped by bg_teardown; from setup_file (one sshd for the
#                 whole file), call stop_sshd in teardown_file.
#                 Exports SSHD_PORT, SSH_HOST (root@127.0.0.1) and SSH_OPTS,
#                 the options for ssh and rsync -e: port, identity, a known
#                 hosts file already holding the host key, batch mode and
#                 no user ssh config. Sessions get HOME=DIR/home (empty),
#                 so the machine's own ~/.bashrc never runs in them.
#   stop_sshd     stops it (SIGTERM, then SIGKILL); sessions it forked
#                 for clients still connected end when their clients do.
#   ssh_run CMD   runs CMD on the test server, as make's recipes would.
#   sshd_logins   how many connections sshd has accepted so far (its log,
#                 DIR/127.0.0.1.log, has one "Accepted publickey" line each).
#
# The pieces, for several servers sharing one set of keys (helpers/fleet):
#   sshd_keys DIR                 the keys, authorized_keys, an empty HOME
#   sshd_start DIR ADDR PORT [WRAPPER...]
#                                 an sshd on ADDR:PORT, started through
#                                 WRAPPER (e.g. unshare) when given
#   sshd_opts DIR PORT            exports SSH_OPTS for them
#
# sshd needs its privilege separation directory /run/sshd; it is created
# when missing (the test runs as root, as in CI).

start_sshd() {
	local d=${1:-$T/ssh} root

	# also from setup_file, before bg_setup
	root=${BG_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
	sshd_keys "$d" || return 1
	SSHD_PORT=$("$root/tests/bin/bgapp" --free-port) || return 1
	sshd_start "$d" 127.0.0.1 "$SSHD_PORT" || return 1
	export SSHD_DIR=$d SSHD_PORT SSH_HOST=root@127.0.0.1
	sshd_opts "$d" "$SSHD_PORT"
}

sshd_keys() {
	local d=$1

	mkdir -p "$d" || return 1
	chmod 0700 "$d"
	if [ ! -d /run/sshd ]; then
		mkdir -p /run/sshd && chmod 0755 /run/sshd || return 1
	fi
	rm -f "$d/host" "$d/host.pub" "$d/id" "$d/id.pub" "$d/known_hosts"
	ssh-keygen -q -t ed25519 -N '' -C bg-test-host -f "$d/host" ||
	    return 1
	ssh-keygen -q -t ed25519 -N '' -C bg-test-client -f "$d/id" ||
	    return 1
	cp "$d/id.pub" "$d/authorized_keys"
	# Sessions get an empty HOME: the test server must not depend on the
	# dotfiles of this machine's root (a slow ~/.bashrc, a PATH).
	mkdir -p "$d/home"
}

# Its config, log and pid files are DIR/ADDR.*; ADDR:PORT goes into
# DIR/known_hosts. Waits until it accepts.
sshd_start() {
	local d=$1 addr=$2 port=$3 pid
	shift 3

	cat >"$d/$addr.config" <<EOF
ListenAddress $addr
Port $port
HostKey $d/host
PidFile $d/$addr.pid
AuthorizedKeysFile $d/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
X11Forwarding no
AllowTcpForwarding no
PrintMotd no
MaxSessions 50
MaxStartups 50
LogLevel INFO
SetEnv HOME=$d/home
EOF
	printf '[%s]:%s %s\n' "$addr" "$port" "$(cut -d' ' -f1,2 "$d/host.pub")" \
	    >>"$d/known_hosts"
	"$@" /usr/sbin/sshd -D -e -f "$d/$addr.config" </dev/null \
	    >>"$d/$addr.log" 2>&1 3>&- &
	pid=$!
	echo "$pid" >"$d/$addr.bgpid"
	if [ -n "${T:-}" ] && [ -f "$T/.bg-started" ]; then
		bg_track "$pid" sshd
	fi
	if ! wait_until 5 sshd_settled "$pid" "$addr" "$port" 2>/dev/null; then
		echo "sshd_start: sshd does not accept on $addr port $port" >&2
		return 1
	fi
	bg_alive "$pid" && return 0
	echo "sshd_start: sshd exited:" >&2
	cat "$d/$addr.log" >&2
	return 1
}

# sshd_settled PID ADDR PORT: sshd PID has exited, or ADDR:PORT accepts
sshd_settled() {
	! bg_alive "$1" || bg_accepts "$2" "$3"
}

sshd_opts() {
	export SSH_OPTS="-F /dev/null -p $2 -i $1/id -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=$1/known_hosts -o StrictHostKeyChecking=yes -o LogLevel=ERROR"
}

stop_sshd() {
	local pid

	pid=$(cat "${SSHD_DIR:?}/127.0.0.1.bgpid" 2>/dev/null) || return 0
	bg_stop_pids 2 "$pid"
	rm -f "$SSHD_DIR/127.0.0.1.bgpid"
	return 0
}

ssh_run() {
	# shellcheck disable=SC2086,SC2029 # options; CMD is for the server
	ssh $SSH_OPTS "$SSH_HOST" "$@" </dev/null
}

sshd_logins() {
	cat "${SSHD_DIR:?}"/*.log | grep -c 'Accepted publickey' || :
}
