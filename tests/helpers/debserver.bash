# tests/helpers/debserver.bash - a fresh Debian "server" for make init and
# the package: this machine seen through a private mount namespace, where
# /usr, /etc, /var and /srv are overlays whose writes land in
# $SERVER/{usr,etc,var,srv}/up (and vanish with the test), /run is an empty
# tmpfs (no nginx pid file of this machine's shows through), and gcc, cc,
# make and the other compilers are deleted: a server with no compiler and
# no make. Load after helpers/bg and helpers/sshd.
#
#   debserver_init          the overlay directories and $SERVER/enter.sh
#   debserver_run CMD...    CMD inside a new namespace over the same
#                           overlays (what one run writes, the next sees)
#   debserver_sshd          a real sshd inside such a namespace (helpers/
#                           sshd: SSH_OPTS, SSH_HOST root@127.0.0.1); every
#                           session it opens shares that namespace
#   debserver_changes       what the server holds that this machine does
#                           not: every path written in the overlays, with
#                           its mode, owner and a checksum (login records
#                           excepted)
#   debserver_pids          pids of processes running in sshd's namespace
#                           other than sshd itself, for bg_track

debserver_init() {
	local d

	export SERVER=$T/server
	for d in usr etc var srv; do
		mkdir -p "$SERVER/$d/up" "$SERVER/$d/work" || return 1
	done
	cat >"$SERVER/enter.sh" <<EOF
set -e
for d in usr etc var srv; do
	mount -t overlay overlay \\
	    -o lowerdir=/\$d,upperdir=$SERVER/\$d/up,workdir=$SERVER/\$d/work /\$d
done
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/sshd /run/lock
chmod 1777 /run/lock
for f in /usr/bin/* /usr/local/bin/*; do
	case \${f##*/} in
	gcc* | *-gcc* | cc | c89* | c99* | make | gmake | *-make | clang* | tcc | *-cc) rm -f "\$f" ;;
	esac
done
exec "\$@"
EOF
}

debserver_run() {
	unshare -m --propagation private sh "$SERVER/enter.sh" "$@"
}

debserver_sshd() {
	sshd_keys "$SERVER/ssh" || return 1
	SSHD_PORT=$(free_port) || return 1
	sshd_start "$SERVER/ssh" 127.0.0.1 "$SSHD_PORT" \
	    unshare -m --propagation private sh "$SERVER/enter.sh" || return 1
	export SSHD_DIR=$SERVER/ssh SSHD_PORT SSH_HOST=root@127.0.0.1
	# sshd reads authorized_keys as the user logging in (the deploy
	# user too): reachable, not readable beyond it (the private keys)
	chmod 0711 "$SERVER/ssh" && chmod 0644 "$SERVER/ssh/authorized_keys"
	sshd_opts "$SERVER/ssh" "$SSHD_PORT"
}

debserver_changes() {
	(cd "$SERVER" && find usr/up etc/up var/up srv/up -mindepth 1 \
	    ! -path 'var/up/log/wtmp' ! -path 'var/up/log/lastlog' \
	    ! -path 'var/up/log/btmp' ! -path 'var/up/log' \
	    -printf '%p %M %u:%g %l\n' | sort)
	(cd "$SERVER" && find usr/up etc/up var/up srv/up -type f \
	    ! -path 'var/up/log/wtmp' ! -path 'var/up/log/lastlog' \
	    ! -path 'var/up/log/btmp' -print0 | sort -z | xargs -0r md5sum)
}

debserver_pids() {
	local ns pid p

	pid=$(cat "$SERVER/ssh/127.0.0.1.bgpid") || return 1
	ns=$(readlink "/proc/$pid/ns/mnt") || return 1
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$p" != "$pid" ] || continue
		[ "$(readlink "/proc/$p/ns/mnt" 2>/dev/null)" = "$ns" ] && echo "$p"
	done
	return 0
}
