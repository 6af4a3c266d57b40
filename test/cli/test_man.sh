#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The man pages: dptrack(8) and dptrack.yaml(5) render with groff without a
# single warning, and the generated dptrack.yaml(5) documents every key.
# The key list does not come from the page's generator (docs/man.py): it is
# what `dptrack --check-config` prints, the loader's own table, read by a
# few lines of awk; the same awk over config/dptrack.yaml must give the same
# list, so the documented file (the page's source) has every key too.
# Usage: test_man.sh DPTRACK MAN8 MAN5 CONFIG_YAML
set -u
# meson passes build outputs relative to the build directory; the checks
# run dptrack from a directory of their own.
dptrack=$(realpath "$1") man8=$(realpath "$2") man5=$(realpath "$3") yaml=$(realpath "$4")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$(dirname "$(realpath "$0")")/tap.sh"
on_fail() { sed 's/^/#   /' "$tmp/log" 2>/dev/null; }

command -v groff >/dev/null || not_ok "groff is installed (Debian package groff-base)"

# groff -ww: every warning category; -z: format, write nothing. Any
# message at all is a failure, whatever the status.
lint() {
	groff -man -ww -z "$1" >"$tmp/log" 2>&1 && [ ! -s "$tmp/log" ]
}
check "dptrack.8 renders with groff -man -ww and no warning" lint "$man8"
check "dptrack.yaml.5 renders with groff -man -ww and no warning" lint "$man5"

# section.key and section.group.key, from YAML laid out as dptrack writes
# it: sections at column 0, keys two spaces in, grouped keys four; list
# items ("- ") and their fields are values, not keys.
keys_of() {
	awk '/^[a-z_]+:/ { sec = $1; sub(/:.*/, "", sec) }
	     /^  [a-z_]+:/ { grp = $1; sub(/:.*/, "", grp); print sec "." grp }
	     /^    [a-z_]+:/ { k = $1; sub(/:.*/, "", k); print sec "." grp "." k }' "$1"
}
(cd "$tmp" && HOME=$tmp "$dptrack" --check-config >"$tmp/effective.yaml" 2>"$tmp/log")
check "dptrack --check-config prints the configuration" [ -s "$tmp/effective.yaml" ]
keys_of "$tmp/effective.yaml" >"$tmp/keys"
keys_of "$yaml" >"$tmp/yaml_keys"
n=$(wc -l <"$tmp/keys")
check "the configuration has keys to look for ($n)" [ "$n" -ge 40 ]
diff "$tmp/keys" "$tmp/yaml_keys" >"$tmp/log"
check "config/dptrack.yaml has every key dptrack knows, in its order" [ $? = 0 ]

# The page as a reader sees it: plain text, no hyphenation (the page turns
# it off). A key is documented when a line starts with its name, at the
# indent of a tagged paragraph.
groff -man -Tascii -P-cbou "$man5" >"$tmp/page.txt" 2>/dev/null
missing=0
while read -r key; do
	if ! grep -qE "^ {7}${key//./\\.}( |$)" "$tmp/page.txt"; then
		not_ok "dptrack.yaml(5) documents $key"
		missing=$((missing + 1))
	fi
done <"$tmp/keys"
[ "$missing" = 0 ] && [ "$n" -gt 0 ] && ok "dptrack.yaml(5) documents each of the $n keys"
check "dptrack.yaml(5) carries a key's comment (tracker.peer_timeout's)" \
	grep -q "Seconds after its last announce that a peer is dropped" "$tmp/page.txt"
check "dptrack.yaml(5) carries a section's own prose (cluster's)" \
	grep -q "Swarms shared with other dptrack instances" "$tmp/page.txt"

# dptrack(8): what the brief of the page promises, by section.
groff -man -Tascii -P-cbou "$man8" >"$tmp/page8.txt" 2>/dev/null
for sec in SYNOPSIS OPTIONS SIGNALS "EXIT STATUS" ENVIRONMENT FILES "SEE ALSO"; do
	check "dptrack(8) has a $sec section" grep -qx "$sec" "$tmp/page8.txt"
done
for word in --check-config --status --file-prefix --interval SIGTERM SIGHUP SIGUSR1 \
	DPTRACK_SECTION_KEY /etc/dptrack/dptrack.yaml dpdk_telemetry.v2 'dptrack.yaml(5)'; do
	check "dptrack(8) mentions $word" grep -qF -- "$word" "$tmp/page8.txt"
done
tap_end
