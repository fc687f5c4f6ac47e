"""The target: discovery of its metadata from a URL, and the features it offers.

Discovery tries, in order (RFC 8414 section 3.1, then the order MCP clients use): the OAuth
well-known path inserted before the URL's path, OpenID discovery inserted, OpenID discovery
appended; and if the URL is a protected resource rather than an authorization server, its
RFC 9728 metadata and the first authorization server it names. Every attempt is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from oauth_conformance.features import Feature
from oauth_conformance.features import Probed
from oauth_conformance.profile import Profile

OAUTH_WELL_KNOWN = "/.well-known/oauth-authorization-server"
OIDC_WELL_KNOWN = "/.well-known/openid-configuration"
PRM_WELL_KNOWN = "/.well-known/oauth-protected-resource"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
IDJAG_PROFILE = "urn:ietf:params:oauth:grant-profile:id-jag"


class TargetUnavailable(Exception):
    """The target is down or is not an OAuth authorization server (exit status 3)."""


@dataclass(frozen=True, slots=True)
class DiscoveryAttempt:
    url: str
    outcome: str  # "200 JSON", "404", "connection refused", ...

    def as_dict(self) -> dict[str, str]:
        return {"url": self.url, "outcome": self.outcome}


@dataclass(frozen=True)
class Target:
    url: str
    metadata_url: str
    metadata: dict[str, Any]
    profile: Profile
    attempts: tuple[DiscoveryAttempt, ...] = ()
    via: str = "oauth"  # oauth | openid | resource
    embedded: bool = False
    features: frozenset[Feature] = field(default_factory=frozenset)
    spec: str = ""  # what the run was given: the URL, or asgi:module:factory for in-process targets
    # Features seen offered though the metadata does not say so (filled by support/probes.py).
    probed: Probed = field(default_factory=Probed, compare=False, hash=False, repr=False)

    @property
    def in_process(self) -> bool:
        return self.spec.startswith("asgi:")

    def transport(self) -> httpx.BaseTransport | None:
        """The transport that reaches an in-process target (None: the network)."""
        if not self.in_process:
            return None
        from oauth_conformance.inprocess import transport_for

        return transport_for(self.spec)

    @property
    def issuer(self) -> str:
        return str(self.metadata.get("issuer", ""))

    @property
    def expected_issuer(self) -> str:
        """The issuer the metadata URL was derived from (RFC 8414 section 3.3)."""
        if self.profile.target.issuer:
            return self.profile.target.issuer
        parts = urlsplit(self.metadata_url)
        for marker in (OAUTH_WELL_KNOWN, OIDC_WELL_KNOWN):
            if parts.path.startswith(marker):
                return f"{parts.scheme}://{parts.netloc}{parts.path[len(marker) :]}"
            if parts.path.endswith(marker):
                return f"{parts.scheme}://{parts.netloc}{parts.path[: -len(marker)]}"
        return self.url.rstrip("/")

    def endpoint(self, name: str) -> str | None:
        value = self.metadata.get(name)
        return value if isinstance(value, str) else None

    def supports(self, feature: Feature) -> bool:
        """Offered: advertised (or declared in the profile), or seen offered by a probe."""
        return feature in self.features or feature in self.probed.seen

    def advertises(self, feature: Feature) -> bool:
        return feature in self.features

    @property
    def is_loopback_http(self) -> bool:
        parts = urlsplit(self.issuer or self.url)
        # inprocess.test: an in-process target, which no network separates from the harness
        return parts.scheme == "http" and (parts.hostname or "") in ("127.0.0.1", "localhost", "::1", "inprocess.test")

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "issuer": self.issuer,
            "metadata_url": self.metadata_url,
            "metadata": self.metadata,
            "discovered_via": self.via,
            "discovery": [a.as_dict() for a in self.attempts],
            "features": sorted(self.features),
            **({"probed_features": {str(f): seen for f, seen in self.probed.seen.items()}} if self.probed.seen else {}),
            "embedded": self.embedded,
            "spec": self.spec,
        }


def candidate_urls(url: str) -> list[tuple[str, str]]:
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/")
    if parts.path.startswith((OAUTH_WELL_KNOWN, OIDC_WELL_KNOWN)) or parts.path.endswith(OIDC_WELL_KNOWN):
        return [(url, "openid" if OIDC_WELL_KNOWN in parts.path else "oauth")]
    found = [(f"{origin}{OAUTH_WELL_KNOWN}{path}", "oauth"), (f"{origin}{OIDC_WELL_KNOWN}{path}", "openid")]
    if path:
        found.append((f"{origin}{path}{OIDC_WELL_KNOWN}", "openid"))
    return found


def _fetch_json(http: httpx.Client, url: str, attempts: list[DiscoveryAttempt]) -> dict[str, Any] | None:
    try:
        response = http.get(url, headers={"Accept": "application/json"})
    except httpx.ConnectError as exc:
        attempts.append(DiscoveryAttempt(url, f"connection failed: {exc}"))
        raise
    except httpx.HTTPError as exc:
        attempts.append(DiscoveryAttempt(url, f"{type(exc).__name__}: {exc}"))
        return None
    if response.status_code != 200:
        attempts.append(DiscoveryAttempt(url, f"HTTP {response.status_code}"))
        return None
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        attempts.append(DiscoveryAttempt(url, "HTTP 200, not JSON"))
        return None
    if not isinstance(data, dict) or not isinstance(data.get("issuer"), str):
        attempts.append(DiscoveryAttempt(url, "HTTP 200, JSON without an issuer"))
        return None
    attempts.append(DiscoveryAttempt(url, "HTTP 200 JSON"))
    return data


def discover(url: str, profile: Profile, http: httpx.Client, *, embedded: bool = False, spec: str = "") -> Target:
    if not url.startswith(("http://", "https://")):
        raise TargetUnavailable(f"{url}: not an http(s) URL")
    profile = profile.expanded(url)
    found = _discover(url, profile, http, embedded)
    features = found.features
    if Feature.RESOURCE_METADATA not in features and _serves_resource_metadata(found, http):
        features |= {Feature.RESOURCE_METADATA}
    return Target(
        found.url,
        found.metadata_url,
        found.metadata,
        profile,
        found.attempts,
        found.via,
        found.embedded,
        features,
        spec or url,
    )


def _serves_resource_metadata(target: Target, http: httpx.Client) -> bool:
    """Whether the profile's protected resource shows RFC 9728 metadata: its challenge to a request
    without a token names resource_metadata, or a well-known URI (section 3.1, or the root one MCP
    clients also try) answers with a JSON object. Asked only when neither the authorization
    server's metadata (protected_resources) nor the profile ([resource] metadata) settles it."""
    resource = target.profile.resource
    if resource.url is None or resource.metadata is not None:
        return False
    parts = urlsplit(resource.url)
    path = "" if parts.path in ("", "/") else parts.path
    candidates = [
        f"{parts.scheme}://{parts.netloc}{PRM_WELL_KNOWN}{path}",
        f"{parts.scheme}://{parts.netloc}{PRM_WELL_KNOWN}",
    ]
    try:
        challenge = http.request(resource.method, resource.url)
        if "resource_metadata=" in ",".join(challenge.headers.get_list("www-authenticate")):
            return True
        for url in dict.fromkeys(candidates):
            response = http.get(url)
            if response.status_code == 200:
                try:
                    if isinstance(orjson.loads(response.content), dict):
                        return True
                except orjson.JSONDecodeError:
                    continue
    except httpx.HTTPError:
        return False
    return False


def _discover(url: str, profile: Profile, http: httpx.Client, embedded: bool) -> Target:
    attempts: list[DiscoveryAttempt] = []
    try:
        for candidate, via in candidate_urls(url):
            data = _fetch_json(http, candidate, attempts)
            if data is not None:
                return _target(url, candidate, data, profile, attempts, via, embedded)
        # Perhaps a protected resource (an MCP server): follow its metadata to its server.
        parts = urlsplit(url)
        prm_url = f"{parts.scheme}://{parts.netloc}{PRM_WELL_KNOWN}{parts.path.rstrip('/')}"
        try:
            response = http.get(prm_url)
            prm = orjson.loads(response.content) if response.status_code == 200 else None
        except (httpx.HTTPError, orjson.JSONDecodeError):
            prm = None
        attempts.append(DiscoveryAttempt(prm_url, "HTTP 200 JSON" if isinstance(prm, dict) else "no resource metadata"))
        servers = prm.get("authorization_servers") if isinstance(prm, dict) else None
        if isinstance(servers, list) and servers and isinstance(servers[0], str):
            for candidate, _ in candidate_urls(servers[0]):
                data = _fetch_json(http, candidate, attempts)
                if data is not None:
                    return _target(servers[0], candidate, data, profile, attempts, "resource", embedded)
    except httpx.ConnectError as exc:
        raise TargetUnavailable(f"target unreachable: {url}: {_reason(exc)}") from None
    tried = ", ".join(f"{a.url} ({a.outcome})" for a in attempts)
    raise TargetUnavailable(f"not an OAuth authorization server: no metadata found at {tried}")


def _reason(exc: httpx.ConnectError) -> str:
    text = str(exc)
    if "refused" in text.lower():
        return "connection refused"
    return text or type(exc).__name__


def _target(
    url: str,
    metadata_url: str,
    data: dict[str, Any],
    profile: Profile,
    attempts: list[DiscoveryAttempt],
    via: str,
    embedded: bool,
) -> Target:
    target = Target(url, metadata_url, data, profile, tuple(attempts), via, embedded)
    return Target(url, metadata_url, data, profile, tuple(attempts), via, embedded, features_of(target))


def _list(metadata: dict[str, Any], name: str) -> list[Any]:
    value = metadata.get(name)
    return value if isinstance(value, list) else []


def features_of(target: Target) -> frozenset[Feature]:
    m = target.metadata
    found: set[Feature] = set()
    grants = _list(m, "grant_types_supported")
    methods = (
        _list(m, "token_endpoint_auth_methods_supported")
        if "token_endpoint_auth_methods_supported" in m
        else [
            "client_secret_basic"  # RFC 8414 section 2: the default when the member is omitted
        ]
    )
    checks = {
        Feature.REGISTRATION: isinstance(m.get("registration_endpoint"), str),
        Feature.REFRESH: "refresh_token" in grants,
        Feature.REVOCATION: isinstance(m.get("revocation_endpoint"), str),
        Feature.ISS_PARAMETER: m.get("authorization_response_iss_parameter_supported") is True,
        Feature.PLAIN_PKCE: "plain" in _list(m, "code_challenge_methods_supported"),
        Feature.TOKEN_EXCHANGE: TOKEN_EXCHANGE in grants,
        Feature.CLIENT_CREDENTIALS: "client_credentials" in grants,
        Feature.JWT_BEARER: JWT_BEARER in grants,
        Feature.IDJAG: IDJAG_PROFILE in _list(m, "authorization_grant_profiles_supported"),
        Feature.CIMD: m.get("client_id_metadata_document_supported") is True,
        Feature.SIGNED_METADATA: "signed_metadata" in m,
        Feature.JWKS: isinstance(m.get("jwks_uri"), str),
        Feature.CLIENT_SECRET_BASIC: "client_secret_basic" in methods,
        Feature.CLIENT_SECRET_POST: "client_secret_post" in methods,
        Feature.PUBLIC_CLIENTS: "none" in methods,
        Feature.PRIVATE_KEY_JWT: "private_key_jwt" in methods,
        Feature.TLS: not (target.is_loopback_http and target.profile.target.allow_http_loopback),
        Feature.PROTECTED_RESOURCE: target.profile.resource.url is not None,
        Feature.RESOURCE_METADATA: target.profile.resource.metadata is not False
        and (bool(_list(m, "protected_resources")) or target.profile.resource.metadata is True),
        Feature.RESOURCE_INDICATORS: bool(_list(m, "protected_resources"))
        or target.profile.request.resource is not None,
        Feature.INTROSPECTION: isinstance(m.get("introspection_endpoint"), str),
        Feature.DPOP: bool(_list(m, "dpop_signing_alg_values_supported")),
        Feature.PAR: isinstance(m.get("pushed_authorization_request_endpoint"), str),
    }
    found.update(feature for feature, present in checks.items() if present)
    return frozenset(found)


def target_from_dict(data: dict[str, Any], profile: Profile) -> Target:
    """Rebuild a discovered target (sent from the controller to xdist workers)."""
    return Target(
        url=data["url"],
        metadata_url=data["metadata_url"],
        metadata=data["metadata"],
        profile=profile.expanded(data["url"]),
        attempts=tuple(DiscoveryAttempt(a["url"], a["outcome"]) for a in data["discovery"]),
        via=data["discovered_via"],
        embedded=data["embedded"],
        features=frozenset(Feature(f) for f in data["features"]),
        spec=data.get("spec", data["url"]),
    )


def dumps(target: Target) -> str:
    return orjson.dumps(target.as_dict()).decode()
