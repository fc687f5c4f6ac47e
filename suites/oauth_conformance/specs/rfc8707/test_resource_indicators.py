"""RFC 8707: the resource parameter at the authorization and token endpoints, and token audiences."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from oauth_conformance import requirement
from oauth_conformance.support.attempts import body_of
from oauth_conformance.support.attempts import resources_named
from oauth_conformance.support.attempts import served_pair
from oauth_conformance.support.checks import assert_oauth_error
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.flows import Tokens
from oauth_conformance.target import Target
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import not_tested

# A resource no authorization server serves (.invalid is reserved, RFC 2606).
FOREIGN = "https://resource.oauth-conformance.invalid/api"


def requested_resource(oauth: OAuth) -> str:
    resource = oauth.resource
    if resource is None:
        not_tested("the run knows no resource to request", unlock="[request] resource")
    return resource


def jwt_claims(token: str) -> dict[str, Any] | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


def audiences(oauth: OAuth, clients: Clients, target: Target, tokens: Tokens) -> list[str]:
    """The token's audience from its JWT claims, else from introspection (RFC 7662)."""
    claims = jwt_claims(tokens.access_token)
    if claims is None:
        endpoint = target.endpoint("introspection_endpoint")
        if endpoint is None:
            not_tested(
                "the access token is opaque and the target offers no introspection endpoint to read its audience"
            )
        response = oauth.token_request(clients.confidential(), {"token": tokens.access_token}, endpoint=endpoint)
        if response.status_code != 200:
            raise PrerequisiteFailed(f"introspection answered HTTP {response.status_code}")
        claims = response.json()
        assert isinstance(claims, dict)
    aud = claims.get("aud")
    return [aud] if isinstance(aud, str) else [str(a) for a in aud] if isinstance(aud, list) else []


@requirement("RFC8707-2-AUDIENCE", "RFC6750-5.3-AUDIENCE")
def test_access_tokens_are_restricted_to_the_requested_resource(oauth: OAuth, clients: Clients, target: Target) -> None:
    resource = requested_resource(oauth)
    tokens = oauth.tokens(clients.public(), resource=resource)
    found = audiences(oauth, clients, target, tokens)
    assert found, "the access token carries no audience restriction"
    assert resource in found or resource.rstrip("/") in [a.rstrip("/") for a in found], (
        f"the token's audience {found} does not name the requested resource {resource}"
    )


@requirement("RFC8707-2.1-INVALID-TARGET")
def test_an_authorization_request_for_an_unserved_resource_gets_invalid_target(oauth: OAuth, clients: Clients) -> None:
    requested_resource(oauth)
    authorization = oauth.authorize(clients.public(), resource=FOREIGN)
    assert authorization.code is None, f"the server issued a code for {FOREIGN}, a resource it does not serve"
    assert authorization.error == "invalid_target", f"the error is {authorization.error!r}, not invalid_target"


@requirement("RFC8707-2.1-SYNTAX")
@pytest.mark.parametrize("kind", ["relative", "fragment"])
def test_a_malformed_resource_gets_invalid_target(oauth: OAuth, clients: Clients, kind: str) -> None:
    resource = requested_resource(oauth)
    bad = "/oauth-conformance/relative" if kind == "relative" else f"{resource}#fragment"
    authorization = oauth.authorize(clients.public(), resource=bad)
    assert authorization.code is None, f"the server issued a code for the malformed resource {bad!r}"
    assert authorization.error == "invalid_target", f"the error is {authorization.error!r}, not invalid_target"


@requirement("RFC8707-2.2-INVALID-TARGET")
def test_a_token_request_for_an_ungranted_resource_gets_invalid_target(oauth: OAuth, clients: Clients) -> None:
    resource = requested_resource(oauth)
    authorization = oauth.code(clients.public(), resource=resource)
    assert_oauth_error(oauth.exchange(authorization, resource=FOREIGN), "invalid_target")


@requirement("RFC8707-2.2-INVALID-TARGET")
def test_a_code_for_one_resource_is_not_exchanged_for_another_served_resource(oauth: OAuth, clients: Clients) -> None:
    # The other resource is valid on its own (it gets a code of its own): only the binding of the
    # code to the resource of its authorization request refuses it.
    requested_resource(oauth)
    client = clients.public()
    first, second, authorization = served_pair(oauth, client)
    response = oauth.exchange(authorization, resource=second)
    named = resources_named(body_of(response))
    assert second not in named, f"a code issued for {first} yielded a token for {second}"
    assert_oauth_error(response, "invalid_target")
