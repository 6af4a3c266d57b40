#!/usr/bin/env bash
# Installs what is missing, builds, and starts dptrack on its built-in
# default configuration (config/dptrack.yaml, compiled in).
# Usage: sudo ./scripts/run.sh [-c FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
need_root "$@"
install_deps
build_dir build

# This build has the tracker core and the configuration; the DPDK packet
# path (and with it a running tracker) arrives with the next milestone. Until
# then run.sh shows the effective configuration and stops.
./build/dpdk/dptrack --check-config "$@"
cat <<'MSG'

dptrack: built and configuration checked. This build does not answer
traffic yet: the DPDK packet path and the HTTP listener are the next
milestones (see README.md, "Status"). Run the tests with:
    sudo ./scripts/test.sh
MSG
