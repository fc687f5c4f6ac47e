"""RFC 9449: what a bound token says about its key (sections 6.1, 6.2) and binding through PAR (10.1)."""

from __future__ import annotations

from typing import Any

import httpx

from oauth_conformance import requirement
from oauth_conformance.features import Feature
from oauth_conformance.support import par
from oauth_conformance.support.attempts import introspected_active
from oauth_conformance.support.clients import Client
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.dpop import DPoP
from oauth_conformance.support.dpop import ProofKey
from oauth_conformance.support.dpop import asks_for_nonce
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.jwts import jwt_claims
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import not_applicable
from oauth_conformance.verdicts import not_tested


def jkt_of(claims: dict[str, Any]) -> object:
    cnf = claims.get("cnf")
    return cnf.get("jkt") if isinstance(cnf, dict) else None


# ----------------------------------------------------------------------------- section 6
@requirement("RFC9449-6.1-JKT")
def test_a_bound_jwt_access_token_names_the_keys_thumbprint(dpop: DPoP, clients: Clients) -> None:
    key = ProofKey.new()
    tokens = dpop.tokens(clients.public(), key)
    claims = jwt_claims(tokens.access_token)
    if claims is None:
        not_applicable("the access token is not a JWT")
    if tokens.token_type.lower() != "dpop":
        not_tested(f"the token issued for a valid proof is typed {tokens.token_type!r}, not DPoP-bound")
    assert jkt_of(claims) == key.thumbprint, (
        f"cnf.jkt is {jkt_of(claims)!r}, not the proof key's thumbprint {key.thumbprint!r}"
    )


@requirement("RFC9449-6.2-INTROSPECTION")
def test_introspecting_a_bound_token_gives_dpop_and_the_thumbprint(dpop: DPoP, clients: Clients, oauth: OAuth) -> None:
    if not oauth.target.supports(Feature.INTROSPECTION):
        not_applicable("the target has no introspection endpoint")
    client = clients.confidential()
    key = ProofKey.new()
    tokens = dpop.tokens(client, key)
    if tokens.token_type.lower() != "dpop":
        not_tested(f"the token issued for a valid proof is typed {tokens.token_type!r}, not DPoP-bound")
    body = introspected_active(
        oauth, client, tokens.access_token, "introspecting the client's own live DPoP-bound token"
    )
    if "token_type" in body:
        assert str(body["token_type"]) == "DPoP", f"the introspection response's token_type is {body['token_type']!r}"
    assert jkt_of(body) == key.thumbprint, (
        f"the introspection response's cnf.jkt is {jkt_of(body)!r}, not the proof key's thumbprint"
    )


# --------------------------------------------------------------------------- section 10.1
def push_with_proof(dpop: DPoP, oauth: OAuth, client: Client, key: ProofKey, **params: Any) -> par.Pushed:
    """A pushed request carrying a DPoP proof by ``key`` (following one nonce challenge)."""
    url = par.endpoint(oauth)
    pushed = par.push(oauth, client, headers={"DPoP": key.proof("POST", url, nonce=dpop.current_nonce(url))}, **params)
    dpop.learn(url, pushed.response)
    if asks_for_nonce(pushed.response) and dpop.current_nonce(url):
        pushed = par.push(
            oauth, client, headers={"DPoP": key.proof("POST", url, nonce=dpop.current_nonce(url))}, **params
        )
    return pushed


def par_server(oauth: OAuth) -> None:
    if not oauth.target.supports(Feature.PAR):
        not_applicable("the target has no pushed authorization request endpoint")


def code_exchange(dpop: DPoP, client: Client, pushed: par.Pushed, key: ProofKey) -> httpx.Response | None:
    """The pushed request's code exchanged with a proof by ``key``; None when no code came of it."""
    authorization = par.authorize(dpop.oauth, pushed)
    if authorization.code is None:
        return None
    return dpop.exchange(authorization, key)


@requirement("RFC9449-10.1-PAR")
def test_a_proof_at_the_par_endpoint_binds_the_code(dpop: DPoP, clients: Clients, oauth: OAuth) -> None:
    par_server(oauth)
    client = clients.public()
    key = ProofKey.new()
    pushed = push_with_proof(dpop, oauth, client, key)
    pushed.request_uri  # noqa: B018  (not_tested when the push itself failed)
    response = code_exchange(dpop, client, pushed, ProofKey.new())
    if response is None:
        raise PrerequisiteFailed("the pushed request yielded no code (see RFC9126-2.2-FLOW)")
    assert not (response.status_code == 200 and "access_token" in response.text), (
        "a code pushed with a DPoP proof was exchanged with a proof made with another key"
    )


@requirement("RFC9449-10.1-PAR")
def test_a_dpop_jkt_unlike_the_pushed_proofs_key_is_refused(dpop: DPoP, clients: Clients, oauth: OAuth) -> None:
    par_server(oauth)
    client = clients.public()
    key, other = ProofKey.new(), ProofKey.new()
    pushed = push_with_proof(dpop, oauth, client, key, dpop_jkt=other.thumbprint)
    if pushed.response.status_code != 201:
        return  # refused at the push: what section 10.1 asks
    response = code_exchange(dpop, client, pushed, key)
    assert response is None or response.status_code != 200, (
        "a pushed request whose dpop_jkt is not the key of its DPoP proof was accepted, and its code exchanged"
    )
