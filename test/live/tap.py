# SPDX-License-Identifier: BSD-3-Clause
"""tap.py - what the live checks programs (udp_checks.py, http_checks.py)
share: one "ok - NAME" or "not ok - NAME: detail" line per check, which the
shell side (test/live/lib.sh, live_checks) counts, and the small helpers
that turn a comparison into a failure detail."""

import ipaddress


class Checks:
    """Runs checks and counts them. errors: the exception classes that fail
    a check (with "ClassName: message" as its detail) rather than end the
    program."""

    def __init__(self, errors=(OSError,)):
        self.errors = tuple(errors)
        self.passed = 0
        self.failed = 0

    def check(self, name, fn):
        """Runs fn(), which returns None (pass) or a failure detail text, and
        prints the line. Returns True when it passed."""
        try:
            detail = fn()
        except self.errors as e:
            detail = f"{type(e).__name__}: {e}"
        if detail is None:
            self.passed += 1
            print(f"ok - {name}", flush=True)
            return True
        self.failed += 1
        print(f"not ok - {name}: {detail}", flush=True)
        return False


def norm(addr):
    """addr (IPv4 or IPv6 text) in its canonical compressed form."""
    return ipaddress.ip_address(addr).compressed


def expect(what, got, want):
    """None if got == want, else the failure detail naming what."""
    return None if got == want else f"{what}: got {got!r}, expected {want!r}"


def first(*details):
    """The first failure detail that is not None (or empty), else None."""
    for d in details:
        if d:
            return d
    return None
