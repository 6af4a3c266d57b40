#!/usr/bin/env bash
# Gives one PCI network card to DPDK for dptrack, and back; or checks that a
# card can stay the kernel's and be shared with dptrack.
#
# Setup: loads vfio-pci, checks that the IOMMU is on, records the card's
# kernel driver, binds the card to vfio-pci with dpdk-devbind.py, makes sure
# enough 2 MB hugepages are free and hugetlbfs is mounted, and prints the
# dpdk.ports entry to paste into the config.
# --restore: binds the card back to the kernel driver recorded at setup.
# --shared IFACE: the card stays with its kernel driver, which keeps its
# addresses, SSH and the HTTP path; dptrack takes its tracker UDP through
# AF_XDP. Checks the kernel (AF_XDP and BPF), mounts the BPF filesystem if
# it is missing, says whether the driver runs XDP natively (else generic
# mode, slower: a warning), checks the queues against --queues, and prints
# the dpdk.ports entry. Changes nothing else; dptrack attaches its XDP
# program at start and detaches it when it stops.
#
# Usage: sudo ./scripts/setup-nic.sh PCI_ADDR [--restore] [--dry-run] [--pages N]
#        sudo ./scripts/setup-nic.sh --shared IFACE [--queues N] [--dry-run]
#   PCI_ADDR   DDDD:BB:DD.F or BB:DD.F (domain 0000), as `lspci -D` prints it
#   --restore  give the card back to its kernel driver
#   --dry-run  print every command that would change the system, prefixed
#              "would run: ", and change nothing (needs no root)
#   --pages N  2 MB hugepages to have free (default 512, 1 GiB: dptrack's
#              default config uses about 520 MB at start)
#   --shared IFACE  the network interface to share (ip link names it)
#   --queues N  worker lcores dptrack will run on it, one queue each
#              (default 1)
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
	echo "       setup-nic.sh --shared IFACE [--queues N] [--dry-run]" >&2
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

# --- a shared card: the kernel keeps it, dptrack takes its UDP (AF_XDP) -----

# The oldest kernel dptrack's XDP program and net_af_xdp's AF_XDP sockets
# are meant for (the program's fallback to the kernel is bpf_redirect_map's
# flags; shared UMEM and need-wakeup are there too).
min_kernel=5.10

# Stops unless the kernel has BPF and AF_XDP sockets, and is recent enough.
check_kernel() {
	local v af
	v=$(uname -r)
	if ! printf '%s\n%s\n' "$min_kernel" "${v%%-*}" | sort -V -C; then
		fail "Linux $v is older than $min_kernel, which shared ports need"
	fi
	[ -e /proc/sys/kernel/unprivileged_bpf_disabled ] ||
		fail "this kernel has no BPF system call (CONFIG_BPF_SYSCALL)"
	# socket(AF_XDP): EAFNOSUPPORT without CONFIG_XDP_SOCKETS; EPERM only
	# says it exists.
	af=$(python3 -c 'import errno, socket
try:
    socket.socket(44, socket.SOCK_RAW).close()
    print("yes")
except OSError as e:
    print("no" if e.errno == errno.EAFNOSUPPORT else "yes")' 2>/dev/null || echo unknown)
	case $af in
	yes) say "kernel: Linux $v, BPF and AF_XDP sockets" ;;
	no) fail "this kernel has no AF_XDP sockets (CONFIG_XDP_SOCKETS)" ;;
	*) say "kernel: Linux $v, BPF; AF_XDP not checked (no python3)" ;;
	esac
}

# Mounts the BPF filesystem at /sys/fs/bpf if it is missing (libxdp,
# which net_af_xdp uses, looks for it there).
check_bpffs() {
	if grep -qs '^[^ ]* /sys/fs/bpf bpf ' /proc/mounts; then
		say "bpffs: mounted at /sys/fs/bpf"
	else
		run mount -t bpf bpf /sys/fs/bpf || fail "mounting bpffs at /sys/fs/bpf failed"
	fi
}

# The interface's XDP features as the kernel's netdev netlink family says
# (Linux 6.3 and later): a hexadecimal mask, or "" where it cannot say.
xdp_features() {
	python3 - "$iface" 2>/dev/null <<'PY' || true
import socket, struct, sys
def attrs(b):
    out = {}
    while len(b) >= 4:
        n, t = struct.unpack_from("HH", b)
        if n < 4:
            break
        out[t & 0x3fff] = b[4:n]
        b = b[(n + 3) & ~3:]
    return out
def ask(s, kind, cmd, attr):
    body = struct.pack("BBH", cmd, 1, 0) + attr
    s.send(struct.pack("IHHII", 16 + len(body), kind, 1, 1, 0) + body)
    d = s.recv(65536)
    n, t = struct.unpack_from("IH", d)
    return None if t == 2 else attrs(d[20:n])  # NLMSG_ERROR
def nla(t, v):
    return struct.pack("HH", 4 + len(v), t) + v + bytes(-len(v) % 4)
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)  # NETLINK_GENERIC
a = ask(s, 0x10, 3, nla(2, b"netdev\0"))  # GENL_ID_CTRL, CTRL_CMD_GETFAMILY, its name
if a is None:
    sys.exit(0)
fam = struct.unpack("H", a[1][:2])[0]
a = ask(s, fam, 1, nla(1, struct.pack("I", socket.if_nametoindex(sys.argv[1]))))  # DEV_GET
if a is not None and 3 in a:  # NETDEV_A_DEV_XDP_FEATURES
    print("%x" % struct.unpack("Q", a[3][:8])[0])
PY
}

# Native XDP (the driver runs the program on its own receive path) or
# generic (after the kernel built an skb: any driver, slower): a warning.
check_xdp_mode() {
	local drv f
	drv=$(ethtool -i "$iface" 2>/dev/null | sed -n 's/^driver: //p' || true)
	f=$(xdp_features)
	if [ -z "$f" ]; then
		say "XDP: the kernel does not report $iface's XDP features (Linux 6.3 and later" \
			"do); dptrack's log says 'native mode' at start, or warns of generic mode"
	elif (((0x$f & 3) == 3)); then # NETDEV_XDP_ACT_BASIC | NETDEV_XDP_ACT_REDIRECT
		say "XDP: native mode (driver ${drv:-unknown}); AF_XDP zero-copy:" \
			"$( ((0x$f & 8)) && echo yes || echo "no, copy mode")"
	else
		say "warning: the driver of $iface (${drv:-unknown}) has no native XDP: the" \
			"program would run in generic mode, after the kernel built an skb for" \
			"every frame (it works, slower than the kernel's own UDP path may be)"
	fi
}

# Checks that the card has a queue for each worker, and says how to keep the
# tracker's traffic on those queues when it has more.
check_queues() {
	local cur max
	cur=$(ethtool -l "$iface" 2>/dev/null |
		awk '/^Current/ { c = 1 } c && /^Combined:/ { print $2; exit }' || true)
	max=$(ethtool -l "$iface" 2>/dev/null |
		awk '/^Pre-set/ { c = 1 } c && /^Combined:/ { print $2; exit }' || true)
	[[ $cur =~ ^[0-9]+$ ]] || cur=1 # no channels to speak of: one stream
	[[ $max =~ ^[0-9]+$ ]] || max=$cur
	if [ "$max" -lt "$queues" ]; then
		fail "$iface has $max queue(s); $queues worker lcores need one each (--queues)"
	elif [ "$cur" -gt "$queues" ]; then
		say "warning: $iface spreads what it receives over $cur queues and dptrack" \
			"reads $queues: tracker datagrams hashed to the others reach the kernel" \
			"(xdp_frames_total reason no_socket). Narrow RSS to the first $queues:" \
			"ethtool -X $iface equal $queues (or ethtool -L $iface combined $queues," \
			"which the kernel's traffic then shares)"
	elif [ "$cur" -lt "$queues" ]; then
		say "warning: $iface uses $cur of its $max queues: ethtool -L $iface combined $queues"
	else
		say "queues: $cur, one per worker lcore"
	fi
}

# The addresses dptrack will read from the interface, one line each.
iface_addrs() {
	ip -o addr show dev "$iface" scope global 2>/dev/null | awk '{ print $4 }' || true
}

setup_shared() {
	local mtu a lcores
	check_kernel
	check_bpffs
	check_xdp_mode
	check_queues
	mtu=$(<"/sys/class/net/$iface/mtu")
	# dptrack's program takes a frame in one page, as most drivers want it.
	[ "$mtu" -le 3498 ] ||
		say "warning: $iface's MTU is $mtu: most drivers refuse an XDP program that" \
			"takes a frame in one 4 KiB page, as dptrack's does, above about 3,500;" \
			"if dptrack cannot attach it: ip link set dev $iface mtu 1500"
	a=$(iface_addrs | paste -sd, - | sed 's/,/, /g')
	if [ -n "$a" ]; then
		say "addresses: $a (the kernel's; dptrack serves on the first of each family)"
	else
		say "warning: $iface has no global address yet: give it the tracker's" \
			"(ip addr add ADDR/LEN dev $iface) before dptrack starts"
	fi
	lcores='"-l", "0"'
	[ "$queues" = 1 ] || lcores="\"-l\", \"0-$queues\""
	local ready="can be"
	[ "$dry" = 0 ] || ready="could then be"
	cat <<YAML

setup-nic: $iface $ready shared with dptrack. In your dptrack.yaml, put it in
dpdk.ports (ipv4 and ipv6 are read from $iface at start; give them to
choose among its addresses):

dpdk:
  eal_args: ["--no-pci", "--file-prefix", "dptrack", $lcores]
  ports:
    - device: "net_af_xdp0,iface=$iface"
      shared: true

and keep "--no-pci": the card stays with its kernel driver. With more than
one worker lcore, give EAL one lcore more than --queues (the main one does
control work). dpdk.run_as cannot be used: dptrack detaches its XDP
program as root when it stops, and $iface is the kernel's alone again.
YAML
}

restore=0
dry=0
pages=512
addr=
iface=
queues=
shared=0
while [ $# -gt 0 ]; do
	case $1 in
	--restore) restore=1 ;;
	--dry-run) dry=1 ;;
	--shared)
		[ $# -ge 2 ] && [ -n "$2" ] || usage "--shared needs an interface name"
		[[ $2 =~ ^[^/[:space:]]{1,15}$ ]] || usage "--shared: '$2' is not an interface name"
		shared=1
		iface=$2
		shift
		;;
	--queues)
		[ $# -ge 2 ] || usage "--queues needs a number"
		[[ $2 =~ ^[1-9][0-9]{0,2}$ ]] || usage "--queues: '$2' is not a number of queues"
		queues=$2
		shift
		;;
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
if [ "$shared" = 1 ]; then
	[ -z "$addr" ] || usage "--shared IFACE takes no PCI address: the card stays the kernel's"
	[ "$restore" = 0 ] || usage "--restore is for a card given to DPDK; a shared one stays the kernel's"
	queues=${queues:-1}
	[ "$dry" = 0 ] || say "dry run: nothing below is changed"
	[ -e "/sys/class/net/$iface" ] || {
		echo "setup-nic: no interface $iface (see ip link)" >&2
		exit 1
	}
	if [ "$dry" = 0 ]; then
		need_root "${args[@]}"
		# What this script runs: ip, ethtool, python3 (netlink, AF_XDP).
		DPTRACK_PACKAGES=(python3 iproute2 ethtool)
		install_deps
	fi
	setup_shared
	exit 0
fi
[ -z "$queues" ] || usage "--queues goes with --shared"
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
