#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""http_checks.py - HTTP tracker checks against a live dptrack, run by http.sh.

Run inside the client namespace, which holds four IPv4 and four IPv6
addresses on the tracker's HTTP link and one of each on its UDP link. The
roles of the HTTP-link addresses (--src4/--src6, in this order):

    allowed  in stats.allow                     198.18.1.1   fd00:e::1
    proxy    in http.trusted_proxies (IPv4)     198.18.1.3   fd00:e::3 (neither)
    other    neither                            198.18.1.4   fd00:e::4
    other2   neither                            198.18.1.5   fd00:e::5

Every route and abuse case of the HTTP path, over raw sockets (so the bytes
on the wire are what is checked) and curl: announce (compact, non-compact,
no_peer_id, numwant, IPv4 and IPv6, peers6), scrape (BEP 48, the 64-hash
cap), failure reasons, keep-alive under HTTP/1.0 and 1.1, pipelining, HEAD,
/stats, /metrics (parsed by prometheus_client) and /dashboard with their
allow list, static pages, 404/405/400/431, X-Forwarded-For from trusted
proxies only, ignored ip parameters, a swarm shared with the UDP path
(bep15_client.py), slow-header and idle connections that do not hold up
others, and the connection cap. Every wait is bounded by a deadline, every
loop by a count. The HTTP and bencode client is test/http_client.py; the
UDP one, test/bep15_client.py; the ok/not ok bookkeeping, tap.py beside
this file.

Prints one "ok - NAME" or "not ok - NAME: detail" line per check and exits 1
if any failed.

Usage: http_checks.py --v4 ADDR --v6 ADDR --port N --udp4 ADDR --udp6 ADDR
                      --udp-src4 ADDR --udp-src6 ADDR --src4 A,P,O,Q --src6 A,P,O,Q
                      --interval S --min-interval S --max-connections N
                      --idle-timeout S --max-request-bytes N
"""

import argparse
import json
import os
import re
import secrets
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import bep15_client as b  # noqa: E402  (needs the path above)
from http_client import (BencodeError, Conn, HttpError, announce_target,  # noqa: E402
                         bdecode, bencode, compact_peers, failure_reason, new_peer_id,
                         quote, request_bytes, scrape_target)
from tap import Checks, expect, first, norm  # noqa: E402  (beside this file)

SCRAPE_MAX = 64      # core/limits.h TR_HTTP_SCRAPE_MAX
SEEN = []  # every response read: "Content-Type on every response" is checked at the end


def ctype(r):
    return (r.get("content-type") or "").split(";")[0].strip().lower()


# --- checks ----------------------------------------------------------------------

class Tracker:
    """The tracker's HTTP addresses and this client's source addresses."""

    def __init__(self, a):
        self.a = a
        self.port = a.port
        self.v4, self.v6 = a.v4, a.v6
        self.allowed4, self.proxy4, self.other4, self.other24 = a.src4.split(",")
        self.allowed6, self.denied6, self.other6, self.other26 = a.src6.split(",")

    def host_for(self, src):
        return self.v6 if ":" in src else self.v4

    def conn(self, src):
        return Conn(self.host_for(src), self.port, src, seen=SEEN)

    def get(self, src, target, method="GET", headers=(), version="1.1"):
        """One request on a connection of its own."""
        with self.conn(src) as c:
            return c.request(method, target, headers, version)

    def announce(self, src, h, port, left, params=None, headers=(), pid=None):
        """Announces over a connection of its own; returns (response, dict).
        Raises HttpError if the body is not a bencoded dictionary."""
        r = self.get(src, announce_target(h, pid or new_peer_id(), port, left, params),
                     headers=headers)
        d = bdecode(r.body)
        if not isinstance(d, dict):
            raise HttpError(f"announce body is not a dictionary: {r.body[:80]!r}")
        return r, d

    def join(self, src, h, port, left, params=None, headers=()):
        """Announces as announce() does, for a step that must succeed:
        returns the dict, raises HttpError if the tracker refused."""
        _, d = self.announce(src, h, port, left, params, headers)
        if b"failure reason" in d:
            raise HttpError(f"announce from {src} port {port} refused: "
                            f"{d[b'failure reason']!r}")
        return d


def peers_of(d, key, fam):
    """The compact peers under key as sorted [(address, port)], [] if absent."""
    return sorted((norm(a), p) for a, p in compact_peers(d, key, fam))


def check_announce(t, r, d, complete, incomplete, peers4=None, peers6=None, me=None):
    """Checks one announce reply: status 200 text/plain, interval, min
    interval, counts, and the exact compact peer sets (None: not checked;
    an absent key counts as empty), and that the announcer `me` is not among
    them. Returns None or the failure detail."""
    if b"failure reason" in d:
        return f"failure reason {d[b'failure reason']!r}"
    got4 = peers_of(d, b"peers", socket.AF_INET)
    got6 = peers_of(d, b"peers6", socket.AF_INET6)
    detail = first(expect("status", r.status, 200),
                   expect("Content-Type", ctype(r), "text/plain"),
                   expect("interval", d.get(b"interval"), t.a.interval),
                   expect("min interval", d.get(b"min interval"), t.a.min_interval),
                   expect("complete", d.get(b"complete"), complete),
                   expect("incomplete", d.get(b"incomplete"), incomplete),
                   None if isinstance(d.get(b"downloaded"), int) else "no downloaded count",
                   None if peers4 is None else expect("peers", got4, sorted(peers4)),
                   None if peers6 is None else expect("peers6", got6, sorted(peers6)))
    if detail:
        return detail
    if me is not None and (me in got4 or me in got6):
        return "the announcer got itself back"
    return None


# --- sections --------------------------------------------------------------------

def static_routes(ck, t):
    src = t.allowed4

    def page(path, want_type):
        def fn():
            r = t.get(src, path)
            return first(expect("status", r.status, 200),
                         expect("Content-Type", ctype(r), want_type),
                         None if r.body else "empty body")
        return fn
    for path in ("/", "/index.html", "/dmca.html"):
        ck.check(f"GET {path} is a non-empty text/html page", page(path, "text/html"))
    ck.check("GET /robots.txt is non-empty text/plain", page("/robots.txt", "text/plain"))

    def heartbeat():
        return expect("status", t.get(src, "/heartbeat").status, 200)
    ck.check("GET /heartbeat answers 200", heartbeat)

    def heartbeat6():
        return expect("status", t.get(t.allowed6, "/heartbeat").status, 200)
    ck.check("GET /heartbeat over IPv6 answers 200", heartbeat6)

    def not_found():
        return first(*(expect(p, t.get(src, p).status, 404)
                       for p in ("/nope", "/announce/x", "/scrapex", "/index.htm")))
    ck.check("unknown paths (/nope, /announce/x, /scrapex, /index.htm) answer 404", not_found)

    def method(m, path):
        def fn():
            with t.conn(src) as c:
                c.send(request_bytes(m, path, [("Content-Length", "0")]))
                r = c.read_response()
            allow = {x.strip().upper() for x in (r.get("allow") or "").split(",")}
            return first(expect("status", r.status, 405),
                         None if {"GET", "HEAD"} <= allow else f"Allow: {r.get('allow')!r}")
        return fn
    ck.check("POST /announce answers 405 with Allow: GET, HEAD",
             method("POST", announce_target(secrets.token_bytes(20), new_peer_id(), 6881, 0)))
    ck.check("PUT /scrape answers 405 with Allow: GET, HEAD", method("PUT", "/scrape"))
    ck.check("DELETE / answers 405 with Allow: GET, HEAD", method("DELETE", "/"))


def announce_v4(ck, t):
    a4, o4, o24 = t.allowed4, t.other4, t.other24
    h = secrets.token_bytes(20)
    seeder = (norm(o4), 7001)

    def seeder_first():
        r, d = t.announce(o4, h, 7001, 0, {"event": "started"})
        want_len = str(len(r.body))
        return first(expect("Content-Length", r.get("content-length"), want_len),
                     check_announce(t, r, d, 1, 0, [], [], seeder),
                     expect("downloaded", d.get(b"downloaded"), 0))
    ck.check("IPv4 seeder's first announce: 200 text/plain, exact Content-Length, "
             "interval, min interval, counts, no peers", seeder_first)

    def leecher_sees_seeder():
        r, d = t.announce(a4, h, 7002, 1000, {"event": "started"})
        return check_announce(t, r, d, 1, 1, [seeder], [], (norm(a4), 7002))
    ck.check("IPv4 leecher gets the seeder as one 6-byte compact peer, never itself",
             leecher_sees_seeder)

    def non_compact(params):
        def fn():
            r, d = t.announce(a4, h, 7002, 1000, params)
            if b"failure reason" in d:
                return f"failure reason {d[b'failure reason']!r}"
            peers = d.get(b"peers")
            if not isinstance(peers, list):
                return f"peers is not a list: {peers!r}"
            want = [{b"ip": norm(o4).encode(), b"port": 7001}]
            return first(expect("status", r.status, 200),
                         expect("peers", peers, want),
                         None if all(b"peer id" not in p for p in peers) else "a peer id")
        return fn
    ck.check("compact=0 gives peers as a list of {ip, port} dictionaries",
             non_compact({"compact": 0}))
    ck.check("compact=0&no_peer_id=1 gives the same list, without peer id",
             non_compact({"compact": 0, "no_peer_id": 1}))

    def no_peer_id_compact():
        r, d = t.announce(a4, h, 7002, 1000, {"no_peer_id": 1})
        return check_announce(t, r, d, 1, 1, [seeder], [])
    ck.check("no_peer_id=1 with compact=1 is accepted", no_peer_id_compact)

    more = [(o4, 7003), (o4, 7004), (o4, 7005), (o24, 7006)]

    def fill():
        for n, (src, port) in enumerate(more):
            r, d = t.announce(src, h, port, 0)
            detail = check_announce(t, r, d, 2 + n, 1)
            if detail:
                return f"peer {src}:{port}: {detail}"
        return None
    ck.check("four more IPv4 seeders join the swarm", fill)
    everyone = sorted([seeder] + [(norm(s), p) for s, p in more])

    def numwant(n, want_count):
        def fn():
            r, d = t.announce(a4, h, 7002, 1000, None if n is None else {"numwant": n})
            detail = check_announce(t, r, d, 5, 1)
            if detail:
                return detail
            got = peers_of(d, b"peers", socket.AF_INET)
            return first(expect("peers returned", len(got), want_count),
                         None if set(got) <= set(everyone) else f"unknown peers {got}")
        return fn
    ck.check("numwant=2 returns two of the five peers", numwant(2, 2))
    ck.check("numwant=0 returns no peers", numwant(0, 0))
    ck.check("without numwant all five peers come back", numwant(None, 5))

    def completed():
        r, d = t.announce(a4, h, 7002, 0, {"event": "completed"})
        # Now a seeder among seeders: seeders get leechers only.
        return first(check_announce(t, r, d, 6, 0, [], []),
                     expect("downloaded", d.get(b"downloaded"), 1))
    ck.check("event=completed makes the leecher a seeder (which gets no seeders) and "
             "counts a download", completed)

    def new_leecher():
        r, d = t.announce(o24, h, 7007, 1000)
        return check_announce(t, r, d, 6, 1, everyone + [(norm(a4), 7002)], [])
    ck.check("a new leecher gets all six seeders", new_leecher)

    def stopped():
        t.join(a4, h, 7002, 0, {"event": "stopped"})
        r, d = t.announce(o24, h, 7007, 1000)
        return check_announce(t, r, d, 5, 1, everyone, [])
    ck.check("event=stopped removes the peer from counts and peer lists", stopped)


def announce_v6(ck, t):
    a6, o6, a4 = t.allowed6, t.other6, t.allowed4
    h = secrets.token_bytes(20)
    seeder6 = (norm(o6), 7001)

    def seeder_first():
        r, d = t.announce(o6, h, 7001, 0, {"event": "started"})
        return check_announce(t, r, d, 1, 0, [], [], seeder6)
    ck.check("IPv6 seeder's first announce: interval, counts, no peers", seeder_first)

    def leecher6():
        r, d = t.announce(a6, h, 7002, 1000, {"event": "started"})
        detail = check_announce(t, r, d, 1, 1, [], [seeder6], (norm(a6), 7002))
        if detail:
            return detail
        p6 = d.get(b"peers6")
        return None if len(p6) == 18 else f"peers6 is {len(p6)} bytes, expected one 18-byte entry"
    ck.check("IPv6 client gets the IPv6 seeder in peers6 (18-byte entries)", leecher6)

    def non_compact6():
        r, d = t.announce(a6, h, 7002, 1000, {"compact": 0})
        return expect("peers", d.get(b"peers"), [{b"ip": norm(o6).encode(), b"port": 7001}])
    ck.check("IPv6 compact=0 lists the peer with its IPv6 address text", non_compact6)

    def v4_sees_no_v6():
        r, d = t.announce(a4, h, 7003, 1000)
        return check_announce(t, r, d, 1, 2, [], [])
    ck.check("an IPv4 client of the same swarm gets no IPv6 peers but counts them", v4_sees_no_v6)


def curl_done_when(ck, t, tmp):
    """The issue's Done-when command, twice in one curl run: both answers
    valid, the second over the connection of the first."""
    h = secrets.token_bytes(20)
    pid = new_peer_id()
    ready = []

    def prepare():
        for src in (t.other4, t.other6):
            t.join(src, h, 6881, 1000)
        ready.append(True)
        return None
    ck.check("an IPv4 and an IPv6 leecher announce for the curl swarm", prepare)

    def run_curl(src, host, fam, peer_key, want_peer):
        def fn():
            url = f"http://{host}:{t.port}" + announce_target(h, pid, 6881, 0)
            outs = [os.path.join(tmp, f"curl{fam}-{i}") for i in (1, 2)]
            p = subprocess.run(["curl", "-sS", "-v", "-g", "--max-time", "10",
                                "--interface", src, "-w", "%{http_code} %{content_type}\\n",
                                url, "-o", outs[0], url, "-o", outs[1]],
                               capture_output=True, timeout=20, check=False)
            err = p.stderr.decode("latin-1")
            if p.returncode != 0:
                return f"curl exit {p.returncode}: {err[-300:]!r}"
            if "Re-using existing connection" not in err:
                return "curl did not reuse the connection for the second URL"
            n_conn = len(re.findall(r"^\* +Connected to ", err, re.M))
            if n_conn != 1:
                return f"curl connected {n_conn} times"
            codes = p.stdout.decode().split()
            if codes != ["200", "text/plain"] * 2:
                return f"status and Content-Type {codes}"
            for n, path in enumerate(outs, 1):
                with open(path, "rb") as f:
                    d = bdecode(f.read())
                for key in (b"interval", b"complete", b"incomplete", b"peers", b"peers6"):
                    if key not in d:
                        return f"answer {n} has no {key!r}: {d!r}"
                if d[b"interval"] != t.a.interval:
                    return f"answer {n} interval {d[b'interval']}"
                got = peers_of(d, peer_key, socket.AF_INET if fam == 4 else socket.AF_INET6)
                if got != [want_peer]:
                    return f"answer {n} {peer_key!r}: {got}, expected {[want_peer]}"
            return None
        return fn
    if not ready:
        return
    ck.check("curl twice in one run over IPv4: two valid dictionaries with interval, "
             "complete, incomplete, peers, peers6, over one kept-alive connection",
             run_curl(t.allowed4, t.v4, 4, b"peers", (norm(t.other4), 6881)))
    ck.check("curl twice in one run over IPv6: two valid dictionaries with interval, "
             "complete, incomplete, peers, peers6, over one kept-alive connection",
             run_curl(t.allowed6, f"[{t.v6}]", 6, b"peers6", (norm(t.other6), 6881)))


def keep_alive(ck, t):
    src = t.allowed4
    h = secrets.token_bytes(20)

    def two_on_one():
        with t.conn(src) as c:
            for n, port in enumerate((7001, 7002)):
                c.send(request_bytes("GET", announce_target(h, new_peer_id(), port, 0)))
                r = c.read_response()
                d = bdecode(r.body)
                detail = check_announce(t, r, d, n + 1, 0)
                if detail:
                    return f"request {n + 1}: {detail}"
                if (r.get("connection") or "").lower() == "close":
                    return f"request {n + 1} answered with Connection: close"
        return None
    ck.check("a raw HTTP/1.1 client gets two announce answers on one connection", two_on_one)

    def v11_default():
        with t.conn(src) as c:
            for n in range(3):
                r = c.request("GET", "/heartbeat")
                if r.status != 200:
                    return f"request {n + 1}: status {r.status}"
            if c.closed_within(0.5):
                return "closed after three requests"
        return None
    ck.check("HTTP/1.1 keeps the connection open by default", v11_default)

    def v10_closes():
        with t.conn(src) as c:
            r = c.request("GET", "/heartbeat", version="1.0", host=False)
            return first(expect("status", r.status, 200),
                         None if c.closed_within(2.0) else "still open 2 s after the response",
                         expect("bytes after the response", c.extra, b""))
    ck.check("HTTP/1.0 without keep-alive: one response, then the server closes", v10_closes)

    def v10_keep():
        with t.conn(src) as c:
            for n in range(2):
                r = c.request("GET", "/heartbeat", [("Connection", "keep-alive")], version="1.0")
                detail = first(expect("status", r.status, 200),
                               expect("Connection", (r.get("connection") or "").lower(),
                                      "keep-alive"))
                if detail:
                    return f"request {n + 1}: {detail}"
        return None
    ck.check("HTTP/1.0 with Connection: keep-alive: answered with Connection: keep-alive, "
             "and the connection serves a second request", v10_keep)

    def v11_close():
        with t.conn(src) as c:
            r = c.request("GET", "/heartbeat", [("Connection", "close")])
            return first(expect("status", r.status, 200),
                         None if c.closed_within(2.0) else "still open 2 s after the response",
                         expect("bytes after the response", c.extra, b""))
    ck.check("HTTP/1.1 with Connection: close: one response, then the server closes", v11_close)

    def pipelined_scrapes():
        hashes = [secrets.token_bytes(20) for _ in range(3)]
        with t.conn(src) as c:
            c.send(b"".join(request_bytes("GET", scrape_target([x])) for x in hashes))
            for n, x in enumerate(hashes):
                r = c.read_response()
                files = bdecode(r.body).get(b"files", {})
                if list(files) != [x]:
                    return f"response {n + 1} is for {[k.hex() for k in files]}, not {x.hex()}"
        return None
    ck.check("three pipelined scrapes written at once get three answers in order",
             pipelined_scrapes)

    def pipelined_mixed():
        target = announce_target(h, new_peer_id(), 7003, 0)
        reqs = [("GET", "/heartbeat", 200), ("HEAD", target, 200), ("GET", "/nope", 404),
                ("GET", "/robots.txt", 200), ("GET", target, 200)]
        with t.conn(src) as c:
            c.send(b"".join(request_bytes(m, p) for m, p, _ in reqs))
            got = [c.read_response(head=m == "HEAD") for m, _, _ in reqs]
        statuses = [r.status for r in got]
        return first(expect("statuses", statuses, [s for _, _, s in reqs]),
                     expect("robots.txt type", ctype(got[3]), "text/plain"),
                     None if b"interval" in bdecode(got[4].body) else "last is no announce")
    ck.check("pipelined GET, HEAD, 404, robots.txt and announce are answered in order",
             pipelined_mixed)

    def split_request():
        data = request_bytes("GET", scrape_target([h]))
        with t.conn(src) as c:
            for i in range(0, len(data), 7):
                c.send(data[i:i + 7])
                time.sleep(0.01)
            r = c.read_response()
        return first(expect("status", r.status, 200),
                     None if h in bdecode(r.body).get(b"files", {}) else "wrong scrape")
    ck.check("a request sent in 7-byte pieces is answered", split_request)


def head_requests(ck, t):
    src = t.allowed4
    h = secrets.token_bytes(20)
    target = announce_target(h, new_peer_id(), 7001, 0)

    def head_like_get(target):
        def fn():
            with t.conn(src) as c:
                g = c.request("GET", target)
                hd = c.request("HEAD", target)
                # If HEAD had sent a body, this response would not parse.
                after = c.request("GET", "/heartbeat")
            return first(expect("status", hd.status, g.status),
                         expect("Content-Type", hd.get("content-type"), g.get("content-type")),
                         expect("Content-Length", hd.get("content-length"), str(len(g.body))),
                         expect("response after HEAD", after.status, 200))
        return fn
    ck.check("HEAD /announce has GET's headers and Content-Length, and no body",
             head_like_get(target))
    ck.check("HEAD /scrape has GET's headers and Content-Length, and no body",
             head_like_get(scrape_target([h])))


def scrape(ck, t):
    a4, o4, o24, a6 = t.allowed4, t.other4, t.other24, t.allowed6
    h1, h2, h3 = (secrets.token_bytes(20) for _ in range(3))
    ready = []

    def build():
        steps = [(o4, h1, 7001, 0, None), (o4, h1, 7002, 10, None), (o24, h1, 7003, 10, None),
                 (o4, h2, 7001, 10, {"event": "started"}), (o4, h2, 7001, 0, {"event": "completed"})]
        for src, h, port, left, params in steps:
            t.join(src, h, port, left, params)
        ready.append(True)
        return None
    ck.check("two swarms: 1 seeder + 2 leechers, and 1 completed download", build)
    if not ready:
        return

    def entry(c, dl, inc):
        return {b"complete": c, b"downloaded": dl, b"incomplete": inc}
    exact = bencode({b"files": {h1: entry(1, 0, 2), h2: entry(1, 1, 0), h3: entry(0, 0, 0)}})

    def multi(src):
        def fn():
            r = t.get(src, scrape_target([h1, h2, h3]))
            return first(expect("status", r.status, 200),
                         expect("Content-Type", ctype(r), "text/plain"),
                         expect("body", r.body, exact))
        return fn
    ck.check("scrape of three info_hash (BEP 48) gives each swarm's counts, "
             "zeros for an unknown one, byte for byte", multi(a4))
    ck.check("the same scrape over IPv6", multi(a6))

    def cap_ok():
        hashes = [h1] + [secrets.token_bytes(20) for _ in range(SCRAPE_MAX - 1)]
        r = t.get(a4, scrape_target(hashes))
        files = bdecode(r.body).get(b"files", {})
        return first(expect("status", r.status, 200), expect("files", len(files), SCRAPE_MAX))
    ck.check(f"scrape of {SCRAPE_MAX} info_hash answers all of them", cap_ok)

    def cap_over():
        hashes = [secrets.token_bytes(20) for _ in range(SCRAPE_MAX + 1)]
        failure_reason(t.get(a4, scrape_target(hashes)))
        return None
    ck.check(f"scrape of {SCRAPE_MAX + 1} info_hash gets a failure reason", cap_over)

    def none():
        failure_reason(t.get(a4, "/scrape"))
        failure_reason(t.get(a4, "/scrape?foo=bar"))
        return None
    ck.check("scrape without info_hash gets a failure reason", none)


def failures(ck, t):
    h = secrets.token_bytes(20)
    pid = new_peer_id()
    cases = [
        ("missing info_hash", f"/announce?peer_id={quote(pid)}&port=6881&left=0"),
        ("a 19-byte info_hash", announce_target(h[:19], pid, 6881, 0)),
        ("a 21-byte info_hash", announce_target(h + b"x", pid, 6881, 0)),
        ("bad percent-encoding (%zz)",
         f"/announce?info_hash=%zz{quote(h[1:])}&peer_id={quote(pid)}&port=6881&left=0"),
        ("a truncated percent-escape",
         f"/announce?info_hash={quote(h[:19])}%4&peer_id={quote(pid)}&port=6881&left=0"),
        ("port=0", announce_target(h, pid, 0, 0)),
        ("port=65536", announce_target(h, pid, 65536, 0)),
        ("a missing port", announce_target(h, pid, 1, 0, {"port": None})),
        ("a 21-byte peer_id", announce_target(h, pid + b"x", 6881, 0)),
        ("a missing peer_id", f"/announce?info_hash={quote(h)}&port=6881&left=0"),
        ("event=bogus", announce_target(h, pid, 6881, 0, {"event": "bogus"})),
    ]

    def all_fail():
        # One keep-alive connection: a failure leaves it usable.
        bad = []
        with t.conn(t.allowed4) as c:
            for name, target in cases:
                r = c.request("GET", target)
                try:
                    failure_reason(r)
                except (HttpError, BencodeError) as e:
                    bad.append(f"{name}: {e}")
                    continue
                if ctype(r) != "text/plain":
                    bad.append(f"{name}: Content-Type {r.get('content-type')!r}")
            r = c.request("GET", "/heartbeat")
            if r.status != 200:
                bad.append(f"heartbeat after the failures: {r.status}")
        return "; ".join(bad) or None
    ck.check("bad announces (" + ", ".join(n for n, _ in cases) +
             ") get status 200 with a bencoded failure reason, on one kept-alive connection",
             all_fail)

    def no_swarm():
        # None of the refused announces may have created the swarm.
        r = t.get(t.allowed4, scrape_target([h]))
        return expect("scrape", bdecode(r.body), {b"files": {h: {
            b"complete": 0, b"downloaded": 0, b"incomplete": 0}}})
    ck.check("refused announces register nothing", no_swarm)


def forwarded(ck, t):
    a4, p4, o4, a6, o6 = t.allowed4, t.proxy4, t.other4, t.allowed6, t.other6

    def via(src, headers, observer, want, params=None, fam6=False):
        def fn():
            h = secrets.token_bytes(20)
            t.join(src, h, 7101, 0, params, headers=headers)
            r, d = t.announce(observer, h, 7102, 10)
            if fam6:
                return check_announce(t, r, d, 1, 1, None, want)
            return check_announce(t, r, d, 1, 1, want, None)
        return fn
    ck.check("from a trusted proxy, X-Forwarded-For: 198.18.9.9 registers peer 198.18.9.9",
             via(p4, [("X-Forwarded-For", "198.18.9.9")], o4, [("198.18.9.9", 7101)]))
    ck.check("from a trusted proxy, the rightmost address of X-Forwarded-For is the peer",
             via(p4, [("X-Forwarded-For", "198.18.8.8, 198.18.9.8")], o4,
                 [("198.18.9.8", 7101)]))
    ck.check("from a trusted proxy, trusted addresses at the right of X-Forwarded-For "
             "are skipped", via(p4, [("X-Forwarded-For", f"198.18.9.7, {p4}")], o4,
                                [("198.18.9.7", 7101)]))
    ck.check("from an untrusted client, X-Forwarded-For is ignored",
             via(a4, [("X-Forwarded-For", "198.18.9.6")], o4, [(norm(a4), 7101)]))
    ck.check("from an untrusted IPv6 client, X-Forwarded-For is ignored",
             via(a6, [("X-Forwarded-For", "fd00:e::99")], o6, [(norm(a6), 7101)], fam6=True))
    ck.check("with trust_ip_params off, ip=198.18.7.7 registers the connection's address",
             via(a4, (), o4, [(norm(a4), 7101)], {"ip": "198.18.7.7"}))
    ck.check("with trust_ip_params off, ipv4=198.18.7.6 registers the connection's address",
             via(a4, (), o4, [(norm(a4), 7101)], {"ipv4": "198.18.7.6"}))

    def ipv6_param():
        h = secrets.token_bytes(20)
        t.join(a4, h, 7101, 0, {"ipv6": "fd00:e::77"})
        r, d = t.announce(o6, h, 7102, 10)
        # Only the IPv4 peer exists: the IPv6 client counts it but gets no peers6.
        return check_announce(t, r, d, 1, 1, None, [])
    ck.check("with trust_ip_params off, ipv6=fd00:e::77 registers no IPv6 peer", ipv6_param)


def shared_swarm(ck, t):
    a = t.a
    h = secrets.token_bytes(20)
    udp4 = b.Client(a.udp4, t.port, source=a.udp_src4, timeout=1.0, retries=2)
    udp6 = b.Client(a.udp6, t.port, source=a.udp_src6, timeout=1.0, retries=2)
    iv = a.interval
    try:
        for name, udp, usrc, hsrc, fam6, base in (("IPv4", udp4, a.udp_src4, t.allowed4, False, 0),
                                                   ("IPv6", udp6, a.udp_src6, t.allowed6, True, 1)):
            up, hp = (norm(usrc), 6881 + 2 * base), (norm(hsrc), 6882 + 2 * base)

            def udp_seed(udp=udp, up=up, base=base):
                r = udp.announce(h, event=b.EVENT_STARTED, left=0, port=up[1])
                return first(expect("interval", r.interval, iv),
                             expect("seeders", r.seeders, base + 1),
                             expect("leechers", r.leechers, base),
                             expect("peers", r.peers, []))
            ck.check(f"{name} UDP seeder announces the shared swarm", udp_seed)

            def http_sees_udp(hsrc=hsrc, up=up, hp=hp, base=base, fam6=fam6):
                r, d = t.announce(hsrc, h, hp[1], 100, {"event": "started"})
                if fam6:
                    return check_announce(t, r, d, base + 1, base + 1, [], [up], hp)
                return check_announce(t, r, d, base + 1, base + 1, [up], [], hp)
            ck.check(f"{name} HTTP leecher of the same swarm gets the UDP peer", http_sees_udp)

            def udp_sees_http(udp=udp, up=up, hp=hp, base=base):
                r = udp.announce(h, left=0, port=up[1])
                got = sorted((norm(x), p) for x, p in r.peers)
                return first(expect("seeders", r.seeders, base + 1),
                             expect("leechers", r.leechers, base + 1),
                             expect("peers", got, [hp]))
            ck.check(f"{name} UDP announce gets the HTTP peer", udp_sees_http)

        def http_scrape():
            r = t.get(t.allowed4, scrape_target([h]))
            return expect("files", bdecode(r.body).get(b"files"),
                          {h: {b"complete": 2, b"downloaded": 0, b"incomplete": 2}})
        ck.check("HTTP scrape counts the UDP and HTTP peers of both families", http_scrape)

        def udp_scrape():
            return expect("scrape", udp4.scrape([h]), [b.ScrapeEntry(2, 0, 2)])
        ck.check("UDP scrape counts the UDP and HTTP peers of both families", udp_scrape)
    finally:
        udp4.close()
        udp6.close()


def clock_agreement(ck, t):
    """For 4.5 s (past one 4-second peer-age tick): an HTTP seeder joins a
    fresh swarm, and 20 ms later (two sweeps of the main lcore) an observer
    must still count it. HTTP threads and the expiry sweep must stamp and
    age peers on one clock: a stamp one tick ahead of the sweeper's reads as
    65535 ticks old and the peer goes at once."""
    def fn():
        lost = []
        n = 0
        end = time.monotonic() + 4.5
        for _ in range(400):  # ~25 ms each: the deadline ends it first
            if time.monotonic() >= end:
                break
            n += 1
            h = secrets.token_bytes(20)
            t.join(t.allowed4, h, 7201, 0)
            time.sleep(0.02)
            _, d = t.announce(t.other4, h, 7202, 10)
            if d.get(b"complete") != 1:
                lost.append(f"{time.time() % 4:.2f}")
        if lost:
            return (f"{len(lost)} of {n} seeders gone 20 ms after announcing; wall-clock "
                    f"seconds mod 4 when missed: {lost[:8]}")
        return None
    ck.check("HTTP peers outlive the expiry sweep for 4.5 s of fresh swarms "
             "(HTTP threads and the sweep share one clock)", fn)


STATS_KEYS = ("http_announce", "http_scrape", "udp_connect", "udp_announce", "udp_scrape",
              "swarms", "peers_ipv4", "peers_ipv6", "seeders", "leechers",
              "memory_used_bytes", "memory_budget_bytes", "uptime_seconds", "rx_packets",
              "tx_packets")
STATS_POSITIVE = ("http_announce", "http_scrape", "udp_announce", "swarms", "peers_ipv4",
                  "peers_ipv6", "memory_used_bytes", "memory_budget_bytes", "rx_packets")


def stats_metrics(ck, t):
    a4, p4, o4, a6, d6 = t.allowed4, t.proxy4, t.other4, t.allowed6, t.denied6
    seen = {}

    def stats_json():
        r = t.get(a4, "/stats")
        if r.status != 200:
            return f"status {r.status}"
        if ctype(r) != "application/json":
            return f"Content-Type {r.get('content-type')!r}"
        d = json.loads(r.body)
        if not isinstance(d, dict):
            return "not a JSON object"
        nested = [k for k, v in d.items() if not isinstance(v, int) or isinstance(v, bool)]
        if nested:
            return f"not flat: {nested[:5]} are not integers"
        missing = [k for k in STATS_KEYS if k not in d]
        if missing:
            return f"missing {missing}; keys are {sorted(d)}"
        zero = [k for k in STATS_POSITIVE if d[k] <= 0]
        if zero:
            return f"zero: {zero}"
        lcore = [k for k in d if re.fullmatch(r"lcore\d+_rx_packets", k)]
        if not lcore:
            return f"no per-lcore lcoreN_rx_packets; keys are {sorted(d)}"
        if sum(d[k] for k in lcore) <= 0:
            return f"per-lcore rx all zero: {lcore}"
        if d["memory_used_bytes"] > d["memory_budget_bytes"]:
            return "memory in use over the budget"
        seen.update(d)
        return None
    ck.check("GET /stats from an allowed address: a flat JSON object with the counters",
             stats_json)

    def status_is(src, path, want, headers=()):
        def fn():
            r = t.get(src, path, headers=headers)
            return expect("status", r.status, want)
        return fn
    ck.check("GET /stats from an address outside stats.allow answers 403",
             status_is(o4, "/stats", 403))
    ck.check("GET /stats from the trusted proxy itself answers 403",
             status_is(p4, "/stats", 403))
    ck.check("GET /stats from an untrusted client with X-Forwarded-For: <allowed> answers 403",
             status_is(o4, "/stats", 403, [("X-Forwarded-For", a4)]))
    ck.check("GET /stats through the trusted proxy for an allowed client answers 200",
             status_is(p4, "/stats", 200, [("X-Forwarded-For", a4)]))
    ck.check("GET /stats through the trusted proxy for a client outside stats.allow "
             "answers 403", status_is(p4, "/stats", 403, [("X-Forwarded-For", o4)]))
    ck.check("GET /stats from an allowed IPv6 address answers 200",
             status_is(a6, "/stats", 200))
    ck.check("GET /stats from an IPv6 address outside stats.allow answers 403",
             status_is(d6, "/stats", 403))

    def metrics(src):
        def fn():
            r = t.get(src, "/metrics")
            if r.status != 200:
                return f"status {r.status}"
            ct = (r.get("content-type") or "").replace(" ", "")
            if not ct.startswith("text/plain;") or "version=0.0.4" not in ct:
                return f"Content-Type {r.get('content-type')!r}"
            return check_metrics(r.body.decode("utf-8"), seen)
        return fn
    ck.check("GET /metrics from an allowed address: Prometheus text 0.0.4 that "
             "prometheus_client parses, with requests, peers and drops", metrics(a4))
    ck.check("GET /metrics from an allowed IPv6 address parses too", metrics(a6))
    ck.check("GET /metrics from an IPv6 address outside stats.allow answers 403",
             status_is(d6, "/metrics", 403))
    ck.check("GET /metrics from an IPv4 address outside stats.allow answers 403",
             status_is(o4, "/metrics", 403))

    def dashboard(src, headers=()):
        def fn():
            r = t.get(src, "/dashboard", headers=headers)
            body = r.body.decode("utf-8", "replace")
            # Served to hosts without internet: nothing but /stats is fetched.
            remote = re.findall(r'(?:https?:|src=|href=|url\()[^\s"\')]*', body)
            return first(expect("status", r.status, 200),
                         expect("Content-Type", ctype(r), "text/html"),
                         None if "<canvas" in body and '"/stats"' in body
                         else "no canvas reading /stats",
                         f"refers elsewhere: {remote[:3]}" if remote else None)
        return fn
    ck.check("GET /dashboard from an allowed address: an HTML page of canvases fed from "
             "/stats, referring to nothing else", dashboard(a4))
    ck.check("GET /dashboard from an allowed IPv6 address answers the page", dashboard(a6))
    ck.check("GET /dashboard through the trusted proxy for an allowed client answers the page",
             dashboard(p4, [("X-Forwarded-For", a4)]))
    ck.check("GET /dashboard from an address outside stats.allow answers 403",
             status_is(o4, "/dashboard", 403))
    ck.check("GET /dashboard from an IPv6 address outside stats.allow answers 403",
             status_is(d6, "/dashboard", 403))
    ck.check("GET /dashboard from the trusted proxy itself answers 403",
             status_is(p4, "/dashboard", 403))


def check_metrics(text, stats):
    """None if text parses as Prometheus text and holds the figures the issue
    asks for, consistent with the earlier /stats (counters only grow)."""
    from prometheus_client.parser import text_string_to_metric_families
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as e:  # the parser raises ValueError and others
        return f"prometheus_client cannot parse it: {type(e).__name__}: {e}"
    samples = [s for f in families for s in f.samples]
    if not samples:
        return "no samples"
    foreign = sorted({s.name for s in samples if not s.name.startswith("dptrack_")})
    if foreign:
        return f"names without dptrack_: {foreign[:5]}"
    untyped = sorted(f.name for f in families if f.type in ("unknown", "untyped"))
    if untyped:
        return f"families without TYPE: {untyped[:5]}"
    req = {(s.labels.get("protocol"), s.labels.get("action")): s.value
           for s in samples if s.name == "dptrack_requests_total"}
    want = [("udp", "connect"), ("udp", "announce"), ("udp", "scrape"),
            ("http", "connect"), ("http", "announce"), ("http", "scrape")]
    missing = [k for k in want if k not in req]
    if missing:
        return f"dptrack_requests_total lacks {missing}; has {sorted(req)}"
    for (proto, action) in (w for w in want if w[1] != "connect"):
        key = f"{proto}_{action}"
        if key in stats and req[(proto, action)] < stats[key]:
            return f"requests_total{{{proto},{action}}} {req[(proto, action)]} < /stats {key}"
    if req[("http", "announce")] <= 0 or req[("udp", "announce")] <= 0:
        return f"announce counters zero: {req}"
    peers = {s.labels.get("family"): s.value for s in samples if s.name == "dptrack_peers"}
    if len(peers) < 2 or None in peers or sum(peers.values()) <= 0:
        return f"dptrack_peers{{family}}: {peers}"
    drops = [s for s in samples if s.name == "dptrack_drops_total"]
    if not drops or any("reason" not in s.labels for s in drops):
        return f"dptrack_drops_total{{reason}}: {drops[:3]}"
    return None


def abuse(ck, t, max_bytes):
    src = t.allowed4

    def bad(data, want):
        def fn():
            with t.conn(src) as c:
                c.send(data)
                r = c.read_response()
                return first(expect("status", r.status, want),
                             None if c.closed_within(2.0) else "connection still open after 2 s")
        return fn
    ck.check("TLS-like bytes get 400 and the connection closes",
             bad(b"\x16\x03\x01\x00\x05hello", 400))
    ck.check("GARBAGE\\r\\n\\r\\n gets 400 and the connection closes",
             bad(b"GARBAGE\r\n\r\n", 400))
    ck.check("an HTTP/2.0 request line gets 400 and the connection closes",
             bad(b"GET / HTTP/2.0\r\n\r\n", 400))
    ck.check("a header line without a colon gets 400 and the connection closes",
             bad(b"GET / HTTP/1.1\r\nHost tracker\r\n\r\n", 400))
    big = max_bytes + 512
    ck.check(f"a request target of {big} bytes gets 431 and the connection closes",
             bad(request_bytes("GET", "/announce?" + "a" * big), 431))
    ck.check(f"a header of {big} bytes gets 431 and the connection closes",
             bad(request_bytes("GET", "/heartbeat", [("X-Pad", "p" * big)]), 431))

    def unterminated():
        # Over the limit before any end of line: no waiting for more.
        with t.conn(src) as c:
            c.send(b"GET /" + b"a" * big)
            r = c.read_response()
            return first(expect("status", r.status, 431),
                         None if c.closed_within(2.0) else "connection still open after 2 s")
    ck.check(f"{big} bytes without a line end get 431 at once", unterminated)

    def still_serves():
        return expect("status", t.get(src, "/heartbeat").status, 200)
    ck.check("the server still answers after the bad requests", still_serves)


def slow_clients(ck, t, idle):
    """A slow-header client, a drip-feeding one and 50 idle or half-sent
    connections hang while a keep-alive client keeps getting fast answers;
    each of them is closed after the idle timeout."""
    a4, o4 = t.allowed4, t.other4
    conns = {}
    results = {}
    keep = None
    try:
        t0 = time.monotonic()
        conns["slow"] = t.conn(a4)
        conns["slow"].send(b"GET /announce?")
        for i in range(50):
            c = t.conn(o4 if i % 2 else a4)
            if i % 2:
                c.send(b"GET /scrape?info_hash=")
            conns[f"idle{i}"] = c
        conns["drip"] = t.conn(a4)
        opened = {k: t0 for k in conns}
        drip = b"GET /heartbeat HTTP/1.1\r\nX-Drip: " + b"d" * 64
        drip_sent = 0
        keep = t.conn(a4)
        times = []
        closed_at = {}
        next_req = t0 + 0.2
        next_drip = t0 + 0.5
        last_req = None
        end = t0 + idle + 4.0
        for _ in range(2000):  # a pass every <= 50 ms: ~200 are needed
            now = time.monotonic()
            if now >= end:
                break
            if len(times) < 8 and now >= next_req:
                s = time.monotonic()
                r = keep.request("GET", "/heartbeat" if len(times) % 2 else
                                 announce_target(secrets.token_bytes(20), new_peer_id(), 7001, 0))
                times.append((time.monotonic() - s, r.status))
                last_req = time.monotonic()
                next_req += 0.25
            if "drip" not in closed_at and now >= next_drip and drip_sent < len(drip):
                try:
                    conns["drip"].send(drip[drip_sent:drip_sent + 1])
                    drip_sent += 1
                except OSError:
                    closed_at["drip"] = now
                next_drip += 0.5
            watch = {c.sock: k for k, c in conns.items() if k not in closed_at}
            if len(times) >= 8 and "keep" not in closed_at:
                watch[keep.sock] = "keep"
            if not watch:
                break
            r, _, _ = select.select(list(watch), [], [], 0.05)
            for s in r:
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    closed_at[watch[s]] = time.monotonic()
        results.update(times=times, closed_at=closed_at, opened=opened, last_req=last_req, t0=t0)
    except (HttpError, OSError) as e:
        error = f"{type(e).__name__}: {e}"
        ck.check("slow and idle connections and a keep-alive client run side by side",
                 lambda: error)
        return
    finally:
        for c in conns.values():
            c.close()
        if keep is not None:
            keep.close()

    def fast():
        times = results["times"]
        if len(times) != 8:
            return f"only {len(times)} of 8 requests made"
        slow = [f"{d:.3f} s" for d, s in times if d >= 0.5]
        bad = [s for _, s in times if s != 200]
        return first(f"slow answers: {slow}" if slow else None,
                     f"statuses {bad}" if bad else None)
    ck.check("while 52 slow or idle connections hang, a keep-alive client gets 8 answers "
             "in under 0.5 s each", fast)

    closed_at, t0 = results["closed_at"], results["t0"]

    def closed_after(key, since, lo, hi):
        def fn():
            if key not in closed_at:
                return f"still open {hi} s later"
            dt = closed_at[key] - since
            return None if lo <= dt <= hi else f"closed after {dt:.2f} s, expected {lo}..{hi} s"
        return fn
    lo, hi = idle - 1.0, idle + 2.5
    ck.check(f"a client that sent 'GET /announce?' and then nothing is closed after the "
             f"{idle} s idle timeout", closed_after("slow", t0, lo, hi))
    ck.check(f"a client dripping one header byte every 0.5 s is closed after the {idle} s "
             "idle timeout", closed_after("drip", t0, lo, hi))

    def all_idle():
        left = [k for k in results["opened"] if k.startswith("idle") and k not in closed_at]
        late = [k for k in results["opened"] if k.startswith("idle") and k in closed_at and
                not lo <= closed_at[k] - t0 <= hi]
        return first(f"{len(left)} still open: {left[:5]}" if left else None,
                     f"closed outside {lo}..{hi} s: {late[:5]}" if late else None)
    ck.check("50 idle and half-sent connections are all closed after the idle timeout",
             all_idle)
    if results["last_req"] is not None:
        ck.check("an idle keep-alive connection is closed after the idle timeout",
                 closed_after("keep", results["last_req"], lo, hi))


def connection_cap(ck, t, cap):
    """cap + 6 idle connections: the ones past the cap are closed at once,
    the others stay and still work; afterwards new connections work. Which
    six is not checked: each thread accepts from its own SO_REUSEPORT queue,
    so accept order is not connect order."""
    a4, o4 = t.allowed4, t.other4
    extra = 6
    conns = []
    state = {}
    try:
        t0 = time.monotonic()
        for i in range(cap + extra):
            conns.append(t.conn(a4 if i % 2 else o4))
        # Within 1.5 s of the first connect (the idle timeout is longer):
        # which ones has the server closed?
        closed = set()
        deadline = t0 + 1.5
        for _ in range(1000):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            watch = {c.sock: i for i, c in enumerate(conns) if i not in closed}
            r, _, _ = select.select(list(watch), [], [], min(left, 0.1))
            for s in r:
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    closed.add(watch[s])
        state["closed"] = sorted(closed)
        state["elapsed"] = time.monotonic() - t0
        # Two of the survivors still answer.
        survivors = [i for i in range(len(conns)) if i not in closed]
        state["answers"] = []
        for i in (survivors[:1] + survivors[-1:]) if survivors else []:
            state["answers"].append(conns[i].request("GET", "/heartbeat").status)
    except (HttpError, OSError) as e:
        state["error"] = f"{type(e).__name__}: {e}"
    finally:
        for c in conns:
            c.close()

    def at_cap():
        if "error" in state:
            return state["error"]
        closed = state["closed"]
        if len(closed) != extra:
            return (f"{len(closed)} of {cap + extra} connections closed within "
                    f"{state['elapsed']:.1f} s, expected {extra}: {closed}")
        return expect("answers on surviving connections", state["answers"], [200, 200])
    ck.check(f"with {cap + extra} connections open, the {extra} past max_connections "
             f"({cap}) are closed at once and the rest still work", at_cap)

    def recovers():
        for _ in range(30):  # 3 s at most: the server sees the closes at once
            try:
                if t.get(a4, "/heartbeat").status == 200:
                    return None
            except (HttpError, OSError):
                pass
            time.sleep(0.1)
        return "no connection served within 3 s of closing them"
    ck.check("after they close, new connections are served again", recovers)


def server_counters(ck, t, cap_ran):
    """After everything: /stats counted the refusals by reason, the
    connections refused and closed idle, the responses by status code, and
    every connection the server counted as open was closed again."""
    def stats():
        r = t.get(t.allowed4, "/stats")
        if r.status != 200:
            raise HttpError(f"/stats status {r.status}")
        return json.loads(r.body)

    def refusals():
        d = stats()
        keys = ("http_err_malformed", "http_err_full_scrape", "http_bad_encoding",
                "http_bad_info_hash", "http_bad_peer_id", "http_bad_port", "http_bad_event",
                "http_bad_too_many")
        low = {k: d.get(k) for k in keys if not (d.get(k) or 0) > 0}
        return f"not counted: {low}" if low else None
    ck.check("/stats counts the refused announces and scrapes by reason", refusals)

    def connections():
        d = stats()
        want = {"http_connections_refused": 6 if cap_ran else 0,
                "http_connections_idle_closed": 52, "http_responses_200": 100,
                "http_responses_400": 4, "http_responses_403": 6, "http_responses_404": 4,
                "http_responses_405": 3, "http_responses_431": 3}
        low = {k: d.get(k) for k, n in want.items() if not (d.get(k) or 0) >= n}
        return f"below {want}: {low}" if low else None
    ck.check("/stats counts refused and idle-closed connections and responses by status",
             connections)

    def none_open():
        for _ in range(20):  # 2 s: the server sees the closes at once
            n = stats().get("http_connections_open")
            if n == 1:  # the one asking
                return None
            time.sleep(0.1)
        return f"http_connections_open is {n}, expected 1 (this request's)"
    ck.check("every closed connection left the server's open count", none_open)


def every_response(ck):
    def fn():
        bad = [r for r in SEEN if not r.get("content-type")]
        return f"{len(bad)} of {len(SEEN)} without Content-Type: {bad[:2]}" if bad else None
    ck.check(f"every response read ({len(SEEN)}) had Content-Length and Content-Type", fn)


def run(a):
    ck = Checks((HttpError, BencodeError, b.Bep15Error, OSError, subprocess.SubprocessError))
    t = Tracker(a)
    tmp = tempfile.mkdtemp(prefix="http_checks.")
    try:
        static_routes(ck, t)
        announce_v4(ck, t)
        announce_v6(ck, t)
        curl_done_when(ck, t, tmp)
        keep_alive(ck, t)
        head_requests(ck, t)
        scrape(ck, t)
        failures(ck, t)
        forwarded(ck, t)
        shared_swarm(ck, t)
        clock_agreement(ck, t)
        stats_metrics(ck, t)
        abuse(ck, t, a.max_request_bytes)
        every_response(ck)
        slow_clients(ck, t, a.idle_timeout)
        time.sleep(0.5)  # the server sees the closes of the slow clients
        connection_cap(ck, t, a.max_connections)
        server_counters(ck, t, True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ck


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--v4", required=True, help="tracker's HTTP IPv4 address")
    p.add_argument("--v6", required=True, help="tracker's HTTP IPv6 address")
    p.add_argument("--port", type=int, default=6969)
    p.add_argument("--udp4", required=True, help="tracker's UDP (DPDK) IPv4 address")
    p.add_argument("--udp6", required=True, help="tracker's UDP (DPDK) IPv6 address")
    p.add_argument("--udp-src4", required=True)
    p.add_argument("--udp-src6", required=True)
    p.add_argument("--src4", required=True, help="allowed,proxy,other,other2")
    p.add_argument("--src6", required=True, help="allowed,denied,other,other2")
    p.add_argument("--interval", type=int, required=True)
    p.add_argument("--min-interval", type=int, required=True)
    p.add_argument("--max-connections", type=int, required=True)
    p.add_argument("--idle-timeout", type=int, required=True)
    p.add_argument("--max-request-bytes", type=int, required=True)
    ck = run(p.parse_args())
    print(f"# http_checks: {ck.passed} passed, {ck.failed} failed", flush=True)
    return 1 if ck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
