"""MCP: redirect URIs are localhost or https (Communication Security)."""

from __future__ import annotations

from oauth_conformance import requirement
from oauth_conformance.support.checks import assert_oauth_error
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.registration import method_for
from oauth_conformance.support.registration import registered

REMOTE_HTTP = "http://mcp-client.oauth-conformance.example/callback"


@requirement("MCP-COMM-REDIRECT")
def test_registering_a_remote_http_redirect_uri_is_refused(clients: Clients) -> None:
    method = method_for(clients.target)
    registered(clients, clients.metadata(method))  # the control: a loopback redirect URI registers
    response = clients.register(clients.metadata(method, redirect_uris=[REMOTE_HTTP]))
    assert_oauth_error(response, "invalid_redirect_uri", "invalid_client_metadata")
