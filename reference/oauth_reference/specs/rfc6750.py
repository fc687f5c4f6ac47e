"""RFC 6750: Bearer Token Usage, on the API routes the provider guards.

https://www.rfc-editor.org/rfc/rfc6750

Tokens are read from the ``Authorization`` header only (OAuth 2.1 section 5.1 drops the query
form). A request without a token gets a bare ``Bearer`` challenge naming the resource metadata
(RFC 9728 section 5.1); a bad, expired, revoked or foreign-audience token gets
``error="invalid_token"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from oauth_reference.core import Core
from oauth_reference.errors import InvalidTokenError
from oauth_reference.errors import OAuthError
from oauth_reference.machinery import crypto
from oauth_reference.machinery import grants
from oauth_reference.machinery import records
from oauth_reference.machinery.records import AccessToken
from oauth_reference.specs import rfc9728
from oauth_reference.specs.rfc8707 import covers

# RFC6750-2.1-HEADER, RFC6750-2.1-SCHEME-CASE: the Bearer scheme, in any case.
_BEARER = re.compile(r"^[Bb][Ee][Aa][Rr][Ee][Rr][ \t]+([^\s,]+)[ \t]*$")


@dataclass(frozen=True, slots=True)
class ApiContext:
    """What an API handler learns about the request's access token (``oauth_reference.api_context``).

    ``audience`` lists the resources the token is bound to (``None``: bound to none). For a token
    ``resolve_external_token`` accepted, ``external`` is true, ``grant_id`` is ``None``, and
    ``client_id``, ``user_id`` and ``expires_at`` are what the resolver said (``None`` if nothing).
    """

    props: Any
    scope: list[str]
    client_id: str | None
    user_id: str | None
    grant_id: str | None
    expires_at: float | None
    audience: list[str] | None
    external: bool = False


class MissingToken(Exception):
    """No bearer credentials at all."""


class ForeignToken(InvalidTokenError):
    """A bearer token not in this provider's shape: perhaps one ``resolve_external_token`` knows."""


def extract(authorization: str | None) -> str:
    # MCP-TOKEN-QUERY: only the Authorization header is read; a token in the query is ignored.
    if authorization is None:
        raise MissingToken
    match = _BEARER.match(authorization)
    if match is None:
        if authorization[:7].lower() == "bearer ":
            raise InvalidTokenError("malformed bearer token")
        raise MissingToken
    return match.group(1)


def challenge(core: Core, issuer: str, error: OAuthError | None = None, *, url: str | None = None) -> str:
    """The Bearer challenge; ``resource_metadata`` names the metadata of the requested ``url``
    when it is a resource (RFC9728-3.3-CHALLENGE-MATCH), else the configured resource's."""
    metadata_url = rfc9728.challenge_metadata_url(core, issuer, url) if url else core.resource_metadata_url(issuer)
    # RFC6750-3-CHALLENGE, RFC6750-3-ATTRIBUTES-ONCE (each attribute at most once),
    # RFC9728-5.1-METADATA-URL, MCP-PRM-DISCOVERY
    parts = [f'Bearer realm="OAuth", resource_metadata="{metadata_url}"']
    # MCP-PRM-SCOPE: the scopes the resource publishes as scopes_supported (with the same
    # fallback to the provider's scopes_supported as the metadata document, rfc9728.metadata).
    rm = core.options.resource_metadata
    scopes = rm.scopes_supported if rm.scopes_supported is not None else core.options.scopes_supported
    needed = getattr(error, "scope", None)  # RFC 6750 section 3.1: insufficient_scope names what is needed
    if needed:
        scopes = needed
    if scopes:
        parts.append(f'scope="{" ".join(scopes)}"')
    if error is not None:  # RFC6750-3.1-NO-ERROR-ANON: no error without a token
        parts.append(f'error="{error.error}"')  # RFC6750-3.1-INVALID-TOKEN
        if error.description:
            # RFC6750-3-ATTRIBUTE-CHARS: the description is already within the allowed characters
            parts.append(f'error_description="{error.description.replace(chr(34), chr(39))}"')
    return ", ".join(parts)


async def check(core: Core, token: str, url: str, *, dpop_jkt: str | None = None) -> ApiContext:
    """Validate an access token for a request to ``url``; raises ``InvalidTokenError``.

    ``dpop_jkt`` is the key of the request's checked DPoP proof when the token came with the DPoP
    scheme (RFC 9449 section 7.1), None when it came as a bearer token.
    """
    ids = grants.split_token(token)
    if ids is None:
        raise ForeignToken("invalid access token")
    user_id, grant_id = ids
    token_id = crypto.sha256_hex(token)
    cache = core.props_cache
    # The record is read on every check, cached props or not: a token revoked or rotated away
    # by any process sharing the store is refused on the very next request.
    entry = await core.storage.get(records.token_key(user_id, grant_id, token_id))
    if entry is None:  # MCP-TOKEN-OWN-ONLY: only tokens this server issued (and not revoked) exist
        cache.drop(token_id)
        raise InvalidTokenError("invalid access token")
    now = core.now()
    cached = cache.get(token_id, entry.value, now)  # only for these very stored bytes
    record, props = cached if cached is not None else (records.load(AccessToken, entry.value), None)
    if record.expires_at <= now:  # RFC6750-5.2-LIFETIME
        cache.drop(token_id)
        raise InvalidTokenError("the access token has expired")
    if record.jkt is not None and dpop_jkt is None:  # RFC9449-7.2-NO-DOWNGRADE
        raise InvalidTokenError("the access token is DPoP-bound: present it with the DPoP scheme and a proof")
    if dpop_jkt is not None and (record.jkt is None or not crypto.equal(record.jkt, dpop_jkt)):
        raise InvalidTokenError("the DPoP proof was not made with the key the access token is bound to")
    # RFC8707-2-AUDIENCE, RFC6750-5.3-AUDIENCE, ROBUST-STATE-AUDIENCE: a token bound to resources
    # works under them only; one bound to none (its requests named no resource) on every API route.
    if not audience_covers(record.audience, url):
        raise InvalidTokenError("the access token is not for this resource")
    if props is None:
        key = crypto.unwrap_key(record.wrapped_key, token)
        props = crypto.decrypt_props_json(record.encrypted_props, key)
        cache.put(token_id, f"{user_id}:{grant_id}", entry.value, record, props)
    return ApiContext(
        # Fresh objects each time: a handler's changes stay its own (the cached record is shared).
        props=orjson.loads(props),
        scope=list(record.scope),
        client_id=record.client_id,
        user_id=record.user_id,
        grant_id=record.grant_id,
        expires_at=record.expires_at,
        audience=list(record.audience) if record.audience is not None else None,
    )


def audience_covers(audience: list[str] | None, url: str) -> bool:
    """Whether a token bound to ``audience`` may be used at ``url``."""
    return audience is None or any(covers(a, url) for a in audience)
