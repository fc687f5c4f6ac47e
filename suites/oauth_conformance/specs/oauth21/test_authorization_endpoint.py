"""OAuth 2.1 sections 3.1, 4.1.1, 4.1.2, 4.1.2.1, 7.5.4, 7.10 and 7.12.2: the authorization endpoint."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit

import httpx
import pytest

from oauth_conformance import requirement
from oauth_conformance.drivers import Callback
from oauth_conformance.evidence import Recorder
from oauth_conformance.support.attempts import AUTHORIZATION_ERRORS
from oauth_conformance.support.attempts import REDIRECTS
from oauth_conformance.support.attempts import as_origins
from oauth_conformance.support.attempts import attempt
from oauth_conformance.support.attempts import bad_error_characters
from oauth_conformance.support.attempts import callback_pairs
from oauth_conformance.support.attempts import first_page
from oauth_conformance.support.attempts import is_registered_destination
from oauth_conformance.support.attempts import land
from oauth_conformance.support.attempts import require_code
from oauth_conformance.support.attempts import require_error_redirect
from oauth_conformance.support.attempts import tricky_state
from oauth_conformance.support.checks import location
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.flows import pkce_pair
from oauth_conformance.support.second_ask import asked_twice
from oauth_conformance.target import Target
from oauth_conformance.verdicts import NotTested
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import not_applicable
from oauth_conformance.verdicts import not_tested

UNKNOWN_RESPONSE_TYPE = "oauth-conformance-unknown"


def s256_params() -> dict[str, str | None]:
    _, challenge = pkce_pair()
    return {"code_challenge": challenge, "code_challenge_method": "S256"}


def no_login_step(target: Target) -> None:
    """The redirect driver is for deployments that approve without a login: nothing to observe."""
    if target.profile.consent.driver == "redirect":
        not_tested(
            "the profile's redirect driver means the deployment approves without a login page",
            unlock='consent.driver = "form" (or browser)',
        )


# ----------------------------------------------------------------------------- section 3.1
@requirement("OAUTH21-3.1-GET")
def test_the_authorization_endpoint_answers_get(oauth: OAuth, clients: Clients, http: httpx.Client) -> None:
    url, _ = oauth.authorization_url(clients.public(), **s256_params())
    response = http.get(url)
    # A 5xx to a valid GET does not support it either (a server answering every request so passed).
    assert response.status_code not in (404, 405, 501) and response.status_code < 500, (
        f"GET of the authorization endpoint: HTTP {response.status_code}"
    )


@requirement("OAUTH21-3.1-IGNORE-UNKNOWN")
def test_an_unknown_authorization_parameter_is_ignored(oauth: OAuth, clients: Clients) -> None:
    client = clients.public()
    result = attempt(oauth, client, x_oauth_conformance="ignore-me")
    require_code(oauth, client, result, "the unknown parameter x_oauth_conformance")


@requirement("OAUTH21-3.1-NO-DUPLICATES")
def test_a_repeated_authorization_parameter_is_refused(oauth: OAuth, clients: Clients) -> None:
    client = clients.public()
    url, query = oauth.authorization_url(client, **s256_params())
    url += "&" + urlencode({"state": f"second-{secrets.token_hex(4)}"})
    landing = land(oauth, url, query.get("redirect_uri") or client.redirect_uri)
    if isinstance(landing, Callback):
        assert landing.first("code") is None, "a request with state twice got a code"
        assert landing.first("error") == "invalid_request", (
            f"a request with state twice got error={landing.first('error')}, not invalid_request"
        )


@requirement("OAUTH21-3.1-EMPTY-PARAM")
def test_an_empty_redirect_uri_counts_as_absent(oauth: OAuth, clients: Clients) -> None:
    # Only a client with exactly one redirect URI may leave redirect_uri out (section 4.1.1).
    client = clients.public()
    for _ in range(len(oauth.target.profile.clients)):
        if len(client.redirect_uris) == 1:
            break
        client = clients.public()  # the next profile client
    if len(client.redirect_uris) != 1:
        not_tested(
            f"needs a client registered with exactly one redirect URI ({client.client_id} has"
            f" {len(client.redirect_uris)})",
            unlock='[[clients]] kind = "public" with a single redirect_uri',
        )
    result = attempt(oauth, client, redirect_uri="")
    require_code(oauth, client, result, "redirect_uri= (empty)")


@requirement("OAUTH21-3.1-NO-CORS")
def test_the_authorization_endpoint_offers_no_cors(oauth: OAuth, clients: Clients, http: httpx.Client) -> None:
    url, _ = oauth.authorization_url(clients.public(), **s256_params())
    origin = "https://app.oauth-conformance.example"
    get = http.get(url, headers={"Origin": origin})
    preflight = http.request("OPTIONS", url, headers={"Origin": origin, "Access-Control-Request-Method": "GET"})
    for name, response in (("GET", get), ("the OPTIONS preflight", preflight)):
        allowed = response.headers.get("access-control-allow-origin")
        assert allowed is None, f"{name} answered with Access-Control-Allow-Origin: {allowed}"


@requirement("OAUTH21-3.1-AUTHN-FIRST")
def test_no_code_is_issued_before_the_user_is_authenticated(
    oauth: OAuth, clients: Clients, http: httpx.Client, target: Target
) -> None:
    no_login_step(target)
    client = clients.public()
    url, _ = oauth.authorization_url(client, **s256_params())
    response = http.get(url)  # a user agent with no session at all
    target_url = location(response)
    if (
        response.status_code in REDIRECTS
        and target_url
        and is_registered_destination(target_url, [client.redirect_uri])
    ):
        sent = dict(parse_qsl(urlsplit(target_url).query)) | dict(parse_qsl(urlsplit(target_url).fragment))
        assert "code" not in sent and "access_token" not in sent, (
            "a user agent without a session was sent straight back to the client with a code"
        )


@requirement("OAUTH21-7.12.2-AUTH-BEFORE-ERROR")
def test_an_erroneous_request_is_not_bounced_to_the_client_before_login(
    oauth: OAuth, clients: Clients, http: httpx.Client, target: Target
) -> None:
    no_login_step(target)
    client = clients.public()
    url, _ = oauth.authorization_url(client, response_type=UNKNOWN_RESPONSE_TYPE, **s256_params())
    response = http.get(url)  # a user agent with no session at all
    target_url = location(response)
    bounced = (
        response.status_code in REDIRECTS
        and target_url
        and is_registered_destination(target_url, [client.redirect_uri])
    )
    assert not bounced, (
        "an erroneous request was redirected to the client's redirect URI before any login; an attacker who"
        " registers a client can use that to send users anywhere"
    )


# --------------------------------------------------------------------------- section 4.1.1
@requirement("OAUTH21-4.1.1-RESPONSE-TYPE")
@pytest.mark.parametrize("response_type", [None, UNKNOWN_RESPONSE_TYPE], ids=["missing", "unknown"])
def test_a_missing_or_unknown_response_type_gets_an_error_response(
    oauth: OAuth, clients: Clients, response_type: str | None
) -> None:
    client = clients.public()
    result = attempt(oauth, client, response_type=response_type)
    issued = result.code is not None
    assert not issued, f"response_type={response_type} got a code"
    require_error_redirect(oauth, client, result, f"response_type={response_type}")
    assert result.error in ("invalid_request", "unsupported_response_type"), (
        f"response_type={response_type} got error={result.error}"
    )


@requirement("OAUTH21-4.1.1-NO-IMPLICIT")
def test_response_type_token_yields_an_error_and_no_token(oauth: OAuth, clients: Clients, target: Target) -> None:
    advertised = target.metadata.get("response_types_supported")
    client = None
    if isinstance(advertised, list) and "token" in advertised:
        # The server claims the implicit grant: give it a client registered for it.
        try:
            client = clients.public(
                response_types=["code", "token"], grant_types=[*clients.metadata("none")["grant_types"], "implicit"]
            )
        except PrerequisiteFailed:
            client = None
    result = attempt(oauth, client or clients.public(), response_type="token")
    callback = result.callback
    if callback is not None:
        assert "access_token" not in callback.query and "access_token" not in callback.fragment, (
            "response_type=token returned an access token in the redirect"
        )
    assert result.refused, f"response_type=token ended in {result.describe()}, not an error"


@requirement("OAUTH21-4.1.1-ADVERTISED-TYPES")
def test_every_advertised_response_type_is_accepted(oauth: OAuth, clients: Clients, target: Target) -> None:
    advertised = target.metadata.get("response_types_supported")
    if not isinstance(advertised, list) or not advertised:
        not_applicable("the metadata lists no response_types_supported")
    refused = []
    for response_type in [t for t in advertised if isinstance(t, str)]:
        client = None
        if response_type != "code":
            try:  # a client registered for the type, where registration allows it
                client = clients.public(response_types=[response_type])
            except PrerequisiteFailed:
                client = None
        # the control of a refusal: a plain code request, from a client registered for code
        control = clients.public() if client is not None else True
        result = attempt(oauth, client or clients.public(), response_type=response_type, control=control)
        if result.error == "unsupported_response_type":
            refused.append(response_type)
    assert not refused, f"advertised but refused as unsupported_response_type: {', '.join(refused)}"


# --------------------------------------------------------------------------- section 4.1.2
@requirement("OAUTH21-4.1.2-RESPONSE")
def test_the_code_comes_back_once_in_the_query_component(oauth: OAuth, clients: Clients) -> None:
    authorization = oauth.code(clients.public())
    callback = authorization.callback
    assert callback is not None
    names = [name for name, _ in callback_pairs(callback)]
    assert names.count("code") == 1, f"the redirect's query has code {names.count('code')} times: {callback.location}"
    assert "code" not in callback.fragment, "the code is (also) in the fragment"
    repeated = sorted({n for n in names if names.count(n) > 1 and n in ("code", "state", "iss")})
    assert not repeated, f"response parameters repeated: {', '.join(repeated)}"


@requirement("OAUTH21-4.1.2-STATE")
def test_state_comes_back_unchanged_with_the_code(oauth: OAuth, clients: Clients) -> None:
    state = tricky_state()
    authorization = oauth.code(clients.public(), state=state)
    assert authorization.callback is not None
    returned = authorization.callback.first("state")
    assert returned == state, f"sent state {state!r}, got back {returned!r}"


@requirement("OAUTH21-4.1.2-STATE")
def test_state_comes_back_unchanged_when_the_user_denies(oauth: OAuth, clients: Clients) -> None:
    state = tricky_state()
    result = attempt(oauth, clients.public(), approve=False, state=state)
    if result.callback is None or result.error is None:
        raise PrerequisiteFailed(f"denying consent ended in {result.describe()}, not an error redirect")
    returned = result.callback.first("state")
    assert returned == state, f"sent state {state!r}, got back {returned!r} with error={result.error}"


@requirement("OAUTH21-4.1.2-STATE")
def test_state_comes_back_unchanged_on_a_request_error(oauth: OAuth, clients: Clients) -> None:
    state = tricky_state()
    result = attempt(oauth, clients.public(), state=state, response_type=UNKNOWN_RESPONSE_TYPE)
    if result.callback is None or result.error is None:
        raise PrerequisiteFailed(f"an unknown response_type ended in {result.describe()}, not an error redirect")
    returned = result.callback.first("state")
    assert returned == state, f"sent state {state!r}, got back {returned!r} with error={result.error}"


# ------------------------------------------------------------------------- section 4.1.2.1
@requirement("OAUTH21-4.1.2.1-ERROR")
def test_a_denial_redirects_with_access_denied(oauth: OAuth, clients: Clients) -> None:
    client = clients.public()
    result = attempt(oauth, client, approve=False)
    if result.code is not None:
        raise PrerequisiteFailed("the consent step could not deny: a code came back")
    callback = require_error_redirect(oauth, client, result, "denying consent")
    assert result.error == "access_denied", f"a denial came back with error={result.error}"
    bad = bad_error_characters({**callback.query, **callback.fragment})
    assert not bad, f"characters outside section 4.1.2.1's set: {bad}"


@requirement("OAUTH21-4.1.2.1-ERROR")
def test_an_error_redirect_uses_a_registered_code_and_allowed_characters(oauth: OAuth, clients: Clients) -> None:
    result = attempt(oauth, clients.public(), response_type=UNKNOWN_RESPONSE_TYPE)
    if result.callback is None or result.error is None:
        raise PrerequisiteFailed(f"an unknown response_type ended in {result.describe()}, not an error redirect")
    assert result.error in AUTHORIZATION_ERRORS, f"error={result.error!r} is not one of section 4.1.2.1's codes"
    bad = bad_error_characters({**result.callback.query, **result.callback.fragment})
    assert not bad, f"characters outside section 4.1.2.1's set: {bad}"


@requirement("OAUTH21-4.1.2.1-PKCE-PUBLIC")
def test_a_public_client_cannot_skip_pkce(oauth: OAuth, clients: Clients) -> None:
    result = attempt(oauth, clients.public(), pkce=None)
    issued = result.code is not None
    assert not issued, "a public client got a code without sending code_challenge"


@requirement("OAUTH21-7.5.2-PKCE-ALL")
def test_a_confidential_client_cannot_skip_pkce(oauth: OAuth, clients: Clients) -> None:
    result = attempt(oauth, clients.confidential(), pkce=None)
    issued = result.code is not None
    assert not issued, "a confidential client got a code without sending code_challenge"


# ------------------------------------------------------------------------- sections 7.5.4, 7.10
@requirement("OAUTH21-7.5.4-NO-307")
def test_no_307_answers_the_credential_post(oauth: OAuth, clients: Clients, recorder: Recorder, target: Target) -> None:
    no_login_step(target)
    oauth.code(clients.public())
    posts = [e for e in recorder.exchanges if e.method == "POST" and e.status in REDIRECTS]
    if not posts:
        not_tested(
            "the harness saw no redirect answering a form POST (the consent step posted no form)",
            unlock='consent.driver = "form" (or browser)',
        )
    used = [e.status for e in posts]
    assert 307 not in used, f"a form POST to {posts[used.index(307)].url} was answered with 307"


@requirement("OAUTH21-7.5.4-SEE-OTHER")
def test_the_credential_post_is_answered_with_303(
    oauth: OAuth, clients: Clients, recorder: Recorder, target: Target
) -> None:
    no_login_step(target)
    oauth.code(clients.public())
    posts = [e for e in recorder.exchanges if e.method == "POST" and e.status in REDIRECTS]
    if not posts:
        not_tested(
            "the harness saw no redirect answering a form POST (the consent step posted no form)",
            unlock='consent.driver = "form" (or browser)',
        )
    other = sorted({e.status or 0 for e in posts if e.status != 303})
    assert not other, f"form POSTs were answered with {other}, not 303"


def _login_page(oauth: OAuth, clients: Clients, http: httpx.Client, target: Target) -> httpx.Response:
    client = clients.public()

    def look() -> httpx.Response | None:
        url, _ = oauth.authorization_url(client, **s256_params())
        return first_page(http, url, as_origins(target))

    # "No page" switches the framing checks off: one failed request must not decide it.
    page, _ = asked_twice(look, lambda found: found is None)
    if page is not None:
        return page
    # The control: a plain request for the client gets through (else the code flow fails: a 5xx or
    # an error page is no "this deployment shows no page").
    oauth.front_channel_works(client)
    raise NotTested("the authorization request showed no login or consent page", unlock='consent.driver = "form"')


def _frame_ancestors(response: httpx.Response) -> list[str] | None:
    for policy in response.headers.get_list("content-security-policy"):
        for directive in policy.split(";"):
            name, _, sources = directive.strip().partition(" ")
            if name.lower() == "frame-ancestors":
                return sources.split()
    return None


@requirement("OAUTH21-7.10-CLICKJACK")
def test_the_login_page_cannot_be_framed(oauth: OAuth, clients: Clients, http: httpx.Client, target: Target) -> None:
    page = _login_page(oauth, clients, http, target)
    frame_options = page.headers.get("x-frame-options", "").strip().upper()
    ancestors = _frame_ancestors(page)
    protected = frame_options in ("DENY", "SAMEORIGIN") or (ancestors is not None and "*" not in ancestors)
    assert protected, (
        f"the page at {page.url} has X-Frame-Options {frame_options or 'none'} and CSP frame-ancestors"
        f" {ancestors if ancestors is not None else 'none'}: any site can frame it"
    )


@requirement("OAUTH21-7.10-CSP")
def test_the_login_page_restricts_framing_by_csp(
    oauth: OAuth, clients: Clients, http: httpx.Client, target: Target
) -> None:
    page = _login_page(oauth, clients, http, target)
    ancestors = _frame_ancestors(page)
    assert ancestors is not None and "*" not in ancestors, f"CSP frame-ancestors is {ancestors}"


# ------------------------------------------------------ section 4.1.2 and 4.1.2.1: iss (draft -16)
def _iss_values(callback: Callback) -> list[str]:
    return callback.query.get("iss", []) + callback.fragment.get("iss", [])


@requirement("OAUTH21-4.1.2-ISS")
def test_a_successful_authorization_response_carries_the_issuer(oauth: OAuth, clients: Clients, target: Target) -> None:
    callback = oauth.code(clients.public()).callback
    assert callback is not None
    values = _iss_values(callback)
    assert values, "the authorization response carries no iss"
    assert values == [target.issuer], f"the authorization response carries iss {values}, not [{target.issuer!r}]"


@requirement("OAUTH21-4.1.2.1-ISS")
def test_a_denied_authorization_response_carries_the_issuer(oauth: OAuth, clients: Clients, target: Target) -> None:
    authorization = oauth.authorize(clients.public(), approve=False)
    if authorization.callback is None or authorization.error is None:
        raise PrerequisiteFailed("the denied request did not come back to the client with an error")
    values = _iss_values(authorization.callback)
    assert values == [target.issuer], (
        f"the {authorization.error} response carries iss {values}, not [{target.issuer!r}]"
    )
