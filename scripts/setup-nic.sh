#!/usr/bin/env bash
# Gives one PCI network card to DPDK for dptrack, and back.
#
# Setup: loads vfio-pci, checks that the IOMMU is on, records the card's
# kernel driver, binds the card to vfio-pci with dpdk-devbind.py, makes sure
# enough 2 MB hugepages are free and hugetlbfs is mounted, and prints the
# dpdk.ports entry to paste into the config.
# --restore: binds the card back to the kernel driver recorded at setup.
#
# Usage: sudo ./scripts/setup-nic.sh PCI_ADDR [--restore] [--dry-run] [--pages N]
#   PCI_ADDR   DDDD:BB:DD.F or BB:DD.F (domain 0000), as `lspci -D` prints it
#   --restore  give the card back to its kernel driver
#   --dry-run  print every command that would change the system, prefixed
#              "would run: ", and change nothing (needs no root)
#   --pages N  2 MB hugepages to have free (default 512, 1 GiB: dptrack's
#              default config uses about 520 MB at start)
# Exit status: 0 done, 1 a step failed, 2 usage error.
# The drivers are recorded in $DPTRACK_STATE_DIR/nic/ (default
# /var/lib/dptrack/nic/), one file per card. Neither the binding nor the
# hugepages survive a reboot: run this again at boot.
set -euo pipefail
args=("$@")
DPTRACK_SCRIPT=$(realpath "$0")
cd "$(dirname "$DPTRACK_SCRIPT")/.."
. scripts/lib.sh

hp=/sys/kernel/mm/hugepages/hugepages-2048kB
state=${DPTRACK_STATE_DIR:-/var/lib/dptrack}/nic

usage() {
	[ $# -eq 0 ] || echo "setup-nic: $*" >&2
	echo "usage: setup-nic.sh PCI_ADDR [--restore] [--dry-run] [--pages N]" >&2
	exit 2
}

say() { echo "setup-nic: $*"; }

# fail MESSAGE: stops a real run; a dry run reports it and goes on, so that
# the whole plan is printed.
fail() {
	if [ "$dry" = 1 ]; then
		say "$* (a real run stops here)"
		return 0
	fi
	echo "setup-nic: $*" >&2
	exit 1
}

# run CMD...: runs CMD, or only prints it in a dry run.
run() {
	if [ "$dry" = 1 ]; then
		echo "would run: $*"
	else
		echo "running: $*"
		"$@"
	fi
}

# put VALUE FILE: writes VALUE and a newline to FILE, or only says so.
put() {
	if [ "$dry" = 1 ]; then
		echo "would run: echo $1 > $2"
	else
		echo "running: echo $1 > $2"
		echo "$1" >"$2"
	fi
}

# The card's current kernel driver, "none" when it has none.
driver_of() {
	if [ -e "$dev/driver" ]; then
		basename "$(readlink -f "$dev/driver")"
	else
		echo none
	fi
}

# Checks that $addr is a network card that can go to vfio-pci; prints its
# description.
check_device() {
	local class n
	[ -e "$dev" ] || return 0
	say "$addr: $(lspci -s "$addr" 2>/dev/null | cut -d' ' -f2- || echo "PCI device")"
	class=$(<"$dev/class")
	[[ $class == 0x02* ]] || fail "$addr is not a network controller (class $class)"
	case $(driver_of) in
	mlx4_core | mlx5_core)
		fail "$addr is a Mellanox card: its DPDK driver works alongside the kernel" \
			"driver (bifurcated), so leave it bound to $(driver_of) and put" \
			"device: $addr in dpdk.ports"
		;;
	esac
	# dpdk-devbind.py leaves a card with routes alone (and still exits 0):
	# say why, before anything changes. The interface sits in net/ or, as
	# with virtio, one level further down.
	for n in "$dev"/net/* "$dev"/*/net/*; do
		[ -e "$n" ] || continue
		n=${n##*/}
		if [ -n "$(ip -o addr show dev "$n" scope global 2>/dev/null)" ] ||
			[ -n "$(ip -o route show dev "$n" 2>/dev/null)" ]; then
			fail "$addr is $n, which has addresses or routes (is it how you" \
				"reach this machine?); if it is free, clear it first:" \
				"ip addr flush dev $n && ip link set dev $n down"
		fi
	done
}

# Stops unless the IOMMU is on or vfio's no-IOMMU mode was chosen.
check_iommu() {
	if [ -n "$(ls -A /sys/kernel/iommu_groups 2>/dev/null)" ]; then
		say "IOMMU: on"
		return 0
	fi
	if [ "$(cat /sys/module/vfio/parameters/enable_unsafe_noiommu_mode 2>/dev/null)" = Y ]; then
		say "IOMMU: off, vfio in no-IOMMU mode (unsafe: the card can DMA anywhere)"
		return 0
	fi
	cat >&2 <<'MSG'
setup-nic: the IOMMU is off (/sys/kernel/iommu_groups is empty) and vfio-pci
  needs it. Turn on VT-d (Intel) or AMD-Vi / IOMMU (AMD) in the firmware
  setup, and on the kernel command line (GRUB_CMDLINE_LINUX in
  /etc/default/grub, then update-grub and reboot):
      intel_iommu=on iommu=pt     on Intel
      iommu=pt                    on AMD (its IOMMU is on once the firmware
                                  enables it; amd_iommu=on is not needed)
  Without an IOMMU (a VM with no virtual IOMMU), vfio's no-IOMMU mode works,
  with no protection: the card can then write anywhere in memory.
      echo 1 > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode
  (lasting: "options vfio enable_unsafe_noiommu_mode=1" in
  /etc/modprobe.d/vfio.conf), then run this again.
MSG
	fail "no IOMMU"
}

# Makes sure $pages 2 MB hugepages are free and a 2 MB hugetlbfs is mounted.
reserve_hugepages() {
	local total free
	if [ ! -r "$hp/nr_hugepages" ]; then
		fail "this kernel offers no 2 MB hugepages ($hp is missing)"
		return 0
	fi
	total=$(<"$hp/nr_hugepages")
	free=$(<"$hp/free_hugepages")
	if [ "$free" -ge "$pages" ]; then
		say "hugepages: $free of 2 MB free, $pages needed"
	else
		put $((total + pages - free)) "$hp/nr_hugepages"
		if [ "$dry" = 0 ] && [ "$(<"$hp/free_hugepages")" -lt "$pages" ]; then
			fail "the kernel found only $(<"$hp/free_hugepages") free 2 MB pages of" \
				"$pages; free memory, or reserve them at boot (hugepages=$pages" \
				"on the kernel command line)"
		fi
	fi
	if grep -qs '^[^ ]* [^ ]* hugetlbfs .*pagesize=2M' /proc/mounts; then
		say "hugetlbfs: mounted"
	else
		run mkdir -p /dev/hugepages
		run mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages
	fi
}

# Warns about devices sharing the card's IOMMU group: vfio can use the group
# only when all of them are bound to vfio-pci or to nothing.
check_group() {
	local other drv
	[ -d "$dev/iommu_group/devices" ] || return 0
	for other in "$dev"/iommu_group/devices/*; do
		other=$(basename "$other")
		[ "$other" != "$addr" ] || continue
		drv=$(basename "$(readlink -f "/sys/bus/pci/devices/$other/driver" 2>/dev/null)" 2>/dev/null || true)
		case $drv in
		"" | driver | vfio-pci | pcieport) ;;
		*) say "warning: $other (driver $drv) shares $addr's IOMMU group; bind it to vfio-pci too, or EAL cannot use the group" ;;
		esac
	done
}

setup() {
	local cur=unknown
	check_device
	[ -e "$dev" ] && cur=$(driver_of)
	run modprobe vfio-pci || fail "modprobe vfio-pci failed: this kernel has no vfio-pci module"
	check_iommu
	if [ "$cur" = vfio-pci ]; then
		say "$addr: already bound to vfio-pci"
	else
		run mkdir -p "$state"
		if [ "$cur" = unknown ]; then
			put CURRENT_DRIVER "$state/$addr"
		else
			put "$cur" "$state/$addr"
		fi
		# dpdk-devbind.py exits 0 even when it skips the card: check.
		run dpdk-devbind.py -b vfio-pci "$addr" || fail "dpdk-devbind.py failed"
		if [ "$dry" = 0 ] && [ "$(driver_of)" != vfio-pci ]; then
			fail "$addr is still bound to $(driver_of); see dpdk-devbind.py's message above"
		fi
	fi
	[ ! -e "$dev" ] || check_group
	reserve_hugepages
	local ready="is ready"
	[ "$dry" = 0 ] || ready="would then be ready"
	cat <<YAML

setup-nic: $addr $ready for DPDK. In your dptrack.yaml, put it in
dpdk.ports, with the addresses the tracker answers on:

dpdk:
  ports:
    - device: "$addr"
      ipv4: "IPV4_ADDRESS/PREFIX_LEN"    # e.g. 203.0.113.10/24
      ipv6: "IPV6_ADDRESS/PREFIX_LEN"    # e.g. 2001:db8::10/64, or drop the line

and remove "--no-pci" from dpdk.eal_args (that flag keeps EAL off every PCI
card); adding "-a", "$addr" there keeps EAL to this card alone.
Give the card back to the kernel with:
    sudo ./scripts/setup-nic.sh $addr --restore
YAML
}

restore() {
	local orig='' cur n
	if [ -r "$state/$addr" ]; then
		orig=$(<"$state/$addr")
		say "$addr: recorded kernel driver: $orig"
	elif [ -e "$dev" ]; then
		# No record: lspci names the kernel modules that can drive the card.
		orig=$(lspci -k -s "$addr" 2>/dev/null |
			sed -n 's/^[[:space:]]*Kernel modules: //p' | tr -d ' ' | tr ',' '\n' |
			grep -v '^vfio-pci$' | head -n 1 || true)
		[ -z "$orig" ] || say "$addr: no record in $state; lspci suggests $orig"
	fi
	if [ -z "$orig" ]; then
		fail "$addr: its kernel driver is unknown (no record in $state)"
		orig=KERNEL_DRIVER
	fi
	cur=unknown
	[ -e "$dev" ] && cur=$(driver_of)
	if [ "$cur" = "$orig" ]; then
		say "$addr: already bound to $orig"
	elif [ "$orig" = none ]; then
		run dpdk-devbind.py -u "$addr"
	else
		# The driver may have been unloaded meanwhile (modprobe takes
		# driver names with - or _).
		if [ "$orig" != KERNEL_DRIVER ] && [ ! -d "/sys/bus/pci/drivers/$orig" ]; then
			run modprobe "$orig" || fail "modprobe $orig failed"
		fi
		run dpdk-devbind.py -b "$orig" "$addr" || fail "dpdk-devbind.py failed"
	fi
	if [ "$dry" = 0 ] && [ "$(driver_of)" != "$orig" ]; then
		fail "$addr is bound to $(driver_of), not $orig; see dpdk-devbind.py's message above"
	fi
	[ ! -e "$state/$addr" ] || run rm -f "$state/$addr"
	if [ "$dry" = 0 ]; then
		for n in "$dev"/net/* "$dev"/*/net/*; do
			[ ! -e "$n" ] || say "$addr is back with $orig as ${n##*/}"
		done
	fi
	return 0
}

restore=0
dry=0
pages=512
addr=
while [ $# -gt 0 ]; do
	case $1 in
	--restore) restore=1 ;;
	--dry-run) dry=1 ;;
	--pages)
		[ $# -ge 2 ] || usage "--pages needs a number"
		[[ $2 =~ ^[1-9][0-9]{0,6}$ ]] || usage "--pages: '$2' is not a number of pages"
		pages=$2
		shift
		;;
	-h | --help)
		sed -n '2,/^set -euo/p' scripts/setup-nic.sh | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	-*) usage "unknown option '$1'" ;;
	*)
		[ -z "$addr" ] || usage "one PCI address only"
		addr=$1
		;;
	esac
	shift
done
[ -n "$addr" ] || usage "no PCI address given"
# Domain:bus:device.function: device 00-1f, function 0-7; sysfs spells them
# in lower case with the domain.
addr=${addr,,}
[[ $addr =~ ^([0-9a-f]{4}:)?[0-9a-f]{2}:[01][0-9a-f]\.[0-7]$ ]] ||
	usage "'$addr' is not a PCI address (DDDD:BB:DD.F or BB:DD.F, e.g. 0000:01:00.0)"
[[ $addr =~ ^[0-9a-f]{4}: ]] || addr=0000:$addr
dev=/sys/bus/pci/devices/$addr

[ "$dry" = 0 ] || say "dry run: nothing below is changed"
[ -e "$dev" ] || fail "$addr: no such PCI device (see lspci -D)"
if [ "$dry" = 0 ]; then
	need_root "${args[@]}"
	# What this script runs, and no more: dpdk-devbind.py (package dpdk,
	# a python3 script that reads lspci) and modprobe (kmod).
	DPTRACK_PACKAGES=(dpdk python3 pciutils kmod iproute2)
	install_deps
fi

if [ "$restore" = 1 ]; then
	restore
else
	setup
fi
