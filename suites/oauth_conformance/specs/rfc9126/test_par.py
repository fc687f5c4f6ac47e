"""RFC 9126: pushing authorization requests to the advertised PAR endpoint, then using the request_uri.

A test that shows a request_uri yielding no code first needs one that does: RFC9126-2.2-FLOW is
the positive control, and tests that need a working push are not_tested when it fails. "Yields
no code" covers every way a server can refuse at the authorization endpoint: an error sent back
to the client, or an error page that never returns to it.
"""

from __future__ import annotations

import dataclasses
import secrets
from typing import Any
from urllib.parse import urlsplit

import httpx

from oauth_conformance import requirement
from oauth_conformance.drivers import DriverStopped
from oauth_conformance.support import par
from oauth_conformance.support.checks import RFC6749_ERRORS
from oauth_conformance.support.checks import assert_error_shape
from oauth_conformance.support.checks import assert_oauth_error
from oauth_conformance.support.checks import error_code
from oauth_conformance.support.checks import json_body
from oauth_conformance.support.clients import Client
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.jwt_bearer import CLIENT_ASSERTION_TYPE
from oauth_conformance.support.jwt_bearer import KeyClient
from oauth_conformance.target import Target
from oauth_conformance.time_travel import TargetClock
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import not_applicable
from oauth_conformance.verdicts import not_tested

FOREIGN_REQUEST_URI = "urn:ietf:params:oauth:request_uri:oauth-conformance-never-pushed"


def assert_par_error(response: httpx.Response) -> None:
    __tracebackhide__ = True
    code = error_code(response)
    # RFC 9126 section 2.3: "the appropriate error code from therein [RFC 6749 section 5.2] or from
    # Section 4.1.2.1 of [RFC6749]".
    assert code in RFC6749_ERRORS, f"error {code!r} is from neither RFC 6749 section 5.2 nor section 4.1.2.1"
    assert_error_shape(response)


def issued(pushed: par.Pushed) -> bool:
    """The push was answered with a request_uri."""
    try:
        body = pushed.response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("request_uri"), str)


def working_push(oauth: OAuth, client: Client, **params: Any) -> par.Pushed:
    """A pushed request whose request_uri yields a code (else the test is not_tested)."""
    pushed = par.push(oauth, client, **params)
    pushed.request_uri  # noqa: B018  (not_tested, pointing at RFC9126-2.2-CREATED)
    return pushed


def yields_code(oauth: OAuth, url: str, redirect_uri: str) -> bool:
    """The user agent sent to ``url`` comes back to the client with a code."""
    try:
        callback = oauth.driver.complete(url, redirect_uri, approve=True)
    except DriverStopped:
        return False
    return callback.first("code") is not None


def by_reference(oauth: OAuth, client_id: str, request_uri: str) -> str:
    endpoint = oauth.target.endpoint("authorization_endpoint")
    if endpoint is None:
        raise PrerequisiteFailed("the metadata has no authorization_endpoint")
    query = httpx.QueryParams({"client_id": client_id, "request_uri": request_uri})
    return f"{endpoint}{'&' if urlsplit(endpoint).query else '?'}{query}"


# ------------------------------------------------------------------------------- section 2
@requirement("RFC9126-2-HTTPS")
def test_the_par_endpoint_is_https(target: Target) -> None:
    endpoint = target.endpoint("pushed_authorization_request_endpoint")
    if endpoint is None:
        not_applicable("the target advertises no pushed_authorization_request_endpoint")
    assert urlsplit(endpoint).scheme == "https", f"pushed_authorization_request_endpoint {endpoint!r} is not https"


@requirement("RFC9126-2.1-CLIENT-AUTH")
def test_a_push_with_a_wrong_secret_is_refused(oauth: OAuth, clients: Clients) -> None:
    client = clients.confidential()
    wrong = dataclasses.replace(client, client_secret=f"wrong-{secrets.token_hex(12)}")
    pushed = par.push(oauth, wrong)
    assert not issued(pushed), "a push with a wrong client secret got a request_uri"
    assert_oauth_error(pushed.response, "invalid_client", status=(400, 401))


@requirement("RFC9126-2.1-CLIENT-AUTH")
def test_a_confidential_clients_push_without_its_secret_is_refused(oauth: OAuth, clients: Clients) -> None:
    client = clients.confidential()
    bare = dataclasses.replace(client, auth_method="none", client_secret=None)  # sends client_id only
    pushed = par.push(oauth, bare)
    assert not issued(pushed), "a confidential client's push without its secret got a request_uri"
    assert_oauth_error(pushed.response, "invalid_client", status=(400, 401))


@requirement("RFC9126-2-AUDIENCE")
def test_a_client_assertion_may_name_any_of_the_three_audiences(
    oauth: OAuth, fresh_key_client: KeyClient, target: Target
) -> None:
    audiences = {
        "the issuer": target.issuer,
        "the token endpoint URL": target.endpoint("token_endpoint"),
        "the PAR endpoint URL": par.endpoint(oauth),
    }
    refused = []
    for what, audience in audiences.items():
        if not audience:
            continue
        assertion = fresh_key_client.assertion(aud=audience)
        pushed = par.push(
            oauth,
            fresh_key_client.client,
            client_assertion_type=CLIENT_ASSERTION_TYPE,
            client_assertion=assertion,
        )
        if not issued(pushed):
            refused.append(f"{what} ({par.describe(pushed.response)})")
    assert not refused, f"a client assertion whose aud is {', '.join(refused)} was refused at the PAR endpoint"


# ----------------------------------------------------------------------------- section 2.1
@requirement("RFC9126-2.1-NO-REQUEST-URI")
def test_a_push_carrying_request_uri_is_refused(oauth: OAuth, clients: Clients) -> None:
    pushed = par.push(oauth, clients.public(), request_uri=FOREIGN_REQUEST_URI)
    # How the refusal looks is RFC9126-2.3-ERROR's business.
    assert not issued(pushed), "a pushed request that itself carries request_uri got a request_uri"


@requirement("RFC9126-2.1-VALIDATE")
def test_a_pushed_unregistered_redirect_uri_never_yields_a_code(oauth: OAuth, clients: Clients) -> None:
    client = clients.public()
    elsewhere = f"https://attacker.example/callback-{secrets.token_hex(4)}"
    pushed = par.push(oauth, client, redirect_uri=elsewhere)
    if not issued(pushed):
        return  # refused when pushed
    url = by_reference(oauth, client.client_id, pushed.request_uri)
    assert not yields_code(oauth, url, elsewhere), "a pushed request with an unregistered redirect_uri yielded a code"


@requirement("RFC9126-2.1-VALIDATE")
def test_a_pushed_request_without_pkce_from_a_public_client_never_yields_a_code(oauth: OAuth, clients: Clients) -> None:
    client = clients.public()
    pushed = par.push(oauth, client, code_challenge=None, code_challenge_method=None)
    if not issued(pushed):
        return  # refused when pushed
    url = by_reference(oauth, client.client_id, pushed.request_uri)
    assert not yields_code(oauth, url, client.redirect_uri), (
        "a public client's pushed request without code_challenge yielded a code"
    )


# ----------------------------------------------------------------------------- section 2.2
@requirement("RFC9126-2.2-CREATED")
def test_a_valid_push_gets_201_with_request_uri_and_expires_in(oauth: OAuth, clients: Clients) -> None:
    pushed = par.push(oauth, clients.public())
    response = pushed.response
    assert response.status_code == 201, f"a valid pushed request got {par.describe(response)}, not 201"
    body = json_body(response)
    assert isinstance(body.get("request_uri"), str) and body["request_uri"], "the answer has no request_uri string"
    expires_in = body.get("expires_in")
    assert isinstance(expires_in, int | float) and not isinstance(expires_in, bool) and expires_in > 0, (
        f"expires_in is {expires_in!r}, not a positive number"
    )


@requirement("RFC9126-2.2-FLOW")
def test_the_request_uri_starts_the_pushed_request(oauth: OAuth, clients: Clients) -> None:
    client = clients.public()
    pushed = working_push(oauth, client)
    authorization = par.authorize(oauth, pushed)
    assert authorization.code is not None, (
        f"the request_uri sent with client_id yielded no code ({authorization.error or 'no return to the client'})"
    )
    assert authorization.callback is not None
    assert authorization.callback.first("state") == pushed.params.get("state"), "the pushed state did not come back"
    response = oauth.exchange(authorization)
    assert response.status_code == 200, f"the code of a pushed request was not exchanged ({par.describe(response)})"


@requirement("RFC9126-2.2-CLIENT-BOUND")
def test_a_request_uri_sent_with_another_clients_id_yields_no_code(oauth: OAuth, clients: Clients) -> None:
    owner, other = clients.public(), clients.public()
    pushed = working_push(oauth, owner)
    url = by_reference(oauth, other.client_id, pushed.request_uri)
    assert not yields_code(oauth, url, str(pushed.params.get("redirect_uri") or owner.redirect_uri)), (
        "another client's id with the request_uri yielded a code"
    )


# ----------------------------------------------------------------------------- section 2.3
@requirement("RFC9126-2.3-ERROR")
def test_a_refused_push_gets_a_token_endpoint_style_error(oauth: OAuth, clients: Clients) -> None:
    pushed = par.push(oauth, clients.public(), request_uri=FOREIGN_REQUEST_URI)
    if issued(pushed):
        raise PrerequisiteFailed("a push carrying request_uri was accepted (see RFC9126-2.1-NO-REQUEST-URI)")
    assert pushed.response.status_code == 400, f"the refusal is HTTP {pushed.response.status_code}, not 400"
    assert_par_error(pushed.response)


@requirement("RFC9126-2.3-ERROR")
def test_a_push_failing_client_authentication_gets_401(oauth: OAuth, clients: Clients) -> None:
    client = clients.confidential()
    wrong = dataclasses.replace(client, client_secret=f"wrong-{secrets.token_hex(12)}")
    pushed = par.push(oauth, wrong)
    if issued(pushed):
        raise PrerequisiteFailed("a push with a wrong secret was accepted (see RFC9126-2.1-CLIENT-AUTH)")
    assert pushed.response.status_code == 401, f"the refusal is {par.describe(pushed.response)}, not 401"
    assert_par_error(pushed.response)


# ------------------------------------------------------------------------------- section 4
@requirement("RFC9126-4-EXPIRED")
def test_an_expired_request_uri_yields_no_code(oauth: OAuth, clients: Clients, clock: TargetClock) -> None:
    client = clients.public()
    pushed = working_push(oauth, client)
    expires_in = pushed.response.json().get("expires_in")
    if not isinstance(expires_in, int | float):
        not_tested("the push answer has no numeric expires_in (see RFC9126-2.2-CREATED)")
    clock.advance(int(expires_in) + 60)
    url = by_reference(oauth, client.client_id, pushed.request_uri)
    assert not yields_code(oauth, url, client.redirect_uri), (
        f"a request_uri used {int(expires_in) + 60}s after a push that said expires_in {expires_in} yielded a code"
    )


@requirement("RFC9126-4-ONE-TIME")
def test_a_request_uri_used_twice_yields_one_code(oauth: OAuth, clients: Clients) -> None:
    client = clients.public()
    pushed = working_push(oauth, client)
    if par.authorize(oauth, pushed).code is None:
        raise PrerequisiteFailed("the request_uri yielded no code the first time (see RFC9126-2.2-FLOW)")
    url = by_reference(oauth, client.client_id, pushed.request_uri)
    assert not yields_code(oauth, url, client.redirect_uri), "the same request_uri yielded a second code"


@requirement("RFC9126-4-REQUIRED")
def test_a_server_requiring_par_refuses_a_plain_request(oauth: OAuth, clients: Clients, target: Target) -> None:
    if target.metadata.get("require_pushed_authorization_requests") is not True:
        not_applicable("the metadata does not say require_pushed_authorization_requests true")
    client = clients.public()
    url, query = oauth.authorization_url(
        client, code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method="S256"
    )
    assert not yields_code(oauth, url, str(query.get("redirect_uri") or client.redirect_uri)), (
        "an authorization request that did not come through PAR yielded a code"
    )


@requirement("RFC9126-6-CLIENT-REQUIRED")
def test_a_client_registered_to_require_par_gets_no_plain_code(oauth: OAuth, clients: Clients, target: Target) -> None:
    from oauth_conformance.features import Feature

    if not target.supports(Feature.REGISTRATION):
        not_tested("needs dynamic registration to register a client with require_pushed_authorization_requests")
    client = clients.public(require_pushed_authorization_requests=True)
    if client.registration.get("require_pushed_authorization_requests") is not True:
        not_applicable("the registration response does not keep require_pushed_authorization_requests")
    working_push(oauth, client)  # the control: PAR itself works for this client
    url, query = oauth.authorization_url(
        client, code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method="S256"
    )
    assert not yields_code(oauth, url, str(query.get("redirect_uri") or client.redirect_uri)), (
        "a client registered with require_pushed_authorization_requests got a code without PAR"
    )
