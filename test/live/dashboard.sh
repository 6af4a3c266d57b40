#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The live dashboard test: GET /dashboard in a real browser, Debian's
# headless Chromium driven by Selenium, while a bounded BEP 15 load runs.
#
#   netns TR (tracker)                              netns CL (client)
#   dptrack --vdev net_af_packet0,iface=vtP  <-A->  vcP: 198.18.0.1/24, fd00:d::1/64
#   htP: 198.18.1.2/24, fd00:e::2/64         <-B->  hcP: 198.18.1.1/24, fd00:e::1/64
#                                                   (in stats.allow; the browser)
#
# test/live/dashboard_checks.py, in CL, loads the page and checks that its
# charts (requests/s, peers, swarms, drops, lcore load) hold data points
# that grow between two reads and show the load, and that the page asked
# for nothing but /dashboard and /stats; it saves a screenshot to
# SCREENSHOT, BETWEEN seconds (default 15) after the first read: longer
# gives a fuller picture. Then SIGTERM: exit 0, the counters, no mbuf leaked. Prints
# "ok"/"not ok" per check, then "N passed, N failed"; exits 1 on any
# failure or missing tool, 77 (skip) without root.
#
# Needs: root, iproute2, ethtool, iputils-ping, curl, chromium,
# chromium-driver, /usr/bin/python3 with python3-selenium.
# Usage: dashboard.sh PATH_TO_DPTRACK SCREENSHOT_PNG [BETWEEN]

# shellcheck disable=SC2317 # functions run from traps or through check()
set -u

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
	echo "usage: $0 PATH_TO_DPTRACK SCREENSHOT_PNG [BETWEEN]" >&2
	exit 2
fi
dptrack=$(realpath "$1")
screenshot=$(realpath -m "$2")
between=${3:-15}
here=$(dirname "$(realpath "$0")")
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

live_require ip ethtool ping sysctl curl /usr/bin/chromium /usr/bin/chromedriver "$python"
"$python" -c 'import selenium.webdriver' 2>/dev/null || live_missing python3-selenium
live_init dash
live_plan

link_b() { live_link_b 198.18.1.1 fd00:e::1; }
live_setup "namespaces $tr_ns and $cl_ns with veth $tr_if/$cl_if and $trh_if/$clh_if set up" \
	198.18.0.1 fd00:d::1 link_b

cat >"$tmp/dptrack.yaml" <<EOF
log: { level: info }
tracker:
  max_swarms: 10000
  memory_mb: 64
udp: { ports: [$port] }
$(live_dpdk_yaml "$udp4" "$udp6")
  idle_sleep_us: 1000
http:
  enabled: true
  listen: ["0.0.0.0:$port", "[::]:$port"]
  threads: 1
stats: { allow: ["198.18.1.1/32"] }
EOF
live_check_config
live_start "dptrack answers ping and GET /heartbeat within 20 s of starting" 100 live_answers_both

mkdir -p "$tmp/chromium"
live_checks $((between + 120)) "$here/dashboard_checks.py" --url "http://$http4:$port/dashboard" \
	--udp4 "$udp4" --udp6 "$udp6" --src4 198.18.0.1 --src6 fd00:d::1 --port "$port" \
	--screenshot "$screenshot" --profile "$tmp/chromium" --between "$between" \
	--load-seconds $((between + 75))

live_stop
live_check_counters udp_announce udp_scrape drop_udp_port
finish
