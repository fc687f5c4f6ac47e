"""Self-tests of the harness."""

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from oauth_reference.serving.process import start

pytest_plugins = ["pytester"]
REPORT_FILES = ("report.json", "report.md", "report.html", "report.xml", "compare.md", "compare.html", "compare.json")


def written_reports(root: Path, since: float) -> list[Path]:
    """The report files under ``root`` written at ``since`` or later."""
    # One walk of the tree for all the names rather than one per name: the tree holds every earlier
    # test's files (thousands by the end of a session), and the scan runs after every test.
    found = [Path(top, f) for top, _, files in os.walk(root) for f in files if f in REPORT_FILES]
    return [p for p in found if p.stat().st_mtime >= since]


@pytest.fixture(autouse=True)
def no_secret_in_the_reports_a_test_writes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every report a self-test writes (its runs, pytester's, compare's) is scanned afterwards for any
    secret the test process knows and anything shaped like one (redaction.leaks); one fails the test."""
    from oauth_conformance.redaction import leaks

    started = time.time() - 1  # file times are coarse on some file systems
    yield
    found = [
        f"{path}: {leak}"
        for path in written_reports(tmp_path_factory.getbasetemp(), started)
        for leak in leaks(path.read_text(encoding="utf-8", errors="replace"))[:3]
    ]
    assert not found, "a report shows a secret: " + "; ".join(found[:6])


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
