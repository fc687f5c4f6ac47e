"""Test clients: registered fresh through the target's registration endpoint when it has one,
otherwise taken from the profile; a test that needs a kind of client the run cannot get is
``not_tested`` with the profile setting that would unlock it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import httpx

from oauth_conformance.features import Feature
from oauth_conformance.redaction import redacted_repr
from oauth_conformance.support import controls
from oauth_conformance.target import Target
from oauth_conformance.verdicts import NotTested
from oauth_conformance.verdicts import PrerequisiteFailed


@dataclass(frozen=True, slots=True)
class Client:
    client_id: str
    auth_method: str  # none | client_secret_basic | client_secret_post
    redirect_uri: str
    client_secret: str | None = None
    registration: dict[str, Any] = field(default_factory=dict)
    source: str = "registration"  # registration | profile

    def __repr__(self) -> str:  # secrets masked: reprs reach assertion messages
        return redacted_repr(self)

    @property
    def is_public(self) -> bool:
        return self.auth_method == "none"


class Clients:
    def __init__(self, target: Target, http: httpx.Client, test_name: str = "") -> None:
        self.target = target
        self.http = http
        self.test_name = test_name

    @property
    def redirect_uri(self) -> str:
        return self.target.profile.request.redirect_uri

    def metadata(self, auth_method: str, **extra: Any) -> dict[str, Any]:
        grants = ["authorization_code"]
        if self.target.supports(Feature.REFRESH):
            grants.append("refresh_token")
        meta: dict[str, Any] = {
            "redirect_uris": [self.redirect_uri],
            "token_endpoint_auth_method": auth_method,
            "grant_types": grants,
            "response_types": ["code"],
            "client_name": f"oauth-conformance {self.test_name}"[:80].strip(),
        }
        if self.target.profile.request.scope:
            meta["scope"] = self.target.profile.request.scope
        meta.update(extra)
        return {k: v for k, v in meta.items() if v is not None}

    def register(self, metadata: dict[str, Any]) -> httpx.Response:
        endpoint = self.target.endpoint("registration_endpoint")
        if endpoint is None:
            raise NotTested("the target has no registration endpoint", unlock="[[clients]]")
        return self.http.post(endpoint, json=metadata)

    def _registered(self, auth_method: str, **extra: Any) -> Client:
        response = self.register(self.metadata(auth_method, **extra))
        if response.status_code not in (200, 201):
            reason = (
                f"registering a {auth_method} client failed with HTTP {response.status_code} {_error_code(response)}"
            )
            if (not extra and auth_method == self.plain_method()) or not self.registration_works():
                # the plain registration the harness always sends was refused: RFC 7591 section 3's happy path
                raise controls.broken(controls.REGISTRATION, reason.strip())
            raise PrerequisiteFailed(f"{reason.strip()} (with {', '.join(extra)}; a plain registration works)")
        body = response.json()
        method = body.get("token_endpoint_auth_method", auth_method)
        uris = body.get("redirect_uris") or [self.redirect_uri]
        return Client(
            client_id=str(body["client_id"]),
            auth_method=method,
            redirect_uri=uris[0],
            client_secret=body.get("client_secret"),
            registration=body,
        )

    def plain_method(self) -> str:
        """The auth method of the plain registration: an advertised one, none first (no secret)."""
        for method, feature in (
            ("none", Feature.PUBLIC_CLIENTS),
            ("client_secret_basic", Feature.CLIENT_SECRET_BASIC),
        ):
            if self.target.supports(feature):
                return method
        return "client_secret_post"

    def registration_works(self) -> bool:
        """The positive control of registration: the plain metadata, with an advertised method, is accepted."""
        return self.register(self.metadata(self.plain_method())).status_code in (200, 201)

    def _from_profile(self, kind: str, auth_method: str | None) -> Client | None:
        section = self.target.profile.client(kind, auth_method)
        if section is None:
            return None
        return Client(
            client_id=section.client_id,
            auth_method=section.auth_method,
            redirect_uri=section.redirect_uri or self.redirect_uri,
            client_secret=section.client_secret.value() if section.client_secret else None,
            source="profile",
        )

    def public(self, **extra: Any) -> Client:
        """A public client (``token_endpoint_auth_method=none``), fresh when registration works."""
        if self.target.supports(Feature.REGISTRATION):
            return self._registered("none", **extra)
        found = self._from_profile("public", None)
        if found is None:
            raise NotTested(
                "needs a public client: the target has no registration endpoint and the profile names none",
                unlock='[[clients]] kind = "public"',
            )
        return found

    def confidential(self, auth_method: str | None = None, **extra: Any) -> Client:
        """A confidential client using ``auth_method`` (default: the first advertised secret method)."""
        if auth_method is None and self.target.profile.request.auth_method:
            auth_method = self.target.profile.request.auth_method
        if auth_method is None:
            auth_method = "client_secret_basic"
            if not self.target.supports(Feature.CLIENT_SECRET_BASIC) and self.target.supports(
                Feature.CLIENT_SECRET_POST
            ):
                auth_method = "client_secret_post"
        if self.target.supports(Feature.REGISTRATION):
            return self._registered(auth_method, **extra)
        found = self._from_profile("confidential", auth_method)
        if found is None:
            raise NotTested(
                f"needs a confidential client using {auth_method}: the target has no registration endpoint"
                " and the profile names none",
                unlock='[[clients]] kind = "confidential"',
            )
        return found

    def provisioned(self, kind: str, auth_method: str | None = None) -> Client | None:
        """The profile's client of ``kind``, if it names one (for what a server refuses to register)."""
        return self._from_profile(kind, auth_method)

    def unique_name(self) -> str:
        return f"oauth-conformance-{secrets.token_hex(4)}"


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error", "")) if isinstance(body, dict) else ""
