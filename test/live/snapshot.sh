#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The live snapshot test: dptrack on net_af_packet over a veth (as udp.sh),
# restarted several times over one snapshot file, with
# test/live/snapshot_checks.py as the client:
#   0. a snapshot path in a missing directory stops dptrack at start;
#   1. 40 swarms filled over both families; SIGTERM saves them;
#   2. restarted: every scrape, peer list and an old connection ID are back;
#   3. a save stuck on its temporary file (a FIFO nobody reads yet) while
#      the lcores go on answering, then kill -9: the snapshot file is byte
#      for byte the old one, and the next start loads it;
#   4. a truncated snapshot: set aside as .corrupt, the tracker starts empty,
#      the next save (SIGUSR1) writes a new file beside it;
#   5. tracker.snapshot.interval saves on its own.
#
# Needs: root, iproute2, ethtool, iputils-ping, /usr/bin/python3.
# Usage: snapshot.sh PATH_TO_DPTRACK

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

live_require ip ethtool ping sysctl sha256sum mkfifo "$python"
live_init snap
tr4=198.18.0.2
tr6=fd00:d::2
src4=198.18.0.1,198.18.0.3,198.18.0.4
src6=fd00:d::1,fd00:d::3,fd00:d::4
port=6969

live_setup "namespaces $tr_ns and $cl_ns with veth $tr_if/$cl_if set up" "$src4" "$src6"
snap=$tmp/snap/peers.snap
mkdir -p "$tmp/snap"

# config INTERVAL [PATH]: no connection_id_secret, so the key comes from the file.
config() {
	cat >"$tmp/dptrack.yaml" <<EOF2
log: { level: info }
tracker:
  announce_interval: 900
  announce_jitter: 0
  max_swarms: 10000
  memory_mb: 64
  snapshot: { path: "${2:-$snap}", interval: $1 }
udp: { ports: [$port] }
$(live_dpdk_yaml "$tr4" "$tr6")
http: { enabled: false }
EOF2
	live_check_config
}

start() {
	live_start "dptrack ($1) answers ping within 20 s of starting" 40 \
		quiet in_cl ping -c 1 -W 1 -q "$tr4"
}

client() {
	live_checks 60 "$here/snapshot_checks.py" "$@" --v4 "$tr4" --v6 "$tr6" --port "$port" \
		--src4 "$src4" --src6 "$src6"
}

logged() { grep -q -- "$1" "$tmp/dptrack.out"; }

# --- 0. a snapshot directory that is not there: refused at start -------------------
config 0 "$tmp/nodir/peers.snap"
in_tr timeout 30 "$dptrack" -c "$tmp/dptrack.yaml" >"$tmp/nodir.out" 2>&1
rc=$?
check "a snapshot path in a missing directory stops dptrack at start (status $rc)" [ "$rc" = 1 ]
check "and says which directory" grep -q "its directory $tmp/nodir: No such file or directory" \
	"$tmp/nodir.out"
rm -rf "/var/run/dpdk/$prefix"

# --- 1. fill, SIGTERM -----------------------------------------------------------
config 0
start "first start"
check "with no snapshot yet it says so and starts empty" logged "no snapshot at $snap"
client fill "$tmp/state.json"
live_stop
check "SIGTERM saved the snapshot" [ -s "$snap" ]
check "the exit save is logged with its counts" logged "snapshot (exit) saved to $snap: 40 swarms"

# --- 2. restart: everything back ------------------------------------------------
start "restart"
check "the snapshot is loaded at start" logged "snapshot $snap loaded"
client verify "$tmp/state.json"

# --- 3. kill -9 during a save -------------------------------------------------------
before=$(sha256sum <"$snap")
mkfifo "$snap.tmp" # the save blocks opening it until someone reads
kill -USR1 "$pid"
sleep 1
client connect # the packet path answers while the save waits
# The snapshot thread sits in the kernel's FIFO open: the save has begun.
in_fifo_open() {
	local t
	for t in /proc/"$pid"/task/*; do
		[ "$(cat "$t/comm")" = dpt-snap ] && grep -q fifo_open "$t/stack" 2>/dev/null && return 0
	done
	return 1
}
check "the save is under way (its thread waits in the open of $snap.tmp)" in_fifo_open
kill -KILL "$pid"
wait "$pid" 2>/dev/null
pid=
rm -f "$snap.tmp"
check "after kill -9 during a save, the snapshot is the previous one, byte for byte" \
	[ "$(sha256sum <"$snap")" = "$before" ]
start "restart after kill -9"
check "that snapshot loads" logged "snapshot $snap loaded"
client verify "$tmp/state.json"
live_stop

# --- 4. a truncated snapshot --------------------------------------------------------
size=$(stat -c %s "$snap")
truncate -s $((size / 2)) "$snap"
start "start over a truncated snapshot"
check "the truncated snapshot is refused, named and set aside" \
	logged "snapshot refused: $snap: truncated"
check "it was moved to $snap.corrupt, untouched" [ "$(stat -c %s "$snap.corrupt" 2>/dev/null)" = $((size / 2)) ]
client empty
kill -USR1 "$pid"
for ((i = 0; i < 50; i++)); do [ -s "$snap" ] && break; sleep 0.1; done
new_beside_old() { [ -s "$snap" ] && [ "$(stat -c %s "$snap.corrupt")" = $((size / 2)) ]; }
check "SIGUSR1 writes a new snapshot beside the set-aside one" new_beside_old
check "the SIGUSR1 save is logged" logged "snapshot (SIGUSR1) saved to $snap"
live_stop

# --- 5. periodic saves -----------------------------------------------------------------
config 1
start "start with snapshot.interval 1"
sleep 3
live_stop
saves=$(counter snapshot_saves)
check "interval saves ran on their own (saves at exit: $saves, want >= 3)" [ "$saves" -ge 3 ]
check "no save failed (failures: $(counter snapshot_failures))" [ "$(counter snapshot_failures)" = 0 ]
v=$(counter mbufs_leaked)
check "every mbuf was back in its pool at exit (leaked: $v)" [ "$v" = 0 ]
finish
