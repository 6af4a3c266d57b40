#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test suite that exists:
#   unit (cmocka), cli (the dptrack binary, setup-nic.sh --dry-run),
#   pcap (replay through the real binary), live (namespaces, kernel clients),
#   package (the Debian package built, installed, removed and purged),
#   style (clang-format, clang-tidy, the docs' links and paths),
#   contrib (the monitoring kit: promtool),
#   bench (dpt-load and scripts/bench.sh on a tiny workload, never timed),
#   soak (scripts/soak.sh: a 60 s soak under churn and five kill -9 cycles,
#   about two minutes), fuzz (libFuzzer + ASan/UBSan harnesses, built with
#   clang in build-fuzz, 20 s each),
#   the unit suite under valgrind memcheck, and the unit and pcap suites
#   again built with AddressSanitizer + UBSan (the pcap suite then runs the
#   sanitized dptrack over every capture, malformed frames included).
# What each suite checks, and how to run one by hand: docs/TESTING.md.
# Usage: sudo ./scripts/test.sh
set -euo pipefail
DPTRACK_SCRIPT=$(realpath "$0")
cd "$(dirname "$DPTRACK_SCRIPT")/.."
. scripts/lib.sh
need_root "$@"
install_deps

# Warnings are errors in CI; a user's newer compiler should not block them.
werror=false
[ -n "${CI:-}" ] && werror=true

build_dir build -Dwerror=$werror
meson test -C build --print-errorlogs --num-processes 2
meson test -C build --setup valgrind --suite unit --print-errorlogs --num-processes 2

# Sanitizers: b_lundef off because ASan's runtime resolves symbols late.
build_dir build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=$werror
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan --suite unit --suite pcap --print-errorlogs --num-processes 2

# Fuzzing: a clang build of its own; each libFuzzer harness for a bounded time.
CC=clang build_dir build-fuzz -Dwerror=$werror
meson test -C build-fuzz --suite fuzz --print-errorlogs --num-processes 2

echo "dptrack: all test suites passed"
