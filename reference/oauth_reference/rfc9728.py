"""RFC 9728: OAuth 2.0 Protected Resource Metadata.

https://www.rfc-editor.org/rfc/rfc9728
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from .core import Core

WELL_KNOWN = "/.well-known/oauth-protected-resource"


def metadata_path(core: Core, issuer: str) -> str:
    return urlsplit(core.resource_metadata_url(issuer)).path


def metadata(core: Core, issuer: str) -> dict[str, Any]:
    rm = core.options.resource_metadata
    doc: dict[str, Any] = {
        "resource": core.resource(issuer),
        "authorization_servers": list(rm.authorization_servers or [issuer]),
    }
    scopes = rm.scopes_supported if rm.scopes_supported is not None else core.options.scopes_supported
    if scopes:
        doc["scopes_supported"] = list(scopes)
    doc["bearer_methods_supported"] = list(rm.bearer_methods_supported)
    if rm.resource_name:
        doc["resource_name"] = rm.resource_name
    return doc
