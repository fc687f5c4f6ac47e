"""``client_registration_callback``: the application's say on each dynamic registration.

The seed's hook. Called at the registration endpoint (RFC 7591) after the metadata passed the
provider's own checks and before the client is stored, with a
:class:`ClientRegistrationCallbackOptions`. It returns ``None`` to let the registration through,
or a :class:`ClientRegistrationCallbackResult` (or a mapping of its fields) to refuse it: by
default ``invalid_client_metadata``, "Client registration denied", 400 (RFC 7591 section 3.2.2).
It may be ``async`` and may raise an ``OAuthError`` to answer with that error; any other
exception is answered 500 ``server_error`` "Client registration callback failed" and logged,
without its message, which may hold what the request sent. Clients made with ``create_client``
do not pass through it.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

from oauth_reference.errors import OAuthError
from oauth_reference.errors import ServerError
from oauth_reference.machinery.asgi import Scope

if TYPE_CHECKING:
    from starlette.requests import Request as StarletteRequest

    from oauth_reference.options import RegistrationCallback

log = logging.getLogger("oauth_reference")


@dataclass(frozen=True, slots=True)
class ClientRegistrationCallbackOptions:
    """The registration request: its JSON object as sent, and the request itself (a Starlette
    ``Request`` whose body can be read again, for a signature over the raw bytes, say)."""

    client_metadata: Mapping[str, Any]
    request: StarletteRequest


@dataclass(frozen=True, slots=True)
class ClientRegistrationCallbackResult:
    """A refusal: the error code, its description and the HTTP status."""

    code: str = "invalid_client_metadata"
    description: str = "Client registration denied"
    status: int = 400


async def run(callback: RegistrationCallback, metadata: Mapping[str, Any], scope: Scope, body: bytes) -> None:
    """Ask the callback; raise the ``OAuthError`` that refuses the registration, if it does."""
    from starlette.requests import Request as StarletteRequest

    async def replay() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    options = ClientRegistrationCallbackOptions(metadata, StarletteRequest(scope, replay))
    try:
        result = callback(options)
        if inspect.isawaitable(result):
            result = await result
    except OAuthError:
        raise
    except Exception as exc:
        log.error("the client_registration_callback raised %s; answering server_error", type(exc).__name__)
        raise ServerError("Client registration callback failed") from None
    if result is None:
        return
    try:
        if isinstance(result, Mapping):
            result = ClientRegistrationCallbackResult(**dict(result))
        if not isinstance(result, ClientRegistrationCallbackResult):
            raise TypeError(type(result).__name__)
        refusal = OAuthError(result.code, result.description, status_code=result.status)
    except (TypeError, ValueError) as exc:
        log.error("the client_registration_callback returned an unusable refusal (%s); answering server_error", exc)
        raise ServerError("Client registration callback failed") from None
    raise refusal
