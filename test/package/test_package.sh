#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The Debian package as an operator meets it. scripts/deb.sh builds
# dptrack_VERSION_ARCH.deb (lintian: no error), whose Depends name the
# packages of every library the binary links and the DPDK drivers it loads;
# dpkg -i installs it: the installed dptrack runs (--version,
# --check-config on the installed config), the unit passes
# `systemd-analyze verify` and is not enabled, `man dptrack.yaml` documents
# every key, the dptrack system user owns /var/lib/dptrack/snapshots. A second
# dpkg -i changes nothing. dpkg -r leaves the conffile, which the test
# edited, as it was; dpkg -P leaves nothing the package owned or made but
# the dptrack account, locked (debian/postrm says why); installing again
# unlocks it with its old UID.
#
# Root, else skipped (77). Skipped too where dptrack is installed or a file
# it would own exists (a `meson install`, say): the test would replace it.
# Whatever happens, the EXIT trap purges the package and deletes the
# dptrack user and group if this test made them. systemd need not run.
# Usage: test_package.sh SOURCE_ROOT VERSION
# shellcheck disable=SC2016 # bash -c scripts take their own $ arguments
set -u
src=$1 version=$2
# shellcheck source-path=SCRIPTDIR source=../cli/tap.sh
. "$(dirname "$(realpath "$0")")/../cli/tap.sh"

if [ "$(id -u)" != 0 ]; then
	echo "skipped: the package test needs root (dpkg -i)"
	exit 77
fi
for tool in dpkg-buildpackage lintian systemd-analyze man readelf; do
	command -v "$tool" >/dev/null && continue
	echo "not ok - $tool is installed (scripts/lib.sh installs it)"
	echo "0 passed, 1 failed"
	exit 1
done

status_of() { dpkg-query -W -f='${Status}' dptrack 2>/dev/null; }
case $(status_of) in
"" | "unknown ok not-installed" | *" not-installed") ;;
*)
	echo "skipped: dptrack is on this machine ($(status_of)): the test would replace it"
	exit 77
	;;
esac

tmp=$(mktemp -d)
had_user=false had_group=false
getent passwd dptrack >/dev/null && had_user=true
getent group dptrack >/dev/null && had_group=true
cleanup() {
	case $(status_of) in
	"" | *not-installed) ;;
	*) dpkg --purge dptrack >/dev/null 2>&1 || echo "# cleanup: dpkg --purge dptrack failed" ;;
	esac
	if ! $had_user && getent passwd dptrack >/dev/null; then userdel dptrack; fi
	if ! $had_group && getent group dptrack >/dev/null; then groupdel dptrack; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
on_fail() { sed 's/^/#   /' "$tmp/log" 2>/dev/null; }

# dpkg waits for nobody: another dpkg or apt run on the machine makes it
# fail at once, so a locked database is retried for up to two minutes.
dpkg_do() {
	local _
	for _ in $(seq 60); do
		DEBIAN_FRONTEND=noninteractive dpkg "$@" </dev/null >"$tmp/log" 2>&1 && return 0
		grep -q "lock" "$tmp/log" || return 1
		sleep 2
	done
	return 1
}

# --- The build -------------------------------------------------------------
arch=$(dpkg --print-architecture)
deb=$tmp/out/dptrack_${version}_${arch}.deb
"$src/scripts/deb.sh" -o "$tmp/out" >"$tmp/log" 2>&1
check "scripts/deb.sh builds the package, lintian finding no error" [ $? = 0 ]
mv "$tmp/log" "$tmp/build.log"
check "deb.sh names dptrack_${version}_${arch}.deb last" \
	bash -c '[ -f "$0" ] && [ "$(tail -n 1 "$1")" = "$0" ]' "$deb" "$tmp/build.log"
if [ ! -f "$deb" ]; then
	tap_end
	exit 1
fi
grep -E '^[EWI]: ' "$tmp/build.log" | sed 's/^/# lintian: /'
check "lintian reports no error" bash -c '! grep -q "^E: " "$0"' "$tmp/build.log"

# Depends: the package of each library the binary links, as the dynamic
# section and dpkg -S say, not as dpkg-shlibdeps does; and the two drivers
# EAL loads as plugins for the default configuration.
dpkg-deb -x "$deb" "$tmp/x"
dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/^ *//; s/ .*//' >"$tmp/depends"
echo "# Depends: $(dpkg-deb -f "$deb" Depends)"
readelf -d "$tmp/x/usr/bin/dptrack" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' >"$tmp/needed"
check "the binary links libraries ($(wc -l <"$tmp/needed"))" [ -s "$tmp/needed" ]
owner_of() { # the package owning $1, under the name dpkg knows (usrmerge: /lib or /usr/lib)
	local f
	for f in "$1" "$(realpath "$1")" "$(dirname "$1")/$(basename "$(realpath "$1")")"; do
		dpkg -S "$f" 2>/dev/null | head -n 1 | sed 's/:.*//' | grep . && return 0
	done
}
while read -r soname; do
	file=$(ldconfig -p | awk -v s="$soname" '$1 == s { print $NF; exit }')
	pkg=$(owner_of "$file")
	check "Depends names $pkg, which holds $soname" grep -qx "$pkg" "$tmp/depends"
done <"$tmp/needed"
for pkg in librte-mempool-ring23 librte-net-tap23 adduser; do
	check "Depends names $pkg" grep -qx "$pkg" "$tmp/depends"
done
check "/etc/dptrack/dptrack.yaml is its one conffile" \
	bash -c '[ "$(dpkg-deb -I "$0" conffiles)" = /etc/dptrack/dptrack.yaml ]' "$deb"

# What it will own: files, and the directories no other package owns.
dpkg-deb -c "$deb" | awk '{ print substr($6, 2) }' | sed 's|/$||; /^$/d' >"$tmp/paths"
grep -Fxv -f <(dpkg-deb -c "$deb" | awk '$1 ~ /^d/ { print substr($6, 2) }' | sed 's|/$||') \
	"$tmp/paths" >"$tmp/files"
: >"$tmp/own_dirs"
dpkg-deb -c "$deb" | awk '$1 ~ /^d/ { print substr($6, 2) }' | sed 's|/$||; /^$/d' |
	while read -r d; do dpkg -S "$d" >/dev/null 2>&1 || echo "$d"; done >"$tmp/own_dirs"
leftovers() { # prints what of the package is on the machine: files, own dirs, systemd state
	local p
	while read -r p; do [ -e "$p" ] || [ -L "$p" ] && echo "$p"; done <"$tmp/files"
	while read -r p; do [ -e "$p" ] && echo "$p"; done <"$tmp/own_dirs"
	ls -d /var/lib/systemd/deb-systemd-helper-*/*dptrack* \
		/etc/systemd/system/*.wants/dptrack.service 2>/dev/null
	return 0
}
if [ -n "$(leftovers)" ]; then
	echo "skipped: files the package would own are here already: $(leftovers | tr '\n' ' ')"
	exit 77
fi
[ -d "$src/contrib" ] && (cd "$src/contrib" && find . -type f ! -name meson.build) >"$tmp/contrib"

# --- Installed -------------------------------------------------------------
check "dpkg -i installs it" dpkg_do -i "$deb"
check "dpkg says it is installed" bash -c '[ "$0" = "install ok installed" ]' "$(status_of)"
check "the installed dptrack --version prints dptrack $version" \
	bash -c '[ "$(/usr/bin/dptrack --version)" = "dptrack $0" ]' "$version"
mkdir "$tmp/home"
check "dptrack -c /etc/dptrack/dptrack.yaml --check-config (the unit's command) accepts it" \
	bash -c 'cd "$0" && HOME="$0" /usr/bin/dptrack -c /etc/dptrack/dptrack.yaml --check-config \
		>/dev/null 2>"$1" && grep -qx "config OK: /etc/dptrack/dptrack.yaml" "$1"' "$tmp/home" "$tmp/log"
check "dptrack --check-config finds /etc/dptrack/dptrack.yaml by itself" \
	bash -c 'cd "$0" && HOME="$0" /usr/bin/dptrack --check-config >"$0/effective.yaml" 2>"$1" &&
		grep -qx "config OK: /etc/dptrack/dptrack.yaml" "$1"' "$tmp/home" "$tmp/log"
check "the installed config is the documented default" \
	cmp -s /etc/dptrack/dptrack.yaml "$src/config/dptrack.yaml"

unit=/lib/systemd/system/dptrack.service
systemd-analyze verify "$unit" >"$tmp/log" 2>&1
check "systemd-analyze verify accepts the installed unit (and its man: pages) without a warning" \
	bash -c '[ "$0" = 0 ] && [ ! -s "$1" ]' $? "$tmp/log"
check "the unit runs the installed dptrack on the installed config" \
	grep -qx "ExecStart=/usr/bin/dptrack -c /etc/dptrack/dptrack.yaml" "$unit"
check "the unit is not enabled (the operator sets dpdk.ports first)" \
	bash -c '! ls /etc/systemd/system/*.wants/dptrack.service' 2>/dev/null

check "man finds dptrack(8)" bash -c '[ "$(man -w dptrack)" = /usr/share/man/man8/dptrack.8.gz ]'
check "man finds dptrack.yaml(5)" \
	bash -c '[ "$(man -w dptrack.yaml)" = /usr/share/man/man5/dptrack.yaml.5.gz ]'
MANWIDTH=80 man dptrack.yaml 2>/dev/null >"$tmp/page.txt"
awk '/^[a-z_]+:/ { sec = $1; sub(/:.*/, "", sec) }
     /^  [a-z_]+:/ { grp = $1; sub(/:.*/, "", grp); print sec "." grp }
     /^    [a-z_]+:/ { k = $1; sub(/:.*/, "", k); print sec "." grp "." k }' \
	"$tmp/home/effective.yaml" >"$tmp/keys"
check "man dptrack.yaml documents every key the installed dptrack knows ($(wc -l <"$tmp/keys"))" \
	bash -c '[ -s "$1" ] && while read -r k; do grep -qE "^ {7}${k//./\\.}( |$)" "$0" || exit 1; done <"$1"' \
	"$tmp/page.txt" "$tmp/keys"
if [ -s "$tmp/contrib" ]; then
	check "every file of contrib/ is under /usr/share/dptrack/contrib" \
		bash -c 'while read -r f; do cmp -s "$1/$f" "/usr/share/dptrack/contrib/$f" || exit 1; done <"$0"' \
		"$tmp/contrib" "$src/contrib"
fi

check "the dptrack system user exists, home /var/lib/dptrack, no login shell" \
	bash -c 'IFS=: read -r _ _ uid gid _ home shell < <(getent passwd dptrack) &&
		[ "$uid" -lt 1000 ] && [ "$home" = /var/lib/dptrack ] && [ "$shell" = /usr/sbin/nologin ] &&
		[ "$(id -gn dptrack)" = dptrack ]'
# /var/lib/dptrack as the unit's StateDirectory= leaves it (root's, so
# systemd never takes back what is inside), the user's directory below.
check "/var/lib/dptrack belongs to root, mode 755; snapshots/ to dptrack:dptrack, mode 750" \
	bash -c '[ "$(stat -c "%U:%G %a" /var/lib/dptrack)" = "root:root 755" ] &&
		[ "$(stat -c "%U:%G %a" /var/lib/dptrack/snapshots)" = "dptrack:dptrack 750" ]'
uid=$(id -u dptrack 2>/dev/null)
# What a service running as dptrack leaves: a snapshot it wrote.
check "the dptrack user can write a snapshot into /var/lib/dptrack/snapshots" \
	setpriv --reuid=dptrack --regid=dptrack --clear-groups \
	sh -c 'echo snapshot >/var/lib/dptrack/snapshots/peers.snap'

check "a second dpkg -i succeeds (maintainer scripts are idempotent)" dpkg_do -i "$deb"
check "the second install keeps the dptrack user's UID" bash -c '[ "$(id -u dptrack)" = "$0" ]' "$uid"
check "the second install keeps the snapshot" [ -f /var/lib/dptrack/snapshots/peers.snap ]

# --- Removed, then purged --------------------------------------------------
echo "# the operator's change" >>/etc/dptrack/dptrack.yaml
cp /etc/dptrack/dptrack.yaml "$tmp/edited.yaml"
check "dpkg -r removes it" dpkg_do -r dptrack
check "dpkg says only its config files are left" \
	bash -c '[ "$0" = "deinstall ok config-files" ]' "$(status_of)"
check "the binary, unit, man pages and docs are gone" \
	bash -c '! [ -e /usr/bin/dptrack ] && ! [ -e "$0" ] && ! [ -e /usr/share/man/man8/dptrack.8.gz ] &&
		! [ -e /usr/share/man/man5/dptrack.yaml.5.gz ] && ! [ -e /usr/share/doc/dptrack ]' "$unit"
check "the edited conffile survives dpkg -r" cmp -s /etc/dptrack/dptrack.yaml "$tmp/edited.yaml"
check "the dptrack user is still there after dpkg -r" getent passwd dptrack

check "dpkg -P purges it" dpkg_do -P dptrack
check "dpkg no longer knows it" bash -c '[ -z "$0" ] || [[ $0 == *not-installed ]]' "$(status_of)"
leftovers >"$tmp/log"
check "nothing the package owned is left (files, its directories, systemd state)" [ ! -s "$tmp/log" ]
check "the conffile is gone with the purge" [ ! -e /etc/dptrack/dptrack.yaml ]
check "the snapshot directory is gone with the purge" [ ! -e /var/lib/dptrack ]
: >"$tmp/log"
[ -n "$uid" ] && find /etc /var/lib /var/cache /var/log /run /tmp -xdev -uid "$uid" >"$tmp/log" 2>/dev/null
check "no file owned by the dptrack user is left in /etc, /var, /run or /tmp" [ ! -s "$tmp/log" ]
check "the dptrack account is kept after the purge, locked (expired)" \
	bash -c '[ "$(getent shadow dptrack | cut -d: -f8)" = 1 ] && getent group dptrack >/dev/null'

check "dpkg -i after a purge installs it again" dpkg_do -i "$deb"
check "the account is unlocked, with its old UID" \
	bash -c '[ "$(id -u dptrack)" = "$0" ] && [ -z "$(getent shadow dptrack | cut -d: -f8)" ]' "$uid"
check "the conffile is the default again" cmp -s /etc/dptrack/dptrack.yaml "$src/config/dptrack.yaml"
check "a second purge succeeds" dpkg_do -P dptrack
leftovers >"$tmp/log"
check "nothing of the package is left after the second purge" [ ! -s "$tmp/log" ]
tap_end
