"""The feature probes (support/probes.py): what counts as a clear "no", and the second try."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from oauth_conformance.features import Feature
from oauth_conformance.support import probes
from oauth_conformance.support.controls import broken
from oauth_conformance.support.jwt_bearer import KeyClient
from oauth_conformance.support.probes import NOT_A_PROOF
from oauth_conformance.support.probes import Inconclusive
from oauth_conformance.support.probes import dpop_checked
from oauth_conformance.support.probes import grant_accepted
from oauth_conformance.support.probes import twice
from oauth_conformance.verdicts import PrerequisiteFailed


class Answers:
    """Stands in for OAuth and Clients: the token endpoint answers with the responses given, in turn."""

    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses)

    def token_request(self, client: object, data: dict[str, Any]) -> httpx.Response:
        return self.responses.pop(0)

    def confidential(self) -> object:
        return object()


def answer(status: int, body: bytes, content_type: str = "application/json") -> httpx.Response:
    return httpx.Response(status, content=body, headers={"content-type": content_type})


UNSUPPORTED = answer(400, b'{"error": "unsupported_grant_type"}')
KNOWN = answer(400, b'{"error": "invalid_grant"}')


@pytest.mark.parametrize(
    "response",
    [
        answer(503, b"<p>try again later</p>", "text/html"),
        answer(500, b'{"error": "unsupported_grant_type"}'),
        answer(400, b"<p>bad request</p>", "text/html"),
    ],
)
def test_a_grant_probe_answered_without_an_oauth_error_is_inconclusive(response: httpx.Response) -> None:
    answers = Answers(response)
    with pytest.raises(Inconclusive, match="without an OAuth error"):
        grant_accepted(answers, answers, Feature.TOKEN_EXCHANGE)  # type: ignore[arg-type]


def test_a_grant_probe_reads_unsupported_grant_type_as_no_and_a_contents_error_as_yes() -> None:
    answers = Answers(UNSUPPORTED, KNOWN)
    assert grant_accepted(answers, answers, Feature.CLIENT_CREDENTIALS) is None  # type: ignore[arg-type]
    seen = grant_accepted(answers, answers, Feature.CLIENT_CREDENTIALS)  # type: ignore[arg-type]
    assert seen is not None and "invalid_grant" in seen


def test_a_probe_that_failed_once_is_tried_again_and_says_so() -> None:
    tries: list[int] = []

    def probe() -> str | None:
        tries.append(1)
        if len(tries) == 1:
            raise broken("OAUTH21-4.1-CODE-FLOW", "exchanging the code failed with HTTP 503")
        return "a token response carried a refresh_token"

    seen = twice(probe)
    assert len(tries) == 2
    assert seen is not None and seen.startswith("a token response carried a refresh_token")
    assert "HTTP 503" in seen


def test_a_clear_no_is_not_asked_again_and_two_failures_leave_the_feature_out() -> None:
    tries: list[int] = []

    def no() -> str | None:
        tries.append(1)
        return None

    assert twice(no) is None and len(tries) == 1

    def failing() -> str | None:
        tries.append(1)
        raise httpx.ConnectError("connection refused")

    assert twice(failing) is None and len(tries) == 3


class TokenEndpoint:
    """Stands in for OAuth and Clients in the DPoP probe: answers in turn, keeps what was sent."""

    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses)
        self.sent: list[httpx.Request] = []
        self.codes = 0
        self.target = type("T", (), {"profile": type("P", (), {"request": type("R", (), {"redirect_uri": "x"})})})
        self.http = self

    def confidential(self) -> object:
        return object()

    def build_token_request(self, client: object, data: dict[str, Any]) -> httpx.Request:
        return httpx.Request("POST", "https://as.example/token", data=data)

    def code(self, client: object) -> object:
        self.codes += 1
        return object()

    def build_exchange(self, authorization: object) -> httpx.Request:
        return httpx.Request("POST", "https://as.example/token", data={"code": "real"})

    def send(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return self.responses.pop(0)


def test_the_dpop_probe_sees_a_judged_proof_and_tries_a_real_code_when_the_made_up_one_said_nothing() -> None:
    judged = answer(400, b'{"error": "invalid_dpop_proof"}')
    endpoint = TokenEndpoint(KNOWN, judged)
    seen = dpop_checked(endpoint, endpoint)  # type: ignore[arg-type]
    assert seen is not None and "invalid_dpop_proof" in seen
    assert endpoint.codes == 1 and [r.headers["DPoP"] for r in endpoint.sent] == [NOT_A_PROOF] * 2


def test_the_dpop_probe_reads_tokens_for_a_bogus_proof_as_no_and_a_5xx_as_inconclusive() -> None:
    endpoint = TokenEndpoint(KNOWN, answer(200, b'{"access_token": "t", "token_type": "Bearer"}'))
    assert dpop_checked(endpoint, endpoint) is None  # type: ignore[arg-type]
    endpoint = TokenEndpoint(answer(400, b'{"error": "use_dpop_nonce"}'))
    assert dpop_checked(endpoint, endpoint) is not None and endpoint.codes == 0  # type: ignore[arg-type]
    endpoint = TokenEndpoint(answer(502, b"<p>bad gateway</p>", "text/html"))
    with pytest.raises(Inconclusive):
        dpop_checked(endpoint, endpoint)  # type: ignore[arg-type]


def test_a_probe_that_hung_is_not_tried_again() -> None:
    tries: list[int] = []

    def hangs() -> str | None:
        tries.append(1)
        raise httpx.ReadTimeout("no answer")

    assert twice(hangs) is None and len(tries) == 1


class KeyDocumentClient:
    """Stands in for a private_key_jwt document client: its code exchange gets the answer given."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response

    def assertion(self) -> str:
        return "an-assertion"

    def redeem(self, assertion: str) -> httpx.Response:
        return self.response


@pytest.mark.parametrize(
    ("response", "offered"),
    [
        (answer(200, b'{"access_token": "t", "token_type": "Bearer"}'), True),
        (answer(401, b'{"error": "invalid_client"}'), False),
        (answer(502, b"<p>bad gateway</p>", "text/html"), None),
    ],
)
def test_the_private_key_jwt_probe_reads_tokens_as_yes_an_oauth_error_as_no_and_a_page_as_inconclusive(
    response: httpx.Response, offered: bool | None
) -> None:
    def make() -> KeyClient:
        return KeyDocumentClient(response)  # type: ignore[return-value]  # redeem and assertion only

    if offered is None:
        with pytest.raises(Inconclusive):
            probes.key_jwt_accepted(make)
        return
    seen = probes.key_jwt_accepted(make)
    assert (seen is not None) is offered


def test_the_private_key_jwt_probe_reads_a_client_it_cannot_get_as_no() -> None:
    def refused() -> KeyClient:
        raise PrerequisiteFailed("registering a private_key_jwt client with jwks failed (HTTP 400)")

    assert probes.key_jwt_accepted(refused) is None
