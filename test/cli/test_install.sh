#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# `meson install` as an operator runs it, into a temporary DESTDIR: the
# binary, the XDP program of shared ports, the default config, the systemd
# unit and the man pages land where the build's options say; a second
# install keeps a config the operator changed; the unit names this
# install's paths, has the service settings the README promises
# (Type=notify, the watchdog, the sandbox), passes `systemd-analyze verify`
# (rc 0 and no warning) and scores no worse in `systemd-analyze security`
# than scripts/dptrack.service.score records. The monitoring kit, when the
# tree has contrib/, lands whole under DATADIR/dptrack/contrib.
# Usage: test_install.sh MESON BUILD_DIR BINDIR CONF_DIR UNIT_DIR SOURCE_ROOT MANDIR DATADIR XDP_DIR
# shellcheck disable=SC2016 # bash -c and awk scripts take their own $ arguments
set -u
meson=$1 build=$2 bindir=$3 confdir=$4 unitdir=$5 src=$6 mandir=$7 datadir=$8 xdpdir=$9
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$(dirname "$(realpath "$0")")/tap.sh"
dest=$tmp/dest
on_fail() { sed 's/^/#   /' "$tmp/log" 2>/dev/null; }

install_once() {
	"$meson" install -C "$build" --no-rebuild --destdir "$dest" >"$tmp/log" 2>&1
}

check "meson install --destdir succeeds" install_once
bin=$dest$bindir/dptrack
conf=$dest$confdir/dptrack.yaml
unit=$dest$unitdir/dptrack.service
check "the binary is installed in $bindir and runs" \
	bash -c '[ -x "$0" ] && "$0" --version | grep -q "^dptrack "' "$bin"
check "the XDP program is installed in $xdpdir, where dptrack looks for it" \
	bash -c 'cmp -s "$0" "$1" && strings "$2" | grep -qxF "$3"' "$dest$xdpdir/dptrack_xdp.o" \
	"$build/dpdk/xdp/dptrack_xdp.o" "$bin" "$xdpdir/dptrack_xdp.o"
check "the default config is installed as $confdir/dptrack.yaml" \
	cmp -s "$conf" "$src/config/dptrack.yaml"
check "the installed config loads" \
	bash -c 'cd "$1" && HOME="$1" "$0" -c "$2" --check-config >/dev/null 2>&1' "$bin" "$tmp" "$conf"
check "the unit is installed in $unitdir" [ -f "$unit" ]
check "dptrack.8 and dptrack.yaml.5 are installed in $mandir" \
	bash -c '[ -s "$0/man8/dptrack.8" ] && [ -s "$0/man5/dptrack.yaml.5" ]' "$dest$mandir"
if [ -d "$src/contrib" ]; then
	check "every file of contrib/ is installed under $datadir/dptrack/contrib" \
		bash -c 'cd "$0" && find . -type f ! -name meson.build | while read -r f; do
			cmp -s "$f" "$1/$f" || { echo "missing: $f"; exit 1; }; done' \
		"$src/contrib" "$dest$datadir/dptrack/contrib"
fi

# The operator edits the config; the next install leaves it alone.
echo "# the operator's change" >>"$conf"
cp "$conf" "$tmp/edited.yaml"
check "a second meson install succeeds" install_once
check "a second install keeps the operator's config" cmp -s "$conf" "$tmp/edited.yaml"

# The unit: this install's paths and the promised settings.
check "ExecStart runs $bindir/dptrack on $confdir/dptrack.yaml" \
	grep -qx "ExecStart=$bindir/dptrack -c $confdir/dptrack.yaml" "$unit"
for line in 'ExecReload=/bin/kill -HUP $MAINPID' 'Restart=on-failure' 'LimitMEMLOCK=infinity' \
	'RestartPreventExitStatus=2' 'KillSignal=SIGTERM' 'Type=notify' 'NotifyAccess=main' \
	'ProtectSystem=strict' 'StateDirectory=dptrack' 'RuntimeDirectoryPreserve=yes' \
	'WantedBy=multi-user.target'; do
	check "the unit has $line" grep -qxF "$line" "$unit"
done
check "the unit sets RestartSec, TimeoutStopSec, LimitNOFILE and WatchdogSec" \
	bash -c 'for k in RestartSec TimeoutStopSec LimitNOFILE WatchdogSec; do
		grep -q "^$k=[0-9]" "$0" || exit 1; done' "$unit"

# systemd-analyze verify checks that ExecStart's program exists: point it
# at the DESTDIR copy. It reports bad values as warnings with status 0, so
# any output is a failure too. --man=no: the unit's man: pages are in the
# DESTDIR, not where man looks (the package suite verifies them installed).
if command -v systemd-analyze >/dev/null; then
	sed "s|^ExecStart=$bindir/dptrack|ExecStart=$bin|" "$unit" >"$tmp/dptrack.service"
	systemd-analyze verify --man=no "$tmp/dptrack.service" >"$tmp/log" 2>&1
	check "systemd-analyze verify accepts the unit without a warning" \
		bash -c '[ "$0" = 0 ] && [ ! -s "$1" ]' $? "$tmp/log"
	# The overall exposure, "... Overall exposure level for dptrack.service:
	# N.N OK"; the bound is the last line of the score file.
	systemd-analyze security --offline=true "$unit" >"$tmp/log" 2>&1
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\) .*/\1/p' "$tmp/log")
	bound=$(grep -v '^#' "$src/scripts/dptrack.service.score" | tail -n 1)
	check "systemd-analyze security scores the unit's exposure ${score:-?} <= $bound" \
		awk -v s="$score" -v b="$bound" 'BEGIN { exit !(s != "" && s + 0 <= b + 0) }'
else
	not_ok "systemd-analyze is installed (Debian package systemd)"
fi
tap_end
