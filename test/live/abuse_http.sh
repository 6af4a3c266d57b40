#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The live abuse test of the HTTP path at scale: dptrack with
# http.max_connections at 2,100, started the way most systems start a
# process (soft open-files limit 1,024), and test/live/abuse_http_checks.py
# in the client namespace holding 2,000 idle and slow-header connections
# while a keep-alive client is answered, dripping requests one byte per TCP
# segment, going past the connection cap, sending oversize requests and
# running dptrack out of descriptors (see that file for each check). Then
# dptrack must exit 0 on SIGTERM with its counters.
#
#   netns TR (tracker)                              netns CL (client)
#   dptrack --vdev net_af_packet0,iface=vtP  <-A->  vcP: 198.18.0.1/24, fd00:d::1/64
#   (owns 198.18.0.2, fd00:d::2)
#   htP: 198.18.1.2/24, fd00:e::2/64         <-B->  hcP: 198.18.1.1,.4,.5/24
#   (dptrack's HTTP threads, kernel TCP)                 fd00:e::1,::4/64
#
# 198.18.1.1 is in stats.allow (the checks read /stats from it); the others
# carry the crowd. Needs: root, iproute2, ethtool, curl, /usr/bin/python3.
# Usage: abuse_http.sh PATH_TO_DPTRACK

# shellcheck disable=SC2317 # functions run from traps or through check()
set -u

if [ $# -ne 1 ]; then
	echo "usage: $0 PATH_TO_DPTRACK" >&2
	exit 2
fi
dptrack=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

live_require ip ethtool sysctl curl "$python"
live_init abuse-http
trh_if=ht$$
clh_if=hc$$
udp4=198.18.0.2
udp6=fd00:d::2
http4=198.18.1.2
http6=fd00:e::2
src4=198.18.1.1,198.18.1.4,198.18.1.5 # allowed (/stats), crowd, crowd
src6=fd00:e::1,fd00:e::4
port=6969
max_connections=2100
idle_timeout=4
max_request_bytes=4096
soft_nofile=1024 # the usual default soft limit: dptrack must raise its own

link_b() { live_link_b "$src4" "$src6"; }
live_setup "namespaces $tr_ns and $cl_ns with veths $tr_if/$cl_if and $trh_if/$clh_if set up" \
	198.18.0.1 fd00:d::1 link_b

# dptrack and the checks start with the soft limit most systems give a
# process (1,024), under a hard limit with room for both sides' sockets.
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt 8192 ]; then
	ulimit -Hn 8192 2>/dev/null ||
		bail "the hard open-files limit ($hard) can be raised to 8192 for 2,100 connections"
fi
ulimit -Sn "$soft_nofile" || bail "the soft open-files limit can be set to $soft_nofile"

cat >"$tmp/dptrack.yaml" <<EOF
log: { level: info }
tracker:
  announce_interval: 900
  announce_jitter: 0
  min_interval: 300
  max_swarms: 1000
  memory_mb: 64
udp: { ports: [$port] }
$(live_dpdk_yaml "$udp4" "$udp6")
http:
  enabled: true
  listen: ["0.0.0.0:$port", "[::]:$port"]
  threads: 2
  max_connections: $max_connections
  idle_timeout: $idle_timeout
  max_request_bytes: $max_request_bytes
stats: { allow: ["198.18.1.1/32"] }
EOF
live_check_config

answers() {
	[ "$(in_cl curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
		"http://$http4:$port/heartbeat" 2>/dev/null)" = 200 ]
}
live_start "dptrack answers GET /heartbeat within 20 s of starting" 100 answers

# "Max open files  SOFT  HARD  files" of dptrack's own process: EAL raises
# the soft limit to the hard one, and kh_start makes sure it fits.
nofile=$(awk '/^Max open files/ { print $4 }' "/proc/$pid/limits")
fits() { [ "$nofile" = unlimited ] || [ "$nofile" -gt "$max_connections" ]; }
check "dptrack raised its soft open-files limit from $soft_nofile to fit \
http.max_connections $max_connections (now $nofile)" fits
no_warning() { ! grep -q 'warning: http.max_connections' "$tmp/dptrack.out"; }
check "dptrack serves all of http.max_connections (no open-files warning)" no_warning

live_checks 90 "$here/abuse_http_checks.py" \
	--v4 "$http4" --v6 "$http6" --port "$port" --src4 "$src4" --src6 "$src6" \
	--max-connections "$max_connections" --idle-timeout "$idle_timeout" \
	--max-request-bytes "$max_request_bytes" --pid "$pid"

live_stop
live_check_counters http_announce http_scrape
finish
