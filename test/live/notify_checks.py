#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""notify_checks.py - dptrack under systemd's notification protocol, with a
NOTIFY_SOCKET of this script's own, run by notify.sh in the client namespace.

This script plays systemd's part: it binds the datagram socket, starts
dptrack in the tracker namespace with NOTIFY_SOCKET (and WATCHDOG_USEC) in
its environment, and reads what dptrack sends.

  1. READY=1 arrives, and a BEP 15 connect sent the moment it does is
     answered at once: ready means answering.
  2. STATUS= names the swarms and peers announced.
  3. WATCHDOG=1 comes at the configured pace: half of WATCHDOG_USEC, no gap
     as long as the watchdog period.
  4. One worker lcore's thread stopped (PTRACE_SEIZE + PTRACE_INTERRUPT: that
     thread only): the pings stop within one watchdog period while HTTP
     still answers, the log names the lcore, and they resume once it runs.
  5. The HTTP thread stopped: the same, while UDP still answers.
  6. SIGHUP: RELOADING=1, then READY=1.
  7. SIGTERM: STOPPING=1, exit 0 (the snapshot saved).
  8. Started again without WATCHDOG_USEC: READY=1, and a scrape sent the
     moment it arrives finds the snapshot's peers (ready comes after the
     snapshot is loaded); no WATCHDOG=1 at all.

Prints one "ok - NAME" or "not ok - NAME: detail" line per check (tap.py).
Every wait is bounded.

Usage: notify_checks.py --dptrack PATH --config FILE --tr-ns NS --tmp DIR
         --v4 ADDR --port N --src4 ADDR --http ADDR:PORT --hash HEX
"""

import argparse
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import bep15_client as b  # noqa: E402
from tap import Checks, expect, first  # noqa: E402

WATCHDOG_S = 2.0  # WATCHDOG_USEC: dptrack pings every WATCHDOG_S / 2
PEERS = 3


class Notify:
    """The NOTIFY_SOCKET end: a thread that records (time, line) for every
    line of every datagram dptrack sends."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.lines = []
        self.lock = threading.Lock()
        self.done = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while not self.done:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            t = time.monotonic()
            with self.lock:
                for line in data.decode(errors="replace").splitlines():
                    self.lines.append((t, line))

    def since(self, t0, prefix=""):
        """(time, line) pairs received at or after t0 starting with prefix."""
        with self.lock:
            return [(t, s) for t, s in self.lines if t >= t0 and s.startswith(prefix)]

    def wait(self, t0, prefix, timeout):
        """The first (time, line) at or after t0 starting with prefix, waiting
        at most timeout seconds; None if none came."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            got = self.since(t0, prefix)
            if got:
                return got[0]
            time.sleep(0.02)
        return None

    def close(self):
        self.done = True
        self.thread.join()
        self.sock.close()


class Tracker:
    """dptrack started in the tracker namespace with our NOTIFY_SOCKET."""

    def __init__(self, a, watchdog):
        env = [f"NOTIFY_SOCKET={a.tmp}/notify.sock"]
        if watchdog:
            env.append(f"WATCHDOG_USEC={int(WATCHDOG_S * 1e6)}")
        self.log = f"{a.tmp}/dptrack.out"
        with open(self.log, "a") as out:
            # ip netns exec and env exec: the PID is dptrack's own.
            self.p = subprocess.Popen(["ip", "netns", "exec", a.tr_ns, "env", *env,
                                       a.dptrack, "-c", a.config],
                                      stdout=out, stderr=subprocess.STDOUT)
        with open(f"{a.tmp}/dptrack.pid", "w") as f:  # for notify.sh's trap
            f.write(str(self.p.pid))
        self.t0 = time.monotonic()

    def thread(self, prefix):
        """The TID of dptrack's first thread whose name starts with prefix."""
        for tid in sorted(os.listdir(f"/proc/{self.p.pid}/task"), key=int):
            with open(f"/proc/{self.p.pid}/task/{tid}/comm") as f:
                if f.read().strip().startswith(prefix):
                    return int(tid)
        return None

    def stop(self):
        """SIGTERM; its exit status (None if it had to be killed)."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            return None

    def logged(self, text):
        with open(self.log, errors="replace") as f:
            return text in f.read()


def connect(a, timeout=1.0, retries=0):
    """A BEP 15 connect from src4; raises unless answered."""
    with b.Client(a.v4, a.port, source=a.src4, timeout=timeout, retries=retries) as c:
        return c.connect()


def heartbeat(a):
    """None if GET /heartbeat answers 200 within 2 s, else why not."""
    host, port = a.http.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=2) as c:
        c.settimeout(2)
        c.send(b"GET /heartbeat HTTP/1.1\r\nHost: t\r\n\r\n")
        got = c.recv(100)
    return None if got.startswith(b"HTTP/1.1 200") else f"got {got[:40]!r}"


class Stopped:
    """One thread of another process stopped with PTRACE_SEIZE and
    PTRACE_INTERRUPT: only that thread stops, the process runs on."""

    SEIZE, INTERRUPT, DETACH = 0x4206, 0x4207, 17

    def __init__(self, pid, tid):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                                     ctypes.c_void_p]
        self.pid, self.tid = pid, tid

    def __enter__(self):
        if self.libc.ptrace(self.SEIZE, self.tid, None, None) != 0 or \
                self.libc.ptrace(self.INTERRUPT, self.tid, None, None) != 0:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
        os.waitpid(self.tid, 0x40000000)  # __WALL: it is a thread
        return self

    def state(self):
        with open(f"/proc/{self.pid}/task/{self.tid}/stat") as f:
            return f.read().split(")")[1].split()[0]

    def __exit__(self, *exc):
        self.libc.ptrace(self.DETACH, self.tid, None, None)


def announce_peers(a):
    """PEERS seeders in the test swarm, from distinct ports."""
    with b.Client(a.v4, a.port, source=a.src4, timeout=1, retries=3) as c:
        for i in range(PEERS):
            c.announce(bytes.fromhex(a.hash), event=b.EVENT_STARTED, left=0,
                       port=41000 + i, peer_id=bytes([i + 1]) * 20)


def pings_in(n, t0, t1):
    return [t for t, _ in n.since(t0, "WATCHDOG=1") if t < t1]


def check_pace(ck, n):
    """WATCHDOG=1 over 6 s: about one per WATCHDOG_S / 2, none missing."""
    t0 = time.monotonic()
    time.sleep(6.0)
    times = pings_in(n, t0, time.monotonic())
    gaps = [y - x for x, y in zip(times, times[1:])]
    print(f"# WATCHDOG=1: {len(times)} in 6 s, gaps "
          + " ".join(f"{g:.2f}" for g in gaps), flush=True)

    def pace():
        if len(times) < 4:
            return f"{len(times)} pings in 6 s, expected about {6 / (WATCHDOG_S / 2):.0f}"
        if max(gaps) >= WATCHDOG_S:
            return f"a gap of {max(gaps):.2f} s: systemd would have killed it"
        if min(gaps) < WATCHDOG_S / 4:
            return f"a gap of {min(gaps):.2f} s: faster than the pace asked"
        return None
    ck.check(f"WATCHDOG=1 every ~{WATCHDOG_S / 2:g} s (WATCHDOG_USEC {WATCHDOG_S:g} s), "
             f"no gap of {WATCHDOG_S:g} s", pace)


def check_stall(ck, n, tr, what, prefix, logged, other_name, other):
    """Stops dptrack's thread named prefix...: pings stop within one period,
    other() still succeeds meanwhile, the log has logged; pings resume."""
    tid = tr.thread(prefix)
    if tid is None:
        ck.check(f"dptrack has a thread {prefix}*", lambda: "not found")
        return
    try:
        with Stopped(tr.p.pid, tid) as s:
            t0 = time.monotonic()
            state = s.state()
            time.sleep(WATCHDOG_S * 2)
            t1 = time.monotonic()
            during = other()
    except OSError as e:
        ck.check(f"ptrace stops {what}", lambda: str(e))
        return
    late = [t - t0 for t in pings_in(n, t0 + WATCHDOG_S, t1)]
    after = [t - t0 for t in pings_in(n, t0, t1)]
    print(f"# {what} stopped for {t1 - t0:.1f} s: pings at +"
          + " +".join(f"{t:.2f}" for t in after), flush=True)
    ck.check(f"{what} stopped (thread state t): pings stop within one watchdog period",
             lambda: first(expect("thread state", state, "t"),
                           f"pings {late} s after the stop" if late else None,
                           None if len(after) <= 1 else f"{len(after)} pings after the stop"))
    ck.check(f"while {what} is stopped, {other_name}", lambda: during)
    ck.check(f"the log names the stuck thread ('{logged}')",
             lambda: None if tr.logged(logged) else "not in the log")
    resumed = n.wait(t1, "WATCHDOG=1", WATCHDOG_S * 1.5)
    ck.check(f"once {what} runs again, the pings resume within {WATCHDOG_S * 1.5:g} s",
             lambda: None if resumed else "none")


def udp_answers(a):
    try:
        connect(a, timeout=1, retries=2)
        return None
    except (OSError, b.Bep15Error) as e:
        return f"no BEP 15 answer: {e}"


def http_answers(a):
    try:
        return heartbeat(a)
    except OSError as e:
        return f"no HTTP answer: {e}"


def ready(ck, n, tr, name):
    """Waits for READY=1; True if it came (checked)."""
    r = n.wait(tr.t0, "READY=1", 30)
    ck.check(f"{name}: READY=1 arrives within 30 s of the start",
             lambda: None if r else "none" if tr.p.poll() is None
             else f"dptrack exited ({tr.p.returncode})")
    return r is not None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for opt in ("dptrack", "config", "tr-ns", "tmp", "v4", "src4", "http", "hash"):
        p.add_argument("--" + opt, required=True)
    p.add_argument("--port", type=int, required=True)
    a = p.parse_args()
    ck = Checks(errors=(OSError, b.Bep15Error))
    n = Notify(f"{a.tmp}/notify.sock")

    # --- with the watchdog ------------------------------------------------------
    tr = Tracker(a, watchdog=True)
    try:
        if not ready(ck, n, tr, "with WatchdogSec"):
            return 1
        ck.check("a BEP 15 connect sent the moment READY=1 arrives is answered at once",
                 lambda: connect(a, timeout=1, retries=0) and None)
        ck.check("no READY=1 before the first (one only)",
                 lambda: expect("READY=1 lines", len(n.since(tr.t0, "READY=1")), 1))
        announce_peers(a)
        st = n.wait(time.monotonic(), f"STATUS=1 swarms, {PEERS} peers", 8)
        ck.check(f"STATUS= reports '1 swarms, {PEERS} peers, N requests/s' within 8 s",
                 lambda: None if st else "last: " + repr(n.since(tr.t0, "STATUS=")[-1:]))
        check_pace(ck, n)
        check_stall(ck, n, tr, "worker lcore 2's thread", "rte-worker-2",
                    "watchdog: lcore 2 made no progress", "HTTP still answers",
                    lambda: http_answers(a))
        check_stall(ck, n, tr, "the HTTP thread", "dpt-http0",
                    "watchdog: HTTP thread 0 made no progress", "UDP still answers",
                    lambda: udp_answers(a))
        with open(tr.log, errors="replace") as f:
            stuck = f.read().count("made no progress")
        ck.check("no other thread was ever called stuck (2 log lines, one per stop)",
                 lambda: expect("'made no progress' lines", stuck, 2))
        t = time.monotonic()
        tr.p.send_signal(signal.SIGHUP)
        rl = n.wait(t, "RELOADING=1", 10)
        rd = n.wait(t, "READY=1", 10)
        ck.check("SIGHUP: RELOADING=1, then READY=1 once the reload is applied",
                 lambda: "no RELOADING=1" if rl is None else "no READY=1" if rd is None
                 else None if rd[0] >= rl[0] else "READY=1 came before RELOADING=1")
        t = time.monotonic()
        rc = tr.stop()
        ck.check("SIGTERM: STOPPING=1 and exit status 0",
                 lambda: first(None if n.since(t, "STOPPING=1") else "no STOPPING=1",
                               expect("exit status", rc, 0)))
    finally:
        tr.stop()

    # --- without it, from the snapshot -----------------------------------------
    tr = Tracker(a, watchdog=False)
    try:
        if not ready(ck, n, tr, "without WatchdogSec"):
            return 1

        def from_snapshot():
            with b.Client(a.v4, a.port, source=a.src4, timeout=1, retries=0) as c:
                r = c.scrape([bytes.fromhex(a.hash)])
            return expect("seeders of the snapshot's swarm", r[0].complete, PEERS)
        ck.check(f"a scrape sent the moment READY=1 arrives finds the snapshot's "
                 f"{PEERS} seeders", from_snapshot)
        time.sleep(WATCHDOG_S * 1.5)
        ck.check("without WATCHDOG_USEC no WATCHDOG=1 is sent",
                 lambda: expect("WATCHDOG=1 lines", len(n.since(tr.t0, "WATCHDOG=1")), 0))
        ck.check("STATUS= is sent all the same",
                 lambda: None if n.since(tr.t0, "STATUS=") else "none")
        rc = tr.stop()
        ck.check("SIGTERM: exit status 0", lambda: expect("exit status", rc, 0))
    finally:
        tr.stop()
        n.close()
    return 1 if ck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
