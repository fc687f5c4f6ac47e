"""RFC 8693: exchanging one of the server's own access tokens at the token endpoint.

Every test but the happy-path ones starts from a client whose plain exchange works (the
``exchanger`` fixture), so a refusal below is a refusal of the one thing each test changes.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from oauth_conformance import requirement
from oauth_conformance.features import Feature
from oauth_conformance.specs.rfc8693.support import ACCESS_TOKEN
from oauth_conformance.specs.rfc8693.support import ID_TOKEN
from oauth_conformance.specs.rfc8693.support import SUBJECT_ERRORS
from oauth_conformance.specs.rfc8693.support import Exchanger
from oauth_conformance.specs.rfc8693.support import assert_refused
from oauth_conformance.specs.rfc8693.support import describe
from oauth_conformance.specs.rfc8693.support import issued
from oauth_conformance.specs.rfc8693.support import plain_exchange
from oauth_conformance.specs.rfc8693.support import refusal
from oauth_conformance.support.attempts import body_of
from oauth_conformance.support.attempts import revoked_access_token
from oauth_conformance.support.checks import assert_oauth_error
from oauth_conformance.support.checks import error_code
from oauth_conformance.support.checks import json_body
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.jwts import jwt_claims
from oauth_conformance.target import Target
from oauth_conformance.time_travel import TargetClock
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import not_applicable
from oauth_conformance.verdicts import not_tested


def tampered(token: str) -> str:
    """The token with one character in its last quarter changed (any signature or hash breaks)."""
    at = len(token) - max(1, len(token) // 8)
    swap = "A" if token[at] != "A" else "B"
    return token[:at] + swap + token[at + 1 :]


def granted_scope(exchanger: Exchanger) -> list[str]:
    scope = exchanger.subject.scope
    if scope is None:
        scope = exchanger.target.profile.request.scope or ""
    return scope.split()


def extra_scope(target: Target, granted: list[str]) -> str:
    """A scope the subject token does not have: one the server lists, else one it cannot know."""
    listed = target.metadata.get("scopes_supported")
    for scope in listed if isinstance(listed, list) else []:
        if isinstance(scope, str) and scope not in granted and scope not in ("openid", "offline_access"):
            return scope
    return "oauth-conformance-extra"


# ------------------------------------------------------------------------------ section 2.1
@requirement("RFC8693-2.1-GRANT")
def test_a_client_exchanges_its_own_access_token(fresh_exchanger: Exchanger) -> None:
    response = fresh_exchanger.exchange()
    assert response.status_code == 200, f"the exchange of a valid access token answered {describe(response)}"


@requirement("RFC8693-2.1-GRANT")
def test_the_exchanged_access_token_is_accepted_by_the_protected_resource(
    fresh_exchanger: Exchanger, oauth: OAuth
) -> None:
    oauth.expect_accepted(fresh_exchanger.subject.access_token)
    response = plain_exchange(fresh_exchanger, requested_token_type=ACCESS_TOKEN)
    if response.status_code != 200:
        raise PrerequisiteFailed(f"the exchange asking for an access token answered {describe(response)}")
    body = json_body(response)
    if body.get("issued_token_type") != ACCESS_TOKEN:
        not_applicable(f"the server issued {body.get('issued_token_type')!r}, not an access token")
    called = oauth.call_resource(str(body.get("access_token")))
    assert called.status_code < 400, (
        f"the protected resource refused the exchanged token with HTTP {called.status_code}"
    )


@requirement("RFC8693-2.1-SUBJECT-REQUIRED")
def test_an_exchange_without_subject_token_is_invalid_request(exchanger: Exchanger) -> None:
    assert_oauth_error(exchanger.exchange_without("subject_token"), "invalid_request")


@requirement("RFC8693-2.1-SUBJECT-REQUIRED")
def test_an_exchange_without_subject_token_type_is_invalid_request(exchanger: Exchanger) -> None:
    assert_oauth_error(exchanger.exchange_without("subject_token_type"), "invalid_request")


@requirement("RFC8693-2.1-ACTOR-TYPE")
def test_an_actor_token_without_actor_token_type_is_invalid_request(exchanger: Exchanger, oauth: OAuth) -> None:
    actor = oauth.tokens(exchanger.client).access_token
    assert_oauth_error(exchanger.exchange(actor_token=actor), "invalid_request")


@requirement("RFC8693-2.1-ACTOR-TYPE")
def test_an_actor_token_type_without_actor_token_is_invalid_request(exchanger: Exchanger) -> None:
    assert_oauth_error(exchanger.exchange(actor_token_type=ACCESS_TOKEN), "invalid_request")


@requirement("RFC8693-2.1-VALIDATE")
def test_an_unknown_subject_token_is_refused(exchanger: Exchanger) -> None:
    assert_refused(exchanger.exchange("oauth-conformance-unknown-token"), "a token it never issued")


@requirement("RFC8693-2.1-VALIDATE")
def test_an_altered_subject_token_is_refused(exchanger: Exchanger) -> None:
    response = exchanger.exchange(tampered(exchanger.subject.access_token))
    assert_refused(response, "an altered copy of its access token")


@requirement("RFC8693-2.1-VALIDATE")
def test_a_revoked_subject_token_is_refused(exchanger: Exchanger, oauth: OAuth, target: Target) -> None:
    if not target.supports(Feature.REVOCATION):
        not_tested("the target has no revocation endpoint")
    token = oauth.tokens(exchanger.client).access_token
    revoked_access_token(oauth, exchanger.client, token)
    assert_refused(exchanger.exchange(token), "a revoked access token")


@requirement("RFC8693-2.1-VALIDATE")
def test_an_expired_subject_token_is_refused(exchanger: Exchanger, clock: TargetClock) -> None:
    lifetime = exchanger.subject.expires_in
    if lifetime is None:
        not_tested("the token response has no expires_in, so the harness cannot tell when the token expires")
    clock.advance(lifetime + 120)
    assert_refused(exchanger.exchange(), "an access token that expired")


@requirement("RFC8693-2.1-TYPE-MISMATCH")
def test_a_refresh_token_declared_as_an_access_token_is_refused(exchanger: Exchanger, oauth: OAuth) -> None:
    tokens = oauth.refreshable(exchanger.client)
    assert tokens.refresh_token is not None
    response = exchanger.exchange(tokens.refresh_token, ACCESS_TOKEN)
    assert_refused(response, "a refresh token declared as an access token")


@requirement("RFC8693-2.1-TYPE-MISMATCH")
def test_an_access_token_declared_as_an_id_token_is_refused(exchanger: Exchanger) -> None:
    assert_refused(exchanger.exchange(subject_type=ID_TOKEN), "an access token declared as an ID token")


@requirement("RFC8693-2.1-RESOURCE-URI")
def test_a_resource_that_is_not_an_absolute_uri_is_refused(exchanger: Exchanger) -> None:
    response = exchanger.exchange(resource="oauth-conformance/relative")
    assert_oauth_error(response, "invalid_request", "invalid_target")


@requirement("RFC8693-2.1-RESOURCE-URI")
def test_a_resource_with_a_fragment_is_refused(exchanger: Exchanger, oauth: OAuth, target: Target) -> None:
    base = oauth.resource or target.issuer
    response = exchanger.exchange(resource=f"{base}#fragment")
    assert_oauth_error(response, "invalid_request", "invalid_target")


@requirement("RFC8693-2.1-CLIENT-AUTH")
def test_an_exchange_without_client_authentication_is_refused(exchanger: Exchanger, oauth: OAuth) -> None:
    data: dict[str, str | None] = {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token": exchanger.subject.access_token,
        "subject_token_type": ACCESS_TOKEN,
        "client_id": exchanger.client.client_id,
    }
    response = oauth.token_request(exchanger.client, data, authenticate=False)
    assert response.status_code != 200, "the exchange succeeded without the client's credentials"
    assert_oauth_error(response, "invalid_client", status=(400, 401))


# ---------------------------------------------------------------------------- section 2.2
@requirement("RFC8693-2.2.1-RESPONSE")
def test_the_response_names_the_issued_token_and_its_types(exchanger: Exchanger) -> None:
    body = json_body(exchanger.exchange())
    assert isinstance(body.get("access_token"), str) and body["access_token"], "access_token is missing"
    kind = body.get("issued_token_type")
    assert isinstance(kind, str) and urlsplit(kind).scheme, f"issued_token_type {kind!r} is not a token type URI"
    token_type = body.get("token_type")
    assert isinstance(token_type, str) and token_type, "token_type is missing"
    if kind == ACCESS_TOKEN:
        assert token_type != "N_A", "token_type is N_A for an access token"


@requirement("RFC8693-2.2.1-SCOPE")
def test_a_scope_other_than_the_requested_one_is_reported(exchanger: Exchanger, target: Target) -> None:
    granted = granted_scope(exchanger)
    requested = [*granted, extra_scope(target, granted)]
    response = refusal(lambda: exchanger.exchange(scope=" ".join(requested)), "an exchange asking a wider scope")
    if response.status_code != 200:
        not_applicable(f"the server refused the wider scope ({describe(response)}), so it issued no other scope")
    body = json_body(response)
    issued_scope = body.get("scope")
    assert issued_scope is not None, (
        f"the server answered a request for scope {' '.join(requested)!r} without saying which scope it issued"
    )
    assert isinstance(issued_scope, str), f"scope is {issued_scope!r}, not a string"


@requirement("RFC8693-2.2.2-ERROR")
def test_invalid_subject_tokens_get_invalid_request(exchanger: Exchanger, note: Callable[[str], None]) -> None:
    # Only the refusals are judged here: accepting one of these tokens fails RFC8693-2.1-VALIDATE.
    seen: dict[str, str] = {}
    for what, token in (
        ("an unknown token", "oauth-conformance-unknown-token"),
        ("an altered token", tampered(exchanger.subject.access_token)),
    ):
        response = exchanger.exchange(token)
        if response.status_code == 200:
            continue
        assert_refused(response, what)
        body = assert_oauth_error(response, *SUBJECT_ERRORS, status=400)
        seen[what] = str(body["error"])
    if not seen:
        not_tested("the target refused none of the invalid subject tokens (see RFC8693-2.1-VALIDATE)")
    if "invalid_grant" in seen.values():
        note("invalid subject tokens get invalid_grant (the ID-JAG draft's choice), not RFC 8693's invalid_request")


@requirement("RFC8693-2.2.2-INVALID-TARGET")
def test_an_audience_the_server_does_not_serve_gets_invalid_target(
    exchanger: Exchanger, note: Callable[[str], None]
) -> None:
    response = exchanger.exchange(audience="https://unknown.oauth-conformance.test/")
    if response.status_code == 200:
        note("the server issued a token for an audience the harness made up (it may serve any audience)")
        return
    assert error_code(response) == "invalid_target", (
        f"an audience the server will not serve was refused with {describe(response)}, not invalid_target"
    )


# ------------------------------------------------------------------------------ section 5
@requirement("RFC8693-5-NO-ESCALATION")
def test_a_wider_scope_than_the_subject_token_is_never_issued(exchanger: Exchanger, target: Target) -> None:
    granted = granted_scope(exchanger)
    extra = extra_scope(target, granted)
    response = exchanger.exchange(scope=" ".join([*granted, extra]))
    if response.status_code != 200:
        assert_oauth_error(response, "invalid_scope", "invalid_request", "invalid_target")
        return
    issued_scope = json_body(response).get("scope")
    assert isinstance(issued_scope, str), (
        f"the server answered a wider scope request with 200 and scope {issued_scope!r}"
    )
    assert extra not in issued_scope.split(), f"the exchanged token has scope {extra!r}, which the subject token lacks"


@requirement("RFC8693-5-NO-ESCALATION")
def test_the_exchanged_token_does_not_outlive_the_subject_token(exchanger: Exchanger) -> None:
    subject_lifetime = exchanger.subject.expires_in
    if subject_lifetime is None:
        not_tested("the subject token's response has no expires_in")
    body = issued(exchanger.exchange())
    lifetime = body.get("expires_in")
    if not isinstance(lifetime, int):
        not_tested("the exchange response has no expires_in")
    # The subject token was issued moments ago: allow a few seconds of rounding.
    assert lifetime <= subject_lifetime + 5, (
        f"the exchanged token lives {lifetime}s, longer than the subject token's {subject_lifetime}s"
    )


@requirement("RFC8693-4.1-ACT")
def test_a_delegation_result_names_the_actor_in_an_act_claim(
    exchanger: Exchanger, oauth: OAuth, clients: Clients
) -> None:
    # The actor is another client acting for the subject (a new grant of the same client may end the
    # subject's: servers replace a client's earlier grant).
    actor = oauth.tokens(clients.confidential()).access_token
    response = refusal(
        lambda: exchanger.exchange(actor_token=actor, actor_token_type=ACCESS_TOKEN), "an exchange with an actor token"
    )
    if response.status_code != 200:
        said = body_of(response).get("error_description")
        shown = f" ({str(said)[:120]})" if said else ""
        not_applicable(f"the server does not delegate: an exchange with an actor token got {describe(response)}{shown}")
    issued = json_body(response).get("access_token")
    claims = jwt_claims(issued) if isinstance(issued, str) else None
    if claims is None:
        not_tested("the issued token is opaque to the client: its act claim cannot be seen")
    act = claims.get("act")
    assert isinstance(act, dict) and act, f"the token issued for a delegation has no act claim (act: {act!r})"
    assert any(isinstance(act.get(n), str) for n in ("sub", "client_id", "iss")), (
        f"the act claim {act!r} names no acting party (sub, client_id or iss)"
    )
