"""RFC 7591: registering clients at the advertised registration endpoint.

Each test registers what it needs through ``clients.register`` (so the exchange is evidence).
A test about one aspect of the response first needs a registration to succeed at all; when it
does not, the test is not_tested and RFC7591-3-POST-JSON reports the failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import pytest

from oauth_conformance import requirement
from oauth_conformance.features import Feature
from oauth_conformance.support.checks import assert_oauth_error
from oauth_conformance.support.checks import error_code
from oauth_conformance.support.checks import json_body
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.registration import SECRET_METHODS
from oauth_conformance.support.registration import authenticates
from oauth_conformance.support.registration import effective_method
from oauth_conformance.support.registration import issued_secret
from oauth_conformance.support.registration import method_for
from oauth_conformance.support.registration import registered
from oauth_conformance.support.registration import secret_method
from oauth_conformance.target import Target
from oauth_conformance.time_travel import TargetClock
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import not_applicable

BEHAVIOUR_MEMBERS = ("redirect_uris", "token_endpoint_auth_method", "grant_types", "response_types")
REGISTRATION_ERRORS = ("invalid_redirect_uri", "invalid_client_metadata")
# A public RSA key (RFC 7517 appendix A.1), only ever sent as registration metadata.
SAMPLE_JWK = {
    "kty": "RSA",
    "e": "AQAB",
    "kid": "oauth-conformance-sample",
    "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3"
    "oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZH"
    "zu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU"
    "8awapJzKnqDKgw",
}


# ------------------------------------------------------------------------------- section 3
@requirement("RFC7591-3-POST-JSON")
def test_a_json_registration_request_is_accepted(clients: Clients, target: Target) -> None:
    response = clients.register(clients.metadata(method_for(target)))
    assert 200 <= response.status_code < 300, (
        f"a JSON registration request answered HTTP {response.status_code} {error_code(response) or ''}"
    )


@requirement("RFC7591-3-TLS")
def test_the_registration_endpoint_is_https(target: Target) -> None:
    endpoint = target.endpoint("registration_endpoint")
    if endpoint is None:
        not_applicable("the target has no registration endpoint")
    assert urlsplit(endpoint).scheme == "https", f"registration_endpoint {endpoint!r} is not https"


# --------------------------------------------------------------------------- section 3.2.1
@requirement("RFC7591-3.2.1-201")
def test_a_successful_registration_is_answered_201_with_a_json_object(clients: Clients, target: Target) -> None:
    response = clients.register(clients.metadata(method_for(target)))
    if not 200 <= response.status_code < 300:
        raise PrerequisiteFailed(f"registration answered HTTP {response.status_code} (see RFC7591-3-POST-JSON)")
    assert response.status_code == 201, f"a successful registration answered HTTP {response.status_code}, not 201"
    json_body(response)


@requirement("RFC7591-3.2.1-CLIENT-ID")
def test_the_response_carries_a_client_id(clients: Clients, target: Target) -> None:
    body = registered(clients, clients.metadata(method_for(target)))
    client_id = body.get("client_id")
    assert isinstance(client_id, str) and client_id, f"client_id is {client_id!r}, not a non-empty string"


@requirement("RFC7591-3.2.1-CLIENT-ID-UNIQUE")
def test_two_registrations_get_different_client_ids(clients: Clients, target: Target) -> None:
    first = registered(clients, clients.metadata(method_for(target)))
    second = registered(clients, clients.metadata(method_for(target)))
    assert first.get("client_id") != second.get("client_id"), "two registrations got the same client_id"


@requirement("RFC7591-3.2.1-SECRET-CONFIDENTIAL")
def test_a_confidential_client_is_given_a_secret(clients: Clients, target: Target, oauth: OAuth) -> None:
    requested = secret_method(target, oauth, clients)
    body = registered(clients, clients.metadata(requested))
    method = effective_method(body, requested)
    if method not in SECRET_METHODS:
        return  # substituted with a method that needs no secret, which section 3.2.1 allows
    assert issued_secret(body), f"a client registered for {method} was given no client_secret"


@requirement("RFC7591-2-PUBLIC-NO-SECRET")
def test_a_public_client_is_given_no_secret(clients: Clients, target: Target) -> None:
    if not target.supports(Feature.PUBLIC_CLIENTS):
        not_applicable("the target does not advertise public clients (none)")
    body = registered(clients, clients.metadata("none"))
    method = effective_method(body, "none")
    if method != "none":
        return  # substituted with a secret-based method, which section 3.2.1 allows
    assert issued_secret(body) is None, "a client registered with token_endpoint_auth_method none got a client_secret"


@requirement("RFC7591-3.2.1-SECRET-EXPIRES")
def test_an_issued_secret_comes_with_its_expiry(clients: Clients, target: Target, oauth: OAuth) -> None:
    body = registered(clients, clients.metadata(secret_method(target, oauth, clients)))
    if issued_secret(body) is None:
        raise PrerequisiteFailed("no client_secret was issued (see RFC7591-3.2.1-SECRET-CONFIDENTIAL)")
    expires = body.get("client_secret_expires_at")
    assert isinstance(expires, int) and not isinstance(expires, bool), (
        f"client_secret_expires_at is {expires!r}; it is required with a client_secret"
    )
    issued = body.get("client_id_issued_at")
    now = issued if isinstance(issued, int) else int(time.time()) - 300
    assert expires == 0 or expires > now, f"client_secret_expires_at {expires} is neither 0 nor in the future"


@requirement("RFC7591-3.2.1-SECRET-UNIQUE")
def test_two_registrations_get_different_secrets(clients: Clients, target: Target, oauth: OAuth) -> None:
    method = secret_method(target, oauth, clients)
    first = issued_secret(registered(clients, clients.metadata(method)))
    second = issued_secret(registered(clients, clients.metadata(method)))
    if first is None or second is None:
        raise PrerequisiteFailed("no client_secret was issued (see RFC7591-3.2.1-SECRET-CONFIDENTIAL)")
    assert first != second, "two registrations were given the same client_secret"


@requirement("RFC7591-3.2.1-SECRET-EXPIRY")
def test_a_secret_stops_working_once_it_has_expired(
    clients: Clients, target: Target, http: httpx.Client, clock: TargetClock, oauth: OAuth
) -> None:
    method = secret_method(target, oauth, clients)
    body = registered(clients, clients.metadata(method))
    secret, expires = issued_secret(body), body.get("client_secret_expires_at")
    if secret is None or not isinstance(expires, int):
        raise PrerequisiteFailed("no client_secret with an expiry was issued (see RFC7591-3.2.1-SECRET-EXPIRES)")
    if expires == 0:
        not_applicable("the server states that the secret never expires (client_secret_expires_at 0)")
    client_id, method = str(body.get("client_id")), effective_method(body, method)
    if not authenticates(target, http, client_id, secret, method):
        raise PrerequisiteFailed("the fresh client secret does not authenticate at the token endpoint")
    clock.advance(max(0.0, expires - time.time()) + 60)
    assert not authenticates(target, http, client_id, secret, method), (
        f"the secret still authenticates {clock.offset:.0f}s on, after its client_secret_expires_at"
    )


@requirement("RFC7591-3.2.1-ECHO")
def test_the_response_returns_the_registered_metadata(
    clients: Clients, target: Target, note: Callable[[str], None]
) -> None:
    sent = clients.metadata(method_for(target))
    body = registered(clients, sent)
    for name in ("client_name", "scope"):
        if name in sent and name not in body:
            note(f"{name} was sent but not returned: the server may not support it, which section 2 allows")
    missing = [name for name in BEHAVIOUR_MEMBERS if name not in body]
    assert not missing, f"the client information response leaves out registered metadata: {', '.join(missing)}"


# ------------------------------------------------------------------------------- section 2
@requirement("RFC7591-2-DEFAULTS")
def test_omitted_optional_metadata_takes_the_defaults(clients: Clients, target: Target) -> None:
    registered(clients, clients.metadata(method_for(target)))  # the control: registration works at all
    minimal = {"redirect_uris": [clients.redirect_uri], "client_name": "oauth-conformance defaults"}
    response = clients.register(minimal)
    if not 200 <= response.status_code < 300:
        # Section 2 lets a server refuse a value it does not support, and the default method is
        # one; a server that advertises client_secret_basic has no such excuse.
        assert not target.supports(Feature.CLIENT_SECRET_BASIC), (
            f"a registration omitting only optional members was refused (HTTP {response.status_code}"
            f" {error_code(response)}), though its default method client_secret_basic is advertised"
        )
        return
    body = response.json()
    method = effective_method(body, None)
    if method in SECRET_METHODS:
        assert issued_secret(body), f"the registration defaulted to {method} but issued no client_secret"


@requirement("RFC7591-2-IGNORE-UNKNOWN")
def test_unknown_metadata_is_ignored(clients: Clients, target: Target) -> None:
    registered(clients, clients.metadata(method_for(target)))  # the control: registration works at all
    metadata = clients.metadata(
        method_for(target),
        x_oauth_conformance_unknown={"nested": [1, 2, {"deep": True}]},
        another_unknown_member="ignore me",
    )
    response = clients.register(metadata)
    assert 200 <= response.status_code < 300, (
        f"unknown metadata made the registration fail: HTTP {response.status_code} {error_code(response)}"
    )


@requirement("RFC7591-2-JWKS-XOR")
def test_jwks_and_jwks_uri_together_are_not_registered(clients: Clients, target: Target) -> None:
    metadata = clients.metadata(
        method_for(target), jwks={"keys": [SAMPLE_JWK]}, jwks_uri="https://client.example/oauth-conformance/jwks.json"
    )
    response = clients.register(metadata)
    if 200 <= response.status_code < 300:
        # The server may also drop one of them (section 2 lets it replace requested values);
        # what it must not do is register and return both.
        body = response.json()
        assert not ("jwks" in body and "jwks_uri" in body), "the response carries both jwks and jwks_uri"
        return
    assert_oauth_error(response, *REGISTRATION_ERRORS)


@requirement("RFC7591-2-UNSUPPORTED-METHOD")
def test_an_unadvertised_auth_method_is_refused_or_substituted(clients: Clients, target: Target) -> None:
    if target.supports(Feature.PUBLIC_CLIENTS):
        not_applicable("the target advertises public clients (none), so there is no unadvertised method to ask for")
    response = clients.register(clients.metadata("none"))
    if 200 <= response.status_code < 300:
        method = effective_method(response.json(), "none")
        assert method != "none", "a public (none) client was registered though none is not an advertised method"
        return
    assert_oauth_error(response, "invalid_client_metadata")


@requirement("RFC7591-2.1-CONSISTENT")
def test_inconsistent_grant_and_response_types_are_not_registered(clients: Clients, target: Target) -> None:
    grant = "refresh_token" if target.supports(Feature.REFRESH) else "client_credentials"
    metadata = clients.metadata(method_for(target), grant_types=[grant], response_types=["code"])
    response = clients.register(metadata)
    if 200 <= response.status_code < 300:
        body = response.json()
        grants, types = body.get("grant_types", ["authorization_code"]), body.get("response_types", ["code"])
        assert "code" not in types or "authorization_code" in grants, (
            f"registered response_types {types} with grant_types {grants}: code without authorization_code"
        )
        return
    assert_oauth_error(response, "invalid_client_metadata")


# --------------------------------------------------------------------------- section 3.2.2
@requirement("RFC7591-3.2.2-ERROR")
def test_a_malformed_registration_is_answered_400_with_a_json_error(http: httpx.Client, target: Target) -> None:
    endpoint = target.endpoint("registration_endpoint") or ""
    response = http.post(
        endpoint,
        content=b'{"redirect_uris": ["https://client.example/cb"',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400, f"a malformed JSON body answered HTTP {response.status_code}, not 400"
    body = json_body(response)
    assert isinstance(body.get("error"), str), f"the error response has no error string: {body}"


# ------------------------------------------------------------------------------- section 5
@requirement("RFC7591-5-REDIRECT-REQUIRED")
def test_a_code_client_without_redirect_uris_is_refused(clients: Clients, target: Target) -> None:
    metadata = clients.metadata(method_for(target), grant_types=["authorization_code"], response_types=["code"])
    del metadata["redirect_uris"]
    assert_oauth_error(clients.register(metadata), *REGISTRATION_ERRORS)


@requirement("RFC7591-5-REDIRECT-CLASS")
@pytest.mark.parametrize(
    "uri",
    [
        "http://client.example/oauth-conformance/callback",
        "javascript:alert(document.domain)//",
        "data:text/html,<script>alert(1)</script>",
    ],
    ids=["remote-http", "javascript", "data"],
)
def test_an_unsafe_redirect_uri_is_refused(clients: Clients, target: Target, uri: str) -> None:
    response = clients.register(clients.metadata(method_for(target), redirect_uris=[uri]))
    assert_oauth_error(response, *REGISTRATION_ERRORS)


@requirement("RFC7591-5-REDIRECT-CLASS")
@pytest.mark.parametrize("position", ["last", "first"])
@pytest.mark.parametrize(
    "uri",
    ["http://client.example/oauth-conformance/callback", "javascript:alert(document.domain)//"],
    ids=["remote-http", "javascript"],
)
def test_one_unsafe_redirect_uri_among_valid_ones_is_not_registered(
    clients: Clients, target: Target, uri: str, position: str
) -> None:
    # A list is checked whole: one bad value among good ones. Section 2 lets the server refuse the
    # registration or replace the value, but the unsafe URI itself must never be registered (the
    # response to a registration holds every registered member, section 3.2.1).
    good = clients.redirect_uri
    second = f"{good.split('?', 1)[0].rstrip('/')}-second"
    uris = [good, second, uri] if position == "last" else [uri, good, second]
    response = clients.register(clients.metadata(method_for(target), redirect_uris=uris))
    if response.status_code not in (200, 201):
        assert_oauth_error(response, *REGISTRATION_ERRORS)
        return
    body = json_body(response)
    listed = body.get("redirect_uris")
    assert not (isinstance(listed, list) and uri in listed), (
        f"the registration of {uris} was accepted with the unsafe {uri} among its redirect URIs"
    )
