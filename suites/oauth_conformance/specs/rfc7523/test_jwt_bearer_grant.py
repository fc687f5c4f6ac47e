"""RFC 7523 section 2.1 and 3: JWTs as authorization grants, signed by the harness's test IdP.

Each negative test starts from a client for which a valid JWT gets a token (the ``bearer``
fixture) and changes exactly one thing about the JWT or the request.
"""

from __future__ import annotations

import base64
import dataclasses
import time
from collections.abc import Callable

import orjson
import pytest

from oauth_conformance import requirement
from oauth_conformance.features import Feature
from oauth_conformance.support import jwts as assertions
from oauth_conformance.support.checks import assert_oauth_error
from oauth_conformance.support.checks import json_body
from oauth_conformance.support.jwt_bearer import OMIT
from oauth_conformance.support.jwt_bearer import JwtBearer
from oauth_conformance.support.jwt_bearer import assert_invalid_grant
from oauth_conformance.support.jwt_bearer import assert_refused
from oauth_conformance.support.jwt_bearer import describe
from oauth_conformance.target import Target
from oauth_conformance.trust import keys as testkeys
from oauth_conformance.verdicts import not_applicable
from oauth_conformance.verdicts import not_tested


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@requirement("RFC7523-2.1-GRANT")
def test_a_valid_jwt_from_a_trusted_issuer_gets_an_access_token(fresh_bearer: JwtBearer) -> None:
    response = fresh_bearer.present(fresh_bearer.mint())
    assert response.status_code == 200, f"a valid JWT grant answered {describe(response)}"
    body = json_body(response)
    assert isinstance(body.get("access_token"), str), "the token response has no access_token"


@requirement("RFC7523-2.1-ASSERTION")
def test_a_jwt_grant_without_assertion_is_invalid_request(bearer: JwtBearer) -> None:
    assert_oauth_error(bearer.present(None), "invalid_request")


# Not RFC7523-2.1-ASSERTION: "a single JWT" is about what one assertion value holds, and a server
# that reads one of two parameters reads a single JWT. Repeating a parameter is what OAuth 2.1
# section 3.2 forbids, "also [...] parameters defined by extensions". That row applies to every
# target, so this test of it is not_applicable where the JWT bearer grant is not offered (the
# catalogue's applies_if cannot say so for one of the row's tests).
@requirement("OAUTH21-3.2-NO-DUPLICATES")
def test_a_jwt_grant_with_two_assertions_is_refused(request: pytest.FixtureRequest, target: Target) -> None:
    if not target.supports(Feature.JWT_BEARER):
        not_applicable(f"the target does not offer {Feature.JWT_BEARER.description}")
    bearer: JwtBearer = request.getfixturevalue("bearer")
    pairs = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
        ("assertion", bearer.mint()),
        ("assertion", bearer.mint()),
    ]
    response = bearer.present_pairs(pairs)
    assert_refused(response, "a request with two assertion parameters")
    assert_oauth_error(response, "invalid_request")


@requirement("RFC7523-3-ISS")
def test_a_jwt_from_an_untrusted_issuer_is_refused(bearer: JwtBearer) -> None:
    response = bearer.present(bearer.mint(iss="https://untrusted.oauth-conformance.test/idp"))
    assert_refused(response, "a JWT whose iss is not a trusted issuer")


@requirement("RFC7523-3-ISS")
def test_a_trusted_issuer_with_a_trailing_slash_is_refused(bearer: JwtBearer) -> None:
    response = bearer.present(bearer.mint(iss=bearer.issuer + "/"))
    assert_refused(response, "a JWT whose iss is the trusted issuer plus a slash")


@requirement("RFC7523-3-SUB")
def test_a_jwt_without_sub_is_refused(bearer: JwtBearer) -> None:
    assert_refused(bearer.present(bearer.mint(sub=OMIT)), "a JWT without sub")


@requirement("RFC7523-3-AUD")
def test_a_jwt_for_another_authorization_server_is_refused(bearer: JwtBearer) -> None:
    response = bearer.present(bearer.mint(aud="https://other-as.oauth-conformance.test"))
    assert_refused(response, "a JWT for another authorization server")


@requirement("RFC7523-3-AUD")
def test_a_jwt_whose_audience_extends_the_issuer_is_refused(bearer: JwtBearer) -> None:
    response = bearer.present(bearer.mint(aud=bearer.audience.rstrip("/") + "/oauth-conformance"))
    assert_refused(response, "a JWT whose aud is the issuer with a path appended")


@requirement("RFC7523-3-AUD")
def test_a_jwt_without_aud_is_refused(bearer: JwtBearer) -> None:
    assert_refused(bearer.present(bearer.mint(aud=OMIT)), "a JWT without aud")


@requirement("RFC7523-3-EXP")
def test_a_jwt_without_exp_is_refused(bearer: JwtBearer) -> None:
    assert_refused(bearer.present(bearer.mint(exp=OMIT)), "a JWT without exp")


@requirement("RFC7523-3-EXP")
def test_an_expired_jwt_is_refused(bearer: JwtBearer) -> None:
    now = int(time.time())
    response = bearer.present(bearer.mint(iat=now - 900, exp=now - 600))
    assert_refused(response, "a JWT that expired ten minutes ago")


@requirement("RFC7523-3-NBF")
def test_a_jwt_before_its_nbf_is_refused(bearer: JwtBearer) -> None:
    response = bearer.present(bearer.mint(nbf=int(time.time()) + 600))
    assert_refused(response, "a JWT that is not valid for another ten minutes")


@requirement("RFC7523-3-SIG")
def test_an_unsigned_jwt_is_refused(bearer: JwtBearer) -> None:
    assert_refused(bearer.present(bearer.mint(alg="none")), "an unsigned JWT (alg none)")


@requirement("RFC7523-3-SIG")
def test_a_jwt_signed_by_an_untrusted_key_is_refused(bearer: JwtBearer) -> None:
    # The untrusted key carries the trusted key's kid: only the signature tells them apart.
    response = bearer.present(bearer.mint(key=testkeys.UNTRUSTED_RS256))
    assert_refused(response, "a JWT signed with a key the issuer does not publish")


@requirement("RFC7523-3-SIG")
def test_a_jwt_altered_after_signing_is_refused(bearer: JwtBearer) -> None:
    forged = assertions.tamper(bearer.mint(), sub="mallory@conformance.test")
    assert_refused(bearer.present(forged), "a JWT whose sub was changed after signing")


@requirement("RFC7523-3-VALID-JWT")
def test_a_jwt_with_undecodable_claims_is_refused(bearer: JwtBearer) -> None:
    head, _, signature = bearer.mint().split(".")
    assert_refused(bearer.present(f"{head}.!!not-base64!!.{signature}"), "a JWT whose claims are not base64url")


@requirement("RFC7523-3-VALID-JWT")
def test_a_jwt_whose_claims_are_not_an_object_is_refused(bearer: JwtBearer) -> None:
    head, _, signature = bearer.mint().split(".")
    body = _b64(orjson.dumps([bearer.claims()]))
    assert_refused(bearer.present(f"{head}.{body}.{signature}"), "a JWT whose claims are a JSON array")


@requirement("RFC7523-3-VALID-JWT")
def test_a_jwt_with_an_unknown_critical_header_is_refused(bearer: JwtBearer) -> None:
    extension = "urn:oauth-conformance:must-understand"
    response = bearer.present(bearer.mint_critical(extension))
    assert_refused(response, "a JWT with a critical header extension nobody understands")


@requirement("RFC7523-3.1-CLIENT-CREDS")
def test_a_valid_jwt_with_a_wrong_client_secret_is_invalid_client(bearer: JwtBearer) -> None:
    if not bearer.client.client_secret:
        not_tested("the client authenticates without a secret", unlock='[[clients]] kind = "confidential"')
    wrong = dataclasses.replace(bearer.client, client_secret=bearer.client.client_secret + "-wrong")
    response = bearer.present(bearer.mint(), client=wrong)
    assert_oauth_error(response, "invalid_client", status=(400, 401))


@requirement("RFC7523-3.1-INVALID-GRANT")
def test_invalid_jwt_grants_get_400_invalid_grant(bearer: JwtBearer) -> None:
    # Only the refusals are judged here: accepting one of these JWTs fails its own requirement.
    now = int(time.time())
    refused = 0
    for what, jwt in (
        ("a JWT signed with an untrusted key", bearer.mint(key=testkeys.UNTRUSTED_RS256)),
        ("an expired JWT", bearer.mint(iat=now - 900, exp=now - 600)),
        ("a JWT for another audience", bearer.mint(aud="https://other-as.oauth-conformance.test")),
    ):
        response = bearer.present(jwt)
        if response.status_code != 200:
            refused += 1
            assert_invalid_grant(response, what)
    if not refused:
        not_tested("the target refused none of the invalid JWTs (see RFC7523-3-SIG, -EXP and -AUD)")


@requirement("RFC7523-3-REPLAY")
def test_a_jwt_presented_twice_is_refused_the_second_time(bearer: JwtBearer, note: Callable[[str], None]) -> None:
    jwt = bearer.mint()
    first = bearer.present(jwt)
    assert first.status_code == 200, f"the JWT was refused the first time ({describe(first)})"
    if bearer.idjag:
        note("ID-JAG section 4.4.3 lets a client re-submit an unexpired ID-JAG, which replay refusal prevents")
    assert_refused(bearer.present(jwt), "the same JWT (same jti) a second time")
