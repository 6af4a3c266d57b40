#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# `dptrack --status` without a tracker: it exits 1 naming the socket when
# no instance runs under the prefix (none, or a stale socket), takes the
# prefix from the config's dpdk.eal_args, refuses bad options with 2, and
# against a fake DPDK telemetry socket (a Python SOCK_SEQPACKET server)
# prints the table with totals and rates, and turns a null, malformed or
# missing reply into exit 1 and a message. The live test service.sh runs it
# against a real dptrack.
# Usage: test_status.sh PATH_TO_DPTRACK
# shellcheck disable=SC2016 # bash -c and awk scripts take their own $ arguments
set -u
dptrack=$(realpath "$1")
tmp=$(mktemp -d)
fake_pid=
# DPDK's runtime directory: root's, or XDG_RUNTIME_DIR's for other users.
export XDG_RUNTIME_DIR=$tmp
if [ "$(id -u)" = 0 ]; then rundir=/var/run/dpdk; else rundir=$tmp/dpdk; fi
prefix=dpt-status-$$
sock=$rundir/$prefix/dpdk_telemetry.v2
cleanup() {
	[ -z "$fake_pid" ] || kill "$fake_pid" 2>/dev/null
	rm -rf "$tmp" "${rundir:?}/${prefix:?}"
}
trap cleanup EXIT
# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$(dirname "$(realpath "$0")")/tap.sh"
on_fail() { sed 's/^/#   /' "$tmp/out" "$tmp/err" 2>/dev/null; }

# status ARGS...: runs dptrack in $tmp; output in $tmp/out, $tmp/err, $tmp/rc.
status() {
	(cd "$tmp" && HOME=$tmp "$dptrack" "$@" >"$tmp/out" 2>"$tmp/err")
	echo $? >"$tmp/rc"
}
rc() { cat "$tmp/rc"; }
# failed_with TEXT: the last run exited 1 with TEXT in its message.
failed_with() { [ "$(rc)" = 1 ] && grep -q "$1" "$tmp/err"; }

status --status --file-prefix "$prefix" --interval 0
check "no instance: exit 1" [ "$(rc)" = 1 ]
check "no instance: the message names the prefix and the socket" grep -qxF \
	"dptrack: no dptrack running with --file-prefix $prefix: $sock: No such file or directory" \
	"$tmp/err"

printf 'dpdk:\n  eal_args: ["--no-pci", "--file-prefix", "%s-cfg", "-l", "0"]\n' "$prefix" \
	>"$tmp/c.yaml"
status --status -c "$tmp/c.yaml"
check "the prefix comes from the config's dpdk.eal_args" \
	grep -q "with --file-prefix $prefix-cfg:" "$tmp/err"
status --status -c "$tmp/c.yaml" --file-prefix "$prefix"
check "--file-prefix wins over the config" grep -q "with --file-prefix $prefix:" "$tmp/err"
status --status -c "$tmp/c.yaml" -- --file-prefix="$prefix-eal"
check "an EAL --file-prefix after -- wins over the config" \
	grep -q "with --file-prefix $prefix-eal:" "$tmp/err"
status --interval 1
check "--interval without --status: exit 2" [ "$(rc)" = 2 ]
status --status --file-prefix "$prefix" --interval -1
check "a negative --interval: exit 2" [ "$(rc)" = 2 ]
status --status --file-prefix "$prefix" --interval 1s
check "--interval 1s: exit 2" [ "$(rc)" = 2 ]

# A fake telemetry socket: the greeting, then one canned reply per request
# (argv[2:], in order), then it closes. Serves one client, 20 s at most.
cat >"$tmp/fake.py" <<'PY'
import os, socket, sys
path, replies = sys.argv[1], sys.argv[2:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(path + ".tmp")
os.rename(path + ".tmp", path)
s.listen(1)
s.settimeout(20)
c, _ = s.accept()
c.settimeout(20)
c.send(b'{"version":"DPDK 22.11.11","pid":4242,"max_output_len":16384}')
for r in replies:
    if c.recv(1024) != b"/dptrack/stats":
        break
    c.send(r.encode())
c.close()
PY
# fake REPLY...: starts the server; returns once its socket is there (10 s).
fake() {
	local i
	mkdir -p "$rundir/$prefix"
	rm -f "$sock"
	/usr/bin/python3 "$tmp/fake.py" "$sock" "$@" &
	fake_pid=$!
	for ((i = 0; i < 100; i++)); do
		[ -S "$sock" ] && return 0
		sleep 0.1
	done
	return 1
}
fake_done() {
	wait "$fake_pid" 2>/dev/null
	fake_pid=
}
r1='{"/dptrack/stats":{"uptime_seconds":3726,"swarms":7,"peers_ipv4":12,"peers_ipv6":5,"udp_connect":100,"udp_announce":40,"drop_udp_cksum":3,"drop_eth_short":0,"memory_used_bytes":2097152,"memory_budget_bytes":67108864}}'
r2=${r1/\"udp_connect\":100/\"udp_connect\":150}

fake "$r1" "$r2"
status --status --file-prefix "$prefix" --interval 0.5
fake_done
check "a good reply: exit 0" [ "$(rc)" = 0 ]
check "the table names the prefix and the pid" grep -q "file-prefix $prefix: pid 4242" "$tmp/out"
check "the table shows uptime 1 h 2 min 6 s" grep -q "uptime  *0 d 01:02:06" "$tmp/out"
check "the table shows 7 swarms, 12 + 5 peers" \
	bash -c 'grep -q "swarms  *7$" "$0" && grep -q "peers ipv4  *12$" "$0" &&
		 grep -q "peers ipv6  *5$" "$0"' "$tmp/out"
check "the table shows memory used of the budget" grep -q "2.0 MiB of 64.0 MiB (3.1 %)" "$tmp/out"
# 50 more connects over the ~0.5 s between the samples: about 100/s.
check "the table shows udp connect 150 at about 100/s" \
	awk '$1 == "udp" && $2 == "connect" { t = $3; r = $4 }
	     END { exit !(t == 150 && r > 50 && r <= 100) }' "$tmp/out"
check "drops show the nonzero reason only" \
	bash -c 'grep -q "udp_cksum  *3 " "$0" && ! grep -q eth_short "$0"' "$tmp/out"

fake '{"/dptrack/stats":null}'
status --status --file-prefix "$prefix" --interval 0
fake_done
check "a null reply: exit 1 and says so" failed_with "null reply"

fake '{"/dptrack/stats":{"udp_connect":12,"uptime_seconds":'
status --status --file-prefix "$prefix" --interval 0
fake_done
check "a truncated reply: exit 1, malformed" failed_with "malformed reply at byte"

fake '{"/dptrack/stats":{"udp_connect":-12}}'
status --status --file-prefix "$prefix" --interval 0
fake_done
check "a negative counter: exit 1, malformed" failed_with "malformed reply"

fake '{"/dptrack/stats":{"rx_packets":1}}'
status --status --file-prefix "$prefix" --interval 0
fake_done
check "a reply without uptime: exit 1, not dptrack's" failed_with "not dptrack"

fake "$r1"
status --status --file-prefix "$prefix" --interval 0.2
fake_done
check "the connection closed before the second sample: exit 1" \
	failed_with "closed the telemetry connection"

# The fake is gone and its socket left behind, as after a SIGKILL.
status --status --file-prefix "$prefix" --interval 0
check "a stale socket: exit 1, connection refused" \
	failed_with "no dptrack running.*Connection refused"
tap_end
