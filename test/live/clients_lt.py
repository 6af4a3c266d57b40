# SPDX-License-Identifier: BSD-3-Clause
"""clients_lt.py - the libtorrent side of test/live/clients.sh.

Run with Debian's /usr/bin/python3 (python3-libtorrent 2.0). Three commands:

  make DATA TORRENT URL     writes a v1-only .torrent of the file DATA with
                            the one tracker URL; prints its info hash (hex)
  run --listen ADDR:PORT --torrent T --dir D [--seed]
                            one libtorrent session bound to exactly that
                            address (libtorrent announces once per listen
                            socket), seeding (--seed: D holds the data) or
                            downloading into D; logs every alert to stdout
                            until SIGTERM or SIGINT
  scrape HOST PORT HEX      prints "complete incomplete" for that info hash
                            from the tracker's HTTP /scrape (BEP 48), or
                            exits 1 if there is no entry
  peers HOST PORT HEX SRC   announces to the tracker's HTTP /announce from
                            SRC as an observer (port 1, left 1), prints the
                            swarm's peers as "ADDR PORT" lines (peers and
                            peers6), then announces "stopped" to leave again

The session finds peers only through the tracker: no DHT, local service
discovery, UPnP, NAT-PMP, and no PEX (the session starts without its default
plugins, and every torrent carries disable_pex/dht/lsd).
"""

import argparse
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

RUN_MAX = 600  # seconds: a session never outlives this even if nobody stops it


def make(args):
    import libtorrent as lt
    fs = lt.file_storage()
    lt.add_files(fs, args.data)
    ct = lt.create_torrent(fs, 0, flags=lt.create_torrent.v1_only)
    ct.add_tracker(args.url)
    lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(args.data)))
    with open(args.torrent, "wb") as f:
        f.write(lt.bencode(ct.generate()))
    print(str(lt.torrent_info(args.torrent).info_hashes().v1))


def run(args):
    import libtorrent as lt
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    settings = {
        "listen_interfaces": args.listen,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        # The tracker and the peers are on private addresses: let libtorrent
        # talk to them.
        "ssrf_mitigation": False,
        "allow_multiple_connections_per_ip": True,
        "alert_mask": lt.alert.category_t.all_categories,
    }
    ses = lt.session(settings, flags=0)  # 0: no default plugins, so no ut_pex
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(args.torrent)
    atp.save_path = args.dir
    atp.flags |= (lt.torrent_flags.disable_dht | lt.torrent_flags.disable_lsd |
                  lt.torrent_flags.disable_pex)
    atp.flags &= ~lt.torrent_flags.auto_managed
    atp.flags &= ~lt.torrent_flags.paused
    if args.seed:
        atp.flags |= lt.torrent_flags.seed_mode
    h = ses.add_torrent(atp)
    t0 = time.monotonic()
    last = -1.0
    while not stop and time.monotonic() - t0 < RUN_MAX:
        ses.wait_for_alert(200)
        for a in ses.pop_alerts():
            print(f"{time.monotonic() - t0:7.2f} {a.what()}: {a.message()}", flush=True)
        now = time.monotonic() - t0
        if now - last >= 1.0:
            last = now
            s = h.status()
            print(f"{now:7.2f} status: {s.state} {s.progress * 100:.1f}% peers {s.num_peers} "
                  f"down {s.total_payload_download} up {s.total_payload_upload}", flush=True)
    print(f"{time.monotonic() - t0:7.2f} stopping", flush=True)


def scrape(args):
    import http_client
    ih = bytes.fromhex(args.hex)
    with http_client.Conn(args.host, args.port) as c:
        r = c.request("GET", http_client.scrape_target([ih]))
    d = http_client.bdecode(r.body)
    e = d.get(b"files", {}).get(ih)
    if r.status != 200 or e is None:
        sys.exit(1)
    print(e[b"complete"], e[b"incomplete"])


def peers(args):
    import socket
    import http_client
    ih = bytes.fromhex(args.hex)
    pid = http_client.new_peer_id()
    with http_client.Conn(args.host, args.port, source=args.src) as c:
        r = c.request("GET", http_client.announce_target(ih, pid, 1, 1, {"numwant": 200}))
        d = http_client.bdecode(r.body)
        c.request("GET", http_client.announce_target(ih, pid, 1, 1, {"event": "stopped"}))
    if r.status != 200 or b"failure reason" in d:
        print(f"announce failed: {r!r}", file=sys.stderr)
        sys.exit(1)
    for key, family in ((b"peers", socket.AF_INET), (b"peers6", socket.AF_INET6)):
        for addr, port in http_client.compact_peers(d, key, family):
            print(addr, port)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("data")
    m.add_argument("torrent")
    m.add_argument("url")
    r = sub.add_parser("run")
    r.add_argument("--listen", required=True)
    r.add_argument("--torrent", required=True)
    r.add_argument("--dir", required=True)
    r.add_argument("--seed", action="store_true")
    s = sub.add_parser("scrape")
    s.add_argument("host")
    s.add_argument("port", type=int)
    s.add_argument("hex")
    o = sub.add_parser("peers")
    o.add_argument("host")
    o.add_argument("port", type=int)
    o.add_argument("hex")
    o.add_argument("src")
    args = p.parse_args()
    {"make": make, "run": run, "scrape": scrape, "peers": peers}[args.cmd](args)


if __name__ == "__main__":
    main()
