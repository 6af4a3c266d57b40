#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The live access list test (tracker.access_list): dptrack on net_af_packet
# over a veth for UDP (as udp.sh) and on a kernel veth for HTTP (as
# http.sh), with test/live/access_checks.py as the client over both, IPv4
# and IPv6:
#   1. mode allow: listed hashes served, others refused (BEP 15 error, HTTP
#      failure reason, zeros in scrapes); a swarm filled;
#   2. SIGHUP after rewriting the list: the new list in force, the filled
#      swarm refused; SIGHUP again with it listed: its peers are all there;
#   3. a malformed list, then a missing one: SIGHUP keeps the old list, the
#      log names FILE:LINE (or FILE) and the old list's size;
#   4. mode deny in a second run, and a SIGHUP there;
#   5. a malformed list at start: exit 2 naming FILE:LINE, with and without
#      --check-config.
#
# Needs: root, iproute2, ethtool, iputils-ping, curl, /usr/bin/python3.
# Usage: access.sh PATH_TO_DPTRACK

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

live_require ip ethtool ping sysctl curl sha1sum "$python"
live_init acl
live_plan

link_b() { live_link_b 198.18.1.1 fd00:e::1; }
live_setup "namespaces $tr_ns and $cl_ns with veth $tr_if/$cl_if and $trh_if/$clh_if set up" \
	198.18.0.1 fd00:d::1 link_b

hash_of() { printf 'dptrack access test %s' "$1" | sha1sum | cut -c1-40; }
A=$(hash_of a)
B=$(hash_of b)
C=$(hash_of c)
D=$(hash_of d)
upper() { tr a-f A-F <<<"$1"; }
list=$tmp/list.txt

# config MODE
config() {
	cat >"$tmp/dptrack.yaml" <<EOF2
log: { level: info }
tracker:
  announce_interval: 900
  announce_jitter: 0
  max_swarms: 10000
  memory_mb: 64
  access_list: { mode: $1, path: "$list" }
udp: { ports: [$port] }
$(live_dpdk_yaml "$udp4" "$udp6")
http:
  enabled: true
  listen: ["0.0.0.0:$port", "[::]:$port"]
  threads: 2
EOF2
	live_check_config
}


start() {
	live_start "dptrack ($1) answers ping and GET /heartbeat within 20 s" 100 live_answers_both
}

client() {
	live_checks 60 "$here/access_checks.py" "$@" --udp4 "$udp4" --udp6 "$udp6" \
		--http4 "$http4" --http6 "$http6" --port "$port" --src4 198.18.0.1 \
		--src6 fd00:d::1 --hsrc4 198.18.1.1 --hsrc6 fd00:e::1
}

logged() { grep -c -- "$1" "$tmp/dptrack.out"; }

# hup PATTERN N: SIGHUP, then waits up to 5 s for the N-th log line with
# PATTERN; reports whether it came.
hup() {
	local i
	kill -HUP "$pid"
	for ((i = 0; i < 50; i++)); do
		[ "$(logged "$1")" -ge "$2" ] && break
		sleep 0.1
	done
	check "SIGHUP: the log says '$1' (line $2 of its kind)" [ "$(logged "$1")" -ge "$2" ]
}

# --- 1. allow ---------------------------------------------------------------------
printf '# allowed torrents\n%s\n\n  %s  # upper case, spaces\n' "$A" "$(upper "$B")" >"$list"
config allow
start "mode allow"
check "the list is announced at start" grep -q "access list $list: 2 hashes (allow)" \
	"$tmp/dptrack.out"
client serve "$A" "$B"
client refuse "$C" "$D" --beside "$A"
client fill "$A"
client count "$A" 1 3

# --- 2. reloads -------------------------------------------------------------------
printf '%s\n%s # c\n' "$B" "$C" >"$list"
hup "access list reloaded: 2 hashes (allow)" 1
client serve "$B" "$C"
client refuse "$A" "$D" --beside "$B"
printf '%s\n%s\n%s\n' "$A" "$C" "$C" >"$list"
hup "access list reloaded: 2 hashes (allow)" 2
client count "$A" 1 3 # refused for a while, its peers untouched
client serve "$C"
client refuse "$B"

# --- 3. failed reloads ---------------------------------------------------------------
printf '%s\nnot a hash\n%s\n' "$B" "$D" >"$list"
hup "access list reload failed: $list:2: expected 40 hex digits" 1
check "the failure says the old list stays" \
	grep -q "reload failed: $list:2: .*; keeping the old list (2 hashes)" "$tmp/dptrack.out"
client serve "$A" "$C"
client refuse "$B" "$D"
rm -f "$list"
hup "access list reload failed: $list: cannot open: No such file or directory" 1
client serve "$A"
client refuse "$B"
client count "$A" 1 3
live_stop
for c in udp_err_access_list http_err_access_list; do
	check "refusals counted as $c (got $(counter $c))" [ "$(counter $c)" -gt 0 ]
done
check "reloads counted (got $(counter access_list_reloads), want 2)" \
	[ "$(counter access_list_reloads)" = 2 ]
check "failed reloads counted (got $(counter access_list_reload_failures), want 2)" \
	[ "$(counter access_list_reload_failures)" = 2 ]

# --- 4. deny ---------------------------------------------------------------------------
printf '%s\n' "$A" >"$list"
config deny
start "mode deny"
client refuse "$A" --beside "$B"
client serve "$B" "$C"
printf '# now B\n%s\n' "$(upper "$B")" >"$list"
hup "access list reloaded: 1 hashes (deny)" 1
client serve "$A" "$C"
client refuse "$B" --beside "$A"
live_stop
v=$(counter mbufs_leaked)
check "every mbuf was back in its pool at exit (leaked: $v)" [ "$v" = 0 ]

# --- 5. a bad list at start -----------------------------------------------------------
printf '%s\n\n%sff\n' "$A" "$B" >"$list"
in_tr "$dptrack" -c "$tmp/dptrack.yaml" --check-config >"$tmp/bad.out" 2>&1
rc=$?
check "--check-config refuses a malformed list with exit 2 (got $rc)" [ "$rc" = 2 ]
check "naming its line" grep -q "$list:3: expected 40 hex digits, got more" "$tmp/bad.out"
in_tr "$dptrack" -c "$tmp/dptrack.yaml" >"$tmp/bad.out" 2>&1
rc=$?
check "dptrack refuses to start on it with exit 2 (got $rc)" [ "$rc" = 2 ]
check "naming its line" grep -q "$list:3: expected 40 hex digits, got more" "$tmp/bad.out"
finish
