#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""snapshot_checks.py - the client side of snapshot.sh, one phase per run.

  fill STATE     40 swarms over both families (seeders, leechers, completed
                 counts) through BEP 15; writes what the tracker then says
                 (scrapes, each swarm's peer lists as its first peer sees
                 them) and a connection ID to STATE (JSON)
  verify STATE   the tracker says the same again: every scrape, every peer
                 list, and the saved connection ID is still accepted
  empty          the tracker knows none of the 40 swarms
  connect        one BEP 15 connect is answered

Prints "ok - NAME" / "not ok - NAME: detail" lines (tap.py); exits 1 if any
failed.

Usage: snapshot_checks.py PHASE [STATE] --v4 A --v6 A --port N --src4 A,B,C --src6 A,B,C
"""

import argparse
import hashlib
import json
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import bep15_client as b  # noqa: E402
from tap import Checks, expect, first  # noqa: E402

SWARMS = 40


def info_hash(s):
    return hashlib.sha1(f"dptrack snapshot test {s}".encode()).digest()


class Net:
    def __init__(self, a):
        self.a = a
        self.c4 = [b.Client(a.v4, a.port, source=s) for s in a.src4]
        self.c6 = [b.Client(a.v6, a.port, source=s) for s in a.src6]

    def close(self):
        for c in self.c4 + self.c6:
            c.close()

    def peers_seen(self, s, fam):
        """Peer list of swarm s as its first peer of fam sees it (numwant 200)."""
        c = (self.c4 if fam == 4 else self.c6)[0]
        r = c.announce(info_hash(s), peer_id=b"P" * 20, event=b.EVENT_NONE,
                       left=0 if s % 3 == 0 else 1, numwant=200, port=7000 + s)
        return sorted(f"{ip}:{port}" for ip, port in r.peers)

    def scrape_all(self):
        hashes = [info_hash(s) for s in range(SWARMS)]
        return [[e.complete, e.downloaded, e.incomplete] for e in self.c4[0].scrape(hashes)]


def fill(ck, a, net):
    def run():
        for s in range(SWARMS):
            for fam, clients in ((4, net.c4), (6, net.c6)):
                for i, c in enumerate(clients):
                    seeder = (s + i) % 3 == 0
                    event = b.EVENT_COMPLETED if seeder and s % 5 == 0 else b.EVENT_STARTED
                    c.announce(info_hash(s), peer_id=b"P" * 20 if i == 0 else None,
                               event=event, left=0 if seeder else 1, port=7000 + s)
        return None
    ck.check(f"{SWARMS} swarms filled over IPv4 and IPv6", run)
    state = {"scrape": net.scrape_all(),
             "peers4": [net.peers_seen(s, 4) for s in range(SWARMS)],
             "peers6": [net.peers_seen(s, 6) for s in range(SWARMS)],
             "connection_id": net.c4[1].connect()}
    # Seeders, leechers and completed counts all present.
    ck.check("the swarms have seeders, leechers and completed counts", lambda: first(
        None if any(x[0] for x in state["scrape"]) else "no seeders",
        None if any(x[1] for x in state["scrape"]) else "no completed",
        None if any(x[2] for x in state["scrape"]) else "no leechers"))
    with open(a.state, "w") as f:
        json.dump(state, f)


def verify(ck, a, net):
    with open(a.state) as f:
        state = json.load(f)
    ck.check(f"scrapes of all {SWARMS} swarms are as before the restart",
             lambda: expect("scrape", net.scrape_all(), state["scrape"]))
    for fam in (4, 6):
        ck.check(f"every swarm's IPv{fam} peers are as before the restart",
                 lambda fam=fam: expect(f"IPv{fam} peers",
                                        [net.peers_seen(s, fam) for s in range(SWARMS)],
                                        state[f"peers{fam}"]))

    def old_id():
        r = net.c4[1].announce(info_hash(0), event=b.EVENT_NONE, left=1, port=7999,
                               connection_id=state["connection_id"])
        return None if r.interval > 0 else "no interval"
    ck.check("a connection ID issued before the restart is still accepted", old_id)


def empty(ck, a, net):
    ck.check(f"none of the {SWARMS} swarms is known", lambda: expect(
        "scrape", net.scrape_all(), [[0, 0, 0]] * SWARMS))


def connect(ck, a, net):
    ck.check("a BEP 15 connect is answered", lambda: None if net.c4[2].connect() else "no id")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("phase", choices=("fill", "verify", "empty", "connect"))
    p.add_argument("state", nargs="?")
    p.add_argument("--v4", required=True)
    p.add_argument("--v6", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--src4", required=True)
    p.add_argument("--src6", required=True)
    a = p.parse_args()
    a.src4, a.src6 = a.src4.split(","), a.src6.split(",")
    ck = Checks(errors=(OSError, b.TrackerError, b.NoReply, b.ProtocolError, ValueError,
                        socket.timeout, struct.error))
    net = Net(a)
    try:
        {"fill": fill, "verify": verify, "empty": empty, "connect": connect}[a.phase](ck, a, net)
    finally:
        net.close()
    return 1 if ck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
