#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The live test of test/tracker_check.py, the user's tracker check tool:
# pointed at dptrack's four announce URLs, every check must PASS.
#
#   netns TR (tracker)                              netns CL (client)
#   dptrack --vdev net_af_packet0,iface=vtP  <-A->  vcP: 198.18.0.1/24, fd00:d::1/64
#   vtP: up, no address, IPv6 off                   (dptrack owns 198.18.0.2, fd00:d::2)
#   htP: 198.18.1.2/24, fd00:e::2/64         <-B->  hcP: 198.18.1.1/24, fd00:e::1/64
#   (dptrack's HTTP threads, kernel TCP)
#
# From CL, tracker_check.py runs against udp://198.18.0.2:6969/announce,
# udp://[fd00:d::2]:6969/announce, http://198.18.1.2:6969/announce and
# http://[fd00:e::2]:6969/announce: each of its PASS lines is an "ok", each
# FAIL or SKIP (every check applies to these URLs) a "not ok", and any
# other line is shown. Then once
# more with --json, whose output must parse and agree with itself, and once
# against a port nobody serves, which must fail (status 1) within its bound.
# Finally dptrack is stopped with SIGTERM and must exit 0. Prints "ok"/"not
# ok" per check, then "N passed, N failed"; exits 1 on any failure (showing
# dptrack's output) or missing tool, 77 (skip) without root. Namespaces,
# start/stop and counting: test/live/lib.sh.
#
# Needs: root, iproute2, ethtool, iputils-ping, curl, /usr/bin/python3.
# Usage: check.sh PATH_TO_DPTRACK

# shellcheck disable=SC2317 # functions run from traps or through check()
set -u

if [ $# -ne 1 ]; then
	echo "usage: $0 PATH_TO_DPTRACK" >&2
	exit 2
fi
dptrack=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
tool=$(realpath "$here/../tracker_check.py")
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

live_require ip ethtool ping sysctl curl "$python"
live_init check
trh_if=ht$$ # link B: the kernel's TCP (link A, tr_if/cl_if: dptrack's packet path)
clh_if=hc$$
udp4=198.18.0.2
udp6=fd00:d::2
http4=198.18.1.2
http6=fd00:e::2
port=6969
urls=("udp://$udp4:$port/announce" "udp://[$udp6]:$port/announce"
	"http://$http4:$port/announce" "http://[$http6]:$port/announce")

# --- the namespaces and the two veth pairs -----------------------------------
link_b() { live_link_b 198.18.1.1 fd00:e::1; }
live_setup "namespaces $tr_ns and $cl_ns with veth $tr_if/$cl_if and $trh_if/$clh_if set up" \
	198.18.0.1 fd00:d::1 link_b

cat >"$tmp/dptrack.yaml" <<EOF
log: { level: info }
tracker:
  announce_interval: 900
  max_swarms: 10000
  memory_mb: 64
udp: { ports: [$port] }
$(live_dpdk_yaml "$udp4" "$udp6")
http:
  enabled: true
  listen: ["0.0.0.0:$port", "[::]:$port"]
  threads: 2
EOF
live_check_config

live_start "dptrack answers ping and GET /heartbeat within 20 s of starting" 100 live_answers_both

# --- the text run: one line per check ----------------------------------------
# A run takes seconds; the bound is for a tracker that stops answering.
in_cl timeout --foreground 100 "$python" "$tool" "${urls[@]}" >"$tmp/text.out" 2>&1
rc=$?
while read -r result rest; do
	case $result in
	PASS) ok "tracker_check: $rest" ;;
	FAIL | SKIP) not_ok "tracker_check: $result $rest" ;;
	*) echo "# $result $rest" ;;
	esac
done <"$tmp/text.out"
n_pass=$(grep -c '^PASS ' "$tmp/text.out")
check "tracker_check ran at least 40 checks (ran $n_pass passing)" [ "$n_pass" -ge 40 ]
check "tracker_check's summary is \"$n_pass passed, 0 failed, 0 skipped\"" \
	grep -qx "$n_pass passed, 0 failed, 0 skipped" "$tmp/text.out"
check "tracker_check exits 0 when every check passed (status $rc)" [ "$rc" = 0 ]

# --- the JSON run ----------------------------------------------------------------
in_cl timeout --foreground 100 "$python" "$tool" --json "${urls[@]}" \
	>"$tmp/json.out" 2>"$tmp/json.err"
rc=$?
check "tracker_check --json exits 0 (status $rc)" [ "$rc" = 0 ]
# Checks the JSON's shape and its counts; prints what is wrong, if anything.
validate_json() {
	"$python" - "$tool" "$tmp/json.out" "$n_pass" "${urls[@]}" <<'EOF'
import json, os, sys
tool, path, n_text, urls = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
sys.path.insert(0, os.path.dirname(tool))
import tracker_check as tc
with open(path) as f:
    d = json.load(f)
assert d["tool"] == "tracker_check", d.get("tool")
res = d["results"]
assert isinstance(res, list) and res, "no results"
for r in res:
    assert set(r) == {"url", "check", "description", "result", "reason"}, sorted(r)
    assert r["result"] in ("PASS", "FAIL", "SKIP"), r
    assert r["url"] in urls, r["url"]
    assert r["result"] == "PASS", f"{r['url']} {r['check']}: {r['result']} {r['reason']}"
for k, v in (("passed", "PASS"), ("failed", "FAIL"), ("skipped", "SKIP")):
    assert d[k] == sum(1 for r in res if r["result"] == v), k
assert d["passed"] == len(res) == n_text, f"{len(res)} results, {n_text} in the text run"
assert {r["url"] for r in res} == set(urls), "a URL has no results"
for u in urls:
    sent = d["sent"][u]
    n = sent.get("udp_datagrams", sent.get("http_requests"))
    bound = tc.UDP_DATAGRAMS_MAX if u.startswith("udp") else tc.HTTP_REQUESTS_MAX
    assert 0 < n <= bound, f"{u}: sent {sent}, bound {bound}"
EOF
}
check "tracker_check --json prints one valid object: every check PASS, counts agree, \
within the stated bounds" validate_json

# --- a port nobody serves: failures, bounded ----------------------------------
start=$SECONDS
in_cl timeout --foreground 60 "$python" "$tool" --timeout 0.5 \
	"udp://$udp4:$((port + 1))/announce" "http://$http4:$((port + 1))/announce" \
	>"$tmp/dead.out" 2>&1
rc=$?
sed 's/^/# /' "$tmp/dead.out"
check "tracker_check exits 1 against a port nobody serves (status $rc, $((SECONDS - start)) s)" \
	[ "$rc" = 1 ]
check "there, nothing passes and what needs an answer first is skipped" \
	grep -qE '^0 passed, [1-9][0-9]* failed, [1-9][0-9]* skipped$' "$tmp/dead.out"

# --- stop dptrack --------------------------------------------------------------
live_stop
live_check_counters http_announce http_scrape udp_connect udp_announce udp_scrape
finish
