#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""tracker_check.py - which BEP 15 (UDP) and BEP 3 (HTTP) behaviours a tracker shows.

Point it at one or more announce URLs of any tracker:

    tracker_check.py udp://198.18.0.2:6969/announce http://[fd00:e::2]:6969/announce

and it runs a list of named checks per URL, printing one line per check,

    PASS udp://198.18.0.2:6969/announce udp.connect: connect answers with ... (16-byte reply)

then "N passed, N failed, N skipped". Exit status: 0 if no check failed, 1
if one did, 2 for a usage error. --json prints the same results as one JSON
object instead (schema below).

What it does to the tracker: it announces three made-up peers (ports picked
at random, addresses the ones the tracker sees this host by) to a swarm of a
fresh random info hash per URL and run, so it never joins a real swarm, and
ends with event=stopped for each of them (also after a failed check) so the
tracker forgets them. Every wait is bounded by --timeout, a request is sent
at most twice, and the whole run sends at most UDP_DATAGRAMS_MAX datagrams
per udp:// URL and HTTP_REQUESTS_MAX requests (one TCP connection each, at
most) per http:// URL; a check that would go over fails instead.

UDP checks (BEP 15, BEP 41): connect echoes the transaction id; a connect
without the protocol magic gets no answer; announce with the connection id
(interval > 0, counts); the announcer is not in its own peer list; peer
entries are 6 bytes (IPv4) or 18 bytes (IPv6); numwant; event none,
completed, stopped; scrape of a known and an unknown hash; a 70-hash scrape
answered in one datagram; BEP 41 URLData as libtorrent sends it, and two
trailing zero bytes (aria2's); a forged connection id refused (an error
reply or silence), an error reply never longer than the request.

HTTP checks (BEP 3, 7, 23, 48): announce is a bencoded dictionary with
interval, complete, incomplete, peers; Content-Length present and right;
compact=1 gives 6-byte "peers" (18-byte "peers6" for IPv6 clients); the
announcer is not in its own peer list; compact=0 gives a list of
dictionaries; numwant; event completed and stopped; a bad info_hash gets a
failure reason; a multi-hash scrape (BEP 48; skipped when the URL's last
path segment does not start with "announce"); two requests on one
kept-alive connection.

JSON (--json): {"tool": "tracker_check", "results": [{"url", "check",
"description", "result": "PASS"|"FAIL"|"SKIP", "reason"}], "sent": {URL:
{"udp_datagrams" or "http_requests": N}}, "passed", "failed", "skipped"}.

Standard library only, with bep15_client.py and http_client.py beside it.
https:// is not supported (the checks are skipped).
"""

import argparse
import json
import os
import secrets
import socket
import struct
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bep15_client as b  # noqa: E402  (needs the path above)
import http_client as hc  # noqa: E402

UDP_DATAGRAMS_MAX = 56  # per udp:// URL; the checks need about 45
HTTP_REQUESTS_MAX = 24  # per http:// URL; the checks need about 20
ATTEMPTS = 2            # sends of one request before "no reply"
RECV_MAX = 64           # datagrams read while waiting for one reply
SCRAPE_MANY = 70        # 16 + 20 * 70 = 1416 bytes: fits IPv4 and IPv6 minimum MTUs
CONNID_REFRESH = 50.0   # seconds; BEP 15 lets a connection id serve one minute
LEFT = 1000             # bytes a leecher still needs


class Fail(Exception):
    """A check's failure, with its reason."""


class Skip(Exception):
    """A check that does not apply (or cannot run), with the reason."""


class Budget(Exception):
    """The run's packet or request bound was reached."""


class Report:
    """The results of every check, printed as they come (text) or at the end
    (JSON)."""

    def __init__(self, as_json, verbose):
        self.as_json = as_json
        self.verbose = verbose
        self.results = []
        self.sent = {}

    def note(self, text):
        if self.verbose:
            print(f"# {text}", file=sys.stderr, flush=True)

    def run(self, url, check_id, description, fn):
        """Runs fn(), which returns a PASS note or raises Fail or Skip; any
        other client error is a FAIL with the error as its reason."""
        try:
            result, reason = "PASS", fn() or ""
        except Fail as e:
            result, reason = "FAIL", str(e)
        except Skip as e:
            result, reason = "SKIP", str(e)
        except (b.Bep15Error, hc.HttpError, hc.BencodeError, Budget, OSError) as e:
            result, reason = "FAIL", f"{type(e).__name__}: {e}"
        self.results.append({"url": url, "check": check_id, "description": description,
                             "result": result, "reason": reason})
        if not self.as_json:
            tail = f" ({reason})" if reason else ""
            print(f"{result} {url} {check_id}: {description}{tail}", flush=True)
        return result == "PASS"

    def count(self, result):
        return sum(1 for r in self.results if r["result"] == result)

    def finish(self):
        """Prints the summary (or the JSON object); returns the exit status."""
        n = {"passed": self.count("PASS"), "failed": self.count("FAIL"),
             "skipped": self.count("SKIP")}
        if self.as_json:
            print(json.dumps({"tool": "tracker_check", "results": self.results,
                              "sent": self.sent, **n}, indent=1))
        else:
            print(f"{n['passed']} passed, {n['failed']} failed, {n['skipped']} skipped")
        return 1 if n["failed"] else 0


def text(raw, n=60):
    """A tracker's message bytes as text for a reason line, at most n characters."""
    t = raw.decode("utf-8", "replace")
    return t if len(t) <= n else t[:n] + "..."


def expect(what, got, want):
    if got != want:
        raise Fail(f"{what}: got {got!r}, expected {want!r}")


def port_set(peers, what):
    """The ports of peers [(address, port)] as a set; Fail on duplicates."""
    ports = [p for _, p in peers]
    if len(set(ports)) != len(ports):
        raise Fail(f"{what}: duplicate peers {peers}")
    return set(ports)


def check_peers(ports, me, want, what, may_lack=()):
    """Fails if me is in ports, or ports is not want (less any of may_lack:
    trackers may leave seeders out of a seeder's list)."""
    if me in ports:
        raise Fail(f"{what}: the announcer (port {me}) got itself back")
    if not (want - set(may_lack)) <= ports <= want:
        raise Fail(f"{what}: peer ports {sorted(ports)}, expected {sorted(want)}")


# --- UDP (BEP 15) ---------------------------------------------------------------

class UdpTracker:
    """Three made-up peers, each its own UDP socket (so its own replies),
    talking BEP 15 to one tracker; raw packets, so sizes can be checked."""

    def __init__(self, url, host, port, source, timeout, report):
        self.url = url
        self.timeout = timeout
        self.report = report
        self.clients = [b.Client(host, port, source=source, timeout=timeout, retries=0)
                        for _ in range(3)]
        self.family = self.clients[0].family
        self.plen = b.PEER4_LEN if self.family == socket.AF_INET else b.PEER6_LEN
        base = 10000 + secrets.randbelow(50000)
        self.ports = [base, base + 1, base + 2]
        self.peer_ids = [b"-TC0001-" + secrets.token_bytes(12) for _ in range(3)]
        self.connected = [0.0, 0.0, 0.0]
        self.joined = set()  # clients that announced and have not stopped
        self.sent = 0
        self.path = (urllib.parse.urlsplit(url).path or "/").encode()

    def close(self):
        for c in self.clients:
            c.close()

    def exchange(self, i, pkt, attempts=ATTEMPTS):
        """Sends pkt (a request with its transaction id at bytes 12..15) from
        client i up to attempts times, each waiting self.timeout, and returns
        the first reply carrying that transaction id, or None."""
        sock = self.clients[i].sock
        tid = pkt[12:16]
        for _ in range(attempts):
            if self.sent >= UDP_DATAGRAMS_MAX:
                raise Budget(f"{UDP_DATAGRAMS_MAX} datagrams sent to this URL")
            self.sent += 1
            self.report.sent[self.url] = {"udp_datagrams": self.sent}
            deadline = time.monotonic() + self.timeout
            try:
                sock.send(pkt)
            except OSError as e:
                self.report.note(f"send: {e}")
                time.sleep(max(0.0, deadline - time.monotonic()))
                continue
            for _ in range(RECV_MAX):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                sock.settimeout(left)
                try:
                    data = sock.recv(65535)
                except socket.timeout:
                    break
                except ConnectionRefusedError:
                    self.report.note("ICMP port unreachable")
                    time.sleep(max(0.0, deadline - time.monotonic()))
                    break
                if len(data) >= 8 and data[4:8] == tid:
                    self.report.note(f"client {i}: {len(pkt)} bytes out, {len(data)} back: "
                                     f"{data[:40].hex()}")
                    return data
                self.report.note(f"client {i}: ignored a {len(data)}-byte datagram")
        return None

    def request(self, i, pkt, action):
        """A reply of the given action to pkt, or Fail."""
        data = self.exchange(i, pkt)
        if data is None:
            raise Fail(f"no reply to {ATTEMPTS} sends {self.timeout:g} s apart")
        (got,) = struct.unpack_from("!I", data)
        if got == b.ACTION_ERROR:
            raise Fail(f"error reply {text(data[8:])!r}")
        if got != action:
            raise Fail(f"reply action {got}, expected {action}")
        return data

    def connect(self, i):
        """Client i's connection id: connects when it has none or it is old."""
        c = self.clients[i]
        if c.connection_id is not None and time.monotonic() - self.connected[i] < CONNID_REFRESH:
            return c.connection_id
        pkt = struct.pack("!QII", b.PROTOCOL_ID, b.ACTION_CONNECT, secrets.randbits(32))
        data = self.request(i, pkt, b.ACTION_CONNECT)
        if len(data) < 16:
            raise Fail(f"connect reply of {len(data)} bytes, expected 16")
        (c.connection_id,) = struct.unpack_from("!Q", data, 8)
        self.connected[i] = time.monotonic()
        return c.connection_id

    def announce_packet(self, i, info_hash, event, left, numwant=-1, cid=None, tail=b""):
        cid = self.connect(i) if cid is None else cid
        return struct.pack("!QII20s20sQQQIIIiH", cid, b.ACTION_ANNOUNCE, secrets.randbits(32),
                           info_hash, self.peer_ids[i], 0, left, 0, event, 0,
                           secrets.randbits(32), numwant, self.ports[i]) + tail

    def announce(self, i, info_hash, event, left, numwant=-1, tail=b""):
        """Announces as client i; returns (interval, leechers, seeders, peer
        ports, reply size). Fails on a reply that is not whole entries."""
        pkt = self.announce_packet(i, info_hash, event, left, numwant, tail=tail)
        if event == b.EVENT_STOPPED:
            self.joined.discard(i)
        else:
            self.joined.add(i)  # before sending: a lost reply may hide a join
        data = self.request(i, pkt, b.ACTION_ANNOUNCE)
        if len(data) < 20 or (len(data) - 20) % self.plen:
            raise Fail(f"announce reply of {len(data)} bytes is not 20 + {self.plen} * peers")
        interval, leechers, seeders = struct.unpack_from("!III", data, 8)
        peers = b.parse_peers(data[20:], self.family)
        self.report.note(f"client {i} (port {self.ports[i]}): interval {interval}, "
                         f"{seeders} seeders, {leechers} leechers, peers {peers}")
        return interval, leechers, seeders, port_set(peers, "peers"), len(data)

    def scrape(self, i, hashes):
        """Client i's scrape of hashes: [(complete, downloaded, incomplete)]."""
        pkt = struct.pack("!QII", self.connect(i), b.ACTION_SCRAPE,
                          secrets.randbits(32)) + b"".join(hashes)
        data = self.request(i, pkt, b.ACTION_SCRAPE)
        body = data[8:]
        if len(body) % 12 or len(body) // 12 > len(hashes):
            raise Fail(f"scrape reply of {len(data)} bytes for {len(hashes)} hash(es)")
        return [struct.unpack_from("!III", body, off) for off in range(0, len(body), 12)]

    def forged(self, pkt):
        """PASS note for a request carrying a forged connection id: silence
        or an error reply no longer than the request; Fail otherwise."""
        data = self.exchange(0, pkt, attempts=1)
        if data is None:
            return f"no reply within {self.timeout:g} s"
        (action,) = struct.unpack_from("!I", data)
        if action != b.ACTION_ERROR:
            raise Fail(f"accepted: reply action {action}, {len(data)} bytes")
        if len(data) > len(pkt):
            raise Fail(f"error reply of {len(data)} bytes to a {len(pkt)}-byte request "
                       f"(an amplifier): {text(data[8:])!r}")
        return f"error reply of {len(data)} bytes: {text(data[8:])!r}"

    def cleanup(self, info_hash):
        """event=stopped, one send each, for peers still in the swarm."""
        for i in sorted(self.joined):
            try:
                self.exchange(i, self.announce_packet(i, info_hash, b.EVENT_STOPPED, 0),
                              attempts=1)
            except (Fail, Budget, OSError) as e:
                self.report.note(f"cleanup of client {i}: {e}")
        self.joined.clear()


def udp_checks(report, url, host, port, source, timeout):
    t = UdpTracker(url, host, port, source, timeout, report)
    h = secrets.token_bytes(20)
    unknown = secrets.token_bytes(20)
    A, B, C = 0, 1, 2
    pa, pb, pc = t.ports
    fam = "IPv4" if t.family == socket.AF_INET else "IPv6"
    state = {"connect": False}

    def run(check_id, description, fn):
        return report.run(url, "udp." + check_id, description, fn)

    def needs_connect():
        if not state["connect"]:
            raise Skip("connect got no answer")

    def connect():
        pkt = struct.pack("!QII", b.PROTOCOL_ID, b.ACTION_CONNECT, secrets.randbits(32))
        data = t.request(A, pkt, b.ACTION_CONNECT)
        if len(data) != 16:
            raise Fail(f"{len(data)}-byte reply, expected 16")
        (t.clients[A].connection_id,) = struct.unpack_from("!Q", data, 8)
        t.connected[A] = time.monotonic()
        t.connect(B)
        t.connect(C)
        state["connect"] = True
        return "16-byte reply, one per client"

    def no_magic():
        needs_connect()
        pkt = struct.pack("!QII", b.PROTOCOL_ID ^ 0xFFFF, b.ACTION_CONNECT,
                          secrets.randbits(32))
        data = t.exchange(A, pkt, attempts=1)
        if data is not None:
            raise Fail(f"answered: {len(data)} bytes, action {struct.unpack_from('!I', data)[0]}")
        return f"no reply within {timeout:g} s"

    def first_announce():
        needs_connect()
        interval, leechers, seeders, ports, size = t.announce(A, h, b.EVENT_STARTED, 0)
        if interval <= 0:
            raise Fail(f"interval {interval}")
        expect("seeders, leechers", (seeders, leechers), (1, 0))
        check_peers(ports, pa, set(), "peers")
        return f"interval {interval} s, 1 seeder, 0 leechers"

    def not_self():
        needs_connect()
        _, leechers, seeders, ports, _ = t.announce(B, h, b.EVENT_STARTED, LEFT)
        check_peers(ports, pb, {pa}, "leecher 1")
        expect("seeders, leechers after leecher 1", (seeders, leechers), (1, 1))
        _, leechers, seeders, ports, _ = t.announce(C, h, b.EVENT_STARTED, LEFT)
        check_peers(ports, pc, {pa, pb}, "leecher 2")
        expect("seeders, leechers after leecher 2", (seeders, leechers), (1, 2))
        return "a seeder and two leechers from one address, by port"

    def entry_size():
        needs_connect()
        _, _, _, ports, size = t.announce(C, h, b.EVENT_NONE, LEFT)
        expect("reply bytes for 2 peers", size, 20 + 2 * t.plen)
        check_peers(ports, pc, {pa, pb}, "peers")
        return f"{size} bytes for 2 peers"

    def event_none():
        needs_connect()
        _, leechers, seeders, ports, _ = t.announce(B, h, b.EVENT_NONE, LEFT)
        expect("seeders, leechers", (seeders, leechers), (1, 2))
        check_peers(ports, pb, {pa, pc}, "peers")
        return "counts unchanged"

    def numwant():
        needs_connect()
        _, _, _, ports, _ = t.announce(C, h, b.EVENT_NONE, LEFT, numwant=1)
        expect("peers for numwant 1 of 2", len(ports), 1)
        check_peers(ports, pc, {pa, pb}, "peers", may_lack={pa, pb})
        return "1 of 2 peers"

    def completed():
        needs_connect()
        _, leechers, seeders, ports, _ = t.announce(B, h, b.EVENT_COMPLETED, 0)
        expect("seeders, leechers", (seeders, leechers), (2, 1))
        check_peers(ports, pb, {pa, pc}, "peers", may_lack={pa})
        return "leecher 1 counted as a seeder"

    def scrape():
        needs_connect()
        got = t.scrape(A, [h, unknown])
        expect("complete, downloaded, incomplete of the swarm, then an unknown hash",
               got, [(2, 1, 1), (0, 0, 0)])
        return "(2, 1, 1) and (0, 0, 0)"

    def scrape_many():
        needs_connect()
        hashes = [secrets.token_bytes(20) for _ in range(SCRAPE_MANY)]
        hashes[SCRAPE_MANY // 2] = h
        got = t.scrape(A, hashes)
        expect("entries", len(got), SCRAPE_MANY)
        want = [(0, 0, 0)] * SCRAPE_MANY
        want[SCRAPE_MANY // 2] = (2, 1, 1)
        for i, (g, w) in enumerate(zip(got, want)):
            expect(f"entry {i} (the swarm's is {SCRAPE_MANY // 2})", g, w)
        return f"{16 + 20 * SCRAPE_MANY}-byte request, {8 + 12 * SCRAPE_MANY}-byte reply"

    def url_data():
        needs_connect()
        # libtorrent's form (udp_tracker_connection.cpp): one URLData option
        # of the URL's path and query, cut to 255 bytes, no EndOfOptions.
        q = urllib.parse.urlsplit(url).query
        data = (t.path + (b"?" + q.encode() if q else b""))[:255]
        tail = bytes((b.OPT_URL_DATA, len(data))) + data
        t.announce(C, h, b.EVENT_NONE, LEFT, tail=tail)  # a well-formed reply
        return f"{98 + len(tail)}-byte announce"

    def aria2():
        needs_connect()
        t.announce(C, h, b.EVENT_NONE, LEFT, tail=b"\0\0")  # a well-formed reply
        return "100-byte announce"

    def forged_announce():
        needs_connect()
        return t.forged(t.announce_packet(A, h, b.EVENT_NONE, 0, cid=secrets.randbits(64)))

    def forged_scrape():
        needs_connect()
        return t.forged(struct.pack("!QII", secrets.randbits(64), b.ACTION_SCRAPE,
                                    secrets.randbits(32)) + h)

    def stopped():
        needs_connect()
        t.announce(A, h, b.EVENT_STOPPED, 0)
        _, leechers, seeders, ports, _ = t.announce(C, h, b.EVENT_NONE, LEFT)
        expect("seeders, leechers after the first seeder stopped", (seeders, leechers), (1, 1))
        check_peers(ports, pc, {pb}, "peers")
        t.announce(B, h, b.EVENT_STOPPED, 0)
        t.announce(C, h, b.EVENT_STOPPED, LEFT)
        expect("scrape after all stopped", t.scrape(A, [h]), [(0, 1, 0)])
        return "stopped peers leave the list and the counts"

    try:
        run("connect", "connect answers with the transaction id", connect)
        run("connect_magic", "a connect without the protocol magic gets no answer", no_magic)
        run("announce", "announce with the connection id: interval > 0, counts", first_announce)
        run("not_self", "the announcer is not in its own peer list", not_self)
        run("peer_size", f"{fam} replies carry {t.plen}-byte peers only", entry_size)
        run("event_none", "event none keeps the peer and the counts", event_none)
        run("numwant", "numwant 1 gets one peer", numwant)
        run("event_completed", "event completed turns a leecher into a seeder", completed)
        run("scrape", "scrape of a known and an unknown hash", scrape)
        run("scrape_many", f"scrape of {SCRAPE_MANY} hashes answered in one datagram",
            scrape_many)
        run("bep41_urldata", "a BEP 41 URLData option as libtorrent sends it is tolerated",
            url_data)
        run("bep41_aria2", "two zero bytes after the announce (aria2) are tolerated", aria2)
        run("forged_announce", "an announce with a forged connection id is refused; "
            "no error reply longer than the request", forged_announce)
        run("forged_scrape", "a scrape with a forged connection id is refused; "
            "no error reply longer than the request", forged_scrape)
        run("event_stopped", "event stopped removes the peer", stopped)
    finally:
        t.cleanup(h)
        t.close()


# --- HTTP (BEP 3, 7, 23, 48) ------------------------------------------------------

class HttpTracker:
    """Three made-up peers announcing to one HTTP tracker, a connection per
    request (but for the keep-alive check), over http_client's raw sockets."""

    def __init__(self, url, address, source, timeout, report):
        u = urllib.parse.urlsplit(url)
        self.url = url
        self.address = address  # (numeric host, port)
        self.source = source
        self.timeout = timeout
        self.report = report
        self.host = u.netloc.rpartition("@")[2]
        self.path = u.path or "/"
        self.query = u.query
        self.v6 = ":" in address[0]
        self.key, self.other = (b"peers6", b"peers") if self.v6 else (b"peers", b"peers6")
        self.family = socket.AF_INET6 if self.v6 else socket.AF_INET
        head, sep, last = self.path.rpartition("/")
        self.scrape_path = (head + sep + last.replace("announce", "scrape", 1)
                            if last.startswith("announce") else None)
        base = 10000 + secrets.randbelow(50000)
        self.ports = [base, base + 1, base + 2]
        self.peer_ids = [hc.new_peer_id() for _ in range(3)]
        self.joined = set()
        self.sent = 0

    def target(self, path, params):
        q = "&".join(f"{k}={v}" for k, v in params)
        return f"{path}?{self.query + '&' if self.query else ''}{q}"

    def announce_target(self, i, info_hash, event, left, extra=()):
        p = [("info_hash", hc.quote(info_hash)), ("peer_id", hc.quote(self.peer_ids[i])),
             ("port", self.ports[i]), ("uploaded", 0), ("downloaded", 0), ("left", left)]
        if event:
            p.append(("event", event))
        return self.target(self.path, p + list(extra))

    def conn(self):
        if self.sent >= HTTP_REQUESTS_MAX:
            raise Budget(f"{HTTP_REQUESTS_MAX} requests sent to this URL")
        return hc.Conn(self.address[0], self.address[1], source=self.source,
                       timeout=self.timeout)

    def send(self, c, target, headers=()):
        if self.sent >= HTTP_REQUESTS_MAX:
            raise Budget(f"{HTTP_REQUESTS_MAX} requests sent to this URL")
        self.sent += 1
        self.report.sent[self.url] = {"http_requests": self.sent}
        c.send(hc.request_bytes("GET", target, [("Host", self.host), *headers], host=False))
        r = c.read_response(timeout=self.timeout)
        self.report.note(f"GET {target[:100]} -> {r.status}, {r.body[:160]!r}")
        return r

    def get(self, target):
        with self.conn() as c:
            return self.send(c, target)

    @staticmethod
    def body_dict(r):
        if r.status != 200:
            raise Fail(f"status {r.status} {r.reason}: {r.body[:80]!r}")
        d = hc.bdecode(r.body)
        if not isinstance(d, dict):
            raise Fail(f"body is not a dictionary: {r.body[:80]!r}")
        if b"failure reason" in d:
            raise Fail(f"failure reason {d[b'failure reason']!r}")
        return d

    def announce(self, i, info_hash, event, left, compact=1, extra=()):
        """Announces as peer i; returns the reply dictionary."""
        if event == "stopped":
            self.joined.discard(i)
        else:
            self.joined.add(i)
        r = self.get(self.announce_target(i, info_hash, event, left,
                                          [("compact", compact), *extra]))
        return self.body_dict(r)

    def peers(self, d):
        """Peer ports of a compact reply, from the key of this client's
        family; the other family's key must hold none of ours."""
        ours = port_set(hc.compact_peers(d, self.key, self.family), self.key.decode())
        other_family = socket.AF_INET if self.v6 else socket.AF_INET6
        theirs = port_set(hc.compact_peers(d, self.other, other_family), self.other.decode())
        if theirs & set(self.ports):
            raise Fail(f"our peers in {self.other!r}, expected them in {self.key!r}")
        return ours

    def cleanup(self, info_hash):
        for i in sorted(self.joined):
            try:
                self.get(self.announce_target(i, info_hash, "stopped", 0))
            except (hc.HttpError, hc.BencodeError, Budget, OSError) as e:
                self.report.note(f"cleanup of peer {i}: {e}")
        self.joined.clear()


def counts(d):
    got = (d.get(b"complete"), d.get(b"incomplete"))
    if not all(isinstance(v, int) for v in got):
        raise Fail(f"complete, incomplete: {got!r}")
    return got


def http_checks(report, url, address, source, timeout):
    t = HttpTracker(url, address, source, timeout, report)
    h = secrets.token_bytes(20)
    unknown = secrets.token_bytes(20)
    A, B, C = 0, 1, 2
    pa, pb, pc = t.ports
    state = {"announce": False}

    def run(check_id, description, fn):
        return report.run(url, "http." + check_id, description, fn)

    def needs_announce():
        if not state["announce"]:
            raise Skip("the first announce failed")

    def announce():
        d = t.announce(A, h, "started", 0)
        missing = [k.decode() for k in (b"interval", b"complete", b"incomplete", b"peers")
                   if k not in d]
        if missing:
            raise Fail(f"no {', '.join(missing)} in {sorted(d)}")
        if not isinstance(d[b"interval"], int) or d[b"interval"] <= 0:
            raise Fail(f"interval {d[b'interval']!r}")
        expect("complete, incomplete", counts(d), (1, 0))
        state["announce"] = True
        return f"interval {d[b'interval']} s, 1 seeder, 0 leechers"

    def content_length():
        # A socket of its own, read to the close: framing is what is checked.
        target = t.announce_target(A, h, "", 0, [("compact", 1)])
        if t.sent >= HTTP_REQUESTS_MAX:
            raise Budget(f"{HTTP_REQUESTS_MAX} requests sent to this URL")
        t.sent += 1
        report.sent[url] = {"http_requests": t.sent}
        fam = socket.AF_INET6 if t.v6 else socket.AF_INET
        raw = b""
        deadline = time.monotonic() + timeout
        with b.connected_socket(fam, socket.SOCK_STREAM, address, source=source,
                                timeout=timeout) as s:
            s.sendall(hc.request_bytes("GET", target, [("Host", t.host),
                                                       ("Connection", "close")], host=False))
            for _ in range(1000):
                left = deadline - time.monotonic()
                if left <= 0 or len(raw) > hc.RESPONSE_MAX:
                    break
                s.settimeout(left)
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    break
                if not chunk:
                    break
                raw += chunk
        head, sep, body = raw.partition(b"\r\n\r\n")
        if not sep:
            raise Fail(f"no complete response head within {timeout:g} s: {raw[:80]!r}")
        lengths = [line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")[1:]
                   if line.lower().startswith(b"content-length:")]
        if len(lengths) != 1 or not lengths[0].isdigit():
            raise Fail(f"Content-Length headers: {lengths!r}")
        expect("Content-Length against the body read to the close", int(lengths[0]), len(body))
        return f"Content-Length: {int(lengths[0])}"

    def compact():
        needs_announce()
        d = t.announce(B, h, "started", LEFT)
        check_peers(t.peers(d), pb, {pa}, t.key.decode())
        expect("complete, incomplete", counts(d), (1, 1))
        return f"the seeder in {t.key.decode()}"

    def not_self():
        needs_announce()
        d = t.announce(C, h, "started", LEFT)
        check_peers(t.peers(d), pc, {pa, pb}, t.key.decode())
        expect("complete, incomplete", counts(d), (1, 2))
        return "a seeder and two leechers from one address, by port"

    def non_compact():
        needs_announce()
        d = t.announce(C, h, "", LEFT, compact=0)
        peers = d.get(b"peers")
        if not isinstance(peers, list):
            raise Fail(f"peers is {type(peers).__name__}, expected a list: {peers!r:.80}")
        ports = []
        for p in peers:
            if (not isinstance(p, dict) or not isinstance(p.get(b"ip"), bytes)
                    or not isinstance(p.get(b"port"), int)):
                raise Fail(f"peer entry {p!r:.80} is not a dictionary with ip and port")
            try:
                socket.inet_pton(t.family, p[b"ip"].decode())
            except (OSError, UnicodeDecodeError):
                raise Fail(f"ip {p[b'ip']!r} is not an address of the client's family") from None
            ports.append((p[b"ip"], p[b"port"]))
        check_peers(port_set(ports, "peers"), pc, {pa, pb}, "peers")
        return f"{len(peers)} dictionaries"

    def numwant():
        needs_announce()
        d = t.announce(C, h, "", LEFT, extra=[("numwant", 1)])
        ports = t.peers(d)
        expect("peers for numwant 1 of 2", len(ports), 1)
        check_peers(ports, pc, {pa, pb}, "peers", may_lack={pa, pb})
        return "1 of 2 peers"

    def bad_hash():
        target = t.target(t.path, [("info_hash", hc.quote(secrets.token_bytes(19))),
                                   ("peer_id", hc.quote(t.peer_ids[A])), ("port", pa),
                                   ("uploaded", 0), ("downloaded", 0), ("left", 0)])
        r = t.get(target)
        try:
            d = hc.bdecode(r.body)
        except hc.BencodeError as e:
            raise Fail(f"status {r.status}, body not bencoded ({e}): {r.body[:80]!r}") from None
        reason = d.get(b"failure reason") if isinstance(d, dict) else None
        if not isinstance(reason, bytes) or not reason:
            raise Fail(f"status {r.status}, no failure reason: {r.body[:80]!r}")
        if r.status != 200:
            raise Fail(f"status {r.status} (clients read a failure reason from 200): {reason!r}")
        return repr(text(reason))

    def completed():
        needs_announce()
        d = t.announce(B, h, "completed", 0)
        expect("complete, incomplete", counts(d), (2, 1))
        check_peers(t.peers(d), pb, {pa, pc}, "peers", may_lack={pa})
        return "leecher 1 counted as a seeder"

    def scrape():
        if t.scrape_path is None:
            raise Skip("the URL's last path segment does not start with 'announce'")
        needs_announce()
        target = t.target(t.scrape_path, [("info_hash", hc.quote(x)) for x in (h, unknown)])
        d = t.body_dict(t.get(target))
        files = d.get(b"files")
        if not isinstance(files, dict):
            raise Fail(f"no files dictionary: {sorted(d)}")
        got = files.get(h)
        if not isinstance(got, dict):
            raise Fail(f"the swarm's hash is not in files ({len(files)} entries)")
        expect("complete, downloaded, incomplete",
               tuple(got.get(k) for k in (b"complete", b"downloaded", b"incomplete")), (2, 1, 1))
        none = files.get(unknown)
        if none is not None and any(none.get(k) for k in (b"complete", b"incomplete")):
            raise Fail(f"the unknown hash has counts {none!r}")
        return "both hashes in one request"

    def keep_alive():
        needs_announce()
        with t.conn() as c:
            for _ in range(2):
                counts(t.body_dict(t.send(c, t.announce_target(C, h, "", LEFT,
                                                               [("compact", 1)]))))
        return "two announces answered on one HTTP/1.1 connection"

    def stopped():
        needs_announce()
        t.announce(A, h, "stopped", 0)
        d = t.announce(C, h, "", LEFT)
        expect("complete, incomplete after the first seeder stopped", counts(d), (1, 1))
        check_peers(t.peers(d), pc, {pb}, "peers")
        t.announce(B, h, "stopped", 0)
        t.announce(C, h, "stopped", LEFT)
        return "stopped peers leave the list and the counts"

    try:
        run("announce", "announce is a bencoded dictionary with interval, complete, "
            "incomplete, peers", announce)
        run("content_length", "Content-Length present and matching the body", content_length)
        run("compact", f"compact=1 gives {'18-byte peers6' if t.v6 else '6-byte peers'} entries",
            compact)
        run("not_self", "the announcer is not in its own peer list", not_self)
        run("non_compact", "compact=0 gives a list of dictionaries", non_compact)
        run("numwant", "numwant=1 gets one peer", numwant)
        run("event_completed", "event=completed turns a leecher into a seeder", completed)
        run("bad_info_hash", "a 19-byte info_hash gets a failure reason", bad_hash)
        run("scrape_multi", "a scrape of two hashes in one request (BEP 48)", scrape)
        run("keep_alive", "two requests on one kept-alive connection", keep_alive)
        run("event_stopped", "event=stopped removes the peer", stopped)
    finally:
        t.cleanup(h)


# --- the command line ---------------------------------------------------------------

def outcome(exc):
    """A check function that raises exc (a Fail or Skip decided up front)."""
    def fn():
        raise exc
    return fn


def source_for(sources, family):
    """The first --source address of family, or None."""
    for s in sources or ():
        if (":" in s) == (family == socket.AF_INET6):
            return s
    return None


def check_url(report, url, args):
    u = urllib.parse.urlsplit(url)
    try:
        host, port = u.hostname, u.port
    except ValueError as e:
        host, port = None, str(e)
    if u.scheme == "https":
        report.run(url, "http.all", "HTTP checks", outcome(
            Skip("https:// is not supported: no TLS in this tool")))
        return
    if not host:
        report.run(url, "url", "the URL names a host", outcome(
            Fail(f"no host in {url}")))
        return
    port = port or (80 if u.scheme == "http" else 0)
    kind = socket.SOCK_DGRAM if u.scheme == "udp" else socket.SOCK_STREAM
    try:
        family, _, _, _, addr = socket.getaddrinfo(host, port, 0, kind)[0]
    except (OSError, UnicodeError) as e:
        report.run(url, "url", "the host resolves", outcome(
            Fail(f"{host}: {e}")))
        return
    source = source_for(args.source, family)
    report.note(f"{url}: {addr[0]} port {addr[1]}, source {source or 'any'}")
    if u.scheme == "udp":
        udp_checks(report, url, addr[0], addr[1], source, args.timeout)
    else:
        http_checks(report, url, addr[:2], source, args.timeout)


def parser():
    p = argparse.ArgumentParser(
        description="Check which BEP 15 (udp://) and BEP 3/23/48 (http://) behaviours a "
                    "tracker shows. It announces three made-up peers to a fresh random "
                    "info hash per URL and stops them at the end.",
        epilog=f"Bounds: at most {UDP_DATAGRAMS_MAX} UDP datagrams per udp:// URL and "
               f"{HTTP_REQUESTS_MAX} HTTP requests (one TCP connection each, at most) per "
               "http:// URL; each request is sent at most twice and each wait lasts "
               "--timeout. Exit status: 0 no check failed, 1 a check failed, 2 usage.")
    p.add_argument("urls", nargs="+", metavar="URL",
                   help="announce URL: udp://HOST:PORT/announce, http://HOST:PORT/announce; "
                        "IPv6 as [ADDR]")
    p.add_argument("--timeout", type=float, default=2.0,
                   help="seconds one request waits for its reply (2)")
    p.add_argument("--source", action="append", metavar="ADDR",
                   help="local address to send from; give one per family if needed")
    p.add_argument("--verbose", "-v", action="store_true",
                   help="show every reply on stderr")
    p.add_argument("--json", action="store_true",
                   help="print the results as one JSON object")
    return p


def main(argv=None):
    p = parser()
    args = p.parse_args(argv)
    if not 0 < args.timeout <= 60:
        p.error("--timeout must be in (0, 60]")
    for url in args.urls:
        if urllib.parse.urlsplit(url).scheme not in ("udp", "http", "https"):
            p.error(f"not a udp:// or http:// URL: {url}")
    report = Report(args.json, args.verbose)
    for url in args.urls:
        check_url(report, url, args)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
