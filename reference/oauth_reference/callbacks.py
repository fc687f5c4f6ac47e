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
from oauth_reference.machinery import grants

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
            await grants.revoke(core.storage, options.user_id, options.grant_id)
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
