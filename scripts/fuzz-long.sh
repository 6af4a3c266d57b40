#!/usr/bin/env bash
# Long fuzz runs, as recorded in docs/FUZZING.md: each libFuzzer harness
# for RUNS executions (default 10 million), one after another, each over its
# seeds and a corpus kept in DIR/corpus-NAME between runs. Prints per
# harness: executions, seconds, exec/s, edges covered, corpus size, and any
# crash file (DIR/art-NAME/); exits 1 if a harness found something.
# Usage: sudo ./scripts/fuzz-long.sh [RUNS [DIR [HARNESS...]]]
#   (DIR defaults to build-fuzz/long; harnesses: frame udp http cfg sync)
set -euo pipefail
DPTRACK_SCRIPT=$(realpath "$0")
cd "$(dirname "$DPTRACK_SCRIPT")/.."
. scripts/lib.sh
need_root "$@"
install_deps

runs=${1:-10000000}
dir=$(realpath -m "${2:-build-fuzz/long}")
shift 2 || shift $#
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(frame udp http cfg sync)

CC=clang build_dir build-fuzz
mkdir -p "$dir"
found=0
for h in "${harnesses[@]}"; do
	exe=build-fuzz/test/fuzz/fuzz_$h
	[ -x "$exe" ] || die "no harness $exe"
	mkdir -p "$dir/corpus-$h" "$dir/art-$h"
	start=$(date +%s)
	rc=0
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$exe" -runs="$runs" -rss_limit_mb=2048 \
		-timeout=10 -print_final_stats=1 -artifact_prefix="$dir/art-$h/" \
		"$dir/corpus-$h" "build-fuzz/test/fuzz/seeds/$h" >"$dir/log-$h.txt" 2>&1 || rc=$?
	secs=$(($(date +%s) - start))
	# A harness that starts EAL leaves its run directory: prefix dpt-NAME-PID.
	rm -rf /var/run/dpdk/dpt-"$h"-* 2>/dev/null || true
	execs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$dir/log-$h.txt")
	cov=$(grep -Eo 'cov: [0-9]+' "$dir/log-$h.txt" | tail -1)
	echo "fuzz_$h: ${execs:-?} executions in $secs s (exit $rc), $cov edges," \
		"corpus $(find "$dir/corpus-$h" -type f | wc -l) files"
	if [ "$rc" -ne 0 ]; then
		found=1
		ls "$dir/art-$h"
		tail -n 40 "$dir/log-$h.txt"
	fi
done
exit $found
