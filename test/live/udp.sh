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
# (skip) without root.
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
python=/usr/bin/python3 # Debian's; the one on PATH may be another build

if [ "$(id -u)" != 0 ]; then
	echo "skipped: the live test needs root (network namespaces)"
	exit 77
fi
# A missing tool fails rather than skips: scripts/test.sh installs them all,
# so a skip here would only hide a broken install.
for tool in ip ethtool ping sysctl "$python" dpdk-telemetry.py; do
	if ! command -v "$tool" >/dev/null; then
		echo "not ok - $tool is installed (scripts/lib.sh installs it)"
		echo "0 passed, 1 failed"
		exit 1
	fi
done

# Names unique to this run: two runs never share a namespace, interface or
# DPDK file prefix. Interface names stay under 16 bytes (PIDs < 2^22).
tr_ns=dpt-tr-$$
cl_ns=dpt-cl-$$
tr_if=vt$$
cl_if=vc$$
prefix=dpt-live-$$
tr4=198.18.0.2
tr6=fd00:d::2
src4=198.18.0.1,198.18.0.3,198.18.0.4
src6=fd00:d::1,fd00:d::3,fd00:d::4
port=6969
interval=900
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

# --- the namespaces and the veth pair ---------------------------------------
# A run killed outright (SIGKILL: no trap) leaves its namespaces behind; those
# of runs whose shell is gone are removed here.
for ns in $(ip netns list | awk '$1 ~ /^dpt-(tr|cl)-[0-9]+$/ { print $1 }'); do
	kill -0 "${ns##*-}" 2>/dev/null || ip netns del "$ns" 2>/dev/null
done

setup() {
	ip netns add "$tr_ns" &&
		ip netns add "$cl_ns" &&
		ip link add "$tr_if" netns "$tr_ns" type veth peer name "$cl_if" netns "$cl_ns" &&
		# The tracker end belongs to dptrack: no kernel address, and no IPv6,
		# so the kernel sends no NDP or router solicitations from it.
		in_tr sysctl -qw "net.ipv6.conf.$tr_if.disable_ipv6=1" &&
		in_tr ip link set "$tr_if" up &&
		in_cl ip link set lo up &&
		in_cl ip addr add 198.18.0.1/24 dev "$cl_if" &&
		in_cl ip addr add 198.18.0.3/24 dev "$cl_if" &&
		in_cl ip addr add 198.18.0.4/24 dev "$cl_if" &&
		in_cl ip -6 addr add fd00:d::1/64 dev "$cl_if" nodad &&
		in_cl ip -6 addr add fd00:d::3/64 dev "$cl_if" nodad &&
		in_cl ip -6 addr add fd00:d::4/64 dev "$cl_if" nodad &&
		# A veth leaves UDP checksums to "hardware" that never fills them.
		in_cl ethtool -K "$cl_if" tx off >/dev/null &&
		in_cl ip link set "$cl_if" up
}
setup 2>"$tmp/setup.err" || {
	sed 's/^/# /' "$tmp/setup.err"
	bail "namespaces $tr_ns and $cl_ns with veth $tr_if/$cl_if set up"
}
ok "namespaces $tr_ns and $cl_ns with veth $tr_if/$cl_if set up"

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
if ! "$dptrack" -c "$tmp/dptrack.yaml" --check-config >"$tmp/check.out" 2>&1; then
	sed 's/^/# /' "$tmp/check.out"
	bail "dptrack --check-config accepts the test config"
fi

# --- start dptrack and wait until it answers ---------------------------------
# ip netns exec execs the command, so $! is dptrack's own PID.
ip netns exec "$tr_ns" "$dptrack" -c "$tmp/dptrack.yaml" >"$tmp/dptrack.out" 2>&1 &
pid=$!

ready=0
deadline=$((SECONDS + 20))
for ((i = 0; i < 40 && SECONDS < deadline; i++)); do
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid"
		echo "# dptrack exited with status $? before answering"
		pid=
		break
	fi
	if in_cl ping -c 1 -W 1 -q "$tr4" >/dev/null 2>&1; then
		ready=1
		break
	fi
	sleep 0.2
done
[ "$ready" = 1 ] || bail "dptrack answers ping within 20 s of starting"
ok "dptrack answers ping within 20 s of starting"

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

in_cl timeout --foreground 120 "$python" "$here/udp_checks.py" --v4 "$tr4" --v6 "$tr6" \
	--port "$port" --interval "$interval" --src4 "$src4" --src6 "$src6" 2>&1 |
	tee "$tmp/checks.out"
checks_rc=${PIPESTATUS[0]}
n_ok=$(grep -c '^ok - ' "$tmp/checks.out")
n_bad=$(grep -c '^not ok - ' "$tmp/checks.out")
passed=$((passed + n_ok))
failed=$((failed + n_bad))
if [ "$checks_rc" -ne 0 ] && [ "$n_bad" -eq 0 ]; then
	not_ok "udp_checks.py ran to the end (status $checks_rc)"
fi
[ "$n_ok" -gt 0 ] || not_ok "udp_checks.py ran its checks"

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
for name in rx_packets tx_packets stack_replies udp_connect udp_announce udp_scrape \
	udp_err_connection_id udp_err_malformed; do
	v=$(counter "$name")
	check "dptrack counted $name > 0 (got $v)" [ "$v" -gt 0 ]
done
v=$(counter mbufs_leaked)
check "every mbuf was back in its pool at exit (leaked: $v)" [ "$v" = 0 ]

finish
