#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""gen-pcap.py - writes the pcap suite's inputs and what dptrack must make of them.

Usage:
  scripts/gen-pcap.py [NAME...]                  write pcap/NAME.in.pcap and
                                                 pcap/NAME.counters
  scripts/gen-pcap.py --expected DPTRACK [NAME...]
                                                 also run DPTRACK on each input
                                                 and write pcap/NAME.out.pcap,
                                                 only if test/pcap/check.py
                                                 accepts the output and the
                                                 counters match
  scripts/gen-pcap.py --xdp                      write only pcap/xdp.in.pcap and
                                                 pcap/xdp.verdicts (also written
                                                 when no NAME is given)
  scripts/gen-pcap.py --list                     print the scenarios

Every input is deterministic: fixed timestamps from 1700000000, fixed MACs,
clients 198.18.0.10.. and fd00:d::10.. (routed ones from 198.19.0.0/16 and
fd00:e::/64 behind a router MAC), the tracker at 198.18.0.2 and fd00:d::2
behind net_pcap's MAC, seeded randomness. Valid announces and scrapes carry
the connection id dptrack issues (core/connid.c): this script computes it,
so a static capture can hold whole connect -> announce -> scrape flows.

NAME.counters lists the counters dptrack must print for the input (`counter
NAME VALUE`), from what this script knows it put in: every frame is added
with its fate (dropped and why, answered, which tracker counter moves).
test/pcap/check.py derives the same from the frames alone; test/pcap/run.py
holds dptrack to both.

xdp.in.pcap holds every frame of the scenarios and frames of its own, and
xdp.verdicts what the XDP program of shared ports (dpdk/xdp/dp_xdp_prog.c)
must do with each, configured with the tracker's addresses and UDP ports
XDP_PORTS: a line per frame, `INDEX redirect tracker` or `INDEX pass
REASON`, then a note. The unit test test_dp_xdp runs the program on them
with BPF_PROG_TEST_RUN.

Needs python3-scapy (frames are built with scapy, then bent by hand where a
scenario wants a lie).
"""

import argparse
import collections
import importlib.util
import logging
import os
import random
import struct
import sys

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
try:
    from scapy.layers.inet import ICMP, IP, TCP, UDP, IPOption
    from scapy.layers.inet6 import (ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6ND_NA,
                                    ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, IPv6,
                                    IPv6ExtHdrFragment, IPv6ExtHdrHopByHop)
    from scapy.layers.l2 import ARP, Dot1Q, Ether
    from scapy.packet import Raw
except ImportError as e:
    sys.exit(f"gen-pcap: {e}: needs scapy (Debian: apt-get install python3-scapy; "
             f"run it with the system's /usr/bin/python3)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load(name, rel):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, rel))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


check = _load("pcap_check", "test/pcap/check.py")

T0 = 1700000000
PORT_MAC = "02:70:63:61:70:00"  # net_pcap's MAC for the first pcap port
TRACKER4, TRACKER6 = "198.18.0.2", "fd00:d::2"
SNM6, SNM6_MAC = "ff02::1:ff00:2", "33:33:ff:00:00:02"
ROUTER_MAC = "02:00:00:00:00:01"
SECRET = bytes.fromhex("000102030405060708090a0b0c0d0e0f")  # udp.connection_id_secret
UDP_PORT = 6969
BCAST = "ff:ff:ff:ff:ff:ff"
PROTOCOL_ID = 0x41727101980
EV_NONE, EV_COMPLETED, EV_STARTED, EV_STOPPED = 0, 1, 2, 3
TTL = 120  # udp.connection_id_ttl

H1 = bytes.fromhex("11" * 20)
H2 = bytes.fromhex("22" * 20)
H3 = bytes.fromhex("33" * 20)  # never announced
H4 = bytes.fromhex("44" * 20)


def ip_bytes(ip):
    return check.ipaddress.ip_address(ip).packed


# ---- a capture being written ----------------------------------------------

class Scenario:
    """Frames with their timestamps, and the counters they must move."""

    def __init__(self, name):
        self.name = name
        self.recs = []
        self.notes = []
        self.counters = collections.Counter()
        self.sec = 0
        self.usec = 0
        self.tid = 0x7E570000

    def at(self, sec):
        """Moves the clock to T0 + sec (never back)."""
        assert sec >= self.sec, "time runs forward"
        if sec != self.sec:
            self.sec, self.usec = sec, 0

    @property
    def now(self):
        return T0 + self.sec

    def next_tid(self):
        self.tid += 1
        return self.tid

    def add(self, frame, note, drop=None, reply=False, count=()):
        """Appends one frame. drop: the dp_drop_name() reason it is dropped
        for; reply: dptrack answers it; count: tracker counters it moves."""
        # Microseconds stay well under half a second, so the clock reads
        # T0 + sec whether dptrack truncates or rounds.
        self.usec += 1000
        assert self.usec < 400000, "too many frames in one second"
        self.recs.append((self.now, self.usec, bytes(frame)))
        self.notes.append(note)
        self.counters["rx_packets"] += 1
        if drop:
            assert not reply
            self.counters["drop_" + drop] += 1
        if reply:
            self.counters["tx_packets"] += 1
        for c in count:
            self.counters[c] += 1

    def drop(self, frame, reason, note=None):
        self.add(frame, note or reason, drop=reason)


def eth(dst, src, vlan=None):
    """Ethernet header, behind an 802.1Q tag when vlan is (prio, vid)."""
    e = Ether(dst=dst, src=src)
    return e / Dot1Q(prio=vlan[0], vlan=vlan[1]) if vlan else e


def patch(raw, off, data):
    raw = bytearray(raw)
    raw[off:off + len(data)] = data
    return bytes(raw)


def ip4_refix(raw, l3=14):
    """Recomputes the IPv4 header checksum after a patch."""
    ihl = (raw[l3] & 15) * 4
    raw = patch(raw, l3 + 10, b"\0\0")
    return patch(raw, l3 + 10, struct.pack(">H", check.inet_cksum(raw[l3:l3 + ihl])))


# ---- BEP 15 requests --------------------------------------------------------

def bep15_connect(tid, magic=PROTOCOL_ID):
    return struct.pack(">QII", magic, 0, tid)


def bep15_announce(cid, tid, h, peer_id, left, event, numwant, port, key=0x1234, downloaded=0,
                   uploaded=0, options=b""):
    return (cid + struct.pack(">II", 1, tid) + h + peer_id +
            struct.pack(">QQQIIIiH", downloaded, left, uploaded, event, 0, key, numwant, port) +
            options)


def bep15_scrape(cid, tid, hashes):
    return cid + struct.pack(">II", 2, tid) + b"".join(hashes)


class Client:
    """A BEP 15 client: its frames, its connection id, its announce port."""

    def __init__(self, sc, n, fam=4, ip=None, mac=None, vlan=None):
        self.sc, self.n, self.fam, self.vlan = sc, n, fam, vlan
        if ip is None:
            ip = f"198.18.0.{10 + n}" if fam == 4 else f"fd00:d::{0x10 + n:x}"
        self.ip, self.ipb = ip, ip_bytes(ip)
        self.mac = mac or f"02:00:00:00:{fam:02x}:{10 + n:02x}"
        self.sport = 6881 + n
        self.peer_port = 51413 + n  # announced, so peers differ from UDP source ports
        self.peer_id = b"-GP0001-" + f"{fam}{n:011d}".encode()
        self.cid = self.cid_at = None

    def frame(self, payload, cksum=None, pad_to=0, options=None):
        if self.fam == 4:
            # DF set, as Linux sends UDP; options only when asked for.
            ip = IP(src=self.ip, dst=TRACKER4, flags="DF", options=options or [])
        else:
            ip = IPv6(src=self.ip, dst=TRACKER6)
        u = UDP(sport=self.sport, dport=UDP_PORT) if cksum is None else \
            UDP(sport=self.sport, dport=UDP_PORT, chksum=cksum)
        raw = bytes(eth(PORT_MAC, self.mac, self.vlan) / ip / u / Raw(payload))
        return raw + bytes(max(0, pad_to - len(raw)))

    def send(self, payload, note, ok_counter=None, reply=True, **kw):
        self.sc.add(self.frame(payload, **kw), f"{self.ip}: {note}", reply=reply,
                    count=[ok_counter] if ok_counter else [])

    def send_bad(self, payload, note, reason, **kw):
        """A datagram the BEP 15 codec refuses: no reply, counted by reason."""
        self.sc.add(self.frame(payload, **kw), f"{self.ip}: {note}",
                    count=["udp_err_malformed", "udp_bad_" + reason])

    def connect(self, **kw):
        self.send(bep15_connect(self.sc.next_tid()), "connect", "udp_connect", **kw)
        self.cid = check.connid(SECRET, self.sc.now, self.ipb)
        self.cid_at = self.sc.now

    def announce(self, h, left, event=EV_STARTED, numwant=-1, cid=None, port=None, options=b"",
                 expect="ok", **kw):
        """expect: 'ok', 'connid' (error reply: bad id), 'port' (error reply:
        port 0) or a udp_bad_ reason (dropped by the codec)."""
        cid = self.cid if cid is None else cid
        port = self.peer_port if port is None else port
        if expect == "ok":
            assert cid == self.cid and self.sc.now - self.cid_at <= TTL, "a valid id expected"
        pl = bep15_announce(cid, self.sc.next_tid(), h, self.peer_id, left, event, numwant, port,
                            options=options)
        self.send_expect(pl, f"announce {h[:1].hex()} left={left} event={event} numwant={numwant}"
                         f" {expect}", "udp_announce", expect, **kw)

    def scrape(self, hashes, cid=None, expect="ok", **kw):
        cid = self.cid if cid is None else cid
        if expect == "ok":
            assert cid == self.cid and self.sc.now - self.cid_at <= TTL, "a valid id expected"
        pl = bep15_scrape(cid, self.sc.next_tid(), hashes)
        self.send_expect(pl, f"scrape {len(hashes)} {expect}", "udp_scrape", expect, **kw)

    def send_expect(self, pl, note, ok_counter, expect, **kw):
        if expect == "ok":
            self.send(pl, note, ok_counter, **kw)
        elif expect in ("connid", "port"):
            name = "udp_err_connection_id" if expect == "connid" else "udp_err_port"
            self.send(pl, note, name, **kw)
        else:
            self.send_bad(pl, note, expect, **kw)


def forged_id(sc, ts=None):
    """A connection id with a plausible timestamp and a MAC nobody issued."""
    ts = sc.now if ts is None else ts
    return ts.to_bytes(4, "big") + b"\xde\xad\xbe\xef"


def arp_request(src_mac, src_ip, target_ip, dst=BCAST, vlan=None, pad=True):
    raw = bytes(eth(dst, src_mac, vlan) /
                ARP(op=1, hwsrc=src_mac, psrc=src_ip, hwdst="00:00:00:00:00:00", pdst=target_ip))
    return raw + bytes(max(0, 60 - len(raw))) if pad else raw


def neighbour_solicit(src_mac, src_ip, target=TRACKER6, dst=SNM6, dst_mac=SNM6_MAC, sllao=True,
                      hlim=255, vlan=None):
    p = eth(dst_mac, src_mac, vlan) / IPv6(src=src_ip, dst=dst, hlim=hlim) / ICMPv6ND_NS(tgt=target)
    if sllao:
        p = p / ICMPv6NDOptSrcLLAddr(lladdr=src_mac)
    return bytes(p)


def echo4(src_mac, src_ip, ident, seq, data, dst=TRACKER4, vlan=None):
    return bytes(eth(PORT_MAC, src_mac, vlan) / IP(src=src_ip, dst=dst) /
                 ICMP(type=8, id=ident, seq=seq) / Raw(data))


def echo6(src_mac, src_ip, ident, seq, data, dst=TRACKER6, vlan=None):
    return bytes(eth(PORT_MAC, src_mac, vlan) / IPv6(src=src_ip, dst=dst) /
                 ICMPv6EchoRequest(id=ident, seq=seq, data=data))


# ---- the scenarios ------------------------------------------------------------

def flow(sc, fam):
    """The connect -> announce -> scrape -> stopped story both flows tell,
    over IPv4 or IPv6. Returns the clients."""
    cs = [Client(sc, n, fam) for n in range(7)]
    routed_ip = "198.19.7.7" if fam == 4 else "fd00:e::7"
    cs.append(Client(sc, 7, fam, ip=routed_ip, mac=ROUTER_MAC))  # answered through its router

    sc.at(1)
    for i, c in enumerate(cs):
        if fam == 4 and i == 2:
            c.connect(cksum=0)  # IPv4 UDP without a checksum is valid
        elif fam == 4 and i == 3:
            c.connect(pad_to=60)  # Ethernet padding after the datagram is ignored
        elif fam == 4 and i == 4:
            c.connect(options=[IPOption(b"\x94\x04\x00\x00")])  # router alert: options skipped
        else:
            c.connect()

    # Two swarms: H1 one seeder and four leechers, H2 one seeder and three
    # leechers; numwant default (-1), 0, a few, more than there are.
    sc.at(2)
    c0, c1, c2, c3, c4, c5, c6, c7 = cs
    c0.announce(H1, left=0, numwant=-1)
    c1.announce(H1, left=1000, numwant=-1)
    c2.announce(H1, left=1000, numwant=0)
    c3.announce(H1, left=1000, numwant=50)
    c4.announce(H1, left=500, numwant=2)   # a leecher gets seeders and leechers in proportion
    c5.announce(H2, left=0, numwant=10)    # a seeder with no leecher yet
    c6.announce(H2, left=700, numwant=-1)
    c7.announce(H2, left=700, numwant=-1)
    c0.announce(H2, left=300, numwant=1)   # the same address in a second swarm

    # BEP 41: how real clients end their options.
    sc.at(3)
    url = b"/announce?key=abc"
    c1.announce(H1, left=900, event=EV_NONE, options=b"\x02" + bytes([len(url)]) + url)  # libtorrent
    c3.announce(H1, left=900, event=EV_NONE, numwant=3, options=b"\0\0")                # aria2: 98 + 2 zeros
    c4.announce(H1, left=400, event=EV_NONE, numwant=3)                                # Transmission: 98
    c6.announce(H2, left=600, event=EV_NONE,
                options=b"\x01\x02\x05/anno\x01\x02\x04unce\x00")                    # NOPs, two URLData, end
    c2.announce(H1, left=900, event=EV_NONE, numwant=5, options=b"\x02\x50/short")     # runs past the end
    c7.announce(H2, left=600, event=EV_NONE, options=b"\x07\x03abc")                   # unknown type stops
    c5.announce(H2, left=0, event=EV_NONE, numwant=200)

    # A leecher completes: a seeder now, counted once as completed.
    sc.at(4)
    c1.announce(H1, left=0, event=EV_COMPLETED, numwant=10)
    c1.announce(H1, left=0, event=EV_COMPLETED, numwant=10)  # again: not counted twice

    sc.at(5)
    c0.scrape([H1, H2, H3])
    c5.scrape([H2])
    c6.scrape([H1] * 4 + [H3, H2])

    # stopped: leaves the swarm, gets no peers; for an unknown swarm it
    # creates nothing.
    sc.at(6)
    c2.announce(H1, left=900, event=EV_STOPPED)
    c7.announce(H2, left=600, event=EV_STOPPED)
    c3.announce(H4, left=10, event=EV_STOPPED)
    c3.scrape([H4, H1])

    # Refusals: port 0 (an error, the id was good), an event above 3 (the
    # codec drops it), forged ids, another address's id, an id from the future.
    sc.at(7)
    c3.announce(H1, left=900, event=EV_NONE, port=0, expect="port")
    c3.announce(H1, left=900, event=4, expect="event")
    c4.announce(H1, left=400, cid=forged_id(sc), expect="connid")
    c4.announce(H1, left=400, cid=b"\0" * 8, expect="connid")
    c5.announce(H2, left=0, cid=c0.cid, expect="connid")
    c6.announce(H2, left=600, cid=check.connid(SECRET, sc.now + 30, c6.ipb), expect="connid")
    c6.scrape([H2], cid=forged_id(sc), expect="connid")    # 36 bytes: the error is cut to 36
    c6.scrape([H1, H2], cid=forged_id(sc), expect="connid")

    # Expiry: ids from second 1 hold until second 121 inclusive.
    sc.at(121)
    c0.announce(H1, left=0, event=EV_NONE, numwant=5)
    sc.at(122)
    c1.announce(H1, left=0, event=EV_NONE, expect="connid")
    c3.scrape([H1], expect="connid")
    sc.at(200)
    c3.connect()
    c3.announce(H1, left=800, event=EV_NONE, numwant=-1)
    c3.scrape([H1, H2, H3, H4])
    return cs


def scenario_udp4_flow():
    sc = Scenario("udp4_flow")
    sc.at(0)
    sc.add(arp_request("02:00:00:00:04:0a", "198.18.0.10", TRACKER4), "ARP who-has tracker", reply=True)
    flow(sc, 4)
    return sc


def scenario_udp6_flow():
    sc = Scenario("udp6_flow")
    sc.at(0)
    sc.add(neighbour_solicit("02:00:00:00:06:0a", "fd00:d::10"), "NS to the solicited-node group",
           reply=True)
    sc.add(neighbour_solicit("02:00:00:00:06:0b", "fd00:d::11", dst=TRACKER6, dst_mac=PORT_MAC,
                             sllao=False), "NS unicast (NUD), no source LL option", reply=True)
    cs = flow(sc, 6)
    # An IPv4 peer in the same swarm: counted, but never handed to IPv6 peers.
    sc.at(201)
    v4 = Client(sc, 20, 4)
    v4.connect()
    v4.announce(H1, left=50, numwant=-1)
    cs[5].connect()
    cs[5].announce(H1, left=0, numwant=-1)
    cs[5].scrape([H1])
    return sc


def scenario_vlan():
    sc = Scenario("vlan")
    sc.at(0)
    tag = (3, 100)
    sc.add(arp_request("02:00:00:00:04:0a", "198.18.0.10", TRACKER4, vlan=tag), "ARP in VLAN 100",
           reply=True)
    sc.at(1)
    a = Client(sc, 0, 4, vlan=tag)
    b = Client(sc, 1, 4, vlan=tag)
    a.connect()
    b.connect()
    a.announce(H1, left=0)
    b.announce(H1, left=100)
    b.scrape([H1])
    sc.add(echo4(a.mac, a.ip, 7, 1, b"vlan ping", vlan=tag), "ICMP echo in VLAN 100", reply=True)
    sc.add(neighbour_solicit("02:00:00:00:06:0a", "fd00:d::10", vlan=tag), "NS in VLAN 100",
           reply=True)
    c = Client(sc, 0, 6, vlan=tag)
    c.connect()
    c.announce(H1, left=0)
    sc.add(echo6(c.mac, c.ip, 8, 1, b"vlan ping6", vlan=tag), "ICMPv6 echo in VLAN 100", reply=True)
    # A priority tag (VID 0) is a tag too: kept in the reply.
    d = Client(sc, 2, 4, vlan=(5, 0))
    d.connect()
    d.announce(H1, left=100)
    # Untagged and tagged from one address: each reply as its request was.
    e = Client(sc, 3, 4)
    e.connect()
    e.vlan = (0, 4094)
    e.connect()
    e.announce(H1, left=100)
    return sc


def scenario_stack():
    sc = Scenario("stack")
    m4, ip4 = "02:00:00:00:04:0a", "198.18.0.10"
    m6, ip6 = "02:00:00:00:06:0a", "fd00:d::10"
    sc.at(0)
    sc.add(arp_request(m4, ip4, TRACKER4), "ARP for us", reply=True)
    sc.add(arp_request(m4, ip4, TRACKER4, pad=False), "ARP for us, 42 bytes", reply=True)
    sc.add(arp_request(m4, ip4, TRACKER4, dst=PORT_MAC), "ARP for us, unicast", reply=True)
    sc.drop(arp_request(m4, ip4, "198.18.0.3"), "arp_not_ours", "ARP for another address")
    sc.drop(arp_request(m4, ip4, ip4), "arp_not_ours", "gratuitous ARP")
    sc.drop(bytes(Ether(dst=PORT_MAC, src=m4) /
                  ARP(op=2, hwsrc=m4, psrc=ip4, hwdst=PORT_MAC, pdst=TRACKER4)),
            "arp_not_request", "ARP reply to us")
    sc.drop(bytes(Ether(dst=BCAST, src=m4) /
                  ARP(op=2, hwsrc=m4, psrc=ip4, hwdst=BCAST, pdst=ip4)),
            "arp_not_request", "gratuitous ARP reply")

    sc.at(1)
    sc.add(echo4(m4, ip4, 0x1234, 1, bytes(range(56))), "ICMP echo, 56 bytes", reply=True)
    sc.add(echo4(m4, ip4, 0x1234, 2, b"odd"), "ICMP echo, odd length", reply=True)
    sc.add(echo4(m4, ip4, 0x1234, 3, b""), "ICMP echo, no data", reply=True)
    sc.add(echo4(m4, ip4, 0xFFFF, 0xFFFF, bytes(i * 7 & 255 for i in range(1400))),
           "ICMP echo, 1400 bytes", reply=True)
    sc.add(echo4(ROUTER_MAC, "198.19.7.7", 1, 1, b"routed"), "ICMP echo via a router", reply=True)
    sc.drop(echo4(m4, ip4, 1, 4, b"x", dst="198.18.0.255"), "ip4_not_ours", "ICMP echo to broadcast")
    # (scapy would fill the originate timestamp from the clock: fixed here)
    sc.drop(bytes(Ether(dst=PORT_MAC, src=m4) / IP(src=ip4, dst=TRACKER4) /
                  ICMP(type=13, id=1, seq=1, ts_ori=1, ts_rx=0, ts_tx=0)),
            "icmp_type", "ICMP timestamp request")

    sc.at(2)
    sc.add(echo6(m6, ip6, 0x4321, 1, bytes(range(56))), "ICMPv6 echo", reply=True)
    sc.add(echo6(m6, ip6, 0x4321, 2, b"odd"), "ICMPv6 echo, odd length", reply=True)
    sc.add(echo6(ROUTER_MAC, "fd00:e::7", 1, 1, b"routed"), "ICMPv6 echo via a router", reply=True)
    sc.add(neighbour_solicit(m6, ip6), "NS with source LL option", reply=True)
    sc.add(neighbour_solicit(m6, ip6, dst=TRACKER6, dst_mac=PORT_MAC, sllao=False),
           "NS without source LL option", reply=True)
    sc.add(neighbour_solicit("02:00:00:00:06:0b", "fe80::b"), "NS from a link-local address",
           reply=True)
    sc.drop(neighbour_solicit(m6, "::", sllao=False), "ndp_not_ours", "DAD NS for our address")
    sc.drop(neighbour_solicit(m6, ip6, target="fd00:e::2"), "ndp_not_ours",
            "NS for another target on our solicited-node group")
    sc.drop(neighbour_solicit(m6, ip6, target="fd00:d::3", dst=TRACKER6, dst_mac=PORT_MAC),
            "ndp_not_ours", "NS to us for another target")
    sc.drop(neighbour_solicit(m6, ip6, target="fd00:d::3", dst="ff02::1:ff00:3",
                              dst_mac="33:33:ff:00:00:03"),
            "ip6_not_ours", "NS to another solicited-node group")
    sc.drop(bytes(Ether(dst=PORT_MAC, src=m6) / IPv6(src=ip6, dst=TRACKER6, hlim=255) /
                  ICMPv6ND_NA(tgt=ip6, R=0, S=0, O=1)), "icmp_type", "NA to us")
    sc.drop(bytes(Ether(dst=PORT_MAC, src=m6) / IPv6(src=ip6, dst=TRACKER6) /
                  ICMPv6EchoReply(id=1, seq=1)), "icmp_type", "ICMPv6 echo reply to us")
    return sc


def scenario_malformed():
    sc = Scenario("malformed")
    m4, ip4, m6, ip6 = "02:00:00:00:04:0a", "198.18.0.10", "02:00:00:00:06:0a", "fd00:d::10"
    c4, c6 = Client(sc, 0, 4), Client(sc, 0, 6)
    sc.at(0)
    good4 = c4.frame(bep15_connect(0x1111))
    good6 = c6.frame(bep15_connect(0x2222))
    tid = sc.next_tid

    # Ethernet and 802.1Q.
    sc.drop(good4[:1], "eth_short", "1-byte frame")
    sc.drop(good4[:13], "eth_short", "13-byte frame")
    sc.drop(good4[:12] + b"\x81\x00\x00\x64", "eth_short", "VLAN tag cut short")
    sc.drop(good4[:12] + b"\x81\x00\x00\x64\x08", "eth_short", "VLAN tag cut after a byte of type")
    sc.drop(good4[:12] + b"\x12\x34" + good4[14:], "ethertype", "unknown ethertype")
    sc.drop(good4[:12] + b"\x81\x00\x00\x64\x81\x00\x00\x65" + good4[12:], "ethertype", "double VLAN")
    sc.drop(good4[:12] + b"\x88\xa8\x00\x64\x81\x00\x00\x65" + good4[12:], "ethertype", "QinQ")
    sc.drop(patch(good4, 0, bytes.fromhex("020000000099")), "eth_not_ours", "to another MAC")
    sc.drop(patch(good6, 0, bytes.fromhex("0270636170ff")), "eth_not_ours", "to a MAC one byte off ours")

    # ARP.
    arp = arp_request(m4, ip4, TRACKER4, pad=False)
    sc.drop(arp[:14 + 20], "arp_malformed", "ARP cut at 20 bytes")
    sc.drop(arp[:14 + 27], "arp_malformed", "ARP cut at 27 bytes")
    sc.drop(patch(arp, 14, b"\x00\x06"), "arp_malformed", "ARP hardware type 6")
    sc.drop(patch(arp, 16, b"\x86\xdd"), "arp_malformed", "ARP protocol type IPv6")
    sc.drop(patch(arp, 19, b"\x10"), "arp_malformed", "ARP protocol length 16")
    sc.drop(patch(arp, 20, b"\x00\x03"), "arp_not_request", "ARP opcode 3 (RARP)")
    sc.drop(arp_request(m4, ip4, "198.18.0.22"), "arp_not_ours", "ARP for another address")

    # IPv4 header.
    sc.drop(good4[:14 + 10], "ip4_malformed", "IPv4 header cut at 10 bytes")
    sc.drop(good4[:14 + 19], "ip4_malformed", "IPv4 header cut at 19 bytes")
    sc.drop(ip4_refix(patch(good4, 14, b"\x65")), "ip4_malformed", "version 6 in an IPv4 frame")
    sc.drop(ip4_refix(patch(good4, 14, b"\x44")), "ip4_malformed", "IHL 4")
    opt = c4.frame(bep15_connect(tid()), options=[IPOption(b"\x01" * 12)])  # IHL 8
    sc.drop(opt[:14 + 28], "ip4_malformed", "IPv4 options cut short")
    sc.drop(ip4_refix(patch(good4, 14, b"\x4f")), "ip4_malformed", "IHL 15: options run past the datagram")
    total = len(good4) - 14
    sc.drop(ip4_refix(patch(good4, 16, struct.pack(">H", total + 1))), "ip4_malformed",
            "total length one past the frame")
    sc.drop(ip4_refix(patch(good4, 16, struct.pack(">H", 1500))), "ip4_malformed",
            "total length 1500 in a short frame")
    sc.drop(ip4_refix(patch(good4, 16, struct.pack(">H", 16))), "ip4_malformed",
            "total length under the header")
    sc.drop(patch(good4, 24, b"\x12\x34"), "ip4_cksum", "IPv4 header checksum wrong")
    sc.drop(patch(good4, 22, b"\x3f"), "ip4_cksum", "TTL changed, checksum not")
    sc.drop(ip4_refix(patch(good4, 20, b"\x20\x00")), "ip4_fragment", "first fragment (MF)")
    sc.drop(ip4_refix(patch(good4, 20, b"\x00\x10")), "ip4_fragment", "later fragment (offset 16)")
    sc.drop(ip4_refix(patch(good4, 20, b"\x00\x01")), "ip4_fragment", "last fragment (offset 1)")
    sc.drop(bytes(Ether(dst=PORT_MAC, src=m4) / IP(src=ip4, dst="198.18.0.3") /
                  UDP(sport=6881, dport=UDP_PORT) / Raw(bep15_connect(tid()))),
            "ip4_not_ours", "to another address")
    sc.drop(bytes(Ether(dst=BCAST, src=m4) / IP(src=ip4, dst="255.255.255.255") /
                  UDP(sport=6881, dport=UDP_PORT) / Raw(bep15_connect(tid()))),
            "ip4_not_ours", "to the limited broadcast")
    # Sources no peer can have: answered by nobody, entered into no swarm.
    for src in ("127.0.0.1", "0.0.0.0", "224.0.0.5", "255.255.255.255", TRACKER4):
        sc.drop(bytes(Ether(dst=PORT_MAC, src=m4) / IP(src=src, dst=TRACKER4) /
                      UDP(sport=6881, dport=UDP_PORT) / Raw(bep15_connect(tid()))),
                "ip_src", f"UDP from {src}")
    sc.drop(echo4(m4, "127.0.0.1", 1, 9, b"loop"), "ip_src", "ICMP echo from loopback")
    sc.drop(bytes(Ether(dst=PORT_MAC, src=m4) / IP(src=ip4, dst=TRACKER4) /
                  TCP(sport=40000, dport=UDP_PORT, flags="S", seq=1)), "ip_proto", "TCP SYN")
    sc.drop(bytes(Ether(dst=PORT_MAC, src=m4) / IP(src=ip4, dst=TRACKER4, proto=47) / Raw(b"\0" * 8)),
            "ip_proto", "GRE")

    # ICMP.
    sc.drop(bytes(Ether(dst=PORT_MAC, src=m4) / IP(src=ip4, dst=TRACKER4, proto=1) /
                  Raw(b"\x08\x00\xf7\xff")), "icmp_malformed", "ICMP of 4 bytes")
    e = echo4(m4, ip4, 1, 1, b"ping")
    sc.drop(patch(e, 36, b"\x00\x01"), "icmp_malformed", "ICMP checksum wrong")
    sc.drop(bytes(Ether(dst=PORT_MAC, src=m4) / IP(src=ip4, dst=TRACKER4) /
                  ICMP(type=0, id=1, seq=1)), "icmp_type", "ICMP echo reply to us")
    sc.drop(bytes(Ether(dst=PORT_MAC, src=m4) / IP(src=ip4, dst=TRACKER4) /
                  ICMP(type=3, code=3) / Raw(bytes(28))), "icmp_type", "ICMP port unreachable")
    sc.drop(bytes(Ether(dst=PORT_MAC, src=m4) / IP(src=ip4, dst=TRACKER4) /
                  ICMP(type=8, code=1, id=1, seq=1)), "icmp_type", "ICMP echo request with code 1")

    # UDP over IPv4.
    u = c4.frame(bep15_connect(tid()))
    sc.drop(ip4_refix(patch(u, 16, struct.pack(">H", 24)))[:14 + 24], "udp_malformed",
            "UDP header cut at 4 bytes")
    sc.drop(patch(u, 38, struct.pack(">H", len(u) - 34 + 1)), "udp_malformed",
            "UDP length one past the datagram")
    sc.drop(patch(u, 38, struct.pack(">H", 7)), "udp_malformed", "UDP length 7")
    sc.drop(patch(u, 40, b"\x12\x34"), "udp_cksum", "UDP checksum wrong")
    sc.drop(patch(u, 40, b"\xff\xff") if u[40:42] != b"\xff\xff" else patch(u, 40, b"\xff\xfe"),
            "udp_cksum", "UDP checksum 0xffff wrong")
    for port in (53, 6970, 1):
        sc.drop(bytes(Ether(dst=PORT_MAC, src=m4) / IP(src=ip4, dst=TRACKER4) /
                      UDP(sport=6881, dport=port) / Raw(bep15_connect(tid()))),
                "udp_port", f"UDP to port {port}")
    # The IP total length says less than the frame holds and the UDP length
    # believes the frame: the datagram ends where IP says.
    u2 = c4.frame(bep15_connect(tid()) + bytes(8))
    u2 = ip4_refix(patch(u2, 16, struct.pack(">H", len(u2) - 14 - 8)))
    sc.drop(u2, "udp_malformed", "UDP length past the IPv4 total length")

    # IPv6.
    sc.drop(good6[:14 + 30], "ip6_malformed", "IPv6 header cut at 30 bytes")
    sc.drop(patch(good6, 14, b"\x45"), "ip6_malformed", "version 4 in an IPv6 frame")
    sc.drop(patch(good6, 18, struct.pack(">H", len(good6) - 54 + 1)), "ip6_malformed",
            "payload length one past the frame")
    sc.drop(patch(good6, 18, struct.pack(">H", 9000)), "ip6_malformed", "payload length 9000")
    sc.drop(bytes(Ether(dst=PORT_MAC, src=m6) / IPv6(src=ip6, dst="fd00:d::3") /
                  UDP(sport=6881, dport=UDP_PORT) / Raw(bep15_connect(tid()))),
            "ip6_not_ours", "to another address")
    sc.drop(bytes(Ether(dst="33:33:00:00:00:01", src=m6) / IPv6(src=ip6, dst="ff02::1") /
                  UDP(sport=6881, dport=UDP_PORT) / Raw(bep15_connect(tid()))),
            "ip6_not_ours", "to all-nodes")
    # ::ffff:a.b.c.d must never be taken for IPv4 a.b.c.d (RFC 4291 2.5.5.2).
    for src in ("::ffff:203.0.113.9", "::1", "::", "ff02::1", "fe80::1", TRACKER6):
        sc.drop(bytes(Ether(dst=PORT_MAC, src=m6) / IPv6(src=src, dst=TRACKER6) /
                      UDP(sport=6881, dport=UDP_PORT) / Raw(bep15_connect(tid()))),
                "ip_src", f"UDP from {src}")
    sc.drop(echo6(m6, "ff02::1", 1, 9, b"mc"), "ip_src", "ICMPv6 echo from multicast")
    sc.add(echo6(m6, "fe80::5", 1, 9, b"ll"), "ICMPv6 echo from link-local is answered",
           reply=True)
    sc.drop(bytes(Ether(dst=PORT_MAC, src=m6) / IPv6(src=ip6, dst=TRACKER6) / IPv6ExtHdrHopByHop() /
                  UDP(sport=6881, dport=UDP_PORT) / Raw(bep15_connect(tid()))),
            "ip_proto", "hop-by-hop extension header")
    sc.drop(bytes(Ether(dst=PORT_MAC, src=m6) / IPv6(src=ip6, dst=TRACKER6) /
                  IPv6ExtHdrFragment(m=0, offset=0, id=7) /
                  UDP(sport=6881, dport=UDP_PORT) / Raw(bep15_connect(tid()))),
            "ip_proto", "fragment extension header")
    sc.drop(bytes(Ether(dst=PORT_MAC, src=m6) / IPv6(src=ip6, dst=TRACKER6) /
                  TCP(sport=40000, dport=UDP_PORT, flags="S", seq=1)), "ip_proto", "TCP over IPv6")
    u6 = c6.frame(bep15_connect(tid()))
    sc.drop(patch(u6, 60, b"\0\0"), "udp_cksum", "IPv6 UDP checksum zero")
    sc.drop(patch(u6, 60, b"\x12\x34"), "udp_cksum", "IPv6 UDP checksum wrong")
    sc.drop(patch(u6, 58, struct.pack(">H", len(u6) - 54 + 1)), "udp_malformed",
            "IPv6 UDP length one past the datagram")
    sc.drop(patch(good6, 18, struct.pack(">H", 6))[:14 + 46], "udp_malformed",
            "IPv6 UDP header cut at 6 bytes")
    sc.drop(bytes(Ether(dst=PORT_MAC, src=m6) / IPv6(src=ip6, dst=TRACKER6) /
                  UDP(sport=6881, dport=6968) / Raw(bep15_connect(tid()))), "udp_port",
            "IPv6 UDP to port 6968")

    # ICMPv6 and NDP.
    e6 = echo6(m6, ip6, 1, 1, b"ping")
    sc.drop(patch(e6, 56, b"\x00\x01"), "icmp_malformed", "ICMPv6 checksum wrong")
    short6 = bytes(Ether(dst=PORT_MAC, src=m6) / IPv6(src=ip6, dst=TRACKER6, nh=58) / Raw(b"\x80\x00\0\0"))
    ck = check.inet_cksum(short6[54:], check.pseudo_sum(ip_bytes(ip6), ip_bytes(TRACKER6), 58, 4))
    sc.drop(patch(short6, 56, struct.pack(">H", ck)), "icmp_malformed", "ICMPv6 of 4 bytes")
    sc.drop(bytes(Ether(dst=PORT_MAC, src=m6) / IPv6(src=ip6, dst=TRACKER6) /
                  ICMPv6EchoReply(id=1, seq=1)), "icmp_type", "ICMPv6 echo reply to us")
    sc.drop(bytes(Ether(dst=PORT_MAC, src=m6) / IPv6(src=ip6, dst=TRACKER6) /
                  ICMPv6EchoRequest(code=1, id=1, seq=1)), "icmp_type", "ICMPv6 echo request with code 1")
    # Our solicited-node group is ours for neighbour solicitations only.
    sc.drop(bytes(Ether(dst=SNM6_MAC, src=m6) / IPv6(src=ip6, dst=SNM6) /
                  ICMPv6EchoRequest(id=1, seq=1)), "ip6_not_ours", "ICMPv6 echo to our solicited-node group")
    sc.drop(bytes(Ether(dst=SNM6_MAC, src=m6) / IPv6(src=ip6, dst=SNM6) /
                  UDP(sport=6881, dport=UDP_PORT) / Raw(bep15_connect(tid()))),
            "ip6_not_ours", "UDP to our solicited-node group")
    sc.drop(neighbour_solicit(m6, ip6, hlim=64), "ndp_malformed", "NS with hop limit 64")
    ns = bytes(Ether(dst=SNM6_MAC, src=m6) / IPv6(src=ip6, dst=SNM6, hlim=255) /
               ICMPv6ND_NS(tgt=TRACKER6, code=1) / ICMPv6NDOptSrcLLAddr(lladdr=m6))
    sc.drop(ns, "ndp_malformed", "NS with code 1")
    ns = bytes(Ether(dst=SNM6_MAC, src=m6) / IPv6(src=ip6, dst=SNM6, hlim=255) /
               ICMPv6ND_NS(tgt=TRACKER6) / Raw(b"\x01\x00" + bytes.fromhex(m6.replace(":", ""))))
    sc.drop(ns, "ndp_malformed", "NS option of length 0")
    ns = bytes(Ether(dst=SNM6_MAC, src=m6) / IPv6(src=ip6, dst=SNM6, hlim=255) /
               ICMPv6ND_NS(tgt=TRACKER6) / Raw(b"\x01\x02" + bytes.fromhex(m6.replace(":", ""))))
    sc.drop(ns, "ndp_malformed", "NS option running past the packet")
    ns = bytes(Ether(dst=SNM6_MAC, src=m6) / IPv6(src=ip6, dst=SNM6, hlim=255, nh=58) /
               Raw(b"\x87\x00\0\0" + bytes(12)))
    ck = check.inet_cksum(ns[54:], check.pseudo_sum(ip_bytes(ip6), ip_bytes(SNM6), 58, 16))
    sc.drop(patch(ns, 56, struct.pack(">H", ck)), "ndp_malformed", "NS of 16 bytes")

    # BEP 15 in well-formed datagrams: the codec drops them without a reply.
    cid = forged_id(sc)
    c4.send_bad(b"", "empty datagram", "short")
    c4.send_bad(bep15_connect(tid())[:15], "15 bytes", "short")
    c4.send_bad(bep15_connect(tid(), magic=PROTOCOL_ID + 1), "connect with a bad magic", "protocol_id")
    c6.send_bad(bep15_connect(tid(), magic=0), "connect with a zero magic", "protocol_id")
    for action in (3, 7, 0xFFFFFFFF):
        c4.send_bad(cid + struct.pack(">II", action, tid()) + bytes(82), f"action {action}", "action")
    ann = bep15_announce(cid, tid(), H1, c4.peer_id, 0, EV_STARTED, -1, 51413)
    c6.send_bad(ann[:97], "announce of 97 bytes", "short")
    c6.send_bad(ann[:20], "announce of 20 bytes", "short")
    c4.send_bad(patch(ann, 80, struct.pack(">I", 4)), "announce event 4", "event")
    c4.send_bad(patch(ann, 80, struct.pack(">I", 0xFFFFFFFF)), "announce event 2^32-1", "event")
    c4.send_bad(bep15_scrape(cid, tid(), []), "scrape without a hash", "short")
    c6.send_bad(bep15_scrape(cid, tid(), [H1[:19]]), "scrape of 19 hash bytes", "scrape_len")
    c4.send_bad(bep15_scrape(cid, tid(), [H1, H2[:1]]), "scrape of 21 hash bytes", "scrape_len")

    garbage(sc, c4, c6)

    # Still answering after all that.
    sc.at(2)
    c4.connect()
    c6.connect()
    c4.announce(H1, left=0)
    return sc


def garbage(sc, c4, c6):
    """Seeded random frames, each built so its one fate is known."""
    rnd = random.Random(15)
    sc.at(1)

    def rbytes(n):
        return bytes(rnd.getrandbits(8) for _ in range(n))

    for _ in range(8):
        sc.drop(rbytes(rnd.randint(1, 13)), "eth_short", "garbage under 14 bytes")
    for _ in range(8):
        dst = bytes([rnd.getrandbits(8) & 0xFC | 0x02]) + rbytes(5)  # unicast, not ours
        sc.drop(dst + rbytes(rnd.randint(8, 300)), "eth_not_ours", "garbage to a random MAC")
    mac = bytes.fromhex(PORT_MAC.replace(":", "")) + bytes.fromhex(c4.mac.replace(":", ""))
    for _ in range(6):
        body = rbytes(rnd.randint(0, 300))
        if body:
            body = bytes([rnd.choice([0, 1, 2, 3, 5, 6, 7, 15]) << 4 | body[0] & 15]) + body[1:]
        sc.drop(mac + b"\x08\x00" + body, "ip4_malformed", "garbage IPv4")
    for _ in range(6):
        body = rbytes(rnd.randint(0, 300))
        if body:
            body = bytes([rnd.choice([0, 4, 5, 7, 15]) << 4 | body[0] & 15]) + body[1:]
        sc.drop(mac + b"\x86\xdd" + body, "ip6_malformed", "garbage IPv6")
    for i in range(20):
        c = c4 if i % 2 == 0 else c6
        action = rnd.choice([0, 1, 1, 2, 2, rnd.getrandbits(32)])
        n = rnd.choice([rnd.randint(0, 140), 16 + 20 * rnd.randint(0, 3), rnd.randint(98, 120)])
        pl = rbytes(8) + struct.pack(">I", action) + rbytes(max(0, n - 12))
        if action == 1 and len(pl) >= 84:
            pl = patch(pl, 80, struct.pack(">I", rnd.choice([0, 1, 2, 3, rnd.getrandbits(32)])))
        random_datagram(sc, c, pl[:n])


def random_datagram(sc, c, pl):
    """Sends a random BEP 15 datagram, knowing what the codec and the
    tracker make of it (core/udp_msg.h, core/tr_udp.c)."""
    if len(pl) < 16:
        bad = "short"
    else:
        action = struct.unpack_from(">I", pl, 8)[0]
        if action == 0:
            bad = "protocol_id"
        elif action == 1:
            bad = "short" if len(pl) < 98 else "event" if struct.unpack_from(">I", pl, 80)[0] > 3 else None
        elif action == 2:
            body = len(pl) - 16
            bad = "scrape_len" if body % 20 else "short" if body == 0 else None
        else:
            bad = "action"
    if bad:
        sc.add(c.frame(pl), f"{c.ip}: random datagram, bad {bad}",
               count=["udp_err_malformed", "udp_bad_" + bad])
    else:
        # Well-formed with a random id: an error no longer than the request.
        sc.add(c.frame(pl), f"{c.ip}: random datagram, bad id", reply=True,
               count=["udp_err_connection_id"])


# ---- the XDP program of shared ports --------------------------------------

XDP_PORTS = (UDP_PORT, 1337)  # udp.ports of the test: the second one checks the port loop


def xdp_verdict(raw, ports=XDP_PORTS):
    """What dptrack's XDP program does with a frame: ("redirect",
    "tracker") or ("pass", REASON), by dp_xdp_maps.h's rules, reasons
    named as dp_xdp_reason_name() names them."""
    def be16(off):
        return struct.unpack_from(">H", raw, off)[0]

    if len(raw) < 14:
        return "pass", "short"
    etype, l3 = be16(12), 14
    if etype == 0x8100:
        if len(raw) < 18:
            return "pass", "short"
        etype, l3 = be16(16), 18
    if etype == 0x0800:
        if len(raw) < l3 + 20:
            return "pass", "short"
        if raw[l3] >> 4 != 4 or raw[l3] & 15 < 5:
            return "pass", "malformed"
        if raw[l3 + 9] != 17:
            return "pass", "not_udp"
        if be16(l3 + 6) & 0x3FFF:
            return "pass", "fragment"
        if raw[l3 + 16:l3 + 20] != ip_bytes(TRACKER4):
            return "pass", "other_addr"
        l4 = l3 + (raw[l3] & 15) * 4
    elif etype == 0x86DD:
        if len(raw) < l3 + 40:
            return "pass", "short"
        if raw[l3] >> 4 != 6:
            return "pass", "malformed"
        if raw[l3 + 6] != 17:
            return "pass", "not_udp"
        if raw[l3 + 24:l3 + 40] != ip_bytes(TRACKER6):
            return "pass", "other_addr"
        l4 = l3 + 40
    else:
        return "pass", "not_ip"
    if len(raw) < l4 + 8:
        return "pass", "short"
    if be16(l4 + 2) not in ports:
        return "pass", "other_port"
    return "redirect", "tracker"


def xdp_frames():
    """Frames a shared port meets beside the tracker's: [(frame, verdict,
    note)], each verdict the one the frame was built to get."""
    m4, ip4, m6, ip6 = "02:00:00:00:04:0a", "198.18.0.10", "02:00:00:00:06:0a", "fd00:d::10"
    sc = Scenario("xdp")
    c4, c6 = Client(sc, 0, 4), Client(sc, 0, 6)
    t4, t6 = c4.frame(bep15_connect(1)), c6.frame(bep15_connect(2))
    red, out = ("redirect", "tracker"), []

    def add(frame, verdict, note):
        out.append((bytes(frame), verdict if verdict == red else ("pass", verdict), note))

    def udp4(dst=TRACKER4, dport=UDP_PORT, **kw):
        return Ether(dst=PORT_MAC, src=m4) / IP(src=ip4, dst=dst, **kw) / UDP(sport=6881, dport=dport)

    def udp6(dst=TRACKER6, dport=UDP_PORT):
        return Ether(dst=PORT_MAC, src=m6) / IPv6(src=ip6, dst=dst) / UDP(sport=6881, dport=dport)

    # The tracker's: redirected, whatever dptrack makes of them after.
    add(t4, red, "BEP 15 connect over IPv4")
    add(t6, red, "BEP 15 connect over IPv6")
    add(Client(sc, 1, 4, vlan=(0, 100)).frame(bep15_connect(3)), red, "IPv4, VLAN 100")
    add(Client(sc, 1, 6, vlan=(3, 7)).frame(bep15_connect(4)), red, "IPv6, VLAN 7")
    add(c4.frame(bep15_connect(5), options=[IPOption(b"\x94\x04\x00\x00")]), red,
        "IPv4 with a router alert option")
    add(udp4(dport=1337) / Raw(bep15_connect(6)), red, "the second tracker port")
    add(patch(t4, 40, b"\x12\x34"), red, "a wrong UDP checksum: dptrack's to check")
    add(bytes(udp6() / Raw(b"x"))[:14 + 40 + 8], red, "an empty datagram")
    add(Ether(dst=PORT_MAC, src=m6) / IPv6(src="fe80::1", dst=TRACKER6) /
        UDP(sport=6881, dport=UDP_PORT) / Raw(bep15_connect(7)), red,
        "from a link-local source: dptrack's to refuse")
    # The kernel's.
    add(arp_request(m4, ip4, TRACKER4), "not_ip", "ARP request for the tracker's address")
    add(Ether(dst=PORT_MAC, src=m4) / ARP(op=2, hwsrc=m4, psrc=ip4, hwdst=PORT_MAC, pdst=TRACKER4),
        "not_ip", "ARP reply")
    add(neighbour_solicit(m6, ip6), "not_udp", "neighbour solicitation")
    add(Ether(dst=PORT_MAC, src=m6) / IPv6(src=ip6, dst=TRACKER6, hlim=255) /
        ICMPv6ND_NA(tgt=ip6, R=0, S=1, O=1), "not_udp", "neighbour advertisement")
    add(echo4(m4, ip4, 1, 1, b"ping"), "not_udp", "ICMP echo request")
    add(echo6(m6, ip6, 1, 1, b"ping"), "not_udp", "ICMPv6 echo request")
    for dport, what in ((UDP_PORT, "the HTTP tracker"), (22, "SSH")):
        add(Ether(dst=PORT_MAC, src=m4) / IP(src=ip4, dst=TRACKER4) /
            TCP(sport=40000, dport=dport, flags="S"), "not_udp", f"TCP SYN to {what}")
        add(Ether(dst=PORT_MAC, src=m6) / IPv6(src=ip6, dst=TRACKER6) /
            TCP(sport=40000, dport=dport, flags="S"), "not_udp", f"TCP SYN over IPv6 to {what}")
    add(Ether(dst=PORT_MAC, src=m4) / IP(src=ip4, dst=TRACKER4, proto=47) / Raw(bytes(8)),
        "not_udp", "GRE")
    for dport in (53, 123, 6970, 1336):
        add(udp4(dport=dport) / Raw(b"q"), "other_port", f"UDP to port {dport}")
        add(udp6(dport=dport) / Raw(b"q"), "other_port", f"IPv6 UDP to port {dport}")
    add(udp4(dst="198.18.0.3") / Raw(bep15_connect(8)), "other_addr", "UDP to another address")
    add(udp4(dst="198.18.0.255") / Raw(bep15_connect(9)), "other_addr", "UDP to the broadcast")
    add(udp4(dst="224.0.0.1") / Raw(bep15_connect(10)), "other_addr", "UDP to a multicast group")
    add(udp6(dst="fd00:d::3") / Raw(bep15_connect(11)), "other_addr", "IPv6 UDP to another address")
    add(Ether(dst="33:33:00:00:00:01", src=m6) / IPv6(src=ip6, dst="ff02::1") /
        UDP(sport=6881, dport=UDP_PORT) / Raw(b"q"), "other_addr", "IPv6 UDP to all-nodes")
    whole = IP(src=ip4, dst=TRACKER4) / UDP(sport=6881, dport=UDP_PORT) / Raw(bytes(2000))
    for i, frag in enumerate(whole.fragment(800)):
        add(Ether(dst=PORT_MAC, src=m4) / frag, "fragment", f"IPv4 fragment {i} of a tracker datagram")
    add(Ether(dst=PORT_MAC, src=m6) / IPv6(src=ip6, dst=TRACKER6) /
        IPv6ExtHdrFragment(m=1, offset=0, id=9) / UDP(sport=6881, dport=UDP_PORT) / Raw(bytes(64)),
        "not_udp", "IPv6 fragment header (the kernel reassembles)")
    add(Ether(dst=PORT_MAC, src=m6) / IPv6(src=ip6, dst=TRACKER6) / IPv6ExtHdrHopByHop() /
        UDP(sport=6881, dport=UDP_PORT) / Raw(bep15_connect(12)), "not_udp", "IPv6 hop-by-hop header")
    add(t4[:12] + b"\x81\x00\x00\x64\x81\x00\x00\x65" + t4[12:], "not_ip", "two VLAN tags")
    add(t4[:12] + b"\x88\xa8\x00\x64" + t4[12:], "not_ip", "an 802.1ad tag")
    add(t4[:12] + b"\x88\xcc" + t4[14:], "not_ip", "LLDP")
    # Cut short or malformed: the kernel drops them.
    add(t4[:14], "short", "an IPv4 ethertype and nothing after")
    add(t4[:14 + 19], "short", "an IPv4 header cut at 19 bytes")
    add(t4[:14 + 20 + 7], "short", "a UDP header cut at 7 bytes")
    add(t6[:14 + 39], "short", "an IPv6 header cut at 39 bytes")
    add(t6[:14 + 40 + 4], "short", "an IPv6 UDP header cut at 4 bytes")
    add(t4[:12] + b"\x81\x00\x00", "short", "a VLAN tag cut short")
    add(ip4_refix(patch(t4, 14, b"\x44")), "malformed", "IPv4 header length 4")
    add(ip4_refix(patch(t4, 14, b"\x65")), "malformed", "version 6 behind the IPv4 ethertype")
    add(patch(t6, 14, b"\x40"), "malformed", "version 4 behind the IPv6 ethertype")
    opt = c4.frame(bep15_connect(13), options=[IPOption(b"\x01" * 40)])  # IHL 15
    add(opt[:14 + 60 + 4], "short", "a UDP header cut behind 40 bytes of options")
    for frame, verdict, note in out:
        assert xdp_verdict(frame) == verdict, f"{note}: built for {verdict}, model {xdp_verdict(frame)}"
    return out


def write_xdp(pcap_dir):
    """pcap/xdp.in.pcap and pcap/xdp.verdicts: the frames of every scenario,
    then xdp_frames(). BPF_PROG_TEST_RUN takes at least an Ethernet header
    (and no NIC hands less to XDP), so shorter frames are left out."""
    recs, lines = [], []
    for name, make in SCENARIOS.items():
        sc = make()
        for rec, note in zip(sc.recs, sc.notes):
            if len(rec[2]) >= 14:
                recs.append((rec, xdp_verdict(rec[2]), f"{name}: {note}"))
    for i, (frame, verdict, note) in enumerate(xdp_frames()):
        recs.append(((T0 + 1000, 1000 * (i + 1), frame), verdict, f"xdp: {note}"))
    for i, (_, (action, reason), note) in enumerate(recs):
        lines.append(f"{i} {action} {reason} {note}")
    check.write_pcap(os.path.join(pcap_dir, "xdp.in.pcap"), [r for r, _, _ in recs])
    with open(os.path.join(pcap_dir, "xdp.verdicts"), "w") as f:
        f.write(f"# xdp.verdicts: what dpdk/xdp/dp_xdp_prog.c does with each frame of xdp.in.pcap, "
                f"for {TRACKER4}, {TRACKER6} and UDP ports {', '.join(map(str, XDP_PORTS))} "
                f"(written by scripts/gen-pcap.py)\n")
        f.write("\n".join(lines) + "\n")
    n = collections.Counter(a for _, (a, _), _ in recs)
    print(f"gen-pcap: xdp: {len(recs)} frames, {n['redirect']} to redirect, {n['pass']} to pass")


SCENARIOS = {
    "udp4_flow": scenario_udp4_flow,
    "udp6_flow": scenario_udp6_flow,
    "vlan": scenario_vlan,
    "stack": scenario_stack,
    "malformed": scenario_malformed,
}


# ---- writing the files --------------------------------------------------------

def counters_text(sc):
    lines = [f"# {sc.name}: counters dptrack must print for {sc.name}.in.pcap "
             "(written by scripts/gen-pcap.py)"]
    lines += [f"counter {k} {v}" for k, v in sorted(sc.counters.items())]
    # Whatever the frames, every mbuf is back in its pool once ports close.
    lines.append("counter mbufs_leaked 0")
    return "\n".join(lines) + "\n"


def write_inputs(sc, pcap_dir):
    check.write_pcap(os.path.join(pcap_dir, sc.name + ".in.pcap"), sc.recs)
    with open(os.path.join(pcap_dir, sc.name + ".counters"), "w") as f:
        f.write(counters_text(sc))
    # The checker's model, reading the frames alone, must agree with what
    # this script meant each frame to be.
    _, predicted = check.model(check.Iface(), sc.recs)
    mine = dict(sc.counters)
    mine.setdefault("tx_packets", 0)
    if predicted != mine:
        keys = sorted(set(predicted) | set(mine))
        diff = [f"  {k}: gen-pcap {mine.get(k, 0)}, check.py {predicted.get(k, 0)}"
                for k in keys if mine.get(k, 0) != predicted.get(k, 0)]
        raise SystemExit(f"gen-pcap: {sc.name}: check.py's model disagrees:\n" + "\n".join(diff))
    print(f"gen-pcap: {sc.name}: {len(sc.recs)} frames, {sc.counters['tx_packets']} replies")


def write_expected(sc, pcap_dir, dptrack):
    run = _load("pcap_run", "test/pcap/run.py")
    res = run.run_scenario(dptrack, sc.name, pcap_dir, bless=True)
    if res.failed:
        raise SystemExit(f"gen-pcap: {sc.name}: not writing {sc.name}.out.pcap, "
                         f"{res.failed} checks failed (see above)")
    # Stamp each reply with its request's time: the file is then the same
    # whenever it is made (net_pcap stamps with the wall clock).
    stamp = {o: sc.recs[i][:2] for i, o in res.pairs}
    recs = [stamp[k] + (r[2],) for k, r in enumerate(res.out_recs)]
    check.write_pcap(os.path.join(pcap_dir, sc.name + ".out.pcap"), recs)
    print(f"gen-pcap: {sc.name}: wrote {sc.name}.out.pcap, {len(recs)} frames")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="scenarios (default: all)")
    ap.add_argument("--expected", metavar="DPTRACK", help="also write NAME.out.pcap from DPTRACK")
    ap.add_argument("--pcap-dir", default=os.path.join(ROOT, "pcap"))
    ap.add_argument("--list", action="store_true", help="print the scenarios and exit")
    ap.add_argument("--xdp", action="store_true", help="write only xdp.in.pcap and xdp.verdicts")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every frame's note")
    a = ap.parse_args()
    if a.list:
        print("\n".join(SCENARIOS))
        return 0
    names = a.names or list(SCENARIOS)
    for n in names:
        if n not in SCENARIOS:
            ap.error(f"no scenario {n}; --list shows them")
    os.makedirs(a.pcap_dir, exist_ok=True)
    if a.xdp or not a.names:
        write_xdp(a.pcap_dir)
    if a.xdp:
        return 0
    for n in names:
        sc = SCENARIOS[n]()
        if a.verbose:
            for i, note in enumerate(sc.notes):
                print(f"{n} #{i}: {note}")
        write_inputs(sc, a.pcap_dir)
        if a.expected:
            write_expected(sc, a.pcap_dir, a.expected)
    return 0


if __name__ == "__main__":
    sys.exit(main())
