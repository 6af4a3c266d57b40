#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""access_checks.py - the client side of access.sh: what the access list in
force lets through, over BEP 15 (dptrack's packet path) and HTTP (its
kernel path), IPv4 and IPv6 each. One action per run:

  serve HEX...       each hash is announced and scraped without an error
                     over UDP and HTTP, both families; every announce is
                     followed by a stopped one, so no peer stays behind
  refuse HEX...      each hash's announces get the access list's error
                     (BEP 15 error reply, HTTP failure reason with status
                     200) over both protocols and families, and its scrapes
                     answer zeros; a scrape of it beside a served hash
                     (--beside HEX) still gives that hash's counts
  fill HEX           one seeder and two leechers over UDP, one leecher over
                     HTTP, all staying
  count HEX S L      a UDP and an HTTP scrape say S seeders, L leechers

Prints "ok - NAME" / "not ok - NAME: detail" lines (tap.py); exits 1 if any
failed.

Usage: access_checks.py ACTION ARGS --udp4 A --udp6 A --http4 A --http6 A
                        --port N --src4 A --src6 A --hsrc4 A --hsrc6 A
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import bep15_client as b  # noqa: E402
import http_client as h  # noqa: E402
from tap import Checks, expect, first  # noqa: E402

MSG = "torrent not allowed on this tracker"


class Net:
    def __init__(self, a):
        self.a = a
        self.udp = {4: b.Client(a.udp4, a.port, source=a.src4),
                    6: b.Client(a.udp6, a.port, source=a.src6)}

    def close(self):
        for c in self.udp.values():
            c.close()

    def http(self, fam, target):
        host, src = (self.a.http4, self.a.hsrc4) if fam == 4 else (self.a.http6, self.a.hsrc6)
        with h.Conn(host, self.a.port, src) as c:
            return c.request("GET", target)

    def http_announce(self, fam, ih, port, left, event=None):
        params = {"event": event} if event else {}
        return self.http(fam, h.announce_target(ih, h.new_peer_id(), port, left, params))

    def http_scrape(self, fam, hashes):
        r = self.http(fam, h.scrape_target(hashes))
        if r.status != 200:
            raise h.HttpError(f"scrape status {r.status}")
        d = h.bdecode(r.body)
        files = d.get(b"files") if isinstance(d, dict) else None
        if not isinstance(files, dict):
            raise h.HttpError(f"no files in {r.body[:100]!r}")
        return {k: (v[b"complete"], v[b"incomplete"]) for k, v in files.items()}


def http_ok(r):
    """None if r is an announce reply, else a detail."""
    if r.status != 200:
        return f"status {r.status}"
    d = h.bdecode(r.body)
    if b"failure reason" in d:
        return f"failure reason {d[b'failure reason']!r}"
    return None if b"interval" in d else f"no interval in {r.body[:100]!r}"


def serve(ck, net, ih, name):
    def udp(fam):
        c = net.udp[fam]
        c.announce(ih, event=b.EVENT_STARTED, left=1, numwant=0, port=9001)
        c.announce(ih, event=b.EVENT_STOPPED, left=1, numwant=0, port=9001)
        c.scrape([ih])

    def http(fam):
        return first(http_ok(net.http_announce(fam, ih, 9002, 1, "started")),
                     http_ok(net.http_announce(fam, ih, 9002, 1, "stopped")),
                     expect("scraped hashes", list(net.http_scrape(fam, [ih])), [ih]))

    for fam in (4, 6):
        ck.check(f"{name} is served over UDP/IPv{fam}", lambda: udp(fam))
        ck.check(f"{name} is served over HTTP/IPv{fam}", lambda: http(fam))


def refuse(ck, net, ih, name, beside):
    def udp_announce(fam):
        try:
            net.udp[fam].announce(ih, event=b.EVENT_STARTED, left=1, port=9003)
        except b.TrackerError as e:
            return expect("BEP 15 error message", e.message, MSG)
        return "announce accepted"

    def http_announce(fam):
        return expect("failure reason", h.failure_reason(net.http_announce(fam, ih, 9004, 1)),
                      MSG.encode())

    def udp_scrape(fam):
        hashes = [ih] + ([beside] if beside else [])
        got = [(e.complete, e.incomplete) for e in net.udp[fam].scrape(hashes)]
        return first(expect("refused hash's counts", got[0], (0, 0)),
                     expect("entries", len(got), len(hashes)))

    def http_scrape(fam):
        hashes = [ih] + ([beside] if beside else [])
        got = net.http_scrape(fam, hashes)
        return first(expect("refused hash's counts", got.get(ih), (0, 0)),
                     expect("entries", len(got), len(hashes)))

    for fam in (4, 6):
        ck.check(f"{name} announce refused over UDP/IPv{fam} with the access list's error",
                 lambda: udp_announce(fam))
        ck.check(f"{name} announce refused over HTTP/IPv{fam} with a failure reason",
                 lambda: http_announce(fam))
        ck.check(f"{name} scrapes as zeros over UDP/IPv{fam}", lambda: udp_scrape(fam))
        ck.check(f"{name} scrapes as zeros over HTTP/IPv{fam}", lambda: http_scrape(fam))


def fill(ck, net, ih, name):
    def run():
        c = net.udp[4]
        c.announce(ih, event=b.EVENT_STARTED, left=0, numwant=0, port=7001)
        c.announce(ih, event=b.EVENT_STARTED, left=1, numwant=0, port=7002)
        net.udp[6].announce(ih, event=b.EVENT_STARTED, left=1, numwant=0, port=7003)
        return http_ok(net.http_announce(4, ih, 7004, 1, "started"))
    ck.check(f"{name}: a seeder and three leechers join over UDP and HTTP", run)


def count(ck, net, ih, name, seeders, leechers):
    def udp():
        e = net.udp[4].scrape([ih])[0]
        return expect("UDP scrape (seeders, leechers)", (e.complete, e.incomplete),
                      (seeders, leechers))

    def http():
        return expect("HTTP scrape (seeders, leechers)", net.http_scrape(6, [ih]).get(ih),
                      (seeders, leechers))
    ck.check(f"{name} has {seeders} seeder(s), {leechers} leecher(s) by UDP scrape", udp)
    ck.check(f"{name} has {seeders} seeder(s), {leechers} leecher(s) by HTTP scrape", http)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("action", choices=("serve", "refuse", "fill", "count"))
    p.add_argument("args", nargs="+")
    p.add_argument("--beside")
    for k in ("udp4", "udp6", "http4", "http6", "src4", "src6", "hsrc4", "hsrc6"):
        p.add_argument("--" + k, required=True)
    p.add_argument("--port", type=int, required=True)
    a = p.parse_args()

    ck = Checks(errors=(OSError, b.Bep15Error, h.HttpError, ValueError, KeyError))
    net = Net(a)
    try:
        if a.action == "serve":
            for x in a.args:
                serve(ck, net, bytes.fromhex(x), x[:8])
        elif a.action == "refuse":
            beside = bytes.fromhex(a.beside) if a.beside else None
            for x in a.args:
                refuse(ck, net, bytes.fromhex(x), x[:8], beside)
        elif a.action == "fill":
            fill(ck, net, bytes.fromhex(a.args[0]), a.args[0][:8])
        else:
            count(ck, net, bytes.fromhex(a.args[0]), a.args[0][:8], int(a.args[1]),
                  int(a.args[2]))
    finally:
        net.close()
    return 1 if ck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
