#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The live notify test: dptrack under systemd's notification protocol.
# notify_checks.py (in the client namespace) plays systemd: it owns the
# NOTIFY_SOCKET, starts dptrack in the tracker namespace with WATCHDOG_USEC,
# checks READY=1, STATUS=, the watchdog's pace, that stopping one worker
# lcore's thread or the HTTP thread stops the pings, RELOADING=1 and
# STOPPING=1, then starts it again without a watchdog from its snapshot.
#
# dptrack: two worker lcores (each with a queue pair of net_af_packet on the
# veth of link A) beside the main lcore's control work, and HTTP on link B.
#
# Needs: root, iproute2, ethtool, curl, /usr/bin/python3.
# Usage: notify.sh PATH_TO_DPTRACK

# shellcheck disable=SC2317 # functions run from traps
set -u

if [ $# -ne 1 ]; then
	echo "usage: $0 PATH_TO_DPTRACK" >&2
	exit 2
fi
dptrack=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

live_require ip ethtool sysctl "$python"
live_init notify
live_plan
hash=0102030405060708090a0b0c0d0e0f1011121314

link_b() { live_link_b 198.18.1.1 fd00:e::1; }
live_setup "namespaces $tr_ns and $cl_ns with veth $tr_if/$cl_if and $trh_if/$clh_if set up" \
	198.18.0.1 fd00:d::1 link_b

# The Python side starts dptrack itself (with its environment) and writes
# its PID here, for the trap.
notify_cleanup() {
	[ -s "$tmp/dptrack.pid" ] && kill -KILL "$(cat "$tmp/dptrack.pid")" 2>/dev/null
	live_cleanup
}
trap notify_cleanup EXIT

mkdir -p "$tmp/snap"
cat >"$tmp/dptrack.yaml" <<EOF
log: { level: info }
tracker:
  max_swarms: 10000
  memory_mb: 64
  snapshot: { path: "$tmp/snap/peers.snap", interval: 0 }
udp: { ports: [$port] }
dpdk:
  eal_args: ["--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--lcores", "0@0,1@0,2@1",
             "--file-prefix", "$prefix", "--vdev", "net_af_packet0,iface=$tr_if,qpairs=2"]
  ports: [ { device: net_af_packet0, ipv4: $udp4/24, ipv6: "$udp6/64" } ]
  idle_sleep_us: 100
http:
  enabled: true
  threads: 1
  listen: ["$http4:$port"]
EOF
live_check_config

live_checks 150 "$here/notify_checks.py" --dptrack "$dptrack" --config "$tmp/dptrack.yaml" \
	--tr-ns "$tr_ns" --tmp "$tmp" --v4 "$udp4" --port "$port" --src4 198.18.0.1 \
	--http "$http4:$port" --hash "$hash"
v=$(awk '$1 == "counter" && $2 == "mbufs_leaked" { v = $3 } END { print v }' "$tmp/dptrack.out")
check "every mbuf was back in its pool at each exit (leaked at the last: $v)" [ "$v" = 0 ]
finish
