# SPDX-License-Identifier: BSD-3-Clause
"""http_client.py - a small HTTP tracker (BEP 3) client over raw sockets.

A library, standard library only (and bep15_client.py beside it), for tests
and for checking a running tracker by hand. It writes requests byte by byte
and parses responses strictly, so what is checked is what was on the wire:

    with Conn("198.18.1.2", 6969, source="198.18.1.1") as c:
        r = c.request("GET", announce_target(info_hash, new_peer_id(), 6881, left=0))
        d = bdecode(r.body)
        print(r.status, d[b"interval"], compact_peers(d, b"peers", socket.AF_INET))

Every wait is bounded: a response must arrive within `timeout` seconds and
be at most RESPONSE_MAX bytes. Responses must carry Content-Length (no
chunked or close-delimited bodies), which is what dptrack sends.

BEP 3 (bencoding, announce): https://www.bittorrent.org/beps/bep_0003.html
BEP 23 (compact peers), BEP 7 (peers6), BEP 48 (scrape):
https://www.bittorrent.org/beps/bep_0023.html
"""

import re
import secrets
import select
import socket
import time
import urllib.parse

import bep15_client

RESPONSE_MAX = 1 << 20  # no tracker response is near this; a runaway is an error
TIMEOUT = 3.0           # default seconds one response may take


# --- bencode (BEP 3) -------------------------------------------------------------

class BencodeError(ValueError):
    """Bytes that are not exactly one strictly encoded bencoded value."""


def bdecode(data):
    """Decodes one whole bencoded value (BEP 3) strictly: integers without
    leading zeros or "-0", dictionary keys byte strings in strictly
    increasing raw order, nothing after the value, nesting at most 32 deep.
    Strings stay bytes, dictionary keys too. Raises BencodeError."""
    value, end = _bdecode(data, 0, 0)
    if end != len(data):
        raise BencodeError(f"{len(data) - end} bytes after the value")
    return value


def _bdecode(d, i, depth):
    if depth > 32:
        raise BencodeError("nested too deep")
    if i >= len(d):
        raise BencodeError("truncated")
    c = d[i:i + 1]
    if c == b"i":
        j = d.find(b"e", i)
        if j < 0 or not re.fullmatch(rb"0|-?[1-9][0-9]*", d[i + 1:j]):
            raise BencodeError(f"bad integer at {i}")
        return int(d[i + 1:j]), j + 1
    if c in (b"l", b"d"):
        out = [] if c == b"l" else {}
        i += 1
        prev = None
        for _ in range(len(d)):  # each element takes at least one byte
            if i >= len(d):
                raise BencodeError("truncated list or dictionary")
            if d[i:i + 1] == b"e":
                return out, i + 1
            if c == b"l":
                v, i = _bdecode(d, i, depth + 1)
                out.append(v)
                continue
            k, i = _bdecode(d, i, depth + 1)
            if not isinstance(k, bytes):
                raise BencodeError("dictionary key is not a string")
            if prev is not None and k <= prev:
                raise BencodeError(f"dictionary key {k!r} out of order after {prev!r}")
            prev = k
            out[k], i = _bdecode(d, i, depth + 1)
        raise BencodeError("unterminated list or dictionary")
    m = re.compile(rb"(0|[1-9][0-9]*):").match(d, i)
    if not m:
        raise BencodeError(f"bad byte {c!r} at {i}")
    n = int(m.group(1))
    start = m.end()
    if start + n > len(d):
        raise BencodeError("truncated string")
    return d[start:start + n], start + n


def bencode(value):
    """The bencoding (BEP 3) of value: int, bytes, list, or dict with bytes
    keys (written in sorted order, as bdecode requires). Raises TypeError
    for anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, bytes, list, dict)):
        raise TypeError(f"cannot bencode {type(value).__name__}")
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if any(not isinstance(k, bytes) for k in value):
        raise TypeError("dictionary keys must be bytes")
    return b"d" + b"".join(bencode(k) + bencode(value[k]) for k in sorted(value)) + b"e"


# --- HTTP/1.1 over a raw socket ---------------------------------------------------

class HttpError(Exception):
    """A response that breaks HTTP/1.1 framing, a tracker reply that is not
    what BEP 3 says, or no response in time."""


class Response:
    """One parsed response. headers: [(lowercase name, value)] in order."""

    def __init__(self, version, status, reason, headers, body):
        self.version = version  # minor version: 0 or 1
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body

    def get(self, name):
        """The first header named name (lowercase), or None."""
        for k, v in self.headers:
            if k == name:
                return v
        return None

    def __repr__(self):
        return f"Response({self.status} {self.reason!r}, {self.headers}, {self.body[:120]!r})"


def request_bytes(method, target, headers=(), version="1.1", host=True):
    """The bytes of one request: request line, "Host: tracker.test" unless
    host is false, then headers ((name, value) pairs), then the blank line."""
    lines = [f"{method} {target} HTTP/{version}"]
    if host:
        lines.append("Host: tracker.test")
    lines += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Conn:
    """One TCP connection to a tracker, optionally from a chosen source
    address. timeout bounds the connect. seen: optional list to which every
    response read is appended (to check all of them at the end)."""

    def __init__(self, host, port, source=None, timeout=TIMEOUT, seen=None):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = bep15_client.connected_socket(family, socket.SOCK_STREAM, (host, port),
                                                  source=source or None, timeout=timeout)
        self.buf = b""
        self.extra = b""
        self.seen = seen

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline, timeout, what):
        left = deadline - time.monotonic()
        if left <= 0:
            raise HttpError(f"no {what} within {timeout} s (have {self.buf[:80]!r})")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise HttpError(f"no {what} within {timeout} s (have {self.buf[:80]!r})") from None
        if not chunk:
            raise HttpError(f"connection closed before the {what} (have {self.buf[:80]!r})")
        self.buf += chunk
        if len(self.buf) > RESPONSE_MAX:
            raise HttpError("response over 1 MiB")

    def read_response(self, head=False, timeout=TIMEOUT):
        """Reads one response within timeout seconds and returns a Response;
        head: the request was HEAD (no body follows). Bytes after it stay
        buffered for the next call (pipelining). Raises HttpError for a bad
        status line or header, a missing Content-Length, Transfer-Encoding,
        a close or the time running out before the end."""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            self._fill(deadline, timeout, "response head")
        raw, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = raw.decode("latin-1").split("\r\n")
        m = re.fullmatch(r"HTTP/1\.([01]) (\d{3}) ?(.*)", lines[0])
        if not m:
            raise HttpError(f"bad status line {lines[0]!r}")
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name):
                raise HttpError(f"bad header line {line!r}")
            headers.append((name.lower(), value.strip(" \t")))
        r = Response(int(m.group(1)), int(m.group(2)), m.group(3), headers, b"")
        cl = r.get("content-length")
        if cl is None or not cl.isdigit():
            raise HttpError(f"no valid Content-Length in {headers}")
        if r.get("transfer-encoding") is not None:
            raise HttpError("Transfer-Encoding in a response")
        if not head:
            n = int(cl)
            while len(self.buf) < n:
                self._fill(deadline, timeout, "response body")
            r.body, self.buf = self.buf[:n], self.buf[n:]
        if self.seen is not None:
            self.seen.append(r)
        return r

    def request(self, method, target, headers=(), version="1.1", host=True):
        """Sends one request (see request_bytes) and returns its Response."""
        self.send(request_bytes(method, target, headers, version, host))
        return self.read_response(head=method == "HEAD")

    def closed_within(self, wait):
        """True if the server closes the connection (EOF or reset) within
        wait seconds; bytes it sends meanwhile, and any still buffered, are
        kept in self.extra. At most 10000 reads."""
        self.extra = self.buf
        self.buf = b""
        deadline = time.monotonic() + wait
        for _ in range(10000):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return False
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                return True
            if not chunk:
                return True
            self.extra += chunk
        return False


# --- the tracker's requests and replies --------------------------------------------

def quote(raw):
    """raw bytes percent-encoded for a query string (every reserved byte)."""
    return urllib.parse.quote_from_bytes(raw, safe="")


def new_peer_id():
    """A random 20-byte peer id in Azureus style (BEP 20)."""
    return b"-DT0001-" + secrets.token_bytes(12)


def announce_target(info_hash, peer_id, port, left, params=None):
    """/announce?... with info_hash, peer_id, port, left (None: omitted),
    compact=1 unless params sets it, then params (name: value, in order; a
    value of None removes the parameter)."""
    p = {"info_hash": quote(info_hash), "peer_id": quote(peer_id), "port": str(port)}
    if left is not None:
        p["left"] = str(left)
    p["compact"] = "1"
    for k, v in (params or {}).items():
        if v is None:
            p.pop(k, None)
        else:
            p[k] = str(v)
    return "/announce?" + "&".join(f"{k}={v}" for k, v in p.items())


def scrape_target(info_hashes):
    """/scrape?info_hash=...&info_hash=... (BEP 48: several in one)."""
    return "/scrape?" + "&".join(f"info_hash={quote(h)}" for h in info_hashes)


def compact_peers(d, key, family):
    """The compact peers (BEP 23; BEP 7 for peers6) under key of a decoded
    announce reply as [(address text, port)] in reply order, [] if the key
    is absent. family: socket.AF_INET (6-byte entries) or AF_INET6 (18).
    Raises HttpError if the value is not a whole number of entries."""
    v = d.get(key, b"")
    if not isinstance(v, bytes):
        raise HttpError(f"{key!r} is not a string: {v!r}")
    try:
        return bep15_client.parse_peers(v, family)
    except bep15_client.ProtocolError as e:
        raise HttpError(f"{key!r}: {e}") from None


def failure_reason(r):
    """The failure reason (bytes) of a tracker-convention error: status 200,
    body d14:failure reason...e. Raises HttpError if r is not one, or
    BencodeError if its body does not decode."""
    if r.status != 200:
        raise HttpError(f"status {r.status}, expected 200 with a failure reason")
    d = bdecode(r.body)
    if not isinstance(d, dict) or not isinstance(d.get(b"failure reason"), bytes):
        raise HttpError(f"no failure reason in {r.body[:100]!r}")
    if not d[b"failure reason"]:
        raise HttpError("empty failure reason")
    return d[b"failure reason"]
