"""The provider's state shared by every endpoint: options, store, clock, and URL resolution."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from urllib.parse import urlsplit

from oauth_reference.faults import NO_FAULTS
from oauth_reference.faults import Faults
from oauth_reference.hosts import HostPolicy
from oauth_reference.hosts import origin_of
from oauth_reference.machinery.clock import Clock
from oauth_reference.machinery.fetch import FetchPolicy
from oauth_reference.machinery.props_cache import PropsCache
from oauth_reference.machinery.storage import Storage
from oauth_reference.options import ProviderOptions
from oauth_reference.specs.rfc8707 import canonical

log = logging.getLogger("oauth_reference")


def _path_of(endpoint: str) -> str:
    return urlsplit(endpoint).path if endpoint.startswith(("http://", "https://")) else endpoint


def _absolute(value: str | None) -> bool:
    return value is not None and value.startswith(("http://", "https://"))


def fixed_issuer(options: ProviderOptions) -> str | None:
    """The issuer when no request can change it: the option, else the origin of a token endpoint
    given as a full URL (the seed's rule: the issuer is the token endpoint's origin)."""
    if options.issuer is not None:
        return options.issuer
    return origin_of(options.token_endpoint) if _absolute(options.token_endpoint) else None


def host_policy(options: ProviderOptions) -> HostPolicy:
    """The hosts the operator named: the issuer, ``allowed_hosts``, and every full-URL option."""
    named = [
        options.token_endpoint,
        options.authorize_endpoint,
        options.client_registration_endpoint,
        options.resource_metadata.resource,
        *options.routes,
    ]
    return HostPolicy.build(
        issuer=fixed_issuer(options),
        allowed=options.allowed_hosts,
        urls=[u for u in named if u is not None and _absolute(u)],
        # Only an explicit issuer or host list ends the loopback default; full-URL options do not.
        loopback=options.issuer is None and options.allowed_hosts is None,
    )


@dataclass(slots=True)
class Core:
    options: ProviderOptions
    storage: Storage
    clock: Clock
    faults: Faults = NO_FAULTS  # known-bad twins only (faults.py); never from options or requests
    # Test-only: lets documents (CIMD, JWK Sets) live on loopback hosts; set by --test-mode only.
    allow_loopback_fetch: bool = False
    cimd_cache: dict[str, Any] = field(default_factory=dict)
    jwks_cache: Any = None
    # RFC 9449 section 8: the key DPoP nonces are made with (one per provider; nonces are stateless).
    dpop_nonce_key: bytes = field(default_factory=lambda: os.urandom(32), repr=False)
    hosts: HostPolicy = field(init=False)
    fixed_issuer: str | None = field(init=False)
    props_cache: PropsCache = field(init=False)

    def __post_init__(self) -> None:
        self.hosts = host_policy(self.options)
        self.fixed_issuer = fixed_issuer(self.options)
        self.props_cache = PropsCache(self.options.props_cache_size)

    def now(self) -> float:
        return self.clock.now()

    def fetch_policy(self) -> FetchPolicy:
        """The rules of every server-side fetch (CIMD documents, JWK Sets): SSRF-safe, loopback
        only in test mode."""
        return FetchPolicy(
            allow_loopback=self.allow_loopback_fetch,
            any_address=self.faults.on("fetch-any-address"),
            timeout=float(self.options.fetch_timeout),
        )

    def issuer(self, origin: str) -> str:
        """The issuer: fixed (by ``issuer`` or a full-URL token endpoint), else the request's origin,
        which :attr:`hosts` has already vouched for."""
        return self.fixed_issuer or origin

    def trusted_origin(self, scheme: str, host: str) -> str | None:
        """The origin a request for ``host`` is served as, or ``None`` if the provider refuses it."""
        return self.hosts.origin(scheme, host)

    def served_resources(self, issuer: str) -> list[str]:
        """The resources tokens may be bound to: the configured one and each full-URL API route."""
        configured = self.resource(issuer)
        routes = [canonical(r) for r in self.options.routes if _absolute(r)]
        return list(dict.fromkeys([configured, *routes]))

    def absolute(self, endpoint: str, issuer: str) -> str:
        if endpoint.startswith(("http://", "https://")):
            return endpoint
        return issuer.rstrip("/") + endpoint

    def resource(self, issuer: str) -> str:
        """The protected resource identifier (RFC 9728 ``resource``), canonical."""
        configured = self.options.resource_metadata.resource
        if configured is None:
            parts = urlsplit(issuer)
            return canonical(f"{parts.scheme}://{parts.netloc}")
        return canonical(self.absolute(configured, issuer))

    def resource_metadata_url(self, issuer: str, resource: str | None = None) -> str:
        """RFC 9728 section 3.1: the well-known path inserted before the resource's path.

        ``resource`` is the configured resource (the default) or a resource below it.
        """
        parts = urlsplit(resource or self.resource(issuer))
        path = parts.path.rstrip("/")
        query = f"?{parts.query}" if parts.query else ""
        return f"{parts.scheme}://{parts.netloc}/.well-known/oauth-protected-resource{path}{query}"

    @property
    def token_path(self) -> str:
        return _path_of(self.options.token_endpoint)

    @property
    def registration_path(self) -> str | None:
        endpoint = self.options.client_registration_endpoint
        return _path_of(endpoint) if endpoint else None

    @property
    def introspection_path(self) -> str | None:
        endpoint = self.options.introspection_endpoint
        return _path_of(endpoint) if endpoint else None

    @property
    def par_path(self) -> str | None:
        endpoint = self.options.pushed_authorization_request_endpoint
        return _path_of(endpoint) if endpoint else None
