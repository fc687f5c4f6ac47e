"""A hostile request (a raw HTTP/1.1 exchange) to an https target: it trusts what every other
request of the run trusts, the run's one TLS context (``oauth_conformance.http.tls_context``), not
a context of its own with other roots; and it is sent although TLS 1.3's session tickets make the
socket readable right after the handshake (taken for an early answer, they left the request
unsent: every hostile request to a TLS 1.3 target timed out, a failure of a healthy server)."""

from __future__ import annotations

import ssl

import pytest

from oauth_conformance.robust import hostile
from oauth_conformance.trust.host import FixtureHost


def test_a_hostile_request_to_an_https_target_trusts_the_runs_tls_context(monkeypatch: pytest.MonkeyPatch) -> None:
    with FixtureHost() as host:
        assert host.ca_file is not None
        trusting = ssl.create_default_context(cafile=str(host.ca_file))
        monkeypatch.setattr(hostile, "tls_context", lambda: trusting)
        response = hostile.raw_exchange("GET", host.idp_jwks_uri, [], b"", 5.0)
        assert response.status_code == 200, response.status_code
        # The control: a context without the host's CA refuses its certificate on the same path.
        monkeypatch.setattr(hostile, "tls_context", ssl.create_default_context)
        with pytest.raises(ssl.SSLCertVerificationError):
            hostile.raw_exchange("GET", host.idp_jwks_uri, [], b"", 5.0)
