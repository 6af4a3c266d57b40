#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The live cluster test: three dptrack instances A, B and C share their
# swarms through a JetStream cluster of three nats-server processes, and
# clients see one tracker through any of them, also while parts fail.
#
#   netns TRa, TRb, TRc (one per instance)   netns CL (clients)
#   uX: dptrack's net_af_packet port  <-link U->  bridge bu: 198.18.0.2 observer,
#     (it owns 198.18.0.11/12/13 and              .3 paced client, .31 libtorrent
#      fd00:c::11/12/13: BEP 15)                  downloader, .50 peers;
#                                                 fd00:c::2 observer, ::50 peers
#   hX: 198.18.1.11/12/13/24,         <-link H->  bridge bh: 198.18.1.1 /stats
#       fd00:e::11/12/13/64                       reader, .2 observer, .30
#     (kernel: HTTP tracker, NATS client)         libtorrent seeder, .50 peers;
#                                                 fd00:e::1, ::2 observer, ::50
#   netns NATS: nats-server n1, n2, n3 on 198.18.1.21/22/23, bridged onto bh;
#     -js, routes between them (cluster "dpt"), store dirs in $tmp, client
#     port 4222, monitoring 8222 (/jsz, /healthz)
#
# Each instance: cluster.enabled, the three servers, instance a|b|c,
# replicas 3, flush_ms 10, dpdk.idle_sleep_us 1000, its own lcore (A and C
# on 0, B on 1) and file prefix; B with a snapshot path.
#
# The checks (test/live/cluster_checks.py is the client; every figure is a
# "# " comment):
#   1. a peer announced to A over UDP (IPv4, IPv6) and HTTP (compact,
#      peers6) is in B's and C's replies within 2 s (timed);
#   2. 'stopped' sent to one instance removes the peer from every one;
#   3. a completion counts once in every instance's UDP and HTTP scrape,
#      also after more announces by the same peer;
#   4. a connection ID issued by A is accepted by B and C;
#   4b. batches 2 then 1 of a made-up instance, stored in the stream in
#      that order (as a batch published again after a failed
#      acknowledgement lands behind later ones), are both applied by every
#      instance (cluster_checks.py reorder);
#   5a. kill -9 of the stream's leader: 200 peers announced to A meanwhile
#      all reach B and C; the server is restarted and rejoins;
#   5b. SIGSTOP of all three servers: A's answered rate of paced announces
#      stays at 70% or more of before; what was announced meanwhile reaches
#      B and C after SIGCONT or is counted as dropped; a peer announced
#      after SIGCONT reaches B within 30 s;
#   5c. B restarted with its snapshot, then without: it answers within 2 s
#      of its start, and what A and C learned while it was down is in its
#      replies once it caught up (cluster_catching_up 0); no completion
#      counted twice, no stopped peer back; without a snapshot, the peers
#      B had learned in 5a, 5b and the first restart come back from the
#      stream too;
#   6. a libtorrent seeder announcing only to A (HTTP) and a downloader
#      announcing only to B (UDP) move a file (SHA-256 compared);
#   7. every instance has applied the stream up to the same sequence (each
#      consumer is checked against the stream's leader, so one on a
#      replica that lags or lost a message catches up); then SIGTERM:
#      every instance exits 0, no mbuf leaked, no bad batch.
# After 5a and 5b the stream itself is read through the JetStream API: it
# must hold each batch once (a batch published again is de-duplicated by
# its Nats-Msg-Id; stored twice, its completions would count twice), and
# the batches it holds out of their origin's numbering (applied all the
# same) are listed as comments.
# "Counted as dropped" means the cluster_drop_* counters (records):
# cluster_acks_failed counts batches whose acknowledgement failed, and
# each of those is published again, so it accounts for no lost record.
# Everything this script starts (dptrack, nats-server, libtorrent) is
# stopped by its PID, and the namespaces and $tmp are removed, by the EXIT
# trap. Prints "ok"/"not ok" per check, then "N passed, N failed"; exits 1
# on any failure (showing the logs) or missing tool, 77 (skip) without root.
#
# Needs: root, iproute2, ethtool, iputils-ping, curl, nats-server,
# /usr/bin/python3 with python3-libtorrent.
# Usage: cluster.sh PATH_TO_DPTRACK

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

live_require ip ethtool ping sysctl curl sha256sum nats-server "$python"
"$python" -c 'import libtorrent' 2>/dev/null || live_missing python3-libtorrent
live_init cluster
t_begin=$(date +%s%N)

names=(a b c)
nats_ns=dpt-nats-$$
bu=bu$$ # CL's bridges: link U (dptrack's DPDK ports), link H (kernel TCP)
bh=bh$$
port=6969
declare -A ns udp4 udp6 http4 http6 lcore dpid out runs
i=1
for x in "${names[@]}"; do
	ns[$x]=dpt-tr$x-$$
	udp4[$x]=198.18.0.1$i
	udp6[$x]=fd00:c::1$i
	http4[$x]=198.18.1.1$i
	http6[$x]=fd00:e::1$i
	runs[$x]=0
	i=$((i + 1))
done
lcore=([a]=0 [b]=1 [c]=0)
nats4=(198.18.1.21 198.18.1.22 198.18.1.23)
declare -a npid=()
stats_src=198.18.1.1
snap=$tmp/b-snap/peers.snap
lt="$here/clients_lt.py"
declare -A lt_pid=()

# Namespaces of this test left by runs killed outright (no trap ran).
for n in $(ip netns list | awk '$1 ~ /^dpt-(tr[abc]|nats)-[0-9]+$/ { print $1 }'); do
	kill -0 "${n##*-}" 2>/dev/null || ip netns del "$n" 2>/dev/null
done

# ms_since T0: milliseconds since T0 (date +%s%N).
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

in_ns() { ip netns exec "${ns[$1]}" "${@:2}"; }
in_nats() { ip netns exec "$nats_ns" "$@"; }

# --- stopping what this script started, by PID -----------------------------------

# stop_pid PID SECONDS: SIGTERM, then SIGKILL after SECONDS; returns the
# exit status, 255 if it had to be killed.
stop_pid() {
	local p=$1 i
	kill -TERM "$p" 2>/dev/null
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$p" 2>/dev/null; then
		echo "# PID $p did not stop within $2 s of SIGTERM; killing it"
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
		return 255
	fi
	wait "$p"
}

# stop_dpt X: SIGTERM to instance X, SIGKILL after 15 s; its exit status.
stop_dpt() {
	local p=${dpid[$1]:-} rc
	[ -n "$p" ] || return 0
	stop_pid "$p" 15
	rc=$?
	dpid[$1]=
	return $rc
}

stop_nats() {
	local k
	for k in "${!npid[@]}"; do
		[ -n "${npid[$k]}" ] || continue
		kill -CONT "${npid[$k]}" 2>/dev/null
		stop_pid "${npid[$k]}" 5 >/dev/null
		npid[k]=
	done
}

cluster_cleanup() {
	local x p
	for p in "${lt_pid[@]}"; do stop_pid "$p" 5 >/dev/null; done
	for x in "${names[@]}"; do stop_dpt "$x" >/dev/null 2>&1; done
	stop_nats
	for x in "${names[@]}"; do
		ip netns del "${ns[$x]}" 2>/dev/null
		rm -rf "/var/run/dpdk/$prefix-$x"
	done
	ip netns del "$nats_ns" 2>/dev/null
	ip netns del "$cl_ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cluster_cleanup EXIT

# Replaces lib.sh's: the summary, and after a failure every log.
finish() {
	local x f
	echo "# total run time $(ms_since "$t_begin") ms"
	if [ "$fails" -gt 0 ]; then
		for x in "${names[@]}"; do stop_dpt "$x" >/dev/null 2>&1; done
		for f in "$tmp"/dpt-*.out; do
			[ -f "$f" ] || continue
			echo "# --- ${f##*/}:"
			sed 's/^/#   /' "$f"
		done
		for f in "$tmp"/nats*.log; do
			[ -f "$f" ] || continue
			echo "# --- ${f##*/} (WRN/ERR lines, last 30):"
			grep -E '\[(WRN|ERR|FTL)\]' "$f" | tail -n 30 | cut -c1-300 | sed 's/^/#   /'
		done
	fi
	tap_end
	exit $?
}

# --- the namespaces, the two bridges, the veths ------------------------------------

setup_net() {
	local x a
	ip netns add "$cl_ns" && ip netns add "$nats_ns" || return 1
	for x in "${names[@]}"; do ip netns add "${ns[$x]}" || return 1; done
	in_cl ip link set lo up &&
		in_cl ip link add "$bu" type bridge mcast_snooping 0 &&
		in_cl ip link add "$bh" type bridge mcast_snooping 0 || return 1
	for a in 198.18.0.2 198.18.0.3 198.18.0.31 198.18.0.50; do
		in_cl ip addr add "$a/24" dev "$bu" || return 1
	done
	for a in fd00:c::2 fd00:c::50; do in_cl ip -6 addr add "$a/64" dev "$bu" nodad || return 1; done
	for a in 198.18.1.1 198.18.1.2 198.18.1.30 198.18.1.50; do
		in_cl ip addr add "$a/24" dev "$bh" || return 1
	done
	for a in fd00:e::1 fd00:e::2 fd00:e::50; do
		in_cl ip -6 addr add "$a/64" dev "$bh" nodad || return 1
	done
	# A veth leaves UDP checksums to "hardware" that never fills them:
	# the kernel of CL computes them itself (the bridge, and its ports).
	in_cl ethtool -K "$bu" tx off >/dev/null || return 1
	for x in "${names[@]}"; do
		# Link U: dptrack's DPDK port; no kernel address, no IPv6.
		ip link add "u$x$$" netns "${ns[$x]}" type veth peer name "v$x$$" netns "$cl_ns" &&
			in_ns "$x" sysctl -qw "net.ipv6.conf.u$x$$.disable_ipv6=1" &&
			in_ns "$x" ip link set "u$x$$" up &&
			in_cl sysctl -qw "net.ipv6.conf.v$x$$.disable_ipv6=1" &&
			in_cl ethtool -K "v$x$$" tx off >/dev/null &&
			in_cl ip link set "v$x$$" master "$bu" up &&
			# Link H: the kernel's, for HTTP and NATS.
			ip link add "h$x$$" netns "${ns[$x]}" type veth peer name "k$x$$" netns "$cl_ns" &&
			in_ns "$x" ip link set lo up &&
			in_ns "$x" ip addr add "${http4[$x]}/24" dev "h$x$$" &&
			in_ns "$x" ip -6 addr add "${http6[$x]}/64" dev "h$x$$" nodad &&
			in_ns "$x" ip link set "h$x$$" up &&
			in_cl sysctl -qw "net.ipv6.conf.k$x$$.disable_ipv6=1" &&
			in_cl ip link set "k$x$$" master "$bh" up || return 1
	done
	ip link add "n$$" netns "$nats_ns" type veth peer name "m$$" netns "$cl_ns" &&
		in_nats ip link set lo up || return 1
	for a in "${nats4[@]}"; do in_nats ip addr add "$a/24" dev "n$$" || return 1; done
	in_nats ip link set "n$$" up &&
		in_cl sysctl -qw "net.ipv6.conf.m$$.disable_ipv6=1" &&
		in_cl ip link set "m$$" master "$bh" up &&
		in_cl ip link set "$bu" up &&
		in_cl ip link set "$bh" up
}
{ setup_net; } 2>"$tmp/setup.err" || {
	sed 's/^/# /' "$tmp/setup.err"
	bail "namespaces, bridges and veths set up"
}
ok "namespaces $cl_ns, $nats_ns, ${ns[a]}, ${ns[b]}, ${ns[c]} with their bridges and veths set up"

# --- the NATS servers ---------------------------------------------------------------

# start_nats K: server n(K+1) on nats4[K], routes to the two others, its
# store in $tmp; appends to its log.
start_nats() {
	local k=$1 j routes=""
	for j in 0 1 2; do
		[ "$j" = "$k" ] || routes+="${routes:+,}nats://${nats4[$j]}:6222"
	done
	mkdir -p "$tmp/nats$k"
	# Not through in_nats: ip netns exec must be the command put in the
	# background, so that $! is (after its exec) the server's own PID.
	ip netns exec "$nats_ns" nats-server -a "${nats4[$k]}" -p 4222 -m 8222 --server_name "n$((k + 1))" \
		--cluster_name dpt -cluster "nats://${nats4[$k]}:6222" -routes "$routes" \
		-js -sd "$tmp/nats$k" >>"$tmp/nats$((k + 1)).log" 2>&1 &
	npid[k]=$!
}

# jsz K [QUERY]: server K's /jsz, from CL.
jsz() {
	in_cl curl -s --max-time 3 "http://${nats4[$1]}:8222/jsz${2:-}" 2>/dev/null
}

# meta_leader K: the JetStream meta leader server K knows, or nothing.
meta_leader() {
	jsz "$1" | "$python" -c 'import json, sys
print(json.load(sys.stdin).get("meta_cluster", {}).get("leader", ""))' 2>/dev/null
}

# stream_leader: the index (0-2) of the server leading stream dptrack,
# asked of every running server in turn; nothing if none knows.
stream_leader() {
	local k l
	for k in 0 1 2; do
		[ -n "${npid[$k]:-}" ] || continue
		l=$(jsz "$k" '?accounts=true&streams=true' | "$python" -c 'import json, sys
d = json.load(sys.stdin)
for acc in d.get("account_details", []):
    for s in acc.get("stream_detail", []):
        if s.get("name") == "dptrack":
            print(s.get("cluster", {}).get("leader", ""))' 2>/dev/null)
		if [[ $l =~ ^n[123]$ ]]; then
			echo $((${l#n} - 1))
			return
		fi
	done
}

healthz() {
	[ "$(in_cl curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
		"http://${nats4[$1]}:8222/healthz" 2>/dev/null)" = 200 ]
}

for k in 0 1 2; do start_nats "$k"; done
t0=$(date +%s%N)
for ((t = 0; t < 150; t++)); do
	l1=$(meta_leader 0) l2=$(meta_leader 1) l3=$(meta_leader 2)
	[ -n "$l1" ] && [ "$l1" = "$l2" ] && [ "$l2" = "$l3" ] && break
	sleep 0.2
done
ms=$(ms_since "$t0")
echo "# JetStream meta leader ${l1:-none} elected after $ms ms"
if [ -z "$l1" ] || [ "$l1" != "$l2" ] || [ "$l2" != "$l3" ]; then
	bail "three nats-server processes agree on a JetStream meta leader within 30 s"
fi
ok "three nats-server processes (JetStream, routes) agree on meta leader $l1"

# --- the dptrack instances ------------------------------------------------------------

# write_yaml X: instance X's config; B's has a snapshot path.
write_yaml() {
	local x=$1 snapline=""
	[ "$x" = b ] && snapline="  snapshot: { path: \"$snap\", interval: 0 }"
	cat >"$tmp/$x.yaml" <<EOF
log: { level: info }
tracker:
  announce_interval: 900
  announce_jitter: 0
  min_interval: 300
  max_swarms: 10000
  memory_mb: 64
$snapline
udp: { ports: [$port] }
dpdk:
  eal_args: ["--no-huge", "-m", "512", "--no-pci", "--no-shconf", "-l", "${lcore[$x]}",
             "--file-prefix", "$prefix-$x", "--vdev", "net_af_packet0,iface=u$x$$"]
  ports: [ { device: net_af_packet0, ipv4: ${udp4[$x]}/24, ipv6: "${udp6[$x]}/64" } ]
  idle_sleep_us: 1000
http:
  enabled: true
  listen: ["0.0.0.0:$port", "[::]:$port"]
  threads: 1
stats: { allow: ["$stats_src/32", "fd00:e::1/128"] }
cluster:
  enabled: true
  servers: ["nats://${nats4[0]}:4222", "nats://${nats4[1]}:4222", "nats://${nats4[2]}:4222"]
  instance: $x
  replicas: 3
  flush_ms: 10
EOF
}

mkdir -p "$tmp/b-snap"
for x in "${names[@]}"; do
	write_yaml "$x"
	if ! "$dptrack" -c "$tmp/$x.yaml" --check-config >"$tmp/check.out" 2>&1; then
		sed 's/^/# /' "$tmp/check.out"
		bail "dptrack --check-config accepts the config of $x"
	fi
done

# start_dpt X: starts instance X (ip netns exec execs: $! is dptrack's PID);
# each run logs to a file of its own, out[X].
start_dpt() {
	local x=$1
	runs[$x]=$((${runs[$x]} + 1))
	out[$x]=$tmp/dpt-$x-run${runs[$x]}.out
	ip netns exec "${ns[$x]}" "$dptrack" -c "$tmp/$x.yaml" >"${out[$x]}" 2>&1 &
	dpid[$x]=$!
}

# dpt_stat X NAME: X's /stats figure NAME, -1 if it cannot be read.
dpt_stat() {
	in_cl curl -s --max-time 3 --interface "$stats_src" "http://${http4[$1]}:$port/stats" \
		2>/dev/null | "$python" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' \
		"$2" 2>/dev/null || echo -1
}

# ready X: X answers ping on its DPDK port and /stats says it is connected,
# has the cluster's key and has caught up.
ready() {
	quiet in_cl ping -c 1 -W 1 -q "${udp4[$1]}" &&
		[ "$(dpt_stat "$1" cluster_connected)" = 1 ] &&
		[ "$(dpt_stat "$1" cluster_key_shared)" = 1 ] &&
		[ "$(dpt_stat "$1" cluster_catching_up)" = 0 ]
}

# wait_ready DESC X...: ready for every X within 30 s; bails otherwise.
wait_ready() {
	local desc=$1 x t all t0
	shift
	t0=$(date +%s%N)
	for ((t = 0; t < 150; t++)); do
		all=1
		for x in "$@"; do
			if [ -z "${dpid[$x]}" ] || ! kill -0 "${dpid[$x]}" 2>/dev/null; then
				echo "# $x exited before it was ready"
				bail "$desc"
			fi
			ready "$x" || { all=0 && break; }
		done
		[ "$all" = 1 ] && break
		sleep 0.2
	done
	echo "# ready after $(ms_since "$t0") ms"
	[ "$all" = 1 ] || bail "$desc"
	ok "$desc"
}

for x in "${names[@]}"; do start_dpt "$x"; done
wait_ready "A, B and C, started together, answer ping, are connected to NATS, share the key and have caught up within 30 s" a b c

cc_args=(--port "$port"
	--udp4 "${udp4[a]},${udp4[b]},${udp4[c]}" --udp6 "${udp6[a]},${udp6[b]},${udp6[c]}"
	--http4 "${http4[a]},${http4[b]},${http4[c]}" --http6 "${http6[a]},${http6[b]},${http6[c]}"
	--obs4 198.18.0.2 --obs6 fd00:c::2 --hobs4 198.18.1.2 --hobs6 fd00:e::2
	--src4 198.18.0.50 --src6 fd00:c::50 --hsrc4 198.18.1.50 --hsrc6 fd00:e::50
	--stats-src "$stats_src" --rate-src 198.18.0.3)
# cc SECONDS PHASE ARGS...: a phase of cluster_checks.py in CL for at most
# SECONDS, echoing its output; its "ok - " and "not ok - " lines count as
# checks of this script. A nonzero exit without a failed check, or no
# check at all, is one more failure. (lib.sh's live_checks also fails a
# program none of whose checks passed, which would count a phase with one
# failed check twice.)
cc() {
	local s=$1 rc n_ok n_bad
	shift
	in_cl timeout --foreground "$s" "$python" "$here/cluster_checks.py" "$@" "${cc_args[@]}" 2>&1 |
		tee "$tmp/checks.out"
	rc=${PIPESTATUS[0]}
	n_ok=$(grep -c '^ok - ' "$tmp/checks.out")
	n_bad=$(grep -c '^not ok - ' "$tmp/checks.out")
	pass=$((pass + n_ok))
	fails=$((fails + n_bad))
	if [ "$rc" -ne 0 ] && [ "$n_bad" -eq 0 ]; then
		not_ok "cluster_checks.py $1 ran to the end (status $rc)"
	elif [ $((n_ok + n_bad)) -eq 0 ]; then
		not_ok "cluster_checks.py $1 ran its checks"
	fi
}

# --- 1-4: propagation, stop, completion, connection IDs ---------------------------------
echo "# --- 1-4: propagation, stopped, completed, shared connection IDs"
cc 120 basic "$tmp/basic.json"

# stream_order WHAT: the stream holds each batch once; the batches it holds
# out of their origin's order, or twice, as comments (cluster_checks.py).
stream_order() {
	cc 60 stream-order --nats "${nats4[0]}:4222,${nats4[1]}:4222,${nats4[2]}:4222" --what "$1"
}

# 4b: two batches of one origin stored out of their order, as 5a and 5b
# store some.
echo "# --- 4b: batches of one origin stored out of order"
cc 60 reorder --nats "${nats4[0]}:4222,${nats4[1]}:4222,${nats4[2]}:4222"

# --- 5a: kill -9 of the stream leader -----------------------------------------------------
echo "# --- 5a: kill -9 of the stream's leader"
leader=$(stream_leader)
if [ -z "$leader" ]; then
	not_ok "the leader of stream dptrack is known (/jsz?accounts=true&streams=true)"
else
	echo "# stream dptrack is led by n$((leader + 1)) (PID ${npid[$leader]})"
	acks0=$(dpt_stat a cluster_acks_failed) retries0=$(dpt_stat a cluster_publish_retries)
	kill -KILL "${npid[$leader]}"
	wait "${npid[$leader]}" 2>/dev/null
	npid[leader]=
	cc 60 announce "$tmp/kill.json" --to a --count 200 --swarms 10 --tag kill \
		--port-base 10000 --what "announced to A while the stream leader is down"
	cc 60 expect "$tmp/kill.json" --at b,c --within 30 --seen-out "$tmp/kill.seen.json" \
		--what "announced to A while the stream leader was down"
	echo "# A: cluster_acks_failed $acks0 -> $(dpt_stat a cluster_acks_failed)," \
		"cluster_publish_retries $retries0 -> $(dpt_stat a cluster_publish_retries)"
	stream_order "after the stream leader was killed"
	new=$(stream_leader)
	echo "# stream dptrack now led by n$((${new:--1} + 1))"
	start_nats "$leader"
	t0=$(date +%s%N)
	for ((t = 0; t < 150; t++)); do
		healthz "$leader" && break
		sleep 0.2
	done
	ms=$(ms_since "$t0")
	echo "# n$((leader + 1)) restarted; /healthz 200 after $ms ms"
	check "the killed server n$((leader + 1)), restarted, is healthy (/healthz) within 30 s" \
		healthz "$leader"
fi

# --- 5b: SIGSTOP of every NATS server ---------------------------------------------------
echo "# --- 5b: SIGSTOP of all three NATS servers"
cc 60 rate --at a --tag before --port-base 20000 --out "$tmp/rate_before.json" \
	--what "before the NATS servers are stopped"
cc 30 stats-save "$tmp/a_stop.json" --at a --what "before the stop"
t_stop=$(date +%s%N)
for k in 0 1 2; do kill -STOP "${npid[$k]}"; done
stopped_at=$SECONDS
cc 60 rate --at a --tag during --port-base 30000 --seconds 4 --baseline "$tmp/rate_before.json" \
	--what "while all three NATS servers are stopped"
cc 60 announce "$tmp/stop.json" --to a --count 100 --swarms 5 --tag stop --port-base 40000 \
	--what "announced to A while every NATS server is stopped"
# Long enough for the client to notice (pings every second, two missed)
# and for acknowledgements to time out (5 s).
while ((SECONDS - stopped_at < 8)); do sleep 0.2; done
conn=$(dpt_stat a cluster_connected)
echo "# A while stopped $(ms_since "$t_stop") ms: cluster_connected $conn," \
	"disconnects $(dpt_stat a cluster_disconnects), acks_failed $(dpt_stat a cluster_acks_failed)," \
	"drop_ring_full $(dpt_stat a cluster_drop_ring_full)," \
	"drop_buffer_full $(dpt_stat a cluster_drop_buffer_full)"
check "A says it is disconnected while every NATS server is stopped (cluster_connected $conn)" \
	[ "$conn" = 0 ]
for k in 0 1 2; do kill -CONT "${npid[$k]}"; done
echo "# SIGCONT after $(ms_since "$t_stop") ms stopped"
cc 60 announce "$tmp/after.json" --to a --count 1 --swarms 1 --families 4 --tag after \
	--port-base 41000 --what "announced to A right after SIGCONT"
cc 60 expect "$tmp/after.json" --at b --within 30 --what "announced to A right after SIGCONT"
cc 60 wait-stat --at a --key cluster_connected --value 1 --within 30 --what "after SIGCONT"
cc 60 expect "$tmp/stop.json" --at b,c --within 30 --lost-from a --stats-before "$tmp/a_stop.json" \
	--seen-out "$tmp/stop.seen.json" --what "announced to A while every NATS server was stopped"
cc 60 same-scrape --tag during --ref a --at b,c --within 30 --stats-before "$tmp/a_stop.json" \
	--what "while every NATS server was stopped"
stream_order "after every server was stopped"

# --- 5c: B restarted, with its snapshot and without -----------------------------------
echo "# --- 5c: B restarted with its snapshot, then without"
# B's neighbour entries in CL are fixed, so the time to B's first answer is
# dptrack's and not the kernel's ARP/NDP retry schedule (udp.sh tests
# dptrack's ARP and NDP).
mac_b=$(in_ns b cat "/sys/class/net/ub$$/address")
in_cl ip neigh replace "${udp4[b]}" lladdr "$mac_b" dev "$bu" nud permanent
in_cl ip -6 neigh replace "${udp6[b]}" lladdr "$mac_b" dev "$bu" nud permanent

# restart_b TAG WHAT: B down, TAG's peers announced to A and C meanwhile, B
# started again; it answers at once and gets them back.
restart_b() {
	local tag=$1 what=$2 rc t0
	stop_dpt b
	rc=$?
	check "B exits 0 on SIGTERM (status $rc)" [ "$rc" = 0 ]
	check "B's exit saved its snapshot" grep -q "snapshot (exit) saved to $snap" "${out[b]}"
	[ "$tag" = nosnap ] && rm -f "$snap"
	cc 60 announce "$tmp/$tag.json" --to a,c --count 100 --swarms 5 --tag "$tag" \
		--port-base 42000 --what "announced to A and C while B is down"
	t0=$(date +%s%N)
	start_dpt b
	cc 30 first-answer --at b --since-ns "$t0" --max 2 --within 20 --what "$what"
	cc 60 wait-stat --at b --key cluster_catching_up --value 0 --within 30 --since-ns "$t0" \
		--what "$what"
	cc 60 expect "$tmp/$tag.json" --at b --within 30 --seen-out "$tmp/$tag.seen.json" \
		--what "announced to A and C while B was down"
}

restart_b snap "restarted with its snapshot"
check "B loaded its snapshot" grep -q "snapshot $snap loaded" "${out[b]}"
seq=$(sed -n 's/.*snapshot .* holds stream dptrack up to sequence \([0-9]*\).*/\1/p' "${out[b]}")
echo "# B's snapshot holds the stream up to sequence ${seq:-?}; B: $(grep -m1 'consuming' "${out[b]}")"
check "B resumes the stream after its snapshot's sequence ${seq:-?}" \
	grep -q "consuming dptrack.peers.> from sequence $((${seq:-0} + 1));" "${out[b]}"
cc 60 verify "$tmp/basic.json" --at b

restart_b nosnap "restarted without a snapshot"
check "B started without a snapshot" grep -q "no snapshot at $snap" "${out[b]}"
echo "# B: $(grep -m1 'consuming' "${out[b]}")"
# What B had learned in the earlier steps is back, replayed from the stream
# (what it never had was a failure of its step already).
for tag in kill stop snap; do
	[ -f "$tmp/$tag.seen.json" ] || continue # its step failed before
	cc 60 expect "$tmp/$tag.seen.json" --at b --within 30 \
		--what "B had learned in step $tag, replayed from the stream"
done
cc 60 verify "$tmp/basic.json" --at b
in_cl ip neigh del "${udp4[b]}" dev "$bu"
in_cl ip -6 neigh del "${udp6[b]}" dev "$bu"

# lists X "ADDR PORT": X's HTTP reply for the libtorrent swarm lists that
# peer. Asked up to 5 times, 1 s apart: one request on a loaded host may
# time out (3 s); the last answer is shown if none lists it.
lists() {
	local i out
	for ((i = 0; i < 5; i++)); do
		out=$(in_cl "$python" "$lt" peers "${http4[$1]}" "$port" "$ih_a" 198.18.1.2 2>&1)
		grep -qx "$2" <<<"$out" && return 0
		sleep 1
	done
	echo "# $(tr a-c A-C <<<"$1")'s last answer: $(tr '\n' ' ' <<<"$out" | cut -c1-300)"
	return 1
}

# --- 6: libtorrent through A and B ------------------------------------------------------
echo "# --- 6: a libtorrent seeder on A, a downloader on B"
lt_dir=$tmp/lt
mkdir -p "$lt_dir/seed" "$lt_dir/get"
head -c $((4 << 20)) /dev/urandom >"$lt_dir/seed/data.bin"
want=$(sha256sum <"$lt_dir/seed/data.bin")
ih_a=$("$python" "$lt" make "$lt_dir/seed/data.bin" "$lt_dir/a.torrent" \
	"http://${http4[a]}:$port/announce" 2>"$lt_dir/make.err")
ih_b=$("$python" "$lt" make "$lt_dir/seed/data.bin" "$lt_dir/b.torrent" \
	"udp://${udp4[b]}:$port/announce" 2>>"$lt_dir/make.err")
if [ -z "$ih_a" ] || [ "$ih_a" != "$ih_b" ]; then
	sed 's/^/# /' "$lt_dir/make.err"
	not_ok "one torrent, two tracker URLs: the same info hash ($ih_a, $ih_b)"
else
	ok "the seeder's torrent names only A (HTTP), the downloader's only B (UDP): info hash $ih_a"
	ip netns exec "$cl_ns" "$python" "$lt" run --listen 198.18.1.30:6881 \
		--torrent "$lt_dir/a.torrent" --dir "$lt_dir/seed" --seed >"$lt_dir/seeder.log" 2>&1 </dev/null &
	lt_pid[seed]=$!
	t0=$(date +%s%N)
	counted=0
	for ((t = 0; t < 120; t++)); do
		got=$(in_cl "$python" "$lt" scrape "${http4[b]}" "$port" "$ih_a" 2>/dev/null)
		[ "${got%% *}" -ge 1 ] 2>/dev/null && { counted=1 && break; }
		kill -0 "${lt_pid[seed]}" 2>/dev/null || break
		sleep 0.25
	done
	echo "# B counted the seeder (which announced to A only) after" \
		"$(ms_since "$t0") ms (scrape: ${got:-none})"
	if [ "$counted" = 1 ]; then
		ok "B counts the seeder that announced to A only"
		ip netns exec "$cl_ns" "$python" "$lt" run --listen 198.18.0.31:6882 \
			--torrent "$lt_dir/b.torrent" --dir "$lt_dir/get" >"$lt_dir/downloader.log" 2>&1 </dev/null &
		lt_pid[get]=$!
		t0=$(date +%s%N)
		done_ok=0
		for ((t = 0; t < 240; t++)); do
			if [ -f "$lt_dir/get/data.bin" ] && [ "$(sha256sum <"$lt_dir/get/data.bin")" = "$want" ]; then
				done_ok=1
				break
			fi
			kill -0 "${lt_pid[get]}" 2>/dev/null || break
			sleep 0.25
		done
		ms=$(ms_since "$t0")
		echo "# transfer: $((4 << 20)) bytes, SHA-256 equal: $done_ok, after $ms ms"
		if [ "$done_ok" = 1 ]; then
			ok "libtorrent (198.18.0.31, announcing to B over UDP) downloads the file from libtorrent (198.18.1.30, announcing to A over HTTP): SHA-256 matches after $ms ms"
			# Each announced to one instance; the other lists it too.
			check "A lists the downloader 198.18.0.31:6882, which announced to B only" \
				lists a "198.18.0.31 6882"
			check "B lists the seeder 198.18.1.30:6881, which announced to A only" \
				lists b "198.18.1.30 6881"
		else
			not_ok "libtorrent downloads the file from a seeder known only to A, through B, within 60 s"
			for f in seeder downloader; do
				echo "# --- $f.log (tracker and peer lines, last 40 lines)"
				grep -Ei 'tracker|announc|connect|peer|error' "$lt_dir/$f.log" | head -n 30 |
					cut -c1-300 | sed 's/^/#   /'
				tail -n 40 "$lt_dir/$f.log" | cut -c1-300 | sed 's/^/#   /'
			done
		fi
	else
		not_ok "B counts the seeder that announced to A only, within 30 s"
		tail -n 40 "$lt_dir/seeder.log" | cut -c1-300 | sed 's/^/#   /'
	fi
	for r in seed get; do
		[ -n "${lt_pid[$r]:-}" ] && stop_pid "${lt_pid[$r]}" 5 >/dev/null
		unset "lt_pid[$r]"
	done
	rm -f "$lt_dir/seed/data.bin" "$lt_dir/get/data.bin"
fi

# --- 7: one stream applied everywhere; SIGTERM, exit status, counters ------------------
echo "# --- 7: the same stream sequence applied everywhere, then SIGTERM to every instance"
cc 60 settle --within 20
# counter X NAME: instance X's last run's exit line "counter NAME VALUE", -1 if none.
counter() {
	awk -v n="$2" '$1 == "counter" && $2 == n { print $3; f = 1 } END { if (!f) print -1 }' \
		"${out[$1]}"
}
for x in "${names[@]}"; do
	stop_dpt "$x"
	rc=$?
	check "$(tr a-c A-C <<<"$x") exits 0 on SIGTERM (status $rc)" [ "$rc" = 0 ]
done
for x in "${names[@]}"; do
	X=$(tr a-c A-C <<<"$x")
	echo "# $X: $(awk '$1 == "counter" && $2 ~ /^cluster_/ && $3 != 0 { printf "%s %s, ", $2, $3 }' \
		"${out[$x]}")"
	v=$(counter "$x" mbufs_leaked)
	check "$X: every mbuf of net_af_packet was back in its pool at exit (leaked: $v)" [ "$v" = 0 ]
	v=$(counter "$x" cluster_drop_bad_batch)
	check "$X: no batch from the stream was refused as bad (cluster_drop_bad_batch $v)" [ "$v" = 0 ]
	v=$(counter "$x" cluster_records_applied)
	check "$X: applied other instances' records (cluster_records_applied $v)" [ "$v" -gt 0 ]
done
finish
