#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The live abuse test of the UDP path: dptrack on net_af_packet over a veth
# pair (link A), its HTTP thread on link B, and test/live/abuse_udp.py in the
# client namespace throwing forged connection IDs, malformed datagrams, raw
# garbage frames, a full table and a stopped HTTP thread at it while a
# swarm expires (see that file for each check). Then dptrack must exit 0 on
# SIGTERM with its counters and every mbuf back.
#
#   netns TR (tracker)                              netns CL (client)
#   dptrack --vdev net_af_packet0,iface=vtP  <-A->  vcP: 198.18.0.1,.3/24, fd00:d::1/64
#   (owns 198.18.0.2, fd00:d::2)
#   htP: 198.18.1.2/24, fd00:e::2/64         <-B->  hcP: 198.18.1.1/24, fd00:e::1/64
#
# Needs: root, iproute2, ethtool, iputils-ping, /usr/bin/python3 with
# python3-scapy, libsodium23.
# With --memory first among the options, the table is bound by its memory
# budget instead (tracker.memory_mb 16 before max_swarms) and the part run is
# the flood of unique info hashes.
#
# Usage: abuse_udp.sh PATH_TO_DPTRACK [--memory] [abuse_udp.py options: --parts, --forged]

# shellcheck disable=SC2317 # functions run from traps or through check()
set -u

if [ $# -lt 1 ]; then
	echo "usage: $0 PATH_TO_DPTRACK [abuse_udp.py options]" >&2
	exit 2
fi
dptrack=$(realpath "$1")
shift
here=$(dirname "$(realpath "$0")")
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

live_require ip ethtool ping sysctl "$python"
"$python" -c 'import scapy.all' 2>/dev/null || live_missing python3-scapy
live_init abuse
trh_if=ht$$
clh_if=hc$$
tr4=198.18.0.2
tr6=fd00:d::2
http4=198.18.1.2
http6=fd00:e::2
src4=198.18.0.1,198.18.0.3
src6=fd00:d::1
port=6969
ttl=120
peer_timeout=61
max_swarms=64
max_peers=32
memory_mb=64
if [ "${1:-}" = --memory ]; then
	shift
	max_swarms=100000 # about 12 MB of the 16 MB budget: peers fill the rest
	max_peers=1000
	memory_mb=16
	set -- --parts hashflood "$@"
fi
# Not the pcap suite's secret: the IDs in its captures must not be valid here.
secret=5a17ab0e5a17ab0e5a17ab0e5a17ab0e

link_b() { live_link_b 198.18.1.1 fd00:e::1; }
live_setup "namespaces $tr_ns and $cl_ns with veths $tr_if/$cl_if and $trh_if/$clh_if set up" \
	"$src4" "$src6" link_b

cat >"$tmp/dptrack.yaml" <<EOF2
log: { level: info }
tracker:
  announce_interval: 60
  announce_jitter: 0
  min_interval: 30
  peer_timeout: $peer_timeout
  max_swarms: $max_swarms
  max_peers_per_swarm: $max_peers
  memory_mb: $memory_mb
udp: { ports: [$port], connection_id_ttl: $ttl, connection_id_secret: "$secret" }
$(live_dpdk_yaml "$tr4" "$tr6")
http:
  enabled: true
  listen: ["$http4:$port"]
  threads: 1
EOF2
live_check_config

answers() {
	in_cl ping -c 1 -W 1 -q "$tr4" >/dev/null 2>&1 &&
		in_cl ping -6 -c 1 -W 1 -q "$tr6" >/dev/null 2>&1
}
live_start "dptrack answers ping over both families within 20 s of starting" 40 answers

live_checks 300 "$here/abuse_udp.py" --v4 "$tr4" --port "$port" --src4 "$src4" \
	--src6 "$src6" --iface "$cl_if" --tracker-mac "$(in_tr cat "/sys/class/net/$tr_if/address")" \
	--secret "$secret" --ttl "$ttl" --peer-timeout "$peer_timeout" \
	--max-swarms "$max_swarms" --max-peers "$max_peers" --prefix "$prefix" --pid "$pid" \
	--http "$http4:$port" --pcaps "$here"/../../pcap/*.in.pcap "$@"

live_stop
if [ "$memory_mb" = 16 ]; then
	live_check_counters udp_announce refused_memory_limit
else
	live_check_counters udp_err_connection_id udp_err_malformed drop_ip4_cksum drop_udp_cksum \
		drop_ethertype refused_swarm_limit refused_peer_limit
fi
finish
