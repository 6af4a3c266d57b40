#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""gen_seeds.py - the fuzzers' seed corpora, from the project's own inputs.

Usage: gen_seeds.py OUTDIR STAMP PCAP... --yaml config/dptrack.yaml

Writes OUTDIR/frame (every frame of the pcap suite's input captures),
OUTDIR/udp (their BEP 15 payloads in fuzz_udp.c's input layout), OUTDIR/http
(requests and queries like the unit tables'), OUTDIR/cfg (the documented
default and a few small overrides, the cluster section among them) and
OUTDIR/sync (cluster batches, encoded here from core/sync.h's layout), one
file per seed named by its SHA-1 as libFuzzer names its own, then touches
STAMP. Python 3 standard library only.
"""

import argparse
import hashlib
import os
import shutil
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pcap"))
from check import read_pcap  # noqa: E402

TRACKER_PORT = 6969
FLAG_IPV6, FLAG_CONNID = 0x01, 0x02

# A query a real client sends, the shape of test_http_req.c's table.
IH = "%124Vx%9A%BC%DE%F1%23Eg%89%AB%CD%EF%124Vx"
PID = "-TR3000-abcdefghijkl"
ANNOUNCE = (f"info_hash={IH}&peer_id={PID}&port=51413&uploaded=0&downloaded=0"
            f"&left=1000&event=started&compact=1&numwant=80&key=5a7e1d&no_peer_id=1")
HTTP_SEEDS = [
    f"GET /announce?{ANNOUNCE} HTTP/1.1\r\nHost: t\r\nUser-Agent: Transmission/3.00\r\n"
    "Accept-Encoding: gzip\r\nConnection: keep-alive\r\n\r\n",
    f"GET /scrape?info_hash={IH}&info_hash=abcdefghij0123456789 HTTP/1.1\r\nHost: t\r\n\r\n",
    "GET /announce?info_hash=%124Vx&port=6881&compact=1 HTTP/1.0\r\n\r\n",
    "HEAD /stats HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 198.18.0.10, 10.0.0.1\r\n\r\n",
    "GET /announce?a=1&b=2#frag?x HTTP/1.1\nHost: t\nConnection: close\n\n",
    "GET http://t.example/announce?a=b HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n",
    "POST /announce HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd",
    ANNOUNCE + "&ipv6=fd00%3Ad%3A%3A10&ipv4=198.18.0.10&ip=198.18.0.11&event=stopped",
    f"info_hash={IH}&peer_id={PID}&port=1&left=0&event=completed&compact=0&numwant=-1",
    "info_hash=abcdefghij0123456789&info_hash=%61bcdefghij012345678+",
]

CFG_SEEDS = [
    "udp:\n  ports: [6969, 6881]\n  connection_id_secret: 00112233445566778899aabbccddeeff\n",
    "http:\n  listen: ['0.0.0.0:80', '[::1]:6969']\n  trusted_proxies: [10.0.0.0/8, 'fd00::/8']\n",
    "dpdk:\n  ports:\n    - device: net_pcap0\n      ipv4: 198.18.0.2/24\n    - device: 0000:01:00.0\n"
    "      ipv6: 'fd00:d::2/64'\n  eal_args: [--no-pci]\n  replay: true\n  rng_seed: 7\n"
    "udp:\n  connection_id_secret: 000102030405060708090a0b0c0d0e0f\n",
    "tracker: {max_swarms: 1, memory_mb: 16}\nlog: {level: debug}\nstats: {allow: []}\n",
    # The cluster section: every kind it has (URL list, tokens, a power of
    # two, paths in a group), enabled and in flow style.
    "cluster:\n  enabled: true\n  servers: ['nats://n1.example:4222', 'tls://[fd00::1]:4222',"
    " 'nats://198.18.0.1:1']\n  name: swarm_A-1\n  instance: ''\n  ring_records: 1024\n"
    "  max_age: 2700\n  credentials: /etc/dptrack/nats.creds\n"
    "  tls:\n    ca: /etc/ca.pem\n    cert: c.pem\n    key: k.pem\n",
    "cluster: {enabled: yes, flush_ms: 1, batch_records: 4096, replicas: 5, key_wait_ms: 0,"
    " instance: host-7, tls: {ca: ''}}\ntracker: {peer_timeout: 7200}\n",
]


# Cluster batches (core/sync.h), encoded here rather than by the C writer, so
# the seeds are a second reading of the documented layout.
SYNC_SEEDER, SYNC_STOPPED, SYNC_COMPLETED = 0x1, 0x2, 0x4
SYNC_FLAGS = [0, SYNC_SEEDER, SYNC_STOPPED, SYNC_COMPLETED,
              SYNC_SEEDER | SYNC_STOPPED, SYNC_SEEDER | SYNC_COMPLETED]
BASE_MS = 1700000000000


def sync_batch(instance, records, base_ms=BASE_MS, seq=1, epoch=0x5EED):
    """Returns a batch: records are (ip bytes, port, flags, age_ms)."""
    out = b"DPTS" + struct.pack("!BBHQQQB", 1, 0, len(records), epoch, seq, base_ms,
                                len(instance)) + instance
    for i, (ip, port, flags, age) in enumerate(records):
        kind = (1 if len(ip) == 16 else 0) | flags << 1
        ih = hashlib.sha1(b"%d" % i).digest()
        out += struct.pack("!BI", kind, age) + ih + ip + struct.pack("!H", port)
    return out


def sync_seeds():
    v4 = bytes([198, 18, 0, 10])
    v6 = bytes.fromhex("fd00000d000000000000000000000010")
    mixed = [(ip, 6881 + i, f, 1000 * i)
             for i, (f, ip) in enumerate((f, ip) for f in SYNC_FLAGS for ip in (v4, v6))]
    return [
        sync_batch(b"dpt-1", [(v4, 6881, SYNC_SEEDER, 0)]),
        sync_batch(b"eu_west-2", mixed, seq=42),
        sync_batch(b"x" * 64, [(v6, 1 + i, SYNC_FLAGS[i % 6], i) for i in range(100)]),
        sync_batch(b"a", [(v4, 65535, SYNC_STOPPED, 5)], base_ms=5, seq=2**64 - 1),
        # refused ones, a byte away from valid: trailing, stopped and completed
        sync_batch(b"dpt-1", [(v4, 6881, 0, 0)]) + b"\0",
        sync_batch(b"dpt-1", [(v6, 6881, SYNC_STOPPED | SYNC_COMPLETED, 0)]),
    ]


def udp_of(frame):
    """Returns (family, src ip, src port, payload) of a UDP datagram to the
    tracker's port in an Ethernet frame (one optional VLAN tag), or None."""
    off, etype = 14, struct.unpack_from("!H", frame, 12)[0] if len(frame) >= 14 else 0
    if etype == 0x8100 and len(frame) >= 18:
        off, etype = 18, struct.unpack_from("!H", frame, 16)[0]
    if etype == 0x0800 and len(frame) >= off + 20 and frame[off + 9] == 17:
        fam, src, l4 = 4, frame[off + 12:off + 16], off + (frame[off] & 0xF) * 4
    elif etype == 0x86DD and len(frame) >= off + 40 and frame[off + 6] == 17:
        fam, src, l4 = 6, frame[off + 8:off + 24], off + 40
    else:
        return None
    if len(frame) < l4 + 8:
        return None
    sport, dport, ulen = struct.unpack_from("!HHH", frame, l4)
    if dport != TRACKER_PORT or ulen < 8:
        return None
    return fam, src, sport, frame[l4 + 8:l4 + ulen]


def udp_seeds(frame):
    u = udp_of(frame)
    if u is None:
        return []
    fam, src, sport, payload = u
    flags = FLAG_IPV6 if fam == 6 else 0
    addr = src.ljust(16, b"\0") + struct.pack("!H", sport)
    out = [bytes([flags]) + addr + payload]
    action = struct.unpack_from("!I", payload, 8)[0] if len(payload) >= 12 else None
    if action in (1, 2):  # announce, scrape: also with a valid connection id
        out.append(bytes([flags | FLAG_CONNID]) + addr + payload)
    return out


def write_corpus(d, seeds):
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for s in seeds:
        with open(os.path.join(d, hashlib.sha1(s).hexdigest()), "wb") as f:
            f.write(s)
    return len(set(seeds))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("stamp")
    ap.add_argument("pcaps", nargs="+")
    ap.add_argument("--yaml", required=True)
    a = ap.parse_args()

    frames = [rec[2] for p in a.pcaps for rec in read_pcap(p)]
    with open(a.yaml, "rb") as f:
        default_yaml = f.read()
    counts = {
        "frame": write_corpus(os.path.join(a.outdir, "frame"), frames),
        "udp": write_corpus(os.path.join(a.outdir, "udp"),
                            [s for fr in frames for s in udp_seeds(fr)]),
        "http": write_corpus(os.path.join(a.outdir, "http"), [s.encode() for s in HTTP_SEEDS]),
        "cfg": write_corpus(os.path.join(a.outdir, "cfg"),
                            [default_yaml] + [s.encode() for s in CFG_SEEDS]),
        "sync": write_corpus(os.path.join(a.outdir, "sync"), sync_seeds()),
    }
    with open(a.stamp, "w") as f:
        f.write("".join(f"{k} {v}\n" for k, v in counts.items()))


if __name__ == "__main__":
    main()
