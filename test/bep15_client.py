#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""bep15_client.py - a small BEP 15 (UDP tracker protocol) client.

A library and a command line tool, standard library only, for tests and for
checking a running tracker by hand:

    bep15_client.py udp://198.18.0.2:6969/announce connect
    bep15_client.py udp://[fd00:d::2]:6969/announce announce \\
        --info-hash 0123456789abcdef0123456789abcdef01234567 --event started --left 0
    bep15_client.py udp://198.18.0.2:6969/announce scrape HASH [HASH...]

Library use:

    with Client("198.18.0.2", 6969, source="198.18.0.1") as c:
        r = c.announce(info_hash, event=EVENT_STARTED, left=0, port=6881)
        print(r.interval, r.seeders, r.leechers, r.peers)

Every request is bounded: one attempt waits `timeout` seconds for a reply,
and a request is sent at most `retries + 1` times (BEP 15's 15 * 2^n second
schedule is for real clients; tests want answers in seconds). Replies whose
transaction id is not the one sent are ignored, not accepted. An error reply
(action 3) raises TrackerError with the tracker's message.

Exit status of the command line tool: 0 success, 1 the tracker sent an error
reply, 2 usage error, 3 no reply within the retries, 4 malformed reply.

BEP 15: https://www.bittorrent.org/beps/bep_0015.html
BEP 41 (announce options, URLData): https://www.bittorrent.org/beps/bep_0041.html
"""

import argparse
import secrets
import socket
import struct
import sys
import time
import urllib.parse

PROTOCOL_ID = 0x41727101980  # BEP 15 connect magic

ACTION_CONNECT = 0
ACTION_ANNOUNCE = 1
ACTION_SCRAPE = 2
ACTION_ERROR = 3

EVENT_NONE = 0
EVENT_COMPLETED = 1
EVENT_STARTED = 2
EVENT_STOPPED = 3
EVENTS = {"none": EVENT_NONE, "completed": EVENT_COMPLETED,
          "started": EVENT_STARTED, "stopped": EVENT_STOPPED}

# BEP 41 option types.
OPT_END = 0x1
OPT_URL_DATA = 0x2

# BEP 15: a client may use a connection id for one minute.
CONNECTION_ID_LIFETIME = 60.0

PEER4_LEN = 6   # 4-byte address, 2-byte port
PEER6_LEN = 18  # 16-byte address, 2-byte port


class Bep15Error(Exception):
    """Base of every error this module raises."""


class TrackerError(Bep15Error):
    """The tracker answered with an error reply (action 3)."""

    def __init__(self, message, transaction_id):
        super().__init__(message)
        self.message = message
        self.transaction_id = transaction_id


class NoReply(Bep15Error):
    """No valid reply arrived within the retries."""


class ProtocolError(Bep15Error):
    """A reply with our transaction id that does not parse."""


class AnnounceReply:
    """A parsed announce reply. peers: list of (address text, port)."""

    def __init__(self, interval, leechers, seeders, peers, peer_len, size):
        self.interval = interval
        self.leechers = leechers
        self.seeders = seeders
        self.peers = peers
        self.peer_len = peer_len  # 6 (IPv4) or 18 (IPv6) bytes per peer
        self.size = size          # bytes of the whole reply

    def __repr__(self):
        return (f"AnnounceReply(interval={self.interval}, seeders={self.seeders}, "
                f"leechers={self.leechers}, peers={self.peers})")


class ScrapeEntry:
    """One info hash's counters from a scrape reply (BEP 15 order)."""

    def __init__(self, complete, downloaded, incomplete):
        self.complete = complete      # seeders
        self.downloaded = downloaded  # completed downloads
        self.incomplete = incomplete  # leechers

    def __repr__(self):
        return (f"ScrapeEntry(complete={self.complete}, downloaded={self.downloaded}, "
                f"incomplete={self.incomplete})")

    def __eq__(self, other):
        return (isinstance(other, ScrapeEntry) and
                (self.complete, self.downloaded, self.incomplete) ==
                (other.complete, other.downloaded, other.incomplete))


def url_data_options(data):
    """BEP 41 option bytes carrying data (bytes) as URLData options of at
    most 255 bytes each, then EndOfOptions. Empty data gives just the end."""
    out = bytearray()
    for i in range(0, len(data), 255):
        chunk = data[i:i + 255]
        out += bytes((OPT_URL_DATA, len(chunk))) + chunk
    out.append(OPT_END)
    return bytes(out)


def parse_peers(body, family):
    """Compact peers of family (socket.AF_INET: 6 bytes each, AF_INET6: 18)
    as a list of (address text, port). Raises ProtocolError if body is not a
    whole number of entries."""
    plen = PEER4_LEN if family == socket.AF_INET else PEER6_LEN
    if len(body) % plen:
        raise ProtocolError(f"{len(body)} bytes of peers is not a multiple of {plen}")
    peers = []
    for off in range(0, len(body), plen):
        addr = socket.inet_ntop(family, body[off:off + plen - 2])
        (port,) = struct.unpack_from("!H", body, off + plen - 2)
        peers.append((addr, port))
    return peers


def parse_tracker_url(url):
    """(host, port) from udp://HOST:PORT[/path]; IPv6 hosts in brackets.
    Raises ValueError."""
    u = urllib.parse.urlsplit(url)
    if u.scheme != "udp" or not u.hostname or not u.port:
        raise ValueError(f"not a udp://HOST:PORT tracker URL: {url}")
    return u.hostname, u.port


def connected_socket(family, kind, address, source=None, timeout=None):
    """A socket of family and kind (SOCK_DGRAM, SOCK_STREAM) bound to source
    (an address text, any port) if given and connected to address; a
    connected UDP socket only hears from that address:port. timeout, if
    given, is set first, so it bounds the connect. The caller owns the
    socket; on an OSError it is closed and the error raised."""
    sock = socket.socket(family, kind)
    try:
        if timeout is not None:
            sock.settimeout(timeout)
        if source is not None:
            sock.bind((source, 0))
        sock.connect(address)
    except OSError:
        sock.close()
        raise
    return sock


class Client:
    """A BEP 15 client talking to one tracker from one UDP socket.

    host: the tracker's address or name; its family (IPv4/IPv6) is the
    socket's. source: optional local address to bind (for acting as several
    peers from one host). timeout: seconds one attempt waits; retries: extra
    attempts after the first. The connection id is fetched on first use and
    renewed after a minute (BEP 15).
    """

    def __init__(self, host, port, source=None, timeout=2.0, retries=2):
        if timeout <= 0 or retries < 0:
            raise ValueError("timeout must be > 0 and retries >= 0")
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        family, _, _, _, addr = infos[0]
        self.family = family
        self.address = addr
        self.timeout = timeout
        self.retries = retries
        self.connection_id = None
        self._connected_at = 0.0
        self.ignored = 0  # replies dropped for a wrong transaction id or size
        self.sock = connected_socket(family, socket.SOCK_DGRAM, addr, source=source)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def local_address(self):
        """(address text, port) this client sends from."""
        return self.sock.getsockname()[:2]

    def transact(self, packet, transaction_id):
        """Sends packet (a request carrying transaction_id at bytes 12..15)
        and returns (action, body after the 8-byte header) of the first reply
        with that transaction id. Raises TrackerError for an error reply,
        NoReply when none came in (retries + 1) * timeout seconds."""
        why = "no reply"
        for _ in range(self.retries + 1):
            deadline = time.monotonic() + self.timeout
            try:
                self.sock.send(packet)
            except OSError as e:
                why = f"send: {e.strerror}"
                time.sleep(max(0.0, deadline - time.monotonic()))
                continue
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.sock.settimeout(left)
                try:
                    data = self.sock.recv(65535)
                except socket.timeout:
                    break
                except ConnectionRefusedError:
                    # ICMP port unreachable: nobody listens (yet). Wait out the
                    # attempt so retries stay spaced.
                    why = "port unreachable"
                    time.sleep(max(0.0, deadline - time.monotonic()))
                    break
                if len(data) < 8:
                    self.ignored += 1
                    continue
                action, tid = struct.unpack_from("!II", data)
                if tid != transaction_id:
                    self.ignored += 1
                    continue
                if action == ACTION_ERROR:
                    msg = data[8:].decode("utf-8", "replace")
                    raise TrackerError(msg, tid)
                return action, data[8:]
        raise NoReply(f"{why} from {self.address[0]} port {self.address[1]} after "
                      f"{self.retries + 1} attempt(s) of {self.timeout:g} s")

    @staticmethod
    def _expect(action, wanted, body, min_len):
        if action != wanted:
            raise ProtocolError(f"reply action {action}, expected {wanted}")
        if len(body) < min_len:
            raise ProtocolError(f"reply body {len(body)} bytes, expected >= {min_len}")

    def connect(self):
        """BEP 15 connect. Returns the connection id (int) and keeps it."""
        tid = secrets.randbits(32)
        action, body = self.transact(struct.pack("!QII", PROTOCOL_ID, ACTION_CONNECT, tid), tid)
        self._expect(action, ACTION_CONNECT, body, 8)
        (self.connection_id,) = struct.unpack_from("!Q", body)
        self._connected_at = time.monotonic()
        return self.connection_id

    def _connection_id(self, given):
        if given is not None:
            return given
        if (self.connection_id is None or
                time.monotonic() - self._connected_at > CONNECTION_ID_LIFETIME):
            self.connect()
        return self.connection_id

    def announce(self, info_hash, peer_id=None, event=EVENT_NONE, left=0, downloaded=0,
                 uploaded=0, numwant=-1, port=6881, key=None, url_data=None,
                 connection_id=None):
        """BEP 15 announce. info_hash, peer_id: 20 bytes (peer_id random if
        None). url_data: bytes sent as BEP 41 URLData options, or None for no
        options. connection_id: use this id instead of connecting (to test
        forged ids). Returns an AnnounceReply; its peers are of this client's
        family."""
        if len(info_hash) != 20:
            raise ValueError("info_hash must be 20 bytes")
        peer_id = secrets.token_bytes(20) if peer_id is None else peer_id
        if len(peer_id) != 20:
            raise ValueError("peer_id must be 20 bytes")
        cid = self._connection_id(connection_id)
        tid = secrets.randbits(32)
        key = secrets.randbits(32) if key is None else key
        # The 98-byte announce; ip 0 = "use the source address".
        pkt = struct.pack("!QII20s20sQQQIIIiH", cid, ACTION_ANNOUNCE, tid, info_hash, peer_id,
                          downloaded, left, uploaded, event, 0, key, numwant, port)
        if url_data is not None:
            pkt += url_data_options(url_data)
        action, body = self.transact(pkt, tid)
        self._expect(action, ACTION_ANNOUNCE, body, 12)
        interval, leechers, seeders = struct.unpack_from("!III", body)
        peers = parse_peers(body[12:], self.family)
        plen = PEER4_LEN if self.family == socket.AF_INET else PEER6_LEN
        return AnnounceReply(interval, leechers, seeders, peers, plen, 8 + len(body))

    def scrape(self, info_hashes, connection_id=None):
        """BEP 15 scrape of a list of 20-byte info hashes. Returns a list of
        ScrapeEntry in request order; a tracker may answer only the first
        ones (never more than asked)."""
        if any(len(h) != 20 for h in info_hashes):
            raise ValueError("info hashes must be 20 bytes")
        cid = self._connection_id(connection_id)
        tid = secrets.randbits(32)
        pkt = struct.pack("!QII", cid, ACTION_SCRAPE, tid) + b"".join(info_hashes)
        action, body = self.transact(pkt, tid)
        self._expect(action, ACTION_SCRAPE, body, 0)
        if len(body) % 12 or len(body) // 12 > len(info_hashes):
            raise ProtocolError(f"scrape reply body of {len(body)} bytes for "
                                f"{len(info_hashes)} hash(es)")
        return [ScrapeEntry(*struct.unpack_from("!III", body, off))
                for off in range(0, len(body), 12)]


def _hash_arg(text):
    try:
        b = bytes.fromhex(text)
    except ValueError:
        b = b""
    if len(b) != 20:
        raise argparse.ArgumentTypeError(f"not 40 hex digits: {text}")
    return b


def _u64_arg(text):
    v = int(text, 0)
    if not 0 <= v < 1 << 64:
        raise argparse.ArgumentTypeError(f"out of range: {text}")
    return v


def _parser():
    p = argparse.ArgumentParser(
        description="BEP 15 UDP tracker client.",
        epilog="Exit status: 0 ok, 1 tracker error reply, 2 usage, 3 no reply, 4 bad reply.")
    p.add_argument("url", help="udp://HOST:PORT/announce (IPv6: udp://[ADDR]:PORT/...)")
    p.add_argument("--bind", metavar="ADDR", help="local source address")
    p.add_argument("--timeout", type=float, default=2.0, help="seconds per attempt (2)")
    p.add_argument("--retries", type=int, default=2, help="extra attempts (2)")
    p.add_argument("--connection-id", type=lambda s: int(s, 16), metavar="HEX",
                   help="use this connection id instead of connecting")
    sub = p.add_subparsers(dest="action", required=True)
    sub.add_parser("connect", help="get a connection id")
    a = sub.add_parser("announce", help="announce to a swarm")
    a.add_argument("--info-hash", type=_hash_arg, required=True, metavar="HEX")
    a.add_argument("--peer-id", type=_hash_arg, metavar="HEX", help="random if not given")
    a.add_argument("--event", choices=EVENTS, default="started")
    a.add_argument("--left", type=_u64_arg, default=0, help="bytes left; 0 = seeder (0)")
    a.add_argument("--downloaded", type=_u64_arg, default=0)
    a.add_argument("--uploaded", type=_u64_arg, default=0)
    a.add_argument("--numwant", type=int, default=-1, help="-1 = tracker default")
    a.add_argument("--port", type=int, default=6881, help="our listening port (6881)")
    a.add_argument("--url-data", nargs="?", const="", metavar="TEXT",
                   help="send BEP 41 URLData: TEXT, or the URL's path and query if no TEXT")
    s = sub.add_parser("scrape", help="scrape swarms")
    s.add_argument("info_hash", type=_hash_arg, nargs="+", metavar="HASH")
    return p


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        host, port = parse_tracker_url(args.url)
        if not 0 <= getattr(args, "port", 0) <= 65535 or args.retries < 0 or args.timeout <= 0:
            raise ValueError("--port, --retries or --timeout out of range")
    except ValueError as e:
        print(f"bep15_client: {e}", file=sys.stderr)
        return 2
    try:
        with Client(host, port, source=args.bind, timeout=args.timeout,
                    retries=args.retries) as c:
            if args.action == "connect":
                print(f"connection_id {c.connect():016x}")
            elif args.action == "announce":
                url_data = None
                if args.url_data is not None:
                    u = urllib.parse.urlsplit(args.url)
                    text = args.url_data or u.path + ("?" + u.query if u.query else "")
                    url_data = text.encode()
                r = c.announce(args.info_hash, peer_id=args.peer_id, event=EVENTS[args.event],
                               left=args.left, downloaded=args.downloaded,
                               uploaded=args.uploaded, numwant=args.numwant, port=args.port,
                               url_data=url_data, connection_id=args.connection_id)
                print(f"interval {r.interval}")
                print(f"seeders {r.seeders}")
                print(f"leechers {r.leechers}")
                print(f"peers {len(r.peers)}")
                for addr, pport in r.peers:
                    shown = f"[{addr}]" if ":" in addr else addr
                    print(f"peer {shown}:{pport}")
            else:
                entries = c.scrape(args.info_hash, connection_id=args.connection_id)
                for h, e in zip(args.info_hash, entries):
                    print(f"{h.hex()} complete {e.complete} downloaded {e.downloaded} "
                          f"incomplete {e.incomplete}")
                if len(entries) < len(args.info_hash):
                    print(f"(tracker answered {len(entries)} of {len(args.info_hash)} hashes)")
    except TrackerError as e:
        print(f"tracker error: {e.message}")
        return 1
    except NoReply as e:
        print(f"bep15_client: {e}", file=sys.stderr)
        return 3
    except ProtocolError as e:
        print(f"bep15_client: bad reply: {e}", file=sys.stderr)
        return 4
    except OSError as e:
        print(f"bep15_client: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
