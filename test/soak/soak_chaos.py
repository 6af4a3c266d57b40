#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""soak_chaos.py - the BEP 15 side client of scripts/soak.sh --chaos and
--restart-scale, beside the load generator: one subcommand per job.

  announce  the ledger: batch after batch of new swarms (2 IPv4 peers, a
            leecher and a seeder, and an IPv6 leecher each, announced
            "started"), one JSON line per batch once all its replies are in
            ({"batch", "done": unix time, "swarms": [[hash, seeders,
            leechers, port], ...]}), after a first line with a connection ID
            ({"cid", "at"}); until SIGTERM, --max-batches, or the tracker
            stops answering.
  verify    after a restart, from that ledger and the creation second of the
            snapshot the tracker loaded (--created): every peer of a batch
            done before it must be back (scrapes: seeders and leechers
            exact; peer lists of a few swarms), the connection ID from
            before must be accepted; batches done after it are counted
            (present or not), not checked. --expect-empty: the snapshot
            was damaged, so none of the ledger's swarms may be there.
  probe     prints "ready", then sends a BEP 15 connect every --every-ms
            until the first reply; prints "SERVING unix=T" (and, with
            --watch FILE --pattern TEXT, "watched=T" when TEXT first shows
            in FILE). Exit 1 if nothing came within --timeout.
  killsave  waits until --tmp exists (a snapshot being written), then
            after a random 0..--max-delay-ms sends SIGKILL to --pid; kills
            anyway after --timeout. Prints "KILL unix=T tmp_seen=0|1".
  fresh     reads the snapshot --snap (core/snap.h's format) and prints
            "FRESH lo=N hi=N total=N": how many of its peers a load at unix
            second --hi, and at --lo, keeps (a peer is kept while its last
            announce is less than --peer-timeout before, in the table's
            ticks of ceil(timeout / 32) s), so a check can say how many a
            restart between those seconds must load.

verify prints "ok - ..."/"not ok - ..." lines and one summary line
  LEDGER checked=N lost=N extra=N swarms=N after=N after_present=N
      after_missing_oldest_s=S lists=N cid=...
and exits 1 if a check failed.
"""

import argparse
import hashlib
import json
import os
import random
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import bep15_client as b  # noqa: E402

SWARMS_PER_BATCH = 10
SCRAPE_CHUNK = 50   # hashes per scrape: 16 + 50 * 20 bytes, one frame
LIST_CHECKS = 5     # swarms whose peer list verify reads back
PORT_BASE = 10000   # ledger peers announce ports from here

stop = False


def on_term(sig, frame):
    global stop
    stop = True


def swarm_hash(run, cycle, batch, s):
    return hashlib.sha1(f"dptrack soak ledger {run} {cycle} {batch} {s}".encode()).digest()


def clients(a):
    c4 = [b.Client(a.v4, a.port, source=a.src4[0], timeout=0.5, retries=1),
          b.Client(a.v4, a.port, source=a.src4[1], timeout=0.5, retries=1)]
    c6 = b.Client(a.v6, a.port, source=a.src6, timeout=0.5, retries=1)
    return c4, c6


def announce(a):
    signal.signal(signal.SIGTERM, on_term)
    c4, c6 = clients(a)
    out = open(a.ledger, "a", encoding="ascii")
    try:
        out.write(json.dumps({"cid": f"{c4[0].connect():016x}", "at": time.time()}) + "\n")
        out.flush()
        for batch in range(a.max_batches):
            if stop:
                break
            swarms = []
            for s in range(SWARMS_PER_BATCH):
                h = swarm_hash(a.run, a.cycle, batch, s)
                port = PORT_BASE + (batch * SWARMS_PER_BATCH + s) % 50000
                # Two IPv4 peers (a leecher, a seeder) from two addresses,
                # one IPv6 leecher; one port for all three.
                c4[0].announce(h, event=b.EVENT_STARTED, left=1, port=port, numwant=0)
                c4[1].announce(h, event=b.EVENT_STARTED, left=0, port=port, numwant=0)
                c6.announce(h, event=b.EVENT_STARTED, left=1, port=port, numwant=0)
                swarms.append([h.hex(), 1, 2, port])
            out.write(json.dumps({"batch": batch, "done": time.time(), "swarms": swarms}) + "\n")
            out.flush()
            if a.pace_ms:
                time.sleep(a.pace_ms / 1000.0)
    except b.Bep15Error as e:
        # The tracker was killed mid-batch: that batch is not in the ledger.
        print(f"announce: stopped: {e}")
    finally:
        out.close()
    return 0


def read_ledger(path):
    cid, batches = None, []
    with open(path, encoding="ascii") as f:
        for line in f:
            d = json.loads(line)
            if "cid" in d:
                cid = int(d["cid"], 16)
            else:
                batches.append(d)
    return cid, batches


def scrape_all(c, hashes):
    got = []
    for i in range(0, len(hashes), SCRAPE_CHUNK):
        chunk = hashes[i:i + SCRAPE_CHUNK]
        e = c.scrape([bytes.fromhex(h) for h in chunk])
        if len(e) != len(chunk):
            raise b.ProtocolError(f"{len(e)} scrape entries for {len(chunk)} hashes")
        got += e
    return got


def verify(a):
    c4, c6 = clients(a)
    for c in c4 + [c6]:
        c.timeout, c.retries = 2.0, 2
    cid, batches = read_ledger(a.ledger)
    fails = 0

    def check(ok, what):
        nonlocal fails
        print(("ok - " if ok else "not ok - ") + what)
        fails += 0 if ok else 1

    before = [s for d in batches if d["done"] < a.created for s in d["swarms"]]
    after = [s for d in batches if d["done"] >= a.created for s in d["swarms"]]
    after_done = [d["done"] for d in batches if d["done"] >= a.created for s in d["swarms"]]
    if a.expect_empty:
        before, after = [], before + after
    got_b = scrape_all(c4[0], [s[0] for s in before])
    got_a = scrape_all(c4[0], [s[0] for s in after])
    checked = sum(s[1] + s[2] for s in before)
    lost = extra = 0
    for s, e in zip(before, got_b):
        lost += max(0, s[1] - e.complete) + max(0, s[2] - e.incomplete)
        extra += max(0, e.complete - s[1]) + max(0, e.incomplete - s[2])
    present = sum(min(s[1], e.complete) + min(s[2], e.incomplete) for s, e in zip(after, got_a))
    # How long before the kill the oldest batch not (wholly) back was done:
    # with a cluster, what the stream had not yet taken.
    missing = [t for s, e, t in zip(after, got_a, after_done)
               if e.complete < s[1] or e.incomplete < s[2]]
    oldest = f"{a.kill - min(missing):.3f}" if missing and a.kill else "-"
    n_after = sum(s[1] + s[2] for s in after)
    if a.expect_empty:
        check(present == 0, f"the snapshot was damaged: none of the {len(after)} ledger swarms "
              f"is back ({present} peers are)")
    else:
        check(lost == 0 and extra == 0,
              f"every peer announced before the last save is back: {checked} peers in "
              f"{len(before)} swarms, {lost} lost, {extra} unexpected")
    # Peer lists: a seeder's announce gets the swarm's IPv4 leechers.
    listed = 0
    for s in before[:LIST_CHECKS]:
        r = c4[1].announce(bytes.fromhex(s[0]), event=b.EVENT_NONE, left=0, numwant=50,
                           port=PORT_BASE - 1)
        listed += 1
        check(r.peers == [(a.src4[0], s[3])],
              f"swarm {s[0][:12]}: a seeder's announce lists its IPv4 leecher ({r.peers})")
    cid_state = "skipped"
    if cid is not None and not a.expect_empty:
        try:
            c4[0].scrape([bytes.fromhex(before[0][0]) if before else b"\0" * 20],
                         connection_id=cid)
            cid_state = "accepted"
        except b.TrackerError as e:
            cid_state = "refused"
            print(f"# connection ID {cid:016x}: {e.message}")
        check(cid_state == "accepted",
              f"a connection ID obtained before the kill is accepted after ({cid_state})")
    print(f"LEDGER checked={checked} lost={lost} extra={extra} swarms={len(before)} "
          f"after={n_after} after_present={present} after_missing_oldest_s={oldest} "
          f"lists={listed} cid={cid_state}")
    return 1 if fails else 0


def probe(a):
    fam = socket.AF_INET6 if ":" in a.v4 else socket.AF_INET
    sock = socket.socket(fam, socket.SOCK_DGRAM)
    sock.bind((a.src4[0], 0))
    sock.connect((a.v4, a.port))
    sock.setblocking(False)
    print("ready", flush=True)
    start = time.monotonic()
    served = watched = None
    tid = 0
    while time.monotonic() - start < a.timeout and (served is None or
                                                    (a.watch and watched is None)):
        if served is None:
            tid += 1
            try:
                sock.send(struct.pack("!QII", b.PROTOCOL_ID, b.ACTION_CONNECT, tid))
            except OSError:
                pass
            try:
                data = sock.recv(2048)
                if len(data) >= 16 and struct.unpack_from("!I", data)[0] == b.ACTION_CONNECT:
                    served = time.time()
            except OSError:
                pass
        if a.watch and watched is None:
            try:
                with open(a.watch, encoding="utf-8", errors="replace") as f:
                    if a.pattern in f.read():
                        watched = time.time()
            except OSError:
                pass
        time.sleep(a.every_ms / 1000.0)
    # A reply that arrives after the last send but before the timeout.
    if served is None:
        print("SERVING none")
        return 1
    print(f"SERVING unix={served:.6f}" + (f" watched={watched:.6f}" if watched else ""))
    return 0


def killsave(a):
    rng = random.Random()
    start = time.monotonic()
    seen = 0
    while time.monotonic() - start < a.timeout:
        if os.path.exists(a.tmp):
            seen = 1
            break
        time.sleep(0.0002)
    if seen:
        time.sleep(rng.uniform(0, a.max_delay_ms) / 1000.0)
    os.kill(a.pid, signal.SIGKILL)
    print(f"KILL unix={time.time():.6f} tmp_seen={seen}")
    return 0


def snap_peers_seen(path):
    """The last-announce seconds of every peer in the snapshot at path
    (header, sections, SWARMS payload as core/snap.h lays them out)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"DPTSNAP\0":
        raise ValueError(f"{path}: not a snapshot")
    off, seen = 64, []
    while off + 16 <= len(data):
        kind, _, length = struct.unpack_from("<IIQ", data, off)
        payload = data[off + 16:off + 16 + length]
        off += 16 + length + 4
        if kind == 3:  # END
            break
        if kind != 2:  # not SWARMS
            continue
        i = 0
        while i < len(payload):
            n = struct.unpack_from("<4I", payload, i + 24)
            i += 40
            for k in range(4):
                plen = 6 if k < 2 else 18
                for _ in range(n[k]):
                    seen.append(struct.unpack_from("<I", payload, i + plen)[0])
                    i += plen + 4
    return seen


def fresh(a):
    tick = max(1, -(-a.peer_timeout // 32))
    keep = -(-a.peer_timeout // tick) * tick
    seen = snap_peers_seen(a.snap)

    def kept(now):
        return sum(1 for x in seen if x + keep > now and x <= now + tick)
    print(f"FRESH lo={kept(int(a.lo))} hi={kept(int(a.hi))} total={len(seen)}")
    return 0


def main():
    p = argparse.ArgumentParser(description="the BEP 15 side client of soak.sh")
    p.add_argument("job", choices=["announce", "verify", "probe", "killsave", "fresh"])
    p.add_argument("--v4", help="the tracker's IPv4 address")
    p.add_argument("--v6", help="the tracker's IPv6 address")
    p.add_argument("--src4", default="", help="two IPv4 source addresses, A,B")
    p.add_argument("--src6", default="", help="an IPv6 source address")
    p.add_argument("--port", type=int, default=6969)
    p.add_argument("--ledger")
    p.add_argument("--run", default="0")
    p.add_argument("--cycle", type=int, default=0)
    p.add_argument("--max-batches", type=int, default=5000)
    p.add_argument("--pace-ms", type=float, default=10.0)
    p.add_argument("--created", type=float, default=0.0)
    p.add_argument("--expect-empty", action="store_true")
    p.add_argument("--kill", type=float, default=0.0, help="verify: when the kill was")
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("--every-ms", type=float, default=2.0)
    p.add_argument("--watch")
    p.add_argument("--pattern")
    p.add_argument("--pid", type=int)
    p.add_argument("--tmp")
    p.add_argument("--max-delay-ms", type=float, default=0.0)
    p.add_argument("--snap")
    p.add_argument("--lo", type=float, default=0.0)
    p.add_argument("--hi", type=float, default=0.0)
    p.add_argument("--peer-timeout", type=int, default=90)
    a = p.parse_args()
    a.src4 = a.src4.split(",") if a.src4 else [None, None]
    if len(a.src4) == 1:
        a.src4.append(a.src4[0])
    if not (0 < a.timeout <= 600 and 0 < a.max_batches <= 100000):
        print("soak_chaos: an argument is out of range", file=sys.stderr)
        return 2
    return {"announce": announce, "verify": verify, "probe": probe, "killsave": killsave,
            "fresh": fresh}[a.job](a)


if __name__ == "__main__":
    sys.exit(main())
