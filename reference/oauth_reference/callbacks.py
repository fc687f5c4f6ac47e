"""The seed's token exchange callback: rewrite props (and lifetimes) when tokens are issued.

Called for the authorization code, refresh token and token exchange grants. The callback gets a
:class:`TokenExchangeCallbackOptions` and may return a :class:`TokenExchangeCallbackResult` (or a
mapping with the same keys, or ``None`` to keep everything). It may raise an ``OAuthError``
(``InvalidGrantError("...")`` or, the seed's shape, ``OAuthError("invalid_grant", description=...)``),
which becomes the token endpoint's answer; an ``invalid_grant`` also revokes the grant.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from oauth_reference.core import Core
from oauth_reference.errors import InvalidGrantError
from oauth_reference.errors import InvalidRequestError
from oauth_reference.errors import OAuthError
from oauth_reference.machinery import crypto
from oauth_reference.machinery import grants
from oauth_reference.machinery.records import Grant
from oauth_reference.specs.oauth21.scopes import narrow

_UNSET: Any = object()


class GrantType(StrEnum):
    """The grant types a token exchange callback is called for (the seed's ``GrantType``); each
    member equals its wire value, so ``options.grant_type == GrantType.REFRESH_TOKEN`` holds."""

    AUTHORIZATION_CODE = "authorization_code"
    REFRESH_TOKEN = "refresh_token"
    TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
    JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass(frozen=True, slots=True)
class TokenExchangeCallbackOptions:
    grant_type: str
    client_id: str
    user_id: str
    grant_id: str
    scope: list[str]
    requested_scope: list[str]
    props: Any
    subject_client_id: str | None = None


@dataclass(frozen=True, slots=True)
class TokenExchangeCallbackResult:
    access_token_props: Any = _UNSET
    new_props: Any = _UNSET
    access_token_ttl: int | None = None
    refresh_token_ttl: int | None = None
    access_token_scope: list[str] | None = None
    allow_cross_client_exchange: bool = False

    @property
    def has_new_props(self) -> bool:
        return self.new_props is not _UNSET

    @property
    def has_access_token_props(self) -> bool:
        return self.access_token_props is not _UNSET


_FIELDS = {
    "access_token_props",
    "new_props",
    "access_token_ttl",
    "refresh_token_ttl",
    "access_token_scope",
    "allow_cross_client_exchange",
}


async def run(core: Core, options: TokenExchangeCallbackOptions) -> TokenExchangeCallbackResult:
    callback = core.options.token_exchange_callback
    if callback is None:
        return TokenExchangeCallbackResult()
    try:
        result = callback(options)
        if inspect.isawaitable(result):
            result = await result
    except OAuthError as exc:
        if exc.error == InvalidGrantError.error:
            # As the module docstring promises: the application says the grant is no good; end it.
            # The seed's shape, OAuthError("invalid_grant", ...), says so as clearly as the class.
            await grants.revoke(core.storage, options.user_id, options.grant_id, cache=core.props_cache)
        raise
    if result is None:
        return TokenExchangeCallbackResult()
    if isinstance(result, Mapping):
        unknown = set(result) - _FIELDS
        if unknown:
            raise TypeError(f"token_exchange_callback returned unknown fields: {sorted(unknown)}")
        result = TokenExchangeCallbackResult(**result)
    if not isinstance(result, TokenExchangeCallbackResult):
        raise TypeError("token_exchange_callback must return None, a mapping or a TokenExchangeCallbackResult")
    for name in ("access_token_ttl", "refresh_token_ttl"):
        value = getattr(result, name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise InvalidRequestError(f"the token exchange callback returned an invalid {name}")
    if result.access_token_ttl == 0:
        raise InvalidRequestError("the token exchange callback returned an invalid access_token_ttl")
    return result


@dataclass(slots=True)
class Issuance:
    """What the tokens of one code exchange or refresh are made of, after the callback had its say."""

    props_key: bytes  # the key of the grant's props (a new one when the callback replaced them)
    token_props_key: bytes  # the key of this access token's props
    token_props: str  # this access token's encrypted props
    access_ttl: int
    refresh_ttl: int | None
    scope: list[str]


async def issuance(
    core: Core,
    grant: Grant,
    *,
    grant_type: str,
    client_id: str,
    props_key: bytes,
    scope: list[str],
    refresh_ttl: int | None,
) -> Issuance:
    """Run the callback (if any) for a code exchange or a refresh and apply what it returned.

    New props replace the grant's (``grant.encrypted_props`` is updated, under a new key);
    access token props, lifetimes and a narrower scope apply to the tokens issued now.
    """
    issued = Issuance(props_key, props_key, grant.encrypted_props, core.options.access_token_ttl, refresh_ttl, scope)
    if core.options.token_exchange_callback is None:
        return issued
    result = await run(
        core,
        TokenExchangeCallbackOptions(
            grant_type=grant_type,
            client_id=client_id,
            user_id=grant.user_id,
            grant_id=grant.id,
            scope=list(grant.scope),
            requested_scope=scope,
            props=crypto.decrypt_props(grant.encrypted_props, props_key),
            subject_client_id=client_id,
        ),
    )
    if result.has_new_props:
        issued.props_key, grant.encrypted_props = grants.encrypt_new_props(result.new_props)
        issued.token_props_key, issued.token_props = issued.props_key, grant.encrypted_props
    if result.has_access_token_props:
        issued.token_props_key, issued.token_props = grants.encrypt_new_props(result.access_token_props)
    issued.access_ttl = result.access_token_ttl or issued.access_ttl
    if result.refresh_token_ttl is not None:
        issued.refresh_ttl = result.refresh_token_ttl
    if result.access_token_scope is not None:
        issued.scope = narrow(result.access_token_scope, scope)
    return issued
