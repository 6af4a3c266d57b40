#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""cluster_checks.py - the client side of cluster.sh, one phase per run.

Three dptrack instances A, B and C share their swarms through NATS
JetStream. This program runs in the client namespace and talks to them
over BEP 15 (test/bep15_client.py) and HTTP (test/http_client.py); the
shell script does everything to processes (NATS servers stopped, killed,
instances restarted) between the phases:

  basic STATE        propagation of a peer announced to A to B and C over
                     UDP and HTTP, IPv4 and IPv6, timed; a stop sent to one
                     instance removes the peer everywhere; a completion
                     counts once in every instance's UDP and HTTP scrape,
                     also after more announces by the same peer; a
                     connection ID from A is accepted by B and C. Writes
                     what later phases verify (scrapes, a stopped peer) to
                     STATE.
  verify STATE       what basic left is still so at --at (after a restart)
  announce STATE     --count new peers, over --families, in --swarms
                     swarms, announced round robin to the instances of
                     --to; every announce must be answered; writes them to
                     STATE
  expect STATE       every peer of STATE turns up in the replies of each
                     instance of --at within --within seconds (timed); with
                     --lost-from, a peer that does not is acceptable only if
                     that instance counted at least as many records dropped
                     since --stats-before; --seen-out FILE keeps the peers
                     found (at every instance), for a later expect
  rate               a paced BEP 15 client: --pps announces a second for
                     --seconds to --at, each a new peer of one swarm
                     (--tag); prints the answered rate and writes it to
                     --out; with --baseline, checks it is at least
                     --min-ratio of that one's
  same-scrape        the swarm of rate --tag counts the same at every
                     instance of --at as at --ref, within --within seconds
                     (or the difference is counted as dropped, as expect)
  first-answer       from --since-ns (the instance's start, wall clock) an
                     announce to --at is tried every 0.1 s until one is
                     answered; checks that took at most --max seconds
  wait-stat          /stats KEY of --at reaches VALUE within --within s
  stats-save FILE    /stats of --at, as JSON, for a later comparison
  settle             waits until every instance has applied the same
                     stream sequence (what one published, all applied)
  reorder            publishes batches 2 then 1 of a made-up instance x
                     straight to the stream (--nats), as a batch published
                     again after a failed acknowledgement is stored behind
                     later ones; every instance must apply both
  stream-order       reads every message of the stream through the
                     JetStream API (--nats HOST:PORT): it must hold each
                     batch once; prints the batches stored out of their
                     origin's numbering (a diagnosis), and twice

Every request is bounded (a timeout and a retry count) and every loop has
a count and a deadline. Prints "ok - NAME" / "not ok - NAME: detail" lines
(tap.py) and figures as "# " comments; exits 1 if a check failed.
"""

import argparse
import hashlib
import json
import os
import secrets
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import bep15_client as b  # noqa: E402
from http_client import (BencodeError, Conn, HttpError, announce_target,  # noqa: E402
                         bdecode, compact_peers, new_peer_id, scrape_target)
from tap import Checks, expect, first, norm  # noqa: E402

NAMES = ("a", "b", "c")
OBS_PORT = 1            # the observers' own (announced) port
OBS_ID = b"-DT0001-observer0001"
DROP_KEYS = ("cluster_drop_ring_full", "cluster_drop_buffer_full", "cluster_drop_gave_up",
             "cluster_drop_retry_full")


def info_hash(tag, n=0):
    return hashlib.sha1(f"dptrack cluster test {tag} {n}".encode()).digest()


def say(text):
    print(f"# {text}", flush=True)


def up(inst):
    return inst.upper()


def secs(t):
    return "never" if t is None else f"{t:.3f} s"


class Cluster:
    """The instances' addresses, this namespace's source addresses, and
    the clients that read the instances' state (observers)."""

    def __init__(self, a):
        self.a = a
        self.port = a.port
        self.udp = {4: dict(zip(NAMES, a.udp4.split(","))), 6: dict(zip(NAMES, a.udp6.split(",")))}
        self.http = {4: dict(zip(NAMES, a.http4.split(","))),
                     6: dict(zip(NAMES, a.http6.split(",")))}
        self.obs = {4: a.obs4, 6: a.obs6}       # UDP observer (link U)
        self.hobs = {4: a.hobs4, 6: a.hobs6}    # HTTP observer (link H)
        self.src = {4: a.src4, 6: a.src6}       # UDP peers' source (link U)
        self.hsrc = {4: a.hsrc4, 6: a.hsrc6}    # HTTP peers' source (link H)
        self._clients = {}

    def client(self, inst, fam, src=None, timeout=0.5, retries=3):
        """A cached BEP 15 client to inst over fam from src (the observer)."""
        src = src or self.obs[fam]
        k = (inst, fam, src, timeout, retries)
        if k not in self._clients:
            self._clients[k] = b.Client(self.udp[fam][inst], self.port, source=src,
                                        timeout=timeout, retries=retries)
        return self._clients[k]

    def close(self):
        for c in self._clients.values():
            c.close()

    def peers_udp(self, inst, fam, ih):
        """{(addr, port)} of swarm ih as inst's UDP reply to the observer
        shows it (numwant 200, the observer a leecher)."""
        r = self.client(inst, fam).announce(ih, peer_id=OBS_ID, event=b.EVENT_NONE, left=1,
                                            numwant=200, port=OBS_PORT)
        return {(norm(x), p) for x, p in r.peers}

    def http_get(self, inst, fam, target, src):
        with Conn(self.http[fam][inst], self.port, source=src) as c:
            r = c.request("GET", target)
        if r.status != 200:
            raise HttpError(f"{target[:40]}...: status {r.status}")
        return r

    def peers_http(self, inst, fam, ih):
        """{(addr, port)} of swarm ih in inst's HTTP reply (peers and
        peers6) to the HTTP observer."""
        r = self.http_get(inst, fam, announce_target(ih, OBS_ID, OBS_PORT, 1, {"numwant": 200}),
                          self.hobs[fam])
        d = bdecode(r.body)
        if b"failure reason" in d:
            raise HttpError(f"failure reason {d[b'failure reason']!r}")
        return {(norm(x), p) for key, f in ((b"peers", socket.AF_INET), (b"peers6", socket.AF_INET6))
                for x, p in compact_peers(d, key, f)}

    def announce_http(self, inst, fam, ih, port, left, event=None, src=None):
        params = {"event": event} if event else {}
        r = self.http_get(inst, fam, announce_target(ih, new_peer_id(), port, left, params),
                          src or self.hsrc[fam])
        d = bdecode(r.body)
        if b"failure reason" in d:
            raise HttpError(f"failure reason {d[b'failure reason']!r}")
        return d

    def scrape_udp(self, inst, ih):
        e = self.client(inst, 4).scrape([ih])[0]
        return (e.complete, e.downloaded, e.incomplete)

    def scrape_http(self, inst, ih):
        d = bdecode(self.http_get(inst, 4, scrape_target([ih]), self.hobs[4]).body)
        e = d.get(b"files", {}).get(ih)
        if e is None:
            return (0, 0, 0)
        return (e[b"complete"], e[b"downloaded"], e[b"incomplete"])

    def stats(self, inst):
        r = self.http_get(inst, 4, "/stats", self.a.stats_src)
        return json.loads(r.body)


def poll(fn, within, gap, rounds=100000):
    """Calls fn() every gap seconds until it returns true, at most `within`
    seconds and `rounds` times. Returns the seconds it took, or None."""
    t0 = time.monotonic()
    for _ in range(rounds):
        if fn():
            return time.monotonic() - t0
        if time.monotonic() - t0 > within:
            return None
        time.sleep(gap)
    return None


def until_each(insts, seen, within, gap=0.01, rounds=100000):
    """Polls seen(inst) for every inst in turn until each has been true
    once, or `within` seconds. Returns {inst: seconds or None}."""
    t0 = time.monotonic()
    got = {i: None for i in insts}
    for _ in range(rounds):
        for i in insts:
            if got[i] is None and seen(i):
                got[i] = time.monotonic() - t0
        if all(v is not None for v in got.values()) or time.monotonic() - t0 > within:
            break
        time.sleep(gap)
    return got


def settle(cl, within=5.0):
    """Waits until all three instances have applied the same stream
    sequence, twice 0.1 s apart (a /stats read that fails, as one may on a
    loaded host, is read again). Returns that sequence, or None."""
    last = seqs = None
    t0 = time.monotonic()
    for _ in range(200):
        try:
            seqs = tuple(cl.stats(i)["cluster_stream_sequence"] for i in NAMES)
        except (OSError, HttpError, ValueError) as e:
            seqs = None
            say(f"/stats not read: {e}")
        if seqs is not None and len(set(seqs)) == 1 and seqs == last:
            return seqs[0]
        last = seqs
        if time.monotonic() - t0 > within:
            say(f"stream sequences did not settle within {within} s: {seqs}")
            return None
        time.sleep(0.1)
    return None


# --- basic: checks 1 to 4 ---------------------------------------------------------

def propagation(ck, cl, limit):
    """A peer announced to A is in B's and C's replies within limit s."""
    report = 10.0  # keep looking this long, to report how late a late peer is
    for proto in ("UDP", "HTTP"):
        for fam in (4, 6):
            ih = info_hash(f"propagation {proto}", fam)
            port = 6001 if proto == "UDP" else 6002
            src = cl.src[fam] if proto == "UDP" else cl.hsrc[fam]
            peer = (norm(src), port)
            look = cl.peers_udp if proto == "UDP" else cl.peers_http
            name = f"{proto} IPv{fam}: a peer announced to A is in B's and C's replies"

            def run(ih=ih, fam=fam, proto=proto, port=port, src=src, peer=peer, look=look):
                if proto == "UDP":
                    cl.client("a", fam, src).announce(ih, event=b.EVENT_STARTED, left=1,
                                                      port=port)
                else:
                    cl.announce_http("a", fam, ih, port, 1, "started", src)
                got = until_each(("b", "c"), lambda i: peer in look(i, fam, ih), report)
                say(f"{proto} IPv{fam} propagation A -> B {secs(got['b'])}, "
                    f"A -> C {secs(got['c'])}")
                late = [f"{up(i)}: {secs(t)}" for i, t in got.items() if t is None or t > limit]
                return f"not within {limit} s: {', '.join(late)}" if late else None
            ck.check(f"{name} within {limit:g} s", run)


def stopped(ck, cl, limit, state):
    """A stop sent to one instance removes the peer from all three."""
    for proto, ann, stop, fam in (("UDP", "a", "b", 4), ("HTTP", "c", "a", 6)):
        ih = info_hash(f"stopped {proto}", fam)
        port = 6003
        src = cl.src[fam] if proto == "UDP" else cl.hsrc[fam]
        peer = (norm(src), port)
        look = cl.peers_udp if proto == "UDP" else cl.peers_http

        def run(proto=proto, ann=ann, stop=stop, fam=fam, ih=ih, src=src, peer=peer, look=look):
            if proto == "UDP":
                cl.client(ann, fam, src).announce(ih, event=b.EVENT_STARTED, left=1, port=port)
            else:
                cl.announce_http(ann, fam, ih, port, 1, "started", src)
            others = [i for i in NAMES if i != ann]
            got = until_each(others, lambda i: peer in look(i, fam, ih), 10.0)
            if any(t is None for t in got.values()):
                return f"the peer never reached every instance: {got}"
            if proto == "UDP":
                cl.client(stop, fam, src).announce(ih, event=b.EVENT_STOPPED, left=1, port=port)
            else:
                cl.announce_http(stop, fam, ih, port, 1, "stopped", src)
            gone = until_each(NAMES, lambda i: peer not in look(i, fam, ih), 10.0)
            say(f"{proto} IPv{fam} stop sent to {up(stop)}: the peer gone from " +
                ", ".join(f"{up(i)} after {secs(t)}" for i, t in gone.items()))
            late = [f"{up(i)}: {secs(t)}" for i, t in gone.items() if t is None or t > limit]
            return f"still listed after {limit} s: {', '.join(late)}" if late else None
        if ck.check(f"{proto} IPv{fam}: 'stopped' sent to {up(stop)} for a peer announced to "
                    f"{up(ann)} removes it from every instance's replies within {limit:g} s",
                    run):
            state.setdefault("stopped", []).append([ih.hex(), fam, src, port])


def completed(ck, cl, state):
    """A completion counts once everywhere, UDP and HTTP scrapes agree."""
    ih = info_hash("completed")
    src = cl.src[4]

    def scrapes_equal(want, what):
        settle(cl)
        got = {}
        for i in NAMES:
            got[f"{up(i)} UDP"] = cl.scrape_udp(i, ih)
            got[f"{up(i)} HTTP"] = cl.scrape_http(i, ih)
        say(f"scrape {what} (complete, downloaded, incomplete): " +
            ", ".join(f"{k} {v}" for k, v in got.items()))
        bad = {k: v for k, v in got.items() if v != want}
        return f"expected {want} everywhere, got {bad}" if bad else None

    def one():
        cl.client("a", 4, src).announce(ih, event=b.EVENT_STARTED, left=1, port=6004)
        if poll(lambda: cl.scrape_udp("b", ih) == (0, 0, 1), 10.0, 0.01) is None:
            return "B never counted the leecher"
        # It completes at another instance than the one that saw it start.
        cl.client("b", 4, src).announce(ih, event=b.EVENT_COMPLETED, left=0, port=6004)
        return scrapes_equal((1, 1, 0), "after one completion")
    ck.check("a leecher of A that completes at B counts once (downloaded 1) in every "
             "instance's UDP and HTTP scrape", one)

    def again():
        for i in NAMES:
            cl.client(i, 4, src).announce(ih, event=b.EVENT_NONE, left=0, port=6004)
        cl.client("c", 4, src).announce(ih, event=b.EVENT_COMPLETED, left=0, port=6004)
        cl.announce_http("a", 4, ih, 6004, 0, "completed")
        cl.announce_http("a", 4, ih, 6004, 0, "completed")
        time.sleep(0.2)
        return scrapes_equal((2, 2, 0), "after more announces and one more completion")
    ck.check("after more announces by the same seeder (to A, B, C, a repeated 'completed' to "
             "C) and one more peer's double 'completed' over HTTP to A, every scrape reads "
             "downloaded 2", again)
    state["scrape"] = [ih.hex(), [2, 2, 0]]


def shared_id(ck, cl):
    """A connection ID issued by A is accepted by B and C."""
    for fam in (4, 6):
        src = cl.src[fam]

        def run(fam=fam, src=src):
            cid = cl.client("a", fam, src).connect()
            for i in ("b", "c"):
                r = cl.client(i, fam, src).announce(info_hash("shared id", fam), left=1,
                                                    port=6005, connection_id=cid)
                if r.interval <= 0:
                    return f"{up(i)} answered interval {r.interval}"
            return None
        ck.check(f"IPv{fam}: a connection ID issued by A is accepted by B and C", run)

    def forged():
        cid = cl.client("a", 4, cl.src[4]).connect()
        try:
            cl.client("b", 4, cl.src[4]).announce(info_hash("shared id", 9), left=1, port=6005,
                                                  connection_id=cid ^ 0xFFFF)
        except b.TrackerError as e:
            return None if "connection id" in e.message else f"message {e.message!r}"
        return "B accepted an altered connection ID"
    ck.check("and B refuses that ID altered (the check can fail)", forged)

    def key_shared():
        got = {up(i): cl.stats(i).get("cluster_key_shared") for i in NAMES}
        say(f"cluster_key_shared: {got}")
        return expect("cluster_key_shared", got, {up(i): 1 for i in NAMES})
    ck.check("every instance reports the cluster's key in force", key_shared)


def basic(ck, cl, a):
    state = {}
    propagation(ck, cl, a.limit)
    stopped(ck, cl, a.limit, state)
    completed(ck, cl, state)
    shared_id(ck, cl)
    with open(a.state, "w") as f:
        json.dump(state, f)


def verify(ck, cl, a):
    """What basic left, at --at (after a restart)."""
    with open(a.state) as f:
        state = json.load(f)
    inst = a.at[0]
    ih, want = bytes.fromhex(state["scrape"][0]), tuple(state["scrape"][1])
    ck.check(f"{up(inst)} still counts the completed swarm as {want} (no completion counted "
             f"twice)", lambda: first(expect("UDP scrape", cl.scrape_udp(inst, ih), want),
                                      expect("HTTP scrape", cl.scrape_http(inst, ih), want)))
    for h, fam, src, port in state.get("stopped", []):
        ck.check(f"{up(inst)} does not list the IPv{fam} peer stopped earlier",
                 lambda h=h, fam=fam, src=src, port=port:
                 "listed" if (norm(src), port) in cl.peers_udp(inst, fam, bytes.fromhex(h))
                 else None)


# --- announce / expect --------------------------------------------------------------

def announce(ck, cl, a):
    peers = []
    fams = [int(f) for f in a.families.split(",")]
    t0 = time.monotonic()

    def run():
        for n in range(a.count):
            inst = a.to[n % len(a.to)]
            fam = fams[n % len(fams)]
            ih = info_hash(a.tag, n % a.swarms)
            port = a.port_base + n
            cl.client(inst, fam, cl.src[fam], timeout=1.0, retries=3).announce(
                ih, event=b.EVENT_STARTED, left=n % 2, port=port)
            peers.append([ih.hex(), fam, norm(cl.src[fam]), port, inst])
        return None
    ck.check(f"{a.count} new peers ({'/'.join(f'IPv{f}' for f in fams)}, {a.swarms} swarms) "
             f"{a.what} are answered", run)
    say(f"{len(peers)} announces {a.what} took {time.monotonic() - t0:.3f} s")
    with open(a.state, "w") as f:
        json.dump({"peers": peers, "wall": time.time()}, f)


UNANSWERED = {}  # instance -> observer announces it left unanswered (each 4 x 0.5 s)


def missing_at(cl, inst, peers):
    """The peers (tuples) of the list not in inst's replies: one observer
    announce per swarm and family that still misses some (one left
    unanswered counts its peers as missing, and is counted)."""
    groups = {}
    for p in peers:
        groups.setdefault((p[0], p[1]), []).append(p)
    left = []
    for (h, fam), ps in groups.items():
        try:
            have = cl.peers_udp(inst, fam, bytes.fromhex(h))
        except b.NoReply:
            UNANSWERED[inst] = UNANSWERED.get(inst, 0) + 1
            have = set()
        left += [p for p in ps if (p[2], p[3]) not in have]
    return left


def dropped_since(cl, inst, before):
    now = cl.stats(inst)
    return sum(now[k] - before.get(k, 0) for k in DROP_KEYS), now


def expect_peers(ck, cl, a):
    with open(a.state) as f:
        st = json.load(f)
    peers = [tuple(p) for p in st["peers"]]
    t0 = time.monotonic()
    left = {i: peers for i in a.at}
    took = {i: None for i in a.at}
    for _ in range(10000):
        for i in a.at:
            if left[i]:
                left[i] = missing_at(cl, i, left[i])
                if not left[i]:
                    took[i] = time.monotonic() - t0
        if not any(left.values()) or time.monotonic() - t0 > a.within:
            break
        time.sleep(0.05)
    if UNANSWERED:
        say("observer announces left unanswered (4 tries of 0.5 s each): " +
            ", ".join(f"{up(i)} {n}" for i, n in UNANSWERED.items()))
    if a.seen_out:
        gone = {p for v in left.values() for p in v}
        with open(a.seen_out, "w") as f:
            json.dump({"peers": [p for p in peers if p not in gone], "wall": st["wall"]}, f)
    since = time.time() - st["wall"]
    say(f"{len(peers)} peers {a.what}: " +
        ", ".join(f"all at {up(i)} after {secs(took[i])}" if took[i] is not None
                  else f"{len(left[i])} missing at {up(i)} after {a.within} s" for i in a.at) +
        f" (the last was announced {since:.3f} s before the end of this wait)")
    if any(left.values()):
        try:
            say("where they could have gone: " + "; ".join(
                f"{up(i)} " + ", ".join(f"{k[8:]} {v}" for k, v in cl.stats(i).items()
                                        if k.startswith("cluster_") and "drop" in k or
                                        k in ("cluster_duplicate_batches",
                                              "cluster_redelivered_batches",
                                              "cluster_acks_failed"))
                for i in NAMES))
        except (OSError, HttpError, ValueError) as e:
            say(f"/stats not read: {e}")
    name = (f"every one of the {len(peers)} peers {a.what} is in "
            f"{' and '.join(up(i) + chr(39) + 's' for i in a.at)} replies within {a.within:g} s")
    if not a.lost_from:
        ck.check(name, lambda: None if not any(left.values()) else
                 "missing: " + "; ".join(f"{up(i)}: {len(v)} (first {v[:3]})"
                                         for i, v in left.items() if v))
        return
    with open(a.stats_before) as f:
        before = json.load(f)
    lost = max(len(v) for v in left.values())
    dropped, now = dropped_since(cl, a.lost_from, before)
    say(f"{up(a.lost_from)} counted {dropped} records dropped meanwhile (" +
        ", ".join(f"{k} {now[k] - before.get(k, 0)}" for k in
                  DROP_KEYS + ("cluster_acks_failed", "cluster_publish_retries")) + ")")
    ck.check(f"every one of the {len(peers)} peers {a.what} reached "
             f"{' and '.join(up(i) for i in a.at)} within {a.within:g} s, or was counted as "
             f"dropped by {up(a.lost_from)} (missing {lost}, dropped {dropped})",
             lambda: None if lost <= dropped else f"{lost - dropped} peers lost silently")


# --- rate ------------------------------------------------------------------------------

def rate(ck, cl, a):
    inst = a.at[0]
    c = b.Client(cl.udp[4][inst], cl.port, source=a.rate_src, timeout=1.0, retries=3)
    cid = c.connect()
    sock = c.sock
    sock.setblocking(False)
    ih = info_hash(f"rate {a.tag}")
    n = int(a.pps * a.seconds)
    gap = 1.0 / a.pps
    pend, lat = {}, []
    sent = answered = errors = send_fail = 0
    t0 = time.monotonic()
    t_last = t0
    deadline = t0 + 3 * a.seconds + 2  # bounded even if this process is starved
    i = 0
    while time.monotonic() < deadline:
        now = time.monotonic()
        while i < n and t0 + i * gap <= now:
            tid = secrets.randbits(32)
            pkt = struct.pack("!QII20s20sQQQIIIiH", cid, b.ACTION_ANNOUNCE, tid, ih,
                              b"-DT0001-rate" + struct.pack("!Q", i), 0, 1, 0,
                              b.EVENT_STARTED, 0, 0, 0, a.port_base + i)
            try:
                sock.send(pkt)
                pend[tid] = now
                sent += 1
            except OSError:
                send_fail += 1
            i += 1
            t_last = now
        for _ in range(4096):
            try:
                data = sock.recv(2048)
            except (BlockingIOError, InterruptedError):
                break
            except ConnectionRefusedError:
                continue
            if len(data) < 8:
                continue
            action, tid = struct.unpack_from("!II", data)
            ts = pend.pop(tid, None)
            if ts is None:
                continue
            if action == b.ACTION_ANNOUNCE:
                answered += 1
                lat.append(time.monotonic() - ts)
            else:
                errors += 1
        now = time.monotonic()
        if i >= n and (not pend or now > t_last + 0.5):
            break
        wait = (t0 + i * gap - now) if i < n else 0.05
        select.select([sock], [], [], max(0.0, min(wait, 0.05)))
    c.close()
    elapsed = max(a.seconds, t_last - t0)
    r = answered / elapsed
    lat.sort()
    p50 = lat[len(lat) // 2] * 1000 if lat else -1
    p99 = lat[min(len(lat) - 1, len(lat) * 99 // 100)] * 1000 if lat else -1
    res = {"rate": r, "sent": sent, "answered": answered, "errors": errors,
           "send_fail": send_fail, "elapsed": elapsed, "p50_ms": p50, "p99_ms": p99}
    say(f"{up(inst)} {a.what}: {answered} of {sent} paced announces answered in "
        f"{elapsed:.2f} s = {r:.0f}/s (offered {a.pps}/s; errors {errors}, send failures "
        f"{send_fail}; latency p50 {p50:.2f} ms, p99 {p99:.2f} ms)")
    if a.out:
        with open(a.out, "w") as f:
            json.dump(res, f)
    if a.baseline:
        with open(a.baseline) as f:
            base = json.load(f)
        ratio = r / base["rate"] if base["rate"] else 0.0
        say(f"{up(inst)} answered {r:.0f}/s {a.what}, {base['rate']:.0f}/s before: "
            f"{ratio * 100:.0f}%")
        ck.check(f"{up(inst)} answers {r:.0f} announces/s {a.what}, at least "
                 f"{a.min_ratio * 100:.0f}% of the {base['rate']:.0f}/s before",
                 lambda: None if ratio >= a.min_ratio else f"only {ratio * 100:.0f}%")
    else:
        ck.check(f"{up(inst)} answers {answered} of {sent} paced announces {a.what} "
                 f"(at least 90%)",
                 lambda: None if sent and answered >= 0.9 * sent else "fewer")


def same_scrape(ck, cl, a):
    ih = info_hash(f"rate {a.tag}")
    ref = cl.scrape_udp(a.ref, ih)
    got = {}

    def same():
        try:
            for i in a.at:
                got[i] = cl.scrape_udp(i, ih)
        except b.NoReply:
            return False
        return len(got) == len(a.at) and all(v == ref for v in got.values())
    took = poll(same, a.within, 0.1)
    say(f"swarm of the announces {a.what}: {up(a.ref)} counts {ref} (complete, downloaded, "
        f"incomplete); " + ", ".join(f"{up(i)} {v}" for i, v in got.items()) +
        f" after {secs(took)}")
    if took is not None:
        ck.check(f"the {ref[2]} peers of the paced announces {a.what} are counted alike at "
                 f"{up(a.ref)} and {', '.join(up(i) for i in a.at)} within {a.within:g} s",
                 lambda: None)
        return
    with open(a.stats_before) as f:
        before = json.load(f)
    lost = max([ref[2] - v[2] for v in got.values()] or [ref[2]])
    dropped, _ = dropped_since(cl, a.ref, before)
    ck.check(f"the peers of the paced announces {a.what} reached "
             f"{', '.join(up(i) for i in a.at)} or were counted as dropped by {up(a.ref)} "
             f"(missing {lost}, dropped {dropped})",
             lambda: None if lost <= dropped else f"{lost - dropped} peers lost silently")


# --- restarts and /stats ----------------------------------------------------------------

def first_answer(ck, cl, a):
    inst = a.at[0]
    ih = info_hash("first answer")
    t_start = a.since_ns / 1e9
    answered = None
    c = None
    for n in range(int(a.within / 0.1) + 10):
        if time.time() - t_start > a.within:
            break
        try:
            if c is None:
                c = b.Client(cl.udp[4][inst], cl.port, source=cl.src[4], timeout=0.1, retries=0)
            c.announce(ih, event=b.EVENT_STARTED, left=1, port=7000 + n % 1000)
            answered = time.time() - t_start
            break
        except (b.NoReply, OSError):
            if c is not None:
                c.close()
                c = None
    if c is not None:
        c.close()
    extra = ""
    if answered is not None:
        try:
            s = cl.stats(inst)
            extra = (f"; /stats then: cluster_catching_up {s.get('cluster_catching_up')}, "
                     f"cluster_connected {s.get('cluster_connected')}, "
                     f"cluster_stream_sequence {s.get('cluster_stream_sequence')}")
        except (OSError, HttpError, ValueError) as e:
            extra = f"; /stats not read: {e}"
    say(f"{up(inst)} {a.what}: first announce answered {secs(answered)} after its start{extra}")
    ck.check(f"{up(inst)} {a.what} answers an announce within {a.max:g} s of its start "
             f"({secs(answered)})",
             lambda: None if answered is not None and answered <= a.max else "not in time")


def wait_stat(ck, cl, a):
    inst = a.at[0]
    seen = []

    def at_value():
        try:
            v = cl.stats(inst).get(a.key)
        except (OSError, HttpError, ValueError):
            return False
        seen.append(v)
        return v == a.value
    took = poll(at_value, a.within, 0.1)
    since = ""
    if a.since_ns:
        since = f", {time.time() - a.since_ns / 1e9:.3f} s after its start"
    say(f"{up(inst)} {a.key} {a.value} after {secs(took)}{since} (last read {seen[-1:]})")
    ck.check(f"{up(inst)} {a.what}: /stats {a.key} reaches {a.value} within {a.within:g} s",
             lambda: None if took is not None else f"last {seen[-1:]}")


def stats_save(ck, cl, a):
    def run():
        with open(a.state, "w") as f:
            json.dump(cl.stats(a.at[0]), f)
    ck.check(f"{up(a.at[0])}'s /stats read {a.what}", run)


def settle_phase(ck, cl, a):
    t0 = time.monotonic()
    seq = settle(cl, a.within)
    say(f"every instance applied stream sequence {seq} after {time.monotonic() - t0:.3f} s")
    ck.check("the three instances have applied the same stream sequence",
             lambda: None if seq is not None else "they differ")


# --- stream-order: a diagnosis, read from JetStream itself ---------------------------

class Nats:
    """Just enough of the NATS client protocol for JetStream API requests:
    CONNECT, SUB to an inbox, PUB with a reply subject, and MSG/HMSG
    replies (PING answered). Every read is bounded by the socket timeout."""

    def __init__(self, host, port, timeout=3.0):
        self.s = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        self.n = 0
        if not self._line().startswith(b"INFO "):
            raise OSError("no INFO from the server")
        self.s.sendall(b'CONNECT {"verbose":false,"pedantic":false,"headers":true,'
                       b'"no_responders":true,"lang":"python","version":"0"}\r\n'
                       b"SUB _INBOX.dptcheck.* 1\r\nPING\r\n")
        for _ in range(100):
            if self._line() == b"PONG":
                return
        raise OSError("no PONG from the server")

    def _fill(self):
        data = self.s.recv(65536)
        if not data:
            raise OSError("connection closed")
        self.buf += data

    def _line(self):
        for _ in range(10000):
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            self._fill()
        raise OSError("no line")

    def _bytes(self, n):
        for _ in range(10000):
            if len(self.buf) >= n + 2:
                data, self.buf = self.buf[:n], self.buf[n + 2:]
                return data
            self._fill()
        raise OSError("short message")

    def request(self, subject, payload, msg_id=None):
        """The reply's payload (headers cut off) to payload on subject,
        with a Nats-Msg-Id header if msg_id is given."""
        self.n += 1
        inbox = f"_INBOX.dptcheck.{self.n}"
        if msg_id is None:
            self.s.sendall(f"PUB {subject} {inbox} {len(payload)}\r\n".encode() + payload +
                           b"\r\n")
        else:
            hdr = f"NATS/1.0\r\nNats-Msg-Id: {msg_id}\r\n\r\n".encode()
            self.s.sendall(f"HPUB {subject} {inbox} {len(hdr)} {len(hdr) + len(payload)}\r\n"
                           .encode() + hdr + payload + b"\r\n")
        for _ in range(1000):
            line = self._line()
            if line == b"PING":
                self.s.sendall(b"PONG\r\n")
                continue
            w = line.split()
            if not w or w[0] not in (b"MSG", b"HMSG"):
                continue
            if w[0] == b"MSG":
                data, hdr = self._bytes(int(w[-1])), 0
            else:
                data, hdr = self._bytes(int(w[-1])), int(w[-2])
            if w[1].decode() == inbox:
                return data[hdr:]
        raise OSError(f"no reply to {subject}")

    def close(self):
        self.s.close()


def api(nc, subject, payload, tries=10):
    """The JSON reply of a JetStream API request, asked again (up to tries
    times, 0.5 s apart) while it times out or gets no answer: the stream
    may be electing a leader."""
    for n in range(tries):
        try:
            return json.loads(nc.request(subject, payload))
        except (OSError, ValueError):
            if n == tries - 1:
                raise
            time.sleep(0.5)
    return None


def stream_order(ck, cl, a):
    """The stream holds each batch (origin, boot, number) once: a batch
    published again after a failed acknowledgement is de-duplicated by its
    Nats-Msg-Id (stored twice, its completions would count twice). Prints,
    as comments, the batches it holds out of the order their origin
    numbered them (every consumer applies them all the same)."""
    import base64

    def run():
        nc = nats_connect(a.nats)
        try:
            st = api(nc, f"$JS.API.STREAM.INFO.{a.stream}", b"")["state"]
            first_seq, last_seq = st["first_seq"], st["last_seq"]
            last = {}    # (instance, epoch) -> (batch seq, stream seq)
            seen = set()
            late, twice, n = [], [], 0
            for seq in range(first_seq, min(last_seq, first_seq + 20000) + 1):
                r = api(nc, f"$JS.API.STREAM.MSG.GET.{a.stream}",
                        json.dumps({"seq": seq}).encode())
                if "message" not in r:
                    continue
                data = base64.b64decode(r["message"].get("data", ""))
                if len(data) < 34 or data[:4] != b"DPTS":
                    continue
                count, epoch, bseq = struct.unpack_from("!HQQ", data, 6)
                inst = data[33:33 + data[32]].decode(errors="replace")
                n += 1
                o = (inst, epoch)
                if (o, bseq) in seen:
                    twice.append(f"{inst} batch {bseq} again at {seq}")
                elif o in last and bseq < last[o][0]:
                    late.append(f"{inst} batch {bseq} ({count} records) at stream seq {seq}, "
                                f"after its batch {last[o][0]} at {last[o][1]}")
                seen.add((o, bseq))
                if o not in last or bseq > last[o][0]:
                    last[o] = (bseq, seq)
        finally:
            nc.close()
        say(f"stream {a.stream} {a.what}: {n} batches (sequences {first_seq}..{last_seq}); "
            f"{len(late)} stored after a later batch of their origin, {len(twice)} stored twice")
        for x in late[:20] + twice[:5]:
            say(f"  {x}")
        return f"{len(twice)} stored twice" if twice else None
    ck.check(f"the stream holds each batch once {a.what}", run)


def nats_connect(servers):
    for hp in servers.split(","):
        try:
            host, port = hp.rsplit(":", 1)
            return Nats(host, int(port))
        except OSError as e:
            say(f"{hp}: {e}")
    raise OSError("no NATS server answered")


def batch(instance, epoch, seq, peers):
    """A batch in core/sync.h's format: peers [(info hash, IPv4 text, port)]
    as IPv4 leechers announced now."""
    now = int(time.time() * 1000)
    b_ = b"DPTS" + struct.pack("!BBHQQQB", 1, 0, len(peers), epoch, seq, now, len(instance))
    b_ += instance.encode()
    for ih, addr, port in peers:
        b_ += struct.pack("!BI", 0, 0) + ih + socket.inet_aton(addr) + struct.pack("!H", port)
    return b_


def reorder(ck, cl, a):
    """Two batches of one made-up origin, stored in the stream in the other
    order than their numbers (as a batch published again after a failed
    acknowledgement is stored behind later ones): every instance must
    apply both."""
    nc = nats_connect(a.nats)
    ih = info_hash("reorder")
    epoch = secrets.randbits(63)
    before = {i: cl.stats(i)["cluster_batches_applied"] for i in NAMES}
    try:
        for seq, port in ((2, 9002), (1, 9001)):
            ack = json.loads(nc.request("dptrack.peers.main.x",
                                        batch("x", epoch, seq, [(ih, "198.18.0.99", port)]),
                                        msg_id=f"x-{epoch:x}-{seq}"))
            say(f"batch {seq} of origin x (peer 198.18.0.99:{port}) stored at stream sequence "
                f"{ack.get('seq')}")
    finally:
        nc.close()
    for i in NAMES:
        def both(i=i):
            got = until_each([i], lambda j: {("198.18.0.99", 9001), ("198.18.0.99", 9002)} <=
                             cl.peers_udp(j, 4, ih), 5.0, 0.05)[i]
            have = sorted(p for x, p in cl.peers_udp(i, 4, ih) if x == "198.18.0.99")
            n = cl.stats(i)["cluster_batches_applied"] - before[i]
            say(f"{up(i)} lists ports {have} of 198.18.0.99; cluster_batches_applied +{n}")
            return None if got is not None else f"after 5 s {up(i)} lists only {have}"
        ck.check(f"{up(i)} applies a batch stored after a later batch of the same origin", both)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("phase", choices=("basic", "verify", "announce", "expect", "rate",
                                     "same-scrape", "first-answer", "wait-stat", "stats-save",
                                     "settle", "reorder", "stream-order"))
    p.add_argument("--nats", help="HOST:PORT,... (reorder, stream-order)")
    p.add_argument("--stream", default="dptrack", help="stream-order")
    p.add_argument("state", nargs="?")
    p.add_argument("--port", type=int, default=6969)
    for k in ("udp4", "udp6", "http4", "http6"):
        p.add_argument(f"--{k}", required=True, help="A,B,C")
    for k in ("obs4", "obs6", "hobs4", "hobs6", "src4", "src6", "hsrc4", "hsrc6",
              "stats-src", "rate-src"):
        p.add_argument(f"--{k}", required=True)
    p.add_argument("--limit", type=float, default=2.0, help="propagation bound, s")
    p.add_argument("--at", default="b,c")
    p.add_argument("--to", default="a")
    p.add_argument("--ref", default="a")
    p.add_argument("--count", type=int, default=200)
    p.add_argument("--swarms", type=int, default=10)
    p.add_argument("--families", default="4,6")
    p.add_argument("--tag", default="x")
    p.add_argument("--port-base", type=int, default=10000)
    p.add_argument("--what", default="")
    p.add_argument("--within", type=float, default=30.0)
    p.add_argument("--lost-from")
    p.add_argument("--seen-out", help="expect: writes the peers every --at listed")
    p.add_argument("--stats-before")
    p.add_argument("--pps", type=int, default=2000)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--out")
    p.add_argument("--baseline")
    p.add_argument("--min-ratio", type=float, default=0.7)
    p.add_argument("--since-ns", type=int, default=0)
    p.add_argument("--max", type=float, default=2.0)
    p.add_argument("--key")
    p.add_argument("--value", type=int)
    a = p.parse_args()
    a.at, a.to = a.at.split(","), a.to.split(",")
    ck = Checks(errors=(OSError, b.Bep15Error, HttpError, BencodeError, ValueError, KeyError,
                        struct.error))
    cl = Cluster(a)
    try:
        {"basic": basic, "verify": verify, "announce": announce, "expect": expect_peers,
         "rate": rate, "same-scrape": same_scrape, "first-answer": first_answer,
         "wait-stat": wait_stat, "stats-save": stats_save,
         "settle": settle_phase, "reorder": reorder,
         "stream-order": stream_order}[a.phase](ck, cl, a)
    finally:
        cl.close()
    return 1 if ck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
