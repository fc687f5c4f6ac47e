"""Test clients: registered fresh through the target's registration endpoint when it has one,
otherwise taken from the profile's [[clients]], each chosen because it is registered with what the
test needs (its redirect URIs, auth method and grant types); a test that needs a client the run
cannot get is ``not_tested`` with the exact [[clients]] entry that would unlock it, never given an
unsuitable one."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from typing import Any

import httpx

from oauth_conformance.features import Feature
from oauth_conformance.profile import DEFAULT_CLIENT_GRANTS
from oauth_conformance.profile import ClientSection
from oauth_conformance.redaction import redacted_repr
from oauth_conformance.support import controls
from oauth_conformance.target import Target
from oauth_conformance.verdicts import NotTested
from oauth_conformance.verdicts import PrerequisiteFailed

# Registration metadata a pre-registered client is assumed to fit whatever its entry says
# (descriptive only), and what a [[clients]] entry can promise; anything else needs registration.
DESCRIPTIVE = frozenset(
    {"client_name", "scope", "contacts", "client_uri", "logo_uri", "tos_uri", "policy_uri", "software_id"}
)


@dataclass(frozen=True, slots=True)
class Client:
    client_id: str
    auth_method: str  # none | client_secret_basic | client_secret_post
    redirect_uri: str  # the redirect URI the test uses (the first of those it asked for)
    client_secret: str | None = None
    registration: dict[str, Any] = field(default_factory=dict)
    source: str = "registration"  # registration | profile | document
    redirect_uris: tuple[str, ...] = ()  # every redirect URI the client is registered with
    grant_types: tuple[str, ...] = ()

    @property
    def is_public(self) -> bool:
        return self.auth_method == "none"

    def __repr__(self) -> str:  # secrets masked: reprs reach assertion messages
        return redacted_repr(self)

    @property
    def kind(self) -> str:
        return "public" if self.is_public else "confidential"


@dataclass(frozen=True, slots=True)
class Needs:
    """What a test needs of a client, read from the registration metadata it would register."""

    redirect_uris: tuple[str, ...] = ()
    grant_types: tuple[str, ...] = ()
    unpromised: tuple[str, ...] = ()  # metadata no [[clients]] entry can promise (application_type, jwks...)
    # A profile client with at least this many redirect URIs will do, whichever they are.
    any_redirect_uris: int = 0

    @classmethod
    def of(cls, extra: dict[str, Any]) -> Needs:
        uris = extra.get("redirect_uris") or ()
        grants = extra.get("grant_types") or ()
        responses = extra.get("response_types")
        unpromised = [k for k in extra if k not in DESCRIPTIVE | {"redirect_uris", "grant_types", "response_types"}]
        if responses is not None and list(responses) != ["code"]:
            unpromised.append("response_types")
        return cls(tuple(str(u) for u in uris), tuple(str(g) for g in grants), tuple(sorted(unpromised)))

    def met_by(self, section: ClientSection, default_redirect: str) -> bool:
        registered = section.redirect_uris or (default_redirect,)
        if self.any_redirect_uris:
            uris_fit = len(registered) >= self.any_redirect_uris
        else:
            uris_fit = set(self.redirect_uris) <= set(registered)
        return uris_fit and set(self.grant_types) <= set(section.grant_types)

    def entry(self, kind: str, auth_method: str | None, default_redirect: str) -> str:
        """The [[clients]] entry that would meet these needs, as the profile would spell it."""
        fields = [f'kind = "{kind}"']
        if auth_method and auth_method != "none":
            fields.append(f'auth_method = "{auth_method}"')
        if self.redirect_uris and list(self.redirect_uris) != [default_redirect]:
            fields.append("redirect_uris = [" + ", ".join(f'"{u}"' for u in self.redirect_uris) + "]")
        if self.grant_types and not set(self.grant_types) <= set(DEFAULT_CLIENT_GRANTS):
            fields.append("grant_types = [" + ", ".join(f'"{g}"' for g in self.grant_types) + "]")
        return "[[clients]] " + ", ".join(fields)


class Clients:
    """The test's clients: registered afresh where the target allows it, else taken from the
    profile's [[clients]], each entry chosen because it fits what the test needs; successive
    requests within a test get different entries while there are any."""

    def __init__(self, target: Target, http: httpx.Client, test_name: str = "") -> None:
        self.target = target
        self.http = http
        self.test_name = test_name
        self._handed: list[str] = []  # client_ids of profile clients this test was given

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
        grants = body.get("grant_types") or extra.get("grant_types") or ["authorization_code"]
        return Client(
            client_id=str(body["client_id"]),
            auth_method=method,
            redirect_uri=uris[0],
            client_secret=body.get("client_secret"),
            registration=body,
            redirect_uris=tuple(str(u) for u in uris),
            grant_types=tuple(str(g) for g in grants),
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

    def provisioned(self, kind: str, auth_method: str | None = None) -> Client | None:
        """A profile client of ``kind``, if the profile names one (for what a server refuses to register)."""
        try:
            return self._from_profile(kind, auth_method, {})
        except NotTested:
            return None

    def _from_profile(
        self,
        kind: str,
        auth_method: str | None,
        extra: dict[str, Any],
        exclude: frozenset[str] = frozenset(),
        *,
        any_redirect_uris: int = 0,
        lacking: frozenset[str] = frozenset(),
    ) -> Client:
        needs = Needs.of(extra)
        if any_redirect_uris:
            needs = replace(needs, any_redirect_uris=any_redirect_uris)
        wanted = f"a {kind} client" + (f" using {auth_method}" if auth_method and kind != "public" else "")
        if needs.unpromised:
            shown = ", ".join(f"{k}={extra[k]!r}" if k in extra else k for k in needs.unpromised)
            raise NotTested(
                f"needs {wanted} registered with {shown}: the target has no registration endpoint, and a"
                " [[clients]] entry cannot promise that metadata",
                unlock="registration_endpoint",
            )
        fitting = [
            c
            for c in self.target.profile.clients_of(kind, auth_method)
            if c.client_id not in exclude and needs.met_by(c, self.redirect_uri) and not lacking & set(c.grant_types)
        ]
        if not fitting:
            entry = needs.entry(kind, auth_method, self.redirect_uri)
            other = " another" if exclude else ""
            raise NotTested(
                f"needs{other} {wanted}"
                + (f" registered for redirect_uris {list(needs.redirect_uris)}" if needs.redirect_uris else "")
                + (f" and grant_types {list(needs.grant_types)}" if needs.grant_types else "")
                + ": the target has no registration endpoint and no [[clients]] entry of the profile fits",
                unlock=entry if not exclude else f"a second {entry}",
            )
        fresh = [c for c in fitting if c.client_id not in self._handed]
        section = (fresh or fitting)[0]
        self._handed.append(section.client_id)
        registered = section.redirect_uris or (self.redirect_uri,)
        return Client(
            client_id=section.client_id,
            auth_method=section.auth_method,
            redirect_uri=needs.redirect_uris[0] if needs.redirect_uris and not any_redirect_uris else registered[0],
            client_secret=section.client_secret.value() if section.client_secret else None,
            source="profile",
            redirect_uris=registered,
            grant_types=section.grant_types,
        )

    def public(self, **extra: Any) -> Client:
        """A public client (``token_endpoint_auth_method=none``), fresh when registration works;
        otherwise a profile client registered with what ``extra`` asks for (redirect URIs, grants)."""
        if self.target.supports(Feature.REGISTRATION):
            return self._registered("none", **extra)
        return self._from_profile("public", None, extra)

    def public_with_redirect_uris(self, wanted: list[str]) -> Client:
        """A public client registered with several redirect URIs: ``wanted`` where registration
        works; otherwise a profile client with at least as many, whichever they are."""
        if self.target.supports(Feature.REGISTRATION):
            return self._registered("none", redirect_uris=wanted)
        return self._from_profile("public", None, {"redirect_uris": wanted}, any_redirect_uris=len(wanted))

    def confidential(self, auth_method: str | None = None, **extra: Any) -> Client:
        """A confidential client using ``auth_method`` (default: the first advertised secret method)."""
        if self.target.supports(Feature.REGISTRATION):
            return self._registered(self._secret_method(auth_method), **extra)
        # A profile client may use either secret method unless the test or the profile names one.
        named = auth_method or self.target.profile.request.auth_method
        return self._from_profile("confidential", named, extra)

    def confidential_only_for(self, grants: list[str], not_for: str) -> Client:
        """A confidential client registered for ``grants`` only, so not for ``not_for``: registered
        afresh, or a profile entry whose ``grant_types`` leave ``not_for`` out."""
        if self.target.supports(Feature.REGISTRATION):
            return self._registered(self._secret_method(None), grant_types=grants)
        named = self.target.profile.request.auth_method
        return self._from_profile("confidential", named, {"grant_types": grants}, lacking=frozenset({not_for}))

    def another(self, first: Client, **extra: Any) -> Client:
        """A client of ``first``'s kind and auth method that is not ``first``, for the tests that need
        two: registered afresh, or another fitting profile entry; never ``first`` itself (the test
        is not_tested, naming the entry that would let it run)."""
        if first.source == "registration" and self.target.supports(Feature.REGISTRATION):
            other = self._registered(first.auth_method, **extra)
        else:
            method = None if first.is_public else first.auth_method
            other = self._from_profile(first.kind, method, extra, exclude=frozenset({first.client_id}))
        if other.client_id == first.client_id:
            raise NotTested(f"needs a {first.kind} client other than {first.client_id}, and got the same one")
        return other

    def _secret_method(self, auth_method: str | None) -> str:
        if auth_method is None and self.target.profile.request.auth_method:
            auth_method = self.target.profile.request.auth_method
        if auth_method is None:
            auth_method = "client_secret_basic"
            if not self.target.supports(Feature.CLIENT_SECRET_BASIC) and self.target.supports(
                Feature.CLIENT_SECRET_POST
            ):
                auth_method = "client_secret_post"
        return auth_method

    def unique_name(self) -> str:
        return f"oauth-conformance-{secrets.token_hex(4)}"


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error", "")) if isinstance(body, dict) else ""
