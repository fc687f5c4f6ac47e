"""MCP: what MCP clients rely on from OAuth 2.1 for codes (PKCE) and refresh tokens (rotation)."""

from __future__ import annotations

from oauth_conformance import requirement
from oauth_conformance.support.attempts import attempt
from oauth_conformance.support.attempts import body_of
from oauth_conformance.support.attempts import refresh_of
from oauth_conformance.support.checks import assert_oauth_error
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.controls import CODE_FLOW
from oauth_conformance.support.controls import fails_here
from oauth_conformance.support.flows import OAuth
from oauth_conformance.target import Target
from oauth_conformance.verdicts import PrerequisiteFailed


@requirement("MCP-CODE-PKCE")
def test_the_s256_code_flow_mcp_clients_run_yields_tokens(oauth: OAuth, clients: Clients) -> None:
    try:  # where the server breaks the plain S256 flow, MCP clients get no token at all
        tokens = oauth.tokens(clients.public())
    except PrerequisiteFailed as exc:
        raise fails_here(exc, CODE_FLOW) from None
    assert tokens.access_token, "the code redeemed with its S256 verifier returned an empty access_token"


@requirement("MCP-CODE-PKCE")
def test_a_public_client_without_a_challenge_gets_no_code(oauth: OAuth, clients: Clients) -> None:
    result = attempt(oauth, clients.public(), pkce=None)
    issued = result.code is not None
    assert not issued, "a public client got a code without sending code_challenge"


@requirement("MCP-SEC-RT-ROTATION")
def test_a_public_clients_refresh_token_is_rotated_and_retired(oauth: OAuth, clients: Clients, target: Target) -> None:
    client = clients.public()
    first = oauth.refreshable(client).refresh_token
    assert first is not None
    refreshed = refresh_of(oauth, client, first, "the refresh")
    assert refreshed.refresh_token and refreshed.refresh_token != first, (
        "a public client's refresh did not return a new refresh token"
    )
    if target.profile.policy.refresh_grace:  # a declared grace period ends when the successor is used
        refresh_of(oauth, client, refreshed.refresh_token, "the refresh with the successor")
    response = oauth.refresh(client, first)
    assert "access_token" not in body_of(response), "the rotated-out refresh token still works"
    assert_oauth_error(response, "invalid_grant")
