#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""run_fuzz.py - one bounded libFuzzer run, as a meson test.

Usage: run_fuzz.py HARNESS SEED_DIR SECONDS ARTIFACT_DIR [libFuzzer flags...]

Runs HARNESS for SECONDS over a fresh corpus directory (new inputs go there)
and SEED_DIR (read only), then deletes the fresh directory. A crash, leak,
timeout or broken invariant fails the test; libFuzzer writes the input to
ARTIFACT_DIR/NAME-crash-SHA1 (kept) and this prints it in hex for the log.
"""

import glob
import os
import shutil
import subprocess
import sys
import tempfile


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    harness, seeds, seconds, artifacts = sys.argv[1:5]
    name = os.path.basename(harness)
    os.makedirs(artifacts, exist_ok=True)
    prefix = os.path.join(artifacts, name + "-")
    before = set(glob.glob(prefix + "*"))
    with tempfile.TemporaryDirectory(prefix=f"dpt-{name}-") as corpus:
        cmd = [harness, f"-max_total_time={seconds}", "-rss_limit_mb=2048", "-timeout=10",
               "-print_final_stats=1", f"-artifact_prefix={prefix}", *sys.argv[5:],
               corpus, seeds]
        print(" ".join(cmd), flush=True)
        env = dict(os.environ)
        env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
        proc = subprocess.Popen(cmd, env=env)
        rc = proc.wait()
    # A harness that starts EAL (eal_test_init: prefix dpt-NAME-PID) leaves
    # its empty run directory behind when libFuzzer exits; it is ours.
    for d in glob.glob(f"/var/run/dpdk/dpt-*-{proc.pid}"):
        shutil.rmtree(d, ignore_errors=True)
    for f in sorted(set(glob.glob(prefix + "*")) - before):
        with open(f, "rb") as fh:
            print(f"{f}: {fh.read(4096).hex()}")
    sys.exit(rc)


if __name__ == "__main__":
    main()
