"""Self-tests of the harness."""

import socket
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


__all__ = ["start"]
