"""Profile clients (issue 13, item 11): a test gets a [[clients]] entry that fits what it needs, two
different ones when it needs two, and otherwise not_tested naming the entry that would let it run."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from oauth_conformance.profile import parse_profile
from oauth_conformance.support.clients import Clients
from oauth_conformance.target import Target
from oauth_conformance.verdicts import NotTested

R = "http://127.0.0.1:8976/callback"
SECOND = "http://127.0.0.1:8976/callback-second"


def clients_for(entries: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> Clients:
    monkeypatch.setenv("PROFILE_CLIENT_SECRET", "s" * 24)
    for entry in entries:
        if entry.get("kind") == "confidential":
            entry.setdefault("client_secret", {"env": "PROFILE_CLIENT_SECRET"})
            entry.setdefault("auth_method", "client_secret_basic")
    profile = parse_profile({"clients": entries})
    target = Target("https://as.example", "https://as.example/.well-known/oauth-authorization-server", {}, profile)
    return Clients(target, httpx.Client())


def test_successive_requests_get_different_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    clients = clients_for([{"kind": "public", "client_id": "a"}, {"kind": "public", "client_id": "b"}], monkeypatch)
    first = clients.public()
    assert (first.client_id, clients.another(first).client_id) == ("a", "b")


def test_another_never_returns_the_same_client(monkeypatch: pytest.MonkeyPatch) -> None:
    clients = clients_for([{"kind": "public", "client_id": "only"}], monkeypatch)
    first = clients.public()
    with pytest.raises(NotTested) as caught:
        clients.another(first)
    assert caught.value.unlock == 'a second [[clients]] kind = "public"'


def test_a_client_is_chosen_by_its_redirect_uris(monkeypatch: pytest.MonkeyPatch) -> None:
    clients = clients_for(
        [
            {"kind": "public", "client_id": "plain"},
            {"kind": "public", "client_id": "two", "redirect_uris": [R, SECOND]},
        ],
        monkeypatch,
    )
    chosen = clients.public(redirect_uris=[SECOND])
    assert (chosen.client_id, chosen.redirect_uri, chosen.redirect_uris) == ("two", SECOND, (R, SECOND))
    assert clients.public_with_redirect_uris([R, "http://127.0.0.1:8976/x"]).client_id == "two"


def test_no_fitting_client_names_the_entry_that_would_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    clients = clients_for([{"kind": "public", "client_id": "plain"}], monkeypatch)
    with pytest.raises(NotTested) as caught:
        clients.public(redirect_uris=[R, SECOND], grant_types=["authorization_code", "client_credentials"])
    assert caught.value.unlock == (
        f'[[clients]] kind = "public", redirect_uris = ["{R}", "{SECOND}"],'
        ' grant_types = ["authorization_code", "client_credentials"]'
    )


def test_metadata_no_entry_can_promise_needs_registration(monkeypatch: pytest.MonkeyPatch) -> None:
    clients = clients_for([{"kind": "public", "client_id": "plain"}], monkeypatch)
    with pytest.raises(NotTested) as caught:
        clients.public(application_type="native")
    assert caught.value.unlock == "registration_endpoint"


def test_a_confidential_client_is_chosen_by_grant_and_method(monkeypatch: pytest.MonkeyPatch) -> None:
    exchange = "urn:ietf:params:oauth:grant-type:token-exchange"
    clients = clients_for(
        [
            {"kind": "confidential", "client_id": "basic"},
            {"kind": "confidential", "client_id": "post", "auth_method": "client_secret_post"},
            {"kind": "confidential", "client_id": "exchanger", "grant_types": ["authorization_code", exchange]},
        ],
        monkeypatch,
    )
    assert clients.confidential("client_secret_post").client_id == "post"
    assert clients.confidential(grant_types=["authorization_code", exchange]).client_id == "exchanger"
    assert clients.confidential().client_secret == "s" * 24
