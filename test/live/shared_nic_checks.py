#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""shared_nic_checks.py - what shared_nic.sh checks from a namespace, beside
udp_checks.py: one interface, one address per family, three services.

  serve-echo   (tracker namespace) a TCP echo service of the kernel's on the
               shared addresses: what SSH would be; exits after --seconds
  checks       (client namespace) BEP 15 peers and HTTP peers of one fresh
               swarm, over both families, see each other; the kernel's TCP
               service answers on the same addresses
  unreachable  (client namespace) a datagram to the tracker's UDP port gets
               the kernel's ICMP port unreachable, over both families

Prints one "ok - NAME" or "not ok - NAME: detail" line per check and exits
1 if any failed. Every wait is bounded (--timeout seconds per reply).

Usage: shared_nic_checks.py MODE --v4 ADDR --v6 ADDR --port N [--tcp-port N]
           [--src4 A,B] [--src6 A,B] [--seconds S] [--timeout S]
"""

import argparse
import os
import secrets
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import bep15_client as b  # noqa: E402  (needs the path above)
import http_client as h  # noqa: E402
from tap import Checks, expect, first, norm  # noqa: E402  (beside this file)

UDP_PEER_PORT = 51413   # the BEP 15 seeder's listening port
HTTP_PEER_PORT = 6881   # the HTTP leecher's
SIZE = 1000             # bytes the HTTP leecher still needs


def serve_echo(args):
    """Echoes one line per connection on both addresses until --seconds."""
    def serve(fam, addr):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, args.tcp_port))
        s.listen(16)
        s.settimeout(1.0)
        while time.monotonic() < deadline:
            try:
                c, _ = s.accept()
            except socket.timeout:
                continue
            with c:
                c.settimeout(args.timeout)
                try:
                    c.sendall(c.recv(256))
                except OSError:
                    pass

    deadline = time.monotonic() + args.seconds
    threads = [threading.Thread(target=serve, args=(f, a), daemon=True)
               for f, a in ((socket.AF_INET, args.v4), (socket.AF_INET6, args.v6))]
    for t in threads:
        t.start()
    print("serving", flush=True)
    for t in threads:
        t.join()
    return 0


def echo_check(fam, addr, port, timeout):
    def fn():
        with socket.create_connection((addr, port), timeout=timeout) as s:
            msg = b"shared nic " + secrets.token_hex(4).encode()
            s.sendall(msg)
            return expect("echo", s.recv(256), msg)
    return fn


def run_checks(args):
    c = Checks(errors=(OSError, b.TrackerError, b.ProtocolError, h.HttpError, h.BencodeError))
    info_hash = secrets.token_bytes(20)
    fams = (("IPv4", socket.AF_INET, args.v4, args.src4, b"peers"),
            ("IPv6", socket.AF_INET6, args.v6, args.src6, b"peers6"))
    udp = {}
    for name, fam, tracker, (src, _), _ in fams:
        udp[name] = b.Client(tracker, args.port, source=src, timeout=args.timeout, retries=2)

    # A BEP 15 seeder per family, then an HTTP leecher per family: each HTTP
    # reply holds its family's UDP seeder, and counts both.
    for i, (name, fam, tracker, (src, _), _) in enumerate(fams):
        def seed(name=name, i=i):
            r = udp[name].announce(info_hash, event=b.EVENT_STARTED, left=0, port=UDP_PEER_PORT)
            return first(expect("seeders", r.seeders, i + 1), expect("peers", r.peers, []))
        c.check(f"BEP 15 seeder over {name} from {src} announces to udp://{tracker}", seed)
    for i, (name, fam, tracker, (src, http_src), key) in enumerate(fams):
        def leech(fam=fam, tracker=tracker, src=src, http_src=http_src, key=key, i=i):
            with h.Conn(tracker, args.port, source=http_src, timeout=args.timeout) as conn:
                r = conn.request("GET", h.announce_target(info_hash, h.new_peer_id(),
                                                          HTTP_PEER_PORT, SIZE))
            d = h.bdecode(r.body)
            peers = [(norm(a), p) for a, p in h.compact_peers(d, key, fam)]
            return first(expect("status", r.status, 200),
                         expect("complete (the UDP seeders of both families)",
                                d.get(b"complete"), 2),
                         expect("incomplete (the HTTP leechers so far)", d.get(b"incomplete"),
                                i + 1),
                         expect(f"{key.decode()}", peers, [(norm(src), UDP_PEER_PORT)]))
        c.check(f"HTTP leecher over {name} from {http_src} gets the BEP 15 seeder from "
                f"http://{tracker}:{args.port}", leech)
    # And BEP 15 sees the HTTP leechers: both counted, its family's listed.
    for name, fam, tracker, (src, http_src), _ in fams:
        def see(name=name, http_src=http_src):
            r = udp[name].announce(info_hash, event=b.EVENT_NONE, left=0, port=UDP_PEER_PORT)
            return first(expect("seeders", r.seeders, 2), expect("leechers", r.leechers, 2),
                         expect("peers", sorted((norm(a), p) for a, p in r.peers),
                                [(norm(http_src), HTTP_PEER_PORT)]))
        c.check(f"BEP 15 seeder over {name} gets the HTTP leecher of its family", see)
    for name, fam, tracker, _, _ in fams:
        c.check(f"the kernel's TCP service on {tracker}:{args.tcp_port} answers",
                echo_check(fam, tracker, args.tcp_port, args.timeout))
    for client in udp.values():
        client.close()
    return 1 if c.failed else 0


def unreachable_check(fam, addr, port, timeout):
    """A connected UDP socket learns of the ICMP error: recv raises
    ConnectionRefusedError. Three tries, in case the first goes to
    neighbour discovery."""
    def fn():
        with socket.socket(fam, socket.SOCK_DGRAM) as s:
            s.connect((addr, port))
            s.settimeout(timeout)
            for _ in range(3):
                s.send(struct.pack("!QII", b.PROTOCOL_ID, b.ACTION_CONNECT, secrets.randbits(32)))
                try:
                    data = s.recv(2048)
                    return f"a reply of {len(data)} bytes: something still answers"
                except ConnectionRefusedError:
                    return None
                except socket.timeout:
                    continue
            return "no port unreachable within the tries"
    return fn


def run_unreachable(args):
    c = Checks()
    for name, fam, addr in (("IPv4", socket.AF_INET, args.v4), ("IPv6", socket.AF_INET6, args.v6)):
        c.check(f"a datagram to {name} {addr} port {args.port} gets the kernel's port unreachable",
                unreachable_check(fam, addr, args.port, args.timeout))
    return 1 if c.failed else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=("serve-echo", "checks", "unreachable"))
    p.add_argument("--v4", required=True)
    p.add_argument("--v6", required=True)
    p.add_argument("--port", type=int, default=6969)
    p.add_argument("--tcp-port", type=int, default=2222)
    p.add_argument("--src4", default="", help="BEP 15 seeder,HTTP leecher addresses")
    p.add_argument("--src6", default="", help="BEP 15 seeder,HTTP leecher addresses")
    p.add_argument("--seconds", type=float, default=120)
    p.add_argument("--timeout", type=float, default=2.0)
    args = p.parse_args()
    if args.mode == "serve-echo":
        return serve_echo(args)
    if args.mode == "unreachable":
        return run_unreachable(args)
    args.src4 = args.src4.split(",")
    args.src6 = args.src6.split(",")
    if len(args.src4) != 2 or len(args.src6) != 2:
        p.error("--src4 and --src6 take two addresses each")
    return run_checks(args)


if __name__ == "__main__":
    sys.exit(main())
