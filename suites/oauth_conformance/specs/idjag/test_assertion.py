"""ID-JAG section 4.4: presenting an ID-JAG, and the checks of section 4.4.1 and 3.1 on it.

Each negative test starts from a client for which a valid ID-JAG gets a token (the ``bearer``
fixture: the target trusts the harness's test IdP) and changes exactly one thing.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import pytest

from oauth_conformance import requirement
from oauth_conformance.support import jwts as assertions
from oauth_conformance.support.checks import json_body
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.jwt_bearer import OMIT
from oauth_conformance.support.jwt_bearer import JwtBearer
from oauth_conformance.support.jwt_bearer import another_grant_client
from oauth_conformance.support.jwt_bearer import assert_invalid_grant
from oauth_conformance.support.jwt_bearer import describe
from oauth_conformance.target import Target
from oauth_conformance.trust import keys as testkeys


@requirement("IDJAG-4.4-GRANT")
def test_a_valid_id_jag_gets_an_oauth_token_response(fresh_bearer: JwtBearer) -> None:
    response = fresh_bearer.present(fresh_bearer.mint())
    assert response.status_code == 200, f"a valid ID-JAG answered {describe(response)}"
    body = json_body(response)
    assert isinstance(body.get("access_token"), str) and body["access_token"], "the response has no access_token"
    assert isinstance(body.get("token_type"), str) and body["token_type"], "the response has no token_type"


# ------------------------------------------------------------------------------------ typ
@requirement("IDJAG-4.4.1-TYP")
@pytest.mark.parametrize("typ", [None, "JWT", "at+jwt"], ids=["no-typ", "JWT", "at+jwt"])
def test_an_id_jag_with_the_wrong_typ_is_invalid_grant(bearer: JwtBearer, typ: str | None) -> None:
    assert_invalid_grant(bearer.present(bearer.mint(typ=typ)), f"an ID-JAG with typ {typ!r}")


# ------------------------------------------------------------------------------------ aud
def _case_variant(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.upper()}://{parts.netloc.upper()}{parts.path}"


AUDIENCES: dict[str, Any] = {
    "issuer-plus-slash": lambda b: b.audience + "/",
    "token-endpoint": lambda b: b.target.endpoint("token_endpoint"),
    "issuer-and-another": lambda b: [b.audience, "https://other-as.oauth-conformance.test"],
    "case-variant": lambda b: _case_variant(b.audience),
    "another-server": lambda b: "https://other-as.oauth-conformance.test",
    "missing": lambda b: OMIT,
}


@requirement("IDJAG-4.4.1-AUD")
@pytest.mark.parametrize("variant", list(AUDIENCES))
def test_an_id_jag_for_another_audience_is_invalid_grant(bearer: JwtBearer, variant: str) -> None:
    aud = AUDIENCES[variant](bearer)
    assert_invalid_grant(bearer.present(bearer.mint(aud=aud)), f"an ID-JAG whose aud is {variant}")


@requirement("IDJAG-4.4.1-AUD")
def test_a_one_element_array_naming_the_issuer_is_accepted_as_aud(bearer: JwtBearer) -> None:
    response = bearer.present(bearer.mint(aud=[bearer.audience]))
    assert response.status_code == 200, f"an ID-JAG whose aud is [issuer] answered {describe(response)}"


# ------------------------------------------------------------------------------ client_id
@requirement("IDJAG-4.4.1-CLIENT-BIND")
def test_an_id_jag_for_another_registered_client_is_invalid_grant(
    bearer: JwtBearer, clients: Clients, target: Target
) -> None:
    other = another_grant_client(clients, bearer.client)
    response = bearer.present(bearer.mint(client=other))
    assert_invalid_grant(response, "an ID-JAG issued for another client")


@requirement("IDJAG-4.4.1-CLIENT-BIND")
def test_an_id_jag_for_an_unknown_client_is_invalid_grant(bearer: JwtBearer) -> None:
    response = bearer.present(bearer.mint(client_id="oauth-conformance-unknown-client"))
    assert_invalid_grant(response, "an ID-JAG whose client_id names no client")


# ------------------------------------------------------------------------------ claims
@requirement("IDJAG-3.1-REQUIRED-CLAIMS")
@pytest.mark.parametrize("claim", ["iss", "sub", "aud", "client_id", "jti", "exp", "iat"])
def test_an_id_jag_missing_a_required_claim_is_refused(bearer: JwtBearer, claim: str) -> None:
    missing: dict[str, Any] = {claim: OMIT}
    assert_invalid_grant(bearer.present(bearer.mint(**missing)), f"an ID-JAG without {claim}")


# ----------------------------------------------------------------------- RFC 7521 section 5.2
def _expired(bearer: JwtBearer) -> str:
    now = int(time.time())
    return bearer.mint(iat=now - 900, exp=now - 600)


RFC7521: dict[str, Any] = {
    "untrusted-issuer": lambda b: b.mint(iss="https://untrusted.oauth-conformance.test/idp"),
    "untrusted-key": lambda b: b.mint(key=testkeys.UNTRUSTED_RS256),
    "unsigned": lambda b: b.mint(alg="none"),
    "altered-claims": lambda b: assertions.tamper(b.mint(), sub="mallory@conformance.test"),
    "expired": _expired,
    "not-yet-valid": lambda b: b.mint(nbf=int(time.time()) + 600),
}


@requirement("IDJAG-4.4.1-RFC7521")
@pytest.mark.parametrize("variant", list(RFC7521))
def test_an_id_jag_failing_rfc7521_processing_is_invalid_grant(bearer: JwtBearer, variant: str) -> None:
    assert_invalid_grant(bearer.present(RFC7521[variant](bearer)), f"an ID-JAG that is {variant}")
