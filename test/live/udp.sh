#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The live UDP test: dptrack on net_af_packet over a veth pair, answered by
# the kernel of another network namespace.
#
#   netns TR (tracker)                        netns CL (client)
#   dptrack --vdev net_af_packet0,iface=vtP   vcP: 198.18.0.1,.3,.4/24
#   vtP: up, no address, IPv6 off   <-veth->       fd00:d::1,::3,::4/64
#   (dptrack owns 198.18.0.2, fd00:d::2)
#
# From CL: ping over both families (the kernel resolves the tracker through
# ARP and NDP, so dptrack must answer them), then test/live/udp_checks.py runs
# BEP 15 connect/announce/scrape as a seeder and two leechers per family
# (bep15_client.py). Finally dptrack is stopped with SIGTERM and must exit 0
# with counters. Prints "ok"/"not ok" per check, then "N passed, N failed";
# exits 1 on any failure (showing dptrack's output) or missing tool, 77
# (skip) without root. The namespace, start/stop and counting code it shares
# with http.sh is test/live/lib.sh.
#
# Needs: root, iproute2, ethtool, iputils-ping, /usr/bin/python3, dpdk-telemetry.py.
# Usage: udp.sh PATH_TO_DPTRACK [WORKERS]

# shellcheck disable=SC2317 # functions run from traps or through check()
set -u

if [ $# -lt 1 ] || [ $# -gt 2 ] || ! [[ ${2:-1} =~ ^[1-8]$ ]]; then
	echo "usage: $0 PATH_TO_DPTRACK [WORKERS (1-8)]" >&2
	exit 2
fi
dptrack=$(realpath "$1")
# One worker: the main lcore runs the packet loop. More: that many worker
# lcores, each with its own queue pair (net_af_packet fans flows out over
# them by hash), spread over the CPUs, and the main lcore on control work.
workers=${2:-1}
if [ "$workers" = 1 ]; then
	lcores='"-l", "0"'
	qpairs=""
else
	ncpu=$(nproc)
	map="0@0"
	for ((k = 1; k <= workers; k++)); do map+=",$k@$(((k - 1) % ncpu))"; done
	lcores="\"--lcores\", \"$map\""
	qpairs=",qpairs=$workers"
fi
here=$(dirname "$(realpath "$0")")
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

live_require ip ethtool ping sysctl "$python" dpdk-telemetry.py
live_init live
tr4=198.18.0.2
tr6=fd00:d::2
src4=198.18.0.1,198.18.0.3,198.18.0.4
src6=fd00:d::1,fd00:d::3,fd00:d::4
port=6969
interval=900

# --- the namespaces and the veth pair ---------------------------------------
live_setup "namespaces $tr_ns and $cl_ns with veth $tr_if/$cl_if set up" "$src4" "$src6"

cat >"$tmp/dptrack.yaml" <<EOF
log: { level: info }
tracker:
  announce_interval: $interval
  announce_jitter: 0
  max_swarms: 10000
  memory_mb: 64
udp: { ports: [$port] }
dpdk:
  eal_args: ["--no-huge", "-m", "512", "--no-pci", "--no-shconf", $lcores,
             "--file-prefix", "$prefix", "--vdev", "net_af_packet0,iface=$tr_if$qpairs"]
  ports: [ { device: net_af_packet0, ipv4: $tr4/24, ipv6: "$tr6/64" } ]
http: { enabled: false }
EOF
live_check_config

# --- start dptrack and wait until it answers ---------------------------------
live_start "dptrack answers ping within 20 s of starting" 40 \
	quiet in_cl ping -c 1 -W 1 -q "$tr4"

# --- the kernel reaches dptrack over both families ---------------------------
check "ping $tr4 from the client namespace" \
	quiet in_cl ping -c 3 -i 0.2 -W 2 "$tr4"
check "ping -6 $tr6 from the client namespace" \
	quiet in_cl ping -6 -c 3 -i 0.2 -W 2 "$tr6"
for src in ${src4//,/ } ${src6//,/ }; do
	dst=$tr4
	[[ $src == *:* ]] && dst=$tr6
	check "ping $dst from $src" quiet in_cl ping -c 1 -W 2 -I "$src" "$dst"
done

# The kernel resolved the tracker to the tracker veth's MAC (dptrack's, as
# net_af_packet takes the interface's address).
mac=$(in_tr cat "/sys/class/net/$tr_if/address")
lladdr() {
	in_cl ip neigh show "$1" dev "$cl_if" |
		awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }'
}
check "ARP resolved $tr4 to $mac" [ "$(lladdr "$tr4")" = "$mac" ]
check "NDP resolved $tr6 to $mac" [ "$(lladdr "$tr6")" = "$mac" ]

# --- BEP 15 ------------------------------------------------------------------
# InCsumErrors of UDP and UDP6 in the client namespace, summed.
udp_csum_errors() {
	# shellcheck disable=SC2016 # awk's $ fields
	in_cl awk '$1 == "Udp:" && !h { for (i = 1; i <= NF; i++) c[i] = $i; h = 1; next }
		   $1 == "Udp:" { for (i = 1; i <= NF; i++) if (c[i] == "InCsumErrors") s += $i }
		   $1 == "Udp6InCsumErrors" { s += $2 }
		   END { print s + 0 }' /proc/net/snmp /proc/net/snmp6
}
csum_before=$(udp_csum_errors)

live_checks 120 "$here/udp_checks.py" --v4 "$tr4" --v6 "$tr6" \
	--port "$port" --interval "$interval" --src4 "$src4" --src6 "$src6"

csum_after=$(udp_csum_errors)
check "the client kernel found no bad UDP checksums" [ "$csum_after" = "$csum_before" ]

# --- telemetry --------------------------------------------------------------
# /dptrack/stats through DPDK's own client, while dptrack serves: the
# counters a monitoring system would scrape.
tel=$(echo /dptrack/stats | timeout 10 dpdk-telemetry.py -f "$prefix" 2>&1)
tel_counter() {
	"$python" -c 'import json, sys
d = json.loads(sys.stdin.read().strip().splitlines()[-1])["/dptrack/stats"]
print(d[sys.argv[1]])' "$1" <<<"$tel" 2>/dev/null || echo -1
}
for name in rx_packets udp_announce peers_ipv4 peers_ipv6; do
	v=$(tel_counter "$name")
	check "telemetry /dptrack/stats reports $name > 0 (got $v)" [ "$v" -gt 0 ]
done
n_lcores=$("$python" -c 'import json, re, sys
d = json.loads(sys.stdin.read().strip().splitlines()[-1])["/dptrack/stats"]
print(sum(1 for k in d if re.fullmatch(r"lcore[0-9]+_rx_packets", k)))' \
	<<<"$tel" 2>/dev/null || echo -1)
check "telemetry lists $workers worker lcore(s) (got $n_lcores)" [ "$n_lcores" = "$workers" ]

# --- stop dptrack --------------------------------------------------------------
live_stop
live_check_counters rx_packets tx_packets stack_replies udp_connect udp_announce udp_scrape \
	udp_err_connection_id udp_err_malformed
finish
