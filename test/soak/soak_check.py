#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""soak_check.py - the verdicts of scripts/soak.sh on what a soak sampled.

Reads the soak's CSV (one row a sample; columns in docs/SOAK.md) and the
tracker's exit counters ("counter NAME VALUE" lines), and checks, over the
samples after --warmup seconds but the last (taken as the load ends):

  growth   resident memory outside EAL's (without hugepages, EAL's memory
           stays resident wherever the heap once reached; it is reported)
           and the bytes DPDK's heap has allocated: the least-squares slope
           times the span checked at most max(--rss-tol-pct of the mean,
           --rss-tol-mb); mbufs in use: at most --mbuf-tol; open
           descriptors: at most --fd-tol;
  band     table memory, peers and swarms: every sample within --band-pct of
           the median of the first third of the samples checked;
  drift    replies/s: the median of the last third at least (100 -
           --rps-drift-pct)% of the first third's; latency p99: the last
           third's median at most (100 + --p99-drift-pct)% of the first's
           plus --p99-floor-us (a floor for noise). Judged on the samples in
           which the tracker's lcore waited for a CPU less than --busy-pct
           of the time (a shared machine's other work moves both figures
           far more than any drift); with fewer than 2 such samples in a
           third, the check says so and is skipped;
  errors   the generator lost nothing (judged in the samples where neither
           it nor the lcore waited for a CPU over --busy-pct) and got no
           error reply in any sample; every error, drop and failure counter
           at exit is 0 (those in EXPECTED may be anything; tx_full only
           judged when the generator never waited), mbufs_leaked is 0, and
           the counters a soak must move (REQUIRED) are above 0.

Prints "ok - ..." / "not ok - ..." lines, then one SOAK line of figures;
exits 1 if a check failed. With --counters-only, only the error counters of
COUNTERS are checked (CSV is ignored; soak.sh --chaos, before each kill).
COUNTERS holds "counter NAME VALUE" lines (dptrack's exit lines) or the
JSON of the telemetry command /dptrack/stats. --allow NAME lets a counter
be anything (the drops a kernel beside a side port causes: MLD reports).

Usage: soak_check.py CSV COUNTERS [--warmup S] [--rss-tol-pct P] ...
       soak_check.py --counters-only - COUNTERS [--allow NAME]...
"""

import argparse
import csv
import json
import statistics
import sys

# Counters that must stay 0: a prefix or an exact name.
MUST_BE_ZERO = ("drop_", "tx_full", "rx_multiseg", "tracker_silent", "udp_err_",
                "http_err_", "udp_bad_", "http_bad_", "refused_", "snapshot_failures",
                "mbufs_leaked", "reload_failures", "access_list_reload_failures",
                "cluster_drop_", "cluster_acks_failed", "cluster_async_errors",
                "http_responses_4", "http_responses_5", "http_connections_refused")
# Port counters whose names carry the port's index: port0_rx_missed, ...
PORT_ZERO = ("_rx_missed", "_rx_nombuf", "_rx_errors", "_tx_errors")
# Counters that may be anything: records older than what the table holds
# (a cluster applying its own stream back); lcore-local totals.
EXPECTED = ("cluster_drop_stale",)
# Counters a soak must have moved.
REQUIRED = ("udp_connect", "udp_announce", "udp_scrape", "http_announce", "http_scrape",
            "snapshot_saves", "http_connections_idle_closed")


def slope(xs, ys):
    """Least-squares slope of ys over xs (0 with fewer than 2 points)."""
    if len(xs) < 2:
        return 0.0
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0


def read_counters(path):
    """{name: value} from exit lines or a /dptrack/stats telemetry reply."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    if text.lstrip().startswith("{"):
        d = json.loads(text)
        return {k: int(v) for k, v in d.get("/dptrack/stats", d).items()}
    counters = {}
    for line in text.splitlines():
        w = line.split()
        if len(w) == 3 and w[0] == "counter":
            counters[w[1]] = int(w[2])
    return counters


def bad_counters(counters, allow):
    """The error, drop and failure counters that moved, as NAME=VALUE."""
    return sorted(f"{k}={v}" for k, v in counters.items()
                  if v != 0 and k not in EXPECTED and k not in allow and
                  (k.startswith(MUST_BE_ZERO) or
                   (k.startswith("port") and k.endswith(PORT_ZERO))))


def main():
    p = argparse.ArgumentParser(description="soak verdicts")
    p.add_argument("csv")
    p.add_argument("counters")
    p.add_argument("--warmup", type=float, default=15)
    p.add_argument("--rss-tol-pct", type=float, default=2.0)
    p.add_argument("--rss-tol-mb", type=float, default=4.0)
    p.add_argument("--mbuf-tol", type=float, default=64)
    p.add_argument("--fd-tol", type=float, default=32)
    p.add_argument("--band-pct", type=float, default=10.0)
    p.add_argument("--rps-drift-pct", type=float, default=10.0)
    p.add_argument("--p99-drift-pct", type=float, default=50.0)
    p.add_argument("--p99-floor-us", type=float, default=100.0)
    p.add_argument("--busy-pct", type=float, default=10.0)
    p.add_argument("--no-http", action="store_true", help="HTTP clients did not run")
    p.add_argument("--counters-only", action="store_true")
    p.add_argument("--allow", action="append", default=[])
    a = p.parse_args()
    if a.counters_only:
        counters = read_counters(a.counters)
        bad = bad_counters(counters, a.allow)
        print(("ok - " if counters and not bad else "not ok - ") +
              f"no error, drop or failure counter moved ({len(counters)} read)" +
              (f": {' '.join(bad)}" if bad else ""))
        return 0 if counters and not bad else 1

    with open(a.csv, newline="", encoding="ascii") as f:
        rows = [{k: float(v) for k, v in r.items()} for r in csv.DictReader(f)]
    counters = read_counters(a.counters)
    fails = 0

    def check(ok, what):
        nonlocal fails
        print(("ok - " if ok else "not ok - ") + what)
        fails += 0 if ok else 1

    # The last sample is taken as the load ends (the generator and the
    # HTTP clients stop, connections close): drawn, not judged.
    cut = [r for r in rows[:-1] if r["t_s"] >= a.warmup]
    check(len(cut) >= 4, f"{len(cut)} samples after the {a.warmup:g} s warm-up (at least 4)")
    if len(cut) < 4:
        print("SOAK samples=%d" % len(rows))
        return 1
    t = [r["t_s"] for r in cut]
    span = t[-1] - t[0]
    third = max(1, len(cut) // 3)

    def col(name):
        return [r[name] for r in cut]

    # Growth: a trend, not noise. Resident memory in two parts: EAL's
    # memory without hugepages is one mapping whose pages stay resident
    # once touched, so its part grows as the heap's allocations reach new
    # addresses, up to EAL's -m, leak or not; what is allocated in that
    # heap is DPDK's own figure. The rest (libc's heap, threads' stacks,
    # libraries) is resident memory proper.
    def growth(name, values, tol_pct, tol_mb):
        g = slope(t, values) * span
        tol = max(tol_pct / 100 * statistics.fmean(values), tol_mb)
        check(g <= tol, f"{name} does not grow: {g:+.2f} MiB fitted over {span:.0f} s "
              f"({slope(t, values) * 3600:+.2f} MiB/h; tolerance {tol:.2f} MiB), "
              f"{min(values):.1f}..{max(values):.1f} MiB")
        return g
    rss = [v / 1024 for v in col("rss_kb")]  # MiB
    eal = [v / 1024 for v in col("eal_rss_kb")]
    rss_growth = slope(t, rss) * span
    growth("resident memory outside EAL's", [x - y for x, y in zip(rss, eal)],
           a.rss_tol_pct, a.rss_tol_mb)
    heap = [v / 1048576 for v in col("heap_alloc_bytes")]
    heap_growth = growth("DPDK heap allocated", heap, a.rss_tol_pct, a.rss_tol_mb)
    print(f"# resident memory, all of it: {rss_growth:+.2f} MiB fitted over {span:.0f} s "
          f"({slope(t, rss) * 3600:+.2f} MiB/h), {min(rss):.1f}..{max(rss):.1f} MiB; of it "
          f"EAL's pages touched {min(eal):.1f}..{max(eal):.1f} MiB "
          f"({slope(t, eal) * 3600:+.2f} MiB/h); the heap's free elements "
          f"{min(col('heap_free_elems')):.0f}..{max(col('heap_free_elems')):.0f}, "
          f"largest {min(col('heap_largest_free')) / 1048576:.1f} MiB at least")
    mb_growth = slope(t, col("mbufs_in_use")) * span
    check(mb_growth <= a.mbuf_tol,
          f"mbufs in use do not grow: {mb_growth:+.1f} fitted over {span:.0f} s "
          f"(tolerance {a.mbuf_tol:g}), {min(col('mbufs_in_use')):.0f}.."
          f"{max(col('mbufs_in_use')):.0f}")
    fd_growth = slope(t, col("fds")) * span
    check(fd_growth <= a.fd_tol,
          f"open descriptors do not grow: {fd_growth:+.1f} fitted (tolerance {a.fd_tol:g}), "
          f"{min(col('fds')):.0f}..{max(col('fds')):.0f}")

    # Bands: the table stays where it settled.
    for name, values in (("table memory", col("table_bytes")),
                         ("peers", [r["peers4"] + r["peers6"] for r in cut]),
                         ("swarms", col("swarms"))):
        ref = statistics.median(values[:third])
        lo, hi = ref * (1 - a.band_pct / 100), ref * (1 + a.band_pct / 100)
        out = [v for v in values if not lo <= v <= hi]
        check(not out, f"{name} stays within {a.band_pct:g}% of {ref:.0f}: "
              f"{min(values):.0f}..{max(values):.0f}"
              + (f", {len(out)} samples outside" if out else ""))

    # Drift: the last third against the first, on the samples in which
    # the lcore and the generator had their CPUs.
    rps, p99 = col("rps"), col("p99_us")
    for i, r in enumerate(rows):  # % of each sample's interval spent waiting
        dt = r["t_s"] - (rows[i - 1]["t_s"] if i else 0)
        r["waited_pct"] = r["lcore_wait_ms"] / 10 / dt if dt > 0 else 0.0
        r["gen_waited_pct"] = r.get("gen_wait_ms", 0) / 10 / dt if dt > 0 else 0.0
    waited = col("waited_pct")
    # The generator measures the latency: a generator that waits for a CPU
    # sees late replies however fast the tracker was.
    quiet = [r["waited_pct"] < a.busy_pct and r["gen_waited_pct"] < a.busy_pct for r in cut]
    first = [i for i in range(third) if quiet[i]]
    last = [i for i in range(len(cut) - third, len(cut)) if quiet[i]]
    busy = f"the lcore or the generator waited for a CPU over {a.busy_pct:g}% of the time " \
           f"in {quiet.count(False)} of {len(cut)} samples (the lcore's median " \
           f"{statistics.median(waited):.0f}%, the generator's " \
           f"{statistics.median(col('gen_waited_pct')):.0f}%)"
    r0 = r1 = q0 = q1 = 0.0
    if len(first) < 2 or len(last) < 2:
        print(f"ok - replies/s and latency p99 drift not judged # SKIP {busy}")
    else:
        r0 = statistics.median(rps[i] for i in first)
        r1 = statistics.median(rps[i] for i in last)
        check(r1 >= r0 * (1 - a.rps_drift_pct / 100),
              f"replies/s do not drift down more than {a.rps_drift_pct:g}%: first third "
              f"{r0:.0f}, last third {r1:.0f} ({(r1 / r0 - 1) * 100 if r0 else 0:+.1f}%)")
        q0 = statistics.median(p99[i] for i in first)
        q1 = statistics.median(p99[i] for i in last)
        check(q1 <= q0 * (1 + a.p99_drift_pct / 100) + a.p99_floor_us,
              f"latency p99 does not drift up more than {a.p99_drift_pct:g}% + "
              f"{a.p99_floor_us:g} us: first third {q0:.1f} us, last third {q1:.1f} us")

    # Errors. A request is lost when no reply came within a second: judged
    # in the samples where neither side waited for a CPU over --busy-pct
    # (a tracker or generator the host stood still for a second loses a
    # window's worth, whatever its code); error replies in all of them.
    def starved(r):
        return r["waited_pct"] >= a.busy_pct or r["gen_waited_pct"] >= a.busy_pct
    lost = sum(r["gen_lost"] for r in rows if not starved(r))
    lost_busy = sum(r["gen_lost"] for r in rows if starved(r))
    errs = sum(r["gen_errors"] for r in rows)
    check(lost == 0 and errs == 0,
          f"the generator lost no request and got no error reply ({lost:.0f} lost, "
          f"{errs:.0f} errors)" + (f"; {lost_busy:.0f} lost in samples where a side waited "
                                   f"for a CPU over {a.busy_pct:g}% of the time, not judged"
                                   if lost_busy else ""))
    check(bool(counters), f"the tracker's exit counters were read ({len(counters)})")
    # tx_full: replies the generator did not take in time; judged only if
    # it never waited for a CPU.
    gen_busy = any(r["gen_waited_pct"] >= a.busy_pct for r in rows)
    if gen_busy and counters.get("tx_full", 0):
        print(f"# tx_full={counters['tx_full']}: the generator waited for a CPU over "
              f"{a.busy_pct:g}% of a sample's time, not judged")
    bad = bad_counters(counters, a.allow + (["tx_full"] if gen_busy else []))
    check(not bad, "no error, drop or failure counter moved" +
          (f": {' '.join(bad)}" if bad else ""))
    need = [k for k in REQUIRED if not (a.no_http and k.startswith("http"))]
    idle = [k for k in need if counters.get(k, 0) <= 0]
    check(not idle, "the soak moved every counter it should (" + " ".join(
        f"{k}={counters.get(k, 0)}" for k in need) + ")")

    print(f"SOAK samples={len(rows)} checked={len(cut)} span_s={span:.0f} "
          f"rss_mib={statistics.fmean(rss):.1f} rss_growth_mib={rss_growth:+.2f} "
          f"rss_mib_per_h={slope(t, rss) * 3600:+.2f} "
          f"other_rss_mib={statistics.fmean(rss) - statistics.fmean(eal):.1f} "
          f"heap_mib={statistics.fmean(heap):.1f} heap_growth_mib={heap_growth:+.2f} "
          f"table_mib={statistics.fmean(col('table_bytes')) / 1048576:.2f} "
          f"mbufs={statistics.fmean(col('mbufs_in_use')):.0f} mbuf_growth={mb_growth:+.1f} "
          f"peers={statistics.fmean([r['peers4'] + r['peers6'] for r in cut]):.0f} "
          f"swarms={statistics.fmean(col('swarms')):.0f} "
          f"rps={statistics.median(rps):.0f} rps_first={r0:.0f} rps_last={r1:.0f} "
          f"p99_us={statistics.median(p99):.1f} p99_first={q0:.1f} p99_last={q1:.1f} "
          f"lcore_waited_pct={statistics.median(waited):.1f}")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
