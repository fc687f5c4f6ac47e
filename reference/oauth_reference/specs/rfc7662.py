"""RFC 7662: OAuth 2.0 Token Introspection.

https://www.rfc-editor.org/rfc/rfc7662

Served at ``introspection_endpoint`` (off by default). The caller authenticates as a confidential
client, with any of the token endpoint's methods (RFC7662-2.1-AUTHZ): an unauthenticated or
public caller gets 401 ``invalid_client`` and learns nothing (RFC7662-2.3-401). A client may
introspect the tokens issued to it; every other token, and every token that is unknown,
malformed, expired or revoked, is ``{"active": false}`` and nothing more (RFC7662-2.2-INACTIVE,
RFC7662-2.2-INACTIVE-NO-INFO, RFC7662-2.3-NOT-AN-ERROR). Access tokens and refresh tokens are
both looked for, the hint only choosing the order (RFC7662-2.1-HINT-FALLBACK).
"""

from __future__ import annotations

from typing import Any

from oauth_reference.core import Core
from oauth_reference.errors import InvalidClientError
from oauth_reference.errors import InvalidRequestError
from oauth_reference.machinery import crypto
from oauth_reference.machinery import grants
from oauth_reference.machinery import records
from oauth_reference.machinery.asgi import MethodNotAllowedError
from oauth_reference.machinery.asgi import Request
from oauth_reference.machinery.asgi import Response
from oauth_reference.machinery.asgi import json_response
from oauth_reference.machinery.records import AccessToken
from oauth_reference.machinery.records import ClientInfo
from oauth_reference.options import TOKEN_BODY_LIMIT
from oauth_reference.specs.oauth21 import client_auth
from oauth_reference.specs.oauth21.forms import parse_form
from oauth_reference.specs.rfc8707 import as_claim

INACTIVE: dict[str, Any] = {"active": False}


async def introspect(core: Core, request: Request, issuer: str) -> Response:
    if request.method != "POST":  # the token travels in the body only (RFC 7662 section 4)
        raise MethodNotAllowedError("POST, OPTIONS")
    if request.media_type() != "application/x-www-form-urlencoded":
        raise InvalidRequestError("Content-Type must be application/x-www-form-urlencoded")
    form = parse_form(await request.body(TOKEN_BODY_LIMIT))
    client = await client_auth.authenticate(core, request, form)  # RFC7662-2.1-AUTHZ, RFC7662-2.3-401
    if client.is_public:  # RFC7662-2.1-AUTHZ: a client_id alone authorizes nothing
        raise InvalidClientError("introspection needs client authentication")
    token = form.get("token")
    if token is None:
        raise InvalidRequestError("token is required")
    # RFC7662-2.1-HINT-FALLBACK: both kinds are always looked for; the hint orders the search.
    lookups = [_access_token, _refresh_token]
    if form.get("token_type_hint") == "refresh_token":
        lookups.reverse()
    for lookup in lookups:
        found = await lookup(core, client, token, issuer)
        if found is not None:
            return json_response(found, no_store=True)
    return json_response(INACTIVE, no_store=True)  # RFC7662-2.2-INACTIVE, RFC7662-2.3-NOT-AN-ERROR


async def _access_token(core: Core, client: ClientInfo, token: str, issuer: str) -> dict[str, Any] | None:
    ids = grants.split_token(token)
    if ids is None:
        return None
    entry = await core.storage.get(records.token_key(*ids, crypto.sha256_hex(token)))
    if entry is None:  # RFC7662-4-REVOKED: a revoked token is gone from the store
        return None
    record = records.load(AccessToken, entry.value)
    if record.expires_at <= core.now() or record.client_id != client.client_id:  # RFC7662-4-EXPIRED
        return None
    info: dict[str, Any] = {
        "active": True,  # RFC7662-2.2-ACTIVE
        "scope": " ".join(record.scope),
        "client_id": record.client_id,
        "token_type": "DPoP" if record.jkt else "Bearer",  # RFC9449-6.2-INTROSPECTION
        "exp": int(record.expires_at),
        "iat": record.created_at,
        "sub": record.user_id,
        "iss": issuer,
    }
    if record.audience:  # RFC 7662 section 2.2: one audience as a string, several as an array
        info["aud"] = as_claim(record.audience)
    if record.jkt is not None:  # RFC 9449 section 6.2: the key the token is bound to
        info["cnf"] = {"jkt": record.jkt}
    return info


async def _refresh_token(core: Core, client: ClientInfo, token: str, issuer: str) -> dict[str, Any] | None:
    ids = grants.split_token(token)
    if ids is None:
        return None
    found = await grants.load(core.storage, *ids)
    if found is None:
        return None
    grant = found[0]
    current = grant.refresh_token_id
    if current is None or not crypto.equal(crypto.sha256_hex(token), current) or grant.client_id != client.client_id:
        return None
    if grant.expires_at is not None and grant.expires_at <= core.now():
        return None
    info: dict[str, Any] = {
        "active": True,
        "scope": " ".join(grant.scope),
        "client_id": grant.client_id,
        "sub": grant.user_id,
        "iss": issuer,
        "iat": grant.created_at,
    }
    if grant.expires_at is not None:
        info["exp"] = int(grant.expires_at)
    if grant.refresh_jkt is not None:
        info["cnf"] = {"jkt": grant.refresh_jkt}
    return info
