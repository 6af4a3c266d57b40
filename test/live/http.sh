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
# (showing dptrack's output) or missing tool, 77 (skip) without root.
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
python=/usr/bin/python3 # Debian's: the one with python3-prometheus-client

if [ "$(id -u)" != 0 ]; then
	echo "skipped: the live test needs root (network namespaces)"
	exit 77
fi
# A missing tool fails rather than skips: scripts/test.sh installs them all,
# so a skip here would only hide a broken install.
for tool in ip ethtool ping sysctl curl "$python"; do
	if ! command -v "$tool" >/dev/null; then
		echo "not ok - $tool is installed (scripts/lib.sh installs it)"
		echo "0 passed, 1 failed"
		exit 1
	fi
done
if ! "$python" -c 'import prometheus_client.parser' 2>/dev/null; then
	echo "not ok - python3-prometheus-client is installed (scripts/lib.sh installs it)"
	echo "0 passed, 1 failed"
	exit 1
fi

# Names unique to this run: two runs never share a namespace, interface or
# DPDK file prefix. Interface names stay under 16 bytes (PIDs < 2^22).
tr_ns=dpt-tr-$$
cl_ns=dpt-cl-$$
tr_if=vt$$ # link A: dptrack's packet path
cl_if=vc$$
trh_if=ht$$ # link B: the kernel's TCP
clh_if=hc$$
prefix=dpt-http-$$
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
tmp=$(mktemp -d)
pid=

# Stops dptrack (if still running) by its PID: SIGTERM, then SIGKILL after
# 10 s. Returns its exit status, or 255 if it had to be killed.
stop_dptrack() {
	local i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "# dptrack did not stop within 10 s of SIGTERM; killing it"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		pid=
		return 255
	fi
	wait "$pid"
	local rc=$?
	pid=
	return $rc
}

cleanup() {
	stop_dptrack >/dev/null 2>&1
	ip netns del "$tr_ns" 2>/dev/null
	ip netns del "$cl_ns" 2>/dev/null
	rm -rf "$tmp" "/var/run/dpdk/$prefix"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

passed=0
failed=0
ok() {
	passed=$((passed + 1))
	echo "ok - $1"
}
not_ok() {
	failed=$((failed + 1))
	echo "not ok - $1"
}
check() { # check NAME COMMAND...
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
quiet() { "$@" >/dev/null 2>&1; }
in_tr() { ip netns exec "$tr_ns" "$@"; }
in_cl() { ip netns exec "$cl_ns" "$@"; }

# Prints the summary (and, after a failure, dptrack's output, stopping it
# first so its counters are there) and exits 1 if anything failed.
finish() {
	if [ "$failed" -gt 0 ]; then
		stop_dptrack >/dev/null 2>&1
		echo "# dptrack output:"
		sed 's/^/#   /' "$tmp/dptrack.out" 2>/dev/null
	fi
	echo "$passed passed, $failed failed"
	exit $((failed > 0))
}

# Fatal setup failure: counts as a failure, shows why, stops here.
bail() {
	not_ok "$1"
	finish
}

# --- the namespaces and the two veth pairs -----------------------------------
# A run killed outright (SIGKILL: no trap) leaves its namespaces behind; those
# of runs whose shell is gone are removed here (udp.sh's names too).
for ns in $(ip netns list | awk '$1 ~ /^dpt-(tr|cl)-[0-9]+$/ { print $1 }'); do
	kill -0 "${ns##*-}" 2>/dev/null || ip netns del "$ns" 2>/dev/null
done

setup() {
	ip netns add "$tr_ns" &&
		ip netns add "$cl_ns" &&
		in_tr ip link set lo up &&
		in_cl ip link set lo up &&
		# Link A belongs to dptrack at the tracker end: no kernel address,
		# and no IPv6, so the kernel sends no NDP or router solicitations.
		ip link add "$tr_if" netns "$tr_ns" type veth peer name "$cl_if" netns "$cl_ns" &&
		in_tr sysctl -qw "net.ipv6.conf.$tr_if.disable_ipv6=1" &&
		in_tr ip link set "$tr_if" up &&
		in_cl ip addr add 198.18.0.1/24 dev "$cl_if" &&
		in_cl ip -6 addr add fd00:d::1/64 dev "$cl_if" nodad &&
		# A veth leaves UDP checksums to "hardware" that never fills them.
		in_cl ethtool -K "$cl_if" tx off >/dev/null &&
		in_cl ip link set "$cl_if" up &&
		# Link B is the kernel's at both ends: dptrack's HTTP threads listen
		# on ordinary sockets in TR.
		ip link add "$trh_if" netns "$tr_ns" type veth peer name "$clh_if" netns "$cl_ns" &&
		in_tr ip addr add "$http4/24" dev "$trh_if" &&
		in_tr ip -6 addr add "$http6/64" dev "$trh_if" nodad &&
		in_tr ip link set "$trh_if" up &&
		for a in ${src4//,/ }; do in_cl ip addr add "$a/24" dev "$clh_if" || return 1; done &&
		for a in ${src6//,/ }; do in_cl ip -6 addr add "$a/64" dev "$clh_if" nodad || return 1; done &&
		in_cl ip link set "$clh_if" up
}
setup 2>"$tmp/setup.err" || {
	sed 's/^/# /' "$tmp/setup.err"
	bail "namespaces $tr_ns and $cl_ns with veth $tr_if/$cl_if and $trh_if/$clh_if set up"
}
ok "namespaces $tr_ns and $cl_ns with veth $tr_if/$cl_if and $trh_if/$clh_if set up"

cat >"$tmp/dptrack.yaml" <<EOF
log: { level: info }
tracker:
  announce_interval: $interval
  announce_jitter: 0
  min_interval: $min_interval
  max_swarms: 10000
  memory_mb: 64
udp: { ports: [$port] }
dpdk:
  eal_args: ["--no-huge", "-m", "512", "--no-pci", "--no-shconf", "-l", "0",
             "--file-prefix", "$prefix", "--vdev", "net_af_packet0,iface=$tr_if"]
  ports: [ { device: net_af_packet0, ipv4: $udp4/24, ipv6: "$udp6/64" } ]
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
if ! "$dptrack" -c "$tmp/dptrack.yaml" --check-config >"$tmp/check.out" 2>&1; then
	sed 's/^/# /' "$tmp/check.out"
	bail "dptrack --check-config accepts the test config"
fi

# --- start dptrack and wait until both paths answer --------------------------
# ip netns exec execs the command, so $! is dptrack's own PID.
ip netns exec "$tr_ns" "$dptrack" -c "$tmp/dptrack.yaml" >"$tmp/dptrack.out" 2>&1 &
pid=$!

# 0 once dptrack answers ping on link A and GET /heartbeat on link B.
answers() {
	in_cl ping -c 1 -W 1 -q "$udp4" >/dev/null 2>&1 &&
		[ "$(in_cl curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
			"http://$http4:$port/heartbeat" 2>/dev/null)" = 200 ]
}
ready=0
deadline=$((SECONDS + 20))
for ((i = 0; i < 100 && SECONDS < deadline; i++)); do
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid"
		echo "# dptrack exited with status $? before answering"
		pid=
		break
	fi
	if answers; then
		ready=1
		break
	fi
	sleep 0.2
done
[ "$ready" = 1 ] || bail "dptrack answers ping and GET /heartbeat within 20 s of starting"
ok "dptrack answers ping and GET /heartbeat within 20 s of starting"

check "GET /heartbeat over IPv6 with curl" \
	[ "$(in_cl curl -s -g -o /dev/null -w '%{http_code}' --max-time 5 \
		"http://[$http6]:$port/heartbeat" 2>/dev/null)" = 200 ]

# --- the HTTP path ------------------------------------------------------------
in_cl timeout --foreground 150 "$python" "$here/http_checks.py" \
	--v4 "$http4" --v6 "$http6" --port "$port" \
	--udp4 "$udp4" --udp6 "$udp6" --udp-src4 198.18.0.1 --udp-src6 fd00:d::1 \
	--src4 "$src4" --src6 "$src6" --interval "$interval" --min-interval "$min_interval" \
	--max-connections "$max_connections" --idle-timeout "$idle_timeout" \
	--max-request-bytes "$max_request_bytes" 2>&1 | tee "$tmp/checks.out"
checks_rc=${PIPESTATUS[0]}
n_ok=$(grep -c '^ok - ' "$tmp/checks.out")
n_bad=$(grep -c '^not ok - ' "$tmp/checks.out")
passed=$((passed + n_ok))
failed=$((failed + n_bad))
if [ "$checks_rc" -ne 0 ] && [ "$n_bad" -eq 0 ]; then
	not_ok "http_checks.py ran to the end (status $checks_rc)"
fi
[ "$n_ok" -gt 0 ] || not_ok "http_checks.py ran its checks"

# --- stop dptrack --------------------------------------------------------------
if [ -n "$pid" ]; then
	stop_dptrack
	rc=$?
	check "dptrack exits 0 on SIGTERM (status $rc)" [ "$rc" = 0 ]
else
	not_ok "dptrack still running at the end"
fi
# A counter from dptrack's exit output, -1 if it is missing.
counter() {
	awk -v n="$1" '$1 == "counter" && $2 == n { print $3; f = 1 } END { if (!f) print -1 }' \
		"$tmp/dptrack.out"
}
for name in http_announce http_scrape udp_announce udp_scrape; do
	v=$(counter "$name")
	check "dptrack counted $name > 0 (got $v)" [ "$v" -gt 0 ]
done
v=$(counter mbufs_leaked)
check "every mbuf was back in its pool at exit (leaked: $v)" [ "$v" = 0 ]

finish
