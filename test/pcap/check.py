#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""check.py - judges dptrack's output frames from its input frames alone.

Usage: check.py IN.pcap OUT.pcap [--secret HEX] [-v]
       check.py --predict IN.pcap     (print the counters this model expects)
       check.py --self-test

Nothing here comes from dptrack: a reference model, written from the
contracts in dpdk/dp_frame.h, core/udp_msg.h, core/tracker.h, core/ptab.h
and core/connid.h, walks the input frames in order, decides for each whether
it must be answered or dropped (and why), keeps its own picture of every
swarm, and then holds each output frame to what its request calls for:

  - Ethernet source the port's MAC, destination the request's source, the
    802.1Q tag kept byte for byte;
  - addresses and ports swapped, IPv4 header, UDP, ICMP and ICMPv6 checksums
    valid, every length field consistent with the frame;
  - ARP replies and neighbour advertisements (S and O set, target link-layer
    address option carrying the port's MAC) correct;
  - BEP 15: the transaction id and action of the request (error, 3, for a bad
    connection id), connection ids equal to SipHash-2-4 over the packet's
    time and source address, announce replies with the swarm's counts, peers
    of the announcer's family only (6 or 18 bytes), never the announcer, as
    many as the peer table's selection plan gives, interval within
    [announce_interval, announce_interval + announce_jitter]; scrape counts;
    no reply to an unauthenticated request longer than the request;
  - no reply at all to a frame that must be dropped.

Replies are matched to requests in order (one lcore answers in order). The
interval's jitter and which peers are picked are random: only their bounds
and sets are checked, so the model never depends on dptrack's RNG.

Python 3 standard library only, so the pcap suite needs nothing more.
"""

import argparse
import ipaddress
import struct
import sys

# ---- pcap files ------------------------------------------------------------

PCAP_MAGIC_US = 0xA1B2C3D4
PCAP_MAGIC_NS = 0xA1B23C4D
LINKTYPE_ETHERNET = 1


def read_pcap(path):
    """Returns [(sec, usec, bytes)] of a classic pcap file (µs or ns)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError(f"{path}: not a pcap file (only {len(data)} bytes)")
    for endian in ("<", ">"):
        magic = struct.unpack(endian + "I", data[:4])[0]
        if magic in (PCAP_MAGIC_US, PCAP_MAGIC_NS):
            break
    else:
        raise ValueError(f"{path}: not a pcap file (magic {data[:4].hex()})")
    nano = magic == PCAP_MAGIC_NS
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != LINKTYPE_ETHERNET:
        raise ValueError(f"{path}: link type {linktype}, not Ethernet")
    recs, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        if off + incl > len(data):
            raise ValueError(f"{path}: record {len(recs)} cut short")
        recs.append((sec, frac // 1000 if nano else frac, data[off:off + incl]))
        off += incl
    return recs


def write_pcap(path, recs):
    """Writes [(sec, usec, bytes)] as a little-endian µs pcap, byte for byte
    the same for the same records."""
    out = [struct.pack("<IHHiIII", PCAP_MAGIC_US, 2, 4, 0, 0, 65535, LINKTYPE_ETHERNET)]
    for sec, usec, raw in recs:
        out.append(struct.pack("<IIII", sec, usec, len(raw), len(raw)))
        out.append(bytes(raw))
    with open(path, "wb") as f:
        f.write(b"".join(out))


# ---- SipHash-2-4 and connection ids (core/connid.c) ------------------------

_M64 = (1 << 64) - 1


def _rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & _M64


def siphash24(key, msg):
    """SipHash-2-4 of msg under a 16-byte key; returns the 8 output bytes as
    libsodium's crypto_shorthash writes them (the 64-bit result, little-endian)."""
    assert len(key) == 16
    k0 = int.from_bytes(key[:8], "little")
    k1 = int.from_bytes(key[8:], "little")
    v = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D,
         k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573]

    def rounds(n):
        for _ in range(n):
            v[0] = (v[0] + v[1]) & _M64
            v[1] = _rotl(v[1], 13) ^ v[0]
            v[0] = _rotl(v[0], 32)
            v[2] = (v[2] + v[3]) & _M64
            v[3] = _rotl(v[3], 16) ^ v[2]
            v[0] = (v[0] + v[3]) & _M64
            v[3] = _rotl(v[3], 21) ^ v[0]
            v[2] = (v[2] + v[1]) & _M64
            v[1] = _rotl(v[1], 17) ^ v[2]
            v[2] = _rotl(v[2], 32)

    whole = len(msg) // 8 * 8
    blocks = [int.from_bytes(msg[i:i + 8], "little") for i in range(0, whole, 8)]
    blocks.append((len(msg) & 0xFF) << 56 | int.from_bytes(msg[whole:], "little"))
    for m in blocks:
        v[3] ^= m
        rounds(2)
        v[0] ^= m
    v[2] ^= 0xFF
    rounds(4)
    return (v[0] ^ v[1] ^ v[2] ^ v[3]).to_bytes(8, "little")


def connid(secret, ts, ip):
    """The 8 wire bytes of the connection id core/connid.c issues at ts
    (seconds) to address ip (4 or 16 bytes): the timestamp big-endian, then
    the first 4 bytes of SipHash-2-4 over ts (4 bytes big-endian) | family
    byte (4 or 6) | address."""
    ts &= 0xFFFFFFFF
    tsb = ts.to_bytes(4, "big")
    fam = 4 if len(ip) == 4 else 6
    return tsb + siphash24(secret, tsb + bytes([fam]) + bytes(ip))[:4]


def connid_valid(secret, wire_id, now, ip, ttl):
    """connid_check(): not stamped after now, at most ttl seconds old, MAC right."""
    ts = int.from_bytes(wire_id[:4], "big")
    age = (now - ts) & 0xFFFFFFFF
    if age >= 1 << 31 or age > ttl:
        return False
    return connid(secret, ts, ip) == bytes(wire_id)


# ---- wire helpers ------------------------------------------------------------

def be16(b, o):
    return struct.unpack_from(">H", b, o)[0]


def be32(b, o):
    return struct.unpack_from(">I", b, o)[0]


def inet_sum(data, start=0):
    """Ones' complement sum (RFC 1071), folded, not inverted."""
    if len(data) % 2:
        data = bytes(data) + b"\0"
    s = start + sum(struct.unpack(f">{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def inet_cksum(data, start=0):
    return ~inet_sum(data, start) & 0xFFFF


def pseudo_sum(src, dst, proto, length):
    if len(src) == 4:
        ph = src + dst + struct.pack(">BBH", 0, proto, length)
    else:
        ph = src + dst + struct.pack(">IxxxB", length, proto)
    return inet_sum(ph)


def l4_ok(src, dst, proto, seg):
    """True if seg (UDP/ICMPv6 header and data) carries a valid checksum."""
    return inet_sum(seg, pseudo_sum(src, dst, proto, len(seg))) == 0xFFFF


def mac_str(m):
    return ":".join(f"{x:02x}" for x in m)


def ip_str(ip):
    return str(ipaddress.ip_address(bytes(ip)))


ETH_ARP, ETH_IP4, ETH_IP6, ETH_VLAN, ETH_QINQ = 0x0806, 0x0800, 0x86DD, 0x8100, 0x88A8
PROTO_ICMP, PROTO_UDP, PROTO_ICMP6 = 1, 17, 58
BCAST = b"\xff" * 6


def solicited_node(ip6):
    return bytes.fromhex("ff0200000000000000000001ff") + bytes(ip6[13:])


# ---- the reference model of the frame layer (dpdk/dp_frame.h) --------------

class Iface:
    """What the test config says: the port and the tracker's parameters."""

    def __init__(self, mac="02:70:63:61:70:00", ip4="198.18.0.2", ip6="fd00:d::2",
                 ports=(6969,), secret="000102030405060708090a0b0c0d0e0f",
                 interval=1800, jitter=300, ttl=120, numwant_default=50, numwant_max=200):
        self.mac = bytes.fromhex(mac.replace(":", ""))
        self.ip4 = ipaddress.IPv4Address(ip4).packed
        self.ip6 = ipaddress.IPv6Address(ip6).packed
        self.snm6 = solicited_node(self.ip6)
        self.ports = set(ports)
        self.secret = bytes.fromhex(secret)
        self.interval, self.jitter, self.ttl = interval, jitter, ttl
        self.numwant_default, self.numwant_max = numwant_default, numwant_max


class Pkt:
    """One decoded frame: every layer's offsets and fields that were reached."""

    def __init__(self, raw):
        self.raw = bytes(raw)
        self.vlan = None     # the 4 tag bytes (0x8100 + TCI), kept in replies
        self.etype = None
        self.l3 = None       # offset of the ARP/IP header
        self.ip = None       # 4 or 6
        self.src_ip = self.dst_ip = None
        self.proto = None
        self.l4 = None       # offset of the transport header
        self.l4_end = None   # end of the IP datagram
        self.sport = self.dport = None
        self.payload = None  # UDP payload bytes


def parse_eth(p):
    """Fills the Ethernet fields; returns a drop reason or None."""
    b = p.raw
    if len(b) < 14:
        return "eth_short"
    p.dst, p.src = b[0:6], b[6:12]
    et, off = be16(b, 12), 14
    if et == ETH_VLAN:
        if len(b) < 18:
            return "eth_short"
        p.vlan = b[12:16]
        et, off = be16(b, 16), 18
    p.etype, p.l3 = et, off
    return None


def classify(ifc, raw):
    """Decides what dptrack must do with one frame. Returns (Pkt, verdict,
    detail): verdict 'drop' with the dp_drop_name() reason, 'reply' with
    'arp', 'echo4', 'echo6' or 'na', or 'udp' (a tracker datagram)."""
    p = Pkt(raw)
    if len(p.raw) < 14:
        return p, "drop", "eth_short"
    dst = p.raw[0:6]
    if dst != ifc.mac and dst != BCAST and dst[:2] != b"\x33\x33":
        return p, "drop", "eth_not_ours"
    r = parse_eth(p)  # a VLAN tag cut short
    if r:
        return p, "drop", r
    if p.etype == ETH_ARP:
        return classify_arp(ifc, p)
    if p.etype == ETH_IP4:
        return classify_ip4(ifc, p)
    if p.etype == ETH_IP6:
        return classify_ip6(ifc, p)
    return p, "drop", "ethertype"


def classify_arp(ifc, p):
    b, o = p.raw, p.l3
    if len(b) - o < 28:
        return p, "drop", "arp_malformed"
    htype, ptype, hlen, plen, op = struct.unpack_from(">HHBBH", b, o)
    if htype != 1 or ptype != ETH_IP4 or hlen != 6 or plen != 4:
        return p, "drop", "arp_malformed"
    if op != 1:
        return p, "drop", "arp_not_request"
    if b[o + 24:o + 28] != ifc.ip4:
        return p, "drop", "arp_not_ours"
    return p, "reply", "arp"


MAPPED6 = bytes(10) + b"\xff\xff"


def ip4_src_bad(ifc, src):
    # No client has these: 0/8, loopback, multicast, reserved and broadcast,
    # or the tracker's own address.
    return src[0] in (0, 127) or src[0] >= 224 or src == ifc.ip4


def ip6_src_bad(ifc, src, udp):
    # ::, ::1, multicast, IPv4-mapped (RFC 4291 2.5.5.2), ours; and for UDP
    # link-local, which no peer elsewhere could reach.
    if src[:15] == bytes(15) and src[15] <= 1:
        return True
    if src[0] == 0xFF or src[:12] == MAPPED6 or src == ifc.ip6:
        return True
    return udp and src[0] == 0xFE and (src[1] & 0xC0) == 0x80


def classify_ip4(ifc, p):
    b, o = p.raw, p.l3
    avail = len(b) - o
    if avail < 20 or b[o] >> 4 != 4:
        return p, "drop", "ip4_malformed"
    ihl = (b[o] & 15) * 4
    total = be16(b, o + 2)
    if ihl < 20 or ihl > avail or total < ihl or total > avail:
        return p, "drop", "ip4_malformed"
    if inet_sum(b[o:o + ihl]) != 0xFFFF:
        return p, "drop", "ip4_cksum"
    if be16(b, o + 6) & 0x3FFF:
        return p, "drop", "ip4_fragment"
    p.ip, p.src_ip, p.dst_ip, p.proto = 4, b[o + 12:o + 16], b[o + 16:o + 20], b[o + 9]
    p.l4, p.l4_end = o + ihl, o + total
    if p.dst_ip != ifc.ip4:
        return p, "drop", "ip4_not_ours"
    if ip4_src_bad(ifc, p.src_ip):
        return p, "drop", "ip_src"
    if p.proto == PROTO_UDP:
        return classify_udp(ifc, p)
    if p.proto == PROTO_ICMP:
        seg = b[p.l4:p.l4_end]
        if len(seg) < 8:
            return p, "drop", "icmp_malformed"
        if seg[0] != 8 or seg[1] != 0:
            return p, "drop", "icmp_type"
        if inet_sum(seg) != 0xFFFF:
            return p, "drop", "icmp_malformed"
        return p, "reply", "echo4"
    return p, "drop", "ip_proto"


def classify_ip6(ifc, p):
    b, o = p.raw, p.l3
    avail = len(b) - o
    if avail < 40 or b[o] >> 4 != 6:
        return p, "drop", "ip6_malformed"
    plen = be16(b, o + 4)
    if 40 + plen > avail:
        return p, "drop", "ip6_malformed"
    p.ip, p.proto = 6, b[o + 6]
    p.src_ip, p.dst_ip = b[o + 8:o + 24], b[o + 24:o + 40]
    p.hlim = b[o + 7]
    p.l4, p.l4_end = o + 40, o + 40 + plen
    if p.dst_ip != ifc.ip6 and p.dst_ip != ifc.snm6:
        return p, "drop", "ip6_not_ours"
    # The solicited-node group is ours for neighbour solicitations only.
    to_snm = p.dst_ip == ifc.snm6
    if p.proto == PROTO_UDP:
        if to_snm:
            return p, "drop", "ip6_not_ours"
        if ip6_src_bad(ifc, p.src_ip, True):
            return p, "drop", "ip_src"
        return classify_udp(ifc, p)
    if p.proto == PROTO_ICMP6:
        return classify_icmp6(ifc, p, to_snm)
    return p, "drop", "ip_proto"


def classify_icmp6(ifc, p, to_snm):
    # Where one frame has several faults, the reason is dptrack's first
    # check: type before checksum, so unwanted types cost no summing.
    seg = p.raw[p.l4:p.l4_end]
    if len(seg) < 4:
        return p, "drop", "icmp_malformed"
    if to_snm and seg[0] != 135:
        return p, "drop", "ip6_not_ours"
    if seg[0] not in (128, 135):
        return p, "drop", "icmp_type"
    if not l4_ok(p.src_ip, p.dst_ip, PROTO_ICMP6, seg):
        return p, "drop", "icmp_malformed"
    if seg[0] == 128:
        if len(seg) < 8:
            return p, "drop", "icmp_malformed"
        if seg[1] != 0:
            return p, "drop", "icmp_type"
        if ip6_src_bad(ifc, p.src_ip, False):
            return p, "drop", "ip_src"
        return p, "reply", "echo6"
    if p.hlim != 255 or seg[1] != 0 or len(seg) < 24:
        return p, "drop", "ndp_malformed"
    opt = 24
    while opt < len(seg):
        if len(seg) - opt < 2 or seg[opt + 1] == 0 or opt + seg[opt + 1] * 8 > len(seg):
            return p, "drop", "ndp_malformed"
        opt += seg[opt + 1] * 8
    if seg[8:24] != ifc.ip6 or p.src_ip == bytes(16):
        return p, "drop", "ndp_not_ours"
    return p, "reply", "na"


def classify_udp(ifc, p):
    b = p.raw
    seg = b[p.l4:p.l4_end]
    if len(seg) < 8:
        return p, "drop", "udp_malformed"
    ulen = be16(seg, 4)
    if ulen < 8 or ulen > len(seg):
        return p, "drop", "udp_malformed"
    # The port before the checksum: other ports' traffic costs no summing.
    p.sport, p.dport = be16(seg, 0), be16(seg, 2)
    if p.dport not in ifc.ports:
        return p, "drop", "udp_port"
    ck = be16(seg, 6)
    if p.ip == 6 and ck == 0:
        return p, "drop", "udp_cksum"
    if ck != 0 and not l4_ok(p.src_ip, p.dst_ip, PROTO_UDP, seg[:ulen]):
        return p, "drop", "udp_cksum"
    p.payload = seg[8:ulen]
    return p, "udp", None


# ---- the reference model of the tracker (core/tr_udp.c, core/ptab.h) -------

MSG_CONNID = b"connection id expired or invalid"
MSG_PORT = b"invalid port"
PROTOCOL_ID = 0x41727101980
EV_COMPLETED, EV_STOPPED = 1, 3
PAYLOAD_MAX = {4: 1472, 6: 1452}
SCRAPE_MAX = (1452 - 8) // 12


class Swarm:
    def __init__(self):
        self.peers = {}        # (ip bytes, port) -> seeder?
        self.completed = 0

    def counts(self):
        s = sum(1 for v in self.peers.values() if v)
        return s, len(self.peers) - s

    def of_family(self, fam, seeder, self_key):
        n = 4 if fam == 4 else 16
        return {k for k, v in self.peers.items()
                if len(k[0]) == n and v == seeder and k != self_key}


def plan_pick(want, seeder, avail_s, avail_l):
    """core/ptab.c plan_pick(): (seeders, leechers) an announce gets."""
    if seeder:
        return 0, min(want, avail_l)
    if avail_s + avail_l <= want:
        return avail_s, avail_l
    s = (want * avail_s + (avail_s + avail_l) // 2) // (avail_s + avail_l)
    lee = min(want - s, avail_l)
    s = min(want - lee, avail_s)
    return s, lee


class Tracker:
    """What the peer table holds, request by request."""

    def __init__(self, ifc):
        self.ifc = ifc
        self.swarms = {}

    def handle(self, src_ip, payload, now):
        """Returns (counters, expectation) for one BEP 15 datagram; the
        expectation is None for no reply, else a dict describing the reply."""
        b = payload
        if len(b) < 16:
            return ["udp_err_malformed", "udp_bad_short"], None
        cid, action, tid = b[0:8], be32(b, 8), be32(b, 12)
        bad = None
        if action == 0:
            if int.from_bytes(cid, "big") != PROTOCOL_ID:
                bad = "protocol_id"
        elif action == 1:
            if len(b) < 98:
                bad = "short"
            elif be32(b, 80) > EV_STOPPED:
                bad = "event"
        elif action == 2:
            body = len(b) - 16
            bad = "scrape_len" if body % 20 else "short" if body == 0 else None
        else:
            bad = "action"
        if bad:
            return ["udp_err_malformed", "udp_bad_" + bad], None
        exp = {"tid": tid, "req_len": len(b)}
        if action == 0:
            exp.update(action=0, connid=connid(self.ifc.secret, now, src_ip), unauth=True)
            return ["udp_connect"], exp
        if not connid_valid(self.ifc.secret, cid, now, src_ip, self.ifc.ttl):
            exp.update(action=3, msg=MSG_CONNID, unauth=True)
            return ["udp_err_connection_id"], exp
        if action == 2:
            hashes = [b[16 + 20 * i:36 + 20 * i] for i in range((len(b) - 16) // 20)]
            exp.update(action=2, entries=[self.scrape(h) for h in hashes[:SCRAPE_MAX]])
            return ["udp_scrape"], exp
        return self.announce(src_ip, b, exp)

    def scrape(self, h):
        sw = self.swarms.get(h)
        if sw is None:
            return (0, 0, 0), False
        s, lee = sw.counts()
        # A swarm left empty may be swept (and its completed count lost)
        # whenever the control loop gets to it: either value is right.
        return (s, sw.completed, lee), not sw.peers

    def announce(self, src_ip, b, exp):
        port = be16(b, 96)
        if port == 0:
            exp.update(action=3, msg=MSG_PORT)
            return ["udp_err_port"], exp
        h, left, event = b[16:36], struct.unpack_from(">Q", b, 64)[0], be32(b, 80)
        numwant = struct.unpack_from(">i", b, 92)[0]
        fam = 4 if len(src_ip) == 4 else 6
        plen = 6 if fam == 4 else 18
        fits = (PAYLOAD_MAX[fam] - 20) // plen
        want = self.ifc.numwant_default if numwant < 0 else numwant
        want = min(want, self.ifc.numwant_max, fits)
        seeder, key = left == 0, (bytes(src_ip), port)
        sw = self.swarms.get(h)
        pick = (set(), set(), 0, 0)
        if event == EV_STOPPED:
            if sw is not None:
                sw.peers.pop(key, None)
        else:
            if sw is None:
                sw = self.swarms[h] = Swarm()
            was = sw.peers.get(key)
            sw.peers[key] = seeder
            if event == EV_COMPLETED and seeder and was is not True:
                sw.completed += 1
            pool_s = sw.of_family(fam, True, key)
            pool_l = sw.of_family(fam, False, key)
            ns, nl = plan_pick(want, seeder, len(pool_s), len(pool_l))
            pick = (pool_s, pool_l, ns, nl)
        counts = sw.counts() if sw is not None else (0, 0)
        exp.update(action=1, seeders=counts[0], leechers=counts[1], plen=plen,
                   pools=pick, self_key=key)
        return ["udp_announce"], exp


# ---- walking the input --------------------------------------------------------

class Expect:
    """One input frame and what must come of it."""

    def __init__(self, idx, rec, pkt, verdict, detail, counters, udp=None):
        self.idx, self.rec, self.pkt = idx, rec, pkt
        self.verdict, self.detail = verdict, detail
        self.counters, self.udp = counters, udp

    @property
    def replies(self):
        return self.verdict == "reply" or (self.verdict == "udp" and self.udp is not None)

    def what(self):
        if self.verdict == "drop":
            return "drop " + self.detail
        if self.verdict == "reply":
            return "reply " + self.detail
        if self.udp is None:
            return "no reply (" + ", ".join(self.counters) + ")"
        return f"BEP 15 reply action {self.udp['action']}"


def model(ifc, in_recs):
    """Runs the model over the input. Returns [Expect] and the counters."""
    tr = Tracker(ifc)
    out, counters = [], {"rx_packets": len(in_recs)}
    for i, rec in enumerate(in_recs):
        pkt, verdict, detail = classify(ifc, rec[2])
        names, udp = [], None
        if verdict == "drop":
            names = ["drop_" + detail]
        elif verdict == "udp":
            names, udp = tr.handle(pkt.src_ip, pkt.payload, rec[0])
        e = Expect(i, rec, pkt, verdict, detail, names, udp)
        if e.replies:
            names = names + ["tx_packets"]
        for n in names:
            counters[n] = counters.get(n, 0) + 1
        out.append(e)
    counters.setdefault("tx_packets", 0)
    return out, counters


# ---- judging one reply --------------------------------------------------------

class Judge:
    def __init__(self, ifc, exp, raw):
        self.ifc, self.exp, self.raw, self.errs = ifc, exp, bytes(raw), []

    def need(self, cond, msg):
        if not cond:
            self.errs.append(msg)
        return cond

    def run(self):
        q, b = self.exp.pkt, self.raw
        o = q.l3
        if not self.need(len(b) >= o, f"{len(b)} bytes, shorter than the request's L2 header"):
            return self.errs
        self.need(b[0:6] == q.src, f"eth dst {mac_str(b[0:6])}, not the request's source {mac_str(q.src)}")
        self.need(b[6:12] == self.ifc.mac, f"eth src {mac_str(b[6:12])}, not the port's {mac_str(self.ifc.mac)}")
        if q.vlan:
            self.need(b[12:16] == q.vlan, f"VLAN tag {b[12:16].hex()}, request had {q.vlan.hex()}")
        else:
            self.need(be16(b, 12) != ETH_VLAN, "reply carries a VLAN tag the request did not")
        self.need(be16(b, o - 2) == q.etype, f"ethertype {be16(b, o - 2):#06x}, not {q.etype:#06x}")
        kind = self.exp.detail if self.exp.verdict == "reply" else "udp"
        getattr(self, "judge_" + kind)(o)
        return self.errs

    def judge_arp(self, o):
        b, q = self.raw, self.exp.pkt.raw
        if not self.need(len(b) - o >= 28, "ARP reply short"):
            return
        self.need(b[o:o + 6] == bytes.fromhex("000108000604"), "ARP reply not Ethernet/IPv4")
        self.need(be16(b, o + 6) == 2, f"ARP opcode {be16(b, o + 6)}, not 2 (reply)")
        self.need(b[o + 8:o + 14] == self.ifc.mac, "ARP sender MAC is not the port's")
        self.need(b[o + 14:o + 18] == self.ifc.ip4, "ARP sender IP is not ours")
        self.need(b[o + 18:o + 24] == q[o + 8:o + 14], "ARP target MAC is not the asker's")
        self.need(b[o + 24:o + 28] == q[o + 14:o + 18], "ARP target IP is not the asker's")
        self.need(len(b) <= max(60, o + 28), f"ARP reply {len(b)} bytes long")

    def ip_common(self, o, proto):
        """Checks the IP header of a reply; returns (l4 offset, l4 end) or None."""
        b, q = self.raw, self.exp.pkt
        if q.ip == 4:
            if not self.need(len(b) - o >= 20 and b[o] >> 4 == 4 and b[o] & 15 >= 5, "bad IPv4 header"):
                return None
            ihl, total = (b[o] & 15) * 4, be16(b, o + 2)
            ok = self.need(ihl <= total <= len(b) - o, f"IPv4 total length {total} vs {len(b) - o} bytes")
            self.need(ok and inet_sum(b[o:o + ihl]) == 0xFFFF, "IPv4 header checksum wrong")
            self.need(be16(b, o + 6) & 0x3FFF == 0, "reply is a fragment")
            self.need(b[o + 8] > 0, "IPv4 TTL 0")
            self.need(b[o + 9] == proto, f"IPv4 protocol {b[o + 9]}, not {proto}")
            self.need(b[o + 12:o + 16] == q.dst_ip, "IPv4 source is not the request's destination")
            self.need(b[o + 16:o + 20] == q.src_ip, "IPv4 destination is not the request's source")
            l4, end = o + ihl, o + total
        else:
            if not self.need(len(b) - o >= 40 and b[o] >> 4 == 6, "bad IPv6 header"):
                return None
            plen = be16(b, o + 4)
            ok = self.need(40 + plen <= len(b) - o, f"IPv6 payload length {plen} vs {len(b) - o - 40} bytes")
            self.need(b[o + 6] == proto, f"IPv6 next header {b[o + 6]}, not {proto}")
            self.need(b[o + 7] > 0, "IPv6 hop limit 0")
            self.need(b[o + 8:o + 24] == self.ifc.ip6, f"IPv6 source {ip_str(b[o + 8:o + 24])}, not ours")
            self.need(b[o + 24:o + 40] == q.src_ip, "IPv6 destination is not the request's source")
            if not ok:
                return None
            l4, end = o + 40, o + 40 + plen
        # Only Ethernet's minimum-frame padding may follow the datagram.
        self.need(end == len(b) or len(b) <= 60, f"{len(b) - end} bytes after the IP datagram")
        return l4, end

    def judge_echo4(self, o):
        r = self.ip_common(o, PROTO_ICMP)
        if r is None:
            return
        q = self.exp.pkt
        seg, qseg = self.raw[r[0]:r[1]], q.raw[q.l4:q.l4_end]
        self.need(inet_sum(seg) == 0xFFFF, "ICMP checksum wrong")
        self.need(seg[:2] == b"\0\0", f"ICMP type/code {seg[0]}/{seg[1]}, not echo reply 0/0")
        self.need(seg[4:] == qseg[4:], "echo reply id, sequence or data differ from the request")

    def judge_echo6(self, o):
        r = self.ip_common(o, PROTO_ICMP6)
        if r is None:
            return
        q = self.exp.pkt
        seg, qseg = self.raw[r[0]:r[1]], q.raw[q.l4:q.l4_end]
        self.need(l4_ok(self.ifc.ip6, q.src_ip, PROTO_ICMP6, seg), "ICMPv6 checksum wrong")
        self.need(seg[:2] == b"\x81\0", f"ICMPv6 type/code {seg[0]}/{seg[1]}, not echo reply 129/0")
        self.need(seg[4:] == qseg[4:], "echo reply id, sequence or data differ from the request")

    def judge_na(self, o):
        r = self.ip_common(o, PROTO_ICMP6)
        if r is None:
            return
        q = self.exp.pkt
        seg = self.raw[r[0]:r[1]]
        self.need(self.raw[o + 7] == 255, f"NA hop limit {self.raw[o + 7]}, not 255")
        if not self.need(len(seg) >= 32, f"NA of {len(seg)} bytes: no room for the TLLA option"):
            return
        self.need(l4_ok(self.ifc.ip6, q.src_ip, PROTO_ICMP6, seg), "ICMPv6 checksum wrong")
        self.need(seg[:2] == b"\x88\0", f"ICMPv6 type/code {seg[0]}/{seg[1]}, not NA 136/0")
        self.need(seg[4] & 0xE0 == 0x60, f"NA flags {seg[4]:#04x}: want S and O, not R")
        self.need(seg[8:24] == self.ifc.ip6, "NA target is not our address")
        opts, tlla = seg[24:], None
        while len(opts) >= 8 and opts[1]:
            if opts[0] == 2 and opts[1] == 1:
                tlla = opts[2:8]
            opts = opts[opts[1] * 8:]
        self.need(tlla == self.ifc.mac, "NA has no target link-layer address option with the port's MAC")

    def judge_udp(self, o):
        r = self.ip_common(o, PROTO_UDP)
        if r is None:
            return
        q, b = self.exp.pkt, self.raw
        seg = b[r[0]:r[1]]
        if q.ip == 4 and r[0] > o + 20:
            # dp_frame.c: a UDP reply keeps the IHL, every option byte NOP.
            self.need(set(b[o + 20:r[0]]) == {1}, f"request's IPv4 options echoed: {b[o + 20:r[0]].hex()}")
        if not self.need(len(seg) >= 8, "UDP header cut short"):
            return
        self.need(be16(seg, 0) == q.dport and be16(seg, 2) == q.sport,
                  f"UDP ports {be16(seg, 0)}->{be16(seg, 2)}, request was {q.sport}->{q.dport}")
        self.need(be16(seg, 4) == len(seg), f"UDP length {be16(seg, 4)}, datagram is {len(seg)}")
        self.need(be16(seg, 6) != 0 and l4_ok(q.dst_ip, q.src_ip, PROTO_UDP, seg),
                  f"UDP checksum {be16(seg, 6):#06x} wrong")
        self.judge_bep15(seg[8:])

    def judge_bep15(self, pl):
        x = self.exp.udp
        if not self.need(len(pl) >= 8, f"BEP 15 reply of {len(pl)} bytes"):
            return
        action, tid = be32(pl, 0), be32(pl, 4)
        self.need(tid == x["tid"], f"transaction id {tid:#x}, request had {x['tid']:#x}")
        if not self.need(action == x["action"], f"action {action}, want {x['action']}"):
            return
        if x.get("unauth"):
            self.need(len(pl) <= x["req_len"], f"{len(pl)}-byte reply to an unauthenticated {x['req_len']}-byte request")
        if action == 0:
            self.need(len(pl) == 16, f"connect reply of {len(pl)} bytes")
            self.need(pl[8:16] == x["connid"], f"connection id {pl[8:16].hex()}, SipHash gives {x['connid'].hex()}")
        elif action == 3:
            want = x["msg"][:x["req_len"] - 8] if x.get("unauth") else x["msg"]
            self.need(pl[8:] == want, f"error message {pl[8:]!r}, want {want!r}")
        elif action == 2:
            self.judge_scrape(pl, x)
        elif action == 1:
            self.judge_announce(pl, x)

    def judge_scrape(self, pl, x):
        ents = x["entries"]
        if not self.need(len(pl) == 8 + 12 * len(ents), f"scrape reply of {len(pl)} bytes for {len(ents)} hashes"):
            return
        for i, ((s, c, lee), empty) in enumerate(ents):
            got = struct.unpack_from(">III", pl, 8 + 12 * i)
            ok = got == (s, c, lee) or (empty and got == (0, 0, 0))
            self.need(ok, f"scrape entry {i}: seeders/completed/leechers {got}, want {(s, c, lee)}")

    def judge_announce(self, pl, x):
        ifc = self.ifc
        if not self.need(len(pl) >= 20, "announce reply shorter than 20 bytes"):
            return
        interval, leechers, seeders = struct.unpack_from(">III", pl, 8)
        self.need(ifc.interval <= interval <= ifc.interval + ifc.jitter,
                  f"interval {interval} outside [{ifc.interval}, {ifc.interval + ifc.jitter}]")
        self.need((seeders, leechers) == (x["seeders"], x["leechers"]),
                  f"seeders/leechers {seeders}/{leechers}, want {x['seeders']}/{x['leechers']}")
        plen = x["plen"]
        if not self.need((len(pl) - 20) % plen == 0, f"peer list of {len(pl) - 20} bytes, not {plen}-byte peers"):
            return
        pool_s, pool_l, ns, nl = x["pools"]
        got = [(pl[i:i + plen - 2], be16(pl, i + plen - 2)) for i in range(20, len(pl), plen)]
        self.need(len(set(got)) == len(got), "a peer appears twice")
        self.need(x["self_key"] not in got, "the announcer is among its own peers")
        gs = sum(1 for g in got if g in pool_s)
        gl = sum(1 for g in got if g in pool_l)
        strangers = [f"{ip_str(g[0])}:{g[1]}" for g in got if g not in pool_s and g not in pool_l]
        self.need(not strangers, f"peers not in the swarm (as seeder/leecher of this family): {strangers}")
        self.need((gs, gl) == (ns, nl), f"{gs} seeders + {gl} leechers returned, want {ns} + {nl}")


# ---- matching replies to requests -----------------------------------------------

def reply_key(raw):
    """What ties a reply to its request: (dst MAC, dst IP, a flow key)."""
    p = Pkt(raw)
    if parse_eth(p):
        return None
    b, o = p.raw, p.l3
    try:
        if p.etype == ETH_ARP:
            return (p.dst, b[o + 24:o + 28], "arp")
        if p.etype == ETH_IP4:
            ihl = (b[o] & 15) * 4
            dst, proto, l4 = b[o + 16:o + 20], b[o + 9], o + ihl
        elif p.etype == ETH_IP6:
            dst, proto, l4 = b[o + 24:o + 40], b[o + 6], o + 40
        else:
            return None
        if proto == PROTO_UDP:
            return (p.dst, dst, "udp", be16(b, l4 + 2), b[l4 + 12:l4 + 16])
        if proto == PROTO_ICMP or (proto == PROTO_ICMP6 and b[l4] != 136):
            return (p.dst, dst, "echo", b[l4 + 4:l4 + 8])
        return (p.dst, dst, "na")
    except (IndexError, struct.error):
        return None


def request_key(e):
    q = e.pkt
    try:
        if q.etype == ETH_ARP:
            return (q.src, q.raw[q.l3 + 14:q.l3 + 18], "arp")
        if q.proto == PROTO_UDP:
            return (q.src, q.src_ip, "udp", be16(q.raw, q.l4), q.raw[q.l4 + 20:q.l4 + 24])
        if q.proto in (PROTO_ICMP, PROTO_ICMP6):
            if q.proto == PROTO_ICMP6 and q.raw[q.l4] == 135:
                return (q.src, q.src_ip, "na")
            return (q.src, q.src_ip, "echo", q.raw[q.l4 + 4:q.l4 + 8])
    except (IndexError, struct.error, TypeError):
        pass
    return None


def check(ifc, in_recs, out_recs):
    """Returns (errors, pairs, counters): errors as text, pairs as
    [(input index, output index)] of matched replies, the model's counters."""
    exps, counters = model(ifc, in_recs)
    want = [e for e in exps if e.replies]
    errs, pairs, w = [], [], 0
    for k, rec in enumerate(out_recs):
        key = reply_key(rec[2])
        # The next expected reply should be this one; if a later one is, the
        # ones in between were never answered.
        j = next((j for j in range(w, len(want)) if request_key(want[j]) == key), None)
        if j is None:
            cand = [e for e in exps if not e.replies and request_key(e) == key and key]
            if cand:
                errs.append(f"output #{k}: answers input #{cand[0].idx}, which must get "
                            f"{cand[0].what()}")
            else:
                errs.append(f"output #{k}: answers no request left to answer")
            continue
        for e in want[w:j]:
            errs.append(f"input #{e.idx}: no reply, want {e.what()}")
        e, w = want[j], j + 1
        pairs.append((e.idx, k))
        for msg in Judge(ifc, e, rec[2]).run():
            errs.append(f"output #{k} (reply to input #{e.idx}): {msg}")
    for e in want[w:]:
        errs.append(f"input #{e.idx}: no reply, want {e.what()}")
    return errs, pairs, counters


# ---- printing frames ------------------------------------------------------------

def describe(raw):
    """One line per frame, layer by layer, for failure messages."""
    p = Pkt(raw)
    b = p.raw
    out = [f"{len(b)} bytes"]
    try:
        if parse_eth(p) == "eth_short":
            return out[0] + ", too short for Ethernet"
        out.append(f"eth {mac_str(p.src)} > {mac_str(p.dst)}")
        if p.vlan:
            out.append(f"802.1Q pcp {p.vlan[2] >> 5} vid {be16(p.vlan, 2) & 0xFFF}")
        o = p.l3
        if p.etype == ETH_ARP:
            out.append(f"ARP op {be16(b, o + 6)} {mac_str(b[o + 8:o + 14])} {ip_str(b[o + 14:o + 18])}"
                       f" > {mac_str(b[o + 18:o + 24])} {ip_str(b[o + 24:o + 28])}")
            return " | ".join(out)
        if p.etype == ETH_IP4:
            ihl = (b[o] & 15) * 4
            out.append(f"IPv4 {ip_str(b[o + 12:o + 16])} > {ip_str(b[o + 16:o + 20])} ihl {ihl}"
                       f" len {be16(b, o + 2)} frag {be16(b, o + 6):#06x} ttl {b[o + 8]}"
                       f" proto {b[o + 9]} cksum {be16(b, o + 10):#06x}")
            proto, l4, end = b[o + 9], o + ihl, o + be16(b, o + 2)
        elif p.etype == ETH_IP6:
            out.append(f"IPv6 {ip_str(b[o + 8:o + 24])} > {ip_str(b[o + 24:o + 40])}"
                       f" plen {be16(b, o + 4)} nh {b[o + 6]} hlim {b[o + 7]}")
            proto, l4, end = b[o + 6], o + 40, o + 40 + be16(b, o + 4)
        else:
            out.append(f"ethertype {p.etype:#06x}")
            return " | ".join(out)
        if proto == PROTO_UDP:
            out.append(f"UDP {be16(b, l4)} > {be16(b, l4 + 2)} len {be16(b, l4 + 4)}"
                       f" cksum {be16(b, l4 + 6):#06x}")
            pl = b[l4 + 8:min(end, l4 + be16(b, l4 + 4))]
            out.append(describe_bep15(pl, request=be16(b, l4 + 2) in BEP15_PORTS))
        elif proto in (PROTO_ICMP, PROTO_ICMP6):
            out.append(f"ICMP{'v6' if proto == PROTO_ICMP6 else ''} type {b[l4]} code {b[l4 + 1]}"
                       f" cksum {be16(b, l4 + 2):#06x} {b[l4 + 4:l4 + 8].hex()}")
    except (IndexError, struct.error, ValueError):
        out.append("(cut short)")
    return " | ".join(out)


BEP15_PORTS = (6969,)  # a datagram to one of these is a request, from one a reply


def describe_bep15(pl, request):
    if len(pl) < (16 if request else 8):
        return f"BEP 15 {'request' if request else 'reply'}? {len(pl)} bytes {pl.hex()}"
    if request:
        s = f"BEP 15 request cid {pl[:8].hex()} action {be32(pl, 8)} tid {be32(pl, 12):#x}, {len(pl)} bytes"
        if be32(pl, 8) == 1 and len(pl) >= 98:
            s += (f" hash {pl[16:36].hex()[:8]}.. left {struct.unpack_from('>Q', pl, 64)[0]}"
                  f" event {be32(pl, 80)} numwant {struct.unpack_from('>i', pl, 92)[0]}"
                  f" port {be16(pl, 96)}")
        return s
    action, tid = be32(pl, 0), be32(pl, 4)
    s = f"BEP 15 reply action {action} tid {tid:#x}, {len(pl)} bytes"
    if action == 0 and len(pl) >= 16:
        s += f" cid {pl[8:16].hex()}"
    elif action == 1 and len(pl) >= 20:
        s += f" interval {be32(pl, 8)} leechers {be32(pl, 12)} seeders {be32(pl, 16)} peers {pl[20:].hex()}"
    elif action == 2:
        s += " " + " ".join(str(struct.unpack_from(">III", pl, i)) for i in range(8, len(pl) - 11, 12))
    elif action == 3:
        s += f" {pl[8:]!r}"
    return s


def iface_from_args(a):
    return Iface(mac=a.mac, ip4=a.ip4, ip6=a.ip6, ports=a.ports, secret=a.secret,
                 interval=a.interval, jitter=a.jitter, ttl=a.ttl)


def add_iface_args(ap):
    ap.add_argument("--mac", default="02:70:63:61:70:00", help="the port's MAC (net_pcap's default)")
    ap.add_argument("--ip4", default="198.18.0.2")
    ap.add_argument("--ip6", default="fd00:d::2")
    ap.add_argument("--ports", type=int, nargs="+", default=[6969])
    ap.add_argument("--secret", default="000102030405060708090a0b0c0d0e0f")
    ap.add_argument("--interval", type=int, default=1800)
    ap.add_argument("--jitter", type=int, default=300)
    ap.add_argument("--ttl", type=int, default=120)


def self_test():
    """The SipHash paper's vector (appendix A) and a few checksum facts."""
    key, msg = bytes(range(16)), bytes(range(15))
    # The paper gives the 64-bit result; libsodium stores it little-endian.
    got = siphash24(key, msg)
    assert int.from_bytes(got, "little") == 0xA129CA6149BE45E5, got.hex()
    assert got.hex() == "e545be4961ca29a1", got.hex()
    # RFC 1071's example sum: 0x0001 0xf203 0xf4f5 0xf6f7 -> 0xddf2.
    assert inet_sum(bytes.fromhex("0001f203f4f5f6f7")) == 0xDDF2
    assert connid(key, 1700000000, bytes(4))[:4] == (1700000000).to_bytes(4, "big")
    cid = connid(key, 1700000000, bytes([198, 18, 0, 10]))
    assert connid_valid(key, cid, 1700000120, bytes([198, 18, 0, 10]), 120)
    assert not connid_valid(key, cid, 1700000121, bytes([198, 18, 0, 10]), 120)
    assert not connid_valid(key, cid, 1699999999, bytes([198, 18, 0, 10]), 120)
    assert not connid_valid(key, cid, 1700000000, bytes([198, 18, 0, 11]), 120)
    assert plan_pick(3, False, 2, 6) == (1, 2)
    print("check.py self-test: ok")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input", nargs="?")
    ap.add_argument("output", nargs="?")
    ap.add_argument("--predict", action="store_true", help="print the model's counters for INPUT")
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each input's expected fate")
    add_iface_args(ap)
    a = ap.parse_args()
    if a.self_test:
        self_test()
        return 0
    if not a.input or (not a.predict and not a.output):
        ap.error("need IN and OUT (or --predict IN)")
    ifc = iface_from_args(a)
    in_recs = read_pcap(a.input)
    if a.predict:
        exps, counters = model(ifc, in_recs)
        if a.verbose:
            for e in exps:
                print(f"# input #{e.idx}: {e.what()}")
        for k in sorted(counters):
            print(f"counter {k} {counters[k]}")
        return 0
    errs, pairs, _ = check(ifc, in_recs, read_pcap(a.output))
    for e in errs:
        print("check.py: " + e)
    print(f"check.py: {len(pairs)} replies judged, {len(errs)} problems")
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
