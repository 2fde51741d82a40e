# pipeline/fleet.sh TARGET HOST... - make TARGET on several servers: what
# the Makefile runs when HOSTS is set (POSIX sh).
#
# Each server gets the one-server target, run by a sub-make with HOST set
# to it and every other setting as given (make passes them on); its output
# comes through prefixed "HOST | ". No agent and no state on the servers
# beyond what one-server bg keeps.
#
#   deploy, init  every server at once; then a summary table. A failure on
#                 one server stops nothing elsewhere: the others end up
#                 staged, and nothing goes live (deploy never switches).
#                 hooks/pre-deploy runs once, here, before any of them.
#   switch        first every server must answer and hold the same
#                 revision, fully staged, in its standby; nothing is
#                 switched otherwise. Then rolling: PARALLEL servers at a
#                 time (default 1), each
#                 flipped, verified and drained (make switch) before the
#                 next batch starts. The first failure stops it: servers
#                 switched stay switched, later ones are not touched.
#                 Every server switched is added to ROLLOUT, a file here.
#   rollback      the servers in ROLLOUT, last switched first, PARALLEL at
#                 a time, each through the one-server make rollback (same
#                 checks, FORCE=1 as there); each one rolled back leaves
#                 ROLLOUT, so running it again after a failure goes on
#                 where it stopped.
#   status        one row per server; live revisions that differ are
#                 flagged.
#   history       each server's history, one after the other.
#
# Environment (set by the Makefile): MAKE, PARALLEL, ROLLOUT, PRE_DEPLOY,
# DRY_RUN (1 or 0), APP_SRC, REVISION (empty: one is made here, the same
# for every server).
#
# Exit: 0 when every server succeeded; else the largest status of a server
# that failed, as its make target reports it (1 refused, 3 timed out, 5
# unreachable...); 2 for bad arguments.

# shellcheck shell=sh

target=$1
shift
# shellcheck disable=SC2034 # read by common.sh
what=$target
# shellcheck source=/dev/null
. pipeline/common.sh

# run N HOST TARGET [VAR=VALUE...]: the one-server TARGET on HOST, its
# output prefixed with HOST and kept in $dir/N.log; its status in $dir/N.st:
# the recipe's own (make exits 2 whenever a recipe fails), which the
# recipe writes into BG_STATUS_FILE (pipeline/lib.sh).
run() {
	n=$1 h=$2 t=$3
	shift 3
	{
		st=0
		BG_STATUS_FILE=$dir/$n.rst "${MAKE:-make}" --no-print-directory \
		    "$t" HOST="$h" HOSTS= "$@" </dev/null 2>&1 || st=$?
		[ "$st" -eq 0 ] || [ ! -s "$dir/$n.rst" ] || st=$(cat "$dir/$n.rst")
		echo "$st" >"$dir/$n.st"
	} | tee "$dir/$n.log" | awk -v h="$h" '{ print h " | " $0; fflush() }'
}

# batch TARGET HOST...: run TARGET on every HOST at once; wait for all.
# Servers are numbered in $dir/N.host from $count on.
batch() {
	bt=$1
	shift
	for h in "$@"; do
		count=$((count + 1))
		echo "$h" >"$dir/$count.host"
		# shellcheck disable=SC2086 # VAR=VALUE words without blanks
		run "$count" "$h" "$bt" $vars &
	done
	wait
}

# why N: the last thing server N's make said about itself ("make TARGET:
# ..."; a status asked for a switch says "make status:"), else its last
# other line (ssh's own message when a single session could not connect).
why() {
	r=$(sed -n 's/^make [a-z]*: //p' "$dir/$1.log" | tail -n 1)
	[ -n "$r" ] || r=$(grep -v '^make' "$dir/$1.log" | tail -n 1)
	printf '%s\n' "$r"
}

# summary: a row per server run so far: HOST, RESULT, what it said last.
# Sets worst to the largest status.
summary() {
	worst=0
	echo
	printf '%-24s %-8s %s\n' HOST RESULT NOTE
	i=1
	while [ "$i" -le "$count" ]; do
		st=$(cat "$dir/$i.st")
		if [ "$st" -eq 0 ]; then
			r=ok
		else
			r="exit $st"
			[ "$st" -le "$worst" ] || worst=$st
		fi
		printf '%-24s %-8s %s\n' "$(cat "$dir/$i.host")" "$r" "$(why "$i")"
		i=$((i + 1))
	done
}

# fanout: deploy or init on every server at once.
fanout() {
	batch "$target" "$@"
	summary
	[ "$(failed)" -lt $# ] || die "$worst" "failed on every server (see above)"
	[ "$worst" -eq 0 ] || die "$worst" "failed on $(failed) of $# servers (see above); the others succeeded${staged}"
	say "done on all $# servers"
}

# failed: how many servers failed so far.
failed() {
	grep -lvx 0 "$dir"/*.st | wc -l
}

# rolling TARGET HOST...: PARALLEL at a time; stop after the first batch
# with a failure. A server that succeeded goes into (switch) or out of
# (rollback) ROLLOUT. Exit 3 alone (the flip succeeded, the drain timed
# out) does not stop it.
rolling() {
	rt=$1
	shift
	total=$#
	while [ $# -gt 0 ]; do
		set -- "$@" -- # the batch, then the rest
		b=
		k=0
		while [ "$1" != -- ]; do
			if [ "$k" -lt "$PARALLEL" ]; then
				b="$b $1"
				k=$((k + 1))
			else
				set -- "$@" "$1"
			fi
			shift
		done
		shift
		first=$((count + 1))
		# shellcheck disable=SC2086 # host names have no blanks
		batch "$rt" $b
		stop=0
		i=$first
		while [ "$i" -le "$count" ]; do
			st=$(cat "$dir/$i.st")
			h=$(cat "$dir/$i.host")
			case $st in
			0 | 3) record "$h" ;;
			*) stop=1 ;;
			esac
			i=$((i + 1))
		done
		if [ "$stop" -eq 1 ]; then
			summary
			left=$((total - count))
			die "$worst" "stopped: $(failed) server(s) failed (see above); $((count - $(failed))) done stay as they are; $left not touched.$after"
		fi
	done
	summary
	[ "$worst" -eq 0 ] || die "$worst" "done on all $total servers, but some drains timed out (see above): production is fine there"
	say "done on all $total servers, one batch of $PARALLEL at a time"
}

# record HOST: switch adds HOST to ROLLOUT, rollback takes it out.
record() {
	if [ "$target" = switch ]; then
		echo "$1" >>"$ROLLOUT"
	else
		grep -vxF "$1" "$ROLLOUT" >"$ROLLOUT.new"
		mv "$ROLLOUT.new" "$ROLLOUT"
	fi
}

# rows HOST...: every server's one-server status in its row form
# (pipeline/status.sh: NAME=VALUE words), asked at once. For server N:
# $dir/N.row, the row ("" when it could not be had), and $dir/N.live and
# N.standby, the revisions its live and standby colors run ("?" when
# unknown).
rows() {
	for h in "$@"; do
		count=$((count + 1))
		echo "$h" >"$dir/$count.host"
		run "$count" "$h" status STATUS_FORMAT=row >/dev/null &
	done
	wait
	i=1
	while [ "$i" -le "$count" ]; do
		: >"$dir/$i.row"
		[ "$(cat "$dir/$i.st")" -ne 0 ] ||
		    grep '^live=' "$dir/$i.log" | tail -n 1 >"$dir/$i.row"
		live=$(field "$i" live)
		if s=$(other "$live"); then
			field "$i" "rev_$live" >"$dir/$i.live"
			field "$i" "rev_$s" >"$dir/$i.standby"
		else
			echo '?' >"$dir/$i.live"
			echo '?' >"$dir/$i.standby"
		fi
		i=$((i + 1))
	done
}

# field N NAME: NAME's value in server N's row, "" when none.
field() {
	tr ' ' '\n' <"$dir/$1.row" | sed -n "s/^$2=//p"
}

# differ WHICH: when the servers' WHICH (live or standby) revisions
# differ, say which server runs which, and fail.
differ() {
	w=$1
	# shellcheck disable=SC2046 # revisions have no blanks
	set -- $(cat "$dir"/*."$w" | sort -u)
	[ $# -gt 1 ] || return 0
	for r in "$@"; do
		printf '  %s:' "$r"
		i=1
		while [ "$i" -le "$count" ]; do
			[ "$(cat "$dir/$i.$w")" != "$r" ] ||
			    printf ' %s' "$(cat "$dir/$i.host")"
			i=$((i + 1))
		done
		echo
	done >"$dir/differ"
	return 1
}

# status: a row per server; flags live revisions that differ.
status() {
	rows "$@"
	printf '%-24s %-6s %-14s %-14s %-9s %-9s %-20s %s\n' HOST LIVE \
	    BLUE GREEN HEALTH IN-FLIGHT 'LAST SWITCH' NOTE
	i=1
	while [ "$i" -le "$count" ]; do
		h=$(cat "$dir/$i.host")
		if [ ! -s "$dir/$i.row" ]; then
			printf '%-24s %s\n' "$h" "cannot tell: $(why "$i")"
		else
			note=
			st=$(field "$i" staging)
			[ "$st" = - ] || note="$st being staged"
			printf '%-24s %-6s %-14.14s %-14.14s %-9s %-9s %-20s %s\n' \
			    "$h" "$(field "$i" live)" "$(field "$i" rev_blue)" \
			    "$(field "$i" rev_green)" \
			    "$(field "$i" health_blue)/$(field "$i" health_green)" \
			    "$(field "$i" conns_blue)/$(field "$i" conns_green)" \
			    "$(field "$i" last)" "$note"
		fi
		i=$((i + 1))
	done
	if ! differ live; then
		echo
		say "the servers' live revisions differ:"
		cat "$dir/differ" >&2
		return 1
	fi
	[ "$(failed)" -eq 0 ] || return 5
}

# preflight HOST...: before a rolling switch touches any server, every one
# must answer, and hold in its standby the same revision, fully staged:
# otherwise a server that missed the last deploy would put an old
# version live. Clears $dir for the switch.
preflight() {
	rows "$@"
	bad=0
	i=1
	while [ "$i" -le "$count" ]; do
		h=$(cat "$dir/$i.host")
		st=$(field "$i" staging)
		if [ ! -s "$dir/$i.row" ]; then
			say "$h: cannot tell what it runs: $(why "$i")"
			bad=5
		elif ! other "$(field "$i" live)" >/dev/null; then
			say "$h: cannot tell which color is live (make status HOST=$h)"
			[ "$bad" -eq 5 ] || bad=1
		elif [ "$st" != - ]; then
			say "$h: $st is being staged: make deploy did not finish there"
			[ "$bad" -eq 5 ] || bad=1
		fi
		i=$((i + 1))
	done
	if [ "$bad" -eq 0 ] && ! differ standby; then
		say "the servers' standbys run different revisions, so the switch would put different versions live:"
		cat "$dir/differ" >&2
		bad=1
	fi
	[ "$bad" -eq 0 ] ||
	    die "$bad" "nothing was switched: deploy again to the servers named (or switch only the others: HOSTS=...)"
	say "every standby runs $(cat "$dir/1.standby"): switching $count server(s), $PARALLEL at a time"
	rm -f "$dir"/*
	count=0
}

main() {
	[ $# -gt 0 ] || die 2 "HOSTS is empty"
	case $PARALLEL in
	'' | 0* | *[!0-9]*) die 2 "PARALLEL=$PARALLEL: want a number of servers, 1 or more" ;;
	esac
	dir=$(mktemp -d "${TMPDIR:-/tmp}/bg-fleet.XXXXXX") ||
	    die 5 "cannot create a scratch directory"
	trap 'rm -rf "$dir"' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	count=0
	vars=
	staged=
	after=
	case $target in
	deploy)
		REVISION=${REVISION:-$(revision_of "$APP_SRC")}
		safe REVISION "$REVISION"
		if [ -x "$PRE_DEPLOY" ]; then
			if [ "$DRY_RUN" = 1 ]; then
				say "dry run: would run $PRE_DEPLOY"
			else
				HOST="$*" APP_SRC=$APP_SRC "$PRE_DEPLOY" ||
				    die 1 "$PRE_DEPLOY failed (exit $?): nothing was deployed"
			fi
		fi
		vars="PRE_DEPLOY= REVISION=$REVISION"
		staged=", and are staged: nothing went live; fix the failed ones and run make deploy again (for them alone: HOSTS=...), then make switch"
		fanout "$@"
		;;
	init)
		fanout "$@"
		;;
	switch)
		: >"$ROLLOUT" || die 5 "cannot write $ROLLOUT"
		after=" ROLLOUT=$ROLLOUT lists the switched ones: make rollback HOSTS=... brings them back"
		preflight "$@"
		rolling switch "$@"
		;;
	rollback)
		[ -s "$ROLLOUT" ] ||
		    die 1 "no rolling switch recorded in $ROLLOUT, so no server to roll back (one server alone: make rollback HOST=...)"
		# shellcheck disable=SC2046 # host names have no blanks
		set -- $(sed -n '1!G;h;$p' "$ROLLOUT" | while read -r h; do
			case " $* " in *" $h "*) echo "$h" ;; esac
		done)
		[ $# -gt 0 ] ||
		    die 1 "none of HOSTS is in $ROLLOUT: the last rolling switch switched $(tr '\n' ' ' <"$ROLLOUT")"
		say "rolling back $*: the servers the last make switch switched, last first"
		rolling rollback "$@"
		rm -f "$ROLLOUT"
		;;
	status)
		status "$@"
		;;
	history)
		for h in "$@"; do
			count=$((count + 1))
			run "$count" "$h" history
		done
		[ "$(failed)" -eq 0 ] || exit 5
		;;
	*)
		die 2 "no fleet form of make $target"
		;;
	esac
}

main "$@"
