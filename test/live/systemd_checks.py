#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""systemd_checks.py - dptrack.service under a real systemd, run by
systemd.sh in the client namespace. The systemd is PID 1 of a container
(LEADER, its host PID); systemctl and journalctl run in its namespaces
through nsenter, and dptrack's threads are found and ptrace-stopped from
the host's side.

  1. The unit is active after `systemctl start` (Type=notify: READY=1 came)
     and systemd shows dptrack's STATUS= line.
  2. The sandbox holds on the main process: no new privileges, a seccomp
     filter, exactly the unit's capability bounding set; in its mount
     namespace / and /usr are read-only, /var/lib/dptrack and /run/dpdk
     writable.
  3. `dptrack --status`, run as an operator would, finds it: EAL's runtime
     directory is /var/run/dpdk, not systemd's $RUNTIME_DIRECTORY.
  4. PEERS seeders announced over BEP 15; `systemctl kill -s USR1` saves
     the snapshot in /var/lib/dptrack, readable by its owner only (UMask=).
  5. `systemctl reload`: SIGHUP, the reload logged, active again (READY=1
     after RELOADING=1; `systemctl reload` itself returns before them).
  6. Worker lcore 2's thread ptrace-stopped: systemd's watchdog kills
     dptrack with SIGABRT within 1.5 x WatchdogSec (the log names lcore 2),
     restarts it, and the new process answers a scrape with the snapshot's
     seeders. Prints how long each step took after the stop.
  7. `systemctl stop`: exit status 0 and /run/dpdk left in place
     (RuntimeDirectoryPreserve=, other DPDK processes share it).
  8. A bad configuration (an out-of-range DPTRACK_* override in systemd's
     environment): dptrack exits 2 and systemd does not restart it
     (RestartPreventExitStatus=2).

Prints one "ok - NAME" or "not ok - NAME: detail" line per check (tap.py).
Every wait is bounded.

Usage: systemd_checks.py --leader PID --dptrack PATH_IN_CONTAINER
         --prefix PREFIX --v4 ADDR --port N --src4 ADDR --hash HEX
"""

import argparse
import os
import stat
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, ".."))
sys.path.insert(0, here)
import bep15_client as b  # noqa: E402
from notify_checks import Stopped  # noqa: E402
from tap import Checks, expect, first  # noqa: E402

PEERS = 3
WALL = 0x40000000  # waitpid's __WALL: the stopped task is a thread

# Linux capability numbers, as /proc/PID/status encodes them (CapBnd).
CAPS = ("chown dac_override dac_read_search fowner fsetid kill setgid setuid setpcap "
        "linux_immutable net_bind_service net_broadcast net_admin net_raw ipc_lock "
        "ipc_owner sys_module sys_rawio sys_chroot sys_ptrace sys_pacct sys_admin "
        "sys_boot sys_nice sys_resource sys_time sys_tty_config mknod lease audit_write "
        "audit_control setfcap mac_override mac_admin syslog wake_alarm block_suspend "
        "audit_read perfmon bpf checkpoint_restore").split()


class Container:
    """The container's systemd, seen from the host."""

    def __init__(self, leader):
        self.leader = leader
        self.root = f"/proc/{leader}/root"

    def run(self, *cmd, timeout=30):
        """A command in the container: (exit status, stdout and stderr)."""
        p = subprocess.run(["nsenter", "-t", str(self.leader), "-a", *cmd],
                           capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout + p.stderr

    def show(self, *props):
        """systemctl show dptrack: {property: value}."""
        _, out = self.run("systemctl", "show", "dptrack", "-p", ",".join(props))
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def journal_lacks(self, texts, timeout=5):
        """Those of texts not in dptrack.service's journal within timeout
        seconds (journald may take a moment)."""
        end = time.monotonic() + timeout
        while True:
            log = self.run("journalctl", "-u", "dptrack", "-o", "cat", "--no-pager")[1]
            missing = [t for t in texts if t not in log]
            if not missing or time.monotonic() >= end:
                return missing
            time.sleep(0.2)

    def host_pid(self, pid):
        """The host's PID of the container's process pid."""
        ns = os.stat(f"/proc/{self.leader}/ns/pid").st_ino
        for p in filter(str.isdigit, os.listdir("/proc")):
            try:
                if os.stat(f"/proc/{p}/ns/pid").st_ino != ns:
                    continue
                with open(f"/proc/{p}/status") as f:
                    nspid = next(x for x in f if x.startswith("NSpid:")).split()
                if nspid[-1] == str(pid):
                    return int(p)
            except (OSError, StopIteration):
                continue
        raise OSError(f"no host PID for the container's {pid}")


def status(pid):
    """/proc/PID/status as {field: value}."""
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def thread(pid, name):
    """The TID of pid's thread called name, or None."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/comm") as f:
            if f.read().strip() == name:
                return int(tid)
    return None


def scrape(a, timeout=1.0, retries=2):
    """Seeders of the test swarm, by a BEP 15 scrape."""
    with b.Client(a.v4, a.port, source=a.src4, timeout=timeout, retries=retries) as c:
        return c.scrape([bytes.fromhex(a.hash)])[0].complete


def wait_for(fn, timeout, step=0.1):
    """fn()'s first true value within timeout seconds, else None."""
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() >= end:
            return v or None
        time.sleep(step)


def secs(t):
    return "never" if t is None else f"{t:.2f} s"


def check_sandbox(ck, ct, hp):
    st = status(hp)
    bnd = int(st["CapBnd"], 16)
    have = {n for i, n in enumerate(CAPS) if bnd >> i & 1}
    want = {c.lower().removeprefix("cap_")
            for c in ct.show("CapabilityBoundingSet")["CapabilityBoundingSet"].split()}
    ck.check(f"its capability bounding set is the unit's ({' '.join(sorted(want))})",
             lambda: None if have == want else
             f"extra {sorted(have - want)}, missing {sorted(want - have)}")
    ck.check("NoNewPrivileges= and SystemCallFilter= hold (NoNewPrivs 1, Seccomp 2)",
             lambda: first(expect("NoNewPrivs", st["NoNewPrivs"], "1"),
                           expect("Seccomp", st["Seccomp"], "2")))

    def writable(path):
        return subprocess.run(["nsenter", "-t", str(hp), "-m", "test", "-w", path]).returncode == 0
    ro = [p for p in ("/", "/usr", "/etc", "/var") if writable(p)]
    rw = [p for p in ("/var/lib/dptrack", "/run/dpdk") if not writable(p)]
    ck.check("in its mount namespace / /usr /etc /var are read-only, /var/lib/dptrack "
             "and /run/dpdk writable (ProtectSystem=strict)",
             lambda: first(f"writable: {ro}" if ro else None, f"read-only: {rw}" if rw else None))


def check_stuck_lcore(ck, ct, a):
    """Item 6: the watchdog's kill and the restart, timed from the stop."""
    old = ct.show("MainPID")["MainPID"]
    hp = ct.host_pid(old)
    with open(f"/proc/{hp}/environ") as f:
        env = dict(v.split("=", 1) for v in f.read().split("\0") if "=" in v)
    watchdog = int(env["WATCHDOG_USEC"]) / 1e6
    tid = thread(hp, "rte-worker-2")
    if tid is None:
        ck.check("dptrack has a thread rte-worker-2", lambda: "not found")
        return
    killed = active = answered = None
    with Stopped(hp, tid):
        t0 = time.monotonic()
        # The stopped thread is ours to reap once systemd's SIGABRT ends the
        # process; until then its parent (systemd) is not told the process
        # exited. Reaped at once, it costs the restart nothing.
        while killed is None and time.monotonic() - t0 < 2 * watchdog:
            pid, _ = os.waitpid(tid, os.WNOHANG | WALL)
            if pid == tid:
                killed = time.monotonic() - t0
            time.sleep(0.01)
        while killed is not None and answered is None and time.monotonic() - t0 < 60:
            s = ct.show("MainPID", "ActiveState")
            if s["MainPID"] not in ("0", old) and s["ActiveState"] == "active":
                active = active or time.monotonic() - t0
                try:
                    if scrape(a, timeout=0.3, retries=0) == PEERS:
                        answered = time.monotonic() - t0
                except (OSError, b.Bep15Error):
                    pass
            time.sleep(0.05)
    print(f"# after lcore 2's stop: dptrack killed at {secs(killed)}, the new one active "
          f"(READY=1) at {secs(active)}, answering with the snapshot's peers at "
          f"{secs(answered)}", flush=True)
    ck.check(f"systemd kills dptrack within 1.5 x WatchdogSec ({1.5 * watchdog:g} s) "
             "of the stop", lambda: "not killed" if killed is None else
             None if killed <= 1.5 * watchdog + 0.5 else f"after {killed:.1f} s")
    missing = ct.journal_lacks(("watchdog: lcore 2 made no progress", "Watchdog timeout",
                                "with signal SIGABRT"))
    ck.check("the journal names lcore 2, the watchdog timeout and the SIGABRT",
             lambda: f"missing {missing}" if missing else None)
    ck.check("systemd restarts it once (NRestarts=1), active within 10 s of the kill",
             lambda: first(expect("NRestarts", ct.show("NRestarts")["NRestarts"], "1"),
                           None if active is not None and active - killed <= 10
                           else f"active at {active}"))
    ck.check(f"the new process answers a scrape with the snapshot's {PEERS} seeders",
             lambda: None if answered is not None else "no such answer within 60 s")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for opt in ("dptrack", "prefix", "v4", "src4", "hash"):
        p.add_argument("--" + opt, required=True)
    p.add_argument("--leader", type=int, required=True)
    p.add_argument("--port", type=int, required=True)
    a = p.parse_args()
    ck = Checks(errors=(OSError, b.Bep15Error, subprocess.SubprocessError))
    ct = Container(a.leader)

    s = ct.show("ActiveState", "SubState", "StatusText", "MainPID")
    if not ck.check("after systemctl start the unit is active (running): READY=1 came",
                    lambda: expect("state", (s["ActiveState"], s["SubState"]),
                                   ("active", "running"))):
        return 1
    ck.check("systemd shows dptrack's STATUS= line",
             lambda: None if "swarms" in s["StatusText"] else repr(s["StatusText"]))
    hp = ct.host_pid(s["MainPID"])
    check_sandbox(ck, ct, hp)
    rc, out = ct.run(a.dptrack, "--file-prefix", a.prefix, "--status")
    ck.check("dptrack --status finds it in /var/run/dpdk",
             lambda: None if rc == 0 and f"pid {s['MainPID']}" in out else f"{rc}: {out[:200]}")

    with b.Client(a.v4, a.port, source=a.src4, timeout=1, retries=3) as c:
        for i in range(PEERS):
            c.announce(bytes.fromhex(a.hash), event=b.EVENT_STARTED, left=0,
                       port=41000 + i, peer_id=bytes([i + 1]) * 20)
    snap = f"{ct.root}/var/lib/dptrack/peers.snap"
    ct.run("systemctl", "kill", "-s", "USR1", "--kill-who=main", "dptrack")
    saved = wait_for(lambda: os.path.exists(snap), 10)
    ck.check("systemctl kill -s USR1 saves /var/lib/dptrack/peers.snap, mode 0600",
             lambda: "no snapshot" if not saved else
             expect("mode", oct(stat.S_IMODE(os.stat(snap).st_mode)), "0o600"))

    # systemctl reload returns once kill -HUP has; dptrack's RELOADING=1
    # and READY=1 come after (systemd 252 has no Type=notify-reload).
    rc, out = ct.run("systemctl", "reload", "dptrack")
    missing = ct.journal_lacks(("reload of ",), 10)
    back = wait_for(lambda: ct.show("ActiveState")["ActiveState"] == "active", 10)
    ck.check("systemctl reload: the reload done (journal), active again, answering",
             lambda: first(None if rc == 0 else f"status {rc}: {out}",
                           f"missing {missing}" if missing else None,
                           None if back else "not active within 10 s",
                           expect("seeders", scrape(a), PEERS)))

    check_stuck_lcore(ck, ct, a)

    rc, out = ct.run("systemctl", "stop", "dptrack", timeout=60)
    s = ct.show("ActiveState", "Result", "ExecMainStatus")
    ck.check("systemctl stop: dptrack exits 0 (Result=success)",
             lambda: first(None if rc == 0 else f"status {rc}: {out}",
                           expect("result", (s["Result"], s["ExecMainStatus"]),
                                  ("success", "0"))))
    ck.check("/run/dpdk stays after the stop (RuntimeDirectoryPreserve=yes)",
             lambda: None if os.path.isdir(f"{ct.root}/run/dpdk") else "removed")

    ct.run("systemctl", "set-environment", "DPTRACK_DPDK_IDLE_SLEEP_US=100001")
    ct.run("systemctl", "start", "dptrack", timeout=60)
    time.sleep(3)  # past RestartSec: a restart would have come
    s = ct.show("ActiveState", "ExecMainStatus", "NRestarts")
    ct.run("systemctl", "unset-environment", "DPTRACK_DPDK_IDLE_SLEEP_US")
    ck.check("a bad configuration: exit status 2, not restarted (RestartPreventExitStatus=2)",
             lambda: expect("state", (s["ActiveState"], s["ExecMainStatus"], s["NRestarts"]),
                            ("failed", "2", "0")))
    return 1 if ck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
