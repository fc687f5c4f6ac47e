"""OAuth 2.1 sections 4.1, 4.1.2, 4.1.3, 7.5.3 and 10.2: the code flow, and redeeming a code.

Each test that reads a refused exchange as the server doing its job first has the same client's
plain flow complete (``oauth.flow_works``): a token endpoint that refuses every code must fail
OAUTH21-4.1-CODE-FLOW, not pass the negative tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from oauth_conformance import requirement
from oauth_conformance.evidence import Recorder
from oauth_conformance.support import races
from oauth_conformance.support.attempts import body_of
from oauth_conformance.support.attempts import describe_error
from oauth_conformance.support.attempts import exchange_pairs
from oauth_conformance.support.attempts import post_form
from oauth_conformance.support.attempts import require_front_channel
from oauth_conformance.support.attempts import server_fault
from oauth_conformance.support.attempts import tokens_from
from oauth_conformance.support.attempts import unless_refused_twice
from oauth_conformance.support.checks import assert_oauth_error
from oauth_conformance.support.clients import Client
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.controls import CODE_FLOW
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.flows import pkce_pair
from oauth_conformance.time_travel import TargetClock
from oauth_conformance.verdicts import NotTested
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import not_applicable

TEN_MINUTES = 600


def some_client(clients: Clients) -> Client:
    """A public client when the run can get one (MCP clients are public), else a confidential one."""
    try:
        return clients.public()
    except NotTested:
        return clients.confidential()


# ---------------------------------------------------------------------------- section 4.1
@requirement("OAUTH21-4.1-CODE-FLOW")
def test_the_code_flow_completes(oauth: OAuth, clients: Clients) -> None:
    client = some_client(clients)
    tokens = oauth.tokens(client)  # a broken step raises this requirement's failure
    assert tokens.access_token, "the code exchange returned an empty access_token"


@requirement("OAUTH21-4.1-CODE-FLOW")
def test_a_second_code_flow_for_the_same_client_completes(oauth: OAuth, clients: Clients) -> None:
    client = some_client(clients)
    first = oauth.tokens(client)
    second = oauth.tokens(client)  # a server that serves each client once, or keeps one grant, breaks here
    assert second.access_token and second.access_token != first.access_token, (
        "a second code flow for the same client returned the first flow's access token"
    )


# ------------------------------------------------------------------------------- single use
@requirement("OAUTH21-4.1.3-CODE-ONCE")
def test_a_code_is_refused_the_second_time(oauth: OAuth, clients: Clients) -> None:
    authorization = oauth.code(clients.public())
    tokens_from(oauth.exchange(authorization), "the first exchange", happy=CODE_FLOW)
    second = oauth.exchange(authorization)
    assert "access_token" not in body_of(second), "the same code yielded tokens twice"
    assert_oauth_error(second, "invalid_grant")


@requirement("OAUTH21-4.1.3-CODE-ONCE")
def test_simultaneous_redemptions_of_one_code_yield_tokens_once(
    oauth: OAuth, clients: Clients, recorder: Recorder
) -> None:
    result = races.code_race(oauth, clients.public(), losers_4xx=False, recorder=recorder)
    result.show(recorder)
    assert result.violation is None, result.violation


@requirement("OAUTH21-4.1.3-REVOKE-ON-REUSE")
def test_tokens_from_a_replayed_code_are_revoked(oauth: OAuth, clients: Clients) -> None:
    oauth.resource_url  # noqa: B018  (not_tested without a protected resource)
    authorization = oauth.code(clients.public())
    tokens = tokens_from(oauth.exchange(authorization), "the first exchange", happy=CODE_FLOW)
    oauth.expect_accepted(tokens.access_token)
    replay = oauth.exchange(authorization)
    if replay.status_code == 200:
        raise PrerequisiteFailed("the replayed code was accepted (see OAUTH21-4.1.3-CODE-ONCE)")
    after = oauth.call_resource(tokens.access_token)
    assert after.status_code == 401, (
        f"after the code was replayed, the access token it yielded still gets HTTP {after.status_code}"
    )


@requirement("OAUTH21-7.5.3-NO-DOS-REVOKE")
def test_a_replay_with_a_wrong_verifier_leaves_the_tokens_alone(oauth: OAuth, clients: Clients) -> None:
    oauth.resource_url  # noqa: B018  (not_tested without a protected resource)
    authorization = oauth.code(clients.public())
    tokens = tokens_from(oauth.exchange(authorization), "the first exchange", happy=CODE_FLOW)
    oauth.expect_accepted(tokens.access_token)
    replay = oauth.exchange(authorization, code_verifier=pkce_pair()[0])
    if replay.status_code == 200:
        raise PrerequisiteFailed("the replay with a wrong verifier was accepted (see RFC7636-4.6-S256-VERIFY)")
    after = oauth.call_resource(tokens.access_token)
    assert after.status_code == 200, (
        f"a replay with a wrong code_verifier revoked the legitimate access token (HTTP {after.status_code}):"
        " anyone holding a leaked code can end a client's session"
    )


# ---------------------------------------------------------------------------------- binding
@requirement("OAUTH21-4.1.3-CLIENT-BIND")
def test_another_client_cannot_redeem_the_code(oauth: OAuth, clients: Clients) -> None:
    owner = clients.public()
    other = clients.another(owner)  # another real client, valid on its own
    oauth.flow_works(other)  # the control: the other client's own codes redeem
    authorization = oauth.code(owner)
    response = oauth.exchange(replace(authorization, client=other))
    assert "access_token" not in body_of(response), "another client redeemed the code"
    assert_oauth_error(response, "invalid_grant")


@requirement("OAUTH21-4.1.3-PUBLIC-CLIENT-ID")
def test_a_code_exchange_without_any_client_identification_is_refused(oauth: OAuth, clients: Clients) -> None:
    client = clients.public()
    oauth.flow_works(client)  # the control: with its client_id, the client's codes redeem
    authorization = oauth.code(client)
    response = post_form(oauth, client, exchange_pairs(oauth, authorization), authenticate=False)
    assert "access_token" not in body_of(response), "a code exchange without client_id got tokens"
    assert_oauth_error(response, "invalid_client", "invalid_request", "invalid_grant", status=(400, 401))


@requirement("OAUTH21-4.1.3-VERIFIER-REQUIRED")
def test_a_pkce_code_is_not_redeemed_without_its_verifier(oauth: OAuth, clients: Clients) -> None:
    client = clients.public()
    oauth.flow_works(client)  # the control: with its verifier, a code redeems
    authorization = oauth.code(client)
    response = oauth.exchange(authorization, code_verifier=None)
    assert "access_token" not in body_of(response), "a code issued with a challenge was redeemed without a verifier"
    # Section 3.2.4 files a missing parameter under invalid_request; many servers say invalid_grant.
    assert_oauth_error(response, "invalid_request", "invalid_grant")


@requirement("OAUTH21-4.1.3-PKCE-DOWNGRADE")
def test_a_verifier_for_a_code_issued_without_a_challenge_is_refused(
    oauth: OAuth, clients: Clients, note: Callable[[str], None]
) -> None:
    client = clients.confidential()
    # The control first: a new authorization may end the client's earlier grants (and their codes).
    oauth.flow_works(client)
    # A refusal makes the test not_applicable, so it must not rest on one failed request.
    result, first = unless_refused_twice(oauth, client, pkce=None)
    if first is not None:
        note(f"an authorization request without PKCE first ended in {first}, then got a code")
    if result.code is None:
        fault = server_fault(result)
        # A server fault is no refusal: the server did not say that it requires PKCE (section 4.1.2.1
        # has it answer invalid_request), and the test would be switched off by a crash.
        assert fault is None, f"an authorization request without PKCE ended twice in a server fault ({fault})"
        if result.page is not None:
            require_front_channel(oauth, client)
        if result.page is not None or result.error == "invalid_request":
            not_applicable(
                "the server requires PKCE from confidential clients too, so a code issued without a challenge"
                f" cannot be had ({result.describe()})"
            )
        raise PrerequisiteFailed(f"the authorization without PKCE ended in {result.describe()}")
    response = oauth.exchange(result.authorization, code_verifier=pkce_pair()[0])
    assert "access_token" not in body_of(response), "a code_verifier for a code issued without a challenge got tokens"
    if response.status_code == 401 or body_of(response).get("error") == "invalid_client":
        raise PrerequisiteFailed(f"the client could not authenticate: {describe_error(response)}")
    # Section 3.2.4 names invalid_request for this case; invalid_grant (the code does not fit) is common.
    assert_oauth_error(response, "invalid_request", "invalid_grant")


@requirement("OAUTH21-10.2-REDIRECT-URI")
def test_a_different_redirect_uri_at_the_token_endpoint_gets_invalid_grant(oauth: OAuth, clients: Clients) -> None:
    client = clients.public()
    oauth.flow_works(client)  # the control: with its own redirect_uri, a code redeems
    authorization = oauth.code(client)
    base, sep, query = authorization.redirect_uri.partition("?")
    different = f"{base.rstrip('/')}/elsewhere{sep}{query}"
    response = oauth.exchange(authorization, redirect_uri=different)
    assert "access_token" not in body_of(response), f"redirect_uri={different} at the token endpoint got tokens"
    assert_oauth_error(response, "invalid_grant")


@requirement("OAUTH21-10.2-REDIRECT-URI")
def test_the_clients_other_registered_redirect_uri_does_not_redeem_the_code(oauth: OAuth, clients: Clients) -> None:
    # The other value is valid on its own: the same client registered it too. Only the binding of
    # the code to the redirect URI of its authorization request refuses it.
    base = clients.redirect_uri.split("?", 1)[0].rstrip("/")
    client = clients.public_with_redirect_uris([base, f"{base}-second"])
    if len(client.redirect_uris) < 2:
        raise PrerequisiteFailed(f"the client was registered with {list(client.redirect_uris)} only")
    issued_for, other = client.redirect_uris[0], client.redirect_uris[1]
    authorization = oauth.code(replace(client, redirect_uri=issued_for), redirect_uri=issued_for)
    response = oauth.exchange(authorization, redirect_uri=other)
    assert "access_token" not in body_of(response), (
        f"a code issued for {issued_for} was redeemed with the client's other registered redirect URI {other}"
    )
    assert_oauth_error(response, "invalid_grant")


# --------------------------------------------------------------------------------- lifetime
@requirement("OAUTH21-4.1.2-CODE-TTL")
def test_a_code_presented_an_hour_after_issue_is_refused(oauth: OAuth, clients: Clients, clock: TargetClock) -> None:
    client = clients.public()
    oauth.flow_works(client)  # the control: a code redeemed at once gets tokens
    authorization = oauth.code(client)
    clock.advance(6 * TEN_MINUTES)
    response = oauth.exchange(authorization)
    assert "access_token" not in body_of(response), "a code an hour old yielded tokens"
    assert_oauth_error(response, "invalid_grant")


@requirement("OAUTH21-4.1.2-CODE-TTL-10MIN")
def test_a_code_presented_after_ten_minutes_is_refused(oauth: OAuth, clients: Clients, clock: TargetClock) -> None:
    client = clients.public()
    oauth.flow_works(client)  # the control: a code redeemed at once gets tokens
    authorization = oauth.code(client)
    clock.advance(TEN_MINUTES + 5)
    response = oauth.exchange(authorization)
    assert "access_token" not in body_of(response), "a code just over ten minutes old yielded tokens"
    assert_oauth_error(response, "invalid_grant")
