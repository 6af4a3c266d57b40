#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""check_dashboard.py - contrib/grafana/dptrack.json is a dashboard Grafana
imports on any Prometheus data source, and its queries are PromQL that
Prometheus parses.

Checks: it is JSON with a title, a uid and panels; a data source variable
of type prometheus, which every panel and query uses (no data source of
the author's hard-coded); panel ids unique, panels inside the 24-column
grid and not overlapping; every query an expression with a unique refId;
every expression parsed by `promtool check rules` (each written as a
recording rule, Grafana's variables replaced); and the figures the
operator kit asks for are all drawn. Whether the metrics exist in a live
dptrack is test/live/monitor.sh's part.

Prints one "ok - NAME" or "not ok - NAME: detail" line per check, then
"N passed, N failed"; exits 1 if any failed.

Usage: check_dashboard.py DASHBOARD_JSON
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

from monitor_kit import dashboard_exprs, load_dashboard, metric_names, panels, promql

# What issue 14's monitoring kit asks the dashboard to draw.
REQUIRED = [
    "dptrack_requests_total",                 # rates by action and protocol
    "dptrack_lcore_tx_packets_total",         # replies/s per lcore
    "dptrack_lcore_busy_cycles_total",        # lcore load
    "dptrack_lcore_cycles_total",
    "dptrack_peers",                          # peers by family
    "dptrack_swarms",
    "dptrack_memory_used_bytes",              # memory against budget
    "dptrack_memory_budget_bytes",
    "dptrack_drops_total",                    # drops by reason
    "dptrack_http_connections_open",          # HTTP connections
    "dptrack_snapshot_last_unix",             # snapshot age
    "dptrack_cluster_records_published_total",  # the cluster's rates
    "dptrack_cluster_records_applied_total",
    "dptrack_cluster_lag_milliseconds_bucket",  # lag
    "dptrack_cluster_connected",              # connected state
]
DS = {"type": "prometheus", "uid": "${datasource}"}
passed = failed = 0


def check(name, detail):
    """Reports a check: detail None passes, anything else is why it failed."""
    global passed, failed
    if detail is None:
        passed += 1
        print(f"ok - {name}", flush=True)
    else:
        failed += 1
        print(f"not ok - {name}: {detail}", flush=True)


def structure(dash):
    check("it has a title, a uid and panels",
          None if dash.get("title") and dash.get("uid") and dash.get("panels")
          else f"title {dash.get('title')!r}, uid {dash.get('uid')!r}")
    var = [v for v in dash.get("templating", {}).get("list", []) if v.get("type") == "datasource"]
    check("a data source variable named datasource, of type prometheus",
          None if len(var) == 1 and var[0].get("name") == "datasource"
          and var[0].get("query") == "prometheus" else f"data source variables: {var}")
    users = [p for p in panels(dash) if p.get("type") != "row"]
    bad = [p.get("title") for p in users if p.get("datasource") != DS
           or any(t.get("datasource") != DS for t in p.get("targets", []))]
    check("every panel and every query reads ${datasource}", f"not: {bad}" if bad else None)
    for_vars = [v.get("name") for v in dash.get("templating", {}).get("list", [])
                if v.get("type") == "query" and v.get("datasource") != DS]
    check("every query variable reads ${datasource}", f"not: {for_vars}" if for_vars else None)

    ids = [p.get("id") for p in panels(dash)]
    check("panel ids are unique", None if len(ids) == len(set(ids)) else f"ids {ids}")
    cells, outside, overlap = {}, [], []
    for p in panels(dash):
        g = p.get("gridPos", {})
        x, y, w, h = (g.get(k, -1) for k in ("x", "y", "w", "h"))
        if x < 0 or y < 0 or w <= 0 or h <= 0 or x + w > 24:
            outside.append(p.get("title"))
            continue
        for cx in range(x, x + w):
            for cy in range(y, y + h):
                if (cx, cy) in cells:
                    overlap.append((cells[(cx, cy)], p.get("title")))
                cells[(cx, cy)] = p.get("title")
    check("every panel lies within the 24-column grid", f"not: {outside}" if outside else None)
    check("no two panels overlap",
          f"overlapping: {sorted(set(overlap))[:3]}" if overlap else None)

    no_expr = [p.get("title") for p in users if not p.get("targets")
               or any(not t.get("expr") for t in p["targets"])]
    check("every panel has queries, each an expression", f"not: {no_expr}" if no_expr else None)
    dup = [p.get("title") for p in users
           if len({t.get("refId") for t in p.get("targets", [])}) != len(p.get("targets", []))]
    check("refIds are unique within each panel", f"repeated in: {dup}" if dup else None)


def parses(exprs):
    """None if promtool parses every expression (as recording rules of a
    rules file; YAML reads the JSON written), else why not."""
    promtool = shutil.which("promtool")
    if promtool is None:
        return "promtool is not installed (scripts/lib.sh installs it: Debian's prometheus)"
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:expr_{i}", "expr": promql(e)} for i, (_, e) in enumerate(exprs)]}]}
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "dashboard-rules.yml")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(rules, f, indent=1)
        r = subprocess.run([promtool, "check", "rules", path], capture_output=True, text=True,
                           timeout=60, check=False)
    if r.returncode == 0:
        return None
    out = (r.stdout + r.stderr).strip()
    for i, (where, _) in reversed(list(enumerate(exprs))):  # expr_12 before expr_1
        out = out.replace(f"dashboard:expr_{i}", where)
    return out[-1500:]


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    try:
        dash = load_dashboard(sys.argv[1])
    except (OSError, ValueError) as e:
        check("the dashboard is JSON", f"{type(e).__name__}: {e}")
        print(f"{passed} passed, {failed} failed")
        return 1
    check("the dashboard is JSON", None)
    structure(dash)
    exprs = dashboard_exprs(dash)
    check(f"promtool parses all {len(exprs)} query expressions", parses(exprs))
    missing = sorted(set(REQUIRED) - metric_names(e for _, e in exprs))
    check("it draws rates by action and protocol, replies/s and load per lcore, peers, "
          "swarms, memory against budget, drops, HTTP connections, snapshot age, and the "
          "cluster's rates, lag and connected state", f"no query of {missing}" if missing else None)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
