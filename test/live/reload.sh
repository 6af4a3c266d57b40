#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The live reload test: SIGHUP re-reads the whole configuration while
# dptrack serves UDP on net_af_packet and HTTP on kernel sockets (the
# namespaces and links of http.sh).
#
#   1. Before: BEP 15 and HTTP announces get interval 900 and at most 5
#      peers (numwant_max); /stats and /dashboard are refused to the
#      client; / is the built-in page.
#   2. A new file: interval 600, numwant_max 3, the client in stats.allow,
#      a static_dir with an index.html and a dashboard.html, dpdk.mbufs
#      changed. After SIGHUP, UDP and HTTP announces get interval 600 and
#      3 peers, /stats answers the client, / and /dashboard serve the new
#      pages, and the log names dpdk.mbufs as needing a restart (its value
#      stays: reload_restart_keys 1).
#   3. A file with a misspelt key: the log gives FILE:LINE, nothing changes
#      (interval still 600), reload_failures counts it.
#   4. SIGTERM: exit 0, the counters, no mbuf leaked, and the last
#      snapshot's duration a sane number (it once wrapped below zero).
#
# Needs: root, iproute2, ethtool, iputils-ping, curl, /usr/bin/python3.
# Usage: reload.sh PATH_TO_DPTRACK

# shellcheck disable=SC2317 # functions run from traps or through check()
set -u

if [ $# -ne 1 ]; then
	echo "usage: $0 PATH_TO_DPTRACK" >&2
	exit 2
fi
dptrack=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
client=$here/../bep15_client.py
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

live_require ip ethtool ping sysctl curl "$python"
live_init reload
live_plan
hash=0102030405060708090a0b0c0d0e0f1011121314

link_b() { live_link_b 198.18.1.1 fd00:e::1; }
live_setup "namespaces $tr_ns and $cl_ns with veth $tr_if/$cl_if and $trh_if/$clh_if set up" \
	198.18.0.1,198.18.0.3,198.18.0.4,198.18.0.5,198.18.0.6,198.18.0.7,198.18.0.8 fd00:d::1 link_b

# config INTERVAL NUMWANT_MAX ALLOW STATIC_DIR MBUFS: writes the file
# dptrack was started with (the reload reads the same path).
config() {
	cat >"$tmp/dptrack.yaml" <<EOF
log: { level: info }
tracker:
  announce_interval: $1
  announce_jitter: 0
  min_interval: 60
  numwant_default: $2
  numwant_max: $2
  max_swarms: 10000
  memory_mb: 64
  snapshot: { path: "$tmp/snap/peers.snap", interval: 0 }
udp: { ports: [$port] }
$(live_dpdk_yaml "$udp4" "$udp6")
  mbufs: $5
http:
  enabled: true
  listen: ["0.0.0.0:$port", "[::]:$port"]
  static_dir: "$4"
stats: { allow: [$3] }
EOF
}
mkdir -p "$tmp/snap" "$tmp/pages"
echo "pages after a reload" >"$tmp/pages/index.html"
echo "a dashboard of the operator's own" >"$tmp/pages/dashboard.html"
config 900 5 '"127.0.0.1/32"' "" 16383
live_check_config
live_start "dptrack serves UDP on $udp4 and HTTP on $http4:$port" 100 live_answers_both

# udp_announce SRC PORT: one BEP 15 announce from SRC, a leecher asking for
# 50 peers; prints the client's lines (interval, peers, "peer ...").
udp_announce() {
	in_cl "$python" "$client" --bind "$1" --timeout 2 --retries 2 \
		"udp://$udp4:$port/announce" announce --info-hash "$hash" --left 100 \
		--numwant 50 --port "$2"
}
udp_interval() { udp_announce "$1" "$2" | awk '$1 == "interval" { print $2 }'; }
udp_peers() { udp_announce "$1" "$2" | grep -c '^peer '; }
# http_announce PORT: a compact announce over HTTP; prints the body.
http_announce() {
	local h
	h=$(echo "$hash" | sed 's/../%&/g')
	in_cl curl -s --max-time 5 \
		"http://$http4:$port/announce?info_hash=$h&peer_id=-XX0001-abcdefghijkl&port=$1&left=5&compact=1&numwant=50"
}
# The interval and the number of compact IPv4 peers in an HTTP reply.
http_interval() {
	http_announce "$1" | tr -d '\0' | grep -ao '8:intervali[0-9]*e' | sed 's/^8:intervali//; s/e$//'
}
http_peers() {
	http_announce "$1" | "$python" -c 'import sys, re
b = sys.stdin.buffer.read()
m = re.search(rb"5:peers(\d+):", b)
print(int(m.group(1)) // 6 if m else -1)'
}
# code PATH: the status of GET PATH from the client.
code() { in_cl curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$http4:$port$1"; }
stats_code() { code /stats; }
metric() {
	in_tr curl -s --max-time 5 "http://127.0.0.1:$port/metrics" |
		awk -v n="dptrack_$1" '$1 == n { print $2 }'
}
# Waits (at most 10 s) for the log line matching RE.
wait_log() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -qE "$1" "$tmp/dptrack.out" && return 0
		sleep 0.1
	done
	return 1
}

# --- 1. before ----------------------------------------------------------------
for i in 3 4 5 6 7 8; do udp_announce "198.18.0.$i" $((7000 + i)) >/dev/null; done
check "before: a BEP 15 announce gets interval 900" [ "$(udp_interval 198.18.0.1 7001)" = 900 ]
check "before: an HTTP announce gets interval 900" [ "$(http_interval 7101)" = 900 ]
check "before: numwant_max 5 caps a BEP 15 reply at 5 peers" [ "$(udp_peers 198.18.0.1 7001)" = 5 ]
check "before: numwant_max 5 caps an HTTP reply at 5 peers" [ "$(http_peers 7101)" = 5 ]
check "before: /stats is refused to the client (403)" [ "$(stats_code)" = 403 ]
check "before: /dashboard is refused to the client (403)" [ "$(code /dashboard)" = 403 ]
check "before: / is the built-in page" \
	bash -c "! ip netns exec $cl_ns curl -s http://$http4:$port/ | grep -q 'pages after a reload'"

# --- 2. a reload ----------------------------------------------------------------
config 600 3 '"127.0.0.1/32", "198.18.1.1/32"' "$tmp/pages" 32767
kill -HUP "$pid"
check "the reload is applied and logged" wait_log 'reload of .* done'
check "the log names each key it applied (tracker.numwant_max: 5 -> 3)" \
	grep -q 'reload: tracker.numwant_max: 5 -> 3' "$tmp/dptrack.out"
check "the log names dpdk.mbufs as needing a restart, keeping its value" \
	grep -q 'reload: dpdk.mbufs: 16383 -> 32767 needs a restart; 16383 stays in force' \
	"$tmp/dptrack.out"
check "after: a BEP 15 announce gets interval 600" [ "$(udp_interval 198.18.0.1 7001)" = 600 ]
check "after: an HTTP announce gets interval 600" [ "$(http_interval 7101)" = 600 ]
check "after: numwant_max 3 caps a BEP 15 reply at 3 peers" [ "$(udp_peers 198.18.0.1 7001)" = 3 ]
check "after: numwant_max 3 caps an HTTP reply at 3 peers" [ "$(http_peers 7101)" = 3 ]
check "after: /stats answers the client now in stats.allow (200)" [ "$(stats_code)" = 200 ]
check "after: / serves http.static_dir's index.html" \
	bash -c "ip netns exec $cl_ns curl -s http://$http4:$port/ | grep -q 'pages after a reload'"
check "after: /dashboard serves http.static_dir's dashboard.html to the client" \
	bash -c "ip netns exec $cl_ns curl -s http://$http4:$port/dashboard | grep -q 'of the operator'"
check "reloads_total counts it (1)" [ "$(metric reloads_total)" = 1 ]
check "reload_restart_keys_total counts dpdk.mbufs (1)" [ "$(metric reload_restart_keys_total)" = 1 ]

# --- 3. a bad file ------------------------------------------------------------------
config 300 7 '"127.0.0.1/32"' "" 16383
sed -i 's/  announce_interval: 300/  anounce_interval: 300/' "$tmp/dptrack.yaml"
kill -HUP "$pid"
check "a file with an error is refused, naming FILE:LINE and the key" \
	wait_log "reload refused: $tmp/dptrack.yaml:[0-9]+: .*anounce_interval"
check "nothing changed: a BEP 15 announce still gets interval 600" \
	[ "$(udp_interval 198.18.0.1 7001)" = 600 ]
check "nothing changed: /stats still answers the client" [ "$(stats_code)" = 200 ]
check "reload_failures_total counts it (1)" [ "$(metric reload_failures_total)" = 1 ]

# --- 4. stop ------------------------------------------------------------------------
live_stop
live_check_counters rx_packets udp_announce http_announce snapshot_saves
ms=$(counter snapshot_last_ms)
check "the exit snapshot's duration is a sane number of ms (got $ms)" \
	test "$ms" -ge 0 -a "$ms" -lt 60000
finish
