"""The provider's state shared by every endpoint: options, store, clock, and URL resolution."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from urllib.parse import urlsplit

from oauth_reference.machinery.clock import Clock
from oauth_reference.machinery.storage import Storage
from oauth_reference.options import ProviderOptions
from oauth_reference.specs.rfc8707 import canonical

log = logging.getLogger("oauth_reference")


def _path_of(endpoint: str) -> str:
    return urlsplit(endpoint).path if endpoint.startswith(("http://", "https://")) else endpoint


@dataclass(slots=True)
class Core:
    options: ProviderOptions
    storage: Storage
    clock: Clock
    # Test-only: lets documents (CIMD, JWK Sets) live on loopback hosts; set by --test-mode only.
    allow_loopback_fetch: bool = False
    cimd_cache: dict[str, Any] = field(default_factory=dict)
    jwks_cache: Any = None
    # RFC 9449 section 8: the key DPoP nonces are made with (one per provider; nonces are stateless).
    dpop_nonce_key: bytes = field(default_factory=lambda: os.urandom(32), repr=False)

    def now(self) -> float:
        return self.clock.now()

    def issuer(self, origin: str) -> str:
        """The issuer: fixed by options, or the origin the request arrived at (as in the seed)."""
        return self.options.issuer or origin

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
