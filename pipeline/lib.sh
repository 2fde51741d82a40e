# pipeline/lib.sh - how the Makefile's pipeline recipes reach the server,
# sourced by them (POSIX sh). What runs there is the step scripts (see
# pipeline/common.sh), at the server path $lib (make's BG_LIB).
#
# The recipe sets, before sourcing: target (make's $@), host (HOST),
# ssh_opts (SSH_OPTS), lib (BG_LIB), app (APP) and conf (BG_CONF), for
# messages and the copy.
#
# One ssh connection per make run: bg_connect opens a master connection
# whose socket lives in a private mktemp -d directory; every later ssh and
# rsync of the recipe goes through it; an EXIT trap closes it (ssh -O exit)
# and removes the directory, on success, failure and Ctrl-C alike. A target
# that needs only one session (switch, status, history) skips the master.
# HOST=local runs the same scripts with sh, and rsync copies locally.
# When BG_STATUS_FILE is set (pipeline/fleet.sh sets it for its sub-makes),
# the recipe's exit status is written there.
#
#   bg_server [-i|-t] SCRIPT ARG...   sh BG_LIB/SCRIPT ARG... on the server;
#                        stdin /dev/null, or ours (-i), or a terminal when
#                        we have one (-t); ssh failing is exit 5
#   bg_deploy_init SRC REVISION   checks SRC; sets rev and stamp
#   bg_pre_deploy HOOK DRY SRC    runs hooks/pre-deploy here
#   bg_begin ARG...      deploy-begin.sh, its stdin a pipe held until
#                        bg_end; sets color (blue or green, else exit 5),
#                        ids, staging from its line
#   bg_copy SRC FILTER DRY OPT... rsync SRC/ into APP/$color/
#   bg_end DRY           releases the deploy lock, says what is next

# shellcheck shell=sh disable=SC2154,SC2034 # the recipe sets these, and uses what this sets
what=$target
# shellcheck source=/dev/null
. pipeline/common.sh

# q WORD: WORD quoted for a shell.
q() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# bg_tmp: a private scratch directory (0700), removed on exit.
bg_tmp() {
	[ -n "${ctl:-}" ] && return 0
	ctl=$(mktemp -d "${TMPDIR:-/tmp}/bg-make.XXXXXX") ||
	    die 5 "cannot create a scratch directory in ${TMPDIR:-/tmp}"
	# An ssh control socket path must fit in sun_path (108 bytes).
	if [ "${#ctl}" -gt 80 ]; then
		rmdir "$ctl"
		ctl=$(mktemp -d /tmp/bg-make.XXXXXX) ||
		    die 5 "cannot create a scratch directory in /tmp"
	fi
}

bg_exit() {
	bg_st=$?
	[ -z "${BG_STATUS_FILE:-}" ] || echo "$bg_st" >"$BG_STATUS_FILE"
	# deploy-begin.sh's session ends on its own once its stdin does
	# (bounded: the connection may hang), before the master closes
	if [ -n "${bg_holder:-}" ]; then
		exec 8>&-
		bg_n=50
		while [ "$bg_n" -gt 0 ] && kill -0 "$bg_holder" 2>/dev/null; do
			sleep 0.1
			bg_n=$((bg_n - 1))
		done
	fi
	if [ -S "${ctl:-/nonexistent}/ssh" ]; then
		# shellcheck disable=SC2086 # SSH_OPTS is a list of options
		ssh $ssh_opts -o ControlPath="$ctl/ssh" -O exit "$host" \
		    >/dev/null 2>&1
	fi
	[ -z "${ctl:-}" ] || rm -rf "$ctl"
	exit "$bg_st"
}
trap bg_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

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
		die 5 "cannot connect to $host with ssh: nothing was changed there"
	fi
}

# bg_ssh [ssh options] CMD: CMD runs on the server, through the master
# when there is one.
bg_ssh() {
	if [ -S "${ctl:-/nonexistent}/ssh" ]; then
		# shellcheck disable=SC2086
		ssh $ssh_opts -o ControlPath="$ctl/ssh" "$host" "$@"
	else
		# shellcheck disable=SC2086
		ssh $ssh_opts -o ConnectTimeout=10 "$host" "$@"
	fi
}

bg_server() {
	bg_in=n
	case $1 in -i | -t) bg_in=${1#-}; shift ;; esac
	bg_s=$1
	shift
	bg_nolib="make $target: no $lib/$bg_s on $host: make init (or the bg package) installs the server scripts there; or set BG_LIB"
	if [ "$host" = local ]; then
		[ -r "$lib/$bg_s" ] || die 5 "${bg_nolib#"make $target: "}"
		if [ "$bg_in" = n ]; then
			sh "$lib/$bg_s" "$@" </dev/null
		else
			sh "$lib/$bg_s" "$@"
		fi
		return
	fi
	bg_cmd="if [ ! -r $(q "$lib/$bg_s") ]; then echo $(q "$bg_nolib") >&2; exit 5; fi; sh $(q "$lib/$bg_s")"
	for bg_a in "$@"; do
		bg_cmd="$bg_cmd $(q "$bg_a")"
	done
	[ "$bg_in" != t ] || { [ -t 0 ] && [ -t 2 ]; } || bg_in=n
	bg_st=0
	case $bg_in in
	n) bg_ssh -n "$bg_cmd" || bg_st=$? ;;
	t) bg_ssh -t "$bg_cmd" || bg_st=$? ;;
	*) bg_ssh "$bg_cmd" || bg_st=$? ;;
	esac
	[ "$bg_st" -ne 255 ] ||
	    die 5 "the ssh connection to $host failed (see above) during $bg_s; make status says where things stand there"
	return "$bg_st"
}

bg_deploy_init() {
	[ -d "$1" ] || die 2 "APP_SRC=$1 is not a directory"
	rev=${2:-$(revision_of "$1")}
	safe REVISION "$rev"
	stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ),$(id -un | tr -cd A-Za-z0-9_.-)@$(uname -n | tr -cd A-Za-z0-9_.-),$$
}

bg_pre_deploy() {
	[ -x "$1" ] || return 0
	if [ "$2" = 1 ]; then
		say "dry run: would run $1"
	else
		HOST=$host APP_SRC=$3 "$1" ||
		    die 1 "$1 failed (exit $?): nothing was deployed"
	fi
}

bg_begin() {
	bg_connect
	mkfifo "$ctl/hold" "$ctl/begin" || die 5 "cannot create a pipe in $ctl"
	{
		trap - EXIT INT TERM HUP
		bg_server -i deploy-begin.sh "$@"
	} <"$ctl/hold" >"$ctl/begin" &
	bg_holder=$!
	exec 8>"$ctl/hold" 7<"$ctl/begin"
	if ! read -r color ids staging <&7; then
		exec 7<&- 8>&-
		bg_st=0
		wait "$bg_holder" || bg_st=$?
		[ "$bg_st" -ne 0 ] || die 5 "deploy-begin.sh said nothing: nothing was copied"
		exit "$bg_st"
	fi
	exec 7<&-
	# What the server's step says is a claim: run as root there, it
	# drops to the deploy user, who may write its own line into that
	# process's output. The color names a directory: only blue or green.
	case $color in
	blue | green) ;;
	*) die 5 "deploy-begin.sh on $host answered \"$(printf '%s' "$color" | tr -cd '[:graph:]' | cut -c1-40)\", not a color: nothing was copied" ;;
	esac
}

bg_copy() {
	bg_src=$1 bg_filter=$2 bg_dry=$3
	shift 3
	set -- -rlpt --delete --checksum --itemize-changes \
	    --filter="merge $bg_filter" "$@" "$bg_src/"
	[ "$bg_dry" != 1 ] || set -- --dry-run "$@"
	if [ "$bg_dry" = 1 ]; then
		say "copying $bg_src/ to $host:$app/$color/ (dry run: what would change)"
	else
		say "copying $bg_src/ to $host:$app/$color/"
	fi
	# As root there, the copy runs as APP's owner, found there by
	# common.sh's as_owner: never as whom deploy-begin.sh's line ($ids)
	# names, which the deploy user can write (see bg_begin).
	bg_st=0
	if [ "$host" = local ]; then
		as_owner rsync "$@" "$app/$color/" || bg_st=$?
	else
		# shellcheck disable=SC2016 # for the server's sh
		set -- --rsync-path="app=$(q "$app") what=deploy sh -c '. \"\$0\" && as_owner rsync \"\$@\"' $(q "$lib/common.sh")" "$@"
		rsync -e "ssh $ssh_opts -o ControlPath=$ctl/ssh" "$@" \
		    "$host:$app/$color/" || bg_st=$?
	fi
	[ "$bg_st" -eq 0 ] ||
	    die 5 "copying into $color failed (rsync exit $bg_st). Production is untouched; $color stays marked as being staged, so make switch refuses it; run make deploy again to repair it"
}

bg_end() {
	exec 8>&-
	bg_st=0
	wait "$bg_holder" || bg_st=$?
	[ "$bg_st" -eq 0 ] || exit "$bg_st"
	if [ "$1" = 1 ]; then
		say "dry run: nothing was changed on $host"
		return 0
	fi
	echo "staging: ${staging:-(set staging_url in $conf to see it here)}"
	echo "now: make switch"
}

# make init's recipe (pipeline/init.sh's side) speaks these names.
bg_say() { say "$@"; }
bg_die() { die "$@"; }
bg_safe() { safe "$@"; }
bg_ssh_failed() { [ "$host" != local ] && [ "$1" -eq 255 ]; }
bg_on() { if [ "$host" = local ]; then sh -c "$1" </dev/null; else bg_ssh -n "$1"; fi; }
bg_tty() {
	if [ "$host" = local ]; then
		sh -c "$1"
	elif [ -t 0 ] && [ -t 2 ]; then
		bg_ssh -t "$1"
	else
		bg_ssh -n "$1"
	fi
}
bg_rsync() {
	if [ "$host" = local ]; then
		rsync "$@"
	else
		rsync -e "ssh $ssh_opts -o ControlPath=$ctl/ssh" "$@"
	fi
}

safe HOST "$host"
safe BG_LIB "$lib"
at=
[ "$host" = local ] || at=$host:
