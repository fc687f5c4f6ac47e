"""OAuth flows as a client performs them, for the suites to build on.

Each step returns the raw response (tests assert on it); the ``tokens``/``code`` shortcuts
assert success and raise :class:`PrerequisiteFailed` otherwise, so a test about refresh tokens
is ``not_tested`` (pointing at the failed step) rather than failed when the code exchange itself
is broken. Who broke it decides what the run reports (:mod:`.controls`): when the target answers a
valid request with a 5xx, a hang, an error redirect or an error page, the step names the happy
path it broke and the run fails that requirement (OAUTH21-4.1-CODE-FLOW, ...); when the request
was a variant (another scope, a resource), the plain request is tried once first, so that only a
target that breaks the plain request too is blamed.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from urllib.parse import urlencode
from urllib.parse import urlsplit

import httpx

from oauth_conformance.drivers import Callback
from oauth_conformance.drivers import ConsentDriver
from oauth_conformance.drivers import DriverStopped
from oauth_conformance.features import Feature
from oauth_conformance.redaction import redacted_repr
from oauth_conformance.support import controls
from oauth_conformance.support.clients import Client
from oauth_conformance.target import Target
from oauth_conformance.verdicts import NotTested
from oauth_conformance.verdicts import PrerequisiteFailed


def pkce_pair(length: int = 64) -> tuple[str, str]:
    verifier = secrets.token_urlsafe(length)[:length]
    return verifier, s256(verifier)


def s256(verifier: str) -> str:
    """RFC 7636 section 4.2: BASE64URL(SHA256(ASCII(verifier))). A verifier outside the ASCII
    alphabet (which tests send on purpose) is hashed as its UTF-8 bytes, the same for ASCII."""
    digest = hashlib.sha256(verifier.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def basic_auth(client_id: str, secret: str) -> str:
    """OAuth 2.1 section 2.4.1: form-urlencode id and secret, then Basic-encode them."""
    from urllib.parse import quote_plus

    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


@dataclass
class Authorization:
    """One authorization request and where the user agent ended up."""

    client: Client
    url: str
    redirect_uri: str
    state: str | None
    verifier: str | None
    challenge: str | None
    callback: Callback | None = None
    params: dict[str, str | None] = field(default_factory=dict)

    def __repr__(self) -> str:  # secrets masked: reprs reach assertion messages
        return redacted_repr(self)

    @property
    def code(self) -> str | None:
        return self.callback.first("code") if self.callback else None

    @property
    def error(self) -> str | None:
        return self.callback.first("error") if self.callback else None


@dataclass(frozen=True)
class Tokens:
    access_token: str
    token_type: str
    raw: dict[str, Any]
    refresh_token: str | None = None
    expires_in: int | None = None
    scope: str | None = None

    def __repr__(self) -> str:  # secrets masked: reprs reach assertion messages
        return redacted_repr(self)

    @classmethod
    def from_response(cls, response: httpx.Response) -> Tokens:
        body = response.json()
        return cls(
            access_token=body["access_token"],
            token_type=str(body.get("token_type", "")),
            raw=body,
            refresh_token=body.get("refresh_token"),
            expires_in=body.get("expires_in") if isinstance(body.get("expires_in"), int) else None,
            scope=body.get("scope"),
        )


class OAuth:
    """A client's view of the target: requests built per the specs, responses returned raw."""

    def __init__(self, target: Target, http: httpx.Client, driver: ConsentDriver) -> None:
        self.target = target
        self.http = http
        self.driver = driver
        # Positive controls already run in this test, by client id: each is run at most once.
        self._front_channel_ok: set[str] = set()
        self._flow_ok: set[str] = set()

    # ------------------------------------------------------------------ authorization endpoint
    @property
    def resource(self) -> str | None:
        """The RFC 8707 resource this run asks for (profile, else the AS metadata's first resource)."""
        request = self.target.profile.request
        if request.resource:
            return request.resource
        listed = self.target.metadata.get("protected_resources")
        if isinstance(listed, list) and listed and isinstance(listed[0], str):
            return listed[0]
        return None

    def authorization_url(self, client: Client, **params: str | None) -> tuple[str, dict[str, str | None]]:
        endpoint = self.target.endpoint("authorization_endpoint")
        if endpoint is None:
            raise PrerequisiteFailed("the metadata has no authorization_endpoint")
        profile = self.target.profile
        query: dict[str, str | None] = {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": client.redirect_uri,
            "state": secrets.token_urlsafe(16),
            "scope": profile.request.scope,
        }
        if profile.request.send_resource and self.resource:
            query["resource"] = self.resource
        query.update(profile.request.extra_params)
        query.update(params)
        sent = {k: v for k, v in query.items() if v is not None}
        separator = "&" if urlsplit(endpoint).query else "?"
        return endpoint + separator + urlencode(sent), query

    def authorize(
        self,
        client: Client,
        *,
        approve: bool = True,
        pkce: str | None = "S256",
        **params: str | None,
    ) -> Authorization:
        """Send an authorization request through the consent driver; return where it led."""
        plain = approve and pkce == "S256" and not params
        verifier = challenge = None
        if pkce == "S256":
            verifier, challenge = pkce_pair()
            params.setdefault("code_challenge", challenge)
            params.setdefault("code_challenge_method", "S256")
        elif pkce == "plain":
            verifier, _ = pkce_pair()
            challenge = verifier
            params.setdefault("code_challenge", challenge)
            params.setdefault("code_challenge_method", "plain")
        self.add_deny_params(params, approve=approve)
        url, query = self.authorization_url(client, **params)
        redirect_uri = query.get("redirect_uri") or client.redirect_uri
        result = Authorization(client, url, redirect_uri, query.get("state"), verifier, challenge, params=query)
        try:
            result.callback = self.driver.complete(url, redirect_uri, approve=approve)
        except httpx.TimeoutException as exc:
            if not approve:
                raise
            raise self._not_through(client, plain, controls.hang(exc, "the authorization request")) from None
        except DriverStopped as exc:
            detail = exc.reason
            if exc.response is not None:
                detail += f" (last response: HTTP {exc.response.status_code} from {exc.response.url})"
            if exc.unlock:
                raise NotTested(f"the consent driver stopped: {detail}", unlock=exc.unlock) from None
            fault = controls.stop_fault(exc)
            if fault is not None and approve:
                raise self._not_through(client, plain, f"the authorization request ended in {fault}") from None
            raise PrerequisiteFailed(f"the authorization request did not come back to the client: {detail}") from None
        return result

    def _not_through(self, client: Client, plain: bool, reason: str) -> PrerequisiteFailed:
        """A valid request broke: the code flow's failure when it was the plain one; for a variant,
        only once the plain request has been seen to work (else the control raises the failure)."""
        if plain:
            return controls.broken(controls.CODE_FLOW, reason)
        self.front_channel_works(client)
        return PrerequisiteFailed(f"{reason}; the plain request works, so the server refuses this variant")

    def front_channel_works(self, client: Client) -> None:
        """The positive control of the front channel: a plain approved request for ``client`` comes
        back with a code. Raises the code flow's failure (or not_tested, when the harness cannot get
        through) otherwise; run at most once per test and client."""
        if client.client_id in self._front_channel_ok:
            return
        self.code(client)
        self._front_channel_ok.add(client.client_id)

    def flow_works(self, client: Client) -> None:
        """The positive control of the whole code flow for ``client``: a plain code and its exchange."""
        if client.client_id in self._flow_ok:
            return
        self.tokens(client)
        self._flow_ok.add(client.client_id)

    def add_deny_params(self, params: dict[str, str | None], *, approve: bool) -> None:
        """A request meant to be denied carries the profile's ``[consent] deny_params`` (a test
        deployment that approves everything denies a request carrying them); every helper that
        sends an authorization request the user is to deny goes through here."""
        if not approve:
            for name, value in self.target.profile.consent.deny_params.items():
                params.setdefault(name, value)

    def code(self, client: Client, **kwargs: Any) -> Authorization:
        """An approved authorization that returned a code (else the test is not_tested, and the code
        flow fails when the target broke a valid request)."""
        result = self.authorize(client, **kwargs)
        if result.code is None:
            what = "an approved authorization request" + ("" if _plain(kwargs) else " with " + _variant(kwargs))
            if not _plain(kwargs):
                self.front_channel_works(client)
                if result.error in controls.HARNESS_ERRORS:  # what the profile can change (a scope it may ask)
                    unlock = controls.HARNESS_ERRORS[result.error]
                    raise NotTested(f"{what} came back with error={result.error}", unlock=unlock)
                raise PrerequisiteFailed(f"{what} came back with {result.error or 'no code'}")
            raise controls.error_redirect(
                controls.CODE_FLOW, result.error, what, from_profile=client.source == "profile"
            )
        if _plain(kwargs):
            self._front_channel_ok.add(client.client_id)
        return result

    # ----------------------------------------------------------------------- token endpoint
    def token_request(
        self, client: Client, data: dict[str, str | None], *, authenticate: bool = True, endpoint: str | None = None
    ) -> httpx.Response:
        """POST a form to the token endpoint, authenticating as the client's method says."""
        return self.http.send(self.build_token_request(client, data, authenticate=authenticate, endpoint=endpoint))

    def build_token_request(
        self, client: Client, data: dict[str, str | None], *, authenticate: bool = True, endpoint: str | None = None
    ) -> httpx.Request:
        """The request :meth:`token_request` sends, unsent (the race tests send it their own way)."""
        url = endpoint or self.target.endpoint("token_endpoint")
        if url is None:
            raise PrerequisiteFailed("the metadata has no token_endpoint")
        form, headers = self.token_form(client, data, authenticate=authenticate)
        return self.http.build_request("POST", url, data=form, headers=headers)

    @staticmethod
    def token_form(
        client: Client, data: dict[str, str | None], *, authenticate: bool = True
    ) -> tuple[dict[str, str], dict[str, str]]:
        """A direct request's form and headers, the client authenticating as its method says."""
        form = {k: v for k, v in data.items() if v is not None}
        headers = {}
        if authenticate:
            if client.auth_method == "client_secret_basic" and client.client_secret:
                headers["Authorization"] = basic_auth(client.client_id, client.client_secret)
            elif client.auth_method == "client_secret_post" and client.client_secret:
                form.setdefault("client_id", client.client_id)
                form.setdefault("client_secret", client.client_secret)
            else:
                form.setdefault("client_id", client.client_id)
        return form, headers

    def exchange(self, authorization: Authorization, **overrides: str | None) -> httpx.Response:
        return self.http.send(self.build_exchange(authorization, **overrides))

    def build_exchange(self, authorization: Authorization, **overrides: str | None) -> httpx.Request:
        """The code exchange :meth:`exchange` sends, unsent."""
        data: dict[str, str | None] = {
            "grant_type": "authorization_code",
            "code": authorization.code,
            "redirect_uri": authorization.redirect_uri,
            "code_verifier": authorization.verifier,
        }
        if self.target.profile.request.send_resource and self.resource:
            data["resource"] = self.resource
        data.update(overrides)
        return self.build_token_request(authorization.client, data)

    def tokens(self, client: Client, **kwargs: Any) -> Tokens:
        """A full code flow with PKCE; the test is not_tested if any step fails (and the code flow
        fails when the target broke the plain flow)."""
        authorization = self.code(client, **kwargs)
        try:
            response = self.exchange(authorization)
        except httpx.TimeoutException as exc:
            if not _plain(kwargs):
                raise
            raise controls.broken(controls.CODE_FLOW, controls.hang(exc, "the code exchange")) from None
        problem = None
        if response.status_code != 200:
            problem = f"exchanging the code failed with HTTP {response.status_code}: {_error(response)}"
        else:
            try:
                tokens = Tokens.from_response(response)
            except (ValueError, KeyError, TypeError):
                problem = "the token response to a code exchange has no access_token"
        if problem is None:
            if _plain(kwargs):
                self._flow_ok.add(client.client_id)
            return tokens
        if not _plain(kwargs):
            self.flow_works(client)
            raise PrerequisiteFailed(f"{problem} (with {_variant(kwargs)}; the plain flow works)")
        refused_client = _error_code(response) == "invalid_client" or response.status_code == 401
        if client.source == "profile" and refused_client:
            raise NotTested(f"{problem}, for the profile's client", unlock="[[clients]] client_secret")
        if refused_client:  # valid credentials refused: that method's happy path, not the flow's
            method = controls.AUTHENTICATION.get(client.auth_method, controls.CODE_FLOW)
            raise controls.broken(method, f"{problem} ({client.auth_method} with the client's own credentials)")
        raise controls.broken(controls.CODE_FLOW, problem)

    def refresh(self, client: Client, refresh_token: str, **extra: str | None) -> httpx.Response:
        return self.http.send(self.build_refresh(client, refresh_token, **extra))

    def build_refresh(self, client: Client, refresh_token: str, **extra: str | None) -> httpx.Request:
        """The refresh :meth:`refresh` sends, unsent."""
        data: dict[str, str | None] = {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
        return self.build_token_request(client, data)

    def revoke(self, client: Client, token: str, hint: str | None = None) -> httpx.Response:
        endpoint = self.target.endpoint("revocation_endpoint")
        if endpoint is None:
            raise NotTested("the target has no revocation endpoint")
        return self.token_request(client, {"token": token, "token_type_hint": hint}, endpoint=endpoint)

    def introspect(self, client: Client, token: str, hint: str | None = None, **extra: str | None) -> httpx.Response:
        """RFC 7662: ask the introspection endpoint about ``token``, authenticated as ``client``."""
        endpoint = self.target.endpoint("introspection_endpoint")
        if endpoint is None:
            raise NotTested("the target has no introspection endpoint")
        return self.token_request(client, {"token": token, "token_type_hint": hint, **extra}, endpoint=endpoint)

    def refreshable(self, client: Client, **kwargs: Any) -> Tokens:
        if not self.target.supports(Feature.REFRESH):
            raise NotTested("the target neither advertises refresh tokens nor was seen to issue one")
        tokens = self.tokens(client, **kwargs)
        if tokens.refresh_token is None:
            raise PrerequisiteFailed(
                "the token response has no refresh_token", unlock="[request] scope (some servers need offline_access)"
            )
        return tokens

    # --------------------------------------------------------------------- protected resource
    @property
    def resource_url(self) -> str:
        url = self.target.profile.resource.url
        if url is None:
            raise NotTested("no protected resource is known", unlock="[resource] url")
        return url

    def call_resource(
        self, access_token: str | None, *, scheme: str = "Bearer", url: str | None = None
    ) -> httpx.Response:
        headers = {} if access_token is None else {"Authorization": f"{scheme} {access_token}"}
        method = self.target.profile.resource.method
        return self.http.request(method, url or self.resource_url, headers=headers)

    def expect_accepted(self, access_token: str) -> None:
        """The positive control before a token is revoked, expired or misused: the resource accepts
        it now. Otherwise the test is not_tested and RFC6750-2.1-HEADER fails (the resource refuses
        a fresh token sent the way section 2.1 says every resource server takes it)."""
        from oauth_conformance.support.checks import resource_refused

        try:
            response = self.call_resource(access_token)
        except httpx.TimeoutException as exc:
            raise controls.broken(controls.RESOURCE, controls.hang(exc, "the protected resource")) from None
        if resource_refused(response) or response.status_code >= 500:
            raise controls.broken(
                controls.RESOURCE,
                f"the protected resource refused a fresh access token with HTTP {response.status_code}",
            )

    def usable_tokens(self, client: Client, **kwargs: Any) -> Tokens:
        """A code flow whose access token the protected resource accepts (else the test is not_tested)."""
        self.resource_url  # noqa: B018  (not_tested with its unlock before any flow runs)
        tokens = self.tokens(client, **kwargs)
        self.expect_accepted(tokens.access_token)
        return tokens


def _plain(kwargs: dict[str, Any]) -> bool:
    """Is this the plain request (approved, PKCE S256, nothing else changed)?"""
    return (
        kwargs.get("approve", True) is True
        and kwargs.get("pkce", "S256") == "S256"
        and not (set(kwargs) - {"approve", "pkce"})
    )


def _variant(kwargs: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in kwargs.items()) or "defaults"


def _error_code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return str(body.get("error")) if isinstance(body, dict) and body.get("error") else None


def _error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:120]
    if isinstance(body, dict):
        return f"{body.get('error')} {body.get('error_description') or ''}".strip()
    return str(body)[:120]
