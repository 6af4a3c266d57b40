#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# scripts/bench.sh - dptrack beside opentracker on one workload and one core
# budget; prints both and their ratio (the method and the latest figures:
# docs/BENCHMARKS.md).
#
#   UDP    dptrack on net_memif (server) <- dpt-load on net_memif (client),
#          one lcore each; opentracker (Debian's package) <- dpt-load over
#          kernel sockets on loopback. Same workload (IPv4: Debian's
#          opentracker is IPv4-only), same seed, tracker on CPU A and the
#          generator on CPU B: 1M torrents, 10M peers (Zipf 1.0), announces
#          with numwant 50 and some connects and scrapes; then connects
#          only. dptrack's lcore load (busy cycles over loop cycles) is
#          printed for each: below 100%, the generator bounds the figure.
#   HTTP   wrk with test/bench/announce.lua (keep-alive), random torrents of
#          the same population, against dptrack's and opentracker's HTTP.
#   memory dptrack's peer-table bytes (telemetry memory_used_bytes) and
#          opentracker's resident memory growth, per torrent and per peer,
#          from two prefills of one population: one peer per torrent, then
#          all peers (--mem-torrents, --mem-peers; Zipf 1.0).
#   large  dptrack only: bytes per peer in large swarms, IPv4 then IPv6, the
#          same two prefills of --large-torrents and --large-peers on a
#          Zipf 0.5 curve (1,000 torrents, 10M peers: swarms of ~5k to ~160k).
#   shared dptrack only: one veth into a namespace, replies/s and busy cycles
#          per reply of the same dptrack, on the UDP workload's mix, on
#          net_af_xdp with its XDP program (a shared port: the kernel keeps
#          the veth and its address) and on net_af_packet (dptrack's alone),
#          dpt-load over kernel sockets in the client namespace; a smaller
#          table (--shared-torrents, --shared-peers): this is the path's
#          cost, not the table's. On a veth the kernel does both ends' work,
#          so these describe the veth more than a NIC.
#   cluster dptrack only: the UDP workload again with the cluster on (one
#          nats-server with JetStream on loopback, replicas 1), beside the
#          run with it off: replies/s and cycles per reply, and their ratio;
#          the prefill's records (every peer new) published by the loaded
#          instance's sync thread and applied by a second instance (no
#          traffic of its own), per second, and the replication lag to it.
#
# Many cores (--workers N): dptrack with N worker lcores, each with its own
# RX/TX queue pair on the memif port, and its main lcore on control work;
# dpt-load with N queue pairs on the same memif, one lcore each, queue q
# carrying the clients c with c % N == q (memif has no RSS: the queue a
# client's frames leave on is the worker that answers it, as RSS would keep
# a client on one worker). Each UDP run prints each worker's replies/s,
# load and busy cycles per reply (telemetry, per lcore), and how often a
# thread found a swarm's lock taken (swarm_lock_contended), per million
# replies. CPUs: see --cpus; opentracker, wrk and nats-server keep one CPU.
#
# Usage: sudo scripts/bench.sh [--tiny] [--check] [--build-dir DIR] [--no-build]
#            [--skip udp,http,memory,large,shared,cluster,opentracker,sweep,swarms]
#            [--cpus T,G]
#            [--workers N] [--duration S] [--torrents N] [--peers N] [--window N]
#            [--mem-torrents N] [--mem-peers N] [--large-torrents N]
#            [--large-peers N] [--shared-torrents N] [--shared-peers N]
#            [--v6 PCT] [--profile] [--charts DIR] [--sweep]
#            [--windows LIST] [--sweep-duration S] [--sweep-runs N] [--swarm-sizes LIST]
#            [--swarm-peers N]
#   --cpus    the tracker's CPUs T and the generator's G, each a CPU or a
#             range X-Y (default: 0,1 for one worker; 0-N,N+1-2N for N where
#             there are 2N+1 CPUs)
#   --workers N worker lcores for dptrack and as many generator queues (1)
#   --charts DIR  where the charts (PNG, by gnuplot) and their data files
#             (.dat) go: bench-out/ by default, the run's temporary
#             directory with --tiny
#   --sweep   run the sweeps even with --tiny (they are skipped there):
#             "sweep", each tracker's UDP workload for --sweep-duration S
#             (3) at each of --windows LIST (1,4,16,64,256,1024) requests in
#             flight, --sweep-runs N (3) times, the median kept; "swarms", table bytes per peer by swarm size, a
#             prefill of --swarm-peers N (200000) peers in swarms of each of
#             --swarm-sizes LIST (1,2,5,...,100000), dptrack IPv4 and IPv6
#             and opentracker IPv4; --skip sweep,swarms leaves them out
#   --tiny    a workload that runs in well under a minute (what CI runs)
#   --check   exit 1 unless every run got replies, lost none and had no errors
#   --ci      --tiny --check --no-build, and exit 77 (skip) unless root: the
#             meson test (suite bench) runs this
#   --profile during dptrack's UDP runs (and the cluster-on run), sample its CPUs with perf (cpu-clock:
#             the guest has no hardware counters) and print each one's top
#             symbols; a perf failure is reported, never a failed run
# Prints a summary, then one line: BENCH key=value ...
# Needs root (memif, /var/run/dpdk); installs opentracker, wrk, perf and
# gnuplot if missing.
# shellcheck disable=SC2317 # functions run from traps
set -euo pipefail
DPTRACK_SCRIPT=$(realpath "$0")
cd "$(dirname "$DPTRACK_SCRIPT")/.."
. scripts/lib.sh
if [[ " $* " == *" --ci "* ]] && [ "$(id -u)" != 0 ]; then
	echo "skipped: the benchmark needs root (memif, /var/run/dpdk)"
	exit 77
fi
need_root "$@"

build=build
do_build=1
tiny=0
check=0
skip=
cpus=
duration=10
torrents=1000000
peers=10000000
window=256
mem_torrents=1000000
mem_peers=10000000
large_torrents=1000
large_peers=10000000
shared_torrents=5000
shared_peers=50000 # one client address: at most 64,511 peers (a port each)
v6=0
profile=0
workers=1
charts=
sweep=0
windows=1,4,16,64,256,1024
sweep_duration=3
sweep_runs=3
swarm_sizes=1,2,5,10,20,50,100,200,500,1000,2000,5000,10000,20000,50000,100000
swarm_peers=200000
while [ $# -gt 0 ]; do
	case $1 in
	--tiny) tiny=1 ;;
	--ci) tiny=1 check=1 do_build=0 ;;
	--check) check=1 ;;
	--no-build) do_build=0 ;;
	--build-dir) build=$2; shift ;;
	--skip) skip=$2; shift ;;
	--cpus) cpus=$2; shift ;;
	--duration) duration=$2; shift ;;
	--torrents) torrents=$2; shift ;;
	--peers) peers=$2; shift ;;
	--window) window=$2; shift ;;
	--mem-torrents) mem_torrents=$2; shift ;;
	--mem-peers) mem_peers=$2; shift ;;
	--large-torrents) large_torrents=$2; shift ;;
	--large-peers) large_peers=$2; shift ;;
	--shared-torrents) shared_torrents=$2; shift ;;
	--shared-peers) shared_peers=$2; shift ;;
	--profile) profile=1 ;;
	--workers) workers=$2; shift ;;
	--charts) charts=$2; shift ;;
	--sweep) sweep=1 ;;
	--windows) windows=$2; shift ;;
	--sweep-duration) sweep_duration=$2; shift ;;
	--sweep-runs) sweep_runs=$2; shift ;;
	--swarm-sizes) swarm_sizes=$2; shift ;;
	--swarm-peers) swarm_peers=$2; shift ;;
	--v6) v6=$2; shift ;;
	*) die "bench.sh: unknown argument $1 (see the comment at the top)" ;;
	esac
	shift
done
if [ $tiny = 1 ]; then
	duration=1
	torrents=100
	peers=2000
	window=32
	mem_torrents=1000
	mem_peers=10000
	large_torrents=20
	large_peers=20000
	shared_torrents=100
	shared_peers=2000
	sweep_duration=1
	sweep_runs=1
	windows=1,32
	swarm_sizes=1,10,100,1000
	swarm_peers=20000
	# The sweeps are long: only when asked for.
	[ $sweep = 1 ] || skip="$skip,sweep,swarms"
fi
for v in ${windows//,/ } ${swarm_sizes//,/ } $swarm_peers $sweep_runs; do
	[[ $v =~ ^[1-9][0-9]*$ ]] || die "bench.sh: --windows, --swarm-sizes, --swarm-peers and --sweep-runs take numbers: $v"
done
skipped() { [[ ",$skip," == *",$1,"* ]]; }

[[ $workers =~ ^[1-9][0-9]?$ ]] || die "bench.sh: --workers takes 1..99"

# CPUs: the tracker on list T, the generator (dpt-load, wrk) on list G
# (--cpus T,G, each a CPU or a range X-Y). One worker: the tracker's one
# lcore on T's first CPU, dpt-load's on G's. N workers: dptrack's main
# lcore (control work, asleep between 1 ms ticks) on T's first CPU, worker
# k on T's k-th CPU after it when T has more than N (else T's k-th from
# its first, beside the main lcore), dpt-load's N lcores, one per queue,
# on G's; lists shorter than N wrap. By default T and G are the first
# 2N+1 CPUs (2N: the main lcore beside worker 1); on fewer the lcores
# share CPUs, which only shows that N queues work.
ncpu=$(nproc)
if [ -z "$cpus" ]; then
	if [ "$workers" -gt 1 ] && [ "$ncpu" -ge $((2 * workers + 1)) ]; then
		cpus="0-$workers,$((workers + 1))-$((2 * workers))"
	elif [ "$ncpu" -ge $((2 * workers)) ]; then
		cpus="0-$((workers - 1)),$workers-$((2 * workers - 1))"
	else
		k=$((workers < ncpu ? workers : ncpu))
		cpus="0-$((k - 1)),$((ncpu - k))-$((ncpu - 1))"
	fi
fi
# cpu_list SPEC: the CPUs of "X" or "X-Y", one a line.
cpu_list() {
	[[ $1 =~ ^([0-9]+)(-([0-9]+))?$ ]] || die "bench.sh: --cpus wants T,G, each N or N-M: $cpus"
	seq "${BASH_REMATCH[1]}" "${BASH_REMATCH[3]:-${BASH_REMATCH[1]}}"
}
[[ $cpus == *,* ]] || die "bench.sh: --cpus wants T,G, each N or N-M: $cpus"
mapfile -t tr_cpus < <(cpu_list "${cpus%,*}")
mapfile -t gen_cpus < <(cpu_list "${cpus#*,}")
if [ ${#tr_cpus[@]} = 0 ] || [ ${#gen_cpus[@]} = 0 ]; then
	die "bench.sh: --cpus: an empty range in $cpus"
fi
tcpu=${tr_cpus[0]} # the tracker's (main) lcore; opentracker's; dptrack's HTTP threads (pin_http)
gcpu=${gen_cpus[0]} # the generator's first lcore; wrk's, nats-server's
# worker_cpus[k-1]: worker k's CPU; gen_q_cpus[q]: generator queue q's.
worker_cpus=() gen_q_cpus=()
for ((k = 1; k <= workers; k++)); do
	if [ "$workers" = 1 ]; then
		worker_cpus+=("$tcpu")
	elif [ ${#tr_cpus[@]} -gt "$workers" ]; then
		worker_cpus+=("${tr_cpus[k]}")
	else
		worker_cpus+=("${tr_cpus[(k - 1) % ${#tr_cpus[@]}]}")
	fi
	gen_q_cpus+=("${gen_cpus[(k - 1) % ${#gen_cpus[@]}]}")
done
# EAL's lcores: dptrack's (-l, or --lcores with the main lcore 0 apart) and
# dpt-load's (lcore q drives queue q).
if [ "$workers" = 1 ]; then
	tr_lcores="\"-l\", \"$tcpu\""
	gen_lcores=(-l "$gcpu")
else
	map="0@$tcpu" gmap=""
	for ((k = 1; k <= workers; k++)); do
		map+=",$k@${worker_cpus[k - 1]}"
		gmap+="${gmap:+,}$((k - 1))@${gen_q_cpus[k - 1]}"
	done
	tr_lcores="\"--lcores\", \"$map\""
	gen_lcores=(--lcores "$gmap")
fi
# Polling lcores that share a CPU (or, with one worker, tracker and generator).
shared_cpus=$(printf '%s\n' "${worker_cpus[@]}" "${gen_q_cpus[@]}" | sort -n | uniq -d | paste -sd, -)
if [ "$workers" = 1 ]; then
	[ -z "$shared_cpus" ] || echo "bench: tracker and generator share CPU $tcpu: figures mean little"
else
	echo "bench: $workers workers: dptrack's main lcore on CPU $tcpu, its workers on CPUs" \
		"$(IFS=,; echo "${worker_cpus[*]}"), dpt-load's $workers queues on CPUs $(IFS=,; echo "${gen_q_cpus[*]}")"
	[ -z "$shared_cpus" ] || echo "bench: CPUs $shared_cpus run more than one polling lcore: they" \
		"share them by the kernel's time slices (an lcore idle for 1 ms sleeps, dpdk.idle_sleep_us)," \
		"so these figures show that $workers queues work, not how they scale"
fi

# Charts: the CI's go to the run's temporary directory, others to bench-out/.
if [ -z "$charts" ] && [ $tiny = 0 ]; then
	charts=bench-out
fi

install_deps
if [ $do_build = 1 ]; then
	build_dir "$build" -Dbuildtype=release
fi
dptrack=$(realpath "$build/dpdk/dptrack")
load=$(realpath "$build/test/bench/dpt-load")
lua=$(realpath test/bench/announce.lua)
{ [ -x "$dptrack" ] && [ -x "$load" ]; } || die "no $build/dpdk/dptrack or $build/test/bench/dpt-load"

# --- processes, cleanup ------------------------------------------------------
tmp=$(mktemp -d)
[ -n "$charts" ] || charts=$tmp/charts
mkdir -p "$charts" || die "bench.sh: cannot make $charts"
chmod 755 "$tmp" # opentracker drops to nobody inside it
tr_prefix=dpt-bench-tr-$$
gen_prefix=dpt-bench-gen-$$
memif=/dpt-bench-$$ # an abstract socket name: nothing left on disk
udp_port=6969
http_port=$((20000 + $$ % 20000))
tr_pid='' tr_is_dpt=0
prof_pid=
sampler_pid=
sh_tr=dpt-bench-tr-$$ # the shared section's namespaces
sh_cl=dpt-bench-cl-$$

# Stops the tracker by its PID: SIGTERM, SIGKILL after 10 s.
stop_tracker() {
	local i st=0
	[ -n "$tr_pid" ] || return 0
	kill -TERM "$tr_pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$tr_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$tr_pid" 2>/dev/null || true
	wait "$tr_pid" 2>/dev/null || st=$?
	# dptrack exits 0 on SIGTERM; anything else (a crash during the runs,
	# no stop within 10 s) fails the bench. opentracker dies of the signal.
	[ "$tr_is_dpt" = 0 ] || [ "$st" = 0 ] || fail "dptrack exited with status $st$(
		[ "$st" -gt 128 ] && echo " (signal $((st - 128)))"); its log: $tmp/dptrack.out"
	[ "$tr_is_dpt" = 0 ] || [ "$st" = 0 ] || sed 's/^/    /' "$tmp/dptrack.out" | tail -n 20
	tr_pid=
}
# opentracker's UDP socket takes the kernel's default receive buffer (208 KiB
# here), too small for a window of requests in flight on loopback: it would
# drop them. net.core.rmem_default is not per network namespace, so it is
# raised host-wide while opentracker runs and put back at exit.
rmem_saved=
raise_rmem() {
	local cur
	cur=$(sysctl -n net.core.rmem_default)
	[ "$cur" -ge 4194304 ] && return 0
	rmem_saved=$cur
	sysctl -qw net.core.rmem_default=4194304 && echo "bench: net.core.rmem_default $cur -> 4194304 while opentracker runs"
}
restore_rmem() {
	[ -z "$rmem_saved" ] || sysctl -qw "net.core.rmem_default=$rmem_saved"
	rmem_saved=
}
# The cluster's nats-server and second instance (its section starts them);
# defined here, as cleanup() may run before the script gets there.
nats_pid='' trb_pid=''
stop_cluster() {
	local p
	for p in $trb_pid $nats_pid; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	trb_pid='' nats_pid=''
}
cleanup() {
	[ -z "$prof_pid" ] || kill -TERM "$prof_pid" 2>/dev/null || true
	[ -z "$sampler_pid" ] || kill -TERM "$sampler_pid" 2>/dev/null || true
	stop_tracker
	stop_cluster
	ip netns del "$sh_tr" 2>/dev/null || true # the veth and any XDP program go with it
	ip netns del "$sh_cl" 2>/dev/null || true
	restore_rmem
	rm -rf "$tmp" "/var/run/dpdk/$tr_prefix" "/var/run/dpdk/$gen_prefix" \
		"/var/run/dpdk/$tr_prefix-b"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# field KEY LINE: the value of KEY=VALUE in LINE.
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p" | head -1; }
# ratio A B: A/B with two decimals, "-" when either is missing or B is 0.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }

failed=0
fail() {
	echo "bench: FAILED: $*"
	failed=1
}
# check_result NAME LINE: with --check, the run must have replies and no
# loss or errors.
check_result() {
	local name=$1 line=$2
	if [ -z "$line" ]; then
		fail "$name: no RESULT line"
		sed 's/^/    dpt-load: /' "$tmp/load.err" 2>/dev/null | grep -v '^    dpt-load: EAL:' | tail -5
		return
	fi
	[ $check = 1 ] || return 0
	[ "$(field responses "$line")" -gt 0 ] || fail "$name: no responses"
	[ "$(field lost "$line")" = 0 ] || fail "$name: lost $(field lost "$line")"
	[ "$(field prefill_lost "$line")" = 0 ] || fail "$name: lost in prefill"
	[ "$(field errors "$line")" = 0 ] || fail "$name: $(field errors "$line") error replies"
	[ "$(field bad "$line")" = 0 ] || fail "$name: malformed replies"
}

# The workload both trackers see; IPv6 only on the memif wire.
workload=(--torrents "$torrents" --peers "$peers" --window "$window" --duration "$duration"
	--prefill --numwant 50 --seeders 20 --mix "connect=5,announce=90,scrape=5" --seed 7)
# Connects alone (the target names them apart): no table work at all.
connects=(--torrents "$torrents" --peers "$peers" --window "$window" --duration "$duration"
	--mix connect=1 --seed 7)

# --- dptrack ------------------------------------------------------------------
# start_dptrack MEMORY_MB: dptrack on CPU tcpu, memif server, HTTP on
# 127.0.0.1:http_port; waits until it serves. $extra_yaml (if set) is
# appended to its configuration.
extra_yaml=
start_dptrack() {
	local mb=$1 i swarms
	# The table's hash is sized for max_swarms up front: twice the most
	# torrents either run announces.
	swarms=$(((mem_torrents > torrents ? mem_torrents : torrents) * 2))
	[ "$swarms" -ge $((2 * $(swarm_torrents))) ] || swarms=$((2 * $(swarm_torrents)))
	[ $swarms -ge 10000 ] || swarms=10000
	# For the HTTP run dptrack's HTTP threads are moved to tcpu (pin_http),
	# as all of opentracker runs there. idle_sleep_us: while only HTTP
	# runs, the idle lcore sleeps instead of taking half of tcpu, so both
	# trackers' HTTP gets one whole CPU. Under UDP load it never sleeps.
	cat >"$tmp/dptrack.yaml" <<EOF
log: { level: info }
tracker:
  max_swarms: $swarms
  max_peers_per_swarm: 100000000
  memory_mb: $mb
udp: { ports: [$udp_port] }
dpdk:
  eal_args: ["--no-huge", "-m", "$((mb + 512))", "--no-pci", $tr_lcores,
             "--file-prefix", "$tr_prefix",
             "--vdev", "net_memif0,role=server,socket=$memif,mac=02:00:00:00:00:02"]
  ports: [ { device: net_memif0, ipv4: 198.18.0.2/24, ipv6: "fd00:d::2/64" } ]
  idle_sleep_us: 1000
http:
  listen: ["127.0.0.1:$http_port"]
  max_connections: 10000
stats: { allow: ["127.0.0.0/8"] }
$extra_yaml
EOF
	: >"$tmp/dptrack.out"
	"$dptrack" -c "$tmp/dptrack.yaml" >"$tmp/dptrack.out" 2>&1 &
	tr_pid=$! tr_is_dpt=1
	for ((i = 0; i < 300; i++)); do
		grep -q "serving on" "$tmp/dptrack.out" && return 0
		kill -0 "$tr_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$tmp/dptrack.out"
	die "dptrack did not start"
}

# Moves dptrack's HTTP threads (dpt-http*) to tcpu, for the HTTP run only,
# when no generator is on memif: a thread that shares the polling lcore's
# CPU preempts it, and DPDK 22.11's memif unmaps its rings from EAL's
# interrupt thread when the generator leaves, with no wait for an lcore
# preempted inside rx_burst (SIGSEGVs in librte_net_memif, seen in CI with
# dptrack's threads on tcpu during the UDP runs).
pin_http() {
	local t
	for t in /proc/"$tr_pid"/task/*; do
		case $(cat "$t/comm" 2>/dev/null) in
		dpt-http*) taskset -pc "$tcpu" "${t##*/}" >/dev/null || die "taskset ${t##*/}" ;;
		esac
	done
}

# dpt-load on memif; prints its output, sets $result to its RESULT line.
# Line-buffered, so that $tmp/load.out shows each phase as it ends.
load_memif() {
	rm -rf "/var/run/dpdk/$gen_prefix"
	stdbuf -oL "$load" --wire dpdk --target4 198.18.0.2 --target6 fd00:d::2 \
		--queues "$workers" "$@" -- \
		--no-huge -m $((512 + 64 * (workers - 1))) --no-pci "${gen_lcores[@]}" --file-prefix "$gen_prefix" \
		--vdev "net_memif0,role=client,socket=$memif,mac=02:00:00:00:00:01" \
		2>"$tmp/load.err" | tee "$tmp/load.out" || { cat "$tmp/load.err"; true; }
	result=$(grep '^RESULT' "$tmp/load.out" || true)
}

# --- profile (--profile) ---------------------------------------------------------
# profile_start [LINE]: in the background, waits for the generator's
# "prefill:" line (or the line that starts with LINE, for a run without a
# prefill) in $tmp/load.out (the measured phase starts then), then samples the
# tracker's and the generator's CPUs with perf for the middle of that phase:
# from 1 s in for duration - 2 s (from the start for 1 s when shorter).
# Gives up when $tmp/load.done appears first. perf runs on those two CPUs
# too (there is no third): at 2 kHz its share is small.
prof_secs=
profile_start() {
	local lead cpulist mark=${1:-prefill:}
	cpulist=$(printf '%s\n' "$tcpu" "${worker_cpus[@]}" "${gen_q_cpus[@]}" | sort -nu | paste -sd, -)
	read -r prof_secs lead < <(awk -v d="$duration" 'BEGIN { print (d - 2 < 1 ? 1 : d - 2), (d >= 3 ? 1 : 0) }')
	rm -f "$tmp/load.out" "$tmp/load.done" "$tmp/perf.data" "$tmp/gen.pid"
	(
		until grep -q "^$mark" "$tmp/load.out" 2>/dev/null; do
			[ ! -e "$tmp/load.done" ] || { echo "the load ended before its measured phase"; exit 1; }
			sleep 0.05
		done
		pgrep -f -- "--file-prefix $gen_prefix " >"$tmp/gen.pid" || true
		sleep "$lead"
		exec perf record -e cpu-clock -F 2000 -C "$cpulist" --no-buildid-cache \
			-o "$tmp/perf.data" -- sleep "$prof_secs"
	) >"$tmp/perf.err" 2>&1 &
	prof_pid=$!
}
# profile_cpu CPU WHO PID: what ran on CPU (its samples by process, the
# first four: the machine may be shared), then the 20 top symbols of process
# PID, this run's WHO (of every process when PID is empty). Shares are of
# all of CPU's samples.
profile_cpu() {
	local rep=(perf report -i "$tmp/perf.data" --stdio --cpu "$1")
	echo "== profile: $2 CPU $1 (perf cpu-clock)"
	{ "${rep[@]}" --sort pid 2>"$tmp/perf.err" || true; } | awk -v secs="$prof_secs" -v pid="$3" '
		/^# Samples:/ { n = $3 }
		/^# Event count/ { printf "    %s samples, on CPU %.2f s of the %s s sampled; by process:\n", n, $NF / 1e9, secs }
		!/^#/ && NF && ++rows <= 4 {
			share = $1; sub(/^ *[^ ]+ +/, ""); sub(/ +$/, "")
			printf "      %8s  %s%s\n", share, $0, (index($0, pid ":") == 1 ? " (this run)" : "") }'
	if [ -n "$3" ]; then
		echo "    top symbols of this run's $2 (PID $3), as shares of all CPU $1's samples:"
	else
		echo "    top symbols:"
	fi
	{ "${rep[@]}" --sort dso,symbol ${3:+--pid "$3"} 2>>"$tmp/perf.err" || true; } |
		awk '!/^#/ && NF && ++rows <= 20' | sed -E 's/[[:space:]]+-[[:space:]]+-[[:space:]]*$//; s/^/    /'
	[ ! -s "$tmp/perf.err" ] || sed 's/^/    perf report: /' "$tmp/perf.err" | head -5
}
# profile_end: once the load is over, prints both CPUs' profiles, or why
# there are none.
profile_end() {
	touch "$tmp/load.done"
	if ! wait "$prof_pid" || [ ! -s "$tmp/perf.data" ]; then
		prof_pid=
		echo "== profile: none (perf record failed; not counted as a failure)"
		sed 's/^/    /' "$tmp/perf.err"
		return 0
	fi
	prof_pid=
	local c tr gen
	for c in $(printf '%s\n' "$tcpu" "${worker_cpus[@]}" "${gen_q_cpus[@]}" | sort -nu); do
		tr=0 gen=0
		[[ " $tcpu ${worker_cpus[*]} " != *" $c "* ]] || tr=1
		[[ " ${gen_q_cpus[*]} " != *" $c "* ]] || gen=1
		if [ $tr = 1 ] && [ $gen = 1 ]; then
			profile_cpu "$c" "tracker and generator" ""
		elif [ $tr = 1 ]; then
			profile_cpu "$c" tracker "$tr_pid"
		else
			profile_cpu "$c" generator "$(head -1 "$tmp/gen.pid")"
		fi
	done
}

# dptrack's metric NAME from /metrics (the unlabelled sample, or the sum).
dpt_metric() { dpt_metric_at "$http_port" "$1"; }
# dpt_metric_at PORT NAME: the same from the dptrack whose HTTP is on PORT
# (in the network namespace the command prefix metrics_in enters, if any).
metrics_in=()
dpt_metric_at() {
	"${metrics_in[@]}" curl -s "http://127.0.0.1:$1/metrics" |
		awk -v n="dptrack_$2" '$1 == n || index($1, n "{") == 1 { s += $2 } END { print s + 0 }'
}

# wrk_run URL: announces for the duration on CPU gcpu; sets $wrk_rps.
wrk_run() {
	local out
	out=$(DPT_HASHES=$tmp/hashes.txt taskset -c "$gcpu" wrk -t1 -c64 -d"${duration}s" \
		-s "$lua" "$1" 2>&1 | tr -d '\0') || true
	printf '%s\n' "$out" | sed 's/^/    /'
	wrk_rps=$(echo "$out" | awk '$1 == "Requests/sec:" { printf "%.0f", $2 }')
	local bad
	bad=$(echo "$out" | awk '/Non-2xx/ { print $NF }')
	[ -z "$bad" ] || fail "wrk: $bad non-2xx replies from $1"
	[ -n "$wrk_rps" ] || fail "wrk: no rate from $1"
}

# http_probe URL: one announce with curl must not be a failure.
http_probe() {
	local h body
	h=$(head -1 "$tmp/hashes.txt" | sed 's/../%&/g')
	body=$(curl -s --max-time 5 "$1?info_hash=$h&peer_id=-CU0001-000000000000&port=6881&left=0&compact=1" |
		tr -d '\0' || true) # compact peers are binary
	[[ $body == d* && $body != *"failure reason"* ]] || fail "HTTP announce to $1: $body"
}

# mem_measure NAME LOAD PROBE TORRENTS PEERS [LOAD ARGS...]: two prefills
# through LOAD (load_memif or load_sock) of TORRENTS torrents with LOAD
# ARGS: one peer per torrent, then PEERS peers. PROBE prints the tracker's
# "bytes peers torrents" before and after each. Prints the probes; sets
# mem_peer (bytes per peer: the growth in the second prefill over its new
# peers) and mem_torrent (the growth in the first, less its peers, per
# torrent).
mem_measure() {
	local name=$1 load_fn=$2 probe=$3 nt=$4 np=$5 m0 m1 p1 s1 m2 p2 s2 w
	shift 5
	w=(--mix announce=1 --count "$workers" --window 1024 --seed 7 --torrents "$nt" "$@")
	read -r m0 _ < <("$probe")
	"$load_fn" "${w[@]}" --peers "$nt" --prefill >/dev/null
	check_result "$name, one peer per torrent" "$result"
	read -r m1 p1 s1 < <("$probe")
	"$load_fn" "${w[@]}" --peers "$np" --prefill >/dev/null
	check_result "$name, all peers" "$result"
	read -r m2 p2 s2 < <("$probe")
	read -r mem_peer mem_torrent < <(awk -v m0="$m0" -v m1="$m1" -v m2="$m2" \
		-v p1="$p1" -v p2="$p2" -v s1="$s1" 'BEGIN {
		pp = p2 > p1 ? (m2 - m1) / (p2 - p1) : 0
		printf "%.1f %.1f\n", pp, (s1 > 0 ? (m1 - m0 - p1 * pp) / s1 : 0) }')
	echo "    bytes: at start $m0, $s1 torrents/$p1 peers $m1, $s2 torrents/$p2 peers $m2"
	echo "    => $mem_peer bytes per peer, $mem_torrent bytes per torrent"
}
# dpt_snapshot FILE: dptrack's /metrics into FILE, for dpt_lcores.
dpt_snapshot() { "${metrics_in[@]}" curl -s "http://127.0.0.1:$http_port/metrics" >"$1" || true; }
# dpt_lcores M0 M1: what each worker lcore's packet loop did between two
# snapshots, its own account of its work: "LCORE FRAMES_SENT BUSY_CYCLES
# LOOP_CYCLES" a line (TSC cycles: busy ones are those of rounds that
# received), by lcore; then "contended N", how often a thread found a
# swarm's lock taken.
dpt_lcores() {
	awk 'FNR == 1 { f++ }
		{ name = $1; lc = "" }
		index(name, "{lcore=\"") { split(name, a, "\""); lc = a[2]; name = substr(name, 1, index(name, "{") - 1) }
		lc != "" && name == "dptrack_lcore_tx_packets_total" { tx[f, lc] = $2; seen[lc] = 1 }
		lc != "" && name == "dptrack_lcore_busy_cycles_total" { bu[f, lc] = $2 }
		lc != "" && name == "dptrack_lcore_cycles_total" { cy[f, lc] = $2 }
		name == "dptrack_swarm_lock_contended_total" { co[f] = $2 }
		END {
			for (lc in seen)
				printf "%s %.0f %.0f %.0f\n", lc, tx[2, lc] - tx[1, lc], bu[2, lc] - bu[1, lc],
					cy[2, lc] - cy[1, lc]
			printf "contended %.0f\n", co[2] - co[1] }' "$1" "$2" | sort -k1,1n
}
# dpt_udp NAME ARGS...: one UDP run against dptrack, through the load
# function udp_load (load_memif unless a section sets another); sets
# dpt_rps, and over its measured phase (after any prefill, which the
# generator ends with a "prefill:" line) dpt_busy_pct, the worker lcores'
# load (busy cycles over loop cycles, all workers), and dpt_cpr, their busy
# cycles per reply. Per worker (lcore order, "/" between): dpt_w_rps, its
# replies/s (its share of the frames sent times the generator's rate),
# dpt_w_busy and dpt_w_cpr; dpt_cont, swarm locks found taken, and
# dpt_cont_pm, per million replies. With --check and several workers, each
# must have answered.
udp_load=load_memif
dpt_udp() {
	local name=$1 m0
	shift
	rm -f "$tmp/m.start"
	dpt_snapshot "$tmp/m.run"
	# In the background: the sample at the end of the prefill, if any.
	(
		for ((i = 0; i < 6000; i++)); do
			if grep -q '^prefill:' "$tmp/load.out" 2>/dev/null; then
				dpt_snapshot "$tmp/m.start.part"
				mv "$tmp/m.start.part" "$tmp/m.start"
				exit 0
			fi
			[ -e "$tmp/load.done" ] && exit 0
			sleep 0.05
		done
	) &
	sampler_pid=$!
	rm -f "$tmp/load.out" "$tmp/load.done"
	"$udp_load" "$@" --v6 "$v6"
	touch "$tmp/load.done"
	wait "$sampler_pid" || true
	sampler_pid=''
	check_result "$name" "$result"
	dpt_rps=$(field rps_total "$result")
	m0=$tmp/m.run
	[ ! -s "$tmp/m.start" ] || m0=$tmp/m.start
	dpt_snapshot "$tmp/m.end"
	dpt_lcores "$m0" "$tmp/m.end" >"$tmp/lcores"
	# "W" lines: each worker's figures; then "S": the totals and lists.
	awk -v rps="${dpt_rps:-0}" '
		function f(a, b, fmt) { return b > 0 ? sprintf(fmt, a / b) : "-" }
		function add(l, v) { return l == "" ? v : l "/" v }
		$1 == "contended" { cont = $2; next }
		{ n++; lc[n] = $1; tx[n] = $2; bu[n] = $3; cy[n] = $4; stx += $2; sbu += $3; scy += $4 }
		END {
			for (i = 1; i <= n; i++) {
				r = f(rps * tx[i], stx, "%.0f"); b = f(100 * bu[i], cy[i], "%.1f")
				c = f(bu[i], tx[i], "%.0f")
				printf "W worker lcore %s: %s replies/s, busy %s%% of its loop, %s busy cycles per reply\n",
					lc[i], r, b, c
				w_rps = add(w_rps, r); w_busy = add(w_busy, b); w_cpr = add(w_cpr, c)
				idle += tx[i] == 0
			}
			print "S", f(100 * sbu, scy, "%.1f"), f(sbu, stx, "%.0f"), cont + 0,
				f(1e6 * cont, stx, "%.1f"), (n ? w_rps : "-"), (n ? w_busy : "-"),
				(n ? w_cpr : "-"), n + 0, idle + 0 }' "$tmp/lcores" >"$tmp/lcores.sum"
	local n_lc idle
	read -r _ dpt_busy_pct dpt_cpr dpt_cont dpt_cont_pm dpt_w_rps dpt_w_busy dpt_w_cpr n_lc idle \
		< <(grep '^S ' "$tmp/lcores.sum")
	if [ "$workers" = 1 ]; then
		echo "    tracker lcore: busy $dpt_busy_pct% of its loop, $dpt_cpr busy cycles per reply" \
			"(measured phase)"
	else
		sed -n 's/^W /    /p' "$tmp/lcores.sum"
		echo "    $workers workers: ${dpt_rps:-?} replies/s in all, busy $dpt_busy_pct% of their loops," \
			"$dpt_cpr busy cycles per reply (measured phase)"
		if [ "$check" = 1 ]; then
			[ "$n_lc" = "$workers" ] || fail "$name: telemetry shows $n_lc worker lcores, not $workers"
			[ "$idle" = 0 ] || fail "$name: $idle worker lcores sent nothing"
		fi
	fi
	echo "    swarm locks found taken: $dpt_cont times in the measured phase, $dpt_cont_pm per million replies"
}
# --- sweeps (charts) ----------------------------------------------------------------
# window_sweep NAME LOAD OUT [PREFILL]: the measured workload (no prefill
# unless PREFILL is --prefill: the table must already hold the population)
# for --sweep-duration at each of --windows requests in flight (those below
# --workers skipped: a queue needs one), --sweep-runs times each, through
# LOAD (load_memif or load_sock); appends "WINDOW REPLIES/S P50 P90 P99
# P99.9 MIN_REPLIES/S MAX_REPLIES/S" lines to OUT: the run of median
# replies/s, its latencies (microseconds), and the range of the runs.
window_sweep() {
	local name=$1 load_fn=$2 out=$3 first=${4:-} w k k2 r runs
	local args=(--torrents "$torrents" --peers "$peers" --numwant 50 --seeders 20
		--mix "connect=5,announce=90,scrape=5" --seed 7 --duration "$sweep_duration")
	[ "$load_fn" != load_memif ] || args+=(--v6 "$v6")
	for w in ${windows//,/ }; do
		[ "$w" -ge "$workers" ] || continue
		runs=()
		for ((k = 0; k < sweep_runs; k++)); do
			"$load_fn" "${args[@]}" --window "$w" ${first:+"$first"} >/dev/null
			first=
			check_result "$name, window $w" "$result"
			[ -n "$result" ] || continue
			r=$(for k2 in rps_total p50_us p90_us p99_us p999_us; do field "$k2" "$result"; done |
				paste -sd' ' -)
			runs+=("$r")
		done
		[ ${#runs[@]} -gt 0 ] || continue
		printf '%s\n' "${runs[@]}" | sort -n | awk -v w="$w" '{ l[NR] = $0; v[NR] = $1 }
			END { m = l[int((NR + 1) / 2)]; print w, m, v[1], v[NR] }' >>"$out"
		read -r _ r _ _ k _ < <(tail -1 "$out")
		echo "    window $w: $r replies/s (median of ${#runs[@]}: $(printf '%s\n' "${runs[@]}" |
			cut -d' ' -f1 | sort -n | paste -sd' ' -)), its latency p99 $k us"
	done
}
# swarm_sweep NAME LOAD PROBE OUT START [LOAD ARGS...]: for each of
# --swarm-sizes S, a fresh tracker (START I TORRENTS starts it for the I-th
# size; stop_tracker ends it) and a prefill of --swarm-peers peers in
# swarms of S (--zipf 0: all the same size) on torrents of their own (a
# seed per size), through LOAD; PROBE prints the tracker's "bytes peers
# torrents" before and after. Appends "S BYTES_PER_PEER" lines to OUT: the
# table's growth over the new peers, the swarms' own cost included. A
# tracker per size: dptrack's rte_malloc heap slows down as sets of one
# size grow and free their old storage together (200k peers in swarms of
# 10 took 2 s on a fresh table, 10 s on one that had just taken as many;
# 500k stalled a fresh one for seconds at a time).
swarm_seed() { echo $((100 + $1)); }
swarm_sweep() {
	local name=$1 load_fn=$2 probe=$3 out=$4 start=$5 i=0 sz nt m0 p0 m1 p1 bpp
	shift 5
	for sz in ${swarm_sizes//,/ }; do
		nt=$(((swarm_peers + sz - 1) / sz))
		"$start" "$i" "$nt" >/dev/null
		read -r m0 p0 _ < <("$probe")
		"$load_fn" --mix announce=1 --count "$workers" --window 1024 --seed "$(swarm_seed "$i")" \
			--torrents "$nt" --peers "$swarm_peers" --zipf 0 --prefill "$@" >/dev/null
		check_result "$name, swarms of $sz" "$result"
		read -r m1 p1 _ < <("$probe")
		bpp=$(awk -v a="$m0" -v b="$m1" -v p="$p0" -v q="$p1" \
			'BEGIN { if (q > p) printf "%.1f", (b - a) / (q - p); else print "-" }')
		echo "    swarms of $sz ($nt torrents): $((p1 - p0)) new peers, $((m1 - m0)) bytes: $bpp bytes per peer"
		echo "$sz $bpp" >>"$out"
		stop_tracker
		i=$((i + 1))
	done
}
# chart NAME SCRIPT: gnuplot draws $charts/NAME.png from SCRIPT (its data
# files are in $charts); a failure is reported, and fails --check.
# human N: 1000000 as 1M, 20000 as 20k.
human() { awk -v n="$1" 'BEGIN { if (n >= 1e6 && n % 1e5 == 0) printf "%gM", n / 1e6
	else if (n >= 1e3 && n % 100 == 0) printf "%gk", n / 1e3; else print n }'; }
chart() {
	local note
	note="scripts/bench.sh, $(date -u +%F), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo |
		cut -d: -f2 | sed 's/^ *//')), load average $(cut -d' ' -f1 /proc/loadavg) when drawn"
	if (cd "$charts" && gnuplot -e "set terminal pngcairo size 960,600 font 'DejaVu Sans,11';
		set output '$1.png'; set datafile missing '-'; set key top left box opaque;
		set grid xtics ytics mxtics mytics lc rgb '#dddddd'; set bmargin 5; set rmargin 6;
		set label 99 '$note' at screen 0.01, screen 0.02 font ',8' tc rgb '#666666';
		$2" 2>"$tmp/gnuplot.err") &&
		[ -s "$charts/$1.png" ]; then
		echo "    $charts/$1.png"
	else
		sed 's/^/    gnuplot: /' "$tmp/gnuplot.err"
		[ $check = 0 ] || fail "chart $1 not drawn"
	fi
}
# make_charts: the charts whose data files are there.
make_charts() {
	local w=window-dptrack.dat o=window-opentracker.dat plot=() lat=()
	echo "== charts in $charts"
	have() { [ -s "$charts/$1" ] && grep -qv '^#' "$charts/$1"; }
	if have $w || have $o; then
		! have $w || plot+=("'$w' using 1:2:7:8 with yerrorlines lw 2 pt 7 lc 1 title 'dptrack ($workers worker$([ "$workers" = 1 ] || echo s), memif)'")
		! have $o || plot+=("'$o' using 1:2:7:8 with yerrorlines lw 2 pt 5 lc 2 title 'opentracker (kernel UDP, loopback)'")
		chart replies-by-window "set title 'UDP replies/s by requests in flight ($(human "$torrents") torrents, $(human "$peers") peers, Zipf 1.0, numwant 50; median and range of $sweep_runs runs)';
			set xlabel 'requests in flight (window)'; set ylabel 'replies/s'; set logscale xy 2;
			set logscale y 10; set format y '%.0s%c'; $(IFS=,; echo "plot ${plot[*]}")"
		! have $w || lat+=("'$w' using 1:3 with linespoints lw 2 pt 7 lc 1 title 'dptrack p50'"
			"'$w' using 1:5 with linespoints lw 2 pt 7 lc 1 dt 2 title 'dptrack p99'")
		! have $o || lat+=("'$o' using 1:3 with linespoints lw 2 pt 5 lc 2 title 'opentracker p50'"
			"'$o' using 1:5 with linespoints lw 2 pt 5 lc 2 dt 2 title 'opentracker p99'")
		chart latency-by-window "set title 'UDP latency by requests in flight (p50 solid, p99 dashed)';
			set xlabel 'requests in flight (window)'; set ylabel 'latency, microseconds';
			set logscale x 2; set logscale y 10; set format y '%.0f'; $(IFS=,; echo "plot ${lat[*]}")"
	fi
	if have latency.dat; then
		chart latency-percentiles "set title 'UDP latency percentiles at $window requests in flight';
			set style data histograms; set style histogram clustered gap 1;
			set style fill solid 0.8 border -1; set boxwidth 0.9; set logscale y 10; set format y '%.0f';
			set ylabel 'latency, microseconds'; set xlabel 'percentile'; set yrange [1:*];
			plot 'latency.dat' using 2:xtic(1) title 'dptrack', '' using 3 title 'opentracker'"
	fi
	plot=()
	! have swarms-dptrack-ipv4.dat || plot+=("'swarms-dptrack-ipv4.dat' using 1:2 with linespoints lw 2 pt 7 lc 1 title 'dptrack, IPv4 (table bytes)'")
	! have swarms-dptrack-ipv6.dat || plot+=("'swarms-dptrack-ipv6.dat' using 1:2 with linespoints lw 2 pt 9 lc 1 dt 2 title 'dptrack, IPv6 (table bytes)'")
	! have swarms-opentracker-ipv4.dat || plot+=("'swarms-opentracker-ipv4.dat' using 1:2 with linespoints lw 2 pt 5 lc 2 title 'opentracker, IPv4 (resident bytes)'")
	if [ ${#plot[@]} -gt 0 ]; then
		chart bytes-per-peer "set title 'Memory per peer by swarm size ($(human "$swarm_peers") peers a size, the swarms themselves included)';
			set key top right; set xlabel 'peers per swarm'; set ylabel 'bytes per peer';
			set logscale x 10; set logscale y 10; $(IFS=,; echo "plot ${plot[*]}")"
	fi
}
# swarm_torrents: every torrent the swarm sweep announces, for max_swarms.
swarm_torrents() {
	local sz n=0
	for sz in ${swarm_sizes//,/ }; do n=$((n + (swarm_peers + sz - 1) / sz)); done
	echo $n
}

# dptrack's table: bytes, peers, swarms.
dpt_probe() { echo "$(dpt_metric memory_used_bytes) $(dpt_metric peers) $(dpt_metric swarms)"; }

"$load" --write-hashes "$tmp/hashes.txt" --torrents "$torrents" --seed 7
udp_dpt='' udp_ot='' http_dpt='' http_ot='' conn_dpt='' conn_ot=''
busy_dpt='' conn_busy_dpt='' cpr_dpt='' conn_cpr_dpt=''
w_rps_dpt='' w_busy_dpt='' w_cpr_dpt='' cont_dpt='' cont_pm_dpt=''
mem_dpt_peer='' mem_dpt_torrent='' mem_ot_peer='' mem_ot_torrent=''
mem_dpt_large4='' mem_dpt_large6=''

# sweep_header FILE WHAT: a fresh data file for the charts.
sweep_header() {
	printf '# %s\n# %s; %s workers; %s\n' "$2" "$(date -u +%Y-%m-%dT%H:%MZ)" "$workers" \
		"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')" >"$charts/$1"
}
udp_dpt_result='' udp_ot_result=''

if ! skipped udp || ! skipped http || ! skipped sweep; then
	if [ "$workers" = 1 ]; then
		echo "== dptrack: UDP over net_memif (tracker CPU $tcpu, generator CPU $gcpu)"
	else
		echo "== dptrack: UDP over net_memif, $workers workers (CPUs $(IFS=,; echo "${worker_cpus[*]}"))," \
			"$workers generator queues (CPUs $(IFS=,; echo "${gen_q_cpus[*]}"))"
	fi
	start_dptrack 2048
	if ! skipped udp; then
		[ $profile = 0 ] || profile_start
		dpt_udp "dptrack udp" "${workload[@]}"
		udp_dpt_result=$result
		udp_dpt=$dpt_rps busy_dpt=$dpt_busy_pct cpr_dpt=$dpt_cpr
		w_rps_dpt=$dpt_w_rps w_busy_dpt=$dpt_w_busy w_cpr_dpt=$dpt_w_cpr
		cont_dpt=$dpt_cont cont_pm_dpt=$dpt_cont_pm
		[ $profile = 0 ] || profile_end
		echo "== dptrack: UDP connects only"
		dpt_udp "dptrack udp connects" "${connects[@]}"
		conn_dpt=$dpt_rps conn_busy_dpt=$dpt_busy_pct conn_cpr_dpt=$dpt_cpr
	fi
	if ! skipped sweep; then
		echo "== dptrack: UDP replies/s and latency by requests in flight ($sweep_duration s each)"
		sweep_header window-dptrack.dat \
			"dptrack, UDP over memif: window replies/s p50_us p90_us p99_us p999_us min_replies/s max_replies/s"
		window_sweep "dptrack sweep" load_memif "$charts/window-dptrack.dat" \
			"$(if skipped udp; then echo --prefill; fi)"
	fi
	if ! skipped http; then
		echo "== dptrack: HTTP announces (wrk, keep-alive)"
		pin_http
		http_probe "http://127.0.0.1:$http_port/announce"
		wrk_run "http://127.0.0.1:$http_port/announce"
		http_dpt=$wrk_rps
	fi
	stop_tracker
fi

if ! skipped memory; then
	echo "== dptrack: table memory, $mem_torrents torrents / $mem_peers peers (Zipf 1.0)"
	start_dptrack $((tiny ? 256 : 8192))
	mem_measure "dptrack memory" load_memif dpt_probe "$mem_torrents" "$mem_peers"
	mem_dpt_peer=$mem_peer mem_dpt_torrent=$mem_torrent
	stop_tracker
fi

# Large swarms: a fresh dptrack per family, every client of that family.
# 10M IPv6 peers take up to ~512 MB of table: 4 GB is room to spare.
if ! skipped large; then
	for fam in 4 6; do
		echo "== dptrack: table memory in large swarms, IPv$fam, $large_torrents torrents /" \
			"$large_peers peers (Zipf 0.5)"
		start_dptrack $((tiny ? 256 : 4096))
		mem_measure "dptrack large swarms IPv$fam" load_memif dpt_probe "$large_torrents" \
			"$large_peers" --zipf 0.5 --v6 $((fam == 6 ? 100 : 0))
		printf -v "mem_dpt_large$fam" %s "$mem_peer"
		stop_tracker
	done
fi

# Bytes per peer by swarm size: a fresh dptrack per family and size.
swarm_start_dpt() { start_dptrack $((tiny ? 256 : 1024)); }
if ! skipped swarms; then
	for fam in 4 6; do
		echo "== dptrack: table bytes per peer by swarm size, IPv$fam, $swarm_peers peers a size"
		sweep_header "swarms-dptrack-ipv$fam.dat" "dptrack, IPv$fam: swarm_size bytes_per_peer (swarms included)"
		swarm_sweep "dptrack swarms IPv$fam" load_memif dpt_probe "$charts/swarms-dptrack-ipv$fam.dat" \
			swarm_start_dpt --v6 $((fam == 6 ? 100 : 0))
	done
fi

# --- a shared NIC: net_af_xdp beside net_af_packet on one veth -------------------
# The tracker namespace holds one end of a veth, the client namespace the
# other, with dpt-load over kernel sockets (one client: the source address
# is the veth's). The same dptrack serves the same workload on that veth
# twice: as a shared port (net_af_xdp and its XDP program; the kernel keeps
# 198.18.7.1), then on net_af_packet (the veth dptrack's alone, no kernel
# address). The generator's CPU also runs the veth's receive side (the XDP
# program and the copy into AF_XDP's ring, or af_packet's copy into its
# own), the tracker's CPU the transmit side (inside AF_XDP's and
# af_packet's sendto): what a NIC would do is on the two CPUs here.
sh_if=vbt$$
sh_ic=vbc$$
shared_setup() {
	ip netns add "$sh_tr" && ip netns add "$sh_cl" &&
		ip link add "$sh_if" netns "$sh_tr" type veth peer name "$sh_ic" netns "$sh_cl" &&
		ip -n "$sh_tr" link set lo up && ip -n "$sh_tr" link set "$sh_if" up &&
		ip -n "$sh_cl" link set lo up &&
		ip -n "$sh_cl" addr add 198.18.7.2/24 dev "$sh_ic" &&
		ip netns exec "$sh_cl" ethtool -K "$sh_ic" tx off >/dev/null &&
		ip -n "$sh_cl" link set "$sh_ic" up
}
# shared_start PORT_YAML [VDEV]: dptrack in the tracker namespace on CPU
# tcpu with the port PORT_YAML (and --vdev VDEV), HTTP on its loopback,
# bpffs mounted in its own mount namespace when missing (ip netns exec
# remounts /sys without it). Waits until it serves.
shared_start() {
	local i vdev=""
	[ -z "${2:-}" ] || vdev=", \"--vdev\", \"$2\""
	cat >"$tmp/dptrack.yaml" <<YAML
log: { level: info }
tracker: { max_swarms: $((shared_torrents * 2 > 10000 ? shared_torrents * 2 : 10000)), memory_mb: 512 }
udp: { ports: [$udp_port] }
dpdk:
  eal_args: ["--no-huge", "-m", "1024", "--no-pci", "-l", "$tcpu", "--file-prefix", "$tr_prefix"$vdev]
  ports: [ $1 ]
http: { listen: ["127.0.0.1:$http_port"] }
stats: { allow: ["127.0.0.0/8"] }
YAML
	: >"$tmp/dptrack.out"
	# shellcheck disable=SC2016 # the inner shell expands "$@"
	ip netns exec "$sh_tr" sh -c 'mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
		exec "$@"' sh "$dptrack" -c "$tmp/dptrack.yaml" >"$tmp/dptrack.out" 2>&1 &
	tr_pid=$! tr_is_dpt=1
	for ((i = 0; i < 300; i++)); do
		grep -q "serving on" "$tmp/dptrack.out" && return 0
		kill -0 "$tr_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$tmp/dptrack.out"
	die "dptrack did not start on $1"
}
# dpt-load over kernel sockets in the client namespace, on CPU gcpu.
load_veth() {
	ip netns exec "$sh_cl" taskset -c "$gcpu" stdbuf -oL "$load" --wire sock \
		--target4 198.18.7.1 --clients 1 "$@" 2>"$tmp/load.err" | tee "$tmp/load.out" ||
		{ cat "$tmp/load.err"; true; }
	result=$(grep '^RESULT' "$tmp/load.out" || true)
}
shared_work=(--torrents "$shared_torrents" --peers "$shared_peers" --window "$window"
	--duration "$duration" --prefill --numwant 50 --seeders 20
	--mix "connect=5,announce=90,scrape=5" --seed 7)
# No connects-only run: with one client a connect waits for the previous
# one's reply (one connection ID per client), so it would time the round
# trip, not the path.
# shared_run NAME: the mixed workload, then stops dptrack; sets sh_rps,
# sh_cpr, sh_busy.
shared_run() {
	dpt_udp "dptrack $1" "${shared_work[@]}"
	sh_rps=$dpt_rps sh_cpr=$dpt_cpr sh_busy=$dpt_busy_pct
	stop_tracker
}
xdp_rps='' xdp_cpr='' xdp_busy='' xdp_mode='' pkt_rps='' pkt_cpr='' pkt_busy=''
if ! skipped shared; then
	shared_setup || die "the shared section's namespaces could not be set up"
	metrics_in=(ip netns exec "$sh_tr")
	udp_load=load_veth
	workers_all=$workers
	workers=1 # its dptrack runs one lcore (-l tcpu), whatever --workers says
	echo "== dptrack: UDP on net_af_xdp over a veth, shared: the kernel keeps it and 198.18.7.1"
	ip -n "$sh_tr" addr add 198.18.7.1/24 dev "$sh_if"
	shared_start "{ device: \"net_af_xdp0,iface=$sh_if\", shared: true }"
	xdp_mode=$(grep -o '(native mode)\|(generic mode)' "$tmp/dptrack.out" | tr -d '()' |
		cut -d' ' -f1 | head -1)
	echo "    XDP program in ${xdp_mode:-an unknown} mode"
	shared_run "net_af_xdp"
	xdp_rps=$sh_rps xdp_cpr=$sh_cpr xdp_busy=$sh_busy
	echo "== dptrack: UDP on net_af_packet over the same veth, dptrack's alone"
	ip -n "$sh_tr" addr flush dev "$sh_if"
	ip netns exec "$sh_tr" sysctl -qw "net.ipv6.conf.$sh_if.disable_ipv6=1"
	shared_start "{ device: net_af_packet0, ipv4: 198.18.7.1/24 }" "net_af_packet0,iface=$sh_if"
	shared_run "net_af_packet"
	pkt_rps=$sh_rps pkt_cpr=$sh_cpr pkt_busy=$sh_busy
	metrics_in=()
	udp_load=load_memif
	workers=$workers_all
	ip netns del "$sh_tr"
	ip netns del "$sh_cl"
fi

# --- the cluster ------------------------------------------------------------------
# One nats-server with JetStream on loopback (store in $tmp), and a second
# dptrack, B, with no traffic of its own (a net_null port, its lcore asleep
# on the generator's CPU), that only applies what the loaded one publishes.
nats_port=$((30000 + $$ % 20000))
http_port_b=$((http_port + 1))
cluster_yaml() {
	echo "cluster: { enabled: true, servers: [\"nats://127.0.0.1:$nats_port\"], instance: $1, replicas: 1 }"
}
# nats-server on the generator's CPU: the tracker's lcore keeps its own.
start_nats() {
	local i
	mkdir -p "$tmp/nats"
	taskset -c "$gcpu" nats-server -a 127.0.0.1 -p "$nats_port" -js -sd "$tmp/nats" \
		>"$tmp/nats.out" 2>&1 &
	nats_pid=$!
	for ((i = 0; i < 100; i++)); do
		grep -q "Server is ready" "$tmp/nats.out" && return 0
		kill -0 "$nats_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$tmp/nats.out"
	die "nats-server did not start"
}
# start_b: the second instance, fresh; sets b_started (seconds) and waits
# until it serves.
start_b() {
	local i
	cat >"$tmp/dptrack-b.yaml" <<EOF
log: { level: info }
tracker: { max_swarms: $(((mem_torrents > torrents ? mem_torrents : torrents) * 2)), max_peers_per_swarm: 100000000, memory_mb: 2048 }
dpdk:
  eal_args: ["--no-huge", "-m", "2560", "--no-pci", "-l", "$gcpu", "--file-prefix", "$tr_prefix-b",
             "--vdev", "net_null0"]
  ports: [ { device: net_null0, ipv4: 198.18.9.2/24 } ]
  idle_sleep_us: 1000
http: { listen: ["127.0.0.1:$http_port_b"] }
stats: { allow: ["127.0.0.0/8"] }
$(cluster_yaml bench-b)
EOF
	rm -rf "/var/run/dpdk/$tr_prefix-b"
	b_started=$(date +%s.%N)
	"$dptrack" -c "$tmp/dptrack-b.yaml" >"$tmp/dptrack-b.out" 2>&1 &
	trb_pid=$!
	for ((i = 0; i < 300; i++)); do
		grep -q "serving on" "$tmp/dptrack-b.out" && return 0
		kill -0 "$trb_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$tmp/dptrack-b.out"
	die "the second dptrack did not start"
}
# cl_sample FILE: "seconds published(A) applied(B) dropped(A)" into FILE,
# B's lag histogram ("LE COUNT" lines, cumulative) into FILE.lag.
cl_sample() {
	echo "$(date +%s.%N) $(dpt_metric cluster_records_published_total)" \
		"$(dpt_metric_at "$http_port_b" cluster_records_applied_total)" \
		"$(dpt_metric cluster_drops_total)" >"$1"
	curl -s "http://127.0.0.1:$http_port_b/metrics" | awk -F'[" ]' \
		'/^dptrack_cluster_lag_milliseconds_bucket/ { print ($2 == "+Inf" ? 1e12 : $2), $NF }' >"$1.lag"
}
# lag_quantile Q BEFORE AFTER: the Q-quantile (ms) of the lags applied
# between two cl_sample histograms, linear within its bucket, as
# Prometheus' histogram_quantile; "-" when none.
lag_quantile() {
	paste -d' ' "$2" "$3" | awk -v q="$1" '{ le[NR] = $1; n[NR] = $4 - $2 }
		END { tot = n[NR]; if (tot <= 0) { print "-"; exit }
			want = q * tot; prev = 0; lo = 0
			for (i = 1; i <= NR; i++) {
				if (n[i] >= want) {
					if (le[i] >= 1e12) { printf "%.1f\n", lo; exit }
					c = n[i] - prev
					printf "%.1f\n", lo + (le[i] - lo) * (c > 0 ? (want - prev) / c : 1); exit }
				prev = n[i]; lo = le[i] } }'
}
udp_cl='' cpr_cl='' cl_pub_rps='' cl_apply_rps='' cl_lag50='' cl_lag99='' cl_dropped=''
busy_cl='' cl_caught=''
if ! skipped cluster; then
	# 1. The prefill with the cluster on (A publishes to a nats-server on
	#    the generator's CPU; its sync thread, an EAL control thread, runs
	#    there too): every peer is new, so every announce is a record; what
	#    the sync thread publishes per second, the rest dropped and counted.
	echo "== dptrack: the UDP workload with the cluster on (nats-server on loopback, replicas 1)"
	start_nats
	extra_yaml=$(cluster_yaml bench-a)
	start_dptrack 2048
	extra_yaml=
	prefill_only=("${workload[@]}")
	prefill_only[7]=1 # --duration 1: the prefill, then a token measured phase
	[ "${workload[6]}" = --duration ] || die "bench.sh: the workload's layout changed"
	p0=$(dpt_metric cluster_records_published_total)
	t0=$(date +%s.%N)
	load_memif "${prefill_only[@]}" --v6 "$v6" >/dev/null
	check_result "dptrack udp prefill, cluster on" "$result"
	t1=$(date +%s.%N)
	p1=$(dpt_metric cluster_records_published_total)
	cl_pub_rps=$(awk -v t0="$t0" -v t1="$t1" -v p0="$p0" -v p1="$p1" \
		'BEGIN { printf "%.0f", (t1 > t0 ? (p1 - p0) / (t1 - t0) : 0) }')
	echo "    prefill: $((p1 - p0)) records published in" \
		"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s ($cl_pub_rps/s)," \
		"$(dpt_metric cluster_drops_total) dropped (rings full)"
	# 2. The cost, in steady state: once the engine has settled (its CPU
	#    idle for 5 s), the measured workload on the same table, without
	#    the prefill, beside the run with the cluster off above.
	for ((i = 0; i < 120; i++)); do
		c0=$(awk '{ print $14 + $15 }' "/proc/$nats_pid/stat")
		sleep 5
		c1=$(awk '{ print $14 + $15 }' "/proc/$nats_pid/stat")
		[ $((c1 - c0)) -lt 25 ] && break # under 5% of a CPU
	done
	steady=()
	for a in "${workload[@]}"; do [ "$a" = --prefill ] || steady+=("$a"); done
	[ $profile = 0 ] || profile_start connect:
	dpt_udp "dptrack udp, cluster on" "${steady[@]}"
	udp_cl=$dpt_rps cpr_cl=$dpt_cpr busy_cl=$dpt_busy_pct
	[ $profile = 0 ] || profile_end

	# 3. Applying with a backlog: a fresh second instance replays all of it,
	#    until it says it has caught up (at most 300 s).
	start_b
	caught=
	for ((i = 0; i < 3000; i++)); do
		grep -q "caught up" "$tmp/dptrack-b.out" && { caught=$(date +%s.%N); break; }
		kill -0 "$trb_pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ -n "$caught" ]; then
		a_all=$(dpt_metric_at "$http_port_b" cluster_records_applied_total)
		read -r cl_apply_rps cl_caught < <(awk -v a="$a_all" -v t0="$b_started" -v t1="$caught" \
			'BEGIN { printf "%.0f %.1f\n", (t1 > t0 ? a / (t1 - t0) : 0), t1 - t0 }')
		echo "    a fresh second instance replayed $a_all records and caught up $cl_caught s" \
			"after it started: $cl_apply_rps/s, start-up included"
	else
		fail "cluster: a fresh second instance did not catch up within 300 s"
	fi

	# 4. Lag: the second instance follows while A takes a burst of new
	#    peers (another population: --seed 8), until it has all of them.
	cl_sample "$tmp/cl.2"
	load_memif --torrents "$torrents" --peers $((peers / 10)) --window "$window" --duration 1 \
		--prefill --numwant 50 --seeders 20 --mix announce=1 --seed 8 --v6 "$v6" >/dev/null
	check_result "dptrack udp, a burst of new peers" "$result"
	for ((i = 0; i < 1200; i++)); do
		cl_sample "$tmp/cl.3"
		read -r _ pub app _ <"$tmp/cl.3"
		[ "$app" -ge "$pub" ] && break
		sleep 0.1
	done
	read -r _ p2 a2 _ <"$tmp/cl.2"
	read -r _ p3 a3 cl_dropped <"$tmp/cl.3"
	cl_lag50=$(lag_quantile 0.50 "$tmp/cl.2.lag" "$tmp/cl.3.lag")
	cl_lag99=$(lag_quantile 0.99 "$tmp/cl.2.lag" "$tmp/cl.3.lag")
	echo "    burst: $((p3 - p2)) records published, $((a3 - a2)) applied by the second" \
		"instance following live, lag p50 $cl_lag50 ms, p99 $cl_lag99 ms; records dropped" \
		"over the whole run $cl_dropped"
	[ "$check" = 0 ] || [ "$a3" -ge "$p3" ] || fail "cluster: the second instance applied $a3 of $p3 records"
	stop_tracker
	stop_cluster
fi

# --- opentracker ----------------------------------------------------------------
# start_ot HASHFILE: opentracker on CPU tcpu, UDP and TCP on 127.0.0.1:ot_port,
# chrooted into $tmp/ot with HASHFILE as its whitelist; waits until an
# announce for the first torrent is accepted.
ot_port=$((40000 + $$ % 20000))
start_ot() {
	local i
	mkdir -p "$tmp/ot"
	cp "$1" "$tmp/ot/whitelist.txt"
	taskset -c "$tcpu" opentracker -i 127.0.0.1 -p "$ot_port" -P "$ot_port" -d "$tmp/ot" \
		-w /whitelist.txt -A 127.0.0.1 >"$tmp/ot.out" 2>&1 &
	tr_pid=$! tr_is_dpt=0
	for ((i = 0; i < 300; i++)); do
		local r
		r=$("$load" --wire sock --target4 127.0.0.1 --port "$ot_port" --torrents 1 --peers 1 \
			--seed 7 --mix announce=1 --count 1 --timeout-ms 200 2>/dev/null | grep '^RESULT' || true)
		[ -n "$r" ] && [ "$(field errors "$r")" = 0 ] && [ "$(field lost "$r")" = 0 ] && return 0
		kill -0 "$tr_pid" 2>/dev/null || break
		sleep 0.2
	done
	cat "$tmp/ot.out"
	die "opentracker did not start (or never accepted a whitelisted torrent)"
}
load_sock() {
	taskset -c "$gcpu" "$load" --wire sock --target4 127.0.0.1 --port "$ot_port" "$@" \
		2>"$tmp/load.err" | tee "$tmp/load.out" || { cat "$tmp/load.err"; true; }
	result=$(grep '^RESULT' "$tmp/load.out" || true)
}
rss() { awk '$1 == "VmRSS:" { print $2 * 1024 }' "/proc/$tr_pid/status"; }
# ot_stat MODE: the first line of opentracker's /stats?mode=MODE (peer:
# peers, torr: torrents); -A 127.0.0.1 lets loopback read it.
ot_stat() { curl -s --max-time 5 "http://127.0.0.1:$ot_port/stats?mode=$1" | head -1; }
# opentracker: resident bytes, peers, torrents.
ot_probe() { echo "$(rss) $(ot_stat peer) $(ot_stat torr)"; }
# swarm_start_ot I TORRENTS: opentracker for the swarm sweep's I-th size,
# its torrents whitelisted (and seed 7's first, which start_ot announces).
swarm_start_ot() {
	"$load" --write-hashes "$tmp/swarm_hashes.txt" --torrents 1 --seed 7
	"$load" --write-hashes - --torrents "$2" --seed "$(swarm_seed "$1")" >>"$tmp/swarm_hashes.txt"
	start_ot "$tmp/swarm_hashes.txt"
}


if ! skipped opentracker; then
	raise_rmem
	if ! skipped udp || ! skipped http || ! skipped sweep; then
		echo "== opentracker: UDP over kernel sockets on loopback"
		start_ot "$tmp/hashes.txt"
		if ! skipped udp; then
			load_sock "${workload[@]}"
			check_result "opentracker udp" "$result"
			udp_ot_result=$result
			udp_ot=$(field rps_total "$result")
			echo "== opentracker: UDP connects only"
			load_sock "${connects[@]}"
			check_result "opentracker udp connects" "$result"
			conn_ot=$(field rps_total "$result")
		fi
		if ! skipped sweep; then
			echo "== opentracker: UDP replies/s and latency by requests in flight ($sweep_duration s each)"
			sweep_header window-opentracker.dat \
				"opentracker, UDP over loopback: window replies/s p50_us p90_us p99_us p999_us min_replies/s max_replies/s"
			window_sweep "opentracker sweep" load_sock "$charts/window-opentracker.dat" \
				"$(if skipped udp; then echo --prefill; fi)"
		fi
		if ! skipped http; then
			echo "== opentracker: HTTP announces (wrk, keep-alive)"
			http_probe "http://127.0.0.1:$ot_port/announce"
			wrk_run "http://127.0.0.1:$ot_port/announce"
			http_ot=$wrk_rps
		fi
		stop_tracker
	fi
	if ! skipped memory; then
		echo "== opentracker: resident memory, $mem_torrents torrents / $mem_peers peers (Zipf 1.0)"
		"$load" --write-hashes "$tmp/mem_hashes.txt" --torrents "$mem_torrents" --seed 7
		start_ot "$tmp/mem_hashes.txt"
		mem_measure "opentracker memory" load_sock ot_probe "$mem_torrents" "$mem_peers"
		mem_ot_peer=$mem_peer mem_ot_torrent=$mem_torrent
		stop_tracker
	fi
	if ! skipped swarms; then
		echo "== opentracker: resident bytes per peer by swarm size, IPv4, $swarm_peers peers a size"
		sweep_header swarms-opentracker-ipv4.dat \
			"opentracker, IPv4: swarm_size bytes_per_peer (resident growth, swarms included)"
		swarm_sweep "opentracker swarms" load_sock ot_probe "$charts/swarms-opentracker-ipv4.dat" \
			swarm_start_ot
	fi
	restore_rmem
fi

# --- charts --------------------------------------------------------------------------
# The latency percentiles of the two UDP runs, then every chart whose data
# this run (or, for the data files it did not write, an earlier one into
# the same directory) has. gnuplot (Debian's gnuplot-nox) draws PNGs.
if [ -n "$udp_dpt_result" ] || [ -n "$udp_ot_result" ]; then
	sweep_header latency.dat "UDP latency at window $window, microseconds: percentile dptrack opentracker"
	for q in p50:p50_us p90:p90_us p99:p99_us p99.9:p999_us; do
		d=$(field "${q#*:}" "$udp_dpt_result") o=$(field "${q#*:}" "$udp_ot_result")
		echo "${q%%:*} ${d:--} ${o:--}"
	done >>"$charts/latency.dat"
fi
make_charts

echo
if [ "$workers" = 1 ]; then
	echo "== summary (tracker CPU $tcpu, generator CPU $gcpu; load average $(cut -d' ' -f1 /proc/loadavg))"
else
	echo "== summary ($workers workers: dptrack on CPUs $tcpu+$(IFS=,; echo "${worker_cpus[*]}")," \
		"dpt-load on CPUs $(IFS=,; echo "${gen_q_cpus[*]}"), opentracker on CPU $tcpu;" \
		"load average $(cut -d' ' -f1 /proc/loadavg))"
fi
printf "  %-34s %14s %14s %8s\n" "" dptrack opentracker ratio
printf "  %-34s %14s %14s %8s\n" "UDP replies/s" "${udp_dpt:--}" "${udp_ot:--}" "$(ratio "$udp_dpt" "$udp_ot")"
printf "  %-34s %14s\n" "  tracker lcore busy %" "${busy_dpt:--}"
printf "  %-34s %14s\n" "  busy cycles per reply" "${cpr_dpt:--}"
if [ "$workers" -gt 1 ]; then
	printf "  %-34s %14s\n" "  replies/s by worker" "${w_rps_dpt:--}"
	printf "  %-34s %14s\n" "  busy % by worker" "${w_busy_dpt:--}"
	printf "  %-34s %14s\n" "  busy cycles per reply by worker" "${w_cpr_dpt:--}"
fi
printf "  %-34s %14s\n" "  swarm locks found taken" "${cont_dpt:--}"
printf "  %-34s %14s\n" "    per million replies" "${cont_pm_dpt:--}"
printf "  %-34s %14s %14s %8s\n" "UDP connects/s (connects only)" "${conn_dpt:--}" "${conn_ot:--}" "$(ratio "$conn_dpt" "$conn_ot")"
printf "  %-34s %14s\n" "  tracker lcore busy %" "${conn_busy_dpt:--}"
printf "  %-34s %14s\n" "  busy cycles per reply" "${conn_cpr_dpt:--}"
printf "  %-34s %14s %14s %8s\n" "HTTP announces/s" "${http_dpt:--}" "${http_ot:--}" "$(ratio "$http_dpt" "$http_ot")"
printf "  %-34s %14s %14s\n" "bytes per peer" "${mem_dpt_peer:--}" "${mem_ot_peer:--}"
printf "  %-34s %14s %14s\n" "bytes per torrent" "${mem_dpt_torrent:--}" "${mem_ot_torrent:--}"
printf "  %-34s %14s\n" "bytes per peer, large swarms IPv4" "${mem_dpt_large4:--}"
printf "  %-34s %14s\n" "bytes per peer, large swarms IPv6" "${mem_dpt_large6:--}"
printf "  %-34s %14s %14s %8s\n" "veth UDP replies/s, af_xdp / packet" "${xdp_rps:--}" "${pkt_rps:--}" "$(ratio "$xdp_rps" "$pkt_rps")"
printf "  %-34s %14s %14s\n" "  tracker lcore busy %" "${xdp_busy:--}" "${pkt_busy:--}"
printf "  %-34s %14s %14s %8s\n" "  busy cycles per reply" "${xdp_cpr:--}" "${pkt_cpr:--}" "$(ratio "$xdp_cpr" "$pkt_cpr")"
printf "  %-34s %14s\n" "  XDP mode" "${xdp_mode:--}"
printf "  %-34s %14s %14s %8s\n" "UDP replies/s, cluster on / off" "${udp_cl:--}" "${udp_dpt:--}" "$(ratio "$udp_cl" "$udp_dpt")"
printf "  %-34s %14s %14s\n" "  tracker lcore busy %, on / off" "${busy_cl:--}" "${busy_dpt:--}"
printf "  %-34s %14s %14s %8s\n" "  busy cycles per reply, on / off" "${cpr_cl:--}" "${cpr_dpt:--}" "$(ratio "$cpr_dpt" "$cpr_cl")"
printf "  %-34s %14s\n" "cluster records published/s" "${cl_pub_rps:--}"
printf "  %-34s %14s\n" "cluster records applied/s (replay)" "${cl_apply_rps:--}"
printf "  %-34s %14s\n" "cluster lag p50 / p99, ms" "${cl_lag50:--} / ${cl_lag99:--}"
echo "BENCH udp_dptrack_rps=${udp_dpt:--} udp_opentracker_rps=${udp_ot:--}" \
	"udp_ratio=$(ratio "$udp_dpt" "$udp_ot") udp_dptrack_busy_pct=${busy_dpt:--}" \
	"udp_dptrack_cycles_per_reply=${cpr_dpt:--} workers=$workers" \
	"udp_dptrack_worker_rps=${w_rps_dpt:--} udp_dptrack_worker_busy_pct=${w_busy_dpt:--}" \
	"udp_dptrack_worker_cycles_per_reply=${w_cpr_dpt:--}" \
	"udp_swarm_lock_contended=${cont_dpt:--} udp_swarm_lock_contended_per_million=${cont_pm_dpt:--}" \
	"connect_dptrack_rps=${conn_dpt:--} connect_opentracker_rps=${conn_ot:--}" \
	"connect_ratio=$(ratio "$conn_dpt" "$conn_ot") connect_dptrack_busy_pct=${conn_busy_dpt:--}" \
	"connect_dptrack_cycles_per_reply=${conn_cpr_dpt:--}" \
	"http_dptrack_rps=${http_dpt:--}" \
	"http_opentracker_rps=${http_ot:--} http_ratio=$(ratio "$http_dpt" "$http_ot")" \
	"dptrack_bytes_per_peer=${mem_dpt_peer:--} dptrack_bytes_per_torrent=${mem_dpt_torrent:--}" \
	"opentracker_bytes_per_peer=${mem_ot_peer:--} opentracker_bytes_per_torrent=${mem_ot_torrent:--}" \
	"dptrack_bytes_per_peer_large4=${mem_dpt_large4:--} dptrack_bytes_per_peer_large6=${mem_dpt_large6:--}" \
	"udp_cluster_rps=${udp_cl:--} udp_cluster_ratio=$(ratio "$udp_cl" "$udp_dpt")" \
	"udp_cluster_cycles_per_reply=${cpr_cl:--} udp_cluster_cycles_ratio=$(ratio "$cpr_dpt" "$cpr_cl")" \
	"udp_cluster_busy_pct=${busy_cl:--} cluster_published_rps=${cl_pub_rps:--}" \
	"cluster_applied_rps=${cl_apply_rps:--} cluster_lag_p50_ms=${cl_lag50:--}" \
	"cluster_lag_p99_ms=${cl_lag99:--} cluster_dropped=${cl_dropped:--}" \
	"veth_af_xdp_rps=${xdp_rps:--} veth_af_packet_rps=${pkt_rps:--}" \
	"veth_af_xdp_cycles_per_reply=${xdp_cpr:--} veth_af_packet_cycles_per_reply=${pkt_cpr:--}" \
	"veth_xdp_mode=${xdp_mode:--}"
exit $failed
