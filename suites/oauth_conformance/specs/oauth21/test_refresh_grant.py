"""OAuth 2.1 sections 4.3, 4.3.1 and 4.3.3: the refresh token grant, rotation and reuse detection.

The profile's ``[policy] refresh_grace`` declares a grace period (the previous refresh token stays
usable until its successor is first used); with it, the stricter checks wait until the successor
has been used.

A refused refresh proves something only where a valid one succeeds: each test that reads a refusal
as the server doing its job also sends the valid request (the owner's own refresh, the token as
issued, the secret); a target that refuses that too fails OAUTH21-4.3.2-REFRESH-VALID.
"""

from __future__ import annotations

import string

from oauth_conformance import requirement
from oauth_conformance.evidence import Recorder
from oauth_conformance.support import races
from oauth_conformance.support.attempts import body_of
from oauth_conformance.support.attempts import granted_scope
from oauth_conformance.support.attempts import live_refresh_token
from oauth_conformance.support.attempts import refresh_of
from oauth_conformance.support.attempts import refresh_works
from oauth_conformance.support.attempts import scope_not_in
from oauth_conformance.support.attempts import scope_to_narrow
from oauth_conformance.support.checks import assert_oauth_error
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.flows import Tokens
from oauth_conformance.target import Target
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import not_tested


def refresh_token_of(tokens: Tokens, step: str) -> str:
    if not tokens.refresh_token:
        raise PrerequisiteFailed(f"{step} returned no refresh token (see OAUTH21-4.3.1-RT-ROTATE)")
    return tokens.refresh_token


def altered(token: str) -> str:
    """``token`` with one character in its last quarter changed to another of the same kind.

    Never the last character: in base64 its low bits may be padding a lenient decoder ignores.
    """
    index = max(0, len(token) - len(token) // 4 - 1)
    while index > 0 and not token[index].isalnum():
        index -= 1
    ch = token[index]
    for alphabet in (string.digits, string.ascii_lowercase, string.ascii_uppercase):
        if ch in alphabet:
            replacement = alphabet[(alphabet.index(ch) + 1) % len(alphabet)]
            break
    else:
        replacement = "A"
    return token[:index] + replacement + token[index + 1 :]


@requirement("OAUTH21-4.3.2-REFRESH-VALID")
def test_a_valid_refresh_gets_a_new_access_token_and_its_successor_does_too(oauth: OAuth, clients: Clients) -> None:
    client = clients.public()
    tokens = oauth.refreshable(client)
    first = refresh_token_of(tokens, "the code exchange")
    refreshed = refresh_of(oauth, client, first, "the refresh")  # a refusal raises this requirement's failure
    assert refreshed.access_token, "the refresh returned an empty access_token"
    successor = refreshed.refresh_token or first
    again = refresh_of(oauth, client, successor, "the refresh with the token the first refresh left")
    assert again.access_token, "the second refresh returned an empty access_token"


@requirement("OAUTH21-4.3.2-REFRESH-VALID")
def test_a_confidential_clients_valid_refresh_gets_a_new_access_token(oauth: OAuth, clients: Clients) -> None:
    client = clients.confidential()
    first = refresh_token_of(oauth.refreshable(client), "the code exchange")
    refreshed = refresh_of(oauth, client, first, "the refresh")
    assert refreshed.access_token, "the refresh returned an empty access_token"


@requirement("OAUTH21-4.3-RT-CLIENT-BIND")
def test_another_client_cannot_use_the_refresh_token(oauth: OAuth, clients: Clients) -> None:
    owner = clients.public()
    other = clients.another(owner)  # another real client, valid on its own
    refresh_token = live_refresh_token(oauth, owner)
    response = oauth.refresh(other, refresh_token)
    assert "access_token" not in body_of(response), "another client refreshed with the token"
    assert_oauth_error(response, "invalid_grant")


@requirement("OAUTH21-4.3-RT-INTEGRITY")
def test_an_altered_refresh_token_is_refused(oauth: OAuth, clients: Clients) -> None:
    client = clients.public()
    refresh_token = live_refresh_token(oauth, client)
    response = oauth.refresh(client, altered(refresh_token))
    assert "access_token" not in body_of(response), "a refresh token with one character changed was accepted"
    assert_oauth_error(response, "invalid_grant")


@requirement("OAUTH21-4.3.1-RT-CONF-AUTH")
def test_a_confidential_client_must_authenticate_to_refresh(oauth: OAuth, clients: Clients) -> None:
    client = clients.confidential()
    refresh_token = live_refresh_token(oauth, client)
    data: dict[str, str | None] = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": client.client_id,
    }
    response = oauth.token_request(client, data, authenticate=False)
    assert "access_token" not in body_of(response), "a confidential client refreshed without its secret"
    assert_oauth_error(response, "invalid_client", status=(400, 401))


@requirement("OAUTH21-4.3.1-RT-SCOPE")
def test_a_refresh_cannot_add_a_scope_never_granted(oauth: OAuth, clients: Clients, target: Target) -> None:
    client = clients.public()
    tokens = oauth.refreshable(client)
    refresh_token = refresh_token_of(tokens, "the code exchange")
    granted = granted_scope(tokens, target.profile.request.scope)
    extra = scope_not_in(target, granted)
    wider = " ".join([*sorted(granted), extra])
    response = oauth.refresh(client, refresh_token, scope=wider)
    if response.status_code != 200:
        refresh_works(oauth, client)  # the control: a refresh without the extra scope succeeds
    if response.status_code == 200:
        issued = granted_scope(Tokens.from_response(response), wider)
        assert extra not in issued, f"a refresh asking for {wider!r} was granted {extra!r}, never granted before"
    else:
        assert_oauth_error(response, "invalid_scope")


@requirement("OAUTH21-4.3.1-RT-ROTATE")
def test_a_public_clients_refresh_returns_a_new_refresh_token(oauth: OAuth, clients: Clients) -> None:
    client = clients.public()
    first = refresh_token_of(oauth.refreshable(client), "the code exchange")
    refreshed = refresh_of(oauth, client, first, "the refresh")
    assert refreshed.refresh_token, "a public client's refresh returned no new refresh token (no rotation)"
    assert refreshed.refresh_token != first, "a public client's refresh returned the same refresh token"


@requirement("OAUTH21-4.3.1-RT-SUPERSEDED")
def test_a_rotated_out_refresh_token_stops_working(oauth: OAuth, clients: Clients, target: Target) -> None:
    client = clients.public()
    first = refresh_token_of(oauth.refreshable(client), "the code exchange")
    second = refresh_token_of(refresh_of(oauth, client, first, "the first refresh"), "the first refresh")
    grace = target.profile.policy.refresh_grace
    if grace:  # the declared grace period ends when the successor is used
        refresh_of(oauth, client, second, "the refresh with the successor")
    response = oauth.refresh(client, first)
    when = "after its successor was used" if grace else "after it was rotated"
    assert "access_token" not in body_of(response), f"the superseded refresh token still works {when}"
    assert_oauth_error(response, "invalid_grant")


@requirement("OAUTH21-4.3.1-RT-REUSE")
def test_reusing_a_rotated_out_refresh_token_revokes_the_active_one(
    oauth: OAuth, clients: Clients, target: Target
) -> None:
    client = clients.public()
    first = refresh_token_of(oauth.refreshable(client), "the code exchange")
    active = refresh_token_of(refresh_of(oauth, client, first, "the first refresh"), "the first refresh")
    if target.profile.policy.refresh_grace:
        active = refresh_token_of(refresh_of(oauth, client, active, "the second refresh"), "the second refresh")
    reuse = oauth.refresh(client, first)
    if reuse.status_code == 200:
        raise PrerequisiteFailed("the superseded refresh token still works (see OAUTH21-4.3.1-RT-SUPERSEDED)")
    response = oauth.refresh(client, active)
    assert "access_token" not in body_of(response), (
        "after a superseded refresh token was presented again, the active refresh token still works"
    )
    assert_oauth_error(response, "invalid_grant")


@requirement("OAUTH21-4.3.3-RT-SAME-SCOPE")
def test_a_narrowed_refresh_keeps_the_full_scope_for_the_next_one(
    oauth: OAuth, clients: Clients, target: Target
) -> None:
    pair = scope_to_narrow(target)
    if pair is None:
        not_tested("needs two scopes to narrow from (profile scope or scopes_supported)", unlock="[request] scope")
    full, narrow = pair
    client = clients.public()
    tokens = oauth.refreshable(client, scope=full)
    if granted_scope(tokens, full) != set(full.split()):
        raise PrerequisiteFailed(f"asked for {full!r}, granted {tokens.scope!r}")
    narrowed = refresh_of(
        oauth, client, refresh_token_of(tokens, "the code exchange"), "the narrowing refresh", scope=narrow
    )
    again = refresh_of(oauth, client, refresh_token_of(narrowed, "the narrowing refresh"), "the next refresh")
    issued = granted_scope(again, full)
    missing = set(full.split()) - issued
    assert not missing, (
        f"after a refresh narrowed to {narrow!r}, its refresh token yields only {again.scope!r}: lost {sorted(missing)}"
    )


@requirement("OAUTH21-4.3.1-RT-SUPERSEDED")
def test_simultaneous_refreshes_leave_at_most_one_live_successor(
    oauth: OAuth, clients: Clients, recorder: Recorder
) -> None:
    result = races.refresh_race(oauth, clients.public(), losers_4xx=False, recorder=recorder)
    result.show(recorder)
    assert result.violation is None, result.violation
