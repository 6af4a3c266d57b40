#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# contrib/prometheus: the alert rules load in Prometheus (promtool check
# rules) and their unit tests pass (promtool test rules: each alert fires on
# series that should fire it, with its labels and annotations, and stays
# quiet on series that should not). Prints "ok"/"not ok" per check, then
# "N passed, N failed"; exits 1 on a failure or without promtool (Debian's
# prometheus package, which scripts/lib.sh installs).
# Usage: check_rules.sh CONTRIB_PROMETHEUS_DIR
set -u

if [ $# -ne 1 ]; then
	echo "usage: $0 CONTRIB_PROMETHEUS_DIR" >&2
	exit 2
fi
dir=$1
# shellcheck source-path=SCRIPTDIR source=../cli/tap.sh
. "$(dirname "$0")/../cli/tap.sh"

# on_fail: check() shows the output of the step that failed.
on_fail() { sed 's/^/#   /' "$out"; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT

promtool_run() { timeout 120 promtool "$@" >"$out" 2>&1; }

# Every alert of the rules has a test that evaluates it.
every_alert_tested() {
	local a
	while read -r a; do
		grep -q "alertname: $a\$" "$dir/dptrack-rules.test.yml" ||
			{ echo "no test evaluates $a" >"$out"; return 1; }
	done < <(awk '$1 == "-" && $2 == "alert:" { print $3 }' "$dir/dptrack-rules.yml")
}

if ! command -v promtool >/dev/null; then
	not_ok "promtool is installed (scripts/lib.sh installs it: Debian's prometheus)"
	tap_end
	exit 1
fi
check "promtool check rules dptrack-rules.yml" promtool_run check rules "$dir/dptrack-rules.yml"
check "promtool test rules dptrack-rules.test.yml: each alert fires on its series, not on the others" \
	promtool_run test rules "$dir/dptrack-rules.test.yml"
check "every alert of dptrack-rules.yml has a test" every_alert_tested
tap_end
