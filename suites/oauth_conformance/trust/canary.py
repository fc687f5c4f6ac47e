"""A canary listener: a TCP port on a loopback address the target must never connect to.

A server that refuses a URL on a special-use address may do so before connecting or after the
connection failed; from outside, both look like a quick refusal, and a private address such as
10.0.0.1 is out of the harness's sight either way. A loopback address is not: the canary listens
on one other than the target's own (127.0.0.2 for a target on 127.0.0.1; the whole of
127.0.0.0/8 reaches this machine on Linux), so a target that connects where CIMD section 6.5
forbids it shows up here, whatever it then makes of the connection (the canary closes it at once).
"""

from __future__ import annotations

import contextlib
import ipaddress
import select
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field

CANDIDATES = ("127.0.0.2", "127.0.0.3")


class CanaryUnavailable(Exception):
    """No canary can listen here (the system reaches only 127.0.0.1 on loopback, say)."""


@dataclass
class Canary:
    """Counts the connections made to ``address``:``port`` while it runs (a thread accepts them)."""

    address: str
    port: int
    _sock: socket.socket
    _peers: list[tuple[str, int]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)

    def connections(self, settle: float = 0.2) -> int:
        """Connections accepted so far, after ``settle`` seconds for one still on its way."""
        time.sleep(settle)
        with self._lock:
            return len(self._peers)

    def serve(self) -> None:
        """Accept and close every connection until :meth:`stop` (run in a thread)."""
        while not self._stop.is_set():
            readable, _, _ = select.select([self._sock], [], [], 0.05)
            if not readable:
                continue
            try:
                conn, peer = self._sock.accept()
            except OSError:
                continue
            with self._lock:
                self._peers.append((str(peer[0]), int(peer[1])))
            conn.close()  # nothing is served: the connection itself is the finding

    def stop(self) -> None:
        self._stop.set()

    def url(self, host: str | None = None) -> str:
        """A base URL (https) on the canary, naming it by ``host`` (default: its address)."""
        return f"https://{host or self.address}:{self.port}"


def other_loopback(target_host: str) -> str:
    """A loopback address other than the target's own."""
    for candidate in CANDIDATES:
        if candidate != target_host:
            return candidate
    raise CanaryUnavailable("no other loopback address to listen on")


@contextlib.contextmanager
def canary(target_host: str) -> Iterator[Canary]:
    """A canary on a loopback address other than ``target_host``; CanaryUnavailable if none binds."""
    address = other_loopback(target_host)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((address, 0))
        sock.listen(64)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise CanaryUnavailable(f"cannot listen on {address}: {exc.strerror or exc}") from None
    made = Canary(address, sock.getsockname()[1], sock)
    thread = threading.Thread(target=made.serve, name="canary", daemon=True)
    thread.start()
    try:
        yield made
    finally:
        made.stop()
        thread.join(1.0)
        sock.close()


def as_decimal(address: str) -> str:
    """The IPv4 address as one decimal number (127.0.0.2 is 2130706434), a form name resolvers accept."""
    return str(int(ipaddress.IPv4Address(address)))
