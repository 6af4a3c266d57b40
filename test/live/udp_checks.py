#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""udp_checks.py - BEP 15 checks against a live tracker, run by udp.sh.

Run inside the client namespace. Three clients per family, bound to distinct
source addresses, play a seeder and two leechers of one swarm; the swarm is
announced to over IPv4 first and then IPv6, so every count below is the sum
over both families while peer lists stay per family. Prints one
"ok - NAME" or "not ok - NAME: detail" line per check and exits 1 if any
failed.

Usage: udp_checks.py --v4 ADDR --v6 ADDR --port N --interval S
                     --src4 A,B,C --src6 A,B,C
"""

import argparse
import os
import secrets
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import bep15_client as b  # noqa: E402  (needs the path above)
from tap import Checks, expect, norm  # noqa: E402  (beside this file)

PORTS = (6881, 6882, 6883)  # listening ports of seeder, leecher 1, leecher 2
SIZE = 1000                 # bytes a leecher still needs


def rejects_connection_id(request, accepted):
    """A check's result for request(), which uses a connection id the
    tracker must refuse: None if it raises the tracker's error reply about
    the connection id, a detail naming the message otherwise, `accepted` if
    it succeeds."""
    try:
        request()
    except b.TrackerError as e:
        return None if "connection id" in e.message else f"message {e.message!r}"
    return accepted


class Family:
    """One address family's tracker address and its three peers."""

    def __init__(self, name, tracker, port, sources, timeout):
        self.name = name
        self.clients = [b.Client(tracker, port, source=s, timeout=timeout, retries=2)
                        for s in sources]
        self.peers = [(norm(s), p) for s, p in zip(sources, PORTS)]
        self.plen = b.PEER4_LEN if name == "IPv4" else b.PEER6_LEN

    def close(self):
        for c in self.clients:
            c.close()


def announce_check(fam, who, info_hash, event, left, want_seeders, want_leechers, want_peers,
                   interval, numwant=-1, url_data=None):
    """Announces as peer `who` of fam and returns a check function comparing
    interval, counts, the exact peer set, the compact entry size, and that
    the announcer is not among the peers."""
    def fn():
        r = fam.clients[who].announce(info_hash, event=event, left=left, port=PORTS[who],
                                      numwant=numwant, url_data=url_data)
        peers = sorted((norm(a), p) for a, p in r.peers)
        want = sorted(fam.peers[i] for i in want_peers)
        for detail in (expect("interval", r.interval, interval),
                       expect("seeders", r.seeders, want_seeders),
                       expect("leechers", r.leechers, want_leechers),
                       expect("reply bytes", r.size, 20 + fam.plen * len(r.peers)),
                       expect("peers", peers, want)):
            if detail:
                return detail
        if fam.peers[who] in peers:
            return "the announcer got itself back"
        return None
    return fn


def run(args):
    ck = Checks((b.Bep15Error, OSError))
    h = secrets.token_bytes(20)        # the swarm
    h_none = secrets.token_bytes(20)   # never announced
    v4 = Family("IPv4", args.v4, args.port, args.src4.split(","), args.timeout)
    v6 = Family("IPv6", args.v6, args.port, args.src6.split(","), args.timeout)
    S, L1, L2 = 0, 1, 2
    iv = args.interval
    try:
        for fam, base_s, base_l in ((v4, 0, 0), (v6, 1, 2)):
            n = fam.name

            def connect_ok(fam=fam):
                ids = [c.connect() for c in fam.clients]
                if any(not 0 < i < 1 << 64 or i == b.PROTOCOL_ID for i in ids):
                    return f"ids {ids}"
                return None
            ck.check(f"{n} connect returns a connection id to each client", connect_ok)

            def foreign_id(fam=fam):
                return rejects_connection_id(
                    lambda: fam.clients[L1].announce(h, event=b.EVENT_STARTED, left=SIZE,
                                                     port=PORTS[L1],
                                                     connection_id=fam.clients[S].connection_id),
                    "accepted another address's connection id")
            ck.check(f"{n} announce with another address's connection id gets an error",
                     foreign_id)

            ck.check(f"{n} seeder's first announce: interval, counts, no peers",
                     announce_check(fam, S, h, b.EVENT_STARTED, 0, base_s + 1, base_l, [], iv))
            ck.check(f"{n} leecher 1 sees the seeder",
                     announce_check(fam, L1, h, b.EVENT_STARTED, SIZE, base_s + 1, base_l + 1,
                                    [S], iv))
            ck.check(f"{n} leecher 2 sees the seeder and leecher 1",
                     announce_check(fam, L2, h, b.EVENT_STARTED, SIZE, base_s + 1, base_l + 2,
                                    [S, L1], iv))

        s_all, l_all = 2, 4
        for fam in (v4, v6):
            n = fam.name
            ck.check(f"{n} seeder sees both leechers and only {n} peers",
                     announce_check(fam, S, h, b.EVENT_NONE, 0, s_all, l_all, [L1, L2], iv))
            ck.check(f"{n} leecher 1 sees the seeder and leecher 2",
                     announce_check(fam, L1, h, b.EVENT_NONE, SIZE, s_all, l_all, [S, L2], iv))
            ck.check(f"{n} leecher 2 with BEP 41 URLData sees the seeder and leecher 1",
                     announce_check(fam, L2, h, b.EVENT_NONE, SIZE, s_all, l_all, [S, L1], iv,
                                    url_data=b"/announce?key=live-test"))

            def numwant_one(fam=fam):
                r = fam.clients[L2].announce(h, left=SIZE, port=PORTS[L2], numwant=1)
                return expect("peers returned", len(r.peers), 1)
            ck.check(f"{n} numwant 1 returns one peer", numwant_one)

            def scrape_ok(fam=fam):
                got = fam.clients[L1].scrape([h, h_none])
                return expect("scrape", got, [b.ScrapeEntry(s_all, 0, l_all),
                                              b.ScrapeEntry(0, 0, 0)])
            ck.check(f"{n} scrape counts the swarm and zeros an unknown hash", scrape_ok)

        # Leecher 1 of each family completes, leecher 2 stops.
        s, l, done = s_all, l_all, 0
        for fam in (v4, v6):
            n = fam.name
            s, l, done = s + 1, l - 1, done + 1
            ck.check(f"{n} completed leecher 1 is a seeder and sees leecher 2 only",
                     announce_check(fam, L1, h, b.EVENT_COMPLETED, 0, s, l, [L2], iv))

            def scrape_done(fam=fam, s=s, l=l, done=done):
                return expect("scrape", fam.clients[S].scrape([h]), [b.ScrapeEntry(s, done, l)])
            ck.check(f"{n} scrape counts the completed download", scrape_done)

            l -= 1
            ck.check(f"{n} stopped leecher 2 gets no peers and leaves the counts",
                     announce_check(fam, L2, h, b.EVENT_STOPPED, SIZE, s, l, [], iv))
            ck.check(f"{n} seeder no longer sees the stopped peer",
                     announce_check(fam, S, h, b.EVENT_NONE, 0, s, l, [], iv))

            def scrape_stopped(fam=fam, s=s, l=l, done=done):
                return expect("scrape", fam.clients[S].scrape([h]), [b.ScrapeEntry(s, done, l)])
            ck.check(f"{n} scrape no longer counts the stopped peer", scrape_stopped)

        for fam in (v4, v6):
            n = fam.name

            def forged_announce(fam=fam):
                return rejects_connection_id(
                    lambda: fam.clients[S].announce(h, left=0, port=PORTS[S],
                                                    connection_id=secrets.randbits(64)),
                    "a forged connection id was accepted")
            ck.check(f"{n} announce with a forged connection id gets an error reply",
                     forged_announce)

            def forged_scrape(fam=fam):
                return rejects_connection_id(
                    lambda: fam.clients[S].scrape([h], connection_id=secrets.randbits(64)),
                    "a forged connection id was accepted")
            ck.check(f"{n} scrape with a forged connection id gets an error reply",
                     forged_scrape)

            def bad_magic(fam=fam):
                c = fam.clients[S]
                saved = c.timeout, c.retries
                c.timeout, c.retries = 0.5, 0
                try:
                    tid = secrets.randbits(32)
                    pkt = struct.pack("!QII", b.PROTOCOL_ID ^ 1, b.ACTION_CONNECT, tid)
                    c.transact(pkt, tid)
                except b.NoReply:
                    return None
                finally:
                    c.timeout, c.retries = saved
                return "a connect without the protocol magic was answered"
            ck.check(f"{n} connect without the protocol magic gets no reply", bad_magic)
    finally:
        v4.close()
        v6.close()
    return ck


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--v4", required=True)
    p.add_argument("--v6", required=True)
    p.add_argument("--port", type=int, default=6969)
    p.add_argument("--interval", type=int, required=True)
    p.add_argument("--src4", required=True, help="seeder,leecher1,leecher2 addresses")
    p.add_argument("--src6", required=True, help="seeder,leecher1,leecher2 addresses")
    p.add_argument("--timeout", type=float, default=1.0)
    ck = run(p.parse_args())
    return 1 if ck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
