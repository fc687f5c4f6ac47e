"""Token exchange as a client performs it, for the RFC 8693 suite.

:func:`exchanger` gives a test a confidential client allowed to exchange tokens, a fresh access
token of its own to exchange, and proof that a plain exchange of that token works: a negative
test means something only when the positive case passes for the same client (else the test is
``not_tested``; RFC8693-2.1-GRANT reports the failure, and a 5xx twice or a hang on the plain
exchange in a step of any test fails it too).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from oauth_conformance.features import Feature
from oauth_conformance.support import controls
from oauth_conformance.support.checks import error_code
from oauth_conformance.support.clients import Client
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.flows import Tokens
from oauth_conformance.support.second_ask import asked_twice
from oauth_conformance.target import Target
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import not_tested

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"
REFRESH_TOKEN = "urn:ietf:params:oauth:token-type:refresh_token"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
GRANT = "RFC8693-2.1-GRANT"  # the plain exchange works (its own test makes the request)
RESPONSE = "RFC8693-2.2.1-RESPONSE"  # a successful exchange's answer has the form section 2.2.1 gives
# RFC 8693 section 2.2.2 says invalid_request; the ID-JAG draft's token exchange uses invalid_grant.
SUBJECT_ERRORS = ("invalid_request", "invalid_grant")


@dataclass
class Exchanger:
    """A client, a subject token of its own, and the request that exchanges it."""

    oauth: OAuth
    target: Target
    client: Client
    subject: Tokens

    def exchange(
        self, subject_token: str | None = None, subject_type: str | None = ACCESS_TOKEN, **extra: str | None
    ) -> httpx.Response:
        data: dict[str, str | None] = {
            "grant_type": GRANT_TYPE,
            "subject_token": self.subject.access_token if subject_token is None else subject_token,
            "subject_token_type": subject_type,
            **extra,
        }
        return self.oauth.token_request(self.client, data)

    def exchange_without(self, name: str) -> httpx.Response:
        """The plain exchange with one parameter left out."""
        data: dict[str, str | None] = {
            "grant_type": GRANT_TYPE,
            "subject_token": self.subject.access_token,
            "subject_token_type": ACCESS_TOKEN,
        }
        data.pop(name)
        return self.oauth.token_request(self.client, data)


def exchange_client(clients: Clients, target: Target) -> Client:
    """A confidential client that may use the grant (registered for it when registration is offered)."""
    grants = ["authorization_code", GRANT_TYPE]
    if target.supports(Feature.REFRESH):
        grants.insert(1, "refresh_token")
    try:
        return clients.confidential(grant_types=grants)
    except PrerequisiteFailed:
        return clients.confidential()  # a server may allow the grant without it being registered


def describe(response: httpx.Response) -> str:
    code = error_code(response)
    return f"HTTP {response.status_code}" + (f" {code}" if code else "")


def refusal(send: Callable[[], httpx.Response], what: str) -> httpx.Response:
    """The answer to an exchange a test reads a refusal of as "the server does not do this" (and so
    judges nothing): an answer that is no refusal (a 5xx, or an error without an OAuth error code)
    is asked once more, and a second such answer fails the test rather than switch it off."""
    response, first = asked_twice(send, lambda r: r.status_code != 200 and faulted(r))
    if first is None:
        return response
    if response.status_code == 429:  # the harness's requests refused for a while: no answer, no fault
        not_tested(f"{what} was answered 429 Too Many Requests")
    assert response.status_code == 200 or not faulted(response), f"{what} was answered {describe(response)} twice"
    return response


def faulted(response: httpx.Response) -> bool:
    # RFC 6749 section 5.2 (which RFC 8693 section 2.2.2 keeps): a refusal is a JSON error response.
    return response.status_code >= 500 or error_code(response) is None


def issued(response: httpx.Response) -> dict[str, Any]:
    """The body of a successful exchange, or PrerequisiteFailed."""
    if response.status_code != 200:
        raise PrerequisiteFailed(
            f"a plain exchange of the client's own access token failed ({describe(response)}); see RFC8693-2.1-GRANT"
        )
    try:
        body = response.json()
    except ValueError:
        raise controls.broken(RESPONSE, "a plain exchange answered HTTP 200 without JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise controls.broken(RESPONSE, "a plain exchange answered HTTP 200 without an access_token")
    return body


def plain_exchange(exchanger: Exchanger, **extra: str | None) -> httpx.Response:
    """The exchange of the client's own fresh access token (with ``extra``, parameters a server may
    ignore): a 5xx twice or a hang fails RFC8693-2.1-GRANT, whose own test makes that request."""
    what = "a plain exchange of the client's own access token"
    return controls.step(lambda: exchanger.exchange(**extra), GRANT, what)


@pytest.fixture
def fresh_exchanger(oauth: OAuth, clients: Clients, target: Target) -> Exchanger:
    """An exchanger whose plain exchange has not been tried (for the tests of the happy path)."""
    client = exchange_client(clients, target)
    return Exchanger(oauth, target, client, oauth.tokens(client))


@pytest.fixture
def exchanger(fresh_exchanger: Exchanger) -> Exchanger:
    """An exchanger whose plain exchange works (else the test is not_tested)."""
    issued(plain_exchange(fresh_exchanger))
    return fresh_exchanger


def assert_refused(response: httpx.Response, what: str) -> None:
    """The exchange was refused with an OAuth error response (any code)."""
    __tracebackhide__ = True
    assert response.status_code != 200, f"the server exchanged {what} (HTTP 200)"
    assert 400 <= response.status_code < 500, f"{what}: HTTP {response.status_code} is not a refusal"
    assert error_code(response), f"{what}: HTTP {response.status_code} without an OAuth error code"
