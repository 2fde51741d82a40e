# tests/helpers/trust.bash - a real unprivileged deploy user and real sudo,
# for the tests that attack root (tests/trust.bats; SPEC "Trust").
#
#   load helpers/bg
#   load helpers/scene
#   load helpers/trust
#   setup_file()    { trust_user_add; }
#   teardown_file() { trust_user_del; }
#
# trust_user_add      creates a throwaway user and group (name unique to
#                     this test file run, no home, no password) and exports
#                     TU, TU_UID, TU_GID. setup_file only.
# trust_user_del      removes them again. teardown_file only.
# as_user CMD...      runs CMD as TU (uid, gid, groups), no namespace.
# as_deploy CMD...    runs CMD as TU inside a private mount namespace whose
#                     /etc is an overlay: /etc/bg.conf is a root-owned copy
#                     of $BG_CONF and /etc/sudoers.d holds the documented
#                     line, "TU ALL=(root) NOPASSWD: $BG_ROOT/tools/bgflip".
#                     bgflip under sudo reads only /etc/bg.conf; the real
#                     /etc is never written (there may be no /etc/bg.conf to
#                     bind-mount over, so an overlay rather than a bind).
# as_root_ns CMD...   the same namespace, CMD as root (e.g. strace -u TU
#                     sudo ..., to watch or fault-inject through sudo).
# trust_sudo          prints the command the deploy user runs:
#                     "sudo -n $BG_ROOT/tools/bgflip".

trust_user_add() {
	local n

	n="bgt$(printf '%05d' "$$" | tail -c 5)$(od -An -N2 -tx2 /dev/urandom | tr -d ' ')"
	useradd -M -d /nonexistent -s /bin/sh -U "$n" || return 1
	export TU=$n
	TU_UID=$(id -u "$n") && TU_GID=$(id -g "$n") || return 1
	export TU_UID TU_GID
}

trust_user_del() {
	[ -n "${TU:-}" ] || return 0
	# -f: even if a process of the test's is still on its way out
	userdel -f "$TU" || echo "trust_user_del: cannot remove user $TU" >&2
	if getent group "$TU" >/dev/null; then
		groupdel "$TU" || echo "trust_user_del: cannot remove group $TU" >&2
	fi
	return 0
}

as_user() {
	setpriv --reuid="$TU_UID" --regid="$TU_GID" --init-groups -- "$@"
}

# The namespace's set-up, then CMD: $1 is "user" or "root".
trust_ns() {
	local who=$1 up
	shift

	up="$T/etc-overlay"
	rm -rf "$up" && mkdir -p "$up/up" "$up/work" || return 1
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare -m --propagation private -- sh -c '
		set -e
		mount -t overlay bg-etc -o "lowerdir=/etc,upperdir=$1/up,workdir=$1/work" /etc
		cp "$2" /etc/bg.conf
		chown root:root /etc/bg.conf
		chmod 0644 /etc/bg.conf
		printf "%s ALL=(root) NOPASSWD: %s\n" "$3" "$4" >/etc/sudoers.d/bg-test
		chmod 0440 /etc/sudoers.d/bg-test
		who=$5
		shift 5
		if [ "$who" = user ]; then
			exec setpriv --reuid="$TU_UID" --regid="$TU_GID" --init-groups -- "$@"
		fi
		exec "$@"' trust-ns "$up" "${BG_CONF:?}" "$TU" \
	    "$BG_ROOT/tools/bgflip" "$who" "$@"
}

as_deploy() {
	trust_ns user "$@"
}

as_root_ns() {
	trust_ns root "$@"
}

trust_sudo() {
	echo "sudo -n $BG_ROOT/tools/bgflip"
}
