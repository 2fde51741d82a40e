# pipeline/remote.sh - what the server-side scripts share. pipeline/lib.sh's
# bg_script sends it ahead of each script to the server's sh -s, so the
# server needs no copy. Each script sets $what (deploy, rollback, status).

# shellcheck shell=sh disable=SC2154
# (what, conf and app are set by the script that follows)

say() {
	printf 'make %s: %s\n' "$what" "$*" >&2
}

# conf_load: every "key = value" line of the config as a shell variable
# c_KEY, blanks trimmed, in one pass without a process per key (sessions on
# a busy server add up). Comments and malformed lines are the tools' to
# report; they are skipped here.
conf_load() {
	cr=$(printf '\r')
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%"$cr"}
		case $line in *=*) ;; *) continue ;; esac
		k=${line%%=*}
		v=${line#*=}
		k=${k#"${k%%[![:blank:]]*}"}
		k=${k%"${k##*[![:blank:]]}"}
		v=${v#"${v%%[![:blank:]]*}"}
		v=${v%"${v##*[![:blank:]]}"}
		case $k in '' | *[!a-z_]*) continue ;; esac
		eval "c_$k=\$v"
	done <"$conf"
}

# revision COLOR: APP/COLOR/REVISION as bgflip logs it: the first line's
# printable non-blank bytes, at most 64; "-" when absent.
revision() {
	r=$(sed -n '1{s/[^[:graph:]]//g;s/^\(.\{64\}\).*/\1/;p;}' \
	    "$app/$1/REVISION" 2>/dev/null)
	printf '%s\n' "${r:--}"
}
