"""OAuth 2.1 sections 1.5, 2.4, 2.4.1, 3.2, 3.2.2, 3.2.3, 3.2.4 and 7.7: the token endpoint."""

from __future__ import annotations

import base64
import math
import secrets
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import quote_plus
from urllib.parse import urlencode
from urllib.parse import urlsplit

import httpx
import pytest

from oauth_conformance import requirement
from oauth_conformance.features import Feature
from oauth_conformance.support import probes
from oauth_conformance.support.attempts import body_of
from oauth_conformance.support.attempts import describe_error
from oauth_conformance.support.attempts import exchange_pairs
from oauth_conformance.support.attempts import post_form
from oauth_conformance.support.attempts import resources_named
from oauth_conformance.support.attempts import served_pair
from oauth_conformance.support.attempts import tokens_from
from oauth_conformance.support.checks import assert_error_shape
from oauth_conformance.support.checks import assert_no_store
from oauth_conformance.support.checks import assert_oauth_error
from oauth_conformance.support.checks import json_body
from oauth_conformance.support.checks import resource_refused
from oauth_conformance.support.checks import www_authenticate
from oauth_conformance.support.clients import Client
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import Authorization
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.flows import pkce_pair
from oauth_conformance.support.jwt_bearer import KeyClient
from oauth_conformance.target import Target
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import not_applicable
from oauth_conformance.verdicts import not_tested


def wrong_secret(client: Client) -> Client:
    return replace(client, client_secret=f"wrong-{secrets.token_urlsafe(24)}")


def secret_method(target: Target, oauth: OAuth, clients: Clients) -> str:
    """The client secret method to use: client_secret_post when offered (advertised, or seen by
    the probe), else Basic."""
    probes.secret_methods(target, oauth, clients)
    if target.supports(Feature.CLIENT_SECRET_POST):
        return "client_secret_post"
    if not target.supports(Feature.CLIENT_SECRET_BASIC):
        not_applicable("the target offers no client secret authentication method (none advertised, none seen to work)")
    return "client_secret_basic"


def require_exchange(oauth: OAuth, client: Client, response: httpx.Response, change: str) -> None:
    """Fail when a code exchange with ``change`` failed although a plain exchange succeeds."""
    __tracebackhide__ = True
    if response.status_code == 200 and "access_token" in body_of(response):
        return
    oauth.flow_works(client)  # a plain flow that fails too is OAUTH21-4.1-CODE-FLOW's failure
    raise AssertionError(
        f"with {change} the exchange got HTTP {response.status_code} {describe_error(response)}; without it, tokens"
    )


# --------------------------------------------------------------------------------- section 1.5
@requirement("OAUTH21-1.5-HTTPS")
def test_the_authorization_and_token_endpoints_use_https(target: Target) -> None:
    plain = [
        f"{name} {url}"
        for name in ("authorization_endpoint", "token_endpoint")
        if (url := target.endpoint(name)) is not None and urlsplit(url).scheme != "https"
    ]
    assert not plain, f"not https: {', '.join(plain)}"


# --------------------------------------------------------------------------------- section 3.2
@requirement("OAUTH21-3.2-POST")
def test_a_get_to_the_token_endpoint_yields_no_token(oauth: OAuth, clients: Clients, http: httpx.Client) -> None:
    client = clients.public()
    oauth.flow_works(client)  # the control: the plain request, without the defect, gets tokens
    authorization = oauth.code(client)
    endpoint = oauth.target.endpoint("token_endpoint")
    assert endpoint is not None
    query = urlencode([*exchange_pairs(oauth, authorization), ("client_id", client.client_id)])
    response = http.get(f"{endpoint}{'&' if urlsplit(endpoint).query else '?'}{query}")
    assert "access_token" not in body_of(response), f"GET {endpoint} with a valid code returned an access token"


@requirement("OAUTH21-3.2-IGNORE-UNKNOWN")
def test_an_unknown_token_parameter_is_ignored(oauth: OAuth, clients: Clients) -> None:
    client = clients.public()
    response = oauth.exchange(oauth.code(client), x_oauth_conformance="ignore-me")
    require_exchange(oauth, client, response, "the unknown parameter x_oauth_conformance")


@requirement("OAUTH21-3.2-NO-DUPLICATES")
def test_a_repeated_token_parameter_is_refused(oauth: OAuth, clients: Clients) -> None:
    client = clients.public()
    oauth.flow_works(client)  # the control: the plain request, without the defect, gets tokens
    authorization = oauth.code(client)
    pairs = exchange_pairs(oauth, authorization)
    pairs.append(("code", authorization.code or ""))  # the same value twice
    response = post_form(oauth, client, pairs)
    assert "access_token" not in body_of(response), "a request with code twice got tokens"
    assert_oauth_error(response, "invalid_request")


@requirement("OAUTH21-3.2-EMPTY-PARAM")
def test_an_empty_client_secret_from_a_public_client_counts_as_absent(oauth: OAuth, clients: Clients) -> None:
    client = clients.public()
    response = oauth.exchange(oauth.code(client), client_secret="")
    require_exchange(oauth, client, response, "client_secret= (empty)")


# ------------------------------------------------------------------------------ section 3.2.2
AUTH_METHOD_FEATURES = {"none": Feature.PUBLIC_CLIENTS, "client_secret_basic": Feature.CLIENT_SECRET_BASIC}


@requirement("OAUTH21-3.2.2-AUTH-METHODS")
@pytest.mark.parametrize("method", sorted(AUTH_METHOD_FEATURES))
def test_every_advertised_auth_method_authenticates_a_client(
    oauth: OAuth, clients: Clients, target: Target, method: str
) -> None:
    if not target.supports(AUTH_METHOD_FEATURES[method]):
        not_applicable(f"the metadata does not advertise {method}")
    client = clients.public() if method == "none" else clients.confidential(method)
    if client.auth_method != method:
        raise PrerequisiteFailed(f"the client was registered with {client.auth_method}, not {method}")
    response = oauth.exchange(oauth.code(client))
    assert response.status_code == 200, (
        f"a {method} client's exchange got HTTP {response.status_code} {describe_error(response)}"
    )


@requirement("OAUTH21-2.4.1-SECRET-POST")
def test_client_secrets_are_accepted_in_the_request_body(oauth: OAuth, clients: Clients, target: Target) -> None:
    advertised = target.supports(Feature.CLIENT_SECRET_POST)
    if not (advertised or target.supports(Feature.CLIENT_SECRET_BASIC)):
        not_applicable("the metadata advertises no client secret authentication method")
    try:
        client = clients.confidential("client_secret_post")
    except PrerequisiteFailed as exc:
        if advertised:
            raise
        raise AssertionError(f"client_secret_post is neither advertised nor accepted: {exc.reason}") from None
    if client.auth_method != "client_secret_post":
        if advertised:
            raise PrerequisiteFailed(f"the client was registered with {client.auth_method}, not client_secret_post")
        raise AssertionError(
            f"client_secret_post is not advertised, and registration turned it into {client.auth_method}"
        )
    response = oauth.exchange(oauth.code(client))
    assert response.status_code == 200, (
        f"an exchange with client_id and client_secret in the body got HTTP {response.status_code}"
        f" {describe_error(response)}"
    )


@requirement("OAUTH21-3.2.2-CONF-AUTH")
def test_a_confidential_client_must_authenticate_to_redeem_its_code(oauth: OAuth, clients: Clients) -> None:
    client = clients.confidential()
    oauth.flow_works(client)  # the control: the plain request, without the defect, gets tokens
    authorization = oauth.code(client)
    pairs = [*exchange_pairs(oauth, authorization), ("client_id", client.client_id)]
    response = post_form(oauth, client, pairs, authenticate=False)
    assert "access_token" not in body_of(response), "a confidential client got tokens without its secret"
    assert_oauth_error(response, "invalid_client", status=(400, 401))


@requirement("OAUTH21-3.2.2-AUTHENTICATE")
def test_a_wrong_client_secret_is_refused_with_invalid_client(oauth: OAuth, clients: Clients, target: Target) -> None:
    client = clients.confidential(secret_method(target, oauth, clients))
    oauth.flow_works(client)  # the control: the plain request, without the defect, gets tokens
    authorization = oauth.code(client)
    response = oauth.exchange(replace(authorization, client=wrong_secret(client)))
    assert "access_token" not in body_of(response), "a wrong client secret got tokens"
    assert_oauth_error(response, "invalid_client", status=(400, 401))


def _form_encoded_for_basic(value: str) -> str:
    """Form-urlencode ``value``, percent-encoding its first character even when it need not be."""
    return f"%{ord(value[0]):02X}{quote_plus(value[1:])}" if value else value


@requirement("OAUTH21-2.4.1-BASIC-ENCODING")
def test_basic_credentials_are_form_url_decoded(oauth: OAuth, clients: Clients) -> None:
    client = clients.confidential("client_secret_basic")
    if not client.client_secret:
        raise PrerequisiteFailed("the client has no secret")
    authorization = oauth.code(client)
    raw = f"{_form_encoded_for_basic(client.client_id)}:{_form_encoded_for_basic(client.client_secret)}"
    header = "Basic " + base64.b64encode(raw.encode()).decode("ascii")
    response = post_form(
        oauth, client, exchange_pairs(oauth, authorization), authenticate=False, headers={"Authorization": header}
    )
    if response.status_code != 200:
        oauth.flow_works(client)  # plain Basic authentication: a failure there is OAUTH21-4.1-CODE-FLOW's
    assert response.status_code == 200, (
        f"Basic credentials whose id and secret were form-urlencoded (first character percent-encoded) got"
        f" HTTP {response.status_code} {describe_error(response)}: the server does not decode them"
    )


@requirement("OAUTH21-2.4.1-NOT-IN-URI")
def test_client_credentials_in_the_query_string_are_not_accepted(
    oauth: OAuth, clients: Clients, target: Target
) -> None:
    client = clients.confidential(secret_method(target, oauth, clients))
    oauth.flow_works(client)  # the control: the plain request, without the defect, gets tokens
    authorization = oauth.code(client)
    endpoint = target.endpoint("token_endpoint") or ""
    separator = "&" if urlsplit(endpoint).query else "?"
    url = endpoint + separator + urlencode({"client_id": client.client_id, "client_secret": client.client_secret or ""})
    response = post_form(oauth, client, exchange_pairs(oauth, authorization), authenticate=False, url=url)
    assert "access_token" not in body_of(response), "client credentials in the query string got tokens"
    assert_oauth_error(response, "invalid_client", "invalid_request", status=(400, 401))


@requirement("OAUTH21-2.4-ONE-METHOD")
def test_two_authentication_methods_in_one_request_are_refused(oauth: OAuth, clients: Clients) -> None:
    client = clients.confidential("client_secret_basic")
    oauth.flow_works(client)  # the control: the plain request, without the defect, gets tokens
    authorization = oauth.code(client)
    pairs = [*exchange_pairs(oauth, authorization), ("client_id", client.client_id)]
    pairs.append(("client_secret", client.client_secret or ""))
    response = post_form(oauth, client, pairs)  # adds the Basic header as well
    assert "access_token" not in body_of(response), "Basic plus client_secret in the body got tokens"
    assert_oauth_error(response, "invalid_request", "invalid_client", status=(400, 401))


# ------------------------------------------------------------------------------ section 3.2.3
@requirement("OAUTH21-3.2.3-RESPONSE")
def test_a_code_exchange_returns_a_bearer_token_as_json(oauth: OAuth, clients: Clients) -> None:
    response = oauth.exchange(oauth.code(clients.public()))
    assert response.status_code == 200, f"the exchange got HTTP {response.status_code} {describe_error(response)}"
    body = json_body(response)
    assert isinstance(body.get("access_token"), str) and body["access_token"], "no access_token string"
    token_type = body.get("token_type")
    assert isinstance(token_type, str), "no token_type string"
    assert token_type.lower() == "bearer", f"token_type is {token_type!r}; no proof of possession was offered"
    expires_in = body.get("expires_in")
    if expires_in is not None:
        assert isinstance(expires_in, int | float) and not isinstance(expires_in, bool), (
            f"expires_in is {expires_in!r}, not a JSON number"
        )
    if "refresh_token" in body:
        assert isinstance(body["refresh_token"], str) and body["refresh_token"], "refresh_token is not a string"


@requirement("OAUTH21-3.2.3-EXPIRES-IN")
def test_the_token_response_says_when_the_token_expires(oauth: OAuth, clients: Clients) -> None:
    tokens = oauth.tokens(clients.public())
    value = tokens.raw.get("expires_in")
    assert isinstance(value, int | float) and not isinstance(value, bool) and value > 0, f"expires_in is {value!r}"


@requirement("OAUTH21-3.2.3-NO-STORE")
def test_the_code_exchange_response_is_not_cached(oauth: OAuth, clients: Clients) -> None:
    response = oauth.exchange(oauth.code(clients.public()))
    tokens_from(response, "the code exchange")
    assert_no_store(response)


@requirement("OAUTH21-3.2.3-NO-STORE")
def test_the_refresh_response_is_not_cached(oauth: OAuth, clients: Clients) -> None:
    client = clients.public()
    tokens = oauth.refreshable(client)
    assert tokens.refresh_token is not None
    response = oauth.refresh(client, tokens.refresh_token)
    tokens_from(response, "the refresh")
    assert_no_store(response)


@requirement("OAUTH21-3.2.3-RT-BOUND")
def test_a_refresh_for_another_served_resource_does_not_rebind_the_grant(oauth: OAuth, clients: Clients) -> None:
    # The other resource is valid on its own (it gets a code of its own); a refresh naming it must
    # not move the grant there.
    if not oauth.target.supports(Feature.REFRESH):
        not_applicable("the target does not offer refresh tokens")
    client = clients.public()
    first, second, authorization = served_pair(oauth, client)
    tokens = tokens_from(oauth.exchange(authorization, resource=first), f"the exchange of a code for {first}")
    if tokens.refresh_token is None:
        raise PrerequisiteFailed("the token response has no refresh_token")
    response = oauth.refresh(client, tokens.refresh_token, resource=second)
    body = body_of(response)
    if not isinstance(body.get("access_token"), str):
        return  # refused: nothing was issued for the other resource
    named = resources_named(body)
    assert second not in named, (
        f"a refresh for resource={second} of a grant consented for {first} issued a token bound to {second}"
    )


@requirement("OAUTH21-3.2.3-RT-BOUND")
def test_a_refresh_for_another_resource_does_not_rebind_the_grant(oauth: OAuth, clients: Clients) -> None:
    # Section 3.2.3 binds refresh tokens to the resource servers the user consented to. A server
    # that ignores a resource it will not serve, and keeps issuing tokens for the consented one,
    # holds to that; the invalid_target it owes such a request is RFC8707-2.2-INVALID-TARGET's.
    client = clients.public()
    tokens = oauth.refreshable(client)
    assert tokens.refresh_token is not None
    foreign = "https://unrelated.oauth-conformance.example/api"
    response = oauth.refresh(client, tokens.refresh_token, resource=foreign)
    body = body_of(response)
    if not isinstance(body.get("access_token"), str):
        return  # refused: nothing was issued for the foreign resource
    named = resources_named(body)
    if named:
        assert foreign not in named, f"a refresh for resource={foreign} issued a token bound to it ({named})"
        return
    if oauth.target.profile.resource.url is None:
        not_tested(
            f"a refresh for resource={foreign} got a token whose binding cannot be seen (no resource or aud in"
            " the response or the token), and no protected resource is known to try it on",
            unlock="[resource] url",
        )
    oauth.expect_accepted(tokens.access_token)  # the control: the consented resource takes its tokens
    after = oauth.call_resource(body["access_token"])
    assert not resource_refused(after), (
        f"the token a refresh for resource={foreign} issued is refused by the consented resource"
        f" (HTTP {after.status_code}): the refresh moved the grant to a resource the user never consented to"
    )


# ------------------------------------------------------------------------------ section 3.2.4
ERROR_CASES: dict[str, Callable[[Client], dict[str, str | None]]] = {
    "unknown-code": lambda client: {
        "grant_type": "authorization_code",
        "code": f"oauth-conformance-{secrets.token_urlsafe(16)}",
        "redirect_uri": client.redirect_uri,
        "code_verifier": pkce_pair()[0],
    },
    "missing-grant-type": lambda client: {"code": f"oauth-conformance-{secrets.token_urlsafe(16)}"},
    "unknown-grant-type": lambda client: {"grant_type": "urn:oauth-conformance:grant-type:unknown"},
}


@requirement("OAUTH21-3.2.4-ERROR")
@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_token_errors_are_400_json_with_registered_codes(oauth: OAuth, clients: Clients, case: str) -> None:
    client = clients.public()
    response = oauth.token_request(client, ERROR_CASES[case](client))
    assert response.status_code == 400, f"{case}: HTTP {response.status_code}, not 400"
    assert_error_shape(response)


@requirement("OAUTH21-3.2.4-401-BASIC")
def test_a_failed_basic_authentication_is_401_with_a_basic_challenge(oauth: OAuth, clients: Clients) -> None:
    client = clients.confidential("client_secret_basic")
    oauth.flow_works(client)  # the control: the plain request, without the defect, gets tokens
    authorization = oauth.code(client)
    response = oauth.exchange(replace(authorization, client=wrong_secret(client)))
    if response.status_code == 200:
        raise PrerequisiteFailed("the wrong secret was accepted (see OAUTH21-3.2.2-AUTHENTICATE)")
    assert_oauth_error(response, "invalid_client", status=401)
    scheme, _ = www_authenticate(response)
    assert scheme.lower() == "basic", (
        f"WWW-Authenticate is {response.headers.get('www-authenticate')!r}, not a Basic challenge"
    )


@requirement("OAUTH21-3.2.4-UNSUPPORTED-GRANT")
@pytest.mark.parametrize(
    ("grant_type", "accepted"),
    [
        # The server may keep the OAuth 2.0 password grant for legacy clients, refusing it to this one.
        ("password", ("unsupported_grant_type", "unauthorized_client")),
        ("urn:oauth-conformance:grant-type:unknown", ("unsupported_grant_type",)),
    ],
    ids=["password", "made-up-urn"],
)
def test_an_unknown_grant_type_gets_unsupported_grant_type(
    oauth: OAuth, clients: Clients, grant_type: str, accepted: tuple[str, ...]
) -> None:
    data: dict[str, str | None] = {"grant_type": grant_type}
    if grant_type == "password":
        data |= {"username": "oauth-conformance", "password": secrets.token_urlsafe(12)}
    response = oauth.token_request(clients.public(), data)
    assert "access_token" not in body_of(response), f"grant_type={grant_type} got an access token"
    assert_oauth_error(response, *accepted)


# -------------------------------------------------------------------------------- section 7.7
def bits_of_capacity(value: str) -> float:
    """An upper bound on the entropy ``value`` can carry: its length times log2 of its apparent alphabet."""
    alphabet = 0
    if any(ch.isdigit() for ch in value):
        alphabet += 10
    if any(ch.islower() for ch in value):
        alphabet += 26
    if any(ch.isupper() for ch in value):
        alphabet += 26
    alphabet += len({ch for ch in value if not ch.isalnum()})
    return len(value) * math.log2(max(alphabet, 2))


@requirement("OAUTH21-7.7-ENTROPY")
def test_codes_and_tokens_can_carry_128_bits(oauth: OAuth, clients: Clients) -> None:
    client = clients.public()
    authorization: Authorization = oauth.code(client)
    tokens = tokens_from(oauth.exchange(authorization), "the code exchange")
    issued = {"authorization code": authorization.code, "access token": tokens.access_token}
    if tokens.refresh_token:
        issued["refresh token"] = tokens.refresh_token
    short = {name: round(bits_of_capacity(v)) for name, v in issued.items() if v and bits_of_capacity(v) < 128}
    assert not short, f"too short or too narrow to hold 128 bits (upper bound in bits): {short}"


@requirement("OAUTH21-7.7-ENTROPY")
def test_client_secrets_can_carry_128_bits(clients: Clients) -> None:
    client = clients.confidential()
    if client.source != "registration" or not client.client_secret:
        not_tested("needs a client secret issued by the server (a registered confidential client)")
    bits = bits_of_capacity(client.client_secret)
    assert bits >= 128, f"the issued client secret can hold at most {bits:.0f} bits"


# ----------------------------------------------------------------- section 2.4 (draft -15): aud
@requirement("OAUTH21-2.4-JWT-AUD")
def test_a_client_assertion_whose_aud_is_the_issuer_authenticates(fresh_key_client: KeyClient, target: Target) -> None:
    response = fresh_key_client.redeem(fresh_key_client.assertion(aud=target.issuer))
    assert response.status_code == 200, (
        f"a code redeemed with a client assertion whose aud is the issuer {target.issuer!r} (one string) was"
        f" refused: {describe_error(response)}"
    )
