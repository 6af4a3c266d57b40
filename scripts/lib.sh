# shellcheck shell=bash
# scripts/lib.sh - what run.sh and test.sh share: root, packages, build.
# Sourced, not run.

# Debian 12 packages the build and the tests need.
DPTRACK_PACKAGES=(
	gcc pkg-config meson ninja-build python3 # toolchain
	libdpdk-dev dpdk dpdk-dev                # DPDK 22.11: EAL, PMDs, devbind, dpdk-telemetry.py
	libyaml-dev                              # config loader
	libsodium-dev                            # SipHash for connection ids and table keys
	libnats-dev nats-server                  # the cluster: NATS JetStream client; servers for its tests
	libsystemd-dev                           # sd_notify: readiness, status and the watchdog
	systemd                                  # cli suite: systemd-analyze verify and security
	systemd-container                        # live suite: systemd-nspawn boots systemd for the unit
	libbpf-dev libxdp-dev                    # shared ports: the XDP program's maps; an AF_XDP socket in its unit test
	librte-net-af-xdp23                      # shared ports: DPDK's net_af_xdp, named since dptrack loads it at run time
	libcmocka-dev                            # unit tests
	clang-format clang-tidy                  # style suite
	valgrind                                 # memcheck test setup
	clang libclang-rt-14-dev                 # fuzz suite: libFuzzer, ASan, UBSan; clang -target bpf builds the XDP program
	python3-scapy                            # pcap suite: building and checking frames
	iproute2 ethtool iputils-ping procps     # live suite: namespaces, veths, ping, sysctl
	curl python3-prometheus-client           # live HTTP suite: a real client, a /metrics parser
	prometheus                               # contrib suite: promtool checks and tests the alert rules
	python3-yaml                             # live monitor test: reads the alert rules' expressions
	chromium chromium-driver                 # live dashboard test: /dashboard in headless Chromium,
	python3-selenium fonts-dejavu-core       #   driven by Selenium; the text of its screenshot
	python3-libtorrent transmission-cli aria2 # live suite: real BitTorrent clients
	kmod pciutils                            # setup-nic.sh: modprobe, lspci
	opentracker wrk                          # bench suite: the tracker to beat, an HTTP load
	gnuplot-nox fonts-dejavu-core            # bench.sh's charts: PNGs, and a font for their text
	linux-perf                               # bench.sh --profile: perf record, perf report
	groff-base                               # cli suite: groff checks the man pages
	dpkg-dev debhelper lintian               # package suite: deb.sh builds the .deb, lintian checks it
	gnuplot-nox                              # soak.sh: the soak's chart
)

die() {
	echo "dptrack: $*" >&2
	exit 1
}

# Re-runs the calling script as root through sudo when needed. $0 is made
# absolute first, since the scripts cd to the top of the tree.
need_root() {
	[ "$(id -u)" -eq 0 ] && return 0
	command -v sudo >/dev/null || die "run this as root (sudo is not installed)"
	exec sudo -E "$DPTRACK_SCRIPT" "$@"
}

# install_deps [PACKAGE...]: installs those of the packages (default: all
# of DPTRACK_PACKAGES) that are missing; touches apt only if one is.
install_deps() {
	local missing=() p
	[ $# -gt 0 ] || set -- "${DPTRACK_PACKAGES[@]}"
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "dptrack: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q || die "apt-get update failed"
	apt-get install -y -q --no-install-recommends "${missing[@]}" ||
		die "apt-get install ${missing[*]} failed"
	# Debian starts opentracker as a service on port 6969, dptrack's own:
	# the benchmark runs its own copy, so a fresh install is stopped.
	if [[ " ${missing[*]} " == *" opentracker "* ]] && [ -d /run/systemd/system ]; then
		systemctl disable --now opentracker.service >/dev/null 2>&1 || true
	fi
	# The prometheus package is here for promtool; its server, which it
	# starts as a service, is not wanted.
	if [[ " ${missing[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ]; then
		systemctl disable --now prometheus.service >/dev/null 2>&1 || true
	fi
}

# build_dir DIR [meson options...]: configures DIR once, then builds it.
build_dir() {
	local dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson configure "$dir" "$@" >/dev/null || die "meson configure $dir failed"
	else
		meson setup "$dir" "$@" || die "meson setup $dir failed"
	fi
	ninja -C "$dir" || die "build in $dir failed"
}
