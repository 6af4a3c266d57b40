#!/usr/bin/env bash
# clang-tidy, with the root .clang-tidy, over every C source in the build's
# compile_commands.json that belongs to the project.
# Usage: check_tidy.sh SOURCE_ROOT BUILD_DIR
set -u
src=$1
build=$2
cd "$src" || exit 1
files=$(find core config cluster dpdk kernel-http test/bench -name '*.c' | sort)
n=$(echo "$files" | wc -l)
out=$(echo "$files" | xargs -P"$(nproc)" -n1 clang-tidy -p "$build" --quiet 2>&1)
bad=$(echo "$out" | grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' | cut -d: -f1 | sort -u)
if [ -n "$bad" ]; then
	echo "$out" | grep -E '(warning|error):' -A3
	nbad=$(echo "$bad" | wc -l)
else
	nbad=0
fi
echo "$((n - nbad)) passed, $nbad failed"
[ "$nbad" -eq 0 ]
