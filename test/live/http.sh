#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The live HTTP test: dptrack serving UDP on net_af_packet and HTTP on kernel
# sockets at once, from one peer table, to clients in another namespace.
#
#   netns TR (tracker)                              netns CL (client)
#   dptrack --vdev net_af_packet0,iface=vtP  <-A->  vcP: 198.18.0.1/24, fd00:d::1/64
#   vtP: up, no address, IPv6 off                   (UDP clients; dptrack owns
#                                                    198.18.0.2, fd00:d::2)
#   htP: 198.18.1.2/24, fd00:e::2/64         <-B->  hcP: 198.18.1.1,.3,.4,.5/24
#   (dptrack's HTTP threads, kernel TCP)                 fd00:e::1,::3,::4,::5/64
#
# 198.18.1.1 and fd00:e::1 are in stats.allow, 198.18.1.3 is the trusted
# proxy, the others are neither. From CL, curl and test/live/http_checks.py
# cover every route and abuse case of the HTTP path (see that file), and a
# swarm shared with the UDP path through test/bep15_client.py. Finally
# dptrack is stopped with SIGTERM and must exit 0 with its counters. Prints
# "ok"/"not ok" per check, then "N passed, N failed"; exits 1 on any failure
# (showing dptrack's output) or missing tool, 77 (skip) without root. The
# namespace, start/stop and counting code it shares with udp.sh is
# test/live/lib.sh.
#
# Needs: root, iproute2, ethtool, iputils-ping, curl, /usr/bin/python3 with
# python3-prometheus-client.
# Usage: http.sh PATH_TO_DPTRACK

# shellcheck disable=SC2317 # functions run from traps or through check()
set -u

if [ $# -ne 1 ]; then
	echo "usage: $0 PATH_TO_DPTRACK" >&2
	exit 2
fi
dptrack=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh" # its python is Debian's: the one with python3-prometheus-client

live_require ip ethtool ping sysctl curl "$python"
"$python" -c 'import prometheus_client.parser' 2>/dev/null ||
	live_missing python3-prometheus-client
live_init http
trh_if=ht$$ # link B: the kernel's TCP (link A, tr_if/cl_if: dptrack's packet path)
clh_if=hc$$
udp4=198.18.0.2
udp6=fd00:d::2
http4=198.18.1.2
http6=fd00:e::2
src4=198.18.1.1,198.18.1.3,198.18.1.4,198.18.1.5 # allowed, proxy, other, other
src6=fd00:e::1,fd00:e::3,fd00:e::4,fd00:e::5     # allowed, denied, other, other
port=6969
interval=900
min_interval=300
max_connections=64
idle_timeout=3
# Room for a scrape of 65 percent-encoded info_hash (~4.7 kB), which must get
# the 64-hash failure reason rather than 431.
max_request_bytes=6000

# --- the namespaces and the two veth pairs -----------------------------------
# Link B is the kernel's at both ends: dptrack's HTTP threads listen on
# ordinary sockets in TR.
link_b() { live_link_b "$src4" "$src6"; }
live_setup "namespaces $tr_ns and $cl_ns with veth $tr_if/$cl_if and $trh_if/$clh_if set up" \
	198.18.0.1 fd00:d::1 link_b

cat >"$tmp/dptrack.yaml" <<EOF
log: { level: info }
tracker:
  announce_interval: $interval
  announce_jitter: 0
  min_interval: $min_interval
  max_swarms: 10000
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
  trusted_proxies: ["198.18.1.3/32"]
  trust_ip_params: false
stats: { allow: ["198.18.1.1/32", "fd00:e::1/128"] }
EOF
live_check_config

# --- start dptrack and wait until both paths answer --------------------------
live_start "dptrack answers ping and GET /heartbeat within 20 s of starting" 100 live_answers_both

# The HTTP threads are DPDK control threads: on the CPUs this shell (so
# dptrack at its start) may use but no lcore polls (-l 0: CPU 0), as EAL's
# own interrupt thread; on a one-CPU machine, CPU 0 itself.
cpu_list() { # "0,2-3" -> "0,2,3"
	local part parts out=()
	IFS=, read -ra parts <<<"$1"
	for part in "${parts[@]}"; do
		mapfile -t -O "${#out[@]}" out < <(seq "${part%-*}" "${part#*-}")
	done
	local IFS=,
	echo "${out[*]}"
}
task_cpus() { # COMM: the CPUs dptrack's thread COMM may run on
	local t
	for t in /proc/"$pid"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = "$1" ] || continue
		cpu_list "$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$t/status")"
		return 0
	done
	return 1
}
http_on_ctrl_cpus() {
	local eal h0 h1 want
	if ! eal=$(task_cpus eal-intr-thread) || ! h0=$(task_cpus dpt-http0) ||
		! h1=$(task_cpus dpt-http1); then
		echo "# a thread is missing: eal-intr-thread '${eal:-}' dpt-http0 '${h0:-}'"
		return 1
	fi
	want=$(cpu_list "$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/$$/status)")
	want=$(tr , '\n' <<<"$want" | grep -vx 0 | paste -sd,)
	want=${want:-0}
	echo "# eal-intr-thread $eal, dpt-http0 $h0, dpt-http1 $h1; CPUs no lcore polls: $want"
	[ "$h0" = "$want" ] && [ "$h1" = "$want" ] && [ "$eal" = "$want" ] &&
		grep -q "control threads (HTTP, snapshots, reloads) on CPUs $want\$" "$tmp/dptrack.out"
}
check "the HTTP threads run on DPDK's control CPUs, not the lcore's" http_on_ctrl_cpus

check "GET /heartbeat over IPv6 with curl" \
	[ "$(in_cl curl -s -g -o /dev/null -w '%{http_code}' --max-time 5 \
		"http://[$http6]:$port/heartbeat" 2>/dev/null)" = 200 ]

# --- the HTTP path ------------------------------------------------------------
live_checks 150 "$here/http_checks.py" \
	--v4 "$http4" --v6 "$http6" --port "$port" \
	--udp4 "$udp4" --udp6 "$udp6" --udp-src4 198.18.0.1 --udp-src6 fd00:d::1 \
	--src4 "$src4" --src6 "$src6" --interval "$interval" --min-interval "$min_interval" \
	--max-connections "$max_connections" --idle-timeout "$idle_timeout" \
	--max-request-bytes "$max_request_bytes"

# --- stop dptrack --------------------------------------------------------------
live_stop
live_check_counters http_announce http_scrape udp_announce udp_scrape
finish
