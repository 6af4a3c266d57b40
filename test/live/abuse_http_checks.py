#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""abuse_http_checks.py - the HTTP path under abuse at scale, run by abuse_http.sh.

Run inside the client namespace, with dptrack's PID (same PID namespace) to
read its threads' CPU time and descriptors and to lower its open-files
limit for a moment. Sections, in order:

  crowd     2,000 connections held at once from two IPv4 and one IPv6
            address, half idle (no byte sent), half slow-header (part of a
            request line or head, then nothing), while a keep-alive client
            gets 20 answers (announce, heartbeat) each well under a second,
            /stats counts them all open and oversize requests still get
            431; then the server closes every one of them after the idle
            timeout, without a response byte.
  segments  an announce, then an announce and a scrape pipelined, written
            one byte per send() with TCP_NODELAY (a TCP segment per byte,
            or nearly, as TCP_INFO counts): answers correct and in order.
  cap       max_connections + 6 connections: exactly 6 are closed at once
            without a byte, counted as refused; survivors still answer,
            and new connections are served once they are gone.
  fd limit  dptrack's soft RLIMIT_NOFILE lowered to leave room for 40 more
            descriptors, then 60 connections: the 20 or so it cannot take
            are closed at once without a byte and counted as refused, the
            rest accepted (but at most one per HTTP thread left waiting),
            its HTTP threads do not spin (CPU time); once the limit is back,
            every one it did not close is answered and new ones are served.

Every wait is bounded by a deadline and every loop by a count. Sockets are
watched with epoll (select() stops at descriptor 1024). Prints one
"ok - NAME" or "not ok - NAME: detail" line per check, "# " lines with the
figures, and exits 1 if any failed.

Usage: abuse_http_checks.py --v4 ADDR --v6 ADDR --port N --src4 ALLOWED,A,B
                            --src6 ALLOWED,A --max-connections N
                            --idle-timeout S --max-request-bytes N --pid PID
"""

import argparse
import json
import os
import resource
import secrets
import select
import socket
import statistics
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from http_client import (BencodeError, Conn, HttpError, announce_target,  # noqa: E402
                         bdecode, compact_peers, new_peer_id, request_bytes, scrape_target)
from tap import Checks, expect, first, norm  # noqa: E402  (beside this file)

CROWD = 2000         # connections held at once: half idle, half slow-header
KEEP_REQUESTS = 20   # answers the keep-alive client gets meanwhile
FAST = 0.5           # seconds one of them may take (http_checks.py's bound)
CAP_EXTRA = 6        # connections past max_connections
FD_ROOM = 40         # descriptors left to dptrack in the fd limit section
FD_EXTRA = 20        # connections past them
NOFILE = 8192        # this program's own soft limit: every socket above, and room
TCPI_DATA_SEGS_OUT = 156  # offset of tcpi_data_segs_out in struct tcp_info (Linux 4.6+)
SLOW_HEADS = (b"GET /announce?info_hash=",
              b"GET /heartbeat HTTP/1.1\r\nHost: tracker.test\r\nX-Slow: ",
              b"GET /scrape HTTP/1.1\r\n",
              b"G")


class Tracker:
    """The tracker's HTTP addresses, this client's sources, dptrack's PID."""

    def __init__(self, a):
        self.a = a
        self.port = a.port
        self.v4, self.v6 = a.v4, a.v6
        self.allowed4, *crowd4 = a.src4.split(",")
        self.crowd = crowd4 + a.src6.split(",")[1:]

    def host_for(self, src):
        return self.v6 if ":" in src else self.v4

    def conn(self, src):
        return Conn(self.host_for(src), self.port, src)

    def stats(self):
        """/stats as a dict, over a connection of its own from the allowed source."""
        with self.conn(self.allowed4) as c:
            return stats_on(c)


def stats_on(c):
    r = c.request("GET", "/stats")
    if r.status != 200:
        raise HttpError(f"/stats status {r.status}")
    return json.loads(r.body)


def watch_closes(conns, until):
    """Watches conns ({key: Conn}) until every one is closed by the server
    or `until` (monotonic time) passes. Returns ({key: monotonic time it was
    seen closed}, {key: bytes it sent}, {key: "eof" or "reset"}). At most
    100000 wakes."""
    socks = {k: c.sock for k, c in conns.items()}
    ep = select.epoll()
    by_fd = {}
    closed, data, how = {}, {}, {}
    try:
        for k, s in socks.items():
            s.setblocking(False)  # a readable socket's recv() must not wait
            ep.register(s.fileno(), select.EPOLLIN | select.EPOLLRDHUP)
            by_fd[s.fileno()] = k
        for _ in range(100000):
            left = until - time.monotonic()
            if left <= 0 or len(closed) == len(socks):
                break
            for fd, _ in ep.poll(min(left, 0.1), 1024):
                k = by_fd[fd]
                try:
                    chunk = socks[k].recv(65536)
                    kind = "eof"
                except BlockingIOError:
                    continue
                except OSError:
                    chunk, kind = b"", "reset"
                if chunk:
                    data[k] = data.get(k, b"") + chunk[:256]
                    continue
                closed[k] = time.monotonic()
                how[k] = kind
                ep.unregister(fd)
    finally:
        ep.close()
        for s in socks.values():
            s.settimeout(3.0)
    return closed, data, how


def closed_within(sock, wait):
    """True if the server closes sock (EOF or reset) within wait seconds,
    whatever it sends first. poll(), so any descriptor number works."""
    p = select.poll()
    p.register(sock.fileno(), select.POLLIN)
    deadline = time.monotonic() + wait
    for _ in range(1000):
        left = deadline - time.monotonic()
        if left <= 0 or not p.poll(left * 1000):
            return False
        try:
            if not sock.recv(65536):
                return True
        except OSError:
            return True
    return False


def close_all(conns):
    for c in conns.values():
        c.close()


def http_ticks(pid):
    """CPU time (clock ticks, user + system) of dptrack's HTTP threads,
    named dpt-http0, dpt-http1, ... Raises OSError if there are none."""
    total, n = 0, 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except FileNotFoundError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        if name.startswith("dpt-http"):
            fields = stat[stat.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
            n += 1
    if n == 0:
        raise OSError(f"no dpt-http* thread in /proc/{pid}/task")
    return total


# --- sections --------------------------------------------------------------------

def own_limit(ck):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)

    def fn():
        want = NOFILE if hard == resource.RLIM_INFINITY else min(NOFILE, hard)
        if soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        got = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        return None if got >= NOFILE else f"soft limit {got} (hard {hard}), need {NOFILE}"
    return ck.check(f"this client's open-files soft limit is raised to {NOFILE} (was {soft})",
                    fn)


def crowd(ck, t):
    """CROWD connections held while a keep-alive client is answered; then
    the server closes them after the idle timeout."""
    idle = t.a.idle_timeout
    socks, opened = {}, {}
    times, bad_answers = [], []
    res = {}
    h = secrets.token_bytes(20)
    keep = None
    try:
        before = t.stats()
        keep = t.conn(t.allowed4)

        def ask(i):
            s = time.monotonic()
            if i % 2:
                r = keep.request("GET", "/heartbeat")
                ok_body = r.body == b"ok\n"
            else:
                r = keep.request("GET", announce_target(h, new_peer_id(), 7000 + i, 0))
                d = bdecode(r.body)
                ok_body = isinstance(d, dict) and b"interval" in d and b"failure reason" not in d
            times.append(time.monotonic() - s)
            if r.status != 200 or not ok_body:
                bad_answers.append((i, r.status, r.body[:60]))

        t0 = time.monotonic()
        step = CROWD // (KEEP_REQUESTS // 2)
        for i in range(CROWD):
            c = t.conn(t.crowd[i % len(t.crowd)])
            socks[i] = c
            opened[i] = time.monotonic()
            if i % 2:
                c.send(SLOW_HEADS[(i // 2) % len(SLOW_HEADS)])
            if (i + 1) % step == 0:
                ask(len(times))  # half the keep-alive requests while the crowd gathers
        res["ramp"] = time.monotonic() - t0
        for _ in range(KEEP_REQUESTS - len(times)):  # the rest with all of them open
            time.sleep(0.05)
            ask(len(times))
        res["open_now"] = stats_on(keep).get("http_connections_open")
        ticks0 = http_ticks(t.a.pid)
        time.sleep(0.5)
        res["idle_cpu"] = (http_ticks(t.a.pid) - ticks0) / os.sysconf("SC_CLK_TCK")
        res["oversize"] = oversize(t)
        keep.close()
        keep = None
        closed, data, how = watch_closes(socks, max(opened.values()) + idle + 3.0)
        res.update(closed=closed, data=data, how=how)
    except (HttpError, BencodeError, OSError, ValueError) as e:
        error = f"{type(e).__name__}: {e} (after {len(socks)} connections)"
        ck.check(f"{CROWD} idle and slow-header connections and a keep-alive client "
                 "run side by side", lambda: error)
        return
    finally:
        close_all(socks)
        if keep is not None:
            keep.close()

    def fast():
        slow = [f"{d:.3f} s" for d in times if d >= FAST]
        return first(expect("answers", len(times), KEEP_REQUESTS),
                     f"not 200 with a tracker body: {bad_answers}" if bad_answers else None,
                     f"answers over {FAST} s: {slow}" if slow else None)
    print(f"# {CROWD} connections opened in {res['ramp']:.2f} s; keep-alive answers: "
          f"median {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms; "
          f"HTTP threads' CPU over 0.5 s with all open: {res['idle_cpu']:.2f} s", flush=True)
    ck.check(f"while {CROWD} idle and slow-header connections hang, a keep-alive client gets "
             f"{KEEP_REQUESTS} announce and heartbeat answers, each in under {FAST} s", fast)
    ck.check(f"/stats on the keep-alive connection counts {CROWD} + 1 connections open",
             lambda: expect("http_connections_open", res["open_now"], CROWD + 1))
    for name, detail in res["oversize"]:
        ck.check(name, lambda detail=detail: detail)

    closed, data, how = res["closed"], res["data"], res["how"]
    lo, hi = idle - 1.0, idle + 2.5
    after = {k: closed[k] - opened[k] for k in closed}

    def all_closed():
        left = sorted(set(socks) - set(closed))
        early = sorted(k for k, d in after.items() if d < lo)
        late = sorted(k for k, d in after.items() if d > hi)
        return first(f"{len(left)} still open {hi} s after they opened: {left[:5]}"
                     if left else None,
                     f"{len(early)} closed before {lo} s: {early[:5]}" if early else None,
                     f"{len(late)} closed after {hi} s: {late[:5]}" if late else None)
    if after:
        print(f"# the server closed {len(closed)} of them {min(after.values()):.2f} to "
              f"{max(after.values()):.2f} s after each opened, the last "
              f"{max(closed.values()) - min(closed.values()):.2f} s after the first "
              f"({sum(1 for k in how.values() if k == 'eof')} with a FIN, "
              f"{sum(1 for k in how.values() if k == 'reset')} with a reset)", flush=True)
    ck.check(f"the server closes all {CROWD} after the {idle} s idle timeout "
             f"({lo}..{hi} s after each opened)", all_closed)
    ck.check("it sends none of them a byte (idle: no request; slow: no complete head)",
             lambda: f"{len(data)} got bytes: {list(data.items())[:3]}" if data else None)

    def counted():
        d = t.stats()
        got = d.get("http_connections_idle_closed", 0) - before.get(
            "http_connections_idle_closed", 0)
        acc = d.get("http_connections_accepted", 0) - before.get("http_connections_accepted", 0)
        return first(expect("http_connections_idle_closed, more than before", got, CROWD),
                     None if acc >= CROWD + 1 else f"accepted only {acc} more")
    ck.check(f"/stats counts exactly {CROWD} more connections closed idle", counted)
    ck.check("/stats http_connections_open is back to 1 (the asker)", lambda: open_is_one(t))


def open_is_one(t):
    n = None
    for _ in range(20):  # 2 s: the server sees the closes at once
        n = t.stats().get("http_connections_open")
        if n == 1:
            return None
        time.sleep(0.1)
    return f"http_connections_open is {n}, expected 1"


def oversize(t):
    """Oversize requests while the crowd is held: [(check name, detail)]."""
    big = t.a.max_request_bytes + 512
    out = []
    for name, src, data in (
            (f"a request target of {big} bytes", t.allowed4,
             request_bytes("GET", "/announce?" + "a" * big)),
            (f"a {big}-byte header over IPv6", t.crowd[-1],
             request_bytes("GET", "/heartbeat", [("X-Pad", "p" * big)]))):
        try:
            with t.conn(src) as c:
                c.send(data)
                r = c.read_response()
                detail = first(expect("status", r.status, 431),
                               None if closed_within(c.sock, 2.0) else "still open after 2 s")
        except (HttpError, OSError) as e:
            detail = f"{type(e).__name__}: {e}"
        out.append((f"with {CROWD} connections open, {name} gets 431 and the connection "
                    "closes", detail))
    return out


def segments(ck, t):
    """Requests written one byte per send() with TCP_NODELAY."""
    h = secrets.token_bytes(20)
    me = (norm(t.allowed4), 7101)
    res = {}

    def segs_out(c):
        info = c.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
        if len(info) < TCPI_DATA_SEGS_OUT + 4:
            raise OSError(f"TCP_INFO of {len(info)} bytes has no tcpi_data_segs_out")
        return struct.unpack_from("I", info, TCPI_DATA_SEGS_OUT)[0]

    def dribble(c, data):
        """Sends data a byte at a time; returns the data segments it took."""
        segs = segs_out(c)
        for i in range(len(data)):
            c.sock.send(data[i:i + 1])
            time.sleep(0.001)
        return segs_out(c) - segs

    try:
        with t.conn(t.allowed4) as c:
            c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            one = request_bytes("GET", announce_target(h, new_peer_id(), 7101, 0,
                                                       {"event": "started"}))
            t0 = time.monotonic()
            res["segs1"] = dribble(c, one)
            res["r1"] = c.read_response()
            res["took1"] = time.monotonic() - t0
            two = (request_bytes("GET", announce_target(h, new_peer_id(), 7102, 1000)) +
                   request_bytes("GET", scrape_target([h])))
            res["segs2"] = dribble(c, two)
            res["r2"] = [c.read_response(), c.read_response()]
            res["extra"] = c.buf
        res["len1"], res["len2"] = len(one), len(two)
    except (HttpError, OSError) as e:
        res["error"] = f"{type(e).__name__}: {e}"

    def many_segments(n, length):
        # A few sends may share a segment if the stack is busy; most must not.
        return None if n >= length * 9 // 10 else f"{length} bytes went out in {n} segments"

    def single():
        if "error" in res:
            return res["error"]
        r = res["r1"]
        d = bdecode(r.body)
        return first(many_segments(res["segs1"], res["len1"]),
                     expect("status", r.status, 200),
                     None if isinstance(d, dict) else f"body {r.body[:60]!r}",
                     expect("complete", d.get(b"complete"), 1),
                     expect("incomplete", d.get(b"incomplete"), 0),
                     None if isinstance(d.get(b"interval"), int) else "no interval")
    if "len1" in res:
        print(f"# {res['len1']}-byte announce in {res['segs1']} segments, answered "
              f"{res['took1']:.2f} s after its first byte; the pipelined pair: "
              f"{res['len2']} bytes in {res['segs2']} segments", flush=True)
    ck.check("an announce written one byte per TCP segment is answered 200 with the swarm",
             single)

    def pipelined():
        if "error" in res:
            return res["error"]
        ann, scr = res["r2"]
        d = bdecode(ann.body)
        files = bdecode(scr.body).get(b"files", {})
        f = files.get(h, {})
        return first(many_segments(res["segs2"], res["len2"]),
                     expect("statuses", [ann.status, scr.status], [200, 200]),
                     expect("announce peers", compact_peers(d, b"peers", socket.AF_INET)
                            if isinstance(d, dict) else d, [me]),
                     expect("scrape hashes", list(files), [h]),
                     expect("scrape complete, incomplete",
                            (f.get(b"complete"), f.get(b"incomplete")), (1, 1)),
                     expect("bytes after the two answers", res["extra"], b""))
    ck.check("an announce and a scrape pipelined one byte per segment are answered in order "
             "(the leecher sees the seeder, the scrape counts both)", pipelined)


def cap(ck, t):
    """max_connections + CAP_EXTRA connections at once."""
    limit = t.a.max_connections
    socks = {}
    res = {}
    try:
        before = t.stats()
        t0 = time.monotonic()
        for i in range(limit + CAP_EXTRA):
            socks[i] = t.conn(t.crowd[i % len(t.crowd)])
        res["ramp"] = time.monotonic() - t0
        # The server closes the ones past the cap as it accepts them: a
        # second after the last connect they are all closed (the idle
        # timeout is further off).
        closed, data, how = watch_closes(socks, time.monotonic() + 1.0)
        res.update(closed=closed, data=data, how=how)
        survivors = [k for k in socks if k not in closed]
        res["answers"] = []
        for k in survivors[:1] + survivors[-1:]:
            res["answers"].append(socks[k].request("GET", "/heartbeat").status)
    except (HttpError, OSError) as e:
        res["error"] = f"{type(e).__name__}: {e} (after {len(socks)} connections)"
    finally:
        close_all(socks)

    def at_cap():
        if "error" in res:
            return res["error"]
        closed = res["closed"]
        if len(closed) != CAP_EXTRA:
            return (f"{len(closed)} of {limit + CAP_EXTRA} closed within a second, expected "
                    f"{CAP_EXTRA}: {sorted(closed)[:10]}")
        return first(f"bytes sent on the closed ones: {res['data']}" if res["data"] else None,
                     expect("survivors' answers", res["answers"], [200, 200]))
    if "ramp" in res:
        print(f"# {limit + CAP_EXTRA} connections opened in {res['ramp']:.2f} s; closed at once: "
              f"{len(res.get('closed', {}))} ({sorted(res.get('how', {}).values())})",
              flush=True)
    ck.check(f"with {limit + CAP_EXTRA} connections open, the {CAP_EXTRA} past max_connections "
             f"({limit}) are closed at once without a byte and the rest still answer", at_cap)

    def counted():
        if "error" in res:
            return res["error"]
        d = t.stats()
        got = d.get("http_connections_refused", 0) - before.get("http_connections_refused", 0)
        return expect("http_connections_refused, more than before", got, CAP_EXTRA)
    ck.check(f"/stats counts exactly {CAP_EXTRA} more refused connections", counted)
    ck.check("once they are closed, new connections are served", lambda: recovers(t))
    ck.check("/stats http_connections_open is back to 1 after the cap", lambda: open_is_one(t))


def recovers(t):
    for _ in range(30):  # 3 s at most
        try:
            with t.conn(t.allowed4) as c:
                if c.request("GET", "/heartbeat").status == 200:
                    return None
        except (HttpError, OSError):
            pass
        time.sleep(0.1)
    return "no connection served within 3 s"


def fd_limit(ck, t):
    """dptrack out of descriptors: its soft RLIMIT_NOFILE leaves room for
    FD_ROOM more, and FD_ROOM + FD_EXTRA connections arrive."""
    pid = t.a.pid
    hz = os.sysconf("SC_CLK_TCK")
    socks = {}
    res = {}
    old = None
    try:
        before = t.stats()
        old = resource.prlimit(pid, resource.RLIMIT_NOFILE)
        fds = [int(x) for x in os.listdir(f"/proc/{pid}/fd")]
        limit = max(max(fds) + 1, len(fds) + FD_ROOM)
        room = limit - len(fds)
        res["room"] = room
        ticks0 = http_ticks(pid)
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (limit, old[1]))
        t0 = time.monotonic()
        for i in range(room + FD_EXTRA):
            socks[i] = t.conn(t.allowed4)
        closed, data, how = watch_closes(socks, time.monotonic() + 1.5)
        res["cpu"] = (http_ticks(pid) - ticks0) / hz
        res["window"] = time.monotonic() - t0
        res.update(closed=closed, data=data, how=how)
        survivors = [k for k in socks if k not in closed]
        if survivors:
            res["stats"] = stats_on(socks[survivors[0]])
        resource.prlimit(pid, resource.RLIMIT_NOFILE, old)
        # A thread whose spare went to another thread's accept leaves its
        # backlog waiting (paused, not spinning) until a descriptor is free.
        res["later"] = [socks[k].request("GET", "/heartbeat").status for k in survivors[1:]]
    except (HttpError, OSError, ValueError) as e:
        res["error"] = f"{type(e).__name__}: {e}"
    finally:
        if old is not None:
            resource.prlimit(pid, resource.RLIMIT_NOFILE, old)
        close_all(socks)

    def refused():
        if "error" in res:
            return res["error"]
        n = len(res["closed"])
        # The ones past the room are closed, except those queued on a
        # thread whose spare descriptor another thread's accept took: that
        # thread pauses (no spin) and they wait for a free descriptor.
        return first(None if 1 <= n <= FD_EXTRA + 2 else
                     f"{n} of {len(socks)} closed within 1.5 s, expected 1..{FD_EXTRA + 2}",
                     f"bytes sent on the closed ones: {res['data']}" if res["data"] else None)
    if "cpu" in res:
        print(f"# room for {res['room']} descriptors: {len(res['closed'])} of "
              f"{len(socks)} connections closed at once; HTTP threads' CPU "
              f"{res['cpu']:.2f} s over {res['window']:.2f} s", flush=True)
    ck.check(f"out of descriptors, connections dptrack has no room for (up to {FD_EXTRA}) "
             "are closed at once without a byte", refused)
    ck.check("meanwhile its HTTP threads do not spin (under 0.3 s of CPU in 1.5 s)",
             lambda: res.get("error") or (None if res["cpu"] < 0.3
                                          else f"{res['cpu']:.2f} s of CPU"))

    def counted():
        if "error" in res:
            return res["error"]
        d = res.get("stats")
        if d is None:
            return "no connection survived to ask /stats"

        def more(key):
            return d.get(key, 0) - before.get(key, 0)
        n_closed = len(res["closed"])
        accepted = more("http_connections_accepted")
        return first(expect("http_connections_refused, more than before",
                            more("http_connections_refused"), n_closed),
                     None if res["room"] - 3 <= accepted <= len(socks) - n_closed
                     else f"{accepted} more accepted with room for {res['room']}, "
                          f"{len(socks) - n_closed} not closed")
    ck.check("a connection it took answers /stats, which counts every closed one as refused "
             "and about its room's worth as accepted", counted)
    ck.check("with the limit back, every connection it did not close is answered",
             lambda: res.get("error") or expect("statuses", res["later"],
                                                [200] * len(res["later"])))
    ck.check("with the limit back, new connections are served", lambda: recovers(t))
    ck.check("/stats http_connections_open is back to 1 after the fd limit",
             lambda: open_is_one(t))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--v4", required=True, help="tracker's HTTP IPv4 address")
    p.add_argument("--v6", required=True, help="tracker's HTTP IPv6 address")
    p.add_argument("--port", type=int, default=6969)
    p.add_argument("--src4", required=True, help="allowed,crowd,... (IPv4)")
    p.add_argument("--src6", required=True, help="allowed,crowd,... (IPv6)")
    p.add_argument("--max-connections", type=int, required=True)
    p.add_argument("--idle-timeout", type=int, required=True)
    p.add_argument("--max-request-bytes", type=int, required=True)
    p.add_argument("--pid", type=int, required=True, help="dptrack's PID")
    a = p.parse_args()
    ck = Checks((HttpError, BencodeError, OSError, ValueError))
    t = Tracker(a)
    if own_limit(ck):
        crowd(ck, t)
        segments(ck, t)
        cap(ck, t)
        fd_limit(ck, t)
    print(f"# abuse_http_checks: {ck.passed} passed, {ck.failed} failed", flush=True)
    return 1 if ck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
