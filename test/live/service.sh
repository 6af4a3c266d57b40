#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dptrack as a service runs it: dpdk.run_as drops root after setup, and
# `dptrack --status` reads the running instance.
#
#   netns TR (tracker)                        netns CL (client)
#   dptrack --vdev net_af_packet0,iface=vtP   vcP: 198.18.0.1/24
#   run_as: nobody; HTTP on 127.0.0.1   <-veth->
#
# 1. net_af_packet: once dptrack answers ping, every thread's real,
#    effective, saved and filesystem user and group IDs are nobody's, it has
#    no supplementary group and no capability (/proc/PID/task/*/status);
#    it still answers ping, a BEP 15 connect and announce (bep15_client.py)
#    and an HTTP announce on its kernel socket; `dptrack --status` prints the
#    table with those requests, the one peer, the memory budget and rates;
#    SIGTERM still stops it with status 0.
# 2. net_tap: the same drop, then ping through the tap from the tracker
#    namespace's kernel, and a clean stop.
# 3. run_as naming no user: exit 2 before EAL starts.
#
# Needs: root, iproute2, ethtool, iputils-ping, curl, /usr/bin/python3.
# Usage: service.sh PATH_TO_DPTRACK

# shellcheck disable=SC2317 # functions run from traps or through check()
# shellcheck disable=SC2016 # bash -c and awk scripts take their own $ arguments
set -u
if [ $# -ne 1 ]; then
	echo "usage: $0 PATH_TO_DPTRACK" >&2
	exit 2
fi
dptrack=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

live_require ip ethtool ping curl sysctl "$python"
live_init svc
tr4=198.18.0.2
cl4=198.18.0.1
port=6969
http_port=6970
user=nobody
if ! uid=$(id -u "$user") || ! gid=$(id -g "$user"); then bail "user $user exists"; fi
tap_if=dtp$$

lo_up() { in_tr ip link set lo up; }
live_setup "namespaces $tr_ns and $cl_ns with veth $tr_if/$cl_if set up" "$cl4" "" lo_up

# config DEVICE VDEV: writes $tmp/dptrack.yaml with run_as, a 64 MiB table
# and HTTP on the tracker namespace's loopback.
config() {
	cat >"$tmp/dptrack.yaml" <<EOF
tracker: { memory_mb: 64, max_swarms: 1000, announce_jitter: 0 }
udp: { ports: [$port] }
dpdk:
  eal_args: ["--no-huge", "-m", "256", "--no-pci", "--no-shconf", "-l", "0",
             "--file-prefix", "$prefix", "--vdev", "$2"]
  ports: [ { device: $1, ipv4: $tr4/24 } ]
  run_as: $user
http: { enabled: true, listen: ["127.0.0.1:$http_port"] }
EOF
}

# ids_dropped: every thread of $pid runs as $user with nothing else kept.
ids_dropped() {
	local f n=0
	for f in /proc/"$pid"/task/*/status; do
		awk -v u="$uid" -v g="$gid" '
			$1 == "Uid:" { for (i = 2; i <= 5; i++) if ($i != u) bad = 1 }
			$1 == "Gid:" { for (i = 2; i <= 5; i++) if ($i != g) bad = 1 }
			$1 == "Groups:" && NF > 1 { bad = 1 }
			$1 ~ /^Cap(Inh|Prm|Eff|Bnd|Amb):$/ && $1 != "CapBnd:" && $2 !~ /^0+$/ { bad = 1 }
			END { exit bad }' "$f" || return 1
		n=$((n + 1))
	done
	echo "# $n threads checked"
	[ "$n" -gt 1 ]
}

# --- 1. net_af_packet ------------------------------------------------------
config net_af_packet0 "net_af_packet0,iface=$tr_if"
live_check_config
live_start "dptrack (run_as: $user, net_af_packet) answers ping within 20 s" 40 \
	quiet in_cl ping -c 1 -W 1 -q "$tr4"
check "it logged the drop to $user" grep -q "running as $user (uid $uid, gid $gid)" "$tmp/dptrack.out"
check "every thread's user and group IDs are $user's; no group, no capability kept" ids_dropped
check "ping $tr4 after the drop" quiet in_cl ping -c 3 -i 0.2 -W 2 "$tr4"

hash=0123456789abcdef0123456789abcdef01234567
bep15() { in_cl "$python" "$here/../bep15_client.py" "udp://$tr4:$port/announce" "$@"; }
check "a BEP 15 connect is answered after the drop" quiet bep15 connect
check "a BEP 15 announce is answered after the drop" \
	quiet bep15 announce --info-hash "$hash" --event started --left 0
check "an HTTP announce on the kernel socket is answered after the drop" \
	bash -c 'ip netns exec "$0" curl -sf --max-time 5 "$1" | grep -q interval' "$tr_ns" \
	"http://127.0.0.1:$http_port/announce?info_hash=%01%02%03%04%05%06%07%08%09%0a%0b%0c%0d%0e%0f%10%11%12%13%14&peer_id=-XX0001-abcdefghijkl&port=6881&left=10&compact=1"

# --status: two UDP connects (bep15's announce makes its own), one UDP and
# one HTTP announce, each a peer of its own swarm.
"$dptrack" --status --file-prefix "$prefix" --interval 0.5 >"$tmp/status.out" 2>&1
rc=$?
sed 's/^/# /' "$tmp/status.out"
on_fail() { sed 's/^/#   /' "$tmp/status.out"; }
col() { awk -v k="$1" '{ l = $0; sub(/^ +/, "", l) } index(l, k " ") == 1 { $0 = substr(l, length(k) + 1); print $1; exit }' "$tmp/status.out"; }
check "dptrack --status exits 0 (status $rc)" [ "$rc" = 0 ]
check "--status names the pid" grep -q "file-prefix $prefix: pid $pid\$" "$tmp/status.out"
check "--status shows 2 swarms (got $(col swarms))" [ "$(col swarms)" = 2 ]
check "--status shows 2 IPv4 peers (got $(col 'peers ipv4'))" [ "$(col 'peers ipv4')" = 2 ]
check "--status shows 2 udp connects (got $(col 'udp connect'))" [ "$(col 'udp connect')" = 2 ]
check "--status shows 1 udp announce (got $(col 'udp announce'))" [ "$(col 'udp announce')" = 1 ]
check "--status shows 1 http announce (got $(col 'http announce'))" [ "$(col 'http announce')" = 1 ]
check "--status shows the 64 MiB budget" grep -q "MiB of 64.0 MiB" "$tmp/status.out"
check "--status shows rates over the interval" grep -q "^per s: over the last 0\.[5-9] s" \
	"$tmp/status.out"
"$dptrack" --status -c "$tmp/dptrack.yaml" --interval 0 >"$tmp/status.out" 2>&1
check "--status -c FILE finds the instance through dpdk.eal_args" \
	grep -q "file-prefix $prefix: pid $pid\$" "$tmp/status.out"

# --status without root: a user in run_as's group reads it, another not.
# Both are made here (no home, no shell) and removed by the trap; the
# binary is copied where they can run it.
member=dpm$$ outsider=dpo$$
group=$(id -gn "$user")
cleanup_users() { userdel "$member" 2>/dev/null; userdel "$outsider" 2>/dev/null; }
trap 'cleanup_users; live_cleanup' EXIT
useradd -M -N -G "$group" -s /usr/sbin/nologin "$member" &&
	useradd -M -N -s /usr/sbin/nologin "$outsider" || bail "test users made"
mkdir -p "$tmp/bin" && cp "$dptrack" "$tmp/bin/dptrack" && chmod 755 "$tmp" "$tmp/bin"
runuser -u "$member" -- "$tmp/bin/dptrack" --status --file-prefix "$prefix" --interval 0 \
	>"$tmp/status.out" 2>&1
rc=$?
check "--status as a non-root member of $group (status $rc)" \
	bash -c '[ "$0" = 0 ] && grep -q "pid $1\$" "$2"' "$rc" "$pid" "$tmp/status.out"
runuser -u "$outsider" -- "$tmp/bin/dptrack" --status --file-prefix "$prefix" --interval 0 \
	>"$tmp/status.out" 2>&1
rc=$?
check "--status as a user outside $group is refused, saying why (status $rc)" \
	bash -c '[ "$0" = 1 ] && grep -q "Permission denied" "$1"' "$rc" "$tmp/status.out"
check "the telemetry socket is the group's (0660) and its directory 0750" \
	bash -c '[ "$(stat -c "%a %G" "$0")" = "660 $2" ] && [ "$(stat -c "%a %G" "$1")" = "750 $2" ]' \
	"/var/run/dpdk/$prefix/dpdk_telemetry.v2" "/var/run/dpdk/$prefix" "$group"

live_stop
check "no error after the drop in dptrack's output" \
	bash -c '! sed -n "/running as/,\$p" "$0" | grep -v "^counter " |
		 grep -Eiq "error|fail|denied|not permitted"' \
	"$tmp/dptrack.out"
on_fail() { sed 's/^/#   /' "$tmp/dptrack.out"; }
"$dptrack" --status --file-prefix "$prefix" --interval 0 >"$tmp/status.out" 2>&1
rc=$?
check "--status after the stop: exit 1, no dptrack running (status $rc)" \
	bash -c '[ "$0" = 1 ] && grep -q "no dptrack running with --file-prefix" "$1"' "$rc" \
	"$tmp/status.out"

# --- 2. net_tap ------------------------------------------------------------
config net_tap0 "net_tap0,iface=$tap_if"
# The tap appears once dptrack runs; give its kernel side an address.
tap_ping() {
	in_tr ip link show "$tap_if" >/dev/null 2>&1 || return 1
	in_tr ip addr show dev "$tap_if" | grep -q 198.18.0.1/ ||
		in_tr ip addr add 198.18.0.1/24 dev "$tap_if" 2>/dev/null
	in_tr ip link set "$tap_if" up 2>/dev/null
	quiet in_tr ping -c 1 -W 1 -q "$tr4"
}
in_tr ip link set "$tr_if" down
live_start "dptrack (run_as: $user, net_tap) answers ping through its tap within 20 s" 40 tap_ping
check "net_tap: every thread's IDs are $user's, nothing kept" ids_dropped
check "net_tap: ping $tr4 after the drop" quiet in_tr ping -c 3 -i 0.2 -W 2 "$tr4"
"$dptrack" --status --file-prefix "$prefix" --interval 0 >"$tmp/status.out" 2>&1
check "net_tap: --status reads it" grep -q "pid $pid\$" "$tmp/status.out"
live_stop
check "net_tap: no error after the drop in dptrack's output" \
	bash -c '! sed -n "/running as/,\$p" "$0" | grep -v "^counter " |
		 grep -Eiq "error|fail|denied|not permitted"' \
	"$tmp/dptrack.out"

# --- 3. no such user -------------------------------------------------------
sed -i "s/run_as: $user/run_as: no-such-user-$$/" "$tmp/dptrack.yaml"
"$dptrack" -c "$tmp/dptrack.yaml" >"$tmp/dptrack.out" 2>&1
rc=$?
check "run_as naming no user: exit 2 (status $rc)" [ "$rc" = 2 ]
check "run_as naming no user: the message says so, before EAL" \
	bash -c 'grep -q "dpdk.run_as: no user" "$0" && ! grep -q EAL "$0"' "$tmp/dptrack.out"
finish
