"""OAuth 2.1 sections 4.2 and 4.2.1: the client credentials grant, where the server offers it."""

from __future__ import annotations

from oauth_conformance import requirement
from oauth_conformance.features import Feature
from oauth_conformance.support.attempts import body_of
from oauth_conformance.support.checks import assert_oauth_error
from oauth_conformance.support.clients import Client
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.target import Target
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import not_applicable

CLIENT_CREDENTIALS = "client_credentials"


def offered(target: Target) -> None:
    if not target.supports(Feature.CLIENT_CREDENTIALS):  # advertised, or accepted by the token endpoint
        not_applicable("grant_types_supported does not list client_credentials, and the token endpoint refuses it")


def with_grant(clients: Clients, kind: str) -> Client:
    """A client registered for client_credentials where registration allows it, else a plain one."""
    grants = [*clients.metadata("none")["grant_types"], CLIENT_CREDENTIALS]
    try:
        if kind == "public":
            return clients.public(grant_types=grants)
        return clients.confidential(grant_types=grants)
    except PrerequisiteFailed:
        return clients.public() if kind == "public" else clients.confidential()


def request(target: Target) -> dict[str, str | None]:
    return {"grant_type": CLIENT_CREDENTIALS, "scope": target.profile.request.scope}


@requirement("OAUTH21-4.2-CC-CONFIDENTIAL")
def test_a_public_client_gets_no_client_credentials_token(oauth: OAuth, clients: Clients, target: Target) -> None:
    offered(target)
    response = oauth.token_request(with_grant(clients, "public"), request(target))
    assert "access_token" not in body_of(response), "a public client got a client_credentials token"
    assert_oauth_error(response, "unauthorized_client", "invalid_client", status=(400, 401))


@requirement("OAUTH21-4.2.1-CC-AUTH")
def test_client_credentials_without_the_secret_get_invalid_client(
    oauth: OAuth, clients: Clients, target: Target
) -> None:
    offered(target)
    client = with_grant(clients, "confidential")
    response = oauth.token_request(client, {**request(target), "client_id": client.client_id}, authenticate=False)
    assert "access_token" not in body_of(response), "client_credentials without the client secret got a token"
    assert_oauth_error(response, "invalid_client", status=(400, 401))
