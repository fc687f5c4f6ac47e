"""MCP Enterprise-Managed Authorization (ext-auth draft, section 5.1): the MCP authorization server's
checks on an ID-JAG. Each negative test starts from a client for which a valid ID-JAG gets a token
(``bearer``: the target trusts the harness's test IdP) and changes one thing."""

from __future__ import annotations

import time

import pytest

from oauth_conformance import requirement
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.jwt_bearer import JwtBearer
from oauth_conformance.support.jwt_bearer import another_grant_client
from oauth_conformance.support.jwt_bearer import assert_refused
from oauth_conformance.support.jwt_bearer import granted
from oauth_conformance.support.jwt_bearer import new_bearer
from oauth_conformance.support.jwt_bearer import prove_bearer
from oauth_conformance.target import Target
from oauth_conformance.trust import keys as testkeys
from oauth_conformance.verdicts import not_tested


@pytest.fixture
def ema_client(request: pytest.FixtureRequest, target: Target, oauth: OAuth, clients: Clients) -> JwtBearer:
    """A client of the MCP authorization server and the harness's test IdP (the happy path untried)."""
    return new_bearer(request, target, oauth, clients)


@pytest.fixture
def bearer(ema_client: JwtBearer) -> JwtBearer:
    """The same, once a valid ID-JAG got a token (else the test is not_tested)."""
    return prove_bearer(ema_client)


@requirement("MCP-EMA-TYP")
def test_an_id_jag_typed_as_a_plain_jwt_is_refused(bearer: JwtBearer) -> None:
    assert_refused(bearer.present(bearer.mint(typ="JWT")), "an ID-JAG with typ JWT")


@requirement("MCP-EMA-AUD")
def test_an_id_jag_for_another_authorization_server_is_refused(bearer: JwtBearer) -> None:
    response = bearer.present(bearer.mint(aud="https://other-as.oauth-conformance.test"))
    assert_refused(response, "an ID-JAG for another authorization server")


@requirement("MCP-EMA-CLIENT-ID")
def test_an_id_jag_for_another_client_is_refused(bearer: JwtBearer, clients: Clients, target: Target) -> None:
    other = another_grant_client(clients, bearer.client)
    assert_refused(bearer.present(bearer.mint(client=other)), "an ID-JAG issued for another client")


@requirement("MCP-EMA-RFC7521")
def test_an_id_jag_signed_by_an_untrusted_key_is_refused(bearer: JwtBearer) -> None:
    assert_refused(bearer.present(bearer.mint(key=testkeys.UNTRUSTED_RS256)), "an ID-JAG signed by an untrusted key")


@requirement("MCP-EMA-RFC7521")
def test_an_expired_id_jag_is_refused(bearer: JwtBearer) -> None:
    now = int(time.time())
    assert_refused(bearer.present(bearer.mint(iat=now - 900, exp=now - 600)), "an ID-JAG that expired")


@requirement("MCP-EMA-RESOURCE")
def test_an_id_jag_for_the_mcp_server_yields_a_token_it_accepts(ema_client: JwtBearer, oauth: OAuth) -> None:
    resource = oauth.resource
    if resource is None:
        not_tested("no MCP server resource is known to put in the ID-JAG", unlock="[request] resource")
    oauth.resource_url  # noqa: B018  (not_tested with its unlock before the grant)
    body = granted(ema_client.present(ema_client.mint(resource=resource)), "MCP-EMA-RESOURCE")
    called = oauth.call_resource(str(body["access_token"]))
    assert called.status_code not in (401, 403) and called.status_code < 500, (
        f"the MCP server answered HTTP {called.status_code} to the token issued for its ID-JAG"
    )
