#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The live systemd test: the unit meson installs (scripts/dptrack.service.in,
# sandbox and watchdog included) under a real systemd, booted as PID 1 of a
# container: systemd-nspawn on the host's own /usr (read-only, with this
# build's dptrack, unit and a test config bound in at the unit's paths), a
# tmpfs root, and the tracker namespace as its network. systemd_checks.py,
# in the client namespace, checks READY=1, the sandbox, snapshots, reload,
# a stuck worker lcore killed by the watchdog and restarted from the
# snapshot (with the time it took), the stop, and a bad configuration that
# is not restarted.
#
# dptrack: two worker lcores (a queue pair each of net_af_packet on the veth
# of link A) beside the main lcore's control work, --no-huge, HTTP on the
# container's loopback.
#
# The container gets CAP_NET_ADMIN and CAP_IPC_LOCK on top of nspawn's
# default set, so that the unit's bounding set is all there.
#
# Needs: root, systemd-nspawn (systemd-container), nsenter, iproute2,
# ethtool, /usr/bin/python3.
# Usage: systemd.sh PATH_TO_DPTRACK UNIT_FILE UNIT_DIR

# shellcheck disable=SC2317 # functions run from traps
set -u

if [ $# -ne 3 ]; then
	echo "usage: $0 PATH_TO_DPTRACK UNIT_FILE UNIT_DIR" >&2
	exit 2
fi
dptrack=$(realpath "$1")
unit=$(realpath "$2")
unit_dir=$3
here=$(dirname "$(realpath "$0")")
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

live_require systemd-nspawn nsenter pgrep ip ethtool sysctl "$python"
live_init systemd
udp4=198.18.0.2
port=6969
hash=1112131415161718191a1b1c1d1e1f2021222324
machine=dpt-sd-$$
ns_pid=
leader=

in_ct() { nsenter -t "$leader" -a "$@"; }

# The container first (its shutdown stops dptrack with SIGTERM), by its
# nspawn's PID; its PID 1 is killed, which ends the rest, if the halt
# takes more than 20 s.
systemd_cleanup() {
	local i
	if [ -n "$ns_pid" ]; then
		kill -TERM "$ns_pid" 2>/dev/null
		for ((i = 0; i < 200; i++)); do
			kill -0 "$ns_pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$ns_pid" 2>/dev/null; then
			[ -n "$leader" ] && kill -KILL "$leader" 2>/dev/null
			kill -KILL "$ns_pid" 2>/dev/null
		fi
		wait "$ns_pid" 2>/dev/null
	fi
	rm -rf "/run/systemd/nspawn/propagate/$machine"
	live_cleanup
}
trap systemd_cleanup EXIT

# The unit's paths: ExecStart=BIN -c CONFIG.
read -r bin conf < <(sed -n 's/^ExecStart=\([^ ]*\) -c \([^ ]*\)$/\1 \2/p' "$unit")
[ -n "${conf:-}" ] || bail "the unit's ExecStart is BIN -c CONFIG"

live_setup "namespaces $tr_ns and $cl_ns with veth $tr_if/$cl_if set up" 198.18.0.1 fd00:d::1

cat >"$tmp/dptrack.yaml" <<EOF
log: { level: info }
tracker:
  max_swarms: 10000
  memory_mb: 64
  snapshot: { path: /var/lib/dptrack/peers.snap, interval: 0 }
udp: { ports: [$port] }
dpdk:
  eal_args: ["--no-huge", "-m", "512", "--no-pci", "--lcores", "0@0,1@0,2@1",
             "--file-prefix", "$prefix", "--vdev", "net_af_packet0,iface=$tr_if,qpairs=2"]
  ports: [ { device: net_af_packet0, ipv4: $udp4/24 } ]
  idle_sleep_us: 100
http:
  enabled: true
  threads: 1
  listen: ["127.0.0.1:$port"]
EOF
live_check_config

# --volatile=yes: a tmpfs root with the host's /usr, here overlaid with a
# writable layer in $tmp so that the binds can land under /usr/local.
# basic.target: none of the host's services, which a first boot enables.
# Without systemd on the host there is no bus to ask for a scope: the
# container stays in this script's cgroup (--keep-unit), which nspawn
# refuses from a login session of a host booted with systemd.
keep_unit=()
[ -d /run/systemd/system ] || keep_unit=(--keep-unit)
mkdir "$tmp/usr"
systemd-nspawn -D / --volatile=yes --register=no "${keep_unit[@]}" -M "$machine" \
	--network-namespace-path="/run/netns/$tr_ns" \
	--capability=CAP_NET_ADMIN,CAP_IPC_LOCK \
	--overlay="/usr:$tmp/usr:/usr" --bind-ro="$dptrack:$bin" \
	--bind-ro="$unit:$unit_dir/dptrack.service" --bind-ro="$tmp/dptrack.yaml:$conf" \
	--console=pipe -b systemd.unit=basic.target </dev/null >"$tmp/nspawn.out" 2>&1 &
ns_pid=$!

# Booted: its PID 1 is systemd (not nspawn's child before the exec) and
# says so; "degraded" counts, as the host's units need not all start.
booted() {
	leader=$(pgrep -P "$ns_pid" -x systemd) &&
		timeout 5 nsenter -t "$leader" -a systemctl is-system-running --wait >"$tmp/state" 2>&1
	grep -qxE 'running|degraded' "$tmp/state" 2>/dev/null
}
deadline=$((SECONDS + 30))
until booted; do
	if [ "$SECONDS" -ge "$deadline" ] || ! kill -0 "$ns_pid" 2>/dev/null; then
		sed 's/^/# /' "$tmp/nspawn.out" "$tmp/state" 2>/dev/null
		bail "systemd boots as PID 1 of container $machine within 30 s"
	fi
	sleep 0.5
done
ok "systemd boots as PID 1 of container $machine ($(cat "$tmp/state"))"

timeout 60 nsenter -t "$leader" -a systemctl start dptrack >"$tmp/start.out" 2>&1
check "systemctl start dptrack returns 0 (Type=notify: after READY=1)" [ $? = 0 ]

live_checks 120 "$here/systemd_checks.py" --leader "$leader" --dptrack "$bin" \
	--prefix "$prefix" --v4 "$udp4" --port "$port" --src4 198.18.0.1 --hash "$hash"
if [ "$fails" -gt 0 ]; then
	echo "# journal of dptrack.service:"
	in_ct journalctl -u dptrack -o short-monotonic --no-pager 2>&1 | tail -60 | sed 's/^/#   /'
fi
finish
