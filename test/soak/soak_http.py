#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""soak_http.py - the HTTP clients of scripts/soak.sh, for a bounded time.

Three kinds of client, each a thread with one connection at a time:

  keep-alive  --clients threads share --rate requests a second: announces
              (events started, none, completed and stopped, over --torrents
              torrents of their own, from IPv4 and IPv6 loopback) and now and
              then a BEP 48 scrape of several of them, on one connection
              until the server closes it;
  slow        --slow threads send each request one byte at a time, --trickle-ms
              apart (and all of it within 4 s, under http.idle_timeout),
              then read the reply;
  idle        --idle threads open a connection, send nothing and wait for the
              server to close it (http.idle_timeout), then open another.

Every reply must be a 200 with a bencoded dictionary and no failure reason,
within 10 s; anything else is a failure. A reply after more than a second
is counted late (a host busy with other work), not failed. A connection
the server closes is opened again (counted: a keep-alive or slow connection
closed by the server is expected only after an idle spell, so it is
counted, not failed).

Prints one line at the end:
  HTTP requests=N ok=N failed=N late=N slow_ok=N idle_closed=N reconnects=N
and the first few failures before it. Exits 1 if any request failed or none
succeeded, 2 on a usage error.

Usage: soak_http.py --port P --duration S [--host4 127.0.0.1] [--host6 ::1]
           [--clients N] [--rate R] [--slow N] [--trickle-ms MS] [--idle N]
           [--torrents N] [--seed N]
"""

import argparse
import hashlib
import os
import random
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import http_client as hc  # noqa: E402

FAILURES_SHOWN = 5
SLOW_WITHIN_S = 4.0  # a slow request is sent whole within this (idle_timeout: 10 s)
REPLY_WITHIN_S = 10.0  # a reply later than this is a failure; later than 1 s, late


class Tally:
    """Counters the threads share (one lock: a few hundred updates a second)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.n = {"requests": 0, "ok": 0, "failed": 0, "late": 0, "slow_ok": 0,
                  "idle_closed": 0, "reconnects": 0}
        self.failures = []

    def add(self, key, why=None):
        with self.lock:
            self.n[key] += 1
            if why is not None and len(self.failures) < FAILURES_SHOWN:
                self.failures.append(why)


def torrent_hash(seed, i):
    return hashlib.sha1(f"dptrack soak http {seed} {i}".encode()).digest()


def check_reply(r):
    """None if r is a good tracker reply, else why not."""
    if r.status != 200:
        return f"status {r.status}"
    try:
        d = hc.bdecode(r.body)
    except hc.BencodeError as e:
        return f"body does not decode: {e}"
    if not isinstance(d, dict):
        return "body is not a dictionary"
    if b"failure reason" in d:
        return f"failure reason {d[b'failure reason']!r}"
    return None


def next_target(rng, a):
    """A random request of the keep-alive mix: 1 in 10 a scrape of up to 8
    torrents, else an announce with a random event."""
    if rng.random() < 0.1:
        return hc.scrape_target([torrent_hash(a.seed, rng.randrange(a.torrents))
                                 for _ in range(rng.randint(1, 8))])
    event = rng.choice(["started", "started", "completed", "stopped", None, None, None])
    params = {"numwant": rng.choice([0, 10, 50]), "uploaded": 0, "downloaded": 0}
    if event:
        params["event"] = event
    return hc.announce_target(torrent_hash(a.seed, rng.randrange(a.torrents)),
                              hc.new_peer_id(), rng.randint(1024, 65535),
                              0 if event == "completed" or rng.random() < 0.3 else 1 << 20,
                              params)


def keepalive(a, tally, host, deadline, pace, seed):
    rng = random.Random(seed)
    conn = None
    next_at = time.monotonic()
    while time.monotonic() < deadline:
        next_at += pace
        time.sleep(max(0.0, next_at - time.monotonic()))
        try:
            if conn is None:
                conn = hc.Conn(host, a.port, timeout=5)
                tally.add("reconnects")
            tally.add("requests")
            sent = time.monotonic()
            conn.send(hc.request_bytes("GET", next_target(rng, a)))
            r = conn.read_response(timeout=REPLY_WITHIN_S)
            if time.monotonic() - sent > 1.0:
                tally.add("late")
        except (OSError, hc.HttpError) as e:
            # The server closed an idle connection between requests: the
            # request was not answered; open another and go on.
            if conn is not None and "closed before" in str(e):
                conn.close()
                conn = None
                continue
            tally.add("failed", f"{host}: {e}")
            if conn is not None:
                conn.close()
            conn = None
            continue
        why = check_reply(r)
        tally.add("ok" if why is None else "failed", None if why is None else f"{host}: {why}")
    if conn is not None:
        conn.close()


def slow(a, tally, host, deadline, seed):
    rng = random.Random(seed)
    while time.monotonic() < deadline:
        req = hc.request_bytes("GET", next_target(rng, a))
        try:
            with hc.Conn(host, a.port, timeout=5) as conn:
                tally.add("requests")
                # A byte every trickle_ms, the whole request within
                # SLOW_WITHIN_S (under http.idle_timeout).
                pause = min(a.trickle_ms / 1000.0, SLOW_WITHIN_S / len(req))
                for i in range(len(req)):
                    conn.send(req[i:i + 1])
                    time.sleep(pause)
                r = conn.read_response(timeout=REPLY_WITHIN_S)
        except (OSError, hc.HttpError) as e:
            tally.add("failed", f"slow {host}: {e}")
            continue
        why = check_reply(r)
        if why is None:
            tally.add("ok")
            tally.add("slow_ok")
        else:
            tally.add("failed", f"slow {host}: {why}")


def idle(a, tally, host, deadline):
    while time.monotonic() < deadline:
        try:
            with hc.Conn(host, a.port, timeout=5) as conn:
                if conn.closed_within(max(0.1, deadline - time.monotonic())):
                    tally.add("idle_closed")
        except OSError as e:
            tally.add("failed", f"idle {host}: {e}")
            time.sleep(1)


def main():
    p = argparse.ArgumentParser(description="HTTP clients beside a soak")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--host4", default="127.0.0.1")
    p.add_argument("--host6", default="::1")
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--rate", type=float, default=100.0, help="keep-alive requests/s, all")
    p.add_argument("--slow", type=int, default=4)
    p.add_argument("--trickle-ms", type=float, default=20.0)
    p.add_argument("--idle", type=int, default=8)
    p.add_argument("--torrents", type=int, default=200)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    if not (0 < a.duration <= 7 * 86400 and 0 <= a.clients <= 64 and 0 <= a.slow <= 64 and
            0 <= a.idle <= 256 and 0 < a.rate <= 10000 and a.torrents > 0):
        print("soak_http: an argument is out of range", file=sys.stderr)
        return 2
    tally = Tally()
    deadline = time.monotonic() + a.duration
    hosts = [h for h in (a.host4, a.host6) if h]
    threads = []
    for i in range(a.clients):
        threads.append(threading.Thread(target=keepalive, args=(
            a, tally, hosts[i % len(hosts)], deadline, a.clients / a.rate, a.seed * 1000 + i)))
    for i in range(a.slow):
        threads.append(threading.Thread(target=slow, args=(
            a, tally, hosts[i % len(hosts)], deadline, a.seed * 2000 + i)))
    for i in range(a.idle):
        threads.append(threading.Thread(target=idle, args=(
            a, tally, hosts[i % len(hosts)], deadline)))
    for t in threads:
        t.daemon = True
        t.start()
    # Every wait in a thread is bounded (connect 5 s, a reply 10 s, a slow
    # request len * trickle): give them that long after the deadline.
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()) + 30)
    for why in tally.failures:
        print(f"HTTP failure: {why}")
    n = tally.n
    print("HTTP " + " ".join(f"{k}={v}" for k, v in n.items()))
    sys.stdout.flush()
    return 0 if n["failed"] == 0 and n["ok"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
