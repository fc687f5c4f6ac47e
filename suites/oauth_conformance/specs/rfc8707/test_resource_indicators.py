"""RFC 8707: the resource parameter at the authorization and token endpoints, and token audiences."""

from __future__ import annotations

from typing import Any

import pytest

from oauth_conformance import requirement
from oauth_conformance.support.attempts import body_of
from oauth_conformance.support.attempts import introspected_active
from oauth_conformance.support.attempts import resources_named
from oauth_conformance.support.attempts import served_pair
from oauth_conformance.support.checks import assert_oauth_error
from oauth_conformance.support.clients import Client
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.flows import Tokens
from oauth_conformance.support.jwts import jwt_claims
from oauth_conformance.target import Target
from oauth_conformance.verdicts import not_tested

# A resource no authorization server serves (.invalid is reserved, RFC 2606).
FOREIGN = "https://resource.oauth-conformance.invalid/api"


def requested_resource(oauth: OAuth) -> str:
    resource = oauth.resource
    if resource is None:
        not_tested("the run knows no resource to request", unlock="[request] resource")
    return resource


def introspected(oauth: OAuth, client: Client, target: Target, tokens: Tokens) -> dict[str, Any]:
    """What the token says of itself: its JWT claims, else its introspection (RFC 7662) by its own client.

    The token's own client asks, since a server may tell a client only about its own tokens
    (RFC 7662 section 2.2); introspecting needs that client to be confidential.
    """
    claims = jwt_claims(tokens.access_token)
    if claims is not None:
        return claims
    if target.endpoint("introspection_endpoint") is None:
        not_tested("the access token is opaque and the target offers no introspection endpoint to read it")
    return introspected_active(oauth, client, tokens.access_token)


def audiences(oauth: OAuth, client: Client, target: Target, tokens: Tokens) -> list[str]:
    """The token's audience from its JWT claims, else from introspection (RFC 7662)."""
    aud = introspected(oauth, client, target, tokens).get("aud")
    return [aud] if isinstance(aud, str) else [str(a) for a in aud] if isinstance(aud, list) else []


@requirement("RFC8707-2-AUDIENCE", "RFC6750-5.3-AUDIENCE")
def test_access_tokens_are_restricted_to_the_requested_resource(oauth: OAuth, clients: Clients, target: Target) -> None:
    resource = requested_resource(oauth)
    client = clients.confidential() if target.endpoint("introspection_endpoint") else clients.public()
    tokens = oauth.tokens(client, resource=resource)
    found = audiences(oauth, client, target, tokens)
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


# ------------------------------------------------------------- section 2.2: the scope granted
def granted_scope(oauth: OAuth, client: Client, target: Target, tokens: Tokens) -> set[str] | None:
    """The scope the token really carries (its JWT's scope or scp, else introspection); None if unsaid."""
    claims = introspected(oauth, client, target, tokens)
    scope = claims.get("scope", claims.get("scp"))
    if isinstance(scope, str):
        return set(scope.split())
    if isinstance(scope, list):
        return {str(s) for s in scope}
    return None


@requirement("RFC8707-2.2-SCOPE-ECHO")
@pytest.mark.parametrize("asked", ["a-scope", "no-scope"])
def test_a_scope_other_than_the_one_requested_is_named_in_the_response(
    oauth: OAuth, clients: Clients, target: Target, asked: str
) -> None:
    resource = requested_resource(oauth)
    scope = None
    if asked == "a-scope":
        listed = target.metadata.get("scopes_supported")
        first = listed[0] if isinstance(listed, list) and listed and isinstance(listed[0], str) else None
        scope = target.profile.request.scope or first
        if scope is None:
            not_tested("no scope is known to ask for", unlock="[request] scope")
    client = clients.confidential() if target.endpoint("introspection_endpoint") else clients.public()
    tokens = oauth.tokens(client, resource=resource, scope=scope)
    requested = set((scope or "").split())
    granted = granted_scope(oauth, client, target, tokens)
    if granted is None:
        not_tested("neither the token nor its introspection says which scope it carries")
    if granted == requested:
        not_tested("the server granted exactly the scope asked for, so the rule was not exercised")
    echoed = tokens.raw.get("scope")
    assert isinstance(echoed, str), (
        f"the token carries scope {' '.join(sorted(granted))!r}, not the {' '.join(sorted(requested)) or 'none'!r}"
        " asked for, and the token response has no scope"
    )
    assert set(echoed.split()) == granted, f"the response says scope {echoed!r}; the token carries {sorted(granted)}"
