#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""run.py - one pcap scenario through the real dptrack binary.

Usage: run.py DPTRACK NAME [--pcap-dir DIR] [--keep]

Runs `DPTRACK -c CONFIG -- --vdev net_pcap0,rx_pcap=DIR/NAME.in.pcap,tx_pcap=OUT`
twice in replay mode (clock from the capture, fixed connection-id secret,
seeded RNG) in a fresh temporary directory, and checks:

  1. both runs exit 0;
  2. both runs send the same frames, byte for byte, in the same order;
  3. those frames are DIR/NAME.out.pcap's, byte for byte, in order;
  4. test/pcap/check.py accepts them as answers to the input;
  5. dptrack prints every `counter NAME VALUE` line of DIR/NAME.counters,
     and no drop_*, udp_bad_* or udp_err_* counter that file leaves out;
  6. both runs print the same counters, but for those of the host's clock
     (CLOCKED: the packet loop's cycles, the uptime);
  7. check.py's model of the input predicts the counters of NAME.counters
     (scripts/gen-pcap.py and check.py agree on what the input is).

Frames are compared, not files: net_pcap stamps every record it writes with
the wall clock, so two runs never give byte-identical pcap files, and the
expected file carries the requests' timestamps instead.

Prints `ok - ...` / `not ok - ...` per check, the differing frames decoded
and dptrack's output on failure, and ends with `N passed, N failed`. Exits 0
if all passed, 1 otherwise.
Python 3 standard library only.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check  # noqa: E402

RUN_TIMEOUT = 30   # seconds; a run takes under one, with exit_after_idle_ms

CONFIG = """\
# Written by test/pcap/run.py: deterministic replay on one net_pcap port.
log: {{ level: warn }}
udp: {{ ports: [6969], connection_id_secret: "{secret}" }}
dpdk:
  eal_args: ["--no-huge", "-m", "512", "--no-pci", "--no-shconf", "-l", "0",
             "--file-prefix", "{prefix}", "--log-level", "lib.eal:error"]
  ports: [ {{ device: net_pcap0, ipv4: 198.18.0.2/24, ipv6: "fd00:d::2/64" }} ]
  exit_after_idle_ms: 300
  replay: true
  rng_seed: 42
http: {{ enabled: false }}
tracker: {{ max_swarms: 1000, memory_mb: 64 }}
"""

SECRET = "000102030405060708090a0b0c0d0e0f"
COUNTED = ("drop_", "udp_bad_", "udp_err_")  # families checked for strays too
# Counters of the host's clock, not of the frames: the packet loop's TSC
# cycles (lcore*_busy_cycles, lcore*_cycles) and the uptime differ from run
# to run; every other counter must not.
CLOCKED = ("_cycles", "uptime_seconds")


class Result:
    def __init__(self):
        self.passed = self.failed = 0
        self.pairs = []       # (input index, output index) from check.py
        self.out_recs = []    # the first run's frames

    def report(self, ok, name, detail=""):
        if ok:
            self.passed += 1
            print(f"ok - {name}")
        else:
            self.failed += 1
            print(f"not ok - {name}")
            if detail:
                print("    " + detail.rstrip().replace("\n", "\n    "))
        return ok


def run_dptrack(dptrack, tmp, name, inp, i):
    """Runs dptrack once; returns (exit status or None on timeout, stdout,
    stderr, output pcap path)."""
    prefix = f"dptrack-pcap-{name}-{os.getpid()}-{i}"
    cfg = os.path.join(tmp, f"run{i}.yaml")
    out = os.path.join(tmp, f"run{i}.out.pcap")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(secret=SECRET, prefix=prefix))
    home = os.path.join(tmp, "home")
    os.makedirs(home, exist_ok=True)
    # No DPTRACK_* overrides, no ./dptrack.yaml or ~/.config/dptrack/ picked up.
    env = {k: v for k, v in os.environ.items() if not k.startswith("DPTRACK_")}
    env["HOME"] = home
    cmd = [dptrack, "-c", cfg, "--", "--vdev", f"net_pcap0,rx_pcap={inp},tx_pcap={out}"]
    p = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, errors="replace")
    try:
        so, se = p.communicate(timeout=RUN_TIMEOUT)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGTERM)
        try:
            so, se = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            so, se = p.communicate()
        rc, se = None, se + f"\n(run.py: killed after {RUN_TIMEOUT} s)"
    # EAL leaves its run directory (telemetry socket) behind; the prefix is ours.
    shutil.rmtree(os.path.join("/var/run/dpdk", prefix), ignore_errors=True)
    return rc, so, se, out


def parse_counters(text):
    c = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) == 3 and f[0] == "counter" and f[2].isdigit():
            c[f[1]] = int(f[2])
    return c


def read_counters_file(path):
    want = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                _, k, v = line.split()
                want[k] = int(v)
    return want


def tail(text, n=40):
    lines = text.rstrip().splitlines()
    return "\n".join(lines[-n:]) if lines else "(nothing)"


def compare_frames(a, b, what_a, what_b):
    """Returns '' if the frame lists are equal, else where they first differ."""
    for k in range(max(len(a), len(b))):
        fa = a[k][2] if k < len(a) else None
        fb = b[k][2] if k < len(b) else None
        if fa == fb:
            continue
        lines = [f"frame #{k} differs ({what_a}: {len(a)} frames, {what_b}: {len(b)} frames)"]
        for what, fr in ((what_a, fa), (what_b, fb)):
            lines.append(f"{what}: " + (check.describe(fr) if fr is not None else "(none)"))
            if fr is not None:
                lines.append(f"{' ' * len(what)}  {fr.hex()}")
        if fa is not None and fb is not None:
            off = next((i for i in range(min(len(fa), len(fb))) if fa[i] != fb[i]),
                       min(len(fa), len(fb)))
            lines.append(f"first differing byte at offset {off}")
        return "\n".join(lines)
    return ""


def run_scenario(dptrack, name, pcap_dir, bless=False, keep=False):
    """Runs the checks; returns a Result. bless: NAME.out.pcap is being
    (re)written, so check 3 is left out."""
    res = Result()
    dptrack = os.path.abspath(dptrack)
    inp = os.path.abspath(os.path.join(pcap_dir, name + ".in.pcap"))
    in_recs = check.read_pcap(inp)
    tmp = tempfile.mkdtemp(prefix=f"dptrack-pcap-{name}-")
    print(f"# pcap {name}: {len(in_recs)} input frames")
    try:
        runs = []
        for i in (1, 2):
            rc, so, se, out = run_dptrack(dptrack, tmp, name, inp, i)
            try:
                recs = check.read_pcap(out)
            except (OSError, ValueError) as e:
                recs, se = [], se + f"\n(run.py: {e})"
            runs.append((rc, so, se, recs))
            res.report(rc == 0, f"run {i} exits 0",
                       f"exit status {rc}\n--- stdout\n{tail(so)}\n--- stderr\n{tail(se)}")
        (_, so1, se1, out1), (_, so2, _, out2) = runs
        res.out_recs = out1
        diff = compare_frames(out1, out2, "run 1", "run 2")
        res.report(not diff, "both runs send the same frames", diff)

        if not bless:
            exp_path = os.path.join(pcap_dir, name + ".out.pcap")
            try:
                exp = check.read_pcap(exp_path)
                diff = compare_frames(exp, out1, "expected", "got")
            except (OSError, ValueError) as e:
                diff = f"{e}; scripts/gen-pcap.py --expected DPTRACK writes it"
            res.report(not diff, f"frames equal {name}.out.pcap", diff)

        errs, res.pairs, predicted = check.check(check.Iface(secret=SECRET), in_recs, out1)
        detail = "\n".join(errs[:30]) + (f"\n... {len(errs) - 30} more" if len(errs) > 30 else "")
        if errs:
            detail += "\n" + explain(errs, in_recs, out1)
        res.report(not errs, f"check.py accepts the {len(out1)} replies", detail)

        want = read_counters_file(os.path.join(pcap_dir, name + ".counters"))
        c1, c2 = parse_counters(so1), parse_counters(so2)
        bad = [f"{k}: want {v}, got {c1.get(k, 'none')}" for k, v in sorted(want.items())
               if c1.get(k) != v and not (v == 0 and k not in c1)]
        bad += [f"{k}: {v}, not expected at all" for k, v in sorted(c1.items())
                if k.startswith(COUNTED) and v and k not in want]
        res.report(not bad, f"counters match {name}.counters",
                   "\n".join(bad) + f"\n--- dptrack stdout\n{tail(so1, 80)}\n--- stderr\n{tail(se1)}")
        same = {k for k in set(c1) | set(c2) if not k.endswith(CLOCKED)}
        res.report(all(c1.get(k) == c2.get(k) for k in same), "both runs print the same counters",
                   "\n".join(f"{k}: {c1.get(k)} vs {c2.get(k)}"
                             for k in sorted(same) if c1.get(k) != c2.get(k)))
        pbad = [f"{k}: {name}.counters {want.get(k, 0)}, check.py {predicted.get(k, 0)}"
                for k in sorted(set(want) | set(predicted)) if want.get(k, 0) != predicted.get(k, 0)]
        res.report(not pbad, f"check.py's model predicts {name}.counters", "\n".join(pbad))
    finally:
        if keep:
            print(f"# kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
            if res.failed:
                print("# run.py --keep keeps the configs, outputs and pcaps for a look")
    return res


def explain(errs, in_recs, out_recs):
    """Decodes the frames the first few problems name."""
    lines, seen = [], set()
    for e in errs[:5]:
        words = e.split()
        for i, w in enumerate(words[:-1]):
            if w in ("input", "output") and words[i + 1].startswith("#"):
                num = words[i + 1].strip("#:,)")
                if not num.isdigit() or (w, num) in seen:
                    continue
                seen.add((w, num))
                recs = in_recs if w == "input" else out_recs
                k = int(num)
                if k < len(recs):
                    lines.append(f"{w} #{k}: {check.describe(recs[k][2])}")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dptrack")
    ap.add_argument("name")
    ap.add_argument("--pcap-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                       "..", "..", "pcap"))
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    res = run_scenario(a.dptrack, a.name, a.pcap_dir, keep=a.keep)
    print(f"{res.passed} passed, {res.failed} failed")
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
