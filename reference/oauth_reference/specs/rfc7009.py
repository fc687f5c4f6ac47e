"""RFC 7009: OAuth 2.0 Token Revocation.

https://www.rfc-editor.org/rfc/rfc7009

Served at the token endpoint, as the seed does: a POST with ``token`` and no ``grant_type``.
The client is authenticated first (RFC7009-2.1-CLIENT-AUTH). Revoking an access token ends that
token; revoking a refresh token ends the whole grant with its access tokens
(RFC7009-2.1-CASCADE). Unknown tokens and tokens of other clients get the same empty 200 and
nothing is revoked (RFC7009-2.2-INVALID-200, RFC7009-2.1-OWNERSHIP).
"""

from __future__ import annotations

from oauth_reference.core import Core
from oauth_reference.machinery import crypto
from oauth_reference.machinery import grants
from oauth_reference.machinery import records
from oauth_reference.machinery.asgi import Response
from oauth_reference.machinery.records import AccessToken
from oauth_reference.machinery.records import ClientInfo
from oauth_reference.machinery.storage import Delete
from oauth_reference.specs.oauth21.forms import FormParams


async def revoke(core: Core, client: ClientInfo, form: FormParams) -> Response:
    token = form.get("token") or ""
    ids = grants.split_token(token)
    if ids is not None:
        user_id, grant_id = ids
        token_id = crypto.sha256_hex(token)
        # RFC7009-2.1-HINT-FALLBACK: the hint orders the search; both kinds are always tried.
        # Any other hint, unknown ones too, is treated as no hint (RFC7009-2.2-BAD-HINT).
        if form.get("token_type_hint") == "refresh_token":
            done = await _revoke_refresh(core, client, user_id, grant_id, token_id)
            if not done:
                await _revoke_access(core, client, user_id, grant_id, token_id)
        elif not await _revoke_access(core, client, user_id, grant_id, token_id):
            await _revoke_refresh(core, client, user_id, grant_id, token_id)
    return Response(200, b"", [(b"cache-control", b"no-store")])  # RFC7009-2.2-INVALID-200


async def _revoke_access(core: Core, client: ClientInfo, user_id: str, grant_id: str, token_id: str) -> bool:
    key = records.token_key(user_id, grant_id, token_id)
    entry = await core.storage.get(key)
    if entry is None:
        return False
    record = records.load(AccessToken, entry.value)
    if record.client_id != client.client_id:  # RFC7009-2.1-OWNERSHIP
        return True  # found, but not this client's: nothing to do, same answer
    # RFC7009-2-ACCESS, RFC7009-2.1-IMMEDIATE, ROBUST-STATE-REVOKED-ACCESS
    await core.storage.commit([Delete(key)])
    core.props_cache.drop(token_id)
    return True


async def _revoke_refresh(core: Core, client: ClientInfo, user_id: str, grant_id: str, token_id: str) -> bool:
    found = await grants.load(core.storage, user_id, grant_id)
    if found is None:
        return False
    grant, _ = found
    known = [grant.refresh_token_id, grant.previous_refresh_token_id]
    if not any(k is not None and crypto.equal(token_id, k) for k in known):
        return False
    if grant.client_id == client.client_id:  # RFC7009-2.1-OWNERSHIP
        # RFC7009-2-REFRESH, RFC7009-2.1-CASCADE, RFC7009-2.1-IMMEDIATE, ROBUST-STATE-REVOKED,
        # ROBUST-STATE-REVOKED-ACCESS
        await grants.revoke(core.storage, user_id, grant_id, cache=core.props_cache)
    return True
