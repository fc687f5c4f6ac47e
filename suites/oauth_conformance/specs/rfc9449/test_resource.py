"""RFC 9449 at the protected resource the profile names: DPoP-bound tokens need their proofs.

Every test gets a DPoP-bound access token and first shows the resource accepting it with a valid
proof (the control); a resource that refuses even that makes the test not_tested, and one that
answers it with a 5xx twice or leaves it unanswered fails RFC9449-7.1-RESOURCE-CHECKS (serving a
bound token with its valid proof is the half of that rule every refusal below is measured against).
"""

from __future__ import annotations

import pytest

from oauth_conformance import requirement
from oauth_conformance.support import controls
from oauth_conformance.support.checks import resource_refused
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.dpop import DPoP
from oauth_conformance.support.dpop import ProofKey
from oauth_conformance.support.dpop import dpop_challenges
from oauth_conformance.support.dpop import dpop_param
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.flows import Tokens
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import not_tested

RESOURCE_CHECKS = "RFC9449-7.1-RESOURCE-CHECKS"


def bound(dpop: DPoP, clients: Clients, oauth: OAuth) -> tuple[Tokens, ProofKey]:
    """A DPoP-bound access token the resource accepts with a valid proof, and its key."""
    oauth.resource_url  # noqa: B018  (not_tested with its unlock before any flow runs)
    key = ProofKey.new()
    tokens = dpop.tokens(clients.public(), key)
    if tokens.token_type.lower() != "dpop":
        not_tested(f"the token issued for a valid proof is typed {tokens.token_type!r}, not DPoP-bound")
    control = controls.step(
        lambda: dpop.call_resource(tokens.access_token, key),
        RESOURCE_CHECKS,
        "a DPoP-bound token presented to the resource with a valid proof",
    )
    if resource_refused(control):
        raise PrerequisiteFailed(
            f"the resource refused a DPoP-bound token with a valid proof (HTTP {control.status_code})"
        )
    return tokens, key


BROKEN = ["no-proof", "another-key", "another-url", "another-method", "no-ath", "wrong-ath"]


@requirement("RFC9449-7.1-RESOURCE-CHECKS")
@pytest.mark.parametrize("broken", BROKEN)
def test_a_bound_token_without_a_valid_proof_gets_no_access(
    dpop: DPoP, clients: Clients, oauth: OAuth, broken: str
) -> None:
    tokens, key = bound(dpop, clients, oauth)
    url = oauth.resource_url
    method = oauth.target.profile.resource.method
    nonce = dpop.current_nonce(url)
    token = tokens.access_token
    if broken == "no-proof":
        response = dpop.call_resource(token, None)
    elif broken == "another-key":
        response = dpop.call_resource(token, ProofKey.new())
    else:
        proof = {
            "another-url": lambda: key.proof(method, url.rstrip("/") + "-elsewhere", access_token=token, nonce=nonce),
            "another-method": lambda: key.proof(
                "DELETE" if method != "DELETE" else "PUT", url, access_token=token, nonce=nonce
            ),
            "no-ath": lambda: key.proof(method, url, nonce=nonce),
            "wrong-ath": lambda: key.proof(method, url, access_token=token + "x", nonce=nonce),
        }[broken]()
        response = dpop.call_resource(token, key, proof=proof)
    assert resource_refused(response), (
        f"the resource served the DPoP-bound token with {broken} (HTTP {response.status_code})"
    )


@requirement("RFC9449-7.2-NO-DOWNGRADE")
def test_a_bound_token_presented_as_a_bearer_token_is_refused(dpop: DPoP, clients: Clients, oauth: OAuth) -> None:
    tokens, _ = bound(dpop, clients, oauth)
    response = oauth.call_resource(tokens.access_token)
    assert resource_refused(response), (
        f"the resource served a DPoP-bound token sent with the Bearer scheme (HTTP {response.status_code})"
    )


@requirement("RFC9449-7.1-CHALLENGE")
def test_a_refused_dpop_request_gets_a_dpop_challenge(dpop: DPoP, clients: Clients, oauth: OAuth) -> None:
    tokens, _ = bound(dpop, clients, oauth)
    response = dpop.call_resource(tokens.access_token, None)
    assert response.status_code == 401, f"a DPoP-bound token without a proof got HTTP {response.status_code}, not 401"
    assert dpop_challenges(response), "the 401 has no DPoP challenge in WWW-Authenticate"
    assert dpop_param(response, "error"), "the DPoP challenge names no error"
    algs = dpop_param(response, "algs")
    assert algs, "the DPoP challenge has no algs parameter"
