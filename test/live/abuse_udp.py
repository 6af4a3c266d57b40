#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""abuse_udp.py - what a public tracker's UDP port gets all day, run by
abuse_udp.sh against dptrack's DPDK port from the client namespace.

  expiry     two swarms of 20 peers at the start; one is refreshed every
             15 s while everything else runs, the other is left to expire
             (peer_timeout) while the tracker is under load;
  connid     IDs computed here from the configured secret (libsodium's
             SipHash, as dptrack does): a fresh one is accepted, an expired,
             a future and another address's one are refused; then a
             million random IDs, announces and scrapes: none accepted;
  amplify    every UDP payload of pcap/*.in.pcap plus random datagrams:
             no reply is longer than its request (none carries a valid ID);
  flood      garbage frames of ten kinds on the wire, raw, interleaved
             with valid connects: every connect answered, every garbage
             frame counted under its drop reason, mbufs back to idle;
  limits     max_swarms and max_peers_per_swarm refuse with their message
             while existing swarms and peers keep being served;
  stall      the HTTP thread stopped (ptrace) while UDP requests are
             measured: every one still answered.

Counters come from dptrack's telemetry socket. Prints one "ok - NAME" or
"not ok - NAME: detail" line per check (tap.py) and exits 1 if any failed.
Every loop is bounded in count and time.

Usage: abuse_udp.py --v4 ADDR --v6 ADDR --port N --src4 A,B --iface IF
         --tracker-mac MAC --secret HEX --ttl S --peer-timeout S
         --max-swarms N --max-peers N --prefix DPDK_PREFIX --pid PID
         --http ADDR:PORT --pcaps FILE...
"""

import argparse
import ctypes
import json
import os
import random
import secrets
import select
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import bep15_client as b  # noqa: E402
from tap import Checks, expect, first  # noqa: E402

from scapy.all import (ICMP, IP, UDP, Ether, IPv6, Raw, rdpcap)  # noqa: E402

FORGED = 1_000_000
WINDOW = 256
FLOOD_ROUNDS = 600  # of 80 garbage frames and 8 connects each


# --- dptrack's counters ---------------------------------------------------------

def telemetry(prefix):
    """/dptrack/stats from the DPDK telemetry socket (the protocol of
    dpdk-telemetry.py: a greeting, then one JSON reply per command)."""
    path = f"/var/run/dpdk/{prefix}/dpdk_telemetry.v2"
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        # The telemetry thread shares a CPU with polling lcores: on a busy
        # host its answer can take seconds; a hang still ends the test.
        s.settimeout(20)
        s.connect(path)
        s.recv(16384)
        s.send(b"/dptrack/stats")
        return json.loads(s.recv(1 << 20).decode())["/dptrack/stats"]


def delta(after, before, key):
    return after.get(key, 0) - before.get(key, 0)


# --- connection IDs as dptrack makes them (core/connid.c) ------------------------

class Sodium:
    def __init__(self):
        self.lib = ctypes.CDLL("libsodium.so.23")
        if self.lib.sodium_init() < 0:
            raise OSError("sodium_init failed")

    def connid(self, key, addr, ts):
        """The 8 wire bytes: issue time (32 bits) and the first 4 bytes of
        SipHash-2-4 over time, family (4 or 6) and address."""
        ip = socket.inet_pton(socket.AF_INET6 if ":" in addr else socket.AF_INET, addr)
        msg = struct.pack("!IB", ts & 0xffffffff, 4 if len(ip) == 4 else 6) + ip
        out = ctypes.create_string_buffer(8)
        self.lib.crypto_shorthash(out, msg, ctypes.c_ulonglong(len(msg)), key)
        return struct.pack("!I", ts & 0xffffffff) + out.raw[:4]


# --- a windowed UDP sender --------------------------------------------------------

def exchange(sock, packets, window=WINDOW, wait=1.0):
    """Sends packets (each with its transaction id at bytes 12..15, unique)
    at most `window` unanswered at a time; returns ({tid: reply}, lost)
    where lost counts requests with no reply within `wait` s of their
    window."""
    replies = {}
    lost = 0
    sock.setblocking(False)
    for start in range(0, len(packets), window):
        batch = packets[start:start + window]
        want = set()
        for p in batch:
            want.add(p[12:16])
            sock.send(p)
        deadline = time.monotonic() + wait
        while want and time.monotonic() < deadline:
            r, _, _ = select.select([sock], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                break
            while True:
                try:
                    data = sock.recv(2048)
                except BlockingIOError:
                    break
                tid = data[4:8]
                if tid in want:
                    want.discard(tid)
                    replies[tid] = data
        lost += len(want)
    sock.setblocking(True)
    return replies, lost


def udp_socket(tracker, port, source):
    s = b.connected_socket(socket.AF_INET6 if ":" in tracker else socket.AF_INET,
                           socket.SOCK_DGRAM, (tracker, port), source=source)
    # Room for a whole window of replies (each costs ~1 KiB of buffer):
    # the default 208 KiB drops some, which would look like the tracker's loss.
    s.setsockopt(socket.SOL_SOCKET, 33, 4 << 20)  # SO_RCVBUFFORCE (root)
    return s


def announce_pkt(cid, tid, info_hash, peer_id, port, event=b.EVENT_STARTED, left=100):
    return struct.pack("!8sII20s20sQQQIIIiH", cid, b.ACTION_ANNOUNCE, tid, info_hash, peer_id,
                       0, left, 0, event, 0, 0, 50, port)


# --- the parts ----------------------------------------------------------------

class Expiry:
    """Two swarms of 20 leechers each; `kept` is refreshed every 15 s by a
    thread, `left` is not."""

    def __init__(self, a):
        self.a = a
        self.kept, self.left = secrets.token_bytes(20), secrets.token_bytes(20)
        self.ids = [secrets.token_bytes(20) for _ in range(20)]
        self.stop = threading.Event()
        self.errors = []
        self.t0 = time.monotonic()
        with b.Client(a.v4, a.port, source=a.src4[0]) as c:
            for i, pid in enumerate(self.ids):
                c.announce(self.kept, pid, b.EVENT_STARTED, left=1, port=20000 + i)
                c.announce(self.left, pid, b.EVENT_STARTED, left=1, port=20000 + i)
        self.thread = threading.Thread(target=self.refresh, daemon=True)
        self.thread.start()

    def refresh(self):
        for _ in range(40):  # 600 s at most
            if self.stop.wait(15):
                return
            try:
                with b.Client(self.a.v4, self.a.port, source=self.a.src4[0]) as c:
                    for i, pid in enumerate(self.ids):
                        c.announce(self.kept, pid, b.EVENT_NONE, left=1, port=20000 + i)
            except (b.TrackerError, b.NoReply, OSError) as e:
                self.errors.append(str(e))

    def finish(self, ck):
        # Stamps are 4 s ticks and a sweep pass takes a moment: past
        # peer_timeout + 16 s every stale peer must be gone.
        # Load meanwhile: connects, as fast as this client goes.
        until = self.t0 + self.a.peer_timeout + 16
        sent = answered = 0
        while time.monotonic() < until:
            got, _, _ = connect_rate(self.a, 2000)
            sent, answered = sent + 2000, answered + got
        self.stop.set()
        self.thread.join(20)
        with b.Client(self.a.v4, self.a.port, source=self.a.src4[0]) as c:
            got = [(e.complete, e.downloaded, e.incomplete)
                   for e in c.scrape([self.kept, self.left])]
        print(f"# expiry: {answered} of {sent} connects answered while waiting", flush=True)
        ck.check(f"after {self.a.peer_timeout} s under load, the 20 peers that stopped "
                 "announcing expired and the 20 refreshed every 15 s did not",
                 lambda: first("; ".join(self.errors[:3]),
                               None if sent and answered == sent else "connects lost",
                               expect("scrape (kept, left)", got, [(0, 0, 20), (0, 0, 0)])))


def connid_checks(ck, a, sodium):
    key = bytes.fromhex(a.secret)
    src, other = a.src4[0], a.src4[1]
    ih = secrets.token_bytes(20)

    def ask(cid, source=src):
        with udp_socket(a.v4, a.port, source) as s:
            s.settimeout(2)
            tid = secrets.randbits(32)
            s.send(announce_pkt(cid, tid, ih, secrets.token_bytes(20), 7001))
            data = s.recv(2048)
            return struct.unpack_from("!I", data)[0], data

    now = int(time.time()) - 2  # never ahead of dptrack's clock

    def fresh():
        action, data = ask(sodium.connid(key, src, now))
        return expect("action of the reply to an ID made from the secret", action,
                      b.ACTION_ANNOUNCE)
    ck.check("an ID computed from the configured secret is accepted (the computation "
             "below is dptrack's)", fresh)

    def refused(what, cid, source=src):
        def fn():
            action, data = ask(cid, source)
            return first(expect(f"action of the reply to {what}", action, b.ACTION_ERROR),
                         None if b"connection id" in data else f"message {data[8:]!r}")
        return fn
    ck.check(f"an ID issued {a.ttl + 5} s ago (TTL {a.ttl} s) is refused",
             refused("an expired ID", sodium.connid(key, src, now - a.ttl - 5)))
    ck.check("an ID stamped 60 s in the future is refused",
             refused("a future ID", sodium.connid(key, src, now + 60)))
    with b.Client(a.v4, a.port, source=other) as c:
        theirs = struct.pack("!Q", c.connect())
    ck.check("an ID the tracker issued to another address is refused",
             refused("another address's ID", theirs))

    # A million random IDs, announces and scrapes.
    before = telemetry(a.prefix)
    t0 = time.monotonic()
    ids = secrets.token_bytes(8 * a.forged)
    tmpl_a = announce_pkt(b"\0" * 8, 0, ih, b"F" * 20, 7002)
    tmpl_s = struct.pack("!QII", 0, b.ACTION_SCRAPE, 0) + ih
    accepted = errors = lost = longer = 0
    with udp_socket(a.v4, a.port, src) as s:
        for start in range(0, a.forged, 65536):
            pkts = []
            for i in range(start, min(start + 65536, a.forged)):
                t = tmpl_a if i & 1 else tmpl_s
                pkts.append(ids[8 * i:8 * i + 8] + t[8:12] + struct.pack("!I", i) + t[16:])
            replies, n_lost = exchange(s, pkts)
            lost += n_lost
            for p in pkts:
                r = replies.get(p[12:16])
                if r is None:
                    continue
                if r[:4] == b"\0\0\0\3":
                    errors += 1
                else:
                    accepted += 1
                longer += len(r) > len(p)
    after = telemetry(a.prefix)
    secs = time.monotonic() - t0
    print(f"# {a.forged} forged IDs in {secs:.1f} s: {errors} error replies, {lost} lost, "
          f"{accepted} accepted", flush=True)
    ck.check(f"{a.forged} random connection IDs: none accepted, every request refused",
             lambda: first(expect("accepted", accepted, 0),
                           expect("replies longer than their request", longer, 0),
                           None if lost <= a.forged // 1000 else f"{lost} got no reply",
                           expect("error replies + lost", errors + lost, a.forged)))
    n = delta(after, before, "udp_err_connection_id")
    ck.check("dptrack counted each of them under udp_err_connection_id",
             lambda: None if errors <= n <= a.forged else f"counted {n}, {errors} replies seen")


def amplification(ck, a):
    """Replays every UDP payload for the tracker's port found in the
    captures, and random datagrams, from a client socket."""
    payloads = []
    for path in a.pcaps:
        for pkt in rdpcap(path):
            if UDP in pkt and pkt[UDP].dport == a.port:
                payloads.append(bytes(pkt[UDP].payload))
    n_pcap = len(payloads)
    rnd = random.Random(15)
    for i in range(3000):
        size = rnd.choice((0, 1, 7, 8, 15, 16, 17, 35, 36, 97, 98, 99, 100, 200, 1400))
        body = bytearray(rnd.randbytes(size))
        if size >= 16 and i % 3:  # real actions, so the codec goes deep
            body[8:12] = struct.pack("!I", i % 4)
        if size >= 16 and i % 5 == 0:
            body[0:8] = struct.pack("!Q", b.PROTOCOL_ID)
        payloads.append(bytes(body))
    over = []
    replied = 0
    with udp_socket(a.v4, a.port, a.src4[1]) as s:
        s.settimeout(0.03)
        for start in range(0, len(payloads), 64):
            batch = payloads[start:start + 64]
            # A reply belongs to the requests carrying its transaction id;
            # it may be no longer than the longest of them. A request too
            # short to carry an id must get no reply at all.
            longest = {}
            for p in batch:
                if len(p) >= 16:
                    longest[p[12:16]] = max(longest.get(p[12:16], 0), len(p))
                s.send(p)
            while True:
                try:
                    r = s.recv(65535)
                except socket.timeout:
                    break
                replied += 1
                if len(r) < 8 or len(r) > longest.get(r[4:8], 0):
                    over.append((len(r), longest.get(r[4:8], 0), r[:16].hex()))
    print(f"# amplification: {len(payloads)} datagrams ({n_pcap} from captures), "
          f"{replied} replies", flush=True)
    # A connect (16 bytes) is answered with 16: the one reply allowed to
    # equal its request without a valid ID; nothing may exceed it.
    ck.check(f"{len(payloads)} malformed, captured and random datagrams: no reply longer "
             "than its request", lambda: None if not over else f"{len(over)}: {over[:3]}")
    ck.check("some of them were answered (the sweep reached the codec)",
             lambda: None if replied > 100 else f"only {replied} replies")


def garbage_frames(a, my_mac):
    """(reason, frame bytes) of each kind the frame layer must drop.
    Not IPv4 fragments: net_af_packet's fanout asks the kernel to reassemble
    them (PACKET_FANOUT_FLAG_DEFRAG), so lone ones never reach dptrack here;
    the pcap suite's malformed capture covers ip4_fragment."""
    tm = a.tracker_mac
    eth = Ether(src=my_mac, dst=tm)
    src, dst = a.src4[0], a.v4
    ok_udp = IP(src=src, dst=dst) / UDP(sport=40000, dport=a.port) / Raw(b"x" * 16)
    bad_ip = IP(bytes(ok_udp))
    bad_ip.chksum = (bad_ip.chksum + 1) & 0xffff
    bad_udp = IP(bytes(ok_udp))
    bad_udp[UDP].chksum = (bad_udp[UDP].chksum % 0xfffe) + 1
    long_udp = IP(src=src, dst=dst) / UDP(sport=40000, dport=a.port, len=200) / Raw(b"y" * 16)
    kinds = [
        ("ethertype", bytes(Ether(src=my_mac, dst=tm, type=0x88b5) / Raw(os.urandom(46)))),
        ("eth_not_ours", bytes(Ether(src=my_mac, dst="02:00:00:00:00:99") / ok_udp)),
        ("ip4_cksum", bytes(eth / bad_ip)),
        ("ip4_not_ours", bytes(eth / IP(src=src, dst="198.18.0.99") /
                               UDP(sport=40000, dport=a.port) / Raw(b"q" * 16))),
        ("ip_proto", bytes(eth / IP(src=src, dst=dst, proto=47) / Raw(os.urandom(20)))),
        ("udp_cksum", bytes(eth / bad_udp)),
        ("udp_port", bytes(eth / IP(src=src, dst=dst) / UDP(sport=40000, dport=7) /
                           Raw(b"p" * 16))),
        ("udp_malformed", bytes(eth / long_udp)),
        ("icmp_type", bytes(eth / IP(src=src, dst=dst) / ICMP(type=13))),
        ("ip6_not_ours", bytes(Ether(src=my_mac, dst=tm) /
                               IPv6(src=a.src6[0], dst="fd00:d::99") /
                               UDP(sport=40000, dport=a.port) / Raw(b"6" * 16))),
    ]
    return kinds


def flood(ck, a):
    my_mac = open(f"/sys/class/net/{a.iface}/address").read().strip()
    kinds = garbage_frames(a, my_mac)
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    raw.bind((a.iface, 0))
    before = telemetry(a.prefix)
    idle = before["mbufs_in_use"]
    sent = {k: 0 for k, _ in kinds}
    connects = answered = 0
    rnd = random.Random(8)
    t0 = time.monotonic()
    with udp_socket(a.v4, a.port, a.src4[1]) as s:
        for rnd_no in range(FLOOD_ROUNDS):
            if time.monotonic() - t0 > 60:
                break
            pkts = []
            for j in range(8):
                tid = rnd_no * 8 + j
                pkts.append(struct.pack("!QII", b.PROTOCOL_ID, b.ACTION_CONNECT, tid))
            for j in range(80):
                if j % 10 == 0:
                    s.send(pkts[j // 10])
                reason, frame = kinds[rnd.randrange(len(kinds))]
                raw.send(frame)
                sent[reason] += 1
            connects += len(pkts)
            # Lockstep: the 8 connects of the round answered before the next.
            got = 0
            s.settimeout(1.0)
            try:
                while got < 8:
                    data = s.recv(2048)
                    if len(data) == 16 and data[:4] == b"\0\0\0\0":
                        got += 1
            except socket.timeout:
                pass
            answered += got
    raw.close()
    # The mbufs come back at once; give the telemetry a moment to agree.
    after = telemetry(a.prefix)
    for _ in range(20):
        if after["mbufs_in_use"] == idle:
            break
        time.sleep(0.1)
        after = telemetry(a.prefix)
    total = sum(sent.values())
    print(f"# flood: {total} garbage frames, {connects} connects in "
          f"{time.monotonic() - t0:.1f} s", flush=True)
    ck.check(f"flood of {total} garbage frames: all {connects} interleaved connects answered",
             lambda: expect("answered", answered, connects))
    short = {k: (delta(after, before, "drop_" + k), n) for k, n in sent.items()
             if delta(after, before, "drop_" + k) < n}
    moved = {k: delta(after, before, k) for k in after
             if k.startswith(("drop_", "udp_err", "udp_bad")) and delta(after, before, k)}
    ck.check("every garbage frame was counted under its drop reason",
             lambda: None if not short else f"(counted, sent): {short}; all counted: {moved}")
    ck.check(f"mbufs in use back to their idle value ({idle}) after the flood",
             lambda: expect("mbufs_in_use", after["mbufs_in_use"], idle))


def limits(ck, a):
    hashes = []
    refused = None
    # The swarms already there (the expiry's, connid_checks'), counted now:
    # on a slow host some may have expired and been retired before this.
    existing = telemetry(a.prefix)["swarms"]
    with b.Client(a.v4, a.port, source=a.src4[1]) as c:
        for i in range(a.max_swarms + 5):
            h = secrets.token_bytes(20)
            try:
                c.announce(h, event=b.EVENT_STARTED, left=1, port=30000)
            except b.TrackerError as e:
                refused = (i, e.message)
                break
            hashes.append(h)
        room = a.max_swarms - existing
        ck.check(f"max_swarms {a.max_swarms}: with {room} new torrents added, one more is "
                 "refused with its reason", lambda: first(
                     None if refused else "never refused",
                     expect("torrents accepted", len(hashes), room),
                     None if refused and "torrent" in refused[1] else f"message {refused}"))

        def old_served():
            r = c.announce(hashes[0], event=b.EVENT_NONE, left=1, port=30000)
            return expect("leechers of an existing torrent", r.leechers, 1)
        ck.check("with the table full, an existing torrent is still served", old_served)

        # Peers: one swarm (holding one peer already), ports of one address.
        h = hashes[1]
        err = None
        for i in range(a.max_peers + 1):
            try:
                c.announce(h, event=b.EVENT_STARTED, left=1, port=31000 + i)
            except b.TrackerError as e:
                err = (i, e.message)
                break
        ck.check(f"max_peers_per_swarm {a.max_peers}: one more peer is refused with its reason",
                 lambda: first(expect("refused at new peer", err and err[0], a.max_peers - 1),
                               None if err and "peer" in err[1] else f"message {err}"))

        def known_served():
            r = c.announce(h, event=b.EVENT_NONE, left=1, port=31000)
            return expect("leechers", r.leechers, a.max_peers)
        ck.check("a full swarm still serves its known peers", known_served)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def hashflood(ck, a):
    """Announces for a.flood_hashes unique info hashes: the table must
    stay inside its memory budget (counted and resident), refuse with a
    reason, and keep serving a swarm made before the flood."""
    old = secrets.token_bytes(20)
    with b.Client(a.v4, a.port, source=a.src4[1]) as c:
        for i in range(5):
            c.announce(old, event=b.EVENT_STARTED, left=1, port=40000 + i)
    with b.Client(a.v4, a.port, source=a.src4[0]) as c:  # the flood's source
        cid = struct.pack("!Q", c.connect())
    samples = []
    refused = {}
    sent = answered = 0
    rss0 = rss_kib(a.pid)
    t0 = time.monotonic()
    with udp_socket(a.v4, a.port, a.src4[0]) as s:
        for start in range(0, a.flood_hashes, 20000):
            n = min(20000, a.flood_hashes - start)
            pkts = [announce_pkt(cid, start + i, secrets.token_bytes(20), b"H" * 20, 6881)
                    for i in range(n)]
            replies, _ = exchange(s, pkts)
            sent += n
            answered += len(replies)
            for r in replies.values():
                if r[:4] == b"\0\0\0\3":
                    msg = r[8:].decode("utf-8", "replace")
                    refused[msg] = refused.get(msg, 0) + 1
            st = telemetry(a.prefix)
            samples.append((sent, st["swarms"], st["memory_used_bytes"],
                            st["memory_budget_bytes"], rss_kib(a.pid)))
    secs = time.monotonic() - t0
    for x in samples[::3] + samples[-1:]:
        print(f"# after {x[0]} hashes: {x[1]} swarms, table {x[2] >> 10} KiB of "
              f"{x[3] >> 10} KiB, resident {x[4]} KiB", flush=True)
    print(f"# {sent} announces in {secs:.1f} s; refusals: {refused}", flush=True)
    over = [x for x in samples if x[2] > x[3]]
    ck.check(f"{sent} unique info hashes: the table never exceeds its memory budget",
             lambda: None if not over else f"over budget: {over[:2]}")
    ck.check("the new torrents past the limits are refused with a reason",
             lambda: None if refused and all("full" in m or "memory" in m for m in refused)
             else f"refusals: {refused}")
    ck.check("every announce of the flood was answered", lambda: expect("answered",
                                                                          answered, sent))
    budget = samples[-1][3]
    ck.check(f"resident memory grew by no more than the budget ({rss0} -> "
             f"{samples[-1][4]} KiB, budget {budget >> 10} KiB)",
             lambda: None if (samples[-1][4] - rss0) * 1024 <= budget else "it grew more")
    # Resident memory: flat once the table is full. The last half of the
    # flood may add at most 1 MiB (stacks, allocator noise), not a budget.
    half = samples[len(samples) // 2][4]
    ck.check(f"resident memory flat over the second half of the flood "
             f"({half} -> {samples[-1][4]} KiB)",
             lambda: None if samples[-1][4] - half <= 1024 else "it grew")

    def old_served():
        with b.Client(a.v4, a.port, source=a.src4[1]) as c:
            r = c.announce(old, event=b.EVENT_NONE, left=1, port=40000, numwant=50)
            return expect("peers of the pre-flood swarm", len(r.peers), 4)
    ck.check("the swarm made before the flood is still served, its peers intact", old_served)


def http_thread(pid):
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/comm") as f:
            if f.read().strip() == "dpt-http0":
                return int(tid)
    return None


def connect_rate(a, n):
    pkts = [struct.pack("!QII", b.PROTOCOL_ID, b.ACTION_CONNECT, i) for i in range(n)]
    with udp_socket(a.v4, a.port, a.src4[0]) as s:
        t0 = time.monotonic()
        replies, lost = exchange(s, pkts, window=64)
        return len(replies), lost, n / (time.monotonic() - t0)


def stall(ck, a):
    """Stops the HTTP thread with PTRACE_SEIZE + PTRACE_INTERRUPT (only that
    thread stops, not the process) and measures UDP connects meanwhile."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    PTRACE_SEIZE, PTRACE_INTERRUPT, PTRACE_DETACH = 0x4206, 0x4207, 17
    tid = http_thread(a.pid)
    if tid is None:
        ck.check("the HTTP thread dpt-http0 exists", lambda: "not found")
        return
    host, port = a.http.rsplit(":", 1)
    n = 20000
    base = connect_rate(a, n)
    if libc.ptrace(PTRACE_SEIZE, tid, None, None) != 0 or \
            libc.ptrace(PTRACE_INTERRUPT, tid, None, None) != 0:
        ck.check("ptrace stops the HTTP thread", lambda: os.strerror(ctypes.get_errno()))
        return
    try:
        os.waitpid(tid, 0x40000000)  # __WALL: it is a thread
        state = open(f"/proc/{a.pid}/task/{tid}/stat").read().split(")")[1].split()[0]
        # While stopped, HTTP gets no answer.
        http_ok = True
        try:
            with socket.create_connection((host, int(port)), timeout=1) as c:
                c.settimeout(1)
                c.send(b"GET /heartbeat HTTP/1.1\r\n\r\n")
                http_ok = bool(c.recv(100))
        except OSError:
            http_ok = False
        held = connect_rate(a, n)
    finally:
        libc.ptrace(PTRACE_DETACH, tid, None, None)
    print(f"# UDP connects: {base[2]:.0f}/s with HTTP running, {held[2]:.0f}/s with the "
          f"HTTP thread stopped (ratio {held[2] / base[2]:.2f})", flush=True)
    ck.check("the HTTP thread was really stopped (state t, no HTTP answer)",
             lambda: first(expect("thread state", state, "t"),
                           "an HTTP answer came" if http_ok else None))
    ck.check(f"with the HTTP thread stopped, all {n} UDP connects are answered",
             lambda: first(expect("answered", held[0], n), expect("lost", held[1], 0)))

    def resumes():
        with socket.create_connection((host, int(port)), timeout=5) as c:
            c.settimeout(5)
            c.send(b"GET /heartbeat HTTP/1.1\r\n\r\n")
            return None if c.recv(100).startswith(b"HTTP/1.1 200") else "no 200"
    ck.check("after the stall the HTTP thread answers again", resumes)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--v4", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--src4", required=True)
    p.add_argument("--src6", required=True)
    p.add_argument("--iface", required=True)
    p.add_argument("--tracker-mac", required=True)
    p.add_argument("--secret", required=True)
    p.add_argument("--ttl", type=int, required=True)
    p.add_argument("--peer-timeout", type=int, required=True)
    p.add_argument("--max-swarms", type=int, required=True)
    p.add_argument("--max-peers", type=int, required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--http", required=True)
    p.add_argument("--pcaps", nargs="+", required=True)
    p.add_argument("--forged", type=int, default=FORGED, help="random IDs to send")
    p.add_argument("--flood-hashes", type=int, default=200000,
                   help="unique info hashes of the hashflood part")
    p.add_argument("--parts", default="expiry,connid,amplify,flood,limits,stall",
                   help="which parts to run (comma-separated)")
    a = p.parse_args()
    a.src4, a.src6 = a.src4.split(","), a.src6.split(",")

    ck = Checks(errors=(OSError, b.TrackerError, b.NoReply, b.ProtocolError, KeyError,
                        ValueError))
    parts = set(a.parts.split(","))
    exp = Expiry(a) if "expiry" in parts else None
    if "connid" in parts:
        connid_checks(ck, a, Sodium())
    if "amplify" in parts:
        amplification(ck, a)
    if "flood" in parts:
        flood(ck, a)
    if "limits" in parts:
        limits(ck, a)
    if "stall" in parts:
        stall(ck, a)
    if "hashflood" in parts:
        hashflood(ck, a)
    if exp is not None:
        exp.finish(ck)
    print(f"{ck.passed} passed, {ck.failed} failed")
    return 1 if ck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
