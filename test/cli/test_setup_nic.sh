#!/usr/bin/env bash
# scripts/setup-nic.sh as an operator meets it, without a spare NIC: bad
# PCI addresses are refused with exit status 2, --dry-run prints every step
# (modprobe, dpdk-devbind.py, hugepages, the dpdk.ports entry) and
# --restore --dry-run the rebind, --shared IFACE --dry-run its checks and
# the shared port's entry (on lo), and no run changes anything on the machine.
# Tools that change the system are shadowed by stubs that log their calls,
# so a dry run that ran one would be seen (and do nothing).
# Usage: test_setup_nic.sh [PATH_TO_SETUP_NIC]
# shellcheck disable=SC2016 # bash -c scripts get their arguments as $0, $1
set -u
here=$(cd "$(dirname "$0")" && pwd)
script=$(realpath "${1:-$here/../../scripts/setup-nic.sh}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$(realpath "$0")")/tap.sh"
on_fail() { sed 's/^/#   /' "$tmp/out"; }

mkdir -p "$tmp/bin"
for tool in modprobe dpdk-devbind.py mount umount apt-get; do
	printf '#!/bin/sh\necho "%s $*" >>"%s/calls"\nexit 1\n' "$tool" "$tmp" >"$tmp/bin/$tool"
	chmod +x "$tmp/bin/$tool"
done

# Runs setup-nic.sh with the stubs first on PATH and its state in $tmp;
# output (both streams) in $tmp/out, status in $tmp/rc.
run() {
	PATH="$tmp/bin:$PATH" DPTRACK_STATE_DIR="$tmp/state" "$script" "$@" >"$tmp/out" 2>&1
	echo $? >"$tmp/rc"
}
rc() { cat "$tmp/rc"; }
has() { grep -qF -- "$1" "$tmp/out"; }

# What a run could change: hugepages, hugetlbfs mounts and their mount
# point, PCI drivers.
hp=/sys/kernel/mm/hugepages/hugepages-2048kB
system_state() {
	cat "$hp/nr_hugepages" 2>/dev/null
	grep hugetlbfs /proc/mounts
	ls -d /dev/hugepages 2>/dev/null
	for d in /sys/bus/pci/devices/*; do
		echo "$d $(readlink "$d/driver" 2>/dev/null)"
	done
}
system_state >"$tmp/before"

# A PCI address that names no device here.
absent=0000:ff:1f.7
[ ! -e /sys/bus/pci/devices/$absent ] || absent=0000:fe:1e.6

for bad in 0000:00:20.0 00:00.8 0:00:00.0 0000:00:00 xyz 00:00.0x "00:00.0;true" ""; do
	run "$bad" --dry-run
	check "bad PCI address '$bad' exits 2" [ "$(rc)" = 2 ]
done
run xyz --dry-run
check "bad PCI address names the expected form" has "DDDD:BB:DD.F or BB:DD.F"
run "$absent" --frobnicate
check "unknown option exits 2" [ "$(rc)" = 2 ]
run "$absent" --pages
check "--pages without a number exits 2" [ "$(rc)" = 2 ]
run "$absent" --pages many --dry-run
check "--pages with a word exits 2" [ "$(rc)" = 2 ]
run
check "no address exits 2" [ "$(rc)" = 2 ]

run "$absent"
check "a real run on a missing device exits 1" [ "$(rc)" = 1 ]
check "a real run on a missing device says so" has "no such PCI device"

# One page more than are free: the plan must reserve some.
pages=$(($(cat "$hp/free_hugepages" 2>/dev/null || echo 0) + 1))
total=$(cat "$hp/nr_hugepages" 2>/dev/null || echo 0)
short=${absent#0000:}
run "${short^^}" --dry-run --pages "$pages"
cp "$tmp/out" "$tmp/plan"
check "dry run of a missing device exits 0" [ "$(rc)" = 0 ]
check "dry run reports the missing device" has "no such PCI device"
check "dry run says a real run would stop there" has "a real run stops here"
check "dry run loads vfio-pci" has "would run: modprobe vfio-pci"
check "dry run binds with dpdk-devbind.py" has "would run: dpdk-devbind.py -b vfio-pci $absent"
check "dry run records the driver in the state dir" has "would run: echo CURRENT_DRIVER > $tmp/state/nic/$absent"
check "dry run reserves the hugepages" \
	has "would run: echo $((total + 1)) > $hp/nr_hugepages"
if grep -qs ' hugetlbfs .*pagesize=2M' /proc/mounts; then
	check "dry run finds hugetlbfs mounted" has "hugetlbfs: mounted"
else
	check "dry run mounts hugetlbfs" has "would run: mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages"
fi
check "dry run prints the dpdk.ports entry" \
	bash -c 'grep -qx "  ports:" "$0" && grep -qx "    - device: \"$1\"" "$0" &&
		grep -q "^      ipv4: " "$0" && grep -q "^      ipv6: " "$0"' "$tmp/out" "$absent"
check "dry run says to drop --no-pci" has '"--no-pci"'
check "dry run steps come in order: modprobe, bind, hugepages" \
	bash -c 'awk "/modprobe vfio-pci/ { m = NR } /dpdk-devbind.py -b vfio-pci/ { b = NR }
		/nr_hugepages/ { h = NR } END { exit !(m && m < b && b < h) }" "$0"' "$tmp/out"
check "dry run ran none of the tools that change things" [ ! -e "$tmp/calls" ]
check "dry run created no state dir" [ ! -e "$tmp/state" ]

# A real network card, if this machine has one: still a dry run.
nic=
for d in /sys/bus/pci/devices/*; do
	if [[ $(cat "$d/class" 2>/dev/null) == 0x02* ]] && [ -e "$d/driver" ]; then
		nic=${d##*/}
		break
	fi
done
if [ -n "$nic" ]; then
	drv=$(basename "$(readlink -f "/sys/bus/pci/devices/$nic/driver")")
	run "$nic" --dry-run
	check "dry run on $nic exits 0" [ "$(rc)" = 0 ]
	if [ "$drv" = vfio-pci ]; then
		check "dry run on $nic sees it bound already" has "already bound to vfio-pci"
	else
		check "dry run on $nic records its driver $drv" has "would run: echo $drv > $tmp/state/nic/$nic"
		check "dry run on $nic binds it" has "would run: dpdk-devbind.py -b vfio-pci $nic"
	fi
else
	echo "ok - # skip dry run on a real network card: none here"
fi

mkdir -p "$tmp/state/nic"
echo ixgbe >"$tmp/state/nic/$absent"
run "$absent" --restore --dry-run
check "restore dry run exits 0" [ "$(rc)" = 0 ]
check "restore dry run reads the record" has "recorded kernel driver: ixgbe"
check "restore dry run rebinds the recorded driver" has "would run: dpdk-devbind.py -b ixgbe $absent"
check "restore dry run drops the record" has "would run: rm -f $tmp/state/nic/$absent"
check "restore dry run keeps the record" grep -qsx ixgbe "$tmp/state/nic/$absent"
echo none >"$tmp/state/nic/$absent"
run "$absent" --restore --dry-run
check "restore of a card that had no driver unbinds it" has "would run: dpdk-devbind.py -u $absent"
rm "$tmp/state/nic/$absent"
run "$absent" --restore --dry-run
check "restore dry run without a record says the driver is unknown" has "kernel driver is unknown"
check "restore dry runs ran none of the tools" [ ! -e "$tmp/calls" ]

# --shared IFACE: the card stays the kernel's. lo is on every machine.
run --shared
check "--shared without an interface exits 2" [ "$(rc)" = 2 ]
run --shared "a/b" --dry-run
check "--shared with a bad interface name exits 2" [ "$(rc)" = 2 ]
run --shared lo "$absent" --dry-run
check "--shared with a PCI address too exits 2" [ "$(rc)" = 2 ]
run --shared lo --restore --dry-run
check "--shared with --restore exits 2" [ "$(rc)" = 2 ]
for q in 0 x 1000; do
	run --shared lo --queues "$q" --dry-run
	check "--queues '$q' exits 2" [ "$(rc)" = 2 ]
done
run "$absent" --queues 2 --dry-run
check "--queues without --shared exits 2" [ "$(rc)" = 2 ]
run --shared nosuch0 --dry-run
check "--shared on a missing interface exits 1" [ "$(rc)" = 1 ]
check "... naming it" has "no interface nosuch0"
run --shared lo --dry-run
check "shared dry run on lo exits 0" [ "$(rc)" = 0 ]
check "shared dry run checks the kernel's AF_XDP sockets" has "kernel: Linux"
if grep -qs '^[^ ]* /sys/fs/bpf bpf ' /proc/mounts; then
	check "shared dry run finds bpffs mounted" has "bpffs: mounted at /sys/fs/bpf"
else
	check "shared dry run mounts bpffs" has "would run: mount -t bpf bpf /sys/fs/bpf"
fi
check "shared dry run says lo has no native XDP (generic mode)" \
	bash -c 'grep -q "no native XDP" "$0" || grep -q "does not report lo" "$0"' "$tmp/out"
check "shared dry run counts the queues" has "queues: 1, one per worker lcore"
check "shared dry run prints the shared port entry" \
	bash -c 'grep -qx "  ports:" "$0" && grep -qx "    - device: \"net_af_xdp0,iface=lo\"" "$0" &&
		grep -qx "      shared: true" "$0"' "$tmp/out"
check "shared dry run keeps --no-pci" has '"--no-pci"'
check "shared dry run ran none of the tools that change things" [ ! -e "$tmp/calls" ]
run --shared lo --queues 4 --dry-run
check "shared dry run with more workers than queues says so" has "lo has 1 queue(s); 4 worker lcores"
check "... and gives EAL one lcore more" has '"-l", "0-4"'

system_state >"$tmp/after"
check "hugepages, mounts, /dev/hugepages and PCI drivers are unchanged" cmp -s "$tmp/before" "$tmp/after"
check "the plan names the nr_hugepages step only as 'would run'" \
	bash -c '! grep -v "^would run: " "$0" | grep -q "> .*nr_hugepages"' "$tmp/plan"

tap_end
