#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The live shared-NIC test: one interface, the kernel's, as an operator with
# one NIC has it. dptrack answers BEP 15 on it through AF_XDP (net_af_xdp and
# its XDP program); the kernel answers everything else on the same address:
# ARP, NDP, ping, dptrack's own HTTP path, another TCP service.
#
#   netns TR (tracker)                               netns CL (client)
#   vtP: 198.18.6.1/24, fd00:6::1/64 (the kernel's)  vcP: 198.18.6.2-.6/24
#     XDP: UDP to :6969 -> dptrack (net_af_xdp0)  <-veth->  fd00:6::2-::6/64
#     the rest -> the kernel: dptrack's HTTP on :6969/tcp, an echo
#     service on :2222/tcp, ICMP, ARP, NDP
#
# Checked from CL: a config error (an address the interface lacks); BEP 15
# over both families answered by dptrack (its counters rise, the TR
# kernel's UDP counters do not); ping over both families, ARP and NDP
# answered by the kernel (dptrack answers none); an HTTP announce to the
# same address, over TCP, sharing the swarm of the BEP 15 peers; the
# kernel's TCP service reachable; the XDP program's counters in
# telemetry. Then dptrack stops with SIGTERM: exit 0, no mbuf leaked
# (net_af_xdp's fill rings are not leaks), the program gone from the
# interface, and a datagram to the tracker port gets the kernel's port
# unreachable. Last, one dptrack an interface: started again, a second
# dptrack on the interface is refused naming the first's PID; the first,
# killed with kill -9, leaves its program attached, and the next start
# removes it, says so, and serves. Prints "ok"/"not ok" per check, then
# "N passed, N failed";
# exits 1 on any failure or missing tool, 77 (skip) without root.
#
# Needs: root, iproute2, ethtool, iputils-ping, /usr/bin/python3,
# dpdk-telemetry.py, DPDK's net_af_xdp (librte-net-af-xdp23).
# Usage: shared_nic.sh PATH_TO_DPTRACK

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

live_require ip ethtool ping sysctl mount mountpoint "$python" dpdk-telemetry.py
af_xdp=$(find /usr/lib/*/dpdk -name 'librte_net_af_xdp.so*' -print -quit 2>/dev/null)
[ -n "$af_xdp" ] || live_missing "DPDK's net_af_xdp (librte-net-af-xdp23)"
live_init shared
tr4=198.18.6.1
tr6=fd00:6::1
src4=198.18.6.2,198.18.6.3,198.18.6.4 # udp_checks.py: a seeder and two leechers
src6=fd00:6::2,fd00:6::3,fd00:6::4
both4=198.18.6.5,198.18.6.6 # shared_nic_checks.py: a BEP 15 seeder, an HTTP leecher
both6=fd00:6::5,fd00:6::6
port=6969
tcp_port=2222
interval=900
checks=$here/shared_nic_checks.py

echo_pid=
stop_echo() {
	[ -z "$echo_pid" ] || { kill "$echo_pid" 2>/dev/null; wait "$echo_pid" 2>/dev/null; }
	echo_pid=
}
trap 'stop_echo; live_cleanup' EXIT

# --- the namespaces, the veth, the kernel's services --------------------------
live_setup_shared "namespaces $tr_ns and $cl_ns with veth $tr_if/$cl_if, the kernel holding $tr4 and $tr6" \
	"$tr4" "$tr6" "$src4,$both4" "$src6,$both6"
# Not through in_tr: a function in the background is a subshell, and $!
# must be the server's own PID (ip netns exec execs timeout, which passes
# SIGTERM on to python).
ip netns exec "$tr_ns" timeout 300 "$python" "$checks" serve-echo --v4 "$tr4" --v6 "$tr6" \
	--tcp-port "$tcp_port" --seconds 280 >"$tmp/echo.out" 2>&1 &
echo_pid=$!
live_with_bpffs

# The tracker namespace kernel's SNMP counter NAME: "UdpInDatagrams",
# "IcmpInEchos" (/proc/net/snmp, section and field joined) or "Udp6NoPorts"
# (/proc/net/snmp6).
snmp() {
	# shellcheck disable=SC2016 # awk's $ fields
	in_tr awk -v want="$1" '
		FILENAME ~ /snmp6$/ { if ($1 == want) v = $2; next }
		{ s = substr($1, 1, length($1) - 1)
		  if (!(s in seen)) { seen[s] = 1; for (i = 2; i <= NF; i++) name[s, i] = s $i; next }
		  for (i = 2; i <= NF; i++) if (name[s, i] == want) v = $i }
		END { print v + 0 }' /proc/net/snmp /proc/net/snmp6
}
# Every UDP datagram the TR kernel took in: delivered, to no socket, in error.
kernel_udp() {
	echo $(($(snmp UdpInDatagrams) + $(snmp UdpNoPorts) + $(snmp UdpInErrors) +
		$(snmp Udp6InDatagrams) + $(snmp Udp6NoPorts) + $(snmp Udp6InErrors)))
}

# --- the configuration: one shared port, its addresses the interface's --------
yaml() {
	cat <<EOF
log: { level: info }
tracker:
  announce_interval: $interval
  announce_jitter: 0
  max_swarms: 10000
  memory_mb: 64
udp: { ports: [$port] }
dpdk:
  eal_args: ["--no-huge", "-m", "512", "--no-pci", "--no-shconf", "-l", "0",
             "--file-prefix", "$prefix"]
  ports: [ { device: "net_af_xdp0,iface=$tr_if", shared: true$1 } ]
http:
  listen: ["$tr4:$port", "[$tr6]:$port", "127.0.0.1:$port"]
EOF
}

# refused CONFIG OUT DESC: dptrack on CONFIG in the tracker namespace must
# stop at its start (not run until the timeout), its output in OUT.
refused() {
	ip netns exec "$tr_ns" "${live_wrap[@]}" timeout 30 "$dptrack" -c "$1" >"$2" 2>&1
	local rc=$?
	check "$3 (status $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
}

# Config errors first: shared on another device, an address the interface lacks.
yaml "" | sed 's/"net_af_xdp0,iface=[^"]*"/net_tap0/' >"$tmp/dptrack.yaml"
"$dptrack" -c "$tmp/dptrack.yaml" --check-config >"$tmp/bad.out" 2>&1
rc=$?
check "shared on a net_tap device exits 2 (status $rc)" [ "$rc" = 2 ]
check "... saying a shared port needs net_af_xdp" grep -q "shared needs a net_af_xdp device" "$tmp/bad.out"
yaml ", ipv4: 198.18.6.9/24" >"$tmp/dptrack.yaml"
refused "$tmp/dptrack.yaml" "$tmp/bad.out" "an address the interface lacks stops dptrack"
check "... naming the address and those the interface has" \
	grep -q "interface $tr_if does not have 198.18.6.9 (its IPv4 addresses: $tr4)" "$tmp/bad.out"
check "... and leaves no XDP program behind" bash -c '! ip -n "$0" -d link show dev "$1" | grep -q prog/xdp' \
	"$tr_ns" "$tr_if"

yaml "" >"$tmp/dptrack.yaml"
live_check_config

# --- start dptrack -------------------------------------------------------------
live_start "dptrack answers BEP 15 on $tr4 within 20 s of starting" 40 \
	quiet in_cl "$python" "$here/../bep15_client.py" --timeout 0.5 --retries 0 \
	"udp://$tr4:$port/announce" connect
check "dptrack read its addresses from $tr_if" \
	grep -q "announce URL udp://\[$tr6\]:$port/announce" "$tmp/dptrack.out"
xdp=$(ip -n "$tr_ns" -d link show dev "$tr_if")
check "its XDP program is on $tr_if" grep -q "prog/xdp.* name dp_xdp_steer" <<<"$xdp"
mode=$(grep -o 'XDP program [0-9]* ([a-z]* mode)' "$tmp/dptrack.out")
echo "# $mode on a veth"

# --- the kernel's: ARP, NDP, ping ------------------------------------------------
mac=$(in_tr cat "/sys/class/net/$tr_if/address")
icmp4=$(snmp IcmpInEchos)
icmp6=$(snmp Icmp6InEchos)
in_cl ip neigh flush dev "$cl_if"
check "ping $tr4 from the client namespace" quiet in_cl ping -c 3 -i 0.2 -W 2 "$tr4"
check "ping -6 $tr6 from the client namespace" quiet in_cl ping -6 -c 3 -i 0.2 -W 2 "$tr6"
lladdr() {
	in_cl ip neigh show "$1" dev "$cl_if" |
		awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }'
}
check "ARP resolved $tr4 to $mac" [ "$(lladdr "$tr4")" = "$mac" ]
check "NDP resolved $tr6 to $mac" [ "$(lladdr "$tr6")" = "$mac" ]
check "the kernel answered the pings over IPv4 ($((icmp4)) -> $(snmp IcmpInEchos) echoes in)" \
	[ "$(snmp IcmpInEchos)" -ge $((icmp4 + 3)) ]
check "the kernel answered the pings over IPv6 ($((icmp6)) -> $(snmp Icmp6InEchos) echoes in)" \
	[ "$(snmp Icmp6InEchos)" -ge $((icmp6 + 3)) ]

# --- BEP 15 through dptrack, HTTP and TCP through the kernel --------------------
# (counted from here: the start probe's first datagrams may reach the kernel
# before dptrack has told its program the addresses)
udp_before=$(kernel_udp)
live_checks 120 "$here/udp_checks.py" --v4 "$tr4" --v6 "$tr6" \
	--port "$port" --interval "$interval" --src4 "$src4" --src6 "$src6"
live_checks 60 "$checks" checks --v4 "$tr4" --v6 "$tr6" --port "$port" \
	--tcp-port "$tcp_port" --src4 "$both4" --src6 "$both6"
udp_after=$(kernel_udp)
check "the kernel saw none of the BEP 15 datagrams (UDP in: $udp_before -> $udp_after)" \
	[ "$udp_after" = "$udp_before" ]

# --- dptrack's figures, and its XDP program's --------------------------------
tel=$(echo /dptrack/stats | timeout 10 dpdk-telemetry.py -f "$prefix" 2>&1)
tel_counter() {
	"$python" -c 'import json, sys
d = json.loads(sys.stdin.read().strip().splitlines()[-1])["/dptrack/stats"]
print(d[sys.argv[1]])' "$1" <<<"$tel" 2>/dev/null || echo -1
}
for name in udp_connect udp_announce udp_scrape http_announce port0_xdp_redirect \
	port0_xdp_pass_not_ip port0_xdp_pass_not_udp; do
	v=$(tel_counter "$name")
	check "telemetry reports $name > 0 (got $v)" [ "$v" -gt 0 ]
done
for name in stack_replies drop_kernel_owned port0_xdp_pass_no_socket; do
	v=$(tel_counter "$name")
	check "telemetry reports $name = 0 (got $v)" [ "$v" = 0 ]
done

metrics=$(in_tr curl -s --max-time 5 "http://127.0.0.1:$port/metrics")
check "GET /metrics has the XDP program's verdicts by reason" \
	grep -Eq '^dptrack_xdp_frames_total\{port="net_af_xdp0",verdict="redirect",reason="tracker"\} [1-9]' \
	<<<"$metrics"
timeout 10 "$dptrack" --status --file-prefix "$prefix" --interval 0 >"$tmp/status.out" 2>&1
check "dptrack --status shows the XDP program's verdicts" \
	bash -c 'grep -q "^port 0 XDP: redirect, pass" "$0" && grep -q "^  redirect  *[1-9]" "$0" &&
		grep -q "^  pass_not_udp  *[1-9]" "$0"' "$tmp/status.out"

# --- stop: the kernel has the port back -------------------------------------------
live_stop
live_check_counters udp_connect udp_announce udp_scrape http_announce
check "dptrack answered no ARP, NDP or ping itself (stack_replies $(counter stack_replies))" \
	[ "$(counter stack_replies)" = 0 ]
check "its XDP program is gone from $tr_if" \
	bash -c '! ip -n "$0" -d link show dev "$1" | grep -q prog/xdp' "$tr_ns" "$tr_if"
noports=$(($(snmp UdpNoPorts) + $(snmp Udp6NoPorts)))
live_checks 30 "$checks" unreachable --v4 "$tr4" --v6 "$tr6" --port "$port"
check "the kernel counted them as UDP to no port" \
	[ $(($(snmp UdpNoPorts) + $(snmp Udp6NoPorts))) -ge $((noports + 2)) ]
check "the kernel's TCP service outlived dptrack" quiet in_cl "$python" -c '
import socket, sys
with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2) as s:
    s.sendall(b"still here"); sys.exit(s.recv(64) != b"still here")' "$tr4" "$tcp_port"

# --- one dptrack an interface, and what a kill -9 leaves ---------------------------
bep15_up() {
	quiet in_cl "$python" "$here/../bep15_client.py" --timeout 0.5 --retries 0 \
		"udp://$tr4:$port/announce" connect
}
xdp_prog() { # the id of the XDP program on the interface, "" for none
	ip -n "$tr_ns" -d link show dev "$tr_if" | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p'
}
live_start "dptrack serves on $tr_if again" 40 bep15_up
yaml "" | sed -e "s/\"$prefix\"/\"${prefix}b\"/" -e '/^http:/,$d' >"$tmp/second.yaml"
echo "http: { enabled: false }" >>"$tmp/second.yaml"
refused "$tmp/second.yaml" "$tmp/second.out" "a second dptrack on $tr_if stops"
check "... naming the first one's PID ($pid)" \
	grep -q "interface $tr_if is shared by another dptrack (PID $pid) already" "$tmp/second.out"
check "... and the first still answers" bep15_up
left=$(xdp_prog)
kill -KILL "$pid"
wait "$pid" 2>/dev/null
pid=
check "kill -9 leaves dptrack's XDP program on $tr_if (id ${left:-none})" [ -n "$left" ]
live_start "a new dptrack serves on $tr_if after the kill -9" 40 bep15_up
check "... having removed the program the killed one left" \
	grep -q "removed XDP program $left from $tr_if: a dptrack that did not stop" "$tmp/dptrack.out"
now=$(xdp_prog)
check "... and attached its own (id ${now:-none})" [ -n "$now" ] && [ "$now" != "$left" ]
live_stop
check "its XDP program is gone from $tr_if again" [ -z "$(xdp_prog)" ]
stop_echo
finish
