"""The authorization code grant at the token endpoint (OAuth 2.1 section 4.1.3).

The code is bound to its client, redirect URI and PKCE challenge, lives 10 minutes, and is
exchanged once: the exchange is one conditional commit on the grant's version, so of two
concurrent exchanges exactly one writes tokens (OAUTH21-4.1.3-CODE-ONCE). A code presented
again after its exchange, in an otherwise valid request, revokes the grant and everything minted
from it; a replay with a wrong verifier is only refused (OAUTH21-7.5.3-NO-DOS-REVOKE).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oauth_reference import callbacks
from oauth_reference.errors import InvalidGrantError
from oauth_reference.errors import InvalidRequestError
from oauth_reference.machinery import crypto
from oauth_reference.machinery import grants
from oauth_reference.machinery import records
from oauth_reference.specs import rfc7636
from oauth_reference.specs.oauth21.scopes import narrow
from oauth_reference.specs.oauth21.scopes import parse_scope
from oauth_reference.specs.oauth21.token_request import TokenRequest
from oauth_reference.specs.oauth21.token_request import resolve_resource
from oauth_reference.specs.oauth21.token_request import token_response


async def exchange(request: TokenRequest) -> dict[str, Any]:
    core, form, client = request.core, request.form, request.client
    code = form.get("code")
    if code is None:
        raise InvalidRequestError("code is required")
    ids = grants.split_token(code)
    if ids is None:
        raise InvalidGrantError("invalid authorization code")
    user_id, grant_id = ids
    verify = core.faults.wrap("pkce-verify", rfc7636.verify)
    for _ in range(4):
        found = await grants.load(core.storage, user_id, grant_id)
        if found is None:
            raise InvalidGrantError("invalid or expired authorization code")
        grant, version = found
        if grant.auth_code_id is None or not crypto.equal(crypto.sha256_hex(code), grant.auth_code_id):
            raise InvalidGrantError("invalid authorization code")
        if grant.client_id != client.client_id:
            raise InvalidGrantError("the authorization code was issued to another client")  # OAUTH21-4.1.3-CLIENT-BIND
        if grant.code_used:
            # OAUTH21-4.1.3-CODE-ONCE: refuse, and revoke what the first exchange issued, but only
            # for a replay that is itself valid (OAUTH21-7.5.3-NO-DOS-REVOKE): whoever holds a leaked
            # code without its verifier must not be able to end the client's session.
            if not _valid_replay(grant, form.get("code_verifier"), form.get("redirect_uri"), verify):
                raise InvalidGrantError("the authorization code was already used")
            # OAUTH21-4.1.3-REVOKE-ON-REUSE
            await grants.revoke(core.storage, user_id, grant_id, cache=core.props_cache)
            raise InvalidGrantError("the authorization code was already used; its tokens are revoked")
        now = core.now()
        if grant.code_expires_at is None or grant.code_expires_at <= now:
            raise InvalidGrantError("the authorization code has expired")  # OAUTH21-4.1.2-CODE-TTL
        redirect_uri = form.get("redirect_uri")
        if redirect_uri is not None and redirect_uri != grant.redirect_uri:  # OAUTH21-10.2-REDIRECT-URI
            raise InvalidGrantError("redirect_uri differs from the authorization request")
        verifier = form.get("code_verifier")
        if grant.code_challenge is not None:
            if verifier is None and not core.faults.on("code-verifier-optional"):
                raise InvalidGrantError("code_verifier is required")  # OAUTH21-4.1.3-VERIFIER-REQUIRED
            # RFC7636-4.4-BIND, RFC7636-4.5-METHOD-BOUND: this code's challenge, with the method bound to it
            method = grant.code_challenge_method or "plain"
            if verifier is not None and not verify(verifier, grant.code_challenge, method):
                raise InvalidGrantError("code_verifier does not match the code_challenge")  # RFC7636-4.6-S256-VERIFY
        else:
            if verifier is not None:  # OAUTH21-4.1.3-PKCE-DOWNGRADE
                raise InvalidGrantError("code_verifier sent for a code issued without a code_challenge")
            if redirect_uri is None:
                raise InvalidRequestError("redirect_uri is required when PKCE was not used")
        # RFC9449-10-DPOP-JKT, RFC9449-10.1-PAR: a code bound to a key is redeemed with a proof of that key.
        if grant.dpop_jkt is not None and (request.proof is None or request.proof.jkt != grant.dpop_jkt):
            raise InvalidGrantError("the authorization code is bound to another DPoP key")
        resource = resolve_resource(request, grant)
        requested = parse_scope(form.get("scope"))
        scope = narrow(requested, grant.scope) if requested else list(grant.scope)

        assert grant.auth_code_wrapped_key is not None
        issued = await callbacks.issuance(
            core,
            grant,
            grant_type="authorization_code",
            client_id=client.client_id,
            props_key=crypto.unwrap_key(grant.auth_code_wrapped_key, code),
            scope=scope,
            refresh_ttl=core.options.refresh_token_ttl,
        )
        scope, access_ttl, refresh_ttl = issued.scope, issued.access_ttl, issued.refresh_ttl

        refresh_token = None
        # The code is used; its hash and challenge stay to recognise (and judge) a replay.
        grant.auth_code_wrapped_key = None
        if refresh_ttl == 0:
            grant.expires_at = now + access_ttl
        else:
            grant.expires_at = None if refresh_ttl is None else now + refresh_ttl
            refresh_token = grants.new_token(user_id, grant_id)
            if client.is_public:  # RFC9449-5-RT-BOUND: a public client's refresh token is bound to its key
                grant.refresh_jkt = request.bind_jkt
            grant.refresh_token_id = crypto.sha256_hex(refresh_token)
            grant.refresh_token_wrapped_key = crypto.wrap_key(issued.props_key, refresh_token)
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
        # OAUTH21-4.1.3-CODE-ONCE, ROBUST-STATE-CODE-ONCE, ROBUST-HOSTILE-CONCURRENT-CODE: one
        # conditional commit on the grant's version, so at most one exchange writes tokens.
        if await core.storage.commit([*grants.grant_writes(grant), minted.write], expect={key: version}):
            return token_response(minted.token, ttl, scope, refresh_token, resource, dpop=request.bind_jkt is not None)
        # Someone else changed the grant since we read it. If they exchanged the code, this
        # request lost the race: refuse it without revoking (the code was unused when we read).
        again = await grants.load(core.storage, user_id, grant_id)
        if again is None or again[0].code_used:
            raise InvalidGrantError("the authorization code was already used")
    raise InvalidGrantError("the authorization code could not be exchanged; try again")


def _valid_replay(
    grant: records.Grant, verifier: str | None, redirect_uri: str | None, verify: Callable[[str, str, str], bool]
) -> bool:
    """Would this second exchange of a used code have been valid (verifier, redirect URI)?"""
    if redirect_uri is not None and redirect_uri != grant.redirect_uri:
        return False
    if grant.code_challenge is None:
        return verifier is None
    return verifier is not None and verify(verifier, grant.code_challenge, grant.code_challenge_method or "plain")
