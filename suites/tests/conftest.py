"""Self-tests of the harness."""

import socket
import threading
from collections.abc import Iterator

import pytest

from oauth_reference.serving.process import start

pytest_plugins = ["pytester"]


@pytest.fixture(scope="session")
def reference_url() -> Iterator[str]:
    """The reference with every feature on, served once per test session (or per xdist worker)."""
    from oauth_conformance.embedded import start_embedded

    served, _ = start_embedded()
    try:
        yield served.url
    finally:
        served.stop()


@pytest.fixture
def dead_url() -> str:
    """A loopback URL nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class Listener:
    """A TCP listener on a free loopback port: every connection it accepts is kept (first bytes)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port: int = self.sock.getsockname()[1]
        self.connections: list[bytes] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str = "/callback") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(1.0)
                try:
                    self.connections.append(conn.recv(200))
                except OSError:
                    self.connections.append(b"")


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A loopback port that must (usually) never be contacted: a redirect URI, say."""
    made = Listener()
    try:
        yield made
    finally:
        made.sock.close()


__all__ = ["Listener", "start"]
