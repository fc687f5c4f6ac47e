"""RFC 8693: OAuth 2.0 Token Exchange (``allow_token_exchange_grant``).

https://www.rfc-editor.org/rfc/rfc8693

The provider exchanges one of its own access tokens for a new access token, never wider than the
subject token: the scope can narrow, the resource cannot change, the lifetime cannot outlast
the subject token's. The new token belongs to the subject token's grant, so it dies with it.
No refresh token is issued. An invalid or unacceptable subject token is ``invalid_request``
(section 2.2.2); an unacceptable resource or audience is ``invalid_target``.
"""

from __future__ import annotations

from typing import Any

from oauth_reference import callbacks
from oauth_reference.core import Core
from oauth_reference.errors import InvalidRequestError
from oauth_reference.errors import InvalidTargetError
from oauth_reference.machinery import crypto
from oauth_reference.machinery import grants
from oauth_reference.machinery import records
from oauth_reference.machinery.records import AccessToken
from oauth_reference.specs.oauth21.scopes import narrow
from oauth_reference.specs.oauth21.scopes import parse_scope
from oauth_reference.specs.oauth21.token_request import TokenRequest
from oauth_reference.specs.rfc8707 import as_claim
from oauth_reference.specs.rfc8707 import canonical
from oauth_reference.specs.rfc8707 import parse_resource
from oauth_reference.specs.rfc8707 import select_resources

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
MIN_LIFETIME = 1


async def exchange(request: TokenRequest) -> dict[str, Any]:  # RFC8693-2.1-GRANT
    form = request.form
    subject_token = form.get("subject_token")
    subject_type = form.get("subject_token_type")
    if subject_token is None or subject_type is None:  # RFC8693-2.1-SUBJECT-REQUIRED
        raise InvalidRequestError("subject_token and subject_token_type are required")
    actor_token, actor_type = form.get("actor_token"), form.get("actor_token_type")
    if (actor_token is None) != (actor_type is None):  # RFC8693-2.1-ACTOR-TYPE
        raise InvalidRequestError("actor_token and actor_token_type go together")
    if actor_token is not None:
        raise InvalidRequestError("delegation with an actor_token is not supported")
    if subject_type != ACCESS_TOKEN_TYPE:  # RFC8693-2.1-TYPE-MISMATCH
        raise InvalidRequestError("only access tokens of this server can be exchanged")
    requested_type = form.get("requested_token_type")
    if requested_type is not None and requested_type != ACCESS_TOKEN_TYPE:
        raise InvalidRequestError("only access tokens can be issued")
    audiences = [form.get("audience")] if form.get("audience") else []
    return await issue(
        request.core,
        subject_token,
        client_id=request.client.client_id,
        issuer=request.issuer,
        scope=parse_scope(form.get("scope")),
        resources=form.get_all("resource") + [a for a in audiences if a],
        expires_in=None,
    )


async def issue(
    core: Core,
    subject_token: str,
    *,
    client_id: str,
    issuer: str,
    scope: list[str],
    resources: list[str],
    expires_in: int | None,
) -> dict[str, Any]:
    # RFC8693-2.1-VALIDATE, RFC8693-2.1-TYPE-MISMATCH: a live access token record of this server (a
    # refresh token has none), its grant still active; else invalid_request (RFC8693-2.2.2-ERROR).
    ids = grants.split_token(subject_token)
    if ids is None:
        raise InvalidRequestError("the subject token is not valid")
    user_id, grant_id = ids
    entry = await core.storage.get(records.token_key(user_id, grant_id, crypto.sha256_hex(subject_token)))
    if entry is None:
        raise InvalidRequestError("the subject token is not valid")
    subject = records.load(AccessToken, entry.value)
    now = core.now()
    remaining = int(subject.expires_at - now)
    if remaining < MIN_LIFETIME:
        raise InvalidRequestError("the subject token has expired")
    found = await grants.load(core.storage, user_id, grant_id)
    if found is None:
        raise InvalidRequestError("the subject token's grant was revoked")
    grant, _ = found
    # RFC 8693 section 2.1 leaves the target to the server: the resource and audience may only
    # name the subject token's own resources, or, for a token bound to none, resources this
    # provider serves (RFC8693-2.1-RESOURCE-URI, RFC8693-2.2.2-INVALID-TARGET).
    audience = _target(core, issuer, subject.audience, resources)
    # Never wider (section 5): RFC8693-5-NO-ESCALATION, for the scope here and the lifetime below.
    new_scope = narrow(scope, subject.scope) if scope else list(subject.scope)
    props_key = crypto.unwrap_key(subject.wrapped_key, subject_token)
    token_props_key, token_props = props_key, subject.encrypted_props
    ttl = min(expires_in or core.options.access_token_ttl, remaining)
    allow_cross_client = False
    if core.options.token_exchange_callback is not None:
        result = await callbacks.run(
            core,
            callbacks.TokenExchangeCallbackOptions(
                grant_type=GRANT_TYPE,
                client_id=client_id,
                user_id=user_id,
                grant_id=grant_id,
                scope=list(grant.scope),
                requested_scope=new_scope,
                props=crypto.decrypt_props(subject.encrypted_props, props_key),
                subject_client_id=subject.client_id,
            ),
        )
        if result.has_access_token_props or result.has_new_props:
            props = result.access_token_props if result.has_access_token_props else result.new_props
            token_props_key, token_props = grants.encrypt_new_props(props)
        if result.access_token_ttl:
            ttl = min(ttl, result.access_token_ttl)
        if result.access_token_scope is not None:
            new_scope = narrow(result.access_token_scope, new_scope)
        allow_cross_client = result.allow_cross_client_exchange
    if subject.client_id != client_id and not allow_cross_client:
        raise InvalidRequestError("the subject token was issued to another client")
    minted = grants.mint_access_token(
        grant,
        client_id=client_id,
        props_key=token_props_key,
        encrypted_props=token_props,
        scope=new_scope,
        audience=audience,
        now=now,
        ttl=ttl,
    )
    # The grant must still exist when the new token is written: revocation wins over exchange.
    key = records.grant_key(user_id, grant_id)
    for _ in range(4):
        current = await core.storage.get(key)
        if current is None:
            raise InvalidRequestError("the subject token's grant was revoked")
        if await core.storage.commit([minted.write], expect={key: current.version}):
            break
    else:
        raise InvalidRequestError("the subject token's grant kept changing; try again")
    # RFC8693-2.2.1-RESPONSE; the issued scope always (RFC8693-2.2.1-SCOPE).
    return {
        "access_token": minted.token,
        "issued_token_type": ACCESS_TOKEN_TYPE,
        "token_type": "Bearer",
        "expires_in": ttl,
        "scope": " ".join(new_scope),
        **({"resource": as_claim(audience)} if audience else {}),
    }


def _target(core: Core, issuer: str, bound: list[str] | None, requested: list[str]) -> list[str] | None:
    """The new token's audience: the subject's, narrowed to what the request names."""
    if not requested:
        return bound
    if bound is None:
        urls = [v for v in requested if v.startswith(("http://", "https://"))]
        if len(urls) != len(requested):
            raise InvalidTargetError("the requested audience is not a resource this server serves")
        return select_resources(urls, core.served_resources(issuer))
    chosen: list[str] = []
    for value in requested:
        if value.startswith(("http://", "https://")):
            wanted = parse_resource(value)
            if not any(wanted == canonical(a) for a in bound):
                raise InvalidTargetError("the requested resource or audience differs from the subject token's")
            chosen.append(wanted)
        elif value in bound:  # a logical audience name, compared as it is
            chosen.append(value)
        else:
            raise InvalidTargetError("the requested resource or audience differs from the subject token's")
    return list(dict.fromkeys(chosen))
