"""RFC 9449 at the token endpoint: proofs checked as section 4.3 lists, bound tokens, nonces, metadata.

Each broken proof rides on a fresh code exchange whose proof is valid but for the one thing the
test breaks, and carries the nonce the server last supplied (so a server that wants nonces judges
the proof, not the missing nonce). A refusal is any answer without an access token. The positive
control is RFC9449-5-TOKEN-TYPE: a valid proof gets a token; when it does not, the tests that need
a working exchange are not_tested.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest

from oauth_conformance import requirement
from oauth_conformance.features import Feature
from oauth_conformance.support.checks import error_code
from oauth_conformance.support.clients import Client
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.dpop import OMIT
from oauth_conformance.support.dpop import DPoP
from oauth_conformance.support.dpop import ProofKey
from oauth_conformance.support.dpop import asks_for_nonce
from oauth_conformance.support.flows import OAuth
from oauth_conformance.target import Target
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import not_applicable
from oauth_conformance.verdicts import not_tested

Note = Callable[[str], None]
ASYMMETRIC = ("RS", "PS", "ES", "Ed")  # JWS algorithm families with a public key (RFC 7518, RFC 8037)


def granted(response: httpx.Response) -> bool:
    """The answer issued an access token."""
    if response.status_code != 200:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("access_token"), str)


def exchange_with(dpop: DPoP, client: Client, make: Callable[[ProofKey, str, str | None], str]) -> httpx.Response:
    """A fresh code exchanged with the proof ``make(key, token_url, nonce)`` builds."""
    dpop.prime(client)
    authorization = dpop.oauth.code(client)
    key = ProofKey.new()
    url = dpop.token_url
    return dpop.exchange(authorization, key, proof=make(key, url, dpop.current_nonce(url)))


def assert_refused(response: httpx.Response, what: str) -> None:
    __tracebackhide__ = True
    assert not granted(response), f"{what}: the token endpoint issued an access token"


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode("ascii")

    return f"{part(header)}.{part(claims)}."


# ----------------------------------------------------------------------------- section 4.3
@requirement("RFC9449-4.3-SINGLE-HEADER")
def test_two_dpop_headers_are_refused(dpop: DPoP, clients: Clients, oauth: OAuth) -> None:
    client = clients.public()
    dpop.prime(client)
    authorization = oauth.code(client)
    key = ProofKey.new()
    url, nonce = dpop.token_url, dpop.current_nonce(dpop.token_url)
    data: dict[str, str | None] = {
        "grant_type": "authorization_code",
        "code": authorization.code,
        "redirect_uri": authorization.redirect_uri,
        "code_verifier": authorization.verifier,
    }
    form, auth = oauth.token_form(client, data)
    headers = [
        *auth.items(),
        ("DPoP", key.proof("POST", url, nonce=nonce)),
        ("DPoP", key.proof("POST", url, nonce=nonce)),
    ]
    assert_refused(oauth.http.post(url, data=form, headers=headers), "a request with two DPoP headers")


@requirement("RFC9449-4.3-WELL-FORMED")
@pytest.mark.parametrize("value", ["oauth-conformance-not-a-jwt", "e30.e30.e30", "e30.e30.sig, e30.e30.sig"])
def test_a_dpop_header_that_is_not_one_jwt_is_refused(dpop: DPoP, clients: Clients, value: str) -> None:
    response = exchange_with(dpop, clients.public(), lambda key, url, nonce: value)
    assert_refused(response, f"DPoP: {value}")


@requirement("RFC9449-4.3-CLAIMS")
@pytest.mark.parametrize("claim", ["jti", "htm", "htu", "iat"])
def test_a_proof_missing_a_required_claim_is_refused(dpop: DPoP, clients: Clients, claim: str) -> None:
    dropped: dict[str, Any] = {claim: OMIT}
    response = exchange_with(
        dpop, clients.public(), lambda key, url, nonce: key.proof("POST", url, nonce=nonce, **dropped)
    )
    assert_refused(response, f"a proof without {claim}")


@requirement("RFC9449-4.3-TYP")
@pytest.mark.parametrize("typ", ["JWT", OMIT], ids=["JWT", "none"])
def test_a_proof_that_is_not_typed_dpop_jwt_is_refused(dpop: DPoP, clients: Clients, typ: Any) -> None:
    response = exchange_with(
        dpop, clients.public(), lambda key, url, nonce: key.proof("POST", url, nonce=nonce, typ=typ)
    )
    assert_refused(response, f"a proof with typ {typ if typ is not OMIT else '(none)'}")


@requirement("RFC9449-4.3-ALG")
def test_an_unsigned_proof_is_refused(dpop: DPoP, clients: Clients) -> None:
    def make(key: ProofKey, url: str, nonce: str | None) -> str:
        claims = {"jti": secrets.token_urlsafe(16), "htm": "POST", "htu": url, "iat": int(time.time())}
        if nonce is not None:
            claims["nonce"] = nonce
        return unsigned({"alg": "none", "typ": "dpop+jwt", "jwk": key.public_jwk}, claims)

    assert_refused(exchange_with(dpop, clients.public(), make), "a proof with alg none")


@requirement("RFC9449-4.3-ALG")
def test_a_mac_proof_is_refused(dpop: DPoP, clients: Clients) -> None:
    response = exchange_with(
        dpop, clients.public(), lambda key, url, nonce: key.proof("POST", url, nonce=nonce, mac=True)
    )
    assert_refused(response, "a proof signed with HS256")


@requirement("RFC9449-4.3-SIGNATURE")
def test_a_proof_signed_by_another_key_than_its_jwk_is_refused(dpop: DPoP, clients: Clients) -> None:
    other = ProofKey.new()
    response = exchange_with(
        dpop, clients.public(), lambda key, url, nonce: key.proof("POST", url, nonce=nonce, jwk=other.public_jwk)
    )
    assert_refused(response, "a proof whose jwk header is not the key that signed it")


@requirement("RFC9449-4.3-NO-PRIVATE-KEY")
def test_a_proof_carrying_its_private_key_is_refused(dpop: DPoP, clients: Clients) -> None:
    def make(key: ProofKey, url: str, nonce: str | None) -> str:
        return key.proof("POST", url, nonce=nonce, jwk=dict(key.key.as_dict(private=True)))

    assert_refused(exchange_with(dpop, clients.public(), make), "a proof whose jwk header holds the private key")


@requirement("RFC9449-4.3-HTM")
def test_a_proof_for_another_method_is_refused(dpop: DPoP, clients: Clients) -> None:
    response = exchange_with(dpop, clients.public(), lambda key, url, nonce: key.proof("GET", url, nonce=nonce))
    assert_refused(response, "a proof with htm GET on a POST")


@requirement("RFC9449-4.3-HTU")
def test_a_proof_for_another_url_is_refused(dpop: DPoP, clients: Clients, target: Target) -> None:
    elsewhere = target.endpoint("authorization_endpoint") or dpop.token_url.rstrip("/") + "/elsewhere"
    response = exchange_with(dpop, clients.public(), lambda key, url, nonce: key.proof("POST", elsewhere, nonce=nonce))
    assert_refused(response, f"a proof with htu {elsewhere}")


@requirement("RFC9449-4.3-HTU")
def test_a_proof_whose_htu_has_a_query_is_accepted(dpop: DPoP, clients: Clients) -> None:
    response = exchange_with(
        dpop, clients.public(), lambda key, url, nonce: key.proof("POST", url + "?oauth-conformance=1", nonce=nonce)
    )
    assert granted(response), (
        f"a proof whose htu is the token endpoint URL plus a query was refused (HTTP {response.status_code}"
        f" {error_code(response)}): the query is to be ignored"
    )


# ---------------------------------------------------------------------------- section 11.1
@requirement("RFC9449-11.1-LIFETIME")
@pytest.mark.parametrize("offset", [-3600, 3600], ids=["an-hour-old", "an-hour-ahead"])
def test_a_proof_outside_its_time_window_is_refused(dpop: DPoP, clients: Clients, offset: int) -> None:
    """A proof's creation time is its iat, or a server-managed time carried by a nonce (section
    4.3, step 11): the stale iat is tried without a nonce, and only when the server insists on a
    nonce, with its nonce; accepting it then is the nonce's judgement and proves nothing."""
    client = clients.public()

    def stale(nonce: str | None) -> Callable[[ProofKey, str, str | None], str]:
        return lambda key, url, _: key.proof("POST", url, nonce=nonce, iat=int(time.time()) + offset)

    bare = exchange_with(dpop, client, stale(None))
    assert_refused(bare, f"a proof with iat {offset:+d}s from now and no nonce")
    if not asks_for_nonce(bare):
        return  # refused for what it is
    with_nonce = exchange_with(dpop, client, stale(dpop.current_nonce(dpop.token_url)))
    if granted(with_nonce):
        not_tested("the server judges a proof's age by its nonce, as section 4.3 (step 11) allows")


@requirement("RFC9449-11.1-JTI-REPLAY")
def test_a_proof_sent_twice_is_refused_the_second_time(dpop: DPoP, clients: Clients, oauth: OAuth) -> None:
    client = clients.public()
    dpop.prime(client)
    key = ProofKey.new()
    url = dpop.token_url
    proof = key.proof("POST", url, nonce=dpop.current_nonce(url))
    first = dpop.exchange(oauth.code(client), key, proof=proof)
    if not granted(first):
        raise PrerequisiteFailed(
            f"a code exchanged with a valid proof was refused ({first.status_code}); see 5-TOKEN-TYPE"
        )
    again = dpop.exchange(oauth.code(client), key, proof=proof)
    assert_refused(again, "the same proof (same jti) sent a second time")


# ------------------------------------------------------------------------------- section 5
@requirement("RFC9449-5-TOKEN-TYPE")
def test_a_valid_proof_gets_a_token_of_the_right_type(dpop: DPoP, clients: Clients, oauth: OAuth) -> None:
    client = clients.public()
    key = ProofKey.new()
    response = dpop.exchange(oauth.code(client), key)
    assert granted(response), (
        f"a code exchanged with a valid DPoP proof was refused: HTTP {response.status_code} {error_code(response)}"
    )
    token_type = str(response.json().get("token_type", ""))
    assert token_type.lower() in ("dpop", "bearer"), f"token_type {token_type!r} is neither DPoP nor Bearer"
    if token_type.lower() == "bearer" and oauth.target.profile.resource.url:
        accepted = oauth.call_resource(response.json()["access_token"])
        assert accepted.status_code < 400, (
            f"a token typed Bearer is refused as a bearer token (HTTP {accepted.status_code}): it is DPoP-bound"
        )


@requirement("RFC9449-5-INVALID-DPOP-PROOF")
def test_an_invalid_proof_gets_invalid_dpop_proof(dpop: DPoP, clients: Clients) -> None:
    response = exchange_with(
        dpop, clients.public(), lambda key, url, nonce: key.proof("POST", url, nonce=nonce, typ="JWT")
    )
    assert response.status_code == 400 and error_code(response) == "invalid_dpop_proof", (
        f"a proof typed JWT got HTTP {response.status_code} {error_code(response)}, not 400 invalid_dpop_proof"
    )


@requirement("RFC9449-5-RT-BOUND")
def test_a_public_clients_refresh_token_is_bound_to_the_key(dpop: DPoP, clients: Clients, oauth: OAuth) -> None:
    if not oauth.target.supports(Feature.REFRESH):
        not_tested("the target does not advertise refresh tokens")
    client = clients.public()
    key = ProofKey.new()
    tokens = dpop.tokens(client, key)
    if tokens.refresh_token is None:
        not_tested("the DPoP token response has no refresh_token", unlock="[request] scope (offline_access?)")
    data: dict[str, str | None] = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
    bare = oauth.token_request(client, data)
    assert_refused(bare, "refreshing a public client's DPoP-bound refresh token without a proof")
    other = dpop.token(client, data, ProofKey.new())
    assert_refused(other, "refreshing it with a proof made with another key")
    same = dpop.token(client, data, key)
    assert granted(same), (
        f"refreshing it with a proof made with its own key was refused (HTTP {same.status_code} {error_code(same)})"
    )


@requirement("RFC9449-5.1-ALGS")
def test_the_advertised_algorithms_are_asymmetric_and_work(
    target: Target, dpop: DPoP, clients: Clients, oauth: OAuth, note: Note
) -> None:
    advertised = target.metadata.get("dpop_signing_alg_values_supported")
    if advertised is None:
        not_applicable("the metadata has no dpop_signing_alg_values_supported")
    assert isinstance(advertised, list) and advertised, "dpop_signing_alg_values_supported is not a non-empty array"
    assert all(isinstance(a, str) for a in advertised), "dpop_signing_alg_values_supported holds a non-string"
    symmetric = [a for a in advertised if not str(a).startswith(ASYMMETRIC)]
    assert not symmetric, f"dpop_signing_alg_values_supported lists {symmetric}, which are not asymmetric"
    if "ES256" not in advertised:
        note("ES256 is not advertised, so no proof with an advertised algorithm was tried")
        return
    response = dpop.exchange(oauth.code(clients.public()), ProofKey.new())
    assert granted(response), f"a proof signed with ES256, which is advertised, was refused ({response.status_code})"


@requirement("RFC9449-5.2-BOUND-CLIENT")
def test_a_client_registered_for_bound_tokens_gets_none_without_a_proof(
    clients: Clients, oauth: OAuth, target: Target
) -> None:
    if not target.supports(Feature.REGISTRATION):
        not_tested(
            "needs dynamic registration to register a client with dpop_bound_access_tokens",
            unlock="registration_endpoint",
        )
    client = clients.public(dpop_bound_access_tokens=True)
    if client.registration.get("dpop_bound_access_tokens") is not True:
        not_applicable("the registration response does not keep dpop_bound_access_tokens")
    authorization = oauth.code(client)
    response = oauth.exchange(authorization)
    assert_refused(response, "a client registered with dpop_bound_access_tokens, exchanging a code without a proof")


# ------------------------------------------------------------------------------ section 10
@requirement("RFC9449-10-DPOP-JKT")
def test_a_code_bound_with_dpop_jkt_needs_that_key(dpop: DPoP, clients: Clients, oauth: OAuth) -> None:
    client = clients.public()
    bound = ProofKey.new()
    authorization = oauth.code(client, dpop_jkt=bound.thumbprint)
    response = dpop.exchange(authorization, ProofKey.new())
    assert_refused(response, "a code requested with dpop_jkt, exchanged with a proof made with another key")


@requirement("RFC9449-10-DPOP-JKT")
def test_a_code_bound_with_dpop_jkt_is_exchanged_with_that_key(dpop: DPoP, clients: Clients, oauth: OAuth) -> None:
    client = clients.public()
    bound = ProofKey.new()
    response = dpop.exchange(oauth.code(client, dpop_jkt=bound.thumbprint), bound)
    assert granted(response), (
        f"a code requested with dpop_jkt was refused with a proof made with that key (HTTP {response.status_code}"
        f" {error_code(response)})"
    )


# ------------------------------------------------------------------------------- section 8
def nonce_server(dpop: DPoP, client: Client) -> None:
    """Only servers seen to supply a nonce (the nonce rows say 'servers seen to supply nonces')."""
    dpop.prime(client)
    if not dpop.nonce_supplied:  # a server may supply nonces with its tokens only (section 8.2)
        dpop.exchange(dpop.oauth.code(client), ProofKey.new())
    if not dpop.nonce_supplied:
        not_applicable("the server was not seen to supply a DPoP nonce")


@requirement("RFC9449-8-NONCE")
def test_a_proof_with_a_nonce_the_server_never_supplied_is_refused(dpop: DPoP, clients: Clients, oauth: OAuth) -> None:
    client = clients.public()
    nonce_server(dpop, client)
    key = ProofKey.new()
    proof = key.proof("POST", dpop.token_url, nonce="oauth-conformance-not-a-nonce")
    response = dpop.exchange(oauth.code(client), key, proof=proof)
    assert_refused(response, "a proof with a nonce the server never supplied")


@requirement("RFC9449-8-USE-DPOP-NONCE")
def test_a_missing_nonce_gets_use_dpop_nonce_and_a_nonce(dpop: DPoP, clients: Clients, oauth: OAuth) -> None:
    client = clients.public()
    nonce_server(dpop, client)
    key = ProofKey.new()
    response = dpop.exchange(oauth.code(client), key, proof=key.proof("POST", dpop.token_url))
    if granted(response):
        not_applicable("the server supplies nonces but takes proofs without one: it does not require them")
    assert response.status_code == 400 and asks_for_nonce(response), (
        f"a proof without a nonce got HTTP {response.status_code} {error_code(response)}, not 400 use_dpop_nonce"
    )
    assert len(response.headers.get_list("dpop-nonce")) == 1, "the use_dpop_nonce answer carries no single DPoP-Nonce"


@requirement("RFC9449-8-ONE-NONCE-HEADER")
def test_answers_supplying_a_nonce_carry_one_header(dpop: DPoP, clients: Clients, oauth: OAuth) -> None:
    client = clients.public()
    nonce_server(dpop, client)
    key = ProofKey.new()
    answers = [dpop.exchange(oauth.code(client), key, proof=key.proof("POST", dpop.token_url))]
    answers.append(dpop.exchange(oauth.code(client), key))
    for response in answers:
        count = len(response.headers.get_list("dpop-nonce"))
        assert count <= 1, f"an answer (HTTP {response.status_code}) carries {count} DPoP-Nonce headers"
