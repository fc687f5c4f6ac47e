"""RFC 7592: reading, updating and deleting a registration at its client configuration endpoint."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from oauth_conformance import requirement
from oauth_conformance.support.checks import bearer_challenges
from oauth_conformance.support.checks import error_code
from oauth_conformance.support.checks import json_body
from oauth_conformance.support.checks import resource_refused
from oauth_conformance.support.clients import Client
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.registration import SECRET_METHODS
from oauth_conformance.support.registration import authenticates
from oauth_conformance.support.registration import effective_method
from oauth_conformance.support.registration import issued_secret
from oauth_conformance.support.registration import method_for
from oauth_conformance.support.registration import registered
from oauth_conformance.target import Target
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import not_applicable
from oauth_conformance.verdicts import not_tested

# Section 2.2: an update request leaves out these members of the client information response.
NOT_IN_UPDATES = (
    "registration_access_token",
    "registration_client_uri",
    "client_secret_expires_at",
    "client_id_issued_at",
)


def managed_registration(clients: Clients, metadata: dict[str, Any]) -> dict[str, Any]:
    """A registration the server offers to manage; not_applicable when it offers nothing."""
    info = registered(clients, metadata)
    has_uri, has_token = "registration_client_uri" in info, "registration_access_token" in info
    if not has_uri and not has_token:
        not_applicable("the registration response carries no registration_client_uri (no RFC 7592 management)")
    if not (has_uri and has_token):
        raise PrerequisiteFailed("the response carries only one of the two management members (see RFC7592-3)")
    return info


@pytest.fixture
def managed(clients: Clients, target: Target) -> dict[str, Any]:
    return managed_registration(clients, clients.metadata(method_for(target)))


def call(
    http: httpx.Client, info: dict[str, Any], method: str, body: Any = None, token: str | None = ""
) -> httpx.Response:
    """A request to the client configuration endpoint, with the registration access token by default."""
    token = info["registration_access_token"] if token == "" else token
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return http.request(method, info["registration_client_uri"], json=body, headers=headers)


def update_of(info: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The full metadata, as the client holds it, with ``changes`` (section 2.2)."""
    body = {k: v for k, v in info.items() if k not in NOT_IN_UPDATES}
    body.update(changes)
    return body


def updated(http: httpx.Client, info: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """Apply an update; the response object, or not_tested when the update fails (see RFC7592-2.2-UPDATE)."""
    response = call(http, info, "PUT", update_of(info, **changes))
    try:
        body = response.json()
    except ValueError:
        body = None
    if not 200 <= response.status_code < 300 or not isinstance(body, dict):
        raise PrerequisiteFailed(f"the update answered HTTP {response.status_code} (see RFC7592-2.2-UPDATE)")
    return body


def deleted(http: httpx.Client, info: dict[str, Any]) -> None:
    """Delete the registration; not_applicable when the server does not offer deletion."""
    response = call(http, info, "DELETE")
    if response.status_code == 405:
        not_applicable("the server does not offer deleting a registration (405)")
    if not 200 <= response.status_code < 300:
        raise PrerequisiteFailed(f"the delete answered HTTP {response.status_code} (see RFC7592-2.3-DELETE-204)")


def method_of(info: dict[str, Any], target: Target) -> str:
    return effective_method(info, method_for(target))


# ------------------------------------------------------------------------------- section 3
@requirement("RFC7592-3-BOTH-OR-NEITHER")
def test_the_management_members_come_together_or_not_at_all(clients: Clients, target: Target) -> None:
    info = registered(clients, clients.metadata(method_for(target)))
    present = [name for name in ("registration_client_uri", "registration_access_token") if name in info]
    assert len(present) != 1, f"the registration response carries {present[0]} without its counterpart"


# ----------------------------------------------------------------------------- section 2.1
@requirement("RFC7592-2.1-READ")
def test_reading_a_registration_returns_its_information(http: httpx.Client, managed: dict[str, Any]) -> None:
    response = call(http, managed, "GET")
    assert response.status_code == 200, f"reading the registration answered HTTP {response.status_code}"
    body = json_body(response)
    assert body.get("client_id") == managed["client_id"], f"the read returned client_id {body.get('client_id')!r}"


@requirement("RFC7592-2-BEARER")
@pytest.mark.parametrize("token", [None, "oauth-conformance-wrong-registration-token"], ids=["missing", "invalid"])
def test_a_bad_registration_access_token_gets_a_bearer_error(
    http: httpx.Client, managed: dict[str, Any], token: str | None
) -> None:
    response = call(http, managed, "GET", token=token)
    assert response.status_code == 401, (
        f"a {'missing' if token is None else 'wrong'} token got HTTP {response.status_code}"
    )
    assert bearer_challenges(response), "the 401 carries no challenge of the 'Bearer' scheme"


@requirement("RFC7592-2.1-GONE-401")
def test_reading_a_deleted_registration_is_answered_401(http: httpx.Client, managed: dict[str, Any]) -> None:
    deleted(http, managed)
    response = call(http, managed, "GET")
    assert response.status_code == 401, f"reading a deleted registration answered HTTP {response.status_code}"


# ----------------------------------------------------------------------------- section 2.2
@requirement("RFC7592-2.2-UPDATE")
def test_an_update_returns_200_with_the_new_values(http: httpx.Client, managed: dict[str, Any]) -> None:
    name = f"oauth-conformance renamed {secrets.token_hex(4)}"
    response = call(http, managed, "PUT", update_of(managed, client_name=name))
    assert response.status_code == 200, f"the update answered HTTP {response.status_code} {error_code(response)}"
    body = json_body(response)
    assert body.get("client_name") == name, f"client_name is {body.get('client_name')!r} after the update"


@requirement("RFC7592-2.2-REPLACE")
def test_updated_values_replace_the_registered_ones(
    http: httpx.Client, managed: dict[str, Any], clients: Clients
) -> None:
    replacement = f"{clients.redirect_uri.rstrip('/')}/replaced"
    body = updated(http, managed, redirect_uris=[replacement])
    assert body.get("redirect_uris") == [replacement], (
        f"redirect_uris is {body.get('redirect_uris')!r} after replacing it with [{replacement!r}]"
    )


@requirement("RFC7592-2.2-CLIENT-ID")
def test_an_update_cannot_change_the_client_id(http: httpx.Client, managed: dict[str, Any]) -> None:
    response = call(http, managed, "PUT", update_of(managed, client_id=f"oauth-conformance-{secrets.token_hex(6)}"))
    if 200 <= response.status_code < 300:
        # Refusing the request is the expected answer; a server that keeps the id and ignores
        # the wrong one has not let the client change it either.
        returned = json_body(response).get("client_id")
        assert returned == managed["client_id"], f"the update changed client_id to {returned!r}"
        return
    assert 400 <= response.status_code < 500, f"the update answered HTTP {response.status_code}"


@requirement("RFC7592-2.2-SECRET-NOT-CHOSEN")
def test_a_client_cannot_choose_its_own_secret(http: httpx.Client, clients: Clients, target: Target) -> None:
    methods = [m for m in SECRET_METHODS if m in (target.metadata.get("token_endpoint_auth_methods_supported") or [])]
    if not methods:
        not_applicable("the target advertises no client-secret auth method")
    info = managed_registration(clients, clients.metadata(methods[0]))
    method = effective_method(info, methods[0])
    if method not in SECRET_METHODS or issued_secret(info) is None:
        not_tested("the registration was not given a client secret")
    chosen = f"oauth-conformance-chosen-{secrets.token_hex(16)}"
    call(http, info, "PUT", update_of(info, client_secret=chosen))  # refusal is the expected answer
    assert not authenticates(target, http, info["client_id"], chosen, method), (
        "the secret the client chose in an update authenticates at the token endpoint"
    )


# ----------------------------------------------------------------------------- section 2.3
@requirement("RFC7592-2.3-DELETE-204")
def test_deleting_a_registration_is_answered_204(http: httpx.Client, managed: dict[str, Any]) -> None:
    response = call(http, managed, "DELETE")
    if response.status_code == 405:
        return  # section 2.3: a server that does not offer deletion answers 405
    assert response.status_code == 204, f"the delete answered HTTP {response.status_code}, not 204"


@requirement("RFC7592-2.3-DELETE-INVALIDATES")
def test_a_deleted_client_no_longer_authenticates(http: httpx.Client, managed: dict[str, Any], target: Target) -> None:
    client_id, secret, method = managed["client_id"], issued_secret(managed), method_of(managed, target)
    if not authenticates(target, http, client_id, secret, method):
        raise PrerequisiteFailed("the fresh registration does not authenticate at the token endpoint")
    deleted(http, managed)
    assert not authenticates(target, http, client_id, secret, method), (
        "the deleted client still authenticates at the token endpoint"
    )


@requirement("RFC7592-2.3-DELETE-GRANTS")
def test_deleting_a_client_ends_its_refresh_tokens(
    http: httpx.Client, managed: dict[str, Any], oauth: OAuth, target: Target
) -> None:
    client = Client(
        client_id=managed["client_id"],
        auth_method=method_of(managed, target),
        redirect_uri=managed.get("redirect_uris", [""])[0],
        client_secret=issued_secret(managed),
        registration=managed,
    )
    tokens = oauth.refreshable(client)
    assert tokens.refresh_token is not None
    deleted(http, managed)
    response = oauth.refresh(client, tokens.refresh_token)
    assert response.status_code != 200, "the deleted client's refresh token still works"
    if target.profile.resource.url is not None:
        assert resource_refused(oauth.call_resource(tokens.access_token)), "the deleted client's access token works"
