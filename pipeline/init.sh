# pipeline/init.sh SRC INIT - the server side of "make init", run as root
# with sh. INIT is what make prepared on the operator's machine:
#   INIT/bg.conf   the config to install (from the make variables)
#   INIT/vars      NAME=value lines: conf, bin, mandir, user, pkg, ... and
#                  the template placeholders (upper case: LISTEN, STATE, ...)
#   INIT/hooks/    the hooks to install, exactly these (HOOKS_SRC)
#   INIT/bg.deb    the package to install, when pkg=1
# SRC holds nginx/ and systemd/ (the templates), and tools/ and docs/ when
# the tools are installed from a built tree (BUILD_ON_SERVER=1, HOST=local)
# instead of the package.
#
# Two phases. First every setting is checked and nothing is changed: a
# missing or wrong one is exit 2 (a make variable) or 4 (the server says
# no: an unsafe directory, an address in use), naming the variable. Then
# each path is compared before it is written and reported as unchanged,
# created or updated, so a second run changes nothing.
#
# Root never writes, chmods or chowns inside a directory another user can
# write: what lies inside APP (the deploy user's) is done as the deploy user
# (setpriv), and every other path root writes must lie in directories that
# only root can change, all the way up (checked first).

# shellcheck shell=sh

changed=0	# something was written
nginx_changed=0	# a file nginx reads was written
failed=0

note() {
	printf 'make init: %s\n' "$*"
}

# err TEXT: what failed; make init ends in failure. Returns 1.
err() {
	printf 'make init: %s\n' "$*" >&2
	failed=1
	return 1
}

# did TEXT: what was written, counted.
did() {
	note "$*"
	changed=$((changed + 1))
}

# die CODE TEXT: a setting is missing or wrong; nothing was changed.
die() {
	c=$1
	shift
	printf 'make init: %s\n' "$*" >&2
	printf 'make init: nothing was changed on %s\n' "$(uname -n)" >&2
	exit "$c"
}

var() {
	sed -n "s/^$1=//p" "$init/vars" | head -n 1
}

conf_get() {
	v=$(sed -n "s/^[[:blank:]]*$1[[:blank:]]*=[[:blank:]]*//p" "$init/bg.conf" |
	    sed 's/[[:blank:]]*$//' | tail -n 1)
	printf '%s\n' "${v:-$2}"
}

# owner_of USER: USER:GROUP with USER's primary group.
owner_of() {
	printf '%s:%s\n' "$1" "$(id -gn "$1")"
}

# as_user CMD...: CMD as the deploy user (its uid, gid and groups), for
# work inside the deploy user's directories; in a session of its own with
# no input, so the deploy user, who may trace that process, cannot reach
# root's terminal through it (no TIOCSTI without a controlling terminal).
as_user() {
	if [ "$(id -u)" -ne 0 ]; then
		"$@"
	else
		setsid -w setpriv --reuid="$user" --regid="$(id -g "$user")" \
		    --init-groups --inh-caps=-all -- "$@" </dev/null
	fi
}

# root_safe PATH: PATH's nearest existing ancestor, and each directory
# above it, is root's and not writable by group or others; an existing
# PATH itself is root's too. A sticky directory such as /tmp is fine
# above, not as that nearest ancestor: root would create or change an
# entry there that another user could have made first or swap. Not root
# (a sandbox): everything is ours, nothing to check.
root_safe() {
	[ "$(id -u)" -eq 0 ] || return 0
	p=$1
	if [ -e "$p" ] || [ -L "$p" ]; then
		[ "$(stat -c %u "$p")" -eq 0 ] || return 1
		p=$(dirname "$p")
	fi
	while [ ! -e "$p" ] && [ "$p" != / ]; do
		p=$(dirname "$p")
	done
	near=1
	while :; do
		[ ! -L "$p" ] || return 1
		st=$(stat -L -c '%u %a' "$p") || return 1
		[ "${st% *}" -eq 0 ] || return 1
		case $near${st#* } in
		01???) ;;	# sticky above: its entries are their owners'
		*) [ $((0${st#* } & 022)) -eq 0 ] || return 1 ;;
		esac
		[ "$p" = / ] && return 0
		near=0
		p=$(dirname "$p")
	done
}

# put SRC DST MODE OWNER: DST becomes a copy of SRC with MODE and OWNER
# (user:group), replaced in one rename, and only when something differs.
# DST's directory is root's (root_safe, checked before).
put() {
	if [ -f "$2" ] && [ ! -L "$2" ] && cmp -s "$1" "$2" &&
	    [ "$(stat -c '%a %U:%G' "$2")" = "${3#0} $4" ]; then
		note "$2: unchanged"
		return 0
	fi
	what=created
	[ ! -e "$2" ] || what=updated
	t=$(dirname "$2")/.bg-init.tmp
	if ! { rm -f "$t" && cp "$1" "$t" && chmod "$3" "$t" &&
	    chown "$4" "$t" && mv -f "$t" "$2"; }; then
		rm -f "$t"
		err "cannot install $2"
		return 1
	fi
	did "$2: $what"
}

# set_own PATH MODE OWNER: PATH's mode and owner (user:group) set, when
# they differ; chown first, as it may clear a set-group-ID bit. PATH lies
# in directories only root can change (root_safe).
set_own() {
	[ "$(stat -c '%a %U:%G' "$1")" = "${2#0} $3" ] && return 0
	{ chown "$3" "$1" && chmod "$2" "$1"; } || { err "cannot set up $1"; return 1; }
	n=$1
	[ ! -d "$1" ] || n=$1/
	did "$n: mode and owner set to $2 $3"
}

# dir_ok DIR: DIR is a directory or nothing yet, not a link nor a file.
dir_ok() {
	[ -L "$1" ] || { [ -e "$1" ] && [ ! -d "$1" ]; } || return 0
	err "$1 exists and is not a directory"
}

# own_dir DIR MODE OWNER: a directory in directories only root can change
# (root_safe), so working by path is safe (root's own ones, APP itself,
# the socket directory): created with MODE and OWNER in one step, or those
# set when they differ.
own_dir() {
	dir_ok "$1" || return 1
	if [ -d "$1" ]; then
		set_own "$1" "$2" "$3"
		return
	fi
	install -d -m "$2" -o "${3%:*}" -g "${3#*:}" "$1" ||
	    { err "cannot create $1"; return 1; }
	did "$1/: created ($2 $3)"
}

# user_dir DIR: one of the deploy user's directories. APP itself sits in a
# directory of root's: created with its owner in one step (install -d -o),
# or given back to the deploy user. Those inside APP are made by the deploy
# user itself; one there that is not the deploy user's is refused, never
# chowned (root works by path only where nobody else can swap the path).
user_dir() {
	if [ "$1" = "$app" ]; then
		own_dir "$1" 0755 "$owner"
		return
	fi
	dir_ok "$1" || return 1
	if [ ! -d "$1" ]; then
		as_user mkdir -m 0755 "$1" || { err "cannot create $1 as $user"; return 1; }
		did "$1/: created (by $user)"
		return 0
	fi
	case $(stat -c '%a %U:%G' "$1") in
	"755 $owner") return 0 ;;
	*" ${owner%:*}:"*)
		as_user chmod 0755 "$1" || { err "cannot chmod $1 as $user"; return 1; }
		did "$1/: mode set to 0755 (by $user)"
		;;
	*)
		err "$1 is $(stat -c %U:%G "$1"), not $owner's: root does not chown inside $app (the deploy user's); fix it by hand: chown -R $owner $1"
		return 1
		;;
	esac
}

# parent_dir PATH: the directory of PATH, created (root, 0755) when
# missing; an existing one is left as it is (it may be /etc or /tmp).
parent_dir() {
	p=$(dirname "$1")
	[ -d "$p" ] && return 0
	if ! { mkdir -p "$p" && chmod 0755 "$p"; }; then
		err "cannot create $p"
		return 1
	fi
	did "$p/: created"
}

# render TEMPLATE OUT: an nginx template filled in by nginx/fill (the one
# filler of bg's nginx templates: it knows their defaults and refuses a
# value that would end a directive) with the value of each of its
# placeholders from INIT/vars; fill names one left without a value.
render() {
	out=$2
	set -- "$1"
	for n in LISTEN STAGING_LISTEN SERVER_NAME STATE BLUE GREEN LIVE_ADDR \
	    STAGING_ADDR TLS_CERT TLS_KEY TLS_LISTEN IDLE_TIMEOUT ACME_ROOT \
	    BG_ALLOW APP_NGINX; do
		set -- "$@" "$n=$(var "$n")"
	done
	sh "$src/nginx/fill" "$@" >"$out.tmp" 2>"$init/fill.err" || {
		err "$(sed 's/^nginx\/fill: //' "$init/fill.err")"
		rm -f "$out.tmp"
		return 1
	}
	mv "$out.tmp" "$out"
}

# render_unit TEMPLATE OUT: a systemd template with every @NAME@ whose NAME
# is an upper-case line NAME=value of INIT/vars filled in; a placeholder
# left without a value is an error naming its variable.
render_unit() {
	cp "$1" "$2" || return 1
	for n in $(grep -o '@[A-Z_][A-Z_]*@' "$1" | tr -d @ | sort -u); do
		grep -q "^$n=" "$init/vars" || continue
		v=$(var "$n" | sed 's/[\\|&]/\\&/g')
		[ -n "$v" ] || continue
		sed "s|@$n@|$v|g" "$2" >"$2.tmp" && mv "$2.tmp" "$2" || return 1
	done
	left=$(grep -o '@[A-Z_][A-Z_]*@' "$2" | sort -u | tr '\n' ' ')
	if [ -n "$left" ]; then
		err "$1: no value for $left(set the make variable of that name)"
		return 1
	fi
}

nginx_t() {
	set -- -t
	[ -z "$ngx_prefix" ] || set -- "$@" -p "$ngx_prefix"
	[ -z "$ngx_conf" ] || set -- "$@" -c "$ngx_conf"
	"$ngx" "$@"
}

# nginx_master: the running master's pid from nginx_pid, or nothing.
nginx_master() {
	m=$(cat "$ngx_pid" 2>/dev/null) || return 1
	case $m in '' | *[!0-9]*) return 1 ;; esac
	kill -0 "$m" 2>/dev/null && echo "$m"
}

# reload_nginx: nginx -t, then SIGHUP, then wait (5 s at most) until the
# workers that were accepting have gone or are shutting down.
reload_nginx() {
	if ! m=$(nginx_master); then
		note "nginx is not running ($ngx_pid): start it to serve the new config"
		return 0
	fi
	nginx_t 2>"$init/nginx-t.err" || {
		cat "$init/nginx-t.err" >&2
		err "nginx -t rejects the new config: nginx keeps running the old one; fix it and run make init again"
		return 1
	}
	old=$(ps -o pid= --ppid "$m" | tr -d ' ')
	kill -HUP "$m" || { err "cannot signal nginx master $m"; return 1; }
	n=50
	while [ "$n" -gt 0 ]; do
		busy=0
		for w in $old; do
			a=$(ps -o args= -p "$w" 2>/dev/null) || continue
			case $a in *"shutting down"*) ;; *) busy=1 ;; esac
		done
		[ "$busy" -eq 0 ] && break
		sleep 0.1
		n=$((n - 1))
	done
	note "nginx reloaded (master $m)"
}

# shadowing_sites: enabled sites other than bg's that claim to be the
# default server or the catch-all name (Debian's sites-enabled/default):
# nginx would answer bg's requests from them. One "FILE: LINE" each.
shadowing_sites() {
	[ -n "$sites" ] && [ -d "$sites" ] || return 0
	for f in "$sites"/*; do
		[ -f "$f" ] || continue
		{ [ "$f" = "$site_link" ] || [ "$f" = "$live" ]; } && continue
		l=$(grep -E -m 1 '^[^#]*(default_server|server_name[[:blank:]]+_[[:blank:]]*;)' "$f") ||
		    continue
		printf '%s: %s\n' "$f" "$(echo "$l" | sed 's/^[[:blank:]]*//')"
	done
}

check_shadow() {
	s=$(shadowing_sites)
	[ -z "$s" ] && return 0
	printf 'make init: %s\n' "$s" >&2
	printf 'make init: %s\n' "that site is nginx's default server and would answer bg's requests (/bg: 404): disable it (rm $(echo "$s" | head -n 1 | cut -d: -f1)) and run make init again; or set ALLOW_DEFAULT_SITE=1 if it serves other names on purpose" >&2
	return 1
}

# listening HOST:PORT: something listens on that TCP address (a wildcard
# listener on the port counts).
listening() {
	h=${1%:*} port=${1##*:}
	h=${h#[}; h=${h%]}
	hp=$(printf '%04X' "$port")
	case $h in
	*:*) hx='' ;;	# IPv6: any listener on the port
	*) hx=$(echo "$h" | awk -F. '{ printf "%02X%02X%02X%02X", $4, $3, $2, $1 }') ;;
	esac
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v hp="$hp" -v hx="$hx" '
	    $4 == "0A" { split($2, a, ":"); if (a[2] != hp) next
		if (hx == "" || a[1] == hx || a[1] ~ /^0+$/) found = 1 }
	    END { exit !found }'
}

addr_ok() {
	case $1 in
	unix:/*) return 0 ;;
	\[*\]:[0-9]* | *[!:]:[0-9]*) case ${1##*:} in *[!0-9]*) return 1 ;; esac ;;
	*) return 1 ;;
	esac
}

# check: every setting, before anything is changed. Exit 2 for a missing
# or malformed make variable, 4 for what the server refuses.
check() {
	[ -n "$user" ] ||
	    die 2 "DEPLOY_USER is not set: name the user that deploys (it owns $app/blue, green, shared and runs sudo bgflip); not root"
	[ "$user" != root ] || [ "$sandbox" = 1 ] ||
	    die 2 "DEPLOY_USER=root: the deploy user must not be root (root would own the trees bgflip trusts nothing in)"
	id "$user" >/dev/null 2>&1 ||
	    die 4 "DEPLOY_USER=$user: no such user on $(uname -n) (create it: adduser --disabled-password $user)"
	[ "$(id -u "$user")" -ne 0 ] || [ "$sandbox" = 1 ] ||
	    die 2 "DEPLOY_USER=$user has uid 0: the deploy user must not be root"
	case $mode in
	reload | socket | port) ;;
	*) die 2 "MODE=$mode: use reload, socket or port" ;;
	esac
	for kv in URL:"$(conf_get url '')" BLUE:"$(conf_get blue '')" \
	    GREEN:"$(conf_get green '')"; do
		[ -n "${kv#*:}" ] || die 2 "${kv%%:*} is not set (bg.conf's ${kv%%:*} in lower case)"
	done
	addr_ok "$(conf_get blue '')" || die 2 "BLUE=$(conf_get blue ''): use HOST:PORT, [IPv6]:PORT or unix:/path.sock"
	addr_ok "$(conf_get green '')" || die 2 "GREEN=$(conf_get green ''): use HOST:PORT, [IPv6]:PORT or unix:/path.sock"
	case $(conf_get url '') in
	http://* | unix:/*) ;;
	*) die 2 "URL=$(conf_get url ''): use http://HOST[:PORT]/bg" ;;
	esac
	need="LIVE_CONF:$live"
	case $mode in
	reload) need="$need BLUE_CONF:$bc GREEN_CONF:$gc" ;;
	port) need="$need LIVE_ADDR:$(conf_get live_addr '') STAGING_ADDR:$(conf_get staging_addr '')" ;;
	esac
	for kv in $need; do
		[ -n "${kv#*:}" ] || die 2 "MODE=$mode needs ${kv%%:*}"
	done
	if [ "$mode" = port ]; then
		for k in live_addr staging_addr; do
			a=$(conf_get "$k" '')
			K=$(echo "$k" | tr '[:lower:]' '[:upper:]')
			case $a in
			unix:*) die 2 "$K=$a: port mode needs a loopback HOST:PORT" ;;
			esac
			addr_ok "$a" || die 2 "$K=$a: use HOST:PORT or [IPv6]:PORT"
			! listening "$a" ||
			    die 4 "$K=$a: something listens there already; port mode needs an address nobody listens on (nftables redirects it)"
		done
		[ -f "$src/nginx/port.conf" ] ||
		    die 4 "MODE=port: this bg has no port-mode template (nginx/port.conf)"
	fi
	for kv in BG_CONF:"$conf" APP:"$app" HOOKS:"$hooks" LOCK:"$lock" \
	    LOG:"$log" STATE:"$state" LIVE_CONF:"$live" BLUE_CONF:"$bc" \
	    GREEN_CONF:"$gc" UPSTREAMS_CONF:"$up" SITE_LINK:"$site_link" \
	    SOCKET_DIR:"$sockdir" BG_BIN:"$bin" ENV_DIR:"$envdir"; do
		case ${kv#*:} in
		'' | /*) ;;
		*) die 2 "${kv%%:*}=${kv#*:}: not an absolute path" ;;
		esac
		case ${kv#*:} in
		*[!A-Za-z0-9_./@%+=:,~-]*) die 2 "${kv%%:*}=${kv#*:}: use only letters, digits and _./@%+=:,~-" ;;
		esac
	done
	case $hooks/ in
	"$app"/*) die 2 "HOOKS=$hooks is inside APP=$app, which the deploy user owns: root runs these hooks (bgstage as root, the cron stop hook); put them where only root can write, e.g. HOOKS=/etc/bg/hooks" ;;
	esac
	[ "$pkg" != 1 ] || [ "$bin" = /usr/bin ] ||
	    die 2 "BG_BIN=$bin: the package installs the tools in /usr/bin (set BG_BIN=/usr/bin, or BUILD_ON_SERVER=1 to build them into $bin)"
	# Every place root writes: only root can change it, all the way up.
	set -- BG_CONF:"$conf" HOOKS:"$hooks/x" LOCK:"$lock" LOG:"$log" \
	    STATE:"$state/x" LIVE_CONF:"$live" UPSTREAMS_CONF:"$up" \
	    APP:"$(dirname "$app")" BG_BIN:"$bin/x"
	[ "$mode" != reload ] || set -- "$@" BLUE_CONF:"$bc" GREEN_CONF:"$gc"
	[ -z "$site_link" ] || set -- "$@" SITE_LINK:"$site_link"
	[ -z "$sockdir" ] || set -- "$@" SOCKET_DIR:"$(dirname "$sockdir")" \
	    TMPFILES_DIR:"$tmpfiles"
	[ "$systemd" != 1 ] || set -- "$@" ENV_DIR:"$envdir/x" SYSTEMD_DIR:"$unit"
	[ "$sandbox" = 1 ] && set --
	for kv in "$@"; do
		[ -n "${kv#*:}" ] || continue
		root_safe "${kv#*:}" ||
		    die 4 "${kv%%:*}=${kv#*:}: it, or a directory above it, belongs to or can be written by a user other than root; root writes there, so it must be root's all the way up"
	done
	if [ "$systemd" = 1 ]; then
		[ -n "$(var app_exec)" ] ||
		    die 2 "SYSTEMD=1 needs APP_EXEC: the command that starts one instance (it gets BG_COLOR and BG_ADDR), e.g. APP_EXEC='$app/%i/bin/server'"
		case $service in
		'' | *[!A-Za-z0-9_-]*) die 2 "SERVICE=$service: letters, digits, _ and - only" ;;
		esac
	fi
	if [ -n "$sockdir" ]; then
		getent group "$sockgroup" >/dev/null ||
		    die 4 "SOCKET_GROUP=$sockgroup: no such group on $(uname -n) (nginx's workers' group: www-data on Debian)"
	fi
	if [ "$pkg" = 1 ]; then
		[ "$(dpkg-deb -f "$init/bg.deb" Package 2>/dev/null)" = bg ] ||
		    die 2 "PACKAGE: not a bg package"
		command -v apt-get >/dev/null 2>&1 ||
		    die 4 "PACKAGE: $(uname -n) has no apt-get (not Debian or Ubuntu): use BUILD_ON_SERVER=1"
	fi
	# reload mode: an existing live file must be a copy of one of the two
	if [ "$mode" = reload ] && [ -f "$live" ]; then
		if [ -f "$bc" ] && cmp -s "$live" "$bc"; then
			live_color=blue
		elif [ -f "$gc" ] && cmp -s "$live" "$gc"; then
			live_color=green
		else
			die 4 "LIVE_CONF=$live is a copy of neither $bc nor $gc (edited by hand?): make it a copy of the live one, then run make init again"
		fi
	fi
	[ "$allow_default" = 1 ] || check_shadow || die 4 "a default site shadows bg's"
}

# render_all: every file made from a template, before anything changes.
render_all() {
	if [ "$mode" = reload ]; then
		render "$src/nginx/blue.conf" "$init/blue.conf" &&
		    render "$src/nginx/green.conf" "$init/green.conf" &&
		    render "$src/nginx/upstreams.conf" "$init/upstreams.conf"
	else
		render "$src/nginx/$mode.conf" "$init/site.conf"
	fi || die 2 "a template placeholder has no value"
	if [ -n "$sockdir" ]; then
		render_unit "$src/systemd/tmpfiles.conf" "$init/tmpfiles.conf" ||
		    die 2 "a template placeholder has no value"
	fi
	if [ "$systemd" = 1 ]; then
		render_unit "$src/systemd/app@.service" "$init/unit" ||
		    die 2 "a template placeholder has no value"
	fi
}

# install_package: the .deb with apt-get, so that nginx, rsync and the rest
# come along; nothing when that very version is installed already.
install_package() {
	want=$(dpkg-deb -f "$init/bg.deb" Version)
	have=$(dpkg-query -W -f '${Status} ${Version}' bg 2>/dev/null)
	if [ "$have" = "install ok installed $want" ] &&
	    dpkg-deb --fsys-tarfile "$init/bg.deb" | tar -xOf - ./usr/bin/bgflip |
	    cmp -s - /usr/bin/bgflip; then
		note "package bg $want: unchanged"
		return 0
	fi
	cp "$init/bg.deb" "$init/bg_$want.deb" || return 1
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    -o Dpkg::Options::=--force-confold --no-install-recommends \
	    "$init/bg_$want.deb" >"$init/apt.log" 2>&1; then
		cat "$init/apt.log" >&2
		err "apt-get install bg failed (above)"
		return 1
	fi
	did "package bg $want: installed (with what it depends on)"
}

# install_tools: from a built tree (BUILD_ON_SERVER=1, HOST=local).
install_tools() {
	own_dir "$bin" 0755 "$rootown" || return 1
	for p in bgcolor bgdrain bgflip bgstage bgswapconf; do
		put "$src/tools/$p" "$bin/$p" 0755 "$rootown" || return 1
	done
	for m in "$src"/docs/*.1 "$src"/docs/*.7; do
		[ -f "$m" ] || continue
		s=${m##*.}
		mkdir -p "$mandir/man$s" && put "$m" "$mandir/man$s/${m##*/}" 0644 "$rootown"
	done
}

# install_hooks: exactly INIT/hooks in HOOKS; the ones an earlier run
# installed (HOOKS/.bg-init lists them) and HOOKS_SRC no longer has are
# removed; hooks someone else put there are left alone.
install_hooks() {
	own_dir "$hooks" 0755 "$rootown" || return 1
	ls "$init/hooks" >"$init/hooks.list"
	if [ -f "$hooks/.bg-init" ]; then
		while IFS= read -r h; do
			case $h in '' | */* | .*) continue ;; esac
			grep -qxF "$h" "$init/hooks.list" && continue
			[ -f "$hooks/$h" ] || continue
			rm -f "$hooks/$h" && did "$hooks/$h: removed (no longer in HOOKS_SRC)"
		done <"$hooks/.bg-init"
	fi
	for h in "$init"/hooks/*; do
		[ -f "$h" ] || continue
		put "$h" "$hooks/${h##*/}" 0755 "$rootown" || return 1
	done
	put "$init/hooks.list" "$hooks/.bg-init" 0644 "$rootown"
}

# migrate_hooks: an earlier bg kept the hooks in APP/hooks, which the
# deploy user can rename and refill; the hooks now live in HOOKS. Moved
# aside by the deploy user (never touched by root), so an old cron line
# naming APP/hooks/stop fails instead of running what is there.
migrate_hooks() {
	old=$app/hooks
	[ "$old" != "$hooks" ] && [ -d "$old" ] && [ ! -L "$old" ] || return 0
	aside=$app/hooks.unused-$(date +%Y%m%d%H%M%S)
	as_user mv -T -- "$old" "$aside" ||
	    { err "cannot move $old aside (as $user)"; return 1; }
	did "$old/: moved to $aside: the hooks live in $hooks now; remove it once you have checked it"
	for f in /etc/crontab /etc/cron.d/*; do
		[ -f "$f" ] && grep -q "$old/" "$f" &&
		    note "$f still names $old/: change it to $hooks/ (see the README's cron line)"
	done
	return 0
}

# nginx_files: the files nginx reads; nginx_changed=1 when one was written.
# Reload mode: the two colors' files, the upstreams, the live copy. Socket
# and port mode: one site file, and the state directory.
nginx_files() {
	if [ "$mode" = reload ]; then
		color=${live_color:-blue}
		for p in "$bc" "$gc" "$live" "$up"; do
			parent_dir "$p" || return 1
		done
		c0=$changed
		put "$init/blue.conf" "$bc" 0644 "$rootown" &&
		    put "$init/green.conf" "$gc" 0644 "$rootown" &&
		    put "$init/upstreams.conf" "$up" 0644 "$rootown" &&
		    put "$init/$color.conf" "$live" 0644 "$rootown" || return 1
		note "live color: $color; nginx must include $up and $live"
	else
		parent_dir "$live" && own_dir "$state" 0755 "$rootown" || return 1
		c0=$changed
		put "$init/site.conf" "$live" 0644 "$rootown" || return 1
	fi
	[ "$changed" -eq "$c0" ] || nginx_changed=1
}

# site_link: Debian's layout, sites-enabled/NAME -> the live file.
site_link() {
	[ -n "$site_link" ] || return 0
	if [ -L "$site_link" ] && [ "$(readlink "$site_link")" = "$live" ]; then
		return 0
	fi
	if [ -e "$site_link" ] && [ ! -L "$site_link" ]; then
		err "$site_link exists and is not a link to $live: left alone"
		return 1
	fi
	parent_dir "$site_link" && ln -sfn "$live" "$site_link" || return 1
	did "$site_link -> $live: created"
	nginx_changed=1
}

# A fresh state (socket and port mode) has no STATE/current, so /bg has
# nothing to say and the first deploy could not ask for the standby: make
# blue live.
first_flip() {
	[ -e "$state/current" ] || [ -L "$state/current" ] && return 0
	if ! nginx_master >/dev/null; then
		note "nginx is not running: start it, then make blue live once: $bin/bgflip -F -f $conf blue"
		return 0
	fi
	# We are root already: the sudo-only rule (the default config
	# only) is for the deploy user's bgflip, not for this one.
	env -u SUDO_UID -u SUDO_USER "$bin/bgflip" -F -f "$conf" blue >/dev/null || {
		err "bgflip -F blue failed: the state $state has no live color yet"
		return 1
	}
	did "$state/current: created (blue is live)"
}

# supervision: the systemd template unit, each color's environment file
# (root's: systemd reads it as root), the tmpfiles.d entry for the socket
# directory, and the directory itself now.
supervision() {
	if [ -n "$sockdir" ]; then
		parent_dir "$tmpfiles" && put "$init/tmpfiles.conf" "$tmpfiles" 0644 "$rootown" ||
		    return 1
		# its parent is root's (checked): nobody can swap it
		own_dir "$sockdir" 2750 "$owner_u:$sockgroup" || return 1
	fi
	[ "$systemd" = 1 ] || return 0
	own_dir "$envdir" 0755 "$rootown" || return 1
	for c in blue green; do
		printf 'BG_COLOR=%s\nBG_ADDR=%s\nBG_APP_DIR=%s/%s\n' "$c" \
		    "$(conf_get "$c" '')" "$app" "$c" >"$init/$c.env"
		put "$init/$c.env" "$envdir/$c.env" 0644 "$rootown" || return 1
	done
	c0=$changed
	parent_dir "$unit" && put "$init/unit" "$unit" 0644 "$rootown" || return 1
	if [ "$changed" -ne "$c0" ] && [ -d /run/systemd/system ]; then
		systemctl daemon-reload && note "systemctl daemon-reload: done"
	fi
	note "instances: systemctl enable --now $service@blue $service@green"
}

sudoers_line() {
	line="$user ALL=(root) NOPASSWD: $bin/bgflip"
	# the default restart hook, run by bgstage as the deploy user
	[ "$systemd" != 1 ] || line="$line, /usr/bin/systemctl restart $service@blue, /usr/bin/systemctl restart $service@green"
	if command -v visudo >/dev/null 2>&1; then
		printf '%s\n' "$line" >"$init/sudoers"
		if visudo -cqf "$init/sudoers" >/dev/null 2>&1; then
			note "sudoers line (visudo -cf: valid):"
		else
			err "visudo -cf rejects the sudoers line:"
		fi
	else
		note "sudoers line (visudo missing, install sudo: not validated):"
	fi
	printf '    %s\n' "$line"
	note "to install it: echo '$line' >/etc/sudoers.d/bg && chmod 0440 /etc/sudoers.d/bg"
	[ "$conf" = /etc/bg.conf ] ||
	    note "note: under sudo, bgflip reads only /etc/bg.conf, not $conf"
}

main() {
	src=$1 init=$2

	umask 022
	conf=$(var conf) bin=$(var bin) mandir=$(var mandir)
	user=$(var user) pkg=$(var pkg) up=$(var upstreams)
	site_link=$(var site_link) sockdir=$(var socket_dir)
	sockgroup=$(var socket_group) systemd=$(var systemd)
	service=$(var service) envdir=$(var env_dir)
	allow_default=$(var allow_default_site)
	app=$(conf_get app /srv/app)
	mode=$(conf_get mode reload)
	hooks=$(conf_get hooks '')
	lock=$(conf_get lock /var/lib/bg/lock)
	log=$(conf_get log /var/log/bg.log)
	state=$(conf_get state /var/lib/bg)
	live=$(conf_get live_conf '')
	bc=$(conf_get blue_conf '')
	gc=$(conf_get green_conf '')
	ngx=$(conf_get nginx /usr/sbin/nginx)
	ngx_prefix=$(conf_get nginx_prefix '')
	ngx_conf=$(conf_get nginx_conf '')
	ngx_pid=$(conf_get nginx_pid /run/nginx.pid)
	sites=$(dirname "${site_link:-${live:-/nonexistent/x}}")
	unit=$(var unit_dir)/$service@.service
	tmpfiles=$(var tmpfiles_dir)/$service.conf
	sandbox=$(var sandbox)
	[ -n "$hooks" ] || die 2 "HOOKS is not set: where root keeps the hooks, e.g. /etc/bg/hooks"
	# The package's own templates, unpacked here before anything changes.
	if [ "$pkg" = 1 ]; then
		rm -rf "$init/pkg"
		dpkg-deb -x "$init/bg.deb" "$init/pkg" 2>"$init/dpkg-deb.err" || {
			cat "$init/dpkg-deb.err" >&2
			die 2 "PACKAGE: cannot unpack it (not a .deb?)"
		}
		src=$init/pkg/usr/share/bg
	fi

	check
	# placeholders of the systemd templates that only the server knows
	printf 'USER=%s\nGROUP=%s\n' "$user" "$(id -gn "$user")" >>"$init/vars"
	render_all
	# Not root, everything is ours: right for a sandbox (make demo),
	# wrong for a server.
	if [ "$(id -u)" -eq 0 ]; then
		rootown=$(owner_of root)
	else
		rootown=$(owner_of "$(id -un)")
		note "not root: installing everything as $rootown (fine for a sandbox such as make demo; a server needs root: bgflip must trust these files)"
	fi
	owner=$(owner_of "$user") owner_u=$user

	# The tools and their manuals.
	if [ "$pkg" = 1 ]; then
		install_package || exit 1
		# nginx came with it, and perhaps its default site
		[ "$allow_default" = 1 ] || check_shadow ||
		    die 4 "a default site shadows bg's (nginx came with the package)"
	else
		install_tools || exit 1
	fi

	# The config.
	parent_dir "$conf" || exit 1
	if [ -f "$conf" ] && ! cmp -s "$init/bg.conf" "$conf"; then
		note "$conf differs from what the make variables say:"
		diff -u "$conf" "$init/bg.conf" | sed 1,2d
	fi
	put "$init/bg.conf" "$conf" 0644 "$rootown" || exit 1

	# The instance trees, the deploy user's: deploy writes them and the
	# being-staged marks next to them.
	for d in "$app" "$app/blue" "$app/green" "$app/shared"; do
		user_dir "$d" || exit 1
	done

	# bgflip writes the history there.
	parent_dir "$log" || exit 1

	# The lock: root's, 0644, in a directory of root's, so the deploy user
	# can flock(2) it read-only but not replace it; bgflip's crash record
	# goes next to it.
	own_dir "$(dirname "$lock")" 0755 "$rootown" || exit 1
	if [ ! -f "$lock" ] || [ -L "$lock" ]; then
		if ! { rm -f "$lock" && : >"$lock" && chmod 0644 "$lock" &&
		    chown "$rootown" "$lock"; }; then
			err "cannot create $lock"
			exit 1
		fi
		did "$lock: created"
	else
		set_own "$lock" 0644 "$rootown" || exit 1
	fi

	# The hooks bgstage runs (and root's cron runs stop from).
	install_hooks || exit 1
	migrate_hooks
	supervision || exit 1

	# nginx, under the lock, so no switch runs in between.
	exec 9<"$lock"
	if ! flock -w 30 9; then
		err "the lock $lock stayed busy for 30 s (a switch or deploy): nginx configs not installed"
	elif nginx_files && site_link; then
		[ "$nginx_changed" -eq 0 ] || reload_nginx
	fi
	exec 9<&-
	# bgflip takes the lock itself.
	[ "$mode" = reload ] || [ "$failed" -ne 0 ] || first_flip

	sudoers_line
	if [ "$failed" -ne 0 ]; then
		err "incomplete: see the messages above"
		exit 1
	fi
	if [ "$changed" -eq 0 ]; then
		note "nothing changed"
	else
		note "done"
	fi
}

main "$@" </dev/null
