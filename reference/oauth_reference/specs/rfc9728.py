"""RFC 9728: OAuth 2.0 Protected Resource Metadata.

https://www.rfc-editor.org/rfc/rfc9728

The configured resource's metadata is served at its well-known URL. So is the metadata of every
URL below it, naming that URL as its resource: a 401 on ``/api/whoami`` points to the metadata
of ``/api/whoami``, because RFC 9728 section 3.3 has a client that found the metadata through a
challenge accept only a resource identical to the URL it requested (RFC9728-3.3-CHALLENGE-MATCH).
The seed library points every descendant to the configured resource's metadata instead; a
strict client then cannot use it. Tokens for the configured resource work on every URL below it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from oauth_reference.core import Core
from oauth_reference.specs.rfc8707 import canonical
from oauth_reference.specs.rfc8707 import within

WELL_KNOWN = "/.well-known/oauth-protected-resource"


def metadata_path(core: Core, issuer: str) -> str:
    return urlsplit(core.resource_metadata_url(issuer)).path


def resource_at(core: Core, issuer: str, url: str) -> str | None:
    """``url`` as a resource of its own when it lies below the configured resource, else None."""
    configured = core.resource(issuer)
    parts = urlsplit(url)
    # RFC9728-1.2-NO-QUERY: a URL with a query is not a resource of its own
    if parts.query or any(seg in (".", "..") for seg in parts.path.split("/")):
        return None
    candidate = canonical(url)
    return candidate if within(candidate, configured) else None


def served_resource(core: Core, issuer: str, path: str) -> str | None:
    """The resource whose metadata lives at ``path`` (under the well-known prefix), if any.

    RFC9728-3-WELLKNOWN: the well-known path is inserted before the resource's path.
    """
    if path == metadata_path(core, issuer):
        return core.resource(issuer)
    suffix = path[len(WELL_KNOWN) :]
    if not suffix.startswith("/"):
        return None
    origin = urlsplit(core.resource(issuer))
    return resource_at(core, issuer, f"{origin.scheme}://{origin.netloc}{suffix}")


def challenge_metadata_url(core: Core, issuer: str, url: str) -> str:
    """The metadata URL a 401 for a request to ``url`` names: that URL's own when it is a resource.

    RFC9728-3.3-CHALLENGE-MATCH, RFC9728-5.1-METADATA-URL.
    """
    return core.resource_metadata_url(issuer, resource_at(core, issuer, url))


def metadata(core: Core, issuer: str, resource: str | None = None) -> dict[str, Any]:
    rm = core.options.resource_metadata
    doc: dict[str, Any] = {
        "resource": resource or core.resource(issuer),  # RFC9728-3.3-RESOURCE-MATCH, RFC9728-2-RESOURCE
        # MCP-PRM-AS-LIST, RFC9728-2-AS-ISSUERS: at least this server's issuer, verbatim
        "authorization_servers": list(rm.authorization_servers or [issuer]),
    }
    scopes = rm.scopes_supported if rm.scopes_supported is not None else core.options.scopes_supported
    if scopes:  # RFC9728-3.2-NO-EMPTY
        doc["scopes_supported"] = list(scopes)
    doc["bearer_methods_supported"] = list(rm.bearer_methods_supported)
    if rm.resource_name:
        doc["resource_name"] = rm.resource_name
    return doc
