# SPDX-License-Identifier: BSD-3-Clause
"""monitor_kit.py - reads contrib/'s monitoring kit for the tests: the PromQL
expressions of the Prometheus rules (contrib/prometheus/dptrack-rules.yml)
and of the Grafana dashboard (contrib/grafana/dptrack.json), and the
dptrack_* metric names they use.

Used by check_dashboard.py (suite contrib) and by
test/live/monitor_checks.py, which compares the names with a live
dptrack's /metrics. Standard library only, but rules_exprs() needs PyYAML
(Debian's python3-yaml).
"""

import json
import re

# A metric name of dptrack's, wherever it stands in an expression
# (dptrack_x{...}, rate(dptrack_x[5m]), label_values(dptrack_x, job)).
NAME = re.compile(r"\bdptrack_[A-Za-z0-9_]+\b")

# Grafana's variables, replaced by something PromQL parses.
GRAFANA_VARS = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "1h",
    "$job": ".*",
    "$instance": ".*",
}


def metric_names(exprs):
    """The set of dptrack_* names in the expressions exprs (strings)."""
    return {n for e in exprs for n in NAME.findall(e)}


def panels(dash):
    """Every panel of a dashboard (dict), those inside collapsed rows too."""
    for p in dash.get("panels", []):
        yield p
        yield from p.get("panels", [])


def dashboard_exprs(dash):
    """[(where, expr)] of every query target of the dashboard's panels;
    where is "panel TITLE, target REFID"."""
    return [(f"panel {p.get('title')!r}, target {t.get('refId')}", t.get("expr", ""))
            for p in panels(dash) for t in p.get("targets", [])]


def dashboard_variable_queries(dash):
    """[(where, query)] of the templating variables of type query: Grafana's
    label_values(...), not PromQL, but they name metrics too."""
    out = []
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        q = v.get("query")
        out.append((f"variable {v.get('name')}", q.get("query", "") if isinstance(q, dict) else q))
    return out


def load_dashboard(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def promql(expr):
    """expr with Grafana's variables replaced, for promtool to parse."""
    for var, value in GRAFANA_VARS.items():
        expr = expr.replace(var, value)
    return expr


def rules_exprs(path):
    """[(alert or record name, expr)] of every rule of a Prometheus rules file."""
    import yaml  # Debian's python3-yaml; only this function needs it

    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    return [(r.get("alert") or r.get("record"), r["expr"])
            for g in doc["groups"] for r in g["rules"]]
