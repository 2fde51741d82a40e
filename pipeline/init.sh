# pipeline/init.sh SRC INIT - the server side of "make init", run as root
# with sh, from the shipped and built source tree SRC (tools/, docs/,
# nginx/). INIT is what make prepared on the operator's machine:
#   INIT/bg.conf   the config to install (from the make variables)
#   INIT/vars      NAME=value lines: conf, bin, mandir, user, upstreams and
#                  the nginx template placeholders (LISTEN, STATE, ...)
#   INIT/hooks/    the hooks to install
# Every path is compared before it is written and reported as unchanged,
# created or updated, so a second run changes nothing.

# shellcheck shell=sh

changed=0	# something was written
nginx_changed=0	# a file nginx reads was written
failed=0

note() {
	printf 'make init: %s\n' "$*"
}

err() {
	printf 'make init: %s\n' "$*" >&2
	failed=1
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

# put SRC DST MODE OWNER: DST becomes a copy of SRC with MODE and OWNER
# (user:group), replaced in one rename, and only when something differs.
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
	note "$2: $what"
	changed=$((changed + 1))
}

# own_dir DIR MODE OWNER: a directory bg owns: created, or its mode and
# owner set, when they differ.
own_dir() {
	if [ -L "$1" ] || { [ -e "$1" ] && [ ! -d "$1" ]; }; then
		err "$1 exists and is not a directory"
		return 1
	fi
	if [ -d "$1" ]; then
		[ "$(stat -c '%a %U:%G' "$1")" = "${2#0} $3" ] && {
			note "$1/: unchanged"
			return 0
		}
		what="mode and owner set to $2 $3"
	else
		mkdir -p "$1" || { err "cannot create $1"; return 1; }
		what=created
	fi
	if ! { chmod "$2" "$1" && chown "$3" "$1"; }; then
		err "cannot set up $1"
		return 1
	fi
	note "$1/: $what"
	changed=$((changed + 1))
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
	note "$p/: created"
	changed=$((changed + 1))
}

# render TEMPLATE OUT: the template filled in by nginx/fill with every
# placeholder from vars; fill names a placeholder left without a value.
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

# nginx_args: -p/-c from the config, for nginx -t.
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

# nginx_reload_mode: blue_conf, green_conf, the upstreams, and live_conf, a
# copy of the one that is live now (of blue on a new server), all under
# the lock, so no switch runs in between.
nginx_reload_mode() {
	live=$(conf_get live_conf '')
	bc=$(conf_get blue_conf '')
	gc=$(conf_get green_conf '')
	up=$(var upstreams)
	if [ -z "$live" ] || [ -z "$bc" ] || [ -z "$gc" ]; then
		err "reload mode needs LIVE_CONF, BLUE_CONF and GREEN_CONF"
		return 1
	fi
	render "$src/nginx/blue.conf" "$init/blue.conf" &&
	    render "$src/nginx/green.conf" "$init/green.conf" &&
	    render "$src/nginx/upstreams.conf" "$init/upstreams.conf" ||
	    return 1
	if [ -f "$live" ]; then
		if [ -f "$bc" ] && cmp -s "$live" "$bc"; then
			color=blue
		elif [ -f "$gc" ] && cmp -s "$live" "$gc"; then
			color=green
		else
			err "$live is a copy of neither $bc nor $gc (edited by hand?): left alone; make it a copy of the live one, then run make init again"
			return 1
		fi
	else
		color=blue
	fi
	for p in "$bc" "$gc" "$live" "$up"; do
		parent_dir "$p" || return 1
	done
	c0=$changed
	put "$init/blue.conf" "$bc" 0644 "$rootown" &&
	    put "$init/green.conf" "$gc" 0644 "$rootown" &&
	    put "$init/upstreams.conf" "$up" 0644 "$rootown" &&
	    put "$init/$color.conf" "$live" 0644 "$rootown" || return 1
	[ "$changed" -eq "$c0" ] || nginx_changed=1
	note "live color: $color; nginx must include $up and $live (Debian's sites-enabled/ does)"
}

nginx_socket_mode() {
	live=$(conf_get live_conf '')
	if [ -z "$live" ]; then
		err "socket mode needs LIVE_CONF: where nginx includes the site"
		return 1
	fi
	render "$src/nginx/socket.conf" "$init/socket.conf" || return 1
	parent_dir "$live" || return 1
	own_dir "$state" 0755 "$rootown" || return 1
	c0=$changed
	put "$init/socket.conf" "$live" 0644 "$rootown" || return 1
	[ "$changed" -eq "$c0" ] || nginx_changed=1
	note "nginx must include $live"
}

# A fresh socket state has no STATE/current, so /bg has nothing to say
# and the first deploy could not ask for the standby: make blue live.
socket_first_flip() {
	[ -e "$state/current" ] || [ -L "$state/current" ] && return 0
	if ! nginx_master >/dev/null; then
		note "nginx is not running: start it, then make blue live once: $bin/bgflip -F -f $conf blue"
		return 0
	fi
	# We are root already: the sudo-only rule (the default config
	# only) is for the deploy user's bgflip, not for this one.
	env -u SUDO_UID "$bin/bgflip" -F -f "$conf" blue >/dev/null || {
		err "bgflip -F blue failed: the state $state has no live color yet"
		return 1
	}
	note "$state/current: created (blue is live)"
	changed=$((changed + 1))
}

sudoers_line() {
	if [ "$user" = root ]; then
		note "the deploy user is root: no sudoers line needed (SUDO=)"
		return 0
	fi
	line="$user ALL=(root) NOPASSWD: $bin/bgflip"
	if command -v visudo >/dev/null 2>&1; then
		printf '%s\n' "$line" >"$init/sudoers"
		if visudo -cqf "$init/sudoers" >/dev/null 2>&1; then
			note "sudoers line (visudo -cf: valid):"
		else
			err "visudo -cf rejects the sudoers line:"
		fi
	else
		note "sudoers line (visudo missing: not validated):"
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
	user=$(var user)
	[ -n "$user" ] || user=${SUDO_USER:-$(id -un)}
	# What bgflip, run as root, must be able to trust is root's. Not
	# root, everything is ours: right for a sandbox (make demo), wrong
	# for a server.
	if [ "$(id -u)" -eq 0 ]; then
		rootown=$(owner_of root)
	else
		rootown=$(owner_of "$(id -un)")
		note "not root: installing everything as $rootown (fine for a sandbox such as make demo; a server needs root: bgflip must trust these files)"
	fi
	id "$user" >/dev/null 2>&1 || { err "no user $user on $(uname -n)"; exit 1; }
	owner=$(owner_of "$user")

	# The tools and their manuals.
	parent_dir "$bin/x" || exit 1
	for p in bgcolor bgdrain bgflip bgstage bgswapconf; do
		put "$src/tools/$p" "$bin/$p" 0755 "$rootown" || exit 1
	done
	for m in "$src"/docs/*.1 "$src"/docs/*.7; do
		[ -f "$m" ] || continue
		s=${m##*.}
		parent_dir "$mandir/man$s/x" && put "$m" "$mandir/man$s/${m##*/}" 0644 "$rootown"
	done

	# The config.
	parent_dir "$conf" || exit 1
	if [ -f "$conf" ] && ! cmp -s "$init/bg.conf" "$conf"; then
		note "$conf differs from what the make variables say:"
		diff -u "$conf" "$init/bg.conf" | sed 1,2d
	fi
	put "$init/bg.conf" "$conf" 0644 "$rootown" || exit 1

	app=$(conf_get app /srv/app)
	mode=$(conf_get mode reload)
	hooks=$(conf_get hooks '')
	lock=$(conf_get lock /var/lib/bg/lock)
	state=$(conf_get state /var/lib/bg)
	ngx=$(conf_get nginx /usr/sbin/nginx)
	ngx_prefix=$(conf_get nginx_prefix '')
	ngx_conf=$(conf_get nginx_conf '')
	ngx_pid=$(conf_get nginx_pid /run/nginx.pid)

	# The instance trees, the deploy user's: deploy writes them and the
	# being-staged marks next to them.
	for d in "$app" "$app/blue" "$app/green" "$app/shared"; do
		own_dir "$d" 0755 "$owner" || exit 1
	done

	# bgflip writes the history there.
	parent_dir "$(conf_get log /var/log/bg.log)" || exit 1

	# bgflip, as root, refuses a lock directory others could change.
	ld=$(dirname "$lock")
	if [ "$(id -u)" -eq 0 ] && [ -d "$ld" ]; then
		case $(stat -c '%U:%A' "$ld") in
		root:d????-??-?) ;;
		*) err "$ld, the lock's directory, must be root's and not writable by group or others: bgflip refuses it" ;;
		esac
	fi

	# The lock: root's, 0644, so the deploy user can flock(2) it read-only
	# but not replace it; bgflip's crash record goes next to it.
	parent_dir "$lock" || exit 1
	if [ ! -f "$lock" ]; then
		if ! { : >"$lock" && chmod 0644 "$lock" &&
		    chown "$rootown" "$lock"; }; then
			err "cannot create $lock"
			exit 1
		fi
		note "$lock: created"
		changed=$((changed + 1))
	elif [ "$(stat -c '%a %U:%G' "$lock")" != "644 $rootown" ]; then
		chmod 0644 "$lock" && chown "$rootown" "$lock"
		note "$lock: mode and owner set to 0644 $rootown"
		changed=$((changed + 1))
	else
		note "$lock: unchanged"
	fi

	# The hooks bgstage runs.
	if [ -z "$hooks" ]; then
		err "no hooks directory in the config (HOOKS)"
	else
		own_dir "$hooks" 0755 "$rootown" || exit 1
		for h in "$init"/hooks/*; do
			[ -f "$h" ] || continue
			put "$h" "$hooks/${h##*/}" 0755 "$rootown"
		done
	fi

	# nginx.
	exec 9<"$lock"
	if ! flock -w 30 9; then
		err "the lock $lock stayed busy for 30 s (a switch or deploy): nginx configs not installed"
	elif [ "$mode" = socket ]; then
		nginx_socket_mode && { [ "$nginx_changed" -eq 0 ] || reload_nginx; }
	else
		nginx_reload_mode && { [ "$nginx_changed" -eq 0 ] || reload_nginx; }
	fi
	exec 9<&-
	# bgflip takes the lock itself.
	[ "$mode" != socket ] || [ "$failed" -ne 0 ] || socket_first_flip

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
