#!/usr/bin/env bash
# Installs what is missing, builds, reserves hugepages and runs dptrack in the
# foreground on its built-in default configuration (config/dptrack.yaml,
# compiled in), or on what the arguments say.
#
# The default port is a net_tap device: dptrack creates the kernel interface
# dtap0, and once it exists this script gives the kernel side 198.18.0.1/24
# and fd00:d::1/64, so udp://198.18.0.2:6969/announce answers from this
# machine (any net_tap port of the effective config gets the same treatment:
# the first other address of each of its subnets). Ctrl-C stops dptrack
# cleanly; the hugepages and the hugetlbfs mount this script added are given
# back when it exits.
#
# Usage: sudo ./scripts/run.sh [dptrack args...]
#   e.g. run.sh -c my.yaml     run.sh -- --log-level=debug
# DPTRACK_HUGEPAGES_MB (default 1024): hugepage memory to have free. With the
# default config dptrack uses about 520 MB at start (peer table 468 MB at
# max_swarms 4M, mbufs, EAL); the rest is room for swarms to grow. When the
# kernel cannot find that much, dptrack runs with --no-huge -m that many MB.
set -euo pipefail
DPTRACK_SCRIPT=$(realpath "$0")
cd "$(dirname "$DPTRACK_SCRIPT")/.."
. scripts/lib.sh
huge_mb=${DPTRACK_HUGEPAGES_MB:-1024}
[[ $huge_mb =~ ^[1-9][0-9]{0,6}$ ]] || die "DPTRACK_HUGEPAGES_MB must be a number of MB, not '$huge_mb'"
need_root "$@"
install_deps
build_dir build

dptrack=./build/dpdk/dptrack
hp=/sys/kernel/mm/hugepages/hugepages-2048kB

# Whatever only prints (help, version, the configuration) needs no setup.
for a in "$@"; do
	case $a in
	-h | --help | --version | --check-config) exec "$dptrack" "$@" ;;
	--) break ;;
	esac
done

# The effective configuration, as dptrack resolves it from these arguments
# (-c FILE, ./dptrack.yaml, ..., DPTRACK_* variables). A bad one stops here.
config=$("$dptrack" --check-config "$@" 2>&1) || {
	rc=$?
	echo "$config" >&2
	exit $rc
}

# Prints "tap IFACE ADDR/LEN" for each address of each net_tap port of the
# config in $1 and "udp PORT" for each tracker port. The kernel calls the
# k-th tap dtapK unless the device says iface=NAME (DPDK net_tap asks for
# "dtap%d": the name holds while no other dtap interface exists).
config_taps() {
	awk '
	/^[a-z]/ { sect = $1 }
	sect == "udp:" && /^  ports:/ {
		gsub(/[^0-9,]/, "")
		n = split($0, p, ",")
		for (i = 1; i <= n; i++) print "udp", p[i]
	}
	sect == "dpdk:" && /^  [a-z]/ { inports = /^  ports:/ }
	inports && /device:/ {
		gsub(/"/, "")
		tap = $NF ~ /^net_tap/
		if (!tap) next
		name = "dtap" k++
		if (match($NF, /iface=[^,]*/)) name = substr($NF, RSTART + 6, RLENGTH - 6)
	}
	inports && tap && /ipv[46]:/ { gsub(/"/, ""); print "tap", name, $NF }
	' <<<"$1"
}

# ADDR/LEN -> the first other host address of that subnet, /LEN; empty for
# a /32 or /128.
peer_addr() {
	python3 -c 'import ipaddress, sys
i = ipaddress.ip_interface(sys.argv[1])
print(next((f"{h}/{i.network.prefixlen}" for h in i.network.hosts() if h != i.ip), ""))' "$1"
}

# Gives the kernel side of each net_tap port its addresses once dptrack has
# created the interface, then prints the announce URLs. Runs in the
# background; gives up 60 s after dptrack starts.
setup_taps() {
	local kind ifname addr peer deadline=$((SECONDS + 60)) ports=() urls=()
	while read -r kind ifname addr; do
		[ "$kind" = udp ] && ports+=("$ifname")
	done <<<"$taps"
	while read -r kind ifname addr; do
		[ "$kind" = tap ] || continue
		until [ -e "/sys/class/net/$ifname" ]; do
			if [ $SECONDS -ge $deadline ]; then
				echo "dptrack: warning: $ifname did not appear within 60 s;" \
					"give it an address in $addr yourself" >&2
				return 1
			fi
			sleep 0.2
		done
		peer=$(peer_addr "$addr")
		[ -n "$peer" ] || continue
		case $peer in
		*:*) ip -6 addr replace "$peer" dev "$ifname" nodad ;;
		*) ip addr replace "$peer" dev "$ifname" ;;
		esac
		ip link set dev "$ifname" up
		echo "dptrack: $ifname (kernel side) has $peer"
		for p in "${ports[@]}"; do
			case $addr in
			*:*) urls+=("udp://[${addr%/*}]:$p/announce") ;;
			*) urls+=("udp://${addr%/*}:$p/announce") ;;
			esac
		done
	done <<<"$taps"
	[ ${#urls[@]} -gt 0 ] || return 0
	echo "dptrack: from this machine, announce to:"
	printf '    %s\n' "${urls[@]}"
	echo "dptrack: Ctrl-C stops it."
}

# Makes sure $1 MB of 2 MB hugepages are free and hugetlbfs is mounted,
# recording what it changed in hp_before, hp_mounted and hp_made_dir for
# give_back_hugepages. Returns 1, having changed nothing, when the kernel
# cannot find the pages.
reserve_hugepages() {
	local want=$((($1 + 1) / 2)) total free
	[ -w "$hp/nr_hugepages" ] || return 1
	total=$(<"$hp/nr_hugepages")
	free=$(<"$hp/free_hugepages")
	if [ "$free" -lt "$want" ]; then
		hp_before=$total
		echo $((total + want - free)) >"$hp/nr_hugepages" 2>/dev/null || true
		if [ "$(<"$hp/free_hugepages")" -lt "$want" ]; then
			give_back_hugepages
			return 1
		fi
	fi
	if ! grep -qs '^[^ ]* [^ ]* hugetlbfs .*pagesize=2M' /proc/mounts; then
		[ -d /dev/hugepages ] || hp_made_dir=/dev/hugepages
		mkdir -p /dev/hugepages
		if ! mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages; then
			give_back_hugepages
			return 1
		fi
		hp_mounted=/dev/hugepages
	fi
}

# Undoes what reserve_hugepages did. Unmounting first frees the pages of any
# file dptrack left behind.
give_back_hugepages() {
	if [ -n "$hp_mounted" ]; then
		umount "$hp_mounted" || true
		hp_mounted=
	fi
	if [ -n "$hp_made_dir" ]; then
		rmdir "$hp_made_dir" || true
		hp_made_dir=
	fi
	if [ -n "$hp_before" ]; then
		echo "$hp_before" >"$hp/nr_hugepages" || true
		hp_before=
	fi
}

helper=
hp_before=
hp_mounted=
hp_made_dir=
# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
	[ -z "$helper" ] || kill "$helper" 2>/dev/null || true
	give_back_hugepages
}
trap cleanup EXIT

# EAL arguments go after the user's, behind a "--" unless they gave one.
eal=()
case " $* " in *" -- "*) ;; *) eal=(--) ;; esac
case " $* " in
*" --no-huge "*) ;;
*)
	if reserve_hugepages "$huge_mb"; then
		echo "dptrack: $huge_mb MB of 2 MB hugepages free for this run"
	else
		free_mb=$(($(cat "$hp/free_hugepages" 2>/dev/null || echo 0) * 2))
		cat >&2 <<MSG
dptrack: warning: could not reserve $huge_mb MB of 2 MB hugepages ($free_mb MB
free); running with --no-huge -m $huge_mb instead, on ordinary pages: slower,
and fine for trying dptrack out. Free some memory, or reserve the pages at
boot (hugepages=$((huge_mb / 2)) on the kernel command line).
MSG
		eal+=(--no-huge -m "$huge_mb")
	fi
	;;
esac
[ ${#eal[@]} -gt 1 ] || eal=()

taps=$(config_taps "$config")
if grep -q '^tap ' <<<"$taps"; then
	setup_taps &
	helper=$!
fi

echo "dptrack: starting; Ctrl-C stops it"
# In the background so that a TERM or HUP sent to this script reaches
# dptrack too; Ctrl-C reaches it directly (same process group).
"$dptrack" "$@" "${eal[@]}" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true' INT TERM HUP
while kill -0 "$pid" 2>/dev/null; do
	wait "$pid" || true
done
rc=0
wait "$pid" || rc=$?
exit $rc
