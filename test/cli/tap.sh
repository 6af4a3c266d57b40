# shellcheck shell=bash
# test/cli/tap.sh - what the shell test scripts share: an "ok"/"not ok" line
# per check and the closing "N passed, N failed" count. Sourced.

pass=0
fails=0

# check NAME COMMAND...: runs COMMAND and reports NAME; after a failure it
# also runs the script's on_fail function, if it has one (to show output).
check() {
	local name=$1
	shift
	if "$@"; then
		pass=$((pass + 1))
		echo "ok - $name"
	else
		fails=$((fails + 1))
		echo "not ok - $name"
		if declare -F on_fail >/dev/null; then on_fail; fi
	fi
}

# Prints the count; the script's exit status is this function's.
tap_end() {
	echo "$pass passed, $fails failed"
	[ "$fails" -eq 0 ]
}

# ok NAME / not_ok NAME: count and report a check decided elsewhere (a
# script's own test, or a line of a helper program's output).
ok() {
	pass=$((pass + 1))
	echo "ok - $1"
}
not_ok() {
	fails=$((fails + 1))
	echo "not ok - $1"
}
