#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# scripts/soak.sh - dptrack for a long time under churn with nothing growing,
# kill -9 under load with nothing lost past the last snapshot, and how long a
# restart at scale takes (issue 15; the method and figures: docs/SOAK.md).
#
#   soak   (the default) dptrack on net_memif under dpt-load for --duration
#          (60 s; --hours H for long runs): peers start, complete and stop,
#          torrents are born and die, IPv4 and IPv6, connects, announces and
#          scrapes, at --rate requests/s; HTTP clients beside it (keep-alive,
#          slow trickling and idle connections); a peer_timeout of 90 s, so
#          expiry never rests, and a snapshot every 5 s. Samples resident
#          memory, table memory, mbufs, descriptors, swarms, peers, replies/s
#          and latency p99 each --sample period into soak.csv, draws
#          soak.png (gnuplot) and fails on growth, drift or any error
#          counter (test/soak/soak_check.py says which and by how much).
#   chaos  (--chaos N) N cycles of kill -9 under full load, at a random
#          moment or, every other cycle, aimed into a snapshot being written
#          (tracker.snapshot.interval 1 s), then a restart from the snapshot:
#          a side client's ledger of peers (test/soak/soak_chaos.py) must be
#          back to the last one announced before the last completed save,
#          a connection ID from before must still be accepted, and a
#          snapshot damaged on purpose (every third cycle: bytes flipped,
#          then truncated) must be set aside as PATH.corrupt while the
#          tracker serves. Time to serving: exec to the first BEP 15 reply.
#          --cluster: three nats-server with JetStream, dptrack with the
#          cluster on, and a NATS node killed (-9) and restarted every other
#          cycle. Writes chaos.csv, one row a cycle, and chaos.png.
#   restart scale (--restart-scale PEERS) fills PEERS peers (PEERS/10
#          torrents, Zipf 1.0), saves (SIGUSR1), kills -9 under load and
#          times the restart: exec to the snapshot loaded and to the first
#          reply, every peer back, and the load's replies/s after.
#
# Topology: a network namespace of this run holds dptrack (one lcore on CPU
# A), dpt-load on its net_memif (CPU B), the HTTP clients and NATS on its
# loopback; for chaos and restart scale, a second port of dptrack
# (net_af_packet on a veth) reaches a client namespace where the side client
# speaks BEP 15 from 198.18.1.0/24 and fd00:e::/64. Every process is started
# here and stopped by its PID; the EXIT trap removes the namespaces, the
# DPDK runtime directories and the temporary directory.
#
# Usage: sudo scripts/soak.sh [--duration S | --hours H] [options]
#        sudo scripts/soak.sh --chaos N [--cluster] [options]
#        sudo scripts/soak.sh --restart-scale PEERS [options]
# Options:
#   --build-dir DIR  --no-build  --out DIR (soak-results/MODE-DATE)
#   --ci             what meson test runs: --no-build, exit 77 unless root
#   --cpus A,B       tracker on A, generator on B (0,1)
#   --torrents N --peers N --v6 PCT --events PCT --torrent-life S
#   --rate N (soak: 100000; chaos and restart scale: no bound) --window N
#   --sample S (60 s; in runs under 12 min a twelfth of the run, >= 2 s)
#   --warmup S (a quarter of the run, at most 900 s)
#   --peer-timeout S (90)  --snapshot-interval S (soak 5, chaos 1)
#   --http-rate R (100) --http-slow N (4) --http-idle N (8) --no-http
#   --rss-tol-pct P (2) --rss-tol-mb M (4) --mbuf-tol N (64) --band-pct P (10)
#   --rps-drift-pct P (10) --p99-drift-pct P (50) --p99-floor-us U (100)
#   --damage-every K (3)  --cluster
# Needs root (namespaces, memif, /var/run/dpdk); installs gnuplot-nox and
# nats-server with the rest of scripts/lib.sh's packages if missing.
# shellcheck disable=SC2317 # functions run from traps
set -euo pipefail
DPTRACK_SCRIPT=$(realpath "$0")
cd "$(dirname "$DPTRACK_SCRIPT")/.."
. scripts/lib.sh
if [[ " $* " == *" --ci "* ]] && [ "$(id -u)" != 0 ]; then
	echo "skipped: the soak needs root (namespaces, memif, /var/run/dpdk)"
	exit 77
fi
need_root "$@"

build=build
do_build=1
ci=0
mode=soak
duration=60
chaos=0
scale_peers=0
out=''
cpus=''
torrents='' peers='' v6=25 events=10 torrent_life=600 rate='' window=256
sample='' warmup='' peer_timeout=90 snap_interval=''
http=1 http_rate=100 http_slow=4 http_idle=8
checks=()
damage_every=3
cluster=0
while [ $# -gt 0 ]; do
	case $1 in
	--ci) ci=1 do_build=0 ;;
	--no-build) do_build=0 ;;
	--build-dir) build=$2; shift ;;
	--out) out=$2; shift ;;
	--duration) duration=$2; shift ;;
	--hours) duration=$(awk -v h="$2" 'BEGIN { printf "%d", h * 3600 }'); shift ;;
	--chaos) mode=chaos chaos=$2; shift ;;
	--restart-scale) mode=scale scale_peers=$2; shift ;;
	--cluster) cluster=1 ;;
	--cpus) cpus=$2; shift ;;
	--torrents) torrents=$2; shift ;;
	--peers) peers=$2; shift ;;
	--v6) v6=$2; shift ;;
	--events) events=$2; shift ;;
	--torrent-life) torrent_life=$2; shift ;;
	--rate) rate=$2; shift ;;
	--window) window=$2; shift ;;
	--sample) sample=$2; shift ;;
	--warmup) warmup=$2; shift ;;
	--peer-timeout) peer_timeout=$2; shift ;;
	--snapshot-interval) snap_interval=$2; shift ;;
	--http-rate) http_rate=$2; shift ;;
	--http-slow) http_slow=$2; shift ;;
	--http-idle) http_idle=$2; shift ;;
	--no-http) http=0 ;;
	--rss-tol-pct | --rss-tol-mb | --mbuf-tol | --band-pct | --rps-drift-pct | --p99-drift-pct | --p99-floor-us)
		checks+=("$1" "$2"); shift ;;
	--damage-every) damage_every=$2; shift ;;
	*) die "soak.sh: unknown argument $1 (see the comment at the top)" ;;
	esac
	shift
done
int() { [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -ge "$3" ] && [ "$2" -le "$4" ] || die "soak.sh: $1 must be $3..$4"; }
int --duration "$duration" 10 604800
int --chaos "$chaos" 0 10000
int --damage-every "$damage_every" 1 1000
int --peer-timeout "$peer_timeout" 61 86400
[ "$mode" != scale ] || int --restart-scale "$scale_peers" 1000 100000000

# Each mode's workload; the options above override it.
case $mode in
soak)
	: "${torrents:=20000}" "${peers:=200000}" "${rate:=100000}" "${snap_interval:=5}"
	# A sample a minute, or twelve over a short run.
	: "${sample:=$(awk -v d="$duration" 'BEGIN { s = (d >= 720 ? 60 : d / 12); printf "%g", (s < 2 ? 2 : s) }')}"
	: "${warmup:=$(awk -v d="$duration" 'BEGIN { w = d / 4; printf "%d", (w > 900 ? 900 : w) }')}"
	;;
chaos)
	: "${torrents:=50000}" "${peers:=500000}" "${rate:=0}" "${snap_interval:=1}"
	;;
scale)
	torrents=${torrents:-$((scale_peers / 10 > 0 ? scale_peers / 10 : 1))}
	peers=$scale_peers
	: "${rate:=0}" "${snap_interval:=0}"
	;;
esac

ncpu=$(nproc)
[ -n "$cpus" ] || cpus="0,$((ncpu > 1 ? 1 : 0))"
tcpu=${cpus%,*}
gcpu=${cpus#*,}

install_deps
if [ $do_build = 1 ]; then
	build_dir "$build" -Dbuildtype=release
fi
dptrack=$(realpath "$build/dpdk/dptrack")
load=$(realpath "$build/test/bench/dpt-load")
{ [ -x "$dptrack" ] && [ -x "$load" ]; } || die "no $build/dpdk/dptrack or $build/test/bench/dpt-load"
python=/usr/bin/python3 # Debian's; the one on PATH may be another build
helpers=$(realpath test/soak)
if [ -z "$out" ]; then
	out=soak-results/$mode-$(date +%Y%m%d-%H%M%S)
	[ $ci = 0 ] || out=$build/soak-results/$mode-$$
fi
mkdir -p "$out"
out=$(realpath "$out")

# --- names, processes, cleanup ----------------------------------------------------
tmp=$(mktemp -d)
tr_ns=dpt-soak-tr-$$
cl_ns=dpt-soak-cl-$$
tr_if=vst$$
cl_if=vsc$$
tr_prefix=dpt-soak-tr-$$
gen_prefix=dpt-soak-gen-$$
memif=/dpt-soak-$$
http_port=6969
udp_port=6969
snap=$tmp/snap/peers.snap
tr4=198.18.1.2 tr6=fd00:e::2 # the side port's addresses
src4=198.18.1.1,198.18.1.3 src6=fd00:e::1
tr_pid='' gen_pid='' http_pid='' side_pid=''
nats_pids=(- - -)
mkdir -p "$tmp/snap" "$tmp/nats"

in_tr() { ip netns exec "$tr_ns" "$@"; }
in_cl() { ip netns exec "$cl_ns" "$@"; }

# stop_pid PID [SECONDS]: SIGTERM, SIGKILL after SECONDS (10); reaps it.
stop_pid() {
	local p=$1 i
	[ -n "$p" ] && [ "$p" != - ] || return 0
	kill -TERM "$p" 2>/dev/null || true
	for ((i = 0; i < ${2:-10} * 10; i++)); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
}
cleanup() {
	local p
	for p in "$side_pid" "$http_pid" "$gen_pid" "$tr_pid" "${nats_pids[@]}"; do
		stop_pid "$p" 5
	done
	ip netns del "$tr_ns" 2>/dev/null || true
	ip netns del "$cl_ns" 2>/dev/null || true
	rm -rf "$tmp" "/var/run/dpdk/$tr_prefix" "/var/run/dpdk/$gen_prefix"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

failed=0
fail() {
	echo "soak: FAILED: $*"
	failed=1
}

# The namespaces: the tracker's with its loopback up; with a side port, a
# veth into the client's (as test/live/lib.sh sets it up), and permanent
# neighbour entries there for the tracker's addresses, so a restart is timed
# from the first frame, not from the kernel's ARP retry.
setup_ns() {
	ip netns add "$tr_ns"
	in_tr ip link set lo up
	[ "$1" = side ] || return 0
	ip netns add "$cl_ns"
	ip link add "$tr_if" netns "$tr_ns" type veth peer name "$cl_if" netns "$cl_ns"
	in_tr sysctl -qw "net.ipv6.conf.$tr_if.disable_ipv6=1"
	in_tr ip link set "$tr_if" up
	in_cl ip link set lo up
	local a mac
	for a in ${src4//,/ }; do in_cl ip addr add "$a/24" dev "$cl_if"; done
	in_cl ip -6 addr add "$src6/64" dev "$cl_if" nodad
	in_cl ethtool -K "$cl_if" tx off >/dev/null # a veth never fills UDP checksums
	in_cl ip link set "$cl_if" up
	mac=$(in_tr cat "/sys/class/net/$tr_if/address")
	in_cl ip neigh replace "$tr4" lladdr "$mac" dev "$cl_if" nud permanent
	in_cl ip -6 neigh replace "$tr6" lladdr "$mac" dev "$cl_if" nud permanent
}

# --- dptrack ----------------------------------------------------------------------
# write_config MEMORY_MB MAX_SWARMS: the memif port (and the side port when
# the client namespace exists); intervals small enough that expiry runs all
# the time (peer_timeout > announce_interval + jitter, as the loader wants).
write_config() {
	local mb=$1 swarms=$2 side='' vdev_side='' cl_yaml=''
	if [ -e "/var/run/netns/$cl_ns" ]; then
		vdev_side=", \"--vdev\", \"net_af_packet0,iface=$tr_if\""
		side="    - { device: net_af_packet0, ipv4: $tr4/24, ipv6: \"$tr6/64\" }"
	fi
	if [ $cluster = 1 ]; then
		cl_yaml="cluster: { enabled: true, servers: [\"nats://127.0.0.1:4221\", \"nats://127.0.0.1:4222\", \"nats://127.0.0.1:4223\"], name: soak, instance: soak-a, replicas: 3, max_age: $((peer_timeout > 600 ? peer_timeout : 600)) }"
	fi
	local ai=60 jit=$((peer_timeout - 61 < 10 ? peer_timeout - 61 : 10))
	[ "$mode" != scale ] || ai=1800 jit=0 # nothing may expire while it fills
	cat >"$tmp/dptrack.yaml" <<EOF
log: { level: info }
tracker:
  announce_interval: $ai
  announce_jitter: $jit
  min_interval: 30
  peer_timeout: $([ "$mode" = scale ] && echo 2700 || echo "$peer_timeout")
  swarm_retention: 30
  max_swarms: $swarms
  max_peers_per_swarm: 100000000
  memory_mb: $mb
  snapshot: { path: "$snap", interval: $snap_interval }
udp: { ports: [$udp_port] }
dpdk:
  eal_args: ["--no-huge", "-m", "$((mb + 384))", "--no-pci", "-l", "$tcpu",
             "--file-prefix", "$tr_prefix", "--log-level", "pmd.net.memif:debug",
             "--vdev", "net_memif0,role=server,socket=$memif,mac=02:00:00:00:00:02"$vdev_side]
  ports:
    - { device: net_memif0, ipv4: 198.18.0.2/24, ipv6: "fd00:d::2/64" }
$side
  idle_sleep_us: 1000
http:
  listen: ["127.0.0.1:$http_port", "[::1]:$http_port"]
  max_connections: 1000
  idle_timeout: 10
stats: { allow: ["127.0.0.0/8", "::1/128"] }
$cl_yaml
EOF
	"$dptrack" -c "$tmp/dptrack.yaml" --check-config >"$tmp/check.out" 2>&1 ||
		{ cat "$tmp/check.out"; die "dptrack refuses the soak's configuration"; }
}

# start_tracker LOG: dptrack in the tracker namespace (ip netns exec execs
# it: $! is its PID); sets t_exec (the unix time just before) and tr_pid.
# Does not wait.
start_tracker() {
	rm -rf "/var/run/dpdk/$tr_prefix"
	t_exec=$(date +%s.%N)
	ip netns exec "$tr_ns" "$dptrack" -c "$tmp/dptrack.yaml" >"$1" 2>&1 &
	tr_pid=$!
}
# wait_serving LOG: until the log says it serves (30 s at most).
wait_serving() {
	local i
	for ((i = 0; i < 300; i++)); do
		grep -aq "serving on" "$1" && return 0
		kill -0 "$tr_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$1"
	die "dptrack did not start"
}
# stop_tracker: SIGTERM; its exit status in tr_status.
stop_tracker() {
	local i
	tr_status=-1
	[ -n "$tr_pid" ] || return 0
	kill -TERM "$tr_pid" 2>/dev/null || true
	for ((i = 0; i < 300; i++)); do
		kill -0 "$tr_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$tr_pid" 2>/dev/null || true
	tr_status=0
	wait "$tr_pid" || tr_status=$?
	tr_pid=
}
# Every figure of /metrics as "name{labels} value" lines.
metrics() { in_tr curl -s --max-time 5 "http://127.0.0.1:$http_port/metrics" || true; }
# metric NAME: the unlabelled sample, or the sum of the labelled ones.
metric() {
	metrics | awk -v n="dptrack_$1" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%.0f\n", s }'
}

# --- the generator ------------------------------------------------------------------
# start_load OUT ARGS...: dpt-load on the memif client, CPU gcpu, line
# buffered into OUT; sets gen_pid.
start_load() {
	local o=$1
	shift
	rm -rf "/var/run/dpdk/$gen_prefix"
	ip netns exec "$tr_ns" stdbuf -oL "$load" --wire dpdk --target4 198.18.0.2 --target6 fd00:d::2 "$@" -- \
		--no-huge -m 512 --no-pci -l "$gcpu" --file-prefix "$gen_prefix" \
		--log-level pmd.net.memif:debug \
		--vdev "net_memif0,role=client,socket=$memif,mac=02:00:00:00:00:01" \
		>"$o" 2>&1 &
	gen_pid=$!
}
# wait_line FILE PATTERN SECONDS: until PATTERN shows in FILE; 1 if not.
wait_line() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -aq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# link_report: when the generator gave up on the tracker, what the
# tracker's memif port says (telemetry: link and port counters), and the
# memif control events both logged (connects, disconnects and why: at
# debug, memif logs nothing per packet).
link_report() {
	local q
	for q in "/ethdev/link_status,0" "/ethdev/stats,0"; do
		echo "    tracker $q: $(echo "$q" | timeout 10 dpdk-telemetry.py -f "$tr_prefix" 2>&1 | tr -d '\n' | cut -c1-400)"
	done
	grep -ahi 'memif' "$out"/dptrack*.log "$out"/load*.out 2>/dev/null | tr -d '\0' | tail -20 | sed 's/^/    /' || true
}

# The churning workload of the soak and chaos.
workload=(--torrents "$torrents" --peers "$peers" --v6 "$v6" --window "$window"
	--mix "connect=5,announce=85,scrape=10" --scrape-hashes 4 --numwant 50 --seeders 20
	--events "$events" --torrent-life "$torrent_life" --rate "$rate" --seed 7)
# field KEY LINE: the value of KEY=VALUE in LINE.
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p" | head -1; }

# --- NATS (--cluster) ---------------------------------------------------------------
# Node i (0..2) listens on 127.0.0.1:422(1+i), routes on 622(1+i), stores
# in $tmp/nats/ni; JetStream replicates the stream on all three.
start_nats() {
	local i=$1 j routes=''
	for j in 0 1 2; do
		[ "$j" = "$i" ] || routes+="${routes:+, }\"nats://127.0.0.1:$((6221 + j))\""
	done
	mkdir -p "$tmp/nats/n$i"
	cat >"$tmp/nats/n$i.conf" <<EOF
server_name: soak-n$i
listen: 127.0.0.1:$((4221 + i))
jetstream { store_dir: "$tmp/nats/n$i", max_memory_store: 64MB, max_file_store: 2GB }
cluster { name: soak, listen: 127.0.0.1:$((6221 + i)), routes: [$routes] }
EOF
	ip netns exec "$tr_ns" nats-server -c "$tmp/nats/n$i.conf" >>"$out/nats-$i.log" 2>&1 &
	nats_pids[i]=$!
}
start_cluster() {
	local i
	for i in 0 1 2; do start_nats "$i"; done
	for i in 0 1 2; do
		wait_line "$out/nats-$i.log" "Server is ready" 20 || die "nats-server $i did not start"
	done
	# JetStream needs a metadata leader before dptrack can make its stream.
	for ((i = 0; i < 300; i++)); do
		cat "$out"/nats-*.log | grep -q "metadata leader" && return 0
		sleep 0.1
	done
	die "the NATS servers elected no JetStream leader within 30 s"
}
# kill_nats I: kill -9 node I (it comes back with start_nats I).
kill_nats() {
	kill -KILL "${nats_pids[$1]}" 2>/dev/null || true
	wait "${nats_pids[$1]}" 2>/dev/null || true
	nats_pids[$1]=-
}

# --- soak ---------------------------------------------------------------------------
# sample_row T: one CSV row: the tracker's figures now beside the
# generator's INTERVAL line that just ended (its replies/s and latency).
prev_tx='' prev_http='' prev_unix='' prev_wait='' prev_gwait=''
sample_row() {
	local line=$1 unix rss fds threads m
	unix=$(field unix "$line")
	rss=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$tr_pid/status")
	threads=$(awk '$1 == "Threads:" { print $2 }' "/proc/$tr_pid/status")
	fds=$(find "/proc/$tr_pid/fd" -mindepth 1 -maxdepth 1 | wc -l)
	m=$(metrics | awk '
		function v(n) { return (n in s) ? s[n] : 0 }
		!/^#/ { k = $1; sub(/\{.*/, "", k); s[k] += $2
			if ($1 ~ /^dptrack_peers\{family="ipv4"/) p4 = $2
			if ($1 ~ /^dptrack_peers\{family="ipv6"/) p6 = $2
			if ($1 ~ /^dptrack_requests_total\{protocol="http"/) http += $2 }
		END { printf "%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f",
			v("dptrack_memory_used_bytes"), v("dptrack_mbufs_in_use"), v("dptrack_swarms"),
			p4, p6, v("dptrack_seeders"), v("dptrack_leechers"),
			v("dptrack_http_connections_open"), v("dptrack_tx_packets_total"), http,
			v("dptrack_snapshot_saves_total"), v("dptrack_snapshot_last_milliseconds") }')
	local tx http_n saves snap_ms rest tr_rps http_rps wait wait_ms=0 gwait gwait_ms=0 eal heap
	IFS=, read -r _ _ _ _ _ _ _ _ tx http_n saves snap_ms <<<"$m"
	rest=${m%,*,*,*,*} # up to http_connections_open
	# The lcore (dptrack's main thread) waiting for a CPU, runnable: ns.
	wait=$(awk '{ print $2 }' "/proc/$tr_pid/schedstat")
	[ -z "$prev_wait" ] || wait_ms=$(((wait - prev_wait) / 1000000))
	prev_wait=$wait
	# The same for the generator: a stall of its own looks like the
	# tracker's in its figures.
	if gwait=$(awk '{ print $2 }' "/proc/$gen_pid/schedstat" 2>/dev/null) && [ -n "$gwait" ]; then
		[ -z "$prev_gwait" ] || gwait_ms=$(((gwait - prev_gwait) / 1000000))
		prev_gwait=$gwait
	fi
	# Without hugepages, EAL's memory is one shared mapping whose pages
	# count as resident once touched: apart from the rest of the process.
	eal=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { n = $6 } $1 == "Rss:" && n == "/memfd:nohuge" { s += $2 } END { print s + 0 }' "/proc/$tr_pid/smaps")
	# DPDK's heap: bytes allocated, free elements, the largest free one.
	heap=$(echo "/eal/heap_info,0" | timeout 10 dpdk-telemetry.py -f "$tr_prefix" 2>/dev/null | tail -1 |
		awk '{ for (i = 1; i <= NF; i++) { k = $i; gsub(/[",:{}]/, "", k); v = $(i + 1); gsub(/[",}]/, "", v)
			if (k == "Alloc_size") a = v; if (k == "Free_count") f = v; if (k == "Greatest_free_size") g = v } }
			END { printf "%d,%d,%d", a, f, g }')
	tr_rps=0 http_rps=0
	if [ -n "$prev_unix" ]; then
		read -r tr_rps http_rps < <(awk -v t0="$prev_unix" -v t1="$unix" -v a="$prev_tx" \
			-v b="$tx" -v c="$prev_http" -v d="$http_n" \
			'BEGIN { dt = t1 - t0; printf "%.0f %.1f\n", (dt > 0 ? (b - a) / dt : 0), (dt > 0 ? (d - c) / dt : 0) }')
	fi
	prev_unix=$unix prev_tx=$tx prev_http=$http_n
	echo "$(awk -v u="$unix" -v t0="$t0_unix" 'BEGIN { printf "%.1f", u - t0 }'),$unix,$rss,$fds,$threads,$rest,$(field rps "$line"),$(field p50_us "$line"),$(field p99_us "$line"),$(field lost "$line"),$(field errors "$line"),$tr_rps,$http_rps,$saves,$snap_ms,$(field started "$line"),$(field completed "$line"),$(field stopped "$line"),$wait_ms,$gwait_ms,$eal,$heap"
}
csv_head="t_s,unix,rss_kb,fds,threads,table_bytes,mbufs_in_use,swarms,peers4,peers6,seeders,leechers,http_open,rps,p50_us,p99_us,gen_lost,gen_errors,tracker_tx_per_s,http_per_s,snapshots,snapshot_ms,started,completed,stopped,lcore_wait_ms,gen_wait_ms,eal_rss_kb,heap_alloc_bytes,heap_free_elems,heap_largest_free"

plot_soak() {
	command -v gnuplot >/dev/null || { echo "soak: no gnuplot: no chart"; return 0; }
	gnuplot <<EOF || echo "soak: gnuplot failed: no chart"
set datafile separator ","
set terminal pngcairo size 1200,1000 font ",10" noenhanced
set output "$out/soak.png"
set multiplot layout 4,1 title "dptrack soak, $(date -u +%F): $duration s, $rate requests/s offered, $peers peers in $torrents torrents; warm-up shaded"
set key outside right
set grid
set lmargin 12
set rmargin 28
set xrange [0:$duration]
set xlabel "seconds"
set style rect fc rgb "#eeeeee" fs solid noborder
set obj 1 rect from 0, graph 0 to $warmup, graph 1 behind
set ylabel "MiB"
plot "$out/soak.csv" using 1:(\$3/1024) with linespoints title "resident", \
     "" using 1:(\$6/1048576) with linespoints title "table"
set ylabel "count"
set yrange [0:*]
plot "" using 1:7 with linespoints title "mbufs in use", "" using 1:4 with linespoints title "descriptors", \
     "" using 1:13 with linespoints title "HTTP connections"
set ylabel "peers"
set y2label "swarms"
set y2tics
plot "" using 1:(\$9+\$10) with linespoints title "peers", "" using 1:8 axes x1y2 with linespoints title "swarms"
set ylabel "replies/s"
set y2label "p99 us"
plot "" using 1:14 with linespoints title "replies/s", "" using 1:16 axes x1y2 with linespoints title "latency p99 (us)"
unset multiplot
EOF
}

# chaos.png: per cycle, the time from exec to the snapshot loaded and to the
# first reply (damaged files apart), and the ledger's peers checked and lost.
plot_chaos() {
	command -v gnuplot >/dev/null || { echo "soak: no gnuplot: no chart"; return 0; }
	gnuplot <<EOF || echo "soak: gnuplot failed: no chart"
set datafile separator ","
set terminal pngcairo size 1200,700 font ",10" noenhanced
set output "$out/chaos.png"
set multiplot layout 2,1 title "dptrack chaos, $(date -u +%F): $chaos cycles of kill -9 under full load, a snapshot every second$([ $cluster = 0 ] || echo ", 3 NATS nodes")"
set key outside right
set grid
set lmargin 12
set rmargin 36
set xrange [0:$((chaos + 1))]
set xlabel "cycle"
set ylabel "ms from exec"
set yrange [0:*]
plot "$out/chaos.csv" using 1:(strcol(5) eq "-" ? \$13 : 1/0) with points pt 7 title "first reply, file intact", \
     "" using 1:(strcol(5) ne "-" ? \$13 : 1/0) with points pt 5 title "first reply, file damaged", \
     "" using 1:(strcol(5) eq "-" ? \$14 : 1/0) with points pt 1 title "snapshot loaded"
set ylabel "ledger peers"
plot "" using 1:15 with impulses lw 3 title "checked (done before the save)", \
     "" using 1:16 with points pt 7 ps 1.5 title "lost"
unset multiplot
EOF
}

run_soak() {
	local i line n=0 lines=0 rows
	setup_ns plain
	write_config 256 $((torrents * 4 > 100000 ? torrents * 4 : 100000))
	echo "== soak: $duration s, sample every $sample s, warm-up $warmup s; tracker CPU $tcpu," \
		"generator CPU $gcpu; out $out"
	start_tracker "$out/dptrack.log"
	wait_serving "$out/dptrack.log"
	start_load "$out/load.out" "${workload[@]}" --prefill --duration "$duration" --report "$sample"
	wait_line "$out/load.out" '^prefill:' 120 || { cat "$out/load.out"; die "the generator did not fill"; }
	t0_unix=$(date +%s.%N)
	# The first sample's waits count from here.
	prev_wait=$(awk '{ print $2 }' "/proc/$tr_pid/schedstat")
	prev_gwait=$(awk '{ print $2 }' "/proc/$gen_pid/schedstat" 2>/dev/null || true)
	if [ $http = 1 ]; then
		ip netns exec "$tr_ns" "$python" "$helpers/soak_http.py" --port "$http_port" --duration "$duration" \
			--rate "$http_rate" --slow "$http_slow" --idle "$http_idle" >"$out/http.out" 2>&1 &
		http_pid=$!
	fi
	echo "$csv_head" >"$out/soak.csv"
	# One row per INTERVAL line, as each comes; bounded by the run's length.
	local deadline=$((SECONDS + duration + 60))
	while [ $SECONDS -lt $deadline ]; do
		lines=$(grep -ac '^INTERVAL' "$out/load.out" || true)
		if [ "$lines" -gt "$n" ]; then
			line=$(grep -a '^INTERVAL' "$out/load.out" | sed -n "$((n + 1))p")
			[ $n -gt 0 ] || t0_unix=$(awk -v u="$(field unix "$line")" -v s="$(field secs "$line")" 'BEGIN { printf "%.3f", u - s }')
			sample_row "$line" >>"$out/soak.csv"
			n=$((n + 1))
			tail -1 "$out/soak.csv" | awk -F, '{ printf "    t %6.0f s  rss %7.1f MiB  table %6.2f MiB  mbufs %5d  peers %7d  swarms %6d  %8d replies/s  p99 %8.1f us  waited: lcore %5d ms, generator %5d ms\n", $1, $3 / 1024, $6 / 1048576, $7, $9 + $10, $8, $14, $16, $26, $27 }'
			continue
		fi
		kill -0 "$gen_pid" 2>/dev/null || break
		sleep 0.2
	done
	local st=0
	wait "$gen_pid" || st=$?
	if [ $st != 0 ]; then
		fail "dpt-load exited with status $st"
		link_report
	fi
	gen_pid=
	grep -aE '^(measured|  |RESULT|dpt-load: the)' "$out/load.out" | sed 's/^/    /' || true
	if [ $http = 1 ]; then
		wait "$http_pid" || fail "the HTTP clients failed (status $?)"
		http_pid=
		sed 's/^/    /' "$out/http.out"
	fi
	stop_tracker
	[ "$tr_status" = 0 ] || fail "dptrack exited with status $tr_status on SIGTERM"
	grep -a '^counter ' "$out/dptrack.log" >"$out/counters.txt" || true
	rows=$(($(wc -l <"$out/soak.csv") - 1))
	[ "$rows" -gt 0 ] || fail "no sample taken"
	plot_soak
	[ $http = 1 ] || checks+=(--no-http)
	"$python" "$helpers/soak_check.py" "$out/soak.csv" "$out/counters.txt" --warmup "$warmup" \
		${checks[@]+"${checks[@]}"} | tee "$out/verdict.txt" ||
		fail "soak checks"
}

# --- chaos --------------------------------------------------------------------------
# The side client in the client namespace: "${side[@]}" JOB ARGS...
# "${side_to[@]}" (an array, not a function, so that in the background $!
# is its own PID).
side=(ip netns exec "$cl_ns" "$python" "$helpers/soak_chaos.py")
side_to=(--v4 "$tr4" --v6 "$tr6" --src4 "$src4" --src6 "$src6" --port "$udp_port")
# snap_header OFFSET: the u64 at OFFSET of the snapshot's header (16: the
# second it was taken; 32, 40: its IPv4 and IPv6 peers).
snap_header() { od -An -tu8 -j"$1" -N8 "$snap" 2>/dev/null | tr -d ' '; }
# damage KIND: flip a byte in the middle of the snapshot, or cut it in half.
damage() {
	local size off b
	size=$(stat -c %s "$snap")
	if [ "$1" = flip ]; then
		off=$((size / 2))
		b=$(od -An -tu1 -j"$off" -N1 "$snap" | tr -d ' ')
		# shellcheck disable=SC2059 # the octal escape is the format
		printf "\\$(printf %03o $((255 - b)))" | dd of="$snap" bs=1 seek="$off" conv=notrunc status=none
	else
		truncate -s $((size / 2)) "$snap"
	fi
	damaged_size=$(stat -c %s "$snap")
}
# restart LOG PATTERN: starts dptrack with the side client probing; sets
# serve_ms (exec to the first BEP 15 reply), load_ms (exec to PATTERN's
# first line in LOG) and t_watch (the unix time of that line).
restart() {
	local log=$1 l
	rm -f "$tmp/probe.out"
	"${side[@]}" probe --timeout 60 --watch "$log" --pattern "$2" "${side_to[@]}" >"$tmp/probe.out" 2>&1 &
	side_pid=$!
	wait_line "$tmp/probe.out" '^ready' 10 || die "the probe did not start"
	start_tracker "$log"
	wait "$side_pid" || true
	side_pid=
	l=$(grep '^SERVING' "$tmp/probe.out" || true)
	read -r serve_ms load_ms t_watch < <(awk -v t="$t_exec" -v l="$l" 'BEGIN {
		n = split(l, w, /[ =]/); s = "-"; x = "-"; u = t + 60
		for (i = 1; i < n; i++) { if (w[i] == "unix") s = sprintf("%.0f", (w[i + 1] - t) * 1000)
			if (w[i] == "watched") { x = sprintf("%.0f", (w[i + 1] - t) * 1000); u = w[i + 1] } }
		print s, x, u }')
}
# wait_caught_up LOG: with the cluster, until its consumer is set up and
# has replayed what the stream held past the snapshot (cluster_catching_up
# 0: it is 0 at once when there is nothing to replay); 60 s at most.
wait_caught_up() {
	local i
	[ $cluster = 1 ] || return 0
	for ((i = 0; i < 600; i++)); do
		grep -aq "cluster: consuming" "$1" && [ "$(metric cluster_catching_up)" = 0 ] && return 0
		sleep 0.1
	done
	fail "cycle $c: the cluster did not catch up within 60 s"
}

# With the cluster: "published own_back" batches, to see that the stream
# keeps taking this instance's batches and giving them back (its consumer
# is alive) while the load runs; cl_check BEFORE AFTER sets cl_pub and
# cl_own to the differences and fails a cycle where batches went out and
# none came back.
cl_figures() {
	[ $cluster = 1 ] || return 0
	echo "$(metric cluster_batches_published_total) $(metric cluster_own_batches_total)"
}
cl_check() {
	cl_pub=- cl_own=-
	[ $cluster = 1 ] || return 0
	read -r p0 o0 <<<"$1"
	read -r p1 o1 <<<"$2"
	cl_pub=$((p1 - p0)) cl_own=$((o1 - o0))
	[ "$cl_pub" = 0 ] || [ "$cl_own" -gt 0 ] ||
		fail "cycle $c: $cl_pub batches published under load, none came back from the stream (the consumer is dead)"
}

# counters_ok FILE: the tracker's figures now (telemetry, which needs no
# HTTP) into FILE, and none of its error, drop or failure counters moved
# (test/soak/soak_check.py's rules). Allowed: what the client namespace's
# kernel sends the side port (MLD reports; ICMP port unreachable for a
# reply that came after its socket closed, the side client having been
# stopped); with the cluster, what a killed NATS node makes of the
# publisher's batches while its streams elect new leaders (acknowledgements
# that fail, records given up after their retries, and records the lcores
# could not queue while the publisher waited), counted per cycle in
# chaos.csv.
chaos_allow=(--allow drop_ip6_not_ours --allow drop_icmp_type)
counters_ok() {
	echo /dptrack/stats | timeout 10 dpdk-telemetry.py -f "$tr_prefix" >"$1" 2>&1 || true
	"$python" "$helpers/soak_check.py" --counters-only - "$1" "${chaos_allow[@]}" >"$1.check" &&
		return 0
	sed 's/^/    /' "$1.check"
	return 1
}

# cl_dropped FILE: the records the cluster dropped (every reason but
# stale), from a counters_ok FILE; "-" without the cluster.
cl_dropped() {
	[ $cluster = 1 ] || { echo -; return 0; }
	"$python" -c 'import json, sys
d = json.load(open(sys.argv[1]))["/dptrack/stats"]
print(sum(v for k, v in d.items() if k.startswith("cluster_drop_") and k != "cluster_drop_stale"))' "$1" 2>/dev/null || echo -
}

# check_loaded CYCLE: the restart loaded every peer of the snapshot it was
# due to: those fresh at the second it loaded (between exec and the log
# line; peers the sweep had not yet reached are saved but expired).
check_loaded() {
	local f lo hi
	f=$("$python" "$helpers/soak_chaos.py" fresh --snap "$tmp/snap.copy" --lo "$t_exec" \
		--hi "$(awk -v t="$t_watch" 'BEGIN { printf "%d", t + 1 }')" --peer-timeout "$peer_timeout")
	lo=$(field hi "$f") hi=$(field lo "$f")
	expired=$(($(field total "$f") - hi))
	[ -n "$loaded" ] && [ "$loaded" -ge "$lo" ] && [ "$loaded" -le "$hi" ] ||
		fail "cycle $1: the snapshot held $saved peers, $lo..$hi of them fresh at the load; ${loaded:-none} were loaded"
}

run_chaos() {
	local c aimed dmg nats_k line v created saved loaded kill_line mid
	local mids=0 dmgs=0 checked=0 lost=0 cid_ok=0 cid_n=0 aft=0 aft_p=0 serves=()
	setup_ns side
	write_config 512 $((torrents * 4))
	if [ $cluster = 1 ]; then
		start_cluster
		chaos_allow+=(--allow cluster_acks_failed --allow cluster_async_errors
			--allow cluster_drop_gave_up --allow cluster_drop_buffer_full
			--allow cluster_drop_ring_full)
	fi
	echo "== chaos: $chaos cycles of kill -9 under full load (snapshot every $snap_interval s)," \
		"tracker CPU $tcpu, generator CPU $gcpu$([ $cluster = 0 ] || echo ", 3 NATS nodes"); out $out"
	echo "cycle,kill_delay_s,aimed,mid_save,damaged,nats_killed,cl_published,cl_own_back,cl_dropped,saved_peers,expired_saved,loaded_peers,serve_ms,load_ms,checked,lost,after,after_present,after_missing_oldest_s,cid" >"$out/chaos.csv"
	start_tracker "$out/dptrack.0.log"
	wait_serving "$out/dptrack.0.log"
	for ((c = 1; c <= chaos; c++)); do
		aimed=$((c % 2 == 0)) dmg=-
		[ $((c % damage_every)) != 0 ] || { dmgs=$((dmgs + 1)); dmg=$([ $((dmgs % 2)) = 1 ] && echo flip || echo truncate); }
		nats_k=-
		[ $cluster = 0 ] || [ $((c % 2)) != 1 ] || nats_k=$((RANDOM % 3))
		# Full load, then the ledger beside it.
		start_load "$out/load.$c.out" "${workload[@]}" --prefill --duration 300 --timeout-ms 500
		wait_line "$out/load.$c.out" '^prefill:' 60 || { cat "$out/load.$c.out"; die "cycle $c: the generator did not fill"; }
		rm -f "$tmp/ledger.$c"
		"${side[@]}" announce --ledger "$tmp/ledger.$c" --run "$$" --cycle "$c" "${side_to[@]}" \
			>"$out/ledger.$c.out" 2>&1 &
		side_pid=$!
		v=$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 1.5 + 2.5 * r / 32767 }')
		cl0=$(cl_figures)
		if [ "$nats_k" != - ]; then
			sleep "$(awk -v v="$v" 'BEGIN { print v / 2 }')"
			kill_nats "$nats_k"
			sleep "$(awk -v v="$v" 'BEGIN { print v / 2 }')"
		else
			sleep "$v"
		fi
		cl_check "$cl0" "$(cl_figures)"
		counters_ok "$out/counters.$c.json" || fail "cycle $c: an error counter moved under load"
		if [ "$aimed" = 1 ]; then
			# Into the next save, up to 80% of the last one's length in.
			ms=$(metric snapshot_last_milliseconds)
			kill_line=$("$python" "$helpers/soak_chaos.py" killsave --pid "$tr_pid" --tmp "$snap.tmp" \
				--timeout 5 --max-delay-ms "$(awk -v m="$ms" 'BEGIN { print m * 0.8 }')")
		else
			kill -KILL "$tr_pid"
			kill_line="KILL unix=$(date +%s.%N) tmp_seen=-"
		fi
		wait "$tr_pid" 2>/dev/null || true
		tr_pid=
		mid=0
		[ ! -e "$snap.tmp" ] || { mid=1; mids=$((mids + 1)); rm -f "$snap.tmp"; }
		stop_pid "$side_pid"
		side_pid=
		stop_pid "$gen_pid"
		gen_pid=
		line=$(grep -a '^RESULT' "$out/load.$c.out" || true)
		[ -z "$line" ] || [ "$(field errors "$line")" = 0 ] || fail "cycle $c: $(field errors "$line") error replies under load"
		created=$(snap_header 16)
		saved=$(($(snap_header 32) + $(snap_header 40)))
		cp "$snap" "$tmp/snap.copy"
		expired=-
		[ "$dmg" = - ] || damage "$dmg"
		restart "$out/dptrack.$c.log" "snapshot"
		serves+=("$serve_ms")
		wait_line "$out/dptrack.$c.log" "serving on" 30 || fail "cycle $c: dptrack did not serve"
		loaded=$(sed -n 's/.*, \([0-9]*\) of \([0-9]*\) peers still fresh.*/\1/p' "$out/dptrack.$c.log")
		wait_caught_up "$out/dptrack.$c.log"
		if [ "$dmg" != - ]; then
			grep -q "snapshot refused" "$out/dptrack.$c.log" || fail "cycle $c: the damaged snapshot was not refused"
			[ "$(stat -c %s "$snap.corrupt"* 2>/dev/null | sort -n | grep -c "^$damaged_size\$")" -ge 1 ] ||
				fail "cycle $c: the damaged snapshot ($damaged_size bytes) is not set aside as $snap.corrupt"
			[ "$serve_ms" != - ] || fail "cycle $c: the tracker did not serve after a damaged snapshot"
			loaded=0
		else
			check_loaded "$c"
		fi
		# The ledger: with the cluster, a damaged file is made up for by the
		# stream (every batch done 2 s before the kill), unless the stream
		# dropped records (a NATS node killed: then it is only counted);
		# without the cluster, nothing may be back.
		local vargs=(--created "$created" --kill "$(field unix "$kill_line")")
		cl_drops=$(cl_dropped "$out/counters.$c.json")
		if [ "$dmg" != - ]; then
			if [ $cluster = 1 ] && [ "$cl_drops" = 0 ]; then
				vargs=(--created "$(awk -v k="$(field unix "$kill_line")" 'BEGIN { printf "%.3f", k - 2 }')" --kill "$(field unix "$kill_line")")
			elif [ $cluster = 1 ]; then
				vargs=(--created 0 --kill "$(field unix "$kill_line")")
			else
				vargs=(--expect-empty)
			fi
		fi
		"${side[@]}" verify --ledger "$tmp/ledger.$c" "${vargs[@]}" "${side_to[@]}" >"$out/verify.$c.out" 2>&1 ||
			fail "cycle $c: the ledger check failed (see below)"
		line=$(grep '^LEDGER' "$out/verify.$c.out" || echo "LEDGER")
		grep '^not ok' "$out/verify.$c.out" | sed "s/^/    cycle $c: /" || true
		checked=$((checked + $(field checked "$line"))) lost=$((lost + $(field lost "$line")))
		aft=$((aft + $(field after "$line"))) aft_p=$((aft_p + $(field after_present "$line")))
		case $(field cid "$line") in
		accepted) cid_ok=$((cid_ok + 1)) cid_n=$((cid_n + 1)) ;;
		refused) cid_n=$((cid_n + 1)) ;;
		esac
		[ "$nats_k" = - ] || start_nats "$nats_k"
		echo "$c,$v,$aimed,$mid,$dmg,$nats_k,$cl_pub,$cl_own,$cl_drops,$saved,$expired,${loaded:--},$serve_ms,$load_ms,$(field checked "$line"),$(field lost "$line"),$(field after "$line"),$(field after_present "$line"),$(field after_missing_oldest_s "$line"),$(field cid "$line")" >>"$out/chaos.csv"
		printf "    cycle %3d: kill after %5s s%s%s%s%s%s; %7s peers saved, %7s loaded; serving in %5s ms; ledger %5s checked, %s lost, %s/%s after the save back; cid %s\n" \
			"$c" "$v" "$([ "$aimed" = 1 ] && echo ", aimed at a save" || true)" \
			"$([ $mid = 1 ] && echo " (mid-save)" || true)" \
			"$([ "$dmg" = - ] || echo ", snapshot damaged ($dmg)")" \
			"$([ "$nats_k" = - ] || echo ", NATS node $nats_k killed")" \
			"$([ "$cl_drops" = - ] || [ "$cl_drops" = 0 ] || echo " ($cl_drops records dropped by the cluster)")" \
			"$saved" "${loaded:--}" \
			"$serve_ms" "$(field checked "$line")" "$(field lost "$line")" "$(field after_present "$line")" \
			"$(field after "$line")" "$(field cid "$line")"
	done
	# The last restart serves under load, then stops cleanly.
	start_load "$out/load.end.out" "${workload[@]}" --prefill --duration 3
	wait "$gen_pid" || { fail "the load after the last restart failed (status $?)"; link_report; }
	gen_pid=
	line=$(grep -a '^RESULT' "$out/load.end.out" || true)
	[ -n "$line" ] && [ "$(field errors "$line")" = 0 ] && [ "$(field lost "$line")" = 0 ] ||
		fail "the load after the last restart: ${line:-no result}"
	stop_tracker
	[ "$tr_status" = 0 ] || fail "dptrack exited with status $tr_status on SIGTERM"
	grep -a '^counter ' "$out/dptrack.$chaos.log" >"$out/counters.txt" || true
	"$python" "$helpers/soak_check.py" --counters-only - "$out/counters.txt" "${chaos_allow[@]}" ||
		fail "at the last stop, an error counter moved or an mbuf leaked"
	[ "$lost" = 0 ] || fail "$lost peers announced before the last save were lost"
	[ "$cid_ok" = "$cid_n" ] || fail "a connection ID from before the kill was refused in $((cid_n - cid_ok)) of $cid_n cycles"
	local st
	st=$(printf '%s\n' "${serves[@]}" | grep -v -- - | sort -n | awk '{ v[NR] = $1 } END {
		if (!NR) { print "- - -"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		p = int(0.99 * NR + 0.999999); if (p < 1) p = 1
		printf "%.0f %.0f %.0f\n", m, v[p], v[NR] }')
	read -r smed sp99 smax <<<"$st"
	echo "CHAOS cycles=$chaos mid_save=$mids damaged=$dmgs peers_checked=$checked lost=$lost" \
		"after_save_back=$aft_p/$aft cid_accepted=$cid_ok/$cid_n serve_ms_median=$smed" \
		"serve_ms_p99=$sp99 serve_ms_max=$smax cluster=$cluster" | tee "$out/verdict.txt"
	plot_chaos
}

# --- restart scale ----------------------------------------------------------------------
run_scale() {
	local mb line saved_ms saved_bytes saved loaded rps
	# About 15 table bytes a peer and 113 a torrent (docs/BENCHMARKS.md),
	# twice over for room; EAL gets the pools on top.
	mb=$(((peers * 32 + torrents * 512) / 1048576 + 128))
	setup_ns side
	write_config "$mb" $((torrents * 2 > 10000 ? torrents * 2 : 10000))
	echo "== restart scale: $peers peers in $torrents torrents, table budget $mb MiB; out $out"
	start_tracker "$out/dptrack.0.log"
	wait_serving "$out/dptrack.0.log"
	start_load "$out/fill.out" --torrents "$torrents" --peers "$peers" --window 1024 --prefill \
		--mix announce=1 --count 1 --seed 7
	wait "$gen_pid" || fail "the fill failed (status $?)"
	gen_pid=
	line=$(grep -a '^prefill:' "$out/fill.out" || true)
	echo "    fill: ${line:-none}; table $(metric peers) peers, $(metric memory_used_bytes) bytes"
	kill -USR1 "$tr_pid"
	wait_line "$out/dptrack.0.log" "snapshot (SIGUSR1) saved" 120 || die "no save within 120 s"
	line=$(grep "snapshot (SIGUSR1) saved" "$out/dptrack.0.log")
	saved_ms=$(sed -n 's/.* in \([0-9]*\) ms$/\1/p' <<<"$line")
	saved_bytes=$(sed -n 's/.* peers, \([0-9]*\) bytes in .*/\1/p' <<<"$line")
	saved=$(($(snap_header 32) + $(snap_header 40)))
	echo "    save: $saved peers, $saved_bytes bytes in $saved_ms ms"
	# Under full load (no fill: the peers are there), kill -9.
	start_load "$out/load.1.out" --torrents "$torrents" --peers "$peers" --window 256 \
		--mix connect=5,announce=90,scrape=5 --duration 60 --seed 7 --timeout-ms 500
	wait_line "$out/load.1.out" '^connect:' 60 || die "the load did not start"
	sleep 3
	kill -KILL "$tr_pid"
	wait "$tr_pid" 2>/dev/null || true
	tr_pid=
	stop_pid "$gen_pid"
	gen_pid=
	restart "$out/dptrack.1.log" "peers still fresh"
	wait_line "$out/dptrack.1.log" "serving on" 60 || fail "dptrack did not serve after the kill"
	loaded=$(sed -n 's/.*, \([0-9]*\) of \([0-9]*\) peers still fresh.*/\1/p' "$out/dptrack.1.log")
	[ "${loaded:-x}" = "$saved" ] || fail "the snapshot held $saved peers, $loaded were loaded"
	start_load "$out/load.2.out" --torrents "$torrents" --peers "$peers" --window 256 \
		--mix connect=5,announce=90,scrape=5 --duration 5 --seed 7
	wait "$gen_pid" || fail "the load after the restart failed (status $?)"
	gen_pid=
	line=$(grep -a '^RESULT' "$out/load.2.out" || true)
	rps=$(field rps_total "$line")
	[ -n "$line" ] && [ "$(field errors "$line")" = 0 ] && [ "$(field lost "$line")" = 0 ] ||
		fail "the load after the restart: ${line:-no result}"
	stop_tracker
	[ "$tr_status" = 0 ] || fail "dptrack exited with status $tr_status on SIGTERM"
	echo "SCALE peers=$peers torrents=$torrents save_ms=$saved_ms save_bytes=$saved_bytes" \
		"loaded=${loaded:--} load_ms=$load_ms serve_ms=$serve_ms rps_after=${rps:--}" | tee "$out/verdict.txt"
}

case $mode in
soak) run_soak ;;
chaos) run_chaos ;;
scale) run_scale ;;
esac
echo "soak: results in $out"
[ $failed = 0 ] && echo "soak: PASSED" || echo "soak: FAILED"
exit $failed
