#!/usr/bin/env bats
# make deb: the package is lintian clean, two builds give the same bytes,
# and it installs and purges cleanly (on a scratch copy of this machine:
# helpers/debserver's overlays, so this machine's dpkg never sees it).

load helpers/bg
load helpers/sshd
load helpers/debserver

setup_file() {
	local root v

	root=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	v=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$root/debian/changelog")
	export VERSION=$v
	# two builds, in two directories; BG_TEST_DEB: the first one made
	# already, in its own (.ci/run builds it first)
	dirs="a b"
	if [ -n "${BG_TEST_DEB:-}" ]; then
		dirs=b
		mkdir -p "$BATS_FILE_TMPDIR/a"
		cp "${BG_TEST_DEB%.deb}.deb" "${BG_TEST_DEB%.deb}.changes" \
		    "${BG_TEST_DEB%.deb}.buildinfo" "$BATS_FILE_TMPDIR/a/" || return 1
		cp "$(dirname "$BG_TEST_DEB")"/bg-dbgsym_*.deb "$BATS_FILE_TMPDIR/a/" || return 1
	fi
	for d in $dirs; do
		make -s -C "$root" deb DEB_DIR="$BATS_FILE_TMPDIR/$d" \
		    >"$BATS_FILE_TMPDIR/$d.out" 2>&1 ||
		    { cat "$BATS_FILE_TMPDIR/$d.out" >&3; return 1; }
	done
	DEB=$BATS_FILE_TMPDIR/a/bg_${v}_$(dpkg --print-architecture).deb
	export DEB
}

@test "make deb: the package holds the tools, manuals, templates, hooks, units and pipeline; lintian says nothing" {
	run dpkg-deb -c "$DEB"
	for f in usr/bin/bgcolor usr/bin/bgswapconf usr/bin/bgstage usr/bin/bgflip \
	    usr/bin/bgdrain usr/share/man/man1/bgflip.1.gz usr/share/man/man7/bg.7.gz \
	    usr/share/bg/nginx/socket.conf usr/share/bg/nginx/green.conf \
	    usr/share/bg/hooks/restart usr/share/bg/hooks/stop \
	    usr/share/bg/hooks/sysv/restart usr/share/bg/systemd/app@.service \
	    usr/share/bg/systemd/tmpfiles.conf usr/share/bg/pipeline/init.sh \
	    usr/share/doc/bg/copyright; do
		assert_output --partial "./$f"
	done
	run dpkg-deb -f "$DEB" Depends
	assert_output --partial "nginx | nginx-light | nginx-core"
	assert_output --partial "rsync"
	assert_output --partial "util-linux"
	run dpkg-deb -f "$DEB" Version
	assert_output "$VERSION"
	echo "# $(stat -c %s "$DEB") bytes: $DEB" >&3
	run lintian --pedantic --display-info "${DEB%.deb}.changes"
	echo "$output"
	assert_success
	refute_output --regexp '^[EW]: '
	refute_output --regexp '^[IP]: '
}

@test "make deb: two builds give the same bytes (SOURCE_DATE_EPOCH from debian/changelog)" {
	b=$BATS_FILE_TMPDIR/b/${DEB##*/}
	assert [ -f "$b" ]
	run cmp "$DEB" "$b"
	assert_success
	# the files' times are the changelog's date, not the build's
	want=$(date -u -d "$(dpkg-parsechangelog -l "$BG_ROOT/debian/changelog" -S Date)" +%s)
	run sh -c "dpkg-deb --fsys-tarfile '$DEB' | tar -tv --full-time -f - ./usr/bin/bgflip"
	assert_output --partial "$(date -u -d "@$want" '+%Y-%m-%d %H:%M:%S')"
}

@test "make deb: installs (every tool says its version) and purges leaving nothing behind" {
	debserver_init
	debserver_run true
	base=$(debserver_changes)
	run debserver_run sh -c "dpkg -i '$DEB' && for t in bgcolor bgswapconf bgstage bgflip bgdrain; do \$t -V; done && man -w bgflip"
	echo "$output"
	assert_success
	for t in bgcolor bgswapconf bgstage bgflip bgdrain; do
		assert_line "$t $VERSION"
	done
	assert_line /usr/share/man/man1/bgflip.1.gz
	run debserver_changes
	assert_output --partial "usr/up/bin/bgflip "
	run debserver_run dpkg -P bg
	echo "$output"
	assert_success
	# What is left that was not there before: nothing but dpkg's own
	# records, logs and the caches it refreshes, and directories this
	# machine has too (the overlay copies a directory up when something
	# in it changes).
	left=()
	while IFS= read -r line; do
		p=${line%% *} mode=${line#* }
		mode=${mode%% *}
		case $p in
		var/up/lib/dpkg* | var/up/log/* | var/up/cache/*) continue ;;
		esac
		grep -qxF "$line" <<<"$base" && continue
		case $mode in
		d*) [ -d "/${p%%/*}/${p#*/up/}" ] && continue ;;
		esac
		left+=("$p $mode")
	done < <(debserver_changes | grep -v '^[0-9a-f]\{32\}  ')
	assert_equal "$(printf '%s\n' "${left[@]}")" ""
	run debserver_run sh -c 'dpkg-query -W -f "\${Status}" bg; ls /usr/share/bg /usr/share/doc/bg'
	assert_failure
	refute_output --partial "installed"
}
