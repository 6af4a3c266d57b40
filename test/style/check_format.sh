#!/usr/bin/env bash
# Every C source and header follows the root .clang-format.
# Usage: check_format.sh SOURCE_ROOT
set -u
cd "$1" || exit 1
bad=0
n=0
while IFS= read -r f; do
	n=$((n + 1))
	if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "needs clang-format: $f"
		bad=$((bad + 1))
	fi
done < <(find core config cluster dpdk kernel-http test -name '*.[ch]' | sort)
echo "$((n - bad)) passed, $bad failed"
[ "$bad" -eq 0 ]
