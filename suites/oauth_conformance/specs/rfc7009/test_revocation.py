"""RFC 7009: revoking refresh and access tokens at the advertised revocation endpoint.

Tests that prove a token died look at it right after the 200 (refreshing with it, or calling the
protected resource), and first show that it was alive: a refresh with the grant works (else
OAUTH21-4.3.2-REFRESH-VALID fails), the access token is accepted (else RFC6750-2.1-HEADER fails),
so that "the refresh failed" cannot be read as "the token was revoked" on a target whose refresh
never works. Where a test is about something narrower (a hint, ownership) and the token survives,
a control revocation tells "this behaviour is broken" apart from "revocation is broken altogether"
(then the test is not_tested, and RFC7009-2.1-IMMEDIATE reports the failure).
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import httpx

from oauth_conformance import requirement
from oauth_conformance.support import controls
from oauth_conformance.support.attempts import live_refresh_token
from oauth_conformance.support.attempts import revoked_refresh_token
from oauth_conformance.support.checks import assert_error_shape
from oauth_conformance.support.checks import assert_oauth_error
from oauth_conformance.support.checks import error_code
from oauth_conformance.support.checks import resource_refused
from oauth_conformance.support.clients import Client
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.second_ask import asked_twice
from oauth_conformance.target import Target
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import not_applicable
from oauth_conformance.verdicts import not_tested

Note = Callable[[str], None]


def json_of(response: httpx.Response) -> dict[str, object]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def unknown_token() -> str:
    return f"oauth-conformance-unknown-{secrets.token_hex(16)}"


def refreshed(oauth: OAuth, client: Client, refresh_token: str, *, alive: bool = False) -> str | None:
    """Refresh once; the refresh token to use next (rotated or not), or None if refused.

    A 5xx is no refusal: it is asked once more, and a second one ends the test. For a token that
    must be ``alive`` (nothing revoked it) that, or a hang, is the refresh grant's failure; after a
    revocation it shows neither a live token nor a dead one (not tested, never "revoked").
    """
    what = "a refresh with the client's live refresh token" if alive else "the refresh after the revocation"
    if alive:
        response = controls.step(lambda: oauth.refresh(client, refresh_token), controls.REFRESH, what)
    else:
        response, _ = asked_twice(lambda: oauth.refresh(client, refresh_token), lambda r: r.status_code >= 500)
        if response.status_code >= 500:
            raise PrerequisiteFailed(
                f"{what} answered HTTP {response.status_code} twice: neither refreshed nor refused"
            )
    if response.status_code != 200:
        return None
    issued = response.json().get("refresh_token")
    return issued if isinstance(issued, str) else refresh_token


def revocation_works(oauth: OAuth, client: Client, refresh_token: str) -> bool:
    """The control: a plain revocation (correct hint) of a live refresh token makes it unusable (a
    revocation endpoint that breaks or refuses it fails RFC7009-2-REFRESH; see ``revoked_refresh_token``)."""
    revoked_refresh_token(oauth, client, refresh_token)
    return refreshed(oauth, client, refresh_token) is None


def revoke_with_hint(oauth: OAuth, clients: Clients, hint: str) -> tuple[httpx.Response, str | None]:
    """Revoke a fresh refresh token with ``hint``; the answer, and the token if it still refreshes.

    When the token survives, a control revocation with the right hint decides whether the hint
    is to blame; if even the control leaves it alive, revocation itself is broken and the test
    is not_tested (RFC7009-2.1-IMMEDIATE and RFC7009-2-REFRESH report that).
    """
    client = clients.confidential()
    live = live_refresh_token(oauth, client)
    response = oauth.revoke(client, live, hint)
    survivor = refreshed(oauth, client, live)
    if survivor is not None and not revocation_works(oauth, client, survivor):
        raise PrerequisiteFailed(
            "even a revocation with the right hint leaves the token alive (see RFC7009-2-REFRESH and -2.1-IMMEDIATE)"
        )
    return response, survivor


# ------------------------------------------------------------------------------- section 2
@requirement("RFC7009-2-REFRESH")
def test_revoking_an_own_refresh_token_is_accepted(oauth: OAuth, clients: Clients, note: Note) -> None:
    client = clients.confidential()
    tokens = oauth.refreshable(client)
    assert tokens.refresh_token is not None
    response = oauth.revoke(client, tokens.refresh_token, "refresh_token")
    assert 200 <= response.status_code < 300, (
        f"revoking the client's own refresh token answered HTTP {response.status_code} {error_code(response)}"
    )
    if response.status_code != 200:  # section 2.2 names 200, in words without a BCP 14 keyword
        note(f"revoking a refresh token answered HTTP {response.status_code}; RFC 7009 section 2.2 says 200")


@requirement("RFC7009-2-HTTPS")
def test_the_revocation_endpoint_is_https(target: Target) -> None:
    endpoint = target.endpoint("revocation_endpoint") or ""
    assert urlsplit(endpoint).scheme == "https", f"revocation_endpoint {endpoint!r} is not https"


@requirement("RFC7009-2-ACCESS")
def test_a_revoked_access_token_is_refused_by_the_resource(oauth: OAuth, clients: Clients) -> None:
    client = clients.confidential()
    tokens = oauth.usable_tokens(client)
    response = oauth.revoke(client, tokens.access_token, "access_token")
    assert response.status_code == 200, (
        f"revoking an access token answered HTTP {response.status_code} {error_code(response)}"
    )
    after = oauth.call_resource(tokens.access_token)
    assert resource_refused(after), f"the resource still accepts the revoked access token (HTTP {after.status_code})"


# ----------------------------------------------------------------------------- section 2.1
@requirement("RFC7009-2.1-CLIENT-AUTH")
def test_revocation_with_a_wrong_client_secret_is_refused_with_invalid_client(oauth: OAuth, clients: Clients) -> None:
    client = clients.confidential()
    wrong = dataclasses.replace(client, client_secret=f"wrong-{secrets.token_hex(12)}")
    response = oauth.revoke(wrong, unknown_token())
    assert_oauth_error(response, "invalid_client", status=(400, 401))


@requirement("RFC7009-2.1-CLIENT-AUTH")
def test_revocation_by_a_confidential_client_without_its_secret_is_refused(oauth: OAuth, clients: Clients) -> None:
    client = clients.confidential()
    bare = dataclasses.replace(client, auth_method="none", client_secret=None)  # sends client_id only
    response = oauth.revoke(bare, unknown_token())
    assert_oauth_error(response, "invalid_client", status=(400, 401))


@requirement("RFC7009-2.1-OWNERSHIP")
def test_another_clients_refresh_token_is_not_revoked(oauth: OAuth, clients: Clients) -> None:
    owner = clients.confidential()
    live = live_refresh_token(oauth, owner)  # the control: refreshing works at all
    intruder = clients.another(owner)  # another real client: the same one would own the token
    oauth.revoke(intruder, live, "refresh_token")  # RFC 7009 allows an error or a 200 that does nothing
    assert refreshed(oauth, owner, live, alive=True) is not None, "another client's revocation request killed the token"


@requirement("RFC7009-2.1-IMMEDIATE")
def test_a_revoked_refresh_token_is_refused_on_the_next_request(oauth: OAuth, clients: Clients) -> None:
    client = clients.confidential()
    live = live_refresh_token(oauth, client)  # the control: it refreshes before the revocation
    revoked_refresh_token(oauth, client, live)
    after = oauth.refresh(client, live)
    assert_oauth_error(after, "invalid_grant")


@requirement("RFC7009-2.1-IMMEDIATE")
def test_a_refresh_token_revoked_without_a_hint_is_refused_on_the_next_request(oauth: OAuth, clients: Clients) -> None:
    # token_type_hint is optional (section 2.1): a revocation without one must work as well. The
    # token is first shown to work (a refresh succeeds), so a refusal afterwards is the revocation's.
    client = clients.confidential()
    live = live_refresh_token(oauth, client)  # a refusal of a fresh token here fails the refresh grant
    revoked_refresh_token(oauth, client, live, None)
    after = oauth.refresh(client, live)
    assert "access_token" not in json_of(after), "a refresh token revoked without token_type_hint still refreshes"
    assert_oauth_error(after, "invalid_grant")


@requirement("RFC7009-2-ACCESS")
def test_an_access_token_revoked_without_a_hint_is_refused_by_the_resource(oauth: OAuth, clients: Clients) -> None:
    client = clients.confidential()
    tokens = oauth.usable_tokens(client)  # the resource accepts it before the revocation
    response = oauth.revoke(client, tokens.access_token)
    assert response.status_code == 200, (
        f"revoking an access token without a hint answered HTTP {response.status_code} {error_code(response)}"
    )
    after = oauth.call_resource(tokens.access_token)
    assert resource_refused(after), (
        f"the resource still accepts an access token revoked without token_type_hint (HTTP {after.status_code})"
    )


@requirement("RFC7009-2.1-HINT-FALLBACK")
def test_an_access_token_hinted_as_a_refresh_token_is_still_revoked(oauth: OAuth, clients: Clients, note: Note) -> None:
    client = clients.confidential()
    tokens = oauth.usable_tokens(client)  # the resource accepts it before the revocation
    oauth.revoke(client, tokens.access_token, "refresh_token")
    if not resource_refused(oauth.call_resource(tokens.access_token)):
        # The control: does this server revoke access tokens at all (RFC7009-2-ACCESS, a SHOULD)?
        # Its "no" switches the test off, so a failed control is asked again (section 2.2.1: a 503
        # says the client may retry) and a server fault both times is no "no".
        control, first = asked_twice(
            lambda: oauth.revoke(client, tokens.access_token, "access_token"), lambda r: r.status_code != 200
        )
        if first is not None and control.status_code == 200:
            note(f"the control revocation with token_type_hint=access_token first answered HTTP {first.status_code}")
        assert control.status_code < 500, (
            f"the control revocation with token_type_hint=access_token answered HTTP {control.status_code} twice"
        )
        if not resource_refused(oauth.call_resource(tokens.access_token)):
            not_applicable("the server does not revoke access tokens (see RFC7009-2-ACCESS)")
        raise AssertionError("the access token hinted as a refresh token survived: only the hinted type was searched")


@requirement("RFC7009-2.1-HINT-FALLBACK")
def test_a_refresh_token_hinted_as_an_access_token_is_still_revoked(oauth: OAuth, clients: Clients, note: Note) -> None:
    response, survivor = revoke_with_hint(oauth, clients, "access_token")
    assert survivor is None, "the refresh token still works: the server searched only the hinted token type"
    # The MUST is the wider search; the answer's code is section 2.2's, in words without a keyword.
    if response.status_code != 200:
        note(
            f"a refresh token hinted as an access token was revoked, but the answer was HTTP {response.status_code}"
            f" {error_code(response)}, not the 200 of RFC 7009 section 2.2"
        )


@requirement("RFC7009-2.1-CASCADE")
def test_revoking_a_refresh_token_ends_the_grants_access_tokens(oauth: OAuth, clients: Clients) -> None:
    oauth.resource_url  # noqa: B018  (not_tested without a resource, before any flow)
    client = clients.confidential()
    tokens = oauth.refreshable(client)
    assert tokens.refresh_token is not None
    oauth.expect_accepted(tokens.access_token)
    revoked_refresh_token(oauth, client, tokens.refresh_token)
    after = oauth.call_resource(tokens.access_token)
    assert resource_refused(after), "the access token of the revoked refresh token's grant still works"


# ----------------------------------------------------------------------------- section 2.2
@requirement("RFC7009-2.2-INVALID-200")
def test_an_unknown_token_is_answered_200(oauth: OAuth, clients: Clients) -> None:
    response = oauth.revoke(clients.confidential(), unknown_token())
    assert response.status_code == 200, (
        f"revoking an unknown token answered HTTP {response.status_code} {error_code(response)}, not 200"
    )


@requirement("RFC7009-2.2-BAD-HINT")
def test_an_unknown_token_type_hint_is_ignored(oauth: OAuth, clients: Clients) -> None:
    response, survivor = revoke_with_hint(oauth, clients, "oauth_conformance_unknown_hint")
    assert response.status_code == 200, (
        f"an unknown token_type_hint changed the answer to HTTP {response.status_code} {error_code(response)}"
    )
    assert survivor is None, "the refresh token still works after a revocation with an unknown hint"


# --------------------------------------------------------------------------- section 2.2.1
@requirement("RFC7009-2.2.1-ERROR-FORMAT")
def test_a_revocation_request_without_a_token_gets_an_oauth_error_object(
    oauth: OAuth, clients: Clients, target: Target
) -> None:
    response = oauth.token_request(clients.confidential(), {}, endpoint=target.endpoint("revocation_endpoint"))
    assert response.status_code in (400, 401), f"a request without token answered HTTP {response.status_code}"
    assert_error_shape(response)


# RFC 7009 section 2.2.1 and RFC 6749 section 5.2: what a revocation service answers a request
# with an unknown client or a token it does not know.
REVOCATION_ERRORS = ("invalid_client", "invalid_request", "unsupported_token_type", "invalid_token")


@requirement("RFC7009-2-HTTP-ALSO")
def test_the_http_form_of_the_revocation_endpoint_answers_too(target: Target, http: httpx.Client) -> None:
    url = target.endpoint("revocation_endpoint") or ""
    parts = urlsplit(url)
    if parts.scheme != "https":
        not_tested("the revocation endpoint is not https: there is no separate http service to look for")
    if parts.port not in (None, 443):
        not_tested(f"the endpoint names port {parts.port}: which http port corresponds to it is not defined")
    plain = urlunsplit(("http", parts.hostname or "", parts.path, parts.query, ""))
    # Nothing secret goes over plain http: a made-up token, and a client_id no server knows.
    form = {"token": "oauth-conformance-bogus-token", "client_id": "oauth-conformance-unknown-client"}
    try:
        response = http.post(plain, data=form)
    except httpx.TransportError as exc:
        not_applicable(f"the host cannot be reached over http ({type(exc).__name__})")
    answered = response.status_code == 200 or (
        response.status_code in (400, 401) and error_code(response) in REVOCATION_ERRORS
    )
    assert answered, f"{plain} answered HTTP {response.status_code} {error_code(response) or ''}: no revocation service"
