"""The fixture host serves documents to the target while other connections stall: a TLS handshake
is finished in the connection's own thread (it was done in the accept loop, where one client that
connected and sent nothing held up every fetch behind it), and a burst of connections fits its
listen queue."""

from __future__ import annotations

import socket
import ssl
import time
from urllib.parse import urlsplit

import httpx

from oauth_conformance.trust.host import FixtureHost


def test_a_client_that_never_starts_its_handshake_holds_up_no_other_fetch() -> None:
    with FixtureHost() as host:
        assert host.ca_file is not None
        parts = urlsplit(host.base_url)
        assert parts.hostname is not None and parts.port is not None
        stalled = [socket.create_connection((parts.hostname, parts.port)) for _ in range(3)]
        try:
            context = ssl.create_default_context(cafile=str(host.ca_file))
            # With the handshake in the accept loop this waited on the stalled sockets (for ever:
            # they send nothing) and timed out.
            with httpx.Client(verify=context, timeout=5.0) as client:
                response = client.get(host.idp_jwks_uri)
            assert response.status_code == 200, response.status_code
        finally:
            for sock in stalled:
                sock.close()


def test_a_connection_that_ends_before_its_answer_is_noted_by_class_only() -> None:
    with FixtureHost() as host:
        parts = urlsplit(host.base_url)
        assert parts.hostname is not None and parts.port is not None
        with socket.create_connection((parts.hostname, parts.port)) as sock:
            sock.sendall(b"GET /secret-path HTTP/1.1\r\n\r\n")  # plain HTTP to a TLS port
            sock.settimeout(5.0)
            while sock.recv(4096):
                pass
        deadline = time.monotonic() + 5.0
        while not host.faults and time.monotonic() < deadline:
            time.sleep(0.01)
        assert host.faults and host.faults[0].startswith("handshake: SSLError"), host.faults
        assert "secret-path" not in host.faults[0]
