"""The WWW-Authenticate parser the RFC 6750, RFC 9728 and MCP suites read challenges with."""

from __future__ import annotations

import httpx
import pytest

from oauth_conformance.support.checks import bearer_param
from oauth_conformance.support.checks import parse_challenges
from oauth_conformance.support.checks import resource_refused


def test_parameters_keep_their_order_and_repetitions() -> None:
    parsed = parse_challenges(['Bearer realm="a", error="invalid_token", error="again"'])
    assert parsed == [("Bearer", [("realm", "a"), ("error", "invalid_token"), ("error", "again")])]


def test_several_challenges_in_one_header_and_across_headers_are_told_apart() -> None:
    parsed = parse_challenges(['Basic realm="b", Bearer scope="x y"', "DPoP algs=ES256"])
    assert [scheme for scheme, _ in parsed] == ["Basic", "Bearer", "DPoP"]
    assert parsed[1][1] == [("scope", "x y")]
    assert parsed[2][1] == [("algs", "ES256")]


def test_quoted_values_are_unescaped_and_may_hold_commas() -> None:
    parsed = parse_challenges(['Bearer error_description="a, \\"quoted\\" word", realm=r'])
    assert parsed == [("Bearer", [("error_description", 'a, "quoted" word'), ("realm", "r")])]


@pytest.mark.parametrize(
    ("header", "expected"),
    [("Basic abc==", [("Basic", [("", "abc==")])]), ("bearer", [("bearer", [])]), ("", [])],
)
def test_token68_credentials_and_bare_schemes(header: str, expected: object) -> None:
    assert parse_challenges([header]) == expected


def test_bearer_param_finds_the_scheme_in_any_case() -> None:
    response = httpx.Response(401, headers={"WWW-Authenticate": 'BEARER resource_metadata="https://r/x"'})
    assert bearer_param(response, "resource_metadata") == "https://r/x"


@pytest.mark.parametrize(
    ("status", "header", "refused"),
    [
        (200, None, False),
        (400, None, False),  # an MCP endpoint refusing an empty request says nothing about the token
        (400, 'Bearer error="invalid_token"', True),
        (401, None, True),
        (403, 'Bearer error="insufficient_scope"', True),
    ],
)
def test_a_refusal_is_401_403_or_a_bearer_error(status: int, header: str | None, refused: bool) -> None:
    headers = {"WWW-Authenticate": header} if header else {}
    assert resource_refused(httpx.Response(status, headers=headers)) is refused
