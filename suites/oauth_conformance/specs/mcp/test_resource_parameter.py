"""MCP: the resource parameter MCP clients always send, on every request to the authorization server."""

from __future__ import annotations

from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from oauth_conformance import requirement
from oauth_conformance.features import Feature
from oauth_conformance.support.checks import assert_resource_accepts
from oauth_conformance.support.checks import error_code
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.flows import Tokens
from oauth_conformance.verdicts import not_tested


def canonical_resource(oauth: OAuth) -> str:
    resource = oauth.resource
    if resource is None:
        not_tested("the run knows no resource URI to send", unlock="[request] resource")
    return resource


@requirement("MCP-RES-PARAM")
def test_resource_is_accepted_on_authorization_code_exchange_and_refresh(oauth: OAuth, clients: Clients) -> None:
    resource = canonical_resource(oauth)
    client = clients.public()
    authorization = oauth.authorize(client, resource=resource)
    assert authorization.code is not None, (
        f"the authorization request with resource={resource} came back with {authorization.error!r}, not a code"
    )
    response = oauth.exchange(authorization, resource=resource)
    assert response.status_code == 200, (
        f"the code exchange with resource={resource} answered HTTP {response.status_code} {error_code(response)}"
    )
    tokens = Tokens.from_response(response)
    if tokens.refresh_token is None or not oauth.target.supports(Feature.REFRESH):
        return  # no refresh to try; the two requests above are what every MCP client sends
    refreshed = oauth.refresh(client, tokens.refresh_token, resource=resource)
    assert refreshed.status_code == 200, (
        f"refreshing with resource={resource} answered HTTP {refreshed.status_code} {error_code(refreshed)}"
    )


@requirement("MCP-RES-CANONICAL")
def test_an_upper_case_scheme_and_host_are_accepted_as_the_canonical_resource(oauth: OAuth, clients: Clients) -> None:
    parts = urlsplit(canonical_resource(oauth))
    shouted = urlunsplit((parts.scheme.upper(), parts.netloc.upper(), parts.path, parts.query, ""))
    authorization = oauth.authorize(clients.public(), resource=shouted)
    assert authorization.code is not None, f"resource={shouted} came back with {authorization.error!r}, not a code"
    response = oauth.exchange(authorization, resource=shouted)
    assert response.status_code == 200, (
        f"the code exchange with resource={shouted} answered HTTP {response.status_code} {error_code(response)}"
    )
    if oauth.target.profile.resource.url is not None:
        assert_resource_accepts(oauth.call_resource(Tokens.from_response(response).access_token))
