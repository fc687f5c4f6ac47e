"""Helpers the OAuth 2.1 and PKCE suites share.

- :func:`attempt` sends an authorization request through the consent driver and reports where it
  ended: back at the client (a callback with a code or an error) or on a page the server showed (an
  error page), so a test can tell "refused" from "the harness could not get through";
- :func:`destination` follows an authorization request as far as the server sends it and returns
  the first place off the server's own origins, for the redirect-URI attack tests;
- :func:`post_form` sends a token request built from raw pairs (repeated parameters, extra ones);
- scope helpers pick scopes to narrow and widen from the profile and the metadata.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit

import httpx
import orjson

from oauth_conformance.drivers import Callback
from oauth_conformance.drivers import DriverStopped
from oauth_conformance.drivers.pages import parse_page
from oauth_conformance.support import controls
from oauth_conformance.support.checks import location
from oauth_conformance.support.clients import Client
from oauth_conformance.support.flows import Authorization
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.flows import Tokens
from oauth_conformance.support.flows import basic_auth
from oauth_conformance.support.flows import pkce_pair
from oauth_conformance.support.second_ask import asked_twice
from oauth_conformance.target import Target
from oauth_conformance.verdicts import NotApplicable
from oauth_conformance.verdicts import NotTested
from oauth_conformance.verdicts import PrerequisiteFailed

REDIRECTS = (301, 302, 303, 307, 308)
STATE_SPECIALS = "-._~+/="
LOOPBACK_HOSTS = ("127.0.0.1", "[::1]", "localhost")
# Scopes that change what a flow returns rather than what a token may do: never narrowed away.
STRUCTURAL_SCOPES = frozenset({"openid", "offline_access"})


def tricky_state() -> str:
    """A state value with every character that URL encoding and decoding tend to mangle."""
    return f"{secrets.token_urlsafe(12)}{STATE_SPECIALS}{secrets.token_hex(4)}"


# ------------------------------------------------------------------------------ front channel
@dataclass
class Attempt:
    """An authorization request and where it ended: the callback, or the page the server showed."""

    authorization: Authorization
    page: httpx.Response | None = None

    @property
    def callback(self) -> Callback | None:
        return self.authorization.callback

    @property
    def code(self) -> str | None:
        return self.authorization.code

    @property
    def error(self) -> str | None:
        return self.authorization.error

    @property
    def refused(self) -> bool:
        """No code: the server redirected back with an error or showed an error page."""
        return self.code is None and (self.error is not None or self.page is not None)

    def describe(self) -> str:
        if self.page is not None:
            return f"an error page (HTTP {self.page.status_code})"
        if self.code is not None:
            return "a redirect back to the client with a code"
        return f"a redirect back to the client with error={self.error}"


def land(
    oauth: OAuth,
    url: str,
    redirect_uri: str,
    *,
    approve: bool = True,
    control: Client | None = None,
    plain: bool = False,
) -> Callback | httpx.Response:
    """Drive the front channel: the redirect back to ``redirect_uri``, or the error page it ended on.

    ``plain``: this is the valid request itself, so a server-caused end (5xx, hang, error page) is
    the code flow's failure. ``control``: a client whose plain request shows what a page means; a
    page without a form, served with 200 (an error page in all but its status), is the server's
    answer to this request when the same client's plain request gets through, and the harness's
    limit otherwise (a login it cannot pass: not_tested with the setting that helps).
    """
    try:
        return oauth.driver.complete(url, redirect_uri, approve=approve)
    except httpx.TimeoutException as exc:
        if plain:
            raise controls.broken(controls.CODE_FLOW, controls.hang(exc, "the authorization request")) from None
        raise
    except DriverStopped as exc:
        page = exc.response
        if page is not None and not exc.unlock and page.status_code >= 400 and page.status_code != 401:
            if plain:
                raise controls.broken(
                    controls.CODE_FLOW, f"the plain request ended in {controls.stop_fault(exc)}"
                ) from None
            return page
        if page is not None and exc.unlock and control and not plain and _formless_page(page):
            oauth.front_channel_works(control)  # it gets through: this page is what the server answered
            return page
        detail = exc.reason
        if page is not None:
            detail += f" (last response: HTTP {page.status_code} from {page.url})"
        if exc.unlock:
            raise NotTested(f"the consent driver stopped: {detail}", unlock=exc.unlock) from None
        fault = controls.stop_fault(exc)
        if plain and fault is not None:
            raise controls.broken(controls.CODE_FLOW, f"the plain request ended in {fault}") from None
        raise PrerequisiteFailed(f"the authorization request did not come back to the client: {detail}") from None


def unless_refused_twice(oauth: OAuth, client: Client, **kwargs: Any) -> tuple[Attempt, str | None]:
    """An attempt, made once more when it brought back no code, for a test that would conclude from
    a refusal that the server does not do something at all (and so not judge it): one failed request
    must not decide that. Returns the attempt that counts, and how the first ended when it took two."""
    result, first = asked_twice(lambda: attempt(oauth, client, **kwargs), lambda a: a.code is None)
    return result, first.describe() if first is not None and result.code is not None else None


def server_fault(result: Attempt) -> str | None:
    """What shows that an attempt ended on the server's fault (a 5xx page, or an error redirect
    with one of the codes RFC 6749 section 4.1.2.1 gives a server that failed), or None."""
    if result.page is not None and result.page.status_code >= 500:
        return f"HTTP {result.page.status_code} from {result.page.url}"
    if result.error in ("server_error", "temporarily_unavailable"):
        return f"a redirect back with error={result.error}"
    return None


def unless_faulted_twice(oauth: OAuth, client: Client, **kwargs: Any) -> Attempt:
    """An attempt whose refusal a test reads as "the server does not offer this": a server fault is
    no such answer, so it is asked once more, and a second fault fails the test."""
    result, _ = asked_twice(lambda: attempt(oauth, client, **kwargs), lambda a: server_fault(a) is not None)
    fault = server_fault(result)
    asked = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    assert fault is None, f"an authorization request with {asked} ended twice in a server fault ({fault})"
    return result


def _formless_page(page: httpx.Response) -> bool:
    """A page served with 200 that offers no form: nothing a consent driver could go on with."""
    return (
        page.status_code == 200 and "html" in page.headers.get("content-type", "") and not parse_page(page.text).forms
    )


def attempt(
    oauth: OAuth,
    client: Client,
    *,
    approve: bool = True,
    pkce: str | None = "S256",
    control: Client | bool | None = True,
    **params: str | None,
) -> Attempt:
    """Like ``oauth.authorize``, but a refusal shown as an error page is a result, not a failed step.

    The positive control: an attempt that brings back no code is a refusal only if the plain request
    works. For the plain request itself a missing code is the code flow's failure; for any other,
    ``control`` (by default ``client`` when it is a real one, registered or from the profile) is
    asked for a plain code first, once per test, and its failure ends the test instead.
    """
    plain = approve and pkce == "S256" and not params
    chosen = client if control is True else (control or None)
    if chosen is not None and chosen.source not in ("registration", "profile"):
        chosen = None  # a client made up to be refused says nothing about the plain request
    verifier = challenge = None
    if pkce == "S256":
        verifier, challenge = pkce_pair()
        params.setdefault("code_challenge", challenge)
        params.setdefault("code_challenge_method", "S256")
    oauth.add_deny_params(params, approve=approve)
    url, query = oauth.authorization_url(client, **params)
    redirect_uri = query.get("redirect_uri") or client.redirect_uri
    authorization = Authorization(client, url, redirect_uri, query.get("state"), verifier, challenge, params=query)
    landing = land(oauth, url, redirect_uri, approve=approve, control=chosen, plain=plain)
    result = Attempt(authorization)
    if isinstance(landing, Callback):
        authorization.callback = landing
    else:
        result = Attempt(authorization, landing)
    if result.code is None and plain:
        raise controls.error_redirect(
            controls.CODE_FLOW, result.error, "the plain authorization request", from_profile=client.source == "profile"
        )
    if result.code is None and chosen is not None:
        oauth.front_channel_works(chosen)
    return result


def as_origins(target: Target) -> set[str]:
    """The origins the authorization server's own pages live on."""
    found = {_origin(target.url), _origin(target.issuer or target.url)}
    endpoint = target.endpoint("authorization_endpoint")
    if endpoint:
        found.add(_origin(endpoint))
    return found | {o.lower() for o in target.profile.consent.allowed_origins}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class Undecided(Exception):
    """The harness could not follow the front channel far enough to see where it leads;
    ``unlock`` names the setting that would take it further."""

    def __init__(self, reason: str, unlock: str) -> None:
        super().__init__(reason)
        self.unlock = unlock


def destination(oauth: OAuth, http: httpx.Client, url: str, redirect_uri: str) -> str | None:
    """Where the server sends the user agent off its own origins for this request (None: nowhere).

    The first response is read directly; only when the server shows a page (login, consent) does the
    consent driver approve, so a server that validates the redirect URI after login is caught too.
    """
    first = http.get(url)
    if first.status_code >= 400 and first.status_code != 401:
        return None
    if first.status_code in REDIRECTS:
        target = location(first)
        if target is None:
            return None
        if _origin(target) not in as_origins(oauth.target):
            return target
    try:
        return oauth.driver.complete(url, redirect_uri, approve=True).location
    except DriverStopped as exc:
        page = exc.response
        if page is not None and page.status_code in REDIRECTS:
            return location(page)
        if page is not None and page.status_code >= 400 and page.status_code != 401 and not exc.unlock:
            return None
        raise Undecided(exc.reason, exc.unlock or "consent.driver") from None


def uri_base(uri: str) -> str:
    """The URI up to its query or fragment, as sent (no case folding, no decoding)."""
    return uri.split("#", 1)[0].split("?", 1)[0]


def is_loopback(uri: str) -> bool:
    """An http URI on a loopback host (no userinfo: ``http://127.0.0.1@evil`` is evil's)."""
    parts = urlsplit(uri)
    if parts.scheme != "http" or "@" in parts.netloc:
        return False
    try:
        host = parts.hostname
        parts.port  # noqa: B018  (a port that is not a number is no loopback port)
    except ValueError:
        return False
    return host is not None and (f"[{host}]" if ":" in host else host) in LOOPBACK_HOSTS


def without_port(uri: str) -> str:
    """``uri`` up to its path, without the port (userinfo and odd hosts are kept as sent)."""
    parts = urlsplit(uri)
    netloc = parts.netloc
    if "@" not in netloc:
        try:
            host = parts.hostname or netloc
        except ValueError:
            host = netloc
        netloc = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{netloc}{parts.path}"


RESPONSE_PARAMETERS = frozenset({"code", "state", "iss", "error", "error_description", "error_uri"})


def carries_code(target: str) -> bool:
    parts = urlsplit(target)
    names = {n for n, _ in parse_qsl(parts.query)} | {n for n, _ in parse_qsl(parts.fragment)}
    return "code" in names or "access_token" in names


def escaped(target: str, registered: Sequence[str]) -> str | None:
    """Why sending the user agent to ``target`` answers a request whose redirect URI was not registered
    (a code means the server accepted the URI; anything but a registered URI means it trusted it)."""
    if carries_code(target):
        return "the server accepted it and issued a code"
    if not is_registered_destination(target, registered):
        return "the server redirected to it"
    return None


def is_registered_destination(target: str, registered: Sequence[str]) -> bool:
    """Is ``target`` one of the registered redirect URIs (plus response parameters)?"""
    base = uri_base(target)
    parts = urlsplit(target)
    for uri in registered:
        same = base == uri_base(uri) or (
            # section 8.4.2: any port for loopback redirect URIs
            is_loopback(uri) and is_loopback(base) and without_port(base) == without_port(uri_base(uri))
        )
        own = {n for n, _ in parse_qsl(urlsplit(uri).query, keep_blank_values=True)}
        added = {n for n, _ in parse_qsl(parts.query, keep_blank_values=True)} - own - RESPONSE_PARAMETERS
        if same and not added and not parts.fragment:
            return True
    return False


# ------------------------------------------------------------------------------ token endpoint
def exchange_pairs(oauth: OAuth, authorization: Authorization, **overrides: str | None) -> list[tuple[str, str]]:
    """The form ``oauth.exchange`` would send, as pairs (without client authentication)."""
    data: dict[str, str | None] = {
        "grant_type": "authorization_code",
        "code": authorization.code,
        "redirect_uri": authorization.redirect_uri,
        "code_verifier": authorization.verifier,
    }
    if oauth.target.profile.request.send_resource and oauth.resource:
        data["resource"] = oauth.resource
    data.update(overrides)
    return [(k, v) for k, v in data.items() if v is not None]


def post_form(
    oauth: OAuth,
    client: Client,
    pairs: Sequence[tuple[str, str]],
    *,
    authenticate: bool = True,
    url: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST ``pairs`` as they are (repeats kept) to the token endpoint, authenticating as the client does."""
    endpoint = url or oauth.target.endpoint("token_endpoint")
    if endpoint is None:
        raise PrerequisiteFailed("the metadata has no token_endpoint")
    body = list(pairs)
    sent = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    if authenticate:
        if client.auth_method == "client_secret_basic" and client.client_secret:
            sent["Authorization"] = basic_auth(client.client_id, client.client_secret)
        elif client.auth_method == "client_secret_post" and client.client_secret:
            body += [("client_id", client.client_id), ("client_secret", client.client_secret)]
        else:
            body += [("client_id", client.client_id)]
    return oauth.http.post(endpoint, content=urlencode(body), headers=sent)


def tokens_from(response: httpx.Response, step: str, *, happy: str | None = None) -> Tokens:
    """The tokens of a successful response; a failed step makes the test not_tested, and fails
    ``happy`` (a happy-path requirement) when the step was a valid request the target refused."""
    problem = None
    if response.status_code != 200:
        problem = f"{step} failed with HTTP {response.status_code}: {describe_error(response)}"
    else:
        try:
            return Tokens.from_response(response)
        except (ValueError, KeyError, TypeError):
            problem = f"{step} returned no access_token"
    if happy is not None:
        raise controls.broken(happy, problem)
    raise PrerequisiteFailed(problem)


def revoked_refresh_token(oauth: OAuth, client: Client, token: str, hint: str | None = "refresh_token") -> None:
    """The client revokes its own live refresh token, for a test that looks at it afterwards. The
    revocation endpoint must take it (RFC7009-2-REFRESH): a 5xx twice, a hang, or (with the right
    hint) a refusal fails that requirement; without a hint (optional, RFC 7009 section 2.1) a
    refusal leaves the test not tested."""
    what = "revoking the client's own refresh token" + ("" if hint else " without a hint")
    response = controls.step(lambda: oauth.revoke(client, token, hint), controls.REVOKE_REFRESH, what)
    if 200 <= response.status_code < 300:
        return
    reason = f"{what} answered HTTP {response.status_code} {describe_error(response)}".strip()
    if hint == "refresh_token":
        raise controls.broken(controls.REVOKE_REFRESH, reason)
    raise PrerequisiteFailed(f"{reason} (see RFC7009-2-REFRESH)")


def revoked_access_token(oauth: OAuth, client: Client, access_token: str) -> None:
    """The client revokes its own live access token (hint access_token), for a test that looks at it
    afterwards. A 5xx twice or a hang fails RFC7009-2-ACCESS (a SHOULD: a warning); a refusal (a
    server need not revoke access tokens, RFC 7009 section 2) leaves the test not tested."""
    response = controls.step(
        lambda: oauth.revoke(client, access_token, "access_token"),
        controls.REVOKE_ACCESS,
        "revoking the client's own access token",
    )
    if response.status_code != 200:
        raise PrerequisiteFailed(
            f"revoking the access token answered HTTP {response.status_code} {describe_error(response)}"
            " (see RFC7009-2-ACCESS)"
        )


def introspected_active(
    oauth: OAuth, client: Client, access_token: str, what: str = "introspecting the client's own fresh access token"
) -> dict[str, Any]:
    """The control of a test that introspects: the client introspecting its own live access token
    is told it is active; the answer. A 5xx twice, a hang, or a 200 that does not say active true
    fails RFC7662-2.2-ACTIVE; a refusal (the server may keep introspection for other callers, RFC
    7662 section 2.1) leaves the test not tested."""
    response = controls.step(lambda: oauth.introspect(client, access_token), controls.INTROSPECT, what)
    if response.status_code != 200:
        reason = f"{what} answered HTTP {response.status_code} {describe_error(response)}".strip()
        raise PrerequisiteFailed(f"{reason} (see RFC7662-2.2-ACTIVE)")
    body = body_of(response)
    if body.get("active") is not True:
        raise controls.broken(controls.INTROSPECT, f"{what} answered HTTP 200 without active true")
    return body


def describe_error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:120]
    if isinstance(body, dict):
        return f"{body.get('error')} {body.get('error_description') or ''}".strip()
    return str(body)[:120]


def body_of(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def resources_named(body: dict[str, Any]) -> list[str]:
    """The resources a token response says its access token is for: a resource or aud member, or
    the aud claim when the access token is a JWT; [] when neither the response nor the token says."""
    named: list[str] = []
    for value in (body.get("resource"), body.get("aud"), _jwt_audience(body.get("access_token"))):
        if isinstance(value, str):
            named.append(value)
        elif isinstance(value, list):
            named += [v for v in value if isinstance(v, str)]
    return named


def resource_pairs(oauth: OAuth) -> list[tuple[str, str]]:
    """Pairs of distinct resources the target may serve, to try in turn for a binding test: two
    entries of protected_resources, the run's resource and ``[robust] other_resource``, and two
    resources below the run's (RFC 8707 section 2 lets a server accept a narrower resource). A test
    first shows both are valid on their own (each gets a code), so an unserved pair is skipped."""
    listed = oauth.target.metadata.get("protected_resources")
    served = [r for r in listed if isinstance(r, str)] if isinstance(listed, list) else []
    pairs = [(served[0], other) for other in served[1:2]]
    base = oauth.resource
    other = oauth.target.profile.robust.other_resource
    if base and other and other != base:
        pairs.append((base, other))
    if base:
        root = base.rstrip("/")
        pairs.append((f"{root}/oauth-conformance-a", f"{root}/oauth-conformance-b"))
    return pairs


def served_pair(oauth: OAuth, client: Client) -> tuple[str, str, Authorization]:
    """Two resources that are each valid on their own (each gets a code for ``client``), and the code
    issued for the first; not_applicable when the target serves no two such resources."""
    tried = []
    for first, second in resource_pairs(oauth):
        tried.append(f"{first} and {second}")
        # The other value first (valid on its own); then the code the test uses, last, since a new
        # authorization by the same user and client may end the grants before it.
        # A pair refused is skipped, and none left makes the test not_applicable: a server fault on
        # the way is asked again, not read as a resource the server does not serve.
        if unless_faulted_twice(oauth, client, resource=second).code is None:
            continue
        issued = unless_faulted_twice(oauth, client, resource=first)
        if issued.code is None:
            continue
        return first, second, issued.authorization
    raise NotApplicable(
        "the target serves no two distinct resources the harness can find ("
        + ("; ".join(tried) if tried else "no resource is known")
        + "): there is no other valid resource to bind a grant to"
    )


def _jwt_audience(token: object) -> object:
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        return None
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    return claims.get("aud") if isinstance(claims, dict) else None


def refresh_of(oauth: OAuth, client: Client, refresh_token: str, step: str, **extra: str | None) -> Tokens:
    """A refresh that must succeed for the test to go on. A plain refresh that fails is the failure
    of OAUTH21-4.3.2-REFRESH-VALID; a variant (a scope, a resource) that fails is not_tested once
    a plain refresh of a fresh grant is seen to work."""
    try:
        response = oauth.refresh(client, refresh_token, **extra)
    except httpx.TimeoutException as exc:
        if extra:
            raise
        raise controls.broken(controls.REFRESH, controls.hang(exc, step)) from None
    if not extra:
        return tokens_from(response, step, happy=controls.REFRESH)
    if response.status_code != 200:
        refresh_works(oauth, client)
    return tokens_from(response, step)


def refresh_works(oauth: OAuth, client: Client) -> None:
    """The positive control of the refresh grant for ``client``: a fresh grant's refresh token, sent
    back plainly, gets a new access token (else OAUTH21-4.3.2-REFRESH-VALID fails)."""
    tokens = oauth.refreshable(client)
    assert tokens.refresh_token is not None
    tokens_from(oauth.refresh(client, tokens.refresh_token), "a plain refresh of a fresh grant", happy=controls.REFRESH)


def live_refresh_token(oauth: OAuth, client: Client) -> str:
    """A refresh token of a grant whose refresh has just been seen to work (the positive control:
    a refusal of this token, changed or misused in one way, then means that change was refused)."""
    tokens = oauth.refreshable(client)
    if tokens.refresh_token is None:
        raise PrerequisiteFailed("the code exchange returned no refresh token")
    refreshed = refresh_of(oauth, client, tokens.refresh_token, "the control refresh")
    return refreshed.refresh_token or tokens.refresh_token


# ------------------------------------------------------------------------------------ scopes
def profile_scopes(target: Target) -> list[str]:
    return (target.profile.request.scope or "").split()


def scope_to_narrow(target: Target) -> tuple[str, str] | None:
    """A scope of at least two tokens and a narrower one inside it, or None when none is known.

    The profile's scope is kept whole (it may hold what the flow needs, offline_access say); the
    narrowing drops a scope taken from scopes_supported.
    """
    base = profile_scopes(target)
    supported = target.metadata.get("scopes_supported")
    extra = [
        s
        for s in (supported if isinstance(supported, list) else [])
        if isinstance(s, str) and s not in base and s not in STRUCTURAL_SCOPES
    ]
    if extra and len(base) + len(extra) >= 2:
        added = extra[:1] if base else extra[:2]
        full = [*base, *added]
        return " ".join(full), " ".join(full[:-1])
    droppable = [s for s in base if s not in STRUCTURAL_SCOPES]
    if len(base) >= 2 and droppable:
        return " ".join(base), " ".join(s for s in base if s != droppable[-1])
    return None


def granted_scope(tokens: Tokens, requested: str | None) -> set[str]:
    """The scope the token response says it granted (no scope member: what was requested)."""
    if isinstance(tokens.scope, str):
        return set(tokens.scope.split())
    return set((requested or "").split())


def scope_not_in(target: Target, granted: set[str]) -> str:
    """A scope the grant does not hold: a supported one when possible, else a made-up one."""
    supported = target.metadata.get("scopes_supported")
    for s in supported if isinstance(supported, list) else []:
        if isinstance(s, str) and s not in granted and s not in STRUCTURAL_SCOPES:
            return s
    return "oauth-conformance-never-granted"


# ---------------------------------------------------------------------------------- callbacks
def callback_pairs(callback: Callback) -> list[tuple[str, str]]:
    parts = urlsplit(callback.location)
    return parse_qsl(parts.query, keep_blank_values=True)


# ------------------------------------------------------------------------------------ errors
# Section 4.1.2.1: the error codes an authorization error response may carry.
AUTHORIZATION_ERRORS = frozenset(
    {
        "invalid_request",
        "unauthorized_client",
        "access_denied",
        "unsupported_response_type",
        "invalid_scope",
        "server_error",
        "temporarily_unavailable",
    }
)
# Sections 3.2.4 and 4.1.2.1: error and error_description use %x20-21 / %x23-5B / %x5D-7E;
# error_uri the same without the space.
ERROR_CHARS = frozenset(chr(c) for c in (0x20, 0x21, *range(0x23, 0x5C), *range(0x5D, 0x7F)))
ERROR_URI_CHARS = ERROR_CHARS - {" "}


def bad_error_characters(params: dict[str, list[str]]) -> dict[str, list[str]]:
    """Characters outside the allowed sets, per error parameter (decoded values)."""
    found: dict[str, list[str]] = {}
    for name, allowed in (("error", ERROR_CHARS), ("error_description", ERROR_CHARS), ("error_uri", ERROR_URI_CHARS)):
        for value in params.get(name, []):
            bad = sorted({ch for ch in value if ch not in allowed})
            if bad:
                found[name] = bad
    return found


def require_code(oauth: OAuth, client: Client, result: Attempt, change: str) -> None:
    """Fail when ``result`` (a request with ``change``) got no code although the plain request gets one."""
    __tracebackhide__ = True
    if result.code is not None:
        return
    oauth.front_channel_works(client)  # when even the plain request fails, that is the failure
    raise AssertionError(f"with {change} the request ended in {result.describe()}; without it a code came back")


def first_page(http: httpx.Client, url: str, origins: set[str], *, hops: int = 10) -> httpx.Response | None:
    """The first HTML page the server shows for ``url``, following its redirects on its own origins."""
    response = http.get(url)
    for _ in range(hops):
        if response.status_code not in REDIRECTS:
            break
        target = location(response)
        if target is None or _origin(target) not in origins:
            return None
        response = http.get(target)
    if response.status_code in (200, 401) and "html" in response.headers.get("content-type", ""):
        return response
    return None


def require_front_channel(oauth: OAuth, client: Client) -> None:
    """Before failing a test over how a request ended: does a plain request for the client work at all?"""
    oauth.front_channel_works(client)


def require_error_redirect(oauth: OAuth, client: Client, result: Attempt, what: str) -> Callback:
    """The error redirect ``result`` must have ended in; an error page fails only if plain requests work."""
    __tracebackhide__ = True
    if result.callback is not None:
        return result.callback
    require_front_channel(oauth, client)
    status = result.page.status_code if result.page is not None else "?"
    raise AssertionError(
        f"{what}: the server showed an error page (HTTP {status}) instead of the error response at the redirect URI"
    )
