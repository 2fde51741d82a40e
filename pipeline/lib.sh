# pipeline/lib.sh - the plumbing of the Makefile's pipeline targets, sourced
# by their recipes (POSIX sh). The recipes say what runs where; this file
# only knows how to reach the server.
#
# The recipe sets, before sourcing: target (make's $@), host (HOST),
# ssh_opts (SSH_OPTS), and the paths it will put into server command lines:
# app (APP), conf (BG_CONF), bin (BG_BIN).
#
# One ssh connection per make run: bg_connect opens a master connection
# whose socket lives in a private mktemp -d directory; every later ssh and
# rsync of the recipe goes through it; an EXIT trap closes it (ssh -O exit)
# and removes the directory, on success, failure and Ctrl-C alike. A target
# that needs only one session (switch, status, history) skips the master.
# HOST=local runs the same command lines with sh -c, and rsync copies
# locally.

# shellcheck shell=sh disable=SC2154,SC2034 # the recipe sets, and uses, these
# bg_say TEXT: a message from the target, on stderr.
bg_say() {
	printf 'make %s: %s\n' "$target" "$*" >&2
}

# bg_die CODE TEXT
bg_die() {
	bg_code=$1
	shift
	bg_say "$*"
	exit "$bg_code"
}

# bg_safe NAME VALUE: VALUE goes into command lines run by the server's
# shell, so it is limited to characters that need no quoting there.
bg_safe() {
	case $2 in
	'' | -* | *[!A-Za-z0-9_./@%+=:,~-]*)
		bg_die 2 "$1=$2: use only letters, digits and _./@%+=:,~- (not starting with -)"
		;;
	esac
}

# bg_tmp: a private scratch directory (0700), removed on exit.
bg_tmp() {
	[ -n "${ctl:-}" ] && return 0
	ctl=$(mktemp -d "${TMPDIR:-/tmp}/bg-make.XXXXXX") ||
	    bg_die 5 "cannot create a scratch directory in ${TMPDIR:-/tmp}"
	# An ssh control socket path must fit in sun_path (108 bytes).
	if [ "${#ctl}" -gt 80 ]; then
		rmdir "$ctl"
		ctl=$(mktemp -d /tmp/bg-make.XXXXXX) ||
		    bg_die 5 "cannot create a scratch directory in /tmp"
	fi
	trap bg_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

bg_cleanup() {
	if [ -S "$ctl/ssh" ]; then
		# shellcheck disable=SC2086 # SSH_OPTS is a list of options
		ssh $ssh_opts -o ControlPath="$ctl/ssh" -O exit "$host" \
		    >/dev/null 2>&1
	fi
	rm -rf "$ctl"
}

# bg_connect: open the one connection to the server. Its stdio is not
# make's: a background master holding make's stdout or stderr open would
# keep a caller reading them (a pipe, $(make ...)) waiting.
bg_connect() {
	bg_tmp
	[ "$host" = local ] && return 0
	# shellcheck disable=SC2086
	if ! ssh $ssh_opts -o ConnectTimeout=10 -o ControlPath="$ctl/ssh" \
	    -o ControlMaster=yes -o ControlPersist=no -fN "$host" \
	    </dev/null >/dev/null 2>"$ctl/ssh.err"; then
		sed 's/^/ssh: /' "$ctl/ssh.err" >&2
		bg_die 5 "cannot connect to $host with ssh: nothing was changed there"
	fi
}

# bg_ssh [ssh options] CMD: CMD runs on the server, through the master
# when there is one; stdin is not read.
bg_ssh() {
	if [ -S "${ctl:-/nonexistent}/ssh" ]; then
		# shellcheck disable=SC2086
		ssh $ssh_opts -o ControlPath="$ctl/ssh" "$host" "$@"
	else
		# shellcheck disable=SC2086
		ssh $ssh_opts -o ConnectTimeout=10 "$host" "$@"
	fi
}

# bg_on CMD: run the command line CMD on the server (stdin: /dev/null).
bg_on() {
	if [ "$host" = local ]; then
		sh -c "$1" </dev/null
	else
		bg_ssh -n "$1"
	fi
}

# bg_tty CMD: like bg_on, with a terminal on the server when we have one,
# so the tools show progress and Ctrl-C reaches them.
bg_tty() {
	if [ "$host" = local ]; then
		sh -c "$1"
	elif [ -t 0 ] && [ -t 2 ]; then
		bg_ssh -t "$1"
	else
		bg_ssh -n "$1"
	fi
}

# bg_script FILE ARGS...: run the sh script FILE on the server with ARGS
# (each one bg_safe), feeding it on stdin: the server needs no copy of it.
bg_script() {
	bg_f=$1
	shift
	if [ "$host" = local ]; then
		cat pipeline/remote.sh "$bg_f" | sh -s -- "$@"
	else
		cat pipeline/remote.sh "$bg_f" | bg_ssh "sh -s -- $*"
	fi
}

# bg_rsync ARGS...: rsync through the connection; the destination is
# written "$at/path", where at is "HOST:" or empty for HOST=local.
bg_rsync() {
	if [ "$host" = local ]; then
		rsync "$@"
	elif [ -S "${ctl:-/nonexistent}/ssh" ]; then
		rsync -e "ssh $ssh_opts -o ControlPath=$ctl/ssh" "$@"
	else
		rsync -e "ssh $ssh_opts -o ConnectTimeout=10" "$@"
	fi
}

# bg_ssh_failed STATUS: true when STATUS is ssh's own failure, not the
# remote command's.
bg_ssh_failed() {
	[ "$host" != local ] && [ "$1" -eq 255 ]
}

# bg_revision DIR: what goes into APP/COLOR/REVISION: the git commit of DIR
# (with -dirty when DIR has uncommitted changes), else a UTC timestamp.
bg_revision() {
	if git -C "$1" rev-parse --is-inside-work-tree >/dev/null 2>&1 &&
	    bg_r=$(git -C "$1" rev-parse --verify -q HEAD 2>/dev/null); then
		if [ -n "$(git -C "$1" status --porcelain -- . 2>/dev/null)" ]; then
			bg_r=$bg_r-dirty
		fi
	else
		bg_r=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	fi
	printf '%s\n' "$bg_r"
}

# bg_other COLOR
bg_other() {
	case $1 in
	blue) echo green ;;
	green) echo blue ;;
	*) return 1 ;;
	esac
}

bg_safe HOST "$host"
bg_safe APP "$app"
bg_safe BG_CONF "$conf"
bg_safe BG_BIN "$bin"
at=
[ "$host" = local ] || at=$host:
