#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The live monitoring-kit test: every dptrack_* metric name that the alert
# rules and the Grafana dashboard of contrib/ use is in a live dptrack's
# /metrics, its cluster on, so the cluster's names are there too.
#
#   netns TR (tracker)                              netns CL (client)
#   dptrack --vdev net_af_packet0,iface=vtP  <-A->  vcP: 198.18.0.1/24, fd00:d::1/64
#   htP: 198.18.1.2/24, fd00:e::2/64         <-B->  hcP: 198.18.1.1/24, fd00:e::1/64
#   nats-server -js on TR's 127.0.0.1               (in stats.allow)
#
# dptrack runs with one lcore on net_af_packet, HTTP on link B, snapshots
# every 60 s and cluster.enabled against one nats-server with JetStream
# (replicas 1) in its namespace. Once it is connected, a few BEP 15
# announces from CL give the cluster records to publish, and
# test/live/monitor_checks.py reads /metrics from CL and the names from
# contrib/prometheus/dptrack-rules.yml and contrib/grafana/dptrack.json.
# Finally SIGTERM: exit 0, the counters, no mbuf leaked. Prints
# "ok"/"not ok" per check, then "N passed, N failed"; exits 1 on any
# failure or missing tool, 77 (skip) without root.
#
# Needs: root, iproute2, ethtool, iputils-ping, curl, nats-server,
# /usr/bin/python3 with python3-prometheus-client and python3-yaml.
# Usage: monitor.sh PATH_TO_DPTRACK

# shellcheck disable=SC2317 # functions run from traps or through check()
set -u

if [ $# -ne 1 ]; then
	echo "usage: $0 PATH_TO_DPTRACK" >&2
	exit 2
fi
dptrack=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
contrib=$here/../../contrib
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

live_require ip ethtool ping sysctl curl nats-server "$python"
"$python" -c 'import prometheus_client.parser' 2>/dev/null || live_missing python3-prometheus-client
"$python" -c 'import yaml' 2>/dev/null || live_missing python3-yaml
live_init monitor
live_plan
nats_port=4222 # TR's own loopback: no other server there
nats_pid=

# nats-server is stopped by its PID before live_cleanup removes the
# namespaces.
stop_nats() {
	[ -n "$nats_pid" ] || return 0
	kill -TERM "$nats_pid" 2>/dev/null
	wait "$nats_pid" 2>/dev/null
	nats_pid=
}
trap 'stop_dptrack >/dev/null 2>&1; stop_nats; live_cleanup' EXIT

link_b() { live_link_b 198.18.1.1 fd00:e::1; }
live_setup "namespaces $tr_ns and $cl_ns with veth $tr_if/$cl_if and $trh_if/$clh_if set up" \
	198.18.0.1 fd00:d::1 link_b

# --- nats-server with JetStream, in TR ------------------------------------------
mkdir -p "$tmp/nats" "$tmp/snap"
# ip netns exec execs the command, so $! is nats-server's own PID.
ip netns exec "$tr_ns" nats-server -a 127.0.0.1 -p "$nats_port" -js -sd "$tmp/nats" \
	>"$tmp/nats.out" 2>&1 &
nats_pid=$!
nats_ready() { grep -q "Server is ready" "$tmp/nats.out"; }
for ((i = 0; i < 100; i++)); do
	nats_ready || ! kill -0 "$nats_pid" 2>/dev/null && break
	sleep 0.1
done
if ! nats_ready; then
	sed 's/^/# /' "$tmp/nats.out"
	bail "nats-server with JetStream is ready on 127.0.0.1:$nats_port in $tr_ns within 10 s"
fi
ok "nats-server with JetStream is ready on 127.0.0.1:$nats_port in $tr_ns"

cat >"$tmp/dptrack.yaml" <<EOF
log: { level: info }
tracker:
  max_swarms: 10000
  memory_mb: 64
  snapshot: { path: "$tmp/snap/peers.snap", interval: 60 }
udp: { ports: [$port] }
$(live_dpdk_yaml "$udp4" "$udp6")
  idle_sleep_us: 1000
http:
  enabled: true
  listen: ["0.0.0.0:$port", "[::]:$port"]
  threads: 1
stats: { allow: ["198.18.1.1/32"] }
cluster:
  enabled: true
  servers: ["nats://127.0.0.1:$nats_port"]
  instance: monitor
  replicas: 1
  key_wait_ms: 0
EOF
live_check_config
live_start "dptrack answers ping and GET /heartbeat within 20 s of starting" 100 live_answers_both

# metric NAME: its value in /metrics, read from CL.
metric() {
	in_cl curl -s --max-time 5 "http://$http4:$port/metrics" |
		awk -v n="dptrack_$1" '$1 == n { print $2 }'
}
connected=0
for ((i = 0; i < 100; i++)); do
	[ "$(metric cluster_connected)" = 1 ] && connected=1 && break
	sleep 0.1
done
check "dptrack connects to nats-server within 10 s (dptrack_cluster_connected 1)" \
	[ "$connected" = 1 ]

# Three peers announce over BEP 15: records for the cluster to publish.
three_announces() {
	local p
	for p in 7001 7002 7003; do
		in_cl "$python" "$here/../bep15_client.py" --bind 198.18.0.1 --timeout 2 --retries 2 \
			"udp://$udp4:$port/announce" announce --info-hash "$hash" --port "$p" \
			>/dev/null || return 1
	done
}
hash=0102030405060708090a0b0c0d0e0f1011121314
check "three BEP 15 announces are answered" three_announces

live_checks 60 "$here/monitor_checks.py" --metrics "http://$http4:$port/metrics" \
	--rules "$contrib/prometheus/dptrack-rules.yml" --dashboard "$contrib/grafana/dptrack.json"

live_stop
live_check_counters udp_announce cluster_records_published
finish
