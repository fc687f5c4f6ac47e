"""The DPoP suite's fixtures, and the probe that sees DPoP a target offers without advertising it."""

from __future__ import annotations

import httpx
import pytest

from oauth_conformance import http as http_module
from oauth_conformance.features import Feature
from oauth_conformance.support.checks import error_code
from oauth_conformance.support.dpop import DPoP
from oauth_conformance.support.flows import OAuth
from oauth_conformance.target import Target

PROBE_CLIENT = "oauth-conformance-dpop-probe"


@pytest.fixture(scope="session", autouse=True)
def _dpop_seen(target: Target) -> None:
    """A server whose metadata has no dpop_signing_alg_values_supported may still check proofs.

    Session-scoped, so it runs before each test's applicability check: one token request with a
    DPoP header that is no JWT. A server that judges the header (invalid_dpop_proof, or a nonce it
    wants first) is seen to offer DPoP; any other answer says nothing, and the suite stays
    not_applicable.
    """
    endpoint = target.endpoint("token_endpoint")
    if target.supports(Feature.DPOP) or endpoint is None:
        return
    form = {"grant_type": "authorization_code", "code": "oauth-conformance-probe", "client_id": PROBE_CLIENT}
    form["redirect_uri"] = target.profile.request.redirect_uri
    with http_module.client(transport=target.transport()) as http:
        try:
            response = http.post(endpoint, data=form, headers={"DPoP": "oauth-conformance.not-a-jwt"})
        except httpx.HTTPError:  # a probe: no answer, nothing seen
            return
    challenges = ",".join(response.headers.get_list("www-authenticate")).lower()
    if error_code(response) in ("invalid_dpop_proof", "use_dpop_nonce") or challenges.startswith("dpop"):
        target.seen.add(Feature.DPOP)


@pytest.fixture
def dpop(oauth: OAuth) -> DPoP:
    return DPoP(oauth)
