#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""dashboard_checks.py - GET /dashboard in a real browser, run by
dashboard.sh in the client namespace while a bounded BEP 15 load runs.

The load (a thread here): announces over IPv4 and IPv6 from ever new peers
into a growing set of swarms, at a rate that swings between about 100 and
300 a second, a fresh connection ID every 25 announces, a scrape every 10,
and four datagrams a second to a UDP port dptrack does not serve (dropped
as udp_port); it stops when the checks are done, or after --load-seconds.

The browser: Debian's headless Chromium through chromedriver and Selenium,
with a fresh profile and no background networking. It loads the page,
waits until every chart holds --first-points samples, reads each canvas's
data-points attribute and the page's own values (window.dptrackCharts),
waits --between seconds, reads them again, and checks that every chart
grew, that the requests, peers and swarms charts show the load, that
every lcore has a load series, and that the browser asked for nothing but
/dashboard, /stats (and its favicon) of this dptrack. It saves a
screenshot (PNG) to --screenshot.

Prints one "ok - NAME" or "not ok - NAME: detail" line per check and exits
1 if any failed.

Usage: dashboard_checks.py --url http://ADDR:PORT/dashboard --udp4 ADDR
           --udp6 ADDR --src4 ADDR --src6 ADDR --port N --screenshot FILE
           --profile DIR
"""

import argparse
import json
import math
import os
import socket
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import bep15_client as b  # noqa: E402  (needs the path above)
from tap import Checks  # noqa: E402  (beside this file)

CHARTS = ("requests", "peers", "swarms", "drops", "load")
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# What Chromium needs to run as root in a namespace without reaching out.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 "--disable-extensions", "--disable-default-apps", "--no-default-browser-check",
                 "--window-size=1280,1000"]


class Load(threading.Thread):
    """The bounded BEP 15 load; counts what it sent and what was answered."""

    def __init__(self, a):
        super().__init__(daemon=True)
        self.a = a
        self.stop = threading.Event()
        self.sent = self.answered = self.errors = 0
        self.failure = None

    def run(self):
        try:
            self._run()
        except Exception as e:  # reported by the checks, not as a traceback
            self.failure = f"{type(e).__name__}: {e}"

    def _run(self):
        a = self.a
        clients = {4: (a.udp4, a.src4), 6: (a.udp6, a.src6)}
        conns = {fam: b.Client(host, a.port, source=src, timeout=1.0, retries=1)
                 for fam, (host, src) in clients.items()}
        junk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        junk.bind((a.src4, 0))
        start = time.monotonic()
        next_junk = start
        n = 0
        try:
            while not self.stop.is_set() and time.monotonic() - start < a.load_seconds:
                t = time.monotonic() - start
                rate = 200 + 100 * math.sin(t / 5)  # announces a second
                fam = 6 if n % 4 == 3 else 4
                if n % 25 == 0:  # a new client: a connect
                    conns[fam].close()
                    host, src = clients[fam]
                    conns[fam] = b.Client(host, a.port, source=src, timeout=1.0, retries=1)
                swarms = 5 + int(t * 2)  # the set of swarms grows
                h = (1 + n * 7919 % swarms).to_bytes(20, "big")
                self.sent += 1
                try:
                    if n % 10 == 9:
                        conns[fam].scrape([h])
                    else:
                        conns[fam].announce(h, port=1024 + n % 60000, left=n % 3)
                    self.answered += 1
                except b.Bep15Error:
                    self.errors += 1
                if time.monotonic() >= next_junk:  # dropped as udp_port
                    junk.sendto(b"not a tracker request", (a.udp4, a.port + 1))
                    next_junk += 0.25
                n += 1
                time.sleep(max(0.0, start + t + 1 / rate - time.monotonic()))
        finally:
            junk.close()
            for c in conns.values():
                c.close()


def browser(a, profile):
    """A headless Chromium under chromedriver, logging network events."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in CHROMIUM_ARGS + [f"--user-data-dir={profile}"]:
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


def read(d):
    """{chart: (data-points attribute as int, {series: [values]})}."""
    attrs = {c: int(d.execute_script(
        f"return document.getElementById('{c}').dataset.points || '0'")) for c in CHARTS}
    values = d.execute_script("""
        const out = {};
        for (const [name, c] of Object.entries(window.dptrackCharts || {}))
          out[name] = Object.fromEntries(c.series);
        return out;""")
    return {c: (attrs[c], values.get(c, {})) for c in CHARTS}


def wait_points(d, want, seconds):
    """Reads until every chart holds want points or seconds pass; returns
    the last read and the seconds it took."""
    t0 = time.monotonic()
    got = read(d)
    for _ in range(int(seconds * 4)):
        if all(n >= want for n, _ in got.values()):
            break
        time.sleep(0.25)
        got = read(d)
    return got, time.monotonic() - t0


def peak(series, name):
    """The largest value of one series, 0 if none."""
    return max((v for v in series.get(name, []) if v is not None), default=0)


# Schemes of requests that leave the browser; chrome:, data: and the like
# are its own (its blank tab's resources appear in the log too).
NETWORK_SCHEMES = ("http", "https", "ws", "wss", "ftp")


def requested_urls(d):
    """Every network URL the browser asked for (Network.requestWillBeSent
    in the performance log)."""
    urls = []
    for entry in d.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            url = msg["params"]["request"]["url"]
            if urllib.parse.urlsplit(url).scheme in NETWORK_SCHEMES:
                urls.append(url)
    return urls


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True, help="the page: http://ADDR:PORT/dashboard")
    ap.add_argument("--udp4", required=True)
    ap.add_argument("--udp6", required=True)
    ap.add_argument("--src4", required=True, help="this namespace's address on the UDP link")
    ap.add_argument("--src6", required=True)
    ap.add_argument("--port", type=int, required=True, help="dptrack's UDP port")
    ap.add_argument("--screenshot", required=True, help="PNG file to write")
    ap.add_argument("--profile", required=True,
                    help="an empty directory for Chromium's profile (and HOME)")
    ap.add_argument("--first-points", type=int, default=5)
    ap.add_argument("--between", type=float, default=15.0, help="seconds between the reads")
    ap.add_argument("--load-seconds", type=float, default=90.0, help="the load's bound")
    a = ap.parse_args()
    ck = Checks(errors=(OSError, ValueError, KeyError))
    load = Load(a)
    load.start()
    profile = a.profile
    os.environ.update(HOME=profile, XDG_CONFIG_HOME=profile, XDG_CACHE_HOME=profile)
    d = None
    try:
        from selenium.common.exceptions import WebDriverException
        ck.errors += (WebDriverException,)

        def start():
            nonlocal d
            d = browser(a, profile)
            d.set_page_load_timeout(20)
            d.set_script_timeout(10)
            d.get(a.url)
            return None if d.title == "dptrack: live" else f"title {d.title!r}"
        if not ck.check("headless Chromium loads /dashboard", start):
            return 1
        first = {}

        def first_read():
            got, took = wait_points(d, a.first_points, 30)
            first.update(got)
            short = {c: n for c, (n, _) in got.items() if n < a.first_points}
            if short:
                return f"after {took:.1f} s, charts short of {a.first_points} points: {short}"
            print(f"# after {took:.1f} s: " + ", ".join(f"{c} {n}" for c, (n, _) in got.items()))
            return None
        ck.check(f"every chart holds {a.first_points} data points within 30 s", first_read)
        time.sleep(a.between)
        second = read(d)
        print(f"# {a.between:g} s later: " + ", ".join(f"{c} {n}" for c, (n, _) in second.items()))

        def grew():
            flat = {c: (first[c][0], second[c][0]) for c in CHARTS
                    if c in first and second[c][0] <= first[c][0]}
            return f"not grown (first, second): {flat}" if flat else None
        ck.check(f"every chart holds more data points {a.between:g} s later", grew)

        def shows_load():
            req, peers, swarms = (second[c][1] for c in ("requests", "peers", "swarms"))
            why = [f"no announce/s above 50: {peak(req, 'announce'):.0f}"
                   if peak(req, "announce") < 50 else None,
                   "no connect/s" if peak(req, "connect") <= 0 else None,
                   "no scrape/s" if peak(req, "scrape") <= 0 else None,
                   "no IPv4 peers" if peak(peers, "ipv4") <= 0 else None,
                   "no IPv6 peers" if peak(peers, "ipv6") <= 0 else None,
                   "no swarms" if peak(swarms, "swarms") <= 0 else None]
            why = [w for w in why if w]
            return "; ".join(why) if why else None
        ck.check("the charts show the load: announces, connects and scrapes a second, "
                 "IPv4 and IPv6 peers, swarms", shows_load)

        def drops_and_load():
            drops, lcores = second["drops"][1], second["load"][1]
            if peak(drops, "udp_port") <= 0:
                return f"no udp_port drops charted: {sorted(drops)}"
            if not lcores or not all(k.startswith("lcore ") for k in lcores):
                return f"no lcore load series: {sorted(lcores)}"
            return None
        ck.check("the drops chart names the udp_port drops, the load chart each lcore",
                 drops_and_load)

        def only_dptrack():
            base = urllib.parse.urlsplit(a.url)
            urls = requested_urls(d)
            other = [u for u in urls if urllib.parse.urlsplit(u).netloc != base.netloc
                     or urllib.parse.urlsplit(u).path not in ("/dashboard", "/stats",
                                                              "/favicon.ico")]
            if other:
                return f"asked for {sorted(set(other))[:5]}"
            if not any(urllib.parse.urlsplit(u).path == "/stats" for u in urls):
                return f"no request of /stats among {urls[:5]}"
            return None
        ck.check("the page asked for nothing but /dashboard and /stats of this dptrack",
                 only_dptrack)

        def screenshot():
            os.makedirs(os.path.dirname(os.path.abspath(a.screenshot)), exist_ok=True)
            if not d.save_screenshot(a.screenshot):
                return "save_screenshot failed"
            with open(a.screenshot, "rb") as f:
                head = f.read(8)
            return None if head == b"\x89PNG\r\n\x1a\n" else f"not a PNG: {head!r}"
        ck.check(f"a screenshot is saved to {a.screenshot}", screenshot)
    finally:
        load.stop.set()
        load.join(timeout=10)
        if d is not None:
            d.quit()

    def load_ran():
        if load.failure:
            return load.failure
        if load.answered < 0.9 * load.sent:
            return f"{load.answered} of {load.sent} requests answered"
        return None
    ck.check(f"the load ran: {load.answered} of {load.sent} requests answered", load_ran)
    return 1 if ck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
