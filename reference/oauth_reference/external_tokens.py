"""``resolve_external_token``: accept at the API routes bearer tokens another server issued.

The seed's hook. The provider calls it for a bearer token that is not in its own shape
(``user:grant:secret``), so a token it issued and revoked is never handed to an outside resolver.
The resolver receives a :class:`ResolveExternalTokenInput` and returns a
:class:`ResolveExternalTokenResult` (or a mapping of its fields) to accept the token, or ``None``
to refuse it with ``invalid_token``; it may be ``async``. It may raise an ``OAuthError``
(``InvalidTokenError``, ``InsufficientScopeError``, ...), which is answered with the Bearer
challenge; any other exception is a 500, logged.

When the result names an ``audience``, the request URL must lie under one of its resources, as for
the provider's own tokens (RFC 8707 section 2, RFC 6750 section 5.3).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import fields
from typing import TYPE_CHECKING
from typing import Any

from oauth_reference.core import Core
from oauth_reference.errors import InvalidTokenError
from oauth_reference.machinery.asgi import Scope
from oauth_reference.specs.rfc6750 import ApiContext
from oauth_reference.specs.rfc6750 import audience_covers

if TYPE_CHECKING:
    from starlette.requests import Request as StarletteRequest


@dataclass(frozen=True, slots=True)
class ResolveExternalTokenInput:
    """The token from the ``Authorization`` header, and the request (a Starlette ``Request``;
    its body belongs to the API handler and must not be read here)."""

    token: str
    request: StarletteRequest


@dataclass(frozen=True, slots=True)
class ResolveExternalTokenResult:
    """An accepted external token: ``props`` for the API handler, and what else is known of it.

    ``audience`` (one resource or several) binds the token to those resources; the other fields
    are handed to the API handler in its :class:`~oauth_reference.ApiContext`.
    """

    props: Any
    audience: str | Sequence[str] | None = None
    scope: Sequence[str] = ()
    client_id: str | None = None
    user_id: str | None = None
    expires_at: float | None = None


_FIELDS = frozenset(f.name for f in fields(ResolveExternalTokenResult))


async def resolve(core: Core, token: str, scope: Scope, url: str) -> ApiContext:
    """The API context for an external token; ``InvalidTokenError`` when it is refused."""
    from starlette.requests import Request as StarletteRequest

    resolver = core.options.resolve_external_token
    assert resolver is not None
    found = resolver(ResolveExternalTokenInput(token, StarletteRequest(scope)))
    if inspect.isawaitable(found):
        found = await found
    if found is None:
        raise InvalidTokenError("invalid access token")
    if isinstance(found, Mapping):
        unknown = set(found) - _FIELDS
        if unknown:
            raise TypeError(f"resolve_external_token returned unknown fields: {sorted(unknown)}")
        found = ResolveExternalTokenResult(**found)
    if not isinstance(found, ResolveExternalTokenResult):
        raise TypeError("resolve_external_token must return None, a mapping or a ResolveExternalTokenResult")
    if found.expires_at is not None and found.expires_at <= core.now():  # RFC6750-5.2-LIFETIME
        raise InvalidTokenError("the access token has expired")
    audience = [found.audience] if isinstance(found.audience, str) else list(found.audience or []) or None
    if not audience_covers(audience, url):  # RFC8707-2-AUDIENCE, RFC6750-5.3-AUDIENCE
        raise InvalidTokenError("the access token is not for this resource")
    return ApiContext(
        props=found.props,
        scope=list(found.scope),
        client_id=found.client_id,
        user_id=found.user_id,
        grant_id=None,
        expires_at=found.expires_at,
        audience=audience,
        external=True,
    )
