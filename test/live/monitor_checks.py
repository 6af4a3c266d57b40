#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""monitor_checks.py - the monitoring kit against a live dptrack, run by
monitor.sh: every dptrack_* metric name that the Prometheus rules
(contrib/prometheus/dptrack-rules.yml) and the Grafana dashboard
(contrib/grafana/dptrack.json) use in their expressions is one that this
dptrack's /metrics exposes, so no alert or panel waits on a name that
does not exist. The instance runs with its cluster on, so the cluster's
names are there to be found.

The expressions are read by test/contrib/monitor_kit.py; /metrics is
fetched once over HTTP from this namespace (an address in stats.allow),
checked by prometheus_client's parser, and its series names read as
written, as Prometheus stores them.

Prints one "ok - NAME" or "not ok - NAME: detail" line per check and exits
1 if any failed.

Usage: monitor_checks.py --metrics URL --rules FILE --dashboard FILE
"""

import argparse
import os
import re
import sys
import urllib.request

from tap import Checks  # beside this file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "contrib"))
from monitor_kit import (dashboard_exprs, dashboard_variable_queries,  # noqa: E402
                         load_dashboard, metric_names, rules_exprs)


# A sample line's series name (comments and blank lines do not match).
SERIES = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]")


def fetch(url):
    """The body of GET url, as text; raises OSError on a failure or a status
    other than 200."""
    with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310 (a test URL)
        if r.status != 200:
            raise OSError(f"GET {url}: status {r.status}")
        return r.read().decode("utf-8")


def exposed(text):
    """{series name: value of its first sample} of a Prometheus text page:
    the names as written, which are those Prometheus stores and queries
    use. (prometheus_client's parser, which checks the page first, would
    rename a counter's sample that lacks _total, such as the lag
    histogram's dptrack_cluster_lag_milliseconds_bucket.)"""
    from prometheus_client.parser import text_string_to_metric_families

    list(text_string_to_metric_families(text))  # raises ValueError if malformed
    names = {}
    for line in text.splitlines():
        m = SERIES.match(line)
        if m:
            names.setdefault(m.group(1), float(line.rsplit(" ", 1)[1]))
    return names


def uses(where_exprs):
    """{metric name: [where it is used]} for the names of [(where, expr)]."""
    out = {}
    for where, expr in where_exprs:
        for n in metric_names([expr]):
            out.setdefault(n, []).append(where)
    return out


def all_exposed(used, have):
    """A check function: None if every name of used is in have."""
    def fn():
        missing = {n: w for n, w in sorted(used.items()) if n not in have}
        if not used:
            return "no dptrack_* name found in the expressions"
        if missing:
            return "not in /metrics: " + "; ".join(
                f"{n} (used by {', '.join(w[:2])})" for n, w in missing.items())
        return None
    return fn


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--metrics", required=True, help="URL of the live /metrics")
    ap.add_argument("--rules", required=True, help="contrib/prometheus/dptrack-rules.yml")
    ap.add_argument("--dashboard", required=True, help="contrib/grafana/dptrack.json")
    a = ap.parse_args()
    ck = Checks(errors=(OSError, ValueError))
    have = {}

    def scrape():
        have.update(exposed(fetch(a.metrics)))
        return None if have else "no samples"
    if not ck.check("GET /metrics parses as Prometheus text", scrape):
        return 1

    def cluster_on():
        if have.get("dptrack_cluster_connected") != 1:
            return (f"dptrack_cluster_connected {have.get('dptrack_cluster_connected')}, "
                    "expected 1 (the cluster's names must be there to be checked)")
        return None
    ck.check("the instance is connected to its NATS server (dptrack_cluster_connected 1)",
             cluster_on)

    rules = uses(rules_exprs(a.rules))
    dash_doc = load_dashboard(a.dashboard)
    dash = uses(dashboard_exprs(dash_doc) + dashboard_variable_queries(dash_doc))
    ck.check(f"every one of the {len(rules)} dptrack_* names in the alert rules' expressions "
             "is in /metrics", all_exposed(rules, have))
    ck.check(f"every one of the {len(dash)} dptrack_* names in the dashboard's queries and "
             "variables is in /metrics", all_exposed(dash, have))

    def histogram_read():
        name = "dptrack_cluster_lag_milliseconds_bucket"
        return None if name in rules and name in dash else f"{name} not among the names read"
    ck.check("the lag histogram's _bucket series is among the names checked", histogram_read)
    return 1 if ck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
