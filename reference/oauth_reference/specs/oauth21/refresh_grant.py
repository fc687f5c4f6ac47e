"""The refresh token grant (OAuth 2.1 section 4.3) with rotation and reuse detection.

Each refresh issues a new refresh token and retires the presented one (section 4.3.1). A retired
token presented again means it leaked: the grant and all its tokens are revoked
(OAUTH21-4.3.1-RT-REUSE). A request that loses a race to a concurrent refresh with the same token
is refused without revoking, so concurrent retries yield one live token family.

With ``refresh_token_grace`` (the seed library's behaviour, a documented deviation) the previous
token stays usable until its successor is first used.
"""

from __future__ import annotations

from typing import Any

from oauth_reference import callbacks
from oauth_reference.errors import InvalidGrantError
from oauth_reference.errors import InvalidRequestError
from oauth_reference.machinery import crypto
from oauth_reference.machinery import grants
from oauth_reference.machinery import records
from oauth_reference.specs.oauth21.scopes import narrow
from oauth_reference.specs.oauth21.scopes import parse_scope
from oauth_reference.specs.oauth21.token_request import RETIRED_KEEP
from oauth_reference.specs.oauth21.token_request import TokenRequest
from oauth_reference.specs.oauth21.token_request import resolve_resource
from oauth_reference.specs.oauth21.token_request import token_response


def _retire(grant_ids: list[str], *ids: str | None) -> list[str]:
    kept = [*grant_ids, *(i for i in ids if i)]
    return kept[-RETIRED_KEEP:]


async def refresh(request: TokenRequest) -> dict[str, Any]:
    core, form, client = request.core, request.form, request.client
    presented = form.get("refresh_token")
    if presented is None:
        raise InvalidRequestError("refresh_token is required")
    ids = grants.split_token(presented)
    if ids is None:
        raise InvalidGrantError("invalid refresh token")
    user_id, grant_id = ids
    presented_id = crypto.sha256_hex(presented)
    grace = core.options.refresh_token_grace
    for attempt in range(4):
        found = await grants.load(core.storage, user_id, grant_id)
        if found is None:  # OAUTH21-4.3.1-GRANT-ACTIVE: a revoked grant is gone with its tokens
            raise InvalidGrantError("invalid refresh token")
        grant, version = found
        if grant.client_id != client.client_id:
            raise InvalidGrantError("the refresh token was issued to another client")  # OAUTH21-4.3-RT-CLIENT-BIND
        now = core.now()
        if grant.expires_at is not None and grant.expires_at <= now:  # OAUTH21-4.3.1-GRANT-ACTIVE
            raise InvalidGrantError("the refresh token has expired")
        current = grant.refresh_token_id
        previous = grant.previous_refresh_token_id
        if current is not None and crypto.equal(presented_id, current):
            wrapped = grant.refresh_token_wrapped_key
            retire = [previous] if grace else [presented_id]  # OAUTH21-4.3.1-RT-SUPERSEDED
        elif grace and previous is not None and crypto.equal(presented_id, previous):
            wrapped = grant.previous_refresh_token_wrapped_key
            retire = [current]  # its successor was never used; it dies now
        elif presented_id in grant.retired_refresh_token_ids or (previous and crypto.equal(presented_id, previous)):
            # OAUTH21-4.3.1-RT-REUSE: a retired token presented again revokes the whole grant.
            if attempt:
                raise InvalidGrantError("the refresh token was already used")  # lost a concurrent race
            await grants.revoke(core.storage, user_id, grant_id, cache=core.props_cache)
            raise InvalidGrantError("the refresh token was already used; the grant is revoked")
        else:
            raise InvalidGrantError("invalid refresh token")  # OAUTH21-4.3-RT-INTEGRITY: no hash matches
        assert wrapped is not None
        # RFC9449-5-RT-BOUND: a bound refresh token is used only with a proof made with its key.
        if grant.refresh_jkt is not None and (request.proof is None or request.proof.jkt != grant.refresh_jkt):
            raise InvalidGrantError("the refresh token is bound to a DPoP key: present a proof made with it")

        resource = resolve_resource(request, grant)
        requested = parse_scope(form.get("scope"))
        # OAUTH21-4.3.1-RT-SCOPE, ROBUST-STATE-SCOPE: narrowing is relative to the original grant,
        # never wider; the grant keeps its scope for the next refresh (OAUTH21-4.3.3-RT-SAME-SCOPE).
        scope = narrow(requested, grant.scope) if requested else list(grant.scope)
        issued = await callbacks.issuance(
            core,
            grant,
            grant_type="refresh_token",
            client_id=client.client_id,
            props_key=crypto.unwrap_key(wrapped, presented),
            scope=scope,
            refresh_ttl=None,  # a refresh never changes the grant's lifetime
        )
        props_key, scope, access_ttl = issued.props_key, issued.scope, issued.access_ttl

        successor = grants.new_token(user_id, grant_id)  # OAUTH21-4.3.1-RT-ROTATE, MCP-SEC-RT-ROTATION
        # OAUTH21-4.3.1-RT-SUPERSEDED, ROBUST-STATE-RT-SUPERSEDED: the presented token is retired
        grant.retired_refresh_token_ids = _retire(grant.retired_refresh_token_ids, *retire)
        if grace:
            grant.previous_refresh_token_id = presented_id
            grant.previous_refresh_token_wrapped_key = crypto.wrap_key(props_key, presented)
        else:
            grant.previous_refresh_token_id = grant.previous_refresh_token_wrapped_key = None
        grant.refresh_token_id = crypto.sha256_hex(successor)
        grant.refresh_token_wrapped_key = crypto.wrap_key(props_key, successor)
        ttl = grants.token_lifetime(access_ttl, grant, now)
        minted = grants.mint_access_token(
            grant,
            client_id=client.client_id,
            props_key=issued.token_props_key,
            encrypted_props=issued.token_props,
            scope=scope,
            audience=resource,
            now=now,
            ttl=ttl,
            jkt=request.bind_jkt,
        )
        key = records.grant_key(user_id, grant_id)
        # ROBUST-HOSTILE-CONCURRENT-REFRESH: a conditional commit on the grant's version, so of
        # simultaneous refreshes with one token only one rotates it; the others read again and lose.
        if await core.storage.commit([*grants.grant_writes(grant), minted.write], expect={key: version}):
            return token_response(minted.token, ttl, scope, successor, resource, dpop=request.bind_jkt is not None)
    raise InvalidGrantError("the refresh token could not be used; try again")
