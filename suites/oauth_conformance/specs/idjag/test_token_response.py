"""ID-JAG sections 4.4.1 to 4.4.3, 8.1 and 8.6: what the server grants for an ID-JAG, and to whom."""

from __future__ import annotations

import httpx
import pytest

from oauth_conformance import requirement
from oauth_conformance.features import Feature
from oauth_conformance.specs.idjag.support import known_resource
from oauth_conformance.specs.idjag.support import scopes
from oauth_conformance.support import controls
from oauth_conformance.support.checks import assert_oauth_error
from oauth_conformance.support.checks import json_body
from oauth_conformance.support.checks import resource_refused
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.dpop import DPoP
from oauth_conformance.support.dpop import ProofKey
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.jwt_bearer import JWT_BEARER
from oauth_conformance.support.jwt_bearer import JwtBearer
from oauth_conformance.support.jwt_bearer import assert_invalid_grant
from oauth_conformance.support.jwt_bearer import assert_refused
from oauth_conformance.support.jwt_bearer import granted
from oauth_conformance.support.jwts import jwt_claims
from oauth_conformance.support.second_ask import asked_twice
from oauth_conformance.target import Target
from oauth_conformance.trust import keys as testkeys
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import not_applicable
from oauth_conformance.verdicts import not_tested

HAPPY = "IDJAG-4.4-GRANT"


@requirement("IDJAG-4.4.1-SCOPE")
def test_a_scope_wider_than_the_id_jag_is_never_granted(bearer: JwtBearer, target: Target) -> None:
    allowed, extra = scopes(target)
    response = bearer.present(bearer.mint(scope=" ".join(allowed)), scope=" ".join([*allowed, extra]))
    if response.status_code != 200:
        assert_oauth_error(response, "invalid_scope", "invalid_grant", "invalid_request")
        return
    issued = json_body(response).get("scope")
    assert isinstance(issued, str), f"a request wider than the ID-JAG's scope got a token with scope {issued!r}"
    assert extra not in issued.split(), f"the token has scope {extra!r}, which the ID-JAG does not carry"


OTHER_RESOURCE = "https://other-rs.oauth-conformance.test/mcp"


def granted_resources(response: httpx.Response) -> list[object] | None:
    """The resources a token was issued for: the response's ``resource``, else the ``aud`` of a JWT
    access token (None: the token does not say)."""
    body = json_body(response)
    reported = body.get("resource")
    if reported is None:
        token = body.get("access_token")
        reported = (jwt_claims(token) or {}).get("aud") if isinstance(token, str) else None
    if reported is None:
        return None
    return reported if isinstance(reported, list) else [reported]


def assert_within_the_id_jag(response: httpx.Response, named: list[str], what: str) -> None:
    """A token was issued: it must be for resources the ID-JAG names (section 4.4.1 lets the server
    grant a subset of them, so a token for the ID-JAG's own resource answers any request)."""
    __tracebackhide__ = True
    granted_to = granted_resources(response)
    if granted_to is None:
        not_tested(f"{what} got a token that does not say which resource it is for (IDJAG-4.4.1-RESP-GRANTED)")
    outside = [value for value in granted_to if value not in named]
    assert not outside, f"the server issued a token for {outside!r} on {what}, whose ID-JAG names only {named!r}"


def assert_refused_or_within_the_id_jag(response: httpx.Response, named: list[str], what: str) -> None:
    """Either no token, refused as RFC 8707 refuses a resource, or a token within the ID-JAG's."""
    __tracebackhide__ = True
    if response.status_code == 200:
        assert_within_the_id_jag(response, named, what)
        return
    assert_refused(response, what)
    assert_oauth_error(response, "invalid_target", "invalid_grant", "invalid_request")


@requirement("IDJAG-4.4.1-RESOURCE")
def test_a_resource_outside_the_id_jag_gets_no_token(bearer: JwtBearer, oauth: OAuth) -> None:
    resource = known_resource(oauth)
    what = f"a request for {OTHER_RESOURCE}"
    response = bearer.present(bearer.mint(resource=resource), resource=OTHER_RESOURCE)
    # Section 4.4 defines no resource parameter: a server may grant from the ID-JAG alone.
    assert_refused_or_within_the_id_jag(response, [resource], what)


def assert_not_taken_here(bearer: JwtBearer, oauth: OAuth, response: httpx.Response, what: str) -> None:
    """A token issued for an ID-JAG naming only a resource this server does not serve is not one its
    own protected resource takes. What the response says the token is for proves nothing here: a
    server can echo the ID-JAG's resource and still issue a token for its own, so the resource is asked."""
    __tracebackhide__ = True
    body = json_body(response)
    token = body.get("access_token")
    if not isinstance(token, str):
        return
    api = oauth.target.profile.resource.url
    if api is None:
        # No protected resource to present the token to ([resource] url): the response's word (its
        # resource, a JWT's aud) is all there is to check, as assert_refused_or_within_the_id_jag does.
        return
    if str(body.get("token_type", "")).lower() != "bearer":
        # A DPoP-typed token: the grant went without a proof, so the harness holds no key the token
        # could be bound to and cannot present it. The response's word is all there is, as above.
        return
    # The positive control: the same grant for the server's own resource gets a token the resource
    # takes; otherwise a refusal below would prove nothing.
    own = granted(bearer.present(bearer.mint(resource=known_resource(oauth))), HAPPY)
    # A fresh token the server issued, presented at its own resource: a 5xx twice or a hang there is
    # the resource's broken happy path, never a silent not_tested.
    control = controls.step(
        lambda: oauth.call_resource(str(own["access_token"])),
        controls.RESOURCE,
        f"{api} given the token of an ID-JAG for its own resource",
    )
    if resource_refused(control):
        raise PrerequisiteFailed(
            f"{api} answered HTTP {control.status_code} to the token of an ID-JAG for its own resource;"
            " see MCP-EMA-RESOURCE"
        )
    called, _ = asked_twice(lambda: oauth.call_resource(token), lambda r: r.status_code >= 500)  # a blip is no answer
    if resource_refused(called):
        return
    # Taken: served (2xx), or answered as the control was (an MCP endpoint may answer a bare GET with
    # 405 whatever the token). Any other answer (a redirect to a sign-in page, say) says nothing.
    if not 200 <= called.status_code < 300 and called.status_code != control.status_code:
        not_tested(
            f"{api} answered HTTP {called.status_code} to the token of {what}, HTTP {control.status_code} to the"
            " token of an ID-JAG for its own resource: neither taken nor refused"
        )
    raise AssertionError(
        f"a token for a resource this server does not serve was accepted by its own resource: {api} took"
        f" the token issued for {what} (HTTP {called.status_code}), as it takes the token of an ID-JAG for"
        f" its own resource; the token response said it was for {body.get('resource')!r}"
    )


@requirement("IDJAG-4.4.1-RESOURCE")
def test_an_id_jag_for_another_resource_gets_no_token_here(bearer: JwtBearer, oauth: OAuth) -> None:
    known_resource(oauth)  # the server serves a resource of its own, which this ID-JAG does not name
    what = f"an ID-JAG for {OTHER_RESOURCE} only"
    response = bearer.present(bearer.mint(resource=OTHER_RESOURCE))
    if response.status_code == 200:
        assert_not_taken_here(bearer, oauth, response, what)
    assert_refused_or_within_the_id_jag(response, [OTHER_RESOURCE], what)


@requirement("IDJAG-4.4.1-RESP-GRANTED")
def test_the_token_response_reports_the_granted_scope_and_resource(
    bearer: JwtBearer, oauth: OAuth, target: Target
) -> None:
    allowed, _ = scopes(target)
    resource = oauth.resource
    body = granted(bearer.present(bearer.mint(scope=" ".join(allowed), resource=resource)), HAPPY)
    scope = body.get("scope")
    assert isinstance(scope, str), "the response does not say which scope was granted"
    assert set(scope.split()) <= set(allowed), f"the granted scope {scope!r} is not within {' '.join(allowed)!r}"
    if resource is not None:
        reported = body.get("resource")
        values = reported if isinstance(reported, list) else [reported]
        assert reported is not None, "the response does not say which resource was granted"
        assert all(v == resource for v in values), f"the response reports resource {reported!r}, not {resource!r}"


@requirement("IDJAG-4.4.1-RAR")
def test_authorization_details_that_are_not_an_array_are_refused(bearer: JwtBearer) -> None:
    response = bearer.present(bearer.mint(authorization_details={"type": "oauth-conformance"}))
    assert_refused(response, "an ID-JAG whose authorization_details is an object, not an array")


@requirement("IDJAG-8.6.1.2.2-CNF-NO-PROOF")
def test_a_key_bound_id_jag_without_a_dpop_proof_is_invalid_grant(bearer: JwtBearer) -> None:
    thumbprint = testkeys.private_key(testkeys.CLIENT_RS256).thumbprint()
    response = bearer.present(bearer.mint(cnf={"jkt": thumbprint}))
    assert_invalid_grant(response, "an ID-JAG with cnf.jkt and no DPoP proof")


@requirement("IDJAG-4.4.3-NO-RT")
def test_no_refresh_token_is_issued_for_an_id_jag(bearer: JwtBearer) -> None:
    body = granted(bearer.present(bearer.mint()), HAPPY)
    assert "refresh_token" not in body, "the server issued a refresh token for an ID-JAG"


@requirement("IDJAG-8.1-CONFIDENTIAL")
def test_a_public_client_cannot_use_an_id_jag(bearer: JwtBearer, clients: Clients) -> None:
    try:
        public = clients.public(grant_types=["authorization_code", JWT_BEARER])
    except PrerequisiteFailed:
        public = clients.public()
    response = bearer.present(bearer.mint(client=public), client=public)
    assert_refused(response, "a valid ID-JAG presented by a public client")


# ------------------------------------------------- section 8.6.1.2 (-03; 9.8.1.2 in -04): DPoP
@pytest.fixture
def dpop_bearer(request: pytest.FixtureRequest, target: Target) -> JwtBearer:
    """The bearer fixture for the DPoP rows: their catalogue entries apply where DPoP proofs are
    taken (``applies_if``), and they are ID-JAG rows too, so a target without ID-JAG is out of
    their scope before the question of trusting the test IdP comes up."""
    if not target.supports(Feature.IDJAG):
        not_applicable(f"the target does not offer {Feature.IDJAG.description}")
    bearer: JwtBearer = request.getfixturevalue("bearer")
    return bearer


def present_with_proof(bearer: JwtBearer, assertion: str, key: ProofKey, *, htu: str | None = None) -> httpx.Response:
    """The grant with a DPoP proof by ``key`` (for ``htu`` instead of the token endpoint, to break it)."""
    dpop = DPoP(bearer.oauth)
    data: dict[str, str | None] = {"grant_type": JWT_BEARER, "assertion": assertion}
    if htu is None:
        return dpop.token(bearer.client, data, key)
    dpop.prime(bearer.client)
    proof = key.proof("POST", htu, nonce=dpop.current_nonce(dpop.token_url))
    return dpop.token(bearer.client, data, key, proof=proof)


def elsewhere(target: Target) -> str:
    return target.endpoint("authorization_endpoint") or f"{target.issuer.rstrip('/')}/oauth-conformance-elsewhere"


@requirement("IDJAG-8.6.1.2.1-CNF-MISMATCH")
def test_a_key_bound_id_jag_with_another_keys_proof_is_invalid_grant(dpop_bearer: JwtBearer) -> None:
    bound = ProofKey.new()
    response = present_with_proof(dpop_bearer, dpop_bearer.mint(cnf={"jkt": bound.thumbprint}), ProofKey.new())
    assert_invalid_grant(response, "an ID-JAG bound to one key, with a valid DPoP proof made with another")


@requirement("IDJAG-8.6.1.2.1-CNF-MISMATCH")
def test_a_key_bound_id_jag_with_its_keys_proof_is_accepted(dpop_bearer: JwtBearer) -> None:
    bound = ProofKey.new()
    response = present_with_proof(dpop_bearer, dpop_bearer.mint(cnf={"jkt": bound.thumbprint}), bound)
    body = granted(response, "IDJAG-8.6.1.2.1-CNF-MISMATCH (the bound key's own proof)")
    # The token may be DPoP-bound or not ("MAY issue a sender-constrained access token").
    assert str(body.get("token_type", "")).lower() in ("bearer", "dpop"), (
        f"the token is typed {body.get('token_type')!r}, neither Bearer nor DPoP"
    )


@requirement("IDJAG-8.6.1.2.1-PROOF-VALID")
def test_a_key_bound_id_jag_with_an_invalid_proof_gets_no_token(dpop_bearer: JwtBearer, target: Target) -> None:
    bound = ProofKey.new()
    response = present_with_proof(
        dpop_bearer, dpop_bearer.mint(cnf={"jkt": bound.thumbprint}), bound, htu=elsewhere(target)
    )
    assert_refused(response, "an ID-JAG bound to the proof's key, with a proof made for another URL")


@requirement("IDJAG-8.6.1.2.3-PROOF-NO-CNF")
def test_a_proof_with_an_unbound_id_jag_is_still_validated(dpop_bearer: JwtBearer, target: Target) -> None:
    response = present_with_proof(dpop_bearer, dpop_bearer.mint(), ProofKey.new(), htu=elsewhere(target))
    assert_refused(response, "an ID-JAG without cnf, with a DPoP proof made for another URL")


@requirement("IDJAG-8.6.1.2.3-PROOF-NO-CNF")
def test_a_valid_proof_with_an_unbound_id_jag_gets_a_token(dpop_bearer: JwtBearer) -> None:
    body = granted(present_with_proof(dpop_bearer, dpop_bearer.mint(), ProofKey.new()), HAPPY)
    assert str(body.get("token_type", "")).lower() in ("bearer", "dpop"), (
        f"the token is typed {body.get('token_type')!r}, neither Bearer nor DPoP"
    )
