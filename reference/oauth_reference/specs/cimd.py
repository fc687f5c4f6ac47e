"""OAuth Client ID Metadata Documents (``client_id_metadata_document_enabled``).

draft-ietf-oauth-client-id-metadata-document-01: a ``client_id`` that is an https URL names a
JSON document describing the client. The URL must be https with a host and a path, without
fragment, user information or dot segments; it is checked before anything is fetched. The
document is fetched under :mod:`oauth_reference.machinery.fetch`'s rules (SSRF-safe, no redirects, at most
5,120 bytes, a timeout), only a 200 counts, its ``client_id`` must equal the URL exactly, its
redirect URIs and authentication method are validated (never a shared secret), and a valid
document is cached for as long as its ``Cache-Control`` allows (at most a day). Errors and
invalid documents are never cached.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote
from urllib.parse import urlsplit

import orjson

from oauth_reference.core import Core
from oauth_reference.errors import CimdError
from oauth_reference.machinery.fetch import FetchError
from oauth_reference.machinery.fetch import cache_lifetime
from oauth_reference.machinery.fetch import fetch
from oauth_reference.machinery.jose import public_jwks_problem
from oauth_reference.machinery.records import ClientInfo
from oauth_reference.options import ProviderOptions
from oauth_reference.specs.oauth21.redirect_uris import http_url_problem
from oauth_reference.specs.oauth21.redirect_uris import redirect_uri_problem

log = logging.getLogger("oauth_reference")
DOCUMENT_LIMIT = 5120  # CIMD-6.6-MAX-SIZE
CACHE_CAP = 86_400.0
_SYMMETRIC = ("client_secret_basic", "client_secret_post", "client_secret_jwt")


@dataclass(slots=True)
class _CachedDocument:
    client: ClientInfo
    until: float


def is_document_id(client_id: str) -> bool:
    return client_id.startswith("https://")


def client_id_problem(client_id: str) -> str | None:
    """Why ``client_id`` is not a usable document URL (checked before fetching), or ``None``."""
    # CIMD-3-URL-RULES
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F or ch == "\\" for ch in client_id):
        return "the client_id URL contains spaces, control characters or backslashes"
    try:
        parts = urlsplit(client_id)
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        return "the client_id is not a valid URL"
    if parts.scheme != "https" or not parts.hostname:
        return "the client_id URL must be https with a host"
    if "#" in client_id:
        return "the client_id URL must not have a fragment"
    if "@" in parts.netloc:
        return "the client_id URL must not contain user information"
    if not parts.path or parts.path == "/":
        return "the client_id URL must have a path"
    segments = [unquote(s) for s in parts.path.split("/")]
    if any(s in (".", "..") for s in segments) or re.search(r"/\.{1,2}(/|$)", parts.path):
        return "the client_id URL must not contain . or .. segments"
    return None


def document_client(doc: Any, url: str, options: ProviderOptions) -> ClientInfo:
    """Validate a metadata document and build the client it describes."""
    if not isinstance(doc, dict):  # CIMD-4.1-JSON
        raise CimdError("the document is not a JSON object")
    if doc.get("client_id") != url:  # CIMD-4.1-CLIENT-ID-MATCH, CIMD-4.1-JSON (client_id required)
        raise CimdError("the document's client_id is not the URL it was fetched from")
    if "client_secret" in doc or "client_secret_expires_at" in doc:  # CIMD-4.1-NO-SYMMETRIC
        raise CimdError("a metadata document must not carry a client secret")
    name = doc.get("client_name")
    if not isinstance(name, str) or not name.strip():
        raise CimdError("the document needs a client_name")
    uris = doc.get("redirect_uris")
    if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
        raise CimdError("the document needs redirect_uris, a non-empty array of strings")
    for uri in uris:
        problem = redirect_uri_problem(uri)
        if problem:
            raise CimdError(f"redirect URI rejected: {problem}")
    method = doc.get("token_endpoint_auth_method", "none")
    if method in _SYMMETRIC:  # CIMD-4.1-NO-SYMMETRIC
        raise CimdError("a metadata document cannot use a shared-secret authentication method")
    if method not in ("none", "private_key_jwt"):
        raise CimdError(f"unsupported token_endpoint_auth_method {str(method)[:40]!r}")
    jwks, jwks_uri = doc.get("jwks"), doc.get("jwks_uri")
    if jwks is not None and jwks_uri is not None:
        raise CimdError("jwks and jwks_uri must not both be present")
    if jwks is not None and public_jwks_problem(jwks):
        raise CimdError(f"jwks rejected: {public_jwks_problem(jwks)}")
    if jwks_uri is not None and (not isinstance(jwks_uri, str) or not jwks_uri.startswith("https://")):
        raise CimdError("jwks_uri must be an https URL")
    if method == "private_key_jwt" and jwks is None and jwks_uri is None:  # CIMD-6.2-PKJWT
        raise CimdError("private_key_jwt needs jwks or jwks_uri")
    fields: dict[str, Any] = {}
    for member in ("client_uri", "logo_uri", "policy_uri", "tos_uri"):
        value = doc.get(member)
        if value is not None:
            if not isinstance(value, str) or http_url_problem(value):
                raise CimdError(f"{member} must be an http(s) URL")
            fields[member] = value
    grants = doc.get("grant_types", ["authorization_code"])
    if not isinstance(grants, list) or "authorization_code" not in grants:
        raise CimdError("the document's grant_types must include authorization_code")
    kept = ["authorization_code"] + (
        ["refresh_token"] if "refresh_token" in grants and options.refresh_tokens_enabled else []
    )
    responses = doc.get("response_types", ["code"])
    if not isinstance(responses, list) or "code" not in responses:
        raise CimdError("the document's response_types must include code")
    return ClientInfo(
        client_id=url,
        redirect_uris=list(uris),
        token_endpoint_auth_method=method,
        grant_types=kept,
        response_types=["code"],
        client_name=name,
        jwks=jwks,
        jwks_uri=jwks_uri,
        scope=doc.get("scope") if isinstance(doc.get("scope"), str) else None,
        auth_method_explicit=True,
        metadata_document=True,
        **fields,
    )


async def resolve(core: Core, client_id: str) -> ClientInfo:
    problem = client_id_problem(client_id)
    if problem and not core.faults.on("cimd-url-rules-unchecked"):  # CIMD-3-URL-RULES: refused, never fetched
        raise CimdError(problem)
    now = core.now()
    cached = core.cimd_cache.get(client_id)
    if cached is not None and cached.until > now:
        return cached.client  # type: ignore[no-any-return]
    policy = core.fetch_policy()
    try:  # CIMD-4-FETCH; a failed or too slow fetch aborts the request (CIMD-4.3-FETCH-FAIL)
        fetched = await core.faults.wrap("cimd-fetch", fetch)(client_id, limit=DOCUMENT_LIMIT, policy=policy)
    except FetchError as exc:
        # An operator needs to see a client's host failing (the user sees only an error page).
        log.warning("Client ID metadata document %s could not be fetched: %s", client_id[:200], exc.reason)
        raise CimdError(exc.reason) from None
    if fetched.status != 200:  # CIMD-4-ONLY-200
        raise CimdError(f"the document URL answered HTTP {fetched.status} (only 200 counts)")
    try:
        doc = orjson.loads(fetched.body)
    except orjson.JSONDecodeError:  # CIMD-4.1-JSON
        raise CimdError("the document is not valid JSON") from None
    client = document_client(doc, client_id, core.options)
    # Only a valid document is cached (CIMD-4.4-NO-ERROR-CACHE), as its headers allow (CIMD-4.4-HTTP-CACHE).
    lifetime = cache_lifetime(fetched.headers, CACHE_CAP)
    if lifetime > 0:
        core.cimd_cache[client_id] = _CachedDocument(client, now + lifetime)
    else:
        core.cimd_cache.pop(client_id, None)
    return client
