#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The README's first command, as a user runs it: scripts/run.sh starts
# dptrack on the built-in configuration (a net_tap port), gives the tap's
# kernel side its addresses and prints the announce URLs; those URLs answer
# BEP 15 and ping; Ctrl-C (SIGINT to the process group) stops it with exit 0
# and its counters, and the hugepages it reserved are given back.
#
# It runs inside a network namespace of its own, so the tap, its addresses
# and all traffic stay there. Also the README's curl to 127.0.0.1:6969,
# twice over one kept-alive connection. Needs root.
# Usage: run_sh.sh SOURCE_ROOT
set -u
root=$(realpath "$1")
. "$root/test/cli/tap.sh"
python=/usr/bin/python3
client="$root/test/bep15_client.py"

if [ "$(id -u)" != 0 ]; then
	echo "skipped: run.sh needs root"
	exit 77
fi
ns=dpt-run-$$
tmp=$(mktemp -d)
hp=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
hp_before=$(cat "$hp")
pgid=

cleanup() {
	if [ -n "$pgid" ] && kill -0 -- "-$pgid" 2>/dev/null; then
		kill -INT -- "-$pgid" 2>/dev/null
		for _ in $(seq 50); do kill -0 -- "-$pgid" 2>/dev/null || break; sleep 0.2; done
		kill -KILL -- "-$pgid" 2>/dev/null
	fi
	ip netns delete "$ns" 2>/dev/null
	rm -rf "$tmp" "/var/run/dpdk/$ns"
}
trap cleanup EXIT
quiet() { "$@" >/dev/null 2>&1; }
on_fail() { sed 's/^/#   /' "$tmp/run.out" | tail -40; }

ip netns add "$ns" && ip -n "$ns" link set lo up || {
	echo "not ok - namespace $ns created"
	exit 1
}

# setsid: its own process group, like a terminal job, so SIGINT reaches
# run.sh and dptrack together, as Ctrl-C would. A file prefix of the test's
# own keeps clear of any other DPDK process on the machine.
ip netns exec "$ns" setsid "$root/scripts/run.sh" -- --file-prefix "$ns" \
	>"$tmp/run.out" 2>&1 </dev/null &
pgid=$!

ready=0
for _ in $(seq 600); do # at most 120 s: install and build are done by then
	grep -q "announce to:" "$tmp/run.out" && { ready=1; break; }
	kill -0 "$pgid" 2>/dev/null || break
	sleep 0.2
done
check "run.sh started dptrack and printed the announce URLs" [ "$ready" = 1 ]
check "the URLs include udp://198.18.0.2:6969/announce" \
	grep -q "udp://198.18.0.2:6969/announce" "$tmp/run.out"

if [ "$ready" = 1 ]; then
	check "ping 198.18.0.2 answers" quiet ip netns exec "$ns" ping -c 1 -W 2 198.18.0.2
	check "ping -6 fd00:d::2 answers" quiet ip netns exec "$ns" ping -6 -c 1 -W 2 fd00:d::2
	for url in udp://198.18.0.2:6969/announce "udp://[fd00:d::2]:6969/announce"; do
		check "BEP 15 connect to $url answers" \
			quiet ip netns exec "$ns" "$python" "$client" --timeout 2 --retries 2 "$url" connect
	done
fi

# The README's curl, on loopback, twice over one kept-alive connection:
# each answer a bencoded dictionary with the keys a client reads.
if [ "$ready" = 1 ]; then
	url='http://127.0.0.1:6969/announce?info_hash=%01%02%03%04%05%06%07%08%09%0a%0b%0c%0d%0e%0f%10%11%12%13%14&peer_id=-XX0001-abcdefghijkl&port=6881&left=0&compact=1'
	ip netns exec "$ns" curl -sv --max-time 5 "$url" -o "$tmp/a1" "$url" -o "$tmp/a2" \
		2>"$tmp/curl.err"
	check "curl reused one kept-alive connection for both announces" \
		grep -q "Re-using existing connection" "$tmp/curl.err"
	for a in a1 a2; do
		check "curl's answer $a is a dictionary with interval, complete, incomplete, peers, peers6" \
			"$python" -c 'import sys
sys.path.insert(0, sys.argv[1])
import http_client
d = http_client.bdecode(open(sys.argv[2], "rb").read())
assert all(k in d for k in (b"interval", b"complete", b"incomplete", b"peers", b"peers6")), d' \
			"$root/test" "$tmp/$a"
	done
fi

# Ctrl-C: SIGINT to the whole group.
kill -INT -- "-$pgid" 2>/dev/null
rc=124
for _ in $(seq 100); do # at most 20 s
	if ! kill -0 "$pgid" 2>/dev/null; then
		wait "$pgid"
		rc=$?
		break
	fi
	sleep 0.2
done
pgid=
check "Ctrl-C stops run.sh with exit 0 (status $rc)" [ "$rc" = 0 ]
check "dptrack printed its counters on the way out" \
	grep -Eq "^counter udp_connect [1-9]" "$tmp/run.out"
check "the hugepages run.sh reserved are given back ($hp_before)" [ "$(cat "$hp")" = "$hp_before" ]
grep "checksum offload" "$tmp/run.out" | sed "s/^/# /"
tap_end
