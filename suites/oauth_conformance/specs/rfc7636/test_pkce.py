"""RFC 7636: the challenge at the authorization endpoint, the verifier at the token endpoint."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from urllib.parse import unquote

import pytest

from oauth_conformance import requirement
from oauth_conformance.support.attempts import Attempt
from oauth_conformance.support.attempts import attempt
from oauth_conformance.support.attempts import body_of
from oauth_conformance.support.attempts import describe_error
from oauth_conformance.support.attempts import require_error_redirect
from oauth_conformance.support.attempts import require_front_channel
from oauth_conformance.support.checks import assert_oauth_error
from oauth_conformance.support.clients import Client
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.controls import CODE_FLOW
from oauth_conformance.support.controls import fails_here
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.flows import pkce_pair
from oauth_conformance.support.flows import s256
from oauth_conformance.target import Target
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import not_applicable

UNKNOWN_METHOD = "S512"


def verifier_of(length: int) -> str:
    """A verifier of exactly ``length`` characters from the RFC 7636 alphabet."""
    return (secrets.token_urlsafe(length) * 2)[:length]


def _refused_with_invalid_request(oauth: OAuth, client: Client, result: Attempt, what: str) -> None:
    """RFC 7636 section 4.4.1: the authorization error response (a redirect) with invalid_request."""
    __tracebackhide__ = True
    issued = result.code is not None
    assert not issued, f"{what}: a code was issued"
    require_error_redirect(oauth, client, result, what)
    assert result.error == "invalid_request", f"{what}: error={result.error}, not invalid_request"


# ------------------------------------------------------------------------------ section 4.2
@requirement("RFC7636-4.2-S256-MTI")
def test_an_s256_challenge_and_its_verifier_yield_tokens(oauth: OAuth, clients: Clients) -> None:
    try:  # the plain flow is the S256 flow: where the server breaks it, S256 is not implemented
        tokens = oauth.tokens(clients.public())
    except PrerequisiteFailed as exc:
        raise fails_here(exc, CODE_FLOW) from None
    assert tokens.access_token, "the code redeemed with its S256 verifier returned an empty access_token"


# ------------------------------------------------------------------------------ section 4.3
@requirement("RFC7636-4.3-DEFAULT-PLAIN")
def test_a_challenge_without_a_method_is_a_plain_challenge(oauth: OAuth, clients: Clients, target: Target) -> None:
    verifier = verifier_of(43)  # 43 characters: as long as an S256 challenge, so either reading is possible
    client = clients.public()
    result = attempt(oauth, client, pkce=None, code_challenge=verifier)
    if result.code is None:
        methods = target.metadata.get("code_challenge_methods_supported")
        assert not (isinstance(methods, list) and "plain" in methods), (
            f"plain is advertised, yet a challenge without method (plain by default) ended in {result.describe()}"
        )
        _refused_with_invalid_request(oauth, client, result, "a challenge without method, plain unsupported")
        return
    response = oauth.exchange(result.authorization, code_verifier=verifier)
    assert response.status_code == 200, (
        f"a code issued for a challenge without method was not redeemed by the identical verifier (HTTP"
        f" {response.status_code} {describe_error(response)}): the server did not read it as plain"
    )


@requirement("RFC7636-4.3-DEFAULT-PLAIN")
def test_a_challenge_without_a_method_refuses_any_other_verifier(oauth: OAuth, clients: Clients) -> None:
    # The verifier sent is the challenge's S256 pre-image: a server that reads the challenge as S256
    # accepts it, and so does one that checks nothing; read as plain (section 4.3), it is wrong.
    verifier = verifier_of(64)
    client = clients.public()
    result = attempt(oauth, client, pkce=None, code_challenge=s256(verifier))
    if result.code is None:
        _refused_with_invalid_request(oauth, client, result, "a challenge without method, plain unsupported")
        return
    response = oauth.exchange(result.authorization, code_verifier=verifier)
    assert "access_token" not in body_of(response), (
        "a code issued for a challenge without method was redeemed by a verifier other than the challenge"
        " (its S256 pre-image): the challenge was not checked as plain"
    )
    assert_oauth_error(response, "invalid_grant")


# ------------------------------------------------------------------------------ section 4.4
@requirement("RFC7636-4.4-BIND")
def test_a_verifier_of_another_authorization_does_not_redeem_the_code(oauth: OAuth, clients: Clients) -> None:
    client = clients.public()
    oauth.flow_works(client)  # the control: with its own verifier, a code redeems
    earlier = oauth.code(client)
    later = oauth.code(client)
    response = oauth.exchange(later, code_verifier=earlier.verifier)
    assert "access_token" not in body_of(response), "a code was redeemed with the verifier of another authorization"
    assert_oauth_error(response, "invalid_grant")


def _decodings(value: str) -> list[bytes]:
    """``value`` and every piece of it, base64url- and base64-decoded where that works."""
    found = [value.encode()]
    for piece in re.split(r"[.:~!*,|]", value):
        for decode in (base64.urlsafe_b64decode, base64.b64decode):
            try:
                found.append(decode(piece + "=" * (-len(piece) % 4)))
            except (binascii.Error, ValueError):
                continue
    return found


@requirement("RFC7636-4.4-NO-LEAK")
def test_the_challenge_cannot_be_read_from_the_authorization_response(oauth: OAuth, clients: Clients) -> None:
    authorization = oauth.code(clients.public())
    callback, challenge = authorization.callback, authorization.challenge
    assert callback is not None and challenge is not None
    digest = base64.urlsafe_b64decode(challenge + "=")
    assert challenge not in callback.location and challenge not in unquote(callback.location), (
        "the code_challenge appears in clear in the authorization response"
    )
    for name, values in {**callback.query, **callback.fragment}.items():
        for value in values:
            for decoded in _decodings(value):
                assert challenge.encode() not in decoded and digest not in decoded, (
                    f"the code_challenge can be read from the response parameter {name} (base64-decoded)"
                )


# ---------------------------------------------------------------------------- section 4.4.1
@requirement("RFC7636-4.4.1-MISSING")
def test_a_public_client_without_a_challenge_gets_invalid_request(oauth: OAuth, clients: Clients) -> None:
    client = clients.public()
    result = attempt(oauth, client, pkce=None)
    if result.code is not None:
        not_applicable("the server does not require PKCE from public clients (see OAUTH21-4.1.2.1-PKCE-PUBLIC)")
    _refused_with_invalid_request(oauth, client, result, "a public client without code_challenge")


@requirement("RFC7636-4.4.1-METHOD")
def test_an_unknown_challenge_method_gets_invalid_request(oauth: OAuth, clients: Clients) -> None:
    _, challenge = pkce_pair()
    client = clients.public()
    result = attempt(oauth, client, pkce=None, code_challenge=challenge, code_challenge_method=UNKNOWN_METHOD)
    _refused_with_invalid_request(oauth, client, result, f"code_challenge_method={UNKNOWN_METHOD}")


@requirement("RFC7636-4.4.1-METHOD")
def test_plain_gets_invalid_request_when_the_metadata_does_not_list_it(
    oauth: OAuth, clients: Clients, target: Target
) -> None:
    methods = target.metadata.get("code_challenge_methods_supported")
    if not isinstance(methods, list):
        not_applicable("the metadata does not say which code challenge methods are supported")
    if "plain" in methods:
        not_applicable("the metadata lists plain")
    verifier = verifier_of(64)
    client = clients.public()
    result = attempt(oauth, client, pkce=None, code_challenge=verifier, code_challenge_method="plain")
    _refused_with_invalid_request(oauth, client, result, f"code_challenge_method=plain (metadata lists {methods})")


@requirement("RFC7636-4.2-CHALLENGE-SYNTAX")
def test_a_malformed_challenge_gets_invalid_request(oauth: OAuth, clients: Clients) -> None:
    client = clients.public()
    result = attempt(oauth, client, pkce=None, code_challenge="abc", code_challenge_method="S256")
    _refused_with_invalid_request(oauth, client, result, "code_challenge=abc")


# ------------------------------------------------------------------------- sections 4.5, 4.6
@requirement("RFC7636-4.6-S256-VERIFY")
def test_a_wrong_verifier_is_refused_with_invalid_grant(oauth: OAuth, clients: Clients) -> None:
    client = clients.public()
    oauth.flow_works(client)  # the control: with its own verifier, a code redeems
    authorization = oauth.code(client)
    response = oauth.exchange(authorization, code_verifier=pkce_pair()[0])
    assert "access_token" not in body_of(response), "a wrong code_verifier redeemed the code"
    assert_oauth_error(response, "invalid_grant")


@requirement("RFC7636-4.5-METHOD-BOUND")
def test_the_challenge_sent_as_verifier_does_not_redeem_an_s256_code(oauth: OAuth, clients: Clients) -> None:
    client = clients.public()
    oauth.flow_works(client)  # the control: with its own verifier, a code redeems
    authorization = oauth.code(client)
    response = oauth.exchange(authorization, code_verifier=authorization.challenge)
    assert "access_token" not in body_of(response), (
        "the S256 challenge itself, sent as code_verifier, redeemed the code (the server fell back to plain)"
    )
    assert_oauth_error(response, "invalid_grant")


@requirement("RFC7636-4.6-PLAIN-VERIFY")
def test_a_plain_challenge_needs_the_identical_verifier(oauth: OAuth, clients: Clients) -> None:
    verifier = verifier_of(64)
    client = clients.public()
    result = attempt(oauth, client, pkce=None, code_challenge=verifier, code_challenge_method="plain")
    if result.code is None:
        require_front_channel(oauth, client)
    assert result.code is not None, f"plain is advertised, yet a plain challenge ended in {result.describe()}"
    response = oauth.exchange(result.authorization, code_verifier=verifier_of(64))
    assert "access_token" not in body_of(response), "a verifier different from the plain challenge redeemed the code"
    assert_oauth_error(response, "invalid_grant")


MALFORMED = {
    "42-characters": lambda: verifier_of(42),
    "129-characters": lambda: verifier_of(129),
    "outside-the-alphabet": lambda: verifier_of(40) + "+/%",
}


@requirement("RFC7636-4.1-VERIFIER-SYNTAX")
@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_a_malformed_verifier_is_refused_even_when_its_hash_matches(oauth: OAuth, clients: Clients, kind: str) -> None:
    verifier = MALFORMED[kind]()
    client = clients.public()
    oauth.flow_works(client)  # the control: a well-formed verifier redeems its code
    authorization = oauth.code(client, pkce=None, code_challenge=s256(verifier), code_challenge_method="S256")
    response = oauth.exchange(authorization, code_verifier=verifier)
    assert "access_token" not in body_of(response), f"a {kind} code_verifier redeemed the code"
    assert_oauth_error(response, "invalid_request", "invalid_grant")
