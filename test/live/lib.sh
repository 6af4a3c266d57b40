# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test/live/lib.sh - what the live tests (udp.sh, http.sh) share: two network
# namespaces joined by the veth dptrack's DPDK port sits on, dptrack started
# in the tracker namespace and stopped by its PID, a helper program's
# "ok"/"not ok" lines folded into the count, and dptrack's exit counters.
# The script sets dptrack (the binary's path) and sources this; then it
# calls, in order:
#
#   live_require TOOL...        root (else exit 77) and the tools (else exit 1)
#   live_init NAME              names, $tmp, traps; NAME goes into the DPDK prefix
#   live_setup DESC A4 A6 [FN]  namespaces and link A, then FN; ok DESC or bail
#     (or live_setup_shared DESC T4 T6 C4 C6: link A shared with the kernel)
#   (write $tmp/dptrack.yaml)
#   live_check_config
#   live_start DESC TRIES PROBE...   start dptrack, wait until PROBE succeeds
#   live_checks SECONDS SCRIPT ARGS...   run a checks program in the client
#   live_stop                   SIGTERM; checks that dptrack exits 0
#   live_check_counters NAME... checks exit counters > 0 and no leaked mbuf
#   finish                      summary; exits 1 if anything failed
#
# Counting and "ok"/"not ok" lines are test/cli/tap.sh's (check, ok, not_ok).
# Names this sets and the scripts use: tr_ns cl_ns tr_if cl_if (link A, the
# DPDK side), prefix (DPDK file prefix), tmp (removed at exit), pid
# (dptrack's, empty when it is not running), python.

# shellcheck disable=SC2317 # functions run from traps or through check()

# shellcheck source-path=SCRIPTDIR source=../cli/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../cli/tap.sh"

python=/usr/bin/python3 # Debian's; the one on PATH may be another build

quiet() { "$@" >/dev/null 2>&1; }
in_tr() { ip netns exec "$tr_ns" "$@"; }
in_cl() { ip netns exec "$cl_ns" "$@"; }

# live_missing WHAT: a missing prerequisite fails rather than skips
# (scripts/test.sh installs them all, so a skip would only hide a broken
# install). Prints the one failed check and exits 1.
live_missing() {
	echo "not ok - $1 is installed (scripts/lib.sh installs it)"
	echo "0 passed, 1 failed"
	exit 1
}

# live_require TOOL...: exits 77 (skip) unless root; calls live_missing for
# the first TOOL (command name or path) not found. Returns only if all are.
live_require() {
	local tool
	if [ "$(id -u)" != 0 ]; then
		echo "skipped: the live test needs root (network namespaces)"
		exit 77
	fi
	for tool in "$@"; do
		command -v "$tool" >/dev/null || live_missing "$tool"
	done
}

# live_plan: the address plan of the tests whose tracker has two links: A,
# its DPDK port (BEP 15 at udp4 and udp6), and B, the kernel's veth for the
# HTTP path (http4 and http6, interfaces trh_if and clh_if; live_link_b);
# port is the tracker's UDP and HTTP port.
# shellcheck disable=SC2034 # read by the tests that call it
live_plan() {
	trh_if=ht$$
	clh_if=hc$$
	udp4=198.18.0.2
	udp6=fd00:d::2
	http4=198.18.1.2
	http6=fd00:e::2
	port=6969
}

# live_init NAME: sets the names unique to this run (two runs never share a
# namespace, interface or DPDK file prefix; interface names stay under 16
# bytes as PIDs < 2^22): tr_ns, cl_ns, tr_if, cl_if, prefix=dpt-NAME-PID.
# Makes $tmp, installs the EXIT/INT/TERM traps that run live_cleanup, and
# removes namespaces left by runs killed outright (SIGKILL: no trap) whose
# shell is gone.
live_init() {
	local ns
	tr_ns=dpt-tr-$$
	cl_ns=dpt-cl-$$
	tr_if=vt$$
	cl_if=vc$$
	prefix=dpt-$1-$$
	tmp=$(mktemp -d)
	pid=
	trap live_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	for ns in $(ip netns list | awk '$1 ~ /^dpt-(tr|cl)-[0-9]+$/ { print $1 }'); do
		kill -0 "${ns##*-}" 2>/dev/null || ip netns del "$ns" 2>/dev/null
	done
}

# Stops dptrack (if still running) by its PID: SIGTERM, then SIGKILL after
# 10 s. Returns its exit status, or 255 if it had to be killed. Clears pid.
stop_dptrack() {
	local i rc
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
	rc=$?
	pid=
	return $rc
}

# The EXIT trap: stops dptrack, deletes both namespaces (and with them every
# veth in them), $tmp and the DPDK runtime directory.
live_cleanup() {
	stop_dptrack >/dev/null 2>&1
	ip netns del "$tr_ns" 2>/dev/null
	ip netns del "$cl_ns" 2>/dev/null
	rm -rf "$tmp" "/var/run/dpdk/$prefix"
}

# Prints the summary (and, after a failure, dptrack's output, stopping it
# first so its counters are there) and exits 1 if anything failed.
finish() {
	if [ "$fails" -gt 0 ]; then
		stop_dptrack >/dev/null 2>&1
		echo "# dptrack output:"
		sed 's/^/#   /' "$tmp/dptrack.out" 2>/dev/null
	fi
	tap_end
	exit $?
}

# Fatal setup failure: counts as a failure, shows why, stops here.
bail() {
	not_ok "$1"
	finish
}

# live_link_a A4 A6: creates both namespaces and link A, the veth pair
# tr_if/cl_if. The tracker end belongs to dptrack: up, no kernel address and
# no IPv6, so the kernel sends no NDP or router solicitations from it. The
# client end gets the comma-separated IPv4 (/24) and IPv6 (/64) addresses
# A4 and A6, and lo comes up in the client. Returns nonzero at the first
# failing command (its message on stderr).
live_link_a() {
	local a
	ip netns add "$tr_ns" &&
		ip netns add "$cl_ns" &&
		ip link add "$tr_if" netns "$tr_ns" type veth peer name "$cl_if" netns "$cl_ns" &&
		in_tr sysctl -qw "net.ipv6.conf.$tr_if.disable_ipv6=1" &&
		in_tr ip link set "$tr_if" up &&
		in_cl ip link set lo up || return 1
	for a in ${1//,/ }; do in_cl ip addr add "$a/24" dev "$cl_if" || return 1; done
	for a in ${2//,/ }; do in_cl ip -6 addr add "$a/64" dev "$cl_if" nodad || return 1; done
	# A veth leaves UDP checksums to "hardware" that never fills them.
	in_cl ethtool -K "$cl_if" tx off >/dev/null &&
		in_cl ip link set "$cl_if" up
}

# live_link_shared T4 T6 C4 C6: both namespaces and link A as an operator
# with one NIC has it: the tracker end keeps the kernel's addresses T4/24
# and T6/64 (dptrack shares it through net_af_xdp, with its XDP program),
# its loopback up; the client end gets the comma-separated C4 and C6, and
# TX checksums off as in live_link_a. Returns nonzero at the first failing
# command.
live_link_shared() {
	local a
	ip netns add "$tr_ns" &&
		ip netns add "$cl_ns" &&
		ip link add "$tr_if" netns "$tr_ns" type veth peer name "$cl_if" netns "$cl_ns" &&
		in_tr ip link set lo up &&
		in_tr ip addr add "$1/24" dev "$tr_if" &&
		in_tr ip -6 addr add "$2/64" dev "$tr_if" nodad &&
		in_tr ip link set "$tr_if" up &&
		in_cl ip link set lo up || return 1
	for a in ${3//,/ }; do in_cl ip addr add "$a/24" dev "$cl_if" || return 1; done
	for a in ${4//,/ }; do in_cl ip -6 addr add "$a/64" dev "$cl_if" nodad || return 1; done
	in_cl ethtool -K "$cl_if" tx off >/dev/null &&
		in_cl ip link set "$cl_if" up
}

# live_setup_shared DESC T4 T6 C4 C6: live_link_shared, reported as
# live_setup reports.
live_setup_shared() {
	local desc=$1
	shift
	live_link_shared "$@" 2>"$tmp/setup.err" || {
		sed 's/^/# /' "$tmp/setup.err"
		bail "$desc"
	}
	ok "$desc"
}

# live_link_b B4 B6: link B, the kernel's at both ends, for the HTTP path:
# veth trh_if (in TR, with http4/24 and http6/64) to clh_if (in CL, with the
# comma-separated addresses B4 and B6), and TR's loopback up. The caller sets
# trh_if, clh_if, http4 and http6; it is meant as live_setup's FN.
live_link_b() {
	local a
	in_tr ip link set lo up &&
		ip link add "$trh_if" netns "$tr_ns" type veth peer name "$clh_if" netns "$cl_ns" &&
		in_tr ip addr add "$http4/24" dev "$trh_if" &&
		in_tr ip -6 addr add "$http6/64" dev "$trh_if" nodad &&
		in_tr ip link set "$trh_if" up || return 1
	for a in ${1//,/ }; do in_cl ip addr add "$a/24" dev "$clh_if" || return 1; done
	for a in ${2//,/ }; do in_cl ip -6 addr add "$a/64" dev "$clh_if" nodad || return 1; done
	in_cl ip link set "$clh_if" up
}

# live_setup DESC A4 A6 [FN]: live_link_a A4 A6, then the script's own
# setup function FN if given; reports ok DESC, or shows the failing
# command's message and bails with DESC.
live_setup() {
	local desc=$1 fn=${4:-true}
	{ live_link_a "$2" "$3" && "$fn"; } 2>"$tmp/setup.err" || {
		sed 's/^/# /' "$tmp/setup.err"
		bail "$desc"
	}
	ok "$desc"
}

# live_answers_both: 0 once dptrack answers ping at $udp4 (link A, the
# DPDK port) and GET /heartbeat at $http4:$port (link B, the kernel's
# TCP); a live_start probe for the scripts that run both paths.
live_answers_both() {
	in_cl ping -c 1 -W 1 -q "$udp4" >/dev/null 2>&1 &&
		[ "$(in_cl curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
			"http://$http4:$port/heartbeat" 2>/dev/null)" = 200 ]
}

# live_dpdk_yaml A4 A6: the dptrack.yaml dpdk section most live tests use:
# one lcore, no hugepages, the file prefix of this run, net_af_packet on
# tr_if with the addresses A4/24 and A6/64. For a heredoc: $(live_dpdk_yaml ...).
live_dpdk_yaml() {
	cat <<EOF
dpdk:
  eal_args: ["--no-huge", "-m", "512", "--no-pci", "--no-shconf", "-l", "0",
             "--file-prefix", "$prefix", "--vdev", "net_af_packet0,iface=$tr_if"]
  ports: [ { device: net_af_packet0, ipv4: $1/24, ipv6: "$2/64" } ]
EOF
}

# live_with_bpffs: live_start then runs dptrack with the BPF filesystem at
# /sys/fs/bpf, as net_af_xdp's libxdp expects it. `ip netns exec` mounts a
# sysfs of the namespace's own over /sys, without it, in a mount namespace
# of the command's own: bpffs is mounted there when missing, so it goes
# with dptrack and the host's mounts stay as they were.
live_with_bpffs() {
	# shellcheck disable=SC2016 # the inner shell expands "$@"
	live_wrap=(sh -c 'mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || exit 1
		exec "$@"' sh)
}

# Bails unless dptrack --check-config accepts $tmp/dptrack.yaml.
# shellcheck disable=SC2154 # dptrack: set by the script
live_check_config() {
	if ! "$dptrack" -c "$tmp/dptrack.yaml" --check-config >"$tmp/check.out" 2>&1; then
		sed 's/^/# /' "$tmp/check.out"
		bail "dptrack --check-config accepts the test config"
	fi
}

# live_start DESC TRIES PROBE...: starts $dptrack on $tmp/dptrack.yaml in the
# tracker namespace (output to $tmp/dptrack.out, PID in pid) and runs PROBE
# up to TRIES times, 0.2 s apart, within 20 s, until it succeeds. Reports ok
# DESC, or bails with it when the time is up or dptrack exited first.
# dptrack runs under the command prefix live_wrap (an array; empty unless
# the script sets it, as live_with_bpffs does), which must exec it.
live_wrap=()
live_start() {
	local desc=$1 tries=$2 i ready=0 deadline=$((SECONDS + 20))
	shift 2
	# ip netns exec execs the command (and live_wrap execs dptrack), so $!
	# is dptrack's own PID.
	ip netns exec "$tr_ns" "${live_wrap[@]}" "$dptrack" -c "$tmp/dptrack.yaml" \
		>"$tmp/dptrack.out" 2>&1 &
	pid=$!
	for ((i = 0; i < tries && SECONDS < deadline; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			echo "# dptrack exited with status $? before answering"
			pid=
			break
		fi
		if "$@"; then
			ready=1
			break
		fi
		sleep 0.2
	done
	[ "$ready" = 1 ] || bail "$desc"
	ok "$desc"
}

# live_checks SECONDS SCRIPT ARGS...: runs $python SCRIPT ARGS in the client
# namespace for at most SECONDS, echoing its output, and counts its "ok - "
# and "not ok - " lines as checks of this script. A nonzero exit without a
# failed check, or no passed check at all, is one more failure.
live_checks() {
	local seconds=$1 script=$2 rc n_ok n_bad
	shift 2
	in_cl timeout --foreground "$seconds" "$python" "$script" "$@" 2>&1 |
		tee "$tmp/checks.out"
	rc=${PIPESTATUS[0]}
	n_ok=$(grep -c '^ok - ' "$tmp/checks.out")
	n_bad=$(grep -c '^not ok - ' "$tmp/checks.out")
	pass=$((pass + n_ok))
	fails=$((fails + n_bad))
	if [ "$rc" -ne 0 ] && [ "$n_bad" -eq 0 ]; then
		not_ok "${script##*/} ran to the end (status $rc)"
	fi
	[ "$n_ok" -gt 0 ] || not_ok "${script##*/} ran its checks"
}

# Stops dptrack with SIGTERM and checks that it exits 0 (or fails if it had
# already gone).
live_stop() {
	local rc
	if [ -n "$pid" ]; then
		stop_dptrack
		rc=$?
		check "dptrack exits 0 on SIGTERM (status $rc)" [ "$rc" = 0 ]
	else
		not_ok "dptrack still running at the end"
	fi
}

# counter NAME: prints the value of dptrack's "counter NAME VALUE" exit line
# in $tmp/dptrack.out, -1 if there is none.
counter() {
	awk -v n="$1" '$1 == "counter" && $2 == n { print $3; f = 1 } END { if (!f) print -1 }' \
		"$tmp/dptrack.out"
}

# live_check_counters NAME...: after live_stop, checks each exit counter
# NAME is > 0, then that no mbuf leaked.
live_check_counters() {
	local name v
	for name in "$@"; do
		v=$(counter "$name")
		check "dptrack counted $name > 0 (got $v)" [ "$v" -gt 0 ]
	done
	v=$(counter mbufs_leaked)
	check "every mbuf was back in its pool at exit (leaked: $v)" [ "$v" = 0 ]
}
