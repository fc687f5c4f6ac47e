"""RFC 7662: asking the advertised introspection endpoint about tokens.

The caller is a confidential client authenticating as it does at the token endpoint (section 2.1
allows other forms of authorization; client authentication is the one every server offers). A
test that shows an endpoint saying too little (active false for a live token) first checks the
control: the token's own client introspecting it plainly gets active true; when even that fails,
the test is not_tested and RFC7662-2.2-ACTIVE reports the failure.
"""

from __future__ import annotations

import dataclasses
import secrets
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from oauth_conformance import requirement
from oauth_conformance.support.attempts import introspected_active
from oauth_conformance.support.attempts import revoked_access_token
from oauth_conformance.support.attempts import revoked_refresh_token
from oauth_conformance.support.checks import error_code
from oauth_conformance.support.checks import json_body
from oauth_conformance.support.clients import Client
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.flows import Tokens
from oauth_conformance.target import Target
from oauth_conformance.time_travel import TargetClock
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import not_applicable
from oauth_conformance.verdicts import not_tested


def unknown_token() -> str:
    return f"oauth-conformance-unknown-{secrets.token_hex(16)}"


def answer(response: httpx.Response) -> dict[str, Any]:
    """The introspection response of a properly authorized request: 200 and a JSON object."""
    __tracebackhide__ = True
    assert response.status_code == 200, (
        f"a properly authorized introspection request answered HTTP {response.status_code} {error_code(response)}"
    )
    return json_body(response)


def is_active(response: httpx.Response) -> bool:
    """The answer says the token is active (200, JSON, active true); anything else says nothing."""
    if response.status_code != 200:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("active") is True


def live(oauth: OAuth, client: Client, **kwargs: Any) -> Tokens:
    """Fresh tokens of ``client`` that introspect as active (the control of every other test)."""
    tokens = oauth.tokens(client, **kwargs)
    introspected_active(oauth, client, tokens.access_token)
    return tokens


# ------------------------------------------------------------------------------- section 2
@requirement("RFC7662-2-TLS")
def test_the_introspection_endpoint_is_https(target: Target) -> None:
    endpoint = target.endpoint("introspection_endpoint")
    if endpoint is None:
        not_applicable("the target advertises no introspection_endpoint")
    assert urlsplit(endpoint).scheme == "https", f"introspection_endpoint {endpoint!r} is not https"


# ----------------------------------------------------------------------------- section 2.1
@requirement("RFC7662-2.1-AUTHZ")
def test_a_request_without_credentials_learns_nothing(oauth: OAuth, clients: Clients, target: Target) -> None:
    client = clients.confidential()
    tokens = live(oauth, client)
    endpoint = target.endpoint("introspection_endpoint")
    assert endpoint is not None
    response = oauth.http.post(endpoint, data={"token": tokens.access_token})
    assert not is_active(response), "an introspection request with no authorization at all was told the token is active"
    assert response.status_code != 200 or json_body(response).keys() <= {"active"}, (
        "an unauthorized introspection request got details of the token"
    )


@requirement("RFC7662-2.1-AUTHZ")
def test_a_request_with_a_wrong_secret_learns_nothing(oauth: OAuth, clients: Clients) -> None:
    client = clients.confidential()
    tokens = live(oauth, client)
    wrong = dataclasses.replace(client, client_secret=f"wrong-{secrets.token_hex(12)}")
    response = oauth.introspect(wrong, tokens.access_token)
    assert not is_active(response), "an introspection request with a wrong client secret was told the token is active"


@requirement("RFC7662-2.1-AUTHZ")
def test_a_confidential_client_without_its_secret_learns_nothing(oauth: OAuth, clients: Clients) -> None:
    client = clients.confidential()
    tokens = live(oauth, client)
    bare = dataclasses.replace(client, auth_method="none", client_secret=None)  # sends client_id only
    response = oauth.introspect(bare, tokens.access_token)
    assert not is_active(response), "a request naming the client but without its secret was told the token is active"


@requirement("RFC7662-2.1-HINT-FALLBACK")
def test_an_access_token_hinted_as_a_refresh_token_is_still_found(oauth: OAuth, clients: Clients) -> None:
    client = clients.confidential()
    tokens = live(oauth, client)
    response = oauth.introspect(client, tokens.access_token, "refresh_token")
    assert answer(response).get("active") is True, (
        "an active access token hinted as a refresh token was reported inactive: the search stopped at the hint"
    )


# ----------------------------------------------------------------------------- section 2.2
@requirement("RFC7662-2.2-ACTIVE")
def test_a_live_access_token_is_reported_active(oauth: OAuth, clients: Clients) -> None:
    client = clients.confidential()
    tokens = oauth.tokens(client)
    body = answer(oauth.introspect(client, tokens.access_token, "access_token"))
    assert "active" in body, "the introspection response has no active member"
    assert body["active"] is True, f"a fresh access token was reported with active = {body['active']!r}"


@requirement("RFC7662-2.2-INACTIVE")
def test_a_token_the_server_never_issued_is_reported_inactive(oauth: OAuth, clients: Clients) -> None:
    body = answer(oauth.introspect(clients.confidential(), unknown_token()))
    assert body.get("active") is False, f"an unknown token was reported with active = {body.get('active')!r}"


@requirement("RFC7662-2.2-INACTIVE-NO-INFO")
def test_an_inactive_tokens_answer_says_nothing_more(oauth: OAuth, clients: Clients) -> None:
    client = clients.confidential()
    body = answer(oauth.introspect(client, unknown_token()))
    if body.get("active") is not False:
        raise PrerequisiteFailed("an unknown token is not reported inactive (see RFC7662-2.2-INACTIVE)")
    extra = sorted(set(body) - {"active"})
    assert not extra, f"the answer for an inactive token also carries {extra}"


@requirement("RFC7662-2.2-INACTIVE-NO-INFO")
def test_an_expired_tokens_answer_says_nothing_more(oauth: OAuth, clients: Clients, clock: TargetClock) -> None:
    client = clients.confidential()
    tokens = live(oauth, client)
    if tokens.expires_in is None:
        not_tested("the token response states no expires_in, so the harness cannot know when the token expires")
    clock.advance(tokens.expires_in + 60)
    body = answer(oauth.introspect(client, tokens.access_token))
    if body.get("active") is not False:
        raise PrerequisiteFailed("the expired token is not reported inactive (see RFC7662-4-EXPIRED)")
    extra = sorted(set(body) - {"active"})
    assert not extra, f"the answer for an expired token also carries {extra} (why it is inactive, or about it)"


# ----------------------------------------------------------------------------- section 2.3
MALFORMED = {
    "garbage": "oauth-conformance !#$%&'()*+,/:;<=>?@[]^`{|}~ " + "x" * 64,
    "jwt-shaped": "eyJhbGciOiJub25lIn0.not-base64!.%%%" + "x" * 64,  # a header that decodes: {"alg":"none"}
}


@requirement("RFC7662-2.3-NOT-AN-ERROR")
@pytest.mark.parametrize("kind", list(MALFORMED))
def test_a_malformed_token_is_not_an_error(oauth: OAuth, clients: Clients, kind: str) -> None:
    body = answer(oauth.introspect(clients.confidential(), MALFORMED[kind]))
    assert body.get("active") is False, f"a malformed token was reported with active = {body.get('active')!r}"


@requirement("RFC7662-2.3-NOT-AN-ERROR")
def test_another_clients_token_is_not_an_error(oauth: OAuth, clients: Clients) -> None:
    owner = clients.confidential()
    tokens = live(oauth, owner)
    other = clients.confidential()
    response = oauth.introspect(other, tokens.access_token)
    # Whether this client may know about the token is the server's policy; either way the answer is a 200.
    body = answer(response)
    assert isinstance(body.get("active"), bool), "the answer about another client's token has no boolean active"


@requirement("RFC7662-2.3-401")
def test_a_wrong_client_secret_is_answered_401(oauth: OAuth, clients: Clients) -> None:
    client = clients.confidential()
    wrong = dataclasses.replace(client, client_secret=f"wrong-{secrets.token_hex(12)}")
    response = oauth.introspect(wrong, unknown_token())
    assert response.status_code == 401, (
        f"introspection with a wrong client secret answered HTTP {response.status_code} {error_code(response)}, not 401"
    )


# ------------------------------------------------------------------------------- section 4
@requirement("RFC7662-4-EXPIRED")
def test_an_expired_access_token_is_reported_inactive(oauth: OAuth, clients: Clients, clock: TargetClock) -> None:
    client = clients.confidential()
    tokens = live(oauth, client)
    if tokens.expires_in is None:
        not_tested("the token response states no expires_in, so the harness cannot know when the token expires")
    clock.advance(tokens.expires_in + 60)
    # Whether the answer has the right form is RFC7662-2.2-INACTIVE's business; here: not active.
    assert not is_active(oauth.introspect(client, tokens.access_token)), (
        f"an access token {tokens.expires_in + 60}s past its expires_in is still reported active"
    )


@requirement("RFC7662-4-REVOKED")
def test_a_revoked_access_token_is_reported_inactive(oauth: OAuth, clients: Clients) -> None:
    client = clients.confidential()
    tokens = live(oauth, client)
    revoked_access_token(oauth, client, tokens.access_token)
    assert not is_active(oauth.introspect(client, tokens.access_token)), (
        "a revoked access token is still reported active"
    )


@requirement("RFC7662-4-REVOKED")
def test_a_revoked_refresh_token_is_reported_inactive(oauth: OAuth, clients: Clients) -> None:
    client = clients.confidential()
    tokens = oauth.refreshable(client)
    assert tokens.refresh_token is not None
    if not is_active(oauth.introspect(client, tokens.refresh_token, "refresh_token")):
        not_tested("the server does not report its refresh tokens active, so their revocation cannot be seen here")
    revoked_refresh_token(oauth, client, tokens.refresh_token)
    assert not is_active(oauth.introspect(client, tokens.refresh_token, "refresh_token")), (
        "a revoked refresh token is still reported active"
    )
